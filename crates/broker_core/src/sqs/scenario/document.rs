//! An SQS scenario document (`"model": "sqs"`, format 2): queues (and SNS topics) created at time 0,
//! producers sending on a schedule, consumers as `ReceiveMessage` poll loops, faults and operator actions
//! at times, checks at times, a seed and a duration.
//!
//! # Invariants
//! - Every field is known (`deny_unknown_fields`); a problem is reported at its JSON path, found again in
//!   the text as `line:col`.
//! - Everything a run draws (processing times, `{random:N}`, the short-poll server sample, message ids and
//!   receipt handles) comes from the seed.
//! - The budget is checked before the run: a document whose producers could send more than
//!   [`MAX_MESSAGES`] messages is refused at the producer that goes past it.

use serde::{Deserialize, Serialize};
use sim_kernel::located::{json_error, Problem, ScenarioError};
use sim_kernel::pace::Pace;
use sim_kernel::processing::Processing;
use sim_kernel::template::{Placeholders, Template};
use sim_kernel::values::{Comparison, Millis, Rate};
use std::collections::{BTreeMap, BTreeSet};

/// The most messages one document's producers may send in one run (the run's budget).
pub const MAX_MESSAGES: u64 = 20_000;

/// An SQS document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqsDocument {
    /// Always 2.
    pub brokerlab: u32,
    /// Always `"sqs"`.
    pub model: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub seed: u64,
    /// How long the run lasts (default 60 s, as for every document).
    #[serde(default = "sixty_seconds")]
    pub duration: Millis,
    /// Whether a short poll of a standard queue samples a subset of SQS's servers (on, as on AWS): off
    /// for a lesson about something else, so every short poll sees every visible message.
    #[serde(default = "yes")]
    pub short_poll_sampling: bool,
    /// Created at 0 in this order (`CreateQueue`), so a dead-letter queue comes before its source.
    #[serde(default)]
    pub queues: Vec<QueueSpec>,
    /// SNS topics created at 0, each with its queue subscriptions.
    #[serde(default)]
    pub topics: Vec<TopicSpec>,
    #[serde(default)]
    pub producers: Vec<ProducerSpec>,
    #[serde(default)]
    pub consumers: Vec<ConsumerSpec>,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
}

fn sixty_seconds() -> Millis {
    Millis(60_000)
}

fn yes() -> bool {
    true
}

/// `CreateQueue(QueueName, Attributes)`: the attributes by their SQS names, as strings
/// (`"VisibilityTimeout": "30"`, `"RedrivePolicy": "{…}"`); SQS validates them when the run starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    pub name: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// `CreateTopic` and its `sqs` subscriptions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    pub name: String,
    #[serde(default)]
    pub subscriptions: Vec<SubscriptionSpec>,
}

/// `Subscribe(Protocol="sqs", Endpoint=<the queue's ARN>)` with `RawMessageDelivery` and `FilterPolicy`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSpec {
    pub queue: String,
    #[serde(default)]
    pub raw_message_delivery: bool,
    /// A filter policy on message attributes, as JSON (an object, or its text).
    #[serde(default)]
    pub filter_policy: Option<serde_json::Value>,
}

/// One rate step of a cycle of bursts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateStep {
    pub rate: Rate,
    #[serde(rename = "for")]
    pub length: Millis,
}

/// A client sending one message per slot: `SendMessage` to a queue, or SNS `Publish` to a topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerSpec {
    pub name: String,
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub topic: Option<String>,
    /// Messages per second (default 1), or `bursts` cycled.
    #[serde(default)]
    pub rate: Option<Rate>,
    #[serde(default)]
    pub bursts: Option<Vec<RateStep>>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub start: Millis,
    #[serde(default)]
    pub stop: Option<Millis>,
    /// `MessageBody` template (default `"{producer}-{seq}"`).
    #[serde(default)]
    pub body: Option<String>,
    /// `MessageAttributes` of data type `String`, by name, each a template.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// `DelaySeconds` per message.
    #[serde(default)]
    pub delay_seconds: Option<i64>,
    /// `MessageGroupId` template (FIFO queues).
    #[serde(default)]
    pub group: Option<String>,
    /// `MessageDeduplicationId` template (FIFO queues without content-based deduplication).
    #[serde(default)]
    pub deduplication_id: Option<String>,
}

