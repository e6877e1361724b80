//! Scenario simulation speed (issue 5): one simulated hour of a 1,000 msg/s work queue (2 producers,
//! 4 consumers, manual acks), timed natively, and its simulated events per second against a bare
//! `BinaryHeap` timer loop measured in the same run. `harness = false`: a plain timing program, since one
//! iteration takes seconds and criterion's sampling would take minutes. See BENCHMARKS.md.
//!
//! `BENCH_SIM_SECONDS=600` simulates a shorter run (default 3600); `BENCH_SIM_RUNS=3` repeats it.

// Benchmarks measure wall time by definition; the engine itself never reads a clock.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod timer_baseline;

use broker_core::amqp::{Broker, BrokerConfig, ChannelNumber, Event, Method};
use broker_core::scenario::sim::{CheckStatus, RunBudget, SimOptions, SimStats, Simulation};
use broker_core::{DeadlineQueue, VirtualTime};
use std::hint::black_box;
use std::time::Instant;

/// The goal: one simulated hour in at most this many seconds.
const GOAL_SECONDS: f64 = 5.0;

fn document(seconds: u64) -> String {
    format!(
        r#"{{
      "brokerlab": 2, "name": "bench: work queue", "seed": 1, "duration": "{seconds}s",
      "definitions": {{ "queues": [ {{ "name": "tasks", "durable": true }} ] }},
      "producers": [
        {{ "name": "p1", "routing_key": "tasks", "rate": 500, "body": "task {{seq}}" }},
        {{ "name": "p2", "routing_key": "tasks", "rate": 500, "body": "task {{seq}}" }}
      ],
      "consumers": [
        {{ "name": "w1", "queue": "tasks", "prefetch": 10, "processing": "2ms" }},
        {{ "name": "w2", "queue": "tasks", "prefetch": 10, "processing": "2ms" }},
        {{ "name": "w3", "queue": "tasks", "prefetch": 10, "processing": "2ms" }},
        {{ "name": "w4", "queue": "tasks", "prefetch": 10, "processing": "2ms" }}
      ],
      "checks": [
        {{ "queue": "tasks", "messages": "<= 40" }},
        {{ "count": {{ "event": "acked" }}, "is": ">= {min_acked}" }}
      ]
    }}"#,
        min_acked = seconds * 1_000 - 40
    )
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs the scenario once; returns wall seconds and the run's counters.
fn simulate(text: &str) -> (f64, SimStats) {
    // An hour at 1,000 msg/s is 3.6 million messages, past the default run budget on purpose.
    let options = SimOptions { keep_log: false, budget: RunBudget::UNLIMITED, ..SimOptions::default() };
    let started = Instant::now();
    let mut sim = Simulation::from_json(text, options).expect("the bench document is valid");
    sim.run();
    let wall = started.elapsed().as_secs_f64();
    for r in sim.check_results() {
        assert_eq!(r.status, CheckStatus::Pass, "{}", r.line());
    }
    (wall, sim.stats())
}

/// The baseline (`timer_baseline`): timer firings per second of a bare `BinaryHeap` loop with `live`
/// timers pending.
fn heap_baseline(firings: u64, live: u64) -> f64 {
    firings as f64 / timer_baseline::heap_timer_seconds(firings, live)
}

