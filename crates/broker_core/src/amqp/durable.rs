//! What a RabbitMQ node keeps on disk across a restart, as plain serde data: a [`DurableImage`].
//!
//! # What is kept (RabbitMQ 3.10: `rabbit_amqqueue:recover`, `rabbit_exchange:recover`,
//! `rabbit_binding:recover`, the message store)
//! - Durable exchanges (the default and `amq.*` ones exist in every vhost anyway).
//! - Durable, non-exclusive queues: an exclusive queue dies with its connection, which a restart closes.
//! - Bindings whose two ends are both durable (a binding to a transient end goes with it).
//! - The vhost's policies (they apply again to the recovered queues and exchanges).
//! - Persistent messages (`delivery_mode` 2) in durable queues, in the order the queue recovers them; a
//!   message that was delivered but not acknowledged when the node stopped comes back in its place with
//!   `redelivered` set (classic queues), or among the returns (quorum queues), keeping its expiry and
//!   quorum delivery count.
//! - A stream's whole log (osiris writes every message to its segment files, persistent or not), each
//!   entry with its offset and the instant it was written, and the offset the next message gets: after
//!   the restart a reader asking for `"first"`, an offset or a timestamp finds the same messages at the
//!   same offsets. A consumer's read position is not kept: an AMQP consumer of a stream is a client's
//!   subscription, gone with its connection, and it says where to start again when it subscribes.
//!   Seen on RabbitMQ 3.10.8 across a real node restart: `scripts/rabbitmq-probes/stream-restart/`.
//!
//! # One rule, two paths
//! [`Broker::durable_image`] does not re-decide any of this: it restarts a *copy* of the broker with
//! [`Broker::restart`] (the in-memory model of a node restart) and writes down what survived. Building a
//! broker from the image ([`Broker::from_durable_image`]) therefore gives the same exchanges, queues,
//! bindings and ready messages as restarting the original broker at the same instant, which the tests
//! check. The image is taken "as if the node stopped now", so it is also what a page reload keeps.
//!
//! # Recovery
//! Exchanges, queues and bindings are declared through [`Broker::apply`] on a connection of the
//! recovery's own (closed at the end; its events are discarded, as a node's boot is not part of the
//! session's story): validation and error texts are the engine's, so a corrupt or hand-edited image is
//! refused with RabbitMQ's error rather than building an impossible broker. Queue expiry (`x-expires`)
//! countdowns restart, as they do on a real restart.
//!
//! **Limitation**: a durable, non-exclusive queue with a server-generated `amq.gen-…` name cannot be
//! declared by name, so recovery skips it (listed in [`Recovery::skipped`]); RabbitMQ would recover it.

use super::broker::{Broker, BrokerConfig, MAX_MESSAGE_ID};
use super::definitions::{self, BindingDefinition, ExchangeDefinition, Policy, QueueDefinition};
use super::error::AmqpError;
use super::message::{QueuedMessage, Route};
use super::method::Method;
use super::types::{BasicProperties, ChannelNumber, MessageId, Name};
use crate::clock::VirtualTime;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The image format; a newer one is refused rather than half read.
pub const IMAGE_FORMAT: u32 = 1;

/// Everything a broker keeps across a restart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DurableImage {
    pub format: u32,
    /// The virtual instant the image was taken ("the node stopped").
    pub at: VirtualTime,
    /// The id the next published message gets, so ids stay unique across the restart.
    pub next_message: u64,
    /// Durable exchanges other than the default and `amq.*` ones.
    pub exchanges: Vec<ExchangeDefinition>,
    /// Durable, non-exclusive queues, with their persistent messages.
    pub queues: Vec<DurableQueue>,
    /// Bindings between durable ends.
    pub bindings: Vec<BindingDefinition>,
    /// The vhost's policies (RabbitMQ keeps them in its schema database); absent in older images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
}

/// A durable queue and the persistent messages it recovers, in recovery (delivery) order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DurableQueue {
    #[serde(flatten)]
    pub definition: QueueDefinition,
    /// Stream queues: the log's entries, oldest first, each with its `offset` and `written_at`.
    pub messages: Vec<DurableMessage>,
    /// Stream queues: the offset the next message gets (absent for other queue types).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_next_offset: Option<u64>,
}

