//! The random workload: a seeded generator of weighted AMQP operations, valid and invalid, on a small
//! per-seed topology, with virtual time moving forward at random.
//!
//! The generator looks at the reference [`Model`] to aim well (pick outstanding delivery tags, reopen
//! closed channels, redeclare only what the model can judge, cancel consumers that hold unacked
//! deliveries and reuse their tags) but never at the engine.
//!
//! The topology keeps one rule that makes RabbitMQ's own behaviour deterministic: each dead-letter
//! exchange routes only to its own `dead.*` queue, and only one source queue dead-letters into it, and
//! `dead.*` queues are never bound to the exchanges clients publish to. RabbitMQ runs queues
//! concurrently, so two sources feeding one queue in the same instant have no defined order.

use super::model::{ExchangeKind, Model};
use crate::amqp::{
    BasicProperties, ChannelNumber, ConnectionId, DeliveryTag, FieldTable, FieldValue, Method,
};
use crate::prng::Prng;
use std::collections::VecDeque;
use std::fmt;

/// One thing the simulation does.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // A few per step, never stored in bulk.
pub enum Op {
    /// Open a connection (the broker numbers it).
    Connect,
    CloseConnection(ConnectionId),
    /// Only let time pass.
    Advance,
    Method {
        connection: ConnectionId,
        channel: ChannelNumber,
        method: Method,
    },
}

/// An operation at a virtual time (milliseconds).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub at_millis: u64,
    pub op: Op,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.op {
            Op::Connect => write!(f, "@{} connect", self.at_millis),
            Op::CloseConnection(c) => write!(f, "@{} close {c}", self.at_millis),
            Op::Advance => write!(f, "@{} advance", self.at_millis),
            Op::Method {
                connection,
                channel,
                method:
                    Method::BasicPublish { exchange, routing_key, mandatory, properties, body, immediate: false },
            } => {
                write!(
                    f,
                    "@{} {connection}/{channel} publish {:?} to '{exchange}' key '{routing_key}' mandatory={mandatory}",
                    self.at_millis,
                    String::from_utf8_lossy(body)
                )?;
                if let Some(e) = &properties.expiration {
                    write!(f, " expiration={e}")?;
                }
                Ok(())
            }
            Op::Method { connection, channel, method } => {
                write!(f, "@{} {connection}/{channel} {method:?}", self.at_millis)
            }
        }
    }
}

/// A queue of the topology: its declaration and its role.
#[derive(Clone, Debug)]
pub struct QueueProfile {
    pub name: String,
    pub durable: bool,
    pub exclusive: bool,
    pub auto_delete: bool,
    pub arguments: FieldTable,
    /// A dead-letter target: bound only to its dead-letter exchange.
    pub dead: bool,
}

impl QueueProfile {
    fn declare(&self) -> Method {
        Method::QueueDeclare {
            queue: self.name.clone(),
            passive: false,
            durable: self.durable,
            exclusive: self.exclusive,
            auto_delete: self.auto_delete,
            arguments: self.arguments.clone(),
        }
    }
}

/// An exchange of the topology.
#[derive(Clone, Debug)]
pub struct ExchangeProfile {
    pub name: String,
    pub kind: ExchangeKind,
    /// A dead-letter exchange (not published to by clients, bound only to its dead queue).
    pub dead_letter: bool,
}

/// The per-seed topology the workload plays on.
#[derive(Clone, Debug)]
pub struct Topology {
    pub queues: Vec<QueueProfile>,
    pub exchanges: Vec<ExchangeProfile>,
    /// `(exchange, queue, key)`: the bindings that make dead-lettering reach `dead.*`.
    pub dead_letter_bindings: Vec<(String, String, String)>,
    /// `(exchange, queue, key)`: bindings of the publishers' exchanges made at set-up.
    pub initial_bindings: Vec<(String, String, String)>,
}

/// Routing keys publishers use (besides queue names on the default exchange).
const ROUTING_KEYS: [&str; 8] = ["a", "b", "a.b", "a.b.c", "b.c", "", "x.y", "dead"];
/// Topic binding patterns.
const PATTERNS: [&str; 11] = ["#", "*", "a.*", "a.#", "*.b", "#.c", "a.b.c", "*.*", "a.#.c", "b", "dead"];
/// Per-message `expiration` values.
const EXPIRATIONS: [&str; 5] = ["0", "5", "40", "150", "1000"];

