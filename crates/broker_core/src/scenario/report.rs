//! What a scenario run produced: its steps with their results, the broker's events and the final queue
//! counters, printable as a transcript (one line per step or event, each starting with the virtual time)
//! or serialized as the JSON report.

use crate::amqp::error::AmqpError;
use crate::amqp::event::{Event, LoggedEvent};
use crate::amqp::method::{Method, Reply};
use crate::amqp::types::{body_text, BasicProperties, ChannelNumber, ConnectionId, Delivery, FieldValue};
use crate::amqp::QueueInfo;
use crate::clock::VirtualTime;
use serde::{Deserialize, Serialize};
use sim_kernel::transcript::end_line;

// The report's envelope is the kernel's, shared by every model's reports.
pub use sim_kernel::transcript::{StopInfo, REPORT_FORMAT};
use std::fmt::Write as _;

/// The result of one run. Events are all recorded; [`Report::filtered`] keeps the kinds a reader wants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// The scenario format version that was run.
    pub version: u32,
    pub seed: u64,
    pub steps: Vec<StepRecord>,
    pub events: Vec<LoggedEvent>,
    /// Queue counters when the scenario ended.
    pub queues: Vec<QueueInfo>,
    /// The virtual time the scenario ended at (milliseconds).
    pub end: VirtualTime,
    /// Set when the run stopped early (runaway guard, a value a failed step never produced).
    pub stopped: Option<StopInfo>,
}

/// One step of the scenario and what the broker answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub line: u32,
    pub at: VirtualTime,
    /// The step as written (continuation lines joined by a space, without `at T`).
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelNumber>,
    /// The AMQP method sent, for channel steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Index into [`Report::events`] of the first event recorded after this step started; the events
    /// before it happened earlier (or while the clock advanced to this step).
    pub events_start: usize,
}

/// What a step produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// `connect(…)`: the broker opened the connection named in [`StepRecord::connection`].
    Connected,
    /// `conn.close()`.
    ConnectionClosed,
    /// The method's `-ok` (or `ok` for asynchronous methods).
    Reply { reply: Reply },
    /// The channel or connection error the method caused.
    Error { error: AmqpError },
    /// A plain assignment (`queue_name = result.method.queue`): the value, as the transcript shows it.
    Value { value: String },
}

/// Which event kinds a transcript or JSON report shows (kinds are the `event` tags: `delivered`, …): the
/// kernel's filter over RabbitMQ's events. Its default is [`Event`]'s `SHOWN_BY_DEFAULT` — deliveries,
/// returns and confirms, what a client sees arrive on its own; a `delivered` event answering a `basic.get`
/// is `get` to it (`EventInfo::filter_kind`).
pub type EventFilter = sim_kernel::transcript::EventFilter<Event>;

/// The event's kind, its serde tag (`delivered`): [`Event::kind`], kept under its old name.
pub fn event_kind(event: &Event) -> String {
    event.kind().to_string()
}

impl Report {
    /// The same report with only the events `filter` accepts (step indices adjusted).
    pub fn filtered(&self, filter: &EventFilter) -> Report {
        let mut kept_before = Vec::with_capacity(self.events.len() + 1);
        let mut events = Vec::new();
        for e in &self.events {
            kept_before.push(events.len());
            if filter.accepts(&e.event) {
                events.push(e.clone());
            }
        }
        kept_before.push(events.len());
        let steps = self
            .steps
            .iter()
            .map(|s| StepRecord {
                events_start: kept_before[s.events_start.min(self.events.len())],
                ..s.clone()
            })
            .collect();
        Report { steps, events, ..self.clone() }
    }

    /// The transcript: steps and the accepted events in time order, then the final queue counters.
    pub fn transcript(&self, filter: &EventFilter) -> String {
        let report = self.filtered(filter);
        let mut out = String::new();
        let mut next_event = 0;
        for step in &report.steps {
            for e in &report.events[next_event..step.events_start] {
                let _ = writeln!(out, "{}", event_line(e));
            }
            next_event = step.events_start;
            let _ = writeln!(out, "{} {} -> {}", step.at, step.source, outcome_text(step));
        }
        for e in &report.events[next_event..] {
            let _ = writeln!(out, "{}", event_line(e));
        }
        if let Some(stop) = &report.stopped {
            let _ = writeln!(out, "{}", stop.transcript_line());
        }
        let _ = writeln!(out, "{}", end_line(report.end));
        for q in &report.queues {
            let mut flags = String::new();
            for (on, name) in
                [(q.durable, " durable"), (q.exclusive, " exclusive"), (q.auto_delete, " auto_delete")]
            {
                if on {
                    flags.push_str(name);
                }
            }
            let _ = writeln!(
                out,
                "{} queue {:?}{flags} ready={} unacked={} consumers={}",
                report.end, q.name, q.messages_ready, q.messages_unacknowledged, q.consumers
            );
        }
        out
    }

    /// The JSON report (pretty-printed) with the events `filter` accepts.
    pub fn to_json(&self, filter: &EventFilter) -> String {
        serde_json::to_string_pretty(&self.filtered(filter)).expect("a report is plain data")
    }
}

