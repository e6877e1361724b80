//! The Kafka page's state, in plain Rust (tested natively): a document, the faults the learner added by
//! clicking, the run played up to the page's time, and what the views show of it.
//!
//! Invariants: the run is always the document (with the learner's faults) played from 0 to `time`, so
//! going back rebuilds it and plays it again — the engine is deterministic, so the state at a time never
//! depends on how the page got there. The lag chart covers the whole run: it is sampled from a second run
//! played to the end whenever the document changes.

use crate::persist::{import, pages::PageDoc, permalink};
use broker_core::kafka::scenario::{ActorEvent, KafkaRun, KafkaRunOptions};
use broker_core::kafka::TopicPartition;
use broker_core::scenario::document::ModelName;
use broker_core::scenario::sim::{CheckResult, CheckStatus};
use broker_core::VirtualTime;
use std::rc::Rc;

/// A bundled Kafka document: its id (`?doc=`), its title and its text's fingerprint. The page carries only
/// the quickstart's text ([`QUICKSTART`], its first document); it fetches another's from the served app
/// ([`Bundled::file`]; index.html copies each file there) when the address asks for it, so the tutorials'
/// texts are not in its download. [`bundled_text`] has every text (the tests, the embedded sandbox).
pub struct Bundled {
    pub id: &'static str,
    pub title: &'static str,
    /// [`fingerprint`] of the text: a workspace's document is recognised as this one without the text.
    pub fingerprint: u64,
}

impl Bundled {
    /// Where the page fetches the text, relative to the page (index.html's `copy-file` puts it there).
    pub fn file(&self) -> String {
        format!("kafka/documents/{}/document.json", self.id)
    }
}

/// FNV-1a (64 bits) of a text, folded with its length; computed at compile time for [`BUNDLED`].
pub const fn fingerprint(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ (bytes.len() as u64);
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The quickstart tutorial, the page's first document: carried in the module.
pub const QUICKSTART: &str = include_str!("documents/quickstart.json");

/// The bundled documents: `(id, title, path of the text)`, in the picker's order after the quickstart.
/// Defines [`BUNDLED`] (texts as fingerprints only) and [`bundled_text`] (the texts).
macro_rules! bundled_documents {
    ($( ($id:literal, $title:literal, $path:literal), )*) => {
        /// The documents the Kafka page offers; the first is the quickstart tutorial.
        pub const BUNDLED: &[Bundled] = &[
            Bundled { id: "quickstart", title: "Tutorial: Kafka's quickstart", fingerprint: fingerprint(QUICKSTART) },
            $( Bundled { id: $id, title: $title, fingerprint: fingerprint(include_str!($path)) }, )*
        ];

        /// A bundled document's text by id. The page does not call this (it would carry every text): it
        /// fetches them ([`Bundled::file`]); the tests and the embedded Kafka sandbox do.
        pub fn bundled_text(id: &str) -> Option<&'static str> {
            match id {
                "quickstart" => Some(QUICKSTART),
                $( $id => Some(include_str!($path)), )*
                _ => None,
            }
        }
    };
}

bundled_documents! {
    ("replicas-broker-down", "Replication, acks=all and min.insync.replicas with brokers going down",
        "../../tests/scenarios/kafka-documents/broker-down-min-insync/document.json"),
    ("consumer-crash-rebalance", "A consumer crashes: the group rebalances after its session times out",
        "../../tests/scenarios/kafka-documents/consumer-crash-rebalance/document.json"),
    ("slow-consumer-lag", "A slow consumer: lag grows, then falls back to 0",
        "../../tests/scenarios/kafka-documents/slow-consumer-lag/document.json"),
    // The tutorials (issue #17 point 5): each file is also a golden (crates/broker_core/tests/kafka_documents.rs)
    // and is compared with a real Kafka (scripts/real-kafka-tests.sh).
    ("partitions-and-keys", "Tutorial: partitions and keys (order per key, not per topic)",
        "../../tests/scenarios/kafka-tutorials/partitions-and-keys/document.json"),
    ("consumer-groups", "Tutorial: consumer groups (one group shares the work, two groups each get everything)",
        "../../tests/scenarios/kafka-tutorials/consumer-groups/document.json"),
    ("offsets-and-lag", "Tutorial: offsets and lag (a slow consumer catches up; commit policies)",
        "../../tests/scenarios/kafka-tutorials/offsets-and-lag/document.json"),
    ("rebalancing", "Tutorial: rebalancing (eager versus cooperative, static membership)",
        "../../tests/scenarios/kafka-tutorials/rebalancing/document.json"),
    ("replication-and-acks", "Tutorial: replication, acks and min.insync.replicas with brokers going down",
        "../../tests/scenarios/kafka-tutorials/replication-and-acks/document.json"),
    ("retention-and-compaction", "Tutorial: retention and compaction",
        "../../tests/scenarios/kafka-tutorials/retention-and-compaction/document.json"),
    ("idempotence-and-transactions", "Tutorial: idempotence and transactions (read_committed)",
        "../../tests/scenarios/kafka-tutorials/idempotence-and-transactions/document.json"),
    ("share-groups", "Tutorial: share groups (KIP-932: more members than partitions, release, redelivery, the delivery limit)",
        "../../tests/scenarios/kafka-tutorials/share-groups/document.json"),
}

