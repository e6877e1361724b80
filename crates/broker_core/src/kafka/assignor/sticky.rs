//! `AbstractStickyAssignor` and its two subclasses, `StickyAssignor` (eager) and
//! `CooperativeStickyAssignor`: a balanced assignment that keeps as many partitions as possible with
//! their previous owner.
//!
//! Two builders, as in Kafka: when every member subscribes to the same topics, the constrained builder
//! (members keep up to their quota of owned partitions, the rest is dealt round-robin to members under
//! quota); otherwise the general builder (owned partitions kept, unassigned ones given to the least loaded
//! eligible member, then partitions moved while the assignment is unbalanced, preferring a partition's
//! owner of an earlier generation, and undone if the balance score did not improve).
//!
//! Owned partitions are validated first as Kafka does: partitions of topics that no longer exist (or
//! outside the topic's partition count) are dropped; of two members claiming a partition, the one of the
//! higher generation keeps it, and in the same generation neither does.
//!
//! Racks (KIP-881, Kafka's `RackInfo`): when some member has a `client.rack` that some partition's replica
//! has, and not every partition has replicas on every rack, the assignment is rack-aware. A member keeps
//! an owned partition only if a replica is on its rack (a member without a rack matches everything). The
//! constrained builder deals the unassigned partitions, those with the fewest same-rack members first,
//! round-robin to under-quota members on a replica's rack before the plain round-robin; the general
//! builder first gives each unassigned partition to the least loaded eligible member on a replica's rack,
//! then the rest as without racks (its balancing moves are the same as without racks, as in Kafka).
//! As in Kafka, the order by same-rack members applies as soon as some member has a rack, even when the
//! assignment is not rack-aware.

use super::{
    java_bucket, java_capacity, java_cmp, java_hash_map_order, java_topic_partition_hash, partitions_of,
    Assignment, JavaString, MemberSubscription, PartitionCounts, PartitionRacks,
};
use crate::kafka::TopicPartition;
use std::collections::{BTreeMap, BTreeSet};

/// `AbstractStickyAssignor.DEFAULT_GENERATION`.
const DEFAULT_GENERATION: i32 = -1;

/// The assignment and, from the constrained builder, the partitions that change owner (partition → new
/// owner); `None` when the general builder ran (the cooperative assignor then computes them itself).
pub(super) struct StickyOutcome {
    pub assignment: Assignment,
    pub transferring: Option<BTreeMap<TopicPartition, String>>,
}

/// `CooperativeStickyAssignor.assignPartitions`: the sticky assignment without the partitions that must
/// first be revoked from another member (they are assigned in the follow-up rebalance).
pub(super) fn assign_cooperative(
    members: &[MemberSubscription],
    partitions: &PartitionCounts,
    racks: &PartitionRacks,
) -> Assignment {
    let StickyOutcome { mut assignment, transferring } = assign(members, partitions, racks);
    let transferring = match transferring {
        Some(t) => t,
        None => {
            let mut added: BTreeMap<TopicPartition, String> = BTreeMap::new();
            let mut revoked: BTreeSet<TopicPartition> = BTreeSet::new();
            for member in members {
                let assigned = &assignment[&member.member_id];
                let owned: BTreeSet<&TopicPartition> = member.owned_partitions.iter().collect();
                for tp in assigned {
                    if !owned.contains(tp) {
                        added.insert(tp.clone(), member.member_id.clone());
                    }
                }
                for tp in &member.owned_partitions {
                    if !assigned.contains(tp) {
                        revoked.insert(tp.clone());
                    }
                }
            }
            added.retain(|tp, _| revoked.contains(tp));
            added
        }
    };
    for (tp, member) in transferring {
        if let Some(list) = assignment.get_mut(&member) {
            list.retain(|p| *p != tp);
        }
    }
    assignment
}

