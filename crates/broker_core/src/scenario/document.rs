//! Scenario documents (format 2): the JSON types, their parsing, and the checks made before anything runs.
//!
//! A document carries a topology (RabbitMQ's `definitions.json` shape), actors (producers and consumers
//! driven by knobs or scripts), faults and checks. [`Document::parse`] reports a malformed document with
//! `line:col` (serde_json locates syntax errors, unknown fields and wrong types) and a semantic problem
//! (an unknown queue, a script that does not exist, an argument RabbitMQ would refuse) with the JSON
//! path of the offending value and, found again in the text, its `line:col`. The format is described for
//! users in `docs/scenario-format.md` ("Format 2").

use super::{Pos, ScenarioError};
use crate::amqp::definitions::Definitions;
use crate::amqp::types::FieldTable;
use serde::{Deserialize, Serialize};
use sim_kernel::template::Placeholders;
use std::collections::{BTreeMap, BTreeSet};

// The values, processing times, JSON paths and located problems are the kernel's (every model's
// documents use them); they keep their paths here.
pub use sim_kernel::located::{json_error, locate, locate_nearest, Problem};
pub use sim_kernel::processing::{Distribution, Processing};
pub use sim_kernel::values::{Comparison, Millis, Op, Rate, Ratio};

/// A template of this model: `{seq}`, `{random:N}`, `{actor}` and, in an RPC reply, `{body}` and
/// `{correlation_id}` (see [`Placeholder`]).
pub type Template = sim_kernel::template::Template<Placeholder>;
pub type TemplatePart = sim_kernel::template::TemplatePart<Placeholder>;

/// The placeholders of this model's templates besides the kernel's `{random:N}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placeholder {
    /// `{seq}`: the actor's message number (from 1).
    Seq,
    /// `{actor}`: the actor's name.
    Actor,
    /// `{body}` (replies only): the request's body.
    Body,
    /// `{correlation_id}` (replies only): the request's `correlation_id`.
    CorrelationId,
}

impl Placeholders for Placeholder {
    /// Whether the template is an RPC reply's body.
    type Scope = bool;

    fn parse(name: &str, reply: bool) -> Option<Placeholder> {
        match name {
            "seq" => Some(Placeholder::Seq),
            "actor" => Some(Placeholder::Actor),
            "body" if reply => Some(Placeholder::Body),
            "correlation_id" if reply => Some(Placeholder::CorrelationId),
            _ => None,
        }
    }

    fn known(reply: bool) -> &'static str {
        if reply {
            "{seq}, {random:N}, {actor}, {body}, {correlation_id}"
        } else {
            "{seq}, {random:N}, {actor}"
        }
    }
}

/// The format version a document declares in `"brokerlab": 2`.
pub const DOCUMENT_VERSION: u32 = 2;

/// The broker models a document can be written for (its `"model"` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelName {
    /// RabbitMQ's AMQP 0-9-1 ([`crate::amqp`]); what a document without `"model"` is.
    Amqp,
    /// Apache Kafka.
    Kafka,
    /// Amazon SQS (with SNS's fan-out to it), played by `crate::sqs::scenario`.
    Sqs,
    /// Redis as a message broker (lists, pub/sub, streams), played by `crate::redis::scenario`.
    Redis,
}

impl ModelName {
    /// Every model, in the order error texts list them.
    pub const ALL: [ModelName; 4] = [ModelName::Amqp, ModelName::Kafka, ModelName::Sqs, ModelName::Redis];

