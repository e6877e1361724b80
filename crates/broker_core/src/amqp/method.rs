//! What goes in: the AMQP 0-9-1 methods a client sends on a channel, and the `-ok` replies.
//!
//! Field names follow the AMQP spec and pika (`queue_declare(queue=…, durable=…)`), so a client program
//! translates line by line. Every field has the spec's default via `#[serde(default)]`.

use super::types::{BasicProperties, ChannelNumber, Delivery, DeliveryTag, FieldTable, FieldValue};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The most bytes an AMQP 0-9-1 short string carries (spec 4.2.5.3: an 8-bit length, then the bytes).
/// Queue, exchange and exchange-type names, routing keys, consumer tags, field-table keys and the
/// string message properties are short strings.
pub const SHORT_STRING_MAX: usize = 255;

/// A method field too long for a short string, so no AMQP 0-9-1 client can send the method: pika refuses
/// it before sending (`pika/data.py` `encode_short_string` raises `exceptions.ShortStringTooLong`, whose
/// text starts "AMQP Short String can contain up to 255 bytes"), and RabbitMQ never receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShortStringTooLong {
    /// The field, e.g. `queue` or `arguments key`.
    pub field: String,
    /// The field's length in bytes (UTF-8).
    pub len: usize,
    /// The value's first characters, for the message.
    pub start: String,
}

impl fmt::Display for ShortStringTooLong {
    /// pika's `ShortStringTooLong` text, then which field and how long it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ShortStringTooLong: AMQP Short String can contain up to {SHORT_STRING_MAX} bytes: {} '{}…' is {} bytes",
            self.field, self.start, self.len
        )
    }
}

impl std::error::Error for ShortStringTooLong {}

/// `Err` if `value` does not fit a short string.
#[inline]
pub fn check_short_string(field: &str, value: &str) -> Result<(), ShortStringTooLong> {
    if value.len() <= SHORT_STRING_MAX {
        return Ok(());
    }
    too_long(field, value)
}

/// The error of [`check_short_string`], out of line: every method checks its names, almost never fails.
#[cold]
#[inline(never)]
fn too_long(field: &str, value: &str) -> Result<(), ShortStringTooLong> {
    Err(ShortStringTooLong {
        field: field.to_string(),
        len: value.len(),
        start: value.chars().take(32).collect(),
    })
}

/// Field-table keys are short strings, nested tables' too (values are long strings).
fn check_table(field: &str, table: &FieldTable) -> Result<(), ShortStringTooLong> {
    for (key, value) in table {
        check_short_string(&format!("{field} key"), key)?;
        check_value(field, value)?;
    }
    Ok(())
}

fn check_value(field: &str, value: &FieldValue) -> Result<(), ShortStringTooLong> {
    match value {
        FieldValue::Table(t) => check_table(field, t),
        FieldValue::Array(items) => items.iter().try_for_each(|v| check_value(field, v)),
        _ => Ok(()),
    }
}

fn check_properties(p: &BasicProperties) -> Result<(), ShortStringTooLong> {
    // The usual publish has no string property and no header: answered without listing the fields.
    // Destructured so a new property cannot be missed.
    let BasicProperties {
        content_type,
        content_encoding,
        headers,
        delivery_mode: _,
        priority: _,
        correlation_id,
        reply_to,
        expiration,
        message_id,
        timestamp: _,
        kind,
        user_id,
        app_id,
    } = p;
    if headers.is_empty()
        && content_type.is_none()
        && content_encoding.is_none()
        && correlation_id.is_none()
        && reply_to.is_none()
        && expiration.is_none()
        && message_id.is_none()
        && kind.is_none()
        && user_id.is_none()
        && app_id.is_none()
    {
        return Ok(());
    }
    let strings = p.string_fields();
    for (field, value) in strings {
        if let Some(v) = value {
            check_short_string(field, v)?;
        }
    }
    check_table("headers", &p.headers)
}

