//! What the data plane reports: one plain serde value per thing that happened, with a stable one-line
//! `Display` (transcripts diff them) and a `kind()` name for filters.
//!
//! Invariant: the `Display` of an event names every field and never depends on hash-map order.

use crate::kafka::{NodeId, Offset, TopicPartition};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One thing that happened in the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KafkaEvent {
    /// A broker joined the cluster.
    BrokerRegistered {
        /// Its `node.id`.
        broker: NodeId,
        /// Its `broker.rack`, if any.
        rack: Option<String>,
    },
    /// A broker stopped (its replicas leave the ISR, its leaderships move).
    BrokerDown {
        /// The broker.
        broker: NodeId,
    },
    /// A broker came back.
    BrokerUp {
        /// The broker.
        broker: NodeId,
    },
    /// A topic was created.
    TopicCreated {
        /// Its name.
        topic: String,
        /// Its partition count.
        partitions: i32,
        /// Replicas per partition.
        replication_factor: i32,
    },
    /// A topic was deleted with all its records.
    TopicDeleted {
        /// Its name.
        topic: String,
    },
    /// Partitions were added to a topic.
    PartitionsCreated {
        /// The topic.
        topic: String,
        /// The partition count now.
        partitions: i32,
    },
    /// A topic configuration was set (`Some`) or reset to its default (`None`).
    ConfigAltered {
        /// The topic.
        topic: String,
        /// The configuration's name.
        name: String,
        /// The new value, `None` when reset.
        value: Option<String>,
    },
    /// The leader appended a batch.
    RecordsAppended {
        /// Where.
        partition: TopicPartition,
        /// The first offset written.
        base_offset: Offset,
        /// How many offsets the batch took.
        count: u32,
    },
    /// The high watermark moved forward: records below it are committed and readable.
    HighWatermarkAdvanced {
        /// Where.
        partition: TopicPartition,
        /// The new high watermark.
        high_watermark: Offset,
    },
    /// A new active segment was started.
    SegmentRolled {
        /// Where.
        partition: TopicPartition,
        /// The new segment's base offset.
        base_offset: Offset,
    },
    /// Whole segments were deleted by retention or by the log start offset.
    SegmentsDeleted {
        /// Where.
        partition: TopicPartition,
        /// How many segments.
        segments: u32,
        /// The log start offset after the deletion.
        log_start_offset: Offset,
        /// `retention.ms`, `retention.bytes` or `log-start-offset`.
        reason: String,
    },
    /// `deleteRecords` moved the log start offset.
    LogStartOffsetIncreased {
        /// Where.
        partition: TopicPartition,
        /// The new log start offset.
        log_start_offset: Offset,
    },
    /// The log cleaner compacted a partition.
    LogCleaned {
        /// Where.
        partition: TopicPartition,
        /// Records removed (older values of a key, expired tombstones).
        records_removed: u64,
        /// The cleaned part now ends here.
        cleaned_up_to: Offset,
    },
    /// Replicas left the in-sync set.
    IsrShrunk {
        /// Where.
        partition: TopicPartition,
        /// The ISR now.
        isr: Vec<NodeId>,
    },
    /// A replica caught up and rejoined the in-sync set.
    IsrExpanded {
        /// Where.
        partition: TopicPartition,
        /// The ISR now.
        isr: Vec<NodeId>,
    },
    /// A partition got a new leader, or lost it (`None`: offline).
    LeaderElected {
        /// Where.
        partition: TopicPartition,
        /// The new leader.
        leader: Option<NodeId>,
        /// The leader epoch.
        leader_epoch: i32,
        /// Elected from outside the ISR (`unclean.leader.election.enable`).
        unclean: bool,
    },
    /// The log was cut back to the new leader's end: these records are gone.
    RecordsTruncated {
        /// Where.
        partition: TopicPartition,
        /// The new log end offset.
        log_end_offset: Offset,
        /// Offsets removed.
        records_lost: u64,
    },
    /// A transaction marker (a control record) was written.
    TransactionMarkerWritten {
        /// Where.
        partition: TopicPartition,
        /// The producer.
        producer_id: i64,
        /// Commit (`true`) or abort.
        commit: bool,
        /// The marker's offset.
        offset: Offset,
    },
}

impl KafkaEvent {
    /// The variant's name, e.g. `RecordsAppended`.
    pub fn kind(&self) -> &'static str {
        match self {
            KafkaEvent::BrokerRegistered { .. } => "BrokerRegistered",
            KafkaEvent::BrokerDown { .. } => "BrokerDown",
            KafkaEvent::BrokerUp { .. } => "BrokerUp",
            KafkaEvent::TopicCreated { .. } => "TopicCreated",
            KafkaEvent::TopicDeleted { .. } => "TopicDeleted",
            KafkaEvent::PartitionsCreated { .. } => "PartitionsCreated",
            KafkaEvent::ConfigAltered { .. } => "ConfigAltered",
            KafkaEvent::RecordsAppended { .. } => "RecordsAppended",
            KafkaEvent::HighWatermarkAdvanced { .. } => "HighWatermarkAdvanced",
            KafkaEvent::SegmentRolled { .. } => "SegmentRolled",
            KafkaEvent::SegmentsDeleted { .. } => "SegmentsDeleted",
            KafkaEvent::LogStartOffsetIncreased { .. } => "LogStartOffsetIncreased",
            KafkaEvent::LogCleaned { .. } => "LogCleaned",
            KafkaEvent::IsrShrunk { .. } => "IsrShrunk",
            KafkaEvent::IsrExpanded { .. } => "IsrExpanded",
            KafkaEvent::LeaderElected { .. } => "LeaderElected",
            KafkaEvent::RecordsTruncated { .. } => "RecordsTruncated",
            KafkaEvent::TransactionMarkerWritten { .. } => "TransactionMarkerWritten",
        }
    }
}

