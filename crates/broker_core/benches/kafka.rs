//! Criterion benchmarks of the Kafka engine (issue 16, point 7), each beside a plain baseline measured in
//! the same run, so BENCHMARKS.md can give ratios:
//!
//! - `kafka/produce_fetch_commit`: [`BATCH_RECORDS`] records per iteration sent by a `KafkaProducer`
//!   (`acks=1`, the default `linger.ms`/`batch.size`, flushed) to a one-partition topic, polled by a
//!   group consumer and committed with `commitSync`; against `kafka/baseline_vec`, the same records
//!   appended to a `Vec` and read back in order, the position stored as the "commit".
//! - `kafka/assign/<assignor>/{fresh,join}`: one assignment of [`PARTITIONS`] partitions over
//!   [`MEMBERS`] members by each client and server assignor, from nothing (`fresh`) and when a 100th
//!   member joins 99 that own the previous assignment (`join`, what a rebalance computes); against
//!   `kafka/assign/baseline_deal`, partitions dealt round-robin over the members by index into the same
//!   `Assignment` map.
//!
//! Before timing, each benchmark checks its outcome (every record read back and committed; every
//! partition assigned exactly once), so an engine doing nothing cannot pass as fast.
//!
//! Run: `cargo bench -p broker_core --bench kafka` (a criterion filter after `--` picks some).
//! `cargo test --benches` runs each once, as a test.

mod kafka_support;

use broker_core::kafka::producer::{KafkaProducer, ProducerConfig};
use broker_core::kafka::{
    Acks, Assignment, AutoOffsetReset, ClientAssignor, ConsumerConfig, KafkaConsumer, MemberSubscription,
    PartitionCounts, ProducerRecord, ServerAssignor, ServerMember, TopicPartition,
};
use broker_core::VirtualTime;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kafka_support::{cluster_with_topic, Group};
use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::Duration;

/// Every record's value is this long (as the AMQP benches' bodies); keys are null, no headers.
const VALUE_BYTES: usize = 64;
/// Records produced, fetched and committed per timed iteration.
const BATCH_RECORDS: usize = 1_000;
const TOPIC: &str = "bench.orders";
/// The rebalance: this many members over this many partitions (one topic).
const MEMBERS: usize = 100;
const PARTITIONS: i32 = 1_000;

fn value() -> Vec<u8> {
    vec![b'v'; VALUE_BYTES]
}

/// A producer, a cluster and one group consumer, on a virtual clock that moves 10 ms per round.
struct Pipeline {
    cluster: broker_core::kafka::Cluster,
    producer: KafkaProducer,
    group: Group,
    consumer: Vec<KafkaConsumer>,
    now: VirtualTime,
    read: u64,
}

impl Pipeline {
    fn new() -> Self {
        // Retention keeps the log bounded however many iterations criterion runs: segments roll every
        // second of virtual time and go after five, checked every second.
        let mut cluster =
            cluster_with_topic(TOPIC, 1, &[("segment.ms", "1000"), ("retention.ms", "5000")], 1000);
        let config = ProducerConfig { acks: Acks::Leader, ..ProducerConfig::default() };
        let producer = KafkaProducer::new(config, 3).expect("a valid producer config");
        let mut group = Group::new();
        let mut config = ConsumerConfig::new("c1", Some("bench"));
        config.enable_auto_commit = false;
        config.auto_offset_reset = AutoOffsetReset::Earliest;
        config.max_poll_records = BATCH_RECORDS;
        let mut consumer = vec![KafkaConsumer::new(config, 1)];
        consumer[0].subscribe(&[TOPIC]).expect("subscribe");
        let now = group.settle(VirtualTime::ZERO, &mut cluster, &mut consumer);
        Pipeline { cluster, producer, group, consumer, now, read: 0 }
    }

