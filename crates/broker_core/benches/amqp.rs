//! Criterion benchmarks of the AMQP engine's hot paths, with a plain `VecDeque` as the baseline.
//!
//! Everything runs in one criterion group so that the ratios in BENCHMARKS.md compare figures taken in
//! the same process, minutes apart, on the same machine. Each timed iteration moves a batch of
//! [`BATCH_MESSAGES`] messages (except the route-only benches, one route per iteration), and the broker
//! lives across iterations, so the figures are steady-state costs, not set-up costs.
//!
//! The client, the direct pipeline and the baseline's batch are in `amqp_support/` (the wasm measurement
//! runs the same file). Acks are sent without reading deliveries back: delivery tags count up from 1 per
//! channel, so with one consumer per channel the client knows the next tag. Before timing, each benchmark runs its scenario
//! once and checks the queue counters (and, with events on, the delivery events), so an engine that
//! routes or delivers nothing cannot pass as fast.
//!
//! Run: `CARGO_TARGET_DIR=/work/targets/h5 cargo +web bench -p broker_core --bench amqp`.

mod amqp_support;

use amqp_support::{baseline_batch, verified_direct, Client, BATCH_MESSAGES, PREFETCH_COUNT};
use broker_core::amqp::exchange::{Binding, BindingTable, Destination, ExchangeType};
use broker_core::amqp::{FieldTable, Name};
use broker_core::Prng;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::collections::{BTreeSet, VecDeque};
use std::hint::black_box;
use std::time::Duration;

/// Queues a fanout message is copied to.
const FANOUT_QUEUES: u16 = 10;
/// Queues the non-matching topic bindings are spread over (the same for every binding count).
const TOPIC_QUEUES: usize = 100;
/// The routing key every topic benchmark publishes; [`TOPIC_MATCHING_PATTERNS`] are the only patterns
/// it matches.
const TOPIC_PROBE_KEY: &str = "eu.orders.invoice.created";
/// Patterns that match [`TOPIC_PROBE_KEY`], one per queue, mixing `*` and `#` like the rest.
const TOPIC_MATCHING_PATTERNS: [&str; 4] =
    ["eu.orders.invoice.created", "eu.*.invoice.*", "#.created", "eu.orders.#"];

// ------------------------------------------------------------------------------------------ fanout

/// Channels 1..=10 each consume one of the fanout's queues (manual ack, prefetch 100); channel 11
/// publishes to exchange `bench.fanout`.
struct FanoutPipeline {
    client: Client,
    /// The next delivery tag of each consumer channel, by channel number minus one.
    next_tags: Vec<u64>,
}

const FANOUT_EXCHANGE: &str = "bench.fanout";
const FANOUT_PUBLISH_CHANNEL: u16 = FANOUT_QUEUES + 1;

fn fanout_queue(channel: u16) -> String {
    format!("bench.fanout.q{channel}")
}

impl FanoutPipeline {
    fn new() -> Self {
        let mut client = Client::new(false);
        client.open_channel(FANOUT_PUBLISH_CHANNEL);
        client.declare_exchange(FANOUT_PUBLISH_CHANNEL, FANOUT_EXCHANGE, "fanout");
        for channel in 1..=FANOUT_QUEUES {
            let queue = fanout_queue(channel);
            client.open_channel(channel);
            client.declare_queue(channel, &queue);
            client.bind(channel, &queue, FANOUT_EXCHANGE, "");
            client.qos(channel, PREFETCH_COUNT);
            client.consume(channel, &queue, false);
        }
        FanoutPipeline { client, next_tags: vec![1; usize::from(FANOUT_QUEUES)] }
    }

    fn publish_batch(&mut self) {
        self.client.tick();
        for _ in 0..BATCH_MESSAGES {
            self.client.publish(FANOUT_PUBLISH_CHANNEL, FANOUT_EXCHANGE, "");
        }
    }

