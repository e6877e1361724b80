//! The AMQP broker state machine: one RabbitMQ virtual host on virtual time.
//!
//! # Driving it
//! - Lifecycle: [`Broker::new`], [`connect`](Broker::connect), [`close_connection`](Broker::close_connection).
//! - Commands: [`apply`](Broker::apply) one [`Method`] on a channel at a time `at`; deadlines due by `at`
//!   fire first. The result is the `-ok` reply or the error that closed the channel (or connection).
//! - Time: [`next_deadline`](Broker::next_deadline), [`step`](Broker::step) (fire the next instant),
//!   [`advance_to`](Broker::advance_to). Nothing ticks: an idle broker jumps a day for free.
//! - Observation: [`take_events`](Broker::take_events) or [`drain_events_into`](Broker::drain_events_into),
//!   [`queues`](Broker::queues), [`exchanges`](Broker::exchanges), [`census`](Broker::census),
//!   [`peek`](Broker::peek), [`assert_invariants`](Broker::assert_invariants).
//!
//! # Rules implemented (RabbitMQ 3.10 classic and quorum queues)
//! - TTL: a message's expiry is fixed when it enters a queue (`now + min(x-message-ttl, expiration)`) and
//!   kept across requeues; messages expire only at the head of the queue, as classic queues do, so an
//!   expired message behind a live one waits. In a priority queue the head is the next message to
//!   deliver: expired messages go from the highest non-empty level down, stopping at the first live head,
//!   so an expired low-priority message waits (and is counted) while a live higher one is ready (as
//!   RabbitMQ 3.10.8 does: `tests/scenarios/amqp/priority-message-ttl`). A message handed to a consumer no
//!   longer expires. `x-message-ttl=0` therefore drops (or dead-letters) at once unless a consumer can
//!   take the message immediately.
//! - `x-expires`: the countdown restarts on declare (also passive), `basic.get`, and when the last
//!   consumer goes; it stops while the queue has consumers. On expiry the queue is deleted with its
//!   messages.
//! - Round-robin with consumer priorities: a queue's consumers stand in a line ordered by `x-priority`
//!   (a `basic.consume` argument, any integer, default 0), highest first. The queue serves the first
//!   consumer with credit and moves it behind the others of its priority, so equal priorities share
//!   round-robin and a lower priority gets messages only while every higher one is blocked (no prefetch
//!   credit). A consumer found without credit leaves the line and, once acks give credit back, rejoins
//!   it at the end of its priority.
//! - Single active consumer: the queue serves only its active consumer, the first registered (a later,
//!   higher-priority consumer does not take over in 3.10). When the active one goes, a classic queue
//!   activates the highest-priority waiting consumer (earliest registered among equals); a quorum queue
//!   the earliest registered, ignoring priorities. (Priority-aware activation of quorum queues came
//!   after 3.10.)
//! - Requeue: a classic queue puts a message back at its original position (by publish order into the
//!   queue); a quorum queue puts returns ahead of never-delivered messages, in return order, counts them
//!   (`x-delivery-count`) and dead-letters with `delivery_limit` once the count exceeds
//!   `x-delivery-limit`.
//! - Confirms: one `basic.ack`/`basic.nack` per publish (never `multiple`), after the message reached
//!   every queue (or was returned / dropped as unroutable); nack if any queue refused it (`x-overflow`
//!   `reject-publish` / `reject-publish-dlx`).
//! - Consumer tags: a tag is refused (`530`) only while a consumer on the channel holds it; after
//!   `basic.cancel` it may be reused. The old consumer's deliveries stay unacked on the channel and can be
//!   settled. On a classic queue the new consumer starts with its full prefetch and every settled old
//!   delivery adds one credit to it (RabbitMQ's limiter keeps credit per tag: `rabbit_limiter:
//!   ack_from_queue/3`); on a quorum queue the new consumer takes the old deliveries over against its
//!   prefetch (`rabbit_fifo:merge_consumer/4`). Details in `consumer.rs`.
//!
//! - Policies ([`set_policy`](Broker::set_policy), `definitions.json` import): a queue or exchange keeps
//!   the arguments it was declared with, and only those are compared when it is redeclared; what it acts
//!   on (TTL, expiry, length limits, overflow, dead-lettering, delivery limit, alternate exchange) is its
//!   arguments combined with the one policy in effect (highest priority among those whose pattern matches
//!   and whose `apply-to` and queue type allow it), per RabbitMQ 3.10's rules: the lower value for
//!   `message-ttl`, `max-length(-bytes)`, `delivery-limit` and (classic) `expires`, the argument for the
//!   dead-letter keys, (classic) `overflow` and `alternate-exchange`, the policy for quorum `expires` and
//!   `overflow` (table and sources in `definitions.rs`). Setting a policy re-evaluates every entity;
//!   messages already queued keep the expiry they got on entering, a changed `expires` restarts the
//!   countdown, and a lowered length limit acts at the next publish (not checked against RabbitMQ).
//!
//! # Limits (RabbitMQ 3.10 defaults, see [`BrokerConfig`])
//! - `channel_max` 2047: the connection's *number of open channels* is limited, not the channel number;
//!   a method on a new channel number past the limit is a `530 NOT_ALLOWED` connection error, "number of
//!   channels opened (2047) has reached the negotiated channel_max (2047)" (`rabbit_reader:
//!   create_channel/2`). pika itself never asks for more: its `channel()` raises `NoFreeChannels` first.
//! - `max_message_size` 128 MiB: a larger body is a `406` channel error, "message size N is larger than
//!   configured max size 134217728" (`rabbit_channel:check_msg_size/3`).
//! - Short strings (names, routing keys, consumer tags, field-table keys, string properties) carry at
//!   most 255 bytes (AMQP 0-9-1 §4.2.5.3). No client can send a longer one — pika raises
//!   `ShortStringTooLong` before sending — so RabbitMQ never sees it; the engine refuses such a method as
//!   an undecodable frame (`501 FRAME_ERROR`, the connection closes, nothing else changes; not a RabbitMQ
//!   text). Callers playing a client (format 1, documents, `--broker`) and definitions import refuse it
//!   before it reaches the engine.
//! - Message ids stop at [`MAX_MESSAGE_ID`]: a stored image beyond it is refused, and a publish past it
//!   is a `541` connection error instead of an id wrapping around (only a hand-made state gets there).

use super::arguments::{
    assert_args_equivalence, assert_field_equivalence, assert_queue_args_equivalence, exchange_resource,
    parse_queue_arguments, queue_resource, type_name, Overflow, QueueType,
};
use super::census::{Census, Totals};
use super::channel::{
    consumer_mut, Channel, Connection, HeldPublish, HeldSettle, Transaction, Unacked, UnackedMap,
};
use super::consumer::Consumer;
use super::dead_letter::{dead_letter_copy_via, is_cycle};
use super::definitions::{self, CompiledPolicy, EntityKind, Policy};
use super::delivery::{can_take_in, unblock_in, BlockedCheck, Delivered, Deliverer};
use super::durable::base64_encode;
use super::error::{AmqpError, ErrorScope, ReplyCode};
use super::event::{CancelReason, DropReason, Event, LoggedEvent, QueueDeletedReason};
use super::exchange::{Binding, BindingCheck, BindingTable, Destination, ExchangeType};
use super::message::{header_routes, parse_expiration, PackedProperties, QueuedMessage, Route, RouteCache};
use super::method::{Method, Reply};
use super::queue::{ConsumerKey, InLine, Queue, QueueName};
use super::stream::{OffsetError, OffsetSpec, StreamLog};
use super::types::{
    BasicProperties, ChannelNumber, ConnectionId, Delivery, DeliveryTag, FieldTable, FieldValue, MessageId,
    Name,
};
use super::vec_map::VecMap;
use crate::clock::{DeadlineQueue, VirtualTime};
use crate::prng::Prng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// Broker-wide settings (RabbitMQ's defaults unless a scenario says otherwise).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrokerConfig {
    /// The virtual host every name lives in; RabbitMQ's texts mention it (`in vhost '/'`).
    pub vhost: String,
    /// Whether events are recorded (benchmarks of the hot path may turn this off).
    pub record_events: bool,
    /// The `channel_max` every connection negotiates: RabbitMQ's (2047 by default in 3.10) is below
    /// what clients offer (pika: 65535), and the lower non-zero value wins. 0 = no limit.
    pub channel_max: u16,
    /// The largest body a publish may carry (`max_message_size`, 128 MiB by default in RabbitMQ 3.10);
    /// a larger one closes the channel with 406.
    pub max_message_size: u64,
}

/// RabbitMQ 3.10's default `max_message_size` (`rabbit.app`: 134217728 bytes).
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 134_217_728;

/// RabbitMQ's hard ceiling for `max_message_size` (`?MAX_MSG_SIZE` in `rabbit.hrl`); its error text differs.
const MAX_MSG_SIZE_CEILING: u64 = 536_870_912;

/// The highest message id the engine hands out: ids stay exact integers in JSON read by JavaScript
/// (2^53 − 1), far beyond any session's publishes. A stored image beyond it is refused
/// ([`Broker::from_durable_image`]); a publish past it fails instead of wrapping around.
pub const MAX_MESSAGE_ID: u64 = (1 << 53) - 1;

/// RabbitMQ 3.10's default `channel_max` (`rabbit.app`), which connections from pika negotiate.
pub const DEFAULT_CHANNEL_MAX: u16 = 2047;

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            vhost: "/".to_string(),
            record_events: true,
            channel_max: DEFAULT_CHANNEL_MAX,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
        }
    }
}

/// A queue's counters, as the management UI shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueInfo {
    pub name: String,
    pub durable: bool,
    pub exclusive: bool,
    pub auto_delete: bool,
    pub messages_ready: u32,
    pub messages_unacknowledged: u32,
    pub consumers: u32,
}

/// An exchange and its bindings, as the management UI shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExchangeInfo {
    pub name: String,
    pub kind: ExchangeType,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    /// The arguments as declared.
    pub arguments: FieldTable,
    /// The policy in effect on the exchange, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    pub bindings: Vec<Binding>,
}

/// A queue's full description (arguments and per-consumer state), for detail views.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueDetail {
    pub info: QueueInfo,
    pub queue_type: QueueType,
    /// The arguments as declared.
    pub arguments: FieldTable,
    /// The policy in effect on the queue, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// What the queue acts on: `arguments` with the policy's effective values merged in per RabbitMQ's
    /// rules (the module doc, "Policies"); equal to `arguments` without a policy.
    #[serde(default)]
    pub effective_arguments: FieldTable,
    pub bytes_ready: u64,
    /// Consumers in the queue's current round-robin order.
    pub consumers: Vec<ConsumerInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerInfo {
    pub connection: ConnectionId,
    pub channel: ChannelNumber,
    pub consumer_tag: String,
    pub auto_ack: bool,
    pub exclusive: bool,
    pub prefetch: u16,
    pub unacked: u32,
    /// Stream queues: the offset this consumer reads next (its position in the log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_offset: Option<u64>,
}

/// A timer on the deadline queue. Cancellation is lazy: a timer that no longer matches its queue's
/// state (incarnation, armed instant or generation) is ignored when it fires.
#[derive(Clone, Debug)]
enum Timer {
    /// Expire messages at the head of a queue.
    QueueTtl { queue: Name, incarnation: u64 },
    /// Delete an unused queue (`x-expires`).
    QueueExpiry { queue: Name, incarnation: u64, generation: u64 },
}

#[derive(Clone, Debug)]
struct ExchangeState {
    durable: bool,
    auto_delete: bool,
    internal: bool,
    /// The arguments as declared (for equivalence checks and listings).
    arguments: FieldTable,
    /// The alternate exchange in effect: the declared `alternate-exchange`, else the policy's.
    alternate: Option<Name>,
    /// The policy in effect on the exchange, by name.
    policy: Option<Name>,
    table: BindingTable,
}

/// Direct reply-to's pseudo-queue: consumed (with auto-ack) to receive replies without a reply queue.
pub const REPLY_TO_QUEUE: &str = "amq.rabbitmq.reply-to";
/// The start of the routing key a direct reply is published with (the rest names the channel).
const REPLY_TO_PREFIX: &str = "amq.rabbitmq.reply-to.";

/// What settling a delivery does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Settle {
    Ack,
    Nack {
        requeue: bool,
    },
    Reject {
        requeue: bool,
    },
    /// `basic.recover(requeue=true)`: back to the queue, with no settle event.
    Recover,
}

/// Who took a delivery, ordered as Erlang orders RabbitMQ's group keys: `basic.get` deliveries (keyed
/// by their integer delivery tag) before consumer tags (binaries, in byte order).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Taker {
    Get(u64),
    Consumer(Name),
}

/// What the last publish looked up, remembered so the next one with the same exchange and route skips the
/// lookups: valid only while [`Broker::topology`] is the count it was filled at. Routing with empty
/// headers reads nothing but the topology, the exchange and the route's keys, so a remembered result
/// is the result.
#[derive(Clone, Debug, Default)]
struct RouteMemo {
    /// `Broker::topology` when the entries below were filled.
    topology: u64,
    /// The last exchange a publish found, and whether it is internal.
    exchange: Option<(Name, bool)>,
    /// The last routing with empty headers: the exchange it started at and the route (the shared one,
    /// kept alive here so its address is not reused); `targets` holds the queues it reached.
    routed: Option<(Name, Rc<Route>)>,
    targets: Vec<Name>,
}

impl RouteMemo {
    /// The memo at `topology`, emptied first if it was filled at another count.
    fn at(&mut self, topology: u64) -> &mut RouteMemo {
        if self.topology != topology {
            self.topology = topology;
            self.exchange = None;
            self.routed = None;
            self.targets.clear();
        }
        self
    }
}

/// The exchanges every RabbitMQ vhost starts with (all durable).
const PREDECLARED: &[(&str, ExchangeType, bool)] = &[
    ("", ExchangeType::Direct, false),
    ("amq.direct", ExchangeType::Direct, false),
    ("amq.fanout", ExchangeType::Fanout, false),
    ("amq.headers", ExchangeType::Headers, false),
    ("amq.match", ExchangeType::Headers, false),
    ("amq.rabbitmq.trace", ExchangeType::Topic, true),
    ("amq.topic", ExchangeType::Topic, false),
];

/// Records an event if recording is on; the event expression is not evaluated otherwise.
macro_rules! emit {
    ($self:ident, $event:expr) => {
        if $self.config.record_events {
            let event = $event;
            $self.events.push(LoggedEvent { at: $self.now, event });
        }
    };
}

/// The [`Deliverer`] of a broker's fields, built by hand (not by a method) so that a queue of
/// `queues` may stay borrowed meanwhile.
macro_rules! deliverer {
    ($self:ident) => {
        Deliverer {
            config: &$self.config,
            now: $self.now,
            events: &mut $self.events,
            connections: &mut $self.connections,
            totals: &mut $self.totals,
            blocked_check: &mut $self.blocked_check,
        }
    };
}

/// A RabbitMQ broker (one vhost) on virtual time.
///
/// # Invariants
/// (checked by [`assert_invariants`](Broker::assert_invariants))
/// - Message conservation: see [`Census`]; every routed copy is in exactly one place.
/// - A queue's `unacked` equals the deliveries of it held by channels; each consumer's and channel's
///   unacked counters equal what their channel holds.
/// - Consumers appear in their queue's list and in their channel, each once; a consumer never outlives
///   its queue or its channel.
/// - No queue has ready messages while one of its consumers could take one (deliveries run to
///   completion after every command and timer).
/// - No ready message at a queue head is expired, and every head with a TTL has a timer at or before
///   its expiry.
/// - `now` never goes back.
#[derive(Clone, Debug)]
pub struct Broker {
    config: BrokerConfig,
    prng: Prng,
    now: VirtualTime,
    timers: DeadlineQueue<Timer>,
    events: Vec<LoggedEvent>,
    /// By id (see [`VecMap`]: the order is a `BTreeMap`'s).
    connections: VecMap<ConnectionId, Connection>,
    next_connection: u32,
    exchanges: BTreeMap<Name, ExchangeState>,
    /// By name; the key is the queue's own `name` (see [`QueueName`]).
    queues: BTreeMap<QueueName, Queue>,
    next_incarnation: u64,
    next_message: u64,
    totals: Totals,
    /// Shares one (exchange, routing key) between successive messages: memory only, no behaviour.
    routes: RouteCache,
    /// Scratch space of [`route`](Broker::route), kept empty between calls so a publish allocates none:
    /// memory only, no behaviour.
    route_dests: Vec<Destination>,
    /// An emptied list of routed queues kept for the next [`route`](Broker::route): memory only.
    route_targets: Vec<Name>,
    /// Counts changes to what routing reads (exchanges, their bindings and settings, which queues
    /// exist): a [`RouteMemo`] filled at another count is stale.
    topology: u64,
    /// The last publish's exchange and routing, reused while `topology` stands: speed only, no behaviour.
    memo: RouteMemo,
    /// The vhost's policies, validated and compiled, in the order they were first set.
    policies: Vec<CompiledPolicy>,
    /// The last queue whose blocked consumers were all found without credit, while no credit came back
    /// since: speed only, no behaviour.
    blocked_check: BlockedCheck,
}

