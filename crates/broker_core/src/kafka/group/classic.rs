//! The classic group protocol, following Kafka 4.1's `GroupMetadataManager` (`classicGroupJoin…`,
//! `classicGroupSync…`, `classicGroupHeartbeat…`, `classicGroupLeave…`) and `ClassicGroup`.

use super::consumer::{
    ClassicJoinOutcome, ClassicMemberMetadata, ConsumerGroup, ConsumerGroupEvent,
    ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, ConsumerGroupMember, ConsumerGroups,
    ConsumerProtocolConfig,
};
use super::types::*;
use crate::kafka::assignor::{java_bucket, java_capacity, java_string_hash};
use crate::kafka::offsets::OffsetStore;
use crate::kafka::{ErrorCode, KafkaError, OffsetAndMetadata, TopicPartition};
use crate::{Prng, VirtualTime};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What the group's join timer does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum JoinTimer {
    /// `tryCompleteInitialRebalanceElseSchedule(delay, remaining)`.
    InitialDelay { delay_ms: u64, remaining_ms: u64 },
    /// `completeClassicGroupJoin` (the rebalance timeout).
    Complete,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Member {
    member_id: String,
    group_instance_id: Option<String>,
    client_id: String,
    client_host: String,
    rebalance_timeout_ms: u64,
    session_timeout_ms: u64,
    protocol_type: String,
    protocols: Vec<ProtocolMetadata>,
    assignment: Vec<TopicPartition>,
    /// The connection waiting for this member's JoinGroup response.
    awaiting_join: Option<u64>,
    /// The connection waiting for this member's SyncGroup response.
    awaiting_sync: Option<u64>,
    is_new: bool,
    /// When its heartbeat (or, new, its join) expires.
    heartbeat_deadline: VirtualTime,
}

impl Member {
    fn matches(&self, protocols: &[ProtocolMetadata]) -> bool {
        self.protocols == protocols
    }

    /// `vote`: its most preferred protocol among the candidates.
    fn vote(&self, candidates: &BTreeSet<String>) -> Option<String> {
        self.protocols.iter().find(|p| candidates.contains(&p.name)).map(|p| p.name.clone())
    }

    fn has_satisfied_heartbeat(&self) -> bool {
        !self.is_new && (self.awaiting_join.is_some() || self.awaiting_sync.is_some())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Group {
    group_id: String,
    state: ClassicGroupState,
    previous_state: ClassicGroupState,
    generation_id: i32,
    protocol_type: Option<String>,
    protocol_name: Option<String>,
    leader_id: Option<String>,
    /// Members in insertion order; Kafka keeps them in a `HashMap`, see [`Group::java_order`].
    members: Vec<Member>,
    /// The most members the map ever held (its capacity never shrinks).
    max_members: usize,
    static_members: BTreeMap<String, String>,
    /// Pending (MEMBER_ID_REQUIRED) members and when they expire.
    pending_join: BTreeMap<String, VirtualTime>,
    pending_sync: BTreeSet<String>,
    new_member_added: bool,
    join_timer: Option<(VirtualTime, JoinTimer)>,
    sync_timer: Option<(VirtualTime, i32)>,
}

impl Group {
    fn new(group_id: &str) -> Self {
        Group {
            group_id: group_id.to_string(),
            state: ClassicGroupState::Empty,
            previous_state: ClassicGroupState::Empty,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader_id: None,
            members: Vec::new(),
            max_members: 0,
            static_members: BTreeMap::new(),
            pending_join: BTreeMap::new(),
            pending_sync: BTreeSet::new(),
            new_member_added: false,
            join_timer: None,
            sync_timer: None,
        }
    }

    fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.member_id == id)
    }

    fn member_mut(&mut self, id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.member_id == id)
    }

    fn has_member(&self, id: &str) -> bool {
        self.member(id).is_some()
    }

    /// Member indices in the order Kafka's `HashMap<String, ClassicGroupMember>` iterates them.
    fn java_order(&self) -> Vec<usize> {
        let capacity = java_capacity(self.max_members);
        let mut order: Vec<usize> = (0..self.members.len()).collect();
        order.sort_by_key(|&i| java_bucket(java_string_hash(&self.members[i].member_id), capacity));
        order
    }

    fn awaiting_join_count(&self) -> usize {
        self.members.iter().filter(|m| m.awaiting_join.is_some()).count()
    }

    fn has_all_members_joined(&self) -> bool {
        self.members.len() == self.awaiting_join_count() && self.pending_join.is_empty()
    }

    fn rebalance_timeout_ms(&self) -> u64 {
        self.members.iter().map(|m| m.rebalance_timeout_ms).max().unwrap_or(0)
    }

    fn is_leader(&self, id: &str) -> bool {
        self.leader_id.as_deref() == Some(id)
    }

    /// `supportsProtocols`: an empty group takes any non-empty protocol list; otherwise the protocol type
    /// must match and one protocol must be supported by every member.
    fn supports_protocols(&self, protocol_type: &str, protocols: &[ProtocolMetadata]) -> bool {
        if self.members.is_empty() {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols
                .iter()
                .any(|p| self.members.iter().all(|m| m.protocols.iter().any(|q| q.name == p.name)))
    }

    fn candidate_protocols(&self) -> BTreeSet<String> {
        let mut candidates = BTreeSet::new();
        if let Some(first) = self.members.first() {
            for p in &first.protocols {
                if self.members.iter().all(|m| m.protocols.iter().any(|q| q.name == p.name)) {
                    candidates.insert(p.name.clone());
                }
            }
        }
        candidates
    }

    /// `selectProtocol`: each member votes for its preferred candidate; most votes wins, a tie going to
    /// the protocol Kafka's `HashMap` of votes yields first.
    fn select_protocol(&self) -> Option<String> {
        let candidates = self.candidate_protocols();
        let mut votes: Vec<(String, usize)> = Vec::new();
        for i in self.java_order() {
            if let Some(vote) = self.members[i].vote(&candidates) {
                match votes.iter_mut().find(|(name, _)| *name == vote) {
                    Some(entry) => entry.1 += 1,
                    None => votes.push((vote, 1)),
                }
            }
        }
        let capacity = java_capacity(votes.len());
        votes.sort_by_key(|(name, _)| java_bucket(java_string_hash(name), capacity));
        let best = votes.iter().map(|(_, n)| *n).max()?;
        votes.into_iter().find(|(_, n)| *n == best).map(|(name, _)| name)
    }

    fn remove(&mut self, id: &str) -> Option<Member> {
        let removed = self.members.iter().position(|m| m.member_id == id).map(|i| self.members.remove(i));
        if let Some(m) = &removed {
            if let Some(instance) = &m.group_instance_id {
                self.static_members.remove(instance);
            }
        }
        if self.is_leader(id) {
            self.leader_id = self.java_order().first().map(|&i| self.members[i].member_id.clone());
        }
        self.pending_join.remove(id);
        self.pending_sync.remove(id);
        removed
    }

    fn add(&mut self, member: Member) {
        if let Some(instance) = &member.group_instance_id {
            self.static_members.insert(instance.clone(), member.member_id.clone());
        }
        if self.members.is_empty() {
            self.protocol_type = Some(member.protocol_type.clone());
        }
        if self.leader_id.is_none() {
            self.leader_id = Some(member.member_id.clone());
        }
        self.pending_join.remove(&member.member_id);
        self.members.push(member);
        self.max_members = self.max_members.max(self.members.len());
    }

    /// `validateMember`: a static member's instance id must map to this member id.
    fn validate_member(&self, member_id: &str, instance: Option<&str>) -> Result<(), ErrorCode> {
        if let Some(instance) = instance {
            match self.static_members.get(instance) {
                None => return Err(ErrorCode::UnknownMemberId),
                Some(existing) if existing != member_id => return Err(ErrorCode::FencedInstanceId),
                Some(_) => {}
            }
        }
        if self.has_member(member_id) {
            Ok(())
        } else {
            Err(ErrorCode::UnknownMemberId)
        }
    }

    fn can_rebalance(&self) -> bool {
        matches!(
            self.state,
            ClassicGroupState::Stable | ClassicGroupState::CompletingRebalance | ClassicGroupState::Empty
        )
    }

    fn leader_members(&self) -> Vec<JoinedMember> {
        let Some(protocol) = &self.protocol_name else { return Vec::new() };
        self.java_order()
            .into_iter()
            .map(|i| &self.members[i])
            .map(|m| JoinedMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                metadata: m.protocols.iter().find(|p| &p.name == protocol).cloned().unwrap_or_else(|| {
                    ProtocolMetadata {
                        name: protocol.clone(),
                        topics: Vec::new(),
                        owned_partitions: Vec::new(),
                        generation: -1,
                        rack_id: None,
                    }
                }),
            })
            .collect()
    }

    fn join_response(&self, member_id: &str, skip_assignment: bool) -> JoinGroupResponse {
        JoinGroupResponse {
            error: None,
            generation_id: self.generation_id,
            protocol_name: self.protocol_name.clone(),
            leader: self.leader_id.clone().unwrap_or_default(),
            member_id: member_id.to_string(),
            members: if self.is_leader(member_id) { self.leader_members() } else { Vec::new() },
            skip_assignment,
        }
    }
}

fn join_error(member_id: &str, error: ErrorCode) -> GroupResponse {
    GroupResponse::JoinGroup(JoinGroupResponse {
        error: Some(error),
        generation_id: -1,
        protocol_name: None,
        leader: String::new(),
        member_id: member_id.to_string(),
        members: Vec::new(),
        skip_assignment: false,
    })
}

fn sync_error(error: ErrorCode) -> GroupResponse {
    GroupResponse::SyncGroup { error: Some(error), protocol_name: None, assignment: Vec::new() }
}