    /// The name a document writes (`"amqp"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ModelName::Amqp => "amqp",
            ModelName::Kafka => "kafka",
            ModelName::Sqs => "sqs",
            ModelName::Redis => "redis",
        }
    }

    /// What the name stands for, for error texts.
    fn system(self) -> &'static str {
        match self {
            ModelName::Amqp => "RabbitMQ's AMQP 0-9-1",
            ModelName::Kafka => "Apache Kafka",
            ModelName::Sqs => "Amazon SQS",
            ModelName::Redis => "Redis",
        }
    }

    /// `"amqp" (RabbitMQ's AMQP 0-9-1), "kafka" (Apache Kafka), "sqs" (Amazon SQS), "redis" (Redis)`.
    fn known_list() -> String {
        ModelName::ALL
            .iter()
            .map(|m| format!("\"{}\" ({})", m.as_str(), m.system()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Which model a scenario document is written for, read before anything else of it: the dispatch every
/// caller (the native runner, the page) makes before choosing the document type and runtime. The
/// document's envelope is checked on the way (JSON, an object, `"brokerlab": 2`); a `"model"` that is
/// not a known model's name is refused, located at the field, with the known models listed.
pub fn model_of(text: &str) -> Result<ModelName, ScenarioError> {
    envelope(super::strip_bom(text))
}

/// The checks every model's document shares (`text` without a byte-order mark), and its model.
fn envelope(text: &str) -> Result<ModelName, ScenarioError> {
    // The version first, so a newer document fails on its version and not on a field this runner
    // does not know.
    let value: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
    let Some(object) = value.as_object() else {
        return Err(ScenarioError::new(Pos::new(1, 1), "a scenario document is a JSON object"));
    };
    match object.get("brokerlab") {
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(u64::from(DOCUMENT_VERSION)) => {}
        Some(other) => {
            return Err(Problem::new(
                "brokerlab",
                format!("unsupported format version {other}; this runner reads {DOCUMENT_VERSION}"),
            )
            .into_error(Some(text)))
        }
        None => {
            return Err(ScenarioError::new(
                Pos::new(1, 1),
                format!("missing \"brokerlab\": {DOCUMENT_VERSION} (the format version)"),
            ))
        }
    }
    match object.get("model") {
        None => Ok(ModelName::Amqp),
        Some(serde_json::Value::String(name)) => {
            ModelName::ALL.into_iter().find(|m| m.as_str() == name).ok_or_else(|| {
                Problem::new(
                    "model",
                    format!("unknown model '{name}'; the models are {}", ModelName::known_list()),
                )
                .into_error(Some(text))
            })
        }
        Some(other) => Err(Problem::new(
            "model",
            format!("a model is a name in a string, not {other}; the models are {}", ModelName::known_list()),
        )
        .into_error(Some(text))),
    }
}

/// Another model's document reached the RabbitMQ document type: its own runtime plays it (for Kafka,
/// `crate::kafka::scenario`, which the native runner dispatches to by [`model_of`]).
fn runtime_missing(model: ModelName) -> Problem {
    Problem::new(
        "model",
        format!(
            "this is {} {} document; it is played by the {} runtime, not read as an \"{}\" document",
            if model == ModelName::Redis { "a" } else { "an" },
            model.system(),
            model.as_str(),
            ModelName::Amqp.as_str()
        ),
    )
}

/// A scenario document, format 2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The format version; always [`DOCUMENT_VERSION`].
    pub brokerlab: u32,
    /// The broker model the document is written for; absent means [`ModelName::Amqp`], so every
    /// document written before models existed (saved workspaces, permalinks, the bundled library) reads
    /// unchanged. This type is the AMQP document: any other model is refused by [`Document::validate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelName>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub seed: u64,
    /// How long the scenario runs (virtual time).
    #[serde(default = "default_duration")]
    pub duration: Millis,
    /// A RabbitMQ `definitions.json` (exchanges, queues, bindings, policies, …), imported before time
    /// starts with [`crate::amqp::definitions::import`].
    #[serde(default)]
    pub definitions: Definitions,
    #[serde(default)]
    pub producers: Vec<Producer>,
    #[serde(default)]
    pub consumers: Vec<Consumer>,
    /// Scripts by name, referred to by actors' `script` fields.
    #[serde(default)]
    pub scripts: BTreeMap<String, String>,
    #[serde(default)]
    pub faults: Vec<Fault>,
    #[serde(default)]
    pub checks: Vec<Check>,
}

fn default_duration() -> Millis {
    Millis(60_000)
}

/// A producer: publishes on its own connection and channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Producer {
    pub name: String,
    /// The exchange published to (`""`, the default exchange, unless set).
    #[serde(default)]
    pub exchange: String,
    /// A template: `{seq}`, `{random:N}`, `{actor}`.
    #[serde(default)]
    pub routing_key: String,
    /// A template for the body (default `"{actor} #{seq}"`).
    #[serde(default)]
    pub body: Option<String>,
    /// Pads (with `.`) or cuts the rendered body to exactly this many bytes.
    #[serde(default)]
    pub body_size: Option<usize>,
    #[serde(default)]
    pub properties: MessageProperties,
    /// Messages per second (fractions allowed). Absent with no `rate_schedule` and no `bursts`: the
    /// producer publishes `count` messages as fast as its confirm strategy lets it.
    #[serde(default)]
    pub rate: Option<Rate>,
    /// Rate-for-duration steps, repeated in a cycle (PerfTest's `--variable-rate RATE:DURATION`).
    #[serde(default)]
    pub rate_schedule: Vec<RateStep>,
    /// Extra messages published at once at given times.
    #[serde(default)]
    pub bursts: Vec<Burst>,
    /// Stop after this many messages.
    #[serde(default)]
    pub count: Option<u64>,
    /// Stop publishing this long after `start`.
    #[serde(default)]
    pub duration: Option<Millis>,
    #[serde(default)]
    pub start: Millis,
    #[serde(default)]
    pub confirms: Option<Confirms>,
    #[serde(default)]
    pub mandatory: bool,
    /// A script whose `on_tick` publishes instead of the knobs above (once per publish slot: the pacing
    /// knobs and `count` still apply).
    #[serde(default)]
    pub script: Option<String>,
    /// One-way delay between this client and the broker, each direction.
    #[serde(default)]
    pub latency: Millis,
    /// After a dropped connection or a broker restart the client reconnects this much later.
    #[serde(default = "default_reconnect")]
    pub reconnect_after: Millis,
}

fn default_reconnect() -> Millis {
    Millis(1_000)
}

/// Message properties a producer sets (AMQP `basic` properties, in the broker's vocabulary).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessageProperties {
    /// `delivery_mode` 2.
    pub persistent: bool,
    /// Per-message TTL (AMQP `expiration`).
    pub expiration: Option<Millis>,
    pub priority: Option<u8>,
    pub reply_to: Option<String>,
    /// A template, like the routing key.
    pub correlation_id: Option<String>,
    /// A template, like the routing key.
    pub message_id: Option<String>,
    pub content_type: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub app_id: Option<String>,
    pub headers: FieldTable,
}