    /// The ten consumers take turns acking one message each, as ten independent consumers would.
    fn ack_batch(&mut self) {
        self.client.tick();
        for _ in 0..BATCH_MESSAGES {
            for channel in 1..=FANOUT_QUEUES {
                let next_tag = &mut self.next_tags[usize::from(channel - 1)];
                self.client.ack(channel, *next_tag);
                *next_tag += 1;
            }
        }
    }

    fn run_batch(&mut self) {
        self.publish_batch();
        self.ack_batch();
    }
}

// ------------------------------------------------------------------------------------------- topic

const REGIONS: [&str; 8] = ["eu", "us", "ap", "sa", "af", "me", "cn", "au"];
const SERVICES: [&str; 20] = [
    "orders",
    "payments",
    "users",
    "inventory",
    "shipping",
    "billing",
    "search",
    "auth",
    "catalog",
    "reviews",
    "cart",
    "pricing",
    "fraud",
    "email",
    "sms",
    "push",
    "ledger",
    "reports",
    "audit",
    "metrics",
];
const ENTITIES: [&str; 10] =
    ["invoice", "refund", "item", "account", "session", "token", "order", "parcel", "label", "coupon"];
const EVENTS: [&str; 10] = [
    "created", "updated", "deleted", "failed", "retried", "expired", "approved", "rejected", "shipped",
    "viewed",
];

/// AMQP topic matching, written out plainly to pick patterns independently of the engine's trie.
fn topic_matches(pattern: &[&str], key: &[&str]) -> bool {
    match pattern.split_first() {
        None => key.is_empty(),
        Some((&"#", rest)) => (0..=key.len()).any(|skip| topic_matches(rest, &key[skip..])),
        Some((&"*", rest)) => !key.is_empty() && topic_matches(rest, &key[1..]),
        Some((word, rest)) => key.first() == Some(word) && topic_matches(rest, &key[1..]),
    }
}

