//! Replication: followers copying their leader's log, the ISR, the high watermark and leader election.
//!
//! The model keeps one log per partition, the leader's; a follower is its log end offset into that log
//! (a follower's log is always a prefix of its leader's: when a leader with a shorter log is elected, the
//! log is truncated to it and every replica's end is clipped, as Kafka's followers truncate to the new
//! leader epoch's end offset).
//!
//! - A follower fetches `replica_fetch_latency_ms` (+ its broker's slow-follower delay) after an append
//!   and comes up to the leader's end; it counts as caught up at that time. A follower that was caught up
//!   before an append stays caught up as of the append.
//! - ISR shrink: a follower behind the leader's end and not caught up for more than
//!   `replica.lag.time.max.ms` leaves the ISR (Kafka checks every half of that; the model checks at the
//!   exact moment, so a shrink comes at most lag/2 earlier than on a real broker). A follower whose end
//!   reaches the high watermark rejoins; a restarted broker's followers fetch at once, so one that
//!   missed nothing rejoins too.
//! - High watermark: the smallest log end among the ISR (the leader's included); it never goes back
//!   except by an unclean truncation, and (KIP-966, Kafka 4.x) does not advance while the ISR is smaller
//!   than `min.insync.replicas` (capped at the replication factor). A waiting `acks=all` request is
//!   answered when the high watermark passes its batch (or times out); the
//!   `NOT_ENOUGH_REPLICAS_AFTER_APPEND` answer is kept for an ISR found too small at that moment.
//! - A broker going down ([`Cluster::broker_down`], a controlled shutdown) is fenced at once: it leaves
//!   every ISR it is in, and its leaderships move to the first live ISR member in replica order. The last
//!   ISR member leaves the ISR for the ELR (KIP-966's eligible leader replicas, on by default in Kafka
//!   4.1: a leaderless partition describes an empty ISR) and may lead again cleanly when it returns. With
//!   no live ISR or ELR member, `unclean.leader.election.enable` elects the first live replica (its log
//!   wins; the records beyond it are lost, and their offsets are given again) or the partition stays
//!   offline. A killed broker ([`Cluster::broker_crash`]) tells the controller nothing: it keeps its
//!   leaderships and ISR places until `broker.session.timeout.ms` has passed, then is fenced the same way;
//!   meanwhile its follower replicas fetch nothing, so an `acks=all` request waits for the fencing
//!   (`tests/scenarios/kafka/retry-duplicate-and-idempotence`).
//! - A paused broker ([`Cluster::broker_pause`], SIGSTOP) is killed as far as the controller knows, and
//!   reads nothing: a produce request to it as leader is neither appended nor answered (the client's
//!   `request.timeout.ms` ends it, and every other request held by that broker with it), its followers
//!   fetch nothing from it, and it shrinks no ISR. Resumed after its fencing it follows the new leader;
//!   resumed before, the requests it held that it had not appended fail with `NOT_LEADER_OR_FOLLOWER`
//!   (retriable; a real broker would write them then) and the others wait for the high watermark again
//!   (`tests/scenarios/kafka-documents/paused-leader`).
//! - `Admin.electLeaders` ([`Cluster::elect_leaders`]): `PREFERRED` moves leadership to the first replica
//!   when it is live and in the ISR; `UNCLEAN` elects a leader for a leaderless partition.
//! - Preferred leaders (`auto.leader.rebalance.enable`, as the KRaft controller does it): once a partition
//!   is led by another replica than its first, a check is scheduled `leader.imbalance.check.interval.seconds`
//!   later; it gives every such partition back to its first replica if that one is live and in the ISR,
//!   and is scheduled again while some partition stays imbalanced.

use crate::clock::VirtualTime;
use crate::kafka::cluster::{Cluster, ProduceResponse, Timer};
use crate::kafka::event::KafkaEvent;
use crate::kafka::{ErrorCode, KafkaError, NodeId, TopicPartition};

