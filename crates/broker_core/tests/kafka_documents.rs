//! The Kafka document goldens: every `tests/scenarios/kafka-documents/<name>/document.json` (and every
//! tutorial, `tests/scenarios/kafka-tutorials/<name>/document.json`, the file the Kafka page bundles) is played and
//! its transcript compared with `expected.txt` next to it (written once from a reviewed run; a change
//! in a transcript is a change in behaviour, to be explained, never regenerated to hide it). Every check
//! of every golden passes. `UPDATE_GOLDEN=1` writes missing or changed files for review.

use broker_core::kafka::scenario::{KafkaRun, KafkaRunOptions};
use sim_kernel::checks::CheckStatus;
use std::path::{Path, PathBuf};

fn golden_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for folder in ["kafka-documents", "kafka-tutorials"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios").join(folder);
        let mut found: Vec<PathBuf> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("tests/scenarios/{folder}: {e}"))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.join("document.json").exists())
            .collect();
        found.sort();
        dirs.extend(found);
    }
    dirs
}

#[test]
fn every_kafka_golden_plays_its_expected_transcript_and_its_checks_pass() {
    let dirs = golden_dirs();
    assert!(dirs.len() >= 6, "at least six Kafka goldens, found {}", dirs.len());
    let mut problems = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(dir.join("document.json")).unwrap();
        let mut run =
            KafkaRun::from_json(&text, KafkaRunOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
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

#[test]
fn a_kafka_document_is_the_same_run_twice_and_a_seed_changes_its_draws() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/scenarios/kafka-documents/hot-key-skew/document.json"),
    )
    .unwrap();
    let play = |seed: Option<u64>| {
        let mut run = KafkaRun::from_json(&text, KafkaRunOptions { seed, ..Default::default() }).unwrap();
        run.run();
        run.transcript()
    };
    assert_eq!(play(None), play(None));
    assert_ne!(play(None), play(Some(99)), "the keys are drawn from the seed");
}

#[test]
fn bad_kafka_documents_are_refused_where_they_are_wrong() {
    let refuse = |text: &str| {
        KafkaRun::from_json(text, KafkaRunOptions::default()).err().expect("refused").to_string()
    };
    assert_eq!(
        refuse("{\n  \"brokerlab\": 2,\n  \"model\": \"kafka\",\n  \"topics\": [ { \"name\": \"t\", \"partitions\": 1, \"replicas\": 3 } ]\n}"),
        "4:56: unknown field `replicas`, expected one of `name`, `partitions`, `replication_factor`, `configs`, `replica_assignment`"
    );
    // A replica assignment gives one list of replication_factor brokers per partition.
    let e = refuse("{ \"brokerlab\": 2, \"model\": \"kafka\", \"cluster\": { \"brokers\": 3 },\n  \"topics\": [ { \"name\": \"t\", \"partitions\": 1, \"replication_factor\": 3, \"replica_assignment\": [ [ 2, 3 ] ] } ] }");
    assert!(e.starts_with("2:94: topics[0].replica_assignment: give one list"), "{e}");
    // The engine's own validation, located at the topic.
    let e = refuse("{ \"brokerlab\": 2, \"model\": \"kafka\",\n  \"topics\": [ { \"name\": \"t\", \"partitions\": 1, \"replication_factor\": 3 } ] }");
    assert!(e.starts_with("2:15: topics[0]: "), "{e}");
    assert!(e.contains("InvalidReplicationFactorException"), "{e}");
    // The budget: more records than a run may send, refused before it runs, at the producer.
    let e = refuse(
        "{ \"brokerlab\": 2, \"model\": \"kafka\", \"duration\": \"1h\",\n  \"topics\": [ { \"name\": \"t\", \"partitions\": 1 } ],\n  \"producers\": [ { \"name\": \"p\", \"topic\": \"t\", \"rate\": 1000000 } ] }",
    );
    assert!(e.starts_with("3:18: producers[0]: the producers could send up to"), "{e}");
    // A fault names one kind and a broker of the cluster.
    let faults = |list: &str| {
        format!("{{ \"brokerlab\": 2, \"model\": \"kafka\", \"cluster\": {{ \"brokers\": 3 }},\n  \"faults\": {list} }}")
    };
    let e = refuse(&faults("[ { \"at\": \"1s\", \"broker_pause\": 4 } ]"));
    assert!(e.ends_with("faults[0]: no broker 4; the brokers are 1 to 3"), "{e}");
    let e = refuse(&faults("[ { \"at\": \"1s\", \"broker_pause\": 1, \"broker_resume\": 1 } ]"));
    assert!(
        e.contains("faults[0]: a fault is one of broker_down, broker_up, broker_pause, broker_resume,"),
        "{e}"
    );
}

