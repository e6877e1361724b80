//! Partition logs on a one-broker cluster: segments and their rolls, retention, `deleteRecords`,
//! compaction, timestamps. Sizes rest on the batch size the real broker measured
//! (`tests/kafka/admin_probe.golden`: key "k" with a 31-byte value is a 100-byte batch); the rules are
//! Kafka's documented ones (`segment.bytes`, `segment.ms`, `retention.*`, `delete.retention.ms`).

use broker_core::kafka::cluster::{Cluster, ClusterSettings, NewTopic, ProduceOutcome, ProduceRequest};
use broker_core::kafka::log::AppendRecord;
use broker_core::kafka::{
    Acks, ErrorCode, IsolationLevel, KafkaEvent, OffsetSpec, PartitionReader, TimestampType, TopicPartition,
};
use broker_core::VirtualTime;

fn at(ms: u64) -> VirtualTime {
    VirtualTime::from_millis(ms)
}

fn rec(ts: i64, key: &str, value: Option<&[u8]>) -> AppendRecord {
    AppendRecord {
        timestamp: ts,
        key: Some(key.as_bytes().to_vec()),
        value: value.map(|v| v.to_vec()),
        headers: vec![],
    }
}

fn send(c: &mut Cluster, t: u64, tp: &TopicPartition, records: Vec<AppendRecord>) -> i64 {
    let req = ProduceRequest {
        partition: tp.clone(),
        acks: Acks::Leader,
        timeout_ms: 30_000,
        records,
        producer: None,
    };
    match c.produce(at(t), &req) {
        ProduceOutcome::Done(Ok(r)) => r.base_offset,
        other => panic!("{other:?}"),
    }
}

fn cluster(settings: ClusterSettings) -> Cluster {
    let mut c = Cluster::new(1, settings);
    c.add_broker(broker_core::kafka::NodeId(1), None).unwrap();
    c
}

fn offsets(c: &mut Cluster, t: u64, tp: &TopicPartition, from: i64) -> Vec<i64> {
    c.fetch(at(t), tp, from, usize::MAX, IsolationLevel::ReadUncommitted)
        .unwrap()
        .iter()
        .map(|r| r.offset)
        .collect()
}

#[test]
fn a_segment_rolls_when_the_next_batch_would_pass_segment_bytes() {
    let mut c = cluster(ClusterSettings::default());
    c.create_topic(at(0), &NewTopic::new("t", 1, 1).config("segment.bytes", "1048576")).unwrap();
    let tp = TopicPartition::new("t", 0);
    // 100-byte batches: 10,485 fill 1,048,500 bytes; the 10,486th would make 1,048,600 > 1,048,576.
    for i in 0..10_486 {
        send(&mut c, 0, &tp, vec![rec(1000, "k", Some(&[7u8; 31]))]);
        if i == 10_484 {
            assert_eq!(c.partition(&tp).unwrap().log.segments().len(), 1);
        }
    }
    let log = &c.partition(&tp).unwrap().log;
    let bases: Vec<i64> = log.segments().iter().map(|s| s.base_offset).collect();
    assert_eq!(bases, vec![0, 10_485]);
    assert_eq!(log.segments()[0].size_bytes, 1_048_500);
    assert!(c
        .take_events()
        .iter()
        .any(|(_, e)| matches!(e, KafkaEvent::SegmentRolled { base_offset: 10_485, .. })));
    c.assert_invariants();
}

#[test]
fn a_segment_rolls_when_its_first_batch_is_older_than_segment_ms() {
    let mut c = cluster(ClusterSettings::default());
    c.create_topic(at(0), &NewTopic::new("t", 1, 1).config("segment.ms", "1000")).unwrap();
    let tp = TopicPartition::new("t", 0);
    send(&mut c, 0, &tp, vec![rec(0, "a", Some(b"1"))]);
    send(&mut c, 1000, &tp, vec![rec(1000, "a", Some(b"2"))]);
    assert_eq!(c.partition(&tp).unwrap().log.segments().len(), 1, "1000 ms is not more than segment.ms");
    send(&mut c, 1001, &tp, vec![rec(1001, "a", Some(b"3"))]);
    let bases: Vec<i64> = c.partition(&tp).unwrap().log.segments().iter().map(|s| s.base_offset).collect();
    assert_eq!(bases, vec![0, 2]);
}

