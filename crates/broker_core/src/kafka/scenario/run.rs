//! Playing a Kafka document: producers, consumers and share consumers as clients of the engine
//! (`Cluster`, `KafkaProducer`, `GroupCoordinator`, `KafkaConsumer`, `SharePartitions` with
//! `KafkaShareConsumer`) on the kernel's time loop
//! ([`sim_kernel::runtime::Run`]), faults at their times, checks decided at theirs, a transcript and a
//! JSON report.
//!
//! # Invariants
//! - Deterministic: one seed gives one transcript (one [`Prng`] for the actors' draws, the engine's own
//!   seeded from it); nothing iterates a hash map.
//! - Every `Vec<Delivery>` the coordinator returns is posted into the [`Mailbox`], and every running
//!   consumer with mail is ticked before the instant ends.
//! - The cluster's invariants hold after every instant ([`Cluster::check_invariants`]); a violation stops
//!   the run with its text.
//! - A share consumer acknowledges each record it polled at most once (not when it crashes or closes first),
//!   after its processing, by a rule of the record ([`share_acknowledge_type`]), never of the member;
//!   acquisition locks expire on the kernel's clock ([`SharePartitions::next_deadline`] is a system deadline).
//! - A run is bounded: its producers' sends are counted before it starts ([`MAX_RECORDS`]) and the
//!   kernel's runaway guard stops an instant that would never end.

use super::document::*;
#[cfg(not(feature = "external-scripts"))]
use super::script::API;
use super::script::{record_map, RecordCall, ON_RECORD};
use crate::kafka::consumer::ConsumerEvent;
use crate::kafka::group::{CoordinatorConfig, MigrationPolicy};
use crate::kafka::producer::{KafkaProducer, ProducerConfig, SendId};
use crate::kafka::{
    AcknowledgeType, AutoOffsetReset, ClientAssignor, Cluster, ClusterSettings, ConsumerConfig, ConsumerEnv,
    ConsumerRecord, GroupCoordinator, GroupProtocol, Header, IsolationLevel, KafkaConsumer, KafkaEvent,
    KafkaShareConsumer, Mailbox, NewTopic, NodeId, Offset, PartitionReader, ProducerRecord, ShareConfig,
    SharePartitions, TopicPartition,
};
use serde::Serialize;
use sim_kernel::checks::{CheckResult, CheckStatus, EventInfo};
use sim_kernel::clock::{DeadlineQueue, VirtualTime};
use sim_kernel::link::Link;
use sim_kernel::located::{Pos, Problem, ScenarioError};
use sim_kernel::pace::Pace;
use sim_kernel::prng::Prng;
use sim_kernel::runtime::{self, Run, RunClock};
#[cfg(not(feature = "external-scripts"))]
use sim_kernel::script::{Sandbox, ScriptLimits};
use sim_kernel::template::Template;
use sim_kernel::transcript::{end_line, StopInfo};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

mod hand;
pub use hand::{HandSeek, HandState, HAND_CONSUMER};

/// The header every record carries so checks can tell a record from its copies: `producer/seq`.
pub const ORIGIN_HEADER: &str = "brokerlab-origin";
/// The runaway guard's default: the most firings at one instant.
pub const MAX_FIRINGS_PER_INSTANT: u64 = 100_000;

/// Something an actor or the document does at a later instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    Send(usize),
    ConsumerStart(usize),
    Poll(usize),
    /// A poll's records are processed: commit as the policy says, then poll again.
    Processed(usize),
    ConsumerStop(usize),
    Fault(usize),
    /// A producer's record reaches its `KafkaProducer` after the client's latency.
    Deliver(usize),
    /// A producer sees its acknowledgments and failures after the client's latency.
    Notice(usize),
    /// A share consumer subscribes, polls, has processed its poll's records (acknowledge, `commitSync`),
    /// closes.
    ShareStart(usize),
    SharePoll(usize),
    ShareProcessed(usize),
    ShareStop(usize),
}

/// What the actors saw, one plain value each (the checks and the transcript read these).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ActorEvent {
    /// A send was acknowledged (`RecordMetadata`).
    Acknowledged {
        producer: String,
        seq: u64,
        key: Option<String>,
        partition: String,
        offset: Offset,
    },
    /// A send failed (the callback's exception).
    SendFailed {
        producer: String,
        seq: u64,
        error: String,
    },
    /// A transaction was committed (its markers written) or aborted.
    TransactionEnded {
        producer: String,
        committed: bool,
    },
    /// A consumer's poll returned this record.
    Consumed {
        consumer: String,
        partition: String,
        offset: Offset,
        key: Option<String>,
        value: Option<String>,
        origin: Option<String>,
    },
    /// A share consumer's poll returned this record, delivered for the `delivery_count`-th time.
    ShareConsumed {
        consumer: String,
        partition: String,
        offset: Offset,
        key: Option<String>,
        value: Option<String>,
        origin: Option<String>,
        delivery_count: i32,
    },
    /// A share consumer acknowledged a record (`ACCEPT`, `RELEASE`, `REJECT`), and its `commitSync()`
    /// reported this error for it (`InvalidRecordStateException` when its lock had expired).
    ShareAcknowledged {
        consumer: String,
        partition: String,
        offset: Offset,
        kind: String,
        error: Option<String>,
    },
    /// `onPartitionsAssigned` / `onPartitionsRevoked` / `onPartitionsLost`.
    Assigned {
        consumer: String,
        partitions: Vec<String>,
    },
    Revoked {
        consumer: String,
        partitions: Vec<String>,
    },
    Lost {
        consumer: String,
        partitions: Vec<String>,
    },
    /// A commit completed (or failed).
    Committed {
        consumer: String,
        offsets: Vec<(String, Offset)>,
        error: Option<String>,
    },
    /// A consumer method threw.
    ConsumerError {
        consumer: String,
        call: String,
        error: String,
    },
    /// The heartbeat thread left the group: `poll` was not called within `max.poll.interval.ms`.
    PollTimeout {
        consumer: String,
    },
    /// The consumer subscribed, closed, or crashed.
    Subscribed {
        consumer: String,
        topics: Vec<String>,
    },
    Closed {
        consumer: String,
    },
    Crashed {
        consumer: String,
    },
    /// A fault.
    Fault {
        what: String,
    },
    /// A line a consumer's script logged.
    ScriptLog {
        consumer: String,
        line: String,
    },
    /// The cluster's own event (leaders, ISR, brokers).
    Cluster {
        what: String,
    },
}

impl ActorEvent {
    pub const KINDS: &'static [&'static str] = &[
        "acknowledged",
        "send_failed",
        "transaction_ended",
        "consumed",
        "share_consumed",
        "share_acknowledged",
        "assigned",
        "revoked",
        "lost",
        "committed",
        "consumer_error",
        "poll_timeout",
        "subscribed",
        "closed",
        "crashed",
        "fault",
        "cluster",
    ];
}

impl EventInfo for ActorEvent {
    const KINDS: &'static [&'static str] = ActorEvent::KINDS;
    type Client = ();
    fn kind(&self) -> &'static str {
        match self {
            ActorEvent::Acknowledged { .. } => "acknowledged",
            ActorEvent::SendFailed { .. } => "send_failed",
            ActorEvent::TransactionEnded { .. } => "transaction_ended",
            ActorEvent::Consumed { .. } => "consumed",
            ActorEvent::ShareConsumed { .. } => "share_consumed",
            ActorEvent::ShareAcknowledged { .. } => "share_acknowledged",
            ActorEvent::Assigned { .. } => "assigned",
            ActorEvent::Revoked { .. } => "revoked",
            ActorEvent::Lost { .. } => "lost",
            ActorEvent::Committed { .. } => "committed",
            ActorEvent::ConsumerError { .. } => "consumer_error",
            ActorEvent::PollTimeout { .. } => "poll_timeout",
            ActorEvent::Subscribed { .. } => "subscribed",
            ActorEvent::Closed { .. } => "closed",
            ActorEvent::Crashed { .. } => "crashed",
            ActorEvent::Fault { .. } => "fault",
            ActorEvent::ScriptLog { .. } => "script_log",
            ActorEvent::Cluster { .. } => "cluster",
        }
    }
    fn client(&self) -> Option<()> {
        None
    }
    fn field_is(&self, name: &str, value: &str) -> bool {
        match (self, name) {
            (
                ActorEvent::Acknowledged { producer, .. } | ActorEvent::SendFailed { producer, .. },
                "producer",
            ) => producer == value,
            (
                ActorEvent::Acknowledged { partition, .. }
                | ActorEvent::Consumed { partition, .. }
                | ActorEvent::ShareConsumed { partition, .. }
                | ActorEvent::ShareAcknowledged { partition, .. },
                "partition",
            ) => partition == value,
            (
                ActorEvent::Acknowledged { key, .. }
                | ActorEvent::Consumed { key, .. }
                | ActorEvent::ShareConsumed { key, .. },
                "key",
            ) => key.as_deref() == Some(value),
            (ActorEvent::ShareAcknowledged { kind, .. }, "kind") => kind.eq_ignore_ascii_case(value),
            (
                ActorEvent::Consumed { consumer, .. }
                | ActorEvent::ShareConsumed { consumer, .. }
                | ActorEvent::ShareAcknowledged { consumer, .. }
                | ActorEvent::Assigned { consumer, .. }
                | ActorEvent::Revoked { consumer, .. }
                | ActorEvent::Lost { consumer, .. }
                | ActorEvent::Committed { consumer, .. }
                | ActorEvent::ConsumerError { consumer, .. }
                | ActorEvent::PollTimeout { consumer }
                | ActorEvent::Subscribed { consumer, .. }
                | ActorEvent::Closed { consumer }
                | ActorEvent::Crashed { consumer },
                "consumer",
            ) => consumer == value,
            _ => false,
        }
    }
}

