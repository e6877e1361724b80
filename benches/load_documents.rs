//! The load documents the page benchmarks play, one generator per model: the web bench
//! (`web_budgets.rs`, in Chromium) opens them by share link, `page_frames.rs` plays them natively. Each
//! generator is deterministic (fixed seed, names in order), so both benches play the same runs.

use serde_json::{json, Value};

/// The Kafka page's load: one topic of `partitions` partitions (replication factor 3 on three brokers),
/// `producers` producers of `rate` keyed records a second each over 1,000 keys, one group of ten consumers
/// reading them, as long as the run's record budget allows (at most 19 s at 10,000 records a second: the
/// bench samples 3 s of warm-up and `WEB_BENCH_SECONDS` of frames).
pub fn kafka_load_document(partitions: u64, producers: u64, rate: u64) -> String {
    let per_second = (producers * rate).max(1);
    let max_records = broker_core::kafka::scenario::document::MAX_RECORDS;
    let seconds = (max_records * 95 / 100 / per_second).clamp(1, 60);
    let producers: Vec<Value> = (0..producers)
        .map(|i| {
            json!({"name": format!("producer-{i}"), "topic": "load", "rate": rate,
                   "key": "k{key}", "keys": {"uniform": {"keys": 1000}}})
        })
        .collect();
    let consumers: Vec<Value> = (0..10)
        .map(|i| json!({"name": format!("consumer-{i}"), "group": "readers", "topics": ["load"]}))
        .collect();
    serde_json::to_string_pretty(&json!({
        "brokerlab": 2,
        "model": "kafka",
        "description": format!("Web bench load: {partitions} partitions, {per_second} records/s"),
        "seed": 1,
        "duration": format!("{seconds}s"),
        "cluster": {"brokers": 3},
        "topics": [{"name": "load", "partitions": partitions, "replication_factor": 3}],
        "producers": producers,
        "consumers": consumers
    }))
    .unwrap()
}

/// The SQS page's load: `queues` standard queues, each with one producer of `rate` messages a second and
/// one consumer (long polls, up to 10 messages a receive, 1 ms of processing each, deleted), as long as a
/// run's message budget allows (19 s at 1,000 messages a second).
pub fn sqs_load_document(queues: u64, rate: u64) -> String {
    let per_second = (queues * rate).max(1);
    let max_messages = broker_core::sqs::scenario::document::MAX_MESSAGES;
    let seconds = (max_messages * 95 / 100 / per_second).clamp(1, 60);
    let names: Vec<String> = (0..queues).map(|i| format!("jobs-{i}")).collect();
    let queue_list: Vec<Value> = names.iter().map(|q| json!({"name": q})).collect();
    let producers: Vec<Value> =
        names.iter().map(|q| json!({"name": format!("{q}-producer"), "queue": q, "rate": rate})).collect();
    let consumers: Vec<Value> = names
        .iter()
        .map(|q| {
            json!({"name": format!("{q}-worker"), "queue": q, "wait_time_seconds": 20,
                   "max_number_of_messages": 10, "processing": "1ms"})
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "brokerlab": 2,
        "model": "sqs",
        "description": format!("Web bench load: {queues} queues, {per_second} messages/s"),
        "seed": 1,
        "duration": format!("{seconds}s"),
        "queues": queue_list,
        "producers": producers,
        "consumers": consumers
    }))
    .unwrap()
}

/// The Redis page's load: `keys` keys taken in turn by the three ways Redis is used as a queue — a list
/// (`LPUSH`, one `BRPOP` worker), a stream (`XADD`, a consumer group with one `XREADGROUP` worker that
/// `XACK`s) and a channel (`PUBLISH`, one subscriber) — each key with one producer of `rate` messages a
/// second, workers processing 1 ms each; as long as a run's message budget allows (19 s at 1,000
/// messages a second). The streams keep every entry (no `MAXLEN`), as the tutorials' do.
pub fn redis_load_document(keys: u64, rate: u64) -> String {
    let per_second = (keys * rate).max(1);
    let max_messages = broker_core::redis::scenario::document::MAX_MESSAGES;
    let seconds = (max_messages * 95 / 100 / per_second).clamp(1, 60);
    let (mut groups, mut producers, mut workers, mut subscribers) = (vec![], vec![], vec![], vec![]);
    for i in 0..keys {
        match i % 3 {
            0 => {
                let list = format!("jobs-{i}");
                producers.push(json!({"name": format!("{list}-producer"), "list": list, "rate": rate}));
                workers.push(json!({"name": format!("{list}-worker"), "list": list, "processing": "1ms"}));
            }
            1 => {
                let stream = format!("events-{i}");
                groups.push(json!({"stream": stream, "name": "readers"}));
                producers.push(json!({"name": format!("{stream}-producer"), "stream": stream, "rate": rate}));
                workers
                    .push(json!({"name": format!("{stream}-reader"), "stream": stream, "group": "readers",
                                    "processing": "1ms"}));
            }
            _ => {
                let channel = format!("news-{i}");
                producers
                    .push(json!({"name": format!("{channel}-publisher"), "channel": channel, "rate": rate}));
                subscribers.push(json!({"name": format!("{channel}-subscriber"), "channels": [channel]}));
            }
        }
    }
    let text = serde_json::to_string_pretty(&json!({
        "brokerlab": 2,
        "model": "redis",
        "description": format!("Web bench load: {keys} keys, {per_second} messages/s"),
        "seed": 1,
        "duration": format!("{seconds}s"),
        "groups": groups,
        "producers": producers,
        "workers": workers,
        "subscribers": subscribers
    }))
    .unwrap();
    // Refused here, natively, rather than by the page after the release builds.
    broker_core::redis::scenario::document::RedisDocument::parse(&text)
        .unwrap_or_else(|e| panic!("the Redis load document is refused: {e:?}"));
    text
}
