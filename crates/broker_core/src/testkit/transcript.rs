//! A deterministic transcript: a feature-rich scripted scenario followed by a seeded random workload,
//! returned as the engine's event log. The determinism test runs it twice natively; the web app's
//! browser test runs it in wasm; both must print the same text for the same seed.
//!
//! Pure computation only: no clock, no threads, no I/O, no hash-map iteration.

use super::model::Model;
use super::workload::{Op, Workload};
use crate::amqp::{
    BasicProperties, Broker, BrokerConfig, ChannelNumber, ConnectionId, DeliveryTag, FieldTable, FieldValue,
    LoggedEvent, Method, Reply,
};
use crate::clock::VirtualTime;

/// Steps of random workload appended after the scripted part.
pub const RANDOM_STEPS: u64 = 400;

/// The full event log of [`deterministic_events`], one event per line.
pub fn deterministic_transcript(seed: u64) -> String {
    let mut out = String::new();
    for e in deterministic_events(seed) {
        out.push_str(&e.to_string());
        out.push('\n');
    }
    out
}

/// The scripted scenario's events (broker seeded with `seed`), then the random workload's (a second
/// broker, same seed).
pub fn deterministic_events(seed: u64) -> Vec<LoggedEvent> {
    let mut events = scripted(seed);
    events.extend(random(seed, RANDOM_STEPS));
    events
}

/// A small driver that keeps the time and ignores replies it does not need.
struct Script {
    broker: Broker,
    now: u64,
}

impl Script {
    fn at(&self) -> VirtualTime {
        VirtualTime::from_millis(self.now)
    }

    fn wait(&mut self, millis: u64) {
        self.now += millis;
        let at = self.at();
        self.broker.advance_to(at);
    }

    fn call(&mut self, c: ConnectionId, ch: u16, method: Method) -> Option<Reply> {
        self.now += 1;
        let at = self.at();
        self.broker.apply(at, c, ChannelNumber(ch), method).ok()
    }

    fn declare_queue(
        &mut self,
        c: ConnectionId,
        ch: u16,
        name: &str,
        exclusive: bool,
        args: FieldTable,
    ) -> String {
        let reply = self.call(
            c,
            ch,
            Method::QueueDeclare {
                queue: name.to_string(),
                passive: false,
                durable: false,
                exclusive,
                auto_delete: false,
                arguments: args,
            },
        );
        match reply {
            Some(Reply::QueueDeclareOk { queue, .. }) => queue,
            _ => name.to_string(),
        }
    }

    fn declare_exchange(&mut self, c: ConnectionId, name: &str, kind: &str) {
        self.call(
            c,
            1,
            Method::ExchangeDeclare {
                exchange: name.to_string(),
                exchange_type: kind.to_string(),
                passive: false,
                durable: false,
                auto_delete: false,
                internal: false,
                arguments: FieldTable::new(),
            },
        );
    }

    fn bind(&mut self, c: ConnectionId, queue: &str, exchange: &str, key: &str) {
        self.call(
            c,
            1,
            Method::QueueBind {
                queue: queue.to_string(),
                exchange: exchange.to_string(),
                routing_key: key.to_string(),
                arguments: FieldTable::new(),
            },
        );
    }

    fn publish(
        &mut self,
        c: ConnectionId,
        exchange: &str,
        key: &str,
        body: &str,
        properties: BasicProperties,
    ) {
        self.call(
            c,
            1,
            Method::BasicPublish {
                exchange: exchange.to_string(),
                routing_key: key.to_string(),
                mandatory: true,
                properties,
                body: body.as_bytes().to_vec(),
                immediate: false,
            },
        );
    }

    fn consume(&mut self, c: ConnectionId, ch: u16, queue: &str, auto_ack: bool) -> String {
        match self.call(
            c,
            ch,
            Method::BasicConsume {
                queue: queue.to_string(),
                consumer_tag: String::new(),
                auto_ack,
                exclusive: false,
                arguments: FieldTable::new(),
            },
        ) {
            Some(Reply::BasicConsumeOk { consumer_tag }) => consumer_tag,
            _ => String::new(),
        }
    }
}

