//! The hand consumer: one more Java `KafkaConsumer` (the engine's [`KafkaConsumer`], the same the
//! document's consumers and the program line format use) that a learner drives call by call between two
//! steps of a run — `subscribe` / `assign`, `poll`, `commitSync`, `seek`, `seekToBeginning`,
//! `seekToEnd`, `close` — as the Kafka page's Operate panel does.
//!
//! It is a member of its group like any other: it joins at its first `poll` (the group rebalances), its
//! heartbeat thread runs with the run's clock (ticked at its deadlines and when mail waits for it), it
//! leaves the group when `poll` is not called within `max.poll.interval.ms`, and its commits are the
//! group's committed offsets. Its callbacks and reads are the run's events under [`HAND_CONSUMER`].
//!
//! Invariants: every call runs at the run's current instant and ends with the instant's mail delivered
//! (the coordinator's answers to every member) and the events collected, as a step of the run does; a
//! misuse is the consumer's own [`ConsumerError`] (the Java client's exception and message); nothing
//! here words a client rule.

use super::{consumed, positions, ActorEvent, KafkaRun};
use crate::kafka::{
    ConsumerConfig, ConsumerEnv, ConsumerError, ConsumerRecord, KafkaConsumer, Offset, TopicPartition,
};
use sim_kernel::clock::VirtualTime;
use sim_kernel::runtime::Run;

/// The hand consumer's `client.id`, as the events and the groups' members name it.
pub const HAND_CONSUMER: &str = "hand-consumer";

/// Its connection to the coordinator: apart from the document's consumers' (1, 2, …) and the
/// `kafka-consumer-groups` tool's (`u64::MAX`).
const HAND_CONN: u64 = u64::MAX - 1;

/// The hand consumer and what its last `poll` returned.
pub(super) struct Hand {
    pub(super) consumer: KafkaConsumer,
    last_poll: Option<(VirtualTime, Vec<ConsumerRecord>)>,
}

/// What the page shows of the hand consumer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandState {
    /// `group.id` (none: `assign` only).
    pub group: Option<String>,
    /// `assignment()`, each with its position when it is known (none: decided at the next `poll`, by
    /// the committed offset, `auto.offset.reset` or a pending `seekToBeginning` / `seekToEnd`).
    pub assignment: Vec<(TopicPartition, Option<Offset>)>,
    pub closed: bool,
    /// The last `poll`: when, and its records.
    pub last_poll: Option<(VirtualTime, Vec<ConsumerRecord>)>,
}

/// Where a hand `seek` moves a partition's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandSeek {
    /// `seek(partition, offset)`.
    Offset(Offset),
    /// `seekToBeginning([partition])`.
    Beginning,
    /// `seekToEnd([partition])`.
    End,
}

impl KafkaRun {
    /// A new hand consumer with `config` (its `client.id` becomes [`HAND_CONSUMER`]); the previous one,
    /// if open, is closed first (it leaves its group). Returns whether one was closed.
    pub fn hand_new(&mut self, mut config: ConsumerConfig) -> bool {
        let closed = self.hand.as_ref().is_some_and(|h| !h.consumer.is_closed());
        if closed {
            self.hand_close();
        }
        config.client_id = HAND_CONSUMER.to_string();
        self.hand = Some(Hand { consumer: KafkaConsumer::new(config, HAND_CONN), last_poll: None });
        closed
    }

    /// The hand consumer's settings, when there is one.
    pub fn hand_config(&self) -> Option<&ConsumerConfig> {
        self.hand.as_ref().map(|h| h.consumer.config())
    }

    /// What the page shows of it.
    pub fn hand_state(&self) -> Option<HandState> {
        let h = self.hand.as_ref()?;
        Some(HandState {
            group: h.consumer.config().group_id.clone(),
            assignment: h.consumer.known_positions(),
            closed: h.consumer.is_closed(),
            last_poll: h.last_poll.clone(),
        })
    }