impl Cluster {
    /// After the leader's log grew: schedule follower fetches and ISR checks, move the high watermark.
    pub(crate) fn after_leader_append(&mut self, topic: &str, partition: usize) {
        let now = self.now;
        let lag = self.settings.replica_lag_time_max_ms;
        let latency = self.settings.replica_fetch_latency_ms;
        // A killed broker (crashed, not yet fenced) fetches nothing, though the controller still counts it.
        let delays: Vec<(NodeId, bool, u64)> =
            self.brokers.iter().map(|b| (b.id, b.up && !b.crashed, b.fetch_delay_ms)).collect();
        let Some(t) = self.topics.get_mut(topic) else { return };
        let topic_id = t.id;
        let Some(p) = t.partitions.get_mut(partition) else { return };
        let Some(leader) = p.leader else { return };
        let end = p.log.log_end_offset();
        for (j, r) in p.replicas.iter().enumerate() {
            if *r == leader {
                continue;
            }
            let Some(&(_, up, delay)) = delays.iter().find(|d| d.0 == *r) else { continue };
            let f = &mut p.followers[j];
            if up && !f.fetch_scheduled && f.log_end_offset < end {
                f.fetch_scheduled = true;
                self.timers.schedule(
                    now.plus_millis(latency + delay),
                    Timer::FollowerFetch {
                        topic_id,
                        partition: partition as i32,
                        replica: j,
                        leader_epoch: p.leader_epoch,
                    },
                );
            }
            if p.isr.contains(r) && !f.isr_check_scheduled && f.log_end_offset < end {
                f.isr_check_scheduled = true;
                let due = VirtualTime::from_millis((f.last_caught_up_ms.max(0) as u64) + lag + 1).max(now);
                self.timers.schedule(
                    due,
                    Timer::IsrCheck {
                        topic_id,
                        partition: partition as i32,
                        replica: j,
                        leader_epoch: p.leader_epoch,
                    },
                );
            }
        }
        self.update_high_watermark(topic, partition);
    }

    fn locate(&self, topic_id: u64) -> Option<String> {
        self.topics.iter().find(|(_, t)| t.id == topic_id).map(|(n, _)| n.clone())
    }

    pub(crate) fn follower_fetch(
        &mut self,
        topic_id: u64,
        partition: i32,
        replica: usize,
        leader_epoch: i32,
    ) {
        let Some(name) = self.locate(topic_id) else { return };
        let now = self.now_ms();
        let mut expanded = None;
        let tp = TopicPartition::new(name.clone(), partition);
        // A follower of a killed or frozen leader gets nothing; it fetches again once a leader is
        // elected or its leader resumes (both schedule fetches anew).
        if !self.broker_up_by_replica(&tp, replica) || !self.leader_running(&tp) {
            if let Some(p) = self.partition_mut(&tp) {
                if let Some(f) = p.followers.get_mut(replica) {
                    f.fetch_scheduled = false;
                }
            }
            return;
        }
        {
            let Some(p) = self.topics.get_mut(&name).and_then(|t| t.partitions.get_mut(partition as usize))
            else {
                return;
            };
            if p.leader_epoch != leader_epoch || replica >= p.replicas.len() {
                return;
            }
            let r = p.replicas[replica];
            let f = &mut p.followers[replica];
            f.fetch_scheduled = false;
            f.log_end_offset = p.log.log_end_offset();
            f.last_caught_up_ms = now;
            if !p.isr.contains(&r) && f.log_end_offset >= p.log.high_watermark() {
                // Appended, as the leader's AlterPartition does (Kafka 4.1 describes a rejoined
                // replica last: tests/scenarios/kafka/leader-failover-and-preferred-election).
                p.isr.push(r);
                p.elr.retain(|x| *x != r);
                expanded = Some(p.isr.clone());
            }
        }
        if let Some(isr) = expanded {
            self.emit(KafkaEvent::IsrExpanded { partition: tp, isr });
        }
        self.update_high_watermark(&name, partition as usize);
    }

    /// The partition's leader is running: not killed or frozen (crashed or paused, not yet fenced).
    fn leader_running(&self, tp: &TopicPartition) -> bool {
        self.partition(tp)
            .and_then(|p| p.leader)
            .is_some_and(|l| self.brokers.iter().any(|b| b.id == l && b.up && !b.crashed))
    }

    /// The replica's broker is running: up, and not killed (a crashed broker's replicas stop fetching at
    /// once, while its ISR places stay until it is fenced).
    fn broker_up_by_replica(&self, tp: &TopicPartition, replica: usize) -> bool {
        self.partition(tp)
            .and_then(|p| p.replicas.get(replica))
            .is_some_and(|r| self.brokers.iter().any(|b| b.id == *r && b.up && !b.crashed))
    }

