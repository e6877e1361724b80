//! Seeded lock-step runs of the data plane against a deliberately naive model: per partition a flat
//! `Vec` of records and a `Vec` of segment summaries, every rule applied by linear scans. After every
//! operation the cluster's invariants are checked and every read is compared with the model.
//!
//! `logs_match_a_naive_model`: one broker, retention by time and size, segment rolls by size and age,
//! `deleteRecords`, fetches and `ListOffsets` at random offsets. `replication_matches_a_naive_model`:
//! three brokers, `acks=0|1|all`, brokers down and back, slow followers; the model follows the
//! truncations the cluster reports and every record acknowledged with `acks=all` must stay.
//! The batch size function the model uses is checked against the real broker in `kafka_admin.rs`.

use broker_core::kafka::cluster::{Cluster, ClusterSettings, NewTopic, ProduceOutcome, ProduceRequest};
use broker_core::kafka::log::{batch_size, AppendRecord};
use broker_core::kafka::{
    Acks, ErrorCode, IsolationLevel, KafkaEvent, NodeId, OffsetSpec, PartitionReader, TopicPartition,
};
use broker_core::{Prng, VirtualTime};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
struct MRec {
    offset: i64,
    ts: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
}

#[derive(Clone, Debug)]
struct MSeg {
    base: i64,
    bytes: u64,
    rolling_ts: Option<i64>,
    max_ts: i64,
}

#[derive(Clone, Debug)]
struct MPart {
    records: Vec<MRec>,
    segs: Vec<MSeg>,
    log_start: i64,
    leo: i64,
}

const SEGMENT_BYTES: u64 = 1_048_576;
const SEGMENT_MS: i64 = 5_000;
const RETENTION_MS: i64 = 60_000;
const RETENTION_BYTES: i64 = 2_500_000;
const CHECK_MS: u64 = 1_000;

impl MPart {
    fn new() -> Self {
        MPart {
            records: Vec::new(),
            segs: vec![MSeg { base: 0, bytes: 0, rolling_ts: None, max_ts: -1 }],
            log_start: 0,
            leo: 0,
        }
    }

    fn append(&mut self, now: i64, batch: &[AppendRecord]) -> i64 {
        let size = batch_size(batch) as u64;
        let last = self.segs.last().unwrap();
        let old = last.rolling_ts.is_some_and(|t| now - t > SEGMENT_MS);
        if last.bytes > 0 && (last.bytes + size > SEGMENT_BYTES || old) {
            self.segs.push(MSeg { base: self.leo, bytes: 0, rolling_ts: None, max_ts: -1 });
        }
        let base = self.leo;
        let max_ts = batch.iter().map(|r| r.timestamp).max().unwrap();
        let seg = self.segs.last_mut().unwrap();
        seg.bytes += size;
        seg.max_ts = seg.max_ts.max(max_ts);
        if seg.rolling_ts.is_none() {
            seg.rolling_ts = Some(max_ts);
        }
        for r in batch {
            self.records.push(MRec {
                offset: self.leo,
                ts: r.timestamp,
                key: r.key.clone(),
                value: r.value.clone(),
            });
            self.leo += 1;
        }
        base
    }

    fn end_of(&self, i: usize) -> i64 {
        self.segs.get(i + 1).map_or(self.leo, |s| s.base)
    }

    fn delete_front(&mut self, hw: i64, mut pred: impl FnMut(&MSeg, Option<i64>) -> bool) {
        let mut n = 0;
        while n < self.segs.len() {
            let last_empty = n + 1 == self.segs.len() && self.segs[n].bytes == 0;
            let next = self.segs.get(n + 1).map(|s| s.base);
            if hw >= self.end_of(n) && !last_empty && pred(&self.segs[n], next) {
                n += 1;
            } else {
                break;
            }
        }
        if n == 0 {
            return;
        }
        if n == self.segs.len() {
            self.segs.push(MSeg { base: self.leo, bytes: 0, rolling_ts: None, max_ts: -1 });
        }
        self.segs.drain(..n);
        self.log_start = self.log_start.max(self.segs[0].base);
        let start = self.log_start;
        self.records.retain(|r| r.offset >= start);
    }

