//! Connections and channels: delivery tags, unacknowledged deliveries, consumers, prefetch and
//! publisher-confirm sequence numbers.
//!
//! # Invariants
//! - Delivery tags on a channel start at 1 and increase by one per delivery (`basic.deliver` or
//!   `basic.get-ok`); `unacked` is keyed by tag, so iteration is in delivery order.
//! - `consumer_unacked` is the number of entries of `unacked` that came from a consumer (not `basic.get`),
//!   which is what a global (`basic.qos global=true`) prefetch limits, as RabbitMQ 3.x's limiter does.
//! - `UnackedMap` holds its entries in increasing tag order, each tag once.
//! - A transactional channel (`tx`) never has confirms on. Its `held_tags` are exactly the tags of its
//!   held settlements, each also still in `unacked` (it stays there, counted, until the commit).

use super::consumer::Consumer;
use super::message::QueuedMessage;
use super::types::{BasicProperties, ChannelNumber, MessageId, Name};
use super::vec_map::VecMap;
use std::collections::{BTreeSet, VecDeque};
use std::rc::Rc;

/// A publish held by a transaction until `tx.commit`, already checked (exchange, size, expiration,
/// `CC` / `BCC`).
#[derive(Clone, Debug, PartialEq)]
pub struct HeldPublish {
    pub exchange: Name,
    pub routing_key: String,
    /// The sender-selected routing keys (`CC`, then `BCC`).
    pub also: Vec<Box<str>>,
    pub mandatory: bool,
    pub properties: BasicProperties,
    pub body: Vec<u8>,
    /// The queues the publish was routed to when it arrived: RabbitMQ routes a transaction's publish at
    /// once and delivers at the commit to those of them that still exist, whatever the bindings are by
    /// then (`tests/scenarios/amqp/tx-routing-at-publish`). The default exchange names its queues without
    /// looking them up, so a queue declared before the commit is among them.
    pub queues: Vec<Name>,
}

/// What a held settlement does at commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeldSettle {
    Ack,
    Nack { requeue: bool },
    Reject { requeue: bool },
}

/// A channel's open transaction (`tx.select`): the publishes and settlements it holds, in order, until
/// `tx.commit` carries them out or `tx.rollback` forgets them. After either a new one starts at once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transaction {
    pub publishes: Vec<HeldPublish>,
    /// Each `basic.ack` / `nack` / `reject`, with the delivery tags it settles (ascending).
    pub settles: Vec<(HeldSettle, Vec<u64>)>,
    /// Every tag in `settles`: settled once, a tag is unknown to a second settlement, as in RabbitMQ
    /// (which takes it out of the channel's unacked list at once and puts it back on rollback).
    pub held_tags: BTreeSet<u64>,
}

/// A delivery awaiting its ack.
#[derive(Clone, Debug, PartialEq)]
pub struct Unacked {
    pub message: QueuedMessage,
    pub queue: Name,
    pub queue_incarnation: u64,
    /// The consumer it went to; `None` for `basic.get`.
    pub consumer_tag: Option<Name>,
}

/// A channel's unacknowledged deliveries by delivery tag, in tag order: the ordered map the broker needs
/// (lookup, removal, ranges and iteration by tag), kept as a deque because tags only grow. A delivery
/// appends at the back and the usual ack (the oldest, or one near it) removes at or near the front, so
/// neither allocates nor moves more than a few entries, where a B-tree searched and rebalanced nodes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnackedMap {
    entries: VecDeque<(u64, Unacked)>,
}

impl UnackedMap {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where `tag` is, or where it would go.
    fn position(&self, tag: u64) -> Result<usize, usize> {
        // Acks usually come in delivery order: the oldest is found at once, any other by bisection.
        match self.entries.front() {
            Some((first, _)) if *first == tag => return Ok(0),
            _ => {}
        }
        self.entries.binary_search_by_key(&tag, |(t, _)| *t)
    }

