//! The engine's side of the program seam: [`EngineClients`] runs each client call on the Kafka model —
//! a [`Cluster`] (topics, logs, replication), [`KafkaProducer`]s, the classic [`GroupCoordinator`] — on
//! virtual time, so a program's transcript can be compared with the one a real Kafka gives through the
//! Java client (`real_broker::kafka`).
//!
//! Consumers here are the program's consumers, written over the model's seams (`PartitionReader` for
//! fetches and list-offsets, the coordinator's JoinGroup/SyncGroup/OffsetCommit/OffsetFetch/LeaveGroup,
//! the assignors for the group leader's part): positions per assigned partition, `auto.offset.reset`,
//! `max.poll.records`, pause/resume, eager rebalances. A poll means what `docs/kafka-programs.md` says:
//! the records the consumer gets until it has caught up; the group's other members that have polled
//! rejoin within the same statement, as they do on a real Kafka while the driver polls them.
//!
//! Time: a statement runs at the current virtual instant; `Thread.sleep` and the waits a call implies
//! (a send's `.get()` until its batch is answered, a flush) advance it, firing the cluster's, the
//! producers' and the coordinator's timers in order.
//!
//! Invariants: every consumer's positions are for partitions it is assigned; a subscribed consumer's
//! assignment is the one its last SyncGroup gave; the cluster's invariants hold after every call (checked
//! by the golden test).

use super::client::{
    ClientCall, ClientError, ClientReply, GroupInfo, KafkaClients, MemberInfo, OffsetQuery, PartitionInfo,
    PartitionOffset, Received, SendOutcome, TopicInfo, Tp,
};
use crate::clock::VirtualTime;
use crate::kafka::cluster::{Acks, AlterConfigOp, Cluster, ClusterSettings, NewTopic};
use crate::kafka::config::ConfigSource;
use crate::kafka::group::{
    CoordinatorConfig, GroupCoordinator, GroupResponse, JoinGroupRequest, LeaveMember, OffsetCommitRequest,
    ProtocolMetadata, SyncGroupRequest,
};
use crate::kafka::producer::{KafkaProducer, ProducerConfig, ProducerError, SendId};
use crate::kafka::{
    ClientAssignor, ErrorCode, IsolationLevel, KafkaError, MemberSubscription, NodeId, OffsetAndMetadata,
    OffsetSpec, PartitionReader, ProducerRecord, TopicPartition,
};
use std::collections::{BTreeMap, BTreeSet};

/// The Java consumer's message for a group operation without `group.id`.
const NO_GROUP_ID: &str =
    "To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.";

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
    if let Some(v) = prop(props, "enable.idempotence") {
        c.enable_idempotence = Some(v == "true");
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
}

struct Consumer {
    group: Option<String>,
    instance_id: Option<String>,
    client_id: String,
    reset: String,
    auto_commit: bool,
    max_poll_records: usize,
    isolation: IsolationLevel,
    session_timeout_ms: u64,
    rebalance_timeout_ms: u64,
    assignor: ClientAssignor,
    /// Connection id for the coordinator's responses.
    conn: u64,
    subscription: Option<Vec<String>>,
    polled_since_subscribe: bool,
    member_id: String,
    generation: i32,
    assigned: Vec<TopicPartition>,
    positions: BTreeMap<TopicPartition, i64>,
    paused: BTreeSet<TopicPartition>,
    /// Records received while another member's poll ran a rebalance, kept for this one's next poll.
    buffer: Vec<Received>,
}