    fn retention(&mut self, now: i64, hw: i64) {
        self.delete_front(hw, |s, _| now - s.max_ts > RETENTION_MS);
        let mut diff = self.segs.iter().map(|s| s.bytes as i64).sum::<i64>() - RETENTION_BYTES;
        self.delete_front(hw, |s, _| {
            if diff - s.bytes as i64 >= 0 {
                diff -= s.bytes as i64;
                true
            } else {
                false
            }
        });
        let start = self.log_start;
        self.delete_front(hw, |_, next| next.is_some_and(|b| b <= start));
    }

    fn visible(&self, from: i64, upper: i64, max: usize) -> Vec<&MRec> {
        self.records
            .iter()
            .filter(|r| r.offset >= from && r.offset < upper && r.offset >= self.log_start)
            .take(max)
            .collect()
    }
}

fn random_batch(prng: &mut Prng, now: i64) -> Vec<AppendRecord> {
    let n = prng.range_inclusive(1, 4) as usize;
    let base_ts = now - prng.below(5_000) as i64;
    (0..n)
        .map(|_| AppendRecord {
            timestamp: base_ts + prng.below(100) as i64,
            key: if prng.chance(1, 5) { None } else { Some(format!("k{}", prng.below(50)).into_bytes()) },
            value: Some(vec![prng.below(256) as u8; prng.below(4_000) as usize]),
            headers: if prng.chance(1, 10) {
                vec![broker_core::kafka::Header { key: "h".into(), value: Some(b"x".to_vec()) }]
            } else {
                vec![]
            },
        })
        .collect()
}

fn compare(records: &[broker_core::kafka::ConsumerRecord], want: &[&MRec], context: &str) {
    assert_eq!(records.len(), want.len(), "{context}: count");
    for (r, m) in records.iter().zip(want) {
        assert_eq!(
            (r.offset, r.timestamp, &r.key, &r.value),
            (m.offset, m.ts, &m.key, &m.value),
            "{context}"
        );
    }
}

