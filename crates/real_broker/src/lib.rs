//! The same scenario against a real RabbitMQ: a differential runner.
//!
//! [`run_real`] plays a scenario on the broker at an AMQP URI through the engine's own interpreter
//! (`broker_core::scenario::run_on` with a [`RealBackend`]), so the transcript has the engine's format;
//! [`compare`] normalises an engine report and a RabbitMQ report (generated names, message ids, `x-death`
//! times; `docs/real-broker.md`) and lists where they differ, minus an allow-list of inherent differences.
//! Format-2 documents run through the engine's own `Simulation` over a [`LivePort`] ([`document`]).
//! Kafka programs and Kafka documents run on a real Kafka through Kafka's own Java client ([`kafka`],
//! [`kafka_document`]). SQS documents run on an SQS emulator through boto3 ([`sqs_document`]). Redis
//! programs and Redis documents run on a real redis-server over RESP ([`redis`], [`redis_document`]).
//!
//! The engine (`broker_core`) stays free of I/O: sockets, threads and wall-clock time live here only.

pub mod backend;
pub mod compare;
mod convert;
pub mod document;
pub mod kafka;
pub mod kafka_document;
pub mod redis;
pub mod redis_document;
pub mod sqs_document;
mod wire;

pub use backend::live::LivePort;
pub use backend::{parse_uri, RealBackend, RealOptions};

use broker_core::amqp::{Method, Reply};
use broker_core::clock::VirtualTime;
use broker_core::scenario::{run_on, Outcome, Report, RunOptions, Scenario};

/// The instants at which the engine fired a timer (TTL, queue expiry) in `report`: events recorded while
/// the clock advanced, that is later than the step before them.
pub fn timer_instants(report: &Report) -> Vec<VirtualTime> {
    let mut out = Vec::new();
    for (i, e) in report.events.iter().enumerate() {
        let step_before = report.steps.iter().rev().find(|s| s.events_start <= i);
        if step_before.is_none_or(|s| e.at > s.at) && !out.contains(&e.at) {
            out.push(e.at);
        }
    }
    out
}

/// For each call `report`'s run made on its backend (a connect, a connection's close, a channel method), in
/// order: its instant and how many deliveries to consumers, returns and broker cancels the engine recorded at
/// that instant after it (see [`RealOptions::expected_arrivals`]).
pub fn expected_arrivals(report: &Report) -> Vec<(VirtualTime, usize)> {
    let mut out = Vec::new();
    for (k, step) in report.steps.iter().enumerate() {
        let call =
            step.method.is_some() || matches!(step.outcome, Outcome::Connected | Outcome::ConnectionClosed);
        if !call {
            continue;
        }
        let end = report.steps.get(k + 1).map_or(report.events.len(), |next| next.events_start);
        let caused = report.events[step.events_start.min(end)..end]
            .iter()
            .filter(|e| e.at == step.at && backend::is_arrival(&e.event))
            .count();
        out.push((step.at, caused));
    }
    out
}

/// The queue and exchange names a run declared with a name of its own (not server-named, not `amq.*`).
pub fn declared_names(report: &Report) -> (Vec<String>, Vec<String>) {
    let (mut queues, mut exchanges) = (Vec::new(), Vec::new());
    for step in &report.steps {
        match (&step.method, &step.outcome) {
            (Some(Method::QueueDeclare { queue, passive: false, .. }), _) if !queue.is_empty() => {
                queues.push(queue.clone())
            }
            (
                Some(Method::QueueDeclare { passive: false, .. }),
                Outcome::Reply { reply: Reply::QueueDeclareOk { queue, .. } },
            ) => queues.push(queue.clone()),
            (Some(Method::ExchangeDeclare { exchange, passive: false, .. }), _)
                if !exchange.is_empty() && !exchange.starts_with("amq.") =>
            {
                exchanges.push(exchange.clone())
            }
            _ => {}
        }
    }
    queues.sort();
    queues.dedup();
    exchanges.sort();
    exchanges.dedup();
    (queues, exchanges)
}

/// Deletes `queues` and `exchanges` on the broker (missing ones are fine), over a connection of its own.
pub fn delete_entities(uri: &str, queues: &[String], exchanges: &[String]) -> Result<(), String> {
    if queues.is_empty() && exchanges.is_empty() {
        return Ok(());
    }
    let mut backend = RealBackend::new(uri, RealOptions::default())?;
    backend.delete_all(queues, exchanges).map_err(|f| f.0)
}

/// Plays `scenario` on the broker at `uri` and returns the report, in the engine's format. With
/// `clean`, the queues and exchanges the engine run declares are deleted first (so leftovers of an
/// earlier run do not change this one) and everything the run declared is deleted afterwards.
pub fn run_real(
    scenario: &Scenario,
    run_options: &RunOptions,
    uri: &str,
    engine_report: &Report,
    clean: bool,
) -> Result<Report, String> {
    parse_uri(uri)?;
    if clean {
        let (queues, exchanges) = declared_names(engine_report);
        delete_entities(uri, &queues, &exchanges)?;
    }
    let options = RealOptions {
        timer_instants: timer_instants(engine_report),
        expected_arrivals: expected_arrivals(engine_report),
        ..RealOptions::default()
    };
    let mut backend = RealBackend::new(uri, options)?;
    let report = run_on(scenario, run_options, &mut backend);
    backend.close_all();
    if clean {
        let (queues, exchanges) = backend.declared();
        drop(backend);
        delete_entities(uri, &queues, &exchanges)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::scenario::run;

    /// Counted by hand from the golden transcript of RabbitMQ's tutorial 2 (tests/scenarios/amqp/
    /// tutorial-2-work-queues/expected.txt): thirteen set-up calls cause nothing; the first two publishes
    /// are delivered at once, the next two wait for a free prefetch slot; the ack at 1 s frees one (Third),
    /// worker 2's close frees none for worker 1 (it holds Third), the acks at 3 s and 5 s each free one, the
    /// last ack finds the queue empty. The assignment of `persistent` is no call.
    #[test]
    fn expected_arrivals_follow_the_engine_s_deliveries_call_by_call() {
        let text = include_str!("../../../tests/scenarios/amqp/tutorial-2-work-queues/scenario.brokerlab");
        let scenario = Scenario::parse(text).expect("the golden program parses");
        let report = run(&scenario, &RunOptions::default());
        let ms = VirtualTime::from_millis;
        let mut expected = vec![(ms(0), 0); 13];
        expected.extend([(ms(0), 1), (ms(0), 1), (ms(0), 0), (ms(0), 0)]);
        expected.extend([(ms(1000), 1), (ms(1500), 0), (ms(3000), 1), (ms(5000), 1), (ms(9000), 0)]);
        assert_eq!(expected_arrivals(&report), expected);
    }
}
