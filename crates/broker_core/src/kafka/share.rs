//! Share groups (KIP-932, "queues for Kafka") as Kafka 4.1's `SharePartition` keeps them: the members of a
//! share group read the same partitions cooperatively; each record is acquired by one member at a time
//! under an acquisition lock, then acknowledged (`ACCEPT`), released for redelivery (`RELEASE`) or
//! rejected (`REJECT`); a record delivered `group.share.delivery.count.limit` times and released again, or
//! whose lock expires then, is archived. Records a member holds when its session ends are released without
//! counting that delivery.
//!
//! Per share-partition: the share-partition start offset (SPSO) below which every record is done, and the
//! in-flight records from it on, each `Available`, `Acquired` (by a member, until a deadline),
//! `Acknowledged` or `Archived`, with its delivery count. The SPSO starts at `share.auto.offset.reset`
//! (latest by default) and moves past acknowledged and archived records at the front; records below the
//! log start offset are archived.
//!
//! The model tracks states per record, where Kafka keeps whole record batches together while it can: the
//! same records are delivered, acknowledged and redelivered, batch boundaries aside. Membership is not
//! modelled (no ShareGroupHeartbeat, no share-group assignor — Kafka 4.1's `simple` assignor may give a
//! member only some partitions when there are more partitions than members; the goldens use one
//! partition, which every member reads): a [`KafkaShareConsumer`] reads the partitions of the topics it
//! subscribes to, all of them. Seen on Kafka 4.1.1 (three partitions, one record each, 2026-12-06), what a
//! model of membership would have to match and why no golden shows it yet: a lone member's first poll
//! returned one record (jobs-2@0, three runs out of three), not all three; a second member that joined
//! got a record of its own partition in two runs out of three — the `simple` assignor hashes member ids,
//! which the Java client draws as random UUIDs, so which partition a member gets is not reproducible.
//!
//! Invariants (checked in `tests/kafka_share.rs` after every step): a record is acquired by at most one
//! member; its delivery count never exceeds the limit; the SPSO never decreases and every in-flight record
//! is at or above it; the number of in-flight records never exceeds `group.share.partition.max.record.locks`.

use crate::kafka::{
    ConsumerRecord, ErrorCode, IsolationLevel, KafkaError, Offset, OffsetSpec, PartitionReader,
    TopicPartition,
};
use crate::VirtualTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The broker's share-group settings, with Kafka 4.1.1's defaults (read from its `ShareGroupConfig`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareConfig {
    /// `group.share.record.lock.duration.ms` (30000).
    pub record_lock_duration_ms: u64,
    /// `group.share.delivery.count.limit` (5).
    pub delivery_count_limit: i32,
    /// `group.share.partition.max.record.locks` (2000).
    pub max_record_locks: usize,
    /// `share.auto.offset.reset` (group config): `true` for earliest, `false` for latest (the default).
    pub reset_earliest: bool,
}

impl Default for ShareConfig {
    fn default() -> Self {
        ShareConfig {
            record_lock_duration_ms: 30_000,
            delivery_count_limit: 5,
            max_record_locks: 2000,
            reset_earliest: false,
        }
    }
}

/// How a consumer acknowledges a delivered record (`AcknowledgeType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AcknowledgeType {
    /// Processed: never delivered again.
    Accept,
    /// Not processed: deliver it again (to any member).
    Release,
    /// Unprocessable: never delivered again.
    Reject,
}

/// A record's state in its share-partition (`RecordState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordState {
    /// May be acquired.
    Available,
    /// Locked by one member.
    Acquired,
    /// Accepted.
    Acknowledged,
    /// Rejected, or past the delivery limit, or below the log start.
    Archived,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct InFlight {
    state: RecordState,
    delivery_count: i32,
    member: Option<String>,
    lock_deadline: Option<VirtualTime>,
}

/// A record handed to a share consumer, with how often it has been delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcquiredRecord {
    /// The record.
    pub record: ConsumerRecord,
    /// 1 on its first delivery.
    pub delivery_count: i32,
}

/// One partition as a share group sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharePartition {
    partition: TopicPartition,
    /// SPSO; `None` until the first fetch initializes it.
    start_offset: Option<Offset>,
    /// Records at or above the SPSO that have been acquired at least once.
    in_flight: BTreeMap<Offset, InFlight>,
}

impl SharePartition {
    fn new(partition: TopicPartition) -> Self {
        SharePartition { partition, start_offset: None, in_flight: BTreeMap::new() }
    }

    /// The share-partition start offset, once initialized.
    pub fn start_offset(&self) -> Option<Offset> {
        self.start_offset
    }

