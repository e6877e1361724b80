//! The cluster: brokers, topics and their partitions, the admin operations and the produce path.
//!
//! A [`Cluster`] is a deterministic state machine on virtual time. Every operation takes the time `at` it
//! happens; the cluster first fires its own timers due by then (follower fetches, ISR checks, request
//! timeouts, retention and cleaner passes), so callers may also drive it with [`Cluster::next_deadline`] and
//! [`Cluster::advance_to`]. Randomness (replica placement) comes from the seed given to [`Cluster::new`].
//!
//! Admin rules and messages are Kafka 4.1's as a real broker gave them (`tests/kafka/admin_probe.golden`):
//! names (`admin`), configs (`config`), partition counts, replication factor against registered brokers.
//!
//! Invariants ([`Cluster::assert_invariants`]): every partition log's own invariants (`log`); ISR ⊆
//! replicas, the ISR never empty, the leader (when there is one) in the ISR and on a live broker; every
//! follower's log end ≤ the leader's; the high watermark ≤ every ISR member's log end; and, unless an
//! unclean election happened on the partition, no record acknowledged with `acks=all` is lost.

use crate::clock::{DeadlineQueue, VirtualTime};
use crate::kafka::admin::{collision_key, place_replicas, validate_topic_name, UsableBroker};
use crate::kafka::config::{ConfigEntry, TopicConfig};
use crate::kafka::event::KafkaEvent;
use crate::kafka::log::{AppendRecord, PartitionLog, ProducerBatch};
use crate::kafka::{ErrorCode, KafkaError, NodeId, Offset, TopicPartition};
use crate::Prng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most brokers a cluster holds.
pub const MAX_BROKERS: usize = 9;

/// Broker-level settings the data plane uses (Kafka's broker configs of the same names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSettings {
    /// `replica.lag.time.max.ms`: a follower not caught up for longer leaves the ISR (default 30 s).
    pub replica_lag_time_max_ms: u64,
    /// How long a follower's fetch takes to bring it up to the leader's end after an append (model
    /// parameter; a slow follower adds its own delay on top).
    pub replica_fetch_latency_ms: u64,
    /// `log.retention.check.interval.ms` (default 5 minutes).
    pub log_retention_check_interval_ms: u64,
    /// `log.cleaner.backoff.ms`: how often the cleaner looks for work (default 15 s).
    pub log_cleaner_backoff_ms: u64,
    /// `num.partitions`: partitions of a topic created without a count (default 1).
    pub num_partitions: i32,
    /// `default.replication.factor` (default 1).
    pub default_replication_factor: i32,
    /// `auto.leader.rebalance.enable` (default true): the controller moves leadership back to each
    /// partition's preferred replica (the first) once it is in the ISR again.
    pub auto_leader_rebalance_enable: bool,
    /// `leader.imbalance.check.interval.seconds` in ms (default 300 s): how long after a partition loses
    /// its preferred leader the controller tries to restore it (and again every interval while some remain).
    pub leader_imbalance_check_interval_ms: u64,
    /// `transaction.max.timeout.ms` (default 15 minutes): a producer asking for a longer
    /// `transaction.timeout.ms` is refused at `initTransactions`.
    #[serde(default = "default_transaction_max_timeout_ms")]
    pub transaction_max_timeout_ms: u64,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms` (default 10 s): how often the
    /// transaction coordinator looks for transactions open longer than their timeout, and aborts them.
    #[serde(default = "default_transaction_abort_interval_ms")]
    pub transaction_abort_timed_out_transaction_cleanup_interval_ms: u64,
    /// `broker.session.timeout.ms` (default 9 s): a broker that stops heartbeating without a controlled
    /// shutdown (a crash) is fenced this long after it went away.
    #[serde(default = "default_broker_session_timeout_ms")]
    pub broker_session_timeout_ms: u64,
}

fn default_transaction_max_timeout_ms() -> u64 {
    900_000
}

fn default_transaction_abort_interval_ms() -> u64 {
    10_000
}

fn default_broker_session_timeout_ms() -> u64 {
    9_000
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            replica_lag_time_max_ms: 30_000,
            replica_fetch_latency_ms: 1,
            log_retention_check_interval_ms: 300_000,
            log_cleaner_backoff_ms: 15_000,
            num_partitions: 1,
            default_replication_factor: 1,
            auto_leader_rebalance_enable: true,
            leader_imbalance_check_interval_ms: 300_000,
            transaction_max_timeout_ms: default_transaction_max_timeout_ms(),
            transaction_abort_timed_out_transaction_cleanup_interval_ms:
                default_transaction_abort_interval_ms(),
            broker_session_timeout_ms: default_broker_session_timeout_ms(),
        }
    }
}

/// One broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerState {
    /// Its `node.id`.
    pub id: NodeId,
    /// Its `broker.rack`.
    pub rack: Option<String>,
    /// Running (unfenced).
    pub up: bool,
    /// The slow-follower fault: extra delay of each of its follower fetches, in ms.
    pub fetch_delay_ms: u64,
    /// Killed and not yet fenced: the controller still counts it (leader, ISR member) until its session
    /// times out, but it serves nothing.
    #[serde(default)]
    pub crashed: bool,
    /// Paused (SIGSTOP) and not yet resumed: `crashed` until it is fenced, as a killed broker; resuming
    /// it (SIGCONT) lets its replicas fetch again (and it re-registers if it was fenced meanwhile).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
    /// Crashed or paused: when its session expires (ms), so that the expiry of an earlier crash or pause
    /// does not fence it early after it came back and stopped again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_expires_ms: Option<u64>,
}

/// A follower's view as its leader tracks it (the leader's own entry is unused).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReplicaState {
    pub(crate) log_end_offset: Offset,
    pub(crate) last_caught_up_ms: i64,
    pub(crate) fetch_scheduled: bool,
    pub(crate) isr_check_scheduled: bool,
}

/// One partition: its replicas, ISR, leader and the leader's log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartitionState {
    /// Replicas in preference order (the first is the preferred leader).
    pub replicas: Vec<NodeId>,
    /// The in-sync replicas; empty only while the partition has no leader (KIP-966: its last member
    /// went down and is kept in `elr`).
    pub isr: Vec<NodeId>,
    /// Eligible leader replicas (KIP-966, on by default in Kafka 4.1): the last ISR member of a partition
    /// left leaderless by its broker going down. It holds every committed record, so it may lead again
    /// cleanly when it returns.
    #[serde(default)]
    pub elr: Vec<NodeId>,
    /// The leader, `None` while offline.
    pub leader: Option<NodeId>,
    /// Bumped at every leader change.
    pub leader_epoch: i32,
    /// The leader's log.
    pub log: PartitionLog,
    pub(crate) followers: Vec<ReplicaState>,
    /// One past the last offset acknowledged to an `acks=all` producer.
    pub(crate) acked_all_end: Offset,
    /// An unclean election happened: acknowledged records may have been lost.
    pub(crate) unclean: bool,
}

/// A topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    /// Distinguishes a topic from an earlier one of the same name (stale timers).
    pub(crate) id: u64,
    /// Its configuration.
    pub config: TopicConfig,
    /// Its partitions, by index.
    pub partitions: Vec<PartitionState>,
}

/// `NewTopic`: what `createTopics` asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTopic {
    /// The name.
    pub name: String,
    /// The partition count; `None` (or -1) for the broker's `num.partitions`.
    pub partitions: Option<i32>,
    /// The replication factor; `None` (or -1) for `default.replication.factor`.
    pub replication_factor: Option<i32>,
    /// Configurations, in order.
    pub configs: Vec<(String, String)>,
    /// A manual replica assignment (partition, replicas), in the order the request lists it; empty for
    /// none (then the counts above apply). With one, both counts must be `None` (-1 on the wire).
    #[serde(default)]
    pub replica_assignment: Vec<(i32, Vec<NodeId>)>,
}

impl NewTopic {
    /// `new NewTopic(name, partitions, replicationFactor)`.
    pub fn new(name: impl Into<String>, partitions: i32, replication_factor: i32) -> Self {
        NewTopic {
            name: name.into(),
            partitions: Some(partitions),
            replication_factor: Some(replication_factor),
            configs: Vec::new(),
            replica_assignment: Vec::new(),
        }
    }

    /// `new NewTopic(name, Map.of(partition, List.of(broker, …), …))`: replicas assigned by hand.
    pub fn with_assignment(name: impl Into<String>, assignment: Vec<(i32, Vec<NodeId>)>) -> Self {
        NewTopic { name: name.into(), replica_assignment: assignment, ..NewTopic::default() }
    }

    /// Adds a configuration.
    pub fn config(mut self, name: &str, value: &str) -> Self {
        self.configs.push((name.into(), value.into()));
        self
    }
}

/// One partition as `describeTopics` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionInfo {
    /// The partition's index.
    pub partition: i32,
    /// Its leader, `None` while offline.
    pub leader: Option<NodeId>,
    /// Its replicas.
    pub replicas: Vec<NodeId>,
    /// Its in-sync replicas.
    pub isr: Vec<NodeId>,
}

/// `TopicDescription`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicDescription {
    /// The topic.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<PartitionInfo>,
}

/// One `incrementalAlterConfigs` operation: SET a value, or DELETE the override (`None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlterConfigOp {
    /// The configuration.
    pub name: String,
    /// The value to set; `None` reverts to the default.
    pub value: Option<String>,
}

