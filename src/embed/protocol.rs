//! The embed's `postMessage` protocol, version 1: the shapes of requests, replies and notifications, their
//! validation, and how a request is carried out on the app state. Plain Rust (no DOM), tested natively.
//!
//! A request is `{brokerlab: 1, id, type, ...params}`; the reply carries the same `id`:
//! `{brokerlab: 1, type: "reply", id, ok: true, result}` or `{…, ok: false, error: "…"}`. A message
//! without a `brokerlab` key is someone else's and is ignored; one with it but of the wrong shape gets an
//! error reply. Every request is checked strictly (unknown fields are refused) so a typo in a tutorial's
//! script shows up as an error instead of being silently ignored.

use crate::forms::{FieldRow, PublishForm, ValueKind};
use crate::state::{Action, AppState, NoticeKind, SPEEDS};
use broker_core::scenario::document::{model_of, Millis, ModelName};
use broker_core::scenario::sim::CheckStatus;
use broker_core::VirtualTime;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The protocol version this sandbox speaks (the `brokerlab` field of every message).
pub const PROTOCOL_VERSION: u64 = 1;

/// A scenario document or a message body larger than this is refused (a page cannot make the sandbox
/// swallow unbounded text).
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// A RabbitMQ sandbox's refusal of a Kafka document.
pub const KAFKA_ELSEWHERE: &str = "this is a Kafka document: it plays in a Kafka sandbox (the address's \
     model=kafka, or data-model=\"kafka\" with brokerlab-embed.js)";

/// A RabbitMQ sandbox's refusal of an SQS document.
pub const SQS_ELSEWHERE: &str = "this is an SQS document: it plays in an SQS sandbox (the address's \
     model=sqs, or data-model=\"sqs\" with brokerlab-embed.js)";

/// A RabbitMQ sandbox's refusal of a Redis document.
pub const REDIS_ELSEWHERE: &str = "this is a Redis document: it plays in a Redis sandbox (the address's \
     model=redis, or data-model=\"redis\" with brokerlab-embed.js)";

/// Request ids longer than this are refused.
const MAX_ID_CHARS: usize = 200;

/// Where a scenario to load comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadSource {
    /// A bundled scenario by id (`02-work-queues`).
    Bundled(String),
    /// A scenario document (format 2) as JSON text.
    Document(String),
}

/// A validated request.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Info,
    Load(LoadSource),
    Play,
    Pause,
    Step,
    RunUntil(VirtualTime),
    SetSpeed(f64),
    Publish(Box<PublishForm>),
    /// Per-queue counters (one queue, or all).
    Counters {
        queue: Option<String>,
    },
    Checks,
    /// Event notifications from now on (only these kinds, or all).
    Subscribe {
        kinds: Option<BTreeSet<String>>,
    },
    Unsubscribe,
}

/// What an incoming message turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming {
    /// Not a Brokerlab request (no `brokerlab` key, or a reply or notification): ignored.
    Ignore,
    /// A Brokerlab message of the wrong shape: answered with this error (`id` is `null` when unknown).
    Bad { id: Value, error: String },
    /// A well-formed request.
    Request { id: Value, request: Request },
}

/// The request types and the parameters each accepts (besides `brokerlab`, `id` and `type`).
const REQUESTS: &[(&str, &[&str])] = &[
    ("info", &[]),
    ("load", &["scenario", "document"]),
    ("play", &[]),
    ("pause", &[]),
    ("step", &[]),
    ("runUntil", &["time"]),
    ("setSpeed", &["speed"]),
    (
        "publish",
        &[
            "exchange",
            "routingKey",
            "body",
            "persistent",
            "mandatory",
            "headers",
            "priority",
            "expiration",
            "contentType",
            "correlationId",
            "replyTo",
        ],
    ),
    ("counters", &["queue"]),
    ("checks", &[]),
    ("subscribe", &["events"]),
    ("unsubscribe", &[]),
];

/// Types of the messages the sandbox itself sends; one of them coming in is an echo, not a request.
const OUTGOING_TYPES: &[&str] = &["reply", "ready", "events", "finished", "resize"];

