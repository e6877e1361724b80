//! One partition's log as its leader keeps it: record batches in segments, addressed by offset.
//!
//! Offsets: the log start offset (first readable), the high watermark (first offset not yet replicated to
//! the whole ISR; consumers read below it), the last stable offset (the high watermark or the first offset
//! of a transaction still open, if lower) and the log end offset (next offset to write).
//!
//! Invariants (checked by [`PartitionLog::check`]): `log_start ≤ high_watermark ≤ log_end`; offsets strictly
//! increase through segments, chunks, batches and records (dense except where compaction removed records:
//! gaps), every batch lies inside its segment's range and holds at least one record, no record is at or
//! past the log end; there is always an active segment, the last one, which retention never deletes while
//! active (it rolls a new one first) and the cleaner never rewrites. Only the active segment's last chunk
//! is ever appended to.
//!
//! Storage, sized for a small per-record overhead and cheap clones: a segment is a list of chunks shared by
//! `Arc`; a chunk holds 24-byte batch headers, one 8-byte slot per record (offset delta, position), a
//! table of the producers (id, epoch) its batches name, and one byte arena with each record's timestamp
//! (a delta from the chunk's first), key, value and headers, length-prefixed. Only the last chunk of the
//! active segment is written (copy on write when a clone shares it), and a chunk is sealed and shrunk when
//! it reaches 64 KiB or 256 records, so a `Clone` of a log copies at most one small chunk. Per record that
//! is the 8-byte slot and about 5 bytes of prefixes, plus a 24-byte header per batch: about 38 bytes for
//! a record alone in its batch, 16 in batches of ten (`tests/kafka_log.rs` measures it).
//!
//! Batch size, as Kafka counts it for `max.message.bytes` and `segment.bytes`: the v2 record batch on the
//! wire, 61 bytes of header plus each record's varint length and body (attributes, timestamp and offset
//! deltas as zigzag varints, key and value with varint lengths, -1 for null, and the headers), uncompressed.

pub mod compaction;

use crate::kafka::{
    ConsumerRecord, ErrorCode, Header, IsolationLevel, KafkaError, Offset, TimestampType, TopicPartition,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// The v2 record batch header's size on the wire.
pub const BATCH_OVERHEAD: usize = 61;
const CHUNK_BYTES: usize = 64 * 1024;
const CHUNK_RECORDS: usize = 256;
/// How many recent batches per producer the leader remembers to spot a retried duplicate (Kafka's 5).
pub const PRODUCER_BATCH_CACHE: usize = 5;

const TRANSACTIONAL: u8 = 1;
const CONTROL: u8 = 2;
const LOG_APPEND_TIME: u8 = 4;
const COMMIT: u8 = 8;

/// A record to append, as the producer serialized it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendRecord {
    /// The producer's timestamp (`CreateTime`).
    pub timestamp: i64,
    /// The key; `None` is null.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is null (a tombstone).
    pub value: Option<Vec<u8>>,
    /// Headers, in order.
    pub headers: Vec<Header>,
}

/// The idempotent or transactional producer's fields of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerBatch {
    /// The producer id.
    pub producer_id: i64,
    /// The producer epoch.
    pub producer_epoch: i16,
    /// The first record's sequence number.
    pub base_sequence: i32,
    /// Part of a transaction.
    pub transactional: bool,
}

#[inline]
fn zigzag_len(v: i64) -> usize {
    let u = ((v << 1) ^ (v >> 63)) as u64;
    // Seven bits per byte, at least one byte: the significant bits counted at once, no loop.
    let bits = 64 - (u | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

#[inline]
fn bytes_len(b: Option<&[u8]>) -> usize {
    match b {
        None => zigzag_len(-1),
        Some(b) => zigzag_len(b.len() as i64) + b.len(),
    }
}

/// The part of a record's size in a v2 batch that does not depend on its place there: the key, the
/// value and the headers as they are encoded (their count included). A producer computes it once per
/// record and adds the deltas with [`record_size_with_payload`].
#[inline]
pub fn record_payload_size(key: Option<&[u8]>, value: Option<&[u8]>, headers: &[Header]) -> usize {
    let mut size = bytes_len(key) + bytes_len(value) + zigzag_len(headers.len() as i64);
    for h in headers {
        size += bytes_len(Some(h.key.as_bytes())) + bytes_len(h.value.as_deref());
    }
    size
}

/// [`record_size`] from the record's [`record_payload_size`].
#[inline]
pub fn record_size_with_payload(offset_delta: i64, timestamp_delta: i64, payload: usize) -> usize {
    let body = 1 + zigzag_len(timestamp_delta) + zigzag_len(offset_delta) + payload;
    zigzag_len(body as i64) + body
}

/// The size of one record inside a v2 batch, its length prefix included.
pub fn record_size(
    offset_delta: i64,
    timestamp_delta: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[Header],
) -> usize {
    record_size_with_payload(offset_delta, timestamp_delta, record_payload_size(key, value, headers))
}

/// The Java producer's upper bound for a batch holding one record (`estimateSizeInBytesUpperBound`, what
/// `max.request.size` is checked against at `send`): the batch header, 21 bytes for the record's length,
/// attributes and deltas at their widest, then the key, value and headers as they are encoded.
pub fn record_batch_size_upper_bound(key: Option<&[u8]>, value: Option<&[u8]>, headers: &[Header]) -> usize {
    record_batch_size_upper_bound_with_payload(record_payload_size(key, value, headers))
}

/// [`record_batch_size_upper_bound`] from the record's [`record_payload_size`].
pub fn record_batch_size_upper_bound_with_payload(payload: usize) -> usize {
    BATCH_OVERHEAD + 21 + payload
}

/// The size of a batch of `records` on the wire (uncompressed v2), as Kafka compares it with
/// `max.message.bytes`.
pub fn batch_size(records: &[AppendRecord]) -> usize {
    let base = records.first().map_or(0, |r| r.timestamp);
    BATCH_OVERHEAD
        + records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                record_size(i as i64, r.timestamp - base, r.key.as_deref(), r.value.as_deref(), &r.headers)
            })
            .sum::<usize>()
}

