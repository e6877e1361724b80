//! Test support: a small driver for the AMQP broker that checks invariants after every step and keeps
//! the event log, plus builders for the methods tests send.
#![allow(dead_code)]

use broker_core::amqp::{
    AmqpError, BasicProperties, Broker, BrokerConfig, ChannelNumber, ConnectionId, Delivery, DeliveryTag,
    ErrorScope, Event, FieldTable, FieldValue, LoggedEvent, Method, Reply,
};
use broker_core::VirtualTime;
use std::collections::BTreeMap;

/// A broker under test with its own clock and the events seen so far.
pub struct Sim {
    pub broker: Broker,
    pub now: u64,
    pub log: Vec<LoggedEvent>,
    next_channel: BTreeMap<ConnectionId, u16>,
}

impl Default for Sim {
    fn default() -> Self {
        Self::new()
    }
}

impl Sim {
    pub fn new() -> Self {
        Sim {
            broker: Broker::new(BrokerConfig::default(), 42),
            now: 0,
            log: Vec::new(),
            next_channel: BTreeMap::new(),
        }
    }

    fn collect(&mut self) {
        self.broker.assert_invariants();
        self.log.extend(self.broker.take_events());
    }

    /// Opens a connection with one open channel.
    pub fn client(&mut self) -> (ConnectionId, ChannelNumber) {
        let c = self.broker.connect(VirtualTime(self.now), "test");
        let ch = self.channel(c);
        (c, ch)
    }

    /// Opens another channel on `c`.
    pub fn channel(&mut self, c: ConnectionId) -> ChannelNumber {
        let n = self.next_channel.entry(c).or_insert(0);
        *n += 1;
        let ch = ChannelNumber(*n);
        let r = self.broker.apply(VirtualTime(self.now), c, ch, Method::ChannelOpen);
        assert_eq!(r, Ok(Reply::ChannelOpenOk { channel: ch }));
        self.collect();
        ch
    }

    pub fn try_apply(&mut self, c: ConnectionId, ch: ChannelNumber, m: Method) -> Result<Reply, AmqpError> {
        let r = self.broker.apply(VirtualTime(self.now), c, ch, m);
        self.collect();
        r
    }

    /// Applies a method that must succeed.
    pub fn ok(&mut self, c: ConnectionId, ch: ChannelNumber, m: Method) -> Reply {
        let name = m.amqp_name();
        match self.try_apply(c, ch, m) {
            Ok(r) => r,
            Err(e) => panic!("{name} failed: {e}"),
        }
    }

    /// Applies a method that must fail with a channel error; checks the channel closed and the
    /// connection stayed open. Returns `"<code> <text>"`.
    pub fn channel_err(&mut self, c: ConnectionId, ch: ChannelNumber, m: Method) -> String {
        let name = m.amqp_name();
        let e = self.try_apply(c, ch, m).expect_err(&format!("{name} should fail"));
        assert_eq!(e.scope, ErrorScope::Channel, "{e}");
        assert!(!self.broker.is_channel_open(c, ch), "the channel closes on a channel error");
        assert!(self.broker.is_open(c), "the connection stays open on a channel error");
        let closed = self.log.iter().rev().find_map(|e| match &e.event {
            Event::ChannelClosed { connection, channel, error: Some(err) }
                if *connection == c && *channel == ch =>
            {
                Some(err.clone())
            }
            _ => None,
        });
        assert_eq!(closed.as_ref(), Some(&e), "the error is logged with the channel close");
        e.to_string()
    }

    /// Applies a method that must fail with a connection error; checks the connection closed.
    pub fn connection_err(&mut self, c: ConnectionId, ch: ChannelNumber, m: Method) -> String {
        let name = m.amqp_name();
        let e = self.try_apply(c, ch, m).expect_err(&format!("{name} should fail"));
        assert_eq!(e.scope, ErrorScope::Connection, "{e}");
        assert!(!self.broker.is_open(c), "a connection error closes the connection");
        e.to_string()
    }

    /// Moves the clock to `ms` (absolute), firing deadlines.
    pub fn at(&mut self, ms: u64) {
        self.now = ms;
        self.broker.advance_to(VirtualTime(ms));
        self.collect();
    }

