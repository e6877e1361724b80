//! The producer client: partitioning, linger and batch size, retries with and without idempotence,
//! delivery timeout, transactions. Expected values come from Kafka's own vectors (murmur2, UtilsTest),
//! messages read from the kafka-clients 4.1.1 jar, and the documented rules.

use broker_core::kafka::cluster::{AlterConfigOp, Cluster, NewTopic};
use broker_core::kafka::partitioner::{murmur2, to_positive};
use broker_core::kafka::producer::{KafkaProducer, ProducerConfig, ProducerError};
use broker_core::kafka::{
    Acks, ErrorCode, IsolationLevel, KafkaEvent, NodeId, OffsetAndMetadata, PartitionReader, ProducerRecord,
    TopicPartition,
};
use broker_core::VirtualTime;

fn at(ms: u64) -> VirtualTime {
    VirtualTime::from_millis(ms)
}

fn record(topic: &str, key: Option<&str>, value: &str) -> ProducerRecord {
    ProducerRecord {
        topic: topic.into(),
        partition: None,
        timestamp: None,
        key: key.map(|k| k.as_bytes().to_vec()),
        value: Some(value.as_bytes().to_vec()),
        headers: vec![],
    }
}

fn appended(c: &mut Cluster) -> Vec<String> {
    c.take_events()
        .into_iter()
        .filter(|(_, e)| e.kind() == "RecordsAppended")
        .map(|(t, e)| format!("{} {e}", t.as_millis()))
        .collect()
}

#[test]
fn keyed_records_go_to_murmur2_partitions() {
    let mut c = Cluster::with_brokers(1, 1);
    c.create_topic(at(0), &NewTopic::new("t", 7, 1)).unwrap();
    let mut p = KafkaProducer::new(ProducerConfig::default(), 1).unwrap();
    let keys = ["21", "foobar", "a-little-bit-long-string", "abc"];
    for k in keys {
        p.send(&mut c, at(0), record("t", Some(k), "v")).unwrap();
    }
    p.advance_to(&mut c, at(100));
    let mut results = p.take_results();
    results.sort_by_key(|r| r.id);
    // murmur2 values from Kafka's UtilsTest: -973932308, -790332482, -985981536, 479470107.
    let want: Vec<i32> = [-973_932_308i32, -790_332_482, -985_981_536, 479_470_107]
        .iter()
        .map(|&h| (h & 0x7fff_ffff) % 7)
        .collect();
    let got: Vec<i32> = results.iter().map(|r| r.result.as_ref().unwrap().partition.partition).collect();
    assert_eq!(got, want);
    assert_eq!(to_positive(murmur2(b"21")) % 7, want[0]);
}

#[test]
fn records_linger_into_one_batch_and_a_full_batch_goes_at_once() {
    let mut c = Cluster::with_brokers(1, 1);
    c.create_topic(at(0), &NewTopic::new("t", 1, 1)).unwrap();
    c.take_events();
    let config = ProducerConfig { linger_ms: 10, batch_size: 200, ..Default::default() };
    let mut p = KafkaProducer::new(config, 1).unwrap();
    p.send(&mut c, at(0), record("t", Some("k"), "a")).unwrap();
    p.send(&mut c, at(4), record("t", Some("k"), "b")).unwrap();
    p.advance_to(&mut c, at(9));
    assert!(appended(&mut c).is_empty(), "still lingering");
    p.advance_to(&mut c, at(10));
    assert_eq!(appended(&mut c), vec!["10 RecordsAppended t-0 base_offset=0 count=2"]);
    // Key "k" with a 70-byte value is a 78-byte record: 61 + 78 = 139 fits batch.size=200, a second one
    // (217) does not, so the first batch closes and is sent at once.
    let big = "x".repeat(70);
    p.send(&mut c, at(20), record("t", Some("k"), &big)).unwrap();
    p.send(&mut c, at(21), record("t", Some("k"), &big)).unwrap();
    assert_eq!(appended(&mut c), vec!["21 RecordsAppended t-0 base_offset=2 count=1"]);
    p.flush(&mut c, at(22));
    assert_eq!(appended(&mut c), vec!["22 RecordsAppended t-0 base_offset=3 count=1"]);
}

