//! What the Kafka page explains, derived from a run in plain Rust (tested natively): a record's detail
//! (its bytes as the leader's log holds them, who read it and when its group committed past it), why it
//! went to its partition (the engine's own murmur2 and `toPositive`, or the sticky run of a producer for a
//! null key, or the partition the producer named), why a group's partitions are assigned as they are (the
//! range assignor's division step by step, checked against the engine's assignor), why a group lags
//! (arrival against processing per member over the last seconds, the partition that holds it back), the
//! group's rebalances step by step (revoked / assigned / lost per member, eager or cooperative), and the
//! records lost or read twice with the settings that allowed it (acks, ISR, unclean election,
//! idempotence).
//!
//! Invariants: every function reads the run (its events up to its time, its cluster and its document)
//! and nothing else, so an explanation at a time is the same however the page got there; partitions,
//! members and steps come out in a stable order (document order, then partition number, then time).

use broker_core::kafka::partitioner::{murmur2, to_positive};
use broker_core::kafka::scenario::{ActorEvent, KafkaRun};
use broker_core::kafka::{
    ClientAssignor, IsolationLevel, MemberSubscription, PartitionCounts, TopicPartition,
};
use std::collections::BTreeMap;

/// `topic-3` → (`topic`, 3), as the events name partitions.
pub fn parse_partition(name: &str) -> Option<TopicPartition> {
    let (topic, p) = name.rsplit_once('-')?;
    Some(TopicPartition::new(topic.to_string(), p.parse().ok()?))
}

fn name(tp: &TopicPartition) -> String {
    format!("{}-{}", tp.topic, tp.partition)
}

fn lossy(bytes: &Option<Vec<u8>>) -> Option<String> {
    bytes.as_ref().map(|b| String::from_utf8_lossy(b).into_owned())
}

/// A consumer's group, from the document (the learner's hand consumer: its `group.id` now).
fn group_of(run: &KafkaRun, consumer: &str) -> Option<String> {
    if consumer == broker_core::kafka::scenario::HAND_CONSUMER {
        return run.hand_config().and_then(|c| c.group_id.clone());
    }
    run.document().consumers.iter().find(|c| c.name == consumer).map(|c| c.group.clone())
}

/// One poll that returned the record.
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    pub consumer: String,
    pub group: String,
    pub at_ms: u64,
}

/// The first commit of a group past the record (its committed offset > the record's offset).
#[derive(Clone, Debug, PartialEq)]
pub struct CommitPast {
    pub group: String,
    pub consumer: String,
    pub at_ms: u64,
    pub offset: i64,
}

/// A record as its partition's leader holds it, and what happened to it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordDetail {
    pub partition: TopicPartition,
    pub offset: i64,
    pub timestamp: i64,
    /// `CreateTime` or `LogAppendTime`.
    pub timestamp_type: String,
    pub key: Option<String>,
    pub value: Option<String>,
    pub headers: Vec<(String, Option<String>)>,
    /// Below the high watermark: on every in-sync replica, readable.
    pub replicated: bool,
    /// (producer, send #, acknowledged at ms) when a producer's callback saw it.
    pub acknowledged: Option<(String, u64, u64)>,
    pub reads: Vec<Read>,
    pub commits: Vec<CommitPast>,
}

/// The record at `offset` of `tp`, if the log holds it now (not deleted, not truncated).
pub fn record_detail(run: &KafkaRun, tp: &TopicPartition, offset: i64) -> Option<RecordDetail> {
    let state = run.cluster().partition(tp)?;
    let log = &state.log;
    let record = log
        .read(tp, offset, log.log_end_offset(), 1, IsolationLevel::ReadUncommitted)
        .into_iter()
        .find(|r| r.offset == offset)?;
    let partition_name = name(tp);
    let mut acknowledged = None;
    let mut reads = Vec::new();
    let mut commits: Vec<CommitPast> = Vec::new();
    for (t, e) in run.events() {
        let at_ms = t.as_millis();
        match e {
            ActorEvent::Acknowledged { producer, seq, partition, offset: o, .. }
                if *partition == partition_name && *o == offset =>
            {
                acknowledged = Some((producer.clone(), *seq, at_ms));
            }
            ActorEvent::Consumed { consumer, partition, offset: o, .. }
                if *partition == partition_name && *o == offset =>
            {
                let group = group_of(run, consumer).unwrap_or_default();
                reads.push(Read { consumer: consumer.clone(), group, at_ms });
            }
            ActorEvent::Committed { consumer, offsets, error: None } => {
                let Some(group) = group_of(run, consumer) else { continue };
                if commits.iter().any(|c| c.group == group) {
                    continue;
                }
                if let Some((_, o)) = offsets.iter().find(|(p, o)| *p == partition_name && *o > offset) {
                    commits.push(CommitPast { group, consumer: consumer.clone(), at_ms, offset: *o });
                }
            }
            _ => {}
        }
    }
    Some(RecordDetail {
        partition: tp.clone(),
        offset,
        timestamp: record.timestamp,
        timestamp_type: format!("{:?}", record.timestamp_type),
        key: lossy(&record.key),
        value: lossy(&record.value),
        headers: record.headers.iter().map(|h| (h.key.clone(), lossy(&h.value))).collect(),
        replicated: offset < log.high_watermark(),
        acknowledged,
        reads,
        commits,
    })
}

