//! The Redis page's state, in plain Rust (tested natively): a document, its run played up to the page's
//! time, the commands typed on the console at their instants, and what the views show of the server —
//! every key (lists with their items and the clients blocked on them, streams with their entries, consumer
//! groups with their last-delivered id, lag and pending entries), pub/sub channels and patterns with
//! their subscribers.
//!
//! Invariants: the run is always the document played from 0 to `time` with the console's commands sent
//! at their instants ([`crate::shell::Applied`]), so going back rebuilds it and plays it again — the engine
//! is deterministic, so the state at a time never depends on how the page got there. Everything shown is
//! read from the engine ([`RedisRun::server`]), never worked out again here; replies are the engine's,
//! printed as redis-cli prints them.

use crate::persist::permalink;
use crate::shell::{is_due, keep_applied, Applied};
use broker_core::redis::program::parse::split_args;
use broker_core::redis::reply::quote;
pub use broker_core::redis::scenario::CTRL_C;
use broker_core::redis::scenario::{repeat_count, HandLine, RedisEvent, RedisRun, RedisRunOptions};
use broker_core::redis::server::{BlockedOp, Value};
use broker_core::redis::stream::Stream;
use broker_core::scenario::document::ModelName;
use broker_core::scenario::sim::{CheckResult, CheckStatus};
use broker_core::VirtualTime;
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A bundled Redis document: its id (`?doc=`), its title and its text.
pub struct Bundled {
    pub id: &'static str,
    pub title: &'static str,
    pub text: &'static str,
}

/// The documents the Redis page offers: the tutorials of `tests/scenarios/redis-tutorials/` (the same
/// files the goldens play). The first is streams with consumer groups as redis.io introduces them, then
/// the recovery of a crashed consumer's pending entries.
pub const BUNDLED: &[Bundled] = &[
    Bundled {
        id: "streams-and-consumer-groups",
        title: "Tutorial: Streams and consumer groups, as redis.io introduces them",
        text: include_str!("../../tests/scenarios/redis-tutorials/streams-and-consumer-groups/document.json"),
    },
    Bundled {
        id: "streams-consumer-groups-and-xautoclaim",
        title: "Tutorial: a crashed consumer's pending entries, recovered with XAUTOCLAIM",
        text: include_str!(
            "../../tests/scenarios/redis-tutorials/streams-consumer-groups-and-xautoclaim/document.json"
        ),
    },
    Bundled {
        id: "job-queue-brpop-and-blmove",
        title: "Tutorial: a job queue with BRPOP, and BLMOVE with a processing list",
        text: include_str!("../../tests/scenarios/redis-tutorials/job-queue-brpop-and-blmove/document.json"),
    },
    Bundled {
        id: "reliable-queue-with-a-reaper",
        title: "Tutorial: a reliable queue with LMOVE and a reaper",
        text: include_str!(
            "../../tests/scenarios/redis-tutorials/reliable-queue-with-a-reaper/document.json"
        ),
    },
    Bundled {
        id: "pubsub-fire-and-forget",
        title: "Tutorial: pub/sub is fire-and-forget",
        text: include_str!("../../tests/scenarios/redis-tutorials/pubsub-fire-and-forget/document.json"),
    },
];

/// How many of a stream's latest entries the page shows.
pub const SHOWN_ENTRIES: usize = 30;

/// A pending entry as `XPENDING … - + N` lists it: id, consumer, idle time, delivery count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingView {
    pub id: String,
    pub consumer: String,
    pub idle_ms: u64,
    pub deliveries: u64,
}

/// A consumer of a group: its pending entries and idle time (`XINFO CONSUMERS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerView {
    pub name: String,
    pub pending: usize,
    pub idle_ms: u64,
}

/// A consumer group (`XINFO GROUPS`): its last-delivered id, entries read and lag (`None`: Redis cannot
/// tell), its consumers and its pending entries list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupView {
    pub name: String,
    pub last_delivered: String,
    pub entries_read: Option<u64>,
    pub lag: Option<i64>,
    pub consumers: Vec<ConsumerView>,
    pub pending: Vec<PendingView>,
}

/// A stream entry: its id, its fields as `field=value …`, and whether a group delivered it already
/// (its id at or before that group's last-delivered id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryView {
    pub id: String,
    pub fields: String,
    /// Per group (in [`StreamView::groups`]' order): delivered to it, pending in it.
    pub delivered: Vec<(bool, bool)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamView {
    pub length: usize,
    pub last_id: String,
    /// The latest [`SHOWN_ENTRIES`] entries, oldest first.
    pub entries: Vec<EntryView>,
    pub groups: Vec<GroupView>,
}

/// What a key holds, as the page draws it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// A string value, quoted as redis-cli shows it.
    String(String),
    /// A list's items from the head (left, where `LPUSH` adds) to the tail (right, where `RPOP` and
    /// `BRPOP` take).
    List(Vec<String>),
    Stream(Box<StreamView>),
}

/// A key: its name, what it holds, its time to live, and the clients blocked on it (in the order
/// Redis serves them), each with the command it waits in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyView {
    pub name: String,
    pub kind: KeyKind,
    pub ttl_ms: Option<u64>,
    pub blocked: Vec<(String, String)>,
}

impl KeyView {
    /// `TYPE`'s word for it.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            KeyKind::String(_) => "string",
            KeyKind::List(_) => "list",
            KeyKind::Stream(_) => "stream",
        }
    }
}

/// A channel (or a pattern) and its subscribers, in the order they subscribed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelView {
    pub name: String,
    pub kind: &'static str,
    pub subscribers: Vec<String>,
}