/// `acks`: how many replicas must have a batch before the leader answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Acks {
    /// `acks=0`: no answer awaited.
    None,
    /// `acks=1`: the leader's append.
    Leader,
    /// `acks=all` (-1): every in-sync replica, at least `min.insync.replicas` of them (the default).
    #[default]
    All,
}

/// A produce request for one partition: one batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceRequest {
    /// Where to write.
    pub partition: TopicPartition,
    /// The acks asked for.
    pub acks: Acks,
    /// How long the leader may wait for the ISR (`request.timeout.ms`).
    pub timeout_ms: u64,
    /// The batch's records.
    pub records: Vec<AppendRecord>,
    /// Producer id, epoch and sequence of an idempotent or transactional producer.
    pub producer: Option<ProducerBatch>,
}

/// The leader's answer for a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceResponse {
    /// The batch's first offset (-1 for `acks=0`).
    pub base_offset: Offset,
    /// The leader's timestamp for `LogAppendTime` topics, else -1.
    pub log_append_time: i64,
    /// The partition's log start offset.
    pub log_start_offset: Offset,
}

/// Identifies a produce request waiting for its replicas.
pub type RequestId = u64;

/// What [`Cluster::produce`] returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProduceOutcome {
    /// Answered at once.
    Done(Result<ProduceResponse, KafkaError>),
    /// Appended, waiting for the ISR; the answer comes from [`Cluster::take_completions`].
    Pending(RequestId),
}

