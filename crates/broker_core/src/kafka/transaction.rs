//! The transaction coordinator, reduced to what the data plane needs: producer ids and epochs per
//! `transactional.id` (a new `initTransactions` bumps the epoch and fences the older producer, aborting
//! its open transaction), the partitions a transaction wrote to, and the markers that end it.
//!
//! Timeouts (`transaction.timeout.ms`, at most the broker's `transaction.max.timeout.ms`): a transaction is
//! open from its first partition on; every `transaction.abort.timed.out.transaction.cleanup.interval.ms`
//! the coordinator aborts the ones open longer than their timeout. As Kafka 4.1's coordinator
//! (transaction protocol version 2) it bumps the epoch and writes the abort markers with the new one, so the
//! producer's next write there fails with `InvalidProducerEpochException`; that producer (and only it, not
//! one fenced by a newer `initTransactions`) may then abort and go on under a bumped epoch.
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
    /// `transaction.timeout.ms` the producer gave.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// When the open transaction added its first partition (ms).
    #[serde(default)]
    pub started_ms: Option<i64>,
    /// The epoch whose transaction the coordinator aborted for its timeout, while that producer has not
    /// recovered: it may bump its epoch from there (a fenced producer may not).
    #[serde(default)]
    pub timed_out_epoch: Option<i16>,
}

fn default_timeout_ms() -> u64 {
    DEFAULT_TRANSACTION_TIMEOUT_MS
}

/// The producer's `transaction.timeout.ms` default (one minute).
pub const DEFAULT_TRANSACTION_TIMEOUT_MS: u64 = 60_000;

fn fenced() -> KafkaError {
    KafkaError::new(ErrorCode::ProducerFenced)
}

impl Cluster {
    /// `InitProducerId`: a fresh producer id for an idempotent producer (`None`), or the transactional id's
    /// producer id with a new epoch (aborting an open transaction of the previous epoch), with the default
    /// transaction timeout.
    pub fn init_producer_id(
        &mut self,
        at: VirtualTime,
        transactional_id: Option<&str>,
    ) -> Result<(i64, i16), KafkaError> {
        match transactional_id {
            None => {
                self.advance_to(at);
                Ok((self.allocate_producer_id(), 0))
            }
            Some(tid) => self.init_transactional_producer_id(at, tid, DEFAULT_TRANSACTION_TIMEOUT_MS),
        }
    }

    /// `InitProducerId` for `transactional.id` `tid` with `transaction.timeout.ms` `timeout_ms`: refused
    /// above `transaction.max.timeout.ms`; otherwise the id's producer id with a new epoch, an open
    /// transaction of the previous producer aborted (its markers carry the new epoch, which fences it).
    pub fn init_transactional_producer_id(
        &mut self,
        at: VirtualTime,
        tid: &str,
        timeout_ms: u64,
    ) -> Result<(i64, i16), KafkaError> {
        self.advance_to(at);
        if timeout_ms > self.settings.transaction_max_timeout_ms {
            return Err(KafkaError::new(ErrorCode::InvalidTransactionTimeout));
        }
        self.ensure_transaction_timeouts_check();
        if let Some(meta) = self.transactions.get(tid).cloned() {
            let epoch = meta.producer_epoch.wrapping_add(1);
            if !meta.partitions.is_empty() {
                let parts: Vec<TopicPartition> = meta.partitions.iter().cloned().collect();
                self.write_txn_markers(at, meta.producer_id, epoch, false, &parts)?;
            }
            let entry = self.transactions.get_mut(tid).expect("just read");
            entry.producer_epoch = epoch;
            entry.partitions.clear();
            entry.started_ms = None;
            entry.timed_out_epoch = None;
            entry.timeout_ms = timeout_ms;
            return Ok((entry.producer_id, entry.producer_epoch));
        }
        let producer_id = self.allocate_producer_id();
        self.transactions.insert(
            tid.to_string(),
            TxnMeta {
                producer_id,
                producer_epoch: 0,
                partitions: BTreeSet::new(),
                timeout_ms,
                started_ms: None,
                timed_out_epoch: None,
            },
        );
        Ok((producer_id, 0))
    }

    fn ensure_transaction_timeouts_check(&mut self) {
        if !self.txn_check_scheduled {
            self.txn_check_scheduled = true;
            let interval = self.settings.transaction_abort_timed_out_transaction_cleanup_interval_ms;
            self.timers
                .schedule(self.now.plus_millis(interval), crate::kafka::cluster::Timer::TransactionTimeouts);
        }
    }

    /// The coordinator's periodic check: every transaction open longer than its timeout is aborted under a
    /// bumped epoch.
    pub(crate) fn abort_timed_out_transactions(&mut self) {
        let now = self.now_ms();
        let due: Vec<String> = self
            .transactions
            .iter()
            .filter(|(_, m)| m.started_ms.is_some_and(|s| now - s > m.timeout_ms as i64))
            .map(|(tid, _)| tid.clone())
            .collect();
        for tid in due {
            let meta = self.transactions.get(&tid).cloned().expect("just listed");
            let epoch = meta.producer_epoch.wrapping_add(1);
            let parts: Vec<TopicPartition> = meta.partitions.iter().cloned().collect();
            let at = self.now;
            // A partition without a leader keeps the transaction open until the next check.
            if self.write_txn_markers(at, meta.producer_id, epoch, false, &parts).is_err() {
                continue;
            }
            let entry = self.transactions.get_mut(&tid).expect("just listed");
            entry.producer_epoch = epoch;
            entry.partitions.clear();
            entry.started_ms = None;
            entry.timed_out_epoch = Some(meta.producer_epoch);
        }
    }

    /// `InitProducerId` with the producer's current id and epoch, as the Java client sends it to abort after
    /// an abortable error: the producer whose transaction timed out gets a bumped epoch; any other (one
    /// fenced by a newer producer) gets `PRODUCER_FENCED`.
    pub fn bump_epoch_after_timeout(
        &mut self,
        at: VirtualTime,
        tid: &str,
        producer_id: i64,
        epoch: i16,
    ) -> Result<i16, KafkaError> {
        self.advance_to(at);
        let meta = self
            .transactions
            .get_mut(tid)
            .ok_or_else(|| KafkaError::new(ErrorCode::InvalidProducerIdMapping))?;
        if meta.producer_id != producer_id || meta.timed_out_epoch != Some(epoch) {
            return Err(fenced());
        }
        meta.producer_epoch = meta.producer_epoch.wrapping_add(1);
        meta.timed_out_epoch = None;
        Ok(meta.producer_epoch)
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
        let now = self.now_ms();
        let meta = self.txn_meta(tid, producer_id, epoch)?;
        if meta.partitions.is_empty() {
            meta.started_ms = Some(now);
        }
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
        meta.started_ms = None;
        let parts: Vec<TopicPartition> = std::mem::take(&mut meta.partitions).into_iter().collect();
        self.write_txn_markers(at, producer_id, epoch, commit, &parts)
    }
}
