//! The consumer group protocol of Kafka 4 (KIP-848, `group.protocol=consumer`): one
//! `ConsumerGroupHeartbeat` request carries everything; the coordinator computes the group's target
//! assignment with a server-side assignor and reconciles each member towards it, revoking before
//! assigning, as Kafka 4.1's `GroupMetadataManager.consumerGroupHeartbeat` and `CurrentAssignmentBuilder`
//! do.
//!
//! Epochs: the group epoch is bumped by every change of membership, subscription or subscribed topics'
//! partition counts; the target assignment epoch follows it when the target assignment is recomputed;
//! each member's epoch reaches the target assignment epoch once it has revoked what it must give up.
//!
//! Invariants (checked in `tests/kafka_groups.rs`): a partition is assigned to or pending revocation from
//! at most one member at a time (so never owned by two members); a member's epoch never exceeds the
//! target assignment epoch, which never exceeds the group epoch; the group epoch never decreases.

use super::types::{JoinGroupRequest, ProtocolMetadata, SyncGroupRequest};
use crate::kafka::assignor::{Assignment, ServerAssignor, ServerMember};
use crate::kafka::{ErrorCode, KafkaError, TopicPartition};
use crate::{Prng, VirtualTime};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// `LEAVE_GROUP_MEMBER_EPOCH`: a dynamic member leaves.
pub const LEAVE_GROUP_MEMBER_EPOCH: i32 = -1;
/// `LEAVE_GROUP_STATIC_MEMBER_EPOCH`: a static member leaves but keeps its assignment for a while.
pub const LEAVE_GROUP_STATIC_MEMBER_EPOCH: i32 = -2;

/// Broker settings of the consumer protocol, with Kafka's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerProtocolConfig {
    /// `group.consumer.session.timeout.ms` (45000).
    pub session_timeout_ms: u64,
    /// `group.consumer.heartbeat.interval.ms` (5000).
    pub heartbeat_interval_ms: u64,
    /// `group.consumer.max.size` (unbounded).
    pub max_size: usize,
    /// `group.consumer.assignors`, the first being the default (`uniform`, `range`).
    pub assignors: Vec<ServerAssignor>,
}

impl Default for ConsumerProtocolConfig {
    fn default() -> Self {
        ConsumerProtocolConfig {
            session_timeout_ms: 45_000,
            heartbeat_interval_ms: 5_000,
            max_size: usize::MAX,
            assignors: vec![ServerAssignor::Uniform, ServerAssignor::Range],
        }
    }
}

/// A `ConsumerGroupHeartbeat` request. `None` fields are "unchanged since the last heartbeat".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerGroupHeartbeatRequest {
    /// `group.id`.
    pub group_id: String,
    /// The member id (the Java client generates one before its first heartbeat; empty lets the broker).
    pub member_id: String,
    /// 0 to join, the current epoch afterwards, -1 to leave, -2 for a static member leaving.
    pub member_epoch: i32,
    /// `group.instance.id`.
    pub instance_id: Option<String>,
    /// `client.rack`.
    pub rack_id: Option<String>,
    /// `max.poll.interval.ms` (required when joining).
    pub rebalance_timeout_ms: Option<u64>,
    /// Subscribed topics (required when joining).
    pub subscribed_topic_names: Option<Vec<String>>,
    /// `group.remote.assignor`.
    pub server_assignor: Option<String>,
    /// The partitions the member owns now (empty when joining).
    pub owned_partitions: Option<Vec<TopicPartition>>,
    /// `client.id`.
    pub client_id: String,
    /// The client's host.
    pub client_host: String,
}

/// A `ConsumerGroupHeartbeat` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerGroupHeartbeatResponse {
    /// The member id.
    pub member_id: String,
    /// The member's epoch now.
    pub member_epoch: i32,
    /// When to heartbeat next.
    pub heartbeat_interval_ms: u64,
    /// The member's assigned partitions, when they changed (or the request was a full one).
    pub assignment: Option<Vec<TopicPartition>>,
}

/// Where a member is in its reconciliation (`MemberState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberState {
    /// At its target.
    Stable,
    /// Must revoke partitions before it can move on.
    UnrevokedPartitions,
    /// Waits for partitions other members still own.
    UnreleasedPartitions,
    /// Lost track.
    Unknown,
}

/// A consumer group's state (`ConsumerGroupState`), named as `kafka-consumer-groups` prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsumerGroupState {
    /// No members.
    Empty,
    /// The target assignment lags the group epoch.
    Assigning,
    /// Members are moving to the target assignment.
    Reconciling,
    /// Every member is at the target assignment.
    Stable,
}

impl fmt::Display for ConsumerGroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConsumerGroupState::Empty => "Empty",
            ConsumerGroupState::Assigning => "Assigning",
            ConsumerGroupState::Reconciling => "Reconciling",
            ConsumerGroupState::Stable => "Stable",
        })
    }
}

/// One member of a consumer group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerGroupMember {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id`.
    pub instance_id: Option<String>,
    /// `client.rack`.
    pub rack_id: Option<String>,
    /// `client.id`.
    pub client_id: String,
    /// Host.
    pub client_host: String,
    /// `max.poll.interval.ms`.
    pub rebalance_timeout_ms: u64,
    /// `group.remote.assignor` it asked for.
    pub server_assignor: Option<String>,
    /// Subscribed topics.
    pub subscribed_topics: BTreeSet<String>,
    /// Its epoch.
    pub member_epoch: i32,
    /// Its epoch before the last bump.
    pub previous_member_epoch: i32,
    /// Reconciliation state.
    pub state: MemberState,
    /// Partitions it is assigned (may use).
    pub assigned: BTreeSet<TopicPartition>,
    /// Partitions it must give up.
    pub pending_revocation: BTreeSet<TopicPartition>,
    session_deadline: VirtualTime,
    /// (deadline, epoch) while it has partitions to revoke.
    rebalance_deadline: Option<(VirtualTime, i32)>,
    /// Set for a member that speaks the classic protocol (JoinGroup / SyncGroup / Heartbeat) inside a
    /// consumer group, after an online upgrade (`ClassicMemberMetadata`).
    #[serde(default)]
    pub classic: Option<ClassicMemberMetadata>,
    /// A classic member's pending rejoin or sync and when it times out (its rebalance timeout):
    /// `scheduleConsumerGroupJoinTimeoutIfAbsent` / `scheduleConsumerGroupSyncTimeout`.
    #[serde(default)]
    classic_deadline: Option<(VirtualTime, ClassicWait)>,
}

