//! A Kafka scenario document (`"model": "kafka"`, format 2): the cluster, its topics, producers and
//! consumers as clients of the engine, faults at times, checks at times, a seed and a duration.
//!
//! # Invariants
//! - Every field is known (`deny_unknown_fields`); a problem is reported at its JSON path, found again in
//!   the text as `line:col`.
//! - Everything a run draws (keys, processing times, the partitioner's choices) comes from the seed.
//! - The budget is checked before the run: a document whose producers could send more than
//!   [`MAX_RECORDS`] records is refused at the producer that goes past it.

use super::zipf::Exponent;
use crate::kafka::{Acks, ClientAssignor, GroupProtocol};
use serde::{Deserialize, Serialize};
use sim_kernel::located::{json_error, Problem, ScenarioError};
use sim_kernel::processing::Processing;
use sim_kernel::template::{Placeholders, Template};
use sim_kernel::values::{Comparison, Millis, Rate, Ratio};
use std::collections::{BTreeMap, BTreeSet};

/// The most records one document's producers may send in one run (the run's budget).
pub const MAX_RECORDS: u64 = 200_000;
/// The most keys a key distribution may name.
pub const MAX_KEYS: u64 = 100_000;

/// A Kafka document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaDocument {
    /// Always 2.
    pub brokerlab: u32,
    /// Always `"kafka"`.
    pub model: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The seed every draw comes from.
    #[serde(default)]
    pub seed: u64,
    /// How long the run lasts (default 60 s, as for every document).
    #[serde(default = "sixty_seconds")]
    pub duration: Millis,
    #[serde(default)]
    pub cluster: ClusterSpec,
    #[serde(default)]
    pub topics: Vec<TopicSpec>,
    #[serde(default)]
    pub producers: Vec<ProducerSpec>,
    #[serde(default)]
    pub consumers: Vec<ConsumerSpec>,
    /// `KafkaShareConsumer`s (KIP-932 share groups).
    #[serde(default)]
    pub share_consumers: Vec<ShareConsumerSpec>,
    /// Share groups' own configs, set on the group before the run.
    #[serde(default)]
    pub share_groups: Vec<ShareGroupSpec>,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
    /// Rhai scripts by name (`fn on_record(record)`), for consumers' `script`.
    #[serde(default)]
    pub scripts: BTreeMap<String, String>,
}

/// The brokers: node ids 1..=brokers, optional racks (one per broker).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    pub brokers: i32,
    #[serde(default)]
    pub racks: Vec<String>,
    /// `replica.lag.time.max.ms` (30 s).
    #[serde(default)]
    pub replica_lag_time_max: Option<Millis>,
    /// `log.retention.check.interval.ms` (5 minutes): how often the log manager deletes segments past
    /// `retention.ms` / `retention.bytes`. A broker setting: a real broker must be started with it.
    #[serde(default)]
    pub log_retention_check_interval: Option<Millis>,
    /// `group.consumer.migration.policy` (`bidirectional`; `disabled`, `upgrade`, `downgrade`): the online
    /// conversions between classic and consumer groups (KIP-848).
    #[serde(default)]
    pub group_consumer_migration_policy: Option<String>,
    /// `broker.session.timeout.ms` (9 s; the controller's): a killed or frozen broker is fenced this long
    /// after its last heartbeat, and its leaderships move. A controller setting: a real cluster must be
    /// started with it (`scripts/kafka-node.sh cluster` sets 4 s).
    #[serde(default)]
    pub broker_session_timeout: Option<Millis>,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            brokers: 1,
            racks: Vec::new(),
            replica_lag_time_max: None,
            log_retention_check_interval: None,
            group_consumer_migration_policy: None,
            broker_session_timeout: None,
        }
    }
}

/// A topic created at time 0 (`createTopics`), with its configs (`min.insync.replicas`, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    #[serde(default = "one")]
    pub replication_factor: i32,
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
    /// The replicas of each partition by hand (`new NewTopic(name, Map.of(0, List.of(2, 3, 1), …))`), one
    /// list per partition in order, its first broker the preferred leader: where the leader is does not
    /// depend on a real cluster's random placement. Empty: placed by the cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replica_assignment: Vec<Vec<i32>>,
}

fn sixty_seconds() -> Millis {
    Millis(60_000)
}

fn one() -> i32 {
    1
}

/// `acks` as the Java client writes it: `"0"`, `"1"`, `"all"` (or `"-1"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AcksSpec {
    #[serde(rename = "0")]
    Zero,
    #[serde(rename = "1")]
    One,
    #[serde(rename = "all", alias = "-1")]
    All,
}

impl AcksSpec {
    pub fn acks(self) -> Acks {
        match self {
            AcksSpec::Zero => Acks::None,
            AcksSpec::One => Acks::Leader,
            AcksSpec::All => Acks::All,
        }
    }
}

