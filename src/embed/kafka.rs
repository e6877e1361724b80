//! The embed protocol (version 1, [`super::protocol`]) for Kafka documents: the same envelope, replies and
//! notifications as the RabbitMQ sandbox's, with Kafka's own requests — `produce` (a record to a topic)
//! instead of `publish`, and `counters` per topic partition (log start, high watermark, log end) and per
//! group and partition (committed offset, lag). Plain Rust (no DOM), tested natively; the Kafka sandbox's
//! module (`src/embed_kafka_main.rs`, index.html's `embed-kafka/`) wires it to the page ([`super::kafka_view`]).
//!
//! Invariants: the sandbox's run is a [`KafkaSession`] (the document and the records the page produced,
//! each kept at its instant), so the state at a time never depends on how the page got there; the clock
//! only moves forward through requests and play, and never past the run's end.

use super::protocol::{self, clip, envelope, Incoming, LoadSource, Request};
use crate::kafka_page::model::{check_counts, group_partitions, lag_of, KafkaSession, BUNDLED};
use crate::kafka_page::ops::KafkaOp;
use broker_core::kafka::scenario::document::AcksSpec;
use broker_core::kafka::{ErrorCode, KafkaError};
use broker_core::scenario::document::{model_of, ModelName};
use broker_core::VirtualTime;
use serde_json::{json, Map, Value};

/// Virtual milliseconds one `step` plays (the Kafka page's step).
pub const STEP_MS: u64 = 100;

/// The request types a Kafka sandbox takes and the parameters of each.
const REQUESTS: &[(&str, &[&str])] = &[
    ("info", &[]),
    ("load", &["scenario", "document"]),
    ("play", &[]),
    ("pause", &[]),
    ("step", &[]),
    ("runUntil", &["time"]),
    ("setSpeed", &["speed"]),
    ("produce", &["topic", "key", "value", "partition", "headers", "acks"]),
    ("counters", &["topic", "group"]),
    ("checks", &[]),
    ("subscribe", &["events"]),
    ("unsubscribe", &[]),
];

/// A validated request to a Kafka sandbox.
#[derive(Clone, Debug, PartialEq)]
pub enum KafkaRequest {
    /// A request both models' sandboxes take (never `Publish` or `Counters`).
    Shared(Request),
    /// A record to a topic, as the Kafka page's Produce form writes it.
    Produce(KafkaOp),
    /// Counters of one topic and / or one group, or all.
    Counters { topic: Option<String>, group: Option<String> },
}

/// What an incoming message is, for a Kafka sandbox.
#[derive(Clone, Debug, PartialEq)]
pub enum KafkaIncoming {
    Ignore,
    Bad { id: Value, error: String },
    Request { id: Value, request: KafkaRequest },
}

/// Classifies and validates one incoming message's data (the envelope's rules are the RabbitMQ
/// sandbox's: [`protocol::envelope`]).
pub fn parse(data: &Value) -> KafkaIncoming {
    let (id, kind, o) = match envelope(data, REQUESTS) {
        Ok(parts) => parts,
        Err(Incoming::Bad { id, error }) => return KafkaIncoming::Bad { id, error },
        Err(_) => return KafkaIncoming::Ignore,
    };
    let request = match kind {
        "produce" => produce(o).map(KafkaRequest::Produce),
        "counters" => match (optional_name(o, "topic"), optional_name(o, "group")) {
            (Ok(topic), Ok(group)) => Ok(KafkaRequest::Counters { topic, group }),
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        shared => protocol::request(shared, o).map(KafkaRequest::Shared),
    };
    match request {
        Ok(request) => KafkaIncoming::Request { id, request },
        Err(error) => KafkaIncoming::Bad { id, error },
    }
}

fn optional_name(o: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("'{key}' must be a {key}'s name (a string)")),
    }
}

/// `key` / `value`: text, or `null` (Kafka's null key or value, a tombstone).
fn optional_text(o: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= protocol::MAX_TEXT_BYTES => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(format!("the {key} is larger than {} bytes", protocol::MAX_TEXT_BYTES)),
        Some(_) => Err(format!("'{key}' must be a string or null")),
    }
}

