//! A Redis scenario document (`"model": "redis"`, format 2): consumer groups created at time 0,
//! producers (`LPUSH`/`RPUSH`, `XADD`, `PUBLISH`) on a schedule, workers (`BRPOP`/`BLPOP`, `BLMOVE` into a
//! processing list, `XREADGROUP`, or `XAUTOCLAIM`), subscribers (`SUBSCRIBE`/`PSUBSCRIBE`), faults and
//! checks at times, a seed and a duration.
//!
//! # Invariants
//! - Every field is known (`deny_unknown_fields`); a problem is reported at its JSON path, found again in
//!   the text as `line:col`.
//! - Everything a run draws (processing times, `{random:N}`) comes from the seed.
//! - The budget is checked before the run: a document whose producers could send more than
//!   [`MAX_MESSAGES`] messages is refused at the producer that goes past it.

use serde::{Deserialize, Serialize};
use sim_kernel::located::{json_error, Problem, ScenarioError};
use sim_kernel::pace::Pace;
use sim_kernel::processing::Processing;
use sim_kernel::template::{Placeholders, Template};
use sim_kernel::values::{Comparison, Millis, Rate};
use std::collections::BTreeSet;

/// The most messages one document's producers may send in one run (the run's budget).
pub const MAX_MESSAGES: u64 = 20_000;

/// A Redis document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisDocument {
    /// Always 2.
    pub brokerlab: u32,
    /// Always `"redis"`.
    pub model: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub seed: u64,
    /// How long the run lasts (default 60 s, as for every document).
    #[serde(default = "sixty_seconds")]
    pub duration: Millis,
    /// The server's persistence, set at 0 before the groups (`CONFIG SET`); absent: redis-server's
    /// defaults (`save "3600 1 300 100 60 10000"`, `appendonly no`). A `server_restart` reloads what it
    /// kept.
    #[serde(default)]
    pub persistence: Option<PersistenceSpec>,
    /// `CONFIG SET client-output-buffer-limit <value>` at 0, after the persistence (`"pubsub 64kb 16kb
    /// 2"`); absent: redis-server's defaults (`pubsub 32mb 8mb 60`).
    #[serde(default)]
    pub client_output_buffer_limit: Option<String>,
    /// Consumer groups created at 0 in this order (`XGROUP CREATE key group id MKSTREAM`).
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    #[serde(default)]
    pub producers: Vec<ProducerSpec>,
    #[serde(default)]
    pub workers: Vec<WorkerSpec>,
    #[serde(default)]
    pub subscribers: Vec<SubscriberSpec>,
    #[serde(default)]
    pub reapers: Vec<ReaperSpec>,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
}

fn sixty_seconds() -> Millis {
    Millis(60_000)
}

fn yes() -> bool {
    true
}

/// `CONFIG SET` of the persistence parameters given, as redis-server takes them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersistenceSpec {
    /// `save`: "SECONDS CHANGES …" points, or "" for no snapshots.
    #[serde(default)]
    pub save: Option<String>,
    #[serde(default)]
    pub appendonly: Option<bool>,
    /// `always`, `everysec` or `no`.
    #[serde(default)]
    pub appendfsync: Option<String>,
}

impl PersistenceSpec {
    /// The `CONFIG SET` command, or `None` when nothing is set.
    pub fn command(&self) -> Option<Vec<String>> {
        let mut argv = vec!["CONFIG".to_string(), "SET".to_string()];
        if let Some(save) = &self.save {
            argv.extend(["save".to_string(), save.clone()]);
        }
        if let Some(on) = self.appendonly {
            argv.extend(["appendonly".to_string(), if on { "yes" } else { "no" }.to_string()]);
        }
        if let Some(fsync) = &self.appendfsync {
            argv.extend(["appendfsync".to_string(), fsync.clone()]);
        }
        (argv.len() > 2).then_some(argv)
    }
}