/// A consumer setting Kafka refuses is refused with the Java client's own `ConfigException` text (taken from
/// `new KafkaConsumer(props)` of kafka-clients 4.1.1 with each bad value).
#[test]
fn bad_consumer_settings_get_kafkas_own_messages() {
    let refuse = |consumer: &str| {
        let text = format!(
            "{{ \"brokerlab\": 2, \"model\": \"kafka\", \"topics\": [ {{ \"name\": \"t\", \"partitions\": 1 }} ],\n  \"consumers\": [ {{ \"name\": \"c\", \"group\": \"g\", \"topics\": [\"t\"], {consumer} }} ] }}"
        );
        let e = KafkaRun::from_json(&text, KafkaRunOptions::default()).err().expect("refused").to_string();
        // Located at the field: `2:COL: path: message`.
        assert!(e.starts_with("2:"), "{e}");
        e.split_once(' ').expect("a location").1.to_string()
    };
    assert_eq!(
        refuse("\"auto_offset_reset\": \"soonest\""),
        "consumers[0].auto_offset_reset: ConfigException: Invalid value soonest for configuration auto.offset.reset: Invalid value `soonest` for configuration auto.offset.reset. The value must be either 'earliest', 'latest', 'none' or of the format 'by_duration:<PnDTnHnMn.nS.>'."
    );
    assert_eq!(
        refuse("\"max_poll_records\": 0"),
        "consumers[0].max_poll_records: ConfigException: Invalid value 0 for configuration max.poll.records: Value must be at least 1"
    );
    assert_eq!(
        refuse("\"protocol\": \"fancy\""),
        "consumers[0].protocol: ConfigException: Invalid value fancy for configuration group.protocol: String must be one of (case insensitive): CONSUMER, CLASSIC"
    );
    // A broker setting: `group.consumer.migration.policy`, refused with the broker's ConfigException
    // (GroupCoordinatorConfig's validator of kafka 4.1.1 given the bad value).
    let bad = "{ \"brokerlab\": 2, \"model\": \"kafka\",\n  \"cluster\": { \"brokers\": 1, \"group_consumer_migration_policy\": \"sideways\" } }";
    let e = KafkaRun::from_json(bad, KafkaRunOptions::default()).err().expect("refused").to_string();
    assert_eq!(
        e.split_once(' ').expect("a location").1,
        "cluster.group_consumer_migration_policy: ConfigException: Invalid value sideways for configuration group.consumer.migration.policy: String must be one of (case insensitive): DISABLED, DOWNGRADE, UPGRADE, BIDIRECTIONAL"
    );
    let ok = bad.replace("sideways", "Upgrade");
    assert!(KafkaRun::from_json(&ok, KafkaRunOptions::default()).is_ok());
    // Case-insensitive, as Kafka's validator is.
    let ok = "{ \"brokerlab\": 2, \"model\": \"kafka\", \"topics\": [ { \"name\": \"t\", \"partitions\": 1 } ],\n  \"consumers\": [ { \"name\": \"c\", \"group\": \"g\", \"topics\": [\"t\"], \"protocol\": \"CONSUMER\" } ] }";
    assert!(KafkaRun::from_json(ok, KafkaRunOptions::default()).is_ok());
}

#[test]
fn a_consumer_script_that_does_not_compile_or_fails_is_located() {
    let doc = |script: &str| {
        format!(
            "{{ \"brokerlab\": 2, \"model\": \"kafka\", \"duration\": \"5s\",\n  \"topics\": [ {{ \"name\": \"t\", \"partitions\": 1 }} ],\n  \"producers\": [ {{ \"name\": \"p\", \"topic\": \"t\", \"count\": 1 }} ],\n  \"consumers\": [ {{ \"name\": \"c\", \"group\": \"g\", \"topics\": [\"t\"], \"script\": \"s\" }} ],\n  \"scripts\": {{ \"s\": {script:?} }} }}"
        )
    };
    let e = KafkaRun::from_json(&doc("fn on_record(record) { let x = ; }"), KafkaRunOptions::default())
        .err()
        .expect("refused")
        .to_string();
    assert_eq!(e, "5:21: scripts.s: script 's' line 1, col 32: Unexpected ';'");
    let e = KafkaRun::from_json(&doc("fn on_record() { }"), KafkaRunOptions::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("fn on_record(record)"), "{e}");
    let mut run = KafkaRun::from_json(
        &doc("fn on_record(record) {\n  throw \"bad record\";\n}"),
        KafkaRunOptions::default(),
    )
    .expect("compiles");
    run.run();
    let stop = run.stopped().expect("the failing call stops the run");
    assert_eq!(stop.message, "c: script 's' line 2, col 3: bad record");
}