/// What a classic member of a consumer group is expected to send before its rebalance timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum ClassicWait {
    /// A JoinGroup: it was told `REBALANCE_IN_PROGRESS`.
    Join,
    /// A SyncGroup: it joined.
    Sync,
}

/// What a classic-protocol member of a consumer group sent in its last JoinGroup: the session timeout
/// its heartbeats keep and the protocols (assignors) it supports, which a downgrade gives back to the
/// classic group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassicMemberMetadata {
    /// `session.timeout.ms`.
    pub session_timeout_ms: u64,
    /// Its JoinGroup protocols, preferred first.
    pub protocols: Vec<ProtocolMetadata>,
}

/// The answer to a classic member's JoinGroup sent to a consumer group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClassicJoinOutcome {
    /// A new dynamic member got an id and must rejoin with it (`MEMBER_ID_REQUIRED`).
    MemberIdRequired(String),
    /// Joined: the generation is the member epoch; no leader (the coordinator assigns).
    Joined {
        /// Member id.
        member_id: String,
        /// Its member epoch, given as the generation.
        generation: i32,
        /// Its preferred protocol.
        protocol: String,
    },
}

impl ConsumerGroupMember {
    fn new(member_id: &str) -> Self {
        ConsumerGroupMember {
            member_id: member_id.to_string(),
            instance_id: None,
            rack_id: None,
            client_id: String::new(),
            client_host: String::new(),
            rebalance_timeout_ms: 0,
            server_assignor: None,
            subscribed_topics: BTreeSet::new(),
            member_epoch: 0,
            previous_member_epoch: 0,
            state: MemberState::Stable,
            assigned: BTreeSet::new(),
            pending_revocation: BTreeSet::new(),
            session_deadline: VirtualTime::NEVER,
            rebalance_deadline: None,
            classic: None,
            classic_deadline: None,
        }
    }

    /// `ConsumerGroup.fromClassicGroup` for one member: stable at `generation`, owning its classic
    /// assignment, subscribed to the topics of its preferred protocol.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn from_classic(
        member_id: &str,
        instance_id: Option<String>,
        client_id: &str,
        client_host: &str,
        rebalance_timeout_ms: u64,
        generation: i32,
        assignment: &[TopicPartition],
        classic: ClassicMemberMetadata,
    ) -> Self {
        let mut m = ConsumerGroupMember::new(member_id);
        m.instance_id = instance_id;
        m.client_id = client_id.to_string();
        m.client_host = client_host.to_string();
        m.rebalance_timeout_ms = rebalance_timeout_ms;
        m.subscribed_topics =
            classic.protocols.first().map(|p| p.topics.iter().cloned().collect()).unwrap_or_default();
        m.member_epoch = generation;
        m.previous_member_epoch = generation;
        m.assigned = assignment.iter().cloned().collect();
        m.classic = Some(classic);
        m
    }

    /// Its session timeout: the classic one for a classic member, else the broker's.
    fn session_timeout_ms(&self, config: &ConsumerProtocolConfig) -> u64 {
        self.classic.as_ref().map_or(config.session_timeout_ms, |c| c.session_timeout_ms)
    }

    fn is_reconciled_to(&self, epoch: i32) -> bool {
        self.state == MemberState::Stable && self.member_epoch == epoch
    }

    fn set_epoch(&mut self, epoch: i32) {
        self.previous_member_epoch = self.member_epoch;
        self.member_epoch = epoch;
    }
}

/// A consumer-protocol group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerGroup {
    /// Group id.
    pub group_id: String,
    /// Group epoch.
    pub group_epoch: i32,
    /// Target assignment epoch.
    pub assignment_epoch: i32,
    /// Members by id.
    pub members: BTreeMap<String, ConsumerGroupMember>,
    /// Target assignment by member id.
    pub target: BTreeMap<String, BTreeSet<TopicPartition>>,
    static_members: BTreeMap<String, String>,
    /// Owner epoch of every partition assigned to or pending revocation from a member.
    partition_epochs: BTreeMap<TopicPartition, i32>,
    /// Partition counts of the subscribed topics when the group epoch was last bumped.
    subscription_metadata: BTreeMap<String, i32>,
}

impl ConsumerGroup {
    fn new(group_id: &str) -> Self {
        ConsumerGroup {
            group_id: group_id.to_string(),
            group_epoch: 0,
            assignment_epoch: 0,
            members: BTreeMap::new(),
            target: BTreeMap::new(),
            static_members: BTreeMap::new(),
            partition_epochs: BTreeMap::new(),
            subscription_metadata: BTreeMap::new(),
        }
    }

    /// The group's state.
    pub fn state(&self) -> ConsumerGroupState {
        if self.members.is_empty() {
            ConsumerGroupState::Empty
        } else if self.group_epoch > self.assignment_epoch {
            ConsumerGroupState::Assigning
        } else if self.members.values().any(|m| !m.is_reconciled_to(self.assignment_epoch)) {
            ConsumerGroupState::Reconciling
        } else {
            ConsumerGroupState::Stable
        }
    }

    fn update_member(&mut self, member: ConsumerGroupMember) {
        if let Some(old) = self.members.get(&member.member_id) {
            for tp in old.assigned.iter().chain(&old.pending_revocation) {
                self.partition_epochs.remove(tp);
            }
        }
        for tp in member.assigned.iter().chain(&member.pending_revocation) {
            self.partition_epochs.insert(tp.clone(), member.member_epoch);
        }
        if let Some(instance) = &member.instance_id {
            self.static_members.insert(instance.clone(), member.member_id.clone());
        }
        self.members.insert(member.member_id.clone(), member);
    }

    fn remove_member(&mut self, member_id: &str) -> Option<ConsumerGroupMember> {
        let old = self.members.remove(member_id)?;
        for tp in old.assigned.iter().chain(&old.pending_revocation) {
            self.partition_epochs.remove(tp);
        }
        if let Some(instance) = &old.instance_id {
            if self.static_members.get(instance).map(String::as_str) == Some(member_id) {
                self.static_members.remove(instance);
            }
        }
        self.target.remove(member_id);
        Some(old)
    }

    /// `ConsumerGroup.fromClassicGroup`: a consumer group at epoch `generation` whose members and target
    /// assignment are the classic group's.
    pub(super) fn from_classic(
        group_id: &str,
        generation: i32,
        members: Vec<ConsumerGroupMember>,
        partitions: &BTreeMap<String, i32>,
    ) -> Self {
        let mut g = ConsumerGroup::new(group_id);
        g.group_epoch = generation;
        g.assignment_epoch = generation;
        for m in members {
            g.target.insert(m.member_id.clone(), m.assigned.clone());
            g.update_member(m);
        }
        g.subscription_metadata = g.metadata_for(partitions);
        g
    }

