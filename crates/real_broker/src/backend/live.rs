//! [`LivePort`]: a format-2 document's actors talking to a real RabbitMQ, as the
//! [`SimPort`](broker_core::scenario::sim::SimPort) of a `Simulation`, so the actors' logic (pacing,
//! prefetch, processing times, confirms, faults, scripts, checks) is the engine's own, unchanged.
//!
//! Virtual time is wall time since [`LivePort::start_clock`], sped up `speed` times (virtual ms per real
//! ms). Between instants the simulation calls [`wait_until`](SimPort::wait_until), which sleeps until
//! the next one or until a frame arrives; what arrived becomes engine events stamped with the arrival
//! time. Asynchronous methods (publish, ack, nack, reject) are sent without waiting: their failures come
//! back as `channel.close`, as with any client.
//!
//! What a client sees is recorded: deliveries, confirms, returns, channel and connection closes, the
//! broker's consumer cancels, and the client's own publishes and settlements (`published`, `acked`,
//! `nacked`, `rejected`, with the message id of the delivery they settle). Routing, enqueueing,
//! requeueing, expiry and dead-lettering happen inside the broker; [`SimPort::observes`] says so, and
//! checks counting them stay undecided.
//!
//! # Invariants
//! - Message ids are given to publishes in order (from 1); a delivery's id is the id of the latest
//!   publish of the same body (bodies identify messages; RabbitMQ has no ids).
//! - `settle` maps each unsettled delivery a client holds, by connection and tag, to its id and queue.

use super::{QueueFlags, RealBackend, RealOptions};
use crate::convert::outgoing;
use broker_core::amqp::definitions::{self, Definitions, ImportError, ImportReport};
use broker_core::amqp::{
    AmqpError, Broker, BrokerConfig, ChannelNumber, ConnectionId, DeliveryTag, DropReason, Event, FieldTable,
    LoggedEvent, MessageId, Method, Name, QueueInfo, Reply, ReplyCode,
};
use broker_core::clock::VirtualTime;
use broker_core::scenario::sim::{QueueCounts, SimPort};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Instant;

/// The event kinds a client of a real broker observes (the others happen inside RabbitMQ).
pub const OBSERVED_KINDS: &[&str] = &[
    "connection_opened",
    "delivered",
    "confirmed",
    "returned",
    "published",
    "acked",
    "nacked",
    "rejected",
    "consumer_started",
];

/// A real RabbitMQ as a simulation's broker.
pub struct LivePort {
    /// `RefCell`: checks read queue counters through `&self`, and that is a passive declare on the wire.
    inner: RefCell<RealBackend>,
    /// A connection of its own for passive declares (opened on first use).
    inspector: RefCell<Option<usize>>,
    next_message: u64,
    settle: BTreeMap<(usize, u64), (MessageId, Name)>,
    /// Channels in confirm mode: the last publish sequence number and those not yet confirmed.
    confirms: BTreeMap<(usize, u16), (u64, BTreeSet<u64>)>,
    /// Publishes the document sent without `mandatory`, sent with it so RabbitMQ tells when one is
    /// unroutable: their returns are `dropped` (unroutable) events, as the engine records them.
    forced_mandatory: BTreeSet<MessageId>,
    failure: Option<String>,
}

impl LivePort {
    /// A port to the broker at `uri`, `speed` virtual ms per real ms (at least 1).
    pub fn new(uri: &str, speed: u64) -> Result<LivePort, String> {
        let mut inner = RealBackend::new(uri, RealOptions::default())?;
        inner.speed = speed.max(1);
        inner.body_ids = Some(BTreeMap::new());
        Ok(LivePort {
            inner: RefCell::new(inner),
            inspector: RefCell::new(None),
            next_message: 0,
            settle: BTreeMap::new(),
            confirms: BTreeMap::new(),
            forced_mandatory: BTreeSet::new(),
            failure: None,
        })
    }

    /// Virtual time 0 is now (call it after the definitions are imported, before the run).
    pub fn start_clock(&mut self) {
        let inner = self.inner.get_mut();
        inner.start = Instant::now();
        inner.now = VirtualTime::ZERO;
    }