/// Classifies and validates one incoming message's data.
pub fn parse(data: &Value) -> Incoming {
    match envelope(data, REQUESTS) {
        Ok((id, kind, object)) => match request(kind, object) {
            Ok(request) => Incoming::Request { id, request },
            Err(error) => Incoming::Bad { id, error },
        },
        Err(incoming) => incoming,
    }
}

/// The checks every request goes through, whichever model the sandbox runs: a Brokerlab message (not an
/// echo of the sandbox's own), with a valid id, this protocol version, a type from `table` and only the
/// fields `table` lists for it. `Ok((id, type, fields))`, else what the message is (ignored, or refused).
pub(crate) fn envelope<'a>(
    data: &'a Value,
    table: &[(&str, &[&str])],
) -> Result<(Value, &'a str, &'a Map<String, Value>), Incoming> {
    let Some(object) = data.as_object() else { return Err(Incoming::Ignore) };
    let Some(version) = object.get("brokerlab") else { return Err(Incoming::Ignore) };
    let kind = object.get("type").and_then(Value::as_str);
    if object.contains_key("ok") || kind.is_some_and(|k| OUTGOING_TYPES.contains(&k)) {
        return Err(Incoming::Ignore);
    }
    let id = match object.get("id") {
        Some(Value::String(s)) if s.chars().count() <= MAX_ID_CHARS => Value::String(s.clone()),
        Some(Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => Value::Number(n.clone()),
        _ => {
            let error =
                format!("a request needs an 'id': a string (at most {MAX_ID_CHARS} characters) or a number");
            return Err(Incoming::Bad { id: Value::Null, error });
        }
    };
    let bad = |error: String| Incoming::Bad { id: id.clone(), error };
    if version.as_u64() != Some(PROTOCOL_VERSION) {
        return Err(bad(format!(
            "unsupported protocol version {version}: this sandbox speaks brokerlab {PROTOCOL_VERSION}"
        )));
    }
    let Some(kind) = kind else { return Err(bad("a request needs a 'type' (a string)".into())) };
    let Some((_, allowed)) = table.iter().find(|(name, _)| *name == kind) else {
        let known: Vec<&str> = table.iter().map(|(name, _)| *name).collect();
        return Err(bad(format!("unknown request type '{}'; known: {}", clip(kind), known.join(", "))));
    };
    for key in object.keys() {
        if !matches!(key.as_str(), "brokerlab" | "id" | "type") && !allowed.contains(&key.as_str()) {
            return Err(bad(format!("'{kind}' takes no field '{}'", clip(key))));
        }
    }
    Ok((id, kind, object))
}

/// User text quoted in an error, cut so an error reply stays small.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

/// The request of a validated envelope (the types every model's sandbox shares, and RabbitMQ's).
pub(crate) fn request(kind: &str, o: &Map<String, Value>) -> Result<Request, String> {
    Ok(match kind {
        "info" => Request::Info,
        "load" => match (o.get("scenario"), o.get("document")) {
            (Some(Value::String(id)), None) => Request::Load(LoadSource::Bundled(id.clone())),
            (None, Some(document)) => {
                let text = match document {
                    Value::String(text) => text.clone(),
                    Value::Object(_) => document.to_string(),
                    _ => return Err("'document' must be a scenario document: an object or JSON text".into()),
                };
                if text.len() > MAX_TEXT_BYTES {
                    return Err(format!("the document is larger than {MAX_TEXT_BYTES} bytes"));
                }
                Request::Load(LoadSource::Document(text))
            }
            (Some(_), None) => return Err("'scenario' must be a bundled scenario's id (a string)".into()),
            _ => return Err("'load' needs exactly one of 'scenario' (an id) or 'document'".into()),
        },
        "play" => Request::Play,
        "pause" => Request::Pause,
        "step" => Request::Step,
        "runUntil" => Request::RunUntil(time(o.get("time"))?),
        "setSpeed" => match o.get("speed").and_then(Value::as_f64) {
            Some(speed) if SPEEDS.contains(&speed) => Request::SetSpeed(speed),
            _ => return Err(format!("'speed' must be one of {}", speeds_text())),
        },
        "publish" => Request::Publish(Box::new(publish(o)?)),
        "counters" => match o.get("queue") {
            None | Some(Value::Null) => Request::Counters { queue: None },
            Some(Value::String(q)) => Request::Counters { queue: Some(q.clone()) },
            Some(_) => return Err("'queue' must be a queue name (a string)".into()),
        },
        "checks" => Request::Checks,
        "subscribe" => match o.get("events") {
            None | Some(Value::Null) => Request::Subscribe { kinds: None },
            Some(Value::Array(kinds)) => {
                let mut set = BTreeSet::new();
                for k in kinds {
                    match k.as_str() {
                        Some(k) if !k.is_empty() && k.len() <= 64 => set.insert(k.to_string()),
                        _ => return Err("'events' must be a list of event kinds (strings)".into()),
                    };
                }
                Request::Subscribe { kinds: Some(set) }
            }
            Some(_) => return Err("'events' must be a list of event kinds (strings)".into()),
        },
        "unsubscribe" => Request::Unsubscribe,
        other => unreachable!("'{other}' is in REQUESTS but has no parser"),
    })
}

fn speeds_text() -> String {
    SPEEDS.iter().map(f64::to_string).collect::<Vec<_>>().join(", ")
}

/// A point in virtual time: milliseconds (a whole number) or a duration text (`"10s"`, `"250ms"`).
pub(crate) fn time(value: Option<&Value>) -> Result<VirtualTime, String> {
    const WHAT: &str = "'time' must be milliseconds (a whole number ≥ 0) or a duration like \"10s\"";
    match value {
        Some(Value::Number(n)) => match n.as_u64() {
            Some(ms) => Ok(VirtualTime::from_millis(ms)),
            // JavaScript numbers arrive as floats: a whole one is as good as an integer.
            None => match n.as_f64() {
                Some(f) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 9.0e15 => {
                    Ok(VirtualTime::from_millis(f as u64))
                }
                _ => Err(WHAT.into()),
            },
        },
        Some(Value::String(text)) => {
            Millis::parse(text).map(|m| VirtualTime::from_millis(m.0)).map_err(|e| format!("{WHAT}: {e}"))
        }
        _ => Err(WHAT.into()),
    }
}

pub(crate) fn string_field(o: &Map<String, Value>, key: &str) -> Result<String, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("'{key}' must be a string")),
    }
}

