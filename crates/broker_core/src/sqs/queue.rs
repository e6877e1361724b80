//! One queue: its attributes (with the bounds of the SQS API Reference's `CreateQueue` page) and its
//! messages, each in exactly one state — delayed, visible or in flight — derived from its timers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::SqsError;
use super::types::AttributeValue;
use crate::VirtualTime;

/// The account and region every queue URL and ARN names (the documentation's example account).
pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// The largest visibility timeout, and the longest a message may stay in flight from its receive: 12 hours.
pub const MAX_VISIBILITY_SECONDS: i64 = 43_200;
/// The deduplication interval of FIFO queues: 5 minutes.
pub const DEDUP_WINDOW_MILLIS: u64 = 300_000;
/// How long a `ReceiveRequestAttemptId` can be retried after its receive: 5 minutes.
pub const RECEIVE_ATTEMPT_MILLIS: u64 = 300_000;
/// The in-flight quota of a standard queue ("Amazon SQS standard queue quotas"): past it, a short poll
/// fails with `OverLimit` and a long poll finds nothing, without an error.
pub const STANDARD_IN_FLIGHT_LIMIT: usize = 120_000;
/// The in-flight quota of a FIFO queue ("Amazon SQS FIFO queue quotas"): past it, no error, no message.
pub const FIFO_IN_FLIGHT_LIMIT: usize = 120_000;

/// A queue's settable attributes, parsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueAttributes {
    pub delay_seconds: i64,
    pub maximum_message_size: i64,
    pub message_retention_period: i64,
    pub receive_message_wait_time_seconds: i64,
    pub visibility_timeout: i64,
    /// As given (a JSON string), and parsed.
    pub redrive_policy: Option<(String, RedrivePolicy)>,
    pub redrive_allow_policy: Option<String>,
    pub policy: Option<String>,
    pub fifo: bool,
    pub content_based_deduplication: bool,
    /// `queue` or `messageGroup` (FIFO only).
    pub deduplication_scope: String,
    /// `perQueue` or `perMessageGroupId` (FIFO only).
    pub fifo_throughput_limit: String,
    pub sqs_managed_sse_enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

impl QueueAttributes {
    pub fn defaults(fifo: bool) -> Self {
        QueueAttributes {
            delay_seconds: 0,
            maximum_message_size: 262_144,
            message_retention_period: 345_600,
            receive_message_wait_time_seconds: 0,
            visibility_timeout: 30,
            redrive_policy: None,
            redrive_allow_policy: None,
            policy: None,
            fifo,
            content_based_deduplication: false,
            deduplication_scope: "queue".into(),
            fifo_throughput_limit: "perQueue".into(),
            sqs_managed_sse_enabled: true,
        }
    }

