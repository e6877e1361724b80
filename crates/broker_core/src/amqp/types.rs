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

/// An AMQP field value.
///
/// Serialized untagged, so a scenario writes `{"x-message-ttl": 1000, "x-match": "all"}` naturally.
/// The variants are what pika sends for a Python value (`Int`: `I` when it fits 32 bits, else `l`;
/// `Float`: `d`; `Str`: `S`); [`FieldValue::Typed`] holds every other AMQP type, written exactly.
/// Equality is structural (an integer 1000 and a string "1000" are different; so are `Int(5)` and a
/// typed `byte` 5); RabbitMQ's own comparisons are in `exchange/headers.rs` and `arguments.rs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<FieldValue>),
    /// Before `Table`: an untagged JSON object with one `$type` key reads as a typed value.
    Typed(TypedValue),
    Table(FieldTable),
    /// AMQP `void` (`V`): a present key with no value.
    Void,
}

/// The AMQP field types a pika `int`, `float` or `str` does not produce, each as it goes on the wire
/// (RabbitMQ's type letters). In JSON a one-key object: `{"$int8": -5}`, `{"$decimal": [2, 125]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TypedValue {
    /// `b`, RabbitMQ's `byte`.
    #[serde(rename = "$int8")]
    Int8(i8),
    /// `B`, `unsignedbyte`.
    #[serde(rename = "$uint8")]
    Uint8(u8),
    /// `s`, `short`.
    #[serde(rename = "$int16")]
    Int16(i16),
    /// `u`, `unsignedshort`.
    #[serde(rename = "$uint16")]
    Uint16(u16),
    /// `i`, `unsignedint`.
    #[serde(rename = "$uint32")]
    Uint32(u32),
    /// `l`, `long`, even when the value fits 32 bits (pika sends those as `I`).
    #[serde(rename = "$int64")]
    Int64(i64),
    /// `f`, `float` (32 bits).
    #[serde(rename = "$float32")]
    Float32(f32),
    /// `D`, `decimal`: `value / 10^scale`; RabbitMQ reads the value as unsigned 32 bits.
    #[serde(rename = "$decimal")]
    Decimal(u8, u32),
    /// `T`, `timestamp`: seconds since 1970-01-01 UTC.
    #[serde(rename = "$timestamp")]
    Timestamp(u64),
    /// `x`, `binary`: a byte array (what pika sends for Python `bytes`).
    #[serde(rename = "$bytes")]
    Bytes(Vec<u8>),
}

impl TypedValue {
    /// The value when its type is one of RabbitMQ's integer argument types (not decimal or timestamp).
    pub fn integer(&self) -> Option<i64> {
        Some(match self {
            TypedValue::Int8(v) => i64::from(*v),
            TypedValue::Uint8(v) => i64::from(*v),
            TypedValue::Int16(v) => i64::from(*v),
            TypedValue::Uint16(v) => i64::from(*v),
            TypedValue::Uint32(v) => i64::from(*v),
            TypedValue::Int64(v) => *v,
            _ => return None,
        })
    }

    fn type_name(&self) -> &'static str {
        match self {
            TypedValue::Int8(_) => "byte",
            TypedValue::Uint8(_) => "unsignedbyte",
            TypedValue::Int16(_) => "short",
            TypedValue::Uint16(_) => "unsignedshort",
            TypedValue::Uint32(_) => "unsignedint",
            TypedValue::Int64(_) => "long",
            TypedValue::Float32(_) => "float",
            TypedValue::Decimal(..) => "decimal",
            TypedValue::Timestamp(_) => "timestamp",
            TypedValue::Bytes(_) => "binary",
        }
    }
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
            FieldValue::Typed(t) => t.type_name(),
            FieldValue::Table(_) => "table",
            FieldValue::Void => "void",
        }
    }

    /// The value when it is sent as one of RabbitMQ's integer types (`byte` … `long`, signed or not).
    pub fn integer(&self) -> Option<i64> {
        match self {
            FieldValue::Int(i) => Some(*i),
            FieldValue::Typed(t) => t.integer(),
            _ => None,
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
            FieldValue::Typed(t) => write!(f, "{t}"),
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

impl fmt::Display for TypedValue {
    /// As pika hands the value to a program: integers as numbers, a 32-bit float as the double it widens
    /// to, bytes as `b"…"`, decimals as `Decimal("1.25")`; timestamps as their seconds (as `x-death`'s
    /// `time` is shown).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypedValue::Float32(x) => write!(f, "{}", f64::from(*x)),
            TypedValue::Decimal(scale, value) => {
                write!(f, "Decimal(\"{}\")", decimal_text(*scale, *value as i32))
            }
            TypedValue::Timestamp(t) => write!(f, "{t}"),
            TypedValue::Bytes(b) => write!(f, "b\"{}\"", b.escape_ascii()),
            other => write!(f, "{}", other.integer().unwrap_or_default()),
        }
    }
}

/// `value / 10^scale` in decimal digits, as Python's `Decimal` prints it (`125`, 2 → `1.25`). pika reads
/// the digits as a signed 32-bit integer.
pub fn decimal_text(scale: u8, value: i32) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let digits = value.unsigned_abs().to_string();
    let scale = usize::from(scale);
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_are_one_key_objects_in_json_and_plain_values_are_unchanged() {
        let table: FieldTable = [
            ("i".to_string(), FieldValue::Int(5)),
            ("b".to_string(), FieldValue::Typed(TypedValue::Int8(-5))),
            ("d".to_string(), FieldValue::Typed(TypedValue::Decimal(2, 125))),
            ("t".to_string(), FieldValue::Table([("k".to_string(), FieldValue::Str("v".into()))].into())),
        ]
        .into();
        let json = serde_json::to_string(&table).unwrap();
        assert_eq!(json, r#"{"b":{"$int8":-5},"d":{"$decimal":[2,125]},"i":5,"t":{"k":"v"}}"#);
        let back: FieldTable = serde_json::from_str(&json).unwrap();
        assert_eq!(back, table);
    }

    #[test]
    fn decimals_print_as_python_decimal_reprs() {
        // Python: Decimal(125).scaleb(-2) → Decimal('1.25'); Decimal(-5).scaleb(-2) → Decimal('-0.05').
        assert_eq!(decimal_text(2, 125), "1.25");
        assert_eq!(decimal_text(2, -5), "-0.05");
        assert_eq!(decimal_text(0, 42), "42");
        assert_eq!(decimal_text(3, 1), "0.001");
    }
}
