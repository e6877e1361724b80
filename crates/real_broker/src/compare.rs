//! Comparing an engine report with a RabbitMQ report of the same scenario.
//!
//! Both reports become lists of normalised lines: every step line, the events a client can observe
//! (deliveries, `basic.get` deliveries, returns, confirms) after the step they follow, and the end
//! counters. Normalisation (described for users in `docs/real-broker.md`) removes what cannot be equal:
//! message ids (`m3`: the engine's numbering; RabbitMQ has none), generated names (`amq.gen-…`,
//! `amq.ctag-…`: numbered by first appearance), `x-death` times, event times (events are placed by the
//! step they follow), the vhost in error texts, confirms sent with `multiple` (expanded to one line per
//! sequence number), and the interleaving of events on different channels after one step (AMQP orders
//! frames per channel only). The two lists are then diffed; a difference the allow-list names is
//! reported as allowed.

use broker_core::amqp::{Event, LoggedEvent};
use broker_core::scenario::report::{event_line, outcome_text};
use broker_core::scenario::{EventFilter, Report};
use std::collections::BTreeMap;

// The diff, its lines and the allow-list are the kernel's (every model's `--compare` uses them); they keep
// their paths here.
pub use sim_kernel::diff::{parse_allow_list, AllowEntry, Difference, Line};

/// The two sides' names, as the differences carry them.
const SIDES: [&str; 2] = ["engine", "rabbitmq"];

/// The event kinds a client observes, so the only ones both sides can have.
pub const OBSERVABLE: &str = "delivered,get,returned,confirmed";

