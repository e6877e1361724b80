//! The Java producer's default partitioning: murmur2 of the serialized key for keyed records, the
//! built-in sticky partitioner for records without a key (KIP-480/KIP-794), an explicit partition as given.
//!
//! - Keyed: `toPositive(murmur2(key)) % partitions`, murmur2 being Kafka's variant (seed `0x9747b28c`);
//!   `toPositive(n) = n & 0x7fffffff`.
//! - Null key: the producer sticks to one partition until it has appended `batch.size` bytes to it, then
//!   draws the next one at random among the partitions that have a leader (all partitions when none has),
//!   `toPositive(random int) % n` as `BuiltInPartitioner` does. The random ints come from the seeded
//!   [`Prng`]. The adaptive part of KIP-794 (`partitioner.adaptive.partitioning.enable`, on by default)
//!   weights the draw by the partitions' queue sizes: [`PartitionLoadStats`] gives partition `i` the
//!   frequency `max + 1 - queue[i]` and picks with `toPositive(random) % sum` in the cumulative table; with
//!   fewer than two partitions or all queues equal the draw is uniform. The producer does not feed it queue
//!   sizes yet, so it draws uniformly (nor is `partitioner.availability.timeout.ms` modelled). Wiring it as
//!   Kafka 4.1's `RecordAccumulator.partitionReady` does needs three things the producer does not keep:
//!   the stats are a snapshot taken in the sender's `ready()` pass (not at the draw), over the deques'
//!   sizes — batches not yet drained, where `KafkaProducer::queues` also holds batches in flight — and
//!   only once the accumulator has held a deque for every partition of the topic (before that, uniform).
//!   Taking the queues at the draw instead would change which partition null-keyed records go to in the
//!   engine's goldens wherever queues differ at a draw, with nothing recorded from Kafka to check it
//!   against (a real producer's draws are random), so it is left out rather than approximated.

use crate::Prng;
use serde::{Deserialize, Serialize};

/// Kafka's murmur2 (`Utils.murmur2`), as a signed 32-bit value.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len();
    let mut h: u32 = SEED ^ (length as u32);
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// `Utils.toPositive`.
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition of a keyed record among `partitions`.
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    to_positive(murmur2(key)) % partitions.max(1)
}

/// KIP-794's partition load statistics for one topic: the cumulative frequency table built from the
/// queue sizes of its available partitions (`BuiltInPartitioner.updatePartitionLoadStats`).
///
/// Invariant: `cumulative_frequency` is strictly increasing, positive and as long as `partition_ids`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionLoadStats {
    cumulative_frequency: Vec<i32>,
    partition_ids: Vec<i32>,
}

impl PartitionLoadStats {
    /// The statistics for `queue_sizes[i]` batches queued for partition `partition_ids[i]`; `None` (draw
    /// uniformly) for fewer than two partitions, all queues equal, or mismatched lengths.
    pub fn new(queue_sizes: &[i32], partition_ids: &[i32]) -> Option<Self> {
        if queue_sizes.len() < 2 || queue_sizes.len() != partition_ids.len() {
            return None;
        }
        let max = *queue_sizes.iter().max()?;
        if queue_sizes.iter().all(|&q| q == max) {
            return None;
        }
        // The shortest queue gets the highest weight; the longest still gets 1.
        let mut sum = 0i32;
        let cumulative_frequency = queue_sizes
            .iter()
            .map(|&q| {
                sum = sum.saturating_add(max.saturating_add(1).saturating_sub(q.max(0)).max(1));
                sum
            })
            .collect();
        Some(PartitionLoadStats { cumulative_frequency, partition_ids: partition_ids.to_vec() })
    }

    /// The sum of the weights: a draw is `toPositive(random) % range_end()`.
    pub fn range_end(&self) -> i32 {
        *self.cumulative_frequency.last().expect("at least two partitions")
    }

