//! The classic protocol's eager assignors, `RangeAssignor` (rack-aware, KIP-881) and `RoundRobinAssignor`.

use super::{
    java_cmp, member_order, partitions_of, Assignment, MemberSubscription, PartitionCounts, PartitionRacks,
};
use crate::kafka::TopicPartition;
use std::collections::{BTreeMap, BTreeSet};

fn empty_assignment(members: &[MemberSubscription]) -> Assignment {
    members.iter().map(|m| (m.member_id.clone(), Vec::new())).collect()
}

/// `RangeAssignor`: topic by topic, the members subscribed to it in [`member_order`] take contiguous
/// ranges of its partitions; with `n` partitions and `m` members the first `n % m` take one more.
///
/// With racks (KIP-881, when some subscriber's `client.rack` is a rack of some replica of the topic and
/// the partitions' rack sets are not all the same): first each member, in order, takes up to its quota of
/// the partitions with a replica on its rack; topics with the same subscribers and partition count
/// (co-partitioned) are matched together, partition `p` of all of them to the first member whose rack
/// every one of them has; then the plain pass hands out what is left.
pub(super) fn range(
    members: &[MemberSubscription],
    partitions: &PartitionCounts,
    racks: &PartitionRacks,
) -> Assignment {
    let mut assignment = empty_assignment(members);
    let mut subscribers: BTreeMap<&str, Vec<&MemberSubscription>> = BTreeMap::new();
    for member in members {
        let topics: BTreeSet<&str> = member.topics.iter().map(String::as_str).collect();
        for topic in topics {
            subscribers.entry(topic).or_default().push(member);
        }
    }
    let mut states: Vec<TopicState> = Vec::new();
    for (topic, mut consumers) in subscribers {
        let count = match partitions.get(topic) {
            Some(&n) if n > 0 => n as usize,
            _ => continue,
        };
        consumers.sort_by(|a, b| member_order(a, b));
        states.push(TopicState::new(topic, count, &consumers, racks));
    }
    let rack_aware = states.iter().any(|s| s.needs_rack_aware);
    if rack_aware {
        // Groups of topics with the same subscribers (and racks) and the same partition count. Kafka
        // iterates these groups in hash order; each topic's quota is its own, so the order changes
        // nothing once the lists are sorted.
        let mut groups: BTreeMap<(RackedConsumers, usize), Vec<usize>> = BTreeMap::new();
        for (i, s) in states.iter().enumerate() {
            groups.entry((s.consumers.clone(), s.rack_partitions())).or_default().push(i);
        }
        for ((consumers, count), group) in groups {
            if group.len() > 1 {
                co_partitioned_with_racks(&consumers, count, &group, &mut states, &mut assignment);
            } else if states[group[0]].needs_rack_aware {
                let s = &mut states[group[0]];
                let may = |s: &TopicState, c: &str, p: usize| s.racks_match(c, p);
                assign_ranges(s, may, &mut assignment);
            }
        }
    }
    for s in &mut states {
        assign_ranges(s, |_, _, _| true, &mut assignment);
    }
    assignment
}

/// Subscribers in [`member_order`], each with its `client.rack`.
type RackedConsumers = Vec<(String, Option<String>)>;

/// One topic's progress in [`range`] (`RangeAssignor.TopicAssignmentState`).
struct TopicState {
    topic: String,
    /// Its subscribers in [`member_order`], each with its rack.
    consumers: RackedConsumers,
    /// Racks of each partition's replicas; empty when no subscriber has a rack.
    partition_racks: Vec<BTreeSet<String>>,
    needs_rack_aware: bool,
    unassigned: BTreeSet<usize>,
    assigned_by: BTreeMap<String, usize>,
    per_consumer: usize,
    with_extra_left: usize,
}

impl TopicState {
    fn new(topic: &str, count: usize, consumers: &[&MemberSubscription], racks: &PartitionRacks) -> Self {
        let consumers: Vec<(String, Option<String>)> = consumers
            .iter()
            .map(|m| (m.member_id.clone(), m.rack_id.clone().filter(|r| !r.is_empty())))
            .collect();
        let consumer_racks: BTreeSet<&String> = consumers.iter().filter_map(|(_, r)| r.as_ref()).collect();
        let partition_racks: Vec<BTreeSet<String>> = if consumer_racks.is_empty() {
            Vec::new()
        } else {
            (0..count)
                .map(|p| racks.get(&TopicPartition::new(topic, p as i32)).cloned().unwrap_or_default())
                .collect()
        };
        let all_partition_racks: BTreeSet<&String> = partition_racks.iter().flatten().collect();
        // `AbstractPartitionAssignor.useRackAwareAssignment` (its `preferRackAwareLogic` is internal, off).
        let needs_rack_aware = !consumer_racks.is_disjoint(&all_partition_racks)
            && !partition_racks.iter().all(|r| r.iter().collect::<BTreeSet<_>>() == all_partition_racks);
        TopicState {
            topic: topic.to_string(),
            assigned_by: consumers.iter().map(|(c, _)| (c.clone(), 0)).collect(),
            per_consumer: count / consumers.len(),
            with_extra_left: count % consumers.len(),
            consumers,
            partition_racks,
            needs_rack_aware,
            unassigned: (0..count).collect(),
        }
    }

