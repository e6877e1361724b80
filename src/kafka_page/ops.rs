//! What the learner does to the cluster from the Kafka page's forms, as engine calls: create a topic, add
//! partitions, alter a config, delete records, produce a record, reset a group's offsets (the rules of
//! `kafka-consumer-groups --reset-offsets`), and consume by hand — `subscribe` / `assign`, `poll`,
//! `commitSync`, `seek`, `close` on the run's hand consumer (the engine's `KafkaConsumer`, a member of its
//! group like the document's consumers: `KafkaRun::hand_poll` and its siblings). Plain Rust, tested
//! natively.
//!
//! Invariants:
//! - Every refusal is the engine's [`KafkaError`] text (or `kafka-consumer-groups`' own, for its rules),
//!   attached to the form field it concerns; nothing here words a broker rule.
//! - An operation is kept with the instant it was done at ([`Applied`]): replaying the run (a rewind, a
//!   reopened workspace) applies it again at that instant, after the run's own step there, so the state
//!   at any time does not depend on how the page got there (as the learner's broker clicks).

use broker_core::kafka::cluster::RequestId;
use broker_core::kafka::group::OffsetCommitRequest;
use broker_core::kafka::log::AppendRecord;
use broker_core::kafka::partitioner::StickyPartitioner;
use broker_core::kafka::scenario::document::AcksSpec;
use broker_core::kafka::scenario::{HandSeek, KafkaRun, HAND_CONSUMER};
use broker_core::kafka::tools::{self, PartitionFacts, ResetSpec};
use broker_core::kafka::{AutoOffsetReset, ConsumerConfig, ConsumerError};
use broker_core::kafka::{
    ErrorCode, Header, KafkaError, NewTopic, OffsetAndMetadata, ProduceOutcome, ProduceRequest,
    TopicPartition,
};
use broker_core::VirtualTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where `kafka-consumer-groups --reset-offsets` moves a group's offsets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetTo {
    /// `--to-earliest`: the log start offset.
    Earliest,
    /// `--to-latest`: the high watermark.
    Latest,
    /// `--to-datetime`: the first offset whose timestamp is at or after this (ms); latest when none.
    Datetime(i64),
    /// `--shift-by N`: the committed offset plus N, kept within the log.
    ShiftBy(i64),
    /// `--to-offset N`, kept within the log.
    Offset(i64),
}

impl ResetTo {
    /// The tool's option for it.
    pub fn spec(&self) -> ResetSpec {
        match *self {
            ResetTo::Earliest => ResetSpec::ToEarliest,
            ResetTo::Latest => ResetSpec::ToLatest,
            ResetTo::Datetime(ms) => ResetSpec::ToDatetime(ms),
            ResetTo::ShiftBy(n) => ResetSpec::ShiftBy(n),
            ResetTo::Offset(n) => ResetSpec::ToOffset(n),
        }
    }
}

/// One operation from the page's forms. Written as an internally tagged object (`{"op": "produce", …}`);
/// read back by [`super::op_json`], which accepts the same objects as serde's derived reader would, in far
/// less code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum KafkaOp {
    CreateTopic {
        name: String,
        partitions: i32,
        replication_factor: i32,
        #[serde(default)]
        configs: BTreeMap<String, String>,
    },
    AddPartitions {
        topic: String,
        total: i32,
    },
    /// `value: None` deletes the override (back to the default).
    AlterConfig {
        topic: String,
        name: String,
        value: Option<String>,
    },
    DeleteRecords {
        topic: String,
        partition: i32,
        before: i64,
    },
    Produce {
        topic: String,
        /// `None`: the key's partition (murmur2), or the sticky partitioner's for a null key.
        partition: Option<i32>,
        key: Option<String>,
        value: Option<String>,
        #[serde(default)]
        headers: Vec<(String, String)>,
        acks: AcksSpec,
    },
    ResetOffsets {
        group: String,
        topic: String,
        to: ResetTo,
    },
    /// A hand consumer (`group.id`, `max.poll.records`, `auto.offset.reset`; `enable.auto.commit=false`)
    /// that `subscribe`s to `topics`: the same one when its settings are the same, else a new one (the
    /// previous closed).
    HandSubscribe {
        group: String,
        topics: Vec<String>,
        max_poll_records: usize,
        auto_offset_reset: String,
    },
    /// A hand consumer (`group.id` optional: for commits) that `assign`s itself `partitions`.
    HandAssign {
        #[serde(default)]
        group: Option<String>,
        partitions: Vec<(String, i32)>,
        max_poll_records: usize,
        auto_offset_reset: String,
    },
    HandPoll,
    HandCommit,
    HandSeek {
        topic: String,
        partition: i32,
        to: SeekTo,
    },
    HandClose,
}

impl KafkaOp {
    /// A call on the hand consumer (kept even when it threw: [`super::model::KafkaSession::operate`]).
    pub fn is_hand_call(&self) -> bool {
        matches!(
            self,
            KafkaOp::HandSubscribe { .. }
                | KafkaOp::HandAssign { .. }
                | KafkaOp::HandPoll
                | KafkaOp::HandCommit
                | KafkaOp::HandSeek { .. }
                | KafkaOp::HandClose
        )
    }
}

/// Where the hand consumer's `seek` moves a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeekTo {
    /// `seek(partition, offset)`.
    Offset(i64),
    /// `seekToBeginning`.
    Beginning,
    /// `seekToEnd`.
    End,
}

/// An operation and the instant (ms) it was done at (the shell's, shared with the SQS page).
pub type Applied = crate::shell::Applied<KafkaOp>;

