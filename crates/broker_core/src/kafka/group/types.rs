//! Requests, responses, events and configuration of the group coordinator, as plain serde data.

use crate::kafka::{ErrorCode, OffsetAndMetadata, TopicPartition};
use crate::VirtualTime;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The broker settings the coordinator reads (`group.*` in `server.properties`), with Kafka's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorConfig {
    /// `group.initial.rebalance.delay.ms` (3000; the CI broker uses 0).
    pub initial_rebalance_delay_ms: u64,
    /// `group.min.session.timeout.ms` (6000).
    pub min_session_timeout_ms: u64,
    /// `group.max.session.timeout.ms` (1800000).
    pub max_session_timeout_ms: u64,
    /// `group.max.size` (unbounded).
    pub max_size: usize,
    /// How long a new member may take to join before it is dropped (Kafka's fixed 5 minutes).
    pub new_member_join_timeout_ms: u64,
    /// `group.consumer.migration.policy` (`bidirectional`): which online conversions between a classic
    /// group and a consumer group (KIP-848) the coordinator makes.
    #[serde(default)]
    pub migration_policy: MigrationPolicy,
}

/// `group.consumer.migration.policy`: whether a classic group with members is upgraded to a consumer group
/// when a `group.protocol=consumer` member joins it, and whether a consumer group whose remaining members
/// all use the classic protocol is downgraded when its last consumer-protocol member leaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MigrationPolicy {
    /// `disabled`: neither conversion.
    Disabled,
    /// `upgrade`: classic to consumer only.
    Upgrade,
    /// `downgrade`: consumer to classic only.
    Downgrade,
    /// `bidirectional` (Kafka 4.1's default): both.
    #[default]
    Bidirectional,
}

impl MigrationPolicy {
    /// The policy named as `server.properties` spells it (case-insensitive, as Kafka parses it).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "disabled" => Some(MigrationPolicy::Disabled),
            "upgrade" => Some(MigrationPolicy::Upgrade),
            "downgrade" => Some(MigrationPolicy::Downgrade),
            "bidirectional" => Some(MigrationPolicy::Bidirectional),
            _ => None,
        }
    }

    /// Whether a classic group may become a consumer group.
    pub fn upgrade_enabled(self) -> bool {
        matches!(self, MigrationPolicy::Upgrade | MigrationPolicy::Bidirectional)
    }

    /// Whether a consumer group may become a classic group.
    pub fn downgrade_enabled(self) -> bool {
        matches!(self, MigrationPolicy::Downgrade | MigrationPolicy::Bidirectional)
    }
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        CoordinatorConfig {
            initial_rebalance_delay_ms: 3000,
            min_session_timeout_ms: 6000,
            max_session_timeout_ms: 1_800_000,
            max_size: usize::MAX,
            new_member_join_timeout_ms: 300_000,
            migration_policy: MigrationPolicy::Bidirectional,
        }
    }
}

/// A classic group's state (`ClassicGroupState`), printed as Kafka's tools print it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClassicGroupState {
    /// No members (offsets may remain).
    Empty,
    /// Waiting for members to (re)join.
    PreparingRebalance,
    /// Joined; waiting for the leader's assignment.
    CompletingRebalance,
    /// Assignment delivered; members heartbeat.
    Stable,
    /// Deleted.
    Dead,
}

impl ClassicGroupState {
    /// The name `kafka-consumer-groups --describe --state` prints.
    pub fn name(self) -> &'static str {
        match self {
            ClassicGroupState::Empty => "Empty",
            ClassicGroupState::PreparingRebalance => "PreparingRebalance",
            ClassicGroupState::CompletingRebalance => "CompletingRebalance",
            ClassicGroupState::Stable => "Stable",
            ClassicGroupState::Dead => "Dead",
        }
    }
}

