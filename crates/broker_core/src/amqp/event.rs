//! What comes out: everything the broker does, as events with a stable one-line text form.
//!
//! A transcript is the list of [`LoggedEvent`]s printed with `Display`, one per line, so it reads like a
//! broker log and can be compared byte for byte (golden tests, determinism across native and wasm).
//! Changing a `Display` form is a breaking change for every golden transcript: do it deliberately.
//!
//! Names are quoted with single quotes as RabbitMQ's own texts do (`queue 'q'`), message ids print as
//! `m<n>` and a channel as `conn<c>/<n>`.

use super::error::AmqpError;
use super::exchange::{Destination, ExchangeType};
use super::types::{
    write_table, ChannelNumber, ConnectionId, Delivery, DeliveryTag, FieldTable, MessageId, Name,
};
use crate::clock::VirtualTime;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a message left a queue without being acknowledged (AMQP `x-death` reasons and the rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Per-queue or per-message TTL ran out (`x-death` reason `expired`).
    Expired,
    /// Rejected or nacked with `requeue=false` (`rejected`).
    Rejected,
    /// Pushed out by `x-max-length` / `x-max-length-bytes` (`maxlen`).
    Maxlen,
    /// Quorum queue delivery limit reached (`delivery_limit`).
    DeliveryLimit,
    /// No binding matched and the publish was not mandatory (or went nowhere after an AE).
    Unroutable,
    /// Refused by `x-overflow: reject-publish` / `reject-publish-dlx` with a full queue.
    Overflow,
    /// The queue was purged.
    Purged,
    /// The queue was deleted with messages in it.
    QueueDeleted,
    /// Dead-lettering found a cycle and RabbitMQ drops the message instead.
    DeadLetterCycle,
    /// The dead-letter exchange does not exist.
    DeadLetterExchangeMissing,
    /// A transient message (or one in a non-durable queue) lost in a broker restart.
    Restart,
}

impl DropReason {
    /// Every reason, in declaration order (for tables and censuses).
    pub const ALL: [DropReason; 11] = [
        DropReason::Expired,
        DropReason::Rejected,
        DropReason::Maxlen,
        DropReason::DeliveryLimit,
        DropReason::Unroutable,
        DropReason::Overflow,
        DropReason::Purged,
        DropReason::QueueDeleted,
        DropReason::DeadLetterCycle,
        DropReason::DeadLetterExchangeMissing,
        DropReason::Restart,
    ];

    /// The `x-death` reason string, for the four reasons RabbitMQ records there.
    pub fn x_death_reason(self) -> Option<&'static str> {
        match self {
            DropReason::Expired => Some("expired"),
            DropReason::Rejected => Some("rejected"),
            DropReason::Maxlen => Some("maxlen"),
            DropReason::DeliveryLimit => Some("delivery_limit"),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Expired => "expired",
            DropReason::Rejected => "rejected",
            DropReason::Maxlen => "maxlen",
            DropReason::DeliveryLimit => "delivery_limit",
            DropReason::Unroutable => "unroutable",
            DropReason::Overflow => "overflow",
            DropReason::Purged => "purged",
            DropReason::QueueDeleted => "queue_deleted",
            DropReason::DeadLetterCycle => "dead_letter_cycle",
            DropReason::DeadLetterExchangeMissing => "dead_letter_exchange_missing",
            DropReason::Restart => "restart",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a queue was deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueDeletedReason {
    /// `queue.delete` by a client.
    Deleted,
    /// An auto-delete queue lost its last consumer.
    AutoDelete,
    /// `x-expires` ran out with the queue unused.
    Expired,
    /// The connection owning an exclusive queue closed.
    OwnerClosed,
    /// A non-durable queue does not survive a broker restart.
    Restart,
}

impl QueueDeletedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueDeletedReason::Deleted => "deleted",
            QueueDeletedReason::AutoDelete => "auto-delete",
            QueueDeletedReason::Expired => "expired",
            QueueDeletedReason::OwnerClosed => "exclusive owner closed",
            QueueDeletedReason::Restart => "broker restart",
        }
    }
}

/// Why the broker cancelled a consumer (or `Client` when the client did).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// `basic.cancel` from the client.
    Client,
    /// The consumer's channel closed.
    ChannelClosed,
    /// The queue was deleted (RabbitMQ sends `basic.cancel` to the consumer).
    QueueDeleted,
}

