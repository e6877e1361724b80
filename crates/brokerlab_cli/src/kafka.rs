//! `brokerlab run|check FILE.kafka`: Kafka programs (`docs/kafka-programs.md`) on the engine, or with
//! `--broker kafka://HOST:PORT [--compare]` on a real Kafka through the Java client (`real-broker` feature);
//! and Kafka documents (`"model": "kafka"`) with `--broker kafka://… [--compare] [--speed N]`.

use super::Command;
use broker_core::kafka::program::{self, Program, Transcript};
use std::process::ExitCode;

/// Whether `file` is a Kafka program (by its extension).
pub(super) fn is_kafka_program(file: &str) -> bool {
    file.ends_with(".kafka")
}

fn print(command: &Command, transcript: &Transcript) {
    super::programs::print_transcript(command, transcript, || transcript.text());
}

/// Runs or checks the program in `text`.
pub(super) fn main(command: &Command, text: &str) -> ExitCode {
    let parsed = program::parse(text).map_err(|e| e.located(&command.file));
    let program = match super::programs::parse_or_check(command, "kafka", parsed, |p| p.statements.len()) {
        std::ops::ControlFlow::Continue(p) => p,
        std::ops::ControlFlow::Break(code) => return code,
    };
    if command.speed.is_some() {
        eprintln!("brokerlab: {}: --speed does not apply to a Kafka program", command.file);
        return ExitCode::from(2);
    }
    match &command.broker {
        Some(uri) => real::run(command, uri, &program),
        None => match engine(&program, command) {
            Ok(t) => {
                print(command, &t);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("brokerlab: {}: {e}", command.file);
                ExitCode::from(2)
            }
        },
    }
}

/// The program on the engine's Kafka model (one broker as `scripts/kafka-node.sh start` starts it, or
/// `--brokers N` as its `cluster DIR N` does).
fn engine(program: &Program, command: &Command) -> Result<Transcript, String> {
    let seed = command.options.seed.unwrap_or(0);
    let mut clients =
        program::engine::EngineClients::with_racks(seed, command.brokers.unwrap_or(1), &command.racks);
    for (key, value) in &command.broker_configs {
        clients.set_broker_config(key, value).map_err(|e| format!("--broker-config: {e}"))?;
    }
    Ok(program::run(program, &mut clients))
}

/// A Kafka document (already played on the engine as `run`) on the real Kafka at `uri`.
pub(super) fn real_document(
    command: &Command,
    uri: &str,
    run: &broker_core::kafka::scenario::KafkaRun,
) -> ExitCode {
    real::document(command, uri, run)
}

#[cfg(feature = "real-broker")]
mod real {
    use super::{engine, print, Command};
    use broker_core::kafka::program::{Program, Transcript};
    use real_broker::{compare, kafka};
    use std::process::ExitCode;

    /// The differences of `name` (`left` against Kafka) and a summary line; exit code 1 when one is not in
    /// the allow-list.
    fn report(name: &str, differences: &[compare::Difference], left: &str) -> ExitCode {
        out!("{}", compare::render(name, differences));
        summary(name, differences, left)
    }

    fn summary(name: &str, differences: &[compare::Difference], left: &str) -> ExitCode {
        let unexplained = differences.iter().filter(|d| d.allowed.is_none()).count();
        outln!(
            "{name}: {} difference(s) between {left} and Kafka, {unexplained} not in the allow-list",
            differences.len()
        );
        if unexplained > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }

    pub(super) fn document(
        command: &Command,
        uri: &str,
        run: &broker_core::kafka::scenario::KafkaRun,
    ) -> ExitCode {
        use real_broker::kafka_document as doc;
        let allow = match crate::real::load_allow_list(command) {
            Ok(a) => a,
            Err(code) => return code,
        };
        let speed = command.speed.unwrap_or(1);
        let real = match doc::run_document_real(run, uri, speed, command.compare || command.clean) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("brokerlab: {}: {e}", command.file);
                return ExitCode::from(2);
            }
        };
        let real_lines = doc::outcome_lines(&real.outcome, &Default::default());
        if !command.compare {
            for l in &real.log {
                outln!("{l}");
            }
            for l in &real_lines {
                outln!("{}", l.text);
            }
            return ExitCode::SUCCESS;
        }
        let name = command.name.clone().unwrap_or_else(|| crate::scenario_name(&command.file));
        let differences = doc::compare(&name, &doc::engine_outcome(run), &real.outcome, &allow);
        let code = report(&name, &differences, "the engine");
        if differences.iter().any(|d| d.allowed.is_none()) {
            // What the real run did, to tell a difference's cause.
            for l in &real.log {
                outln!("  kafka: {l}");
            }
        }
        code
    }

    pub(super) fn run(command: &Command, uri: &str, program: &Program) -> ExitCode {
        let allow = match crate::real::load_allow_list(command) {
            Ok(a) => a,
            Err(code) => return code,
        };
        let engine_transcript = if command.compare {
            match engine(program, command) {
                Ok(t) => Some(t),
                Err(e) => {
                    eprintln!("brokerlab: {}: {e}", command.file);
                    return ExitCode::from(2);
                }
            }
        } else {
            None
        };
        let real = match kafka::run_real(program, uri, command.compare || command.clean) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("brokerlab: {}: {e}", command.file);
                return ExitCode::from(2);
            }
        };
        if let Some(path) = &command.record {
            if let Err(e) = std::fs::write(path, real.text()) {
                eprintln!("brokerlab: cannot write {path}: {e}");
                return ExitCode::from(2);
            }
        }
        let name = command.name.clone().unwrap_or_else(|| crate::scenario_name(&command.file));
        let code = match engine_transcript {
            Some(engine_transcript) => {
                report(&name, &kafka::compare(&name, &engine_transcript, &real, &allow), "the engine")
            }
            None if command.golden.is_none() => {
                print(command, &real);
                ExitCode::SUCCESS
            }
            None => ExitCode::SUCCESS,
        };
        match golden(command, &name, &real, &allow) {
            Ok(golden_code) if code == ExitCode::SUCCESS => golden_code,
            Ok(_) => code,
            Err(error_code) => error_code,
        }
    }

    /// With `--golden FILE`: this run of Kafka against the recorded transcript, with the same allow-list.
    fn golden(
        command: &Command,
        name: &str,
        real: &Transcript,
        allow: &[compare::AllowEntry],
    ) -> Result<ExitCode, ExitCode> {
        let Some(path) = &command.golden else { return Ok(ExitCode::SUCCESS) };
        let text = std::fs::read_to_string(path).map_err(|e| {
            eprintln!("brokerlab: cannot read {path}: {e}");
            ExitCode::from(2)
        })?;
        let differences = kafka::compare_with_golden(name, &kafka::recorded(&text), real, allow);
        out!("{}", kafka::render_golden(name, &differences));
        Ok(summary(name, &differences, "the golden"))
    }
}

#[cfg(not(feature = "real-broker"))]
mod real {
    use super::Command;
    use broker_core::kafka::program::Program;
    use std::process::ExitCode;

    pub(super) fn document(_: &Command, _: &str, _: &broker_core::kafka::scenario::KafkaRun) -> ExitCode {
        run_unsupported()
    }

    pub(super) fn run(_: &Command, _: &str, _: &Program) -> ExitCode {
        run_unsupported()
    }

    fn run_unsupported() -> ExitCode {
        eprintln!(
            "brokerlab: this build has no real-broker support; rebuild with \
             `cargo build -p brokerlab_cli --features real-broker`"
        );
        ExitCode::from(2)
    }
}
