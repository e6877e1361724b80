//! `brokerlab`: runs a scenario file on the engine and prints the transcript (or `--json`).
//!
//! The format is picked by content: a JSON document (format 2, starts with `{`) or the line-oriented
//! format 1. Exit codes: 0 the scenario ran (broker errors inside it are results, not failures) and
//! every check of a document passed; 1 the run was stopped early (the runaway guard, or a step used a
//! value a failed step never produced) or a check failed; 2 the file is malformed
//! (`file:line:col: message` on stderr), unreadable, or the command line is wrong.

use broker_core::scenario::sim::{CheckStatus, SimOptions, Simulation};
use broker_core::scenario::{self, EventFilter, RunOptions, Scenario};
use std::process::ExitCode;

const USAGE: &str = "\
usage: brokerlab run FILE [options]     run a scenario, print its transcript
       brokerlab check FILE             check a scenario without running it

options for run:
  --json                   print the JSON report instead of the transcript
  --all-events             show every event (default: delivered, returned, confirmed)
  --events KINDS           show these event kinds, comma-separated (e.g. delivered,dead_lettered)
  --seed N                 override the scenario's seed
  --max-timer-firings N    runaway guard per time advance, or per instant for a
                           JSON document (default 100000)
  --check-invariants       check the engine's invariants after every step (slower)
";

struct Command {
    check_only: bool,
    file: String,
    json: bool,
    filter: EventFilter,
    options: RunOptions,
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
            flag if flag.starts_with("--") => return Err(format!("unknown option '{flag}'")),
            path => {
                if file.replace(path.to_string()).is_some() {
                    return Err("give one scenario file".to_string());
                }
            }
        }
    }
    command.file = file.ok_or("missing the scenario file")?;
    Ok(command)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--version") {
        println!("brokerlab {} (scenario format {})", broker_core::VERSION, scenario::FORMAT_VERSION);
        return ExitCode::SUCCESS;
    }
    let command = match parse_args(&args) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("brokerlab: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read_to_string(&command.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("brokerlab: cannot read {}: {e}", command.file);
            return ExitCode::from(2);
        }
    };
    if text.trim_start().starts_with('{') {
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
        println!(
            "{}: ok (format {}, {} statements)",
            command.file,
            scenario.version,
            scenario.statement_count()
        );
        return ExitCode::SUCCESS;
    }
    let report = scenario::run(&scenario, &command.options);
    if command.json {
        println!("{}", report.to_json(&command.filter));
    } else {
        print!("{}", report.transcript(&command.filter));
    }
    match &report.stopped {
        Some(stop) => {
            eprintln!("{}:{}:{}: {}", command.file, stop.pos.line, stop.pos.col, stop.message);
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    }
}

/// Runs (or checks) a format-2 JSON document: transcript or JSON report, then the checks.
fn run_document(command: &Command, text: &str) -> ExitCode {
    let options = SimOptions {
        seed: command.options.seed,
        keep_log: true,
        max_firings_per_instant: command.options.max_timer_firings,
        check_invariants: command.options.check_invariants,
    };
    let mut sim = match Simulation::from_json(text, options) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("{}", e.located(&command.file));
            return ExitCode::from(2);
        }
    };
    if command.check_only {
        println!(
            "{}: ok (format {}, {} checks)",
            command.file,
            scenario::document::DOCUMENT_VERSION,
            sim.check_results().len()
        );
        return ExitCode::SUCCESS;
    }
    sim.run();
    if command.json {
        println!("{}", sim.to_json(&command.filter));
    } else {
        print!("{}", sim.transcript_filtered(&command.filter));
    }
    let failed = sim.check_results().iter().filter(|r| r.status != CheckStatus::Pass).count();
    if let Some(stop) = sim.stopped() {
        eprintln!("{}: {} {}", command.file, stop.at, stop.message);
        return ExitCode::from(1);
    }
    if failed > 0 {
        eprintln!("{}: {failed} check(s) failed", command.file);
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
