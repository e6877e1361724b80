//! The consumer protocol's server-side assignors (KIP-848, `group.remote.assignor`), run by the group
//! coordinator to compute a group's target assignment: `uniform` (the default; Kafka's `UniformAssignor`
//! with its homogeneous and heterogeneous builders) and `range` (Kafka's server-side `RangeAssignor`).
//!
//! Kafka keys topics by topic id (a random UUID) and iterates them, and the group's members, in `HashSet`
//! and `HashMap` order; this model iterates topics by name and members by member id, so which member gets
//! one of the "extra" partitions may differ from one real cluster's choice, never the balance or the
//! stickiness. Invariants of the result: every member has an entry; a partition has at most one owner;
//! every partition of a subscribed topic is assigned; sizes differ by at most one among members with the
//! same subscription (for `uniform` among all subscribers of a topic where balance is possible).

use super::{java_cmp, member_order, Assignment};
use crate::kafka::TopicPartition;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One member of a consumer-protocol group, as the coordinator describes it to the assignor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerMember {
    /// The member id (a UUID chosen by the client in Kafka 4).
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub instance_id: Option<String>,
    /// The topics it subscribes to (names; topics that do not exist are ignored).
    pub topics: BTreeSet<String>,
    /// Its current target assignment (from the previous target assignment epoch).
    pub assignment: Vec<TopicPartition>,
}

impl ServerMember {
    /// A member subscribed to `topics`, assigned nothing yet.
    pub fn new(member_id: impl Into<String>, topics: &[&str]) -> Self {
        ServerMember {
            member_id: member_id.into(),
            instance_id: None,
            topics: topics.iter().map(|t| t.to_string()).collect(),
            assignment: Vec::new(),
        }
    }

    /// The same member with a current assignment.
    pub fn owning(mut self, partitions: Vec<TopicPartition>) -> Self {
        self.assignment = partitions;
        self
    }

    /// The same member, static with this `group.instance.id`.
    pub fn with_instance_id(mut self, instance_id: impl Into<String>) -> Self {
        self.instance_id = Some(instance_id.into());
        self
    }
}

/// The broker's assignors for `group.protocol=consumer` (`group.consumer.assignors`, first is default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ServerAssignor {
    /// `uniform`: balanced and sticky.
    #[default]
    Uniform,
    /// `range`: per topic, contiguous ranges to members in order (co-partitioning).
    Range,
}

impl ServerAssignor {
    /// The name a client asks for in `group.remote.assignor`.
    pub fn name(self) -> &'static str {
        match self {
            ServerAssignor::Uniform => "uniform",
            ServerAssignor::Range => "range",
        }
    }

    /// The assignor named `name`, if the broker has it.
    pub fn from_name(name: &str) -> Option<ServerAssignor> {
        [ServerAssignor::Uniform, ServerAssignor::Range].into_iter().find(|a| a.name() == name)
    }

    /// The target assignment for `members` over topics with these partition counts.
    pub fn assign(self, members: &[ServerMember], partitions: &BTreeMap<String, i32>) -> Assignment {
        let mut ordered: Vec<ServerMember> = members.to_vec();
        ordered.sort_by(|a, b| java_cmp(&a.member_id, &b.member_id));
        ordered.dedup_by(|a, b| a.member_id == b.member_id);
        // The coordinator resolves names to topic ids; a name without a topic drops out.
        for m in &mut ordered {
            m.topics.retain(|t| partitions.get(t).is_some_and(|&n| n >= 0));
        }
        let homogeneous = ordered.windows(2).all(|w| w[0].topics == w[1].topics);
        let mut result: Assignment = match (self, homogeneous) {
            (_, _) if ordered.is_empty() => Assignment::new(),
            (ServerAssignor::Range, _) => range(&ordered, partitions),
            (ServerAssignor::Uniform, true) => uniform_homogeneous(&ordered, partitions),
            (ServerAssignor::Uniform, false) => Heterogeneous::new(&ordered, partitions).build(),
        };
        for m in &ordered {
            result.entry(m.member_id.clone()).or_default();
        }
        for list in result.values_mut() {
            list.sort();
        }
        result
    }
}

