//! The direct publish → deliver → ack benchmark of `broker_core/benches/amqp.rs` and its `VecDeque`
//! baseline, timed by a plain loop that builds for the host and for wasm32, so one script
//! (`scripts/wasm-bench.sh`) can compare the engine as wasm in headless Chromium with the engine as
//! native code on the same machine, in the same minutes (BENCHMARKS.md, issue 18).
//!
//! The loop is not a copy: [`amqp_support`] is `broker_core/benches/amqp_support/mod.rs` itself, the
//! file criterion's benchmark runs. The clock is `performance.now()` in the page (wasm32) and
//! `std::time::Instant` natively; nothing here asserts on a time.
//!
//! # Invariants
//! - Each round times [`Plan::batches`] baseline batches, then as many direct batches, on one broker
//!   and one deque that live across rounds (steady state, as in criterion's figures); the pipeline was
//!   checked once before (`verified_direct`: every message delivered once and acked), so an engine that
//!   skipped work would fail, not look fast.
//! - Figures are nanoseconds per message: a round's time divided by `batches × BATCH_MESSAGES`.

#[path = "../../broker_core/benches/amqp_support/mod.rs"]
pub mod amqp_support;

use amqp_support::{baseline_batch, verified_direct, BATCH_MESSAGES};
use std::collections::VecDeque;

/// How much to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Untimed batches of each kind before the first round.
    pub warm_up_batches: u32,
    /// Timed rounds; each times the baseline, then the direct path.
    pub rounds: u32,
    /// Batches of [`BATCH_MESSAGES`] messages per round and kind.
    pub batches: u32,
}

impl Plan {
    /// What `scripts/wasm-bench.sh` measures unless told otherwise: 11 rounds of 100 batches (100,000
    /// messages per round and kind), after 20 warm-up batches.
    pub const FULL: Plan = Plan { warm_up_batches: 20, rounds: 11, batches: 100 };
    /// What a plain `cargo test` runs: enough to exercise every part.
    pub const TINY: Plan = Plan { warm_up_batches: 1, rounds: 1, batches: 1 };

    /// The plan named at build time by `AMQP_WASM_BENCH=warm_up,rounds,batches` (the only way to reach
    /// a test in the browser), else at run time by the same variable (natively, for callgrind), else
    /// [`Plan::TINY`].
    pub fn from_env() -> Plan {
        let run_time = std::env::var("AMQP_WASM_BENCH").ok();
        let spec = option_env!("AMQP_WASM_BENCH").map(str::to_string).or(run_time);
        let Some(spec) = spec else { return Plan::TINY };
        if spec == "full" {
            return Plan::FULL;
        }
        let n: Vec<u32> =
            spec.split(',').map(|s| s.trim().parse().expect("AMQP_WASM_BENCH: a number")).collect();
        let [warm_up_batches, rounds, batches] = n[..] else {
            panic!("AMQP_WASM_BENCH is `full` or `warm_up,rounds,batches`, not `{spec}`")
        };
        Plan { warm_up_batches, rounds, batches }
    }
}

/// One round's figures, in nanoseconds per message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Round {
    pub baseline_ns: f64,
    pub direct_ns: f64,
}

/// Milliseconds from an arbitrary origin: `performance.now()` in the page.
#[cfg(target_arch = "wasm32")]
fn now_ms() -> f64 {
    use wasm_bindgen::prelude::wasm_bindgen;
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = performance, js_name = now)]
        fn performance_now() -> f64;
    }
    performance_now()
}

/// Milliseconds from the first call: `Instant` natively.
#[cfg(not(target_arch = "wasm32"))]
fn now_ms() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

/// Runs `plan`: the checked pipeline, the warm-up, then the rounds.
pub fn measure(plan: Plan) -> Vec<Round> {
    let mut direct = verified_direct(false);
    let mut baseline: VecDeque<Vec<u8>> = VecDeque::new();
    for _ in 0..plan.warm_up_batches {
        baseline_batch(&mut baseline);
        direct.run_batch();
    }
    let messages = f64::from(plan.batches) * BATCH_MESSAGES as f64;
    let per_message = |millis: f64| millis * 1e6 / messages;
    (0..plan.rounds)
        .map(|_| {
            let start = now_ms();
            for _ in 0..plan.batches {
                baseline_batch(&mut baseline);
            }
            let middle = now_ms();
            for _ in 0..plan.batches {
                direct.run_batch();
            }
            let end = now_ms();
            Round { baseline_ns: per_message(middle - start), direct_ns: per_message(end - middle) }
        })
        .collect()
}

/// The median of `values` (the mean of the middle two for an even count); `NaN` when empty.
pub fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.into_iter().collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The report's lines (what `scripts/wasm-bench.sh` reads): one per round, then the medians.
pub fn report(target: &str, plan: Plan, rounds: &[Round]) -> Vec<String> {
    let mut lines: Vec<String> = rounds
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "amqp_wasm_bench target={target} round={} baseline_ns={:.2} direct_ns={:.2} ratio={:.2}",
                i + 1,
                r.baseline_ns,
                r.direct_ns,
                r.direct_ns / r.baseline_ns
            )
        })
        .collect();
    let baseline = median(rounds.iter().map(|r| r.baseline_ns));
    let direct = median(rounds.iter().map(|r| r.direct_ns));
    let ratio = median(rounds.iter().map(|r| r.direct_ns / r.baseline_ns));
    lines.push(format!(
        "amqp_wasm_bench target={target} median rounds={} batches={} baseline_ns={baseline:.2} \
         direct_ns={direct:.2} ratio={ratio:.2}",
        plan.rounds, plan.batches
    ));
    lines
}
