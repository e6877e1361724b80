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
pub use interp::{parse_field_value, run, run_on};
pub use report::{EventFilter, Outcome, Report, StepRecord, StopInfo};

// Located errors and the longest time are the kernel's, shared by every model's documents.
pub use sim_kernel::located::{decode_source, strip_bom, Pos, ScenarioError};
pub use sim_kernel::values::MAX_TIME_MILLIS;

/// The format version this runner reads (the first line: `brokerlab-scenario 1`).
pub const FORMAT_VERSION: u32 = 1;

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
    /// (tests turn this on; it panics on a broken invariant). The page's release build (feature
    /// `skip-invariant-checks`) has no such check: there it does nothing.
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