/// A client blocked on keys that hold nothing yet (those without a key to draw them on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitingView {
    pub client: String,
    pub keys: Vec<String>,
    pub what: String,
}

/// One block of the console, as redis-cli shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsoleLine {
    /// `127.0.0.1:6379> COMMAND` (`127.0.0.1:6379(TX)> ` in a transaction), at its instant (ms).
    Prompt { at_ms: u64, prompt: &'static str, command: String },
    /// What redis-cli printed (lines).
    Output(String),
    /// The console waits in a blocking command.
    Waiting,
}

/// redis-cli's prompt.
pub const PROMPT: &str = "127.0.0.1:6379> ";
/// redis-cli's prompt between `MULTI` and `EXEC` or `DISCARD`.
pub const PROMPT_TX: &str = "127.0.0.1:6379(TX)> ";

/// The page's session: the document, the console's commands and its run at the page's time.
pub struct RedisSession {
    /// The bundled document's id, when it is one.
    pub bundled: Option<&'static str>,
    pub text: String,
    /// The commands typed on the console, at their instants, in time order.
    pub ops: Vec<Applied<String>>,
    /// Every line typed, sent or not, oldest first (Up recalls them).
    pub history: Vec<String>,
    run: RedisRun,
    /// The charts' samples over the whole run (with the console's commands), sampled the first time the
    /// charts are shown ([`RedisSession::charts`]) and forgotten when the console's commands change: they
    /// depend on nothing else (the page's time only moves the mark drawn on them).
    charts: OnceCell<Rc<ChartSeries>>,
}

impl std::fmt::Debug for RedisSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSession").field("name", &self.name()).finish_non_exhaustive()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Plays `run` to `to_ms`, sending each command at its instant: those after `from_ms` (all from 0 when
/// `from_ms` is `None`, a run built afresh).
pub fn play(run: &mut RedisRun, ops: &[Applied<String>], from_ms: Option<u64>, to_ms: u64) {
    for a in ops {
        if is_due(a.at, from_ms, to_ms) {
            run.run_until(VirtualTime::from_millis(a.at));
            // A kept command was sent when it was typed; sent again, it gets the same reply.
            let _ = run.hand_command(&a.op);
        }
    }
    run.run_until(VirtualTime::from_millis(to_ms));
}

impl RedisSession {
    /// Opens a document at time 0; refuses it with the engine's error (`line:col`).
    pub fn open(text: &str, bundled: Option<&'static str>) -> Result<RedisSession, String> {
        let run = RedisRun::from_json(text, RedisRunOptions::default()).map_err(|e| e.to_string())?;
        Ok(RedisSession {
            bundled,
            text: text.to_string(),
            ops: Vec::new(),
            history: Vec::new(),
            run,
            charts: OnceCell::new(),
        })
    }

    /// A bundled document by id.
    pub fn bundled(id: &str) -> Option<RedisSession> {
        let b = BUNDLED.iter().find(|b| b.id == id)?;
        RedisSession::open(b.text, Some(b.id)).ok()
    }