impl fmt::Display for ClassicGroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a consumer puts in its JoinGroup for one protocol (`ConsumerProtocolSubscription`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolMetadata {
    /// The protocol (assignor) name: `range`, `cooperative-sticky`, ….
    pub name: String,
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// Partitions it owns now (cooperative members; eager members revoke everything before joining).
    pub owned_partitions: Vec<TopicPartition>,
    /// The generation of its last assignment, `-1` if none.
    pub generation: i32,
    /// Its `client.rack` (the subscription's `RackId`, KIP-881), for rack-aware assignors.
    #[serde(default)]
    pub rack_id: Option<String>,
}

/// A JoinGroup request (`JoinGroupRequestData`, version ≥ 4: a new dynamic member must rejoin with the
/// member id it is given).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinGroupRequest {
    /// `group.id`.
    pub group_id: String,
    /// `session.timeout.ms`.
    pub session_timeout_ms: u64,
    /// `max.poll.interval.ms`, the Java consumer's rebalance timeout.
    pub rebalance_timeout_ms: u64,
    /// The member id, empty on the first join.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
    /// `consumer` for consumers.
    pub protocol_type: String,
    /// Supported protocols, preferred first.
    pub protocols: Vec<ProtocolMetadata>,
    /// `client.id`.
    pub client_id: String,
    /// The client's host as the broker sees it (`/127.0.0.1`).
    pub client_host: String,
}

/// One member as the leader's JoinGroup response lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinedMember {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
    /// Its metadata for the selected protocol.
    pub metadata: ProtocolMetadata,
}

/// A JoinGroup response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinGroupResponse {
    /// `NONE` is `None`.
    pub error: Option<ErrorCode>,
    /// The new generation (`-1` on error).
    pub generation_id: i32,
    /// The selected protocol.
    pub protocol_name: Option<String>,
    /// The leader's member id (empty on error).
    pub leader: String,
    /// This member's id (given even with `MEMBER_ID_REQUIRED`).
    pub member_id: String,
    /// All members with their metadata, for the leader only.
    pub members: Vec<JoinedMember>,
    /// A static leader rejoining a stable group need not assign again (KIP-814).
    pub skip_assignment: bool,
}

/// A SyncGroup request; the leader sends the assignment it computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncGroupRequest {
    /// `group.id`.
    pub group_id: String,
    /// Generation from the JoinGroup response.
    pub generation_id: i32,
    /// Member id.
    pub member_id: String,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
    /// `consumer`.
    pub protocol_type: Option<String>,
    /// The selected protocol.
    pub protocol_name: Option<String>,
    /// The leader's assignment (member id → partitions); empty from followers.
    pub assignments: Vec<(String, Vec<TopicPartition>)>,
}

/// One member named in a LeaveGroup request (v3+: a batch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveMember {
    /// Member id (may be empty for a static member left by instance id, as the admin client does).
    pub member_id: String,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
}

/// An OffsetCommit request for a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetCommitRequest {
    /// `group.id`.
    pub group_id: String,
    /// The generation, `-1` for a consumer outside the group protocol (`assign()`).
    pub generation_id: i32,
    /// The member id, empty outside the group protocol.
    pub member_id: String,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
    /// Offsets to commit.
    pub offsets: Vec<(TopicPartition, OffsetAndMetadata)>,
}

/// A response from the coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupResponse {
    /// To a JoinGroup.
    JoinGroup(JoinGroupResponse),
    /// To a SyncGroup: the member's assignment.
    SyncGroup {
        /// `NONE` is `None`.
        error: Option<ErrorCode>,
        /// The selected protocol.
        protocol_name: Option<String>,
        /// The member's partitions.
        assignment: Vec<TopicPartition>,
    },
    /// To a Heartbeat.
    Heartbeat {
        /// `NONE` is `None`; `REBALANCE_IN_PROGRESS` asks the member to rejoin.
        error: Option<ErrorCode>,
    },
    /// To a LeaveGroup: the top-level error and one per member.
    LeaveGroup {
        /// Top-level error.
        error: Option<ErrorCode>,
        /// Per member: (member id, instance id, error).
        members: Vec<(String, Option<String>, Option<ErrorCode>)>,
    },
    /// To an OffsetCommit: one error per partition.
    OffsetCommit {
        /// Per partition.
        partitions: Vec<(TopicPartition, Option<ErrorCode>)>,
    },
}

/// A response on its way to the connection that sent the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The caller's connection id given with the request.
    pub to: u64,
    /// The response.
    pub response: GroupResponse,
}

