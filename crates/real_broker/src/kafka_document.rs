//! Kafka documents (`"model": "kafka"`) on a real Apache Kafka through Kafka's own Java client, and their
//! comparison with the engine (`docs/real-broker.md`, "Kafka documents").
//!
//! The engine plays the document first ([`KafkaRun`], instantaneous); its send log
//! ([`KafkaRun::sends`]) gives every record's time, key and value, so the real producers send the same
//! records at the same (scaled) times through the driver. The consumers run the document's poll loop in
//! real time: poll, process each record (the document's processing time, or the consumer's script),
//! commit as the policy says, poll again; faults happen at their times (a broker stopped and started
//! through `scripts/kafka-node.sh`, a consumer crashed without leaving its group); each check is decided at
//! its time by reading the cluster through the admin client. [`outcome_lines`] and [`real_outcome_lines`]
//! turn both runs into the lines compared with the kernel's diff (`sim_kernel::diff`) and the allow-list.
//!
//! Invariants: a run lasts the document's duration divided by the speed, plus the driver's bounded calls;
//! every wait is bounded (the driver's [`crate::kafka::REPLY_TIMEOUT`]); the driver process ends with the run.

use crate::compare::{AllowEntry, Difference, Line};
use crate::kafka::{parse_kafka_uri, JavaClients, SIDES};
use broker_core::kafka::program::client::{NewTopic, OffsetQuery, Tp};
use broker_core::kafka::program::{ClientCall, ClientReply, KafkaClients};
use broker_core::kafka::scenario::document::{
    AcknowledgeKind, CheckSpec, CommitPolicy, ConsumerSpec, KafkaDocument, Reader, ShareConsumerSpec,
};
use broker_core::kafka::scenario::run::{
    acknowledge_name, share_acknowledge_type, share_delivery_limit, ORIGIN_HEADER,
};
use broker_core::kafka::scenario::script::{record_map, RecordCall, API, ON_RECORD};
use broker_core::kafka::scenario::{ActorEvent, KafkaRun};
use broker_core::kafka::PartitionReader;
use serde_json::{json, Value};
use sim_kernel::checks::CheckStatus;
use sim_kernel::prng::Prng;
use sim_kernel::script::{Sandbox, ScriptLimits};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// How long one real poll waits for records (short, so one driver serves every actor in turn).
const POLL_MS: i64 = 20;
/// The admin client's name in the driver (not one of the document's actors).
const ADMIN: &str = " documents";

/// Why `doc` cannot run on a real Kafka at `speed`, one sentence per reason naming the document field.
pub fn refusals(doc: &KafkaDocument, speed: u64) -> Vec<String> {
    let mut out = Vec::new();
    if doc
        .cluster
        .group_consumer_migration_policy
        .as_deref()
        .is_some_and(|p| !p.eq_ignore_ascii_case("bidirectional"))
    {
        out.push(
            "cluster.group_consumer_migration_policy: a broker setting (server.properties) a client cannot change; \
             the real broker runs with its default, bidirectional"
                .to_string(),
        );
    }
    for (i, f) in doc.faults.iter().enumerate() {
        if f.slow_follower.is_some() {
            out.push(format!(
                "faults[{i}].slow_follower: a real broker has no setting that delays one follower's fetches; \
                 Brokerlab does not slow a real broker (broker_pause freezes one, which a real cluster can do)"
            ));
        }
        if controls_broker(f) && std::env::var_os("BROKERLAB_KAFKA_NODE_CONTROL").is_none() {
            out.push(format!(
                "faults[{i}]: stopping or pausing a broker needs BROKERLAB_KAFKA_NODE_CONTROL (`scripts/kafka-node.sh DIR` \
                 of a cluster started with `kafka-node.sh cluster DIR N`; scripts/real-kafka-tests.sh sets it)"
            ));
        }
    }
    if speed > 1 {
        let mut timers = Vec::new();
        if doc.cluster.replica_lag_time_max.is_some() {
            timers.push("cluster.replica_lag_time_max".to_string());
        }
        if doc.cluster.log_retention_check_interval.is_some() {
            timers.push("cluster.log_retention_check_interval".to_string());
        }
        if doc.cluster.broker_session_timeout.is_some() {
            timers.push("cluster.broker_session_timeout".to_string());
        }
        for (i, f) in doc.faults.iter().enumerate() {
            if controls_broker(f) {
                timers.push(format!("faults[{i}] (a broker's shutdown, pause, election and restart)"));
            }
        }
        for (i, p) in doc.producers.iter().enumerate() {
            for (field, set) in [
                ("delivery_timeout_ms", p.delivery_timeout_ms.is_some()),
                ("request_timeout_ms", p.request_timeout_ms.is_some()),
            ] {
                if set {
                    timers.push(format!("producers[{i}].{field}"));
                }
            }
        }
        for (i, c) in doc.consumers.iter().enumerate() {
            for (field, set) in [
                ("session_timeout", c.session_timeout.is_some()),
                ("max_poll_interval", c.max_poll_interval.is_some()),
                ("heartbeat_interval", c.heartbeat_interval.is_some()),
            ] {
                if set {
                    timers.push(format!("consumers[{i}].{field}"));
                }
            }
        }
        if let Some(i) = doc
            .consumers
            .iter()
            .position(|c| doc.protocol(c).is_ok_and(|p| p == broker_core::kafka::GroupProtocol::Classic))
        {
            timers.push(format!(
                "consumers[{i}] (a classic group's first join waits for the broker's group.initial.rebalance.delay.ms)"
            ));
        }
        if !doc.share_consumers.is_empty() {
            timers.push(
                "share_consumers (share groups' heartbeats, assignments and acquisition locks)".to_string(),
            );
        }
        for (i, _) in doc.faults.iter().enumerate().filter(|(_, f)| f.consumer_crash.is_some()) {
            timers.push(format!("faults[{i}].consumer_crash (the session timeout)"));
        }
        if !timers.is_empty() {
            out.push(format!(
                "--speed {speed}: Kafka runs its own timers in real time ({}); run this document with --speed 1",
                timers.join(", ")
            ));
        }
    }
    out
}

/// The Java client's properties for a document's producer (what the engine's `ProducerConfig` takes).
fn producer_properties(doc: &KafkaDocument, i: usize) -> Vec<(String, String)> {
    let p = &doc.producers[i];
    let mut out = vec![("client.id".to_string(), p.name.clone())];
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            out.push((k.to_string(), v));
        }
    };
    put(
        "acks",
        p.acks.map(|a| {
            serde_json::to_value(a).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
        }),
    );
    put("linger.ms", p.linger_ms.map(|v| v.to_string()));
    put("batch.size", p.batch_size.map(|v| v.to_string()));
    put("retries", p.retries.map(|v| v.to_string()));
    put("delivery.timeout.ms", p.delivery_timeout_ms.map(|v| v.to_string()));
    put("request.timeout.ms", p.request_timeout_ms.map(|v| v.to_string()));
    put("max.in.flight.requests.per.connection", p.max_in_flight.map(|v| v.to_string()));
    put("enable.idempotence", p.idempotence.map(|v| v.to_string()));
    put("transactional.id", p.transactional.as_ref().map(|t| t.id.clone()));
    out
}

