//! A queue: its declaration, its ready messages (by priority), its consumers and its timers' state.
//!
//! The queue only stores; the broker decides (delivery, expiry, dead-lettering), because those decisions
//! reach across channels and exchanges.
//!
//! # Invariants
//! - Within one priority level, ready messages are in increasing age order by `seq` (oldest first,
//!   compared with wrapping arithmetic relative to `next_seq`), except that a quorum queue keeps
//!   `returned` returned messages at the front in return order, as `rabbit_fifo` serves returns first.
//! - `bytes_ready` is the sum of the ready messages' body sizes; `ready_count()` their number.
//! - Each consumer of this queue is either in `consumers` (the line) or in `blocked` (taken out of the
//!   line when it had no credit, as `rabbit_queue_consumers` does), exactly once.
//! - The line is ordered by consumer priority (`x-priority`), highest first, and in round-robin order
//!   within one priority, like RabbitMQ's `priority_queue` of consumers. A single-active-consumer queue's
//!   active consumer is the front one whatever its priority; behind it wait the others: by priority, then
//!   registration, for a classic queue (3.10 hands over to the highest-priority waiting consumer,
//!   `rabbit_queue_consumers:get_consumer`), in registration order for a quorum queue (`rabbit_fifo`'s
//!   waiting list ignores priorities in 3.10).

use super::arguments::{Overflow, QueueArguments, QueueType};
use super::message::QueuedMessage;
use super::stream::StreamLog;
use super::types::{ChannelNumber, ConnectionId, FieldTable, Name};
use crate::clock::VirtualTime;
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::rc::Rc;

/// A queue's name as the key of the broker's queue map: ordered as the string, and equal at once, without
/// comparing bytes, to the very name the map holds. The queue itself, its consumers' keys, routing's
/// results and unacknowledged deliveries all share that name, so the lookups of every message (enqueue,
/// ack) compare one pointer. Looking up by `&str` works as with a map of strings.
#[derive(Clone, Debug)]
pub struct QueueName(pub Name);

impl QueueName {
    /// The key for looking `name` up (a reference count, not a copy of the string).
    pub fn of(name: &Name) -> QueueName {
        QueueName(Name::clone(name))
    }
}

impl PartialEq for QueueName {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for QueueName {}

impl PartialOrd for QueueName {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for QueueName {
    fn cmp(&self, other: &Self) -> Ordering {
        if Rc::ptr_eq(&self.0, &other.0) {
            return Ordering::Equal;
        }
        self.0.cmp(&other.0)
    }
}

impl Borrow<str> for QueueName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A consumer's place in its queue's line: its address and its priority (`x-priority`, default 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InLine {
    pub key: ConsumerKey,
    pub priority: i64,
}

/// A consumer's address: its channel and tag.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsumerKey {
    pub connection: ConnectionId,
    pub channel: ChannelNumber,
    pub tag: Name,
}

impl ConsumerKey {
    /// `==`, quicker when both hold the same shared tag (a queue's line and a copy of its key do).
    pub fn same_as(&self, other: &ConsumerKey) -> bool {
        self.connection == other.connection
            && self.channel == other.channel
            && (Rc::ptr_eq(&self.tag, &other.tag) || self.tag == other.tag)
    }
}

#[derive(Clone, Debug)]
pub struct Queue {
    pub name: Name,
    /// Distinguishes this queue from an earlier one of the same name (for stale timers and unacked
    /// messages whose queue was deleted).
    pub incarnation: u64,
    pub durable: bool,
    pub auto_delete: bool,
    pub exclusive_owner: Option<ConnectionId>,
    /// The arguments as declared (for equivalence checks and listings).
    pub arguments: FieldTable,
    /// The settings in effect: the declared arguments combined with the policy (see `broker.rs`).
    pub args: QueueArguments,
    /// The policy in effect, by name, and the arguments with its effective values merged in (what
    /// `args` was parsed from; shown to the user, never compared on redeclaration).
    pub policy: Option<(Name, FieldTable)>,
    /// Ready messages by priority level (one level unless `x-max-priority`).
    levels: Vec<VecDeque<QueuedMessage>>,
    ready_count: usize,
    bytes_ready: u64,
    next_seq: u32,
    /// Quorum queues: how many returned messages sit at the front of level 0.
    returned: usize,
    /// A quorum queue with `x-overflow: reject-publish` refuses publishes while this is set (see
    /// [`Queue::evaluate_reject_limit`]).
    reject_blocked: bool,
    pub consumers: VecDeque<InLine>,
    /// Consumers that had no credit when their turn came; they rejoin the end of their priority in the
    /// line when they get credit back.
    pub blocked: Vec<InLine>,
    pub exclusive_consumer: Option<ConsumerKey>,
    pub has_had_consumers: bool,
    /// Messages of this queue held unacknowledged by channels.
    pub unacked: u32,
    /// The instant the queue's TTL timer is set for, if set.
    pub ttl_timer: Option<VirtualTime>,
    /// Bumped whenever the `x-expires` countdown restarts or stops; stale timers carry an old value.
    pub expiry_generation: u64,
    /// A stream queue's log (`None` for classic and quorum queues, which hold ready messages instead; a
    /// stream has none).
    pub stream: Option<StreamLog>,
}

impl Queue {
    pub fn new(
        name: Name,
        incarnation: u64,
        durable: bool,
        auto_delete: bool,
        exclusive_owner: Option<ConnectionId>,
        arguments: FieldTable,
        args: QueueArguments,
    ) -> Self {
        let n_levels = args.max_priority.map_or(1, |p| usize::from(p) + 1);
        let stream = (args.queue_type() == QueueType::Stream).then(StreamLog::default);
        Queue {
            name,
            incarnation,
            durable,
            auto_delete,
            exclusive_owner,
            arguments,
            args,
            policy: None,
            levels: (0..n_levels).map(|_| VecDeque::new()).collect(),
            ready_count: 0,
            bytes_ready: 0,
            next_seq: 0,
            returned: 0,
            reject_blocked: false,
            consumers: VecDeque::new(),
            blocked: Vec::new(),
            exclusive_consumer: None,
            has_had_consumers: false,
            unacked: 0,
            ttl_timer: None,
            expiry_generation: 0,
            stream,
        }
    }