/// A refusal, at the form field it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError {
    /// The field's name in its form (`name`, `partitions`, `replication_factor`, `configs`, `topic`,
    /// `partition`, `group`, `before`, `total`, `to`).
    pub field: &'static str,
    pub message: String,
}

fn kafka(field: &'static str, e: KafkaError) -> OpError {
    OpError { field, message: e.to_string() }
}

/// The form field an engine refusal of a topic creation concerns.
fn create_field(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidPartitions => "partitions",
        ErrorCode::InvalidReplicationFactor => "replication_factor",
        ErrorCode::InvalidConfig | ErrorCode::PolicyViolation => "configs",
        _ => "name",
    }
}

/// The group's state as `describeConsumerGroups` names it (`Dead` for a group the coordinator does not
/// know), which decides whether `kafka-consumer-groups` may reset it.
fn group_state(run: &KafkaRun, group: &str) -> String {
    let coordinator = run.coordinator();
    if let Some(g) = coordinator.consumer_groups().group(group) {
        return format!("{:?}", g.state());
    }
    if coordinator.group_ids().iter().any(|g| g == group) {
        return coordinator.describe_group(group).state.to_string();
    }
    "Dead".to_string()
}

/// Where the Java producer puts a record without key, sent by hand: each hand send is a fresh producer
/// (as one run of `kafka-console-producer` per record), whose sticky partitioner has no partition yet and
/// draws one uniformly among the partitions that have a leader (all of them when none has). The draw
/// comes from the document's seed and the send's instant, so a replay draws the same partition.
fn hand_sticky_partition(run: &KafkaRun, topic: &str, count: i32, at: VirtualTime) -> i32 {
    let available: Vec<i32> = run.cluster().topic(topic).map_or_else(Vec::new, |t| {
        (0..count).filter(|&p| t.partitions.get(p as usize).is_some_and(|s| s.leader.is_some())).collect()
    });
    let seed = run.document().seed ^ at.as_millis().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut prng = broker_core::Prng::new(seed);
    StickyPartitioner::default().partition(count, &available, &mut prng)
}

/// A hand `acks=all` send's final answer, once the in-sync replicas have it (or it failed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandAnswer {
    /// When it was sent and when it was answered (ms).
    pub sent_at: u64,
    pub answered_at: u64,
    /// `Acknowledged: orders-2 at offset 7`, or the engine's error text.
    pub text: String,
}

/// The hand sends waiting for their answer, and the answers so far. Not saved: replaying the operations
/// (from 0) rebuilds it, as it rebuilds the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandSends {
    /// (sent at ms, the cluster's request, `topic-partition`).
    waiting: Vec<(u64, RequestId, String)>,
    pub answers: Vec<HandAnswer>,
}

impl HandSends {
    /// Takes the answers the cluster has given to the waiting sends (each its own, not the run's).
    fn collect(&mut self, run: &mut KafkaRun) {
        let answers = &mut self.answers;
        self.waiting.retain(|(sent_at, request, tp)| match run.cluster_mut().take_completion(*request) {
            Some(c) => {
                let text = match c.result {
                    Ok(r) => format!("Acknowledged: {tp} at offset {}", r.base_offset),
                    Err(e) => format!("Failed: {tp}: {e}"),
                };
                answers.push(HandAnswer { sent_at: *sent_at, answered_at: c.at.as_millis(), text });
                false
            }
            None => true,
        });
    }
}

/// Does `op` on the run at its current instant; says what happened, or refuses with the engine's text.
pub fn apply(run: &mut KafkaRun, op: &KafkaOp) -> Result<String, OpError> {
    apply_with(run, op, &mut HandSends::default())
}