/// Why a member left the group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemovalReason {
    /// No heartbeat within `session.timeout.ms`.
    SessionTimeout,
    /// It sent LeaveGroup.
    Left,
    /// It did not rejoin within the rebalance timeout.
    RebalanceTimeout,
    /// It did not send SyncGroup within the rebalance timeout after the join.
    SyncTimeout,
    /// A new member never completed its join (`MEMBER_ID_REQUIRED` and no rejoin).
    PendingJoinTimeout,
}

impl RemovalReason {
    fn text(self) -> &'static str {
        match self {
            RemovalReason::SessionTimeout => "session timeout",
            RemovalReason::Left => "left",
            RemovalReason::RebalanceTimeout => "did not rejoin before the rebalance timeout",
            RemovalReason::SyncTimeout => "did not sync before the rebalance timeout",
            RemovalReason::PendingJoinTimeout => "never completed its join",
        }
    }
}

/// Something that happened in the coordinator, for transcripts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupEvent {
    /// A group was created by its first JoinGroup or commit.
    GroupCreated {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
    },
    /// A new dynamic member was given an id and asked to rejoin with it.
    MemberIdRequired {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// The id given.
        member: String,
    },
    /// A member was added to the group.
    MemberAdded {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// Member id.
        member: String,
        /// `group.instance.id`.
        instance: Option<String>,
    },
    /// A static member rejoined with a new member id, replacing its old one.
    StaticMemberReplaced {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// The instance id.
        instance: String,
        /// The fenced member id.
        old_member: String,
        /// The new member id.
        new_member: String,
    },
    /// A member left or was removed.
    MemberRemoved {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// Member id.
        member: String,
        /// Why.
        reason: RemovalReason,
    },
    /// The group changed state.
    StateChanged {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// Before.
        from: ClassicGroupState,
        /// After.
        to: ClassicGroupState,
    },
    /// The join phase completed: a new generation.
    GenerationStarted {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// The new generation.
        generation: i32,
        /// The selected protocol (`None` for an empty generation).
        protocol: Option<String>,
        /// The leader.
        leader: Option<String>,
        /// Members.
        members: usize,
    },
    /// The leader's assignment was stored and sent to the members.
    AssignmentPropagated {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// Generation.
        generation: i32,
        /// Member → partitions, in member-id order.
        assignment: Vec<(String, Vec<TopicPartition>)>,
    },
    /// Offsets were committed.
    OffsetsCommitted {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// The committed offsets.
        offsets: Vec<(TopicPartition, i64)>,
    },
    /// Committed offsets were deleted (OffsetDelete).
    OffsetsDeleted {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// The partitions whose committed offset is gone.
        partitions: Vec<TopicPartition>,
    },
    /// A group was deleted.
    GroupDeleted {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
    },
    /// A classic group became a consumer group: a consumer-protocol member joined it (KIP-848's online
    /// upgrade); its members stay, speaking the classic protocol.
    UpgradedToConsumerGroup {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// The classic members it keeps.
        members: usize,
    },
    /// A consumer group became a classic group again: its last consumer-protocol member left.
    DowngradedToClassicGroup {
        /// When.
        at: VirtualTime,
        /// Group.
        group: String,
        /// The classic members it keeps.
        members: usize,
    },
}

impl GroupEvent {
    /// A short stable name of the event's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            GroupEvent::GroupCreated { .. } => "group-created",
            GroupEvent::MemberIdRequired { .. } => "member-id-required",
            GroupEvent::MemberAdded { .. } => "member-added",
            GroupEvent::StaticMemberReplaced { .. } => "static-member-replaced",
            GroupEvent::MemberRemoved { .. } => "member-removed",
            GroupEvent::StateChanged { .. } => "state-changed",
            GroupEvent::GenerationStarted { .. } => "generation-started",
            GroupEvent::AssignmentPropagated { .. } => "assignment-propagated",
            GroupEvent::OffsetsCommitted { .. } => "offsets-committed",
            GroupEvent::OffsetsDeleted { .. } => "offsets-deleted",
            GroupEvent::GroupDeleted { .. } => "group-deleted",
            GroupEvent::UpgradedToConsumerGroup { .. } => "upgraded-to-consumer-group",
            GroupEvent::DowngradedToClassicGroup { .. } => "downgraded-to-classic-group",
        }
    }
}

