//! `KafkaConsumer` with the Java client's semantics, over the data plane ([`PartitionReader`]) and the
//! classic group coordinator ([`GroupCoordinator`]), on virtual time.
//!
//! The Java consumer runs a heartbeat thread beside the application's poll loop; here both are the
//! caller's to drive: [`KafkaConsumer::poll`] is the application's call, [`KafkaConsumer::tick`] is what
//! the heartbeat thread does at [`KafkaConsumer::next_deadline`]. Coordinator responses can be completed
//! by another client's request (a rebalance completes when the last member rejoins), so every response
//! goes through a shared [`Mailbox`] keyed by each consumer's connection id; a runner ticks a consumer
//! when mail waits for it ([`Mailbox::has_mail`]). When `poll` has no records it says until when the
//! application would block ([`PollResult::wait_until`]), so the caller can advance virtual time.
//!
//! Group membership uses the classic protocol (`group.protocol=classic`, the Java client's default in 4.1)
//! with the configured `partition.assignment.strategy`; eager assignors revoke everything before
//! rejoining, `cooperative-sticky` revokes only what moves and rejoins after revoking.
//!
//! Invariants: a position is never below the log start offset nor above the high watermark once a fetch
//! succeeded; a consumer only fetches partitions it is assigned and that are not paused; `poll` returns
//! at most `max.poll.records` records; committed offsets come only from positions or the caller.

use crate::kafka::assignor::{ClientAssignor, MemberSubscription, PartitionCounts};
use crate::kafka::group::{
    GroupCoordinator, GroupResponse, JoinGroupRequest, LeaveMember, OffsetCommitRequest, ProtocolMetadata,
    SyncGroupRequest,
};
use crate::kafka::{
    ConsumerRecord, ErrorCode, IsolationLevel, KafkaError, NodeId, Offset, OffsetAndMetadata, OffsetSpec,
    PartitionReader, TopicPartition,
};
use crate::VirtualTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

/// `auto.offset.reset`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AutoOffsetReset {
    /// `earliest`.
    Earliest,
    /// `latest` (the default).
    #[default]
    Latest,
    /// `none`: raise `NoOffsetForPartitionException` / `OffsetOutOfRangeException`.
    None,
}