/// `XGROUP CREATE stream name id MKSTREAM`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub stream: String,
    pub name: String,
    /// The group's last-delivered id at creation: `$` (default: only entries added from now on) or `0`
    /// (the whole stream).
    #[serde(default = "dollar")]
    pub id: String,
}

fn dollar() -> String {
    "$".to_string()
}

/// A client sending one message per slot: `LPUSH`/`RPUSH` to a list, `XADD` to a stream, or `PUBLISH`
/// to a channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerSpec {
    pub name: String,
    #[serde(default)]
    pub list: Option<String>,
    #[serde(default)]
    pub stream: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    /// For a list: `lpush` (default) or `rpush`.
    #[serde(default)]
    pub push: Option<String>,
    /// Messages per second (default 1).
    #[serde(default)]
    pub rate: Option<Rate>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub start: Millis,
    #[serde(default)]
    pub stop: Option<Millis>,
    /// The element or message template (default `"{producer}-{seq}"`); for a stream, the value of the
    /// field `body` unless `fields` are given.
    #[serde(default)]
    pub body: Option<String>,
    /// A stream entry's fields, in this order, each value a template.
    #[serde(default)]
    pub fields: Vec<(String, String)>,
    /// For a stream: `XADD stream MAXLEN n *`, so each add trims the oldest entries beyond `n`
    /// (read or not: a group's unread entries go too, its pending ones stay in its PEL).
    #[serde(default)]
    pub maxlen: Option<u64>,
    /// For a stream: `XADD stream MINID <ms>-0 *` with `<ms>` the stream-id milliseconds of `minid_age`
    /// before now, so each add trims the entries older than that (a time window; Redis compares ids,
    /// and `*` ids are the milliseconds they were added at).
    #[serde(default)]
    pub minid_age: Option<Millis>,
    /// With `maxlen` or `minid_age`: `MAXLEN ~ n` or `MINID ~ id`, trimming whole nodes of 100 entries
    /// only, so the stream keeps at least what the exact form keeps and usually more.
    #[serde(default)]
    pub approximate: bool,
}

/// `XAUTOCLAIM stream group consumer min_idle cursor COUNT count`, every `every`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoclaimSpec {
    pub min_idle: Millis,
    /// How often the claimer looks (default: `min_idle`).
    #[serde(default)]
    pub every: Option<Millis>,
    #[serde(default)]
    pub count: Option<u64>,
}

/// A worker: a loop of blocking pops on a list, `XREADGROUP` on a stream, or `XAUTOCLAIM`; each item is
/// processed, then acknowledged (`LREM` from the processing list, `XACK`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSpec {
    pub name: String,
    #[serde(default)]
    pub list: Option<String>,
    /// For a list: `brpop` (default, the other end of `LPUSH`: first in, first out) or `blpop`.
    #[serde(default)]
    pub pop: Option<String>,
    /// For a list: the reliable-queue pattern — `BLMOVE list processing_list RIGHT LEFT`, then
    /// `LREM processing_list 1 element` once processed.
    #[serde(default)]
    pub processing_list: Option<String>,
    #[serde(default)]
    pub stream: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    /// The consumer name in the group (default: the worker's name).
    #[serde(default)]
    pub consumer: Option<String>,
    /// `XREADGROUP … COUNT` (default 1).
    #[serde(default)]
    pub count: Option<u64>,
    /// `XREADGROUP … NOACK`: entries are not kept pending.
    #[serde(default)]
    pub noack: bool,
    /// `XACK` after processing (default true).
    #[serde(default = "yes")]
    pub ack: bool,
    /// A claimer: `XAUTOCLAIM` instead of `XREADGROUP`.
    #[serde(default)]
    pub xautoclaim: Option<AutoclaimSpec>,
    /// A claimer by hand: `XPENDING stream group IDLE min_idle - + count` to find the entries idle long
    /// enough, then `XCLAIM stream group consumer min_idle id…` for them, every `every`.
    #[serde(default)]
    pub xclaim: Option<AutoclaimSpec>,
    /// How long a blocking command waits (`BRPOP … timeout`, `XREADGROUP BLOCK`); 0 (default) waits
    /// for ever.
    #[serde(default)]
    pub block: Millis,
    #[serde(default)]
    pub start: Millis,
    #[serde(default)]
    pub processing: Processing,
    /// A liveness key the worker keeps alive while it runs (a reaper looks at it).
    #[serde(default)]
    pub heartbeat: Option<HeartbeatSpec>,
}