#[test]
fn records_without_key_stick_to_a_partition_for_batch_size_bytes() {
    let mut c = Cluster::with_brokers(1, 1);
    c.create_topic(at(0), &NewTopic::new("t", 4, 1)).unwrap();
    let config = ProducerConfig { batch_size: 300, linger_ms: 0, ..Default::default() };
    let mut p = KafkaProducer::new(config, 42).unwrap();
    for i in 0..40u64 {
        p.send(&mut c, at(i), record("t", None, &"v".repeat(20))).unwrap();
    }
    p.advance_to(&mut c, at(100));
    let parts: Vec<i32> =
        p.take_results().iter().map(|r| r.result.as_ref().unwrap().partition.partition).collect();
    // Each record adds 27 bytes (1 length + 26 body): 12 records reach 324 ≥ 300, then a new draw.
    for run in parts.chunks(12) {
        assert!(run.iter().all(|&x| x == run[0]), "{parts:?}");
    }
    let distinct: std::collections::BTreeSet<i32> = parts.iter().copied().collect();
    assert!(distinct.len() > 1, "{parts:?}");
}

fn retry_scenario(idempotent: bool) -> (Vec<String>, Vec<i64>) {
    let mut c = Cluster::with_brokers(3, 3);
    c.create_topic(at(0), &NewTopic::new("t", 1, 3)).unwrap();
    let tp = TopicPartition::new("t", 0);
    let slow = c.partition(&tp).unwrap().replicas[2];
    // Slower than request.timeout.ms, faster than replica.lag.time.max.ms: the leader times the request
    // out while the follower stays in the ISR, and the producer retries a batch already written.
    c.set_follower_delay(at(0), slow, 20_000);
    let config = ProducerConfig {
        enable_idempotence: Some(idempotent),
        request_timeout_ms: 10_000,
        linger_ms: 0,
        ..Default::default()
    };
    let mut p = KafkaProducer::new(config, 1).unwrap();
    p.send(&mut c, at(0), record("t", Some("k"), "once")).unwrap();
    p.advance_to(&mut c, at(60_000));
    let results: Vec<i64> = p.take_results().iter().map(|r| r.result.as_ref().unwrap().offset).collect();
    let values: Vec<String> = c
        .fetch(at(60_000), &tp, 0, 10, IsolationLevel::ReadUncommitted)
        .unwrap()
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap()).unwrap())
        .collect();
    c.assert_invariants();
    (values, results)
}

#[test]
fn a_retried_batch_is_written_twice_without_idempotence_and_once_with_it() {
    let (values, offsets) = retry_scenario(false);
    assert_eq!(values, vec!["once", "once"], "the retry was appended again");
    assert_eq!(offsets, vec![1]);
    let (values, offsets) = retry_scenario(true);
    assert_eq!(values, vec!["once"], "the leader recognised the sequence number");
    assert_eq!(offsets, vec![0], "answered with the first write's offset");
}

#[test]
fn records_for_an_offline_partition_expire_after_delivery_timeout() {
    let mut c = Cluster::with_brokers(1, 1);
    c.create_topic(at(0), &NewTopic::new("t", 1, 1)).unwrap();
    c.broker_down(at(0), NodeId(1)).unwrap();
    let mut p = KafkaProducer::new(ProducerConfig::default(), 1).unwrap();
    p.send(&mut c, at(1), record("t", Some("k"), "v")).unwrap();
    p.advance_to(&mut c, at(200_000));
    let r = p.take_results();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].at, at(120_001));
    assert_eq!(
        r[0].result.clone().unwrap_err().to_string(),
        "TimeoutException: Expiring 1 record(s) for t-0:120000 ms has passed since batch creation"
    );
}