fn table(entries: &[(&str, FieldValue)]) -> FieldTable {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn pick_str<'a>(prng: &mut Prng, items: &[&'a str]) -> &'a str {
    prng.pick(items).copied().unwrap_or("")
}

impl Topology {
    /// Draws a topology: fixed roles, randomized TTLs, limits, exchange kinds and dead-letter keys.
    pub fn generate(prng: &mut Prng) -> Topology {
        let kinds = [ExchangeKind::Direct, ExchangeKind::Fanout, ExchangeKind::Topic];
        let mut exchanges = vec![
            ExchangeProfile { name: "ex.direct".into(), kind: ExchangeKind::Direct, dead_letter: false },
            ExchangeProfile { name: "ex.fanout".into(), kind: ExchangeKind::Fanout, dead_letter: false },
            ExchangeProfile { name: "ex.topic".into(), kind: ExchangeKind::Topic, dead_letter: false },
        ];
        for name in ["dlx.a", "dlx.b", "dlx.c"] {
            let kind = *prng.pick(&kinds).expect("non-empty");
            exchanges.push(ExchangeProfile { name: name.into(), kind, dead_letter: true });
        }
        let int = |n: u64| FieldValue::Int(n as i64);
        let s = |t: &str| FieldValue::Str(t.to_string());
        let plain = |name: &str, args: FieldTable| QueueProfile {
            name: name.into(),
            durable: false,
            exclusive: false,
            auto_delete: false,
            arguments: args,
            dead: false,
        };
        let mut queues = Vec::new();
        let mut q1 = plain("q.plain1", FieldTable::new());
        q1.durable = prng.chance(1, 2);
        queues.push(q1);
        let mut args2 = FieldTable::new();
        if prng.chance(1, 2) {
            args2.insert("x-message-ttl".into(), int(prng.range_inclusive(30, 200)));
        }
        queues.push(plain("q.plain2", args2));
        // Dead-letter sources, each with its own exchange and dead queue.
        let mut dead_letter_keys = Vec::new();
        let mut ttl_args = table(&[
            ("x-message-ttl", int(prng.range_inclusive(20, 300))),
            ("x-dead-letter-exchange", s("dlx.a")),
        ]);
        if prng.chance(1, 2) {
            ttl_args.insert("x-dead-letter-routing-key".into(), s("dead"));
            dead_letter_keys.push(Some("dead"));
        } else {
            dead_letter_keys.push(None);
        }
        queues.push(plain("q.ttl", ttl_args));
        let mut max_args = table(&[("x-max-length", int(prng.range_inclusive(1, 4)))]);
        // Mostly dead-lettering (`maxlen` in x-death), sometimes plain dropping.
        if prng.chance(3, 4) {
            max_args.insert("x-dead-letter-exchange".into(), s("dlx.b"));
        }
        if prng.chance(1, 3) {
            max_args.insert("x-overflow".into(), s("drop-head"));
        }
        if prng.chance(1, 3) {
            max_args.insert("x-message-ttl".into(), int(prng.range_inclusive(50, 400)));
        }
        if max_args.contains_key("x-dead-letter-exchange") && prng.chance(1, 2) {
            max_args.insert("x-dead-letter-routing-key".into(), s("dead"));
            dead_letter_keys.push(Some("dead"));
        } else {
            dead_letter_keys.push(None);
        }
        queues.push(plain("q.max", max_args));
        let overflow = if prng.chance(1, 2) { "reject-publish" } else { "reject-publish-dlx" };
        let rp_args = table(&[
            ("x-max-length", int(prng.range_inclusive(1, 3))),
            ("x-overflow", s(overflow)),
            ("x-dead-letter-exchange", s("dlx.c")),
        ]);
        dead_letter_keys.push(None);
        queues.push(plain("q.rp", rp_args));
        let mut auto = plain("q.auto", FieldTable::new());
        auto.auto_delete = true;
        queues.push(auto);
        let mut excl = plain("q.excl", FieldTable::new());
        excl.exclusive = true;
        queues.push(excl);
        let mut dead_letter_bindings = Vec::new();
        for (i, (x, q)) in
            [("dlx.a", "dead.a"), ("dlx.b", "dead.b"), ("dlx.c", "dead.c")].into_iter().enumerate()
        {
            let mut dead = plain(q, FieldTable::new());
            dead.dead = true;
            queues.push(dead);
            let kind = exchanges.iter().find(|e| e.name == x).expect("declared above").kind;
            // Mostly a key that matches what arrives; sometimes one that does not (unroutable dead letters).
            let key = match kind {
                ExchangeKind::Fanout => "",
                ExchangeKind::Direct => match dead_letter_keys[i] {
                    Some(k) if prng.chance(4, 5) => k,
                    _ => pick_str(prng, &ROUTING_KEYS),
                },
                ExchangeKind::Topic => {
                    if prng.chance(1, 2) {
                        "#"
                    } else {
                        pick_str(prng, &PATTERNS)
                    }
                }
            };
            dead_letter_bindings.push((x.to_string(), q.to_string(), key.to_string()));
        }
        let mut initial_bindings = Vec::new();
        let sources = [
            ("ex.direct", ExchangeKind::Direct),
            ("ex.fanout", ExchangeKind::Fanout),
            ("ex.topic", ExchangeKind::Topic),
            ("amq.direct", ExchangeKind::Direct),
            ("amq.topic", ExchangeKind::Topic),
            ("amq.fanout", ExchangeKind::Fanout),
        ];
        let targets: Vec<String> = queues.iter().filter(|q| !q.dead).map(|q| q.name.clone()).collect();
        for (x, kind) in sources {
            for _ in 0..prng.range_inclusive(1, 4) {
                let q = prng.pick(&targets).expect("non-empty").clone();
                initial_bindings.push((x.to_string(), q, binding_key(prng, kind).to_string()));
            }
        }
        Topology { queues, exchanges, dead_letter_bindings, initial_bindings }
    }

