//! Connections and channels: delivery tags, unacknowledged deliveries, consumers, prefetch and
//! publisher-confirm sequence numbers.
//!
//! # Invariants
//! - Delivery tags on a channel start at 1 and increase by one per delivery (`basic.deliver` or
//!   `basic.get-ok`); `unacked` is keyed by tag, so iteration is in delivery order.
//! - `consumer_unacked` is the number of entries of `unacked` that came from a consumer (not `basic.get`),
//!   which is what a global (`basic.qos global=true`) prefetch limits, as RabbitMQ 3.x's limiter does.

use super::consumer::Consumer;
use super::message::QueuedMessage;
use super::types::{ChannelNumber, Name};
use std::collections::BTreeMap;

/// A delivery awaiting its ack.
#[derive(Clone, Debug, PartialEq)]
pub struct Unacked {
    pub message: QueuedMessage,
    pub queue: Name,
    pub queue_incarnation: u64,
    /// The consumer it went to; `None` for `basic.get`.
    pub consumer_tag: Option<Name>,
}

#[derive(Clone, Debug, Default)]
pub struct Channel {
    pub next_delivery_tag: u64,
    pub unacked: BTreeMap<u64, Unacked>,
    pub consumer_unacked: u32,
    pub consumers: BTreeMap<Name, Consumer>,
    /// `basic.qos global=false`: the prefetch given to consumers started from now on (0 = unlimited).
    pub consumer_prefetch: u16,
    /// `basic.qos global=true`: a limit shared by all consumers on the channel (0 = unlimited).
    pub global_prefetch: u16,
    pub confirm: bool,
    /// The next publish sequence number once `confirm.select` is on (starts at 1).
    pub next_publish_seq: u64,
}

impl Channel {
    pub fn new() -> Self {
        Channel { next_delivery_tag: 1, next_publish_seq: 1, ..Channel::default() }
    }

    /// Whether the channel-wide limit allows one more consumer delivery.
    pub fn has_global_credit(&self) -> bool {
        self.global_prefetch == 0 || self.consumer_unacked < u32::from(self.global_prefetch)
    }

    pub fn take_delivery_tag(&mut self) -> u64 {
        let tag = self.next_delivery_tag;
        self.next_delivery_tag += 1;
        tag
    }
}

/// A client connection and its open channels.
#[derive(Clone, Debug)]
pub struct Connection {
    pub name: Name,
    pub channels: BTreeMap<ChannelNumber, Channel>,
}