/// Which key a record gets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum KeyDistribution {
    /// Key number `{key}` uniform in `0..keys`.
    Uniform { keys: u64 },
    /// Key number 0 (the hot key) with probability `share`, else uniform over `1..keys`.
    Hot { keys: u64, share: Ratio },
    /// Key number `k-1` with probability proportional to `1/k^exponent`, `k` in `1..=keys`; the
    /// exponent is a number from 0.001 to 4 with at most three decimals (`super::zipf`: the same weights
    /// natively and in WebAssembly).
    Zipf { keys: u64, exponent: Exponent },
    /// The key number is the record's sequence number (every key new).
    Sequence,
}

/// A producer's pacing: a constant rate, or rate steps in a cycle (bursts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateStep {
    pub rate: Rate,
    #[serde(rename = "for")]
    pub length: Millis,
}

/// `transactional.id` and how many records go in each transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionalSpec {
    pub id: String,
    pub commit_every: u64,
}

/// One `KafkaProducer` sending records on a schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerSpec {
    pub name: String,
    pub topic: String,
    /// Records per second (default 1).
    #[serde(default)]
    pub rate: Option<Rate>,
    /// Rate steps cycled (bursts); instead of `rate`.
    #[serde(default)]
    pub bursts: Option<Vec<RateStep>>,
    /// How many records at most.
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub start: Millis,
    #[serde(default)]
    pub stop: Option<Millis>,
    /// The key template (`{key}` the drawn key number, `{seq}`, `{producer}`, `{random:N}`); absent or
    /// null: null keys (the sticky partitioner).
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub keys: Option<KeyDistribution>,
    /// The value template (default `"{producer}-{seq}"`).
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub partition: Option<i32>,
    #[serde(default)]
    pub acks: Option<AcksSpec>,
    #[serde(default)]
    pub linger_ms: Option<u64>,
    #[serde(default)]
    pub batch_size: Option<usize>,
    #[serde(default)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub delivery_timeout_ms: Option<u64>,
    #[serde(default)]
    pub request_timeout_ms: Option<u64>,
    #[serde(default)]
    pub max_in_flight: Option<usize>,
    /// `enable.idempotence` (default: on when the other settings allow it, as in the Java client).
    #[serde(default)]
    pub idempotence: Option<bool>,
    #[serde(default)]
    pub transactional: Option<TransactionalSpec>,
    /// The client's one-way latency to the cluster (default 0): a record reaches the producer's sender
    /// this much after `send`, and its acknowledgment (or failure) reaches the callback this much after
    /// the broker's answer; order is kept both ways (the kernel's `Link`).
    #[serde(default)]
    pub latency: Millis,
}

/// When a consumer commits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum CommitPolicy {
    /// `enable.auto.commit=true` with `auto.commit.interval.ms`.
    Auto { interval: Millis },
    /// `commitSync()` once at least `every` records were processed since the last commit.
    Sync { every: u64 },
    /// `commitAsync()` after every poll that returned records.
    Async,
}

/// One `KafkaConsumer` in a poll loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSpec {
    pub name: String,
    pub group: String,
    pub topics: Vec<String>,
    /// `group.protocol`: `classic` (default) or `consumer`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Classic: `partition.assignment.strategy` (`range`, `roundrobin`, `sticky`, `cooperative-sticky`);
    /// consumer protocol: `group.remote.assignor` (`uniform`, `range`).
    #[serde(default)]
    pub assignor: Option<String>,
    /// Time spent on each record.
    #[serde(default)]
    pub processing: Processing,
    /// Time spent after each poll's records, on top of their processing (a slow poll loop).
    #[serde(default)]
    pub poll_overhead: Millis,
    #[serde(default)]
    pub commit: Option<CommitPolicy>,
    /// The rebalance listener's `onPartitionsRevoked` calls `commitSync()` (Kafka's advice with manual
    /// commits): what was processed is committed before a partition moves to another member.
    #[serde(default)]
    pub commit_on_revoke: bool,
    #[serde(default)]
    pub max_poll_records: Option<usize>,
    #[serde(default)]
    pub max_poll_interval: Option<Millis>,
    #[serde(default)]
    pub session_timeout: Option<Millis>,
    #[serde(default)]
    pub heartbeat_interval: Option<Millis>,
    /// `auto.offset.reset` (default `earliest` here, so a document's consumers read what was sent before
    /// they joined; the Java client's default is `latest`).
    #[serde(default)]
    pub auto_offset_reset: Option<String>,
    #[serde(default)]
    pub read_committed: bool,
    /// `group.instance.id`: a static member (classic protocol). Its `close()` does not leave the group, so
    /// a consumer started later with the same id takes its place and its partitions without a rebalance,
    /// if it comes back before the session times out.
    #[serde(default)]
    pub group_instance_id: Option<String>,
    /// How long an empty poll waits (`poll(Duration)`, default 100 ms).
    #[serde(default)]
    pub poll_timeout: Option<Millis>,
    #[serde(default)]
    pub start: Millis,
    /// `close()` at this time.
    #[serde(default)]
    pub stop: Option<Millis>,
    /// A script of `scripts` whose `on_record(record)` runs for every record polled.
    #[serde(default)]
    pub script: Option<String>,
    /// The client's one-way latency to the cluster (default 0): each poll's fetch reaches the broker this
    /// much after the poll is made, and its records reach the consumer this much later (group requests
    /// are not delayed).
    #[serde(default)]
    pub latency: Millis,
}

