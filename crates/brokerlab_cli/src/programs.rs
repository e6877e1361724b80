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

/// The end of a program's `--broker` run whose real side printed `real_text`: `--record FILE` keeps it;
/// without `--compare` it is printed; with it, the model's `differences(name, engine, real, allow)`
/// between the engine's transcript (`engine`, run only then) and the real one, outside the allow-list,
/// are printed (exit 1), or `agreement` after the file's name (exit 0).
pub(super) fn finish_real_run(
    command: &Command,
    real_text: &str,
    engine: impl FnOnce() -> String,
    differences: impl FnOnce(&str, &str, &str, &str) -> Vec<String>,
    agreement: &str,
) -> ExitCode {
    if let Some(path) = &command.record {
        if let Err(e) = std::fs::write(path, real_text) {
            eprintln!("brokerlab: cannot write {path}: {e}");
            return ExitCode::from(2);
        }
    }
    if !command.compare {
        out!("{real_text}");
        return ExitCode::SUCCESS;
    }
    let allow = match &command.allow_list {
        Some(path) => std::fs::read_to_string(path).unwrap_or_default(),
        None => String::new(),
    };
    let name = command.name.clone().unwrap_or_else(|| super::scenario_name(&command.file));
    let found = differences(&name, &engine(), real_text, &allow);
    if found.is_empty() {
        outln!("{}: {agreement}", command.file);
        return ExitCode::SUCCESS;
    }
    for d in &found {
        outln!("{d}");
    }
    ExitCode::from(1)
}
