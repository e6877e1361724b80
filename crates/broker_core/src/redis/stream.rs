//! Streams: entries with increasing ids in radix-tree nodes of up to 100 entries, consumer groups with
//! their last-delivered id, and each group's pending entries list (PEL) shared with its consumers' own
//! PELs — and the stream commands (`XADD`, `XRANGE`, `XDEL`, `XTRIM`, `XSETID`, `XGROUP`, `XREAD`,
//! `XREADGROUP` with `BLOCK`, `XACK`, `XPENDING`, `XCLAIM`, `XAUTOCLAIM`, `XINFO`) with Redis 7.0's
//! argument rules and error texts; groups keep Redis 7.0's logical read counter (`entries-read`),
//! from which `XINFO GROUPS` derives the lag, or nil when a deleted entry makes it unknowable.
//!
//! Invariants (checked by [`Stream::check_invariants`]): entry ids are strictly increasing and none is
//! above `last_id`; each node holds the live entries from its first id up to the next node's first id,
//! and no node is empty; every group PEL entry is owned by exactly one consumer, whose own PEL holds it,
//! and no consumer PEL holds an id the group's PEL does not.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::args::{self, is, INVALID_ID, NOT_INTEGER, SYNTAX};
use super::reply::Reply;
use super::server::{BlockedOp, ClientId, Entry, Outcome, Redis, Value, Wakeups, EPOCH_MS};

/// `stream-node-max-entries`: entries (live or deleted) a node takes before a new one starts.
pub const NODE_MAX_ENTRIES: usize = 100;

/// A stream entry id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            (self.ms != u64::MAX).then(|| StreamId { ms: self.ms + 1, seq: 0 })
        } else {
            Some(StreamId { ms: self.ms, seq: self.seq + 1 })
        }
    }

    fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            (self.ms != 0).then(|| StreamId { ms: self.ms - 1, seq: u64::MAX })
        } else {
            Some(StreamId { ms: self.ms, seq: self.seq - 1 })
        }
    }

    /// The id as a bulk string, `ms-seq`, written without the formatting machinery (every entry of a
    /// read reply carries one).
    fn reply(self) -> Reply {
        let mut text = Vec::with_capacity(41);
        push_decimal(&mut text, self.ms);
        text.push(b'-');
        push_decimal(&mut text, self.seq);
        Reply::Bulk(text)
    }
}

/// `00` to `99`: decimal digits are written two at a time.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        digits[at] = DIGIT_PAIRS[pair];
        digits[at + 1] = DIGIT_PAIRS[pair + 1];
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        digits[at] = DIGIT_PAIRS[pair];
        digits[at + 1] = DIGIT_PAIRS[pair + 1];
    } else {
        at -= 1;
        digits[at] = b'0' + n as u8;
    }
    out.extend_from_slice(&digits[at..]);
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A radix-tree node: its first (master) id, live entries, entries ever appended to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub master: StreamId,
    pub live: usize,
    pub appended: usize,
}

/// A pending entry: delivered to `consumer`, not yet acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The owner's name, shared by the entries one read or claim made pending (one allocation per
    /// command, not per entry); serialized as the bytes it holds, as a `Vec<u8>` is.
    pub consumer: Arc<[u8]>,
    /// Virtual milliseconds of the last delivery (negative when `XCLAIM … IDLE` dates it before the
    /// start).
    pub delivered_at: i64,
    pub deliveries: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumer {
    pub pel: BTreeSet<StreamId>,
    /// Virtual milliseconds of the consumer's last read or claim (`XINFO CONSUMERS`' idle).
    pub seen_at: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub last_delivered: StreamId,
    /// Entries the group has read (its logical read counter), `None` when Redis cannot tell
    /// (`SCG_INVALID_ENTRIES_READ`).
    pub entries_read: Option<u64>,
    pub pel: BTreeMap<StreamId, Pending>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// What `XAUTOCLAIM key group consumer min-idle-time start COUNT count` would do to a group now, found
/// without doing it ([`Group::autoclaim_scan`]); the command applies exactly this scan, so the two agree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoclaimScan {
    /// Pending entries idle at least `min-idle-time`, in PEL order: they would move to the consumer.
    pub claimed: Vec<StreamId>,
    /// PEL ids whose entries were deleted from the stream: dropped from the PEL and replied as deleted.
    pub deleted: Vec<StreamId>,
    /// Pending entries the walk passed over as too young, with their idle time in milliseconds.
    pub too_young: Vec<(StreamId, i64)>,
    /// The cursor replied: the first PEL id not looked at, `0-0` when the walk reached the PEL's end.
    pub next: StreamId,
    /// Whether the walk stopped at its `10 × COUNT` attempts before `COUNT` ids were claimed or deleted.
    pub attempts_ran_out: bool,
}

