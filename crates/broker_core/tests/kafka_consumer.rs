//! `KafkaConsumer` against a small honest data plane (partition logs as `Vec`s with a log start offset)
//! and the real group coordinator: positions, resets, seeks, pause, commits and their Java-client errors,
//! group consumption that reads each record once, lag rows, and the poll-timeout leave.

use broker_core::kafka::consumer::describe_group_offsets;
use broker_core::kafka::group::CoordinatorConfig;
use broker_core::kafka::{
    AutoOffsetReset, ClientAssignor, ConsumerConfig, ConsumerEnv, ConsumerEvent, ConsumerRecord, ErrorCode,
    GroupCoordinator, IsolationLevel, KafkaConsumer, KafkaError, Mailbox, Offset, OffsetAndMetadata,
    OffsetSpec, PartitionReader, TimestampType, TopicPartition,
};
use broker_core::VirtualTime;
use std::collections::{BTreeMap, BTreeSet};

/// One partition: records from `start` on, each with its timestamp.
struct Log {
    start: Offset,
    records: Vec<(i64, String)>,
}

#[derive(Default)]
struct Logs {
    topics: BTreeMap<String, Vec<Log>>,
}

impl Logs {
    fn with_topic(mut self, topic: &str, partitions: usize, per_partition: usize) -> Self {
        let logs = (0..partitions)
            .map(|p| Log {
                start: 0,
                records: (0..per_partition)
                    .map(|i| (1000 + i as i64 * 10, format!("{topic}-{p}-{i}")))
                    .collect(),
            })
            .collect();
        self.topics.insert(topic.to_string(), logs);
        self
    }

    fn log(&self, tp: &TopicPartition) -> Result<&Log, KafkaError> {
        self.topics
            .get(tp.topic.as_str())
            .and_then(|l| l.get(tp.partition as usize))
            .ok_or_else(|| KafkaError::new(ErrorCode::UnknownTopicOrPartition))
    }

    /// `deleteRecords` up to `offset`: the log start moves.
    fn delete_before(&mut self, tp: &TopicPartition, offset: Offset) {
        let log = &mut self.topics.get_mut(tp.topic.as_str()).unwrap()[tp.partition as usize];
        let drop = (offset - log.start) as usize;
        log.records.drain(..drop);
        log.start = offset;
    }
}

impl PartitionReader for Logs {
    fn partition_count(&self, topic: &str) -> Option<i32> {
        self.topics.get(topic).map(|l| l.len() as i32)
    }

    /// One broker, node 1 (no rack), leading every partition at epoch 0.
    fn leader_and_epoch(
        &self,
        tp: &TopicPartition,
    ) -> Option<(broker_core::kafka::NodeId, Option<String>, i32)> {
        self.log(tp).ok().map(|_| (broker_core::kafka::NodeId(1), None, 0))
    }

    fn fetch(
        &mut self,
        _at: VirtualTime,
        tp: &TopicPartition,
        offset: Offset,
        max_records: usize,
        _isolation: IsolationLevel,
    ) -> Result<Vec<ConsumerRecord>, KafkaError> {
        let log = self.log(tp)?;
        let end = log.start + log.records.len() as i64;
        if offset < log.start || offset > end {
            return Err(KafkaError::new(ErrorCode::OffsetOutOfRange));
        }
        let from = (offset - log.start) as usize;
        Ok(log.records[from..]
            .iter()
            .take(max_records)
            .enumerate()
            .map(|(i, (ts, value))| ConsumerRecord {
                partition: tp.clone(),
                offset: offset + i as i64,
                timestamp: *ts,
                timestamp_type: TimestampType::CreateTime,
                key: None,
                value: Some(value.clone().into_bytes()),
                headers: Vec::new(),
            })
            .collect())
    }

    fn list_offset(
        &self,
        tp: &TopicPartition,
        spec: OffsetSpec,
        _isolation: IsolationLevel,
    ) -> Result<Option<Offset>, KafkaError> {
        let log = self.log(tp)?;
        Ok(match spec {
            OffsetSpec::Earliest => Some(log.start),
            OffsetSpec::Latest => Some(log.start + log.records.len() as i64),
            OffsetSpec::ForTimestamp(t) => {
                log.records.iter().position(|(ts, _)| *ts >= t).map(|i| log.start + i as i64)
            }
        })
    }
}

