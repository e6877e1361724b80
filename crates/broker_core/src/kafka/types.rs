//! The values Kafka's clients and brokers exchange, named as the Java client names them.
//!
//! Keys, values and header values are bytes (`None` is Kafka's null: a null key, a tombstone's value); the
//! line format writes them as strings, serialized as UTF-8 the way `StringSerializer` does. A partition is
//! an `i32` and an offset an `i64` as on the wire, so Kafka's own limits and error cases stay expressible.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A broker's `node.id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub i32);

/// A position in a partition's log: the offset of a record, or of the next one to read or write.
pub type Offset = i64;

/// A topic's name, shared: every [`TopicPartition`] made from one is a reference count, not a copy, so
/// the per-record `TopicPartition` of a [`RecordMetadata`] or [`ConsumerRecord`] costs no allocation
/// (a copied `String` per record was most of the allocator's work in a long run). It reads, prints,
/// compares, orders and serializes exactly as the `String` it holds.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct TopicName(Arc<str>);

/// By the names' text, as `String` orders; two handles to one name compare equal without reading it (a
/// map keyed by partition compares mostly those).
impl Ord for TopicName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            std::cmp::Ordering::Equal
        } else {
            self.0.cmp(&other.0)
        }
    }
}

impl PartialOrd for TopicName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl TopicName {
    /// The name as a `&str`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for TopicName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for TopicName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for TopicName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for TopicName {
    fn from(s: &str) -> Self {
        TopicName(Arc::from(s))
    }
}

impl From<String> for TopicName {
    fn from(s: String) -> Self {
        TopicName(Arc::from(s))
    }
}

impl From<&String> for TopicName {
    fn from(s: &String) -> Self {
        TopicName(Arc::from(s.as_str()))
    }
}

impl From<&TopicName> for TopicName {
    fn from(s: &TopicName) -> Self {
        s.clone()
    }
}

impl From<TopicName> for String {
    fn from(s: TopicName) -> Self {
        s.0.as_ref().to_owned()
    }
}

impl PartialEq<str> for TopicName {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for TopicName {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for TopicName {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<TopicName> for String {
    fn eq(&self, other: &TopicName) -> bool {
        **self == *other.0
    }
}

impl PartialEq<TopicName> for str {
    fn eq(&self, other: &TopicName) -> bool {
        *self == *other.0
    }
}

impl PartialEq<TopicName> for &str {
    fn eq(&self, other: &TopicName) -> bool {
        **self == *other.0
    }
}

/// As the `String` would: `"orders"`.
impl fmt::Debug for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for TopicName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TopicName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(TopicName::from)
    }
}

/// One partition of one topic.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TopicPartition {
    /// The topic's name.
    pub topic: TopicName,
    /// The partition's index, from 0.
    pub partition: i32,
}

impl TopicPartition {
    /// `topic`'s partition `partition`.
    pub fn new(topic: impl Into<TopicName>, partition: i32) -> Self {
        TopicPartition { topic: topic.into(), partition }
    }
}

/// As Kafka prints a `TopicPartition`: `orders-0`.
impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A record header: a key and a value that may be null.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Header {
    /// The header's key.
    pub key: String,
    /// The header's value; `None` is null.
    pub value: Option<Vec<u8>>,
}

/// Whose clock stamped a record: the producer's (`CreateTime`) or the leader's (`LogAppendTime`), as the
/// topic's `message.timestamp.type` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimestampType {
    /// Set by the producer (the default).
    CreateTime,
    /// Set by the partition leader when it appends the batch.
    LogAppendTime,
}

/// What a producer sends (`new ProducerRecord<>(topic, partition, timestamp, key, value, headers)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerRecord {
    /// The topic to write to.
    pub topic: String,
    /// An explicit partition; `None` lets the partitioner choose.
    pub partition: Option<i32>,
    /// An explicit timestamp in ms; `None` means the producer's clock at `send`.
    pub timestamp: Option<i64>,
    /// The key; `None` is a null key.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is a null value (a tombstone in a compacted topic).
    pub value: Option<Vec<u8>>,
    /// Headers, in order.
    pub headers: Vec<Header>,
}

