//! Committed offsets as `__consumer_offsets` keeps them: per group, per partition, the last commit wins
//! (the topic is compacted on the key `(group, topic, partition)`), with its metadata string and commit
//! timestamp. Deleting a group writes tombstones for all of them.
//!
//! Invariant: at most one committed offset per (group, partition).

use crate::kafka::{Offset, OffsetAndMetadata, TopicPartition};
use crate::VirtualTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One committed offset with when it was committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedOffset {
    /// The offset of the next record to read, and the commit's metadata string.
    pub offset: OffsetAndMetadata,
    /// When the coordinator stored it (`commitTimestamp`).
    pub commit_timestamp: VirtualTime,
}

/// The committed offsets of every group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetStore {
    groups: BTreeMap<String, BTreeMap<TopicPartition, CommittedOffset>>,
}

impl OffsetStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `offset` for `group` and `partition`, replacing an earlier commit.
    pub fn commit(
        &mut self,
        at: VirtualTime,
        group: &str,
        partition: TopicPartition,
        offset: OffsetAndMetadata,
    ) {
        self.groups
            .entry(group.to_string())
            .or_default()
            .insert(partition, CommittedOffset { offset, commit_timestamp: at });
    }

    /// The committed offset of `group` for `partition`, if any.
    pub fn committed(&self, group: &str, partition: &TopicPartition) -> Option<&CommittedOffset> {
        self.groups.get(group)?.get(partition)
    }

    /// Every committed offset of `group`, by partition.
    pub fn group_offsets(&self, group: &str) -> impl Iterator<Item = (&TopicPartition, &CommittedOffset)> {
        self.groups.get(group).into_iter().flat_map(|m| m.iter())
    }

    /// Whether `group` has any committed offset.
    pub fn has_offsets(&self, group: &str) -> bool {
        self.groups.get(group).is_some_and(|m| !m.is_empty())
    }

    /// Removes every committed offset of `group` (`DeleteGroups`); returns how many there were.
    pub fn delete_group(&mut self, group: &str) -> usize {
        self.groups.remove(group).map_or(0, |m| m.len())
    }

    /// Removes `group`'s committed offset for `partition` (`OffsetDelete`); whether there was one.
    pub fn delete(&mut self, group: &str, partition: &TopicPartition) -> bool {
        let Some(m) = self.groups.get_mut(group) else { return false };
        let removed = m.remove(partition).is_some();
        if m.is_empty() {
            self.groups.remove(group);
        }
        removed
    }

    /// The groups that have committed offsets, in name order.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.groups.keys().map(String::as_str)
    }

    /// The committed offset of `group` for `partition` as a plain offset.
    pub fn committed_offset(&self, group: &str, partition: &TopicPartition) -> Option<Offset> {
        self.committed(group, partition).map(|c| c.offset.offset)
    }
}
