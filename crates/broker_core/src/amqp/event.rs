//! What comes out: everything the broker does, as events with a stable one-line text form.
//!
//! A transcript is the list of [`LoggedEvent`]s printed with `Display`, one per line, so it reads like a
//! broker log and can be compared byte for byte (golden tests, determinism across native and wasm).
//! Changing a `Display` form is a breaking change for every golden transcript: do it deliberately.

use super::error::AmqpError;
use super::types::{ChannelNumber, ConnectionId, Delivery, DeliveryTag, MessageId, Name};
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
}

impl DropReason {
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
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing the broker did.
///
/// (Skeleton: the engine helper completes the variant list and the `Display` forms.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    ConnectionOpened {
        connection: ConnectionId,
        name: Name,
    },
    ConnectionClosed {
        connection: ConnectionId,
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
    Published {
        message: MessageId,
        connection: ConnectionId,
        channel: ChannelNumber,
        exchange: Name,
        routing_key: String,
    },
    /// The routing decision: which queues the message was routed to (possibly none).
    Routed {
        message: MessageId,
        exchange: Name,
        queues: Vec<Name>,
    },
    Enqueued {
        message: MessageId,
        queue: Name,
    },
    Delivered {
        connection: ConnectionId,
        channel: ChannelNumber,
        queue: Name,
        delivery: Box<Delivery>,
    },
    Acked {
        message: MessageId,
        queue: Name,
        delivery_tag: DeliveryTag,
    },
    Nacked {
        message: MessageId,
        queue: Name,
        delivery_tag: DeliveryTag,
        requeue: bool,
    },
    Rejected {
        message: MessageId,
        queue: Name,
        delivery_tag: DeliveryTag,
        requeue: bool,
    },
    Requeued {
        message: MessageId,
        queue: Name,
    },
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

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
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