#[test]
fn retention_by_time_deletes_whole_segments_and_rolls_before_deleting_the_active_one() {
    let settings = ClusterSettings { log_retention_check_interval_ms: 1000, ..Default::default() };
    let mut c = cluster(settings);
    let topic = NewTopic::new("t", 1, 1).config("segment.ms", "1000").config("retention.ms", "5000");
    c.create_topic(at(0), &topic).unwrap();
    let tp = TopicPartition::new("t", 0);
    // One record every 600 ms: segments [0,1] [2,3] [4,5] ... (a roll when the first batch is > 1000 ms old).
    for i in 0..10u64 {
        send(&mut c, i * 600, &tp, vec![rec((i * 600) as i64, "k", Some(b"v"))]);
    }
    let bases: Vec<i64> = c.partition(&tp).unwrap().log.segments().iter().map(|s| s.base_offset).collect();
    assert_eq!(bases, vec![0, 2, 4, 6, 8]);
    // Segment [0,1] has largest timestamp 600: deleted at the first check after 5600 ms (6000).
    c.advance_to(at(6000));
    let log = &c.partition(&tp).unwrap().log;
    assert_eq!(log.log_start_offset(), 2);
    assert_eq!(offsets(&mut c, 6000, &tp, 2)[0], 2);
    let e = c.fetch(at(6000), &tp, 1, 10, IsolationLevel::ReadUncommitted).unwrap_err();
    assert_eq!(e.code, ErrorCode::OffsetOutOfRange);
    // Everything expired: the active segment is rolled first, so the log keeps an empty active segment.
    c.advance_to(at(20_000));
    let log = &c.partition(&tp).unwrap().log;
    assert_eq!(log.log_start_offset(), 10);
    assert_eq!(log.log_end_offset(), 10);
    assert_eq!(log.segments().len(), 1);
    assert_eq!(log.segments()[0].base_offset, 10);
    c.assert_invariants();
}

#[test]
fn retention_by_size_deletes_oldest_segments_while_the_rest_still_exceeds_it() {
    let settings = ClusterSettings { log_retention_check_interval_ms: 1000, ..Default::default() };
    let mut c = cluster(settings);
    let topic = NewTopic::new("t", 1, 1).config("segment.ms", "10").config("retention.bytes", "250");
    c.create_topic(at(0), &topic).unwrap();
    let tp = TopicPartition::new("t", 0);
    // Five 100-byte segments of one batch each (each append comes 11 ms after the last).
    for i in 0..5u64 {
        send(&mut c, i * 11, &tp, vec![rec((i * 11) as i64, "k", Some(&[0u8; 31]))]);
    }
    assert_eq!(c.partition(&tp).unwrap().log.size_bytes(), 500);
    c.advance_to(at(1000));
    // 500 - 250 = 250 over: two whole segments (200 bytes) go, a third would leave less than needed.
    let log = &c.partition(&tp).unwrap().log;
    assert_eq!(log.log_start_offset(), 2);
    assert_eq!(log.size_bytes(), 300);
    let deleted: Vec<String> = c
        .take_events()
        .into_iter()
        .filter(|(_, e)| e.kind() == "SegmentsDeleted")
        .map(|(_, e)| e.to_string())
        .collect();
    assert_eq!(deleted, vec!["SegmentsDeleted t-0 segments=2 log_start_offset=2 reason=retention.bytes"]);
}

