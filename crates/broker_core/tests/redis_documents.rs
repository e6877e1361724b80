//! The Redis document goldens: every `tests/scenarios/redis-tutorials/<name>/document.json` is played and
//! its transcript compared with `expected.txt` next to it (written once from a reviewed run; a change in
//! a transcript is a change in behaviour, to be explained, never regenerated to hide it), and its JSON
//! report with `expected.json` (the frozen serde shape of the events). Every check of every golden
//! passes, and no run stops (the runtime stops a run whose ledgers break: each list element in one
//! list, one worker's hand, done or lost; each stream entry per group unread, pending in exactly one
//! consumer's PEL, or acknowledged). `UPDATE_GOLDEN=1` writes missing or changed files for review.
//! Malformed documents get located errors. The documents of `tests/scenarios/redis-restarts/` (server
//! restarts from what persistence kept, which a real redis-server cannot be made to show: they are
//! played on the engine only) are held to the same, and so are those of
//! `tests/scenarios/redis-slow-subscribers/` (subscribers that stop reading and are cut off by
//! `client-output-buffer-limit pubsub`; engine only too).

use broker_core::redis::scenario::{RedisRun, RedisRunOptions};
use sim_kernel::checks::CheckStatus;
use std::path::{Path, PathBuf};

fn golden_dirs() -> Vec<PathBuf> {
    dirs_in("redis-tutorials")
}

fn dirs_in(folder: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios").join(folder);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("a folder of documents")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("document.json").exists())
        .collect();
    dirs.sort();
    dirs
}

fn compare(problems: &mut Vec<String>, name: &str, path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if actual != expected {
        let first = actual.lines().zip(expected.lines()).position(|(a, b)| a != b);
        problems.push(format!(
            "{name}: differs from {} (first differing line {first:?}; {} lines vs {})",
            path.display(),
            actual.lines().count(),
            expected.lines().count()
        ));
    }
}

#[test]
fn every_redis_tutorial_plays_its_expected_transcript_and_its_checks_pass() {
    let dirs = golden_dirs();
    assert!(dirs.len() >= 5, "at least five Redis tutorials, found {}", dirs.len());
    play_goldens(dirs);
}

#[test]
fn every_restart_document_plays_its_expected_transcript_and_its_checks_pass() {
    let dirs = dirs_in("redis-restarts");
    assert!(dirs.len() >= 4, "at least four restart documents, found {}", dirs.len());
    play_goldens(dirs);
}

#[test]
fn every_slow_subscriber_document_plays_its_expected_transcript_and_its_checks_pass() {
    // Played on the engine only: on a real server the kernel's socket buffers take a client's unread
    // bytes before redis-server's output buffer grows (docs/redis-documents.md, "Faults").
    let dirs = dirs_in("redis-slow-subscribers");
    assert!(!dirs.is_empty(), "at least one slow-subscriber document");
    play_goldens(dirs);
}

