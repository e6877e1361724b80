//! The Redis document runtime: producers, workers and subscribers as clients of the engine's [`Redis`]
//! server on the kernel's time loop, each sending the very commands a Redis client would (`LPUSH`,
//! `BRPOP`, `BLMOVE`, `LREM`, `XADD`, `XREADGROUP`, `XACK`, `XAUTOCLAIM`, `PUBLISH`, `SUBSCRIBE`…);
//! faults and checks at times, a transcript and a JSON report.
//!
//! A worker is a loop: a blocking take (the server keeps it blocked until an element or entry comes, or
//! its timeout), the items processed one after the other, each acknowledged (`LREM` from the processing
//! list, `XACK`), then the next take. A claimer's take is `XAUTOCLAIM`, every so often. A subscriber
//! receives what is published while it is subscribed; while it is away nothing is kept for it.
//!
//! # Invariants (checked after every instant; a break stops the run with the reason)
//! - The engine's own ([`Redis::check_invariants`]).
//! - Every list element the run pushed is in exactly one place: in one list (the queue or a processing
//!   list), in one worker's hand only (popped, not finished), done, or lost (in the hand of a worker
//!   that crashed, or flushed by a restart); each list holds exactly the elements the ledger puts there.
//! - Every stream entry the run added is, in each consumer group, either unread (after the group's
//!   last-delivered id, in no PEL), pending in exactly one consumer's PEL (the one the ledger names), or
//!   acknowledged (up to the last-delivered id, in no PEL).
//! - A `PUBLISH` reply counts exactly the messages handed to subscribers.

use super::document::{
    compile, stream_fields, ActorRef, CheckSpec, GroupRef, MessageVar, ProducerSpec, RedisDocument,
    WorkerSpec,
};
use crate::redis::glob;
use crate::redis::reply::{quote, Reply};
use crate::redis::server::{ClientId, Outcome, Value, Wakeups};
use crate::redis::stream::{Group, StreamId};
use crate::redis::Redis;
use serde::Serialize;
use sim_kernel::checks::{CheckResult, CheckStatus, EventInfo};
use sim_kernel::clock::{DeadlineQueue, VirtualTime};
use sim_kernel::located::{Pos, Problem, ScenarioError};
use sim_kernel::pace::Pace;
use sim_kernel::prng::Prng;
use sim_kernel::runtime::{self, Run, RunClock};
use sim_kernel::template::Template;
use sim_kernel::transcript::{end_line, StopInfo};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
pub use wire::WireStep;

mod hand;
mod wire;
pub use hand::{
    help, repeat_count, HandLine, BAD_REPEAT, CLEAR_SCREEN, CTRL_C, HAND, HELP_INTRO, MAX_REPEAT,
    READING_MESSAGES, RESTART,
};

/// The runaway guard's default: the most firings at one instant.
const MAX_FIRINGS: u64 = 100_000;

/// How long a worker waits after a command failed before it tries again (a loop that retried at once
/// would spin at one instant).
const RETRY_MS: u64 = 1_000;

/// Something an actor or the scenario does at a later instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wake {
    Send(usize),
    /// A worker's next take (its generation: a crash makes older wakes stale).
    Take(usize, u64),
    /// The item a worker is working on is done.
    Processed(usize, u64),
    /// A subscriber connects and subscribes.
    Connect(usize, u64),
    /// A worker refreshes its liveness key.
    Heartbeat(usize),
    /// A reaper looks at the processing lists it watches.
    Reap(usize),
    Fault(usize),
    /// A stalled subscriber reads again (its generation: a cut-off makes older wakes stale).
    Resume(usize, u64),
}

/// One thing that happened, as the transcript and the report show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RedisEvent {
    GroupCreated {
        command: String,
        reply: String,
    },
    Sent {
        producer: String,
        seq: u64,
        command: String,
        reply: String,
    },
    SendFailed {
        producer: String,
        seq: u64,
        command: String,
        error: String,
    },
    /// A worker's blocking command found nothing and waits in the server.
    Blocked {
        worker: String,
        command: String,
    },
    /// A blocking command's timeout ran out (`(nil)`), or a claim found nothing.
    NothingTaken {
        worker: String,
        command: String,
    },
    /// An element or entry in a worker's hand; `deliveries` is the entry's delivery count in its PEL.
    Took {
        worker: String,
        command: String,
        key: String,
        id: Option<String>,
        body: String,
        deliveries: Option<u64>,
    },
    Processed {
        worker: String,
        key: String,
        id: Option<String>,
        body: String,
    },
    Acked {
        worker: String,
        command: String,
        reply: i64,
    },
    CommandFailed {
        actor: String,
        command: String,
        error: String,
    },
    Subscribed {
        subscriber: String,
        command: String,
    },
    Message {
        subscriber: String,
        channel: String,
        pattern: Option<String>,
        message: String,
    },
    /// A message published on one of the subscriber's channels or patterns while it was not connected.
    Missed {
        subscriber: String,
        channel: String,
        message: String,
    },
    Disconnected {
        subscriber: String,
    },
    /// The subscriber stopped reading (a `subscriber_stall` fault): the server keeps what it is sent.
    Stalled {
        subscriber: String,
    },
    /// The subscriber reads again and gets the `kept` messages the server held for it.
    Resumed {
        subscriber: String,
        kept: usize,
    },
    /// redis-server closed the subscriber's connection: its output buffer passed
    /// `client-output-buffer-limit pubsub`; the `unread` messages the server held for it are lost.
    CutOff {
        subscriber: String,
        unread: usize,
    },
    /// `kept_in`: where what it held is still kept (its processing list, its group's PEL).
    Crashed {
        worker: String,
        holding: Vec<String>,
        kept_in: Option<String>,
    },
    /// A list element gone for good.
    Lost {
        key: String,
        element: String,
        reason: String,
    },
    /// redis-server restarted after its machine failed, from what its disk kept (`from`, in words);
    /// `keys_lost` keys are gone or back to an older value.
    Restarted {
        from: String,
        keys_lost: usize,
    },
    /// A reaper found a liveness key gone (`EXISTS` replied 0).
    WorkerGone {
        reaper: String,
        command: String,
    },
    /// A reaper moved an element back to its queue.
    Requeued {
        reaper: String,
        command: String,
        element: String,
    },
    /// A command typed by hand on the console ([`HAND`]), and its reply on one line (`(blocked)` while
    /// it waits; the reply when it comes is a second one).
    Typed {
        by: String,
        command: String,
        reply: String,
    },
}

impl RedisEvent {
    fn actor(&self) -> Option<&str> {
        use RedisEvent::*;
        Some(match self {
            Sent { producer, .. } | SendFailed { producer, .. } => producer,
            Blocked { worker, .. }
            | NothingTaken { worker, .. }
            | Took { worker, .. }
            | Processed { worker, .. }
            | Acked { worker, .. }
            | Crashed { worker, .. } => worker,
            CommandFailed { actor, .. } => actor,
            Subscribed { subscriber, .. }
            | Message { subscriber, .. }
            | Missed { subscriber, .. }
            | Disconnected { subscriber }
            | Stalled { subscriber }
            | Resumed { subscriber, .. }
            | CutOff { subscriber, .. } => subscriber,
            WorkerGone { reaper, .. } | Requeued { reaper, .. } => reaper,
            Typed { by, .. } => by,
            GroupCreated { .. } | Lost { .. } | Restarted { .. } => return None,
        })
    }
}

impl EventInfo for RedisEvent {
    const KINDS: &'static [&'static str] = &[
        "group_created",
        "sent",
        "send_failed",
        "blocked",
        "nothing_taken",
        "took",
        "processed",
        "acked",
        "command_failed",
        "subscribed",
        "message",
        "missed",
        "disconnected",
        "stalled",
        "resumed",
        "cut_off",
        "crashed",
        "lost",
        "restarted",
        "worker_gone",
        "requeued",
        "typed",
    ];
    /// Events name actors by their index in the run; the report carries names.
    type Client = usize;

    fn kind(&self) -> &'static str {
        use RedisEvent::*;
        match self {
            GroupCreated { .. } => "group_created",
            Sent { .. } => "sent",
            SendFailed { .. } => "send_failed",
            Blocked { .. } => "blocked",
            NothingTaken { .. } => "nothing_taken",
            Took { .. } => "took",
            Processed { .. } => "processed",
            Acked { .. } => "acked",
            CommandFailed { .. } => "command_failed",
            Subscribed { .. } => "subscribed",
            Message { .. } => "message",
            Missed { .. } => "missed",
            Disconnected { .. } => "disconnected",
            Stalled { .. } => "stalled",
            Resumed { .. } => "resumed",
            CutOff { .. } => "cut_off",
            Crashed { .. } => "crashed",
            Lost { .. } => "lost",
            Restarted { .. } => "restarted",
            WorkerGone { .. } => "worker_gone",
            Requeued { .. } => "requeued",
            Typed { .. } => "typed",
        }
    }

    fn client(&self) -> Option<usize> {
        None
    }

    fn field_is(&self, name: &str, value: &str) -> bool {
        use RedisEvent::*;
        match (name, self) {
            ("actor", e) => e.actor() == Some(value),
            ("key", Took { key, .. } | Processed { key, .. } | Lost { key, .. }) => key == value,
            ("channel", Message { channel, .. } | Missed { channel, .. }) => channel == value,
            _ => false,
        }
    }
}

/// A value as the transcript shows it: bare when it is a plain word, else quoted as redis-cli does.
fn shown(text: &str) -> String {
    let plain =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"_:.-$>*@#/".contains(&b));
    if plain {
        text.to_string()
    } else {
        quote(text.as_bytes())
    }
}