fn quoted(v: &Option<String>) -> String {
    match v {
        Some(s) => format!("{s:?}"),
        None => "null".to_string(),
    }
}

impl fmt::Display for ActorEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActorEvent::Acknowledged { producer, seq, key, partition, offset } => {
                write!(f, "{producer} send #{seq} key={} -> {partition}@{offset}", quoted(key))
            }
            ActorEvent::SendFailed { producer, seq, error } => {
                write!(f, "{producer} send #{seq} failed: {error}")
            }
            ActorEvent::TransactionEnded { producer, committed } => {
                write!(f, "{producer} transaction {}", if *committed { "committed" } else { "aborted" })
            }
            ActorEvent::Consumed { consumer, partition, offset, key, value, .. } => {
                write!(f, "{consumer} <- {partition}@{offset} key={} value={}", quoted(key), quoted(value))
            }
            ActorEvent::ShareConsumed { consumer, partition, offset, key, value, delivery_count, .. } => {
                write!(
                    f,
                    "{consumer} <- {partition}@{offset} key={} value={} delivery={delivery_count}",
                    quoted(key),
                    quoted(value)
                )
            }
            ActorEvent::ShareAcknowledged { consumer, partition, offset, kind, error } => {
                write!(f, "{consumer} acknowledge {partition}@{offset} {kind}")?;
                if let Some(e) = error {
                    write!(f, " failed: {e}")?;
                }
                Ok(())
            }
            ActorEvent::Assigned { consumer, partitions } => {
                write!(f, "{consumer} onPartitionsAssigned [{}]", partitions.join(", "))
            }
            ActorEvent::Revoked { consumer, partitions } => {
                write!(f, "{consumer} onPartitionsRevoked [{}]", partitions.join(", "))
            }
            ActorEvent::Lost { consumer, partitions } => {
                write!(f, "{consumer} onPartitionsLost [{}]", partitions.join(", "))
            }
            ActorEvent::Committed { consumer, offsets, error } => {
                let list: Vec<String> = offsets.iter().map(|(tp, o)| format!("{tp}={o}")).collect();
                write!(f, "{consumer} committed {{{}}}", list.join(", "))?;
                if let Some(e) = error {
                    write!(f, " failed: {e}")?;
                }
                Ok(())
            }
            ActorEvent::ConsumerError { consumer, call, error } => {
                write!(f, "{consumer} {call} threw {error}")
            }
            ActorEvent::PollTimeout { consumer } => {
                write!(f, "{consumer} left the group: poll not called within max.poll.interval.ms")
            }
            ActorEvent::Subscribed { consumer, topics } => {
                write!(f, "{consumer} subscribe [{}]", topics.join(", "))
            }
            ActorEvent::Closed { consumer } => write!(f, "{consumer} close()"),
            ActorEvent::Crashed { consumer } => write!(f, "{consumer} crashed (no close, no leave)"),
            ActorEvent::Fault { what } => write!(f, "fault: {what}"),
            ActorEvent::ScriptLog { consumer, line } => write!(f, "{consumer} log: {line}"),
            ActorEvent::Cluster { what } => write!(f, "cluster: {what}"),
        }
    }
}

fn text(bytes: &Option<Vec<u8>>) -> Option<String> {
    bytes.as_ref().map(|b| String::from_utf8_lossy(b).into_owned())
}

fn names(list: &[TopicPartition]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// Key numbers drawn as the distribution says (cumulative weights for Zipf, `super::zipf`).
#[derive(Clone, Debug)]
enum KeyDraw {
    Uniform(u64),
    Hot { keys: u64, numerator: u64, denominator: u64 },
    Weighted(Vec<u128>),
    Sequence,
}

impl KeyDraw {
    fn new(d: &Option<KeyDistribution>) -> KeyDraw {
        match d {
            None | Some(KeyDistribution::Sequence) => KeyDraw::Sequence,
            Some(KeyDistribution::Uniform { keys }) => KeyDraw::Uniform(*keys),
            Some(KeyDistribution::Hot { keys, share }) => KeyDraw::Hot {
                keys: *keys,
                numerator: share.numerator,
                denominator: share.denominator.max(1),
            },
            Some(KeyDistribution::Zipf { keys, exponent }) => {
                KeyDraw::Weighted(super::zipf::cumulative_weights(*keys, *exponent))
            }
        }
    }

    fn draw(&self, prng: &mut Prng, seq: u64) -> u64 {
        match self {
            KeyDraw::Sequence => seq,
            KeyDraw::Uniform(n) => prng.below(*n),
            KeyDraw::Hot { keys, numerator, denominator } => {
                if *keys <= 1 || prng.chance(*numerator, *denominator) {
                    0
                } else {
                    1 + prng.below(keys - 1)
                }
            }
            KeyDraw::Weighted(cumulative) => {
                let total = *cumulative.last().expect("at least one key");
                // Two 64-bit draws make a 128-bit one; the modulo bias is below 2^-28 for these totals.
                let r = ((u128::from(prng.next_u64()) << 64) | u128::from(prng.next_u64())) % total;
                cumulative.partition_point(|c| *c <= r) as u64
            }
        }
    }
}

/// One record a producer sent: when, and what (a real broker's run sends the same records at the same
/// times: `real_broker::kafka_document`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SentRecord {
    pub at: VirtualTime,
    /// The producer's index in the document.
    pub producer: usize,
    pub seq: u64,
    pub key: Option<String>,
    pub value: String,
}

struct ProducerActor {
    spec: ProducerSpec,
    producer: Option<KafkaProducer>,
    pace: Pace,
    key: Option<Template<RecordVar>>,
    value: Template<RecordVar>,
    keys: KeyDraw,
    sent: u64,
    in_transaction: u64,
    pending: BTreeMap<SendId, (u64, Option<String>)>,
    acknowledged: u64,
    failed: u64,
    /// The client's latency (`latency`): records on their way to the producer's sender, outcomes on
    /// their way back, each in order.
    link: Link<()>,
    on_the_way: VecDeque<(VirtualTime, u64, Option<String>, ProducerRecord)>,
    /// With whether it counts as acknowledged (`Some(true)`) or failed (`Some(false)`).
    coming_back: VecDeque<(VirtualTime, ActorEvent, Option<bool>)>,
}

struct ConsumerActor {
    spec: ConsumerSpec,
    consumer: KafkaConsumer,
    running: bool,
    crashed: bool,
    processed_since_commit: u64,
    poll_timeout: u64,
    /// The script called `commit()` during the last poll's records.
    commit_requested: bool,
    /// The client's one-way latency (`latency`): a poll's fetch reaches the broker this much later, and
    /// its records reach the consumer this much after that.
    latency: u64,
}

/// A share consumer in its poll loop (explicit acknowledgement).
struct ShareActor {
    spec: ShareConsumerSpec,
    consumer: KafkaShareConsumer,
    running: bool,
    poll_timeout: u64,
    /// The last poll's records and how each is to be acknowledged once processed.
    processing: Vec<(ConsumerRecord, AcknowledgeType)>,
    /// Acknowledgements made, by type.
    acknowledged: BTreeMap<&'static str, u64>,
}

/// How a share consumer acknowledges a record delivered for the `delivery_count`-th time: a rule of the
/// record (its value, its send number), the same whichever member has it.
pub fn share_acknowledge_type(
    spec: &ShareAcknowledgeSpec,
    value: Option<&str>,
    origin: Option<&str>,
    delivery_count: i32,
) -> AcknowledgeType {
    if let (Some(p), Some(v)) = (&spec.poison, value) {
        if v.contains(p.as_str()) {
            return match spec.poison_action.unwrap_or(PoisonAction::Reject) {
                PoisonAction::Reject => AcknowledgeType::Reject,
                PoisonAction::Release => AcknowledgeType::Release,
            };
        }
    }
    let seq = origin.and_then(|o| o.rsplit_once('/')).and_then(|(_, s)| s.parse::<u64>().ok());
    match (spec.release_every, seq) {
        (Some(n), Some(seq)) if n > 0 && seq % n == 0 && delivery_count == 1 => AcknowledgeType::Release,
        _ => AcknowledgeType::Accept,
    }
}

/// `ACCEPT`, `RELEASE`, `REJECT`: the Java enum's names.
pub fn acknowledge_name(kind: AcknowledgeType) -> &'static str {
    match kind {
        AcknowledgeType::Accept => "ACCEPT",
        AcknowledgeType::Release => "RELEASE",
        AcknowledgeType::Reject => "REJECT",
    }
}

/// The delivery count at which a released record is archived (`group.share.delivery.count.limit`).
pub fn share_delivery_limit() -> i32 {
    ShareConfig::default().delivery_count_limit
}

struct CheckState {
    spec: CheckSpec,
    at: VirtualTime,
    result: CheckResult,
}

/// One run of a Kafka document.
pub struct KafkaRun {
    doc: KafkaDocument,
    /// The seed played (the document's, or the one the caller gave instead).
    seed: u64,
    clock: RunClock<Wake>,
    cluster: Cluster,
    coordinator: GroupCoordinator,
    mailbox: Mailbox,
    prng: Prng,
    producers: Vec<ProducerActor>,
    consumers: Vec<ConsumerActor>,
    /// Every share group's share-partitions.
    shares: SharePartitions,
    share_consumers: Vec<ShareActor>,
    events: Vec<(VirtualTime, ActorEvent)>,
    checks: Vec<CheckState>,
    failure: Option<String>,
    /// The consumers' scripts (none drawn from the seed when the document has no script).
    sandbox: Option<RecordSandbox>,
    /// Every record sent, in order.
    sends: Vec<SentRecord>,
    /// The consumer a learner drives by hand between two steps ([`hand`]), once made.
    hand: Option<hand::Hand>,
}