/// Every `every`: `SET key 1`, then `PEXPIRE key ttl`; once the worker is gone the key expires.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatSpec {
    pub key: String,
    pub every: Millis,
    pub ttl: Millis,
}

/// A reaper: every `every` (from `start`), for each processing list it watches, `EXISTS alive_key`; when
/// the key is gone (its worker stopped refreshing it), `LMOVE processing_list list RIGHT RIGHT` until the
/// processing list is empty, so the oldest job left behind is the next one taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaperSpec {
    pub name: String,
    pub every: Millis,
    #[serde(default)]
    pub start: Millis,
    pub watch: Vec<ReapSpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReapSpec {
    pub processing_list: String,
    pub list: String,
    pub alive_key: String,
}

impl WorkerSpec {
    pub fn consumer_name(&self) -> &str {
        self.consumer.as_deref().unwrap_or(&self.name)
    }

    /// A claimer's `XAUTOCLAIM` or `XCLAIM` settings.
    pub fn claim(&self) -> Option<&AutoclaimSpec> {
        self.xautoclaim.as_ref().or(self.xclaim.as_ref())
    }
}

/// A subscriber: `SUBSCRIBE` to channels and `PSUBSCRIBE` to patterns when it connects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriberSpec {
    pub name: String,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub patterns: Vec<String>,
    #[serde(default)]
    pub start: Millis,
}

/// A fault at a time; exactly one kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub at: Millis,
    /// The worker's process dies: its connection closes, what it holds in hand is gone with it.
    #[serde(default)]
    pub worker_crash: Option<String>,
    /// The subscriber's connection closes; it reconnects and subscribes again after `for` (absent:
    /// never).
    #[serde(default)]
    pub subscriber_disconnect: Option<String>,
    /// The subscriber stops reading (a slow consumer): redis-server keeps what it is sent in its output
    /// buffer, until `client-output-buffer-limit pubsub` cuts it off; after `for` it reads again and
    /// gets what was kept (absent: never).
    #[serde(default)]
    pub subscriber_stall: Option<String>,
    #[serde(rename = "for", default)]
    pub length: Option<Millis>,
    /// redis-server's machine fails and the server restarts from what its persistence kept
    /// ([`crate::redis::Redis::restart`]); every connection is gone; the clients reconnect at once.
    #[serde(default)]
    pub server_restart: bool,
}

/// A key named by a check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    pub key: String,
}

/// A group of a stream, or one consumer of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRef {
    pub stream: String,
    pub group: String,
    #[serde(default)]
    pub consumer: Option<String>,
}

/// An actor (worker, subscriber or producer), or every actor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorRef {
    #[serde(default)]
    pub actor: Option<String>,
}

