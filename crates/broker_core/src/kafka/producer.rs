//! `KafkaProducer` with the Java client's semantics, on virtual time.
//!
//! `send` partitions the record (explicit partition, murmur2 of the key, or the sticky partitioner) and
//! appends it to the partition's open batch in the accumulator; a batch is sent when it is full
//! (`batch.size`), when it has waited `linger.ms`, on `flush`, or when its retry backoff has passed, and at
//! most `max.in.flight.requests.per.connection` batches per partition are outstanding (one broker
//! connection per partition leader in the model). Answers come back through the cluster; retriable errors
//! (`NOT_ENOUGH_REPLICAS`, `NOT_ENOUGH_REPLICAS_AFTER_APPEND`, `NOT_LEADER_OR_FOLLOWER`,
//! `LEADER_NOT_AVAILABLE`, `REQUEST_TIMED_OUT`) are retried after `retry.backoff.ms` while `retries` and
//! `delivery.timeout.ms` allow; a batch waiting longer than `delivery.timeout.ms` since its creation
//! expires with Kafka's `TimeoutException`.
//!
//! Idempotence (the default when `acks=all`, `retries > 0` and at most 5 in flight, as in Kafka ≥ 3.0):
//! the producer gets a producer id and epoch and numbers each partition's batches; a retried batch keeps
//! its sequence, so a leader that already wrote it answers with the first write's offset instead of
//! writing it again. Without idempotence the same retry is written twice. A sequenced batch that fails
//! for good (expired, out of retries) makes the producer bump its epoch and number every partition from 0
//! again once nothing is in flight, as the Java client does (tests/scenarios/kafka/idempotent-after-delivery-timeout).
//!
//! Transactions (`transactional.id`): `init_transactions` (fences an older producer with the same id),
//! `begin_transaction`, sends (their partitions join the transaction), `send_offsets_to_transaction`,
//! then `commit_transaction` / `abort_transaction`. Ending a transaction waits for its batches: it completes
//! inside [`KafkaProducer::advance_to`] once nothing is in flight, writing the markers, and reports a
//! [`TransactionOutcome`] (`take_transaction_outcomes`). The offsets given to `send_offsets_to_transaction`
//! are handed back in the outcome of a commit — the hook through which the group coordinator makes them
//! visible at that moment (and drops them on abort).
//!
//! Invariant: a record's result is reported exactly once; per partition, sequence numbers of batches sent
//! by an idempotent producer are consecutive.

use crate::clock::VirtualTime;
use crate::kafka::cluster::{Acks, Cluster, ProduceOutcome, ProduceRequest, RequestId};
use crate::kafka::log::{
    record_batch_size_upper_bound_with_payload, record_payload_size, record_size_with_payload, AppendRecord,
    ProducerBatch, BATCH_OVERHEAD,
};
use crate::kafka::partitioner::{partition_for_key, StickyPartitioner};
use crate::kafka::{
    ErrorCode, KafkaError, OffsetAndMetadata, PartitionReader, ProducerRecord, RecordMetadata, TopicName,
    TopicPartition,
};
use crate::Prng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

/// The producer's configuration (`ProducerConfig`), with Kafka 4.1's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerConfig {
    /// `acks` (default `all`).
    pub acks: Acks,
    /// `linger.ms` (default 5 since Kafka 4.0).
    pub linger_ms: u64,
    /// `batch.size` in bytes (default 16384).
    pub batch_size: usize,
    /// `retries` (default `Integer.MAX_VALUE`).
    pub retries: u32,
    /// `retry.backoff.ms` (default 100).
    pub retry_backoff_ms: u64,
    /// `delivery.timeout.ms` (default 120000).
    pub delivery_timeout_ms: u64,
    /// `request.timeout.ms` (default 30000).
    pub request_timeout_ms: u64,
    /// `max.in.flight.requests.per.connection` (default 5).
    pub max_in_flight_requests_per_connection: usize,
    /// `enable.idempotence`; `None` is the default: on when the other settings allow it.
    pub enable_idempotence: Option<bool>,
    /// `transactional.id`.
    pub transactional_id: Option<String>,
    /// `max.request.size` (default 1048576).
    pub max_request_size: usize,
    /// `max.block.ms` (default 60000): how long `send` waits for a topic's or partition's metadata.
    #[serde(default = "default_max_block_ms")]
    pub max_block_ms: u64,
    /// `transaction.timeout.ms` (default 60000): how long the coordinator lets a transaction stay open
    /// before aborting it.
    #[serde(default = "default_transaction_timeout_ms")]
    pub transaction_timeout_ms: u64,
}

fn default_transaction_timeout_ms() -> u64 {
    crate::kafka::transaction::DEFAULT_TRANSACTION_TIMEOUT_MS
}

fn default_max_block_ms() -> u64 {
    60_000
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            acks: Acks::All,
            linger_ms: 5,
            batch_size: 16_384,
            retries: i32::MAX as u32,
            retry_backoff_ms: 100,
            delivery_timeout_ms: 120_000,
            request_timeout_ms: 30_000,
            max_in_flight_requests_per_connection: 5,
            enable_idempotence: None,
            transactional_id: None,
            max_request_size: 1_048_576,
            max_block_ms: default_max_block_ms(),
            transaction_timeout_ms: default_transaction_timeout_ms(),
        }
    }
}