#[test]
fn idempotence_conflicts_are_the_java_clients_config_exceptions() {
    let e = KafkaProducer::new(
        ProducerConfig { acks: Acks::Leader, enable_idempotence: Some(true), ..Default::default() },
        1,
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "ConfigException: Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.");
    let p = KafkaProducer::new(ProducerConfig { acks: Acks::Leader, ..Default::default() }, 1).unwrap();
    assert!(!p.is_idempotent(), "acks=1 without an explicit setting turns idempotence off");
    let e = KafkaProducer::new(
        ProducerConfig {
            enable_idempotence: Some(false),
            transactional_id: Some("tx".into()),
            ..Default::default()
        },
        1,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ConfigException: Cannot set a transactional.id without also enabling idempotence."
    );
}

fn txn_cluster() -> Cluster {
    let mut c = Cluster::with_brokers(1, 1);
    c.create_topic(at(0), &NewTopic::new("t", 2, 1)).unwrap();
    c
}

fn read(c: &mut Cluster, t: u64, p: i32, isolation: IsolationLevel) -> Vec<(i64, String)> {
    c.fetch(at(t), &TopicPartition::new("t", p), 0, 100, isolation)
        .unwrap()
        .into_iter()
        .map(|r| (r.offset, String::from_utf8(r.value.unwrap()).unwrap()))
        .collect()
}

#[test]
fn read_committed_sees_a_transaction_only_once_committed_and_never_an_aborted_one() {
    let mut c = txn_cluster();
    let config = ProducerConfig { transactional_id: Some("tx".into()), ..Default::default() };
    let mut p = KafkaProducer::new(config, 1).unwrap();
    // Before initTransactions the send fails, but Kafka 4.1's client writes the record all the same
    // (tests/scenarios/kafka/producer-acks-and-config, line 32); partition 1 here, out of the way.
    let mut early = record("t", Some("k"), "early");
    early.partition = Some(1);
    let e = p.send(&mut c, at(0), early).unwrap_err();
    assert_eq!(
        e.to_string(),
        "IllegalStateException: Cannot add partition t-1 to transaction before completing a call to initTransactions"
    );
    assert_eq!(read(&mut c, 0, 1, IsolationLevel::ReadCommitted), vec![(0, "early".into())]);
    assert!(p.take_results().is_empty(), "its result was the send's error");
    p.init_transactions(&mut c, at(0)).unwrap();
    p.begin_transaction().unwrap();
    let mut rec = record("t", Some("k"), "a");
    rec.partition = Some(0);
    p.send(&mut c, at(1), rec).unwrap();
    p.send_offsets_to_transaction(
        "g",
        vec![(TopicPartition::new("in", 0), OffsetAndMetadata { offset: 7, metadata: String::new() })],
    )
    .unwrap();
    p.advance_to(&mut c, at(20));
    assert_eq!(read(&mut c, 20, 0, IsolationLevel::ReadUncommitted), vec![(0, "a".into())]);
    assert_eq!(read(&mut c, 20, 0, IsolationLevel::ReadCommitted), vec![], "the last stable offset is 0");
    p.commit_transaction(&mut c, at(30)).unwrap();
    let outcome = p.take_transaction_outcomes();
    assert_eq!(outcome.len(), 1);
    assert!(outcome[0].committed);
    assert_eq!(
        outcome[0].offsets,
        vec![(
            "g".to_string(),
            TopicPartition::new("in", 0),
            OffsetAndMetadata { offset: 7, metadata: String::new() }
        )]
    );
    assert_eq!(read(&mut c, 30, 0, IsolationLevel::ReadCommitted), vec![(0, "a".into())]);
    // An aborted transaction: the records stay in the log, hidden from read_committed; the markers take offsets.
    p.begin_transaction().unwrap();
    let mut rec = record("t", Some("k"), "b");
    rec.partition = Some(0);
    p.send(&mut c, at(40), rec).unwrap();
    p.send_offsets_to_transaction(
        "g",
        vec![(TopicPartition::new("in", 0), OffsetAndMetadata { offset: 9, metadata: String::new() })],
    )
    .unwrap();
    p.advance_to(&mut c, at(50));
    p.abort_transaction(&mut c, at(60)).unwrap();
    let outcome = p.take_transaction_outcomes();
    assert!(!outcome[0].committed && outcome[0].offsets.is_empty());
    let mut rec = record("t", Some("k"), "c");
    rec.partition = Some(0);
    p.begin_transaction().unwrap();
    p.send(&mut c, at(70), rec).unwrap();
    p.commit_transaction(&mut c, at(80)).unwrap();
    p.advance_to(&mut c, at(100));
    assert_eq!(
        read(&mut c, 100, 0, IsolationLevel::ReadUncommitted),
        vec![(0, "a".into()), (2, "b".into()), (4, "c".into())]
    );
    assert_eq!(read(&mut c, 100, 0, IsolationLevel::ReadCommitted), vec![(0, "a".into()), (4, "c".into())]);
    let markers: Vec<String> = c
        .take_events()
        .into_iter()
        .filter(|(_, e)| matches!(e, KafkaEvent::TransactionMarkerWritten { .. }))
        .map(|(_, e)| e.to_string())
        .collect();
    assert_eq!(
        markers,
        vec![
            "TransactionMarkerWritten t-0 producer_id=0 marker=COMMIT offset=1",
            "TransactionMarkerWritten t-0 producer_id=0 marker=ABORT offset=3",
            "TransactionMarkerWritten t-0 producer_id=0 marker=COMMIT offset=5",
        ]
    );
    c.assert_invariants();
}