#[test]
fn delete_records_moves_the_log_start_and_segments_below_it_go_at_the_next_check() {
    let settings = ClusterSettings { log_retention_check_interval_ms: 1000, ..Default::default() };
    let mut c = cluster(settings);
    c.create_topic(at(0), &NewTopic::new("t", 1, 1).config("segment.ms", "10")).unwrap();
    let tp = TopicPartition::new("t", 0);
    for i in 0..4u64 {
        send(&mut c, i * 11, &tp, vec![rec(0, "k", Some(b"v")), rec(0, "k", Some(b"w"))]);
    }
    assert_eq!(c.delete_records(at(100), &tp, 9).unwrap_err().code, ErrorCode::OffsetOutOfRange);
    assert_eq!(c.delete_records(at(100), &tp, 5).unwrap(), 5);
    assert_eq!(c.list_offset(&tp, OffsetSpec::Earliest, IsolationLevel::ReadUncommitted).unwrap(), Some(5));
    assert_eq!(offsets(&mut c, 100, &tp, 5), vec![5, 6, 7]);
    assert_eq!(c.partition(&tp).unwrap().log.segments().len(), 4);
    c.advance_to(at(1000));
    let bases: Vec<i64> = c.partition(&tp).unwrap().log.segments().iter().map(|s| s.base_offset).collect();
    assert_eq!(bases, vec![4, 6], "segments wholly below offset 5 are deleted");
    c.assert_invariants();
}

#[test]
fn compaction_keeps_the_latest_value_per_key_with_offset_gaps_and_tombstones_for_delete_retention_ms() {
    let settings = ClusterSettings { log_cleaner_backoff_ms: 1000, ..Default::default() };
    let mut c = cluster(settings);
    let topic = NewTopic::new("t", 1, 1)
        .config("cleanup.policy", "compact")
        .config("segment.ms", "100")
        .config("delete.retention.ms", "5000");
    c.create_topic(at(0), &topic).unwrap();
    let tp = TopicPartition::new("t", 0);
    // offsets: 0 a=1, 1 b=1, 2 a=2 | 3 c=1, 4 a=3, 5 b=null | 6 d=1 (active)
    send(&mut c, 0, &tp, vec![rec(0, "a", Some(b"1")), rec(0, "b", Some(b"1")), rec(0, "a", Some(b"2"))]);
    send(&mut c, 200, &tp, vec![rec(200, "c", Some(b"1")), rec(200, "a", Some(b"3")), rec(200, "b", None)]);
    send(&mut c, 400, &tp, vec![rec(400, "d", Some(b"1"))]);
    c.advance_to(at(1000));
    let got: Vec<(i64, String, Option<String>)> = c
        .fetch(at(1000), &tp, 0, 100, IsolationLevel::ReadUncommitted)
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.offset,
                String::from_utf8(r.key.unwrap()).unwrap(),
                r.value.map(|v| String::from_utf8(v).unwrap()),
            )
        })
        .collect();
    let want = vec![
        (3, "c".to_string(), Some("1".to_string())),
        (4, "a".to_string(), Some("3".to_string())),
        (5, "b".to_string(), None),
        (6, "d".to_string(), Some("1".to_string())),
    ];
    assert_eq!(got, want, "older values removed, offsets kept, the active segment untouched");
    assert_eq!(c.partition(&tp).unwrap().log.cleaner_checkpoint(), 6);
    // More dirty data so the cleaner runs again: the tombstone stays until 1000 + 5000 ms.
    send(&mut c, 1100, &tp, vec![rec(1100, "e", Some(b"1"))]);
    send(&mut c, 1300, &tp, vec![rec(1300, "f", Some(b"1"))]);
    c.advance_to(at(2000));
    assert!(offsets(&mut c, 2000, &tp, 0).contains(&5));
    // Enough new dirty segments to pass min.cleanable.dirty.ratio (0.5) again.
    for (i, key) in ["g", "h", "i", "j", "k", "l", "m"].iter().enumerate() {
        let t = 6100 + 120 * i as u64;
        send(&mut c, t, &tp, vec![rec(t as i64, key, Some(b"1"))]);
    }
    c.advance_to(at(7000));
    assert!(!offsets(&mut c, 7000, &tp, 0).contains(&5), "the tombstone is gone after delete.retention.ms");
    c.assert_invariants();
}