/// The Java client's properties for a document's consumer. At `speed` N the auto-commit interval (the
/// document's, or the client's 5 s default) is divided by N: it is a client timer, and a document's
/// committed offsets depend on it.
fn consumer_properties(doc: &KafkaDocument, c: &ConsumerSpec, speed: u64) -> Vec<(String, String)> {
    let mut out = vec![
        ("client.id".to_string(), c.name.clone()),
        ("group.id".to_string(), c.group.clone()),
        // The document's default (`docs/kafka-documents.md`), not the client's `latest`.
        ("auto.offset.reset".to_string(), c.auto_offset_reset.clone().unwrap_or_else(|| "earliest".into())),
    ];
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            out.push((k.to_string(), v));
        }
    };
    let protocol = doc.protocol(c).ok();
    let consumer_protocol = matches!(protocol, Some(broker_core::kafka::GroupProtocol::Consumer));
    put("group.protocol", consumer_protocol.then(|| "consumer".to_string()));
    let assignor = c.assignor.as_deref().map(|a| match a {
        "range" if !consumer_protocol => "org.apache.kafka.clients.consumer.RangeAssignor".to_string(),
        "roundrobin" => "org.apache.kafka.clients.consumer.RoundRobinAssignor".to_string(),
        "sticky" => "org.apache.kafka.clients.consumer.StickyAssignor".to_string(),
        "cooperative-sticky" => "org.apache.kafka.clients.consumer.CooperativeStickyAssignor".to_string(),
        other => other.to_string(),
    });
    if consumer_protocol {
        put("group.remote.assignor", assignor);
    } else {
        put("partition.assignment.strategy", assignor);
    }
    let auto = match &c.commit {
        Some(CommitPolicy::Auto { interval }) => {
            put("auto.commit.interval.ms", Some((interval.0 / speed).max(1).to_string()));
            "true"
        }
        // The engine's consumer commits automatically unless a policy says otherwise, as the client does.
        None => {
            put("auto.commit.interval.ms", Some((5_000 / speed).max(1).to_string()));
            "true"
        }
        Some(_) => "false",
    };
    put("enable.auto.commit", Some(auto.to_string()));
    put("max.poll.records", c.max_poll_records.map(|v| v.to_string()));
    put("max.poll.interval.ms", c.max_poll_interval.map(|v| v.0.to_string()));
    put("session.timeout.ms", c.session_timeout.map(|v| v.0.to_string()));
    put("heartbeat.interval.ms", c.heartbeat_interval.map(|v| v.0.to_string()));
    put("isolation.level", c.read_committed.then(|| "read_committed".to_string()));
    put("group.instance.id", c.group_instance_id.clone());
    out
}

/// The Java client's properties for a document's share consumer (explicit acknowledgement).
fn share_consumer_properties(c: &ShareConsumerSpec) -> Vec<(String, String)> {
    let mut out = vec![
        ("client.id".to_string(), c.name.clone()),
        ("group.id".to_string(), c.group.clone()),
        ("share.acknowledgement.mode".to_string(), "explicit".to_string()),
    ];
    if let Some(n) = c.max_poll_records {
        out.push(("max.poll.records".to_string(), n.to_string()));
    }
    out
}

/// One read by a consumer: partition, offset, key, origin (`producer/seq`); a share consumer's with its
/// delivery count.
#[derive(Clone, Debug)]
struct Read {
    consumer: String,
    partition: String,
    offset: i64,
    key: Option<String>,
    origin: Option<String>,
    delivery_count: Option<i32>,
}

/// A share consumer's acknowledgements: ACCEPT, RELEASE, REJECT, and how many of them archived a record
/// (a REJECT, or a RELEASE on the last allowed delivery) with no error from `commitSync()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShareAcks {
    pub accept: u64,
    pub release: u64,
    pub reject: u64,
    pub archived: u64,
}

impl ShareAcks {
    fn count(&mut self, kind: &str, delivery_count: i32, failed: bool) {
        match kind {
            "ACCEPT" => self.accept += 1,
            "RELEASE" => self.release += 1,
            _ => self.reject += 1,
        }
        if !failed && (kind == "REJECT" || (kind == "RELEASE" && delivery_count >= share_delivery_limit())) {
            self.archived += 1;
        }
    }

    fn get(&self, kind: AcknowledgeKind) -> u64 {
        match kind {
            AcknowledgeKind::Accept => self.accept,
            AcknowledgeKind::Release => self.release,
            AcknowledgeKind::Reject => self.reject,
        }
    }

    fn add(&mut self, o: &ShareAcks) {
        self.accept += o.accept;
        self.release += o.release;
        self.reject += o.reject;
        self.archived += o.archived;
    }
}

/// What a run (engine or real) ended with, in the terms both can tell.
#[derive(Clone, Debug, Default)]
pub struct DocumentOutcome {
    /// Check index, description, status.
    pub checks: Vec<(usize, String, CheckStatus)>,
    /// Per partition (`t-0`): records (high watermark minus log start offset).
    pub records: BTreeMap<String, i64>,
    /// Per group and partition: the committed offset.
    pub committed: BTreeMap<(String, String), Option<i64>>,
    /// Per producer: acknowledged, failed.
    pub producers: BTreeMap<String, (u64, u64)>,
    /// Per group: its state at the end.
    pub group_states: BTreeMap<String, String>,
    reads: Vec<Read>,
    groups_of: BTreeMap<String, String>,
    /// Per share consumer: its acknowledgements.
    share_acks: BTreeMap<String, ShareAcks>,
    /// The share groups (their reads are in `reads`, their members in `groups_of`).
    share_groups: BTreeSet<String>,
    /// `stopped: …` when the run stopped early.
    pub stopped: Option<String>,
}

/// Reads of a group or a consumer.
fn reads_of<'a>(reads: &'a [Read], groups_of: &BTreeMap<String, String>, r: &Reader) -> Vec<&'a Read> {
    reads
        .iter()
        .filter(|x| {
            r.consumer.as_ref() == Some(&x.consumer) || r.group.as_ref() == groups_of.get(&x.consumer)
        })
        .collect()
}

/// The acknowledgements of a share group or share consumer.
fn share_acks_of(o: &DocumentOutcome, group: &Option<String>, consumer: &Option<String>) -> ShareAcks {
    let mut total = ShareAcks::default();
    for (c, a) in &o.share_acks {
        if consumer.as_ref() == Some(c) || (group.is_some() && group.as_ref() == o.groups_of.get(c)) {
            total.add(a);
        }
    }
    total
}

fn highest_delivery(reads: &[&Read]) -> u64 {
    reads.iter().filter_map(|r| r.delivery_count).max().unwrap_or(0).max(0) as u64
}

fn duplicates(reads: &[&Read]) -> u64 {
    let mut seen = BTreeSet::new();
    reads.iter().filter(|r| r.origin.is_some() && !seen.insert(r.origin.clone())).count() as u64
}