/// Why a record is in its partition.
#[derive(Clone, Debug, PartialEq)]
pub enum PartitionReason {
    /// The producer named the partition (`new ProducerRecord(topic, partition, key, value)`).
    Explicit { producer: String, partition: i32 },
    /// A key: its serialized bytes (`StringSerializer`, UTF-8), Kafka's murmur2 of them, made positive,
    /// modulo the topic's partition count.
    Keyed { key: String, bytes: Vec<u8>, murmur2: i32, positive: i32, partitions: i32, partition: i32 },
    /// No key: the producer's sticky partition, kept for a run of sends until `batch.size` bytes were
    /// appended to it (or a batch was sent), then drawn again among the partitions with a leader.
    Sticky {
        producer: Option<String>,
        partitions: i32,
        batch_size: usize,
        /// The producer's consecutive sends (send numbers) that went to this partition with this one.
        run_first_seq: u64,
        run_last_seq: u64,
        /// Their offsets here.
        first_offset: i64,
        last_offset: i64,
    },
}

impl PartitionReason {
    /// The steps, one sentence each.
    pub fn steps(&self) -> Vec<String> {
        match self {
            PartitionReason::Explicit { producer, partition } => vec![format!(
                "{producer} names the partition in each record (partition {partition}): the partitioner is not asked."
            )],
            PartitionReason::Keyed { key, bytes, murmur2, positive, partitions, partition } => vec![
                format!(
                    "The key \"{key}\" is serialized by StringSerializer (UTF-8) into {} bytes: {}.",
                    bytes.len(),
                    hex(bytes)
                ),
                format!("murmur2 of those bytes (seed 0x9747b28c) is {murmur2}."),
                format!("toPositive({murmur2}) = {murmur2} & 0x7fffffff = {positive}."),
                format!(
                    "{positive} mod {partitions} partitions = {partition}: every record with this key goes to partition {partition} (while the topic has {partitions} partitions)."
                ),
            ],
            PartitionReason::Sticky {
                producer,
                partitions,
                batch_size,
                run_first_seq,
                run_last_seq,
                first_offset,
                last_offset,
            } => {
                let who = producer.clone().unwrap_or_else(|| "The producer".to_string());
                let mut steps = vec![
                    "The record has no key (null): murmur2 is not used.".to_string(),
                    format!(
                        "The producer's built-in sticky partitioner (KIP-480) keeps one partition among the topic's {partitions} until it has appended batch.size ({batch_size} bytes) to it, then draws another at random among the partitions with a leader."
                    ),
                ];
                if *partitions == 1 {
                    steps.push("The topic has one partition: every record goes to it.".to_string());
                }
                steps.push(if run_first_seq == run_last_seq {
                    format!("{who} sent only this record (send #{run_first_seq}) to this partition in its sticky run (offset {first_offset}).")
                } else {
                    format!(
                        "{who} sent sends #{run_first_seq} to #{run_last_seq} here in one sticky run: offsets {first_offset} to {last_offset}."
                    )
                });
                steps
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(32).map(|b| format!("{b:02x}")).collect();
    let more = if bytes.len() > 32 { " …" } else { "" };
    format!("{}{more}", shown.join(" "))
}

/// Why the record `detail` is in its partition.
pub fn why_partition(run: &KafkaRun, detail: &RecordDetail) -> PartitionReason {
    let tp = &detail.partition;
    let partitions = run.cluster().topic(&tp.topic).map_or(1, |t| t.partitions.len() as i32);
    let producer_name = detail.acknowledged.as_ref().map(|(p, _, _)| p.clone());
    let spec = run.document().producers.iter().find(|p| {
        Some(&p.name) == producer_name.as_ref() || (producer_name.is_none() && p.topic == tp.topic)
    });
    if let Some(spec) = spec {
        if let Some(partition) = spec.partition {
            return PartitionReason::Explicit { producer: spec.name.clone(), partition };
        }
    }
    if let Some(key) = &detail.key {
        let bytes = key.as_bytes().to_vec();
        let m = murmur2(&bytes);
        let positive = to_positive(m);
        return PartitionReason::Keyed {
            key: key.clone(),
            bytes,
            murmur2: m,
            positive,
            partitions,
            partition: positive % partitions.max(1),
        };
    }
    let batch_size = spec.and_then(|s| s.batch_size).unwrap_or(16_384);
    // The producer's acknowledged sends in send order; the run around this record that went here.
    let (mut first, mut last) = (detail.offset, detail.offset);
    let mut seqs = (0, 0);
    if let Some((producer, seq, _)) = &detail.acknowledged {
        let mut sends: Vec<(u64, String, i64)> = run
            .events()
            .iter()
            .filter_map(|(_, e)| match e {
                ActorEvent::Acknowledged { producer: p, seq, partition, offset, .. } if p == producer => {
                    Some((*seq, partition.clone(), *offset))
                }
                _ => None,
            })
            .collect();
        sends.sort();
        let here = name(tp);
        if let Some(i) = sends.iter().position(|(s, _, _)| s == seq) {
            let mut a = i;
            while a > 0 && sends[a - 1].1 == here {
                a -= 1;
            }
            let mut b = i;
            while b + 1 < sends.len() && sends[b + 1].1 == here {
                b += 1;
            }
            seqs = (sends[a].0, sends[b].0);
            first = sends[a].2;
            last = sends[b].2;
        }
    }
    PartitionReason::Sticky {
        producer: producer_name,
        partitions,
        batch_size,
        run_first_seq: seqs.0,
        run_last_seq: seqs.1,
        first_offset: first,
        last_offset: last,
    }
}

/// Why a group's members hold the partitions they hold.
#[derive(Clone, Debug, PartialEq)]
pub struct AssignmentExplanation {
    pub group: String,
    /// `range`, `roundrobin`, `sticky`, `cooperative-sticky` (classic) or `uniform`, `range` (consumer).
    pub assignor: String,
    pub steps: Vec<String>,
}

/// The assignor a group's consumers use, as the document configures them (Kafka's defaults otherwise:
/// the classic consumer's list starts with `range`; the consumer protocol's coordinator uses `uniform`).
pub fn assignor_of(run: &KafkaRun, group: &str) -> (bool, String) {
    let spec = run.document().consumers.iter().find(|c| c.group == group);
    let consumer_protocol = spec.and_then(|c| c.protocol.as_deref()) == Some("consumer");
    let assignor = spec
        .and_then(|c| c.assignor.clone())
        .unwrap_or_else(|| if consumer_protocol { "uniform" } else { "range" }.to_string());
    (consumer_protocol, assignor)
}

/// The assignor's steps for the group's current membership.
pub fn why_assignment(run: &KafkaRun, group: &str) -> AssignmentExplanation {
    let (consumer_protocol, assignor) = assignor_of(run, group);
    // Members (member id, client id, topics, assignment) as the coordinator holds them now.
    let mut members: Vec<(String, String, Vec<String>, Vec<TopicPartition>)> = Vec::new();
    let coordinator = run.coordinator();
    if consumer_protocol {
        if let Some(g) = coordinator.consumer_groups().group(group) {
            for m in g.members.values() {
                let topics = subscribed(run, &m.client_id);
                members.push((
                    m.member_id.clone(),
                    m.client_id.clone(),
                    topics,
                    m.assigned.iter().cloned().collect(),
                ));
            }
        }
    } else {
        for m in coordinator.describe_group(group).members {
            let topics = subscribed(run, &m.client_id);
            members.push((m.member_id.clone(), m.client_id.clone(), topics, m.assignment.clone()));
        }
    }
    let mut steps = Vec::new();
    if members.is_empty() {
        steps.push(format!("Group {group} has no members now: nothing is assigned."));
        return AssignmentExplanation { group: group.to_string(), assignor, steps };
    }
    members.sort_by(|a, b| a.0.cmp(&b.0));
    let mut topics: Vec<String> = members.iter().flat_map(|m| m.2.iter().cloned()).collect();
    topics.sort();
    topics.dedup();
    let counts: PartitionCounts = topics
        .iter()
        .filter_map(|t| run.cluster().topic(t).map(|x| (t.clone(), x.partitions.len() as i32)))
        .collect();
    let who = |member_id: &str| {
        members.iter().find(|m| m.0 == member_id).map_or(member_id.to_string(), |m| m.1.clone())
    };
    if assignor == "range" {
        steps.push(if consumer_protocol {
            "The group coordinator runs the range assignor (group.remote.assignor=range): per topic, the members in member-id order each take a contiguous range.".to_string()
        } else {
            "The group leader's consumer runs RangeAssignor (partition.assignment.strategy, first in the default list): per topic, the subscribed members sorted by member id each take a contiguous range.".to_string()
        });
        for (topic, &count) in &counts {
            let subscribers: Vec<&(String, String, Vec<String>, Vec<TopicPartition>)> =
                members.iter().filter(|m| m.2.contains(topic)).collect();
            if subscribers.is_empty() || count <= 0 {
                continue;
            }
            let n = subscribers.len() as i32;
            let (per, extra) = (count / n, count % n);
            let members_word = if n == 1 { "member" } else { "members" };
            steps.push(if extra == 0 {
                format!("{topic}: {count} partitions / {n} {members_word} = {per}, remainder 0: each takes {per}.")
            } else {
                format!(
                    "{topic}: {count} partitions / {n} {members_word} = {per}, remainder {extra}: the first {extra} in order take{} one more.",
                    if extra == 1 { "s" } else { "" },
                )
            });
            let mut next = 0;
            for (i, m) in subscribers.iter().enumerate() {
                let take = per + i32::from((i as i32) < extra);
                let range = if take == 0 {
                    "nothing".to_string()
                } else if take == 1 {
                    format!("{topic}-{next}")
                } else {
                    format!("{topic}-{} to {topic}-{}", next, next + take - 1)
                };
                steps.push(format!(
                    "{}. {} ({}): {take} partition{}: {range}.",
                    i + 1,
                    m.1,
                    m.0,
                    if take == 1 { "" } else { "s" }
                ));
                next += take;
            }
        }
        if !consumer_protocol {
            // The engine's own RangeAssignor on this membership, shown beside the steps.
            let subs: Vec<MemberSubscription> = members
                .iter()
                .map(|m| {
                    let t: Vec<&str> = m.2.iter().map(String::as_str).collect();
                    MemberSubscription::new(m.0.clone(), &t)
                })
                .collect();
            let result = ClientAssignor::Range.assign(&subs, &counts);
            let agrees = members.iter().all(|m| {
                let mut have = m.3.clone();
                have.sort();
                result.get(&m.0).is_some_and(|r| *r == have)
            });
            steps.push(if agrees {
                "The members hold exactly these partitions now.".to_string()
            } else {
                "The members hold other partitions now: the group is between generations (a rebalance is under way).".to_string()
            });
        }
    } else {
        let rule = match assignor.as_str() {
            "roundrobin" => "RoundRobinAssignor deals every partition (topics in name order) to the members in member-id order, around a circle.",
            "sticky" => "StickyAssignor balances the partition counts (each member gets the floor or the ceiling of partitions / members) while keeping as many partitions as possible with their previous owner; eager: every member gives up everything first.",
            "cooperative-sticky" => "CooperativeStickyAssignor balances like the sticky assignor but only takes away the partitions that move: they are revoked first and assigned in a second rebalance; the others stay read throughout.",
            _ => "The coordinator's uniform assignor (group.remote.assignor, KIP-848) balances the partition counts (floor or ceiling of partitions / members) and keeps partitions with their current owner where it can; members move to the new assignment one by one (member epochs).",
        };
        steps.push(rule.to_string());
        let total: i32 = counts.values().sum();
        let n = members.len() as i32;
        steps.push(format!(
            "{total} partition{} / {n} member{} = {} each, remainder {}.",
            if total == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            total / n,
            total % n
        ));
    }
    steps.push("Now:".to_string());
    for m in &members {
        let list: Vec<String> = m.3.iter().map(name).collect();
        steps.push(format!(
            "{} holds {}.",
            who(&m.0),
            if list.is_empty() { "nothing".to_string() } else { list.join(", ") }
        ));
    }
    AssignmentExplanation { group: group.to_string(), assignor, steps }
}

fn subscribed(run: &KafkaRun, client_id: &str) -> Vec<String> {
    run.document()
        .consumers
        .iter()
        .find(|c| c.name == client_id)
        .map(|c| c.topics.clone())
        .unwrap_or_default()
}

/// A member's rates over the window.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberRate {
    pub consumer: String,
    pub partitions: Vec<String>,
    /// Records per second appended to its partitions.
    pub arrival_per_s: f64,
    /// Records per second it read.
    pub processed_per_s: f64,
    /// Its partitions' lag now.
    pub lag: u64,
}

/// Why a group lags now.
#[derive(Clone, Debug, PartialEq)]
pub struct LagExplanation {
    pub group: String,
    pub window_ms: u64,
    pub members: Vec<MemberRate>,
    /// The partition with the most lag: (partition, lag, its owner or None).
    pub worst: Option<(String, u64, Option<String>)>,
    pub verdict: String,
}

/// How long the lag explanation looks back.
pub const LAG_WINDOW_MS: u64 = 5_000;

/// Arrival against processing per member over the last [`LAG_WINDOW_MS`], and the partition that holds
/// the group back. `offsets` is (partition, committed, lag) per partition of the group.
pub fn why_lagging(
    run: &KafkaRun,
    group: &str,
    owners: &[(String, Vec<TopicPartition>)],
    offsets: &[(TopicPartition, Option<i64>, u64)],
) -> LagExplanation {
    let now = run.time().as_millis();
    let from = now.saturating_sub(LAG_WINDOW_MS);
    let window = (now - from).max(1);
    let per_s = |n: u64| n as f64 * 1000.0 / window as f64;
    let mut arrived: BTreeMap<String, u64> = BTreeMap::new();
    let mut read: BTreeMap<String, u64> = BTreeMap::new();
    for (t, e) in run.events() {
        let t = t.as_millis();
        if t <= from || t > now {
            continue;
        }
        match e {
            ActorEvent::Acknowledged { partition, .. } => *arrived.entry(partition.clone()).or_default() += 1,
            ActorEvent::Consumed { consumer, .. } if group_of(run, consumer).as_deref() == Some(group) => {
                *read.entry(consumer.clone()).or_default() += 1
            }
            _ => {}
        }
    }
    let lag_of = |tp: &TopicPartition| offsets.iter().find(|(p, _, _)| p == tp).map_or(0, |o| o.2);
    let members: Vec<MemberRate> = owners
        .iter()
        .map(|(consumer, tps)| MemberRate {
            consumer: consumer.clone(),
            partitions: tps.iter().map(name).collect(),
            arrival_per_s: per_s(tps.iter().map(|tp| arrived.get(&name(tp)).copied().unwrap_or(0)).sum()),
            processed_per_s: per_s(read.get(consumer).copied().unwrap_or(0)),
            lag: tps.iter().map(lag_of).sum(),
        })
        .collect();
    let worst =
        offsets.iter().filter(|o| o.2 > 0).max_by_key(|o| (o.2, std::cmp::Reverse(name(&o.0)))).map(|o| {
            let owner = owners.iter().find(|(_, tps)| tps.contains(&o.0)).map(|(c, _)| c.clone());
            (name(&o.0), o.2, owner)
        });
    let total: u64 = offsets.iter().map(|o| o.2).sum();
    let verdict = match &worst {
        None => format!("Group {group} does not lag: it has read and committed everything written."),
        Some((p, lag, None)) => format!(
            "{p} has {lag} records waiting and no member reads it (no member yet, or a rebalance is under way): the group's lag is {total}."
        ),
        Some((p, lag, Some(owner))) => {
            let m = members.iter().find(|m| &m.consumer == owner);
            match m {
                Some(m) if m.processed_per_s + 0.05 < m.arrival_per_s => format!(
                    "{owner} reads {:.1} records/s while {:.1} records/s arrive on its partitions: it falls behind. {p} holds the group back with {lag} records (group lag {total}).",
                    m.processed_per_s, m.arrival_per_s
                ),
                Some(m) if m.processed_per_s > m.arrival_per_s + 0.05 => format!(
                    "{owner} reads {:.1} records/s, more than the {:.1} records/s arriving: it is catching up. {p} still holds {lag} records (group lag {total}).",
                    m.processed_per_s, m.arrival_per_s
                ),
                _ => format!(
                    "{owner} keeps pace with arrivals, but its commits trail its reads: {p} shows {lag} records not yet committed (group lag {total})."
                ),
            }
        }
    };
    LagExplanation { group: group.to_string(), window_ms: LAG_WINDOW_MS, members, worst, verdict }
}

/// One member's callback in a rebalance.
#[derive(Clone, Debug, PartialEq)]
pub struct RebalanceStep {
    pub at_ms: u64,
    pub consumer: String,
    /// `revoked`, `assigned` or `lost`.
    pub what: &'static str,
    pub partitions: Vec<String>,
}

/// One rebalance of a group: its members' callbacks, in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct Rebalance {
    pub group: String,
    /// Eager (everything revoked, then everything assigned) or cooperative/incremental.
    pub eager: bool,
    pub steps: Vec<RebalanceStep>,
    /// The generation (classic) or group epoch (consumer protocol) of its assignments.
    pub generation: Option<i32>,
    /// Member epochs at its last assignment, consumer protocol only: (client id, epoch).
    pub member_epochs: Vec<(String, i32)>,
}

impl Rebalance {
    pub fn end_ms(&self) -> u64 {
        self.steps.last().map_or(0, |s| s.at_ms)
    }
}

/// The group's generation (classic) or group epoch (consumer protocol) at a time, and its members'
/// epochs (consumer protocol only).
pub type GenerationAt<'a> = &'a mut dyn FnMut(u64) -> (Option<i32>, Vec<(String, i32)>);

/// A group's rebalances up to the run's time, from its members' `onPartitionsRevoked` / `Assigned` /
/// `Lost` callbacks and the generation at each (`generation_at`, called with nondecreasing times). A
/// rebalance gathers the callbacks revoking or losing partitions and the assignments of one generation
/// that follow them; a revocation after an assignment, or an assignment of a later generation, begins
/// the next. (A cooperative rebalance that moves partitions is two: the first revokes what moves, the
/// second assigns it, as the cooperative protocol does it.)
pub fn rebalances(run: &KafkaRun, group: &str, generation_at: GenerationAt) -> Vec<Rebalance> {
    let (consumer_protocol, assignor) = assignor_of(run, group);
    let eager = !consumer_protocol && assignor != "cooperative-sticky";
    let mut out: Vec<Rebalance> = Vec::new();
    let mut open: Option<Rebalance> = None;
    for (t, e) in run.events() {
        let (consumer, what, partitions) = match e {
            ActorEvent::Revoked { consumer, partitions } => (consumer, "revoked", partitions),
            ActorEvent::Assigned { consumer, partitions } => (consumer, "assigned", partitions),
            ActorEvent::Lost { consumer, partitions } => (consumer, "lost", partitions),
            _ => continue,
        };
        if group_of(run, consumer).as_deref() != Some(group) {
            continue;
        }
        let at_ms = t.as_millis();
        let (generation, epochs) = generation_at(at_ms);
        let has_assigned = open.as_ref().is_some_and(|r| r.steps.iter().any(|s| s.what == "assigned"));
        let next = if what == "assigned" {
            has_assigned && open.as_ref().is_some_and(|r| r.generation != generation)
        } else {
            has_assigned
        };
        if next {
            out.extend(open.take());
        }
        let r = open.get_or_insert_with(|| Rebalance {
            group: group.to_string(),
            eager,
            steps: Vec::new(),
            generation: None,
            member_epochs: Vec::new(),
        });
        if what == "assigned" {
            r.generation = generation;
            r.member_epochs = epochs;
        }
        r.steps.push(RebalanceStep {
            at_ms,
            consumer: consumer.clone(),
            what,
            partitions: partitions.clone(),
        });
    }
    out.extend(open);
    out
}

/// A record lost or read twice, and what allowed it.
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    pub at_ms: u64,
    /// `lost`, `duplicated` or `not written`.
    pub kind: &'static str,
    pub partition: String,
    pub text: String,
}