/// One persistent message as the message store keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DurableMessage {
    pub id: u64,
    pub exchange: String,
    pub routing_key: String,
    /// The sender-selected routing keys (`CC`, `BCC`) it was published with, which a dead-lettering
    /// without `x-dead-letter-routing-key` routes by again (RabbitMQ keeps them with the message).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_routing_keys: Vec<String>,
    #[serde(default)]
    pub properties: BasicProperties,
    /// The body: UTF-8 text as is, anything else in standard base64 (`base64` set).
    pub body: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub base64: bool,
    /// When it expires at the head of its queue (virtual ms); absent if it has no TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<VirtualTime>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub redelivered: bool,
    /// Quorum queues: times it went back to the queue (`x-delivery-count`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delivery_count: u16,
    /// Quorum queues: it sits among the returned messages served first.
    #[serde(default, skip_serializing_if = "is_false")]
    pub returned: bool,
    /// Stream queues: the entry's offset in the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Stream queues: when the entry was written (what timestamp offsets and `x-max-age` read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_at: Option<VirtualTime>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

/// Why an image could not be turned back into a broker.
#[derive(Clone, Debug, PartialEq)]
pub enum RecoveryError {
    /// Written by a newer Brokerlab.
    NewerFormat(u32),
    /// A policy that does not validate (a corrupt or hand-edited image).
    BadPolicy { name: String, reason: String },
    /// A declaration the engine refused (a corrupt or hand-edited image), with the entity.
    Refused { entity: String, error: AmqpError },
    /// A message whose body is not valid base64 or whose queue is missing.
    BadMessage { queue: String, id: u64, reason: String },
    /// A stream's log that cannot be put back as written (a corrupt or hand-edited image).
    BadStream { queue: String, reason: String },
    /// A message id (or the next id) beyond [`MAX_MESSAGE_ID`].
    IdOutOfRange { what: String, id: u64 },
}

impl fmt::Display for RecoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecoveryError::NewerFormat(v) => write!(
                f,
                "durable image format {v} was written by a newer Brokerlab (this one reads up to {IMAGE_FORMAT})"
            ),
            RecoveryError::Refused { entity, error } => write!(f, "recovering {entity}: {error}"),
            RecoveryError::BadPolicy { name, reason } => write!(f, "recovering policy '{name}': {reason}"),
            RecoveryError::BadMessage { queue, id, reason } => {
                write!(f, "recovering message {id} of queue '{queue}': {reason}")
            }
            RecoveryError::BadStream { queue, reason } => write!(f, "recovering stream '{queue}': {reason}"),
            RecoveryError::IdOutOfRange { what, id } => {
                write!(f, "durable image: the {what} has id {id}, beyond the highest message id {MAX_MESSAGE_ID}")
            }
        }
    }
}

impl std::error::Error for RecoveryError {}

/// What a recovery did besides rebuilding the broker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Queues that could not be declared by name (server-named `amq.gen-…` ones).
    pub skipped: Vec<String>,
    /// Messages put back in queues.
    pub messages: u64,
}

impl DurableImage {
    /// How many messages the image holds.
    pub fn message_count(&self) -> usize {
        self.queues.iter().map(|q| q.messages.len()).sum()
    }
}

impl Broker {
    /// What this broker would keep if its node stopped now (see the module doc): taken from a restarted
    /// copy, so it follows exactly [`Broker::restart`]'s rules. `self` is not changed.
    pub fn durable_image(&self) -> DurableImage {
        let mut copy = self.clone();
        copy.restart(copy.now());
        // Drop the copy's event log at once: only its state matters.
        drop(copy.take_events());
        let topology = definitions::export(&copy);
        let queues = topology
            .queues
            .into_iter()
            .map(|definition| {
                if let Some(log) = copy.stream_log(&definition.name) {
                    let messages = log
                        .entries()
                        .map(|e| DurableMessage {
                            offset: Some(e.offset),
                            written_at: Some(e.written_at),
                            ..durable_message(&e.message, false)
                        })
                        .collect();
                    return DurableQueue {
                        definition,
                        messages,
                        stream_next_offset: Some(log.next_offset()),
                    };
                }
                let messages = copy.queue_state(&definition.name).map_or_else(Vec::new, |q| {
                    let returned = if q.is_quorum() { q.returned_count() } else { 0 };
                    q.iter_ready().enumerate().map(|(i, m)| durable_message(m, i < returned)).collect()
                });
                DurableQueue { definition, messages, stream_next_offset: None }
            })
            .collect();
        DurableImage {
            format: IMAGE_FORMAT,
            at: copy.now(),
            next_message: copy.next_message_id(),
            exchanges: topology.exchanges,
            queues,
            bindings: topology.bindings,
            policies: copy.policies(),
        }
    }