    /// The partition a random int picks: the first whose cumulative frequency exceeds the weighted draw.
    pub fn pick(&self, random: i32) -> i32 {
        let weighted = to_positive(random) % self.range_end();
        let index = self.cumulative_frequency.partition_point(|&c| c <= weighted);
        self.partition_ids[index]
    }
}

/// The sticky partitioner's state for one topic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickyPartitioner {
    current: Option<i32>,
    produced_bytes: usize,
}

impl StickyPartitioner {
    /// The partition a record without key goes to now; `available` are the partitions with a leader.
    pub fn partition(&mut self, partitions: i32, available: &[i32], prng: &mut Prng) -> i32 {
        self.partition_with(partitions, || available.to_vec(), prng)
    }

    /// [`partition`](Self::partition) with the available partitions listed only if a new partition is drawn
    /// (most records go to the current one, and listing them is a walk over the topic's partitions).
    pub fn partition_with(
        &mut self,
        partitions: i32,
        available: impl FnOnce() -> Vec<i32>,
        prng: &mut Prng,
    ) -> i32 {
        if let Some(p) = self.current {
            if p < partitions {
                return p;
            }
        }
        self.partition_adaptive(partitions, available, None, || prng.next_u64() as u32 as i32)
    }

    /// The sticky partition, a new one drawn when there is none: weighted by `load` when given (KIP-794's
    /// adaptive partitioning), else uniformly among the `available` partitions (all when none is), with
    /// `random` as `BuiltInPartitioner`'s random ints.
    pub fn partition_adaptive(
        &mut self,
        partitions: i32,
        available: impl FnOnce() -> Vec<i32>,
        load: Option<&PartitionLoadStats>,
        mut random: impl FnMut() -> i32,
    ) -> i32 {
        if let Some(p) = self.current {
            if p < partitions {
                return p;
            }
        }
        let p = match load {
            Some(stats) => stats.pick(random()),
            None => {
                let r = to_positive(random());
                let available = available();
                if available.is_empty() {
                    r % partitions.max(1)
                } else {
                    available[(r as usize) % available.len()]
                }
            }
        };
        self.current = Some(p);
        self.produced_bytes = 0;
        p
    }