/// Why a record failed, as the Java client reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProducerError {
    /// A broker error or a client error with a protocol code (`TimeoutException`, `RecordTooLargeException`).
    Kafka(KafkaError),
    /// The record was in a transaction aborted before it was sent (`TransactionAbortedException`).
    TransactionAborted,
    /// A misuse the client refuses (`IllegalStateException`, `ConfigException`), with its message.
    Client(String),
}

impl fmt::Display for ProducerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProducerError::Kafka(e) => write!(f, "{e}"),
            ProducerError::TransactionAborted => {
                f.write_str("TransactionAbortedException: Failing batch since transaction was aborted")
            }
            ProducerError::Client(m) => f.write_str(m),
        }
    }
}

impl From<KafkaError> for ProducerError {
    fn from(e: KafkaError) -> Self {
        ProducerError::Kafka(e)
    }
}

/// Identifies one `send`.
pub type SendId = u64;

/// A record's outcome: what the `send` future (or callback) completes with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResult {
    /// The send.
    pub id: SendId,
    /// When the producer learned it.
    pub at: VirtualTime,
    /// Where it was written, or why not.
    pub result: Result<RecordMetadata, ProducerError>,
}

/// How a transaction ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionOutcome {
    /// When its markers were written.
    pub at: VirtualTime,
    /// Committed (`true`) or aborted.
    pub committed: bool,
    /// The offsets given to `send_offsets_to_transaction`, by group id: they become the groups' committed
    /// offsets now if committed, and are dropped if aborted.
    pub offsets: Vec<(String, TopicPartition, OffsetAndMetadata)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Batch {
    /// The sends' ids, one per record.
    ids: Vec<SendId>,
    /// The records, lent whole to each produce request (no per-record move).
    records: Vec<AppendRecord>,
    size: usize,
    /// The Java client's write limit for the batch: its buffer, `batch.size` or, when the first record's
    /// upper-bound estimate is larger, that estimate. A record fits while the exact size stays within it,
    /// and the batch is full (sent without waiting for `linger.ms`) once the size reaches it — so a batch
    /// whose one record is larger than `batch.size` is not full: it goes when the next record opens a
    /// batch behind it, its linger ends or a flush comes.
    limit: usize,
    created: VirtualTime,
    attempts: u32,
    base_sequence: Option<i32>,
    retry_at: Option<VirtualTime>,
    closed: bool,
}

#[derive(Clone, Debug)]
struct ProducerTopic {
    name: TopicName,
    sticky: StickyPartitioner,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum TxnState {
    Uninitialized,
    Ready,
    InTransaction,
    Committing,
    Aborting,
}

/// A Kafka producer.
#[derive(Clone, Debug)]
pub struct KafkaProducer {
    config: ProducerConfig,
    idempotent: bool,
    prng: Prng,
    producer_id: i64,
    epoch: i16,
    next_send: SendId,
    queues: BTreeMap<TopicPartition, VecDeque<Batch>>,
    in_flight: BTreeMap<RequestId, (TopicPartition, Batch)>,
    in_flight_count: BTreeMap<TopicPartition, usize>,
    next_sequence: BTreeMap<TopicPartition, i32>,
    /// Per topic sent to: its name as shared by every `TopicPartition` the producer makes (no copy per
    /// record) and the sticky partitioner's state; in the order first sent to, found by `topic_index`.
    topics: Vec<ProducerTopic>,
    topic_index: BTreeMap<String, usize>,
    /// The index in `topics` of the last send's topic (checked before searching `topic_index`).
    last_topic: usize,
    /// An idempotent (not transactional) producer's batch with a sequence failed for good (expired or
    /// out of retries): as the Java client, it bumps its epoch and restarts its sequences at 0 once
    /// nothing is in flight, instead of failing every later batch with an out-of-order sequence.
    epoch_bump_required: bool,
    results: Vec<SendResult>,
    flush_requested: bool,
    txn: TxnState,
    txn_partitions: Vec<TopicPartition>,
    txn_offsets: Vec<(String, TopicPartition, OffsetAndMetadata)>,
    txn_outcomes: Vec<TransactionOutcome>,
    /// The Java client's abortable error: a write of the open transaction failed because its epoch is
    /// old (the coordinator aborted it, or a newer producer fenced it). `commitTransaction` throws it;
    /// `abortTransaction` asks the coordinator for a bumped epoch.
    txn_error: Option<String>,
    /// Sends refused by `send` itself whose record was written all the same (a send before
    /// `initTransactions`): their later results are not reported.
    refused_at_send: BTreeSet<SendId>,
    /// The last instant handled.
    now: VirtualTime,
    /// At most the earliest `created` of a queued batch (`None`: none queued since the last exact
    /// count): `expire` has nothing to do before this plus `delivery.timeout.ms`.
    expiry_floor: Option<VirtualTime>,
    /// At most the earliest instant a queued batch's linger or retry backoff ends (`None`: none queued
    /// since the last exact count), and whether a queued batch may be closed. With neither due, no flush
    /// requested and no commit waiting, no partition is ready and `drain` skips its pass over the queues
    /// (a pass per `send` was a tenth of a send's cost). Kept on every insertion into the queues (`send`,
    /// a retry), recomputed after each full pass.
    ready_floor: Option<VirtualTime>,
    maybe_closed: bool,
    /// The id and record lists of answered batches, emptied, for the next batches to fill (a batch's
    /// lists grew from 16 to 64 entries anew each time: three allocations and two copies per batch).
    spare_batches: Vec<(Vec<SendId>, Vec<AppendRecord>)>,
}

/// At most this many emptied batch lists are kept (one per batch answered at once is plenty).
const SPARE_BATCHES: usize = 4;

fn is_retriable(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NotEnoughReplicas
            | ErrorCode::NotEnoughReplicasAfterAppend
            | ErrorCode::NotLeaderOrFollower
            | ErrorCode::LeaderNotAvailable
            | ErrorCode::RequestTimedOut
    )
}

