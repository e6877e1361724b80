//! The embed protocol (version 1, [`super::protocol`]) for Kafka documents: the model sandboxes' shared
//! requests ([`super::model`]) with Kafka's own — `produce` (a record to a topic) instead of `publish`, and
//! `counters` per topic partition (log start, high watermark, log end) and per group and partition
//! (committed offset, lag). Plain Rust (no DOM), tested natively; the Kafka sandbox's module
//! (`src/embed_kafka_main.rs`, index.html's `embed-kafka/`) wires it to the page ([`super::kafka_view`]).
//!
//! Invariants: the sandbox's run is a [`KafkaSession`] (the document and the records the page produced,
//! each kept at its instant), so the state at a time never depends on how the page got there; the clock
//! only moves forward through requests and play, and never past the run's end.

use super::model::{self, EmbedSession, ModelEmbed, ModelIncoming, ModelRequest};
use super::protocol::{self, clip};
use crate::kafka_page::model::{group_partitions, lag_of, KafkaSession, BUNDLED};
use crate::kafka_page::ops::KafkaOp;
use broker_core::kafka::scenario::document::AcksSpec;
use broker_core::kafka::{ErrorCode, KafkaError};
use serde_json::{json, Map, Value};

/// Virtual milliseconds one `step` plays (the Kafka page's step).
pub const STEP_MS: u64 = 100;

/// Kafka's own requests.
#[derive(Clone, Debug, PartialEq)]
pub enum KafkaOwn {
    /// A record to a topic, as the Kafka page's Produce form writes it.
    Produce(KafkaOp),
    /// Counters of one topic and / or one group, or all.
    Counters { topic: Option<String>, group: Option<String> },
}

/// A validated request to a Kafka sandbox.
pub type KafkaRequest = ModelRequest<KafkaOwn>;
/// What an incoming message is, for a Kafka sandbox.
pub type KafkaIncoming = ModelIncoming<KafkaOwn>;
/// The Kafka sandbox's state: the run (once a document is loaded), play and speed, the last outcome.
pub type KafkaEmbed = ModelEmbed<KafkaSession>;

/// Classifies and validates one incoming message's data.
pub fn parse(data: &Value) -> KafkaIncoming {
    model::parse::<KafkaSession>(data)
}

impl EmbedSession for KafkaSession {
    const REQUESTS: &'static [(&'static str, &'static [&'static str])] = &[
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
    const STEP_MS: u64 = STEP_MS;
    type Own = KafkaOwn;

    fn parse_own(kind: &str, o: &Map<String, Value>) -> Option<Result<KafkaOwn, String>> {
        Some(match kind {
            "produce" => produce(o).map(KafkaOwn::Produce),
            "counters" => match (optional_name(o, "topic"), optional_name(o, "group")) {
                (Ok(topic), Ok(group)) => Ok(KafkaOwn::Counters { topic, group }),
                (Err(e), _) | (_, Err(e)) => Err(e),
            },
            _ => return None,
        })
    }

    fn handle_own(embed: &mut KafkaEmbed, request: KafkaOwn) -> Result<Value, String> {
        match request {
            KafkaOwn::Produce(op) => {
                let said = embed.session_mut()?.operate(op).map_err(|e| e.message)?;
                embed.notice = Some((false, said.clone()));
                Ok(json!({"produced": said}))
            }
            KafkaOwn::Counters { topic, group } => counters(embed, topic.as_deref(), group.as_deref()),
        }
    }

    fn bundled() -> Vec<(&'static str, &'static str)> {
        BUNDLED.iter().filter_map(|b| Some((b.id, crate::kafka_page::model::bundled_text(b.id)?))).collect()
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

/// Per topic, each partition's offsets (log start, high watermark, log end), leader and ISR; per
/// group, its state and each partition's committed offset and lag (log end minus committed, as the
/// documents' `lag` check counts it), with the group's total lag.
pub fn counters(embed: &KafkaEmbed, topic: Option<&str>, group: Option<&str>) -> Result<Value, String> {
    let s = embed.session()?;
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
    Ok(json!({"topics": topics, "groups": groups}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::protocol::{Incoming, Request};

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
            KafkaRequest::Own(KafkaOwn::Produce(KafkaOp::Produce {
                topic: "t".into(),
                partition: Some(2),
                key: Some("k".into()),
                value: None,
                headers: vec![("h".into(), "v".into())],
                acks: AcksSpec::One,
            }))
        );
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "counters", "group": "g"})),
            KafkaRequest::Own(KafkaOwn::Counters { topic: None, group: Some("g".into()) })
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
        let text = crate::kafka_page::model::QUICKSTART;
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
        let text = crate::kafka_page::model::QUICKSTART;
        let request =
            match protocol::parse(&json!({"brokerlab": 1, "id": 1, "type": "load", "document": text})) {
                Incoming::Request { request, .. } => request,
                other => panic!("{other:?}"),
            };
        assert_eq!(protocol::handle(&mut state, request), Err(protocol::KAFKA_ELSEWHERE.to_string()));
    }
}
