//! The public JSON shapes, frozen: the JSON report of a format-1 scenario and of a scenario document
//! (steps, every event kind they meet, queues, check results) must stay byte for byte what
//! `tests/json_shapes/*.json` hold. The web app's embed events, the native runner's `--json` and saved
//! reports read and write these shapes, so moving a type between crates (issue #16: the simulation kernel)
//! must not change them. `UPDATE_GOLDEN=1 cargo test -p broker_core --test json_shapes` rewrites the files;
//! a rewrite is a change of a public format and needs a reason in the commit.

use broker_core::scenario::sim::{SimOptions, Simulation};
use broker_core::scenario::{run, EventFilter, RunOptions, Scenario};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check(name: &str, got: &str, failures: &mut Vec<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/json_shapes").join(name);
    let got = format!("{got}\n");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("writable folder");
        std::fs::write(&path, &got).expect("writable golden");
        return;
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) if expected == got => {}
        Ok(_) => failures.push(format!("{name} differs (UPDATE_GOLDEN=1 shows how)")),
        Err(_) => failures.push(format!("{name}: missing (run with UPDATE_GOLDEN=1)")),
    }
}

#[test]
fn json_reports_keep_their_shape() {
    let mut failures = Vec::new();
    for scenario in ["mandatory-returns-and-confirms", "argument-errors"] {
        let path = repo().join("tests/scenarios/amqp").join(scenario).join("scenario.brokerlab");
        let text = std::fs::read_to_string(&path).expect("a golden scenario");
        let parsed = Scenario::parse(&text).expect("a valid scenario");
        let report = run(&parsed, &RunOptions::default());
        check(&format!("format1-{scenario}.json"), &report.to_json(&EventFilter::All), &mut failures);
    }
    for document in ["06-rpc", "08-retry-with-dlx"] {
        let path = repo().join("www/scenarios").join(format!("{document}.json"));
        let text = std::fs::read_to_string(&path).expect("a bundled document");
        let mut sim = Simulation::from_json(&text, SimOptions::default()).expect("a valid document");
        sim.run();
        check(&format!("document-{document}.json"), &sim.to_json(&EventFilter::All), &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The durable image a manual workspace stores (`WorkspaceDoc::image`): a stream's log with each entry's
/// offset and write instant and the next offset, beside a classic queue's persistent messages.
#[test]
fn the_durable_image_keeps_its_shape() {
    use broker_core::amqp::{
        BasicProperties, Broker, BrokerConfig, ChannelNumber, FieldTable, FieldValue, Method,
    };
    use broker_core::VirtualTime;
    let mut broker = Broker::new(BrokerConfig::default(), 3);
    let at = VirtualTime::from_millis(1_000);
    let conn = broker.connect(at, "shapes");
    let ch = ChannelNumber(1);
    broker.apply(at, conn, ch, Method::ChannelOpen).unwrap();
    for (name, kind) in [("events", Some("stream")), ("jobs", None)] {
        let mut arguments = FieldTable::new();
        if let Some(kind) = kind {
            arguments.insert("x-queue-type".into(), FieldValue::Str(kind.into()));
            arguments.insert("x-max-age".into(), FieldValue::Str("7D".into()));
        }
        let declare = Method::QueueDeclare {
            queue: name.into(),
            passive: false,
            durable: true,
            exclusive: false,
            auto_delete: false,
            arguments,
        };
        broker.apply(at, conn, ch, declare).unwrap();
    }
    for (i, mode) in [2u8, 1, 2].into_iter().enumerate() {
        let at = VirtualTime::from_millis(2_000 + 500 * i as u64);
        for queue in ["events", "jobs"] {
            let publish = Method::BasicPublish {
                exchange: String::new(),
                routing_key: queue.into(),
                mandatory: false,
                properties: BasicProperties { delivery_mode: Some(mode), ..Default::default() },
                body: format!("{queue} {i}").into_bytes(),
                immediate: false,
            };
            broker.apply(at, conn, ch, publish).unwrap();
        }
    }
    let image = broker.durable_image();
    let mut failures = Vec::new();
    check("durable-image-stream.json", &serde_json::to_string_pretty(&image).unwrap(), &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