fn command_text(argv: &[String]) -> String {
    argv.iter()
        .enumerate()
        .map(|(i, a)| if i == 0 { a.clone() } else { shown(a) })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A reply on one line: redis-cli's rendering, its lines joined.
fn reply_text(r: &Reply) -> String {
    r.render().trim_end().lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

impl fmt::Display for RedisEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RedisEvent::*;
        match self {
            GroupCreated { command, reply } => write!(f, "{command} -> {reply}"),
            Sent { producer, command, reply, .. } => write!(f, "{producer} {command} -> {reply}"),
            SendFailed { producer, command, error, .. } => {
                write!(f, "{producer} {command} -> (error) {error}")
            }
            Blocked { worker, command } => write!(f, "{worker} {command} (blocked)"),
            NothingTaken { worker, command } => write!(f, "{worker} {command} -> nothing"),
            Took { worker, command, key, id, body, deliveries } => {
                let cmd = command.split(' ').next().unwrap_or("");
                write!(f, "{worker} <- {cmd} {key}")?;
                if let Some(id) = id {
                    write!(f, " {id}")?;
                }
                write!(f, " {}", shown(body))?;
                if let Some(d) = deliveries {
                    write!(f, " (delivery {d})")?;
                }
                Ok(())
            }
            Processed { worker, key, id, body } => {
                write!(f, "{worker} processed {key}")?;
                if let Some(id) = id {
                    write!(f, " {id}")?;
                }
                write!(f, " {}", shown(body))
            }
            Acked { worker, command, reply } => write!(f, "{worker} {command} -> (integer) {reply}"),
            CommandFailed { actor, command, error } => write!(f, "{actor} {command} -> (error) {error}"),
            Subscribed { subscriber, command } => write!(f, "{subscriber} {command}"),
            Message { subscriber, channel, pattern: None, message } => {
                write!(f, "{subscriber} <- message {channel} {}", shown(message))
            }
            Message { subscriber, channel, pattern: Some(p), message } => {
                write!(f, "{subscriber} <- pmessage {p} {channel} {}", shown(message))
            }
            Missed { subscriber, channel, message } => write!(
                f,
                "{subscriber} missed {channel} {} (not subscribed when it was published: nothing is kept)",
                shown(message)
            ),
            Disconnected { subscriber } => write!(f, "{subscriber} disconnected (its subscriptions end)"),
            Stalled { subscriber } => {
                write!(f, "{subscriber} stops reading (redis-server keeps what it is sent in its output buffer)")
            }
            Resumed { subscriber, kept } => {
                write!(f, "{subscriber} reads again: {kept} message(s) kept for it by redis-server follow")
            }
            CutOff { subscriber, unread } => write!(
                f,
                "{subscriber} cut off by redis-server: its output buffer passed client-output-buffer-limit \
                 pubsub ({unread} unread message(s) lost, its subscriptions end)"
            ),
            Crashed { worker, holding, .. } if holding.is_empty() => write!(f, "{worker} crashed"),
            Crashed { worker, holding, kept_in } => {
                let held = holding.iter().map(|h| shown(h)).collect::<Vec<_>>().join(" ");
                write!(f, "{worker} crashed holding {held}")?;
                match kept_in {
                    Some(k) => write!(f, " (still in {k})"),
                    None => write!(f, " (nowhere else: the pop took it off the list)"),
                }
            }
            Lost { key, element, reason } => write!(f, "element {} of {key} lost: {reason}", shown(element)),
            WorkerGone { reaper, command } => {
                write!(f, "{reaper} {command} -> (integer) 0 (its worker stopped refreshing it)")
            }
            Requeued { reaper, command, element } => write!(f, "{reaper} {command} -> {}", shown(element)),
            Typed { by, command, reply } => write!(f, "{by}> {command} -> {reply}"),
            Restarted { from, keys_lost } => write!(
                f,
                "redis-server restarted from {from}: {keys_lost} keys lost or changed back, every client disconnected"
            ),
        }
    }
}

/// Where a list element the run pushed is: exactly one of these.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Place {
    /// In this list (the queue, or a processing list).
    InList(String),
    /// Popped by this worker (by index), in its hand only.
    InHand(usize),
    Done,
    Lost,
    /// Taken off its list by a command typed by hand ([`hand`]).
    ByHand,
}

/// Where an entry is in one consumer group.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fate {
    Unread,
    Pending(String),
    Acked,
    /// Trimmed (`MAXLEN`) before the group read it: the group's `>` reads pass over it.
    Trimmed,
}

/// What a worker took and works on.
#[derive(Clone, Debug)]
struct Item {
    key: String,
    id: Option<StreamId>,
    body: String,
}

impl Item {
    /// The item's identity for the duplicate count.
    fn identity(&self) -> String {
        match self.id {
            Some(id) => format!("{} {id}", self.key),
            None => format!("{} {}", self.key, self.body),
        }
    }
}

struct ProducerActor {
    spec: ProducerSpec,
    pace: Pace,
    body: Template<MessageVar>,
    fields: Vec<(String, Template<MessageVar>)>,
    seq: u64,
    sent: u64,
    to_nobody: u64,
}

struct WorkerActor {
    spec: WorkerSpec,
    client: ClientId,
    alive: bool,
    generation: u64,
    /// The blocking command it waits in.
    blocked: Option<String>,
    hand: VecDeque<Item>,
    /// `XAUTOCLAIM`'s cursor.
    cursor: String,
}

struct SubscriberActor {
    spec: crate::redis::scenario::document::SubscriberSpec,
    client: ClientId,
    connected: bool,
    generation: u64,
    /// Not reading (a stall): messages the server holds for it, unread, oldest first.
    stalled: bool,
    held: Vec<Reply>,
    cut_off: u64,
}

/// What an actor did with an item, in order: the actor checks count these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Did {
    Received,
    Processed,
    Acked,
    Missed,
    Lost,
    Requeued,
}

struct CheckSlot {
    spec: CheckSpec,
    at: VirtualTime,
    result: CheckResult,
}

/// Options a runner gives (the seed and the runaway guard override the document's).
#[derive(Clone, Debug, Default)]
pub struct RedisRunOptions {
    pub seed: Option<u64>,
    pub max_firings_per_instant: Option<u64>,
    /// Keep every exchange with the server ([`RedisRun::wire`]), for a differential runner.
    pub record_wire: bool,
}

/// A document being played.
pub struct RedisRun {
    doc: RedisDocument,
    seed: u64,
    clock: RunClock<Wake>,
    redis: Redis,
    prng: Prng,
    producers: Vec<ProducerActor>,
    workers: Vec<WorkerActor>,
    subscribers: Vec<SubscriberActor>,
    checks: Vec<CheckSlot>,
    events: Vec<(VirtualTime, RedisEvent)>,
    /// Every list element pushed, with its place.
    elements: Vec<(String, Place)>,
    /// Per (stream, group) still existing in the server: each entry's fate.
    entries: BTreeMap<(String, String), BTreeMap<StreamId, Fate>>,
    /// The highest delivery count seen per (stream, group).
    max_deliveries: BTreeMap<(String, String), u64>,
    /// (actor name, what, item identity), in order.
    log: Vec<(String, Did, String)>,
    /// The client that creates the groups (and, as any client, reconnects after a restart).
    admin: ClientId,
    /// The console's commands typed by hand and what it printed ([`hand`]).
    hand: hand::Hand,
    /// The exchanges with the server, when asked for ([`RedisRun::record_wire`]).
    wire: Option<Vec<WireStep>>,
}

fn bulk_text(r: &Reply) -> Option<String> {
    match r {
        Reply::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Reply::Status(s) => Some(s.clone()),
        _ => None,
    }
}

fn parse_id(text: &str) -> Option<StreamId> {
    let (ms, seq) = text.split_once('-')?;
    Some(StreamId { ms: ms.parse().ok()?, seq: seq.parse().ok()? })
}

