//! Every Kafka golden program (`tests/scenarios/kafka/<name>/program.kafka`, its `expected.txt` recorded
//! from a real Kafka 4.1 through the Java client) runs on the engine's Kafka model, with the cluster's
//! invariants checked after every call; its transcript must equal the golden except where
//! `tests/real_broker/kafka-allowlist.toml` names a difference (with its reason).

use broker_core::kafka::program::engine::EngineClients;
use broker_core::kafka::program::{self, ClientCall, ClientReply, KafkaClients};
use real_broker::compare::{parse_allow_list, render};
use real_broker::kafka::{compare, recorded};
use std::path::{Path, PathBuf};

/// The engine, with the cluster's invariants asserted after every call.
struct Checked(EngineClients);

impl KafkaClients for Checked {
    fn call(&mut self, call: &ClientCall) -> ClientReply {
        let reply = self.0.call(call);
        if let Err(e) = self.0.cluster().check_invariants() {
            panic!("invariant broken after {call:?}: {e}");
        }
        reply
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_kafka_golden_runs_the_same_on_the_engine() {
    let allow_text =
        std::fs::read_to_string(root().join("tests/real_broker/kafka-allowlist.toml")).expect("allow-list");
    let allow = parse_allow_list(&allow_text).expect("a valid allow-list");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(root().join("tests/scenarios/kafka"))
        .expect("the Kafka goldens")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("program.kafka").is_file())
        .collect();
    folders.sort();
    assert!(folders.len() >= 10, "the Kafka goldens lost programs: {}", folders.len());
    let mut failures = String::new();
    let mut matched: Vec<(String, u32)> = Vec::new();
    for folder in folders {
        let name = folder.file_name().expect("a name").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(folder.join("program.kafka")).expect("program");
        let expected = std::fs::read_to_string(folder.join("expected.txt")).expect("expected.txt");
        let program = program::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        // `args` holds `--brokers N` for a program written for a cluster, `--racks A,B,C` for its
        // brokers' racks and `--broker-config K=V` for a broker setting (the test script starts its
        // cluster with the same lines in server.properties).
        let args = std::fs::read_to_string(folder.join("args")).unwrap_or_default();
        let clients =
            EngineClients::from_golden_args(0, &args).unwrap_or_else(|e| panic!("{name}/args: {e}"));
        let mut engine = Checked(clients);
        let transcript = program::run(&program, &mut engine);
        let differences = compare(&name, &transcript, &recorded(&expected), &allow);
        matched.extend(
            differences.iter().filter(|d| d.allowed.is_some()).map(|d| (name.clone(), d.line.step_line)),
        );
        if differences.iter().any(|d| d.allowed.is_none()) {
            failures.push_str(&render(&name, &differences));
        }
    }
    assert!(failures.is_empty(), "the engine differs from Kafka's goldens:\n{failures}");
    // Every allow-list entry is still needed (a fixed gap's entry must go).
    for a in &allow {
        assert!(
            matched.iter().any(|(n, l)| *n == a.scenario && *l == a.line),
            "the allow-list entry for {} line {} matches no difference any more: remove it",
            a.scenario,
            a.line
        );
    }
}