    /// A record's state and delivery count, if it is in flight.
    pub fn record_state(&self, offset: Offset) -> Option<(RecordState, i32)> {
        self.in_flight.get(&offset).map(|r| (r.state, r.delivery_count))
    }

    /// The number of in-flight records.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }

    /// Who holds each acquired record.
    pub fn acquired_by(&self) -> Vec<(Offset, String)> {
        self.in_flight
            .iter()
            .filter(|(_, r)| r.state == RecordState::Acquired)
            .filter_map(|(o, r)| r.member.clone().map(|m| (*o, m)))
            .collect()
    }

    fn next_deadline(&self) -> Option<VirtualTime> {
        self.in_flight.values().filter_map(|r| r.lock_deadline).min()
    }

    /// A released record goes back to `Available`, or to `Archived` once delivered as often as allowed.
    fn release(r: &mut InFlight, limit: i32) {
        r.state = if r.delivery_count >= limit { RecordState::Archived } else { RecordState::Available };
        r.member = None;
        r.lock_deadline = None;
    }

    /// Moves the SPSO past the finished records at the front.
    fn advance_start(&mut self) {
        let Some(mut start) = self.start_offset else { return };
        while let Some(r) = self.in_flight.get(&start) {
            if !matches!(r.state, RecordState::Acknowledged | RecordState::Archived) {
                break;
            }
            self.in_flight.remove(&start);
            start += 1;
        }
        self.start_offset = Some(start);
    }

    fn expire_locks(&mut self, at: VirtualTime, limit: i32) {
        for r in self.in_flight.values_mut() {
            if r.state == RecordState::Acquired && r.lock_deadline.is_some_and(|d| d <= at) {
                Self::release(r, limit);
            }
        }
        self.advance_start();
    }

    fn acquire(
        &mut self,
        at: VirtualTime,
        member: &str,
        max_records: usize,
        config: &ShareConfig,
        reader: &mut dyn PartitionReader,
    ) -> Result<Vec<AcquiredRecord>, KafkaError> {
        let tp = self.partition.clone();
        let log_start =
            reader.list_offset(&tp, OffsetSpec::Earliest, IsolationLevel::ReadUncommitted)?.unwrap_or(0);
        let log_end =
            reader.list_offset(&tp, OffsetSpec::Latest, IsolationLevel::ReadUncommitted)?.unwrap_or(0);
        if self.start_offset.is_none() {
            self.start_offset = Some(if config.reset_earliest { log_start } else { log_end });
        }
        // Records the log no longer has are archived.
        let start = self.start_offset.expect("initialized");
        if start < log_start {
            for r in self.in_flight.range_mut(..log_start).map(|(_, r)| r) {
                r.state = RecordState::Archived;
                r.member = None;
                r.lock_deadline = None;
            }
            self.in_flight.retain(|o, _| *o >= log_start);
            self.start_offset = Some(log_start);
        }
        self.advance_start();
        let mut out = Vec::new();
        let deadline = at.plus_millis(config.record_lock_duration_ms);
        // First the records released or timed out, in offset order.
        let available: Vec<Offset> = self
            .in_flight
            .iter()
            .filter(|(_, r)| r.state == RecordState::Available)
            .map(|(o, _)| *o)
            .collect();
        for offset in available {
            if out.len() >= max_records {
                return Ok(out);
            }
            let Some(record) =
                reader.fetch(at, &tp, offset, 1, IsolationLevel::ReadUncommitted)?.into_iter().next()
            else {
                continue;
            };
            let r = self.in_flight.get_mut(&offset).expect("listed");
            r.state = RecordState::Acquired;
            r.delivery_count += 1;
            r.member = Some(member.to_string());
            r.lock_deadline = Some(deadline);
            out.push(AcquiredRecord { record, delivery_count: r.delivery_count });
        }
        // Then new records past the last one in flight, within the in-flight limit.
        let start = self.start_offset.expect("initialized");
        let next = self.in_flight.keys().next_back().map_or(start, |o| o + 1).max(start);
        let room = max_records
            .saturating_sub(out.len())
            .min(config.max_record_locks.saturating_sub(self.in_flight.len()));
        if room > 0 && next < log_end {
            let records = match reader.fetch(at, &tp, next, room, IsolationLevel::ReadUncommitted) {
                Ok(r) => r,
                Err(e) if e.code == ErrorCode::OffsetOutOfRange => Vec::new(),
                Err(e) => return Err(e),
            };
            for record in records {
                self.in_flight.insert(
                    record.offset,
                    InFlight {
                        state: RecordState::Acquired,
                        delivery_count: 1,
                        member: Some(member.to_string()),
                        lock_deadline: Some(deadline),
                    },
                );
                out.push(AcquiredRecord { record, delivery_count: 1 });
            }
        }
        Ok(out)
    }

