//! What the Kafka benches share: a cluster with one broker (which consumers read from directly: it is
//! their `PartitionReader`), and the group side (coordinator, mailbox) that moves consumers on virtual
//! time.
//!
//! A directory module, not `benches/*.rs`, so that Cargo does not take it for a bench target of its own.

#![allow(dead_code)] // each bench uses part of it

use broker_core::kafka::group::CoordinatorConfig;
use broker_core::kafka::{
    Cluster, ClusterSettings, ConsumerEnv, GroupCoordinator, KafkaConsumer, Mailbox, NewTopic, NodeId,
};
use broker_core::VirtualTime;

/// A one-broker cluster with `topic` of `partitions` partitions (replication factor 1) and `configs`.
/// `retention_check_ms` is the broker's `log.retention.check.interval.ms`.
pub fn cluster_with_topic(
    topic: &str,
    partitions: i32,
    configs: &[(&str, &str)],
    retention_check_ms: u64,
) -> Cluster {
    let settings =
        ClusterSettings { log_retention_check_interval_ms: retention_check_ms, ..ClusterSettings::default() };
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
    pub fn tick(&mut self, now: VirtualTime, cluster: &mut Cluster, consumers: &mut [KafkaConsumer]) {
        let out = self.coordinator.advance_to(now);
        self.mailbox.post(out);
        for c in consumers.iter_mut() {
            let mut env = ConsumerEnv {
                coordinator: &mut self.coordinator,
                mailbox: &mut self.mailbox,
                reader: cluster,
            };
            c.tick(now, &mut env);
        }
    }

    /// Polls every consumer until each has a non-empty assignment (the group is stable), advancing time
    /// by at most 10 ms a step. Returns the time reached.
    pub fn settle(
        &mut self,
        mut now: VirtualTime,
        cluster: &mut Cluster,
        consumers: &mut [KafkaConsumer],
    ) -> VirtualTime {
        for _ in 0..100_000 {
            for c in consumers.iter_mut() {
                let mut env = ConsumerEnv {
                    coordinator: &mut self.coordinator,
                    mailbox: &mut self.mailbox,
                    reader: cluster,
                };
                let got = c.poll(now, 0, &mut env).expect("poll while joining");
                assert!(got.records.is_empty(), "no records before the group is stable");
            }
            self.tick(now, cluster, consumers);
            if consumers.iter().all(|c| !c.assignment().is_empty()) {
                return now;
            }
            let next =
                self.coordinator.next_deadline().map_or(now.plus_millis(10), |d| d.min(now.plus_millis(10)));
            now = next.max(now.plus_millis(1));
        }
        panic!("the group did not settle");
    }
}