    /// Adds the delivery with `tag` (a new tag is the largest so far: appended), replacing any with that
    /// tag.
    pub fn insert(&mut self, tag: u64, u: Unacked) {
        if self.entries.back().is_none_or(|(last, _)| *last < tag) {
            self.entries.push_back((tag, u));
            return;
        }
        match self.position(tag) {
            Ok(i) => self.entries[i].1 = u,
            Err(i) => self.entries.insert(i, (tag, u)),
        }
    }

    /// Appends the delivery with `tag`, the largest tag so far (a new delivery's: tags only grow). Inline
    /// so that the entry is built where the deque keeps it: at the bench profile's opt-level "s" every move
    /// of a ~100-byte entry is a `rep movs`, whose start-up costs more than the rest of a delivery's
    /// bookkeeping here.
    #[inline]
    pub fn push_newest(&mut self, tag: u64, u: Unacked) {
        debug_assert!(self.entries.back().is_none_or(|(last, _)| *last < tag), "tags only grow");
        self.entries.push_back((tag, u));
    }

    pub fn contains_key(&self, tag: &u64) -> bool {
        self.position(*tag).is_ok()
    }

    pub fn remove(&mut self, tag: &u64) -> Option<Unacked> {
        let i = self.position(*tag).ok()?;
        // The usual ack is of the oldest delivery.
        let entry = if i == 0 { self.entries.pop_front() } else { self.entries.remove(i) };
        entry.map(|(_, u)| u)
    }

    /// Drops the entry at `i` where it lies ([`remove`](Self::remove) without moving it out).
    fn drop_at(&mut self, i: usize) {
        self.entries.drain(i..=i);
    }

    /// The entries from `tag` on, removed (`BTreeMap::split_off`).
    pub fn split_off(&mut self, tag: &u64) -> UnackedMap {
        let i = self.position(*tag).unwrap_or_else(|i| i);
        UnackedMap { entries: self.entries.split_off(i) }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&u64, &Unacked)> {
        self.entries.iter().map(|(t, u)| (t, u))
    }

    pub fn keys(&self) -> impl Iterator<Item = &u64> {
        self.entries.iter().map(|(t, _)| t)
    }

    pub fn values(&self) -> impl Iterator<Item = &Unacked> {
        self.entries.iter().map(|(_, u)| u)
    }

    /// The entries with a tag at most `tag`, in order (`BTreeMap::range(..=tag)`).
    pub fn up_to(&self, tag: u64) -> impl Iterator<Item = (&u64, &Unacked)> {
        self.iter().take_while(move |(t, _)| **t <= tag)
    }
}

