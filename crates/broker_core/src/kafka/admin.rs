//! What the controller checks and decides when topics are created: Kafka 4.1's topic name rules and its
//! replica placement (the KRaft controller's striped, rack-aware placer).
//!
//! Placement follows `StripedReplicaPlacer`'s behaviour: brokers are grouped by rack (racks sorted, no-rack
//! first), each rack's live brokers sorted and started at a random offset, the rack list started at a
//! random offset; each partition takes its leader from the next rack with a live broker, then one replica
//! from each following rack in turn (down brokers only when a rack has no live one left this round); after
//! as many partitions as there are live brokers the racks and brokers are shuffled. Randomness comes from
//! the caller's seeded [`Prng`], so a seed fixes the placement (a real controller's `Random` does not).

use crate::kafka::{ErrorCode, KafkaError, NodeId};
use crate::Prng;

/// The longest topic name Kafka accepts.
pub const MAX_NAME_LENGTH: usize = 249;

/// Kafka's topic name rules (`Topic.validate`), with the Java client's message for an empty name.
pub fn validate_topic_name(name: &str) -> Result<(), KafkaError> {
    let invalid = |m: String| Err(KafkaError::with_message(ErrorCode::InvalidTopicException, m));
    if name.is_empty() {
        return invalid(format!("The given topic name '{name}' cannot be represented in a request."));
    }
    if name == "." || name == ".." {
        return invalid(format!("Topic name is invalid: '{name}' is not allowed"));
    }
    if name.len() > MAX_NAME_LENGTH {
        return invalid(format!(
            "Topic name is invalid: the length of '{name}' is longer than the max allowed length {MAX_NAME_LENGTH}"
        ));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-') {
        return invalid(format!(
            "Topic name is invalid: '{name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    Ok(())
}

/// Two names that differ only by '.' versus '_' collide in Kafka's metric names, so Kafka refuses the
/// second one.
pub fn collision_key(name: &str) -> String {
    name.replace('.', "_")
}

/// A broker as the placer sees it.
#[derive(Clone, Debug)]
pub struct UsableBroker {
    /// Its id.
    pub id: NodeId,
    /// Its rack.
    pub rack: Option<String>,
    /// Down (fenced): used only when a rack has no live broker left in a round.
    pub fenced: bool,
}

/// The random numbers placement draws: `java.util.Random.nextInt(bound)` in Kafka.
pub trait PlacementRandom {
    /// A uniform integer in `0..bound` (`bound > 0`).
    fn next_int(&mut self, bound: i32) -> i32;
}

impl PlacementRandom for Prng {
    fn next_int(&mut self, bound: i32) -> i32 {
        self.below(bound.max(1) as u64) as i32
    }
}

#[derive(Clone, Debug, Default)]
struct BrokerList {
    brokers: Vec<i32>,
    index: usize,
    offset: usize,
    epoch: u64,
}

impl BrokerList {
    fn initialize(&mut self, prng: &mut impl PlacementRandom) {
        if !self.brokers.is_empty() {
            self.brokers.sort_unstable();
            self.offset = prng.next_int(self.brokers.len() as i32) as usize;
        }
    }

    fn shuffle(&mut self, prng: &mut impl PlacementRandom) {
        shuffle(&mut self.brokers, prng);
    }

    fn next(&mut self, epoch: u64) -> Option<i32> {
        if self.brokers.is_empty() {
            return None;
        }
        if self.epoch != epoch {
            self.epoch = epoch;
            self.index = 0;
            self.offset = (self.offset + 1) % self.brokers.len();
        }
        if self.index >= self.brokers.len() {
            return None;
        }
        let broker = self.brokers[(self.index + self.offset) % self.brokers.len()];
        self.index += 1;
        Some(broker)
    }
}

/// `Collections.shuffle(list, random)`.
fn shuffle<T>(items: &mut [T], prng: &mut impl PlacementRandom) {
    for i in (2..=items.len()).rev() {
        let j = prng.next_int(i as i32) as usize;
        items.swap(i - 1, j);
    }
}

/// Java's `String.hashCode` (UTF-16 code units), and `Optional.hashCode` (0 when empty).
fn java_hash(rack: &Option<String>) -> i32 {
    rack.as_ref()
        .map_or(0, |s| s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c))))
}