    fn acknowledge(
        &mut self,
        member: &str,
        offset: Offset,
        kind: AcknowledgeType,
        limit: i32,
    ) -> Result<(), KafkaError> {
        let Some(r) = self.in_flight.get_mut(&offset) else {
            return Err(KafkaError::new(ErrorCode::InvalidRecordState));
        };
        if r.state != RecordState::Acquired || r.member.as_deref() != Some(member) {
            return Err(KafkaError::new(ErrorCode::InvalidRecordState));
        }
        match kind {
            AcknowledgeType::Accept => {
                r.state = RecordState::Acknowledged;
                r.member = None;
                r.lock_deadline = None;
            }
            AcknowledgeType::Release => Self::release(r, limit),
            AcknowledgeType::Reject => {
                r.state = RecordState::Archived;
                r.member = None;
                r.lock_deadline = None;
            }
        }
        self.advance_start();
        Ok(())
    }

    /// A member's session ended: what it held goes back to `Available` and, as Kafka 4.1 does it, the
    /// delivery does not count (seen in `tests/scenarios/kafka/share-group-members`: the next member gets
    /// the records with delivery count 1 again).
    fn release_member(&mut self, member: &str, limit: i32) {
        for r in self.in_flight.values_mut() {
            if r.state == RecordState::Acquired && r.member.as_deref() == Some(member) {
                r.delivery_count = (r.delivery_count - 1).max(0);
                Self::release(r, limit);
            }
        }
        self.advance_start();
    }
}

/// The share-partitions of every share group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharePartitions {
    config: ShareConfig,
    partitions: BTreeMap<(String, TopicPartition), SharePartition>,
    /// Per-group configs (`share.auto.offset.reset`, `share.record.lock.duration.ms`) set with
    /// `incrementalAlterConfigs` on the group, over the broker's.
    #[serde(default)]
    group_configs: BTreeMap<String, ShareConfig>,
}

impl SharePartitions {
    /// None yet.
    pub fn new(config: ShareConfig) -> Self {
        SharePartitions { config, partitions: BTreeMap::new(), group_configs: BTreeMap::new() }
    }

    /// Group `group`'s settings: the broker's, with the group's own configs over them.
    pub fn group_config(&self, group: &str) -> ShareConfig {
        self.group_configs.get(group).cloned().unwrap_or_else(|| self.config.clone())
    }

    /// Sets group `group`'s `share.auto.offset.reset` (`Some(true)` earliest, `Some(false)` latest) and
    /// `share.record.lock.duration.ms`; `None` leaves one as it is. A share-partition's start, once fixed by
    /// its first fetch, stays (as Kafka's does).
    pub fn set_group_config(
        &mut self,
        group: &str,
        reset_earliest: Option<bool>,
        lock_duration_ms: Option<u64>,
    ) {
        let mut c = self.group_config(group);
        if let Some(e) = reset_earliest {
            c.reset_earliest = e;
        }
        if let Some(ms) = lock_duration_ms {
            c.record_lock_duration_ms = ms;
        }
        self.group_configs.insert(group.to_string(), c);
    }

    /// The settings.
    pub fn config(&self) -> &ShareConfig {
        &self.config
    }

    /// A group's share-partition, if it was ever fetched.
    pub fn partition(&self, group: &str, tp: &TopicPartition) -> Option<&SharePartition> {
        self.partitions.get(&(group.to_string(), tp.clone()))
    }

    /// When the next acquisition lock expires.
    pub fn next_deadline(&self) -> Option<VirtualTime> {
        self.partitions.values().filter_map(SharePartition::next_deadline).min()
    }

    /// Releases the records whose acquisition lock expired by `at`.
    pub fn advance_to(&mut self, at: VirtualTime) {
        let limit = self.config.delivery_count_limit;
        for p in self.partitions.values_mut() {
            p.expire_locks(at, limit);
        }
    }

    /// ShareFetch: acquires up to `max_records` records of `tp` for `member` of `group`.
    pub fn acquire(
        &mut self,
        at: VirtualTime,
        group: &str,
        member: &str,
        tp: &TopicPartition,
        max_records: usize,
        reader: &mut dyn PartitionReader,
    ) -> Result<Vec<AcquiredRecord>, KafkaError> {
        self.advance_to(at);
        let config = self.group_config(group);
        self.partitions
            .entry((group.to_string(), tp.clone()))
            .or_insert_with(|| SharePartition::new(tp.clone()))
            .acquire(at, member, max_records, &config, reader)
    }