/// An event's transcript line: the engine's `Display`, and for a delivery also what the client received
/// (properties such as `x-death` headers, and the body), which the event log line leaves out.
pub fn event_line(e: &LoggedEvent) -> String {
    match &e.event {
        Event::Delivered { delivery, .. } => {
            let props = properties_text(&delivery.properties);
            let props = if props == "{}" { String::new() } else { format!(" properties={props}") };
            format!("{e}{props} body={}", body_text(&delivery.body))
        }
        _ => e.to_string(),
    }
}

/// A step's result as one transcript fragment.
pub fn outcome_text(step: &StepRecord) -> String {
    match &step.outcome {
        Outcome::Connected => match step.connection {
            Some(connection) => format!("connection.open-ok {connection}"),
            None => "connection.open-ok".to_string(),
        },
        Outcome::ConnectionClosed => "connection.close-ok".to_string(),
        Outcome::Reply { reply } => reply_text(reply),
        Outcome::Error { error } => {
            let scope = match error.scope {
                crate::amqp::ErrorScope::Channel => "channel",
                crate::amqp::ErrorScope::Connection => "connection",
            };
            format!("{scope} error {error}")
        }
        Outcome::Value { value } => value.clone(),
    }
}

/// An `-ok` reply as `queue.declare-ok queue="q" message_count=0 consumer_count=0`.
pub fn reply_text(reply: &Reply) -> String {
    match reply {
        Reply::None => "ok".to_string(),
        Reply::ChannelOpenOk { channel } => format!("channel.open-ok channel={channel}"),
        Reply::ChannelCloseOk => "channel.close-ok".to_string(),
        Reply::ConfirmSelectOk => "confirm.select-ok".to_string(),
        Reply::TxSelectOk => "tx.select-ok".to_string(),
        Reply::TxCommitOk => "tx.commit-ok".to_string(),
        Reply::TxRollbackOk => "tx.rollback-ok".to_string(),
        Reply::ExchangeDeclareOk => "exchange.declare-ok".to_string(),
        Reply::ExchangeDeleteOk => "exchange.delete-ok".to_string(),
        Reply::ExchangeBindOk => "exchange.bind-ok".to_string(),
        Reply::ExchangeUnbindOk => "exchange.unbind-ok".to_string(),
        Reply::QueueDeclareOk { queue, message_count, consumer_count } => {
            format!("queue.declare-ok queue={queue:?} message_count={message_count} consumer_count={consumer_count}")
        }
        Reply::QueueBindOk => "queue.bind-ok".to_string(),
        Reply::QueueUnbindOk => "queue.unbind-ok".to_string(),
        Reply::QueuePurgeOk { message_count } => format!("queue.purge-ok message_count={message_count}"),
        Reply::QueueDeleteOk { message_count } => format!("queue.delete-ok message_count={message_count}"),
        Reply::BasicQosOk => "basic.qos-ok".to_string(),
        Reply::BasicConsumeOk { consumer_tag } => format!("basic.consume-ok consumer_tag={consumer_tag:?}"),
        Reply::BasicCancelOk { consumer_tag } => format!("basic.cancel-ok consumer_tag={consumer_tag:?}"),
        Reply::BasicGetOk(delivery) => format!("basic.get-ok {}", delivery_text(delivery)),
        Reply::BasicGetEmpty => "basic.get-empty".to_string(),
        Reply::BasicRecoverOk => "basic.recover-ok".to_string(),
    }
}

/// A delivery's fields: `delivery_tag=1 redelivered=false exchange="" routing_key="q" … body="…"`.
pub fn delivery_text(d: &Delivery) -> String {
    let mut s = format!(
        "{} delivery_tag={} redelivered={} exchange={:?} routing_key={:?}",
        d.message, d.delivery_tag, d.redelivered, d.exchange, d.routing_key
    );
    if let Some(n) = d.message_count {
        let _ = write!(s, " message_count={n}");
    }
    let props = properties_text(&d.properties);
    if props != "{}" {
        let _ = write!(s, " properties={props}");
    }
    let _ = write!(s, " body={}", body_text(&d.body));
    s
}

/// The properties that are set, in AMQP order: `{delivery_mode: 2, headers: {…}}`.
pub fn properties_text(p: &BasicProperties) -> String {
    let mut fields: Vec<String> = Vec::new();
    let mut text = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            fields.push(format!("{name}: {v:?}"));
        }
    };
    text("content_type", &p.content_type);
    text("content_encoding", &p.content_encoding);
    if !p.headers.is_empty() {
        fields.push(format!("headers: {}", FieldValue::Table(p.headers.clone())));
    }
    if let Some(m) = p.delivery_mode {
        fields.push(format!("delivery_mode: {m}"));
    }
    if let Some(prio) = p.priority {
        fields.push(format!("priority: {prio}"));
    }
    let mut text = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            fields.push(format!("{name}: {v:?}"));
        }
    };
    text("correlation_id", &p.correlation_id);
    text("reply_to", &p.reply_to);
    text("expiration", &p.expiration);
    text("message_id", &p.message_id);
    if let Some(t) = p.timestamp {
        fields.push(format!("timestamp: {t}"));
    }
    let mut text = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            fields.push(format!("{name}: {v:?}"));
        }
    };
    text("type", &p.kind);
    text("user_id", &p.user_id);
    text("app_id", &p.app_id);
    format!("{{{}}}", fields.join(", "))
}
