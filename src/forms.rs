//! The data behind the app's forms and how each becomes an AMQP [`Method`]: plain Rust, tested natively.
//!
//! Forms only check what a browser form must (a number is a number); every broker rule (a negative TTL,
//! an unknown `x-overflow`, an inequivalent redeclare) is the engine's to refuse, with RabbitMQ's text.

use crate::scripting::read_field_value;
use broker_core::amqp::{BasicProperties, FieldTable, FieldValue, Method, TypedValue};

/// The type a field-table value is entered as: the three a browser form always had (a `Number` is what
/// pika sends for a Python `int` or `float`), then every AMQP field type written exactly. The exact types
/// are read by the engine's own reader of scenario values (`broker_core::scenario::parse_field_value`,
/// which the page loads with its scripting module: [`read_field_value`]), so a form refuses what a
/// scenario line refuses, with the same words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    String,
    Number,
    Boolean,
    Int8,
    Uint8,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Int64,
    Float32,
    Float64,
    Decimal,
    /// Seconds since 1970-01-01 UTC.
    Timestamp,
    /// The value's UTF-8 bytes as a byte array (`x`).
    Bytes,
    /// Any value as a scenario writes it: arrays, tables, `datetime.datetime(…)`, nested typed values.
    Format1,
}

impl ValueKind {
    pub const ALL: [ValueKind; 16] = [
        ValueKind::String,
        ValueKind::Number,
        ValueKind::Boolean,
        ValueKind::Int8,
        ValueKind::Uint8,
        ValueKind::Int16,
        ValueKind::Uint16,
        ValueKind::Int32,
        ValueKind::Uint32,
        ValueKind::Int64,
        ValueKind::Float32,
        ValueKind::Float64,
        ValueKind::Decimal,
        ValueKind::Timestamp,
        ValueKind::Bytes,
        ValueKind::Format1,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::String => "String",
            ValueKind::Number => "Number",
            ValueKind::Boolean => "Boolean",
            ValueKind::Int8 => "int8",
            ValueKind::Uint8 => "uint8",
            ValueKind::Int16 => "int16",
            ValueKind::Uint16 => "uint16",
            ValueKind::Int32 => "int32",
            ValueKind::Uint32 => "uint32",
            ValueKind::Int64 => "int64",
            ValueKind::Float32 => "float32",
            ValueKind::Float64 => "float64",
            ValueKind::Decimal => "decimal",
            ValueKind::Timestamp => "timestamp",
            ValueKind::Bytes => "bytes",
            ValueKind::Format1 => "format 1",
        }
    }

    /// Whether a value of this type is read by the scenario format's reader ([`read_field_value`]).
    pub fn needs_reader(self) -> bool {
        !matches!(
            self,
            ValueKind::String
                | ValueKind::Number
                | ValueKind::Float64
                | ValueKind::Boolean
                | ValueKind::Bytes
        )
    }

    pub fn parse(s: &str) -> ValueKind {
        ValueKind::ALL.into_iter().find(|k| k.as_str() == s).unwrap_or(ValueKind::String)
    }

    /// What the value box suggests for this type.
    pub fn placeholder(self) -> &'static str {
        match self {
            ValueKind::Boolean => "true or false",
            ValueKind::Decimal => "1.25",
            ValueKind::Timestamp => "seconds since 1970",
            ValueKind::Format1 => "[int8(1), \"a\"] or {\"k\": uint32(1)}",
            _ => "value",
        }
    }
}

/// Queue arguments the form offers by name, with the type RabbitMQ expects (as the management UI lists
/// them). Anything else can be typed as a custom key.
pub const QUEUE_ARGUMENTS: &[(&str, ValueKind)] = &[
    ("x-message-ttl", ValueKind::Number),
    ("x-expires", ValueKind::Number),
    ("x-max-length", ValueKind::Number),
    ("x-max-length-bytes", ValueKind::Number),
    ("x-overflow", ValueKind::String),
    ("x-dead-letter-exchange", ValueKind::String),
    ("x-dead-letter-routing-key", ValueKind::String),
    ("x-max-priority", ValueKind::Number),
    ("x-queue-type", ValueKind::String),
    ("x-single-active-consumer", ValueKind::Boolean),
    ("x-delivery-limit", ValueKind::Number),
    ("x-max-age", ValueKind::String),
    ("x-stream-max-segment-size-bytes", ValueKind::Number),
];