#[test]
fn logs_match_a_naive_model() {
    let settings = ClusterSettings { log_retention_check_interval_ms: CHECK_MS, ..Default::default() };
    let mut c = Cluster::new(9, settings);
    c.add_broker(NodeId(1), None).unwrap();
    let topic = NewTopic::new("t", 3, 1)
        .config("segment.bytes", &SEGMENT_BYTES.to_string())
        .config("segment.ms", &SEGMENT_MS.to_string())
        .config("retention.ms", &RETENTION_MS.to_string())
        .config("retention.bytes", &RETENTION_BYTES.to_string());
    c.create_topic(VirtualTime::ZERO, &topic).unwrap();
    let mut model: Vec<MPart> = (0..3).map(|_| MPart::new()).collect();
    let mut prng = Prng::new(20_261_206);
    let mut now: u64 = 0;
    let mut next_check: u64 = CHECK_MS;
    let ops = 60_000;
    for step in 0..ops {
        if prng.chance(1, 3) {
            now += prng.below(300);
        }
        while next_check <= now {
            for m in model.iter_mut() {
                let hw = m.leo;
                m.retention(next_check as i64, hw);
            }
            next_check += CHECK_MS;
        }
        let p = prng.below(3) as usize;
        let tp = TopicPartition::new("t", p as i32);
        let at = VirtualTime::from_millis(now);
        let context = format!("step {step} at {now} on {tp}");
        match prng.below(10) {
            0..=4 => {
                let batch = random_batch(&mut prng, now as i64);
                let req = ProduceRequest {
                    partition: tp.clone(),
                    acks: Acks::Leader,
                    timeout_ms: 30_000,
                    records: batch.clone(),
                    producer: None,
                };
                let ProduceOutcome::Done(Ok(r)) = c.produce(at, &req) else {
                    panic!("{context}: produce failed")
                };
                let base = model[p].append(now as i64, &batch);
                assert_eq!(r.base_offset, base, "{context}");
            }
            5 => {
                let m = &mut model[p];
                let target = prng.below((m.leo + 3) as u64) as i64 - 1;
                let got = c.delete_records(at, &tp, target);
                let resolved = if target == -1 { m.leo } else { target };
                if resolved > m.leo {
                    assert_eq!(got.unwrap_err().code, ErrorCode::OffsetOutOfRange, "{context}");
                } else {
                    m.log_start = m.log_start.max(resolved);
                    let start = m.log_start;
                    m.records.retain(|r| r.offset >= start);
                    assert_eq!(got.unwrap(), m.log_start, "{context}");
                }
            }
            6..=8 => {
                let m = &model[p];
                let from = m.log_start - 2 + prng.below((m.leo - m.log_start + 5) as u64) as i64;
                let max = prng.range_inclusive(1, 50) as usize;
                let got = c.fetch(at, &tp, from, max, IsolationLevel::ReadUncommitted);
                if from < m.log_start || from > m.leo {
                    assert_eq!(got.unwrap_err().code, ErrorCode::OffsetOutOfRange, "{context}: fetch {from}");
                } else {
                    compare(&got.unwrap(), &m.visible(from, m.leo, max), &context);
                }
            }
            _ => {
                let m = &model[p];
                c.advance_to(at);
                let iso = IsolationLevel::ReadUncommitted;
                assert_eq!(
                    c.list_offset(&tp, OffsetSpec::Earliest, iso).unwrap(),
                    Some(m.log_start),
                    "{context}"
                );
                assert_eq!(c.list_offset(&tp, OffsetSpec::Latest, iso).unwrap(), Some(m.leo), "{context}");
                let t = now as i64 - prng.below(70_000) as i64;
                let want = m.records.iter().find(|r| r.ts >= t).map(|r| r.offset);
                assert_eq!(
                    c.list_offset(&tp, OffsetSpec::ForTimestamp(t), iso).unwrap(),
                    want,
                    "{context}: timestamp {t}"
                );
            }
        }
        c.assert_invariants();
        if step % 1000 == 0 {
            for (i, m) in model.iter().enumerate() {
                let log = &c.partition(&TopicPartition::new("t", i as i32)).unwrap().log;
                log.check_full().unwrap();
                let bases: Vec<i64> = log.segments().iter().map(|s| s.base_offset).collect();
                let want: Vec<i64> = m.segs.iter().map(|s| s.base).collect();
                assert_eq!(bases, want, "step {step}: segments of t-{i}");
                assert_eq!(log.log_start_offset(), m.log_start, "step {step}: log start of t-{i}");
            }
        }
    }
    let rolled =
        c.take_events().iter().filter(|(_, e)| matches!(e, KafkaEvent::SegmentRolled { .. })).count();
    assert!(rolled > 100, "the run exercised segment rolls ({rolled})");
}