    pub fn close_connection(&mut self, c: ConnectionId) {
        self.broker.close_connection(VirtualTime(self.now), c);
        self.collect();
    }

    /// Deliveries pushed to consumers (not `basic.get`) so far on `c`/`ch`, in order.
    pub fn delivered(&self, c: ConnectionId, ch: ChannelNumber) -> Vec<Delivery> {
        self.log
            .iter()
            .filter_map(|e| match &e.event {
                Event::Delivered { connection, channel, delivery, .. }
                    if *connection == c && *channel == ch && delivery.consumer_tag.is_some() =>
                {
                    Some((**delivery).clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Deliveries pushed to consumer `ctag`.
    pub fn delivered_to(&self, ctag: &str) -> Vec<Delivery> {
        self.log
            .iter()
            .filter_map(|e| match &e.event {
                Event::Delivered { delivery, .. } if delivery.consumer_tag.as_deref() == Some(ctag) => {
                    Some((**delivery).clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Publisher confirms on `c`/`ch` as `(seq, ack)`.
    pub fn confirms(&self, c: ConnectionId, ch: ChannelNumber) -> Vec<(u64, bool)> {
        self.log
            .iter()
            .filter_map(|e| match &e.event {
                Event::Confirmed { connection, channel, delivery_tag, ack, .. }
                    if *connection == c && *channel == ch =>
                {
                    Some((delivery_tag.0, *ack))
                }
                _ => None,
            })
            .collect()
    }

    /// `basic.get` with manual ack; `None` for get-empty.
    pub fn get(&mut self, c: ConnectionId, ch: ChannelNumber, q: &str) -> Option<Delivery> {
        match self.ok(c, ch, get(q)) {
            Reply::BasicGetOk(d) => Some(*d),
            Reply::BasicGetEmpty => None,
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Bodies of every message in `q`, emptying it with auto-ack gets.
    pub fn drain(&mut self, c: ConnectionId, ch: ChannelNumber, q: &str) -> Vec<String> {
        let mut out = Vec::new();
        while let Reply::BasicGetOk(d) = self.ok(c, ch, Method::BasicGet { queue: q.into(), auto_ack: true })
        {
            out.push(String::from_utf8(d.body).unwrap());
        }
        out
    }

    pub fn ready(&self, q: &str) -> u32 {
        self.broker
            .queues()
            .into_iter()
            .find(|i| i.name == q)
            .map(|i| i.messages_ready)
            .unwrap_or_else(|| panic!("no queue {q}"))
    }

    pub fn has_queue(&self, q: &str) -> bool {
        self.broker.queues().iter().any(|i| i.name == q)
    }

    /// The transcript lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.log.iter().map(|e| e.event.to_string()).collect()
    }
}

pub fn int(i: i64) -> FieldValue {
    FieldValue::Int(i)
}
pub fn s(v: &str) -> FieldValue {
    FieldValue::Str(v.into())
}
pub fn args(pairs: &[(&str, FieldValue)]) -> FieldTable {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

pub fn qd(name: &str) -> Method {
    qd_args(name, &[])
}
pub fn qd_args(name: &str, a: &[(&str, FieldValue)]) -> Method {
    Method::QueueDeclare {
        queue: name.into(),
        passive: false,
        durable: false,
        exclusive: false,
        auto_delete: false,
        arguments: args(a),
    }
}
pub fn qd_durable(name: &str, a: &[(&str, FieldValue)]) -> Method {
    Method::QueueDeclare {
        queue: name.into(),
        passive: false,
        durable: true,
        exclusive: false,
        auto_delete: false,
        arguments: args(a),
    }
}
pub fn qd_passive(name: &str) -> Method {
    Method::QueueDeclare {
        queue: name.into(),
        passive: true,
        durable: false,
        exclusive: false,
        auto_delete: false,
        arguments: FieldTable::new(),
    }
}
pub fn xd(name: &str, kind: &str) -> Method {
    Method::ExchangeDeclare {
        exchange: name.into(),
        exchange_type: kind.into(),
        passive: false,
        durable: false,
        auto_delete: false,
        internal: false,
        arguments: FieldTable::new(),
    }
}
pub fn xd_args(name: &str, kind: &str, a: &[(&str, FieldValue)]) -> Method {
    Method::ExchangeDeclare {
        exchange: name.into(),
        exchange_type: kind.into(),
        passive: false,
        durable: false,
        auto_delete: false,
        internal: false,
        arguments: args(a),
    }
}
pub fn bind(q: &str, x: &str, key: &str) -> Method {
    Method::QueueBind {
        queue: q.into(),
        exchange: x.into(),
        routing_key: key.into(),
        arguments: FieldTable::new(),
    }
}
pub fn xbind(destination: &str, source: &str, key: &str) -> Method {
    Method::ExchangeBind {
        destination: destination.into(),
        source: source.into(),
        routing_key: key.into(),
        arguments: FieldTable::new(),
    }
}
pub fn publish(x: &str, key: &str, body: &str) -> Method {
    publish_props(x, key, body, BasicProperties::default())
}
pub fn publish_props(x: &str, key: &str, body: &str, properties: BasicProperties) -> Method {
    Method::BasicPublish {
        exchange: x.into(),
        routing_key: key.into(),
        mandatory: false,
        properties,
        body: body.as_bytes().to_vec(),
        immediate: false,
    }
}
pub fn publish_mandatory(x: &str, key: &str, body: &str) -> Method {
    Method::BasicPublish {
        exchange: x.into(),
        routing_key: key.into(),
        mandatory: true,
        properties: BasicProperties::default(),
        body: body.as_bytes().to_vec(),
        immediate: false,
    }
}
pub fn expiring(ms: &str) -> BasicProperties {
    BasicProperties { expiration: Some(ms.into()), ..Default::default() }
}
pub fn get(q: &str) -> Method {
    Method::BasicGet { queue: q.into(), auto_ack: false }
}
pub fn consume(q: &str, tag: &str) -> Method {
    Method::BasicConsume {
        queue: q.into(),
        consumer_tag: tag.into(),
        auto_ack: false,
        exclusive: false,
        arguments: FieldTable::new(),
    }
}
pub fn consume_exclusive(q: &str, tag: &str) -> Method {
    Method::BasicConsume {
        queue: q.into(),
        consumer_tag: tag.into(),
        auto_ack: false,
        exclusive: true,
        arguments: FieldTable::new(),
    }
}
pub fn consume_auto(q: &str, tag: &str) -> Method {
    Method::BasicConsume {
        queue: q.into(),
        consumer_tag: tag.into(),
        auto_ack: true,
        exclusive: false,
        arguments: FieldTable::new(),
    }
}
pub fn cancel(tag: &str) -> Method {
    Method::BasicCancel { consumer_tag: tag.into() }
}
pub fn ack(tag: u64) -> Method {
    Method::BasicAck { delivery_tag: DeliveryTag(tag), multiple: false }
}
pub fn ack_multiple(tag: u64) -> Method {
    Method::BasicAck { delivery_tag: DeliveryTag(tag), multiple: true }
}
pub fn nack(tag: u64, requeue: bool) -> Method {
    Method::BasicNack { delivery_tag: DeliveryTag(tag), multiple: false, requeue }
}
pub fn reject(tag: u64, requeue: bool) -> Method {
    Method::BasicReject { delivery_tag: DeliveryTag(tag), requeue }
}
pub fn qos(prefetch_count: u16, global: bool) -> Method {
    Method::BasicQos { prefetch_size: 0, prefetch_count, global }
}

/// The body of a delivery as text.
pub fn body(d: &Delivery) -> String {
    String::from_utf8(d.body.clone()).unwrap()
}

/// The `x-death` entries of a delivery.
pub fn x_death(d: &Delivery) -> Vec<FieldTable> {
    match d.properties.headers.get("x-death") {
        Some(FieldValue::Array(items)) => items
            .iter()
            .map(|v| match v {
                FieldValue::Table(t) => t.clone(),
                other => panic!("x-death entry is not a table: {other:?}"),
            })
            .collect(),
        other => panic!("no x-death array: {other:?}"),
    }
}