/// The queue types the "Add a new queue" form offers (the management UI's "Type" list).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueueTypeChoice {
    /// No `x-queue-type` argument (the vhost's default, classic), unless one is typed as an argument.
    #[default]
    Classic,
    Quorum,
    Stream,
}

impl QueueTypeChoice {
    pub const ALL: [QueueTypeChoice; 3] =
        [QueueTypeChoice::Classic, QueueTypeChoice::Quorum, QueueTypeChoice::Stream];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueTypeChoice::Classic => "classic",
            QueueTypeChoice::Quorum => "quorum",
            QueueTypeChoice::Stream => "stream",
        }
    }

    pub fn parse(s: &str) -> QueueTypeChoice {
        QueueTypeChoice::ALL.into_iter().find(|k| k.as_str() == s).unwrap_or_default()
    }

    /// The arguments the form offers to add for this type (as the management UI's "Add" links do).
    pub fn suggested_arguments(self) -> &'static [(&'static str, ValueKind)] {
        match self {
            QueueTypeChoice::Classic => &[
                ("x-message-ttl", ValueKind::Number),
                ("x-max-length", ValueKind::Number),
                ("x-dead-letter-exchange", ValueKind::String),
                ("x-max-priority", ValueKind::Number),
            ],
            QueueTypeChoice::Quorum => &[
                ("x-delivery-limit", ValueKind::Number),
                ("x-max-length", ValueKind::Number),
                ("x-dead-letter-exchange", ValueKind::String),
                ("x-single-active-consumer", ValueKind::Boolean),
            ],
            QueueTypeChoice::Stream => &[
                ("x-max-length-bytes", ValueKind::Number),
                ("x-max-age", ValueKind::String),
                ("x-stream-max-segment-size-bytes", ValueKind::Number),
            ],
        }
    }
}

/// `rows` with an argument `key` of type `kind` to fill in: the row of that key if there is one, else
/// the trailing blank row (a new blank row kept after it). Returns the rows and the index of the row.
pub fn with_argument(rows: &[FieldRow], key: &str, kind: ValueKind) -> (Vec<FieldRow>, usize) {
    let mut rows = rows.to_vec();
    if let Some(i) = rows.iter().position(|r| r.key.trim() == key) {
        return (rows, i);
    }
    let i = match rows.iter().position(|r| r.key.trim().is_empty() && r.value.is_empty()) {
        Some(i) => i,
        None => {
            rows.push(FieldRow::blank());
            rows.len() - 1
        }
    };
    rows[i] = FieldRow::new(key, kind, "");
    if rows.last().is_none_or(|r| !r.key.is_empty()) {
        rows.push(FieldRow::blank());
    }
    (rows, i)
}

/// One row of a field-table editor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRow {
    pub key: String,
    pub kind: ValueKind,
    pub value: String,
}

impl FieldRow {
    pub fn new(key: &str, kind: ValueKind, value: &str) -> Self {
        FieldRow { key: key.to_string(), kind, value: value.to_string() }
    }

    /// An empty string row (the editor's trailing blank line).
    pub fn blank() -> Self {
        FieldRow::new("", ValueKind::String, "")
    }

    /// Whether this row's value is read by the scenario format's reader (a row with a key and an exact type).
    pub fn needs_reader(&self) -> bool {
        !self.key.trim().is_empty() && self.kind.needs_reader()
    }
}

/// Whether any of `rows` needs the scenario format's reader, which the page loads on demand.
pub fn needs_reader(rows: &[FieldRow]) -> bool {
    rows.iter().any(FieldRow::needs_reader)
}

/// What a row says while the reader of its exact type is still being loaded.
pub const READER_LOADING: &str = "reading it once the value reader (lazy/brokerlab_scripts.js) is loaded";

