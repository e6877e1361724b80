//! A seeded mutation fuzzer for every input kind the engine reads, run as an ordinary test: format-1
//! scenarios, scenario documents, RabbitMQ definitions.json, and scripts. (The app's permalinks, stored
//! workspaces and embed messages have theirs in the app crate: `src/bad_input.rs`.)
//!
//! Each kind starts from a corpus (the bundled scenarios, the golden scenarios, the definitions fixtures,
//! the bad-input catalogue) and applies 1–4 seeded mutations per input: byte flips, deletions, duplicated
//! ranges, splices with another corpus file, truncation, deep nesting, huge and negative numbers. The
//! properties, for every mutated input:
//! - no panic (a panic is caught, the input written to `target/fuzz-failures/` and the test failed);
//! - no hang: an accepted document runs to its end under a small run budget, a scenario under the
//!   runaway guard (the test would time out otherwise);
//! - a refusal has a location: `line:col` with both at least 1.
//!
//! The run is deterministic (seed and iteration count fixed), sized to add about ten seconds to CI in a
//! debug build. For a longer hunt: `FUZZ_SCALE=10 FUZZ_SEED=7 cargo test -p broker_core --release --test
//! fuzz_inputs` (`FUZZ_SCALE` multiplies the iterations, `FUZZ_SEED` changes the mutations). cargo-fuzz
//! targets for coverage-guided runs on nightly are in `fuzz/` (see its README).

use broker_core::amqp::definitions;
use broker_core::amqp::{Broker, BrokerConfig};
use broker_core::scenario::document::locate;
use broker_core::scenario::sim::{RunBudget, SimOptions, Simulation};
use broker_core::scenario::{self, Pos, RunOptions, Scenario, ScenarioError};
use broker_core::VirtualTime;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Iterations per kind in CI.
const ITERATIONS: u64 = 250;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// xorshift64*: small, seeded, the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING_BYTES: &[u8] = b"[]{}()\"'\\:,.=-#0123456789eE \n\t_";
const HUGE_NUMBERS: &[&str] = &[
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "9007199254740992",
    "9223372036854775808",
    "4294967296",
    "-1",
    "-9223372036854775809",
    "0",
    "1e308",
    "1e400",
    "0.0001",
    "1000000000000",
];

fn mutate(input: &[u8], corpus: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut data = input.to_vec();
    // Mostly one edit, so most inputs stay close to valid and reach the runner.
    for _ in 0..[1, 1, 1, 2, 3, 4][rng.below(6)] {
        let len = data.len();
        match rng.below(11) {
            9 | 10 => {
                // Whole lines: one deleted, duplicated or moved (statements and JSON members).
                let mut lines: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let i = rng.below(lines.len());
                let j = rng.below(lines.len());
                match rng.below(3) {
                    0 => {
                        lines.remove(i);
                    }
                    1 => {
                        let copy = lines[i].clone();
                        lines.insert(j, copy);
                    }
                    _ => lines.swap(i, j),
                }
                data = lines.join(&b'\n');
            }
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())];
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                data.drain(i..i + n);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(256));
                let copy = data[i..i + n].to_vec();
                let at = rng.below(len);
                data.splice(at..at, copy);
            }
            4 => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            5 => data.truncate(rng.below(len + 1)),
            6 => {
                let depth = [130, 300, 5_000, 100_000][rng.below(4)];
                let (open, close) = [("[", "]"), ("{\"a\":", "}"), ("(", ")")][rng.below(3)];
                let at = rng.below(len + 1);
                let mut nested = open.repeat(depth).into_bytes();
                if rng.below(2) == 0 {
                    nested.extend_from_slice(b"1");
                    nested.extend_from_slice(close.repeat(depth).as_bytes());
                }
                data.splice(at..at, nested);
            }
            7 => {
                // A number replaced by a huge, negative or fractional one.
                let digits: Vec<usize> = (0..len).filter(|&i| data[i].is_ascii_digit()).collect();
                if let Some(&start) = digits.get(rng.below(digits.len())) {
                    let end = (start..len).find(|&i| !data[i].is_ascii_digit()).unwrap_or(len);
                    let number = HUGE_NUMBERS[rng.below(HUGE_NUMBERS.len())];
                    data.splice(start..end, number.bytes());
                }
            }
            _ => {
                let at = rng.below(len + 1);
                let piece: &[u8] =
                    [&b"\xef\xbb\xbf"[..], b"\xff", b"\xc3", b"\n", b"-", b"\"", b"null"][rng.below(7)];
                data.splice(at..at, piece.iter().copied());
            }
        }
    }
    data
}