/// The consumers' script sandbox. The web page's build (`external-scripts`, set only by its trunk build)
/// has none: Rhai stays out of the Kafka page's download (issue 17, BENCHMARKS.md), and there a document
/// with scripts is refused. `NoSandbox` has no value, so every script call is compiled out with it.
#[cfg(not(feature = "external-scripts"))]
type RecordSandbox = Sandbox<RecordCall>;
#[cfg(feature = "external-scripts")]
type RecordSandbox = NoSandbox;

#[cfg(feature = "external-scripts")]
enum NoSandbox {}

#[cfg(feature = "external-scripts")]
impl NoSandbox {
    fn call<A>(
        &mut self,
        _: &str,
        _: &str,
        _: u64,
        _: &str,
        _: Vec<A>,
        _: RecordCall,
    ) -> Result<sim_kernel::script::CallOutput<RecordCall>, sim_kernel::script::ScriptError> {
        match *self {}
    }
}

#[cfg(not(feature = "external-scripts"))]
fn new_sandbox(doc: &KafkaDocument, prng: &mut Prng) -> Result<RecordSandbox, Problem> {
    let mut sandbox = Sandbox::new(ScriptLimits::default(), prng.next_u64(), &API);
    for (name, source) in &doc.scripts {
        sandbox.compile(name, source).map_err(|e| Problem::new(format!("scripts.{name}"), e.to_string()))?;
    }
    Ok(sandbox)
}

#[cfg(feature = "external-scripts")]
fn new_sandbox(_: &KafkaDocument, _: &mut Prng) -> Result<RecordSandbox, Problem> {
    Err(Problem::new(
        "scripts",
        "this page does not run consumers' scripts yet; the native runner (brokerlab run) does",
    ))
}

/// Options a caller may override.
#[derive(Clone, Debug, Default)]
pub struct KafkaRunOptions {
    pub seed: Option<u64>,
    pub max_firings_per_instant: Option<u64>,
}

impl KafkaRun {
    /// Parses a document and builds its run (topics created at 0). Errors carry `line:col`.
    pub fn from_json(text: &str, options: KafkaRunOptions) -> Result<KafkaRun, ScenarioError> {
        let text = sim_kernel::located::strip_bom(text);
        let doc = KafkaDocument::parse(text)?;
        KafkaRun::build(doc, options).map_err(|p| p.into_error(Some(text)))
    }

    fn build(doc: KafkaDocument, options: KafkaRunOptions) -> Result<KafkaRun, Problem> {
        let seed = options.seed.unwrap_or(doc.seed);
        let mut prng = Prng::new(seed);
        let mut settings = ClusterSettings::default();
        if let Some(m) = doc.cluster.replica_lag_time_max {
            settings.replica_lag_time_max_ms = m.0;
        }
        if let Some(m) = doc.cluster.log_retention_check_interval {
            settings.log_retention_check_interval_ms = m.0.max(1);
        }
        if let Some(m) = doc.cluster.broker_session_timeout {
            settings.broker_session_timeout_ms = m.0.max(1);
        }
        let mut cluster = Cluster::new(prng.next_u64(), settings);
        for id in 1..=doc.cluster.brokers {
            let rack = doc.cluster.racks.get(id as usize - 1).cloned();
            cluster.add_broker(NodeId(id), rack).map_err(|e| Problem::new("cluster", e.to_string()))?;
        }
        for (i, t) in doc.topics.iter().enumerate() {
            let mut new = if t.replica_assignment.is_empty() {
                NewTopic::new(t.name.clone(), t.partitions, t.replication_factor)
            } else {
                let assignment = t.replica_assignment.iter().enumerate();
                NewTopic::with_assignment(
                    t.name.clone(),
                    assignment.map(|(p, r)| (p as i32, r.iter().map(|&b| NodeId(b)).collect())).collect(),
                )
            };
            for (k, v) in &t.configs {
                new = new.config(k, v);
            }
            cluster
                .create_topic(VirtualTime::ZERO, &new)
                .map_err(|e| Problem::new(format!("topics[{i}]"), e.to_string()))?;
        }
        let mut coordinator_config = CoordinatorConfig::default();
        if let Some(name) = &doc.cluster.group_consumer_migration_policy {
            coordinator_config.migration_policy = MigrationPolicy::from_name(name).ok_or_else(|| {
                Problem::new(
                    "cluster.group_consumer_migration_policy",
                    // The broker's own ConfigException (kafka 4.1.1's GroupCoordinatorConfig).
                    format!(
                        "ConfigException: Invalid value {name} for configuration group.consumer.migration.policy: \
                         String must be one of (case insensitive): DISABLED, DOWNGRADE, UPGRADE, BIDIRECTIONAL"
                    ),
                )
            })?;
        }
        let coordinator = GroupCoordinator::new(coordinator_config, prng.next_u64());
        let end = VirtualTime::from_millis(doc.duration.0);
        let mut wakes = DeadlineQueue::new();
        let mut producers = Vec::new();
        for (i, p) in doc.producers.iter().enumerate() {
            let path = format!("producers[{i}]");
            let d = ProducerConfig::default();
            let config = ProducerConfig {
                acks: p.acks.map_or(d.acks, AcksSpec::acks),
                linger_ms: p.linger_ms.unwrap_or(d.linger_ms),
                batch_size: p.batch_size.unwrap_or(d.batch_size),
                retries: p.retries.unwrap_or(d.retries),
                delivery_timeout_ms: p.delivery_timeout_ms.unwrap_or(d.delivery_timeout_ms),
                request_timeout_ms: p.request_timeout_ms.unwrap_or(d.request_timeout_ms),
                max_in_flight_requests_per_connection: p
                    .max_in_flight
                    .unwrap_or(d.max_in_flight_requests_per_connection),
                enable_idempotence: p.idempotence,
                transactional_id: p.transactional.as_ref().map(|t| t.id.clone()),
                ..d
            };
            let producer = KafkaProducer::new(config, prng.next_u64())
                .map_err(|e| Problem::new(path.clone(), e.to_string()))?;
            let stop = p.stop.map_or(doc.duration.0, |s| s.0.min(doc.duration.0));
            let mut pace = match &p.bursts {
                Some(steps) => Pace::new(
                    steps.iter().map(|s| (s.rate.per_kilosecond, s.length.0)).collect(),
                    p.start.0,
                    Some(stop),
                ),
                None => Pace::constant(
                    p.rate.unwrap_or(sim_kernel::values::Rate::per_second(1)).per_kilosecond,
                    p.start.0,
                    Some(stop),
                ),
            };
            if let Some(first) = pace.next() {
                wakes.schedule(VirtualTime::from_millis(first), Wake::Send(i));
            }
            let compile = |t: &str| Template::<RecordVar>::compile(t, ()).expect("validated");
            producers.push(ProducerActor {
                spec: p.clone(),
                producer: Some(producer),
                pace,
                key: p.key.as_deref().map(compile),
                value: compile(p.value.as_deref().unwrap_or("{producer}-{seq}")),
                keys: KeyDraw::new(&p.keys),
                sent: 0,
                in_transaction: 0,
                pending: BTreeMap::new(),
                acknowledged: 0,
                failed: 0,
                link: Link::new(&p.name, p.latency, sim_kernel::values::Millis(0)),
                on_the_way: VecDeque::new(),
                coming_back: VecDeque::new(),
            });
        }
        let mut consumers = Vec::new();
        for (i, c) in doc.consumers.iter().enumerate() {
            let mut config = ConsumerConfig::new(&c.name, Some(&c.group));
            config.auto_offset_reset = match c.auto_offset_reset.as_deref() {
                Some("latest") => AutoOffsetReset::Latest,
                Some("none") => AutoOffsetReset::None,
                _ => AutoOffsetReset::Earliest,
            };
            match &c.commit {
                None => {}
                Some(CommitPolicy::Auto { interval }) => {
                    config.enable_auto_commit = true;
                    config.auto_commit_interval_ms = interval.0;
                }
                Some(_) => config.enable_auto_commit = false,
            }
            let protocol = doc.protocol(c).expect("validated");
            config.group_protocol = protocol;
            match (protocol, &c.assignor) {
                (GroupProtocol::Classic, Some(a)) => {
                    config.assignors = vec![ClientAssignor::from_name(a).expect("validated")]
                }
                (GroupProtocol::Consumer, a) => config.group_remote_assignor = a.clone(),
                _ => {}
            }
            if let Some(v) = c.max_poll_records {
                config.max_poll_records = v;
            }
            if let Some(v) = c.max_poll_interval {
                config.max_poll_interval_ms = v.0;
            }
            if let Some(v) = c.session_timeout {
                config.session_timeout_ms = v.0;
            }
            if let Some(v) = c.heartbeat_interval {
                config.heartbeat_interval_ms = v.0;
            }
            if c.read_committed {
                config.isolation_level = IsolationLevel::ReadCommitted;
            }
            config.group_instance_id = c.group_instance_id.clone();
            wakes.schedule(VirtualTime::from_millis(c.start.0), Wake::ConsumerStart(i));
            if let Some(stop) = c.stop {
                wakes.schedule(VirtualTime::from_millis(stop.0), Wake::ConsumerStop(i));
            }
            let mut consumer = KafkaConsumer::new(config, i as u64 + 1);
            consumer.set_commit_on_revoke(c.commit_on_revoke);
            consumers.push(ConsumerActor {
                spec: c.clone(),
                consumer,
                running: false,
                crashed: false,
                processed_since_commit: 0,
                poll_timeout: c.poll_timeout.map_or(100, |t| t.0),
                commit_requested: false,
                latency: c.latency.0,
            });
        }
        let mut shares = SharePartitions::new(ShareConfig::default());
        let mut share_consumers = Vec::new();
        for (i, c) in doc.share_consumers.iter().enumerate() {
            // Every share group of a document reads from the earliest offset unless it says otherwise.
            let spec = doc.share_groups.iter().find(|g| g.name == c.group);
            let earliest = spec.and_then(|g| g.auto_offset_reset.as_deref()) != Some("latest");
            let lock = spec.and_then(|g| g.record_lock_duration).map(|d| d.0);
            shares.set_group_config(&c.group, Some(earliest), lock);
            let mut consumer = KafkaShareConsumer::new(&c.group, &c.name, true);
            if let Some(n) = c.max_poll_records {
                consumer.set_max_poll_records(n);
            }
            wakes.schedule(VirtualTime::from_millis(c.start.0), Wake::ShareStart(i));
            if let Some(stop) = c.stop {
                wakes.schedule(VirtualTime::from_millis(stop.0), Wake::ShareStop(i));
            }
            share_consumers.push(ShareActor {
                spec: c.clone(),
                consumer,
                running: false,
                poll_timeout: c.poll_timeout.map_or(100, |t| t.0),
                processing: Vec::new(),
                acknowledged: BTreeMap::new(),
            });
        }
        for (i, f) in doc.faults.iter().enumerate() {
            wakes.schedule(VirtualTime::from_millis(f.at.0), Wake::Fault(i));
        }
        let checks = doc
            .checks
            .iter()
            .enumerate()
            .map(|(index, spec)| CheckState {
                spec: spec.clone(),
                at: spec.at.map_or(end, |a| VirtualTime::from_millis(a.0)),
                result: CheckResult {
                    index,
                    description: describe(spec),
                    status: CheckStatus::Pending,
                    observed: "-".to_string(),
                    reason: "its time has not come".to_string(),
                },
            })
            .collect();
        let sandbox = if doc.scripts.is_empty() { None } else { Some(new_sandbox(&doc, &mut prng)?) };
        let mut run = KafkaRun {
            doc,
            seed,
            clock: RunClock::new(
                end,
                options.max_firings_per_instant.unwrap_or(MAX_FIRINGS_PER_INSTANT),
                wakes,
            ),
            cluster,
            coordinator,
            mailbox: Mailbox::new(),
            prng,
            producers,
            consumers,
            shares,
            share_consumers,
            events: Vec::new(),
            checks,
            failure: None,
            sandbox,
            sends: Vec::new(),
            hand: None,
        };
        run.collect();
        Ok(run)
    }