    /// The methods that set the topology up, in order.
    pub fn setup(&self) -> Vec<Method> {
        let mut out = Vec::new();
        for x in &self.exchanges {
            out.push(exchange_declare(&x.name, x.kind, false));
        }
        for q in &self.queues {
            out.push(q.declare());
        }
        for (x, q, key) in &self.dead_letter_bindings {
            out.push(bind(q, x, key));
        }
        for (x, q, key) in &self.initial_bindings {
            out.push(bind(q, x, key));
        }
        out
    }

    fn queue(&self, name: &str) -> Option<&QueueProfile> {
        self.queues.iter().find(|q| q.name == name)
    }
}

/// A binding key that suits the exchange kind.
fn binding_key(prng: &mut Prng, kind: ExchangeKind) -> &'static str {
    match kind {
        ExchangeKind::Topic => pick_str(prng, &PATTERNS),
        ExchangeKind::Fanout => "",
        ExchangeKind::Direct => pick_str(prng, &ROUTING_KEYS),
    }
}

fn exchange_declare(name: &str, kind: ExchangeKind, durable: bool) -> Method {
    Method::ExchangeDeclare {
        exchange: name.to_string(),
        exchange_type: kind.as_str().to_string(),
        passive: false,
        durable,
        auto_delete: false,
        internal: false,
        arguments: FieldTable::new(),
    }
}

fn bind(queue: &str, exchange: &str, key: &str) -> Method {
    Method::QueueBind {
        queue: queue.to_string(),
        exchange: exchange.to_string(),
        routing_key: key.to_string(),
        arguments: FieldTable::new(),
    }
}

/// Tuning knobs.
#[derive(Clone, Debug)]
pub struct WorkloadConfig {
    /// At most one consumer per (queue, channel). RabbitMQ settles acks per (queue, consumer tag) in tag
    /// order, which decides how two blocked consumers of one channel rejoin the line; turning this on
    /// keeps the simulation off that corner.
    pub one_consumer_per_queue_and_channel: bool,
    /// Highest channel number used on each connection.
    pub channels_per_connection: u16,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig { one_consumer_per_queue_and_channel: false, channels_per_connection: 2 }
    }
}

/// The generator. See the module doc.
pub struct Workload {
    prng: Prng,
    pub topology: Topology,
    pub config: WorkloadConfig,
    now: u64,
    setup: VecDeque<Method>,
    next_consumer: u64,
    next_body: u64,
}

impl Workload {
    pub fn new(seed: u64) -> Self {
        Self::with_config(seed, WorkloadConfig::default())
    }

    pub fn with_config(seed: u64, config: WorkloadConfig) -> Self {
        // A stream of its own, so the engine's seed and the workload's draws stay independent.
        let mut prng = Prng::new(seed ^ 0x5eed_5eed_5eed_5eed);
        let topology = Topology::generate(&mut prng);
        let setup = topology.setup().into();
        Workload { prng, topology, config, now: 0, setup, next_consumer: 0, next_body: 0 }
    }