/// Values a JSON-aware mutation puts in place of another.
fn weird_value(rng: &mut Rng) -> serde_json::Value {
    use serde_json::json;
    match rng.below(22) {
        0 => json!(0),
        1 => json!(-1),
        2 => json!(u64::MAX),
        3 => json!(9_007_199_254_740_991u64),
        4 => json!(1.5),
        5 => json!(1e300),
        6 => json!(""),
        7 => json!("x".repeat(300)),
        8 => json!(null),
        9 => json!(true),
        10 => json!([]),
        11 => json!({}),
        12 => json!("-1s"),
        13 => json!("1/0"),
        14 => json!(["a", 1, {"x": []}]),
        15 => json!(rng.next() % 100_000),
        16 => json!(format!("{}ms", rng.next() % 100_000)),
        17 => json!(format!("{}s", rng.next() % 1_000)),
        18 => json!("q"),
        _ => json!(rng.next() % 10),
    }
}

/// Walks to a random value inside `value` and changes it: a number, string or container replaced by a
/// weird value, an array element duplicated or removed, an object key removed.
fn mutate_json(value: &mut serde_json::Value, rng: &mut Rng, depth: usize) {
    use serde_json::Value;
    let descend = depth < 8 && rng.below(3) != 0;
    match value {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = &keys[rng.below(keys.len())];
            if descend {
                mutate_json(map.get_mut(key).expect("a key of the map"), rng, depth + 1);
            } else if rng.below(3) == 0 {
                map.remove(key);
            } else if rng.below(4) == 0 {
                // A key that a JSON path cannot spell (`a.b`, `a[0]`): its errors must still be located.
                let value = map.remove(key).expect("a key of the map");
                let renamed = format!("{key}{}", [".x", "[0]", "]", ""][rng.below(4)]);
                map.insert(renamed, value);
            } else {
                map.insert(key.clone(), weird_value(rng));
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.below(items.len());
            if descend {
                mutate_json(&mut items[i], rng, depth + 1);
            } else {
                match rng.below(3) {
                    0 => {
                        items.remove(i);
                    }
                    1 => {
                        let copy = items[i].clone();
                        items.insert(i, copy);
                    }
                    _ => items[i] = weird_value(rng),
                }
            }
        }
        other => *other = weird_value(rng),
    }
}

/// A byte mutation, or (half the time, for JSON that parses) one to three value mutations.
fn mutate_any(input: &[u8], corpus: &[Vec<u8>], rng: &mut Rng, json: bool) -> Vec<u8> {
    if json && rng.below(10) < 7 {
        if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(input) {
            for _ in 0..[1, 1, 2, 3][rng.below(4)] {
                mutate_json(&mut value, rng, 0);
            }
            return serde_json::to_vec_pretty(&value).expect("a value serialises");
        }
    }
    mutate(input, corpus, rng)
}

fn read_corpus(paths: impl IntoIterator<Item = PathBuf>) -> Vec<Vec<u8>> {
    let mut corpus: Vec<(PathBuf, Vec<u8>)> =
        paths.into_iter().map(|p| (p.clone(), std::fs::read(&p).expect("readable corpus file"))).collect();
    corpus.sort();
    corpus.into_iter().map(|(_, bytes)| bytes).collect()
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            out.extend(files(&path, ext));
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    out
}

/// A refusal must say where: `line:col`, both at least 1.
fn located(e: &ScenarioError) -> Result<bool, String> {
    if e.pos.line >= 1 && e.pos.col >= 1 {
        Ok(false)
    } else {
        Err(format!("an error without a location: {e}"))
    }
}

fn fuzz_options() -> SimOptions {
    SimOptions {
        keep_log: false,
        max_firings_per_instant: 10_000,
        budget: RunBudget { messages: 20_000, body_bytes: 4 << 20, events: 200_000 },
        ..SimOptions::default()
    }
}

fn check_format1(bytes: &[u8]) -> Result<bool, String> {
    let text = match scenario::decode_source(bytes) {
        Ok(text) => text,
        Err(e) => return located(&e),
    };
    match Scenario::parse(text) {
        Err(e) => located(&e),
        Ok(s) => {
            let options =
                RunOptions { max_timer_firings: 10_000, check_invariants: true, ..RunOptions::default() };
            let report = scenario::run(&s, &options);
            match report.stopped {
                Some(stop) if stop.pos.line == 0 => {
                    Err(format!("a stop without a location: {}", stop.message))
                }
                _ => Ok(true),
            }
        }
    }
}

fn check_document(bytes: &[u8]) -> Result<bool, String> {
    let text = match scenario::decode_source(bytes) {
        Ok(text) => text,
        Err(e) => return located(&e),
    };
    match Simulation::from_json(text, fuzz_options()) {
        Err(e) => located(&e),
        Ok(mut sim) => {
            sim.run();
            Ok(true)
        }
    }
}