    /// Plays the document to its end (or until it stops).
    pub fn run(&mut self) {
        let end = self.clock.end;
        runtime::run_until(self, end);
    }

    pub fn events(&self) -> &[(VirtualTime, ActorEvent)] {
        &self.events
    }

    pub fn check_results(&self) -> Vec<CheckResult> {
        self.checks.iter().map(|c| c.result.clone()).collect()
    }

    pub fn stopped(&self) -> Option<&StopInfo> {
        self.clock.stopped.as_ref()
    }

    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Plays the document up to `to` (at most its end), for a page that shows the run as it goes.
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

    /// The group coordinator (groups, members, committed offsets), for views.
    pub fn coordinator(&self) -> &GroupCoordinator {
        &self.coordinator
    }

    /// The cluster, for an operator's admin calls between two steps of the run (the Kafka page's forms:
    /// create a topic, delete records, produce by hand); the run's clients see the change from then on.
    pub fn cluster_mut(&mut self) -> &mut Cluster {
        &mut self.cluster
    }

    /// The group coordinator, for an operator's calls between two steps (`kafka-consumer-groups
    /// --reset-offsets` from the Kafka page).
    pub fn coordinator_mut(&mut self) -> &mut GroupCoordinator {
        &mut self.coordinator
    }

    /// The document played.
    pub fn document(&self) -> &KafkaDocument {
        &self.doc
    }

    /// Every record the producers sent, in order.
    pub fn sends(&self) -> &[SentRecord] {
        &self.sends
    }

    /// A group's committed offset of a partition.
    pub fn committed(&self, group: &str, tp: &TopicPartition) -> Option<Offset> {
        self.coordinator.offsets().committed_offset(group, tp)
    }

    /// A group's state as `kafka-consumer-groups --describe --state` prints it (`Dead` for none).
    pub fn group_state(&self, group: &str) -> String {
        match self.coordinator.group_state(group) {
            Some((s, _, _)) => s.to_string(),
            None => match self.coordinator.consumer_groups().group(group) {
                Some(cg) => cg.state().to_string(),
                None => "Dead".to_string(),
            },
        }
    }

    /// Each producer's acknowledged and failed sends.
    pub fn producer_counts(&self) -> Vec<(String, u64, u64)> {
        self.producers.iter().map(|p| (p.spec.name.clone(), p.acknowledged, p.failed)).collect()
    }

    fn push(&mut self, event: ActorEvent) {
        self.events.push((self.clock.now, event));
    }

    fn env_parts(&mut self) -> (&mut Vec<ConsumerActor>, ConsumerEnv<'_>) {
        (
            &mut self.consumers,
            ConsumerEnv {
                coordinator: &mut self.coordinator,
                mailbox: &mut self.mailbox,
                reader: &mut self.cluster,
            },
        )
    }

    fn send(&mut self, i: usize) {
        let now = self.clock.now;
        let p = &mut self.producers[i];
        if p.spec.count.is_some_and(|c| p.sent >= c) {
            return;
        }
        if p.producer.is_none() {
            return;
        }
        p.sent += 1;
        let seq = p.sent;
        let name = p.spec.name.clone();
        let number = p.keys.draw(&mut self.prng, seq);
        let render = |t: &Template<RecordVar>, prng: &mut Prng| {
            t.render(prng, |v, out| match v {
                RecordVar::Seq => out.push_str(&seq.to_string()),
                RecordVar::Key => out.push_str(&number.to_string()),
                RecordVar::Producer => out.push_str(&name),
            })
        };
        let key = p.key.as_ref().map(|t| render(t, &mut self.prng));
        let value = render(&p.value, &mut self.prng);
        self.sends.push(SentRecord { at: now, producer: i, seq, key: key.clone(), value: value.clone() });
        let mut headers: Vec<Header> = p
            .spec
            .headers
            .iter()
            .map(|(k, v)| Header { key: k.clone(), value: Some(v.clone().into_bytes()) })
            .collect();
        headers.push(Header {
            key: ORIGIN_HEADER.to_string(),
            value: Some(format!("{name}/{seq}").into_bytes()),
        });
        let record = ProducerRecord {
            topic: p.spec.topic.clone(),
            partition: p.spec.partition,
            timestamp: None,
            key: key.clone().map(String::into_bytes),
            value: Some(value.into_bytes()),
            headers,
        };
        let errors = if p.link.latency_millis == 0 {
            self.hand_over(i, seq, key, record)
        } else {
            let arrival = p.link.send_arrival(now);
            p.on_the_way.push_back((arrival, seq, key, record));
            self.clock.wakes.schedule(arrival, Wake::Deliver(i));
            Vec::new()
        };
        let p = &mut self.producers[i];
        let next = if p.spec.count.is_some_and(|c| p.sent >= c) { None } else { p.pace.next() };
        if let Some(next) = next {
            self.clock.wakes.schedule(VirtualTime::from_millis(next), Wake::Send(i));
        }
        for (seq, error) in errors {
            self.push(ActorEvent::SendFailed { producer: name.clone(), seq, error });
        }
    }

    /// The records of producer `i` whose latency has passed reach its `KafkaProducer`.
    fn deliver(&mut self, i: usize) {
        let name = self.producers[i].spec.name.clone();
        while let Some((at, ..)) = self.producers[i].on_the_way.front() {
            if *at > self.clock.now {
                break;
            }
            let (_, seq, key, record) = self.producers[i].on_the_way.pop_front().expect("a front");
            for (seq, error) in self.hand_over(i, seq, key, record) {
                self.notice(i, ActorEvent::SendFailed { producer: name.clone(), seq, error }, None);
            }
        }
    }

    /// `send(record)` on producer `i`'s `KafkaProducer`, inside a transaction when it is transactional
    /// (`initTransactions` before the first, a commit every `commit_every`); returns the calls that threw.
    fn hand_over(
        &mut self,
        i: usize,
        seq: u64,
        key: Option<String>,
        record: ProducerRecord,
    ) -> Vec<(u64, String)> {
        let now = self.clock.now;
        let p = &mut self.producers[i];
        let Some(producer) = p.producer.as_mut() else { return Vec::new() };
        let mut errors = Vec::new();
        if p.spec.transactional.is_some() {
            if seq == 1 {
                if let Err(e) = producer.init_transactions(&mut self.cluster, now) {
                    errors.push((0, format!("initTransactions threw {e}")));
                }
            }
            if p.in_transaction == 0 {
                if let Err(e) = producer.begin_transaction() {
                    errors.push((seq, format!("beginTransaction threw {e}")));
                }
            }
        }
        match producer.send(&mut self.cluster, now, record) {
            Ok(id) => {
                p.pending.insert(id, (seq, key));
            }
            Err(e) => {
                p.failed += 1;
                errors.push((seq, e.to_string()));
            }
        }
        if let Some(t) = &p.spec.transactional {
            p.in_transaction += 1;
            if p.in_transaction >= t.commit_every {
                p.in_transaction = 0;
                if let Err(e) = producer.commit_transaction(&mut self.cluster, now) {
                    errors.push((seq, format!("commitTransaction threw {e}")));
                }
            }
        }
        errors
    }