/// A batch header as stored: 24 bytes. The producer id and epoch live in the chunk's table, the record
/// count is up to the next batch's first slot, timestamps are the records' own (as deltas from the chunk's
/// base), a delete horizon is in the chunk's sparse list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Batch {
    pub(crate) base_offset: Offset,
    /// The last offset minus the base (kept after compaction, as Kafka keeps a batch's last offset).
    pub(crate) last_offset_delta: u32,
    pub(crate) first_slot: u32,
    pub(crate) size_bytes: u32,
    /// Index into the chunk's producer table, [`NO_PRODUCER`] for none.
    pub(crate) producer: u16,
    pub(crate) flags: u8,
}

/// A batch without producer id.
pub(crate) const NO_PRODUCER: u16 = u16::MAX;

impl Batch {
    pub(crate) fn last_offset(&self) -> Offset {
        self.base_offset + i64::from(self.last_offset_delta)
    }
    pub(crate) fn is_control(&self) -> bool {
        self.flags & CONTROL != 0
    }
    pub(crate) fn is_transactional(&self) -> bool {
        self.flags & TRANSACTIONAL != 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Slot {
    pub(crate) offset_delta: u32,
    pub(crate) position: u32,
}

/// Batches with their records' slots and bytes; sealed chunks are never written again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Chunk {
    pub(crate) batches: Vec<Batch>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) data: Vec<u8>,
    /// Record timestamps are stored as deltas from this (the first record's).
    pub(crate) base_timestamp: i64,
    /// (producer id, epoch) of the batches that have one.
    pub(crate) producers: Vec<(i64, i16)>,
    /// (batch index, delete horizon) for batches the cleaner gave one, by index.
    pub(crate) horizons: Vec<(u32, i64)>,
}

#[inline]
fn put_varint(out: &mut Vec<u8>, mut u: u64) {
    // Most varints here (deltas, short lengths, header counts) are one byte.
    if u < 0x80 {
        out.push(u as u8);
        return;
    }
    let mut buf = [0u8; 10];
    let mut n = 0;
    while u >= 0x80 {
        buf[n] = (u as u8) | 0x80;
        u >>= 7;
        n += 1;
    }
    buf[n] = u as u8;
    out.extend_from_slice(&buf[..=n]);
}

#[inline]
fn get_varint(data: &[u8], pos: &mut usize) -> u64 {
    // The one-byte case first (see `put_varint`).
    if let Some(&b) = data.get(*pos) {
        if b < 0x80 {
            *pos += 1;
            return u64::from(b);
        }
    }
    let mut result = 0u64;
    let mut shift = 0;
    while let Some(&b) = data.get(*pos) {
        *pos += 1;
        result |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    result
}

#[inline]
fn put_bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        None => put_varint(out, 0),
        Some(b) => {
            put_varint(out, b.len() as u64 + 1);
            out.extend_from_slice(b);
        }
    }
}

#[inline]
fn get_bytes(data: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    let n = get_varint(data, pos);
    if n == 0 {
        return None;
    }
    let len = (n - 1) as usize;
    let start = (*pos).min(data.len());
    let end = (start + len).min(data.len());
    *pos = end;
    Some(data[start..end].to_vec())
}

/// A record read back from the log, with its batch's facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredRecord {
    pub(crate) offset: Offset,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) value: Option<Vec<u8>>,
    pub(crate) headers: Vec<Header>,
}

impl Chunk {
    fn first_offset(&self) -> Option<Offset> {
        self.batches.first().map(|b| b.base_offset)
    }

    /// The slots of batch `i`.
    pub(crate) fn slots_at(&self, i: usize) -> &[Slot] {
        let start = self.batches.get(i).map_or(0, |b| b.first_slot as usize);
        let end = self.batches.get(i + 1).map_or(self.slots.len(), |b| b.first_slot as usize);
        self.slots.get(start..end).unwrap_or(&[])
    }

    /// The producer id of a batch, -1 for none.
    pub(crate) fn producer_id(&self, batch: &Batch) -> i64 {
        self.producers.get(batch.producer as usize).map_or(-1, |p| p.0)
    }

    fn producer_index(&mut self, producer: Option<(i64, i16)>) -> u16 {
        let Some(p) = producer else { return NO_PRODUCER };
        if let Some(i) = self.producers.iter().position(|q| *q == p) {
            return i as u16;
        }
        // A chunk is sealed long before it could hold u16::MAX producers (at most 256 records).
        self.producers.push(p);
        (self.producers.len() - 1).min(usize::from(NO_PRODUCER - 1)) as u16
    }

    /// The delete horizon the cleaner gave batch `i`, if any.
    pub(crate) fn horizon(&self, i: usize) -> Option<i64> {
        self.horizons.binary_search_by_key(&(i as u32), |h| h.0).ok().map(|j| self.horizons[j].1)
    }

    fn encode(&mut self, batch_base: Offset, offset: Offset, r: &StoredRecordRef<'_>) {
        if self.slots.is_empty() {
            self.base_timestamp = r.timestamp;
        }
        let position = self.data.len() as u32;
        let delta = r.timestamp.wrapping_sub(self.base_timestamp);
        put_varint(&mut self.data, ((delta << 1) ^ (delta >> 63)) as u64);
        put_bytes(&mut self.data, r.key);
        put_bytes(&mut self.data, r.value);
        put_varint(&mut self.data, r.headers.len() as u64);
        for h in r.headers {
            put_bytes(&mut self.data, Some(h.key.as_bytes()));
            put_bytes(&mut self.data, h.value.as_deref());
        }
        self.slots.push(Slot { offset_delta: (offset - batch_base) as u32, position });
    }

