//! Share groups (KIP-932): acquisition, acknowledgement (accept / release / reject), delivery counts and
//! their limit, acquisition-lock expiry, the share-partition start offset; a seeded run checks the
//! invariants after every step. Defaults are Kafka 4.1.1's (`ShareGroupConfig`: lock 30 s, limit 5,
//! 2000 record locks).

use broker_core::kafka::share::{AcquiredRecord, RecordState};
use broker_core::kafka::{
    AcknowledgeType, ConsumerRecord, ErrorCode, IsolationLevel, KafkaError, KafkaShareConsumer, Offset,
    OffsetSpec, PartitionReader, ShareConfig, SharePartitions, TimestampType, TopicPartition,
};
use broker_core::{Prng, VirtualTime};
use std::collections::BTreeMap;

/// Partitions as `Vec`s of values with a log start offset.
struct Logs(BTreeMap<String, Vec<(Offset, Vec<String>)>>);

impl Logs {
    fn new(topic: &str, partitions: usize, records: usize) -> Self {
        let parts =
            (0..partitions).map(|p| (0, (0..records).map(|i| format!("{p}-{i}")).collect())).collect();
        Logs(BTreeMap::from([(topic.to_string(), parts)]))
    }
}

impl PartitionReader for Logs {
    fn partition_count(&self, topic: &str) -> Option<i32> {
        self.0.get(topic).map(|p| p.len() as i32)
    }

    fn fetch(
        &mut self,
        _at: VirtualTime,
        tp: &TopicPartition,
        offset: Offset,
        max: usize,
        _i: IsolationLevel,
    ) -> Result<Vec<ConsumerRecord>, KafkaError> {
        let (start, values) = self
            .0
            .get(tp.topic.as_str())
            .and_then(|p| p.get(tp.partition as usize))
            .ok_or_else(|| KafkaError::new(ErrorCode::UnknownTopicOrPartition))?;
        let end = start + values.len() as i64;
        if offset < *start || offset > end {
            return Err(KafkaError::new(ErrorCode::OffsetOutOfRange));
        }
        Ok(values[(offset - start) as usize..]
            .iter()
            .take(max)
            .enumerate()
            .map(|(i, v)| ConsumerRecord {
                partition: tp.clone(),
                offset: offset + i as i64,
                timestamp: 0,
                timestamp_type: TimestampType::CreateTime,
                key: None,
                value: Some(v.clone().into_bytes()),
                headers: Vec::new(),
            })
            .collect())
    }

    fn list_offset(
        &self,
        tp: &TopicPartition,
        spec: OffsetSpec,
        _i: IsolationLevel,
    ) -> Result<Option<Offset>, KafkaError> {
        let (start, values) = self
            .0
            .get(tp.topic.as_str())
            .and_then(|p| p.get(tp.partition as usize))
            .ok_or_else(|| KafkaError::new(ErrorCode::UnknownTopicOrPartition))?;
        Ok(match spec {
            OffsetSpec::Earliest => Some(*start),
            OffsetSpec::Latest => Some(start + values.len() as i64),
            OffsetSpec::ForTimestamp(_) => None,
        })
    }
}

fn offsets(records: &[AcquiredRecord]) -> Vec<(i64, i32)> {
    records.iter().map(|r| (r.record.offset, r.delivery_count)).collect()
}

fn earliest() -> SharePartitions {
    SharePartitions::new(ShareConfig { reset_earliest: true, ..ShareConfig::default() })
}

