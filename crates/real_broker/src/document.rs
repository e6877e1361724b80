//! Format-2 documents (actors, faults, checks) on a real RabbitMQ, and their comparison with the engine.
//!
//! [`run_document_real`] runs the engine's own `Simulation` with a [`LivePort`] instead of the engine's
//! `Broker`, so producers, consumers, scripts, faults and checks behave by the same code on both.
//! [`refusals`] lists what cannot run on a real broker (a simulated broker restart; a speed-up where
//! RabbitMQ's own timers run in real time). [`outcome_lines`] turns a finished run into the outcomes
//! that should match — check results, per-actor counts, each consumer's deliveries, final queue depths —
//! normalised as `docs/real-broker.md` explains, and [`compare_documents`] diffs them.

use crate::backend::live::LivePort;
use crate::compare::{diff, AllowEntry, Difference, Line};
use broker_core::amqp::{ConnectionId, Event, FieldValue, MessageId};
use broker_core::scenario::document::Document;
use broker_core::scenario::sim::{CheckStatus, SimOptions, SimPort, Simulation};
use std::collections::{BTreeMap, BTreeSet};

/// How to run a document on a real broker.
#[derive(Clone, Debug)]
pub struct DocumentOptions {
    pub sim: SimOptions,
    /// Virtual milliseconds per real millisecond (1: real time).
    pub speed: u64,
    /// Delete the document's queues and exchanges before and after the run.
    pub clean: bool,
}

/// Queue arguments and policy keys that start a timer inside RabbitMQ.
const TIMER_KEYS: &[&str] = &["x-message-ttl", "x-expires", "message-ttl", "expires"];

/// Why `doc` cannot run on a real broker at `speed`, one sentence per reason naming the document field.
pub fn refusals(doc: &Document, speed: u64) -> Vec<String> {
    let mut out = Vec::new();
    for (i, f) in doc.faults.iter().enumerate() {
        if f.restart_broker {
            out.push(format!(
                "faults[{i}].restart_broker: a broker restart is simulated by the engine; Brokerlab does not \
                 restart a real broker (restart it yourself and compare by hand)"
            ));
        }
    }
    if speed > 1 {
        let mut timers = Vec::new();
        for (i, q) in doc.definitions.queues.iter().enumerate() {
            timers.extend(
                q.arguments
                    .keys()
                    .filter(|k| TIMER_KEYS.contains(&k.as_str()))
                    .map(|k| format!("definitions.queues[{i}].arguments.{k}")),
            );
        }
        for (i, p) in doc.definitions.policies.iter().enumerate() {
            timers.extend(
                p.definition
                    .keys()
                    .filter(|k| TIMER_KEYS.contains(&k.as_str()))
                    .map(|k| format!("definitions.policies[{i}].definition.{k}")),
            );
        }
        for (i, p) in doc.producers.iter().enumerate() {
            if p.properties.expiration.is_some() {
                timers.push(format!("producers[{i}].properties.expiration"));
            }
        }
        for (i, c) in doc.consumers.iter().enumerate() {
            if let Some(d) = &c.declare {
                timers.extend(
                    d.arguments
                        .keys()
                        .filter(|k| TIMER_KEYS.contains(&k.as_str()))
                        .map(|k| format!("consumers[{i}].declare.arguments.{k}")),
                );
            }
        }
        if !timers.is_empty() {
            out.push(format!(
                "--speed {speed}: RabbitMQ runs its own timers in real time ({}); run this document with \
                 --speed 1",
                timers.join(", ")
            ));
        }
    }
    out
}

/// The queues and exchanges a document declares by name (its definitions and its consumers' own).
pub fn document_names(doc: &Document) -> (Vec<String>, Vec<String>) {
    let mut queues: BTreeSet<String> = doc.definitions.queues.iter().map(|q| q.name.clone()).collect();
    queues.extend(doc.consumers.iter().filter_map(|c| c.declare.as_ref()).map(|d| d.name.clone()));
    queues.remove("");
    let exchanges = doc
        .definitions
        .exchanges
        .iter()
        .map(|x| x.name.clone())
        .filter(|x| !x.is_empty() && !x.starts_with("amq."))
        .collect::<BTreeSet<_>>();
    (queues.into_iter().collect(), exchanges.into_iter().collect())
}