    /// Applies one attribute as `CreateQueue` or `SetQueueAttributes` gives it. The redrive policy's
    /// target is checked by the caller (it needs the other queues).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), SqsError> {
        let int = |lo: i64, hi: i64| -> Result<i64, SqsError> {
            match value.trim().parse::<i64>() {
                Ok(v) if (lo..=hi).contains(&v) => Ok(v),
                _ => Err(SqsError::invalid_attribute_value(name)),
            }
        };
        let boolean = || -> Result<bool, SqsError> {
            match value.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(SqsError::invalid_attribute_value(name)),
            }
        };
        match name {
            "DelaySeconds" => self.delay_seconds = int(0, 900)?,
            // AWS raised the maximum to 1 MiB in 2025 ("Amazon SQS message quotas").
            "MaximumMessageSize" => self.maximum_message_size = int(1_024, 1_048_576)?,
            "MessageRetentionPeriod" => self.message_retention_period = int(60, 1_209_600)?,
            "ReceiveMessageWaitTimeSeconds" => self.receive_message_wait_time_seconds = int(0, 20)?,
            "VisibilityTimeout" => self.visibility_timeout = int(0, MAX_VISIBILITY_SECONDS)?,
            "RedrivePolicy" => {
                self.redrive_policy =
                    if value.is_empty() { None } else { Some((value.to_string(), parse_redrive(value)?)) };
            }
            "RedriveAllowPolicy" => {
                self.redrive_allow_policy = if value.is_empty() {
                    None
                } else {
                    parse_redrive_allow(value)?;
                    Some(value.to_string())
                };
            }
            "Policy" => self.policy = if value.is_empty() { None } else { Some(value.to_string()) },
            "SqsManagedSseEnabled" => self.sqs_managed_sse_enabled = boolean()?,
            "KmsMasterKeyId" | "KmsDataKeyReusePeriodSeconds" => {}
            "FifoQueue" if self.fifo => {
                if !boolean()? {
                    return Err(SqsError::invalid_attribute_value(name));
                }
            }
            "ContentBasedDeduplication" if self.fifo => self.content_based_deduplication = boolean()?,
            "DeduplicationScope" if self.fifo => match value {
                "queue" | "messageGroup" => self.deduplication_scope = value.to_string(),
                _ => return Err(SqsError::invalid_attribute_value(name)),
            },
            "FifoThroughputLimit" if self.fifo => match value {
                "perQueue" | "perMessageGroupId" => self.fifo_throughput_limit = value.to_string(),
                _ => return Err(SqsError::invalid_attribute_value(name)),
            },
            // Standard queues know no FIFO attribute: SQS answers as for any unknown name.
            _ => return Err(SqsError::invalid_attribute_name(name)),
        }
        Ok(())
    }

    /// The rules between attributes, checked once all of a request's are applied: `perMessageGroupId`
    /// is allowed only with the `messageGroup` deduplication scope (API Reference, `SetQueueAttributes`:
    /// high throughput for FIFO queues is both together).
    pub fn check_combination(&self) -> Result<(), SqsError> {
        if self.fifo_throughput_limit == "perMessageGroupId" && self.deduplication_scope != "messageGroup" {
            return Err(SqsError::invalid_attribute_value("FifoThroughputLimit"));
        }
        Ok(())
    }

    /// The settable attributes as `GetQueueAttributes` shows them, by name.
    pub fn shown(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("DelaySeconds", self.delay_seconds.to_string()),
            ("MaximumMessageSize", self.maximum_message_size.to_string()),
            ("MessageRetentionPeriod", self.message_retention_period.to_string()),
            ("ReceiveMessageWaitTimeSeconds", self.receive_message_wait_time_seconds.to_string()),
            ("VisibilityTimeout", self.visibility_timeout.to_string()),
            ("SqsManagedSseEnabled", self.sqs_managed_sse_enabled.to_string()),
        ];
        if let Some((text, _)) = &self.redrive_policy {
            out.push(("RedrivePolicy", text.clone()));
        }
        if let Some(text) = &self.redrive_allow_policy {
            out.push(("RedriveAllowPolicy", text.clone()));
        }
        if let Some(text) = &self.policy {
            out.push(("Policy", text.clone()));
        }
        if self.fifo {
            out.push(("FifoQueue", "true".into()));
            out.push(("ContentBasedDeduplication", self.content_based_deduplication.to_string()));
            out.push(("DeduplicationScope", self.deduplication_scope.clone()));
            out.push(("FifoThroughputLimit", self.fifo_throughput_limit.clone()));
        }
        out
    }
}

/// Reads `{"deadLetterTargetArn": "...", "maxReceiveCount": N}` (the count as a number or a string).
fn parse_redrive(value: &str) -> Result<RedrivePolicy, SqsError> {
    let invalid = |reason: &str| SqsError::invalid_value(value, "RedrivePolicy", reason);
    let json: serde_json::Value =
        serde_json::from_str(value).map_err(|_| invalid("Redrive policy is not a valid JSON map"))?;
    let map = json.as_object().ok_or_else(|| invalid("Redrive policy is not a valid JSON map"))?;
    let arn = map
        .get("deadLetterTargetArn")
        .and_then(|v| v.as_str())
        .ok_or_else(|| invalid("Redrive policy does not contain mandatory attribute: deadLetterTargetArn"))?;
    let count = match map.get("maxReceiveCount") {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.parse::<i64>().ok(),
        None => return Err(invalid("Redrive policy does not contain mandatory attribute: maxReceiveCount")),
        _ => None,
    };
    let count = count.ok_or_else(|| invalid("Invalid value for maxReceiveCount"))?;
    if !(1..=1_000).contains(&count) {
        return Err(invalid("Value for parameter maxReceiveCount must be between 1 and 1000"));
    }
    Ok(RedrivePolicy { dead_letter_target_arn: arn.to_string(), max_receive_count: count as u32 })
}