/// An AMQP method sent by a client on one channel of one connection.
// Methods are transient inputs, built and consumed one at a time, so the size of `BasicPublish` (with its
// properties inline) costs nothing worth a Box in every caller's code.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Method {
    /// `channel.open`.
    ChannelOpen,
    /// `channel.close` by the client (requeues the channel's unacked deliveries).
    ChannelClose,
    /// `confirm.select`: publisher confirms on this channel from now on.
    ConfirmSelect,
    /// `tx.select`: the channel is transactional from now on (publishes and settlements wait for a commit).
    TxSelect,
    /// `tx.commit`: carries out what the transaction holds, then starts a new one.
    TxCommit,
    /// `tx.rollback`: forgets what the transaction holds, then starts a new one.
    TxRollback,
    ExchangeDeclare {
        exchange: String,
        /// `direct`, `fanout`, `topic` or `headers`.
        #[serde(default = "default_exchange_type")]
        exchange_type: String,
        #[serde(default)]
        passive: bool,
        #[serde(default)]
        durable: bool,
        #[serde(default)]
        auto_delete: bool,
        #[serde(default)]
        internal: bool,
        #[serde(default)]
        arguments: FieldTable,
    },
    ExchangeDelete {
        exchange: String,
        #[serde(default)]
        if_unused: bool,
    },
    /// Binds exchange `destination` to exchange `source` (exchange-to-exchange binding).
    ExchangeBind {
        destination: String,
        source: String,
        #[serde(default)]
        routing_key: String,
        #[serde(default)]
        arguments: FieldTable,
    },
    ExchangeUnbind {
        destination: String,
        source: String,
        #[serde(default)]
        routing_key: String,
        #[serde(default)]
        arguments: FieldTable,
    },
    QueueDeclare {
        /// Empty: the broker generates a name (`amq.gen-…`).
        #[serde(default)]
        queue: String,
        #[serde(default)]
        passive: bool,
        #[serde(default)]
        durable: bool,
        #[serde(default)]
        exclusive: bool,
        #[serde(default)]
        auto_delete: bool,
        #[serde(default)]
        arguments: FieldTable,
    },
    QueueBind {
        queue: String,
        exchange: String,
        #[serde(default)]
        routing_key: String,
        #[serde(default)]
        arguments: FieldTable,
    },
    QueueUnbind {
        queue: String,
        exchange: String,
        #[serde(default)]
        routing_key: String,
        #[serde(default)]
        arguments: FieldTable,
    },
    QueuePurge {
        queue: String,
    },
    QueueDelete {
        queue: String,
        #[serde(default)]
        if_unused: bool,
        #[serde(default)]
        if_empty: bool,
    },
    BasicQos {
        /// A prefetch window in bytes: RabbitMQ implements none and refuses any but 0.
        #[serde(default, skip_serializing_if = "is_zero_u32")]
        prefetch_size: u32,
        #[serde(default)]
        prefetch_count: u16,
        #[serde(default)]
        global: bool,
    },
    BasicConsume {
        queue: String,
        /// Empty: the broker generates a tag (`amq.ctag-…`).
        #[serde(default)]
        consumer_tag: String,
        /// pika's `auto_ack`; AMQP's `no-ack`.
        #[serde(default, alias = "no_ack")]
        auto_ack: bool,
        #[serde(default)]
        exclusive: bool,
        #[serde(default)]
        arguments: FieldTable,
    },
    BasicCancel {
        consumer_tag: String,
    },
    BasicPublish {
        #[serde(default)]
        exchange: String,
        #[serde(default)]
        routing_key: String,
        #[serde(default)]
        mandatory: bool,
        /// The `immediate` bit (pika 0.x's `basic_publish(…, immediate=True)`, any client's
        /// `Basic.Publish(immediate=True)`). RabbitMQ never implemented it: it closes the connection with
        /// 540 NOT_IMPLEMENTED - immediate=true before looking at the exchange, the properties or the
        /// channel's mode (`tests/scenarios/amqp/publish-immediate`). Left out of JSON when false, so an
        /// ordinary publish keeps its shape.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        immediate: bool,
        #[serde(default)]
        properties: BasicProperties,
        #[serde(default)]
        body: Vec<u8>,
    },
    BasicGet {
        queue: String,
        #[serde(default, alias = "no_ack")]
        auto_ack: bool,
    },
    BasicAck {
        delivery_tag: DeliveryTag,
        #[serde(default)]
        multiple: bool,
    },
    BasicNack {
        delivery_tag: DeliveryTag,
        #[serde(default)]
        multiple: bool,
        #[serde(default = "default_true")]
        requeue: bool,
    },
    BasicReject {
        delivery_tag: DeliveryTag,
        #[serde(default = "default_true")]
        requeue: bool,
    },
    BasicRecover {
        #[serde(default = "default_true")]
        requeue: bool,
    },
}

fn default_exchange_type() -> String {
    "direct".to_string()
}
fn default_true() -> bool {
    true
}
fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

