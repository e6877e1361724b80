//! The app's part of the bad-input catalogue and of the mutation fuzzer: permalinks, stored workspaces
//! and embed messages, the inputs only the page decodes. Native tests (`cargo test -p brokerlab --lib
//! bad_input`); the engine's kinds are in `crates/broker_core/tests/bad_input.rs` and `fuzz_inputs.rs`.
//!
//! `tests/bad-input/{permalink,workspace,embed}/<case>.<ext>` is the input and `<case>.expected` the
//! answer: the refusal the user (or the embedding page) is shown, or what was opened.
//! `UPDATE_GOLDEN=1` rewrites the expected files. A permalink case is the fragment itself (`.txt`) or a
//! scenario document (`.json`) that the test turns into a link first, so hostile documents reach the
//! link's whole path. Opening goes through the same functions the page calls (`permalink::decode`,
//! `WorkspaceDoc::from_json`, `Session::from_scenario` / `replay_scenario` / `from_durable_image`,
//! `embed::protocol::parse`), scripts included (natively the engine's own script host).

use crate::embed::protocol::{self, Incoming};
use crate::persist::permalink;
use crate::persist::workspace::WorkspaceDoc;
use crate::session::Session;
use broker_core::VirtualTime;
use std::path::{Path, PathBuf};

fn catalogue_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-input")
}

/// How a session opened: its time, and why its run stopped if it did.
fn opened(session: &Session) -> String {
    match session.stopped() {
        Some(why) => format!("opened at {}, run stopped: {why}", session.now()),
        None => format!("opened at {}", session.now()),
    }
}

/// A permalink's fragment (or a document made into one), opened as the page opens a link.
fn permalink_outcome(case: &Path, bytes: &[u8]) -> String {
    let fragment = if case.extension().is_some_and(|e| e == "json") {
        permalink::encode(&String::from_utf8_lossy(bytes))
    } else {
        String::from_utf8_lossy(bytes).trim_end().to_string()
    };
    match permalink::decode(&fragment) {
        Ok(None) => "not a permalink".to_string(),
        Err(refusal) => format!("refused: {refusal}"),
        Ok(Some(text)) => match Session::from_scenario(&text) {
            Ok(session) => opened(&session),
            Err(e) => format!("refused: This link's scenario cannot be loaded: {e}. Nothing was run."),
        },
    }
}

/// A stored workspace (or an imported workspace file), reopened as the page reopens one.
fn workspace_outcome(_case: &Path, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let doc = match WorkspaceDoc::from_json(&text) {
        Ok(doc) => doc,
        Err(e) => return format!("refused: {e}"),
    };
    let at = VirtualTime::from_millis(doc.virtual_millis);
    let session = match (&doc.scenario, &doc.image) {
        // As the page restores it, in one loop instead of the page's chunked frames.
        (Some(text), _) => Session::from_scenario(text).map(|mut session| {
            while !session.run_until(at, 100_000) {}
            session
        }),
        (None, Some(image)) => Session::from_durable_image(image, 42),
        (None, None) => Ok(Session::new(42)),
    };
    match session {
        Ok(session) => opened(&session),
        Err(e) => format!("refused: Workspace '{}' cannot be opened: {e}", doc.name),
    }
}

/// An embed message as it arrives (JSON), classified and validated.
fn embed_outcome(_case: &Path, bytes: &[u8]) -> String {
    let data: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        // postMessage carries structured data, never text that fails to parse: such a case is a mistake.
        Err(e) => return format!("case is not JSON: {e}"),
    };
    match protocol::parse(&data) {
        Incoming::Ignore => "ignored".to_string(),
        Incoming::Bad { id, error } => format!("error reply to id {id}: {error}"),
        // A document to load goes on to the session, as the bridge's `load` does.
        Incoming::Request { id, request: protocol::Request::Load(protocol::LoadSource::Document(text)) } => {
            match Session::from_scenario(&text) {
                Ok(session) => format!("request {id}: load a document; {}", opened(&session)),
                Err(e) => format!("request {id}: load a document; refused: {e}"),
            }
        }
        Incoming::Request { id, request } => format!("request {id}: {request:?}"),
    }
}

type Outcome = fn(&Path, &[u8]) -> String;