/// Extending the visibility timeout while a message is worked on: every `every`,
/// `ChangeMessageVisibility(VisibilityTimeout=visibility_timeout)` for each message of the batch not
/// finished yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatSpec {
    pub every: Millis,
    pub visibility_timeout: i64,
}

/// A consumer: a `ReceiveMessage` loop on one queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSpec {
    pub name: String,
    pub queue: String,
    #[serde(default)]
    pub start: Millis,
    #[serde(default)]
    pub stop: Option<Millis>,
    /// `WaitTimeSeconds` (absent: the queue's `ReceiveMessageWaitTimeSeconds`).
    #[serde(default)]
    pub wait_time_seconds: Option<i64>,
    /// `MaxNumberOfMessages` (default 1).
    #[serde(default)]
    pub max_number_of_messages: Option<i64>,
    /// `VisibilityTimeout` on the receive (absent: the queue's).
    #[serde(default)]
    pub visibility_timeout: Option<i64>,
    /// Time per message, the messages of a batch one after the other.
    #[serde(default)]
    pub processing: Processing,
    /// After a receive that returned nothing, the loop sleeps this long before the next (default 1 s;
    /// a long poll has waited already, so 0 is common there).
    #[serde(default)]
    pub pause_when_empty: Option<Millis>,
    #[serde(default)]
    pub heartbeat: Option<HeartbeatSpec>,
    /// `DeleteMessage` after processing (default true); false leaves every message to come back.
    #[serde(default = "yes")]
    pub delete: bool,
    /// Processing fails (no delete) for a message whose body contains this text: a poison message.
    #[serde(default)]
    pub fails_on: Option<String>,
}

/// A fault or an operator's action at a time; exactly one kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub at: Millis,
    /// The consumer's process dies: no more receives, no deletes, no heartbeats; its messages in flight
    /// come back when their visibility timeouts run out.
    #[serde(default)]
    pub consumer_crash: Option<String>,
    /// `PurgeQueue`.
    #[serde(default)]
    pub purge_queue: Option<String>,
    /// `StartMessageMoveTask`: redrive a dead-letter queue's messages (back to their source queue, or to
    /// `destination`).
    #[serde(default)]
    pub start_message_move_task: Option<MoveTaskSpec>,
    /// `SetQueueAttributes`.
    #[serde(default)]
    pub set_queue_attributes: Option<QueueSpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveTaskSpec {
    /// The dead-letter queue's name.
    pub source: String,
    #[serde(default)]
    pub destination: Option<String>,
    #[serde(default)]
    pub max_number_of_messages_per_second: Option<i64>,
}

/// A queue named by a check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueRef {
    pub queue: String,
}

/// A consumer, or every consumer of a queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Who {
    #[serde(default)]
    pub consumer: Option<String>,
    #[serde(default)]
    pub queue: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerRef {
    pub producer: String,
}

/// A check at a time (default: the end); exactly one kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    #[serde(default)]
    pub at: Option<Millis>,
    #[serde(default)]
    pub description: Option<String>,
    /// `ApproximateNumberOfMessages`: visible now.
    #[serde(default)]
    pub visible: Option<QueueRef>,
    /// `ApproximateNumberOfMessagesNotVisible`: received, visibility timeout running.
    #[serde(default)]
    pub in_flight: Option<QueueRef>,
    /// `ApproximateNumberOfMessagesDelayed`.
    #[serde(default)]
    pub delayed: Option<QueueRef>,
    /// Messages stored in the queue's dead-letter queue (its `RedrivePolicy`'s target).
    #[serde(default)]
    pub dlq_depth: Option<QueueRef>,
    /// The highest `ApproximateReceiveCount` a receive from the queue returned.
    #[serde(default)]
    pub max_receive_count: Option<QueueRef>,
    /// Messages received (every receive counted).
    #[serde(default)]
    pub received: Option<Who>,
    /// Receives that returned no message.
    #[serde(default)]
    pub empty_receives: Option<Who>,
    /// Messages whose processing finished.
    #[serde(default)]
    pub processed: Option<Who>,
    /// Messages deleted (`DeleteMessage` that removed the message).
    #[serde(default)]
    pub deleted: Option<Who>,
    /// Processings of a message (by its message id) that was processed before: work done twice.
    #[serde(default)]
    pub duplicates_processed: Option<Who>,
    /// Per message group, messages processed for the first time in the order they were sent.
    #[serde(default)]
    pub group_order: Option<Who>,
    /// Messages a producer sent (or published) successfully, and sends that failed.
    #[serde(default)]
    pub sent: Option<ProducerRef>,
    #[serde(default)]
    pub failed: Option<ProducerRef>,
    #[serde(default)]
    pub expect: Option<Comparison>,
}

