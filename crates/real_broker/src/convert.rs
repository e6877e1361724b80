//! Between the engine's AMQP vocabulary (`broker_core::amqp`) and `amq-protocol`'s wire types: field
//! tables, message properties, the methods a scenario sends and the replies and errors RabbitMQ sends back.

use amq_protocol::protocol::{basic, channel, confirm, exchange, queue, tx, AMQPClass};
use amq_protocol::types::{
    AMQPValue, ByteArray, DecimalValue, FieldArray, FieldTable, LongString, ShortString,
};
use broker_core::amqp::{AmqpError, BasicProperties, ErrorScope, FieldValue, Method, ReplyCode, TypedValue};

/// A scenario value as pika encodes it: integers as signed 32 bits when they fit (`I`), else 64 (`l`);
/// strings as long strings (`S`); floats as doubles (`d`). A typed value goes as its own type.
pub(crate) fn to_amqp_value(v: &FieldValue) -> AMQPValue {
    match v {
        FieldValue::Bool(b) => AMQPValue::Boolean(*b),
        FieldValue::Int(i) => match i32::try_from(*i) {
            Ok(small) => AMQPValue::LongInt(small),
            Err(_) => AMQPValue::LongLongInt(*i),
        },
        FieldValue::Float(x) => AMQPValue::Double(*x),
        FieldValue::Str(s) => AMQPValue::LongString(LongString::from(s.as_str())),
        FieldValue::Array(items) => {
            AMQPValue::FieldArray(FieldArray::from(items.iter().map(to_amqp_value).collect::<Vec<_>>()))
        }
        FieldValue::Table(t) => AMQPValue::FieldTable(to_amqp_table(t)),
        FieldValue::Void => AMQPValue::Void,
        FieldValue::Typed(t) => match t {
            TypedValue::Int8(v) => AMQPValue::ShortShortInt(*v),
            TypedValue::Uint8(v) => AMQPValue::ShortShortUInt(*v),
            TypedValue::Int16(v) => AMQPValue::ShortInt(*v),
            TypedValue::Uint16(v) => AMQPValue::ShortUInt(*v),
            TypedValue::Uint32(v) => AMQPValue::LongUInt(*v),
            TypedValue::Int64(v) => AMQPValue::LongLongInt(*v),
            TypedValue::Float32(v) => AMQPValue::Float(*v),
            TypedValue::Decimal(scale, value) => {
                AMQPValue::DecimalValue(DecimalValue { scale: *scale, value: *value })
            }
            TypedValue::Timestamp(v) => AMQPValue::Timestamp(*v),
            TypedValue::Bytes(b) => AMQPValue::ByteArray(ByteArray::from(b.clone())),
        },
    }
}

pub(crate) fn to_amqp_table(t: &broker_core::amqp::FieldTable) -> FieldTable {
    let mut out = FieldTable::default();
    for (k, v) in t {
        out.insert(ShortString::from(k.as_str()), to_amqp_value(v));
    }
    out
}