/// Per partition, key and producer, the records sorted by offset have rising sequence numbers.
fn key_order_held(reads: &[&Read]) -> bool {
    let mut by: BTreeMap<(String, String, String), BTreeMap<i64, u64>> = BTreeMap::new();
    for r in reads {
        let (Some(key), Some(origin)) = (&r.key, &r.origin) else { continue };
        let Some((producer, seq)) = origin.rsplit_once('/') else { continue };
        by.entry((r.partition.clone(), key.clone(), producer.to_string()))
            .or_default()
            .insert(r.offset, seq.parse().unwrap_or(0));
    }
    by.values().all(|offsets| offsets.values().zip(offsets.values().skip(1)).all(|(a, b)| a < b))
}

/// The engine run's outcome.
pub fn engine_outcome(run: &KafkaRun) -> DocumentOutcome {
    let doc = run.document();
    let mut out = DocumentOutcome {
        checks: run.check_results().into_iter().map(|r| (r.index, r.description, r.status)).collect(),
        groups_of: doc
            .consumers
            .iter()
            .map(|c| (c.name.clone(), c.group.clone()))
            .chain(doc.share_consumers.iter().map(|c| (c.name.clone(), c.group.clone())))
            .collect(),
        share_groups: doc.share_consumers.iter().map(|c| c.group.clone()).collect(),
        stopped: run.stopped().map(|s| s.message.clone()),
        ..DocumentOutcome::default()
    };
    for t in &doc.topics {
        let n = run.cluster().partition_count(&t.name).unwrap_or(0);
        for p in 0..n {
            let tp = broker_core::kafka::TopicPartition::new(t.name.clone(), p);
            if let Some(s) = run.cluster().partition(&tp) {
                out.records.insert(tp.to_string(), s.log.high_watermark() - s.log.log_start_offset());
            }
            for c in &doc.consumers {
                if c.topics.contains(&t.name) {
                    out.committed.insert((c.group.clone(), tp.to_string()), run.committed(&c.group, &tp));
                }
            }
        }
    }
    for (name, a, f) in run.producer_counts() {
        out.producers.insert(name, (a, f));
    }
    for c in &doc.consumers {
        out.group_states.insert(c.group.clone(), run.group_state(&c.group));
    }
    let mut last_delivery: BTreeMap<(String, i64), i32> = BTreeMap::new();
    for (_, e) in run.events() {
        match e {
            ActorEvent::Consumed { consumer, partition, offset, key, origin, .. } => out.reads.push(Read {
                consumer: consumer.clone(),
                partition: partition.clone(),
                offset: *offset,
                key: key.clone(),
                origin: origin.clone(),
                delivery_count: None,
            }),
            ActorEvent::ShareConsumed {
                consumer, partition, offset, key, origin, delivery_count, ..
            } => {
                last_delivery.insert((partition.clone(), *offset), *delivery_count);
                out.reads.push(Read {
                    consumer: consumer.clone(),
                    partition: partition.clone(),
                    offset: *offset,
                    key: key.clone(),
                    origin: origin.clone(),
                    delivery_count: Some(*delivery_count),
                });
            }
            ActorEvent::ShareAcknowledged { consumer, partition, offset, kind, error } => {
                let d = last_delivery.get(&(partition.clone(), *offset)).copied().unwrap_or(0);
                out.share_acks.entry(consumer.clone()).or_default().count(kind, d, error.is_some());
            }
            _ => {}
        }
    }
    for c in &doc.share_consumers {
        out.share_acks.entry(c.name.clone()).or_default();
    }
    out
}

/// The outcome as lines to diff: checks, records per partition, committed offsets, producers' counts,
/// each group's reads (how many, duplicates, per-key order) and state; `skip` leaves checks out.
pub fn outcome_lines(o: &DocumentOutcome, skip: &BTreeSet<usize>) -> Vec<Line> {
    let line = |text: String| Line { step_line: 0, text };
    let mut out = Vec::new();
    for (index, description, status) in &o.checks {
        if skip.contains(index) {
            continue;
        }
        let status = match status {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Pending => "pending",
        };
        out.push(line(format!("check {} {status}: {description}", index + 1)));
    }
    for (tp, n) in &o.records {
        out.push(line(format!("records in {tp}: {n}")));
    }
    for ((g, tp), c) in &o.committed {
        let c = c.map_or("none".to_string(), |c| c.to_string());
        out.push(line(format!("group {g} committed {tp}: {c}")));
    }
    for (p, (a, f)) in &o.producers {
        out.push(line(format!("producer {p}: acknowledged {a}, failed {f}")));
    }
    let groups: BTreeSet<&String> = o.groups_of.values().collect();
    for g in groups {
        let r = Reader { group: Some(g.clone()), consumer: None };
        if o.share_groups.contains(g) {
            let reads = reads_of(&o.reads, &o.groups_of, &r);
            let a = share_acks_of(o, &Some(g.clone()), &None);
            out.push(line(format!(
                "share group {g}: consumed {}, duplicates {}, highest delivery count {}, accept {}, release {}, reject {}, archived {}",
                reads.len(),
                duplicates(&reads),
                highest_delivery(&reads),
                a.accept,
                a.release,
                a.reject,
                a.archived
            )));
            continue;
        }
        let reads = reads_of(&o.reads, &o.groups_of, &r);
        out.push(line(format!(
            "group {g}: consumed {}, duplicates {}, per-key order {}",
            reads.len(),
            duplicates(&reads),
            if key_order_held(&reads) { "held" } else { "broken" }
        )));
        if let Some(s) = o.group_states.get(g) {
            out.push(line(format!("group {g} state: {s}")));
        }
    }
    if let Some(s) = &o.stopped {
        out.push(line(format!("stopped: {s}")));
    }
    out
}

/// Compares an engine run and a real run of document `name`; differences an allow-list entry covers
/// (`scenario = name`, `line = 0`, `contains` a substring of the line) carry its reason.
pub fn compare(
    name: &str,
    engine: &DocumentOutcome,
    real: &DocumentOutcome,
    allow: &[AllowEntry],
) -> Vec<Difference> {
    let skip = BTreeSet::new();
    let mut d = sim_kernel::diff::diff(&outcome_lines(engine, &skip), &outcome_lines(real, &skip), SIDES);
    sim_kernel::diff::apply_allow_list(name, &mut d, allow);
    d
}

struct RealConsumer {
    spec: ConsumerSpec,
    running: bool,
    started: bool,
    next_poll: u64,
    /// After a poll's records: when they are processed (then commit, then poll).
    processed_at: Option<u64>,
    since_commit: u64,
    commit_requested: bool,
    assignment: Vec<String>,
}