    /// What producer `i` learns now (`counts`: an acknowledgment or a failure to count): at once without a
    /// latency, else after it, in order.
    fn notice(&mut self, i: usize, event: ActorEvent, counts: Option<bool>) {
        let p = &mut self.producers[i];
        if p.link.latency_millis == 0 {
            self.learn(i, event, counts);
            return;
        }
        let at = p.link.receive_arrival(self.clock.now);
        p.coming_back.push_back((at, event, counts));
        self.clock.wakes.schedule(at, Wake::Notice(i));
    }

    /// Producer `i`'s outcomes whose latency has passed: its callbacks run.
    fn noticed(&mut self, i: usize) {
        while let Some((at, ..)) = self.producers[i].coming_back.front() {
            if *at > self.clock.now {
                break;
            }
            let (_, event, counts) = self.producers[i].coming_back.pop_front().expect("a front");
            self.learn(i, event, counts);
        }
    }

    fn learn(&mut self, i: usize, event: ActorEvent, counts: Option<bool>) {
        match counts {
            Some(true) => self.producers[i].acknowledged += 1,
            Some(false) => self.producers[i].failed += 1,
            None => {}
        }
        self.push(event);
    }

    fn start_consumer(&mut self, i: usize) {
        let c = &mut self.consumers[i];
        let topics: Vec<&str> = c.spec.topics.iter().map(String::as_str).collect();
        let name = c.spec.name.clone();
        match c.consumer.subscribe(&topics) {
            Ok(()) => {
                c.running = true;
                let topics = c.spec.topics.clone();
                self.push(ActorEvent::Subscribed { consumer: name, topics });
                self.clock.wakes.schedule(self.clock.now, Wake::Poll(i));
            }
            Err(e) => self.push(ActorEvent::ConsumerError {
                consumer: name,
                call: "subscribe".into(),
                error: e.to_string(),
            }),
        }
    }

    fn poll(&mut self, i: usize) {
        let now = self.clock.now;
        let mut env = ConsumerEnv {
            coordinator: &mut self.coordinator,
            mailbox: &mut self.mailbox,
            reader: &mut self.cluster,
        };
        let c = &mut self.consumers[i];
        if !c.running {
            return;
        }
        let name = c.spec.name.clone();
        let result = c.consumer.poll(now, c.poll_timeout, &mut env);
        let mut out = Vec::new();
        let next = match result {
            Ok(r) if r.records.is_empty() => {
                let wait = r.wait_until.unwrap_or(now.plus_millis(c.poll_timeout));
                // The next poll's fetch reaches the broker one latency after it is made.
                Wake::Poll(i).at(wait
                    .min(now.plus_millis(c.poll_timeout))
                    .max(now.plus_millis(1))
                    .plus_millis(c.latency))
            }
            Ok(r) => {
                // The records reach the consumer one latency after the fetch.
                let mut t = now.as_millis() + c.latency;
                let mut crash = false;
                for rec in &r.records {
                    out.push(consumed(&name, rec));
                    c.processed_since_commit += 1;
                    let mut asked = None;
                    if let (Some(script), Some(sandbox)) = (&c.spec.script, self.sandbox.as_mut()) {
                        let headers: Vec<(String, Option<String>)> =
                            rec.headers.iter().map(|h| (h.key.clone(), text(&h.value))).collect();
                        let record = record_map(
                            &rec.partition.topic,
                            rec.partition.partition,
                            rec.offset,
                            rec.timestamp,
                            text(&rec.key),
                            text(&rec.value),
                            &headers,
                        );
                        match sandbox.call(script, &name, t, ON_RECORD, vec![record], RecordCall::default()) {
                            Ok(o) => {
                                for line in o.logs {
                                    out.push(ActorEvent::ScriptLog { consumer: name.clone(), line });
                                }
                                asked = o.processing_millis;
                                c.commit_requested |= o.model.commit;
                                crash = o.model.crash;
                            }
                            Err(e) => {
                                self.failure = Some(format!("{name}: {e}"));
                                break;
                            }
                        }
                    }
                    t = t.saturating_add(asked.unwrap_or_else(|| c.spec.processing.draw(&mut self.prng)));
                    if crash {
                        break;
                    }
                }
                if crash {
                    c.running = false;
                    c.crashed = true;
                    out.push(ActorEvent::Crashed { consumer: name.clone() });
                    self.take_consumer_events(i);
                    for e in out {
                        self.push(e);
                    }
                    return;
                }
                t = t.saturating_add(c.spec.poll_overhead.0);
                Wake::Processed(i).at(VirtualTime::from_millis(t))
            }
            Err(e) => {
                out.push(ActorEvent::ConsumerError {
                    consumer: name,
                    call: "poll".into(),
                    error: e.to_string(),
                });
                Wake::Poll(i).at(now.plus_millis(c.poll_timeout))
            }
        };
        // The rebalance listener runs inside poll, before its records are returned (as in the Java client).
        self.take_consumer_events(i);
        for e in out {
            self.push(e);
        }
        self.clock.wakes.schedule(next.0, next.1);
    }

    fn processed(&mut self, i: usize) {
        let now = self.clock.now;
        let (consumers, mut env) = self.env_parts();
        let c = &mut consumers[i];
        if !c.running {
            return;
        }
        let name = c.spec.name.clone();
        let mut out = Vec::new();
        let requested = std::mem::take(&mut c.commit_requested);
        match c.spec.commit {
            // A script's `commit()`, or the sync policy's count reached: `commitSync()`.
            _ if requested
                || matches!(c.spec.commit, Some(CommitPolicy::Sync { every }) if c.processed_since_commit >= every) =>
            {
                c.processed_since_commit = 0;
                let offsets = positions(&mut c.consumer, &mut env);
                match c.consumer.commit_sync(now, None, &mut env) {
                    Ok(()) => out.push(ActorEvent::Committed { consumer: name, offsets, error: None }),
                    Err(e) => out.push(ActorEvent::ConsumerError {
                        consumer: name,
                        call: "commitSync".into(),
                        error: e.to_string(),
                    }),
                }
            }
            Some(CommitPolicy::Async) => {
                c.processed_since_commit = 0;
                if let Err(e) = c.consumer.commit_async(now, &mut env) {
                    out.push(ActorEvent::ConsumerError {
                        consumer: name,
                        call: "commitAsync".into(),
                        error: e.to_string(),
                    });
                }
            }
            _ => {}
        }
        let latency = self.consumers[i].latency;
        for e in out {
            self.push(e);
        }
        self.clock.wakes.schedule(now.plus_millis(latency), Wake::Poll(i));
    }

    fn start_share(&mut self, i: usize) {
        let c = &mut self.share_consumers[i];
        let topics: Vec<&str> = c.spec.topics.iter().map(String::as_str).collect();
        c.consumer.subscribe(&topics);
        c.running = true;
        let event = ActorEvent::Subscribed { consumer: c.spec.name.clone(), topics: c.spec.topics.clone() };
        self.push(event);
        self.clock.wakes.schedule(self.clock.now, Wake::SharePoll(i));
    }

    fn share_poll(&mut self, i: usize) {
        let now = self.clock.now;
        let c = &mut self.share_consumers[i];
        if !c.running {
            return;
        }
        let name = c.spec.name.clone();
        let mut out = Vec::new();
        let next = match c.consumer.poll(now, &mut self.shares, &mut self.cluster) {
            Ok(records) if records.is_empty() => Wake::SharePoll(i).at(now.plus_millis(c.poll_timeout)),
            Ok(records) => {
                let mut t = now.as_millis();
                for r in records {
                    let event = consumed(&name, &r.record);
                    let ActorEvent::Consumed { partition, offset, key, value, origin, .. } = event else {
                        unreachable!("consumed() makes a Consumed")
                    };
                    let kind = share_acknowledge_type(
                        &c.spec.acknowledge,
                        value.as_deref(),
                        origin.as_deref(),
                        r.delivery_count,
                    );
                    out.push(ActorEvent::ShareConsumed {
                        consumer: name.clone(),
                        partition,
                        offset,
                        key,
                        value,
                        origin,
                        delivery_count: r.delivery_count,
                    });
                    c.processing.push((r.record, kind));
                    t = t.saturating_add(c.spec.processing.draw(&mut self.prng));
                }
                Wake::ShareProcessed(i).at(VirtualTime::from_millis(t))
            }
            Err(e) => {
                out.push(ActorEvent::ConsumerError {
                    consumer: name,
                    call: "poll".into(),
                    error: e.to_string(),
                });
                Wake::SharePoll(i).at(now.plus_millis(c.poll_timeout))
            }
        };
        for e in out {
            self.push(e);
        }
        self.clock.wakes.schedule(next.0, next.1);
    }

