//! The Redis half of `--compare` (and of the golden test, whose `expected.txt` is the real server's
//! transcript): both transcripts normalised, then diffed by the kernel (`sim_kernel::diff`).
//!
//! Normalised, because they depend on the wall clock: the milliseconds of stream ids (13 digits and
//! more; the engine's clock starts at `EPOCH_MS`), replaced by `<ms N>` in order of first appearance
//! with their sequence kept; and the idle times in `XPENDING`'s extended reply and `XINFO CONSUMERS`'
//! `idle` field, floored to 100 ms (the real server's idle is the program's sleeps plus a few
//! milliseconds of round trips); and `LASTSAVE`'s Unix seconds, replaced by `<lastsave N>` in order of
//! first appearance (so a save that moved it, or a reload that did not, still shows).
//!
//! The Unix milliseconds `XINFO STREAM … FULL` prints (each pending entry's delivery time, each
//! consumer's `seen-time`) become `<time N>`, numbered in order of first appearance, a time within
//! 100 ms of one seen before taking its number: the engine's are instants of virtual time, the real
//! server's the same instants plus a few milliseconds of round trips, so the goldens separate the
//! instants they compare by sleeps of 0.3 s and more.
//!
//! Sorted, because it depends on the hash seed redis-server draws at each start: the keys of a `KEYS`
//! reply and of a `SCAN` reply's key list, and the channels of `PUBSUB CHANNELS|SHARDCHANNELS`, come in
//! the order of its hash tables' buckets, so each such list is compared sorted (numbering and cursor
//! kept). This is why the golden programs
//! only `SCAN` where the first call finishes the iteration: its cursor is then `0` on any server.

use std::collections::BTreeMap;

use regex_lite::Regex;
use sim_kernel::diff::{self, Line};

use super::{Program, StatementKind};

/// Normalises one transcript into lines tagged with the program line of their statement.
pub fn normalise(text: &str, program: &Program) -> Vec<Line> {
    let ms = Regex::new(r"\b(\d{13,20})-(\d+)\b").expect("valid pattern");
    let idle = Regex::new(r"^(\s*(?:\d+\) )?\s*)3\) \(integer\) (\d+)$").expect("valid pattern");
    let field_idle = Regex::new(r"^(.*\d+\) )\(integer\) (\d+)$").expect("valid pattern");
    let mut after_idle_field = false;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    let echoes: Vec<(String, u32, bool)> = program
        .statements
        .iter()
        .filter_map(|s| match &s.kind {
            StatementKind::Command(argv) => {
                let xpending = argv.len() > 3 && argv[0].eq_ignore_ascii_case(b"XPENDING");
                Some((format!("> {}", s.text), s.line, xpending))
            }
            StatementKind::Sleep(_) => Some((s.text.clone(), s.line, false)),
            StatementKind::Client(_) => None,
        })
        .collect();
    // (line, whether SCAN) of each KEYS and SCAN statement.
    let unordered: Vec<(u32, bool)> = program
        .statements
        .iter()
        .filter_map(|s| match &s.kind {
            StatementKind::Command(argv) if argv[0].eq_ignore_ascii_case(b"KEYS") => Some((s.line, false)),
            StatementKind::Command(argv) if argv[0].eq_ignore_ascii_case(b"SCAN") => Some((s.line, true)),
            StatementKind::Command(argv)
                if argv[0].eq_ignore_ascii_case(b"PUBSUB")
                    && argv.get(1).is_some_and(|a| {
                        a.eq_ignore_ascii_case(b"CHANNELS") || a.eq_ignore_ascii_case(b"SHARDCHANNELS")
                    }) =>
            {
                Some((s.line, false))
            }
            _ => None,
        })
        .collect();
    let lastsaves: Vec<u32> = program
        .statements
        .iter()
        .filter_map(|s| match &s.kind {
            StatementKind::Command(argv) if argv.len() == 1 && argv[0].eq_ignore_ascii_case(b"LASTSAVE") => {
                Some(s.line)
            }
            _ => None,
        })
        .collect();
    // The lines of the `XINFO STREAM … FULL` statements.
    let full_lines: Vec<u32> = program
        .statements
        .iter()
        .filter_map(|s| match &s.kind {
            StatementKind::Command(argv)
                if argv.len() > 3
                    && argv[0].eq_ignore_ascii_case(b"XINFO")
                    && argv[1].eq_ignore_ascii_case(b"STREAM")
                    && argv[3].eq_ignore_ascii_case(b"FULL") =>
            {
                Some(s.line)
            }
            _ => None,
        })
        .collect();
    let unix_ms = Regex::new(r"^(.*)\(integer\) (\d{13,19})$").expect("valid pattern");
    // First value of each cluster of times, in order of first appearance.
    let mut times: Vec<u64> = Vec::new();
    let mut saves_seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut next = 0usize;
    let (mut step_line, mut in_xpending) = (0u32, false);
    let mut lines: Vec<(u32, bool, bool, String)> = Vec::new();
    for raw in text.lines() {
        let mut echo_line = false;
        if let Some((echo, line, xp)) = echoes.get(next) {
            if raw.ends_with(echo.as_str()) && (raw == echo || !raw.starts_with('(')) {
                step_line = *line;
                in_xpending = *xp;
                next += 1;
                echo_line = true;
            }
        }
        lines.push((step_line, echo_line, in_xpending, raw.to_string()));
    }
    sort_key_lists(&mut lines, &unordered);
    for (step_line, echo_line, in_xpending, raw) in lines {
        if !echo_line && lastsaves.contains(&step_line) {
            if let Some(seconds) = raw.strip_prefix("(integer) ") {
                let n = saves_seen.len() + 1;
                let k = *saves_seen.entry(seconds.to_string()).or_insert(n);
                out.push(Line { step_line, text: format!("(integer) <lastsave {k}>") });
                continue;
            }
        }
        if !echo_line && full_lines.contains(&step_line) {
            if let Some(c) = unix_ms.captures(&raw) {
                let v: u64 = c[2].parse().unwrap_or(0);
                let k = match times.iter().position(|t| t.abs_diff(v) <= 100) {
                    Some(k) => k + 1,
                    None => {
                        times.push(v);
                        times.len()
                    }
                };
                out.push(Line { step_line, text: format!("{}(integer) <time {k}>", &c[1]) });
                continue;
            }
        }
        let raw = raw.as_str();
        let mut line = ms
            .replace_all(raw, |c: &regex_lite::Captures<'_>| {
                let n = seen.len() + 1;
                let k = *seen.entry(c[1].to_string()).or_insert(n);
                format!("<ms {k}>-{}", &c[2])
            })
            .to_string();
        if in_xpending {
            if let Some(c) = idle.captures(&line) {
                let v: u64 = c[2].parse().unwrap_or(0);
                line = format!("{}3) (integer) <idle {} ms>", &c[1], v / 100 * 100);
            }
        } else if after_idle_field {
            if let Some(c) = field_idle.captures(&line) {
                let v: u64 = c[2].parse().unwrap_or(0);
                line = format!("{}(integer) <idle {} ms>", &c[1], v / 100 * 100);
            }
        }
        after_idle_field = raw.ends_with(") \"idle\"");
        out.push(Line { step_line, text: line });
    }
    out
}