/// `AbstractStickyAssignor.assignPartitions`, with the partitions' replica racks (KIP-881).
pub(super) fn assign(
    members: &[MemberSubscription],
    partitions: &PartitionCounts,
    racks: &PartitionRacks,
) -> StickyOutcome {
    // Members in the order Kafka's `HashMap` of subscriptions yields them (a repeated member id counts
    // once, its first subscription).
    let mut seen = BTreeSet::new();
    let unique: Vec<&MemberSubscription> =
        members.iter().filter(|m| seen.insert(m.member_id.as_str())).collect();
    let by_id: BTreeMap<&str, &MemberSubscription> =
        unique.iter().map(|m| (m.member_id.as_str(), *m)).collect();
    let ordered: Vec<&MemberSubscription> = java_hash_map_order(unique.iter().map(|m| m.member_id.as_str()))
        .into_iter()
        .map(|id| by_id[id])
        .collect();

    // The topics to assign: subscribed by someone, with at least one partition.
    let topics: BTreeMap<String, i32> = ordered
        .iter()
        .flat_map(|m| m.topics.iter())
        .filter_map(|t| partitions.get(t).filter(|&&n| n > 0).map(|&n| (t.clone(), n)))
        .collect();

    let rack_info = RackInfo::new(&ordered, &topics, racks);
    let validated = validate_owned(&ordered, &topics);
    if validated.all_subscriptions_equal {
        let mut builder = Constrained::new(&topics, &ordered, validated, rack_info);
        let assignment = builder.build();
        StickyOutcome { assignment, transferring: Some(builder.transferring) }
    } else {
        let assignment = General::new(&topics, &ordered, validated, rack_info).build();
        StickyOutcome { assignment, transferring: None }
    }
}

/// `AbstractStickyAssignor.RackInfo`: the members' racks and the partitions' replica racks.
#[derive(Default)]
struct RackInfo {
    /// Member → its rack; empty unless the assignment is rack-aware.
    consumer_racks: BTreeMap<String, String>,
    /// Partition → its replicas' racks; empty unless the assignment is rack-aware.
    partition_racks: BTreeMap<TopicPartition, BTreeSet<String>>,
    /// Partition → how many members are on one of its replicas' racks; filled whenever some member has a
    /// rack (Kafka computes it from the racks before deciding whether the assignment is rack-aware).
    consumers_by_partition: BTreeMap<TopicPartition, usize>,
}

impl RackInfo {
    fn new(members: &[&MemberSubscription], topics: &BTreeMap<String, i32>, racks: &PartitionRacks) -> Self {
        let member_racks: Vec<(&str, &str)> = members
            .iter()
            .filter_map(|m| m.rack_id.as_deref().filter(|r| !r.is_empty()).map(|r| (m.member_id.as_str(), r)))
            .collect();
        if member_racks.is_empty() {
            return RackInfo::default();
        }
        let mut members_on_rack: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, rack) in &member_racks {
            *members_on_rack.entry(rack).or_default() += 1;
        }
        let no_racks = BTreeSet::new();
        let partition_racks: BTreeMap<TopicPartition, BTreeSet<String>> = topics
            .iter()
            .flat_map(|(t, &n)| partitions_of(t, n))
            .map(|tp| {
                let set = racks.get(&tp).unwrap_or(&no_racks).clone();
                (tp, set)
            })
            .collect();
        let all_racks: BTreeSet<&String> = partition_racks.values().flatten().collect();
        let consumers_by_partition = partition_racks
            .iter()
            .map(|(tp, set)| {
                (tp.clone(), set.iter().map(|r| members_on_rack.get(r.as_str()).unwrap_or(&0)).sum())
            })
            .collect();
        // `useRackAwareAssignment`: some member's rack is a replica's rack, and the partitions' rack sets
        // are not all the set of every rack.
        let shared = members_on_rack.keys().any(|r| all_racks.iter().any(|a| a.as_str() == *r));
        let uneven = partition_racks.values().any(|set| set.len() != all_racks.len());
        if shared && uneven {
            RackInfo {
                consumer_racks: member_racks.iter().map(|(m, r)| (m.to_string(), r.to_string())).collect(),
                partition_racks,
                consumers_by_partition,
            }
        } else {
            RackInfo { consumers_by_partition, ..RackInfo::default() }
        }
    }

    /// `racksMismatch`: the member has a rack and no replica of the partition is on it.
    fn mismatch(&self, member: &str, tp: &TopicPartition) -> bool {
        self.consumer_racks
            .get(member)
            .is_some_and(|rack| !self.partition_racks.get(tp).is_some_and(|set| set.contains(rack)))
    }

    /// `sortPartitionsByRackConsumers`: a stable sort by the number of members on a replica's rack.
    fn sort_by_rack_consumers(&self, partitions: &mut [TopicPartition]) {
        if !self.consumers_by_partition.is_empty() {
            partitions.sort_by_key(|tp| self.consumers_by_partition.get(tp).copied().unwrap_or(0));
        }
    }

    /// `nextRackConsumer`: the first member of `list` from `first` on (wrapping) whose rack has a replica.
    fn next_rack_consumer(&self, tp: &TopicPartition, list: &[String], first: usize) -> Option<usize> {
        let racks = self.partition_racks.get(tp).filter(|set| !set.is_empty())?;
        (0..list.len())
            .map(|i| (first + i) % list.len())
            .find(|&index| self.consumer_racks.get(&list[index]).is_some_and(|rack| racks.contains(rack)))
    }
}