/// The order a `HashMap` with the default capacity (16 buckets: at most 9 racks never resize it)
/// iterates `racks` inserted in this order: by bucket, then by insertion.
fn java_hashmap_order(racks: &[Option<String>]) -> Vec<usize> {
    let bucket = |r: &Option<String>| {
        let h = java_hash(r);
        ((h ^ ((h as u32) >> 16) as i32) & 15) as usize
    };
    let mut order: Vec<usize> = (0..racks.len()).collect();
    order.sort_by_key(|&i| bucket(&racks[i]));
    order
}

#[derive(Clone, Debug, Default)]
struct Rack {
    fenced: BrokerList,
    unfenced: BrokerList,
}

/// Places the replicas of `partitions` new partitions, `replication_factor` each, on `brokers`.
/// Errors are Kafka's `INVALID_REPLICATION_FACTOR` with the controller's message.
pub fn place_replicas(
    brokers: &[UsableBroker],
    partitions: i32,
    replication_factor: i32,
    prng: &mut impl PlacementRandom,
) -> Result<Vec<Vec<NodeId>>, KafkaError> {
    let total = brokers.len();
    let unfenced_count = brokers.iter().filter(|b| !b.fenced).count();
    let fail = |why: String| {
        Err(KafkaError::with_message(
            ErrorCode::InvalidReplicationFactor,
            format!("Unable to replicate the partition {replication_factor} time(s): {why}"),
        ))
    };
    // The rack list is built (and draws its random offsets) before anything is validated, as in Kafka.
    let mut insertion: Vec<Option<String>> = Vec::new();
    for b in brokers {
        if !insertion.contains(&b.rack) {
            insertion.push(b.rack.clone());
        }
    }
    let mut racks: Vec<Rack> = vec![Rack::default(); insertion.len()];
    for b in brokers {
        let i = insertion.iter().position(|r| *r == b.rack).unwrap_or(0);
        if b.fenced {
            racks[i].fenced.brokers.push(b.id.0);
        } else {
            racks[i].unfenced.brokers.push(b.id.0);
        }
    }
    for &i in &java_hashmap_order(&insertion) {
        racks[i].fenced.initialize(prng);
        racks[i].unfenced.initialize(prng);
    }
    // Racks sorted by name, the absent rack first; `order` maps a position to a rack and is what the
    // shuffles reorder.
    let mut order: Vec<usize> = (0..insertion.len()).collect();
    order.sort_by(|&a, &b| insertion[a].cmp(&insertion[b]));
    let mut offset = if order.is_empty() { 0 } else { prng.next_int(order.len() as i32) as usize };
    if replication_factor <= 0 {
        return Err(KafkaError::with_message(
            ErrorCode::InvalidReplicationFactor,
            format!(
                "Invalid replication factor {replication_factor}: the replication factor must be positive."
            ),
        ));
    }
    if unfenced_count == 0 {
        return fail("All brokers are currently fenced.".into());
    }
    if replication_factor as usize > total {
        return fail(format!(
            "The target replication factor of {replication_factor} cannot be reached because only {total} broker(s) are registered."
        ));
    }
    let hash_order = java_hashmap_order(&insertion);
    let mut epoch: u64 = 0;
    let rf = replication_factor as usize;
    let mut placements = Vec::with_capacity(partitions.max(0) as usize);
    for _ in 0..partitions {
        if epoch == unfenced_count as u64 && unfenced_count > 1 {
            shuffle(&mut order, prng);
            for &i in &hash_order {
                racks[i].fenced.shuffle(prng);
                racks[i].unfenced.shuffle(prng);
            }
            epoch = 0;
        }
        if offset == order.len() {
            offset = 0;
        }
        let mut replicas = Vec::with_capacity(rf);
        let mut first = offset;
        loop {
            if let Some(b) = racks[order[first]].unfenced.next(epoch) {
                replicas.push(NodeId(b));
                break;
            }
            first = (first + 1) % order.len();
        }
        let mut first_rack: Option<usize> = Some(first);
        let mut rack_index = offset;
        for _ in 1..rf {
            loop {
                let mut got = None;
                if first_rack == Some(rack_index) {
                    first_rack = None;
                } else {
                    let rack = &mut racks[order[rack_index]];
                    got = rack.unfenced.next(epoch).or_else(|| rack.fenced.next(epoch));
                }
                rack_index = (rack_index + 1) % order.len();
                if let Some(b) = got {
                    replicas.push(NodeId(b));
                    break;
                }
            }
        }
        epoch += 1;
        offset += 1;
        placements.push(replicas);
    }
    Ok(placements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brokers(spec: &[(i32, Option<&str>)]) -> Vec<UsableBroker> {
        spec.iter()
            .map(|&(id, rack)| UsableBroker { id: NodeId(id), rack: rack.map(String::from), fenced: false })
            .collect()
    }

    #[test]
    fn every_partition_gets_distinct_replicas_spread_over_racks() {
        let bs = brokers(&[
            (1, Some("a")),
            (2, Some("a")),
            (3, Some("b")),
            (4, Some("b")),
            (5, Some("c")),
            (6, Some("c")),
        ]);
        for seed in 0..50 {
            let mut prng = Prng::new(seed);
            let placed = place_replicas(&bs, 12, 3, &mut prng).unwrap();
            for replicas in &placed {
                let mut ids: Vec<i32> = replicas.iter().map(|n| n.0).collect();
                ids.sort_unstable();
                ids.dedup();
                assert_eq!(ids.len(), 3, "{replicas:?}");
                let mut racks: Vec<&Option<String>> =
                    replicas.iter().map(|r| &bs.iter().find(|b| b.id == *r).unwrap().rack).collect();
                racks.sort();
                racks.dedup();
                assert_eq!(racks.len(), 3, "one replica per rack: {replicas:?}");
            }
            // Leaders are spread: each live broker leads 2 of the 12 partitions.
            for b in &bs {
                assert_eq!(placed.iter().filter(|r| r[0] == b.id).count(), 2);
            }
        }
    }

    #[test]
    fn too_few_brokers_is_kafkas_error() {
        let bs = brokers(&[(1, None)]);
        let e = place_replicas(&bs, 3, 2, &mut Prng::new(1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "InvalidReplicationFactorException: Unable to replicate the partition 2 time(s): The target replication factor of 2 cannot be reached because only 1 broker(s) are registered."
        );
    }
}

#[cfg(test)]
mod kafka_placer_tests {
    //! `StripedReplicaPlacerTest`'s cases (Apache Kafka, metadata module), driven by its `MockRandom`.
    use super::*;

    /// Kafka's test `MockRandom`: `java.util.Random` with a fixed linear congruential step.
    struct MockRandom {
        state: i64,
    }

    impl MockRandom {
        fn new() -> Self {
            MockRandom { state: 17 }
        }
        fn next(&mut self, bits: u32) -> i32 {
            self.state = self.state.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(3_037_000_493);
            ((self.state as u64) >> (64 - bits)) as i32
        }
    }

    impl PlacementRandom for MockRandom {
        // java.util.Random.nextInt(bound).
        fn next_int(&mut self, bound: i32) -> i32 {
            let mut r = self.next(31);
            let m = bound - 1;
            if bound & m == 0 {
                return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
            }
            let mut u = r;
            loop {
                r = u % bound;
                if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                    return r;
                }
                u = self.next(31);
            }
        }
    }

    fn brokers(spec: &[(i32, Option<&str>, bool)]) -> Vec<UsableBroker> {
        spec.iter()
            .map(|&(id, rack, fenced)| UsableBroker { id: NodeId(id), rack: rack.map(String::from), fenced })
            .collect()
    }

    fn ids(placed: Vec<Vec<NodeId>>) -> Vec<Vec<i32>> {
        placed.into_iter().map(|r| r.into_iter().map(|n| n.0).collect()).collect()
    }

    #[test]
    fn avoid_fenced_replica_if_possible_on_single_rack() {
        let bs = brokers(&[
            (3, None, false),
            (1, None, true),
            (0, None, false),
            (4, None, false),
            (2, None, false),
        ]);
        let got = ids(place_replicas(&bs, 5, 4, &mut MockRandom::new()).unwrap());
        assert_eq!(
            got,
            vec![vec![3, 4, 0, 2], vec![4, 0, 2, 3], vec![0, 2, 3, 4], vec![2, 3, 4, 0], vec![0, 4, 3, 2]]
        );
    }

    #[test]
    fn placement_on_fenced_replica_on_single_rack() {
        let bs = brokers(&[(3, None, false), (1, None, true), (2, None, false)]);
        let got = ids(place_replicas(&bs, 4, 3, &mut MockRandom::new()).unwrap());
        assert_eq!(got, vec![vec![3, 2, 1], vec![2, 3, 1], vec![3, 2, 1], vec![2, 3, 1]]);
    }

    #[test]
    fn rack_list_with_multiple_racks() {
        let bs = brokers(&[
            (11, Some("1"), false),
            (10, Some("1"), false),
            (30, Some("3"), false),
            (31, Some("3"), false),
            (21, Some("2"), false),
            (20, Some("2"), true),
        ]);
        let got = ids(place_replicas(&bs, 3, 4, &mut MockRandom::new()).unwrap());
        assert_eq!(got, vec![vec![11, 21, 31, 10], vec![21, 30, 10, 20], vec![31, 11, 21, 30]]);
    }

    #[test]
    fn rack_list_with_invalid_racks() {
        let bs = brokers(&[
            (11, Some("1"), false),
            (10, Some("1"), false),
            (30, Some("3"), true),
            (31, Some("3"), true),
            (20, Some("2"), true),
            (21, Some("2"), true),
            (41, Some("4"), false),
            (40, Some("4"), true),
        ]);
        let got = ids(place_replicas(&bs, 3, 4, &mut MockRandom::new()).unwrap());
        assert_eq!(got, vec![vec![41, 11, 21, 30], vec![10, 20, 31, 41], vec![41, 21, 30, 11]]);
    }

    #[test]
    fn successful_placement() {
        let bs = brokers(&[(0, None, false), (3, None, false), (2, None, false), (1, None, false)]);
        let got = ids(place_replicas(&bs, 5, 3, &mut MockRandom::new()).unwrap());
        assert_eq!(got, vec![vec![2, 3, 0], vec![3, 0, 1], vec![0, 1, 2], vec![1, 2, 3], vec![1, 0, 2]]);
    }

    #[test]
    fn even_distribution() {
        let bs = brokers(&[(0, None, false), (1, None, false), (2, None, false), (3, None, false)]);
        let got = ids(place_replicas(&bs, 200, 2, &mut MockRandom::new()).unwrap());
        let count = |a: i32, b: i32| got.iter().filter(|r| **r == [a, b]).count();
        let want = [
            ((0, 1), 14),
            ((0, 2), 22),
            ((0, 3), 14),
            ((1, 0), 17),
            ((1, 2), 17),
            ((1, 3), 16),
            ((2, 0), 13),
            ((2, 1), 17),
            ((2, 3), 20),
            ((3, 0), 20),
            ((3, 1), 19),
            ((3, 2), 11),
        ];
        for ((a, b), n) in want {
            assert_eq!(count(a, b), n, "[{a}, {b}]");
        }
    }

    #[test]
    fn errors_are_the_placers() {
        let fenced = brokers(&[(11, Some("1"), true), (10, Some("1"), true)]);
        let e = place_replicas(&fenced, 1, 1, &mut MockRandom::new()).unwrap_err();
        assert!(e.message.ends_with("All brokers are currently fenced."));
        let two = brokers(&[(11, Some("1"), false), (10, Some("1"), false)]);
        let e = place_replicas(&two, 1, 3, &mut MockRandom::new()).unwrap_err();
        assert!(e.message.ends_with(
            "The target replication factor of 3 cannot be reached because only 2 broker(s) are registered."
        ));
        let e = place_replicas(&two, 1, 0, &mut MockRandom::new()).unwrap_err();
        assert_eq!(e.message, "Invalid replication factor 0: the replication factor must be positive.");
    }
}
