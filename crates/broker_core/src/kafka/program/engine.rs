//! The engine's side of the program seam: [`EngineClients`] runs each client call on the Kafka model —
//! a [`Cluster`] (topics, logs, replication), [`KafkaProducer`]s, the classic [`GroupCoordinator`] — on
//! virtual time, so a program's transcript can be compared with the one a real Kafka gives through the
//! Java client (`real_broker::kafka`).
//!
//! Consumers are the model's [`KafkaConsumer`]s, sharing one [`Mailbox`] for the coordinator's responses;
//! their heartbeat threads are ticked whenever virtual time passes one of their deadlines or mail waits.
//! A poll means what `docs/kafka-programs.md` says: the consumer polls (in 10 ms steps of virtual time)
//! until it has caught up — in its group's current generation with the other members here that have
//! polled, at the end of every assigned and unpaused partition, last poll empty — or has
//! `max.poll.records` records, or 20 s have passed; the group's other members poll meanwhile and keep what
//! they get for their own next poll, as the real side's driver does.
//!
//! Time: a statement runs at the current virtual instant; `Thread.sleep` and the waits a call implies
//! (a send's `.get()` until its batch is answered, a flush) advance it, firing the cluster's, the
//! producers' and the coordinator's timers in order.
//!
//! Invariants: a consumer's buffer holds only records of partitions it was assigned when they were
//! fetched; the cluster's invariants hold after every call (checked by the golden test).

use super::client::{
    ClientCall, ClientError, ClientReply, GroupInfo, KafkaClients, MemberInfo, OffsetQuery, PartitionInfo,
    PartitionOffset, PartitionResult, Received, SendOutcome, TopicInfo, Tp,
};
use crate::clock::VirtualTime;
use crate::kafka::cluster::{Acks, AlterConfigOp, Cluster, ClusterSettings, NewTopic};
use crate::kafka::config::ConfigSource;
use crate::kafka::consumer::{
    AutoOffsetReset, ConsumerConfig, ConsumerEnv, ConsumerError, GroupProtocol, KafkaConsumer, Mailbox,
};
use crate::kafka::group::{CoordinatorConfig, GroupCoordinator, GroupResponse, OffsetCommitRequest};
use crate::kafka::producer::{KafkaProducer, ProducerConfig, ProducerError, SendId};
use crate::kafka::{
    AcknowledgeType, ClientAssignor, ErrorCode, Header, IsolationLevel, KafkaError, KafkaShareConsumer,
    NodeId, OffsetAndMetadata, OffsetSpec, PartitionReader, ProducerRecord, ShareConfig, SharePartitions,
    TopicPartition,
};
use std::collections::{BTreeMap, BTreeSet};

fn client_error(exception: &str, message: impl Into<String>) -> ClientError {
    ClientError { exception: exception.to_string(), message: message.into() }
}

fn kafka_error(e: &KafkaError) -> ClientError {
    client_error(e.code.exception(), e.message.clone())
}

fn code_error(code: ErrorCode) -> ClientError {
    client_error(code.exception(), code.default_message())
}

fn producer_error(e: &ProducerError) -> ClientError {
    match e {
        ProducerError::Kafka(k) => kafka_error(k),
        ProducerError::TransactionAborted => {
            client_error("TransactionAbortedException", "Failing batch since transaction was aborted")
        }
        ProducerError::Client(text) => match text.split_once(": ") {
            Some((exception, message)) => client_error(exception, message),
            None => client_error("KafkaException", text.clone()),
        },
    }
}

fn error(e: ClientError) -> ClientReply {
    ClientReply::Error { error: e }
}

fn tp(p: &Tp) -> TopicPartition {
    TopicPartition::new(p.topic.clone(), p.partition)
}

fn bad_config(name: &str, value: &str) -> ClientError {
    client_error("ConfigException", format!("Invalid value {value} for configuration {name}"))
}

fn prop<'a>(props: &'a [(String, String)], name: &str) -> Option<&'a str> {
    props.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn num<T: std::str::FromStr>(props: &[(String, String)], name: &str) -> Result<Option<T>, ClientError> {
    match prop(props, name) {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| bad_config(name, v)),
    }
}

fn producer_config(props: &[(String, String)]) -> Result<ProducerConfig, ClientError> {
    let mut c = ProducerConfig::default();
    if let Some(acks) = prop(props, "acks") {
        c.acks = match acks {
            "all" | "-1" => Acks::All,
            "1" => Acks::Leader,
            "0" => Acks::None,
            _ => return Err(bad_config("acks", acks)),
        };
    }
    if let Some(v) = num(props, "linger.ms")? {
        c.linger_ms = v;
    }
    if let Some(v) = num(props, "batch.size")? {
        c.batch_size = v;
    }
    if let Some(v) = num(props, "retries")? {
        c.retries = v;
    }
    if let Some(v) = num(props, "retry.backoff.ms")? {
        c.retry_backoff_ms = v;
    }
    if let Some(v) = num(props, "delivery.timeout.ms")? {
        c.delivery_timeout_ms = v;
    }
    if let Some(v) = num(props, "request.timeout.ms")? {
        c.request_timeout_ms = v;
    }
    if let Some(v) = num(props, "max.in.flight.requests.per.connection")? {
        c.max_in_flight_requests_per_connection = v;
    }
    if let Some(v) = num(props, "max.request.size")? {
        c.max_request_size = v;
    }
    if let Some(v) = num(props, "max.block.ms")? {
        c.max_block_ms = v;
    }
    if let Some(v) = prop(props, "enable.idempotence") {
        c.enable_idempotence = Some(v == "true");
    }
    if let Some(v) = num(props, "transaction.timeout.ms")? {
        c.transaction_timeout_ms = v;
    }
    c.transactional_id = prop(props, "transactional.id").map(String::from);
    Ok(c)
}

struct Producer {
    client: KafkaProducer,
    /// Sends not yet reported, in send order.
    pending: Vec<(SendId, String)>,
    /// Results taken from the producer and not yet reported.
    results: BTreeMap<SendId, SendOutcome>,
    /// Per group given to `sendOffsetsToTransaction` in the open transaction: the consumer's generation (or
    /// member epoch), member id and instance id, with which the offsets are committed at the commit.
    txn_groups: BTreeMap<String, (i32, String, Option<String>)>,
}

struct Consumer {
    /// The model's `KafkaConsumer`.
    client: KafkaConsumer,
    group: Option<String>,
    isolation: IsolationLevel,
    max_poll_records: usize,
    subscribed: bool,
    /// Polled since it subscribed: it has joined its group (a consumer joins at its first poll).
    polled_since_subscribe: bool,
    /// Records received while another member's poll ran, kept for this one's next poll.
    buffer: Vec<Received>,
}

/// The broker's `group.share.record.lock.duration.ms` (Kafka's default, 30 s).
const SHARE_LOCK_MS: u64 = 30_000;

/// A share consumer of a program (KIP-932).
struct ShareConsumer {
    client: KafkaShareConsumer,
    /// `share.acknowledgement.mode=explicit`.
    explicit: bool,
    /// The records of the last poll, not yet acknowledged in explicit mode.
    last: Vec<crate::kafka::ConsumerRecord>,
    /// An acknowledgement the broker refused (its lock had expired), reported by the next commitSync.
    ack_error: Option<ClientError>,
    subscribed: bool,
    closed: bool,
}

