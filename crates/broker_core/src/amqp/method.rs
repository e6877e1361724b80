//! What goes in: the AMQP 0-9-1 methods a client sends on a channel, and the `-ok` replies.
//!
//! Field names follow the AMQP spec and pika (`queue_declare(queue=…, durable=…)`), so a client program
//! translates line by line. Every field has the spec's default via `#[serde(default)]`.

use super::types::{BasicProperties, ChannelNumber, Delivery, DeliveryTag, FieldTable};
use serde::{Deserialize, Serialize};

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

impl Method {
    /// The method's AMQP name, e.g. `queue.declare`, as RabbitMQ writes it in logs.
    pub fn amqp_name(&self) -> &'static str {
        match self {
            Method::ChannelOpen => "channel.open",
            Method::ChannelClose => "channel.close",
            Method::ConfirmSelect => "confirm.select",
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
