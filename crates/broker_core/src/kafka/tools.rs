//! The rules of Kafka's command-line tools, written once for everything that emulates them: the program
//! runner's `kafka-consumer-groups` ([`program`](super::program)) and the Kafka page's forms. The callers
//! gather the facts (the group's state, each partition's log start and end, the committed offsets) their
//! own way — the runner through client calls, the page from the run — and ask here what the tool decides.
//!
//! Invariants:
//! - [`reset_offsets`] is a pure function of its inputs: it names every partition it was given, once, in
//!   the order given, and each new offset lies within that partition's `[earliest, latest]` (Kafka 4.1.1's
//!   `ConsumerGroupCommand`: `--to-offset` and `--shift-by` are clamped with a warning, `--to-earliest`,
//!   `--to-latest` and `--to-datetime` come from the log itself).
//! - A refusal is the tool's own text ([`ResetError`]'s `Display`), taken from the kafka-tools 4.1.1 jar.

use super::types::TopicPartition;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How `kafka-consumer-groups --reset-offsets` picks the new offsets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetSpec {
    /// `--to-earliest`: the log start offset.
    ToEarliest,
    /// `--to-latest`: the log end offset (the high watermark, as `ListOffsets` answers a consumer).
    ToLatest,
    /// `--to-datetime`: the first offset whose timestamp is at or after this instant (ms since the
    /// epoch); the log end where there is none.
    ToDatetime(i64),
    /// `--to-offset N`.
    ToOffset(i64),
    /// `--shift-by N`: the committed offset plus N.
    ShiftBy(i64),
}

/// What the tool learns about one partition before it decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionFacts {
    pub partition: TopicPartition,
    /// `ListOffsets` with `OffsetSpec.earliest()`.
    pub earliest: i64,
    /// `ListOffsets` with `OffsetSpec.latest()`.
    pub latest: i64,
    /// The group's committed offset, if any.
    pub committed: Option<i64>,
    /// `ListOffsets` with `OffsetSpec.forTimestamp(ms)` for [`ResetSpec::ToDatetime`]; `None` where no
    /// record is that late (or for the other specs, which do not ask).
    pub for_datetime: Option<i64>,
}

/// One partition's new offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOffset {
    pub partition: TopicPartition,
    pub offset: i64,
    /// The tool's warning when the asked offset lay outside the log and was moved to its edge (it logs
    /// it at WARN; it is not part of the tool's table).
    pub warning: Option<String>,
}

/// Why the tool refuses to reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResetError {
    /// The group has members (any state but `Empty` or `Dead`).
    GroupNotInactive { group: String, state: String },
    /// `--shift-by` on a partition the group has no committed offset for (an `IllegalArgumentException`,
    /// which the tool prints before its usage).
    NoCommittedOffset { partition: TopicPartition },
}

impl fmt::Display for ResetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResetError::GroupNotInactive { group, state } => write!(
                f,
                "Assignments can only be reset if the group '{group}' is inactive, but the current state is {state}."
            ),
            ResetError::NoCommittedOffset { partition } => write!(
                f,
                "Cannot shift offset for partition {}-{} since there is no current committed offset",
                partition.topic, partition.partition
            ),
        }
    }
}

/// The tool's first check, before it lists any offset: only an `Empty` group, or one the coordinator does
/// not know (`Dead`), is reset (`state` as `describeConsumerGroups` names it).
pub fn check_inactive(group: &str, state: &str) -> Result<(), ResetError> {
    if state == "Empty" || state == "Dead" {
        Ok(())
    } else {
        Err(ResetError::GroupNotInactive { group: group.to_string(), state: state.to_string() })
    }
}

/// `kafka-consumer-groups --reset-offsets`: the new offset of each of `partitions` for `group` in
/// `state`, or the tool's refusal.
pub fn reset_offsets(
    group: &str,
    state: &str,
    partitions: &[PartitionFacts],
    spec: &ResetSpec,
) -> Result<Vec<NewOffset>, ResetError> {
    check_inactive(group, state)?;
    partitions
        .iter()
        .map(|p| {
            let exact = |offset| NewOffset { partition: p.partition.clone(), offset, warning: None };
            Ok(match spec {
                ResetSpec::ToEarliest => exact(p.earliest),
                ResetSpec::ToLatest => exact(p.latest),
                ResetSpec::ToDatetime(_) => exact(p.for_datetime.unwrap_or(p.latest)),
                ResetSpec::ToOffset(n) => clamped(p, *n),
                ResetSpec::ShiftBy(n) => match p.committed {
                    Some(c) => clamped(p, c.saturating_add(*n)),
                    None => return Err(ResetError::NoCommittedOffset { partition: p.partition.clone() }),
                },
            })
        })
        .collect()
}