/// The program seam over the engine's Kafka model.
pub struct EngineClients {
    /// The share groups' share-partitions.
    shares: SharePartitions,
    share_consumers: BTreeMap<String, ShareConsumer>,
    now: VirtualTime,
    cluster: Cluster,
    coordinator: GroupCoordinator,
    seed: u64,
    admins: BTreeSet<String>,
    producers: BTreeMap<String, Producer>,
    consumers: BTreeMap<String, Consumer>,
    next_conn: u64,
    client_id_sequence: u32,
    /// Coordinator responses on their way to the consumers.
    mailbox: Mailbox,
}

impl EngineClients {
    /// A one-broker cluster (node id 1) as `scripts/kafka-node.sh` starts one: the coordinator's initial
    /// rebalance delay at 0 and `log.retention.check.interval.ms=1000`, as that broker has them.
    pub fn new(seed: u64) -> Self {
        Self::with_brokers(seed, 1)
    }

    /// A cluster of `brokers` (node ids 1..=brokers, 1 to 9) configured as [`EngineClients::new`]'s, as
    /// `scripts/kafka-node.sh cluster DIR N` starts one.
    pub fn with_brokers(seed: u64, brokers: i32) -> Self {
        Self::with_racks(seed, brokers, &[])
    }

    /// [`EngineClients::with_brokers`] with `broker.rack`s: broker `i` gets `racks[i - 1]` (none when the
    /// list is shorter or the item empty), as `BROKERLAB_KAFKA_RACKS=a,b,c scripts/kafka-node.sh cluster`.
    pub fn with_racks(seed: u64, brokers: i32, racks: &[String]) -> Self {
        // As scripts/kafka-node.sh: the KIP-848 heartbeat interval at 500 ms.
        let coordinator = GroupCoordinator::new(
            CoordinatorConfig { initial_rebalance_delay_ms: 0, ..CoordinatorConfig::default() },
            seed ^ 0x5eed,
        )
        .with_consumer_protocol(
            crate::kafka::group::ConsumerProtocolConfig { heartbeat_interval_ms: 500, ..Default::default() },
            seed ^ 0x5eed,
        );
        EngineClients {
            now: VirtualTime::ZERO,
            cluster: {
                // As scripts/kafka-node.sh configures its broker: node id 1, retention checked every second.
                let settings = ClusterSettings {
                    log_retention_check_interval_ms: 1000,
                    // scripts/kafka-node.sh's cluster: brokers fenced 4 s after their last heartbeat.
                    broker_session_timeout_ms: 4000,
                    ..ClusterSettings::default()
                };
                let mut cluster = Cluster::new(seed, settings);
                for id in 1..=brokers.clamp(1, 9) {
                    let rack = racks.get(id as usize - 1).filter(|r| !r.is_empty()).cloned();
                    cluster.add_broker(NodeId(id), rack).expect("1 to 9 brokers fit a cluster");
                }
                cluster
            },
            coordinator,
            seed,
            admins: BTreeSet::new(),
            producers: BTreeMap::new(),
            consumers: BTreeMap::new(),
            next_conn: 1,
            client_id_sequence: 1,
            mailbox: Mailbox::new(),
            shares: SharePartitions::new(ShareConfig::default()),
            share_consumers: BTreeMap::new(),
        }
    }

    /// The cluster a golden program's `args` file describes (`tests/scenarios/kafka/<name>/args`, the
    /// runner's options for it): `--brokers N`, `--racks A,B,C` and `--broker-config K=V` (repeatable), as
    /// [`EngineClients::with_racks`] and [`EngineClients::set_broker_config`] take them; empty `args` is
    /// one broker. An unknown option or a malformed value is an error naming it.
    pub fn from_golden_args(seed: u64, args: &str) -> Result<Self, String> {
        let words: Vec<&str> = args.split_whitespace().collect();
        let (mut brokers, mut racks, mut configs) = (1, Vec::new(), Vec::new());
        for pair in words.chunks(2) {
            match pair {
                ["--brokers", n] => brokers = n.parse().map_err(|_| format!("--brokers N, got '{n}'"))?,
                ["--racks", r] => racks = r.split(',').map(String::from).collect(),
                ["--broker-config", kv] => configs
                    .push(kv.split_once('=').ok_or_else(|| format!("--broker-config K=V, got '{kv}'"))?),
                other => return Err(format!("unknown args {other:?}")),
            }
        }
        let mut clients = Self::with_racks(seed, brokers, &racks);
        for (key, value) in configs {
            clients.set_broker_config(key, value)?;
        }
        Ok(clients)
    }

    /// A broker setting given to every broker (and the controller) before the program runs, as
    /// `BROKERLAB_KAFKA_PROPS` adds lines to `scripts/kafka-node.sh`'s `server.properties`: the engine
    /// takes `replica.lag.time.max.ms` and `broker.session.timeout.ms` (milliseconds, at least 1).
    pub fn set_broker_config(&mut self, key: &str, value: &str) -> Result<(), String> {
        let ms: u64 = value.parse().ok().filter(|v| *v >= 1).ok_or_else(|| {
            format!("{key} needs a whole number of milliseconds (at least 1), got '{value}'")
        })?;
        match key {
            "replica.lag.time.max.ms" => self.cluster.settings.replica_lag_time_max_ms = ms,
            "broker.session.timeout.ms" => self.cluster.settings.broker_session_timeout_ms = ms,
            _ => {
                return Err(format!(
                    "unknown broker setting '{key}' (replica.lag.time.max.ms, broker.session.timeout.ms)"
                ))
            }
        }
        Ok(())
    }

    /// The cluster (for invariant checks).
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Moves virtual time to `t`, firing every timer due by then in order.
    fn advance(&mut self, t: VirtualTime) {
        loop {
            let mut next: Option<VirtualTime> = None;
            for p in self.producers.values() {
                if let Some(d) = p.client.next_deadline(&self.cluster) {
                    next = Some(next.map_or(d, |n| n.min(d)));
                }
            }
            if let Some(d) = self.cluster.next_deadline() {
                next = Some(next.map_or(d, |n| n.min(d)));
            }
            for c in self.consumers.values() {
                if let Some(d) = c.client.next_deadline().filter(|&d| d > self.now) {
                    next = Some(next.map_or(d, |n| n.min(d)));
                }
            }
            if let Some(d) = self.coordinator.next_deadline().filter(|&d| d > self.now) {
                next = Some(next.map_or(d, |n| n.min(d)));
            }
            let step = match next {
                Some(d) if d <= t => d.max(self.now),
                _ => t,
            };
            for p in self.producers.values_mut() {
                p.client.advance_to(&mut self.cluster, step);
                for r in p.client.take_results() {
                    let outcome = match &r.result {
                        Ok(m) => SendOutcome {
                            topic: m.partition.topic.to_string(),
                            partition: m.partition.partition,
                            offset: m.offset,
                            error: None,
                        },
                        Err(e) => SendOutcome {
                            topic: String::new(),
                            partition: -1,
                            offset: -1,
                            error: Some(producer_error(e)),
                        },
                    };
                    p.results.insert(r.id, outcome);
                }
            }
            self.cluster.advance_to(step);
            let due = self.coordinator.advance_to(step);
            self.mailbox.post(due);
            // Each consumer's heartbeat thread: due timers and responses waiting for it.
            let names: Vec<String> = self.consumers.keys().cloned().collect();
            for n in names {
                let c = &self.consumers[&n];
                let due = c.client.next_deadline().is_some_and(|d| d <= step)
                    || self.mailbox.has_mail(c.client.conn());
                if due {
                    self.with_consumer(&n, |c, _, env| c.tick(step, env));
                }
            }
            self.now = step;
            if step >= t {
                break;
            }
        }
    }

