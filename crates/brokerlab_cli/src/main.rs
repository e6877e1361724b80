//! `brokerlab`: runs a scenario file on the engine and prints the transcript (or `--json`).
//!
//! The format is picked by content: a JSON document (format 2, starts with `{`) or the line-oriented
//! format 1. Exit codes: 0 the scenario ran (broker errors inside it are results, not failures) and
//! every check of a document passed; 1 the run was stopped early (the runaway guard, or a step used a
//! value a failed step never produced) or a check failed; 2 the file is malformed
//! (`file:line:col: message` on stderr), unreadable, or the command line is wrong.

use broker_core::scenario::sim::{CheckStatus, SimOptions, Simulation};
use broker_core::scenario::{self, EventFilter, RunOptions, Scenario};
use std::ops::ControlFlow;
use std::process::ExitCode;

/// `println!` for the runner's output: when the reader of a pipe has gone (`brokerlab run … | head`), the
/// runner ends quietly with status 141 (128 + SIGPIPE, as a Unix tool killed by the signal) instead of the
/// panic `println!` gives on a closed pipe. Other write errors still panic, as `println!` does.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` for the runner's output; see [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::write_out(format_args!($($arg)*)) };
}

/// Writes to standard output; a closed pipe ends the process (see [`outln!`]).
fn write_out(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(text) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        panic!("failed printing to stdout: {e}");
    }
}

mod kafka;
mod programs;
mod redis;
mod sqs;

