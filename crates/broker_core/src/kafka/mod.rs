//! Apache Kafka's model, in Kafka's own vocabulary: a cluster of brokers holding topics split into
//! partitions, each partition a replicated log of records addressed by offset; producers that choose a
//! partition and write batches; consumers that fetch from a position and commit offsets, alone or in
//! consumer groups. Faithful to Apache Kafka 4.1 with the Java client's semantics (partitioner, assignors,
//! error codes and messages), checked against a real Kafka in CI.
//!
//! Like every model it is a deterministic state machine on virtual time: no clock, no threads, no global
//! state; randomness (the sticky partitioner's choices) comes from a seeded [`Prng`](crate::Prng).
//!
//! Layout: [`types`] (records, partitions, offsets as the Java client names them) and [`error`] (Kafka's
//! error codes, exception names and messages) are shared by everything below.

pub mod admin;
pub mod assignor;
pub mod cluster;
pub mod config;
pub mod consumer;
pub mod error;
pub mod event;
pub mod group;
pub mod log;
pub mod offsets;
pub mod partitioner;
pub mod producer;
pub mod program;
pub mod replication;
pub mod scenario;
pub mod share;
pub mod tools;
pub mod transaction;
pub mod types;

pub use assignor::{
    Assignment, ClientAssignor, MemberSubscription, PartitionCounts, PartitionRacks, RebalanceProtocol,
};
pub use assignor::{ServerAssignor, ServerMember};
pub use cluster::{Acks, Cluster, ClusterSettings, NewTopic};
pub use cluster::{ProduceOutcome, ProduceRequest, ProduceResponse};
pub use consumer::GroupProtocol;
pub use consumer::{
    AutoOffsetReset, ConsumerConfig, ConsumerEnv, ConsumerError, ConsumerEvent, KafkaConsumer, Mailbox,
    PollResult,
};
pub use error::{ErrorCode, KafkaError};
pub use event::KafkaEvent;
pub use group::GroupCoordinator;
pub use offsets::OffsetStore;
pub use share::{AcknowledgeType, KafkaShareConsumer, ShareConfig, SharePartitions};
pub use types::{
    ConsumerRecord, Header, IsolationLevel, NodeId, Offset, OffsetAndMetadata, OffsetSpec, PartitionReader,
    ProducerRecord, RecordMetadata, TimestampType, TopicName, TopicPartition,
};