fn config_error(message: &str) -> ProducerError {
    ProducerError::Client(format!("ConfigException: {message}"))
}

fn illegal_state(message: &str) -> ProducerError {
    ProducerError::Client(format!("IllegalStateException: {message}"))
}

impl KafkaProducer {
    /// A producer, after the Java client's checks of its configuration; randomness (the sticky
    /// partitioner) from `seed`.
    pub fn new(config: ProducerConfig, seed: u64) -> Result<Self, ProducerError> {
        let compatible = config.acks == Acks::All
            && config.retries > 0
            && config.max_in_flight_requests_per_connection <= 5;
        let idempotent = match config.enable_idempotence {
            Some(true) => {
                if config.acks != Acks::All {
                    return Err(config_error("Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence."));
                }
                if config.retries == 0 {
                    return Err(config_error(
                        "Must set retries to non-zero when using the idempotent producer.",
                    ));
                }
                if config.max_in_flight_requests_per_connection > 5 {
                    return Err(config_error(&format!(
                        "To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5. Current value is {}.",
                        config.max_in_flight_requests_per_connection
                    )));
                }
                true
            }
            Some(false) => false,
            None => compatible || config.transactional_id.is_some(),
        };
        if config.transactional_id.is_some() && !idempotent {
            return Err(config_error("Cannot set a transactional.id without also enabling idempotence."));
        }
        if config.delivery_timeout_ms < config.linger_ms + config.request_timeout_ms {
            return Err(config_error(
                "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms",
            ));
        }
        Ok(KafkaProducer {
            txn: if config.transactional_id.is_some() { TxnState::Uninitialized } else { TxnState::Ready },
            config,
            idempotent,
            prng: Prng::new(seed),
            producer_id: -1,
            epoch: -1,
            next_send: 1,
            queues: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            in_flight_count: BTreeMap::new(),
            next_sequence: BTreeMap::new(),
            topics: Vec::new(),
            topic_index: BTreeMap::new(),
            last_topic: 0,
            epoch_bump_required: false,
            results: Vec::new(),
            flush_requested: false,
            txn_partitions: Vec::new(),
            refused_at_send: BTreeSet::new(),
            txn_offsets: Vec::new(),
            txn_outcomes: Vec::new(),
            txn_error: None,
            now: VirtualTime::ZERO,
            expiry_floor: None,
            ready_floor: None,
            maybe_closed: false,
            spare_batches: Vec::new(),
        })
    }

    /// Whether the producer is idempotent.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    /// The producer id and epoch (-1 before the first send of an idempotent producer).
    pub fn producer_id_and_epoch(&self) -> (i64, i16) {
        (self.producer_id, self.epoch)
    }

    fn ensure_producer_id(&mut self, cluster: &mut Cluster, at: VirtualTime) -> Result<(), ProducerError> {
        if self.idempotent && self.producer_id < 0 {
            let (id, epoch) = cluster.init_producer_id(at, None)?;
            self.producer_id = id;
            self.epoch = epoch;
        }
        Ok(())
    }

