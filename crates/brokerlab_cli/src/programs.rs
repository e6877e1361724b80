//! What every model's line-format program (FILE.kafka, FILE.sqs, FILE.redis) shares in the runner: a
//! malformed line reported at `file:line:col` with exit code 2, `check` counting the statements, and the
//! transcript printed as text or, with `--json`, as its serde shape.

use super::Command;
use std::ops::ControlFlow;
use std::process::ExitCode;

/// The parsed program to run, or the exit code when there is nothing more to do: a malformed line
/// (`parsed` holds its located message; exit 2) or `check` (the statement count; exit 0).
pub(super) fn parse_or_check<P>(
    command: &Command,
    model: &str,
    parsed: Result<P, String>,
    statements: impl FnOnce(&P) -> usize,
) -> ControlFlow<ExitCode, P> {
    let program = match parsed {
        Ok(p) => p,
        Err(located) => {
            eprintln!("{located}");
            return ControlFlow::Break(ExitCode::from(2));
        }
    };
    if command.check_only {
        outln!("{}: ok ({model} program, {} statements)", command.file, statements(&program));
        return ControlFlow::Break(ExitCode::SUCCESS);
    }
    ControlFlow::Continue(program)
}

/// Prints a transcript: its JSON shape with `--json`, otherwise its text.
pub(super) fn print_transcript(
    command: &Command,
    transcript: &impl serde::Serialize,
    text: impl FnOnce() -> String,
) {
    if command.json {
        outln!("{}", serde_json::to_string_pretty(transcript).unwrap_or_default());
    } else {
        out!("{}", text());
    }
}
