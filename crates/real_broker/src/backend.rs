//! [`RealBackend`]: a format-1 scenario's steps sent to a real RabbitMQ, as a
//! [`StepBackend`](broker_core::scenario::StepBackend), so the engine's own interpreter (variables,
//! pika's argument rules, channel numbering) drives it.
//!
//! Virtual time becomes real time: the step at virtual time `T` runs at `start + T + lag`. `lag` grows
//! only where the engine fired a timer (a TTL, a queue expiry) just before `T`: there the runner first
//! catches up with the largest overrun of any earlier instant (real steps take time, so RabbitMQ's timers
//! started later than the engine's) plus a margin, so RabbitMQ's own timer has fired too. Elsewhere the
//! schedule is absolute, so a step the engine runs just *before* a timer also runs before it on the broker.
//!
//! What the client sees is recorded as engine events (`delivered`, `get`, `get_empty`, `returned`,
//! `confirmed`, channel and connection opens and closes, broker-side consumer cancels). What only the
//! broker sees (routing, enqueueing, expiry, dead-lettering) is not observable over AMQP and is absent.
//!
//! # Invariants
//! - `conns[i]` is the connection `ConnectionId(i + 1)`; the inspection connection (opened for the end
//!   counters) comes after every scenario connection and records no events.
//! - A channel's `unacked` holds the delivery tags the client received and has not settled, with their
//!   queue; it is emptied when the channel closes (the broker requeues them).
//! - `now` never goes back; `lag` never shrinks.

use crate::convert::{self, broker_error, outgoing};
use crate::wire::{Arrival, Inbound, Wire};
use amq_protocol::protocol::{basic, channel, confirm, connection, exchange, queue, tx, AMQPClass};
use amq_protocol::uri::AMQPUri;
use broker_core::amqp::{
    AmqpError, CancelReason, ChannelNumber, ConnectionId, Delivery, DeliveryTag, ErrorScope, Event,
    LoggedEvent, MessageId, Method, QueueInfo, Reply, ReplyCode,
};
use broker_core::clock::VirtualTime;
use broker_core::scenario::{AdvanceStop, BackendFailure, StepBackend};
use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

pub mod live;

/// How a real run paces itself.
#[derive(Clone, Debug)]
pub struct RealOptions {
    /// Instants at which the engine fired a timer (from an engine run of the same scenario).
    pub timer_instants: Vec<VirtualTime>,
    /// After each step, frames are collected until none arrived for this long.
    pub quiet: Duration,
    /// ... but for at most this long.
    pub settle_max: Duration,
    /// Extra wait before a step that follows an engine timer.
    pub timer_margin: Duration,
    /// How near (in virtual time) a timer must be to the step for the margin to apply.
    pub timer_window_millis: u64,
    /// How long to wait for a synchronous reply or a connection.
    pub reply_timeout: Duration,
    /// For each call the scenario makes (connect, close, channel method), in order: its virtual instant and
    /// how many deliveries, returns and broker cancels the engine saw it cause (see [`crate::expected_arrivals`]).
    /// After such a call the backend waits up to `settle_max` for that many before the `quiet` window
    /// starts, so a broker slowed by a loaded machine is not read as one that sent nothing. It only
    /// lengthens waits: what the broker sends, and when, is still what is compared.
    pub expected_arrivals: Vec<(VirtualTime, usize)>,
}

impl Default for RealOptions {
    fn default() -> Self {
        RealOptions {
            timer_instants: Vec::new(),
            quiet: Duration::from_millis(4),
            settle_max: Duration::from_millis(300),
            timer_margin: Duration::from_millis(40),
            timer_window_millis: 50,
            reply_timeout: Duration::from_secs(5),
            expected_arrivals: Vec::new(),
        }
    }
}

#[derive(Default)]
struct Chan {
    open: bool,
    /// Consumer tag -> (queue, auto_ack).
    consumers: BTreeMap<String, (String, bool)>,
    /// Delivery tag -> queue, for deliveries not yet acked, nacked or rejected.
    unacked: BTreeMap<u64, String>,
    pending_consume: Option<(String, bool)>,
    pending_get: Option<(String, bool)>,
    pending_declare: Option<QueueFlags>,
    /// The queue of the channel's latest `queue.declare-ok`: what RabbitMQ reads an empty queue name as.
    last_declared: String,
}

impl Chan {
    /// Notes what a consume, get or queue.declare about to be sent will need to read its reply.
    fn note_pending(&mut self, method: &Method, owner: usize) {
        let named =
            |queue: &String| if queue.is_empty() { self.last_declared.clone() } else { queue.clone() };
        match method {
            Method::BasicConsume { queue, auto_ack, .. } => {
                self.pending_consume = Some((named(queue), *auto_ack))
            }
            Method::BasicGet { queue, auto_ack } => self.pending_get = Some((named(queue), *auto_ack)),
            Method::QueueDeclare { durable, exclusive, auto_delete, passive, .. } => {
                self.pending_declare = Some(QueueFlags {
                    durable: *durable,
                    exclusive: *exclusive,
                    auto_delete: *auto_delete,
                    passive: *passive,
                    owner,
                })
            }
            _ => {}
        }
    }
}

