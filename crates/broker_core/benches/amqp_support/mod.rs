//! The client and the direct publish → deliver → ack pipeline of `benches/amqp.rs`, with its
//! `VecDeque` baseline, in a file of their own so that the wasm-against-native measurement
//! (`crates/amqp_wasm_bench`, `scripts/wasm-bench.sh`) runs exactly the loop criterion times: that crate
//! includes this file by path. Only `broker_core` and `std` are used here, so it builds for wasm32.
//!
//! Acks are sent without reading deliveries back: delivery tags count up from 1 per channel, so with one
//! consumer per channel the client knows the next tag.

// Each includer uses a different part of this file.
#![allow(dead_code)]

use broker_core::amqp::{
    BasicProperties, Broker, BrokerConfig, ChannelNumber, ConnectionId, DeliveryTag, Event, FieldTable,
    Method, Reply,
};
use broker_core::VirtualTime;
use std::collections::VecDeque;
use std::hint::black_box;

/// Every message body is this long, as the goals in BENCHMARKS.md are stated for 64-byte messages.
pub const BODY_BYTES: usize = 64;
/// Messages published per timed iteration of the queue benchmarks.
pub const BATCH_MESSAGES: u64 = 1_000;
/// `basic.qos` prefetch of every manual-ack consumer.
pub const PREFETCH_COUNT: u16 = 100;

/// A fresh 64-byte body: a publish hands the broker an owned `Vec<u8>`, so every benchmark (the
/// baseline included) allocates one per message.
pub fn body() -> Vec<u8> {
    vec![b'm'; BODY_BYTES]
}

/// One client connection to a broker, on a virtual clock the benchmark moves forward.
pub struct Client {
    pub broker: Broker,
    connection: ConnectionId,
    now: VirtualTime,
    /// What the broker was configured with (its config is not readable back).
    record_events: bool,
}

impl Client {
    pub fn new(record_events: bool) -> Self {
        let config = BrokerConfig { record_events, ..BrokerConfig::default() };
        let mut broker = Broker::new(config, 42);
        let now = VirtualTime::ZERO;
        let connection = broker.connect(now, "bench");
        Client { broker, connection, now, record_events }
    }

    /// Applies `method`; the benchmarks only send valid methods, so an error is a bug worth stopping on.
    pub fn call(&mut self, channel: u16, method: Method) -> Reply {
        let name = method.amqp_name();
        match self.broker.apply(self.now, self.connection, ChannelNumber(channel), method) {
            Ok(reply) => reply,
            Err(error) => panic!("{name} on channel {channel} failed: {error}"),
        }
    }

    /// Moves the virtual clock by a millisecond, as a real client's batches are apart in time.
    pub fn tick(&mut self) {
        self.now = self.now.plus_millis(1);
    }

    pub fn open_channel(&mut self, channel: u16) {
        self.call(channel, Method::ChannelOpen);
    }

    pub fn declare_exchange(&mut self, channel: u16, exchange: &str, exchange_type: &str) {
        self.call(
            channel,
            Method::ExchangeDeclare {
                exchange: exchange.to_string(),
                exchange_type: exchange_type.to_string(),
                passive: false,
                durable: false,
                auto_delete: false,
                internal: false,
                arguments: FieldTable::new(),
            },
        );
    }

    pub fn declare_queue(&mut self, channel: u16, queue: &str) {
        self.call(
            channel,
            Method::QueueDeclare {
                queue: queue.to_string(),
                passive: false,
                durable: false,
                exclusive: false,
                auto_delete: false,
                arguments: FieldTable::new(),
            },
        );
    }

    pub fn bind(&mut self, channel: u16, queue: &str, exchange: &str, routing_key: &str) {
        self.call(
            channel,
            Method::QueueBind {
                queue: queue.to_string(),
                exchange: exchange.to_string(),
                routing_key: routing_key.to_string(),
                arguments: FieldTable::new(),
            },
        );
    }

    pub fn consume(&mut self, channel: u16, queue: &str, auto_ack: bool) {
        self.call(
            channel,
            Method::BasicConsume {
                queue: queue.to_string(),
                consumer_tag: String::new(),
                auto_ack,
                exclusive: false,
                arguments: FieldTable::new(),
            },
        );
    }

    pub fn qos(&mut self, channel: u16, prefetch_count: u16) {
        self.call(channel, Method::BasicQos { prefetch_size: 0, prefetch_count, global: false });
    }