/// The value of one editor row, or why it is not one (a located error from the engine's reader for the
/// exact types, its column counted in what was typed).
pub fn row_value(row: &FieldRow) -> Result<FieldValue, String> {
    let key = row.key.trim();
    let text = row.value.trim();
    // An exact type is read as the scenario call that writes it (`int8(` + text + `)`).
    let read = |prefix: &str, suffix: &str| match read_field_value(&format!("{prefix}{text}{suffix}")) {
        Some(read) => read.map_err(|e| {
            let col = (e.pos.col as usize).saturating_sub(prefix.len()).max(1);
            format!("argument '{key}': {}:{col}: {}", e.pos.line, e.message)
        }),
        None => Err(format!("argument '{key}': {READER_LOADING}")),
    };
    Ok(match row.kind {
        ValueKind::String => FieldValue::Str(row.value.clone()),
        ValueKind::Number | ValueKind::Float64 => match text.parse::<i64>() {
            Ok(i) if row.kind == ValueKind::Number => FieldValue::Int(i),
            _ => match text.parse::<f64>() {
                Ok(x) if x.is_finite() => FieldValue::Float(x),
                _ => return Err(format!("argument '{key}': '{text}' is not a number")),
            },
        },
        ValueKind::Boolean => match text {
            "true" => FieldValue::Bool(true),
            "false" => FieldValue::Bool(false),
            other => return Err(format!("argument '{key}': '{other}' is not true or false")),
        },
        ValueKind::Decimal => read("Decimal(\"", "\")")?,
        ValueKind::Bytes => FieldValue::Typed(TypedValue::Bytes(row.value.clone().into_bytes())),
        ValueKind::Format1 => read("", "")?,
        exact => read(&format!("{}(", exact.as_str()), ")")?,
    })
}

/// Builds a field table from editor rows; rows with an empty key are ignored.
pub fn field_table(rows: &[FieldRow]) -> Result<FieldTable, String> {
    let mut table = FieldTable::new();
    for row in rows {
        let key = row.key.trim();
        if key.is_empty() {
            continue;
        }
        if table.insert(key.to_string(), row_value(row)?).is_some() {
            return Err(format!("argument '{key}' is given twice"));
        }
    }
    Ok(table)
}

/// The "Add a new exchange" form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeForm {
    pub name: String,
    pub kind: String,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: Vec<FieldRow>,
}

impl Default for ExchangeForm {
    fn default() -> Self {
        ExchangeForm {
            name: String::new(),
            kind: "direct".into(),
            durable: true,
            auto_delete: false,
            internal: false,
            arguments: vec![FieldRow::blank()],
        }
    }
}

impl ExchangeForm {
    pub fn to_method(&self) -> Result<Method, String> {
        Ok(Method::ExchangeDeclare {
            exchange: self.name.clone(),
            exchange_type: self.kind.clone(),
            passive: false,
            durable: self.durable,
            auto_delete: self.auto_delete,
            internal: self.internal,
            arguments: field_table(&self.arguments)?,
        })
    }
}

/// The "Add a new queue" form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueForm {
    pub name: String,
    pub durable: bool,
    pub exclusive: bool,
    pub auto_delete: bool,
    /// The "Type" list: a quorum or stream choice is sent as the `x-queue-type` argument.
    pub queue_type: QueueTypeChoice,
    pub arguments: Vec<FieldRow>,
}

impl Default for QueueForm {
    fn default() -> Self {
        QueueForm {
            name: String::new(),
            durable: true,
            exclusive: false,
            auto_delete: false,
            queue_type: QueueTypeChoice::Classic,
            arguments: vec![FieldRow::blank()],
        }
    }
}

impl QueueForm {
    /// The `queue.declare` a client sends. Every rule of the queue type (a stream is durable, not
    /// exclusive, takes no `x-message-ttl`, …) is the engine's to refuse, with RabbitMQ's text.
    pub fn to_method(&self) -> Result<Method, String> {
        let mut arguments = field_table(&self.arguments)?;
        if self.queue_type != QueueTypeChoice::Classic {
            let chosen = FieldValue::Str(self.queue_type.as_str().to_string());
            match arguments.get("x-queue-type") {
                Some(typed) if typed != &chosen => {
                    return Err(format!(
                        "argument 'x-queue-type' is typed as {} while the Type list says '{}': keep one",
                        match typed {
                            FieldValue::Str(s) => format!("'{s}'"),
                            other => other.to_string(),
                        },
                        self.queue_type.as_str()
                    ))
                }
                _ => arguments.insert("x-queue-type".to_string(), chosen),
            };
        }
        Ok(Method::QueueDeclare {
            queue: self.name.clone(),
            passive: false,
            durable: self.durable,
            exclusive: self.exclusive,
            auto_delete: self.auto_delete,
            arguments,
        })
    }
}