    /// What the page calls the document: a bundled one's title, else "Opened document".
    pub fn name(&self) -> &'static str {
        let bundled = self.bundled.and_then(|id| BUNDLED.iter().find(|b| b.id == id));
        bundled.map_or("Opened document", |b| b.title)
    }

    /// A fresh run of the document at time 0, without the console's commands.
    fn replay(&self) -> Option<RedisRun> {
        RedisRun::from_json(&self.text, RedisRunOptions::default()).ok()
    }

    /// A fresh run played to `to_ms` with the console's commands: the state the page showed at `to_ms`.
    pub fn replayed_to(&self, to_ms: u64) -> Option<RedisRun> {
        let mut run = self.replay()?;
        play(&mut run, &self.ops, None, to_ms);
        Some(run)
    }

    pub fn run(&self) -> &RedisRun {
        &self.run
    }

    pub fn time_ms(&self) -> u64 {
        self.run.time().as_millis()
    }

    pub fn end_ms(&self) -> u64 {
        self.run.end_time().as_millis()
    }

    /// Plays to `to_ms` (clamped to the end), sending the commands due on the way; going back plays
    /// again from 0.
    pub fn seek(&mut self, to_ms: u64) {
        let to_ms = to_ms.min(self.end_ms());
        let mut from = Some(self.time_ms());
        if to_ms < self.time_ms() {
            match self.replay() {
                Some(run) => self.run = run,
                None => return,
            }
            from = None;
        }
        play(&mut self.run, &self.ops, from, to_ms);
    }

    /// The next instant after now at which the run does something (an event), or one second on; at
    /// most the end.
    pub fn next_event_ms(&self) -> u64 {
        let now = self.time_ms();
        let end = self.end_ms();
        let Some(mut probe) = self.replayed_to(now) else { return (now + 1000).min(end) };
        let n = probe.events().len();
        let mut t = now;
        while t < end {
            let from = t;
            t = (t + 100).min(end);
            play(&mut probe, &self.ops, Some(from), t);
            if probe.events().len() > n {
                return t;
            }
        }
        end
    }

    /// Replaces the console's commands (a workspace reopened): the run plays again from 0 with them, and
    /// the console's history (Up) recalls them, oldest first.
    pub fn set_ops(&mut self, ops: Vec<Applied<String>>) {
        self.ops = Vec::with_capacity(ops.len());
        self.history.clear();
        for a in ops {
            if self.history.last() != Some(&a.op) && a.op != CTRL_C {
                self.history.push(a.op.clone());
            }
            keep_applied(&mut self.ops, a.at, a.op);
        }
        if let Some(run) = self.replayed_to(0) {
            self.run = run;
        }
        self.charts.take();
    }

    /// Sends a console line now, through the engine; what redis-cli prints for it (`None`: it blocks).
    /// A line sent is kept (at this instant, in time order) so that replaying the run sends it again; one
    /// not sent (`Err`: redis-cli's refusal, or why the console cannot send it) is not. [`CTRL_C`] is
    /// Ctrl-C (kept, not in the history).
    pub fn type_command(&mut self, line: &str) -> Result<Option<String>, String> {
        let line = line.trim();
        if line.is_empty() {
            return Err(String::new());
        }
        if self.history.last().is_none_or(|l| l != line) && line != CTRL_C {
            self.history.push(line.to_string());
        }
        let now = self.time_ms();
        // After the run's own step at this instant, as a replay sends it (a page just opened at 0 has
        // not played instant 0 yet).
        self.run.run_until(VirtualTime::from_millis(now));
        let said = self.run.hand_command(line)?;
        keep_applied(&mut self.ops, now, line.to_string());
        self.charts.take();
        Ok(said)
    }

    /// The console as redis-cli shows it: each command after its prompt, then its output; a blocking
    /// command's reply when it came (with redis-cli's `(2.00s)` when it took half a second or more); after a
    /// `clear`, only what came after it.
    pub fn console(&self) -> Vec<ConsoleLine> {
        let mut out = Vec::new();
        for (t, line) in self.run.hand_lines() {
            match line {
                HandLine::Typed { command, transaction } => out.push(ConsoleLine::Prompt {
                    at_ms: t.as_millis(),
                    prompt: if *transaction { PROMPT_TX } else { PROMPT },
                    command: command.clone(),
                }),
                HandLine::Output { text } | HandLine::Received { text } | HandLine::Closed { text } => {
                    out.push(ConsoleLine::Output(text.clone()))
                }
                HandLine::Blocked { .. } => {}
                // redis-cli's `clear`: the screen shows only what comes after it.
                HandLine::Cleared => out.clear(),
                HandLine::Unblocked { waited_ms, text, .. } => {
                    let mut text = text.clone();
                    if *waited_ms >= 500 {
                        text.push_str(&format!("({:.2}s)\n", *waited_ms as f64 / 1000.0));
                    }
                    out.push(ConsoleLine::Output(text));
                }
            }
        }
        if self.run.hand_waiting().is_some() {
            out.push(ConsoleLine::Waiting);
        }
        out
    }

    pub fn description(&self) -> &str {
        self.run.document().description.as_deref().unwrap_or("")
    }

    pub fn checks(&self) -> Vec<CheckResult> {
        self.run.check_results()
    }

    /// The run's events up to now, as the transcript words them.
    pub fn events(&self) -> Vec<(u64, String)> {
        self.run.events().iter().map(|(t, e)| (t.as_millis(), e.to_string())).collect()
    }

    pub fn stopped(&self) -> Option<String> {
        self.run.stopped().map(|s| s.message.clone())
    }

    /// Every key, in name order, as the server holds it now.
    pub fn keys(&self) -> Vec<KeyView> {
        let redis = self.run.server();
        redis
            .keys
            .iter()
            .map(|(key, entry)| {
                let kind = match &entry.value {
                    Value::String(s) => KeyKind::String(quote(s)),
                    Value::List(items) => KeyKind::List(items.iter().map(|i| text(i)).collect()),
                    Value::Stream(s) => KeyKind::Stream(Box::new(self.stream_view(s))),
                };
                KeyView {
                    name: text(key),
                    kind,
                    ttl_ms: entry.expires_at.map(|at| at.saturating_sub(self.time_ms())),
                    blocked: redis
                        .blocked
                        .iter()
                        .filter(|b| b.keys.contains(key))
                        .map(|b| (self.run.client_name(b.client), blocked_what(&b.op)))
                        .collect(),
                }
            })
            .collect()
    }

    /// The clients blocked on keys none of which exists (they show on no key card).
    pub fn waiting_on_nothing(&self) -> Vec<WaitingView> {
        let redis = self.run.server();
        redis
            .blocked
            .iter()
            .filter(|b| !b.keys.iter().any(|k| redis.keys.contains_key(k)))
            .map(|b| WaitingView {
                client: self.run.client_name(b.client),
                keys: b.keys.iter().map(|k| text(k)).collect(),
                what: blocked_what(&b.op),
            })
            .collect()
    }

    fn stream_view(&self, s: &Stream) -> StreamView {
        // The page's time: what `XPENDING` or `XINFO` typed now would say.
        let now = self.time_ms();
        let groups: Vec<GroupView> = s
            .groups
            .iter()
            .map(|(name, g)| GroupView {
                name: text(name),
                last_delivered: g.last_delivered.to_string(),
                entries_read: g.entries_read,
                lag: s.counters().lag(g),
                consumers: g
                    .consumers
                    .iter()
                    .map(|(c, v)| ConsumerView {
                        name: text(c),
                        pending: v.pel.len(),
                        idle_ms: now.saturating_sub(v.seen_at),
                    })
                    .collect(),
                pending: g
                    .pel
                    .iter()
                    .map(|(id, p)| PendingView {
                        id: id.to_string(),
                        consumer: text(&p.consumer),
                        idle_ms: (now as i64 - p.delivered_at).max(0) as u64,
                        deliveries: p.deliveries,
                    })
                    .collect(),
            })
            .collect();
        // The last SHOWN_ENTRIES, reached from the end (a stream without MAXLEN holds every entry).
        let entries = s
            .entries
            .iter()
            .rev()
            .take(SHOWN_ENTRIES)
            .rev()
            .map(|(id, fields)| EntryView {
                id: id.to_string(),
                fields: fields
                    .iter()
                    .map(|(k, v)| format!("{}={}", text(k), text(v)))
                    .collect::<Vec<_>>()
                    .join(" "),
                delivered: s
                    .groups
                    .values()
                    .map(|g| (*id <= g.last_delivered, g.pel.contains_key(id)))
                    .collect(),
            })
            .collect();
        StreamView { length: s.len(), last_id: s.last_id.to_string(), entries, groups }
    }

    /// What each channel's publishes did so far (the run's `PUBLISH`es and `SPUBLISH`es, the console's
    /// included), in channel order.
    pub fn channel_tallies(&self) -> BTreeMap<String, ChannelTally> {
        let mut out = BTreeMap::new();
        tally_into(&mut out, self.run.events());
        out
    }

    /// The charts over the whole run: sampled when first asked for (the charts view shown), then kept
    /// until the console's commands change, so opening a document, moving in time or typing a command
    /// with the charts hidden plays nothing more.
    pub fn charts(&self) -> Rc<ChartSeries> {
        self.charts.get_or_init(|| Rc::new(self.sample_charts())).clone()
    }

    /// Whether the charts are sampled and kept (nothing changed them since they were shown).
    pub fn charts_kept(&self) -> bool {
        self.charts.get().is_some()
    }

    /// Every list's length, every group's pending entries and lag, and every channel's deliveries and
    /// missed messages at [`CHART_SAMPLES`] + 1 moments from 0 to the end, from a run played afresh with
    /// the console's commands.
    fn sample_charts(&self) -> ChartSeries {
        let Some(mut run) = self.replay() else { return ChartSeries::default() };
        let end = run.end_time().as_millis();
        let mut series: BTreeMap<ChartId, Vec<Vec<Option<i64>>>> = BTreeMap::new();
        let mut at_ms = Vec::new();
        let mut tallies = BTreeMap::new();
        let (mut played, mut seen) = (None, 0);
        for i in 0..=CHART_SAMPLES {
            let at = end * i / CHART_SAMPLES;
            play(&mut run, &self.ops, played, at);
            played = Some(at);
            let events = run.events();
            tally_into(&mut tallies, &events[seen..]);
            seen = events.len();
            let mut now: BTreeMap<ChartId, Vec<Option<i64>>> = BTreeMap::new();
            for (key, entry) in &run.server().keys {
                match &entry.value {
                    Value::List(items) => {
                        now.insert(ChartId::List(text(key)), vec![Some(items.len() as i64)]);
                    }
                    Value::Stream(s) => {
                        for (name, g) in &s.groups {
                            let id = ChartId::Group(text(key), text(name));
                            now.insert(id, vec![Some(g.pel.len() as i64), s.counters().lag(g)]);
                        }
                    }
                    Value::String(_) => {}
                }
            }
            for (channel, t) in &tallies {
                now.insert(
                    ChartId::Channel(channel.clone()),
                    vec![Some(t.receivers as i64), Some(t.missed as i64)],
                );
            }
            for id in now.keys() {
                // A chart seen first now: its earlier samples are what Redis would have said then.
                series
                    .entry(id.clone())
                    .or_insert_with(|| id.lines().iter().map(|_| vec![id.absent(); at_ms.len()]).collect());
            }
            for (id, lines) in series.iter_mut() {
                let values = now.get(id).cloned().unwrap_or_else(|| vec![id.absent(); lines.len()]);
                for (line, v) in lines.iter_mut().zip(values) {
                    line.push(v);
                }
            }
            at_ms.push(at);
        }
        ChartSeries { at_ms, charts: series.into_iter().map(|(id, lines)| Chart { id, lines }).collect() }
    }

    /// Pub/sub channels, then patterns, then shard channels, each with its subscribers.
    pub fn channels(&self) -> Vec<ChannelView> {
        let redis = self.run.server();
        let mut out = Vec::new();
        for (kind, map) in [
            ("channel", &redis.channels),
            ("pattern", &redis.patterns),
            ("shard channel", &redis.shard_channels),
        ] {
            for (name, clients) in map {
                out.push(ChannelView {
                    name: text(name),
                    kind,
                    subscribers: clients.iter().map(|c| self.run.client_name(*c)).collect(),
                });
            }
        }
        out
    }
}