    /// Advances until `done` holds or `limit_ms` of virtual time have passed, a millisecond at a time
    /// where no timer is due sooner.
    fn advance_until(&mut self, limit_ms: u64, mut done: impl FnMut(&Self) -> bool) {
        let end = self.now.plus_millis(limit_ms);
        while !done(self) && self.now < end {
            let mut next = self.now.plus_millis(1);
            for p in self.producers.values() {
                if let Some(d) = p.client.next_deadline(&self.cluster) {
                    if d > self.now && d < next {
                        next = d;
                    }
                }
            }
            self.advance(next.min(end));
        }
    }

    fn outcomes(&mut self, producer: &str) -> ClientReply {
        let Some(p) = self.producers.get_mut(producer) else {
            return error(client_error(
                "IllegalStateException",
                "Cannot perform operation after producer has been closed",
            ));
        };
        let mut outcomes = Vec::new();
        let mut left = Vec::new();
        for (id, topic) in p.pending.drain(..) {
            match p.results.remove(&id) {
                Some(mut o) => {
                    if o.topic.is_empty() {
                        o.topic = topic;
                    }
                    outcomes.push(o);
                }
                None => left.push((id, topic)),
            }
        }
        p.pending = left;
        ClientReply::SendOutcomes { outcomes }
    }

    /// Waits until every pending send of `producer` has its result.
    fn wait_sends(&mut self, producer: &str) {
        let limit = self.producers.get(producer).map(|p| p.client.unanswered()).unwrap_or(0);
        if limit == 0 {
            self.advance(self.now);
            return;
        }
        let name = producer.to_string();
        self.advance_until(300_000, |s| {
            s.producers.get(&name).is_none_or(|p| p.pending.iter().all(|(id, _)| p.results.contains_key(id)))
        });
    }

    fn admin(&mut self, call: &ClientCall) -> ClientReply {
        let now = self.now;
        match call {
            ClientCall::CreateTopics { topics, .. } => {
                for t in topics {
                    let new = NewTopic {
                        name: t.name.clone(),
                        partitions: t.partitions,
                        replication_factor: t.replication_factor.map(i32::from),
                        configs: t.configs.clone(),
                        replica_assignment: t
                            .replica_assignment
                            .iter()
                            .map(|(p, r)| (*p, r.iter().map(|&b| NodeId(b)).collect()))
                            .collect(),
                    };
                    if let Err(e) = self.cluster.create_topic(now, &new) {
                        return error(kafka_error(&e));
                    }
                }
                ClientReply::Done
            }
            ClientCall::ElectLeaders { election, partitions, .. } => {
                let unclean = election == "UNCLEAN";
                for tp in partitions {
                    let tp = TopicPartition::new(tp.topic.clone(), tp.partition);
                    if let Err(e) = self.cluster.elect_leaders(now, &tp, unclean) {
                        return error(kafka_error(&e));
                    }
                }
                ClientReply::Done
            }
            ClientCall::DeleteTopics { topics, .. } => {
                for t in topics {
                    if let Err(e) = self.cluster.delete_topic(now, t) {
                        return error(kafka_error(&e));
                    }
                }
                ClientReply::Done
            }
            ClientCall::CreatePartitions { topic, total, .. } => {
                match self.cluster.create_partitions(now, topic, *total) {
                    Ok(()) => ClientReply::Done,
                    Err(e) => error(kafka_error(&e)),
                }
            }
            ClientCall::DescribeCluster { .. } => {
                // Registered and unfenced: a paused (or killed) broker is listed until it is fenced.
                let nodes = self.cluster.brokers().iter().filter(|b| b.up).map(|b| b.id.0).collect();
                ClientReply::Nodes { nodes }
            }
            ClientCall::DescribeTopics { topics, .. } => {
                let mut out = Vec::new();
                for t in topics {
                    match self.cluster.describe_topic(t) {
                        Ok(d) => out.push(TopicInfo {
                            name: d.name,
                            partitions: d
                                .partitions
                                .into_iter()
                                .map(|p| PartitionInfo {
                                    partition: p.partition,
                                    leader: p.leader.map(|n| n.0),
                                    replicas: p.replicas.iter().map(|n| n.0).collect(),
                                    isr: p.isr.iter().map(|n| n.0).collect(),
                                })
                                .collect(),
                        }),
                        Err(e) => return error(kafka_error(&e)),
                    }
                }
                ClientReply::Topics { topics: out }
            }
            ClientCall::IncrementalAlterConfigs { topic, ops, .. } => {
                let ops: Vec<AlterConfigOp> = ops
                    .iter()
                    .map(|o| AlterConfigOp { name: o.name.clone(), value: o.value.clone() })
                    .collect();
                match self.cluster.alter_configs(now, topic, &ops) {
                    Ok(()) => ClientReply::Done,
                    Err(e) => error(kafka_error(&e)),
                }
            }
            ClientCall::AlterGroupConfigs { group, ops, .. } => {
                // The share-group configs the engine models; Kafka validates each against its range.
                let (mut reset, mut lock) = (None, None);
                for op in ops {
                    match (op.name.as_str(), op.value.as_deref()) {
                        ("share.auto.offset.reset", Some("earliest")) => reset = Some(true),
                        ("share.auto.offset.reset", Some("latest") | None) => reset = Some(false),
                        ("share.record.lock.duration.ms", None) => lock = Some(SHARE_LOCK_MS),
                        ("share.record.lock.duration.ms", Some(v)) => match v.parse::<u64>() {
                            Ok(ms) if (1000..=3_600_000).contains(&ms) => lock = Some(ms),
                            _ => return error(bad_config(&op.name, v)),
                        },
                        (name, _) => {
                            return error(client_error(
                                "InvalidConfigurationException",
                                format!("the engine models no group config {name}"),
                            ))
                        }
                    }
                }
                self.shares.set_group_config(group, reset, lock);
                ClientReply::Done
            }
            ClientCall::DescribeConfigs { topic, .. } => match self.cluster.describe_configs(topic) {
                Ok(entries) => {
                    let mut configs: Vec<(String, String)> = entries
                        .into_iter()
                        .filter(|e| e.source != ConfigSource::DefaultConfig)
                        .map(|e| (e.name, e.value))
                        .collect();
                    configs.sort();
                    ClientReply::Configs { configs }
                }
                Err(e) => error(kafka_error(&e)),
            },
            ClientCall::DeleteRecords { partition, before_offset, .. } => {
                match self.cluster.delete_records(now, &tp(partition), *before_offset) {
                    Ok(low) => ClientReply::Offset { offset: Some(low) },
                    Err(e) => error(kafka_error(&e)),
                }
            }
            ClientCall::ListOffsets { partition, spec, .. } => {
                let spec = match spec {
                    OffsetQuery::Earliest => OffsetSpec::Earliest,
                    OffsetQuery::Latest => OffsetSpec::Latest,
                    OffsetQuery::ForTimestamp(t) => OffsetSpec::ForTimestamp(*t),
                };
                match self.cluster.list_offset(&tp(partition), spec, IsolationLevel::ReadUncommitted) {
                    Ok(o) => ClientReply::Offset { offset: o },
                    Err(e) => error(kafka_error(&e)),
                }
            }
            ClientCall::ListConsumerGroupOffsets { group, .. } => {
                let mut offsets = Vec::new();
                for t in self.cluster.topic_names() {
                    let n = self.cluster.partition_count(&t).unwrap_or(0);
                    let parts: Vec<TopicPartition> =
                        (0..n).map(|p| TopicPartition::new(t.clone(), p)).collect();
                    match self.coordinator.offset_fetch(group, &parts) {
                        Ok(list) => offsets.extend(list.into_iter().filter_map(|(tp, o)| {
                            o.map(|o| PartitionOffset {
                                topic: tp.topic.into(),
                                partition: tp.partition,
                                offset: Some(o.offset),
                            })
                        })),
                        Err(code) => return error(code_error(code)),
                    }
                }
                offsets.sort();
                ClientReply::Offsets { offsets }
            }
            ClientCall::DescribeConsumerGroups { groups, .. } => {
                let mut out = Vec::new();
                for g in groups {
                    // A group of the consumer protocol (KIP-848): its members' current assignments.
                    if let Some(cg) = self.coordinator.consumer_groups().group(g) {
                        let members = cg
                            .members
                            .values()
                            .map(|m| MemberInfo {
                                member_id: m.member_id.clone(),
                                instance_id: m.instance_id.clone(),
                                client_id: m.client_id.clone(),
                                host: m.client_host.clone(),
                                assignment: m
                                    .assigned
                                    .iter()
                                    .map(|p| Tp { topic: p.topic.to_string(), partition: p.partition })
                                    .collect(),
                            })
                            .collect();
                        out.push(GroupInfo {
                            group_id: g.clone(),
                            state: cg.state().to_string(),
                            assignor: self
                                .coordinator
                                .consumer_groups()
                                .assignor_name(g)
                                .unwrap_or_default()
                                .to_string(),
                            members,
                        });
                        continue;
                    }
                    let d = self.coordinator.describe_group(g);
                    if d.state == crate::kafka::group::ClassicGroupState::Dead {
                        return error(client_error(
                            "GroupIdNotFoundException",
                            format!("Group {g} not found."),
                        ));
                    }
                    out.push(GroupInfo {
                        group_id: d.group_id,
                        state: d.state.name().to_string(),
                        assignor: d.protocol,
                        members: d
                            .members
                            .into_iter()
                            .map(|m| {
                                let mut assignment: Vec<Tp> = m
                                    .assignment
                                    .iter()
                                    .map(|p| Tp { topic: p.topic.to_string(), partition: p.partition })
                                    .collect();
                                assignment.sort();
                                MemberInfo {
                                    member_id: m.member_id,
                                    instance_id: m.group_instance_id,
                                    client_id: m.client_id,
                                    host: m.client_host,
                                    assignment,
                                }
                            })
                            .collect(),
                    });
                }
                ClientReply::Groups { groups: out }
            }
            ClientCall::DeleteConsumerGroups { groups, .. } => {
                for g in groups {
                    if let Err(code) = self.coordinator.delete_group(now, g) {
                        return error(code_error(code));
                    }
                }
                ClientReply::Done
            }
            ClientCall::DeleteConsumerGroupOffsets { group, partitions, .. } => {
                let asked: Vec<TopicPartition> = partitions.iter().map(tp).collect();
                match self.coordinator.offset_delete(now, group, &asked) {
                    Ok(results) => ClientReply::PartitionResults {
                        results: results
                            .into_iter()
                            .map(|(p, e)| PartitionResult {
                                topic: p.topic.to_string(),
                                partition: p.partition,
                                error: e.map(code_error),
                            })
                            .collect(),
                    },
                    // A group-level error fails every partition's future.
                    Err(code) => ClientReply::PartitionResults {
                        results: partitions
                            .iter()
                            .map(|p| PartitionResult {
                                topic: p.topic.clone(),
                                partition: p.partition,
                                error: Some(code_error(code)),
                            })
                            .collect(),
                    },
                }
            }
            ClientCall::AlterConsumerGroupOffsets { group, offsets, .. } => {
                let offsets = offsets
                    .iter()
                    .map(|o| {
                        (
                            TopicPartition::new(o.topic.clone(), o.partition),
                            OffsetAndMetadata { offset: o.offset.unwrap_or(0), metadata: String::new() },
                        )
                    })
                    .collect();
                self.commit(group, -1, String::new(), None, offsets)
            }
            _ => error(client_error("IllegalArgumentException", "not an admin call")),
        }
    }