    /// The next step, aimed using the model's current state.
    pub fn next_step(&mut self, model: &Model) -> Step {
        let dt = if self.prng.chance(35, 100) { 0 } else { self.prng.range_inclusive(1, 25) };
        self.now += dt;
        let op = self.next_op(model);
        if op == Op::Advance {
            self.now += self.prng.range_inclusive(1, 400);
        }
        Step { at_millis: self.now, op }
    }

    fn next_op(&mut self, model: &Model) -> Op {
        let conns = model.open_connections();
        if conns.is_empty() || (conns.len() < 2 && self.prng.chance(1, 4)) {
            return Op::Connect;
        }
        let connection = *self.prng.pick(&conns).expect("non-empty");
        let mut channel = ChannelNumber(
            self.prng.range_inclusive(1, u64::from(self.config.channels_per_connection)) as u16,
        );
        if !self.setup.is_empty() {
            // Set-up runs on the first connection's channel 1.
            channel = ChannelNumber(1);
            let first = conns[0];
            if !model.channel_is_open(first, channel) {
                return Op::Method { connection: first, channel, method: Method::ChannelOpen };
            }
            let method = self.setup.pop_front().expect("non-empty");
            return Op::Method { connection: first, channel, method };
        }
        if !model.channel_is_open(connection, channel) {
            return Op::Method { connection, channel, method: Method::ChannelOpen };
        }
        let roll = self.prng.below(1000);
        let method = match roll {
            0..=279 | 860..=919 => self.publish(model),
            280..=449 => {
                if model.unacked_tags(connection, channel).is_empty() && self.prng.chance(9, 10) {
                    self.publish(model)
                } else {
                    self.settle(model, connection, channel)
                }
            }
            450..=499 => Method::BasicGet { queue: self.any_queue(), auto_ack: self.prng.chance(1, 4) },
            500..=579 => self.consume(model, connection, channel),
            580..=599 | 920..=939 => self.cancel(model, connection, channel),
            600..=619 => Method::BasicQos {
                prefetch_size: 0,
                prefetch_count: *self.prng.pick(&[0u16, 1, 2, 3, 5]).expect("x"),
                global: false,
            },
            620..=629 => Method::ConfirmSelect,
            630..=639 => Method::BasicRecover { requeue: true },
            640..=699 => self.declare_queue(model, connection),
            700..=729 => self.declare_exchange(model),
            730..=799 => self.bind_or_unbind(model),
            800..=814 => Method::QueuePurge { queue: self.any_queue() },
            815..=839 => Method::QueueDelete {
                queue: self.any_queue(),
                if_unused: self.prng.chance(1, 5),
                if_empty: self.prng.chance(1, 5),
            },
            840..=854 => Method::ChannelClose,
            855..=859 => {
                if conns.len() == 2 {
                    return Op::CloseConnection(connection);
                }
                return Op::Advance;
            }
            _ => return Op::Advance,
        };
        Op::Method { connection, channel, method }
    }

    /// A queue name: mostly one of the topology's, sometimes one that never exists.
    fn any_queue(&mut self) -> String {
        if self.prng.chance(1, 30) {
            return "q.missing".to_string();
        }
        let i = self.prng.below(self.topology.queues.len() as u64) as usize;
        self.topology.queues[i].name.clone()
    }

    fn publish(&mut self, model: &Model) -> Method {
        self.next_body += 1;
        let body = format!("b{}", self.next_body).into_bytes();
        let mut properties = BasicProperties::default();
        if self.prng.chance(15, 100) {
            properties.expiration = Some(pick_str(&mut self.prng, &EXPIRATIONS).to_string());
        }
        if self.prng.chance(1, 200) {
            properties.expiration = Some("abc".to_string());
        }
        if self.prng.chance(1, 5) {
            properties.delivery_mode = Some(2);
        }
        if self.prng.chance(1, 10) {
            properties.headers.insert("n".into(), FieldValue::Int(self.next_body as i64));
        }
        let mandatory = self.prng.chance(3, 10);
        let exchanges =
            ["", "", "", "ex.direct", "ex.fanout", "ex.topic", "amq.direct", "amq.topic", "amq.fanout"];
        let exchange =
            if self.prng.chance(1, 100) { "ex.missing" } else { pick_str(&mut self.prng, &exchanges) };
        let routing_key = if exchange.is_empty() {
            if self.prng.chance(1, 20) {
                "nowhere".to_string()
            } else {
                self.any_queue()
            }
        } else {
            pick_str(&mut self.prng, &ROUTING_KEYS).to_string()
        };
        let _ = model;
        Method::BasicPublish {
            exchange: exchange.to_string(),
            routing_key,
            mandatory,
            properties,
            body,
            immediate: false,
        }
    }