/// A received value in the engine's terms: what pika reads as a Python `int` (`I`, `l`) as `Int`, strings
/// as `Str`, every other type exactly (so a transcript shows what was sent).
pub(crate) fn from_amqp_value(v: &AMQPValue) -> FieldValue {
    match v {
        AMQPValue::Boolean(b) => FieldValue::Bool(*b),
        AMQPValue::ShortShortInt(i) => FieldValue::Typed(TypedValue::Int8(*i)),
        AMQPValue::ShortShortUInt(i) => FieldValue::Typed(TypedValue::Uint8(*i)),
        AMQPValue::ShortInt(i) => FieldValue::Typed(TypedValue::Int16(*i)),
        AMQPValue::ShortUInt(i) => FieldValue::Typed(TypedValue::Uint16(*i)),
        AMQPValue::LongInt(i) => FieldValue::Int(i64::from(*i)),
        AMQPValue::LongUInt(i) => FieldValue::Typed(TypedValue::Uint32(*i)),
        AMQPValue::LongLongInt(i) => FieldValue::Int(*i),
        AMQPValue::Timestamp(t) => FieldValue::Typed(TypedValue::Timestamp(*t)),
        AMQPValue::Float(x) => FieldValue::Typed(TypedValue::Float32(*x)),
        AMQPValue::Double(x) => FieldValue::Float(*x),
        AMQPValue::DecimalValue(d) => FieldValue::Typed(TypedValue::Decimal(d.scale, d.value)),
        AMQPValue::ShortString(s) => FieldValue::Str(s.as_str().to_string()),
        AMQPValue::LongString(s) => FieldValue::Str(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ByteArray(b) => FieldValue::Typed(TypedValue::Bytes(b.as_slice().to_vec())),
        AMQPValue::FieldArray(items) => {
            FieldValue::Array(items.as_slice().iter().map(from_amqp_value).collect())
        }
        AMQPValue::FieldTable(t) => FieldValue::Table(from_amqp_table(t)),
        AMQPValue::Void => FieldValue::Void,
    }
}

pub(crate) fn from_amqp_table(t: &FieldTable) -> broker_core::amqp::FieldTable {
    t.inner().iter().map(|(k, v)| (k.as_str().to_string(), from_amqp_value(v))).collect()
}

pub(crate) fn to_amqp_properties(p: &BasicProperties) -> basic::AMQPProperties {
    let mut out = basic::AMQPProperties::default();
    let s = |v: &String| ShortString::from(v.as_str());
    if let Some(v) = &p.content_type {
        out = out.with_content_type(s(v));
    }
    if let Some(v) = &p.content_encoding {
        out = out.with_content_encoding(s(v));
    }
    if !p.headers.is_empty() {
        out = out.with_headers(to_amqp_table(&p.headers));
    }
    if let Some(v) = p.delivery_mode {
        out = out.with_delivery_mode(v);
    }
    if let Some(v) = p.priority {
        out = out.with_priority(v);
    }
    if let Some(v) = &p.correlation_id {
        out = out.with_correlation_id(s(v));
    }
    if let Some(v) = &p.reply_to {
        out = out.with_reply_to(s(v));
    }
    if let Some(v) = &p.expiration {
        out = out.with_expiration(s(v));
    }
    if let Some(v) = &p.message_id {
        out = out.with_message_id(s(v));
    }
    if let Some(v) = p.timestamp {
        out = out.with_timestamp(v);
    }
    if let Some(v) = &p.kind {
        out = out.with_type(s(v));
    }
    if let Some(v) = &p.user_id {
        out = out.with_user_id(s(v));
    }
    if let Some(v) = &p.app_id {
        out = out.with_app_id(s(v));
    }
    out
}

pub(crate) fn from_amqp_properties(p: &basic::AMQPProperties) -> BasicProperties {
    let s = |v: &Option<ShortString>| v.as_ref().map(|v| v.as_str().to_string());
    BasicProperties {
        content_type: s(p.content_type()),
        content_encoding: s(p.content_encoding()),
        headers: p.headers().as_ref().map(from_amqp_table).unwrap_or_default(),
        delivery_mode: *p.delivery_mode(),
        priority: *p.priority(),
        correlation_id: s(p.correlation_id()),
        reply_to: s(p.reply_to()),
        expiration: s(p.expiration()),
        message_id: s(p.message_id()),
        timestamp: *p.timestamp(),
        kind: s(p.kind()),
        user_id: s(p.user_id()),
        app_id: s(p.app_id()),
    }
}

/// The wire form of a scenario method: the method frame, and for a publish its properties and body.
pub(crate) struct Outgoing {
    pub class: AMQPClass,
    pub content: Option<(basic::AMQPProperties, Vec<u8>)>,
    /// Whether the broker answers with a `-ok` (otherwise the method is asynchronous).
    pub synchronous: bool,
    /// `basic.qos`'s prefetch-size, which `amq-protocol`'s `Qos` cannot carry (see `Wire`).
    pub prefetch_size: u32,
}

pub(crate) fn outgoing(method: &Method) -> Outgoing {
    let sync = |class| Outgoing { class, content: None, synchronous: true, prefetch_size: 0 };
    let async_ = |class| Outgoing { class, content: None, synchronous: false, prefetch_size: 0 };
    let s = |v: &str| ShortString::from(v);
    match method {
        Method::ChannelOpen => sync(AMQPClass::Channel(channel::AMQPMethod::Open(channel::Open {}))),
        Method::ChannelClose => sync(AMQPClass::Channel(channel::AMQPMethod::Close(channel::Close {
            reply_code: 200,
            reply_text: s("Normal shutdown"),
            class_id: 0,
            method_id: 0,
        }))),
        Method::ConfirmSelect => {
            sync(AMQPClass::Confirm(confirm::AMQPMethod::Select(confirm::Select { nowait: false })))
        }
        Method::TxSelect => sync(AMQPClass::Tx(tx::AMQPMethod::Select(tx::Select {}))),
        Method::TxCommit => sync(AMQPClass::Tx(tx::AMQPMethod::Commit(tx::Commit {}))),
        Method::TxRollback => sync(AMQPClass::Tx(tx::AMQPMethod::Rollback(tx::Rollback {}))),
        Method::ExchangeDeclare {
            exchange,
            exchange_type,
            passive,
            durable,
            auto_delete,
            internal,
            arguments,
        } => sync(AMQPClass::Exchange(exchange::AMQPMethod::Declare(exchange::Declare {
            exchange: s(exchange),
            kind: s(exchange_type),
            passive: *passive,
            durable: *durable,
            auto_delete: *auto_delete,
            internal: *internal,
            nowait: false,
            arguments: to_amqp_table(arguments),
        }))),
        Method::ExchangeDelete { exchange, if_unused } => {
            sync(AMQPClass::Exchange(exchange::AMQPMethod::Delete(exchange::Delete {
                exchange: s(exchange),
                if_unused: *if_unused,
                nowait: false,
            })))
        }
        Method::ExchangeBind { destination, source, routing_key, arguments } => {
            sync(AMQPClass::Exchange(exchange::AMQPMethod::Bind(exchange::Bind {
                destination: s(destination),
                source: s(source),
                routing_key: s(routing_key),
                nowait: false,
                arguments: to_amqp_table(arguments),
            })))
        }
        Method::ExchangeUnbind { destination, source, routing_key, arguments } => {
            sync(AMQPClass::Exchange(exchange::AMQPMethod::Unbind(exchange::Unbind {
                destination: s(destination),
                source: s(source),
                routing_key: s(routing_key),
                nowait: false,
                arguments: to_amqp_table(arguments),
            })))
        }
        Method::QueueDeclare { queue, passive, durable, exclusive, auto_delete, arguments } => {
            sync(AMQPClass::Queue(queue::AMQPMethod::Declare(queue::Declare {
                queue: s(queue),
                passive: *passive,
                durable: *durable,
                exclusive: *exclusive,
                auto_delete: *auto_delete,
                nowait: false,
                arguments: to_amqp_table(arguments),
            })))
        }
        Method::QueueBind { queue, exchange, routing_key, arguments } => {
            sync(AMQPClass::Queue(queue::AMQPMethod::Bind(queue::Bind {
                queue: s(queue),
                exchange: s(exchange),
                routing_key: s(routing_key),
                nowait: false,
                arguments: to_amqp_table(arguments),
            })))
        }
        Method::QueueUnbind { queue, exchange, routing_key, arguments } => {
            sync(AMQPClass::Queue(queue::AMQPMethod::Unbind(queue::Unbind {
                queue: s(queue),
                exchange: s(exchange),
                routing_key: s(routing_key),
                arguments: to_amqp_table(arguments),
            })))
        }
        Method::QueuePurge { queue } => {
            sync(AMQPClass::Queue(queue::AMQPMethod::Purge(queue::Purge { queue: s(queue), nowait: false })))
        }
        Method::QueueDelete { queue, if_unused, if_empty } => {
            sync(AMQPClass::Queue(queue::AMQPMethod::Delete(queue::Delete {
                queue: s(queue),
                if_unused: *if_unused,
                if_empty: *if_empty,
                nowait: false,
            })))
        }
        Method::BasicQos { prefetch_size, prefetch_count, global } => Outgoing {
            prefetch_size: *prefetch_size,
            ..sync(AMQPClass::Basic(basic::AMQPMethod::Qos(basic::Qos {
                prefetch_count: *prefetch_count,
                global: *global,
            })))
        },
        Method::BasicConsume { queue, consumer_tag, auto_ack, exclusive, arguments } => {
            sync(AMQPClass::Basic(basic::AMQPMethod::Consume(basic::Consume {
                queue: s(queue),
                consumer_tag: s(consumer_tag),
                no_local: false,
                no_ack: *auto_ack,
                exclusive: *exclusive,
                nowait: false,
                arguments: to_amqp_table(arguments),
            })))
        }
        Method::BasicCancel { consumer_tag } => {
            sync(AMQPClass::Basic(basic::AMQPMethod::Cancel(basic::Cancel {
                consumer_tag: s(consumer_tag),
                nowait: false,
            })))
        }
        Method::BasicPublish { exchange, routing_key, mandatory, immediate, properties, body } => Outgoing {
            class: AMQPClass::Basic(basic::AMQPMethod::Publish(basic::Publish {
                exchange: s(exchange),
                routing_key: s(routing_key),
                mandatory: *mandatory,
                immediate: *immediate,
            })),
            content: Some((to_amqp_properties(properties), body.clone())),
            synchronous: false,
            prefetch_size: 0,
        },
        Method::BasicGet { queue, auto_ack } => {
            sync(AMQPClass::Basic(basic::AMQPMethod::Get(basic::Get { queue: s(queue), no_ack: *auto_ack })))
        }
        Method::BasicAck { delivery_tag, multiple } => {
            async_(AMQPClass::Basic(basic::AMQPMethod::Ack(basic::Ack {
                delivery_tag: delivery_tag.0,
                multiple: *multiple,
            })))
        }
        Method::BasicNack { delivery_tag, multiple, requeue } => {
            async_(AMQPClass::Basic(basic::AMQPMethod::Nack(basic::Nack {
                delivery_tag: delivery_tag.0,
                multiple: *multiple,
                requeue: *requeue,
            })))
        }
        Method::BasicReject { delivery_tag, requeue } => {
            async_(AMQPClass::Basic(basic::AMQPMethod::Reject(basic::Reject {
                delivery_tag: delivery_tag.0,
                requeue: *requeue,
            })))
        }
        Method::BasicRecover { requeue } => {
            sync(AMQPClass::Basic(basic::AMQPMethod::Recover(basic::Recover { requeue: *requeue })))
        }
    }
}

/// RabbitMQ's reply code as the engine's [`ReplyCode`]; `None` for a code the engine does not name.
pub(crate) fn reply_code(code: u16) -> Option<ReplyCode> {
    Some(match code {
        312 => ReplyCode::NoRoute,
        320 => ReplyCode::ConnectionForced,
        403 => ReplyCode::AccessRefused,
        404 => ReplyCode::NotFound,
        405 => ReplyCode::ResourceLocked,
        406 => ReplyCode::PreconditionFailed,
        501 => ReplyCode::FrameError,
        503 => ReplyCode::CommandInvalid,
        504 => ReplyCode::ChannelError,
        505 => ReplyCode::UnexpectedFrame,
        530 => ReplyCode::NotAllowed,
        540 => ReplyCode::NotImplemented,
        541 => ReplyCode::InternalError,
        _ => return None,
    })
}

/// A `channel.close` or `connection.close` from the broker as the engine's error. A code the engine has
/// no name for is kept in the text (`INTERNAL_ERROR` stands in for the code).
pub(crate) fn broker_error(scope: ErrorScope, code: u16, text: &str) -> AmqpError {
    match reply_code(code) {
        Some(code) => AmqpError { scope, code, text: text.to_string() },
        None => AmqpError { scope, code: ReplyCode::InternalError, text: format!("(code {code}) {text}") },
    }
}
