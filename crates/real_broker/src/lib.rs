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
    let options = RealOptions { timer_instants: timer_instants(engine_report), ..RealOptions::default() };
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
