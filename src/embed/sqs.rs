//! The embed protocol (version 1, [`super::protocol`]) for SQS documents: the model sandboxes' shared
//! requests ([`super::model`]) with SQS's own, the SQS page's calls by hand — `send` (SendMessage),
//! `receive` (ReceiveMessage, answered with the messages and their receipt handles), `delete`
//! (DeleteMessage) — and `counters` per queue (visible, in flight, delayed, the dead-letter edge). Plain
//! Rust (no DOM), tested natively; the SQS sandbox's module (`src/embed_sqs_main.rs`, index.html's
//! `embed-sqs/`) wires it to the page ([`super::sqs_view`]).
//!
//! Invariants: the sandbox's run is an [`SqsSession`] (the document and the page's calls, each kept at its
//! instant), so the state at a time never depends on how the page got there; every refusal is the engine's
//! error as boto3's `ClientError` words it; the clock only moves forward through requests and play.

use super::model::{self, EmbedSession, ModelEmbed, ModelIncoming, ModelRequest};
use super::protocol::{self, clip};
use crate::sqs_page::model::{SqsSession, BUNDLED};
use crate::sqs_page::ops::SqsOp;
use broker_core::sqs::SqsError;
use serde_json::{json, Map, Value};

/// Virtual milliseconds one `step` plays (the SQS page's step without an event: one tenth of a second).
pub const STEP_MS: u64 = 100;

/// SQS's own requests.
#[derive(Clone, Debug, PartialEq)]
pub enum SqsOwn {
    /// SendMessage, ReceiveMessage or DeleteMessage, as the SQS page's forms make them.
    Call(SqsOp),
    /// Counters of one queue, or of all.
    Counters { queue: Option<String> },
}

/// A validated request to an SQS sandbox.
pub type SqsRequest = ModelRequest<SqsOwn>;
/// What an incoming message is, for an SQS sandbox.
pub type SqsIncoming = ModelIncoming<SqsOwn>;
/// The SQS sandbox's state: the run (once a document is loaded), play and speed, the last outcome.
pub type SqsEmbed = ModelEmbed<SqsSession>;

/// Classifies and validates one incoming message's data.
pub fn parse(data: &Value) -> SqsIncoming {
    model::parse::<SqsSession>(data)
}

/// A queue's name: required, a string.
fn queue(o: &Map<String, Value>, kind: &str) -> Result<String, String> {
    let queue = protocol::string_field(o, "queue")?;
    if queue.is_empty() {
        return Err(format!("'{kind}' needs a 'queue' (a queue's name)"));
    }
    Ok(queue)
}

/// An optional text field (`null` or absent: none).
fn optional_text(o: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= protocol::MAX_TEXT_BYTES => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(format!("'{key}' is larger than {} bytes", protocol::MAX_TEXT_BYTES)),
        Some(_) => Err(format!("'{key}' must be a string")),
    }
}

/// An optional whole number, passed to the engine as it is (SQS's bounds are the engine's to check).
fn optional_number(o: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            match n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)) {
                Some(v) => Ok(Some(v)),
                None => Err(format!("'{key}' must be a whole number")),
            }
        }
        Some(_) => Err(format!("'{key}' must be a whole number")),
    }
}

fn send(o: &Map<String, Value>) -> Result<SqsOp, String> {
    let queue = queue(o, "send")?;
    let body = match o.get("body") {
        Some(Value::String(s)) if s.len() <= protocol::MAX_TEXT_BYTES => s.clone(),
        Some(Value::String(_)) => {
            return Err(format!("'body' is larger than {} bytes", protocol::MAX_TEXT_BYTES))
        }
        None | Some(Value::Null) => return Err("'send' needs a 'body' (the message's text)".into()),
        Some(_) => return Err("'body' must be a string".into()),
    };
    let mut attributes = Vec::new();
    match o.get("messageAttributes") {
        None | Some(Value::Null) => {}
        Some(Value::Object(a)) => {
            for (name, value) in a {
                match value {
                    Value::String(s) => attributes.push((name.clone(), s.clone())),
                    _ => return Err(format!("message attribute '{}' must be a string", clip(name))),
                }
            }
        }
        Some(_) => return Err("'messageAttributes' must be an object of strings".into()),
    }
    Ok(SqsOp::Send {
        queue,
        body,
        attributes,
        delay_seconds: optional_number(o, "delaySeconds")?,
        group_id: optional_text(o, "messageGroupId")?,
        deduplication_id: optional_text(o, "messageDeduplicationId")?,
    })
}