fn partitions(list: &[TopicPartition]) -> String {
    if list.is_empty() {
        return "-".to_string();
    }
    list.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// One line per event, stable across versions: `TIME group G: …`.
impl fmt::Display for GroupEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupEvent::GroupCreated { at, group } => write!(f, "{at} group {group}: created"),
            GroupEvent::MemberIdRequired { at, group, member } => {
                write!(f, "{at} group {group}: MEMBER_ID_REQUIRED, rejoin as {member}")
            }
            GroupEvent::MemberAdded { at, group, member, instance } => match instance {
                Some(i) => write!(f, "{at} group {group}: member {member} (instance {i}) added"),
                None => write!(f, "{at} group {group}: member {member} added"),
            },
            GroupEvent::StaticMemberReplaced { at, group, instance, old_member, new_member } => {
                write!(f, "{at} group {group}: instance {instance} now {new_member}, {old_member} fenced")
            }
            GroupEvent::MemberRemoved { at, group, member, reason } => {
                write!(f, "{at} group {group}: member {member} removed ({})", reason.text())
            }
            GroupEvent::StateChanged { at, group, from, to } => {
                write!(f, "{at} group {group}: {from} -> {to}")
            }
            GroupEvent::GenerationStarted { at, group, generation, protocol, leader, members } => write!(
                f,
                "{at} group {group}: generation {generation} protocol {} leader {} members {members}",
                protocol.as_deref().unwrap_or("-"),
                leader.as_deref().unwrap_or("-")
            ),
            GroupEvent::AssignmentPropagated { at, group, generation, assignment } => {
                write!(f, "{at} group {group}: generation {generation} assignment")?;
                for (member, list) in assignment {
                    write!(f, " {member}=[{}]", partitions(list))?;
                }
                Ok(())
            }
            GroupEvent::OffsetsCommitted { at, group, offsets } => {
                write!(f, "{at} group {group}: committed")?;
                for (tp, offset) in offsets {
                    write!(f, " {tp}@{offset}")?;
                }
                Ok(())
            }
            GroupEvent::OffsetsDeleted { at, group, partitions: list } => {
                write!(f, "{at} group {group}: offsets deleted [{}]", partitions(list))
            }
            GroupEvent::GroupDeleted { at, group } => write!(f, "{at} group {group}: deleted"),
            GroupEvent::UpgradedToConsumerGroup { at, group, members } => {
                write!(
                    f,
                    "{at} group {group}: upgraded to a consumer group, {members} classic member(s) kept"
                )
            }
            GroupEvent::DowngradedToClassicGroup { at, group, members } => {
                write!(f, "{at} group {group}: downgraded to a classic group, {members} member(s) kept")
            }
        }
    }
}

/// A group as `ListGroups` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupListing {
    /// Group id.
    pub group_id: String,
    /// `consumer` (empty for a group that only has offsets).
    pub protocol_type: String,
    /// State.
    pub state: ClassicGroupState,
}

/// A member as `DescribeGroups` describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribedMember {
    /// Member id (CONSUMER-ID in `kafka-consumer-groups`).
    pub member_id: String,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
    /// `client.id` (CLIENT-ID).
    pub client_id: String,
    /// Host (HOST).
    pub client_host: String,
    /// Its current assignment.
    pub assignment: Vec<TopicPartition>,
}

/// A group as `DescribeGroups` describes it (`GROUP_ID_NOT_FOUND` is a `Dead` group with no members, as
/// Kafka answers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribedGroup {
    /// Group id.
    pub group_id: String,
    /// State.
    pub state: ClassicGroupState,
    /// `consumer`.
    pub protocol_type: String,
    /// The selected protocol (assignor), empty when none.
    pub protocol: String,
    /// Generation.
    pub generation_id: i32,
    /// The leader's member id.
    pub leader: Option<String>,
    /// Members in member-id order.
    pub members: Vec<DescribedMember>,
}
