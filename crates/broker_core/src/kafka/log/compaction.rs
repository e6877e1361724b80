//! The log cleaner (`cleanup.policy=compact`): keeps the latest record of each key.
//!
//! A pass cleans whole segments from the log start up to the first uncleanable offset — the active
//! segment's base, the last stable offset (the high watermark or the first open transaction) — when the
//! dirty part (segments at or after the cleaner checkpoint) is more than `min.cleanable.dirty.ratio` of the
//! cleanable bytes, as Kafka's `LogCleanerManager` chooses. It builds a map key → last offset from the
//! dirty segments, then rewrites every cleanable segment keeping a record only if no later record of its
//! key is in the map. Offsets are kept, so gaps appear. A tombstone (null value) survives the first pass
//! that keeps it and gets a delete horizon `delete.retention.ms` later on its batch (Kafka's v2 batches
//! store it the same way); a pass after the horizon drops it. Control records are kept; a segment left
//! empty is dropped (except the first); batches left empty are dropped.
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
        // key → last offset in the dirty segments.
        let mut latest: BTreeMap<&[u8], Offset> = BTreeMap::new();
        for s in self.segments[..end].iter().filter(|s| s.base_offset >= first_dirty) {
            for (chunk, batch) in s.batches() {
                if batch.is_control() {
                    continue;
                }
                for &slot in
                    &chunk.slots[batch.first_slot as usize..(batch.first_slot + batch.slot_count) as usize]
                {
                    if let Some(key) = chunk.key_of(slot) {
                        latest.insert(key, batch.base_offset + i64::from(slot.offset_delta));
                    }
                }
            }
        }
        let mut removed = 0u64;
        let mut rebuilt: Vec<Segment> = Vec::with_capacity(end);
        for (index, s) in self.segments[..end].iter().enumerate() {
            let mut chunk = Chunk::default();
            let mut size = 0u64;
            let mut records = 0u64;
            let mut max_ts = -1;
            let mut rolling = None;
            for (old, batch) in s.batches() {
                let slots =
                    &old.slots[batch.first_slot as usize..(batch.first_slot + batch.slot_count) as usize];
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
                            if batch.delete_horizon.is_some_and(|h| now_ms >= h) {
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
                let first_slot = chunk.slots.len() as u32;
                let mut new_size = super::BATCH_OVERHEAD as u64;
                for slot in &kept {
                    let r = old.decode(batch, *slot);
                    new_size += super::record_size(
                        r.offset - batch.base_offset,
                        r.timestamp - batch.base_timestamp,
                        r.key.as_deref(),
                        r.value.as_deref(),
                        &r.headers,
                    ) as u64;
                    let position = chunk.data.len() as u32;
                    let bytes = record_bytes(old, *slot);
                    chunk.data.extend_from_slice(bytes);
                    chunk.slots.push(super::Slot { offset_delta: slot.offset_delta, position });
                }
                let horizon =
                    batch.delete_horizon.or(has_tombstone.then_some(now_ms + config.delete_retention_ms));
                chunk.batches.push(Batch {
                    first_slot,
                    slot_count: kept.len() as u32,
                    size_bytes: new_size as u32,
                    delete_horizon: horizon,
                    ..batch.clone()
                });
                size += new_size;
                records += kept.len() as u64;
                max_ts = max_ts.max(batch.max_timestamp);
                if rolling.is_none() {
                    rolling = Some(batch.max_timestamp);
                }
            }
            if records == 0 && index > 0 {
                continue;
            }
            chunk.batches.shrink_to_fit();
            chunk.slots.shrink_to_fit();
            chunk.data.shrink_to_fit();
            rebuilt.push(Segment {
                base_offset: s.base_offset,
                size_bytes: size,
                created_ms: s.created_ms,
                max_timestamp: max_ts,
                rolling_timestamp: rolling,
                records,
                chunks: if records == 0 { Vec::new() } else { vec![Arc::new(chunk)] },
            });
        }
        let cleaned_up_to = self.segment_end(end - 1);
        self.segments.splice(..end, rebuilt);
        self.cleaner_checkpoint = cleaned_up_to;
        Some(CleanResult { records_removed: removed, cleaned_up_to })
    }
}

/// A stored record's encoded bytes (timestamp delta, key, value, headers) in its chunk's arena.
fn record_bytes(chunk: &Chunk, slot: super::Slot) -> &[u8] {
    let start = slot.position as usize;
    let mut pos = start;
    super::get_varint(&chunk.data, &mut pos);
    for _ in 0..2 {
        let n = super::get_varint(&chunk.data, &mut pos);
        if n > 0 {
            pos += n as usize - 1;
        }
    }
    let headers = super::get_varint(&chunk.data, &mut pos);
    for _ in 0..headers {
        for _ in 0..2 {
            let n = super::get_varint(&chunk.data, &mut pos);
            if n > 0 {
                pos += n as usize - 1;
            }
        }
    }
    &chunk.data[start..pos.min(chunk.data.len())]
}