/// What `allSubscriptionsEqual` finds out besides its answer.
struct Validated {
    all_subscriptions_equal: bool,
    /// Member → the owned partitions it keeps a claim on.
    owned: BTreeMap<String, Vec<TopicPartition>>,
    /// Partitions claimed by two members of the same generation.
    multiply_claimed: BTreeSet<TopicPartition>,
    max_generation: i32,
}

fn validate_owned(members: &[&MemberSubscription], topics: &BTreeMap<String, i32>) -> Validated {
    let mut all_equal = true;
    let mut first_topics: Option<BTreeSet<&str>> = None;
    let mut owned: BTreeMap<String, Vec<TopicPartition>> = BTreeMap::new();
    let mut multiply_claimed = BTreeSet::new();
    let mut claimed_by: BTreeMap<TopicPartition, String> = BTreeMap::new();
    let mut max_generation = DEFAULT_GENERATION;
    let generation_of: BTreeMap<&str, i32> =
        members.iter().map(|m| (m.member_id.as_str(), m.generation.unwrap_or(DEFAULT_GENERATION))).collect();
    for member in members {
        let subscribed: BTreeSet<&str> = member.topics.iter().map(String::as_str).collect();
        match &first_topics {
            None => first_topics = Some(subscribed),
            Some(first) => all_equal &= *first == subscribed,
        }
        let generation = member.generation.unwrap_or(DEFAULT_GENERATION);
        max_generation = max_generation.max(generation);
        owned.insert(member.member_id.clone(), Vec::new());
        for tp in &member.owned_partitions {
            // A partition beyond the topic's count is as unknown as a deleted topic's.
            if !topics.get(tp.topic.as_str()).is_some_and(|&n| tp.partition >= 0 && tp.partition < n) {
                continue;
            }
            match claimed_by.get(tp).cloned() {
                None => {
                    owned.get_mut(&member.member_id).expect("inserted above").push(tp.clone());
                    claimed_by.insert(tp.clone(), member.member_id.clone());
                }
                Some(other) => {
                    let other_generation = generation_of[other.as_str()];
                    if generation == other_generation {
                        multiply_claimed.insert(tp.clone());
                        owned.get_mut(&other).expect("claimant").retain(|p| p != tp);
                        claimed_by.insert(tp.clone(), member.member_id.clone());
                    } else if generation > other_generation {
                        owned.get_mut(&member.member_id).expect("inserted above").push(tp.clone());
                        owned.get_mut(&other).expect("claimant").retain(|p| p != tp);
                        claimed_by.insert(tp.clone(), member.member_id.clone());
                    }
                }
            }
        }
    }
    Validated { all_subscriptions_equal: all_equal, owned, multiply_claimed, max_generation }
}

fn all_partitions_sorted(topics: &BTreeMap<String, i32>, order: &[&String]) -> Vec<TopicPartition> {
    order.iter().flat_map(|t| partitions_of(t, topics[*t])).collect()
}

/// `ConstrainedAssignmentBuilder`: every member subscribes to the same topics.
struct Constrained<'a> {
    topics: &'a BTreeMap<String, i32>,
    members: Vec<String>,
    owned: BTreeMap<String, Vec<TopicPartition>>,
    multiply_claimed: BTreeSet<TopicPartition>,
    maybe_revoked: BTreeMap<TopicPartition, String>,
    under_min_quota: Vec<String>,
    exactly_min_quota: Vec<String>,
    min_quota: usize,
    max_quota: usize,
    expected_over_min: usize,
    current_over_min: usize,
    assignment: Assignment,
    assigned: Vec<TopicPartition>,
    transferring: BTreeMap<TopicPartition, String>,
    racks: RackInfo,
}

