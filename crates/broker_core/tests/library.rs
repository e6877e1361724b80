//! The tutorial library (`www/scenarios/*.json`): every bundled scenario runs through the simulation
//! runtime with all its checks passing, and deliberately broken copies fail the checks that guard
//! each tutorial's point, with a message naming the check and what was observed.

use broker_core::scenario::sim::{CheckResult, CheckStatus, SimOptions, Simulation};
use std::path::PathBuf;

fn library_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../www/scenarios")
}

/// Every `*.json` of the library, by file name, with its text.
fn bundled() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(library_dir())
        .expect("www/scenarios exists")
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_name().expect("a file").to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).expect("readable scenario");
            (name, text)
        })
        .collect();
    files.sort();
    files
}

fn scenario(name: &str) -> String {
    std::fs::read_to_string(library_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Runs a document to its end with the broker's invariants checked at every instant.
fn run(name: &str, text: &str) -> Vec<CheckResult> {
    let options = SimOptions { check_invariants: true, ..SimOptions::default() };
    let mut sim = Simulation::from_json(text, options).unwrap_or_else(|e| panic!("{}", e.located(name)));
    sim.run();
    if let Some(stop) = sim.stopped() {
        panic!("{name}: the run stopped early: {stop:?}");
    }
    sim.check_results()
}

/// Runs a copy of a bundled scenario changed by `mutate`.
fn run_mutated(name: &str, mutate: impl FnOnce(&mut serde_json::Value)) -> Vec<CheckResult> {
    let mut doc: serde_json::Value = serde_json::from_str(&scenario(name)).expect("valid JSON");
    mutate(&mut doc);
    run(name, &doc.to_string())
}

/// The 1-based numbers of the checks that failed.
fn failed(results: &[CheckResult]) -> Vec<usize> {
    results.iter().filter(|r| r.status == CheckStatus::Fail).map(|r| r.index + 1).collect()
}

fn lines(results: &[CheckResult]) -> String {
    results.iter().map(CheckResult::line).collect::<Vec<_>>().join("\n")
}

#[test]
fn every_bundled_scenario_passes_all_its_checks() {
    let files = bundled();
    assert!(files.len() >= 11, "the library has the 7 tutorials and 4 patterns: {files:?}");
    let mut failures = Vec::new();
    for (name, text) in &files {
        let results = run(name, text);
        assert!(results.len() >= 3, "{name}: a tutorial scenario carries checks that test its point");
        if results.iter().any(|r| r.status != CheckStatus::Pass) {
            failures.push(format!("{name}:\n{}", lines(&results)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_library_covers_the_tutorials_and_the_readme_lists_every_file() {
    let names: Vec<String> = bundled().into_iter().map(|(n, _)| n).collect();
    for expected in [
        "01-hello-world.json",
        "02-work-queues.json",
        "03-publish-subscribe.json",
        "04-routing.json",
        "05-topics.json",
        "06-rpc.json",
        "07-publisher-confirms.json",
        "08-retry-with-dlx.json",
        "09-poison-message.json",
        "10-priority-queue.json",
        "11-slow-consumer-backlog.json",
    ] {
        assert!(names.iter().any(|n| n == expected), "missing {expected}");
    }
    let readme = std::fs::read_to_string(library_dir().join("README.md")).expect("www/scenarios/README.md");
    for name in &names {
        assert!(readme.contains(name.as_str()), "README.md does not list {name}");
    }
}

/// The stream tutorial's transcript (`brokerlab run www/scenarios/12-stream-replay.json`), byte for byte,
/// in the folder of the other bundled documents' goldens (`tests/determinism/`): every delivery with its
/// `x-stream-offset`. `UPDATE_GOLDEN=1` rewrites it.
#[test]
fn the_stream_tutorial_transcript_is_golden() {
    let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/determinism/scenario-12-stream-replay.txt");
    let actual = broker_core::scenario::sim::run_document_transcript(&scenario("12-stream-replay.json"))
        .expect("the document runs");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().expect("a folder")).expect("writable folder");
        std::fs::write(&golden, &actual).expect("writable golden");
    }
    let expected = std::fs::read_to_string(&golden).expect("tests/determinism/scenario-12-stream-replay.txt");
    assert_eq!(actual, expected, "the stream tutorial's transcript changed (UPDATE_GOLDEN=1 rewrites it)");
}

#[test]
fn the_stream_tutorials_checks_guard_its_point() {
    // Without an offset the audit reads from "next": nothing of the history.
    let results = run_mutated("12-stream-replay.json", |doc| {
        doc["consumers"][1]["arguments"] = serde_json::json!({});
    });
    assert_eq!(failed(&results), [2, 4], "{}", lines(&results));
    // A classic queue instead of a stream: messages are consumed once, by whoever is there.
    let results = run_mutated("12-stream-replay.json", |doc| {
        doc["definitions"]["queues"][0]["arguments"] = serde_json::json!({});
        for c in doc["consumers"].as_array_mut().expect("consumers") {
            c["arguments"] = serde_json::json!({});
        }
    });
    assert_eq!(failed(&results), [1, 2, 3, 4], "{}", lines(&results));
}

#[test]
fn a_broken_copy_fails_naming_the_check_and_why() {
    // Work queues without prefetch: RabbitMQ pushes all ten tasks at once, half to each worker.
    let results = run_mutated("02-work-queues.json", |doc| {
        for c in doc["consumers"].as_array_mut().expect("consumers") {
            c["prefetch"] = 0.into();
        }
    });
    assert_eq!(failed(&results), [1, 2, 3], "{}", lines(&results));
    assert_eq!(
        results[0].line(),
        "check 1 FAIL: prefetch 1: each worker holds exactly one unacknowledged task at a time; observed 8 \
         (0 ready, 8 unacked)"
    );
    assert_eq!(
        results[1].line(),
        "check 2 FAIL: fair dispatch: the busy worker-1 was handed only its first task; observed 5"
    );
}

#[test]
fn the_checks_guard_each_tutorials_point() {
    // Topics: '#' instead of '*' also matches several words.
    let results = run_mutated("05-topics.json", |doc| {
        doc["consumers"][0]["bind"][0]["routing_key"] = "#.orange.#".into();
    });
    assert_eq!(failed(&results), [1, 2, 6], "{}", lines(&results));

    // Priorities: without x-max-priority the queue is FIFO and the reports come first.
    let results = run_mutated("10-priority-queue.json", |doc| {
        doc["definitions"]["queues"][0]["arguments"] = serde_json::json!({});
    });
    assert_eq!(failed(&results), [2, 3, 4], "{}", lines(&results));

    // Publisher confirms: without latency the individual strategy is not slow any more.
    let results = run_mutated("07-publisher-confirms.json", |doc| {
        for p in doc["producers"].as_array_mut().expect("producers") {
            p["latency"] = 0.into();
        }
    });
    assert!(failed(&results).contains(&4), "{}", lines(&results));

    // Retry: without the policy's TTL the messages never come back from the retry queue.
    let results = run_mutated("08-retry-with-dlx.json", |doc| {
        doc["definitions"]["policies"] = serde_json::json!([]);
    });
    assert!(failed(&results).contains(&4), "{}", lines(&results));

    // Poison message: without the delivery limit the message is redelivered for ever.
    let results = run_mutated("09-poison-message.json", |doc| {
        doc["definitions"]["queues"][0]["arguments"]
            .as_object_mut()
            .expect("arguments")
            .remove("x-delivery-limit");
    });
    assert!(failed(&results).contains(&2), "{}", lines(&results));
}

/// The web app runs documents without the simulation's own log, taking each event as it happens
/// (`hand_over_events`): it must see exactly the events the kept log records, in the same order, taken
/// in pieces of any size.
#[test]
fn handed_over_events_are_the_logged_events_in_order() {
    use broker_core::VirtualTime;
    for (name, text) in bundled() {
        let mut logged = Simulation::from_json(&text, SimOptions::default()).expect("loads");
        logged.run();
        let expected = logged.take_events();
        assert!(!expected.is_empty(), "{name}: the run logs events");

        let options = SimOptions { keep_log: false, hand_over_events: true, ..SimOptions::default() };
        let mut handed = Simulation::from_json(&text, options).expect("loads");
        let mut got = Vec::new();
        let mut t = 0;
        while !handed.finished() {
            t += 137; // an odd step, so pieces end anywhere
            handed.run_until(VirtualTime::from_millis(t));
            if VirtualTime::from_millis(t) >= handed.end() {
                handed.run();
            }
            got.extend(handed.take_events());
        }
        got.extend(handed.take_events());
        assert_eq!(got, expected, "{name}");
        assert!(handed.report().events.is_empty(), "{name}: nothing is kept twice");
    }
}