    pub(crate) fn isr_check(&mut self, topic_id: u64, partition: i32, replica: usize, leader_epoch: i32) {
        let Some(name) = self.locate(topic_id) else { return };
        let leader_running = self.leader_running(&TopicPartition::new(name.clone(), partition));
        let now = self.now_ms();
        let lag = self.settings.replica_lag_time_max_ms as i64;
        let mut shrunk = None;
        let mut again = None;
        {
            let Some(p) = self.topics.get_mut(&name).and_then(|t| t.partitions.get_mut(partition as usize))
            else {
                return;
            };
            if p.leader_epoch != leader_epoch || replica >= p.replicas.len() {
                return;
            }
            let r = p.replicas[replica];
            let end = p.log.log_end_offset();
            let f = &mut p.followers[replica];
            f.isr_check_scheduled = false;
            // A killed or frozen leader checks nothing (its ISR changes when it is fenced, or are checked
            // again when it resumes and appends).
            if leader_running && p.isr.contains(&r) && Some(r) != p.leader && f.log_end_offset < end {
                if now - f.last_caught_up_ms > lag {
                    p.isr.retain(|x| *x != r);
                    shrunk = Some(p.isr.clone());
                } else {
                    f.isr_check_scheduled = true;
                    again = Some(f.last_caught_up_ms + lag + 1);
                }
            }
        }
        if let Some(due) = again {
            self.timers.schedule(
                VirtualTime::from_millis(due.max(0) as u64),
                Timer::IsrCheck { topic_id, partition, replica, leader_epoch },
            );
        }
        if let Some(isr) = shrunk {
            self.emit(KafkaEvent::IsrShrunk { partition: TopicPartition::new(name.clone(), partition), isr });
            self.update_high_watermark(&name, partition as usize);
        }
    }

    /// Recomputes the high watermark from the ISR and answers the waiting requests it satisfies.
    pub(crate) fn update_high_watermark(&mut self, topic: &str, partition: usize) {
        let Some(t) = self.topics.get_mut(topic) else { return };
        let topic_id = t.id;
        let min_isr = t.config.min_insync_replicas as usize;
        let Some(p) = t.partitions.get_mut(partition) else { return };
        let Some(leader) = p.leader else { return };
        let mut hw = p.log.log_end_offset();
        for (j, r) in p.replicas.iter().enumerate() {
            if *r != leader && p.isr.contains(r) {
                hw = hw.min(p.followers[j].log_end_offset);
            }
        }
        // KIP-966 (Kafka 4.x): the high watermark does not advance while the ISR is smaller than the
        // effective min.insync.replicas (capped at the replication factor), so an acks=0/1 record
        // written then stays unreadable until the ISR grows back.
        let enough = p.isr.len() >= min_isr.min(p.replicas.len());
        let advanced = enough && p.log.set_high_watermark(hw.max(p.log.high_watermark()));
        let hw = p.log.high_watermark();
        let log_start = p.log.log_start_offset();
        let epoch = p.leader_epoch;
        if advanced {
            self.emit(KafkaEvent::HighWatermarkAdvanced {
                partition: TopicPartition::new(topic, partition as i32),
                high_watermark: hw,
            });
        }
        let ready: Vec<(u64, i64, i64, i64)> = self
            .pending
            .iter()
            .filter(|(_, w)| {
                w.topic_id == topic_id
                    && w.partition == partition as i32
                    && w.leader_epoch == epoch
                    && w.required_offset <= hw
                    && w.silent_broker.is_none()
            })
            .map(|(&id, w)| (id, w.base_offset, w.log_append_time, w.required_offset))
            .collect();
        for (id, base, lat, required) in ready {
            if enough {
                if let Some(p) = self.topics.get_mut(topic).and_then(|t| t.partitions.get_mut(partition)) {
                    p.acked_all_end = p.acked_all_end.max(required);
                }
                self.complete(
                    id,
                    Ok(ProduceResponse {
                        base_offset: base,
                        log_append_time: lat,
                        log_start_offset: log_start,
                    }),
                );
            } else {
                self.complete(id, Err(KafkaError::new(ErrorCode::NotEnoughReplicasAfterAppend)));
            }
        }
    }

    /// `broker`'s state, or Kafka's `BROKER_ID_NOT_REGISTERED` for a node id the cluster does not have
    /// (the broker-down, crash and up faults all look their broker up this way).
    fn registered_broker_mut(
        &mut self,
        broker: NodeId,
    ) -> Result<&mut crate::kafka::cluster::BrokerState, KafkaError> {
        self.brokers.iter_mut().find(|b| b.id == broker).ok_or_else(|| {
            KafkaError::with_message(
                ErrorCode::BrokerIdNotRegistered,
                format!("Broker {} is not registered.", broker.0),
            )
        })
    }