/// What a share consumer does with a poison record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoisonAction {
    /// `acknowledge(record, REJECT)` at once: archived, never delivered again.
    Reject,
    /// `acknowledge(record, RELEASE)` every time: delivered again until the broker archives it at
    /// `group.share.delivery.count.limit` (5) deliveries.
    Release,
}

/// How a share consumer acknowledges (`share.acknowledgement.mode=explicit`): `ACCEPT` unless one of these
/// says otherwise. Each rule depends on the record, never on which member got it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareAcknowledgeSpec {
    /// `RELEASE` on its first delivery every record whose send number (its producer's `{seq}`) is a multiple
    /// of this (a failure a retry gets past); `ACCEPT` when it comes again.
    #[serde(default)]
    pub release_every: Option<u64>,
    /// Records whose value contains this text are poison: their processing always fails.
    #[serde(default)]
    pub poison: Option<String>,
    /// What a poison record gets (default `reject`).
    #[serde(default)]
    pub poison_action: Option<PoisonAction>,
}

/// One `KafkaShareConsumer` of a share group in a poll loop: poll, process each record, acknowledge each
/// as `acknowledge` says, `commitSync()`, poll again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareConsumerSpec {
    pub name: String,
    /// The share group (`group.id`); no consumer group may have the same name.
    pub group: String,
    pub topics: Vec<String>,
    /// Time spent on each record.
    #[serde(default)]
    pub processing: Processing,
    #[serde(default)]
    pub max_poll_records: Option<usize>,
    #[serde(default)]
    pub acknowledge: ShareAcknowledgeSpec,
    /// How long an empty poll waits (default 100 ms).
    #[serde(default)]
    pub poll_timeout: Option<Millis>,
    #[serde(default)]
    pub start: Millis,
    /// `close()` at this time: what it holds is released.
    #[serde(default)]
    pub stop: Option<Millis>,
}

/// A share group's configs (`incrementalAlterConfigs` on the group, before the run).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareGroupSpec {
    pub name: String,
    /// `share.auto.offset.reset`: `earliest` (the documents' default, as for consumers) or `latest`.
    #[serde(default)]
    pub auto_offset_reset: Option<String>,
    /// `share.record.lock.duration.ms` (default: the broker's `group.share.record.lock.duration.ms`, 30 s).
    #[serde(default)]
    pub record_lock_duration: Option<Millis>,
}

/// The shortest and longest acquisition lock a document may ask for: Kafka's default maximum
/// (`group.share.max.record.lock.duration.ms`, 60 s) and the minimum `scripts/kafka-node.sh` gives its
/// brokers (`group.share.min.record.lock.duration.ms=1000`; Kafka's default is 15 s).
pub const RECORD_LOCK_DURATION_RANGE: (u64, u64) = (1_000, 60_000);

/// A fault at a time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub at: Millis,
    #[serde(default)]
    pub broker_down: Option<i32>,
    #[serde(default)]
    pub broker_up: Option<i32>,
    /// The broker's process is frozen (SIGSTOP: a long GC pause, a stalled VM): it answers and fetches
    /// nothing, yet stays registered; its leaders drop it from their ISRs after `replica.lag.time.max.ms`
    /// and the controller fences it once `broker.session.timeout.ms` (9 s) passes without a heartbeat.
    /// A real cluster does the same (`scripts/kafka-node.sh node-pause`).
    #[serde(default)]
    pub broker_pause: Option<i32>,
    /// A paused broker goes on (SIGCONT): its replicas fetch what they missed and rejoin the ISRs; if it
    /// was fenced meanwhile, it registers again first.
    #[serde(default)]
    pub broker_resume: Option<i32>,
    /// A follower that fetches this much later than the others (no real broker can be made to do that:
    /// a document with it is not compared with a real Kafka; `broker_pause` is the fault that is).
    #[serde(default)]
    pub slow_follower: Option<SlowFollower>,
    /// The consumer's process dies: no `close()`, no leave; its session times out. A share consumer's
    /// records stay acquired until their locks expire.
    #[serde(default)]
    pub consumer_crash: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowFollower {
    pub broker: i32,
    pub delay: Millis,
}