    fn commit(
        &mut self,
        group: &str,
        generation: i32,
        member: String,
        instance: Option<String>,
        offsets: Vec<(TopicPartition, OffsetAndMetadata)>,
    ) -> ClientReply {
        self.commit_as(group, generation, member, instance, offsets, false)
    }

    /// An OffsetCommit, or a TxnOffsetCommit when `transactional`.
    fn commit_as(
        &mut self,
        group: &str,
        generation: i32,
        member: String,
        instance: Option<String>,
        offsets: Vec<(TopicPartition, OffsetAndMetadata)>,
        transactional: bool,
    ) -> ClientReply {
        let conn = self.next_conn;
        self.next_conn += 1;
        let request = OffsetCommitRequest {
            group_id: group.to_string(),
            generation_id: generation,
            member_id: member,
            group_instance_id: instance,
            offsets,
        };
        let deliveries = if transactional {
            self.coordinator.txn_offset_commit(self.now, conn, request)
        } else {
            self.coordinator.offset_commit(self.now, conn, request)
        };
        for d in deliveries {
            if let GroupResponse::OffsetCommit { partitions } = d.response {
                if let Some(code) = partitions.iter().find_map(|(_, e)| *e) {
                    return error(code_error(code));
                }
            }
        }
        ClientReply::Done
    }