/// Runs `doc` on the broker at `uri` and returns the finished simulation (its transcript, report and
/// checks as the engine's). Its actors are still connected, as at the end of an engine run, so the end
/// counters (exclusive queues, unacknowledged messages) can be read: call [`finish_document_real`] after.
/// Refusals and connection failures are errors.
pub fn run_document_real(
    doc: &Document,
    options: &DocumentOptions,
    uri: &str,
) -> Result<Simulation<LivePort>, String> {
    let refused = refusals(doc, options.speed);
    if !refused.is_empty() {
        return Err(format!("this document cannot run on a real broker: {}", refused.join("; ")));
    }
    crate::parse_uri(uri)?;
    if options.clean {
        let (queues, exchanges) = document_names(doc);
        crate::delete_entities(uri, &queues, &exchanges)?;
    }
    let port = LivePort::new(uri, options.speed)?;
    let mut sim = Simulation::with_port(doc, options.sim.clone(), port).map_err(|e| e.to_string())?;
    if let Some(message) = sim.broker_mut().take_failure() {
        return Err(message);
    }
    sim.broker_mut().start_clock();
    sim.run();
    Ok(sim)
}

/// Closes the run's connections and, with `clean`, deletes what the document and the run declared.
pub fn finish_document_real(
    sim: &mut Simulation<LivePort>,
    doc: &Document,
    options: &DocumentOptions,
    uri: &str,
) -> Result<(), String> {
    sim.broker_mut().close_all();
    if options.clean {
        let (queues, exchanges) = document_names(doc);
        let (q, x) = sim.broker().declared();
        let queues: Vec<String> = queues.into_iter().chain(q).collect();
        let exchanges: Vec<String> = exchanges.into_iter().chain(x).collect();
        crate::delete_entities(uri, &queues, &exchanges)?;
    }
    Ok(())
}

/// What one actor did, counted from the run's log.
#[derive(Default)]
struct Tally {
    published: u64,
    /// Confirm state per publish sequence number of the current connection epoch: true = ack.
    confirms: BTreeMap<u64, bool>,
    /// Publishes on each connection, to number confirms per connection.
    seq_base: u64,
    seq_on_conn: u64,
    confirmed: u64,
    nacked: u64,
    returned: u64,
    /// Each delivery: when its message was published (when known) and its text.
    received: Vec<(Option<u64>, String)>,
    redelivered: u64,
    with_x_death: u64,
    acked: u64,
    consumer_nacked: u64,
    rejected: u64,
}

/// A body for a line: text, with the `.` padding of `body_size` and long tails cut.
fn body_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim_end_matches('.');
    let mut s: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        s.push('…');
    }
    s
}