fn receive(o: &Map<String, Value>) -> Result<SqsOp, String> {
    Ok(SqsOp::Receive {
        queue: queue(o, "receive")?,
        max_number_of_messages: optional_number(o, "maxNumberOfMessages")?,
        visibility_timeout: optional_number(o, "visibilityTimeout")?,
        wait_time_seconds: optional_number(o, "waitTimeSeconds")?,
    })
}

fn delete(o: &Map<String, Value>) -> Result<SqsOp, String> {
    let receipt_handle = protocol::string_field(o, "receiptHandle")?;
    if receipt_handle.is_empty() {
        return Err("'delete' needs a 'receiptHandle' (from a 'receive')".into());
    }
    Ok(SqsOp::Delete { queue: queue(o, "delete")?, receipt_handle })
}

impl EmbedSession for SqsSession {
    const REQUESTS: &'static [(&'static str, &'static [&'static str])] = &[
        ("info", &[]),
        ("load", &["scenario", "document"]),
        ("play", &[]),
        ("pause", &[]),
        ("step", &[]),
        ("runUntil", &["time"]),
        ("setSpeed", &["speed"]),
        (
            "send",
            &[
                "queue",
                "body",
                "messageAttributes",
                "delaySeconds",
                "messageGroupId",
                "messageDeduplicationId",
            ],
        ),
        ("receive", &["queue", "maxNumberOfMessages", "visibilityTimeout", "waitTimeSeconds"]),
        ("delete", &["queue", "receiptHandle"]),
        ("counters", &["queue"]),
        ("checks", &[]),
        ("subscribe", &["events"]),
        ("unsubscribe", &[]),
    ];
    const STEP_MS: u64 = STEP_MS;
    type Own = SqsOwn;

    fn parse_own(kind: &str, o: &Map<String, Value>) -> Option<Result<SqsOwn, String>> {
        Some(match kind {
            "send" => send(o).map(SqsOwn::Call),
            "receive" => receive(o).map(SqsOwn::Call),
            "delete" => delete(o).map(SqsOwn::Call),
            "counters" => optional_text(o, "queue").map(|queue| SqsOwn::Counters { queue }),
            _ => return None,
        })
    }

    fn handle_own(embed: &mut SqsEmbed, request: SqsOwn) -> Result<Value, String> {
        match request {
            SqsOwn::Call(op) => {
                let session = embed.session_mut()?;
                let said = session.operate(op.clone()).map_err(|e| e.message)?;
                let mut out = json!({"said": said.clone()});
                if let SqsOp::Receive { .. } = op {
                    // The receive just made is the run's latest by hand.
                    let r = session.run().hand_receives().last().expect("a receive by hand was kept");
                    let messages: Vec<Value> = r
                        .messages
                        .iter()
                        .map(|m| {
                            json!({
                                "messageId": m.message_id,
                                "body": m.body,
                                "receiptHandle": m.receipt_handle,
                                "attributes": m.attributes,
                            })
                        })
                        .collect();
                    out["messages"] = Value::Array(messages);
                    out["waiting"] = json!(r.answered_at.is_none());
                }
                embed.notice = Some((false, said));
                Ok(out)
            }
            SqsOwn::Counters { queue } => counters(embed, queue.as_deref()),
        }
    }

    fn bundled() -> Vec<(&'static str, &'static str)> {
        BUNDLED.iter().map(|b| (b.id, b.text)).collect()
    }
}