    /// `send`: queues the record and returns its id; its result comes later from
    /// [`take_results`](Self::take_results). Errors the Java client throws from `send` itself come back
    /// at once.
    pub fn send(
        &mut self,
        cluster: &mut Cluster,
        at: VirtualTime,
        record: ProducerRecord,
    ) -> Result<SendId, ProducerError> {
        self.advance_to(cluster, at);
        // Kafka 4.1's client queues a record sent before initTransactions, then fails the send when it
        // adds the partition to the (absent) transaction; the queued record is sent all the same, without
        // a producer id (seen on the real broker: producer-acks-and-config, line 32).
        let before_init = self.txn == TxnState::Uninitialized;
        match self.txn {
            TxnState::Uninitialized => {}
            TxnState::Ready if self.config.transactional_id.is_some() => {
                return Err(illegal_state("Cannot call send in state READY"))
            }
            TxnState::Committing | TxnState::Aborting => {
                return Err(illegal_state("Cannot call send in state COMMITTING_TRANSACTION"))
            }
            _ => {}
        }
        // The checks `new ProducerRecord(...)` makes (messages from the kafka-clients 4.1.1 jar).
        if let Some(p) = record.partition.filter(|p| *p < 0) {
            return Err(ProducerError::Client(format!(
                "IllegalArgumentException: Invalid partition: {p}. Partition number should always be non-negative or null."
            )));
        }
        if let Some(t) = record.timestamp.filter(|t| *t < 0) {
            return Err(ProducerError::Client(format!(
                "IllegalArgumentException: Invalid timestamp: {t}. Timestamp should always be non-negative or null."
            )));
        }
        if !before_init {
            self.ensure_producer_id(cluster, at)?;
        }
        let partitions = cluster.partition_count(&record.topic).ok_or_else(|| {
            // The Java client waits max.block.ms for the topic's metadata, then throws.
            KafkaError::with_message(
                ErrorCode::RequestTimedOut,
                format!(
                    "Topic {} not present in metadata after {} ms.",
                    record.topic, self.config.max_block_ms
                ),
            )
        })?;
        let timestamp = record.timestamp.unwrap_or(at.as_millis() as i64);
        // The key, value and headers are measured once; the sizes below add the parts that vary.
        let payload = record_payload_size(record.key.as_deref(), record.value.as_deref(), &record.headers);
        let size = BATCH_OVERHEAD + record_size_with_payload(0, 0, payload);
        // The Java client checks its upper-bound estimate, not the exact size.
        let estimate = record_batch_size_upper_bound_with_payload(payload);
        if estimate > self.config.max_request_size {
            return Err(KafkaError::with_message(
                ErrorCode::MessageTooLarge,
                format!(
                    "The message is {estimate} bytes when serialized which is larger than {}, which is the value of the max.request.size configuration.",
                    self.config.max_request_size
                ),
            )
            .into());
        }
        // The topic of the last send first: one comparison of names instead of a map search.
        let index = match self.topics.get(self.last_topic) {
            Some(t) if t.name.as_str() == record.topic => self.last_topic,
            _ => match self.topic_index.get(&record.topic) {
                Some(&i) => i,
                None => {
                    self.topics.push(ProducerTopic {
                        name: TopicName::from(&record.topic),
                        sticky: StickyPartitioner::default(),
                    });
                    self.topic_index.insert(record.topic.clone(), self.topics.len() - 1);
                    self.topics.len() - 1
                }
            },
        };
        self.last_topic = index;
        let topic = &mut self.topics[index];
        let partition = match (record.partition, &record.key) {
            (Some(p), _) => {
                if p >= partitions {
                    return Err(KafkaError::with_message(
                        ErrorCode::RequestTimedOut,
                        format!(
                            "Partition {p} of topic {} with partition count {partitions} is not present in metadata after {} ms.",
                            record.topic, self.config.max_block_ms
                        ),
                    )
                    .into());
                }
                p
            }
            (None, Some(key)) => partition_for_key(key, partitions),
            (None, None) => {
                // Read off the topic's partitions in place: a `TopicPartition` per partition and send
                // (a name copied each time) was most of a send's cost.
                // Only when the sticky partition is drawn anew.
                let available = || {
                    cluster.topic(&record.topic).map_or_else(Vec::new, |t| {
                        (0..partitions)
                            .filter(|&p| t.partitions.get(p as usize).is_some_and(|s| s.leader.is_some()))
                            .collect()
                    })
                };
                topic.sticky.partition_with(partitions, available, &mut self.prng)
            }
        };
        let sticky_placed = record.partition.is_none() && record.key.is_none();
        let ProducerRecord { key, value, headers, .. } = record;
        let tp = TopicPartition { topic: topic.name.clone(), partition };
        if self.txn == TxnState::InTransaction && !self.txn_partitions.contains(&tp) {
            let tid = self.config.transactional_id.clone().unwrap_or_default();
            cluster.add_partitions_to_txn(
                at,
                &tid,
                self.producer_id,
                self.epoch,
                std::slice::from_ref(&tp),
            )?;
            self.txn_partitions.push(tp.clone());
        }
        let id = self.next_send;
        self.next_send += 1;
        let append = AppendRecord { timestamp, key, value, headers };
        let ready_at = at.plus_millis(self.config.linger_ms);
        // One lookup of the partition's queue per send (inserting it the first time).
        let queue = match self.queues.get_mut(&tp) {
            Some(q) => q,
            None => self.queues.entry(tp.clone()).or_default(),
        };
        // The record's size in the open batch, if it fits there.
        let fits = queue.back().and_then(|b| {
            if b.closed || b.base_sequence.is_some() || b.retry_at.is_some() {
                return None;
            }
            let delta = b.records.len() as i64;
            let ts = timestamp - b.records[0].timestamp;
            let bytes = record_size_with_payload(delta, ts, payload);
            (b.size + bytes <= b.limit).then_some(bytes)
        });
        let appended = if let Some(bytes) = fits {
            let b = queue.back_mut().expect("checked");
            b.size += bytes;
            b.ids.push(id);
            b.records.push(append);
            bytes
        } else {
            if let Some(b) = queue.back_mut() {
                b.closed = true;
                self.maybe_closed = true;
            }
            let bytes = size - BATCH_OVERHEAD;
            // Room for a few records: a batch that lingers takes several, and growing from one costs
            // a reallocation at 1, 4, 8 and 16.
            let (mut ids, mut records) =
                self.spare_batches.pop().unwrap_or_else(|| (Vec::with_capacity(16), Vec::with_capacity(16)));
            ids.push(id);
            records.push(append);
            self.ready_floor = Some(self.ready_floor.map_or(ready_at, |f| f.min(ready_at)));
            self.expiry_floor = Some(self.expiry_floor.map_or(at, |f| f.min(at)));
            queue.push_back(Batch {
                ids,
                records,
                size,
                limit: self.config.batch_size.max(estimate),
                created: at,
                attempts: 0,
                base_sequence: None,
                retry_at: None,
                closed: false,
            });
            bytes
        };
        if sticky_placed {
            topic.sticky.record_appended(appended, self.config.batch_size);
        }
        if let Some(b) = queue.back_mut() {
            if b.size >= b.limit {
                b.closed = true;
                self.maybe_closed = true;
            }
        }
        if before_init {
            self.refused_at_send.insert(id);
            self.flush_requested = true;
            self.drain(cluster, at);
            return Err(illegal_state(&format!(
                "Cannot add partition {tp} to transaction before completing a call to initTransactions"
            )));
        }
        self.drain(cluster, at);
        Ok(id)
    }