/// The outcomes of a finished run that should match between the engine and RabbitMQ, as lines:
/// checks, per-actor counts, each consumer's deliveries (in order, or sorted where the order depends on
/// timing), final queue depths. `unobservable` holds the checks the real side could not decide: they
/// are left out on both sides.
pub fn outcome_lines<B: SimPort>(sim: &Simulation<B>, unobservable: &BTreeSet<usize>) -> Vec<Line> {
    let report = sim.report();
    let mut out = Vec::new();
    let line = |text: String| Line { step_line: 0, text };
    for r in sim.check_results() {
        if unobservable.contains(&r.index) {
            continue;
        }
        let status = match r.status {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Pending => "pending",
        };
        out.push(line(format!("check {} {status}: {}", r.index + 1, r.description)));
    }
    // Connections to actors, from the "<name> connects" steps.
    let mut owner: BTreeMap<ConnectionId, String> = BTreeMap::new();
    for s in &report.steps {
        if let (Some(name), Some(conn)) = (s.source.strip_suffix(" connects"), s.connection) {
            owner.insert(conn, name.to_string());
        }
    }
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut conn_seen: BTreeMap<String, ConnectionId> = BTreeMap::new();
    let mut queue_consumers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut published_at: BTreeMap<MessageId, u64> = BTreeMap::new();
    for e in &report.events {
        if let Event::Published { message, .. } = &e.event {
            published_at.insert(*message, e.at.as_millis());
        }
        let Some(conn) = connection_of(&e.event) else { continue };
        let Some(name) = owner.get(&conn) else { continue };
        let t = tallies.entry(name.clone()).or_default();
        if conn_seen.get(name) != Some(&conn) {
            // A new connection: confirm sequence numbers start again at 1.
            conn_seen.insert(name.clone(), conn);
            t.seq_base += t.seq_on_conn;
            t.seq_on_conn = 0;
        }
        match &e.event {
            Event::Published { .. } => {
                t.published += 1;
                t.seq_on_conn += 1;
            }
            Event::Confirmed { delivery_tag, multiple, ack, .. } => {
                let upto = delivery_tag.0;
                let from = if *multiple { 1 } else { upto };
                for seq in from..=upto {
                    t.confirms.entry(t.seq_base + seq).or_insert(*ack);
                }
            }
            Event::Returned { .. } => t.returned += 1,
            Event::Delivered { queue, delivery, .. } => {
                queue_consumers.entry(queue.to_string()).or_default().insert(name.clone());
                let mut text = body_text(&delivery.body);
                if delivery.redelivered {
                    t.redelivered += 1;
                    text.push_str(" (redelivered)");
                }
                if delivery.properties.headers.contains_key("x-death") {
                    t.with_x_death += 1;
                    text.push_str(&x_death_text(&delivery.properties.headers));
                }
                t.received.push((published_at.get(&delivery.message).copied(), text));
            }
            Event::Acked { .. } => t.acked += 1,
            Event::Nacked { .. } => t.consumer_nacked += 1,
            Event::Rejected { .. } => t.rejected += 1,
            _ => {}
        }
    }
    // A consumer's order is compared as is when it is the only consumer of its queues; where several
    // consumers share a queue, which gets what depends on timing, so the lists are sorted.
    let shared: BTreeSet<String> = queue_consumers
        .values()
        .filter(|names| names.len() > 1)
        .flat_map(|names| names.iter().cloned())
        .collect();
    for (name, t) in &mut tallies {
        t.confirmed = t.confirms.values().filter(|a| **a).count() as u64;
        t.nacked = t.confirms.values().filter(|a| !**a).count() as u64;
        if t.published > 0 || !t.confirms.is_empty() {
            out.push(line(format!(
                "producer '{name}': published {}, confirmed {}, nacked {}, returned {}",
                t.published, t.confirmed, t.nacked, t.returned
            )));
        }
        if !t.received.is_empty() || t.acked + t.consumer_nacked + t.rejected > 0 {
            out.push(line(format!(
                "consumer '{name}': received {} ({} redelivered, {} with x-death), acked {}, nacked {}, \
                 rejected {}",
                t.received.len(),
                t.redelivered,
                t.with_x_death,
                t.acked,
                t.consumer_nacked,
                t.rejected
            )));
            let (how, received) = if shared.contains(name) {
                let mut all: Vec<String> = t.received.iter().map(|(_, text)| text.clone()).collect();
                all.sort();
                ("sorted", all)
            } else {
                ("in order", same_instant_sorted(&t.received))
            };
            for (k, text) in received.iter().enumerate() {
                out.push(line(format!("consumer '{name}' delivery {} ({how}): {text}", k + 1)));
            }
        }
    }
    let mut queues: Vec<String> = report
        .queues
        .iter()
        .filter(|q| !q.name.starts_with("amq.gen-"))
        .map(|q| {
            format!(
                "queue '{}' at the end: ready {}, unacked {}",
                q.name, q.messages_ready, q.messages_unacknowledged
            )
        })
        .collect();
    queues.sort();
    out.extend(queues.into_iter().map(line));
    if let Some(stop) = sim.stopped() {
        out.push(line(format!("stopped: {}", stop.message)));
    }
    out
}