/// The consumer settings the model reads, with the Java client's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerConfig {
    /// `client.id`.
    pub client_id: String,
    /// `group.id` (none: `assign()` only, no commits).
    pub group_id: Option<String>,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
    /// `auto.offset.reset`.
    pub auto_offset_reset: AutoOffsetReset,
    /// `enable.auto.commit` (true).
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms` (5000).
    pub auto_commit_interval_ms: u64,
    /// `max.poll.records` (500).
    pub max_poll_records: usize,
    /// `session.timeout.ms` (45000).
    pub session_timeout_ms: u64,
    /// `heartbeat.interval.ms` (3000).
    pub heartbeat_interval_ms: u64,
    /// `max.poll.interval.ms` (300000).
    pub max_poll_interval_ms: u64,
    /// `partition.assignment.strategy` (range, then cooperative-sticky).
    pub assignors: Vec<ClientAssignor>,
    /// `isolation.level`.
    pub isolation_level: IsolationLevel,
    /// The host the broker sees (`/127.0.0.1`).
    pub client_host: String,
    /// `group.protocol`: `classic` (the default in 4.1) or `consumer` (KIP-848).
    pub group_protocol: GroupProtocol,
    /// `group.remote.assignor` for the consumer protocol (`uniform`, `range`; none: the broker's default).
    pub group_remote_assignor: Option<String>,
    /// `client.rack` (KIP-881): sent in JoinGroup subscriptions and consumer-group heartbeats.
    #[serde(default)]
    pub client_rack: Option<String>,
}

/// `group.protocol`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupProtocol {
    /// JoinGroup / SyncGroup / Heartbeat with client-side assignors.
    #[default]
    Classic,
    /// ConsumerGroupHeartbeat with server-side assignors (KIP-848).
    Consumer,
}

impl ConsumerConfig {
    /// The Java client's defaults with this `client.id` and `group.id`.
    pub fn new(client_id: &str, group_id: Option<&str>) -> Self {
        ConsumerConfig {
            client_id: client_id.to_string(),
            group_id: group_id.map(String::from),
            group_instance_id: None,
            auto_offset_reset: AutoOffsetReset::Latest,
            enable_auto_commit: group_id.is_some(),
            auto_commit_interval_ms: 5000,
            max_poll_records: 500,
            session_timeout_ms: 45_000,
            heartbeat_interval_ms: 3000,
            max_poll_interval_ms: 300_000,
            assignors: vec![ClientAssignor::Range, ClientAssignor::CooperativeSticky],
            isolation_level: IsolationLevel::ReadUncommitted,
            client_host: "/127.0.0.1".to_string(),
            group_protocol: GroupProtocol::Classic,
            group_remote_assignor: None,
            client_rack: None,
        }
    }
}

/// What a consumer method throws: a broker error, or one the Java client raises itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsumerError {
    /// From the broker (`KafkaError`'s exception and message).
    Kafka(KafkaError),
    /// Raised by the client: its exception's simple name and message.
    Client {
        /// `CommitFailedException`, `NoOffsetForPartitionException`, `IllegalStateException`, ….
        exception: String,
        /// The message.
        message: String,
    },
}

impl ConsumerError {
    fn client(exception: &str, message: impl Into<String>) -> Self {
        ConsumerError::Client { exception: exception.to_string(), message: message.into() }
    }

    /// The exception's simple name.
    pub fn exception(&self) -> &str {
        match self {
            ConsumerError::Kafka(e) => e.code.exception(),
            ConsumerError::Client { exception, .. } => exception,
        }
    }
}

impl fmt::Display for ConsumerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsumerError::Kafka(e) => e.fmt(f),
            ConsumerError::Client { exception, message } => write!(f, "{exception}: {message}"),
        }
    }
}

impl std::error::Error for ConsumerError {}

/// `CommitFailedException` of a commit made while the consumer has no generation (not in the group).
const COMMIT_NOT_IN_GROUP: &str = "Offset commit cannot be completed since the consumer is not part of an active group for auto partition assignment; it is likely that the consumer was kicked out of the group.";
const COMMIT_FAILED: &str = "Commit cannot be completed since the group has already rebalanced and assigned the partitions to another member. This means that the time between subsequent calls to poll() was longer than the configured max.poll.interval.ms, which typically implies that the poll loop is spending too much time message processing. You can address this either by increasing max.poll.interval.ms or by reducing the maximum size of batches returned in poll() with max.poll.records.";
const COMMIT_DURING_REBALANCE: &str = "Offset commit cannot be completed since the consumer is undergoing a rebalance for auto partition assignment. You can try completing the rebalance by calling poll() and then retry the operation.";
const MUTUALLY_EXCLUSIVE: &str = "Subscription to topics, partitions and pattern are mutually exclusive";
const NO_GROUP_ID: &str = "To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.";

/// Responses from the coordinator waiting for the consumer (by connection id) they are addressed to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    boxes: BTreeMap<u64, VecDeque<GroupResponse>>,
}

impl Mailbox {
    /// An empty mailbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Files the coordinator's deliveries.
    pub fn post(&mut self, deliveries: Vec<crate::kafka::group::Delivery>) {
        for d in deliveries {
            self.boxes.entry(d.to).or_default().push_back(d.response);
        }
    }

    /// Whether a response waits for connection `conn`.
    pub fn has_mail(&self, conn: u64) -> bool {
        self.boxes.get(&conn).is_some_and(|b| !b.is_empty())
    }

    fn take(&mut self, conn: u64) -> Option<GroupResponse> {
        self.boxes.get_mut(&conn)?.pop_front()
    }
}

/// What a consumer works against: the coordinator, the shared mailbox and the partitions' leaders.
pub struct ConsumerEnv<'a> {
    /// The group coordinator.
    pub coordinator: &'a mut GroupCoordinator,
    /// Responses in flight.
    pub mailbox: &'a mut Mailbox,
    /// The data plane.
    pub reader: &'a mut dyn PartitionReader,
}

/// A rebalance listener's callbacks and other things the application would see, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsumerEvent {
    /// `onPartitionsRevoked`.
    PartitionsRevoked(Vec<TopicPartition>),
    /// `onPartitionsAssigned`.
    PartitionsAssigned(Vec<TopicPartition>),
    /// `onPartitionsLost` (the member was dropped from the group).
    PartitionsLost(Vec<TopicPartition>),
    /// A position was reset by `auto.offset.reset`.
    PositionReset {
        /// Partition.
        partition: TopicPartition,
        /// New position.
        offset: Offset,
    },
    /// An asynchronous (or auto) commit completed.
    CommitCompleted {
        /// Offsets.
        offsets: Vec<(TopicPartition, Offset)>,
        /// Its error, if it failed.
        error: Option<String>,
    },
    /// The heartbeat thread left the group because `poll` was not called within `max.poll.interval.ms`.
    PollTimeoutExpired,
}

/// What `poll` returns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollResult {
    /// The records, at most `max.poll.records`, partition by partition.
    pub records: Vec<ConsumerRecord>,
    /// With no records: until when the application's `poll(timeout)` would block, unless something happens
    /// sooner (new records, a coordinator response); the caller advances virtual time and polls again.
    pub wait_until: Option<VirtualTime>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Subscription {
    None,
    Topics(Vec<String>),
    Assigned,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Membership {
    Unjoined,
    Joining,
    Syncing,
    Stable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Reset {
    Earliest,
    Latest,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct PartitionState {
    position: Option<Offset>,
    /// The leader epoch the Java client keeps with its position (`FetchPosition.offsetEpoch`): the epoch of
    /// what it last fetched or of a reset's `ListOffsets` answer (taken as the leader's current epoch), none
    /// after a `seek` or from a committed offset (the engine keeps no epoch with committed offsets; a
    /// consumer's own commit would carry one in Kafka).
    #[serde(default)]
    offset_epoch: Option<i32>,
    paused: bool,
    pending_reset: Option<Reset>,
}

/// One Java `KafkaConsumer`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KafkaConsumer {
    config: ConsumerConfig,
    conn: u64,
    subscription: Subscription,
    membership: Membership,
    rejoin_needed: bool,
    member_id: String,
    generation: i32,
    protocol: Option<ClientAssignor>,
    assigned: BTreeMap<TopicPartition, PartitionState>,
    last_poll: VirtualTime,
    next_heartbeat: VirtualTime,
    next_auto_commit: VirtualTime,
    fetch_cursor: usize,
    events: Vec<ConsumerEvent>,
    fatal: Option<ConsumerError>,
    closed: bool,
    /// Consumer protocol: the member epoch (0 until joined).
    member_epoch: i32,
    /// The application's rebalance listener calls `commitSync()` in `onPartitionsRevoked`.
    commit_on_revoke: bool,
}

impl KafkaConsumer {
    /// A consumer with these settings; `conn` identifies its connection to the coordinator.
    pub fn new(config: ConsumerConfig, conn: u64) -> Self {
        KafkaConsumer {
            config,
            conn,
            subscription: Subscription::None,
            membership: Membership::Unjoined,
            rejoin_needed: false,
            member_id: String::new(),
            generation: -1,
            protocol: None,
            assigned: BTreeMap::new(),
            last_poll: VirtualTime::ZERO,
            next_heartbeat: VirtualTime::NEVER,
            next_auto_commit: VirtualTime::NEVER,
            fetch_cursor: 0,
            events: Vec::new(),
            fatal: None,
            closed: false,
            commit_on_revoke: false,
            member_epoch: 0,
        }
    }

    /// The application's rebalance listener calls `commitSync()` in `onPartitionsRevoked`, as Kafka's
    /// `ConsumerRebalanceListener` documentation advises with manual commits: the positions of every
    /// assigned partition (the revoked ones still among them) are committed before the partitions go, so
    /// their next owner starts where this consumer stopped. Each such commit is a `CommitCompleted` event
    /// right after the `PartitionsRevoked` one.
    pub fn set_commit_on_revoke(&mut self, on: bool) {
        self.commit_on_revoke = on;
    }

    /// `onPartitionsRevoked(revoked)`, then the partitions go. The listener's `commitSync()` needs a
    /// stable membership (`Stable`), as the callback runs after the join completed.
    fn revoke(&mut self, at: VirtualTime, revoked: Vec<TopicPartition>, env: &mut ConsumerEnv<'_>) {
        self.events.push(ConsumerEvent::PartitionsRevoked(revoked.clone()));
        if self.commit_on_revoke {
            let _ = self.commit_positions(at, env, false);
        }
        for tp in &revoked {
            self.assigned.remove(tp);
        }
    }

    fn uses_consumer_protocol(&self) -> bool {
        self.config.group_protocol == GroupProtocol::Consumer
    }

    /// Consumer protocol: the member epoch (`0` before joining).
    pub fn member_epoch(&self) -> i32 {
        self.member_epoch
    }

    /// One `ConsumerGroupHeartbeat` (KIP-848) and the reconciliation of its answer: partitions no longer
    /// assigned are revoked (and the revocation acknowledged by another heartbeat at once), new ones
    /// assigned. `leave_epoch` sends -1 / -2 instead.
    fn consumer_heartbeat(&mut self, at: VirtualTime, env: &mut ConsumerEnv<'_>, leave_epoch: Option<i32>) {
        let Subscription::Topics(topics) = self.subscription.clone() else { return };
        // At most a heartbeat and the acknowledgement of a revocation, plus one spare.
        for _ in 0..3 {
            let joining = self.member_epoch == 0 && leave_epoch.is_none();
            let mut counts = PartitionCounts::new();
            for t in &topics {
                if let Some(n) = env.reader.partition_count(t) {
                    counts.insert(t.clone(), n);
                }
            }
            let request = crate::kafka::group::ConsumerGroupHeartbeatRequest {
                group_id: self.config.group_id.clone().unwrap_or_default(),
                member_id: self.member_id.clone(),
                member_epoch: leave_epoch.unwrap_or(self.member_epoch),
                instance_id: self.config.group_instance_id.clone(),
                rack_id: self.config.client_rack.clone(),
                rebalance_timeout_ms: Some(self.config.max_poll_interval_ms),
                subscribed_topic_names: Some(topics.clone()),
                server_assignor: self.config.group_remote_assignor.clone(),
                owned_partitions: Some(if joining { Vec::new() } else { self.assignment() }),
                client_id: self.config.client_id.clone(),
                client_host: self.config.client_host.clone(),
            };
            let result = env.coordinator.consumer_group_heartbeat(at, request, &counts);
            if leave_epoch.is_some() {
                self.member_epoch = 0;
                self.membership = Membership::Unjoined;
                self.next_heartbeat = VirtualTime::NEVER;
                return;
            }
            match result {
                Ok(r) => {
                    self.member_id = r.member_id;
                    self.member_epoch = r.member_epoch;
                    self.next_heartbeat = at.plus_millis(r.heartbeat_interval_ms);
                    self.membership =
                        if r.member_epoch > 0 { Membership::Stable } else { Membership::Joining };
                    let Some(list) = r.assignment else { return };
                    let new: BTreeSet<TopicPartition> = list.into_iter().collect();
                    let owned: BTreeSet<TopicPartition> = self.assigned.keys().cloned().collect();
                    let revoked: Vec<TopicPartition> = owned.difference(&new).cloned().collect();
                    let added: Vec<TopicPartition> = new.difference(&owned).cloned().collect();
                    if !revoked.is_empty() {
                        // With auto-commit, the positions of what goes are committed before it goes.
                        if self.config.enable_auto_commit {
                            let offsets: Vec<(TopicPartition, OffsetAndMetadata)> = revoked
                                .iter()
                                .filter_map(|tp| {
                                    let p = self.assigned.get(tp)?.position?;
                                    Some((
                                        tp.clone(),
                                        OffsetAndMetadata { offset: p, metadata: String::new() },
                                    ))
                                })
                                .collect();
                            if !offsets.is_empty() {
                                let _ = self.send_commit(at, offsets, env);
                            }
                        }
                        self.revoke(at, revoked.clone(), env);
                    }
                    if !added.is_empty() {
                        for tp in &added {
                            self.assigned.entry(tp.clone()).or_default();
                        }
                        self.events.push(ConsumerEvent::PartitionsAssigned(added));
                    }
                    if self.config.enable_auto_commit && self.next_auto_commit == VirtualTime::NEVER {
                        self.next_auto_commit = at.plus_millis(self.config.auto_commit_interval_ms);
                    }
                    if revoked.is_empty() {
                        return;
                    }
                    // Acknowledge the revocation at once: loop for another heartbeat.
                }
                Err(e) if matches!(e.code, ErrorCode::FencedMemberEpoch | ErrorCode::UnknownMemberId) => {
                    // Fenced: give up every partition and rejoin with epoch 0.
                    self.lose_partitions();
                    self.member_epoch = 0;
                    self.membership = Membership::Unjoined;
                    self.next_heartbeat = at;
                    return;
                }
                Err(e) => {
                    self.fatal = Some(ConsumerError::Kafka(e));
                    return;
                }
            }
        }
    }

    /// Its settings.
    pub fn config(&self) -> &ConsumerConfig {
        &self.config
    }

    /// Its connection id (the mailbox key).
    pub fn conn(&self) -> u64 {
        self.conn
    }

    /// The member id the coordinator gave it (empty outside a group).
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The generation it belongs to (`-1` outside a group).
    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// `assignment()`: the partitions it is assigned, in order.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.assigned.keys().cloned().collect()
    }

    /// Each assigned partition with its position when one is known now (none: the next `poll` decides
    /// it, from the committed offset, `auto.offset.reset` or a pending `seekToBeginning` / `seekToEnd`).
    /// Unlike `position`, it asks nobody: a view's read.
    pub fn known_positions(&self) -> Vec<(TopicPartition, Option<Offset>)> {
        self.assigned
            .iter()
            .map(|(tp, s)| (tp.clone(), if s.pending_reset.is_some() { None } else { s.position }))
            .collect()
    }

    /// Whether `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// `paused()`.
    pub fn paused(&self) -> Vec<TopicPartition> {
        self.assigned.iter().filter(|(_, s)| s.paused).map(|(tp, _)| tp.clone()).collect()
    }

    /// Events since the last call (rebalance callbacks, resets, commit callbacks).
    pub fn take_events(&mut self) -> Vec<ConsumerEvent> {
        std::mem::take(&mut self.events)
    }

    fn check_open(&self) -> Result<(), ConsumerError> {
        if self.closed {
            return Err(ConsumerError::client(
                "IllegalStateException",
                "This consumer has already been closed.",
            ));
        }
        Ok(())
    }

    /// `subscribe(topics)`.
    pub fn subscribe(&mut self, topics: &[&str]) -> Result<(), ConsumerError> {
        self.check_open()?;
        if self.config.group_id.is_none() {
            return Err(ConsumerError::client("InvalidGroupIdException", NO_GROUP_ID));
        }
        if self.subscription == Subscription::Assigned {
            return Err(ConsumerError::client("IllegalStateException", MUTUALLY_EXCLUSIVE));
        }
        if topics.iter().any(|t| t.trim().is_empty()) {
            return Err(ConsumerError::client(
                "IllegalArgumentException",
                "Topic collection to subscribe to cannot contain null or empty topic",
            ));
        }
        let mut list: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
        list.sort();
        list.dedup();
        if list.is_empty() {
            return self.unsubscribe_quietly();
        }
        if self.subscription != Subscription::Topics(list.clone()) {
            self.subscription = Subscription::Topics(list);
            self.rejoin_needed = true;
        }
        Ok(())
    }

    fn unsubscribe_quietly(&mut self) -> Result<(), ConsumerError> {
        self.subscription = Subscription::None;
        self.assigned.clear();
        Ok(())
    }

    /// `assign(partitions)`: manual assignment, no group membership.
    pub fn assign(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        self.check_open()?;
        if matches!(self.subscription, Subscription::Topics(_)) {
            return Err(ConsumerError::client("IllegalStateException", MUTUALLY_EXCLUSIVE));
        }
        if partitions.is_empty() {
            return self.unsubscribe_quietly();
        }
        let new: BTreeSet<&TopicPartition> = partitions.iter().collect();
        self.assigned.retain(|tp, _| new.contains(tp));
        for tp in partitions {
            self.assigned.entry(tp.clone()).or_default();
        }
        self.subscription = Subscription::Assigned;
        Ok(())
    }

    /// When the heartbeat thread next has something to do (a heartbeat, an auto commit, the poll timeout).
    pub fn next_deadline(&self) -> Option<VirtualTime> {
        if self.closed {
            return None;
        }
        // A classic member waiting for its JoinGroup response sends no heartbeat (the Java client's heartbeat
        // thread is off while it has not joined): its heartbeat time is not a deadline until the join ends.
        let joining = self.membership == Membership::Joining && !self.uses_consumer_protocol();
        let mut next = if joining { VirtualTime::NEVER } else { self.next_heartbeat };
        if self.membership == Membership::Stable {
            next = next.min(self.last_poll.plus_millis(self.config.max_poll_interval_ms));
        }
        (next != VirtualTime::NEVER).then_some(next)
    }

    /// The heartbeat thread at `at`: reads its mail, heartbeats when due, leaves the group when `poll` has
    /// not been called within `max.poll.interval.ms`.
    pub fn tick(&mut self, at: VirtualTime, env: &mut ConsumerEnv<'_>) {
        if self.closed {
            return;
        }
        self.read_mail(at, env);
        if self.uses_consumer_protocol() {
            if self.membership == Membership::Stable
                && at >= self.last_poll.plus_millis(self.config.max_poll_interval_ms)
            {
                self.events.push(ConsumerEvent::PollTimeoutExpired);
                let epoch = if self.config.group_instance_id.is_some() { -2 } else { -1 };
                self.consumer_heartbeat(at, env, Some(epoch));
                self.lose_partitions();
            } else if self.membership != Membership::Unjoined && at >= self.next_heartbeat {
                self.consumer_heartbeat(at, env, None);
            }
            return;
        }
        let in_group = matches!(self.membership, Membership::Stable | Membership::Syncing);
        if in_group
            && self.membership == Membership::Stable
            && at >= self.last_poll.plus_millis(self.config.max_poll_interval_ms)
        {
            self.events.push(ConsumerEvent::PollTimeoutExpired);
            self.leave_group(at, env);
            return;
        }
        if in_group && at >= self.next_heartbeat {
            let group = self.config.group_id.clone().unwrap_or_default();
            let out = env.coordinator.heartbeat(
                at,
                self.conn,
                &group,
                &self.member_id,
                self.config.group_instance_id.as_deref(),
                self.generation,
            );
            env.mailbox.post(out);
            self.next_heartbeat = at.plus_millis(self.config.heartbeat_interval_ms);
            self.read_mail(at, env);
        }
    }

    fn leave_group(&mut self, at: VirtualTime, env: &mut ConsumerEnv<'_>) {
        // A static member does not send LeaveGroup; its session expires instead.
        if self.config.group_instance_id.is_none() && !self.member_id.is_empty() {
            let group = self.config.group_id.clone().unwrap_or_default();
            let who = LeaveMember { member_id: self.member_id.clone(), group_instance_id: None };
            let out = env.coordinator.leave_group(at, self.conn, &group, &[who]);
            env.mailbox.post(out);
            // The LeaveGroup response needs no handling.
            while env.mailbox.take(self.conn).is_some() {}
            self.member_id.clear();
        }
        self.generation = -1;
        self.membership = Membership::Unjoined;
        self.rejoin_needed = true;
        self.next_heartbeat = VirtualTime::NEVER;
    }

    fn read_mail(&mut self, at: VirtualTime, env: &mut ConsumerEnv<'_>) {
        while let Some(response) = env.mailbox.take(self.conn) {
            self.handle(at, response, env);
        }
    }

    fn lose_partitions(&mut self) {
        let lost: Vec<TopicPartition> = self.assigned.keys().cloned().collect();
        if !lost.is_empty() {
            self.events.push(ConsumerEvent::PartitionsLost(lost));
        }
        self.assigned.clear();
    }

    fn handle(&mut self, at: VirtualTime, response: GroupResponse, env: &mut ConsumerEnv<'_>) {
        match response {
            GroupResponse::JoinGroup(r) => match r.error {
                Some(ErrorCode::MemberIdRequired) => {
                    self.member_id = r.member_id;
                    self.send_join(at, env);
                }
                Some(ErrorCode::FencedInstanceId) => {
                    self.fatal = Some(ConsumerError::Kafka(KafkaError::new(ErrorCode::FencedInstanceId)));
                }
                Some(ErrorCode::UnknownMemberId) => {
                    self.member_id.clear();
                    self.generation = -1;
                    self.membership = Membership::Unjoined;
                    self.rejoin_needed = true;
                }
                Some(_) => {
                    self.membership = Membership::Unjoined;
                    self.rejoin_needed = true;
                }
                None => {
                    self.member_id = r.member_id.clone();
                    self.generation = r.generation_id;
                    self.protocol = r.protocol_name.as_deref().and_then(ClientAssignor::from_name);
                    self.membership = Membership::Syncing;
                    self.next_heartbeat = at.plus_millis(self.config.heartbeat_interval_ms);
                    let assignments = if r.leader == r.member_id && !r.skip_assignment {
                        self.leader_assignment(&r.members, env)
                    } else {
                        Vec::new()
                    };
                    let request = SyncGroupRequest {
                        group_id: self.config.group_id.clone().unwrap_or_default(),
                        generation_id: r.generation_id,
                        member_id: r.member_id,
                        group_instance_id: self.config.group_instance_id.clone(),
                        protocol_type: Some("consumer".to_string()),
                        protocol_name: r.protocol_name,
                        assignments,
                    };
                    let out = env.coordinator.sync_group(at, self.conn, request);
                    env.mailbox.post(out);
                }
            },
            GroupResponse::SyncGroup { error, assignment, .. } => match error {
                None => self.on_assignment(at, assignment, env),
                Some(ErrorCode::FencedInstanceId) => {
                    self.fatal = Some(ConsumerError::Kafka(KafkaError::new(ErrorCode::FencedInstanceId)));
                }
                Some(ErrorCode::UnknownMemberId) | Some(ErrorCode::IllegalGeneration) => {
                    self.member_id.clear();
                    self.generation = -1;
                    self.lose_partitions();
                    self.membership = Membership::Unjoined;
                    self.rejoin_needed = true;
                }
                Some(_) => {
                    self.membership = Membership::Unjoined;
                    self.rejoin_needed = true;
                }
            },
            GroupResponse::Heartbeat { error } => match error {
                None => {}
                Some(ErrorCode::RebalanceInProgress) => self.rejoin_needed = true,
                Some(ErrorCode::FencedInstanceId) => {
                    // Another consumer took this group.instance.id. As the Java client's heartbeat
                    // handler does, the generation and member id are reset (the partitions stay until a
                    // rejoin): a commitSync now fails with CommitFailedException (not part of an active
                    // group), and the next poll throws the heartbeat thread's FencedInstanceIdException.
                    self.member_id.clear();
                    self.generation = -1;
                    self.membership = Membership::Unjoined;
                    self.next_heartbeat = VirtualTime::NEVER;
                    self.fatal = Some(ConsumerError::Kafka(KafkaError::new(ErrorCode::FencedInstanceId)));
                }
                Some(e) => {
                    if e == ErrorCode::UnknownMemberId {
                        self.member_id.clear();
                    }
                    self.generation = -1;
                    self.lose_partitions();
                    self.membership = Membership::Unjoined;
                    self.rejoin_needed = true;
                    self.next_heartbeat = VirtualTime::NEVER;
                }
            },
            GroupResponse::LeaveGroup { .. } | GroupResponse::OffsetCommit { .. } => {}
        }
    }

    fn leader_assignment(
        &self,
        members: &[crate::kafka::group::JoinedMember],
        env: &mut ConsumerEnv<'_>,
    ) -> Vec<(String, Vec<TopicPartition>)> {
        let Some(assignor) = self.protocol else { return Vec::new() };
        let subscriptions: Vec<MemberSubscription> = members
            .iter()
            .map(|m| MemberSubscription {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                topics: m.metadata.topics.clone(),
                owned_partitions: m.metadata.owned_partitions.clone(),
                generation: Some(m.metadata.generation).filter(|g| *g >= 0),
                rack_id: m.metadata.rack_id.clone(),
            })
            .collect();
        let mut counts = PartitionCounts::new();
        let mut racks = crate::kafka::assignor::PartitionRacks::new();
        for m in members {
            for t in &m.metadata.topics {
                if let Some(n) = env.reader.partition_count(t) {
                    counts.insert(t.clone(), n);
                    for p in 0..n {
                        let tp = TopicPartition::new(t, p);
                        let r = env.reader.replica_racks(&tp);
                        if !r.is_empty() {
                            racks.insert(tp, r);
                        }
                    }
                }
            }
        }
        assignor.assign_with_racks(&subscriptions, &counts, &racks).into_iter().collect()
    }

    fn on_assignment(&mut self, at: VirtualTime, assignment: Vec<TopicPartition>, env: &mut ConsumerEnv<'_>) {
        let new: BTreeSet<TopicPartition> = assignment.into_iter().collect();
        let owned: BTreeSet<TopicPartition> = self.assigned.keys().cloned().collect();
        let revoked: Vec<TopicPartition> = owned.difference(&new).cloned().collect();
        let added: Vec<TopicPartition> = new.difference(&owned).cloned().collect();
        self.membership = Membership::Stable;
        if !revoked.is_empty() {
            self.revoke(at, revoked, env);
            // Cooperative: give the revoked partitions a new owner in a follow-up rebalance.
            self.rejoin_needed = true;
        }
        for tp in &added {
            self.assigned.entry(tp.clone()).or_default();
        }
        self.events.push(ConsumerEvent::PartitionsAssigned(added));
        if self.config.enable_auto_commit && self.next_auto_commit == VirtualTime::NEVER {
            self.next_auto_commit = at.plus_millis(self.config.auto_commit_interval_ms);
        }
    }

    fn cooperative(&self) -> bool {
        self.protocol == Some(ClientAssignor::CooperativeSticky)
            || (self.protocol.is_none()
                && self
                    .config
                    .assignors
                    .iter()
                    .all(|a| a.supported_protocols().contains(&crate::kafka::RebalanceProtocol::Cooperative)))
    }

    fn send_join(&mut self, at: VirtualTime, env: &mut ConsumerEnv<'_>) {
        let Subscription::Topics(topics) = &self.subscription else { return };
        let owned: Vec<TopicPartition> =
            if self.cooperative() { self.assigned.keys().cloned().collect() } else { Vec::new() };
        let protocols = self
            .config
            .assignors
            .iter()
            .map(|a| ProtocolMetadata {
                name: a.name().to_string(),
                topics: topics.clone(),
                owned_partitions: owned.clone(),
                generation: self.generation,
                rack_id: self.config.client_rack.clone(),
            })
            .collect();
        let request = JoinGroupRequest {
            group_id: self.config.group_id.clone().unwrap_or_default(),
            session_timeout_ms: self.config.session_timeout_ms,
            rebalance_timeout_ms: self.config.max_poll_interval_ms,
            member_id: self.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            protocol_type: "consumer".to_string(),
            protocols,
            client_id: self.config.client_id.clone(),
            client_host: self.config.client_host.clone(),
        };
        self.membership = Membership::Joining;
        let out = env.coordinator.join_group(at, self.conn, request);
        env.mailbox.post(out);
    }

    /// `poll(timeout)` at `at`.
    pub fn poll(
        &mut self,
        at: VirtualTime,
        timeout_ms: u64,
        env: &mut ConsumerEnv<'_>,
    ) -> Result<PollResult, ConsumerError> {
        self.check_open()?;
        if self.subscription == Subscription::None {
            return Err(ConsumerError::client(
                "IllegalStateException",
                "Consumer is not subscribed to any topics or assigned any partitions",
            ));
        }
        self.last_poll = at;
        self.tick(at, env);
        if let Some(e) = self.fatal.clone() {
            return Err(e);
        }
        if matches!(self.subscription, Subscription::Topics(_)) && self.uses_consumer_protocol() {
            if self.membership == Membership::Unjoined || self.rejoin_needed {
                self.rejoin_needed = false;
                self.membership = Membership::Joining;
                self.consumer_heartbeat(at, env, None);
            }
            if let Some(e) = self.fatal.clone() {
                return Err(e);
            }
        } else if matches!(self.subscription, Subscription::Topics(_)) {
            // `onJoinPrepare` and the join: eager members revoke everything first.
            if self.rejoin_needed && matches!(self.membership, Membership::Stable | Membership::Unjoined) {
                // `onJoinPrepare`: with auto-commit, the positions are committed before every rejoin.
                if self.config.enable_auto_commit && self.membership == Membership::Stable {
                    let _ = self.commit_positions(at, env, false);
                }
                if !self.cooperative() && !self.assigned.is_empty() {
                    let revoked = self.assignment();
                    self.revoke(at, revoked, env);
                }
                self.rejoin_needed = false;
                self.send_join(at, env);
                self.read_mail(at, env);
            }
            if let Some(e) = self.fatal.clone() {
                return Err(e);
            }
            if self.membership != Membership::Stable && self.assigned.is_empty() {
                return Ok(PollResult {
                    records: Vec::new(),
                    wait_until: Some(self.wait_until(at, timeout_ms, env)),
                });
            }
        }
        if self.config.enable_auto_commit && self.config.group_id.is_some() && at >= self.next_auto_commit {
            let _ = self.commit_positions(at, env, false);
            self.next_auto_commit = at.plus_millis(self.config.auto_commit_interval_ms);
        }
        self.update_positions(env)?;
        let records = self.fetch(at, env)?;
        let wait_until = records.is_empty().then(|| self.wait_until(at, timeout_ms, env));
        Ok(PollResult { records, wait_until })
    }

    fn wait_until(&self, at: VirtualTime, timeout_ms: u64, env: &ConsumerEnv<'_>) -> VirtualTime {
        let mut until = at.plus_millis(timeout_ms);
        if let Some(t) = self.next_deadline() {
            until = until.min(t.max(at));
        }
        if let Some(t) = env.coordinator.next_deadline() {
            until = until.min(t.max(at));
        }
        until
    }

    fn reset_offset(
        &mut self,
        tp: &TopicPartition,
        reset: Reset,
        env: &mut ConsumerEnv<'_>,
    ) -> Result<Offset, ConsumerError> {
        let spec = if reset == Reset::Earliest { OffsetSpec::Earliest } else { OffsetSpec::Latest };
        let offset = env
            .reader
            .list_offset(tp, spec, self.config.isolation_level)
            .map_err(ConsumerError::Kafka)?
            .unwrap_or(0);
        self.events.push(ConsumerEvent::PositionReset { partition: tp.clone(), offset });
        Ok(offset)
    }

    fn policy(&self) -> Option<Reset> {
        match self.config.auto_offset_reset {
            AutoOffsetReset::Earliest => Some(Reset::Earliest),
            AutoOffsetReset::Latest => Some(Reset::Latest),
            AutoOffsetReset::None => None,
        }
    }

    /// Gives every assigned partition a position: a pending seek to the beginning or end, else the
    /// committed offset, else `auto.offset.reset`.
    fn update_positions(&mut self, env: &mut ConsumerEnv<'_>) -> Result<(), ConsumerError> {
        // Every partition has its position (the usual poll): the pass below would change nothing.
        if self.assigned.values().all(|s| s.pending_reset.is_none() && s.position.is_some()) {
            return Ok(());
        }
        let mut undefined = Vec::new();
        let tps: Vec<TopicPartition> = self.assigned.keys().cloned().collect();
        for tp in tps {
            let state = self.assigned[&tp].clone();
            if let Some(reset) = state.pending_reset {
                let offset = self.reset_offset(&tp, reset, env)?;
                let epoch = env.reader.leader_and_epoch(&tp).map(|(_, _, e)| e);
                let s = self.assigned.get_mut(&tp).expect("assigned");
                s.position = Some(offset);
                s.offset_epoch = epoch;
                s.pending_reset = None;
                continue;
            }
            if state.position.is_some() {
                continue;
            }
            let committed = match &self.config.group_id {
                Some(group) => env.coordinator.offsets().committed_offset(group, &tp),
                None => None,
            };
            let position = match (committed, self.policy()) {
                (Some(offset), _) => Some((offset, None)),
                (None, Some(reset)) => Some((
                    self.reset_offset(&tp, reset, env)?,
                    env.reader.leader_and_epoch(&tp).map(|(_, _, e)| e),
                )),
                (None, None) => None,
            };
            match position {
                Some((p, epoch)) => {
                    let s = self.assigned.get_mut(&tp).expect("assigned");
                    s.position = Some(p);
                    s.offset_epoch = epoch;
                }
                None => undefined.push(tp),
            }
        }
        if !undefined.is_empty() {
            let list: Vec<String> = undefined.iter().map(ToString::to_string).collect();
            return Err(ConsumerError::client(
                "NoOffsetForPartitionException",
                format!("Undefined offset with no reset policy for partitions: [{}]", list.join(", ")),
            ));
        }
        Ok(())
    }

    fn fetch(
        &mut self,
        at: VirtualTime,
        env: &mut ConsumerEnv<'_>,
    ) -> Result<Vec<ConsumerRecord>, ConsumerError> {
        let fetchable: Vec<TopicPartition> = self
            .assigned
            .iter()
            .filter(|(_, s)| !s.paused && s.position.is_some())
            .map(|(tp, _)| tp.clone())
            .collect();
        let mut records = Vec::new();
        if fetchable.is_empty() {
            return Ok(records);
        }
        let start = self.fetch_cursor % fetchable.len();
        for k in 0..fetchable.len() {
            let room = self.config.max_poll_records - records.len();
            if room == 0 {
                break;
            }
            let tp = &fetchable[(start + k) % fetchable.len()];
            let position = self.assigned[tp].position.expect("fetchable");
            let mut fetched = env.reader.fetch(at, tp, position, room, self.config.isolation_level);
            if matches!(&fetched, Err(e) if e.code == ErrorCode::OffsetOutOfRange) {
                if let Some(reset) = self.policy() {
                    // Reset, then fetch again within the same poll, as the Java client's poll loop does.
                    let offset = self.reset_offset(tp, reset, env)?;
                    let epoch = env.reader.leader_and_epoch(tp).map(|(_, _, e)| e);
                    let s = self.assigned.get_mut(tp).expect("assigned");
                    s.position = Some(offset);
                    s.offset_epoch = epoch;
                    fetched = env.reader.fetch(at, tp, offset, room, self.config.isolation_level);
                }
            }
            let batch = match fetched {
                Ok(b) => b,
                Err(e) if e.code == ErrorCode::OffsetOutOfRange => match self.policy() {
                    Some(_) => continue,
                    None => {
                        let epoch = self.assigned[tp].offset_epoch;
                        let leader = env.reader.leader_and_epoch(tp);
                        return Err(ConsumerError::client(
                            "OffsetOutOfRangeException",
                            format!(
                                "Fetch position {} is out of range for partition {tp}",
                                fetch_position_text(position, epoch, leader)
                            ),
                        ));
                    }
                },
                Err(e) => return Err(ConsumerError::Kafka(e)),
            };
            if let Some(last) = batch.last() {
                let epoch = env.reader.leader_and_epoch(tp).map(|(_, _, e)| e);
                let s = self.assigned.get_mut(tp).expect("assigned");
                s.position = Some(last.offset + 1);
                s.offset_epoch = epoch.or(s.offset_epoch);
            }
            if batch.len() < room {
                // The read stopped at the end the consumer may see (high watermark or last stable
                // offset), not at max.poll.records: the Java fetcher's position moves past the batches it
                // skipped on the way (commit/abort markers, aborted records) to that end.
                if let Ok(Some(end)) =
                    env.reader.list_offset(tp, OffsetSpec::Latest, self.config.isolation_level)
                {
                    let state = self.assigned.get_mut(tp).expect("assigned");
                    if state.position.is_some_and(|p| p < end) {
                        state.position = Some(end);
                    }
                }
            }
            if records.is_empty() {
                // The first partition's records are the poll's: moved, not copied.
                records = batch;
            } else {
                records.extend(batch);
            }
        }
        // The next poll starts after the partition that filled this one (the Java client rotates too).
        self.fetch_cursor = self.fetch_cursor.wrapping_add(1);
        Ok(records)
    }

    fn commit_positions(
        &mut self,
        at: VirtualTime,
        env: &mut ConsumerEnv<'_>,
        sync: bool,
    ) -> Result<(), ConsumerError> {
        let offsets: Vec<(TopicPartition, OffsetAndMetadata)> = self
            .assigned
            .iter()
            .filter_map(|(tp, s)| {
                s.position.map(|p| (tp.clone(), OffsetAndMetadata { offset: p, metadata: String::new() }))
            })
            .collect();
        if offsets.is_empty() {
            return Ok(());
        }
        let result = self.send_commit(at, offsets.clone(), env);
        if !sync {
            self.events.push(ConsumerEvent::CommitCompleted {
                offsets: offsets.iter().map(|(tp, o)| (tp.clone(), o.offset)).collect(),
                error: result.as_ref().err().map(ToString::to_string),
            });
        }
        result
    }

    fn send_commit(
        &mut self,
        at: VirtualTime,
        offsets: Vec<(TopicPartition, OffsetAndMetadata)>,
        env: &mut ConsumerEnv<'_>,
    ) -> Result<(), ConsumerError> {
        let Some(group) = self.config.group_id.clone() else {
            return Err(ConsumerError::client("InvalidGroupIdException", NO_GROUP_ID));
        };
        let in_group = matches!(self.subscription, Subscription::Topics(_));
        if in_group && matches!(self.membership, Membership::Joining | Membership::Syncing) {
            return Err(ConsumerError::client("RebalanceInProgressException", COMMIT_DURING_REBALANCE));
        }
        let current = if self.uses_consumer_protocol() { self.member_epoch } else { self.generation };
        let valid = if self.uses_consumer_protocol() { current > 0 } else { current >= 0 };
        let (generation, member_id) =
            if in_group && valid { (current, self.member_id.clone()) } else { (-1, String::new()) };
        if in_group && generation < 0 {
            // `sendOffsetCommitRequest` with no stable generation (fenced, or left after
            // max.poll.interval.ms): the client fails the commit itself, with its own message.
            return Err(ConsumerError::client("CommitFailedException", COMMIT_NOT_IN_GROUP));
        }
        let request = OffsetCommitRequest {
            group_id: group,
            generation_id: generation,
            member_id,
            group_instance_id: if generation >= 0 { self.config.group_instance_id.clone() } else { None },
            offsets,
        };
        let out = env.coordinator.offset_commit(at, self.conn, request);
        env.mailbox.post(out);
        let mut error = None;
        // Read the commit's own response; keep other mail (a rebalance it completed) for later.
        let mut kept = Vec::new();
        while let Some(response) = env.mailbox.take(self.conn) {
            match response {
                GroupResponse::OffsetCommit { partitions } => {
                    error = partitions.iter().find_map(|(_, e)| *e);
                }
                other => kept.push(other),
            }
        }
        for r in kept {
            env.mailbox.boxes.entry(self.conn).or_default().push_back(r);
        }
        match error {
            None => Ok(()),
            Some(ErrorCode::UnknownMemberId) | Some(ErrorCode::IllegalGeneration) => {
                self.rejoin_needed = true;
                Err(ConsumerError::client("CommitFailedException", COMMIT_FAILED))
            }
            Some(ErrorCode::RebalanceInProgress) => {
                self.rejoin_needed = true;
                Err(ConsumerError::client("RebalanceInProgressException", COMMIT_DURING_REBALANCE))
            }
            Some(ErrorCode::StaleMemberEpoch) => {
                Err(ConsumerError::client("CommitFailedException", COMMIT_FAILED))
            }
            Some(e) => Err(ConsumerError::Kafka(KafkaError::new(e))),
        }
    }

    /// `commitSync()` (the positions of every assigned partition) or `commitSync(offsets)`.
    pub fn commit_sync(
        &mut self,
        at: VirtualTime,
        offsets: Option<Vec<(TopicPartition, OffsetAndMetadata)>>,
        env: &mut ConsumerEnv<'_>,
    ) -> Result<(), ConsumerError> {
        self.check_open()?;
        // The Java client checks for a group.id before anything else, even with nothing to commit.
        if self.config.group_id.is_none() {
            return Err(ConsumerError::client("InvalidGroupIdException", NO_GROUP_ID));
        }
        match offsets {
            None => self.commit_positions(at, env, true),
            Some(list) => {
                if let Some((tp, o)) = list.iter().find(|(_, o)| o.offset < 0) {
                    return Err(ConsumerError::client(
                        "IllegalArgumentException",
                        format!("Invalid negative offset {} for partition {tp}", o.offset),
                    ));
                }
                self.send_commit(at, list, env)
            }
        }
    }

    /// `commitAsync()`: the result comes back as a [`ConsumerEvent::CommitCompleted`].
    pub fn commit_async(&mut self, at: VirtualTime, env: &mut ConsumerEnv<'_>) -> Result<(), ConsumerError> {
        self.check_open()?;
        if self.config.group_id.is_none() {
            return Err(ConsumerError::client("InvalidGroupIdException", NO_GROUP_ID));
        }
        let _ = self.commit_positions(at, env, false);
        Ok(())
    }

    /// `committed(partitions)`.
    pub fn committed(
        &self,
        partitions: &[TopicPartition],
        env: &ConsumerEnv<'_>,
    ) -> Result<Vec<(TopicPartition, Option<OffsetAndMetadata>)>, ConsumerError> {
        let Some(group) = &self.config.group_id else {
            return Err(ConsumerError::client("InvalidGroupIdException", NO_GROUP_ID));
        };
        env.coordinator.offset_fetch(group, partitions).map_err(|e| ConsumerError::Kafka(KafkaError::new(e)))
    }

    fn state_mut(&mut self, tp: &TopicPartition) -> Result<&mut PartitionState, ConsumerError> {
        self.assigned.get_mut(tp).ok_or_else(|| {
            ConsumerError::client(
                "IllegalStateException",
                format!("No current assignment for partition {tp}"),
            )
        })
    }

    /// `position(partition)`.
    pub fn position(
        &mut self,
        tp: &TopicPartition,
        env: &mut ConsumerEnv<'_>,
    ) -> Result<Offset, ConsumerError> {
        if !self.assigned.contains_key(tp) {
            return Err(ConsumerError::client(
                "IllegalStateException",
                "You can only check the position for partitions assigned to this consumer.",
            ));
        }
        self.update_positions(env)?;
        Ok(self.assigned[tp].position.expect("updated"))
    }

    /// `seek(partition, offset)`.
    pub fn seek(&mut self, tp: &TopicPartition, offset: Offset) -> Result<(), ConsumerError> {
        if offset < 0 {
            return Err(ConsumerError::client(
                "IllegalArgumentException",
                "seek offset must not be a negative number",
            ));
        }
        let s = self.state_mut(tp)?;
        s.position = Some(offset);
        s.offset_epoch = None;
        s.pending_reset = None;
        Ok(())
    }

    /// `seekToBeginning(partitions)` (evaluated lazily, at the next `poll` or `position`).
    pub fn seek_to_beginning(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        for tp in partitions {
            self.state_mut(tp)?.pending_reset = Some(Reset::Earliest);
        }
        Ok(())
    }

    /// `seekToEnd(partitions)` (lazily).
    pub fn seek_to_end(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        for tp in partitions {
            self.state_mut(tp)?.pending_reset = Some(Reset::Latest);
        }
        Ok(())
    }

    /// `offsetsForTimes`: per partition, the earliest offset whose timestamp is at or after the given one
    /// (`None` when every record is older).
    pub fn offsets_for_times(
        &self,
        query: &[(TopicPartition, i64)],
        env: &ConsumerEnv<'_>,
    ) -> Result<Vec<(TopicPartition, Option<Offset>)>, ConsumerError> {
        query
            .iter()
            .map(|(tp, ts)| {
                if *ts < 0 {
                    return Err(ConsumerError::client(
                        "IllegalArgumentException",
                        format!(
                            "The target time for partition {tp} is {ts}. The target time cannot be negative."
                        ),
                    ));
                }
                env.reader
                    .list_offset(tp, OffsetSpec::ForTimestamp(*ts), self.config.isolation_level)
                    .map(|o| (tp.clone(), o))
                    .map_err(ConsumerError::Kafka)
            })
            .collect()
    }

    /// `pause(partitions)`.
    pub fn pause(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        for tp in partitions {
            self.state_mut(tp)?.paused = true;
        }
        Ok(())
    }

    /// `resume(partitions)`.
    pub fn resume(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        for tp in partitions {
            self.state_mut(tp)?.paused = false;
        }
        Ok(())
    }

    /// `close()`: commits the positions when auto-commit is on, leaves the group (a dynamic member).
    pub fn close(&mut self, at: VirtualTime, env: &mut ConsumerEnv<'_>) {
        if self.closed {
            return;
        }
        self.read_mail(at, env);
        if self.config.enable_auto_commit && self.membership == Membership::Stable {
            let _ = self.commit_positions(at, env, true);
        }
        if matches!(self.subscription, Subscription::Topics(_)) && !self.assigned.is_empty() {
            self.events.push(ConsumerEvent::PartitionsRevoked(self.assignment()));
            if self.commit_on_revoke && self.membership == Membership::Stable {
                let _ = self.commit_positions(at, env, false);
            }
        }
        if matches!(self.subscription, Subscription::Topics(_)) && self.membership != Membership::Unjoined {
            if self.uses_consumer_protocol() {
                let epoch = if self.config.group_instance_id.is_some() { -2 } else { -1 };
                self.consumer_heartbeat(at, env, Some(epoch));
            } else {
                self.leave_group(at, env);
            }
        }
        self.assigned.clear();
        self.closed = true;
    }
}

