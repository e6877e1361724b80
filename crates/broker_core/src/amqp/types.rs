//! Plain data of the AMQP model: field tables, message properties, deliveries and newtype ids.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// An interned name (queue, exchange, consumer tag) that is cheap to clone into events.
pub type Name = Rc<str>;

/// A connection, numbered by the broker in the order connections were opened (from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionId(pub u32);

/// A channel number on a connection, as in AMQP (1..=65535; 0 is the connection itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelNumber(pub u16);

/// A delivery tag: per channel, starting at 1, counting every `basic.deliver` and `basic.get-ok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeliveryTag(pub u64);

/// The engine's identity of one published message, for lineage and conservation checks.
/// A message keeps its id through fan-out, requeue and dead-lettering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn{}", self.0)
    }
}
impl fmt::Display for ChannelNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for DeliveryTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m{}", self.0)
    }
}

/// An AMQP field value (the subset RabbitMQ's arguments and headers use).
///
/// Serialized untagged, so a scenario writes `{"x-message-ttl": 1000, "x-match": "all"}` naturally.
/// Equality is structural; RabbitMQ's argument equivalence compares values the same way
/// (an integer 1000 and a string "1000" are different).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<FieldValue>),
    Table(FieldTable),
    /// AMQP `void` (`V`): a present key with no value.
    Void,
}

impl FieldValue {
    /// The AMQP field type RabbitMQ names in its error texts (`rabbit_binary_parser`'s atoms) for the type
    /// a client sends this value as. Integers go as pika encodes a Python `int`: `I` (`signedint`) when
    /// they fit 32 bits, else `l` (`long`); floats as `d` (`double`); strings as `S` (`longstr`).
    /// Checked on RabbitMQ 3.10.8: `tests/scenarios/amqp/field-type-names`.
    pub fn amqp_type_name(&self) -> &'static str {
        match self {
            FieldValue::Bool(_) => "bool",
            FieldValue::Int(i) if i32::try_from(*i).is_ok() => "signedint",
            FieldValue::Int(_) => "long",
            FieldValue::Float(_) => "double",
            FieldValue::Str(_) => "longstr",
            FieldValue::Array(_) => "array",
            FieldValue::Table(_) => "table",
            FieldValue::Void => "void",
        }
    }
}

/// An AMQP field table. Keys are kept sorted so every printout is stable.
pub type FieldTable = BTreeMap<String, FieldValue>;

impl fmt::Display for FieldValue {
    /// A compact, stable, RabbitMQ-management-like form: `1000`, `"all"`, `[a, b]`, `{k: v}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::Int(i) => write!(f, "{i}"),
            FieldValue::Float(x) => write!(f, "{x}"),
            FieldValue::Str(s) => write!(f, "{s:?}"),
            FieldValue::Void => write!(f, "void"),
            FieldValue::Array(items) => {
                write!(f, "[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            FieldValue::Table(t) => write_table(f, t),
        }
    }
}

/// Writes a field table as `{k: v, …}` in key order.
pub fn write_table(f: &mut fmt::Formatter<'_>, t: &FieldTable) -> fmt::Result {
    write!(f, "{{")?;
    for (i, (k, v)) in t.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{k}: {v}")?;
    }
    write!(f, "}}")
}

/// `basic.publish` content properties (AMQP 0-9-1 `basic` class).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BasicProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "FieldTable::is_empty")]
    pub headers: FieldTable,
    /// 1 = transient, 2 = persistent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_mode: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Per-message TTL in milliseconds, as a string (AMQP's `expiration` is a shortstr).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
}

impl BasicProperties {
    /// The short-string properties by their pika names (`type` for `kind`), set or not, in AMQP's order.
    pub fn string_fields(&self) -> [(&'static str, &Option<String>); 9] {
        [
            ("content_type", &self.content_type),
            ("content_encoding", &self.content_encoding),
            ("correlation_id", &self.correlation_id),
            ("reply_to", &self.reply_to),
            ("expiration", &self.expiration),
            ("message_id", &self.message_id),
            ("type", &self.kind),
            ("user_id", &self.user_id),
            ("app_id", &self.app_id),
        ]
    }

    pub fn persistent(&self) -> bool {
        self.delivery_mode == Some(2)
    }
}

/// A message as a client receives it: from `basic.deliver` (consumer) or `basic.get-ok`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub message: MessageId,
    pub delivery_tag: DeliveryTag,
    pub redelivered: bool,
    pub exchange: String,
    pub routing_key: String,
    /// The consumer the message was pushed to; `None` for `basic.get`.
    pub consumer_tag: Option<String>,
    /// For `basic.get-ok`: messages left in the queue after this one.
    pub message_count: Option<u32>,
    pub properties: BasicProperties,
    pub body: Vec<u8>,
}

/// Formats a body for a transcript: UTF-8 text quoted, anything else as `<n bytes>`.
pub fn body_text(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(s) => format!("{s:?}"),
        Err(_) => format!("<{} bytes>", body.len()),
    }
}