impl<'a> Constrained<'a> {
    fn new(
        topics: &'a BTreeMap<String, i32>,
        members: &[&MemberSubscription],
        validated: Validated,
        racks: RackInfo,
    ) -> Self {
        let total: usize = topics.values().map(|&n| n as usize).sum();
        let n = members.len().max(1);
        Constrained {
            topics,
            members: members.iter().map(|m| m.member_id.clone()).collect(),
            owned: validated.owned,
            multiply_claimed: validated.multiply_claimed,
            maybe_revoked: BTreeMap::new(),
            under_min_quota: Vec::new(),
            exactly_min_quota: Vec::new(),
            min_quota: total / n,
            max_quota: total.div_ceil(n),
            expected_over_min: total % n,
            current_over_min: 0,
            assignment: members.iter().map(|m| (m.member_id.clone(), Vec::new())).collect(),
            assigned: Vec::new(),
            transferring: BTreeMap::new(),
            racks,
        }
    }

    fn build(&mut self) -> Assignment {
        self.assign_owned();
        let assigned: BTreeSet<&TopicPartition> = self.assigned.iter().collect();
        let mut topic_order: Vec<&String> = self.topics.keys().collect();
        topic_order.sort_by(|a, b| java_cmp(a, b));
        let mut unassigned: Vec<TopicPartition> = all_partitions_sorted(self.topics, &topic_order)
            .into_iter()
            .filter(|tp| !assigned.contains(tp))
            .collect();
        self.under_min_quota.sort_by(|a, b| java_cmp(a, b));
        self.exactly_min_quota.sort_by(|a, b| java_cmp(a, b));
        self.racks.sort_by_rack_consumers(&mut unassigned);
        self.assign_rack_aware_round_robin(&mut unassigned);
        self.assign_round_robin(&unassigned);
        std::mem::take(&mut self.assignment)
    }

    fn assign_owned(&mut self) {
        for member in self.members.clone() {
            let mut owned = self.owned.get(&member).cloned().unwrap_or_default();
            // An owned partition with no replica on the member's rack is given up (it may move).
            owned.retain(|tp| {
                let mismatch = self.racks.mismatch(&member, tp);
                if mismatch {
                    self.maybe_revoked.insert(tp.clone(), member.clone());
                }
                !mismatch
            });
            owned.sort_by(|a, b| a.partition.cmp(&b.partition).then_with(|| java_cmp(&a.topic, &b.topic)));
            owned.retain(|tp| !self.multiply_claimed.contains(tp));
            let keep = if owned.len() < self.min_quota {
                self.under_min_quota.push(member.clone());
                owned.len()
            } else if owned.len() >= self.max_quota && self.current_over_min < self.expected_over_min {
                self.current_over_min += 1;
                if self.current_over_min == self.expected_over_min {
                    self.exactly_min_quota.clear();
                }
                self.max_quota
            } else {
                if self.current_over_min < self.expected_over_min {
                    self.exactly_min_quota.push(member.clone());
                }
                self.min_quota
            };
            for tp in &owned[keep..] {
                self.maybe_revoked.insert(tp.clone(), member.clone());
            }
            let kept = &owned[..keep];
            self.assignment.get_mut(&member).expect("every member has an entry").extend_from_slice(kept);
            self.assigned.extend_from_slice(kept);
        }
    }

    /// `assignRackAwareRoundRobin`: each partition, in turn, to the next under-quota member (from where
    /// the walk stopped) on one of its replicas' racks, else to the first member at the minimum quota on
    /// one; a partition that found none is left for [`Constrained::assign_round_robin`].
    fn assign_rack_aware_round_robin(&mut self, unassigned: &mut Vec<TopicPartition>) {
        if self.racks.consumer_racks.is_empty() {
            return;
        }
        let mut next = 0;
        let mut left = Vec::new();
        for tp in std::mem::take(unassigned) {
            let mut chosen = None;
            if let Some(mut index) = self.racks.next_rack_consumer(&tp, &self.under_min_quota, next) {
                let member = self.under_min_quota[index].clone();
                let count = self.assignment[&member].len() + 1;
                if count >= self.min_quota {
                    self.under_min_quota.remove(index);
                    if count < self.max_quota && self.current_over_min < self.expected_over_min {
                        self.exactly_min_quota.push(member.clone());
                    }
                } else {
                    index += 1;
                }
                next = if self.under_min_quota.is_empty() { 0 } else { index % self.under_min_quota.len() };
                chosen = Some(member);
            } else if let Some(index) = self.racks.next_rack_consumer(&tp, &self.exactly_min_quota, 0) {
                let member = self.exactly_min_quota[index].clone();
                if self.assignment[&member].len() + 1 == self.max_quota {
                    self.exactly_min_quota.remove(index);
                    self.current_over_min += 1;
                    if self.current_over_min == self.expected_over_min {
                        self.exactly_min_quota.clear();
                    }
                }
                chosen = Some(member);
            }
            match chosen {
                Some(member) => {
                    self.assign_new(&tp, &member);
                }
                None => left.push(tp),
            }
        }
        *unassigned = left;
    }