/// Replaces each distinct `prefix` name (`amq.gen-…`) by `prefix#N`, N by first appearance.
fn number_generated(text: &str, prefix: &str, seen: &mut Vec<String>) -> String {
    number_generated_with(text, prefix, seen, |c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// [`number_generated`] for names made of the characters `in_name` accepts.
fn number_generated_with(
    text: &str,
    prefix: &str,
    seen: &mut Vec<String>,
    in_name: impl Fn(char) -> bool,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        let after = &rest[at + prefix.len()..];
        let len = after.find(|c: char| !in_name(c)).unwrap_or(after.len());
        let name = &after[..len];
        let n = match seen.iter().position(|s| s == name) {
            Some(i) => i + 1,
            None => {
                seen.push(name.to_string());
                seen.len()
            }
        };
        out.push_str(&format!("{prefix}#{n}"));
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Replaces the number after each `marker` by `_` (`time: 1700000000` → `time: _`).
fn blank_number_after(text: &str, marker: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let after = &rest[at + marker.len()..];
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        out.push_str(&rest[..at + marker.len()]);
        out.push_str(if digits > 0 { "_" } else { "" });
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Replaces the quoted vhost in `in vhost '…'` by `_`.
fn blank_vhost(text: &str) -> String {
    let marker = "in vhost '";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let after = &rest[at + marker.len()..];
        let end = after.find('\'').unwrap_or(after.len());
        out.push_str(&rest[..at + marker.len()]);
        out.push('_');
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Replaces the message id after `deliver `, `get `, `basic.get-ok ` and `return ` by `m_`.
fn blank_message_ids(text: &str) -> String {
    let mut out = text.to_string();
    for word in ["deliver m", "get m", "basic.get-ok m", "return m"] {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(word) {
            let after = &rest[at + word.len()..];
            let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
            result.push_str(&rest[..at + word.len()]);
            if digits > 0 && after[digits..].starts_with(' ') {
                result.push('_');
                rest = &after[digits..];
            } else {
                rest = after;
            }
        }
        result.push_str(rest);
        out = result;
    }
    out
}

struct Normaliser {
    gen: Vec<String>,
    ctag: Vec<String>,
    reply_to: Vec<String>,
}

impl Normaliser {
    fn text(&mut self, text: &str) -> String {
        let text = number_generated(text, "amq.gen-", &mut self.gen);
        let text = number_generated(&text, "amq.ctag-", &mut self.ctag);
        // Direct reply-to keys: base64 of the channel's process and a random suffix, joined by a dot.
        let text = number_generated_with(&text, "amq.rabbitmq.reply-to.", &mut self.reply_to, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '.' | '_' | '-')
        });
        let text = blank_number_after(&text, " time: ");
        blank_vhost(&blank_message_ids(&text))
    }
}

/// An event's line without its time (`12.345s ` cut off).
fn event_text(e: &LoggedEvent) -> String {
    let line = event_line(e);
    match line.split_once(' ') {
        Some((_, rest)) => rest.to_string(),
        None => line,
    }
}

fn channel_key(e: &Event) -> (u64, u16) {
    match e {
        Event::Delivered { connection, channel, .. }
        | Event::Returned { connection, channel, .. }
        | Event::Confirmed { connection, channel, .. } => (u64::from(connection.0), channel.0),
        _ => (0, 0),
    }
}

/// A report as normalised lines (see the module documentation).
pub fn normalised_lines(report: &Report) -> Vec<Line> {
    let report = report.filtered(&EventFilter::parse(OBSERVABLE));
    let mut norm = Normaliser { gen: Vec::new(), ctag: Vec::new(), reply_to: Vec::new() };
    let mut last_confirmed: BTreeMap<(u64, u16), u64> = BTreeMap::new();
    let mut out = Vec::new();
    let mut events_block =
        |events: &[LoggedEvent], step_line: u32, out: &mut Vec<Line>, norm: &mut Normaliser| {
            let mut block: Vec<(usize, (u64, u16), String)> = Vec::new();
            for e in events {
                let key = channel_key(&e.event);
                match &e.event {
                    Event::Confirmed { connection, channel, delivery_tag, multiple, ack } => {
                        let last = last_confirmed.entry(key).or_insert(0);
                        let first = if *multiple { *last + 1 } else { delivery_tag.0 };
                        for seq in first..=delivery_tag.0 {
                            let what = if *ack { "ack" } else { "nack" };
                            let text = format!("confirm {what} seq {seq} on {connection}/{channel}");
                            block.push((block.len(), key, text));
                        }
                        *last = (*last).max(delivery_tag.0);
                    }
                    _ => block.push((block.len(), key, norm.text(&event_text(e)))),
                }
            }
            // Frames are ordered per channel only: keep each channel's order, group the channels.
            block.sort_by_key(|(i, key, _)| (*key, *i));
            out.extend(block.into_iter().map(|(_, _, text)| Line { step_line, text: format!("  {text}") }));
        };
    let mut next_event = 0;
    let mut previous_line = 0;
    for step in &report.steps {
        let start = step.events_start.min(report.events.len());
        events_block(&report.events[next_event..start], previous_line, &mut out, &mut norm);
        next_event = start;
        let text = norm.text(&format!("{} {} -> {}", step.at, step.source, outcome_text(step)));
        out.push(Line { step_line: step.line, text });
        previous_line = step.line;
    }
    events_block(&report.events[next_event..], previous_line, &mut out, &mut norm);
    if let Some(stop) = &report.stopped {
        out.push(Line { step_line: stop.pos.line, text: format!("stopped: {}", stop.message) });
    }
    out.push(Line { step_line: 0, text: format!("{} end", report.end) });
    // Sorted after normalising: generated names sort differently on each side.
    let mut queues: Vec<String> = report
        .queues
        .iter()
        .map(|q| {
            norm.text(&format!(
                "queue {:?} durable={} exclusive={} auto_delete={} ready={} unacked={} consumers={}",
                q.name,
                q.durable,
                q.exclusive,
                q.auto_delete,
                q.messages_ready,
                q.messages_unacknowledged,
                q.consumers
            ))
        })
        .collect();
    queues.sort();
    out.extend(queues.into_iter().map(|text| Line { step_line: 0, text }));
    out
}

/// The lines only one side has, in order (a longest-common-subsequence diff).
pub fn diff(engine: &[Line], rabbitmq: &[Line]) -> Vec<Difference> {
    sim_kernel::diff::diff(engine, rabbitmq, SIDES)
}

/// Compares two reports of scenario `name`; differences an allow-list entry covers carry its reason.
pub fn compare(name: &str, engine: &Report, rabbitmq: &Report, allow: &[AllowEntry]) -> Vec<Difference> {
    let mut differences = diff(&normalised_lines(engine), &normalised_lines(rabbitmq));
    sim_kernel::diff::apply_allow_list(name, &mut differences, allow);
    differences
}

/// The differences as text: `- engine` / `+ rabbitmq` lines with the scenario line, allowed ones marked.
pub fn render(name: &str, differences: &[Difference]) -> String {
    sim_kernel::diff::render(name, differences, SIDES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_numbered_by_first_appearance() {
        let mut seen = Vec::new();
        let a =
            number_generated("q=\"amq.gen-AbC_1\" then amq.gen-XyZ and amq.gen-AbC_1", "amq.gen-", &mut seen);
        assert_eq!(a, "q=\"amq.gen-#1\" then amq.gen-#2 and amq.gen-#1");
    }

    #[test]
    fn x_death_times_message_ids_and_vhosts_are_blanked() {
        let mut n = Normaliser { gen: Vec::new(), ctag: Vec::new(), reply_to: Vec::new() };
        let text = n.text(
            "basic.get-ok m12 delivery_tag=1 properties={headers: {x-death: [{count: 1, exchange: \"\", \
             queue: \"src\", time: 1700000000}]}} body=\"m1 body\" no queue 'q' in vhost 'test'",
        );
        assert_eq!(
            text,
            "basic.get-ok m_ delivery_tag=1 properties={headers: {x-death: [{count: 1, exchange: \"\", \
             queue: \"src\", time: _}]}} body=\"m1 body\" no queue 'q' in vhost '_'"
        );
    }

    #[test]
    fn diff_finds_lines_one_side_lacks() {
        let l = |t: &str| Line { step_line: 1, text: t.to_string() };
        let d = diff(&[l("a"), l("b"), l("c")], &[l("a"), l("c"), l("d")]);
        let sides: Vec<(&str, &str)> = d.iter().map(|d| (d.side, d.line.text.as_str())).collect();
        assert_eq!(sides, vec![("engine", "b"), ("rabbitmq", "d")]);
    }

    #[test]
    fn allow_list_needs_a_reason_and_known_keys() {
        let ok =
            parse_allow_list("# c\n[[allow]]\nscenario = \"s\"\nline = 3\nreason = \"jitter\"\n").unwrap();
        assert_eq!(
            ok,
            vec![AllowEntry { scenario: "s".into(), line: 3, contains: None, reason: "jitter".into() }]
        );
        assert!(parse_allow_list("[[allow]]\nscenario = \"s\"\nline = 3\n").is_err());
        assert!(
            parse_allow_list("[[allow]]\nscenario = \"s\"\nline = 3\nreason = \"r\"\nwhy = \"x\"\n").is_err()
        );
    }
}