/// One step of a rate schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateStep {
    pub rate: Rate,
    pub duration: Millis,
}

/// `count` messages published at once at `at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    pub at: Millis,
    pub count: u64,
}

/// Publisher confirms and how the producer waits for them (RabbitMQ tutorial 7's three strategies).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirms {
    pub strategy: ConfirmStrategy,
    /// `batch`: messages published before waiting for all their confirms.
    #[serde(default = "default_batch_size")]
    pub batch_size: u64,
    /// `async`: the most messages published and not yet confirmed.
    #[serde(default = "default_max_outstanding")]
    pub max_outstanding: u64,
}

fn default_batch_size() -> u64 {
    100
}
fn default_max_outstanding() -> u64 {
    1_000
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmStrategy {
    /// Publish one message, wait for its confirm, publish the next.
    Individual,
    /// Publish `batch_size` messages, wait for all their confirms.
    Batch,
    /// Keep publishing while fewer than `max_outstanding` are unconfirmed.
    Async,
}

/// A consumer: consumes on its own connection and channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    pub name: String,
    /// The queue consumed from (or use `queues`, or `declare`).
    #[serde(default)]
    pub queue: Option<String>,
    /// Several queues, one consumer each on the same channel.
    #[serde(default)]
    pub queues: Vec<String>,
    /// A queue this consumer declares on its own connection (`""`: server-named) and consumes from.
    #[serde(default)]
    pub declare: Option<QueueDeclaration>,
    /// Bindings of the declared queue.
    #[serde(default)]
    pub bind: Vec<QueueBinding>,
    /// `basic.qos` prefetch count (0 = unlimited).
    #[serde(default)]
    pub prefetch: u16,
    /// Prefetch per channel (`basic.qos` with `global=true`) rather than per consumer.
    #[serde(default)]
    pub prefetch_global: bool,
    #[serde(default)]
    pub auto_ack: bool,
    #[serde(default)]
    pub exclusive: bool,
    /// `basic.consume` arguments (e.g. `x-priority`).
    #[serde(default)]
    pub arguments: FieldTable,
    /// Time spent on each message before deciding.
    #[serde(default)]
    pub processing: Processing,
    /// Rules tried in order for each message; the first that matches decides.
    #[serde(default)]
    pub decisions: Vec<DecisionRule>,
    /// The decision when no rule matches.
    #[serde(default)]
    pub default_decision: Action,
    /// An RPC server: replies to `reply_to` with the `correlation_id` before acking.
    #[serde(default)]
    pub reply: Option<Reply>,
    /// A script whose `on_message` decides instead of `decisions`.
    #[serde(default)]
    pub script: Option<String>,
    #[serde(default)]
    pub start: Millis,
    /// The consumer closes its connection at this time.
    #[serde(default)]
    pub stop: Option<Millis>,
    /// A crashed consumer comes back this much later (absent: it stays down).
    #[serde(default)]
    pub restart_after: Option<Millis>,
    /// One-way delay between this client and the broker, each direction.
    #[serde(default)]
    pub latency: Millis,
    /// After a dropped connection or a broker restart the client reconnects this much later.
    #[serde(default = "default_reconnect")]
    pub reconnect_after: Millis,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueDeclaration {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub durable: bool,
    #[serde(default)]
    pub exclusive: bool,
    #[serde(default)]
    pub auto_delete: bool,
    #[serde(default)]
    pub arguments: FieldTable,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueBinding {
    pub exchange: String,
    #[serde(default)]
    pub routing_key: String,
    #[serde(default)]
    pub arguments: FieldTable,
}

/// An RPC server's reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// A template: `{body}` (the request's body), `{seq}`, `{actor}`, `{correlation_id}`.
    #[serde(default = "default_reply_body")]
    pub body: String,
}

fn default_reply_body() -> String {
    "{body}".to_string()
}

/// What a consumer does with a message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    #[default]
    Ack,
    Nack,
    Reject,
    /// The consumer crashes holding the message: its connection closes without acking.
    Crash,
    /// `basic.cancel`; the message in hand and those already delivered are still acked.
    Cancel,
}

