//! A script as a producer's `on_tick` and a consumer's `on_message` in a small document.
#![no_main]
use broker_core::scenario::sim::{RunBudget, SimOptions, Simulation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let source = String::from_utf8_lossy(bytes);
    let document = serde_json::json!({
        "brokerlab": 2, "duration": "2s",
        "definitions": { "queues": [ { "name": "q" } ] },
        "producers": [ { "name": "p", "routing_key": "q", "rate": 20, "script": "s" } ],
        "consumers": [ { "name": "c", "queue": "q", "script": "s" } ],
        "scripts": { "s": source }
    });
    let options = SimOptions {
        keep_log: false,
        budget: RunBudget { messages: 20_000, body_bytes: 4 << 20, events: 200_000 },
        ..SimOptions::default()
    };
    if let Ok(mut sim) = Simulation::from_json(&document.to_string(), options) {
        sim.run();
    }
});