impl Group {
    /// `XAUTOCLAIM`'s walk, read-only: from `start` over the PEL for at most `10 × count` ids, an id whose
    /// entry is gone from `entries` is deleted and one idle at least `min_idle_ms` (at `now_ms`, virtual)
    /// is claimed, each counting against `count`; younger ones are passed over. `count` ≥ 1.
    pub fn autoclaim_scan(
        &self,
        entries: &BTreeMap<StreamId, Fields>,
        now_ms: i64,
        min_idle_ms: i64,
        start: StreamId,
        count: i64,
    ) -> AutoclaimScan {
        let (mut count, mut attempts) = (count, count.saturating_mul(10));
        let mut scan = AutoclaimScan {
            claimed: Vec::new(),
            deleted: Vec::new(),
            too_young: Vec::new(),
            next: StreamId::MIN,
            attempts_ran_out: false,
        };
        let mut walk = self.pel.range(start..).peekable();
        while let Some((&id, p)) = walk.peek() {
            if attempts == 0 || count == 0 {
                scan.attempts_ran_out = count > 0;
                scan.next = id;
                break;
            }
            attempts -= 1;
            if !entries.contains_key(&id) {
                scan.deleted.push(id);
                count -= 1;
            } else if min_idle_ms > 0 && now_ms - p.delivered_at < min_idle_ms {
                scan.too_young.push((id, now_ms - p.delivered_at));
            } else {
                scan.claimed.push(id);
                count -= 1;
            }
            walk.next();
        }
        scan
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stream {
    pub entries: BTreeMap<StreamId, Fields>,
    pub nodes: VecDeque<Node>,
    pub last_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Vec<u8>, Group>,
}

impl Stream {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn append(&mut self, id: StreamId, fields: Fields) {
        match self.nodes.back_mut() {
            Some(n) if n.appended < NODE_MAX_ENTRIES => {
                n.live += 1;
                n.appended += 1;
            }
            _ => self.nodes.push_back(Node { master: id, live: 1, appended: 1 }),
        }
        self.entries.insert(id, fields);
        self.last_id = id;
        self.entries_added += 1;
    }

    /// The index of the node holding `id`.
    fn node_of(&self, id: StreamId) -> usize {
        self.nodes.partition_point(|n| n.master <= id).saturating_sub(1)
    }

    fn delete(&mut self, id: StreamId) -> bool {
        if self.entries.remove(&id).is_none() {
            return false;
        }
        let i = self.node_of(id);
        self.nodes[i].live -= 1;
        if self.nodes[i].live == 0 {
            self.nodes.remove(i);
        }
        true
    }

    /// Trims by `MAXLEN` or `MINID`, whole nodes only when `approx`, at most `limit` entries (0: no
    /// limit), as Redis's `streamTrim`; returns the number of entries deleted.
    fn trim(&mut self, strategy: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some(node) = self.nodes.front().cloned() {
            if let Trim::MaxLen(max) = strategy {
                if self.len() as u64 <= max {
                    break;
                }
            }
            if limit > 0 && deleted + node.live as u64 > limit {
                break;
            }
            let remove_node = match strategy {
                Trim::MaxLen(max) => (self.len() - node.live) as u64 >= max,
                Trim::MinId(min) => {
                    let last = match self.nodes.get(1) {
                        Some(next) => self.entries.range(node.master..next.master).next_back(),
                        None => self.entries.range(node.master..).next_back(),
                    };
                    last.is_some_and(|(l, _)| *l < min)
                }
            };
            if remove_node {
                let ids: Vec<StreamId> =
                    self.entries.range(node.master..).take(node.live).map(|(k, _)| *k).collect();
                for id in ids {
                    self.entries.remove(&id);
                }
                self.nodes.pop_front();
                deleted += node.live as u64;
                continue;
            }
            if approx {
                break;
            }
            // Exact trimming inside the first node, entry by entry.
            let ids: Vec<StreamId> =
                self.entries.range(node.master..).take(node.live).map(|(k, _)| *k).collect();
            for id in ids {
                let stop = match strategy {
                    Trim::MaxLen(max) => self.len() as u64 <= max,
                    Trim::MinId(min) => id >= min,
                };
                if stop {
                    break;
                }
                self.delete(id);
                deleted += 1;
            }
            break;
        }
        deleted
    }

    /// The counters Redis 7.0 computes read counters and lag from.
    pub fn counters(&self) -> Counters {
        Counters {
            length: self.entries.len() as u64,
            first_id: self.entries.keys().next().copied().unwrap_or(StreamId::MIN),
            last_id: self.last_id,
            max_deleted: self.max_deleted,
            entries_added: self.entries_added,
        }
    }

    /// The nodes of Redis's radix tree over the node keys (16-byte big-endian ids) — what `XINFO
    /// STREAM` calls `radix-tree-nodes`: the root, every key, every prefix with two or more
    /// continuations and every child of such a prefix (the other prefixes are inside compressed
    /// nodes). Redis's insertions keep this shape; a tree shaped by deletions may differ.
    pub fn radix_tree_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self
            .nodes
            .iter()
            .map(|n| {
                let mut k = [0u8; 16];
                k[..8].copy_from_slice(&n.master.ms.to_be_bytes());
                k[8..].copy_from_slice(&n.master.seq.to_be_bytes());
                k
            })
            .collect();
        if keys.is_empty() {
            return 1;
        }
        let mut counted: BTreeSet<Vec<u8>> = BTreeSet::new();
        counted.insert(Vec::new());
        for k in &keys {
            counted.insert(k.to_vec());
        }
        for len in 0..16 {
            let mut children: BTreeMap<&[u8], BTreeSet<u8>> = BTreeMap::new();
            for k in &keys {
                children.entry(&k[..len]).or_default().insert(k[len]);
            }
            for (prefix, next) in children {
                if next.len() >= 2 {
                    counted.insert(prefix.to_vec());
                    for b in next {
                        let mut child = prefix.to_vec();
                        child.push(b);
                        counted.insert(child);
                    }
                }
            }
        }
        counted.len()
    }

    pub fn check_invariants(&self) -> Result<(), String> {
        if let Some((last, _)) = self.entries.iter().next_back() {
            if *last > self.last_id {
                return Err(format!("entry {last} is above the last id {}", self.last_id));
            }
        }
        if self.max_deleted > self.last_id {
            return Err(format!("deleted id {} is above the last id {}", self.max_deleted, self.last_id));
        }
        if (self.entries.len() as u64) > self.entries_added {
            return Err(format!("{} entries but {} ever added", self.entries.len(), self.entries_added));
        }
        let mut counted = 0;
        for (i, n) in self.nodes.iter().enumerate() {
            let live = match self.nodes.get(i + 1) {
                Some(next) => self.entries.range(n.master..next.master).count(),
                None => self.entries.range(n.master..).count(),
            };
            if n.live == 0 || live != n.live {
                return Err(format!("node {} counts {} live entries, holds {live}", n.master, n.live));
            }
            counted += live;
        }
        if counted != self.entries.len() {
            return Err(format!("{} entries are outside the nodes", self.entries.len() - counted));
        }
        for (g, group) in &self.groups {
            let g = String::from_utf8_lossy(g);
            for (id, p) in &group.pel {
                let owner = group
                    .consumers
                    .get(&*p.consumer)
                    .ok_or(format!("group {g}: {id} is owned by a missing consumer"))?;
                if !owner.pel.contains(id) {
                    return Err(format!("group {g}: {id} is not in its owner's PEL"));
                }
            }
            for (c, consumer) in &group.consumers {
                for id in &consumer.pel {
                    if group.pel.get(id).map(|p| &*p.consumer) != Some(c.as_slice()) {
                        return Err(format!("group {g}: {id} is in a consumer PEL it is not owned by"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// What Redis 7.0 derives read counters and lag from: the stream's length, first entry, last id, the
/// largest deleted id and the number of entries ever added.
#[derive(Clone, Copy, Debug)]
pub struct Counters {
    pub length: u64,
    pub first_id: StreamId,
    pub last_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
}

impl Counters {
    /// `streamRangeHasTombstones(s, from, +)`: whether a deleted entry may lie at or after `from`.
    pub fn tombstones_from(&self, from: StreamId) -> bool {
        if self.length == 0 || self.max_deleted == StreamId::MIN || self.first_id > self.max_deleted {
            return false;
        }
        from <= self.max_deleted
    }

    /// `streamEstimateDistanceFromFirstEverEntry`: the read counter of `id`, `None` when it cannot be
    /// known (a future id, or deleted entries between the first entry and it).
    pub fn distance_from_first_ever(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted == StreamId::MIN || self.max_deleted < self.first_id {
            if id < self.first_id {
                return Some(self.entries_added - self.length);
            }
            if id == self.first_id {
                return Some(self.entries_added - self.length + 1);
            }
        }
        None
    }

    /// `XINFO GROUPS`' lag of a group (`streamReplyWithCGLag`), `None` when Redis replies nil. Negative
    /// when `ENTRIESREAD` claimed more entries than were ever added (redis-server 7.0.15 replies
    /// `lag -99` after `XGROUP CREATE s g 0 ENTRIESREAD 100` on a one-entry stream): Redis subtracts
    /// unsigned counters and replies the difference as a signed one.
    pub fn lag(&self, group: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        let read = match group.entries_read {
            Some(n) if !self.tombstones_from(group.last_delivered) => Some(n),
            _ => self.distance_from_first_ever(group.last_delivered),
        };
        read.map(|n| self.entries_added.wrapping_sub(n) as i64)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// `XADD`/`XTRIM` options, as Redis's `streamParseAddOrTrimArgsOrReply`.
struct TrimArgs {
    strategy: Option<Trim>,
    approx: bool,
    limit: u64,
    nomkstream: bool,
    /// `XADD`'s id: `None` for `*`; the bool says whether the sequence was given.
    id: Option<(StreamId, bool)>,
    /// Index of the id argument (`XADD`) or of the end.
    next: usize,
}

fn parse_trim_args(argv: &[Vec<u8>], xadd: bool) -> Result<TrimArgs, Reply> {
    let mut a = TrimArgs { strategy: None, approx: false, limit: 0, nomkstream: false, id: None, next: 2 };
    let mut limit_given = false;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i];
        if xadd && opt.as_slice() == b"*" {
            break;
        } else if (is(opt, "MAXLEN") || is(opt, "MINID")) && more > 0 {
            if a.strategy.is_some() {
                return Err(Reply::err(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            a.approx = false;
            let next = &argv[i + 1];
            if more >= 2 && (next.as_slice() == b"~" || next.as_slice() == b"=") {
                a.approx = next.as_slice() == b"~";
                i += 1;
            }
            let value = &argv[i + 1];
            a.strategy = Some(if is(opt, "MAXLEN") {
                let n = args::int_or_err(value)?;
                if n < 0 {
                    return Err(Reply::err("ERR The MAXLEN argument must be >= 0."));
                }
                Trim::MaxLen(n as u64)
            } else {
                Trim::MinId(args::stream_id(value, 0, true)?)
            });
            i += 1;
        } else if is(opt, "LIMIT") && more > 0 {
            let n = args::int_or_err(&argv[i + 1])?;
            if n < 0 {
                return Err(Reply::err("ERR The LIMIT argument must be >= 0."));
            }
            a.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "NOMKSTREAM") {
            a.nomkstream = true;
        } else if xadd {
            let seq_given = !opt.ends_with(b"-*");
            let id = if seq_given {
                args::stream_id(opt, 0, true)?
            } else {
                StreamId {
                    ms: args::uint(&opt[..opt.len() - 2]).ok_or_else(|| Reply::err(INVALID_ID))?,
                    seq: 0,
                }
            };
            a.id = Some((id, seq_given));
            break;
        } else {
            return Err(Reply::err(SYNTAX));
        }
        i += 1;
    }
    a.next = i;
    if a.limit > 0 && a.strategy.is_none() {
        return Err(Reply::err(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && a.strategy.is_none() {
        return Err(Reply::err("ERR syntax error, XTRIM must be called with a trimming strategy"));
    }
    if limit_given {
        if !a.approx {
            return Err(Reply::err("ERR syntax error, LIMIT cannot be used without the special ~ option"));
        }
    } else if a.approx {
        a.limit = 100 * NODE_MAX_ENTRIES as u64;
    } else {
        a.limit = 0;
    }
    Ok(a)
}

/// `XINFO STREAM key FULL` as Redis 7.0 replies it: the stream's counters, its first `count` entries,
/// and each group with its first `count` pending entries and its consumers with theirs. Delivery and
/// seen times are Unix milliseconds of the stream clock (`EPOCH_MS` plus virtual time).
fn stream_full(s: &Stream, count: usize) -> Reply {
    let text = |t: &str| Reply::bulk(t);
    let int = |n: usize| Reply::Int(n as i64);
    let info = s.counters();
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| {
            let pending = g
                .pel
                .iter()
                .take(count)
                .map(|(id, p)| {
                    Reply::Array(vec![
                        id.reply(),
                        Reply::bulk(&p.consumer),
                        Reply::Int(EPOCH_MS as i64 + p.delivered_at),
                        Reply::Int(p.deliveries as i64),
                    ])
                })
                .collect();
            let consumers = g
                .consumers
                .iter()
                .map(|(cname, c)| {
                    let pel = c
                        .pel
                        .iter()
                        .take(count)
                        .map(|id| {
                            let p = &g.pel[id];
                            Reply::Array(vec![
                                id.reply(),
                                Reply::Int(EPOCH_MS as i64 + p.delivered_at),
                                Reply::Int(p.deliveries as i64),
                            ])
                        })
                        .collect();
                    Reply::Array(vec![
                        text("name"),
                        Reply::bulk(cname),
                        text("seen-time"),
                        Reply::Int((EPOCH_MS + c.seen_at) as i64),
                        text("pel-count"),
                        int(c.pel.len()),
                        text("pending"),
                        Reply::Array(pel),
                    ])
                })
                .collect();
            Reply::Array(vec![
                text("name"),
                Reply::bulk(name),
                text("last-delivered-id"),
                g.last_delivered.reply(),
                text("entries-read"),
                g.entries_read.map_or(Reply::Nil, |n| Reply::Int(n as i64)),
                text("lag"),
                info.lag(g).map_or(Reply::Nil, Reply::Int),
                text("pel-count"),
                int(g.pel.len()),
                text("pending"),
                Reply::Array(pending),
                text("consumers"),
                Reply::Array(consumers),
            ])
        })
        .collect();
    Reply::Array(vec![
        text("length"),
        int(s.len()),
        text("radix-tree-keys"),
        int(s.nodes.len()),
        text("radix-tree-nodes"),
        int(s.radix_tree_nodes()),
        text("last-generated-id"),
        s.last_id.reply(),
        text("max-deleted-entry-id"),
        s.max_deleted.reply(),
        text("entries-added"),
        Reply::Int(s.entries_added as i64),
        text("recorded-first-entry-id"),
        info.first_id.reply(),
        text("entries"),
        Reply::Array(s.entries.iter().take(count).map(|(id, f)| entry_reply(*id, f)).collect()),
        text("groups"),
        Reply::Array(groups),
    ])
}

fn entry_reply(id: StreamId, fields: &Fields) -> Reply {
    let mut flat = Vec::with_capacity(2 * fields.len());
    for (f, v) in fields {
        flat.push(Reply::bulk(f));
        flat.push(Reply::bulk(v));
    }
    Reply::Array(vec![id.reply(), Reply::Array(flat)])
}

fn no_group(key: &[u8], group: &[u8], tail: &str) -> Reply {
    Reply::err(format!(
        "NOGROUP No such key '{}' or consumer group '{}'{tail}",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

impl Redis {
    pub(super) fn xadd(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let a = parse_trim_args(argv, true)?;
        let field_pos = a.next + 1;
        if argv.len() < field_pos + 2 || (argv.len() - field_pos) % 2 == 1 {
            return Err(Reply::err("ERR wrong number of arguments for 'xadd' command"));
        }
        if let Some((StreamId { ms: 0, seq: 0 }, true)) = a.id {
            return Err(Reply::err("ERR The ID specified in XADD must be greater than 0-0"));
        }
        let key = &argv[1];
        if self.stream(key)?.is_none() {
            if a.nomkstream {
                return Ok(Reply::Nil);
            }
            self.keys.insert(key.clone(), Entry { value: Value::Stream(Box::default()), expires_at: None });
        }
        let now = EPOCH_MS + self.now;
        let s = self.stream_mut(key)?.expect("created above");
        if s.last_id == StreamId::MAX {
            return Err(Reply::err(
                "ERR The stream has exhausted the last possible ID, unable to add more items",
            ));
        }
        let smaller =
            || Reply::err("ERR The ID specified in XADD is equal or smaller than the target stream top item");
        let id = match a.id {
            None => {
                if now > s.last_id.ms {
                    StreamId { ms: now, seq: 0 }
                } else {
                    s.last_id.incr().ok_or_else(smaller)?
                }
            }
            Some((id, true)) => {
                if id <= s.last_id {
                    return Err(smaller());
                }
                id
            }
            Some((id, false)) => {
                if id.ms == s.last_id.ms {
                    if s.last_id.seq == u64::MAX {
                        return Err(smaller());
                    }
                    StreamId { ms: id.ms, seq: s.last_id.seq + 1 }
                } else if id.ms > s.last_id.ms {
                    id
                } else {
                    return Err(smaller());
                }
            }
        };
        let fields = argv[field_pos..].chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect();
        s.append(id, fields);
        if let Some(strategy) = a.strategy {
            s.trim(strategy, a.approx, a.limit);
        }
        self.signal_ready(key);
        Ok(id.reply())
    }

    pub(super) fn xtrim(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        if self.stream(&argv[1])?.is_none() {
            return Ok(Reply::Int(0));
        }
        let a = parse_trim_args(argv, false)?;
        let s = self.stream_mut(&argv[1])?.expect("checked");
        let strategy = a.strategy.expect("XTRIM has one");
        Ok(Reply::Int(s.trim(strategy, a.approx, a.limit) as i64))
    }

    pub(super) fn xrange(&mut self, argv: &[Vec<u8>], rev: bool) -> Result<Reply, Reply> {
        let (start_arg, end_arg) = if rev { (&argv[3], &argv[2]) } else { (&argv[2], &argv[3]) };
        let (mut start, ex) = args::interval_id(start_arg, 0)?;
        if ex {
            start = start.incr().ok_or_else(|| Reply::err("ERR invalid start ID for the interval"))?;
        }
        let (mut end, ex) = args::interval_id(end_arg, u64::MAX)?;
        if ex {
            end = end.decr().ok_or_else(|| Reply::err("ERR invalid end ID for the interval"))?;
        }
        let mut count: i64 = -1;
        let mut j = 4;
        while j < argv.len() {
            if is(&argv[j], "COUNT") && j + 1 < argv.len() {
                count = args::int_or_err(&argv[j + 1])?.max(0);
                j += 2;
            } else {
                return Err(Reply::err(SYNTAX));
            }
        }
        let Some(s) = self.stream(&argv[1])? else { return Ok(Reply::Array(Vec::new())) };
        if count == 0 {
            return Ok(Reply::NilArray);
        }
        let limit = if count < 0 { usize::MAX } else { count as usize };
        if start > end {
            return Ok(Reply::Array(Vec::new()));
        }
        let range = s.entries.range(start..=end);
        let items: Vec<Reply> = if rev {
            range.rev().take(limit).map(|(id, f)| entry_reply(*id, f)).collect()
        } else {
            range.take(limit).map(|(id, f)| entry_reply(*id, f)).collect()
        };
        Ok(Reply::Array(items))
    }

    pub(super) fn xdel(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        if self.stream(&argv[1])?.is_none() {
            return Ok(Reply::Int(0));
        }
        let ids = argv[2..].iter().map(|a| args::stream_id(a, 0, true)).collect::<Result<Vec<_>, _>>()?;
        let s = self.stream_mut(&argv[1])?.expect("checked");
        let mut n = 0;
        for id in ids {
            if s.delete(id) {
                n += 1;
                if id > s.max_deleted {
                    s.max_deleted = id;
                }
            }
        }
        Ok(Reply::Int(n))
    }

    pub(super) fn xgroup(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        let sub_arity = match sub.as_str() {
            "create" | "setid" => -5,
            "destroy" => 4,
            "createconsumer" | "delconsumer" => 5,
            "help" => 2,
            _ => {
                return Err(Reply::err(format!(
                    "ERR unknown subcommand '{}'. Try XGROUP HELP.",
                    String::from_utf8_lossy(&argv[1]).chars().take(128).collect::<String>()
                )))
            }
        };
        let n = argv.len() as i32;
        if (sub_arity > 0 && n != sub_arity) || n < -sub_arity {
            return Err(Reply::err(format!("ERR wrong number of arguments for 'xgroup|{sub}' command")));
        }
        let subcommand_syntax = || {
            Reply::err(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try XGROUP HELP.",
                String::from_utf8_lossy(&argv[1])
            ))
        };
        if sub == "help" {
            return Err(Reply::err("ERR XGROUP HELP is not modelled"));
        }
        let mut mkstream = false;
        let mut entries_read = None;
        if sub == "create" || sub == "setid" {
            let mut i = 5;
            while i < argv.len() {
                if sub == "create" && is(&argv[i], "MKSTREAM") {
                    mkstream = true;
                    i += 1;
                } else if argv.len() - i >= 2 && is(&argv[i], "ENTRIESREAD") {
                    let n = args::int_or_err(&argv[i + 1])?;
                    if n < 0 && n != -1 {
                        return Err(Reply::err("ERR value for ENTRIESREAD must be positive or -1"));
                    }
                    entries_read = u64::try_from(n).ok();
                    i += 2;
                } else {
                    return Err(subcommand_syntax());
                }
            }
        }
        let key = &argv[1 + 1];
        let group = argv[3].clone();
        if self.stream(key)?.is_none() {
            if sub == "create" && mkstream {
            } else {
                return Err(Reply::err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
            }
        }
        let exists = self.stream(key)?.is_some_and(|s| s.groups.contains_key(&group));
        if !exists && matches!(sub.as_str(), "setid" | "createconsumer" | "delconsumer") {
            return Err(Reply::err(format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(&group),
                String::from_utf8_lossy(key)
            )));
        }
        match sub.as_str() {
            "create" if argv.len() <= 8 => {
                let last = self.stream(key)?.map_or(StreamId::MIN, |s| s.last_id);
                let id = if argv[4].as_slice() == b"$" { last } else { args::stream_id(&argv[4], 0, true)? };
                if self.stream(key)?.is_none() {
                    self.keys.insert(
                        key.clone(),
                        Entry { value: Value::Stream(Box::default()), expires_at: None },
                    );
                }
                let s = self.stream_mut(key)?.expect("exists");
                if s.groups.contains_key(&group) {
                    return Err(Reply::err("BUSYGROUP Consumer Group name already exists"));
                }
                s.groups.insert(
                    group,
                    Group {
                        last_delivered: id,
                        entries_read,
                        pel: BTreeMap::new(),
                        consumers: BTreeMap::new(),
                    },
                );
                Ok(Reply::ok())
            }
            "setid" if argv.len() == 5 || argv.len() == 7 => {
                let last = self.stream(key)?.map_or(StreamId::MIN, |s| s.last_id);
                let id = if argv[4].as_slice() == b"$" { last } else { args::stream_id(&argv[4], 0, false)? };
                let s = self.stream_mut(key)?.expect("exists");
                let g = s.groups.get_mut(&group).expect("checked");
                g.last_delivered = id;
                g.entries_read = entries_read;
                Ok(Reply::ok())
            }
            "destroy" => {
                let s = self.stream_mut(key)?.expect("exists");
                let destroyed = s.groups.remove(&group).is_some();
                if destroyed {
                    // Readers blocked on the group get NOGROUP now, as Redis 7.0 signals the key.
                    self.signal_ready(key);
                }
                Ok(Reply::Int(i64::from(destroyed)))
            }
            "createconsumer" => {
                let now = self.now;
                let s = self.stream_mut(key)?.expect("exists");
                let g = s.groups.get_mut(&group).expect("checked");
                if g.consumers.contains_key(&argv[4]) {
                    return Ok(Reply::Int(0));
                }
                g.consumers.insert(argv[4].clone(), Consumer { pel: BTreeSet::new(), seen_at: now });
                Ok(Reply::Int(1))
            }
            "delconsumer" => {
                let s = self.stream_mut(key)?.expect("exists");
                let g = s.groups.get_mut(&group).expect("checked");
                let Some(c) = g.consumers.remove(&argv[4]) else { return Ok(Reply::Int(0)) };
                for id in &c.pel {
                    g.pel.remove(id);
                }
                Ok(Reply::Int(c.pel.len() as i64))
            }
            _ => Err(subcommand_syntax()),
        }
    }

    /// `XREAD` and `XREADGROUP` (`group`): entries after each stream's id, or the group's new entries
    /// (`>`) or the consumer's own history; with `BLOCK ms` and nothing to serve, the client waits on
    /// every key until an `XADD` gives one of them an entry after its id (served by
    /// [`Redis::serve_stream_waiters`]) or the timeout passes (`(nil)`).
    pub(super) fn xread(
        &mut self,
        client: ClientId,
        argv: &[Vec<u8>],
        group_cmd: bool,
    ) -> Result<Outcome, Reply> {
        let (mut count, mut noack, mut streams_at, mut group) = (0i64, false, None, None);
        let mut block: Option<u64> = None;
        let mut i = 1;
        while i < argv.len() {
            let more = argv.len() - i - 1;
            let o = &argv[i];
            if is(o, "BLOCK") && more > 0 {
                i += 1;
                let ms = args::int(&argv[i])
                    .ok_or_else(|| Reply::err("ERR timeout is not an integer or out of range"))?;
                if ms < 0 {
                    return Err(Reply::err("ERR timeout is negative"));
                }
                block = Some(ms as u64);
            } else if is(o, "COUNT") && more > 0 {
                i += 1;
                count = args::int_or_err(&argv[i])?.max(0);
            } else if is(o, "STREAMS") && more > 0 {
                if (argv.len() - i - 1) % 2 != 0 {
                    return Err(Reply::err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."));
                }
                streams_at = Some(i + 1);
                break;
            } else if is(o, "GROUP") && more >= 2 {
                if !group_cmd {
                    return Err(Reply::err(
                        "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                    ));
                }
                group = Some((argv[i + 1].clone(), argv[i + 2].clone()));
                i += 2;
            } else if is(o, "NOACK") {
                if !group_cmd {
                    return Err(Reply::err(
                        "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                    ));
                }
                noack = true;
            } else {
                return Err(Reply::err(SYNTAX));
            }
            i += 1;
        }
        let Some(at) = streams_at else { return Err(Reply::err(SYNTAX)) };
        if group_cmd && group.is_none() {
            return Err(Reply::err("ERR Missing GROUP option for XREADGROUP"));
        }
        let n = (argv.len() - at) / 2;
        // Validate every stream first, as Redis does before serving any; `$` becomes the last id now.
        let mut ids = Vec::with_capacity(n);
        for k in 0..n {
            let key = &argv[at + k];
            let id_arg = &argv[at + n + k];
            let stream = self.stream(key)?;
            if let Some((g, _)) = &group {
                if !stream.is_some_and(|s| s.groups.contains_key(g)) {
                    return Err(no_group(key, g, " in XREADGROUP with GROUP option"));
                }
            }
            ids.push(if id_arg.as_slice() == b"$" {
                if group.is_some() {
                    return Err(Reply::err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
                }
                Some(stream.map_or(StreamId::MIN, |s| s.last_id))
            } else if id_arg.as_slice() == b">" {
                if group.is_none() {
                    return Err(Reply::err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
                }
                None
            } else {
                Some(args::stream_id(id_arg, 0, true)?)
            });
        }
        let limit = if count == 0 { usize::MAX } else { count as usize };
        let mut out = Vec::new();
        for (k, id) in ids.iter().enumerate() {
            let key = &argv[at + k];
            let served = match &group {
                Some((g, c)) => self.read_group(key, g, c, *id, limit, noack),
                None => self.read_after(key, id.expect("XREAD ids are never >"), limit),
            };
            if let Some(items) = served {
                out.push(Reply::Array(vec![Reply::bulk(key), Reply::Array(items)]));
            }
        }
        if !out.is_empty() {
            return Ok(Outcome::Reply(Reply::Array(out)));
        }
        let Some(timeout) = block else { return Ok(Outcome::Reply(Reply::NilArray)) };
        let keys = argv[at..at + n].to_vec();
        let op = match group {
            Some((group, consumer)) => BlockedOp::XReadGroup { group, consumer, count: limit, noack },
            None => BlockedOp::XRead {
                after: ids.into_iter().map(|id| id.expect("XREAD")).collect(),
                count: limit,
            },
        };
        self.block(client, keys, timeout, op);
        Ok(Outcome::Blocked)
    }

    /// `XREAD`'s entries of `key` after `after`, or `None` when it has none.
    fn read_after(&self, key: &[u8], after: StreamId, limit: usize) -> Option<Vec<Reply>> {
        let s = self.stream(key).ok().flatten()?;
        let start = after.incr()?;
        let items: Vec<Reply> =
            s.entries.range(start..).take(limit).map(|(id, f)| entry_reply(*id, f)).collect();
        (!items.is_empty()).then_some(items)
    }

    /// `XREADGROUP` on one stream whose group exists: the consumer's history after `from`, or (`None`)
    /// the group's entries after its last-delivered id, which become pending for the consumer unless
    /// `noack`. `None` when `>` has nothing new (the consumer is then not created, as in Redis 7.0).
    fn read_group(
        &mut self,
        key: &[u8],
        group: &[u8],
        consumer: &[u8],
        from: Option<StreamId>,
        limit: usize,
        noack: bool,
    ) -> Option<Vec<Reply>> {
        let now = self.now as i64;
        let s = self.stream_mut(key).ok().flatten()?;
        // The counters need the first entry (a walk down the tree's cold left edge); without a deleted
        // entry no id has tombstones ahead, and a known read counter then only counts on, so a group
        // that knows its counter reads without them.
        let counting_on =
            s.max_deleted == StreamId::MIN && s.groups.get(group).is_some_and(|g| g.entries_read.is_some());
        let info = (!counting_on).then(|| s.counters());
        let Stream { entries, groups, .. } = s;
        let g = groups.get_mut(group)?;
        match from {
            Some(from) => {
                let c = g.consumers.entry(consumer.to_vec()).or_default();
                c.seen_at = now as u64;
                let mut items = Vec::new();
                let from = from.incr().unwrap_or(StreamId::MAX);
                for pid in c.pel.range(from..).take(limit) {
                    match entries.get(pid) {
                        Some(fields) => {
                            items.push(entry_reply(*pid, fields));
                            let p = g.pel.get_mut(pid).expect("shared PEL");
                            p.delivered_at = now;
                            p.deliveries += 1;
                        }
                        None => items.push(Reply::Array(vec![pid.reply(), Reply::NilArray])),
                    }
                }
                Some(items)
            }
            None => {
                let start = g.last_delivered.incr().unwrap_or(StreamId::MAX);
                let mut new = entries.range(start..).take(limit).peekable();
                new.peek()?;
                match g.consumers.get_mut(consumer) {
                    Some(c) => c.seen_at = now as u64,
                    None => {
                        let c = Consumer { seen_at: now as u64, ..Consumer::default() };
                        g.consumers.insert(consumer.to_vec(), c);
                    }
                }
                // Sized for the usual `COUNT` at once rather than grown by doubling.
                let mut items = Vec::with_capacity(limit.min(16));
                let owner: Arc<[u8]> = Arc::from(consumer);
                for (&id, fields) in new {
                    // Redis 7.0's `streamReplyWithRange`: the read counter counts on while no deleted
                    // entry lies ahead, and is estimated again otherwise.
                    g.entries_read = match (&info, g.entries_read) {
                        (None, n) => n.map(|n| n + 1),
                        (Some(info), Some(n)) if !info.tombstones_from(id) => Some(n + 1),
                        (Some(info), _) if info.entries_added > 0 => info.distance_from_first_ever(id),
                        (_, other) => other,
                    };
                    g.last_delivered = g.last_delivered.max(id);
                    items.push(entry_reply(id, fields));
                    if noack {
                        continue;
                    }
                    let pending = Pending { consumer: Arc::clone(&owner), delivered_at: now, deliveries: 1 };
                    if let Some(old) = g.pel.insert(id, pending) {
                        if let Some(c) = g.consumers.get_mut(&*old.consumer) {
                            c.pel.remove(&id);
                        }
                    }
                }
                // The consumer's own PEL takes the same ids, found once (an id taken from a previous
                // owner above may have been its own: it is back in now).
                if !noack {
                    let c = g.consumers.get_mut(consumer).expect("created");
                    c.pel.extend(entries.range(start..).take(items.len()).map(|(&id, _)| id));
                }
                Some(items)
            }
        }
    }

    /// Serves the clients blocked in `XREAD`/`XREADGROUP` on `key` after an `XADD`, as Redis 7.0's
    /// `serveClientsBlockedOnStreamKey`: in the order they blocked, each one whose id (its group's
    /// last-delivered id for `XREADGROUP`) is below the stream's last id gets one `[key, entries]`; a
    /// client whose group is gone gets Redis's `NOGROUP` error.
    pub(super) fn serve_stream_waiters(&mut self, key: &[u8], out: &mut Wakeups) {
        let mut i = 0;
        while i < self.blocked.len() {
            let Some(pos) = self.blocked[i].keys.iter().position(|k| k == key) else {
                i += 1;
                continue;
            };
            let Ok(Some(s)) = self.stream(key) else { return };
            let last = s.last_id;
            let reply = match self.blocked[i].op.clone() {
                BlockedOp::XRead { after, count } => {
                    if last <= after[pos] {
                        i += 1;
                        continue;
                    }
                    self.read_after(key, after[pos], count).map(|items| {
                        Reply::Array(vec![Reply::Array(vec![Reply::bulk(key), Reply::Array(items)])])
                    })
                }
                BlockedOp::XReadGroup { group, consumer, count, noack } => match s.groups.get(&group) {
                    None => Some(Reply::err(
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    )),
                    Some(g) if last <= g.last_delivered => {
                        i += 1;
                        continue;
                    }
                    Some(_) => {
                        let items =
                            self.read_group(key, &group, &consumer, None, count, noack).unwrap_or_default();
                        Some(Reply::Array(vec![Reply::Array(vec![Reply::bulk(key), Reply::Array(items)])]))
                    }
                },
                _ => {
                    i += 1;
                    continue;
                }
            };
            let b = self.blocked.remove(i);
            out.push((
                b.client,
                reply.unwrap_or(Reply::Array(vec![Reply::Array(vec![
                    Reply::bulk(key),
                    Reply::Array(Vec::new()),
                ])])),
            ));
        }
    }

    /// `XCLAIM key group consumer min-idle-time id… [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID]
    /// [LASTID id]`, as Redis 7.0: ids are parsed up to the first that is not one, the rest are options;
    /// a pending entry idle at least `min-idle-time` moves to the consumer (created if need be) with a new
    /// delivery time and its delivery counter incremented (set by `RETRYCOUNT`, kept by `JUSTID`); `FORCE`
    /// makes an existing entry pending; an id whose entry was deleted leaves the PEL unreplied.
    pub(super) fn xclaim(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let exists = self.stream(&argv[1])?.is_some_and(|s| s.groups.contains_key(&argv[2]));
        if !exists {
            return Err(no_group(&argv[1], &argv[2], ""));
        }
        let min_idle = args::int(&argv[4])
            .ok_or_else(|| Reply::err("ERR Invalid min-idle-time argument for XCLAIM"))?
            .max(0);
        let mut j = 5;
        let mut ids = Vec::new();
        while j < argv.len() {
            match args::stream_id(&argv[j], 0, true) {
                Ok(id) => ids.push(id),
                Err(_) => break,
            }
            j += 1;
        }
        let wall = (EPOCH_MS + self.now) as i64;
        let (mut force, mut justid, mut retrycount, mut delivery, mut last_id) =
            (false, false, None, None, StreamId::MIN);
        while j < argv.len() {
            let more = j + 1 < argv.len();
            let opt = &argv[j];
            let number = |arg: &[u8], what: &str| {
                args::int(arg)
                    .ok_or_else(|| Reply::err(format!("ERR Invalid {what} option argument for XCLAIM")))
            };
            if is(opt, "FORCE") {
                force = true;
            } else if is(opt, "JUSTID") {
                justid = true;
            } else if is(opt, "IDLE") && more {
                j += 1;
                delivery = Some(wall.wrapping_sub(number(&argv[j], "IDLE")?));
            } else if is(opt, "TIME") && more {
                j += 1;
                delivery = Some(number(&argv[j], "TIME")?);
            } else if is(opt, "RETRYCOUNT") && more {
                j += 1;
                retrycount = Some(number(&argv[j], "RETRYCOUNT")?);
            } else if is(opt, "LASTID") && more {
                j += 1;
                last_id = args::stream_id(&argv[j], 0, true)?;
            } else {
                return Err(Reply::err(format!(
                    "ERR Unrecognized XCLAIM option '{}'",
                    String::from_utf8_lossy(opt)
                )));
            }
            j += 1;
        }
        // A bogus delivery time (negative or in the future) is now, as Redis decides.
        let delivered_wall = match delivery {
            Some(t) if (0..=wall).contains(&t) => t,
            _ => wall,
        };
        let delivered_at = delivered_wall - EPOCH_MS as i64;
        let (now, seen) = (self.now as i64, self.now);
        let consumer = argv[3].clone();
        let claimer: Arc<[u8]> = Arc::from(consumer.as_slice());
        let s = self.stream_mut(&argv[1])?.expect("checked");
        let Stream { entries, groups, .. } = s;
        let g = groups.get_mut(&argv[2]).expect("checked");
        if last_id > g.last_delivered {
            g.last_delivered = last_id;
        }
        let mut out = Vec::new();
        for id in ids {
            let pending = g.pel.contains_key(&id);
            if !entries.contains_key(&id) {
                if let Some(p) = g.pel.remove(&id) {
                    if let Some(c) = g.consumers.get_mut(&*p.consumer) {
                        c.pel.remove(&id);
                    }
                }
                continue;
            }
            let owner = match g.pel.get(&id) {
                Some(p) => Some(p.consumer.clone()),
                None if force => None,
                None => continue,
            };
            if pending && min_idle > 0 && now - g.pel[&id].delivered_at < min_idle {
                continue;
            }
            let deliveries = g.pel.get(&id).map_or(1, |p| p.deliveries);
            if let Some(old) = &owner {
                if let Some(c) = g.consumers.get_mut(&**old) {
                    c.pel.remove(&id);
                }
            }
            let deliveries = match retrycount {
                Some(n) if n >= 0 => n as u64,
                _ if justid => deliveries,
                _ => deliveries + 1,
            };
            g.pel.insert(id, Pending { consumer: Arc::clone(&claimer), delivered_at, deliveries });
            let c = g.consumers.entry(consumer.clone()).or_default();
            c.pel.insert(id);
            c.seen_at = seen;
            out.push(if justid { id.reply() } else { entry_reply(id, &entries[&id]) });
        }
        Ok(Reply::Array(out))
    }

    /// What `XAUTOCLAIM key group <any consumer> min_idle_ms start COUNT count` would claim and delete
    /// now, without changing anything; `None` when `key` is no stream or has no such group. `count` is
    /// taken as at least 1 (the command refuses less).
    pub fn autoclaim_scan(
        &self,
        key: &[u8],
        group: &[u8],
        min_idle_ms: i64,
        start: StreamId,
        count: i64,
    ) -> Option<AutoclaimScan> {
        let s = self.stream(key).ok()??;
        let g = s.groups.get(group)?;
        Some(g.autoclaim_scan(&s.entries, self.now as i64, min_idle_ms.max(0), start, count.max(1)))
    }

    /// `XAUTOCLAIM key group consumer min-idle-time start [COUNT n] [JUSTID]`, as Redis 7.0: walks the
    /// group's PEL from `start` for at most `10 × COUNT` entries, claims up to `COUNT` idle ones, drops
    /// (and counts against `COUNT`) the ids whose entries were deleted, and replies the next id to scan
    /// (`0-0` at the end), the claimed entries (or ids) and the deleted ids.
    pub(super) fn xautoclaim(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let min_idle = args::int(&argv[4])
            .ok_or_else(|| Reply::err("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?
            .max(0);
        let (mut start, ex) = args::interval_id(&argv[5], 0)?;
        if ex {
            start = start.incr().ok_or_else(|| Reply::err("ERR invalid start ID for the interval"))?;
        }
        let (mut count, mut justid) = (100i64, false);
        let mut j = 6;
        while j < argv.len() {
            let more = j + 1 < argv.len();
            if is(&argv[j], "COUNT") && more {
                count = match args::int(&argv[j + 1]) {
                    Some(n) if (1..=i64::MAX / 16).contains(&n) => n,
                    _ => return Err(Reply::err("ERR COUNT must be > 0")),
                };
                j += 1;
            } else if is(&argv[j], "JUSTID") {
                justid = true;
            } else {
                return Err(Reply::err(SYNTAX));
            }
            j += 1;
        }
        let exists = self.stream(&argv[1])?.is_some_and(|s| s.groups.contains_key(&argv[2]));
        if !exists {
            return Err(no_group(&argv[1], &argv[2], ""));
        }
        let now = self.now as i64;
        let seen = self.now;
        let consumer = argv[3].clone();
        let claimer: Arc<[u8]> = Arc::from(consumer.as_slice());
        let s = self.stream_mut(&argv[1])?.expect("checked");
        let Stream { entries, groups, .. } = s;
        let g = groups.get_mut(&argv[2]).expect("checked");
        // The command is its own scan applied: what the page shows as "what XAUTOCLAIM takes next" is
        // what this takes.
        let scan = g.autoclaim_scan(entries, now, min_idle, start, count);
        for id in &scan.deleted {
            let p = g.pel.remove(id).expect("scanned");
            if let Some(c) = g.consumers.get_mut(&*p.consumer) {
                c.pel.remove(id);
            }
        }
        for id in &scan.claimed {
            let p = g.pel.get_mut(id).expect("scanned");
            let old = std::mem::replace(&mut p.consumer, Arc::clone(&claimer));
            p.delivered_at = now;
            if !justid {
                p.deliveries += 1;
            }
            if let Some(c) = g.consumers.get_mut(&*old) {
                c.pel.remove(id);
            }
        }
        if !scan.claimed.is_empty() {
            let c = g.consumers.entry(consumer).or_default();
            c.pel.extend(scan.claimed.iter().copied());
            c.seen_at = seen;
        }
        let claimed =
            scan.claimed.iter().map(|&id| if justid { id.reply() } else { entry_reply(id, &entries[&id]) });
        let deleted = scan.deleted.iter().map(|id| id.reply());
        Ok(Reply::Array(vec![
            scan.next.reply(),
            Reply::Array(claimed.collect()),
            Reply::Array(deleted.collect()),
        ]))
    }

    /// `XINFO STREAM key [FULL [COUNT n]]`, `XINFO GROUPS key`, `XINFO CONSUMERS key group` as Redis
    /// 7.0 replies them (`HELP` is not modelled).
    pub(super) fn xinfo(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        let arity = match sub.as_str() {
            "consumers" => 4,
            "groups" => 3,
            "stream" => -3,
            "help" => 2,
            _ => {
                return Err(Reply::err(format!(
                    "ERR unknown subcommand '{}'. Try XINFO HELP.",
                    String::from_utf8_lossy(&argv[1]).chars().take(128).collect::<String>()
                )))
            }
        };
        let n = argv.len() as i32;
        if (arity > 0 && n != arity) || n < -arity {
            return Err(Reply::err(format!("ERR wrong number of arguments for 'xinfo|{sub}' command")));
        }
        if sub == "help" {
            return Err(Reply::err("ERR XINFO HELP is not modelled"));
        }
        let now = self.now;
        let s = self.stream(&argv[2])?.ok_or_else(|| Reply::err("ERR no such key"))?;
        let text = |t: &str| Reply::bulk(t);
        let count = |n: usize| Reply::Int(n as i64);
        match sub.as_str() {
            "consumers" => {
                let g = s.groups.get(&argv[3]).ok_or_else(|| {
                    Reply::err(format!(
                        "NOGROUP No such consumer group '{}' for key name '{}'",
                        String::from_utf8_lossy(&argv[3]),
                        String::from_utf8_lossy(&argv[2])
                    ))
                })?;
                Ok(Reply::Array(
                    g.consumers
                        .iter()
                        .map(|(name, c)| {
                            Reply::Array(vec![
                                text("name"),
                                Reply::bulk(name),
                                text("pending"),
                                count(c.pel.len()),
                                text("idle"),
                                Reply::Int(now.saturating_sub(c.seen_at) as i64),
                            ])
                        })
                        .collect(),
                ))
            }
            "groups" => {
                let info = s.counters();
                Ok(Reply::Array(
                    s.groups
                        .iter()
                        .map(|(name, g)| {
                            Reply::Array(vec![
                                text("name"),
                                Reply::bulk(name),
                                text("consumers"),
                                count(g.consumers.len()),
                                text("pending"),
                                count(g.pel.len()),
                                text("last-delivered-id"),
                                g.last_delivered.reply(),
                                text("entries-read"),
                                g.entries_read.map_or(Reply::Nil, |n| Reply::Int(n as i64)),
                                text("lag"),
                                info.lag(g).map_or(Reply::Nil, Reply::Int),
                            ])
                        })
                        .collect(),
                ))
            }
            _ => {
                let syntax = || {
                    Reply::err(format!(
                        "ERR unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
                        String::from_utf8_lossy(&argv[1])
                    ))
                };
                if argv.len() > 3 {
                    // `FULL [COUNT n]`: n entries, and n pending entries per group and per consumer
                    // (10 by default and for a negative n; 0 for all of them).
                    let count = match argv.len() {
                        4 if is(&argv[3], "FULL") => 10,
                        6 if is(&argv[3], "FULL") && is(&argv[4], "COUNT") => {
                            let n = args::int_or_err(&argv[5])?;
                            if n < 0 {
                                10
                            } else {
                                n
                            }
                        }
                        _ => return Err(syntax()),
                    };
                    let count = if count == 0 { usize::MAX } else { count as usize };
                    return Ok(stream_full(s, count));
                }
                let info = s.counters();
                let first = s.entries.iter().next().map_or(Reply::Nil, |(id, f)| entry_reply(*id, f));
                let last = s.entries.iter().next_back().map_or(Reply::Nil, |(id, f)| entry_reply(*id, f));
                Ok(Reply::Array(vec![
                    text("length"),
                    count(s.len()),
                    text("radix-tree-keys"),
                    count(s.nodes.len()),
                    text("radix-tree-nodes"),
                    count(s.radix_tree_nodes()),
                    text("last-generated-id"),
                    s.last_id.reply(),
                    text("max-deleted-entry-id"),
                    s.max_deleted.reply(),
                    text("entries-added"),
                    Reply::Int(s.entries_added as i64),
                    text("recorded-first-entry-id"),
                    info.first_id.reply(),
                    text("groups"),
                    count(s.groups.len()),
                    text("first-entry"),
                    first,
                    text("last-entry"),
                    last,
                ]))
            }
        }
    }

    /// `XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]`, with Redis 7.0's checks.
    pub(super) fn xsetid(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let id = args::stream_id(&argv[2], 0, true)?;
        let (mut entries_added, mut max_deleted) = (None, StreamId::MIN);
        let mut i = 3;
        while i < argv.len() {
            let more = i + 1 < argv.len();
            if is(&argv[i], "ENTRIESADDED") && more {
                let n = args::int_or_err(&argv[i + 1])?;
                if n < 0 {
                    return Err(Reply::err("ERR entries_added must be positive"));
                }
                entries_added = Some(n as u64);
            } else if is(&argv[i], "MAXDELETEDID") && more {
                max_deleted = args::stream_id(&argv[i + 1], 0, true)?;
                if id < max_deleted {
                    return Err(Reply::err(
                        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                    ));
                }
            } else {
                return Err(Reply::err(SYNTAX));
            }
            i += 2;
        }
        let s = self.stream_mut(&argv[1])?.ok_or_else(|| Reply::err("ERR no such key"))?;
        if id < s.max_deleted {
            return Err(Reply::err(
                "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id",
            ));
        }
        if let Some((top, _)) = s.entries.iter().next_back() {
            if id < *top {
                return Err(Reply::err(
                    "ERR The ID specified in XSETID is smaller than the target stream top item",
                ));
            }
            if entries_added.is_some_and(|n| (s.len() as u64) > n) {
                return Err(Reply::err(
                    "ERR The entries_added specified in XSETID is smaller than the target stream length",
                ));
            }
        }
        s.last_id = id;
        if let Some(n) = entries_added {
            s.entries_added = n;
        }
        if max_deleted != StreamId::MIN {
            s.max_deleted = max_deleted;
        }
        Ok(Reply::ok())
    }

    pub(super) fn xack(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let Some(g) = self.stream_mut(&argv[1])?.and_then(|s| s.groups.get_mut(&argv[2])) else {
            return Ok(Reply::Int(0));
        };
        // Every id is checked before any is acknowledged, as Redis does; with several, they are read
        // twice rather than collected (one id, the usual call, is read once and allocates nothing).
        let ids = &argv[3..];
        if ids.len() > 1 {
            for a in ids {
                args::stream_id(a, 0, true)?;
            }
        }
        let mut n = 0;
        for a in ids {
            let id = args::stream_id(a, 0, true)?;
            if let Some(p) = g.pel.remove(&id) {
                if let Some(c) = g.consumers.get_mut(&*p.consumer) {
                    c.pel.remove(&id);
                }
                n += 1;
            }
        }
        Ok(Reply::Int(n))
    }

    pub(super) fn xpending(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let argc = argv.len();
        if argc != 3 && !(6..=9).contains(&argc) {
            return Err(Reply::err(SYNTAX));
        }
        let mut extended = None;
        if argc >= 6 {
            let mut at = 3;
            let mut min_idle = 0;
            if is(&argv[3], "IDLE") {
                min_idle = args::int_or_err(&argv[4])?;
                if argc < 8 {
                    return Err(Reply::err(SYNTAX));
                }
                at += 2;
            }
            let count = args::int(&argv[at + 2]).ok_or_else(|| Reply::err(NOT_INTEGER))?.max(0);
            let (mut start, ex) = args::interval_id(&argv[at], 0)?;
            if ex {
                start = start.incr().ok_or_else(|| Reply::err("ERR invalid start ID for the interval"))?;
            }
            let (mut end, ex) = args::interval_id(&argv[at + 1], u64::MAX)?;
            if ex {
                end = end.decr().ok_or_else(|| Reply::err("ERR invalid end ID for the interval"))?;
            }
            extended = Some((start, end, count, min_idle, argv.get(at + 3).cloned()));
        }
        let exists = self.stream(&argv[1])?.is_some_and(|s| s.groups.contains_key(&argv[2]));
        if !exists {
            return Err(no_group(&argv[1], &argv[2], ""));
        }
        let now = self.now;
        let g = &self.stream(&argv[1])?.expect("checked").groups[&argv[2]];
        let Some((start, end, count, min_idle, consumer)) = extended else {
            if g.pel.is_empty() {
                return Ok(Reply::Array(vec![Reply::Int(0), Reply::Nil, Reply::Nil, Reply::NilArray]));
            }
            let first = g.pel.keys().next().expect("non-empty");
            let last = g.pel.keys().next_back().expect("non-empty");
            let per: Vec<Reply> = g
                .consumers
                .iter()
                .filter(|(_, c)| !c.pel.is_empty())
                .map(|(name, c)| Reply::Array(vec![Reply::bulk(name), Reply::bulk(c.pel.len().to_string())]))
                .collect();
            return Ok(Reply::Array(vec![
                Reply::Int(g.pel.len() as i64),
                first.reply(),
                last.reply(),
                Reply::Array(per),
            ]));
        };
        let ids: Vec<StreamId> = match &consumer {
            Some(name) => match g.consumers.get(name) {
                None => return Ok(Reply::Array(Vec::new())),
                Some(c) => c.pel.iter().copied().collect(),
            },
            None => g.pel.keys().copied().collect(),
        };
        let mut out = Vec::new();
        if start <= end {
            for id in ids.into_iter().filter(|id| *id >= start && *id <= end) {
                if out.len() as i64 >= count {
                    break;
                }
                let p = &g.pel[&id];
                let idle = now as i64 - p.delivered_at;
                if min_idle > 0 && idle < min_idle {
                    continue;
                }
                out.push(Reply::Array(vec![
                    id.reply(),
                    Reply::bulk(&p.consumer),
                    Reply::Int(idle),
                    Reply::Int(p.deliveries as i64),
                ]));
            }
        }
        Ok(Reply::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_replies_as_it_prints() {
        let ids = [
            StreamId::MIN,
            StreamId { ms: 1_700_000_000_000, seq: 0 },
            StreamId { ms: 9, seq: 10 },
            StreamId { ms: 10, seq: 99 },
            StreamId::MAX,
        ];
        let replies: Vec<Reply> = ids.iter().map(|id| id.reply()).collect();
        let expected: Vec<Reply> =
            ["0-0", "1700000000000-0", "9-10", "10-99", "18446744073709551615-18446744073709551615"]
                .iter()
                .map(|t| Reply::Bulk(t.as_bytes().to_vec()))
                .collect();
        assert_eq!(replies, expected);
    }
}