/// [`apply`], keeping a waiting `acks=all` send in `sends` for its final answer.
pub fn apply_with(run: &mut KafkaRun, op: &KafkaOp, sends: &mut HandSends) -> Result<String, OpError> {
    let at = run.time();
    match op {
        KafkaOp::CreateTopic { name, partitions, replication_factor, configs } => {
            let mut new = NewTopic::new(name.clone(), *partitions, *replication_factor);
            for (k, v) in configs {
                new = new.config(k, v);
            }
            run.cluster_mut().create_topic(at, &new).map_err(|e| kafka(create_field(e.code), e))?;
            Ok(format!("Created topic {name} with {partitions} partition(s), replication factor {replication_factor}"))
        }
        KafkaOp::AddPartitions { topic, total } => {
            run.cluster_mut().create_partitions(at, topic, *total).map_err(|e| kafka("total", e))?;
            Ok(format!(
                "Topic {topic} now has {total} partitions: keys hash to other partitions from here on"
            ))
        }
        KafkaOp::AlterConfig { topic, name, value } => {
            let op = broker_core::kafka::cluster::AlterConfigOp { name: name.clone(), value: value.clone() };
            run.cluster_mut().alter_configs(at, topic, &[op]).map_err(|e| kafka("configs", e))?;
            Ok(match value {
                Some(v) => format!("Set {name}={v} on topic {topic}"),
                None => format!("Deleted {name} from topic {topic} (its default applies)"),
            })
        }
        KafkaOp::DeleteRecords { topic, partition, before } => {
            let tp = TopicPartition::new(topic.clone(), *partition);
            let low = run.cluster_mut().delete_records(at, &tp, *before).map_err(|e| kafka("before", e))?;
            Ok(format!("Deleted the records of {topic}-{partition} before offset {low} (its low watermark)"))
        }
        KafkaOp::Produce { topic, partition, key, value, headers, acks } => {
            let count = run.cluster().topic(topic).map_or(0, |t| t.partitions.len() as i32);
            let p = match (partition, key) {
                (Some(p), _) => *p,
                (None, Some(k)) if count > 0 => {
                    broker_core::kafka::partitioner::partition_for_key(k.as_bytes(), count)
                }
                (None, None) if count > 0 => hand_sticky_partition(run, topic, count, at),
                _ => 0,
            };
            let record = AppendRecord {
                timestamp: at.as_millis() as i64,
                key: key.as_ref().map(|k| k.as_bytes().to_vec()),
                value: value.as_ref().map(|v| v.as_bytes().to_vec()),
                headers: headers
                    .iter()
                    .map(|(k, v)| Header { key: k.clone(), value: Some(v.as_bytes().to_vec()) })
                    .collect(),
            };
            let request = ProduceRequest {
                partition: TopicPartition::new(topic.clone(), p),
                acks: acks.acks(),
                timeout_ms: 30_000,
                records: vec![record],
                producer: None,
            };
            match run.cluster_mut().produce(at, &request) {
                ProduceOutcome::Done(Ok(r)) if r.base_offset >= 0 => {
                    Ok(format!("Wrote the record to {topic}-{p} at offset {}", r.base_offset))
                }
                ProduceOutcome::Done(Ok(_)) => {
                    Ok(format!("Sent the record to {topic}-{p} (acks=0: no answer)"))
                }
                ProduceOutcome::Done(Err(e)) => {
                    Err(kafka(if partition.is_some() { "partition" } else { "topic" }, e))
                }
                ProduceOutcome::Pending(request) => {
                    sends.waiting.push((at.as_millis(), request, format!("{topic}-{p}")));
                    sends.collect(run);
                    Ok(format!("Appended the record to {topic}-{p}: acks=all waits for the in-sync replicas"))
                }
            }
        }
        KafkaOp::ResetOffsets { group, topic, to } => reset_offsets(run, group, topic, to),
        KafkaOp::HandSubscribe { group, topics, max_poll_records, auto_offset_reset } => {
            let group = (!group.is_empty()).then_some(group.as_str());
            let config = hand_config(run, group, *max_poll_records, auto_offset_reset)?;
            let replaced = hand_made(run, config);
            run.hand_subscribe(topics).map_err(|e| consumer("topics", e))?;
            Ok(format!(
                "{replaced}{HAND_CONSUMER} subscribe([{}]) in group {}: it joins the group at its next poll()",
                topics.join(", "),
                group.unwrap_or_default()
            ))
        }
        KafkaOp::HandAssign { group, partitions, max_poll_records, auto_offset_reset } => {
            let group = group.as_deref().filter(|g| !g.is_empty());
            let config = hand_config(run, group, *max_poll_records, auto_offset_reset)?;
            let replaced = hand_made(run, config);
            let list: Vec<TopicPartition> =
                partitions.iter().map(|(t, p)| TopicPartition::new(t.clone(), *p)).collect();
            run.hand_assign(&list).map_err(|e| consumer("partitions", e))?;
            Ok(format!(
                "{replaced}{HAND_CONSUMER} assign({}): no group membership, no rebalance",
                bracketed(&list)
            ))
        }
        KafkaOp::HandPoll => {
            let records = run.hand_poll().map_err(|e| consumer("poll", e))?;
            let assignment = run.hand_state().map(|h| h.assignment).unwrap_or_default();
            let assigned: Vec<TopicPartition> = assignment.into_iter().map(|(tp, _)| tp).collect();
            let n = records.len();
            Ok(format!(
                "poll() returned {n} record{}; assignment() = {}",
                if n == 1 { "" } else { "s" },
                bracketed(&assigned)
            ))
        }
        KafkaOp::HandCommit => {
            let offsets = run.hand_commit_sync().map_err(|e| consumer("commit", e))?;
            if offsets.is_empty() {
                return Ok("commitSync(): no partition has a position yet, nothing was committed".into());
            }
            let list: Vec<String> = offsets.iter().map(|(tp, o)| format!("{tp}={o}")).collect();
            Ok(format!("commitSync() committed {{{}}}", list.join(", ")))
        }
        KafkaOp::HandSeek { topic, partition, to } => {
            let tp = TopicPartition::new(topic.clone(), *partition);
            let seek = match to {
                SeekTo::Offset(o) => HandSeek::Offset(*o),
                SeekTo::Beginning => HandSeek::Beginning,
                SeekTo::End => HandSeek::End,
            };
            run.hand_seek(&tp, seek).map_err(|e| consumer("partition", e))?;
            Ok(match to {
                SeekTo::Offset(o) => format!("seek({tp}, {o}): the next poll() reads {tp} from offset {o}"),
                SeekTo::Beginning => {
                    format!("seekToBeginning([{tp}]): the next poll() reads from the log start")
                }
                SeekTo::End => format!("seekToEnd([{tp}]): the next poll() reads from the high watermark"),
            })
        }
        KafkaOp::HandClose => {
            let group = run.hand_config().and_then(|c| c.group_id.clone());
            run.hand_close();
            Ok(match group {
                Some(g) => format!("close(): {HAND_CONSUMER} left group {g}"),
                None => "close()".to_string(),
            })
        }
    }
}

fn consumer(field: &'static str, e: ConsumerError) -> OpError {
    OpError { field, message: e.to_string() }
}

