//! Scenario documents (format 2): the JSON types, their parsing, and the checks made before anything runs.
//!
//! A document carries a topology (RabbitMQ's `definitions.json` shape), actors (producers and consumers
//! driven by knobs or scripts), faults and checks. [`Document::parse`] reports a malformed document with
//! `line:col` (serde_json locates syntax errors, unknown fields and wrong types) and a semantic problem
//! (an unknown queue, a script that does not exist, an argument RabbitMQ would refuse) with the JSON
//! path of the offending value and, found again in the text, its `line:col`. The format is described for
//! users in `docs/scenario-format.md` ("Format 2").

use super::{Pos, ScenarioError, MAX_TIME_MILLIS};
use crate::amqp::definitions::Definitions;
use crate::amqp::types::FieldTable;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The format version a document declares in `"brokerlab": 2`.
pub const DOCUMENT_VERSION: u32 = 2;

/// A scenario document, format 2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The format version; always [`DOCUMENT_VERSION`].
    pub brokerlab: u32,
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

/// How long a consumer works on one message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Processing {
    /// Always this long.
    Fixed(Millis),
    /// A seeded random time.
    Random(Distribution),
}

impl Default for Processing {
    fn default() -> Self {
        Processing::Fixed(Millis(0))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Distribution {
    /// Uniform between two times, inclusive.
    Uniform([Millis; 2]),
    /// Exponential with this mean.
    Exponential(Millis),
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

/// The event kinds (`event` tags) a check may name.
pub const EVENT_KINDS: &[&str] = &[
    "broker_restarted",
    "connection_opened",
    "connection_closed",
    "channel_opened",
    "channel_closed",
    "confirm_selected",
    "qos_set",
    "exchange_declared",
    "exchange_deleted",
    "queue_declared",
    "queue_deleted",
    "queue_purged",
    "bound",
    "unbound",
    "consumer_started",
    "consumer_cancelled",
    "published",
    "routed",
    "enqueued",
    "delivered",
    "get_empty",
    "acked",
    "nacked",
    "rejected",
    "requeued",
    "expired",
    "dead_lettered",
    "dropped",
    "returned",
    "confirmed",
];

/// A duration or a point in virtual time, in milliseconds. In JSON: an integer (milliseconds) or a
/// string `"250ms"`, `"1.5s"`, `"2m"`, `"1h"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    /// Parses `"250ms"`, `"1.5s"`, `"2m"`, `"1h"` (a whole number of milliseconds in the end), at most
    /// [`MAX_TIME_MILLIS`].
    pub fn parse(text: &str) -> Result<Millis, String> {
        let t = text.trim();
        if t.starts_with('-') {
            return Err(format!("a duration cannot be negative ('{text}')"));
        }
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let scale: u64 = match unit.trim() {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "" => return Err(format!("duration '{text}' needs a unit (ms, s, m, h)")),
            other => return Err(format!("unknown duration unit '{other}' in '{text}' (use ms, s, m, h)")),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return Err(format!("'{text}' is not a duration"));
        }
        let too_long = || format!("duration '{text}' is too long: {}", Millis::MAX_TEXT);
        // Digits only here: a number past u64 is too long, not malformed.
        let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_long())? };
        // The fraction in integer arithmetic: "1.5s" is 1,500 ms exactly, and "1.0005s" is refused
        // rather than rounded.
        let mut millis = whole.checked_mul(scale).ok_or_else(too_long)?;
        let mut place = scale;
        for digit in fraction.chars() {
            let d = u64::from(digit.to_digit(10).ok_or_else(|| format!("'{text}' is not a duration"))?);
            if place % 10 != 0 {
                return Err(format!("duration '{text}' is finer than a millisecond"));
            }
            place /= 10;
            millis = millis.checked_add(d * place).ok_or_else(too_long)?;
        }
        if millis > MAX_TIME_MILLIS {
            return Err(too_long());
        }
        Ok(Millis(millis))
    }

