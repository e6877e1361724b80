//! Kafka engine bytes per stored record: one million records (an 8-byte key, a 64-byte value and one
//! header `trace` = 8 bytes) produced to a one-partition topic and kept (`retention.ms=-1`), counted by a
//! global allocator that sees every allocation of this process; the key, value and header bytes are
//! subtracted, what is left is the engine's overhead. Two batchings:
//!
//! - `default`: a producer with Kafka 4.1's defaults (`linger.ms=5`, `batch.size=16384`) except
//!   `acks=1`, sending at 10,000 records/s of virtual time (10 records each millisecond), so batches hold
//!   what a linger gathers (about 50 records);
//! - `one-per-batch`: `flush()` after every `send`, so each batch holds one record (the worst case).
//!
//! Not a criterion benchmark (it measures bytes) but a `harness = false` bench. Alone:
//! `cargo bench -p broker_core --bench kafka_memory` (`BENCH_MEMORY_RECORDS=100000` for a quicker run).
//! `cargo test --benches` runs it with 2,000 records, as a test.
//!
//! The counted figure is bytes *requested* from the allocator, live after the sends (every result and
//! event taken and dropped) minus live before; glibc's own per-block bookkeeping is not in it, so the
//! resident-set growth is printed beside it.

mod kafka_support;

use broker_core::kafka::producer::{KafkaProducer, ProducerConfig};
use broker_core::kafka::{Acks, Header, KafkaEvent, ProducerRecord, TopicPartition};
use broker_core::VirtualTime;
use kafka_support::cluster_with_topic;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const TOPIC: &str = "bench.memory";
const KEY_BYTES: usize = 8;
const VALUE_BYTES: usize = 64;
const HEADER_KEY: &str = "trace";
const HEADER_VALUE_BYTES: usize = 8;
/// Key, value and header bytes of one record: what is not overhead.
const PAYLOAD_BYTES: usize = KEY_BYTES + VALUE_BYTES + HEADER_KEY.len() + HEADER_VALUE_BYTES;
/// The engine overhead per stored record the goal allows.
const GOAL_OVERHEAD_BYTES: f64 = 40.0;

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn record(i: u64) -> ProducerRecord {
    ProducerRecord {
        topic: TOPIC.to_string(),
        partition: None,
        timestamp: None,
        key: Some(format!("{:08}", i % 100_000_000).into_bytes()),
        value: Some(vec![b'v'; VALUE_BYTES]),
        headers: vec![Header { key: HEADER_KEY.to_string(), value: Some(vec![b'h'; HEADER_VALUE_BYTES]) }],
    }
}

/// Produces `n` records; returns whether the goal was met.
fn measure(n: u64, one_per_batch: bool) -> bool {
    let label = if one_per_batch { "one-per-batch" } else { "default" };
    let mut cluster = cluster_with_topic(TOPIC, 1, &[("retention.ms", "-1")], 300_000);
    let config = ProducerConfig { acks: Acks::Leader, ..ProducerConfig::default() };
    let mut producer = KafkaProducer::new(config, 3).expect("a valid producer config");
    let mut batches = 0u64;
    let mut count_batches = |events: Vec<(VirtualTime, KafkaEvent)>| {
        batches +=
            events.iter().filter(|(_, e)| matches!(e, KafkaEvent::RecordsAppended { .. })).count() as u64;
    };

    let resident_before = resident_bytes();
    let region = Region::new(GLOBAL);
    let mut now = VirtualTime::ZERO;
    for i in 0..n {
        if i % 10 == 0 {
            now = now.plus_millis(1);
        }
        producer.send(&mut cluster, now, record(i)).expect("send");
        if one_per_batch {
            producer.flush(&mut cluster, now);
        }
        if i % 10_000 == 0 {
            drop(producer.take_results());
            count_batches(cluster.take_events());
        }
    }
    producer.flush(&mut cluster, now);
    producer.advance_to(&mut cluster, now.plus_millis(1000));
    let results = producer.take_results();
    assert!(results.iter().all(|r| r.result.is_ok()), "every send succeeds");
    drop(results);
    count_batches(cluster.take_events());
    assert_eq!(producer.unanswered(), 0, "every send answered");
    let change = region.change();
    let resident_after = resident_bytes();

    let tp = TopicPartition::new(TOPIC, 0);
    let log = &cluster.partition(&tp).expect("the partition").log;
    assert_eq!(log.log_end_offset(), n as i64, "every record is stored");
    cluster.assert_invariants();

    let live_bytes = change.bytes_allocated as f64 - change.bytes_deallocated as f64;
    let nf = n as f64;
    let overhead = (live_bytes - PAYLOAD_BYTES as f64 * nf) / nf;
    println!(
        "kafka memory [{label}]: {n} records of {PAYLOAD_BYTES} payload bytes (key {KEY_BYTES}, value {VALUE_BYTES}, \
         header {}+{HEADER_VALUE_BYTES}) in {batches} batches ({:.1} records per batch)",
        HEADER_KEY.len(),
        nf / batches.max(1) as f64
    );
    println!(
        "kafka memory [{label}]: live bytes requested     {live_bytes:>14.0} ({:.1} per record)",
        live_bytes / nf
    );
    println!(
        "kafka memory [{label}]: log.heap_bytes()         {:>14} ({:.1} per record)",
        log.heap_bytes(),
        log.heap_bytes() as f64 / nf
    );
    println!("kafka memory [{label}]: engine overhead/record   {overhead:>14.1} bytes (goal <= {GOAL_OVERHEAD_BYTES})");
    println!(
        "kafka memory [{label}]: live allocations/record  {:>14.3}",
        (change.allocations as f64 - change.deallocations as f64) / nf
    );
    if let (Some(before), Some(after)) = (resident_before, resident_after) {
        let grown = after as f64 - before as f64;
        println!(
            "kafka memory [{label}]: resident set grew        {grown:>14.0} ({:.1} per record)",
            grown / nf
        );
    }
    overhead <= GOAL_OVERHEAD_BYTES
}

fn main() {
    let testing = !std::env::args().any(|a| a == "--bench");
    let n: u64 = match std::env::var("BENCH_MEMORY_RECORDS") {
        Ok(text) => text.parse().expect("BENCH_MEMORY_RECORDS is a whole number"),
        Err(_) if testing => 2_000,
        Err(_) => 1_000_000,
    };
    let default_met = measure(n, false);
    let worst_met = measure(n, true);
    let met = |m: bool| if m { "met" } else { "MISSED" };
    println!(
        "kafka memory: goal <= {GOAL_OVERHEAD_BYTES} bytes/record: default batching {}, one per batch {}",
        met(default_met),
        met(worst_met)
    );
}