fn nodes(list: &[NodeId]) -> String {
    let ids: Vec<String> = list.iter().map(|n| n.0.to_string()).collect();
    format!("[{}]", ids.join(","))
}

impl fmt::Display for KafkaEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind();
        match self {
            KafkaEvent::BrokerRegistered { broker, rack } => match rack {
                Some(r) => write!(f, "{kind} broker={} rack={r}", broker.0),
                None => write!(f, "{kind} broker={}", broker.0),
            },
            KafkaEvent::BrokerDown { broker } | KafkaEvent::BrokerUp { broker } => {
                write!(f, "{kind} broker={}", broker.0)
            }
            KafkaEvent::TopicCreated { topic, partitions, replication_factor } => {
                write!(
                    f,
                    "{kind} topic={topic} partitions={partitions} replication_factor={replication_factor}"
                )
            }
            KafkaEvent::TopicDeleted { topic } => write!(f, "{kind} topic={topic}"),
            KafkaEvent::PartitionsCreated { topic, partitions } => {
                write!(f, "{kind} topic={topic} partitions={partitions}")
            }
            KafkaEvent::ConfigAltered { topic, name, value } => match value {
                Some(v) => write!(f, "{kind} topic={topic} {name}={v}"),
                None => write!(f, "{kind} topic={topic} {name} reset"),
            },
            KafkaEvent::RecordsAppended { partition, base_offset, count } => {
                write!(f, "{kind} {partition} base_offset={base_offset} count={count}")
            }
            KafkaEvent::HighWatermarkAdvanced { partition, high_watermark } => {
                write!(f, "{kind} {partition} high_watermark={high_watermark}")
            }
            KafkaEvent::SegmentRolled { partition, base_offset } => {
                write!(f, "{kind} {partition} base_offset={base_offset}")
            }
            KafkaEvent::SegmentsDeleted { partition, segments, log_start_offset, reason } => write!(
                f,
                "{kind} {partition} segments={segments} log_start_offset={log_start_offset} reason={reason}"
            ),
            KafkaEvent::LogStartOffsetIncreased { partition, log_start_offset } => {
                write!(f, "{kind} {partition} log_start_offset={log_start_offset}")
            }
            KafkaEvent::LogCleaned { partition, records_removed, cleaned_up_to } => {
                write!(
                    f,
                    "{kind} {partition} records_removed={records_removed} cleaned_up_to={cleaned_up_to}"
                )
            }
            KafkaEvent::IsrShrunk { partition, isr } | KafkaEvent::IsrExpanded { partition, isr } => {
                write!(f, "{kind} {partition} isr={}", nodes(isr))
            }
            KafkaEvent::LeaderElected { partition, leader, leader_epoch, unclean } => {
                let leader = leader.map_or("none".to_string(), |l| l.0.to_string());
                write!(f, "{kind} {partition} leader={leader} leader_epoch={leader_epoch} unclean={unclean}")
            }
            KafkaEvent::RecordsTruncated { partition, log_end_offset, records_lost } => {
                write!(f, "{kind} {partition} log_end_offset={log_end_offset} records_lost={records_lost}")
            }
            KafkaEvent::TransactionMarkerWritten { partition, producer_id, commit, offset } => {
                let marker = if *commit { "COMMIT" } else { "ABORT" };
                write!(f, "{kind} {partition} producer_id={producer_id} marker={marker} offset={offset}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_print_one_stable_line_and_round_trip_through_serde() {
        let tp = TopicPartition::new("orders", 2);
        let cases = vec![
            (
                KafkaEvent::BrokerRegistered { broker: NodeId(1), rack: Some("r1".into()) },
                "BrokerRegistered broker=1 rack=r1",
            ),
            (KafkaEvent::BrokerDown { broker: NodeId(3) }, "BrokerDown broker=3"),
            (
                KafkaEvent::TopicCreated { topic: "orders".into(), partitions: 3, replication_factor: 2 },
                "TopicCreated topic=orders partitions=3 replication_factor=2",
            ),
            (
                KafkaEvent::ConfigAltered {
                    topic: "orders".into(),
                    name: "retention.ms".into(),
                    value: None,
                },
                "ConfigAltered topic=orders retention.ms reset",
            ),
            (
                KafkaEvent::RecordsAppended { partition: tp.clone(), base_offset: 10, count: 3 },
                "RecordsAppended orders-2 base_offset=10 count=3",
            ),
            (
                KafkaEvent::IsrShrunk { partition: tp.clone(), isr: vec![NodeId(1), NodeId(2)] },
                "IsrShrunk orders-2 isr=[1,2]",
            ),
            (
                KafkaEvent::LeaderElected {
                    partition: tp.clone(),
                    leader: None,
                    leader_epoch: 4,
                    unclean: false,
                },
                "LeaderElected orders-2 leader=none leader_epoch=4 unclean=false",
            ),
            (
                KafkaEvent::TransactionMarkerWritten {
                    partition: tp,
                    producer_id: 7,
                    commit: false,
                    offset: 12,
                },
                "TransactionMarkerWritten orders-2 producer_id=7 marker=ABORT offset=12",
            ),
        ];
        for (event, line) in cases {
            assert_eq!(event.to_string(), line);
            assert!(line.starts_with(event.kind()));
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(serde_json::from_str::<KafkaEvent>(&json).unwrap(), event);
        }
    }
}