/// The engine floor: the same traffic (a publish every millisecond from two connections, four consumers
/// with prefetch 10 acking 2 ms after each delivery, the event log on and drained after every call)
/// driven directly on a [`Broker`], without documents, actors or checks. Returns wall seconds.
fn engine_floor(seconds: u64) -> f64 {
    let started = Instant::now();
    let ch = ChannelNumber(1);
    let mut broker = Broker::new(BrokerConfig::default(), 1);
    let t0 = VirtualTime::ZERO;
    let admin = broker.connect(t0, "admin");
    broker.apply(t0, admin, ch, Method::ChannelOpen).expect("open");
    let declare = Method::QueueDeclare {
        queue: "tasks".into(),
        passive: false,
        durable: true,
        exclusive: false,
        auto_delete: false,
        arguments: Default::default(),
    };
    broker.apply(t0, admin, ch, declare).expect("declare");
    let producers: Vec<_> = (0..2).map(|i| broker.connect(t0, &format!("p{i}"))).collect();
    for &p in &producers {
        broker.apply(t0, p, ch, Method::ChannelOpen).expect("open");
    }
    for i in 0..4 {
        let c = broker.connect(t0, &format!("w{i}"));
        broker.apply(t0, c, ch, Method::ChannelOpen).expect("open");
        broker
            .apply(t0, c, ch, Method::BasicQos { prefetch_size: 0, prefetch_count: 10, global: false })
            .expect("qos");
        let consume = Method::BasicConsume {
            queue: "tasks".into(),
            consumer_tag: format!("w{i}"),
            auto_ack: false,
            exclusive: false,
            arguments: Default::default(),
        };
        broker.apply(t0, c, ch, consume).expect("consume");
    }
    drop(broker.take_events());
    let mut acks = DeadlineQueue::new();
    let mut events = 0u64;
    // One buffer for every call's events, as the simulation runtime does.
    let mut log = Vec::new();
    for ms in 0..seconds * 1_000 {
        let now = VirtualTime(ms);
        while let Some((_, (conn, tag))) = acks.pop_due(now) {
            let ack = Method::BasicAck { delivery_tag: tag, multiple: false };
            broker.apply(now, conn, ch, ack).expect("ack");
            broker.drain_events_into(&mut log);
            events += log.len() as u64;
            log.clear();
        }
        let publish = Method::BasicPublish {
            exchange: String::new(),
            routing_key: "tasks".into(),
            mandatory: false,
            properties: Default::default(),
            body: format!("task {ms}").into_bytes(),
            immediate: false,
        };
        broker.apply(now, producers[(ms % 2) as usize], ch, publish).expect("publish");
        broker.drain_events_into(&mut log);
        for e in log.drain(..) {
            events += 1;
            if let Event::Delivered { connection, delivery, .. } = e.event {
                acks.schedule(now.plus_millis(2), (connection, delivery.delivery_tag));
            }
        }
    }
    black_box(events);
    started.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, and then a short run is
    // enough to show it works.
    let testing = !std::env::args().any(|a| a == "--bench");
    let seconds = env_u64("BENCH_SIM_SECONDS", if testing { 10 } else { 3_600 });
    let runs = env_u64("BENCH_SIM_RUNS", if testing { 1 } else { 3 }).max(1);
    let text = document(seconds);
    let mut walls = Vec::new();
    let mut stats = SimStats::default();
    for _ in 0..runs {
        let (wall, s) = simulate(&text);
        walls.push(wall);
        stats = s;
    }
    walls.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];
    let simulated = stats.firings + stats.events;
    let sim_rate = simulated as f64 / median;
    let baseline = heap_baseline(stats.firings.max(1_000_000), 16);
    let floor = engine_floor(seconds);
    println!(
        "scenario simulation: {seconds} s simulated of a 1,000 msg/s work queue (2 producers, 4 consumers)"
    );
    println!("  wall time, median of {runs}: {median:.3} s (all: {walls:.3?})");
    println!(
        "  counters: {} instants, {} firings (wake-ups + broker timers), {} broker events",
        stats.instants, stats.firings, stats.events
    );
    println!(
        "  engine floor (same traffic driven directly on a Broker): {floor:.3} s, {:.0}% of the run",
        100.0 * floor / median
    );
    println!("  simulated events (firings + broker events) per second: {sim_rate:.0}");
    println!("  firings per second: {:.0}", stats.firings as f64 / median);
    println!("  bare BinaryHeap timer baseline: {baseline:.0} firings per second");
    println!("  firing cost vs baseline: {:.1}x", baseline / (stats.firings as f64 / median));
    if seconds == 3_600 {
        let met = if median <= GOAL_SECONDS { "met" } else { "MISSED" };
        println!("  goal: one simulated hour in at most {GOAL_SECONDS} s: {met}");
    }
}
