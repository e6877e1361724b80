//! Architecture guards for the kernel, run as ordinary tests: it names no broker model and none of a
//! model's vocabulary, depends on no model crate and no web crate, and uses no wall clock, threads or
//! global state. A model's words belong in its own module (`broker_core::amqp`, `broker_core::kafka`, …).

use std::path::{Path, PathBuf};

#[path = "support/global_state.rs"]
mod global_state;
#[path = "support/tidy.rs"]
mod tidy;
use tidy::declared_dependencies;

/// Words that name a model or belong to one model's vocabulary.
const MODEL_WORDS: &[&str] = &[
    "amqp",
    "rabbit",
    "rabbitmq",
    "pika",
    "kafka",
    "sqs",
    "redis",
    "exchange",
    "exchanges",
    "queue",
    "queues",
    "partition",
    "partitions",
    "offset",
    "offsets",
    "stream",
    "streams",
    "topic",
    "topics",
    "vhost",
    "ack",
    "acks",
    "acked",
    "nack",
    "nacked",
    "unacked",
    "requeue",
    "requeued",
    "xack",
];

/// Two-word terms of one model's vocabulary (as words in a row: `routing_key`, `RoutingKey`, `routing key`).
const MODEL_TERMS: &[[&str; 2]] = &[
    ["routing", "key"],
    ["delivery", "tag"],
    ["consumer", "tag"],
    ["consumer", "group"],
    ["dead", "letter"],
    ["visibility", "timeout"],
];

/// Generic terms that contain a model word: the kernel's own timer queue.
const ALLOWED_TERMS: &[[&str; 2]] = &[["deadline", "queue"], ["priority", "queue"]];

/// Crates the kernel must not depend on: the models, the runners, the page.
const MODEL_CRATES: &[&str] =
    &["broker_core", "real_broker", "brokerlab", "brokerlab_cli", "brokerlab_scripts"];

const WEB_CRATES: &[&str] = &["yew", "web-sys", "js-sys", "wasm-bindgen", "gloo", "web-time"];

/// The words of a text, lowercase: split at anything not a letter or digit and at camel-case humps.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// The model words and terms in one line of text.
fn model_words_in(line: &str) -> Vec<String> {
    let words = words(line);
    let mut found = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).map(String::as_str);
        let previous = i.checked_sub(1).map(|p| words[p].as_str());
        let allowed = ALLOWED_TERMS
            .iter()
            .any(|[a, b]| (previous == Some(*a) && w == b) || (w == a && next == Some(*b)));
        if MODEL_WORDS.contains(&w.as_str()) && !allowed {
            found.push(w.clone());
        }
        if let Some(next) = next {
            if MODEL_TERMS.iter().any(|[a, b]| w == a && next == *b) {
                found.push(format!("{w} {next}"));
            }
        }
    }
    found
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kernel_files(dir: &Path) -> Vec<PathBuf> {
    tidy::rust_files(dir)
}

#[test]
fn kernel_source_names_no_model() {
    let mut offenders = Vec::new();
    let mut files = kernel_files(&crate_dir().join("src"));
    files.push(crate_dir().join("Cargo.toml"));
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            for word in model_words_in(line) {
                offenders.push(format!("{}:{}: '{word}'", path.display(), n + 1));
            }
        }
    }
    assert!(offenders.is_empty(), "the kernel names a model or its vocabulary:\n{}", offenders.join("\n"));
}

#[test]
fn the_word_guard_sees_model_words_in_every_spelling() {
    assert_eq!(model_words_in("fn ack_all(q: &Queue) // RabbitMQ"), ["ack", "queue", "rabbit"]);
    assert_eq!(model_words_in("let routingKey = delivery_tag;"), ["routing key", "delivery tag"]);
    assert_eq!(model_words_in("KafkaOffsets and a consumer group"), ["kafka", "offsets", "consumer group"]);
    assert!(model_words_in("DeadlineQueue: a priority queue of timers; the deadline queue").is_empty());
    assert!(model_words_in("a queue of deadlines").contains(&"queue".to_string()));
    assert!(model_words_in("acknowledged messages, upstream, backtrack").is_empty());
}

fn is_forbidden_crate(name: &str) -> bool {
    MODEL_CRATES.contains(&name)
        || WEB_CRATES
            .iter()
            .any(|w| name == *w || name.starts_with(&format!("{w}-")) || name.starts_with("gloo"))
}

#[test]
fn kernel_depends_on_no_model_and_no_web_crate() {
    let manifest = std::fs::read_to_string(crate_dir().join("Cargo.toml")).expect("a manifest");
    let bad: Vec<String> =
        declared_dependencies(&manifest).into_iter().filter(|d| is_forbidden_crate(d)).collect();
    assert!(bad.is_empty(), "sim_kernel must not depend on {bad:?}");
    // The whole tree the browser build pulls in, not only the direct dependencies.
    let tree = tidy::wasm_dependency_tree("sim_kernel", &crate_dir());
    let bad: Vec<&String> = tree.iter().filter(|n| is_forbidden_crate(n)).collect();
    assert!(bad.is_empty(), "sim_kernel pulls in {bad:?}");
}

#[test]
fn the_crate_guard_sees_models_and_web_crates_in_every_table() {
    let bad = "[dependencies]\nserde = \"1\"\nbroker_core.workspace = true\n[target.'cfg(x)'.dependencies]\n\
               web-sys = \"0.3\"\n[dev-dependencies.real_broker]\npath = \"x\"\n";
    let found: Vec<String> =
        declared_dependencies(bad).into_iter().filter(|d| is_forbidden_crate(d)).collect();
    assert_eq!(found, ["broker_core", "web-sys", "real_broker"]);
}

/// Wall clock, threads and global state are banned in the kernel's source (clippy.toml bans the clock and
/// threads too, with reasons; this catches them when clippy is not run).
#[test]
fn kernel_source_uses_no_clock_threads_or_global_state() {
    let banned = [
        "Instant::now",
        "SystemTime::now",
        "thread::spawn",
        "thread::sleep",
        "thread_local!",
        "static mut",
        "OnceLock",
        "OnceCell",
        "LazyLock",
        "lazy_static",
        "Mutex",
        "Atomic",
        "HashMap<",
        "HashSet<",
    ];
    let offenders = tidy::banned_uses(&kernel_files(&crate_dir().join("src")), &banned);
    assert!(offenders.is_empty(), "banned API in the kernel:\n{}", offenders.join("\n"));
}

/// No global mutable state in the kernel: no `thread_local!`, `static mut`, `lazy_static!`, and no
/// `static` of a type with interior mutability (`OnceLock`, `LazyLock`, `Cell`, `Mutex`, atomics …), so two
/// simulations never share anything but what their callers pass them.
#[test]
fn kernel_source_holds_no_global_state() {
    let mut offenders = Vec::new();
    for path in kernel_files(&crate_dir().join("src")) {
        let text = std::fs::read_to_string(&path).expect("readable source");
        for (line, what) in global_state::global_state(&text) {
            offenders.push(format!("{}:{line}: {what}", path.display()));
        }
    }
    assert!(offenders.is_empty(), "global state in the kernel:\n{}", offenders.join("\n"));
}

#[test]
fn the_global_state_guard_sees_every_kind_and_nothing_else() {
    global_state::self_test();
}

#[test]
fn kernel_clippy_config_bans_clock_and_threads_with_reasons() {
    tidy::assert_clippy_bans_clock_and_threads(&crate_dir());
}