    fn assign_round_robin(&mut self, unassigned: &[TopicPartition]) {
        // `next` walks `under_min_quota` as Java's iterator does: the index of the next member to return.
        let mut next = 0;
        for tp in unassigned {
            let member = if next < self.under_min_quota.len() {
                next += 1;
                self.under_min_quota[next - 1].clone()
            } else if self.under_min_quota.is_empty() {
                if self.exactly_min_quota.is_empty() {
                    // Kafka throws IllegalStateException here; it cannot happen with consistent quotas.
                    break;
                }
                self.exactly_min_quota.remove(0)
            } else {
                next = 1;
                self.under_min_quota[0].clone()
            };
            let count = self.assign_new(tp, &member);
            if count == self.min_quota {
                // Only a member just returned by the walk can reach the minimum quota here.
                if next > 0 && self.under_min_quota.get(next - 1) == Some(&member) {
                    self.under_min_quota.remove(next - 1);
                    next -= 1;
                }
                self.exactly_min_quota.push(member);
            } else if count == self.max_quota {
                self.current_over_min += 1;
            }
        }
    }

    fn assign_new(&mut self, tp: &TopicPartition, member: &str) -> usize {
        let list = self.assignment.get_mut(member).expect("every member has an entry");
        list.push(tp.clone());
        let moved_from_other = self.maybe_revoked.get(tp).is_some_and(|owner| owner != member);
        if moved_from_other || self.multiply_claimed.contains(tp) {
            self.transferring.insert(tp.clone(), member.to_string());
        }
        list.len()
    }
}

/// `GeneralAssignmentBuilder`: members subscribe to different topics.
struct General<'a> {
    topics: &'a BTreeMap<String, i32>,
    total_partitions: usize,
    subscriptions: BTreeMap<String, BTreeSet<String>>,
    /// Topic → members subscribed to it, in member-id order.
    topic_consumers: BTreeMap<String, Vec<String>>,
    /// Member → its subscribed topics that exist.
    consumer_topics: BTreeMap<String, Vec<String>>,
    current: BTreeMap<String, Vec<TopicPartition>>,
    partition_consumer: BTreeMap<TopicPartition, String>,
    sorted_all_partitions: Vec<TopicPartition>,
    /// Java's `TreeSet` with `SubscriptionComparator`: (assignment size, member id).
    sorted_consumers: BTreeSet<(usize, JavaString)>,
    revocation_required: bool,
    movements: Movements,
    members: Vec<(String, Option<i32>, Vec<TopicPartition>)>,
    max_generation: i32,
    racks: RackInfo,
}

impl<'a> General<'a> {
    fn new(
        topics: &'a BTreeMap<String, i32>,
        members: &[&MemberSubscription],
        validated: Validated,
        racks: RackInfo,
    ) -> Self {
        let mut topic_consumers: BTreeMap<String, Vec<String>> =
            topics.keys().map(|t| (t.clone(), Vec::new())).collect();
        let mut consumer_topics = BTreeMap::new();
        let mut subscriptions = BTreeMap::new();
        for member in members {
            let mut existing = Vec::new();
            for topic in &member.topics {
                if let Some(list) = topic_consumers.get_mut(topic) {
                    if !existing.contains(topic) {
                        existing.push(topic.clone());
                        list.push(member.member_id.clone());
                    }
                }
            }
            consumer_topics.insert(member.member_id.clone(), existing);
            subscriptions.insert(member.member_id.clone(), member.topics.iter().cloned().collect());
        }
        let current = validated.owned;
        let mut partition_consumer = BTreeMap::new();
        for (member, list) in &current {
            for tp in list {
                partition_consumer.insert(tp.clone(), member.clone());
            }
        }
        let mut topic_order: Vec<&String> = topic_consumers.keys().collect();
        topic_order.sort_by(|a, b| {
            topic_consumers[*a].len().cmp(&topic_consumers[*b].len()).then_with(|| java_cmp(a, b))
        });
        let sorted_all_partitions = all_partitions_sorted(topics, &topic_order);
        General {
            topics,
            total_partitions: topics.values().map(|&n| n as usize).sum(),
            subscriptions,
            topic_consumers,
            consumer_topics,
            current,
            partition_consumer,
            sorted_all_partitions,
            sorted_consumers: BTreeSet::new(),
            revocation_required: false,
            movements: Movements::default(),
            members: members
                .iter()
                .map(|m| (m.member_id.clone(), m.generation, m.owned_partitions.clone()))
                .collect(),
            max_generation: validated.max_generation,
            racks,
        }
    }