/// The group coordinator of one cluster (the model has one coordinator for every group).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GroupCoordinator {
    config: CoordinatorConfig,
    groups: BTreeMap<String, Group>,
    offsets: OffsetStore,
    prng: Prng,
    now: VirtualTime,
    outbox: Vec<Delivery>,
    events: Vec<GroupEvent>,
    /// The groups of the consumer protocol (KIP-848), beside the classic ones.
    consumer_groups: ConsumerGroups,
    /// Partition counts of the topics as the last ConsumerGroupHeartbeat saw them, for the JoinGroups of
    /// classic members inside a consumer group.
    #[serde(default)]
    topic_partitions: BTreeMap<String, i32>,
}

impl GroupCoordinator {
    /// A coordinator with these settings; `seed` draws the UUIDs of member ids.
    pub fn new(config: CoordinatorConfig, seed: u64) -> Self {
        GroupCoordinator {
            config,
            groups: BTreeMap::new(),
            offsets: OffsetStore::new(),
            prng: Prng::new(seed),
            now: VirtualTime::ZERO,
            outbox: Vec::new(),
            events: Vec::new(),
            consumer_groups: ConsumerGroups::new(
                ConsumerProtocolConfig::default(),
                seed ^ 0x9E37_79B9_7F4A_7C15,
            ),
            topic_partitions: BTreeMap::new(),
        }
    }

    /// The same coordinator with these consumer-protocol settings (`group.consumer.*`), before any group.
    pub fn with_consumer_protocol(mut self, config: ConsumerProtocolConfig, seed: u64) -> Self {
        self.consumer_groups = ConsumerGroups::new(config, seed ^ 0x9E37_79B9_7F4A_7C15);
        self
    }

    /// The consumer-protocol groups (`group.protocol=consumer`).
    pub fn consumer_groups(&self) -> &ConsumerGroups {
        &self.consumer_groups
    }

    /// A `ConsumerGroupHeartbeat` at `at` over topics with these partition counts. A joining member
    /// (epoch 0) upgrades a classic group with members to a consumer group when
    /// `group.consumer.migration.policy` allows it, the group uses the consumer protocol type and its size
    /// fits `group.consumer.max.size` (`validateOnlineUpgrade`); otherwise the id is refused as Kafka
    /// refuses it. A member leaving may downgrade the group back (see [`Self::consumer_groups`]).
    pub fn consumer_group_heartbeat(
        &mut self,
        at: VirtualTime,
        request: ConsumerGroupHeartbeatRequest,
        partitions: &BTreeMap<String, i32>,
    ) -> Result<ConsumerGroupHeartbeatResponse, KafkaError> {
        self.fire_due(at);
        self.topic_partitions = partitions.clone();
        if let Some(g) = self.groups.get(&request.group_id).filter(|g| !g.members.is_empty()) {
            let upgrade = request.member_epoch == 0
                && self.config.migration_policy.upgrade_enabled()
                && g.protocol_type.as_deref() == Some("consumer")
                && g.members.len() <= self.consumer_groups.config().max_size;
            if !upgrade {
                return Err(KafkaError::with_message(
                    ErrorCode::GroupIdNotFound,
                    format!("Group {} is not a consumer group.", request.group_id),
                ));
            }
            self.upgrade_to_consumer_group(&request.group_id, partitions);
        }
        let response = self.consumer_groups.heartbeat(at, request, partitions);
        self.apply_downgrades();
        response
    }

    /// `convertToConsumerGroup`: the classic group's waiting JoinGroups and SyncGroups are answered
    /// `REBALANCE_IN_PROGRESS`; its members become classic members of a consumer group at epoch =
    /// generation, owning their current assignment, which is also the target assignment.
    fn upgrade_to_consumer_group(&mut self, group_id: &str, partitions: &BTreeMap<String, i32>) {
        let Some(g) = self.groups.remove(group_id) else { return };
        let mut members = Vec::new();
        for m in &g.members {
            if let Some(conn) = m.awaiting_join {
                self.deliver(conn, join_error(&m.member_id, ErrorCode::RebalanceInProgress));
            }
            if let Some(conn) = m.awaiting_sync {
                self.deliver(conn, sync_error(ErrorCode::RebalanceInProgress));
            }
            // The preferred protocol first: its subscription is the member's.
            let mut protocols = m.protocols.clone();
            if let Some(i) = protocols.iter().position(|p| Some(&p.name) == g.protocol_name.as_ref()) {
                let selected = protocols.remove(i);
                protocols.insert(0, selected);
            }
            members.push(ConsumerGroupMember::from_classic(
                &m.member_id,
                m.group_instance_id.clone(),
                &m.client_id,
                &m.client_host,
                m.rebalance_timeout_ms,
                g.generation_id,
                &m.assignment,
                ClassicMemberMetadata { session_timeout_ms: m.session_timeout_ms, protocols },
            ));
        }
        let at = self.now;
        let count = members.len();
        let converted = ConsumerGroup::from_classic(group_id, g.generation_id, members, partitions);
        self.consumer_groups.insert_upgraded(converted);
        self.event(GroupEvent::UpgradedToConsumerGroup { at, group: group_id.to_string(), members: count });
    }

    /// `convertToClassicGroup` for the groups whose last consumer-protocol member was fenced, when
    /// `group.consumer.migration.policy` allows a downgrade and the remaining members fit
    /// `group.classic.max.size`: a Stable classic group at generation = the group epoch, each member
    /// holding its target assignment, then a rebalance (`prepareRebalance`) so the members rejoin.
    fn apply_downgrades(&mut self) {
        for (group_id, epoch) in self.consumer_groups.take_downgrade_candidates() {
            let Some(cg) = self.consumer_groups.group(&group_id) else { continue };
            if cg.members.is_empty()
                || !cg.all_classic_except("")
                || !self.config.migration_policy.downgrade_enabled()
                || cg.members.len() > self.config.max_size
            {
                continue;
            }
            let cg = self.consumer_groups.take_group(&group_id).expect("just seen");
            let now = self.now;
            let mut g = Group::new(&group_id);
            g.state = ClassicGroupState::Stable;
            g.generation_id = epoch;
            for m in cg.members.values() {
                let classic = m.classic.clone().expect("only classic members remain");
                g.add(Member {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    session_timeout_ms: classic.session_timeout_ms,
                    protocol_type: "consumer".to_string(),
                    protocols: classic.protocols,
                    assignment: cg
                        .target
                        .get(&m.member_id)
                        .map(|t| t.iter().cloned().collect())
                        .unwrap_or_default(),
                    awaiting_join: None,
                    awaiting_sync: None,
                    is_new: false,
                    heartbeat_deadline: now.plus_millis(classic.session_timeout_ms),
                });
            }
            g.protocol_name = g.select_protocol();
            let members = g.members.len();
            self.groups.insert(group_id.clone(), g);
            self.event(GroupEvent::DowngradedToClassicGroup { at: now, group: group_id.clone(), members });
            self.prepare_rebalance(&group_id);
        }
    }

    /// Whether requests of the classic protocol for `group_id` go to a consumer group (one with members,
    /// after an online upgrade).
    fn in_consumer_group(&self, group_id: &str) -> bool {
        self.consumer_groups.group(group_id).is_some_and(|g| !g.members.is_empty())
            && self.groups.get(group_id).is_none_or(|g| g.members.is_empty())
    }

    /// ListGroups for the consumer-protocol groups (`kafka-consumer-groups --list` shows both kinds):
    /// group id and state, in group-id order.
    pub fn list_consumer_protocol_groups(&self) -> Vec<(String, super::consumer::ConsumerGroupState)> {
        self.consumer_groups
            .group_ids()
            .into_iter()
            .filter_map(|id| self.consumer_groups.group(&id).map(|g| (id.clone(), g.state())))
            .collect()
    }

    /// Events of the consumer-protocol groups since the last call.
    pub fn take_consumer_group_events(&mut self) -> Vec<ConsumerGroupEvent> {
        self.consumer_groups.take_events()
    }

    /// The coordinator's settings.
    pub fn config(&self) -> &CoordinatorConfig {
        &self.config
    }

    /// The committed offsets.
    pub fn offsets(&self) -> &OffsetStore {
        &self.offsets
    }