    /// One `basic.publish` of a fresh 64-byte body with default properties.
    pub fn publish(&mut self, channel: u16, exchange: &str, routing_key: &str) {
        self.call(
            channel,
            Method::BasicPublish {
                exchange: exchange.to_string(),
                routing_key: routing_key.to_string(),
                mandatory: false,
                properties: BasicProperties::default(),
                body: body(),
                immediate: false,
            },
        );
    }

    pub fn ack(&mut self, channel: u16, delivery_tag: u64) {
        self.call(channel, Method::BasicAck { delivery_tag: DeliveryTag(delivery_tag), multiple: false });
    }

    /// (ready, unacknowledged) of `queue`.
    pub fn depth(&self, queue: &str) -> (u32, u32) {
        let info = self.broker.queues().into_iter().find(|q| q.name == queue);
        let info = info.unwrap_or_else(|| panic!("queue '{queue}' missing"));
        (info.messages_ready, info.messages_unacknowledged)
    }
}

// ------------------------------------------------------------------------------------------ direct

/// Channel 1 consumes queue `bench.direct.q` (manual ack, prefetch 100); channel 2 publishes to exchange
/// `bench.direct` with the queue's binding key.
pub struct DirectPipeline {
    pub client: Client,
    /// The delivery tag the consumer's next delivery gets on channel 1.
    next_tag: u64,
}

pub const DIRECT_EXCHANGE: &str = "bench.direct";
pub const DIRECT_QUEUE: &str = "bench.direct.q";
pub const DIRECT_KEY: &str = "work";

impl DirectPipeline {
    pub fn new(record_events: bool) -> Self {
        let mut client = Client::new(record_events);
        client.open_channel(1);
        client.open_channel(2);
        client.declare_exchange(1, DIRECT_EXCHANGE, "direct");
        client.declare_queue(1, DIRECT_QUEUE);
        client.bind(1, DIRECT_QUEUE, DIRECT_EXCHANGE, DIRECT_KEY);
        client.qos(1, PREFETCH_COUNT);
        client.consume(1, DIRECT_QUEUE, false);
        client.broker.take_events();
        DirectPipeline { client, next_tag: 1 }
    }

    /// Publishes a batch, leaving 100 messages delivered and the rest ready.
    pub fn publish_batch(&mut self) {
        self.client.tick();
        for _ in 0..BATCH_MESSAGES {
            self.client.publish(2, DIRECT_EXCHANGE, DIRECT_KEY);
        }
    }

    /// Acks one message at a time (`multiple=false`), as a consumer processing messages one by one does;
    /// every ack frees a prefetch slot, so the broker delivers the next ready message.
    pub fn ack_batch(&mut self) {
        self.client.tick();
        for _ in 0..BATCH_MESSAGES {
            self.client.ack(1, self.next_tag);
            self.next_tag += 1;
        }
    }

    pub fn run_batch(&mut self) {
        self.publish_batch();
        self.ack_batch();
        // With the log on, a client drains it every batch; that cost belongs to the log.
        if self.client.record_events {
            black_box(self.client.broker.take_events());
        }
    }
}

/// A direct pipeline after one checked batch: prefetch holds back all but 100, every ack delivers one.
pub fn verified_direct(record_events: bool) -> DirectPipeline {
    let mut direct = DirectPipeline::new(record_events);
    let batch = BATCH_MESSAGES as u32;
    let prefetch = u32::from(PREFETCH_COUNT);
    direct.publish_batch();
    assert_eq!(direct.client.depth(DIRECT_QUEUE), (batch - prefetch, prefetch), "direct: prefetch 100");
    direct.ack_batch();
    assert_eq!(direct.client.depth(DIRECT_QUEUE), (0, 0), "direct: every message acked");
    if record_events {
        let events = direct.client.broker.take_events();
        let delivered = events.iter().filter(|e| matches!(e.event, Event::Delivered { .. })).count();
        let acked = events.iter().filter(|e| matches!(e.event, Event::Acked { .. })).count();
        assert_eq!((delivered, acked), (batch as usize, batch as usize), "direct: one delivery per ack");
    }
    direct
}

/// The baseline's batch: [`BATCH_MESSAGES`] fresh bodies pushed onto a `VecDeque`, then popped.
pub fn baseline_batch(queue: &mut VecDeque<Vec<u8>>) {
    for _ in 0..BATCH_MESSAGES {
        queue.push_back(body());
    }
    for _ in 0..BATCH_MESSAGES {
        black_box(queue.pop_front());
    }
}