    /// Counts `bytes` appended to the sticky partition; after `batch_size` bytes the next record without
    /// a key goes to a newly drawn partition.
    pub fn record_appended(&mut self, bytes: usize, batch_size: usize) {
        self.produced_bytes += bytes;
        if self.produced_bytes >= batch_size.max(1) {
            self.current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn murmur2_matches_kafkas_utils_test_vectors() {
        // From Kafka's UtilsTest.testMurmur2 (/work/shared/spec/kafka.md).
        let cases: &[(&str, i32)] = &[
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            ("abc", 479_470_107),
        ];
        for (input, want) in cases {
            assert_eq!(murmur2(input.as_bytes()), *want, "murmur2({input:?})");
        }
    }

    #[test]
    fn keys_map_as_to_positive_modulo() {
        // toPositive(-790332482) = 1357151166; % 3 = 0 ("foobar"); toPositive(479470107) % 7 = 479470107 % 7.
        assert_eq!(partition_for_key(b"foobar", 3), 1_357_151_166 % 3);
        assert_eq!(to_positive(-1), 0x7fff_ffff);
    }

    #[test]
    fn the_sticky_partitioner_switches_after_batch_size_bytes() {
        let mut prng = Prng::new(5);
        let mut s = StickyPartitioner::default();
        let first = s.partition(4, &[0, 1, 2, 3], &mut prng);
        s.record_appended(100, 250);
        s.record_appended(100, 250);
        assert_eq!(s.partition(4, &[0, 1, 2, 3], &mut prng), first, "200 < 250 bytes: same partition");
        s.record_appended(100, 250);
        assert!(s.current.is_none(), "300 ≥ 250: the next record draws again");
    }

    /// Kafka's random ints replaced by 0, 1, 2, … as Kafka's BuiltInPartitionerTest replaces them.
    fn sequential() -> impl FnMut() -> i32 {
        let mut n = -1;
        move || {
            n += 1;
            n
        }
    }

    #[test]
    fn sticky_partitioning_switches_after_the_sticky_batch_size_as_in_kafkas_test() {
        // BuiltInPartitionerTest.testStickyPartitioning: a sticky batch size of 3 one-byte records over
        // topicA's partitions 0-2, then topicB's single partition.
        let mut random = sequential();
        let mut a = StickyPartitioner::default();
        let first = a.partition_adaptive(3, || vec![0, 1, 2], None, &mut random);
        for _ in 0..3 {
            assert_eq!(a.partition_adaptive(3, || vec![0, 1, 2], None, &mut random), first);
            a.record_appended(1, 3);
        }
        assert_ne!(a.partition_adaptive(3, || vec![0, 1, 2], None, &mut random), first);
        let mut b = StickyPartitioner::default();
        for _ in 0..10 {
            assert_eq!(b.partition_adaptive(1, || vec![0], None, &mut random), 0);
            b.record_appended(1, 1);
        }
    }

    #[test]
    fn unavailable_partitions_are_never_drawn_unless_none_is_available_as_in_kafkas_test() {
        // BuiltInPartitionerTest.unavailablePartitionsTest: topicA's partition 1, topicB's 0 and topicC's
        // only partition have no leader; the sticky batch size is one record.
        let mut prng = Prng::new(7);
        let mut a = StickyPartitioner::default();
        let mut seen = BTreeSet::new();
        for _ in 0..101 {
            let p = a.partition(3, &[0, 2], &mut prng);
            assert_ne!(p, 1);
            seen.insert(p);
            a.record_appended(1, 1);
        }
        assert_eq!(seen.len(), 2, "another partition than the first was drawn");
        let mut b = StickyPartitioner::default();
        for _ in 0..101 {
            assert_eq!(b.partition(2, &[1], &mut prng), 1);
            b.record_appended(1, 1);
        }
        let mut c = StickyPartitioner::default();
        assert_eq!(c.partition(1, &[], &mut prng), 0);
        c.record_appended(1, 1);
        assert_eq!(c.partition(1, &[], &mut prng), 0);
    }

    #[test]
    fn adaptive_partitioning_draws_partitions_reciprocally_to_their_queue_sizes_as_in_kafkas_test() {
        // BuiltInPartitionerTest.adaptivePartitionsTest: queue sizes {5, 0, 3, 0, 1}; over two cycles of
        // the table's range with sequential random ints, partition i is drawn 2 × (6 − queue[i]) times.
        let queues = [5, 0, 3, 0, 1];
        let ids = [0, 1, 2, 3, 4];
        let stats = PartitionLoadStats::new(&queues, &ids).expect("queues differ");
        assert_eq!(stats.range_end(), 21);
        let mut random = sequential();
        let mut s = StickyPartitioner::default();
        let mut frequencies = [0; 5];
        for _ in 0..stats.range_end() * 2 {
            let p = s.partition_adaptive(5, || ids.to_vec(), Some(&stats), &mut random);
            frequencies[p as usize] += 1;
            s.record_appended(1, 1);
        }
        assert_eq!(frequencies, [2, 12, 6, 12, 10]);
    }

    #[test]
    fn equal_queues_or_a_single_partition_give_no_load_stats() {
        assert_eq!(PartitionLoadStats::new(&[2, 2, 2], &[0, 1, 2]), None);
        assert_eq!(PartitionLoadStats::new(&[4], &[0]), None);
        assert_eq!(PartitionLoadStats::new(&[1, 0], &[0]), None);
        // Partition ids need not be 0..n: the picked id is the table's.
        let stats = PartitionLoadStats::new(&[0, 1], &[3, 7]).unwrap();
        assert_eq!((stats.pick(0), stats.pick(1), stats.pick(2)), (3, 3, 7));
    }
}