    /// Closes every connection (the end of a run).
    pub fn close_all(&mut self) {
        self.inner.get_mut().close_all();
    }

    /// The names of the queues and exchanges the run declared (for clean-up).
    pub fn declared(&self) -> (Vec<String>, Vec<String>) {
        self.inner.borrow().declared()
    }

    fn fail(&mut self, message: String) {
        if self.failure.is_none() {
            self.failure = Some(message);
        }
    }

    fn index(&self, connection: ConnectionId) -> Option<usize> {
        (connection.0 as usize).checked_sub(1).filter(|i| *i < self.inner.borrow().conns.len())
    }

    /// Sends `method` on `(conn, ch)` of the backend and waits for the answer when it is synchronous.
    fn send(
        inner: &mut RealBackend,
        conn: usize,
        ch: u16,
        method: &Method,
    ) -> Result<Result<Reply, AmqpError>, String> {
        // Refused before sending, as pika refuses it (`ShortStringTooLong`): see `RealBackend::apply`.
        method.check_short_strings().map_err(|e| e.to_string())?;
        let out = outgoing(method);
        let sent = match (inner.conns[conn].wire.as_mut(), out.content) {
            (Some(wire), Some((props, body))) => wire.send_content(ch, out.class, props, &body),
            (Some(wire), None) => wire.send_method_with_prefetch_size(ch, out.class, out.prefetch_size),
            (None, _) => Ok(()),
        };
        sent?;
        if out.synchronous {
            inner.await_reply(conn, ch, method.amqp_name()).map_err(|f| f.0)
        } else {
            Ok(Ok(Reply::None))
        }
    }

    /// Declares the document's definitions over a connection of its own.
    fn declare_definitions(&mut self, defs: &Definitions, report: &ImportReport) -> Result<(), ImportError> {
        let refused = |path: String, entity: &str, message: String| ImportError {
            path,
            entity: entity.to_string(),
            amqp: None,
            message,
        };
        let inner = self.inner.get_mut();
        let conn = inner
            .open_conn("brokerlab-definitions", true)
            .map_err(|f| refused("definitions".into(), "-", f.0))?;
        let mut methods: Vec<(String, String, Method)> = Vec::new();
        for (i, x) in defs.exchanges.iter().enumerate() {
            methods.push((
                format!("exchanges[{i}]"),
                x.name.clone(),
                Method::ExchangeDeclare {
                    exchange: x.name.clone(),
                    exchange_type: x.kind.clone(),
                    passive: false,
                    durable: x.durable,
                    auto_delete: x.auto_delete,
                    internal: x.internal,
                    arguments: x.arguments.clone(),
                },
            ));
        }
        for (i, q) in defs.queues.iter().enumerate() {
            methods.push((
                format!("queues[{i}]"),
                q.name.clone(),
                Method::QueueDeclare {
                    queue: q.name.clone(),
                    passive: false,
                    durable: q.durable,
                    exclusive: false,
                    auto_delete: q.auto_delete,
                    arguments: with_policy(&q.arguments, &q.name, report),
                },
            ));
        }
        for (i, b) in defs.bindings.iter().enumerate() {
            let method = if b.destination_type == "exchange" {
                Method::ExchangeBind {
                    destination: b.destination.clone(),
                    source: b.source.clone(),
                    routing_key: b.routing_key.clone(),
                    arguments: b.arguments.clone(),
                }
            } else {
                Method::QueueBind {
                    queue: b.destination.clone(),
                    exchange: b.source.clone(),
                    routing_key: b.routing_key.clone(),
                    arguments: b.arguments.clone(),
                }
            };
            methods.push((format!("bindings[{i}]"), format!("{} -> {}", b.source, b.destination), method));
        }
        let ch = 1;
        let open = Self::send(inner, conn, ch, &Method::ChannelOpen);
        if !matches!(open, Ok(Ok(_))) {
            return Err(refused("definitions".into(), "-", format!("cannot open a channel: {open:?}")));
        }
        for (path, entity, method) in methods {
            if let Method::QueueDeclare { queue, durable, auto_delete, .. } = &method {
                let flags = QueueFlags {
                    durable: *durable,
                    auto_delete: *auto_delete,
                    owner: conn,
                    ..QueueFlags::default()
                };
                inner.queues_seen.insert(queue.clone(), flags);
            }
            if let Method::ExchangeDeclare { exchange, .. } = &method {
                if !exchange.is_empty()
                    && !exchange.starts_with("amq.")
                    && !inner.exchanges_seen.contains(exchange)
                {
                    inner.exchanges_seen.push(exchange.clone());
                }
            }
            match Self::send(inner, conn, ch, &method) {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    let message = format!("RabbitMQ refused it: {e}");
                    return Err(ImportError { path, entity, amqp: Some(e), message });
                }
                Err(e) => return Err(refused(path, &entity, e)),
            }
        }
        let _ = inner.close_conn(conn);
        Ok(())
    }

    /// Takes what arrived: one arrival (blocking until `deadline`), then whatever else is already there,
    /// all stamped with the first one's time. Returns whether anything came.
    fn take_arrivals(&mut self, deadline: Instant, to: VirtualTime) -> bool {
        let inner = self.inner.get_mut();
        let left = deadline.saturating_duration_since(Instant::now());
        let first = match inner.rx.recv_timeout(left) {
            Ok(a) => a,
            Err(RecvTimeoutError::Timeout) => return false,
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(left);
                return false;
            }
        };
        inner.advancing = Some((inner.now, to));
        let at = inner.event_time(first.at);
        inner.advancing = None;
        inner.now = at;
        let mut next = Some(first);
        while let Some(arrival) = next.take() {
            if let Err(f) = inner.absorb(arrival) {
                let message = f.0;
                self.fail(message);
                return true;
            }
            next = inner.rx.try_recv().ok();
        }
        true
    }
}