    fn settle(&mut self, model: &Model, c: ConnectionId, ch: ChannelNumber) -> Method {
        let tags = model.unacked_tags(c, ch);
        let next = model.next_delivery_tag(c, ch);
        let tag = if tags.is_empty() || self.prng.chance(1, 15) {
            // Unknown: never handed out, already settled, or 0 (which with multiple means "all").
            match self.prng.below(3) {
                0 => next + self.prng.below(3),
                1 if next > 1 => self.prng.range_inclusive(1, next - 1),
                _ => 0,
            }
        } else {
            *self.prng.pick(&tags).expect("non-empty")
        };
        let delivery_tag = DeliveryTag(tag);
        let multiple = self.prng.chance(3, 10);
        let requeue = self.prng.chance(6, 10);
        match self.prng.below(10) {
            0..=4 => Method::BasicAck { delivery_tag, multiple },
            5..=7 => Method::BasicNack { delivery_tag, multiple, requeue },
            _ => Method::BasicReject { delivery_tag, requeue },
        }
    }

    fn consume(&mut self, model: &Model, c: ConnectionId, ch: ChannelNumber) -> Method {
        let mut queue = self.any_queue();
        // Reuse the tag of a cancelled consumer whose deliveries are still unacked (RabbitMQ allows it; the
        // old deliveries then credit the new consumer), mostly on the same queue, sometimes on another.
        let reused = self.prng.pick(&model.cancelled_tags_with_unacked(c, ch)).cloned();
        let consumer_tag = match reused {
            Some((tag, old_queue)) if self.prng.chance(9, 10) => {
                if self.prng.chance(3, 4) {
                    queue = old_queue;
                }
                tag
            }
            _ => {
                self.next_consumer += 1;
                format!("c{}", self.next_consumer)
            }
        };
        if self.config.one_consumer_per_queue_and_channel
            && model.channel_consumers(c, ch).iter().any(|(_, q)| *q == queue)
        {
            queue = "q.missing".to_string();
        }
        Method::BasicConsume {
            queue,
            consumer_tag,
            auto_ack: self.prng.chance(1, 5),
            exclusive: self.prng.chance(1, 25),
            arguments: FieldTable::new(),
        }
    }

    fn cancel(&mut self, model: &Model, c: ConnectionId, ch: ChannelNumber) -> Method {
        let mut consumers = model.channel_consumers(c, ch);
        // Mostly a consumer with unacked deliveries, whose tag a later consume may then reuse.
        let holding = model.tags_of_unacked(c, ch);
        if self.prng.chance(2, 3) && consumers.iter().any(|(t, _)| holding.contains(t)) {
            consumers.retain(|(t, _)| holding.contains(t));
        }
        let consumer_tag = match self.prng.pick(&consumers) {
            Some((tag, _)) if self.prng.chance(9, 10) => tag.clone(),
            _ => "c-unknown".to_string(),
        };
        Method::BasicCancel { consumer_tag }
    }

    fn declare_queue(&mut self, model: &Model, c: ConnectionId) -> Method {
        let i = self.prng.below(self.topology.queues.len() as u64) as usize;
        let profile = self.topology.queues[i].clone();
        match self.prng.below(20) {
            // Passive, of a topology queue or a missing one.
            0..=3 => Method::QueueDeclare {
                queue: if self.prng.chance(1, 4) { "q.missing".into() } else { profile.name },
                passive: true,
                durable: false,
                exclusive: false,
                auto_delete: false,
                arguments: FieldTable::new(),
            },
            // Inequivalent redeclare of an existing queue.
            4..=6 if model.queue_exists(&profile.name) => {
                let mut m = profile.declare();
                if let Method::QueueDeclare { durable, exclusive, arguments, .. } = &mut m {
                    let numeric: Vec<String> = arguments
                        .iter()
                        .filter(|(_, v)| matches!(v, FieldValue::Int(_)))
                        .map(|(k, _)| k.clone())
                        .collect();
                    match self.prng.below(3) {
                        0 => *durable = !*durable,
                        1 => {
                            // Another connection's exclusive queue, or the wrong exclusive flag: 405.
                            if model.queue_owner(&profile.name) == Some(c) || !profile.exclusive {
                                *exclusive = !*exclusive;
                            }
                        }
                        _ => match self.prng.pick(&numeric) {
                            Some(key) => {
                                if let Some(FieldValue::Int(n)) = arguments.get_mut(key) {
                                    *n += 1;
                                }
                            }
                            None => *durable = !*durable,
                        },
                    }
                }
                m
            }
            7 => Method::QueueDeclare {
                queue: "amq.q".into(),
                passive: false,
                durable: false,
                exclusive: false,
                auto_delete: false,
                arguments: FieldTable::new(),
            },
            8 => {
                let arguments = if self.prng.chance(1, 2) {
                    table(&[("x-message-ttl", FieldValue::Int(-1))])
                } else {
                    table(&[("x-overflow", FieldValue::Str("bogus".into()))])
                };
                Method::QueueDeclare {
                    queue: "q.bad".into(),
                    passive: false,
                    durable: false,
                    exclusive: false,
                    auto_delete: false,
                    arguments,
                }
            }
            _ => profile.declare(),
        }
    }