struct Conn {
    wire: Option<Wire>,
    channels: BTreeMap<u16, Chan>,
    /// The inspection connection: no events.
    hidden: bool,
    /// We sent connection.close and wait for close-ok.
    closing: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct QueueFlags {
    durable: bool,
    exclusive: bool,
    auto_delete: bool,
    passive: bool,
    owner: usize,
}

/// What an arrival means to a step waiting on a channel.
enum Signal {
    Reply(usize, u16, Reply),
    ChannelClosed(usize, u16, AmqpError),
    ConnectionClosed(usize, AmqpError),
    Other,
}

/// A scenario's steps on a real RabbitMQ.
pub struct RealBackend {
    uri: AMQPUri,
    options: RealOptions,
    tx: Sender<Arrival>,
    rx: Receiver<Arrival>,
    conns: Vec<Conn>,
    events: Vec<LoggedEvent>,
    start: Instant,
    lag: Duration,
    /// The largest overrun of any instant so far (see `advance`).
    overrun: Duration,
    now: VirtualTime,
    /// While time advances: the virtual interval that arrivals are mapped into.
    advancing: Option<(VirtualTime, VirtualTime)>,
    /// Published bodies, in order: message ids are recovered by body.
    bodies: Vec<Vec<u8>>,
    queues_seen: BTreeMap<String, QueueFlags>,
    exchanges_seen: Vec<String>,
    /// Virtual milliseconds per real millisecond (1 for format-1 runs; `--speed` for documents).
    speed: u64,
    /// Documents: message ids by body, the latest publish of a body winning (see `live`).
    body_ids: Option<BTreeMap<Vec<u8>, MessageId>>,
    /// Deliveries, returns and broker cancels seen so far (see [`RealOptions::expected_arrivals`]).
    arrivals: usize,
    /// How many of `options.expected_arrivals` the calls so far used.
    calls: usize,
    /// `arrivals` when the current call began, and how many more the engine saw it cause.
    call_arrivals: (usize, usize),
}

/// What the broker sends of its own accord after a call: a delivery to a consumer, a returned message, a
/// consumer cancelled because its queue went (not `basic.get-ok`, a reply; not confirms, which RabbitMQ
/// may coalesce with `multiple`).
pub(crate) fn is_arrival(event: &Event) -> bool {
    match event {
        Event::Delivered { delivery, .. } => delivery.consumer_tag.is_some(),
        Event::Returned { .. } => true,
        Event::ConsumerCancelled { reason, .. } => *reason == CancelReason::QueueDeleted,
        _ => false,
    }
}

fn failure(message: impl Into<String>) -> BackendFailure {
    BackendFailure(message.into())
}

/// Parses an `amqp://user:pass@host:port/vhost` URI (the vhost percent-encoded: `%2f` is `/`).
pub fn parse_uri(uri: &str) -> Result<AMQPUri, String> {
    if !uri.starts_with("amqp://") {
        return Err(format!("'{uri}': only amqp:// URIs are supported (no TLS in this version)"));
    }
    uri.parse::<AMQPUri>().map_err(|e| format!("'{uri}' is not an AMQP URI: {e}"))
}

impl RealBackend {
    /// A backend for the broker at `uri`; nothing is connected until the scenario's first `connect`.
    pub fn new(uri: &str, options: RealOptions) -> Result<RealBackend, String> {
        let uri = parse_uri(uri)?;
        let (tx, rx) = mpsc::channel();
        Ok(RealBackend {
            uri,
            options,
            tx,
            rx,
            conns: Vec::new(),
            events: Vec::new(),
            start: Instant::now(),
            lag: Duration::ZERO,
            overrun: Duration::ZERO,
            now: VirtualTime::ZERO,
            advancing: None,
            bodies: Vec::new(),
            queues_seen: BTreeMap::new(),
            exchanges_seen: Vec::new(),
            speed: 1,
            body_ids: None,
            arrivals: 0,
            calls: 0,
            call_arrivals: (0, 0),
        })
    }

    /// The names of the queues and exchanges the run declared (for clean-up).
    pub fn declared(&self) -> (Vec<String>, Vec<String>) {
        let queues = self.queues_seen.iter().filter(|(_, f)| !f.passive).map(|(q, _)| q.clone()).collect();
        (queues, self.exchanges_seen.clone())
    }

    /// Closes every connection still open (the end of a run).
    pub fn close_all(&mut self) {
        for i in 0..self.conns.len() {
            if self.conns[i].wire.is_some() {
                let _ = self.close_conn(i);
            }
        }
    }