/// Share consumers' fields (KIP-932): a bad one is refused at its place, `line:col: path: message`.
#[test]
fn bad_share_consumer_fields_are_refused_where_they_are_wrong() {
    let refuse = |share: &str, rest: &str| {
        let text = format!(
            "{{ \"brokerlab\": 2, \"model\": \"kafka\", \"topics\": [ {{ \"name\": \"t\", \"partitions\": 1 }} ],\n  \"consumers\": [ {{ \"name\": \"c\", \"group\": \"g\", \"topics\": [\"t\"] }} ],\n  \"share_consumers\": [ {{ \"name\": \"s\", \"group\": \"q\", \"topics\": [\"t\"]{share} }} ]{rest} }}"
        );
        KafkaRun::from_json(&text, KafkaRunOptions::default()).err().map(|e| e.to_string())
    };
    assert_eq!(refuse("", ""), None, "a plain share consumer is fine");
    assert_eq!(
        refuse(", \"acknowledge\": { \"release_evry\": 2 }", "").unwrap(),
        "3:100: unknown field `release_evry`, expected one of `release_every`, `poison`, `poison_action`"
    );
    assert_eq!(
        refuse(", \"acknowledge\": { \"poison\": \"x\", \"poison_action\": \"drop\" }", "").unwrap(),
        "3:124: unknown variant `drop`, expected `reject` or `release`"
    );
    assert_eq!(
        refuse(", \"acknowledge\": { \"release_every\": 0 }", "").unwrap(),
        "3:104: share_consumers[0].acknowledge.release_every: release every 1st record or more (0 releases none: leave it out)"
    );
    assert_eq!(
        refuse(", \"acknowledge\": { \"poison_action\": \"release\" }", "").unwrap(),
        "3:104: share_consumers[0].acknowledge.poison_action: poison_action goes with poison (the text a poison record's value contains)"
    );
    assert_eq!(
        refuse(", \"max_poll_records\": 0", "").unwrap(),
        "3:90: share_consumers[0].max_poll_records: ConfigException: Invalid value 0 for configuration max.poll.records: Value must be at least 1"
    );
    let group_clash = "{ \"brokerlab\": 2, \"model\": \"kafka\", \"topics\": [ { \"name\": \"t\", \"partitions\": 1 } ],\n  \"consumers\": [ { \"name\": \"c\", \"group\": \"g\", \"topics\": [\"t\"] } ],\n  \"share_consumers\": [ { \"name\": \"s\", \"group\": \"g\", \"topics\": [\"t\"] } ] }";
    assert_eq!(
        KafkaRun::from_json(group_clash, KafkaRunOptions::default()).err().unwrap().to_string(),
        "3:48: share_consumers[0].group: 'g' is a consumer group here; a group is of one type, a share group needs a name of its own"
    );
    assert_eq!(
        refuse("", ",\n  \"share_groups\": [ { \"name\": \"q\", \"record_lock_duration\": \"500ms\" } ]")
            .unwrap(),
        "4:60: share_groups[0].record_lock_duration: share.record.lock.duration.ms from 1000 to 60000 ms"
    );
    assert_eq!(
        refuse("", ",\n  \"share_groups\": [ { \"name\": \"nobody\" } ]").unwrap(),
        "4:31: share_groups[0].name: no share consumer is in share group 'nobody'"
    );
    assert_eq!(
        refuse("", ",\n  \"checks\": [ { \"lag\": { \"group\": \"q\", \"topic\": \"t\" }, \"expect\": 0 } ]")
            .unwrap(),
        "4:15: checks[0]: 'q' is a share group: it has no committed offsets, lag or consumer-group state"
    );
    assert_eq!(
        refuse("", ",\n  \"checks\": [ { \"delivery_count\": { \"group\": \"g\" }, \"expect\": 1 } ]")
            .unwrap(),
        "4:15: checks[0]: no share consumer is in share group 'g'"
    );
    assert_eq!(
        refuse("", ",\n  \"checks\": [ { \"acquired\": { \"consumer\": \"c\" }, \"expect\": 0 } ]").unwrap(),
        "4:43: checks[0].acquired.consumer: no share consumer 'c'"
    );
    assert_eq!(
        refuse("", ",\n  \"checks\": [ { \"share_acknowledgements\": { \"group\": \"q\", \"type\": \"ack\" }, \"expect\": 0 } ]")
            .unwrap(),
        "4:71: unknown variant `ack`, expected one of `accept`, `release`, `reject`"
    );
}
