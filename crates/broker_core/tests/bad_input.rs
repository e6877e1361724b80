//! The bad-input catalogue: every hostile or malformed input found so far, kept as a case with the exact
//! answer it must get. `tests/bad-input/<kind>/<case>.<ext>` is the input and `<case>.expected` what the
//! engine answers: an error with its `line:col`, or how the (bounded) run ended. Kinds read here:
//! `format1` (`.brokerlab`), `document` (`.json`), `definitions` (`.json`, RabbitMQ's definitions
//! import), `script` (`.rhai`, run as a consumer's `on_message` in a small document), `kafka` (`.kafka`,
//! a Kafka program: parsed only). The app's own
//! decoders (permalinks, workspaces, embed messages) keep theirs in the same tree, read by the app
//! crate's `bad_input` unit test.
//!
//! `UPDATE_GOLDEN=1 cargo test -p broker_core --test bad_input` rewrites the expected files; read every
//! rewritten one before committing it. A new case is a new file: its expected file is written on the first
//! run with `UPDATE_GOLDEN=1`, and the test fails while one is missing.

use broker_core::amqp::definitions;
use broker_core::amqp::{Broker, BrokerConfig};
use broker_core::scenario::document::locate;
use broker_core::scenario::sim::{SimOptions, Simulation};
use broker_core::scenario::{self, RunOptions, Scenario};
use broker_core::VirtualTime;
use std::path::{Path, PathBuf};

fn catalogue_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bad-input")
}

/// A format-1 scenario: its parse error, or how its run ended.
fn format1_outcome(bytes: &[u8]) -> String {
    let text = match scenario::decode_source(bytes) {
        Ok(text) => text,
        Err(e) => return format!("error {e}"),
    };
    let scenario = match Scenario::parse(text) {
        Ok(s) => s,
        Err(e) => return format!("error {e}"),
    };
    let report = scenario::run(&scenario, &RunOptions::default());
    match report.stopped {
        Some(stop) => {
            format!("stopped {}:{} at {}: {}", stop.pos.line, stop.pos.col, stop.at, stop.message)
        }
        None => format!("ran {} statements to {}", scenario.statement_count(), report.end),
    }
}

/// A scenario document: its error, or how its run ended and its checks.
fn document_outcome(bytes: &[u8]) -> String {
    let text = match scenario::decode_source(bytes) {
        Ok(text) => text,
        Err(e) => return format!("error {e}"),
    };
    if scenario::document::model_of(text) == Ok(scenario::document::ModelName::Kafka) {
        return kafka_document_outcome(text);
    }
    let mut sim = match Simulation::from_json(text, SimOptions::default()) {
        Ok(sim) => sim,
        Err(e) => return format!("error {e}"),
    };
    sim.run();
    let mut out = match sim.stopped() {
        Some(stop) => {
            format!("stopped {}:{} at {}: {}", stop.pos.line, stop.pos.col, stop.at, stop.message)
        }
        None => format!("ran to {}", sim.now()),
    };
    for r in sim.check_results() {
        out.push('\n');
        out.push_str(&r.line());
    }
    out
}

/// A Kafka document (`"model": "kafka"`): its error, or how its run ended and its checks.
fn kafka_document_outcome(text: &str) -> String {
    use broker_core::kafka::scenario::{KafkaRun, KafkaRunOptions};
    let mut run = match KafkaRun::from_json(text, KafkaRunOptions::default()) {
        Ok(run) => run,
        Err(e) => return format!("error {e}"),
    };
    run.run();
    let mut out = match run.stopped() {
        Some(stop) => format!("stopped at {}: {}", stop.at, stop.message),
        None => "ran to the end".to_string(),
    };
    for r in run.check_results() {
        out.push('\n');
        out.push_str(&r.line());
    }
    out
}

/// A definitions.json imported into a fresh broker, as `brokerlab definitions import` does.
fn definitions_outcome(bytes: &[u8]) -> String {
    let text = match scenario::decode_source(bytes) {
        Ok(text) => text,
        Err(e) => return format!("error {e}"),
    };
    let mut broker = Broker::new(BrokerConfig::default(), 0);
    match definitions::import_json(&mut broker, VirtualTime::ZERO, text) {
        Ok(report) => format!(
            "imported {} exchanges, {} queues, {} bindings",
            report.exchanges.len(),
            report.queues.len(),
            report.bindings
        ),
        Err(e) => match locate(text, &e.path) {
            Some(pos) => format!("error {}:{}: {e}", pos.line, pos.col),
            None => format!("error {e}"),
        },
    }
}

/// A script as a consumer's `on_message` (three messages come by): its compile error, or the run.
fn script_outcome(bytes: &[u8]) -> String {
    let source = match scenario::decode_source(bytes) {
        Ok(text) => text,
        Err(e) => return format!("error {e}"),
    };
    let document = serde_json::json!({
        "brokerlab": 2,
        "duration": "2s",
        "definitions": { "queues": [ { "name": "q" } ] },
        "producers": [ { "name": "p", "routing_key": "q", "count": 3 } ],
        "consumers": [ { "name": "c", "queue": "q", "script": "s" } ],
        "scripts": { "s": source }
    });
    document_outcome(document.to_string().as_bytes())
}

/// A Kafka program (`docs/kafka-programs.md`): its parse error, or how many statements it has.
fn kafka_outcome(bytes: &[u8]) -> String {
    let text = match scenario::decode_source(bytes) {
        Ok(text) => text,
        Err(e) => return format!("error {e}"),
    };
    match broker_core::kafka::program::parse(text) {
        Ok(p) => format!("parsed {} statements", p.statements.len()),
        Err(e) => format!("error {e}"),
    }
}

/// What a kind's input came to, as the expected files hold it.
type Outcome = fn(&[u8]) -> String;

#[test]
fn every_bad_input_gets_its_catalogued_answer() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let kinds: [(&str, Outcome); 5] = [
        ("format1", format1_outcome),
        ("document", document_outcome),
        ("definitions", definitions_outcome),
        ("script", script_outcome),
        ("kafka", kafka_outcome),
    ];
    // `BAD_INPUT_ONLY=deep` runs only the cases whose `kind/file` name contains the text.
    let only = std::env::var("BAD_INPUT_ONLY").ok();
    let mut failures = Vec::new();
    let mut cases = 0;
    for (kind, outcome) in kinds {
        let dir = catalogue_root().join(kind);
        let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| entry.expect("readable entry").path())
            .filter(|p| p.extension().is_some_and(|e| e != "expected"))
            .collect();
        inputs.sort();
        for input in inputs {
            let name = format!("{kind}/{}", input.file_name().expect("a file name").to_string_lossy());
            if only.as_ref().is_some_and(|only| !name.contains(only.as_str())) {
                continue;
            }
            cases += 1;
            let bytes = std::fs::read(&input).expect("readable case");
            let got = outcome(&bytes) + "\n";
            let expected_path = input.with_extension("expected");
            if update {
                std::fs::write(&expected_path, &got).expect("writable expected file");
                continue;
            }
            match std::fs::read_to_string(&expected_path) {
                Ok(expected) if expected == got => {}
                Ok(expected) => failures.push(format!("{name}:\n  expected: {expected}  got:      {got}")),
                Err(_) => failures.push(format!("{name}: no .expected file (run with UPDATE_GOLDEN=1)")),
            }
        }
    }
    assert!(only.is_some() || cases >= 30, "the catalogue lost cases: {cases}");
    assert!(failures.is_empty(), "{} case(s) differ:\n{}", failures.len(), failures.join("\n"));
}