/// A check at a time (default: the end); exactly one kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    #[serde(default)]
    pub at: Option<Millis>,
    #[serde(default)]
    pub description: Option<String>,
    /// `LLEN key`.
    #[serde(default)]
    pub list_length: Option<KeyRef>,
    /// `XLEN key`.
    #[serde(default)]
    pub stream_length: Option<KeyRef>,
    /// Entries in the group's PEL (or one consumer's).
    #[serde(default)]
    pub pending: Option<GroupRef>,
    /// The highest delivery count an entry of the group reached.
    #[serde(default)]
    pub max_deliveries: Option<GroupRef>,
    /// The longest idle time (ms) of an entry pending in the group (or one consumer).
    #[serde(default)]
    pub max_idle_ms: Option<GroupRef>,
    /// Items (elements, entries, messages) an actor (or every actor) received.
    #[serde(default)]
    pub received: Option<ActorRef>,
    /// Items whose processing finished.
    #[serde(default)]
    pub processed: Option<ActorRef>,
    /// Items acknowledged (`XACK` that counted, `LREM` that removed).
    #[serde(default)]
    pub acked: Option<ActorRef>,
    /// Processings of an item processed before: work done twice.
    #[serde(default)]
    pub processed_twice: Option<ActorRef>,
    /// Messages published on a subscriber's channels or patterns while it was not subscribed.
    #[serde(default)]
    pub lost_by_pubsub: Option<ActorRef>,
    /// List elements gone for good: taken by a worker that crashed before finishing, or flushed by a
    /// restart.
    #[serde(default)]
    pub lost: Option<ActorRef>,
    /// Messages a producer sent (pushed, added, published).
    #[serde(default)]
    pub sent: Option<ActorRef>,
    /// `PUBLISH` replies of 0: nobody was listening.
    #[serde(default)]
    pub published_to_nobody: Option<ActorRef>,
    /// Elements a reaper moved back from a processing list to its queue.
    #[serde(default)]
    pub requeued: Option<ActorRef>,
    /// Subscribers redis-server cut off for passing `client-output-buffer-limit pubsub`.
    #[serde(default)]
    pub cut_off: Option<ActorRef>,
    #[serde(default)]
    pub expect: Option<Comparison>,
}

/// The check kinds, in the order a check names one.
pub const CHECK_KINDS: &[&str] = &[
    "list_length",
    "stream_length",
    "pending",
    "max_deliveries",
    "max_idle_ms",
    "received",
    "processed",
    "acked",
    "processed_twice",
    "lost_by_pubsub",
    "lost",
    "sent",
    "published_to_nobody",
    "requeued",
    "cut_off",
];

impl CheckSpec {
    /// The kinds this check names (exactly one is valid).
    pub fn kinds(&self) -> Vec<&'static str> {
        let set = [
            self.list_length.is_some(),
            self.stream_length.is_some(),
            self.pending.is_some(),
            self.max_deliveries.is_some(),
            self.max_idle_ms.is_some(),
            self.received.is_some(),
            self.processed.is_some(),
            self.acked.is_some(),
            self.processed_twice.is_some(),
            self.lost_by_pubsub.is_some(),
            self.lost.is_some(),
            self.sent.is_some(),
            self.published_to_nobody.is_some(),
            self.requeued.is_some(),
            self.cut_off.is_some(),
        ];
        CHECK_KINDS.iter().zip(set).filter(|(_, s)| *s).map(|(k, _)| *k).collect()
    }

    /// The actor an actor check names.
    pub fn actor(&self) -> Option<&ActorRef> {
        [
            &self.received,
            &self.processed,
            &self.acked,
            &self.processed_twice,
            &self.lost_by_pubsub,
            &self.lost,
            &self.sent,
            &self.published_to_nobody,
            &self.requeued,
            &self.cut_off,
        ]
        .into_iter()
        .find_map(|a| a.as_ref())
    }

    /// The group a group check names.
    pub fn group(&self) -> Option<&GroupRef> {
        [&self.pending, &self.max_deliveries, &self.max_idle_ms].into_iter().find_map(|g| g.as_ref())
    }
}

/// A producer template's placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageVar {
    /// The message's number in its producer, from 1.
    Seq,
    Producer,
}

impl Placeholders for MessageVar {
    type Scope = ();
    fn parse(name: &str, _: ()) -> Option<Self> {
        match name {
            "seq" => Some(MessageVar::Seq),
            "producer" => Some(MessageVar::Producer),
            _ => None,
        }
    }
    fn known(_: ()) -> &'static str {
        "{seq}, {producer}, {random:N}"
    }
}

impl ProducerSpec {
    /// The producer's send slots.
    pub fn pace(&self) -> Pace {
        let stop = self.stop.map(|s| s.0);
        Pace::constant(self.rate.unwrap_or(Rate::per_second(1)).per_kilosecond, self.start.0, stop)
    }
}