/// Server-side `RangeAssignor`: members ordered as the client-side range assignor orders them (static by
/// instance id first); per topic, the i-th subscriber takes the i-th contiguous range, the first
/// `partitions % subscribers` one partition more.
fn range(members: &[ServerMember], partitions: &BTreeMap<String, i32>) -> Assignment {
    let mut ordered: Vec<&ServerMember> = members.iter().collect();
    ordered.sort_by(|a, b| {
        let key = |m: &ServerMember| super::MemberSubscription {
            member_id: m.member_id.clone(),
            group_instance_id: m.instance_id.clone(),
            topics: Vec::new(),
            owned_partitions: Vec::new(),
            generation: None,
            rack_id: None,
        };
        member_order(&key(a), &key(b))
    });
    let mut result = Assignment::new();
    // Per topic: (partition count, subscriber count, next range start, extra partitions left).
    let mut state: BTreeMap<&str, (i32, i32, i32, i32)> = BTreeMap::new();
    for m in &ordered {
        for t in &m.topics {
            state.entry(t.as_str()).or_insert((partitions[t], 0, 0, 0)).1 += 1;
        }
    }
    for s in state.values_mut() {
        s.3 = s.0 % s.1;
    }
    for m in &ordered {
        let list = result.entry(m.member_id.clone()).or_default();
        for t in &m.topics {
            let s = state.get_mut(t.as_str()).expect("counted above");
            let mut quota = s.0 / s.1;
            if s.3 > 0 {
                quota += 1;
                s.3 -= 1;
            }
            let end = (s.2 + quota).min(s.0);
            list.extend((s.2..end).map(|p| TopicPartition::new(t.clone(), p)));
            s.2 = end;
        }
    }
    result
}

/// `UniformHomogeneousAssignmentBuilder` (as Kafka 4.1.1's bytecode has it): every member subscribes to the
/// same topics. Each member keeps its current partitions up to its quota; `total % members` members get
/// one partition more, preferring those that already hold it; the partitions left are dealt to members
/// under quota in order.
fn uniform_homogeneous(members: &[ServerMember], partitions: &BTreeMap<String, i32>) -> Assignment {
    let topics = &members[0].topics;
    let mut result = Assignment::new();
    if topics.is_empty() {
        return result;
    }
    let mut owner: BTreeMap<TopicPartition, &str> = BTreeMap::new();
    for m in members {
        for tp in &m.assignment {
            owner.entry(tp.clone()).or_insert(&m.member_id);
        }
    }
    let mut unassigned = Vec::new();
    let mut total = 0usize;
    for t in topics {
        let n = partitions[t];
        for p in 0..n {
            if !owner.contains_key(&TopicPartition::new(t.clone(), p)) {
                unassigned.push(TopicPartition::new(t.clone(), p));
            }
        }
        total += n as usize;
    }
    let min_quota = total / members.len();
    let mut extra = total % members.len();
    let mut unfilled: Vec<(&str, usize)> = Vec::new();
    for (index, m) in members.iter().enumerate() {
        let mut quota = min_quota;
        let mut has_extra = false;
        if extra > 0 {
            quota += 1;
            has_extra = true;
        }
        let mut kept = Vec::new();
        // Kafka walks the current assignment topic by topic, each topic's partitions in its set's order.
        let mut by_topic: BTreeMap<&str, Vec<&TopicPartition>> = BTreeMap::new();
        for tp in &m.assignment {
            if owner.get(tp) == Some(&m.member_id.as_str()) {
                by_topic.entry(tp.topic.as_str()).or_default().push(tp);
            }
        }
        for (topic, mut list) in by_topic {
            if !topics.contains(topic) {
                continue;
            }
            list.sort();
            list.dedup();
            for tp in list {
                if tp.partition >= partitions[topic] {
                    continue;
                }
                if quota > 0 {
                    quota -= 1;
                    kept.push(tp.clone());
                } else {
                    unassigned.push(tp.clone());
                }
            }
        }
        // Kafka 4.1: a member that does not already fill its extra slot gives it up while more members
        // remain than extra slots, so a member that keeps more partitions can have it (stickier).
        if quota > 0 && has_extra && members.len() - index > extra {
            quota -= 1;
            has_extra = false;
        }
        if quota > 0 {
            unfilled.push((&m.member_id, quota));
        }
        if has_extra {
            extra -= 1;
        }
        result.insert(m.member_id.clone(), kept);
    }
    let mut next = unassigned.into_iter();
    for (member, quota) in unfilled {
        let list = result.get_mut(member).expect("inserted above");
        list.extend(next.by_ref().take(quota));
    }
    result
}