struct RealShare {
    spec: ShareConsumerSpec,
    running: bool,
    started: bool,
    next_poll: u64,
    /// After a poll's records: when they are processed (then acknowledge, `commitSync()`, poll).
    processed_at: Option<u64>,
    /// The last poll's records: partition, delivery count, how each is acknowledged.
    holding: Vec<(String, i32, &'static str)>,
}

/// The real run: the driver, the clock, what was seen.
struct Player<'a> {
    doc: &'a KafkaDocument,
    clients: JavaClients,
    started: Instant,
    speed: u64,
    log: Vec<String>,
    outcome: DocumentOutcome,
}

impl Player<'_> {
    /// Virtual milliseconds since the start.
    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64 * self.speed
    }

    fn say(&mut self, text: String) {
        let at = sim_kernel::clock::VirtualTime::from_millis(self.now());
        self.log.push(format!("{at} {text}"));
    }

    fn call(&mut self, call: &ClientCall) -> Result<ClientReply, String> {
        match self.clients.call(call) {
            ClientReply::Error { error } if error.exception == "BrokerlabDriverError" => Err(error.message),
            reply => Ok(reply),
        }
    }

    fn raw(&mut self, value: Value) -> Result<Value, String> {
        let reply = self.clients.exchange_json(&value)?;
        if reply.get("reply").and_then(Value::as_str) == Some("error") {
            return Err(format!("{}: {}", value["op"], reply["error"]));
        }
        Ok(reply)
    }

    fn latest(&mut self, tp: &Tp, spec: OffsetQuery) -> Result<i64, String> {
        match self.call(&ClientCall::ListOffsets { admin: ADMIN.into(), partition: tp.clone(), spec })? {
            ClientReply::Offset { offset } => Ok(offset.unwrap_or(0)),
            other => Err(format!("listOffsets answered {other:?}")),
        }
    }

    fn partitions(&self, topic: &str) -> Vec<Tp> {
        let n = self.doc.topics.iter().find(|t| t.name == topic).map_or(0, |t| t.partitions);
        (0..n).map(|partition| Tp { topic: topic.to_string(), partition }).collect()
    }

    fn committed(&mut self, group: &str) -> Result<BTreeMap<String, i64>, String> {
        match self.call(&ClientCall::ListConsumerGroupOffsets { admin: ADMIN.into(), group: group.into() })? {
            ClientReply::Offsets { offsets } => Ok(offsets
                .into_iter()
                .filter_map(|o| Some((format!("{}-{}", o.topic, o.partition), o.offset?)))
                .collect()),
            _ => Ok(BTreeMap::new()),
        }
    }

    fn group_state(&mut self, group: &str) -> Result<String, String> {
        match self
            .call(&ClientCall::DescribeConsumerGroups { admin: ADMIN.into(), groups: vec![group.into()] })?
        {
            ClientReply::Groups { groups } => Ok(groups.first().map_or("Dead".into(), |g| g.state.clone())),
            _ => Ok("Dead".into()),
        }
    }

    /// A check decided now, from the cluster and what the consumers read.
    fn evaluate(
        &mut self,
        spec: &CheckSpec,
        consumers: &[RealConsumer],
        shares: &[RealShare],
    ) -> Result<bool, String> {
        let holds = |n: u64| spec.expect.is_some_and(|e| e.holds(n));
        if let Some(x) = &spec.lag {
            let committed = self.committed(&x.group)?;
            let mut lag = 0i64;
            for tp in self.partitions(&x.topic) {
                let end = self.latest(&tp, OffsetQuery::Latest)?;
                let from = match committed.get(&format!("{}-{}", tp.topic, tp.partition)) {
                    Some(c) => *c,
                    None => self.latest(&tp, OffsetQuery::Earliest)?,
                };
                lag += (end - from).max(0);
            }
            return Ok(holds(lag as u64));
        }
        if let Some(x) = &spec.committed {
            let c = self.committed(&x.group)?;
            return Ok(c
                .get(&format!("{}-{}", x.topic, x.partition))
                .is_some_and(|o| *o >= 0 && holds(*o as u64)));
        }
        if let Some(x) = &spec.records {
            let list = match x.partition {
                Some(partition) => vec![Tp { topic: x.topic.clone(), partition }],
                None => self.partitions(&x.topic),
            };
            let mut n = 0;
            for tp in list {
                n += self.latest(&tp, OffsetQuery::Latest)? - self.latest(&tp, OffsetQuery::Earliest)?;
            }
            return Ok(holds(n.max(0) as u64));
        }
        let o = &self.outcome;
        if let Some(r) = &spec.consumed {
            return Ok(holds(reads_of(&o.reads, &o.groups_of, r).len() as u64));
        }
        if let Some(r) = &spec.duplicates {
            return Ok(holds(duplicates(&reads_of(&o.reads, &o.groups_of, r))));
        }
        if let Some(r) = &spec.key_order {
            return Ok(key_order_held(&reads_of(&o.reads, &o.groups_of, r)));
        }
        if let Some(a) = &spec.assignment {
            let c = consumers.iter().find(|c| c.spec.name == a.consumer).ok_or("no such consumer")?;
            let mut held = if c.running { c.assignment.clone() } else { Vec::new() };
            held.sort();
            let mut want = a.partitions.clone();
            want.sort();
            return Ok(held == want);
        }
        if let Some(g) = &spec.group_state {
            return Ok(self.group_state(&g.group)?.eq_ignore_ascii_case(&g.state));
        }
        if let Some(p) = &spec.acknowledged {
            return Ok(holds(o.producers.get(&p.producer).map_or(0, |c| c.0)));
        }
        if let Some(p) = &spec.failed {
            return Ok(holds(o.producers.get(&p.producer).map_or(0, |c| c.1)));
        }
        if let Some(r) = &spec.delivery_count {
            return Ok(holds(highest_delivery(&reads_of(&o.reads, &o.groups_of, r))));
        }
        if let Some(a) = &spec.share_acknowledgements {
            return Ok(holds(share_acks_of(o, &a.group, &a.consumer).get(a.kind)));
        }
        if let Some(r) = &spec.archived {
            return Ok(holds(share_acks_of(o, &r.group, &r.consumer).archived));
        }
        if let Some(a) = &spec.acquired {
            let held = shares.iter().find(|s| s.spec.name == a.consumer).map_or(0, |s| s.holding.len());
            return Ok(holds(held as u64));
        }
        Ok(false)
    }
}

/// Whether the fault acts on a broker's process (through `BROKERLAB_KAFKA_NODE_CONTROL`).
fn controls_broker(f: &broker_core::kafka::scenario::document::FaultSpec) -> bool {
    f.broker_down.is_some() || f.broker_up.is_some() || f.broker_pause.is_some() || f.broker_resume.is_some()
}