fn produce(o: &Map<String, Value>) -> Result<KafkaOp, String> {
    let topic = protocol::string_field(o, "topic")?;
    if topic.is_empty() {
        return Err("'produce' needs a 'topic' (a topic's name)".into());
    }
    let partition = match o.get("partition") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(p) if p.fract() == 0.0 && (0.0..=f64::from(i32::MAX)).contains(&p) => Some(p as i32),
            _ => return Err("'partition' must be a partition number (a whole number ≥ 0)".into()),
        },
        Some(_) => return Err("'partition' must be a partition number (a whole number ≥ 0)".into()),
    };
    let mut headers = Vec::new();
    match o.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (key, value) in h {
                match value {
                    Value::String(s) => headers.push((key.clone(), s.clone())),
                    _ => return Err(format!("header '{}' must be a string", clip(key))),
                }
            }
        }
        Some(_) => return Err("'headers' must be an object of strings".into()),
    }
    let acks = match o.get("acks") {
        None | Some(Value::Null) => AcksSpec::All,
        Some(Value::String(a)) if a == "all" || a == "-1" => AcksSpec::All,
        Some(Value::String(a)) if a == "1" => AcksSpec::One,
        Some(Value::String(a)) if a == "0" => AcksSpec::Zero,
        Some(Value::Number(n)) if n.as_f64() == Some(-1.0) => AcksSpec::All,
        Some(Value::Number(n)) if n.as_f64() == Some(1.0) => AcksSpec::One,
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => AcksSpec::Zero,
        Some(_) => return Err("'acks' must be \"all\" (or -1), 1 or 0, as the producer's acks".into()),
    };
    Ok(KafkaOp::Produce {
        topic,
        partition,
        key: optional_text(o, "key")?,
        value: optional_text(o, "value")?,
        headers,
        acks,
    })
}

/// The Kafka sandbox's state: the run (once a document is loaded), play and speed, the last outcome.
pub struct KafkaEmbed {
    pub session: Option<KafkaSession>,
    pub playing: bool,
    pub speed: f64,
    /// The last outcome, as the controls show it: (is an error, text).
    pub notice: Option<(bool, String)>,
}

impl Default for KafkaEmbed {
    fn default() -> Self {
        KafkaEmbed { session: None, playing: false, speed: 1.0, notice: None }
    }
}

impl KafkaEmbed {
    /// Loads a bundled Kafka document by id (`quickstart`, `offsets-and-lag`, …) or a document's text;
    /// the sandbox keeps what it had when the document is refused.
    pub fn load(&mut self, source: LoadSource) -> Result<(), String> {
        let opened = match source {
            LoadSource::Bundled(id) => match BUNDLED.iter().find(|b| b.id == id) {
                Some(b) => KafkaSession::open(b.text, Some(b.id)),
                None => {
                    let known: Vec<&str> = BUNDLED.iter().map(|b| b.id).collect();
                    return Err(format!(
                        "no bundled Kafka document '{}'; known: {}",
                        clip(&id),
                        known.join(", ")
                    ));
                }
            },
            LoadSource::Document(text) => {
                if let Ok(model) = model_of(&text) {
                    if model != ModelName::Kafka {
                        return Err(format!(
                            "this document's model is '{}', not 'kafka': it plays in a sandbox without model=kafka",
                            model.as_str()
                        ));
                    }
                }
                KafkaSession::open(&text, None)
            }
        };
        let session = opened.map_err(|e| format!("This scenario cannot be loaded: {e}"))?;
        self.notice = Some((false, format!("Loaded “{}”", session.name())));
        self.session = Some(session);
        self.playing = false;
        Ok(())
    }

    fn session(&self) -> Result<&KafkaSession, String> {
        self.session.as_ref().ok_or_else(|| "no document is loaded: send 'load' first".to_string())
    }

    fn session_mut(&mut self) -> Result<&mut KafkaSession, String> {
        self.session.as_mut().ok_or_else(|| "no document is loaded: send 'load' first".to_string())
    }