#[test]
fn unsent_records_of_an_aborted_transaction_fail_and_a_new_producer_fences_the_old_one() {
    let mut c = txn_cluster();
    let config = ProducerConfig { transactional_id: Some("tx".into()), linger_ms: 50, ..Default::default() };
    let mut old = KafkaProducer::new(config.clone(), 1).unwrap();
    old.init_transactions(&mut c, at(0)).unwrap();
    old.begin_transaction().unwrap();
    old.send(&mut c, at(1), record("t", Some("k"), "lingering")).unwrap();
    old.abort_transaction(&mut c, at(2)).unwrap();
    let r = old.take_results();
    assert_eq!(r[0].result.clone().unwrap_err(), ProducerError::TransactionAborted);
    assert_eq!(
        r[0].result.clone().unwrap_err().to_string(),
        "TransactionAbortedException: Failing batch since transaction was aborted"
    );
    old.begin_transaction().unwrap();
    let mut new = KafkaProducer::new(config, 2).unwrap();
    new.init_transactions(&mut c, at(10)).unwrap();
    assert_eq!(new.producer_id_and_epoch(), (0, 1));
    let e = old.send(&mut c, at(11), record("t", Some("k"), "zombie")).unwrap_err();
    assert_eq!(e, ProducerError::Kafka(broker_core::kafka::KafkaError::new(ErrorCode::ProducerFenced)));
    let _ = AlterConfigOp { name: String::new(), value: None };
}

fn in_flight_scenario(max_in_flight: usize, idempotent: bool) -> (Vec<String>, Vec<String>) {
    let mut c = Cluster::with_brokers(3, 3);
    c.create_topic(at(0), &NewTopic::new("t", 1, 3)).unwrap();
    let tp = TopicPartition::new("t", 0);
    let leader = c.partition(&tp).unwrap().leader.unwrap();
    c.take_events();
    let config = ProducerConfig {
        linger_ms: 0,
        max_in_flight_requests_per_connection: max_in_flight,
        enable_idempotence: Some(idempotent),
        ..Default::default()
    };
    let mut p = KafkaProducer::new(config, 1).unwrap();
    for v in ["a", "b", "c"] {
        p.send(&mut c, at(0), record("t", Some("k"), v)).unwrap();
    }
    let sent_at_once = appended(&mut c);
    // The leader fails before its followers fetched: everything in flight is lost and retried.
    c.broker_down(at(0), leader).unwrap();
    p.advance_to(&mut c, at(10_000));
    assert_eq!(p.unanswered(), 0);
    let values = c
        .fetch(at(10_000), &tp, 0, 10, IsolationLevel::ReadUncommitted)
        .unwrap()
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap()).unwrap())
        .collect();
    c.assert_invariants();
    (sent_at_once, values)
}