/// Sorts the keys each `KEYS` (`N) "key"` lines) or `SCAN` (`2) N) "key"` lines after the cursor) reply
/// lists, in place, keeping each line's numbering.
fn sort_key_lists(lines: &mut [(u32, bool, bool, String)], unordered: &[(u32, bool)]) {
    let item = Regex::new(r"^((?:2\) )?\s*\d+\) )(.*)$").expect("valid pattern");
    let mut i = 0;
    while i < lines.len() {
        let Some(&(_, is_scan)) = unordered.iter().find(|(l, _)| lines[i].1 && *l == lines[i].0) else {
            i += 1;
            continue;
        };
        let step = lines[i].0;
        let mut end = i + 1;
        while end < lines.len() && lines[end].0 == step && !lines[end].1 {
            end += 1;
        }
        let block = &mut lines[i + 1..end];
        // A SCAN reply starts with its cursor line `1) "N"`, which stays where it is.
        let first = usize::from(is_scan);
        let mut values: Vec<String> = Vec::new();
        let mut prefixes: Vec<(usize, String)> = Vec::new();
        for (n, l) in block.iter().enumerate().skip(first) {
            if let Some(c) = item.captures(&l.3) {
                prefixes.push((n, c[1].to_string()));
                values.push(c[2].to_string());
            }
        }
        values.sort();
        for ((n, prefix), value) in prefixes.into_iter().zip(values) {
            block[n].3 = format!("{prefix}{value}");
        }
        i = end;
    }
}

/// The differences not covered by the allow-list, rendered; an allow-list error is one difference.
pub fn differences(name: &str, engine: &str, real: &str, program: &Program, allow: &str) -> Vec<String> {
    let allow = match diff::parse_allow_list(allow) {
        Ok(a) => a,
        Err(e) => return vec![format!("allow-list: {e}")],
    };
    let mut d =
        diff::diff(&normalise(engine, program), &normalise(real, program), ["engine", "redis-server"]);
    diff::apply_allow_list(name, &mut d, &allow);
    let open: Vec<_> = d.into_iter().filter(|d| d.allowed.is_none()).collect();
    if open.is_empty() {
        return Vec::new();
    }
    diff::render(name, &open, "engine").lines().map(str::to_string).collect()
}