    fn size(&self, member: &str) -> usize {
        self.current.get(member).map_or(0, Vec::len)
    }

    fn key(&self, member: &str) -> (usize, JavaString) {
        (self.size(member), JavaString(member.to_string()))
    }

    fn build(mut self) -> Assignment {
        let prev = self.previous_assignment();
        let assigned = self.assign_owned();
        let assigned: BTreeSet<&TopicPartition> = assigned.iter().collect();
        let unassigned: Vec<TopicPartition> =
            self.sorted_all_partitions.iter().filter(|tp| !assigned.contains(tp)).cloned().collect();
        let keys: Vec<_> = self.current.keys().map(|m| self.key(m)).collect();
        self.sorted_consumers.extend(keys);
        self.balance(&prev, unassigned);
        self.current
    }

    /// `prepopulateCurrentAssignments`: partition → (member, generation) of its owner in an earlier
    /// generation than the group's latest.
    fn previous_assignment(&self) -> BTreeMap<TopicPartition, (String, i32)> {
        let mut prev: BTreeMap<TopicPartition, (String, i32)> = BTreeMap::new();
        for (member, generation, owned) in &self.members {
            let generation = match generation {
                Some(g) if *g < self.max_generation => *g,
                None if self.max_generation > DEFAULT_GENERATION => DEFAULT_GENERATION,
                _ => continue,
            };
            for tp in owned {
                match prev.get(tp) {
                    Some((_, g)) if generation <= *g => {}
                    _ => {
                        prev.insert(tp.clone(), (member.clone(), generation));
                    }
                }
            }
        }
        prev
    }

    fn assign_owned(&mut self) -> Vec<TopicPartition> {
        let mut assigned = Vec::new();
        for (member, list) in self.current.iter_mut() {
            let subscribed = &self.subscriptions[member];
            let racks = &self.racks;
            list.retain(|tp| {
                if !self.topic_consumers.contains_key(tp.topic.as_str()) {
                    self.partition_consumer.remove(tp);
                    false
                } else if !subscribed.contains(tp.topic.as_str()) || racks.mismatch(member, tp) {
                    self.revocation_required = true;
                    false
                } else {
                    assigned.push(tp.clone());
                    true
                }
            });
        }
        assigned
    }

    fn max_assignment_size(&self, member: &str) -> usize {
        let topics = &self.consumer_topics[member];
        if topics.len() == self.topics.len() {
            self.total_partitions
        } else {
            topics.iter().map(|t| self.topics[t] as usize).sum()
        }
    }

    fn is_balanced(&self) -> bool {
        let (Some(first), Some(last)) = (self.sorted_consumers.first(), self.sorted_consumers.last()) else {
            return true;
        };
        if first.0 + 1 >= last.0 {
            return true;
        }
        let owners: BTreeMap<&TopicPartition, &String> =
            self.current.iter().flat_map(|(m, list)| list.iter().map(move |tp| (tp, m))).collect();
        for (count, member) in &self.sorted_consumers {
            let member = &member.0;
            if *count == self.max_assignment_size(member) {
                continue;
            }
            let mine = &self.current[member];
            for topic in &self.consumer_topics[member] {
                for tp in partitions_of(topic, self.topics[topic]) {
                    if mine.contains(&tp) {
                        continue;
                    }
                    if let Some(other) = owners.get(&tp) {
                        if count + 1 < self.size(other) {
                            return false;
                        }
                    }
                }
            }
        }
        true
    }

    fn can_topic_participate(&self, topic: &str) -> bool {
        self.topic_consumers.get(topic).is_some_and(|c| c.len() >= 2)
    }

    fn can_consumer_participate(&self, member: &str) -> bool {
        let list = &self.current[member];
        list.len() < self.max_assignment_size(member)
            || list.iter().any(|tp| self.can_topic_participate(&tp.topic))
    }

    /// Gives `tp` to the least loaded member subscribed to its topic (with `same_rack`, on one of its
    /// replicas' racks or without a rack); whether it found one.
    fn maybe_assign_partition(&mut self, tp: &TopicPartition, same_rack: bool) -> bool {
        let chosen = self
            .sorted_consumers
            .iter()
            .find(|(_, m)| {
                self.consumer_topics[&m.0].iter().any(|t| *t == tp.topic)
                    && !(same_rack && self.racks.mismatch(&m.0, tp))
            })
            .map(|(_, m)| m.0.clone());
        let Some(member) = chosen else { return false };
        self.sorted_consumers.remove(&self.key(&member));
        self.current.get_mut(&member).expect("member").push(tp.clone());
        self.partition_consumer.insert(tp.clone(), member.clone());
        self.sorted_consumers.insert(self.key(&member));
        true
    }

