//! Seeded simulation: random AMQP workloads applied to the engine and to a naive reference model in
//! lockstep, compared after every step (see `broker_core::testkit`).
//!
//! CI runs a fixed list of seeds. Locally:
//! - `SEED=n cargo test -p broker_core --test simulation` replays only seed `n` (a failure prints it);
//! - `SIM_SEEDS=N` runs `N` seeds instead of the default; `SIM_STEPS=K` makes each seed `K` steps long;
//! - `SIM_TRACE=1` prints every step with the engine's events;
//! - `SIM_TOLERATE=F1,…` lets known engine deviations (ids in the findings notes) pass, to look for more.

use broker_core::amqp::census::Census;
use broker_core::amqp::event::DropReason;
use broker_core::testkit::{SimStats, Simulation};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Seeds × steps in CI: 200 × 500 = 100,000 operations.
const DEFAULT_SEEDS: u64 = 200;
const DEFAULT_STEPS: u64 = 500;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

/// Runs one seed; on a mismatch or a panic (engine assertion included) fails with `SEED=… STEP=…`.
fn run_one(seed: u64, steps: u64) -> (SimStats, Census) {
    let mut sim = Simulation::new(seed);
    // `SIM_TOLERATE=F1,F2`: let known engine deviations pass (see /work/notes/h4-findings.md) to look for more.
    if let Ok(list) = std::env::var("SIM_TOLERATE") {
        sim.set_tolerate(list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
    }
    let trace = std::env::var("SIM_TRACE").is_ok();
    for _ in 0..steps {
        let result = catch_unwind(AssertUnwindSafe(|| sim.step()));
        if trace {
            let line = sim.report("").lines().rfind(|l| l.starts_with("  @")).unwrap_or("").to_string();
            println!("#{} {}", sim.steps(), line.trim());
            for e in &sim.last_events {
                println!("      {e}");
            }
        }
        match result {
            Ok(Ok(())) => {}
            Ok(Err(report)) => panic!("simulation mismatch\n{report}"),
            Err(payload) => {
                let what = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!("{}", sim.report(&format!("panicked: {what}")));
            }
        }
    }
    (sim.stats.clone(), sim.model.census())
}

fn add_census(total: &mut Census, c: &Census) {
    total.published += c.published;
    total.copies += c.copies;
    total.acked += c.acked;
    total.dead_lettered += c.dead_lettered;
    total.returned += c.returned;
    for (r, n) in &c.dropped {
        *total.dropped.entry(*r).or_insert(0) += n;
    }
}

#[test]
fn engine_matches_the_reference_model_on_random_workloads() {
    let steps = env_u64("SIM_STEPS").unwrap_or(DEFAULT_STEPS);
    let seeds: Vec<u64> = match env_u64("SEED") {
        Some(seed) => vec![seed],
        None => (1..=env_u64("SIM_SEEDS").unwrap_or(DEFAULT_SEEDS)).collect(),
    };
    let mut stats = SimStats::default();
    let mut census = Census::default();
    for &seed in &seeds {
        let (s, c) = run_one(seed, steps);
        stats.add(&s);
        add_census(&mut census, &c);
    }
    println!("simulation: {} seeds, {stats:?}, model census {census:?}", seeds.len());
    if seeds.len() as u64 == DEFAULT_SEEDS && steps == DEFAULT_STEPS {
        assert!(stats.steps >= 100_000, "the CI run must apply at least 100,000 operations");
        // The workload must actually reach every path it is meant to test.
        assert!(stats.errors > 1_000, "too few error paths: {stats:?}");
        assert!(stats.deliveries > 10_000, "too few deliveries: {stats:?}");
        // Reusing a cancelled consumer's tag while its deliveries are unacked found issue 15's credit bug.
        assert!(stats.reused_consumer_tags > 80, "too few reused consumer tags: {stats:?}");
        assert!(census.dead_lettered > 500 && census.returned > 500 && census.acked > 1_000, "{census:?}");
        for reason in [
            DropReason::Expired,
            DropReason::Rejected,
            DropReason::Maxlen,
            DropReason::Overflow,
            DropReason::Unroutable,
            DropReason::Purged,
            DropReason::QueueDeleted,
            DropReason::DeadLetterExchangeMissing,
        ] {
            assert!(census.dropped(reason) > 0, "no copy was ever dropped as {reason}: {census:?}");
        }
    }
}

/// The harness itself can fail: a publish the model never saw makes the next comparison differ.
#[test]
fn a_divergence_is_reported_with_its_seed_and_step() {
    let mut sim = Simulation::new(7);
    sim.run(300).expect("seed 7 agrees for 300 steps");
    // Sneak a message into the engine only.
    let conn = sim.model.open_connections()[0];
    let channel = broker_core::amqp::ChannelNumber(1);
    if !sim.model.channel_is_open(conn, channel) {
        let at = broker_core::VirtualTime::from_millis(sim.model.now_millis());
        sim.broker.apply(at, conn, channel, broker_core::amqp::Method::ChannelOpen).expect("opens");
        sim.model
            .apply(sim.model.now_millis(), conn, channel, &broker_core::amqp::Method::ChannelOpen)
            .expect("opens");
        let _ = sim.broker.take_events();
    }
    let at = broker_core::VirtualTime::from_millis(sim.model.now_millis());
    sim.broker
        .apply(
            at,
            conn,
            channel,
            broker_core::amqp::Method::QueueDeclare {
                queue: "only-in-engine".into(),
                passive: false,
                durable: false,
                exclusive: false,
                auto_delete: false,
                arguments: Default::default(),
            },
        )
        .expect("declares");
    let _ = sim.broker.take_events();
    let report = sim.step().expect_err("the extra queue must be noticed");
    assert!(report.starts_with("SEED=7 STEP=301\n"), "{report}");
    assert!(report.contains("only-in-engine"), "{report}");
}