#[test]
fn max_in_flight_caps_the_batches_outstanding_and_retries_keep_the_order() {
    let (sent, values) = in_flight_scenario(1, false);
    assert_eq!(sent, vec!["0 RecordsAppended t-0 base_offset=0 count=1"], "one request at a time");
    assert_eq!(values, vec!["a", "b", "c"]);
    // Without idempotence each failed batch is put back at the head of its partition's queue
    // (RecordAccumulator.reenqueue's addFirst): three batches failing together come back reversed —
    // the reordering Kafka's documentation warns of for max.in.flight > 1 without idempotence.
    let (sent, values) = in_flight_scenario(5, false);
    assert_eq!(sent.len(), 3, "three requests outstanding: {sent:?}");
    assert_eq!(values, vec!["c", "b", "a"]);
    let (sent, values) = in_flight_scenario(5, true);
    assert_eq!(sent.len(), 3);
    assert_eq!(values, vec!["a", "b", "c"], "retried in sequence order on the new leader");
}

#[test]
fn transactions_take_offsets_for_their_markers_as_on_a_real_broker() {
    // tests/kafka/transactions_probe.golden: commit "a", abort "b", commit "c" on a one-partition topic.
    let mut c = Cluster::with_brokers(1, 1);
    c.create_topic(at(0), &NewTopic::new("tx", 1, 1)).unwrap();
    let config = ProducerConfig { transactional_id: Some("probe-tx".into()), ..Default::default() };
    let mut p = KafkaProducer::new(config, 1).unwrap();
    p.init_transactions(&mut c, at(0)).unwrap();
    let mut out = Vec::new();
    let mut t = 10;
    for (value, commit) in [("a", true), ("b", false), ("c", true)] {
        p.begin_transaction().unwrap();
        let mut r = record("tx", Some("k"), value);
        r.partition = Some(0);
        p.send(&mut c, at(t), r).unwrap();
        p.advance_to(&mut c, at(t + 10));
        let offset = p.take_results()[0].result.as_ref().unwrap().offset;
        out.push(format!("send {value} => offset {offset}"));
        if commit {
            p.commit_transaction(&mut c, at(t + 20)).unwrap();
        } else {
            p.abort_transaction(&mut c, at(t + 20)).unwrap();
        }
        t += 100;
    }
    let tp = TopicPartition::new("tx", 0);
    for (name, iso) in [
        ("read_uncommitted", IsolationLevel::ReadUncommitted),
        ("read_committed", IsolationLevel::ReadCommitted),
    ] {
        let seen: String = c
            .fetch(at(t), &tp, 0, 100, iso)
            .unwrap()
            .iter()
            .map(|r| format!(" {}:{}", r.offset, String::from_utf8(r.value.clone().unwrap()).unwrap()))
            .collect();
        let end = c.list_offset(&tp, broker_core::kafka::OffsetSpec::Latest, iso).unwrap().unwrap();
        out.push(format!("{name} =>{seen} end {end}"));
    }
    let golden: Vec<&str> = include_str!("kafka/transactions_probe.golden").lines().collect();
    assert_eq!(out, golden);
}

#[test]
fn send_refuses_what_the_java_client_refuses() {
    // Messages read from the kafka-clients 4.1.1 jar (ProducerRecord, KafkaProducer).
    let mut c = Cluster::with_brokers(1, 1);
    c.create_topic(at(0), &NewTopic::new("t", 2, 1)).unwrap();
    let mut p = KafkaProducer::new(ProducerConfig::default(), 1).unwrap();
    let mut r = record("t", None, "v");
    r.partition = Some(-1);
    assert_eq!(
        p.send(&mut c, at(0), r).unwrap_err().to_string(),
        "IllegalArgumentException: Invalid partition: -1. Partition number should always be non-negative or null."
    );
    let mut r = record("t", None, "v");
    r.partition = Some(5);
    assert_eq!(
        p.send(&mut c, at(0), r).unwrap_err().to_string(),
        "TimeoutException: Partition 5 of topic t with partition count 2 is not present in metadata after 60000 ms."
    );
    assert_eq!(
        p.send(&mut c, at(0), record("nope", None, "v")).unwrap_err().to_string(),
        "TimeoutException: Topic nope not present in metadata after 60000 ms."
    );
    // The Java client's upper bound (DefaultRecordBatch.estimateBatchSizeUpperBound): 61 + 21 (record
    // overhead at its widest) + 1 (null key) + 4 + 1,048,576 (value) + 1 (no headers) = 1,048,664.
    let big = "x".repeat(1_048_576);
    let e = p.send(&mut c, at(0), record("t", None, &big)).unwrap_err().to_string();
    assert_eq!(
        e,
        "RecordTooLargeException: The message is 1048664 bytes when serialized which is larger than 1048576, which is the value of the max.request.size configuration."
    );
}