/// The bundled document of this id, for a session (its `bundled` field).
pub fn bundled_entry(id: &str) -> Option<&'static Bundled> {
    BUNDLED.iter().find(|b| b.id == id)
}

/// How many lag samples the chart holds over the whole run.
pub const LAG_SAMPLES: u64 = 120;

/// A broker as the cluster view shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct BrokerView {
    pub id: i32,
    pub up: bool,
    /// Partitions it leads.
    pub leads: usize,
}

/// A partition as the cluster view and its log strip show it.
#[derive(Clone, Debug, PartialEq)]
pub struct PartitionView {
    pub topic: String,
    pub partition: i32,
    pub leader: Option<i32>,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub log_start: i64,
    pub high_watermark: i64,
    pub log_end: i64,
    pub segments: usize,
}

impl PartitionView {
    pub fn name(&self) -> String {
        format!("{}-{}", self.topic, self.partition)
    }
}

/// A group member and its assignment.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberView {
    /// The consumer's `client.id` (the document's consumer name).
    pub client_id: String,
    pub member_id: String,
    pub assignment: Vec<TopicPartition>,
}

/// A consumer group: state, generation (classic) or group epoch (consumer protocol), members, and per
/// partition its committed offset and lag.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupView {
    pub id: String,
    pub protocol: &'static str,
    pub state: String,
    /// Classic: the generation; consumer protocol: the group epoch.
    pub generation: i32,
    pub members: Vec<MemberView>,
    /// (partition, committed offset or None, lag).
    pub offsets: Vec<(TopicPartition, Option<i64>, u64)>,
}

/// A share group's member (KIP-932): a share consumer of the document, and the records it holds now.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareMemberView {
    pub name: String,
    /// Polling now (false once closed or crashed: what it held stays acquired until the locks expire).
    pub running: bool,
    /// The records it has acquired, as `topic-partition@offset`.
    pub acquired: Vec<String>,
}

/// A record in flight in a share-partition: its state, delivery count and holder.
#[derive(Clone, Debug, PartialEq)]
pub struct InFlightView {
    pub offset: i64,
    /// `Available`, `Acquired`, `Acknowledged` or `Archived` (Kafka's `RecordState`).
    pub state: &'static str,
    pub delivery_count: i32,
    /// Who holds it, when acquired.
    pub member: Option<String>,
}

/// One partition as a share group sees it: the share-partition start offset (SPSO; none before the
/// first fetch) and the records in flight from it on.
#[derive(Clone, Debug, PartialEq)]
pub struct SharePartitionView {
    pub partition: TopicPartition,
    pub start_offset: Option<i64>,
    pub log_end: i64,
    pub in_flight: Vec<InFlightView>,
}

/// A share group (KIP-932): its members, its settings and its share-partitions.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareGroupView {
    pub id: String,
    pub delivery_limit: i32,
    pub lock_duration_ms: u64,
    pub members: Vec<ShareMemberView>,
    pub partitions: Vec<SharePartitionView>,
}

/// One sample of every (group, partition)'s lag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LagSample {
    pub at_ms: u64,
    pub lags: Vec<u64>,
}

/// The lag of every (group, partition) over the whole run, with each line's points as the chart draws
/// them ([`LAG_CHART_W`] × [`LAG_CHART_H`]): they change only when the series is sampled again, so they
/// are worked out then, once, not on every redraw (100 partitions are 100 lines of 201 points).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LagSeries {
    /// `group: topic-partition` per line.
    pub lines: Vec<String>,
    pub samples: Vec<LagSample>,
    /// The largest lag of the run (at least 1): the chart's top.
    pub max: u64,
    /// Each line's SVG polyline points, in the order of `lines`.
    pub points: Vec<String>,
}

/// The lag chart's drawing area, in SVG units (`view::LagChart`).
pub const LAG_CHART_W: f64 = 520.0;
pub const LAG_CHART_H: f64 = 140.0;

impl LagSeries {
    /// The series of `lines` sampled at `samples`, over a run ending at `end_ms`, with its chart points.
    fn new(lines: Vec<String>, samples: Vec<LagSample>, end_ms: u64) -> LagSeries {
        let max = samples.iter().flat_map(|x| x.lags.iter().copied()).max().unwrap_or(0).max(1);
        let (end, top) = (end_ms.max(1) as f64, max as f64);
        let mut points = vec![String::new(); lines.len()];
        for sample in &samples {
            let x = sample.at_ms as f64 / end * LAG_CHART_W;
            for (line, &lag) in points.iter_mut().zip(&sample.lags) {
                if !line.is_empty() {
                    line.push(' ');
                }
                let y = LAG_CHART_H - lag as f64 / top * (LAG_CHART_H - 8.0);
                line.push_str(&format!("{x:.1},{y:.1}"));
            }
        }
        LagSeries { lines, samples, max, points }
    }
}

