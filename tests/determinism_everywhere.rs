//! Native and wasm agree: the engine's seeded transcript equals one golden file on both targets.
//!
//! The same test bodies run natively (`cargo test`) and in headless Chromium (`cargo test --target
//! wasm32-unknown-unknown`); both compare `deterministic_transcript(seed)` byte for byte with
//! `tests/determinism/transcript-seed-<seed>.txt`, so a passing pair shows native and wasm produce the same
//! event log. The same holds for every bundled scenario document of every model and every Kafka golden
//! program:
//! - the RabbitMQ documents (`www/scenarios/`; actors, and Rhai scripts in the retry scenario), against
//!   `tests/determinism/scenario-<name>.txt`;
//! - every Kafka document golden and tutorial (`tests/scenarios/kafka-documents/`, `kafka-tutorials/`), the
//!   SQS tutorials (`sqs-tutorials/`) and the Redis tutorials, restart and slow-subscriber documents
//!   (`redis-tutorials/`, `redis-restarts/`, `redis-slow-subscribers/`), against their `expected.txt`;
//! - every Kafka golden program (`tests/scenarios/kafka/<name>/`, the line format, its cluster from `args`),
//!   against its `expected.txt`, recorded from a real Kafka.
//!
//! The lists are written out (the wasm test has no file system: everything is `include_str!`), and a
//! native test checks they name every golden folder, so a new golden cannot be left out of the wasm run.
//! `UPDATE_GOLDEN=1 cargo test --test determinism_everywhere` rewrites the seed and RabbitMQ files natively;
//! the other goldens are rewritten by their own tests (`kafka_documents`, `sqs_documents`,
//! `redis_documents`; the Kafka programs by a recording from a real Kafka, `brokerlab run --record`).

use broker_core::kafka::program::{self, engine::EngineClients};
use broker_core::scenario::sim::run_document_transcript;
use broker_core::testkit::deterministic_transcript;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const SEEDS: [(u64, &str); 2] = [
    (42, include_str!("determinism/transcript-seed-42.txt")),
    (7, include_str!("determinism/transcript-seed-7.txt")),
];

/// Every bundled scenario document: (name, document, golden transcript). Each transcript is frozen here
/// before the simulation kernel is shared between broker models (issue #16): a move must keep it byte for byte.
const DOCUMENTS: [(&str, &str, &str); 12] = [
    (
        "01-hello-world",
        include_str!("../www/scenarios/01-hello-world.json"),
        include_str!("determinism/scenario-01-hello-world.txt"),
    ),
    (
        "02-work-queues",
        include_str!("../www/scenarios/02-work-queues.json"),
        include_str!("determinism/scenario-02-work-queues.txt"),
    ),
    (
        "03-publish-subscribe",
        include_str!("../www/scenarios/03-publish-subscribe.json"),
        include_str!("determinism/scenario-03-publish-subscribe.txt"),
    ),
    (
        "04-routing",
        include_str!("../www/scenarios/04-routing.json"),
        include_str!("determinism/scenario-04-routing.txt"),
    ),
    (
        "05-topics",
        include_str!("../www/scenarios/05-topics.json"),
        include_str!("determinism/scenario-05-topics.txt"),
    ),
    ("06-rpc", include_str!("../www/scenarios/06-rpc.json"), include_str!("determinism/scenario-06-rpc.txt")),
    (
        "07-publisher-confirms",
        include_str!("../www/scenarios/07-publisher-confirms.json"),
        include_str!("determinism/scenario-07-publisher-confirms.txt"),
    ),
    (
        "08-retry-with-dlx",
        include_str!("../www/scenarios/08-retry-with-dlx.json"),
        include_str!("determinism/scenario-08-retry-with-dlx.txt"),
    ),
    (
        "09-poison-message",
        include_str!("../www/scenarios/09-poison-message.json"),
        include_str!("determinism/scenario-09-poison-message.txt"),
    ),
    (
        "10-priority-queue",
        include_str!("../www/scenarios/10-priority-queue.json"),
        include_str!("determinism/scenario-10-priority-queue.txt"),
    ),
    (
        "11-slow-consumer-backlog",
        include_str!("../www/scenarios/11-slow-consumer-backlog.json"),
        include_str!("determinism/scenario-11-slow-consumer-backlog.txt"),
    ),
    (
        "12-stream-replay",
        include_str!("../www/scenarios/12-stream-replay.json"),
        include_str!("determinism/scenario-12-stream-replay.txt"),
    ),
];

