//! `brokerlab run|check FILE.sqs`: SQS programs (`docs/sqs-programs.md`) on the engine's SQS model, or
//! with `--broker sqs://HOST:PORT [--compare]` on an SQS emulator through boto3 (`scripts/real-sqs-tests.sh`);
//! SQS documents on an emulator too ([`real_document`], `real_broker::sqs_document`).

use super::Command;
use broker_core::sqs::program::{self, Transcript};
use std::process::ExitCode;

/// Whether `file` is an SQS program (by its extension).
pub(super) fn is_sqs_program(file: &str) -> bool {
    file.ends_with(".sqs")
}

fn print(command: &Command, transcript: &Transcript) {
    super::programs::print_transcript(command, transcript, || transcript.text());
}

/// Runs or checks the program in `text`.
pub(super) fn main(command: &Command, text: &str) -> ExitCode {
    let parsed = program::parse(text).map_err(|e| e.located(&command.file));
    let program = match super::programs::parse_or_check(command, "sqs", parsed, |p| p.statements.len()) {
        std::ops::ControlFlow::Continue(p) => p,
        std::ops::ControlFlow::Break(code) => return code,
    };
    if command.speed.is_some()
        || command.record.is_some()
        || command.brokers.is_some()
        || command.golden.is_some()
    {
        eprintln!(
            "brokerlab: {}: --speed, --record and --brokers do not apply to an SQS program",
            command.file
        );
        return ExitCode::from(2);
    }
    if let Some(uri) = &command.broker {
        return real(command, uri, &program);
    }
    print(command, &program::run(&program, command.options.seed.unwrap_or(0)));
    ExitCode::SUCCESS
}

/// The program on an emulator, through the boto3 driver (`crates/real_broker/sqs-driver/driver.py`),
/// and with `--compare` the differences from the engine's transcript outside the allow-list.
fn real(command: &Command, uri: &str, program: &program::Program) -> ExitCode {
    let Some(endpoint) = uri.strip_prefix("sqs://") else {
        eprintln!("brokerlab: an SQS program runs against --broker sqs://HOST:PORT");
        return ExitCode::from(2);
    };
    let driver = std::env::var("BROKERLAB_SQS_DRIVER").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../real_broker/sqs-driver/driver.py").to_string()
    });
    let python = std::env::var("BROKERLAB_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = std::process::Command::new(&python)
        .arg(&driver)
        .arg(format!("http://{endpoint}"))
        .arg(&command.file)
        .stdin(std::process::Stdio::null())
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            eprintln!("brokerlab: the SQS driver failed: {}", String::from_utf8_lossy(&o.stderr));
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("brokerlab: cannot start {python} {driver}: {e}");
            return ExitCode::from(2);
        }
    };
    let real_text = String::from_utf8_lossy(&out.stdout).to_string();
    let seed = command.options.seed.unwrap_or(0);
    super::programs::finish_real_run(
        command,
        &real_text,
        || program::run(program, seed).text(),
        |name, engine, emulator, allow| program::compare::differences(name, engine, emulator, program, allow),
        "no differences from the emulator outside the allow-list (after normalising ids, handles, URLs and timestamps)",
    )
}

/// An SQS document on the emulator at `uri` in real time, through the same boto3 driver in its serve mode;
/// with `--compare` the differences from the engine's outcome outside the allow-list (exit code 1).
#[cfg(feature = "real-broker")]
pub(super) fn real_document(
    command: &Command,
    uri: &str,
    run: &broker_core::sqs::scenario::SqsRun,
) -> ExitCode {
    use real_broker::{compare, sqs_document as doc};
    let allow = match crate::real::load_allow_list(command) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let real = match doc::run_document_real(run, uri, command.speed.unwrap_or(1)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("brokerlab: {}: {e}", command.file);
            return ExitCode::from(2);
        }
    };
    if !command.compare {
        for l in &real.log {
            outln!("{l}");
        }
        for l in doc::outcome_lines(&real.outcome) {
            outln!("{}", l.text);
        }
        return ExitCode::SUCCESS;
    }
    let name = command.name.clone().unwrap_or_else(|| crate::scenario_name(&command.file));
    let differences = doc::compare(&name, &doc::engine_outcome(run), &real.outcome, &allow);
    out!("{}", compare::render(&name, &differences));
    let unexplained = differences.iter().filter(|d| d.allowed.is_none()).count();
    outln!(
        "{name}: {} difference(s) between the engine and the emulator, {unexplained} not in the allow-list",
        differences.len()
    );
    if unexplained == 0 {
        return ExitCode::SUCCESS;
    }
    // What the emulator run did, to tell a difference's cause.
    for l in &real.log {
        outln!("  emulator: {l}");
    }
    ExitCode::from(1)
}

#[cfg(not(feature = "real-broker"))]
pub(super) fn real_document(_: &Command, _: &str, _: &broker_core::sqs::scenario::SqsRun) -> ExitCode {
    eprintln!(
        "brokerlab: this build has no real-broker support; rebuild with \
         `cargo build -p brokerlab_cli --features real-broker`"
    );
    ExitCode::from(2)
}