    pub(crate) fn decode(&self, batch: &Batch, slot: Slot) -> StoredRecord {
        let mut pos = slot.position as usize;
        let zz = get_varint(&self.data, &mut pos);
        let delta = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
        let key = get_bytes(&self.data, &mut pos);
        let value = get_bytes(&self.data, &mut pos);
        let count = get_varint(&self.data, &mut pos) as usize;
        let mut headers = Vec::with_capacity(count.min(64));
        for _ in 0..count {
            let k = get_bytes(&self.data, &mut pos).unwrap_or_default();
            let v = get_bytes(&self.data, &mut pos);
            headers.push(Header { key: String::from_utf8_lossy(&k).into_owned(), value: v });
        }
        let timestamp = self.base_timestamp.wrapping_add(delta);
        StoredRecord {
            offset: batch.base_offset + i64::from(slot.offset_delta),
            timestamp,
            key,
            value,
            headers,
        }
    }

    /// The key of a record, without decoding the rest (the cleaner's offset map).
    pub(crate) fn key_of(&self, slot: Slot) -> Option<&[u8]> {
        let mut pos = slot.position as usize;
        get_varint(&self.data, &mut pos);
        let n = get_varint(&self.data, &mut pos);
        if n == 0 {
            return None;
        }
        let start = pos.min(self.data.len());
        Some(&self.data[start..(start + n as usize - 1).min(self.data.len())])
    }

    /// Whether a record's value is null (a tombstone).
    pub(crate) fn is_tombstone(&self, slot: Slot) -> bool {
        let mut pos = slot.position as usize;
        get_varint(&self.data, &mut pos);
        let n = get_varint(&self.data, &mut pos);
        if n > 0 {
            pos += n as usize - 1;
        }
        get_varint(&self.data, &mut pos) == 0
    }

    fn full(&self) -> bool {
        self.data.len() >= CHUNK_BYTES || self.slots.len() >= CHUNK_RECORDS
    }

    fn seal(&mut self) {
        self.batches.shrink_to_fit();
        self.slots.shrink_to_fit();
        self.data.shrink_to_fit();
    }
}

#[derive(Clone, Copy)]
struct StoredRecordRef<'a> {
    timestamp: i64,
    key: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
    headers: &'a [Header],
}

/// A segment: a contiguous range of offsets, rolled by size or age and deleted whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// The first offset this segment may hold.
    pub base_offset: Offset,
    /// Its size in bytes, as Kafka counts batches.
    pub size_bytes: u64,
    /// When it was created (ms of virtual time).
    pub created_ms: i64,
    /// The largest record timestamp in it (retention by time), -1 when empty.
    pub max_timestamp: i64,
    /// The first batch's largest timestamp: `segment.ms` counts from here.
    pub rolling_timestamp: Option<i64>,
    /// The number of records stored.
    pub records: u64,
    pub(crate) chunks: Vec<Arc<Chunk>>,
}

impl Segment {
    fn new(base_offset: Offset, now: i64) -> Self {
        Segment {
            base_offset,
            size_bytes: 0,
            created_ms: now,
            max_timestamp: -1,
            rolling_timestamp: None,
            records: 0,
            chunks: Vec::new(),
        }
    }

    fn seal(&mut self) {
        if let Some(last) = self.chunks.last_mut() {
            Arc::make_mut(last).seal();
        }
    }

    /// Recomputes the size, record count and timestamps from the chunks (after a truncation or a
    /// cleaning): the rolling timestamp is the first batch's largest.
    pub(crate) fn recount(&mut self) {
        let (mut size, mut records, mut max_ts, mut rolling) = (0u64, 0u64, -1i64, None);
        for (chunk, index, batch) in self.batches() {
            size += u64::from(batch.size_bytes);
            let slots = chunk.slots_at(index);
            records += slots.len() as u64;
            let batch_max = slots.iter().map(|&s| chunk.decode(batch, s).timestamp).max().unwrap_or(-1);
            max_ts = max_ts.max(batch_max);
            if rolling.is_none() {
                rolling = Some(batch_max);
            }
        }
        self.size_bytes = size;
        self.records = records;
        self.max_timestamp = max_ts;
        self.rolling_timestamp = rolling;
    }

    fn batches(&self) -> impl Iterator<Item = (&Chunk, usize, &Batch)> {
        self.chunks.iter().flat_map(|c| c.batches.iter().enumerate().map(move |(i, b)| (&**c, i, b)))
    }
}

/// An open transaction's or an aborted one's span in this partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbortedTxn {
    /// The producer.
    pub producer_id: i64,
    /// Its first offset in this partition.
    pub first_offset: Offset,
    /// The abort marker's offset.
    pub last_offset: Offset,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct ProducerEntry {
    epoch: i16,
    /// (first sequence, last sequence, base offset, last offset) of the latest batches.
    batches: VecDeque<(i32, i32, Offset, Offset)>,
}

/// What an append did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendInfo {
    /// The first offset of the batch.
    pub base_offset: Offset,
    /// Its last offset.
    pub last_offset: Offset,
    /// The timestamp the leader stamped (`LogAppendTime`), if it did.
    pub log_append_time: Option<i64>,
    /// The batch was a retry of one already written: nothing was appended, the offsets are the first write's.
    pub duplicate: bool,
    /// A new segment was rolled for it, starting here.
    pub rolled: Option<Offset>,
}

