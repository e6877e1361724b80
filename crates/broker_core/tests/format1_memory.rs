//! What a format-1 statement costs in memory while the scenario is parsed and checked (one test in this
//! process, so nothing else allocates meanwhile).
//!
//! Two figures per statement: the bytes the parsed scenario keeps (a counting global allocator: allocated
//! minus freed during `Scenario::parse`), and the growth of the peak resident size during the parse
//! (Linux: `VmHWM` after resetting it through `/proc/self/clear_refs`; skipped elsewhere). The tokens of
//! the whole file used to stay alive until the last statement was parsed: 2,364 bytes per statement at
//! the peak (814 kept). The lexer now hands the parser one logical line at a time: about 930 at the peak
//! (700 kept). `format1_limits.rs` checks the bound on the statement count.

use broker_core::scenario::Scenario;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A pika-shaped scenario of about `n` statements: publishes, acks, waits, declarations.
fn scenario(n: usize) -> String {
    let mut text = String::from("brokerlab-scenario 1\nconn = connect(\"client\")\nch = conn.channel()\n");
    text.push_str("ch.queue_declare(queue=\"jobs\", durable=True, arguments={\"x-max-length\": 1000000})\n");
    for i in 0..n {
        match i % 4 {
            0 => text.push_str(&format!(
                "ch.basic_publish(exchange=\"\", routing_key=\"jobs\", body=b\"job {i}\", \
                 properties=pika.BasicProperties(delivery_mode=2, headers={{\"n\": {i}}}))\n"
            )),
            1 => text.push_str("wait 1ms\n"),
            2 => text.push_str(&format!(
                "ch.queue_bind(queue=\"jobs\", exchange=\"amq.topic\", routing_key=\"k.{i}\")\n"
            )),
            _ => text.push_str("ch.basic_qos(prefetch_count=10)\n"),
        }
    }
    text
}

/// A field of `/proc/self/status` in bytes (Linux); `None` elsewhere.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn a_statement_costs_a_few_hundred_bytes_at_the_peak_of_the_parse() {
    let n = 40_000;
    let text = scenario(n);
    // Resets the peak resident size to the current one (Linux: "5" clears VmHWM).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before = status_bytes("VmRSS:");
    let region = Region::new(GLOBAL);
    let scenario = Scenario::parse(&text).expect("the scenario parses");
    let stats = region.change();
    let retained = stats.bytes_allocated as i64 - stats.bytes_deallocated as i64;
    let statements = scenario.statement_count() as i64;
    let retained_per_statement = retained / statements;
    println!("{statements} statements: {retained_per_statement} bytes retained per statement");
    assert!(retained_per_statement < 1_000, "{retained_per_statement} bytes retained per statement");
    if let (true, Some(before), Some(peak)) = (reset, rss_before, status_bytes("VmHWM:")) {
        let peak_per_statement = (peak.saturating_sub(before)) as i64 / statements;
        println!("peak resident growth: {peak_per_statement} bytes per statement");
        assert!(peak_per_statement < 1_500, "{peak_per_statement} bytes per statement at the peak");
    }
    drop(scenario);
}