    /// The poll's records are processed: each acknowledged, then `commitSync()` (its per-record errors
    /// shown on the acknowledgements), then the next poll.
    fn share_processed(&mut self, i: usize) {
        let now = self.clock.now;
        let c = &mut self.share_consumers[i];
        if !c.running {
            return;
        }
        let name = c.spec.name.clone();
        let mut out = Vec::new();
        for (record, kind) in std::mem::take(&mut c.processing) {
            let result = c.consumer.acknowledge(now, &record, kind, &mut self.shares);
            *c.acknowledged.entry(acknowledge_name(kind)).or_default() += 1;
            out.push(ActorEvent::ShareAcknowledged {
                consumer: name.clone(),
                partition: record.partition.to_string(),
                offset: record.offset,
                kind: acknowledge_name(kind).to_string(),
                error: result.err().map(|e| e.to_string()),
            });
        }
        for e in out {
            self.push(e);
        }
        self.clock.wakes.schedule(now, Wake::SharePoll(i));
    }

    fn stop_share(&mut self, i: usize) {
        let now = self.clock.now;
        let c = &mut self.share_consumers[i];
        if !c.running {
            return;
        }
        c.running = false;
        c.processing.clear();
        c.consumer.close(now, &mut self.shares);
        let name = c.spec.name.clone();
        self.push(ActorEvent::Closed { consumer: name });
    }

    /// What share consumer `name` holds acquired now, over every share-partition of its group.
    fn acquired_by(&self, name: &str) -> u64 {
        let Some(c) = self.share_consumers.iter().find(|c| c.spec.name == name) else { return 0 };
        let mut n = 0;
        for t in &c.spec.topics {
            for tp in self.partitions(t) {
                if let Some(p) = self.shares.partition(&c.spec.group, &tp) {
                    n += p.acquired_by().iter().filter(|(_, m)| m == name).count() as u64;
                }
            }
        }
        n
    }

    /// The share group's share-partitions, for views: (partition, start offset, in-flight records).
    pub fn share_partitions(&self, group: &str) -> Vec<(TopicPartition, Option<Offset>, usize)> {
        let mut topics: BTreeSet<&String> = BTreeSet::new();
        for c in self.share_consumers.iter().filter(|c| c.spec.group == group) {
            topics.extend(c.spec.topics.iter());
        }
        let mut out = Vec::new();
        for t in topics {
            for tp in self.partitions(t) {
                if let Some(p) = self.shares.partition(group, &tp) {
                    out.push((tp, p.start_offset(), p.in_flight_count()));
                }
            }
        }
        out
    }

    /// The share groups' members, for views: (group, member, polling now), in document order.
    pub fn share_members(&self) -> Vec<(String, String, bool)> {
        self.share_consumers.iter().map(|c| (c.spec.group.clone(), c.spec.name.clone(), c.running)).collect()
    }

    /// A share group's share-partition (SPSO, in-flight records), for views.
    pub fn share_partition(
        &self,
        group: &str,
        tp: &TopicPartition,
    ) -> Option<&crate::kafka::share::SharePartition> {
        self.shares.partition(group, tp)
    }

    /// A share group's settings (delivery limit, lock duration), for views.
    pub fn share_config(&self, group: &str) -> ShareConfig {
        self.shares.group_config(group)
    }

    fn stop_consumer(&mut self, i: usize) {
        let now = self.clock.now;
        let (consumers, mut env) = self.env_parts();
        let c = &mut consumers[i];
        if !c.running {
            return;
        }
        c.consumer.close(now, &mut env);
        c.running = false;
        let name = c.spec.name.clone();
        self.take_consumer_events(i);
        self.push(ActorEvent::Closed { consumer: name });
    }

    fn fault(&mut self, i: usize) {
        let now = self.clock.now;
        let f = self.doc.faults[i].clone();
        let what = if let Some(b) = f.broker_down {
            match self.cluster.broker_down(now, NodeId(b)) {
                Ok(()) => format!("broker {b} down"),
                Err(e) => format!("broker {b} down refused: {e}"),
            }
        } else if let Some(b) = f.broker_up {
            match self.cluster.broker_up(now, NodeId(b)) {
                Ok(()) => format!("broker {b} up"),
                Err(e) => format!("broker {b} up refused: {e}"),
            }
        } else if let Some(b) = f.broker_pause {
            match self.cluster.broker_pause(now, NodeId(b)) {
                Ok(()) => format!("broker {b} paused"),
                Err(e) => format!("broker {b} pause refused: {e}"),
            }
        } else if let Some(b) = f.broker_resume {
            match self.cluster.broker_resume(now, NodeId(b)) {
                Ok(()) => format!("broker {b} resumed"),
                Err(e) => format!("broker {b} resume refused: {e}"),
            }
        } else if let Some(s) = &f.slow_follower {
            self.cluster.set_follower_delay(now, NodeId(s.broker), s.delay.0);
            format!("broker {}'s followers fetch {} later", s.broker, s.delay)
        } else if let Some(name) = &f.consumer_crash {
            if let Some(c) = self.share_consumers.iter_mut().find(|c| &c.spec.name == name) {
                // No close: what it holds stays acquired until the locks expire.
                if c.running {
                    c.running = false;
                    c.processing.clear();
                    self.push(ActorEvent::Crashed { consumer: name.clone() });
                }
                return;
            }
            let Some(c) = self.consumers.iter_mut().find(|c| &c.spec.name == name) else { return };
            if c.running {
                c.running = false;
                c.crashed = true;
                let consumer = name.clone();
                self.push(ActorEvent::Crashed { consumer });
            }
            return;
        } else {
            return;
        };
        self.push(ActorEvent::Fault { what });
    }

    fn take_consumer_events(&mut self, i: usize) {
        let c = &mut self.consumers[i];
        let name = c.spec.name.clone();
        let events = c.consumer.take_events();
        for event in actor_events(&name, events) {
            self.push(event);
        }
    }

    fn settle(&mut self, i: usize) {
        let spec = self.checks[i].spec.clone();
        let (observed, pass, reason) = self.evaluate(&spec);
        let r = &mut self.checks[i].result;
        r.observed = observed;
        r.status = if pass { CheckStatus::Pass } else { CheckStatus::Fail };
        r.reason = if pass { String::new() } else { reason };
    }