#[test]
fn two_members_split_a_partition_and_implicit_acknowledgement_moves_the_start_offset() {
    let mut logs = Logs::new("jobs", 1, 6);
    let mut shares = earliest();
    let mut a = KafkaShareConsumer::new("sg", "a", false);
    let mut b = KafkaShareConsumer::new("sg", "b", false);
    for c in [&mut a, &mut b] {
        c.subscribe(&["jobs"]);
        c.set_max_poll_records(3);
    }
    let t = VirtualTime::ZERO;
    assert_eq!(offsets(&a.poll(t, &mut shares, &mut logs).unwrap()), [(0, 1), (1, 1), (2, 1)]);
    assert_eq!(offsets(&b.poll(t, &mut shares, &mut logs).unwrap()), [(3, 1), (4, 1), (5, 1)]);
    let tp = TopicPartition::new("jobs", 0);
    assert_eq!(shares.partition("sg", &tp).unwrap().start_offset(), Some(0));
    // The next polls accept what the previous ones returned; nothing is left.
    assert!(a.poll(t, &mut shares, &mut logs).unwrap().is_empty());
    assert_eq!(
        shares.partition("sg", &tp).unwrap().start_offset(),
        Some(3),
        "b's records are still acquired"
    );
    assert!(b.poll(t, &mut shares, &mut logs).unwrap().is_empty());
    assert_eq!(shares.partition("sg", &tp).unwrap().start_offset(), Some(6));
    assert_eq!(shares.partition("sg", &tp).unwrap().in_flight_count(), 0);
}

#[test]
fn release_redelivers_reject_archives_and_the_delivery_limit_archives() {
    let mut logs = Logs::new("jobs", 1, 2);
    let mut shares = earliest();
    let mut a = KafkaShareConsumer::new("sg", "a", true);
    a.subscribe(&["jobs"]);
    let t = VirtualTime::ZERO;
    let tp = TopicPartition::new("jobs", 0);
    let first = a.poll(t, &mut shares, &mut logs).unwrap();
    assert_eq!(offsets(&first), [(0, 1), (1, 1)]);
    a.acknowledge(t, &first[1].record, AcknowledgeType::Reject, &mut shares).unwrap();
    assert_eq!(shares.partition("sg", &tp).unwrap().record_state(1), Some((RecordState::Archived, 1)));
    // Offset 0 released again and again: delivered 5 times (the limit), then archived.
    let mut record = first[0].record.clone();
    for delivery in 1..=5 {
        a.acknowledge(t, &record, AcknowledgeType::Release, &mut shares).unwrap();
        let again = a.poll(t, &mut shares, &mut logs).unwrap();
        if delivery < 5 {
            assert_eq!(offsets(&again), [(0, delivery + 1)]);
            record = again[0].record.clone();
        } else {
            assert!(again.is_empty(), "archived after its fifth delivery");
        }
    }
    assert_eq!(shares.partition("sg", &tp).unwrap().start_offset(), Some(2));
    // Acknowledging what one does not hold is INVALID_RECORD_STATE.
    let e = a.acknowledge(t, &record, AcknowledgeType::Accept, &mut shares).unwrap_err();
    assert_eq!(e.to_string(), "InvalidRecordStateException: The record state is invalid. The acknowledgement of delivery could not be completed.");
}

#[test]
fn an_expired_acquisition_lock_gives_the_record_to_another_member() {
    let mut logs = Logs::new("jobs", 1, 1);
    let mut shares = earliest();
    let mut a = KafkaShareConsumer::new("sg", "a", true);
    let mut b = KafkaShareConsumer::new("sg", "b", true);
    a.subscribe(&["jobs"]);
    b.subscribe(&["jobs"]);
    let got = a.poll(VirtualTime::ZERO, &mut shares, &mut logs).unwrap();
    assert_eq!(offsets(&got), [(0, 1)]);
    assert!(
        b.poll(VirtualTime::from_millis(29_999), &mut shares, &mut logs).unwrap().is_empty(),
        "still locked"
    );
    assert_eq!(shares.next_deadline(), Some(VirtualTime::from_millis(30_000)));
    let got_b = b.poll(VirtualTime::from_millis(30_000), &mut shares, &mut logs).unwrap();
    assert_eq!(offsets(&got_b), [(0, 2)], "redelivered after group.share.record.lock.duration.ms");
    let late =
        a.acknowledge(VirtualTime::from_millis(30_001), &got[0].record, AcknowledgeType::Accept, &mut shares);
    assert_eq!(late.unwrap_err().code, ErrorCode::InvalidRecordState, "a's lock is gone");
    b.acknowledge(VirtualTime::from_millis(30_001), &got_b[0].record, AcknowledgeType::Accept, &mut shares)
        .unwrap();
    assert_eq!(shares.partition("sg", &TopicPartition::new("jobs", 0)).unwrap().start_offset(), Some(1));
}

