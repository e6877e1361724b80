//! The log cleaner (`cleanup.policy=compact`): keeps the latest record of each key.
//!
//! A pass cleans whole segments from the log start up to the first uncleanable offset — the active
//! segment's base, the last stable offset (the high watermark or the first open transaction) — when the
//! dirty part (segments at or after the cleaner checkpoint) is more than `min.cleanable.dirty.ratio` of the
//! cleanable bytes, as Kafka's `LogCleanerManager` chooses. It builds a map key → last offset from the
//! dirty segments, then rewrites every cleanable segment keeping a record only if no later record of its
//! key is in the map. Offsets are kept, so gaps appear. A tombstone (null value) survives the first pass
//! that keeps it and gets a delete horizon `delete.retention.ms` later on its batch (Kafka's v2 batches
//! store it the same way); a pass after the horizon drops it. The batches of aborted transactions (an abort
//! marker of the same producer at or after them) are dropped whole and play no part in the key map, as
//! Kafka's cleaner discards them; a `read_uncommitted` consumer no longer sees them. Control records (the
//! markers) are kept: Kafka removes a marker only passes later, once its transaction has no record left and
//! its own delete horizon passed, and no consumer sees markers either way. A segment left empty is dropped
//! (except the first); batches left empty are dropped.
//!
//! Invariant: the active segment is never rewritten, and the checkpoint only moves to segment boundaries.

use super::{Batch, Chunk, PartitionLog, Segment};
use crate::kafka::config::TopicConfig;
use crate::kafka::Offset;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a cleaning pass did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanResult {
    /// Records removed.
    pub records_removed: u64,
    /// The new cleaner checkpoint.
    pub cleaned_up_to: Offset,
}

impl PartitionLog {
    /// The first offset the cleaner may not touch (a segment boundary), and the dirty ratio below it.
    fn cleanable_range(&self) -> (usize, f64) {
        let uncleanable = self.last_stable_offset();
        // Whole segments wholly below the uncleanable offset, never the active one.
        let mut end = 0;
        while end + 1 < self.segments.len() && self.segment_end(end) <= uncleanable {
            end += 1;
        }
        let first_dirty = self.cleaner_checkpoint.max(self.log_start_offset);
        let (mut clean, mut dirty) = (0u64, 0u64);
        for s in &self.segments[..end] {
            if s.base_offset >= first_dirty {
                dirty += s.size_bytes;
            } else {
                clean += s.size_bytes;
            }
        }
        let ratio = if clean + dirty == 0 { 0.0 } else { dirty as f64 / (clean + dirty) as f64 };
        (if dirty == 0 { 0 } else { end }, ratio)
    }