    /// `flush`: sends every batch now, without waiting for `linger.ms`.
    pub fn flush(&mut self, cluster: &mut Cluster, at: VirtualTime) {
        self.advance_to(cluster, at);
        self.flush_requested = true;
        self.drain(cluster, at);
    }

    /// Results since the last call, in the order the producer learned them.
    pub fn take_results(&mut self) -> Vec<SendResult> {
        let mut results = std::mem::take(&mut self.results);
        results.retain(|r| !self.refused_at_send.remove(&r.id));
        results
    }

    /// Transactions ended since the last call.
    pub fn take_transaction_outcomes(&mut self) -> Vec<TransactionOutcome> {
        std::mem::take(&mut self.txn_outcomes)
    }

    /// Records not yet answered (queued or in flight).
    pub fn unanswered(&self) -> usize {
        self.queues.values().flat_map(|q| q.iter()).map(|b| b.records.len()).sum::<usize>()
            + self.in_flight.values().map(|(_, b)| b.records.len()).sum::<usize>()
    }

    /// The earliest moment after the producer's present when it has something to do on its own (a linger
    /// or backoff ending, a batch expiring), or its cluster has (an answer may come). A batch held back by
    /// `max.in.flight.requests.per.connection` waits for an answer, not for a time.
    pub fn next_deadline(&self, cluster: &Cluster) -> Option<VirtualTime> {
        self.next_deadline_after(cluster, self.now)
    }

