//! Topic administration against a real Kafka 4.1.1 broker's answers: `tests/kafka/admin_probe.golden`
//! was printed by `tests/kafka_probe/Probe.java` on a one-node cluster; this test performs the same
//! operations in the same order on a one-broker engine cluster and prints them the same way.

use broker_core::kafka::cluster::{AlterConfigOp, Cluster, NewTopic, ProduceOutcome, ProduceRequest};
use broker_core::kafka::log::AppendRecord;
use broker_core::kafka::{Acks, KafkaError, TopicPartition};
use broker_core::VirtualTime;

fn res(r: Result<(), KafkaError>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

fn create(
    c: &mut Cluster,
    out: &mut Vec<String>,
    label: &str,
    name: &str,
    parts: Option<i32>,
    rf: Option<i32>,
    configs: &[(&str, &str)],
) {
    let t = NewTopic {
        name: name.into(),
        partitions: parts,
        replication_factor: rf,
        configs: configs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        replica_assignment: Vec::new(),
    };
    out.push(format!("create {label} => {}", res(c.create_topic(VirtualTime::ZERO, &t))));
}

fn produce(c: &mut Cluster, topic: &str, key: &[u8], value: Vec<u8>) -> Result<i64, KafkaError> {
    let req = ProduceRequest {
        partition: TopicPartition::new(topic, 0),
        acks: Acks::All,
        timeout_ms: 30_000,
        records: vec![AppendRecord {
            timestamp: 1000,
            key: Some(key.to_vec()),
            value: Some(value),
            headers: vec![],
        }],
        producer: None,
    };
    match c.produce(VirtualTime::ZERO, &req) {
        ProduceOutcome::Done(r) => r.map(|r| r.base_offset),
        ProduceOutcome::Pending(_) => panic!("a one-broker cluster answers at once"),
    }
}

#[test]
fn admin_operations_answer_as_kafka_4_1_does() {
    let mut c = Cluster::with_brokers(7, 1);
    let mut out = Vec::new();
    let o = &mut out;
    create(&mut c, o, "empty", "", Some(1), None, &[]);
    create(&mut c, o, "dot", ".", Some(1), None, &[]);
    create(&mut c, o, "dotdot", "..", Some(1), None, &[]);
    create(&mut c, o, "space", "bad name", Some(1), None, &[]);
    create(&mut c, o, "slash", "a/b", Some(1), None, &[]);
    create(&mut c, o, "len249", &"a".repeat(249), Some(1), None, &[]);
    create(&mut c, o, "len250", &"b".repeat(250), Some(1), None, &[]);
    create(&mut c, o, "dotted", "my.topic", Some(1), None, &[]);
    create(&mut c, o, "underscored", "my_topic", Some(1), None, &[]);
    create(&mut c, o, "dotted-again", "my.topic", Some(1), None, &[]);
    create(&mut c, o, "parts0", "p0", Some(0), None, &[]);
    create(&mut c, o, "parts-2", "pm2", Some(-2), None, &[]);
    create(&mut c, o, "rf0", "rf0", Some(1), Some(0), &[]);
    create(&mut c, o, "rf2", "rf2", Some(3), Some(2), &[]);
    create(&mut c, o, "rf-2", "rfm2", Some(1), Some(-2), &[]);
    create(&mut c, o, "default", "defaults", None, None, &[]);
    create(&mut c, o, "bad-policy", "c1", Some(1), None, &[("cleanup.policy", "foo")]);
    create(&mut c, o, "unknown-config", "c2", Some(1), None, &[("no.such.config", "1")]);
    create(&mut c, o, "minisr2-rf1", "minisr", Some(1), None, &[("min.insync.replicas", "2")]);
    let alters = [
        ("cleanup.policy", "foo"),
        ("cleanup.policy", "compact,delete"),
        ("cleanup.policy", ""),
        ("retention.ms", "abc"),
        ("retention.ms", "-5"),
        ("retention.ms", "-1"),
        ("retention.bytes", "-7"),
        ("segment.bytes", "100"),
        ("segment.bytes", "1048576"),
        ("segment.bytes", "x"),
        ("segment.ms", "0"),
        ("segment.ms", "1"),
        ("min.insync.replicas", "0"),
        ("min.insync.replicas", "5"),
        ("max.message.bytes", "-1"),
        ("max.message.bytes", "0"),
        ("max.message.bytes", "100"),
        ("message.timestamp.type", "foo"),
        ("message.timestamp.type", "LogAppendTime"),
        ("delete.retention.ms", "-1"),
        ("min.cleanable.dirty.ratio", "2"),
        ("min.cleanable.dirty.ratio", "-0.1"),
        ("min.cleanable.dirty.ratio", "abc"),
        ("unclean.leader.election.enable", "maybe"),
        ("unclean.leader.election.enable", "TRUE"),
        ("no.such.config", "1"),
        ("retention.ms", "1.5"),
        ("retention.ms", " 5"),
        ("segment.bytes", "99999999999"),
    ];
    let at = VirtualTime::ZERO;
    for (k, v) in alters {
        let r = c.alter_configs(at, "defaults", &[AlterConfigOp { name: k.into(), value: Some(v.into()) }]);
        o.push(format!("alter {k}={v} => {}", res(r)));
    }
    let r = c.alter_configs(
        at,
        "nosuch",
        &[AlterConfigOp { name: "retention.ms".into(), value: Some("1".into()) }],
    );
    o.push(format!("alter unknown-topic => {}", res(r)));
    create(&mut c, o, "described", "described", Some(2), None, &[]);
    let entries = c.describe_configs("described").unwrap();
    for k in [
        "cleanup.policy",
        "retention.ms",
        "retention.bytes",
        "segment.bytes",
        "segment.ms",
        "min.insync.replicas",
        "max.message.bytes",
        "message.timestamp.type",
        "delete.retention.ms",
        "min.cleanable.dirty.ratio",
        "unclean.leader.election.enable",
    ] {
        let e = entries.iter().find(|e| e.name == k).unwrap();
        o.push(format!("default {k} => {} ({})", e.value, e.source.name()));
    }
    o.push(format!("describe-configs unknown => {}", res(c.describe_configs("nosuch").map(|_| ()))));
    for n in [2, 1, 3] {
        o.push(format!("partitions described to {n} => {}", res(c.create_partitions(at, "described", n))));
    }
    o.push(format!("partitions nosuch => {}", res(c.create_partitions(at, "nosuch", 4))));
    o.push(format!("partitions to 0 => {}", res(c.create_partitions(at, "described", 0))));
    o.push(format!("delete nosuch => {}", res(c.delete_topic(at, "nosuch"))));
    o.push(format!("describe nosuch => {}", res(c.describe_topic("nosuch").map(|_| ()))));
    create(&mut c, o, "small", "small", Some(1), None, &[("max.message.bytes", "100")]);
    for n in 20..=40 {
        let line = match produce(&mut c, "small", b"k", vec![0; n]) {
            Ok(offset) => format!("offset {offset} size {n}"),
            Err(e) => e.to_string(),
        };
        o.push(format!("send small key=k value={n}B => {line}"));
    }
    for _ in 0..3 {
        produce(&mut c, "described", b"x", b"y".to_vec()).unwrap();
    }
    let line = match produce(&mut c, "minisr", b"x", b"y".to_vec()) {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string(),
    };
    o.push(format!("send minisr acks=all => {line}"));
    let tp = TopicPartition::new("described", 0);
    for d in [5, 4, 3, 1, -1, 0] {
        let line = match c.delete_records(at, &tp, d) {
            Ok(low) => format!("low watermark {low}"),
            Err(e) => e.to_string(),
        };
        o.push(format!("deleteRecords before {d} => {line}"));
    }
    c.assert_invariants();
    let golden = include_str!("kafka/admin_probe.golden");
    let expected: Vec<&str> = golden.lines().collect();
    for (i, (got, want)) in out.iter().zip(expected.iter()).enumerate() {
        assert_eq!(got, want, "line {}", i + 1);
    }
    assert_eq!(out.len(), expected.len());
}

#[test]
fn a_compacted_topic_refuses_a_null_key_as_kafka_does() {
    let mut c = Cluster::with_brokers(1, 1);
    c.create_topic(VirtualTime::ZERO, &NewTopic::new("compacted", 1, 1).config("cleanup.policy", "compact"))
        .unwrap();
    let req = ProduceRequest {
        partition: TopicPartition::new("compacted", 0),
        acks: Acks::All,
        timeout_ms: 30_000,
        records: vec![AppendRecord { timestamp: 0, key: None, value: Some(b"v".to_vec()), headers: vec![] }],
        producer: None,
    };
    let ProduceOutcome::Done(Err(e)) = c.produce(VirtualTime::ZERO, &req) else { panic!("refused") };
    let golden = include_str!("kafka/records_probe.golden");
    assert_eq!(format!("send compacted null key => {e}"), golden.lines().next().unwrap());
}

#[test]
fn replicas_are_placed_rack_aware_and_described() {
    let mut c = Cluster::new(3, Default::default());
    for (id, rack) in [(1, "r1"), (2, "r1"), (3, "r2"), (4, "r2"), (5, "r3"), (6, "r3")] {
        c.add_broker(broker_core::kafka::NodeId(id), Some(rack.into())).unwrap();
    }
    c.create_topic(VirtualTime::ZERO, &NewTopic::new("orders", 6, 3)).unwrap();
    let d = c.describe_topic("orders").unwrap();
    for p in &d.partitions {
        let racks: std::collections::BTreeSet<i32> = p.replicas.iter().map(|r| (r.0 + 1) / 2).collect();
        assert_eq!(racks.len(), 3, "one replica per rack: {p:?}");
        assert_eq!(p.leader, Some(p.replicas[0]));
        assert_eq!(p.isr, p.replicas);
    }
    c.assert_invariants();
}