/// Where an acknowledged record was written (`RecordMetadata`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordMetadata {
    /// The partition written to.
    pub partition: TopicPartition,
    /// The record's offset; `-1` when unknown (`acks=0`).
    pub offset: Offset,
    /// The record's timestamp as stored (`LogAppendTime` replaces the producer's).
    pub timestamp: i64,
}

/// What a consumer's `poll` returns for one record (`ConsumerRecord`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerRecord {
    /// The partition read from.
    pub partition: TopicPartition,
    /// The record's offset.
    pub offset: Offset,
    /// The record's timestamp.
    pub timestamp: i64,
    /// Which clock the timestamp is.
    pub timestamp_type: TimestampType,
    /// The key; `None` is null.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is null.
    pub value: Option<Vec<u8>>,
    /// Headers, in order.
    pub headers: Vec<Header>,
}

/// A committed position (`OffsetAndMetadata`): the offset of the next record to read, and a note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetAndMetadata {
    /// The next offset to read.
    pub offset: Offset,
    /// Free text stored with the commit.
    pub metadata: String,
}

/// Which records a fetch may return: all up to the high watermark, or only up to the last stable offset
/// with aborted transactions' records left out (`isolation.level`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IsolationLevel {
    /// `read_uncommitted` (the default).
    #[default]
    ReadUncommitted,
    /// `read_committed`.
    ReadCommitted,
}

/// Which offset `ListOffsets` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OffsetSpec {
    /// The log start offset.
    Earliest,
    /// The end: the high watermark (`read_uncommitted`) or the last stable offset (`read_committed`).
    Latest,
    /// The earliest offset whose timestamp is at or after this many ms (`offsetsForTimes`).
    ForTimestamp(i64),
}

/// The seam between consumers and the partitions' leaders: what a consumer (and the group coordinator's
/// lag and offset checks) need from the data plane. The cluster implements it; consumers and groups are
/// written against it so each side can be tested alone.
pub trait PartitionReader {
    /// The number of partitions `topic` has, `None` if it does not exist.
    fn partition_count(&self, topic: &str) -> Option<i32>;
    /// The `broker.rack`s of `partition`'s replicas (brokers without one left out), as the metadata
    /// response gives them to a rack-aware assignor; empty by default.
    fn replica_racks(&self, partition: &TopicPartition) -> std::collections::BTreeSet<String> {
        let _ = partition;
        std::collections::BTreeSet::new()
    }
    /// The partition's leader as a client's metadata names it — node id, `broker.rack`, leader epoch —
    /// for the texts that print it (the Java client's `FetchPosition{…}`); `None` when it has none
    /// (the default).
    fn leader_and_epoch(&self, partition: &TopicPartition) -> Option<(NodeId, Option<String>, i32)> {
        let _ = partition;
        None
    }
    /// Up to `max_records` records from `offset` on, as the leader serves them (up to the high watermark,
    /// or the last stable offset for `read_committed`). `OFFSET_OUT_OF_RANGE` when `offset` is below the
    /// log start or above the end; `UNKNOWN_TOPIC_OR_PARTITION` when there is no such partition.
    fn fetch(
        &mut self,
        at: crate::VirtualTime,
        partition: &TopicPartition,
        offset: Offset,
        max_records: usize,
        isolation: IsolationLevel,
    ) -> Result<Vec<ConsumerRecord>, crate::kafka::KafkaError>;
    /// The offset `spec` names in `partition` (`ListOffsets`); `None` for a timestamp after every record.
    fn list_offset(
        &self,
        partition: &TopicPartition,
        spec: OffsetSpec,
        isolation: IsolationLevel,
    ) -> Result<Option<Offset>, crate::kafka::KafkaError>;
}