    fn balance(
        &mut self,
        prev: &BTreeMap<TopicPartition, (String, i32)>,
        mut unassigned: Vec<TopicPartition>,
    ) {
        let initializing = self.sorted_consumers.last().is_none_or(|(n, _)| *n == 0);
        // With racks, a first pass on the members of a replica's rack; the rest as without racks.
        let mut to_assign = unassigned.clone();
        if !self.racks.consumer_racks.is_empty() {
            let mut left = Vec::new();
            for tp in to_assign {
                if self.topic_consumers[tp.topic.as_str()].is_empty()
                    || !self.maybe_assign_partition(&tp, true)
                {
                    left.push(tp);
                }
            }
            to_assign = left;
        }
        for tp in &to_assign {
            if self.topic_consumers[tp.topic.as_str()].is_empty() {
                continue;
            }
            self.maybe_assign_partition(tp, false);
        }
        let fixed_topics: BTreeSet<String> =
            self.topic_consumers.keys().filter(|t| !self.can_topic_participate(t)).cloned().collect();
        self.sorted_all_partitions.retain(|tp| !fixed_topics.contains(tp.topic.as_str()));
        unassigned.retain(|tp| !fixed_topics.contains(tp.topic.as_str()));

        let mut fixed_assignments = BTreeMap::new();
        for member in self.consumer_topics.keys().cloned().collect::<Vec<_>>() {
            if !self.can_consumer_participate(&member) {
                self.sorted_consumers.remove(&self.key(&member));
                fixed_assignments.insert(member.clone(), self.current.remove(&member).unwrap_or_default());
            }
        }
        let pre_balance = self.current.clone();
        let pre_balance_owners = self.partition_consumer.clone();
        if !self.revocation_required {
            self.perform_reassignments(&unassigned, prev);
        }
        let all = self.sorted_all_partitions.clone();
        let performed = self.perform_reassignments(&all, prev);
        if !initializing && performed && balance_score(&self.current) >= balance_score(&pre_balance) {
            self.sorted_consumers.clear();
            self.current = pre_balance;
            self.partition_consumer = pre_balance_owners;
            let keys: Vec<_> = self.current.keys().map(|m| self.key(m)).collect();
            self.sorted_consumers.extend(keys);
        }
        for (member, list) in fixed_assignments {
            self.current.insert(member.clone(), list);
            self.sorted_consumers.insert(self.key(&member));
        }
    }

    fn perform_reassignments(
        &mut self,
        partitions: &[TopicPartition],
        prev: &BTreeMap<TopicPartition, (String, i32)>,
    ) -> bool {
        let mut performed = false;
        loop {
            let mut modified = false;
            for tp in partitions {
                if self.is_balanced() {
                    break;
                }
                let Some(owner) = self.partition_consumer.get(tp).cloned() else { continue };
                if let Some((previous_owner, _)) = prev.get(tp) {
                    // As in Kafka, the earlier owner gets the partition back without a check that it still
                    // subscribes to the topic (its consumer then sees an assignment that does not match its
                    // subscription and rejoins). Only a member that left the balancing (fixed) is skipped,
                    // where Kafka would fail.
                    let eligible = self.current.contains_key(previous_owner);
                    if eligible && self.size(&owner) > self.size(previous_owner) + 1 {
                        self.reassign_to(tp, previous_owner);
                        performed = true;
                        modified = true;
                        continue;
                    }
                }
                let owner_size = self.size(&owner);
                let lighter = self.topic_consumers[tp.topic.as_str()]
                    .iter()
                    .any(|other| self.current.contains_key(other) && owner_size > self.size(other) + 1);
                if lighter {
                    let target = self
                        .sorted_consumers
                        .iter()
                        .find(|(_, m)| self.consumer_topics[&m.0].iter().any(|t| *t == tp.topic))
                        .map(|(_, m)| m.0.clone());
                    if let Some(target) = target {
                        self.reassign_to(tp, &target);
                        performed = true;
                        modified = true;
                    }
                }
            }
            if !modified {
                return performed;
            }
        }
    }