/// What a channel's publishes did, as the run's events tell them: how many `PUBLISH`es (or
/// `SPUBLISH`es), how many subscribers they reached in all (the sum of their replies: the channel's
/// subscribers and the matching patterns'), how many reached nobody, and how many messages the document's
/// subscribers following the channel missed because they were not subscribed then (pub/sub keeps
/// nothing for them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelTally {
    pub publishes: u64,
    pub receivers: u64,
    pub to_nobody: u64,
    pub missed: u64,
}

/// Adds what `events` tell about each channel to `tallies`: a `PUBLISH` (a producer's or one typed on the
/// console) counts once it was answered with its receivers (`(integer) N`; one queued inside `MULTI` is
/// not answered yet), a `missed` event once.
pub fn tally_into(tallies: &mut BTreeMap<String, ChannelTally>, events: &[(VirtualTime, RedisEvent)]) {
    for (_, e) in events {
        match e {
            RedisEvent::Sent { command, reply, .. } | RedisEvent::Typed { command, reply, .. } => {
                let Some(n) = reply.strip_prefix("(integer) ").and_then(|n| n.parse::<u64>().ok()) else {
                    continue;
                };
                let Ok(argv) = split_args(command) else { continue };
                // A repeated line (`3 PUBLISH …`) tells each repetition's reply apart.
                let argv = if matches!(repeat_count(&argv), Ok(Some(_))) { &argv[1..] } else { &argv[..] };
                let publish = argv.first().is_some_and(|c| {
                    c.eq_ignore_ascii_case(b"publish") || c.eq_ignore_ascii_case(b"spublish")
                });
                if publish && argv.len() == 3 {
                    let t = tallies.entry(text(&argv[1])).or_default();
                    t.publishes += 1;
                    t.receivers += n;
                    t.to_nobody += u64::from(n == 0);
                }
            }
            RedisEvent::Missed { channel, .. } => tallies.entry(channel.clone()).or_default().missed += 1,
            _ => {}
        }
    }
}

