//! The group coordinator: consumer groups of the classic protocol (JoinGroup / SyncGroup / Heartbeat /
//! LeaveGroup) in [`GroupCoordinator`], groups of Kafka 4's consumer protocol (KIP-848,
//! ConsumerGroupHeartbeat) in [`ConsumerGroups`], their committed offsets (OffsetCommit / OffsetFetch), and the admin requests over groups
//! (DescribeGroups / ListGroups / DeleteGroups), as Kafka 4.1's group coordinator
//! (`group-coordinator/…/GroupMetadataManager.java`, `classic/ClassicGroup.java`) handles them.
//!
//! A deterministic state machine on virtual time: every request is applied at a [`VirtualTime`] the
//! caller chooses; timers (session timeouts, the rebalance timeout, `group.initial.rebalance.delay.ms`,
//! the pending-sync timeout, the new-member join timeout) fire in [`GroupCoordinator::advance_to`], and
//! [`GroupCoordinator::next_deadline`] says when the next one is due. Responses Kafka holds back (a
//! JoinGroup answered when the rebalance completes, a follower's SyncGroup answered when the leader's
//! arrives) come out later, from whichever call completes them, as [`Delivery`]s addressed to the
//! connection that sent the request. Member ids are `client.id` (or `group.instance.id`) + `-` + a UUID
//! drawn from the coordinator's seeded [`Prng`].
//!
//! Online migration (KIP-848, `group.consumer.migration.policy` in [`CoordinatorConfig::migration_policy`],
//! [`MigrationPolicy`]): a group id is held by one kind of group at a time. A joining ConsumerGroupHeartbeat
//! for a classic group with members upgrades it (`convertToConsumerGroup`) when the policy allows upgrades,
//! the group's protocol type is `consumer` and its size fits `group.consumer.max.size`; otherwise it is
//! refused with `GROUP_ID_NOT_FOUND` ("Group G is not a consumer group."). The classic members become
//! members of the consumer group carrying [`ClassicMemberMetadata`] (session timeout, JoinGroup protocols)
//! and keep speaking the classic protocol: their JoinGroup, SyncGroup, Heartbeat and LeaveGroup go to the
//! consumer group (`classicGroup…ToConsumerGroup`), the generation being the member epoch. When a member
//! is fenced (left, timed out) and the others all speak the classic protocol, the group is downgraded
//! (`convertToClassicGroup`) if the policy allows downgrades, at least one member remains and they fit
//! `group.classic.max.size` ([`CoordinatorConfig::max_size`]): a Stable classic group at generation = the
//! group epoch, each member holding its target assignment, which then rebalances. A classic member inside
//! a consumer group keeps its own session timeout, and is fenced when it does not rejoin (after being told
//! `REBALANCE_IN_PROGRESS`) or sync (after its JoinGroup) within its rebalance timeout. Not modelled: a
//! static member replaced by a new one of the other protocol (Kafka converts the group then, too).
//!
//! Invariants (checked by `tests/kafka_groups.rs` after every step): a group's state is one of
//! Empty, PreparingRebalance, CompletingRebalance, Stable, Dead; a Stable group's members' assignments are
//! disjoint; the generation never decreases and increases by one at each completed join; a group with
//! members has a leader that is one of them; an Empty group has no members; `group.instance.id`s map to
//! exactly one member each. The migration keeps a group id's members in one kind of group at a time (checked
//! at each step of the migration tests in `classic.rs`).

mod classic;
pub mod consumer;
mod types;

pub use classic::GroupCoordinator;
pub use consumer::{
    ClassicMemberMetadata, ConsumerGroup, ConsumerGroupEvent, ConsumerGroupHeartbeatRequest,
    ConsumerGroupHeartbeatResponse, ConsumerGroupMember, ConsumerGroupState, ConsumerGroups,
    ConsumerProtocolConfig, MemberState,
};
pub use types::{
    ClassicGroupState, CoordinatorConfig, Delivery, DescribedGroup, DescribedMember, GroupEvent,
    GroupListing, GroupResponse, JoinGroupRequest, JoinGroupResponse, JoinedMember, LeaveMember,
    MigrationPolicy, OffsetCommitRequest, ProtocolMetadata, RemovalReason, SyncGroupRequest,
};