/// The page's session: the document, its run at the page's time, the whole-run lag chart.
pub struct KafkaSession {
    /// The bundled document's id, when it is one.
    pub bundled: Option<&'static str>,
    /// The document as loaded (the learner's faults are added to it when it is played).
    pub text: String,
    /// Broker faults the learner added: (at ms, broker, up).
    pub clicks: Vec<(u64, i32, bool)>,
    /// What the learner did from the forms, at its instant, in time order ([`super::ops`]).
    pub ops: Vec<super::ops::Applied>,
    /// The hand `acks=all` sends' final answers up to the page's time ([`super::ops::HandSends`]).
    pub sends: super::ops::HandSends,
    run: KafkaRun,
    /// Shared with the lag chart's props: a redraw clones the pointer, and an unchanged series compares
    /// equal by address.
    pub lag: Rc<LagSeries>,
}

impl KafkaSession {
    /// Opens a document at time 0; refuses it with the engine's error (`line:col`).
    pub fn open(text: &str, bundled: Option<&'static str>) -> Result<KafkaSession, String> {
        let run = KafkaRun::from_json(text, KafkaRunOptions::default()).map_err(|e| e.to_string())?;
        let mut session = KafkaSession {
            bundled,
            text: text.to_string(),
            clicks: Vec::new(),
            ops: Vec::new(),
            sends: super::ops::HandSends::default(),
            run,
            lag: Rc::default(),
        };
        session.lag = session.sample_lag()?;
        Ok(session)
    }

    /// A bundled document by id (from [`bundled_text`]: not for the page, which fetches the texts).
    pub fn bundled(id: &str) -> Option<KafkaSession> {
        let b = bundled_entry(id)?;
        KafkaSession::open(bundled_text(id)?, Some(b.id)).ok()
    }

    /// The document with the learner's faults, as it is played.
    pub fn played_text(&self) -> String {
        if self.clicks.is_empty() {
            return self.text.clone();
        }
        let Ok(mut doc) =
            serde_json::from_str::<serde_json::Value>(broker_core::scenario::strip_bom(&self.text))
        else {
            return self.text.clone();
        };
        let Some(object) = doc.as_object_mut() else { return self.text.clone() };
        let faults = object.entry("faults").or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let Some(list) = faults.as_array_mut() {
            for &(at, broker, up) in &self.clicks {
                let key = if up { "broker_up" } else { "broker_down" };
                list.push(serde_json::json!({ "at": format!("{at}ms"), key: broker }));
            }
            // The engine fires faults of one instant in document order; the learner's come in time order.
            list.sort_by_key(|f| f.get("at").and_then(|a| a.as_str()).map(millis).unwrap_or(0));
        }
        serde_json::to_string_pretty(&doc).unwrap_or_else(|_| self.text.clone())
    }

    fn build(&self) -> Result<KafkaRun, String> {
        KafkaRun::from_json(&self.played_text(), KafkaRunOptions::default()).map_err(|e| e.to_string())
    }

    fn sample_lag(&self) -> Result<Rc<LagSeries>, String> {
        let mut run = self.build()?;
        let end = run.end_time().as_millis();
        // The lines: the document's groups and the hand consumer's, partitions counted now.
        let lines: Vec<(String, TopicPartition)> = group_partitions_with(&self.run, &self.ops);
        let mut samples = Vec::new();
        let mut played = None;
        for i in 0..=LAG_SAMPLES {
            let at_ms = end * i / LAG_SAMPLES;
            super::ops::play(&mut run, &self.ops, played, at_ms);
            played = Some(at_ms);
            let lags = lines.iter().map(|(g, tp)| lag_of(&run, g, tp).1).collect();
            samples.push(LagSample { at_ms, lags });
        }
        let lines = lines.iter().map(|(g, tp)| format!("{g}: {}-{}", tp.topic, tp.partition)).collect();
        Ok(Rc::new(LagSeries::new(lines, samples, end)))
    }

    /// The time played up to, in ms.
    pub fn time_ms(&self) -> u64 {
        self.run.time().as_millis()
    }

    pub fn end_ms(&self) -> u64 {
        self.run.end_time().as_millis()
    }

    /// Plays to `to_ms` (clamped to the end); going back plays again from 0.
    pub fn seek(&mut self, to_ms: u64) {
        let to_ms = to_ms.min(self.end_ms());
        let mut from = Some(self.time_ms());
        if to_ms < self.time_ms() {
            match self.build() {
                Ok(run) => self.run = run,
                Err(_) => return,
            }
            from = None;
        }
        super::ops::play_with(&mut self.run, &self.ops, from, to_ms, &mut self.sends);
    }

    /// The next instant after now at which the run logs an event (looked for in 100 ms steps on a copy
    /// of the run), or the end when nothing happens before it: the time bar's Step.
    pub fn next_event_ms(&self) -> u64 {
        let (now, end) = (self.time_ms(), self.end_ms());
        let Ok(mut probe) = self.build() else { return end };
        let mut sends = super::ops::HandSends::default();
        super::ops::play_with(&mut probe, &self.ops, None, now, &mut sends);
        let seen = probe.events().len();
        let mut at = now;
        while at < end {
            let from = at;
            at = (at + 100).min(end);
            super::ops::play_with(&mut probe, &self.ops, Some(from), at, &mut sends);
            if probe.events().len() > seen {
                return at;
            }
        }
        end
    }