impl IntoIterator for UnackedMap {
    type Item = (u64, Unacked);
    type IntoIter = std::collections::vec_deque::IntoIter<(u64, Unacked)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl Extend<(u64, Unacked)> for UnackedMap {
    fn extend<I: IntoIterator<Item = (u64, Unacked)>>(&mut self, items: I) {
        for (tag, u) in items {
            self.insert(tag, u);
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Channel {
    pub next_delivery_tag: u64,
    pub unacked: UnackedMap,
    pub consumer_unacked: u32,
    /// By tag (see [`VecMap`]: the order is a `BTreeMap`'s).
    pub consumers: VecMap<Name, Consumer>,
    /// `basic.qos global=false`: the prefetch given to consumers started from now on (0 = unlimited).
    pub consumer_prefetch: u16,
    /// `basic.qos global=true`: a limit shared by all consumers on the channel (0 = unlimited).
    pub global_prefetch: u16,
    pub confirm: bool,
    /// The next publish sequence number once `confirm.select` is on (starts at 1).
    pub next_publish_seq: u64,
    /// The queue of this channel's latest `queue.declare-ok` (passive or not): what an empty queue name
    /// means in the methods that take a queue (RabbitMQ's `most_recently_declared_queue`).
    pub last_declared_queue: Option<Name>,
    /// `tx.select` was sent: the open transaction.
    pub tx: Option<Transaction>,
    /// The direct reply-to consumer (`basic.consume` of `amq.rabbitmq.reply-to`): its consumer tag and
    /// the routing key (`amq.rabbitmq.reply-to.…`) that reaches it.
    pub reply_consumer: Option<(Name, Name)>,
}

impl Channel {
    pub fn new() -> Self {
        Channel { next_delivery_tag: 1, next_publish_seq: 1, ..Channel::default() }
    }

    /// Whether the channel-wide limit allows one more consumer delivery.
    pub fn has_global_credit(&self) -> bool {
        Self::global_credit(self.global_prefetch, self.consumer_unacked)
    }

    /// [`has_global_credit`](Self::has_global_credit) from the two fields, for a caller that holds
    /// others of the channel's fields borrowed.
    pub fn global_credit(global_prefetch: u16, consumer_unacked: u32) -> bool {
        global_prefetch == 0 || consumer_unacked < u32::from(global_prefetch)
    }

    pub fn take_delivery_tag(&mut self) -> u64 {
        let tag = self.next_delivery_tag;
        self.next_delivery_tag += 1;
        tag
    }

    /// The publish sequence number the next publish is confirmed with, if confirms are on.
    pub fn take_publish_seq(&mut self) -> Option<u64> {
        if !self.confirm {
            return None;
        }
        let seq = self.next_publish_seq;
        self.next_publish_seq += 1;
        Some(seq)
    }

    /// Updates the consumer and channel counters for a delivery (`tag`) that is no longer unacked. The
    /// consumer now holding its tag counts it only if it reads the same queue: its consumer may have been
    /// cancelled and the tag reused, on this queue or another.
    pub fn forget_consumer_unacked(&mut self, tag: u64, u: &Unacked) {
        forget_consumer_unacked_in(&mut self.consumers, &mut self.consumer_unacked, tag, u);
    }

    /// Takes the unacked delivery `tag` off the channel as a single `basic.ack` does: the consumer and
    /// channel counters are updated ([`forget_consumer_unacked`](Self::forget_consumer_unacked)) and the
    /// delivery is dropped where it lies, not moved out (an ack needs only its queue and message id).
    /// Returns the delivery's queue, the queue's incarnation and the message id; `None` if `tag` is not
    /// unacked.
    pub fn ack_unacked(&mut self, tag: u64) -> Option<(Name, u64, MessageId)> {
        let Channel { unacked, consumers, consumer_unacked, .. } = self;
        let i = unacked.position(tag).ok()?;
        let u = &unacked.entries[i].1;
        forget_consumer_unacked_in(consumers, consumer_unacked, tag, u);
        let found = (Name::clone(&u.queue), u.queue_incarnation, u.message.id);
        unacked.drop_at(i);
        Some(found)
    }

    /// The consumer with `tag` (see [`consumer_mut`]).
    pub fn consumer(&self, tag: &Name) -> Option<&Consumer> {
        match self.consumers.first_key_value() {
            Some((first, consumer)) if Rc::ptr_eq(first, tag) => Some(consumer),
            _ => self.consumers.get(tag),
        }
    }
}

/// [`Channel::forget_consumer_unacked`] on the channel's fields, for a caller that holds its unacked
/// deliveries borrowed.
fn forget_consumer_unacked_in(
    consumers: &mut VecMap<Name, Consumer>,
    consumer_unacked: &mut u32,
    tag: u64,
    u: &Unacked,
) {
    let Some(ctag) = &u.consumer_tag else { return };
    *consumer_unacked -= 1;
    if let Some(c) = consumer_mut(consumers, ctag).filter(|c| {
        (Rc::ptr_eq(&c.queue, &u.queue) || c.queue == u.queue) && c.queue_incarnation == u.queue_incarnation
    }) {
        c.settled(tag);
    }
}

/// `consumers.get_mut(tag)`, quicker for the usual caller: it holds the very name the map keeps (a
/// queue's line and the channel's unacked deliveries share it), so the first consumer — on most channels
/// the only one — is matched by address before the map is searched by comparing strings.
pub fn consumer_mut<'a>(consumers: &'a mut VecMap<Name, Consumer>, tag: &Name) -> Option<&'a mut Consumer> {
    if consumers.first_key_value().is_some_and(|(first, _)| Rc::ptr_eq(first, tag)) {
        return consumers.values_mut().next();
    }
    consumers.get_mut(tag)
}

/// A client connection and its open channels.
#[derive(Clone, Debug)]
pub struct Connection {
    pub name: Name,
    /// By number (see [`VecMap`]: the order is a `BTreeMap`'s).
    pub channels: VecMap<ChannelNumber, Channel>,
}

/// A client's view of its open channel numbers, handing out the lowest free one as pika does
/// (`Connection._next_channel_number`), in logarithmic time: numbers that were used and are free again
/// sit in `free`, every number from `fresh` up is unused.
///
/// # Invariants
/// - `open` and `free` are disjoint; every number in `1..fresh` is in exactly one of them; every open
///   number is below `fresh`.
#[derive(Clone, Debug)]
pub struct ChannelNumbers {
    open: BTreeSet<u16>,
    free: BTreeSet<u16>,
    /// The lowest number never handed out since the last `clear` (65,536 when all were).
    fresh: u32,
}

impl Default for ChannelNumbers {
    fn default() -> Self {
        ChannelNumbers { open: BTreeSet::new(), free: BTreeSet::new(), fresh: 1 }
    }
}

impl ChannelNumbers {
    /// How many channels are open.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    pub fn contains(&self, number: u16) -> bool {
        self.open.contains(&number)
    }

    /// The lowest number not open (from 1), or `None` when all 65,535 are.
    pub fn lowest_free(&self) -> Option<u16> {
        self.free.first().copied().or_else(|| u16::try_from(self.fresh).ok())
    }

    /// Marks `number` open (a number the client chose may skip ahead: the skipped ones become free).
    pub fn insert(&mut self, number: u16) {
        if number == 0 || !self.open.insert(number) {
            return;
        }
        if u32::from(number) >= self.fresh {
            self.free.extend((self.fresh..u32::from(number)).map(|n| n as u16));
            self.fresh = u32::from(number) + 1;
        } else {
            self.free.remove(&number);
        }
    }

    /// Marks `number` closed, free to be handed out again.
    pub fn remove(&mut self, number: u16) {
        if self.open.remove(&number) {
            self.free.insert(number);
        }
    }

    /// Every channel closed (the connection closed).
    pub fn clear(&mut self) {
        *self = ChannelNumbers::default();
    }
}

#[cfg(test)]
mod tests {
    use super::ChannelNumbers;

    #[test]
    fn hands_out_the_lowest_free_number_like_pika() {
        let mut n = ChannelNumbers::default();
        assert_eq!(n.lowest_free(), Some(1));
        for k in 1..=5 {
            n.insert(k);
        }
        assert_eq!(n.lowest_free(), Some(6));
        n.remove(3);
        n.remove(2);
        assert_eq!(n.lowest_free(), Some(2));
        n.insert(2);
        assert_eq!(n.lowest_free(), Some(3));
        // An explicit number far ahead leaves the gap free.
        n.insert(10);
        n.insert(3);
        assert_eq!(n.lowest_free(), Some(6));
        assert_eq!(n.len(), 6);
        n.clear();
        assert_eq!(n.lowest_free(), Some(1));
        n.insert(u16::MAX);
        assert_eq!(n.lowest_free(), Some(1));
        for k in 1..u16::MAX {
            n.insert(k);
        }
        assert_eq!(n.lowest_free(), None);
    }
}