    /// Every consumer: the line, then the blocked ones.
    pub fn all_consumers(&self) -> impl Iterator<Item = &ConsumerKey> {
        self.consumers.iter().chain(self.blocked.iter()).map(|c| &c.key)
    }

    /// Puts a consumer at the end of its priority in the line (behind every consumer of the same or a
    /// higher priority, as `priority_queue:in` does). A single-active-consumer queue keeps its active
    /// (front) consumer in place, and a quorum one queues waiting consumers in registration order.
    pub fn enter_line(&mut self, entry: InLine) {
        let first = usize::from(self.args.single_active_consumer);
        if self.consumers.is_empty() || (first > 0 && self.is_quorum()) {
            self.consumers.push_back(entry);
            return;
        }
        // Scanning from the back is O(1) when every consumer has the same priority (the common case).
        let mut at = self.consumers.len();
        while at > first && self.consumers[at - 1].priority < entry.priority {
            at -= 1;
        }
        if at == self.consumers.len() {
            self.consumers.push_back(entry);
        } else {
            self.consumers.insert(at, entry);
        }
    }

    pub fn consumer_count(&self) -> usize {
        self.consumers.len() + self.blocked.len()
    }

    /// The `consumer_count` of `queue.declare-ok`. A quorum queue counts the consumers its state machine
    /// holds (`rabbit_fifo:query_stat`), and with single active consumer the waiting ones are kept apart,
    /// so only the active one counts; a classic queue counts every consumer, waiting or not.
    pub fn declare_ok_consumer_count(&self) -> usize {
        if self.is_stream() {
            // `rabbit_stream_queue:stat/1` reports no consumers.
            return 0;
        }
        let all = self.consumer_count();
        if self.is_quorum() && self.args.single_active_consumer {
            all.min(1)
        } else {
            all
        }
    }

    /// The `message_count` of `queue.declare-ok`: the ready messages, or a stream's whole log (RabbitMQ
    /// 3.10 reports a stream's count from metrics it emits now and then, so it lags behind: the
    /// allow-list names the goldens where that shows).
    pub fn declare_ok_message_count(&self) -> usize {
        self.ready_count + self.stream.as_ref().map_or(0, StreamLog::len)
    }

    pub fn has_consumers(&self) -> bool {
        self.consumer_count() > 0
    }

    /// Removes a consumer from the line or the blocked list.
    pub fn remove_consumer(&mut self, key: &ConsumerKey) {
        self.consumers.retain(|c| &c.key != key);
        self.blocked.retain(|c| &c.key != key);
        if self.exclusive_consumer.as_ref() == Some(key) {
            self.exclusive_consumer = None;
        }
    }

    pub fn queue_type(&self) -> QueueType {
        self.args.queue_type()
    }

    pub fn is_quorum(&self) -> bool {
        self.queue_type() == QueueType::Quorum
    }