/// A per-message rule: `action` when every condition given holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRule {
    pub action: Action,
    /// For `nack` and `reject` (AMQP's default: true).
    #[serde(default = "default_true")]
    pub requeue: bool,
    /// Every Nth message this consumer receives (1-based: the Nth, 2Nth, …).
    #[serde(default)]
    pub every: Option<u64>,
    /// With probability `"p/q"` (seeded).
    #[serde(default)]
    pub probability: Option<Ratio>,
    /// Only redeliveries (`true`) or only first deliveries (`false`).
    #[serde(default)]
    pub redelivered: Option<bool>,
}

fn default_true() -> bool {
    true
}

/// A fault injected into the run: exactly one of `crash`, `drop_connection`, `restart_broker`, `latency`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    #[serde(default)]
    pub at: Option<Millis>,
    /// With `crash`: the consumer crashes on receiving its Nth message instead of at a time.
    #[serde(default)]
    pub after_messages: Option<u64>,
    /// A consumer crashes: its connection closes without acking what it holds.
    #[serde(default)]
    pub crash: Option<String>,
    /// An actor's connection drops; it reconnects after its `reconnect_after`.
    #[serde(default)]
    pub drop_connection: Option<String>,
    #[serde(default)]
    pub restart_broker: bool,
    /// Sets `client`'s one-way latency from `at` on.
    #[serde(default)]
    pub latency: Option<Millis>,
    #[serde(default)]
    pub client: Option<String>,
}

/// An assertion about the run: exactly one kind (queue depth, count, order, redeliveries, all acked).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// When the check is evaluated (after everything at that instant); absent: at the end of the run.
    #[serde(default)]
    pub at: Option<Millis>,
    /// Queue depth: the queue, with one of `messages` (ready + unacked), `ready`, `unacked`.
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub messages: Option<Comparison>,
    #[serde(default)]
    pub ready: Option<Comparison>,
    #[serde(default)]
    pub unacked: Option<Comparison>,
    /// How many events match, compared with `is`.
    #[serde(default)]
    pub count: Option<EventMatch>,
    #[serde(default)]
    pub is: Option<Comparison>,
    /// Order: the first event matching `first` came before the first matching `then`.
    #[serde(default)]
    pub first: Option<EventMatch>,
    #[serde(default)]
    pub then: Option<EventMatch>,
    /// A consumer received no message redelivered more than `redelivered_at_most` times.
    #[serde(default)]
    pub consumer: Option<String>,
    #[serde(default)]
    pub redelivered_at_most: Option<u64>,
    /// Every message the producers published was acked by a consumer.
    #[serde(default)]
    pub all_published_acked: bool,
    /// Every message the producers published was confirmed to its producer.
    #[serde(default)]
    pub all_published_confirmed: bool,
    /// Shown with the result.
    #[serde(default)]
    pub description: Option<String>,
}

/// Which events a check counts or orders: the event kind (its `event` tag) and optional filters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventMatch {
    pub event: String,
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub exchange: Option<String>,
    #[serde(default)]
    pub routing_key: Option<String>,
    /// A drop or dead-letter reason (`expired`, `rejected`, `maxlen`, `delivery_limit`, …).
    #[serde(default)]
    pub reason: Option<String>,
    /// Events on this actor's connections.
    #[serde(default)]
    pub actor: Option<String>,
}

impl sim_kernel::EventPattern for EventMatch {
    fn kind(&self) -> &str {
        &self.event
    }

    fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("queue", &self.queue),
            ("exchange", &self.exchange),
            ("routing_key", &self.routing_key),
            ("reason", &self.reason),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
    }

    fn actor(&self) -> Option<&str> {
        self.actor.as_deref()
    }
}