/// An event as the engine would record it: a confirm with `multiple` becomes one `confirmed` per
/// sequence number it settles (RabbitMQ confirms several publishes at once, the engine one by one, and
/// checks count events); the return of a publish sent `mandatory` only by the port becomes a `dropped`
/// (unroutable). `conn` is the connection's index.
fn translate(
    e: LoggedEvent,
    conn: Option<usize>,
    confirms: &mut BTreeMap<(usize, u16), (u64, BTreeSet<u64>)>,
    forced_mandatory: &BTreeSet<MessageId>,
    out: &mut Vec<LoggedEvent>,
) {
    match &e.event {
        Event::Confirmed { connection, channel, delivery_tag, multiple, ack } => {
            let Some((_, outstanding)) = conn.and_then(|c| confirms.get_mut(&(c, channel.0))) else {
                return out.push(e);
            };
            let settled: Vec<u64> = if *multiple {
                outstanding.range(..=delivery_tag.0).copied().collect()
            } else {
                vec![delivery_tag.0]
            };
            for seq in settled {
                outstanding.remove(&seq);
                let event = Event::Confirmed {
                    connection: *connection,
                    channel: *channel,
                    delivery_tag: DeliveryTag(seq),
                    multiple: false,
                    ack: *ack,
                };
                out.push(LoggedEvent { at: e.at, event });
            }
        }
        Event::Returned { message, .. } if forced_mandatory.contains(message) => {
            let event = Event::Dropped { message: *message, queue: None, reason: DropReason::Unroutable };
            out.push(LoggedEvent { at: e.at, event });
        }
        _ => out.push(e),
    }
}

fn connection_of(e: &Event) -> Option<ConnectionId> {
    match e {
        Event::Confirmed { connection, .. } | Event::Returned { connection, .. } => Some(*connection),
        _ => None,
    }
}

