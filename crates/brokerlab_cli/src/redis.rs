//! `brokerlab run|check FILE.redis`: Redis programs (`docs/redis-programs.md`, redis-cli's own line
//! format) on the engine's Redis model, or with `--broker redis://HOST:PORT [--compare] [--record FILE]`
//! on a real redis-server over RESP (`scripts/real-redis-tests.sh`).

use super::Command;
use broker_core::redis::program::{self, Program, Transcript};
use std::process::ExitCode;

/// Whether `file` is a Redis program (by its extension).
pub(super) fn is_redis_program(file: &str) -> bool {
    file.ends_with(".redis")
}

fn print(command: &Command, transcript: &Transcript) {
    super::programs::print_transcript(command, transcript, || transcript.text());
}

/// Runs or checks the program in `text`.
pub(super) fn main(command: &Command, text: &str) -> ExitCode {
    let parsed = program::parse(text).map_err(|e| e.located(&command.file));
    let program = match super::programs::parse_or_check(command, "redis", parsed, |p| p.statements.len()) {
        std::ops::ControlFlow::Continue(p) => p,
        std::ops::ControlFlow::Break(code) => return code,
    };
    if command.speed.is_some() || command.brokers.is_some() || command.golden.is_some() {
        eprintln!(
            "brokerlab: {}: --speed, --brokers and --golden do not apply to a Redis program",
            command.file
        );
        return ExitCode::from(2);
    }
    if let Some(uri) = &command.broker {
        return real(command, uri, &program);
    }
    print(command, &program::run(&program));
    ExitCode::SUCCESS
}

#[cfg(feature = "real-broker")]
fn real(command: &Command, uri: &str, program: &Program) -> ExitCode {
    let real_text = match real_broker::redis::run(uri, program) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("brokerlab: {}: {e}", command.file);
            return ExitCode::from(2);
        }
    };
    super::programs::finish_real_run(
        command,
        &real_text,
        || program::run(program).text(),
        |name, engine, real, allow| program::compare::differences(name, engine, real, program, allow),
        "no differences from redis-server (after normalising stream-id milliseconds, idle times, LASTSAVE seconds and the order of KEYS, SCAN and PUBSUB CHANNELS lists)",
    )
}

#[cfg(not(feature = "real-broker"))]
fn real(command: &Command, _: &str, _: &Program) -> ExitCode {
    eprintln!("brokerlab: {}: --broker needs a build with `--features real-broker`", command.file);
    ExitCode::from(2)
}

/// `brokerlab run DOC.json --broker redis://HOST:PORT [--compare]` for a Redis document: the engine's
/// exchanges played on redis-server (`real_broker::redis_document`); with `--compare`, the differences
/// (exit code 1 when one is not in the allow-list), else the real run's lines.
#[cfg(feature = "real-broker")]
pub(super) fn real_document(
    command: &Command,
    uri: &str,
    run: &broker_core::redis::scenario::RedisRun,
) -> ExitCode {
    use real_broker::{compare, redis_document as doc};
    let refused = doc::refusals(run.document(), command.speed.unwrap_or(1));
    if !refused.is_empty() {
        for r in &refused {
            eprintln!("brokerlab: {}: {r}", command.file);
        }
        return ExitCode::from(2);
    }
    let allow = match crate::real::load_allow_list(command) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let engine = doc::engine_lines(run);
    let real = engine.clone().and_then(|_| doc::run_document_real(run, uri));
    let (engine, real) = match (engine, real) {
        (Ok(e), Ok(r)) => (e, r),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("brokerlab: {}: {e}", command.file);
            return ExitCode::from(2);
        }
    };
    if !command.compare {
        for l in &real.lines {
            outln!("{}", l.text);
        }
        return ExitCode::SUCCESS;
    }
    let name = command.name.clone().unwrap_or_else(|| super::scenario_name(&command.file));
    let differences = doc::compare(&name, &engine, &real.lines, &allow);
    out!("{}", compare::render(&name, &differences));
    let unexplained = differences.iter().filter(|d| d.allowed.is_none()).count();
    outln!(
        "{name}: {} exchange(s) and check(s) compared, {} difference(s) from redis-server, {unexplained} not in the allow-list",
        engine.len(),
        differences.len()
    );
    if unexplained > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(not(feature = "real-broker"))]
pub(super) fn real_document(
    command: &Command,
    _: &str,
    _: &broker_core::redis::scenario::RedisRun,
) -> ExitCode {
    eprintln!("brokerlab: {}: --broker needs a build with `--features real-broker`", command.file);
    ExitCode::from(2)
}