    /// What the error texts say about the longest time.
    pub const MAX_TEXT: &'static str =
        "times are at most 9007199254740991 ms (2^53 - 1, about 285,000 years)";
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::clock::VirtualTime(self.0))
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Millis;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a duration: milliseconds as an integer, or a string like \"250ms\", \"1.5s\", \"2m\"",
                )
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Millis, E> {
                if v > MAX_TIME_MILLIS {
                    return Err(E::custom(format!("the duration {v} ms is too long: {}", Millis::MAX_TEXT)));
                }
                Ok(Millis(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Millis, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("a duration cannot be negative ({v})"))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Millis, E> {
                // serde_json reads an integer past u64 (or with a fraction or exponent) as a float.
                if v < 0.0 {
                    Err(E::custom(format!("a duration cannot be negative ({v})")))
                } else if v.fract() == 0.0 {
                    Err(E::custom(format!("the duration {v} ms is too long: {}", Millis::MAX_TEXT)))
                } else {
                    Err(E::custom(format!(
                        "a duration in milliseconds is a whole number ({v}); write \"1.5s\" for fractions"
                    )))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Millis, E> {
                Millis::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Messages per second, kept as messages per 1,000 seconds so schedules are integer arithmetic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rate {
    pub per_kilosecond: u64,
}

impl Rate {
    pub fn per_second(rate: u64) -> Rate {
        Rate { per_kilosecond: rate.saturating_mul(1_000) }
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.per_kilosecond % 1_000 == 0 {
            s.serialize_u64(self.per_kilosecond / 1_000)
        } else {
            s.serialize_f64(self.per_kilosecond as f64 / 1_000.0)
        }
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        // IEEE multiplication and rounding are exact operations, identical natively and in wasm.
        if !(0.0..=1e12).contains(&v) {
            return Err(de::Error::custom(format!("a rate is messages per second, 0 or more (got {v})")));
        }
        Ok(Rate { per_kilosecond: (v * 1_000.0).round() as u64 })
    }
}

/// An integer probability `p/q`, written `"1/10"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ratio {
    pub numerator: u64,
    pub denominator: u64,
}

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}/{}", self.numerator, self.denominator))
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bad = || {
            de::Error::custom(format!("a probability is \"p/q\" with 0 <= p <= q and q > 0, got '{text}'"))
        };
        let (p, q) = text.split_once('/').ok_or_else(bad)?;
        let numerator: u64 = p.trim().parse().map_err(|_| bad())?;
        let denominator: u64 = q.trim().parse().map_err(|_| bad())?;
        if denominator == 0 || numerator > denominator {
            return Err(bad());
        }
        Ok(Ratio { numerator, denominator })
    }
}

/// How an observed number compares with the expected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">")]
    Gt,
}

/// An expected number: `3` (equal) or a string `"<= 3"`, `">= 10"`, `"< 5"`, `"> 0"`, `"= 3"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub op: Op,
    pub value: u64,
}

impl Comparison {
    pub fn holds(&self, observed: u64) -> bool {
        match self.op {
            Op::Eq => observed == self.value,
            Op::Le => observed <= self.value,
            Op::Ge => observed >= self.value,
            Op::Lt => observed < self.value,
            Op::Gt => observed > self.value,
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Eq => "=",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Gt => ">",
        };
        write!(f, "{op} {}", self.value)
    }
}

impl Serialize for Comparison {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.op {
            Op::Eq => s.serialize_u64(self.value),
            _ => s.serialize_str(&self.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Comparison {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Comparison;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number, or a string like \"<= 3\", \">= 10\", \"= 0\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Comparison, E> {
                Ok(Comparison { op: Op::Eq, value: v })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Comparison, E> {
                let t = v.trim();
                let (op, rest) =
                    [("<=", Op::Le), (">=", Op::Ge), ("=", Op::Eq), ("<", Op::Lt), (">", Op::Gt)]
                        .iter()
                        .find_map(|(p, op)| t.strip_prefix(p).map(|rest| (*op, rest)))
                        .unwrap_or((Op::Eq, t));
                let value = rest
                    .trim()
                    .parse()
                    .map_err(|_| E::custom(format!("'{v}' is not a comparison like \">= 3\"")))?;
                Ok(Comparison { op, value })
            }
        }
        d.deserialize_any(V)
    }
}

/// A template: literal text with `{seq}`, `{random:N}`, `{actor}` (and, in replies, `{body}`,
/// `{correlation_id}`); `{{` and `}}` are literal braces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplatePart {
    Text(String),
    Seq,
    Random(u64),
    Actor,
    Body,
    CorrelationId,
}

impl Template {
    /// Compiles `text`; `reply` allows the reply-only placeholders.
    pub fn compile(text: &str, reply: bool) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(format!("unclosed '{{' in template '{text}'")),
                        }
                    }
                    let part = match name.as_str() {
                        "seq" => TemplatePart::Seq,
                        "actor" => TemplatePart::Actor,
                        "body" if reply => TemplatePart::Body,
                        "correlation_id" if reply => TemplatePart::CorrelationId,
                        _ => match name.strip_prefix("random:").map(|n| n.trim().parse::<u64>()) {
                            Some(Ok(n)) if n > 0 => TemplatePart::Random(n),
                            _ => {
                                let known = if reply {
                                    "{seq}, {random:N}, {actor}, {body}, {correlation_id}"
                                } else {
                                    "{seq}, {random:N}, {actor}"
                                };
                                return Err(format!(
                                    "unknown placeholder '{{{name}}}' in template (use {known})"
                                ));
                            }
                        },
                    };
                    if !literal.is_empty() {
                        parts.push(TemplatePart::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(part);
                }
                '}' => return Err(format!("a lone '}}' in template '{text}' (write '}}}}')")),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(TemplatePart::Text(literal));
        }
        Ok(Template { parts })
    }

    /// Whether the template has no placeholder (then it renders to one fixed text).
    pub fn literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [TemplatePart::Text(t)] => Some(t),
            _ => None,
        }
    }
}