/// A document golden: (`folder/name` under `tests/scenarios/`, document, expected transcript).
type Golden = (&'static str, &'static str, &'static str);

/// A Kafka golden program: (name, program, `args` — empty for one broker —, expected transcript).
type KafkaProgram = (&'static str, &'static str, &'static str, &'static str);

/// The golden of `tests/scenarios/<folder>/<name>/`: its `document.json` and `expected.txt`.
macro_rules! document {
    ($folder:literal, $name:literal) => {
        (
            concat!($folder, "/", $name),
            include_str!(concat!("scenarios/", $folder, "/", $name, "/document.json")),
            include_str!(concat!("scenarios/", $folder, "/", $name, "/expected.txt")),
        )
    };
}

/// The golden program of `tests/scenarios/kafka/<name>/` (`args` when the folder has that file).
macro_rules! kafka_program {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("scenarios/kafka/", $name, "/program.kafka")),
            "",
            include_str!(concat!("scenarios/kafka/", $name, "/expected.txt")),
        )
    };
    ($name:literal, args) => {
        (
            $name,
            include_str!(concat!("scenarios/kafka/", $name, "/program.kafka")),
            include_str!(concat!("scenarios/kafka/", $name, "/args")),
            include_str!(concat!("scenarios/kafka/", $name, "/expected.txt")),
        )
    };
}

/// The Kafka document goldens (`"model": "kafka"`), the files `crates/broker_core/tests/kafka_documents.rs`
/// plays natively: every `kafka-documents/` folder and every tutorial the Kafka page bundles (`kafka-tutorials/`).
const KAFKA_DOCUMENTS: [Golden; 24] = [
    document!("kafka-documents", "broker-down-min-insync"),
    document!("kafka-documents", "bursty-producer"),
    document!("kafka-documents", "client-latency"),
    document!("kafka-documents", "consumer-crash-rebalance"),
    document!("kafka-documents", "groups-share-and-fan-out"),
    document!("kafka-documents", "header-poison-pill"),
    document!("kafka-documents", "hot-key-skew"),
    document!("kafka-documents", "idempotence-and-retries"),
    document!("kafka-documents", "keyed-order"),
    document!("kafka-documents", "paused-follower"),
    document!("kafka-documents", "paused-leader"),
    document!("kafka-documents", "script-per-record"),
    document!("kafka-documents", "share-lock-expiry"),
    document!("kafka-documents", "slow-consumer-lag"),
    document!("kafka-documents", "slow-poll-loop-and-transactions"),
    document!("kafka-documents", "zipf-decimal-exponent"),
    document!("kafka-tutorials", "consumer-groups"),
    document!("kafka-tutorials", "idempotence-and-transactions"),
    document!("kafka-tutorials", "offsets-and-lag"),
    document!("kafka-tutorials", "partitions-and-keys"),
    document!("kafka-tutorials", "rebalancing"),
    document!("kafka-tutorials", "replication-and-acks"),
    document!("kafka-tutorials", "retention-and-compaction"),
    document!("kafka-tutorials", "share-groups"),
];

