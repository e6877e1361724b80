//! The SQS half of `--compare`: both transcripts (the engine's, and an emulator's printed by the boto3
//! driver in the same session format) normalised — message ids, receipt handles, sequence numbers,
//! queue URLs' host, timestamps and the engine's `# t=` lines — then diffed by the kernel
//! (`sim_kernel::diff`), each difference kept only where the allow-list names the AWS page that says
//! the engine is right (`tests/scenarios/sqs/emulator-allow-list.toml`).

use std::collections::BTreeMap;

use regex_lite::Regex;
use sim_kernel::diff::{self, Line};

use super::Program;

/// Normalises one transcript into lines tagged with the program line of their statement (the n-th
/// `>>> ` line is the n-th statement).
pub fn normalise(text: &str, program: &Program) -> Vec<Line> {
    let uuid =
        Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").expect("valid pattern");
    let handle = Regex::new(r"'ReceiptHandle': '[^']*'").expect("valid pattern");
    let url = Regex::new(r"https?://[A-Za-z0-9.:-]+/(\d{12})/").expect("valid pattern");
    let stamp = Regex::new(r"'(SentTimestamp|ApproximateFirstReceiveTimestamp|CreatedTimestamp|LastModifiedTimestamp|SequenceNumber|SenderId)': '[^']*'").expect("valid pattern");
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut handles: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    let mut statement = 0usize;
    let mut step_line = 0u32;
    for raw in text.lines() {
        if raw.starts_with("# t=") {
            continue;
        }
        if raw.starts_with(">>> ") {
            step_line = program.statements.get(statement).map(|s| s.line).unwrap_or(0);
            statement += 1;
        }
        let mut line = url.replace_all(raw, "<endpoint>/$1/").to_string();
        line = stamp.replace_all(&line, "'$1': '…'").to_string();
        line = handle
            .replace_all(&line, |c: &regex_lite::Captures<'_>| {
                let n = handles.len() + 1;
                let k = *handles.entry(c[0].to_string()).or_insert(n);
                format!("'ReceiptHandle': '<handle {k}>'")
            })
            .to_string();
        line = uuid
            .replace_all(&line, |c: &regex_lite::Captures<'_>| {
                let n = ids.len() + 1;
                let k = *ids.entry(c[0].to_string()).or_insert(n);
                format!("<id {k}>")
            })
            .to_string();
        out.push(Line { step_line, text: line });
    }
    out
}

/// The differences not covered by the allow-list, rendered; an allow-list error is one difference.
pub fn differences(name: &str, engine: &str, emulator: &str, program: &Program, allow: &str) -> Vec<String> {
    let allow = match diff::parse_allow_list(allow) {
        Ok(a) => a,
        Err(e) => return vec![format!("allow-list: {e}")],
    };
    let names_aws_page =
        |r: &str| r.contains("https://docs.aws.amazon.com/") || r.contains("https://repost.aws/");
    if let Some(a) = allow.iter().find(|a| !names_aws_page(&a.reason)) {
        return vec![format!(
            "allow-list: the entry for {} line {} must name its AWS page",
            a.scenario, a.line
        )];
    }
    let mut d =
        diff::diff(&normalise(engine, program), &normalise(emulator, program), ["engine", "emulator"]);
    diff::apply_allow_list(name, &mut d, &allow);
    let open: Vec<_> = d.into_iter().filter(|d| d.allowed.is_none()).collect();
    if open.is_empty() {
        return Vec::new();
    }
    diff::render(name, &open, "engine").lines().map(str::to_string).collect()
}