    /// The slow-follower fault: every fetch of `broker`'s follower replicas takes `delay_ms` longer.
    pub fn set_follower_delay(&mut self, at: VirtualTime, broker: NodeId, delay_ms: u64) {
        self.advance_to(at);
        if let Some(b) = self.brokers.iter_mut().find(|b| b.id == broker) {
            b.fetch_delay_ms = delay_ms;
        }
    }

    /// Stops `broker`: it leaves the ISRs (unless last), its leaderships move (see the module doc).
    pub fn broker_down(&mut self, at: VirtualTime, broker: NodeId) -> Result<(), KafkaError> {
        self.advance_to(at);
        let b = self.registered_broker_mut(broker)?;
        if !b.up {
            return Ok(());
        }
        b.up = false;
        self.emit(KafkaEvent::BrokerDown { broker });
        for (name, index) in self.partitions_on(broker) {
            let tp = TopicPartition::new(name.clone(), index as i32);
            let mut shrunk = None;
            let was_leader;
            {
                let Some(p) = self.partition_mut(&tp) else { continue };
                was_leader = p.leader == Some(broker);
                if was_leader {
                    // The departing leader had the whole log.
                    let end = p.log.log_end_offset();
                    if let Some(j) = p.replicas.iter().position(|r| *r == broker) {
                        p.followers[j].log_end_offset = end;
                    }
                }
                if p.isr.contains(&broker) {
                    p.isr.retain(|r| *r != broker);
                    if p.isr.is_empty() {
                        // KIP-966: the last ISR member leaves the ISR for the ELR.
                        p.elr.push(broker);
                    }
                    shrunk = Some(p.isr.clone());
                }
            }
            if let Some(isr) = shrunk {
                self.emit(KafkaEvent::IsrShrunk { partition: tp.clone(), isr });
            }
            if was_leader {
                self.elect(&tp);
            } else {
                self.update_high_watermark(&name, index);
            }
        }
        Ok(())
    }

    /// Kills `broker` (SIGKILL, no controlled shutdown): it stops serving at once, but the controller
    /// keeps it as leader and ISR member until its session expires `broker.session.timeout.ms` later,
    /// when it is fenced as [`Cluster::broker_down`] removes a broker.
    pub fn broker_crash(&mut self, at: VirtualTime, broker: NodeId) -> Result<(), KafkaError> {
        self.advance_to(at);
        let due = self.now.plus_millis(self.settings.broker_session_timeout_ms);
        let b = self.registered_broker_mut(broker)?;
        if !b.up || b.crashed {
            return Ok(());
        }
        b.crashed = true;
        b.session_expires_ms = Some(due.as_millis());
        self.timers.schedule(due, Timer::BrokerSessionExpired { broker });
        Ok(())
    }