    /// Takes a broker down (or brings it back) now: a fault added to the document at the current time,
    /// so playing back and forth keeps it.
    pub fn toggle_broker(&mut self, broker: i32) {
        let now = self.time_ms();
        let up = self.brokers().iter().find(|b| b.id == broker).is_some_and(|b| !b.up);
        self.clicks.push((now, broker, up));
        if let Ok(run) = self.build() {
            self.run = run;
            super::ops::play_with(&mut self.run, &self.ops, None, now, &mut self.sends);
        }
        if let Ok(lag) = self.sample_lag() {
            self.lag = lag;
        }
    }

    /// Does a form's operation now, through the engine; kept (in time order) so that replaying the run
    /// does it again at this instant. A refusal is the engine's, at its field, and nothing is kept — but
    /// a hand consumer's call that threw is kept: it happened (the run shows its exception as an event,
    /// and a new consumer may have been made for it), so a replay must throw it again.
    pub fn operate(&mut self, op: super::ops::KafkaOp) -> Result<String, super::ops::OpError> {
        let now = self.time_ms();
        // After the run's own step at this instant, as a replay does it (a page just opened at 0 has not
        // played instant 0 yet).
        super::ops::play_to(&mut self.run, now, &mut self.sends);
        let result = super::ops::apply_with(&mut self.run, &op, &mut self.sends);
        if result.is_err() && !op.is_hand_call() {
            return result;
        }
        crate::shell::keep_applied(&mut self.ops, now, op);
        if let Ok(lag) = self.sample_lag() {
            self.lag = lag;
        }
        result
    }

    /// Replaces the learner's operations (a reopened workspace's) and plays again from 0.
    pub fn set_ops(&mut self, mut ops: Vec<super::ops::Applied>) {
        ops.sort_by_key(|a| a.at);
        self.ops = ops;
        if let Ok(run) = self.build() {
            self.run = run;
            super::ops::play_with(&mut self.run, &self.ops, None, 0, &mut self.sends);
        }
        if let Ok(lag) = self.sample_lag() {
            self.lag = lag;
        }
    }