    fn real_at(&self, v: VirtualTime) -> Instant {
        self.start + Duration::from_micros(v.as_millis().saturating_mul(1000) / self.speed) + self.lag
    }

    fn event_time(&self, arrived: Instant) -> VirtualTime {
        match self.advancing {
            None => self.now,
            Some((from, to)) => {
                let elapsed = arrived.saturating_duration_since(self.start + self.lag).as_micros();
                let v = u64::try_from(elapsed * u128::from(self.speed) / 1000).unwrap_or(u64::MAX);
                VirtualTime::from_millis(v.clamp(from.as_millis(), to.as_millis()))
            }
        }
    }

    fn emit(&mut self, conn: usize, at: Instant, event: Event) {
        if !self.conns[conn].hidden {
            if is_arrival(&event) {
                self.arrivals += 1;
            }
            let at = self.event_time(at);
            self.events.push(LoggedEvent { at, event });
        }
    }

    fn message_id(&self, body: &[u8]) -> MessageId {
        if let Some(ids) = &self.body_ids {
            return ids.get(body).copied().unwrap_or(MessageId(0));
        }
        let mut matches = self.bodies.iter().enumerate().filter(|(_, b)| b.as_slice() == body);
        match (matches.next(), matches.next()) {
            (Some((i, _)), None) => MessageId(i as u64 + 1),
            _ => MessageId(0),
        }
    }

    fn send(&mut self, conn: usize, channel: u16, class: AMQPClass) -> Result<(), BackendFailure> {
        match self.conns[conn].wire.as_mut() {
            Some(wire) => wire.send_method(channel, class).map_err(failure),
            None => Ok(()),
        }
    }

    /// Handles one arrival: bookkeeping, events, and what it means to a waiting step.
    fn absorb(&mut self, arrival: Arrival) -> Result<Signal, BackendFailure> {
        let Arrival { conn, at, inbound } = arrival;
        let id = ConnectionId(conn as u32 + 1);
        match inbound {
            Inbound::Gone(reason) => {
                let Some(wire) = self.conns[conn].wire.take() else { return Ok(Signal::Other) };
                wire.shutdown();
                if self.conns[conn].closing {
                    return Ok(Signal::Other);
                }
                self.conns[conn].channels.clear();
                let error =
                    AmqpError::connection(ReplyCode::ConnectionForced, format!("socket closed: {reason}"));
                self.emit(conn, at, Event::ConnectionClosed { connection: id, error: Some(error.clone()) });
                Ok(Signal::ConnectionClosed(conn, error))
            }
            Inbound::Content(ch, class, props, body) => {
                let properties = convert::from_amqp_properties(&props);
                let message = self.message_id(&body);
                let number = ChannelNumber(ch);
                let chan = self.conns[conn].channels.entry(ch).or_default();
                match class {
                    AMQPClass::Basic(basic::AMQPMethod::Deliver(d)) => {
                        let ctag = d.consumer_tag.as_str().to_string();
                        let (queue, auto_ack) = chan.consumers.get(&ctag).cloned().unwrap_or_default();
                        if !auto_ack {
                            chan.unacked.insert(d.delivery_tag, queue.clone());
                        }
                        let delivery = Delivery {
                            message,
                            delivery_tag: DeliveryTag(d.delivery_tag),
                            redelivered: d.redelivered,
                            exchange: d.exchange.as_str().to_string(),
                            routing_key: d.routing_key.as_str().to_string(),
                            consumer_tag: Some(ctag),
                            message_count: None,
                            properties,
                            body,
                        };
                        let event = Event::Delivered {
                            connection: id,
                            channel: number,
                            queue: queue.as_str().into(),
                            delivery: Box::new(delivery),
                        };
                        self.emit(conn, at, event);
                        Ok(Signal::Other)
                    }
                    AMQPClass::Basic(basic::AMQPMethod::GetOk(g)) => {
                        let (queue, no_ack) = chan.pending_get.take().unwrap_or_default();
                        if !no_ack {
                            chan.unacked.insert(g.delivery_tag, queue.clone());
                        }
                        let delivery = Delivery {
                            message,
                            delivery_tag: DeliveryTag(g.delivery_tag),
                            redelivered: g.redelivered,
                            exchange: g.exchange.as_str().to_string(),
                            routing_key: g.routing_key.as_str().to_string(),
                            consumer_tag: None,
                            message_count: Some(g.message_count),
                            properties,
                            body,
                        };
                        let event = Event::Delivered {
                            connection: id,
                            channel: number,
                            queue: queue.as_str().into(),
                            delivery: Box::new(delivery.clone()),
                        };
                        self.emit(conn, at, event);
                        Ok(Signal::Reply(conn, ch, Reply::BasicGetOk(Box::new(delivery))))
                    }
                    AMQPClass::Basic(basic::AMQPMethod::Return(r)) => {
                        let event = Event::Returned {
                            message,
                            connection: id,
                            channel: number,
                            reply_code: r.reply_code,
                            reply_text: r.reply_text.as_str().to_string(),
                            exchange: r.exchange.as_str().into(),
                            routing_key: r.routing_key.as_str().to_string(),
                        };
                        self.emit(conn, at, event);
                        Ok(Signal::Other)
                    }
                    _ => Ok(Signal::Other),
                }
            }
            Inbound::Method(ch, class) => self.absorb_method(conn, at, ch, class),
        }
    }

