//! The reference model: a deliberately naive RabbitMQ 3.10 (one vhost, classic queues) that the seeded
//! simulation runs in lockstep with the engine.
//!
//! Naive on purpose: queues are `Vec`s kept in publish order, bindings are `Vec`s scanned linearly,
//! topic patterns are matched by a four-line recursive function, and every rule is written as the
//! RabbitMQ source (`rabbit_amqqueue_process`, `rabbit_queue_consumers`, `rabbit_channel`,
//! `rabbit_dead_letter` at v3.10.8) states it, citing the function it follows. It covers a subset:
//! direct / fanout / topic exchanges (no exchange-to-exchange bindings, no headers, no alternate
//! exchanges), classic queues with `x-message-ttl`, per-message `expiration`, `x-max-length` with
//! `drop-head` / `reject-publish` / `reject-publish-dlx`, `x-dead-letter-exchange` and
//! `-routing-key`, auto-delete and exclusive queues, per-consumer prefetch (`global=false`),
//! `basic.get`, ack / nack / reject with `multiple` and `requeue`, `basic.recover`, publisher confirms,
//! `mandatory` returns, purge, delete, channel and connection close, and consumer tags reused after
//! `basic.cancel` (credit is the queue's per tag, as `rabbit_limiter` keeps it, so settling a cancelled
//! consumer's delivery credits the new consumer with that tag on the same queue).
//!
//! The model does not know the engine's message ids: a message is identified by its *publish index*
//! (the n-th accepted `basic.publish`, from 0), and the lockstep runner maps engine ids to it.
//!
//! # Invariants
//! - Each copy of a message is in exactly one place: a queue's `ready` list or one channel's `unacked`
//!   list (or it has been counted as acked, dead-lettered, returned or dropped in [`Census`]).
//! - `ready` is sorted by `seq`; with a uniform per-queue TTL that is also expiry order.
//! - The head of every queue is unexpired after every operation (expired heads are dropped at once).
//! - A queue with ready messages has no consumer in `active` (RabbitMQ's `assert_invariant`).

use crate::amqp::census::Census;
use crate::amqp::event::DropReason;
use crate::amqp::{
    AmqpError, BasicProperties, ChannelNumber, ConnectionId, Delivery, DeliveryTag, FieldTable, FieldValue,
    MessageId, Method, QueueInfo, Reply, ReplyCode,
};
use std::collections::{BTreeMap, VecDeque};

/// The vhost every name lives in.
pub const VHOST: &str = "/";

/// The three exchange types the model routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeKind {
    Direct,
    Fanout,
    Topic,
}

impl ExchangeKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "direct" => Some(ExchangeKind::Direct),
            "fanout" => Some(ExchangeKind::Fanout),
            "topic" => Some(ExchangeKind::Topic),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeKind::Direct => "direct",
            ExchangeKind::Fanout => "fanout",
            ExchangeKind::Topic => "topic",
        }
    }
}

#[derive(Clone, Debug)]
struct Exchange {
    kind: ExchangeKind,
    durable: bool,
    /// `(queue, binding key)` in the order bound, each at most once.
    bindings: Vec<(String, String)>,
}

/// `x-overflow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Overflow {
    DropHead,
    RejectPublish,
    RejectPublishDlx,
}

#[derive(Clone, Debug, Default)]
struct QueueArgs {
    ttl_millis: Option<u64>,
    max_length: Option<u64>,
    overflow: Option<Overflow>,
    dead_letter_exchange: Option<String>,
    dead_letter_routing_key: Option<String>,
}

/// One copy of a message as a queue holds it.
#[derive(Clone, Debug)]
struct Copy {
    publish: u64,
    seq: u64,
    expires_at: Option<u64>,
    redelivered: bool,
    exchange: String,
    routing_key: String,
    properties: BasicProperties,
    body: Vec<u8>,
}

/// Who a consumer is: connection, channel, tag.
pub type ConsumerKey = (u32, u16, String);

#[derive(Clone, Debug)]
struct Consumer {
    queue: String,
    auto_ack: bool,
    /// Remaining prefetch credit; `None` = unlimited (prefetch 0 or auto-ack).
    credit: Option<i64>,
}

#[derive(Clone, Debug)]
struct Queue {
    incarnation: u64,
    durable: bool,
    auto_delete: bool,
    exclusive_owner: Option<u32>,
    arguments: FieldTable,
    args: QueueArgs,
    ready: Vec<Copy>,
    next_seq: u64,
    /// Every consumer, in registration order (for the count).
    consumers: Vec<ConsumerKey>,
    /// The round-robin line (`rabbit_queue_consumers` `consumers`).
    active: VecDeque<ConsumerKey>,
    /// Consumers blocked by prefetch, in the order they blocked (per-channel `blocked_consumers`).
    blocked: Vec<ConsumerKey>,
    exclusive_consumer: Option<ConsumerKey>,
    has_had_consumers: bool,
}

/// Who settled a delivery: `basic.get` messages sort before consumers in RabbitMQ's settle grouping
/// (their "consumer tag" is the integer delivery tag; Erlang orders integers before binaries).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Taker {
    Get(u64),
    Consumer(String),
}

#[derive(Clone, Debug)]
struct Unacked {
    tag: u64,
    queue: String,
    incarnation: u64,
    taker: Taker,
    copy: Copy,
}

#[derive(Clone, Debug, Default)]
struct Channel {
    open: bool,
    next_tag: u64,
    unacked: Vec<Unacked>,
    confirm: bool,
    next_publish_seq: u64,
    prefetch: u16,
    /// Consumer tags on this channel, in creation order.
    consumers: Vec<String>,
}

#[derive(Clone, Debug, Default)]
struct Connection {
    open: bool,
    channels: BTreeMap<u16, Channel>,
}

/// A delivery the model expects a client to see (`basic.deliver` or `basic.get-ok`).
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedDelivery {
    pub at: u64,
    pub connection: u32,
    pub channel: u16,
    pub queue: String,
    pub publish: u64,
    pub delivery_tag: u64,
    pub redelivered: bool,
    pub exchange: String,
    pub routing_key: String,
    pub consumer_tag: Option<String>,
    pub message_count: Option<u32>,
    pub properties: BasicProperties,
    pub body: Vec<u8>,
}

/// A `basic.return` the model expects.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExpectedReturn {
    pub connection: u32,
    pub channel: u16,
    pub publish: u64,
    pub reply_code: u16,
    pub reply_text: String,
    pub exchange: String,
    pub routing_key: String,
}

/// A publisher confirm the model expects: `(connection, channel, publish seq, ack)`.
pub type ExpectedConfirm = (u32, u16, u64, bool);

/// Everything a client would observe, gathered since the last [`Model::take_observed`].
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub deliveries: Vec<ExpectedDelivery>,
    pub returns: Vec<ExpectedReturn>,
    pub confirms: Vec<ExpectedConfirm>,
}

/// What happens to settled deliveries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Settle {
    Ack,
    Requeue,
    Discard,
}

/// The outcome of handing one copy to a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Enqueued {
    Accepted,
    Rejected,
}