fn not_found_queue(name: &str, vhost: &str) -> AmqpError {
    AmqpError::channel(ReplyCode::NotFound, format!("no queue '{name}' in vhost '{vhost}'"))
}

fn not_found_exchange(name: &str, vhost: &str) -> AmqpError {
    AmqpError::channel(ReplyCode::NotFound, format!("no exchange '{name}' in vhost '{vhost}'"))
}

fn default_exchange_refused() -> AmqpError {
    AmqpError::channel(ReplyCode::AccessRefused, "operation not permitted on the default exchange")
}

fn resource_locked(name: &str, vhost: &str) -> AmqpError {
    AmqpError::channel(
        ReplyCode::ResourceLocked,
        format!(
            "cannot obtain exclusive access to locked {}. It could be originally declared on another \
             connection or the exclusive property value does not match that of the original declaration.",
            queue_resource(name, vhost)
        ),
    )
}

/// RabbitMQ's `rabbit_guid:binary/2`: a prefix and 16 random bytes in unpadded base64url.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

impl Broker {
    /// A fresh broker with the default and `amq.*` exchanges declared, at time zero.
    pub fn new(config: BrokerConfig, seed: u64) -> Self {
        let mut exchanges = BTreeMap::new(); // not `collect`: see crate::order
        exchanges.extend(PREDECLARED.iter().map(|(name, kind, internal)| {
            let state = ExchangeState {
                durable: true,
                auto_delete: false,
                internal: *internal,
                arguments: FieldTable::new(),
                alternate: None,
                policy: None,
                table: BindingTable::new(*kind),
            };
            (Name::from(*name), state)
        }));
        Broker {
            config,
            prng: Prng::new(seed),
            now: VirtualTime::ZERO,
            timers: DeadlineQueue::new(),
            events: Vec::new(),
            connections: VecMap::new(),
            next_connection: 1,
            exchanges,
            queues: BTreeMap::new(),
            next_incarnation: 1,
            next_message: 1,
            totals: Totals::default(),
            routes: RouteCache::default(),
            route_dests: Vec::new(),
            route_targets: Vec::new(),
            topology: 0,
            memo: RouteMemo::default(),
            policies: Vec::new(),
            blocked_check: BlockedCheck::default(),
        }
    }

    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// The virtual time of the last command or deadline processed.
    pub fn now(&self) -> VirtualTime {
        self.now
    }

    /// Opens a connection (the AMQP handshake) at `at`; `name` is the client-provided connection name.
    pub fn connect(&mut self, at: VirtualTime, name: &str) -> ConnectionId {
        self.advance_to(at);
        let id = ConnectionId(self.next_connection);
        self.next_connection += 1;
        let name = Name::from(name);
        self.connections.insert(id, Connection { name: name.clone(), channels: VecMap::new() });
        emit!(self, Event::ConnectionOpened { connection: id, name });
        id
    }

    /// Closes a connection: its channels close (requeueing unacked deliveries) and its exclusive queues go.
    /// Closing an unknown or already closed connection does nothing.
    pub fn close_connection(&mut self, at: VirtualTime, connection: ConnectionId) {
        self.advance_to(at);
        self.close_connection_now(connection, None);
    }

    /// Restarts the broker at `at`, as a RabbitMQ node restart does: every connection is closed with
    /// `320 CONNECTION_FORCED` (their unacknowledged deliveries go back to their queues first),
    /// non-durable queues and exchanges disappear with their bindings, and durable queues keep only
    /// persistent messages, in order and with their expiry. Queue expiry countdowns restart.
    pub fn restart(&mut self, at: VirtualTime) {
        self.advance_to(at);
        emit!(self, Event::BrokerRestarted);
        let forced = AmqpError::connection(
            ReplyCode::ConnectionForced,
            "broker forced connection closure with reason 'shutdown'",
        );
        let connections: Vec<ConnectionId> = self.connections.keys().copied().collect();
        for conn in connections {
            self.close_connection_now(conn, Some(forced.clone()));
        }
        let transient: Vec<Name> =
            self.queues.values().filter(|q| !q.durable).map(|q| q.name.clone()).collect();
        for q in transient {
            self.delete_queue(&q, QueueDeletedReason::Restart);
        }
        let transient: Vec<Name> =
            self.exchanges.iter().filter(|(_, x)| !x.durable).map(|(name, _)| name.clone()).collect();
        for x in transient {
            self.delete_exchange(&x);
        }
        let names: Vec<Name> = self.queues.keys().map(|k| k.0.clone()).collect();
        for name in names {
            let q = self.queues.get_mut(&*name).expect("listed");
            for m in q.retain(QueuedMessage::persistent) {
                self.totals.drop(DropReason::Restart);
                emit!(
                    self,
                    Event::Dropped { message: m.id, queue: Some(name.clone()), reason: DropReason::Restart }
                );
            }
            self.restart_expiry(&name);
        }
    }

    /// Durable recovery (`amqp/durable.rs`): the queue's state, to read its ready messages.
    pub(crate) fn queue_state(&self, queue: &str) -> Option<&Queue> {
        self.queues.get(queue)
    }

    /// Durable recovery (`amqp/durable.rs`): the id the next published message gets.
    pub(crate) fn next_message_id(&self) -> u64 {
        self.next_message
    }

    /// Durable recovery (`amqp/durable.rs`): later publishes get ids from `next` on (never going back).
    pub(crate) fn continue_message_ids(&mut self, next: u64) {
        self.next_message = self.next_message.max(next);
    }

    /// Durable recovery (`amqp/durable.rs`): appends a message read back from disk to `queue`, keeping its
    /// expiry and flags (a quorum queue's `returned` one goes back among the returns), counted as a copy.
    /// Returns `false` if there is no such queue.
    pub(crate) fn recover_message(&mut self, queue: &str, m: QueuedMessage, returned: bool) -> bool {
        let Some(q) = self.queues.get_mut(queue) else { return false };
        self.next_message = self.next_message.max(m.id.0.saturating_add(1));
        self.totals.copies += 1;
        if let Some(log) = &mut q.stream {
            log.append(m, self.now);
            return true;
        }
        if returned && q.is_quorum() {
            q.requeue(m);
        } else {
            let expires_at = m.expires_at();
            q.push(m, expires_at);
        }
        self.expire_heads(queue);
        true
    }