#[test]
fn the_cleaner_waits_for_min_cleanable_dirty_ratio() {
    let settings = ClusterSettings { log_cleaner_backoff_ms: 1000, ..Default::default() };
    let mut c = cluster(settings);
    let topic = NewTopic::new("t", 1, 1)
        .config("cleanup.policy", "compact")
        .config("segment.ms", "100")
        .config("min.cleanable.dirty.ratio", "0.9");
    c.create_topic(at(0), &topic).unwrap();
    let tp = TopicPartition::new("t", 0);
    send(&mut c, 0, &tp, vec![rec(0, "a", Some(b"1")), rec(0, "a", Some(b"2"))]);
    send(&mut c, 200, &tp, vec![rec(200, "b", Some(b"1"))]);
    c.advance_to(at(1000));
    assert_eq!(offsets(&mut c, 1000, &tp, 0), vec![1, 2], "the first pass: everything is dirty");
    // Now clean part [0..2) is small; one new dirty segment with 2 of 3 segments' bytes dirty (< 0.9).
    send(&mut c, 1100, &tp, vec![rec(1100, "b", Some(b"2"))]);
    send(&mut c, 1300, &tp, vec![rec(1300, "c", Some(b"1"))]);
    c.advance_to(at(2000));
    assert_eq!(offsets(&mut c, 2000, &tp, 0), vec![1, 2, 3, 4], "not dirty enough: nothing cleaned");
}

#[test]
fn log_append_time_replaces_the_producers_timestamp() {
    let mut c = cluster(ClusterSettings::default());
    c.create_topic(at(0), &NewTopic::new("la", 1, 1).config("message.timestamp.type", "LogAppendTime"))
        .unwrap();
    c.create_topic(at(0), &NewTopic::new("ct", 1, 1)).unwrap();
    for topic in ["la", "ct"] {
        let tp = TopicPartition::new(topic, 0);
        send(&mut c, 5000, &tp, vec![rec(42, "k", Some(b"v")), rec(43, "k", Some(b"w"))]);
    }
    let la =
        c.fetch(at(5000), &TopicPartition::new("la", 0), 0, 10, IsolationLevel::ReadUncommitted).unwrap();
    assert_eq!(
        la.iter().map(|r| (r.timestamp, r.timestamp_type)).collect::<Vec<_>>(),
        vec![(5000, TimestampType::LogAppendTime); 2]
    );
    let ct =
        c.fetch(at(5000), &TopicPartition::new("ct", 0), 0, 10, IsolationLevel::ReadUncommitted).unwrap();
    assert_eq!(
        ct.iter().map(|r| (r.timestamp, r.timestamp_type)).collect::<Vec<_>>(),
        vec![(42, TimestampType::CreateTime), (43, TimestampType::CreateTime)]
    );
    let tp = TopicPartition::new("ct", 0);
    assert_eq!(
        c.list_offset(&tp, OffsetSpec::ForTimestamp(43), IsolationLevel::ReadUncommitted).unwrap(),
        Some(1)
    );
    assert_eq!(
        c.list_offset(&tp, OffsetSpec::ForTimestamp(44), IsolationLevel::ReadUncommitted).unwrap(),
        None
    );
}

/// Engine bytes per stored record beyond its key, value and headers (the goal: at most 40), for
/// records batched ten to a batch as a loaded producer sends them, and for one record per batch.
fn overhead_per_record(per_batch: usize, records: usize) -> f64 {
    let mut c = cluster(ClusterSettings::default());
    c.create_topic(at(0), &NewTopic::new("m", 1, 1)).unwrap();
    let tp = TopicPartition::new("m", 0);
    let mut payload = 0usize;
    for b in 0..records / per_batch {
        let batch: Vec<AppendRecord> = (0..per_batch)
            .map(|i| {
                let n = b * per_batch + i;
                let key = format!("key{n:05}");
                let value = vec![(n % 251) as u8; 100];
                payload += key.len() + value.len();
                AppendRecord {
                    timestamp: n as i64,
                    key: Some(key.into_bytes()),
                    value: Some(value),
                    headers: vec![],
                }
            })
            .collect();
        send(&mut c, 0, &tp, batch);
    }
    let heap = c.partition(&tp).unwrap().log.heap_bytes();
    (heap - payload) as f64 / records as f64
}