/// A check at a time (default: the end).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    #[serde(default)]
    pub at: Option<Millis>,
    #[serde(default)]
    pub description: Option<String>,
    /// Sum over the topic's partitions of log end offset minus the group's committed offset (the log
    /// start offset where nothing is committed).
    #[serde(default)]
    pub lag: Option<GroupTopic>,
    /// The group's committed offset of one partition (-1 when none).
    #[serde(default)]
    pub committed: Option<GroupPartition>,
    /// Records in a partition (or the topic): high watermark minus log start offset.
    #[serde(default)]
    pub records: Option<TopicPartitionRef>,
    /// Records a group (or a consumer) consumed, counting every read.
    #[serde(default)]
    pub consumed: Option<Reader>,
    /// Reads of a record (producer and sequence number) already read before, by a group or a consumer.
    #[serde(default)]
    pub duplicates: Option<Reader>,
    /// Per key, the group read each producer's records in the order they were sent.
    #[serde(default)]
    pub key_order: Option<Reader>,
    /// A consumer's assignment, as `topic-partition` names.
    #[serde(default)]
    pub assignment: Option<AssignmentCheck>,
    /// A group's state as `kafka-consumer-groups --describe --state` prints it.
    #[serde(default)]
    pub group_state: Option<GroupStateCheck>,
    /// Records a producer had acknowledged (or failed: `failed`).
    #[serde(default)]
    pub acknowledged: Option<ProducerCount>,
    #[serde(default)]
    pub failed: Option<ProducerCount>,
    /// The highest delivery count among a share group's (or share consumer's) deliveries.
    #[serde(default)]
    pub delivery_count: Option<Reader>,
    /// How many records a share group (or share consumer) acknowledged with one type.
    #[serde(default)]
    pub share_acknowledgements: Option<ShareAcknowledgements>,
    /// Records a share consumer holds acquired (delivered, not yet acknowledged) at the check's time.
    #[serde(default)]
    pub acquired: Option<ShareConsumerRef>,
    /// Records a share group archived as its members saw it: rejected, or released on their last allowed
    /// delivery (`group.share.delivery.count.limit`, 5).
    #[serde(default)]
    pub archived: Option<Reader>,
    /// What the number must be (all counting checks).
    #[serde(default)]
    pub expect: Option<Comparison>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupTopic {
    pub group: String,
    pub topic: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupPartition {
    pub group: String,
    pub topic: String,
    pub partition: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicPartitionRef {
    pub topic: String,
    #[serde(default)]
    pub partition: Option<i32>,
}

/// A group or one consumer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reader {
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub consumer: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentCheck {
    pub consumer: String,
    pub partitions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupStateCheck {
    pub group: String,
    pub state: String,
}

/// `ACCEPT`, `RELEASE` or `REJECT` as a document writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcknowledgeKind {
    Accept,
    Release,
    Reject,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareAcknowledgements {
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub consumer: Option<String>,
    #[serde(rename = "type")]
    pub kind: AcknowledgeKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareConsumerRef {
    pub consumer: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerCount {
    pub producer: String,
}

/// The placeholders of key and value templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordVar {
    /// The record's sequence number in its producer (from 1).
    Seq,
    /// The drawn key number.
    Key,
    /// The producer's name.
    Producer,
}

impl Placeholders for RecordVar {
    type Scope = ();
    fn parse(name: &str, _: ()) -> Option<Self> {
        match name {
            "seq" => Some(RecordVar::Seq),
            "key" => Some(RecordVar::Key),
            "producer" => Some(RecordVar::Producer),
            _ => None,
        }
    }
    fn known(_: ()) -> &'static str {
        "{seq}, {key}, {producer}, {random:N}"
    }
}

/// The check kinds, in the order a check names one.
pub const CHECK_KINDS: &[&str] = &[
    "lag",
    "committed",
    "records",
    "consumed",
    "duplicates",
    "key_order",
    "assignment",
    "group_state",
    "acknowledged",
    "failed",
    "delivery_count",
    "share_acknowledgements",
    "acquired",
    "archived",
];

impl CheckSpec {
    /// The kinds this check names (exactly one is valid).
    pub fn kinds(&self) -> Vec<&'static str> {
        let set = [
            self.lag.is_some(),
            self.committed.is_some(),
            self.records.is_some(),
            self.consumed.is_some(),
            self.duplicates.is_some(),
            self.key_order.is_some(),
            self.assignment.is_some(),
            self.group_state.is_some(),
            self.acknowledged.is_some(),
            self.failed.is_some(),
            self.delivery_count.is_some(),
            self.share_acknowledgements.is_some(),
            self.acquired.is_some(),
            self.archived.is_some(),
        ];
        CHECK_KINDS.iter().zip(set).filter(|(_, s)| *s).map(|(k, _)| *k).collect()
    }
}

impl KafkaDocument {
    /// Parses and checks a Kafka document; errors carry `line:col`.
    pub fn parse(text: &str) -> Result<KafkaDocument, ScenarioError> {
        let text = sim_kernel::located::strip_bom(text);
        let document: KafkaDocument = serde_json::from_str(text).map_err(json_error)?;
        document.validate().map_err(|p| p.into_error(Some(text)))?;
        Ok(document)
    }

    /// The checks that need no cluster (the cluster's own, such as replication factor versus brokers,
    /// come from the engine when the run builds it).
    pub fn validate(&self) -> Result<(), Problem> {
        if self.model != "kafka" {
            return Err(Problem::new("model", "a Kafka document has \"model\": \"kafka\""));
        }
        if !(1..=9).contains(&self.cluster.brokers) {
            return Err(Problem::new("cluster.brokers", "a cluster has 1 to 9 brokers"));
        }
        if !self.cluster.racks.is_empty() && self.cluster.racks.len() != self.cluster.brokers as usize {
            return Err(Problem::new("cluster.racks", "give one rack per broker, or none"));
        }
        if self.duration.0 == 0 {
            return Err(Problem::new("duration", "a run lasts more than 0 ms"));
        }
        for (i, t) in self.topics.iter().enumerate() {
            if t.replica_assignment.is_empty() {
                continue;
            }
            if t.replica_assignment.len() != t.partitions.max(0) as usize
                || t.replica_assignment.iter().any(|r| r.len() != t.replication_factor.max(0) as usize)
            {
                return Err(Problem::new(
                    format!("topics[{i}].replica_assignment"),
                    "give one list of replication_factor brokers per partition",
                ));
            }
        }
        let topics: BTreeSet<&str> = self.topics.iter().map(|t| t.name.as_str()).collect();
        let mut names = BTreeSet::new();
        let mut budget: u128 = 0;
        for (i, p) in self.producers.iter().enumerate() {
            let path = format!("producers[{i}]");
            if p.name.is_empty() || !names.insert(p.name.as_str()) {
                return Err(Problem::new(
                    format!("{path}.name"),
                    format!("a producer needs a name of its own, not '{}'", p.name),
                ));
            }
            if !topics.contains(p.topic.as_str()) {
                return Err(Problem::new(
                    format!("{path}.topic"),
                    format!("no topic '{}' in topics", p.topic),
                ));
            }
            if p.rate.is_some() && p.bursts.is_some() {
                return Err(Problem::new(format!("{path}.bursts"), "give rate or bursts, not both"));
            }
            if let Some(steps) = &p.bursts {
                if steps.is_empty() || steps.iter().all(|s| s.rate.per_kilosecond == 0 || s.length.0 == 0) {
                    return Err(Problem::new(
                        format!("{path}.bursts"),
                        "bursts need a step with a rate and a length",
                    ));
                }
            }
            if p.rate.is_some_and(|r| r.per_kilosecond == 0) {
                return Err(Problem::new(format!("{path}.rate"), "a rate above 0"));
            }
            for (field, text) in [("key", p.key.as_deref()), ("value", p.value.as_deref())] {
                if let Some(text) = text {
                    Template::<RecordVar>::compile(text, ())
                        .map_err(|e| Problem::new(format!("{path}.{field}"), e))?;
                }
            }
            match &p.keys {
                Some(
                    KeyDistribution::Uniform { keys }
                    | KeyDistribution::Hot { keys, .. }
                    | KeyDistribution::Zipf { keys, .. },
                ) if *keys == 0 || *keys > MAX_KEYS => {
                    return Err(Problem::new(format!("{path}.keys"), format!("from 1 to {MAX_KEYS} keys")));
                }
                Some(KeyDistribution::Zipf { exponent, .. }) if !exponent.in_range() => {
                    return Err(Problem::new(
                        format!("{path}.keys.zipf.exponent"),
                        "an exponent from 0.001 to 4",
                    ));
                }
                Some(KeyDistribution::Hot { share, .. }) if share.numerator > share.denominator => {
                    return Err(Problem::new(format!("{path}.keys.hot.share"), "a share is at most 1"));
                }
                Some(_) if p.key.is_none() => {
                    return Err(Problem::new(
                        format!("{path}.keys"),
                        "keys go with a key template (\"key\": \"k{key}\")",
                    ));
                }
                _ => {}
            }
            if let Some(t) = &p.transactional {
                if t.commit_every == 0 {
                    return Err(Problem::new(
                        format!("{path}.transactional.commit_every"),
                        "at least 1 record per transaction",
                    ));
                }
            }
            // The budget: the most records this producer can send.
            let end = p.stop.map_or(self.duration.0, |s| s.0.min(self.duration.0));
            let window = u128::from(end.saturating_sub(p.start.0));
            let slots = match (&p.bursts, p.rate) {
                (Some(steps), _) => {
                    let steps: Vec<(u64, u64)> =
                        steps.iter().map(|s| (s.rate.per_kilosecond, s.length.0)).collect();
                    sim_kernel::pace::Pace::slot_bound(&steps, window)
                }
                (None, rate) => {
                    window * u128::from(rate.unwrap_or(Rate::per_second(1)).per_kilosecond) / 1_000_000 + 1
                }
            };
            let sends = p.count.map_or(slots, |c| slots.min(u128::from(c)));
            budget += sends;
            if budget > u128::from(MAX_RECORDS) {
                return Err(Problem::new(
                    path,
                    format!(
                        "the producers could send up to {} records, more than a run's budget of {} records: lower a 'count' or 'rate', or shorten 'duration'",
                        sim_kernel::budget::grouped(budget),
                        sim_kernel::budget::grouped(u128::from(MAX_RECORDS))
                    ),
                ));
            }
        }
        let mut consumers = BTreeSet::new();
        for (i, c) in self.consumers.iter().enumerate() {
            let path = format!("consumers[{i}]");
            if c.name.is_empty() || names.contains(c.name.as_str()) || !consumers.insert(c.name.as_str()) {
                return Err(Problem::new(
                    format!("{path}.name"),
                    format!("a consumer needs a name of its own, not '{}'", c.name),
                ));
            }
            for (j, t) in c.topics.iter().enumerate() {
                if !topics.contains(t.as_str()) {
                    return Err(Problem::new(
                        format!("{path}.topics[{j}]"),
                        format!("no topic '{t}' in topics"),
                    ));
                }
            }
            let protocol = self.protocol(c).map_err(|m| Problem::new(format!("{path}.protocol"), m))?;
            if let Some(a) = &c.assignor {
                let known = match protocol {
                    GroupProtocol::Classic => ClientAssignor::from_name(a).is_some(),
                    GroupProtocol::Consumer => a == "uniform" || a == "range",
                };
                if !known {
                    return Err(Problem::new(format!("{path}.assignor"), format!("unknown assignor '{a}'; classic groups take range, roundrobin, sticky, cooperative-sticky; consumer-protocol groups uniform, range")));
                }
            }
            if let Some(r) = &c.auto_offset_reset {
                if !["earliest", "latest", "none"].contains(&r.as_str()) {
                    return Err(Problem::new(
                        format!("{path}.auto_offset_reset"),
                        // Kafka's own ConfigException (4.1 also takes `by_duration:…`, not simulated).
                        format!("ConfigException: Invalid value {r} for configuration auto.offset.reset: Invalid value `{r}` for configuration auto.offset.reset. The value must be either 'earliest', 'latest', 'none' or of the format 'by_duration:<PnDTnHnMn.nS.>'."),
                    ));
                }
            }
            if matches!(c.commit, Some(CommitPolicy::Sync { every: 0 })) {
                return Err(Problem::new(
                    format!("{path}.commit.sync.every"),
                    "at least 1 record between commits",
                ));
            }
            if c.max_poll_records == Some(0) {
                return Err(Problem::new(
                    format!("{path}.max_poll_records"),
                    "ConfigException: Invalid value 0 for configuration max.poll.records: Value must be at least 1",
                ));
            }
            if let Some(script) = &c.script {
                if !self.scripts.contains_key(script) {
                    return Err(Problem::new(
                        format!("{path}.script"),
                        format!("no script '{script}' in scripts"),
                    ));
                }
            }
            if c.poll_timeout.is_some_and(|t| t.0 == 0) {
                return Err(Problem::new(
                    format!("{path}.poll_timeout"),
                    "an empty poll waits more than 0 ms",
                ));
            }
        }
        let consumer_groups: BTreeSet<&str> = self.consumers.iter().map(|c| c.group.as_str()).collect();
        let mut share_consumers = BTreeSet::new();
        for (i, c) in self.share_consumers.iter().enumerate() {
            let path = format!("share_consumers[{i}]");
            if c.name.is_empty()
                || names.contains(c.name.as_str())
                || consumers.contains(c.name.as_str())
                || !share_consumers.insert(c.name.as_str())
            {
                return Err(Problem::new(
                    format!("{path}.name"),
                    format!("a share consumer needs a name of its own, not '{}'", c.name),
                ));
            }
            if c.group.is_empty() {
                return Err(Problem::new(
                    format!("{path}.group"),
                    "a share consumer needs a group (group.id)",
                ));
            }
            if consumer_groups.contains(c.group.as_str()) {
                return Err(Problem::new(
                    format!("{path}.group"),
                    format!("'{}' is a consumer group here; a group is of one type, a share group needs a name of its own", c.group),
                ));
            }
            if c.topics.is_empty() {
                return Err(Problem::new(format!("{path}.topics"), "subscribe to at least one topic"));
            }
            for (j, t) in c.topics.iter().enumerate() {
                if !topics.contains(t.as_str()) {
                    return Err(Problem::new(
                        format!("{path}.topics[{j}]"),
                        format!("no topic '{t}' in topics"),
                    ));
                }
            }
            if c.max_poll_records == Some(0) {
                return Err(Problem::new(
                    format!("{path}.max_poll_records"),
                    "ConfigException: Invalid value 0 for configuration max.poll.records: Value must be at least 1",
                ));
            }
            if c.acknowledge.release_every == Some(0) {
                return Err(Problem::new(
                    format!("{path}.acknowledge.release_every"),
                    "release every 1st record or more (0 releases none: leave it out)",
                ));
            }
            if c.acknowledge.poison.as_deref() == Some("") {
                return Err(Problem::new(
                    format!("{path}.acknowledge.poison"),
                    "a poison record's value contains a text that is not empty",
                ));
            }
            if c.acknowledge.poison_action.is_some() && c.acknowledge.poison.is_none() {
                return Err(Problem::new(
                    format!("{path}.acknowledge.poison_action"),
                    "poison_action goes with poison (the text a poison record's value contains)",
                ));
            }
            if c.poll_timeout.is_some_and(|t| t.0 == 0) {
                return Err(Problem::new(
                    format!("{path}.poll_timeout"),
                    "an empty poll waits more than 0 ms",
                ));
            }
        }
        let share_groups: BTreeSet<&str> = self.share_consumers.iter().map(|c| c.group.as_str()).collect();
        let mut configured = BTreeSet::new();
        for (i, g) in self.share_groups.iter().enumerate() {
            let path = format!("share_groups[{i}]");
            if !share_groups.contains(g.name.as_str()) {
                return Err(Problem::new(
                    format!("{path}.name"),
                    format!("no share consumer is in share group '{}'", g.name),
                ));
            }
            if !configured.insert(g.name.as_str()) {
                return Err(Problem::new(
                    format!("{path}.name"),
                    format!("share group '{}' is configured twice", g.name),
                ));
            }
            if let Some(r) = &g.auto_offset_reset {
                if !["earliest", "latest"].contains(&r.as_str()) {
                    return Err(Problem::new(
                        format!("{path}.auto_offset_reset"),
                        format!("share.auto.offset.reset is earliest or latest, not '{r}'"),
                    ));
                }
            }
            let (min, max) = RECORD_LOCK_DURATION_RANGE;
            if let Some(d) = g.record_lock_duration {
                if !(min..=max).contains(&d.0) {
                    return Err(Problem::new(
                        format!("{path}.record_lock_duration"),
                        format!("share.record.lock.duration.ms from {min} to {max} ms"),
                    ));
                }
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            let path = format!("faults[{i}]");
            let kinds = [
                f.broker_down.is_some(),
                f.broker_up.is_some(),
                f.broker_pause.is_some(),
                f.broker_resume.is_some(),
                f.slow_follower.is_some(),
                f.consumer_crash.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(Problem::new(
                    path,
                    "a fault is one of broker_down, broker_up, broker_pause, broker_resume, slow_follower, consumer_crash",
                ));
            }
            for b in [
                f.broker_down,
                f.broker_up,
                f.broker_pause,
                f.broker_resume,
                f.slow_follower.as_ref().map(|s| s.broker),
            ]
            .into_iter()
            .flatten()
            {
                if !(1..=self.cluster.brokers).contains(&b) {
                    return Err(Problem::new(
                        path,
                        format!("no broker {b}; the brokers are 1 to {}", self.cluster.brokers),
                    ));
                }
            }
            if let Some(c) = &f.consumer_crash {
                if !consumers.contains(c.as_str()) && !share_consumers.contains(c.as_str()) {
                    return Err(Problem::new(format!("{path}.consumer_crash"), format!("no consumer '{c}'")));
                }
            }
        }
        let groups: BTreeSet<&str> = consumer_groups.union(&share_groups).copied().collect();
        let producers = names;
        for (i, c) in self.checks.iter().enumerate() {
            let path = format!("checks[{i}]");
            let kinds = c.kinds();
            if kinds.len() != 1 {
                return Err(Problem::new(path, format!("a check is one of {}", CHECK_KINDS.join(", "))));
            }
            let counting = !matches!(kinds[0], "assignment" | "group_state" | "key_order");
            if counting && c.expect.is_none() {
                return Err(Problem::new(path, format!("a {} check needs \"expect\"", kinds[0])));
            }
            if !counting && c.expect.is_some() {
                return Err(Problem::new(
                    format!("{path}.expect"),
                    format!("a {} check has no \"expect\"", kinds[0]),
                ));
            }
            let group = |g: &str| -> Result<(), Problem> {
                if groups.contains(g) {
                    Ok(())
                } else {
                    Err(Problem::new(path.clone(), format!("no consumer is in group '{g}'")))
                }
            };
            let topic = |t: &str| -> Result<(), Problem> {
                if topics.contains(t) {
                    Ok(())
                } else {
                    Err(Problem::new(path.clone(), format!("no topic '{t}' in topics")))
                }
            };
            // A check that only a share group (or share consumer) answers.
            let share_reader = |g: &Option<String>, c: &Option<String>| -> Result<(), Problem> {
                match (g, c) {
                    (Some(g), None) if share_groups.contains(g.as_str()) => Ok(()),
                    (Some(g), None) => {
                        Err(Problem::new(path.clone(), format!("no share consumer is in share group '{g}'")))
                    }
                    (None, Some(c)) if share_consumers.contains(c.as_str()) => Ok(()),
                    (None, Some(c)) => Err(Problem::new(path.clone(), format!("no share consumer '{c}'"))),
                    _ => Err(Problem::new(path.clone(), "name a share group or a share consumer")),
                }
            };
            // Offsets, lag and states are a consumer group's; a share group has none of them.
            let consumer_group = |g: &str| -> Result<(), Problem> {
                if share_groups.contains(g) {
                    Err(Problem::new(path.clone(), format!("'{g}' is a share group: it has no committed offsets, lag or consumer-group state")))
                } else {
                    group(g)
                }
            };
            let reader = |r: &Reader| -> Result<(), Problem> {
                match (&r.group, &r.consumer) {
                    (Some(g), None) => group(g),
                    (None, Some(c))
                        if consumers.contains(c.as_str()) || share_consumers.contains(c.as_str()) =>
                    {
                        Ok(())
                    }
                    (None, Some(c)) => Err(Problem::new(path.clone(), format!("no consumer '{c}'"))),
                    _ => Err(Problem::new(path.clone(), "name a group or a consumer")),
                }
            };
            if let Some(x) = &c.lag {
                consumer_group(&x.group)?;
                topic(&x.topic)?;
            }
            if let Some(x) = &c.committed {
                consumer_group(&x.group)?;
                topic(&x.topic)?;
            }
            if let Some(x) = &c.records {
                topic(&x.topic)?;
            }
            for r in [&c.consumed, &c.duplicates, &c.key_order].into_iter().flatten() {
                reader(r)?;
            }
            if let Some(x) = &c.assignment {
                if !consumers.contains(x.consumer.as_str()) {
                    return Err(Problem::new(
                        format!("{path}.assignment.consumer"),
                        format!("no consumer '{}'", x.consumer),
                    ));
                }
            }
            if let Some(x) = &c.group_state {
                consumer_group(&x.group)?;
            }
            for r in [&c.delivery_count, &c.archived].into_iter().flatten() {
                share_reader(&r.group, &r.consumer)?;
            }
            if let Some(x) = &c.share_acknowledgements {
                share_reader(&x.group, &x.consumer)?;
            }
            if let Some(x) = &c.acquired {
                if !share_consumers.contains(x.consumer.as_str()) {
                    return Err(Problem::new(
                        format!("{path}.acquired.consumer"),
                        format!("no share consumer '{}'", x.consumer),
                    ));
                }
            }
            for p in [&c.acknowledged, &c.failed].into_iter().flatten() {
                if !producers.contains(p.producer.as_str()) {
                    return Err(Problem::new(path.clone(), format!("no producer '{}'", p.producer)));
                }
            }
            if c.at.is_some_and(|a| a.0 > self.duration.0) {
                return Err(Problem::new(format!("{path}.at"), "after the run's end"));
            }
        }
        Ok(())
    }

    /// A consumer's `group.protocol`.
    pub fn protocol(&self, c: &ConsumerSpec) -> Result<GroupProtocol, String> {
        // Kafka's own validation: case-insensitive, and its ConfigException's text.
        match c.protocol.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("classic") => Ok(GroupProtocol::Classic),
            Some("consumer") => Ok(GroupProtocol::Consumer),
            Some(_) => Err(format!(
                "ConfigException: Invalid value {} for configuration group.protocol: String must be one of (case insensitive): CONSUMER, CLASSIC",
                c.protocol.as_deref().unwrap_or_default()
            )),
        }
    }
}