    /// Whether the run reached its end.
    pub fn finished(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.time_ms() >= s.end_ms())
    }

    /// Plays `virtual_ms` more (clamped to the end); play stops at the end.
    pub fn advance(&mut self, virtual_ms: u64) {
        if let Some(s) = self.session.as_mut() {
            s.seek(s.time_ms().saturating_add(virtual_ms));
        }
        if self.finished() {
            self.playing = false;
        }
    }

    /// Carries out a request (other than subscriptions, which the page's bridge keeps).
    pub fn handle(&mut self, request: KafkaRequest) -> Result<Value, String> {
        match request {
            KafkaRequest::Shared(Request::Info) => Ok(self.info()),
            KafkaRequest::Shared(Request::Load(source)) => {
                self.load(source)?;
                Ok(self.info())
            }
            KafkaRequest::Shared(Request::Play) => {
                let s = self.session()?;
                if s.time_ms() >= s.end_ms() {
                    return Err(format!(
                        "the scenario ended at {}: load it again to replay it",
                        VirtualTime::from_millis(s.end_ms())
                    ));
                }
                self.playing = true;
                Ok(self.clock())
            }
            KafkaRequest::Shared(Request::Pause) => {
                self.playing = false;
                Ok(self.clock())
            }
            KafkaRequest::Shared(Request::Step) => {
                self.session()?;
                self.playing = false;
                self.advance(STEP_MS);
                Ok(self.clock())
            }
            KafkaRequest::Shared(Request::RunUntil(target)) => {
                let now = VirtualTime::from_millis(self.session()?.time_ms());
                if target < now {
                    return Err(format!("{target} is in the past: the clock is at {now}"));
                }
                self.advance(target.as_millis() - now.as_millis());
                Ok(self.clock())
            }
            KafkaRequest::Shared(Request::SetSpeed(speed)) => {
                self.speed = speed;
                Ok(self.clock())
            }
            KafkaRequest::Shared(Request::Checks) => self.checks(),
            KafkaRequest::Produce(op) => {
                let said = self.session_mut()?.operate(op).map_err(|e| e.message)?;
                self.notice = Some((false, said.clone()));
                let mut out = self.clock();
                out["produced"] = Value::String(said);
                Ok(out)
            }
            KafkaRequest::Counters { topic, group } => self.counters(topic.as_deref(), group.as_deref()),
            KafkaRequest::Shared(other) => {
                Err(format!("'{other:?}' is not a Kafka sandbox's request; it is kept by the bridge"))
            }
        }
    }

    /// The clock and play state: part of most results (the RabbitMQ sandbox's shape).
    pub fn clock(&self) -> Value {
        let (now, end) = self.session.as_ref().map_or((0, None), |s| (s.time_ms(), Some(s.end_ms())));
        json!({
            "timeMillis": now,
            "time": VirtualTime::from_millis(now).to_string(),
            "endMillis": end,
            "playing": self.playing,
            "speed": self.speed,
            "finished": self.finished(),
        })
    }

    fn with_clock(&self, fields: Value) -> Value {
        let mut out = self.clock();
        if let (Some(m), Value::Object(f)) = (out.as_object_mut(), fields) {
            m.extend(f);
        }
        out
    }

    /// The loaded document (if any), the model and the clock.
    pub fn info(&self) -> Value {
        let scenario = self.session.as_ref().map_or(
            Value::Null,
            |s| json!({"name": s.name(), "description": s.description(), "bundled": s.bundled}),
        );
        self.with_clock(
            json!({"protocol": protocol::PROTOCOL_VERSION, "model": "kafka", "scenario": scenario}),
        )
    }

    /// Per topic, each partition's offsets (log start, high watermark, log end), leader and ISR; per
    /// group, its state and each partition's committed offset and lag (log end minus committed, as the
    /// documents' `lag` check counts it), with the group's total lag.
    pub fn counters(&self, topic: Option<&str>, group: Option<&str>) -> Result<Value, String> {
        let s = self.session()?;
        let mut topics = Map::new();
        for p in s.partitions() {
            if topic.is_some_and(|t| t != p.topic) {
                continue;
            }
            let entry = topics.entry(p.topic.clone()).or_insert_with(|| json!({"partitions": []}));
            if let Some(list) = entry["partitions"].as_array_mut() {
                list.push(json!({
                    "partition": p.partition,
                    "logStartOffset": p.log_start,
                    "highWatermark": p.high_watermark,
                    "logEndOffset": p.log_end,
                    "leader": p.leader,
                    "isr": p.isr,
                }));
            }
        }
        if topic.is_some() && topics.is_empty() {
            // Kafka's refusal of a topic the cluster does not have.
            return Err(KafkaError::new(ErrorCode::UnknownTopicOrPartition).to_string());
        }
        let mut groups = Map::new();
        for g in s.groups() {
            if group.is_some_and(|name| name != g.id) {
                continue;
            }
            let partitions: Vec<Value> = g
                .offsets
                .iter()
                .filter(|(tp, _, _)| topic.is_none_or(|t| t == tp.topic))
                .map(|(tp, committed, lag)| {
                    json!({"topic": tp.topic, "partition": tp.partition, "committedOffset": committed, "lag": lag})
                })
                .collect();
            let lag: u64 =
                g.offsets.iter().filter(|(tp, _, _)| topic.is_none_or(|t| t == tp.topic)).map(|o| o.2).sum();
            groups.insert(
                g.id.clone(),
                json!({
                    "state": g.state,
                    "protocol": g.protocol,
                    "generation": g.generation,
                    "members": g.members.len(),
                    "lag": lag,
                    "partitions": partitions,
                }),
            );
        }
        // The document's groups that have no member yet (their consumers start later): their lag counts
        // from the log start, as the documents' `lag` check counts it.
        let mut waiting: Map<String, Value> = Map::new();
        for (g, tp) in group_partitions(s.run()) {
            if groups.contains_key(&g)
                || group.is_some_and(|name| name != g)
                || topic.is_some_and(|t| t != tp.topic)
            {
                continue;
            }
            let (committed, lag) = lag_of(s.run(), &g, &tp);
            let entry = waiting.entry(g).or_insert_with(|| {
                json!({"state": null, "protocol": null, "generation": null, "members": 0, "lag": 0, "partitions": []})
            });
            entry["lag"] = json!(entry["lag"].as_u64().unwrap_or(0) + lag);
            if let Some(list) = entry["partitions"].as_array_mut() {
                list.push(json!({"topic": tp.topic, "partition": tp.partition, "committedOffset": committed, "lag": lag}));
            }
        }
        groups.extend(waiting);
        if let Some(name) = group {
            if groups.is_empty() {
                // kafka-consumer-groups' words for a group the coordinator does not know.
                return Err(format!("Consumer group '{}' does not exist.", clip(name)));
            }
        }
        Ok(self.with_clock(json!({"topics": topics, "groups": groups})))
    }

    /// The document's checks as judged now, with a tally (the RabbitMQ sandbox's shape).
    pub fn checks(&self) -> Result<Value, String> {
        let results = self.session()?.checks();
        let (passed, failed, pending) = check_counts(&results);
        let list: Vec<Value> = results
            .iter()
            .map(|c| {
                json!({
                    "index": c.index,
                    "description": c.description,
                    "status": protocol::status_text(c.status),
                    "observed": c.observed,
                    "reason": c.reason,
                })
            })
            .collect();
        Ok(self.with_clock(json!({"passed": passed, "failed": failed, "pending": pending, "checks": list})))
    }

    /// How many events the run has logged so far.
    pub fn event_count(&self) -> usize {
        self.session.as_ref().map_or(0, |s| s.run().events().len())
    }

    /// The run's events from index `from` on, as sent to subscribers: the engine's record (`event` its
    /// kind, its fields), `at` in ms, and `text`, its transcript line.
    pub fn event_records(&self, from: usize) -> Vec<Value> {
        let Some(s) = &self.session else { return Vec::new() };
        let events = s.run().events();
        events
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .map(|(at, event)| {
                let mut v = serde_json::to_value(event).unwrap_or_else(|_| json!({}));
                if let Some(m) = v.as_object_mut() {
                    m.insert("at".into(), json!(at.as_millis()));
                    m.insert("text".into(), Value::String(format!("{at} {event}")));
                }
                v
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> KafkaRequest {
        match parse(&v) {
            KafkaIncoming::Request { request, .. } => request,
            other => panic!("{v} is not a valid request: {other:?}"),
        }
    }

    fn bad(v: Value) -> String {
        match parse(&v) {
            KafkaIncoming::Bad { error, .. } => error,
            other => panic!("{v} should be refused: {other:?}"),
        }
    }

    fn run(s: &mut KafkaEmbed, v: Value) -> Result<Value, String> {
        s.handle(req(v))
    }

    #[test]
    fn kafka_requests_parse_and_bad_ones_name_the_problem() {
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "play"})),
            KafkaRequest::Shared(Request::Play)
        );
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "produce", "topic": "t", "key": "k", "value": null,
                "partition": 2.0, "headers": {"h": "v"}, "acks": 1})),
            KafkaRequest::Produce(KafkaOp::Produce {
                topic: "t".into(),
                partition: Some(2),
                key: Some("k".into()),
                value: None,
                headers: vec![("h".into(), "v".into())],
                acks: AcksSpec::One,
            })
        );
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "counters", "group": "g"})),
            KafkaRequest::Counters { topic: None, group: Some("g".into()) }
        );
        assert_eq!(
            parse(&json!({"brokerlab": 1, "type": "reply", "id": 1, "ok": true})),
            KafkaIncoming::Ignore
        );
        assert_eq!(parse(&json!({"type": "play"})), KafkaIncoming::Ignore);
        let e = bad(json!({"brokerlab": 1, "id": 1, "type": "publish", "routingKey": "q"}));
        assert!(e.starts_with("unknown request type 'publish'; known: info, load, play"), "{e}");
        assert!(e.contains("produce"), "{e}");
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "produce", "topic": "t", "queue": "q"})),
            "'produce' takes no field 'queue'"
        );
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "produce"})),
            "'produce' needs a 'topic' (a topic's name)"
        );
        assert!(bad(json!({"brokerlab": 1, "id": 1, "type": "produce", "topic": "t", "partition": -1}))
            .starts_with("'partition' must be"));
        assert!(bad(json!({"brokerlab": 1, "id": 1, "type": "produce", "topic": "t", "acks": "2"}))
            .starts_with("'acks' must be"));
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "produce", "topic": "t", "headers": {"h": 1}})),
            "header 'h' must be a string"
        );
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "counters", "topic": 3})),
            "'topic' must be a topic's name (a string)"
        );
        assert!(bad(json!({"brokerlab": 2, "id": 1, "type": "play"}))
            .starts_with("unsupported protocol version 2"));
    }

    #[test]
    fn the_quickstart_driven_through_requests_lag_falls_to_zero() {
        let mut s = KafkaEmbed::default();
        let e = run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "play"})).unwrap_err();
        assert_eq!(e, "no document is loaded: send 'load' first");
        let text = crate::kafka_page::model::BUNDLED[0].text;
        let info = run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "load", "document": text})).unwrap();
        assert_eq!(info["model"], "kafka");
        assert_eq!(info["endMillis"], 20_000);
        assert_eq!(info["timeMillis"], 0);

        // 3.5 s: the producer wrote 3 records (1 s, 2 s, 3 s), the consumer starts at 4 s: lag 3.
        run(&mut s, json!({"brokerlab": 1, "id": 2, "type": "runUntil", "time": "3500ms"})).unwrap();
        let c = run(&mut s, json!({"brokerlab": 1, "id": 3, "type": "counters"})).unwrap();
        assert_eq!(
            c["topics"]["quickstart-events"]["partitions"][0],
            json!({"partition": 0, "logStartOffset": 0, "highWatermark": 3, "logEndOffset": 3, "leader": 1, "isr": [1]}),
            "{c}"
        );
        let g = &c["groups"]["console-consumer-group"];
        assert_eq!(
            (g["lag"].clone(), g["state"].clone(), g["members"].clone()),
            (json!(3), Value::Null, json!(0)),
            "{c}"
        );
        assert_eq!(
            g["partitions"][0],
            json!({"topic": "quickstart-events", "partition": 0, "committedOffset": null, "lag": 3})
        );

        // A record from the page, keyed: partition 0 of the one-partition topic, offset 3.
        let p = run(
            &mut s,
            json!({"brokerlab": 1, "id": 4, "type": "produce", "topic": "quickstart-events",
            "key": "page", "value": "from the page"}),
        )
        .unwrap();
        assert_eq!(p["produced"], "Wrote the record to quickstart-events-0 at offset 3");
        let e =
            run(&mut s, json!({"brokerlab": 1, "id": 5, "type": "produce", "topic": "nope", "value": "x"}))
                .unwrap_err();
        assert!(e.contains("This server does not host this topic-partition"), "Kafka's refusal: {e}");

        // To the end: the consumer read the ten records and the page's, and committed them all.
        let end = run(&mut s, json!({"brokerlab": 1, "id": 6, "type": "runUntil", "time": 20_000})).unwrap();
        assert_eq!((end["timeMillis"].clone(), end["finished"].clone()), (json!(20_000), json!(true)));
        let c = run(
            &mut s,
            json!({"brokerlab": 1, "id": 7, "type": "counters", "topic": "quickstart-events",
            "group": "console-consumer-group"}),
        )
        .unwrap();
        assert_eq!(c["topics"]["quickstart-events"]["partitions"][0]["highWatermark"], 11, "{c}");
        let g = &c["groups"]["console-consumer-group"];
        assert_eq!(
            (g["lag"].clone(), g["partitions"][0]["committedOffset"].clone()),
            (json!(0), json!(11)),
            "{c}"
        );
        assert_eq!(g["members"], 1, "{c}");
        let e =
            run(&mut s, json!({"brokerlab": 1, "id": 8, "type": "counters", "group": "other"})).unwrap_err();
        assert_eq!(e, "Consumer group 'other' does not exist.");
        let e = run(&mut s, json!({"brokerlab": 1, "id": 9, "type": "play"})).unwrap_err();
        assert!(e.starts_with("the scenario ended at 20.000s"), "{e}");

        // The checks: "consumed 10" now sees eleven, and says so; the others pass.
        let checks = run(&mut s, json!({"brokerlab": 1, "id": 10, "type": "checks"})).unwrap();
        assert_eq!((checks["passed"].clone(), checks["pending"].clone()), (json!(4), json!(0)), "{checks}");
        assert_eq!(checks["checks"][2]["status"], "fail", "{checks}");

        // Events: the engine's records with their kind, time and transcript line.
        let records = s.event_records(0);
        assert_eq!(records.len(), s.event_count());
        let consumed: Vec<&Value> = records.iter().filter(|r| r["event"] == "consumed").collect();
        assert_eq!(consumed.len(), 11, "ten records and the page's");
        assert_eq!(consumed[0]["offset"], 0);
        // The consumer starts at 4 s; the group's first rebalance waits group.initial.rebalance.delay.ms (3 s).
        assert_eq!(consumed[0]["at"], 7_000, "{}", consumed[0]);
        let text = consumed[0]["text"].as_str().unwrap();
        assert!(text.starts_with("7.000s console-consumer <- quickstart-events-0@0"), "{text}");
    }

    #[test]
    fn play_step_and_loads_keep_the_sandbox_consistent() {
        let mut s = KafkaEmbed::default();
        let e =
            run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "nope"})).unwrap_err();
        assert!(e.starts_with("no bundled Kafka document 'nope'; known: quickstart, "), "{e}");
        run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "offsets-and-lag"})).unwrap();
        let played = run(&mut s, json!({"brokerlab": 1, "id": 2, "type": "play"})).unwrap();
        assert_eq!(played["playing"], true);
        s.advance(250);
        assert_eq!(s.clock()["timeMillis"], 250);
        let stepped = run(&mut s, json!({"brokerlab": 1, "id": 3, "type": "step"})).unwrap();
        assert_eq!((stepped["timeMillis"].clone(), stepped["playing"].clone()), (json!(350), json!(false)));
        let e = run(&mut s, json!({"brokerlab": 1, "id": 4, "type": "runUntil", "time": 100})).unwrap_err();
        assert_eq!(e, "0.100s is in the past: the clock is at 0.350s");
        // A RabbitMQ document is refused, a broken Kafka one with its location; the run stays.
        let amqp = crate::scenarios::BUNDLED[1].1;
        let e = run(&mut s, json!({"brokerlab": 1, "id": 5, "type": "load", "document": amqp})).unwrap_err();
        assert!(e.starts_with("this document's model is 'amqp', not 'kafka'"), "{e}");
        let e =
            run(&mut s, json!({"brokerlab": 1, "id": 6, "type": "load", "document": "{\"brokerlab\": 2, "}))
                .unwrap_err();
        assert!(e.starts_with("This scenario cannot be loaded: 1:"), "{e}");
        assert_eq!(s.clock()["timeMillis"], 350, "the loaded run stays");
        // Play stops at the end.
        run(&mut s, json!({"brokerlab": 1, "id": 7, "type": "play"})).unwrap();
        s.advance(u64::MAX / 2);
        assert!(s.finished() && !s.playing);
    }

    #[test]
    fn a_rabbitmq_sandbox_sends_a_kafka_document_to_the_kafka_sandbox() {
        let mut state = crate::state::AppState::new(crate::session::Session::new(1));
        let text = crate::kafka_page::model::BUNDLED[0].text;
        let request =
            match protocol::parse(&json!({"brokerlab": 1, "id": 1, "type": "load", "document": text})) {
                Incoming::Request { request, .. } => request,
                other => panic!("{other:?}"),
            };
        assert_eq!(protocol::handle(&mut state, request), Err(protocol::KAFKA_ELSEWHERE.to_string()));
    }
}