fn tp(topic: &str, p: i32) -> TopicPartition {
    TopicPartition::new(topic, p)
}

struct World {
    coordinator: GroupCoordinator,
    mailbox: Mailbox,
    logs: Logs,
    now: VirtualTime,
}

impl World {
    fn new(logs: Logs) -> Self {
        let config = CoordinatorConfig { initial_rebalance_delay_ms: 0, ..CoordinatorConfig::default() };
        World {
            coordinator: GroupCoordinator::new(config, 42),
            mailbox: Mailbox::new(),
            logs,
            now: VirtualTime::ZERO,
        }
    }

    fn env(&mut self) -> ConsumerEnv<'_> {
        ConsumerEnv { coordinator: &mut self.coordinator, mailbox: &mut self.mailbox, reader: &mut self.logs }
    }

    /// Polls every consumer, ticking the ones with mail or due timers, advancing time to the earliest
    /// wake-up, until `done` or the step budget runs out. Returns every record each consumer got.
    fn run(
        &mut self,
        consumers: &mut [KafkaConsumer],
        steps: usize,
        done: impl Fn(&[KafkaConsumer], &[Vec<ConsumerRecord>]) -> bool,
    ) -> Vec<Vec<ConsumerRecord>> {
        let mut got = vec![Vec::new(); consumers.len()];
        for _ in 0..steps {
            let mut wake = self.now.plus_millis(1000);
            for (i, c) in consumers.iter_mut().enumerate() {
                let now = self.now;
                let result = c.poll(now, 1000, &mut self.env()).expect("poll");
                if let Some(t) = result.wait_until {
                    wake = wake.min(t);
                }
                got[i].extend(result.records);
            }
            // Deliver mail at once (the heartbeat thread reads responses as they arrive).
            for c in consumers.iter_mut() {
                if self.mailbox.has_mail(c.conn()) {
                    let now = self.now;
                    c.tick(now, &mut self.env());
                }
            }
            if done(consumers, &got) {
                return got;
            }
            if let Some(t) = self.coordinator.next_deadline() {
                wake = wake.min(t.max(self.now));
            }
            self.now = wake.max(self.now.plus_millis(1));
            let out = self.coordinator.advance_to(self.now);
            self.mailbox.post(out);
            for c in consumers.iter_mut() {
                let now = self.now;
                c.tick(now, &mut self.env());
            }
        }
        let state: Vec<String> = consumers
            .iter()
            .map(|c| {
                format!(
                    "{} epoch {} gen {} {:?}",
                    c.member_id(),
                    c.member_epoch(),
                    c.generation(),
                    c.assignment()
                )
            })
            .collect();
        panic!(
            "did not finish within {steps} steps: {state:?} {:?}",
            self.coordinator.consumer_groups().group("g2")
        );
    }
}