#[test]
fn replication_matches_a_naive_model() {
    let mut c = Cluster::with_brokers(5, 3);
    let topic = NewTopic::new("r", 3, 3).config("min.insync.replicas", "2");
    c.create_topic(VirtualTime::ZERO, &topic).unwrap();
    let mut model: Vec<Vec<MRec>> = vec![Vec::new(); 3];
    // Records acknowledged with acks=all: (partition, offset) → value.
    let mut acked: BTreeMap<(usize, i64), Vec<u8>> = BTreeMap::new();
    let mut waiting: BTreeMap<u64, (usize, Vec<u8>)> = BTreeMap::new();
    let mut prng = Prng::new(77);
    let mut now: u64 = 0;
    let mut counter = 0u64;
    let ops = 40_000;
    for step in 0..ops {
        now += prng.below(40);
        let at = VirtualTime::from_millis(now);
        let p = prng.below(3) as usize;
        let tp = TopicPartition::new("r", p as i32);
        let context = format!("step {step} at {now} on {tp}");
        let down: Vec<NodeId> = c.brokers().iter().filter(|b| !b.up).map(|b| b.id).collect();
        match prng.below(20) {
            0..=10 => {
                counter += 1;
                let value = counter.to_string().into_bytes();
                let acks = [Acks::None, Acks::Leader, Acks::All][prng.below(3) as usize];
                let req = ProduceRequest {
                    partition: tp.clone(),
                    acks,
                    timeout_ms: 30_000,
                    records: vec![AppendRecord {
                        timestamp: now as i64,
                        key: None,
                        value: Some(value.clone()),
                        headers: vec![],
                    }],
                    producer: None,
                };
                let before = c.partition(&tp).unwrap().log.log_end_offset();
                let outcome = c.produce(at, &req);
                let after = c.partition(&tp).unwrap().log.log_end_offset();
                if after > before {
                    model[p].push(MRec {
                        offset: before,
                        ts: now as i64,
                        key: None,
                        value: Some(value.clone()),
                    });
                }
                match outcome {
                    ProduceOutcome::Done(Ok(r)) if acks == Acks::All => {
                        acked.insert((p, r.base_offset), value);
                    }
                    ProduceOutcome::Pending(id) => {
                        waiting.insert(id, (p, value));
                    }
                    _ => {}
                }
            }
            11 | 12 => {
                let b = NodeId(prng.range_inclusive(1, 3) as i32);
                // At most one broker down at a time: fewer than min.insync.replicas fail.
                if down.is_empty() {
                    c.broker_down(at, b).unwrap();
                } else {
                    c.broker_up(at, down[0]).unwrap();
                }
            }
            13 => {
                let b = NodeId(prng.range_inclusive(1, 3) as i32);
                let delay = [0, 0, 5_000, 40_000][prng.below(4) as usize];
                c.set_follower_delay(at, b, delay);
            }
            _ => {
                c.advance_to(at);
                let state = c.partition(&tp).unwrap();
                if state.leader.is_some() {
                    let hw = state.log.high_watermark();
                    let from = prng.below(hw as u64 + 1) as i64;
                    let got = c.fetch(at, &tp, from, 200, IsolationLevel::ReadUncommitted).unwrap();
                    let first = model[p].partition_point(|r| r.offset < from);
                    let want: Vec<&MRec> =
                        model[p][first..].iter().filter(|r| r.offset < hw).take(200).collect();
                    compare(&got, &want, &context);
                }
            }
        }
        // The model follows the truncations the cluster reports.
        for (_, e) in c.take_events() {
            if let KafkaEvent::RecordsTruncated { partition, log_end_offset, .. } = e {
                model[partition.partition as usize].retain(|r| r.offset < log_end_offset);
            }
        }
        for done in c.take_completions() {
            let (p, value) = waiting.remove(&done.request).expect("a waiting request");
            if let Ok(r) = done.result {
                acked.insert((p, r.base_offset), value);
            }
        }
        c.assert_invariants();
        if step % 1000 == 0 {
            for p in 0..3 {
                c.partition(&TopicPartition::new("r", p)).unwrap().log.check_full().unwrap();
            }
        }
        for (p, m) in model.iter().enumerate() {
            let leo = c.partition(&TopicPartition::new("r", p as i32)).unwrap().log.log_end_offset();
            assert_eq!(m.last().map_or(0, |r| r.offset + 1), leo, "{context}: log end of r-{p}");
        }
    }
    // Every acks=all acknowledgement is still there with its value.
    for ((p, offset), value) in &acked {
        let m = model[*p].iter().find(|r| r.offset == *offset).expect("an acknowledged record is kept");
        assert_eq!(m.value.as_ref(), Some(value));
    }
    assert!(acked.len() > 1000, "the run acknowledged records ({})", acked.len());
}