/// A waiting request's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceCompletion {
    /// The request.
    pub request: RequestId,
    /// When it was answered.
    pub at: VirtualTime,
    /// The answer.
    pub result: Result<ProduceResponse, KafkaError>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingProduce {
    pub(crate) topic_id: u64,
    pub(crate) partition: i32,
    pub(crate) leader_epoch: i32,
    pub(crate) required_offset: Offset,
    pub(crate) base_offset: Offset,
    pub(crate) log_append_time: i64,
    /// The paused (SIGSTOPped) broker that holds the request without answering it: it is answered only
    /// by the client's own timeout (`request.timeout.ms`), not by the high watermark or an election,
    /// until the broker resumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) silent_broker: Option<NodeId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Timer {
    FollowerFetch {
        topic_id: u64,
        partition: i32,
        replica: usize,
        leader_epoch: i32,
    },
    IsrCheck {
        topic_id: u64,
        partition: i32,
        replica: usize,
        leader_epoch: i32,
    },
    RequestTimeout(RequestId),
    Retention,
    Cleaner,
    PreferredLeaderElection,
    /// The transaction coordinator's check for timed-out transactions.
    TransactionTimeouts,
    /// A crashed broker's session times out: the controller fences it.
    BrokerSessionExpired {
        broker: NodeId,
    },
}

/// The cluster.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub(crate) settings: ClusterSettings,
    pub(crate) brokers: Vec<BrokerState>,
    pub(crate) topics: BTreeMap<String, Topic>,
    pub(crate) next_topic_id: u64,
    pub(crate) prng: Prng,
    pub(crate) timers: DeadlineQueue<Timer>,
    pub(crate) now: VirtualTime,
    pub(crate) events: Vec<(VirtualTime, KafkaEvent)>,
    pub(crate) pending: BTreeMap<RequestId, PendingProduce>,
    pub(crate) next_request: RequestId,
    pub(crate) completions: Vec<ProduceCompletion>,
    pub(crate) next_producer_id: i64,
    pub(crate) maintenance_scheduled: bool,
    /// The transaction coordinator's state, by `transactional.id`.
    pub(crate) transactions: BTreeMap<String, crate::kafka::transaction::TxnMeta>,
    /// A preferred leader election is scheduled.
    pub(crate) rebalance_scheduled: bool,
    /// The coordinator's timed-out transactions check is scheduled (from the first transactional id on).
    pub(crate) txn_check_scheduled: bool,
}

fn unknown_topic() -> KafkaError {
    KafkaError::new(ErrorCode::UnknownTopicOrPartition)
}

impl Cluster {
    /// An empty cluster (no brokers yet) whose random choices come from `seed`.
    pub fn new(seed: u64, settings: ClusterSettings) -> Self {
        Cluster {
            settings,
            brokers: Vec::new(),
            topics: BTreeMap::new(),
            next_topic_id: 1,
            prng: Prng::new(seed),
            timers: DeadlineQueue::new(),
            now: VirtualTime::ZERO,
            events: Vec::new(),
            pending: BTreeMap::new(),
            next_request: 1,
            completions: Vec::new(),
            next_producer_id: 0,
            maintenance_scheduled: false,
            transactions: BTreeMap::new(),
            rebalance_scheduled: false,
            txn_check_scheduled: false,
        }
    }

    /// A cluster of brokers `1..=count` without racks.
    pub fn with_brokers(seed: u64, count: i32) -> Self {
        let mut c = Cluster::new(seed, ClusterSettings::default());
        for id in 1..=count {
            c.add_broker(NodeId(id), None).expect("1..=9 brokers");
        }
        c
    }

    /// The settings.
    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    /// The virtual time the cluster has reached.
    pub fn now(&self) -> VirtualTime {
        self.now
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.now.as_millis() as i64
    }

    pub(crate) fn emit(&mut self, event: KafkaEvent) {
        self.events.push((self.now, event));
    }

    /// The events since the last call, with their times.
    pub fn take_events(&mut self) -> Vec<(VirtualTime, KafkaEvent)> {
        std::mem::take(&mut self.events)
    }

    /// Registers a broker (before or while running). At most [`MAX_BROKERS`]; ids are unique.
    pub fn add_broker(&mut self, id: NodeId, rack: Option<String>) -> Result<(), KafkaError> {
        if self.brokers.iter().any(|b| b.id == id) {
            return Err(KafkaError::with_message(
                ErrorCode::DuplicateBrokerRegistration,
                format!("Broker {} is already registered.", id.0),
            ));
        }
        if self.brokers.len() >= MAX_BROKERS || id.0 < 0 {
            return Err(KafkaError::with_message(
                ErrorCode::InvalidRequest,
                format!("A cluster holds at most {MAX_BROKERS} brokers with ids ≥ 0."),
            ));
        }
        self.brokers.push(BrokerState {
            id,
            rack: rack.clone(),
            up: true,
            fetch_delay_ms: 0,
            crashed: false,
            paused: false,
            session_expires_ms: None,
        });
        self.brokers.sort_by_key(|b| b.id);
        self.emit(KafkaEvent::BrokerRegistered { broker: id, rack });
        Ok(())
    }

    /// The brokers, by id.
    pub fn brokers(&self) -> &[BrokerState] {
        &self.brokers
    }

    pub(crate) fn is_broker_up(&self, id: NodeId) -> bool {
        self.brokers.iter().any(|b| b.id == id && b.up)
    }

    /// Topic names, sorted.
    pub fn topic_names(&self) -> Vec<String> {
        self.topics.keys().cloned().collect()
    }

    /// A topic's state.
    pub fn topic(&self, name: &str) -> Option<&Topic> {
        self.topics.get(name)
    }

    /// One partition's state.
    pub fn partition(&self, tp: &TopicPartition) -> Option<&PartitionState> {
        self.topics.get(tp.topic.as_str())?.partitions.get(usize::try_from(tp.partition).ok()?)
    }

    fn usable_brokers(&self) -> Vec<UsableBroker> {
        self.brokers.iter().map(|b| UsableBroker { id: b.id, rack: b.rack.clone(), fenced: !b.up }).collect()
    }