/// `UniformHeterogeneousAssignmentBuilder`: members subscribe to different topics. Current partitions
/// of still-subscribed topics stay; unassigned partitions go, topic by topic, to the least loaded
/// subscriber; then each topic is rebalanced (at most 16 passes) by moving partitions from its most to
/// its least loaded subscribers.
struct Heterogeneous<'a> {
    partitions: &'a BTreeMap<String, i32>,
    members: &'a [ServerMember],
    /// Topic → indices of its subscribers, ascending.
    subscribers: BTreeMap<String, Vec<usize>>,
    sizes: Vec<usize>,
    /// Topic → owner index per partition (`None`: unassigned).
    owners: BTreeMap<String, Vec<Option<usize>>>,
}

/// Kafka's `MAX_ITERATION_COUNT`: passes over the topics while balancing.
const MAX_ITERATION_COUNT: usize = 16;

impl<'a> Heterogeneous<'a> {
    fn new(members: &'a [ServerMember], partitions: &'a BTreeMap<String, i32>) -> Self {
        let mut subscribers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, m) in members.iter().enumerate() {
            for t in &m.topics {
                subscribers.entry(t.clone()).or_default().push(i);
            }
        }
        let owners =
            subscribers.keys().map(|t| (t.clone(), vec![None; partitions[t].max(0) as usize])).collect();
        Heterogeneous { partitions, members, subscribers, sizes: vec![0; members.len()], owners }
    }

    fn count(&self, topic: &str) -> usize {
        self.partitions[topic].max(0) as usize
    }

    /// Topics by partitions per subscriber descending, then subscriber count ascending, then name.
    fn sorted_topics(&self, topics: impl Iterator<Item = String>) -> Vec<String> {
        let mut list: Vec<String> = topics.collect();
        list.sort_by(|a, b| {
            let (pa, sa) = (self.count(a) as u64, self.subscribers[a].len() as u64);
            let (pb, sb) = (self.count(b) as u64, self.subscribers[b].len() as u64);
            // pb/sb versus pa/sa without floating point: pb*sa versus pa*sb.
            (pb * sa).cmp(&(pa * sb)).then(sa.cmp(&sb)).then_with(|| java_cmp(a, b))
        });
        list
    }

    fn build(mut self) -> Assignment {
        if self.subscribers.is_empty() {
            return Assignment::new();
        }
        for (i, m) in self.members.iter().enumerate() {
            for tp in &m.assignment {
                if !m.topics.contains(tp.topic.as_str()) {
                    continue;
                }
                if let Some(slot) =
                    self.owners.get_mut(tp.topic.as_str()).and_then(|o| o.get_mut(tp.partition as usize))
                {
                    if slot.is_none() {
                        *slot = Some(i);
                        self.sizes[i] += 1;
                    }
                }
            }
        }
        let unassigned: BTreeMap<String, Vec<usize>> = self
            .owners
            .iter()
            .map(|(t, o)| (t.clone(), (0..o.len()).filter(|&p| o[p].is_none()).collect::<Vec<_>>()))
            .filter(|(_, list)| !list.is_empty())
            .collect();
        for topic in self.sorted_topics(unassigned.keys().cloned()) {
            let mut balancer = Balancer::new(&self.subscribers[&topic], &self.sizes);
            for &p in &unassigned[&topic] {
                let member = balancer.next_least_loaded(&self.sizes);
                self.assign(&topic, p, member);
            }
        }
        let balanceable: Vec<String> =
            self.subscribers.iter().filter(|(_, s)| s.len() >= 2).map(|(t, _)| t.clone()).collect();
        if !balanceable.is_empty() {
            self.balance_topics(balanceable);
        }
        let mut result = Assignment::new();
        for m in self.members {
            result.insert(m.member_id.clone(), Vec::new());
        }
        for (topic, owners) in &self.owners {
            for (p, owner) in owners.iter().enumerate() {
                if let Some(i) = owner {
                    result
                        .get_mut(&self.members[*i].member_id)
                        .expect("inserted above")
                        .push(TopicPartition::new(topic.clone(), p as i32));
                }
            }
        }
        result
    }

    fn assign(&mut self, topic: &str, partition: usize, member: usize) {
        let slot = &mut self.owners.get_mut(topic).expect("subscribed topic")[partition];
        if let Some(old) = slot.replace(member) {
            self.sizes[old] -= 1;
        }
        self.sizes[member] += 1;
    }

    fn balance_topics(&mut self, topics: Vec<String>) {
        let sorted = self.sorted_topics(topics.into_iter());
        let mut last_rebalanced: Option<usize> = None;
        for _ in 0..MAX_ITERATION_COUNT {
            for (index, topic) in sorted.iter().enumerate() {
                if last_rebalanced == Some(index) {
                    return;
                }
                let moved = self.balance_topic(topic);
                if moved > 0 || last_rebalanced.is_none() {
                    last_rebalanced = Some(index);
                }
            }
        }
    }

    fn balance_topic(&mut self, topic: &str) -> usize {
        let mut moved = 0;
        let subscribers = self.subscribers[topic].clone();
        let mut balancer = Balancer::new(&subscribers, &self.sizes);
        if balancer.imbalance(&self.sizes) <= 1 {
            return 0;
        }
        let owners = self.owners[topic].clone();
        let owner_key = |p: usize| owners[p].map_or(-1, |o| o as i64);
        let mut order: Vec<usize> = (0..owners.len()).collect();
        order.sort_by_key(|&p| (owner_key(p), p));
        let mut start: BTreeMap<i64, usize> = BTreeMap::new();
        let mut end: BTreeMap<i64, usize> = BTreeMap::new();
        for (i, &p) in order.iter().enumerate() {
            start.entry(owner_key(p)).or_insert(i);
            end.insert(owner_key(p), i + 1);
        }
        while !balancer.is_balanced() {
            let most = loop {
                let Some(candidate) = balancer.next_most_loaded(&self.sizes) else { break None };
                let key = candidate as i64;
                match (start.get(&key), end.get(&key)) {
                    (Some(s), Some(e)) if e > s => break Some(candidate),
                    _ => balancer.exclude_most_loaded(),
                }
            };
            let Some(most) = most else { break };
            let e = end.get_mut(&(most as i64)).expect("checked above");
            let partition = order[*e - 1];
            *e -= 1;
            let least = balancer.next_least_loaded(&self.sizes);
            if balancer.is_balanced() {
                break;
            }
            self.assign(topic, partition, least);
            moved += 1;
        }
        moved
    }
}