/// One thing the broker did.
///
/// Every variant has a stable one-line `Display` form, e.g.
/// `deliver m3 from queue 'hello' to conn1/1 ctag 'amq.ctag-…' tag 1 redelivered=false`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The broker restarted ([`Broker::restart`](super::Broker::restart)).
    BrokerRestarted,
    ConnectionOpened {
        connection: ConnectionId,
        name: Name,
    },
    /// A connection closed, by the client (`error: None`) or by the broker with a connection error.
    ConnectionClosed {
        connection: ConnectionId,
        error: Option<AmqpError>,
    },
    ChannelOpened {
        connection: ConnectionId,
        channel: ChannelNumber,
    },
    /// A channel closed, by the client (`error: None`) or by the broker with an error.
    ChannelClosed {
        connection: ConnectionId,
        channel: ChannelNumber,
        error: Option<AmqpError>,
    },
    ConfirmSelected {
        connection: ConnectionId,
        channel: ChannelNumber,
    },
    QosSet {
        connection: ConnectionId,
        channel: ChannelNumber,
        prefetch_count: u16,
        global: bool,
    },
    ExchangeDeclared {
        exchange: Name,
        kind: ExchangeType,
        durable: bool,
        auto_delete: bool,
        internal: bool,
        arguments: FieldTable,
    },
    ExchangeDeleted {
        exchange: Name,
    },
    QueueDeclared {
        queue: Name,
        durable: bool,
        exclusive: bool,
        auto_delete: bool,
        arguments: FieldTable,
    },
    QueueDeleted {
        queue: Name,
        reason: QueueDeletedReason,
        /// Ready messages dropped with the queue.
        message_count: u32,
    },
    QueuePurged {
        queue: Name,
        message_count: u32,
    },
    Bound {
        source: Name,
        destination: Destination,
        routing_key: String,
        arguments: FieldTable,
    },
    Unbound {
        source: Name,
        destination: Destination,
        routing_key: String,
        arguments: FieldTable,
    },
    ConsumerStarted {
        connection: ConnectionId,
        channel: ChannelNumber,
        queue: Name,
        consumer_tag: Name,
    },
    ConsumerCancelled {
        connection: ConnectionId,
        channel: ChannelNumber,
        queue: Name,
        consumer_tag: Name,
        reason: CancelReason,
    },
    Published {
        message: MessageId,
        connection: ConnectionId,
        channel: ChannelNumber,
        exchange: Name,
        routing_key: String,
        /// Body size in bytes.
        size: usize,
    },
    /// The routing decision: which queues the message was routed to (possibly none), sorted by name.
    Routed {
        message: MessageId,
        exchange: Name,
        queues: Vec<Name>,
    },
    Enqueued {
        message: MessageId,
        queue: Name,
    },
    /// A `basic.deliver` to a consumer, or a `basic.get-ok` (then `delivery.consumer_tag` is `None`).
    Delivered {
        connection: ConnectionId,
        channel: ChannelNumber,
        queue: Name,
        delivery: Box<Delivery>,
    },
    GetEmpty {
        connection: ConnectionId,
        channel: ChannelNumber,
        queue: Name,
    },
    Acked {
        message: MessageId,
        queue: Name,
        connection: ConnectionId,
        channel: ChannelNumber,
        delivery_tag: DeliveryTag,
    },
    Nacked {
        message: MessageId,
        queue: Name,
        connection: ConnectionId,
        channel: ChannelNumber,
        delivery_tag: DeliveryTag,
        requeue: bool,
    },
    Rejected {
        message: MessageId,
        queue: Name,
        connection: ConnectionId,
        channel: ChannelNumber,
        delivery_tag: DeliveryTag,
        requeue: bool,
    },
    Requeued {
        message: MessageId,
        queue: Name,
    },
    /// The message's TTL ran out at the head of the queue; a `DeadLettered` or `Dropped` follows.
    Expired {
        message: MessageId,
        queue: Name,
    },
    DeadLettered {
        message: MessageId,
        queue: Name,
        reason: DropReason,
        dead_letter_exchange: Name,
    },
    Dropped {
        message: MessageId,
        queue: Option<Name>,
        reason: DropReason,
    },
    Returned {
        message: MessageId,
        connection: ConnectionId,
        channel: ChannelNumber,
        reply_code: u16,
        reply_text: String,
        exchange: Name,
        routing_key: String,
    },
    Confirmed {
        connection: ConnectionId,
        channel: ChannelNumber,
        delivery_tag: DeliveryTag,
        multiple: bool,
        ack: bool,
    },
}