#[test]
fn acks_0_counts_a_send_done_once_sent_even_when_the_leader_refused_it() {
    let mut c = Cluster::with_brokers(1, 1);
    c.create_topic(at(0), &NewTopic::new("t", 1, 1).config("max.message.bytes", "100")).unwrap();
    let config = ProducerConfig { acks: Acks::None, linger_ms: 0, ..Default::default() };
    let mut p = KafkaProducer::new(config, 1).unwrap();
    p.send(&mut c, at(0), record("t", Some("k"), "small")).unwrap();
    p.send(&mut c, at(1), record("t", Some("k"), &"x".repeat(200))).unwrap();
    p.advance_to(&mut c, at(10));
    let offsets: Vec<i64> = p.take_results().iter().map(|r| r.result.as_ref().unwrap().offset).collect();
    assert_eq!(offsets, vec![-1, -1], "RecordMetadata.offset() is -1 without acknowledgements");
    assert_eq!(
        c.partition(&TopicPartition::new("t", 0)).unwrap().log.log_end_offset(),
        1,
        "the large one was dropped"
    );
}

#[test]
fn an_idempotent_producer_bumps_its_epoch_after_a_batch_expires_and_goes_on() {
    // The real Kafka 4.1.1 with its Java client: tests/scenarios/kafka/idempotent-after-delivery-timeout.
    let mut c = Cluster::with_brokers(1, 3);
    c.create_topic(at(0), &NewTopic::new("t", 1, 3).config("min.insync.replicas", "3")).unwrap();
    c.broker_down(at(0), NodeId(3)).unwrap();
    let config = ProducerConfig { request_timeout_ms: 1000, delivery_timeout_ms: 3000, ..Default::default() };
    let mut p = KafkaProducer::new(config, 1).unwrap();
    p.send(&mut c, at(1), record("t", Some("k"), "refused")).unwrap();
    p.advance_to(&mut c, at(5000));
    let r = p.take_results();
    assert_eq!(r.len(), 1);
    assert!(r[0]
        .result
        .clone()
        .unwrap_err()
        .to_string()
        .starts_with("TimeoutException: Expiring 1 record(s)"));
    let (id, epoch) = p.producer_id_and_epoch();
    assert_eq!(epoch, 1, "bumped once nothing is in flight");
    c.broker_up(at(5000), NodeId(3)).unwrap();
    p.advance_to(&mut c, at(6000));
    p.send(&mut c, at(6000), record("t", Some("k"), "a")).unwrap();
    p.send(&mut c, at(6001), record("t", Some("k"), "b")).unwrap();
    p.advance_to(&mut c, at(10_000));
    let offsets: Vec<i64> = p.take_results().into_iter().map(|r| r.result.unwrap().offset).collect();
    assert_eq!(offsets, vec![0, 1]);
    assert_eq!(p.producer_id_and_epoch(), (id, 1), "same producer id, one bump, sequences from 0");
    c.assert_invariants();
}

/// A producer of transactional id `tid` (timeout `timeout_ms`) with its transaction's first record sent.
fn open_transaction(c: &mut Cluster, tid: &str, timeout_ms: u64, t: u64, value: &str) -> KafkaProducer {
    let config = ProducerConfig {
        transactional_id: Some(tid.into()),
        transaction_timeout_ms: timeout_ms,
        ..Default::default()
    };
    let mut p = KafkaProducer::new(config, 1).unwrap();
    p.init_transactions(c, at(t)).unwrap();
    p.begin_transaction().unwrap();
    let mut r = record("t", Some("k"), value);
    r.partition = Some(0);
    p.send(c, at(t + 1), r).unwrap();
    p.flush(c, at(t + 2));
    p
}

