//! Runs the `brokerlab` binary: on a golden scenario (transcript and `--json`), on a malformed file
//! (exit 2 with `file:line:col`), with a bad command line, and into the runaway guard (exit 1).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn brokerlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brokerlab")).args(args).output().expect("the binary runs")
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios/amqp").join(name)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8 stderr")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brokerlab-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temp file");
    path
}

#[test]
fn run_prints_the_golden_transcript() {
    let dir = golden("tutorial-1-hello-world");
    let out = brokerlab(&["run", dir.join("scenario.brokerlab").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let expected = std::fs::read_to_string(dir.join("expected.txt")).expect("expected transcript");
    assert_eq!(stdout(&out), expected);
}

#[test]
fn json_report_has_steps_events_and_queues() {
    let dir = golden("tutorial-1-hello-world");
    let out = brokerlab(&["run", "--json", dir.join("scenario.brokerlab").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("stdout is JSON");
    assert_eq!(report["format"], "brokerlab-report");
    assert_eq!(report["version"], 1);
    assert_eq!(report["seed"], 1);
    let steps = report["steps"].as_array().expect("steps");
    assert_eq!(steps[0]["outcome"], "connected");
    let declare =
        steps.iter().find(|s| s["method"]["method"] == "queue_declare").expect("a queue.declare step");
    assert_eq!(declare["reply"]["reply"], "queue_declare_ok");
    assert_eq!(declare["reply"]["queue"], "hello");
    let events = report["events"].as_array().expect("events");
    assert!(events.iter().all(|e| e["event"] == "delivered"), "default filter: deliveries only here");
    assert_eq!(events.len(), 1);
    let queues = report["queues"].as_array().expect("queues");
    assert!(queues.iter().any(|q| q["name"] == "hello" && q["messages_ready"] == 0));
    assert!(report["stopped"].is_null());

    let all = brokerlab(&["run", "--json", "--all-events", dir.join("scenario.brokerlab").to_str().unwrap()]);
    let all: serde_json::Value = serde_json::from_str(&stdout(&all)).expect("JSON");
    assert!(all["events"].as_array().unwrap().len() > events.len(), "--all-events shows more events");
}

#[test]
fn a_malformed_file_exits_2_with_its_location() {
    let path = temp_file("broken.brokerlab", "brokerlab-scenario 1\nc = connect(\"c\")\nch = c.channel()\nch.queue_declare(queue=\"q\", durable=yes)\n");
    let shown = path.to_str().unwrap();
    for command in ["run", "check"] {
        let out = brokerlab(&[command, shown]);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(stderr(&out).trim_end(), format!("{shown}:4:37: unknown variable 'yes'"));
        assert!(stdout(&out).is_empty(), "nothing runs");
    }
}

#[test]
fn a_wrong_version_or_missing_file_exits_2() {
    let path = temp_file("v9.brokerlab", "brokerlab-scenario 9\n");
    let out = brokerlab(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(":1:20: unsupported format version 9"), "{}", stderr(&out));

    let out = brokerlab(&["run", "/nonexistent/scenario.brokerlab"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("brokerlab: cannot read /nonexistent/scenario.brokerlab"));

    let out = brokerlab(&["run", "--frobnicate", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown option '--frobnicate'"));
}

#[test]
fn broker_errors_are_results_not_failures() {
    let path = temp_file(
        "errors.brokerlab",
        "brokerlab-scenario 1\nc = connect(\"c\")\nch = c.channel()\nch.queue_declare(queue=\"nope\", passive=True)\n",
    );
    let out = brokerlab(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "ch.queue_declare(queue=\"nope\", passive=True) -> channel error 404 NOT_FOUND - no queue 'nope' in vhost '/'"
        ),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_runaway_guard_stops_the_run_with_exit_1() {
    // Two messages expiring at different times: advancing past both needs two timer firings.
    let path = temp_file(
        "timers.brokerlab",
        "brokerlab-scenario 1\nc = connect(\"c\")\nch = c.channel()\nch.queue_declare(queue=\"q\")\n\
         ch.basic_publish(exchange=\"\", routing_key=\"q\", body=\"a\", properties=BasicProperties(expiration=\"100\"))\n\
         ch.basic_publish(exchange=\"\", routing_key=\"q\", body=\"b\", properties=BasicProperties(expiration=\"200\"))\n\
         wait 1s\n",
    );
    let out = brokerlab(&["run", "--max-timer-firings", "1", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "stdout: {}", stdout(&out));
    assert!(
        stderr(&out).contains(":7:1: runaway: more than 1 timer firings before 1.000s"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("stopped at 7:1: runaway"), "{}", stdout(&out));

    let out = brokerlab(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "with the default guard the run completes: {}", stderr(&out));
}

const DOCUMENT: &str = r#"{
  "brokerlab": 2, "duration": "2s",
  "definitions": { "queues": [ { "name": "q" } ] },
  "producers": [ { "name": "p", "routing_key": "q", "count": 2 } ],
  "checks": [ { "queue": "q", "ready": EXPECTED } ]
}"#;

#[test]
fn a_json_document_runs_and_prints_its_checks() {
    let path = temp_file("doc-pass.json", &DOCUMENT.replace("EXPECTED", "2"));
    let out = brokerlab(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(
        stdout(&out).ends_with("2.000s check 1 pass: at the end queue 'q' ready = 2; observed 2\n"),
        "{}",
        stdout(&out)
    );
    let out = brokerlab(&["run", "--json", path.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    assert_eq!(report["version"], 2);
    assert_eq!(report["checks"][0]["status"], "pass");
    assert_eq!(report["checks"][0]["observed"], "2");
}

#[test]
fn a_failing_check_exits_1_and_says_which() {
    let path = temp_file("doc-fail.json", &DOCUMENT.replace("EXPECTED", "3"));
    let out = brokerlab(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out)
        .contains("check 1 FAIL: at the end queue 'q' ready = 3; observed 2 (2 ready, 0 unacked)"));
    assert!(stderr(&out).ends_with("1 check(s) failed\n"), "{}", stderr(&out));
}

#[test]
fn a_malformed_document_exits_2_with_its_location() {
    let path =
        temp_file("doc-bad.json", &DOCUMENT.replace("EXPECTED", "2").replace("\"count\"", "\"cuont\""));
    let out = brokerlab(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let file = path.to_str().unwrap();
    assert!(stderr(&out).starts_with(&format!("{file}:4:")), "{}", stderr(&out));
    assert!(stderr(&out).contains("unknown field `cuont`"), "{}", stderr(&out));
    let out =
        brokerlab(&["check", temp_file("doc-ok.json", &DOCUMENT.replace("EXPECTED", "2")).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_document_names_its_model_and_an_unknown_or_missing_one_exits_2_at_the_field() {
    let amqp = temp_file(
        "model-amqp.json",
        &DOCUMENT.replace("EXPECTED", "2").replacen('{', "{ \"model\": \"amqp\",", 1),
    );
    let out = brokerlab(&["run", amqp.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let path = temp_file("model-typo.json", "{\n  \"brokerlab\": 2,\n  \"model\": \"kafak\"\n}");
    let out = brokerlab(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let expected =
        format!("{}:3:12: model: unknown model 'kafak'; the models are \"amqp\"", path.to_str().unwrap());
    assert!(stderr(&out).starts_with(&expected), "{}", stderr(&out));
    // A Kafka document is played by its own runtime; its problems are located as well.
    let path =
        temp_file("model-kafka.json", "{\n  \"brokerlab\": 2,\n  \"model\": \"kafka\",\n  \"topics\": 3\n}");
    let out = brokerlab(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(&format!("{}:4:13: invalid type", path.to_str().unwrap())),
        "{}",
        stderr(&out)
    );
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

#[test]
fn definitions_export_of_a_document_imports_back() {
    let doc = repo_file("www/scenarios/08-retry-with-dlx.json");
    let out = brokerlab(&["definitions", "export", doc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let exported = stdout(&out);
    let json: serde_json::Value = serde_json::from_str(&exported).expect("the export is JSON");
    let queues: Vec<&str> =
        json["queues"].as_array().unwrap().iter().map(|q| q["name"].as_str().unwrap()).collect();
    assert!(queues.contains(&"work") && queues.contains(&"retry.5s"), "queues: {queues:?}");

    let file = temp_file("exported-definitions.json", &exported);
    let back = brokerlab(&["definitions", "import", file.to_str().unwrap()]);
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    assert!(stdout(&back).contains("2 queue(s)"), "{}", stdout(&back));
}

#[test]
fn definitions_import_of_a_rabbitmq_export_reports_what_it_skipped() {
    let fixture = repo_file("crates/broker_core/tests/definitions/rabbitmq-3.10-export.json");
    let out = brokerlab(&["definitions", "import", fixture.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("warning: vhosts: 'staging' is not simulated"), "{}", stdout(&out));

    let broken = temp_file("broken-definitions.json", "{\"queues\": [{\"name\": 3}]}");
    let bad = brokerlab(&["definitions", "import", broken.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("line 1, column 22"), "a located error: {}", stderr(&bad));
}

#[test]
fn speed_goes_with_a_broker_and_a_document() {
    let out = brokerlab(&[
        "run",
        "--speed",
        "5",
        golden("tutorial-1-hello-world").join("scenario.brokerlab").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--speed goes with --broker"), "{}", stderr(&out));
    let out = brokerlab(&["run", "--speed", "0", "--broker", "amqp://127.0.0.1:1/%2f", "x.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--speed must be at least 1"), "{}", stderr(&out));
    let scenario = golden("tutorial-1-hello-world").join("scenario.brokerlab");
    let out =
        brokerlab(&["run", "--speed", "5", "--broker", "amqp://127.0.0.1:1/%2f", scenario.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--speed runs JSON documents"), "{}", stderr(&out));
}

/// A document a real broker cannot run is refused before any connection (port 1 would refuse one).
#[cfg(feature = "real-broker")]
#[test]
fn a_simulated_broker_restart_is_refused_on_a_real_broker_naming_the_field() {
    let path = temp_file(
        "restart.json",
        r#"{ "brokerlab": 2, "duration": "2s",
  "producers": [ { "name": "p", "exchange": "", "routing_key": "q", "count": 1 } ],
  "faults": [ { "at": "1s", "restart_broker": true } ] }"#,
    );
    let out = brokerlab(&["run", path.to_str().unwrap(), "--broker", "amqp://guest:guest@127.0.0.1:1/%2f"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("faults[0].restart_broker: a broker restart is simulated by the engine"), "{err}");
    assert!(!err.contains("cannot connect"), "{err}");
}

#[cfg(not(feature = "real-broker"))]
#[test]
fn a_document_on_a_real_broker_needs_the_feature() {
    let path = temp_file("plain.json", r#"{ "brokerlab": 2, "duration": "1s" }"#);
    let out = brokerlab(&["run", path.to_str().unwrap(), "--broker", "amqp://guest:guest@127.0.0.1:1/%2f"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no real-broker support"), "{}", stderr(&out));
}

fn temp_bytes(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brokerlab-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp file");
    path
}

#[test]
fn a_byte_order_mark_before_a_document_is_ignored() {
    let doc = "\u{feff}{ \"brokerlab\": 2, \"duration\": \"1s\",\n  \"definitions\": { \"queues\": [ { \"name\": \"q\" } ] },\n  \"producers\": [ { \"name\": \"p\", \"routing_key\": \"q\", \"count\": 1 } ] }\n";
    let path = temp_file("bom.json", doc);
    let out = brokerlab(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let defs = temp_file("bom-defs.json", "\u{feff}{ \"queues\": [ { \"name\": \"q\", \"vhost\": \"/\", \"durable\": true, \"auto_delete\": false, \"arguments\": {} } ] }");
    let out = brokerlab(&["definitions", "import", defs.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
}

#[test]
fn bytes_that_are_not_utf8_are_located() {
    let path = temp_bytes("latin1.brokerlab", b"brokerlab-scenario 1\nconn = connect(\"caf\xe9\")\n");
    let out = brokerlab(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let expected = format!(
        "{}:2:20: the file is not UTF-8 text: byte 40 (0xe9) is not valid UTF-8; save the file as UTF-8\n",
        path.display()
    );
    assert_eq!(stderr(&out), expected);
}

#[test]
fn a_definitions_import_error_is_located() {
    let defs = temp_file(
        "bad-defs.json",
        "{\n  \"queues\": [\n    { \"name\": \"q\", \"vhost\": \"/\", \"durable\": true, \"auto_delete\": false,\n      \"arguments\": { \"x-max-length\": -1 } }\n  ]\n}\n",
    );
    let out = brokerlab(&["definitions", "import", defs.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(&format!("{}:3:5: queues[0] 'q': 406 PRECONDITION_FAILED", defs.display())),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_document_over_the_run_budget_is_refused_where_it_says_so() {
    let path = temp_file(
        "flood.json",
        "{ \"brokerlab\": 2,\n  \"producers\": [ { \"name\": \"flood\", \"count\": 1000000000000 } ] }\n",
    );
    let out = brokerlab(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(&format!(
            "{}:2:46: producers[0].count: producer 'flood' can publish 1,000,000,000,000 messages",
            path.display()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_kafka_document_runs_with_its_transcript_or_json_and_checks() {
    let doc = repo_file("tests/scenarios/kafka-documents/keyed-order/document.json");
    let out = brokerlab(&["run", doc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected =
        std::fs::read_to_string(repo_file("tests/scenarios/kafka-documents/keyed-order/expected.txt"))
            .unwrap();
    assert_eq!(stdout(&out), expected);
    let out = brokerlab(&["run", doc.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("the report is JSON");
    assert_eq!(json["format"], "brokerlab-report");
    assert_eq!(json["model"], "kafka");
    assert_eq!(json["checks"].as_array().unwrap().len(), 6);
    assert_eq!(json["events"][1]["event"], "acknowledged");
    let out = brokerlab(&["check", doc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).ends_with("ok (format 2, model kafka, 6 checks)\n"), "{}", stdout(&out));
    // A failing check exits 1.
    let failing = temp_file(
        "kafka-failing.json",
        "{ \"brokerlab\": 2, \"model\": \"kafka\", \"duration\": \"1s\", \"topics\": [ { \"name\": \"t\", \"partitions\": 1 } ],\n  \"checks\": [ { \"records\": { \"topic\": \"t\" }, \"expect\": 1 } ] }",
    );
    let out = brokerlab(&["run", failing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out)
            .ends_with("1.000s check 1 FAIL: at the end records in t = 1; observed 0 (expected = 1)\n"),
        "{}",
        stdout(&out)
    );
}

/// A reader that leaves (`brokerlab run … | head`) ends the runner quietly with 141 (128 + SIGPIPE)
/// instead of a panic (every model's runner prints through the same writer). The transcript is far
/// longer than a pipe holds (64 KiB on Linux), so the runner is still writing when the last reader has
/// gone — also when a process forked by a parallel test briefly holds a copy of the pipe's read end.
#[test]
fn a_closed_output_pipe_ends_the_runner_without_a_panic() {
    use std::io::Read;
    let program = std::env::temp_dir().join(format!("brokerlab-pipe-{}.redis", std::process::id()));
    let line = format!("ECHO {}\n", "x".repeat(100));
    std::fs::write(&program, line.repeat(5_000)).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_brokerlab"))
        .arg("run")
        .arg(&program)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the runner starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).expect("the runner writes its transcript");
    drop(stdout);
    let out = child.wait_with_output().expect("the runner ends");
    let _ = std::fs::remove_file(&program);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}

#[test]
fn an_sqs_document_runs_with_its_transcript_or_json_and_checks() {
    let dir = "tests/scenarios/sqs-tutorials/dead-letter-queue-and-redrive";
    let doc = repo_file(&format!("{dir}/document.json"));
    let out = brokerlab(&["run", doc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = std::fs::read_to_string(repo_file(&format!("{dir}/expected.txt"))).unwrap();
    assert_eq!(stdout(&out), expected);
    let out = brokerlab(&["run", doc.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("the report is JSON");
    assert_eq!(json["format"], "brokerlab-report");
    assert_eq!(json["model"], "sqs");
    assert_eq!(json["checks"].as_array().unwrap().len(), 6);
    assert_eq!(json["events"][0]["event"], "sent");
    let out = brokerlab(&["check", doc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).ends_with("ok (format 2, model sqs, 6 checks)\n"), "{}", stdout(&out));
    // A failing check exits 1; a malformed document 2, located.
    let failing = temp_file(
        "sqs-failing.json",
        "{ \"brokerlab\": 2, \"model\": \"sqs\", \"duration\": \"1s\", \"queues\": [ { \"name\": \"q\" } ],\n  \"checks\": [ { \"visible\": { \"queue\": \"q\" }, \"expect\": 1 } ] }",
    );
    let out = brokerlab(&["run", failing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).ends_with(
            "1.000s check 1 FAIL: at the end messages visible in q = 1; observed 0 (expected = 1)\n"
        ),
        "{}",
        stdout(&out)
    );
    let malformed = temp_file(
        "sqs-malformed.json",
        "{ \"brokerlab\": 2, \"model\": \"sqs\",\n  \"producers\": [ { \"name\": \"p\", \"queue\": \"nowhere\" } ] }",
    );
    let out = brokerlab(&["run", malformed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(":2:42: producers[0].queue: no queue 'nowhere' in queues"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_redis_document_runs_with_its_transcript_or_json_and_checks() {
    let dir = "tests/scenarios/redis-tutorials/job-queue-brpop-and-blmove";
    let doc = repo_file(&format!("{dir}/document.json"));
    let out = brokerlab(&["run", doc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = std::fs::read_to_string(repo_file(&format!("{dir}/expected.txt"))).unwrap();
    assert_eq!(stdout(&out), expected);
    let out = brokerlab(&["run", doc.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = std::fs::read_to_string(repo_file(&format!("{dir}/expected.json"))).unwrap();
    assert_eq!(stdout(&out), expected);
    let out = brokerlab(&["check", doc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).ends_with("ok (format 2, model redis, 9 checks)\n"), "{}", stdout(&out));
    let malformed = temp_file(
        "redis-malformed.json",
        "{ \"brokerlab\": 2, \"model\": \"redis\",\n  \"workers\": [ { \"name\": \"w\" } ] }",
    );
    let out = brokerlab(&["run", malformed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(":2:16: workers[0]: a worker takes from a list or reads a stream"),
        "{}",
        stderr(&out)
    );
}