/// The check kinds, in the order a check names one.
pub const CHECK_KINDS: &[&str] = &[
    "visible",
    "in_flight",
    "delayed",
    "dlq_depth",
    "max_receive_count",
    "received",
    "empty_receives",
    "processed",
    "deleted",
    "duplicates_processed",
    "group_order",
    "sent",
    "failed",
];

impl CheckSpec {
    /// The kinds this check names (exactly one is valid).
    pub fn kinds(&self) -> Vec<&'static str> {
        let set = [
            self.visible.is_some(),
            self.in_flight.is_some(),
            self.delayed.is_some(),
            self.dlq_depth.is_some(),
            self.max_receive_count.is_some(),
            self.received.is_some(),
            self.empty_receives.is_some(),
            self.processed.is_some(),
            self.deleted.is_some(),
            self.duplicates_processed.is_some(),
            self.group_order.is_some(),
            self.sent.is_some(),
            self.failed.is_some(),
        ];
        CHECK_KINDS.iter().zip(set).filter(|(_, s)| *s).map(|(k, _)| *k).collect()
    }

    /// The consumer or queue a consumer-side check names.
    pub fn who(&self) -> Option<&Who> {
        [
            &self.received,
            &self.empty_receives,
            &self.processed,
            &self.deleted,
            &self.duplicates_processed,
            &self.group_order,
        ]
        .into_iter()
        .find_map(|w| w.as_ref())
    }

    /// The queue a queue-side check names.
    pub fn queue(&self) -> Option<&QueueRef> {
        [&self.visible, &self.in_flight, &self.delayed, &self.dlq_depth, &self.max_receive_count]
            .into_iter()
            .find_map(|q| q.as_ref())
    }
}

/// A producer template's placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageVar {
    /// The message's number in its producer, from 1.
    Seq,
    Producer,
}

impl Placeholders for MessageVar {
    type Scope = ();
    fn parse(name: &str, _: ()) -> Option<Self> {
        match name {
            "seq" => Some(MessageVar::Seq),
            "producer" => Some(MessageVar::Producer),
            _ => None,
        }
    }
    fn known(_: ()) -> &'static str {
        "{seq}, {producer}, {random:N}"
    }
}

impl ProducerSpec {
    /// The producer's send slots.
    pub fn pace(&self) -> Pace {
        let stop = self.stop.map(|s| s.0);
        match &self.bursts {
            Some(steps) => Pace::new(
                steps.iter().map(|s| (s.rate.per_kilosecond, s.length.0)).collect(),
                self.start.0,
                stop,
            ),
            None => {
                Pace::constant(self.rate.unwrap_or(Rate::per_second(1)).per_kilosecond, self.start.0, stop)
            }
        }
    }
}

impl SqsDocument {
    /// Reads and checks a document (without a byte-order mark or with one).
    pub fn parse(text: &str) -> Result<SqsDocument, ScenarioError> {
        let text = sim_kernel::located::strip_bom(text);
        let document: SqsDocument = serde_json::from_str(text).map_err(json_error)?;
        document.validate().map_err(|p| p.into_error(Some(text)))?;
        Ok(document)
    }