impl Event {
    /// Every event kind (the `event` tags), in the order of the variants: what a check may name, what
    /// the event log's filter offers.
    pub const KINDS: &'static [&'static str] = &[
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

    /// The event's kind: its `event` tag in JSON (`delivered`). The one place a kind is derived.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::BrokerRestarted => "broker_restarted",
            Event::ConnectionOpened { .. } => "connection_opened",
            Event::ConnectionClosed { .. } => "connection_closed",
            Event::ChannelOpened { .. } => "channel_opened",
            Event::ChannelClosed { .. } => "channel_closed",
            Event::ConfirmSelected { .. } => "confirm_selected",
            Event::QosSet { .. } => "qos_set",
            Event::ExchangeDeclared { .. } => "exchange_declared",
            Event::ExchangeDeleted { .. } => "exchange_deleted",
            Event::QueueDeclared { .. } => "queue_declared",
            Event::QueueDeleted { .. } => "queue_deleted",
            Event::QueuePurged { .. } => "queue_purged",
            Event::Bound { .. } => "bound",
            Event::Unbound { .. } => "unbound",
            Event::ConsumerStarted { .. } => "consumer_started",
            Event::ConsumerCancelled { .. } => "consumer_cancelled",
            Event::Published { .. } => "published",
            Event::Routed { .. } => "routed",
            Event::Enqueued { .. } => "enqueued",
            Event::Delivered { .. } => "delivered",
            Event::GetEmpty { .. } => "get_empty",
            Event::Acked { .. } => "acked",
            Event::Nacked { .. } => "nacked",
            Event::Rejected { .. } => "rejected",
            Event::Requeued { .. } => "requeued",
            Event::Expired { .. } => "expired",
            Event::DeadLettered { .. } => "dead_lettered",
            Event::Dropped { .. } => "dropped",
            Event::Returned { .. } => "returned",
            Event::Confirmed { .. } => "confirmed",
        }
    }

    /// The connection the event happened on, if any.
    pub fn connection(&self) -> Option<ConnectionId> {
        self.fields().connection
    }

    /// The fields a check's matcher looks at, read without serializing the event.
    fn fields(&self) -> Fields<'_> {
        let mut f = Fields::default();
        match self {
            Event::BrokerRestarted => {}
            Event::ConnectionOpened { connection, .. }
            | Event::ConnectionClosed { connection, .. }
            | Event::ChannelOpened { connection, .. }
            | Event::ChannelClosed { connection, .. }
            | Event::ConfirmSelected { connection, .. }
            | Event::QosSet { connection, .. }
            | Event::Confirmed { connection, .. } => f.connection = Some(*connection),
            Event::ExchangeDeclared { exchange, .. } | Event::ExchangeDeleted { exchange } => {
                f.exchange = Some(&**exchange)
            }
            Event::QueueDeclared { queue, .. }
            | Event::QueueDeleted { queue, .. }
            | Event::QueuePurged { queue, .. }
            | Event::Enqueued { queue, .. }
            | Event::Requeued { queue, .. }
            | Event::Expired { queue, .. } => f.queue = Some(&**queue),
            Event::Bound { source, routing_key, .. } | Event::Unbound { source, routing_key, .. } => {
                (f.exchange, f.routing_key) = (Some(&**source), Some(routing_key.as_str()))
            }
            Event::ConsumerStarted { connection, queue, .. }
            | Event::ConsumerCancelled { connection, queue, .. }
            | Event::GetEmpty { connection, queue, .. }
            | Event::Acked { connection, queue, .. }
            | Event::Nacked { connection, queue, .. }
            | Event::Rejected { connection, queue, .. } => {
                (f.connection, f.queue) = (Some(*connection), Some(&**queue))
            }
            Event::Published { connection, exchange, routing_key, .. }
            | Event::Returned { connection, exchange, routing_key, .. } => {
                f.connection = Some(*connection);
                f.exchange = Some(&**exchange);
                f.routing_key = Some(routing_key.as_str());
            }
            Event::Routed { exchange, .. } => f.exchange = Some(&**exchange),
            Event::Delivered { connection, queue, delivery, .. } => {
                f.connection = Some(*connection);
                f.queue = Some(&**queue);
                f.exchange = Some(delivery.exchange.as_str());
                f.routing_key = Some(delivery.routing_key.as_str());
            }
            Event::DeadLettered { queue, reason, dead_letter_exchange, .. } => {
                f.queue = Some(&**queue);
                f.reason = Some(reason.as_str());
                f.exchange = Some(&**dead_letter_exchange);
            }
            Event::Dropped { queue, reason, .. } => {
                f.queue = queue.as_deref();
                f.reason = Some(reason.as_str());
            }
        }
        f
    }
}

