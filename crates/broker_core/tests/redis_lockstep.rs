//! Seeded lock-step runs of the Redis engine against a deliberately naive model — lists as `VecDeque`s
//! with blocked clients in a `Vec` scanned in full, one stream as a `Vec` of ids whose pending entries
//! each name one consumer — comparing every reply and every unblocked client's reply, with the engine's
//! invariants (`Redis::check_invariants`) checked after every step, and the naive model's own: stream ids
//! strictly increasing, each pending entry owned by exactly one consumer. Stream readers may block
//! (`XREADGROUP … BLOCK`) and be served by a later `XADD` in the order they blocked, or time out; pending
//! entries change owner by `XCLAIM … JUSTID`. After every step a full `SCAN` iteration must return exactly
//! the naive model's keys, and `XINFO GROUPS` the group's pending count and lag.

use std::collections::{BTreeMap, VecDeque};

use broker_core::redis::server::{Outcome, Redis, EPOCH_MS};
use broker_core::redis::Reply;
use broker_core::Prng;

const KEYS: [&str; 3] = ["a", "b", "c"];
const CLIENTS: usize = 4;
const CONSUMERS: [&str; 3] = ["c1", "c2", "c3"];

struct Waiting {
    client: usize,
    keys: Vec<String>,
    deadline: Option<u64>,
    left: bool,
    /// `XREADGROUP … BLOCK … STREAMS s >`: the consumer and its COUNT (the keys are then `["s"]`).
    group_read: Option<(String, u64)>,
}

#[derive(Default)]
struct Naive {
    now: u64,
    lists: BTreeMap<String, VecDeque<String>>,
    waiting: Vec<Waiting>,
    /// Stream `s`: (ms, seq, value), and whether it exists.
    entries: Vec<(u64, u64, String)>,
    stream_exists: bool,
    last: (u64, u64),
    group: bool,
    last_delivered: (u64, u64),
    /// Pending: id, consumer, deliveries.
    pending: Vec<((u64, u64), String, u64)>,
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(s)
}

fn id_text(id: (u64, u64)) -> String {
    format!("{}-{}", id.0, id.1)
}

impl Naive {
    /// Serves the clients waiting on `key`, which just became a list, in the order they blocked.
    fn serve(&mut self, key: &str) -> Vec<(usize, Reply)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.waiting.len() {
            let Some(list) = self.lists.get_mut(key) else { break };
            if !self.waiting[i].keys.iter().any(|k| k == key) {
                i += 1;
                continue;
            }
            let w = self.waiting.remove(i);
            let el = if w.left { list.pop_front() } else { list.pop_back() }.unwrap();
            if list.is_empty() {
                self.lists.remove(key);
            }
            out.push((w.client, Reply::Array(vec![bulk(key), bulk(&el)])));
        }
        out
    }

    fn push(&mut self, key: &str, els: &[String], left: bool) -> (Reply, Vec<(usize, Reply)>) {
        let created = !self.lists.contains_key(key);
        let list = self.lists.entry(key.to_string()).or_default();
        for e in els {
            if left {
                list.push_front(e.clone());
            } else {
                list.push_back(e.clone());
            }
        }
        let reply = Reply::Int(list.len() as i64);
        let woken = if created { self.serve(key) } else { Vec::new() };
        (reply, woken)
    }

    /// Delivers new entries of `s` to the group: pending for `consumer`; the `[s, entries]` reply.
    fn deliver(&mut self, consumer: &str, count: u64) -> Option<Reply> {
        let new: Vec<(u64, u64, String)> = self
            .entries
            .iter()
            .filter(|e| (e.0, e.1) > self.last_delivered)
            .take(count as usize)
            .cloned()
            .collect();
        if new.is_empty() {
            return None;
        }
        let mut items = Vec::new();
        for (ms, seq, v) in new {
            self.last_delivered = (ms, seq);
            self.pending.push(((ms, seq), consumer.to_string(), 1));
            items
                .push(Reply::Array(vec![bulk(&id_text((ms, seq))), Reply::Array(vec![bulk("f"), bulk(&v)])]));
        }
        Some(Reply::Array(vec![Reply::Array(vec![bulk("s"), Reply::Array(items)])]))
    }

    /// Serves the clients blocked in `XREADGROUP` after an `XADD`, in the order they blocked, each
    /// while the group has new entries.
    fn serve_stream(&mut self) -> Vec<(usize, Reply)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.waiting.len() {
            let Some((consumer, count)) = self.waiting[i].group_read.clone() else {
                i += 1;
                continue;
            };
            match self.deliver(&consumer, count) {
                Some(r) => out.push((self.waiting.remove(i).client, r)),
                None => i += 1,
            }
        }
        out
    }

    fn check(&self) {
        for w in self.entries.windows(2) {
            assert!((w[0].0, w[0].1) < (w[1].0, w[1].1), "naive stream ids not increasing");
        }
        for (i, p) in self.pending.iter().enumerate() {
            assert!(self.pending[..i].iter().all(|q| q.0 != p.0), "a pending id owned twice");
        }
    }
}