fn args(entries: &[(&str, FieldValue)]) -> FieldTable {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Routing of every kind, TTL (queue and message), dead-lettering, length limits with both overflow
/// modes, prefetch, ack / nack / reject, confirms, mandatory returns, server-named queues and consumer
/// tags (which depend on the seed), channel close with requeue, and a channel error.
fn scripted(seed: u64) -> Vec<LoggedEvent> {
    let mut s = Script { broker: Broker::new(BrokerConfig::default(), seed), now: 0 };
    let producer = s.broker.connect(s.at(), "producer");
    let consumer = s.broker.connect(s.at(), "consumer");
    s.call(producer, 1, Method::ChannelOpen);
    s.call(consumer, 1, Method::ChannelOpen);
    s.call(consumer, 2, Method::ChannelOpen);
    s.declare_exchange(producer, "orders", "topic");
    s.declare_exchange(producer, "fan", "fanout");
    s.declare_exchange(producer, "dlx", "direct");
    s.declare_exchange(producer, "route", "direct");
    let int = FieldValue::Int;
    let text = |t: &str| FieldValue::Str(t.to_string());
    let work = s.declare_queue(
        producer,
        1,
        "work",
        false,
        args(&[("x-message-ttl", int(500)), ("x-dead-letter-exchange", text("dlx"))]),
    );
    let dead = s.declare_queue(producer, 1, "dead", false, FieldTable::new());
    let capped = s.declare_queue(
        producer,
        1,
        "capped",
        false,
        args(&[
            ("x-max-length", int(2)),
            ("x-dead-letter-exchange", text("dlx")),
            ("x-dead-letter-routing-key", text("work")),
        ]),
    );
    let strict = s.declare_queue(
        producer,
        1,
        "strict",
        false,
        args(&[("x-max-length", int(1)), ("x-overflow", text("reject-publish"))]),
    );
    let private = s.declare_queue(consumer, 1, "", true, FieldTable::new());
    s.bind(producer, &work, "orders", "*.created");
    s.bind(producer, &capped, "orders", "order.#");
    s.bind(producer, &dead, "dlx", "work");
    s.bind(producer, &dead, "dlx", "order.paid");
    s.bind(consumer, &private, "fan", "");
    s.bind(producer, &strict, "route", "strict");
    s.call(producer, 1, Method::ConfirmSelect);
    s.call(consumer, 1, Method::BasicQos { prefetch_size: 0, prefetch_count: 2, global: false });
    let _work_tag = s.consume(consumer, 1, &work, false);
    let _private_tag = s.consume(consumer, 2, &private, true);
    for (i, key) in
        ["order.created", "user.created", "order.paid", "order.created", "nowhere"].iter().enumerate()
    {
        s.publish(producer, "orders", key, &format!("o{i}"), BasicProperties::default());
    }
    let short = BasicProperties { expiration: Some("50".to_string()), ..BasicProperties::default() };
    s.publish(producer, "orders", "order.created", "short-lived", short);
    s.publish(producer, "fan", "", "hello everyone", BasicProperties::default());
    for i in 0..3 {
        s.publish(producer, "route", "strict", &format!("s{i}"), BasicProperties::default());
    }
    // Settle: ack the first, nack the second back, reject the third to the dead-letter exchange.
    s.call(consumer, 1, Method::BasicAck { delivery_tag: DeliveryTag(1), multiple: false });
    s.call(consumer, 1, Method::BasicNack { delivery_tag: DeliveryTag(2), multiple: false, requeue: true });
    s.wait(10);
    s.call(consumer, 1, Method::BasicReject { delivery_tag: DeliveryTag(3), requeue: false });
    s.wait(100);
    s.call(consumer, 2, Method::BasicGet { queue: dead.clone(), auto_ack: false });
    s.call(consumer, 2, Method::BasicAck { delivery_tag: DeliveryTag(0), multiple: true });
    // A channel error, then closing the consumer's channel requeues what it holds.
    s.call(consumer, 2, Method::BasicAck { delivery_tag: DeliveryTag(99), multiple: false });
    s.call(consumer, 1, Method::ChannelClose);
    s.wait(2000);
    s.call(producer, 1, Method::BasicGet { queue: dead, auto_ack: true });
    s.call(producer, 1, Method::BasicGet { queue: capped, auto_ack: true });
    s.broker.close_connection(s.at(), consumer);
    s.wait(1);
    s.broker.take_events()
}

/// The seeded random workload against a fresh broker (the reference model only aims the generator).
fn random(seed: u64, steps: u64) -> Vec<LoggedEvent> {
    random_run(seed, steps).1
}

/// Runs `steps` of the seeded random workload on a fresh broker; returns the broker (for comparing final
/// states) and its event log.
pub fn random_run(seed: u64, steps: u64) -> (Broker, Vec<LoggedEvent>) {
    let mut broker = Broker::new(BrokerConfig::default(), seed);
    let mut model = Model::new();
    let mut workload = Workload::new(seed);
    let mut events = Vec::new();
    for i in 0..steps {
        let step = workload.next_step(&model);
        let at = VirtualTime::from_millis(step.at_millis);
        match step.op {
            Op::Connect => {
                broker.connect(at, &format!("random{i}"));
                model.connect(step.at_millis);
            }
            Op::CloseConnection(c) => {
                broker.close_connection(at, c);
                model.close_connection(step.at_millis, c);
            }
            Op::Advance => {
                broker.advance_to(at);
                model.advance_to(step.at_millis);
            }
            Op::Method { connection, channel, method } => {
                let _ = broker.apply(at, connection, channel, method.clone());
                let _ = model.apply(step.at_millis, connection, channel, &method);
                // Nothing is compared here; drop what the model gathered so it does not pile up.
                let _ = model.take_observed();
            }
        }
        events.extend(broker.take_events());
    }
    (broker, events)
}