    /// The reads of a group or a consumer, in the order they happened.
    fn reads(&self, reader: &Reader) -> Vec<(&String, Offset, &Option<String>, &Option<String>)> {
        let members: BTreeSet<&str> = self
            .consumers
            .iter()
            .filter(|c| {
                reader.group.as_ref() == Some(&c.spec.group) || reader.consumer.as_ref() == Some(&c.spec.name)
            })
            .map(|c| c.spec.name.as_str())
            .chain(
                self.share_consumers
                    .iter()
                    .filter(|c| {
                        reader.group.as_ref() == Some(&c.spec.group)
                            || reader.consumer.as_ref() == Some(&c.spec.name)
                    })
                    .map(|c| c.spec.name.as_str()),
            )
            .collect();
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                ActorEvent::Consumed { consumer, partition, offset, key, origin, .. }
                | ActorEvent::ShareConsumed { consumer, partition, offset, key, origin, .. }
                    if members.contains(consumer.as_str()) =>
                {
                    Some((partition, *offset, key, origin))
                }
                _ => None,
            })
            .collect()
    }

    fn partitions(&self, topic: &str) -> Vec<TopicPartition> {
        let n = self.cluster.partition_count(topic).unwrap_or(0);
        (0..n).map(|p| TopicPartition::new(topic, p)).collect()
    }

    fn evaluate(&self, spec: &CheckSpec) -> (String, bool, String) {
        let count = |n: u64| -> (String, bool, String) {
            let expect = spec.expect.expect("validated");
            (n.to_string(), expect.holds(n), format!("expected {expect}"))
        };
        if let Some(x) = &spec.lag {
            let mut lag = 0u64;
            for tp in self.partitions(&x.topic) {
                let Some(state) = self.cluster.partition(&tp) else { continue };
                let end = state.log.log_end_offset();
                let from = self
                    .coordinator
                    .offsets()
                    .committed_offset(&x.group, &tp)
                    .unwrap_or(state.log.log_start_offset());
                lag += u64::try_from(end - from).unwrap_or(0);
            }
            return count(lag);
        }
        if let Some(x) = &spec.committed {
            let tp = TopicPartition::new(x.topic.clone(), x.partition);
            let c = self.coordinator.offsets().committed_offset(&x.group, &tp);
            let expect = spec.expect.expect("validated");
            return match c {
                Some(o) => (o.to_string(), o >= 0 && expect.holds(o as u64), format!("expected {expect}")),
                None => ("none".to_string(), false, format!("expected {expect}; nothing committed")),
            };
        }
        if let Some(x) = &spec.records {
            let list = match x.partition {
                Some(p) => vec![TopicPartition::new(x.topic.clone(), p)],
                None => self.partitions(&x.topic),
            };
            let n: i64 = list
                .iter()
                .filter_map(|tp| self.cluster.partition(tp))
                .map(|s| s.log.high_watermark() - s.log.log_start_offset())
                .sum();
            return count(n.max(0) as u64);
        }
        if let Some(r) = &spec.consumed {
            return count(self.reads(r).len() as u64);
        }
        if let Some(r) = &spec.duplicates {
            let mut seen = BTreeSet::new();
            let dups = self
                .reads(r)
                .iter()
                .filter(|(_, _, _, origin)| origin.is_some() && !seen.insert(*origin))
                .count();
            return count(dups as u64);
        }
        if let Some(r) = &spec.key_order {
            // Per partition and key, each producer's records sorted by offset must have rising sequence numbers.
            let mut by: BTreeMap<(String, String, String), BTreeMap<Offset, u64>> = BTreeMap::new();
            for (partition, offset, key, origin) in self.reads(r) {
                let (Some(key), Some(origin)) = (key, origin) else { continue };
                let Some((producer, seq)) = origin.rsplit_once('/') else { continue };
                let seq: u64 = seq.parse().unwrap_or(0);
                by.entry((partition.clone(), key.clone(), producer.to_string()))
                    .or_default()
                    .insert(offset, seq);
            }
            for ((partition, key, producer), offsets) in &by {
                let mut last: Option<(Offset, u64)> = None;
                for (offset, seq) in offsets {
                    if let Some((lo, ls)) = last {
                        if *seq <= ls {
                            return (
                                "out of order".to_string(),
                                false,
                                format!("key {key:?} from {producer} in {partition}: send #{ls} at offset {lo}, send #{seq} at offset {offset}"),
                            );
                        }
                    }
                    last = Some((*offset, *seq));
                }
            }
            return (format!("in order ({} keys)", by.len()), true, String::new());
        }
        if let Some(a) = &spec.assignment {
            let c = self.consumers.iter().find(|c| c.spec.name == a.consumer).expect("validated");
            let held = if c.running { names(&c.consumer.assignment()) } else { Vec::new() };
            let mut want = a.partitions.clone();
            want.sort();
            let mut got = held.clone();
            got.sort();
            let observed = format!("[{}]", held.join(", "));
            return (observed, got == want, format!("expected [{}]", a.partitions.join(", ")));
        }
        if let Some(g) = &spec.group_state {
            let state = self.group_state(&g.group);
            let pass = state.eq_ignore_ascii_case(&g.state);
            return (state, pass, format!("expected {}", g.state));
        }
        if let Some(p) = &spec.acknowledged {
            let a = self.producers.iter().find(|a| a.spec.name == p.producer).expect("validated");
            return count(a.acknowledged);
        }
        if let Some(p) = &spec.failed {
            let a = self.producers.iter().find(|a| a.spec.name == p.producer).expect("validated");
            return count(a.failed);
        }
        let share_members = |group: &Option<String>, consumer: &Option<String>| -> BTreeSet<&str> {
            self.share_consumers
                .iter()
                .filter(|c| group.as_ref() == Some(&c.spec.group) || consumer.as_ref() == Some(&c.spec.name))
                .map(|c| c.spec.name.as_str())
                .collect()
        };
        if let Some(r) = &spec.delivery_count {
            let members = share_members(&r.group, &r.consumer);
            let highest = self
                .events
                .iter()
                .filter_map(|(_, e)| match e {
                    ActorEvent::ShareConsumed { consumer, delivery_count, .. }
                        if members.contains(consumer.as_str()) =>
                    {
                        Some(*delivery_count as u64)
                    }
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            return count(highest);
        }
        if let Some(a) = &spec.share_acknowledgements {
            let members = share_members(&a.group, &a.consumer);
            let want = acknowledge_name(match a.kind {
                AcknowledgeKind::Accept => AcknowledgeType::Accept,
                AcknowledgeKind::Release => AcknowledgeType::Release,
                AcknowledgeKind::Reject => AcknowledgeType::Reject,
            });
            let n: u64 = self
                .share_consumers
                .iter()
                .filter(|c| members.contains(c.spec.name.as_str()))
                .map(|c| c.acknowledged.get(want).copied().unwrap_or(0))
                .sum();
            return count(n);
        }
        if let Some(a) = &spec.acquired {
            return count(self.acquired_by(&a.consumer));
        }
        if let Some(r) = &spec.archived {
            let members = share_members(&r.group, &r.consumer);
            let limit = share_delivery_limit();
            // The acknowledgements that archive: a REJECT, or a RELEASE of a record on its last delivery.
            let mut last: BTreeMap<(&String, Offset), i32> = BTreeMap::new();
            let mut archived = 0;
            for (_, e) in &self.events {
                match e {
                    ActorEvent::ShareConsumed { consumer, partition, offset, delivery_count, .. }
                        if members.contains(consumer.as_str()) =>
                    {
                        last.insert((partition, *offset), *delivery_count);
                    }
                    ActorEvent::ShareAcknowledged { consumer, partition, offset, kind, error: None }
                        if members.contains(consumer.as_str()) =>
                    {
                        let at_limit = last.get(&(partition, *offset)).is_some_and(|d| *d >= limit);
                        if kind == "REJECT" || (kind == "RELEASE" && at_limit) {
                            archived += 1;
                        }
                    }
                    _ => {}
                }
            }
            return count(archived);
        }
        ("-".to_string(), false, "no check".to_string())
    }

    /// The transcript: one line per event, the end, the partitions, the groups' lag, the checks.
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
        for t in &self.doc.topics {
            for tp in self.partitions(&t.name) {
                let Some(s) = self.cluster.partition(&tp) else { continue };
                let leader = s.leader.map_or("none".to_string(), |l| l.0.to_string());
                let isr: Vec<String> = s.isr.iter().map(|n| n.0.to_string()).collect();
                out.push_str(&format!(
                    "{at} partition {tp} leader={leader} isr=[{}] log-start={} high-watermark={} log-end={}\n",
                    isr.join(","),
                    s.log.log_start_offset(),
                    s.log.high_watermark(),
                    s.log.log_end_offset()
                ));
            }
        }
        let groups: BTreeSet<&String> = self.consumers.iter().map(|c| &c.spec.group).collect();
        for g in groups {
            for row in crate::kafka::consumer::describe_group_offsets(g, &self.coordinator, &self.cluster) {
                let show = |v: Option<i64>| v.map_or("-".to_string(), |v| v.to_string());
                out.push_str(&format!(
                    "{at} group {g} {}-{} current-offset={} log-end-offset={} lag={} client-id={}\n",
                    row.topic,
                    row.partition,
                    show(row.current_offset),
                    show(row.log_end_offset),
                    show(row.lag),
                    row.client_id.as_deref().unwrap_or("-")
                ));
            }
        }
        let share_groups: BTreeSet<&String> = self.share_consumers.iter().map(|c| &c.spec.group).collect();
        for g in share_groups {
            for (tp, start, in_flight) in self.share_partitions(g) {
                let start = start.map_or("-".to_string(), |s| s.to_string());
                out.push_str(&format!(
                    "{at} share-group {g} {tp} start-offset={start} in-flight={in_flight}\n"
                ));
            }
        }
        for c in &self.share_consumers {
            let n = |k: &str| c.acknowledged.get(k).copied().unwrap_or(0);
            out.push_str(&format!(
                "{at} share-consumer {} accepted={} released={} rejected={}\n",
                c.spec.name,
                n("ACCEPT"),
                n("RELEASE"),
                n("REJECT")
            ));
        }
        for p in &self.producers {
            out.push_str(&format!(
                "{at} producer {} sent={} acknowledged={} failed={}\n",
                p.spec.name, p.sent, p.acknowledged, p.failed
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
            "kafka",
            self.seed,
            self.clock.now,
            self.clock.stopped.as_ref(),
            self.events.iter().map(|(at, e)| (*at, e)),
            self.check_results(),
        )
    }
}

trait At {
    fn at(self, t: VirtualTime) -> (VirtualTime, Wake);
}

impl At for Wake {
    fn at(self, t: VirtualTime) -> (VirtualTime, Wake) {
        (t, self)
    }
}

/// A consumer's callbacks and commit results, as the events the run shows.
fn actor_events(name: &str, events: Vec<ConsumerEvent>) -> Vec<ActorEvent> {
    events
        .into_iter()
        .filter_map(|e| {
            Some(match e {
                ConsumerEvent::PartitionsAssigned(list) => {
                    ActorEvent::Assigned { consumer: name.to_string(), partitions: names(&list) }
                }
                ConsumerEvent::PartitionsRevoked(list) => {
                    ActorEvent::Revoked { consumer: name.to_string(), partitions: names(&list) }
                }
                ConsumerEvent::PartitionsLost(list) => {
                    ActorEvent::Lost { consumer: name.to_string(), partitions: names(&list) }
                }
                ConsumerEvent::PositionReset { .. } => return None,
                ConsumerEvent::CommitCompleted { offsets, error } => ActorEvent::Committed {
                    consumer: name.to_string(),
                    offsets: offsets.iter().map(|(tp, o)| (tp.to_string(), *o)).collect(),
                    error,
                },
                ConsumerEvent::PollTimeoutExpired => ActorEvent::PollTimeout { consumer: name.to_string() },
            })
        })
        .collect()
}

fn consumed(name: &str, rec: &ConsumerRecord) -> ActorEvent {
    let origin = rec.headers.iter().find(|h| h.key == ORIGIN_HEADER).and_then(|h| text(&h.value));
    ActorEvent::Consumed {
        consumer: name.to_string(),
        partition: rec.partition.to_string(),
        offset: rec.offset,
        key: text(&rec.key),
        value: text(&rec.value),
        origin,
    }
}

/// A consumer's positions, as `commitSync()` commits them.
fn positions(consumer: &mut KafkaConsumer, env: &mut ConsumerEnv<'_>) -> Vec<(String, Offset)> {
    consumer
        .assignment()
        .into_iter()
        .filter_map(|tp| consumer.position(&tp, env).ok().map(|o| (tp.to_string(), o)))
        .collect()
}

fn describe(spec: &CheckSpec) -> String {
    if let Some(d) = &spec.description {
        return d.clone();
    }
    let at = spec.at.map_or("at the end".to_string(), |a| format!("at {}", VirtualTime::from_millis(a.0)));
    let expect = spec.expect.map(|e| format!(" {e}")).unwrap_or_default();
    let what = if let Some(x) = &spec.lag {
        format!("lag of {} on {}", x.group, x.topic)
    } else if let Some(x) = &spec.committed {
        format!("committed offset of {} on {}-{}", x.group, x.topic, x.partition)
    } else if let Some(x) = &spec.records {
        match x.partition {
            Some(p) => format!("records in {}-{p}", x.topic),
            None => format!("records in {}", x.topic),
        }
    } else if let Some(r) = &spec.consumed {
        format!("records consumed by {}", reader_name(r))
    } else if let Some(r) = &spec.duplicates {
        format!("duplicates seen by {}", reader_name(r))
    } else if let Some(r) = &spec.key_order {
        format!("per-key order seen by {}", reader_name(r))
    } else if let Some(a) = &spec.assignment {
        format!("assignment of {} is [{}]", a.consumer, a.partitions.join(", "))
    } else if let Some(g) = &spec.group_state {
        format!("group {} is {}", g.group, g.state)
    } else if let Some(p) = &spec.acknowledged {
        format!("records acknowledged to {}", p.producer)
    } else if let Some(p) = &spec.failed {
        format!("records failed for {}", p.producer)
    } else if let Some(r) = &spec.delivery_count {
        format!("highest delivery count seen by {}", reader_name(r))
    } else if let Some(a) = &spec.share_acknowledgements {
        let r = Reader { group: a.group.clone(), consumer: a.consumer.clone() };
        let kind = serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_uppercase));
        format!("{} acknowledgements by {}", kind.unwrap_or_default(), reader_name(&r))
    } else if let Some(a) = &spec.acquired {
        format!("records {} holds acquired", a.consumer)
    } else if let Some(r) = &spec.archived {
        format!("records archived by {}", reader_name(r))
    } else {
        String::new()
    };
    format!("{at} {what}{expect}")
}

