//! The Redis golden programs: `tests/scenarios/redis/<name>/program.redis` run on the engine must print
//! `expected.txt`, the transcript recorded from redis-server 7.0 (`brokerlab run … --broker
//! redis://127.0.0.1:PORT --record expected.txt`), with no difference after the comparison's
//! normalisation (stream-id milliseconds from the wall clock, `XPENDING` idle times floored to 100 ms).
//! `scripts/real-redis-tests.sh` plays the same programs on a fresh redis-server in CI.

use std::path::PathBuf;

use broker_core::redis::program;

#[test]
fn every_golden_program_agrees_with_the_recorded_redis_server_transcript() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios/redis");
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    assert!(dirs.len() >= 8, "golden programs in {}", root.display());
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let file = dir.join("program.redis");
        let text = std::fs::read_to_string(&file).unwrap();
        let parsed =
            program::parse(&text).unwrap_or_else(|e| panic!("{}", e.located(&file.display().to_string())));
        let (transcript, checked) = program::run::run_checked(&parsed, |r| r.check_invariants());
        checked.unwrap_or_else(|e| panic!("{name}: invariant broken at {e}"));
        let expected = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
        let differences = program::compare::differences(&name, &transcript.text(), &expected, &parsed, "");
        assert!(differences.is_empty(), "{name}:\n{}", differences.join("\n"));
    }
}
