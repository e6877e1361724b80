//! `Simulation` is `Clone` so the app can keep rewind snapshots: a clone taken mid-run and played to the
//! end must give the original's transcript, with and without a Rhai script host (whose `state` maps and
//! `random(n)` generator must be copied, not shared).

use broker_core::scenario::sim::{SimOptions, Simulation};
use broker_core::VirtualTime;
use std::path::PathBuf;

fn bundled(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../www/scenarios").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A consumer whose decisions depend on its `state` map and on `random(n)`: a clone that shared either
/// with the original would decide differently once the two run on.
const SCRIPTED: &str = r#"{
  "brokerlab": 2, "name": "scripted", "seed": 5, "duration": "6s",
  "definitions": {"queues": [{"name": "work", "vhost": "/", "durable": true, "auto_delete": false, "arguments": {}}]},
  "producers": [{"name": "p", "exchange": "", "routing_key": "work", "body": "job {seq}", "rate": 20, "count": 60}],
  "consumers": [{"name": "c", "queue": "work", "prefetch": 3, "processing": "30ms", "script": "moody"}],
  "scripts": {"moody": "fn on_message(msg) {\n  state.seen = (state.seen ?? 0) + 1;\n  let r = random(100);\n  log(`seen ${state.seen} r ${r}`);\n  if msg.redelivered || (r + state.seen) % 3 != 0 { ack() } else { nack(true) }\n}"},
  "checks": [{"queue": "work", "messages": 0}]
}"#;

fn run_to_end(mut sim: Simulation) -> String {
    sim.run();
    sim.transcript()
}

/// Plays `text` to `split` then clones; both the clone and the original run to the end.
fn clone_at(text: &str, split: VirtualTime) -> (String, String) {
    let mut sim = Simulation::from_json(text, SimOptions::default()).expect("a valid document");
    sim.run_until(split);
    let copy = sim.clone();
    // Run the original first: a clone sharing anything mutable would now see the original's future.
    let original = run_to_end(sim);
    (original, run_to_end(copy))
}

#[test]
fn a_clone_taken_mid_run_plays_to_the_same_transcript() {
    let text = bundled("02-work-queues.json");
    let reference = run_to_end(Simulation::from_json(&text, SimOptions::default()).unwrap());
    for split_millis in [0, 1_500, 4_321] {
        let (original, copy) = clone_at(&text, VirtualTime::from_millis(split_millis));
        assert_eq!(original, reference, "cloning does not disturb the original");
        assert_eq!(copy, reference, "clone at {split_millis} ms");
    }
}

#[test]
fn a_clone_with_a_script_host_copies_state_and_randomness() {
    let reference = run_to_end(Simulation::from_json(SCRIPTED, SimOptions::default()).unwrap());
    assert!(reference.contains("nacked"), "the script's random choices nack some deliveries:\n{reference}");
    for split_millis in [700, 2_050] {
        let (original, copy) = clone_at(SCRIPTED, VirtualTime::from_millis(split_millis));
        assert_eq!(original, reference);
        assert_eq!(copy, reference, "clone at {split_millis} ms");
    }
    let poison = bundled("09-poison-message.json");
    let (original, copy) = clone_at(&poison, VirtualTime::from_millis(1_200));
    assert_eq!(original, copy);
}
