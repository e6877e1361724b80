//! Native and wasm agree: the engine's seeded transcript equals one golden file on both targets.
//!
//! The same test body runs natively (`cargo test`) and in headless Chromium (`cargo test --target
//! wasm32-unknown-unknown`); both compare `deterministic_transcript(seed)` byte for byte with
//! `tests/determinism/transcript-seed-<seed>.txt`, so a passing pair shows native and wasm produce the same
//! event log. The same holds for bundled scenario documents (actors, and Rhai scripts in the retry scenario):
//! their transcripts are compared with `tests/determinism/scenario-<name>.txt`, and the Kafka document goldens'
//! with their `tests/scenarios/kafka-documents/<name>/expected.txt`.
//! `UPDATE_GOLDEN=1 cargo test --test determinism_everywhere` rewrites the files natively.

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

/// The Kafka document goldens (`"model": "kafka"`): (name, document, expected transcript), the same files
/// `crates/broker_core/tests/kafka_documents.rs` plays natively (from `kafka-documents/` and, for the
/// share-groups tutorial, `kafka-tutorials/`).
const KAFKA_DOCUMENTS: [(&str, &str, &str); 15] = [
    (
        "bursty-producer",
        include_str!("scenarios/kafka-documents/bursty-producer/document.json"),
        include_str!("scenarios/kafka-documents/bursty-producer/expected.txt"),
    ),
    (
        "broker-down-min-insync",
        include_str!("scenarios/kafka-documents/broker-down-min-insync/document.json"),
        include_str!("scenarios/kafka-documents/broker-down-min-insync/expected.txt"),
    ),
    (
        "client-latency",
        include_str!("scenarios/kafka-documents/client-latency/document.json"),
        include_str!("scenarios/kafka-documents/client-latency/expected.txt"),
    ),
    (
        "consumer-crash-rebalance",
        include_str!("scenarios/kafka-documents/consumer-crash-rebalance/document.json"),
        include_str!("scenarios/kafka-documents/consumer-crash-rebalance/expected.txt"),
    ),
    (
        "groups-share-and-fan-out",
        include_str!("scenarios/kafka-documents/groups-share-and-fan-out/document.json"),
        include_str!("scenarios/kafka-documents/groups-share-and-fan-out/expected.txt"),
    ),
    (
        "header-poison-pill",
        include_str!("scenarios/kafka-documents/header-poison-pill/document.json"),
        include_str!("scenarios/kafka-documents/header-poison-pill/expected.txt"),
    ),
    (
        "hot-key-skew",
        include_str!("scenarios/kafka-documents/hot-key-skew/document.json"),
        include_str!("scenarios/kafka-documents/hot-key-skew/expected.txt"),
    ),
    (
        "idempotence-and-retries",
        include_str!("scenarios/kafka-documents/idempotence-and-retries/document.json"),
        include_str!("scenarios/kafka-documents/idempotence-and-retries/expected.txt"),
    ),
    (
        "keyed-order",
        include_str!("scenarios/kafka-documents/keyed-order/document.json"),
        include_str!("scenarios/kafka-documents/keyed-order/expected.txt"),
    ),
    (
        "slow-poll-loop-and-transactions",
        include_str!("scenarios/kafka-documents/slow-poll-loop-and-transactions/document.json"),
        include_str!("scenarios/kafka-documents/slow-poll-loop-and-transactions/expected.txt"),
    ),
    (
        "script-per-record",
        include_str!("scenarios/kafka-documents/script-per-record/document.json"),
        include_str!("scenarios/kafka-documents/script-per-record/expected.txt"),
    ),
    (
        "share-lock-expiry",
        include_str!("scenarios/kafka-documents/share-lock-expiry/document.json"),
        include_str!("scenarios/kafka-documents/share-lock-expiry/expected.txt"),
    ),
    (
        "slow-consumer-lag",
        include_str!("scenarios/kafka-documents/slow-consumer-lag/document.json"),
        include_str!("scenarios/kafka-documents/slow-consumer-lag/expected.txt"),
    ),
    (
        "zipf-decimal-exponent",
        include_str!("scenarios/kafka-documents/zipf-decimal-exponent/document.json"),
        include_str!("scenarios/kafka-documents/zipf-decimal-exponent/expected.txt"),
    ),
    // A tutorial the Kafka page bundles (its document is also a golden of kafka_documents.rs).
    (
        "tutorial-share-groups",
        include_str!("scenarios/kafka-tutorials/share-groups/document.json"),
        include_str!("scenarios/kafka-tutorials/share-groups/expected.txt"),
    ),
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

fn check_kafka_document(name: &str, document: &str, golden: &str, target: &str) {
    let transcript = broker_core::kafka::scenario::run_document_transcript(document)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    compare(name, &transcript, golden, target);
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
    for (seed, golden) in SEEDS {
        check(seed, golden, "native");
    }
    for (name, document, golden) in DOCUMENTS {
        check_document(name, document, golden, "native");
    }
    for (name, document, golden) in KAFKA_DOCUMENTS {
        check_kafka_document(name, document, golden, "native");
    }
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
fn wasm_transcripts_match_the_golden_files() {
    for (seed, golden) in SEEDS {
        check(seed, golden, "wasm32 in Chromium");
    }
    for (name, document, golden) in DOCUMENTS {
        check_document(name, document, golden, "wasm32 in Chromium");
    }
    for (name, document, golden) in KAFKA_DOCUMENTS {
        check_kafka_document(name, document, golden, "wasm32 in Chromium");
    }
}
