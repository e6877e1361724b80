//! What one redraw of each model's page reads from its session, natively: the part of a frame the page's
//! own Rust does while playing (issue #17's budget, p95 frame ≤ 16.7 ms with 100 partitions and 10,000
//! records a second). Each model's session plays the web bench's load document
//! ([`load_documents`], the same runs `web_budgets.rs` opens in Chromium) and, at a few instants of the run,
//! does what its page's view does on a redraw: every panel's rows, the event log's latest lines, the
//! charts' series, the model's derived views (groups and lag, queues and "done twice", keys and channels).
//!
//! Baseline, in the same run: the same reads at the run's first instant (100 ms in: the page's fixed cost,
//! as the web bench's idle page is for frames). The figures that matter are the ratios against it and
//! the absolute time against a 16.7 ms frame; the wasm page does this work more slowly than native, and
//! Blink's layout and paint come on top (the web bench measures those).

mod load_documents;

use brokerlab::kafka_page::model::KafkaSession;
use brokerlab::player::ModelSession;
use brokerlab::redis_page::model::RedisSession;
use brokerlab::sqs_page::explain;
use brokerlab::sqs_page::model::SqsSession;
use criterion::{criterion_group, criterion_main, Criterion};
use load_documents::{kafka_load_document, redis_load_document, sqs_load_document};
use std::hint::black_box;
use std::time::Duration;

/// The event log's lines a page shows (the Kafka page 60, SQS and Redis 80).
const KAFKA_LOG_LINES: usize = 60;
const LOG_LINES: usize = 80;

/// The instants measured: the baseline (100 ms in), then a quarter, a half and 95% of the run.
fn instants(end_ms: u64) -> [(String, u64); 4] {
    [
        ("baseline 0.1 s".to_string(), 100),
        ("25%".to_string(), end_ms / 4),
        ("50%".to_string(), end_ms / 2),
        ("95%".to_string(), end_ms * 95 / 100),
    ]
}

/// The Kafka page's redraw (`kafka_page::view`): header and about, cluster, log strips, checks, groups,
/// share groups, the lag chart's lines, the event log.
fn kafka_redraw(s: &KafkaSession) -> usize {
    let groups = s.groups();
    let partitions = s.partitions();
    let checks = s.checks();
    let brokers = s.brokers();
    let shares = s.share_groups();
    // The chart's props take the series (a pointer) and copy each line's points into its polyline.
    let series = s.lag.clone();
    let lag_points: usize = series.points.iter().map(|p| p.clone().len()).sum();
    let log: usize = s.latest_events(KAFKA_LOG_LINES).iter().map(|(_, e)| e.len()).sum();
    groups.len() + partitions.len() + checks.len() + brokers.len() + shares.len() + lag_points + log
}

/// The SQS page's redraw (`sqs_page::view`): queues (with their dead-letter edges), topics, checks,
/// "done twice", the count charts' series, the event log, the explanations' lists.
fn sqs_redraw(s: &SqsSession) -> usize {
    let queues = s.queues();
    let topics = s.topics();
    let checks = s.checks();
    let twice = s.done_twice();
    let counts = s.counts.clone();
    let log: usize = s.latest_events(LOG_LINES).iter().map(|(_, e)| e.len()).sum();
    let empties = explain::empty_receives(s);
    let moved = explain::dead_lettered(s);
    queues.len()
        + topics.len()
        + checks.len()
        + twice.len()
        + counts.samples.len()
        + log
        + empties.len()
        + moved.len()
}

/// The Redis page's redraw (`redis_page::view`): keys, channels, who waits on nothing, checks, the charts'
/// series (sampled once, kept), the event log.
fn redis_redraw(s: &RedisSession) -> usize {
    let keys = s.keys();
    let channels = s.channels();
    let waiting = s.waiting_on_nothing();
    let checks = s.checks();
    let charts = s.charts();
    let log: usize = s.latest_events(LOG_LINES).iter().map(|(_, e)| e.len()).sum();
    keys.len() + channels.len() + waiting.len() + checks.len() + charts.at_ms.len() + log
}

/// Plays `session` to each of [`instants`] in turn and measures `redraw` there.
fn bench_model<S>(
    c: &mut Criterion,
    model: &str,
    mut session: S,
    end_ms: fn(&S) -> u64,
    seek: fn(&mut S, u64),
    redraw: fn(&S) -> usize,
) {
    let mut group = c.benchmark_group(format!("page_frames/{model}"));
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (name, at_ms) in instants(end_ms(&session)) {
        seek(&mut session, at_ms);
        group.bench_function(format!("redraw reads at {name}"), |b| {
            b.iter(|| black_box(redraw(black_box(&session))))
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    let kafka = KafkaSession::open(&kafka_load_document(100, 10, 1000), None).expect("the Kafka load opens");
    bench_model(
        c,
        "kafka 100 partitions 10k rec/s",
        kafka,
        KafkaSession::end_ms,
        KafkaSession::seek,
        kafka_redraw,
    );
    let sqs = SqsSession::open(&sqs_load_document(10, 100), None).expect("the SQS load opens");
    bench_model(c, "sqs 10 queues 1k msg/s", sqs, SqsSession::end_ms, SqsSession::seek, sqs_redraw);
    let redis = RedisSession::open(&redis_load_document(10, 100), None).expect("the Redis load opens");
    bench_model(c, "redis 10 keys 1k msg/s", redis, RedisSession::end_ms, RedisSession::seek, redis_redraw);
}

criterion_group!(benches, bench);
criterion_main!(benches);