/// `[orders-0, orders-1]`, as the Java client prints a set of partitions.
fn bracketed(list: &[TopicPartition]) -> String {
    format!("[{}]", list.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
}

/// The hand consumer's settings: the form's, `enable.auto.commit=false` (it commits by hand), and the
/// `group.protocol` of the document's consumers of that group (a member speaks its group's protocol;
/// `classic`, the Java client's default, for a group of its own). `max.poll.records=0` is refused as the
/// Java constructor's `ConfigException`.
fn hand_config(
    run: &KafkaRun,
    group: Option<&str>,
    max_poll_records: usize,
    auto_offset_reset: &str,
) -> Result<ConsumerConfig, OpError> {
    let mut config = ConsumerConfig::new(HAND_CONSUMER, group);
    config.enable_auto_commit = false;
    if max_poll_records == 0 {
        return Err(OpError {
            field: "max_poll_records",
            message: "ConfigException: Invalid value 0 for configuration max.poll.records: Value must be at least 1"
                .into(),
        });
    }
    config.max_poll_records = max_poll_records;
    config.auto_offset_reset = match auto_offset_reset {
        "earliest" => AutoOffsetReset::Earliest,
        "latest" => AutoOffsetReset::Latest,
        "none" => AutoOffsetReset::None,
        // The page's own check (the form offers these three), as the produce form's for acks.
        other => {
            return Err(OpError {
                field: "auto_offset_reset",
                message: format!("auto.offset.reset is earliest, latest or none, not '{other}'"),
            })
        }
    };
    if let Some(g) = group {
        let doc = run.document();
        if let Some(protocol) = doc.consumers.iter().find(|c| c.group == g).and_then(|c| doc.protocol(c).ok())
        {
            config.group_protocol = protocol;
        }
    }
    Ok(config)
}

/// Keeps the hand consumer when it is open with these settings, else makes a new one; says when an
/// open one was closed for it.
fn hand_made(run: &mut KafkaRun, mut config: ConsumerConfig) -> String {
    config.client_id = HAND_CONSUMER.to_string();
    let same = run.hand_state().is_some_and(|h| !h.closed) && run.hand_config() == Some(&config);
    if same || !run.hand_new(config) {
        return String::new();
    }
    "Closed the previous hand consumer (other settings). ".to_string()
}

/// `kafka-consumer-groups --reset-offsets --execute`, the tool's rules being the engine's
/// ([`tools::reset_offsets`]): the facts are read from the run, the new offsets committed as the tool does.
fn reset_offsets(run: &mut KafkaRun, group: &str, topic: &str, to: &ResetTo) -> Result<String, OpError> {
    let state = group_state(run, group);
    tools::check_inactive(group, &state).map_err(|e| OpError { field: "group", message: e.to_string() })?;
    let Some(t) = run.cluster().topic(topic) else {
        let e = KafkaError::with_message(
            ErrorCode::UnknownTopicOrPartition,
            "This server does not host this topic-partition.",
        );
        return Err(kafka("topic", e));
    };
    let spec = to.spec();
    let facts: Vec<PartitionFacts> = t
        .partitions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let tp = TopicPartition::new(topic.to_string(), i as i32);
            let (earliest, latest) = (p.log.log_start_offset(), p.log.high_watermark());
            let for_datetime = match spec {
                ResetSpec::ToDatetime(ms) => p.log.offset_for_timestamp(ms, latest),
                _ => None,
            };
            let committed = run.coordinator().offsets().committed_offset(group, &tp);
            PartitionFacts { partition: tp, earliest, latest, committed, for_datetime }
        })
        .collect();
    let new = tools::reset_offsets(group, &state, &facts, &spec)
        .map_err(|e| OpError { field: "to", message: e.to_string() })?;
    let said = new
        .iter()
        .map(|o| format!("{}-{}: {}", o.partition.topic, o.partition.partition, o.offset))
        .collect::<Vec<_>>();
    let warnings: Vec<&str> = new.iter().filter_map(|o| o.warning.as_deref()).collect();
    let request = OffsetCommitRequest {
        group_id: group.to_string(),
        generation_id: -1,
        member_id: String::new(),
        group_instance_id: None,
        offsets: new
            .iter()
            .map(|o| (o.partition.clone(), OffsetAndMetadata { offset: o.offset, metadata: String::new() }))
            .collect(),
    };
    let at = run.time();
    // The tool's commit, answered to it alone (not to a client of the run).
    let _answer = run.coordinator_mut().offset_commit(at, u64::MAX, request);
    let mut out = format!("Reset group {group}'s offsets of {topic}: {}", said.join(", "));
    // The tool logs its clamping at WARN; the page says it after the result.
    for w in warnings {
        out.push_str(&format!(". {w}"));
    }
    Ok(out)
}

/// Plays `run` to `to_ms`, applying each operation at its instant: those after `from_ms` (all from 0
/// when `from_ms` is `None`, a run built afresh).
pub fn play(run: &mut KafkaRun, ops: &[Applied], from_ms: Option<u64>, to_ms: u64) {
    play_with(run, ops, from_ms, to_ms, &mut HandSends::default());
}

/// [`play`], collecting the hand sends' answers in `sends` (a fresh one when `from_ms` is `None`).
pub fn play_with(
    run: &mut KafkaRun,
    ops: &[Applied],
    from_ms: Option<u64>,
    to_ms: u64,
    sends: &mut HandSends,
) {
    if from_ms.is_none() {
        *sends = HandSends::default();
    }
    for a in ops {
        if crate::shell::is_due(a.at, from_ms, to_ms) {
            play_to(run, a.at, sends);
            // A refusal was shown when the learner did it; replaying refuses it again the same way.
            let _ = apply_with(run, &a.op, sends);
        }
    }
    play_to(run, to_ms, sends);
}