/// Per queue: its visible, in-flight and delayed counts (`ApproximateNumberOfMessages`,
/// `…NotVisible`, `…Delayed`), whether it is FIFO, and its dead-letter edge (the queue, after how many
/// receives, how many moved so far). A queue the run does not have is SQS's `QueueDoesNotExist`.
pub fn counters(embed: &SqsEmbed, only: Option<&str>) -> Result<Value, String> {
    let s = embed.session()?;
    let mut queues = Map::new();
    for q in s.queues() {
        if only.is_some_and(|name| name != q.name) {
            continue;
        }
        let dead_letter = q.dead_letter.as_ref().map_or(
            Value::Null,
            |d| json!({"queue": d.to, "maxReceiveCount": d.max_receive_count, "moved": d.moved}),
        );
        queues.insert(
            q.name.clone(),
            json!({
                "visible": q.visible,
                "inFlight": q.in_flight,
                "delayed": q.delayed,
                "fifo": q.fifo,
                "deadLetter": dead_letter,
            }),
        );
    }
    if only.is_some() && queues.is_empty() {
        return Err(SqsError::queue_does_not_exist().client_error("GetQueueAttributes"));
    }
    Ok(json!({"queues": queues}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::protocol::Request;

    fn req(v: Value) -> SqsRequest {
        match parse(&v) {
            SqsIncoming::Request { request, .. } => request,
            other => panic!("{v} is not a valid request: {other:?}"),
        }
    }

    fn bad(v: Value) -> String {
        match parse(&v) {
            SqsIncoming::Bad { error, .. } => error,
            other => panic!("{v} should be refused: {other:?}"),
        }
    }

    fn run(s: &mut SqsEmbed, v: Value) -> Result<Value, String> {
        s.handle(req(v))
    }

    #[test]
    fn sqs_requests_parse_and_bad_ones_name_the_problem() {
        assert_eq!(req(json!({"brokerlab": 1, "id": 1, "type": "step"})), SqsRequest::Shared(Request::Step));
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "send", "queue": "q.fifo", "body": "b",
                "messageAttributes": {"kind": "demo"}, "delaySeconds": 5, "messageGroupId": "g",
                "messageDeduplicationId": "d"})),
            SqsRequest::Own(SqsOwn::Call(SqsOp::Send {
                queue: "q.fifo".into(),
                body: "b".into(),
                attributes: vec![("kind".into(), "demo".into())],
                delay_seconds: Some(5),
                group_id: Some("g".into()),
                deduplication_id: Some("d".into()),
            }))
        );
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "receive", "queue": "q", "waitTimeSeconds": 20.0})),
            SqsRequest::Own(SqsOwn::Call(SqsOp::Receive {
                queue: "q".into(),
                max_number_of_messages: None,
                visibility_timeout: None,
                wait_time_seconds: Some(20),
            }))
        );
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "counters"})),
            SqsRequest::Own(SqsOwn::Counters { queue: None })
        );
        let e = bad(json!({"brokerlab": 1, "id": 1, "type": "produce", "topic": "t"}));
        assert!(e.starts_with("unknown request type 'produce'; known: info, load, play"), "{e}");
        assert!(e.contains("send, receive, delete, counters"), "{e}");
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "send", "body": "b"})),
            "'send' needs a 'queue' (a queue's name)"
        );
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "send", "queue": "q"})),
            "'send' needs a 'body' (the message's text)"
        );
        assert_eq!(
            bad(
                json!({"brokerlab": 1, "id": 1, "type": "send", "queue": "q", "body": "b", "routingKey": "k"})
            ),
            "'send' takes no field 'routingKey'"
        );
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "receive", "queue": "q", "visibilityTimeout": 1.5})),
            "'visibilityTimeout' must be a whole number"
        );
        assert_eq!(
            bad(
                json!({"brokerlab": 1, "id": 1, "type": "send", "queue": "q", "body": "b", "messageAttributes": {"a": 1}})
            ),
            "message attribute 'a' must be a string"
        );
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "delete", "queue": "q"})),
            "'delete' needs a 'receiptHandle' (from a 'receive')"
        );
    }

    #[test]
    fn the_dead_letter_tutorial_driven_through_requests() {
        let mut s = SqsEmbed::default();
        let e = run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "counters"})).unwrap_err();
        assert_eq!(e, "no document is loaded: send 'load' first");
        let e =
            run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "nope"})).unwrap_err();
        assert!(e.starts_with("no bundled SQS document 'nope'; known: visibility-timeout, "), "{e}");
        let info = run(
            &mut s,
            json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "dead-letter-queue-and-redrive"}),
        )
        .unwrap();
        assert_eq!(info["model"], "sqs");
        assert_eq!((info["timeMillis"].clone(), info["endMillis"].clone()), (json!(0), json!(60_000)));

        // A message sent to the DLQ (no consumer polls it), received with a 30 s visibility timeout.
        let sent = run(
            &mut s,
            json!({"brokerlab": 1, "id": 2, "type": "send", "queue": "payments-dlq", "body": "from the page"}),
        )
        .unwrap();
        assert!(sent["said"].as_str().unwrap().starts_with("Sent to payments-dlq: MessageId "), "{sent}");
        let got = run(
            &mut s,
            json!({"brokerlab": 1, "id": 3, "type": "receive", "queue": "payments-dlq", "visibilityTimeout": 30}),
        )
        .unwrap();
        assert_eq!(got["said"], "Received 1 message from payments-dlq");
        assert_eq!(got["waiting"], false);
        let message = &got["messages"][0];
        assert_eq!(message["body"], "from the page");
        assert_eq!(message["attributes"]["ApproximateReceiveCount"], "1");
        let handle = message["receiptHandle"].as_str().unwrap().to_string();
        let c = run(&mut s, json!({"brokerlab": 1, "id": 4, "type": "counters", "queue": "payments-dlq"}))
            .unwrap();
        assert_eq!(c["queues"]["payments-dlq"]["inFlight"], 1, "{c}");
        assert_eq!(c["queues"]["payments-dlq"]["visible"], 0, "{c}");

        // SQS's refusals, as boto3 words them.
        let e = run(
            &mut s,
            json!({"brokerlab": 1, "id": 5, "type": "delete", "queue": "payments-dlq",
            "receiptHandle": "AQEB-typo"}),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "An error occurred (ReceiptHandleIsInvalid) when calling the DeleteMessage operation: The input receipt \
             handle 'AQEB-typo' is not a valid receipt handle."
        );
        let e =
            run(&mut s, json!({"brokerlab": 1, "id": 6, "type": "counters", "queue": "nope"})).unwrap_err();
        assert!(e.contains("(AWS.SimpleQueueService.NonExistentQueue)"), "{e}");
        let e = run(&mut s, json!({"brokerlab": 1, "id": 7, "type": "send", "queue": "nope", "body": "b"}))
            .unwrap_err();
        assert!(e.contains("when calling the SendMessage operation"), "{e}");

        // Deleted with its handle; to the end, the tutorial's checks pass (the page's calls touched only
        // the DLQ's own message).
        let d = run(
            &mut s,
            json!({"brokerlab": 1, "id": 8, "type": "delete", "queue": "payments-dlq",
            "receiptHandle": handle}),
        )
        .unwrap();
        assert_eq!(d["said"], "Deleted \"from the page\" from payments-dlq");
        let end = run(&mut s, json!({"brokerlab": 1, "id": 9, "type": "runUntil", "time": "60s"})).unwrap();
        assert_eq!((end["timeMillis"].clone(), end["finished"].clone()), (json!(60_000), json!(true)));
        let c = run(&mut s, json!({"brokerlab": 1, "id": 10, "type": "counters"})).unwrap();
        let payments = &c["queues"]["payments"];
        assert_eq!(payments["deadLetter"]["queue"], "payments-dlq", "{c}");
        assert!(payments["deadLetter"]["moved"].as_u64().unwrap() > 0, "{c}");
        let checks = run(&mut s, json!({"brokerlab": 1, "id": 11, "type": "checks"})).unwrap();
        assert_eq!((checks["failed"].clone(), checks["pending"].clone()), (json!(0), json!(0)), "{checks}");

        // Events: the engine's records with their kind, time and transcript line.
        let records = s.event_records(0);
        assert_eq!(records.len(), s.event_count());
        assert!(records.iter().all(|r| r["event"].is_string() && r["at"].is_u64() && r["text"].is_string()));
        let e = run(&mut s, json!({"brokerlab": 1, "id": 12, "type": "play"})).unwrap_err();
        assert!(e.starts_with("the scenario ended at 60.000s"), "{e}");
    }

    #[test]
    fn the_visibility_timeout_tutorial_shows_the_job_received_again_at_30_s() {
        let mut s = SqsEmbed::default();
        run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "visibility-timeout"}))
            .unwrap();
        let jobs = |s: &SqsEmbed| -> Vec<Value> {
            s.event_records(0)
                .into_iter()
                .filter(|r| r["event"] == "received" && r["queue"] == "jobs")
                .collect()
        };
        run(&mut s, json!({"brokerlab": 1, "id": 2, "type": "runUntil", "time": "29s"})).unwrap();
        let c = run(&mut s, json!({"brokerlab": 1, "id": 3, "type": "counters", "queue": "jobs"})).unwrap();
        assert_eq!(
            (c["queues"]["jobs"]["visible"].clone(), c["queues"]["jobs"]["inFlight"].clone()),
            (json!(0), json!(1))
        );
        let got = jobs(&s);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0]["consumer"].clone(), got[0]["receive_count"].clone()),
            (json!("worker-a"), json!(1))
        );
        run(&mut s, json!({"brokerlab": 1, "id": 4, "type": "runUntil", "time": "31s"})).unwrap();
        let got = jobs(&s);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(
            (got[1]["consumer"].clone(), got[1]["receive_count"].clone()),
            (json!("worker-b"), json!(2))
        );
        assert_eq!(got[1]["message_id"], got[0]["message_id"]);
        assert!((30_000..=31_000).contains(&got[1]["at"].as_u64().unwrap()), "{}", got[1]);
        let c = run(&mut s, json!({"brokerlab": 1, "id": 5, "type": "counters"})).unwrap();
        assert_eq!(c["queues"].as_object().unwrap().keys().collect::<Vec<_>>(), ["jobs", "jobs-heartbeat"]);
        assert_eq!(c["queues"]["jobs"]["inFlight"], 1, "{c}");
        // A job sent by the page, then the run to its end: every check passes.
        let sent = run(
            &mut s,
            json!({"brokerlab": 1, "id": 6, "type": "send", "queue": "jobs", "body": "job from the page #1"}),
        )
        .unwrap();
        assert!(sent["said"].as_str().unwrap().starts_with("Sent to jobs: MessageId "), "{sent}");
        run(&mut s, json!({"brokerlab": 1, "id": 7, "type": "runUntil", "time": 100_000})).unwrap();
        let checks = run(&mut s, json!({"brokerlab": 1, "id": 8, "type": "checks"})).unwrap();
        assert_eq!((checks["failed"].clone(), checks["pending"].clone()), (json!(0), json!(0)), "{checks}");
    }

    #[test]
    fn play_step_and_loads_keep_the_sandbox_consistent() {
        let mut s = SqsEmbed::default();
        run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "visibility-timeout"}))
            .unwrap();
        run(&mut s, json!({"brokerlab": 1, "id": 2, "type": "play"})).unwrap();
        s.advance(250);
        let stepped = run(&mut s, json!({"brokerlab": 1, "id": 3, "type": "step"})).unwrap();
        assert_eq!((stepped["timeMillis"].clone(), stepped["playing"].clone()), (json!(350), json!(false)));
        // A Kafka document is refused, a broken SQS one with its location; the run stays.
        let kafka = crate::kafka_page::model::QUICKSTART;
        let e = run(&mut s, json!({"brokerlab": 1, "id": 4, "type": "load", "document": kafka})).unwrap_err();
        assert!(e.starts_with("this document's model is 'kafka', not 'sqs'"), "{e}");
        let e =
            run(&mut s, json!({"brokerlab": 1, "id": 5, "type": "load", "document": "{\"brokerlab\": 2, "}))
                .unwrap_err();
        assert!(e.starts_with("This scenario cannot be loaded: 1:"), "{e}");
        assert_eq!(s.clock()["timeMillis"], 350, "the loaded run stays");
        run(&mut s, json!({"brokerlab": 1, "id": 6, "type": "play"})).unwrap();
        s.advance(u64::MAX / 2);
        assert!(s.finished() && !s.playing);
    }

    #[test]
    fn a_rabbitmq_sandbox_sends_an_sqs_document_to_the_sqs_sandbox() {
        let mut state = crate::state::AppState::new(crate::session::Session::new(1));
        let text = BUNDLED[0].text;
        let request =
            match protocol::parse(&json!({"brokerlab": 1, "id": 1, "type": "load", "document": text})) {
                protocol::Incoming::Request { request, .. } => request,
                other => panic!("{other:?}"),
            };
        assert_eq!(protocol::handle(&mut state, request), Err(protocol::SQS_ELSEWHERE.to_string()));
    }
}