/// Checks what every step must keep, through commands of a client the run never uses otherwise: a full
/// `SCAN` iteration (`COUNT` 1 to 3, so it takes several calls) returns exactly the naive model's keys
/// (no key changes during it, so Redis's guarantee makes it exact); `XINFO GROUPS` reports the group's
/// pending count and a lag equal to the entries after its last-delivered id (nothing is deleted here).
fn check_scan_and_lag(redis: &mut Redis, naive: &Naive, seed: u64, step: usize) {
    let observer = CLIENTS;
    let mut want: Vec<Vec<u8>> =
        naive.lists.iter().filter(|(_, l)| !l.is_empty()).map(|(k, _)| k.as_bytes().to_vec()).collect();
    if naive.stream_exists {
        want.push(b"s".to_vec());
    }
    want.sort();
    let mut got = Vec::new();
    let mut cursor = "0".to_string();
    let count = 1 + step % 3;
    for calls in 0.. {
        assert!(calls < 100, "seed {seed} step {step}: SCAN does not finish");
        let words = vec!["SCAN".to_string(), cursor.clone(), "COUNT".into(), count.to_string()];
        let (outcome, woken) = redis.execute(observer, &argv(&words));
        assert!(woken.is_empty());
        let Outcome::Reply(Reply::Array(parts)) = outcome else { panic!("seed {seed} step {step}: SCAN") };
        let [Reply::Bulk(next), Reply::Array(keys)] = parts.as_slice() else { panic!("SCAN's reply") };
        got.extend(keys.iter().map(|k| match k {
            Reply::Bulk(k) => k.clone(),
            other => panic!("SCAN key {other:?}"),
        }));
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    got.sort();
    assert_eq!(got, want, "seed {seed} step {step}: a full SCAN iteration");
    if !naive.group {
        return;
    }
    let (outcome, _) = redis.execute(observer, &argv(&["XINFO".into(), "GROUPS".into(), "s".into()]));
    let Outcome::Reply(Reply::Array(groups)) = outcome else { panic!("seed {seed} step {step}: XINFO") };
    let Some(Reply::Array(fields)) = groups.first() else { panic!("seed {seed} step {step}: no group") };
    let field = |name: &str| {
        let at = fields.iter().position(|f| *f == bulk(name)).expect("XINFO GROUPS field");
        fields[at + 1].clone()
    };
    let after = naive.entries.iter().filter(|e| (e.0, e.1) > naive.last_delivered).count();
    assert_eq!(field("lag"), Reply::Int(after as i64), "seed {seed} step {step}: lag");
    assert_eq!(field("pending"), Reply::Int(naive.pending.len() as i64), "seed {seed} step {step}: pending");
}

fn argv(words: &[String]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

/// Runs one seed; returns how many blocked `XREADGROUP` clients an `XADD` served.
fn run_seed(seed: u64, steps: usize) -> usize {
    let mut rng = Prng::new(seed);
    let mut redis = Redis::new();
    let mut naive = Naive::default();
    let mut counter = 0u64;
    let mut stream_wakeups = 0;
    for step in 0..steps {
        let client = rng.below(CLIENTS as u64) as usize;
        let key = KEYS[rng.below(3) as usize].to_string();
        let blocked = naive.waiting.iter().any(|w| w.client == client);
        let op = rng.below(15);
        let (words, expected, expected_woken): (Vec<String>, Option<Reply>, Vec<(usize, Reply)>) = match op {
            _ if op == 0 || blocked && op < 8 => {
                let ms = rng.below(400);
                naive.now += ms;
                let now = naive.now;
                let mut woken = Vec::new();
                naive.waiting.retain(|w| {
                    if w.deadline.is_some_and(|d| d <= now) {
                        woken.push((w.client, Reply::NilArray));
                        false
                    } else {
                        true
                    }
                });
                let got = redis.advance(ms);
                assert_eq!(got, woken, "seed {seed} step {step}: sleep {ms}");
                redis.check_invariants().unwrap_or_else(|e| panic!("seed {seed} step {step}: {e}"));
                naive.check();
                check_scan_and_lag(&mut redis, &naive, seed, step);
                continue;
            }
            1 | 2 => {
                let left = op == 1;
                let els: Vec<String> = (0..=rng.below(2))
                    .map(|_| {
                        counter += 1;
                        format!("m{counter}")
                    })
                    .collect();
                let (r, w) = naive.push(&key, &els, left);
                let mut words = vec![if left { "LPUSH" } else { "RPUSH" }.to_string(), key.clone()];
                words.extend(els);
                (words, Some(r), w)
            }
            3 | 4 => {
                let left = op == 3;
                let count = rng.chance(1, 2).then(|| rng.below(3));
                let list = naive.lists.get_mut(&key);
                let r = match (list, count) {
                    (None, None) => Reply::Nil,
                    (None, Some(_)) => Reply::NilArray,
                    (Some(l), None) => bulk(&(if left { l.pop_front() } else { l.pop_back() }).unwrap()),
                    (Some(l), Some(n)) => Reply::Array(
                        (0..n)
                            .filter_map(|_| if left { l.pop_front() } else { l.pop_back() })
                            .map(|e| bulk(&e))
                            .collect(),
                    ),
                };
                if naive.lists.get(&key).is_some_and(|l| l.is_empty()) {
                    naive.lists.remove(&key);
                }
                let mut words = vec![if left { "LPOP" } else { "RPOP" }.to_string(), key.clone()];
                words.extend(count.map(|n| n.to_string()));
                (words, Some(r), Vec::new())
            }
            5 | 6 => {
                let left = op == 5;
                let mut keys = vec![key.clone()];
                if rng.chance(1, 2) {
                    keys.push(KEYS[rng.below(3) as usize].to_string());
                }
                let timeout_ms = if rng.chance(1, 3) { 0 } else { 100 * rng.range_inclusive(1, 5) };
                let mut words = vec![if left { "BLPOP" } else { "BRPOP" }.to_string()];
                words.extend(keys.iter().cloned());
                words.push(format!("{}", timeout_ms as f64 / 1000.0));
                let found = keys.iter().find(|k| naive.lists.contains_key(*k)).cloned();
                match found {
                    Some(k) => {
                        let l = naive.lists.get_mut(&k).unwrap();
                        let el = if left { l.pop_front() } else { l.pop_back() }.unwrap();
                        if l.is_empty() {
                            naive.lists.remove(&k);
                        }
                        (words, Some(Reply::Array(vec![bulk(&k), bulk(&el)])), Vec::new())
                    }
                    None => {
                        let deadline = (timeout_ms > 0).then(|| naive.now + timeout_ms);
                        naive.waiting.push(Waiting { client, keys, deadline, left, group_read: None });
                        (words, None, Vec::new())
                    }
                }
            }
            7 => {
                let dst = KEYS[rng.below(3) as usize].to_string();
                let words = vec!["LMOVE".into(), key.clone(), dst.clone(), "LEFT".into(), "RIGHT".into()];
                match naive.lists.get_mut(&key).and_then(|l| l.pop_front()) {
                    None => (words, Some(Reply::Nil), Vec::new()),
                    Some(el) => {
                        if naive.lists.get(&key).is_some_and(|l| l.is_empty()) {
                            naive.lists.remove(&key);
                        }
                        let (_, woken) = naive.push(&dst, std::slice::from_ref(&el), false);
                        (words, Some(bulk(&el)), woken)
                    }
                }
            }
            8 | 9 => {
                counter += 1;
                let value = format!("v{counter}");
                let now = EPOCH_MS + naive.now;
                let id = if now > naive.last.0 { (now, 0) } else { (naive.last.0, naive.last.1 + 1) };
                naive.entries.push((id.0, id.1, value.clone()));
                naive.last = id;
                naive.stream_exists = true;
                let woken = naive.serve_stream();
                stream_wakeups += woken.len();
                (
                    vec!["XADD".into(), "s".into(), "*".into(), "f".into(), value],
                    Some(bulk(&id_text(id))),
                    woken,
                )
            }
            10 => {
                let words: Vec<String> =
                    "XGROUP CREATE s g 0 MKSTREAM".split(' ').map(String::from).collect();
                let r = if naive.group {
                    Reply::err("BUSYGROUP Consumer Group name already exists")
                } else {
                    naive.group = true;
                    naive.stream_exists = true;
                    Reply::ok()
                };
                (words, Some(r), Vec::new())
            }
            11 => {
                let consumer = CONSUMERS[rng.below(3) as usize].to_string();
                let count = rng.range_inclusive(1, 3);
                // A client that is not blocked may wait (BLOCK 0 forever, or up to 400 ms).
                let block = (!blocked && rng.chance(1, 2)).then(|| rng.below(5) * 100);
                let block_words = block.map_or(String::new(), |ms| format!("BLOCK {ms} "));
                let words: Vec<String> =
                    format!("XREADGROUP GROUP g {consumer} {block_words}COUNT {count} STREAMS s >")
                        .split(' ')
                        .map(String::from)
                        .collect();
                if !naive.group {
                    let r = Reply::err(
                        "NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option",
                    );
                    (words, Some(r), Vec::new())
                } else {
                    match (naive.deliver(&consumer, count), block) {
                        (Some(r), _) => (words, Some(r), Vec::new()),
                        (None, None) => (words, Some(Reply::NilArray), Vec::new()),
                        (None, Some(ms)) => {
                            naive.waiting.push(Waiting {
                                client,
                                keys: vec!["s".into()],
                                deadline: (ms > 0).then(|| naive.now + ms),
                                left: true,
                                group_read: Some((consumer, count)),
                            });
                            (words, None, Vec::new())
                        }
                    }
                }
            }
            12 => {
                let pick =
                    (!naive.pending.is_empty()).then(|| rng.below(naive.pending.len() as u64) as usize);
                let id = pick.map_or((1, 1), |i| naive.pending[i].0);
                let words = vec!["XACK".into(), "s".into(), "g".into(), id_text(id)];
                let r = match pick {
                    Some(i) if naive.group => {
                        naive.pending.remove(i);
                        1
                    }
                    _ => 0,
                };
                (words, Some(Reply::Int(r)), Vec::new())
            }
            13 => {
                // XCLAIM … 0 id JUSTID: a pending entry changes owner and keeps its delivery count; an
                // id that is not an entry is not claimed.
                let consumer = CONSUMERS[rng.below(3) as usize].to_string();
                let pick =
                    (!naive.pending.is_empty()).then(|| rng.below(naive.pending.len() as u64) as usize);
                let id = pick.map_or((1, 1), |i| naive.pending[i].0);
                let words: Vec<String> = vec![
                    "XCLAIM".into(),
                    "s".into(),
                    "g".into(),
                    consumer.clone(),
                    "0".into(),
                    id_text(id),
                    "JUSTID".into(),
                ];
                let r = match pick {
                    _ if !naive.group => Reply::err("NOGROUP No such key 's' or consumer group 'g'"),
                    Some(i) => {
                        naive.pending[i].1 = consumer;
                        Reply::Array(vec![bulk(&id_text(id))])
                    }
                    None => Reply::Array(Vec::new()),
                };
                (words, Some(r), Vec::new())
            }
            _ => {
                let words: Vec<String> = "XPENDING s g".split(' ').map(String::from).collect();
                let r = if !naive.group {
                    Reply::err("NOGROUP No such key 's' or consumer group 'g'")
                } else if naive.pending.is_empty() {
                    Reply::Array(vec![Reply::Int(0), Reply::Nil, Reply::Nil, Reply::NilArray])
                } else {
                    let mut ids: Vec<(u64, u64)> = naive.pending.iter().map(|p| p.0).collect();
                    ids.sort();
                    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
                    for p in &naive.pending {
                        *per.entry(p.1.as_str()).or_default() += 1;
                    }
                    Reply::Array(vec![
                        Reply::Int(ids.len() as i64),
                        bulk(&id_text(ids[0])),
                        bulk(&id_text(*ids.last().unwrap())),
                        Reply::Array(
                            per.into_iter()
                                .map(|(c, n)| Reply::Array(vec![bulk(c), bulk(&n.to_string())]))
                                .collect(),
                        ),
                    ])
                };
                (words, Some(r), Vec::new())
            }
        };
        let (outcome, woken) = redis.execute(client, &argv(&words));
        let want = match expected {
            Some(r) => Outcome::Reply(r),
            None => Outcome::Blocked,
        };
        assert_eq!(outcome, want, "seed {seed} step {step}: {}", words.join(" "));
        assert_eq!(woken, expected_woken, "seed {seed} step {step}: {} (unblocked clients)", words.join(" "));
        redis
            .check_invariants()
            .unwrap_or_else(|e| panic!("seed {seed} step {step}: {}: {e}", words.join(" ")));
        naive.check();
        check_scan_and_lag(&mut redis, &naive, seed, step);
    }
    stream_wakeups
}

#[test]
fn the_engine_agrees_with_a_naive_model_step_by_step() {
    let served: usize = (0..40).map(|seed| run_seed(seed, 400)).sum();
    assert!(served > 0, "no blocked XREADGROUP was ever served: the runs miss what they should test");
}