/// `checkOffsetsRange`: an offset past the log end goes to the end, one before the log start to the
/// start, each with the tool's warning.
fn clamped(p: &PartitionFacts, asked: i64) -> NewOffset {
    let tp = format!("{}-{}", p.partition.topic, p.partition.partition);
    let (offset, warning) = if asked > p.latest {
        let w = format!(
            "New offset ({asked}) is higher than latest offset for topic partition {tp}. Value will be set to {}",
            p.latest
        );
        (p.latest, Some(w))
    } else if asked < p.earliest {
        let w = format!(
            "New offset ({asked}) is lower than earliest offset for topic partition {tp}. Value will be set to {}",
            p.earliest
        );
        (p.earliest, Some(w))
    } else {
        (asked, None)
    };
    NewOffset { partition: p.partition.clone(), offset, warning }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(partition: i32, earliest: i64, latest: i64, committed: Option<i64>) -> PartitionFacts {
        PartitionFacts {
            partition: TopicPartition::new("clicks", partition),
            earliest,
            latest,
            committed,
            for_datetime: None,
        }
    }

    fn offsets(r: Result<Vec<NewOffset>, ResetError>) -> Vec<i64> {
        r.unwrap().iter().map(|o| o.offset).collect()
    }

    #[test]
    fn only_an_empty_or_unknown_group_is_reset() {
        let ps = [facts(0, 0, 3, Some(3))];
        let e = reset_offsets("analytics", "Stable", &ps, &ResetSpec::ToEarliest).unwrap_err();
        // tests/scenarios/kafka/reset-offsets, line 22, as Kafka 4.1.1's tool printed it.
        assert_eq!(
            e.to_string(),
            "Assignments can only be reset if the group 'analytics' is inactive, but the current state is Stable."
        );
        for state in ["PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling"] {
            assert!(reset_offsets("g", state, &ps, &ResetSpec::ToEarliest).is_err(), "{state}");
        }
        assert_eq!(offsets(reset_offsets("g", "Empty", &ps, &ResetSpec::ToEarliest)), [0]);
        assert_eq!(offsets(reset_offsets("g", "Dead", &ps, &ResetSpec::ToLatest)), [3]);
    }

    #[test]
    fn shift_and_to_offset_are_clamped_to_the_log_with_the_tools_warning() {
        // The golden tests/scenarios/kafka/reset-offsets: clicks-0 holds 0..3, clicks-1 holds 0..1.
        let ps = [facts(0, 0, 3, Some(3)), facts(1, 0, 1, Some(1))];
        assert_eq!(offsets(reset_offsets("analytics", "Empty", &ps, &ResetSpec::ShiftBy(-2))), [1, 0]);
        let r = reset_offsets("analytics", "Empty", &ps, &ResetSpec::ToOffset(99)).unwrap();
        assert_eq!(r.iter().map(|o| o.offset).collect::<Vec<_>>(), [3, 1]);
        assert_eq!(
            r[0].warning.as_deref(),
            Some("New offset (99) is higher than latest offset for topic partition clicks-0. Value will be set to 3")
        );
        let ps = [facts(0, 4, 10, Some(5))];
        let r = reset_offsets("g", "Empty", &ps, &ResetSpec::ShiftBy(-3)).unwrap();
        assert_eq!(r[0].offset, 4);
        assert_eq!(
            r[0].warning.as_deref(),
            Some("New offset (2) is lower than earliest offset for topic partition clicks-0. Value will be set to 4")
        );
        assert_eq!(offsets(reset_offsets("g", "Empty", &ps, &ResetSpec::ShiftBy(i64::MAX))), [10]);
    }

    #[test]
    fn shift_needs_a_committed_offset_and_datetime_falls_back_to_the_end() {
        let ps = [facts(0, 0, 10, Some(2)), facts(1, 0, 5, None)];
        let e = reset_offsets("g", "Empty", &ps, &ResetSpec::ShiftBy(1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Cannot shift offset for partition clicks-1 since there is no current committed offset"
        );
        let mut ps = ps.to_vec();
        ps[0].for_datetime = Some(7);
        assert_eq!(offsets(reset_offsets("g", "Empty", &ps, &ResetSpec::ToDatetime(1_000))), [7, 5]);
    }
}