    /// Events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<GroupEvent> {
        std::mem::take(&mut self.events)
    }

    /// When the next timer is due, if any.
    pub fn next_deadline(&self) -> Option<VirtualTime> {
        let mut next: Option<VirtualTime> = None;
        let mut consider = |t: VirtualTime| next = Some(next.map_or(t, |n| n.min(t)));
        for g in self.groups.values() {
            if let Some((t, _)) = g.join_timer {
                consider(t);
            }
            if let Some((t, _)) = g.sync_timer {
                consider(t);
            }
            for t in g.pending_join.values() {
                consider(*t);
            }
            for m in &g.members {
                if m.heartbeat_deadline != VirtualTime::NEVER {
                    consider(m.heartbeat_deadline);
                }
            }
        }
        if let Some(t) = self.consumer_groups.next_deadline() {
            consider(t);
        }
        next
    }

    /// Fires every timer due at or before `at`, in deadline order; returns the responses they complete.
    pub fn advance_to(&mut self, at: VirtualTime) -> Vec<Delivery> {
        self.fire_due(at);
        std::mem::take(&mut self.outbox)
    }

    /// Fires due timers, leaving their responses in the outbox for the caller's answer.
    fn fire_due(&mut self, at: VirtualTime) {
        while let Some(due) = self.next_deadline().filter(|t| *t <= at) {
            self.now = self.now.max(due);
            self.consumer_groups.advance_to(due);
            self.apply_downgrades();
            self.fire_timers_at(due);
        }
        self.now = self.now.max(at);
    }

    fn fire_timers_at(&mut self, due: VirtualTime) {
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        for id in ids {
            let Some(g) = self.groups.get(&id) else { continue };
            let pending: Vec<String> =
                g.pending_join.iter().filter(|(_, t)| **t == due).map(|(m, _)| m.clone()).collect();
            let expired: Vec<String> = g
                .members
                .iter()
                .filter(|m| m.heartbeat_deadline == due)
                .map(|m| m.member_id.clone())
                .collect();
            let join = g.join_timer.filter(|(t, _)| *t == due);
            let sync = g.sync_timer.filter(|(t, _)| *t == due);
            for member in pending {
                self.remove_pending_member(&id, &member, RemovalReason::PendingJoinTimeout);
            }
            for member in expired {
                self.expire_heartbeat(&id, &member);
            }
            if let Some((_, timer)) = join {
                if let Some(g) = self.groups.get_mut(&id) {
                    g.join_timer = None;
                }
                match timer {
                    JoinTimer::Complete => self.complete_join(&id),
                    JoinTimer::InitialDelay { delay_ms, remaining_ms } => {
                        self.try_complete_initial_rebalance(&id, delay_ms, remaining_ms)
                    }
                }
            }
            if let Some((_, generation)) = sync {
                if let Some(g) = self.groups.get_mut(&id) {
                    g.sync_timer = None;
                }
                self.expire_pending_sync(&id, generation);
            }
        }
    }

    fn deliver(&mut self, to: u64, response: GroupResponse) {
        self.outbox.push(Delivery { to, response });
    }

    fn event(&mut self, event: GroupEvent) {
        self.events.push(event);
    }

    fn transition(&mut self, group: &str, to: ClassicGroupState) {
        let at = self.now;
        let Some(g) = self.groups.get_mut(group) else { return };
        let from = g.state;
        g.previous_state = from;
        g.state = to;
        self.event(GroupEvent::StateChanged { at, group: group.to_string(), from, to });
    }

    fn uuid(&mut self) -> String {
        let hi = self.prng.next_u64();
        let lo = self.prng.next_u64();
        // A version-4 UUID, as `UUID.randomUUID()` makes.
        let hi = (hi & !0xF000) | 0x4000;
        let lo = (lo & !(0xC000_0000_0000_0000)) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )
    }

    fn get_or_create(&mut self, group_id: &str) -> &mut Group {
        if !self.groups.contains_key(group_id) {
            self.groups.insert(group_id.to_string(), Group::new(group_id));
            let at = self.now;
            self.event(GroupEvent::GroupCreated { at, group: group_id.to_string() });
        }
        self.groups.get_mut(group_id).expect("just inserted")
    }

    // ----- JoinGroup -----

    /// A JoinGroup from connection `conn` at `at`. The response may come now or when the rebalance completes.
    pub fn join_group(&mut self, at: VirtualTime, conn: u64, request: JoinGroupRequest) -> Vec<Delivery> {
        self.fire_due(at);
        self.handle_join(conn, request);
        std::mem::take(&mut self.outbox)
    }

    fn handle_join(&mut self, conn: u64, request: JoinGroupRequest) {
        let member_id = request.member_id.clone();
        if request.group_id.is_empty() {
            return self.deliver(conn, join_error(&member_id, ErrorCode::InvalidGroupId));
        }
        if request.session_timeout_ms < self.config.min_session_timeout_ms
            || request.session_timeout_ms > self.config.max_session_timeout_ms
        {
            return self.deliver(conn, join_error(&member_id, ErrorCode::InvalidSessionTimeout));
        }
        if self.in_consumer_group(&request.group_id) {
            let now = self.now;
            let partitions = self.topic_partitions.clone();
            let response = match self.consumer_groups.classic_join(now, &request, &partitions) {
                Ok(ClassicJoinOutcome::MemberIdRequired(id)) => join_error(&id, ErrorCode::MemberIdRequired),
                Ok(ClassicJoinOutcome::Joined { member_id, generation, protocol }) => {
                    GroupResponse::JoinGroup(JoinGroupResponse {
                        error: None,
                        generation_id: generation,
                        protocol_name: Some(protocol),
                        leader: String::new(),
                        member_id,
                        members: Vec::new(),
                        skip_assignment: false,
                    })
                }
                Err(code) => join_error(&member_id, code),
            };
            return self.deliver(conn, response);
        }
        // `maybeDeleteEmptyConsumerGroup`: an empty consumer group gives its id to the classic group.
        if self.consumer_groups.group(&request.group_id).is_some_and(|g| g.members.is_empty()) {
            self.consumer_groups.take_group(&request.group_id);
        }
        let unknown = member_id.is_empty();
        if !self.groups.contains_key(&request.group_id) && !unknown {
            return self.deliver(conn, join_error(&member_id, ErrorCode::UnknownMemberId));
        }
        let max_size = self.config.max_size;
        let g = self.get_or_create(&request.group_id);
        let accept = match g.state {
            ClassicGroupState::Empty | ClassicGroupState::Dead => true,
            ClassicGroupState::PreparingRebalance => {
                g.member(&member_id).is_some_and(|m| m.awaiting_join.is_some())
                    || g.awaiting_join_count() < max_size
            }
            _ => g.has_member(&member_id) || g.members.len() < max_size,
        };
        if !accept {
            g.remove(&member_id);
            return self.deliver(conn, join_error("", ErrorCode::GroupMaxSizeReached));
        }
        if unknown {
            self.join_new_member(conn, request)
        } else {
            self.join_existing_member(conn, request)
        }
    }

    fn join_new_member(&mut self, conn: u64, request: JoinGroupRequest) {
        let g = &self.groups[&request.group_id];
        if g.state == ClassicGroupState::Dead {
            return self.deliver(conn, join_error("", ErrorCode::CoordinatorNotAvailable));
        }
        if !g.supports_protocols(&request.protocol_type, &request.protocols) {
            return self.deliver(conn, join_error("", ErrorCode::InconsistentGroupProtocol));
        }
        let prefix = request.group_instance_id.clone().unwrap_or_else(|| request.client_id.clone());
        let existing = request.group_instance_id.as_ref().and_then(|i| g.static_members.get(i)).cloned();
        let new_member_id = format!("{prefix}-{}", self.uuid());
        match request.group_instance_id.clone() {
            Some(_) => match existing {
                Some(old) => self.update_static_member(conn, request, &old, &new_member_id),
                None => self.add_member_then_rebalance(conn, request, new_member_id),
            },
            None => {
                // JoinGroup v4+: register a pending member and ask it to rejoin with its id.
                let deadline = self.now.plus_millis(request.session_timeout_ms);
                let g = self.groups.get_mut(&request.group_id).expect("exists");
                g.pending_join.insert(new_member_id.clone(), deadline);
                let at = self.now;
                self.event(GroupEvent::MemberIdRequired {
                    at,
                    group: request.group_id.clone(),
                    member: new_member_id.clone(),
                });
                self.deliver(conn, join_error(&new_member_id, ErrorCode::MemberIdRequired));
            }
        }
    }

    fn join_existing_member(&mut self, conn: u64, request: JoinGroupRequest) {
        let member_id = request.member_id.clone();
        let g = &self.groups[&request.group_id];
        if g.state == ClassicGroupState::Dead {
            return self.deliver(conn, join_error(&member_id, ErrorCode::CoordinatorNotAvailable));
        }
        if !g.supports_protocols(&request.protocol_type, &request.protocols) {
            return self.deliver(conn, join_error(&member_id, ErrorCode::InconsistentGroupProtocol));
        }
        if g.pending_join.contains_key(&member_id) {
            return self.add_member_then_rebalance(conn, request, member_id);
        }
        if let Err(e) = g.validate_member(&member_id, request.group_instance_id.as_deref()) {
            return self.deliver(conn, join_error(&member_id, e));
        }
        let member = g.member(&member_id).expect("validated");
        let matches = member.matches(&request.protocols);
        match g.state {
            ClassicGroupState::PreparingRebalance => self.update_member_then_rebalance(conn, request),
            ClassicGroupState::CompletingRebalance if matches => {
                // It lost the JoinGroup response: the current generation again.
                let response = g.join_response(&member_id, false);
                self.deliver(conn, GroupResponse::JoinGroup(response));
            }
            ClassicGroupState::CompletingRebalance => self.update_member_then_rebalance(conn, request),
            ClassicGroupState::Stable if g.is_leader(&member_id) || !matches => {
                self.update_member_then_rebalance(conn, request)
            }
            ClassicGroupState::Stable => {
                let mut response = g.join_response(&member_id, false);
                response.members.clear();
                self.deliver(conn, GroupResponse::JoinGroup(response));
            }
            _ => self.deliver(conn, join_error(&member_id, ErrorCode::UnknownMemberId)),
        }
    }

    fn add_member_then_rebalance(&mut self, conn: u64, request: JoinGroupRequest, member_id: String) {
        let deadline = self.now.plus_millis(self.config.new_member_join_timeout_ms);
        let member = Member {
            member_id: member_id.clone(),
            group_instance_id: request.group_instance_id.clone(),
            client_id: request.client_id.clone(),
            client_host: request.client_host.clone(),
            rebalance_timeout_ms: request.rebalance_timeout_ms,
            session_timeout_ms: request.session_timeout_ms,
            protocol_type: request.protocol_type.clone(),
            protocols: request.protocols.clone(),
            assignment: Vec::new(),
            awaiting_join: Some(conn),
            awaiting_sync: None,
            is_new: true,
            heartbeat_deadline: deadline,
        };
        let g = self.groups.get_mut(&request.group_id).expect("exists");
        if g.state == ClassicGroupState::PreparingRebalance && g.previous_state == ClassicGroupState::Empty {
            g.new_member_added = true;
        }
        g.add(member);
        let at = self.now;
        self.event(GroupEvent::MemberAdded {
            at,
            group: request.group_id.clone(),
            member: member_id,
            instance: request.group_instance_id.clone(),
        });
        self.maybe_prepare_rebalance_or_complete_join(&request.group_id);
    }

    fn update_member_then_rebalance(&mut self, conn: u64, request: JoinGroupRequest) {
        let g = self.groups.get_mut(&request.group_id).expect("exists");
        let m = g.member_mut(&request.member_id).expect("validated");
        m.protocols = request.protocols;
        m.rebalance_timeout_ms = request.rebalance_timeout_ms;
        m.session_timeout_ms = request.session_timeout_ms;
        m.awaiting_join = Some(conn);
        self.maybe_prepare_rebalance_or_complete_join(&request.group_id);
    }

    fn update_static_member(&mut self, conn: u64, request: JoinGroupRequest, old_id: &str, new_id: &str) {
        let group_id = request.group_id.clone();
        let instance = request.group_instance_id.clone().expect("static");
        let now = self.now;
        let g = self.groups.get_mut(&group_id).expect("exists");
        let Some(pos) = g.members.iter().position(|m| m.member_id == old_id) else { return };
        let mut old = g.members.remove(pos);
        // The old member's pending requests are fenced at once.
        let fenced_join = old.awaiting_join.take();
        let fenced_sync = old.awaiting_sync.take();
        let mut member = old.clone();
        member.member_id = new_id.to_string();
        // Rescheduled with the session timeout it had before this JoinGroup's values apply.
        member.heartbeat_deadline = now.plus_millis(member.session_timeout_ms);
        member.protocols = request.protocols.clone();
        member.rebalance_timeout_ms = request.rebalance_timeout_ms;
        member.session_timeout_ms = request.session_timeout_ms;
        member.awaiting_join = Some(conn);
        g.members.push(member);
        g.max_members = g.max_members.max(g.members.len());
        if g.is_leader(old_id) {
            g.leader_id = Some(new_id.to_string());
        }
        g.static_members.insert(instance.clone(), new_id.to_string());
        g.pending_sync.remove(old_id);
        let state = g.state;
        if let Some(c) = fenced_join {
            self.deliver(c, join_error(old_id, ErrorCode::FencedInstanceId));
        }
        if let Some(c) = fenced_sync {
            self.deliver(c, sync_error(ErrorCode::FencedInstanceId));
        }
        self.event(GroupEvent::StaticMemberReplaced {
            at: now,
            group: group_id.clone(),
            instance,
            old_member: old_id.to_string(),
            new_member: new_id.to_string(),
        });
        match state {
            ClassicGroupState::Stable => {
                let g = &self.groups[&group_id];
                if g.protocol_name.is_some() && g.select_protocol() == g.protocol_name {
                    // No rebalance: the member keeps its assignment; a leader need not assign again.
                    let is_leader = g.is_leader(new_id);
                    let response = g.join_response(new_id, is_leader);
                    let g = self.groups.get_mut(&group_id).expect("exists");
                    g.member_mut(new_id).expect("added").awaiting_join = None;
                    self.deliver(conn, GroupResponse::JoinGroup(response));
                } else {
                    self.maybe_prepare_rebalance_or_complete_join(&group_id);
                }
            }
            ClassicGroupState::CompletingRebalance => self.prepare_rebalance(&group_id),
            _ => self.maybe_prepare_rebalance_or_complete_join(&group_id),
        }
    }

    fn maybe_prepare_rebalance_or_complete_join(&mut self, group_id: &str) {
        if self.groups[group_id].can_rebalance() {
            self.prepare_rebalance(group_id)
        } else {
            self.maybe_complete_join_phase(group_id)
        }
    }

    fn maybe_complete_join_phase(&mut self, group_id: &str) {
        let g = &self.groups[group_id];
        if g.state == ClassicGroupState::PreparingRebalance
            && g.previous_state != ClassicGroupState::Empty
            && g.has_all_members_joined()
        {
            self.complete_join(group_id);
        }
    }

    fn prepare_rebalance(&mut self, group_id: &str) {
        if self.groups[group_id].state == ClassicGroupState::CompletingRebalance {
            self.reset_and_propagate_assignment_with_error(group_id, ErrorCode::RebalanceInProgress);
        }
        let now = self.now;
        let delay = self.config.initial_rebalance_delay_ms;
        let g = self.groups.get_mut(group_id).expect("exists");
        g.pending_sync.clear();
        g.sync_timer = None;
        let initial = g.state == ClassicGroupState::Empty;
        if initial {
            let remaining = g.rebalance_timeout_ms().saturating_sub(delay);
            g.join_timer = Some((
                now.plus_millis(delay),
                JoinTimer::InitialDelay { delay_ms: delay, remaining_ms: remaining },
            ));
        }
        self.transition(group_id, ClassicGroupState::PreparingRebalance);
        if !initial {
            let g = self.groups.get_mut(group_id).expect("exists");
            if g.has_all_members_joined() {
                self.complete_join(group_id);
            } else {
                g.join_timer = Some((now.plus_millis(g.rebalance_timeout_ms()), JoinTimer::Complete));
            }
        }
    }

    fn try_complete_initial_rebalance(&mut self, group_id: &str, delay_ms: u64, remaining_ms: u64) {
        let now = self.now;
        let initial_delay = self.config.initial_rebalance_delay_ms;
        let Some(g) = self.groups.get_mut(group_id) else { return };
        if g.new_member_added && remaining_ms != 0 {
            g.new_member_added = false;
            let new_delay = initial_delay.min(remaining_ms);
            let new_remaining = remaining_ms.saturating_sub(delay_ms);
            g.join_timer = Some((
                now.plus_millis(new_delay),
                JoinTimer::InitialDelay { delay_ms: new_delay, remaining_ms: new_remaining },
            ));
        } else {
            self.complete_join(group_id);
        }
    }

    fn complete_join(&mut self, group_id: &str) {
        let now = self.now;
        let Some(g) = self.groups.get_mut(group_id) else { return };
        g.join_timer = None;
        let not_rejoined: Vec<String> = g
            .members
            .iter()
            .filter(|m| m.awaiting_join.is_none() && m.group_instance_id.is_none())
            .map(|m| m.member_id.clone())
            .collect();
        for id in not_rejoined {
            self.groups.get_mut(group_id).expect("exists").remove(&id);
            self.event(GroupEvent::MemberRemoved {
                at: now,
                group: group_id.to_string(),
                member: id,
                reason: RemovalReason::RebalanceTimeout,
            });
        }
        let g = self.groups.get_mut(group_id).expect("exists");
        if g.state == ClassicGroupState::Dead {
            return;
        }
        // `maybeElectNewJoinedLeader`.
        let leader_ok = match g.leader_id.clone() {
            None => false,
            Some(leader) => {
                if g.member(&leader).is_some_and(|m| m.awaiting_join.is_some()) {
                    true
                } else {
                    let next = g.java_order().into_iter().find(|&i| g.members[i].awaiting_join.is_some());
                    match next {
                        Some(i) => {
                            g.leader_id = Some(g.members[i].member_id.clone());
                            true
                        }
                        None => false,
                    }
                }
            }
        };
        if !leader_ok && !g.members.is_empty() {
            // No member rejoined: try again after another rebalance timeout (at least 1 ms later, so a
            // zero timeout cannot spin at one instant).
            g.join_timer = Some((now.plus_millis(g.rebalance_timeout_ms().max(1)), JoinTimer::Complete));
            return;
        }
        // `initNextGeneration`.
        g.generation_id += 1;
        let generation = g.generation_id;
        if g.members.is_empty() {
            g.protocol_name = None;
            g.pending_sync.clear();
            self.transition(group_id, ClassicGroupState::Empty);
            self.event(GroupEvent::GenerationStarted {
                at: now,
                group: group_id.to_string(),
                generation,
                protocol: None,
                leader: None,
                members: 0,
            });
            return;
        }
        g.protocol_name = g.select_protocol();
        g.pending_sync.clear();
        let (protocol, leader, count) = (g.protocol_name.clone(), g.leader_id.clone(), g.members.len());
        self.transition(group_id, ClassicGroupState::CompletingRebalance);
        self.event(GroupEvent::GenerationStarted {
            at: now,
            group: group_id.to_string(),
            generation,
            protocol,
            leader,
            members: count,
        });
        let g = self.groups.get_mut(group_id).expect("exists");
        let mut replies = Vec::new();
        for i in g.java_order() {
            let id = g.members[i].member_id.clone();
            let response = g.join_response(&id, false);
            let m = &mut g.members[i];
            if let Some(conn) = m.awaiting_join.take() {
                replies.push((conn, response));
            }
            m.heartbeat_deadline = now.plus_millis(m.session_timeout_ms);
            m.is_new = false;
            g.pending_sync.insert(id);
        }
        g.sync_timer = Some((now.plus_millis(g.rebalance_timeout_ms()), generation));
        for (conn, response) in replies {
            self.deliver(conn, GroupResponse::JoinGroup(response));
        }
    }

    fn reset_and_propagate_assignment_with_error(&mut self, group_id: &str, error: ErrorCode) {
        let g = self.groups.get_mut(group_id).expect("exists");
        let mut replies = Vec::new();
        for m in &mut g.members {
            m.assignment.clear();
            if let Some(conn) = m.awaiting_sync.take() {
                replies.push(conn);
            }
        }
        for conn in replies {
            self.deliver(conn, sync_error(error));
        }
    }

    // ----- SyncGroup -----

    /// A SyncGroup from connection `conn`; a follower's is answered when the leader's assignment arrives.
    pub fn sync_group(&mut self, at: VirtualTime, conn: u64, request: SyncGroupRequest) -> Vec<Delivery> {
        self.fire_due(at);
        self.handle_sync(conn, request);
        std::mem::take(&mut self.outbox)
    }

    fn handle_sync(&mut self, conn: u64, request: SyncGroupRequest) {
        let now = self.now;
        if self.in_consumer_group(&request.group_id) {
            let response = match self.consumer_groups.classic_sync(now, &request) {
                Ok((protocol, assignment)) => {
                    GroupResponse::SyncGroup { error: None, protocol_name: Some(protocol), assignment }
                }
                Err(code) => sync_error(code),
            };
            return self.deliver(conn, response);
        }
        let Some(g) = self.groups.get(&request.group_id) else {
            return self.deliver(conn, sync_error(ErrorCode::UnknownMemberId));
        };
        if g.state == ClassicGroupState::Dead {
            return self.deliver(conn, sync_error(ErrorCode::CoordinatorNotAvailable));
        }
        if let Err(e) = g.validate_member(&request.member_id, request.group_instance_id.as_deref()) {
            return self.deliver(conn, sync_error(e));
        }
        if request.generation_id != g.generation_id {
            return self.deliver(conn, sync_error(ErrorCode::IllegalGeneration));
        }
        let inconsistent =
            |asked: &Option<String>, actual: &Option<String>| asked.is_some() && asked != actual;
        if inconsistent(&request.protocol_type, &g.protocol_type)
            || inconsistent(&request.protocol_name, &g.protocol_name)
        {
            return self.deliver(conn, sync_error(ErrorCode::InconsistentGroupProtocol));
        }
        match g.state {
            ClassicGroupState::PreparingRebalance => {
                self.deliver(conn, sync_error(ErrorCode::RebalanceInProgress))
            }
            ClassicGroupState::CompletingRebalance => {
                let g = self.groups.get_mut(&request.group_id).expect("exists");
                g.member_mut(&request.member_id).expect("validated").awaiting_sync = Some(conn);
                g.pending_sync.remove(&request.member_id);
                if g.pending_sync.is_empty() {
                    g.sync_timer = None;
                }
                if g.is_leader(&request.member_id) {
                    let assignment: BTreeMap<String, Vec<TopicPartition>> =
                        request.assignments.into_iter().collect();
                    let mut propagated = Vec::new();
                    let mut replies = Vec::new();
                    for m in &mut g.members {
                        m.assignment = assignment.get(&m.member_id).cloned().unwrap_or_default();
                        propagated.push((m.member_id.clone(), m.assignment.clone()));
                        if let Some(c) = m.awaiting_sync.take() {
                            replies.push((c, m.assignment.clone()));
                        }
                    }
                    propagated.sort();
                    let protocol_name = g.protocol_name.clone();
                    let generation = g.generation_id;
                    self.event(GroupEvent::AssignmentPropagated {
                        at: now,
                        group: request.group_id.clone(),
                        generation,
                        assignment: propagated,
                    });
                    for (c, assignment) in replies {
                        self.deliver(
                            c,
                            GroupResponse::SyncGroup {
                                error: None,
                                protocol_name: protocol_name.clone(),
                                assignment,
                            },
                        );
                    }
                    self.transition(&request.group_id, ClassicGroupState::Stable);
                }
            }
            ClassicGroupState::Stable => {
                let g = self.groups.get_mut(&request.group_id).expect("exists");
                g.pending_sync.remove(&request.member_id);
                if g.pending_sync.is_empty() {
                    g.sync_timer = None;
                }
                let assignment = g.member(&request.member_id).expect("validated").assignment.clone();
                let protocol_name = g.protocol_name.clone();
                self.deliver(conn, GroupResponse::SyncGroup { error: None, protocol_name, assignment });
            }
            _ => self.deliver(conn, sync_error(ErrorCode::UnknownMemberId)),
        }
    }

    fn expire_pending_sync(&mut self, group_id: &str, generation: i32) {
        let now = self.now;
        let Some(g) = self.groups.get(group_id) else { return };
        if generation != g.generation_id
            || !matches!(g.state, ClassicGroupState::CompletingRebalance | ClassicGroupState::Stable)
            || g.pending_sync.is_empty()
        {
            return;
        }
        let pending: Vec<String> = g.pending_sync.iter().cloned().collect();
        for id in pending {
            self.groups.get_mut(group_id).expect("exists").remove(&id);
            self.event(GroupEvent::MemberRemoved {
                at: now,
                group: group_id.to_string(),
                member: id,
                reason: RemovalReason::SyncTimeout,
            });
        }
        self.prepare_rebalance(group_id);
    }

    // ----- Heartbeat -----

    /// A Heartbeat: `REBALANCE_IN_PROGRESS` tells the member to rejoin.
    pub fn heartbeat(
        &mut self,
        at: VirtualTime,
        conn: u64,
        group_id: &str,
        member_id: &str,
        group_instance_id: Option<&str>,
        generation_id: i32,
    ) -> Vec<Delivery> {
        self.fire_due(at);
        let error = self.handle_heartbeat(group_id, member_id, group_instance_id, generation_id);
        self.deliver(conn, GroupResponse::Heartbeat { error });
        std::mem::take(&mut self.outbox)
    }

    fn handle_heartbeat(
        &mut self,
        group_id: &str,
        member_id: &str,
        instance: Option<&str>,
        generation_id: i32,
    ) -> Option<ErrorCode> {
        let now = self.now;
        if self.in_consumer_group(group_id) {
            return self.consumer_groups.classic_heartbeat(now, group_id, member_id, instance, generation_id);
        }
        let Some(g) = self.groups.get_mut(group_id) else { return Some(ErrorCode::UnknownMemberId) };
        if g.state == ClassicGroupState::Dead {
            return Some(ErrorCode::CoordinatorNotAvailable);
        }
        if let Err(e) = g.validate_member(member_id, instance) {
            return Some(e);
        }
        if generation_id != g.generation_id {
            return Some(ErrorCode::IllegalGeneration);
        }
        let state = g.state;
        let m = g.member_mut(member_id).expect("validated");
        match state {
            ClassicGroupState::Empty => Some(ErrorCode::UnknownMemberId),
            ClassicGroupState::PreparingRebalance => {
                m.heartbeat_deadline = now.plus_millis(m.session_timeout_ms);
                Some(ErrorCode::RebalanceInProgress)
            }
            _ => {
                m.heartbeat_deadline = now.plus_millis(m.session_timeout_ms);
                None
            }
        }
    }

    fn expire_heartbeat(&mut self, group_id: &str, member_id: &str) {
        let Some(g) = self.groups.get_mut(group_id) else { return };
        if g.state == ClassicGroupState::Dead {
            return;
        }
        let Some(m) = g.member_mut(member_id) else { return };
        if m.has_satisfied_heartbeat() {
            // Awaiting a join or sync response: the completion reschedules it.
            m.heartbeat_deadline = VirtualTime::NEVER;
            return;
        }
        self.remove_member(group_id, member_id, Some(RemovalReason::SessionTimeout));
        let g = &self.groups[group_id];
        match g.state {
            ClassicGroupState::Stable | ClassicGroupState::CompletingRebalance => {
                self.maybe_prepare_rebalance_or_complete_join(group_id)
            }
            ClassicGroupState::PreparingRebalance if g.has_all_members_joined() => {
                self.complete_join(group_id)
            }
            _ => {}
        }
    }

    fn remove_pending_member(&mut self, group_id: &str, member_id: &str, reason: RemovalReason) {
        let now = self.now;
        let Some(g) = self.groups.get_mut(group_id) else { return };
        g.remove(member_id);
        self.event(GroupEvent::MemberRemoved {
            at: now,
            group: group_id.to_string(),
            member: member_id.to_string(),
            reason,
        });
        let g = &self.groups[group_id];
        if g.state == ClassicGroupState::PreparingRebalance && g.has_all_members_joined() {
            self.complete_join(group_id);
        }
    }

    /// Removes a current member, failing its pending JoinGroup with `UNKNOWN_MEMBER_ID`.
    fn remove_member(&mut self, group_id: &str, member_id: &str, reason: Option<RemovalReason>) {
        let now = self.now;
        let Some(g) = self.groups.get_mut(group_id) else { return };
        let Some(removed) = g.remove(member_id) else { return };
        if let Some(conn) = removed.awaiting_join {
            self.deliver(conn, join_error("", ErrorCode::UnknownMemberId));
        }
        if let Some(reason) = reason {
            self.event(GroupEvent::MemberRemoved {
                at: now,
                group: group_id.to_string(),
                member: member_id.to_string(),
                reason,
            });
        }
    }

    // ----- LeaveGroup -----

    /// A LeaveGroup for one or more members (the consumer's `close()` / `unsubscribe()`, or the admin
    /// client's `removeMembersFromConsumerGroup` by instance id).
    pub fn leave_group(
        &mut self,
        at: VirtualTime,
        conn: u64,
        group_id: &str,
        members: &[LeaveMember],
    ) -> Vec<Delivery> {
        self.fire_due(at);
        let response = self.handle_leave(group_id, members);
        self.deliver(conn, response);
        std::mem::take(&mut self.outbox)
    }

    fn handle_leave(&mut self, group_id: &str, members: &[LeaveMember]) -> GroupResponse {
        if self.in_consumer_group(group_id) {
            let now = self.now;
            let mut results = Vec::new();
            for who in members {
                let error = self.consumer_groups.classic_leave(
                    now,
                    group_id,
                    &who.member_id,
                    who.group_instance_id.as_deref(),
                );
                results.push((who.member_id.clone(), who.group_instance_id.clone(), error));
            }
            self.apply_downgrades();
            return GroupResponse::LeaveGroup { error: None, members: results };
        }
        let Some(g) = self.groups.get(group_id) else {
            return GroupResponse::LeaveGroup {
                error: Some(ErrorCode::UnknownMemberId),
                members: Vec::new(),
            };
        };
        if g.state == ClassicGroupState::Dead {
            return GroupResponse::LeaveGroup {
                error: Some(ErrorCode::CoordinatorNotAvailable),
                members: Vec::new(),
            };
        }
        let mut results = Vec::new();
        let mut left = 0;
        for who in members {
            let g = &self.groups[group_id];
            let error = if who.member_id.is_empty() {
                match who.group_instance_id.as_ref().and_then(|i| g.static_members.get(i)).cloned() {
                    Some(id) => {
                        self.remove_member(group_id, &id, Some(RemovalReason::Left));
                        None
                    }
                    None => Some(ErrorCode::UnknownMemberId),
                }
            } else if g.pending_join.contains_key(&who.member_id) {
                self.remove_pending_member(group_id, &who.member_id, RemovalReason::Left);
                None
            } else {
                match g.validate_member(&who.member_id, who.group_instance_id.as_deref()) {
                    Ok(()) => {
                        self.remove_member(group_id, &who.member_id, Some(RemovalReason::Left));
                        None
                    }
                    Err(e) => Some(e),
                }
            };
            if error.is_none() {
                left += 1;
            }
            results.push((who.member_id.clone(), who.group_instance_id.clone(), error));
        }
        if left > 0 {
            match self.groups[group_id].state {
                ClassicGroupState::Stable | ClassicGroupState::CompletingRebalance => {
                    self.maybe_prepare_rebalance_or_complete_join(group_id)
                }
                ClassicGroupState::PreparingRebalance => self.maybe_complete_join_phase(group_id),
                _ => {}
            }
        }
        GroupResponse::LeaveGroup { error: None, members: results }
    }

    // ----- Offsets -----

    /// An OffsetCommit; a consumer outside the group protocol commits with generation `-1` and no member id.
    pub fn offset_commit(
        &mut self,
        at: VirtualTime,
        conn: u64,
        request: OffsetCommitRequest,
    ) -> Vec<Delivery> {
        self.fire_due(at);
        let error = self.validate_offset_commit(&request);
        let mut partitions = Vec::new();
        let mut committed = Vec::new();
        for (tp, offset) in &request.offsets {
            // `offset.metadata.max.bytes` (4096).
            let e =
                error.or_else(|| (offset.metadata.len() > 4096).then_some(ErrorCode::OffsetMetadataTooLarge));
            if e.is_none() {
                committed.push((tp.clone(), offset.clone()));
            }
            partitions.push((tp.clone(), e));
        }
        if !committed.is_empty() {
            let now = self.now;
            for (tp, offset) in &committed {
                self.offsets.commit(now, &request.group_id, tp.clone(), offset.clone());
            }
            self.event(GroupEvent::OffsetsCommitted {
                at: now,
                group: request.group_id.clone(),
                offsets: committed.iter().map(|(tp, o)| (tp.clone(), o.offset)).collect(),
            });
        }
        self.deliver(conn, GroupResponse::OffsetCommit { partitions });
        std::mem::take(&mut self.outbox)
    }

    /// A TxnOffsetCommit (the offsets of `sendOffsetsToTransaction`, at the transaction's commit). One
    /// without a generation or member id (`new ConsumerGroupMetadata(group)`) is taken even while the group
    /// has members, as Kafka 4.1 takes it (seen in `tests/scenarios/kafka/send-offsets-to-transaction`);
    /// otherwise it is checked as an OffsetCommit.
    pub fn txn_offset_commit(
        &mut self,
        at: VirtualTime,
        conn: u64,
        request: OffsetCommitRequest,
    ) -> Vec<Delivery> {
        let simple =
            request.generation_id < 0 && request.member_id.is_empty() && request.group_instance_id.is_none();
        let dead = self.groups.get(&request.group_id).is_some_and(|g| g.state == ClassicGroupState::Dead);
        if simple
            && !dead
            && !request.group_id.is_empty()
            && self.consumer_groups.group(&request.group_id).is_none()
        {
            self.fire_due(at);
            self.get_or_create(&request.group_id);
            let now = self.now;
            for (tp, offset) in &request.offsets {
                self.offsets.commit(now, &request.group_id, tp.clone(), offset.clone());
            }
            self.event(GroupEvent::OffsetsCommitted {
                at: now,
                group: request.group_id.clone(),
                offsets: request.offsets.iter().map(|(tp, o)| (tp.clone(), o.offset)).collect(),
            });
            let partitions = request.offsets.iter().map(|(tp, _)| (tp.clone(), None)).collect();
            self.deliver(conn, GroupResponse::OffsetCommit { partitions });
            return std::mem::take(&mut self.outbox);
        }
        self.offset_commit(at, conn, request)
    }

    fn validate_offset_commit(&mut self, request: &OffsetCommitRequest) -> Option<ErrorCode> {
        if request.group_id.is_empty() {
            return Some(ErrorCode::InvalidGroupId);
        }
        if self.consumer_groups.group(&request.group_id).is_some()
            && !self.groups.contains_key(&request.group_id)
        {
            // A consumer-protocol group: the generation is the member epoch.
            return self
                .consumer_groups
                .validate_offset_commit(&request.group_id, &request.member_id, request.generation_id)
                .err()
                .map(|e| e.code);
        }
        if !self.groups.contains_key(&request.group_id) {
            if request.generation_id < 0 {
                self.get_or_create(&request.group_id);
            } else {
                // OffsetCommit v9+ answers GROUP_ID_NOT_FOUND (older versions ILLEGAL_GENERATION).
                return Some(ErrorCode::GroupIdNotFound);
            }
        }
        let g = &self.groups[&request.group_id];
        if g.state == ClassicGroupState::Dead {
            return Some(ErrorCode::CoordinatorNotAvailable);
        }
        if request.generation_id < 0 && g.state == ClassicGroupState::Empty {
            return None;
        }
        if request.generation_id >= 0 || !request.member_id.is_empty() || request.group_instance_id.is_some()
        {
            if let Err(e) = g.validate_member(&request.member_id, request.group_instance_id.as_deref()) {
                return Some(e);
            }
            if request.generation_id != g.generation_id {
                return Some(ErrorCode::IllegalGeneration);
            }
        } else if g.state != ClassicGroupState::Empty {
            return Some(ErrorCode::UnknownMemberId);
        }
        if g.state == ClassicGroupState::CompletingRebalance {
            return Some(ErrorCode::RebalanceInProgress);
        }
        None
    }

    /// OffsetFetch: the committed offset per partition (`None`: no commit, which the client reads as `-1`).
    pub fn offset_fetch(
        &self,
        group_id: &str,
        partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, Option<OffsetAndMetadata>)>, ErrorCode> {
        if self.groups.get(group_id).is_some_and(|g| g.state == ClassicGroupState::Dead) {
            return Err(ErrorCode::GroupIdNotFound);
        }
        Ok(partitions
            .iter()
            .map(|tp| (tp.clone(), self.offsets.committed(group_id, tp).map(|c| c.offset.clone())))
            .collect())
    }

    // ----- Admin -----

    /// ListGroups, in group-id order.
    pub fn list_groups(&self) -> Vec<GroupListing> {
        self.groups
            .values()
            .filter(|g| g.state != ClassicGroupState::Dead)
            .map(|g| GroupListing {
                group_id: g.group_id.clone(),
                protocol_type: g.protocol_type.clone().unwrap_or_default(),
                state: g.state,
            })
            .collect()
    }

    /// DescribeGroups for one group; an unknown group is `Dead` with no members, as Kafka answers.
    pub fn describe_group(&self, group_id: &str) -> DescribedGroup {
        let Some(g) = self.groups.get(group_id) else {
            return DescribedGroup {
                group_id: group_id.to_string(),
                state: ClassicGroupState::Dead,
                protocol_type: String::new(),
                protocol: String::new(),
                generation_id: -1,
                leader: None,
                members: Vec::new(),
            };
        };
        let mut members: Vec<DescribedMember> = g
            .members
            .iter()
            .map(|m| DescribedMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                // Kafka 4's coordinator shows each member's assignment in every state (a non-Stable
                // group's members without their metadata, but with the assignment they hold: kept from
                // Stable into PreparingRebalance, cleared when a rebalance resets it).
                assignment: m.assignment.clone(),
            })
            .collect();
        members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        DescribedGroup {
            group_id: g.group_id.clone(),
            state: g.state,
            protocol_type: g.protocol_type.clone().unwrap_or_default(),
            protocol: if g.state == ClassicGroupState::Stable {
                g.protocol_name.clone().unwrap_or_default()
            } else {
                String::new()
            },
            generation_id: g.generation_id,
            leader: g.leader_id.clone(),
            members,
        }
    }

    /// DeleteGroups for one group: only an Empty group can go (`NON_EMPTY_GROUP`), an unknown one is
    /// `GROUP_ID_NOT_FOUND`; its committed offsets go with it.
    pub fn delete_group(&mut self, at: VirtualTime, group_id: &str) -> Result<(), ErrorCode> {
        self.fire_due(at);
        match self.groups.get(group_id).map(|g| g.state) {
            None | Some(ClassicGroupState::Dead) => Err(ErrorCode::GroupIdNotFound),
            Some(ClassicGroupState::Empty) => {
                self.groups.remove(group_id);
                self.offsets.delete_group(group_id);
                let now = self.now;
                self.event(GroupEvent::GroupDeleted { at: now, group: group_id.to_string() });
                Ok(())
            }
            Some(_) => Err(ErrorCode::NonEmptyGroup),
        }
    }

    /// OffsetDelete (`admin.deleteConsumerGroupOffsets`), as Kafka 4.1's `OffsetMetadataManager.deleteOffsets`
    /// answers it: an unknown or dead group fails whole with `GROUP_ID_NOT_FOUND`; a classic group with
    /// members whose protocol type is not `consumer` with `NON_EMPTY_GROUP`. Otherwise each partition of a
    /// topic the group subscribes to fails with `GROUP_SUBSCRIBED_TO_TOPIC`, and every other partition's
    /// committed offset is removed — a partition without one succeeds all the same.
    pub fn offset_delete(
        &mut self,
        at: VirtualTime,
        group_id: &str,
        partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, Option<ErrorCode>)>, ErrorCode> {
        self.fire_due(at);
        // `None`: every topic counts as subscribed.
        let subscribed: Option<BTreeSet<String>> = match self.groups.get(group_id) {
            Some(g) => match g.state {
                ClassicGroupState::Dead => return Err(ErrorCode::GroupIdNotFound),
                ClassicGroupState::Empty => Some(BTreeSet::new()),
                _ if g.protocol_type.as_deref() != Some("consumer") => return Err(ErrorCode::NonEmptyGroup),
                // Before its first generation a consumer group's topics are not known yet, and Kafka counts
                // every topic as subscribed (`isSubscribedToTopic` falls back to `usesConsumerGroupProtocol`).
                _ if g.protocol_name.is_none() => None,
                // `ClassicGroup.subscribedTopics`: the topics in the members' metadata of the chosen protocol.
                _ => Some(
                    g.members
                        .iter()
                        .flat_map(|m| {
                            m.protocols.iter().filter(|p| Some(&p.name) == g.protocol_name.as_ref())
                        })
                        .flat_map(|p| p.topics.iter().cloned())
                        .collect(),
                ),
            },
            None => match self.consumer_groups.group(group_id) {
                Some(g) => Some(g.subscribed_topics()),
                None => return Err(ErrorCode::GroupIdNotFound),
            },
        };
        let mut results = Vec::new();
        let mut deleted = Vec::new();
        for tp in partitions {
            if subscribed.as_ref().is_none_or(|s| s.contains(tp.topic.as_str())) {
                results.push((tp.clone(), Some(ErrorCode::GroupSubscribedToTopic)));
            } else {
                if self.offsets.delete(group_id, tp) {
                    deleted.push(tp.clone());
                }
                results.push((tp.clone(), None));
            }
        }
        if !deleted.is_empty() {
            let now = self.now;
            self.event(GroupEvent::OffsetsDeleted {
                at: now,
                group: group_id.to_string(),
                partitions: deleted,
            });
        }
        Ok(results)
    }

    /// A group's state, generation, leader and members' assignments, for checks and tests.
    pub fn group_state(&self, group_id: &str) -> Option<(ClassicGroupState, i32, Option<String>)> {
        self.groups.get(group_id).map(|g| (g.state, g.generation_id, g.leader_id.clone()))
    }

    /// Every group's id, in order.
    pub fn group_ids(&self) -> Vec<String> {
        self.groups.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition::new(topic.to_string(), partition)
    }

    /// A static member (no MEMBER_ID_REQUIRED round) of `protocol_type` subscribing to `topics`.
    fn join(c: &mut GroupCoordinator, protocol_type: &str, topics: &[&str]) {
        c.join_group(
            VirtualTime::ZERO,
            1,
            JoinGroupRequest {
                group_id: "g".into(),
                session_timeout_ms: 45_000,
                rebalance_timeout_ms: 300_000,
                member_id: String::new(),
                group_instance_id: Some("i1".into()),
                protocol_type: protocol_type.into(),
                protocols: vec![ProtocolMetadata {
                    name: "range".into(),
                    topics: topics.iter().map(|t| t.to_string()).collect(),
                    owned_partitions: Vec::new(),
                    generation: -1,
                    rack_id: None,
                }],
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
            },
        );
    }

    fn commit(c: &mut GroupCoordinator, partitions: &[TopicPartition]) {
        for p in partitions {
            let offset = OffsetAndMetadata { offset: 1, metadata: String::new() };
            c.offsets.commit(VirtualTime::ZERO, "g", p.clone(), offset);
        }
    }

    // OffsetMetadataManager.deleteOffsets and ClassicGroup.validateOffsetDelete of Kafka 4.1.1.
    #[test]
    fn offset_delete_refuses_subscribed_topics_and_non_consumer_groups() {
        let mut c = GroupCoordinator::new(CoordinatorConfig::default(), 7);
        assert_eq!(c.offset_delete(VirtualTime::ZERO, "g", &[tp("t", 0)]), Err(ErrorCode::GroupIdNotFound));

        join(&mut c, "consumer", &["t"]);
        commit(&mut c, &[tp("t", 0), tp("u", 0)]);
        // Before the first generation every topic counts as subscribed.
        assert_eq!(
            c.offset_delete(VirtualTime::ZERO, "g", &[tp("u", 0)]).unwrap(),
            vec![(tp("u", 0), Some(ErrorCode::GroupSubscribedToTopic))]
        );
        // group.initial.rebalance.delay.ms passes: generation 1 knows the member's topics.
        c.advance_to(VirtualTime::from_millis(10_000));
        let results = c.offset_delete(VirtualTime::ZERO, "g", &[tp("t", 0), tp("u", 0), tp("u", 1)]).unwrap();
        assert_eq!(
            results,
            vec![
                (tp("t", 0), Some(ErrorCode::GroupSubscribedToTopic)),
                (tp("u", 0), None),
                (tp("u", 1), None)
            ]
        );
        assert!(c.offsets().committed("g", &tp("t", 0)).is_some());
        assert!(c.offsets().committed("g", &tp("u", 0)).is_none());

        // A group of another protocol type (Kafka Connect's workers) with members refuses the whole request.
        let mut connect = GroupCoordinator::new(CoordinatorConfig::default(), 7);
        join(&mut connect, "connect", &["t"]);
        assert_eq!(
            connect.offset_delete(VirtualTime::ZERO, "g", &[tp("u", 0)]),
            Err(ErrorCode::NonEmptyGroup)
        );
    }

    // ----- KIP-848's online migration (GroupMetadataManager of Kafka 4.1: validateOnlineUpgrade,
    // convertToConsumerGroup, classicGroup…ToConsumerGroup, validateOnlineDowngradeWithFencedMember,
    // convertToClassicGroup), the behaviour tests/scenarios/kafka/consumer-protocol-migration records. -----

    use crate::kafka::group::consumer::{ConsumerGroupState, LEAVE_GROUP_MEMBER_EPOCH};

    const AT: VirtualTime = VirtualTime::ZERO;

    fn migrating(policy: MigrationPolicy, classic_max_size: usize) -> GroupCoordinator {
        let config = CoordinatorConfig {
            initial_rebalance_delay_ms: 0,
            max_size: classic_max_size,
            migration_policy: policy,
            ..CoordinatorConfig::default()
        };
        GroupCoordinator::new(config, 7)
    }

    fn partitions() -> BTreeMap<String, i32> {
        BTreeMap::from([("t".to_string(), 2)])
    }

    fn classic_join_request(member_id: &str) -> JoinGroupRequest {
        JoinGroupRequest {
            group_id: "g".into(),
            session_timeout_ms: 45_000,
            rebalance_timeout_ms: 300_000,
            member_id: member_id.into(),
            group_instance_id: None,
            protocol_type: "consumer".into(),
            protocols: vec![ProtocolMetadata {
                name: "range".into(),
                topics: vec!["t".into()],
                owned_partitions: Vec::new(),
                generation: -1,
                rack_id: None,
            }],
            client_id: "old".into(),
            client_host: "/127.0.0.1".into(),
        }
    }

    fn join_response(out: Vec<Delivery>) -> JoinGroupResponse {
        out.into_iter()
            .find_map(|d| match d.response {
                GroupResponse::JoinGroup(r) => Some(r),
                _ => None,
            })
            .expect("a JoinGroup response")
    }

    fn sync(c: &mut GroupCoordinator, member: &str, generation: i32, leader: bool) -> GroupResponse {
        let assignments =
            if leader { vec![(member.to_string(), vec![tp("t", 0), tp("t", 1)])] } else { Vec::new() };
        let request = SyncGroupRequest {
            group_id: "g".into(),
            generation_id: generation,
            member_id: member.into(),
            group_instance_id: None,
            protocol_type: Some("consumer".into()),
            protocol_name: Some("range".into()),
            assignments,
        };
        c.sync_group(AT, 1, request).pop().expect("a SyncGroup response").response
    }

    /// A classic member alone in a Stable group at generation 1, owning t-0 and t-1; returns its id.
    fn stable_classic_member(c: &mut GroupCoordinator) -> String {
        let id = join_response(c.join_group(AT, 1, classic_join_request(""))).member_id;
        let mut out = c.join_group(AT, 1, classic_join_request(&id));
        out.extend(c.advance_to(AT));
        let joined = join_response(out);
        assert_eq!((joined.generation_id, joined.leader.as_str()), (1, id.as_str()));
        sync(c, &id, 1, true);
        assert_eq!(c.describe_group("g").state, ClassicGroupState::Stable);
        id
    }

    fn consumer_heartbeat(member: &str, epoch: i32) -> ConsumerGroupHeartbeatRequest {
        ConsumerGroupHeartbeatRequest {
            group_id: "g".into(),
            member_id: member.into(),
            member_epoch: epoch,
            instance_id: None,
            rack_id: None,
            rebalance_timeout_ms: Some(300_000),
            subscribed_topic_names: Some(vec!["t".into()]),
            server_assignor: None,
            owned_partitions: Some(Vec::new()),
            client_id: "modern".into(),
            client_host: "/127.0.0.1".into(),
        }
    }

    /// The members of group `g` are in one kind of group: never in a classic and a consumer group at once.
    fn one_kind(c: &GroupCoordinator) {
        let classic = c.groups.get("g").is_some_and(|g| !g.members.is_empty());
        let consumer = c.consumer_groups().group("g").is_some_and(|g| !g.members.is_empty());
        assert!(!(classic && consumer), "group g is both classic and consumer");
    }

    fn assigned(c: &GroupCoordinator, member: &str) -> Vec<TopicPartition> {
        let g = c.consumer_groups().group("g").expect("a consumer group");
        g.members[member].assigned.iter().cloned().collect()
    }

    #[test]
    fn a_consumer_member_upgrades_a_classic_group_and_its_leaving_downgrades_it() {
        let mut c = migrating(MigrationPolicy::Bidirectional, usize::MAX);
        let old = stable_classic_member(&mut c);

        // The upgrade: the classic group is gone; its member is a classic member at epoch 1 (its generation).
        let r = c.consumer_group_heartbeat(AT, consumer_heartbeat("new", 0), &partitions()).unwrap();
        one_kind(&c);
        assert_eq!(c.describe_group("g").state, ClassicGroupState::Dead);
        let g = c.consumer_groups().group("g").unwrap();
        assert_eq!((g.group_epoch, g.members[&old].member_epoch), (2, 1));
        assert!(g.members[&old].classic.is_some() && g.members["new"].classic.is_none());
        // uniform keeps t-0 with the classic member; t-1 waits until the classic member gives it up.
        assert_eq!(g.target[&old].iter().cloned().collect::<Vec<_>>(), vec![tp("t", 0)]);
        assert_eq!(g.target["new"].iter().cloned().collect::<Vec<_>>(), vec![tp("t", 1)]);
        assert_eq!(r.assignment, Some(Vec::new()));
        assert_eq!(c.consumer_groups().assignor_name("g"), Some("uniform"));

        // The classic member hears of the rebalance on its heartbeat, rejoins (no leader: the coordinator
        // assigns) at generation 2 and syncs its new assignment.
        let hb = c.heartbeat(AT, 1, "g", &old, None, 1).pop().unwrap().response;
        assert_eq!(hb, GroupResponse::Heartbeat { error: Some(ErrorCode::RebalanceInProgress) });
        let joined = join_response(c.join_group(AT, 1, classic_join_request(&old)));
        assert_eq!((joined.error, joined.generation_id, joined.leader.as_str()), (None, 2, ""));
        assert_eq!(
            sync(&mut c, &old, 2, false),
            GroupResponse::SyncGroup {
                error: None,
                protocol_name: Some("range".into()),
                assignment: vec![tp("t", 0)]
            }
        );
        let r = c.consumer_group_heartbeat(AT, consumer_heartbeat("new", 2), &partitions()).unwrap();
        assert_eq!(r.assignment, Some(vec![tp("t", 1)]));
        assert_eq!(assigned(&c, &old), vec![tp("t", 0)]);
        assert_eq!(c.consumer_groups().group("g").unwrap().state(), ConsumerGroupState::Stable);
        let hb = c.heartbeat(AT, 1, "g", &old, None, 2).pop().unwrap().response;
        assert_eq!(hb, GroupResponse::Heartbeat { error: None });
        // Its commits carry its generation: the member epoch, else ILLEGAL_GENERATION (not STALE_MEMBER_EPOCH).
        let commit = |c: &mut GroupCoordinator, generation: i32| {
            let offsets = vec![(tp("t", 0), OffsetAndMetadata { offset: 1, metadata: String::new() })];
            let request = OffsetCommitRequest {
                group_id: "g".into(),
                generation_id: generation,
                member_id: old.clone(),
                group_instance_id: None,
                offsets,
            };
            c.offset_commit(AT, 1, request).pop().unwrap().response
        };
        assert_eq!(commit(&mut c, 2), GroupResponse::OffsetCommit { partitions: vec![(tp("t", 0), None)] });
        assert_eq!(
            commit(&mut c, 1),
            GroupResponse::OffsetCommit {
                partitions: vec![(tp("t", 0), Some(ErrorCode::IllegalGeneration))]
            }
        );

        // The last consumer-protocol member leaves: a classic group again, rebalancing, the classic member
        // holding its target assignment until it rejoins.
        c.consumer_group_heartbeat(AT, consumer_heartbeat("new", LEAVE_GROUP_MEMBER_EPOCH), &partitions())
            .unwrap();
        assert!(c.consumer_groups().group("g").is_none());
        one_kind(&c);
        let kinds: Vec<&str> = c.take_events().iter().map(GroupEvent::kind).collect();
        assert!(
            kinds.contains(&"upgraded-to-consumer-group") && kinds.contains(&"downgraded-to-classic-group"),
            "{kinds:?}"
        );
        let d = c.describe_group("g");
        // (DescribeGroups names the protocol only once the group is Stable again.)
        assert_eq!((d.state, d.generation_id), (ClassicGroupState::PreparingRebalance, 2));
        assert_eq!(d.members.len(), 1);
        assert_eq!(c.groups["g"].members[0].assignment, vec![tp("t", 0)]);
        // It rejoins and, the leader now, assigns both partitions (range).
        let mut out = c.join_group(AT, 1, classic_join_request(&old));
        out.extend(c.advance_to(AT));
        let joined = join_response(out);
        assert_eq!((joined.generation_id, joined.leader.as_str()), (3, old.as_str()));
        sync(&mut c, &old, 3, true);
        let d = c.describe_group("g");
        assert_eq!(d.state, ClassicGroupState::Stable);
        assert_eq!(d.members[0].assignment, vec![tp("t", 0), tp("t", 1)]);
    }

    #[test]
    fn the_upgrade_is_refused_as_kafka_refuses_it_when_the_policy_forbids_it() {
        for policy in [MigrationPolicy::Disabled, MigrationPolicy::Downgrade] {
            let mut c = migrating(policy, usize::MAX);
            stable_classic_member(&mut c);
            let e = c.consumer_group_heartbeat(AT, consumer_heartbeat("new", 0), &partitions()).unwrap_err();
            assert_eq!(e.code, ErrorCode::GroupIdNotFound);
            assert_eq!(e.message, "Group g is not a consumer group.", "{policy:?}");
            assert_eq!(c.describe_group("g").state, ClassicGroupState::Stable);
        }
        // A group whose members are not consumers (Kafka Connect's workers) is never upgraded.
        let mut c = migrating(MigrationPolicy::Bidirectional, usize::MAX);
        join(&mut c, "connect", &["t"]);
        let e = c.consumer_group_heartbeat(AT, consumer_heartbeat("new", 0), &partitions()).unwrap_err();
        assert_eq!(e.code, ErrorCode::GroupIdNotFound);
    }

    #[test]
    fn the_downgrade_needs_the_policy_and_room_in_a_classic_group() {
        // `upgrade` only: the group stays a consumer group with its classic member.
        let mut c = migrating(MigrationPolicy::Upgrade, usize::MAX);
        let old = stable_classic_member(&mut c);
        c.consumer_group_heartbeat(AT, consumer_heartbeat("new", 0), &partitions()).unwrap();
        c.consumer_group_heartbeat(AT, consumer_heartbeat("new", LEAVE_GROUP_MEMBER_EPOCH), &partitions())
            .unwrap();
        let g = c.consumer_groups().group("g").expect("still a consumer group");
        assert_eq!(g.members.keys().cloned().collect::<Vec<_>>(), vec![old.clone()]);
        assert_eq!(c.describe_group("g").state, ClassicGroupState::Dead);

        // A classic member leaving while a consumer-protocol member stays: no downgrade; that member then
        // leaving the group empty: none either (an empty group stays what it is).
        let mut c = migrating(MigrationPolicy::Bidirectional, usize::MAX);
        let old = stable_classic_member(&mut c);
        c.consumer_group_heartbeat(AT, consumer_heartbeat("new", 0), &partitions()).unwrap();
        c.leave_group(AT, 1, "g", &[LeaveMember { member_id: old, group_instance_id: None }]);
        assert_eq!(c.consumer_groups().group("g").unwrap().members.len(), 1);
        c.consumer_group_heartbeat(AT, consumer_heartbeat("new", LEAVE_GROUP_MEMBER_EPOCH), &partitions())
            .unwrap();
        assert!(c.consumer_groups().group("g").unwrap().members.is_empty());
        assert_eq!(c.describe_group("g").state, ClassicGroupState::Dead);
    }

    #[test]
    fn the_downgrade_waits_while_the_classic_members_exceed_group_classic_max_size() {
        // Two classic members (max size 2 while classic), then the limit is 1 when the consumer member leaves.
        let mut c = migrating(MigrationPolicy::Bidirectional, usize::MAX);
        let old = stable_classic_member(&mut c);
        c.consumer_group_heartbeat(AT, consumer_heartbeat("new", 0), &partitions()).unwrap();
        let second = match c.join_group(AT, 2, classic_join_request("")).pop().unwrap().response {
            GroupResponse::JoinGroup(r) => {
                assert_eq!(r.error, Some(ErrorCode::MemberIdRequired));
                r.member_id
            }
            other => panic!("{other:?}"),
        };
        let joined = join_response(c.join_group(AT, 2, classic_join_request(&second)));
        assert_eq!(joined.error, None);
        assert_eq!(c.consumer_groups().group("g").unwrap().members.len(), 3);
        c.config.max_size = 1;
        c.consumer_group_heartbeat(AT, consumer_heartbeat("new", LEAVE_GROUP_MEMBER_EPOCH), &partitions())
            .unwrap();
        let g = c.consumer_groups().group("g").expect("too big for a classic group");
        assert!(g.members.contains_key(&old) && g.members.contains_key(&second));
    }

    #[test]
    fn a_classic_member_that_does_not_rejoin_within_its_rebalance_timeout_is_fenced() {
        let mut c = migrating(MigrationPolicy::Bidirectional, usize::MAX);
        let old = stable_classic_member(&mut c);
        c.consumer_group_heartbeat(AT, consumer_heartbeat("new", 0), &partitions()).unwrap();
        c.take_consumer_group_events();
        // Both heartbeat every 10 s (within their 45 s sessions); the classic member never rejoins.
        let mut t = 0;
        while c.consumer_groups().group("g").unwrap().members.contains_key(&old) {
            t += 10_000;
            assert!(t <= 310_000, "still a member at {t} ms");
            let at = VirtualTime::from_millis(t);
            let epoch = c.consumer_groups().group("g").unwrap().members["new"].member_epoch;
            let mut hb = consumer_heartbeat("new", epoch);
            hb.rebalance_timeout_ms = None;
            hb.subscribed_topic_names = None;
            hb.owned_partitions = None;
            c.consumer_group_heartbeat(at, hb, &partitions()).unwrap();
            if c.consumer_groups().group("g").unwrap().members.contains_key(&old) {
                let hb = c.heartbeat(at, 1, "g", &old, None, 1).pop().unwrap().response;
                assert_eq!(hb, GroupResponse::Heartbeat { error: Some(ErrorCode::RebalanceInProgress) });
            }
        }
        // Told to rejoin at 10 s, fenced 300 s (its max.poll.interval.ms) later.
        assert_eq!(t, 310_000);
        let fenced: Vec<String> = c
            .take_consumer_group_events()
            .into_iter()
            .filter(|e| e.kind() == "member-fenced")
            .map(|e| e.to_string())
            .collect();
        assert_eq!(fenced.len(), 1, "{fenced:?}");
        assert!(fenced[0].contains("did not rejoin before the rebalance timeout"), "{fenced:?}");
        // The consumer-protocol member stays: no downgrade.
        assert_eq!(c.describe_group("g").state, ClassicGroupState::Dead);
    }

    #[test]
    fn a_classic_member_takes_over_the_id_of_an_empty_consumer_group() {
        let mut c = migrating(MigrationPolicy::Bidirectional, usize::MAX);
        c.consumer_group_heartbeat(AT, consumer_heartbeat("new", 0), &partitions()).unwrap();
        c.consumer_group_heartbeat(AT, consumer_heartbeat("new", LEAVE_GROUP_MEMBER_EPOCH), &partitions())
            .unwrap();
        assert!(c.consumer_groups().group("g").is_some_and(|g| g.members.is_empty()));
        stable_classic_member(&mut c);
        assert!(c.consumer_groups().group("g").is_none());
    }
}
