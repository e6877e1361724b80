//! What the learner does by hand from the SQS page's forms, as engine calls on the running document:
//! `SendMessage`, `ReceiveMessage`, `DeleteMessage`, `ChangeMessageVisibility` (the run's calls by hand,
//! `broker_core::sqs::scenario::SqsRun::hand_send` and its siblings). Plain Rust, tested natively.
//!
//! Invariants:
//! - Every refusal is the engine's [`SqsError`], worded as boto3's `ClientError` says it, attached to the
//!   form field it concerns; nothing here words an SQS rule. The forms check only what a form must (a
//!   number is a number, an attribute is `name=value`).
//! - An operation is kept with the instant it was done at ([`Applied`], the shell's, as the Kafka page's
//!   operations are): replaying the run (a rewind) does it again at that instant, after the run's own
//!   step there, so the state at any time — receipt handles included — does not depend on how the page
//!   got there. A refused operation is not kept.

use crate::shell::{is_due, Applied};
use broker_core::sqs::scenario::{HandDelete, SqsRun};
use broker_core::sqs::types::{AttributeData, AttributeValue, ReceiveMessage, SendMessage};
use broker_core::sqs::SqsError;
use broker_core::VirtualTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One call from the page's forms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum SqsOp {
    Send {
        queue: String,
        body: String,
        /// String message attributes, in the order typed.
        #[serde(default)]
        attributes: Vec<(String, String)>,
        #[serde(default)]
        delay_seconds: Option<i64>,
        #[serde(default)]
        group_id: Option<String>,
        #[serde(default)]
        deduplication_id: Option<String>,
    },
    Receive {
        queue: String,
        #[serde(default)]
        max_number_of_messages: Option<i64>,
        #[serde(default)]
        visibility_timeout: Option<i64>,
        #[serde(default)]
        wait_time_seconds: Option<i64>,
    },
    Delete {
        queue: String,
        receipt_handle: String,
    },
    ChangeVisibility {
        queue: String,
        receipt_handle: String,
        visibility_timeout: i64,
    },
}

impl SqsOp {
    /// The API operation, as boto3's errors name it.
    pub fn operation(&self) -> &'static str {
        match self {
            SqsOp::Send { .. } => "SendMessage",
            SqsOp::Receive { .. } => "ReceiveMessage",
            SqsOp::Delete { .. } => "DeleteMessage",
            SqsOp::ChangeVisibility { .. } => "ChangeMessageVisibility",
        }
    }
}

/// A refusal, at the form field it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError {
    /// The field's name in its form (`queue`, `body`, `attributes`, `delay_seconds`, `group_id`,
    /// `deduplication_id`, `max_number_of_messages`, `visibility_timeout`, `wait_time_seconds`,
    /// `receipt_handle`).
    pub field: &'static str,
    pub message: String,
}

/// The form field an engine refusal concerns: the parameter its text names, else the operation's main one.
fn field_of(op: &SqsOp, e: &SqsError) -> &'static str {
    let m = &e.message;
    if e.code.ends_with("NonExistentQueue") {
        return "queue";
    }
    const PARAMETERS: &[(&str, &str)] = &[
        ("MessageGroupId", "group_id"),
        ("MessageDeduplicationId", "deduplication_id"),
        ("ContentBasedDeduplication", "deduplication_id"),
        ("DelaySeconds", "delay_seconds"),
        ("MaxNumberOfMessages", "max_number_of_messages"),
        ("WaitTimeSeconds", "wait_time_seconds"),
        ("VisibilityTimeout", "visibility_timeout"),
        ("ReceiptHandle", "receipt_handle"),
        ("receipt handle", "receipt_handle"),
        ("MessageAttribute", "attributes"),
        ("attribute", "attributes"),
    ];
    if let Some((_, f)) = PARAMETERS.iter().find(|(p, _)| m.contains(p)) {
        return f;
    }
    match op {
        SqsOp::Send { .. } => "body",
        SqsOp::Receive { .. } => "queue",
        SqsOp::Delete { .. } | SqsOp::ChangeVisibility { .. } => "receipt_handle",
    }
}

fn refused(op: &SqsOp, e: SqsError) -> OpError {
    OpError { field: field_of(op, &e), message: e.client_error(op.operation()) }
}

fn seconds(t: VirtualTime) -> String {
    let ms = t.as_millis();
    format!("{}.{} s", ms / 1000, ms % 1000 / 100)
}