    fn producer(&mut self, call: &ClientCall) -> ClientReply {
        let now = self.now;
        match call {
            ClientCall::NewProducer { producer, properties } => {
                let config = match producer_config(properties) {
                    Ok(c) => c,
                    Err(e) => return error(e),
                };
                let seed = self.seed.wrapping_add(self.producers.len() as u64 + 1);
                match KafkaProducer::new(config, seed) {
                    Ok(client) => {
                        self.producers.insert(
                            producer.clone(),
                            Producer {
                                client,
                                pending: Vec::new(),
                                results: BTreeMap::new(),
                                txn_groups: BTreeMap::new(),
                            },
                        );
                        ClientReply::Done
                    }
                    Err(e) => error(producer_error(&e)),
                }
            }
            ClientCall::Send { producer, record, get } => {
                let Some(p) = self.producers.get_mut(producer) else {
                    return error(client_error(
                        "IllegalStateException",
                        "Cannot perform operation after producer has been closed",
                    ));
                };
                let r = ProducerRecord {
                    topic: record.topic.clone(),
                    partition: record.partition,
                    timestamp: record.timestamp,
                    key: record.key.as_ref().map(|k| k.as_bytes().to_vec()),
                    value: record.value.as_ref().map(|v| v.as_bytes().to_vec()),
                    headers: record
                        .headers
                        .iter()
                        .map(|(k, v)| Header {
                            key: k.clone(),
                            value: v.as_ref().map(|v| v.as_bytes().to_vec()),
                        })
                        .collect(),
                };
                match p.client.send(&mut self.cluster, now, r) {
                    Ok(id) => {
                        p.pending.push((id, record.topic.clone()));
                        if !get {
                            return ClientReply::Done;
                        }
                        let name = producer.clone();
                        self.advance_until(300_000, |s| {
                            s.producers.get(&name).is_none_or(|p| p.results.contains_key(&id))
                        });
                        let p = self.producers.get_mut(producer).expect("still open");
                        p.pending.retain(|(i, _)| *i != id);
                        match p.results.remove(&id) {
                            Some(SendOutcome { error: Some(e), .. }) => error(e),
                            Some(mut o) => {
                                o.topic = record.topic.clone();
                                ClientReply::Sent { outcome: o }
                            }
                            None => error(client_error(
                                "TimeoutException",
                                "the engine gave no answer within 300 s",
                            )),
                        }
                    }
                    Err(e) => error(producer_error(&e)),
                }
            }
            ClientCall::Flush { producer } => {
                if let Some(p) = self.producers.get_mut(producer) {
                    p.client.flush(&mut self.cluster, now);
                }
                self.wait_sends(producer);
                self.outcomes(producer)
            }
            ClientCall::CloseProducer { producer, timeout_ms } => {
                // A forced close (zero timeout) sends nothing more and leaves an open transaction to the
                // coordinator's timeout; a graceful one sends what is queued, then aborts an open
                // transaction (the Java client's sender does so at shutdown).
                if *timeout_ms != Some(0) {
                    if let Some(p) = self.producers.get_mut(producer) {
                        p.client.flush(&mut self.cluster, now);
                    }
                    self.wait_sends(producer);
                    let at = self.now;
                    if let Some(p) = self.producers.get_mut(producer) {
                        if p.client.in_transaction()
                            && p.client.abort_transaction(&mut self.cluster, at).is_ok()
                        {
                            let name = producer.clone();
                            self.advance_until(300_000, |s| {
                                s.producers.get(&name).is_none_or(|p| p.client.unanswered() == 0)
                            });
                        }
                    }
                }
                let reply = self.outcomes(producer);
                self.producers.remove(producer);
                reply
            }
            ClientCall::SendOffsetsToTransaction { producer, offsets, consumer, group } => {
                // `consumer.groupMetadata()` carries the member's generation and id; a
                // `new ConsumerGroupMetadata(group)` none (generation -1, no member id).
                let (group, identity) = match (consumer, group) {
                    (Some(c), _) => match self.consumers.get(c) {
                        Some(c) => {
                            let generation = if c.client.config().group_protocol == GroupProtocol::Consumer {
                                c.client.member_epoch()
                            } else {
                                c.client.generation()
                            };
                            let member = c.client.member_id().to_string();
                            (
                                c.group.clone(),
                                (generation, member, c.client.config().group_instance_id.clone()),
                            )
                        }
                        None => (None, (-1, String::new(), None)),
                    },
                    (None, g) => (g.clone(), (-1, String::new(), None)),
                };
                let Some(group) = group else {
                    return error(client_error(
                        "InvalidGroupIdException",
                        "To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.",
                    ));
                };
                let offsets = offsets
                    .iter()
                    .map(|o| {
                        (
                            TopicPartition::new(o.topic.clone(), o.partition),
                            OffsetAndMetadata { offset: o.offset.unwrap_or(0), metadata: String::new() },
                        )
                    })
                    .collect();
                let reply =
                    self.with_producer(producer, |p, _, _| p.send_offsets_to_transaction(&group, offsets));
                if reply == ClientReply::Done {
                    if let Some(p) = self.producers.get_mut(producer) {
                        p.txn_groups.insert(group, identity);
                    }
                }
                reply
            }
            ClientCall::InitTransactions { producer } => {
                self.with_producer(producer, |p, c, at| p.init_transactions(c, at))
            }
            ClientCall::BeginTransaction { producer } => {
                self.with_producer(producer, |p, _, _| p.begin_transaction())
            }
            ClientCall::CommitTransaction { producer } | ClientCall::AbortTransaction { producer } => {
                let commit = matches!(call, ClientCall::CommitTransaction { .. });
                let r = self.with_producer(producer, |p, c, at| {
                    if commit {
                        p.commit_transaction(c, at)
                    } else {
                        p.abort_transaction(c, at)
                    }
                });
                if matches!(r, ClientReply::Error { .. }) {
                    return r;
                }
                let name = producer.clone();
                self.advance_until(300_000, |s| {
                    s.producers.get(&name).is_none_or(|p| {
                        p.client.unanswered() == 0
                            && p.pending.iter().all(|(id, _)| p.results.contains_key(id))
                    })
                });
                // A committed transaction's offsets become its groups' committed offsets now.
                let mut commits = Vec::new();
                if let Some(p) = self.producers.get_mut(producer) {
                    let groups = std::mem::take(&mut p.txn_groups);
                    for o in p.client.take_transaction_outcomes() {
                        let mut by_group: BTreeMap<String, Vec<(TopicPartition, OffsetAndMetadata)>> =
                            BTreeMap::new();
                        for (g, tp, om) in o.offsets {
                            by_group.entry(g).or_default().push((tp, om));
                        }
                        for (g, offsets) in by_group {
                            let identity = groups.get(&g).cloned().unwrap_or((-1, String::new(), None));
                            commits.push((g, identity, offsets));
                        }
                    }
                }
                for (g, (generation, member, instance), offsets) in commits {
                    if let ClientReply::Error { error } =
                        self.commit_as(&g, generation, member, instance, offsets, true)
                    {
                        return ClientReply::Error { error };
                    }
                }
                self.outcomes(producer)
            }
            _ => error(client_error("IllegalArgumentException", "not a producer call")),
        }
    }

    fn with_producer(
        &mut self,
        producer: &str,
        f: impl FnOnce(&mut KafkaProducer, &mut Cluster, VirtualTime) -> Result<(), ProducerError>,
    ) -> ClientReply {
        let now = self.now;
        let Some(p) = self.producers.get_mut(producer) else {
            return error(client_error(
                "IllegalStateException",
                "Cannot perform operation after producer has been closed",
            ));
        };
        match f(&mut p.client, &mut self.cluster, now) {
            Ok(()) => ClientReply::Done,
            Err(e) => error(producer_error(&e)),
        }
    }