/// How many intervals the charts sample the run in.
pub const CHART_SAMPLES: u64 = 100;

/// What a chart follows: a list (its length), a stream's consumer group (its pending entries and lag),
/// or a pub/sub channel (messages delivered and missed so far).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChartId {
    List(String),
    /// (stream key, group).
    Group(String, String),
    Channel(String),
}

impl ChartId {
    /// The chart's lines: (label, CSS class).
    pub fn lines(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            ChartId::List(_) => &[("length", "length")],
            ChartId::Group(..) => &[("pending", "pending"), ("lag", "lag")],
            ChartId::Channel(_) => &[("delivered", "delivered"), ("missed", "missed")],
        }
    }

    /// A line's value while the thing does not exist: an absent list is empty (`LLEN` 0), a group that
    /// does not exist has no count, a channel nothing was published on has delivered and missed nothing.
    fn absent(&self) -> Option<i64> {
        match self {
            ChartId::Group(..) => None,
            ChartId::List(_) | ChartId::Channel(_) => Some(0),
        }
    }

    /// The chart's caption.
    pub fn title(&self) -> String {
        match self {
            ChartId::List(key) => format!("list {key}: LLEN"),
            ChartId::Group(key, group) => format!("stream {key}, group {group}: pending and lag"),
            ChartId::Channel(channel) => format!("channel {channel}: delivered and missed (so far)"),
        }
    }

    /// A stable name for the chart's element (`list:jobs`, `group:orders:shipping`, `channel:news`).
    pub fn slug(&self) -> String {
        match self {
            ChartId::List(key) => format!("list:{key}"),
            ChartId::Group(key, group) => format!("group:{key}:{group}"),
            ChartId::Channel(channel) => format!("channel:{channel}"),
        }
    }
}

/// One chart: per line (in [`ChartId::lines`]' order) a value per sample (`None`: Redis has none, as
/// `XINFO GROUPS` replies a nil lag, or the group does not exist then).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    pub id: ChartId,
    pub lines: Vec<Vec<Option<i64>>>,
}

/// The charts over the whole run: the samples' instants and every chart, lists first, then groups,
/// then channels, each in name order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChartSeries {
    pub at_ms: Vec<u64>,
    pub charts: Vec<Chart>,
}

/// What a blocked client waits in, in a few words.
fn blocked_what(op: &BlockedOp) -> String {
    match op {
        BlockedOp::Pop(end) => format!("{:?} pop", end).to_lowercase(),
        BlockedOp::Move { destination, .. } => format!("move to {}", text(destination)),
        BlockedOp::XRead { .. } => "XREAD".to_string(),
        BlockedOp::XReadGroup { group, consumer, .. } => {
            format!("XREADGROUP as {} in {}", text(consumer), text(group))
        }
    }
}

/// What the Redis page does with a link or an imported file.
#[derive(Debug)]
pub enum Opening {
    /// Not a link: the page shows its bundled document.
    Nothing,
    /// A Redis document, opened at time 0.
    Open(Box<RedisSession>),
    /// Another model's document: the page of `model` opens `fragment` (a share link's).
    Forward { model: ModelName, fragment: String },
    /// Refused, as a sentence; nothing was run.
    Refused(String),
}

/// A scenario document's text: a Redis document opens here, another model's goes to its page, anything
/// else is refused with the parser's error (`line:col`) after `what`.
pub fn open_document(text: String, what: &str) -> Opening {
    match broker_core::scenario::document::model_of(&text) {
        Ok(model) if model != ModelName::Redis => {
            return Opening::Forward { model, fragment: permalink::encode(&text) };
        }
        _ => {}
    }
    match RedisSession::open(&text, None) {
        Ok(s) => Opening::Open(Box::new(s)),
        Err(e) => Opening::Refused(format!("{what} cannot be opened: {e}. Nothing was run.")),
    }
}

/// The page's fragment (a share link, `#scenario=…`). A workspace link goes to the RabbitMQ page, which
/// keeps workspaces.
pub fn open_link(fragment: &str) -> Opening {
    match permalink::decode_link(fragment) {
        Ok(None) => Opening::Nothing,
        Err(e) => Opening::Refused(e),
        Ok(Some(permalink::Link::Scenario(text))) => open_document(text, "This link's scenario"),
        Ok(Some(permalink::Link::Workspace(text))) => match permalink::encode_workspace(&text) {
            Ok(fragment) => Opening::Forward { model: ModelName::Amqp, fragment },
            Err(e) => Opening::Refused(e),
        },
    }
}

/// An imported file (`name`): a scenario document (this model's or another's).
pub fn open_file(name: &str, text: &str) -> Opening {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    open_document(text.to_string(), &format!("'{name}'"))
}

/// Counts of check statuses: (passed, failed, pending).
pub fn check_counts(checks: &[CheckResult]) -> (usize, usize, usize) {
    let count = |s: CheckStatus| checks.iter().filter(|c| c.status == s).count();
    (count(CheckStatus::Pass), count(CheckStatus::Fail), count(CheckStatus::Pending))
}

impl crate::player::ModelSession for RedisSession {
    const MODEL: ModelName = ModelName::Redis;
    type Event = RedisEvent;