fn reader_name(r: &Reader) -> String {
    match (&r.group, &r.consumer) {
        (Some(g), _) => format!("group {g}"),
        (_, Some(c)) => c.clone(),
        _ => String::new(),
    }
}

impl Run for KafkaRun {
    type Wake = Wake;

    fn clock(&self) -> &RunClock<Wake> {
        &self.clock
    }
    fn clock_mut(&mut self) -> &mut RunClock<Wake> {
        &mut self.clock
    }
    fn fire(&mut self, wake: Wake) {
        match wake {
            Wake::Send(i) => self.send(i),
            Wake::ConsumerStart(i) => self.start_consumer(i),
            Wake::Poll(i) => self.poll(i),
            Wake::Processed(i) => self.processed(i),
            Wake::ConsumerStop(i) => self.stop_consumer(i),
            Wake::Fault(i) => self.fault(i),
            Wake::Deliver(i) => self.deliver(i),
            Wake::Notice(i) => self.noticed(i),
            Wake::ShareStart(i) => self.start_share(i),
            Wake::SharePoll(i) => self.share_poll(i),
            Wake::ShareProcessed(i) => self.share_processed(i),
            Wake::ShareStop(i) => self.stop_share(i),
        }
        self.collect();
    }
    fn system_deadline(&self) -> Option<VirtualTime> {
        let producers =
            self.producers.iter().filter_map(|p| p.producer.as_ref()?.next_deadline(&self.cluster));
        let consumers =
            self.consumers.iter().filter(|c| c.running).filter_map(|c| c.consumer.next_deadline());
        let hand = self.hand.as_ref().and_then(|h| h.consumer.next_deadline());
        [self.cluster.next_deadline(), self.coordinator.next_deadline(), self.shares.next_deadline(), hand]
            .into_iter()
            .flatten()
            .chain(producers)
            .chain(consumers)
            .min()
    }
    fn advance_system(&mut self, to: VirtualTime) {
        self.cluster.advance_to(to);
        // Acquisition locks that expire are released (or archived at the delivery limit).
        self.shares.advance_to(to);
        for p in &mut self.producers {
            if let Some(producer) = p.producer.as_mut() {
                producer.advance_to(&mut self.cluster, to);
            }
        }
        let deliveries = self.coordinator.advance_to(to);
        self.mailbox.post(deliveries);
        let (consumers, mut env) = self.env_parts();
        for c in consumers.iter_mut().filter(|c| c.running) {
            if c.consumer.next_deadline().is_some_and(|d| d <= to) {
                c.consumer.tick(to, &mut env);
            }
        }
        // The hand consumer's heartbeat thread runs whether or not the learner polls.
        if let Some(h) = self.hand.as_mut() {
            if h.consumer.next_deadline().is_some_and(|d| d <= to) {
                let mut env = ConsumerEnv {
                    coordinator: &mut self.coordinator,
                    mailbox: &mut self.mailbox,
                    reader: &mut self.cluster,
                };
                h.consumer.tick(to, &mut env);
            }
        }
    }
    fn collect(&mut self) {
        for (_, e) in self.cluster.take_events() {
            let shown = matches!(
                e,
                KafkaEvent::BrokerDown { .. }
                    | KafkaEvent::BrokerUp { .. }
                    | KafkaEvent::TopicCreated { .. }
                    | KafkaEvent::IsrShrunk { .. }
                    | KafkaEvent::IsrExpanded { .. }
                    | KafkaEvent::LeaderElected { .. }
                    | KafkaEvent::RecordsTruncated { .. }
            );
            if shown {
                self.push(ActorEvent::Cluster { what: e.to_string() });
            }
        }
        for i in 0..self.producers.len() {
            let Some(producer) = self.producers[i].producer.as_mut() else { continue };
            let results = producer.take_results();
            let outcomes = producer.take_transaction_outcomes();
            let name = self.producers[i].spec.name.clone();
            for r in results {
                let (seq, key) = self.producers[i].pending.remove(&r.id).unwrap_or((0, None));
                let (event, acknowledged) = match r.result {
                    Ok(m) => (
                        ActorEvent::Acknowledged {
                            producer: name.clone(),
                            seq,
                            key,
                            partition: m.partition.to_string(),
                            offset: m.offset,
                        },
                        true,
                    ),
                    Err(e) => {
                        (ActorEvent::SendFailed { producer: name.clone(), seq, error: e.to_string() }, false)
                    }
                };
                self.notice(i, event, Some(acknowledged));
            }
            for o in outcomes {
                let event = ActorEvent::TransactionEnded { producer: name.clone(), committed: o.committed };
                self.notice(i, event, None);
            }
        }
        for i in 0..self.consumers.len() {
            self.take_consumer_events(i);
        }
        self.take_hand_events();
        let _ = self.coordinator.take_events();
    }
    fn drain(&mut self) {
        // Responses waiting for consumers: tick each one with mail until none is left (bounded: a tick
        // reads its mail, and the coordinator answers a request once).
        for _ in 0..64 {
            let now = self.clock.now;
            let (consumers, mut env) = self.env_parts();
            let mut ticked = false;
            for c in consumers.iter_mut().filter(|c| c.running) {
                if env.mailbox.has_mail(c.consumer.conn()) {
                    c.consumer.tick(now, &mut env);
                    ticked = true;
                }
            }
            if let Some(h) = self.hand.as_mut().filter(|h| self.mailbox.has_mail(h.consumer.conn())) {
                let mut env = ConsumerEnv {
                    coordinator: &mut self.coordinator,
                    mailbox: &mut self.mailbox,
                    reader: &mut self.cluster,
                };
                h.consumer.tick(now, &mut env);
                ticked = true;
            }
            if !ticked {
                break;
            }
        }
        self.collect();
    }
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
    fn take_failure(&mut self) -> Option<String> {
        self.failure.take()
    }
    fn instant_done(&mut self, _firings: u64) {
        if let Err(e) = self.cluster.check_invariants() {
            self.clock.stopped = Some(StopInfo {
                pos: Pos::new(0, 0),
                at: self.clock.now,
                message: format!("engine invariant broken: {e}"),
            });
        }
    }
}

/// Runs a Kafka document and returns its transcript, or its error located in the text.
pub fn run_document_transcript(text: &str) -> Result<String, String> {
    let mut run = KafkaRun::from_json(text, KafkaRunOptions::default()).map_err(|e| e.to_string())?;
    run.run();
    Ok(run.transcript())
}

impl PartialEq for KafkaRun {
    fn eq(&self, other: &Self) -> bool {
        self.transcript() == other.transcript()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_consumer_acknowledges_by_the_record_never_by_the_member() {
        let spec = ShareAcknowledgeSpec {
            release_every: Some(10),
            poison: Some("poison".into()),
            poison_action: Some(PoisonAction::Release),
        };
        let kind = |value: &str, origin: &str, delivery: i32| {
            acknowledge_name(share_acknowledge_type(&spec, Some(value), Some(origin), delivery))
        };
        assert_eq!(kind("job-9", "dispatch/9", 1), "ACCEPT");
        // Every tenth send fails once: released on its first delivery, accepted on the second.
        assert_eq!(kind("job-20", "dispatch/20", 1), "RELEASE");
        assert_eq!(kind("job-20", "dispatch/20", 2), "ACCEPT");
        // A poison record is released on every delivery (the broker archives it at the limit).
        assert_eq!(kind("poison-pill", "intake/1", 1), "RELEASE");
        assert_eq!(kind("poison-pill", "intake/1", 5), "RELEASE");
        let reject = ShareAcknowledgeSpec { poison_action: None, ..spec.clone() };
        assert_eq!(
            acknowledge_name(share_acknowledge_type(&reject, Some("poison-pill"), Some("intake/1"), 1)),
            "REJECT"
        );
        // No origin header (a record sent by hand): only the poison rule applies.
        assert_eq!(acknowledge_name(share_acknowledge_type(&spec, Some("x"), None, 1)), "ACCEPT");
        // Kafka 4.1.1's group.share.delivery.count.limit default.
        assert_eq!(share_delivery_limit(), 5);
    }
}