/// One data row of `kafka-consumer-groups --describe --group G`: GROUP TOPIC PARTITION CURRENT-OFFSET
/// LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID (`-` where Kafka prints `-`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOffsetRow {
    /// GROUP.
    pub group: String,
    /// TOPIC.
    pub topic: String,
    /// PARTITION.
    pub partition: i32,
    /// CURRENT-OFFSET (the committed offset).
    pub current_offset: Option<Offset>,
    /// LOG-END-OFFSET.
    pub log_end_offset: Option<Offset>,
    /// LAG = log end offset − committed.
    pub lag: Option<i64>,
    /// CONSUMER-ID.
    pub consumer_id: Option<String>,
    /// HOST.
    pub host: Option<String>,
    /// CLIENT-ID.
    pub client_id: Option<String>,
}

/// The rows `kafka-consumer-groups --describe` prints for `group`: every assigned partition with its
/// owner, then partitions with committed offsets and no owner, ordered by topic and partition.
pub fn describe_group_offsets(
    group: &str,
    coordinator: &GroupCoordinator,
    reader: &dyn PartitionReader,
) -> Vec<GroupOffsetRow> {
    let described = coordinator.describe_group(group);
    let mut rows: BTreeMap<TopicPartition, GroupOffsetRow> = BTreeMap::new();
    let row = |tp: &TopicPartition| {
        let committed = coordinator.offsets().committed_offset(group, tp);
        let end = reader.list_offset(tp, OffsetSpec::Latest, IsolationLevel::ReadUncommitted).ok().flatten();
        GroupOffsetRow {
            group: group.to_string(),
            topic: tp.topic.to_string(),
            partition: tp.partition,
            current_offset: committed,
            log_end_offset: end,
            lag: match (committed, end) {
                (Some(c), Some(e)) => Some(e - c),
                _ => None,
            },
            consumer_id: None,
            host: None,
            client_id: None,
        }
    };
    let mut owners: Vec<(String, String, String, Vec<TopicPartition>)> = described
        .members
        .iter()
        .map(|m| (m.member_id.clone(), m.client_host.clone(), m.client_id.clone(), m.assignment.clone()))
        .collect();
    // A consumer-protocol group's members and their current assignments.
    if let Some(g) = coordinator.consumer_groups().group(group) {
        for m in g.members.values() {
            let owned = m.assigned.iter().chain(&m.pending_revocation).cloned().collect();
            owners.push((m.member_id.clone(), m.client_host.clone(), m.client_id.clone(), owned));
        }
    }
    for (member_id, host, client_id, assignment) in owners {
        for tp in &assignment {
            let mut r = row(tp);
            r.consumer_id = Some(member_id.clone());
            r.host = Some(host.clone());
            r.client_id = Some(client_id.clone());
            rows.insert(tp.clone(), r);
        }
    }
    for (tp, _) in coordinator.offsets().group_offsets(group) {
        if !rows.contains_key(tp) {
            rows.insert(tp.clone(), row(tp));
        }
    }
    rows.into_values().collect()
}