    fn declare_exchange(&mut self, model: &Model) -> Method {
        let i = self.prng.below(self.topology.exchanges.len() as u64) as usize;
        let x = self.topology.exchanges[i].clone();
        match self.prng.below(12) {
            0 => exchange_declare("amq.direct", ExchangeKind::Direct, self.prng.chance(1, 2)),
            1 => exchange_declare("amq.x", ExchangeKind::Direct, false),
            2 => Method::ExchangeDeclare {
                exchange: if self.prng.chance(1, 2) { "ex.missing".into() } else { x.name.clone() },
                exchange_type: "direct".into(),
                passive: true,
                durable: false,
                auto_delete: false,
                internal: false,
                arguments: FieldTable::new(),
            },
            3 if model.exchange_exists(&x.name) => {
                let other = match x.kind {
                    ExchangeKind::Direct => ExchangeKind::Topic,
                    ExchangeKind::Fanout => ExchangeKind::Direct,
                    ExchangeKind::Topic => ExchangeKind::Fanout,
                };
                exchange_declare(&x.name, other, false)
            }
            4 => Method::ExchangeDelete {
                exchange: if self.prng.chance(1, 5) { String::new() } else { x.name.clone() },
                if_unused: self.prng.chance(1, 2),
            },
            _ => exchange_declare(&x.name, x.kind, false),
        }
    }

    fn bind_or_unbind(&mut self, model: &Model) -> Method {
        match self.prng.below(10) {
            // A dead-letter binding (re)made.
            0 | 1 => {
                let i = self.prng.below(self.topology.dead_letter_bindings.len() as u64) as usize;
                let (x, q, key) = self.topology.dead_letter_bindings[i].clone();
                bind(&q, &x, &key)
            }
            // Unbind something bound.
            2 | 3 => {
                let user: Vec<&str> =
                    ["ex.direct", "ex.fanout", "ex.topic", "amq.direct", "amq.topic", "amq.fanout"].to_vec();
                let x = pick_str(&mut self.prng, &user);
                let bindings = model.bindings(x);
                let (queue, routing_key) = match self.prng.pick(&bindings) {
                    Some(b) => b.clone(),
                    None => ("q.plain1".to_string(), "a".to_string()),
                };
                Method::QueueUnbind {
                    queue,
                    exchange: x.to_string(),
                    routing_key,
                    arguments: FieldTable::new(),
                }
            }
            4 => {
                // Errors: the default exchange, a missing exchange or queue.
                match self.prng.below(3) {
                    0 => bind("q.plain1", "", "a"),
                    1 => bind("q.plain1", "ex.missing", "a"),
                    _ => bind("q.missing", "ex.direct", "a"),
                }
            }
            _ => {
                let sources: Vec<&str> =
                    ["ex.direct", "ex.fanout", "ex.topic", "amq.direct", "amq.topic", "amq.fanout"].to_vec();
                let x = pick_str(&mut self.prng, &sources).to_string();
                let candidates: Vec<String> =
                    self.topology.queues.iter().filter(|q| !q.dead).map(|q| q.name.clone()).collect();
                let q = self.prng.pick(&candidates).expect("non-empty").clone();
                let kind = model
                    .exchange_kind(&x)
                    .or_else(|| self.topology.exchanges.iter().find(|e| e.name == x).map(|e| e.kind));
                let key = binding_key(&mut self.prng, kind.unwrap_or(ExchangeKind::Direct));
                let _ = self.topology.queue(&q);
                bind(&q, &x, key)
            }
        }
    }
}
