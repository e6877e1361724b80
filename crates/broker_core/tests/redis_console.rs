//! The console's redis-cli against the real one: every `tests/scenarios/redis-console/<name>/input.txt` is
//! typed on the console of an empty Redis document ([`RedisRun::hand_command`], what the Redis page and
//! the embed API's `command` send), and the terminal that results — prompts (`(TX)` in a transaction),
//! what redis-cli prints itself (`Invalid argument(s)`, a repeat count's refusal, `Reading messages…`,
//! `^C` and its timing line) and the server's replies as redis-cli prints them — must equal
//! `expected.txt`, which `scripts/redis-cli-console.py` records from the real redis-cli 7.0.15 in a
//! terminal on redis-server 7.0.15, and compares again in CI (`scripts/real-redis-tests.sh`).
//!
//! Time, as the script's terminal spends it: `sleep S` waits S; a blocked command is given up to 0.3 s in
//! steps of 0.1 s to be answered (the script types the next line after 0.3 s without output), and a line
//! typed while redis-cli reads messages costs 0.3 s. Timing lines are cut to tenths, as the script cuts
//! them.

use broker_core::redis::scenario::{HandLine, RedisRun, RedisRunOptions, CLEAR_SCREEN, CTRL_C};
use broker_core::VirtualTime;
use std::path::{Path, PathBuf};

const PROMPT: &str = "127.0.0.1:6379> ";
const PROMPT_TX: &str = "127.0.0.1:6379(TX)> ";
/// How long the script waits for output before it types the next line.
const QUIET_MS: u64 = 300;

fn folders() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios/redis-console");
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(&root).expect("the console goldens").map(|e| e.expect("an entry").path()).collect();
    dirs.sort();
    dirs
}

/// redis-cli's timing lines cut to tenths (`(0.71s)` is `(0.7s)`), as the script cuts them.
fn cut_timings(text: &str) -> String {
    let timing = regex_lite::Regex::new(r"(?m)^\((\d+)\.(\d)\ds\)$").expect("a valid pattern");
    timing.replace_all(text, "(${1}.${2}s)").into_owned()
}

/// The terminal after typing `input` on the console of an empty document.
fn terminal(input: &str) -> String {
    let doc = r#"{"brokerlab": 2, "model": "redis", "duration": "120s"}"#;
    let mut run = RedisRun::from_json(doc, RedisRunOptions::default()).expect("an empty document opens");
    let mut now = 0;
    run.run_until(VirtualTime::from_millis(now));
    let mut shown = PROMPT.to_string();
    for line in input.split_terminator('\n') {
        if let Some(seconds) = line.strip_prefix("sleep ") {
            now += (seconds.parse::<f64>().expect("sleep SECONDS") * 1000.0) as u64;
            run.run_until(VirtualTime::from_millis(now));
            continue;
        }
        let from = run.hand_lines().len();
        if line == "^C" {
            run.hand_command(CTRL_C).expect("Ctrl-C is always taken");
        } else {
            let reading = run.hand_reading();
            shown.push_str(line);
            shown.push('\n');
            match run.hand_command(line) {
                // Not sent while redis-cli reads messages: the terminal only echoes the line.
                Err(_) if reading => {
                    now += QUIET_MS;
                    run.run_until(VirtualTime::from_millis(now));
                    continue;
                }
                Err(e) if e.is_empty() => {}
                Err(e) => shown.push_str(&format!("{e}\n")),
                Ok(_) => {}
            }
            let mut waited = 0;
            while run.hand_waiting().is_some() && waited < QUIET_MS {
                waited += 100;
                now += 100;
                run.run_until(VirtualTime::from_millis(now));
            }
            if run.hand_reading() {
                now += QUIET_MS;
                run.run_until(VirtualTime::from_millis(now));
            }
        }
        for (_, l) in &run.hand_lines()[from..] {
            match l {
                HandLine::Typed { .. } | HandLine::Blocked { .. } => {}
                HandLine::Cleared => shown.push_str(CLEAR_SCREEN),
                HandLine::Output { text } | HandLine::Received { text } | HandLine::Closed { text } => {
                    shown.push_str(text)
                }
                HandLine::Unblocked { waited_ms, text, .. } => {
                    shown.push_str(text);
                    if *waited_ms >= 500 {
                        shown.push_str(&format!("({:.2}s)\n", *waited_ms as f64 / 1000.0));
                    }
                }
            }
        }
        if !run.hand_reading() && run.hand_waiting().is_none() {
            shown.push_str(if run.hand_in_transaction() { PROMPT_TX } else { PROMPT });
        }
    }
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
    cut_timings(&shown)
}

#[test]
fn the_console_prints_what_redis_cli_prints() {
    let dirs = folders();
    assert!(!dirs.is_empty(), "no console goldens");
    for dir in dirs {
        let input = std::fs::read_to_string(dir.join("input.txt")).expect("input.txt");
        let expected = std::fs::read_to_string(dir.join("expected.txt")).expect("expected.txt");
        let got = terminal(&input);
        if got != expected {
            let diff: Vec<String> = expected
                .lines()
                .zip(got.lines().chain(std::iter::repeat("<nothing>")))
                .enumerate()
                .filter(|(_, (e, g))| e != g)
                .take(5)
                .map(|(i, (e, g))| format!("line {}: expected {e:?}, got {g:?}", i + 1))
                .collect();
            panic!(
                "{}: the console differs from redis-cli:\n{}\n--- got:\n{got}",
                dir.display(),
                diff.join("\n")
            );
        }
    }
}
