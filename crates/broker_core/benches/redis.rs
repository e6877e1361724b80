//! Criterion benchmark of the Redis engine's two queue paths, per message, with a plain `VecDeque`
//! push / pop of the same owned bodies as the baseline in the same run (issue 20's goals: a stream's
//! `XADD` → `XREADGROUP` → `XACK` at least 1/30 of the baseline's rate, a list's `LPUSH` → `BRPOP` at
//! least 1/10).
//!
//! Every command goes through [`Redis::execute`] as argument vectors, as a client's would (parsing,
//! arity, dispatch and the reply included); nothing is called below the command table. A client's
//! argument vectors are built once and reused (the engine copies what it keeps, as the baseline
//! allocates each body), so the figure is the engine's cost, not the benchmark's.
//!
//! - `stream`: each timed iteration adds [`BATCH`] entries of one 64-byte field, reads them as one
//!   consumer of a group ten at a time (`XREADGROUP … COUNT 10 STREAMS s >`) and acknowledges each id.
//!   The stream keeps its entries (as `XACK` does not delete), so the figure includes a stream that grows
//!   over the run, as a real one without trimming does.
//! - `list_blocked`: the worker is already waiting in `BRPOP q 0` when each `LPUSH` arrives, so every
//!   message takes Redis's hand-over path (serving the blocked client) — what `BRPOP` exists for.
//! - `list_backlog`: [`BATCH`] pushes, then as many `BRPOP`s that find the list non-empty.
//!
//! Before timing, one iteration of each is checked (every message handed out once, the group's pending
//! list empty, the list gone), so an engine that replies nothing cannot pass as fast.
//!
//! Run: `cargo bench -p broker_core --bench redis`.

use broker_core::redis::server::{ClientId, Outcome};
use broker_core::redis::{Redis, Reply};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Duration;

/// Messages per timed iteration.
const BATCH: u64 = 100;
/// Every body is this long, as the goals in BENCHMARKS.md are stated for 64-byte messages.
const BODY_BYTES: usize = 64;

const PRODUCER: ClientId = 1;
const WORKER: ClientId = 2;

fn body() -> Vec<u8> {
    vec![b'm'; BODY_BYTES]
}

fn argv(words: &[&[u8]]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.to_vec()).collect()
}

/// The reply of a command that must not block.
fn reply(redis: &mut Redis, client: ClientId, command: &[Vec<u8>]) -> Reply {
    match redis.execute(client, command).0 {
        Outcome::Reply(r) => r,
        other => panic!("{:?} did not reply at once: {other:?}", String::from_utf8_lossy(&command[0])),
    }
}

struct StreamPath {
    redis: Redis,
    add: Vec<Vec<u8>>,
    read: Vec<Vec<u8>>,
    ack: Vec<Vec<u8>>,
}

impl StreamPath {
    fn new() -> StreamPath {
        let mut redis = Redis::new();
        let create = argv(&[b"XGROUP", b"CREATE", b"s", b"g", b"$", b"MKSTREAM"]);
        assert_eq!(reply(&mut redis, PRODUCER, &create), Reply::ok());
        StreamPath {
            redis,
            add: vec![b"XADD".to_vec(), b"s".to_vec(), b"*".to_vec(), b"body".to_vec(), body()],
            read: argv(&[b"XREADGROUP", b"GROUP", b"g", b"c", b"COUNT", b"10", b"STREAMS", b"s", b">"]),
            ack: argv(&[b"XACK", b"s", b"g", b"0-0"]),
        }
    }