#[test]
fn an_assigned_consumer_reads_from_its_positions_with_max_poll_records() {
    let mut w = World::new(Logs::default().with_topic("orders", 2, 7));
    let mut config = ConsumerConfig::new("c1", None);
    config.auto_offset_reset = AutoOffsetReset::Earliest;
    config.max_poll_records = 5;
    let mut c = KafkaConsumer::new(config, 1);
    c.assign(&[tp("orders", 0), tp("orders", 1)]).unwrap();
    let now = w.now;
    let first = c.poll(now, 100, &mut w.env()).unwrap();
    assert_eq!(first.records.len(), 5, "max.poll.records");
    assert_eq!(
        first.records.iter().map(|r| (r.partition.partition, r.offset)).collect::<Vec<_>>(),
        [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4)]
    );
    assert_eq!(c.position(&tp("orders", 0), &mut w.env()).unwrap(), 5);
    assert_eq!(c.position(&tp("orders", 1), &mut w.env()).unwrap(), 0);
    let second = c.poll(now, 100, &mut w.env()).unwrap();
    assert_eq!(
        second.records.iter().map(|r| (r.partition.partition, r.offset)).collect::<Vec<_>>(),
        [(1, 0), (1, 1), (1, 2), (1, 3), (1, 4)]
    );
    // pause, seek, seekToEnd, seekToBeginning.
    c.pause(&[tp("orders", 1)]).unwrap();
    assert_eq!(c.paused(), [tp("orders", 1)]);
    let third = c.poll(now, 100, &mut w.env()).unwrap();
    assert!(third.records.iter().all(|r| r.partition.partition == 0));
    assert_eq!(third.records.len(), 2);
    let empty = c.poll(now, 100, &mut w.env()).unwrap();
    assert!(empty.records.is_empty());
    assert_eq!(
        empty.wait_until,
        Some(now.plus_millis(100)),
        "nothing new: the poll would block for its timeout"
    );
    c.resume(&[tp("orders", 1)]).unwrap();
    c.seek(&tp("orders", 0), 3).unwrap();
    c.seek_to_end(&[tp("orders", 1)]).unwrap();
    assert_eq!(c.position(&tp("orders", 1), &mut w.env()).unwrap(), 7);
    let fourth = c.poll(now, 100, &mut w.env()).unwrap();
    assert_eq!(fourth.records.iter().map(|r| r.offset).collect::<Vec<_>>(), [3, 4, 5, 6]);
    c.seek_to_beginning(&[tp("orders", 1)]).unwrap();
    assert_eq!(c.position(&tp("orders", 1), &mut w.env()).unwrap(), 0);
    // offsetsForTimes: record i has timestamp 1000 + 10 i.
    let env = w.env();
    let times = c.offsets_for_times(&[(tp("orders", 0), 1025), (tp("orders", 1), 9999)], &env).unwrap();
    assert_eq!(times, [(tp("orders", 0), Some(3)), (tp("orders", 1), None)]);
    // Errors as the Java client words them.
    assert_eq!(
        c.seek(&tp("orders", 0), -1).unwrap_err().to_string(),
        "IllegalArgumentException: seek offset must not be a negative number"
    );
    assert_eq!(
        c.pause(&[tp("orders", 9)]).unwrap_err().to_string(),
        "IllegalStateException: No current assignment for partition orders-9"
    );
    assert_eq!(
        c.subscribe(&["orders"]).unwrap_err().to_string(),
        "InvalidGroupIdException: To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration."
    );
}

#[test]
fn auto_offset_reset_latest_none_and_out_of_range() {
    let mut w = World::new(Logs::default().with_topic("orders", 1, 10));
    let mut latest = KafkaConsumer::new(ConsumerConfig::new("c1", Some("g")), 1);
    latest.assign(&[tp("orders", 0)]).unwrap();
    assert_eq!(latest.position(&tp("orders", 0), &mut w.env()).unwrap(), 10, "latest: the log end");

    let mut config = ConsumerConfig::new("c2", Some("g"));
    config.auto_offset_reset = AutoOffsetReset::None;
    let mut none = KafkaConsumer::new(config.clone(), 2);
    none.assign(&[tp("orders", 0)]).unwrap();
    let now = w.now;
    assert_eq!(
        none.poll(now, 100, &mut w.env()).unwrap_err().to_string(),
        "NoOffsetForPartitionException: Undefined offset with no reset policy for partitions: [orders-0]"
    );
    // A committed offset is used; when the log start passes it, none raises, earliest resets.
    latest
        .commit_sync(
            now,
            Some(vec![(tp("orders", 0), OffsetAndMetadata { offset: 2, metadata: String::new() })]),
            &mut w.env(),
        )
        .unwrap();
    let got = none.poll(now, 100, &mut w.env()).unwrap();
    assert_eq!(got.records.first().map(|r| r.offset), Some(2));
    none.seek(&tp("orders", 0), 3).unwrap();
    w.logs.delete_before(&tp("orders", 0), 6);
    assert_eq!(
        none.poll(now, 100, &mut w.env()).unwrap_err().to_string(),
        // Kafka 4.1.1's text (tests/scenarios/kafka/committed-offset-out-of-range): a seek keeps no epoch;
        // the engine names the leader `localhost` and the test script's port for its id.
        "OffsetOutOfRangeException: Fetch position FetchPosition{offset=3, offsetEpoch=Optional.empty, currentLeader=LeaderAndEpoch{leader=Optional[localhost:9092 (id: 1 rack: null isFenced: false)], epoch=0}} is out of range for partition orders-0"
    );
    config.auto_offset_reset = AutoOffsetReset::Earliest;
    let mut earliest = KafkaConsumer::new(config, 3);
    earliest.assign(&[tp("orders", 0)]).unwrap();
    earliest.seek(&tp("orders", 0), 3).unwrap();
    let got = earliest.poll(now, 100, &mut w.env()).unwrap();
    assert_eq!(got.records.first().map(|r| r.offset), Some(6));
    assert!(earliest
        .take_events()
        .contains(&ConsumerEvent::PositionReset { partition: tp("orders", 0), offset: 6 }));
}