    pub fn is_stream(&self) -> bool {
        self.stream.is_some()
    }

    pub fn ready_count(&self) -> usize {
        self.ready_count
    }

    pub fn bytes_ready(&self) -> u64 {
        self.bytes_ready
    }

    /// Quorum queues: how many returned messages lead the queue (served before never-delivered ones).
    pub fn returned_count(&self) -> usize {
        self.returned
    }

    pub fn is_empty(&self) -> bool {
        self.ready_count == 0
    }

    fn level_of(&self, m: &QueuedMessage) -> usize {
        usize::from(m.priority()).min(self.levels.len() - 1)
    }

    /// How many enqueues ago `seq` was assigned (bigger is older).
    fn age(&self, seq: u32) -> u32 {
        self.next_seq.wrapping_sub(seq)
    }

    /// Whether one more message of `body_len` bytes would exceed `x-max-length` / `x-max-length-bytes`.
    pub fn would_overflow(&self, body_len: u64) -> bool {
        self.args.max_length.is_some_and(|max| self.ready_count as u64 + 1 > max)
            || self.args.max_length_bytes.is_some_and(|max| self.bytes_ready + body_len > max)
    }

    /// Whether a quorum queue with `x-overflow: reject-publish` refuses publishes now.
    pub fn reject_blocked(&self) -> bool {
        self.reject_blocked
    }

    /// `rabbit_fifo`'s limit (3.10) for a quorum queue with `x-overflow: reject-publish`, evaluated after
    /// every change of its ready messages: the publish that takes the queue over its limit still gets in,
    /// and from then on publishes are refused until the ready messages (and bytes) are down to 80% of the
    /// limit, rounded down (`tests/scenarios/amqp/quorum-reject-publish`). A classic queue refuses exactly
    /// the publish that would not fit ([`Queue::would_overflow`]).
    fn evaluate_reject_limit(&mut self) {
        if !self.is_quorum() || self.args.overflow != Overflow::RejectPublish {
            return;
        }
        if self.over_limit() {
            self.reject_blocked = true;
        } else if self.reject_blocked {
            let below = |max: u64, n: u64| n <= max * 8 / 10;
            let count_below = self.args.max_length.is_none_or(|max| below(max, self.ready_count as u64));
            let bytes_below = self.args.max_length_bytes.is_none_or(|max| below(max, self.bytes_ready));
            if count_below && bytes_below {
                self.reject_blocked = false;
            }
        }
    }

    /// Whether the queue holds more than its limits allow (drop-head then removes from the head).
    pub fn over_limit(&self) -> bool {
        self.args.max_length.is_some_and(|max| self.ready_count as u64 > max)
            || self.args.max_length_bytes.is_some_and(|max| self.bytes_ready > max)
    }

    /// Appends a newly published message, stamping its sequence number and expiry.
    pub fn push(&mut self, mut m: QueuedMessage, expires_at: VirtualTime) {
        m.seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        m.set_expires_at(expires_at);
        self.bytes_ready += m.body_len();
        self.ready_count += 1;
        let level = self.level_of(&m);
        self.levels[level].push_back(m);
        self.evaluate_reject_limit();
    }

    /// Puts a quorum queue's message at the back, behind everything ready, keeping its expiry: RabbitMQ
    /// 3.10.8 does so with a message requeued by a nack, reject or recover after basic.get or after its
    /// consumer was cancelled (`tests/scenarios/amqp/quorum-requeue-order`). Other returns go to the
    /// front ([`Queue::requeue`]).
    pub fn requeue_at_back(&mut self, m: QueuedMessage) {
        let expires_at = m.expires_at();
        self.push(m, expires_at);
    }

    /// Puts a previously delivered message back: a classic queue at its original position, a quorum queue
    /// behind earlier returns and ahead of everything never delivered.
    pub fn requeue(&mut self, m: QueuedMessage) {
        self.bytes_ready += m.body_len();
        self.ready_count += 1;
        let level = self.level_of(&m);
        if self.is_quorum() {
            let at = self.returned.min(self.levels[level].len());
            self.levels[level].insert(at, m);
            self.returned += 1;
        } else {
            let age = self.age(m.seq);
            let at = self.levels[level].partition_point(|e| self.next_seq.wrapping_sub(e.seq) > age);
            self.levels[level].insert(at, m);
        }
        self.evaluate_reject_limit();
    }

    /// The level the next delivery comes from (highest priority with messages).
    fn head_level(&self) -> Option<usize> {
        (0..self.levels.len()).rev().find(|&l| !self.levels[l].is_empty())
    }