    fn new_consumer(&mut self, name: &str, props: &[(String, String)]) -> Result<(), ClientError> {
        let group = prop(props, "group.id").map(String::from);
        let instance_id = prop(props, "group.instance.id").map(String::from);
        // The Java client's default client.id: consumer-<group>-<instance id or a JVM-wide sequence>.
        let client_id = match prop(props, "client.id") {
            Some(c) => c.to_string(),
            None => {
                let suffix = match &instance_id {
                    Some(i) => i.clone(),
                    None => {
                        let n = self.client_id_sequence;
                        self.client_id_sequence += 1;
                        n.to_string()
                    }
                };
                format!("consumer-{}-{suffix}", group.as_deref().unwrap_or("null"))
            }
        };
        let mut config = ConsumerConfig::new(&client_id, group.as_deref());
        config.group_instance_id = instance_id;
        config.auto_offset_reset = match prop(props, "auto.offset.reset") {
            None | Some("latest") => AutoOffsetReset::Latest,
            Some("earliest") => AutoOffsetReset::Earliest,
            Some("none") => AutoOffsetReset::None,
            Some(v) => return Err(bad_config("auto.offset.reset", v)),
        };
        if let Some(v) = prop(props, "enable.auto.commit") {
            config.enable_auto_commit = group.is_some() && v == "true";
        }
        if let Some(v) = num(props, "auto.commit.interval.ms")? {
            config.auto_commit_interval_ms = v;
        }
        if let Some(v) = num(props, "max.poll.records")? {
            config.max_poll_records = v;
        }
        if let Some(v) = num(props, "session.timeout.ms")? {
            config.session_timeout_ms = v;
        }
        // As the real side's driver: 300 ms unless the program sets it (rebalances finish sooner).
        config.heartbeat_interval_ms = num(props, "heartbeat.interval.ms")?.unwrap_or(300);
        if let Some(v) = num(props, "max.poll.interval.ms")? {
            config.max_poll_interval_ms = v;
        }
        if let Some(v) = prop(props, "partition.assignment.strategy") {
            let mut assignors = Vec::new();
            for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                assignors.push(
                    ClientAssignor::from_name(name)
                        .ok_or_else(|| bad_config("partition.assignment.strategy", v))?,
                );
            }
            config.assignors = assignors;
        }
        config.isolation_level = match prop(props, "isolation.level") {
            None | Some("read_uncommitted") => IsolationLevel::ReadUncommitted,
            Some("read_committed") => IsolationLevel::ReadCommitted,
            Some(v) => return Err(bad_config("isolation.level", v)),
        };
        if let Some(v) = prop(props, "group.remote.assignor") {
            config.group_remote_assignor = Some(v.to_string());
        }
        // The Java client sends no rack for an empty client.rack (its default).
        config.client_rack = prop(props, "client.rack").filter(|r| !r.is_empty()).map(String::from);
        if let Some(v) = prop(props, "group.protocol") {
            config.group_protocol = match v {
                "classic" => GroupProtocol::Classic,
                "consumer" => GroupProtocol::Consumer,
                _ => return Err(bad_config("group.protocol", v)),
            };
        }
        let conn = self.next_conn;
        self.next_conn += 1;
        let max_poll_records = config.max_poll_records;
        let isolation = config.isolation_level;
        self.consumers.insert(
            name.to_string(),
            Consumer {
                client: KafkaConsumer::new(config, conn),
                group,
                isolation,
                max_poll_records,
                subscribed: false,
                polled_since_subscribe: false,
                buffer: Vec::new(),
            },
        );
        Ok(())
    }

    /// Runs `f` on consumer `name` with the model around it.
    fn with_consumer<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut KafkaConsumer, VirtualTime, &mut ConsumerEnv<'_>) -> T,
    ) -> T {
        let now = self.now;
        let EngineClients { consumers, coordinator, mailbox, cluster, .. } = self;
        let c = consumers.get_mut(name).expect("a consumer the parser declared");
        let mut env = ConsumerEnv { coordinator, mailbox, reader: cluster };
        f(&mut c.client, now, &mut env)
    }

    /// The group's members in this program that take part in a rebalance `name` starts: the subscribed
    /// consumers of its group that have polled (joined), and itself.
    fn group_members(&self, name: &str) -> Vec<String> {
        let group = self.consumers[name].group.clone();
        self.consumers
            .iter()
            .filter(|(n, c)| {
                c.group == group && c.subscribed && (c.polled_since_subscribe || n.as_str() == name)
            })
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Whether `name` has caught up: in its group's current generation with the other members here, at
    /// the end of every assigned, unpaused partition.
    fn caught_up(&mut self, name: &str) -> bool {
        let c = &self.consumers[name];
        if c.subscribed {
            let consumer_protocol = c.client.config().group_protocol == GroupProtocol::Consumer;
            let generation = if consumer_protocol { c.client.member_epoch() } else { c.client.generation() };
            if generation <= 0 && (generation < 0 || consumer_protocol) {
                return false;
            }
            if let Some(group) = &c.group {
                // The group's kind decides, not the member's protocol: after an online upgrade (KIP-848)
                // a classic member lives in a consumer group, and after a downgrade the reverse.
                let stable = match self.coordinator.consumer_groups().group(group) {
                    Some(g) if !g.members.is_empty() => {
                        g.state() == crate::kafka::group::ConsumerGroupState::Stable
                    }
                    _ => {
                        self.coordinator.describe_group(group).state
                            == crate::kafka::group::ClassicGroupState::Stable
                    }
                };
                if !stable {
                    return false;
                }
            }
            // Each member's generation in its own protocol: the member epoch with the consumer protocol,
            // the generation (the member epoch inside a consumer group) with the classic one.
            let epoch = |c: &Consumer| {
                if c.client.config().group_protocol == GroupProtocol::Consumer {
                    c.client.member_epoch()
                } else {
                    c.client.generation()
                }
            };
            let mine = epoch(c);
            if self.group_members(name).iter().any(|m| epoch(&self.consumers[m]) != mine) {
                return false;
            }
        }
        let paused = c.client.paused();
        let isolation = c.isolation;
        let parts: Vec<TopicPartition> =
            c.client.assignment().into_iter().filter(|p| !paused.contains(p)).collect();
        for p in parts {
            let end = self.cluster.list_offset(&p, OffsetSpec::Latest, isolation).ok().flatten().unwrap_or(0);
            match self.with_consumer(name, |c, _, env| c.position(&p, env)) {
                Ok(position) if position >= end => {}
                _ => return false,
            }
        }
        true
    }

    fn poll(&mut self, name: &str) -> ClientReply {
        self.consumers.get_mut(name).expect("exists").polled_since_subscribe = true;
        let mut got = std::mem::take(&mut self.consumers.get_mut(name).expect("exists").buffer);
        let max = self.consumers[name].max_poll_records;
        let end = self.now.plus_millis(20_000);
        loop {
            let result = match self.with_consumer(name, |c, at, env| c.poll(at, 0, env)) {
                Ok(r) => r,
                Err(e) => return error(consumer_error(&e)),
            };
            let empty = result.records.is_empty();
            got.extend(result.records.iter().map(received));
            // The group's other members poll in their own loops meanwhile; what they get waits for them.
            for other in self.group_members(name) {
                if other != name {
                    if let Ok(r) = self.with_consumer(&other, |c, at, env| c.poll(at, 0, env)) {
                        let records: Vec<Received> = r.records.iter().map(received).collect();
                        self.consumers.get_mut(&other).expect("exists").buffer.extend(records);
                    }
                }
            }
            if got.len() >= max || (empty && self.caught_up(name)) || self.now >= end {
                break;
            }
            let t = self.now.plus_millis(10);
            self.advance(t);
        }
        ClientReply::Records { records: got }
    }

    fn consumer(&mut self, call: &ClientCall) -> ClientReply {
        let name = match call {
            ClientCall::Subscribe { consumer, .. }
            | ClientCall::Assign { consumer, .. }
            | ClientCall::Unsubscribe { consumer }
            | ClientCall::Poll { consumer, .. }
            | ClientCall::CommitSync { consumer, .. }
            | ClientCall::CommitAsync { consumer }
            | ClientCall::Seek { consumer, .. }
            | ClientCall::SeekToBeginning { consumer, .. }
            | ClientCall::SeekToEnd { consumer, .. }
            | ClientCall::Position { consumer, .. }
            | ClientCall::OffsetsForTimes { consumer, .. }
            | ClientCall::SeekToTimestamp { consumer, .. }
            | ClientCall::Committed { consumer, .. }
            | ClientCall::Pause { consumer, .. }
            | ClientCall::Resume { consumer, .. }
            | ClientCall::Assignment { consumer }
            | ClientCall::GroupMetadata { consumer }
            | ClientCall::CloseConsumer { consumer } => consumer.clone(),
            _ => return error(client_error("IllegalArgumentException", "not a consumer call")),
        };
        // Its constructor threw (a bad config): in Java the variable was never assigned.
        if !self.consumers.contains_key(&name) {
            return error(client_error(
                "NullPointerException",
                format!("'{name}' is null: its KafkaConsumer constructor threw"),
            ));
        }
        let tps = |list: &[Tp]| list.iter().map(tp).collect::<Vec<_>>();
        let done = |r: Result<(), ConsumerError>| match r {
            Ok(()) => ClientReply::Done,
            Err(e) => error(consumer_error(&e)),
        };
        match call {
            ClientCall::Subscribe { topics, .. } => {
                let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
                let r = self.with_consumer(&name, |c, _, _| c.subscribe(&topics));
                if r.is_ok() {
                    let c = self.consumers.get_mut(&name).expect("exists");
                    c.subscribed = true;
                    c.polled_since_subscribe = false;
                }
                done(r)
            }
            ClientCall::Assign { partitions, .. } => {
                let parts = tps(partitions);
                let r = self.with_consumer(&name, |c, _, _| c.assign(&parts));
                if r.is_ok() {
                    self.consumers.get_mut(&name).expect("exists").subscribed = false;
                }
                done(r)
            }
            ClientCall::Unsubscribe { .. } => error(client_error(
                "UnsupportedOperationException",
                "the engine's KafkaConsumer has no unsubscribe yet",
            )),
            ClientCall::Poll { .. } => self.poll(&name),
            ClientCall::CommitSync { offsets, .. } => {
                let offsets = offsets.as_ref().map(|list| {
                    list.iter()
                        .map(|o| {
                            (
                                TopicPartition::new(o.topic.clone(), o.partition),
                                OffsetAndMetadata { offset: o.offset.unwrap_or(0), metadata: String::new() },
                            )
                        })
                        .collect()
                });
                done(self.with_consumer(&name, |c, at, env| c.commit_sync(at, offsets, env)))
            }
            ClientCall::CommitAsync { .. } => {
                done(self.with_consumer(&name, |c, at, env| c.commit_async(at, env)))
            }
            ClientCall::Seek { partition, offset, .. } => {
                let p = tp(partition);
                done(self.with_consumer(&name, |c, _, _| c.seek(&p, *offset)))
            }
            ClientCall::SeekToBeginning { partitions, .. } => {
                let parts = tps(partitions);
                done(self.with_consumer(&name, |c, _, _| c.seek_to_beginning(&parts)))
            }
            ClientCall::SeekToEnd { partitions, .. } => {
                let parts = tps(partitions);
                done(self.with_consumer(&name, |c, _, _| c.seek_to_end(&parts)))
            }
            ClientCall::OffsetsForTimes { query, .. } => {
                let q: Vec<(TopicPartition, i64)> = query.iter().map(|(p, ts)| (tp(p), *ts)).collect();
                match self.with_consumer(&name, |c, _, env| c.offsets_for_times(&q, env)) {
                    Ok(list) => {
                        let mut offsets: Vec<PartitionOffset> = list
                            .into_iter()
                            .map(|(p, o)| PartitionOffset {
                                topic: p.topic.to_string(),
                                partition: p.partition,
                                offset: o,
                            })
                            .collect();
                        offsets.sort();
                        ClientReply::Offsets { offsets }
                    }
                    Err(e) => error(consumer_error(&e)),
                }
            }
            ClientCall::SeekToTimestamp { partition, timestamp, .. } => {
                let p = tp(partition);
                let q = [(p.clone(), *timestamp)];
                match self.with_consumer(&name, |c, _, env| c.offsets_for_times(&q, env)) {
                    Ok(list) => match list.first().and_then(|(_, o)| *o) {
                        Some(offset) => done(self.with_consumer(&name, |c, _, _| c.seek(&p, offset))),
                        // What the Java idiom throws when no record is that new (Java 17's message).
                        None => error(client_error("NullPointerException", SEEK_TO_TIMESTAMP_NPE)),
                    },
                    Err(e) => error(consumer_error(&e)),
                }
            }
            ClientCall::Position { partition, .. } => {
                let p = tp(partition);
                match self.with_consumer(&name, |c, _, env| c.position(&p, env)) {
                    Ok(o) => ClientReply::Offset { offset: Some(o) },
                    Err(e) => error(consumer_error(&e)),
                }
            }
            ClientCall::Committed { partitions, .. } => {
                let parts = tps(partitions);
                match self.with_consumer(&name, |c, _, env| c.committed(&parts, env)) {
                    Ok(list) => {
                        let mut offsets: Vec<PartitionOffset> = list
                            .into_iter()
                            .map(|(p, o)| PartitionOffset {
                                topic: p.topic.into(),
                                partition: p.partition,
                                offset: o.map(|o| o.offset),
                            })
                            .collect();
                        offsets.sort();
                        ClientReply::Offsets { offsets }
                    }
                    Err(e) => error(consumer_error(&e)),
                }
            }
            ClientCall::Pause { partitions, .. } => {
                let parts = tps(partitions);
                done(self.with_consumer(&name, |c, _, _| c.pause(&parts)))
            }
            ClientCall::Resume { partitions, .. } => {
                let parts = tps(partitions);
                done(self.with_consumer(&name, |c, _, _| c.resume(&parts)))
            }
            ClientCall::Assignment { .. } => {
                let mut partitions: Vec<Tp> = self.consumers[&name]
                    .client
                    .assignment()
                    .into_iter()
                    .map(|p| Tp { topic: p.topic.into(), partition: p.partition })
                    .collect();
                partitions.sort();
                ClientReply::Partitions { partitions }
            }
            ClientCall::GroupMetadata { .. } => {
                let c = &self.consumers[&name];
                let Some(group) = c.group.clone() else {
                    return error(client_error(
                        "InvalidGroupIdException",
                        "To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.",
                    ));
                };
                let consumer_protocol = c.client.config().group_protocol == GroupProtocol::Consumer;
                // The Java client reports -1 until the first heartbeat gives it an epoch.
                let generation_id = match (consumer_protocol, c.client.member_epoch()) {
                    (true, 0) => -1,
                    (true, epoch) => epoch,
                    (false, _) => c.client.generation(),
                };
                ClientReply::GroupMetadata {
                    group_id: group,
                    generation_id,
                    member_id: c.client.member_id().to_string(),
                    instance_id: c.client.config().group_instance_id.clone(),
                }
            }
            ClientCall::CloseConsumer { .. } => {
                self.with_consumer(&name, |c, at, env| c.close(at, env));
                let c = self.consumers.get_mut(&name).expect("exists");
                c.subscribed = false;
                ClientReply::Done
            }
            _ => error(client_error("IllegalArgumentException", "not a consumer call")),
        }
    }
}

