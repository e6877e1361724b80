//! What the Kafka benches share: a cluster with one broker, the consumer's view of its partition logs
//! (the leader's reads up to the high watermark, as a `Fetch` would return them), and a group world
//! (coordinator, mailbox) that moves consumers on virtual time.
//!
//! A directory module, not `benches/*.rs`, so that Cargo does not take it for a bench target of its own.

#![allow(dead_code)] // each bench uses part of it

use broker_core::kafka::group::CoordinatorConfig;
use broker_core::kafka::{
    Cluster, ClusterSettings, ConsumerEnv, ConsumerRecord, ErrorCode, GroupCoordinator, IsolationLevel, KafkaConsumer, KafkaError,
    Mailbox, NewTopic, NodeId, Offset, OffsetSpec, PartitionReader, TopicPartition,
};
use broker_core::VirtualTime;

/// The partition logs of a [`Cluster`], read as a consumer's fetch reads them from each leader.
pub struct ClusterReader<'a>(pub &'a Cluster);

impl ClusterReader<'_> {
    fn log(&self, tp: &TopicPartition) -> Result<&broker_core::kafka::log::PartitionLog, KafkaError> {
        self.0.partition(tp).map(|p| &p.log).ok_or_else(|| KafkaError::new(ErrorCode::UnknownTopicOrPartition))
    }
}

impl PartitionReader for ClusterReader<'_> {
    fn partition_count(&self, topic: &str) -> Option<i32> {
        self.0.topic(topic).map(|t| t.partitions.len() as i32)
    }

    fn fetch(
        &mut self,
        _at: VirtualTime,
        tp: &TopicPartition,
        offset: Offset,
        max_records: usize,
        isolation: IsolationLevel,
    ) -> Result<Vec<ConsumerRecord>, KafkaError> {
        let log = self.log(tp)?;
        if offset < log.log_start_offset() || offset > log.log_end_offset() {
            return Err(KafkaError::new(ErrorCode::OffsetOutOfRange));
        }
        let upper = match isolation {
            IsolationLevel::ReadCommitted => log.last_stable_offset(),
            IsolationLevel::ReadUncommitted => log.high_watermark(),
        };
        Ok(log.read(tp, offset, upper, max_records, isolation))
    }

    fn list_offset(
        &self,
        tp: &TopicPartition,
        spec: OffsetSpec,
        isolation: IsolationLevel,
    ) -> Result<Option<Offset>, KafkaError> {
        let log = self.log(tp)?;
        let upper = match isolation {
            IsolationLevel::ReadCommitted => log.last_stable_offset(),
            IsolationLevel::ReadUncommitted => log.high_watermark(),
        };
        Ok(match spec {
            OffsetSpec::Earliest => Some(log.log_start_offset()),
            OffsetSpec::Latest => Some(upper),
            OffsetSpec::ForTimestamp(t) => log.offset_for_timestamp(t, upper),
        })
    }
}

/// A one-broker cluster with `topic` of `partitions` partitions (replication factor 1) and `configs`.
/// `retention_check_ms` is the broker's `log.retention.check.interval.ms`.
pub fn cluster_with_topic(topic: &str, partitions: i32, configs: &[(&str, &str)], retention_check_ms: u64) -> Cluster {
    let settings = ClusterSettings { log_retention_check_interval_ms: retention_check_ms, ..ClusterSettings::default() };
    let mut cluster = Cluster::new(7, settings);
    cluster.add_broker(NodeId(1), None).expect("broker 1 registers");
    let mut new = NewTopic::new(topic, partitions, 1);
    for (name, value) in configs {
        new = new.config(name, value);
    }
    cluster.create_topic(VirtualTime::ZERO, &new).expect("the bench topic is created");
    drop(cluster.take_events());
    cluster
}

/// The group side: a coordinator (no initial rebalance delay, as the CI broker runs) and the mailbox its
/// responses wait in.
pub struct Group {
    pub coordinator: GroupCoordinator,
    pub mailbox: Mailbox,
}

impl Group {
    pub fn new() -> Self {
        let config = CoordinatorConfig { initial_rebalance_delay_ms: 0, ..CoordinatorConfig::default() };
        Group { coordinator: GroupCoordinator::new(config, 42), mailbox: Mailbox::new() }
    }

    /// Moves the coordinator to `now` and lets every consumer read its mail and run its timers.
    pub fn tick(&mut self, now: VirtualTime, cluster: &Cluster, consumers: &mut [KafkaConsumer]) {
        let out = self.coordinator.advance_to(now);
        self.mailbox.post(out);
        for c in consumers.iter_mut() {
            let mut reader = ClusterReader(cluster);
            let mut env = ConsumerEnv { coordinator: &mut self.coordinator, mailbox: &mut self.mailbox, reader: &mut reader };
            c.tick(now, &mut env);
        }
    }

    /// Polls every consumer until each has a non-empty assignment (the group is stable), advancing time
    /// by at most 10 ms a step. Returns the time reached.
    pub fn settle(&mut self, mut now: VirtualTime, cluster: &Cluster, consumers: &mut [KafkaConsumer]) -> VirtualTime {
        for _ in 0..100_000 {
            for c in consumers.iter_mut() {
                let mut reader = ClusterReader(cluster);
                let mut env = ConsumerEnv { coordinator: &mut self.coordinator, mailbox: &mut self.mailbox, reader: &mut reader };
                let got = c.poll(now, 0, &mut env).expect("poll while joining");
                assert!(got.records.is_empty(), "no records before the group is stable");
            }
            self.tick(now, cluster, consumers);
            if consumers.iter().all(|c| !c.assignment().is_empty()) {
                return now;
            }
            let next = self.coordinator.next_deadline().map_or(now.plus_millis(10), |d| d.min(now.plus_millis(10)));
            now = next.max(now.plus_millis(1));
        }
        panic!("the group did not settle");
    }
}