#[test]
fn a_group_reads_every_record_once_commits_and_hands_over_on_close() {
    for assignor in [ClientAssignor::Range, ClientAssignor::CooperativeSticky] {
        let mut w = World::new(Logs::default().with_topic("orders", 4, 6).with_topic("payments", 2, 3));
        let mut consumers: Vec<KafkaConsumer> = (0..2)
            .map(|i| {
                let mut config = ConsumerConfig::new(&format!("c{i}"), Some("g1"));
                config.auto_offset_reset = AutoOffsetReset::Earliest;
                config.assignors = vec![assignor];
                config.enable_auto_commit = false;
                let mut c = KafkaConsumer::new(config, i as u64 + 1);
                c.subscribe(&["orders", "payments"]).unwrap();
                c
            })
            .collect();
        let got = w.run(&mut consumers, 200, |cs, got| {
            cs.iter().all(|c| !c.assignment().is_empty()) && got.iter().map(Vec::len).sum::<usize>() == 30
        });
        // Each record once, by the member assigned its partition.
        let mut seen = BTreeSet::new();
        for (i, records) in got.iter().enumerate() {
            for r in records {
                assert!(seen.insert((r.partition.clone(), r.offset)), "{} read twice", r.partition);
                assert!(
                    consumers[i].assignment().contains(&r.partition),
                    "read {} without owning it",
                    r.partition
                );
            }
        }
        let a: BTreeSet<_> = consumers[0].assignment().into_iter().collect();
        let b: BTreeSet<_> = consumers[1].assignment().into_iter().collect();
        assert!(a.is_disjoint(&b), "{assignor:?}: disjoint assignments");
        assert_eq!(a.len() + b.len(), 6);
        // Commits and lag rows.
        let now = w.now;
        consumers[0].commit_sync(now, None, &mut w.env()).unwrap();
        let rows = describe_group_offsets("g1", &w.coordinator, &w.logs);
        assert_eq!(rows.len(), 6);
        for r in &rows {
            let owner = if a.contains(&tp(&r.topic, r.partition)) { &consumers[0] } else { &consumers[1] };
            assert_eq!(r.consumer_id.as_deref(), Some(owner.member_id()));
            assert_eq!(r.client_id.as_deref(), Some(owner.config().client_id.as_str()));
            if owner.conn() == 1 {
                assert_eq!((r.current_offset, r.lag), (r.log_end_offset, Some(0)));
            } else {
                assert_eq!((r.current_offset, r.lag), (None, None), "not committed yet");
            }
        }
        let env = w.env();
        let committed = consumers[0].committed(&consumers[0].assignment(), &env).unwrap();
        assert!(committed.iter().all(|(_, o)| o.is_some()));
        // Both commit; c0 closes: c1 takes over everything from the committed offsets, re-reading nothing.
        consumers[1].commit_sync(now, None, &mut w.env()).unwrap();
        let mut closing = consumers.remove(0);
        let now = w.now;
        closing.close(now, &mut w.env());
        let got = w.run(&mut consumers, 200, |cs, _| cs[0].assignment().len() == 6);
        assert!(got[0].is_empty(), "{assignor:?}: nothing re-read after c0's commit: {:?}", got[0].len());
    }
}

#[test]
fn a_consumer_that_stops_polling_leaves_and_its_commit_fails() {
    let mut w = World::new(Logs::default().with_topic("orders", 2, 2));
    let mut config = ConsumerConfig::new("c1", Some("g1"));
    config.max_poll_interval_ms = 10_000;
    config.enable_auto_commit = false;
    let mut consumers = vec![KafkaConsumer::new(config, 1)];
    consumers[0].subscribe(&["orders"]).unwrap();
    w.run(&mut consumers, 50, |cs, _| cs[0].assignment().len() == 2);
    // Only the heartbeat thread runs now.
    let deadline = w.now.plus_millis(10_000);
    while w.now < deadline {
        w.now = consumers[0].next_deadline().unwrap().min(deadline);
        let now = w.now;
        consumers[0].tick(now, &mut w.env());
    }
    assert!(consumers[0].take_events().contains(&ConsumerEvent::PollTimeoutExpired));
    let now = w.now;
    let err = consumers[0]
        .commit_sync(
            now,
            Some(vec![(tp("orders", 0), OffsetAndMetadata { offset: 1, metadata: String::new() })]),
            &mut w.env(),
        )
        .unwrap_err();
    // The client left (its generation reset), so it fails the commit without sending it, with
    // ConsumerCoordinator.sendOffsetCommitRequest's message for a consumer with no generation.
    assert_eq!(err.exception(), "CommitFailedException");
    assert!(err.to_string().starts_with(
        "CommitFailedException: Offset commit cannot be completed since the consumer is not part of an active group"
    ));
    assert_eq!(w.coordinator.describe_group("g1").members.len(), 0, "it left the group");
    // Mixing subscribe and assign is refused as the Java client refuses it.
    assert_eq!(
        consumers[0].assign(&[tp("orders", 0)]).unwrap_err().to_string(),
        "IllegalStateException: Subscription to topics, partitions and pattern are mutually exclusive"
    );
}