/// Does `op` on the run at its current instant; says what happened, or refuses with the engine's error.
pub fn apply(run: &mut SqsRun, op: &SqsOp) -> Result<String, OpError> {
    match op {
        SqsOp::Send { queue, body, attributes, delay_seconds, group_id, deduplication_id } => {
            let request = SendMessage {
                body: body.clone(),
                delay_seconds: *delay_seconds,
                attributes: attributes
                    .iter()
                    .map(|(k, v)| {
                        let value = AttributeValue {
                            data_type: "String".to_string(),
                            value: AttributeData::String(v.clone()),
                        };
                        (k.clone(), value)
                    })
                    .collect(),
                group_id: group_id.clone(),
                deduplication_id: deduplication_id.clone(),
            };
            let sent = run.hand_send(queue, &request).map_err(|e| refused(op, e))?;
            let mut said = format!("Sent to {queue}: MessageId {}", sent.message_id);
            if let Some(n) = &sent.sequence_number {
                said.push_str(&format!(", SequenceNumber {n}"));
            }
            Ok(said)
        }
        SqsOp::Receive { queue, max_number_of_messages, visibility_timeout, wait_time_seconds } => {
            let request = ReceiveMessage {
                max_number_of_messages: *max_number_of_messages,
                visibility_timeout: *visibility_timeout,
                wait_time_seconds: *wait_time_seconds,
                system_attribute_names: vec!["All".to_string()],
                message_attribute_names: vec!["All".to_string()],
                receive_request_attempt_id: None,
            };
            let i = run.hand_receive(queue, &request).map_err(|e| refused(op, e))?;
            let r = &run.hand_receives()[i];
            Ok(match (r.answered_at, r.messages.len()) {
                (None, _) => {
                    format!("Waiting for a message on {queue} until {} (long poll)", seconds(r.wait_until))
                }
                (Some(_), 0) => {
                    format!("No message from {queue} (short poll: none visible on the servers asked)")
                }
                (Some(_), 1) => format!("Received 1 message from {queue}"),
                (Some(_), n) => format!("Received {n} messages from {queue}"),
            })
        }
        SqsOp::Delete { queue, receipt_handle } => {
            Ok(match run.hand_delete(queue, receipt_handle).map_err(|e| refused(op, e))? {
                HandDelete::Deleted { body, .. } => format!("Deleted {body:?} from {queue}"),
                HandDelete::Kept { body, .. } => format!(
                    "DeleteMessage succeeded but {body:?} stays in {queue}: it was received again since, and \
                     only the latest receipt handle deletes it"
                ),
                HandDelete::Nothing => {
                    "DeleteMessage succeeded; no message was deleted (it was already gone)".to_string()
                }
            })
        }
        SqsOp::ChangeVisibility { queue, receipt_handle, visibility_timeout } => {
            let body = run
                .hand_change_visibility(queue, receipt_handle, *visibility_timeout)
                .map_err(|e| refused(op, e))?;
            let what = body.map_or_else(|| "The message".to_string(), |b| format!("{b:?}"));
            let until = run.time().plus_millis(*visibility_timeout as u64 * 1000);
            Ok(if *visibility_timeout == 0 {
                format!("{what} is visible again in {queue} now")
            } else {
                format!("{what} stays invisible in {queue} until {}", seconds(until))
            })
        }
    }
}

/// Plays `run` to `to_ms`, doing each operation at its instant: those after `from_ms` (all from 0 when
/// `from_ms` is `None`, a run built afresh).
pub fn play(run: &mut SqsRun, ops: &[Applied<SqsOp>], from_ms: Option<u64>, to_ms: u64) {
    for a in ops {
        if is_due(a.at, from_ms, to_ms) {
            run.run_until(VirtualTime::from_millis(a.at));
            // A refusal was shown when the learner did it (and not kept); a kept one is done again.
            let _ = apply(run, &a.op);
        }
    }
    run.run_until(VirtualTime::from_millis(to_ms));
}

fn number(field: &'static str, text: &str) -> Result<Option<i64>, OpError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse().map(Some).map_err(|_| OpError { field, message: format!("'{t}' is not a whole number") })
}

fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// A form's values as an operation (only the form's own checks: numbers, `name=value`). The forms:
/// `send`, `receive`, `delete`, `visibility`.
pub fn build(form: &str, v: &BTreeMap<String, String>) -> Result<SqsOp, OpError> {
    let get = |f: &str| v.get(f).cloned().unwrap_or_default();
    let queue = get("queue").trim().to_string();
    Ok(match form {
        "send" => SqsOp::Send {
            queue,
            body: get("body"),
            attributes: get("attributes")
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
                    None => Err(OpError { field: "attributes", message: format!("'{p}' is not name=value") }),
                })
                .collect::<Result<_, _>>()?,
            delay_seconds: number("delay_seconds", &get("delay_seconds"))?,
            group_id: optional(get("group_id").trim()),
            deduplication_id: optional(get("deduplication_id").trim()),
        },
        "receive" => SqsOp::Receive {
            queue,
            max_number_of_messages: number("max_number_of_messages", &get("max_number_of_messages"))?,
            visibility_timeout: number("visibility_timeout", &get("visibility_timeout"))?,
            wait_time_seconds: number("wait_time_seconds", &get("wait_time_seconds"))?,
        },
        "delete" => SqsOp::Delete { queue, receipt_handle: get("receipt_handle").trim().to_string() },
        _ => SqsOp::ChangeVisibility {
            queue,
            receipt_handle: get("receipt_handle").trim().to_string(),
            visibility_timeout: number("visibility_timeout", &get("visibility_timeout"))?.ok_or(OpError {
                field: "visibility_timeout",
                message: "a visibility timeout in seconds (0 to 43200)".to_string(),
            })?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqs_page::model::SqsSession;
    use broker_core::sqs::queue::MessageState;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn dlq(s: &SqsSession) -> crate::sqs_page::model::QueueView {
        s.queues().into_iter().find(|q| q.name == "payments-dlq").expect("the DLQ")
    }

    #[test]
    fn forms_check_only_numbers_and_pairs_and_build_the_calls() {
        let op = build(
            "send",
            &values(&[
                ("queue", " jobs "),
                ("body", "hi"),
                ("attributes", "a=1, b = two"),
                ("delay_seconds", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(
            op,
            SqsOp::Send {
                queue: "jobs".into(),
                body: "hi".into(),
                attributes: vec![("a".into(), "1".into()), ("b".into(), "two".into())],
                delay_seconds: Some(5),
                group_id: None,
                deduplication_id: None,
            }
        );
        let e = build("send", &values(&[("attributes", "loose")])).unwrap_err();
        assert_eq!((e.field, e.message.as_str()), ("attributes", "'loose' is not name=value"));
        let e = build("receive", &values(&[("wait_time_seconds", "soon")])).unwrap_err();
        assert_eq!((e.field, e.message.as_str()), ("wait_time_seconds", "'soon' is not a whole number"));
        let e = build("visibility", &values(&[("queue", "q"), ("receipt_handle", "h")])).unwrap_err();
        assert_eq!(e.field, "visibility_timeout");
        // Out of SQS's bounds is the engine's to refuse, not the form's.
        let op = build(
            "visibility",
            &values(&[("queue", "q"), ("receipt_handle", "h"), ("visibility_timeout", "43201")]),
        );
        assert!(op.is_ok());
    }

    #[test]
    fn sent_received_seen_in_flight_and_deleted_by_hand_and_kept_over_a_rewind() {
        let mut s = SqsSession::bundled("dead-letter-queue-and-redrive").unwrap();
        s.seek(2_000);
        let send = build("send", &values(&[("queue", "payments-dlq"), ("body", "by-hand")])).unwrap();
        let said = s.operate(send).unwrap();
        assert!(said.starts_with("Sent to payments-dlq: MessageId "), "{said}");
        assert_eq!(dlq(&s).visible, 1);
        s.seek(3_000);
        let receive =
            build("receive", &values(&[("queue", "payments-dlq"), ("visibility_timeout", "30")])).unwrap();
        assert_eq!(s.operate(receive).unwrap(), "Received 1 message from payments-dlq");
        let got = s.hand_received();
        assert_eq!(got.len(), 1);
        let handle = got[0].receipt_handle.clone();
        assert!(handle.starts_with("AQEB"), "{handle}");
        s.seek(13_000);
        let q = dlq(&s);
        let m = &q.messages[0];
        assert_eq!((m.state, m.remaining_ms, m.clock_ms), (MessageState::InFlight, 20_000, 30_000));
        let row = &s.hand_received()[0];
        assert_eq!((row.state, row.remaining_ms, row.latest), (Some(MessageState::InFlight), 20_000, true));

        // A handle typed wrong: the engine's error at the handle field, worded as boto3 says it.
        let bad = SqsOp::Delete { queue: "payments-dlq".into(), receipt_handle: "AQEBnope".into() };
        let e = s.operate(bad).unwrap_err();
        assert_eq!(e.field, "receipt_handle");
        assert_eq!(
            e.message,
            "An error occurred (ReceiptHandleIsInvalid) when calling the DeleteMessage operation: The input \
             receipt handle 'AQEBnope' is not a valid receipt handle."
        );
        let too_long = SqsOp::ChangeVisibility {
            queue: "payments-dlq".into(),
            receipt_handle: handle.clone(),
            visibility_timeout: 43_201,
        };
        let e = s.operate(too_long).unwrap_err();
        assert_eq!(e.field, "visibility_timeout");
        assert!(e.message.starts_with("An error occurred (InvalidParameterValue) when calling the ChangeMessageVisibility operation: Value 43201 for parameter VisibilityTimeout is invalid."), "{e:?}");
        let said = s
            .operate(SqsOp::ChangeVisibility {
                queue: "payments-dlq".into(),
                receipt_handle: handle.clone(),
                visibility_timeout: 60,
            })
            .unwrap();
        assert_eq!(said, "\"by-hand\" stays invisible in payments-dlq until 73.0 s");
        s.seek(14_000);
        let said = s
            .operate(SqsOp::Delete { queue: "payments-dlq".into(), receipt_handle: handle.clone() })
            .unwrap();
        assert_eq!(said, "Deleted \"by-hand\" from payments-dlq");
        assert!(dlq(&s).messages.iter().all(|m| m.body != "by-hand"));
        assert_eq!(s.hand_received()[0].state, None, "gone");
        let e = s
            .operate(SqsOp::ChangeVisibility {
                queue: "payments-dlq".into(),
                receipt_handle: handle.clone(),
                visibility_timeout: 5,
            })
            .unwrap_err();
        assert_eq!(
            e.message,
            "An error occurred (AWS.SimpleQueueService.MessageNotInflight) when calling the ChangeMessageVisibility \
             operation: Message does not exist or is not available for visibility timeout change."
        );
        assert_eq!(s.ops.len(), 4, "send, receive, change, delete: refusals are not kept");

        // Rewound to 2.5 s: sent, not received; forward again: the same handle, in flight, then deleted.
        s.seek(2_500);
        assert_eq!(dlq(&s).visible, 1);
        assert!(s.hand_received().is_empty());
        s.seek(13_500);
        assert_eq!(s.hand_received()[0].receipt_handle, handle);
        assert_eq!(dlq(&s).in_flight, 1);
        s.seek(20_000);
        assert!(dlq(&s).messages.iter().all(|m| m.body != "by-hand"));
        s.seek(s.end_ms());
        assert!(s.stopped().is_none(), "{:?}", s.stopped());
    }

    #[test]
    fn calls_at_0_on_a_page_just_opened_are_made_after_instant_0_as_a_replay_makes_them() {
        let mut s = SqsSession::bundled("dead-letter-queue-and-redrive").unwrap();
        assert_eq!(s.time_ms(), 0);
        s.operate(build("send", &values(&[("queue", "payments-dlq"), ("body", "at zero")])).unwrap())
            .unwrap();
        s.operate(build("receive", &values(&[("queue", "payments-dlq")])).unwrap()).unwrap();
        let handle = s.hand_received()[0].receipt_handle.clone();
        s.seek(5_000);
        s.seek(0);
        assert_eq!(s.hand_received()[0].receipt_handle, handle, "the same receipt handle after a rewind");
    }

    #[test]
    fn a_fifo_send_without_a_group_is_refused_at_the_group_field() {
        let mut s = SqsSession::bundled("fifo-order-and-deduplication").unwrap();
        s.seek(500);
        let e = s
            .operate(build("send", &values(&[("queue", "orders.fifo"), ("body", "x")])).unwrap())
            .unwrap_err();
        assert_eq!(e.field, "group_id");
        assert_eq!(
            e.message,
            "An error occurred (MissingParameter) when calling the SendMessage operation: The request must contain \
             the parameter MessageGroupId."
        );
        let e = s
            .operate(
                build("send", &values(&[("queue", "orders.fifo"), ("body", "x"), ("group_id", "g")]))
                    .unwrap(),
            )
            .unwrap_err();
        assert_eq!(e.field, "deduplication_id");
        let e =
            s.operate(build("send", &values(&[("queue", "nowhere"), ("body", "x")])).unwrap()).unwrap_err();
        assert_eq!(e.field, "queue");
        let e = s
            .operate(
                build("receive", &values(&[("queue", "orders.fifo"), ("max_number_of_messages", "11")]))
                    .unwrap(),
            )
            .unwrap_err();
        assert_eq!(e.field, "max_number_of_messages");
        assert!(e.message.ends_with("Reason: Must be between 1 and 10, if provided."), "{e:?}");
        assert!(s.ops.is_empty());
    }
}