fn check_definitions(bytes: &[u8]) -> Result<bool, String> {
    let text = match scenario::decode_source(bytes) {
        Ok(text) => text,
        Err(e) => return located(&e),
    };
    let mut broker = Broker::new(BrokerConfig::default(), 0);
    match definitions::import_json(&mut broker, VirtualTime::ZERO, text) {
        Ok(_) => {
            broker.assert_invariants();
            Ok(true)
        }
        // A JSON error carries serde_json's line and column.
        Err(e) if e.path == "json" => Ok(false),
        Err(e) => match locate(text, &e.path) {
            Some(Pos { line, col }) if line >= 1 && col >= 1 => Ok(false),
            _ => Err(format!("an import error whose path is not in the file: {e}")),
        },
    }
}

fn check_script(bytes: &[u8]) -> Result<bool, String> {
    let mut source = String::from_utf8_lossy(bytes).into_owned();
    // The actors call both functions; a script without one gets a plain one.
    if !source.contains("fn on_tick") {
        source.push_str("\nfn on_tick() { publish(\"\", \"q\", \"t\"); }");
    }
    if !source.contains("fn on_message") {
        source.push_str("\nfn on_message(msg) { ack(); }");
    }
    let document = serde_json::json!({
        "brokerlab": 2,
        "duration": "2s",
        "definitions": { "queues": [ { "name": "q" } ] },
        "producers": [ { "name": "p", "routing_key": "q", "rate": 20, "script": "s" } ],
        "consumers": [ { "name": "c", "queue": "q", "script": "s" } ],
        "scripts": { "s": source }
    });
    check_document(document.to_string().as_bytes())
}

fn fuzz(kind: &str, corpus: Vec<Vec<u8>>, check: fn(&[u8]) -> Result<bool, String>, seed: u64, json: bool) {
    assert!(!corpus.is_empty(), "{kind}: empty corpus");
    let iterations = ITERATIONS * env_u64("FUZZ_SCALE", 1);
    let mut rng = Rng(seed ^ env_u64("FUZZ_SEED", 0).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut failures = Vec::new();
    let mut accepted = 0;
    // Caught panics are reported with their input below; the default hook would print each one too.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    for iteration in 0..iterations {
        let base = &corpus[rng.below(corpus.len())];
        let input = mutate_any(base, &corpus, &mut rng, json);
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&input)));
        let problem = match outcome {
            Ok(Ok(ran)) => {
                accepted += u64::from(ran);
                continue;
            }
            Ok(Err(problem)) => problem,
            Err(panic) => {
                let text = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                format!("panic: {text}")
            }
        };
        let dir = root().join("target/fuzz-failures");
        std::fs::create_dir_all(&dir).expect("a failures folder");
        let file = dir.join(format!("{kind}-{iteration}.bin"));
        std::fs::write(&file, &input).expect("writable");
        failures.push(format!("{}: {problem}", file.display()));
    }
    println!("{kind}: {iterations} mutated inputs, {accepted} accepted and run, the others refused with a location");
    assert!(failures.is_empty(), "{kind}: {} failing input(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn fuzz_format1_scenarios() {
    let root = root();
    let corpus = read_corpus(
        files(&root.join("tests/scenarios"), "brokerlab")
            .into_iter()
            .chain(files(&root.join("tests/bad-input/format1"), "brokerlab")),
    );
    fuzz("format1", corpus, check_format1, 0x0f01, false);
}

#[test]
fn fuzz_documents() {
    let root = root();
    // The bundled scenarios three times over: most mutants should start from a document that runs.
    let bundled = files(&root.join("www/scenarios"), "json");
    let corpus = read_corpus(
        bundled
            .iter()
            .chain(&bundled)
            .chain(&bundled)
            .cloned()
            .chain(files(&root.join("tests/bad-input/document"), "json")),
    );
    fuzz("document", corpus, check_document, 0x0d02, true);
}

#[test]
fn fuzz_definitions() {
    let root = root();
    let mut corpus = read_corpus(
        files(&root.join("crates/broker_core/tests/definitions"), "json")
            .into_iter()
            .chain(files(&root.join("tests/bad-input/definitions"), "json")),
    );
    // The bundled scenarios' definitions, each as a file of its own.
    for text in read_corpus(files(&root.join("www/scenarios"), "json")) {
        let value: serde_json::Value = serde_json::from_slice(&text).expect("a bundled scenario is JSON");
        if let Some(defs) = value.get("definitions") {
            corpus.push(serde_json::to_vec_pretty(defs).expect("JSON"));
        }
    }
    fuzz("definitions", corpus, check_definitions, 0xde03, true);
}

#[test]
fn fuzz_scripts() {
    let root = root();
    let mut corpus = read_corpus(files(&root.join("tests/bad-input/script"), "rhai"));
    for text in read_corpus(files(&root.join("www/scenarios"), "json")) {
        let value: serde_json::Value = serde_json::from_slice(&text).expect("a bundled scenario is JSON");
        if let Some(scripts) = value.get("scripts").and_then(|s| s.as_object()) {
            corpus.extend(scripts.values().filter_map(|s| s.as_str()).map(|s| s.as_bytes().to_vec()));
        }
    }
    fuzz("script", corpus, check_script, 0x5c04, false);
}