    /// One batch added, read and acknowledged; returns how many entries were acknowledged.
    #[inline(never)]
    fn round(&mut self) -> u64 {
        for _ in 0..BATCH {
            black_box(reply(&mut self.redis, PRODUCER, &self.add));
        }
        let mut acked = 0;
        while let Reply::Array(streams) = reply(&mut self.redis, WORKER, &self.read) {
            let Some(Reply::Array(stream)) = streams.into_iter().next() else { break };
            let Some(Reply::Array(entries)) = stream.into_iter().nth(1) else { break };
            if entries.is_empty() {
                break;
            }
            for entry in entries {
                let Reply::Array(parts) = entry else { panic!("an entry is [id, fields]") };
                let Some(Reply::Bulk(id)) = parts.into_iter().next() else {
                    panic!("an entry starts with its id")
                };
                self.ack[3] = id;
                acked += u64::from(reply(&mut self.redis, WORKER, &self.ack) == Reply::Int(1));
            }
        }
        acked
    }
}

struct ListPath {
    redis: Redis,
    push: Vec<Vec<u8>>,
    pop: Vec<Vec<u8>>,
}

impl ListPath {
    fn new() -> ListPath {
        let push = vec![b"LPUSH".to_vec(), b"q".to_vec(), body()];
        ListPath { redis: Redis::new(), push, pop: argv(&[b"BRPOP", b"q", b"0"]) }
    }

    /// The worker blocks first; each push hands one body over. Returns how many it received.
    #[inline(never)]
    fn blocked_round(&mut self) -> u64 {
        let mut received = 0;
        for _ in 0..BATCH {
            assert!(matches!(self.redis.execute(WORKER, &self.pop).0, Outcome::Blocked));
            let (outcome, woken) = self.redis.execute(PRODUCER, &self.push);
            black_box(outcome);
            received += woken.iter().filter(|(client, _)| *client == WORKER).count() as u64;
        }
        received
    }

    /// Pushes the whole batch, then pops it. Returns how many bodies were popped.
    #[inline(never)]
    fn backlog_round(&mut self) -> u64 {
        for _ in 0..BATCH {
            black_box(reply(&mut self.redis, PRODUCER, &self.push));
        }
        let mut popped = 0;
        for _ in 0..BATCH {
            popped += u64::from(matches!(reply(&mut self.redis, WORKER, &self.pop), Reply::Array(_)));
        }
        popped
    }
}

/// The baseline: each body allocated, queued and taken. Not inlined, so an instruction count (callgrind)
/// sees it as one function, as it sees the engine's rounds.
#[inline(never)]
fn baseline_round(deque: &mut VecDeque<Vec<u8>>) -> u64 {
    for _ in 0..BATCH {
        deque.push_back(body());
    }
    let mut n = 0u64;
    while let Some(m) = deque.pop_front() {
        black_box(m);
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("redis");
    group.throughput(Throughput::Elements(BATCH));
    group.measurement_time(Duration::from_secs(5));

    let mut check = StreamPath::new();
    assert_eq!(check.round(), BATCH, "every entry read and acknowledged once");
    let pending = argv(&[b"XPENDING", b"s", b"g"]);
    let Reply::Array(summary) = reply(&mut check.redis, WORKER, &pending) else {
        panic!("XPENDING's summary")
    };
    assert_eq!(summary.first(), Some(&Reply::Int(0)), "nothing left pending");
    let mut check = ListPath::new();
    assert_eq!(check.blocked_round(), BATCH, "every push served the blocked worker");
    assert_eq!(check.backlog_round(), BATCH, "every push popped");
    assert_eq!(reply(&mut check.redis, WORKER, &argv(&[b"EXISTS", b"q"])), Reply::Int(0), "the list is gone");

    let mut stream = StreamPath::new();
    group.bench_function("xadd_xreadgroup_xack", |b| b.iter(|| stream.round()));
    let mut list = ListPath::new();
    group.bench_function("lpush_brpop_blocked", |b| b.iter(|| list.blocked_round()));
    let mut list = ListPath::new();
    group.bench_function("lpush_brpop_backlog", |b| b.iter(|| list.backlog_round()));

    let mut deque: VecDeque<Vec<u8>> = VecDeque::new();
    group.bench_function("vecdeque_baseline", |b| b.iter(|| baseline_round(&mut deque)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