/// The fields of an event a check can filter on.
#[derive(Default)]
struct Fields<'a> {
    connection: Option<ConnectionId>,
    queue: Option<&'a str>,
    exchange: Option<&'a str>,
    routing_key: Option<&'a str>,
    reason: Option<&'static str>,
}

impl sim_kernel::EventInfo for Event {
    const KINDS: &'static [&'static str] = Event::KINDS;
    /// Deliveries, returns and confirms: what a client sees arrive on its own.
    const SHOWN_BY_DEFAULT: &'static [&'static str] = &["delivered", "returned", "confirmed"];
    type Client = ConnectionId;

    fn kind(&self) -> &'static str {
        Event::kind(self)
    }

    /// A `delivered` event answering a `basic.get` is `get` to a filter: its step line already shows the
    /// message, so the default transcript leaves it out.
    fn filter_kind(&self) -> &'static str {
        match self {
            Event::Delivered { delivery, .. } if delivery.consumer_tag.is_none() => "get",
            _ => Event::kind(self),
        }
    }

    fn client(&self) -> Option<ConnectionId> {
        self.connection()
    }

    /// Fields `queue` (any of a routing decision's queues), `exchange`, `routing_key` and `reason`.
    fn field_is(&self, name: &str, value: &str) -> bool {
        if let (Event::Routed { queues, .. }, "queue") = (self, name) {
            return queues.iter().any(|q| **q == *value);
        }
        let f = self.fields();
        let field = match name {
            "queue" => f.queue,
            "exchange" => f.exchange,
            "routing_key" => f.routing_key,
            "reason" => f.reason,
            _ => None,
        };
        field == Some(value)
    }
}

fn write_queue_list(f: &mut fmt::Formatter<'_>, queues: &[Name]) -> fmt::Result {
    match queues {
        [] => write!(f, "no queues"),
        [q] => write!(f, "queue '{q}'"),
        many => {
            write!(f, "queues ")?;
            for (i, q) in many.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "'{q}'")?;
            }
            Ok(())
        }
    }
}

fn write_args(f: &mut fmt::Formatter<'_>, arguments: &FieldTable) -> fmt::Result {
    if arguments.is_empty() {
        Ok(())
    } else {
        write!(f, " ")?;
        write_table(f, arguments)
    }
}

