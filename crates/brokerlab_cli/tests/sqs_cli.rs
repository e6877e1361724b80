//! `brokerlab run|check FILE.sqs`: dispatch by extension, the golden transcript, `--json`, and a
//! malformed program's `file:line:col` error with exit code 2.

use std::path::PathBuf;
use std::process::Command;

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn brokerlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_brokerlab")).args(args).output().expect("the runner starts")
}

#[test]
fn an_sqs_program_runs_checks_and_reports_errors() {
    let program = repo_file("tests/scenarios/sqs/visibility-timeout/program.sqs");
    let out = brokerlab(&["run", program.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected =
        std::fs::read_to_string(repo_file("tests/scenarios/sqs/visibility-timeout/expected.txt")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    let out = brokerlab(&["run", program.to_str().unwrap(), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the transcript is JSON");
    assert_eq!(json["lines"][1]["reply"]["Dict"][0][0], "QueueUrl");
    let out = brokerlab(&["check", program.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("ok (sqs program, 15 statements)\n"));
    let bad = std::env::temp_dir().join(format!("brokerlab-bad-{}.sqs", std::process::id()));
    std::fs::write(&bad, "sqs.create_queue(QueueName=\"a\",\n    Bogus=1)\n").unwrap();
    let out = brokerlab(&["run", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "{}:2:5: Unknown parameter in input: \"Bogus\", must be one of: QueueName, Attributes, tags\n",
            bad.display()
        )
    );
    let _ = std::fs::remove_file(&bad);
}