    /// ShareAcknowledge for one record; `INVALID_RECORD_STATE` unless `member` holds it.
    pub fn acknowledge(
        &mut self,
        at: VirtualTime,
        group: &str,
        member: &str,
        tp: &TopicPartition,
        offset: Offset,
        kind: AcknowledgeType,
    ) -> Result<(), KafkaError> {
        self.advance_to(at);
        let limit = self.config.delivery_count_limit;
        match self.partitions.get_mut(&(group.to_string(), tp.clone())) {
            Some(p) => p.acknowledge(member, offset, kind, limit),
            None => Err(KafkaError::new(ErrorCode::InvalidRecordState)),
        }
    }

    /// A member's session ended (close, or its session timed out): its records are released.
    pub fn release_member(&mut self, group: &str, member: &str) {
        let limit = self.config.delivery_count_limit;
        for ((g, _), p) in self.partitions.iter_mut() {
            if g == group {
                p.release_member(member, limit);
            }
        }
    }
}

/// A share consumer (`KafkaShareConsumer`) reading every partition of its subscribed topics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaShareConsumer {
    group: String,
    member_id: String,
    topics: Vec<String>,
    max_poll_records: usize,
    /// `share.acknowledgement.mode=explicit` (otherwise implicit: the next poll accepts what the last
    /// one returned).
    explicit: bool,
    /// Records of the last poll not yet acknowledged.
    pending: Vec<(TopicPartition, Offset)>,
    cursor: usize,
}

impl KafkaShareConsumer {
    /// A share consumer of `group` with this member id; `max.poll.records` 500 as the Java client.
    pub fn new(group: &str, member_id: &str, explicit: bool) -> Self {
        KafkaShareConsumer {
            group: group.to_string(),
            member_id: member_id.to_string(),
            topics: Vec::new(),
            max_poll_records: 500,
            explicit,
            pending: Vec::new(),
            cursor: 0,
        }
    }

    /// Sets `max.poll.records`.
    pub fn set_max_poll_records(&mut self, n: usize) {
        self.max_poll_records = n.max(1);
    }

    /// `subscribe(topics)`.
    pub fn subscribe(&mut self, topics: &[&str]) {
        self.topics = topics.iter().map(|t| t.to_string()).collect();
        self.topics.sort();
        self.topics.dedup();
    }

    /// `poll`: in implicit mode first accepts what the previous poll returned; then acquires records.
    pub fn poll(
        &mut self,
        at: VirtualTime,
        shares: &mut SharePartitions,
        reader: &mut dyn PartitionReader,
    ) -> Result<Vec<AcquiredRecord>, KafkaError> {
        if !self.explicit {
            for (tp, offset) in std::mem::take(&mut self.pending) {
                // A lock may have expired meanwhile; Kafka reports that per record, the poll goes on.
                let _ = shares.acknowledge(
                    at,
                    &self.group,
                    &self.member_id,
                    &tp,
                    offset,
                    AcknowledgeType::Accept,
                );
            }
        }
        let mut partitions = Vec::new();
        for t in &self.topics {
            for p in 0..reader.partition_count(t).unwrap_or(0) {
                partitions.push(TopicPartition::new(t.clone(), p));
            }
        }
        let mut out = Vec::new();
        if partitions.is_empty() {
            return Ok(out);
        }
        for k in 0..partitions.len() {
            let room = self.max_poll_records - out.len();
            if room == 0 {
                break;
            }
            let tp = &partitions[(self.cursor + k) % partitions.len()];
            out.extend(shares.acquire(at, &self.group, &self.member_id, tp, room, reader)?);
        }
        self.cursor = self.cursor.wrapping_add(1);
        self.pending.extend(out.iter().map(|r| (r.record.partition.clone(), r.record.offset)));
        Ok(out)
    }

    /// `acknowledge(record, type)` (explicit mode).
    pub fn acknowledge(
        &mut self,
        at: VirtualTime,
        record: &ConsumerRecord,
        kind: AcknowledgeType,
        shares: &mut SharePartitions,
    ) -> Result<(), KafkaError> {
        self.pending.retain(|(tp, o)| !(tp == &record.partition && *o == record.offset));
        shares.acknowledge(at, &self.group, &self.member_id, &record.partition, record.offset, kind)
    }

    /// `close()`: accepts what the last poll returned (implicit mode), releases the rest.
    pub fn close(&mut self, at: VirtualTime, shares: &mut SharePartitions) {
        if !self.explicit {
            for (tp, offset) in std::mem::take(&mut self.pending) {
                let _ = shares.acknowledge(
                    at,
                    &self.group,
                    &self.member_id,
                    &tp,
                    offset,
                    AcknowledgeType::Accept,
                );
            }
        }
        shares.release_member(&self.group, &self.member_id);
    }
}
