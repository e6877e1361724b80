//! The classic protocol's eager assignors, `RangeAssignor` and `RoundRobinAssignor` (rack-unaware: the
//! model's consumers set no `client.rack`).

use super::{java_cmp, member_order, partitions_of, Assignment, MemberSubscription, PartitionCounts};
use crate::kafka::TopicPartition;
use std::collections::{BTreeMap, BTreeSet};

fn empty_assignment(members: &[MemberSubscription]) -> Assignment {
    members.iter().map(|m| (m.member_id.clone(), Vec::new())).collect()
}

/// `RangeAssignor`: topic by topic, the members subscribed to it in [`member_order`] take contiguous
/// ranges of its partitions; with `n` partitions and `m` members the first `n % m` take one more.
pub(super) fn range(members: &[MemberSubscription], partitions: &PartitionCounts) -> Assignment {
    let mut assignment = empty_assignment(members);
    let mut subscribers: BTreeMap<&str, Vec<&MemberSubscription>> = BTreeMap::new();
    for member in members {
        let topics: BTreeSet<&str> = member.topics.iter().map(String::as_str).collect();
        for topic in topics {
            subscribers.entry(topic).or_default().push(member);
        }
    }
    for (topic, mut consumers) in subscribers {
        let count = match partitions.get(topic) {
            Some(&n) if n > 0 => n as usize,
            _ => continue,
        };
        consumers.sort_by(|a, b| member_order(a, b));
        let per_consumer = count / consumers.len();
        let with_extra = count % consumers.len();
        let mut next = 0;
        for (i, consumer) in consumers.iter().enumerate() {
            let take = per_consumer + usize::from(i < with_extra);
            let list = assignment.get_mut(&consumer.member_id).expect("every member has an entry");
            list.extend((next..next + take).map(|p| TopicPartition::new(topic, p as i32)));
            next += take;
        }
    }
    assignment
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