/// Which source queues may name a queue as their dead-letter queue (`RedriveAllowPolicy`, API Reference
/// `SetQueueAttributes`): all (the default), none, or up to 10 listed by ARN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RedriveAllow {
    AllowAll,
    DenyAll,
    ByQueue(Vec<String>),
}

impl RedriveAllow {
    pub fn allows(&self, source_arn: &str) -> bool {
        match self {
            RedriveAllow::AllowAll => true,
            RedriveAllow::DenyAll => false,
            RedriveAllow::ByQueue(arns) => arns.iter().any(|a| a == source_arn),
        }
    }
}

/// Reads `{"redrivePermission": "allowAll"|"denyAll"|"byQueue", "sourceQueueArns": [...]}`: the ARNs only
/// with `byQueue` (and then 1 to 10 of them), as the API Reference describes the two fields. The
/// reasons' wording is the engine's (no AWS page quotes one).
pub fn parse_redrive_allow(value: &str) -> Result<RedriveAllow, SqsError> {
    let invalid = |reason: &str| SqsError::invalid_value(value, "RedriveAllowPolicy", reason);
    let json: serde_json::Value =
        serde_json::from_str(value).map_err(|_| invalid("Redrive allow policy is not a valid JSON map"))?;
    let map = json.as_object().ok_or_else(|| invalid("Redrive allow policy is not a valid JSON map"))?;
    let permission = map.get("redrivePermission").and_then(|v| v.as_str()).ok_or_else(|| {
        invalid("Redrive allow policy does not contain mandatory attribute: redrivePermission")
    })?;
    let arns = match map.get("sourceQueueArns") {
        None => None,
        Some(serde_json::Value::Array(items)) => Some(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| invalid("sourceQueueArns must be a list of queue ARNs"))?,
        ),
        Some(_) => return Err(invalid("sourceQueueArns must be a list of queue ARNs")),
    };
    match (permission, arns) {
        ("allowAll", None) => Ok(RedriveAllow::AllowAll),
        ("denyAll", None) => Ok(RedriveAllow::DenyAll),
        ("allowAll" | "denyAll", Some(_)) => {
            Err(invalid("sourceQueueArns can be specified only when redrivePermission is byQueue"))
        }
        ("byQueue", Some(arns)) if (1..=10).contains(&arns.len()) => Ok(RedriveAllow::ByQueue(arns)),
        ("byQueue", _) => Err(invalid("byQueue needs between 1 and 10 sourceQueueArns")),
        _ => Err(invalid("redrivePermission must be allowAll, denyAll or byQueue")),
    }
}

/// A message in a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub message_id: String,
    pub body: String,
    pub attributes: BTreeMap<String, AttributeValue>,
    pub md5_of_body: String,
    pub md5_of_attributes: Option<String>,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
    pub sequence_number: Option<String>,
    /// When it was first sent (kept through a move to a dead-letter queue: retention counts from here).
    pub sent: VirtualTime,
    /// Before this it is delayed (never received) or in flight (received); from it on, visible.
    pub visible_at: VirtualTime,
    pub receive_count: u32,
    pub first_receive: Option<VirtualTime>,
    /// The last receive: the 12-hour in-flight bound counts from here.
    pub last_receive: Option<VirtualTime>,
    /// The secret part of the current receipt handle (a new one per receive).
    pub handle_nonce: u64,
    /// The server of a standard queue that holds it (short polling samples servers).
    pub server: u8,
    /// The ARN of the queue it was dead-lettered from, once its redrive policy moved it
    /// (`DeadLetterQueueSourceArn`): where a move task without a destination sends it back.
    #[serde(default)]
    pub dead_letter_source: Option<String>,
}