/// Every Kafka golden program (`tests/scenarios/kafka/<name>/`: `program.kafka`, `expected.txt` recorded from
/// Kafka 4.1 through the Java client, and for a cluster its `args`), played on the engine's Kafka model.
const KAFKA_PROGRAMS: [KafkaProgram; 57] = [
    kafka_program!("acks-all-timeout-after-append", args),
    kafka_program!("assignors-static-members"),
    kafka_program!("broker-crash-session-timeout", args),
    kafka_program!("classic-generation-after-leave"),
    kafka_program!("classic-generations"),
    kafka_program!("commit-and-lag"),
    kafka_program!("committed-offset-out-of-range"),
    kafka_program!("compaction-aborted-transactions"),
    kafka_program!("compaction-tombstones-and-delete"),
    kafka_program!("console-quickstart"),
    kafka_program!("consumer-assign-seek"),
    kafka_program!("consumer-misuse"),
    kafka_program!("consumer-protocol-assignors"),
    kafka_program!("consumer-protocol-migration"),
    kafka_program!("delete-group-offsets"),
    kafka_program!("delete-records-retention"),
    kafka_program!("group-shares-partitions"),
    kafka_program!("high-watermark-below-min-isr", args),
    kafka_program!("idempotent-after-delivery-timeout", args),
    kafka_program!("isr-shrink-and-expand", args),
    kafka_program!("isr-shrink-slow-follower", args),
    kafka_program!("keys-to-partitions"),
    kafka_program!("leader-election-tool", args),
    kafka_program!("leader-failover-and-preferred-election", args),
    kafka_program!("linger-batch-and-max-poll"),
    kafka_program!("log-append-time"),
    kafka_program!("log-compaction"),
    kafka_program!("max-message-bytes"),
    kafka_program!("min-cleanable-dirty-ratio"),
    kafka_program!("min-insync-broker-down", args),
    kafka_program!("min-insync-replicas"),
    kafka_program!("null-key-sticky-batch"),
    kafka_program!("offset-reset-and-auto-commit"),
    kafka_program!("offsets-for-times"),
    kafka_program!("producer-acks-and-config"),
    kafka_program!("range-assignor-racks", args),
    kafka_program!("record-headers"),
    kafka_program!("replica-assignment", args),
    kafka_program!("reset-offsets"),
    kafka_program!("retention-by-size"),
    kafka_program!("retention-by-time"),
    kafka_program!("retry-duplicate-and-idempotence", args),
    kafka_program!("segment-bytes-roll"),
    kafka_program!("send-offsets-to-transaction"),
    kafka_program!("share-group-acknowledge"),
    kafka_program!("share-group-members"),
    kafka_program!("static-member-protocol-upgrade"),
    kafka_program!("static-member-restart"),
    kafka_program!("sticky-assignors-racks", args),
    kafka_program!("topic-name-collision"),
    kafka_program!("topics-create-describe"),
    kafka_program!("transaction-fencing"),
    kafka_program!("transaction-producer-crash"),
    kafka_program!("transaction-timeout"),
    kafka_program!("transactions-isolation"),
    kafka_program!("two-groups"),
    kafka_program!("unclean-leader-election", args),
];

/// The SQS document goldens (`crates/broker_core/tests/sqs_documents.rs`): the tutorials the SQS page bundles.
const SQS_DOCUMENTS: [Golden; 5] = [
    document!("sqs-tutorials", "dead-letter-queue-and-redrive"),
    document!("sqs-tutorials", "fifo-order-and-deduplication"),
    document!("sqs-tutorials", "long-and-short-polling"),
    document!("sqs-tutorials", "sns-fan-out-with-filters"),
    document!("sqs-tutorials", "visibility-timeout"),
];

/// The Redis document goldens (`crates/broker_core/tests/redis_documents.rs`): the tutorials the Redis page
/// bundles, the restart and the slow-subscriber documents.
const REDIS_DOCUMENTS: [Golden; 10] = [
    document!("redis-tutorials", "job-queue-brpop-and-blmove"),
    document!("redis-tutorials", "pubsub-fire-and-forget"),
    document!("redis-tutorials", "reliable-queue-with-a-reaper"),
    document!("redis-tutorials", "streams-and-consumer-groups"),
    document!("redis-tutorials", "streams-consumer-groups-and-xautoclaim"),
    document!("redis-restarts", "aof-always-keeps-every-job"),
    document!("redis-restarts", "aof-everysec-loses-the-last-second"),
    document!("redis-restarts", "no-persistence-loses-everything"),
    document!("redis-restarts", "rdb-snapshot-brings-back-acknowledged-entries"),
    document!("redis-slow-subscribers", "slow-subscriber-cut-off"),
];
/// FNV-1a, to print a short fingerprint of each transcript in both test logs.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn check(seed: u64, golden: &str, target: &str) {
    compare(&format!("seed {seed}"), &deterministic_transcript(seed), golden, target);
}

fn check_document(name: &str, document: &str, golden: &str, target: &str) {
    let transcript = run_document_transcript(document).unwrap_or_else(|e| panic!("{name}: {e}"));
    compare(name, &transcript, golden, target);
}

/// Plays each document golden with `play` (its model's `run_document_transcript`) and compares.
fn check_documents(goldens: &[Golden], play: fn(&str) -> Result<String, String>, target: &str) {
    for (name, document, golden) in goldens {
        let transcript = play(document).unwrap_or_else(|e| panic!("{name}: {e}"));
        compare(name, &transcript, golden, target);
    }
}

/// Plays each Kafka golden program on the engine's cluster its `args` describe (seed 0, as the runner's
/// default) and compares the transcript with the one recorded from Kafka.
fn check_kafka_programs(target: &str) {
    for (name, text, args, golden) in KAFKA_PROGRAMS {
        let program =
            program::parse(text).unwrap_or_else(|e| panic!("{name}: {}", e.located("program.kafka")));
        let mut clients =
            EngineClients::from_golden_args(0, args).unwrap_or_else(|e| panic!("{name}/args: {e}"));
        compare(&format!("kafka/{name}"), &program::run(&program, &mut clients).text(), golden, target);
    }
}