    fn absorb_method(
        &mut self,
        conn: usize,
        at: Instant,
        ch: u16,
        class: AMQPClass,
    ) -> Result<Signal, BackendFailure> {
        let id = ConnectionId(conn as u32 + 1);
        let number = ChannelNumber(ch);
        let reply = |r: Reply| Ok(Signal::Reply(conn, ch, r));
        match class {
            AMQPClass::Connection(connection::AMQPMethod::Close(close)) => {
                let error = broker_error(ErrorScope::Connection, close.reply_code, close.reply_text.as_str());
                let _ = self.send(
                    conn,
                    0,
                    AMQPClass::Connection(connection::AMQPMethod::CloseOk(connection::CloseOk {})),
                );
                if let Some(wire) = self.conns[conn].wire.take() {
                    wire.shutdown();
                }
                self.conns[conn].channels.clear();
                self.emit(conn, at, Event::ConnectionClosed { connection: id, error: Some(error.clone()) });
                Ok(Signal::ConnectionClosed(conn, error))
            }
            AMQPClass::Connection(connection::AMQPMethod::CloseOk(_)) => reply(Reply::None),
            AMQPClass::Channel(channel::AMQPMethod::Close(close)) => {
                let error = broker_error(ErrorScope::Channel, close.reply_code, close.reply_text.as_str());
                self.send(conn, ch, AMQPClass::Channel(channel::AMQPMethod::CloseOk(channel::CloseOk {})))?;
                self.conns[conn].channels.remove(&ch);
                let event =
                    Event::ChannelClosed { connection: id, channel: number, error: Some(error.clone()) };
                self.emit(conn, at, event);
                Ok(Signal::ChannelClosed(conn, ch, error))
            }
            AMQPClass::Channel(channel::AMQPMethod::OpenOk(_)) => {
                self.conns[conn].channels.entry(ch).or_default().open = true;
                self.emit(conn, at, Event::ChannelOpened { connection: id, channel: number });
                reply(Reply::ChannelOpenOk { channel: number })
            }
            AMQPClass::Channel(channel::AMQPMethod::CloseOk(_)) => {
                self.conns[conn].channels.remove(&ch);
                self.emit(conn, at, Event::ChannelClosed { connection: id, channel: number, error: None });
                reply(Reply::ChannelCloseOk)
            }
            AMQPClass::Channel(channel::AMQPMethod::Flow(flow)) => {
                let ok = channel::FlowOk { active: flow.active };
                self.send(conn, ch, AMQPClass::Channel(channel::AMQPMethod::FlowOk(ok)))?;
                Ok(Signal::Other)
            }
            AMQPClass::Confirm(confirm::AMQPMethod::SelectOk(_)) => reply(Reply::ConfirmSelectOk),
            AMQPClass::Tx(tx::AMQPMethod::SelectOk(_)) => reply(Reply::TxSelectOk),
            AMQPClass::Tx(tx::AMQPMethod::CommitOk(_)) => reply(Reply::TxCommitOk),
            AMQPClass::Tx(tx::AMQPMethod::RollbackOk(_)) => reply(Reply::TxRollbackOk),
            AMQPClass::Exchange(exchange::AMQPMethod::DeclareOk(_)) => reply(Reply::ExchangeDeclareOk),
            AMQPClass::Exchange(exchange::AMQPMethod::DeleteOk(_)) => reply(Reply::ExchangeDeleteOk),
            AMQPClass::Exchange(exchange::AMQPMethod::BindOk(_)) => reply(Reply::ExchangeBindOk),
            AMQPClass::Exchange(exchange::AMQPMethod::UnbindOk(_)) => reply(Reply::ExchangeUnbindOk),
            AMQPClass::Queue(queue::AMQPMethod::DeclareOk(ok)) => {
                let name = ok.queue.as_str().to_string();
                let chan = self.conns[conn].channels.entry(ch).or_default();
                chan.last_declared = name.clone();
                // Direct reply-to's pseudo-queue answers a declare but is no queue (the engine lists none).
                let pending = chan.pending_declare.take().filter(|_| name != "amq.rabbitmq.reply-to");
                if let Some(flags) = pending {
                    let hidden = self.conns[conn].hidden;
                    let known = self.queues_seen.get(&name).is_some_and(|f| !f.passive);
                    if !(hidden || known && flags.passive) {
                        self.queues_seen.insert(name.clone(), flags);
                    }
                }
                reply(Reply::QueueDeclareOk {
                    queue: name,
                    message_count: ok.message_count,
                    consumer_count: ok.consumer_count,
                })
            }
            AMQPClass::Queue(queue::AMQPMethod::BindOk(_)) => reply(Reply::QueueBindOk),
            AMQPClass::Queue(queue::AMQPMethod::UnbindOk(_)) => reply(Reply::QueueUnbindOk),
            AMQPClass::Queue(queue::AMQPMethod::PurgeOk(ok)) => {
                reply(Reply::QueuePurgeOk { message_count: ok.message_count })
            }
            AMQPClass::Queue(queue::AMQPMethod::DeleteOk(ok)) => {
                reply(Reply::QueueDeleteOk { message_count: ok.message_count })
            }
            AMQPClass::Basic(basic::AMQPMethod::QosOk(_)) => reply(Reply::BasicQosOk),
            AMQPClass::Basic(basic::AMQPMethod::ConsumeOk(ok)) => {
                let ctag = ok.consumer_tag.as_str().to_string();
                let chan = self.conns[conn].channels.entry(ch).or_default();
                if let Some(pending) = chan.pending_consume.take() {
                    chan.consumers.insert(ctag.clone(), pending);
                }
                reply(Reply::BasicConsumeOk { consumer_tag: ctag })
            }
            AMQPClass::Basic(basic::AMQPMethod::CancelOk(ok)) => {
                let ctag = ok.consumer_tag.as_str().to_string();
                self.conns[conn].channels.entry(ch).or_default().consumers.remove(&ctag);
                reply(Reply::BasicCancelOk { consumer_tag: ctag })
            }
            AMQPClass::Basic(basic::AMQPMethod::Cancel(cancel)) => {
                // The broker cancelled a consumer (its queue was deleted).
                let ctag = cancel.consumer_tag.as_str().to_string();
                let removed = self.conns[conn].channels.entry(ch).or_default().consumers.remove(&ctag);
                let queue = removed.map(|(q, _)| q).unwrap_or_default();
                let event = Event::ConsumerCancelled {
                    connection: id,
                    channel: number,
                    queue: queue.as_str().into(),
                    consumer_tag: ctag.as_str().into(),
                    reason: CancelReason::QueueDeleted,
                };
                self.emit(conn, at, event);
                Ok(Signal::Other)
            }
            AMQPClass::Basic(basic::AMQPMethod::GetEmpty(_)) => {
                let chan = self.conns[conn].channels.entry(ch).or_default();
                let queue = chan.pending_get.take().map(|(q, _)| q).unwrap_or_default();
                let event = Event::GetEmpty { connection: id, channel: number, queue: queue.as_str().into() };
                self.emit(conn, at, event);
                reply(Reply::BasicGetEmpty)
            }
            AMQPClass::Basic(basic::AMQPMethod::RecoverOk(_)) => reply(Reply::BasicRecoverOk),
            AMQPClass::Basic(basic::AMQPMethod::Ack(ack)) => {
                let event = Event::Confirmed {
                    connection: id,
                    channel: number,
                    delivery_tag: DeliveryTag(ack.delivery_tag),
                    multiple: ack.multiple,
                    ack: true,
                };
                self.emit(conn, at, event);
                Ok(Signal::Other)
            }
            AMQPClass::Basic(basic::AMQPMethod::Nack(nack)) => {
                let event = Event::Confirmed {
                    connection: id,
                    channel: number,
                    delivery_tag: DeliveryTag(nack.delivery_tag),
                    multiple: nack.multiple,
                    ack: false,
                };
                self.emit(conn, at, event);
                Ok(Signal::Other)
            }
            _ => Ok(Signal::Other),
        }
    }

