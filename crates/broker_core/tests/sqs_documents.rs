//! The SQS document goldens: every `tests/scenarios/sqs-tutorials/<name>/document.json` is played and its
//! transcript compared with `expected.txt` next to it (written once from a reviewed run; a change in a
//! transcript is a change in behaviour, to be explained, never regenerated to hide it). Every check of
//! every golden passes, and no run stops (the runtime stops a run whose ledger breaks: each message
//! visible, in flight, delayed, deleted, expired, purged or moved — exactly one). `UPDATE_GOLDEN=1`
//! writes missing or changed files for review. Malformed documents get located errors.

use broker_core::sqs::scenario::{SqsRun, SqsRunOptions};
use sim_kernel::checks::CheckStatus;
use std::path::{Path, PathBuf};

fn golden_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios/sqs-tutorials");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/scenarios/sqs-tutorials")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("document.json").exists())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_sqs_tutorial_plays_its_expected_transcript_and_its_checks_pass() {
    let dirs = golden_dirs();
    assert!(dirs.len() >= 5, "at least five SQS tutorials, found {}", dirs.len());
    let mut problems = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(dir.join("document.json")).unwrap();
        let mut run =
            SqsRun::from_json(&text, SqsRunOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        run.run();
        assert!(run.stopped().is_none(), "{name}: stopped: {:?}", run.stopped());
        for r in run.check_results() {
            if r.status != CheckStatus::Pass {
                problems.push(format!("{name}: {}", r.line()));
            }
        }
        let transcript = run.transcript();
        let expected_path = dir.join("expected.txt");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&expected_path, &transcript).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if transcript != expected {
            let first = transcript.lines().zip(expected.lines()).position(|(a, b)| a != b);
            problems.push(format!(
                "{name}: transcript differs from expected.txt (first differing line {first:?}; {} lines vs {})",
                transcript.lines().count(),
                expected.lines().count()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn error_of(text: &str) -> String {
    match SqsRun::from_json(text, SqsRunOptions::default()) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_sqs_documents_are_refused_at_their_place() {
    let e =
        error_of("{\"brokerlab\": 2, \"model\": \"sqs\",\n \"queues\": [{\"name\": \"q\", \"colour\": 1}]}");
    assert!(e.contains("unknown field `colour`"), "{e}");
    assert!(e.starts_with("2:"), "{e}");
    let e = error_of("{\"brokerlab\": 2, \"model\": \"sqs\",\n \"consumers\": [{\"name\": \"c\", \"queue\": \"nowhere\"}]}");
    assert_eq!(e, "2:39: consumers[0].queue: no queue 'nowhere' in queues");
    // SQS's own validation, at the queue that fails it.
    let e = error_of(
        "{\"brokerlab\": 2, \"model\": \"sqs\",\n \"queues\": [{\"name\": \"q\", \"attributes\": {\"VisibilityTimeout\": \"50000\"}}]}",
    );
    assert!(e == "2:13: queues[0]: CreateQueue: (InvalidAttributeValue) Invalid value for the parameter VisibilityTimeout.", "{e}");
    // A short-polling loop that never pauses would spin at one instant.
    let e = error_of(
        "{\"brokerlab\": 2, \"model\": \"sqs\", \"queues\": [{\"name\": \"q\"}],\n \"consumers\": [{\"name\": \"c\", \"queue\": \"q\", \"pause_when_empty\": 0}]}",
    );
    assert!(e.contains("consumers[0].pause_when_empty: a short-polling loop that never pauses"), "{e}");
    let e = error_of(
        "{\"brokerlab\": 2, \"model\": \"sqs\", \"queues\": [{\"name\": \"q\"}],\n \"producers\": [{\"name\": \"p\", \"queue\": \"q\", \"rate\": 1000}]}",
    );
    assert!(e.contains("more than 20000 messages"), "{e}");
    let e = error_of(
        "{\"brokerlab\": 2, \"model\": \"sqs\", \"queues\": [{\"name\": \"q\"}],\n \"checks\": [{\"visible\": {\"queue\": \"q\"}}]}",
    );
    assert!(e.contains("a visible check needs \"expect\""), "{e}");
}

#[test]
fn a_seed_changes_the_draws_and_the_same_seed_the_same_run() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/scenarios/sqs-tutorials/fifo-order-and-deduplication/document.json");
    let text = std::fs::read_to_string(path).unwrap();
    let play = |seed: Option<u64>| {
        let mut run = SqsRun::from_json(&text, SqsRunOptions { seed, ..SqsRunOptions::default() }).unwrap();
        run.run();
        (run.transcript(), run.to_json())
    };
    assert_eq!(play(None), play(None));
    assert_ne!(play(Some(99)).0, play(None).0);
}

/// A consumer that crashes while working: its message comes back after the visibility timeout and the
/// other consumer processes it; nothing is lost and the ledger holds throughout (the run does not stop).
#[test]
fn a_crashed_consumers_message_comes_back_after_its_visibility_timeout() {
    let text = r#"{ "brokerlab": 2, "model": "sqs", "duration": "30s", "short_poll_sampling": false,
      "queues": [ { "name": "q", "attributes": { "VisibilityTimeout": "10" } } ],
      "producers": [ { "name": "p", "queue": "q", "count": 1, "body": "job" } ],
      "consumers": [ { "name": "a", "queue": "q", "wait_time_seconds": 20, "processing": "5s" },
                     { "name": "b", "queue": "q", "start": "1s", "wait_time_seconds": 20, "processing": "5s" } ],
      "faults": [ { "at": "2s", "consumer_crash": "a" } ],
      "checks": [ { "at": "5s", "in_flight": { "queue": "q" }, "expect": 1 },
                  { "at": "9s", "received": { "consumer": "b" }, "expect": 0 },
                  { "received": { "consumer": "b" }, "expect": 1 },
                  { "processed": { "consumer": "a" }, "expect": 0 },
                  { "deleted": { "consumer": "b" }, "expect": 1 },
                  { "max_receive_count": { "queue": "q" }, "expect": 2 } ] }"#;
    let mut run = SqsRun::from_json(text, SqsRunOptions::default()).unwrap();
    run.run();
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
    let transcript = run.transcript();
    for r in run.check_results() {
        assert_eq!(r.status, CheckStatus::Pass, "{}\n{transcript}", r.line());
    }
    assert!(transcript.contains("2.000s a crashed\n"), "{transcript}");
    assert!(transcript.contains("10.000s b <- q \"job\""), "{transcript}");
}