/// The program seam over the engine's Kafka model.
pub struct EngineClients {
    now: VirtualTime,
    cluster: Cluster,
    coordinator: GroupCoordinator,
    seed: u64,
    admins: BTreeSet<String>,
    producers: BTreeMap<String, Producer>,
    consumers: BTreeMap<String, Consumer>,
    next_conn: u64,
    client_id_sequence: u32,
    /// Coordinator responses completed by its timers, for the rebalance waiting on them.
    deliveries: Vec<crate::kafka::group::Delivery>,
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
        let coordinator = GroupCoordinator::new(
            CoordinatorConfig { initial_rebalance_delay_ms: 0, ..CoordinatorConfig::default() },
            seed ^ 0x5eed,
        );
        EngineClients {
            now: VirtualTime::ZERO,
            cluster: {
                // As scripts/kafka-node.sh configures its broker: node id 1, retention checked every second.
                let settings =
                    ClusterSettings { log_retention_check_interval_ms: 1000, ..ClusterSettings::default() };
                let mut cluster = Cluster::new(seed, settings);
                for id in 1..=brokers.clamp(1, 9) {
                    cluster.add_broker(NodeId(id), None).expect("1 to 9 brokers fit a cluster");
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
            deliveries: Vec::new(),
        }
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
            let step = match next {
                Some(d) if d <= t => d.max(self.now),
                _ => t,
            };
            for p in self.producers.values_mut() {
                p.client.advance_to(&mut self.cluster, step);
                for r in p.client.take_results() {
                    let outcome = match &r.result {
                        Ok(m) => SendOutcome {
                            topic: m.partition.topic.clone(),
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
            self.deliveries.extend(due);
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
                    };
                    if let Err(e) = self.cluster.create_topic(now, &new) {
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
                                topic: tp.topic,
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
                                    .map(|p| Tp { topic: p.topic.clone(), partition: p.partition })
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
        let conn = self.next_conn;
        self.next_conn += 1;
        let request = OffsetCommitRequest {
            group_id: group.to_string(),
            generation_id: generation,
            member_id: member,
            group_instance_id: instance,
            offsets,
        };
        for d in self.coordinator.offset_commit(self.now, conn, request) {
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
                            Producer { client, pending: Vec::new(), results: BTreeMap::new() },
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
                    headers: Vec::new(),
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
            ClientCall::Flush { producer } | ClientCall::CloseProducer { producer } => {
                if let Some(p) = self.producers.get_mut(producer) {
                    p.client.flush(&mut self.cluster, now);
                }
                self.wait_sends(producer);
                let reply = self.outcomes(producer);
                if matches!(call, ClientCall::CloseProducer { .. }) {
                    self.producers.remove(producer);
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
                if let Some(p) = self.producers.get_mut(producer) {
                    let _ = p.client.take_transaction_outcomes();
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
        let isolation = match prop(props, "isolation.level") {
            None | Some("read_uncommitted") => IsolationLevel::ReadUncommitted,
            Some("read_committed") => IsolationLevel::ReadCommitted,
            Some(v) => return Err(bad_config("isolation.level", v)),
        };
        let reset = prop(props, "auto.offset.reset").unwrap_or("latest").to_string();
        if !["earliest", "latest", "none"].contains(&reset.as_str()) {
            return Err(bad_config("auto.offset.reset", &reset));
        }
        let assignor = match prop(props, "partition.assignment.strategy") {
            None => ClientAssignor::Range,
            Some(v) => ClientAssignor::from_name(v.split(',').next().unwrap_or("").trim())
                .ok_or_else(|| bad_config("partition.assignment.strategy", v))?,
        };
        let conn = self.next_conn;
        self.next_conn += 1;
        let consumer = Consumer {
            auto_commit: group.is_some() && prop(props, "enable.auto.commit") != Some("false"),
            group,
            instance_id,
            client_id,
            reset,
            max_poll_records: num(props, "max.poll.records")?.unwrap_or(500),
            isolation,
            session_timeout_ms: num(props, "session.timeout.ms")?.unwrap_or(45_000),
            rebalance_timeout_ms: num(props, "max.poll.interval.ms")?.unwrap_or(300_000),
            assignor,
            conn,
            subscription: None,
            polled_since_subscribe: false,
            member_id: String::new(),
            generation: -1,
            assigned: Vec::new(),
            positions: BTreeMap::new(),
            paused: BTreeSet::new(),
            buffer: Vec::new(),
        };
        self.consumers.insert(name.to_string(), consumer);
        Ok(())
    }

    /// The committed offset of `tp` for the consumer's group.
    fn committed_offset(&self, name: &str, p: &TopicPartition) -> Option<i64> {
        let c = &self.consumers[name];
        let group = c.group.as_ref()?;
        self.coordinator
            .offset_fetch(group, std::slice::from_ref(p))
            .ok()?
            .into_iter()
            .next()?
            .1
            .map(|o| o.offset)
    }

    /// Gives every assigned partition without a position one: the committed offset, else the reset policy.
    fn fill_positions(&mut self, name: &str) -> Result<(), ClientError> {
        let assigned = self.consumers[name].assigned.clone();
        let mut missing = Vec::new();
        for p in &assigned {
            if self.consumers[name].positions.contains_key(p) {
                continue;
            }
            let position = match self.committed_offset(name, p) {
                Some(o) => Some(o),
                None => self.reset_position(name, p),
            };
            match position {
                Some(o) => {
                    self.consumers.get_mut(name).expect("exists").positions.insert(p.clone(), o);
                }
                None => missing.push(p.to_string()),
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(client_error(
                "NoOffsetForPartitionException",
                format!("Undefined offset with no reset policy for partitions: [{}]", missing.join(", ")),
            ))
        }
    }

    fn reset_position(&self, name: &str, p: &TopicPartition) -> Option<i64> {
        let c = &self.consumers[name];
        let spec = match c.reset.as_str() {
            "earliest" => OffsetSpec::Earliest,
            "latest" => OffsetSpec::Latest,
            _ => return None,
        };
        self.cluster.list_offset(p, spec, c.isolation).ok().flatten()
    }

    /// Fetches for `name` from its positions, up to `max` records.
    fn fetch(&mut self, name: &str, max: usize) -> Result<Vec<Received>, ClientError> {
        self.fill_positions(name)?;
        let c = &self.consumers[name];
        let parts: Vec<(TopicPartition, i64)> = c
            .assigned
            .iter()
            .filter(|p| !c.paused.contains(*p))
            .filter_map(|p| c.positions.get(p).map(|o| (p.clone(), *o)))
            .collect();
        let isolation = c.isolation;
        let mut out = Vec::new();
        for (p, position) in parts {
            if out.len() >= max {
                break;
            }
            let records = match self.cluster.fetch(self.now, &p, position, max - out.len(), isolation) {
                Ok(r) => r,
                Err(e) if e.code == ErrorCode::OffsetOutOfRange => {
                    match self.reset_position(name, &p) {
                        Some(o) => {
                            self.consumers.get_mut(name).expect("exists").positions.insert(p.clone(), o);
                            self.cluster.fetch(self.now, &p, o, max - out.len(), isolation).map_err(|e| kafka_error(&e))?
                        }
                        None => return Err(client_error("OffsetOutOfRangeException", format!("Fetch position FetchPosition{{offset={position}}} is out of range for partition {p}"))),
                    }
                }
                Err(e) => return Err(kafka_error(&e)),
            };
            let end = self.cluster.list_offset(&p, OffsetSpec::Latest, isolation).ok().flatten();
            let mut next = None;
            for r in records {
                next = Some(r.offset + 1);
                out.push(Received {
                    topic: r.partition.topic.clone(),
                    partition: r.partition.partition,
                    offset: r.offset,
                    key: r.key.as_ref().map(|k| String::from_utf8_lossy(k).into_owned()),
                    value: r.value.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()),
                });
            }
            // Control records and aborted data (read_committed) take offsets too: a caught-up consumer's
            // position is the end, as on a real broker.
            let c = self.consumers.get_mut(name).expect("exists");
            let pos = c.positions.entry(p.clone()).or_insert(position);
            if let Some(n) = next {
                *pos = (*pos).max(n);
            }
            if out.len() < max {
                if let Some(e) = end {
                    *pos = (*pos).max(e);
                }
            }
        }
        Ok(out)
    }

    /// Commits the positions of `name` (auto-commit before a rebalance or at close).
    fn commit_positions(&mut self, name: &str) -> ClientReply {
        let c = &self.consumers[name];
        let Some(group) = c.group.clone() else {
            return error(client_error("InvalidGroupIdException", NO_GROUP_ID));
        };
        let offsets: Vec<(TopicPartition, OffsetAndMetadata)> = c
            .assigned
            .iter()
            .filter_map(|p| {
                c.positions
                    .get(p)
                    .map(|o| (p.clone(), OffsetAndMetadata { offset: *o, metadata: String::new() }))
            })
            .collect();
        if offsets.is_empty() {
            return ClientReply::Done;
        }
        let (generation, member, instance) = if c.subscription.is_some() {
            (c.generation, c.member_id.clone(), c.instance_id.clone())
        } else {
            (-1, String::new(), None)
        };
        self.commit(&group, generation, member, instance, offsets)
    }

    /// The group's members in this program that take part in a rebalance `name` starts.
    fn group_members(&self, name: &str) -> Vec<String> {
        let group = self.consumers[name].group.clone();
        self.consumers
            .iter()
            .filter(|(n, c)| {
                c.group == group
                    && c.subscription.is_some()
                    && (c.polled_since_subscribe || n.as_str() == name)
            })
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Runs JoinGroup and SyncGroup for the group's members here until they share a generation.
    fn rebalance(&mut self, name: &str) -> Result<(), ClientError> {
        let group = self.consumers[name]
            .group
            .clone()
            .ok_or_else(|| client_error("InvalidGroupIdException", NO_GROUP_ID))?;
        let members = self.group_members(name);
        let stable = {
            let d = self.coordinator.describe_group(&group);
            d.state == crate::kafka::group::ClassicGroupState::Stable
                && d.members.len() == members.len()
                && members.iter().all(|m| {
                    let c = &self.consumers[m];
                    c.generation == d.generation_id && d.members.iter().any(|x| x.member_id == c.member_id)
                })
        };
        if stable {
            return Ok(());
        }
        // Eager protocol: every member gives up its partitions (committing first when auto-committing).
        for m in &members {
            if self.consumers[m].auto_commit && self.consumers[m].generation >= 0 {
                self.commit_positions(m);
            }
            let c = self.consumers.get_mut(m).expect("exists");
            c.assigned.clear();
            c.positions.clear();
        }
        let mut joined: BTreeMap<String, (i32, String, Vec<crate::kafka::group::JoinedMember>)> =
            BTreeMap::new();
        // A JoinGroup is answered when the round completes (Kafka holds it), perhaps on a timer: members
        // are sent again only when asked to (MEMBER_ID_REQUIRED), never while their request waits.
        // New members first: an existing member's rejoin alone would complete a round without them.
        let mut to_send: Vec<String> = members.clone();
        to_send.sort_by_key(|m| self.consumers[m].generation >= 0);
        let end = self.now.plus_millis(30_000);
        while joined.len() < members.len() && self.now <= end {
            let mut deliveries = std::mem::take(&mut self.deliveries);
            for m in std::mem::take(&mut to_send) {
                let c = &self.consumers[&m];
                let request = JoinGroupRequest {
                    group_id: group.clone(),
                    session_timeout_ms: c.session_timeout_ms,
                    rebalance_timeout_ms: c.rebalance_timeout_ms,
                    member_id: c.member_id.clone(),
                    group_instance_id: c.instance_id.clone(),
                    protocol_type: "consumer".into(),
                    protocols: vec![ProtocolMetadata {
                        name: c.assignor.name().into(),
                        topics: c.subscription.clone().unwrap_or_default(),
                        owned_partitions: Vec::new(),
                        generation: -1,
                    }],
                    client_id: c.client_id.clone(),
                    client_host: "/127.0.0.1".into(),
                };
                let conn = c.conn;
                deliveries.extend(self.coordinator.join_group(self.now, conn, request));
            }
            for d in deliveries {
                let Some(m) = members.iter().find(|m| self.consumers[*m].conn == d.to).cloned() else {
                    continue;
                };
                if let GroupResponse::JoinGroup(r) = d.response {
                    let c = self.consumers.get_mut(&m).expect("exists");
                    match r.error {
                        None => {
                            c.member_id = r.member_id.clone();
                            joined.insert(m, (r.generation_id, r.leader, r.members));
                        }
                        Some(ErrorCode::MemberIdRequired) => {
                            c.member_id = r.member_id.clone();
                            to_send.push(m);
                        }
                        Some(code) => return Err(code_error(code)),
                    }
                }
            }
            // A round that completed without some members is followed by another: whoever answered for
            // an older generation joins again (as a heartbeat's REBALANCE_IN_PROGRESS makes it do).
            if joined.len() == members.len() {
                let newest = joined.values().map(|j| j.0).max().unwrap_or(-1);
                let stale: Vec<String> =
                    joined.iter().filter(|(_, j)| j.0 < newest).map(|(m, _)| m.clone()).collect();
                for m in stale {
                    joined.remove(&m);
                    to_send.push(m);
                }
            }
            if to_send.is_empty() && joined.len() < members.len() {
                // The round completes on a timer (the initial delay, a member's rebalance timeout).
                let t = self.now.plus_millis(1);
                self.advance(t);
            }
        }
        if joined.len() != members.len() {
            return Err(client_error(
                "TimeoutException",
                "the group did not complete its join in the engine",
            ));
        }
        // The leader (whose JoinGroup response lists the members) computes the assignment.
        let mut assignments: Vec<(String, Vec<TopicPartition>)> = Vec::new();
        if let Some((_, (_, _, list))) = joined.iter().find(|(_, (_, _, list))| !list.is_empty()) {
            let subs: Vec<MemberSubscription> = list
                .iter()
                .map(|j| MemberSubscription {
                    member_id: j.member_id.clone(),
                    group_instance_id: j.group_instance_id.clone(),
                    topics: j.metadata.topics.clone(),
                    owned_partitions: Vec::new(),
                    generation: None,
                })
                .collect();
            let mut counts = crate::kafka::PartitionCounts::new();
            for s in &subs {
                for t in &s.topics {
                    if let Some(n) = self.cluster.partition_count(t) {
                        counts.insert(t.clone(), n);
                    }
                }
            }
            let assignor = self.consumers[name].assignor;
            assignments = assignor.assign(&subs, &counts).into_iter().collect();
        }
        let mut deliveries = Vec::new();
        for m in &members {
            let (generation, leader, _) = joined[m].clone();
            let c = self.consumers.get_mut(m).expect("exists");
            c.generation = generation;
            let is_leader = c.member_id == leader;
            let request = SyncGroupRequest {
                group_id: group.clone(),
                generation_id: generation,
                member_id: c.member_id.clone(),
                group_instance_id: c.instance_id.clone(),
                protocol_type: Some("consumer".into()),
                protocol_name: Some(c.assignor.name().into()),
                assignments: if is_leader { assignments.clone() } else { Vec::new() },
            };
            let conn = c.conn;
            deliveries.extend(self.coordinator.sync_group(self.now, conn, request));
        }
        for d in deliveries {
            let Some(m) = members.iter().find(|m| self.consumers[*m].conn == d.to).cloned() else { continue };
            if let GroupResponse::SyncGroup { error: e, assignment, .. } = d.response {
                if let Some(code) = e {
                    return Err(code_error(code));
                }
                let c = self.consumers.get_mut(&m).expect("exists");
                let mut a = assignment;
                a.sort();
                c.assigned = a;
            }
        }
        Ok(())
    }

    fn poll(&mut self, name: &str) -> ClientReply {
        if self.consumers[name].subscription.is_none() && self.consumers[name].assigned.is_empty() {
            return error(client_error(
                "IllegalStateException",
                "Consumer is not subscribed to any topics or assigned any partitions",
            ));
        }
        self.consumers.get_mut(name).expect("exists").polled_since_subscribe = true;
        let mut got = std::mem::take(&mut self.consumers.get_mut(name).expect("exists").buffer);
        if self.consumers[name].subscription.is_some() {
            if let Err(e) = self.rebalance(name) {
                return error(e);
            }
            // The other members fetch in their own loops meanwhile; what they get waits for their poll.
            for other in self.group_members(name) {
                if other != name {
                    let max = self.consumers[&other].max_poll_records;
                    let room = max.saturating_sub(self.consumers[&other].buffer.len());
                    // A member whose fetch fails here sees the error at its own next poll.
                    if let Ok(records) = self.fetch(&other, room) {
                        self.consumers.get_mut(&other).expect("exists").buffer.extend(records);
                    }
                }
            }
        }
        let max = self.consumers[name].max_poll_records;
        if got.len() < max {
            match self.fetch(name, max - got.len()) {
                Ok(records) => got.extend(records),
                Err(e) => return error(e),
            }
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
            | ClientCall::Committed { consumer, .. }
            | ClientCall::Pause { consumer, .. }
            | ClientCall::Resume { consumer, .. }
            | ClientCall::Assignment { consumer }
            | ClientCall::CloseConsumer { consumer } => consumer.clone(),
            _ => return error(client_error("IllegalArgumentException", "not a consumer call")),
        };
        if !self.consumers.contains_key(&name) {
            return error(client_error("IllegalStateException", "This consumer has already been closed."));
        }
        let not_assigned = |p: &Tp| {
            client_error("IllegalStateException", format!("No current assignment for partition {p}"))
        };
        match call {
            ClientCall::Subscribe { topics, .. } => {
                let c = self.consumers.get_mut(&name).expect("exists");
                if c.group.is_none() {
                    return error(client_error("InvalidGroupIdException", NO_GROUP_ID));
                }
                c.subscription = Some(topics.clone());
                c.polled_since_subscribe = false;
                ClientReply::Done
            }
            ClientCall::Assign { partitions, .. } => {
                let c = self.consumers.get_mut(&name).expect("exists");
                c.subscription = None;
                let new: Vec<TopicPartition> = partitions.iter().map(tp).collect();
                c.positions.retain(|p, _| new.contains(p));
                c.paused.retain(|p| new.contains(p));
                let mut sorted = new;
                sorted.sort();
                c.assigned = sorted;
                ClientReply::Done
            }
            ClientCall::Unsubscribe { .. } => {
                self.leave(&name);
                let c = self.consumers.get_mut(&name).expect("exists");
                c.subscription = None;
                c.assigned.clear();
                c.positions.clear();
                c.buffer.clear();
                ClientReply::Done
            }
            ClientCall::Poll { .. } => self.poll(&name),
            ClientCall::CommitSync { offsets, .. } => match offsets {
                None => self.commit_positions(&name),
                Some(list) => {
                    let c = &self.consumers[&name];
                    let Some(group) = c.group.clone() else { return self.commit_positions(&name) };
                    let offsets = list
                        .iter()
                        .map(|o| {
                            (
                                TopicPartition::new(o.topic.clone(), o.partition),
                                OffsetAndMetadata { offset: o.offset.unwrap_or(0), metadata: String::new() },
                            )
                        })
                        .collect();
                    let (generation, member, instance) = if c.subscription.is_some() {
                        (c.generation, c.member_id.clone(), c.instance_id.clone())
                    } else {
                        (-1, String::new(), None)
                    };
                    self.commit(&group, generation, member, instance, offsets)
                }
            },
            ClientCall::CommitAsync { .. } => self.commit_positions(&name),
            ClientCall::Seek { partition, offset, .. } => {
                let p = tp(partition);
                let c = self.consumers.get_mut(&name).expect("exists");
                if !c.assigned.contains(&p) {
                    return error(not_assigned(partition));
                }
                c.positions.insert(p, *offset);
                ClientReply::Done
            }
            ClientCall::SeekToBeginning { partitions, .. } | ClientCall::SeekToEnd { partitions, .. } => {
                let spec = if matches!(call, ClientCall::SeekToBeginning { .. }) {
                    OffsetSpec::Earliest
                } else {
                    OffsetSpec::Latest
                };
                for partition in partitions {
                    let p = tp(partition);
                    if !self.consumers[&name].assigned.contains(&p) {
                        return error(not_assigned(partition));
                    }
                    let isolation = self.consumers[&name].isolation;
                    match self.cluster.list_offset(&p, spec, isolation) {
                        Ok(Some(o)) => {
                            self.consumers.get_mut(&name).expect("exists").positions.insert(p, o);
                        }
                        Ok(None) => {}
                        Err(e) => return error(kafka_error(&e)),
                    }
                }
                ClientReply::Done
            }
            ClientCall::Position { partition, .. } => {
                let p = tp(partition);
                if !self.consumers[&name].assigned.contains(&p) {
                    return error(client_error(
                        "IllegalStateException",
                        "You can only check the position for partitions assigned to this consumer.",
                    ));
                }
                if let Err(e) = self.fill_positions(&name) {
                    return error(e);
                }
                ClientReply::Offset { offset: self.consumers[&name].positions.get(&p).copied() }
            }
            ClientCall::Committed { partitions, .. } => {
                if self.consumers[&name].group.is_none() {
                    return error(client_error("InvalidGroupIdException", NO_GROUP_ID));
                }
                let mut offsets: Vec<PartitionOffset> = partitions
                    .iter()
                    .map(|p| PartitionOffset {
                        topic: p.topic.clone(),
                        partition: p.partition,
                        offset: self.committed_offset(&name, &tp(p)),
                    })
                    .collect();
                offsets.sort();
                ClientReply::Offsets { offsets }
            }
            ClientCall::Pause { partitions, .. } | ClientCall::Resume { partitions, .. } => {
                let pause = matches!(call, ClientCall::Pause { .. });
                for partition in partitions {
                    let p = tp(partition);
                    let c = self.consumers.get_mut(&name).expect("exists");
                    if !c.assigned.contains(&p) {
                        return error(client_error(
                            "IllegalStateException",
                            format!("No current assignment for partition {partition}"),
                        ));
                    }
                    if pause {
                        c.paused.insert(p);
                    } else {
                        c.paused.remove(&p);
                    }
                }
                ClientReply::Done
            }
            ClientCall::Assignment { .. } => {
                let partitions = self.consumers[&name]
                    .assigned
                    .iter()
                    .map(|p| Tp { topic: p.topic.clone(), partition: p.partition })
                    .collect();
                ClientReply::Partitions { partitions }
            }
            ClientCall::CloseConsumer { .. } => {
                if self.consumers[&name].auto_commit {
                    self.commit_positions(&name);
                }
                self.leave(&name);
                self.consumers.remove(&name);
                ClientReply::Done
            }
            _ => error(client_error("IllegalArgumentException", "not a consumer call")),
        }
    }

    /// A dynamic member leaves its group (a static member stays until its session times out, as in Kafka).
    fn leave(&mut self, name: &str) {
        let c = &self.consumers[name];
        if c.subscription.is_none() || c.member_id.is_empty() || c.instance_id.is_some() {
            return;
        }
        let Some(group) = c.group.clone() else { return };
        let member = LeaveMember { member_id: c.member_id.clone(), group_instance_id: None };
        let conn = c.conn;
        self.coordinator.leave_group(self.now, conn, &group, &[member]);
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
            ClientCall::StopBroker { node } | ClientCall::StartBroker { node } => {
                let now = self.now;
                let result = if matches!(call, ClientCall::StopBroker { .. }) {
                    self.cluster.broker_down(now, NodeId(*node))
                } else {
                    self.cluster.broker_up(now, NodeId(*node))
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
            | ClientCall::IncrementalAlterConfigs { .. }
            | ClientCall::DescribeConfigs { .. }
            | ClientCall::DeleteRecords { .. }
            | ClientCall::ListOffsets { .. }
            | ClientCall::ListConsumerGroupOffsets { .. }
            | ClientCall::DescribeConsumerGroups { .. }
            | ClientCall::DeleteConsumerGroups { .. }
            | ClientCall::AlterConsumerGroupOffsets { .. } => self.admin(call),
            ClientCall::NewProducer { .. }
            | ClientCall::Send { .. }
            | ClientCall::Flush { .. }
            | ClientCall::InitTransactions { .. }
            | ClientCall::BeginTransaction { .. }
            | ClientCall::CommitTransaction { .. }
            | ClientCall::AbortTransaction { .. }
            | ClientCall::CloseProducer { .. } => self.producer(call),
            _ => self.consumer(call),
        };
        // A statement takes a moment: the next one runs a millisecond later.
        let t = self.now.plus_millis(1);
        self.advance(t);
        reply
    }
}