/// A consumer's deliveries in order, except that a run of consecutive deliveries whose messages were
/// published at the same instant is sorted: publishes from different connections at one instant reach a
/// real broker in either order (AMQP orders messages per channel only).
fn same_instant_sorted(received: &[(Option<u64>, String)]) -> Vec<String> {
    let mut out = Vec::with_capacity(received.len());
    let mut i = 0;
    while i < received.len() {
        let at = received[i].0;
        let mut j = i + 1;
        while at.is_some() && j < received.len() && received[j].0 == at {
            j += 1;
        }
        let mut run: Vec<String> = received[i..j].iter().map(|(_, text)| text.clone()).collect();
        run.sort();
        out.extend(run);
        i = j;
    }
    out
}

/// `x-death` as counts and reasons per queue, without times: ` x-death[q: 1 rejected]`.
fn x_death_text(headers: &broker_core::amqp::FieldTable) -> String {
    let Some(FieldValue::Array(entries)) = headers.get("x-death") else { return String::new() };
    let mut parts = Vec::new();
    for entry in entries {
        if let FieldValue::Table(t) = entry {
            let get = |k: &str| match t.get(k) {
                Some(FieldValue::Str(s)) => s.clone(),
                Some(FieldValue::Int(i)) => i.to_string(),
                _ => String::new(),
            };
            parts.push(format!("{}: {} {}", get("queue"), get("count"), get("reason")));
        }
    }
    format!(" x-death[{}]", parts.join(", "))
}

fn connection_of(e: &Event) -> Option<ConnectionId> {
    match e {
        Event::Published { connection, .. }
        | Event::Confirmed { connection, .. }
        | Event::Returned { connection, .. }
        | Event::Delivered { connection, .. }
        | Event::Acked { connection, .. }
        | Event::Nacked { connection, .. }
        | Event::Rejected { connection, .. } => Some(*connection),
        _ => None,
    }
}

/// The checks a real run could not decide: their events happen inside the broker.
pub fn unobservable_checks<B: SimPort>(real: &Simulation<B>) -> BTreeSet<usize> {
    real.check_results()
        .iter()
        .filter(|r| r.status == CheckStatus::Pending && r.reason.contains("not observable"))
        .map(|r| r.index)
        .collect()
}