    fn new_partition(&self, replicas: Vec<NodeId>) -> PartitionState {
        let now = self.now_ms();
        let leader = replicas.iter().copied().find(|&r| self.is_broker_up(r));
        let isr: Vec<NodeId> = replicas.iter().copied().filter(|&r| self.is_broker_up(r)).collect();
        PartitionState {
            followers: replicas
                .iter()
                .map(|_| ReplicaState {
                    log_end_offset: 0,
                    last_caught_up_ms: now,
                    fetch_scheduled: false,
                    isr_check_scheduled: false,
                })
                .collect(),
            isr: if isr.is_empty() { replicas.clone() } else { isr },
            elr: Vec::new(),
            leader,
            leader_epoch: 0,
            log: PartitionLog::new(now),
            acked_all_end: 0,
            unclean: false,
            replicas,
        }
    }

    fn ensure_maintenance(&mut self) {
        if !self.maintenance_scheduled {
            self.maintenance_scheduled = true;
            self.timers.schedule(
                self.now.plus_millis(self.settings.log_retention_check_interval_ms),
                Timer::Retention,
            );
            self.timers.schedule(self.now.plus_millis(self.settings.log_cleaner_backoff_ms), Timer::Cleaner);
        }
    }

    /// `createTopics` for one topic, validated as Kafka 4.1 does: the name, an existing or colliding topic,
    /// the configs, the partition count, the replication factor against the registered brokers.
    pub fn create_topic(&mut self, at: VirtualTime, topic: &NewTopic) -> Result<(), KafkaError> {
        self.advance_to(at);
        validate_topic_name(&topic.name)?;
        if self.topics.contains_key(&topic.name) {
            return Err(KafkaError::with_message(
                ErrorCode::TopicAlreadyExists,
                format!("Topic '{}' already exists.", topic.name),
            ));
        }
        let key = collision_key(&topic.name);
        if let Some(other) = self.topics.keys().find(|t| collision_key(t) == key) {
            return Err(KafkaError::with_message(
                ErrorCode::InvalidTopicException,
                format!("Topic '{}' collides with existing topic: {other}", topic.name),
            ));
        }
        let config = TopicConfig::from_pairs(topic.configs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        if !topic.replica_assignment.is_empty() {
            let placement = self.manual_placement(topic)?;
            let (partitions, rf) = (placement.len() as i32, placement[0].len() as i32);
            let parts = placement.into_iter().map(|replicas| self.new_partition(replicas)).collect();
            self.add_topic(topic, config, parts, partitions, rf);
            return Ok(());
        }
        let partitions = match topic.partitions {
            None | Some(-1) => self.settings.num_partitions,
            Some(n) if n <= 0 => {
                return Err(KafkaError::with_message(
                    ErrorCode::InvalidPartitions,
                    "Number of partitions was set to an invalid non-positive value.",
                ))
            }
            Some(n) => n,
        };
        let rf = match topic.replication_factor {
            None | Some(-1) => self.settings.default_replication_factor,
            Some(n) if n <= 0 => {
                return Err(KafkaError::with_message(
                    ErrorCode::InvalidReplicationFactor,
                    "Replication factor must be larger than 0, or -1 to use the default value.",
                ))
            }
            Some(n) => n,
        };
        let placement = place_replicas(&self.usable_brokers(), partitions, rf, &mut self.prng)?;
        let parts = placement.into_iter().map(|replicas| self.new_partition(replicas)).collect();
        self.add_topic(topic, config, parts, partitions, rf);
        Ok(())
    }

    fn add_topic(
        &mut self,
        topic: &NewTopic,
        config: TopicConfig,
        parts: Vec<PartitionState>,
        partitions: i32,
        rf: i32,
    ) {
        let id = self.next_topic_id;
        self.next_topic_id += 1;
        self.topics.insert(topic.name.clone(), Topic { id, config, partitions: parts });
        self.emit(KafkaEvent::TopicCreated { topic: topic.name.clone(), partitions, replication_factor: rf });
        self.ensure_maintenance();
    }

    /// A manual assignment, checked as the KRaft controller checks one (`INVALID_REQUEST` when a count is
    /// given too; per partition in the request's order: no partition twice, a non-empty list, every broker
    /// registered and named once, the same replica count as the partitions before, one broker not fenced;
    /// then the partitions must be 0, 1, …). Returns the replica lists by partition.
    fn manual_placement(&self, topic: &NewTopic) -> Result<Vec<Vec<NodeId>>, KafkaError> {
        let invalid = |m: String| KafkaError::with_message(ErrorCode::InvalidReplicaAssignment, m);
        if topic.replication_factor.is_some_and(|r| r != -1) {
            return Err(KafkaError::with_message(
                ErrorCode::InvalidRequest,
                "A manual partition assignment was specified, but replication factor was not set to -1.",
            ));
        }
        if topic.partitions.is_some_and(|n| n != -1) {
            return Err(KafkaError::with_message(
                ErrorCode::InvalidRequest,
                "A manual partition assignment was specified, but numPartitions was not set to -1.",
            ));
        }
        let mut placed: BTreeMap<i32, Vec<NodeId>> = BTreeMap::new();
        let mut rf: Option<usize> = None;
        for (partition, replicas) in &topic.replica_assignment {
            if placed.contains_key(partition) {
                return Err(invalid(format!(
                    "Found multiple manual partition assignments for partition {partition}"
                )));
            }
            if replicas.is_empty() {
                return Err(invalid(
                    "The manual partition assignment includes an empty replica list.".into(),
                ));
            }
            let mut seen = Vec::new();
            for r in replicas {
                if !self.brokers.iter().any(|b| b.id == *r) {
                    return Err(invalid(format!(
                        "The manual partition assignment includes broker {}, but no such broker is registered.",
                        r.0
                    )));
                }
                if seen.contains(r) {
                    return Err(invalid(format!(
                        "The manual partition assignment includes the broker {} more than once.",
                        r.0
                    )));
                }
                seen.push(*r);
            }
            if let Some(expected) = rf.filter(|e| *e != replicas.len()) {
                return Err(invalid(format!(
                    "The manual partition assignment includes a partition with {} replica(s), but this is not \
                     consistent with previous partitions, which have {expected} replica(s).",
                    replicas.len()
                )));
            }
            rf = Some(replicas.len());
            if !replicas.iter().any(|r| self.is_broker_up(*r)) {
                return Err(invalid(format!(
                    "All brokers specified in the manual partition assignment for partition {partition} are \
                     fenced or in controlled shutdown."
                )));
            }
            placed.insert(*partition, replicas.clone());
        }
        if placed.keys().copied().ne(0..placed.len() as i32) {
            return Err(invalid("partitions should be a consecutive 0-based integer sequence".into()));
        }
        Ok(placed.into_values().collect())
    }

    /// `deleteTopics` for one topic; requests waiting on it fail with `UNKNOWN_TOPIC_OR_PARTITION`.
    pub fn delete_topic(&mut self, at: VirtualTime, name: &str) -> Result<(), KafkaError> {
        self.advance_to(at);
        let topic = self.topics.remove(name).ok_or_else(unknown_topic)?;
        let waiting: Vec<RequestId> =
            self.pending.iter().filter(|(_, p)| p.topic_id == topic.id).map(|(&id, _)| id).collect();
        for id in waiting {
            self.complete(id, Err(unknown_topic()));
        }
        self.emit(KafkaEvent::TopicDeleted { topic: name.to_string() });
        Ok(())
    }

    /// `createPartitions`: raises the partition count to `total` (increase only).
    pub fn create_partitions(&mut self, at: VirtualTime, name: &str, total: i32) -> Result<(), KafkaError> {
        self.advance_to(at);
        let topic = self.topics.get(name).ok_or_else(unknown_topic)?;
        let current = topic.partitions.len() as i32;
        if total == current {
            return Err(KafkaError::with_message(
                ErrorCode::InvalidPartitions,
                format!("Topic already has {current} partition(s)."),
            ));
        }
        if total < current {
            return Err(KafkaError::with_message(
                ErrorCode::InvalidPartitions,
                format!("The topic {name} currently has {current} partition(s); {total} would not be an increase."),
            ));
        }
        let rf = topic.partitions[0].replicas.len() as i32;
        let placement = place_replicas(&self.usable_brokers(), total - current, rf, &mut self.prng)?;
        let parts: Vec<PartitionState> = placement.into_iter().map(|r| self.new_partition(r)).collect();
        if let Some(topic) = self.topics.get_mut(name) {
            topic.partitions.extend(parts);
        }
        self.emit(KafkaEvent::PartitionsCreated { topic: name.to_string(), partitions: total });
        Ok(())
    }

    /// `describeTopics` for one topic.
    pub fn describe_topic(&self, name: &str) -> Result<TopicDescription, KafkaError> {
        let topic = self.topics.get(name).ok_or_else(unknown_topic)?;
        Ok(TopicDescription {
            name: name.to_string(),
            partitions: topic
                .partitions
                .iter()
                .enumerate()
                .map(|(i, p)| PartitionInfo {
                    partition: i as i32,
                    leader: p.leader,
                    replicas: p.replicas.clone(),
                    isr: p.isr.clone(),
                })
                .collect(),
        })
    }

    /// `describeConfigs` for one topic.
    pub fn describe_configs(&self, name: &str) -> Result<Vec<ConfigEntry>, KafkaError> {
        // A real broker answers an unknown topic here with an empty message.
        let topic = self
            .topics
            .get(name)
            .ok_or_else(|| KafkaError::with_message(ErrorCode::UnknownTopicOrPartition, ""))?;
        Ok(topic.config.describe())
    }

    /// `incrementalAlterConfigs` (SET and DELETE) for one topic: all operations validated first, then
    /// applied together.
    pub fn alter_configs(
        &mut self,
        at: VirtualTime,
        name: &str,
        ops: &[AlterConfigOp],
    ) -> Result<(), KafkaError> {
        self.advance_to(at);
        let topic = self.topics.get(name).ok_or_else(|| {
            KafkaError::with_message(
                ErrorCode::UnknownTopicOrPartition,
                format!("The topic '{name}' does not exist."),
            )
        })?;
        let mut config = topic.config.clone();
        for op in ops {
            match &op.value {
                Some(v) => config.set(&op.name, v)?,
                None => config.reset(&op.name)?,
            }
        }
        let unclean_now = config.unclean_leader_election_enable;
        if let Some(topic) = self.topics.get_mut(name) {
            topic.config = config;
        }
        for op in ops {
            self.emit(KafkaEvent::ConfigAltered {
                topic: name.to_string(),
                name: op.name.clone(),
                value: op.value.clone(),
            });
        }
        if unclean_now {
            // Kafka elects a leader for offline partitions as soon as unclean election is allowed.
            let count = self.topics.get(name).map_or(0, |t| t.partitions.len());
            for p in 0..count {
                self.try_elect_offline(name, p);
            }
        }
        Ok(())
    }

    /// `deleteRecords`: moves the partition's log start offset to `before` (-1: the high watermark) and
    /// returns the low watermark. `OFFSET_OUT_OF_RANGE` beyond the high watermark.
    pub fn delete_records(
        &mut self,
        at: VirtualTime,
        tp: &TopicPartition,
        before: Offset,
    ) -> Result<Offset, KafkaError> {
        self.advance_to(at);
        let state = self.partition_mut(tp).ok_or_else(unknown_topic)?;
        if state.leader.is_none() {
            return Err(KafkaError::new(ErrorCode::LeaderNotAvailable));
        }
        let old = state.log.log_start_offset();
        let low = state.log.delete_records_before(before)?;
        if low > old {
            self.emit(KafkaEvent::LogStartOffsetIncreased { partition: tp.clone(), log_start_offset: low });
        }
        Ok(low)
    }

    pub(crate) fn partition_mut(&mut self, tp: &TopicPartition) -> Option<&mut PartitionState> {
        self.topics.get_mut(tp.topic.as_str())?.partitions.get_mut(usize::try_from(tp.partition).ok()?)
    }

    /// A new producer id (`InitProducerId`).
    pub fn allocate_producer_id(&mut self) -> i64 {
        let id = self.next_producer_id;
        self.next_producer_id += 1;
        id
    }

    /// The earliest timer due, if any.
    pub fn next_deadline(&self) -> Option<VirtualTime> {
        self.timers.next_due()
    }

    /// Fires every timer due at or before `t`, in order, and moves the clock to `t`.
    pub fn advance_to(&mut self, t: VirtualTime) {
        while let Some((due, timer)) = self.timers.pop_due(t) {
            if due > self.now {
                self.now = due;
            }
            self.fire(timer);
        }
        if t > self.now {
            self.now = t;
        }
    }

    fn fire(&mut self, timer: Timer) {
        match timer {
            Timer::FollowerFetch { topic_id, partition, replica, leader_epoch } => {
                self.follower_fetch(topic_id, partition, replica, leader_epoch)
            }
            Timer::IsrCheck { topic_id, partition, replica, leader_epoch } => {
                self.isr_check(topic_id, partition, replica, leader_epoch)
            }
            Timer::RequestTimeout(id) => {
                let silent = self.pending.get(&id).map(|w| w.silent_broker);
                if let Some(silent) = silent {
                    self.complete(id, Err(KafkaError::new(ErrorCode::RequestTimedOut)));
                    if let Some(broker) = silent {
                        // The Java client's request timeout closes its connection to the frozen broker:
                        // every other request in flight on it fails at once (retried, after a metadata
                        // refresh, to whichever broker leads then).
                        let others: Vec<RequestId> = self
                            .pending
                            .iter()
                            .filter(|(_, w)| w.silent_broker == Some(broker))
                            .map(|(&id, _)| id)
                            .collect();
                        for other in others {
                            self.complete(other, Err(KafkaError::new(ErrorCode::RequestTimedOut)));
                        }
                    }
                }
            }
            Timer::Retention => {
                self.run_retention();
                self.timers.schedule(
                    self.now.plus_millis(self.settings.log_retention_check_interval_ms),
                    Timer::Retention,
                );
            }
            Timer::PreferredLeaderElection => {
                self.rebalance_scheduled = false;
                self.elect_preferred_leaders();
            }
            Timer::TransactionTimeouts => {
                self.abort_timed_out_transactions();
                self.timers.schedule(
                    self.now.plus_millis(
                        self.settings.transaction_abort_timed_out_transaction_cleanup_interval_ms,
                    ),
                    Timer::TransactionTimeouts,
                );
            }
            Timer::BrokerSessionExpired { broker } => self.fence_crashed(broker),
            Timer::Cleaner => {
                self.run_cleaner();
                self.timers
                    .schedule(self.now.plus_millis(self.settings.log_cleaner_backoff_ms), Timer::Cleaner);
            }
        }
    }

    /// The log manager's retention check. It skips `compact,delete` logs: Kafka's log cleaner applies their
    /// retention (`run_cleaner`), so it comes at the cleaner's pace, not every
    /// `log.retention.check.interval.ms`.
    fn run_retention(&mut self) {
        let now = self.now_ms();
        let mut out = Vec::new();
        for (name, topic) in self.topics.iter_mut() {
            if topic.config.cleanup_policy.compact && topic.config.cleanup_policy.delete {
                continue;
            }
            for (i, p) in topic.partitions.iter_mut().enumerate() {
                for (segments, reason, start) in p.log.apply_retention(now, &topic.config) {
                    out.push(KafkaEvent::SegmentsDeleted {
                        partition: TopicPartition::new(name.clone(), i as i32),
                        segments,
                        log_start_offset: start,
                        reason: reason.to_string(),
                    });
                }
            }
        }
        for e in out {
            self.emit(e);
        }
    }

    fn run_cleaner(&mut self) {
        let now = self.now_ms();
        let mut out = Vec::new();
        for (name, topic) in self.topics.iter_mut() {
            for (i, p) in topic.partitions.iter_mut().enumerate() {
                if let Some(r) = p.log.clean(now, &topic.config) {
                    out.push(KafkaEvent::LogCleaned {
                        partition: TopicPartition::new(name.clone(), i as i32),
                        records_removed: r.records_removed,
                        cleaned_up_to: r.cleaned_up_to,
                    });
                }
                // Kafka's cleaner thread deletes old segments of `compact,delete` logs after each pass
                // (`LogCleanerManager.deletableLogs`); the log manager's retention check leaves them out.
                if topic.config.cleanup_policy.compact && topic.config.cleanup_policy.delete {
                    for (segments, reason, start) in p.log.apply_retention(now, &topic.config) {
                        out.push(KafkaEvent::SegmentsDeleted {
                            partition: TopicPartition::new(name.clone(), i as i32),
                            segments,
                            log_start_offset: start,
                            reason: reason.to_string(),
                        });
                    }
                }
            }
        }
        for e in out {
            self.emit(e);
        }
    }

    /// Runs the retention check and the cleaner now, whatever their schedule (an admin's nudge; tests).
    pub fn run_log_maintenance(&mut self, at: VirtualTime) {
        self.advance_to(at);
        self.run_retention();
        self.run_cleaner();
    }

    pub(crate) fn complete(&mut self, id: RequestId, result: Result<ProduceResponse, KafkaError>) {
        if self.pending.remove(&id).is_some() {
            self.completions.push(ProduceCompletion { request: id, at: self.now, result });
        }
    }

    /// Answers to requests that were waiting for their replicas, in the order they were answered.
    pub fn take_completions(&mut self) -> Vec<ProduceCompletion> {
        std::mem::take(&mut self.completions)
    }

    /// The answer to one waiting request, once it has one (a producer sharing the cluster with others
    /// takes only its own).
    pub fn take_completion(&mut self, request: RequestId) -> Option<ProduceCompletion> {
        let i = self.completions.iter().position(|c| c.request == request)?;
        Some(self.completions.remove(i))
    }

    /// Appends a batch at its partition's leader. `acks=all` waits (`Pending`) until the high watermark
    /// passes the batch, or fails first with `NOT_ENOUGH_REPLICAS` when the ISR is smaller than
    /// `min.insync.replicas` (capped at the replication factor, as Kafka 4 does).
    pub fn produce(&mut self, at: VirtualTime, request: &ProduceRequest) -> ProduceOutcome {
        self.advance_to(at);
        let now = self.now_ms();
        let tp = &request.partition;
        let Some(topic) = self.topics.get_mut(tp.topic.as_str()) else {
            return ProduceOutcome::Done(Err(unknown_topic()));
        };
        let topic_id = topic.id;
        let Some(state) = usize::try_from(tp.partition).ok().and_then(|i| topic.partitions.get_mut(i)) else {
            return ProduceOutcome::Done(Err(unknown_topic()));
        };
        let Some(leader) = state.leader else {
            return ProduceOutcome::Done(Err(KafkaError::new(ErrorCode::NotLeaderOrFollower)));
        };
        if self.brokers.iter().any(|b| b.id == leader && b.up && b.paused) {
            // A frozen leader reads nothing: the request is neither appended nor answered, and the
            // client times it out after `request.timeout.ms` (tests/scenarios/kafka-documents/paused-leader).
            let leader_epoch = state.leader_epoch;
            let id = self.next_request;
            self.next_request += 1;
            self.pending.insert(
                id,
                PendingProduce {
                    topic_id,
                    partition: tp.partition,
                    leader_epoch,
                    required_offset: Offset::MAX,
                    base_offset: -1,
                    log_append_time: -1,
                    silent_broker: Some(leader),
                },
            );
            self.timers.schedule(self.now.plus_millis(request.timeout_ms), Timer::RequestTimeout(id));
            return ProduceOutcome::Pending(id);
        }
        let min_isr = (topic.config.min_insync_replicas as usize).min(state.replicas.len());
        if request.acks == Acks::All && state.isr.len() < min_isr {
            return ProduceOutcome::Done(Err(KafkaError::new(ErrorCode::NotEnoughReplicas)));
        }
        let old_end = state.log.log_end_offset();
        let info = match state.log.append(now, tp, &topic.config, &request.records, request.producer.as_ref())
        {
            Ok(info) => info,
            Err(e) => return ProduceOutcome::Done(Err(e)),
        };
        let response = ProduceResponse {
            base_offset: if request.acks == Acks::None { -1 } else { info.base_offset },
            log_append_time: info.log_append_time.unwrap_or(-1),
            log_start_offset: state.log.log_start_offset(),
        };
        let leader_epoch = state.leader_epoch;
        if !info.duplicate {
            // Followers that were caught up until this append stay "caught up" as of now.
            for f in state.followers.iter_mut() {
                if f.log_end_offset >= old_end {
                    f.last_caught_up_ms = now;
                }
            }
            if let Some(base) = info.rolled {
                self.emit(KafkaEvent::SegmentRolled { partition: tp.clone(), base_offset: base });
            }
            self.emit(KafkaEvent::RecordsAppended {
                partition: tp.clone(),
                base_offset: info.base_offset,
                count: (info.last_offset - info.base_offset + 1) as u32,
            });
            self.after_leader_append(&tp.topic, tp.partition as usize);
        }
        let required = info.last_offset + 1;
        let hw = self.partition(tp).map_or(0, |p| p.log.high_watermark());
        if request.acks != Acks::All || hw >= required {
            if request.acks == Acks::All {
                if let Some(state) = self.partition_mut(tp) {
                    state.acked_all_end = state.acked_all_end.max(required);
                }
            }
            return ProduceOutcome::Done(Ok(response));
        }
        let id = self.next_request;
        self.next_request += 1;
        self.pending.insert(
            id,
            PendingProduce {
                topic_id,
                partition: tp.partition,
                leader_epoch,
                required_offset: required,
                base_offset: info.base_offset,
                log_append_time: response.log_append_time,
                silent_broker: None,
            },
        );
        self.timers.schedule(self.now.plus_millis(request.timeout_ms), Timer::RequestTimeout(id));
        ProduceOutcome::Pending(id)
    }

    /// Writes a transaction's markers (`WriteTxnMarkers`, sent by the transaction coordinator) to each of
    /// `partitions`: a control record that commits or aborts the producer's records there.
    pub fn write_txn_markers(
        &mut self,
        at: VirtualTime,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
        partitions: &[TopicPartition],
    ) -> Result<(), KafkaError> {
        self.advance_to(at);
        let now = self.now_ms();
        for tp in partitions {
            let Some(topic) = self.topics.get_mut(tp.topic.as_str()) else { continue };
            let config = topic.config.clone();
            let Some(state) = usize::try_from(tp.partition).ok().and_then(|i| topic.partitions.get_mut(i))
            else {
                continue;
            };
            if state.leader.is_none() {
                return Err(KafkaError::new(ErrorCode::NotLeaderOrFollower));
            }
            let old_end = state.log.log_end_offset();
            let (offset, rolled) = state.log.write_marker(now, &config, producer_id, producer_epoch, commit);
            for f in state.followers.iter_mut() {
                if f.log_end_offset >= old_end {
                    f.last_caught_up_ms = now;
                }
            }
            if let Some(base) = rolled {
                self.emit(KafkaEvent::SegmentRolled { partition: tp.clone(), base_offset: base });
            }
            self.emit(KafkaEvent::TransactionMarkerWritten {
                partition: tp.clone(),
                producer_id,
                commit,
                offset,
            });
            self.after_leader_append(&tp.topic, tp.partition as usize);
        }
        Ok(())
    }

    /// Checks every invariant in the module doc; panics naming the first one broken.
    pub fn assert_invariants(&self) {
        if let Err(e) = self.check_invariants() {
            panic!("{e}");
        }
    }

    /// The invariants as a result, the message naming the partition and the broken rule.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (name, topic) in &self.topics {
            for (i, p) in topic.partitions.iter().enumerate() {
                let tp = format!("{name}-{i}");
                p.log.check().map_err(|e| format!("{tp}: {e}"))?;
                if p.isr.is_empty() && p.leader.is_some() {
                    return Err(format!("{tp}: empty ISR with a leader"));
                }
                if p.isr.is_empty() && p.elr.is_empty() && !p.unclean {
                    return Err(format!("{tp}: neither ISR nor ELR"));
                }
                if let Some(r) = p.elr.iter().find(|r| !p.replicas.contains(r) || p.isr.contains(r)) {
                    return Err(format!("{tp}: ELR member {} is not an out-of-ISR replica", r.0));
                }
                if let Some(r) = p.isr.iter().find(|r| !p.replicas.contains(r)) {
                    return Err(format!("{tp}: ISR member {} is not a replica", r.0));
                }
                if let Some(leader) = p.leader {
                    if !p.isr.contains(&leader) {
                        return Err(format!("{tp}: leader {} not in ISR {:?}", leader.0, p.isr));
                    }
                    if !self.is_broker_up(leader) {
                        return Err(format!("{tp}: leader {} is down", leader.0));
                    }
                    for (j, r) in p.replicas.iter().enumerate() {
                        if *r == leader {
                            continue;
                        }
                        let leo = p.followers[j].log_end_offset;
                        if leo > p.log.log_end_offset() {
                            return Err(format!(
                                "{tp}: follower {} ahead of its leader ({leo} > {})",
                                r.0,
                                p.log.log_end_offset()
                            ));
                        }
                        if p.isr.contains(r) && leo < p.log.high_watermark() {
                            return Err(format!(
                                "{tp}: high watermark {} above ISR member {}'s end {leo}",
                                p.log.high_watermark(),
                                r.0
                            ));
                        }
                    }
                }
                if !p.unclean && p.log.log_end_offset() < p.acked_all_end {
                    return Err(format!(
                        "{tp}: acknowledged acks=all records lost: log end {} < {}",
                        p.log.log_end_offset(),
                        p.acked_all_end
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Consumers read from partition leaders: up to the high watermark (`read_uncommitted`) or the last
/// stable offset (`read_committed`, aborted transactions' records left out); control records never.
impl crate::kafka::PartitionReader for Cluster {
    fn partition_count(&self, topic: &str) -> Option<i32> {
        self.topics.get(topic).map(|t| t.partitions.len() as i32)
    }

    fn replica_racks(&self, partition: &TopicPartition) -> std::collections::BTreeSet<String> {
        let Some(p) = self.partition(partition) else { return Default::default() };
        p.replicas
            .iter()
            .filter_map(|id| self.brokers.iter().find(|b| b.id == *id).and_then(|b| b.rack.clone()))
            .collect()
    }

    fn leader_and_epoch(&self, partition: &TopicPartition) -> Option<(NodeId, Option<String>, i32)> {
        let p = self.partition(partition)?;
        let leader = p.leader?;
        let rack = self.brokers.iter().find(|b| b.id == leader).and_then(|b| b.rack.clone());
        Some((leader, rack, p.leader_epoch))
    }

    fn fetch(
        &mut self,
        at: VirtualTime,
        partition: &TopicPartition,
        offset: Offset,
        max_records: usize,
        isolation: crate::kafka::IsolationLevel,
    ) -> Result<Vec<crate::kafka::ConsumerRecord>, KafkaError> {
        self.advance_to(at);
        let p = self.partition(partition).ok_or_else(unknown_topic)?;
        if p.leader.is_none() {
            return Err(KafkaError::new(ErrorCode::LeaderNotAvailable));
        }
        let log = &p.log;
        if offset < log.log_start_offset() || offset > log.log_end_offset() {
            return Err(KafkaError::new(ErrorCode::OffsetOutOfRange));
        }
        let upper = match isolation {
            crate::kafka::IsolationLevel::ReadUncommitted => log.high_watermark(),
            crate::kafka::IsolationLevel::ReadCommitted => log.last_stable_offset(),
        };
        Ok(log.read(partition, offset, upper, max_records, isolation))
    }

    fn list_offset(
        &self,
        partition: &TopicPartition,
        spec: crate::kafka::OffsetSpec,
        isolation: crate::kafka::IsolationLevel,
    ) -> Result<Option<Offset>, KafkaError> {
        let p = self.partition(partition).ok_or_else(unknown_topic)?;
        if p.leader.is_none() {
            return Err(KafkaError::new(ErrorCode::LeaderNotAvailable));
        }
        let log = &p.log;
        let upper = match isolation {
            crate::kafka::IsolationLevel::ReadUncommitted => log.high_watermark(),
            crate::kafka::IsolationLevel::ReadCommitted => log.last_stable_offset(),
        };
        Ok(match spec {
            crate::kafka::OffsetSpec::Earliest => Some(log.log_start_offset()),
            crate::kafka::OffsetSpec::Latest => Some(upper),
            crate::kafka::OffsetSpec::ForTimestamp(t) => log.offset_for_timestamp(t, upper),
        })
    }
}