fn play_goldens(dirs: Vec<PathBuf>) {
    let mut problems = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(dir.join("document.json")).unwrap();
        let mut run =
            RedisRun::from_json(&text, RedisRunOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        run.run();
        assert!(run.stopped().is_none(), "{name}: stopped: {:?}\n{}", run.stopped(), run.transcript());
        for r in run.check_results() {
            if r.status != CheckStatus::Pass {
                problems.push(format!("{name}: {}", r.line()));
            }
        }
        compare(&mut problems, &name, &dir.join("expected.txt"), &run.transcript());
        compare(&mut problems, &name, &dir.join("expected.json"), &format!("{}\n", run.to_json()));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn error_of(text: &str) -> String {
    match RedisRun::from_json(text, RedisRunOptions::default()) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_redis_documents_are_refused_at_their_place() {
    let e = error_of("{\"brokerlab\": 2, \"model\": \"redis\",\n \"workers\": [{\"name\": \"w\", \"list\": \"q\", \"colour\": 1}]}");
    assert!(e.contains("unknown field `colour`"), "{e}");
    assert!(e.starts_with("2:"), "{e}");
    let e = error_of(
        "{\"brokerlab\": 2, \"model\": \"redis\",\n \"workers\": [{\"name\": \"w\", \"stream\": \"s\", \"group\": \"g\"}]}",
    );
    assert_eq!(e, "2:52: workers[0].group: no group 'g' of stream 's' in groups");
    let e = error_of(
        "{\"brokerlab\": 2, \"model\": \"redis\",\n \"producers\": [{\"name\": \"p\", \"list\": \"q\", \"channel\": \"c\"}]}",
    );
    assert!(
        e.contains("producers[0]: a producer pushes to a list, adds to a stream or publishes to a channel"),
        "{e}"
    );
    let e = error_of(
        "{\"brokerlab\": 2, \"model\": \"redis\",\n \"producers\": [{\"name\": \"p\", \"list\": \"q\", \"rate\": 1000}]}",
    );
    assert!(e.contains("more than 20000 messages"), "{e}");
    let e = error_of(
        "{\"brokerlab\": 2, \"model\": \"redis\",\n \"checks\": [{\"list_length\": {\"key\": \"q\"}}]}",
    );
    assert!(e.contains("a list_length check needs \"expect\""), "{e}");
    let e = error_of(
        "{\"brokerlab\": 2, \"model\": \"redis\",\n \"faults\": [{\"at\": \"1s\", \"worker_crash\": \"nobody\"}]}",
    );
    assert!(e.contains("faults[0].worker_crash: no worker 'nobody'"), "{e}");
    // Redis itself refuses a group on a key that is not a stream: the run is not built.
    let e = error_of(
        "{\"brokerlab\": 2, \"model\": \"redis\",\n \"groups\": [{\"stream\": \"s\", \"name\": \"g\", \"id\": \"nonsense\"}]}",
    );
    assert!(
        e.contains("groups[0]: XGROUP CREATE s g nonsense MKSTREAM: ERR Invalid stream ID specified as stream command argument"),
        "{e}"
    );
}

#[test]
fn a_seed_changes_the_draws_and_the_same_seed_the_same_run() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/scenarios/redis-tutorials/streams-consumer-groups-and-xautoclaim/document.json");
    let text = std::fs::read_to_string(path).unwrap();
    let play = |seed: Option<u64>| {
        let mut run =
            RedisRun::from_json(&text, RedisRunOptions { seed, ..RedisRunOptions::default() }).unwrap();
        run.run();
        (run.transcript(), run.to_json())
    };
    assert_eq!(play(None), play(None));
    assert_ne!(play(Some(99)).0, play(None).0);
}

/// A restart without persistence: every queued element is lost, the consumer group is gone (the
/// stream worker's XREADGROUP then fails with NOGROUP), the subscriber is cut off and subscribes again.
#[test]
fn a_restart_without_persistence_loses_the_keys_and_the_groups() {
    let text = r#"{ "brokerlab": 2, "model": "redis", "duration": "5s",
      "groups": [ { "stream": "s", "name": "g" } ],
      "producers": [ { "name": "p", "list": "q", "count": 3, "rate": 10 },
                     { "name": "x", "stream": "s", "count": 1 },
                     { "name": "n", "channel": "c", "start": "3s", "count": 1 } ],
      "workers": [ { "name": "r", "stream": "s", "group": "g", "processing": "10s" },
                   { "name": "late", "list": "q", "start": "4s" } ],
      "subscribers": [ { "name": "sub", "channels": ["c"] } ],
      "faults": [ { "at": "1s", "server_restart": true } ],
      "checks": [ { "lost": {}, "expect": 3 },
                  { "list_length": { "key": "q" }, "expect": 0 },
                  { "received": { "actor": "late" }, "expect": 0 },
                  { "received": { "actor": "sub" }, "expect": 1 },
                  { "stream_length": { "key": "s" }, "expect": 0 } ] }"#;
    let mut run = RedisRun::from_json(text, RedisRunOptions::default()).unwrap();
    run.run();
    let transcript = run.transcript();
    assert!(run.stopped().is_none(), "{:?}\n{transcript}", run.stopped());
    for r in run.check_results() {
        assert_eq!(r.status, CheckStatus::Pass, "{}\n{transcript}", r.line());
    }
    assert!(
        transcript.contains(
            "1.000s redis-server restarted from the RDB file saved at 0.000s (0 keys): 2 keys lost or changed back, every client disconnected\n"
        ),
        "{transcript}"
    );
    assert!(transcript.contains("1.000s sub SUBSCRIBE c\n"), "{transcript}");
}

/// Every tutorial under 20 other seeds, and with every worker's processing time random: the ledgers (each
/// element in one place, each entry unread, pending in one PEL or acknowledged) and the server's
/// invariants hold after every instant of every run (a break would stop the run).
#[test]
fn the_invariants_hold_under_other_seeds_and_random_processing_times() {
    for dir in golden_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(dir.join("document.json")).unwrap();
        let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        if let Some(workers) = doc.get_mut("workers").and_then(|w| w.as_array_mut()) {
            for w in workers {
                w["processing"] = serde_json::json!({ "exponential": "1500ms" });
            }
        }
        let text = doc.to_string();
        for seed in 1..=20 {
            let options = RedisRunOptions { seed: Some(seed), ..RedisRunOptions::default() };
            let mut run = RedisRun::from_json(&text, options).unwrap();
            run.run();
            assert!(run.stopped().is_none(), "{name} seed {seed}: {:?}\n{}", run.stopped(), run.transcript());
        }
    }
}
