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

#[derive(Clone, Debug, Default)]
struct BrokerList {
    brokers: Vec<i32>,
    index: usize,
    offset: usize,
    epoch: u64,
}

impl BrokerList {
    fn initialize(&mut self, prng: &mut Prng) {
        if !self.brokers.is_empty() {
            self.brokers.sort_unstable();
            self.offset = prng.below(self.brokers.len() as u64) as usize;
        }
    }

    fn shuffle(&mut self, prng: &mut Prng) {
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

fn shuffle<T>(items: &mut [T], prng: &mut Prng) {
    for i in (1..items.len()).rev() {
        let j = prng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
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
    prng: &mut Prng,
) -> Result<Vec<Vec<NodeId>>, KafkaError> {
    let total = brokers.len();
    let unfenced_count = brokers.iter().filter(|b| !b.fenced).count();
    let fail = |why: String| {
        Err(KafkaError::with_message(
            ErrorCode::InvalidReplicationFactor,
            format!("Unable to replicate the partition {replication_factor} time(s): {why}"),
        ))
    };
    if unfenced_count == 0 {
        return fail("All brokers are currently fenced.".into());
    }
    if replication_factor as usize > total {
        return fail(format!(
            "The target replication factor of {replication_factor} cannot be reached because only {total} broker(s) are registered."
        ));
    }
    // Racks sorted, the absent rack first.
    let mut rack_names: Vec<Option<String>> = Vec::new();
    for b in brokers {
        if !rack_names.contains(&b.rack) {
            rack_names.push(b.rack.clone());
        }
    }
    rack_names.sort();
    let mut racks: Vec<Rack> = vec![Rack::default(); rack_names.len()];
    for b in brokers {
        let i = rack_names.iter().position(|r| *r == b.rack).unwrap_or(0);
        if b.fenced {
            racks[i].fenced.brokers.push(b.id.0);
        } else {
            racks[i].unfenced.brokers.push(b.id.0);
        }
    }
    for rack in racks.iter_mut() {
        rack.fenced.initialize(prng);
        rack.unfenced.initialize(prng);
    }
    // Racks are addressed through `order`, a permutation the shuffles reorder.
    let mut order: Vec<usize> = (0..racks.len()).collect();
    let mut offset = prng.below(order.len() as u64) as usize;
    let mut epoch: u64 = 0;
    let rf = replication_factor as usize;
    let mut placements = Vec::with_capacity(partitions.max(0) as usize);
    for _ in 0..partitions {
        if epoch == unfenced_count as u64 && unfenced_count > 1 {
            shuffle(&mut order, prng);
            for rack in racks.iter_mut() {
                rack.fenced.shuffle(prng);
                rack.unfenced.shuffle(prng);
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