/// A semantic problem: the JSON path of the offending value and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem { path: path.into(), message: message.into() }
    }

    /// The problem as a [`ScenarioError`] located in `source` when it is given and the path is found.
    pub fn into_error(self, source: Option<&str>) -> ScenarioError {
        let pos = source.and_then(|s| locate_nearest(s, &self.path)).unwrap_or(Pos::new(0, 0));
        ScenarioError::new(pos, format!("{}: {}", self.path, self.message))
    }
}

impl Document {
    /// Parses and checks a document. Errors carry `line:col`; semantic ones start with the JSON path.
    pub fn parse(text: &str) -> Result<Document, ScenarioError> {
        // A byte-order mark is accepted and ignored, as RFC 8259 allows: editors on Windows write one.
        let text = super::strip_bom(text);
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
        let mut queues: BTreeSet<&str> = self.definitions.queues.iter().map(|q| q.name.as_str()).collect();
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
        let consumer_names: BTreeSet<&str> = self.consumers.iter().map(|c| c.name.as_str()).collect();
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

/// serde_json's error with its line and column (`line 0` means the end of the input).
fn json_error(e: serde_json::Error) -> ScenarioError {
    let message = e.to_string();
    // serde_json appends " at line L column C"; the position already says it.
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    let message = match message.as_str() {
        // serde_json stops at 128 nested arrays and objects rather than overflow the stack.
        "recursion limit exceeded" => {
            "the JSON nests more than 128 levels deep (arrays and objects inside each other)".to_string()
        }
        "EOF while parsing a value" if e.line() == 1 && e.column() == 0 => {
            "the document is empty: a scenario document is a JSON object".to_string()
        }
        _ => message,
    };
    // serde_json counts a position before the first character of a line as column 0.
    ScenarioError::new(Pos::new(e.line() as u32, (e.column() as u32).max(1)), message)
}

/// Finds the value at `path`, or else the nearest enclosing one that can be found: a path through a key
/// with a `.` or `[` in it (a script named `a.b`) cannot be followed, and its object is the next best place.
fn locate_nearest(text: &str, path: &str) -> Option<Pos> {
    let mut path = path;
    loop {
        if let Some(pos) = locate(text, path) {
            return Some(pos);
        }
        match path.rfind(['.', '[']) {
            Some(i) if i > 0 => path = &path[..i],
            _ => return None,
        }
    }
}

/// Finds the `line:col` of the value at `path` (`consumers[1].queue`) in the JSON `text`.
pub fn locate(text: &str, path: &str) -> Option<Pos> {
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_string()));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            segments.push(Segment::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        }
    }
    let mut scanner = Scanner { chars: text.chars().collect(), i: 0, line: 1, col: 1 };
    scanner.find(&segments)
}

enum Segment {
    Key(String),
    Index(usize),
}

/// A forgiving JSON walker that tracks line and column (the text already parsed, so it is valid).
struct Scanner {
    chars: Vec<char>,
    i: usize,
    line: u32,
    col: u32,
}

impl Scanner {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn string(&mut self) -> Option<String> {
        if self.bump()? != '"' {
            return None;
        }
        let mut s = String::new();
        loop {
            match self.bump()? {
                '"' => return Some(s),
                '\\' => match self.bump()? {
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                        s.push(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).unwrap_or('?'));
                    }
                    c => s.push(c),
                },
                c => s.push(c),
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            '"' => {
                self.string()?;
            }
            '{' | '[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        '"' => {
                            self.string()?;
                            continue;
                        }
                        '{' | '[' => depth += 1,
                        '}' | ']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.bump();
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.bump();
                }
            }
            _ => {
                while !matches!(self.peek(), None | Some(',' | '}' | ']' | ' ' | '\n' | '\r' | '\t')) {
                    self.bump();
                }
            }
        }
        Some(())
    }

    fn find(&mut self, path: &[Segment]) -> Option<Pos> {
        self.skip_ws();
        let Some((first, rest)) = path.split_first() else {
            return Some(Pos::new(self.line, self.col));
        };
        match first {
            Segment::Key(key) => {
                if self.bump()? != '{' {
                    return None;
                }
                loop {
                    self.skip_ws();
                    if self.peek()? == '}' {
                        return None;
                    }
                    let name = self.string()?;
                    self.skip_ws();
                    if self.bump()? != ':' {
                        return None;
                    }
                    if &name == key {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    self.skip_ws();
                    if self.peek()? == ',' {
                        self.bump();
                    }
                }
            }
            Segment::Index(index) => {
                if self.bump()? != '[' {
                    return None;
                }
                for _ in 0..*index {
                    self.skip_value()?;
                    self.skip_ws();
                    if self.bump()? != ',' {
                        return None;
                    }
                }
                self.find(rest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
