//! Virtual time and the deadline queue every model schedules its timers on.
//!
//! # Invariants
//! - Virtual time is a count of milliseconds since the start of a run; it only moves when the caller says.
//! - Deadlines fire in `(due, seq)` order: equal deadlines fire in the order they were set.
//! - Advancing across an idle stretch costs nothing: time jumps from deadline to deadline, never by ticks.

use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

/// A point on the virtual clock, in milliseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VirtualTime(pub u64);

impl VirtualTime {
    pub const ZERO: VirtualTime = VirtualTime(0);
    /// Later than any deadline a run can reach; used as "never".
    pub const NEVER: VirtualTime = VirtualTime(u64::MAX);

    pub fn from_millis(millis: u64) -> Self {
        VirtualTime(millis)
    }

    pub fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + millis`, saturating at [`VirtualTime::NEVER`].
    pub fn plus_millis(self, millis: u64) -> Self {
        VirtualTime(self.0.saturating_add(millis))
    }
}

impl fmt::Display for VirtualTime {
    /// Seconds with millisecond precision, e.g. `12.345s`: the stable form used in transcripts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}

/// A priority queue of timers ordered by `(due, seq)`.
///
/// Entries are never removed early; a model that cancels a timer bumps a generation counter in the payload
/// and ignores stale entries when they fire (lazy cancellation keeps it a plain binary heap).
#[derive(Clone, Debug)]
pub struct DeadlineQueue<T> {
    heap: BinaryHeap<Reverse<Entry<T>>>,
    next_seq: u64,
}

#[derive(Clone, Debug)]
struct Entry<T> {
    due: VirtualTime,
    seq: u64,
    payload: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

impl<T> Default for DeadlineQueue<T> {
    fn default() -> Self {
        DeadlineQueue { heap: BinaryHeap::new(), next_seq: 0 }
    }
}

impl<T> DeadlineQueue<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `payload` to fire at `due`, after every entry already scheduled for the same time.
    pub fn schedule(&mut self, due: VirtualTime, payload: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Entry { due, seq, payload }));
    }

    /// The earliest due time, if any timer is set.
    pub fn next_due(&self) -> Option<VirtualTime> {
        self.heap.peek().map(|Reverse(e)| e.due)
    }

    /// Removes and returns the earliest timer if it is due at or before `now`.
    pub fn pop_due(&mut self, now: VirtualTime) -> Option<(VirtualTime, T)> {
        if self.next_due()? <= now {
            self.heap.pop().map(|Reverse(e)| (e.due, e.payload))
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_deadlines_fire_in_insertion_order() {
        let mut q = DeadlineQueue::new();
        q.schedule(VirtualTime(5), "b1");
        q.schedule(VirtualTime(3), "a");
        q.schedule(VirtualTime(5), "b2");
        q.schedule(VirtualTime(5), "b3");
        let now = VirtualTime(10);
        let order: Vec<_> = std::iter::from_fn(|| q.pop_due(now).map(|(_, p)| p)).collect();
        assert_eq!(order, ["a", "b1", "b2", "b3"]);
    }

    #[test]
    fn nothing_fires_before_its_time() {
        let mut q = DeadlineQueue::new();
        q.schedule(VirtualTime(100), ());
        assert!(q.pop_due(VirtualTime(99)).is_none());
        assert_eq!(q.next_due(), Some(VirtualTime(100)));
        assert!(q.pop_due(VirtualTime(100)).is_some());
        assert!(q.is_empty());
    }

    #[test]
    fn display_is_seconds_with_millis() {
        assert_eq!(VirtualTime(12_345).to_string(), "12.345s");
        assert_eq!(VirtualTime(7).to_string(), "0.007s");
    }
}
