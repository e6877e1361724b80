//! Scenarios: a versioned, line-oriented text format that drives the engine, and the runner that plays one.
//!
//! A scenario reads like the pika program it stands for (`ch.queue_declare(queue="hello")`), plus virtual
//! time (`wait 1.5s`, `at 5s …`). [`Scenario::parse`] checks the whole file before anything runs, so a
//! malformed file fails with `line:col: message` and never half-runs; [`run`] plays it on a fresh
//! [`Broker`](crate::amqp::Broker) and returns a [`Report`] that prints as a transcript or as JSON.
//! The format is described for users in `docs/scenario-format.md`.
//!
//! Submodules: [`syntax`] (lexer and parser), `interp` (meaning of each statement: variables, pika's
//! argument rules, channel numbering), [`report`] (what a run produced, transcript and JSON forms).

pub mod backend;
pub mod document;
mod interp;
pub mod report;
pub mod script;
pub mod sim;
pub mod syntax;

pub use backend::{AdvanceStop, BackendFailure, EngineBackend, StepBackend};
pub use interp::{run, run_on};
pub use report::{EventFilter, Outcome, Report, StepRecord, StopInfo};

use serde::{Deserialize, Serialize};
use std::fmt;

/// The format version this runner reads (the first line: `brokerlab-scenario 1`).
pub const FORMAT_VERSION: u32 = 1;

/// The latest virtual time a scenario may name or reach, in milliseconds: 2^53 − 1, about 285,000 years.
/// It is the largest integer JavaScript keeps exact, so a time survives the page's JSON and `postMessage`
/// unchanged, and the sum of two such times stays far below `u64::MAX` (nothing saturates silently).
/// Every time a scenario or document writes, and the clock a format-1 scenario's waits move, is checked
/// against it with an error that says so.
pub const MAX_TIME_MILLIS: u64 = (1 << 53) - 1;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub fn new(line: u32, col: u32) -> Self {
        Pos { line, col }
    }
}

/// A malformed scenario (or a step that cannot run), located in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioError {
    pub pos: Pos,
    pub message: String,
}

impl ScenarioError {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        ScenarioError { pos, message: message.into() }
    }

    /// `file:line:col: message`, the form editors and CI logs link to.
    pub fn located(&self, file: &str) -> String {
        format!("{file}:{self}")
    }
}

impl fmt::Display for ScenarioError {
    /// `line:col: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.pos.line, self.pos.col, self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// `text` without a leading byte-order mark (U+FEFF). Every text input accepts one and ignores it, as
/// RFC 8259 allows for JSON: Windows editors write it, and a user cannot see it to remove it.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// A scenario file's bytes as text: a leading UTF-8 byte-order mark is dropped, and bytes that are not
/// UTF-8 are refused with the `line:col` (columns in characters, as everywhere) and the byte offset of the
/// first bad byte, since an editor showing the file cannot show the bad byte itself.
pub fn decode_source(file: &[u8]) -> Result<&str, ScenarioError> {
    let bytes = file.strip_prefix(b"\xef\xbb\xbf").unwrap_or(file);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).expect("valid up to here");
            let line = good.matches('\n').count() + 1;
            let col = good.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let offset = e.valid_up_to() + (file.len() - bytes.len());
            Err(ScenarioError::new(
                Pos::new(u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(col).unwrap_or(u32::MAX)),
                format!(
                    "the file is not UTF-8 text: byte {offset} (0x{:02x}) is not valid UTF-8; save the file \
                     as UTF-8",
                    file[offset]
                ),
            ))
        }
    }
}

/// A parsed and checked scenario, ready to [`run`].
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The declared format version.
    pub version: u32,
    /// The PRNG seed (`seed N`; 0 when the scenario does not say).
    pub seed: u64,
    pub(crate) statements: Vec<syntax::RawStatement>,
}

impl Scenario {
    /// Parses `text` and checks every statement (names, arguments, literal types, times) by a dry run
    /// that touches no broker. The first problem is returned with its line and column.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let (version, statements) = syntax::parse(text)?;
        let seed = statements
            .iter()
            .find_map(|s| match s.kind {
                syntax::RawKind::Seed(seed) => Some(seed),
                _ => None,
            })
            .unwrap_or(0);
        let scenario = Scenario { version, seed, statements };
        interp::check(&scenario)?;
        Ok(scenario)
    }

    /// How many statements (seed, waits and steps) the scenario has.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }
}

/// How to run a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// Overrides the scenario's `seed`.
    pub seed: Option<u64>,
    /// Calls [`Broker::assert_invariants`](crate::amqp::Broker::assert_invariants) after every step
    /// (tests turn this on; it panics on a broken invariant).
    pub check_invariants: bool,
    /// The runaway guard: at most this many timer firings while advancing to one point in time.
    pub max_timer_firings: u64,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { seed: None, check_invariants: false, max_timer_firings: 100_000 }
    }
}

#[cfg(test)]
mod tests;