    /// Durable recovery (`amqp/durable.rs`): puts an entry read back from disk into stream `queue` at its
    /// own offset and write instant ([`StreamLog::recover`]), counted as a copy. `Err` says why not.
    pub(crate) fn recover_stream_entry(
        &mut self,
        queue: &str,
        offset: u64,
        written_at: VirtualTime,
        m: QueuedMessage,
    ) -> Result<(), &'static str> {
        let Some(q) = self.queues.get_mut(queue) else { return Err("its queue was not recovered") };
        let Some(log) = &mut q.stream else { return Err("its queue is not a stream") };
        if written_at > self.now {
            return Err("it was written after the image was taken");
        }
        let id = m.id.0;
        log.recover(offset, written_at, m)?;
        self.next_message = self.next_message.max(id.saturating_add(1));
        self.totals.copies += 1;
        Ok(())
    }

    /// Durable recovery (`amqp/durable.rs`): stream `queue`'s log continues at offset `next`.
    pub(crate) fn continue_stream_offsets(&mut self, queue: &str, next: u64) {
        if let Some(log) = self.queues.get_mut(queue).and_then(|q| q.stream.as_mut()) {
            log.continue_offsets_from(next);
        }
    }

    /// A channel's open transaction (`tx.select` sent): how many publishes and settlements it holds
    /// until `tx.commit`; `None` when the channel is not transactional (or not open).
    pub fn transaction_held(
        &self,
        connection: ConnectionId,
        channel: ChannelNumber,
    ) -> Option<(usize, usize)> {
        let tx = self.connections.get(&connection)?.channels.get(&channel)?.tx.as_ref()?;
        Some((tx.publishes.len(), tx.settles.len()))
    }

    /// A channel's direct reply-to consumer (`basic.consume` of `amq.rabbitmq.reply-to`): its consumer
    /// tag and the routing key its requests' `reply_to` is rewritten to; `None` without one.
    pub fn reply_consumer(&self, connection: ConnectionId, channel: ChannelNumber) -> Option<(&str, &str)> {
        let (tag, key) =
            self.connections.get(&connection)?.channels.get(&channel)?.reply_consumer.as_ref()?;
        Some((tag, key))
    }

    /// A stream queue's log (offsets, entries, bytes), for views; `None` for another queue type or none.
    pub fn stream_log(&self, queue: &str) -> Option<&StreamLog> {
        self.queues.get(queue)?.stream.as_ref()
    }

    /// Whether `connection` is open.
    pub fn is_open(&self, connection: ConnectionId) -> bool {
        self.connections.contains_key(&connection)
    }

    /// Whether `channel` of `connection` is open.
    pub fn is_channel_open(&self, connection: ConnectionId, channel: ChannelNumber) -> bool {
        self.connections.get(&connection).is_some_and(|c| c.channels.contains_key(&channel))
    }

    /// Applies one method sent on `channel` of `connection` at `at` (which must not be before `now()`;
    /// deadlines due by `at` fire first). Returns the `-ok` reply or the error that closed the channel
    /// (or connection).
    pub fn apply(
        &mut self,
        at: VirtualTime,
        connection: ConnectionId,
        channel: ChannelNumber,
        mut method: Method,
    ) -> Result<Reply, AmqpError> {
        self.advance_to(at);
        let Some(conn) = self.connections.get(&connection) else {
            // Not a RabbitMQ text: a real client cannot send on a closed socket.
            return Err(AmqpError::connection(
                ReplyCode::ConnectionForced,
                format!("connection '{connection}' is closed"),
            ));
        };
        let open = conn.channels.contains_key(&channel);
        let channel_max = usize::from(self.config.channel_max);
        let result = if channel.0 == 0 {
            Err(AmqpError::connection(
                ReplyCode::CommandInvalid,
                format!("unexpected method '{}' on channel 0", method.amqp_name()),
            ))
        } else if let Err(too_long) = method.check_short_strings() {
            // No client can encode this method (pika refuses it before sending), so RabbitMQ never sees
            // it; the engine refuses it as a frame it cannot decode, changing nothing but the connection.
            // Not a RabbitMQ text. Callers that play a client (scenarios, documents) refuse it first.
            Err(AmqpError::connection(ReplyCode::FrameError, too_long))
        } else if !open && channel_max != 0 && conn.channels.len() >= channel_max {
            // `rabbit_reader:create_channel/2`: any frame on a new channel number starts a channel, and
            // the *number of open channels* (not the channel number) is held to the negotiated maximum.
            Err(AmqpError::connection(
                ReplyCode::NotAllowed,
                format!(
                    "number of channels opened ({}) has reached the negotiated channel_max ({channel_max})",
                    conn.channels.len()
                ),
            ))
        } else if open
            && matches!(method, Method::BasicPublish { immediate: false, .. } | Method::BasicAck { .. })
        {
            // The two methods of every message, taken apart here rather than moved whole (a `Method` is
            // some 340 bytes) through `dispatch`, which would send them to the same place: neither has a
            // queue-name shortcut, and an immediate publish takes the general way to its error.
            match method {
                Method::BasicPublish {
                    exchange, routing_key, mandatory, ref mut properties, body, ..
                } => self.publish(connection, channel, &exchange, routing_key, mandatory, properties, body),
                Method::BasicAck { delivery_tag, multiple } => {
                    self.settle(connection, channel, delivery_tag, multiple, Settle::Ack)
                }
                _ => unreachable!("matched above"),
            }
        } else {
            match (&method, open) {
                (Method::ChannelOpen, true) => {
                    Err(AmqpError::connection(ReplyCode::ChannelError, "second 'channel.open' seen"))
                }
                (Method::ChannelOpen, false) => {
                    let conn = self.connections.get_mut(&connection).expect("checked above");
                    conn.channels.insert(channel, Channel::new());
                    emit!(self, Event::ChannelOpened { connection, channel });
                    Ok(Reply::ChannelOpenOk { channel })
                }
                (_, false) => Err(AmqpError::connection(ReplyCode::ChannelError, "expected 'channel.open'")),
                (_, true) => self.dispatch(connection, channel, method),
            }
        };
        if let Err(e) = &result {
            match e.scope {
                ErrorScope::Channel => self.close_channel_now(connection, channel, Some(e.clone())),
                ErrorScope::Connection => self.close_connection_now(connection, Some(e.clone())),
            }
        }
        result
    }

    /// The next time something happens on its own (a TTL, a queue expiry), if anything is scheduled.
    pub fn next_deadline(&self) -> Option<VirtualTime> {
        self.timers.next_due()
    }

    /// Fires every deadline due at or before `to`, in `(due, seq)` order, and sets `now()` to `to`.
    ///
    /// Panics if `to` is before `now()`: time never goes back.
    pub fn advance_to(&mut self, to: VirtualTime) {
        assert!(to >= self.now, "time goes back: {} is before now {}", to, self.now);
        while let Some((due, timer)) = self.timers.pop_due(to) {
            self.now = due;
            self.fire(timer);
        }
        self.now = to;
    }

    /// Fires the next deadline (all timers due at that same instant); returns its time, or `None` if idle.
    pub fn step(&mut self) -> Option<VirtualTime> {
        let due = self.timers.next_due()?;
        self.advance_to(due.max(self.now));
        Some(self.now)
    }

    /// The recorded events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<LoggedEvent> {
        std::mem::take(&mut self.events)
    }

    /// Moves the recorded events since the last call (oldest first) to the end of `out`: the same events
    /// as [`take_events`](Broker::take_events), but the broker keeps its buffer and the caller reuses
    /// `out`, so polling after every command allocates nothing once both have grown.
    pub fn drain_events_into(&mut self, out: &mut Vec<LoggedEvent>) {
        out.append(&mut self.events);
    }

    /// The counters of every queue, by name.
    pub fn queues(&self) -> Vec<QueueInfo> {
        self.queues.values().map(Self::queue_info).collect()
    }

    fn queue_info(q: &Queue) -> QueueInfo {
        QueueInfo {
            name: q.name.to_string(),
            durable: q.durable,
            exclusive: q.exclusive_owner.is_some(),
            auto_delete: q.auto_delete,
            messages_ready: q.declare_ok_message_count() as u32,
            messages_unacknowledged: q.unacked,
            consumers: q.consumer_count() as u32,
        }
    }

    /// One queue in detail, if it exists.
    pub fn queue(&self, name: &str) -> Option<QueueDetail> {
        let q = self.queues.get(name)?;
        let consumers = q
            .all_consumers()
            .filter_map(|k| {
                let c =
                    self.connections.get(&k.connection)?.channels.get(&k.channel)?.consumers.get(&k.tag)?;
                Some(ConsumerInfo {
                    connection: k.connection,
                    channel: k.channel,
                    consumer_tag: k.tag.to_string(),
                    auto_ack: c.auto_ack,
                    exclusive: c.exclusive,
                    prefetch: c.prefetch,
                    unacked: c.unacked,
                    stream_offset: c.stream_offset,
                })
            })
            .collect();
        Some(QueueDetail {
            info: Self::queue_info(q),
            queue_type: q.queue_type(),
            arguments: q.arguments.clone(),
            policy: q.policy.as_ref().map(|(p, _)| p.to_string()),
            effective_arguments: q.policy.as_ref().map_or_else(|| q.arguments.clone(), |(_, a)| a.clone()),
            bytes_ready: q.bytes_ready(),
            consumers,
        })
    }

    /// Every exchange with its bindings, by name (the default exchange's implicit bindings not listed).
    pub fn exchanges(&self) -> Vec<ExchangeInfo> {
        self.exchanges
            .iter()
            .map(|(name, x)| ExchangeInfo {
                name: name.to_string(),
                kind: x.table.kind(),
                durable: x.durable,
                auto_delete: x.auto_delete,
                internal: x.internal,
                arguments: x.arguments.clone(),
                policy: x.policy.as_ref().map(|p| p.to_string()),
                bindings: x.table.bindings().cloned().collect(),
            })
            .collect()
    }

    /// The ready messages of a queue in delivery order, without consuming them (tags are 0).
    pub fn peek(&self, queue: &str) -> Option<Vec<Delivery>> {
        let q = self.queues.get(queue)?;
        Some(q.iter_ready().map(|m| m.to_delivery(DeliveryTag(0), None, None, None)).collect())
    }

    /// Explains how exchange `exchange` would route a message with this key and headers: every binding
    /// checked. `None` if the exchange does not exist.
    pub fn explain_route(
        &self,
        exchange: &str,
        routing_key: &str,
        headers: &FieldTable,
    ) -> Option<Vec<BindingCheck>> {
        Some(self.exchanges.get(exchange)?.table.explain(routing_key, headers))
    }

    /// Counts of message copies per place (message conservation, see [`Census`]).
    pub fn census(&self) -> Census {
        let ready: u64 = self
            .queues
            .values()
            .map(|q| (q.ready_count() + q.stream.as_ref().map_or(0, StreamLog::len)) as u64)
            .sum();
        let unacked: u64 = self
            .connections
            .values()
            .flat_map(|c| c.channels.values())
            .map(|ch| ch.unacked.len() as u64)
            .sum();
        self.totals.to_census(ready, unacked)
    }

    /// Checks every internal invariant (message conservation included); panics with a description if one
    /// is broken. Tests call it after every step.
    pub fn assert_invariants(&self) {
        let census = self.census();
        assert!(census.is_conserved(), "message conservation broken: {census:?}");
        for (name, x) in &self.exchanges {
            x.table.assert_invariants();
            if name.is_empty() {
                assert!(x.table.is_empty(), "the default exchange has explicit bindings");
            }
        }
        // What the channels hold, per queue and per consumer.
        let mut unacked_per_queue: BTreeMap<(Name, u64), u32> = BTreeMap::new();
        for (cid, conn) in &self.connections {
            for (chn, ch) in &conn.channels {
                // (tag, queue, incarnation) → (unacked, unacked before `first_delivery_tag`)
                let mut per_consumer: BTreeMap<(Name, Name, u64), (u32, u32)> = BTreeMap::new();
                let mut via_consumers = 0;
                let mut last_tag = 0;
                for (tag, u) in ch.unacked.iter() {
                    assert!(
                        *tag > last_tag && *tag < ch.next_delivery_tag,
                        "{cid}/{chn}: tag {tag} out of order"
                    );
                    last_tag = *tag;
                    *unacked_per_queue.entry((u.queue.clone(), u.queue_incarnation)).or_default() += 1;
                    if let Some(ctag) = &u.consumer_tag {
                        via_consumers += 1;
                        let key = (ctag.clone(), u.queue.clone(), u.queue_incarnation);
                        let held = per_consumer.entry(key).or_default();
                        held.0 += 1;
                        if ch.consumers.get(ctag).is_some_and(|c| *tag < c.first_delivery_tag) {
                            held.1 += 1;
                        }
                    }
                }
                assert_eq!(ch.consumer_unacked, via_consumers, "{cid}/{chn}: consumer unacked count");
                for (ctag, c) in &ch.consumers {
                    let key = (ctag.clone(), c.queue.clone(), c.queue_incarnation);
                    let (held, earlier) = per_consumer.get(&key).copied().unwrap_or((0, 0));
                    assert_eq!(c.unacked, held, "{cid}/{chn}: consumer '{ctag}' unacked count");
                    let q = self.queues.get(&*c.queue).expect("a consumer never outlives its queue");
                    let earlier = if q.is_quorum() { 0 } else { earlier };
                    assert_eq!(c.earlier_unacked, earlier, "{cid}/{chn}: consumer '{ctag}' earlier unacked");
                    assert_eq!(q.incarnation, c.queue_incarnation, "consumer '{ctag}' of an older queue");
                    let key = ConsumerKey { connection: *cid, channel: *chn, tag: ctag.clone() };
                    assert!(
                        q.all_consumers().any(|k| k == &key),
                        "consumer '{ctag}' missing from queue '{}'",
                        q.name
                    );
                }
            }
        }
        for (key, q) in &self.queues {
            let name = &key.0;
            assert_eq!(*name, q.name);
            q.assert_invariants();
            let held = unacked_per_queue.get(&(q.name.clone(), q.incarnation)).copied().unwrap_or(0);
            assert_eq!(q.unacked, held, "queue '{name}': unacked count");
            if let Some(owner) = q.exclusive_owner {
                assert!(self.connections.contains_key(&owner), "queue '{name}' owned by closed {owner}");
            }
            for k in q.all_consumers() {
                let c = self
                    .connections
                    .get(&k.connection)
                    .and_then(|c| c.channels.get(&k.channel))
                    .and_then(|ch| ch.consumers.get(&k.tag));
                assert!(c.is_some_and(|c| &c.queue == name), "queue '{name}' lists a missing consumer {k:?}");
            }
            if !q.is_empty() {
                let serving =
                    if q.args.single_active_consumer { q.consumers.len().min(1) } else { q.consumers.len() };
                for k in q.consumers.iter().take(serving).map(|c| &c.key) {
                    assert!(
                        !self.can_take(k),
                        "queue '{name}' has ready messages and an idle consumer {k:?}"
                    );
                }
            }
            for k in q.blocked.iter().map(|c| &c.key) {
                assert!(!self.can_take(k), "queue '{name}': consumer {k:?} blocked with credit");
            }
            if let Some(log) = &q.stream {
                for k in q.all_consumers() {
                    let c = self.connections[&k.connection].channels[&k.channel].consumers.get(&k.tag);
                    let offset = c.and_then(|c| c.stream_offset);
                    assert!(offset.is_some(), "stream '{name}': consumer {k:?} without an offset");
                    if offset < Some(log.next_offset()) {
                        assert!(
                            !self.can_take(k),
                            "stream '{name}': consumer {k:?} idle with unread messages"
                        );
                    }
                }
            }
            if let Some(expiry) = q.next_head_expiry() {
                assert!(expiry > self.now, "queue '{name}': expired message at the head");
                assert!(q.ttl_timer.is_some_and(|t| t <= expiry), "queue '{name}': head TTL without a timer");
            }
        }
    }

    // ----------------------------------------------------------------------------------------------
    // Kernel: timers.

    fn fire(&mut self, timer: Timer) {
        match timer {
            Timer::QueueTtl { queue, incarnation } => {
                let Some(q) = self.queues.get_mut(&*queue) else { return };
                if q.incarnation != incarnation || q.ttl_timer != Some(self.now) {
                    return;
                }
                q.ttl_timer = None;
                self.expire_heads(&queue);
            }
            Timer::QueueExpiry { queue, incarnation, generation } => {
                let Some(q) = self.queues.get(&*queue) else { return };
                if q.incarnation == incarnation && q.expiry_generation == generation && !q.has_consumers() {
                    self.delete_queue(&queue, QueueDeletedReason::Expired);
                }
            }
        }
    }

    /// Restarts the `x-expires` countdown if the queue is unused; stops it otherwise.
    fn restart_expiry(&mut self, queue: &str) {
        let Some(q) = self.queues.get_mut(queue) else { return };
        let Some(millis) = q.args.expires_millis else { return };
        q.expiry_generation += 1;
        if !q.has_consumers() {
            let timer = Timer::QueueExpiry {
                queue: q.name.clone(),
                incarnation: q.incarnation,
                generation: q.expiry_generation,
            };
            self.timers.schedule(self.now.plus_millis(millis), timer);
        }
    }

    /// Drops or dead-letters expired messages at the queue's heads, then arms the TTL timer for the new
    /// heads.
    fn expire_heads(&mut self, queue: &str) {
        loop {
            let Some(q) = self.queues.get_mut(queue) else { return };
            let Some(m) = q.pop_expired(self.now) else {
                if let Some(expiry) = q.next_head_expiry() {
                    if q.ttl_timer.is_none_or(|t| expiry < t) {
                        q.ttl_timer = Some(expiry);
                        let timer = Timer::QueueTtl { queue: q.name.clone(), incarnation: q.incarnation };
                        self.timers.schedule(expiry, timer);
                    }
                }
                return;
            };
            let name = q.name.clone();
            emit!(self, Event::Expired { message: m.id, queue: name.clone() });
            self.dead_letter_or_drop(&name, m, DropReason::Expired);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // Dispatch.

    fn dispatch(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        mut method: Method,
    ) -> Result<Reply, AmqpError> {
        self.expand_queue_shortcut(conn, ch, &mut method)?;
        let declared = matches!(method, Method::QueueDeclare { .. });
        let result = self.dispatch_expanded(conn, ch, method);
        if let (true, Ok(Reply::QueueDeclareOk { queue, .. })) = (declared, &result) {
            let name = Name::from(queue.as_str());
            self.channel_mut(conn, ch).last_declared_queue = Some(name);
        }
        result
    }

    /// RabbitMQ's queue-name shortcut: an empty queue name in `queue.bind`, `queue.unbind`,
    /// `queue.purge`, `queue.delete`, `basic.consume` and `basic.get` means the channel's last declared
    /// queue (404 when it has declared none), and a bind or unbind with an empty queue *and* an empty
    /// routing key binds by that queue's name. `queue.declare` takes no shortcut (a passive declare of
    /// `''` looks for a queue named `''`). Checked on RabbitMQ 3.10.8: `tests/scenarios/amqp/empty-queue-name`.
    fn expand_queue_shortcut(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        method: &mut Method,
    ) -> Result<(), AmqpError> {
        let (queue, routing_key) = match method {
            Method::QueueBind { queue, routing_key, .. } | Method::QueueUnbind { queue, routing_key, .. } => {
                (queue, Some(routing_key))
            }
            Method::QueuePurge { queue }
            | Method::QueueDelete { queue, .. }
            | Method::BasicConsume { queue, .. }
            | Method::BasicGet { queue, .. } => (queue, None),
            _ => return Ok(()),
        };
        if !queue.is_empty() {
            return Ok(());
        }
        let Some(last) = self.channel_mut(conn, ch).last_declared_queue.clone() else {
            return Err(AmqpError::channel(ReplyCode::NotFound, "no previously declared queue"));
        };
        queue.push_str(&last);
        if let Some(key) = routing_key {
            if key.is_empty() {
                key.push_str(&last);
            }
        }
        Ok(())
    }

    fn dispatch_expanded(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        method: Method,
    ) -> Result<Reply, AmqpError> {
        match method {
            Method::ChannelOpen => unreachable!("handled by apply"),
            Method::ChannelClose => {
                self.close_channel_now(conn, ch, None);
                Ok(Reply::ChannelCloseOk)
            }
            Method::ConfirmSelect => {
                let channel = self.channel_mut(conn, ch);
                if channel.tx.is_some() {
                    return Err(AmqpError::channel(
                        ReplyCode::PreconditionFailed,
                        "cannot switch from tx to confirm mode",
                    ));
                }
                if !channel.confirm {
                    channel.confirm = true;
                    emit!(self, Event::ConfirmSelected { connection: conn, channel: ch });
                }
                Ok(Reply::ConfirmSelectOk)
            }
            Method::TxSelect => {
                let channel = self.channel_mut(conn, ch);
                if channel.confirm {
                    return Err(AmqpError::channel(
                        ReplyCode::PreconditionFailed,
                        "cannot switch from confirm to tx mode",
                    ));
                }
                channel.tx.get_or_insert_with(Transaction::default);
                Ok(Reply::TxSelectOk)
            }
            Method::TxCommit => {
                let tx = self.take_transaction(conn, ch)?;
                self.commit(conn, ch, tx);
                Ok(Reply::TxCommitOk)
            }
            Method::TxRollback => {
                // The held publishes are forgotten; the held settlements' deliveries never left `unacked`.
                self.take_transaction(conn, ch)?;
                Ok(Reply::TxRollbackOk)
            }
            Method::ExchangeDeclare {
                exchange,
                exchange_type,
                passive,
                durable,
                auto_delete,
                internal,
                arguments,
            } => self.exchange_declare(
                exchange,
                exchange_type,
                passive,
                durable,
                auto_delete,
                internal,
                arguments,
            ),
            Method::ExchangeDelete { exchange, if_unused } => self.exchange_delete(&exchange, if_unused),
            Method::ExchangeBind { destination, source, routing_key, arguments } => self
                .bind(conn, &source, Destination::Exchange(Name::from(destination)), routing_key, arguments)
                .map(|_| Reply::ExchangeBindOk),
            Method::ExchangeUnbind { destination, source, routing_key, arguments } => self
                .unbind(conn, &source, Destination::Exchange(Name::from(destination)), routing_key, arguments)
                .map(|_| Reply::ExchangeUnbindOk),
            // RabbitMQ 3.10 answers any declare of the direct reply-to pseudo-queue with these counts.
            Method::QueueDeclare { queue, .. } if queue == REPLY_TO_QUEUE => {
                Ok(Reply::QueueDeclareOk { queue, message_count: 0, consumer_count: 1 })
            }
            Method::QueueDeclare { queue, passive, durable, exclusive, auto_delete, arguments } => {
                self.queue_declare(conn, queue, passive, durable, exclusive, auto_delete, arguments)
            }
            Method::QueueBind { queue, exchange, routing_key, arguments } => self
                .bind(conn, &exchange, Destination::Queue(Name::from(queue)), routing_key, arguments)
                .map(|_| Reply::QueueBindOk),
            Method::QueueUnbind { queue, exchange, routing_key, arguments } => self
                .unbind(conn, &exchange, Destination::Queue(Name::from(queue)), routing_key, arguments)
                .map(|_| Reply::QueueUnbindOk),
            Method::QueuePurge { queue } => self.queue_purge(conn, &queue),
            Method::QueueDelete { queue, if_unused, if_empty } => {
                self.queue_delete(conn, &queue, if_unused, if_empty)
            }
            // `rabbit_channel` refuses `immediate` before anything else of the publish (a connection error).
            Method::BasicPublish { immediate: true, .. } => {
                Err(AmqpError::connection(ReplyCode::NotImplemented, "immediate=true"))
            }
            // `rabbit_channel`: a prefetch window in bytes is not implemented (a connection error).
            Method::BasicQos { prefetch_size, .. } if prefetch_size != 0 => Err(AmqpError::connection(
                ReplyCode::NotImplemented,
                format!("prefetch_size!=0 ({prefetch_size})"),
            )),
            Method::BasicQos { prefetch_count, global, .. } => {
                let channel = self.channel_mut(conn, ch);
                if global {
                    channel.global_prefetch = prefetch_count;
                    self.blocked_check.credit_may_return();
                } else {
                    channel.consumer_prefetch = prefetch_count;
                }
                emit!(self, Event::QosSet { connection: conn, channel: ch, prefetch_count, global });
                self.run_channel_queues(conn, ch, BTreeSet::new());
                Ok(Reply::BasicQosOk)
            }
            Method::BasicConsume { queue, consumer_tag, auto_ack, .. } if queue == REPLY_TO_QUEUE => {
                self.reply_consume(conn, ch, consumer_tag, auto_ack)
            }
            Method::BasicConsume { queue, consumer_tag, auto_ack, exclusive, arguments } => {
                self.basic_consume(conn, ch, &queue, consumer_tag, auto_ack, exclusive, &arguments)
            }
            Method::BasicCancel { consumer_tag } => self.basic_cancel(conn, ch, &consumer_tag),
            Method::BasicPublish { exchange, routing_key, mandatory, mut properties, body, .. } => {
                self.publish(conn, ch, &exchange, routing_key, mandatory, &mut properties, body)
            }
            Method::BasicGet { queue, auto_ack } => self.basic_get(conn, ch, &queue, auto_ack),
            Method::BasicAck { delivery_tag, multiple } => {
                self.settle(conn, ch, delivery_tag, multiple, Settle::Ack)
            }
            Method::BasicNack { delivery_tag, multiple, requeue } => {
                self.settle(conn, ch, delivery_tag, multiple, Settle::Nack { requeue })
            }
            Method::BasicReject { delivery_tag, requeue } => {
                self.settle(conn, ch, delivery_tag, false, Settle::Reject { requeue })
            }
            Method::BasicRecover { requeue } => {
                if !requeue {
                    return Err(AmqpError::connection(ReplyCode::NotImplemented, "requeue=false"));
                }
                // RabbitMQ 3.10's stream client has no requeue: the channel crashes (golden stream-settle).
                if self.stream_read_among(conn, ch, |_| true).is_some() {
                    return Err(AmqpError::internal_error());
                }
                let channel = self.channel_mut(conn, ch);
                let mut all: Vec<(u64, Unacked)> = std::mem::take(&mut channel.unacked).into_iter().collect();
                // Deliveries a transaction settles are no longer the channel's to recover.
                if let Some(tx) = &channel.tx {
                    let (held, rest): (Vec<_>, Vec<_>) =
                        all.into_iter().partition(|(tag, _)| tx.held_tags.contains(tag));
                    channel.unacked = UnackedMap::default();
                    channel.unacked.extend(held); // not `collect`: see crate::order
                    all = rest;
                }
                self.settle_taken(conn, ch, all, Settle::Recover);
                Ok(Reply::BasicRecoverOk)
            }
        }
    }

    fn channel_mut(&mut self, conn: ConnectionId, ch: ChannelNumber) -> &mut Channel {
        self.connections
            .get_mut(&conn)
            .and_then(|c| c.channels.get_mut(&ch))
            .expect("dispatch checked the channel")
    }

    fn vhost(&self) -> &str {
        &self.config.vhost
    }

    fn gen_name(&mut self, prefix: &str) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.prng.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.prng.next_u64().to_le_bytes());
        format!("{prefix}-{}", base64url(&bytes))
    }

    // ----------------------------------------------------------------------------------------------
    // Closing channels and connections.

    fn close_connection_now(&mut self, conn: ConnectionId, error: Option<AmqpError>) {
        let Some(c) = self.connections.get(&conn) else { return };
        let channels: Vec<ChannelNumber> = c.channels.keys().copied().collect();
        emit!(self, Event::ConnectionClosed { connection: conn, error });
        for ch in channels {
            self.close_channel_now(conn, ch, None);
        }
        self.connections.remove(&conn);
        let owned: Vec<Name> = self
            .queues
            .values()
            .filter(|q| q.exclusive_owner == Some(conn))
            .map(|q| q.name.clone())
            .collect();
        for q in owned {
            self.delete_queue(&q, QueueDeletedReason::OwnerClosed);
        }
    }

    fn close_channel_now(&mut self, conn: ConnectionId, ch: ChannelNumber, error: Option<AmqpError>) {
        let Some(channel) = self.connections.get_mut(&conn).and_then(|c| c.channels.remove(&ch)) else {
            return;
        };
        emit!(self, Event::ChannelClosed { connection: conn, channel: ch, error });
        let mut touched = BTreeSet::new();
        for (tag, consumer) in &channel.consumers {
            let key = ConsumerKey { connection: conn, channel: ch, tag: tag.clone() };
            if self.detach_consumer(&key, consumer, CancelReason::ChannelClosed) {
                touched.insert(consumer.queue.clone());
            }
        }
        // An auto-delete queue whose last consumer was on this channel goes with it, before the channel's
        // deliveries could be requeued into it (RabbitMQ's handle_ch_down).
        for q in &touched {
            self.maybe_auto_delete_queue(q);
        }
        let mut requeued = BTreeSet::new();
        for (_, u) in channel.unacked {
            if let Some(q) = self.requeue_one(u, false) {
                requeued.insert(q);
            }
        }
        let mut queues = BTreeSet::new(); // not `collect`: see crate::order
        queues.extend(touched.iter().chain(requeued.iter()));
        for q in queues {
            self.restart_expiry_if_unused(q);
            self.after_requeue(q);
        }
    }

    /// Removes a consumer from its queue (not from its channel); returns whether the queue still exists.
    fn detach_consumer(&mut self, key: &ConsumerKey, consumer: &Consumer, reason: CancelReason) -> bool {
        let Some(q) = self.queues.get_mut(&QueueName::of(&consumer.queue)) else { return false };
        if q.incarnation != consumer.queue_incarnation {
            return false;
        }
        q.remove_consumer(key);
        emit!(
            self,
            Event::ConsumerCancelled {
                connection: key.connection,
                channel: key.channel,
                queue: consumer.queue.clone(),
                consumer_tag: key.tag.clone(),
                reason,
            }
        );
        true
    }

    fn maybe_auto_delete_queue(&mut self, queue: &str) -> bool {
        let Some(q) = self.queues.get(queue) else { return false };
        if q.auto_delete && q.has_had_consumers && !q.has_consumers() {
            self.delete_queue(queue, QueueDeletedReason::AutoDelete);
            true
        } else {
            false
        }
    }

    fn restart_expiry_if_unused(&mut self, queue: &str) {
        if self.queues.get(queue).is_some_and(|q| !q.has_consumers()) {
            self.restart_expiry(queue);
        }
    }

    /// Puts one delivery back into its queue; returns the queue if it still exists. `to_back`: a quorum
    /// queue puts it behind everything ready, as RabbitMQ 3.10.8 does when a client nacks, rejects or
    /// recovers with requeue a message it took with basic.get or whose consumer it has cancelled
    /// (`tests/scenarios/amqp/quorum-requeue-order`); otherwise (an active consumer's message, a channel
    /// that closed with it unacked) it goes among the returns at the front.
    fn requeue_one(&mut self, u: Unacked, to_back: bool) -> Option<Name> {
        let Some(q) =
            self.queues.get_mut(&QueueName::of(&u.queue)).filter(|q| q.incarnation == u.queue_incarnation)
        else {
            self.totals.drop(DropReason::QueueDeleted);
            emit!(
                self,
                Event::Dropped {
                    message: u.message.id,
                    queue: Some(u.queue),
                    reason: DropReason::QueueDeleted
                }
            );
            return None;
        };
        q.unacked -= 1;
        let name = q.name.clone();
        if q.is_stream() {
            // Nothing goes back into a stream: the read ends (see `settle_group_taken`).
            self.totals.acked += 1;
            return Some(name);
        }
        let mut m = u.message;
        m.set_redelivered();
        if q.is_quorum() {
            m.delivery_count = m.delivery_count.saturating_add(1);
            if q.args.delivery_limit.is_some_and(|limit| u64::from(m.delivery_count) > limit) {
                self.dead_letter_or_drop(&name, m, DropReason::DeliveryLimit);
                return Some(name);
            }
        }
        emit!(self, Event::Requeued { message: m.id, queue: name.clone() });
        if to_back && q.is_quorum() {
            q.requeue_at_back(m);
        } else {
            q.requeue(m);
        }
        Some(name)
    }

    /// After messages went back into a queue: enforce drop-head limits, expire heads, deliver.
    fn after_requeue(&mut self, queue: &str) {
        self.drop_head_over_limit(queue);
        self.expire_heads(queue);
        self.run_delivery(queue);
    }

    /// [`Channel::forget_consumer_unacked`] on channel `ch` of `conn`.
    fn forget_consumer_unacked(&mut self, conn: ConnectionId, ch: ChannelNumber, tag: u64, u: &Unacked) {
        self.blocked_check.credit_may_return();
        if let Some(channel) = self.connections.get_mut(&conn).and_then(|c| c.channels.get_mut(&ch)) {
            channel.forget_consumer_unacked(tag, u);
        }
    }

    /// Runs delivery for the queues of this channel's consumers (credit may have been freed), and for
    /// `also`.
    fn run_channel_queues(&mut self, conn: ConnectionId, ch: ChannelNumber, mut also: BTreeSet<Name>) {
        if let Some(channel) = self.connections.get(&conn).and_then(|c| c.channels.get(&ch)) {
            // Usually all of a channel's consumers read one queue: then the set would hold just that one.
            if also.is_empty() {
                let only = {
                    let mut queues = channel.consumers.values().map(|c| &c.queue);
                    match queues.next() {
                        Some(first) if queues.all(|q| q == first) => Some(Name::clone(first)),
                        _ => None,
                    }
                };
                if let Some(only) = only {
                    self.run_delivery(&only);
                    return;
                }
            }
            also.extend(channel.consumers.values().map(|c| c.queue.clone()));
        }
        for q in &also {
            self.run_delivery(q);
        }
    }

    /// [`run_channel_queues`](Self::run_channel_queues) right after delivery ran on queue `ran` with
    /// nothing changed since (a single settle): when every consumer of the channel reads `ran` there is
    /// nothing left to run, since a queue's delivery runs until no message or no consumer with credit
    /// is left, and only a settle gives credit back.
    fn run_channel_queues_after(&mut self, conn: ConnectionId, ch: ChannelNumber, ran: &Name) {
        if let Some(channel) = self.connections.get(&conn).and_then(|c| c.channels.get(&ch)) {
            if channel.consumers.values().all(|c| Rc::ptr_eq(&c.queue, ran) || c.queue == *ran) {
                return;
            }
        }
        self.run_channel_queues(conn, ch, BTreeSet::new());
    }

    // ----------------------------------------------------------------------------------------------
    // Exchanges and bindings.

    #[allow(clippy::too_many_arguments)]
    fn exchange_declare(
        &mut self,
        exchange: String,
        exchange_type: String,
        passive: bool,
        durable: bool,
        auto_delete: bool,
        internal: bool,
        arguments: FieldTable,
    ) -> Result<Reply, AmqpError> {
        let vhost = self.vhost().to_string();
        if passive {
            if exchange.is_empty() {
                return Err(default_exchange_refused());
            }
            return if self.exchanges.contains_key(exchange.as_str()) {
                Ok(Reply::ExchangeDeclareOk)
            } else {
                Err(not_found_exchange(&exchange, &vhost))
            };
        }
        let Some(kind) = ExchangeType::parse(&exchange_type) else {
            return Err(AmqpError::connection(
                ReplyCode::CommandInvalid,
                format!("unknown exchange type '{exchange_type}'"),
            ));
        };
        if exchange.is_empty() {
            return Err(default_exchange_refused());
        }
        let resource = exchange_resource(&exchange, &vhost);
        if let Some(x) = self.exchanges.get(exchange.as_str()) {
            let current = x.table.kind();
            if current != kind {
                return Err(super::arguments::inequivalent(
                    "type",
                    &resource,
                    &format!("'{kind}'"),
                    &format!("'{current}'"),
                ));
            }
            assert_field_equivalence("durable", &resource, x.durable, durable)?;
            assert_field_equivalence("auto_delete", &resource, x.auto_delete, auto_delete)?;
            assert_field_equivalence("internal", &resource, x.internal, internal)?;
            assert_args_equivalence(&x.arguments, &arguments, &resource, &["alternate-exchange"])?;
            return Ok(Reply::ExchangeDeclareOk);
        }
        if exchange.starts_with("amq.") {
            return Err(AmqpError::channel(
                ReplyCode::AccessRefused,
                format!("exchange name '{exchange}' contains reserved prefix 'amq.*'"),
            ));
        }
        let alternate = match arguments.get("alternate-exchange") {
            None => None,
            Some(FieldValue::Str(s)) => Some(Name::from(s.as_str())),
            Some(other) => {
                return Err(AmqpError::channel(
                    ReplyCode::PreconditionFailed,
                    format!("invalid type '{}' for arg 'alternate-exchange' in {resource}", type_name(other)),
                ))
            }
        };
        let name = Name::from(exchange);
        emit!(
            self,
            Event::ExchangeDeclared {
                exchange: name.clone(),
                kind,
                durable,
                auto_delete,
                internal,
                arguments: arguments.clone(),
            }
        );
        let mut state = ExchangeState {
            durable,
            auto_delete,
            internal,
            arguments,
            alternate,
            policy: None,
            table: BindingTable::new(kind),
        };
        self.apply_exchange_policy(&name, &mut state);
        self.topology += 1;
        self.exchanges.insert(name, state);
        Ok(Reply::ExchangeDeclareOk)
    }

    fn exchange_delete(&mut self, exchange: &str, if_unused: bool) -> Result<Reply, AmqpError> {
        let vhost = self.vhost().to_string();
        if exchange.is_empty() {
            return Err(default_exchange_refused());
        }
        if exchange.starts_with("amq.") {
            return Err(AmqpError::channel(
                ReplyCode::AccessRefused,
                format!("deletion of system {} not allowed", exchange_resource(exchange, &vhost)),
            ));
        }
        let Some(x) = self.exchanges.get(exchange) else { return Ok(Reply::ExchangeDeleteOk) };
        if if_unused && !x.table.is_empty() {
            return Err(AmqpError::channel(
                ReplyCode::PreconditionFailed,
                format!("{} in use", exchange_resource(exchange, &vhost)),
            ));
        }
        self.delete_exchange(exchange);
        Ok(Reply::ExchangeDeleteOk)
    }

    /// Deletes an exchange and every binding from or to it; auto-delete exchanges left without bindings
    /// go too.
    fn delete_exchange(&mut self, exchange: &str) {
        let Some((name, _)) = self.exchanges.remove_entry(exchange) else { return };
        self.topology += 1;
        emit!(self, Event::ExchangeDeleted { exchange: name.clone() });
        self.remove_bindings_to(&Destination::Exchange(name));
    }

    /// Removes every binding to `destination`; source exchanges with auto-delete left empty are deleted.
    fn remove_bindings_to(&mut self, destination: &Destination) {
        let mut emptied = Vec::new();
        self.topology += 1;
        for (name, x) in self.exchanges.iter_mut() {
            if x.table.remove_destination(destination) > 0 && x.auto_delete && x.table.is_empty() {
                emptied.push(name.clone());
            }
        }
        for x in emptied {
            self.delete_exchange(&x);
        }
    }

    fn bind(
        &mut self,
        conn: ConnectionId,
        source: &str,
        destination: Destination,
        routing_key: String,
        arguments: FieldTable,
    ) -> Result<(), AmqpError> {
        let vhost = self.vhost().to_string();
        if source.is_empty() || matches!(&destination, Destination::Exchange(d) if d.is_empty()) {
            return Err(default_exchange_refused());
        }
        if !self.exchanges.contains_key(source) {
            return Err(not_found_exchange(source, &vhost));
        }
        match &destination {
            Destination::Queue(q) => {
                let queue = self.queues.get(&**q).ok_or_else(|| not_found_queue(q, &vhost))?;
                if queue.exclusive_owner.is_some_and(|owner| owner != conn) {
                    return Err(resource_locked(q, &vhost));
                }
            }
            Destination::Exchange(x) => {
                if !self.exchanges.contains_key(x) {
                    return Err(not_found_exchange(x, &vhost));
                }
            }
        }
        let source_name = self.exchanges.get_key_value(source).expect("checked above").0.clone();
        let binding = Binding {
            destination: destination.clone(),
            routing_key: routing_key.clone(),
            arguments: arguments.clone(),
        };
        self.topology += 1;
        let x = self.exchanges.get_mut(source).expect("checked above");
        if x.table.bind(binding)? {
            emit!(self, Event::Bound { source: source_name, destination, routing_key, arguments });
        }
        Ok(())
    }

    fn unbind(
        &mut self,
        conn: ConnectionId,
        source: &str,
        destination: Destination,
        routing_key: String,
        arguments: FieldTable,
    ) -> Result<(), AmqpError> {
        let vhost = self.vhost().to_string();
        if source.is_empty() || matches!(&destination, Destination::Exchange(d) if d.is_empty()) {
            return Err(default_exchange_refused());
        }
        // Unbinding what does not exist (exchange, queue or binding) succeeds, as in RabbitMQ.
        if let Destination::Queue(q) = &destination {
            if let Some(queue) = self.queues.get(&**q) {
                if queue.exclusive_owner.is_some_and(|owner| owner != conn) {
                    return Err(resource_locked(q, &vhost));
                }
            }
        }
        let Some((source_name, x)) = self.exchanges.get_key_value(source) else { return Ok(()) };
        let source_name = source_name.clone();
        let auto_delete = x.auto_delete;
        self.topology += 1;
        let x = self.exchanges.get_mut(source).expect("just found");
        if x.table.unbind(&destination, &routing_key, &arguments) {
            let now_empty = x.table.is_empty();
            emit!(self, Event::Unbound { source: source_name.clone(), destination, routing_key, arguments });
            if auto_delete && now_empty {
                self.delete_exchange(&source_name);
            }
        }
        Ok(())
    }

    /// The queues a message published to `exchange` reaches: recursively through exchange-to-exchange
    /// bindings and alternate exchanges, each exchange visited once (so cycles end), each queue once,
    /// sorted by name as RabbitMQ's `lists:usort` leaves them.
    /// The queues a message published to `exchange` via `route` reaches: every routing key of the route
    /// (the published one and the sender-selected `CC` / `BCC` ones) through the exchange graph, with an
    /// exchange's alternate exchange used when none of the keys matched a binding of that exchange.
    /// The list it returns reuses the allocation of the last list handed back with
    /// [`recycle_targets`](Self::recycle_targets).
    fn route(&mut self, exchange: &Name, route: &Rc<Route>, headers: &FieldTable) -> Vec<Name> {
        let mut queues = std::mem::take(&mut self.route_targets);
        // Without headers the result depends only on the topology, the exchange and the route's keys.
        let memoizable = headers.is_empty() && route.also.is_empty();
        let topology = self.topology;
        if memoizable {
            let memo = self.memo.at(topology);
            if let Some((x, r)) = &memo.routed {
                if Rc::ptr_eq(r, route) && (Rc::ptr_eq(x, exchange) || *x == *exchange) {
                    // Usually one queue: pushed without `extend`'s generic reserve-and-fold.
                    if let [only] = memo.targets.as_slice() {
                        queues.push(Name::clone(only));
                    } else {
                        queues.extend(memo.targets.iter().cloned());
                    }
                    return queues;
                }
            }
        }
        let mut dests = std::mem::take(&mut self.route_dests);
        self.route_with(exchange, route, headers, &mut dests, &mut queues);
        self.route_dests = dests;
        if memoizable {
            let memo = self.memo.at(topology);
            memo.routed = Some((Name::clone(exchange), Rc::clone(route)));
            memo.targets.clear();
            memo.targets.extend(queues.iter().cloned());
        }
        queues
    }

    /// Keeps a routed list no longer needed, emptied, for the next [`route`](Self::route): memory only.
    fn recycle_targets(&mut self, mut targets: Vec<Name>) {
        targets.clear();
        self.route_targets = targets;
    }

    /// [`route`](Self::route) into `queues` (empty on entry) with its scratch space (`dests`, left
    /// empty).
    fn route_with(
        &self,
        exchange: &str,
        route: &Route,
        headers: &FieldTable,
        dests: &mut Vec<Destination>,
        queues: &mut Vec<Name>,
    ) {
        if exchange.is_empty() {
            queues.extend(
                route.keys().filter_map(|k| self.queues.get_key_value(k).map(|(name, _)| name.0.clone())),
            );
            if !route.also.is_empty() {
                crate::order::sort(queues);
                queues.dedup();
            }
            return;
        }
        let Some(first) = self.exchanges.get_key_value(exchange) else { return };
        // The exchanges reached besides the first, and those of them still to visit (last found, first
        // visited). Both stay empty, so nothing is allocated, unless a binding or an alternate exchange
        // leads to another exchange: the common publish visits one exchange and allocates only `queues`.
        let mut seen: Vec<&Name> = Vec::new();
        let mut work: Vec<(&Name, &ExchangeState)> = Vec::new();
        let mut next = Some(first);
        while let Some((_, x)) = next.take().or_else(|| work.pop()) {
            dests.clear();
            for key in route.keys() {
                x.table.route(key, headers, dests);
            }
            if dests.is_empty() {
                if let Some(ae) = &x.alternate {
                    dests.push(Destination::Exchange(ae.clone()));
                }
            }
            for d in dests.drain(..) {
                match d {
                    Destination::Queue(q) => {
                        // The queue's own name (a binding holds a copy): enqueueing finds it by address.
                        if let Some((name, _)) = self.queues.get_key_value(&*q) {
                            queues.push(name.0.clone());
                        }
                    }
                    Destination::Exchange(e) => {
                        if let Some(found) = self.exchanges.get_key_value(&e) {
                            if found.0 != first.0 && !seen.contains(&found.0) {
                                seen.push(found.0);
                                work.push(found);
                            }
                        }
                    }
                }
            }
        }
        crate::order::sort(queues);
        queues.dedup();
    }

    // ----------------------------------------------------------------------------------------------
    // Queues.

    #[allow(clippy::too_many_arguments)]
    fn queue_declare(
        &mut self,
        conn: ConnectionId,
        queue: String,
        passive: bool,
        durable: bool,
        exclusive: bool,
        auto_delete: bool,
        arguments: FieldTable,
    ) -> Result<Reply, AmqpError> {
        let vhost = self.vhost().to_string();
        if passive {
            let q = self.queues.get(queue.as_str()).ok_or_else(|| not_found_queue(&queue, &vhost))?;
            if q.exclusive_owner.is_some_and(|owner| owner != conn) {
                return Err(resource_locked(&queue, &vhost));
            }
            let reply = Reply::QueueDeclareOk {
                queue: queue.clone(),
                message_count: q.declare_ok_message_count() as u32,
                consumer_count: q.declare_ok_consumer_count() as u32,
            };
            self.restart_expiry_if_unused(&queue);
            return Ok(reply);
        }
        let owner = exclusive.then_some(conn);
        // RabbitMQ makes exclusive queues transient whatever the client asked.
        let durable = durable && !exclusive;
        let name = if queue.is_empty() {
            let replicated = [QueueType::Quorum, QueueType::Stream]
                .into_iter()
                .find(|t| matches!(arguments.get("x-queue-type"), Some(FieldValue::Str(s)) if s == t.name()));
            if let Some(t) = replicated {
                return Err(AmqpError::channel(
                    ReplyCode::PreconditionFailed,
                    format!("Cannot declare a server-named queue for type {}", t.module_name()),
                ));
            }
            self.gen_name("amq.gen")
        } else if queue.starts_with("amq.") {
            return Err(AmqpError::channel(
                ReplyCode::AccessRefused,
                format!("queue name '{queue}' contains reserved prefix 'amq.*'"),
            ));
        } else {
            queue
        };
        let resource = queue_resource(&name, &vhost);
        if let Some(q) = self.queues.get(name.as_str()) {
            if q.exclusive_owner != owner {
                return Err(resource_locked(&name, &vhost));
            }
            assert_field_equivalence("durable", &resource, q.durable, durable)?;
            assert_field_equivalence("auto_delete", &resource, q.auto_delete, auto_delete)?;
            assert_queue_args_equivalence(q.queue_type(), &q.arguments, &arguments, &resource)?;
            let reply = Reply::QueueDeclareOk {
                queue: name.clone(),
                message_count: q.declare_ok_message_count() as u32,
                consumer_count: q.declare_ok_consumer_count() as u32,
            };
            self.restart_expiry_if_unused(&name);
            return Ok(reply);
        }
        if let Some(v) = arguments.get("x-dead-letter-exchange") {
            if !matches!(v, FieldValue::Str(_)) {
                return Err(AmqpError::channel(
                    ReplyCode::PreconditionFailed,
                    format!("invalid type '{}' for arg 'x-dead-letter-exchange' in {resource}", type_name(v)),
                ));
            }
        }
        let args = parse_queue_arguments(&name, &vhost, &arguments)?;
        if args.queue_type().is_replicated() {
            let property = if auto_delete {
                Some("auto-delete")
            } else if exclusive {
                Some("exclusive-owner")
            } else if !durable {
                Some("non-durable")
            } else {
                None
            };
            if let Some(p) = property {
                return Err(AmqpError::channel(
                    ReplyCode::PreconditionFailed,
                    format!("invalid property '{p}' for {resource}"),
                ));
            }
        }
        let name = Name::from(name);
        let incarnation = self.next_incarnation;
        self.next_incarnation += 1;
        emit!(
            self,
            Event::QueueDeclared {
                queue: name.clone(),
                durable,
                exclusive,
                auto_delete,
                arguments: arguments.clone(),
            }
        );
        let mut q = Queue::new(name.clone(), incarnation, durable, auto_delete, owner, arguments, args);
        self.apply_queue_policy(&vhost, &mut q);
        self.topology += 1;
        self.queues.insert(QueueName(name.clone()), q);
        self.restart_expiry(&name);
        Ok(Reply::QueueDeclareOk { queue: name.to_string(), message_count: 0, consumer_count: 0 })
    }

    // ----------------------------------------------------------------------------------------------
    // Policies.

    /// The vhost's policies, in the order they were first set.
    pub fn policies(&self) -> Vec<Policy> {
        self.policies.iter().map(|p| p.policy.clone()).collect()
    }

    pub(crate) fn compiled_policies(&self) -> &[CompiledPolicy] {
        &self.policies
    }

    /// Sets a policy (`rabbitmqctl set_policy`): validated as `rabbit_policy:set` does, it replaces the
    /// policy of the same name or is added, then every queue and exchange is re-evaluated (see the
    /// module doc, "Policies"). Its `vhost` is dropped: the broker is one vhost.
    pub fn set_policy(&mut self, policy: Policy) -> Result<(), String> {
        let compiled = definitions::compile_policy(&policy)?;
        self.set_compiled_policies(vec![compiled]);
        Ok(())
    }

    /// Sets validated policies (an import's, in file order) and re-evaluates every entity once.
    pub(crate) fn set_compiled_policies(&mut self, policies: Vec<CompiledPolicy>) {
        for mut compiled in policies {
            compiled.policy.vhost = None;
            match self.policies.iter_mut().find(|p| p.policy.name == compiled.policy.name) {
                Some(existing) => *existing = compiled,
                None => self.policies.push(compiled),
            }
        }
        self.reapply_policies();
    }

    /// Re-evaluates which policy applies to every queue and exchange and recomputes their effective
    /// settings. Messages already queued keep the expiry they got on entering (as RabbitMQ's do); a
    /// changed `expires` restarts the queue's countdown.
    fn reapply_policies(&mut self) {
        self.topology += 1;
        let vhost = self.vhost().to_string();
        let names: Vec<Name> = self.queues.keys().map(|k| k.0.clone()).collect();
        for name in names {
            let mut q = self.queues.remove(&*name).expect("listed");
            let before = q.args.expires_millis;
            self.apply_queue_policy(&vhost, &mut q);
            let expires_changed = q.args.expires_millis != before;
            if expires_changed {
                // A countdown armed under the old setting is stale.
                q.expiry_generation += 1;
            }
            self.queues.insert(QueueName(name.clone()), q);
            if expires_changed {
                self.restart_expiry_if_unused(&name);
            }
        }
        let names: Vec<Name> = self.exchanges.keys().cloned().collect();
        for name in names {
            let mut x = self.exchanges.remove(&name).expect("listed");
            self.apply_exchange_policy(&name, &mut x);
            self.exchanges.insert(name, x);
        }
    }

    /// Sets a queue's effective settings from its declared arguments and the policy in effect.
    fn apply_queue_policy(&self, vhost: &str, q: &mut Queue) {
        let own = || parse_queue_arguments(&q.name, vhost, &q.arguments);
        let queue_type = q.queue_type();
        let effective = definitions::effective_arguments(
            &self.policies,
            EntityKind::Queue,
            &q.name,
            &q.arguments,
            Some(queue_type),
        );
        let (policy, args) = match effective {
            // A policy value the arguments' validator refuses (an expiry over ten years) is ignored.
            Some((policy, merged, _)) => match parse_queue_arguments(&q.name, vhost, &merged) {
                Ok(args) => (Some((Name::from(policy), merged)), args),
                Err(_) => (
                    Some((Name::from(policy), q.arguments.clone())),
                    own().unwrap_or_else(|_| q.args.clone()),
                ),
            },
            None => (None, own().unwrap_or_else(|_| q.args.clone())),
        };
        // `x-max-priority` is not a policy key: the priority levels never change.
        debug_assert_eq!(args.max_priority, q.args.max_priority);
        q.args = args;
        q.policy = policy;
    }

    /// Sets an exchange's alternate exchange from its declared argument and the policy in effect.
    fn apply_exchange_policy(&self, name: &str, x: &mut ExchangeState) {
        let effective =
            definitions::effective_arguments(&self.policies, EntityKind::Exchange, name, &x.arguments, None);
        let arguments = effective.as_ref().map_or(&x.arguments, |(_, merged, _)| merged);
        x.alternate = match arguments.get("alternate-exchange") {
            Some(FieldValue::Str(s)) => Some(Name::from(s.as_str())),
            _ => None,
        };
        x.policy = effective.map(|(policy, _, _)| Name::from(policy));
    }

    /// Looks a queue up for a method that needs exclusive access (`basic.get`, `basic.consume`, purge).
    fn queue_for(&self, conn: ConnectionId, queue: &str) -> Result<&Queue, AmqpError> {
        let q = self.queues.get(queue).ok_or_else(|| not_found_queue(queue, self.vhost()))?;
        if q.exclusive_owner.is_some_and(|owner| owner != conn) {
            return Err(resource_locked(queue, self.vhost()));
        }
        Ok(q)
    }

    fn queue_purge(&mut self, conn: ConnectionId, queue: &str) -> Result<Reply, AmqpError> {
        self.queue_for(conn, queue)?;
        let q = self.queues.get_mut(queue).expect("checked");
        if q.is_stream() {
            // `rabbit_stream_queue:purge/1` answers `{error, not_supported}`: a connection error.
            return Err(AmqpError::connection(
                ReplyCode::NotImplemented,
                format!("queue.purge not supported by stream queues {}", queue_resource(queue, self.vhost())),
            ));
        }
        let drained = q.drain();
        let name = q.name.clone();
        let n = drained.len() as u32;
        for _ in &drained {
            self.totals.drop(DropReason::Purged);
        }
        emit!(self, Event::QueuePurged { queue: name, message_count: n });
        Ok(Reply::QueuePurgeOk { message_count: n })
    }

    fn queue_delete(
        &mut self,
        conn: ConnectionId,
        queue: &str,
        if_unused: bool,
        if_empty: bool,
    ) -> Result<Reply, AmqpError> {
        let vhost = self.vhost().to_string();
        let Some(q) = self.queues.get(queue) else { return Ok(Reply::QueueDeleteOk { message_count: 0 }) };
        if q.exclusive_owner.is_some_and(|owner| owner != conn) {
            return Err(resource_locked(queue, &vhost));
        }
        if if_empty && !q.is_empty() {
            return Err(AmqpError::channel(
                ReplyCode::PreconditionFailed,
                format!("{} not empty", queue_resource(queue, &vhost)),
            ));
        }
        if if_unused && q.has_consumers() {
            return Err(AmqpError::channel(
                ReplyCode::PreconditionFailed,
                format!("{} in use", queue_resource(queue, &vhost)),
            ));
        }
        let n = self.delete_queue(queue, QueueDeletedReason::Deleted);
        Ok(Reply::QueueDeleteOk { message_count: n })
    }

    /// Deletes a queue: its consumers are cancelled, its ready messages dropped, its bindings removed.
    /// Deliveries of it still held by channels stay there until settled. Returns the ready count.
    fn delete_queue(&mut self, queue: &str, reason: QueueDeletedReason) -> u32 {
        let Some(mut q) = self.queues.remove(queue) else { return 0 };
        self.topology += 1;
        let consumers: Vec<ConsumerKey> = q.all_consumers().cloned().collect();
        q.consumers.clear();
        q.blocked.clear();
        for key in consumers {
            let consumer = self
                .connections
                .get_mut(&key.connection)
                .and_then(|c| c.channels.get_mut(&key.channel))
                .and_then(|ch| ch.consumers.remove(&key.tag));
            if consumer.is_some() {
                emit!(
                    self,
                    Event::ConsumerCancelled {
                        connection: key.connection,
                        channel: key.channel,
                        queue: q.name.clone(),
                        consumer_tag: key.tag.clone(),
                        reason: CancelReason::QueueDeleted,
                    }
                );
            }
        }
        let drained = q.drain();
        let n = drained.len() as u32;
        for _ in &drained {
            self.totals.drop(DropReason::QueueDeleted);
        }
        // A stream's log goes with it (RabbitMQ reports no message count for a stream).
        for _ in 0..q.stream.as_mut().map_or(0, StreamLog::clear) {
            self.totals.drop(DropReason::QueueDeleted);
        }
        emit!(self, Event::QueueDeleted { queue: q.name.clone(), reason, message_count: n });
        self.remove_bindings_to(&Destination::Queue(q.name.clone()));
        n
    }

    // ----------------------------------------------------------------------------------------------
    // Consumers and delivery.

    #[allow(clippy::too_many_arguments)]
    fn basic_consume(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        queue: &str,
        consumer_tag: String,
        auto_ack: bool,
        exclusive: bool,
        arguments: &FieldTable,
    ) -> Result<Reply, AmqpError> {
        let vhost = self.vhost().to_string();
        let channel =
            self.connections.get(&conn).and_then(|c| c.channels.get(&ch)).expect("dispatch checked");
        if !consumer_tag.is_empty() && channel.consumers.contains_key(consumer_tag.as_str()) {
            return Err(AmqpError::connection(
                ReplyCode::NotAllowed,
                format!("attempt to reuse consumer tag '{consumer_tag}'"),
            ));
        }
        let global_prefetch = channel.global_prefetch;
        let prefetch = channel.consumer_prefetch;
        let q = self.queue_for(conn, queue)?;
        let priority = match arguments.get("x-priority") {
            None => 0,
            Some(v) if v.integer().is_some() => v.integer().unwrap_or_default(),
            Some(v) => {
                return Err(AmqpError::channel(
                    ReplyCode::PreconditionFailed,
                    format!(
                        "invalid arg 'x-priority' for {}: \"expected integer, got {}\"",
                        queue_resource(queue, &vhost),
                        type_name(v)
                    ),
                ));
            }
        };
        let stream_start = if q.is_stream() {
            let now = self.now;
            Some(Self::stream_consume_checks(q, &vhost, auto_ack, prefetch, global_prefetch, arguments, now)?)
        } else {
            None
        };
        if q.is_quorum() && global_prefetch > 0 {
            return Err(AmqpError::connection(
                ReplyCode::NotImplemented,
                format!("{} does not support global qos", queue_resource(queue, &vhost)),
            ));
        }
        // A classic single-active-consumer queue refuses every exclusive consumer, even as its only one; a
        // quorum queue takes it (`tests/scenarios/amqp/sac-exclusive-conflict`, RabbitMQ 3.10.8).
        let sac_classic = q.args.single_active_consumer && !q.is_quorum();
        let exclusive_refused = exclusive && (q.has_consumers() || sac_classic);
        if q.exclusive_consumer.is_some() || exclusive_refused {
            return Err(AmqpError::channel(
                ReplyCode::AccessRefused,
                format!("{} in exclusive use", queue_resource(queue, &vhost)),
            ));
        }
        let incarnation = q.incarnation;
        let quorum = q.is_quorum();
        let qname = q.name.clone();
        let tag = if consumer_tag.is_empty() { self.gen_name("amq.ctag") } else { consumer_tag };
        let tag = Name::from(tag);
        let channel = self.channel_mut(conn, ch);
        // A tag reused after a cancel: the old consumer's deliveries from this queue are still unacked
        // under it (see `consumer.rs` for what they mean to the new consumer).
        let earlier = channel
            .unacked
            .values()
            .filter(|u| {
                u.consumer_tag.as_ref() == Some(&tag)
                    && u.queue == qname
                    && u.queue_incarnation == incarnation
            })
            .count() as u32;
        let consumer = Consumer {
            queue: qname.clone(),
            queue_incarnation: incarnation,
            auto_ack,
            exclusive,
            prefetch,
            unacked: earlier,
            priority,
            first_delivery_tag: channel.next_delivery_tag,
            earlier_unacked: if quorum { 0 } else { earlier },
            extra_credit: 0,
            stream_offset: stream_start,
        };
        channel.consumers.insert(tag.clone(), consumer);
        let key = ConsumerKey { connection: conn, channel: ch, tag: tag.clone() };
        let q = self.queues.get_mut(queue).expect("checked");
        q.enter_line(InLine { key: key.clone(), priority });
        q.has_had_consumers = true;
        if exclusive {
            q.exclusive_consumer = Some(key);
        }
        // The queue is in use now: its x-expires countdown stops.
        q.expiry_generation += 1;
        emit!(
            self,
            Event::ConsumerStarted {
                connection: conn,
                channel: ch,
                queue: qname.clone(),
                consumer_tag: tag.clone()
            }
        );
        self.run_delivery(&qname);
        Ok(Reply::BasicConsumeOk { consumer_tag: tag.to_string() })
    }

    /// `basic.consume` of `amq.rabbitmq.reply-to`: the channel's direct reply-to consumer (one per
    /// channel, auto-ack only), reached by the routing key its requests carry in `reply_to`.
    fn reply_consume(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        consumer_tag: String,
        auto_ack: bool,
    ) -> Result<Reply, AmqpError> {
        let channel = self.channel_mut(conn, ch);
        if !auto_ack {
            return Err(AmqpError::channel(
                ReplyCode::PreconditionFailed,
                "reply consumer cannot acknowledge",
            ));
        }
        if channel.reply_consumer.is_some() {
            return Err(AmqpError::channel(ReplyCode::PreconditionFailed, "reply consumer already set"));
        }
        let tag = if consumer_tag.is_empty() { self.gen_name("amq.ctag") } else { consumer_tag };
        // RabbitMQ's key encodes the channel's process and a random suffix; the engine draws both parts.
        let mut node = [0u8; 24];
        let mut suffix = [0u8; 16];
        for chunk in node.chunks_mut(8).chain(suffix.chunks_mut(8)) {
            chunk.copy_from_slice(&self.prng.next_u64().to_le_bytes());
        }
        let key = format!("{REPLY_TO_PREFIX}{}.{}", base64_encode(&node), base64_encode(&suffix));
        let channel = self.channel_mut(conn, ch);
        channel.reply_consumer = Some((Name::from(tag.as_str()), Name::from(key)));
        Ok(Reply::BasicConsumeOk { consumer_tag: tag })
    }

    /// A direct reply (default exchange, `amq.rabbitmq.reply-to.…` key) to the channel whose reply
    /// consumer that key names: delivered to it at once, with the channel's next delivery tag, which
    /// RabbitMQ 3.10 does not use up (auto-ack). `false` if no channel has that key (a cancelled consumer,
    /// a closed channel, a made-up key): then it is routed as any other publish.
    fn deliver_reply(
        &mut self,
        id: MessageId,
        routing_key: &str,
        properties: &PackedProperties,
        body: &[u8],
    ) -> bool {
        let found = self.connections.iter().find_map(|(cid, c)| {
            c.channels.iter().find_map(|(chn, channel)| match &channel.reply_consumer {
                Some((tag, key)) if &**key == routing_key => {
                    Some((*cid, *chn, tag.clone(), channel.next_delivery_tag))
                }
                _ => None,
            })
        });
        let Some((connection, channel, tag, delivery_tag)) = found else { return false };
        let route = Route::new(Name::from(""), routing_key);
        let m = QueuedMessage::with_packed(id, route, properties.clone(), body.into());
        self.totals.copies += 1;
        self.totals.acked += 1;
        emit!(
            self,
            Event::Delivered {
                connection,
                channel,
                queue: Name::from(REPLY_TO_QUEUE),
                delivery: Box::new(m.to_delivery(DeliveryTag(delivery_tag), Some(&tag), None, None)),
            }
        );
        true
    }

    fn basic_cancel(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        consumer_tag: &str,
    ) -> Result<Reply, AmqpError> {
        let reply = Reply::BasicCancelOk { consumer_tag: consumer_tag.to_string() };
        let channel = self.channel_mut(conn, ch);
        if channel.reply_consumer.as_ref().is_some_and(|(tag, _)| &**tag == consumer_tag) {
            channel.reply_consumer = None;
            return Ok(reply);
        }
        // Cancelling an unknown tag is not an error (the AMQP spec requires ignoring it).
        let Some((tag, consumer)) = self.channel_mut(conn, ch).consumers.remove_entry(consumer_tag) else {
            return Ok(reply);
        };
        let key = ConsumerKey { connection: conn, channel: ch, tag };
        if self.detach_consumer(&key, &consumer, CancelReason::Client)
            && !self.maybe_auto_delete_queue(&consumer.queue)
        {
            self.restart_expiry_if_unused(&consumer.queue);
            // A single-active-consumer queue hands over to the next consumer.
            self.run_delivery(&consumer.queue);
        }
        Ok(reply)
    }

    /// Whether the consumer at `key` may take one more delivery now.
    fn can_take(&self, key: &ConsumerKey) -> bool {
        can_take_in(&self.connections, key)
    }

    /// Delivers ready messages to consumers with credit until none is left. As RabbitMQ does, consumers
    /// are served from the front of the line (highest priority first) and go to the end of their
    /// priority; one without credit leaves the line
    /// (blocked) until an ack gives it credit back. A single-active-consumer queue serves only the front.
    fn run_delivery(&mut self, queue: &str) {
        self.run_delivery_from(queue, false);
    }

    /// [`run_delivery`](Self::run_delivery), told whether the queue's blocked consumers were just
    /// unblocked with no credit given back since (then they are not checked again).
    fn run_delivery_from(&mut self, queue: &str, unblocked: bool) {
        let Some(q) = self.queues.get_mut(queue) else { return };
        if q.is_stream() {
            self.run_stream_delivery(queue);
            return;
        }
        let d = deliverer!(self);
        if d.deliver_ready(q, unblocked) == Delivered::HeadsToExpire {
            self.expire_heads_and_deliver(queue);
        }
    }

    /// The rest of a delivery run that uncovered a head with an expiry: `expire_heads` (which needs the
    /// whole broker) and delivery again, until a run ends with no such head. The queue's blocked
    /// consumers were checked at the start of the run and no credit came back since.
    fn expire_heads_and_deliver(&mut self, queue: &str) {
        loop {
            self.expire_heads(queue);
            let Some(q) = self.queues.get_mut(queue) else { return };
            if q.is_stream() {
                self.run_stream_delivery(queue);
                return;
            }
            let d = deliverer!(self);
            if d.deliver_ready(q, true) == Delivered::AllItCould {
                return;
            }
        }
    }

    /// RabbitMQ 3.10's checks of a `basic.consume` on a stream (`rabbit_stream_queue:consume/3`), in its
    /// order; returns the offset the consumer reads first.
    fn stream_consume_checks(
        q: &Queue,
        vhost: &str,
        auto_ack: bool,
        prefetch: u16,
        global_prefetch: u16,
        arguments: &FieldTable,
        now: VirtualTime,
    ) -> Result<u64, AmqpError> {
        let resource = queue_resource(&q.name, vhost);
        // The offset is a consumer argument: validated before the queue type's own checks (golden
        // stream-offset-interval).
        let spec = OffsetSpec::parse(arguments).map_err(|e| match e {
            OffsetError::BadValue => AmqpError::internal_error(),
            OffsetError::InvalidInterval(text) => AmqpError::channel(
                ReplyCode::PreconditionFailed,
                format!(
                    "invalid arg 'x-stream-offset' for {resource}: {{invalid_stream_offset_arg,{{longstr,<<\"{text}\">>}}}}"
                ),
            ),
        })?;
        if prefetch == 0 {
            return Err(AmqpError::channel(
                ReplyCode::PreconditionFailed,
                format!("consumer prefetch count is not set for '{resource}'"),
            ));
        }
        if auto_ack {
            return Err(AmqpError::connection(
                ReplyCode::NotImplemented,
                format!("automatic acknowledgement not supported by stream queues {resource}"),
            ));
        }
        if global_prefetch > 0 {
            return Err(AmqpError::connection(
                ReplyCode::NotImplemented,
                format!("{resource} does not support global qos"),
            ));
        }
        Ok(q.stream.as_ref().expect("a stream").start_offset(spec, now))
    }

    /// Delivers a stream's messages to each of its consumers that has credit, from the offset it reads
    /// next, until it has no credit or has read everything. Each consumer reads the whole log on its
    /// own; a delivery carries its offset in the `x-stream-offset` header and is a new copy of the
    /// message (see [`Census`]): the log keeps the message.
    fn run_stream_delivery(&mut self, queue: &str) {
        let Some(q) = self.queues.get_mut(queue) else { return };
        let Some(log) = &q.stream else { return };
        // Each channel serves its stream consumers in the order RabbitMQ 3.10's stream client folds over
        // its readers and prepends their deliveries: by consumer tag, the greatest first (golden
        // stream-consume). Channels are independent.
        let mut keys: Vec<ConsumerKey> = q.all_consumers().cloned().collect();
        keys.sort_by(|a, b| (a.connection, a.channel, &b.tag).cmp(&(b.connection, b.channel, &a.tag)));
        for key in keys {
            let Some(channel) =
                self.connections.get_mut(&key.connection).and_then(|c| c.channels.get_mut(&key.channel))
            else {
                continue;
            };
            let Channel { consumers, next_delivery_tag, consumer_unacked, unacked, .. } = channel;
            let Some(consumer) = consumer_mut(consumers, &key.tag) else { continue };
            while let Some(offset) = consumer.stream_offset {
                let offset = offset.max(log.first_offset());
                let Some(entry) = log.get(offset) else {
                    consumer.stream_offset = Some(offset);
                    break;
                };
                if !consumer.has_credit() {
                    break;
                }
                consumer.stream_offset = Some(offset + 1);
                let read = &entry.message;
                let mut properties = read.properties().into_owned();
                properties.headers.insert("x-stream-offset".to_string(), FieldValue::Int(offset as i64));
                let m =
                    QueuedMessage::with_route(read.id, read.route().clone(), properties, read.body().into());
                let tag = *next_delivery_tag;
                *next_delivery_tag += 1;
                self.totals.copies += 1;
                if self.config.record_events {
                    let event = Event::Delivered {
                        connection: key.connection,
                        channel: key.channel,
                        queue: q.name.clone(),
                        delivery: Box::new(m.to_delivery(DeliveryTag(tag), Some(&key.tag), None, None)),
                    };
                    self.events.push(LoggedEvent { at: self.now, event });
                }
                consumer.unacked += 1;
                *consumer_unacked += 1;
                unacked.insert(
                    tag,
                    Unacked {
                        message: m,
                        queue: q.name.clone(),
                        queue_incarnation: q.incarnation,
                        consumer_tag: Some(key.tag.clone()),
                    },
                );
                q.unacked += 1;
            }
        }
    }

    fn basic_get(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        queue: &str,
        auto_ack: bool,
    ) -> Result<Reply, AmqpError> {
        if self.queue_for(conn, queue)?.is_stream() {
            // `rabbit_stream_queue:dequeue/5`.
            return Err(AmqpError::connection(
                ReplyCode::NotImplemented,
                format!("basic.get not supported by stream queues {}", queue_resource(queue, self.vhost())),
            ));
        }
        self.restart_expiry_if_unused(queue);
        let q = self.queues.get_mut(queue).expect("checked");
        let qname = q.name.clone();
        let Some(m) = q.pop() else {
            emit!(self, Event::GetEmpty { connection: conn, channel: ch, queue: qname });
            return Ok(Reply::BasicGetEmpty);
        };
        let incarnation = q.incarnation;
        // Quorum queues always tell basic.get how often the message came back.
        let quorum_count = q.is_quorum().then_some(m.delivery_count);
        if !auto_ack {
            q.unacked += 1;
        }
        // RabbitMQ drops expired messages the get exposed before it counts what is left
        // (`fetch/2` then `BQ:len`), but the get-ok goes out first: log it at this point.
        let mark = self.events.len();
        self.expire_heads(queue);
        let left = self.queues.get(queue).map_or(0, |q| q.ready_count() as u32);
        let channel = self.channel_mut(conn, ch);
        let tag = channel.take_delivery_tag();
        let delivery = m.to_delivery(DeliveryTag(tag), None, Some(left), quorum_count);
        if auto_ack {
            self.totals.acked += 1;
        } else {
            channel.unacked.insert(
                tag,
                Unacked {
                    message: m,
                    queue: qname.clone(),
                    queue_incarnation: incarnation,
                    consumer_tag: None,
                },
            );
        }
        if self.config.record_events {
            let event = Event::Delivered {
                connection: conn,
                channel: ch,
                queue: qname,
                delivery: Box::new(delivery.clone()),
            };
            self.events.insert(mark, LoggedEvent { at: self.now, event });
        }
        Ok(Reply::BasicGetOk(Box::new(delivery)))
    }

    fn settle(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        delivery_tag: DeliveryTag,
        multiple: bool,
        op: Settle,
    ) -> Result<Reply, AmqpError> {
        let tag = delivery_tag.0;
        if op != Settle::Ack {
            let among = |t: u64| if multiple { tag == 0 || t <= tag } else { t == tag };
            if let Some(queue) = self.stream_read_among(conn, ch, among) {
                // `rabbit_stream_queue:settle/5` takes only acks (golden stream-settle).
                return Err(AmqpError::connection(
                    ReplyCode::NotImplemented,
                    format!(
                        "basic.nack and basic.reject not supported by stream queues {}",
                        queue_resource(&queue, self.vhost())
                    ),
                ));
            }
        }
        let channel = self.channel_mut(conn, ch);
        if let Some(tx) = &mut channel.tx {
            let unacked = &channel.unacked;
            let open = |t: &u64| !tx.held_tags.contains(t);
            let tags: Vec<u64> = if multiple && tag == 0 {
                unacked.keys().copied().filter(open).collect()
            } else if !unacked.contains_key(&tag) || !open(&tag) {
                return Err(AmqpError::channel(
                    ReplyCode::PreconditionFailed,
                    format!("unknown delivery tag {tag}"),
                ));
            } else if multiple {
                unacked.up_to(tag).map(|(t, _)| *t).filter(open).collect()
            } else {
                vec![tag]
            };
            let held = match op {
                Settle::Ack => HeldSettle::Ack,
                Settle::Nack { requeue } => HeldSettle::Nack { requeue },
                Settle::Reject { requeue } => HeldSettle::Reject { requeue },
                Settle::Recover => unreachable!("basic.recover does not settle through here"),
            };
            tx.held_tags.extend(tags.iter().copied());
            tx.settles.push((held, tags));
            return Ok(Reply::None);
        }
        let taken: Vec<(u64, Unacked)> = if multiple && tag == 0 {
            std::mem::take(&mut channel.unacked).into_iter().collect()
        } else if !channel.unacked.contains_key(&tag) {
            return Err(AmqpError::channel(
                ReplyCode::PreconditionFailed,
                format!("unknown delivery tag {tag}"),
            ));
        } else if multiple {
            let rest = channel.unacked.split_off(&(tag + 1));
            std::mem::replace(&mut channel.unacked, rest).into_iter().collect()
        } else if op == Settle::Ack {
            // The usual settlement, one ack: the delivery is dropped where it lies on the channel rather
            // than moved out and handed along (see `ack_one`).
            let (queue, incarnation, message) = channel.ack_unacked(tag).expect("checked");
            self.blocked_check.credit_may_return();
            self.ack_one(conn, ch, &queue, incarnation, tag, message);
            self.run_channel_queues_after(conn, ch, &queue);
            return Ok(Reply::None);
        } else {
            // One delivery is one group: settle it without building, sorting and splitting a list.
            let u = channel.unacked.remove(&tag).expect("checked");
            channel.forget_consumer_unacked(tag, &u);
            self.blocked_check.credit_may_return();
            let (queue, incarnation) = (u.queue.clone(), u.queue_incarnation);
            self.settle_group_taken(conn, ch, &queue, incarnation, std::iter::once((tag, u)), op);
            self.run_channel_queues_after(conn, ch, &queue);
            return Ok(Reply::None);
        };
        self.settle_taken(conn, ch, taken, op);
        Ok(Reply::None)
    }

    /// The stream (still the one it was) of the first of the channel's unacked deliveries whose tag
    /// `tags` accepts and that was read from a stream.
    fn stream_read_among(
        &self,
        conn: ConnectionId,
        ch: ChannelNumber,
        tags: impl Fn(u64) -> bool,
    ) -> Option<Name> {
        let channel = self.connections.get(&conn)?.channels.get(&ch)?;
        channel.unacked.iter().find_map(|(t, u)| {
            let q = self
                .queues
                .get(&*u.queue)
                .filter(|q| q.is_stream() && q.incarnation == u.queue_incarnation)?;
            tags(*t).then(|| q.name.clone())
        })
    }

    /// Settles deliveries as `rabbit_channel:foreach_per_queue` hands them to queues: grouped by (queue,
    /// taker), groups in that order, delivery tags ascending within a group. Each group gives its
    /// consumer credit back, then is acked, requeued or dead-lettered, then its queue delivers again.
    fn settle_taken(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        mut taken: Vec<(u64, Unacked)>,
        op: Settle,
    ) {
        let group_of = |(tag, u): &(u64, Unacked)| {
            let taker = match &u.consumer_tag {
                Some(ctag) => Taker::Consumer(ctag.clone()),
                None => Taker::Get(*tag),
            };
            (u.queue.clone(), u.queue_incarnation, taker)
        };
        crate::order::sort_by(&mut taken, |a, b| group_of(a).cmp(&group_of(b)).then(a.0.cmp(&b.0)));
        while !taken.is_empty() {
            let key = group_of(&taken[0]);
            let len = taken.iter().take_while(|t| group_of(t) == key).count();
            let group: Vec<(u64, Unacked)> = taken.drain(..len).collect();
            self.settle_group(conn, ch, group, op);
        }
        self.run_channel_queues(conn, ch, BTreeSet::new());
    }

    fn settle_group(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        group: Vec<(u64, Unacked)>,
        op: Settle,
    ) {
        let (queue, incarnation) = (group[0].1.queue.clone(), group[0].1.queue_incarnation);
        for (tag, u) in &group {
            self.forget_consumer_unacked(conn, ch, *tag, u);
        }
        self.settle_group_taken(conn, ch, &queue, incarnation, group, op);
    }

    /// [`settle_group_taken`](Self::settle_group_taken) of a single ack whose delivery the channel already
    /// dropped (an ack needs only the message id): the same steps in the same order, without moving the
    /// delivery (some 100 bytes) from call to call.
    fn ack_one(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        queue: &Name,
        incarnation: u64,
        tag: u64,
        message: MessageId,
    ) {
        let delivery_tag = DeliveryTag(tag);
        let (connection, channel) = (conn, ch);
        match self.queues.get_mut(&QueueName::of(queue)) {
            Some(q) if q.incarnation == incarnation => {
                unblock_in(q, &self.connections);
                self.blocked_check.checked(q);
                emit!(
                    self,
                    Event::Acked { message, queue: Name::clone(queue), connection, channel, delivery_tag }
                );
                q.unacked -= 1;
                self.totals.acked += 1;
                // `run_delivery_from(queue, true)` on the queue in hand.
                if q.is_stream() {
                    self.run_stream_delivery(queue);
                    return;
                }
                let d = deliverer!(self);
                if d.deliver_ready(q, true) == Delivered::HeadsToExpire {
                    self.expire_heads_and_deliver(queue);
                }
            }
            // The queue is gone: the ack still counts as acknowledged.
            _ => {
                emit!(
                    self,
                    Event::Acked { message, queue: Name::clone(queue), connection, channel, delivery_tag }
                );
                self.totals.acked += 1;
                self.run_delivery_from(queue, false);
            }
        }
    }

    /// The rest of [`settle_group`](Self::settle_group), once the consumers' counters were updated: the
    /// group's queue unblocks its consumers, then each delivery is acked, requeued or dead-lettered in
    /// order, then the queue delivers again.
    fn settle_group_taken(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        queue: &Name,
        incarnation: u64,
        group: impl IntoIterator<Item = (u64, Unacked)>,
        op: Settle,
    ) {
        let live = match self.queues.get_mut(&QueueName::of(queue)) {
            Some(q) if q.incarnation == incarnation => {
                unblock_in(q, &self.connections);
                self.blocked_check.checked(q);
                // A stream keeps every message: any settlement only ends the read and gives credit back
                // (`rabbit_stream_queue:settle/5`); nothing is requeued or dead-lettered.
                if op == Settle::Ack || q.is_stream() {
                    // Acks to a live queue only count: done with the queue found once. The same as the
                    // `(true, None)` arm below.
                    for (tag, u) in group {
                        let message = u.message.id;
                        let delivery_tag = DeliveryTag(tag);
                        let (connection, channel) = (conn, ch);
                        // The name is cloned only for an event recorded.
                        let queue = || Name::clone(queue);
                        match op {
                            Settle::Ack => emit!(
                                self,
                                Event::Acked { message, queue: queue(), connection, channel, delivery_tag }
                            ),
                            Settle::Nack { requeue } => emit!(
                                self,
                                Event::Nacked {
                                    message,
                                    queue: queue(),
                                    connection,
                                    channel,
                                    delivery_tag,
                                    requeue
                                }
                            ),
                            Settle::Reject { requeue } => emit!(
                                self,
                                Event::Rejected {
                                    message,
                                    queue: queue(),
                                    connection,
                                    channel,
                                    delivery_tag,
                                    requeue
                                }
                            ),
                            Settle::Recover => {}
                        }
                        q.unacked -= 1;
                        self.totals.acked += 1;
                    }
                    // `run_delivery_from(queue, true)` on the queue in hand.
                    if q.is_stream() {
                        self.run_stream_delivery(queue);
                        return;
                    }
                    let d = deliverer!(self);
                    if d.deliver_ready(q, true) == Delivered::HeadsToExpire {
                        self.expire_heads_and_deliver(queue);
                    }
                    return;
                }
                true
            }
            _ => false,
        };
        let mut requeued = false;
        for (tag, u) in group {
            let delivery_tag = DeliveryTag(tag);
            let message = u.message.id;
            let q = queue.clone();
            match op {
                Settle::Ack => {
                    emit!(
                        self,
                        Event::Acked { message, queue: q, connection: conn, channel: ch, delivery_tag }
                    )
                }
                Settle::Nack { requeue } => emit!(
                    self,
                    Event::Nacked { message, queue: q, connection: conn, channel: ch, delivery_tag, requeue }
                ),
                Settle::Reject { requeue } => emit!(
                    self,
                    Event::Rejected {
                        message,
                        queue: q,
                        connection: conn,
                        channel: ch,
                        delivery_tag,
                        requeue
                    }
                ),
                Settle::Recover => {}
            }
            let requeue = match op {
                Settle::Ack => None,
                Settle::Recover => Some(true),
                Settle::Nack { requeue } | Settle::Reject { requeue } => Some(requeue),
            };
            match (live, requeue) {
                (_, Some(true)) => {
                    // Only a quorum queue's message from basic.get or from a consumer cancelled since goes
                    // to the back; an active consumer's goes back to the front (RabbitMQ 3.10.8).
                    let active = u.consumer_tag.as_ref().is_some_and(|tag| {
                        self.connections
                            .get(&conn)
                            .and_then(|c| c.channels.get(&ch))
                            .is_some_and(|c| c.consumers.contains_key(tag))
                    });
                    requeued |= self.requeue_one(u, !active).is_some();
                }
                (true, None) => {
                    self.queues.get_mut(&**queue).expect("live").unacked -= 1;
                    self.totals.acked += 1;
                }
                (true, Some(false)) => {
                    self.queues.get_mut(&**queue).expect("live").unacked -= 1;
                    self.dead_letter_or_drop(queue, u.message, DropReason::Rejected);
                }
                // The queue is gone: an ack still counts as acknowledged, a reject drops.
                (false, None) => self.totals.acked += 1,
                (false, Some(false)) => {
                    self.totals.drop(DropReason::QueueDeleted);
                    emit!(
                        self,
                        Event::Dropped { message, queue: Some(u.queue), reason: DropReason::QueueDeleted }
                    );
                }
            }
        }
        if requeued {
            self.after_requeue(queue);
        } else {
            // Acks give no credit back after the unblocking above (the consumers' counters were updated
            // before it).
            self.run_delivery_from(queue, live && op == Settle::Ack);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // Publishing, enqueueing and dead-lettering.

    #[allow(clippy::too_many_arguments)]
    fn publish(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        exchange: &str,
        routing_key: String,
        mandatory: bool,
        properties: &mut BasicProperties,
        body: Vec<u8>,
    ) -> Result<Reply, AmqpError> {
        // `rabbit_channel:check_msg_size/3`, before anything else about the publish.
        let max = self.config.max_message_size;
        if body.len() as u64 > max {
            let configured = if max == MAX_MSG_SIZE_CEILING { "" } else { "configured " };
            return Err(AmqpError::channel(
                ReplyCode::PreconditionFailed,
                format!("message size {} is larger than {configured}max size {max}", body.len()),
            ));
        }
        if self.next_message > MAX_MESSAGE_ID {
            // Only a hand-made broker state gets here (see MAX_MESSAGE_ID). Not a RabbitMQ text.
            return Err(AmqpError::connection(
                ReplyCode::InternalError,
                format!("message ids are exhausted (the next would be {})", self.next_message),
            ));
        }
        let topology = self.topology;
        let remembered = match &self.memo.at(topology).exchange {
            Some((name, internal)) if **name == *exchange => Some((Name::clone(name), *internal)),
            _ => None,
        };
        let (xname, internal) = match remembered {
            Some(found) => found,
            None => {
                let Some((xname, x)) = self.exchanges.get_key_value(exchange) else {
                    return Err(not_found_exchange(exchange, self.vhost()));
                };
                let found = (Name::clone(xname), x.internal);
                self.memo.at(topology).exchange = Some(found.clone());
                found
            }
        };
        if internal {
            return Err(AmqpError::channel(
                ReplyCode::AccessRefused,
                format!("cannot publish to internal {}", exchange_resource(exchange, self.vhost())),
            ));
        }
        if properties.reply_to.as_deref() == Some(REPLY_TO_QUEUE) {
            // Direct reply-to: the request carries the key of this channel's reply consumer.
            let Some((_, key)) = &self.channel_mut(conn, ch).reply_consumer else {
                return Err(AmqpError::channel(
                    ReplyCode::PreconditionFailed,
                    "fast reply consumer does not exist",
                ));
            };
            properties.reply_to = Some(key.to_string());
        }
        if let Some(exp) = &properties.expiration {
            if let Err(complaint) = parse_expiration(exp) {
                return Err(AmqpError::channel(
                    ReplyCode::PreconditionFailed,
                    format!("invalid expiration '{exp}': {complaint}"),
                ));
            }
        }
        // Sender-selected distribution: `CC` and `BCC` name more routing keys (`rabbit_basic:message/3`,
        // after the expiration check); `BCC` is removed from the message before it is routed.
        let also = header_routes(&properties.headers).map_err(|(header, kind)| {
            AmqpError::channel(
                ReplyCode::PreconditionFailed,
                format!("invalid message: {{unacceptable_type_in_header,\"{header}\",{kind}}}"),
            )
        })?;
        if !properties.headers.is_empty() {
            properties.headers.remove("BCC");
        }
        // One channel lookup for both: a transaction holds the publish, else it takes its confirm number.
        let channel = self.channel_mut(conn, ch);
        let untransacted = channel.tx.is_none().then(|| channel.take_publish_seq());
        let Some(seq) = untransacted else {
            let queues = self.route_at_publish(&xname, &routing_key, &also, &properties.headers);
            let tx = self.channel_mut(conn, ch).tx.as_mut().expect("checked above");
            tx.publishes.push(HeldPublish {
                exchange: xname,
                routing_key,
                also,
                mandatory,
                properties: std::mem::take(properties),
                body,
                queues,
            });
            return Ok(Reply::None);
        };
        let properties = PackedProperties::from_mut(properties);
        self.publish_checked(conn, ch, seq, xname, routing_key, also, mandatory, properties, body, None);
        Ok(Reply::None)
    }

    /// The queues a transaction's publish goes to, chosen when it arrives (see [`HeldPublish::queues`]).
    fn route_at_publish(
        &mut self,
        xname: &Name,
        routing_key: &str,
        also: &[Box<str>],
        headers: &FieldTable,
    ) -> Vec<Name> {
        let route = if also.is_empty() {
            self.routes.get(xname, routing_key)
        } else {
            Route::with_also(xname.clone(), routing_key, also.to_vec().into_boxed_slice())
        };
        if !xname.is_empty() {
            return self.route(xname, &route, headers);
        }
        // `rabbit_exchange:route/2` on the default exchange: a queue name per key, unchecked.
        let mut queues: Vec<Name> = route.keys().map(Name::from).collect();
        if !route.also.is_empty() {
            queues.sort();
            queues.dedup();
        }
        queues
    }

    /// The rest of a publish once it passed every check and took its confirm number (`seq`, see
    /// [`Channel::take_publish_seq`]): a message id, routing, enqueueing, the
    /// return or the confirm. A committed transaction's publishes come here at the commit.
    #[allow(clippy::too_many_arguments)]
    fn publish_checked(
        &mut self,
        conn: ConnectionId,
        ch: ChannelNumber,
        seq: Option<u64>,
        xname: Name,
        routing_key: String,
        also: Vec<Box<str>>,
        mandatory: bool,
        properties: PackedProperties,
        body: Vec<u8>,
        chosen: Option<Vec<Name>>,
    ) {
        let exchange: &str = &Name::clone(&xname);
        let id = MessageId(self.next_message);
        self.next_message += 1;
        self.totals.published += 1;
        // The shared route keeps the key from here on, so the method's own string can go to the event.
        let route = if also.is_empty() {
            self.routes.get(&xname, &routing_key)
        } else {
            Route::with_also(xname.clone(), &routing_key, also.into_boxed_slice())
        };
        let size = body.len();
        emit!(
            self,
            Event::Published {
                message: id,
                connection: conn,
                channel: ch,
                exchange: xname.clone(),
                routing_key,
                size
            }
        );
        let routing_key: &str = &route.routing_key;
        // A direct reply reaches its consumer without a queue; RabbitMQ 3.10 still finds no queue for it,
        // so a mandatory one is also returned.
        let replied = exchange.is_empty()
            && routing_key.starts_with(REPLY_TO_PREFIX)
            && self.deliver_reply(id, routing_key, &properties, &body);
        let targets = match chosen {
            // A committed publish: the queues chosen at its publish that still exist.
            Some(mut queues) => {
                queues.retain(|q| self.queues.contains_key(&**q));
                queues
            }
            None => self.route(&xname, &route, properties.headers()),
        };
        // The event takes the target list; one target (the usual case) is remembered without a copy.
        let single = match targets.as_slice() {
            [only] => Some(Name::clone(only)),
            _ => None,
        };
        let targets = if single.is_some() {
            if self.config.record_events {
                emit!(self, Event::Routed { message: id, exchange: xname.clone(), queues: targets });
            } else {
                self.recycle_targets(targets);
            }
            Vec::new()
        } else {
            emit!(self, Event::Routed { message: id, exchange: xname.clone(), queues: targets.clone() });
            targets
        };
        let mut ack = true;
        if single.is_none() && targets.is_empty() && replied && !mandatory {
            // Delivered to its reply consumer: nothing was dropped.
        } else if single.is_none() && targets.is_empty() {
            self.totals.copies += 1;
            if mandatory {
                self.totals.returned += 1;
                emit!(
                    self,
                    Event::Returned {
                        message: id,
                        connection: conn,
                        channel: ch,
                        reply_code: ReplyCode::NoRoute.code(),
                        reply_text: ReplyCode::NoRoute.name().to_string(),
                        exchange: xname,
                        routing_key: routing_key.to_string(),
                    }
                );
            } else {
                self.totals.drop(DropReason::Unroutable);
                emit!(self, Event::Dropped { message: id, queue: None, reason: DropReason::Unroutable });
            }
        } else if let Some(only) = single {
            let m = QueuedMessage::with_packed(id, Rc::clone(&route), properties, body.into_boxed_slice());
            self.totals.copies += 1;
            ack = self.enqueue(&only, m);
        } else {
            let m = QueuedMessage::with_packed(id, Rc::clone(&route), properties, body.into_boxed_slice());
            let last = targets.len() - 1;
            let mut m = Some(m);
            for (i, t) in targets.iter().enumerate() {
                let copy =
                    if i == last { m.take().expect("moved once") } else { m.clone().expect("still here") };
                self.totals.copies += 1;
                if !self.enqueue(t, copy) {
                    ack = false;
                }
            }
        }
        if let Some(seq) = seq {
            emit!(
                self,
                Event::Confirmed {
                    connection: conn,
                    channel: ch,
                    delivery_tag: DeliveryTag(seq),
                    multiple: false,
                    ack
                }
            );
        }
    }

    /// Ends the channel's transaction (a new one starts at once); 406 if the channel is not transactional.
    fn take_transaction(&mut self, conn: ConnectionId, ch: ChannelNumber) -> Result<Transaction, AmqpError> {
        match &mut self.channel_mut(conn, ch).tx {
            Some(tx) => Ok(std::mem::take(tx)),
            None => Err(AmqpError::channel(ReplyCode::PreconditionFailed, "channel is not transactional")),
        }
    }

    /// `tx.commit`: the held publishes in order, then the held settlements in order (as
    /// `rabbit_channel` commits: deliveries first, then acks and rejects).
    fn commit(&mut self, conn: ConnectionId, ch: ChannelNumber, tx: Transaction) {
        for p in tx.publishes {
            let seq = self.channel_mut(conn, ch).take_publish_seq();
            self.publish_checked(
                conn,
                ch,
                seq,
                p.exchange,
                p.routing_key,
                p.also,
                p.mandatory,
                PackedProperties::new(p.properties),
                p.body,
                Some(p.queues),
            );
        }
        for (held, tags) in tx.settles {
            let channel = self.channel_mut(conn, ch);
            let taken: Vec<(u64, Unacked)> =
                tags.iter().filter_map(|t| channel.unacked.remove(t).map(|u| (*t, u))).collect();
            let op = match held {
                HeldSettle::Ack => Settle::Ack,
                HeldSettle::Nack { requeue } => Settle::Nack { requeue },
                HeldSettle::Reject { requeue } => Settle::Reject { requeue },
            };
            self.settle_taken(conn, ch, taken, op);
        }
    }

    /// Puts a new copy into a queue (the caller counted the copy); returns `false` if the queue refused it
    /// (`x-overflow` reject-publish / reject-publish-dlx), which nacks a confirmed publish.
    fn enqueue(&mut self, queue: &Name, m: QueuedMessage) -> bool {
        let Some(q) = self.queues.get_mut(&QueueName::of(queue)) else {
            unreachable!("routing only returns existing queues")
        };
        let name = q.name.clone();
        if let Some(log) = &mut q.stream {
            let id = m.id;
            log.append(m, self.now);
            emit!(self, Event::Enqueued { message: id, queue: name.clone() });
            self.run_stream_delivery(&name);
            return true;
        }
        let full = if q.is_quorum() && q.args.overflow == Overflow::RejectPublish {
            q.reject_blocked()
        } else {
            q.would_overflow(m.body_len())
        };
        if full {
            match q.args.overflow {
                Overflow::DropHead => {}
                Overflow::RejectPublish => {
                    self.totals.drop(DropReason::Overflow);
                    emit!(
                        self,
                        Event::Dropped { message: m.id, queue: Some(name), reason: DropReason::Overflow }
                    );
                    return false;
                }
                Overflow::RejectPublishDlx => {
                    if q.args.dead_letter_exchange.is_some() {
                        self.dead_letter_or_drop(&name, m, DropReason::Maxlen);
                    } else {
                        self.totals.drop(DropReason::Overflow);
                        emit!(
                            self,
                            Event::Dropped { message: m.id, queue: Some(name), reason: DropReason::Overflow }
                        );
                    }
                    return false;
                }
            }
        }
        let ttl = match (q.args.message_ttl_millis, m.expiration().and_then(|e| parse_expiration(e).ok())) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let expires_at = ttl.map_or(VirtualTime::NEVER, |t| self.now.plus_millis(t));
        let id = m.id;
        let timed = expires_at != VirtualTime::NEVER;
        q.push(m, expires_at);
        // Delivery never changes a queue's arguments: without drop-head, or without a length limit, there
        // is nothing to drop after it.
        let drop_head = q.args.overflow == Overflow::DropHead
            && (q.args.max_length.is_some() || q.args.max_length_bytes.is_some());
        emit!(self, Event::Enqueued { message: id, queue: name.clone() });
        // `run_delivery` on the queue in hand (not a stream: that returned above).
        let d = deliverer!(self);
        if d.deliver_ready(q, false) == Delivered::HeadsToExpire {
            self.expire_heads_and_deliver(&name);
        }
        if drop_head {
            self.drop_head_over_limit(&name);
        }
        // Only a new head can need expiring or a timer: one that came with an expiry, or one that
        // drop-head uncovered. Delivery expires the heads it uncovers itself, and the heads before the
        // publish were expired or timed when the time came (`advance_to` fires timers first).
        if timed || drop_head {
            self.expire_heads(&name);
        }
        true
    }

    /// `x-overflow: drop-head`: removes messages from the head while the queue is over its limits.
    fn drop_head_over_limit(&mut self, queue: &str) {
        loop {
            let Some(q) = self.queues.get_mut(queue) else { return };
            if q.args.overflow != Overflow::DropHead || !q.over_limit() {
                return;
            }
            let m = q.pop().expect("over the limit means not empty");
            let name = q.name.clone();
            self.dead_letter_or_drop(&name, m, DropReason::Maxlen);
        }
    }

    /// A message leaves `queue` for `reason`: to the queue's dead-letter exchange if it has one, else
    /// dropped.
    fn dead_letter_or_drop(&mut self, queue: &Name, m: QueuedMessage, reason: DropReason) {
        let (dlx, dlrk) = match self.queues.get(&**queue) {
            Some(q) => (q.args.dead_letter_exchange.clone(), q.args.dead_letter_routing_key.clone()),
            None => (None, None),
        };
        let Some(dlx) = dlx else {
            self.totals.drop(reason);
            emit!(self, Event::Dropped { message: m.id, queue: Some(queue.clone()), reason });
            return;
        };
        let Some((dlx, _)) = self.exchanges.get_key_value(&dlx) else {
            self.totals.drop(DropReason::DeadLetterExchangeMissing);
            emit!(
                self,
                Event::Dropped {
                    message: m.id,
                    queue: Some(queue.clone()),
                    reason: DropReason::DeadLetterExchangeMissing
                }
            );
            return;
        };
        let dlx = dlx.clone();
        self.totals.dead_lettered += 1;
        emit!(
            self,
            Event::DeadLettered {
                message: m.id,
                queue: queue.clone(),
                reason,
                dead_letter_exchange: dlx.clone()
            }
        );
        // With `x-dead-letter-routing-key` the copy goes by that key alone; without, by every key the
        // message was published with, sender-selected ones included.
        let route = match &dlrk {
            Some(key) => self.routes.get(&dlx, key),
            None if m.route().also.is_empty() => self.routes.get(&dlx, m.routing_key()),
            None => Route::with_also(dlx.clone(), m.routing_key(), m.route().also.clone()),
        };
        let copy = dead_letter_copy_via(&m, reason, queue, self.now, route, dlrk.is_some());
        let targets = {
            let props = copy.properties();
            self.route(&dlx, copy.route(), &props.headers)
        };
        emit!(self, Event::Routed { message: copy.id, exchange: dlx.clone(), queues: targets.clone() });
        if targets.is_empty() {
            self.totals.copies += 1;
            self.totals.drop(DropReason::Unroutable);
            emit!(self, Event::Dropped { message: copy.id, queue: None, reason: DropReason::Unroutable });
        }
        for t in &targets {
            self.totals.copies += 1;
            if is_cycle(&copy, reason, t) {
                self.totals.drop(DropReason::DeadLetterCycle);
                emit!(
                    self,
                    Event::Dropped {
                        message: copy.id,
                        queue: Some(t.clone()),
                        reason: DropReason::DeadLetterCycle
                    }
                );
            } else {
                self.enqueue(t, copy.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_look_like_rabbitmq() {
        let mut b = Broker::new(BrokerConfig::default(), 1);
        let n = b.gen_name("amq.gen");
        assert!(n.starts_with("amq.gen-") && n.len() == "amq.gen-".len() + 22, "{n}");
        assert!(n["amq.gen-".len()..].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    /// Two identical publishes with a topology change between them: the second must go where the
    /// changed topology routes it, not where the [`RouteMemo`] of the first remembers.
    #[test]
    fn route_memo_is_forgotten_when_the_topology_changes() {
        let mut b = Broker::new(BrokerConfig::default(), 1);
        let (conn, ch) = (b.connect(VirtualTime::ZERO, "memo"), ChannelNumber(1));
        let run = |b: &mut Broker, m: Method| b.apply(VirtualTime::ZERO, conn, ch, m);
        run(&mut b, Method::ChannelOpen).unwrap();
        let declare = |queue: &str| Method::QueueDeclare {
            queue: queue.to_string(),
            passive: false,
            durable: false,
            exclusive: false,
            auto_delete: false,
            arguments: FieldTable::new(),
        };
        let bind = |queue: &str| Method::QueueBind {
            queue: queue.to_string(),
            exchange: "x".to_string(),
            routing_key: "k".to_string(),
            arguments: FieldTable::new(),
        };
        let unbind = |queue: &str| Method::QueueUnbind {
            queue: queue.to_string(),
            exchange: "x".to_string(),
            routing_key: "k".to_string(),
            arguments: FieldTable::new(),
        };
        let publish = Method::BasicPublish {
            exchange: "x".to_string(),
            routing_key: "k".to_string(),
            mandatory: false,
            immediate: false,
            properties: BasicProperties::default(),
            body: b"m".to_vec(),
        };
        let ready = |b: &Broker| -> Vec<(String, usize)> {
            b.queues().into_iter().map(|q| (q.name, q.messages_ready as usize)).collect()
        };
        let counts = |pairs: &[(&str, usize)]| -> Vec<(String, usize)> {
            pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
        };
        run(
            &mut b,
            Method::ExchangeDeclare {
                exchange: "x".to_string(),
                exchange_type: "direct".to_string(),
                passive: false,
                durable: false,
                auto_delete: false,
                internal: false,
                arguments: FieldTable::new(),
            },
        )
        .unwrap();
        run(&mut b, declare("a")).unwrap();
        run(&mut b, bind("a")).unwrap();
        run(&mut b, publish.clone()).unwrap();
        assert_eq!(ready(&b), counts(&[("a", 1)]));
        // Declare and bind a second queue: the same publish now reaches both.
        run(&mut b, declare("b")).unwrap();
        run(&mut b, publish.clone()).unwrap();
        assert_eq!(ready(&b), counts(&[("a", 2), ("b", 0)]), "a declare alone routes nothing new");
        run(&mut b, bind("b")).unwrap();
        run(&mut b, publish.clone()).unwrap();
        assert_eq!(ready(&b), counts(&[("a", 3), ("b", 1)]));
        // Unbind the first: only the second.
        run(&mut b, unbind("a")).unwrap();
        run(&mut b, publish.clone()).unwrap();
        assert_eq!(ready(&b), counts(&[("a", 3), ("b", 2)]));
        // Delete the second: nowhere (and a new queue of the same name is not bound).
        run(&mut b, Method::QueueDelete { queue: "b".to_string(), if_unused: false, if_empty: false })
            .unwrap();
        run(&mut b, publish.clone()).unwrap();
        assert_eq!(ready(&b), counts(&[("a", 3)]));
        run(&mut b, declare("b")).unwrap();
        run(&mut b, publish.clone()).unwrap();
        assert_eq!(ready(&b), counts(&[("a", 3), ("b", 0)]));
        // Delete the exchange: the publish is a channel error now, not a remembered route.
        run(&mut b, Method::ExchangeDelete { exchange: "x".to_string(), if_unused: false }).unwrap();
        let e = run(&mut b, publish).unwrap_err();
        assert_eq!(e.text, "NOT_FOUND - no exchange 'x' in vhost '/'");
    }

    #[test]
    fn base64url_matches_known_vectors() {
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }
}