    /// The message the next delivery takes.
    pub fn head(&self) -> Option<&QueuedMessage> {
        self.head_level().and_then(|l| self.levels[l].front())
    }

    fn pop_level(&mut self, level: usize) -> Option<QueuedMessage> {
        let m = self.levels[level].pop_front()?;
        if level == 0 && self.returned > 0 {
            self.returned -= 1;
        }
        self.ready_count -= 1;
        self.bytes_ready -= m.body_len();
        self.evaluate_reject_limit();
        Some(m)
    }

    /// Takes the next message to deliver (highest priority, oldest first).
    pub fn pop(&mut self) -> Option<QueuedMessage> {
        let level = self.head_level()?;
        self.pop_level(level)
    }

    /// Takes the next message to deliver if it has expired by `now`. As RabbitMQ 3.10's priority queue
    /// drops expired messages (`dropwhile` over the sub-queues, highest priority first, stopping at the
    /// first head that has not expired), an expired message behind a live head of a higher priority
    /// stays, and is counted, until every message above it is gone
    /// (`tests/scenarios/amqp/priority-message-ttl`).
    pub fn pop_expired(&mut self, now: VirtualTime) -> Option<QueuedMessage> {
        let level = self.head_level()?;
        if self.levels[level].front().is_some_and(|m| m.expires_at() <= now) {
            self.pop_level(level)
        } else {
            None
        }
    }

    /// When the next message to deliver expires, if it has a TTL: the only expiry that can drop
    /// anything (see [`Queue::pop_expired`]).
    pub fn next_head_expiry(&self) -> Option<VirtualTime> {
        self.head().map(QueuedMessage::expires_at).filter(|t| *t != VirtualTime::NEVER)
    }

    /// Removes every ready message (purge, delete), in delivery order.
    pub fn drain(&mut self) -> Vec<QueuedMessage> {
        let mut out = Vec::with_capacity(self.ready_count);
        while let Some(m) = self.pop() {
            out.push(m);
        }
        out
    }

    /// Keeps only the ready messages `keep` accepts, in place; returns the ones removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&QueuedMessage) -> bool) -> Vec<QueuedMessage> {
        let mut removed = Vec::new();
        for (l, level) in self.levels.iter_mut().enumerate() {
            let mut kept = VecDeque::with_capacity(level.len());
            for (i, m) in level.drain(..).enumerate() {
                if keep(&m) {
                    kept.push_back(m);
                } else {
                    if l == 0 && i < self.returned {
                        self.returned -= 1;
                    }
                    self.ready_count -= 1;
                    self.bytes_ready -= m.body_len();
                    removed.push(m);
                }
            }
            *level = kept;
        }
        self.evaluate_reject_limit();
        removed
    }

    /// Ready messages in delivery order (for peeking and invariant checks).
    pub fn iter_ready(&self) -> impl Iterator<Item = &QueuedMessage> {
        self.levels.iter().rev().flat_map(|l| l.iter())
    }

    /// Checks the queue's own invariants.
    pub fn assert_invariants(&self) {
        if let Some(log) = &self.stream {
            log.assert_invariants();
            assert_eq!(self.ready_count, 0, "stream '{}': ready messages outside the log", self.name);
        }
        let count: usize = self.levels.iter().map(VecDeque::len).sum();
        assert_eq!(count, self.ready_count, "queue '{}': ready count", self.name);
        let bytes: u64 = self.iter_ready().map(QueuedMessage::body_len).sum();
        assert_eq!(bytes, self.bytes_ready, "queue '{}': ready bytes", self.name);
        assert!(self.returned <= self.levels[0].len(), "queue '{}': returned count", self.name);
        if !self.is_quorum() {
            for level in &self.levels {
                let ages: Vec<u32> = level.iter().map(|m| self.age(m.seq)).collect();
                assert!(ages.windows(2).all(|w| w[0] > w[1]), "queue '{}': seq order {ages:?}", self.name);
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in self.all_consumers() {
            assert!(seen.insert(c.clone()), "queue '{}': consumer {c:?} listed twice", self.name);
        }
        let waiting_from = usize::from(self.args.single_active_consumer);
        if !(self.args.single_active_consumer && self.is_quorum()) {
            let sorted = self.consumers.iter().skip(waiting_from).collect::<Vec<_>>();
            assert!(
                sorted.windows(2).all(|w| w[0].priority >= w[1].priority),
                "queue '{}': consumer line out of priority order",
                self.name
            );
        }
        if let Some(x) = &self.exclusive_consumer {
            assert!(seen.contains(x), "queue '{}': exclusive consumer not a consumer", self.name);
        }
    }
}