#[test]
fn consumer_protocol_members_share_the_partitions_and_hand_over_on_close() {
    use broker_core::kafka::GroupProtocol;
    let mut w = World::new(Logs::default().with_topic("orders", 4, 5));
    let mut consumers: Vec<KafkaConsumer> = (0..2)
        .map(|i| {
            let mut config = ConsumerConfig::new(&format!("c{i}"), Some("g2"));
            config.group_protocol = GroupProtocol::Consumer;
            config.auto_offset_reset = AutoOffsetReset::Earliest;
            let mut c = KafkaConsumer::new(config, i as u64 + 1);
            c.subscribe(&["orders"]).unwrap();
            c
        })
        .collect();
    // The first member takes all four partitions, then gives two up (committing their positions first,
    // auto-commit being on), so every record is read once.
    let got = w.run(&mut consumers, 400, |cs, got| {
        cs.iter().all(|c| c.assignment().len() == 2) && got.iter().map(Vec::len).sum::<usize>() >= 20
    });
    let mut seen = BTreeSet::new();
    for records in &got {
        for r in records {
            assert!(seen.insert((r.partition.clone(), r.offset)), "{}@{} read twice", r.partition, r.offset);
        }
    }
    let listed = w.coordinator.list_consumer_protocol_groups();
    assert_eq!(listed.iter().map(|(g, s)| format!("{g} {s}")).collect::<Vec<_>>(), ["g2 Stable"]);
    let group = w.coordinator.consumer_groups().group("g2").expect("a consumer-protocol group");
    assert_eq!(group.members.len(), 2);
    assert!(consumers.iter().all(|c| c.member_epoch() == group.assignment_epoch));
    // A commit with the member's epoch is accepted; the stale epoch of an earlier one is not.
    let now = w.now;
    consumers[0].commit_sync(now, None, &mut w.env()).unwrap();
    consumers[1].commit_sync(now, None, &mut w.env()).unwrap();
    let rows = describe_group_offsets("g2", &w.coordinator, &w.logs);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.lag == Some(0) && r.consumer_id.is_some() && r.log_end_offset == Some(5)));
    let mut closing = consumers.remove(0);
    closing.close(now, &mut w.env());
    let got = w.run(&mut consumers, 400, |cs, _| cs[0].assignment().len() == 4);
    assert!(got[0].is_empty(), "nothing re-read after the commits");
}