    #[cfg(test)]
    pub fn run_for_tests(&self) -> &KafkaRun {
        &self.run
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

    pub fn brokers(&self) -> Vec<BrokerView> {
        let cluster = self.run.cluster();
        let partitions = self.partitions();
        cluster
            .brokers()
            .iter()
            .map(|b| BrokerView {
                id: b.id.0,
                up: b.up,
                leads: partitions.iter().filter(|p| p.leader == Some(b.id.0)).count(),
            })
            .collect()
    }

    pub fn partitions(&self) -> Vec<PartitionView> {
        let cluster = self.run.cluster();
        let mut out = Vec::new();
        for name in cluster.topic_names() {
            let Some(topic) = cluster.topic(&name) else { continue };
            for (i, p) in topic.partitions.iter().enumerate() {
                out.push(PartitionView {
                    topic: name.clone(),
                    partition: i as i32,
                    leader: p.leader.map(|n| n.0),
                    leader_epoch: p.leader_epoch,
                    replicas: p.replicas.iter().map(|n| n.0).collect(),
                    isr: p.isr.iter().map(|n| n.0).collect(),
                    log_start: p.log.log_start_offset(),
                    high_watermark: p.log.high_watermark(),
                    log_end: p.log.log_end_offset(),
                    segments: p.log.segments().len(),
                });
            }
        }
        out
    }

    pub fn groups(&self) -> Vec<GroupView> {
        let coordinator = self.run.coordinator();
        let mut out = Vec::new();
        let pairs = group_partitions_with(&self.run, &self.ops);
        let offsets_of = |group: &str| -> Vec<(TopicPartition, Option<i64>, u64)> {
            pairs
                .iter()
                .filter(|(g, _)| g == group)
                .map(|(g, tp)| {
                    let (committed, lag) = lag_of(&self.run, g, tp);
                    (tp.clone(), committed, lag)
                })
                .collect()
        };
        for id in coordinator.group_ids() {
            let g = coordinator.describe_group(&id);
            let members = g
                .members
                .iter()
                .map(|m| MemberView {
                    client_id: m.client_id.clone(),
                    member_id: m.member_id.clone(),
                    assignment: m.assignment.clone(),
                })
                .collect();
            out.push(GroupView {
                offsets: offsets_of(&id),
                id,
                protocol: "classic",
                state: g.state.to_string(),
                generation: g.generation_id,
                members,
            });
        }
        let consumer_groups = coordinator.consumer_groups();
        for id in consumer_groups.group_ids() {
            let Some(g) = consumer_groups.group(&id) else { continue };
            let members = g
                .members
                .values()
                .map(|m| MemberView {
                    client_id: m.client_id.clone(),
                    member_id: m.member_id.clone(),
                    assignment: m.assigned.iter().cloned().collect(),
                })
                .collect();
            out.push(GroupView {
                offsets: offsets_of(&id),
                id,
                protocol: "consumer",
                state: format!("{:?}", g.state()),
                generation: g.group_epoch,
                members,
            });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}

impl KafkaSession {
    /// The share groups (KIP-932), in document order: members with what each holds acquired, and per
    /// share-partition its SPSO and the records in flight with their state and delivery count.
    pub fn share_groups(&self) -> Vec<ShareGroupView> {
        use broker_core::kafka::share::RecordState;
        let run = &self.run;
        let doc = run.document();
        let mut ids: Vec<&String> = Vec::new();
        for c in &doc.share_consumers {
            if !ids.contains(&&c.group) {
                ids.push(&c.group);
            }
        }
        let members = run.share_members();
        ids.into_iter()
            .map(|id| {
                let config = run.share_config(id);
                let mut topics: Vec<&String> = Vec::new();
                for c in doc.share_consumers.iter().filter(|c| &c.group == id) {
                    for t in &c.topics {
                        if !topics.contains(&t) {
                            topics.push(t);
                        }
                    }
                }
                let mut partitions = Vec::new();
                for t in topics {
                    let count = run.cluster().topic(t).map_or(0, |t| t.partitions.len() as i32);
                    for p in 0..count {
                        let tp = TopicPartition::new(t.clone(), p);
                        let log_end = run.cluster().partition(&tp).map_or(0, |s| s.log.log_end_offset());
                        let share = run.share_partition(id, &tp);
                        let start_offset = share.and_then(|s| s.start_offset());
                        let holders: Vec<(i64, String)> = share.map(|s| s.acquired_by()).unwrap_or_default();
                        let in_flight = match (share, start_offset) {
                            (Some(s), Some(from)) => (from..log_end)
                                .filter_map(|o| {
                                    let (state, delivery_count) = s.record_state(o)?;
                                    let state = match state {
                                        RecordState::Available => "Available",
                                        RecordState::Acquired => "Acquired",
                                        RecordState::Acknowledged => "Acknowledged",
                                        RecordState::Archived => "Archived",
                                    };
                                    let member =
                                        holders.iter().find(|(h, _)| *h == o).map(|(_, m)| m.clone());
                                    Some(InFlightView { offset: o, state, delivery_count, member })
                                })
                                .collect(),
                            _ => Vec::new(),
                        };
                        partitions.push(SharePartitionView {
                            partition: tp,
                            start_offset,
                            log_end,
                            in_flight,
                        });
                    }
                }
                let members = members
                    .iter()
                    .filter(|(g, _, _)| g == id)
                    .map(|(_, name, running)| ShareMemberView {
                        name: name.clone(),
                        running: *running,
                        acquired: partitions
                            .iter()
                            .flat_map(|p| {
                                p.in_flight
                                    .iter()
                                    .filter(|r| r.member.as_ref() == Some(name))
                                    .map(|r| format!("{}@{}", p.partition, r.offset))
                            })
                            .collect(),
                    })
                    .collect();
                ShareGroupView {
                    id: id.clone(),
                    delivery_limit: config.delivery_count_limit,
                    lock_duration_ms: config.record_lock_duration_ms,
                    members,
                    partitions,
                }
            })
            .collect()
    }
}

/// Every (group, partition) the document's consumers subscribe to, in document order.
pub(crate) fn group_partitions(run: &KafkaRun) -> Vec<(String, TopicPartition)> {
    group_partitions_with(run, &[])
}

/// [`group_partitions`], then those the learner's hand consumer subscribed to or assigned itself with a
/// group, in the order of the operations.
pub(crate) fn group_partitions_with(
    run: &KafkaRun,
    ops: &[super::ops::Applied],
) -> Vec<(String, TopicPartition)> {
    use super::ops::KafkaOp;
    let mut out: Vec<(String, TopicPartition)> = Vec::new();
    let mut add = |pair: (String, TopicPartition)| {
        if !out.contains(&pair) {
            out.push(pair);
        }
    };
    let subscriptions =
        run.document().consumers.iter().map(|c| (&c.group, &c.topics)).chain(ops.iter().filter_map(|a| {
            match &a.op {
                KafkaOp::HandSubscribe { group, topics, .. } if !group.is_empty() => Some((group, topics)),
                _ => None,
            }
        }));
    for (group, topics) in subscriptions {
        for topic in topics {
            let count = run.cluster().topic(topic).map_or(0, |t| t.partitions.len());
            for p in 0..count {
                add((group.clone(), TopicPartition::new(topic.clone(), p as i32)));
            }
        }
    }
    for a in ops {
        if let KafkaOp::HandAssign { group: Some(group), partitions, .. } = &a.op {
            for (topic, p) in partitions.iter().filter(|_| !group.is_empty()) {
                add((group.clone(), TopicPartition::new(topic.clone(), *p)));
            }
        }
    }
    out
}

/// A group's committed offset of a partition and its lag: log end offset minus the committed offset
/// (the log start offset where nothing is committed), as the documents' `lag` check counts it.
pub(crate) fn lag_of(run: &KafkaRun, group: &str, tp: &TopicPartition) -> (Option<i64>, u64) {
    let Some(state) = run.cluster().partition(tp) else { return (None, 0) };
    let committed = run.coordinator().offsets().committed_offset(group, tp);
    let from = committed.unwrap_or(state.log.log_start_offset());
    (committed, u64::try_from(state.log.log_end_offset() - from).unwrap_or(0))
}

/// `"1500ms"` → 1500 (the faults this page writes are in ms; others parse as the document's durations).
fn millis(text: &str) -> u64 {
    broker_core::scenario::document::Millis::parse(text).map_or(0, |m| m.0)
}

/// What the Kafka page does with a link, an imported file or a forwarded document.
#[derive(Debug)]
pub enum Opening {
    /// Not a link (no fragment, or another fragment): the page shows its bundled document.
    Nothing,
    /// A Kafka document, opened at time 0.
    Open(Box<KafkaSession>),
    /// Another model's document or workspace: the page of `model` opens `fragment` (a share link's).
    Forward { model: ModelName, fragment: String },
    /// Refused, as a sentence; nothing was run.
    Refused(String),
}

impl std::fmt::Debug for KafkaSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSession").field("name", &self.name()).finish_non_exhaustive()
    }
}

impl KafkaSession {
    /// What the page calls the document: a bundled one's title, else "Opened document" (a Kafka document
    /// has no name field).
    pub fn name(&self) -> &'static str {
        let bundled = self.bundled.and_then(bundled_entry);
        bundled.map_or("Opened document", |b| b.title)
    }
}