#[test]
fn latest_is_the_default_start() {
    let mut logs = Logs::new("jobs", 1, 4);
    let mut shares = SharePartitions::new(ShareConfig::default());
    let mut a = KafkaShareConsumer::new("sg", "a", false);
    a.subscribe(&["jobs"]);
    assert!(a.poll(VirtualTime::ZERO, &mut shares, &mut logs).unwrap().is_empty());
    logs.0.get_mut("jobs").unwrap()[0].1.push("new".to_string());
    assert_eq!(offsets(&a.poll(VirtualTime::ZERO, &mut shares, &mut logs).unwrap()), [(4, 1)]);
}

/// Members poll, acknowledge at random, go silent and close while time passes; after every step a record
/// is acquired by one member at most, delivery counts stay within the limit, the start offset never moves
/// back and in-flight records stay within the lock limit.
#[test]
fn seeded_share_groups_keep_their_invariants() {
    for seed in 1..=10u64 {
        let mut rng = Prng::new(seed);
        let mut logs = Logs::new("jobs", 2, 40);
        let mut shares = SharePartitions::new(ShareConfig {
            reset_earliest: true,
            max_record_locks: 8,
            ..ShareConfig::default()
        });
        let mut members: Vec<KafkaShareConsumer> = (0..3)
            .map(|i| {
                let mut c = KafkaShareConsumer::new("sg", &format!("m{i}"), i != 0);
                c.subscribe(&["jobs"]);
                c.set_max_poll_records(1 + rng.below(4) as usize);
                c
            })
            .collect();
        let mut held: Vec<Vec<ConsumerRecord>> = vec![Vec::new(); 3];
        let mut now = VirtualTime::ZERO;
        let mut starts = BTreeMap::new();
        for _ in 0..800 {
            let i = rng.below(3) as usize;
            match rng.below(6) {
                0 | 1 => held[i].extend(
                    members[i].poll(now, &mut shares, &mut logs).unwrap().into_iter().map(|r| r.record),
                ),
                2 if !held[i].is_empty() => {
                    let k = rng.below(held[i].len() as u64) as usize;
                    let r = held[i].remove(k);
                    let kind = [AcknowledgeType::Accept, AcknowledgeType::Release, AcknowledgeType::Reject]
                        [rng.below(3) as usize];
                    // An expired lock makes this fail, as in Kafka.
                    let _ = members[i].acknowledge(now, &r, kind, &mut shares);
                }
                3 if rng.chance(1, 5) => {
                    members[i].close(now, &mut shares);
                    held[i].clear();
                }
                _ => {
                    now = now.plus_millis(rng.below(12_000));
                    shares.advance_to(now);
                }
            }
            for p in 0..2 {
                let tp = TopicPartition::new("jobs", p);
                let Some(sp) = shares.partition("sg", &tp) else { continue };
                let start = sp.start_offset().unwrap();
                let before = starts.insert(p, start).unwrap_or(0);
                assert!(start >= before, "seed {seed}: SPSO went back");
                assert!(sp.in_flight_count() <= 8, "seed {seed}: over the record-lock limit");
                let acquired = sp.acquired_by();
                let mut seen = std::collections::BTreeSet::new();
                for (offset, _) in &acquired {
                    assert!(seen.insert(*offset), "seed {seed}: {tp}@{offset} acquired twice");
                    assert!(*offset >= start);
                }
                for o in start..start + 60 {
                    if let Some((_, count)) = sp.record_state(o) {
                        assert!(count <= 5, "seed {seed}: delivered {count} times");
                    }
                }
            }
        }
    }
}