/// Seeded runs of three consumers in one group (classic eager, classic cooperative or the consumer
/// protocol) while records are appended and old ones deleted, consumers restart, commit and go quiet:
/// after every step no partition is assigned to two consumers at once and every committed offset is
/// within its log (log start ≤ … is not required: a commit may lag behind retention) and ≤ its log end.
#[test]
fn seeded_consumer_groups_keep_ownership_exclusive_and_commits_within_the_log() {
    use broker_core::kafka::GroupProtocol;
    use broker_core::Prng;
    for seed in 1..=12u64 {
        let mut rng = Prng::new(seed);
        let mut w = World::new(Logs::default().with_topic("orders", 3, 2));
        let (protocol, assignor) = match seed % 3 {
            0 => (GroupProtocol::Classic, ClientAssignor::Range),
            1 => (GroupProtocol::Classic, ClientAssignor::CooperativeSticky),
            _ => (GroupProtocol::Consumer, ClientAssignor::Range),
        };
        let mut next_conn = 1u64;
        let make = |rng: &mut Prng, next_conn: &mut u64| {
            let mut config = ConsumerConfig::new(&format!("c{next_conn}"), Some("g"));
            config.group_protocol = protocol;
            config.assignors = vec![assignor];
            config.auto_offset_reset = AutoOffsetReset::Earliest;
            config.enable_auto_commit = rng.chance(1, 2);
            config.max_poll_records = 1 + rng.below(5) as usize;
            let mut c = KafkaConsumer::new(config, *next_conn);
            *next_conn += 1;
            c.subscribe(&["orders"]).unwrap();
            c
        };
        let mut consumers: Vec<KafkaConsumer> = (0..3).map(|_| make(&mut rng, &mut next_conn)).collect();
        let (mut polled, mut revocations) = (0usize, 0usize);
        for _ in 0..1500 {
            let i = rng.below(consumers.len() as u64) as usize;
            let now = w.now;
            match rng.below(12) {
                0..=4 => {
                    polled += consumers[i].poll(now, 100, &mut w.env()).expect("poll").records.len();
                }
                5 => {
                    let p = rng.below(3) as usize;
                    let log = &mut w.logs.topics.get_mut("orders").unwrap()[p];
                    log.records.push((now.as_millis() as i64, format!("r{now}")));
                }
                6 if rng.chance(1, 3) => {
                    let p = rng.below(3) as i32;
                    let log = &w.logs.topics["orders"][p as usize];
                    let end = log.start + log.records.len() as i64;
                    if end > log.start {
                        w.logs.delete_before(&tp("orders", p), log.start + 1);
                    }
                }
                7 if rng.chance(1, 4) => {
                    consumers[i].close(now, &mut w.env());
                    consumers[i] = make(&mut rng, &mut next_conn);
                }
                8 => {
                    // A commit may fail during a rebalance, as in Kafka; the error is the caller's.
                    let _ = consumers[i].commit_sync(now, None, &mut w.env());
                }
                _ => {
                    w.now = w.now.plus_millis(rng.below(3000));
                    let out = w.coordinator.advance_to(w.now);
                    w.mailbox.post(out);
                    for c in consumers.iter_mut() {
                        let now = w.now;
                        c.tick(now, &mut w.env());
                    }
                }
            }
            // Mail is read as it arrives.
            for c in consumers.iter_mut() {
                if w.mailbox.has_mail(c.conn()) {
                    let now = w.now;
                    c.tick(now, &mut w.env());
                }
            }
            for c in consumers.iter_mut() {
                revocations += c
                    .take_events()
                    .iter()
                    .filter(|e| matches!(e, ConsumerEvent::PartitionsRevoked(l) if !l.is_empty()))
                    .count();
            }
            let mut owners = BTreeMap::new();
            for c in &consumers {
                for p in c.assignment() {
                    if let Some(other) = owners.insert(p.clone(), c.conn()) {
                        panic!("seed {seed}: {p} assigned to consumers {other} and {} at once", c.conn());
                    }
                }
            }
            for (p, committed) in w.coordinator.offsets().group_offsets("g") {
                let log = &w.logs.topics["orders"][p.partition as usize];
                let end = log.start + log.records.len() as i64;
                assert!(
                    committed.offset.offset <= end,
                    "seed {seed}: {p} committed {} past its log end {end}",
                    committed.offset.offset
                );
            }
        }
        // The run did something: records flowed and partitions moved between members.
        assert!(polled > 50 && revocations > 3, "seed {seed}: {polled} records, {revocations} revocations");
    }
}