/// Plays the run's own steps up to and including `at_ms` and takes the hand sends' answers given by
/// then: what comes before an operation done at `at_ms`, by the learner as in a replay.
pub fn play_to(run: &mut KafkaRun, at_ms: u64, sends: &mut HandSends) {
    run.run_until(VirtualTime::from_millis(at_ms));
    sends.collect(run);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka_page::model::KafkaSession;
    use crate::persist::pages::PageSession;

    fn create(name: &str, partitions: i32, rf: i32) -> KafkaOp {
        KafkaOp::CreateTopic {
            name: name.into(),
            partitions,
            replication_factor: rf,
            configs: BTreeMap::new(),
        }
    }

    fn log_end(s: &KafkaSession, topic: &str, partition: i32) -> Option<i64> {
        s.partitions().iter().find(|p| p.topic == topic && p.partition == partition).map(|p| p.log_end)
    }

    #[test]
    fn a_refused_topic_is_the_engines_error_at_its_field_and_nothing_is_kept() {
        let mut s = KafkaSession::bundled("quickstart").unwrap();
        s.seek(1_000);
        let e = s.operate(create("bad name!", 3, 1)).unwrap_err();
        assert_eq!(e.field, "name");
        assert!(e.message.starts_with("InvalidTopicException: Topic name is invalid: 'bad name!'"), "{e:?}");
        let e = s.operate(create("orders", 3, 2)).unwrap_err();
        assert_eq!(e.field, "replication_factor", "{e:?}");
        assert!(e.message.starts_with("InvalidReplicationFactorException"), "{e:?}");
        let e = s.operate(create("quickstart-events", 1, 1)).unwrap_err();
        assert_eq!(e.message, "TopicExistsException: Topic 'quickstart-events' already exists.");
        assert!(s.ops.is_empty(), "refusals are not kept");
    }

    #[test]
    fn operations_are_replayed_at_their_instant_after_a_rewind_and_a_reopened_workspace() {
        let mut s = KafkaSession::bundled("quickstart").unwrap();
        s.seek(1_000);
        s.operate(create("orders", 3, 1)).unwrap();
        s.seek(2_000);
        let produce = |key: &str| KafkaOp::Produce {
            topic: "orders".into(),
            partition: None,
            key: Some(key.into()),
            value: Some("v".into()),
            headers: vec![("source".into(), "page".into())],
            acks: AcksSpec::All,
        };
        let said = s.operate(produce("k1")).unwrap();
        let p = broker_core::kafka::partitioner::partition_for_key(b"k1", 3);
        assert_eq!(said, format!("Wrote the record to orders-{p} at offset 0"));
        assert_eq!(log_end(&s, "orders", p), Some(1));
        // Rewound before the creation: no topic; forward again: the topic and its record are back.
        s.seek(500);
        assert_eq!(log_end(&s, "orders", 0), None);
        s.seek(1_500);
        assert_eq!(log_end(&s, "orders", p), Some(0), "created, not yet produced to");
        s.seek(3_000);
        assert_eq!(log_end(&s, "orders", p), Some(1));
        // An operation added earlier than the last one keeps the time order.
        s.seek(1_200);
        s.operate(KafkaOp::AddPartitions { topic: "orders".into(), total: 4 }).unwrap();
        assert_eq!(s.ops.iter().map(|a| a.at).collect::<Vec<_>>(), [1_000, 1_200, 2_000]);
        let e = s.operate(KafkaOp::AddPartitions { topic: "orders".into(), total: 4 }).unwrap_err();
        assert_eq!(e.message, "InvalidPartitionsException: Topic already has 4 partition(s).");
        // Saved and reopened: the same operations, the same state.
        s.seek(5_000);
        let doc = s.to_workspace("ops");
        let back =
            KafkaSession::from_workspace(&crate::persist::pages::PageDoc::from_json(&doc.to_json()).unwrap())
                .unwrap();
        assert_eq!(back.ops, s.ops);
        assert_eq!(back.partitions(), s.partitions());
    }

    #[test]
    fn an_operation_at_0_on_a_page_just_opened_is_done_after_instant_0_as_its_replay_does_it() {
        // A producer that writes at 0: the page just opened has not played instant 0 yet.
        let text = r#"{ "brokerlab": 2, "model": "kafka", "seed": 1, "duration": "5s",
            "cluster": { "brokers": 1 }, "topics": [ { "name": "t", "partitions": 1, "replication_factor": 1 } ],
            "producers": [ { "name": "p", "topic": "t", "rate": 1, "count": 3, "value": "doc-{seq}",
                "linger_ms": 0 } ] }"#;
        let mut s = KafkaSession::open(text, None).unwrap();
        assert_eq!(s.time_ms(), 0);
        let said = s
            .operate(KafkaOp::Produce {
                topic: "t".into(),
                partition: Some(0),
                key: None,
                value: Some("by hand".into()),
                headers: vec![],
                acks: AcksSpec::One,
            })
            .unwrap();
        let offset: i64 = said.strip_prefix("Wrote the record to t-0 at offset ").unwrap().parse().unwrap();
        let tp = TopicPartition::new("t", 0);
        let value = |s: &KafkaSession| {
            crate::kafka_page::explain::record_detail(s.run(), &tp, offset).and_then(|d| d.value)
        };
        s.seek(2_000);
        let live = value(&s);
        assert_eq!(live.as_deref(), Some("by hand"), "{said}");
        // Rewound and played again: the replay does it at 0 too, after the run's own step there.
        s.seek(0);
        s.seek(2_000);
        assert_eq!(value(&s), live, "the same record at offset {offset} after a rewind");
    }

    #[test]
    fn a_hand_record_without_key_goes_to_a_sticky_draw_among_the_partitions_and_replays_there() {
        let mut s = KafkaSession::bundled("quickstart").unwrap();
        s.seek(1_000);
        s.operate(create("clicks", 4, 1)).unwrap();
        let mut placed = Vec::new();
        for i in 0..12u64 {
            s.seek(2_000 + 100 * i);
            let said = s
                .operate(KafkaOp::Produce {
                    topic: "clicks".into(),
                    partition: None,
                    key: None,
                    value: Some(format!("v{i}")),
                    headers: vec![],
                    acks: AcksSpec::One,
                })
                .unwrap();
            let p: i32 =
                said["Wrote the record to clicks-".len()..].split(' ').next().unwrap().parse().unwrap();
            placed.push(p);
        }
        let ends: Vec<i64> = (0..4).map(|p| log_end(&s, "clicks", p).unwrap()).collect();
        for p in 0..4 {
            assert_eq!(ends[p as usize], placed.iter().filter(|&&q| q == p).count() as i64, "{placed:?}");
        }
        // Each hand send is a new producer: its sticky partition is drawn, not always partition 0.
        assert!(placed.iter().any(|&p| p != placed[0]), "{placed:?}");
        // Rewound and replayed (a reopened page): every record lands where it did.
        s.seek(0);
        s.seek(5_000);
        assert_eq!((0..4).map(|p| log_end(&s, "clicks", p).unwrap()).collect::<Vec<_>>(), ends);
    }

    #[test]
    fn a_hand_acks_all_send_shows_its_final_answer_once_the_replicas_give_it() {
        let mut s = KafkaSession::bundled("replication-and-acks").unwrap();
        let send = || KafkaOp::Produce {
            topic: "shipments".into(),
            partition: Some(0),
            key: Some("k".into()),
            value: Some("v".into()),
            headers: vec![],
            acks: AcksSpec::All,
        };
        // Three in-sync replicas: the leader answers once the followers have fetched the record.
        s.seek(2_000);
        let said = s.operate(send()).unwrap();
        assert_eq!(said, "Appended the record to shipments-0: acks=all waits for the in-sync replicas");
        assert!(s.sends.answers.is_empty(), "not yet fetched by the followers");
        s.seek(3_000);
        let a = s.sends.answers.clone();
        assert_eq!(a.len(), 1, "{a:?}");
        assert!(a[0].text.starts_with("Acknowledged: shipments-0 at offset "), "{a:?}");
        assert!(a[0].sent_at == 2_000 && a[0].answered_at > 2_000 && a[0].answered_at <= 3_000, "{a:?}");
        // Rewound before the send: no answer; played forward again: the same answer.
        s.seek(1_000);
        assert!(s.sends.answers.is_empty());
        s.seek(3_000);
        assert_eq!(s.sends.answers, a);
        // Brokers 2 and 3 down (9 s): one in-sync replica, under min.insync.replicas=2: refused.
        s.seek(10_000);
        let e = s.operate(send()).unwrap_err();
        assert!(e.message.starts_with("NotEnoughReplicasException"), "{e:?}");
    }

    #[test]
    fn offsets_are_reset_only_for_an_inactive_group_with_the_tools_rules() {
        let mut s = KafkaSession::bundled("quickstart").unwrap();
        s.seek(s.end_ms());
        let reset = |group: &str, to: ResetTo| KafkaOp::ResetOffsets {
            group: group.into(),
            topic: "quickstart-events".into(),
            to,
        };
        let e = s.operate(reset("console-consumer-group", ResetTo::Earliest)).unwrap_err();
        assert_eq!(e.field, "group");
        assert_eq!(
            e.message,
            "Assignments can only be reset if the group 'console-consumer-group' is inactive, but the current \
             state is Stable."
        );
        let e = s.operate(reset("audit", ResetTo::ShiftBy(-3))).unwrap_err();
        assert_eq!(
            e.message,
            "Cannot shift offset for partition quickstart-events-0 since there is no current committed offset"
        );
        let said = s.operate(reset("audit", ResetTo::Latest)).unwrap();
        assert_eq!(said, "Reset group audit's offsets of quickstart-events: quickstart-events-0: 10");
        s.operate(reset("audit", ResetTo::ShiftBy(-3))).unwrap();
        let tp = TopicPartition::new("quickstart-events", 0);
        let committed =
            |s: &KafkaSession| s.run_for_tests().coordinator().offsets().committed_offset("audit", &tp);
        assert_eq!(committed(&s), Some(7));
        s.operate(reset("audit", ResetTo::ShiftBy(-30))).unwrap();
        assert_eq!(committed(&s), Some(0), "kept within the log");
        let said = s.operate(reset("audit", ResetTo::Offset(12))).unwrap();
        assert_eq!(
            said,
            "Reset group audit's offsets of quickstart-events: quickstart-events-0: 10. New offset (12) is higher \
             than latest offset for topic partition quickstart-events-0. Value will be set to 10"
        );
        s.operate(reset("audit", ResetTo::Datetime(0))).unwrap();
        assert_eq!(committed(&s), Some(0));
        s.operate(reset("audit", ResetTo::Datetime(i64::MAX))).unwrap();
        assert_eq!(committed(&s), Some(10), "no record that late: latest");
        let e = s
            .operate(KafkaOp::DeleteRecords { topic: "quickstart-events".into(), partition: 0, before: 11 })
            .unwrap_err();
        assert!(e.message.starts_with("OffsetOutOfRangeException"), "{e:?}");
        let said = s
            .operate(KafkaOp::DeleteRecords { topic: "quickstart-events".into(), partition: 0, before: 4 })
            .unwrap();
        assert!(said.contains("before offset 4"), "{said}");
        assert_eq!(s.partitions()[0].log_start, 4);
    }

    fn subscribe(group: &str, topic: &str, max: usize) -> KafkaOp {
        KafkaOp::HandSubscribe {
            group: group.into(),
            topics: vec![topic.into()],
            max_poll_records: max,
            auto_offset_reset: "earliest".into(),
        }
    }

    /// (partition, offset) of the last poll's records.
    fn polled(s: &KafkaSession) -> Vec<(String, i64)> {
        let h = s.run().hand_state().expect("a hand consumer");
        h.last_poll
            .map_or_else(Vec::new, |(_, r)| r.iter().map(|r| (r.partition.to_string(), r.offset)).collect())
    }

    #[test]
    fn a_hand_consumer_misused_throws_the_java_clients_exceptions_and_the_throw_is_kept() {
        let mut s = KafkaSession::bundled("quickstart").unwrap();
        s.seek(1_000);
        let e = s.operate(KafkaOp::HandPoll).unwrap_err();
        assert_eq!(e.field, "poll");
        assert_eq!(
            e.message,
            "IllegalStateException: Consumer is not subscribed to any topics or assigned any partitions"
        );
        let seek =
            KafkaOp::HandSeek { topic: "quickstart-events".into(), partition: 0, to: SeekTo::Offset(2) };
        let e = s.operate(seek.clone()).unwrap_err();
        assert_eq!(
            e.message,
            "IllegalStateException: No current assignment for partition quickstart-events-0"
        );
        // A consumer made without group.id has none to commit to.
        let e = s.operate(KafkaOp::HandCommit).unwrap_err();
        assert!(e.message.starts_with("InvalidGroupIdException: To use the group management"), "{e:?}");
        // The calls happened: their exceptions are events of the run, and a replay throws them again.
        let threw = |s: &KafkaSession| {
            s.events().iter().filter(|(_, e)| e.contains("hand-consumer") && e.contains("threw")).count()
        };
        assert_eq!(threw(&s), 3, "{:?}", s.events());
        assert_eq!(s.ops.len(), 3);
        s.seek(0);
        s.seek(2_000);
        assert_eq!(threw(&s), 3);
        // Subscribed, then assigned: the Java client's rule.
        s.operate(subscribe("audit", "quickstart-events", 3)).unwrap();
        let e = s
            .operate(KafkaOp::HandAssign {
                group: Some("audit".into()),
                partitions: vec![("quickstart-events".into(), 0)],
                max_poll_records: 3,
                auto_offset_reset: "earliest".into(),
            })
            .unwrap_err();
        assert_eq!(e.field, "partitions");
        assert_eq!(
            e.message,
            "IllegalStateException: Subscription to topics, partitions and pattern are mutually exclusive"
        );
        // Subscribed but not yet assigned (no poll, no rebalance): seek throws.
        let e = s.operate(seek).unwrap_err();
        assert_eq!(
            e.message,
            "IllegalStateException: No current assignment for partition quickstart-events-0"
        );
        let e = s.operate(subscribe("audit", "quickstart-events", 0)).unwrap_err();
        assert_eq!(e.field, "max_poll_records");
        assert_eq!(
            e.message,
            "ConfigException: Invalid value 0 for configuration max.poll.records: Value must be at least 1"
        );
    }

    #[test]
    fn a_hand_consumer_joins_its_group_polls_commits_and_seeks_and_the_group_shows_it() {
        let mut s = KafkaSession::bundled("quickstart").unwrap();
        s.seek(12_000);
        let said = s.operate(subscribe("audit", "quickstart-events", 3)).unwrap();
        assert_eq!(
            said,
            "hand-consumer subscribe([quickstart-events]) in group audit: it joins the group at its next poll()"
        );
        // The first poll sends the JoinGroup: nothing yet.
        assert_eq!(s.operate(KafkaOp::HandPoll).unwrap(), "poll() returned 0 records; assignment() = []");
        // Played on: the group (the hand consumer alone) has rebalanced; it is a member with the partition.
        s.seek(16_000);
        let g = s.groups().into_iter().find(|g| g.id == "audit").expect("the group audit");
        assert_eq!(g.state, "Stable");
        assert_eq!(g.members.len(), 1);
        assert_eq!(g.members[0].client_id, "hand-consumer");
        assert_eq!(g.members[0].assignment, vec![TopicPartition::new("quickstart-events", 0)]);
        assert_eq!(
            g.offsets,
            vec![(TopicPartition::new("quickstart-events", 0), None, 10)],
            "nothing committed: lag 10"
        );
        let said = s.operate(KafkaOp::HandPoll).unwrap();
        assert_eq!(said, "poll() returned 3 records; assignment() = [quickstart-events-0]");
        assert_eq!(
            polled(&s),
            [
                ("quickstart-events-0".to_string(), 0),
                ("quickstart-events-0".into(), 1),
                ("quickstart-events-0".into(), 2)
            ]
        );
        let first = &s.run().hand_state().unwrap().last_poll.unwrap().1[0];
        assert_eq!(first.value.as_deref(), Some(&b"This is event number 1"[..]));
        assert_eq!(s.operate(KafkaOp::HandCommit).unwrap(), "commitSync() committed {quickstart-events-0=3}");
        let lag =
            |s: &KafkaSession| s.groups().into_iter().find(|g| g.id == "audit").unwrap().offsets[0].clone();
        assert_eq!(lag(&s), (TopicPartition::new("quickstart-events", 0), Some(3), 7), "committed 3, lag 7");
        // The run's events say it, as they say the document's consumers'.
        let events: Vec<String> = s.events().into_iter().map(|(_, e)| e).collect();
        assert!(
            events.iter().any(|e| e == "hand-consumer onPartitionsAssigned [quickstart-events-0]"),
            "{events:?}"
        );
        assert!(
            events.iter().any(|e| e.starts_with("hand-consumer <- quickstart-events-0@2 ")),
            "{events:?}"
        );
        assert!(events.iter().any(|e| e == "hand-consumer committed {quickstart-events-0=3}"), "{events:?}");
        // A record's detail names the hand consumer among its readers, and its group's commit past it.
        let tp = TopicPartition::new("quickstart-events", 0);
        let d = crate::kafka_page::explain::record_detail(s.run(), &tp, 2).expect("the record");
        let read = d.reads.iter().find(|r| r.consumer == "hand-consumer").expect("read by hand");
        assert_eq!((read.group.as_str(), read.at_ms), ("audit", 16_000));
        assert!(d.commits.iter().any(|c| c.group == "audit" && c.offset == 3 && c.at_ms == 16_000), "{d:?}");
        // Seek: to an offset, to the beginning, to the end.
        let seek = |to| KafkaOp::HandSeek { topic: "quickstart-events".into(), partition: 0, to };
        s.operate(seek(SeekTo::Offset(8))).unwrap();
        assert_eq!(
            s.run().hand_state().unwrap().assignment,
            vec![(TopicPartition::new("quickstart-events", 0), Some(8))]
        );
        s.operate(KafkaOp::HandPoll).unwrap();
        assert_eq!(polled(&s), [("quickstart-events-0".to_string(), 8), ("quickstart-events-0".into(), 9)]);
        let said = s.operate(seek(SeekTo::Beginning)).unwrap();
        assert_eq!(said, "seekToBeginning([quickstart-events-0]): the next poll() reads from the log start");
        assert_eq!(s.run().hand_state().unwrap().assignment[0].1, None, "decided at the next poll");
        s.operate(KafkaOp::HandPoll).unwrap();
        assert_eq!(polled(&s)[0], ("quickstart-events-0".to_string(), 0));
        s.operate(seek(SeekTo::End)).unwrap();
        assert_eq!(
            s.operate(KafkaOp::HandPoll).unwrap(),
            "poll() returned 0 records; assignment() = [quickstart-events-0]"
        );
        assert_eq!(
            s.operate(KafkaOp::HandCommit).unwrap(),
            "commitSync() committed {quickstart-events-0=10}"
        );
        assert_eq!(lag(&s).2, 0);
        // The lag chart over the whole run has the hand consumer's group, its lag falling to 0 at its commit.
        let line = s.lag.lines.iter().position(|l| l == "audit: quickstart-events-0").expect("a lag line");
        assert_eq!(s.lag.samples.last().unwrap().lags[line], 0);
        // Closed: it leaves the group; a closed consumer refuses the next poll.
        assert_eq!(s.operate(KafkaOp::HandClose).unwrap(), "close(): hand-consumer left group audit");
        let e = s.operate(KafkaOp::HandPoll).unwrap_err();
        assert_eq!(e.message, "IllegalStateException: This consumer has already been closed.");
        let g = s.groups().into_iter().find(|g| g.id == "audit").unwrap();
        assert!(g.members.is_empty() && g.state == "Empty", "{g:?}");
        // Rewound and played again (a reopened workspace too): the same records, commits and state.
        let at_end = (s.groups(), s.events(), s.run().hand_state());
        s.seek(14_000);
        assert_eq!(lag(&s).1, None, "before the commit");
        s.seek(16_000);
        assert_eq!((s.groups(), s.events(), s.run().hand_state()), at_end);
        let doc = s.to_workspace("hand");
        let back =
            KafkaSession::from_workspace(&crate::persist::pages::PageDoc::from_json(&doc.to_json()).unwrap())
                .unwrap();
        assert_eq!(back.ops, s.ops);
    }

    #[test]
    fn a_hand_consumer_joining_a_busy_group_makes_it_rebalance_and_takes_a_share_of_the_partitions() {
        let mut s = KafkaSession::bundled("consumer-groups").unwrap();
        s.seek(6_000);
        let before = s.groups().into_iter().find(|g| g.id == "settlement").unwrap();
        assert_eq!(before.members.len(), 3, "{before:?}");
        s.operate(subscribe("settlement", "card-payments", 100)).unwrap();
        s.operate(KafkaOp::HandPoll).unwrap();
        // The members rejoin at their next polls; the hand consumer's JoinGroup is answered meanwhile.
        s.seek(9_000);
        let after = s.groups().into_iter().find(|g| g.id == "settlement").unwrap();
        assert_eq!(after.state, "Stable", "{after:?}");
        assert!(after.generation > before.generation, "a rebalance: {before:?} → {after:?}");
        assert_eq!(after.members.len(), 4, "{after:?}");
        let mine = after.members.iter().find(|m| m.client_id == "hand-consumer").expect("a member");
        assert_eq!(mine.assignment.len(), 1, "four partitions, four members: {after:?}");
        assert!(after.members.iter().all(|m| m.assignment.len() == 1), "{after:?}");
        let said = s.operate(KafkaOp::HandPoll).unwrap();
        let tp = mine.assignment[0].to_string();
        assert!(said.ends_with(&format!("assignment() = [{tp}]")), "{said}");
        assert!(polled(&s).iter().all(|(p, _)| *p == tp), "only its own partition: {:?}", polled(&s));
        let events: Vec<String> = s.events().into_iter().map(|(_, e)| e).collect();
        assert!(
            events.iter().any(|e| e.starts_with("worker-1 onPartitionsRevoked")),
            "the others gave up theirs: {events:?}"
        );
    }
}
