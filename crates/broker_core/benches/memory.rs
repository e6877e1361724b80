//! Engine bytes per queued message: 1,000,000 messages with 64-byte bodies queued with no consumer,
//! counted by a global allocator that sees every allocation of this process.
//!
//! Not a criterion benchmark (it measures bytes, not time) but a `harness = false` bench, so the same
//! `cargo bench -p broker_core` runs it. Alone:
//! `CARGO_TARGET_DIR=/work/targets/h5 cargo +web bench -p broker_core --bench memory`
//! (`BENCH_MEMORY_MESSAGES=100000` for a quicker run; `BENCH_MEMORY_KEY_BYTES=100` for a longer routing
//! key: the queue's name, which the default exchange routes by, is padded to that many bytes).
//!
//! The counted figure is bytes *requested* from the allocator (what Rust's types ask for), live after
//! the publishes minus live before. The allocator's own per-block bookkeeping (glibc's malloc rounds each
//! block up to 16 bytes and adds an 8-byte header) is not in it, so the resident-set growth is printed
//! beside it: it is what the operating system saw.

use broker_core::amqp::{BasicProperties, Broker, BrokerConfig, ChannelNumber, FieldTable, Method};
use broker_core::VirtualTime;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const BODY_BYTES: usize = 64;
const QUEUE: &str = "bench.memory.q";
/// The engine overhead per queued message that BENCHMARKS.md's goal allows.
const GOAL_OVERHEAD_BYTES: f64 = 64.0;

/// Resident memory in bytes, from `/proc/self/statm` (Linux); `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // Every Linux target this runs on uses 4 KiB pages; a different size would only scale this figure.
    Some(pages * 4096)
}

fn main() {
    let n_messages: u64 = match std::env::var("BENCH_MEMORY_MESSAGES") {
        Ok(text) => text.parse().expect("BENCH_MEMORY_MESSAGES is a whole number"),
        Err(_) => 1_000_000,
    };
    let key_bytes: usize = match std::env::var("BENCH_MEMORY_KEY_BYTES") {
        Ok(text) => text.parse().expect("BENCH_MEMORY_KEY_BYTES is a whole number"),
        Err(_) => QUEUE.len(),
    };
    assert!((QUEUE.len()..=255).contains(&key_bytes), "BENCH_MEMORY_KEY_BYTES is from 14 to 255");
    // The queue name is the routing key; padding keeps it readable in listings.
    let queue = format!("{QUEUE}{}", ".".repeat(key_bytes - QUEUE.len()));
    let channel = ChannelNumber(1);
    let now = VirtualTime::ZERO;
    let mut broker = Broker::new(BrokerConfig { record_events: false, ..BrokerConfig::default() }, 42);
    let connection = broker.connect(now, "bench");
    let call = |broker: &mut Broker, method: Method| {
        let name = method.amqp_name();
        if let Err(error) = broker.apply(now, connection, channel, method) {
            panic!("{name} failed: {error}");
        }
    };
    call(&mut broker, Method::ChannelOpen);
    call(
        &mut broker,
        Method::QueueDeclare {
            queue: queue.clone(),
            passive: false,
            durable: false,
            exclusive: false,
            auto_delete: false,
            arguments: FieldTable::new(),
        },
    );

    let resident_before = resident_bytes();
    let region = Region::new(GLOBAL);
    for _ in 0..n_messages {
        // The default exchange routes by queue name: the plainest publish there is.
        let publish = Method::BasicPublish {
            exchange: String::new(),
            routing_key: queue.clone(),
            mandatory: false,
            properties: BasicProperties::default(),
            body: vec![b'm'; BODY_BYTES],
            immediate: false,
        };
        call(&mut broker, publish);
    }
    let change = region.change();
    let resident_after = resident_bytes();

    let queued = broker.queues().into_iter().find(|q| *q.name == *queue).expect("the queue exists");
    assert_eq!(u64::from(queued.messages_ready), n_messages, "every message is queued");

    let live_bytes = change.bytes_allocated as f64 - change.bytes_deallocated as f64;
    let live_blocks = change.allocations as f64 - change.deallocations as f64;
    let n = n_messages as f64;
    let overhead_per_message = (live_bytes - (BODY_BYTES as f64) * n) / n;
    println!(
        "memory: {n_messages} messages of {BODY_BYTES} bytes queued, no consumer, events off, \
         {key_bytes}-byte routing key"
    );
    println!("memory: live bytes requested      {:>14.0} ({:.1} per message)", live_bytes, live_bytes / n);
    println!("memory: engine overhead/message   {overhead_per_message:>14.1} bytes (goal <= {GOAL_OVERHEAD_BYTES})");
    println!("memory: live allocations/message  {:>14.2}", live_blocks / n);
    println!(
        "memory: allocation calls          {:>14} ({} reallocations), {} frees",
        change.allocations, change.reallocations, change.deallocations
    );
    if let (Some(before), Some(after)) = (resident_before, resident_after) {
        let grown = after as f64 - before as f64;
        println!("memory: resident set grew         {:>14.0} ({:.1} per message)", grown, grown / n);
    }
    let met = if overhead_per_message <= GOAL_OVERHEAD_BYTES { "yes" } else { "no" };
    println!("memory: goal met: {met}");
}
