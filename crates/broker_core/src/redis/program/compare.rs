//! The Redis half of `--compare` (and of the golden test, whose `expected.txt` is the real server's
//! transcript): both transcripts normalised, then diffed by the kernel (`sim_kernel::diff`).
//!
//! Normalised, because they depend on the wall clock: the milliseconds of stream ids (13 digits and
//! more; the engine's clock starts at `EPOCH_MS`), replaced by `<ms N>` in order of first appearance
//! with their sequence kept; and the idle times in `XPENDING`'s extended reply and `XINFO CONSUMERS`'
//! `idle` field, floored to 100 ms (the real server's idle is the program's sleeps plus a few
//! milliseconds of round trips).

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
    let mut next = 0usize;
    let (mut step_line, mut in_xpending) = (0u32, false);
    for raw in text.lines() {
        if let Some((echo, line, xp)) = echoes.get(next) {
            if raw.ends_with(echo.as_str()) && (raw == echo || !raw.starts_with('(')) {
                step_line = *line;
                in_xpending = *xp;
                next += 1;
            }
        }
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