/// Starts `$BROKERLAB_KAFKA_NODE_CONTROL verb N` (`scripts/kafka-node.sh DIR node-stop|node-start|
/// node-pause|node-resume N`)
/// without waiting for it: a broker's controlled shutdown or start takes seconds on a real cluster, and
/// the document's clients go on meanwhile, as they would.
fn control_broker(verb: &str, node: i32) -> Result<std::process::Child, String> {
    let prefix = std::env::var("BROKERLAB_KAFKA_NODE_CONTROL")
        .map_err(|_| "stopping a broker needs BROKERLAB_KAFKA_NODE_CONTROL".to_string())?;
    let mut words = prefix.split_whitespace();
    let program = words.next().ok_or("BROKERLAB_KAFKA_NODE_CONTROL is empty")?;
    let dir: Vec<&str> = words.collect();
    std::process::Command::new(program)
        .arg(verb)
        .args(dir)
        .arg(node.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{verb} {node}: {e}"))
}

/// A real run of a document: its outcome and a log of what happened (virtual times).
pub struct RealDocumentRun {
    pub outcome: DocumentOutcome,
    pub log: Vec<String>,
}

/// Plays the document of `engine` (already run) on the Kafka at `uri`, `speed` times faster than real
/// time. With `clean`, its topics and groups are deleted before and after.
pub fn run_document_real(
    engine: &KafkaRun,
    uri: &str,
    speed: u64,
    clean: bool,
) -> Result<RealDocumentRun, String> {
    let doc = engine.document();
    let refused = refusals(doc, speed);
    if !refused.is_empty() {
        return Err(format!("this document cannot run on a real Kafka: {}", refused.join("; ")));
    }
    let bootstrap = parse_kafka_uri(uri)?;
    let speed = speed.max(1);
    let mut clients = JavaClients::start(&bootstrap)?;
    let topics: Vec<String> = doc.topics.iter().map(|t| t.name.clone()).collect();
    let groups: Vec<String> =
        doc.consumers.iter().map(|c| c.group.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let share_groups: BTreeSet<String> = doc.share_consumers.iter().map(|c| c.group.clone()).collect();
    // Deleted before and after with the consumer groups (the driver deletes a share group by its own call).
    let all_groups: Vec<String> = groups.iter().chain(share_groups.iter()).cloned().collect();
    if clean {
        crate::kafka::clean(&mut clients, &topics, &all_groups)?;
    }
    let mut p = Player {
        doc,
        clients,
        started: Instant::now(),
        speed,
        log: Vec::new(),
        outcome: DocumentOutcome {
            groups_of: doc
                .consumers
                .iter()
                .map(|c| (c.name.clone(), c.group.clone()))
                .chain(doc.share_consumers.iter().map(|c| (c.name.clone(), c.group.clone())))
                .collect(),
            share_groups: share_groups.clone(),
            share_acks: doc.share_consumers.iter().map(|c| (c.name.clone(), ShareAcks::default())).collect(),
            ..DocumentOutcome::default()
        },
    };
    p.call(&ClientCall::NewAdmin { admin: ADMIN.into(), properties: Vec::new() })?;
    let new_topics = doc
        .topics
        .iter()
        .map(|t| NewTopic {
            name: t.name.clone(),
            partitions: Some(t.partitions),
            replication_factor: Some(t.replication_factor as i16),
            configs: t.configs.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            // By hand when the document says so (the driver then leaves partitions and the factor out).
            replica_assignment: t
                .replica_assignment
                .iter()
                .enumerate()
                .map(|(p, r)| (p as i32, r.clone()))
                .collect(),
        })
        .collect();
    if let ClientReply::Error { error } =
        p.call(&ClientCall::CreateTopics { admin: ADMIN.into(), topics: new_topics })?
    {
        return Err(format!("createTopics threw {}: {}", error.exception, error.message));
    }
    for i in 0..doc.producers.len() {
        let properties = producer_properties(doc, i);
        let producer = doc.producers[i].name.clone();
        if let ClientReply::Error { error } = p.call(&ClientCall::NewProducer { producer, properties })? {
            return Err(format!("new KafkaProducer threw {}: {}", error.exception, error.message));
        }
        p.outcome.producers.insert(doc.producers[i].name.clone(), (0, 0));
        // `initTransactions()` before the clock starts (it takes seconds on a real broker; the engine's is
        // instantaneous at the first send).
        if doc.producers[i].transactional.is_some() {
            let producer = doc.producers[i].name.clone();
            if let ClientReply::Error { error } = p.call(&ClientCall::InitTransactions { producer })? {
                return Err(format!("initTransactions threw {}: {}", error.exception, error.message));
            }
        }
    }
    // The consumers are made before the clock starts too (a JVM's first consumer takes a while); each
    // subscribes at its start time.
    for c in &doc.consumers {
        let properties = consumer_properties(doc, c, speed);
        if let ClientReply::Error { error } =
            p.call(&ClientCall::NewConsumer { consumer: c.name.clone(), properties })?
        {
            return Err(format!("new KafkaConsumer threw {}: {}", error.exception, error.message));
        }
        // The driver's rebalance listener then calls commitSync() in onPartitionsRevoked.
        if c.commit_on_revoke {
            p.raw(json!({ "op": "docCommitOnRevoke", "consumer": c.name }))?;
        }
    }
    // Share groups: their configs on the group (`incrementalAlterConfigs`), then the share consumers.
    for g in &share_groups {
        let spec = doc.share_groups.iter().find(|s| &s.name == g);
        let mut ops = vec![json!({
            "name": "share.auto.offset.reset",
            "value": spec.and_then(|s| s.auto_offset_reset.clone()).unwrap_or_else(|| "earliest".into()),
        })];
        if let Some(d) = spec.and_then(|s| s.record_lock_duration) {
            ops.push(json!({ "name": "share.record.lock.duration.ms", "value": d.0.to_string() }));
        }
        p.raw(json!({ "op": "alterGroupConfigs", "admin": ADMIN, "group": g, "ops": ops }))?;
    }
    for c in &doc.share_consumers {
        let properties: Vec<Value> =
            share_consumer_properties(c).into_iter().map(|(k, v)| json!([k, v])).collect();
        p.raw(json!({ "op": "newShareConsumer", "share": c.name, "properties": properties }))
            .map_err(|e| format!("new KafkaShareConsumer threw {e}"))?;
    }
    let mut shares: Vec<RealShare> = doc
        .share_consumers
        .iter()
        .map(|c| RealShare {
            spec: c.clone(),
            running: false,
            started: false,
            next_poll: c.start.0,
            processed_at: None,
            holding: Vec::new(),
        })
        .collect();
    let mut consumers: Vec<RealConsumer> = doc
        .consumers
        .iter()
        .map(|c| RealConsumer {
            spec: c.clone(),
            running: false,
            started: false,
            next_poll: c.start.0,
            processed_at: None,
            since_commit: 0,
            commit_requested: false,
            assignment: Vec::new(),
        })
        .collect();
    let mut sandbox = if doc.scripts.is_empty() {
        None
    } else {
        let mut s = Sandbox::new(ScriptLimits::default(), doc.seed, &API);
        for (name, source) in &doc.scripts {
            s.compile(name, source).map_err(|e| format!("scripts.{name}: {e}"))?;
        }
        Some(s)
    };
    // Processing times drawn from the document's seed (the engine's own draws interleave with its keys).
    let mut prng = Prng::new(doc.seed ^ 0x5eed);
    let sends = engine.sends().to_vec();
    let mut next_send = 0;
    let mut in_transaction: BTreeMap<usize, u64> = BTreeMap::new();
    let mut faults_done = vec![false; doc.faults.len()];
    // Brokers being stopped or started: the document's other actors go on meanwhile.
    let mut brokers: Vec<std::process::Child> = Vec::new();
    // Brokers paused and not resumed yet: resumed after the run, so the cluster is left running.
    let mut paused: BTreeSet<i32> = BTreeSet::new();
    let mut checks: Vec<(usize, u64, Option<bool>)> =
        doc.checks.iter().enumerate().map(|(i, c)| (i, c.at.map_or(doc.duration.0, |a| a.0), None)).collect();
    // The end: the document's duration, then the last checks.
    p.started = Instant::now();
    loop {
        let now = p.now();
        // Sends due.
        while next_send < sends.len() && sends[next_send].at.as_millis() <= now {
            let s = &sends[next_send];
            let spec = &doc.producers[s.producer];
            if let Some(t) = &spec.transactional {
                let count = in_transaction.entry(s.producer).or_insert(0);
                if *count == 0 {
                    p.call(&ClientCall::BeginTransaction { producer: spec.name.clone() })?;
                }
                let _ = t;
            }
            let mut headers: Vec<(String, String)> =
                spec.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            headers.push((ORIGIN_HEADER.to_string(), format!("{}/{}", spec.name, s.seq)));
            p.raw(json!({
                "op": "docSend", "producer": spec.name, "topic": spec.topic, "partition": spec.partition,
                "key": s.key, "value": s.value, "headers": headers, "seq": s.seq,
            }))?;
            if let Some(t) = &spec.transactional {
                let count = in_transaction.entry(s.producer).or_insert(0);
                *count += 1;
                if *count >= t.commit_every {
                    *count = 0;
                    if let ClientReply::Error { error } =
                        p.call(&ClientCall::CommitTransaction { producer: spec.name.clone() })?
                    {
                        p.say(format!("{} commitTransaction threw {}", spec.name, error.exception));
                    }
                }
            }
            next_send += 1;
        }
        // Outcomes of sends.
        for spec in &doc.producers {
            let reply = p.raw(json!({ "op": "docOutcomes", "producer": spec.name }))?;
            for o in reply["outcomes"].as_array().cloned().unwrap_or_default() {
                let counts = p.outcome.producers.entry(spec.name.clone()).or_default();
                if o.get("error").is_some_and(|e| !e.is_null()) {
                    counts.1 += 1;
                    p.say(format!("{} send #{} failed: {}", spec.name, o["seq"], o["error"]["exception"]));
                } else {
                    counts.0 += 1;
                }
            }
        }
        // Faults due.
        for (i, f) in doc.faults.iter().enumerate() {
            if faults_done[i] || f.at.0 > now {
                continue;
            }
            faults_done[i] = true;
            if let Some(b) = f.broker_down {
                brokers.push(control_broker("node-stop", b)?);
                p.say(format!("fault: broker {b} down"));
            } else if let Some(b) = f.broker_up {
                brokers.push(control_broker("node-start", b)?);
                p.say(format!("fault: broker {b} up"));
            } else if let Some(b) = f.broker_pause {
                // SIGSTOP of the broker's JVM (kill returns at once): frozen, still registered.
                brokers.push(control_broker("node-pause", b)?);
                paused.insert(b);
                p.say(format!("fault: broker {b} paused"));
            } else if let Some(b) = f.broker_resume {
                brokers.push(control_broker("node-resume", b)?);
                paused.remove(&b);
                p.say(format!("fault: broker {b} resumed"));
            } else if let Some(name) = &f.consumer_crash {
                // A share consumer's process dies: it polls no more and acknowledges nothing; what it
                // holds stays acquired until the locks expire (the client is closed after the run).
                if let Some(s) = shares.iter_mut().find(|s| &s.spec.name == name && s.running) {
                    s.running = false;
                    s.holding.clear();
                    p.say(format!("{name} crashed (no close, no leave)"));
                }
                if let Some(c) = consumers.iter_mut().find(|c| &c.spec.name == name && c.running) {
                    c.running = false;
                    p.raw(json!({ "op": "docCrash", "consumer": name }))?;
                    p.say(format!("{name} crashed (no close, no leave)"));
                }
            }
        }
        // Consumers.
        for c in consumers.iter_mut() {
            let now = p.now();
            let name = c.spec.name.clone();
            if !c.started && c.spec.start.0 <= now {
                c.started = true;
                p.call(&ClientCall::Subscribe { consumer: name.clone(), topics: c.spec.topics.clone() })?;
                c.running = true;
                p.say(format!("{name} subscribe [{}]", c.spec.topics.join(", ")));
            }
            if !c.running {
                continue;
            }
            if c.spec.stop.is_some_and(|s| s.0 <= now) {
                c.running = false;
                p.call(&ClientCall::CloseConsumer { consumer: name.clone() })?;
                p.say(format!("{name} close()"));
                continue;
            }
            if let Some(at) = c.processed_at {
                if at > now {
                    continue;
                }
                c.processed_at = None;
                let sync = std::mem::take(&mut c.commit_requested)
                    || matches!(c.spec.commit, Some(CommitPolicy::Sync { every }) if c.since_commit >= every);
                if sync {
                    c.since_commit = 0;
                    if let ClientReply::Error { error } =
                        p.call(&ClientCall::CommitSync { consumer: name.clone(), offsets: None })?
                    {
                        p.say(format!("{name} commitSync threw {}", error.exception));
                    }
                } else if matches!(c.spec.commit, Some(CommitPolicy::Async)) {
                    c.since_commit = 0;
                    p.call(&ClientCall::CommitAsync { consumer: name.clone() })?;
                }
                c.next_poll = now;
            }
            if c.next_poll > now {
                continue;
            }
            let reply = p.raw(json!({ "op": "docPoll", "consumer": name, "ms": POLL_MS }));
            let reply = match reply {
                Ok(r) => r,
                Err(e) => {
                    p.say(format!("{name} poll threw {e}"));
                    c.next_poll = now + 100;
                    continue;
                }
            };
            c.assignment = reply["assignment"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
                .unwrap_or_default();
            let records = reply["records"].as_array().cloned().unwrap_or_default();
            if records.is_empty() {
                continue;
            }
            p.say(format!("{name} poll returned {} record(s)", records.len()));
            let mut t = now;
            let mut crashed = false;
            for r in &records {
                let partition = format!("{}-{}", r["topic"].as_str().unwrap_or(""), r["partition"]);
                let key = r["key"].as_str().map(String::from);
                let value = r["value"].as_str().map(String::from);
                let origin = r["origin"].as_str().map(String::from);
                let offset = r["offset"].as_i64().unwrap_or(-1);
                p.outcome.reads.push(Read {
                    consumer: name.clone(),
                    partition: partition.clone(),
                    offset,
                    key: key.clone(),
                    origin: origin.clone(),
                    delivery_count: None,
                });
                c.since_commit += 1;
                let mut asked = None;
                if let (Some(script), Some(sandbox)) = (&c.spec.script, sandbox.as_mut()) {
                    // The record's headers as the consumer read them (the producer's, then the origin),
                    // as the engine's script sees them.
                    let headers: Vec<(String, Option<String>)> = r["headers"]
                        .as_array()
                        .map(|hs| {
                            hs.iter()
                                .filter_map(|h| {
                                    let k = h.get(0)?.as_str()?.to_string();
                                    Some((k, h.get(1).and_then(|v| v.as_str()).map(String::from)))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let topic = r["topic"].as_str().unwrap_or("");
                    let part = r["partition"].as_i64().unwrap_or(0) as i32;
                    let map = record_map(topic, part, offset, 0, key, value, &headers);
                    match sandbox.call(script, &name, t, ON_RECORD, vec![map], RecordCall::default()) {
                        Ok(o) => {
                            asked = o.processing_millis;
                            c.commit_requested |= o.model.commit;
                            crashed = o.model.crash;
                        }
                        Err(e) => return Err(format!("{name}: {e}")),
                    }
                }
                t = t.saturating_add(asked.unwrap_or_else(|| c.spec.processing.draw(&mut prng)));
                if crashed {
                    break;
                }
            }
            if crashed {
                // The script's `crash()`: the rest of the poll's records are never processed.
                c.running = false;
                p.raw(json!({ "op": "docCrash", "consumer": name }))?;
                p.say(format!("{name} crashed (no close, no leave)"));
                continue;
            }
            c.processed_at = Some(t.saturating_add(c.spec.poll_overhead.0));
        }
        // Share consumers.
        for s in shares.iter_mut() {
            let now = p.now();
            let name = s.spec.name.clone();
            if !s.started && s.spec.start.0 <= now {
                s.started = true;
                p.raw(json!({ "op": "shareSubscribe", "share": name, "topics": s.spec.topics }))?;
                s.running = true;
                p.say(format!("{name} subscribe [{}]", s.spec.topics.join(", ")));
            }
            if !s.running {
                continue;
            }
            if s.spec.stop.is_some_and(|t| t.0 <= now) {
                s.running = false;
                s.holding.clear();
                p.raw(json!({ "op": "shareClose", "share": name }))?;
                p.say(format!("{name} close()"));
                continue;
            }
            if let Some(at) = s.processed_at {
                if at > now {
                    continue;
                }
                s.processed_at = None;
                let kinds: Vec<&str> = s.holding.iter().map(|h| h.2).collect();
                let reply = p.raw(json!({ "op": "docShareAcknowledge", "share": name, "kinds": kinds }))?;
                let failed = reply["failed"].as_object().cloned().unwrap_or_default();
                let acks = p.outcome.share_acks.entry(name.clone()).or_default();
                for (partition, delivery, kind) in std::mem::take(&mut s.holding) {
                    acks.count(kind, delivery, failed.contains_key(&partition));
                }
                for (partition, e) in &failed {
                    p.say(format!("{name} commitSync: {partition} {e}"));
                }
                s.next_poll = now;
            }
            if s.next_poll > now {
                continue;
            }
            let reply = match p.raw(json!({ "op": "docSharePoll", "share": name, "ms": POLL_MS })) {
                Ok(r) => r,
                Err(e) => {
                    p.say(format!("{name} poll threw {e}"));
                    s.next_poll = now + 100;
                    continue;
                }
            };
            let records = reply["records"].as_array().cloned().unwrap_or_default();
            if records.is_empty() {
                continue;
            }
            p.say(format!("{name} poll returned {} record(s)", records.len()));
            let mut t = now;
            for r in &records {
                let partition = format!("{}-{}", r["topic"].as_str().unwrap_or(""), r["partition"]);
                let value = r["value"].as_str().map(String::from);
                let origin = r["origin"].as_str().map(String::from);
                let delivery = r["delivery_count"].as_i64().unwrap_or(1) as i32;
                let kind = acknowledge_name(share_acknowledge_type(
                    &s.spec.acknowledge,
                    value.as_deref(),
                    origin.as_deref(),
                    delivery,
                ));
                p.outcome.reads.push(Read {
                    consumer: name.clone(),
                    partition: partition.clone(),
                    offset: r["offset"].as_i64().unwrap_or(-1),
                    key: r["key"].as_str().map(String::from),
                    origin,
                    delivery_count: Some(delivery),
                });
                p.say(format!("{name} <- {partition}@{} delivery={delivery} ({kind})", r["offset"]));
                s.holding.push((partition, delivery, kind));
                t = t.saturating_add(s.spec.processing.draw(&mut prng));
            }
            s.processed_at = Some(t);
        }
        // Checks due.
        let now = p.now();
        for (index, at, result) in checks.iter_mut() {
            if result.is_none() && *at <= now {
                let spec = doc.checks[*index].clone();
                *result = Some(p.evaluate(&spec, &consumers, &shares)?);
            }
        }
        if now >= doc.duration.0 && checks.iter().all(|c| c.2.is_some()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // The end state, read before the clients close.
    let engine_outcome = engine_outcome(engine);
    for (i, description, _) in &engine_outcome.checks {
        let pass = checks.iter().find(|c| c.0 == *i).and_then(|c| c.2).unwrap_or(false);
        let status = if pass { CheckStatus::Pass } else { CheckStatus::Fail };
        p.outcome.checks.push((*i, description.clone(), status));
    }
    for t in &doc.topics {
        for tp in p.partitions(&t.name) {
            let n = p.latest(&tp, OffsetQuery::Latest)? - p.latest(&tp, OffsetQuery::Earliest)?;
            p.outcome.records.insert(format!("{}-{}", tp.topic, tp.partition), n);
        }
    }
    for g in &groups {
        let committed = p.committed(g)?;
        for c in doc.consumers.iter().filter(|c| &c.group == g) {
            for t in &c.topics {
                for tp in p.partitions(t) {
                    let name = format!("{}-{}", tp.topic, tp.partition);
                    p.outcome.committed.insert((g.clone(), name.clone()), committed.get(&name).copied());
                }
            }
        }
        let state = p.group_state(g)?;
        p.outcome.group_states.insert(g.clone(), state);
    }
    for c in consumers.iter().filter(|c| c.running) {
        p.call(&ClientCall::CloseConsumer { consumer: c.spec.name.clone() })?;
    }
    for s in shares.iter().filter(|s| s.started) {
        // A crashed one too: its records were released by their locks already, or are now.
        let _ = p.raw(json!({ "op": "shareClose", "share": s.spec.name }));
    }
    for b in std::mem::take(&mut paused) {
        brokers.push(control_broker("node-resume", b)?);
    }
    for mut b in brokers {
        let _ = b.wait();
    }
    if clean {
        crate::kafka::clean(&mut p.clients, &topics, &all_groups)?;
    }
    Ok(RealDocumentRun { outcome: p.outcome, log: p.log })
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::kafka::scenario::KafkaRunOptions;

    fn document(name: &str) -> String {
        let path = format!(
            "{}/../../tests/scenarios/kafka-documents/{name}/document.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn engine(name: &str) -> KafkaRun {
        let mut run = KafkaRun::from_json(&document(name), KafkaRunOptions::default()).expect("it builds");
        run.run();
        run
    }

    #[test]
    fn refusals_name_the_document_field() {
        let idempotence = KafkaDocument::parse(&document("idempotence-and-retries")).unwrap();
        let r = refusals(&idempotence, 1);
        assert!(r.iter().any(|r| r.starts_with("faults[0].slow_follower: ")), "{r:?}");
        // No Kafka timer and no consumer: a speed-up is fine.
        assert!(refusals(&KafkaDocument::parse(&document("hot-key-skew")).unwrap(), 5).is_empty());
        // A classic group's first join waits for a broker timer.
        let keyed = KafkaDocument::parse(&document("keyed-order")).unwrap();
        assert!(refusals(&keyed, 1).is_empty());
        let r = refusals(&keyed, 3);
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(
            r[0].starts_with("--speed 3: Kafka runs its own timers in real time (consumers[0] "),
            "{}",
            r[0]
        );
        let crash = KafkaDocument::parse(&document("consumer-crash-rebalance")).unwrap();
        let r = refusals(&crash, 2);
        assert!(r[0].contains("consumers[0].session_timeout"), "{}", r[0]);
        assert!(r[0].contains("faults[0].consumer_crash"), "{}", r[0]);
        // A paused broker is a broker fault: played in real time, on a cluster the runner can signal.
        let paused = KafkaDocument::parse(&document("paused-follower")).unwrap();
        let r = refusals(&paused, 2);
        assert!(r.iter().any(|r| r.contains("faults[0] (a broker's shutdown, pause")), "{r:?}");
        assert!(r.iter().any(|r| r.contains("faults[1] (a broker's shutdown, pause")), "{r:?}");
        if std::env::var_os("BROKERLAB_KAFKA_NODE_CONTROL").is_none() {
            let r = refusals(&paused, 1);
            assert!(
                r.iter().any(|r| r.starts_with("faults[0]: stopping or pausing a broker needs")),
                "{r:?}"
            );
        }
    }

    #[test]
    fn the_java_clients_get_the_documents_settings() {
        let doc = KafkaDocument::parse(&document("broker-down-min-insync")).unwrap();
        let p = producer_properties(&doc, 0);
        for (k, v) in [
            ("acks", "all"),
            ("linger.ms", "0"),
            ("delivery.timeout.ms", "4000"),
            ("enable.idempotence", "false"),
        ] {
            assert!(p.contains(&(k.to_string(), v.to_string())), "{k}={v} in {p:?}");
        }
        let doc = KafkaDocument::parse(&document("slow-poll-loop-and-transactions")).unwrap();
        let slow = consumer_properties(&doc, &doc.consumers[0], 1);
        for (k, v) in [
            ("max.poll.interval.ms", "5000"),
            ("max.poll.records", "2"),
            ("isolation.level", "read_committed"),
            ("auto.offset.reset", "earliest"),
            ("enable.auto.commit", "true"),
            ("auto.commit.interval.ms", "5000"),
        ] {
            assert!(slow.contains(&(k.to_string(), v.to_string())), "{k}={v} in {slow:?}");
        }
        let kip848 = consumer_properties(&doc, &doc.consumers[2], 1);
        assert!(kip848.contains(&("group.protocol".to_string(), "consumer".to_string())), "{kip848:?}");
        assert!(kip848.contains(&("group.remote.assignor".to_string(), "uniform".to_string())), "{kip848:?}");
        // A speed-up divides the client's auto-commit interval.
        let fast = consumer_properties(&doc, &doc.consumers[0], 4);
        assert!(fast.contains(&("auto.commit.interval.ms".to_string(), "1250".to_string())), "{fast:?}");
    }

    /// The share-groups tutorial: its share consumers' Java properties, its refusal to be sped up, and the
    /// outcome lines its engine run gives (the numbers of its golden, tests/scenarios/kafka-tutorials/share-groups).
    #[test]
    fn share_consumers_run_with_explicit_acknowledgement_and_in_real_time() {
        let path = format!(
            "{}/../../tests/scenarios/kafka-tutorials/share-groups/document.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = KafkaDocument::parse(&text).unwrap();
        let props = share_consumer_properties(&doc.share_consumers[0]);
        for (k, v) in [
            ("client.id", "crew-1"),
            ("group.id", "crew"),
            ("share.acknowledgement.mode", "explicit"),
            ("max.poll.records", "1"),
        ] {
            assert!(props.contains(&(k.to_string(), v.to_string())), "{k}={v} in {props:?}");
        }
        assert!(refusals(&doc, 1).is_empty());
        let r = refusals(&doc, 2);
        assert!(r.len() == 1 && r[0].contains("share_consumers (share groups' heartbeats"), "{r:?}");
        let mut run = KafkaRun::from_json(&text, KafkaRunOptions::default()).unwrap();
        run.run();
        let o = engine_outcome(&run);
        let lines: Vec<String> = outcome_lines(&o, &BTreeSet::new()).into_iter().map(|l| l.text).collect();
        for want in [
            "share group crew: consumed 49, duplicates 8, highest delivery count 5, accept 40, release 9, reject 0, archived 1",
            "group batch: consumed 41, duplicates 0, per-key order held",
            "group batch committed jobs-0: 41",
        ] {
            assert!(lines.iter().any(|l| l == want), "{want:?} not in {lines:#?}");
        }
        // A share group has no committed offsets or consumer-group state line.
        assert!(!lines.iter().any(|l| l.starts_with("group crew")), "{lines:#?}");
    }

    #[test]
    fn the_outcome_lines_of_an_engine_run() {
        let run = engine("keyed-order");
        let o = engine_outcome(&run);
        let lines: Vec<String> = outcome_lines(&o, &BTreeSet::new()).into_iter().map(|l| l.text).collect();
        // The same numbers the golden transcript shows (tests/scenarios/kafka-documents/keyed-order/expected.txt).
        for want in [
            "check 1 pass: every customer's orders are read in the order they were placed",
            "records in orders-0: 3",
            "records in orders-2: 6",
            "group billing committed orders-2: 6",
            "producer shop: acknowledged 12, failed 0",
            "group billing: consumed 12, duplicates 0, per-key order held",
            "group billing state: Stable",
        ] {
            assert!(lines.iter().any(|l| l == want), "{want:?} not in {lines:#?}");
        }
        assert!(compare("keyed-order", &o, &o, &[]).is_empty());
        // A crash re-reads: the engine's outcome says so, and a difference is named with its side.
        let crash = engine_outcome(&engine("consumer-crash-rebalance"));
        let d = compare("x", &o, &crash, &[]);
        assert!(
            d.iter()
                .any(|d| d.side == "kafka"
                    && d.line.text.starts_with("group ledger: consumed 61, duplicates 1")),
            "{d:#?}"
        );
    }
}
