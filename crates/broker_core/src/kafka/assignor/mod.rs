//! Partition assignors: who in a consumer group reads which partition.
//!
//! Two families, as Kafka 4.1 has them:
//! - client-side assignors of the classic protocol, run by the group leader inside the Java consumer
//!   (`partition.assignment.strategy`): [`ClientAssignor::Range`], [`ClientAssignor::RoundRobin`],
//!   [`ClientAssignor::Sticky`] and [`ClientAssignor::CooperativeSticky`];
//! - server-side assignors of the consumer protocol (KIP-848, `group.remote.assignor`), run by the group
//!   coordinator: [`ServerAssignor::Uniform`] (the default) and [`ServerAssignor::Range`].
//!
//! Every assignor here is a pure function of its inputs (members, subscriptions, owned partitions,
//! generations, partition counts), deterministic and total: bad input (a topic with no metadata, an owned
//! partition of a deleted topic) is skipped as Kafka skips it, never a panic.
//!
//! Invariants of every result: every member of the input has an entry (possibly empty); a partition is
//! assigned to at most one member; a member gets only partitions of topics it subscribes to that exist;
//! every existing partition of a subscribed topic is assigned (for the cooperative-sticky assignor, except
//! the partitions that must first be revoked from their previous owner); each member's list is sorted by
//! topic, then partition (the Java consumer keeps its assignment in a `HashSet` anyway).
//!
//! Where Kafka's Java code breaks a tie by a `HashMap`'s iteration order (the sticky assignors iterate
//! their member maps and take the first element of `HashSet`s of partitions), this module reproduces that
//! order from Java's hash functions ([`java_hash_map_order`]), so results equal Kafka's exactly: 646 cases
//! (Kafka's own assignor tests and 600 seeded random groups) are checked against Kafka 4.1.1's assignor
//! classes in `tests/kafka_assignors.rs`. Faithful down to one Kafka quirk: a sticky assignor may give a
//! member back a partition it owned in an earlier generation of a topic it no longer subscribes to (the
//! Java consumer then finds its assignment does not match its subscription and rejoins).
//!
//! Racks (KIP-881): the classic `RangeAssignor`, `StickyAssignor` and `CooperativeStickyAssignor` take the
//! members' `client.rack` and the racks of each partition's replicas into account
//! ([`ClientAssignor::assign_with_racks`]), checked against Kafka's classes on the rack cases of
//! `RangeAssignorTest` and `AbstractStickyAssignorTest` and on seeded random racked groups.
//! `RoundRobinAssignor` has no rack-aware variant in Kafka either.
//!
//! The server-side assignors iterate topic ids (random UUIDs in a real cluster) and members in hash order;
//! this module uses topic names and member ids in order instead, so it equals one possible cluster.

mod client;
mod server;
mod sticky;

pub use server::{ServerAssignor, ServerMember};

use crate::kafka::TopicPartition;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// Topic name → number of partitions, as the cluster's metadata gives it to the assignor.
pub type PartitionCounts = BTreeMap<String, i32>;

/// Partition → the racks of its replicas' brokers (brokers without `broker.rack` left out), as the consumer's
/// metadata gives them to a rack-aware assignor (KIP-881). A partition absent counts as no racks.
pub type PartitionRacks = BTreeMap<TopicPartition, BTreeSet<String>>;

/// Member id → the partitions it is assigned, each list sorted by topic then partition.
pub type Assignment = BTreeMap<String, Vec<TopicPartition>>;

/// What one member sends in its `JoinGroup` (a `ConsumerPartitionAssignor.Subscription`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSubscription {
    /// The member id the coordinator gave it.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
    /// The topics it subscribes to.
    pub topics: Vec<String>,
    /// The partitions it owned before this rebalance (sticky assignors only; eager members send none, the
    /// eager `sticky` assignor sends them in its user data, which this field stands for).
    pub owned_partitions: Vec<TopicPartition>,
    /// The generation in which it owned them (`None` when it never had an assignment).
    pub generation: Option<i32>,
    /// Its `client.rack` (KIP-881: rack-aware assignors prefer partitions with a replica on it; an empty
    /// rack counts as none, as in Kafka).
    #[serde(default)]
    pub rack_id: Option<String>,
}