    /// `allMembersUseClassicProtocolExcept`: every member but `member_id` speaks the classic protocol.
    pub fn all_classic_except(&self, member_id: &str) -> bool {
        self.members.values().filter(|m| m.member_id != member_id).all(|m| m.classic.is_some())
    }

    /// `waitingOnUnreleasedPartition`: a partition of its target another member still holds.
    fn waiting_on_unreleased(&self, member: &ConsumerGroupMember) -> bool {
        self.target.get(&member.member_id).is_some_and(|t| {
            t.iter().any(|tp| !member.assigned.contains(tp) && self.partition_epochs.contains_key(tp))
        })
    }

    /// The topics any member subscribes to (`subscribedTopicNames`).
    pub fn subscribed_topics(&self) -> BTreeSet<String> {
        self.members.values().flat_map(|m| m.subscribed_topics.iter().cloned()).collect()
    }

    fn metadata_for(&self, partitions: &BTreeMap<String, i32>) -> BTreeMap<String, i32> {
        self.subscribed_topics().into_iter().filter_map(|t| partitions.get(&t).map(|&n| (t, n))).collect()
    }

    /// The assignor the group uses: the one most members ask for, else the broker's default.
    fn preferred_assignor(&self, config: &ConsumerProtocolConfig) -> ServerAssignor {
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for m in self.members.values() {
            if let Some(a) = &m.server_assignor {
                *votes.entry(a.as_str()).or_default() += 1;
            }
        }
        let best =
            votes.iter().max_by_key(|(name, n)| (**n, std::cmp::Reverse(**name))).map(|(name, _)| *name);
        best.and_then(ServerAssignor::from_name)
            .or_else(|| config.assignors.first().copied())
            .unwrap_or_default()
    }
}

/// Something that happened in a consumer group, for transcripts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsumerGroupEvent {
    /// The group epoch was bumped.
    GroupEpochBumped {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// New epoch.
        epoch: i32,
    },
    /// A new target assignment was computed.
    TargetAssignment {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// Its epoch.
        epoch: i32,
        /// Member → partitions, in member-id order.
        assignment: Vec<(String, Vec<TopicPartition>)>,
    },
    /// A member's reconciliation moved on.
    MemberReconciled {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// Member.
        member: String,
        /// Its epoch now.
        epoch: i32,
        /// Its state now.
        state: MemberState,
        /// Assigned partitions.
        assigned: Vec<TopicPartition>,
        /// Partitions it must revoke.
        revoking: Vec<TopicPartition>,
    },
    /// A member was removed (left, fenced by a timeout).
    MemberFenced {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// Member.
        member: String,
        /// Why.
        reason: String,
    },
}

impl ConsumerGroupEvent {
    /// A short stable name of the event's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            ConsumerGroupEvent::GroupEpochBumped { .. } => "group-epoch-bumped",
            ConsumerGroupEvent::TargetAssignment { .. } => "target-assignment",
            ConsumerGroupEvent::MemberReconciled { .. } => "member-reconciled",
            ConsumerGroupEvent::MemberFenced { .. } => "member-fenced",
        }
    }
}

fn list(partitions: &[TopicPartition]) -> String {
    if partitions.is_empty() {
        "-".to_string()
    } else {
        partitions.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    }
}

impl fmt::Display for ConsumerGroupEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsumerGroupEvent::GroupEpochBumped { at, group, epoch } => {
                write!(f, "{at} group {group}: group epoch {epoch}")
            }
            ConsumerGroupEvent::TargetAssignment { at, group, epoch, assignment } => {
                write!(f, "{at} group {group}: target assignment epoch {epoch}")?;
                for (m, l) in assignment {
                    write!(f, " {m}=[{}]", list(l))?;
                }
                Ok(())
            }
            ConsumerGroupEvent::MemberReconciled { at, group, member, epoch, state, assigned, revoking } => {
                write!(
                    f,
                    "{at} group {group}: member {member} epoch {epoch} {state:?} assigned=[{}] revoking=[{}]",
                    list(assigned),
                    list(revoking)
                )
            }
            ConsumerGroupEvent::MemberFenced { at, group, member, reason } => {
                write!(f, "{at} group {group}: member {member} fenced ({reason})")
            }
        }
    }
}

/// The consumer-protocol groups of a coordinator.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsumerGroups {
    config: ConsumerProtocolConfig,
    groups: BTreeMap<String, ConsumerGroup>,
    prng: Prng,
    now: VirtualTime,
    events: Vec<ConsumerGroupEvent>,
    /// Groups whose remaining members all speak the classic protocol after a member was fenced, with
    /// the group epoch before it: the coordinator decides whether to downgrade them.
    #[serde(default)]
    downgrade_candidates: Vec<(String, i32)>,
}

fn invalid(message: &str) -> KafkaError {
    KafkaError::with_message(ErrorCode::InvalidRequest, message)
}

impl ConsumerGroups {
    /// No groups yet; `seed` draws the member ids the broker generates.
    pub fn new(config: ConsumerProtocolConfig, seed: u64) -> Self {
        ConsumerGroups {
            config,
            groups: BTreeMap::new(),
            prng: Prng::new(seed),
            now: VirtualTime::ZERO,
            events: Vec::new(),
            downgrade_candidates: Vec::new(),
        }
    }

    /// The broker settings of the consumer protocol.
    pub fn config(&self) -> &ConsumerProtocolConfig {
        &self.config
    }

    /// Puts a group converted from a classic group in place, its members' sessions running from now.
    pub(super) fn insert_upgraded(&mut self, mut group: ConsumerGroup) {
        let now = self.now;
        let members: Vec<ConsumerGroupMember> = group.members.values().cloned().collect();
        for mut m in members {
            m.session_deadline = now.plus_millis(m.session_timeout_ms(&self.config));
            group.members.insert(m.member_id.clone(), m);
        }
        self.groups.insert(group.group_id.clone(), group);
    }

    /// Takes a group out (it becomes a classic group).
    pub(super) fn take_group(&mut self, group_id: &str) -> Option<ConsumerGroup> {
        self.groups.remove(group_id)
    }

    /// The groups left with only classic members since the last call, with their epoch before.
    pub(super) fn take_downgrade_candidates(&mut self) -> Vec<(String, i32)> {
        std::mem::take(&mut self.downgrade_candidates)
    }

    /// A group, if it exists.
    pub fn group(&self, group_id: &str) -> Option<&ConsumerGroup> {
        self.groups.get(group_id)
    }