    fn reassign_to(&mut self, tp: &TopicPartition, new_owner: &str) {
        let Some(owner) = self.partition_consumer.get(tp).cloned() else { return };
        let moved = self.movements.actual_partition_to_move(tp, &owner, new_owner);
        let Some(old_owner) = self.partition_consumer.get(&moved).cloned() else { return };
        self.sorted_consumers.remove(&self.key(&old_owner));
        self.sorted_consumers.remove(&self.key(new_owner));
        self.movements.move_partition(&moved, &old_owner, new_owner);
        if let Some(list) = self.current.get_mut(&old_owner) {
            list.retain(|p| *p != moved);
        }
        self.current.get_mut(new_owner).expect("member").push(moved.clone());
        self.partition_consumer.insert(moved, new_owner.to_string());
        self.sorted_consumers.insert(self.key(&old_owner));
        self.sorted_consumers.insert(self.key(new_owner));
    }
}

/// Sum over pairs of members of the difference of their assignment sizes (`getBalanceScore`).
fn balance_score(assignment: &BTreeMap<String, Vec<TopicPartition>>) -> usize {
    let sizes: Vec<usize> = assignment.values().map(Vec::len).collect();
    let mut score = 0;
    for (i, a) in sizes.iter().enumerate() {
        for b in &sizes[i + 1..] {
            score += a.abs_diff(*b);
        }
    }
    score
}

/// A `new HashSet<TopicPartition>()` as far as its first element goes: Kafka takes
/// `set.iterator().next()`, the element in the lowest bucket, the earliest inserted within it.
#[derive(Default)]
struct JavaPartitionSet {
    /// Elements in insertion order.
    items: Vec<TopicPartition>,
    /// The most elements it ever held, which fixes its capacity.
    max_len: usize,
}

impl JavaPartitionSet {
    fn insert(&mut self, tp: &TopicPartition) {
        if !self.items.contains(tp) {
            self.items.push(tp.clone());
            self.max_len = self.max_len.max(self.items.len());
        }
    }

    fn remove(&mut self, tp: &TopicPartition) {
        self.items.retain(|p| p != tp);
    }

    fn first(&self) -> Option<&TopicPartition> {
        let capacity = java_capacity(self.max_len);
        // `min_by_key` returns the first of equal keys: the earliest inserted in the bucket.
        self.items.iter().min_by_key(|tp| java_bucket(java_topic_partition_hash(tp), capacity))
    }
}

/// `PartitionMovements`: the moves made so far, so a partition moving back and forth between two members
/// is replaced by one that already moved the other way (which keeps the result sticky).
#[derive(Default)]
struct Movements {
    /// Topic → (from, to) → partitions moved that way.
    by_topic: BTreeMap<String, BTreeMap<(String, String), JavaPartitionSet>>,
    /// Partition → (from, to).
    moves: BTreeMap<TopicPartition, (String, String)>,
}

impl Movements {
    fn remove_record(&mut self, tp: &TopicPartition) -> Option<(String, String)> {
        let pair = self.moves.remove(tp)?;
        if let Some(topic) = self.by_topic.get_mut(tp.topic.as_str()) {
            if let Some(set) = topic.get_mut(&pair) {
                set.remove(tp);
                if set.items.is_empty() {
                    topic.remove(&pair);
                }
            }
            if topic.is_empty() {
                self.by_topic.remove(tp.topic.as_str());
            }
        }
        Some(pair)
    }

    fn add_record(&mut self, tp: &TopicPartition, pair: (String, String)) {
        self.moves.insert(tp.clone(), pair.clone());
        self.by_topic.entry(tp.topic.to_string()).or_default().entry(pair).or_default().insert(tp);
    }

    fn move_partition(&mut self, tp: &TopicPartition, old: &str, new: &str) {
        match self.remove_record(tp) {
            Some((source, _)) => {
                if source != new {
                    self.add_record(tp, (source, new.to_string()));
                }
            }
            None => self.add_record(tp, (old.to_string(), new.to_string())),
        }
    }

    fn actual_partition_to_move(&self, tp: &TopicPartition, old: &str, new: &str) -> TopicPartition {
        let Some(topic) = self.by_topic.get(tp.topic.as_str()) else { return tp.clone() };
        let old = self.moves.get(tp).map_or(old, |(source, _)| source.as_str());
        match topic.get(&(new.to_string(), old.to_string())).and_then(JavaPartitionSet::first) {
            Some(first) => first.clone(),
            None => tp.clone(),
        }
    }
}