    /// Waits for the answer to a synchronous method on `(conn, ch)`, handling everything else on the way.
    fn await_reply(
        &mut self,
        conn: usize,
        ch: u16,
        what: &str,
    ) -> Result<Result<Reply, AmqpError>, BackendFailure> {
        let deadline = Instant::now() + self.options.reply_timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let arrival = match self.rx.recv_timeout(left) {
                Ok(a) => a,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(failure(format!(
                        "no answer from the broker to {what} within {} s",
                        self.options.reply_timeout.as_secs()
                    )))
                }
                Err(RecvTimeoutError::Disconnected) => return Err(failure("the reader threads stopped")),
            };
            match self.absorb(arrival)? {
                Signal::Reply(c, n, r) if c == conn && n == ch => return Ok(Ok(r)),
                Signal::ChannelClosed(c, n, e) if c == conn && n == ch => return Ok(Err(e)),
                Signal::ConnectionClosed(c, e) if c == conn => return Ok(Err(e)),
                _ => {}
            }
        }
    }

    /// A call of the scenario begins at `at`: how many arrivals the engine saw the matching call cause.
    fn begin_call(&mut self, at: VirtualTime) {
        let expected = match self.options.expected_arrivals.get(self.calls) {
            Some((when, n)) if *when == at => *n,
            _ => 0,
        };
        self.calls += 1;
        self.call_arrivals = (self.arrivals, expected);
    }

    /// Collects arrivals until none came for `quiet` (and, first, until the arrivals the engine saw this
    /// call cause have come); returns an error that closed `(conn, ch)` meanwhile. Bounded by `settle_max`.
    fn settle(&mut self, watch: Option<(usize, u16)>) -> Result<Option<AmqpError>, BackendFailure> {
        let begin = Instant::now();
        let mut closed = None;
        while begin.elapsed() < self.options.settle_max {
            let (base, expected) = self.call_arrivals;
            let wait = if self.arrivals - base < expected {
                self.options.settle_max.saturating_sub(begin.elapsed())
            } else {
                self.options.quiet
            };
            match self.rx.recv_timeout(wait) {
                Ok(arrival) => match (self.absorb(arrival)?, watch) {
                    (Signal::ChannelClosed(c, n, e), Some((wc, wn))) if c == wc && n == wn => {
                        closed = Some(e)
                    }
                    (Signal::ConnectionClosed(c, e), Some((wc, _))) if c == wc => closed = Some(e),
                    _ => {}
                },
                Err(_) => break,
            }
        }
        Ok(closed)
    }

    fn close_conn(&mut self, conn: usize) -> Result<(), BackendFailure> {
        if self.conns[conn].wire.is_none() {
            return Ok(());
        }
        self.conns[conn].closing = true;
        let close = connection::Close {
            reply_code: 200,
            reply_text: "Normal shutdown".into(),
            class_id: 0,
            method_id: 0,
        };
        self.send(conn, 0, AMQPClass::Connection(connection::AMQPMethod::Close(close)))?;
        let result = self.await_reply(conn, 0, "connection.close")?;
        if let Some(wire) = self.conns[conn].wire.take() {
            wire.shutdown();
        }
        self.conns[conn].channels.clear();
        if result.is_ok() {
            let at = Instant::now();
            self.emit(
                conn,
                at,
                Event::ConnectionClosed { connection: ConnectionId(conn as u32 + 1), error: None },
            );
        }
        Ok(())
    }

    fn open_conn(&mut self, name: &str, hidden: bool) -> Result<usize, BackendFailure> {
        let index = self.conns.len();
        let wire =
            Wire::open(&self.uri, name, index, self.tx.clone(), self.options.reply_timeout).map_err(|e| {
                failure(format!(
                    "cannot open a connection to the broker at {}:{}: {e}",
                    self.uri.authority.host, self.uri.authority.port
                ))
            })?;
        self.conns.push(Conn { wire: Some(wire), channels: BTreeMap::new(), hidden, closing: false });
        Ok(index)
    }

    /// Deletes `queues` and `exchanges` (missing ones are fine) over a hidden connection of its own.
    pub fn delete_all(&mut self, queues: &[String], exchanges: &[String]) -> Result<(), BackendFailure> {
        let conn = self.open_conn("brokerlab-cleanup", true)?;
        let mut methods: Vec<AMQPClass> = queues
            .iter()
            .map(|q| {
                AMQPClass::Queue(queue::AMQPMethod::Delete(queue::Delete {
                    queue: q.as_str().into(),
                    if_unused: false,
                    if_empty: false,
                    nowait: false,
                }))
            })
            .collect();
        methods.extend(exchanges.iter().map(|x| {
            AMQPClass::Exchange(exchange::AMQPMethod::Delete(exchange::Delete {
                exchange: x.as_str().into(),
                if_unused: false,
                nowait: false,
            }))
        }));
        for class in methods {
            if self.conns[conn].wire.is_none() {
                return Err(failure("the broker closed the clean-up connection"));
            }
            let ch = 1;
            if !self.conns[conn].channels.get(&ch).is_some_and(|c| c.open) {
                self.send(conn, ch, AMQPClass::Channel(channel::AMQPMethod::Open(channel::Open {})))?;
                self.await_reply(conn, ch, "channel.open")?.map_err(|e| failure(e.to_string()))?;
            }
            self.send(conn, ch, class)?;
            // A refusal (e.g. an exclusive queue of someone else) closes the channel; it reopens above.
            let _ = self.await_reply(conn, ch, "a clean-up delete")?;
        }
        self.close_conn(conn)
    }

    /// A passive declare of `queue` on a fresh channel of `conn`: its ready and consumer counts.
    fn probe(&mut self, conn: usize, queue: &str) -> Result<Result<(u32, u32), AmqpError>, BackendFailure> {
        // From the top of RabbitMQ's default channel_max down, away from the scenario's own channels.
        let ch = (1..=2047u16).rev().find(|n| !self.conns[conn].channels.contains_key(n)).unwrap_or(2047);
        self.send(conn, ch, AMQPClass::Channel(channel::AMQPMethod::Open(channel::Open {})))?;
        if let Err(e) = self.await_reply(conn, ch, "channel.open")? {
            return Ok(Err(e));
        }
        let declare = queue::Declare {
            queue: queue.into(),
            passive: true,
            durable: false,
            exclusive: false,
            auto_delete: false,
            nowait: false,
            arguments: Default::default(),
        };
        self.send(conn, ch, AMQPClass::Queue(queue::AMQPMethod::Declare(declare)))?;
        let counts = match self.await_reply(conn, ch, "queue.declare")? {
            Ok(Reply::QueueDeclareOk { message_count, consumer_count, .. }) => {
                Ok((message_count, consumer_count))
            }
            Ok(other) => return Err(failure(format!("unexpected answer to a passive declare: {other:?}"))),
            Err(e) => return Ok(Err(e)),
        };
        let close = channel::Close {
            reply_code: 200,
            reply_text: "Normal shutdown".into(),
            class_id: 0,
            method_id: 0,
        };
        self.send(conn, ch, AMQPClass::Channel(channel::AMQPMethod::Close(close)))?;
        self.await_reply(conn, ch, "channel.close")?.map_err(|e| failure(e.to_string()))?;
        Ok(counts)
    }
}