    /// Runs `f` on the hand consumer (a consumer without `group.id` and never subscribed, as `new
    /// KafkaConsumer` gives, when the learner made none), then delivers the instant's mail and collects the
    /// events, as a step of the run ends.
    fn with_hand<T>(
        &mut self,
        call: &str,
        f: impl FnOnce(&mut KafkaConsumer, VirtualTime, &mut ConsumerEnv<'_>) -> Result<T, ConsumerError>,
    ) -> Result<T, ConsumerError> {
        let now = self.clock.now;
        let hand = self.hand.get_or_insert_with(|| Hand {
            consumer: KafkaConsumer::new(ConsumerConfig::new(HAND_CONSUMER, None), HAND_CONN),
            last_poll: None,
        });
        let mut env = ConsumerEnv {
            coordinator: &mut self.coordinator,
            mailbox: &mut self.mailbox,
            reader: &mut self.cluster,
        };
        let result = f(&mut hand.consumer, now, &mut env);
        if let Err(e) = &result {
            let error = e.to_string();
            self.push(ActorEvent::ConsumerError { consumer: HAND_CONSUMER.into(), call: call.into(), error });
        }
        self.take_hand_events();
        self.drain();
        result
    }

    /// The hand consumer's callbacks and commit results, as the run's events.
    pub(super) fn take_hand_events(&mut self) {
        let Some(h) = self.hand.as_mut() else { return };
        let events = h.consumer.take_events();
        for e in super::actor_events(HAND_CONSUMER, events) {
            self.push(e);
        }
    }

    /// `subscribe(topics)`.
    pub fn hand_subscribe(&mut self, topics: &[String]) -> Result<(), ConsumerError> {
        let list: Vec<&str> = topics.iter().map(String::as_str).collect();
        self.with_hand("subscribe", |c, _, _| c.subscribe(&list))?;
        self.push(ActorEvent::Subscribed { consumer: HAND_CONSUMER.into(), topics: topics.to_vec() });
        Ok(())
    }

    /// `assign(partitions)`.
    pub fn hand_assign(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        self.with_hand("assign", |c, _, _| c.assign(partitions))
    }

    /// `poll(Duration.ZERO)`: what the consumer has now (a member that has not joined sends its JoinGroup
    /// and returns nothing; the group's answer comes as the run goes on).
    pub fn hand_poll(&mut self) -> Result<Vec<ConsumerRecord>, ConsumerError> {
        let records = self.with_hand("poll", |c, at, env| c.poll(at, 0, env))?.records;
        let now = self.clock.now;
        // The rebalance listener ran inside poll, before its records (as in the Java client).
        self.take_hand_events();
        for r in &records {
            self.push(consumed(HAND_CONSUMER, r));
        }
        if let Some(h) = self.hand.as_mut() {
            h.last_poll = Some((now, records.clone()));
        }
        Ok(records)
    }

    /// `commitSync()`: the positions of every assigned partition; returns them.
    pub fn hand_commit_sync(&mut self) -> Result<Vec<(String, Offset)>, ConsumerError> {
        self.with_hand("commitSync", |c, at, env| {
            let offsets = positions(c, env);
            c.commit_sync(at, None, env).map(|()| offsets)
        })
        .inspect(|offsets| {
            let event = ActorEvent::Committed {
                consumer: HAND_CONSUMER.into(),
                offsets: offsets.clone(),
                error: None,
            };
            self.push(event);
        })
    }

    /// `seek(partition, offset)`, `seekToBeginning` or `seekToEnd` of one partition.
    pub fn hand_seek(&mut self, tp: &TopicPartition, to: HandSeek) -> Result<(), ConsumerError> {
        let parts = [tp.clone()];
        match to {
            HandSeek::Offset(o) => self.with_hand("seek", |c, _, _| c.seek(tp, o)),
            HandSeek::Beginning => self.with_hand("seekToBeginning", |c, _, _| c.seek_to_beginning(&parts)),
            HandSeek::End => self.with_hand("seekToEnd", |c, _, _| c.seek_to_end(&parts)),
        }
    }

    /// `close()`: a member leaves its group.
    pub fn hand_close(&mut self) {
        let _ = self.with_hand("close", |c, at, env| {
            c.close(at, env);
            Ok(())
        });
        self.take_hand_events();
        self.push(ActorEvent::Closed { consumer: HAND_CONSUMER.into() });
    }
}