    /// The server-side assignor group `group_id` uses (`uniform`, `range`), as DescribeGroups reports it.
    pub fn assignor_name(&self, group_id: &str) -> Option<&'static str> {
        self.groups.get(group_id).map(|g| g.preferred_assignor(&self.config).name())
    }

    /// Every group id, in order.
    pub fn group_ids(&self) -> Vec<String> {
        self.groups.keys().cloned().collect()
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<ConsumerGroupEvent> {
        std::mem::take(&mut self.events)
    }

    /// A new member id as Kafka's `Uuid.randomUuid().toString()` prints one: 22 characters of URL-safe
    /// base64.
    pub fn new_member_id(&mut self) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bytes: Vec<u8> =
            [self.prng.next_u64().to_be_bytes(), self.prng.next_u64().to_be_bytes()].concat();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | *b as u32) << (8 * (3 - chunk.len()));
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    /// When the next session or rebalance timeout is due.
    pub fn next_deadline(&self) -> Option<VirtualTime> {
        self.groups
            .values()
            .flat_map(|g| g.members.values())
            .flat_map(|m| {
                [
                    Some(m.session_deadline),
                    m.rebalance_deadline.map(|(t, _)| t),
                    m.classic_deadline.map(|(t, _)| t),
                ]
            })
            .flatten()
            .filter(|t| *t != VirtualTime::NEVER)
            .min()
    }

    /// Fires the session and rebalance timeouts due by `at`: such members are fenced.
    pub fn advance_to(&mut self, at: VirtualTime) {
        while let Some(due) = self.next_deadline().filter(|t| *t <= at) {
            self.now = self.now.max(due);
            let mut fenced = Vec::new();
            for g in self.groups.values() {
                for m in g.members.values() {
                    if m.session_deadline == due {
                        fenced.push((g.group_id.clone(), m.member_id.clone(), "session timeout"));
                    } else if let Some((_, wait)) = m.classic_deadline.filter(|(t, _)| *t == due) {
                        let reason = match wait {
                            ClassicWait::Join => "did not rejoin before the rebalance timeout",
                            ClassicWait::Sync => "did not sync before the rebalance timeout",
                        };
                        fenced.push((g.group_id.clone(), m.member_id.clone(), reason));
                    } else if let Some((t, epoch)) = m.rebalance_deadline {
                        if t == due {
                            if m.member_epoch == epoch && m.state == MemberState::UnrevokedPartitions {
                                fenced.push((g.group_id.clone(), m.member_id.clone(), "rebalance timeout"));
                            } else {
                                fenced.push((g.group_id.clone(), m.member_id.clone(), ""));
                            }
                        }
                    }
                }
            }
            for (group, member, reason) in fenced {
                if reason.is_empty() {
                    // A stale rebalance timer: the member revoked in time.
                    if let Some(m) = self.groups.get_mut(&group).and_then(|g| g.members.get_mut(&member)) {
                        m.rebalance_deadline = None;
                    }
                } else {
                    self.fence(&group, &member, reason);
                }
            }
        }
        self.now = self.now.max(at);
    }

    fn fence(&mut self, group_id: &str, member_id: &str, reason: &str) {
        let now = self.now;
        let Some(g) = self.groups.get_mut(group_id) else { return };
        // `validateOnlineDowngradeWithFencedMember`: the others all classic, and not the last member.
        if g.members.contains_key(member_id) && g.members.len() > 1 && g.all_classic_except(member_id) {
            self.downgrade_candidates.push((group_id.to_string(), g.group_epoch));
        }
        if g.remove_member(member_id).is_none() {
            return;
        }
        g.group_epoch += 1;
        let epoch = g.group_epoch;
        self.events.push(ConsumerGroupEvent::MemberFenced {
            at: now,
            group: group_id.to_string(),
            member: member_id.to_string(),
            reason: reason.to_string(),
        });
        self.events.push(ConsumerGroupEvent::GroupEpochBumped {
            at: now,
            group: group_id.to_string(),
            epoch,
        });
    }

    /// A `ConsumerGroupHeartbeat` at `at`, over topics with these partition counts.
    pub fn heartbeat(
        &mut self,
        at: VirtualTime,
        request: ConsumerGroupHeartbeatRequest,
        partitions: &BTreeMap<String, i32>,
    ) -> Result<ConsumerGroupHeartbeatResponse, KafkaError> {
        self.advance_to(at);
        self.validate(&request)?;
        if request.member_epoch == LEAVE_GROUP_MEMBER_EPOCH
            || request.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH
        {
            return self.leave(request);
        }
        let joining = request.member_epoch == 0;
        if !self.groups.contains_key(&request.group_id) {
            if !joining {
                return Err(KafkaError::with_message(
                    ErrorCode::GroupIdNotFound,
                    format!("Consumer group {} not found.", request.group_id),
                ));
            }
            self.groups.insert(request.group_id.clone(), ConsumerGroup::new(&request.group_id));
        }
        let g = &self.groups[&request.group_id];
        if g.members.len() >= self.config.max_size
            && (request.member_id.is_empty() || !g.members.contains_key(&request.member_id))
        {
            return Err(KafkaError::with_message(
                ErrorCode::GroupMaxSizeReached,
                format!(
                    "The consumer group has reached its maximum capacity of {} members.",
                    self.config.max_size
                ),
            ));
        }
        let member_id =
            if request.member_id.is_empty() { self.new_member_id() } else { request.member_id.clone() };
        let g = &self.groups[&request.group_id];
        let owned = request.owned_partitions.as_deref();
        let (member, replaced) = match &request.instance_id {
            None => {
                let member = match g.members.get(&member_id) {
                    Some(m) => m.clone(),
                    None if joining => ConsumerGroupMember::new(&member_id),
                    None => {
                        return Err(KafkaError::with_message(
                            ErrorCode::UnknownMemberId,
                            format!("Member {member_id} is not a member of group {}.", request.group_id),
                        ))
                    }
                };
                check_member_epoch(&member, request.member_epoch, owned)?;
                (member, None)
            }
            Some(instance) => {
                let existing = g.static_members.get(instance).and_then(|id| g.members.get(id)).cloned();
                if joining {
                    match existing {
                        None => (ConsumerGroupMember::new(&member_id), None),
                        Some(old) => {
                            // Kafka checks that the instance id was released only when the old member
                            // uses the consumer protocol too: a classic static member (one not yet
                            // upgraded, KIP-848's online migration) is replaced whatever its epoch.
                            if old.classic.is_none() && old.member_epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH {
                                return Err(KafkaError::with_message(
                                    ErrorCode::UnreleasedInstanceId,
                                    format!(
                                        "Static member {member_id} with instance id {instance} cannot join the group because the instance id is owned by {} member.",
                                        old.member_id
                                    ),
                                ));
                            }
                            // The new member takes over the old one's assignment, at epoch 0.
                            let mut m = old.clone();
                            m.member_id = member_id.clone();
                            m.member_epoch = 0;
                            m.previous_member_epoch = 0;
                            // It heartbeats with the consumer protocol from now on.
                            m.classic = None;
                            m.classic_deadline = None;
                            (m, Some(old.member_id))
                        }
                    }
                } else {
                    let Some(old) = existing else {
                        return Err(KafkaError::with_message(
                            ErrorCode::UnknownMemberId,
                            format!("Instance id {instance} is unknown."),
                        ));
                    };
                    if old.member_id != member_id {
                        return Err(KafkaError::with_message(
                            ErrorCode::FencedInstanceId,
                            format!("Static member {member_id} with instance id {instance} was fenced by member {}.", old.member_id),
                        ));
                    }
                    check_member_epoch(&old, request.member_epoch, owned)?;
                    (old, None)
                }
            }
        };
        let g = self.groups.get_mut(&request.group_id).expect("exists");
        let is_new = !g.members.contains_key(&member.member_id);
        if let Some(old_id) = &replaced {
            let target = g.target.remove(old_id);
            g.remove_member(old_id);
            if let Some(t) = target {
                g.target.insert(member_id.clone(), t);
            }
        }
        let mut updated = member.clone();
        updated.instance_id = request.instance_id.clone().or(updated.instance_id);
        if request.rack_id.is_some() {
            updated.rack_id = request.rack_id.clone();
        }
        if let Some(t) = request.rebalance_timeout_ms {
            updated.rebalance_timeout_ms = t;
        }
        if request.server_assignor.is_some() {
            updated.server_assignor = request.server_assignor.clone();
        }
        if let Some(topics) = &request.subscribed_topic_names {
            updated.subscribed_topics = topics.iter().cloned().collect();
        }
        updated.client_id = request.client_id.clone();
        updated.client_host = request.client_host.clone();
        let subscription_changed = (is_new && replaced.is_none())
            || updated.subscribed_topics != member.subscribed_topics
            || updated.server_assignor != member.server_assignor
            || updated.rack_id != member.rack_id;
        let (target_epoch, target) =
            self.update_member_and_target(&request.group_id, &updated, subscription_changed, partitions);
        let now = self.now;
        let g = self.groups.get_mut(&request.group_id).expect("exists");
        let mut reconciled = updated.clone();
        if !reconciled.is_reconciled_to(target_epoch) {
            reconciled = reconcile(&reconciled, target_epoch, &target, &g.partition_epochs, owned)?;
        }
        let rebalance_timeout = reconciled.rebalance_timeout_ms;
        if reconciled.state == MemberState::UnrevokedPartitions {
            if reconciled.rebalance_deadline.is_none_or(|(_, e)| e != reconciled.member_epoch) {
                reconciled.rebalance_deadline =
                    Some((now.plus_millis(rebalance_timeout), reconciled.member_epoch));
            }
        } else {
            reconciled.rebalance_deadline = None;
        }
        reconciled.session_deadline = now.plus_millis(reconciled.session_timeout_ms(&self.config));
        let changed = reconciled.member_epoch != updated.member_epoch
            || reconciled.state != updated.state
            || reconciled.assigned != updated.assigned
            || reconciled.pending_revocation != updated.pending_revocation;
        let assignment_changed = reconciled.assigned != member.assigned || is_new;
        g.update_member(reconciled.clone());
        if changed {
            self.events.push(ConsumerGroupEvent::MemberReconciled {
                at: now,
                group: request.group_id.clone(),
                member: member_id.clone(),
                epoch: reconciled.member_epoch,
                state: reconciled.state,
                assigned: reconciled.assigned.iter().cloned().collect(),
                revoking: reconciled.pending_revocation.iter().cloned().collect(),
            });
        }
        let full = joining
            || (request.rebalance_timeout_ms.is_some()
                && request.subscribed_topic_names.is_some()
                && request.owned_partitions.is_some());
        Ok(ConsumerGroupHeartbeatResponse {
            member_id,
            member_epoch: reconciled.member_epoch,
            heartbeat_interval_ms: self.config.heartbeat_interval_ms,
            assignment: (full || assignment_changed).then(|| reconciled.assigned.iter().cloned().collect()),
        })
    }

    /// `ConsumerGroup.validateOffsetCommit`: a commit with a negative epoch is accepted only by an empty
    /// group; otherwise the member must exist and commit with its current epoch (`STALE_MEMBER_EPOCH`, or
    /// `ILLEGAL_GENERATION` for a classic member, whose generation is its member epoch).
    pub fn validate_offset_commit(
        &self,
        group_id: &str,
        member_id: &str,
        member_epoch: i32,
    ) -> Result<(), KafkaError> {
        let Some(g) = self.groups.get(group_id) else {
            return Err(KafkaError::with_message(
                ErrorCode::GroupIdNotFound,
                format!("Consumer group {group_id} not found."),
            ));
        };
        if member_epoch < 0 && g.members.is_empty() {
            return Ok(());
        }
        let Some(member) = g.members.get(member_id) else {
            return Err(KafkaError::with_message(
                ErrorCode::UnknownMemberId,
                format!("Member {member_id} is not a member of group {group_id}."),
            ));
        };
        if member_epoch != member.member_epoch && member.classic.is_some() {
            // A classic member (after an online upgrade) commits with its generation.
            return Err(KafkaError::with_message(
                ErrorCode::IllegalGeneration,
                format!(
                    "The received generation id {member_epoch} does not match the expected member epoch {}.",
                    member.member_epoch
                ),
            ));
        }
        if member_epoch != member.member_epoch {
            return Err(KafkaError::with_message(
                ErrorCode::StaleMemberEpoch,
                format!(
                    "The received member epoch {member_epoch} does not match the expected member epoch {}.",
                    member.member_epoch
                ),
            ));
        }
        Ok(())
    }

    fn validate(&self, r: &ConsumerGroupHeartbeatRequest) -> Result<(), KafkaError> {
        if r.group_id.is_empty() {
            return Err(invalid("GroupId can't be empty."));
        }
        if r.instance_id.as_deref() == Some("") {
            return Err(invalid("InstanceId can't be empty."));
        }
        if r.rack_id.as_deref() == Some("") {
            return Err(invalid("RackId can't be empty."));
        }
        match r.member_epoch {
            e if e > 0 || e == LEAVE_GROUP_MEMBER_EPOCH => {
                if r.member_id.is_empty() {
                    return Err(invalid("MemberId can't be empty."));
                }
            }
            0 => {
                if r.rebalance_timeout_ms.is_none() {
                    return Err(invalid("RebalanceTimeoutMs must be provided in first request."));
                }
                if r.owned_partitions.as_ref().is_none_or(|p| !p.is_empty()) {
                    return Err(invalid("TopicPartitions must be empty when (re-)joining."));
                }
                if r.subscribed_topic_names.as_ref().is_none_or(|t| t.is_empty()) {
                    return Err(invalid("SubscribedTopicNames must be set in first request."));
                }
            }
            LEAVE_GROUP_STATIC_MEMBER_EPOCH => {
                if r.member_id.is_empty() {
                    return Err(invalid("MemberId can't be empty."));
                }
                if r.instance_id.is_none() {
                    return Err(invalid("InstanceId can't be null."));
                }
            }
            _ => return Err(invalid("MemberEpoch is invalid.")),
        }
        if let Some(name) = &r.server_assignor {
            if !self.config.assignors.iter().any(|a| a.name() == name) {
                let names: Vec<&str> = self.config.assignors.iter().map(|a| a.name()).collect();
                return Err(KafkaError::with_message(
                    ErrorCode::UnsupportedAssignor,
                    format!(
                        "ServerAssignor {name} is not supported. Supported assignors: {}.",
                        names.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn leave(
        &mut self,
        r: ConsumerGroupHeartbeatRequest,
    ) -> Result<ConsumerGroupHeartbeatResponse, KafkaError> {
        let Some(g) = self.groups.get_mut(&r.group_id) else {
            return Err(KafkaError::with_message(
                ErrorCode::GroupIdNotFound,
                format!("Consumer group {} not found.", r.group_id),
            ));
        };
        let member_id = match &r.instance_id {
            None => {
                if !g.members.contains_key(&r.member_id) {
                    return Err(KafkaError::with_message(
                        ErrorCode::UnknownMemberId,
                        format!("Member {} is not a member of group {}.", r.member_id, r.group_id),
                    ));
                }
                r.member_id.clone()
            }
            Some(instance) => {
                let Some(existing) = g.static_members.get(instance).cloned() else {
                    return Err(KafkaError::with_message(
                        ErrorCode::UnknownMemberId,
                        format!("Instance id {instance} is unknown."),
                    ));
                };
                if existing != r.member_id {
                    return Err(KafkaError::with_message(
                        ErrorCode::FencedInstanceId,
                        format!(
                            "Static member {} with instance id {instance} was fenced by member {existing}.",
                            r.member_id
                        ),
                    ));
                }
                if r.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
                    // It keeps its assignment until its session expires or it rejoins.
                    let m = g.members.get_mut(&existing).expect("static member");
                    m.member_epoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
                    m.pending_revocation.clear();
                    let m = m.clone();
                    g.update_member(m);
                    return Ok(ConsumerGroupHeartbeatResponse {
                        member_id: existing,
                        member_epoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH,
                        heartbeat_interval_ms: 0,
                        assignment: None,
                    });
                }
                existing
            }
        };
        self.fence(&r.group_id, &member_id, "left");
        Ok(ConsumerGroupHeartbeatResponse {
            member_id: r.member_id,
            member_epoch: r.member_epoch,
            heartbeat_interval_ms: 0,
            assignment: None,
        })
    }

    /// Puts `updated` in its group (with its current assignment, so that the subscription metadata covers
    /// its new subscription), bumps the group epoch when its subscription or the subscribed topics'
    /// metadata changed, and computes a new target assignment when the group epoch has moved past the
    /// target's. Returns the target's epoch and the member's target partitions. Shared by the consumer
    /// protocol's heartbeat and a classic member's join into a consumer-protocol group.
    fn update_member_and_target(
        &mut self,
        group_id: &str,
        updated: &ConsumerGroupMember,
        subscription_changed: bool,
        partitions: &BTreeMap<String, i32>,
    ) -> (i32, BTreeSet<TopicPartition>) {
        let now = self.now;
        let g = self.groups.get_mut(group_id).expect("the caller found the group");
        g.update_member(updated.clone());
        let metadata = g.metadata_for(partitions);
        let mut bump = subscription_changed;
        if metadata != g.subscription_metadata {
            g.subscription_metadata = metadata;
            bump = true;
        }
        if bump {
            g.group_epoch += 1;
            let epoch = g.group_epoch;
            self.events.push(ConsumerGroupEvent::GroupEpochBumped {
                at: now,
                group: group_id.to_string(),
                epoch,
            });
        }
        let g = &self.groups[group_id];
        if g.group_epoch > g.assignment_epoch {
            self.compute_target_assignment(group_id, partitions);
        }
        let g = &self.groups[group_id];
        (g.assignment_epoch, g.target.get(&updated.member_id).cloned().unwrap_or_default())
    }

    fn compute_target_assignment(&mut self, group_id: &str, partitions: &BTreeMap<String, i32>) {
        let now = self.now;
        let config = self.config.clone();
        let g = self.groups.get_mut(group_id).expect("exists");
        let assignor = g.preferred_assignor(&config);
        let members: Vec<ServerMember> = g
            .members
            .values()
            .map(|m| ServerMember {
                member_id: m.member_id.clone(),
                instance_id: m.instance_id.clone(),
                topics: m.subscribed_topics.clone(),
                assignment: g
                    .target
                    .get(&m.member_id)
                    .map(|t| t.iter().cloned().collect())
                    .unwrap_or_default(),
            })
            .collect();
        let assignment: Assignment = assignor.assign(&members, partitions);
        g.target = assignment.iter().map(|(m, l)| (m.clone(), l.iter().cloned().collect())).collect();
        g.assignment_epoch = g.group_epoch;
        self.events.push(ConsumerGroupEvent::TargetAssignment {
            at: now,
            group: group_id.to_string(),
            epoch: g.assignment_epoch,
            assignment: assignment.into_iter().collect(),
        });
    }
}

/// `throwIfConsumerGroupMemberEpochIsInvalid`.
fn check_member_epoch(
    member: &ConsumerGroupMember,
    received: i32,
    owned: Option<&[TopicPartition]>,
) -> Result<(), KafkaError> {
    if received > member.member_epoch {
        return Err(KafkaError::with_message(
            ErrorCode::FencedMemberEpoch,
            format!(
                "The consumer group member has a greater member epoch ({received}) than the one known by the group coordinator ({}). The member must abandon all its partitions and rejoin.",
                member.member_epoch
            ),
        ));
    }
    if received < member.member_epoch {
        let subset = owned.is_some_and(|o| o.iter().all(|tp| member.assigned.contains(tp)));
        if received != member.previous_member_epoch || !subset {
            return Err(KafkaError::with_message(
                ErrorCode::FencedMemberEpoch,
                format!(
                    "The consumer group member has a smaller member epoch ({received}) than the one known by the group coordinator ({}). The member must abandon all its partitions and rejoin.",
                    member.member_epoch
                ),
            ));
        }
    }
    Ok(())
}

/// `CurrentAssignmentBuilder.build`: one step of a member towards its target assignment.
fn reconcile(
    member: &ConsumerGroupMember,
    target_epoch: i32,
    target: &BTreeSet<TopicPartition>,
    partition_epochs: &BTreeMap<TopicPartition, i32>,
    owned: Option<&[TopicPartition]>,
) -> Result<ConsumerGroupMember, KafkaError> {
    // `ownsRevokedPartitions`: without an owned list (a partial heartbeat) it is assumed to still own them.
    let owns_any = |set: &BTreeSet<TopicPartition>| owned.is_none_or(|o| o.iter().any(|tp| set.contains(tp)));
    let next = |epoch: i32| compute_next(member, epoch, target_epoch, target, partition_epochs, &owns_any);
    Ok(match member.state {
        MemberState::Stable if member.member_epoch != target_epoch => next(member.member_epoch),
        MemberState::Stable => member.clone(),
        MemberState::UnrevokedPartitions => {
            if owns_any(&member.pending_revocation) {
                member.clone()
            } else {
                next(member.member_epoch + 1)
            }
        }
        MemberState::UnreleasedPartitions => next(member.member_epoch),
        MemberState::Unknown => {
            if owned.is_none_or(|o| !o.is_empty()) {
                return Err(KafkaError::with_message(
                    ErrorCode::FencedMemberEpoch,
                    "The consumer group member is in a unknown state. The member must abandon all its partitions and rejoin.",
                ));
            }
            next(target_epoch)
        }
    })
}

fn compute_next(
    member: &ConsumerGroupMember,
    epoch: i32,
    target_epoch: i32,
    target: &BTreeSet<TopicPartition>,
    partition_epochs: &BTreeMap<TopicPartition, i32>,
    owns_any: &dyn Fn(&BTreeSet<TopicPartition>) -> bool,
) -> ConsumerGroupMember {
    let assigned: BTreeSet<TopicPartition> = member.assigned.intersection(target).cloned().collect();
    let revoking: BTreeSet<TopicPartition> = member.assigned.difference(&assigned).cloned().collect();
    let mut pending: BTreeSet<TopicPartition> = target.difference(&assigned).cloned().collect();
    let before = pending.len();
    // Another member still holds it (assigned or revoking): wait until it is released.
    pending.retain(|tp| !partition_epochs.contains_key(tp));
    let unreleased = pending.len() < before;
    let mut m = member.clone();
    if !revoking.is_empty() && owns_any(&revoking) {
        m.state = MemberState::UnrevokedPartitions;
        m.set_epoch(epoch);
        m.assigned = assigned;
        m.pending_revocation = revoking;
    } else {
        let mut all = assigned;
        all.extend(pending.iter().cloned());
        m.state = if unreleased { MemberState::UnreleasedPartitions } else { MemberState::Stable };
        m.set_epoch(target_epoch);
        m.assigned = all;
        m.pending_revocation.clear();
    }
    m
}

/// The classic protocol spoken inside a consumer group (KIP-848's online migration): a classic member's
/// JoinGroup, SyncGroup, Heartbeat and LeaveGroup, as `GroupMetadataManager.classicGroup…ToConsumerGroup`
/// handles them. The coordinator assigns (the JoinGroup answer names no leader); the generation is the
/// member epoch; a member behind the group epoch, or with partitions to revoke, is told to rejoin
/// (`REBALANCE_IN_PROGRESS`).
impl ConsumerGroups {
    fn classic_member(
        &self,
        group_id: &str,
        member_id: &str,
        instance: Option<&str>,
    ) -> Result<&ConsumerGroupMember, ErrorCode> {
        let g = self.groups.get(group_id).ok_or(ErrorCode::UnknownMemberId)?;
        let member = match instance {
            None => g.members.get(member_id).ok_or(ErrorCode::UnknownMemberId)?,
            Some(i) => {
                let m = g
                    .static_members
                    .get(i)
                    .and_then(|id| g.members.get(id))
                    .ok_or(ErrorCode::UnknownMemberId)?;
                if m.member_id != member_id {
                    return Err(ErrorCode::FencedInstanceId);
                }
                m
            }
        };
        // `throwIfMemberDoesNotUseClassicProtocol`.
        if member.classic.is_none() {
            return Err(ErrorCode::UnknownMemberId);
        }
        Ok(member)
    }

    /// A classic member's JoinGroup to consumer group `request.group_id`, over topics with these
    /// partition counts: the member is created or updated, the target assignment recomputed if the group
    /// epoch moved, and the member reconciled towards it (an eager member owns nothing when it rejoins).
    pub(super) fn classic_join(
        &mut self,
        at: VirtualTime,
        request: &JoinGroupRequest,
        partitions: &BTreeMap<String, i32>,
    ) -> Result<ClassicJoinOutcome, ErrorCode> {
        self.advance_to(at);
        let group_id = request.group_id.clone();
        if !self.groups.contains_key(&group_id) {
            return Err(ErrorCode::UnknownMemberId);
        }
        let unknown = request.member_id.is_empty();
        let member_id = if unknown { self.new_member_id() } else { request.member_id.clone() };
        let g = &self.groups[&group_id];
        let existing = match &request.group_instance_id {
            Some(i) => g.static_members.get(i).and_then(|id| g.members.get(id)).cloned(),
            None => g.members.get(&member_id).cloned(),
        };
        // `throwIfConsumerGroupIsFull`.
        if existing.is_none() && g.members.len() >= self.config.max_size {
            return Err(ErrorCode::GroupMaxSizeReached);
        }
        // `throwIfClassicProtocolIsNotSupported`: the consumer protocol type, and a protocol every other
        // classic member supports.
        let supported = request.protocol_type == "consumer"
            && !request.protocols.is_empty()
            && request.protocols.iter().any(|p| {
                g.members
                    .values()
                    .filter(|m| m.member_id != member_id)
                    .all(|m| m.classic.as_ref().is_none_or(|c| c.protocols.iter().any(|q| q.name == p.name)))
            });
        if !supported {
            return Err(ErrorCode::InconsistentGroupProtocol);
        }
        if unknown && request.group_instance_id.is_none() {
            return Ok(ClassicJoinOutcome::MemberIdRequired(member_id));
        }
        let member = match existing {
            Some(m) if m.member_id == member_id => m,
            // A static member rejoining with a new id: Kafka replaces it (not modelled here).
            Some(_) => return Err(ErrorCode::FencedInstanceId),
            None => ConsumerGroupMember::new(&member_id),
        };
        let is_new = !g.members.contains_key(&member_id);
        let subscription = &request.protocols[0];
        let mut updated = member.clone();
        updated.instance_id = request.group_instance_id.clone().or(updated.instance_id);
        updated.rebalance_timeout_ms = request.rebalance_timeout_ms;
        updated.server_assignor = None;
        updated.subscribed_topics = subscription.topics.iter().cloned().collect();
        updated.client_id = request.client_id.clone();
        updated.client_host = request.client_host.clone();
        updated.classic = Some(ClassicMemberMetadata {
            session_timeout_ms: request.session_timeout_ms,
            protocols: request.protocols.clone(),
        });
        let subscription_changed = is_new || updated.subscribed_topics != member.subscribed_topics;
        let (target_epoch, target) =
            self.update_member_and_target(&group_id, &updated, subscription_changed, partitions);
        let now = self.now;
        let g = self.groups.get_mut(&group_id).expect("exists");
        let mut reconciled = updated.clone();
        if !reconciled.is_reconciled_to(target_epoch) {
            reconciled = reconcile(
                &reconciled,
                target_epoch,
                &target,
                &g.partition_epochs,
                Some(&subscription.owned_partitions),
            )
            .map_err(|e| e.code)?;
        }
        reconciled.session_deadline = now.plus_millis(request.session_timeout_ms);
        // The rejoin came: now a SyncGroup is due within the rebalance timeout.
        reconciled.classic_deadline =
            Some((now.plus_millis(request.rebalance_timeout_ms), ClassicWait::Sync));
        let changed = reconciled.member_epoch != updated.member_epoch
            || reconciled.state != updated.state
            || reconciled.assigned != updated.assigned
            || reconciled.pending_revocation != updated.pending_revocation;
        g.update_member(reconciled.clone());
        if changed {
            self.events.push(ConsumerGroupEvent::MemberReconciled {
                at: now,
                group: group_id,
                member: member_id.clone(),
                epoch: reconciled.member_epoch,
                state: reconciled.state,
                assigned: reconciled.assigned.iter().cloned().collect(),
                revoking: reconciled.pending_revocation.iter().cloned().collect(),
            });
        }
        Ok(ClassicJoinOutcome::Joined {
            member_id,
            generation: reconciled.member_epoch,
            protocol: subscription.name.clone(),
        })
    }

    /// A classic member's SyncGroup: its assigned partitions, unless it must rejoin first.
    pub(super) fn classic_sync(
        &mut self,
        at: VirtualTime,
        request: &SyncGroupRequest,
    ) -> Result<(String, Vec<TopicPartition>), ErrorCode> {
        self.advance_to(at);
        let member =
            self.classic_member(&request.group_id, &request.member_id, request.group_instance_id.as_deref())?;
        // `throwIfGenerationIdUnmatched`, `throwIfClassicProtocolUnmatched`, `throwIfRebalanceInProgress`.
        if request.generation_id != member.member_epoch {
            return Err(ErrorCode::IllegalGeneration);
        }
        let classic = member.classic.as_ref().expect("a classic member");
        let protocol = request.protocol_name.clone().unwrap_or_default();
        if request.protocol_type.as_deref().is_some_and(|t| t != "consumer")
            || !classic.protocols.iter().any(|p| p.name == protocol)
        {
            return Err(ErrorCode::InconsistentGroupProtocol);
        }
        let g = &self.groups[&request.group_id];
        if g.group_epoch > member.member_epoch && member.state != MemberState::UnrevokedPartitions {
            return Err(ErrorCode::RebalanceInProgress);
        }
        let assigned: Vec<TopicPartition> = member.assigned.iter().cloned().collect();
        let deadline = self.now.plus_millis(classic.session_timeout_ms);
        let id = member.member_id.clone();
        if let Some(m) = self.groups.get_mut(&request.group_id).and_then(|g| g.members.get_mut(&id)) {
            m.session_deadline = deadline;
            m.classic_deadline = None;
        }
        Ok((protocol, assigned))
    }

    /// A classic member's Heartbeat: `REBALANCE_IN_PROGRESS` when the group epoch moved past its
    /// epoch, when it has partitions to revoke, or when partitions it waited for are free.
    pub(super) fn classic_heartbeat(
        &mut self,
        at: VirtualTime,
        group_id: &str,
        member_id: &str,
        instance: Option<&str>,
        generation: i32,
    ) -> Option<ErrorCode> {
        self.advance_to(at);
        let member = match self.classic_member(group_id, member_id, instance) {
            Ok(m) => m.clone(),
            Err(e) => return Some(e),
        };
        if generation != member.member_epoch {
            return Some(ErrorCode::IllegalGeneration);
        }
        let g = self.groups.get_mut(group_id).expect("exists");
        let rejoin = member.member_epoch < g.group_epoch
            || member.state == MemberState::UnrevokedPartitions
            || (member.state == MemberState::UnreleasedPartitions && !g.waiting_on_unreleased(&member));
        let timeout = member.classic.as_ref().map_or(0, |c| c.session_timeout_ms);
        let now = self.now;
        if let Some(m) = g.members.get_mut(&member.member_id) {
            m.session_deadline = now.plus_millis(timeout);
            if rejoin && m.classic_deadline.is_none() {
                m.classic_deadline = Some((now.plus_millis(m.rebalance_timeout_ms), ClassicWait::Join));
            }
        }
        rejoin.then_some(ErrorCode::RebalanceInProgress)
    }

    /// A classic member's LeaveGroup (one entry of the batch): the member is fenced.
    pub(super) fn classic_leave(
        &mut self,
        at: VirtualTime,
        group_id: &str,
        member_id: &str,
        instance: Option<&str>,
    ) -> Option<ErrorCode> {
        self.advance_to(at);
        let g = self.groups.get(group_id)?;
        let id = match instance {
            Some(i) => match g.static_members.get(i) {
                None => return Some(ErrorCode::UnknownMemberId),
                Some(id) if !member_id.is_empty() && id != member_id => {
                    return Some(ErrorCode::FencedInstanceId)
                }
                Some(id) => id.clone(),
            },
            None if g.members.contains_key(member_id) => member_id.to_string(),
            None => return Some(ErrorCode::UnknownMemberId),
        };
        self.fence(group_id, &id, "left");
        None
    }
}