fn bool_field(o: &Map<String, Value>, key: &str) -> Result<bool, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("'{key}' must be true or false")),
    }
}

fn publish(o: &Map<String, Value>) -> Result<PublishForm, String> {
    let body = string_field(o, "body")?;
    if body.len() > MAX_TEXT_BYTES {
        return Err(format!("the body is larger than {MAX_TEXT_BYTES} bytes"));
    }
    let priority = match o.get("priority") {
        None | Some(Value::Null) => String::new(),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|p| p <= 255) => n.to_string(),
        Some(Value::Number(n))
            if n.as_f64().is_some_and(|p| p.fract() == 0.0 && (0.0..=255.0).contains(&p)) =>
        {
            (n.as_f64().unwrap_or_default() as u8).to_string()
        }
        Some(_) => return Err("'priority' must be a whole number from 0 to 255".into()),
    };
    let expiration = match o.get("expiration") {
        None | Some(Value::Null) => String::new(),
        // AMQP's expiration is text; a number of milliseconds is accepted as its text.
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("'expiration' must be milliseconds (a number or its text)".into()),
    };
    let mut headers = Vec::new();
    match o.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (key, value) in h {
                let row = match value {
                    Value::String(s) => FieldRow::new(key, ValueKind::String, s),
                    Value::Number(n) => FieldRow::new(key, ValueKind::Number, &n.to_string()),
                    Value::Bool(b) => FieldRow::new(key, ValueKind::Boolean, &b.to_string()),
                    _ => {
                        return Err(format!("header '{}' must be a string, a number or a boolean", clip(key)))
                    }
                };
                headers.push(row);
            }
        }
        Some(_) => return Err("'headers' must be an object of strings, numbers and booleans".into()),
    }
    let form = PublishForm {
        exchange: string_field(o, "exchange")?,
        routing_key: string_field(o, "routingKey")?,
        mandatory: bool_field(o, "mandatory")?,
        persistent: bool_field(o, "persistent")?,
        expiration,
        priority,
        reply_to: string_field(o, "replyTo")?,
        correlation_id: string_field(o, "correlationId")?,
        content_type: string_field(o, "contentType")?,
        headers,
        body,
    };
    // Surfaces property errors (a bad header number) now, as a bad request.
    form.to_method()?;
    Ok(form)
}