impl MemberSubscription {
    /// A dynamic member subscribing to `topics`, owning nothing.
    pub fn new(member_id: impl Into<String>, topics: &[&str]) -> Self {
        MemberSubscription {
            member_id: member_id.into(),
            group_instance_id: None,
            topics: topics.iter().map(|t| t.to_string()).collect(),
            owned_partitions: Vec::new(),
            generation: None,
            rack_id: None,
        }
    }

    /// The same member, with this `client.rack`.
    pub fn with_rack(mut self, rack: impl Into<String>) -> Self {
        self.rack_id = Some(rack.into());
        self
    }

    /// The same member, static with this `group.instance.id`.
    pub fn with_instance_id(mut self, instance_id: impl Into<String>) -> Self {
        self.group_instance_id = Some(instance_id.into());
        self
    }

    /// The same member, owning `partitions` since `generation`.
    pub fn owning(mut self, partitions: Vec<TopicPartition>, generation: Option<i32>) -> Self {
        self.owned_partitions = partitions;
        self.generation = generation;
        self
    }
}

/// How a classic group rebalances: eager (every member revokes everything before joining) or cooperative
/// (members keep what they are not asked to give up; `RebalanceProtocol` in the Java client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RebalanceProtocol {
    /// Revoke everything, then receive a new assignment.
    Eager,
    /// Incremental: revoke only what moves, in a follow-up rebalance.
    Cooperative,
}

/// The Java consumer's built-in assignors (`partition.assignment.strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClientAssignor {
    /// `RangeAssignor`, `range` (first in the Java consumer's default list).
    Range,
    /// `RoundRobinAssignor`, `roundrobin`.
    RoundRobin,
    /// `StickyAssignor`, `sticky` (eager).
    Sticky,
    /// `CooperativeStickyAssignor`, `cooperative-sticky` (second in the default list).
    CooperativeSticky,
}

impl ClientAssignor {
    /// Every built-in assignor.
    pub const ALL: [ClientAssignor; 4] = [
        ClientAssignor::Range,
        ClientAssignor::RoundRobin,
        ClientAssignor::Sticky,
        ClientAssignor::CooperativeSticky,
    ];

    /// The protocol name the member sends in `JoinGroup` (`range`, `roundrobin`, `sticky`,
    /// `cooperative-sticky`).
    pub fn name(self) -> &'static str {
        match self {
            ClientAssignor::Range => "range",
            ClientAssignor::RoundRobin => "roundrobin",
            ClientAssignor::Sticky => "sticky",
            ClientAssignor::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// The assignor with this protocol name or Java class name (`org.apache.kafka.clients.consumer.
    /// RangeAssignor` or its simple name), as `partition.assignment.strategy` accepts them.
    pub fn from_name(name: &str) -> Option<ClientAssignor> {
        let simple = name.rsplit('.').next().unwrap_or(name);
        ClientAssignor::ALL.into_iter().find(|a| {
            a.name() == name
                || simple
                    == match a {
                        ClientAssignor::Range => "RangeAssignor",
                        ClientAssignor::RoundRobin => "RoundRobinAssignor",
                        ClientAssignor::Sticky => "StickyAssignor",
                        ClientAssignor::CooperativeSticky => "CooperativeStickyAssignor",
                    }
        })
    }

    /// The rebalance protocols it supports, preferred first (`supportedProtocols()`).
    pub fn supported_protocols(self) -> &'static [RebalanceProtocol] {
        match self {
            ClientAssignor::CooperativeSticky => &[RebalanceProtocol::Cooperative, RebalanceProtocol::Eager],
            _ => &[RebalanceProtocol::Eager],
        }
    }