    /// The checks that need no service (attribute values and redrive policies are SQS's to refuse, when
    /// the run creates the queues).
    pub fn validate(&self) -> Result<(), Problem> {
        if self.model != "sqs" {
            return Err(Problem::new("model", "an SQS document has \"model\": \"sqs\""));
        }
        if self.duration.0 == 0 {
            return Err(Problem::new("duration", "a run lasts more than 0 ms"));
        }
        let mut queues = BTreeSet::new();
        for (i, q) in self.queues.iter().enumerate() {
            if !queues.insert(q.name.as_str()) {
                return Err(Problem::new(
                    format!("queues[{i}].name"),
                    format!("queue '{}' is named twice", q.name),
                ));
            }
        }
        let queue_known = |path: String, name: &str| -> Result<(), Problem> {
            if queues.contains(name) {
                Ok(())
            } else {
                Err(Problem::new(path, format!("no queue '{name}' in queues")))
            }
        };
        let mut topics = BTreeSet::new();
        for (i, t) in self.topics.iter().enumerate() {
            if !topics.insert(t.name.as_str()) {
                return Err(Problem::new(
                    format!("topics[{i}].name"),
                    format!("topic '{}' is named twice", t.name),
                ));
            }
            for (j, s) in t.subscriptions.iter().enumerate() {
                queue_known(format!("topics[{i}].subscriptions[{j}].queue"), &s.queue)?;
                if let Some(p) = &s.filter_policy {
                    if !(p.is_object() || p.is_string()) {
                        return Err(Problem::new(
                            format!("topics[{i}].subscriptions[{j}].filter_policy"),
                            "a filter policy is a JSON object (or its text)",
                        ));
                    }
                }
            }
        }
        let mut names = BTreeSet::new();
        let mut budget: u128 = 0;
        for (i, p) in self.producers.iter().enumerate() {
            let path = format!("producers[{i}]");
            if p.name.is_empty() || !names.insert(p.name.as_str()) {
                return Err(Problem::new(
                    format!("{path}.name"),
                    format!("a producer needs a name of its own, not '{}'", p.name),
                ));
            }
            match (&p.queue, &p.topic) {
                (Some(q), None) => queue_known(format!("{path}.queue"), q)?,
                (None, Some(t)) if topics.contains(t.as_str()) => {}
                (None, Some(t)) => {
                    return Err(Problem::new(format!("{path}.topic"), format!("no topic '{t}' in topics")))
                }
                _ => {
                    return Err(Problem::new(
                        path,
                        "a producer sends to a queue or publishes to a topic: give one",
                    ))
                }
            }
            if p.rate.is_some() && p.bursts.is_some() {
                return Err(Problem::new(format!("{path}.bursts"), "give a rate or bursts, not both"));
            }
            if p.bursts.as_ref().is_some_and(|b| b.is_empty() || b.iter().any(|s| s.length.0 == 0)) {
                return Err(Problem::new(format!("{path}.bursts"), "bursts are steps of more than 0 ms"));
            }
            for (field, t) in
                [("body", &p.body), ("group", &p.group), ("deduplication_id", &p.deduplication_id)]
            {
                if let Some(t) = t {
                    Template::<MessageVar>::compile(t, ())
                        .map_err(|e| Problem::new(format!("{path}.{field}"), e))?;
                }
            }
            for (k, t) in &p.attributes {
                Template::<MessageVar>::compile(t, ())
                    .map_err(|e| Problem::new(format!("{path}.attributes.{k}"), e))?;
            }
            let steps: Vec<(u64, u64)> = match &p.bursts {
                Some(b) => b.iter().map(|s| (s.rate.per_kilosecond, s.length.0)).collect(),
                None => vec![(p.rate.unwrap_or(Rate::per_second(1)).per_kilosecond, u64::MAX)],
            };
            let end = p.stop.map_or(self.duration.0, |s| s.0.min(self.duration.0));
            let window = u128::from(end.saturating_sub(p.start.0)) + 1;
            let slots = Pace::slot_bound(&steps, window);
            budget += p.count.map_or(slots, |c| slots.min(u128::from(c)));
            if budget > u128::from(MAX_MESSAGES) {
                return Err(Problem::new(
                    path,
                    format!("the producers could send more than {MAX_MESSAGES} messages in this run; lower a rate, a count or the duration"),
                ));
            }
        }
        for (i, c) in self.consumers.iter().enumerate() {
            let path = format!("consumers[{i}]");
            if c.name.is_empty() || names.contains(c.name.as_str()) || !names.insert(c.name.as_str()) {
                return Err(Problem::new(
                    format!("{path}.name"),
                    format!("a consumer needs a name of its own, not '{}'", c.name),
                ));
            }
            queue_known(format!("{path}.queue"), &c.queue)?;
            if let Some(h) = &c.heartbeat {
                if h.every.0 == 0 {
                    return Err(Problem::new(
                        format!("{path}.heartbeat.every"),
                        "a heartbeat comes every more than 0 ms",
                    ));
                }
            }
            let long_poll = c.wait_time_seconds.is_some_and(|w| w > 0)
                || self.queues.iter().any(|q| {
                    q.name == c.queue
                        && q.attributes.get("ReceiveMessageWaitTimeSeconds").is_some_and(|w| w.trim() != "0")
                });
            if c.pause_when_empty == Some(Millis(0)) && !long_poll {
                return Err(Problem::new(
                    format!("{path}.pause_when_empty"),
                    "a short-polling loop that never pauses would receive for ever at one instant; pause more than 0 ms",
                ));
            }
        }
        let consumers: BTreeSet<&str> = self.consumers.iter().map(|c| c.name.as_str()).collect();
        let producers: BTreeSet<&str> = self.producers.iter().map(|p| p.name.as_str()).collect();
        for (i, f) in self.faults.iter().enumerate() {
            let path = format!("faults[{i}]");
            let kinds = [
                f.consumer_crash.is_some(),
                f.purge_queue.is_some(),
                f.start_message_move_task.is_some(),
                f.set_queue_attributes.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(Problem::new(
                    path,
                    "a fault is one of consumer_crash, purge_queue, start_message_move_task, set_queue_attributes",
                ));
            }
            if let Some(c) = &f.consumer_crash {
                if !consumers.contains(c.as_str()) {
                    return Err(Problem::new(format!("{path}.consumer_crash"), format!("no consumer '{c}'")));
                }
            }
            if let Some(q) = &f.purge_queue {
                queue_known(format!("{path}.purge_queue"), q)?;
            }
            if let Some(m) = &f.start_message_move_task {
                queue_known(format!("{path}.start_message_move_task.source"), &m.source)?;
                if let Some(d) = &m.destination {
                    queue_known(format!("{path}.start_message_move_task.destination"), d)?;
                }
            }
            if let Some(s) = &f.set_queue_attributes {
                queue_known(format!("{path}.set_queue_attributes.name"), &s.name)?;
            }
        }
        for (i, c) in self.checks.iter().enumerate() {
            let path = format!("checks[{i}]");
            let kinds = c.kinds();
            if kinds.len() != 1 {
                return Err(Problem::new(
                    path,
                    format!("a check names exactly one of {}", CHECK_KINDS.join(", ")),
                ));
            }
            let kind = kinds[0];
            if let Some(q) = c.queue() {
                queue_known(format!("{path}.{kind}.queue"), &q.queue)?;
            }
            if let Some(w) = c.who() {
                match (&w.consumer, &w.queue) {
                    (Some(name), None) if consumers.contains(name.as_str()) => {}
                    (Some(name), None) => {
                        return Err(Problem::new(
                            format!("{path}.{kind}.consumer"),
                            format!("no consumer '{name}'"),
                        ))
                    }
                    (None, Some(q)) => queue_known(format!("{path}.{kind}.queue"), q)?,
                    _ => {
                        return Err(Problem::new(
                            format!("{path}.{kind}"),
                            "name a consumer or a queue (its consumers)",
                        ))
                    }
                }
            }
            if let Some(p) = c.sent.as_ref().or(c.failed.as_ref()) {
                if !producers.contains(p.producer.as_str()) {
                    return Err(Problem::new(
                        format!("{path}.{kind}.producer"),
                        format!("no producer '{}'", p.producer),
                    ));
                }
            }
            let counting = kind != "group_order";
            if counting && c.expect.is_none() {
                return Err(Problem::new(
                    path,
                    format!("a {kind} check needs \"expect\": a number or a comparison"),
                ));
            }
            if !counting && c.expect.is_some() {
                return Err(Problem::new(
                    format!("{path}.expect"),
                    "a group_order check passes or fails; it has no \"expect\"",
                ));
            }
            if c.at.is_some_and(|a| a.0 > self.duration.0) {
                return Err(Problem::new(
                    format!("{path}.at"),
                    "a check after the run's end would never be decided",
                ));
            }
        }
        Ok(())
    }
}