impl StepBackend for RealBackend {
    fn connect(&mut self, at: VirtualTime, name: &str) -> Result<ConnectionId, BackendFailure> {
        self.now = at;
        self.begin_call(at);
        let index = self.open_conn(name, false)?;
        let id = ConnectionId(index as u32 + 1);
        self.emit(index, Instant::now(), Event::ConnectionOpened { connection: id, name: name.into() });
        self.settle(None)?;
        Ok(id)
    }

    fn close_connection(&mut self, at: VirtualTime, connection: ConnectionId) -> Result<(), BackendFailure> {
        self.now = at;
        self.begin_call(at);
        let Some(index) = (connection.0 as usize).checked_sub(1).filter(|i| *i < self.conns.len()) else {
            return Ok(());
        };
        self.close_conn(index)?;
        self.settle(None)?;
        Ok(())
    }

    fn apply(
        &mut self,
        at: VirtualTime,
        connection: ConnectionId,
        channel: ChannelNumber,
        method: Method,
    ) -> Result<Result<Reply, AmqpError>, BackendFailure> {
        self.now = at;
        self.begin_call(at);
        // A client cannot encode a short string over 255 bytes: refused before sending, as pika does
        // (`ShortStringTooLong`); the encoder would panic (debug) or write a corrupt frame.
        method.check_short_strings().map_err(|e| failure(e.to_string()))?;
        let conn = (connection.0 as usize)
            .checked_sub(1)
            .filter(|i| *i < self.conns.len())
            .ok_or_else(|| failure(format!("no connection {connection}")))?;
        if self.conns[conn].wire.is_none() {
            // As the engine answers: a real client cannot send on a closed socket.
            return Ok(Err(AmqpError::connection(
                ReplyCode::ConnectionForced,
                format!("connection '{connection}' is closed"),
            )));
        }
        let ch = channel.0;
        let was_open = self.conns[conn].channels.get(&ch).is_some_and(|c| c.open);
        {
            let chan = self.conns[conn].channels.entry(ch).or_default();
            chan.note_pending(&method, conn);
            // RabbitMQ requeues every unacked delivery on recover, whatever `requeue` says.
            if let Method::BasicRecover { .. } = method {
                chan.unacked.clear();
            }
        }
        if let Method::BasicPublish { body, .. } = &method {
            self.bodies.push(body.clone());
        }
        let out = outgoing(&method);
        let what = method.amqp_name();
        let sent = match (self.conns[conn].wire.as_mut(), out.content) {
            (Some(wire), Some((props, body))) => wire.send_content(ch, out.class, props, &body),
            (Some(wire), None) => wire.send_method_with_prefetch_size(ch, out.class, out.prefetch_size),
            (None, _) => Ok(()),
        };
        sent.map_err(failure)?;
        let result = if out.synchronous {
            self.await_reply(conn, ch, what)?
        } else if was_open {
            // A round trip on the same channel: RabbitMQ has handled the asynchronous method (and closed
            // the channel if it failed) before it answers this passive declare of a built-in exchange.
            let barrier = exchange::Declare {
                exchange: "amq.direct".into(),
                kind: "direct".into(),
                passive: true,
                durable: false,
                auto_delete: false,
                internal: false,
                nowait: false,
                arguments: Default::default(),
            };
            self.send(conn, ch, AMQPClass::Exchange(exchange::AMQPMethod::Declare(barrier)))?;
            self.await_reply(conn, ch, "the barrier after an asynchronous method")?.map(|_| Reply::None)
        } else {
            // On a channel that is not open the broker closes the connection; see whether it did.
            match self.settle(Some((conn, ch)))? {
                Some(e) => Err(e),
                None => Ok(Reply::None),
            }
        };
        if result.is_ok() {
            let chan = self.conns[conn].channels.entry(ch).or_default();
            match &method {
                Method::BasicAck { delivery_tag, multiple }
                | Method::BasicNack { delivery_tag, multiple, .. } => {
                    if *multiple {
                        let tag = if delivery_tag.0 == 0 { u64::MAX } else { delivery_tag.0 };
                        chan.unacked.retain(|t, _| *t > tag);
                    } else {
                        chan.unacked.remove(&delivery_tag.0);
                    }
                }
                Method::BasicReject { delivery_tag, .. } => {
                    chan.unacked.remove(&delivery_tag.0);
                }
                Method::ExchangeDeclare { exchange, passive: false, .. }
                    if !exchange.is_empty()
                        && !exchange.starts_with("amq.")
                        && !self.exchanges_seen.contains(exchange) =>
                {
                    self.exchanges_seen.push(exchange.clone());
                }
                _ => {}
            }
        }
        // Deliveries, returns and confirms the step caused; a close that comes now shows as an event.
        self.settle(Some((conn, ch)))?;
        Ok(result)
    }