/// A scenario document's text: a Kafka document opens here, another model's goes to its page, anything
/// else is refused with the parser's error (`line:col`) after `what` ("This link's scenario").
fn open_document(text: String, what: &str) -> Opening {
    if let Some(model) = crate::shell::elsewhere(&text, ModelName::Kafka) {
        return Opening::Forward { model, fragment: permalink::encode(&text) };
    }
    match KafkaSession::open(&text, None) {
        Ok(s) => Opening::Open(Box::new(s)),
        Err(e) => Opening::Refused(format!("{what} cannot be opened: {e}. Nothing was run.")),
    }
}

/// The page's fragment (a share link, `#scenario=…` or `#workspace=…`, as either model's page makes it).
pub fn open_link(fragment: &str) -> Opening {
    match permalink::decode_link(fragment) {
        Ok(None) => Opening::Nothing,
        Err(e) => Opening::Refused(e),
        Ok(Some(permalink::Link::Scenario(text))) => open_document(text, "This link's scenario"),
        Ok(Some(permalink::Link::Workspace(text))) => open_workspace(&text, "This link's workspace"),
    }
}

/// A workspace (the RabbitMQ page's share link or export): the Kafka page keeps no workspaces yet, so
/// one holding a Kafka document opens that document, any other goes to the RabbitMQ page whole.
fn open_workspace(text: &str, what: &str) -> Opening {
    match PageDoc::from_json(text) {
        Err(e) => Opening::Refused(format!("{what} cannot be opened: {e}. Nothing was run.")),
        Ok(doc) => match doc.scenario {
            Some(scenario) if crate::shell::elsewhere(&scenario, ModelName::Kafka).is_none() => {
                open_document(scenario, what)
            }
            _ => match permalink::encode_workspace(text) {
                Ok(fragment) => Opening::Forward { model: ModelName::Amqp, fragment },
                Err(e) => Opening::Refused(e),
            },
        },
    }
}

/// An imported file (`name`): recognised as the RabbitMQ page's Import recognises it ([`import::detect`]).
pub fn open_file(name: &str, text: &str) -> Opening {
    let found = match import::detect_as::<serde_json::Value>(text) {
        Ok(found) => found,
        Err(e) => return Opening::Refused(format!("'{name}' was not imported: {e}")),
    };
    let what = format!("'{name}' ({})", found.describe());
    match found {
        import::Found::Scenario { text, .. } => open_document(text, &what),
        import::Found::Workspace(_) => open_workspace(text.strip_prefix('\u{feff}').unwrap_or(text), &what),
        import::Found::Definitions(_) => Opening::Refused(format!(
            "{what} was not imported: a definitions.json describes a RabbitMQ broker; import it on the RabbitMQ page"
        )),
    }
}

/// Counts of check statuses: (passed, failed, pending).
pub fn check_counts(checks: &[CheckResult]) -> (usize, usize, usize) {
    let count = |s: CheckStatus| checks.iter().filter(|c| c.status == s).count();
    (count(CheckStatus::Pass), count(CheckStatus::Fail), count(CheckStatus::Pending))
}

/// What the explanations read (`super::explain`): the run at the page's time, and each rebalance of a
/// group with the generation (classic) or group epoch and member epochs (consumer protocol) the group had
/// when it ended, read from a second run played to each end in turn.
impl KafkaSession {
    pub fn run(&self) -> &KafkaRun {
        &self.run
    }

    pub fn rebalances(&self, group: &str) -> Vec<super::explain::Rebalance> {
        let Ok(mut replay) = self.build() else {
            return super::explain::rebalances(&self.run, group, &mut |_| (None, Vec::new()));
        };
        super::explain::rebalances(&self.run, group, &mut |at_ms| {
            replay.run_until(VirtualTime::from_millis(at_ms));
            let coordinator = replay.coordinator();
            match coordinator.consumer_groups().group(group) {
                Some(g) => (
                    Some(g.group_epoch),
                    g.members.values().map(|m| (m.client_id.clone(), m.member_epoch)).collect(),
                ),
                None => (Some(coordinator.describe_group(group).generation_id), Vec::new()),
            }
        })
    }
}

impl crate::player::ModelSession for KafkaSession {
    const MODEL: ModelName = ModelName::Kafka;
    type Event = ActorEvent;

