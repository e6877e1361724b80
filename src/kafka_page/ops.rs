//! What the learner does to the cluster from the Kafka page's forms, as engine calls: create a topic, add
//! partitions, alter a config, delete records, produce a record, reset a group's offsets (the rules of
//! `kafka-consumer-groups --reset-offsets`). Plain Rust, tested natively.
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
use broker_core::kafka::scenario::KafkaRun;
use broker_core::kafka::tools::{self, PartitionFacts, ResetSpec};
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

/// One operation from the page's forms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
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
    }
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
            run.run_until(VirtualTime::from_millis(a.at));
            sends.collect(run);
            // A refusal was shown when the learner did it; replaying refuses it again the same way.
            let _ = apply_with(run, &a.op, sends);
        }
    }
    run.run_until(VirtualTime::from_millis(to_ms));
    sends.collect(run);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka_page::model::KafkaSession;

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
        let back = KafkaSession::from_workspace(
            &crate::persist::workspace::WorkspaceDoc::from_json(&doc.to_json()).unwrap(),
        )
        .unwrap();
        assert_eq!(back.ops, s.ops);
        assert_eq!(back.partitions(), s.partitions());
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
}