fn catalogue_cases() -> Vec<(String, PathBuf, Outcome)> {
    let kinds: [(&str, Outcome); 3] =
        [("permalink", permalink_outcome), ("workspace", workspace_outcome), ("embed", embed_outcome)];
    let mut cases = Vec::new();
    for (kind, outcome) in kinds {
        let dir = catalogue_root().join(kind);
        let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| entry.expect("readable entry").path())
            .filter(|p| p.extension().is_some_and(|e| e != "expected"))
            .collect();
        inputs.sort();
        for input in inputs {
            let name = format!("{kind}/{}", input.file_name().expect("a file name").to_string_lossy());
            cases.push((name, input, outcome));
        }
    }
    cases
}

#[test]
fn every_bad_app_input_gets_its_catalogued_answer() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    let cases = catalogue_cases();
    for (name, input, outcome) in &cases {
        let bytes = std::fs::read(input).expect("readable case");
        let got = outcome(input, &bytes) + "\n";
        let expected_path = input.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &got).expect("writable expected file");
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == got => {}
            Ok(expected) => failures.push(format!("{name}:\n  expected: {expected}  got:      {got}")),
            Err(_) => failures.push(format!("{name}: no .expected file (run with UPDATE_GOLDEN=1)")),
        }
    }
    assert!(cases.len() >= 15, "the catalogue lost cases: {}", cases.len());
    assert!(failures.is_empty(), "{} case(s) differ:\n{}", failures.len(), failures.join("\n"));
}

/// xorshift64*, as the engine's fuzzer.
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

const PIECES: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "\"",
    ",",
    ":",
    "-1",
    "18446744073709551616",
    "1e400",
    "9007199254740992",
    "null",
    "\u{feff}",
    "%",
    "=",
    "A",
    "_",
    "-",
    "é",
    "€",
];

/// One to four byte-level edits of a JSON value's text, or of a link's fragment.
fn mutate(input: &str, rng: &mut Rng) -> String {
    let mut data = input.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] = PIECES[rng.below(PIECES.len())].as_bytes()[0];
            }
            1 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(32));
                data.drain(i..i + n);
            }
            2 => data.truncate(rng.below(len + 1)),
            3 => {
                let at = rng.below(len + 1);
                let depth = [130, 5_000][rng.below(2)];
                data.splice(at..at, "[".repeat(depth).into_bytes());
            }
            _ => {
                let at = rng.below(len + 1);
                data.splice(at..at, PIECES[rng.below(PIECES.len())].bytes());
            }
        }
    }
    String::from_utf8_lossy(&data).into_owned()
}

/// Seeded mutations of the catalogue's and the bundled inputs: nothing panics, every refusal is a
/// sentence. `FUZZ_SCALE` multiplies the iterations, `FUZZ_SEED` changes the mutations.
#[test]
fn fuzz_app_inputs() {
    let scale: u64 = std::env::var("FUZZ_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut rng = Rng(0xa99 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let corpus: Vec<(String, String, Outcome)> = catalogue_cases()
        .into_iter()
        .map(|(name, path, outcome)| {
            let bytes = std::fs::read(&path).expect("readable case");
            let text = if path.extension().is_some_and(|e| e == "json") && name.starts_with("permalink/") {
                permalink::encode(&String::from_utf8_lossy(&bytes))
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            (name, text, outcome)
        })
        .collect();
    let fragment = Path::new("fuzz.txt");
    for _ in 0..150 * scale {
        let (name, text, outcome) = &corpus[rng.below(corpus.len())];
        let input = mutate(text, &mut rng);
        let path = if name.starts_with("permalink/") { fragment } else { Path::new("fuzz.json") };
        let answer = std::panic::catch_unwind(|| outcome(path, input.as_bytes()))
            .unwrap_or_else(|_| panic!("{name} mutated panicked on: {input:?}"));
        assert!(!answer.trim().is_empty(), "{name}: an empty answer for {input:?}");
    }
}

/// The page's definitions import reads the engine's catalogue cases: a byte-order mark is ignored, and a
/// refused entity or malformed file is located.
#[test]
fn the_page_imports_definitions_as_the_runner_does() {
    let read = |name: &str| {
        std::fs::read_to_string(catalogue_root().join("definitions").join(name)).expect("a catalogue case")
    };
    let report = Session::new(1).import_definitions(&read("bom.json")).expect("a BOM is ignored");
    assert_eq!(report.queues.len(), 1);
    let e = Session::new(1).import_definitions(&read("bad-argument.json")).expect_err("x-max-length -1");
    assert_eq!((e.line, e.col), (3, 5), "{e:?}");
    let e = Session::new(1).import_definitions(&read("wrong-type.json")).expect_err("durable: \"yes\"");
    assert_eq!((e.line, e.col), (3, 49), "{e:?}");
}