impl Method {
    /// `Err` if a short-string field (a name, key, tag, table key or string property) is over
    /// [`SHORT_STRING_MAX`] bytes: such a method cannot be encoded, so a client refuses it before sending.
    pub fn check_short_strings(&self) -> Result<(), ShortStringTooLong> {
        let s = check_short_string;
        match self {
            Method::ChannelOpen
            | Method::ChannelClose
            | Method::ConfirmSelect
            | Method::TxSelect
            | Method::TxCommit
            | Method::TxRollback
            | Method::BasicQos { .. }
            | Method::BasicAck { .. }
            | Method::BasicNack { .. }
            | Method::BasicReject { .. }
            | Method::BasicRecover { .. } => Ok(()),
            Method::ExchangeDeclare { exchange, exchange_type, arguments, .. } => {
                s("exchange", exchange)?;
                s("exchange_type", exchange_type)?;
                check_table("arguments", arguments)
            }
            Method::ExchangeDelete { exchange, .. } => s("exchange", exchange),
            Method::ExchangeBind { destination, source, routing_key, arguments }
            | Method::ExchangeUnbind { destination, source, routing_key, arguments } => {
                s("destination", destination)?;
                s("source", source)?;
                s("routing_key", routing_key)?;
                check_table("arguments", arguments)
            }
            Method::QueueDeclare { queue, arguments, .. } => {
                s("queue", queue)?;
                check_table("arguments", arguments)
            }
            Method::QueueBind { queue, exchange, routing_key, arguments }
            | Method::QueueUnbind { queue, exchange, routing_key, arguments } => {
                s("queue", queue)?;
                s("exchange", exchange)?;
                s("routing_key", routing_key)?;
                check_table("arguments", arguments)
            }
            Method::QueuePurge { queue } | Method::QueueDelete { queue, .. } => s("queue", queue),
            Method::BasicConsume { queue, consumer_tag, arguments, .. } => {
                s("queue", queue)?;
                s("consumer_tag", consumer_tag)?;
                check_table("arguments", arguments)
            }
            Method::BasicCancel { consumer_tag } => s("consumer_tag", consumer_tag),
            Method::BasicPublish { exchange, routing_key, properties, .. } => {
                s("exchange", exchange)?;
                s("routing_key", routing_key)?;
                check_properties(properties)
            }
            Method::BasicGet { queue, .. } => s("queue", queue),
        }
    }

    /// The method's AMQP name, e.g. `queue.declare`, as RabbitMQ writes it in logs.
    pub fn amqp_name(&self) -> &'static str {
        match self {
            Method::ChannelOpen => "channel.open",
            Method::ChannelClose => "channel.close",
            Method::ConfirmSelect => "confirm.select",
            Method::TxSelect => "tx.select",
            Method::TxCommit => "tx.commit",
            Method::TxRollback => "tx.rollback",
            Method::ExchangeDeclare { .. } => "exchange.declare",
            Method::ExchangeDelete { .. } => "exchange.delete",
            Method::ExchangeBind { .. } => "exchange.bind",
            Method::ExchangeUnbind { .. } => "exchange.unbind",
            Method::QueueDeclare { .. } => "queue.declare",
            Method::QueueBind { .. } => "queue.bind",
            Method::QueueUnbind { .. } => "queue.unbind",
            Method::QueuePurge { .. } => "queue.purge",
            Method::QueueDelete { .. } => "queue.delete",
            Method::BasicQos { .. } => "basic.qos",
            Method::BasicConsume { .. } => "basic.consume",
            Method::BasicCancel { .. } => "basic.cancel",
            Method::BasicPublish { .. } => "basic.publish",
            Method::BasicGet { .. } => "basic.get",
            Method::BasicAck { .. } => "basic.ack",
            Method::BasicNack { .. } => "basic.nack",
            Method::BasicReject { .. } => "basic.reject",
            Method::BasicRecover { .. } => "basic.recover",
        }
    }
}

/// The broker's synchronous answer to a method (`-ok`), when it did not fail.
///
/// Asynchronous methods (publish, ack, nack, reject) answer [`Reply::None`]; what they cause (deliveries,
/// confirms, returns) appears in the event log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    None,
    ChannelOpenOk { channel: ChannelNumber },
    ChannelCloseOk,
    ConfirmSelectOk,
    TxSelectOk,
    TxCommitOk,
    TxRollbackOk,
    ExchangeDeclareOk,
    ExchangeDeleteOk,
    ExchangeBindOk,
    ExchangeUnbindOk,
    QueueDeclareOk { queue: String, message_count: u32, consumer_count: u32 },
    QueueBindOk,
    QueueUnbindOk,
    QueuePurgeOk { message_count: u32 },
    QueueDeleteOk { message_count: u32 },
    BasicQosOk,
    BasicConsumeOk { consumer_tag: String },
    BasicCancelOk { consumer_tag: String },
    BasicGetOk(Box<Delivery>),
    BasicGetEmpty,
    BasicRecoverOk,
}
