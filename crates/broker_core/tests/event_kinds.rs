//! An event knows its kind (`Event::kind`, the one place a kind is derived): it must be the event's
//! `event` tag as serde writes it, and listed in `Event::KINDS` (what a check may name, what the event log
//! offers). Checked against the serialized events of every format-1 golden scenario and every bundled
//! document, which between them meet most kinds, and of hand-built events for the others.

use broker_core::amqp::exchange::Destination;
use broker_core::amqp::Event;
use broker_core::scenario::sim::{SimOptions, Simulation};
use broker_core::scenario::{run, RunOptions, Scenario};
use sim_kernel::EventInfo;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &Path, pick: impl Fn(&Path) -> Option<PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable folder")
        .filter_map(|e| pick(&e.expect("entry").path()))
        .collect();
    out.sort();
    out
}

#[test]
fn every_event_kind_is_its_serde_tag_and_listed() {
    let mut events: Vec<Event> = Vec::new();
    let golden = files(&repo().join("tests/scenarios/amqp"), |p| Some(p.join("scenario.brokerlab")));
    for path in golden.iter().filter(|p| p.exists()) {
        let scenario = Scenario::parse(&std::fs::read_to_string(path).unwrap()).expect("a golden scenario");
        events.extend(run(&scenario, &RunOptions::default()).events.into_iter().map(|e| e.event));
    }
    let documents =
        files(&repo().join("www/scenarios"), |p| (p.extension()? == "json").then(|| p.to_path_buf()));
    assert!(documents.len() >= 11, "the bundled library went missing");
    for path in documents {
        let mut sim = Simulation::from_json(&std::fs::read_to_string(&path).unwrap(), SimOptions::default())
            .expect("a bundled document");
        sim.run();
        events.extend(sim.report().events.into_iter().map(|e| e.event));
    }
    // The kinds no golden run meets, built by hand.
    events.extend([
        Event::BrokerRestarted,
        Event::ExchangeDeleted { exchange: "x".into() },
        Event::QueuePurged { queue: "q".into(), message_count: 0 },
        Event::Unbound {
            source: "x".into(),
            destination: Destination::Queue("q".into()),
            routing_key: "k".into(),
            arguments: Default::default(),
        },
    ]);
    let listed: BTreeSet<&str> = Event::KINDS.iter().copied().collect();
    assert_eq!(listed.len(), Event::KINDS.len(), "a kind is listed twice");
    assert_eq!(<Event as EventInfo>::KINDS, Event::KINDS);
    let mut seen = BTreeSet::new();
    for e in &events {
        let value = serde_json::to_value(e).expect("an event is plain data");
        let tag = value["event"].as_str().expect("an event tag");
        assert_eq!(e.kind(), tag, "{e}");
        assert!(listed.contains(e.kind()), "{} is not in Event::KINDS", e.kind());
        seen.insert(e.kind());
    }
    // A new kind that no run above meets and nobody built shows up here.
    let unseen: Vec<&str> = listed.difference(&seen).copied().collect();
    assert!(unseen.is_empty(), "kinds never checked: {unseen:?}");
}