/// Where a stream consumer starts reading: the `x-stream-offset` argument of its `basic.consume`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OffsetChoice {
    /// No `x-stream-offset` (RabbitMQ reads from `next`).
    Absent,
    #[default]
    First,
    Last,
    Next,
    /// An offset (an integer).
    Offset,
    /// An AMQP timestamp, seconds since 1970 (the page's clock starts at 1970-01-01 00:00:00).
    Timestamp,
    /// A text such as `"10m"`: what was written within that long.
    Interval,
}

impl OffsetChoice {
    pub const ALL: [OffsetChoice; 7] = [
        OffsetChoice::First,
        OffsetChoice::Last,
        OffsetChoice::Next,
        OffsetChoice::Offset,
        OffsetChoice::Timestamp,
        OffsetChoice::Interval,
        OffsetChoice::Absent,
    ];

    pub fn key(self) -> &'static str {
        match self {
            OffsetChoice::Absent => "absent",
            OffsetChoice::First => "first",
            OffsetChoice::Last => "last",
            OffsetChoice::Next => "next",
            OffsetChoice::Offset => "offset",
            OffsetChoice::Timestamp => "timestamp",
            OffsetChoice::Interval => "interval",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OffsetChoice::Absent => "(not given: next)",
            OffsetChoice::First => "\"first\"",
            OffsetChoice::Last => "\"last\"",
            OffsetChoice::Next => "\"next\"",
            OffsetChoice::Offset => "an offset",
            OffsetChoice::Timestamp => "a timestamp",
            OffsetChoice::Interval => "an interval (\"10m\")",
        }
    }

    pub fn parse(s: &str) -> OffsetChoice {
        OffsetChoice::ALL.into_iter().find(|k| k.key() == s).unwrap_or_default()
    }

    /// Whether the choice takes a value typed next to it.
    pub fn takes_value(self) -> bool {
        matches!(self, OffsetChoice::Offset | OffsetChoice::Timestamp | OffsetChoice::Interval)
    }

    pub fn placeholder(self) -> &'static str {
        match self {
            OffsetChoice::Offset => "an offset, such as 3",
            OffsetChoice::Timestamp => "seconds on the page's clock",
            OffsetChoice::Interval => "10m, 30s, 1h, 7D, 1M, 1Y",
            _ => "",
        }
    }
}

/// The "Consume from a stream" form: `basic.qos` then `basic.consume` with `x-stream-offset`, on a
/// channel of the page's own stream-reader connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamConsumeForm {
    pub queue: String,
    pub offset: OffsetChoice,
    pub offset_value: String,
    /// The consumer prefetch: a stream consumer's credit (RabbitMQ refuses one without it).
    pub prefetch: String,
    /// Manual acknowledgements (RabbitMQ refuses automatic ones on a stream).
    pub manual_ack: bool,
    /// Empty: the broker names it (`amq.ctag-…`).
    pub consumer_tag: String,
}

impl Default for StreamConsumeForm {
    fn default() -> Self {
        StreamConsumeForm {
            queue: String::new(),
            offset: OffsetChoice::First,
            offset_value: String::new(),
            prefetch: "10".into(),
            manual_ack: true,
            consumer_tag: String::new(),
        }
    }
}