fn seeds_and_rabbitmq_documents(target: &str) {
    for (seed, golden) in SEEDS {
        check(seed, golden, target);
    }
    for (name, document, golden) in DOCUMENTS {
        check_document(name, document, golden, target);
    }
}

fn kafka_documents_and_programs(target: &str) {
    check_documents(&KAFKA_DOCUMENTS, broker_core::kafka::scenario::run_document_transcript, target);
    check_kafka_programs(target);
}

fn sqs_and_redis_documents(target: &str) {
    check_documents(&SQS_DOCUMENTS, broker_core::sqs::scenario::run_document_transcript, target);
    check_documents(&REDIS_DOCUMENTS, broker_core::redis::scenario::run_document_transcript, target);
}

fn compare(what: &str, transcript: &str, golden: &str, target: &str) {
    let line = format!(
        "{target}: {what}: {} lines, fingerprint {:016x}",
        transcript.lines().count(),
        fingerprint(transcript)
    );
    #[cfg(target_arch = "wasm32")]
    web_sys::console::log_1(&line.into());
    #[cfg(not(target_arch = "wasm32"))]
    println!("{line}");
    if transcript != golden {
        let first = transcript.lines().zip(golden.lines()).position(|(a, b)| a != b);
        panic!(
            "{target}: {what}: transcript differs from the golden file (first differing line: {first:?}; \
             {} lines vs {})",
            transcript.lines().count(),
            golden.lines().count()
        );
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn native_transcripts_match_the_golden_files() {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/determinism");
        for (seed, _) in SEEDS {
            std::fs::write(dir.join(format!("transcript-seed-{seed}.txt")), deterministic_transcript(seed))
                .unwrap();
        }
        for (name, document, _) in DOCUMENTS {
            let transcript = run_document_transcript(document).unwrap();
            std::fs::write(dir.join(format!("scenario-{name}.txt")), transcript).unwrap();
        }
        return;
    }
    seeds_and_rabbitmq_documents("native");
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn native_kafka_transcripts_match_the_golden_files() {
    kafka_documents_and_programs("native");
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn native_sqs_and_redis_transcripts_match_the_golden_files() {
    sqs_and_redis_documents("native");
}

/// The written-out lists name every golden folder (and a Kafka program's `args` exactly when its folder
/// has one), so the wasm run cannot silently miss a golden added later.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_lists_name_every_golden_folder() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let folders = |folder: &str, file: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join(folder))
            .unwrap_or_else(|e| panic!("tests/scenarios/{folder}: {e}"))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.join(file).is_file())
            .map(|p| format!("{folder}/{}", p.file_name().expect("a name").to_string_lossy()))
            .collect();
        names.sort();
        names
    };
    let listed = |goldens: &[Golden]| -> Vec<String> {
        let mut names: Vec<String> = goldens.iter().map(|g| g.0.to_string()).collect();
        names.sort();
        names
    };
    let documents = |list: &[Golden], on_disk: &[&str]| {
        let expected: Vec<String> = on_disk.iter().flat_map(|f| folders(f, "document.json")).collect();
        let mut expected = expected;
        expected.sort();
        assert_eq!(listed(list), expected, "a document golden is missing from (or extra in) a list");
    };
    documents(&KAFKA_DOCUMENTS, &["kafka-documents", "kafka-tutorials"]);
    documents(&SQS_DOCUMENTS, &["sqs-tutorials"]);
    documents(&REDIS_DOCUMENTS, &["redis-tutorials", "redis-restarts", "redis-slow-subscribers"]);
    let mut programs: Vec<String> = KAFKA_PROGRAMS.iter().map(|p| format!("kafka/{}", p.0)).collect();
    programs.sort();
    assert_eq!(
        programs,
        folders("kafka", "program.kafka"),
        "a Kafka golden program is missing from the list"
    );
    for (name, _, args, _) in KAFKA_PROGRAMS {
        let on_disk = std::fs::read_to_string(root.join("kafka").join(name).join("args")).unwrap_or_default();
        assert_eq!(args, on_disk, "{name}: the listed args differ from its args file");
    }
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
fn wasm_transcripts_match_the_golden_files() {
    seeds_and_rabbitmq_documents("wasm32 in Chromium");
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
fn wasm_kafka_transcripts_match_the_golden_files() {
    kafka_documents_and_programs("wasm32 in Chromium");
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
fn wasm_sqs_and_redis_transcripts_match_the_golden_files() {
    sqs_and_redis_documents("wasm32 in Chromium");
}