/// The reply to request `id`.
pub fn reply(id: &Value, outcome: Result<Value, String>) -> Value {
    match outcome {
        Ok(result) => {
            json!({"brokerlab": PROTOCOL_VERSION, "type": "reply", "id": id, "ok": true, "result": result})
        }
        Err(error) => {
            json!({"brokerlab": PROTOCOL_VERSION, "type": "reply", "id": id, "ok": false, "error": error})
        }
    }
}

/// A notification (no id): `ready`, `events`, `finished`, `resize`.
pub fn notification(kind: &str, fields: Value) -> Value {
    let mut message = json!({"brokerlab": PROTOCOL_VERSION, "type": kind});
    if let (Some(m), Value::Object(f)) = (message.as_object_mut(), fields) {
        m.extend(f);
    }
    message
}

/// The app state as the protocol needs it: read the current state, dispatch an action. The Yew handle
/// implements it in the page (dispatch is synchronous, and reading gives the state after it); the plain
/// [`AppState`] implements it for tests.
pub trait Sandbox {
    fn current(&self) -> &AppState;
    fn act(&mut self, action: Action);
}

impl Sandbox for AppState {
    fn current(&self) -> &AppState {
        self
    }

    fn act(&mut self, action: Action) {
        self.apply(action);
    }
}

/// Dispatches `action`; an error banner afterwards is the request's error.
fn act_checked(sandbox: &mut impl Sandbox, action: Action) -> Result<(), String> {
    sandbox.act(action);
    match &sandbox.current().notice {
        Some(n) if n.kind == NoticeKind::Error => Err(n.text.clone()),
        _ => Ok(()),
    }
}

/// Carries out a request (other than subscriptions, which the page's bridge keeps) and returns its result.
pub fn handle(sandbox: &mut impl Sandbox, request: Request) -> Result<Value, String> {
    match request {
        Request::Info => Ok(info(sandbox.current())),
        Request::Load(source) => {
            let action = match source {
                LoadSource::Bundled(id) => {
                    if crate::scenarios::bundled_text(&id).is_none() {
                        let known: Vec<&str> = crate::scenarios::BUNDLED.iter().map(|(i, _)| *i).collect();
                        return Err(format!(
                            "no bundled scenario '{}'; known: {}",
                            clip(&id),
                            known.join(", ")
                        ));
                    }
                    Action::LoadScenario(id)
                }
                LoadSource::Document(text) => {
                    // A Kafka, SQS or Redis document plays in its model's sandbox, its own module
                    // (`?model=…`).
                    match model_of(&text) {
                        Ok(ModelName::Kafka) => return Err(KAFKA_ELSEWHERE.into()),
                        Ok(ModelName::Sqs) => return Err(SQS_ELSEWHERE.into()),
                        Ok(ModelName::Redis) => return Err(REDIS_ELSEWHERE.into()),
                        _ => {}
                    }
                    Action::LoadDocument(text)
                }
            };
            act_checked(sandbox, action)?;
            Ok(info(sandbox.current()))
        }
        Request::Play => {
            let state = sandbox.current();
            if state.session.borrow().finished() {
                return Err(format!("the scenario ended at {}: load it again to replay it", state.now()));
            }
            if !state.playing {
                sandbox.act(Action::TogglePlay);
            }
            Ok(clock(sandbox.current()))
        }
        Request::Pause => {
            if sandbox.current().playing {
                sandbox.act(Action::TogglePlay);
            }
            Ok(clock(sandbox.current()))
        }
        Request::Step => {
            sandbox.act(Action::Step);
            Ok(with_notice(sandbox.current()))
        }
        Request::RunUntil(target) => {
            let now = sandbox.current().now();
            if target < now {
                return Err(format!("{target} is in the past: the clock is at {now}"));
            }
            // A run that ends on the way stops at its end; its failed checks are a result, not an error.
            sandbox.act(Action::RunUntil(target));
            let state = sandbox.current();
            let finished = state.session.borrow().finished();
            if state.now() < target && !finished {
                return Err(state
                    .notice
                    .as_ref()
                    .map_or_else(|| "the run stopped early".into(), |n| n.text.clone()));
            }
            Ok(with_notice(state))
        }
        Request::SetSpeed(speed) => {
            sandbox.act(Action::SetSpeed(speed));
            Ok(clock(sandbox.current()))
        }
        Request::Publish(form) => {
            let method = form.to_method()?;
            act_checked(sandbox, Action::Apply { method, done: "Published by the page".into() })?;
            Ok(clock(sandbox.current()))
        }
        Request::Counters { queue } => counters(sandbox.current(), queue.as_deref()),
        Request::Checks => Ok(checks(sandbox.current())),
        Request::Subscribe { .. } | Request::Unsubscribe => {
            Err("subscriptions are kept by the page's bridge, not here".into())
        }
    }
}