    /// A broker booted from `image`, at the image's instant, as a restarted node: see the module doc.
    pub fn from_durable_image(
        config: BrokerConfig,
        seed: u64,
        image: &DurableImage,
    ) -> Result<(Broker, Recovery), RecoveryError> {
        if image.format > IMAGE_FORMAT {
            return Err(RecoveryError::NewerFormat(image.format));
        }
        // Ids beyond MAX_MESSAGE_ID come only from a corrupt or hand-edited image; later publishes could
        // not be numbered.
        if image.next_message > MAX_MESSAGE_ID + 1 {
            return Err(RecoveryError::IdOutOfRange {
                what: "next_message".to_string(),
                id: image.next_message,
            });
        }
        for q in &image.queues {
            if let Some(m) = q.messages.iter().find(|m| m.id > MAX_MESSAGE_ID) {
                return Err(RecoveryError::IdOutOfRange {
                    what: format!("message of queue '{}'", q.definition.name),
                    id: m.id,
                });
            }
        }
        let mut broker = Broker::new(config, seed);
        let at = image.at;
        broker.advance_to(at);
        let connection = broker.connect(at, "durable recovery");
        let channel = ChannelNumber(1);
        let opened = broker.apply(at, connection, channel, Method::ChannelOpen);
        assert!(opened.is_ok(), "a fresh connection opens channel 1: {opened:?}");
        let result = recover_into(&mut broker, at, connection, channel, image);
        broker.close_connection(at, connection);
        drop(broker.take_events());
        let recovery = result?;
        broker.continue_message_ids(image.next_message);
        Ok((broker, recovery))
    }
}

fn durable_message(m: &QueuedMessage, returned: bool) -> DurableMessage {
    let (body, base64) = match std::str::from_utf8(m.body()) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (base64_encode(m.body()), true),
    };
    let expires_at = Some(m.expires_at()).filter(|t| *t != VirtualTime::NEVER);
    DurableMessage {
        id: m.id.0,
        exchange: m.exchange().to_string(),
        routing_key: m.routing_key().to_string(),
        also_routing_keys: m.route().also.iter().map(|k| k.to_string()).collect(),
        properties: m.properties().into_owned(),
        body,
        base64,
        expires_at,
        redelivered: m.redelivered(),
        delivery_count: m.delivery_count,
        returned,
        offset: None,
        written_at: None,
    }
}

