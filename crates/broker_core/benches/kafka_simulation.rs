//! One simulated hour of Kafka traffic, timed natively: a producer (`acks=1`, default `linger.ms=5` and
//! `batch.size`, null keys so the sticky partitioner picks partitions) sends 10,000 records/s (ten every
//! millisecond of virtual time) to a topic of 12 partitions; a group of 6 consumers polls every
//! [`POLL_EVERY_MS`] and calls `commitSync` every 5 s. 36 million records in the hour. The loop is written
//! directly over the engine API (no document runtime).
//!
//! Retention keeps memory bounded as a production topic would, at a scale an hour can show:
//! `segment.ms` = 1 minute, `retention.ms` = 10 minutes, checked every 5 minutes (the broker default
//! `log.retention.check.interval.ms`), so at most about 15 minutes of records are held (Kafka's default
//! 7 days would keep all 36 million, ~3 GB here, and prove nothing more).
//!
//! Baseline, measured in the same run: the bare `BinaryHeap` timer loop `benches/simulation.rs` uses too
//! (`timer_baseline/`), firing once per record, i.e. the cost of merely scheduling the hour's records.
//!
//! `harness = false`: a plain timing program. `cargo bench -p broker_core --bench kafka_simulation`;
//! `BENCH_SIM_SECONDS=600` for a shorter run. `cargo test --benches` runs 10 simulated seconds as a test.

// Benchmarks measure wall time by definition; the engine itself never reads a clock.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod kafka_support;
mod timer_baseline;

use broker_core::kafka::producer::{KafkaProducer, ProducerConfig};
use broker_core::kafka::{
    Acks, AutoOffsetReset, ConsumerConfig, ConsumerEnv, KafkaConsumer, ProducerRecord, TopicPartition,
};
use broker_core::VirtualTime;
use kafka_support::{cluster_with_topic, Group};
use std::hint::black_box;
use std::time::Instant;

const TOPIC: &str = "bench.events";
const PARTITIONS: i32 = 12;
const CONSUMERS: u64 = 6;
const RECORDS_PER_MS: u64 = 10;
const POLL_EVERY_MS: u64 = 10;
const COMMIT_EVERY_MS: u64 = 5_000;
/// The goal: one simulated hour in at most this many seconds.
const GOAL_SECONDS: f64 = 20.0;

struct Outcome {
    wall: f64,
    produced: u64,
    consumed: u64,
    committed: i64,
    commits: u64,
    retained: i64,
    log_start_sum: i64,
}