/// The Java client's `FetchPosition.toString()`, as its `OffsetOutOfRangeException` prints it: the offset,
/// the epoch kept with it and the partition's current leader and leader epoch. A real client prints the
/// leader's advertised `host:port`; the engine writes `localhost` and the port the test script gives broker
/// N (`9092 + 2(N-1)`), and the program transcript prints every one as `HOST:PORT`.
fn fetch_position_text(
    offset: Offset,
    epoch: Option<i32>,
    leader: Option<(NodeId, Option<String>, i32)>,
) -> String {
    let optional =
        |e: Option<i32>| e.map_or_else(|| "Optional.empty".to_string(), |e| format!("Optional[{e}]"));
    let (node, leader_epoch) = match leader {
        Some((id, rack, e)) => (
            format!(
                "Optional[localhost:{} (id: {} rack: {} isFenced: false)]",
                9092 + 2 * (id.0 - 1),
                id.0,
                rack.as_deref().unwrap_or("null")
            ),
            Some(e),
        ),
        None => ("Optional.empty".to_string(), None),
    };
    format!(
        "FetchPosition{{offset={offset}, offsetEpoch={}, currentLeader=LeaderAndEpoch{{leader={node}, epoch={}}}}}",
        optional(epoch),
        leader_epoch.map_or_else(|| "absent".to_string(), |e| e.to_string())
    )
}