/// The event kinds (`event` tags) a check may name: the events' own list ([`Event::KINDS`](crate::amqp::Event::KINDS)).
pub const EVENT_KINDS: &[&str] = crate::amqp::Event::KINDS;

impl Document {
    /// Parses and checks a document. Errors carry `line:col`; semantic ones start with the JSON path.
    pub fn parse(text: &str) -> Result<Document, ScenarioError> {
        // A byte-order mark is accepted and ignored, as RFC 8259 allows: editors on Windows write one.
        let text = super::strip_bom(text);
        // The envelope and the model first: this type is the AMQP document, and another model's fields
        // would only be reported as unknown here.
        match envelope(text)? {
            ModelName::Amqp => {}
            other => return Err(runtime_missing(other).into_error(Some(text))),
        }
        let document: Document = serde_json::from_str(text).map_err(json_error)?;
        document.validate().map_err(|p| p.into_error(Some(text)))?;
        Ok(document)
    }

    /// The checks that need no broker: names, references, templates, one kind per fault and check.
    /// (Arguments RabbitMQ would refuse are found when the simulation imports the definitions.)
    pub fn validate(&self) -> Result<(), Problem> {
        if self.brokerlab != DOCUMENT_VERSION {
            return Err(Problem::new(
                "brokerlab",
                format!(
                    "unsupported format version {}; this runner reads {DOCUMENT_VERSION}",
                    self.brokerlab
                ),
            ));
        }
        if let Some(model) = self.model.filter(|m| *m != ModelName::Amqp) {
            return Err(runtime_missing(model));
        }
        let mut actors = BTreeSet::new();
        let named =
            self.producers.iter().enumerate().map(|(i, p)| (format!("producers[{i}].name"), &p.name)).chain(
                self.consumers.iter().enumerate().map(|(i, c)| (format!("consumers[{i}].name"), &c.name)),
            );
        for (path, name) in named {
            if name.is_empty() {
                return Err(Problem::new(path, "an actor needs a name"));
            }
            if !actors.insert(name.as_str()) {
                return Err(Problem::new(path, format!("two actors are named '{name}'")));
            }
        }
        let exchanges: BTreeSet<&str> =
            ["", "amq.direct", "amq.fanout", "amq.headers", "amq.match", "amq.topic"]
                .into_iter()
                .chain(self.definitions.exchanges.iter().map(|x| x.name.as_str()))
                .collect();
        let mut queues: BTreeSet<&str> = BTreeSet::new(); // not `collect`: see crate::order
        queues.extend(self.definitions.queues.iter().map(|q| q.name.as_str()));
        for c in &self.consumers {
            if let Some(d) = &c.declare {
                queues.insert(d.name.as_str());
            }
        }
        for (i, p) in self.producers.iter().enumerate() {
            let at = |field: &str| format!("producers[{i}].{field}");
            if !exchanges.contains(p.exchange.as_str()) {
                return Err(Problem::new(
                    at("exchange"),
                    format!("no exchange '{}' in the definitions", p.exchange),
                ));
            }
            Template::compile(&p.routing_key, false).map_err(|m| Problem::new(at("routing_key"), m))?;
            // The key's fixed text alone must fit a short string (placeholders render at run time).
            let literal: String = p
                .routing_key
                .split('{')
                .enumerate()
                .map(
                    |(k, part)| {
                        if k == 0 {
                            part
                        } else {
                            part.split_once('}').map_or(part, |(_, rest)| rest)
                        }
                    },
                )
                .collect();
            crate::amqp::check_short_string("routing_key", &literal)
                .map_err(|e| Problem::new(at("routing_key"), e.to_string()))?;
            // Refused here, before a body of that size is ever allocated: RabbitMQ would refuse each
            // publish anyway (406, `max_message_size`).
            if let Some(size) = p.body_size.filter(|s| *s as u64 > crate::amqp::DEFAULT_MAX_MESSAGE_SIZE) {
                return Err(Problem::new(
                    at("body_size"),
                    format!(
                        "body_size {size} is larger than RabbitMQ's max message size {} bytes",
                        crate::amqp::DEFAULT_MAX_MESSAGE_SIZE
                    ),
                ));
            }
            if let Some(body) = &p.body {
                Template::compile(body, false).map_err(|m| Problem::new(at("body"), m))?;
            }
            for (field, t) in
                [("correlation_id", &p.properties.correlation_id), ("message_id", &p.properties.message_id)]
            {
                if let Some(t) = t {
                    Template::compile(t, false)
                        .map_err(|m| Problem::new(at(&format!("properties.{field}")), m))?;
                }
            }
            if p.rate.is_some() && !p.rate_schedule.is_empty() {
                return Err(Problem::new(
                    at("rate_schedule"),
                    "give either 'rate' or 'rate_schedule', not both",
                ));
            }
            for (s, step) in p.rate_schedule.iter().enumerate() {
                if step.duration.0 == 0 {
                    return Err(Problem::new(
                        at(&format!("rate_schedule[{s}].duration")),
                        "a step needs a duration",
                    ));
                }
            }
            let paced = p.rate.is_some() || !p.rate_schedule.is_empty() || !p.bursts.is_empty();
            if !paced && p.count.is_none() {
                return Err(Problem::new(
                    at("name"),
                    "a producer needs a 'rate', a 'rate_schedule', 'bursts' or a 'count' (published at once)",
                ));
            }
            if let Some(c) = &p.confirms {
                if c.batch_size == 0 {
                    return Err(Problem::new(at("confirms.batch_size"), "batch_size must be at least 1"));
                }
                if c.max_outstanding == 0 {
                    return Err(Problem::new(
                        at("confirms.max_outstanding"),
                        "max_outstanding must be at least 1",
                    ));
                }
            }
            if let Some(s) = &p.script {
                if !self.scripts.contains_key(s) {
                    return Err(Problem::new(at("script"), format!("no script named '{s}' in 'scripts'")));
                }
            }
        }
        for (i, c) in self.consumers.iter().enumerate() {
            let at = |field: &str| format!("consumers[{i}].{field}");
            let sources = usize::from(c.queue.is_some())
                + usize::from(!c.queues.is_empty())
                + usize::from(c.declare.is_some());
            if sources != 1 {
                return Err(Problem::new(
                    at("name"),
                    "a consumer needs exactly one of 'queue', 'queues', 'declare'",
                ));
            }
            // The consumer tag (the actor's name) and a queue name are AMQP short strings (the client
            // refuses a longer one before sending).
            crate::amqp::check_short_string("consumer_tag", &c.name)
                .map_err(|e| Problem::new(at("name"), e.to_string()))?;
            if let Some(d) = &c.declare {
                crate::amqp::check_short_string("queue", &d.name)
                    .map_err(|e| Problem::new(at("declare.name"), e.to_string()))?;
            }
            let named: Vec<(String, &String)> = match &c.queue {
                Some(q) => vec![(at("queue"), q)],
                None => c.queues.iter().enumerate().map(|(k, q)| (at(&format!("queues[{k}]")), q)).collect(),
            };
            for (path, q) in named {
                if !queues.contains(q.as_str()) {
                    return Err(Problem::new(
                        path,
                        format!("no queue '{q}' in the definitions or declared by a consumer"),
                    ));
                }
            }
            if !c.bind.is_empty() && c.declare.is_none() {
                return Err(Problem::new(at("bind"), "'bind' binds the queue of 'declare'"));
            }
            for (k, b) in c.bind.iter().enumerate() {
                if !exchanges.contains(b.exchange.as_str()) {
                    return Err(Problem::new(
                        at(&format!("bind[{k}].exchange")),
                        format!("no exchange '{}' in the definitions", b.exchange),
                    ));
                }
            }
            if let Processing::Random(Distribution::Uniform([lo, hi])) = &c.processing {
                if lo > hi {
                    return Err(Problem::new(
                        at("processing.uniform"),
                        "the first bound is above the second",
                    ));
                }
            }
            for (k, rule) in c.decisions.iter().enumerate() {
                if rule.every == Some(0) {
                    return Err(Problem::new(
                        at(&format!("decisions[{k}].every")),
                        "every must be at least 1",
                    ));
                }
            }
            if let Some(r) = &c.reply {
                Template::compile(&r.body, true).map_err(|m| Problem::new(at("reply.body"), m))?;
            }
            if let Some(s) = &c.script {
                if !self.scripts.contains_key(s) {
                    return Err(Problem::new(at("script"), format!("no script named '{s}' in 'scripts'")));
                }
            }
            if let Some(stop) = c.stop {
                if stop < c.start {
                    return Err(Problem::new(at("stop"), "the consumer stops before it starts"));
                }
            }
        }
        let mut consumer_names: BTreeSet<&str> = BTreeSet::new(); // not `collect`: see crate::order
        consumer_names.extend(self.consumers.iter().map(|c| c.name.as_str()));
        for (i, f) in self.faults.iter().enumerate() {
            let at = |field: &str| format!("faults[{i}].{field}");
            let kinds = usize::from(f.crash.is_some())
                + usize::from(f.drop_connection.is_some())
                + usize::from(f.restart_broker)
                + usize::from(f.latency.is_some());
            if kinds != 1 {
                return Err(Problem::new(
                    format!("faults[{i}]"),
                    "a fault needs exactly one of 'crash', 'drop_connection', 'restart_broker', 'latency'",
                ));
            }
            if let Some(name) = &f.crash {
                if !consumer_names.contains(name.as_str()) {
                    return Err(Problem::new(at("crash"), format!("no consumer named '{name}'")));
                }
                if f.at.is_some() == f.after_messages.is_some() {
                    return Err(Problem::new(
                        at("crash"),
                        "a crash needs exactly one of 'at' and 'after_messages'",
                    ));
                }
                if f.after_messages == Some(0) {
                    // Deliveries are counted from 1, so a crash "after 0 messages" could never fire.
                    return Err(Problem::new(
                        at("after_messages"),
                        "after_messages counts deliveries from 1 (the consumer crashes on receiving its Nth \
                         message), so 0 would never fire; to crash before any message, use 'at'",
                    ));
                }
            } else {
                if f.after_messages.is_some() {
                    return Err(Problem::new(at("after_messages"), "'after_messages' goes with 'crash'"));
                }
                if f.at.is_none() {
                    return Err(Problem::new(format!("faults[{i}]"), "this fault needs 'at'"));
                }
            }
            if let Some(name) = &f.drop_connection {
                if !actors.contains(name.as_str()) {
                    return Err(Problem::new(at("drop_connection"), format!("no actor named '{name}'")));
                }
            }
            match (&f.latency, &f.client) {
                (Some(_), Some(name)) if !actors.contains(name.as_str()) => {
                    return Err(Problem::new(at("client"), format!("no actor named '{name}'")))
                }
                (Some(_), None) => {
                    return Err(Problem::new(at("latency"), "a latency fault names its 'client'"))
                }
                (None, Some(_)) => return Err(Problem::new(at("client"), "'client' goes with 'latency'")),
                _ => {}
            }
        }
        for (i, c) in self.checks.iter().enumerate() {
            let at = |field: &str| format!("checks[{i}].{field}");
            let kinds = usize::from(c.queue.is_some())
                + usize::from(c.count.is_some())
                + usize::from(c.first.is_some())
                + usize::from(c.consumer.is_some())
                + usize::from(c.all_published_acked)
                + usize::from(c.all_published_confirmed);
            if kinds != 1 {
                return Err(Problem::new(
                    format!("checks[{i}]"),
                    "a check needs exactly one of 'queue', 'count', 'first', 'consumer', 'all_published_acked', \
                     'all_published_confirmed'",
                ));
            }
            if let Some(q) = &c.queue {
                if !queues.contains(q.as_str()) {
                    return Err(Problem::new(
                        at("queue"),
                        format!("no queue '{q}' in the definitions or declared by a consumer"),
                    ));
                }
                let n = usize::from(c.messages.is_some())
                    + usize::from(c.ready.is_some())
                    + usize::from(c.unacked.is_some());
                if n != 1 {
                    return Err(Problem::new(
                        at("queue"),
                        "a queue check needs exactly one of 'messages', 'ready', 'unacked'",
                    ));
                }
            } else if c.messages.is_some() || c.ready.is_some() || c.unacked.is_some() {
                return Err(Problem::new(
                    format!("checks[{i}]"),
                    "'messages', 'ready' and 'unacked' go with 'queue'",
                ));
            }
            if c.count.is_some() != c.is.is_some() {
                return Err(Problem::new(format!("checks[{i}]"), "'count' and 'is' go together"));
            }
            if c.first.is_some() != c.then.is_some() {
                return Err(Problem::new(format!("checks[{i}]"), "'first' and 'then' go together"));
            }
            if c.consumer.is_some() != c.redelivered_at_most.is_some() {
                return Err(Problem::new(
                    format!("checks[{i}]"),
                    "'consumer' and 'redelivered_at_most' go together",
                ));
            }
            if let Some(name) = &c.consumer {
                if !consumer_names.contains(name.as_str()) {
                    return Err(Problem::new(at("consumer"), format!("no consumer named '{name}'")));
                }
            }
            for (field, m) in [("count", &c.count), ("first", &c.first), ("then", &c.then)] {
                if let Some(m) = m {
                    if !EVENT_KINDS.contains(&m.event.as_str()) {
                        return Err(Problem::new(
                            at(&format!("{field}.event")),
                            format!("unknown event kind '{}' (one of: {})", m.event, EVENT_KINDS.join(", ")),
                        ));
                    }
                    if let Some(a) = &m.actor {
                        if !actors.contains(a.as_str()) {
                            return Err(Problem::new(
                                at(&format!("{field}.actor")),
                                format!("no actor named '{a}'"),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_says_its_model_and_without_one_it_is_amqp() {
        let plain = r#"{ "brokerlab": 2, "duration": "1s" }"#;
        assert_eq!(model_of(plain), Ok(ModelName::Amqp));
        assert_eq!(Document::parse(plain).unwrap().model, None);
        let amqp = r#"{ "brokerlab": 2, "model": "amqp" }"#;
        assert_eq!(model_of(amqp), Ok(ModelName::Amqp));
        let doc = Document::parse(amqp).unwrap();
        assert_eq!(doc.model, Some(ModelName::Amqp));
        // Written back, a document keeps what it said, and one that said nothing still says nothing.
        assert!(serde_json::to_string(&doc).unwrap().contains(r#""model":"amqp""#));
        assert!(!serde_json::to_string(&Document::parse(plain).unwrap()).unwrap().contains("model"));
        assert_eq!(model_of("\u{feff}{ \"brokerlab\": 2, \"model\": \"kafka\" }"), Ok(ModelName::Kafka));
    }

    #[test]
    fn an_unknown_model_or_one_not_in_this_build_is_a_located_error() {
        let misspelt = "{\n  \"brokerlab\": 2,\n  \"model\": \"kafak\"\n}";
        let e = model_of(misspelt).unwrap_err();
        assert_eq!(
            e.to_string(),
            "3:12: model: unknown model 'kafak'; the models are \"amqp\" (RabbitMQ's AMQP 0-9-1), \"kafka\" \
             (Apache Kafka), \"sqs\" (Amazon SQS), \"redis\" (Redis)"
        );
        assert_eq!(Document::parse(misspelt).unwrap_err(), e);
        let number = "{ \"brokerlab\": 2, \"model\": 1 }";
        assert!(model_of(number)
            .unwrap_err()
            .to_string()
            .starts_with("1:28: model: a model is a name in a string"));
        let kafka = "{\n  \"brokerlab\": 2,\n  \"model\": \"kafka\",\n  \"topics\": []\n}";
        assert_eq!(
            Document::parse(kafka).unwrap_err().to_string(),
            "3:12: model: this is an Apache Kafka document; it is played by the kafka runtime, not read as an \
             \"amqp\" document"
        );
        // A Kafka document reached without its text (a stored value) is refused as well.
        let mut doc = Document::parse("{ \"brokerlab\": 2 }").unwrap();
        doc.model = Some(ModelName::Kafka);
        assert_eq!(doc.validate().unwrap_err().path, "model");
    }

    #[test]
    fn durations_parse_in_integer_arithmetic() {
        assert_eq!(Millis::parse("250ms"), Ok(Millis(250)));
        assert_eq!(Millis::parse("1.5s"), Ok(Millis(1_500)));
        assert_eq!(Millis::parse("2m"), Ok(Millis(120_000)));
        assert_eq!(Millis::parse("1h"), Ok(Millis(3_600_000)));
        assert_eq!(Millis::parse("0.001s"), Ok(Millis(1)));
        assert!(Millis::parse("1.0005s").is_err());
        assert!(Millis::parse("10").is_err());
        assert!(Millis::parse("3 days").is_err());
        assert!(Millis::parse("s").is_err());
    }

    #[test]
    fn templates_compile_and_refuse_unknown_placeholders() {
        let t = Template::compile("task {seq} of {actor} {{x}} r{random:10}", false).unwrap();
        assert_eq!(t.parts.len(), 6);
        assert!(Template::compile("{body}", false).is_err());
        assert!(Template::compile("{body}", true).is_ok());
        assert!(Template::compile("{random:0}", false).is_err());
        assert!(Template::compile("{seq", false).is_err());
    }

    #[test]
    fn locate_finds_nested_values() {
        let text = "{\n  \"a\": [1, {\"b\": \"x\"}],\n  \"c\": {\"d\": [true, \"here\"]}\n}";
        assert_eq!(locate(text, "a[1].b"), Some(Pos::new(2, 18)));
        assert_eq!(locate(text, "c.d[1]"), Some(Pos::new(3, 21)));
        assert_eq!(locate(text, "c.e"), None);
    }

    #[test]
    fn comparisons_read_numbers_and_operators() {
        let c: Comparison = serde_json::from_str("\">= 3\"").unwrap();
        assert_eq!(c, Comparison { op: Op::Ge, value: 3 });
        let c: Comparison = serde_json::from_str("5").unwrap();
        assert!(c.holds(5) && !c.holds(4));
        assert!(serde_json::from_str::<Comparison>("\"about 3\"").is_err());
    }
}