/// The naive broker. See the module doc.
#[derive(Clone, Debug)]
pub struct Model {
    now: u64,
    exchanges: BTreeMap<String, Exchange>,
    queues: BTreeMap<String, Queue>,
    connections: Vec<Connection>,
    consumers: BTreeMap<ConsumerKey, Consumer>,
    next_incarnation: u64,
    next_publish: u64,
    census: Census,
    observed: Observed,
    /// Settle in RabbitMQ's groups of (queue, consumer tag or get tag), each group delivered before the
    /// next (`true`, the default), or one group per queue in tag order (`false`: tolerates finding F2).
    pub settle_per_taker: bool,
    /// RabbitMQ's dispatch (`true`, the default): a consumer without credit leaves the line and rejoins
    /// at the end when acks give it credit. `false` keeps it in place (tolerates finding F3).
    pub lazy_blocking: bool,
    /// `queue.delete` reports "in use" before "not empty" (`true` tolerates finding F4).
    pub delete_checks_use_first: bool,
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

fn queue_resource(name: &str) -> String {
    format!("queue '{name}' in vhost '{VHOST}'")
}

fn exchange_resource(name: &str) -> String {
    format!("exchange '{name}' in vhost '{VHOST}'")
}

fn not_found_queue(name: &str) -> AmqpError {
    AmqpError::channel(ReplyCode::NotFound, format!("no queue '{name}' in vhost '{VHOST}'"))
}

fn not_found_exchange(name: &str) -> AmqpError {
    AmqpError::channel(ReplyCode::NotFound, format!("no exchange '{name}' in vhost '{VHOST}'"))
}

fn default_exchange_refused() -> AmqpError {
    AmqpError::channel(ReplyCode::AccessRefused, "operation not permitted on the default exchange")
}

fn locked(name: &str) -> AmqpError {
    AmqpError::channel(
        ReplyCode::ResourceLocked,
        format!(
            "cannot obtain exclusive access to locked {}. It could be originally declared on another \
             connection or the exclusive property value does not match that of the original declaration.",
            queue_resource(name)
        ),
    )
}

fn precondition(detail: String) -> AmqpError {
    AmqpError::channel(ReplyCode::PreconditionFailed, detail)
}

/// RabbitMQ's `rabbit_misc:val/1` for the values the model declares: `'text'` or `'123'`.
fn arg_text(v: &FieldValue) -> String {
    match v {
        FieldValue::Str(s) => format!("'{s}'"),
        other => format!("'{other}'"),
    }
}

/// Splits a topic routing key or pattern into words (`""` has none), as `split_topic_key` does.
fn words(key: &str) -> Vec<&str> {
    if key.is_empty() {
        Vec::new()
    } else {
        key.split('.').collect()
    }
}

/// Whether a topic `pattern` matches routing key `key`: `*` is one word, `#` zero or more.
pub fn topic_matches(pattern: &[&str], key: &[&str]) -> bool {
    match pattern.split_first() {
        None => key.is_empty(),
        Some((&"#", rest)) => (0..=key.len()).any(|skip| topic_matches(rest, &key[skip..])),
        Some((&"*", rest)) => !key.is_empty() && topic_matches(rest, &key[1..]),
        Some((word, rest)) => key.first() == Some(word) && topic_matches(rest, &key[1..]),
    }
}

impl Model {
    /// A fresh broker with the default exchange and the predeclared `amq.*` exchanges.
    pub fn new() -> Self {
        let mut exchanges = BTreeMap::new();
        for (name, kind) in [
            ("amq.direct", ExchangeKind::Direct),
            ("amq.fanout", ExchangeKind::Fanout),
            ("amq.topic", ExchangeKind::Topic),
        ] {
            exchanges.insert(name.to_string(), Exchange { kind, durable: true, bindings: Vec::new() });
        }
        Model {
            now: 0,
            exchanges,
            queues: BTreeMap::new(),
            connections: Vec::new(),
            consumers: BTreeMap::new(),
            next_incarnation: 1,
            next_publish: 0,
            census: Census::default(),
            observed: Observed::default(),
            settle_per_taker: true,
            lazy_blocking: true,
            delete_checks_use_first: false,
        }
    }

    // ---- read-only views (for the workload generator and the lockstep comparison) ----

    pub fn now_millis(&self) -> u64 {
        self.now
    }

    pub fn census(&self) -> Census {
        let mut c = self.census.clone();
        c.ready = self.queues.values().map(|q| q.ready.len() as u64).sum();
        c.unacked = self
            .connections
            .iter()
            .flat_map(|conn| conn.channels.values())
            .map(|ch| ch.unacked.len() as u64)
            .sum();
        c
    }

    /// The queues as the engine's [`crate::amqp::Broker::queues`] lists them, by name.
    pub fn queue_infos(&self) -> Vec<QueueInfo> {
        self.queues
            .iter()
            .map(|(name, q)| QueueInfo {
                name: name.clone(),
                durable: q.durable,
                exclusive: q.exclusive_owner.is_some(),
                auto_delete: q.auto_delete,
                messages_ready: q.ready.len() as u32,
                messages_unacknowledged: self.unacked_of(name, q.incarnation),
                consumers: q.consumers.len() as u32,
            })
            .collect()
    }

    fn unacked_of(&self, queue: &str, incarnation: u64) -> u32 {
        self.connections
            .iter()
            .flat_map(|c| c.channels.values())
            .flat_map(|ch| ch.unacked.iter())
            .filter(|u| u.queue == queue && u.incarnation == incarnation)
            .count() as u32
    }

    pub fn queue_exists(&self, name: &str) -> bool {
        self.queues.contains_key(name)
    }

    pub fn queue_ready(&self, name: &str) -> usize {
        self.queues.get(name).map_or(0, |q| q.ready.len())
    }

    pub fn queue_consumer_count(&self, name: &str) -> usize {
        self.queues.get(name).map_or(0, |q| q.consumers.len())
    }

    /// The connection owning exclusive queue `name`, if it is one.
    pub fn queue_owner(&self, name: &str) -> Option<ConnectionId> {
        self.queues.get(name).and_then(|q| q.exclusive_owner).map(ConnectionId)
    }

    pub fn exchange_exists(&self, name: &str) -> bool {
        name.is_empty() || self.exchanges.contains_key(name)
    }

    pub fn exchange_has_bindings(&self, name: &str) -> bool {
        self.exchanges.get(name).is_some_and(|x| !x.bindings.is_empty())
    }

    /// An exchange's `(queue, key)` bindings in the order made.
    pub fn bindings(&self, exchange: &str) -> Vec<(String, String)> {
        self.exchanges.get(exchange).map(|x| x.bindings.clone()).unwrap_or_default()
    }

    /// The publish index the last accepted `basic.publish` got.
    pub fn last_publish_index(&self) -> Option<u64> {
        self.next_publish.checked_sub(1)
    }

    pub fn exchange_kind(&self, name: &str) -> Option<ExchangeKind> {
        self.exchanges.get(name).map(|x| x.kind)
    }

    /// Open connections, oldest first.
    pub fn open_connections(&self) -> Vec<ConnectionId> {
        (0..self.connections.len())
            .filter(|i| self.connections[*i].open)
            .map(|i| ConnectionId(i as u32 + 1))
            .collect()
    }

    pub fn channel_is_open(&self, c: ConnectionId, ch: ChannelNumber) -> bool {
        self.channel(c, ch).is_some_and(|x| x.open)
    }

    fn channel(&self, c: ConnectionId, ch: ChannelNumber) -> Option<&Channel> {
        self.connections.get(c.0 as usize - 1)?.channels.get(&ch.0)
    }

