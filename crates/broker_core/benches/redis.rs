//! Criterion benchmark of the Redis engine's two queue paths, per message — a stream with a consumer
//! group (`XADD` → `XREADGROUP … >` → `XACK`) and a list with a blocked worker (`BRPOP` blocks, `LPUSH`
//! serves it) — with a plain `VecDeque` push / pop of the same owned bodies as the baseline, in the same
//! run, so the ratios in BENCHMARKS.md compare figures taken minutes apart on the same machine (issue
//! 20's goals: at least 1/30 of the baseline's rate for the stream, 1/10 for the list).
//!
//! Each timed iteration moves [`BATCH`] 64-byte messages. The stream: every entry added with `XADD s *
//! body …`, read ten at a time with `XREADGROUP GROUP g c COUNT 10 STREAMS s >` and acknowledged one by
//! one with `XACK`; `XTRIM s MAXLEN 0` at the end of the round keeps the stream from growing (one command
//! per round, as a deployment trims). The list: per message the worker's `BRPOP q 0` blocks on the empty
//! list and the producer's `LPUSH q body` hands the element to it (the wake-up path). The server lives
//! across iterations, so the figures are the steady state. Before timing, one round of each is checked
//! (every message read or served once, nothing pending), so an engine that delivers nothing cannot pass
//! as fast.
//!
//! Run: `cargo bench -p broker_core --bench redis`.

use broker_core::redis::server::{Outcome, Redis};
use broker_core::redis::Reply;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Duration;

/// Messages per timed iteration.
const BATCH: u64 = 100;
/// Every body is this long, as the goals in BENCHMARKS.md are stated for 64-byte messages.
const BODY_BYTES: usize = 64;
const PRODUCER: usize = 0;
const WORKER: usize = 1;

fn body() -> Vec<u8> {
    vec![b'm'; BODY_BYTES]
}

fn argv(words: &[&[u8]]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.to_vec()).collect()
}

fn reply(redis: &mut Redis, client: usize, words: &[&[u8]]) -> Reply {
    match redis.execute(client, &argv(words)).0 {
        Outcome::Reply(r) => r,
        other => panic!("{words:?}: {other:?}"),
    }
}

/// A stream with a group: one round of `BATCH` messages; returns how many were read and acknowledged.
fn stream_round(redis: &mut Redis) -> u64 {
    redis.now += 1;
    let body = body();
    for _ in 0..BATCH {
        black_box(reply(redis, PRODUCER, &[b"XADD", b"s", b"*", b"body", &body]));
    }
    let read = argv(&[b"XREADGROUP", b"GROUP", b"g", b"c", b"COUNT", b"10", b"STREAMS", b"s", b">"]);
    let mut done = 0;
    while let Outcome::Reply(Reply::Array(streams)) = redis.execute(WORKER, &read).0 {
        let Some(Reply::Array(pair)) = streams.into_iter().next() else { break };
        let Some(Reply::Array(entries)) = pair.into_iter().nth(1) else { break };
        for e in entries {
            let Reply::Array(fields) = e else { continue };
            let Some(Reply::Bulk(id)) = fields.into_iter().next() else { continue };
            if reply(redis, WORKER, &[b"XACK", b"s", b"g", &id]) == Reply::Int(1) {
                done += 1;
            }
        }
    }
    black_box(reply(redis, PRODUCER, &[b"XTRIM", b"s", b"MAXLEN", b"0"]));
    done
}

/// A list with a blocked worker: one round of `BATCH` messages; returns how many the worker was served.
fn list_round(redis: &mut Redis) -> u64 {
    let body = body();
    let pop = argv(&[b"BRPOP", b"q", b"0"]);
    let mut served = 0;
    for _ in 0..BATCH {
        let (outcome, _) = redis.execute(WORKER, &pop);
        assert_eq!(outcome, Outcome::Blocked);
        let (_, woken) = redis.execute(PRODUCER, &argv(&[b"LPUSH", b"q", &body]));
        served += woken.len() as u64;
        black_box(woken);
    }
    served
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("redis");
    group.throughput(Throughput::Elements(BATCH));
    group.measurement_time(Duration::from_secs(5));

    let setup = || {
        let mut redis = Redis::new();
        redis.now = 1_700_000_000_000;
        reply(&mut redis, PRODUCER, &[b"XGROUP", b"CREATE", b"s", b"g", b"$", b"MKSTREAM"]);
        redis
    };
    let mut check = setup();
    assert_eq!(stream_round(&mut check), BATCH, "every entry read and acknowledged once");
    let pending = reply(&mut check, WORKER, &[b"XPENDING", b"s", b"g"]);
    assert!(matches!(&pending, Reply::Array(s) if s.first() == Some(&Reply::Int(0))), "{pending:?}");
    assert_eq!(list_round(&mut check), BATCH, "every element served to the blocked worker");
    assert_eq!(reply(&mut check, PRODUCER, &[b"LLEN", b"q"]), Reply::Int(0));

    let mut redis = setup();
    group.bench_function("xadd_xreadgroup_xack", |b| b.iter(|| stream_round(&mut redis)));
    let mut redis = setup();
    group.bench_function("lpush_brpop", |b| b.iter(|| list_round(&mut redis)));

    let mut deque: VecDeque<Vec<u8>> = VecDeque::new();
    group.bench_function("vecdeque_baseline", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                deque.push_back(body());
            }
            let mut n = 0u64;
            while let Some(m) = deque.pop_front() {
                black_box(m);
                n += 1;
            }
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