#[test]
fn stored_records_cost_at_most_40_bytes_each_beyond_their_payload() {
    let batched = overhead_per_record(10, 100_000);
    assert!(batched <= 40.0, "{batched:.1} bytes per record in batches of 10");
    // One record per batch (linger.ms=0 without load) pays a whole 24-byte batch header each.
    let single = overhead_per_record(1, 20_000);
    assert!(single <= 40.0, "{single:.1} bytes per record in batches of 1");
    println!("overhead per record: {batched:.1} bytes (batches of 10), {single:.1} bytes (batches of 1)");
}

#[test]
fn create_time_is_checked_against_the_leaders_clock_as_kafka_4_1_checks_it() {
    // tests/kafka/timestamps_probe.golden: the broker's clock was 1796550234914 ms, the client's when it
    // stamped the records 1796550234844 ms.
    let broker_now = 1_796_550_234_914u64;
    let client_now = 1_796_550_234_844i64;
    let mut c = cluster(ClusterSettings::default());
    c.create_topic(at(broker_now), &NewTopic::new("ts", 1, 1)).unwrap();
    let mut out = Vec::new();
    let configs = c.describe_configs("ts").unwrap();
    for k in ["message.timestamp.after.max.ms", "message.timestamp.before.max.ms"] {
        out.push(format!("default {k} => {}", configs.iter().find(|e| e.name == k).unwrap().value));
    }
    let tp = TopicPartition::new("ts", 0);
    for d in [7_200_000i64, -8_640_000_000] {
        let req = ProduceRequest {
            partition: tp.clone(),
            acks: Acks::All,
            timeout_ms: 30_000,
            records: vec![rec(client_now + d, "k", Some(b"v"))],
            producer: None,
        };
        let line = match c.produce(at(broker_now), &req) {
            ProduceOutcome::Done(Ok(r)) => format!("offset {}", r.base_offset),
            ProduceOutcome::Done(Err(e)) => e.to_string(),
            other => panic!("{other:?}"),
        };
        out.push(format!("send now{}{d} => {line}", if d >= 0 { "+" } else { "" }));
    }
    let golden: Vec<&str> = include_str!("kafka/timestamps_probe.golden").lines().collect();
    assert_eq!(out, golden);
}

#[test]
fn compact_delete_both_cleans_and_deletes_old_segments() {
    let settings = ClusterSettings {
        log_cleaner_backoff_ms: 1000,
        log_retention_check_interval_ms: 1000,
        ..Default::default()
    };
    let mut c = cluster(settings);
    let topic = NewTopic::new("t", 1, 1)
        .config("cleanup.policy", "compact,delete")
        .config("segment.ms", "100")
        .config("retention.ms", "10000");
    c.create_topic(at(0), &topic).unwrap();
    let tp = TopicPartition::new("t", 0);
    send(&mut c, 0, &tp, vec![rec(0, "a", Some(b"1")), rec(0, "a", Some(b"2"))]);
    send(&mut c, 200, &tp, vec![rec(200, "b", Some(b"1"))]);
    c.advance_to(at(1000));
    assert_eq!(offsets(&mut c, 1000, &tp, 0), vec![1, 2], "compacted: a=1 is gone");
    send(&mut c, 2000, &tp, vec![rec(2000, "c", Some(b"1"))]);
    // Segments whose newest record is more than 10,000 ms old go: [0..2) and [2] at 11,000, not [3].
    c.advance_to(at(11_000));
    assert_eq!(c.partition(&tp).unwrap().log.log_start_offset(), 3);
    assert_eq!(offsets(&mut c, 11_000, &tp, 3), vec![3]);
    c.assert_invariants();
}
