//! A format-1 scenario: parsed, and run under the runaway guard when it parses. A refusal is located.
#![no_main]
use broker_core::scenario::{self, RunOptions, Scenario};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = scenario::decode_source(bytes) else { return };
    match Scenario::parse(text) {
        Err(e) => assert!(e.pos.line >= 1 && e.pos.col >= 1, "unlocated: {e}"),
        Ok(s) => {
            let options = RunOptions { max_timer_firings: 10_000, check_invariants: true, ..RunOptions::default() };
            scenario::run(&s, &options);
        }
    }
});