    fn open(text: &str, bundled: Option<&'static str>) -> Result<Self, String> {
        RedisSession::open(text, bundled)
    }
    fn name(&self) -> &'static str {
        RedisSession::name(self)
    }
    fn bundled_id(&self) -> Option<&'static str> {
        self.bundled
    }
    fn description(&self) -> &str {
        RedisSession::description(self)
    }
    fn time_ms(&self) -> u64 {
        RedisSession::time_ms(self)
    }
    fn end_ms(&self) -> u64 {
        RedisSession::end_ms(self)
    }
    fn seek(&mut self, to_ms: u64) {
        RedisSession::seek(self, to_ms)
    }
    fn checks(&self) -> Vec<CheckResult> {
        RedisSession::checks(self)
    }
    fn run_events(&self) -> &[(VirtualTime, RedisEvent)] {
        self.run.events()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::redis::scenario::{CLEAR_SCREEN, HELP_INTRO};

    fn key<'a>(keys: &'a [KeyView], name: &str) -> &'a KeyView {
        keys.iter().find(|k| k.name == name).unwrap_or_else(|| panic!("key {name}"))
    }

    fn stream(k: &KeyView) -> &StreamView {
        match &k.kind {
            KeyKind::Stream(s) => s,
            other => panic!("{} is not a stream: {other:?}", k.name),
        }
    }

    #[test]
    fn every_bundled_tutorial_opens_and_passes_all_its_checks_at_the_end() {
        assert_eq!(BUNDLED.len(), 5);
        for b in BUNDLED {
            let mut s = RedisSession::bundled(b.id).unwrap_or_else(|| panic!("{} opens", b.id));
            assert_eq!(s.time_ms(), 0);
            s.seek(s.end_ms());
            let checks = s.checks();
            let (pass, fail, pending) = check_counts(&checks);
            assert!(pass > 0 && fail == 0 && pending == 0, "{}: {checks:#?}", b.id);
            assert!(s.stopped().is_none(), "{}", b.id);
        }
    }

    #[test]
    fn the_stream_shows_its_group_its_pel_with_idle_times_and_the_crashed_consumer_s_entry() {
        let mut s = RedisSession::bundled("streams-consumer-groups-and-xautoclaim").expect("opens");
        // At 6 s bob (crashed at 3.2 s) still holds an order in the group's PEL, idle since he read it.
        s.seek(6_000);
        let keys = s.keys();
        let orders = stream(key(&keys, "orders"));
        assert_eq!(orders.length, 6);
        assert_eq!(orders.groups.len(), 1);
        let g = &orders.groups[0];
        assert_eq!(g.name, "shipping");
        let bob: Vec<&PendingView> = g.pending.iter().filter(|p| p.consumer == "bob").collect();
        assert_eq!(bob.len(), 1, "{g:?}");
        assert!(bob[0].idle_ms >= 3_000, "{:?}", bob[0]);
        assert_eq!(bob[0].deliveries, 1);
        // The view is the engine's XPENDING, word for word.
        let mut run = s.replayed_to(6_000).expect("replays");
        let xpending = run.hand_command("XPENDING orders shipping - + 10 bob").unwrap().unwrap();
        assert_eq!(
            xpending,
            format!(
                "1) 1) \"{}\"\n   2) \"bob\"\n   3) (integer) {}\n   4) (integer) 1\n",
                bob[0].id, bob[0].idle_ms
            )
        );
        // alice read book-5 at 6 s; book-6, added at the same instant, is not delivered yet.
        assert_eq!(g.last_delivered, "1700000005000-0");
        assert_eq!(g.lag, Some(1));
        // At the end the rescuer claimed it (2 deliveries) and acknowledged it: nothing is pending.
        s.seek(s.end_ms());
        let keys = s.keys();
        let g = &stream(key(&keys, "orders")).groups[0];
        assert!(g.pending.is_empty(), "{g:?}");
        assert_eq!(g.lag, Some(0));
        assert_eq!(
            g.consumers.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["alice", "bob", "rescuer"]
        );
    }

    #[test]
    fn lists_show_their_items_and_the_clients_blocked_on_them() {
        let mut s = RedisSession::bundled("reliable-queue-with-a-reaper").expect("opens");
        s.seek(500);
        // jobs is empty (so absent): worker-b waits on it with no key to draw it on.
        let waiting = s.waiting_on_nothing();
        assert_eq!(waiting.len(), 1, "{waiting:?}");
        assert_eq!(waiting[0].client, "worker-b");
        assert_eq!(waiting[0].keys, ["jobs"]);
        let keys = s.keys();
        assert_eq!(key(&keys, "jobs:processing:worker-a").kind, KeyKind::List(vec!["job-1".into()]));
        assert!(key(&keys, "alive:worker-a").ttl_ms.is_some());
        assert_eq!(key(&keys, "alive:worker-a").type_name(), "string");
    }

    #[test]
    fn the_console_prints_redis_cli_s_text_and_its_commands_replay_after_a_rewind() {
        let mut s = RedisSession::bundled("job-queue-brpop-and-blmove").expect("opens");
        s.seek(2_500);
        assert_eq!(s.type_command("LPUSH jobs first").unwrap().as_deref(), Some("(integer) 3\n"));
        assert_eq!(
            s.type_command("XADD jobs * f v").unwrap().as_deref(),
            Some("(error) WRONGTYPE Operation against a key holding the wrong kind of value\n")
        );
        assert_eq!(s.type_command("SET x \"open"), Err("Invalid argument(s)".into()));
        assert_eq!(s.ops.len(), 2, "only what was sent is kept");
        assert_eq!(s.history, ["LPUSH jobs first", "XADD jobs * f v", "SET x \"open"]);
        let shown = s.console();
        assert_eq!(
            shown[0],
            ConsoleLine::Prompt { at_ms: 2_500, prompt: PROMPT, command: "LPUSH jobs first".into() }
        );
        assert_eq!(shown[1], ConsoleLine::Output("(integer) 3\n".into()));
        let at_end = {
            s.seek(s.end_ms());
            (s.keys(), s.events(), s.console())
        };
        // Back before the command: it is not there; forward again: it is sent again, the same.
        s.seek(1_000);
        assert!(s.console().is_empty());
        assert!(!s.events().iter().any(|(_, e)| e.starts_with("you>")));
        s.seek(s.end_ms());
        assert_eq!((s.keys(), s.events(), s.console()), at_end);
        // A command typed after a rewind goes before the later ones.
        s.seek(1_000);
        s.type_command("RPUSH jobs early").unwrap();
        assert_eq!(
            s.ops.iter().map(|a| (a.at, a.op.as_str())).collect::<Vec<_>>()[0],
            (1_000, "RPUSH jobs early")
        );
    }

    #[test]
    fn clear_empties_the_console_but_not_the_history_and_replays_after_a_rewind() {
        let mut s = RedisSession::bundled("job-queue-brpop-and-blmove").expect("opens");
        s.seek(2_500);
        s.type_command("LLEN jobs").unwrap();
        assert_eq!(s.type_command("help").unwrap().as_deref(), Some(HELP_INTRO));
        assert_eq!(s.console().len(), 4);
        assert_eq!(s.type_command("clear").unwrap().as_deref(), Some(CLEAR_SCREEN));
        assert_eq!(s.console(), [], "only what comes after clear is shown");
        assert_eq!(s.history, ["LLEN jobs", "help", "clear"], "Up still recalls them");
        s.type_command("LLEN jobs").unwrap();
        let after = s.console();
        assert_eq!(
            after,
            [
                ConsoleLine::Prompt { at_ms: 2_500, prompt: PROMPT, command: "LLEN jobs".into() },
                ConsoleLine::Output("(integer) 2\n".into())
            ]
        );
        // The clear is kept as a line typed: a replay clears at the same place.
        s.seek(1_000);
        s.seek(2_500);
        assert_eq!(s.console(), after);
    }

    #[test]
    fn a_blocking_command_waits_and_its_reply_shows_with_the_time_it_took() {
        let mut s = RedisSession::bundled("reliable-queue-with-a-reaper").expect("opens");
        s.seek(500);
        assert_eq!(s.type_command("BLPOP nothing 1.5"), Ok(None));
        assert_eq!(s.console().last(), Some(&ConsoleLine::Waiting));
        assert!(s.type_command("PING").unwrap_err().contains("waits in BLPOP nothing 1.5"));
        s.seek(2_000);
        assert_eq!(s.console().last(), Some(&ConsoleLine::Output("(nil)\n(1.50s)\n".into())));
        assert_eq!(s.type_command("PING"), Ok(Some("PONG\n".into())));
    }

    #[test]
    fn channels_and_patterns_show_their_subscribers_the_console_included() {
        let mut s = RedisSession::bundled("pubsub-fire-and-forget").expect("opens");
        s.seek(1_200);
        s.type_command("PSUBSCRIBE scores.*").unwrap();
        let ch = s.channels();
        let names: Vec<(&str, &str, Vec<&str>)> = ch
            .iter()
            .map(|c| (c.kind, c.name.as_str(), c.subscribers.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            names,
            [
                ("channel", "scores.football", vec!["dashboard"]),
                ("pattern", "scores.*", vec!["archiver", "you"])
            ]
        );
        s.seek(1_500);
        let last = s.console().last().cloned();
        assert_eq!(
            last,
            Some(ConsoleLine::Output(
                "1) \"pmessage\"\n2) \"scores.*\"\n3) \"scores.football\"\n4) \"goal-2\"\n".into()
            ))
        );
    }

    fn chart(s: &RedisSession, id: &ChartId) -> Chart {
        s.charts().charts.iter().find(|c| c.id == *id).cloned().unwrap_or_else(|| panic!("no chart {id:?}"))
    }

    /// The console's reply to `line` on a fresh run played to `at_ms` (the page's own state untouched).
    fn asked(s: &RedisSession, at_ms: u64, line: &str) -> String {
        let mut run = s.replayed_to(at_ms).expect("replays");
        run.hand_command(line).expect("sent").expect("answered")
    }

    #[test]
    fn the_list_charts_are_llen_at_each_sample_the_console_s_pushes_included() {
        let mut s = RedisSession::bundled("job-queue-brpop-and-blmove").expect("opens");
        assert_eq!(s.charts().at_ms.len() as u64, CHART_SAMPLES + 1);
        assert_eq!((s.charts().at_ms[0], *s.charts().at_ms.last().unwrap()), (0, s.end_ms()));
        s.seek(5_000);
        s.type_command("RPUSH jobs a b c").unwrap();
        let ids: Vec<String> = s.charts().charts.iter().map(|c| c.id.slug()).collect();
        assert!(ids.starts_with(&["list:jobs".to_string()]), "lists first, in name order: {ids:?}");
        for list in ["jobs", "reliable", "reliable:processing"] {
            let c = chart(&s, &ChartId::List(list.into()));
            for (i, at) in s.charts().at_ms.iter().enumerate().step_by(7) {
                let llen = asked(&s, *at, &format!("LLEN {list}"));
                assert_eq!(format!("(integer) {}\n", c.lines[0][i].unwrap()), llen, "{list} at {at} ms");
            }
        }
        // The three pushed by hand at 5 s are on the chart from then on.
        let jobs = chart(&s, &ChartId::List("jobs".into()));
        let at = |ms: u64| s.charts().at_ms.iter().position(|t| *t >= ms).unwrap();
        assert!(jobs.lines[0][at(5_000)].unwrap() >= 3, "{:?}", jobs.lines[0]);
        assert!(jobs.lines[0][..at(5_000)].iter().all(|v| v.unwrap() < 3), "{:?}", jobs.lines[0]);
    }

    #[test]
    fn the_group_chart_is_xpending_s_count_and_xinfo_s_lag_at_each_sample() {
        let s = RedisSession::bundled("streams-consumer-groups-and-xautoclaim").expect("opens");
        let c = chart(&s, &ChartId::Group("orders".into(), "shipping".into()));
        let mut saw_pending = false;
        for (i, at) in s.charts().at_ms.iter().enumerate().step_by(5) {
            let pending = asked(&s, *at, "XPENDING orders shipping");
            match c.lines[0][i] {
                // Before the group exists: XPENDING's NOGROUP error.
                None => assert!(pending.starts_with("(error) NOGROUP"), "at {at}: {pending}"),
                Some(n) => {
                    assert!(pending.starts_with(&format!("1) (integer) {n}\n")), "at {at}: {pending}");
                    saw_pending |= n > 0;
                    let info = asked(&s, *at, "XINFO GROUPS orders");
                    let lag = c.lines[1][i].map_or("(nil)".to_string(), |l| format!("(integer) {l}"));
                    assert!(info.contains(&format!("\"lag\"\n   12) {lag}\n")), "at {at}: {info}");
                }
            }
        }
        assert!(saw_pending, "bob's crashed entry is charted as pending: {:?}", c.lines[0]);
    }

    #[test]
    fn the_channel_chart_counts_deliveries_and_missed_messages_as_the_golden_transcript_does() {
        // tests/scenarios/redis-tutorials/pubsub-fire-and-forget/expected.txt (compared with
        // redis-server): PUBLISH replied 0, 2, 2, 1, 1, 2, 2, 3, 3, 3 and 11 messages were missed.
        let mut s = RedisSession::bundled("pubsub-fire-and-forget").expect("opens");
        let c = chart(&s, &ChartId::Channel("scores.football".into()));
        assert_eq!((c.lines[0].last(), c.lines[1].last()), (Some(&Some(19)), Some(&Some(11))));
        let at_2s = s.charts().at_ms.iter().position(|t| *t == 2_000).expect("a sample at 2 s");
        assert_eq!((c.lines[0][at_2s], c.lines[1][at_2s]), (Some(2), Some(4)), "goal-1 and goal-2 only");
        s.seek(s.end_ms());
        let t = &s.channel_tallies()["scores.football"];
        assert_eq!(*t, ChannelTally { publishes: 10, receivers: 19, to_nobody: 1, missed: 11 });
        // A PUBLISH typed on the console counts too; one on a channel without subscribers reaches nobody.
        s.type_command("PUBLISH scores.football by-hand").unwrap();
        s.type_command("PUBLISH empty x").unwrap();
        let tallies = s.channel_tallies();
        assert_eq!(tallies["scores.football"].publishes, 11);
        assert_eq!(tallies["scores.football"].receivers, 22);
        assert_eq!(tallies["empty"], ChannelTally { publishes: 1, receivers: 0, to_nobody: 1, missed: 0 });
    }

    #[test]
    fn the_charts_are_sampled_when_shown_and_kept_until_the_console_s_commands_change() {
        let mut s = RedisSession::bundled("job-queue-brpop-and-blmove").expect("opens");
        assert!(!s.charts_kept(), "opening a document samples nothing");
        let shown = s.charts();
        assert!(s.charts_kept());
        s.seek(5_000);
        assert!(Rc::ptr_eq(&shown, &s.charts()), "moving in time plays nothing more");
        assert!(s.type_command("SET x \"open").is_err());
        assert!(Rc::ptr_eq(&shown, &s.charts()), "a line not sent changes nothing");
        s.type_command("RPUSH jobs a b c").unwrap();
        assert!(!s.charts_kept(), "a command sent forgets them, and samples nothing until they are shown");
        let after = s.charts();
        assert_ne!(*after, *shown, "the push is on the list's chart");
        // A workspace reopened with the same commands (set_ops) draws the same charts.
        let mut reopened = RedisSession::bundled("job-queue-brpop-and-blmove").expect("opens");
        assert_eq!(*reopened.charts(), *shown);
        reopened.set_ops(s.ops.clone());
        assert!(!reopened.charts_kept(), "new commands forget the charts");
        assert_eq!(*reopened.charts(), *after);
    }

    #[test]
    fn a_link_or_file_opens_a_redis_document_and_forwards_another_models() {
        let redis = BUNDLED[0].text;
        let Opening::Open(s) = open_link(&format!("#{}", permalink::encode(redis))) else { panic!("opens") };
        assert_eq!(s.text, redis);
        assert!(matches!(open_file("streams.json", redis), Opening::Open(_)));
        assert!(matches!(open_link(""), Opening::Nothing));
        let amqp = crate::scenarios::BUNDLED[1].1;
        let Opening::Forward { model, fragment } = open_file("work.json", amqp) else { panic!("forwarded") };
        assert_eq!(model, ModelName::Amqp);
        assert_eq!(permalink::decode(&fragment), Ok(Some(amqp.to_string())));
        let bad = redis.replacen("\"seed\": 1", "\"seed\": \"one\"", 1);
        let Opening::Refused(e) = open_file("bad.json", &bad) else { panic!("refused") };
        assert!(e.starts_with("'bad.json' cannot be opened") && e.contains("Nothing was run"), "{e}");
    }
}