fn send_p0(p: &mut KafkaProducer, c: &mut Cluster, t: u64, value: &str) -> String {
    let mut r = record("t", Some("k"), value);
    r.partition = Some(0);
    p.send(c, at(t), r).unwrap();
    p.flush(c, at(t + 1));
    match &p.take_results().last().unwrap().result {
        Ok(m) => format!("t-0@{}", m.offset),
        Err(e) => e.to_string(),
    }
}

fn last_stable(c: &Cluster) -> i64 {
    c.list_offset(
        &TopicPartition::new("t", 0),
        broker_core::kafka::OffsetSpec::Latest,
        IsolationLevel::ReadCommitted,
    )
    .unwrap()
    .unwrap()
}

#[test]
fn the_coordinator_aborts_a_transaction_open_past_its_timeout_and_the_producer_recovers_by_aborting() {
    // tests/scenarios/kafka/transaction-timeout, as Kafka 4.1.1 answered: transaction.timeout.ms=5000, the
    // coordinator's check every 10 s (transaction.abort.timed.out.transaction.cleanup.interval.ms).
    let mut c = txn_cluster();
    let mut p = open_transaction(&mut c, "payments-writer", 5000, 0, "slow");
    assert_eq!(p.take_results()[0].result.as_ref().unwrap().offset, 0);
    c.advance_to(at(9_999));
    assert_eq!(last_stable(&c), 0, "held by the open transaction before the check");
    c.advance_to(at(10_000));
    assert_eq!(last_stable(&c), 2, "the abort marker (offset 1) releases it");
    assert_eq!(read(&mut c, 10_000, 0, IsolationLevel::ReadCommitted), vec![]);
    assert_eq!(read(&mut c, 10_000, 0, IsolationLevel::ReadUncommitted), vec![(0, "slow".to_string())]);
    assert_eq!(
        send_p0(&mut p, &mut c, 17_000, "late"),
        "InvalidProducerEpochException: Producer attempted to produce with an old epoch."
    );
    assert_eq!(
        p.commit_transaction(&mut c, at(17_010)).unwrap_err().to_string(),
        "InvalidProducerEpochException: Producer with transactionalId 'payments-writer' and (producerId=0, epoch=0) attempted to produce with an old epoch"
    );
    p.abort_transaction(&mut c, at(17_020)).unwrap();
    p.begin_transaction().unwrap();
    assert_eq!(send_p0(&mut p, &mut c, 17_030, "quick"), "t-0@2");
    p.commit_transaction(&mut c, at(17_040)).unwrap();
    p.advance_to(&mut c, at(17_050));
    assert_eq!(last_stable(&c), 4);
    assert_eq!(read(&mut c, 17_050, 0, IsolationLevel::ReadCommitted), vec![(2, "quick".to_string())]);
    c.assert_invariants();
}

#[test]
fn a_transaction_timeout_above_transaction_max_timeout_ms_is_refused_at_init_transactions() {
    let mut c = txn_cluster();
    let config = ProducerConfig {
        transactional_id: Some("greedy".into()),
        transaction_timeout_ms: 900_001,
        ..Default::default()
    };
    let mut p = KafkaProducer::new(config, 1).unwrap();
    // Kafka 4.1.1's client and broker (tests/scenarios/kafka/transaction-timeout, line 19).
    assert_eq!(
        p.init_transactions(&mut c, at(0)).unwrap_err().to_string(),
        "KafkaException: Unexpected error in InitProducerIdResponse; The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms)."
    );
    let config = ProducerConfig {
        transactional_id: Some("patient".into()),
        transaction_timeout_ms: 900_000,
        ..Default::default()
    };
    KafkaProducer::new(config, 1).unwrap().init_transactions(&mut c, at(1)).unwrap();
}