    fn next_deadline_after(&self, cluster: &Cluster, now: VirtualTime) -> Option<VirtualTime> {
        let own = self
            .queues
            .values()
            .flat_map(|q| q.iter())
            .flat_map(|b| {
                let ready = b.retry_at.unwrap_or(b.created.plus_millis(self.config.linger_ms));
                [ready, b.created.plus_millis(self.config.delivery_timeout_ms)]
            })
            .filter(|&d| d > now)
            .min();
        let theirs = cluster.next_deadline().filter(|&d| d > now);
        match (own, theirs) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Moves the producer and its cluster to `t`: every cluster timer and producer deadline in between
    /// fires at its own time, answers are taken as they come. Each pass handles one instant and the next
    /// one is strictly later, so it always ends.
    pub fn advance_to(&mut self, cluster: &mut Cluster, t: VirtualTime) {
        // The fast path of a `send` at the instant already handled, when nothing can have arrived since (no
        // request waits for an answer, no cluster timer is due, no transaction is ending): the one pass
        // below would only expire and drain. If that drain set a timer due now, the full loop runs.
        if t == self.now
            && cluster.now() == t
            && self.in_flight.is_empty()
            && !matches!(self.txn, TxnState::Committing | TxnState::Aborting)
            && cluster.next_deadline().is_none_or(|d| d > t)
        {
            self.expire(t);
            self.drain(cluster, t);
            if self.in_flight.is_empty() && cluster.next_deadline().is_none_or(|d| d > t) {
                return;
            }
        }
        let mut now = self.now.max(cluster.now().min(t));
        loop {
            cluster.advance_to(now);
            self.collect(cluster);
            self.expire(now);
            self.drain(cluster, now);
            self.maybe_end_transaction(cluster, now);
            self.now = self.now.max(now);
            // Timers the drain just set for this same instant (a zero fetch latency) fire first.
            if cluster.next_deadline().is_some_and(|d| d <= now) {
                continue;
            }
            match self.next_deadline_after(cluster, now).filter(|&d| d <= t) {
                Some(d) => now = d,
                None if now < t => now = t,
                None => break,
            }
        }
    }

    fn collect(&mut self, cluster: &mut Cluster) {
        if self.in_flight.is_empty() {
            return;
        }
        let ids: Vec<RequestId> = self.in_flight.keys().copied().collect();
        for id in ids {
            if let Some(done) = cluster.take_completion(id) {
                if let Some((tp, batch)) = self.in_flight.remove(&id) {
                    self.answered(
                        tp,
                        batch,
                        done.at,
                        done.result.map(|r| (r.base_offset, r.log_append_time)),
                    );
                }
            }
        }
    }

    fn answered(
        &mut self,
        tp: TopicPartition,
        mut batch: Batch,
        at: VirtualTime,
        result: Result<(i64, i64), KafkaError>,
    ) {
        if let Some(n) = self.in_flight_count.get_mut(&tp) {
            *n = n.saturating_sub(1);
        }
        match result {
            Ok((base, log_append_time)) => {
                self.results.reserve(batch.records.len());
                for (i, (id, r)) in batch.ids.iter().zip(&batch.records).enumerate() {
                    let offset = if base < 0 { -1 } else { base + i as i64 };
                    let timestamp = if log_append_time >= 0 { log_append_time } else { r.timestamp };
                    self.results.push(SendResult {
                        id: *id,
                        at,
                        result: Ok(RecordMetadata { partition: tp.clone(), offset, timestamp }),
                    });
                }
                if self.spare_batches.len() < SPARE_BATCHES {
                    let (mut ids, mut records) = (batch.ids, batch.records);
                    ids.clear();
                    records.clear();
                    self.spare_batches.push((ids, records));
                }
            }
            Err(e) => {
                let expired = at >= batch.created.plus_millis(self.config.delivery_timeout_ms);
                // An idempotent producer's later batch is refused while an earlier one of the same partition
                // is being retried; it is retried after it, as the Java client does.
                let earlier_retrying = self.idempotent
                    && e.code == ErrorCode::OutOfOrderSequenceNumber
                    && batch.base_sequence.is_some_and(|seq| {
                        let earlier = |b: &Batch| b.base_sequence.is_some_and(|s| s < seq);
                        self.queues.get(&tp).is_some_and(|q| q.iter().any(earlier))
                            || self.in_flight.values().any(|(t, b)| *t == tp && earlier(b))
                    });
                if (is_retriable(e.code) || earlier_retrying)
                    && batch.attempts <= self.config.retries
                    && !expired
                {
                    let retry_at = at.plus_millis(self.config.retry_backoff_ms);
                    batch.retry_at = Some(retry_at);
                    self.ready_floor = Some(self.ready_floor.map_or(retry_at, |f| f.min(retry_at)));
                    self.expiry_floor =
                        Some(self.expiry_floor.map_or(batch.created, |f| f.min(batch.created)));
                    let queue = self.queues.entry(tp).or_default();
                    // A retried batch goes back before the batches created after it.
                    let pos = queue
                        .iter()
                        .position(|b| match (b.base_sequence, batch.base_sequence) {
                            (Some(other), Some(own)) => other > own,
                            _ => b.base_sequence.is_none() || b.created > batch.created,
                        })
                        .unwrap_or(queue.len());
                    queue.insert(pos, batch);
                } else {
                    self.note_failed_sequence(&batch);
                    if e.code == ErrorCode::InvalidProducerEpoch
                        && matches!(self.txn, TxnState::InTransaction | TxnState::Committing)
                    {
                        let tid = self.config.transactional_id.as_deref().unwrap_or_default();
                        self.txn_error = Some(format!(
                            "InvalidProducerEpochException: Producer with transactionalId '{tid}' and (producerId={}, epoch={}) attempted to produce with an old epoch",
                            self.producer_id, self.epoch
                        ));
                    }
                    for id in batch.ids {
                        self.results.push(SendResult {
                            id,
                            at,
                            result: Err(ProducerError::Kafka(e.clone())),
                        });
                    }
                }
            }
        }
    }

    fn expire(&mut self, now: VirtualTime) {
        let timeout = self.config.delivery_timeout_ms;
        if self.expiry_floor.is_none_or(|f| now < f.plus_millis(timeout)) {
            return;
        }
        let mut expired = Vec::new();
        let due = |b: &Batch| now >= b.created.plus_millis(timeout);
        if !self.queues.values().flat_map(|q| q.iter()).any(due) {
            self.expiry_floor = self.queues.values().flat_map(|q| q.iter()).map(|b| b.created).min();
            return;
        }
        for (tp, queue) in self.queues.iter_mut() {
            queue.retain(|b| {
                if due(b) {
                    expired.push((tp.clone(), b.clone()));
                    false
                } else {
                    true
                }
            });
        }
        self.queues.retain(|_, q| !q.is_empty());
        self.expiry_floor = self.queues.values().flat_map(|q| q.iter()).map(|b| b.created).min();
        for (tp, b) in expired {
            self.note_failed_sequence(&b);
            let waited = now.as_millis() - b.created.as_millis();
            let e = KafkaError::with_message(
                ErrorCode::RequestTimedOut,
                format!(
                    "Expiring {} record(s) for {tp}:{waited} ms has passed since batch creation",
                    b.records.len()
                ),
            );
            for id in b.ids {
                self.results.push(SendResult { id, at: now, result: Err(ProducerError::Kafka(e.clone())) });
            }
        }
    }

    /// Whether `tp`'s first queued batch may be sent at `now` (room in flight, lingered, closed, flushed,
    /// or its backoff over).
    fn head_ready(&self, tp: &TopicPartition, head: &Batch, now: VirtualTime) -> bool {
        let due = match head.retry_at {
            Some(r) => now >= r,
            None => {
                head.closed
                    || self.flush_requested
                    || now >= head.created.plus_millis(self.config.linger_ms)
                    || self.txn == TxnState::Committing
            }
        };
        // The cheap test first: most calls find a batch still lingering.
        due && self.in_flight_count.get(tp).copied().unwrap_or(0)
            < self.config.max_in_flight_requests_per_connection
    }

    fn note_failed_sequence(&mut self, batch: &Batch) {
        if self.idempotent && self.config.transactional_id.is_none() && batch.base_sequence.is_some() {
            self.epoch_bump_required = true;
        }
    }

    /// The Java client's idempotent epoch bump: same producer id, epoch + 1 (a new id once the epoch is
    /// exhausted), every partition's sequence from 0 — queued batches are numbered again as they go.
    fn bump_epoch_if_required(&mut self, cluster: &mut Cluster, now: VirtualTime) {
        if !self.epoch_bump_required || !self.in_flight.is_empty() {
            return;
        }
        self.epoch_bump_required = false;
        if self.epoch == i16::MAX {
            match cluster.init_producer_id(now, None) {
                Ok((id, epoch)) => {
                    self.producer_id = id;
                    self.epoch = epoch;
                }
                Err(_) => {
                    self.epoch_bump_required = true;
                    return;
                }
            }
        } else {
            self.epoch += 1;
        }
        self.next_sequence.clear();
        for b in self.queues.values_mut().flat_map(|q| q.iter_mut()) {
            b.base_sequence = None;
        }
    }

    fn drain(&mut self, cluster: &mut Cluster, now: VirtualTime) {
        // No batch can be ready: nothing to visit (see `ready_floor`).
        if !self.flush_requested
            && self.txn != TxnState::Committing
            && !self.maybe_closed
            && self.ready_floor.is_none_or(|f| now < f)
        {
            return;
        }
        self.bump_epoch_if_required(cluster, now);
        // Only partitions with a batch ready now are visited (most calls, one per `send`, find none):
        // sending one partition's batches never makes another's ready, so this is the same drain.
        let partitions: Vec<TopicPartition> = self
            .queues
            .iter()
            .filter(|(tp, q)| q.front().is_some_and(|head| self.head_ready(tp, head, now)))
            .map(|(tp, _)| tp.clone())
            .collect();
        for tp in partitions {
            while let Some(head) = self.queues.get(&tp).and_then(|q| q.front()) {
                if !self.head_ready(&tp, head, now) {
                    break;
                }
                // An idempotent producer retries a batch only in its sequence order.
                let queue = self.queues.get_mut(&tp).expect("checked");
                let mut batch = queue.pop_front().expect("checked");
                // No empty queues are kept: every pass over the queues (one per `send`) visits only
                // partitions with something to send.
                if queue.is_empty() {
                    self.queues.remove(&tp);
                }
                batch.closed = true;
                batch.retry_at = None;
                batch.attempts += 1;
                // No producer id yet (a record sent before initTransactions): a plain batch.
                let producer = if self.idempotent && self.producer_id >= 0 {
                    let seq = *batch.base_sequence.get_or_insert_with(|| {
                        let next = self.next_sequence.entry(tp.clone()).or_insert(0);
                        let s = *next;
                        *next = next.wrapping_add(batch.records.len() as i32);
                        s
                    });
                    Some(ProducerBatch {
                        producer_id: self.producer_id,
                        producer_epoch: self.epoch,
                        base_sequence: seq,
                        transactional: self.config.transactional_id.is_some(),
                    })
                } else {
                    None
                };
                // The record list moves into the request and back after it (the batch keeps it for a
                // retry), rather than being copied for every attempt.
                let records = std::mem::take(&mut batch.records);
                let request = ProduceRequest {
                    partition: tp.clone(),
                    acks: self.config.acks,
                    timeout_ms: self.config.request_timeout_ms,
                    records,
                    producer,
                };
                *self.in_flight_count.entry(tp.clone()).or_insert(0) += 1;
                let outcome = cluster.produce(now, &request);
                batch.records = request.records;
                match outcome {
                    // acks=0: no answer comes back; the client counts the batch done once sent, offset -1.
                    ProduceOutcome::Done(_) if self.config.acks == Acks::None => {
                        self.answered(tp.clone(), batch, now, Ok((-1, -1)));
                    }
                    ProduceOutcome::Done(result) => {
                        self.answered(
                            tp.clone(),
                            batch,
                            now,
                            result.map(|r| (r.base_offset, r.log_append_time)),
                        );
                    }
                    ProduceOutcome::Pending(id) => {
                        self.in_flight.insert(id, (tp.clone(), batch));
                    }
                }
            }
        }
        if self.queues.values().all(|q| q.is_empty()) {
            self.flush_requested = false;
        }
        let queued = self.queues.values().flat_map(|q| q.iter());
        self.ready_floor =
            queued.clone().map(|b| b.retry_at.unwrap_or(b.created.plus_millis(self.config.linger_ms))).min();
        self.maybe_closed = queued.clone().any(|b| b.closed && b.retry_at.is_none());
    }

    /// A transaction is open (begun and not yet ending).
    pub fn in_transaction(&self) -> bool {
        self.txn == TxnState::InTransaction
    }

    /// `initTransactions`: registers the transactional id, fencing an older producer with the same id.
    pub fn init_transactions(&mut self, cluster: &mut Cluster, at: VirtualTime) -> Result<(), ProducerError> {
        self.advance_to(cluster, at);
        let Some(tid) = self.config.transactional_id.clone() else {
            return Err(illegal_state("Transactional method invoked on a non-transactional producer."));
        };
        let (id, epoch) = cluster
            .init_transactional_producer_id(at, &tid, self.config.transaction_timeout_ms)
            .map_err(|e| match e.code {
                // The Java client's TransactionManager has no case for this code (Kafka 4.1.1, seen on the
                // real broker with transaction.timeout.ms above transaction.max.timeout.ms).
                ErrorCode::InvalidTransactionTimeout => ProducerError::Client(format!(
                    "KafkaException: Unexpected error in InitProducerIdResponse; {}",
                    e.message
                )),
                _ => ProducerError::Kafka(e),
            })?;
        self.producer_id = id;
        self.epoch = epoch;
        self.next_sequence.clear();
        self.txn = TxnState::Ready;
        Ok(())
    }

    /// `beginTransaction`.
    pub fn begin_transaction(&mut self) -> Result<(), ProducerError> {
        match self.txn {
            TxnState::Ready if self.config.transactional_id.is_some() => {
                self.txn = TxnState::InTransaction;
                Ok(())
            }
            _ if self.config.transactional_id.is_none() => {
                Err(illegal_state("Transactional method invoked on a non-transactional producer."))
            }
            _ => Err(self.invalid_transition("IN_TRANSACTION")),
        }
    }

    /// The Java client's `TransactionManager` refusing a move of its state machine to `to`.
    fn invalid_transition(&self, to: &str) -> ProducerError {
        let from = match self.txn {
            TxnState::Uninitialized => "UNINITIALIZED",
            TxnState::Ready => "READY",
            TxnState::InTransaction => "IN_TRANSACTION",
            TxnState::Committing => "COMMITTING_TRANSACTION",
            TxnState::Aborting => "ABORTING_TRANSACTION",
        };
        let tid = self.config.transactional_id.as_deref().unwrap_or_default();
        illegal_state(&format!(
            "TransactionalId {tid}: Invalid transition attempted from state {from} to state {to}"
        ))
    }

    /// `sendOffsetsToTransaction`: the consumer group `group_id`'s offsets, committed with the transaction.
    pub fn send_offsets_to_transaction(
        &mut self,
        group_id: &str,
        offsets: Vec<(TopicPartition, OffsetAndMetadata)>,
    ) -> Result<(), ProducerError> {
        if self.txn != TxnState::InTransaction {
            let state = match self.txn {
                TxnState::Uninitialized => "UNINITIALIZED",
                TxnState::Ready => "READY",
                TxnState::InTransaction => "IN_TRANSACTION",
                TxnState::Committing => "COMMITTING_TRANSACTION",
                TxnState::Aborting => "ABORTING_TRANSACTION",
            };
            return Err(illegal_state(&format!(
                "Cannot send offsets if a transaction is not in progress (currentState= {state})"
            )));
        }
        for (tp, o) in offsets {
            self.txn_offsets.retain(|(g, t, _)| !(g == group_id && *t == tp));
            self.txn_offsets.push((group_id.to_string(), tp, o));
        }
        Ok(())
    }

    /// `commitTransaction`: flushes, and once every batch of the transaction is answered writes the commit
    /// markers (within `advance_to`); the outcome is reported by `take_transaction_outcomes`.
    pub fn commit_transaction(
        &mut self,
        cluster: &mut Cluster,
        at: VirtualTime,
    ) -> Result<(), ProducerError> {
        self.end_transaction(cluster, at, true)
    }

    /// `abortTransaction`: records not yet sent fail with `TransactionAbortedException`; once the batches in
    /// flight are answered the abort markers are written.
    pub fn abort_transaction(&mut self, cluster: &mut Cluster, at: VirtualTime) -> Result<(), ProducerError> {
        self.end_transaction(cluster, at, false)
    }

    fn end_transaction(
        &mut self,
        cluster: &mut Cluster,
        at: VirtualTime,
        commit: bool,
    ) -> Result<(), ProducerError> {
        self.advance_to(cluster, at);
        if self.config.transactional_id.is_none() {
            return Err(illegal_state("Transactional method invoked on a non-transactional producer."));
        }
        if self.txn != TxnState::InTransaction {
            return Err(self.invalid_transition(if commit {
                "COMMITTING_TRANSACTION"
            } else {
                "ABORTING_TRANSACTION"
            }));
        }
        if let Some(error) = self.txn_error.clone() {
            return self.end_after_abortable_error(cluster, at, commit, error);
        }
        if commit {
            self.txn = TxnState::Committing;
            self.flush_requested = true;
            self.drain(cluster, at);
        } else {
            self.txn = TxnState::Aborting;
            let queued: Vec<Batch> = self.queues.values_mut().flat_map(|q| q.drain(..)).collect();
            for b in queued {
                for id in b.ids {
                    self.results.push(SendResult { id, at, result: Err(ProducerError::TransactionAborted) });
                }
            }
        }
        self.maybe_end_transaction(cluster, at);
        Ok(())
    }

    /// Ending a transaction after an old-epoch write: a commit throws the error; an abort drops the
    /// unsent records and asks the coordinator for a bumped epoch (`InitProducerId` with the current one),
    /// which it grants only after its own timeout abort — a fenced producer gets `ProducerFencedException`.
    fn end_after_abortable_error(
        &mut self,
        cluster: &mut Cluster,
        at: VirtualTime,
        commit: bool,
        error: String,
    ) -> Result<(), ProducerError> {
        if commit {
            return Err(ProducerError::Client(error));
        }
        let queued: Vec<Batch> = self.queues.values_mut().flat_map(|q| q.drain(..)).collect();
        self.queues.clear();
        for b in queued {
            for id in b.ids {
                self.results.push(SendResult { id, at, result: Err(ProducerError::TransactionAborted) });
            }
        }
        let tid = self.config.transactional_id.clone().unwrap_or_default();
        let epoch = cluster.bump_epoch_after_timeout(at, &tid, self.producer_id, self.epoch)?;
        self.epoch = epoch;
        self.next_sequence.clear();
        self.txn_error = None;
        self.txn_offsets.clear();
        self.txn_partitions.clear();
        self.txn = TxnState::Ready;
        self.txn_outcomes.push(TransactionOutcome { at, committed: false, offsets: Vec::new() });
        Ok(())
    }

    fn maybe_end_transaction(&mut self, cluster: &mut Cluster, now: VirtualTime) {
        let commit = match self.txn {
            TxnState::Committing => true,
            TxnState::Aborting => false,
            _ => return,
        };
        if !self.in_flight.is_empty() || self.queues.values().any(|q| !q.is_empty()) {
            return;
        }
        let tid = self.config.transactional_id.clone().unwrap_or_default();
        let result = cluster.end_transaction(now, &tid, self.producer_id, self.epoch, commit);
        let offsets = std::mem::take(&mut self.txn_offsets);
        self.txn_partitions.clear();
        self.txn = TxnState::Ready;
        self.txn_outcomes.push(TransactionOutcome {
            at: now,
            committed: commit && result.is_ok(),
            offsets: if commit && result.is_ok() { offsets } else { Vec::new() },
        });
    }
}