    /// One round: `BATCH_RECORDS` sends, a flush, polls until all are read, a `commitSync`.
    fn round(&mut self) {
        self.now = self.now.plus_millis(10);
        let now = self.now;
        for _ in 0..BATCH_RECORDS {
            let record = ProducerRecord {
                topic: TOPIC.to_string(),
                partition: None,
                timestamp: None,
                key: None,
                value: Some(value()),
                headers: Vec::new(),
            };
            self.producer.send(&mut self.cluster, now, record).expect("send");
        }
        self.producer.flush(&mut self.cluster, now);
        let results = self.producer.take_results();
        assert_eq!(results.len(), BATCH_RECORDS, "every send is answered");
        assert!(results.iter().all(|r| r.result.is_ok()), "every send succeeds");
        drop(self.cluster.take_events());
        let mut got = 0;
        let mut empty_polls = 0;
        while got < BATCH_RECORDS {
            let mut env = broker_core::kafka::ConsumerEnv {
                coordinator: &mut self.group.coordinator,
                mailbox: &mut self.group.mailbox,
                reader: &mut self.cluster,
            };
            let polled = self.consumer[0].poll(now, 0, &mut env).expect("poll");
            if polled.records.is_empty() {
                // The first poll after the assignment looks up the committed offsets first.
                empty_polls += 1;
                assert!(empty_polls < 10, "records were produced, so polls return them");
                self.group.tick(now, &mut self.cluster, &mut self.consumer);
            }
            got += polled.records.len();
            black_box(polled.records);
        }
        assert_eq!(got, BATCH_RECORDS, "exactly the records sent are read");
        self.read += got as u64;
        let mut env = broker_core::kafka::ConsumerEnv {
            coordinator: &mut self.group.coordinator,
            mailbox: &mut self.group.mailbox,
            reader: &mut self.cluster,
        };
        self.consumer[0].commit_sync(now, None, &mut env).expect("commitSync");
        self.group.tick(now, &mut self.cluster, &mut self.consumer);
    }

    fn committed(&self) -> i64 {
        let committed = self.group.coordinator.offsets().group_offsets("bench");
        committed.into_iter().map(|(_, c)| c.offset.offset).sum()
    }
}

/// The baseline's record: what a consumer gets back (offset, timestamp, key, value).
struct PlainRecord {
    offset: i64,
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
}

/// The baseline: append `BATCH_RECORDS` fresh records to a `Vec`, read them back in order as owned
/// copies (a consumer's records are its own), and keep the next offset as the committed position.
fn vec_round(log: &mut Vec<PlainRecord>, committed: &mut i64, now: i64) {
    log.clear();
    for i in 0..BATCH_RECORDS {
        log.push(PlainRecord {
            offset: *committed + i as i64,
            timestamp: now,
            key: None,
            value: Some(value()),
        });
    }
    let mut read = Vec::with_capacity(BATCH_RECORDS);
    for r in log.iter() {
        read.push(PlainRecord {
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key.clone(),
            value: r.value.clone(),
        });
    }
    *committed = read.last().map_or(*committed, |r| r.offset + 1);
    black_box(read);
}

fn produce_fetch_commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("kafka");
    group.throughput(Throughput::Elements(BATCH_RECORDS as u64));
    group.measurement_time(Duration::from_secs(5));

    let mut pipeline = Pipeline::new();
    pipeline.round();
    assert_eq!(pipeline.committed(), BATCH_RECORDS as i64, "the round's records are committed");
    group.bench_function("produce_fetch_commit", |b| b.iter(|| pipeline.round()));
    assert_eq!(pipeline.committed(), pipeline.read as i64, "every record read is committed");
    pipeline.cluster.assert_invariants();

    let mut log = Vec::new();
    let mut committed = 0i64;
    let mut now = 0i64;
    group.bench_function("baseline_vec", |b| {
        b.iter(|| {
            now += 10;
            vec_round(&mut log, &mut committed, now)
        })
    });
    group.finish();
}

fn partition_counts() -> PartitionCounts {
    PartitionCounts::from([(TOPIC.to_string(), PARTITIONS)])
}

fn member_id(i: usize) -> String {
    format!("member-{i:03}")
}

/// The trivial assignment: partition `p` to member `p % MEMBERS`, into the same map type.
fn deal(members: usize) -> Assignment {
    let mut out = Assignment::new();
    let ids: Vec<String> = (0..members).map(member_id).collect();
    for id in &ids {
        out.insert(id.clone(), Vec::new());
    }
    for p in 0..PARTITIONS {
        let id = &ids[p as usize % members];
        out.get_mut(id).expect("every member has an entry").push(TopicPartition::new(TOPIC, p));
    }
    out
}