/// `MemberAssignmentBalancer`: walks a topic's subscribers from the least and the most loaded end of a
/// list sorted by (assignment size, index), in ranges of equal load, without re-sorting after each move.
struct Balancer {
    sorted: Vec<usize>,
    least_end: usize,
    least_count: i64,
    next_least: usize,
    most_start: usize,
    most_end: usize,
    most_count: i64,
    next_most: i64,
}

impl Balancer {
    fn new(members: &[usize], sizes: &[usize]) -> Self {
        let mut sorted = members.to_vec();
        sorted.sort_by_key(|&m| (sizes[m], m));
        let n = sorted.len();
        Balancer {
            least_end: 0,
            least_count: sizes[sorted[0]] as i64 - 1,
            next_least: 0,
            most_start: n,
            most_end: n,
            most_count: sizes[sorted[n - 1]] as i64 + 1,
            next_most: n as i64 - 1,
            sorted,
        }
    }

    fn imbalance(&self, sizes: &[usize]) -> usize {
        sizes[*self.sorted.last().expect("non-empty")] - sizes[self.sorted[0]]
    }

    fn next_least_loaded(&mut self, sizes: &[usize]) -> usize {
        if self.next_least >= self.least_end {
            self.least_count += 1;
            while self.least_end < self.sorted.len()
                && sizes[self.sorted[self.least_end]] as i64 == self.least_count
            {
                self.least_end += 1;
            }
            self.next_least = 0;
        }
        let member = self.sorted[self.next_least];
        self.next_least += 1;
        member
    }

    fn next_most_loaded(&mut self, sizes: &[usize]) -> Option<usize> {
        if self.next_most < self.most_start as i64 {
            if self.most_end <= self.most_start && self.most_start > 0 {
                self.most_count = sizes[self.sorted[self.most_start - 1]] as i64;
            } else {
                self.most_count -= 1;
            }
            while self.most_start > 0 && sizes[self.sorted[self.most_start - 1]] as i64 == self.most_count {
                self.most_start -= 1;
            }
            self.next_most = self.most_end as i64 - 1;
        }
        if self.next_most < 0 {
            return None;
        }
        let member = self.sorted[self.next_most as usize];
        self.next_most -= 1;
        Some(member)
    }

    fn exclude_most_loaded(&mut self) {
        let i = (self.next_most + 1) as usize;
        self.sorted.swap(i, self.most_end - 1);
        self.most_end -= 1;
    }

    fn is_balanced(&self) -> bool {
        self.most_count - self.least_count <= 1
    }
}