/// A queue's own arguments with the effective values of the policy that matched it (AMQP cannot set
/// policies; `x-` arguments have the same effect for the keys a document uses).
fn with_policy(arguments: &FieldTable, queue: &str, report: &ImportReport) -> FieldTable {
    let mut out = arguments.clone();
    for applied in report.applied_policies.iter().filter(|a| a.name == queue) {
        for (k, v) in &applied.arguments {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    out
}

impl SimPort for LivePort {
    const LIVE: bool = true;

    fn import_definitions(
        &mut self,
        at: VirtualTime,
        defs: &Definitions,
    ) -> Result<ImportReport, ImportError> {
        // The engine's import validates the file and says which policy applies where.
        let mut scratch = Broker::new(BrokerConfig::default(), 0);
        let report = definitions::import(&mut scratch, at, defs)?;
        self.declare_definitions(defs, &report)?;
        Ok(report)
    }

    fn connect(&mut self, at: VirtualTime, name: &str) -> ConnectionId {
        let inner = self.inner.get_mut();
        inner.now = inner.now.max(at);
        match inner.open_conn(name, false) {
            Ok(index) => {
                let id = ConnectionId(index as u32 + 1);
                inner.emit(
                    index,
                    Instant::now(),
                    Event::ConnectionOpened { connection: id, name: name.into() },
                );
                id
            }
            Err(f) => {
                self.fail(f.0);
                ConnectionId(u32::MAX)
            }
        }
    }

    fn close_connection(&mut self, at: VirtualTime, connection: ConnectionId) {
        let Some(index) = self.index(connection) else { return };
        let inner = self.inner.get_mut();
        inner.now = inner.now.max(at);
        if let Err(f) = inner.close_conn(index) {
            self.fail(f.0);
        }
        self.settle.retain(|(c, _), _| *c != index);
        self.confirms.retain(|(c, _), _| *c != index);
    }

    fn apply(
        &mut self,
        at: VirtualTime,
        connection: ConnectionId,
        channel: ChannelNumber,
        method: Method,
    ) -> Result<Reply, AmqpError> {
        let closed = || {
            AmqpError::connection(ReplyCode::ConnectionForced, format!("connection '{connection}' is closed"))
        };
        let Some(conn) = self.index(connection) else { return Err(closed()) };
        let ch = channel.0;
        let inner = self.inner.get_mut();
        inner.now = inner.now.max(at);
        if inner.conns[conn].wire.is_none() {
            return Err(closed());
        }
        let now = Instant::now();
        {
            let chan = inner.conns[conn].channels.entry(ch).or_default();
            chan.note_pending(&method, conn);
            match &method {
                Method::BasicAck { delivery_tag, .. }
                | Method::BasicNack { delivery_tag, .. }
                | Method::BasicReject { delivery_tag, .. } => {
                    chan.unacked.remove(&delivery_tag.0);
                }
                _ => {}
            }
        }
        // The client's own acts, as the engine records them.
        let mut settled = |tag: u64| self.settle.remove(&(conn, tag));
        let event = match &method {
            Method::BasicPublish { exchange, routing_key, body, .. } => {
                if let Some((last, outstanding)) = self.confirms.get_mut(&(conn, ch)) {
                    *last += 1;
                    outstanding.insert(*last);
                }
                self.next_message += 1;
                let message = MessageId(self.next_message);
                if let Some(ids) = inner.body_ids.as_mut() {
                    ids.insert(body.clone(), message);
                }
                Some(Event::Published {
                    message,
                    connection,
                    channel,
                    exchange: exchange.as_str().into(),
                    routing_key: routing_key.clone(),
                    size: body.len(),
                })
            }
            Method::BasicAck { delivery_tag, .. } => settled(delivery_tag.0).map(|(message, queue)| {
                Event::Acked { message, queue, connection, channel, delivery_tag: *delivery_tag }
            }),
            Method::BasicNack { delivery_tag, requeue, .. } => {
                settled(delivery_tag.0).map(|(message, queue)| Event::Nacked {
                    message,
                    queue,
                    connection,
                    channel,
                    delivery_tag: *delivery_tag,
                    requeue: *requeue,
                })
            }
            Method::BasicReject { delivery_tag, requeue } => {
                settled(delivery_tag.0).map(|(message, queue)| Event::Rejected {
                    message,
                    queue,
                    connection,
                    channel,
                    delivery_tag: *delivery_tag,
                    requeue: *requeue,
                })
            }
            _ => None,
        };
        if let Some(event) = event {
            inner.emit(conn, now, event);
        }
        let method = match method {
            Method::BasicPublish {
                exchange,
                routing_key,
                mandatory: false,
                properties,
                body,
                immediate: _,
            } => {
                self.forced_mandatory.insert(MessageId(self.next_message));
                Method::BasicPublish {
                    exchange,
                    routing_key,
                    mandatory: true,
                    properties,
                    body,
                    immediate: false,
                }
            }
            other => other,
        };
        match Self::send(inner, conn, ch, &method) {
            Ok(Ok(reply)) => {
                if let (Method::BasicConsume { queue, .. }, Reply::BasicConsumeOk { consumer_tag }) =
                    (&method, &reply)
                {
                    let event = Event::ConsumerStarted {
                        connection,
                        channel,
                        queue: queue.as_str().into(),
                        consumer_tag: consumer_tag.as_str().into(),
                    };
                    inner.emit(conn, Instant::now(), event);
                }
                if matches!(method, Method::ConfirmSelect) {
                    self.confirms.entry((conn, ch)).or_default();
                }
                if let Method::ExchangeDeclare { exchange, passive: false, .. } = &method {
                    if !exchange.is_empty()
                        && !exchange.starts_with("amq.")
                        && !inner.exchanges_seen.contains(exchange)
                    {
                        inner.exchanges_seen.push(exchange.clone());
                    }
                }
                Ok(reply)
            }
            Ok(Err(e)) => Err(e),
            Err(message) => {
                self.fail(message);
                Err(closed())
            }
        }
    }

    fn drain_events_into(&mut self, out: &mut Vec<LoggedEvent>) {
        let taken = std::mem::take(&mut self.inner.get_mut().events);
        let mut events = Vec::with_capacity(taken.len());
        for e in taken {
            let conn = connection_of(&e.event).and_then(|c| self.index(c));
            translate(e, conn, &mut self.confirms, &self.forced_mandatory, &mut events);
        }
        for e in &events {
            if let Event::Delivered { connection, queue, delivery, .. } = &e.event {
                let auto_ack = delivery.consumer_tag.is_some()
                    && self.index(*connection).is_some_and(|c| {
                        let inner = self.inner.borrow();
                        let ctag = delivery.consumer_tag.as_deref().unwrap_or_default();
                        inner.conns[c]
                            .channels
                            .values()
                            .any(|ch| ch.consumers.get(ctag).is_some_and(|(_, a)| *a))
                    });
                if !auto_ack {
                    if let Some(c) = self.index(*connection) {
                        self.settle.insert((c, delivery.delivery_tag.0), (delivery.message, queue.clone()));
                    }
                }
            }
        }
        out.extend(events);
    }

    fn next_deadline(&self) -> Option<VirtualTime> {
        self.inner.borrow().events.first().map(|e| e.at)
    }

    fn advance_to(&mut self, to: VirtualTime) {
        let inner = self.inner.get_mut();
        inner.now = inner.now.max(to);
    }

    fn wait_until(&mut self, to: VirtualTime) -> VirtualTime {
        let (now, deadline, pending) = {
            let inner = self.inner.get_mut();
            (inner.now, inner.real_at(to), !inner.events.is_empty())
        };
        if pending || self.failure.is_some() {
            return now;
        }
        if !self.take_arrivals(deadline, to) {
            let inner = self.inner.get_mut();
            inner.now = inner.now.max(to);
        }
        self.inner.get_mut().now
    }

    fn restart(&mut self, _at: VirtualTime) {
        // Refused before the run (`crate::document::refusals`); never reached.
        self.fail("a broker restart cannot be simulated on a real broker".to_string());
    }

    fn queue_counts(&self, name: &str) -> Option<QueueCounts> {
        let mut inner = self.inner.borrow_mut();
        let current = *self.inspector.borrow();
        let inspector = match current {
            Some(i) if inner.conns[i].wire.is_some() => i,
            _ => {
                let i = inner.open_conn("brokerlab-inspector", true).ok()?;
                *self.inspector.borrow_mut() = Some(i);
                i
            }
        };
        let mut counts = inner.probe(inspector, name);
        let owner = inner.queues_seen.get(name).map(|f| f.owner);
        if let (Ok(Err(e)), Some(owner)) = (&counts, owner) {
            if e.code == ReplyCode::ResourceLocked && inner.conns[owner].wire.is_some() {
                // An exclusive queue: only its owner may look at it.
                counts = inner.probe(owner, name);
            }
        }
        let (ready, _consumers) = counts.ok()?.ok()?;
        let unacked = inner
            .conns
            .iter()
            .flat_map(|c| c.channels.values())
            .flat_map(|ch| ch.unacked.values())
            .filter(|q| q.as_str() == name)
            .count();
        Some(QueueCounts { ready: u64::from(ready), unacked: unacked as u64 })
    }

    fn queues(&self) -> Vec<QueueInfo> {
        let names: Vec<(String, QueueFlags)> =
            self.inner.borrow().queues_seen.iter().map(|(n, f)| (n.clone(), *f)).collect();
        let mut out = Vec::new();
        for (name, flags) in names {
            if let Some(c) = self.queue_counts(&name) {
                out.push(QueueInfo {
                    name,
                    durable: flags.durable,
                    exclusive: flags.exclusive,
                    auto_delete: flags.auto_delete,
                    messages_ready: u32::try_from(c.ready).unwrap_or(u32::MAX),
                    messages_unacknowledged: u32::try_from(c.unacked).unwrap_or(u32::MAX),
                    consumers: 0,
                });
            }
        }
        out
    }

    fn observes(&self, event_kind: &str, reason: Option<&str>) -> bool {
        // Unroutable publishes are seen through the `mandatory` flag the port sets (see `apply`).
        OBSERVED_KINDS.contains(&event_kind) || (event_kind == "dropped" && reason == Some("unroutable"))
    }

    fn take_failure(&mut self) -> Option<String> {
        self.failure.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: u64, event: Event) -> LoggedEvent {
        LoggedEvent { at: VirtualTime(millis), event }
    }

    fn confirmed(tag: u64, multiple: bool) -> Event {
        Event::Confirmed {
            connection: ConnectionId(2),
            channel: ChannelNumber(1),
            delivery_tag: DeliveryTag(tag),
            multiple,
            ack: true,
        }
    }

    #[test]
    fn a_multiple_confirm_becomes_one_per_outstanding_sequence_number() {
        let mut confirms = BTreeMap::new();
        confirms.insert((1, 1), (5, [2, 3, 4, 5].into_iter().collect::<BTreeSet<u64>>()));
        let mut out = Vec::new();
        translate(at(7, confirmed(4, true)), Some(1), &mut confirms, &BTreeSet::new(), &mut out);
        translate(at(8, confirmed(5, false)), Some(1), &mut confirms, &BTreeSet::new(), &mut out);
        let tags: Vec<(u64, u64, bool)> = out
            .iter()
            .map(|e| match &e.event {
                Event::Confirmed { delivery_tag, multiple, .. } => (e.at.0, delivery_tag.0, *multiple),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(tags, [(7, 2, false), (7, 3, false), (7, 4, false), (8, 5, false)]);
        assert!(confirms[&(1, 1)].1.is_empty());
        // A channel not in confirm mode (unknown to the port) passes the event through.
        let mut out = Vec::new();
        translate(at(9, confirmed(1, true)), Some(3), &mut confirms, &BTreeSet::new(), &mut out);
        assert_eq!(out, [at(9, confirmed(1, true))]);
    }

    #[test]
    fn the_return_of_a_publish_made_mandatory_by_the_port_is_an_unroutable_drop() {
        let returned = |m: u64| Event::Returned {
            message: MessageId(m),
            connection: ConnectionId(2),
            channel: ChannelNumber(1),
            reply_code: 312,
            reply_text: "NO_ROUTE".to_string(),
            exchange: "logs".into(),
            routing_key: String::new(),
        };
        let forced: BTreeSet<MessageId> = [MessageId(1)].into_iter().collect();
        let mut out = Vec::new();
        translate(at(5, returned(1)), Some(1), &mut BTreeMap::new(), &forced, &mut out);
        translate(at(6, returned(2)), Some(1), &mut BTreeMap::new(), &forced, &mut out);
        assert_eq!(
            out,
            [
                at(5, Event::Dropped { message: MessageId(1), queue: None, reason: DropReason::Unroutable }),
                at(6, returned(2)),
            ]
        );
    }
}