/// The clock and play state: part of most results.
pub fn clock(state: &AppState) -> Value {
    let session = state.session.borrow();
    json!({
        "timeMillis": session.now().as_millis(),
        "time": session.now().to_string(),
        "endMillis": session.end().map(|t| t.as_millis()),
        "playing": state.playing,
        "speed": state.speed,
        "finished": session.finished(),
    })
}

fn with_clock(state: &AppState, fields: Value) -> Value {
    let mut out = clock(state);
    if let (Some(m), Value::Object(f)) = (out.as_object_mut(), fields) {
        m.extend(f);
    }
    out
}

/// The clock and the banner's text (what the step did, how a run ended).
fn with_notice(state: &AppState) -> Value {
    let text = state.notice.as_ref().map_or("", |n| n.text.as_str());
    with_clock(state, json!({"notice": text}))
}

/// The loaded scenario (if any) and the clock.
pub fn info(state: &AppState) -> Value {
    let scenario = state
        .session
        .borrow()
        .scenario()
        .map(|s| json!({"name": s.name, "description": s.description}))
        .unwrap_or(Value::Null);
    with_clock(state, json!({"protocol": PROTOCOL_VERSION, "scenario": scenario}))
}

/// Per-queue counters: `ready` and `unacked` now; `published` (messages enqueued), `delivered` and
/// `acked` since the start; `consumers` now.
pub fn counters(state: &AppState, only: Option<&str>) -> Result<Value, String> {
    let session = state.session.borrow();
    let mut queues = Map::new();
    for q in session.broker().queues() {
        if only.is_some_and(|name| name != q.name) {
            continue;
        }
        let c = session.counters(&q.name);
        queues.insert(
            q.name.clone(),
            json!({
                "ready": q.messages_ready,
                "unacked": q.messages_unacknowledged,
                "published": c.enqueued,
                "delivered": c.delivered,
                "acked": c.acked,
                "consumers": q.consumers,
            }),
        );
    }
    if let Some(name) = only {
        if queues.is_empty() {
            // RabbitMQ's words for a missing queue.
            return Err(format!("404 NOT_FOUND - no queue '{}' in vhost '/'", clip(name)));
        }
    }
    drop(session);
    Ok(with_clock(state, json!({"queues": queues})))
}

pub(crate) fn status_text(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "pass",
        CheckStatus::Fail => "fail",
        CheckStatus::Pending => "pending",
    }
}

/// The scenario's checks as judged now, with a tally.
pub fn checks(state: &AppState) -> Value {
    let results = state.session.borrow().checks();
    let count = |s: CheckStatus| results.iter().filter(|c| c.status == s).count();
    let (passed, failed, pending) =
        (count(CheckStatus::Pass), count(CheckStatus::Fail), count(CheckStatus::Pending));
    let list: Vec<Value> = results
        .iter()
        .map(|c| {
            json!({
                "index": c.index,
                "description": c.description,
                "status": status_text(c.status),
                "observed": c.observed,
                "reason": c.reason,
            })
        })
        .collect();
    with_clock(state, json!({"passed": passed, "failed": failed, "pending": pending, "checks": list}))
}

/// One logged event as sent to subscribers: the engine's own record (`at` in ms, `event` its kind, its
/// fields) plus `text`, its one-line transcript form.
pub fn event_record(event: &broker_core::amqp::LoggedEvent) -> Value {
    let mut v = serde_json::to_value(event).unwrap_or_else(|_| json!({}));
    if let Some(m) = v.as_object_mut() {
        m.insert("text".into(), Value::String(event.to_string()));
    }
    v
}