/// Java 17's helpful message for the seek-by-timestamp idiom when `offsetsForTimes` found no record.
const SEEK_TO_TIMESTAMP_NPE: &str = "Cannot invoke \"org.apache.kafka.clients.consumer.OffsetAndTimestamp.offset()\" because the return value of \"java.util.Map.get(Object)\" is null";

impl EngineClients {
    fn share(&mut self, call: &ClientCall) -> ClientReply {
        let now = self.now;
        match call {
            ClientCall::NewShareConsumer { share, properties } => {
                let Some(group) = prop(properties, "group.id") else {
                    return error(client_error(
                        "InvalidGroupIdException",
                        "The configured group.id should not be null or empty.",
                    ));
                };
                let explicit = match prop(properties, "share.acknowledgement.mode") {
                    None | Some("implicit") => false,
                    Some("explicit") => true,
                    Some(v) => return error(bad_config("share.acknowledgement.mode", v)),
                };
                // The broker gives a member id; the transcript never shows it.
                let member = format!("share-member-{}", self.next_conn);
                self.next_conn += 1;
                let mut client = KafkaShareConsumer::new(group, &member, explicit);
                match num::<usize>(properties, "max.poll.records") {
                    Ok(Some(n)) => client.set_max_poll_records(n),
                    Ok(None) => {}
                    Err(e) => return error(e),
                }
                self.share_consumers.insert(
                    share.clone(),
                    ShareConsumer {
                        client,
                        explicit,
                        last: Vec::new(),
                        ack_error: None,
                        subscribed: false,
                        closed: false,
                    },
                );
                ClientReply::Done
            }
            ClientCall::ShareSubscribe { share, .. }
            | ClientCall::SharePoll { share, .. }
            | ClientCall::ShareAcknowledge { share, .. }
            | ClientCall::ShareCommitSync { share }
            | ClientCall::ShareClose { share } => {
                let Some(c) = self.share_consumers.get_mut(share) else {
                    return error(client_error("IllegalStateException", "no such share consumer"));
                };
                if c.closed {
                    return error(client_error(
                        "IllegalStateException",
                        "This consumer has already been closed.",
                    ));
                }
                match call {
                    ClientCall::ShareSubscribe { topics, .. } => {
                        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
                        c.client.subscribe(&names);
                        c.subscribed = true;
                        ClientReply::Done
                    }
                    ClientCall::SharePoll { timeout_ms, .. } => {
                        if c.explicit && !c.last.is_empty() {
                            return error(client_error(
                                "IllegalStateException",
                                "All records must be acknowledged in explicit acknowledgement mode.",
                            ));
                        }
                        if !c.subscribed {
                            return error(client_error(
                                "IllegalStateException",
                                "Consumer is not subscribed to any topics.",
                            ));
                        }
                        let name = share.clone();
                        let end = now.plus_millis(u64::try_from(*timeout_ms).unwrap_or(0));
                        loop {
                            let EngineClients { share_consumers, shares, cluster, .. } = self;
                            let c = share_consumers.get_mut(&name).expect("exists");
                            let got = match c.client.poll(self.now, shares, cluster) {
                                Ok(r) => r,
                                Err(e) => return error(kafka_error(&e)),
                            };
                            if !got.is_empty() {
                                let records = got
                                    .iter()
                                    .map(|a| Received {
                                        delivery_count: Some(a.delivery_count),
                                        ..received(&a.record)
                                    })
                                    .collect();
                                c.last = got.into_iter().map(|a| a.record).collect();
                                return ClientReply::Records { records };
                            }
                            if self.now >= end {
                                return ClientReply::Records { records: Vec::new() };
                            }
                            let t = self.now.plus_millis(10).min(end);
                            self.advance(t);
                        }
                    }
                    ClientCall::ShareAcknowledge { kind, .. } => {
                        let kind = match kind.as_str() {
                            "ACCEPT" => AcknowledgeType::Accept,
                            "RELEASE" => AcknowledgeType::Release,
                            _ => AcknowledgeType::Reject,
                        };
                        if !c.explicit {
                            return error(client_error(
                                "IllegalStateException",
                                "Implicit acknowledgement of delivery is being used.",
                            ));
                        }
                        for r in std::mem::take(&mut c.last) {
                            // A lock that expired meanwhile: the broker refuses it when the commit sends it
                            // (the record was released already).
                            if let Err(e) = c.client.acknowledge(now, &r, kind, &mut self.shares) {
                                c.ack_error.get_or_insert(kafka_error(&e));
                            }
                        }
                        ClientReply::Done
                    }
                    ClientCall::ShareCommitSync { .. } => match c.ack_error.take() {
                        Some(e) => error(e),
                        None => ClientReply::Done,
                    },
                    _ => {
                        c.client.close(now, &mut self.shares);
                        c.closed = true;
                        c.last.clear();
                        ClientReply::Done
                    }
                }
            }
            _ => error(client_error("IllegalArgumentException", "not a share consumer call")),
        }
    }
}

