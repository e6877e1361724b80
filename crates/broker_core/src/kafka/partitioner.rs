//! The Java producer's default partitioning: murmur2 of the serialized key for keyed records, the
//! built-in sticky partitioner for records without a key (KIP-480/KIP-794), an explicit partition as given.
//!
//! - Keyed: `toPositive(murmur2(key)) % partitions`, murmur2 being Kafka's variant (seed `0x9747b28c`);
//!   `toPositive(n) = n & 0x7fffffff`.
//! - Null key: the producer sticks to one partition until it has appended `batch.size` bytes to it, then
//!   draws the next one at random among the partitions that have a leader (all partitions when none has),
//!   `toPositive(random int) % n` as `BuiltInPartitioner` does. The random ints come from the seeded
//!   [`Prng`]. The adaptive part of KIP-794 (weighting by queue sizes) applies only when the queues differ;
//!   the model's queues are drained every time a batch is ready, so it draws uniformly (documented gap).

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
        let p = Self::next(partitions, &available(), prng);
        self.current = Some(p);
        self.produced_bytes = 0;
        p
    }

    fn next(partitions: i32, available: &[i32], prng: &mut Prng) -> i32 {
        let random = to_positive(prng.next_u64() as u32 as i32);
        if available.is_empty() {
            random % partitions.max(1)
        } else {
            available[(random as usize) % available.len()]
        }
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
}