/// The kind of an event record (`delivered`, `acked`, …).
pub fn event_kind(record: &Value) -> &str {
    record.get("event").and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;

    fn req(v: Value) -> Request {
        match parse(&v) {
            Incoming::Request { request, .. } => request,
            other => panic!("{v} is not a valid request: {other:?}"),
        }
    }

    fn bad(v: Value) -> (Value, String) {
        match parse(&v) {
            Incoming::Bad { id, error } => (id, error),
            other => panic!("{v} should be refused: {other:?}"),
        }
    }

    #[test]
    fn foreign_messages_and_echoes_are_ignored() {
        for v in [
            json!("hello"),
            json!(42),
            json!(null),
            json!({"type": "play"}),
            json!({"source": "react-devtools", "payload": {}}),
            json!({"brokerlab": 1, "type": "reply", "id": 1, "ok": true}),
            json!({"brokerlab": 1, "id": 1, "ok": false, "error": "x"}),
            json!({"brokerlab": 1, "type": "events", "events": []}),
            json!({"brokerlab": 1, "type": "ready"}),
        ] {
            assert_eq!(parse(&v), Incoming::Ignore, "{v}");
        }
    }

    #[test]
    fn well_formed_requests_parse() {
        assert_eq!(req(json!({"brokerlab": 1, "id": "a", "type": "play"})), Request::Play);
        assert_eq!(req(json!({"brokerlab": 1, "id": 7, "type": "step"})), Request::Step);
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "02-work-queues"})),
            Request::Load(LoadSource::Bundled("02-work-queues".into()))
        );
        let doc = req(json!({"brokerlab": 1, "id": 1, "type": "load", "document": {"brokerlab": 2}}));
        assert_eq!(doc, Request::Load(LoadSource::Document(r#"{"brokerlab":2}"#.into())));
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "runUntil", "time": "10s"})),
            Request::RunUntil(VirtualTime::from_millis(10_000))
        );
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "runUntil", "time": 2500.0})),
            Request::RunUntil(VirtualTime::from_millis(2500))
        );
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "setSpeed", "speed": 10})),
            Request::SetSpeed(10.0)
        );
        let Request::Publish(form) = req(json!({"brokerlab": 1, "id": 1, "type": "publish",
            "routingKey": "task_queue", "body": "task", "persistent": true, "priority": 3.0,
            "headers": {"x-retries": 2, "source": "page", "urgent": false}}))
        else {
            panic!("a publish")
        };
        assert_eq!(
            (form.routing_key.as_str(), form.body.as_str(), form.persistent),
            ("task_queue", "task", true)
        );
        assert_eq!(form.priority, "3");
        assert_eq!(form.headers.len(), 3);
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "subscribe", "events": ["acked", "delivered"]})),
            Request::Subscribe { kinds: Some(["acked".to_string(), "delivered".to_string()].into()) }
        );
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "counters", "queue": "q"})),
            Request::Counters { queue: Some("q".into()) }
        );
    }

    #[test]
    fn malformed_requests_get_an_error_naming_the_problem() {
        let (id, e) = bad(json!({"brokerlab": 1, "type": "play"}));
        assert_eq!(id, Value::Null);
        assert!(e.contains("needs an 'id'"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": {"x": 1}, "type": "play"}));
        assert!(e.contains("needs an 'id'"), "{e}");
        let (id, e) = bad(json!({"brokerlab": 2, "id": "v", "type": "play"}));
        assert_eq!(id, json!("v"));
        assert!(e.starts_with("unsupported protocol version 2"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t"}));
        assert!(e.contains("needs a 'type'"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "warp"}));
        assert!(e.starts_with("unknown request type 'warp'; known: info, load"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "publish", "routingkey": "q"}));
        assert_eq!(e, "'publish' takes no field 'routingkey'");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "runUntil", "time": -5}));
        assert!(e.starts_with("'time' must be"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "runUntil", "time": "soon"}));
        assert!(e.contains("unknown duration unit 'soon'"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "runUntil"}));
        assert!(e.starts_with("'time' must be"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "load"}));
        assert!(e.contains("exactly one of"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "load", "scenario": "a", "document": {}}));
        assert!(e.contains("exactly one of"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "load", "document": 5}));
        assert!(e.starts_with("'document' must be"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "publish", "persistent": "yes"}));
        assert_eq!(e, "'persistent' must be true or false");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "publish", "priority": 300}));
        assert!(e.starts_with("'priority' must be"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "publish", "headers": {"h": [1]}}));
        assert!(e.starts_with("header 'h' must be"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "setSpeed", "speed": 3.7}));
        assert!(e.starts_with("'speed' must be one of 0.1, 0.25"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "subscribe", "events": "acked"}));
        assert!(e.starts_with("'events' must be a list"), "{e}");
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "publish", "body": long}));
        assert!(e.contains("larger than"), "{e}");
        let (_, e) = bad(json!({"brokerlab": 1, "id": "t", "type": "x".repeat(500)}));
        assert!(e.len() < 400, "an error quotes user text clipped: {e}");
    }

    #[test]
    fn replies_and_notifications_have_the_versioned_shape() {
        let ok = reply(&json!("a"), Ok(json!({"x": 1})));
        assert_eq!(ok, json!({"brokerlab": 1, "type": "reply", "id": "a", "ok": true, "result": {"x": 1}}));
        let err = reply(&json!(3), Err("nope".into()));
        assert_eq!(err, json!({"brokerlab": 1, "type": "reply", "id": 3, "ok": false, "error": "nope"}));
        let n = notification("finished", json!({"passed": 2}));
        assert_eq!(n, json!({"brokerlab": 1, "type": "finished", "passed": 2}));
        assert_eq!(parse(&ok), Incoming::Ignore, "the sandbox's own messages are not requests");
    }

    fn run(s: &mut AppState, v: Value) -> Result<Value, String> {
        handle(s, req(v))
    }

    #[test]
    fn the_work_queues_tutorial_driven_through_requests() {
        let mut s = AppState::new(Session::new(1));
        let info =
            run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "02-work-queues"}))
                .expect("loads");
        assert_eq!(info["scenario"]["name"], "2. Work queues");
        assert_eq!(info["endMillis"], 10_000);
        let e =
            run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "99-nope"})).unwrap_err();
        assert!(e.starts_with("no bundled scenario '99-nope'; known: 01-hello-world"), "{e}");
        assert_eq!(s.session.borrow().scenario().map(|i| i.name.clone()).as_deref(), Some("2. Work queues"));

        let played = run(&mut s, json!({"brokerlab": 1, "id": 2, "type": "play"})).unwrap();
        assert_eq!(played["playing"], true);
        assert!(s.playing);
        run(&mut s, json!({"brokerlab": 1, "id": 3, "type": "pause"})).unwrap();
        assert!(!s.playing);

        let at = run(&mut s, json!({"brokerlab": 1, "id": 4, "type": "runUntil", "time": "500ms"})).unwrap();
        assert_eq!(at["timeMillis"], 500);
        let c =
            run(&mut s, json!({"brokerlab": 1, "id": 5, "type": "counters", "queue": "task_queue"})).unwrap();
        assert_eq!(c["queues"]["task_queue"]["unacked"], 2, "prefetch 1 × two workers: {c}");
        let q = &c["queues"]["task_queue"];
        assert_eq!(q["published"], 10, "{c}");
        let held =
            q["ready"].as_u64().unwrap() + q["unacked"].as_u64().unwrap() + q["acked"].as_u64().unwrap();
        assert_eq!(held, 10, "every task is ready, held or done: {c}");
        assert_eq!(q["consumers"], 2, "{c}");
        let e = run(&mut s, json!({"brokerlab": 1, "id": 6, "type": "runUntil", "time": 100})).unwrap_err();
        assert_eq!(e, "0.100s is in the past: the clock is at 0.500s");

        let published = run(
            &mut s,
            json!({"brokerlab": 1, "id": 7, "type": "publish",
            "routingKey": "task_queue", "body": "page task", "persistent": true}),
        );
        assert!(published.is_ok(), "{published:?}");
        let e = run(
            &mut s,
            json!({"brokerlab": 1, "id": 8, "type": "publish", "exchange": "nope", "routingKey": "x"}),
        )
        .unwrap_err();
        assert!(e.starts_with("404 NOT_FOUND - no exchange 'nope'"), "RabbitMQ's refusal: {e}");

        let end = run(&mut s, json!({"brokerlab": 1, "id": 9, "type": "runUntil", "time": "10s"})).unwrap();
        assert_eq!((end["timeMillis"].clone(), end["finished"].clone()), (json!(10_000), json!(true)));
        let c = run(&mut s, json!({"brokerlab": 1, "id": 10, "type": "counters"})).unwrap();
        let q = &c["queues"]["task_queue"];
        assert_eq!(
            (q["published"].clone(), q["acked"].clone(), q["ready"].clone()),
            (json!(11), json!(11), json!(0)),
            "{c}"
        );
        assert!(q["delivered"].as_u64().unwrap() >= 11, "one task was delivered twice: {c}");

        let checks = run(&mut s, json!({"brokerlab": 1, "id": 11, "type": "checks"})).unwrap();
        let n = checks["checks"].as_array().unwrap().len();
        assert!(n >= 5, "{checks}");
        // The page's own task is an eleventh ack, so "worker-2 acked all ten" now fails honestly.
        assert_eq!(checks["passed"].as_u64().unwrap() + checks["failed"].as_u64().unwrap(), n as u64);
        assert_eq!(checks["pending"], 0);
        assert_eq!(checks["failed"], 1, "only \"worker-2 acked ten\" fails: {checks}");
        assert!(checks["checks"][0]["status"].is_string());

        let e = run(&mut s, json!({"brokerlab": 1, "id": 12, "type": "play"})).unwrap_err();
        assert!(e.starts_with("the scenario ended at 10.000s"), "{e}");
        let e = run(&mut s, json!({"brokerlab": 1, "id": 13, "type": "counters", "queue": "missing"}))
            .unwrap_err();
        assert_eq!(e, "404 NOT_FOUND - no queue 'missing' in vhost '/'");
    }

    #[test]
    fn a_document_loads_by_value_and_a_broken_one_is_refused_with_its_location() {
        let mut s = AppState::new(Session::new(1));
        let doc = json!({"brokerlab": 2, "name": "one worker", "duration": "5s",
            "definitions": {"queues": [{"name": "q", "vhost": "/", "durable": true, "auto_delete": false, "arguments": {}}]},
            "producers": [{"name": "p", "routing_key": "q", "count": 3}],
            "consumers": [{"name": "w", "queue": "q", "processing": "1s"}]});
        let info = run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "load", "document": doc})).unwrap();
        assert_eq!(info["scenario"]["name"], "one worker");
        let e =
            run(&mut s, json!({"brokerlab": 1, "id": 2, "type": "load", "document": "{\"brokerlab\": 2, "}))
                .unwrap_err();
        assert!(e.starts_with("This scenario cannot be loaded: 1:"), "{e}");
        assert_eq!(info["scenario"]["name"], "one worker", "the loaded run stays");
        let stepped = run(&mut s, json!({"brokerlab": 1, "id": 3, "type": "step"})).unwrap();
        assert_eq!(stepped["playing"], false);
        run(&mut s, json!({"brokerlab": 1, "id": 4, "type": "runUntil", "time": 5000})).unwrap();
        let c = run(&mut s, json!({"brokerlab": 1, "id": 5, "type": "counters"})).unwrap();
        assert_eq!(c["queues"]["q"]["acked"], 3, "{c}");
    }

    #[test]
    fn event_records_carry_the_engine_kind_and_its_text() {
        let mut s = AppState::new(Session::new(1));
        run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "01-hello-world"})).unwrap();
        run(&mut s, json!({"brokerlab": 1, "id": 2, "type": "runUntil", "time": "1s"})).unwrap();
        let session = s.session.borrow();
        let records: Vec<Value> = session.log().iter().map(event_record).collect();
        assert!(!records.is_empty());
        let delivered =
            records.iter().find(|r| event_kind(r) == "delivered").expect("a delivery in hello world");
        assert!(delivered["at"].is_u64(), "{delivered}");
        let at = VirtualTime::from_millis(delivered["at"].as_u64().unwrap());
        let text = delivered["text"].as_str().unwrap();
        assert!(text.starts_with(&format!("{at} deliver")), "{text}");
    }
}