/// A pattern over `region.service.entity.event` keys: each word is literal or `*` (3 in 10), and a
/// quarter of the patterns end in `#` after one to three words (`eu.orders.#`), an eighth start with `#`
/// (`#.invoice.created`).
fn random_pattern(prng: &mut Prng) -> Vec<&'static str> {
    let vocabularies: [&[&'static str]; 4] = [&REGIONS, &SERVICES, &ENTITIES, &EVENTS];
    let mut words: Vec<&'static str> = Vec::with_capacity(5);
    for vocabulary in vocabularies {
        let star = prng.below(10) < 3;
        let pick = prng.below(vocabulary.len() as u64) as usize;
        words.push(if star { "*" } else { vocabulary[pick] });
    }
    match prng.below(8) {
        0 | 1 => {
            words.truncate(1 + prng.below(3) as usize);
            words.push("#");
        }
        2 => {
            words.drain(..1 + prng.below(3) as usize);
            words.insert(0, "#");
        }
        _ => {}
    }
    words
}

/// `n_bindings` distinct patterns: the first `n_bindings - 4` drawn from a fixed seed (so the 100 are a
/// subset of the 10,000) and rejected if they match [`TOPIC_PROBE_KEY`], then the four that do.
fn topic_patterns(n_bindings: usize) -> Vec<String> {
    let n_random =
        n_bindings.checked_sub(TOPIC_MATCHING_PATTERNS.len()).expect("room for the matching patterns");
    let probe: Vec<&str> = TOPIC_PROBE_KEY.split('.').collect();
    let mut prng = Prng::new(7);
    let mut seen = BTreeSet::new();
    let mut patterns = Vec::with_capacity(n_bindings);
    let mut draws = 0;
    while patterns.len() < n_random {
        draws += 1;
        assert!(draws < 1_000_000, "could not draw {n_random} distinct patterns");
        let words = random_pattern(&mut prng);
        if topic_matches(&words, &probe) {
            continue;
        }
        let pattern = words.join(".");
        if seen.insert(pattern.clone()) {
            patterns.push(pattern);
        }
    }
    patterns.extend(TOPIC_MATCHING_PATTERNS.iter().map(|p| p.to_string()));
    patterns
}

const TOPIC_EXCHANGE: &str = "bench.topic";

/// The queue the `index`-th pattern of [`topic_patterns`] is bound to: the matching four get a queue
/// each, the others are spread over [`TOPIC_QUEUES`] queues.
fn topic_queue(index: usize, n_bindings: usize) -> String {
    let first_matching = n_bindings - TOPIC_MATCHING_PATTERNS.len();
    if index >= first_matching {
        format!("bench.topic.match{}", index - first_matching)
    } else {
        format!("bench.topic.q{:03}", index % TOPIC_QUEUES)
    }
}

/// Channel 2 publishes [`TOPIC_PROBE_KEY`] to a topic exchange with `n_bindings` bindings; with
/// `consumers`, channel 1 consumes the four matching queues with `auto_ack` so they stay empty.
struct TopicPipeline {
    client: Client,
}

impl TopicPipeline {
    fn new(n_bindings: usize, consumers: bool) -> Self {
        let mut client = Client::new(false);
        client.open_channel(1);
        client.open_channel(2);
        client.declare_exchange(1, TOPIC_EXCHANGE, "topic");
        for index in 0..TOPIC_QUEUES {
            client.declare_queue(1, &topic_queue(index, n_bindings));
        }
        for (index, pattern) in topic_patterns(n_bindings).iter().enumerate() {
            let queue = topic_queue(index, n_bindings);
            if index >= n_bindings - TOPIC_MATCHING_PATTERNS.len() {
                client.declare_queue(1, &queue);
                if consumers {
                    client.consume(1, &queue, true);
                }
            }
            client.bind(1, &queue, TOPIC_EXCHANGE, pattern);
        }
        TopicPipeline { client }
    }

    fn publish_batch(&mut self) {
        self.client.tick();
        for _ in 0..BATCH_MESSAGES {
            self.client.publish(2, TOPIC_EXCHANGE, TOPIC_PROBE_KEY);
        }
    }
}

/// The exchange's routing index alone (no broker): the same patterns and queues as [`TopicPipeline`].
fn topic_table(n_bindings: usize) -> BindingTable {
    let mut table = BindingTable::new(ExchangeType::Topic);
    for (index, pattern) in topic_patterns(n_bindings).into_iter().enumerate() {
        let destination = Destination::Queue(Name::from(topic_queue(index, n_bindings)));
        let binding = Binding { destination, routing_key: pattern, arguments: FieldTable::new() };
        assert!(table.bind(binding).expect("topic bindings take no arguments"), "duplicate pattern");
    }
    assert_eq!(table.len(), n_bindings);
    table
}

fn topic_matching_queues(n_bindings: usize) -> Vec<Destination> {
    let first_matching = n_bindings - TOPIC_MATCHING_PATTERNS.len();
    (first_matching..n_bindings).map(|i| Destination::Queue(Name::from(topic_queue(i, n_bindings)))).collect()
}

// ------------------------------------------------------------------------------------ verification
//
// Each benchmark first runs its scenario once, untimed, and checks that the engine did the work the
// benchmark counts, so an engine that routes or delivers nothing cannot pass as fast. Criterion calls a
// benchmark's closure once per sample, so each builds its state on the first call and keeps it; a
// benchmark that a filter leaves out builds nothing. The direct pipeline's check is
// `amqp_support::verified_direct`.

/// A fanout pipeline after one checked batch: every queue got a copy of every message.
fn verified_fanout() -> FanoutPipeline {
    let mut fanout = FanoutPipeline::new();
    let prefetch = u32::from(PREFETCH_COUNT);
    fanout.publish_batch();
    for channel in 1..=FANOUT_QUEUES {
        let expected = (BATCH_MESSAGES as u32 - prefetch, prefetch);
        assert_eq!(fanout.client.depth(&fanout_queue(channel)), expected, "fanout: a copy per queue");
    }
    fanout.ack_batch();
    for channel in 1..=FANOUT_QUEUES {
        assert_eq!(fanout.client.depth(&fanout_queue(channel)), (0, 0), "fanout: every copy acked");
    }
    fanout
}

/// A topic pipeline with consumers, after checking on a twin without consumers that one publish lands in
/// exactly the four matching queues.
fn verified_topic(n_bindings: usize) -> TopicPipeline {
    let mut unconsumed = TopicPipeline::new(n_bindings, false);
    unconsumed.client.publish(2, TOPIC_EXCHANGE, TOPIC_PROBE_KEY);
    for info in unconsumed.client.broker.queues() {
        let expected = u32::from(info.name.starts_with("bench.topic.match"));
        assert_eq!(info.messages_ready, expected, "topic: queue '{}' got the wrong messages", info.name);
    }
    drop(unconsumed);
    let mut topic = TopicPipeline::new(n_bindings, true);
    topic.publish_batch();
    for info in topic.client.broker.queues() {
        assert_eq!((info.messages_ready, info.messages_unacknowledged), (0, 0), "topic: '{}'", info.name);
    }
    topic
}

/// The routing index alone, after checking it routes the probe to exactly the four matching queues.
fn verified_topic_table(n_bindings: usize) -> BindingTable {
    let table = topic_table(n_bindings);
    let mut routed = Vec::new();
    table.route(TOPIC_PROBE_KEY, &FieldTable::new(), &mut routed);
    assert_eq!(routed, topic_matching_queues(n_bindings), "topic trie: exactly the four matching queues");
    table
}

// ------------------------------------------------------------------------------------- benchmarks

fn benchmarks(c: &mut Criterion) {
    let mut group = c.benchmark_group("amqp");

    group.throughput(Throughput::Elements(BATCH_MESSAGES));
    let mut baseline: VecDeque<Vec<u8>> = VecDeque::new();
    group.bench_function("baseline_vecdeque_push_pop", |b| b.iter(|| baseline_batch(&mut baseline)));
    let mut direct = None;
    group.bench_function("direct_publish_deliver_ack", |b| {
        let direct = direct.get_or_insert_with(|| verified_direct(false));
        b.iter(|| direct.run_batch())
    });
    let mut direct_logged = None;
    group.bench_function("direct_publish_deliver_ack_events_on", |b| {
        let direct = direct_logged.get_or_insert_with(|| verified_direct(true));
        b.iter(|| direct.run_batch())
    });
    // Elements are publishes; each is delivered and acked ten times.
    let mut fanout = None;
    group.bench_function("fanout10_publish_deliver_ack", |b| {
        let fanout = fanout.get_or_insert_with(verified_fanout);
        b.iter(|| fanout.run_batch())
    });
    for n_bindings in [100, 10_000] {
        let mut topic = None;
        group.bench_function(format!("topic_publish_route_deliver/{n_bindings}"), |b| {
            let topic = topic.get_or_insert_with(|| verified_topic(n_bindings));
            b.iter(|| topic.publish_batch())
        });
    }

    group.throughput(Throughput::Elements(1));
    for n_bindings in [100, 10_000] {
        let mut table = None;
        let headers = FieldTable::new();
        let mut routed = Vec::with_capacity(8);
        group.bench_function(format!("topic_route_only/{n_bindings}"), |b| {
            let table = table.get_or_insert_with(|| verified_topic_table(n_bindings));
            b.iter(|| {
                routed.clear();
                table.route(black_box(TOPIC_PROBE_KEY), &headers, &mut routed);
                black_box(routed.len())
            })
        });
    }
    group.finish();
}

/// Sized so a full `cargo bench` stays near three minutes on two cores (see BENCHMARKS.md).
fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = amqp;
    config = config();
    targets = benchmarks
}
criterion_main!(amqp);