const USAGE: &str = "\
usage: brokerlab run FILE [options]     run a scenario (or a Kafka program, FILE.kafka:
                                        docs/kafka-programs.md), print its transcript
                                        (an SQS program, FILE.sqs: docs/sqs-programs.md)
                                        (a Redis program, FILE.redis: docs/redis-programs.md;
                                        --broker redis://HOST:PORT, --record FILE)
       brokerlab check FILE             check a scenario without running it
       brokerlab definitions import DEFS.json
                                        import a RabbitMQ definitions.json into a fresh engine and
                                        print what it declared, skipped and why
       brokerlab definitions export FILE.json
                                        print the definitions.json of a format-2 document's topology
                                        (as RabbitMQ's management UI exports it)

options for run:
  --json                   print the JSON report instead of the transcript
  --all-events             show every event (default: delivered, returned, confirmed)
  --events KINDS           show these event kinds, comma-separated (e.g. delivered,dead_lettered)
  --seed N                 override the scenario's seed
  --max-timer-firings N    runaway guard per time advance, or per instant for a
                           JSON document (default 100000)
  --check-invariants       check the engine's invariants after every step (slower)
  --broker URI             run on a real RabbitMQ instead of the engine, e.g.
                           amqp://guest:guest@127.0.0.1:5672/%2f (kafka://HOST:PORT
                           for a Kafka program: Kafka's Java client, needs a JDK)
  --compare                with --broker: run on both and print the differences
                           (deletes the scenario's queues and exchanges before and after)
  --clean                  with --broker: delete them before and after without comparing
  --allow-list FILE        with --compare: differences listed there are allowed
  --name NAME              with --compare: the scenario's name in the allow-list
                           (default: its folder's name)
  --brokers N              a Kafka program's cluster size on the engine (default 1)
  --racks A,B,…            with --brokers: broker i's broker.rack is the i-th item
                           (scripts/kafka-node.sh's BROKERLAB_KAFKA_RACKS)
  --broker-config K=V      a Kafka program's broker setting on the engine (repeatable):
                           replica.lag.time.max.ms, broker.session.timeout.ms
                           (scripts/kafka-node.sh's BROKERLAB_KAFKA_PROPS lines)
  --record FILE            with --broker and a Kafka program: also write the real
                           transcript to FILE (how tests/scenarios/kafka goldens are made)
  --golden FILE            with --broker and a Kafka program: also diff the real transcript
                           with FILE, a recorded one (its expected.txt), with the allow-list
  --speed N                with --broker and a JSON document: run N times faster than
                           real time (virtual ms = real ms x N; default 1)
";

struct Command {
    check_only: bool,
    file: String,
    json: bool,
    filter: EventFilter,
    options: RunOptions,
    broker: Option<String>,
    compare: bool,
    clean: bool,
    allow_list: Option<String>,
    name: Option<String>,
    speed: Option<u64>,
    record: Option<String>,
    golden: Option<String>,
    brokers: Option<i32>,
    racks: Vec<String>,
    broker_configs: Vec<(String, String)>,
}

fn parse_args(args: &[String]) -> Result<Command, String> {
    let (check_only, rest) = match args.split_first() {
        Some((cmd, rest)) if cmd == "run" => (false, rest),
        Some((cmd, rest)) if cmd == "check" => (true, rest),
        Some((cmd, _)) => return Err(format!("unknown command '{cmd}'")),
        None => return Err("missing command".to_string()),
    };
    let mut command = Command {
        check_only,
        file: String::new(),
        json: false,
        filter: EventFilter::default(),
        options: RunOptions::default(),
        broker: None,
        compare: false,
        clean: false,
        allow_list: None,
        name: None,
        speed: None,
        record: None,
        golden: None,
        brokers: None,
        racks: Vec::new(),
        broker_configs: Vec::new(),
    };
    let mut file = None;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--json" => command.json = true,
            "--all-events" => command.filter = EventFilter::All,
            "--events" => command.filter = EventFilter::parse(&value("--events")?),
            "--seed" => {
                let v = value("--seed")?;
                command.options.seed =
                    Some(v.parse().map_err(|_| format!("--seed needs a whole number, got '{v}'"))?);
            }
            "--max-timer-firings" => {
                let v = value("--max-timer-firings")?;
                command.options.max_timer_firings =
                    v.parse().map_err(|_| format!("--max-timer-firings needs a whole number, got '{v}'"))?;
            }
            "--check-invariants" => command.options.check_invariants = true,
            "--broker" => command.broker = Some(value("--broker")?),
            "--compare" => command.compare = true,
            "--clean" => command.clean = true,
            "--allow-list" => command.allow_list = Some(value("--allow-list")?),
            "--name" => command.name = Some(value("--name")?),
            "--record" => command.record = Some(value("--record")?),
            "--golden" => command.golden = Some(value("--golden")?),
            "--brokers" => {
                let v = value("--brokers")?;
                let n: i32 = v.parse().map_err(|_| format!("--brokers needs a whole number, got '{v}'"))?;
                if !(1..=9).contains(&n) {
                    return Err("--brokers is 1 to 9".to_string());
                }
                command.brokers = Some(n);
            }
            "--racks" => command.racks = value("--racks")?.split(',').map(String::from).collect(),
            "--broker-config" => {
                let v = value("--broker-config")?;
                let (k, val) =
                    v.split_once('=').ok_or_else(|| format!("--broker-config takes KEY=VALUE, got '{v}'"))?;
                command.broker_configs.push((k.to_string(), val.to_string()));
            }
            "--speed" => {
                let v = value("--speed")?;
                let speed: u64 = v.parse().map_err(|_| format!("--speed needs a whole number, got '{v}'"))?;
                if speed == 0 {
                    return Err("--speed must be at least 1".to_string());
                }
                command.speed = Some(speed);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option '{flag}'")),
            path => {
                if file.replace(path.to_string()).is_some() {
                    return Err("give one scenario file".to_string());
                }
            }
        }
    }
    command.file = file.ok_or("missing the scenario file")?;
    if (command.compare || command.clean) && command.broker.is_none() {
        return Err("--compare and --clean need --broker URI".to_string());
    }
    if command.speed.is_some() && command.broker.is_none() {
        return Err("--speed goes with --broker (the engine runs in virtual time)".to_string());
    }
    if (command.allow_list.is_some() || command.name.is_some())
        && !command.compare
        && command.golden.is_none()
    {
        return Err("--allow-list and --name go with --compare or --golden".to_string());
    }
    if command.record.is_some() && command.broker.is_none() {
        return Err("--record goes with --broker".to_string());
    }
    if command.golden.is_some() && command.broker.is_none() {
        return Err("--golden goes with --broker".to_string());
    }
    if command.compare && command.json {
        return Err("--compare prints differences; it has no --json form".to_string());
    }
    Ok(command)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        out!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--version") {
        outln!("brokerlab {} (scenario format {})", broker_core::VERSION, scenario::FORMAT_VERSION);
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("definitions") {
        return definitions_command(&args[1..]);
    }
    let command = match parse_args(&args) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("brokerlab: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let text = match read_source(&command.file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if kafka::is_kafka_program(&command.file) {
        return kafka::main(&command, &text);
    }
    if sqs::is_sqs_program(&command.file) {
        return sqs::main(&command, &text);
    }
    if redis::is_redis_program(&command.file) {
        return redis::main(&command, &text);
    }
    if command.record.is_some()
        || command.golden.is_some()
        || command.brokers.is_some()
        || !command.broker_configs.is_empty()
    {
        eprintln!("brokerlab: --record, --golden, --brokers and --broker-config are for Kafka programs (FILE.kafka)");
        return ExitCode::from(2);
    }
    if text.trim_start().starts_with('{') {
        if is_redis_document(&text) {
            return run_redis_document(&command, &text);
        }
        if scenario::document::model_of(&text) == Ok(scenario::document::ModelName::Kafka) {
            return run_kafka_document(&command, &text);
        }
        if scenario::document::model_of(&text) == Ok(scenario::document::ModelName::Sqs) {
            return run_sqs_document(&command, &text);
        }
        if let (Some(uri), false) = (&command.broker, command.check_only) {
            return real::run_document(&command, uri, &text);
        }
        return run_document(&command, &text);
    }
    let scenario = match Scenario::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}", e.located(&command.file));
            return ExitCode::from(2);
        }
    };
    if command.check_only {
        outln!(
            "{}: ok (format {}, {} statements)",
            command.file,
            scenario.version,
            scenario.statement_count()
        );
        return ExitCode::SUCCESS;
    }
    if command.speed.is_some() {
        eprintln!(
            "brokerlab: {}: --speed runs JSON documents faster; a format-1 scenario's waits are its own",
            command.file
        );
        return ExitCode::from(2);
    }
    if let Some(uri) = &command.broker {
        return real::run(&command, uri, &scenario);
    }
    let report = scenario::run(&scenario, &command.options);
    if command.json {
        outln!("{}", report.to_json(&command.filter));
    } else {
        out!("{}", report.transcript(&command.filter));
    }
    match &report.stopped {
        Some(stop) => {
            eprintln!("{}:{}:{}: {}", command.file, stop.pos.line, stop.pos.col, stop.message);
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    }
}

/// A scenario or definitions file as text, without a byte-order mark; unreadable or non-UTF-8 bytes are
/// reported (`file:line:col: …` with the byte offset) and give exit code 2.
fn read_source(file: &str) -> Result<String, ExitCode> {
    let bytes = std::fs::read(file).map_err(|e| {
        eprintln!("brokerlab: cannot read {file}: {e}");
        ExitCode::from(2)
    })?;
    match scenario::decode_source(&bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            eprintln!("{}", e.located(file));
            Err(ExitCode::from(2))
        }
    }
}

/// `brokerlab definitions import|export FILE`: RabbitMQ's `definitions.json` in and out of the engine.
fn definitions_command(args: &[String]) -> ExitCode {
    use broker_core::amqp::definitions;
    use broker_core::amqp::{Broker, BrokerConfig};
    use broker_core::VirtualTime;
    let (verb, file) = match args {
        [verb, file] if verb == "import" || verb == "export" => (verb.as_str(), file),
        _ => {
            eprintln!("brokerlab: definitions needs 'import DEFS.json' or 'export FILE.json'\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let text = match read_source(file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if verb == "export" {
        return match Simulation::from_json(&text, SimOptions::default()) {
            Ok(sim) => {
                outln!("{}", definitions::export(sim.broker()).to_json_pretty());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{}", e.located(file));
                ExitCode::from(2)
            }
        };
    }
    let mut broker = Broker::new(BrokerConfig::default(), 0);
    match definitions::import_json(&mut broker, VirtualTime::ZERO, &text) {
        Ok(report) => {
            outln!(
                "{file}: imported {} exchange(s), {} queue(s), {} binding(s); {} policy application(s)",
                report.exchanges.len(),
                report.queues.len(),
                report.bindings,
                report.applied_policies.len()
            );
            for warning in &report.warnings {
                outln!("warning: {warning}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            // The entity's place in the file (`queues[3]`) found again in the text, as for documents.
            match scenario::document::locate(&text, &e.path) {
                Some(pos) => eprintln!("{file}:{}:{}: {e}", pos.line, pos.col),
                None => eprintln!("{file}: {e}"),
            }
            ExitCode::from(2)
        }
    }
}

fn sim_options(command: &Command) -> SimOptions {
    SimOptions {
        seed: command.options.seed,
        keep_log: true,
        hand_over_events: false,
        max_firings_per_instant: command.options.max_timer_firings,
        check_invariants: command.options.check_invariants,
        ..SimOptions::default()
    }
}

/// Runs (or checks) a format-2 JSON document: transcript or JSON report, then the checks.
fn run_document(command: &Command, text: &str) -> ExitCode {
    let options = sim_options(command);
    let mut sim = match Simulation::from_json(text, options) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("{}", e.located(&command.file));
            return ExitCode::from(2);
        }
    };
    if command.check_only {
        outln!(
            "{}: ok (format {}, {} checks)",
            command.file,
            scenario::document::DOCUMENT_VERSION,
            sim.check_results().len()
        );
        return ExitCode::SUCCESS;
    }
    sim.run();
    if command.json {
        outln!("{}", sim.to_json(&command.filter));
    } else {
        out!("{}", sim.transcript_filtered(&command.filter));
    }
    let failed = sim.check_results().iter().filter(|r| r.status != CheckStatus::Pass).count();
    if let Some(stop) = sim.stopped() {
        // A stop located in the document (the actor or script that went past a limit) says where.
        if stop.pos.line > 0 {
            eprintln!("{}:{}:{}: {} {}", command.file, stop.pos.line, stop.pos.col, stop.at, stop.message);
        } else {
            eprintln!("{}: {} {}", command.file, stop.at, stop.message);
        }
        return ExitCode::from(1);
    }
    if failed > 0 {
        eprintln!("{}: {failed} check(s) failed", command.file);
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// `tests/scenarios/<model>/<name>/scenario.brokerlab` (or `program.kafka`, `document.json`) is `<name>`;
/// another file is its stem.
#[cfg_attr(not(feature = "real-broker"), allow(dead_code))]
pub(crate) fn scenario_name(file: &str) -> String {
    let path = std::path::Path::new(file);
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if stem == "scenario" || stem == "program" || stem == "document" {
        if let Some(folder) = path.parent().and_then(|p| p.file_name()) {
            return folder.to_string_lossy().into_owned();
        }
    }
    stem
}

/// A model's document read for `run` or `check`: a malformed one is reported at its place (exit 2);
/// `check` prints the format, the model and the number of checks (exit 0); otherwise the run to play.
fn loaded_document<R>(
    command: &Command,
    model: &str,
    parsed: Result<R, scenario::ScenarioError>,
    checks: impl FnOnce(&R) -> usize,
) -> ControlFlow<ExitCode, R> {
    let run = match parsed {
        Ok(run) => run,
        Err(e) => {
            eprintln!("{}", e.located(&command.file));
            return ControlFlow::Break(ExitCode::from(2));
        }
    };
    if command.check_only {
        outln!(
            "{}: ok (format {}, model {model}, {} checks)",
            command.file,
            scenario::document::DOCUMENT_VERSION,
            checks(&run)
        );
        return ControlFlow::Break(ExitCode::SUCCESS);
    }
    ControlFlow::Continue(run)
}

/// A played document's output (its JSON report with `--json`, else its transcript) and exit code: 1 when
/// the run stopped early or a check did not pass.
fn document_outcome(
    command: &Command,
    json: impl FnOnce() -> String,
    transcript: impl FnOnce() -> String,
    stopped: Option<&scenario::report::StopInfo>,
    results: &[broker_core::scenario::sim::CheckResult],
) -> ExitCode {
    if command.json {
        outln!("{}", json());
    } else {
        out!("{}", transcript());
    }
    if let Some(stop) = stopped {
        eprintln!("{}: {} {}", command.file, stop.at, stop.message);
        return ExitCode::from(1);
    }
    let failed = results.iter().filter(|r| r.status != CheckStatus::Pass).count();
    if failed > 0 {
        eprintln!("{}: {failed} check(s) failed", command.file);
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Runs (or checks) a Kafka document (`"model": "kafka"`): transcript or JSON report, then the checks.
fn run_kafka_document(command: &Command, text: &str) -> ExitCode {
    use broker_core::kafka::scenario::{KafkaRun, KafkaRunOptions};
    let options = KafkaRunOptions {
        seed: command.options.seed,
        max_firings_per_instant: Some(command.options.max_timer_firings),
    };
    let mut run = match loaded_document(command, "kafka", KafkaRun::from_json(text, options), |r| {
        r.check_results().len()
    }) {
        ControlFlow::Continue(run) => run,
        ControlFlow::Break(code) => return code,
    };
    run.run();
    if let Some(uri) = &command.broker {
        // The engine's run gives the records to send and the outcome to compare with.
        return kafka::real_document(command, uri, &run);
    }
    document_outcome(command, || run.to_json(), || run.transcript(), run.stopped(), &run.check_results())
}

/// `brokerlab run DOC.json` for an SQS document (`"model": "sqs"`): played on the engine, or with
/// `--broker sqs://HOST:PORT [--compare]` on an SQS emulator too (`sqs::real_document`).
fn run_sqs_document(command: &Command, text: &str) -> ExitCode {
    use broker_core::sqs::scenario::{SqsRun, SqsRunOptions};
    let options = SqsRunOptions {
        seed: command.options.seed,
        max_firings_per_instant: Some(command.options.max_timer_firings),
    };
    let mut run = match loaded_document(command, "sqs", SqsRun::from_json(text, options), |r| {
        r.check_results().len()
    }) {
        ControlFlow::Continue(run) => run,
        ControlFlow::Break(code) => return code,
    };
    run.run();
    if let Some(uri) = &command.broker {
        // The engine's run gives the messages to send and the outcome to compare with.
        return sqs::real_document(command, uri, &run);
    }
    document_outcome(command, || run.to_json(), || run.transcript(), run.stopped(), &run.check_results())
}

/// Whether a document says `"model": "redis"` (read apart from the other models' envelope, which
/// does not list Redis).
fn is_redis_document(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(scenario::strip_bom(text))
        .is_ok_and(|v| v.get("model").and_then(|m| m.as_str()) == Some("redis"))
}

/// `brokerlab run DOC.json` for a Redis document (`"model": "redis"`): played on the engine, or with
/// `--broker redis://HOST:PORT [--compare]` also on a real redis-server (`redis::real_document`).
fn run_redis_document(command: &Command, text: &str) -> ExitCode {
    use broker_core::redis::scenario::{RedisRun, RedisRunOptions};
    let options = RedisRunOptions {
        seed: command.options.seed,
        max_firings_per_instant: Some(command.options.max_timer_firings),
        record_wire: command.broker.is_some(),
    };
    let mut run = match loaded_document(command, "redis", RedisRun::from_json(text, options), |r| {
        r.check_results().len()
    }) {
        ControlFlow::Continue(run) => run,
        ControlFlow::Break(code) => return code,
    };
    run.run();
    if let Some(uri) = &command.broker {
        // The engine's run gives the exchanges to play and the lines to compare with.
        return redis::real_document(command, uri, &run);
    }
    document_outcome(command, || run.to_json(), || run.transcript(), run.stopped(), &run.check_results())
}

#[cfg(feature = "real-broker")]
mod real {
    //! `--broker` and `--compare`: the scenario on a real RabbitMQ (crate `real_broker`).

    use super::Command;
    use broker_core::scenario::{self, Scenario};
    use real_broker::compare;
    use std::process::ExitCode;

    pub(super) fn run(command: &Command, uri: &str, scenario: &Scenario) -> ExitCode {
        let allow = match &command.allow_list {
            None => Vec::new(),
            Some(path) => match std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|t| compare::parse_allow_list(&t))
            {
                Ok(entries) => entries,
                Err(e) => {
                    eprintln!("brokerlab: allow-list {path}: {e}");
                    return ExitCode::from(2);
                }
            },
        };
        // The engine run gives the instants where timers fire (the real run paces itself by them) and
        // the names to clean up.
        let engine = scenario::run(scenario, &command.options);
        let clean = command.compare || command.clean;
        let real = match real_broker::run_real(scenario, &command.options, uri, &engine, clean) {
            Ok(report) => report,
            Err(e) => {
                eprintln!("brokerlab: {}: {e}", command.file);
                return ExitCode::from(2);
            }
        };
        if !command.compare {
            if command.json {
                outln!("{}", real.to_json(&command.filter));
            } else {
                out!("{}", real.transcript(&command.filter));
            }
            return match &real.stopped {
                Some(stop) => {
                    eprintln!("{}:{}:{}: {}", command.file, stop.pos.line, stop.pos.col, stop.message);
                    ExitCode::from(1)
                }
                None => ExitCode::SUCCESS,
            };
        }
        let name = command.name.clone().unwrap_or_else(|| super::scenario_name(&command.file));
        let differences = compare::compare(&name, &engine, &real, &allow);
        out!("{}", compare::render(&name, &differences));
        let unexplained = differences.iter().filter(|d| d.allowed.is_none()).count();
        outln!(
            "{name}: {} difference(s) between the engine and RabbitMQ, {unexplained} not in the allow-list",
            differences.len()
        );
        if unexplained > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }

    /// `--broker` with a format-2 document: the engine's simulation with a real RabbitMQ as its broker.
    pub(super) fn run_document(command: &Command, uri: &str, text: &str) -> ExitCode {
        use broker_core::scenario::document::Document;
        use broker_core::scenario::sim::{CheckStatus, Simulation};
        use real_broker::document::{self, DocumentOptions};
        let allow = match load_allow_list(command) {
            Ok(a) => a,
            Err(code) => return code,
        };
        let doc = match Document::parse(text) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{}", e.located(&command.file));
                return ExitCode::from(2);
            }
        };
        let options = DocumentOptions {
            sim: super::sim_options(command),
            speed: command.speed.unwrap_or(1),
            clean: command.compare || command.clean,
        };
        let mut real = match document::run_document_real(&doc, &options, uri) {
            Ok(sim) => sim,
            Err(e) => {
                eprintln!("brokerlab: {}: {e}", command.file);
                return ExitCode::from(2);
            }
        };
        let code = if command.compare {
            let mut engine = match Simulation::from_json(text, options.sim.clone()) {
                Ok(sim) => sim,
                Err(e) => {
                    eprintln!("{}", e.located(&command.file));
                    return ExitCode::from(2);
                }
            };
            engine.run();
            let name = command.name.clone().unwrap_or_else(|| super::scenario_name(&command.file));
            let differences = document::compare_documents(&name, &engine, &real, &allow);
            out!("{}", compare::render(&name, &differences));
            let unobservable = document::unobservable_checks(&real);
            if !unobservable.is_empty() {
                let list: Vec<String> = unobservable.iter().map(|i| (i + 1).to_string()).collect();
                outln!(
                    "{name}: check(s) {} not compared: they count events that happen inside the broker",
                    list.join(", ")
                );
            }
            let unexplained = differences.iter().filter(|d| d.allowed.is_none()).count();
            outln!(
                "{name}: {} difference(s) between the engine and RabbitMQ (speed {}), {unexplained} not in the \
                 allow-list",
                differences.len(),
                options.speed
            );
            if unexplained > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        } else {
            if command.json {
                outln!("{}", real.to_json(&command.filter));
            } else {
                out!("{}", real.transcript_filtered(&command.filter));
            }
            let failed = real.check_results().iter().filter(|r| r.status == CheckStatus::Fail).count();
            if let Some(stop) = real.stopped() {
                eprintln!("{}: {} {}", command.file, stop.at, stop.message);
                ExitCode::from(1)
            } else if failed > 0 {
                eprintln!("{}: {failed} check(s) failed on RabbitMQ", command.file);
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        };
        if let Err(e) = document::finish_document_real(&mut real, &doc, &options, uri) {
            eprintln!("brokerlab: {}: clean-up: {e}", command.file);
            return ExitCode::from(2);
        }
        code
    }

    /// The `--allow-list` file's entries (none without one); a bad file is reported, exit code 2.
    pub(crate) fn load_allow_list(command: &Command) -> Result<Vec<compare::AllowEntry>, ExitCode> {
        match &command.allow_list {
            None => Ok(Vec::new()),
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|t| compare::parse_allow_list(&t))
                .map_err(|e| {
                    eprintln!("brokerlab: allow-list {path}: {e}");
                    ExitCode::from(2)
                }),
        }
    }
}

#[cfg(not(feature = "real-broker"))]
mod real {
    use super::Command;
    use broker_core::scenario::Scenario;
    use std::process::ExitCode;

    pub(super) fn run(_: &Command, _: &str, _: &Scenario) -> ExitCode {
        unsupported()
    }

    pub(super) fn run_document(_: &Command, _: &str, _: &str) -> ExitCode {
        unsupported()
    }

    fn unsupported() -> ExitCode {
        eprintln!(
            "brokerlab: this build has no real-broker support; rebuild with \
             `cargo build -p brokerlab_cli --features real-broker`"
        );
        ExitCode::from(2)
    }
}