impl StreamConsumeForm {
    /// The `x-stream-offset` value, or why what was typed is not one.
    pub fn offset_value(&self) -> Result<Option<FieldValue>, String> {
        let text = self.offset_value.trim();
        Ok(Some(match self.offset {
            OffsetChoice::Absent => return Ok(None),
            OffsetChoice::First | OffsetChoice::Last | OffsetChoice::Next => {
                FieldValue::Str(self.offset.key().to_string())
            }
            OffsetChoice::Offset => match text.parse::<i64>() {
                Ok(n) => FieldValue::Int(n),
                Err(_) => return Err(format!("x-stream-offset: '{text}' is not an offset (an integer)")),
            },
            OffsetChoice::Timestamp => match text.parse::<u64>() {
                Ok(seconds) => FieldValue::Typed(TypedValue::Timestamp(seconds)),
                Err(_) => {
                    return Err(format!("x-stream-offset: '{text}' is not a timestamp (whole seconds)"))
                }
            },
            // The engine reads the interval as RabbitMQ does (a bad one is its 406).
            OffsetChoice::Interval => FieldValue::Str(text.to_string()),
        }))
    }

    /// The two methods a client sends: `basic.qos` (the prefetch) and `basic.consume`.
    pub fn to_methods(&self) -> Result<[Method; 2], String> {
        let prefetch = self.prefetch.trim();
        let prefetch_count = prefetch
            .parse::<u16>()
            .map_err(|_| format!("prefetch '{prefetch}' is not a number from 0 to 65535"))?;
        let mut arguments = FieldTable::new();
        if let Some(v) = self.offset_value()? {
            arguments.insert("x-stream-offset".to_string(), v);
        }
        Ok([
            Method::BasicQos { prefetch_size: 0, prefetch_count, global: false },
            Method::BasicConsume {
                queue: self.queue.clone(),
                consumer_tag: self.consumer_tag.trim().to_string(),
                auto_ack: !self.manual_ack,
                exclusive: false,
                arguments,
            },
        ])
    }
}

/// The "Add binding" form: from an exchange to a queue or another exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingForm {
    pub source: String,
    pub to_exchange: bool,
    pub destination: String,
    pub routing_key: String,
    pub arguments: Vec<FieldRow>,
}

impl Default for BindingForm {
    fn default() -> Self {
        BindingForm {
            source: String::new(),
            to_exchange: false,
            destination: String::new(),
            routing_key: String::new(),
            arguments: vec![FieldRow::blank()],
        }
    }
}

impl BindingForm {
    pub fn to_method(&self) -> Result<Method, String> {
        let arguments = field_table(&self.arguments)?;
        Ok(if self.to_exchange {
            Method::ExchangeBind {
                destination: self.destination.clone(),
                source: self.source.clone(),
                routing_key: self.routing_key.clone(),
                arguments,
            }
        } else {
            Method::QueueBind {
                queue: self.destination.clone(),
                exchange: self.source.clone(),
                routing_key: self.routing_key.clone(),
                arguments,
            }
        })
    }
}

/// The "Publish message" form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishForm {
    pub exchange: String,
    pub routing_key: String,
    pub mandatory: bool,
    pub persistent: bool,
    pub expiration: String,
    pub priority: String,
    pub reply_to: String,
    pub correlation_id: String,
    pub content_type: String,
    pub headers: Vec<FieldRow>,
    pub body: String,
}