    /// How many partitions Kafka groups this topic under: its count when racks are known, else 0.
    fn rack_partitions(&self) -> usize {
        self.partition_racks.len()
    }

    fn racks_match(&self, consumer: &str, partition: usize) -> bool {
        let rack = self.consumers.iter().find(|(c, _)| c == consumer).and_then(|(_, r)| r.as_ref());
        match rack {
            None => true,
            Some(rack) => self.partition_racks.get(partition).is_some_and(|r| r.contains(rack)),
        }
    }

    fn max_assignable(&self, consumer: &str) -> usize {
        let quota = self.per_consumer + usize::from(self.with_extra_left > 0);
        quota.saturating_sub(self.assigned_by.get(consumer).copied().unwrap_or(0))
    }

    fn on_assigned(&mut self, consumer: &str, partitions: &[usize], assignment: &mut Assignment) {
        let n = self.assigned_by.entry(consumer.to_string()).or_default();
        *n += partitions.len();
        if *n > self.per_consumer {
            self.with_extra_left = self.with_extra_left.saturating_sub(1);
        }
        let list = assignment.get_mut(consumer).expect("every member has an entry");
        for &p in partitions {
            self.unassigned.remove(&p);
            list.push(TopicPartition::new(&self.topic, p as i32));
        }
    }
}

/// `RangeAssignor.assignRanges`: each subscriber in order takes up to its quota of the unassigned
/// partitions `may` allows it, lowest first.
fn assign_ranges(
    state: &mut TopicState,
    may: impl Fn(&TopicState, &str, usize) -> bool,
    assignment: &mut Assignment,
) {
    let consumers: Vec<String> = state.consumers.iter().map(|(c, _)| c.clone()).collect();
    for consumer in consumers {
        if state.unassigned.is_empty() {
            break;
        }
        let take: Vec<usize> = state
            .unassigned
            .iter()
            .copied()
            .filter(|&p| may(state, &consumer, p))
            .take(state.max_assignable(&consumer))
            .collect();
        if !take.is_empty() {
            state.on_assigned(&consumer, &take, assignment);
        }
    }
}

/// `RangeAssignor.assignCoPartitionedWithRackMatching`: partition `p` of every topic in `group` goes to
/// the first remaining member whose rack all of them have and that may still take one of each.
fn co_partitioned_with_racks(
    consumers: &[(String, Option<String>)],
    count: usize,
    group: &[usize],
    states: &mut [TopicState],
    assignment: &mut Assignment,
) {
    let mut remaining: Vec<&str> = consumers.iter().map(|(c, _)| c.as_str()).collect();
    for p in 0..count {
        let matching = remaining
            .iter()
            .copied()
            .find(|c| group.iter().all(|&t| states[t].racks_match(c, p) && states[t].max_assignable(c) > 0));
        let Some(consumer) = matching else { continue };
        for &t in group {
            states[t].on_assigned(consumer, &[p], assignment);
        }
        if group.iter().all(|&t| states[t].max_assignable(consumer) == 0) {
            remaining.retain(|c| *c != consumer);
            if remaining.is_empty() {
                break;
            }
        }
    }
}

/// `RoundRobinAssignor`: every partition of every subscribed topic, topics in name order, dealt to the
/// members in [`member_order`] around a circle, skipping members not subscribed to the partition's topic.
pub(super) fn round_robin(members: &[MemberSubscription], partitions: &PartitionCounts) -> Assignment {
    let mut assignment = empty_assignment(members);
    let mut ordered: Vec<&MemberSubscription> = members.iter().collect();
    ordered.sort_by(|a, b| member_order(a, b));
    let mut topics: Vec<&str> = members.iter().flat_map(|m| m.topics.iter().map(String::as_str)).collect();
    topics.sort_by(|a, b| java_cmp(a, b));
    topics.dedup();
    let mut cursor = 0;
    for topic in topics {
        let Some(&count) = partitions.get(topic) else { continue };
        for tp in partitions_of(topic, count) {
            // A subscriber exists: `topic` came from some member's subscription.
            while !ordered[cursor].topics.iter().any(|t| t == topic) {
                cursor = (cursor + 1) % ordered.len();
            }
            assignment.get_mut(&ordered[cursor].member_id).expect("every member has an entry").push(tp);
            cursor = (cursor + 1) % ordered.len();
        }
    }
    assignment
}