fn simulate(seconds: u64) -> Outcome {
    let started = Instant::now();
    let configs = [("segment.ms", "60000"), ("retention.ms", "600000")];
    let mut cluster = cluster_with_topic(TOPIC, PARTITIONS, &configs, 300_000);
    let config = ProducerConfig { acks: Acks::Leader, ..ProducerConfig::default() };
    let mut producer = KafkaProducer::new(config, 3).expect("a valid producer config");
    let mut group = Group::new();
    let mut consumers: Vec<KafkaConsumer> = (0..CONSUMERS)
        .map(|i| {
            let mut config = ConsumerConfig::new(&format!("c{i}"), Some("bench"));
            config.enable_auto_commit = false;
            config.auto_offset_reset = AutoOffsetReset::Earliest;
            let mut c = KafkaConsumer::new(config, i + 1);
            c.subscribe(&[TOPIC]).expect("subscribe");
            c
        })
        .collect();
    let start = group.settle(VirtualTime::ZERO, &mut cluster, &mut consumers);
    let (mut produced, mut consumed, mut commits) = (0u64, 0u64, 0u64);
    let end_ms = start.as_millis() + seconds * 1_000;
    for ms in start.as_millis() + 1..=end_ms {
        let now = VirtualTime(ms);
        for _ in 0..RECORDS_PER_MS {
            let record = ProducerRecord {
                topic: TOPIC.to_string(),
                partition: None,
                timestamp: None,
                key: None,
                value: Some(event_value(produced)),
                headers: Vec::new(),
            };
            producer.send(&mut cluster, now, record).expect("send");
            produced += 1;
        }
        if ms % POLL_EVERY_MS != 0 {
            continue;
        }
        for r in producer.take_results() {
            assert!(r.result.is_ok(), "send failed: {:?}", r.result);
        }
        drop(cluster.take_events());
        group.tick(now, &mut cluster, &mut consumers);
        let commit = ms % COMMIT_EVERY_MS == 0;
        for c in consumers.iter_mut() {
            let mut env = ConsumerEnv {
                coordinator: &mut group.coordinator,
                mailbox: &mut group.mailbox,
                reader: &mut cluster,
            };
            let polled = c.poll(now, 0, &mut env).expect("poll");
            consumed += polled.records.len() as u64;
            black_box(polled.records);
            if commit {
                c.commit_sync(now, None, &mut env).expect("commitSync");
                commits += 1;
            }
        }
    }
    producer.flush(&mut cluster, VirtualTime(end_ms));
    let wall = started.elapsed().as_secs_f64();

    cluster.assert_invariants();
    let committed: i64 =
        group.coordinator.offsets().group_offsets("bench").map(|(_, c)| c.offset.offset).sum();
    let (mut retained, mut log_start_sum) = (0, 0);
    for p in 0..PARTITIONS {
        let log = &cluster.partition(&TopicPartition::new(TOPIC, p)).expect("partition").log;
        retained += log.log_end_offset() - log.log_start_offset();
        log_start_sum += log.log_start_offset();
    }
    Outcome { wall, produced, consumed, committed, commits, retained, log_start_sum }
}

/// The value of the `n`th record, `event {n}`, written as `format!` would write it but without the
/// formatting machinery, whose cost (a tenth of the loop once the engine had been made faster) belongs
/// to no broker.
fn event_value(n: u64) -> Vec<u8> {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut m = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    let mut value = Vec::with_capacity(6 + digits.len() - i);
    value.extend_from_slice(b"event ");
    value.extend_from_slice(&digits[i..]);
    value
}

fn main() {
    let testing = !std::env::args().any(|a| a == "--bench");
    let seconds: u64 = std::env::var("BENCH_SIM_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if testing { 10 } else { 3_600 });
    for n in [0, 7, 10, 1_234_567, u64::MAX] {
        assert_eq!(event_value(n), format!("event {n}").into_bytes(), "the values are format!'s");
    }
    let o = simulate(seconds);
    assert_eq!(o.produced, seconds * 1_000 * RECORDS_PER_MS, "the rate was kept");
    // Consumers keep up: what they have not read is at most the last poll interval's records.
    assert!(
        o.consumed + 2 * POLL_EVERY_MS * RECORDS_PER_MS >= o.produced,
        "consumers fell behind: {} of {}",
        o.consumed,
        o.produced
    );
    assert!(o.committed as u64 <= o.consumed, "nothing committed that was not read");
    let baseline = timer_baseline::heap_timer_seconds(o.produced, 16);
    println!(
        "kafka simulation: {seconds} s simulated at {} records/s over {PARTITIONS} partitions, {CONSUMERS} consumers \
         polling every {POLL_EVERY_MS} ms, commitSync every {} s",
        RECORDS_PER_MS * 1000,
        COMMIT_EVERY_MS / 1000
    );
    println!(
        "  records: {} produced, {} consumed, {} committed ({} commitSync calls)",
        o.produced, o.consumed, o.committed, o.commits
    );
    println!("  retention: {} records held at the end, {} deleted", o.retained, o.log_start_sum);
    println!("  wall time: {:.3} s ({:.0} ns per record)", o.wall, o.wall * 1e9 / o.produced as f64);
    println!("  bare BinaryHeap timer baseline, one firing per record: {baseline:.3} s");
    println!("  ratio to the baseline: {:.1}x", o.wall / baseline);
    if seconds == 3_600 {
        let met = if o.wall <= GOAL_SECONDS { "met" } else { "MISSED" };
        println!("  goal: one simulated hour in at most {GOAL_SECONDS} s: {met}");
    }
}