    /// Pauses `broker` (SIGSTOP of its process): a frozen broker answers nothing and fetches nothing,
    /// exactly as a killed one, so it is [`Cluster::broker_crash`]ed; it stays registered, and its leaders
    /// drop it from their ISRs after `replica.lag.time.max.ms`, while the controller fences it only once
    /// `broker.session.timeout.ms` passed without a heartbeat
    /// (`tests/scenarios/kafka/isr-shrink-slow-follower`).
    pub fn broker_pause(&mut self, at: VirtualTime, broker: NodeId) -> Result<(), KafkaError> {
        self.advance_to(at);
        let b = self.registered_broker_mut(broker)?;
        if !b.up || b.crashed {
            return Ok(());
        }
        b.paused = true;
        // The requests it leads and holds (acks=all, waiting for the high watermark) get no answer now.
        let led: Vec<(u64, i32)> = self
            .topics
            .values()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.leader == Some(broker))
                    .map(move |(i, _)| (t.id, i as i32))
            })
            .collect();
        for w in self.pending.values_mut() {
            if led.contains(&(w.topic_id, w.partition)) {
                w.silent_broker = Some(broker);
            }
        }
        self.broker_crash(at, broker)
    }

    /// Resumes a paused `broker` (SIGCONT): its replicas fetch what they missed and rejoin the ISRs; if it
    /// was fenced meanwhile, it registers again first, as a restarted broker ([`Cluster::broker_up`]). A
    /// broker that is not paused is left as it is (SIGCONT to a running or a stopped process does nothing).
    pub fn broker_resume(&mut self, at: VirtualTime, broker: NodeId) -> Result<(), KafkaError> {
        self.advance_to(at);
        let b = self.registered_broker_mut(broker)?;
        if !std::mem::replace(&mut b.paused, false) {
            return Ok(());
        }
        // The requests it held and that its client still waits for are handled now: failed if it no
        // longer leads their partition (fenced meanwhile), else left to wait for the high watermark.
        let held: Vec<(u64, u64, i32, i32)> = self
            .pending
            .iter()
            .filter(|(_, w)| w.silent_broker == Some(broker))
            .map(|(&id, w)| (id, w.topic_id, w.partition, w.leader_epoch))
            .collect();
        let mut stale = Vec::new();
        for (id, topic_id, partition, epoch) in held {
            let current = self
                .topics
                .values()
                .find(|t| t.id == topic_id)
                .and_then(|t| t.partitions.get(partition as usize))
                .filter(|p| p.leader == Some(broker))
                .map(|p| p.leader_epoch);
            match self.pending.get_mut(&id) {
                Some(w) if current == Some(epoch) && w.base_offset >= 0 => w.silent_broker = None,
                _ => stale.push(id),
            }
        }
        for id in stale {
            self.complete(id, Err(KafkaError::new(ErrorCode::NotLeaderOrFollower)));
        }
        self.broker_up(at, broker)
    }

    /// A crashed broker's session expired: fenced, unless it was restarted meanwhile.
    pub(crate) fn fence_crashed(&mut self, broker: NodeId) {
        let now = self.now.as_millis();
        if self
            .brokers
            .iter()
            .any(|b| b.id == broker && b.crashed && b.up && b.session_expires_ms.is_some_and(|t| t <= now))
        {
            let now = self.now;
            let _ = self.broker_down(now, broker);
            if let Some(b) = self.brokers.iter_mut().find(|b| b.id == broker) {
                b.crashed = false;
            }
        }
    }

    /// `Admin.electLeaders` for one partition: `PREFERRED` gives it to its first replica if that one is
    /// live and in the ISR (`ELECTION_NOT_NEEDED` if it leads already, `PREFERRED_LEADER_NOT_AVAILABLE`
    /// otherwise); `UNCLEAN` elects a leader for a partition without one, from the ISR if possible, else
    /// any live replica (`ELECTION_NOT_NEEDED` while it has a leader, `ELIGIBLE_LEADERS_NOT_AVAILABLE`
    /// with no live replica).
    pub fn elect_leaders(
        &mut self,
        at: VirtualTime,
        tp: &TopicPartition,
        unclean: bool,
    ) -> Result<(), KafkaError> {
        self.advance_to(at);
        // The controller's messages (ReplicationControlManager.electLeader), seen on Kafka 4.1.1.
        if !self.topics.contains_key(tp.topic.as_str()) {
            return Err(KafkaError::with_message(
                ErrorCode::UnknownTopicOrPartition,
                format!("No such topic as {}", tp.topic),
            ));
        }
        let p = self.partition(tp).ok_or_else(|| {
            KafkaError::with_message(
                ErrorCode::UnknownTopicOrPartition,
                format!("No such partition as {}-{}", tp.topic, tp.partition),
            )
        })?;
        if unclean {
            if p.leader.is_some() {
                return Err(KafkaError::new(ErrorCode::ElectionNotNeeded));
            }
            if !p.replicas.iter().any(|r| self.is_broker_up(*r)) {
                return Err(KafkaError::new(ErrorCode::EligibleLeadersNotAvailable));
            }
            self.elect_leader_allowing_unclean(tp);
            self.schedule_preferred_election();
            return Ok(());
        }
        let preferred = p.replicas[0];
        if p.leader == Some(preferred) {
            return Err(KafkaError::new(ErrorCode::ElectionNotNeeded));
        }
        if !(p.isr.contains(&preferred) && self.is_broker_up(preferred)) {
            return Err(KafkaError::new(ErrorCode::PreferredLeaderNotAvailable));
        }
        self.elect_leader(tp, true);
        Ok(())
    }

    /// Restarts `broker`: its replicas follow again (and catch up), or lead partitions left offline.
    pub fn broker_up(&mut self, at: VirtualTime, broker: NodeId) -> Result<(), KafkaError> {
        self.advance_to(at);
        let b = self.registered_broker_mut(broker)?;
        let was_crashed = std::mem::replace(&mut b.crashed, false);
        if b.up {
            // Restarted before its session expired: it re-registers and is followed again.
            if was_crashed {
                for (name, index) in self.partitions_on(broker) {
                    // Its replicas fetch again: what they missed while it was down, and a rejoin.
                    self.after_leader_append(&name, index);
                    self.schedule_rejoin_fetch(&TopicPartition::new(name, index as i32), broker);
                }
            }
            return Ok(());
        }
        b.up = true;
        self.emit(KafkaEvent::BrokerUp { broker });
        for (name, index) in self.partitions_on(broker) {
            let tp = TopicPartition::new(name.clone(), index as i32);
            if self.partition(&tp).is_some_and(|p| p.leader.is_none()) {
                self.try_elect_offline(&name, index);
            } else {
                self.after_leader_append(&name, index);
                self.schedule_rejoin_fetch(&tp, broker);
            }
        }
        Ok(())
    }

    /// A restarted follower fetches from its leader even when it missed nothing: that fetch is what
    /// brings it back into the ISR (a real follower rejoins at its first fetch that reaches the high
    /// watermark, seen in tests/scenarios/kafka/isr-shrink-and-expand).
    fn schedule_rejoin_fetch(&mut self, tp: &TopicPartition, broker: NodeId) {
        let latency = self.settings.replica_fetch_latency_ms;
        let delay = self.brokers.iter().find(|b| b.id == broker).map_or(0, |b| b.fetch_delay_ms);
        let due = self.now.plus_millis(latency + delay);
        let Some(t) = self.topics.get_mut(tp.topic.as_str()) else { return };
        let topic_id = t.id;
        let Some(p) = t.partitions.get_mut(tp.partition as usize) else { return };
        if p.leader.is_none() || p.leader == Some(broker) || p.isr.contains(&broker) {
            return;
        }
        let Some(j) = p.replicas.iter().position(|r| *r == broker) else { return };
        if p.followers[j].fetch_scheduled {
            return;
        }
        p.followers[j].fetch_scheduled = true;
        self.timers.schedule(
            due,
            Timer::FollowerFetch {
                topic_id,
                partition: tp.partition,
                replica: j,
                leader_epoch: p.leader_epoch,
            },
        );
    }

    fn partitions_on(&self, broker: NodeId) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        for (name, t) in &self.topics {
            for (i, p) in t.partitions.iter().enumerate() {
                if p.replicas.contains(&broker) {
                    out.push((name.clone(), i));
                }
            }
        }
        out
    }

    pub(crate) fn try_elect_offline(&mut self, topic: &str, partition: usize) {
        let tp = TopicPartition::new(topic, partition as i32);
        if self.partition(&tp).is_some_and(|p| p.leader.is_none()) {
            self.elect(&tp);
        }
    }

    /// Gives every partition led by another replica than its first back to the first one, if it is live
    /// and in the ISR; schedules another check while some cannot be.
    pub(crate) fn elect_preferred_leaders(&mut self) {
        let mut moves = Vec::new();
        for (name, t) in &self.topics {
            for (i, p) in t.partitions.iter().enumerate() {
                let preferred = p.replicas[0];
                if p.leader.is_some()
                    && p.leader != Some(preferred)
                    && p.isr.contains(&preferred)
                    && self.is_broker_up(preferred)
                {
                    moves.push(TopicPartition::new(name.clone(), i as i32));
                }
            }
        }
        for tp in moves {
            self.elect_leader(&tp, true);
        }
        self.schedule_preferred_election();
    }

    fn schedule_preferred_election(&mut self) {
        if !self.settings.auto_leader_rebalance_enable || self.rebalance_scheduled {
            return;
        }
        let imbalanced = self
            .topics
            .values()
            .flat_map(|t| t.partitions.iter())
            .any(|p| p.leader.is_some_and(|l| l != p.replicas[0]));
        if imbalanced {
            self.rebalance_scheduled = true;
            self.timers.schedule(
                self.now.plus_millis(self.settings.leader_imbalance_check_interval_ms),
                Timer::PreferredLeaderElection,
            );
        }
    }

    fn elect(&mut self, tp: &TopicPartition) {
        self.elect_leader(tp, false);
        self.schedule_preferred_election();
    }

    /// Chooses a new leader for `tp`: with `preferred`, its first replica; otherwise (its current one is
    /// gone) the first live ISR member in replica order, else, if allowed, the first live replica
    /// (unclean), else none.
    fn elect_leader(&mut self, tp: &TopicPartition, preferred: bool) {
        let allowed =
            self.topics.get(tp.topic.as_str()).is_some_and(|t| t.config.unclean_leader_election_enable);
        self.elect_leader_as(tp, preferred, allowed && !preferred);
    }

    /// An unclean election asked for by `electLeaders(UNCLEAN)`, whatever the topic's config says.
    fn elect_leader_allowing_unclean(&mut self, tp: &TopicPartition) {
        self.elect_leader_as(tp, false, true);
    }

    fn elect_leader_as(&mut self, tp: &TopicPartition, preferred: bool, unclean_allowed: bool) {
        let Some(t) = self.topics.get(tp.topic.as_str()) else { return };
        let Some(p) = t.partitions.get(tp.partition as usize) else { return };
        let old = p.leader;
        let candidates = || p.replicas.iter().copied().take(if preferred { 1 } else { p.replicas.len() });
        let from_isr = candidates().find(|r| Some(*r) != old && p.isr.contains(r) && self.is_broker_up(*r));
        // KIP-966: with no live ISR member, an eligible leader replica is a clean choice.
        let from_elr = candidates().find(|r| Some(*r) != old && p.elr.contains(r) && self.is_broker_up(*r));
        let clean = from_isr.or(from_elr);
        let unclean = if clean.is_none() && unclean_allowed {
            p.replicas.iter().copied().find(|r| Some(*r) != old && self.is_broker_up(*r))
        } else {
            None
        };
        let new_leader = clean.or(unclean);
        let is_unclean = clean.is_none() && unclean.is_some();
        let now = self.now_ms();
        let mut truncated = None;
        let (epoch, isr_after);
        {
            let Some(p) = self.partition_mut(tp) else { return };
            if preferred && new_leader.is_none() {
                return;
            }
            // The departing leader has the whole log (it stays a follower when it is still up).
            if let Some(j) = old.and_then(|o| p.replicas.iter().position(|r| *r == o)) {
                p.followers[j].log_end_offset = p.log.log_end_offset();
            }
            p.leader = new_leader;
            p.leader_epoch += 1;
            epoch = p.leader_epoch;
            for f in p.followers.iter_mut() {
                f.fetch_scheduled = false;
                f.isr_check_scheduled = false;
            }
            if let Some(l) = new_leader {
                let j = p.replicas.iter().position(|r| *r == l).unwrap_or(0);
                let end = p.followers[j].log_end_offset;
                let lost = p.log.truncate_to(end);
                let new_end = p.log.log_end_offset();
                for f in p.followers.iter_mut() {
                    f.log_end_offset = f.log_end_offset.min(new_end);
                    f.last_caught_up_ms = now;
                }
                if lost > 0 {
                    truncated = Some((new_end, lost));
                }
                if is_unclean {
                    p.isr = vec![l];
                    p.elr.clear();
                    p.unclean = true;
                } else if from_isr.is_none() {
                    p.isr = vec![l];
                    p.elr.retain(|r| *r != l);
                }
            }
            isr_after = p.isr.clone();
        }
        if let Some((end, lost)) = truncated {
            self.emit(KafkaEvent::RecordsTruncated {
                partition: tp.clone(),
                log_end_offset: end,
                records_lost: lost,
            });
        }
        if is_unclean {
            self.emit(KafkaEvent::IsrShrunk { partition: tp.clone(), isr: isr_after });
        }
        self.emit(KafkaEvent::LeaderElected {
            partition: tp.clone(),
            leader: new_leader,
            leader_epoch: epoch,
            unclean: is_unclean,
        });
        // Requests waiting on the old leader fail.
        let topic_id = self.topics.get(tp.topic.as_str()).map_or(0, |t| t.id);
        let stale: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, w)| {
                w.topic_id == topic_id
                    && w.partition == tp.partition
                    && w.leader_epoch != epoch
                    // A frozen old leader answers nothing: its requests time out at the client.
                    && w.silent_broker.is_none()
            })
            .map(|(&id, _)| id)
            .collect();
        for id in stale {
            self.complete(id, Err(KafkaError::new(ErrorCode::NotLeaderOrFollower)));
        }
        if new_leader.is_some() {
            self.after_leader_append(&tp.topic, tp.partition as usize);
        }
    }
}