fn consumer_error(e: &ConsumerError) -> ClientError {
    match e {
        ConsumerError::Kafka(k) => kafka_error(k),
        ConsumerError::Client { exception, message } => client_error(exception, message.clone()),
    }
}

fn received(r: &crate::kafka::ConsumerRecord) -> Received {
    Received {
        topic: r.partition.topic.to_string(),
        partition: r.partition.partition,
        offset: r.offset,
        key: r.key.as_ref().map(|k| String::from_utf8_lossy(k).into_owned()),
        value: r.value.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()),
        headers: r
            .headers
            .iter()
            .map(|h| (h.key.clone(), h.value.as_ref().map(|v| String::from_utf8_lossy(v).into_owned())))
            .collect(),
        delivery_count: None,
    }
}

impl KafkaClients for EngineClients {
    fn call(&mut self, call: &ClientCall) -> ClientReply {
        let reply = match call {
            ClientCall::Sleep { ms } => {
                let t = self.now.plus_millis(u64::try_from(*ms).unwrap_or(0));
                self.advance(t);
                ClientReply::Done
            }
            ClientCall::StopBroker { node }
            | ClientCall::StartBroker { node }
            | ClientCall::KillBroker { node }
            | ClientCall::PauseBroker { node }
            | ClientCall::ResumeBroker { node } => {
                let now = self.now;
                let node = NodeId(*node);
                let result = match call {
                    ClientCall::StopBroker { .. } => self.cluster.broker_down(now, node),
                    ClientCall::KillBroker { .. } => self.cluster.broker_crash(now, node),
                    ClientCall::PauseBroker { .. } => self.cluster.broker_pause(now, node),
                    ClientCall::ResumeBroker { .. } => self.cluster.broker_resume(now, node),
                    _ => self.cluster.broker_up(now, node),
                };
                match result {
                    Ok(()) => ClientReply::Done,
                    Err(e) => error(kafka_error(&e)),
                }
            }
            ClientCall::NewAdmin { admin, .. } => {
                self.admins.insert(admin.clone());
                ClientReply::Done
            }
            ClientCall::NewConsumer { consumer, properties } => match self.new_consumer(consumer, properties)
            {
                Ok(()) => ClientReply::Done,
                Err(e) => error(e),
            },
            ClientCall::CreateTopics { .. }
            | ClientCall::DeleteTopics { .. }
            | ClientCall::CreatePartitions { .. }
            | ClientCall::DescribeTopics { .. }
            | ClientCall::DescribeCluster { .. }
            | ClientCall::IncrementalAlterConfigs { .. }
            | ClientCall::AlterGroupConfigs { .. }
            | ClientCall::DescribeConfigs { .. }
            | ClientCall::DeleteRecords { .. }
            | ClientCall::ListOffsets { .. }
            | ClientCall::ListConsumerGroupOffsets { .. }
            | ClientCall::DescribeConsumerGroups { .. }
            | ClientCall::DeleteConsumerGroups { .. }
            | ClientCall::DeleteConsumerGroupOffsets { .. }
            | ClientCall::AlterConsumerGroupOffsets { .. }
            | ClientCall::ElectLeaders { .. } => self.admin(call),
            ClientCall::NewProducer { .. }
            | ClientCall::Send { .. }
            | ClientCall::Flush { .. }
            | ClientCall::InitTransactions { .. }
            | ClientCall::BeginTransaction { .. }
            | ClientCall::CommitTransaction { .. }
            | ClientCall::AbortTransaction { .. }
            | ClientCall::SendOffsetsToTransaction { .. }
            | ClientCall::CloseProducer { .. } => self.producer(call),
            ClientCall::NewShareConsumer { .. }
            | ClientCall::ShareSubscribe { .. }
            | ClientCall::SharePoll { .. }
            | ClientCall::ShareAcknowledge { .. }
            | ClientCall::ShareCommitSync { .. }
            | ClientCall::ShareClose { .. } => self.share(call),
            _ => self.consumer(call),
        };
        // A statement takes a moment: the next one runs a millisecond later.
        let t = self.now.plus_millis(1);
        self.advance(t);
        reply
    }
}