/// One partition's log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartitionLog {
    segments: Vec<Segment>,
    log_start_offset: Offset,
    log_end_offset: Offset,
    high_watermark: Offset,
    /// The cleaner has compacted everything below this offset (a segment boundary).
    cleaner_checkpoint: Offset,
    /// Open transactions: producer id → first offset here.
    ongoing: BTreeMap<i64, Offset>,
    aborted: Vec<AbortedTxn>,
    producers: BTreeMap<i64, ProducerEntry>,
}

impl PartitionLog {
    /// An empty log created at `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        PartitionLog {
            segments: vec![Segment::new(0, now_ms)],
            log_start_offset: 0,
            log_end_offset: 0,
            high_watermark: 0,
            cleaner_checkpoint: 0,
            ongoing: BTreeMap::new(),
            aborted: Vec::new(),
            producers: BTreeMap::new(),
        }
    }

    /// The first offset that can be read.
    pub fn log_start_offset(&self) -> Offset {
        self.log_start_offset
    }
    /// The next offset to be written.
    pub fn log_end_offset(&self) -> Offset {
        self.log_end_offset
    }
    /// The first offset not yet replicated to every in-sync replica.
    pub fn high_watermark(&self) -> Offset {
        self.high_watermark
    }
    /// The first offset a `read_committed` consumer may not read: the high watermark, or the first offset
    /// of the earliest open transaction if lower.
    pub fn last_stable_offset(&self) -> Offset {
        self.ongoing
            .values()
            .copied()
            .min()
            .map_or(self.high_watermark, |first| first.min(self.high_watermark))
    }
    /// The segments, oldest first; the last is the active one.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
    /// The offset the cleaner has compacted up to.
    pub fn cleaner_checkpoint(&self) -> Offset {
        self.cleaner_checkpoint
    }
    /// Total size of the segments in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.size_bytes).sum()
    }
    /// The heap bytes the stored records take: every segment's chunks (their batch headers, record slots
    /// and byte arenas, by capacity, with the `Arc` counters), the segment list, the transaction index.
    /// A chunk shared with a clone is counted whole. Producer state (a few entries per producer) is left out.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let mut total = self.segments.capacity() * size_of::<Segment>()
            + self.aborted.capacity() * size_of::<AbortedTxn>();
        for segment in &self.segments {
            total += segment.chunks.capacity() * size_of::<Arc<Chunk>>();
            for chunk in &segment.chunks {
                total += 2 * size_of::<usize>()
                    + size_of::<Chunk>()
                    + chunk.batches.capacity() * size_of::<Batch>()
                    + chunk.slots.capacity() * size_of::<Slot>()
                    + chunk.data.capacity();
            }
        }
        total
    }

    /// Aborted transactions still in the log.
    pub fn aborted_transactions(&self) -> &[AbortedTxn] {
        &self.aborted
    }

    /// Moves the high watermark (replication decides it); clamped to the log's range. Returns whether it
    /// moved forward.
    pub fn set_high_watermark(&mut self, hw: Offset) -> bool {
        let hw = hw.clamp(self.log_start_offset, self.log_end_offset);
        let advanced = hw > self.high_watermark;
        self.high_watermark = hw;
        advanced
    }

    fn producer_check(
        &self,
        tp: &TopicPartition,
        p: &ProducerBatch,
        count: i32,
    ) -> Result<Option<(Offset, Offset)>, KafkaError> {
        let last_seq = p.base_sequence.wrapping_add(count - 1);
        let Some(entry) = self.producers.get(&p.producer_id) else {
            if p.base_sequence != 0 {
                return Err(KafkaError::with_message(
                    ErrorCode::OutOfOrderSequenceNumber,
                    format!(
                        "Out of order sequence number for producer {} at offset {} in partition {tp}: {} (incoming seq. number), -1 (current end sequence number)",
                        p.producer_id, self.log_end_offset, p.base_sequence
                    ),
                ));
            }
            return Ok(None);
        };
        if p.producer_epoch < entry.epoch {
            // A transactional producer's old epoch (a newer producer, or the coordinator aborting its timed-out
            // transaction, wrote a marker with a higher one): Kafka 4.1's client reports the code's own text.
            if p.transactional {
                return Err(KafkaError::new(ErrorCode::InvalidProducerEpoch));
            }
            return Err(KafkaError::with_message(
                ErrorCode::InvalidProducerEpoch,
                format!(
                    "Epoch of producer {} at offset {} in {tp} is {}, which is smaller than the last seen epoch {}",
                    p.producer_id, self.log_end_offset, p.producer_epoch, entry.epoch
                ),
            ));
        }
        if p.producer_epoch > entry.epoch {
            if p.base_sequence != 0 {
                return Err(KafkaError::with_message(
                    ErrorCode::OutOfOrderSequenceNumber,
                    format!(
                        "Invalid sequence number for new epoch of producer {} at offset {} in partition {tp}: {} (request epoch), {} (seq. number), {} (current producer epoch)",
                        p.producer_id, self.log_end_offset, p.producer_epoch, p.base_sequence, entry.epoch
                    ),
                ));
            }
            return Ok(None);
        }
        if let Some(&(_, _, base, last)) =
            entry.batches.iter().find(|b| b.0 == p.base_sequence && b.1 == last_seq)
        {
            return Ok(Some((base, last)));
        }
        let current = entry.batches.back().map_or(-1, |b| b.1);
        let expected = if current == i32::MAX { 0 } else { current + 1 };
        if p.base_sequence != expected {
            return Err(KafkaError::with_message(
                ErrorCode::OutOfOrderSequenceNumber,
                format!(
                    "Out of order sequence number for producer {} at offset {} in partition {tp}: {} (incoming seq. number), {} (current end sequence number)",
                    p.producer_id, self.log_end_offset, p.base_sequence, current
                ),
            ));
        }
        Ok(None)
    }

    fn roll(&mut self, now_ms: i64) -> Offset {
        if let Some(active) = self.segments.last_mut() {
            active.seal();
        }
        self.segments.push(Segment::new(self.log_end_offset, now_ms));
        self.log_end_offset
    }

    /// Writes a batch of `records` (read twice: their largest timestamp, then their bytes), without
    /// collecting them first.
    fn append_batch<'r>(
        &mut self,
        now_ms: i64,
        size: usize,
        records: impl Iterator<Item = StoredRecordRef<'r>> + Clone,
        producer: Option<&ProducerBatch>,
        flags: u8,
        config: &crate::kafka::config::TopicConfig,
    ) -> (Offset, Offset, Option<Offset>) {
        let (segment_bytes, segment_ms) = (config.segment_bytes, config.segment_ms);
        let base_offset = self.log_end_offset;
        let max_ts = records.clone().map(|r| r.timestamp).max().unwrap_or(now_ms);
        let mut rolled = None;
        {
            let active = self.segments.last().expect("a log always has an active segment");
            let too_big = active.size_bytes + size as u64 > segment_bytes.max(0) as u64;
            let too_old = active.rolling_timestamp.is_some_and(|t| now_ms - t > segment_ms);
            if active.records > 0 && (too_big || too_old) {
                rolled = Some(self.roll(now_ms));
            }
        }
        let active = self.segments.last_mut().expect("a log always has an active segment");
        if active.chunks.last().is_none_or(|c| c.full()) {
            if let Some(last) = active.chunks.last_mut() {
                Arc::make_mut(last).seal();
            }
            active.chunks.push(Arc::new(Chunk::default()));
        }
        let chunk = Arc::make_mut(active.chunks.last_mut().expect("just ensured"));
        let first_slot = chunk.slots.len() as u32;
        let mut count = 0;
        for (i, r) in records.enumerate() {
            chunk.encode(base_offset, base_offset + i as i64, &r);
            count += 1;
        }
        let last_offset = base_offset + count - 1;
        let producer = chunk.producer_index(producer.map(|p| (p.producer_id, p.producer_epoch)));
        chunk.batches.push(Batch {
            base_offset,
            last_offset_delta: (last_offset - base_offset) as u32,
            first_slot,
            size_bytes: size as u32,
            producer,
            flags,
        });
        active.size_bytes += size as u64;
        active.records += count as u64;
        active.max_timestamp = active.max_timestamp.max(max_ts);
        if active.rolling_timestamp.is_none() {
            active.rolling_timestamp = Some(max_ts);
        }
        self.log_end_offset = last_offset + 1;
        (base_offset, last_offset, rolled)
    }

    /// Appends a producer's batch as the leader does: size and key checks, the producer's sequence (a
    /// retried batch already written is answered with its first write's offsets, not written again),
    /// `LogAppendTime` stamping, a roll when the active segment is full or old.
    pub fn append(
        &mut self,
        now_ms: i64,
        tp: &TopicPartition,
        config: &crate::kafka::config::TopicConfig,
        records: &[AppendRecord],
        producer: Option<&ProducerBatch>,
    ) -> Result<AppendInfo, KafkaError> {
        if records.is_empty() {
            return Err(KafkaError::new(ErrorCode::InvalidRecord));
        }
        let size = batch_size(records);
        if size > config.max_message_bytes.max(0) as usize {
            return Err(KafkaError::new(ErrorCode::MessageTooLarge));
        }
        if size > config.segment_bytes.max(0) as usize {
            return Err(KafkaError::with_message(
                ErrorCode::RecordListTooLarge,
                format!(
                    "Message batch size is {size} bytes in append to partition {tp} which exceeds the maximum configured segment size of {}.",
                    config.segment_bytes
                ),
            ));
        }
        if config.cleanup_policy.compact && records.iter().any(|r| r.key.is_none()) {
            return Err(KafkaError::with_message(
                ErrorCode::InvalidRecord,
                format!("Compacted topic cannot accept message without key in topic partition {tp}"),
            ));
        }
        if config.message_timestamp_type == TimestampType::CreateTime {
            // Kafka's LogValidator: the offset named is the record's within its batch.
            let low = now_ms.saturating_sub(config.message_timestamp_before_max_ms);
            let high = now_ms.saturating_add(config.message_timestamp_after_max_ms);
            if let Some((i, r)) =
                records.iter().enumerate().find(|(_, r)| r.timestamp < low || r.timestamp > high)
            {
                return Err(KafkaError::with_message(
                    ErrorCode::InvalidTimestamp,
                    format!(
                        "Timestamp {} of message with offset {i} is out of range. The timestamp should be within [{low}, {high}]",
                        r.timestamp
                    ),
                ));
            }
        }
        if let Some(p) = producer {
            if let Some((base, last)) = self.producer_check(tp, p, records.len() as i32)? {
                return Ok(AppendInfo {
                    base_offset: base,
                    last_offset: last,
                    log_append_time: None,
                    duplicate: true,
                    rolled: None,
                });
            }
        }
        let log_append = config.message_timestamp_type == TimestampType::LogAppendTime;
        let refs = records.iter().map(|r| StoredRecordRef {
            timestamp: if log_append { now_ms } else { r.timestamp },
            key: r.key.as_deref(),
            value: r.value.as_deref(),
            headers: &r.headers,
        });
        let mut flags = if log_append { LOG_APPEND_TIME } else { 0 };
        if producer.is_some_and(|p| p.transactional) {
            flags |= TRANSACTIONAL;
        }
        let (base, last, rolled) = self.append_batch(now_ms, size, refs, producer, flags, config);
        if let Some(p) = producer {
            let count = records.len() as i32;
            let entry = self
                .producers
                .entry(p.producer_id)
                .or_insert(ProducerEntry { epoch: p.producer_epoch, batches: VecDeque::new() });
            if entry.epoch != p.producer_epoch {
                entry.epoch = p.producer_epoch;
                entry.batches.clear();
            }
            entry.batches.push_back((p.base_sequence, p.base_sequence.wrapping_add(count - 1), base, last));
            if entry.batches.len() > PRODUCER_BATCH_CACHE {
                entry.batches.pop_front();
            }
            if p.transactional {
                self.ongoing.entry(p.producer_id).or_insert(base);
            }
        }
        Ok(AppendInfo {
            base_offset: base,
            last_offset: last,
            log_append_time: log_append.then_some(now_ms),
            duplicate: false,
            rolled,
        })
    }

    /// Writes a transaction marker (a control record) for `producer_id` and closes its transaction here.
    pub fn write_marker(
        &mut self,
        now_ms: i64,
        config: &crate::kafka::config::TopicConfig,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
    ) -> (Offset, Option<Offset>) {
        // A control record: key = version (2 bytes) + type (2 bytes), value = version + coordinator epoch.
        let key = [0u8, 0, 0, u8::from(commit)];
        let value = [0u8; 6];
        let size = BATCH_OVERHEAD + record_size(0, 0, Some(&key), Some(&value), &[]);
        let r = StoredRecordRef { timestamp: now_ms, key: Some(&key), value: Some(&value), headers: &[] };
        let p = ProducerBatch { producer_id, producer_epoch, base_sequence: -1, transactional: true };
        let flags = CONTROL | TRANSACTIONAL | if commit { COMMIT } else { 0 };
        let (offset, _, rolled) =
            self.append_batch(now_ms, size, std::iter::once(r), Some(&p), flags, config);
        // A marker with a newer epoch (a fencing or timed-out abort) makes the producer's older epoch stale here.
        if let Some(entry) = self.producers.get_mut(&producer_id) {
            if producer_epoch > entry.epoch {
                entry.epoch = producer_epoch;
                entry.batches.clear();
            }
        }
        if let Some(first) = self.ongoing.remove(&producer_id) {
            if !commit {
                self.aborted.push(AbortedTxn { producer_id, first_offset: first, last_offset: offset });
            }
        }
        (offset, rolled)
    }

    /// Whether `producer_id` has an open transaction in this partition.
    pub fn has_open_transaction(&self, producer_id: i64) -> bool {
        self.ongoing.contains_key(&producer_id)
    }

    fn segment_index(&self, offset: Offset) -> usize {
        self.segments.partition_point(|s| s.base_offset <= offset).saturating_sub(1)
    }

    /// Records from `from` up to (not including) `upper`, at most `max_records`, as a consumer sees them:
    /// control records never, and with `read_committed` no record of an aborted transaction.
    pub fn read(
        &self,
        tp: &TopicPartition,
        from: Offset,
        upper: Offset,
        max_records: usize,
        isolation: IsolationLevel,
    ) -> Vec<ConsumerRecord> {
        if from >= upper || max_records == 0 {
            return Vec::new();
        }
        // Room for every record that can come back, up to `max_records` (offsets may have gaps: fewer).
        let mut out =
            Vec::with_capacity(max_records.min(usize::try_from(upper - from).unwrap_or(usize::MAX)));
        let log_append = |b: &Batch| {
            if b.flags & LOG_APPEND_TIME != 0 {
                TimestampType::LogAppendTime
            } else {
                TimestampType::CreateTime
            }
        };
        for segment in &self.segments[self.segment_index(from)..] {
            for chunk in &segment.chunks[first_chunk_reaching(&segment.chunks, from)..] {
                if chunk.batches.last().is_none_or(|b| b.last_offset() < from) {
                    continue;
                }
                let first_batch = chunk.batches.partition_point(|b| b.last_offset() < from);
                for (index, batch) in chunk.batches.iter().enumerate().skip(first_batch) {
                    if batch.base_offset >= upper {
                        return out;
                    }
                    if batch.is_control() {
                        continue;
                    }
                    if isolation == IsolationLevel::ReadCommitted
                        && batch.is_transactional()
                        && self.aborted.iter().any(|a| {
                            a.producer_id == chunk.producer_id(batch)
                                && a.first_offset <= batch.base_offset
                                && batch.base_offset <= a.last_offset
                        })
                    {
                        continue;
                    }
                    for &slot in chunk.slots_at(index) {
                        let offset = batch.base_offset + i64::from(slot.offset_delta);
                        if offset < from {
                            continue;
                        }
                        if offset >= upper {
                            return out;
                        }
                        let r = chunk.decode(batch, slot);
                        out.push(ConsumerRecord {
                            partition: tp.clone(),
                            offset: r.offset,
                            timestamp: r.timestamp,
                            timestamp_type: log_append(batch),
                            key: r.key,
                            value: r.value,
                            headers: r.headers,
                        });
                        if out.len() >= max_records {
                            return out;
                        }
                    }
                }
            }
        }
        out
    }

    /// The earliest offset below `upper` whose record's timestamp is at or after `timestamp`
    /// (`offsetsForTimes`), skipping control records.
    pub fn offset_for_timestamp(&self, timestamp: i64, upper: Offset) -> Option<Offset> {
        for segment in &self.segments {
            if segment.max_timestamp < timestamp {
                continue;
            }
            for (chunk, index, batch) in segment.batches() {
                if batch.base_offset >= upper {
                    return None;
                }
                if batch.is_control() {
                    continue;
                }
                for &slot in chunk.slots_at(index) {
                    let r = chunk.decode(batch, slot);
                    if r.offset >= upper {
                        return None;
                    }
                    if r.offset >= self.log_start_offset && r.timestamp >= timestamp {
                        return Some(r.offset);
                    }
                }
            }
        }
        None
    }

    /// `deleteRecords`: moves the log start offset up to `offset` (-1: the high watermark). Segments wholly
    /// below it go at the next retention check, as in Kafka. `OFFSET_OUT_OF_RANGE` beyond the high watermark.
    pub fn delete_records_before(&mut self, offset: Offset) -> Result<Offset, KafkaError> {
        let target = if offset == -1 { self.high_watermark } else { offset };
        if target > self.high_watermark || target < 0 {
            return Err(KafkaError::new(ErrorCode::OffsetOutOfRange));
        }
        if target > self.log_start_offset {
            self.log_start_offset = target;
            self.cleaner_checkpoint = self.cleaner_checkpoint.max(target);
        }
        Ok(self.log_start_offset)
    }

    fn segment_end(&self, index: usize) -> Offset {
        self.segments.get(index + 1).map_or(self.log_end_offset, |s| s.base_offset)
    }

    /// Retention as Kafka's log manager applies it every `log.retention.check.interval.ms`: whole segments
    /// past `retention.ms` (by their largest timestamp) or over `retention.bytes` (oldest first), when the
    /// policy includes `delete`, and segments wholly below the log start offset in any case. Only segments
    /// wholly below the high watermark go; when the active one must go a new one is rolled first, so the
    /// active segment is never deleted. Returns `(segments deleted, reason)` per rule that deleted some.
    pub fn apply_retention(
        &mut self,
        now_ms: i64,
        config: &crate::kafka::config::TopicConfig,
    ) -> Vec<(u32, &'static str, Offset)> {
        let mut out = Vec::new();
        if config.cleanup_policy.delete {
            if config.retention_ms >= 0 {
                let n = self.delete_while(now_ms, |s, _| now_ms - s.max_timestamp > config.retention_ms);
                if n > 0 {
                    out.push((n, "retention.ms", self.log_start_offset));
                }
            }
            if config.retention_bytes >= 0 {
                let mut diff = self.size_bytes() as i64 - config.retention_bytes;
                let n = self.delete_while(now_ms, |s, _| {
                    if diff - s.size_bytes as i64 >= 0 {
                        diff -= s.size_bytes as i64;
                        true
                    } else {
                        false
                    }
                });
                if n > 0 {
                    out.push((n, "retention.bytes", self.log_start_offset));
                }
            }
        }
        let start = self.log_start_offset;
        let n = self.delete_while(now_ms, |_, next_base| next_base.is_some_and(|b| b <= start));
        if n > 0 {
            out.push((n, "log-start-offset", self.log_start_offset));
        }
        self.aborted.retain(|a| a.last_offset >= self.log_start_offset);
        out
    }

    /// Deletes segments from the oldest while `predicate(segment, next segment's base)` holds and the
    /// segment lies wholly below the high watermark.
    fn delete_while(
        &mut self,
        now_ms: i64,
        mut predicate: impl FnMut(&Segment, Option<Offset>) -> bool,
    ) -> u32 {
        let mut count = 0usize;
        while count < self.segments.len() {
            let segment = &self.segments[count];
            let next = self.segments.get(count + 1).map(|s| s.base_offset);
            let last_and_empty = next.is_none() && segment.size_bytes == 0;
            if self.high_watermark >= self.segment_end(count) && !last_and_empty && predicate(segment, next) {
                count += 1;
            } else {
                break;
            }
        }
        if count == 0 {
            return 0;
        }
        if count == self.segments.len() {
            self.roll(now_ms);
        }
        self.segments.drain(..count);
        let first_base = self.segments[0].base_offset;
        if first_base > self.log_start_offset {
            self.log_start_offset = first_base;
        }
        self.high_watermark = self.high_watermark.max(self.log_start_offset);
        self.cleaner_checkpoint = self.cleaner_checkpoint.max(self.log_start_offset);
        count as u32
    }

    /// Cuts the log back to `end` (a batch boundary: a follower that becomes leader has whole batches), as
    /// a replica does when the new leader's log is shorter. Returns the number of offsets removed.
    pub fn truncate_to(&mut self, end: Offset) -> u64 {
        if end >= self.log_end_offset {
            return 0;
        }
        let end = end.max(self.log_start_offset);
        let removed = (self.log_end_offset - end) as u64;
        while self.segments.len() > 1 && self.segments.last().is_some_and(|s| s.base_offset >= end) {
            self.segments.pop();
        }
        let segment = self.segments.last_mut().expect("a log always has a segment");
        if segment.base_offset > end {
            segment.base_offset = end;
        }
        let mut kept = Vec::new();
        for chunk in &segment.chunks {
            if chunk.first_offset().is_some_and(|f| f >= end) {
                break;
            }
            if chunk.batches.last().is_some_and(|b| b.last_offset() >= end) {
                let mut c = (**chunk).clone();
                let keep = c.batches.partition_point(|b| b.last_offset() < end);
                let slots = c.batches.get(keep).map_or(c.slots.len(), |b| b.first_slot as usize);
                c.batches.truncate(keep);
                c.slots.truncate(slots);
                c.horizons.retain(|h| (h.0 as usize) < keep);
                // The arena keeps the removed records' bytes until the chunk is sealed; no slot points there.
                kept.push(Arc::new(c));
                break;
            }
            kept.push(chunk.clone());
        }
        segment.chunks = kept;
        segment.recount();
        let active_base = segment.base_offset;
        self.log_end_offset = end;
        self.high_watermark = self.high_watermark.min(end);
        self.cleaner_checkpoint = self.cleaner_checkpoint.min(active_base);
        self.ongoing.retain(|_, first| *first < end);
        self.aborted.retain(|a| a.last_offset < end);
        for entry in self.producers.values_mut() {
            entry.batches.retain(|b| b.3 < end);
        }
        self.producers.retain(|_, e| !e.batches.is_empty());
        removed
    }

    /// Checks the invariants in the module doc; the message names the first one broken. Cheap enough
    /// for every step of a long run: sealed chunks never change (compaction checks the chunks it builds,
    /// truncation only shortens), so they are checked at their boundaries and the open chunk in full.
    pub fn check(&self) -> Result<(), String> {
        self.check_with(false)
    }

    /// [`check`](Self::check), every chunk in full and every segment's byte and record counts summed.
    pub fn check_full(&self) -> Result<(), String> {
        self.check_with(true)
    }

    fn check_with(&self, full: bool) -> Result<(), String> {
        if !(self.log_start_offset <= self.high_watermark && self.high_watermark <= self.log_end_offset) {
            return Err(format!(
                "offsets out of order: log start {} high watermark {} log end {}",
                self.log_start_offset, self.high_watermark, self.log_end_offset
            ));
        }
        if self.segments.is_empty() {
            return Err("no active segment".into());
        }
        let mut last: Option<Offset> = None;
        let last_segment = self.segments.len() - 1;
        for (i, segment) in self.segments.iter().enumerate() {
            let end = self.segment_end(i);
            if segment.base_offset > end {
                return Err(format!("segment {} starts after its end {end}", segment.base_offset));
            }
            for (ci, chunk) in segment.chunks.iter().enumerate() {
                let open = i == last_segment && ci + 1 == segment.chunks.len();
                if full || open {
                    last = chunk.check(last, segment.base_offset, end)?;
                } else if let (Some(first), Some(final_batch)) = (chunk.batches.first(), chunk.batches.last())
                {
                    let first_offset = first.base_offset
                        + chunk.slots.get(first.first_slot as usize).map_or(0, |s| i64::from(s.offset_delta));
                    if last.is_some_and(|l| first_offset <= l)
                        || first.base_offset < segment.base_offset
                        || final_batch.last_offset() >= end
                    {
                        return Err(format!(
                            "chunk {first_offset}..{} out of order or outside its segment {}..{end} (previous {last:?})",
                            final_batch.last_offset(), segment.base_offset
                        ));
                    }
                    last = chunk
                        .slots
                        .last()
                        .map(|s| final_batch.base_offset + i64::from(s.offset_delta))
                        .or(last);
                }
            }
            if full {
                let size: u64 = segment.batches().map(|(_, _, b)| u64::from(b.size_bytes)).sum();
                let records: u64 = segment.chunks.iter().map(|c| c.slots.len() as u64).sum();
                if size != segment.size_bytes || records != segment.records {
                    return Err(format!(
                        "segment {} counts {} bytes {} records, holds {size} and {records}",
                        segment.base_offset, segment.size_bytes, segment.records
                    ));
                }
            }
        }
        if last.is_some_and(|l| l >= self.log_end_offset) {
            return Err(format!("record {last:?} at or past the log end {}", self.log_end_offset));
        }
        Ok(())
    }
}