impl Default for PublishForm {
    fn default() -> Self {
        PublishForm {
            exchange: String::new(),
            routing_key: String::new(),
            mandatory: false,
            persistent: false,
            expiration: String::new(),
            priority: String::new(),
            reply_to: String::new(),
            correlation_id: String::new(),
            content_type: String::new(),
            headers: vec![FieldRow::blank()],
            body: "Hello World!".into(),
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl PublishForm {
    pub fn properties(&self) -> Result<BasicProperties, String> {
        let priority = match self.priority.trim() {
            "" => None,
            p => Some(p.parse::<u8>().map_err(|_| format!("priority '{p}' is not a number from 0 to 255"))?),
        };
        Ok(BasicProperties {
            content_type: non_empty(&self.content_type),
            headers: field_table(&self.headers)?,
            delivery_mode: Some(if self.persistent { 2 } else { 1 }),
            priority,
            correlation_id: non_empty(&self.correlation_id),
            reply_to: non_empty(&self.reply_to),
            // AMQP's expiration is a string; the engine validates it as RabbitMQ does.
            expiration: non_empty(&self.expiration),
            ..BasicProperties::default()
        })
    }

    pub fn to_method(&self) -> Result<Method, String> {
        Ok(Method::BasicPublish {
            exchange: self.exchange.clone(),
            routing_key: self.routing_key.clone(),
            mandatory: self.mandatory,
            properties: self.properties()?,
            body: self.body.clone().into_bytes(),
            immediate: false,
        })
    }
}

/// What to do with messages taken by "Get messages" (the management UI's "Ack mode").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckMode {
    /// Take and acknowledge: the messages leave the queue.
    Ack,
    /// Take, then `basic.nack` with `requeue=true`: they go back, marked redelivered.
    NackRequeue,
    /// Take, then `basic.reject` with `requeue=false`: dropped or dead-lettered.
    RejectDrop,
}

impl AckMode {
    pub const ALL: [AckMode; 3] = [AckMode::NackRequeue, AckMode::Ack, AckMode::RejectDrop];

    pub fn label(self) -> &'static str {
        match self {
            AckMode::Ack => "Ack (remove from queue)",
            AckMode::NackRequeue => "Nack, requeue=true",
            AckMode::RejectDrop => "Reject, requeue=false (dead-letter)",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            AckMode::Ack => "ack",
            AckMode::NackRequeue => "nack-requeue",
            AckMode::RejectDrop => "reject",
        }
    }

    pub fn parse(s: &str) -> AckMode {
        match s {
            "ack" => AckMode::Ack,
            "reject" => AckMode::RejectDrop,
            _ => AckMode::NackRequeue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_rows_become_field_values() {
        let rows = vec![
            FieldRow::new("x-message-ttl", ValueKind::Number, "1000"),
            FieldRow::new("x-overflow", ValueKind::String, "reject-publish"),
            FieldRow::new("x-single-active-consumer", ValueKind::Boolean, "true"),
            FieldRow::new("ratio", ValueKind::Number, "0.5"),
            FieldRow::blank(),
        ];
        let t = field_table(&rows).unwrap();
        assert_eq!(t["x-message-ttl"], FieldValue::Int(1000));
        assert_eq!(t["x-overflow"], FieldValue::Str("reject-publish".into()));
        assert_eq!(t["x-single-active-consumer"], FieldValue::Bool(true));
        assert_eq!(t["ratio"], FieldValue::Float(0.5));
        assert_eq!(t.len(), 4);
    }

    #[test]
    fn bad_input_is_a_message_not_a_panic() {
        let bad = [FieldRow::new("x-max-length", ValueKind::Number, "ten")];
        assert_eq!(field_table(&bad).unwrap_err(), "argument 'x-max-length': 'ten' is not a number");
        let twice = [FieldRow::new("a", ValueKind::String, "1"), FieldRow::new("a", ValueKind::String, "2")];
        assert!(field_table(&twice).unwrap_err().contains("twice"));
        let form = PublishForm { priority: "300".into(), ..PublishForm::default() };
        assert!(form.to_method().unwrap_err().contains("priority"));
    }

    #[test]
    fn exact_types_are_read_by_the_engines_reader() {
        let rows = vec![
            FieldRow::new("n8", ValueKind::Int8, "-5"),
            FieldRow::new("u32", ValueKind::Uint32, "4294967295"),
            FieldRow::new("f", ValueKind::Float32, "0.5"),
            FieldRow::new("d", ValueKind::Float64, "10"),
            FieldRow::new("dec", ValueKind::Decimal, "1.25"),
            FieldRow::new("ts", ValueKind::Timestamp, "7"),
            FieldRow::new("b", ValueKind::Bytes, "all"),
            FieldRow::new("a", ValueKind::Format1, r#"[uint16(1), b"z", {"k": int8(2)}]"#),
        ];
        let t = field_table(&rows).unwrap();
        assert_eq!(t["n8"], FieldValue::Typed(TypedValue::Int8(-5)));
        assert_eq!(t["u32"], FieldValue::Typed(TypedValue::Uint32(u32::MAX)));
        assert_eq!(t["f"], FieldValue::Typed(TypedValue::Float32(0.5)));
        assert_eq!(t["d"], FieldValue::Float(10.0));
        assert_eq!(t["dec"], FieldValue::Typed(TypedValue::Decimal(2, 125)));
        assert_eq!(t["ts"], FieldValue::Typed(TypedValue::Timestamp(7)));
        assert_eq!(t["b"], FieldValue::Typed(TypedValue::Bytes(b"all".to_vec())));
        let FieldValue::Array(items) = &t["a"] else { panic!("an array: {:?}", t["a"]) };
        assert_eq!(items[0], FieldValue::Typed(TypedValue::Uint16(1)));
        assert_eq!(items[1], FieldValue::Typed(TypedValue::Bytes(b"z".to_vec())));
        let FieldValue::Table(inner) = &items[2] else { panic!("a table") };
        assert_eq!(inner["k"], FieldValue::Typed(TypedValue::Int8(2)));
    }

    #[test]
    fn an_exact_type_refuses_with_the_engines_located_error() {
        let err = |kind, text: &str| row_value(&FieldRow::new("h", kind, text)).unwrap_err();
        // The same words as the scenario line `int8(300)`; the column is in what was typed.
        let e = err(ValueKind::Int8, "300");
        assert!(e.starts_with("argument 'h': 1:1: "), "{e}");
        assert!(e.contains("out of range"), "{e}");
        assert!(err(ValueKind::Uint32, "-1").contains("out of range"));
        assert!(err(ValueKind::Decimal, "x").starts_with("argument 'h': "));
        let e = err(ValueKind::Format1, "[1, }");
        assert!(e.starts_with("argument 'h': 1:"), "{e}");
        assert!(err(ValueKind::Format1, "[1] 2").contains("expected the end of the value"));
        assert!(err(ValueKind::Format1, "BasicProperties()").contains("cannot go in a field table"));
        assert!(err(ValueKind::Int16, "nope").starts_with("argument 'h': 1:1: "));
    }

    #[test]
    fn exact_types_wait_for_the_reader_the_page_loads_on_demand() {
        let rows = vec![
            FieldRow::new("x-match", ValueKind::String, "all"),
            FieldRow::new("n8", ValueKind::Int8, "5"),
        ];
        assert!(needs_reader(&rows));
        assert!(!needs_reader(&rows[..1]));
        assert!(!needs_reader(&[FieldRow::new("", ValueKind::Int8, "5")]), "a row without a key is ignored");
        crate::scripting::pretend_unloaded(true);
        let waiting = field_table(&rows);
        crate::scripting::pretend_unloaded(false);
        assert_eq!(waiting.unwrap_err(), format!("argument 'n8': {READER_LOADING}"));
        assert_eq!(field_table(&rows).unwrap()["n8"], FieldValue::Typed(TypedValue::Int8(5)));
    }

    #[test]
    fn the_type_list_sends_x_queue_type_and_offers_its_arguments() {
        let args = |form: &QueueForm| match form.to_method().unwrap() {
            Method::QueueDeclare { arguments, .. } => arguments,
            other => panic!("{other:?}"),
        };
        assert!(args(&QueueForm::default()).is_empty(), "classic: nothing added");
        let stream = QueueForm { queue_type: QueueTypeChoice::Stream, ..QueueForm::default() };
        assert_eq!(args(&stream)["x-queue-type"], FieldValue::Str("stream".into()));
        let quorum = QueueForm { queue_type: QueueTypeChoice::Quorum, ..QueueForm::default() };
        assert_eq!(args(&quorum)["x-queue-type"], FieldValue::Str("quorum".into()));
        // Typed as an argument too: the same is fine, another is the form's error.
        let same = QueueForm {
            arguments: vec![FieldRow::new("x-queue-type", ValueKind::String, "stream")],
            ..stream.clone()
        };
        assert_eq!(args(&same).len(), 1);
        let other = QueueForm {
            arguments: vec![FieldRow::new("x-queue-type", ValueKind::String, "quorum")],
            ..stream.clone()
        };
        assert_eq!(
            other.to_method().unwrap_err(),
            "argument 'x-queue-type' is typed as 'quorum' while the Type list says 'stream': keep one"
        );
        let keys: Vec<&str> = QueueTypeChoice::Stream.suggested_arguments().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["x-max-length-bytes", "x-max-age", "x-stream-max-segment-size-bytes"]);

        // Adding an argument fills the blank row and keeps a blank one after it; a second time finds it.
        let (rows, i) = with_argument(&[FieldRow::blank()], "x-max-age", ValueKind::String);
        assert_eq!((rows.len(), i, rows[0].key.as_str()), (2, 0, "x-max-age"));
        let (rows, i) = with_argument(&rows, "x-max-length-bytes", ValueKind::Number);
        assert_eq!((rows.len(), i, rows[1].kind), (3, 1, ValueKind::Number));
        assert_eq!(with_argument(&rows, "x-max-age", ValueKind::String), (rows.clone(), 0));
        assert_eq!(rows.last(), Some(&FieldRow::blank()));
    }

    #[test]
    fn the_stream_consume_form_sends_qos_then_consume_with_the_offset() {
        let form = |offset, value: &str| StreamConsumeForm {
            queue: "events".into(),
            offset,
            offset_value: value.into(),
            ..StreamConsumeForm::default()
        };
        let offset_of = |f: StreamConsumeForm| match f.to_methods().unwrap() {
            [Method::BasicQos { prefetch_count: 10, prefetch_size: 0, global: false }, Method::BasicConsume { queue, auto_ack: false, arguments, .. }] =>
            {
                assert_eq!(queue, "events");
                arguments.get("x-stream-offset").cloned()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(offset_of(form(OffsetChoice::First, "")), Some(FieldValue::Str("first".into())));
        assert_eq!(offset_of(form(OffsetChoice::Last, "")), Some(FieldValue::Str("last".into())));
        assert_eq!(offset_of(form(OffsetChoice::Next, "")), Some(FieldValue::Str("next".into())));
        assert_eq!(offset_of(form(OffsetChoice::Absent, "")), None);
        assert_eq!(offset_of(form(OffsetChoice::Offset, " -2 ")), Some(FieldValue::Int(-2)));
        assert_eq!(
            offset_of(form(OffsetChoice::Timestamp, "60")),
            Some(FieldValue::Typed(TypedValue::Timestamp(60)))
        );
        assert_eq!(offset_of(form(OffsetChoice::Interval, "10m")), Some(FieldValue::Str("10m".into())));
        assert!(form(OffsetChoice::Offset, "x").to_methods().unwrap_err().contains("not an offset"));
        assert!(form(OffsetChoice::Timestamp, "-1").to_methods().unwrap_err().contains("not a timestamp"));
        let bad_prefetch = StreamConsumeForm { prefetch: "lots".into(), ..form(OffsetChoice::First, "") };
        assert_eq!(bad_prefetch.to_methods().unwrap_err(), "prefetch 'lots' is not a number from 0 to 65535");
        let auto = StreamConsumeForm { manual_ack: false, ..form(OffsetChoice::First, "") };
        assert!(matches!(auto.to_methods().unwrap()[1], Method::BasicConsume { auto_ack: true, .. }));
        for o in OffsetChoice::ALL {
            assert_eq!(OffsetChoice::parse(o.key()), o);
        }
    }

    #[test]
    fn forms_build_the_methods_a_client_would_send() {
        let q = QueueForm { name: "orders".into(), durable: false, ..QueueForm::default() };
        assert_eq!(
            q.to_method().unwrap(),
            Method::QueueDeclare {
                queue: "orders".into(),
                passive: false,
                durable: false,
                exclusive: false,
                auto_delete: false,
                arguments: FieldTable::new()
            }
        );
        let b = BindingForm {
            source: "amq.headers".into(),
            destination: "orders".into(),
            arguments: vec![FieldRow::new("x-match", ValueKind::String, "any")],
            ..BindingForm::default()
        };
        let Method::QueueBind { arguments, .. } = b.to_method().unwrap() else { panic!("a queue.bind") };
        assert_eq!(arguments["x-match"], FieldValue::Str("any".into()));
        let p = PublishForm { persistent: true, expiration: "60000".into(), ..PublishForm::default() };
        let props = p.properties().unwrap();
        assert_eq!((props.delivery_mode, props.expiration.as_deref()), (Some(2), Some("60000")));
    }
}
