//! The transaction coordinator, reduced to what the data plane needs: producer ids and epochs per
//! `transactional.id` (a new `initTransactions` bumps the epoch and fences the older producer, aborting
//! its open transaction), the partitions a transaction wrote to, and the markers that end it.
//!
//! Invariant: a transactional id has at most one open transaction, and its partitions are exactly those
//! added since it began; `end_transaction` writes one marker to each and forgets them.

use crate::clock::VirtualTime;
use crate::kafka::cluster::Cluster;
use crate::kafka::{ErrorCode, KafkaError, TopicPartition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One transactional id's state at the coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnMeta {
    /// The producer id it maps to.
    pub producer_id: i64,
    /// The current epoch; older ones are fenced.
    pub producer_epoch: i16,
    /// Partitions written in the open transaction.
    pub partitions: BTreeSet<TopicPartition>,
}

fn fenced() -> KafkaError {
    KafkaError::new(ErrorCode::ProducerFenced)
}

impl Cluster {
    /// `InitProducerId`: a fresh producer id for an idempotent producer (`None`), or the transactional id's
    /// producer id with a new epoch (aborting an open transaction of the previous epoch).
    pub fn init_producer_id(
        &mut self,
        at: VirtualTime,
        transactional_id: Option<&str>,
    ) -> Result<(i64, i16), KafkaError> {
        self.advance_to(at);
        let Some(tid) = transactional_id else {
            return Ok((self.allocate_producer_id(), 0));
        };
        if let Some(meta) = self.transactions.get(tid).cloned() {
            if !meta.partitions.is_empty() {
                let parts: Vec<TopicPartition> = meta.partitions.iter().cloned().collect();
                self.write_txn_markers(at, meta.producer_id, meta.producer_epoch, false, &parts)?;
            }
            let entry = self.transactions.get_mut(tid).expect("just read");
            entry.producer_epoch = entry.producer_epoch.wrapping_add(1);
            entry.partitions.clear();
            return Ok((entry.producer_id, entry.producer_epoch));
        }
        let producer_id = self.allocate_producer_id();
        self.transactions
            .insert(tid.to_string(), TxnMeta { producer_id, producer_epoch: 0, partitions: BTreeSet::new() });
        Ok((producer_id, 0))
    }

    fn txn_meta(&mut self, tid: &str, producer_id: i64, epoch: i16) -> Result<&mut TxnMeta, KafkaError> {
        let meta = self
            .transactions
            .get_mut(tid)
            .ok_or_else(|| KafkaError::new(ErrorCode::InvalidProducerIdMapping))?;
        if meta.producer_id != producer_id {
            return Err(KafkaError::new(ErrorCode::InvalidProducerIdMapping));
        }
        if meta.producer_epoch != epoch {
            return Err(fenced());
        }
        Ok(meta)
    }

    /// `AddPartitionsToTxn`.
    pub fn add_partitions_to_txn(
        &mut self,
        at: VirtualTime,
        tid: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &[TopicPartition],
    ) -> Result<(), KafkaError> {
        self.advance_to(at);
        let meta = self.txn_meta(tid, producer_id, epoch)?;
        meta.partitions.extend(partitions.iter().cloned());
        Ok(())
    }

    /// `EndTxn`: writes the commit or abort marker to every partition of the open transaction.
    pub fn end_transaction(
        &mut self,
        at: VirtualTime,
        tid: &str,
        producer_id: i64,
        epoch: i16,
        commit: bool,
    ) -> Result<(), KafkaError> {
        self.advance_to(at);
        let meta = self.txn_meta(tid, producer_id, epoch)?;
        let parts: Vec<TopicPartition> = std::mem::take(&mut meta.partitions).into_iter().collect();
        self.write_txn_markers(at, producer_id, epoch, commit, &parts)
    }
}
