//! `brokerlab run|check FILE.redis`: dispatch by extension, the golden transcript (a golden without
//! stream ids from the wall clock or idle times, so the real server's recording is the engine's output
//! byte for byte), `--json`, and a malformed program's `file:line:col` error with exit code 2.

use std::path::PathBuf;
use std::process::Command;

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn brokerlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_brokerlab")).args(args).output().expect("the runner starts")
}

#[test]
fn a_redis_program_runs_checks_and_reports_errors() {
    let program = repo_file("tests/scenarios/redis/blocking-pops/program.redis");
    let out = brokerlab(&["run", program.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected =
        std::fs::read_to_string(repo_file("tests/scenarios/redis/blocking-pops/expected.txt")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    let out = brokerlab(&["run", program.to_str().unwrap(), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the transcript is JSON");
    assert_eq!(json["lines"][0], "main> RPUSH ready first");
    let out = brokerlab(&["check", program.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("ok (redis program, 31 statements)\n"));
    let bad = std::env::temp_dir().join(format!("brokerlab-bad-{}.redis", std::process::id()));
    std::fs::write(&bad, "PING\nLPUSH q \"unclosed\n").unwrap();
    let out = brokerlab(&["run", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("{}:2:9: Invalid argument(s)\n", bad.display()));
    let _ = std::fs::remove_file(&bad);
}