/// Every loss, duplicate and failed send the run's events show up to its time, explained by the
/// producer's and topic's settings.
pub fn incidents(run: &KafkaRun) -> Vec<Incident> {
    let doc = run.document();
    let mut out = Vec::new();
    // The last election per partition: unclean or not.
    let mut unclean: BTreeMap<String, bool> = BTreeMap::new();
    // (group, partition, offset) → first read (consumer, at).
    let mut first_read: BTreeMap<(String, String, i64), (String, u64)> = BTreeMap::new();
    for (t, e) in run.events() {
        let at_ms = t.as_millis();
        match e {
            ActorEvent::Cluster { what } => {
                let mut words = what.split_whitespace();
                let kind = words.next().unwrap_or("");
                let partition = words.next().unwrap_or("").to_string();
                let field = |k: &str| {
                    what.split_whitespace().find_map(|w| w.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                };
                if kind == "LeaderElected" {
                    unclean.insert(partition, field("unclean") == Some("true"));
                } else if kind == "RecordsTruncated" {
                    let lost: u64 = field("records_lost").and_then(|v| v.parse().ok()).unwrap_or(0);
                    if lost == 0 {
                        continue;
                    }
                    let end = field("log_end_offset").unwrap_or("?");
                    let topic =
                        parse_partition(&partition).map(|tp| tp.topic.to_string()).unwrap_or_default();
                    let acks: Vec<String> = doc
                        .producers
                        .iter()
                        .filter(|p| p.topic == topic)
                        .map(|p| {
                            format!(
                                "{} acks={}",
                                p.name,
                                p.acks.map_or("all".to_string(), |a| acks_name(a.acks()))
                            )
                        })
                        .collect();
                    let how = if unclean.get(&partition).copied().unwrap_or(false) {
                        "the new leader was elected from outside the ISR (unclean.leader.election.enable=true): it lacked records the old leader had"
                    } else {
                        "the new leader had not fetched them yet: they were on the old leader only, above the high watermark"
                    };
                    out.push(Incident {
                        at_ms,
                        kind: "lost",
                        partition: partition.clone(),
                        text: format!(
                            "{lost} record{} cut from {partition} (log end back to {end}): {how}. Producers: {}. With acks=all and min.insync.replicas ≥ 2 an acknowledged record is on at least two replicas.",
                            if lost == 1 { "" } else { "s" },
                            if acks.is_empty() { "none".to_string() } else { acks.join(", ") }
                        ),
                    });
                }
            }
            ActorEvent::SendFailed { producer, seq, error } => {
                let spec = doc.producers.iter().find(|p| &p.name == producer);
                out.push(Incident {
                    at_ms,
                    kind: "not written",
                    partition: spec.map(|p| p.topic.clone()).unwrap_or_default(),
                    text: format!(
                        "{producer} send #{seq} failed: {error}. The callback saw the exception; the record was not acknowledged{}.",
                        if spec.and_then(|p| p.idempotence) == Some(false) {
                            " (idempotence is off: a retry of an earlier send that did reach the log may have written it twice)"
                        } else {
                            ""
                        }
                    ),
                });
            }
            ActorEvent::Consumed { consumer, partition, offset, .. } => {
                let Some(group) = group_of(run, consumer) else { continue };
                let key = (group.clone(), partition.clone(), *offset);
                match first_read.get(&key) {
                    None => {
                        first_read.insert(key, (consumer.clone(), at_ms));
                    }
                    Some((first, first_at)) => out.push(Incident {
                        at_ms,
                        kind: "duplicated",
                        partition: partition.clone(),
                        text: format!(
                            "{partition}@{offset} read again by {consumer} (group {group}); {first} had read it at {}.{:03} s. The group's committed offset was still at or below {offset}: after a rebalance or a restart a member resumes from the last commit, so records read but not yet committed are read again (at-least-once).",
                            first_at / 1000,
                            first_at % 1000
                        ),
                    }),
                }
            }
            _ => {}
        }
    }
    out.sort_by_key(|i| i.at_ms);
    out
}

fn acks_name(acks: broker_core::kafka::Acks) -> String {
    match acks {
        broker_core::kafka::Acks::None => "0",
        broker_core::kafka::Acks::Leader => "1",
        broker_core::kafka::Acks::All => "all",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::kafka::scenario::KafkaRunOptions;
    use broker_core::VirtualTime;

    fn run_to(id: &str, ms: u64) -> KafkaRun {
        let text = crate::kafka_page::model::bundled_text(id).unwrap();
        let mut run = KafkaRun::from_json(text, KafkaRunOptions::default()).unwrap();
        run.run_until(VirtualTime::from_millis(ms));
        run
    }

    #[test]
    fn a_quickstart_record_shows_its_bytes_who_read_it_and_the_commit_past_it() {
        let run = run_to("quickstart", 20_000);
        let tp = TopicPartition::new("quickstart-events", 0);
        let d = record_detail(&run, &tp, 3).expect("offset 3 is in the log");
        // The console producer's sends are numbered from 1: offset 3 holds the fourth.
        assert_eq!(d.value.as_deref(), Some("This is event number 4"));
        assert_eq!(d.key, None);
        assert!(d.replicated);
        let (producer, seq, _) = d.acknowledged.clone().expect("acknowledged");
        assert_eq!((producer.as_str(), seq), ("console-producer", 4));
        assert_eq!(d.reads.len(), 1, "read once: {:?}", d.reads);
        assert_eq!(d.reads[0].consumer, "console-consumer");
        assert!(d.reads[0].at_ms >= 4_000, "the consumer starts at 4 s");
        let c = &d.commits[0];
        assert_eq!(c.group, "console-consumer-group");
        assert!(c.offset > 3 && c.at_ms >= d.reads[0].at_ms);
        assert!(record_detail(&run, &tp, 10).is_none(), "nothing at the log end");
        // Null key, one partition: the sticky partitioner.
        let PartitionReason::Sticky { partitions, batch_size, .. } = why_partition(&run, &d) else {
            panic!("sticky")
        };
        assert_eq!((partitions, batch_size), (1, 16_384));
    }

    #[test]
    fn a_keyed_record_is_explained_with_kafkas_murmur2() {
        // Kafka's UtilsTest vector: murmur2("21") = -973932308; toPositive → 1173551340.
        let run = run_to("consumer-crash-rebalance", 30_000);
        let detail = RecordDetail {
            partition: TopicPartition::new("payments", 0),
            offset: 0,
            timestamp: 0,
            timestamp_type: String::new(),
            key: Some("21".into()),
            value: None,
            headers: Vec::new(),
            replicated: true,
            acknowledged: None,
            reads: Vec::new(),
            commits: Vec::new(),
        };
        let PartitionReason::Keyed { murmur2, positive, partitions, partition, ref bytes, .. } =
            why_partition(&run, &detail)
        else {
            panic!("keyed")
        };
        assert_eq!(bytes, b"21");
        assert_eq!((murmur2, positive, partitions, partition), (-973_932_308, 1_173_551_340, 2, 0));
        let steps = why_partition(&run, &detail).steps();
        assert!(steps[0].contains("32 31"), "{steps:?}");
        // Every keyed record the run wrote is where its reason says.
        for p in 0..2 {
            let tp = TopicPartition::new("payments", p);
            for o in 0..5 {
                let d = record_detail(&run, &tp, o).expect("a record");
                let PartitionReason::Keyed { partition, .. } = why_partition(&run, &d) else { panic!() };
                assert_eq!(partition, p, "{:?}", d.key);
            }
        }
    }

    #[test]
    fn the_range_assignment_and_the_rebalance_after_a_crash_are_told_step_by_step() {
        // The first generation comes after group.initial.rebalance.delay.ms (3 s).
        let run = run_to("consumer-crash-rebalance", 8_000);
        let a = why_assignment(&run, "ledger");
        assert_eq!(a.assignor, "range");
        assert!(
            a.steps.iter().any(|s| s == "payments: 2 partitions / 2 members = 1, remainder 0: each takes 1."),
            "{:#?}",
            a.steps
        );
        assert!(a.steps.iter().any(|s| s.starts_with("1. ledger-1 (ledger-1-") && s.ends_with(": 1 partition: payments-0.")), "{:#?}", a.steps);
        assert!(
            a.steps.iter().any(|s| s == "The members hold exactly these partitions now."),
            "{:#?}",
            a.steps
        );
        let mut session =
            crate::kafka_page::model::KafkaSession::bundled("consumer-crash-rebalance").unwrap();
        session.seek(30_000);
        let rs = session.rebalances("ledger");
        let run = run_to("consumer-crash-rebalance", 30_000);
        assert!(rs.len() >= 2, "the first assignment and the one after the crash: {rs:#?}");
        assert!(rs.iter().all(|r| r.eager));
        let last = rs.last().unwrap();
        // Eager: the survivor gives up its partition, then gets both.
        assert!(last.steps.iter().any(|s| s.what == "revoked"), "{last:#?}");
        let assigned = last.steps.iter().rev().find(|s| s.what == "assigned").unwrap();
        assert_eq!(assigned.partitions, ["payments-0", "payments-1"], "{last:#?}");
        let a = why_assignment(&run, "ledger");
        assert!(
            a.steps.iter().any(|s| s.starts_with("payments: 2 partitions / 1 member = 2")),
            "{:#?}",
            a.steps
        );
    }

    #[test]
    fn a_slow_consumer_lags_because_it_reads_slower_than_records_arrive() {
        let run = run_to("slow-consumer-lag", 8_000);
        let owners = vec![(
            "analytics".to_string(),
            vec![TopicPartition::new("clicks", 0), TopicPartition::new("clicks", 1)],
        )];
        let lag = |p| {
            let tp = TopicPartition::new("clicks", p);
            let end = run.cluster().partition(&tp).unwrap().log.log_end_offset();
            let c = run.committed("analytics", &tp).unwrap_or(0);
            (tp, Some(c), (end - c) as u64)
        };
        let offsets = vec![lag(0), lag(1)];
        let e = why_lagging(&run, "analytics", &owners, &offsets);
        let m = &e.members[0];
        // 20 records/s arrive; processing takes 100 ms per record: at most 10/s.
        assert!((m.arrival_per_s - 20.0).abs() < 1.5, "{m:?}");
        assert!(m.processed_per_s <= 10.5, "{m:?}");
        assert!(e.verdict.contains("falls behind"), "{}", e.verdict);
        assert!(e.worst.is_some());
    }

    #[test]
    fn an_unclean_or_lagging_leader_change_shows_the_records_cut_and_failed_sends() {
        let run = run_to("replicas-broker-down", 40_000);
        let all = incidents(&run);
        // The document takes brokers down below min.insync.replicas: acks=all sends fail.
        assert!(all.iter().any(|i| i.kind == "not written" && i.text.contains("writer send #")), "{all:#?}");
        let quick = run_to("quickstart", 20_000);
        assert!(incidents(&quick).is_empty(), "the quickstart loses nothing");
    }

    #[test]
    fn each_rebalance_carries_the_generation_the_group_had_when_it_ended() {
        let mut s = crate::kafka_page::model::KafkaSession::bundled("consumer-crash-rebalance").unwrap();
        s.seek(30_000);
        let rs = s.rebalances("ledger");
        let generations: Vec<Option<i32>> = rs.iter().map(|r| r.generation).collect();
        assert_eq!(generations.first(), Some(&Some(1)), "{rs:#?}");
        assert!(generations.windows(2).all(|w| w[0] < w[1]), "one generation per rebalance: {generations:?}");
        // The first: both members assigned one partition each, nothing revoked (they owned nothing).
        let first = &rs[0];
        assert_eq!(first.steps.len(), 2, "{first:#?}");
        assert!(first.steps.iter().all(|s| s.what == "assigned" && s.partitions.len() == 1), "{first:#?}");
    }
}