    /// The assignment the group leader computes and sends back in `SyncGroup`.
    pub fn assign(self, members: &[MemberSubscription], partitions: &PartitionCounts) -> Assignment {
        self.assign_with_racks(members, partitions, &PartitionRacks::new())
    }

    /// [`ClientAssignor::assign`] knowing the partitions' replica racks (KIP-881). The range and sticky
    /// assignors use them when some member has a `client.rack` that some replica's broker has (and the
    /// partitions' rack sets differ); round-robin ignores racks, as in Kafka.
    pub fn assign_with_racks(
        self,
        members: &[MemberSubscription],
        partitions: &PartitionCounts,
        racks: &PartitionRacks,
    ) -> Assignment {
        let mut result = match self {
            ClientAssignor::Range => client::range(members, partitions, racks),
            ClientAssignor::RoundRobin => client::round_robin(members, partitions),
            ClientAssignor::Sticky => sticky::assign(members, partitions, racks).assignment,
            ClientAssignor::CooperativeSticky => sticky::assign_cooperative(members, partitions, racks),
        };
        for list in result.values_mut() {
            list.sort();
        }
        result
    }
}

/// Java's `String.compareTo`: lexicographic over UTF-16 code units (differs from Rust's byte order only
/// between characters above U+FFFF and those in U+E000..=U+FFFF).
pub(crate) fn java_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `AbstractPartitionAssignor.MemberInfo`'s order: static members first, by `group.instance.id`, then
/// dynamic members by member id.
pub(crate) fn member_order(a: &MemberSubscription, b: &MemberSubscription) -> Ordering {
    match (&a.group_instance_id, &b.group_instance_id) {
        (Some(x), Some(y)) => java_cmp(x, y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => java_cmp(&a.member_id, &b.member_id),
    }
}

/// The partitions of `topic`, `0..count`.
pub(crate) fn partitions_of(topic: &str, count: i32) -> impl Iterator<Item = TopicPartition> + '_ {
    (0..count.max(0)).map(move |p| TopicPartition::new(topic, p))
}

/// A string ordered as Java orders it ([`java_cmp`]), for sorted sets that stand for Java's `TreeSet`s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JavaString(pub String);

impl Ord for JavaString {
    fn cmp(&self, other: &Self) -> Ordering {
        java_cmp(&self.0, &other.0)
    }
}

impl PartialOrd for JavaString {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Java's `String.hashCode()`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping.
pub(crate) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

/// The bucket a key with Java hash code `hash` falls in, in a `java.util.HashMap` of `capacity` buckets.
pub(crate) fn java_bucket(hash: i32, capacity: usize) -> usize {
    let h = hash ^ ((hash as u32) >> 16) as i32;
    (h as u32 as usize) & (capacity - 1)
}

/// The capacity a `new HashMap<>()` (or `HashSet`) grows to while holding up to `max_len` entries: 16,
/// doubled whenever the size exceeds three quarters of it.
pub(crate) fn java_capacity(max_len: usize) -> usize {
    let mut capacity = 16;
    while max_len > capacity * 3 / 4 {
        capacity *= 2;
    }
    capacity
}

/// The order in which a `new HashMap<>()` filled with these keys (in this insertion order) iterates them:
/// by bucket, then insertion order within a bucket. Kafka's sticky assignor iterates its member maps this
/// way, so ties between members break as in Kafka.
pub(crate) fn java_hash_map_order<'s>(keys: impl IntoIterator<Item = &'s str>) -> Vec<&'s str> {
    let mut keys: Vec<&str> = keys.into_iter().collect();
    let capacity = java_capacity(keys.len());
    // A stable sort keeps insertion order within a bucket.
    keys.sort_by_key(|k| java_bucket(java_string_hash(k), capacity));
    keys
}

/// Java's `TopicPartition.hashCode()`.
pub(crate) fn java_topic_partition_hash(tp: &TopicPartition) -> i32 {
    31i32.wrapping_add(tp.partition).wrapping_mul(31).wrapping_add(java_string_hash(&tp.topic))
}