/// Where a message is at a moment: exactly one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageState {
    Delayed,
    Visible,
    InFlight,
}

impl StoredMessage {
    pub fn state(&self, now: VirtualTime) -> MessageState {
        if self.visible_at <= now {
            MessageState::Visible
        } else if self.receive_count == 0 {
            MessageState::Delayed
        } else {
            MessageState::InFlight
        }
    }
}

/// A FIFO deduplication record: kept for 5 minutes from the first send, even once its message is gone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupRecord {
    pub expires: VirtualTime,
    pub message_id: String,
    pub sequence_number: Option<String>,
}

/// A FIFO receive made with a `ReceiveRequestAttemptId` (API Reference, `ReceiveMessage`): for 5 minutes
/// a retry with the same id returns the same messages with the same receipt handles, resetting their
/// visibility timeout, as long as none of them was modified (deleted, its visibility changed, received
/// again) since.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiveAttempt {
    pub expires: VirtualTime,
    /// Each message's arrival number and the handle nonce the receive gave it, in reply order.
    pub messages: Vec<(u64, u64)>,
    /// When the receive (or its last retry) made them visible again: a change means a modification.
    pub visible_at: VirtualTime,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    pub name: String,
    pub created: VirtualTime,
    pub last_modified: VirtualTime,
    pub attributes: QueueAttributes,
    /// The attributes as given at creation, for `CreateQueue`'s idempotence check.
    pub created_with: BTreeMap<String, String>,
    /// By arrival number: arrival order is the FIFO order and a standard queue's best-effort order.
    pub messages: BTreeMap<u64, StoredMessage>,
    pub dedup: BTreeMap<String, DedupRecord>,
    /// FIFO receives made with a `ReceiveRequestAttemptId`, by that id (kept 5 minutes).
    #[serde(default)]
    pub receive_attempts: BTreeMap<String, ReceiveAttempt>,
    pub last_purge: Option<VirtualTime>,
    pub tags: BTreeMap<String, String>,
}

impl Queue {
    pub fn url(&self) -> String {
        queue_url(&self.name)
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{}", self.name)
    }

    pub fn count(&self, now: VirtualTime, state: MessageState) -> usize {
        self.messages.values().filter(|m| m.state(now) == state).count()
    }
}

pub fn queue_url(name: &str) -> String {
    format!("https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}")
}

/// The states of a message move task (`ListMessageMoveTasksResultEntry.Status`). The engine moves on
/// virtual time and cancels at once, so it never shows `CANCELLING`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MoveStatus {
    Running,
    Completed,
    Cancelled,
    Failed,
}

impl MoveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MoveStatus::Running => "RUNNING",
            MoveStatus::Completed => "COMPLETED",
            MoveStatus::Cancelled => "CANCELLED",
            MoveStatus::Failed => "FAILED",
        }
    }
}

/// A message move task (`StartMessageMoveTask`): moves the messages visible in a dead-letter queue when
/// it started, oldest first, to one destination or back to each message's source queue, at
/// `MaxNumberOfMessagesPerSecond` on virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveTask {
    pub handle: String,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    /// As requested; `None` moves at [`DEFAULT_MOVE_RATE`].
    pub max_per_second: Option<u32>,
    pub status: MoveStatus,
    pub moved: u64,
    pub to_move: u64,
    pub started: VirtualTime,
    pub failure_reason: Option<String>,
}

/// The rate of a move task started without `MaxNumberOfMessagesPerSecond`. AWS then "optimizes the rate
/// based on the backlog" (API Reference, `StartMessageMoveTask`); the engine takes the documented
/// maximum, 500 per second.
pub const DEFAULT_MOVE_RATE: u32 = 500;

impl MoveTask {
    /// When the task's `k`-th move (from 1) happens: `k` seconds' worth of its rate after its start.
    pub fn move_time(&self, k: u64) -> VirtualTime {
        let rate = u64::from(self.max_per_second.unwrap_or(DEFAULT_MOVE_RATE).max(1));
        self.started.plus_millis(k * 1000 / rate)
    }
}