#[test]
fn a_producer_fenced_by_a_newer_one_cannot_recover_by_aborting() {
    // tests/scenarios/kafka/transaction-fencing, as Kafka 4.1.1 answered.
    let mut c = txn_cluster();
    let mut first = open_transaction(&mut c, "auditor", 60_000, 0, "half-1");
    assert_eq!(last_stable(&c), 0);
    let config = ProducerConfig { transactional_id: Some("auditor".into()), ..Default::default() };
    let mut second = KafkaProducer::new(config, 2).unwrap();
    second.init_transactions(&mut c, at(100)).unwrap();
    assert_eq!(last_stable(&c), 2, "the new producer's initTransactions aborted the open transaction");
    assert_eq!(
        send_p0(&mut first, &mut c, 200, "half-2"),
        "InvalidProducerEpochException: Producer attempted to produce with an old epoch."
    );
    assert_eq!(
        first.commit_transaction(&mut c, at(210)).unwrap_err().to_string(),
        "InvalidProducerEpochException: Producer with transactionalId 'auditor' and (producerId=0, epoch=0) attempted to produce with an old epoch"
    );
    assert_eq!(
        first.abort_transaction(&mut c, at(220)).unwrap_err().to_string(),
        "ProducerFencedException: There is a newer producer with the same transactionalId which fences the current one."
    );
    second.begin_transaction().unwrap();
    assert_eq!(send_p0(&mut second, &mut c, 300, "whole-1"), "t-0@2");
    second.commit_transaction(&mut c, at(310)).unwrap();
    second.advance_to(&mut c, at(320));
    assert_eq!(read(&mut c, 320, 0, IsolationLevel::ReadCommitted), vec![(2, "whole-1".to_string())]);
    c.assert_invariants();
}

#[test]
fn the_cleaner_removes_aborted_transactions_records_but_not_the_committed_ones() {
    // tests/scenarios/kafka/compaction-aborted-transactions, as Kafka 4.1.1 cleaned it: aborted alice and
    // bob (0, 1, marker 2), committed alice (3, marker 4), then carol and alice again in a new segment.
    let mut c = Cluster::with_brokers(1, 1);
    let topic = NewTopic::new("t", 1, 1)
        .config("cleanup.policy", "compact")
        .config("segment.ms", "100")
        .config("min.cleanable.dirty.ratio", "0.01");
    c.create_topic(at(0), &topic).unwrap();
    let config = ProducerConfig { transactional_id: Some("accounts-writer".into()), ..Default::default() };
    let mut p = KafkaProducer::new(config, 1).unwrap();
    p.init_transactions(&mut c, at(0)).unwrap();
    p.begin_transaction().unwrap();
    for key in ["alice", "bob"] {
        let mut r = record("t", Some(key), "aborted");
        r.partition = Some(0);
        p.send(&mut c, at(1), r).unwrap();
    }
    p.flush(&mut c, at(2));
    p.abort_transaction(&mut c, at(10)).unwrap();
    p.begin_transaction().unwrap();
    let mut r = record("t", Some("alice"), "v1");
    r.partition = Some(0);
    p.send(&mut c, at(20), r).unwrap();
    p.commit_transaction(&mut c, at(21)).unwrap();
    p.advance_to(&mut c, at(30));
    let all = |c: &mut Cluster, t: u64| -> Vec<(i64, String)> {
        c.fetch(at(t), &TopicPartition::new("t", 0), 0, 100, IsolationLevel::ReadUncommitted)
            .unwrap()
            .into_iter()
            .map(|r| (r.offset, String::from_utf8(r.key.unwrap()).unwrap()))
            .collect()
    };
    assert_eq!(all(&mut c, 30), vec![(0, "alice".into()), (1, "bob".into()), (3, "alice".into())]);
    let mut plain = KafkaProducer::new(ProducerConfig::default(), 2).unwrap();
    for (t, key) in [(600, "carol"), (610, "alice")] {
        let mut r = record("t", Some(key), "v");
        r.partition = Some(0);
        plain.send(&mut c, at(t), r).unwrap();
        plain.flush(&mut c, at(t + 1));
    }
    c.advance_to(at(16_000));
    assert_eq!(
        all(&mut c, 16_000),
        vec![(3, "alice".into()), (5, "carol".into()), (6, "alice".into())],
        "the aborted records are gone; alice@3 stays (alice@6 is in the active segment)"
    );
    c.assert_invariants();
}