impl RedisDocument {
    /// Reads and checks a document (without a byte-order mark or with one).
    pub fn parse(text: &str) -> Result<RedisDocument, ScenarioError> {
        let text = sim_kernel::located::strip_bom(text);
        let document: RedisDocument = serde_json::from_str(text).map_err(json_error)?;
        document.validate().map_err(|p| p.into_error(Some(text)))?;
        Ok(document)
    }

    /// Everything that can be checked before the run (Redis itself refuses the rest, in the run).
    pub fn validate(&self) -> Result<(), Problem> {
        if self.brokerlab != 2 {
            return Err(Problem::new("brokerlab", "a Redis document is format 2 (\"brokerlab\": 2)"));
        }
        if self.model != "redis" {
            return Err(Problem::new("model", "a Redis document has \"model\": \"redis\""));
        }
        if self.duration.0 == 0 {
            return Err(Problem::new("duration", "a run lasts more than 0 ms"));
        }
        let mut groups = BTreeSet::new();
        for (i, g) in self.groups.iter().enumerate() {
            if !groups.insert((g.stream.as_str(), g.name.as_str())) {
                return Err(Problem::new(
                    format!("groups[{i}].name"),
                    format!("group '{}' of stream '{}' is named twice", g.name, g.stream),
                ));
            }
        }
        let mut names = BTreeSet::new();
        let mut own_name = |path: String, name: &str, what: &str| -> Result<(), Problem> {
            if name.is_empty() || !names.insert(name.to_string()) {
                return Err(Problem::new(path, format!("a {what} needs a name of its own, not '{name}'")));
            }
            Ok(())
        };
        let mut budget: u128 = 0;
        for (i, p) in self.producers.iter().enumerate() {
            let path = format!("producers[{i}]");
            own_name(format!("{path}.name"), &p.name, "producer")?;
            let targets = [p.list.is_some(), p.stream.is_some(), p.channel.is_some()];
            if targets.iter().filter(|t| **t).count() != 1 {
                return Err(Problem::new(
                    path,
                    "a producer pushes to a list, adds to a stream or publishes to a channel: give one of list, stream, channel",
                ));
            }
            if let Some(push) = &p.push {
                if p.list.is_none() || !["lpush", "rpush"].contains(&push.as_str()) {
                    return Err(Problem::new(format!("{path}.push"), "push is lpush or rpush, for a list"));
                }
            }
            if (p.maxlen.is_some() || p.approximate) && p.stream.is_none() {
                return Err(Problem::new(format!("{path}.maxlen"), "maxlen trims a stream: give stream"));
            }
            if p.minid_age.is_some() && p.stream.is_none() {
                return Err(Problem::new(
                    format!("{path}.minid_age"),
                    "minid_age trims a stream: give stream",
                ));
            }
            if p.minid_age.is_some() && p.maxlen.is_some() {
                return Err(Problem::new(
                    format!("{path}.minid_age"),
                    "XADD trims by MAXLEN or by MINID, not both: give maxlen or minid_age",
                ));
            }
            if p.approximate && p.maxlen.is_none() && p.minid_age.is_none() {
                return Err(Problem::new(
                    format!("{path}.approximate"),
                    "approximate goes with maxlen or minid_age",
                ));
            }
            if !p.fields.is_empty() && p.stream.is_none() {
                return Err(Problem::new(format!("{path}.fields"), "fields are for a stream's entries"));
            }
            if !p.fields.is_empty() && p.body.is_some() {
                return Err(Problem::new(format!("{path}.body"), "give a body or fields, not both"));
            }
            if let Some(t) = &p.body {
                Template::<MessageVar>::compile(t, ())
                    .map_err(|e| Problem::new(format!("{path}.body"), e))?;
            }
            for (j, (_, t)) in p.fields.iter().enumerate() {
                Template::<MessageVar>::compile(t, ())
                    .map_err(|e| Problem::new(format!("{path}.fields[{j}]"), e))?;
            }
            let steps = vec![(p.rate.unwrap_or(Rate::per_second(1)).per_kilosecond, u64::MAX)];
            let end = p.stop.map_or(self.duration.0, |s| s.0.min(self.duration.0));
            let window = u128::from(end.saturating_sub(p.start.0)) + 1;
            let slots = Pace::slot_bound(&steps, window);
            budget += p.count.map_or(slots, |c| slots.min(u128::from(c)));
            if budget > u128::from(MAX_MESSAGES) {
                return Err(Problem::new(
                    path,
                    format!("the producers could send more than {MAX_MESSAGES} messages in this run; lower a rate, a count or the duration"),
                ));
            }
        }
        for (i, w) in self.workers.iter().enumerate() {
            let path = format!("workers[{i}]");
            own_name(format!("{path}.name"), &w.name, "worker")?;
            match (&w.list, &w.stream) {
                (Some(_), None) => {
                    if w.group.is_some()
                        || w.xautoclaim.is_some()
                        || w.xclaim.is_some()
                        || w.noack
                        || w.count.is_some()
                    {
                        return Err(Problem::new(
                            path,
                            "a list worker pops; group, count, noack, xautoclaim and xclaim are for a stream worker",
                        ));
                    }
                    if let Some(pop) = &w.pop {
                        if !["brpop", "blpop"].contains(&pop.as_str()) {
                            return Err(Problem::new(format!("{path}.pop"), "pop is brpop or blpop"));
                        }
                        if w.processing_list.is_some() {
                            return Err(Problem::new(
                                format!("{path}.pop"),
                                "a worker with a processing_list takes with BLMOVE; give pop or processing_list, not both",
                            ));
                        }
                    }
                }
                (None, Some(s)) => {
                    let Some(g) = &w.group else {
                        return Err(Problem::new(path, "a stream worker reads in a group: give group"));
                    };
                    if !groups.contains(&(s.as_str(), g.as_str())) {
                        return Err(Problem::new(
                            format!("{path}.group"),
                            format!("no group '{g}' of stream '{s}' in groups"),
                        ));
                    }
                    if w.pop.is_some() || w.processing_list.is_some() {
                        return Err(Problem::new(path, "pop and processing_list are for a list worker"));
                    }
                    if w.count == Some(0) {
                        return Err(Problem::new(format!("{path}.count"), "a read takes at least 1 entry"));
                    }
                    if w.xautoclaim.is_some() && w.xclaim.is_some() {
                        return Err(Problem::new(path, "a claimer uses xautoclaim or xclaim, not both"));
                    }
                    for (what, claim) in [("xautoclaim", &w.xautoclaim), ("xclaim", &w.xclaim)] {
                        let Some(a) = claim else { continue };
                        if a.every.unwrap_or(a.min_idle).0 == 0 {
                            return Err(Problem::new(
                                format!("{path}.{what}.every"),
                                "a claimer looks every more than 0 ms",
                            ));
                        }
                        if a.count == Some(0) {
                            return Err(Problem::new(
                                format!("{path}.{what}.count"),
                                "a claim takes at least 1 entry",
                            ));
                        }
                    }
                }
                _ => {
                    return Err(Problem::new(
                        path,
                        "a worker takes from a list or reads a stream: give one of list, stream",
                    ))
                }
            }
        }
        for (i, s) in self.subscribers.iter().enumerate() {
            let path = format!("subscribers[{i}]");
            own_name(format!("{path}.name"), &s.name, "subscriber")?;
            if s.channels.is_empty() && s.patterns.is_empty() {
                return Err(Problem::new(path, "a subscriber subscribes to channels or patterns: give one"));
            }
        }
        for (i, w) in self.workers.iter().enumerate() {
            if let Some(h) = &w.heartbeat {
                if h.every.0 == 0 || h.ttl.0 == 0 {
                    return Err(Problem::new(
                        format!("workers[{i}].heartbeat"),
                        "a heartbeat comes every more than 0 ms and lives more than 0 ms",
                    ));
                }
            }
        }
        for (i, r) in self.reapers.iter().enumerate() {
            let path = format!("reapers[{i}]");
            own_name(format!("{path}.name"), &r.name, "reaper")?;
            if r.every.0 == 0 {
                return Err(Problem::new(format!("{path}.every"), "a reaper looks every more than 0 ms"));
            }
            if r.watch.is_empty() {
                return Err(Problem::new(
                    format!("{path}.watch"),
                    "a reaper watches at least one processing list",
                ));
            }
        }
        let workers: BTreeSet<&str> = self.workers.iter().map(|w| w.name.as_str()).collect();
        let subscribers: BTreeSet<&str> = self.subscribers.iter().map(|s| s.name.as_str()).collect();
        for (i, f) in self.faults.iter().enumerate() {
            let path = format!("faults[{i}]");
            let kinds = [
                f.worker_crash.is_some(),
                f.subscriber_disconnect.is_some(),
                f.subscriber_stall.is_some(),
                f.server_restart,
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(Problem::new(
                    path,
                    "a fault is one of worker_crash, subscriber_disconnect, subscriber_stall, server_restart",
                ));
            }
            if let Some(s) = &f.subscriber_stall {
                if !subscribers.contains(s.as_str()) {
                    return Err(Problem::new(
                        format!("{path}.subscriber_stall"),
                        format!("no subscriber '{s}'"),
                    ));
                }
            }
            if let Some(w) = &f.worker_crash {
                if !workers.contains(w.as_str()) {
                    return Err(Problem::new(format!("{path}.worker_crash"), format!("no worker '{w}'")));
                }
            }
            if let Some(s) = &f.subscriber_disconnect {
                if !subscribers.contains(s.as_str()) {
                    return Err(Problem::new(
                        format!("{path}.subscriber_disconnect"),
                        format!("no subscriber '{s}'"),
                    ));
                }
            }
            if f.length.is_some() && f.subscriber_disconnect.is_none() && f.subscriber_stall.is_none() {
                return Err(Problem::new(
                    format!("{path}.for"),
                    "\"for\" is how long a subscriber stays away or stops reading",
                ));
            }
        }
        for (i, c) in self.checks.iter().enumerate() {
            let path = format!("checks[{i}]");
            let kinds = c.kinds();
            if kinds.len() != 1 {
                return Err(Problem::new(
                    path,
                    format!("a check names exactly one of {}", CHECK_KINDS.join(", ")),
                ));
            }
            let kind = kinds[0];
            if let Some(g) = c.group() {
                if !groups.contains(&(g.stream.as_str(), g.group.as_str())) {
                    return Err(Problem::new(
                        format!("{path}.{kind}.group"),
                        format!("no group '{}' of stream '{}' in groups", g.group, g.stream),
                    ));
                }
            }
            if let Some(name) = c.actor().and_then(|a| a.actor.as_ref()) {
                if !names.contains(name) {
                    return Err(Problem::new(format!("{path}.{kind}.actor"), format!("no actor '{name}'")));
                }
            }
            if c.expect.is_none() {
                return Err(Problem::new(
                    path,
                    format!("a {kind} check needs \"expect\": a number or a comparison"),
                ));
            }
            if c.at.is_some_and(|a| a.0 > self.duration.0) {
                return Err(Problem::new(
                    format!("{path}.at"),
                    "a check after the run's end would never be decided",
                ));
            }
        }
        Ok(())
    }
}

/// The producers' templates, compiled (a validated document compiles).
pub(super) fn compile(t: &str) -> Template<MessageVar> {
    Template::<MessageVar>::compile(t, ()).unwrap_or_else(|_| Template::compile("", ()).expect("empty"))
}

/// Fields of a stream producer: `fields`, or one field `body`.
pub(super) fn stream_fields(p: &ProducerSpec) -> Vec<(String, Template<MessageVar>)> {
    if p.fields.is_empty() {
        vec![("body".to_string(), compile(p.body.as_deref().unwrap_or("{producer}-{seq}")))]
    } else {
        p.fields.iter().map(|(k, v)| (k.clone(), compile(v))).collect()
    }
}