    fn advance(&mut self, to: VirtualTime, _max_timer_firings: u64) -> Result<(), AdvanceStop> {
        let window = self.options.timer_window_millis;
        let near_timer = self
            .options
            .timer_instants
            .iter()
            .any(|t| *t > self.now && *t <= to && to.as_millis() - t.as_millis() <= window);
        // How far behind the plain schedule (`start + now`) the steps at this instant finished: a timer
        // a step set here started that much later on the broker than in the engine.
        let overrun = Instant::now()
            .saturating_duration_since(self.start + Duration::from_millis(self.now.as_millis()));
        self.overrun = self.overrun.max(overrun);
        if near_timer {
            self.lag = self.lag.max(self.overrun + self.options.timer_margin);
        }
        let target = self.real_at(to);
        self.advancing = Some((self.now, to));
        loop {
            let left = target.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self.rx.recv_timeout(left) {
                Ok(arrival) => {
                    if let Err(f) = self.absorb(arrival) {
                        self.advancing = None;
                        return Err(AdvanceStop::Failure(f));
                    }
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(left),
            }
        }
        self.advancing = None;
        self.now = to;
        Ok(())
    }

    fn take_events(&mut self) -> Vec<LoggedEvent> {
        std::mem::take(&mut self.events)
    }

    fn queues(&mut self) -> Vec<QueueInfo> {
        let names: Vec<(String, QueueFlags)> =
            self.queues_seen.iter().map(|(n, f)| (n.clone(), *f)).collect();
        if names.is_empty() {
            return Vec::new();
        }
        let Ok(inspector) = self.open_conn("brokerlab-inspector", true) else { return Vec::new() };
        let mut out = Vec::new();
        for (name, flags) in names {
            let mut counts = self.probe(inspector, &name);
            if matches!(&counts, Ok(Err(e)) if e.code == ReplyCode::ResourceLocked)
                && self.conns[flags.owner].wire.is_some()
            {
                // An exclusive queue: only its owner connection may look at it.
                counts = self.probe(flags.owner, &name);
            }
            if self.conns[inspector].wire.is_none() {
                break;
            }
            let Ok(Ok((ready, consumers))) = counts else { continue };
            let unacked = self
                .conns
                .iter()
                .flat_map(|c| c.channels.values())
                .flat_map(|ch| ch.unacked.values())
                .filter(|q| **q == name)
                .count();
            out.push(QueueInfo {
                name,
                durable: flags.durable,
                exclusive: flags.exclusive,
                auto_delete: flags.auto_delete,
                messages_ready: ready,
                messages_unacknowledged: u32::try_from(unacked).unwrap_or(u32::MAX),
                consumers,
            });
        }
        let _ = self.close_conn(inspector);
        out
    }
}

impl Drop for RealBackend {
    fn drop(&mut self) {
        for c in &mut self.conns {
            if let Some(wire) = c.wire.take() {
                wire.shutdown();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name over 255 bytes cannot be encoded (amq-protocol's encoder asserts in debug builds and would
    /// write a corrupt frame in release ones): the backend refuses the method first, as pika does, before
    /// it even looks for the connection, so no broker is needed to see it.
    #[test]
    fn a_short_string_over_255_bytes_is_refused_before_sending() {
        let mut backend =
            RealBackend::new("amqp://guest:guest@127.0.0.1:1/%2f", RealOptions::default()).expect("a URI");
        let method = Method::QueueDeclare {
            queue: "q".repeat(256),
            passive: false,
            durable: false,
            exclusive: false,
            auto_delete: false,
            arguments: Default::default(),
        };
        let refused = backend
            .apply(VirtualTime::ZERO, ConnectionId(1), ChannelNumber(1), method)
            .expect_err("refused before sending");
        assert!(
            refused.0.starts_with("ShortStringTooLong: AMQP Short String can contain up to 255 bytes: queue"),
            "{}",
            refused.0
        );
    }
}