    fn channel_mut(&mut self, c: u32, ch: u16) -> &mut Channel {
        self.connections[c as usize - 1].channels.entry(ch).or_default()
    }

    /// Outstanding delivery tags on a channel, in tag order, each with whether it came from `basic.get`.
    pub fn unacked_tags(&self, c: ConnectionId, ch: ChannelNumber) -> Vec<u64> {
        self.channel(c, ch).map(|x| x.unacked.iter().map(|u| u.tag).collect()).unwrap_or_default()
    }

    /// The queue and taker of each outstanding tag (for the generator's rule on `multiple` dead-lettering).
    pub fn unacked_detail(&self, c: ConnectionId, ch: ChannelNumber) -> Vec<(u64, String, bool)> {
        self.channel(c, ch)
            .map(|x| {
                x.unacked.iter().map(|u| (u.tag, u.queue.clone(), matches!(u.taker, Taker::Get(_)))).collect()
            })
            .unwrap_or_default()
    }

    /// The next delivery tag the channel will hand out.
    pub fn next_delivery_tag(&self, c: ConnectionId, ch: ChannelNumber) -> u64 {
        self.channel(c, ch).map_or(1, |x| x.next_tag)
    }

    /// Consumer tags on a channel, oldest first, with their queue.
    pub fn channel_consumers(&self, c: ConnectionId, ch: ChannelNumber) -> Vec<(String, String)> {
        self.channel(c, ch)
            .map(|x| {
                x.consumers
                    .iter()
                    .map(|t| (t.clone(), self.consumers[&(c.0, ch.0, t.clone())].queue.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Consumer tags of unacked deliveries on a channel whose consumer was cancelled (no consumer holds
    /// the tag now), with the delivery's queue; each once, in delivery order.
    pub fn cancelled_tags_with_unacked(&self, c: ConnectionId, ch: ChannelNumber) -> Vec<(String, String)> {
        let Some(channel) = self.channel(c, ch) else { return Vec::new() };
        let mut out: Vec<(String, String)> = Vec::new();
        for u in &channel.unacked {
            if let Taker::Consumer(tag) = &u.taker {
                if !channel.consumers.contains(tag) && !out.iter().any(|(t, q)| t == tag && *q == u.queue) {
                    out.push((tag.clone(), u.queue.clone()));
                }
            }
        }
        out
    }

    /// Consumer tags that unacked deliveries on a channel were made under (each once).
    pub fn tags_of_unacked(&self, c: ConnectionId, ch: ChannelNumber) -> Vec<String> {
        let Some(channel) = self.channel(c, ch) else { return Vec::new() };
        let mut out: Vec<String> = Vec::new();
        for u in &channel.unacked {
            if let Taker::Consumer(tag) = &u.taker {
                if !out.contains(tag) {
                    out.push(tag.clone());
                }
            }
        }
        out
    }

    pub fn channel_in_confirm_mode(&self, c: ConnectionId, ch: ChannelNumber) -> bool {
        self.channel(c, ch).is_some_and(|x| x.confirm)
    }

    /// How many publishes a channel has confirmed-numbered so far (the last publish seq).
    pub fn last_publish_seq(&self, c: ConnectionId, ch: ChannelNumber) -> u64 {
        self.channel(c, ch).map_or(0, |x| x.next_publish_seq.saturating_sub(1))
    }

    /// The observations gathered since the last call.
    pub fn take_observed(&mut self) -> Observed {
        std::mem::take(&mut self.observed)
    }

    /// Renumbers deliveries made on one channel during the last operation: the engine is free to
    /// interleave deliveries from different queues differently (RabbitMQ runs queues concurrently), so
    /// the lockstep runner matches them per queue and tells the model which tag each got.
    pub fn renumber(&mut self, c: u32, ch: u16, mapping: &BTreeMap<u64, u64>) {
        let channel = self.channel_mut(c, ch);
        for u in &mut channel.unacked {
            if let Some(t) = mapping.get(&u.tag) {
                u.tag = *t;
                if let Taker::Get(g) = &mut u.taker {
                    *g = *t;
                }
            }
        }
        channel.unacked.sort_by_key(|u| u.tag);
    }

    /// Checks the model's own invariants (a bug here is a bug in the test, not the engine).
    pub fn assert_invariants(&self) {
        for (name, q) in &self.queues {
            assert!(
                q.ready.windows(2).all(|w| w[0].seq < w[1].seq),
                "model: queue '{name}' out of seq order"
            );
            if let Some(head) = q.ready.first() {
                assert!(
                    head.expires_at.is_none_or(|e| e > self.now),
                    "model: queue '{name}' has an expired head"
                );
                let consumers = &self.consumers;
                assert!(
                    q.active.iter().all(|k| consumers[k].credit.is_some_and(|c| c <= 0))
                        && (!self.lazy_blocking || q.active.is_empty()),
                    "model: queue '{name}' has ready messages and a consumer that could take them"
                );
            }
            for k in q.active.iter().chain(q.blocked.iter()) {
                assert!(q.consumers.contains(k), "model: stale consumer {k:?} in '{name}'");
            }
        }
        let c = self.census();
        assert!(c.is_conserved(), "model: census not conserved: {c:?}");
    }

    /// Counts `n` copies dropped for `reason` (the census lists only reasons that occurred).
    fn drop_copies(&mut self, reason: DropReason, n: u64) {
        if n > 0 {
            *self.census.dropped.entry(reason).or_insert(0) += n;
        }
    }

    // ---- time ----

    /// Fires every head expiry due at or before `to`, in time order (ties by queue name), then sets the
    /// clock to `to`.
    pub fn advance_to(&mut self, to: u64) {
        assert!(to >= self.now, "model: time went back");
        loop {
            let next = self
                .queues
                .iter()
                .filter_map(|(name, q)| q.ready.first().and_then(|m| m.expires_at).map(|t| (t, name.clone())))
                .filter(|(t, _)| *t <= to)
                .min();
            let Some((t, name)) = next else { break };
            self.now = self.now.max(t);
            self.drop_expired(&name);
        }
        self.now = to;
    }

    // ---- connections ----

    /// Opens a connection; returns the id the broker gives it (connections are numbered from 1).
    pub fn connect(&mut self, at: u64) -> ConnectionId {
        self.advance_to(at);
        self.connections.push(Connection { open: true, channels: BTreeMap::new() });
        ConnectionId(self.connections.len() as u32)
    }

    /// Closes a connection: its channels close in channel-number order, then its exclusive queues go.
    pub fn close_connection(&mut self, at: u64, c: ConnectionId) {
        self.advance_to(at);
        let numbers: Vec<u16> = self.connections[c.0 as usize - 1].channels.keys().copied().collect();
        for n in numbers {
            if self.channel_mut(c.0, n).open {
                self.close_channel(c.0, n);
            }
        }
        let owned: Vec<String> = self
            .queues
            .iter()
            .filter(|(_, q)| q.exclusive_owner == Some(c.0))
            .map(|(n, _)| n.clone())
            .collect();
        for name in owned {
            self.delete_queue(&name);
        }
        self.connections[c.0 as usize - 1].open = false;
    }

    // ---- methods ----

    /// Applies one method; returns the reply or the channel error (after closing the channel as
    /// RabbitMQ does). `basic.get-ok` carries a placeholder delivery; the real one is in
    /// [`Observed::deliveries`].
    pub fn apply(
        &mut self,
        at: u64,
        c: ConnectionId,
        ch: ChannelNumber,
        method: &Method,
    ) -> Result<Reply, AmqpError> {
        self.advance_to(at);
        assert!(self.connections[c.0 as usize - 1].open, "model: method on a closed connection");
        let open = self.channel(c, ch).is_some_and(|x| x.open);
        if let Method::ChannelOpen = method {
            assert!(!open, "model: channel.open on an open channel");
            *self.channel_mut(c.0, ch.0) =
                Channel { open: true, next_tag: 1, next_publish_seq: 1, ..Channel::default() };
            return Ok(Reply::ChannelOpenOk { channel: ch });
        }
        assert!(open, "model: {} on a closed channel", method.amqp_name());
        let result = self.apply_open(c.0, ch.0, method);
        if result.is_err() {
            self.close_channel(c.0, ch.0);
        }
        result
    }

    fn apply_open(&mut self, c: u32, ch: u16, method: &Method) -> Result<Reply, AmqpError> {
        match method {
            Method::ChannelOpen => unreachable!(),
            Method::ChannelClose => {
                self.close_channel(c, ch);
                Ok(Reply::ChannelCloseOk)
            }
            Method::ConfirmSelect => {
                self.channel_mut(c, ch).confirm = true;
                Ok(Reply::ConfirmSelectOk)
            }
            Method::TxSelect | Method::TxCommit | Method::TxRollback => {
                panic!("model: transactions are not modelled (the workload does not send them)")
            }
            Method::BasicPublish { immediate: true, .. } => {
                panic!("model: immediate publishes are not modelled (the workload does not send them)")
            }
            Method::BasicQos { prefetch_count, global, .. } => {
                assert!(!global, "model: only per-consumer prefetch is modelled");
                self.channel_mut(c, ch).prefetch = *prefetch_count;
                Ok(Reply::BasicQosOk)
            }
            Method::ExchangeDeclare {
                exchange,
                exchange_type,
                passive,
                durable,
                auto_delete,
                internal,
                arguments,
            } => {
                assert!(
                    !auto_delete && !internal && arguments.is_empty(),
                    "model: unmodelled exchange options"
                );
                self.exchange_declare(exchange, exchange_type, *passive, *durable)
            }
            Method::ExchangeDelete { exchange, if_unused } => {
                if exchange.is_empty() {
                    return Err(default_exchange_refused());
                }
                assert!(!exchange.starts_with("amq."), "model: deleting amq.* is not modelled");
                if let Some(x) = self.exchanges.get(exchange) {
                    if *if_unused && !x.bindings.is_empty() {
                        return Err(precondition(format!("{} in use", exchange_resource(exchange))));
                    }
                    self.exchanges.remove(exchange);
                }
                Ok(Reply::ExchangeDeleteOk)
            }
            Method::ExchangeBind { .. } | Method::ExchangeUnbind { .. } => {
                panic!("model: exchange-to-exchange bindings are not modelled")
            }
            Method::QueueDeclare { queue, passive, durable, exclusive, auto_delete, arguments } => {
                self.queue_declare(c, queue, *passive, *durable, *exclusive, *auto_delete, arguments)
            }
            Method::QueueBind { queue, exchange, routing_key, arguments } => {
                assert!(arguments.is_empty(), "model: binding arguments are not modelled");
                if exchange.is_empty() {
                    return Err(default_exchange_refused());
                }
                if !self.exchanges.contains_key(exchange) {
                    return Err(not_found_exchange(exchange));
                }
                let q = self.queues.get(queue).ok_or_else(|| not_found_queue(queue))?;
                if q.exclusive_owner.is_some_and(|o| o != c) {
                    return Err(locked(queue));
                }
                let x = self.exchanges.get_mut(exchange).expect("checked");
                let b = (queue.clone(), routing_key.clone());
                if !x.bindings.contains(&b) {
                    x.bindings.push(b);
                }
                Ok(Reply::QueueBindOk)
            }
            Method::QueueUnbind { queue, exchange, routing_key, arguments } => {
                assert!(arguments.is_empty(), "model: binding arguments are not modelled");
                if exchange.is_empty() {
                    return Err(default_exchange_refused());
                }
                // `rabbit_binding:remove`: a missing queue, exchange or binding is not an error; the
                // exclusivity check only runs when the binding exists.
                let b = (queue.clone(), routing_key.clone());
                let exists = self.exchanges.get(exchange).is_some_and(|x| x.bindings.contains(&b));
                if exists {
                    if self.queues.get(queue).and_then(|q| q.exclusive_owner).is_some_and(|o| o != c) {
                        return Err(locked(queue));
                    }
                    self.exchanges.get_mut(exchange).expect("checked").bindings.retain(|x| *x != b);
                }
                Ok(Reply::QueueUnbindOk)
            }
            Method::QueuePurge { queue } => {
                self.check_access(c, queue)?;
                let q = self.queues.get_mut(queue).expect("checked");
                let n = q.ready.len();
                q.ready.clear();
                self.drop_copies(DropReason::Purged, n as u64);
                Ok(Reply::QueuePurgeOk { message_count: n as u32 })
            }
            Method::QueueDelete { queue, if_unused, if_empty } => {
                let Some(q) = self.queues.get(queue) else {
                    return Ok(Reply::QueueDeleteOk { message_count: 0 });
                };
                if q.exclusive_owner.is_some_and(|o| o != c) {
                    return Err(locked(queue));
                }
                // `handle_call({delete, …})` checks emptiness before use (unless tolerating F4).
                let not_empty = *if_empty && !q.ready.is_empty();
                let in_use = *if_unused && !q.consumers.is_empty();
                if not_empty && !(in_use && self.delete_checks_use_first) {
                    return Err(precondition(format!("{} not empty", queue_resource(queue))));
                }
                if in_use {
                    return Err(precondition(format!("{} in use", queue_resource(queue))));
                }
                let n = self.delete_queue(queue);
                Ok(Reply::QueueDeleteOk { message_count: n })
            }
            Method::BasicConsume { queue, consumer_tag, auto_ack, exclusive, arguments } => {
                assert!(
                    arguments.is_empty() && !consumer_tag.is_empty(),
                    "model: unmodelled consume options"
                );
                self.check_access(c, queue)?;
                let q = self.queues.get(queue).expect("checked");
                if q.exclusive_consumer.is_some() || (*exclusive && !q.consumers.is_empty()) {
                    return Err(AmqpError::channel(
                        ReplyCode::AccessRefused,
                        format!("{} in exclusive use", queue_resource(queue)),
                    ));
                }
                let key: ConsumerKey = (c, ch, consumer_tag.clone());
                // A tag may be reused once its consumer was cancelled (the workload does that); reusing
                // one still held is a 530 the model leaves out.
                assert!(!self.consumers.contains_key(&key), "model: consumer tag still in use");
                let prefetch = self.channel_mut(c, ch).prefetch;
                let credit = if *auto_ack || prefetch == 0 { None } else { Some(i64::from(prefetch)) };
                self.consumers
                    .insert(key.clone(), Consumer { queue: queue.clone(), auto_ack: *auto_ack, credit });
                self.channel_mut(c, ch).consumers.push(consumer_tag.clone());
                let q = self.queues.get_mut(queue).expect("checked");
                q.consumers.push(key.clone());
                q.active.push_back(key.clone());
                q.has_had_consumers = true;
                if *exclusive {
                    q.exclusive_consumer = Some(key);
                }
                self.run_queue(queue);
                Ok(Reply::BasicConsumeOk { consumer_tag: consumer_tag.clone() })
            }
            Method::BasicCancel { consumer_tag } => {
                let key: ConsumerKey = (c, ch, consumer_tag.clone());
                if let Some(consumer) = self.consumers.remove(&key) {
                    self.channel_mut(c, ch).consumers.retain(|t| t != consumer_tag);
                    let name = consumer.queue;
                    let q = self.queues.get_mut(&name).expect("a consumer's queue exists");
                    forget_consumer(q, &key);
                    if q.auto_delete && q.has_had_consumers && q.consumers.is_empty() {
                        self.delete_queue(&name);
                    }
                }
                Ok(Reply::BasicCancelOk { consumer_tag: consumer_tag.clone() })
            }
            Method::BasicPublish { exchange, routing_key, mandatory, properties, body, .. } => {
                self.publish(c, ch, exchange, routing_key, *mandatory, properties, body)
            }
            Method::BasicGet { queue, auto_ack } => self.basic_get(c, ch, queue, *auto_ack),
            Method::BasicAck { delivery_tag, multiple } => {
                let taken = self.collect(c, ch, delivery_tag.0, *multiple)?;
                self.settle(c, ch, taken, Settle::Ack);
                Ok(Reply::None)
            }
            Method::BasicNack { delivery_tag, multiple, requeue } => {
                let taken = self.collect(c, ch, delivery_tag.0, *multiple)?;
                self.settle(c, ch, taken, if *requeue { Settle::Requeue } else { Settle::Discard });
                Ok(Reply::None)
            }
            Method::BasicReject { delivery_tag, requeue } => {
                let taken = self.collect(c, ch, delivery_tag.0, false)?;
                self.settle(c, ch, taken, if *requeue { Settle::Requeue } else { Settle::Discard });
                Ok(Reply::None)
            }
            Method::BasicRecover { requeue } => {
                assert!(
                    requeue,
                    "model: basic.recover requeue=false is a 540 connection error, not modelled"
                );
                let taken = std::mem::take(&mut self.channel_mut(c, ch).unacked);
                self.settle(c, ch, taken, Settle::Requeue);
                Ok(Reply::BasicRecoverOk)
            }
        }
    }

    fn exchange_declare(
        &mut self,
        name: &str,
        kind: &str,
        passive: bool,
        durable: bool,
    ) -> Result<Reply, AmqpError> {
        if passive {
            return if self.exchange_exists(name) {
                Ok(Reply::ExchangeDeclareOk)
            } else {
                Err(not_found_exchange(name))
            };
        }
        let kind = ExchangeKind::parse(kind).expect("model: only direct/fanout/topic are declared");
        if name.is_empty() {
            return Err(default_exchange_refused());
        }
        match self.exchanges.get(name) {
            Some(x) => {
                // `rabbit_exchange:assert_equivalence`: type first, then durable.
                let fail = |key: &str, received: &str, current: &str| {
                    precondition(format!(
                        "inequivalent arg '{key}' for {}: received '{received}' but current is '{current}'",
                        exchange_resource(name)
                    ))
                };
                if x.kind != kind {
                    return Err(fail("type", kind.as_str(), x.kind.as_str()));
                }
                if x.durable != durable {
                    return Err(fail("durable", &durable.to_string(), &x.durable.to_string()));
                }
                Ok(Reply::ExchangeDeclareOk)
            }
            None => {
                if name.starts_with("amq.") {
                    return Err(AmqpError::channel(
                        ReplyCode::AccessRefused,
                        format!("exchange name '{name}' contains reserved prefix 'amq.*'"),
                    ));
                }
                self.exchanges.insert(name.to_string(), Exchange { kind, durable, bindings: Vec::new() });
                Ok(Reply::ExchangeDeclareOk)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn queue_declare(
        &mut self,
        c: u32,
        name: &str,
        passive: bool,
        durable: bool,
        exclusive: bool,
        auto_delete: bool,
        arguments: &FieldTable,
    ) -> Result<Reply, AmqpError> {
        assert!(!name.is_empty(), "model: server-named queues are not modelled");
        // `rabbit_channel`: `Durable = DurableDeclare andalso not ExclusiveDeclare`.
        let durable = durable && !exclusive;
        let ok = |q: &Queue| Reply::QueueDeclareOk {
            queue: name.to_string(),
            message_count: q.ready.len() as u32,
            consumer_count: q.consumers.len() as u32,
        };
        if passive {
            let q = self.queues.get(name).ok_or_else(|| not_found_queue(name))?;
            if q.exclusive_owner.is_some_and(|o| o != c) {
                return Err(locked(name));
            }
            return Ok(ok(q));
        }
        if name.starts_with("amq.") {
            return Err(AmqpError::channel(
                ReplyCode::AccessRefused,
                format!("queue name '{name}' contains reserved prefix 'amq.*'"),
            ));
        }
        if let Some(q) = self.queues.get(name) {
            // `rabbit_amqqueue:assert_equivalence`: exclusivity (strict), durable, auto_delete, arguments.
            let owner = if exclusive { Some(c) } else { None };
            if q.exclusive_owner != owner {
                return Err(locked(name));
            }
            let fail = |key: &str, received: String, current: String| {
                precondition(format!(
                    "inequivalent arg '{key}' for {}: received {received} but current is {current}",
                    queue_resource(name)
                ))
            };
            if q.durable != durable {
                return Err(fail("durable", format!("'{durable}'"), format!("'{}'", q.durable)));
            }
            if q.auto_delete != auto_delete {
                return Err(fail("auto_delete", format!("'{auto_delete}'"), format!("'{}'", q.auto_delete)));
            }
            for key in [
                "x-message-ttl",
                "x-dead-letter-exchange",
                "x-dead-letter-routing-key",
                "x-max-length",
                "x-overflow",
            ] {
                match (q.arguments.get(key), arguments.get(key)) {
                    (Some(cur), Some(new)) if cur != new => {
                        return Err(fail(key, arg_text(new), arg_text(cur)))
                    }
                    (Some(_), None) | (None, Some(_)) => panic!("model: only differing values are modelled"),
                    _ => {}
                }
            }
            return Ok(ok(q));
        }
        let args = parse_queue_args(name, arguments)?;
        let incarnation = self.next_incarnation;
        self.next_incarnation += 1;
        self.queues.insert(
            name.to_string(),
            Queue {
                incarnation,
                durable,
                auto_delete,
                exclusive_owner: if exclusive { Some(c) } else { None },
                arguments: arguments.clone(),
                args,
                ready: Vec::new(),
                next_seq: 0,
                consumers: Vec::new(),
                active: VecDeque::new(),
                blocked: Vec::new(),
                exclusive_consumer: None,
                has_had_consumers: false,
            },
        );
        Ok(Reply::QueueDeclareOk { queue: name.to_string(), message_count: 0, consumer_count: 0 })
    }

    /// `with_exclusive_access_or_die`: the queue exists and this connection may use it.
    fn check_access(&self, c: u32, queue: &str) -> Result<(), AmqpError> {
        let q = self.queues.get(queue).ok_or_else(|| not_found_queue(queue))?;
        if q.exclusive_owner.is_some_and(|o| o != c) {
            return Err(locked(queue));
        }
        Ok(())
    }

    /// Deletes a queue: ready copies are dropped, its consumers vanish from their channels, its bindings
    /// go. Unacked copies stay with their channels (acking them later is harmless). Returns the ready count.
    fn delete_queue(&mut self, name: &str) -> u32 {
        let q = self.queues.remove(name).expect("model: deleting a missing queue");
        let n = q.ready.len() as u32;
        self.drop_copies(DropReason::QueueDeleted, u64::from(n));
        for key in &q.consumers {
            self.consumers.remove(key);
            let (c, ch, tag) = key;
            self.channel_mut(*c, *ch).consumers.retain(|t| t != tag);
        }
        for x in self.exchanges.values_mut() {
            x.bindings.retain(|(queue, _)| queue != name);
        }
        n
    }

    fn close_channel(&mut self, c: u32, ch: u16) {
        let channel = std::mem::take(self.channel_mut(c, ch));
        // Consumers first, per queue, then each queue requeues this channel's unacked copies in one batch
        // (`handle_ch_down`), unless losing the consumers auto-deleted it.
        let mut by_queue: BTreeMap<String, (Vec<ConsumerKey>, Vec<Unacked>)> = BTreeMap::new();
        for tag in &channel.consumers {
            let key = (c, ch, tag.clone());
            let consumer = self.consumers.remove(&key).expect("channel consumer exists");
            by_queue.entry(consumer.queue).or_default().0.push(key);
        }
        let mut stale = 0u64;
        for u in channel.unacked {
            if self.queues.get(&u.queue).is_some_and(|q| q.incarnation == u.incarnation) {
                by_queue.entry(u.queue.clone()).or_default().1.push(u);
            } else {
                stale += 1;
            }
        }
        self.drop_copies(DropReason::QueueDeleted, stale);
        for (name, (keys, unacked)) in by_queue {
            let q = self.queues.get_mut(&name).expect("live queue");
            for key in &keys {
                forget_consumer(q, key);
            }
            if q.auto_delete && q.has_had_consumers && q.consumers.is_empty() {
                self.drop_copies(DropReason::QueueDeleted, unacked.len() as u64);
                self.delete_queue(&name);
            } else {
                self.requeue_and_run(&name, unacked.into_iter().map(|u| u.copy).collect());
            }
        }
        // The channel stays closed (default state) until reopened.
    }

    #[allow(clippy::too_many_arguments)]
    fn publish(
        &mut self,
        c: u32,
        ch: u16,
        exchange: &str,
        routing_key: &str,
        mandatory: bool,
        properties: &BasicProperties,
        body: &[u8],
    ) -> Result<Reply, AmqpError> {
        if !self.exchange_exists(exchange) {
            return Err(not_found_exchange(exchange));
        }
        let msg_ttl = match &properties.expiration {
            None => None,
            Some(text) => match text.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    assert!(
                        !text.starts_with('-') && text.parse::<i64>().is_err(),
                        "model: only no_integer modelled"
                    );
                    return Err(precondition(format!("invalid expiration '{text}': no_integer")));
                }
            },
        };
        let channel = self.channel_mut(c, ch);
        let confirm_seq = if channel.confirm {
            let s = channel.next_publish_seq;
            channel.next_publish_seq += 1;
            Some(s)
        } else {
            None
        };
        let publish = self.next_publish;
        self.next_publish += 1;
        self.census.published += 1;
        let copy = Copy {
            publish,
            seq: 0,
            expires_at: None,
            redelivered: false,
            exchange: exchange.to_string(),
            routing_key: routing_key.to_string(),
            properties: properties.clone(),
            body: body.to_vec(),
        };
        let targets = self.route(exchange, routing_key);
        let mut rejected = false;
        if targets.is_empty() {
            self.census.copies += 1;
            if mandatory {
                self.census.returned += 1;
                self.observed.returns.push(ExpectedReturn {
                    connection: c,
                    channel: ch,
                    publish,
                    reply_code: 312,
                    reply_text: "NO_ROUTE".to_string(),
                    exchange: exchange.to_string(),
                    routing_key: routing_key.to_string(),
                });
            } else {
                self.drop_copies(DropReason::Unroutable, 1);
            }
        }
        for q in targets {
            self.census.copies += 1;
            if self.enqueue(&q, copy.clone(), msg_ttl) == Enqueued::Rejected {
                rejected = true;
            }
        }
        if let Some(seq) = confirm_seq {
            self.observed.confirms.push((c, ch, seq, !rejected));
        }
        Ok(Reply::None)
    }

    /// The queues a message published to `exchange` with `routing_key` goes to, by name, each once.
    fn route(&self, exchange: &str, routing_key: &str) -> Vec<String> {
        if exchange.is_empty() {
            return if self.queues.contains_key(routing_key) {
                vec![routing_key.to_string()]
            } else {
                Vec::new()
            };
        }
        let Some(x) = self.exchanges.get(exchange) else { return Vec::new() };
        let mut out: Vec<String> = x
            .bindings
            .iter()
            .filter(|(_, key)| match x.kind {
                ExchangeKind::Fanout => true,
                ExchangeKind::Direct => key == routing_key,
                ExchangeKind::Topic => topic_matches(&words(key), &words(routing_key)),
            })
            .map(|(q, _)| q.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// `maybe_deliver_or_enqueue` + `deliver_or_enqueue`: overflow check, then straight to a consumer if
    /// one can take it, else to the tail (then drop-head and expired-head drops).
    fn enqueue(&mut self, name: &str, mut copy: Copy, msg_ttl: Option<u64>) -> Enqueued {
        let now = self.now;
        let q = self.queues.get_mut(name).expect("routed to a live queue");
        let overflow = q.args.overflow.unwrap_or(Overflow::DropHead);
        let will_overflow = q.args.max_length.is_some_and(|max| q.ready.len() as u64 + 1 > max);
        if will_overflow && overflow != Overflow::DropHead {
            if overflow == Overflow::RejectPublishDlx {
                self.dead_letter(name, copy, DropReason::Maxlen);
            } else {
                self.drop_copies(DropReason::Overflow, 1);
            }
            return Enqueued::Rejected;
        }
        let ttl = match (q.args.ttl_millis, msg_ttl) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        copy.expires_at = ttl.map(|t| now + t);
        copy.seq = q.next_seq;
        q.next_seq += 1;
        let was_empty = q.ready.is_empty();
        q.ready.push(copy);
        if was_empty {
            // attempt_delivery: consumers get it before it could expire or overflow.
            self.run_queue(name);
        }
        self.drop_head_over_limit(name);
        self.drop_expired(name);
        Enqueued::Accepted
    }

    /// `maybe_drop_head` for `drop-head`: while over `x-max-length`, the head goes (dead-lettered `maxlen`).
    fn drop_head_over_limit(&mut self, name: &str) {
        loop {
            let Some(q) = self.queues.get_mut(name) else { return };
            if q.args.overflow.unwrap_or(Overflow::DropHead) != Overflow::DropHead {
                return;
            }
            let Some(max) = q.args.max_length else { return };
            if q.ready.len() as u64 <= max {
                return;
            }
            let head = q.ready.remove(0);
            self.dead_letter(name, head, DropReason::Maxlen);
        }
    }

    /// `drop_expired_msgs`: drops (or dead-letters) expired messages from the head only.
    fn drop_expired(&mut self, name: &str) {
        loop {
            let now = self.now;
            let Some(q) = self.queues.get_mut(name) else { return };
            if q.ready.first().and_then(|m| m.expires_at).is_none_or(|t| t > now) {
                return;
            }
            let head = q.ready.remove(0);
            self.dead_letter(name, head, DropReason::Expired);
        }
    }

    /// Dead-letters (or drops) one copy that left queue `name` for `reason`.
    fn dead_letter(&mut self, name: &str, copy: Copy, reason: DropReason) {
        let q = &self.queues[name];
        let Some(dlx) = q.args.dead_letter_exchange.clone() else {
            self.drop_copies(reason, 1);
            return;
        };
        if !self.exchanges.contains_key(&dlx) && !dlx.is_empty() {
            self.drop_copies(DropReason::DeadLetterExchangeMissing, 1);
            return;
        }
        let dlrk = q.args.dead_letter_routing_key.clone();
        self.census.dead_lettered += 1;
        // `rabbit_dead_letter:make_msg`.
        let mut props = copy.properties.clone();
        let reason_text = reason.x_death_reason().expect("a dead-letter reason");
        let mut info = FieldTable::new();
        info.insert("count".into(), FieldValue::Int(1));
        info.insert("reason".into(), FieldValue::Str(reason_text.into()));
        info.insert("queue".into(), FieldValue::Str(name.into()));
        info.insert("time".into(), FieldValue::Int((self.now / 1000) as i64));
        info.insert("exchange".into(), FieldValue::Str(copy.exchange.clone()));
        info.insert(
            "routing-keys".into(),
            FieldValue::Array(vec![FieldValue::Str(copy.routing_key.clone())]),
        );
        if let Some(exp) = props.expiration.take() {
            info.insert("original-expiration".into(), FieldValue::Str(exp));
        }
        assert!(
            !props.headers.contains_key("x-death"),
            "model: a message dies at most once in this topology"
        );
        props.headers.insert("x-death".into(), FieldValue::Array(vec![FieldValue::Table(info)]));
        props.headers.insert("x-first-death-exchange".into(), FieldValue::Str(copy.exchange.clone()));
        props.headers.insert("x-first-death-queue".into(), FieldValue::Str(name.into()));
        props.headers.insert("x-first-death-reason".into(), FieldValue::Str(reason_text.into()));
        let routing_key = dlrk.unwrap_or_else(|| copy.routing_key.clone());
        let dead = Copy {
            publish: copy.publish,
            seq: 0,
            expires_at: None,
            redelivered: false,
            exchange: dlx.clone(),
            routing_key: routing_key.clone(),
            properties: props,
            body: copy.body,
        };
        let targets = self.route(&dlx, &routing_key);
        assert!(!targets.iter().any(|t| t == name), "model: dead-letter cycles are not modelled");
        if targets.is_empty() {
            self.census.copies += 1;
            self.drop_copies(DropReason::Unroutable, 1);
        }
        for t in targets {
            self.census.copies += 1;
            self.enqueue(&t, dead.clone(), None);
        }
    }

    /// `run_message_queue` with `rabbit_queue_consumers:deliver`: the head goes to the first consumer in
    /// line that has credit (which then moves to the back); one without credit leaves the line and
    /// waits in `blocked` until an ack gives it credit again.
    fn run_queue(&mut self, name: &str) {
        loop {
            let Some(q) = self.queues.get_mut(name) else { return };
            if q.ready.is_empty() {
                return;
            }
            let key = if self.lazy_blocking {
                let Some(key) = q.active.pop_front() else { return };
                if self.consumers[&key].credit.is_some_and(|c| c <= 0) {
                    q.blocked.push(key);
                    continue;
                }
                key
            } else {
                // Tolerating F3: skip consumers without credit but keep their place in line.
                let consumers = &self.consumers;
                let Some(i) = q.active.iter().position(|k| consumers[k].credit.is_none_or(|c| c > 0)) else {
                    return;
                };
                q.active.remove(i).expect("index in range")
            };
            let consumer = self.consumers.get_mut(&key).expect("active consumer exists");
            if let Some(c) = &mut consumer.credit {
                *c -= 1;
            }
            let auto_ack = consumer.auto_ack;
            q.active.push_back(key.clone());
            let mut copy = q.ready.remove(0);
            let incarnation = q.incarnation;
            let (c, ch, tag) = key;
            let at = self.now;
            let channel = self.channel_mut(c, ch);
            let delivery_tag = channel.next_tag;
            channel.next_tag += 1;
            self.observed.deliveries.push(ExpectedDelivery {
                at,
                connection: c,
                channel: ch,
                queue: name.to_string(),
                publish: copy.publish,
                delivery_tag,
                redelivered: copy.redelivered,
                exchange: copy.exchange.clone(),
                routing_key: copy.routing_key.clone(),
                consumer_tag: Some(tag.clone()),
                message_count: None,
                properties: copy.properties.clone(),
                body: copy.body.clone(),
            });
            if auto_ack {
                self.census.acked += 1;
            } else {
                copy.redelivered = true;
                self.channel_mut(c, ch).unacked.push(Unacked {
                    tag: delivery_tag,
                    queue: name.to_string(),
                    incarnation,
                    taker: Taker::Consumer(tag),
                    copy,
                });
            }
            // `fetch` drops newly exposed expired heads after every delivery.
            self.drop_expired(name);
        }
    }

    fn basic_get(&mut self, c: u32, ch: u16, queue: &str, auto_ack: bool) -> Result<Reply, AmqpError> {
        self.check_access(c, queue)?;
        let q = self.queues.get_mut(queue).expect("checked");
        if q.ready.is_empty() {
            return Ok(Reply::BasicGetEmpty);
        }
        let mut copy = q.ready.remove(0);
        let incarnation = q.incarnation;
        let channel = self.channel_mut(c, ch);
        let delivery_tag = channel.next_tag;
        channel.next_tag += 1;
        let observed = ExpectedDelivery {
            at: self.now,
            connection: c,
            channel: ch,
            queue: queue.to_string(),
            publish: copy.publish,
            delivery_tag,
            redelivered: copy.redelivered,
            exchange: copy.exchange.clone(),
            routing_key: copy.routing_key.clone(),
            consumer_tag: None,
            message_count: None,
            properties: copy.properties.clone(),
            body: copy.body.clone(),
        };
        if auto_ack {
            self.census.acked += 1;
        } else {
            copy.redelivered = true;
            self.channel_mut(c, ch).unacked.push(Unacked {
                tag: delivery_tag,
                queue: queue.to_string(),
                incarnation,
                taker: Taker::Get(delivery_tag),
                copy,
            });
        }
        // The get-ok goes out before anything the head drop below dead-letters reaches a consumer.
        let index = self.observed.deliveries.len();
        self.observed.deliveries.push(observed);
        self.drop_expired(queue);
        let left = self.queue_ready(queue) as u32;
        self.observed.deliveries[index].message_count = Some(left);
        Ok(Reply::BasicGetOk(Box::new(placeholder_delivery(delivery_tag, left))))
    }

    /// `collect_acks`: the deliveries an ack / nack / reject names, or `unknown delivery tag`.
    fn collect(&mut self, c: u32, ch: u16, tag: u64, multiple: bool) -> Result<Vec<Unacked>, AmqpError> {
        let channel = self.channel_mut(c, ch);
        if tag == 0 && multiple {
            return Ok(std::mem::take(&mut channel.unacked));
        }
        let Some(pos) = channel.unacked.iter().position(|u| u.tag == tag) else {
            return Err(precondition(format!("unknown delivery tag {tag}")));
        };
        if multiple {
            Ok(channel.unacked.drain(..=pos).collect())
        } else {
            Ok(vec![channel.unacked.remove(pos)])
        }
    }

    /// Settles deliveries the way `rabbit_channel:foreach_per_queue` hands them to queues: grouped by
    /// (queue, taker), groups in that order, tags ascending within a group; each group gives its
    /// consumer credit back (unblocking it), then acks, requeues or dead-letters, then runs the queue.
    fn settle(&mut self, c: u32, ch: u16, mut taken: Vec<Unacked>, how: Settle) {
        let per_taker = self.settle_per_taker;
        let group_key = |u: &Unacked| {
            (u.queue.clone(), u.incarnation, if per_taker { Some(u.taker.clone()) } else { None })
        };
        taken.sort_by_key(|u| (group_key(u), u.tag));
        let mut groups: Vec<Vec<Unacked>> = Vec::new();
        for u in taken {
            match groups.last_mut() {
                Some(g) if group_key(&g[0]) == group_key(&u) => g.push(u),
                _ => groups.push(vec![u]),
            }
        }
        for group in groups {
            let name = group[0].queue.clone();
            let live = self.queues.get(&name).is_some_and(|q| q.incarnation == group[0].incarnation);
            if !live {
                // The queue was deleted: acks are accepted and ignored (`rabbit_queue_type:settle`).
                let n = group.len() as u64;
                match how {
                    Settle::Ack => self.census.acked += n,
                    Settle::Requeue | Settle::Discard => self.drop_copies(DropReason::QueueDeleted, n),
                }
                continue;
            }
            let mut credited = false;
            for u in &group {
                if let Taker::Consumer(tag) = &u.taker {
                    // `rabbit_limiter:ack_from_queue`: the queue's credit for this tag, whichever consumer
                    // holds the tag now (it may have been cancelled and the tag reused on this queue).
                    if let Some(consumer) = self.consumers.get_mut(&(c, ch, tag.clone())) {
                        if consumer.queue == name {
                            if let Some(credit) = &mut consumer.credit {
                                *credit += 1;
                            }
                        }
                    }
                    credited = true;
                }
            }
            if credited {
                self.unblock(&name, c, ch);
            }
            match how {
                Settle::Ack => self.census.acked += group.len() as u64,
                Settle::Requeue => self.requeue_and_run(&name, group.into_iter().map(|u| u.copy).collect()),
                Settle::Discard => {
                    for u in group {
                        self.dead_letter(&name, u.copy, DropReason::Rejected);
                    }
                }
            }
            self.run_queue(&name);
        }
    }

    /// `rabbit_queue_consumers:unblock`: this channel's blocked consumers on the queue that have credit
    /// again rejoin the end of the line, in the order they blocked.
    fn unblock(&mut self, name: &str, c: u32, ch: u16) {
        let q = self.queues.get_mut(name).expect("live queue");
        let consumers = &self.consumers;
        let (back, still): (Vec<ConsumerKey>, Vec<ConsumerKey>) = q
            .blocked
            .drain(..)
            .partition(|k| k.0 == c && k.1 == ch && consumers[k].credit.is_none_or(|cr| cr > 0));
        q.blocked = still;
        q.active.extend(back);
    }

    /// `requeue_and_run`: copies go back to their original positions (by `seq`), marked redelivered;
    /// then drop-head, expired-head drops and delivery.
    fn requeue_and_run(&mut self, name: &str, copies: Vec<Copy>) {
        let q = self.queues.get_mut(name).expect("live queue");
        for copy in copies {
            let at = q.ready.partition_point(|m| m.seq < copy.seq);
            q.ready.insert(at, copy);
        }
        self.drop_head_over_limit(name);
        self.drop_expired(name);
        self.run_queue(name);
    }
}

/// Removes a consumer from a queue's line, blocked list and exclusive slot.
fn forget_consumer(q: &mut Queue, key: &ConsumerKey) {
    q.consumers.retain(|k| k != key);
    q.active.retain(|k| k != key);
    q.blocked.retain(|k| k != key);
    if q.exclusive_consumer.as_ref() == Some(key) {
        q.exclusive_consumer = None;
    }
}

fn placeholder_delivery(tag: u64, message_count: u32) -> Delivery {
    Delivery {
        message: MessageId(u64::MAX),
        delivery_tag: DeliveryTag(tag),
        redelivered: false,
        exchange: String::new(),
        routing_key: String::new(),
        consumer_tag: None,
        message_count: Some(message_count),
        properties: BasicProperties::default(),
        body: Vec::new(),
    }
}

/// Validates and reads the arguments the model declares, with RabbitMQ's `invalid arg` errors.
fn parse_queue_args(name: &str, arguments: &FieldTable) -> Result<QueueArgs, AmqpError> {
    let invalid = |key: &str, why: String| {
        precondition(format!("invalid arg '{key}' for {}: {why}", queue_resource(name)))
    };
    let mut args = QueueArgs::default();
    for (key, value) in arguments {
        match (key.as_str(), value) {
            ("x-message-ttl", FieldValue::Int(n)) => {
                if *n < 0 {
                    return Err(invalid(key, format!("{{value_negative,{n}}}")));
                }
                args.ttl_millis = Some(*n as u64);
            }
            ("x-max-length", FieldValue::Int(n)) => {
                assert!(*n >= 1, "model: x-max-length below 1 is not modelled");
                args.max_length = Some(*n as u64);
            }
            ("x-overflow", FieldValue::Str(s)) => {
                args.overflow = Some(match s.as_str() {
                    "drop-head" => Overflow::DropHead,
                    "reject-publish" => Overflow::RejectPublish,
                    "reject-publish-dlx" => Overflow::RejectPublishDlx,
                    _ => return Err(invalid(key, "invalid_overflow".to_string())),
                });
            }
            ("x-dead-letter-exchange", FieldValue::Str(s)) => args.dead_letter_exchange = Some(s.clone()),
            ("x-dead-letter-routing-key", FieldValue::Str(s)) => {
                args.dead_letter_routing_key = Some(s.clone())
            }
            _ => panic!("model: argument {key} = {value} is not modelled"),
        }
    }
    if args.dead_letter_routing_key.is_some() && args.dead_letter_exchange.is_none() {
        return Err(invalid("x-dead-letter-routing-key", "routing_key_but_no_dlx_defined".to_string()));
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, k: &str) -> bool {
        topic_matches(&words(p), &words(k))
    }

    #[test]
    fn topic_matcher_agrees_with_the_tutorial() {
        assert!(m("*.orange.*", "quick.orange.rabbit"));
        assert!(!m("*.orange.*", "quick.orange.male.rabbit"));
        assert!(m("lazy.#", "lazy"));
        assert!(m("lazy.#", "lazy.orange.male.rabbit"));
        assert!(m("*.*.rabbit", "lazy.pink.rabbit"));
        assert!(!m("*.*.rabbit", "quick.rabbit"));
        assert!(m("#", ""));
        assert!(!m("*", ""));
        assert!(m("a.#.c", "a.c"));
        assert!(m("a.#.c", "a.b.b.c"));
        assert!(!m("a.#.c", "a.b.b"));
    }
}