/// Every partition assigned at most once, `expected` of them, to one of `members` members.
fn check_count(assignment: &Assignment, members: usize, name: &str, expected: usize) {
    let mut seen = BTreeSet::new();
    for (member, parts) in assignment {
        assert!(member.starts_with("member-"), "{name}: unknown member {member}");
        for p in parts {
            assert!(seen.insert(p.clone()), "{name}: {p} assigned twice");
        }
    }
    assert_eq!(seen.len(), expected, "{name}: partitions assigned");
    assert!(assignment.len() <= members, "{name}: members");
}

/// Every partition assigned exactly once.
fn check(assignment: &Assignment, members: usize, name: &str) {
    check_count(assignment, members, name, PARTITIONS as usize);
}

fn client_members(owned: Option<&Assignment>, generation: i32) -> Vec<MemberSubscription> {
    (0..MEMBERS)
        .map(|i| {
            let m = MemberSubscription::new(member_id(i), &[TOPIC]);
            match owned.and_then(|o| o.get(&member_id(i))) {
                Some(parts) => m.owning(parts.clone(), Some(generation)),
                None => m,
            }
        })
        .collect()
}

fn server_members(owned: Option<&Assignment>) -> Vec<ServerMember> {
    (0..MEMBERS)
        .map(|i| {
            let m = ServerMember::new(member_id(i), &[TOPIC]);
            match owned.and_then(|o| o.get(&member_id(i))) {
                Some(parts) => m.owning(parts.clone()),
                None => m,
            }
        })
        .collect()
}

fn rebalance(c: &mut Criterion) {
    let mut group = c.benchmark_group("kafka/assign");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    let counts = partition_counts();
    check(&deal(MEMBERS), MEMBERS, "deal");
    group.bench_function("baseline_deal", |b| b.iter(|| deal(black_box(MEMBERS))));

    let client = [
        ClientAssignor::Range,
        ClientAssignor::RoundRobin,
        ClientAssignor::Sticky,
        ClientAssignor::CooperativeSticky,
    ];
    for assignor in client {
        let name = assignor.name();
        let fresh = client_members(None, 0);
        check(&assignor.assign(&fresh, &counts), MEMBERS, name);
        // The join: 99 members own what the assignor gave a 99-member group; member-099 is new.
        let before = assignor.assign(&fresh[..MEMBERS - 1], &counts);
        let joined = client_members(Some(&before), 1);
        // The cooperative protocol's first round only revokes what moves: the 10 partitions the new
        // member will own are assigned to nobody until the follow-up rebalance.
        let expected = match assignor {
            ClientAssignor::CooperativeSticky => PARTITIONS as usize - PARTITIONS as usize / MEMBERS,
            _ => PARTITIONS as usize,
        };
        check_count(&assignor.assign(&joined, &counts), MEMBERS, name, expected);
        group.bench_function(format!("{name}/fresh"), |b| {
            b.iter(|| assignor.assign(black_box(&fresh), &counts))
        });
        group.bench_function(format!("{name}/join"), |b| {
            b.iter(|| assignor.assign(black_box(&joined), &counts))
        });
    }
    for assignor in [ServerAssignor::Uniform, ServerAssignor::Range] {
        let name = format!("server-{}", assignor.name());
        let fresh = server_members(None);
        check(&assignor.assign(&fresh, &counts), MEMBERS, &name);
        let before = assignor.assign(&fresh[..MEMBERS - 1], &counts);
        let joined = server_members(Some(&before));
        check(&assignor.assign(&joined, &counts), MEMBERS, &name);
        group.bench_function(format!("{name}/fresh"), |b| {
            b.iter(|| assignor.assign(black_box(&fresh), &counts))
        });
        group.bench_function(format!("{name}/join"), |b| {
            b.iter(|| assignor.assign(black_box(&joined), &counts))
        });
    }
    group.finish();
}

criterion_group!(benches, produce_fetch_commit, rebalance);
criterion_main!(benches);
