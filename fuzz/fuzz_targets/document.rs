//! A scenario document: checked, and run to its end under a small run budget when it is accepted.
#![no_main]
use broker_core::scenario::sim::{RunBudget, SimOptions, Simulation};
use broker_core::scenario;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = scenario::decode_source(bytes) else { return };
    let options = SimOptions {
        keep_log: false,
        max_firings_per_instant: 10_000,
        budget: RunBudget { messages: 20_000, body_bytes: 4 << 20, events: 200_000 },
        ..SimOptions::default()
    };
    match Simulation::from_json(text, options) {
        Err(e) => assert!(e.pos.line >= 1 && e.pos.col >= 1, "unlocated: {e}"),
        Ok(mut sim) => sim.run(),
    }
});