/// Stream entries in a reply: `[[id, [field, value, …]], …]` as (id, `field=value …`).
fn entries_of(r: &Reply) -> Vec<(StreamId, String)> {
    let Reply::Array(items) = r else { return Vec::new() };
    items
        .iter()
        .filter_map(|e| {
            let Reply::Array(pair) = e else { return None };
            let id = parse_id(&bulk_text(pair.first()?)?)?;
            let fields = match pair.get(1) {
                Some(Reply::Array(f)) => f
                    .chunks(2)
                    .map(|kv| {
                        let k = kv.first().and_then(bulk_text).unwrap_or_default();
                        let v = kv.get(1).and_then(bulk_text).unwrap_or_default();
                        format!("{k}={v}")
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => String::new(),
            };
            Some((id, fields))
        })
        .collect()
}

/// A blocking command's timeout in seconds, as a client writes it (`0`, `1`, `1.5`).
fn seconds(ms: u64) -> String {
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        format!("{}.{:03}", ms / 1000, ms % 1000).trim_end_matches('0').to_string()
    }
}

impl RedisRun {
    /// Reads a document and builds its run (groups created at 0).
    pub fn from_json(text: &str, options: RedisRunOptions) -> Result<RedisRun, ScenarioError> {
        let text = sim_kernel::located::strip_bom(text);
        let doc = RedisDocument::parse(text)?;
        RedisRun::build(doc, options).map_err(|p| p.into_error(Some(text)))
    }

    fn build(doc: RedisDocument, options: RedisRunOptions) -> Result<RedisRun, Problem> {
        let seed = options.seed.unwrap_or(doc.seed);
        let mut wakes = DeadlineQueue::new();
        let mut producers = Vec::new();
        for (i, p) in doc.producers.iter().enumerate() {
            let mut pace = p.pace();
            if p.count != Some(0) {
                if let Some(t) = pace.next() {
                    wakes.schedule(VirtualTime::from_millis(t), Wake::Send(i));
                }
            }
            producers.push(ProducerActor {
                spec: p.clone(),
                pace,
                body: compile(p.body.as_deref().unwrap_or("{producer}-{seq}")),
                fields: if p.stream.is_some() { stream_fields(p) } else { Vec::new() },
                seq: 0,
                sent: 0,
                to_nobody: 0,
            });
        }
        let workers: Vec<WorkerActor> = doc
            .workers
            .iter()
            .enumerate()
            .map(|(i, w)| {
                wakes.schedule(VirtualTime::from_millis(w.start.0), Wake::Take(i, 0));
                WorkerActor {
                    spec: w.clone(),
                    client: i,
                    alive: true,
                    generation: 0,
                    blocked: None,
                    hand: VecDeque::new(),
                    cursor: "0-0".to_string(),
                }
            })
            .collect();
        let subscribers: Vec<SubscriberActor> = doc
            .subscribers
            .iter()
            .enumerate()
            .map(|(j, s)| {
                wakes.schedule(VirtualTime::from_millis(s.start.0), Wake::Connect(j, 0));
                SubscriberActor {
                    spec: s.clone(),
                    client: workers.len() + j,
                    connected: false,
                    generation: 0,
                    stalled: false,
                    held: Vec::new(),
                    cut_off: 0,
                }
            })
            .collect();
        for (i, w) in doc.workers.iter().enumerate() {
            if w.heartbeat.is_some() {
                wakes.schedule(VirtualTime::from_millis(w.start.0), Wake::Heartbeat(i));
            }
        }
        for (r, reaper) in doc.reapers.iter().enumerate() {
            wakes.schedule(VirtualTime::from_millis(reaper.start.0), Wake::Reap(r));
        }
        for (i, f) in doc.faults.iter().enumerate() {
            wakes.schedule(VirtualTime::from_millis(f.at.0), Wake::Fault(i));
        }
        let end = VirtualTime::from_millis(doc.duration.0);
        let checks = doc
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| CheckSlot {
                spec: c.clone(),
                at: c.at.map_or(end, |a| VirtualTime::from_millis(a.0)),
                result: CheckResult {
                    index: i,
                    description: describe(c),
                    status: CheckStatus::Pending,
                    observed: String::new(),
                    reason: String::new(),
                },
            })
            .collect();
        let admin = workers.len() + subscribers.len() + producers.len() + doc.reapers.len();
        let mut run = RedisRun {
            seed,
            clock: RunClock::new(end, options.max_firings_per_instant.unwrap_or(MAX_FIRINGS), wakes),
            redis: Redis::new(),
            prng: Prng::new(seed ^ 0x5245_4449_535f_6163),
            producers,
            workers,
            subscribers,
            checks,
            events: Vec::new(),
            elements: Vec::new(),
            entries: BTreeMap::new(),
            max_deliveries: BTreeMap::new(),
            log: Vec::new(),
            admin,
            hand: hand::Hand::default(),
            wire: options.record_wire.then(Vec::new),
            doc,
        };
        run.create_groups()?;
        Ok(run)
    }

    fn create_groups(&mut self) -> Result<(), Problem> {
        if let Some(argv) = self.doc.persistence.as_ref().and_then(|p| p.command()) {
            let reply = self.execute(self.admin, &argv);
            if let Reply::Error(e) = &reply {
                return Err(Problem::new("persistence", format!("{}: {e}", command_text(&argv))));
            }
        }
        if let Some(value) = self.doc.client_output_buffer_limit.clone() {
            let argv = ["CONFIG", "SET", "client-output-buffer-limit", &value].map(String::from);
            let reply = self.execute(self.admin, &argv);
            if let Reply::Error(e) = &reply {
                return Err(Problem::new(
                    "client_output_buffer_limit",
                    format!("{}: {e}", command_text(&argv)),
                ));
            }
        }
        for (i, g) in self.doc.groups.clone().iter().enumerate() {
            let argv = ["XGROUP", "CREATE", &g.stream, &g.name, &g.id, "MKSTREAM"].map(String::from);
            let reply = self.execute(self.admin, &argv);
            if let Reply::Error(e) = &reply {
                return Err(Problem::new(format!("groups[{i}]"), format!("{}: {e}", command_text(&argv))));
            }
            self.entries.insert((g.stream.clone(), g.name.clone()), BTreeMap::new());
            self.push(RedisEvent::GroupCreated { command: command_text(&argv), reply: reply_text(&reply) });
        }
        Ok(())
    }

    /// Plays the document to its end.
    pub fn run(&mut self) {
        let end = self.clock.end;
        runtime::run_until(self, end);
    }

    /// Plays the document up to `to` (the instant included); a page plays it on step by step.
    pub fn run_until(&mut self, to: VirtualTime) {
        runtime::run_until(self, to);
    }

    /// The instant played up to.
    pub fn time(&self) -> VirtualTime {
        self.clock.now
    }

    /// The document's end (its `duration`).
    pub fn end_time(&self) -> VirtualTime {
        self.clock.end
    }

    pub fn events(&self) -> &[(VirtualTime, RedisEvent)] {
        &self.events
    }

    pub fn check_results(&self) -> Vec<CheckResult> {
        self.checks.iter().map(|c| c.result.clone()).collect()
    }

    pub fn stopped(&self) -> Option<&StopInfo> {
        self.clock.stopped.as_ref()
    }

    pub fn server(&self) -> &Redis {
        &self.redis
    }

    pub fn document(&self) -> &RedisDocument {
        &self.doc
    }

    fn push(&mut self, event: RedisEvent) {
        self.events.push((self.clock.now, event));
    }

    /// The exchanges with the server so far, when the run was built with
    /// [`RedisRunOptions::record_wire`].
    pub fn wire(&self) -> Option<&[WireStep]> {
        self.wire.as_deref()
    }

    /// The connection worker `i`'s heartbeat runs on (after the console's).
    pub(super) fn heartbeat_client(&self, i: usize) -> ClientId {
        self.hand_client() + 1 + i
    }

    fn record(&mut self, step: WireStep) {
        if let Some(w) = self.wire.as_mut() {
            w.push(step);
        }
    }

    /// One command of `client`: its immediate reply (`None` while it blocks); the replies it gives
    /// blocked clients and the messages it publishes go to their actors.
    fn execute_or_block(&mut self, client: ClientId, argv: &[String]) -> Option<Reply> {
        let (reply, woken) = self.execute_then_route(client, argv);
        self.route(woken);
        reply
    }

    /// One command, its replies to blocked clients left to the caller to route (after it told what the
    /// command did).
    fn execute_then_route(&mut self, client: ClientId, argv: &[String]) -> (Option<Reply>, Wakeups) {
        let bytes: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        let pushes_before = self.redis.pending_pushes().len();
        let (outcome, woken) = self.redis.execute(client, &bytes);
        if self.wire.is_some() {
            let replies = match &outcome {
                Outcome::Reply(r) => vec![r.clone()],
                Outcome::Blocked => Vec::new(),
                Outcome::Replies(rs) => rs.clone(),
            };
            let pushes = self.redis.pending_pushes().get(pushes_before..).unwrap_or_default().to_vec();
            self.record(WireStep::Command {
                at: self.clock.now,
                client,
                actor: self.client_name(client),
                argv: argv.to_vec(),
                replies,
                served: woken.clone(),
                pushes,
            });
        }
        let reply = match outcome {
            Outcome::Reply(r) => Some(r),
            Outcome::Blocked => None,
            Outcome::Replies(mut rs) => rs.pop(),
        };
        (reply, woken)
    }

    fn execute(&mut self, client: ClientId, argv: &[String]) -> Reply {
        self.execute_or_block(client, argv).unwrap_or(Reply::NilArray)
    }

    /// Replies to blocked workers, then messages to subscribers.
    fn route(&mut self, woken: Wakeups) {
        for (client, reply) in woken {
            if client == self.hand_client() {
                self.hand_answered(reply);
                continue;
            }
            if let Some(i) = self.workers.iter().position(|w| w.client == client && w.alive) {
                if let Some(command) = self.workers[i].blocked.take() {
                    self.took(i, &command, reply);
                }
            }
        }
    }

    fn send(&mut self, i: usize) {
        let now = self.clock.now;
        let p = &mut self.producers[i];
        p.seq += 1;
        let seq = p.seq;
        let name = p.spec.name.clone();
        let prng = &mut self.prng;
        let var = |v: &MessageVar, out: &mut String| match v {
            MessageVar::Seq => out.push_str(&seq.to_string()),
            MessageVar::Producer => out.push_str(&name),
        };
        let body = p.body.render(prng, var);
        let fields: Vec<(String, String)> =
            p.fields.iter().map(|(k, t)| (k.clone(), t.render(prng, var))).collect();
        if p.spec.count.is_none_or(|c| seq < c) {
            if let Some(t) = p.pace.next() {
                self.clock.wakes.schedule(VirtualTime::from_millis(t).max(now), Wake::Send(i));
            }
        }
        let spec = self.producers[i].spec.clone();
        let client = self.workers.len() + self.subscribers.len() + i;
        let argv: Vec<String> = if let Some(list) = &spec.list {
            vec![spec.push.as_deref().unwrap_or("lpush").to_ascii_uppercase(), list.clone(), body.clone()]
        } else if let Some(stream) = &spec.stream {
            let mut argv = vec!["XADD".to_string(), stream.clone()];
            if let Some(n) = spec.maxlen {
                argv.push("MAXLEN".to_string());
                if spec.approximate {
                    argv.push("~".to_string());
                }
                argv.push(n.to_string());
            }
            if let Some(age) = spec.minid_age {
                argv.push("MINID".to_string());
                if spec.approximate {
                    argv.push("~".to_string());
                }
                // The id of an entry added `age` ago: ids from `*` are the stream clock's milliseconds.
                let ms = (crate::redis::server::EPOCH_MS + now.as_millis()).saturating_sub(age.0);
                argv.push(format!("{ms}-0"));
            }
            argv.push("*".to_string());
            for (k, v) in &fields {
                argv.push(k.clone());
                argv.push(v.clone());
            }
            argv
        } else {
            vec!["PUBLISH".to_string(), spec.channel.clone().unwrap_or_default(), body.clone()]
        };
        // The workers a push or an add serves are told after the producer's own line.
        let (reply, woken) = self.execute_then_route(client, &argv);
        let reply = reply.unwrap_or(Reply::NilArray);
        let command = command_text(&argv);
        if let Reply::Error(error) = &reply {
            self.push(RedisEvent::SendFailed { producer: name, seq, command, error: error.clone() });
            self.route(woken);
            return;
        }
        self.producers[i].sent += 1;
        self.push(RedisEvent::Sent { producer: name.clone(), seq, command, reply: reply_text(&reply) });
        if let Some(list) = &spec.list {
            self.elements.push((body, Place::InList(list.clone())));
        } else if let Some(stream) = &spec.stream {
            if let Some(id) = bulk_text(&reply).and_then(|t| parse_id(&t)) {
                for ((s, _), fates) in self.entries.iter_mut() {
                    // A blocked XREADGROUP may have been served by this very XADD already.
                    if s == stream {
                        fates.entry(id).or_insert(Fate::Unread);
                    }
                }
                if spec.maxlen.is_some() || spec.minid_age.is_some() {
                    self.trimmed(stream);
                }
            }
        } else if let Some(channel) = &spec.channel {
            self.published(Some(i), channel, &body, &reply);
        }
        self.route(woken);
    }

    /// After a `PUBLISH`: the messages subscribers got, the ones away missed.
    /// `producer`: `None` for a `PUBLISH` typed by hand.
    fn published(&mut self, producer: Option<usize>, channel: &str, message: &str, reply: &Reply) {
        let pushes = self.redis.take_pushes();
        // A subscriber this PUBLISH cut off was counted in its reply and handed nothing; it missed it.
        let n_closed = self.redis.pending_closed();
        self.cut_off_closed();
        let receivers = if let Reply::Int(n) = reply { *n } else { -1 };
        if let (0, Some(p)) = (receivers, producer) {
            self.producers[p].to_nobody += 1;
        }
        if receivers != pushes.len() as i64 && n_closed == 0 {
            self.failure_invariant(format!(
                "PUBLISH {channel} replied {receivers} but {} messages were handed out",
                pushes.len()
            ));
        }
        for (client, push) in pushes {
            self.deliver_push(client, push);
        }
        for j in 0..self.subscribers.len() {
            let s = &self.subscribers[j];
            let follows = s.spec.channels.iter().any(|c| c == channel)
                || s.spec.patterns.iter().any(|p| glob::matches(p.as_bytes(), channel.as_bytes()));
            if follows && !s.connected {
                let subscriber = s.spec.name.clone();
                self.log.push((subscriber.clone(), Did::Missed, format!("{channel} {message}")));
                self.push(RedisEvent::Missed {
                    subscriber,
                    channel: channel.to_string(),
                    message: message.to_string(),
                });
            }
        }
    }

    /// A message pushed to a client: a subscriber's (`message`/`pmessage`, as it logs it), or the
    /// console's.
    fn deliver_push(&mut self, client: ClientId, push: Reply) {
        if client == self.hand_client() {
            self.hand_received(&push);
            return;
        }
        let Some(j) = self.subscribers.iter().position(|s| s.client == client) else { return };
        if self.subscribers[j].stalled {
            self.subscribers[j].held.push(push);
            return;
        }
        let Reply::Array(parts) = &push else { return };
        let texts: Vec<String> = parts.iter().map(|p| bulk_text(p).unwrap_or_default()).collect();
        let (pattern, channel, message) = match texts.first().map(String::as_str) {
            Some("pmessage") if texts.len() == 4 => (Some(texts[1].clone()), &texts[2], &texts[3]),
            Some("message" | "smessage") if texts.len() == 3 => (None, &texts[1], &texts[2]),
            _ => return,
        };
        let (channel, message) = (channel.clone(), message.clone());
        let subscriber = self.subscribers[j].spec.name.clone();
        self.log.push((subscriber.clone(), Did::Received, format!("{channel} {message}")));
        self.push(RedisEvent::Message { subscriber, channel, pattern, message });
    }

    fn failure_invariant(&mut self, message: String) {
        if self.clock.stopped.is_none() {
            self.clock.stopped = Some(StopInfo {
                pos: Pos::new(0, 0),
                at: self.clock.now,
                message: format!("invariant broken: {message}"),
            });
        }
    }

    /// The worker's next take: a blocking pop or move, `XREADGROUP`, or `XAUTOCLAIM`.
    fn take(&mut self, i: usize) {
        let w = &self.workers[i];
        if !w.alive || w.blocked.is_some() || !w.hand.is_empty() {
            return;
        }
        let spec = &w.spec;
        let block = spec.block.0;
        let argv: Vec<String> = if let Some(list) = &spec.list {
            match &spec.processing_list {
                Some(p) => ["BLMOVE", list, p, "RIGHT", "LEFT", &seconds(block)].map(String::from).to_vec(),
                None => {
                    let pop = spec.pop.as_deref().unwrap_or("brpop").to_ascii_uppercase();
                    vec![pop, list.clone(), seconds(block)]
                }
            }
        } else {
            let stream = spec.stream.clone().unwrap_or_default();
            let group = spec.group.clone().unwrap_or_default();
            let consumer = spec.consumer_name().to_string();
            if let Some(a) = &spec.xclaim {
                let count = a.count.unwrap_or(10).to_string();
                let min_idle = a.min_idle.0.to_string();
                let find =
                    ["XPENDING", &stream, &group, "IDLE", &min_idle, "-", "+", &count].map(String::from);
                let client = w.client;
                let reply = self.execute(client, &find);
                let ids: Vec<String> = match &reply {
                    Reply::Array(entries) => entries
                        .iter()
                        .filter_map(|e| match e {
                            Reply::Array(parts) => parts.first().and_then(bulk_text),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                if ids.is_empty() {
                    self.took(i, &command_text(&find), reply);
                    return;
                }
                let mut argv: Vec<String> = vec!["XCLAIM".to_string(), stream, group, consumer, min_idle];
                argv.extend(ids);
                let command = command_text(&argv);
                let reply = self.execute(client, &argv);
                self.took(i, &command, reply);
                return;
            }
            match &spec.xautoclaim {
                Some(a) => {
                    let mut argv = vec![
                        "XAUTOCLAIM".to_string(),
                        stream,
                        group,
                        consumer,
                        a.min_idle.0.to_string(),
                        w.cursor.clone(),
                    ];
                    if let Some(n) = a.count {
                        argv.extend(["COUNT".to_string(), n.to_string()]);
                    }
                    argv
                }
                None => {
                    let mut argv = vec!["XREADGROUP".to_string(), "GROUP".to_string(), group, consumer];
                    argv.extend(["COUNT".to_string(), spec.count.unwrap_or(1).to_string()]);
                    if spec.noack {
                        argv.push("NOACK".to_string());
                    }
                    argv.extend(["BLOCK".to_string(), block.to_string(), "STREAMS".to_string(), stream]);
                    argv.push(">".to_string());
                    argv
                }
            }
        };
        let client = w.client;
        let command = command_text(&argv);
        match self.execute_or_block(client, &argv) {
            Some(reply) => self.took(i, &command, reply),
            None => {
                self.workers[i].blocked = Some(command.clone());
                let worker = self.workers[i].spec.name.clone();
                self.push(RedisEvent::Blocked { worker, command });
            }
        }
    }

    /// The reply to a take: items in hand (then the first is worked on), nothing, or an error.
    fn took(&mut self, i: usize, command: &str, reply: Reply) {
        let spec = self.workers[i].spec.clone();
        let worker = spec.name.clone();
        let generation = self.workers[i].generation;
        if let Reply::Error(error) = &reply {
            self.push(RedisEvent::CommandFailed {
                actor: worker,
                command: command.to_string(),
                error: error.clone(),
            });
            self.clock.wakes.schedule(self.clock.now.plus_millis(RETRY_MS), Wake::Take(i, generation));
            return;
        }
        let mut items = Vec::new();
        if let Some(list) = &spec.list {
            let element = match (&spec.processing_list, &reply) {
                (Some(_), r) => bulk_text(r),
                (None, Reply::Array(kv)) => kv.get(1).and_then(bulk_text),
                _ => None,
            };
            if let Some(e) = element {
                let to = match &spec.processing_list {
                    Some(p) => Place::InList(p.clone()),
                    None => Place::InHand(i),
                };
                self.move_element(&e, &Place::InList(list.clone()), to);
                items.push(Item { key: list.clone(), id: None, body: e });
            }
        } else {
            let stream = spec.stream.clone().unwrap_or_default();
            let group = spec.group.clone().unwrap_or_default();
            let consumer = spec.consumer_name().to_string();
            let got = match (&spec.xautoclaim, &reply) {
                // XCLAIM's entries; XPENDING's reply when nothing was idle long enough.
                (None, Reply::Array(_)) if spec.xclaim.is_some() => {
                    if command.starts_with("XCLAIM") {
                        entries_of(&reply)
                    } else {
                        Vec::new()
                    }
                }
                (Some(_), Reply::Array(parts)) => {
                    if let Some(c) = parts.first().and_then(bulk_text) {
                        self.workers[i].cursor = c;
                    }
                    parts.get(1).map(entries_of).unwrap_or_default()
                }
                (None, Reply::Array(streams)) => match streams.first() {
                    Some(Reply::Array(kv)) => kv.get(1).map(entries_of).unwrap_or_default(),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            // Entries a claim asked for and did not get: deleted ones (trimmed, `XDEL`) left the PEL
            // (Redis 7.0); others stay where the server has them.
            let mut asked: Vec<StreamId> = Vec::new();
            if spec.xclaim.is_some() && command.starts_with("XCLAIM") {
                asked.extend(command.split(' ').skip(5).filter_map(parse_id));
            }
            if let (Some(_), Reply::Array(parts)) = (&spec.xautoclaim, &reply) {
                if let Some(Reply::Array(deleted)) = parts.get(2) {
                    asked.extend(deleted.iter().filter_map(bulk_text).filter_map(|t| parse_id(&t)));
                }
            }
            self.refresh_fates(&stream, &group, &asked);
            let fate = if spec.noack { Fate::Acked } else { Fate::Pending(consumer) };
            if let Some(fates) = self.entries.get_mut(&(stream.clone(), group)) {
                for (id, _) in &got {
                    fates.insert(*id, fate.clone());
                }
            }
            for (id, body) in got {
                items.push(Item { key: stream.clone(), id: Some(id), body });
            }
        }
        if items.is_empty() {
            self.push(RedisEvent::NothingTaken { worker, command: command.to_string() });
            let pause = spec.claim().map_or(0, |a| a.every.unwrap_or(a.min_idle).0);
            // A timed-out blocking take has waited already; a claimer looks again after its period.
            self.clock.wakes.schedule(self.clock.now.plus_millis(pause), Wake::Take(i, generation));
            return;
        }
        for item in &items {
            let deliveries = item.id.and_then(|id| self.deliveries(&item.key, spec.group.as_deref()?, id));
            self.log.push((worker.clone(), Did::Received, item.identity()));
            self.push(RedisEvent::Took {
                worker: worker.clone(),
                command: command.to_string(),
                key: item.key.clone(),
                id: item.id.map(|id| id.to_string()),
                body: item.body.clone(),
                deliveries,
            });
        }
        self.workers[i].hand = items.into();
        self.work_on_next(i);
    }

    /// Entries unread by a group that trimming took out of `stream` are out of its reach.
    fn trimmed(&mut self, stream: &str) {
        let present: BTreeSet<StreamId> = match self.redis.stream(stream.as_bytes()) {
            Ok(Some(s)) => s.entries.keys().copied().collect(),
            _ => BTreeSet::new(),
        };
        for ((s, _), fates) in self.entries.iter_mut() {
            if s == stream {
                for (id, fate) in fates.iter_mut() {
                    if *fate == Fate::Unread && !present.contains(id) {
                        *fate = Fate::Trimmed;
                    }
                }
            }
        }
    }

    /// The ledger's fate of `ids` in the group, as the server has them now.
    fn refresh_fates(&mut self, stream: &str, group: &str, ids: &[StreamId]) {
        let Some(g) = self.group(stream, group) else { return };
        let now: Vec<(StreamId, Fate)> = ids
            .iter()
            .map(|id| {
                let fate = match g.pel.get(id) {
                    Some(p) => Fate::Pending(String::from_utf8_lossy(&p.consumer).into_owned()),
                    None if *id > g.last_delivered => Fate::Unread,
                    None => Fate::Acked,
                };
                (*id, fate)
            })
            .collect();
        if let Some(fates) = self.entries.get_mut(&(stream.to_string(), group.to_string())) {
            for (id, fate) in now {
                if fates.contains_key(&id) {
                    fates.insert(id, fate);
                }
            }
        }
    }

    fn deliveries(&self, stream: &str, group: &str, id: StreamId) -> Option<u64> {
        self.group(stream, group)?.pel.get(&id).map(|p| p.deliveries)
    }

    /// Each stream entry's fate as its group now says (after a restart or a command by hand): unread past
    /// the group's last-delivered id, pending with its consumer, acknowledged otherwise; a destroyed group
    /// is forgotten. With `trimmed_to_top`, entries above the stream's last id (lost with the data they
    /// were in) are dropped first.
    fn refresh_group_fates(&mut self, trimmed_to_top: bool) {
        let groups: Vec<(String, String)> = self.entries.keys().cloned().collect();
        for (stream, group) in groups {
            let Some(g) = self.group(&stream, &group) else {
                self.entries.remove(&(stream, group));
                continue;
            };
            let last = g.last_delivered;
            let pending: Vec<(StreamId, String)> = g
                .pel
                .iter()
                .map(|(id, p)| (*id, String::from_utf8_lossy(&p.consumer).into_owned()))
                .collect();
            let top = match self.redis.stream(stream.as_bytes()) {
                Ok(Some(s)) => s.last_id,
                _ => StreamId::default(),
            };
            let fates = self.entries.get_mut(&(stream, group)).expect("listed");
            if trimmed_to_top {
                fates.retain(|id, _| *id <= top);
            }
            for (id, fate) in fates.iter_mut() {
                *fate = if *id > last { Fate::Unread } else { Fate::Acked };
            }
            for (id, consumer) in pending {
                fates.insert(id, Fate::Pending(consumer));
            }
        }
    }

    fn group(&self, stream: &str, group: &str) -> Option<&Group> {
        match &self.redis.keys.get(stream.as_bytes())?.value {
            Value::Stream(s) => s.groups.get(group.as_bytes()),
            _ => None,
        }
    }

    fn work_on_next(&mut self, i: usize) {
        let w = &self.workers[i];
        let generation = w.generation;
        if w.hand.is_empty() {
            let pause = w.spec.xautoclaim.as_ref().map_or(0, |a| {
                // A claimer whose cursor came back to the start waits for its next period.
                if w.cursor == "0-0" {
                    a.every.unwrap_or(a.min_idle).0
                } else {
                    0
                }
            });
            self.clock.wakes.schedule(self.clock.now.plus_millis(pause), Wake::Take(i, generation));
            return;
        }
        let took = w.spec.processing.draw(&mut self.prng);
        self.clock.wakes.schedule(self.clock.now.plus_millis(took), Wake::Processed(i, generation));
    }

    fn move_element(&mut self, element: &str, from: &Place, to: Place) {
        if let Some(e) = self.elements.iter_mut().find(|(b, p)| b == element && p == from) {
            e.1 = to;
        } else if self.hand.used {
            // Pushed by hand at this instant, before the ledger followed the server.
            self.elements.push((element.to_string(), to));
        }
    }

    fn processed(&mut self, i: usize) {
        let Some(item) = self.workers[i].hand.pop_front() else { return };
        let spec = self.workers[i].spec.clone();
        let worker = spec.name.clone();
        let client = self.workers[i].client;
        self.log.push((worker.clone(), Did::Processed, item.identity()));
        self.push(RedisEvent::Processed {
            worker: worker.clone(),
            key: item.key.clone(),
            id: item.id.map(|id| id.to_string()),
            body: item.body.clone(),
        });
        let ack: Option<Vec<String>> = if let Some(p) = &spec.processing_list {
            Some(vec!["LREM".to_string(), p.clone(), "1".to_string(), item.body.clone()])
        } else if spec.list.is_some() {
            self.move_element(&item.body, &Place::InHand(i), Place::Done);
            None
        } else if spec.ack && !spec.noack {
            let id = item.id.map(|id| id.to_string()).unwrap_or_default();
            Some(vec!["XACK".to_string(), item.key.clone(), spec.group.clone().unwrap_or_default(), id])
        } else {
            None
        };
        if let Some(argv) = ack {
            let command = command_text(&argv);
            match self.execute(client, &argv) {
                Reply::Int(n) => {
                    if n > 0 {
                        self.log.push((worker.clone(), Did::Acked, item.identity()));
                        if let Some(p) = &spec.processing_list {
                            self.move_element(&item.body, &Place::InList(p.clone()), Place::Done);
                        }
                        if let (Some(id), Some(g)) = (item.id, &spec.group) {
                            if let Some(f) = self.entries.get_mut(&(item.key.clone(), g.clone())) {
                                f.insert(id, Fate::Acked);
                            }
                        }
                    }
                    self.push(RedisEvent::Acked { worker, command, reply: n });
                }
                other => {
                    let error = match other {
                        Reply::Error(e) => e,
                        r => reply_text(&r),
                    };
                    self.push(RedisEvent::CommandFailed { actor: worker, command, error });
                }
            }
        }
        self.work_on_next(i);
    }

    /// `SET key 1` and `PEXPIRE key ttl`, and the next heartbeat, while the worker runs.
    fn heartbeat(&mut self, i: usize) {
        let w = &self.workers[i];
        let Some(h) = w.spec.heartbeat.clone() else { return };
        if !w.alive {
            return;
        }
        // On a connection of its own, as a real worker's heartbeat thread has: the worker's connection
        // may be blocked in its take, and a blocked client's next command waits until it is served.
        let (client, name) = (self.heartbeat_client(i), w.spec.name.clone());
        for argv in [
            vec!["SET".to_string(), h.key.clone(), "1".to_string()],
            vec!["PEXPIRE".to_string(), h.key.clone(), h.ttl.0.to_string()],
        ] {
            if let Reply::Error(error) = self.execute(client, &argv) {
                self.push(RedisEvent::CommandFailed {
                    actor: name.clone(),
                    command: command_text(&argv),
                    error,
                });
            }
        }
        self.clock.wakes.schedule(self.clock.now.plus_millis(h.every.0), Wake::Heartbeat(i));
    }

    /// A reaper's look: each watched processing list whose liveness key is gone goes back to its queue.
    fn reap(&mut self, r: usize) {
        let spec = self.doc.reapers[r].clone();
        let client = self.workers.len() + self.subscribers.len() + self.producers.len() + r;
        for watch in &spec.watch {
            let exists = vec!["EXISTS".to_string(), watch.alive_key.clone()];
            if self.execute(client, &exists) != Reply::Int(0) {
                continue;
            }
            let argv: Vec<String> =
                ["LMOVE", &watch.processing_list, &watch.list, "RIGHT", "RIGHT"].map(String::from).to_vec();
            let mut announced = false;
            loop {
                let (reply, woken) = self.execute_then_route(client, &argv);
                let Some(element) = reply.as_ref().and_then(bulk_text) else {
                    self.route(woken);
                    break;
                };
                if !announced {
                    announced = true;
                    self.push(RedisEvent::WorkerGone {
                        reaper: spec.name.clone(),
                        command: command_text(&exists),
                    });
                }
                // The ledger first: a worker blocked on the queue may take the element at once.
                self.move_element(
                    &element,
                    &Place::InList(watch.processing_list.clone()),
                    Place::InList(watch.list.clone()),
                );
                self.log.push((spec.name.clone(), Did::Requeued, format!("{} {element}", watch.list)));
                self.push(RedisEvent::Requeued {
                    reaper: spec.name.clone(),
                    command: command_text(&argv),
                    element,
                });
                self.route(woken);
            }
        }
        self.clock.wakes.schedule(self.clock.now.plus_millis(spec.every.0), Wake::Reap(r));
    }

    /// A stalled subscriber reads again: what the server kept for it arrives, in order.
    fn resume(&mut self, j: usize) {
        let s = &mut self.subscribers[j];
        if !s.stalled {
            return;
        }
        s.stalled = false;
        let (client, held, name) = (s.client, std::mem::take(&mut s.held), s.spec.name.clone());
        self.redis.set_reading(client, true);
        self.push(RedisEvent::Resumed { subscriber: name, kept: held.len() });
        for push in held {
            self.deliver_push(client, push);
        }
    }

    /// The clients redis-server closed for their output buffer: their subscriptions ended, what it kept
    /// for them is lost, and they stay away (a later `subscriber_disconnect … for` does not apply).
    fn cut_off_closed(&mut self) {
        for client in self.redis.take_closed() {
            let Some(j) = self.subscribers.iter().position(|s| s.client == client) else { continue };
            let s = &mut self.subscribers[j];
            s.connected = false;
            s.stalled = false;
            s.generation += 1;
            s.cut_off += 1;
            let held = std::mem::take(&mut s.held);
            let name = s.spec.name.clone();
            for push in &held {
                if let Reply::Array(parts) = push {
                    let texts: Vec<String> = parts.iter().map(|p| bulk_text(p).unwrap_or_default()).collect();
                    let (channel, message) = (&texts[texts.len() - 2], &texts[texts.len() - 1]);
                    self.log.push((name.clone(), Did::Missed, format!("{channel} {message}")));
                }
            }
            self.record(WireStep::Disconnect { at: self.clock.now, client, actor: name.clone() });
            self.push(RedisEvent::CutOff { subscriber: name, unread: held.len() });
        }
    }

    fn connect(&mut self, j: usize) {
        let s = &self.subscribers[j];
        if s.connected {
            return;
        }
        let client = s.client;
        let name = s.spec.name.clone();
        let mut commands = Vec::new();
        if !s.spec.channels.is_empty() {
            commands.push([vec!["SUBSCRIBE".to_string()], s.spec.channels.clone()].concat());
        }
        if !s.spec.patterns.is_empty() {
            commands.push([vec!["PSUBSCRIBE".to_string()], s.spec.patterns.clone()].concat());
        }
        self.subscribers[j].connected = true;
        for argv in commands {
            let reply = self.execute(client, &argv);
            let command = command_text(&argv);
            if let Reply::Error(error) = reply {
                self.push(RedisEvent::CommandFailed { actor: name.clone(), command, error });
            } else {
                self.push(RedisEvent::Subscribed { subscriber: name.clone(), command });
            }
        }
    }

    fn crash(&mut self, i: usize) {
        let w = &mut self.workers[i];
        if !w.alive {
            return;
        }
        w.alive = false;
        w.generation += 1;
        w.blocked = None;
        let hand: Vec<Item> = w.hand.drain(..).collect();
        let (client, worker) = (w.client, w.spec.name.clone());
        self.redis.disconnect(client);
        self.record(WireStep::Disconnect { at: self.clock.now, client, actor: worker.clone() });
        if self.workers[i].spec.heartbeat.is_some() {
            // The process is gone with every connection it had.
            let heartbeat = self.heartbeat_client(i);
            self.redis.disconnect(heartbeat);
            let actor = self.client_name(heartbeat);
            self.record(WireStep::Disconnect { at: self.clock.now, client: heartbeat, actor });
        }
        let spec = &self.workers[i].spec;
        let kept_in = match (&spec.processing_list, &spec.group) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(g)) => Some(format!("{}'s PEL in group {g}", spec.consumer_name())),
            (None, None) => None,
        };
        let holding = hand.iter().map(|h| h.body.clone()).collect();
        self.push(RedisEvent::Crashed { worker: worker.clone(), holding, kept_in });
        for item in hand {
            if item.id.is_none() && self.workers[i].spec.processing_list.is_none() {
                self.move_element(&item.body, &Place::InHand(i), Place::Lost);
                self.log.push((worker.clone(), Did::Lost, item.identity()));
                self.push(RedisEvent::Lost {
                    key: item.key.clone(),
                    element: item.body,
                    reason: format!("popped by {worker}, which crashed before finishing"),
                });
            }
        }
    }

    /// The server restarts from what its persistence kept ([`Redis::restart`]); the ledgers follow what
    /// it reloaded: a list element the ledger had in a list that the reloaded list lacks is lost, one the
    /// reloaded list holds beyond the ledger's (popped or done after the snapshot) is back in it; each
    /// group's entries are unread, pending or acknowledged as the reloaded group says, entries added
    /// after the snapshot are gone, and groups gone with their streams are forgotten.
    fn restart(&mut self) {
        let from = self.redis.reload_source();
        let keys_lost = self.redis.restart();
        self.record(WireStep::Restart { at: self.clock.now });
        self.push(RedisEvent::Restarted { from: from.clone(), keys_lost });
        self.hand_disconnected();
        let mut held: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for (key, entry) in &self.redis.keys {
            if let Value::List(list) = &entry.value {
                let counts = held.entry(String::from_utf8_lossy(key).into_owned()).or_default();
                for e in list {
                    *counts.entry(String::from_utf8_lossy(e).into_owned()).or_default() += 1;
                }
            }
        }
        let mut lost = Vec::new();
        for (body, place) in self.elements.iter_mut() {
            let Place::InList(key) = place else { continue };
            match held.get_mut(key.as_str()).and_then(|c| c.get_mut(body.as_str())).filter(|n| **n > 0) {
                Some(n) => *n -= 1,
                None => {
                    lost.push((key.clone(), body.clone()));
                    *place = Place::Lost;
                }
            }
        }
        for (key, counts) in held {
            for (body, n) in counts {
                for _ in 0..n {
                    self.elements.push((body.clone(), Place::InList(key.clone())));
                }
            }
        }
        for (key, element) in lost {
            self.log.push((String::new(), Did::Lost, format!("{key} {element}")));
            self.push(RedisEvent::Lost {
                key,
                element,
                reason: format!("the server restarted from {from}, which did not have it"),
            });
        }
        self.refresh_group_fates(true);
        for i in 0..self.workers.len() {
            let w = &mut self.workers[i];
            if w.alive && w.blocked.take().is_some() {
                // The connection dropped under the blocking command: the client reconnects and takes
                // again.
                w.generation += 1;
                let generation = w.generation;
                self.clock.wakes.schedule(self.clock.now, Wake::Take(i, generation));
            }
        }
        for j in 0..self.subscribers.len() {
            // A restarted server keeps nothing for anyone: a stalled subscriber's kept messages are gone.
            self.subscribers[j].stalled = false;
            self.subscribers[j].held.clear();
            if self.subscribers[j].connected {
                self.subscribers[j].connected = false;
                let name = self.subscribers[j].spec.name.clone();
                self.push(RedisEvent::Disconnected { subscriber: name });
                let generation = self.subscribers[j].generation;
                self.clock.wakes.schedule(self.clock.now, Wake::Connect(j, generation));
            }
        }
    }

    fn fault(&mut self, f: usize) {
        let spec = self.doc.faults[f].clone();
        if let Some(name) = &spec.worker_crash {
            if let Some(i) = self.workers.iter().position(|w| &w.spec.name == name) {
                self.crash(i);
            }
        }
        if let Some(name) = &spec.subscriber_disconnect {
            if let Some(j) = self.subscribers.iter().position(|s| &s.spec.name == name) {
                let s = &mut self.subscribers[j];
                if s.connected {
                    s.connected = false;
                    s.generation += 1;
                    // What the server kept for a stalled subscriber goes with its connection.
                    s.stalled = false;
                    s.held.clear();
                    let (client, generation) = (s.client, s.generation);
                    self.redis.disconnect(client);
                    self.record(WireStep::Disconnect { at: self.clock.now, client, actor: name.clone() });
                    self.push(RedisEvent::Disconnected { subscriber: name.clone() });
                    if let Some(back) = spec.length {
                        self.clock
                            .wakes
                            .schedule(self.clock.now.plus_millis(back.0), Wake::Connect(j, generation));
                    }
                }
            }
        }
        if let Some(name) = &spec.subscriber_stall {
            if let Some(j) = self.subscribers.iter().position(|s| &s.spec.name == name) {
                let s = &mut self.subscribers[j];
                if s.connected && !s.stalled {
                    s.stalled = true;
                    let (client, generation) = (s.client, s.generation);
                    self.redis.set_reading(client, false);
                    self.push(RedisEvent::Stalled { subscriber: name.clone() });
                    if let Some(back) = spec.length {
                        self.clock
                            .wakes
                            .schedule(self.clock.now.plus_millis(back.0), Wake::Resume(j, generation));
                    }
                }
            }
        }
        if spec.server_restart {
            self.restart();
        }
    }

    /// The engine's invariants and the ledgers'; a break stops the run with the reason.
    fn verify(&mut self) {
        if self.clock.stopped.is_some() {
            return;
        }
        if self.hand.used {
            self.adopt_hand_changes();
        }
        let broken = self.redis.check_invariants().and_then(|()| self.reconcile());
        if let Err(e) = broken {
            self.failure_invariant(e);
        }
    }

    fn reconcile(&mut self) -> Result<(), String> {
        // Lists: each holds exactly the elements the ledger puts there.
        let mut expected: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
        for (body, place) in &self.elements {
            if let Place::InList(key) = place {
                *expected.entry(key.as_str()).or_default().entry(body.as_str()).or_default() += 1;
            }
        }
        for (key, entry) in &self.redis.keys {
            let Value::List(list) = &entry.value else { continue };
            let key = String::from_utf8_lossy(key);
            let mut held: BTreeMap<String, usize> = BTreeMap::new();
            for e in list {
                *held.entry(String::from_utf8_lossy(e).into_owned()).or_default() += 1;
            }
            let want = expected.remove(key.as_ref()).unwrap_or_default();
            let want: BTreeMap<String, usize> = want.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            if held != want {
                return Err(format!("list '{key}' holds {held:?}, the ledger says {want:?}"));
            }
        }
        if let Some((key, want)) = expected.into_iter().next() {
            return Err(format!("list '{key}' is gone but the ledger puts {want:?} there"));
        }
        for (i, w) in self.workers.iter().enumerate() {
            let in_hand = self.elements.iter().filter(|(_, p)| *p == Place::InHand(i)).count();
            let held =
                if w.spec.processing_list.is_none() && w.spec.list.is_some() { w.hand.len() } else { 0 };
            if in_hand != held {
                return Err(format!("{} holds {held} elements, the ledger says {in_hand}", w.spec.name));
            }
        }
        // Streams: each entry of each group unread, pending in one consumer, or acknowledged.
        for ((stream, group), fates) in &self.entries {
            let Some(g) = self.group(stream, group) else {
                return Err(format!("group '{group}' of '{stream}' is gone"));
            };
            for (id, pending) in &g.pel {
                let owner = String::from_utf8_lossy(&pending.consumer);
                if !g.consumers.get(&*pending.consumer).is_some_and(|c| c.pel.contains(id)) {
                    return Err(format!("entry {id} is pending for {owner}, whose own PEL lacks it"));
                }
                if g.consumers.iter().filter(|(_, c)| c.pel.contains(id)).count() != 1 {
                    return Err(format!("entry {id} is in more than one consumer's PEL"));
                }
                if !fates.contains_key(id) {
                    return Err(format!("entry {id} is pending in {group} but the run never added it"));
                }
            }
            for (id, fate) in fates {
                let actual = match g.pel.get(id) {
                    Some(p) => Fate::Pending(String::from_utf8_lossy(&p.consumer).into_owned()),
                    None if *id > g.last_delivered => Fate::Unread,
                    None => Fate::Acked,
                };
                // A trimmed entry is never delivered: the group's last-delivered id may pass it.
                let passed_over = *fate == Fate::Trimmed && !matches!(actual, Fate::Pending(_));
                if actual != *fate && !passed_over {
                    return Err(format!(
                        "entry {id} of {stream} is {actual:?} in group {group}, the ledger says {fate:?}"
                    ));
                }
            }
        }
        let tops: Vec<((String, String), u64)> = self
            .entries
            .keys()
            .map(|(s, g)| {
                let top =
                    self.group(s, g).map_or(0, |g| g.pel.values().map(|p| p.deliveries).max().unwrap_or(0));
                ((s.clone(), g.clone()), top)
            })
            .collect();
        for (k, top) in tops {
            let m = self.max_deliveries.entry(k).or_insert(0);
            *m = (*m).max(top);
        }
        Ok(())
    }
}

impl RedisRun {
    fn count(&self, who: &ActorRef, did: Did) -> u64 {
        self.log.iter().filter(|(a, d, _)| *d == did && who.actor.as_ref().is_none_or(|w| w == a)).count()
            as u64
    }

    fn pel_of(&self, g: &GroupRef) -> Vec<(StreamId, i64, u64)> {
        let Some(group) = self.group(&g.stream, &g.group) else { return Vec::new() };
        group
            .pel
            .iter()
            .filter(|(_, p)| g.consumer.as_ref().is_none_or(|c| c.as_bytes() == &*p.consumer))
            .map(|(id, p)| (*id, p.delivered_at, p.deliveries))
            .collect()
    }

    /// (observed, pass, reason).
    fn evaluate(&self, spec: &CheckSpec) -> (String, bool, String) {
        let expect = spec.expect;
        let number = |n: u64| -> (String, bool, String) {
            let pass = expect.is_some_and(|e| e.holds(n));
            let reason = expect.map(|e| format!("expected {e}")).unwrap_or_default();
            (n.to_string(), pass, reason)
        };
        let value = |key: &str| self.redis.keys.get(key.as_bytes()).map(|e| &e.value);
        if let Some(k) = &spec.list_length {
            return number(match value(&k.key) {
                Some(Value::List(l)) => l.len() as u64,
                _ => 0,
            });
        }
        if let Some(k) = &spec.stream_length {
            return number(match value(&k.key) {
                Some(Value::Stream(s)) => s.len() as u64,
                _ => 0,
            });
        }
        if let Some(g) = &spec.pending {
            return number(self.pel_of(g).len() as u64);
        }
        if let Some(g) = &spec.max_deliveries {
            return number(
                self.max_deliveries.get(&(g.stream.clone(), g.group.clone())).copied().unwrap_or(0),
            );
        }
        if let Some(g) = &spec.max_idle_ms {
            let now = self.clock.now.as_millis() as i64;
            let idle = self.pel_of(g).iter().map(|(_, at, _)| (now - at).max(0) as u64).max().unwrap_or(0);
            return number(idle);
        }
        if let Some(a) = &spec.received {
            return number(self.count(a, Did::Received));
        }
        if let Some(a) = &spec.processed {
            return number(self.count(a, Did::Processed));
        }
        if let Some(a) = &spec.acked {
            return number(self.count(a, Did::Acked));
        }
        if let Some(a) = &spec.processed_twice {
            let mut done = BTreeSet::new();
            let twice = self
                .log
                .iter()
                .filter(|(w, d, id)| {
                    *d == Did::Processed
                        && a.actor.as_ref().is_none_or(|x| x == w)
                        && !done.insert(id.clone())
                })
                .count();
            return number(twice as u64);
        }
        if let Some(a) = &spec.lost_by_pubsub {
            return number(self.count(a, Did::Missed));
        }
        if let Some(a) = &spec.lost {
            return number(self.count(a, Did::Lost));
        }
        let total = |a: &ActorRef, f: fn(&ProducerActor) -> u64| -> u64 {
            self.producers.iter().filter(|p| a.actor.as_ref().is_none_or(|n| *n == p.spec.name)).map(f).sum()
        };
        if let Some(a) = &spec.sent {
            return number(total(a, |p| p.sent));
        }
        if let Some(a) = &spec.published_to_nobody {
            return number(total(a, |p| p.to_nobody));
        }
        if let Some(a) = &spec.requeued {
            return number(self.count(a, Did::Requeued));
        }
        if let Some(a) = &spec.cut_off {
            let n = self
                .subscribers
                .iter()
                .filter(|s| a.actor.as_ref().is_none_or(|x| *x == s.spec.name))
                .map(|s| s.cut_off)
                .sum();
            return number(n);
        }
        ("-".to_string(), false, "no check".to_string())
    }

    fn settle(&mut self, i: usize) {
        let spec = self.checks[i].spec.clone();
        let (observed, pass, reason) = self.evaluate(&spec);
        let r = &mut self.checks[i].result;
        r.observed = observed;
        r.status = if pass { CheckStatus::Pass } else { CheckStatus::Fail };
        r.reason = if pass { String::new() } else { reason };
    }

    /// The transcript: one line per event, the end, each key, each actor, the checks.
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        for (at, e) in &self.events {
            out.push_str(&format!("{at} {e}\n"));
        }
        if let Some(stop) = &self.clock.stopped {
            out.push_str(&stop.transcript_line());
            out.push('\n');
        }
        let at = self.clock.now;
        out.push_str(&end_line(at));
        out.push('\n');
        for (key, entry) in &self.redis.keys {
            let key = String::from_utf8_lossy(key);
            match &entry.value {
                Value::List(l) => out.push_str(&format!("{at} list {key} length={}\n", l.len())),
                Value::Stream(s) => {
                    out.push_str(&format!("{at} stream {key} length={} last-id={}\n", s.len(), s.last_id));
                    for (name, g) in &s.groups {
                        let per: Vec<String> = g
                            .consumers
                            .iter()
                            .map(|(c, k)| format!("{}={}", String::from_utf8_lossy(c), k.pel.len()))
                            .collect();
                        out.push_str(&format!(
                            "{at} group {key} {} last-delivered={} pending={} [{}]\n",
                            String::from_utf8_lossy(name),
                            g.last_delivered,
                            g.pel.len(),
                            per.join(" ")
                        ));
                    }
                }
                Value::String(_) => {}
            }
        }
        let lost = self.elements.iter().filter(|(_, p)| *p == Place::Lost).count();
        let done = self.elements.iter().filter(|(_, p)| *p == Place::Done).count();
        if !self.elements.is_empty() {
            out.push_str(&format!("{at} list elements done={done} lost={lost}\n"));
        }
        for p in &self.producers {
            out.push_str(&format!("{at} producer {} sent={}\n", p.spec.name, p.sent));
        }
        let n = |name: &str, did: Did| self.log.iter().filter(|(a, d, _)| a == name && *d == did).count();
        for w in &self.workers {
            let name = &w.spec.name;
            out.push_str(&format!(
                "{at} worker {name} received={} processed={} acked={}\n",
                n(name, Did::Received),
                n(name, Did::Processed),
                n(name, Did::Acked)
            ));
        }
        for s in &self.subscribers {
            let name = &s.spec.name;
            out.push_str(&format!(
                "{at} subscriber {name} received={} missed={}\n",
                n(name, Did::Received),
                n(name, Did::Missed)
            ));
        }
        for c in &self.checks {
            out.push_str(&format!("{at} {}\n", c.result.line()));
        }
        out
    }

    /// The JSON report (the kernel's envelope).
    pub fn to_json(&self) -> String {
        sim_kernel::transcript::report_json(
            "redis",
            self.seed,
            self.clock.now,
            self.clock.stopped.as_ref(),
            self.events.iter().map(|(at, e)| (*at, e)),
            self.check_results(),
        )
    }
}

fn describe(spec: &CheckSpec) -> String {
    if let Some(d) = &spec.description {
        return d.clone();
    }
    let at = spec.at.map_or("at the end".to_string(), |a| format!("at {}", VirtualTime::from_millis(a.0)));
    let expect = spec.expect.map(|e| format!(" {e}")).unwrap_or_default();
    let who = |a: &ActorRef| a.actor.clone().unwrap_or_else(|| "every actor".to_string());
    let group = |g: &GroupRef| match &g.consumer {
        Some(c) => format!("{} of group {} on {}", c, g.group, g.stream),
        None => format!("group {} on {}", g.group, g.stream),
    };
    let what = if let Some(k) = &spec.list_length {
        format!("LLEN {}", k.key)
    } else if let Some(k) = &spec.stream_length {
        format!("XLEN {}", k.key)
    } else if let Some(g) = &spec.pending {
        format!("entries pending in {}", group(g))
    } else if let Some(g) = &spec.max_deliveries {
        format!("highest delivery count in {}", group(g))
    } else if let Some(g) = &spec.max_idle_ms {
        format!("longest idle time (ms) pending in {}", group(g))
    } else if let Some(a) = &spec.received {
        format!("items received by {}", who(a))
    } else if let Some(a) = &spec.processed {
        format!("items processed by {}", who(a))
    } else if let Some(a) = &spec.acked {
        format!("items acknowledged by {}", who(a))
    } else if let Some(a) = &spec.processed_twice {
        format!("items processed again by {}", who(a))
    } else if let Some(a) = &spec.lost_by_pubsub {
        format!("messages {} missed while not subscribed", who(a))
    } else if let Some(a) = &spec.lost {
        match &a.actor {
            Some(w) => format!("list elements lost with {w}"),
            None => "list elements lost".to_string(),
        }
    } else if let Some(a) = &spec.sent {
        format!("messages sent by {}", who(a))
    } else if let Some(a) = &spec.published_to_nobody {
        format!("messages {} published to nobody", who(a))
    } else if let Some(a) = &spec.requeued {
        format!("elements requeued by {}", who(a))
    } else if let Some(a) = &spec.cut_off {
        format!("subscribers among {} cut off by their output buffer", who(a))
    } else {
        String::new()
    };
    format!("{at} {what}{expect}")
}

impl Run for RedisRun {
    type Wake = Wake;

    fn clock(&self) -> &RunClock<Wake> {
        &self.clock
    }
    fn clock_mut(&mut self) -> &mut RunClock<Wake> {
        &mut self.clock
    }
    fn fire(&mut self, wake: Wake) {
        self.advance_system(self.clock.now);
        match wake {
            Wake::Send(i) => self.send(i),
            Wake::Take(i, g) => {
                if self.workers[i].generation == g {
                    self.take(i)
                }
            }
            Wake::Processed(i, g) => {
                if self.workers[i].generation == g && self.workers[i].alive {
                    self.processed(i)
                }
            }
            Wake::Connect(j, g) => {
                if self.subscribers[j].generation == g {
                    self.connect(j)
                }
            }
            Wake::Resume(j, g) => {
                if self.subscribers[j].generation == g {
                    self.resume(j)
                }
            }
            Wake::Heartbeat(i) => self.heartbeat(i),
            Wake::Reap(r) => self.reap(r),
            Wake::Fault(f) => self.fault(f),
        }
    }
    fn system_deadline(&self) -> Option<VirtualTime> {
        // The server's timers: blocked clients' timeouts and keys' expiry (heartbeats).
        let blocked = self.redis.blocked.iter().filter_map(|b| b.deadline);
        let expiries = self.redis.keys.values().filter_map(|e| e.expires_at);
        // And the instant a kept output buffer passes its soft limit's seconds.
        blocked.chain(expiries).chain(self.redis.output_deadline()).min().map(VirtualTime::from_millis)
    }
    fn advance_system(&mut self, to: VirtualTime) {
        let to = to.as_millis();
        if to > self.redis.now || self.system_deadline().is_some_and(|d| d.as_millis() <= to) {
            let woken = self.redis.advance(to.saturating_sub(self.redis.now));
            if !woken.is_empty() {
                self.record(WireStep::Timeouts { at: self.clock.now, served: woken.clone() });
            }
            self.route(woken);
            self.cut_off_closed();
        }
    }
    fn collect(&mut self) {}
    fn drain(&mut self) {}
    fn settle_checks(&mut self, due: impl Fn(VirtualTime) -> bool) {
        for i in 0..self.checks.len() {
            if self.checks[i].result.status == CheckStatus::Pending && due(self.checks[i].at) {
                self.settle(i);
            }
        }
    }
    fn next_check_due(&self) -> Option<VirtualTime> {
        self.checks.iter().filter(|c| c.result.status == CheckStatus::Pending).map(|c| c.at).min()
    }
    fn instant_done(&mut self, _firings: u64) {
        self.verify();
    }
}

/// Runs a Redis document and returns its transcript, or its error located in the text.
pub fn run_document_transcript(text: &str) -> Result<String, String> {
    let mut run = RedisRun::from_json(text, RedisRunOptions::default()).map_err(|e| e.to_string())?;
    run.run();
    Ok(run.transcript())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(text: &str) -> RedisRun {
        RedisRun::from_json(text, RedisRunOptions::default()).expect("a valid document")
    }

    #[test]
    fn a_blocking_timeout_is_written_as_a_client_writes_seconds() {
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(2_000), "2");
        assert_eq!(seconds(1_500), "1.5");
        assert_eq!(seconds(250), "0.25");
    }

    /// The ledgers are not a second copy of the server: a change made behind their back breaks them,
    /// and the run stops with the reason.
    #[test]
    fn the_list_ledger_catches_an_element_nobody_pushed() {
        let mut run = run_of(
            r#"{ "brokerlab": 2, "model": "redis", "duration": "5s",
                 "producers": [ { "name": "p", "list": "q", "count": 1 } ] }"#,
        );
        runtime::run_until(&mut run, VirtualTime::from_millis(1_000));
        assert!(run.stopped().is_none());
        run.redis.execute(99, &[b"RPUSH".to_vec(), b"q".to_vec(), b"stowaway".to_vec()]);
        run.verify();
        let stop = run.stopped().expect("stopped").message.clone();
        assert!(stop.starts_with("invariant broken: list 'q' holds {\"p-1\": 1, \"stowaway\": 1}"), "{stop}");
    }

    #[test]
    fn the_group_ledger_catches_an_entry_read_behind_its_back() {
        let mut run = run_of(
            r#"{ "brokerlab": 2, "model": "redis", "duration": "5s",
                 "groups": [ { "stream": "s", "name": "g" } ],
                 "producers": [ { "name": "p", "stream": "s", "count": 1 } ] }"#,
        );
        runtime::run_until(&mut run, VirtualTime::from_millis(1_000));
        assert!(run.stopped().is_none());
        let argv: Vec<Vec<u8>> = ["XREADGROUP", "GROUP", "g", "intruder", "STREAMS", "s", ">"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        run.redis.execute(99, &argv);
        run.verify();
        let stop = run.stopped().expect("stopped").message.clone();
        assert_eq!(
            stop,
            "invariant broken: entry 1700000000000-0 of s is Pending(\"intruder\") in group g, the ledger says Unread"
        );
    }

    #[test]
    fn events_know_their_kind_and_serialise_with_it() {
        let e = RedisEvent::Requeued {
            reaper: "r".into(),
            command: "LMOVE a b RIGHT RIGHT".into(),
            element: "j".into(),
        };
        assert_eq!(e.kind(), "requeued");
        assert!(RedisEvent::KINDS.contains(&e.kind()));
        assert!(e.field_is("actor", "r"));
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"event":"requeued","reaper":"r","command":"LMOVE a b RIGHT RIGHT","element":"j"}"#
        );
    }
}