/// Producers against a cluster with failing brokers: every send is answered exactly once; an `acks=all`
/// success names the offset where its value is and stays; an idempotent producer never writes a value
/// twice. Cluster invariants after every step.
#[test]
fn producers_answer_every_send_once_and_idempotence_never_duplicates() {
    use broker_core::kafka::producer::{KafkaProducer, ProducerConfig};
    use broker_core::kafka::ProducerRecord;
    let mut c = Cluster::with_brokers(13, 3);
    c.create_topic(VirtualTime::ZERO, &NewTopic::new("p", 4, 3).config("min.insync.replicas", "2")).unwrap();
    let mut prng = Prng::new(4242);
    let mut producers: Vec<(KafkaProducer, bool)> = (0..4)
        .map(|i| {
            let idempotent = i % 2 == 0;
            let config = ProducerConfig {
                linger_ms: [0, 5, 20][i % 3],
                batch_size: [200, 16_384][i % 2],
                enable_idempotence: Some(idempotent),
                acks: if idempotent { Acks::All } else { [Acks::Leader, Acks::All][i / 2 % 2] },
                delivery_timeout_ms: 60_000,
                request_timeout_ms: 5_000,
                ..Default::default()
            };
            (KafkaProducer::new(config, i as u64).unwrap(), idempotent)
        })
        .collect();
    // (producer, send id) → value.
    let mut sent: BTreeMap<(usize, u64), String> = BTreeMap::new();
    let mut answered: BTreeMap<(usize, u64), Result<(i32, i64), String>> = BTreeMap::new();
    let mut now = 0u64;
    let mut counter = 0;
    for step in 0..6_000 {
        now += prng.below(20);
        let at = VirtualTime::from_millis(now);
        let i = prng.below(4) as usize;
        match prng.below(20) {
            0..=14 => {
                counter += 1;
                let value = format!("v{counter}");
                let key = match prng.below(3) {
                    0 => None,
                    _ => Some(format!("k{}", prng.below(10)).into_bytes()),
                };
                let record = ProducerRecord {
                    topic: "p".into(),
                    partition: None,
                    timestamp: None,
                    key,
                    value: Some(value.clone().into_bytes()),
                    headers: vec![],
                };
                let id = producers[i].0.send(&mut c, at, record).unwrap();
                sent.insert((i, id), value);
            }
            15 => producers[i].0.flush(&mut c, at),
            16 | 17 => {
                let b = NodeId(prng.range_inclusive(1, 3) as i32);
                let down: Vec<NodeId> = c.brokers().iter().filter(|x| !x.up).map(|x| x.id).collect();
                if down.is_empty() {
                    c.broker_down(at, b).unwrap();
                } else {
                    c.broker_up(at, down[0]).unwrap();
                }
            }
            18 => {
                let b = NodeId(prng.range_inclusive(1, 3) as i32);
                c.set_follower_delay(at, b, [0, 0, 3_000, 40_000][prng.below(4) as usize]);
            }
            _ => {}
        }
        for (j, (p, _)) in producers.iter_mut().enumerate() {
            p.advance_to(&mut c, at);
            for r in p.take_results() {
                let outcome = r.result.map(|m| (m.partition.partition, m.offset)).map_err(|e| e.to_string());
                assert!(
                    answered.insert((j, r.id), outcome).is_none(),
                    "step {step}: send {j}/{} answered twice",
                    r.id
                );
            }
        }
        c.assert_invariants();
    }
    // Bring every broker back and let everything settle.
    let down: Vec<NodeId> = c.brokers().iter().filter(|x| !x.up).map(|x| x.id).collect();
    for b in down {
        c.broker_up(VirtualTime::from_millis(now), b).unwrap();
    }
    for b in 1..=3 {
        c.set_follower_delay(VirtualTime::from_millis(now), NodeId(b), 0);
    }
    let end = VirtualTime::from_millis(now + 200_000);
    for (j, (p, _)) in producers.iter_mut().enumerate() {
        p.flush(&mut c, end);
        p.advance_to(&mut c, end);
        for r in p.take_results() {
            let outcome = r.result.map(|m| (m.partition.partition, m.offset)).map_err(|e| e.to_string());
            assert!(answered.insert((j, r.id), outcome).is_none());
        }
        assert_eq!(p.unanswered(), 0);
    }
    assert_eq!(answered.len(), sent.len(), "every send answered");
    let mut logs: Vec<BTreeMap<i64, String>> = Vec::new();
    for part in 0..4 {
        let tp = TopicPartition::new("p", part);
        let records = c.fetch(end, &tp, 0, usize::MAX, IsolationLevel::ReadUncommitted).unwrap();
        logs.push(
            records.into_iter().map(|r| (r.offset, String::from_utf8(r.value.unwrap()).unwrap())).collect(),
        );
    }
    let mut successes = 0;
    for ((j, id), outcome) in &answered {
        let (_, idempotent) = producers[*j];
        let value = &sent[&(*j, *id)];
        if let Ok((part, offset)) = outcome {
            if idempotent || producers[*j].0.is_idempotent() {
                successes += 1;
                assert_eq!(
                    logs[*part as usize].get(offset),
                    Some(value),
                    "acks=all success at {part}/{offset}"
                );
            }
        }
        if idempotent {
            let copies = logs.iter().flat_map(|l| l.values()).filter(|v| *v == value).count();
            assert!(copies <= 1, "{value} written {copies} times by an idempotent producer");
        }
    }
    assert!(successes > 1_000, "{successes} acknowledged idempotent sends");
    c.assert_invariants();
}