fn flags(f: &mut fmt::Formatter<'_>, set: &[(bool, &str)]) -> fmt::Result {
    for (on, name) in set {
        if *on {
            write!(f, " {name}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::BrokerRestarted => write!(f, "broker restart"),
            Event::ConnectionOpened { connection, name } => write!(f, "open {connection} '{name}'"),
            Event::ConnectionClosed { connection, error: None } => write!(f, "close {connection}"),
            Event::ConnectionClosed { connection, error: Some(e) } => write!(f, "{connection} closed: {e}"),
            Event::ChannelOpened { connection, channel } => write!(f, "open channel {connection}/{channel}"),
            Event::ChannelClosed { connection, channel, error: None } => {
                write!(f, "close channel {connection}/{channel}")
            }
            Event::ChannelClosed { connection, channel, error: Some(e) } => {
                write!(f, "channel {connection}/{channel} closed: {e}")
            }
            Event::ConfirmSelected { connection, channel } => {
                write!(f, "confirm.select on {connection}/{channel}")
            }
            Event::QosSet { connection, channel, prefetch_count, global } => {
                write!(f, "qos prefetch {prefetch_count} global={global} on {connection}/{channel}")
            }
            Event::ExchangeDeclared { exchange, kind, durable, auto_delete, internal, arguments } => {
                write!(f, "declare exchange '{exchange}' {kind}")?;
                flags(f, &[(*durable, "durable"), (*auto_delete, "auto-delete"), (*internal, "internal")])?;
                write_args(f, arguments)
            }
            Event::ExchangeDeleted { exchange } => write!(f, "delete exchange '{exchange}'"),
            Event::QueueDeclared { queue, durable, exclusive, auto_delete, arguments } => {
                write!(f, "declare queue '{queue}'")?;
                flags(f, &[(*durable, "durable"), (*exclusive, "exclusive"), (*auto_delete, "auto-delete")])?;
                write_args(f, arguments)
            }
            Event::QueueDeleted { queue, reason, message_count } => {
                write!(f, "delete queue '{queue}' ({}, {message_count} messages)", reason.as_str())
            }
            Event::QueuePurged { queue, message_count } => {
                write!(f, "purge queue '{queue}' ({message_count} messages)")
            }
            Event::Bound { source, destination, routing_key, arguments } => {
                write!(f, "bind {destination} to exchange '{source}' key '{routing_key}'")?;
                write_args(f, arguments)
            }
            Event::Unbound { source, destination, routing_key, arguments } => {
                write!(f, "unbind {destination} from exchange '{source}' key '{routing_key}'")?;
                write_args(f, arguments)
            }
            Event::ConsumerStarted { connection, channel, queue, consumer_tag } => {
                write!(f, "consume queue '{queue}' on {connection}/{channel} ctag '{consumer_tag}'")
            }
            Event::ConsumerCancelled { connection, channel, queue, consumer_tag, reason } => {
                write!(f, "cancel ctag '{consumer_tag}' on {connection}/{channel} (queue '{queue}'")?;
                match reason {
                    CancelReason::Client => write!(f, ")"),
                    CancelReason::ChannelClosed => write!(f, ", channel closed)"),
                    CancelReason::QueueDeleted => write!(f, ", queue deleted)"),
                }
            }
            Event::Published { message, connection, channel, exchange, routing_key, size } => write!(
                f,
                "publish {message} on {connection}/{channel} to exchange '{exchange}' key '{routing_key}' \
                 ({size} bytes)"
            ),
            Event::Routed { message, exchange, queues } => {
                write!(f, "route {message} via exchange '{exchange}' -> ")?;
                write_queue_list(f, queues)
            }
            Event::Enqueued { message, queue } => write!(f, "enqueue {message} on queue '{queue}'"),
            Event::Delivered { connection, channel, queue, delivery } => {
                let d = delivery;
                match &d.consumer_tag {
                    Some(ctag) => write!(
                        f,
                        "deliver {} from queue '{queue}' to {connection}/{channel} ctag '{ctag}' tag {} \
                         redelivered={}",
                        d.message, d.delivery_tag, d.redelivered
                    ),
                    None => write!(
                        f,
                        "get {} from queue '{queue}' on {connection}/{channel} tag {} redelivered={} ({} left)",
                        d.message,
                        d.delivery_tag,
                        d.redelivered,
                        d.message_count.unwrap_or(0)
                    ),
                }
            }
            Event::GetEmpty { connection, channel, queue } => {
                write!(f, "get-empty from queue '{queue}' on {connection}/{channel}")
            }
            Event::Acked { message, queue, connection, channel, delivery_tag } => {
                write!(f, "ack {message} tag {delivery_tag} on {connection}/{channel} (queue '{queue}')")
            }
            Event::Nacked { message, queue, connection, channel, delivery_tag, requeue } => write!(
                f,
                "nack {message} tag {delivery_tag} on {connection}/{channel} requeue={requeue} (queue '{queue}')"
            ),
            Event::Rejected { message, queue, connection, channel, delivery_tag, requeue } => write!(
                f,
                "reject {message} tag {delivery_tag} on {connection}/{channel} requeue={requeue} \
                 (queue '{queue}')"
            ),
            Event::Requeued { message, queue } => write!(f, "requeue {message} to queue '{queue}'"),
            Event::Expired { message, queue } => write!(f, "expire {message} in queue '{queue}'"),
            Event::DeadLettered { message, queue, reason, dead_letter_exchange } => write!(
                f,
                "dead-letter {message} from queue '{queue}' ({reason}) -> exchange '{dead_letter_exchange}'"
            ),
            Event::Dropped { message, queue: Some(q), reason } => {
                write!(f, "drop {message} from queue '{q}' ({reason})")
            }
            Event::Dropped { message, queue: None, reason } => write!(f, "drop {message} ({reason})"),
            Event::Returned { message, connection, channel, reply_code, reply_text, exchange, routing_key } => {
                write!(
                    f,
                    "return {message} to {connection}/{channel}: {reply_code} {reply_text} (exchange \
                     '{exchange}' key '{routing_key}')"
                )
            }
            Event::Confirmed { connection, channel, delivery_tag, multiple, ack } => {
                let what = if *ack { "ack" } else { "nack" };
                let multiple = if *multiple { " multiple" } else { "" };
                write!(f, "confirm {what} seq {delivery_tag}{multiple} on {connection}/{channel}")
            }
        }
    }
}

/// An event with the virtual time it happened at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoggedEvent {
    pub at: VirtualTime,
    #[serde(flatten)]
    pub event: Event,
}

impl fmt::Display for LoggedEvent {
    /// `12.345s <event>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.at, self.event)
    }
}