/// The index of the first chunk holding a batch that ends at or after `from` (the chunks before it can be
/// skipped), found by bisection rather than a walk from the segment's start. Offsets increase through
/// non-empty chunks; an empty chunk (none is kept today) would break the bisection's order, so the
/// answer steps back over empty chunks and ones that still reach `from` until a non-empty chunk wholly
/// below `from`, which every earlier non-empty chunk then is too.
fn first_chunk_reaching(chunks: &[Arc<Chunk>], from: Offset) -> usize {
    let below = |c: &Arc<Chunk>| c.batches.last().is_some_and(|b| b.last_offset() < from);
    let mut i = chunks.partition_point(below);
    while i > 0 && !below(&chunks[i - 1]) {
        i -= 1;
    }
    i
}

impl Chunk {
    /// Every batch inside `[segment_base, segment_end)`, every offset above `previous` and increasing.
    /// Returns the last offset seen.
    pub(crate) fn check(
        &self,
        mut previous: Option<Offset>,
        segment_base: Offset,
        segment_end: Offset,
    ) -> Result<Option<Offset>, String> {
        for (index, batch) in self.batches.iter().enumerate() {
            if batch.base_offset < segment_base || batch.last_offset() >= segment_end {
                return Err(format!(
                    "batch {}..{} outside its segment {segment_base}..{segment_end}",
                    batch.base_offset,
                    batch.last_offset()
                ));
            }
            let end = self.batches.get(index + 1).map_or(self.slots.len(), |b| b.first_slot as usize);
            let Some(slots) = self.slots.get(batch.first_slot as usize..end).filter(|s| !s.is_empty()) else {
                return Err(format!("batch {} has no records in its chunk", batch.base_offset));
            };
            for slot in slots {
                let offset = batch.base_offset + i64::from(slot.offset_delta);
                if previous.is_some_and(|l| offset <= l) || offset > batch.last_offset() {
                    return Err(format!("offset {offset} out of order (previous {previous:?})"));
                }
                previous = Some(offset);
            }
        }
        Ok(previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_size_is_kafkas_v2_size() {
        // From the real broker (tests/kafka/admin_probe.golden): with max.message.bytes=100, key "k" and a
        // 31-byte value fit (61 + 39 = 100 bytes), 32 bytes do not.
        let rec = |n: usize| AppendRecord {
            timestamp: 1000,
            key: Some(b"k".to_vec()),
            value: Some(vec![0; n]),
            headers: vec![],
        };
        assert_eq!(batch_size(&[rec(31)]), 100);
        assert_eq!(batch_size(&[rec(32)]), 101);
    }
}