/// Compares an engine run and a RabbitMQ run of document `name`; differences an allow-list entry covers
/// (`scenario = name`, `line = 0`, `contains` a substring of the line) carry its reason.
pub fn compare_documents<A: SimPort, B: SimPort>(
    name: &str,
    engine: &Simulation<A>,
    real: &Simulation<B>,
    allow: &[AllowEntry],
) -> Vec<Difference> {
    let skip = unobservable_checks(real);
    let mut differences = diff(&outcome_lines(engine, &skip), &outcome_lines(real, &skip));
    sim_kernel::diff::apply_allow_list(name, &mut differences, allow);
    differences
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str) -> String {
        let path = format!("{}/../../www/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn engine_run(text: &str) -> Simulation {
        let mut sim = Simulation::from_json(text, SimOptions::default()).expect("the document builds");
        sim.run();
        sim
    }

    fn texts(lines: &[Line]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn refusals_name_the_document_field() {
        let retry = Document::parse(&doc("08-retry-with-dlx.json")).expect("parses");
        assert!(refusals(&retry, 1).is_empty());
        let fast = refusals(&retry, 5);
        assert_eq!(fast.len(), 1);
        assert!(fast[0].contains("definitions.policies[0].definition.message-ttl"), "{}", fast[0]);
        let mut restart = Document::parse(&doc("02-work-queues.json")).expect("parses");
        assert!(refusals(&restart, 5).is_empty(), "no broker timers, no restart");
        restart.faults[0].crash = None;
        restart.faults[0].restart_broker = true;
        let r = refusals(&restart, 1);
        assert_eq!(r.len(), 1);
        assert!(r[0].starts_with("faults[0].restart_broker:"), "{}", r[0]);
    }

    #[test]
    fn shared_queues_are_compared_sorted_and_a_single_consumer_in_order() {
        let work = engine_run(&doc("02-work-queues.json"));
        let lines = outcome_lines(&work, &BTreeSet::new());
        let t = texts(&lines);
        assert!(t.iter().any(|l| l.starts_with("consumer 'worker-2' delivery 1 (sorted): task 1")), "{t:#?}");
        assert!(t.contains(&"queue 'task_queue' at the end: ready 0, unacked 0"), "{t:#?}");
        let priority = engine_run(&doc("10-priority-queue.json"));
        let lines = outcome_lines(&priority, &BTreeSet::new());
        let t = texts(&lines);
        // In order: the alerts first, as the priority queue hands them out.
        assert!(t.contains(&"consumer 'handler' delivery 1 (in order): alert 1"), "{t:#?}");
        assert!(t.contains(&"consumer 'handler' delivery 4 (in order): report 1"), "{t:#?}");
    }

    #[test]
    fn confirms_are_counted_per_sequence_number_and_padding_is_cut() {
        let confirms = engine_run(&doc("07-publisher-confirms.json"));
        let lines = outcome_lines(&confirms, &BTreeSet::new());
        let t = texts(&lines);
        for name in ["individually", "in-batches", "asynchronously"] {
            let expected = format!("producer '{name}': published 1000, confirmed 1000, nacked 0, returned 0");
            assert!(t.contains(&expected.as_str()), "{name}: {t:#?}");
        }
        assert_eq!(body_text(b"firehose #3....."), "firehose #3");
        assert_eq!(body_text("x".repeat(70).as_bytes()), format!("{}…", "x".repeat(60)));
    }

    #[test]
    fn deliveries_published_at_one_instant_are_sorted_among_themselves() {
        let received = |items: &[(Option<u64>, &str)]| -> Vec<(Option<u64>, String)> {
            items.iter().map(|(at, t)| (*at, t.to_string())).collect()
        };
        let got = same_instant_sorted(&received(&[
            (Some(1000), "warning 1"),
            (Some(1000), "info 1"),
            (Some(1100), "b"),
            (Some(900), "a"),
            (None, "z"),
            (None, "y"),
        ]));
        assert_eq!(got, ["info 1", "warning 1", "b", "a", "z", "y"]);
    }

    #[test]
    fn x_death_is_summarised_without_times() {
        let retry = engine_run(&doc("08-retry-with-dlx.json"));
        let lines = outcome_lines(&retry, &BTreeSet::new());
        let t = texts(&lines);
        let second =
            t.iter().find(|l| l.starts_with("consumer 'worker' delivery 4")).expect("a fourth delivery");
        assert_eq!(
            *second,
            "consumer 'worker' delivery 4 (in order): job 1 x-death[retry.5s: 1 expired, work: 1 rejected]"
        );
        assert!(!second.contains("time"));
    }

    #[test]
    fn unobservable_checks_are_left_out_and_differences_meet_the_allow_list() {
        let text = doc("01-hello-world.json");
        let engine = engine_run(&text);
        let skip: BTreeSet<usize> = [0].into_iter().collect();
        let lines = outcome_lines(&engine, &skip);
        assert!(!texts(&lines).iter().any(|l| l.starts_with("check 1 ")));
        assert!(texts(&lines).iter().any(|l| l.starts_with("check 2 pass")));
        // The same document publishing twice: the counts and a check differ.
        let twice = engine_run(&text.replace("\"count\": 1", "\"count\": 2"));
        assert!(compare_documents("hello", &engine, &engine, &[]).is_empty());
        let allow = vec![AllowEntry {
            scenario: "hello".into(),
            line: 0,
            contains: Some("producer 'send'".into()),
            reason: "a test".into(),
        }];
        let d = compare_documents("hello", &engine, &twice, &allow);
        let producer: Vec<&Difference> =
            d.iter().filter(|d| d.line.text.contains("producer 'send'")).collect();
        assert_eq!(producer.len(), 2, "{d:#?}");
        assert!(producer.iter().all(|d| d.allowed.as_deref() == Some("a test")));
        assert!(d.iter().any(|d| d.allowed.is_none() && d.line.text.starts_with("check 2 FAIL")), "{d:#?}");
    }
}