    fn open(text: &str, bundled: Option<&'static str>) -> Result<Self, String> {
        KafkaSession::open(text, bundled)
    }
    fn name(&self) -> &'static str {
        KafkaSession::name(self)
    }
    fn bundled_id(&self) -> Option<&'static str> {
        self.bundled
    }
    fn description(&self) -> &str {
        KafkaSession::description(self)
    }
    fn time_ms(&self) -> u64 {
        KafkaSession::time_ms(self)
    }
    fn end_ms(&self) -> u64 {
        KafkaSession::end_ms(self)
    }
    fn seek(&mut self, to_ms: u64) {
        KafkaSession::seek(self, to_ms)
    }
    fn checks(&self) -> Vec<CheckResult> {
        KafkaSession::checks(self)
    }
    fn run_events(&self) -> &[(VirtualTime, ActorEvent)] {
        self.run.events()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_or_file_opens_a_kafka_document_and_forwards_another_models() {
        let kafka = bundled_text(BUNDLED[3].id).unwrap();
        let fragment = permalink::encode(kafka);
        let Opening::Open(s) = open_link(&format!("#{fragment}")) else { panic!("opens") };
        assert_eq!(s.text, kafka, "the document byte for byte");
        assert!(s.bundled.is_none());
        assert!(matches!(open_file("slow.json", kafka), Opening::Open(_)));
        assert!(matches!(open_link(""), Opening::Nothing));
        // A RabbitMQ document (no "model") goes to the RabbitMQ page, intact.
        let amqp = crate::scenarios::BUNDLED[1].1;
        let Opening::Forward { model, fragment } = open_file("work.json", amqp) else { panic!("forwarded") };
        assert_eq!(model, ModelName::Amqp);
        assert_eq!(permalink::decode(&fragment), Ok(Some(amqp.to_string())));
        assert!(matches!(
            open_link(&permalink::encode(amqp)),
            Opening::Forward { model: ModelName::Amqp, .. }
        ));
        // A RabbitMQ workspace goes there whole; one holding a Kafka document opens here.
        let mut ws = PageDoc::manual("W");
        let as_link = |ws: &PageDoc| permalink::encode_workspace(&ws.to_json()).unwrap();
        assert!(matches!(open_link(&as_link(&ws)), Opening::Forward { model: ModelName::Amqp, .. }));
        ws.scenario = Some(kafka.to_string());
        assert!(matches!(open_link(&as_link(&ws)), Opening::Open(_)));
        // Refusals say what and where; nothing runs.
        let Opening::Refused(e) = open_file("defs.json", r#"{"queues": []}"#) else { panic!("refused") };
        assert!(e.contains("RabbitMQ page"), "{e}");
        let bad = kafka.replacen("\"model\": \"kafka\"", "\"model\": \"kafka\", \"cluster\": 7", 1);
        let Opening::Refused(e) = open_file("bad.json", &bad) else { panic!("refused") };
        assert!(e.starts_with("'bad.json' (a scenario document") && e.contains("Nothing was run"), "{e}");
        let Opening::Refused(e) = open_link("#scenario=%%") else { panic!("refused") };
        assert!(e.contains("malformed"), "{e}");
    }

    #[test]
    fn the_quickstart_tutorial_passes_its_checks_at_the_end() {
        let mut s = KafkaSession::bundled("quickstart").expect("the quickstart opens");
        assert_eq!(check_counts(&s.checks()).0, 0);
        s.seek(s.end_ms());
        let checks = s.checks();
        assert_eq!(check_counts(&checks), (5, 0, 0), "{checks:#?}");
        let p = &s.partitions()[0];
        assert_eq!((p.log_start, p.high_watermark, p.log_end), (0, 10, 10));
        let g = &s.groups()[0];
        assert_eq!(g.id, "console-consumer-group");
        assert_eq!(g.offsets[0].2, 0, "lag 0 at the end");
        // The lag chart rose while the consumer had not started (3.5 s) and is 0 at the end.
        assert!(s.lag.samples.iter().any(|x| x.lags[0] >= 3));
        assert_eq!(s.lag.samples.last().map(|x| x.lags[0]), Some(0));
    }

    #[test]
    fn a_broker_taken_down_by_a_click_leaves_the_isr_and_stays_down_when_played_again() {
        let mut s = KafkaSession::bundled("replicas-broker-down").expect("opens");
        s.seek(2_000);
        let mut isr = s.partitions()[0].isr.clone();
        isr.sort();
        assert_eq!(isr, vec![1, 2, 3], "every replica in sync before the click");
        let leader = s.partitions()[0].leader.expect("a leader");
        s.toggle_broker(leader);
        assert!(!s.brokers().iter().find(|b| b.id == leader).unwrap().up);
        s.seek(4_500);
        let p = s.partitions()[0].clone();
        assert_ne!(p.leader, Some(leader), "a new leader was elected");
        assert!(!p.isr.contains(&leader), "the ISR shrank: {:?}", p.isr);
        // Back before the click: the broker is up again; forward again: down again.
        s.seek(1_000);
        assert!(s.brokers().iter().find(|b| b.id == leader).unwrap().up);
        s.seek(3_000);
        assert!(!s.brokers().iter().find(|b| b.id == leader).unwrap().up);
        // Brought back by a second click.
        s.toggle_broker(leader);
        assert!(s.brokers().iter().find(|b| b.id == leader).unwrap().up);
    }

    #[test]
    fn the_share_groups_members_hold_acquired_records_and_the_partition_counts_deliveries() {
        let mut s = KafkaSession::bundled("share-groups").expect("opens");
        assert!(KafkaSession::bundled("quickstart").unwrap().share_groups().is_empty());
        let g = &s.share_groups()[0];
        assert_eq!((g.id.as_str(), g.delivery_limit, g.lock_duration_ms), ("crew", 5, 30_000));
        assert_eq!(
            g.members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
            ["crew-1", "crew-2", "crew-3"]
        );
        assert_eq!(g.partitions[0].start_offset, None, "no fetch yet");
        // While the crew works: each member holds at most one record (max.poll.records 1), every holder
        // is the record's in the partition, acquired records are Acquired, delivery counts ≥ 1.
        let mut saw_acquired = false;
        let mut saw_redelivery = false;
        let mut saw_limit = false;
        for t in (100..30_000).step_by(100) {
            s.seek(t);
            let g = &s.share_groups()[0];
            let p = &g.partitions[0];
            for m in &g.members {
                assert!(m.acquired.len() <= 1, "{t}: {m:?}");
                for a in &m.acquired {
                    let o: i64 = a.rsplit_once('@').unwrap().1.parse().unwrap();
                    let r = p.in_flight.iter().find(|r| r.offset == o).expect("in flight");
                    assert_eq!((r.state, r.member.as_deref()), ("Acquired", Some(m.name.as_str())), "{t}");
                }
            }
            for r in &p.in_flight {
                assert!(r.delivery_count >= 1 && r.delivery_count <= g.delivery_limit, "{t}: {r:?}");
                assert!(p.start_offset.is_some_and(|so| r.offset >= so), "{t}: {p:?}");
                assert_eq!(r.member.is_some(), r.state == "Acquired", "{t}: {r:?}");
            }
            saw_acquired |= p.in_flight.iter().any(|r| r.state == "Acquired");
            saw_redelivery |= p.in_flight.iter().any(|r| r.delivery_count > 1);
            // The poison record (offset 8), released at every delivery, reaches the delivery limit…
            saw_limit |= p.in_flight.iter().any(|r| r.offset == 8 && r.delivery_count == g.delivery_limit);
            if t == 5_000 {
                // … and, released once more, is archived: at the front, the SPSO moves past it.
                assert!(p.start_offset.is_some_and(|so| so > 8), "{p:?}");
            }
        }
        assert!(
            saw_acquired && saw_redelivery && saw_limit,
            "the tutorial acquires, redelivers, reaches the limit"
        );
        // At the end every record is done: the SPSO is past the last one, nothing in flight.
        s.seek(s.end_ms());
        let p = &s.share_groups()[0].partitions[0];
        assert_eq!((p.start_offset, p.log_end, p.in_flight.len()), (Some(41), 41, 0), "{p:?}");
    }

    /// The page fetches every bundled document but the quickstart from `Bundled::file`: index.html must copy
    /// that very file there, and the fingerprints must tell the documents apart.
    #[test]
    fn index_html_serves_every_fetched_document_where_the_page_fetches_it() {
        let index = include_str!("../../index.html");
        for b in &BUNDLED[1..] {
            let dir = b.file().trim_end_matches("/document.json").to_string();
            let line = index
                .lines()
                .find(|l| {
                    l.contains("rel=\"copy-file\"") && l.contains(&format!("data-target-path=\"{dir}\""))
                })
                .unwrap_or_else(|| panic!("index.html copies no file to {dir}"));
            let href = line.split("href=\"").nth(1).and_then(|r| r.split('"').next()).expect("an href");
            let on_disk = std::fs::read_to_string(format!("{}/{href}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            assert_eq!(Some(on_disk.as_str()), bundled_text(b.id), "{href} is {}'s text", b.id);
            assert!(href.ends_with("/document.json"), "served as {}", b.file());
            assert_eq!(fingerprint(&on_disk), b.fingerprint);
        }
        let mut prints: Vec<u64> = BUNDLED.iter().map(|b| b.fingerprint).collect();
        prints.sort_unstable();
        prints.dedup();
        assert_eq!(prints.len(), BUNDLED.len(), "one fingerprint per document");
        assert_eq!(fingerprint(QUICKSTART), BUNDLED[0].fingerprint);
        assert_ne!(fingerprint("ab"), fingerprint("ba"));
    }

    #[test]
    fn every_bundled_tutorial_opens_and_passes_all_its_checks_at_the_end() {
        let tutorials: Vec<&Bundled> = BUNDLED.iter().filter(|b| b.title.starts_with("Tutorial")).collect();
        assert!(tutorials.len() >= 8, "the quickstart and seven tutorials, found {}", tutorials.len());
        for b in tutorials {
            let mut s = KafkaSession::bundled(b.id).unwrap_or_else(|| panic!("{} opens", b.id));
            s.seek(s.end_ms());
            let checks = s.checks();
            let (pass, fail, pending) = check_counts(&checks);
            assert!(pass > 0 && fail == 0 && pending == 0, "{}: {checks:#?}", b.id);
        }
    }
}