/// The model replays `scripts/kafka-probes/GroupProbe.java`, which ran two real Java consumers against a
/// real Kafka 4.1.1 broker (its output is `tests/kafka/groups/real_kafka_probe.txt`), poll for poll on the
/// same timeline, and must print the same lines (member ids aside, which are random: only their shape is
/// compared).
#[test]
fn the_model_replays_the_real_kafka_group_probe() {
    use broker_core::kafka::GroupProtocol;
    let real = include_str!("kafka/groups/real_kafka_probe.txt");
    let mut lines = Vec::new();
    // A blocking `poll(timeout)`: the model says until when it would wait; time moves on to then.
    fn poll_blocking(w: &mut World, consumers: &mut [KafkaConsumer], i: usize, timeout: u64) {
        let end = w.now.plus_millis(timeout);
        loop {
            let now = w.now;
            let r = consumers[i].poll(now, end.as_millis() - now.as_millis(), &mut w.env()).expect("poll");
            assert!(r.records.is_empty(), "the probe's topics are empty");
            let wake = r.wait_until.unwrap_or(end).min(end);
            w.now = wake.max(w.now);
            let out = w.coordinator.advance_to(w.now);
            w.mailbox.post(out);
            for c in consumers.iter_mut() {
                let now = w.now;
                c.tick(now, &mut w.env());
            }
            if w.now >= end {
                return;
            }
        }
    }
    let show = |label: &str, c: &KafkaConsumer| {
        let epoch = if c.config().group_protocol == GroupProtocol::Consumer {
            c.member_epoch()
        } else {
            c.generation()
        };
        let list: Vec<String> = c.assignment().iter().map(ToString::to_string).collect();
        format!("{label} generation={epoch} member={} assignment=[{}]", c.member_id(), list.join(", "))
    };
    let mut client = 0;
    for protocol in [GroupProtocol::Classic, GroupProtocol::Consumer] {
        let name = if protocol == GroupProtocol::Classic { "classic" } else { "consumer" };
        let group = format!("probe-{name}");
        let mut w = World::new(Logs::default().with_topic("orders", 4, 0).with_topic("payments", 2, 0));
        let mut consumers: Vec<KafkaConsumer> = (0..2)
            .map(|i| {
                client += 1;
                let mut config = ConsumerConfig::new(&format!("consumer-{group}-{client}"), Some(&group));
                config.group_protocol = protocol;
                config.assignors = vec![ClientAssignor::Range];
                let mut c = KafkaConsumer::new(config, i + 1);
                c.subscribe(&["orders", "payments"]).unwrap();
                c
            })
            .collect();
        for _ in 0..8 {
            poll_blocking(&mut w, &mut consumers, 0, 500);
        }
        lines.push(show(&format!("{name} a alone"), &consumers[0]));
        for _ in 0..12 {
            poll_blocking(&mut w, &mut consumers, 0, 300);
            poll_blocking(&mut w, &mut consumers, 1, 300);
        }
        lines.push(show(&format!("{name} a"), &consumers[0]));
        lines.push(show(&format!("{name} b"), &consumers[1]));
        let (state, kind, assignor, members) = match protocol {
            GroupProtocol::Classic => {
                let d = w.coordinator.describe_group(&group);
                (d.state.to_string(), "Classic", d.protocol, d.members.len())
            }
            GroupProtocol::Consumer => {
                let g = w.coordinator.consumer_groups().group(&group).expect("group");
                (g.state().to_string(), "Consumer", "uniform".to_string(), g.members.len())
            }
        };
        lines
            .push(format!("{name} describe state={state} type={kind} assignor={assignor} members={members}"));
        let now = w.now;
        let commit = consumers[0].commit_sync(
            now,
            Some(vec![(tp("orders", 0), OffsetAndMetadata { offset: 0, metadata: String::new() })]),
            &mut w.env(),
        );
        lines.push(format!("{name} commit {}", commit.map_or_else(|e| e.to_string(), |_| "ok".to_string())));
        let now = w.now;
        consumers[1].close(now, &mut w.env());
        for _ in 0..10 {
            poll_blocking(&mut w, &mut consumers, 0, 300);
        }
        lines.push(show(&format!("{name} a after b closed"), &consumers[0]));
    }
    // Member ids: `client.id-UUID` (classic) or 22 characters of URL-safe base64 (consumer protocol).
    let mask = |line: &str| -> String {
        let mut out = Vec::new();
        for word in line.split(' ') {
            match word.strip_prefix("member=") {
                Some(id) if id.starts_with("consumer-") => {
                    let (client, uuid) = id.split_at(id.len() - 36);
                    assert!(uuid.len() == 36 && uuid.as_bytes()[14] == b'4', "{id}: a version-4 UUID");
                    out.push(format!("member={client}<uuid>"));
                }
                Some(id) => {
                    assert!(
                        id.len() == 22
                            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                        "{id}"
                    );
                    out.push("member=<base64 uuid>".to_string());
                }
                None => out.push(word.to_string()),
            }
        }
        out.join(" ")
    };
    let expected: Vec<String> = real.lines().filter(|l| !l.starts_with('#')).map(mask).collect();
    let got: Vec<String> = lines.iter().map(|l| mask(l)).collect();
    assert_eq!(got, expected);
}