fn recover_into(
    broker: &mut Broker,
    at: VirtualTime,
    connection: super::types::ConnectionId,
    channel: ChannelNumber,
    image: &DurableImage,
) -> Result<Recovery, RecoveryError> {
    let mut recovery = Recovery::default();
    // Policies first, so every queue and exchange is declared under the policy in effect.
    for p in &image.policies {
        broker
            .set_policy(p.clone())
            .map_err(|reason| RecoveryError::BadPolicy { name: p.name.clone(), reason })?;
    }
    let declare = |broker: &mut Broker, entity: String, method: Method| {
        broker
            .apply(at, connection, channel, method)
            .map(|_| ())
            .map_err(|error| RecoveryError::Refused { entity, error })
    };
    for x in &image.exchanges {
        let method = Method::ExchangeDeclare {
            exchange: x.name.clone(),
            exchange_type: x.kind.clone(),
            passive: false,
            durable: true,
            auto_delete: x.auto_delete,
            internal: x.internal,
            arguments: x.arguments.clone(),
        };
        declare(broker, format!("exchange '{}'", x.name), method)?;
    }
    for q in &image.queues {
        let d = &q.definition;
        if d.name.starts_with("amq.") {
            recovery.skipped.push(d.name.clone());
            continue;
        }
        let method = Method::QueueDeclare {
            queue: d.name.clone(),
            passive: false,
            durable: true,
            exclusive: false,
            auto_delete: d.auto_delete,
            arguments: d.arguments.clone(),
        };
        declare(broker, format!("queue '{}'", d.name), method)?;
    }
    for b in &image.bindings {
        let entity = format!("binding '{}' -> '{}'", b.source, b.destination);
        if recovery.skipped.contains(&b.destination) {
            continue;
        }
        let method = match b.destination_type.as_str() {
            "exchange" => Method::ExchangeBind {
                destination: b.destination.clone(),
                source: b.source.clone(),
                routing_key: b.routing_key.clone(),
                arguments: b.arguments.clone(),
            },
            _ => Method::QueueBind {
                queue: b.destination.clone(),
                exchange: b.source.clone(),
                routing_key: b.routing_key.clone(),
                arguments: b.arguments.clone(),
            },
        };
        declare(broker, entity, method)?;
    }
    for q in &image.queues {
        let name = &q.definition.name;
        if recovery.skipped.contains(name) {
            continue;
        }
        for m in &q.messages {
            let bad = |reason: &str| RecoveryError::BadMessage {
                queue: name.clone(),
                id: m.id,
                reason: reason.to_string(),
            };
            let body = if m.base64 {
                base64_decode(&m.body).ok_or_else(|| bad("the body is not valid base64"))?
            } else {
                m.body.as_bytes().to_vec()
            };
            let also: Box<[Box<str>]> = m.also_routing_keys.iter().map(|k| Box::from(k.as_str())).collect();
            let route = Route::with_also(Name::from(m.exchange.as_str()), &m.routing_key, also);
            let mut queued = QueuedMessage::with_route(
                MessageId(m.id),
                route,
                m.properties.clone(),
                body.into_boxed_slice(),
            );
            queued.set_expires_at(m.expires_at.unwrap_or(VirtualTime::NEVER));
            if m.redelivered {
                queued.set_redelivered();
            }
            queued.delivery_count = m.delivery_count;
            if broker.stream_log(name).is_some() {
                let (Some(offset), Some(written_at)) = (m.offset, m.written_at) else {
                    return Err(bad("a stream's entry needs its offset and written_at"));
                };
                broker.recover_stream_entry(name, offset, written_at, queued).map_err(bad)?;
            } else if !broker.recover_message(name, queued, m.returned) {
                return Err(bad("its queue was not recovered"));
            }
            recovery.messages += 1;
        }
        if let Some(next) = q.stream_next_offset {
            match broker.stream_log(name) {
                Some(log) if log.is_empty() || log.next_offset() == next => {
                    broker.continue_stream_offsets(name, next)
                }
                Some(log) => {
                    return Err(RecoveryError::BadStream {
                        queue: name.clone(),
                        reason: format!(
                            "stream_next_offset {next} does not follow its last entry ({})",
                            log.next_offset() - 1
                        ),
                    })
                }
                None => {
                    return Err(RecoveryError::BadStream {
                        queue: name.clone(),
                        reason: "stream_next_offset given for a queue that is not a stream".into(),
                    })
                }
            }
        }
    }
    Ok(recovery)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (binary bodies in the image).
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard padded base64; `None` on anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let value = |c: u8| BASE64.iter().position(|x| *x == c).map(|v| v as u32);
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i + 1 == bytes.len() / 4;
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (j, c) in chunk.iter().enumerate() {
            let v = if j >= 4 - pad { 0 } else { value(*c)? };
            n = (n << 6) | v;
        }
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amqp::types::{ConnectionId, FieldTable, FieldValue};
    use crate::amqp::Reply;

    const T: VirtualTime = VirtualTime(1_000);

    struct Client {
        broker: Broker,
        conn: ConnectionId,
    }

    impl Client {
        fn new() -> Self {
            let mut broker = Broker::new(BrokerConfig::default(), 7);
            let conn = broker.connect(T, "app");
            broker.apply(T, conn, ChannelNumber(1), Method::ChannelOpen).unwrap();
            Client { broker, conn }
        }

        fn ok(&mut self, method: Method) -> Reply {
            let now = self.broker.now();
            self.broker.apply(now, self.conn, ChannelNumber(1), method).expect("accepted")
        }

        fn exchange(&mut self, name: &str, kind: &str, durable: bool) {
            self.ok(Method::ExchangeDeclare {
                exchange: name.into(),
                exchange_type: kind.into(),
                passive: false,
                durable,
                auto_delete: false,
                internal: false,
                arguments: FieldTable::new(),
            });
        }

        fn queue(&mut self, name: &str, durable: bool, exclusive: bool, args: &[(&str, FieldValue)]) {
            let arguments = args.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            self.ok(Method::QueueDeclare {
                queue: name.into(),
                passive: false,
                durable,
                exclusive,
                auto_delete: false,
                arguments,
            });
        }

        fn bind(&mut self, queue: &str, exchange: &str, key: &str) {
            self.ok(Method::QueueBind {
                queue: queue.into(),
                exchange: exchange.into(),
                routing_key: key.into(),
                arguments: FieldTable::new(),
            });
        }

        fn publish(&mut self, exchange: &str, key: &str, mode: u8, body: &[u8], priority: Option<u8>) {
            let properties = BasicProperties { delivery_mode: Some(mode), priority, ..Default::default() };
            self.ok(Method::BasicPublish {
                exchange: exchange.into(),
                routing_key: key.into(),
                mandatory: false,
                properties,
                body: body.to_vec(),
                immediate: false,
            });
        }
    }

    /// A broker with a bit of everything: durable and transient ends, bindings between them, an
    /// exclusive durable queue, a priority queue, a quorum queue with returns, TTLs, binary bodies and
    /// unacked deliveries.
    fn busy_broker() -> Broker {
        let mut c = Client::new();
        c.exchange("orders", "topic", true);
        c.exchange("scratch", "fanout", false);
        c.ok(Method::ExchangeBind {
            destination: "scratch".into(),
            source: "orders".into(),
            routing_key: "#".into(),
            arguments: FieldTable::new(),
        });
        c.queue("durable", true, false, &[]);
        c.queue("transient", false, false, &[]);
        c.queue("mine", true, true, &[]);
        c.queue("prio", true, false, &[("x-max-priority", FieldValue::Int(5))]);
        c.queue("ttl", true, false, &[("x-message-ttl", FieldValue::Int(60_000))]);
        c.queue("quorum", true, false, &[("x-queue-type", FieldValue::Str("quorum".into()))]);
        c.bind("durable", "orders", "order.*");
        c.bind("transient", "orders", "order.*");
        c.bind("durable", "scratch", "");
        c.bind("prio", "amq.direct", "p");
        for (i, mode) in [2u8, 1, 2, 2, 1, 2].into_iter().enumerate() {
            c.publish("orders", "order.new", mode, format!("o{i}").as_bytes(), None);
        }
        c.publish("", "mine", 2, b"exclusive", None);
        c.publish("amq.direct", "p", 2, b"low", Some(1));
        c.publish("amq.direct", "p", 2, &[0, 159, 146, 150], Some(4));
        c.publish("amq.direct", "p", 1, b"transient high", Some(5));
        c.publish("", "ttl", 2, b"expires", None);
        for i in 0..4 {
            c.publish("", "quorum", 2, format!("q{i}").as_bytes(), None);
        }
        // Unacked deliveries: two from `durable` (the second of them transient), one from `quorum`.
        for queue in ["durable", "durable", "durable", "quorum", "quorum"] {
            c.ok(Method::BasicGet { queue: queue.into(), auto_ack: false });
        }
        // Nack one quorum message with requeue (delivery count 1, to the back), keep one unacked.
        c.ok(Method::BasicNack { delivery_tag: crate::amqp::DeliveryTag(4), multiple: false, requeue: true });
        c.broker.advance_to(VirtualTime(5_000));
        c.broker.assert_invariants();
        c.broker
    }

    fn state(
        b: &Broker,
    ) -> (Vec<crate::amqp::QueueInfo>, Vec<crate::amqp::ExchangeInfo>, Vec<Vec<crate::amqp::Delivery>>) {
        let queues = b.queues();
        let peeked = queues.iter().map(|q| b.peek(&q.name).expect("listed")).collect();
        (queues, b.exchanges(), peeked)
    }

    #[test]
    fn an_image_rebuilds_exactly_what_a_restart_keeps() {
        let broker = busy_broker();
        let mut restarted = broker.clone();
        restarted.restart(restarted.now());
        restarted.assert_invariants();
        let image = broker.durable_image();
        let (rebuilt, recovery) =
            Broker::from_durable_image(BrokerConfig::default(), 7, &image).expect("recovers");
        rebuilt.assert_invariants();
        assert_eq!(recovery, Recovery { skipped: Vec::new(), messages: image.message_count() as u64 });
        assert_eq!(state(&rebuilt), state(&restarted));
        assert_eq!(rebuilt.now(), restarted.now());
        assert_eq!(rebuilt.next_deadline(), restarted.next_deadline(), "the TTL timer is armed the same");
        // And through JSON, as the app stores it.
        let text = serde_json::to_string(&image).unwrap();
        let back: DurableImage = serde_json::from_str(&text).unwrap();
        assert_eq!(back, image);
    }

    #[test]
    fn the_image_keeps_durable_persistent_state_and_marks_unacked_redelivered() {
        let image = busy_broker().durable_image();
        let names: Vec<&str> = image.queues.iter().map(|q| q.definition.name.as_str()).collect();
        assert_eq!(names, ["durable", "prio", "quorum", "ttl"], "no transient or exclusive queue");
        let exchanges: Vec<&str> = image.exchanges.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(exchanges, ["orders"]);
        let bindings: Vec<(&str, &str)> =
            image.bindings.iter().map(|b| (b.source.as_str(), b.destination.as_str())).collect();
        assert_eq!(
            bindings,
            [("amq.direct", "prio"), ("orders", "durable")],
            "no binding to a transient end"
        );
        let bodies = |name: &str| -> Vec<(String, bool)> {
            let q = image.queues.iter().find(|q| q.definition.name == name).unwrap();
            q.messages.iter().map(|m| (m.body.clone(), m.redelivered)).collect()
        };
        // o0 and o1 (transient) were got unacked, o2 too: o0 and o2 come back redelivered in their place.
        let expected = [("o0", true), ("o2", true), ("o3", false), ("o5", false)];
        assert_eq!(bodies("durable"), expected.map(|(b, r)| (b.to_string(), r)));
        let prio = &image.queues.iter().find(|q| q.definition.name == "prio").unwrap().messages;
        assert_eq!(prio.len(), 2, "the transient high-priority message is lost");
        assert!(prio[0].base64 && prio[0].body == base64_encode(&[0, 159, 146, 150]), "binary body first");
        let quorum = &image.queues.iter().find(|q| q.definition.name == "quorum").unwrap().messages;
        let q: Vec<(&str, u16, bool)> =
            quorum.iter().map(|m| (m.body.as_str(), m.delivery_count, m.returned)).collect();
        // The unacked q1 is returned by the restart (front, counted); the nacked q0 went to the back.
        let expected = [("q1", 1, true), ("q2", 0, false), ("q3", 0, false), ("q0", 1, false)];
        assert_eq!(q, expected, "returns first, counted; a nacked message behind the rest");
        let ttl = &image.queues.iter().find(|q| q.definition.name == "ttl").unwrap().messages;
        assert_eq!(ttl[0].expires_at, Some(VirtualTime(61_000)), "the expiry is kept");
    }

    #[test]
    fn a_rebuilt_broker_behaves_like_the_restarted_one_afterwards() {
        let broker = busy_broker();
        let mut restarted = broker.clone();
        restarted.restart(restarted.now());
        let (mut rebuilt, _) =
            Broker::from_durable_image(BrokerConfig::default(), 7, &broker.durable_image()).unwrap();
        for b in [&mut restarted, &mut rebuilt] {
            let at = VirtualTime(70_000);
            let conn = b.connect(at, "after");
            b.apply(at, conn, ChannelNumber(1), Method::ChannelOpen).unwrap();
            let publish = Method::BasicPublish {
                exchange: "orders".into(),
                routing_key: "order.late".into(),
                mandatory: false,
                properties: BasicProperties { delivery_mode: Some(2), ..Default::default() },
                body: b"late".to_vec(),
                immediate: false,
            };
            b.apply(at, conn, ChannelNumber(1), publish).unwrap();
            b.assert_invariants();
        }
        assert_eq!(state(&rebuilt), state(&restarted), "the TTL fired alike and new ids continue alike");
        let ids = |b: &Broker| b.peek("durable").unwrap().iter().map(|d| d.message).collect::<Vec<_>>();
        assert_eq!(ids(&rebuilt), ids(&restarted));
    }

    #[test]
    fn the_recovery_discards_its_own_events_and_refuses_bad_images() {
        let image = busy_broker().durable_image();
        let (mut rebuilt, _) = Broker::from_durable_image(BrokerConfig::default(), 7, &image).unwrap();
        assert!(rebuilt.take_events().is_empty());
        let mut newer = image.clone();
        newer.format = IMAGE_FORMAT + 1;
        assert!(matches!(
            Broker::from_durable_image(BrokerConfig::default(), 7, &newer),
            Err(RecoveryError::NewerFormat(2))
        ));
        let mut bad = image.clone();
        bad.queues[1].messages[0].body = "not base64!".into();
        let err = Broker::from_durable_image(BrokerConfig::default(), 7, &bad).unwrap_err();
        assert!(err.to_string().contains("not valid base64"), "{err}");
        let mut bad = image;
        bad.queues[0].definition.arguments.insert("x-max-length".into(), FieldValue::Str("ten".into()));
        let err = Broker::from_durable_image(BrokerConfig::default(), 7, &bad).unwrap_err();
        assert!(err.to_string().starts_with("recovering queue 'durable': 406 PRECONDITION_FAILED"), "{err}");
    }

    /// A stream written over time (persistent, transient and binary messages), read in part by a
    /// consumer that has not acked, next to a classic queue.
    fn stream_broker() -> Broker {
        let mut c = Client::new();
        c.queue("log", true, false, &[("x-queue-type", FieldValue::Str("stream".into()))]);
        c.queue("plain", true, false, &[]);
        for (i, mode) in [2u8, 1, 2, 1].into_iter().enumerate() {
            c.broker.advance_to(VirtualTime(2_000 + 1_000 * i as u64));
            c.publish("", "log", mode, format!("s{i}").as_bytes(), None);
            c.publish("", "plain", mode, format!("p{i}").as_bytes(), None);
        }
        c.publish("", "log", 1, &[0, 255], None);
        c.ok(Method::BasicQos { prefetch_size: 0, prefetch_count: 2, global: false });
        let mut arguments = FieldTable::new();
        arguments.insert("x-stream-offset".into(), FieldValue::Str("first".into()));
        c.ok(Method::BasicConsume {
            queue: "log".into(),
            consumer_tag: "reader".into(),
            auto_ack: false,
            exclusive: false,
            arguments,
        });
        c.broker.advance_to(VirtualTime(9_000));
        c.broker.assert_invariants();
        c.broker
    }

    /// What a stream holds: each entry's offset, write instant and body.
    fn log_of(b: &Broker, queue: &str) -> (u64, Vec<(u64, VirtualTime, Vec<u8>)>) {
        let log = b.stream_log(queue).expect("a stream");
        (
            log.next_offset(),
            log.entries().map(|e| (e.offset, e.written_at, e.message.body().to_vec())).collect(),
        )
    }

    /// The bodies and `x-stream-offset` headers a new reader gets from `spec` on `b`.
    fn read_from(b: &mut Broker, spec: FieldValue) -> Vec<(String, Option<FieldValue>)> {
        let at = b.now();
        let conn = b.connect(at, "reader after");
        b.apply(at, conn, ChannelNumber(1), Method::ChannelOpen).unwrap();
        b.apply(
            at,
            conn,
            ChannelNumber(1),
            Method::BasicQos { prefetch_size: 0, prefetch_count: 100, global: false },
        )
        .unwrap();
        let arguments = [("x-stream-offset".to_string(), spec)].into_iter().collect();
        let consume = Method::BasicConsume {
            queue: "log".into(),
            consumer_tag: "r".into(),
            auto_ack: false,
            exclusive: false,
            arguments,
        };
        b.apply(at, conn, ChannelNumber(1), consume).unwrap();
        b.assert_invariants();
        b.take_events()
            .into_iter()
            .filter_map(|e| match e.event {
                crate::amqp::Event::Delivered { connection, delivery, .. } if connection == conn => Some((
                    String::from_utf8_lossy(&delivery.body).into_owned(),
                    delivery.properties.headers.get("x-stream-offset").cloned(),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_stream_keeps_its_whole_log_and_offsets_across_the_image() {
        let broker = stream_broker();
        let mut restarted = broker.clone();
        restarted.restart(restarted.now());
        let image = broker.durable_image();
        let log = image.queues.iter().find(|q| q.definition.name == "log").expect("the stream is kept");
        assert_eq!(log.stream_next_offset, Some(5));
        let entries: Vec<(Option<u64>, Option<VirtualTime>, &str)> =
            log.messages.iter().map(|m| (m.offset, m.written_at, m.body.as_str())).collect();
        assert_eq!(
            entries,
            [
                (Some(0), Some(VirtualTime(2_000)), "s0"),
                (Some(1), Some(VirtualTime(3_000)), "s1"),
                (Some(2), Some(VirtualTime(4_000)), "s2"),
                (Some(3), Some(VirtualTime(5_000)), "s3"),
                (Some(4), Some(VirtualTime(5_000)), "AP8="),
            ],
            "transient messages too (osiris writes everything), the unacked reads change nothing"
        );
        let plain = image.queues.iter().find(|q| q.definition.name == "plain").unwrap();
        assert_eq!(plain.messages.len(), 2, "a classic queue keeps only its persistent messages");
        assert_eq!(plain.stream_next_offset, None);

        let (mut rebuilt, recovery) =
            Broker::from_durable_image(BrokerConfig::default(), 7, &image).expect("recovers");
        rebuilt.assert_invariants();
        assert_eq!(recovery.messages, 7);
        assert_eq!(log_of(&rebuilt, "log"), log_of(&restarted, "log"), "same offsets, instants and bodies");
        assert_eq!(log_of(&rebuilt, "log"), log_of(&broker, "log"), "the restart itself keeps the log");
        assert_eq!(state(&rebuilt), state(&restarted));
        drop(restarted.take_events());
        for spec in [
            FieldValue::Str("first".into()),
            FieldValue::Int(3),
            FieldValue::Typed(crate::amqp::TypedValue::Timestamp(4)),
            FieldValue::Str("5s".into()),
        ] {
            let a = read_from(&mut rebuilt, spec.clone());
            assert_eq!(a, read_from(&mut restarted, spec.clone()), "{spec:?}");
            assert!(!a.is_empty(), "{spec:?} reads something");
        }
        let text = serde_json::to_string(&image).unwrap();
        assert_eq!(serde_json::from_str::<DurableImage>(&text).unwrap(), image);
    }

    #[test]
    fn a_stream_log_that_cannot_be_as_written_is_refused() {
        let image = stream_broker().durable_image();
        let log = image.queues.iter().position(|q| q.definition.name == "log").unwrap();
        let refused = |edit: &dyn Fn(&mut DurableImage)| {
            let mut bad = image.clone();
            edit(&mut bad);
            Broker::from_durable_image(BrokerConfig::default(), 7, &bad).unwrap_err().to_string()
        };
        let e = refused(&|i| i.queues[log].messages[2].offset = Some(7));
        assert!(e.contains("does not follow"), "{e}");
        let e = refused(&|i| i.queues[log].messages[1].written_at = Some(VirtualTime(1_000)));
        assert!(e.contains("written before"), "{e}");
        let e = refused(&|i| i.queues[log].messages[0].written_at = None);
        assert!(e.contains("needs its offset and written_at"), "{e}");
        let e = refused(&|i| i.queues[log].messages[4].written_at = Some(VirtualTime(99_000)));
        assert!(e.contains("after the image was taken"), "{e}");
        let e = refused(&|i| i.queues[log].stream_next_offset = Some(9));
        assert_eq!(e, "recovering stream 'log': stream_next_offset 9 does not follow its last entry (4)");
        let plain = image.queues.iter().position(|q| q.definition.name == "plain").unwrap();
        let e = refused(&|i| i.queues[plain].stream_next_offset = Some(0));
        assert!(e.contains("not a stream"), "{e}");
        // Retention had removed the first entries: the log starts where the image says.
        let mut trimmed = image.clone();
        trimmed.queues[log].messages.drain(..2);
        let (b, _) = Broker::from_durable_image(BrokerConfig::default(), 7, &trimmed).unwrap();
        let l = b.stream_log("log").unwrap();
        assert_eq!((l.first_offset(), l.next_offset()), (2, 5));
        b.assert_invariants();
        // And an emptied one still numbers the next message after the last.
        let mut emptied = image;
        emptied.queues[log].messages.clear();
        let (b, _) = Broker::from_durable_image(BrokerConfig::default(), 7, &emptied).unwrap();
        assert_eq!(b.stream_log("log").unwrap().next_offset(), 5);
    }

    #[test]
    fn base64_round_trips_and_refuses_garbage() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar", &[0, 255, 128, 7]] {
            let text = base64_encode(data);
            assert_eq!(base64_decode(&text).as_deref(), Some(data), "{text}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm8"), None);
        assert_eq!(base64_decode("Zm=8"), None);
        assert_eq!(base64_decode("Z!8="), None);
    }
}