    /// One cleaning pass at `now_ms`, if the topic compacts and the dirty ratio is above
    /// `min.cleanable.dirty.ratio`.
    pub fn clean(&mut self, now_ms: i64, config: &TopicConfig) -> Option<CleanResult> {
        if !config.cleanup_policy.compact {
            return None;
        }
        let (end, ratio) = self.cleanable_range();
        if end == 0 || ratio <= config.min_cleanable_dirty_ratio {
            return None;
        }
        let first_dirty = self.cleaner_checkpoint.max(self.log_start_offset);
        let aborted = |chunk: &Chunk, batch: &Batch| {
            batch.is_transactional()
                && !batch.is_control()
                && self.aborted.iter().any(|a| {
                    a.producer_id == chunk.producer_id(batch)
                        && a.first_offset <= batch.base_offset
                        && batch.base_offset <= a.last_offset
                })
        };
        // key → last offset in the dirty segments.
        let mut latest: BTreeMap<&[u8], Offset> = BTreeMap::new();
        for s in self.segments[..end].iter().filter(|s| s.base_offset >= first_dirty) {
            for (chunk, index, batch) in s.batches() {
                if batch.is_control() || aborted(chunk, batch) {
                    continue;
                }
                for &slot in chunk.slots_at(index) {
                    if let Some(key) = chunk.key_of(slot) {
                        latest.insert(key, batch.base_offset + i64::from(slot.offset_delta));
                    }
                }
            }
        }
        let mut removed = 0u64;
        let mut rebuilt: Vec<Segment> = Vec::with_capacity(end);
        for (index, s) in self.segments[..end].iter().enumerate() {
            let mut chunks: Vec<Arc<Chunk>> = Vec::new();
            let mut chunk = Chunk::default();
            for (old, bi, batch) in s.batches() {
                let slots = old.slots_at(bi);
                if aborted(old, batch) {
                    removed += slots.len() as u64;
                    continue;
                }
                let horizon = old.horizon(bi);
                let mut kept = Vec::new();
                let mut has_tombstone = false;
                for &slot in slots {
                    let offset = batch.base_offset + i64::from(slot.offset_delta);
                    if !batch.is_control() {
                        if let Some(key) = old.key_of(slot) {
                            if latest.get(key).is_some_and(|&last| last > offset) {
                                continue;
                            }
                        }
                        if old.is_tombstone(slot) {
                            if horizon.is_some_and(|h| now_ms >= h) {
                                continue;
                            }
                            has_tombstone = true;
                        }
                    }
                    kept.push(slot);
                }
                removed += (slots.len() - kept.len()) as u64;
                if kept.is_empty() {
                    continue;
                }
                if chunk.full() {
                    chunk.seal();
                    chunks.push(Arc::new(std::mem::take(&mut chunk)));
                }
                let records: Vec<super::StoredRecord> =
                    kept.iter().map(|&slot| old.decode(batch, slot)).collect();
                let base_ts = records[0].timestamp;
                let first_slot = chunk.slots.len() as u32;
                let mut size = super::BATCH_OVERHEAD as u64;
                for r in &records {
                    size += super::record_size(
                        r.offset - batch.base_offset,
                        r.timestamp.wrapping_sub(base_ts),
                        r.key.as_deref(),
                        r.value.as_deref(),
                        &r.headers,
                    ) as u64;
                    let stored = super::StoredRecordRef {
                        timestamp: r.timestamp,
                        key: r.key.as_deref(),
                        value: r.value.as_deref(),
                        headers: &r.headers,
                    };
                    chunk.encode(batch.base_offset, r.offset, &stored);
                }
                let producer = chunk.producer_index(old.producers.get(batch.producer as usize).copied());
                let new_index = chunk.batches.len() as u32;
                chunk.batches.push(Batch { first_slot, size_bytes: size as u32, producer, ..batch.clone() });
                // A tombstone kept for the first time gets its batch's horizon: delete.retention.ms from now.
                let horizon = horizon.or(has_tombstone.then_some(now_ms + config.delete_retention_ms));
                if let Some(h) = horizon {
                    chunk.horizons.push((new_index, h));
                }
            }
            if !chunk.batches.is_empty() {
                chunk.seal();
                chunks.push(Arc::new(chunk));
            }
            let mut segment = Segment {
                base_offset: s.base_offset,
                size_bytes: 0,
                created_ms: s.created_ms,
                max_timestamp: -1,
                rolling_timestamp: None,
                records: 0,
                chunks,
            };
            segment.recount();
            if segment.records == 0 && index > 0 {
                continue;
            }
            // Sealed chunks are checked once, here (PartitionLog::check looks only at their boundaries).
            debug_assert!(
                segment.chunks.iter().all(|c| c.check(None, s.base_offset, self.segment_end(index)).is_ok()),
                "a cleaned chunk keeps its order"
            );
            rebuilt.push(segment);
        }
        let cleaned_up_to = self.segment_end(end - 1);
        self.segments.splice(..end, rebuilt);
        self.cleaner_checkpoint = cleaned_up_to;
        Some(CleanResult { records_removed: removed, cleaned_up_to })
    }
}
