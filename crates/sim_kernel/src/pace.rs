//! When an actor's slots fall: a rate, or rate steps in a cycle, in integer arithmetic ([`Pace`]).
//!
//! # Invariants
//! - Slots never go back in time, and the `k`-th slot of a step at rate `r` (per 1,000 s) falls at
//!   `start + k · 10^6 / r` ms, rounded down: no floating point, so native and wasm agree.
//! - A cycle with no slot at all ends the pace instead of looping for ever.

/// A producer's publish slots (or any actor's paced work): rate steps (`(per 1,000 s, length in ms)`,
/// a length of `u64::MAX` meaning for ever) cycled from `start`, none at or after `end`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pace {
    /// (messages per 1,000 s, step length in ms; `u64::MAX` = for ever).
    steps: Vec<(u64, u64)>,
    index: usize,
    step_start: u64,
    /// Slots already given in the current step.
    k: u64,
    /// No slot at or after this time.
    end: Option<u64>,
}

impl Pace {
    /// Rate steps cycled from `start` (`steps` not empty), none at or after `end`.
    pub fn new(steps: Vec<(u64, u64)>, start: u64, end: Option<u64>) -> Pace {
        assert!(!steps.is_empty(), "a pace needs at least one step");
        Pace { steps, index: 0, step_start: start, k: 0, end }
    }

    /// One rate (per 1,000 s) for ever from `start`, none at or after `end`.
    pub fn constant(per_kilosecond: u64, start: u64, end: Option<u64>) -> Pace {
        Pace::new(vec![(per_kilosecond, u64::MAX)], start, end)
    }

    /// The most slots a pace of `steps` can give in a window of `window` ms (both ends count: a slot at the
    /// very end fires), found without running it: a step at rate `r` gives at most `r × length + 1`, and
    /// a cycle of steps repeats over the window. An upper bound (at most one slot per step too many).
    pub fn slot_bound(steps: &[(u64, u64)], window: u128) -> u128 {
        let per_ms = |per_kilosecond: u64, millis: u128| u128::from(per_kilosecond) * millis / 1_000_000 + 1;
        if window == 0 {
            return 0;
        }
        match steps {
            [(rate, u64::MAX)] => {
                if *rate > 0 {
                    per_ms(*rate, window)
                } else {
                    0
                }
            }
            _ => {
                let cycle: u128 = steps.iter().map(|s| u128::from(s.1)).sum::<u128>().max(1);
                let per_cycle: u128 =
                    steps.iter().filter(|s| s.0 > 0).map(|s| per_ms(s.0, u128::from(s.1))).sum();
                (window / cycle + 1) * per_cycle
            }
        }
    }

    /// The next slot's time in ms, or `None` when there is none left.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<u64> {
        let mut empty_steps = 0;
        loop {
            let (rate, length) = self.steps[self.index];
            let step_end = self.step_start.saturating_add(length);
            if rate > 0 {
                let after = u128::from(self.k) * 1_000_000 / u128::from(rate);
                let t = self.step_start.saturating_add(u64::try_from(after).unwrap_or(u64::MAX));
                if t < step_end {
                    if self.end.is_some_and(|e| t >= e) {
                        return None;
                    }
                    self.k += 1;
                    return Some(t);
                }
            }
            if length == u64::MAX {
                return None;
            }
            if self.k == 0 {
                empty_steps += 1;
                if empty_steps > self.steps.len() {
                    return None;
                }
            } else {
                empty_steps = 0;
            }
            self.index = (self.index + 1) % self.steps.len();
            self.step_start = step_end;
            self.k = 0;
            if self.end.is_some_and(|e| self.step_start >= e) {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_spreads_slots_and_cycles_a_schedule() {
        let mut fixed = Pace::constant(1_000_000, 0, Some(2));
        assert_eq!((fixed.next(), fixed.next(), fixed.next()), (Some(0), Some(1), None));
        // 2/s for 1 s, then nothing for 1 s, cycling.
        let mut s = Pace::new(vec![(2_000, 1_000), (0, 1_000)], 0, None);
        let slots: Vec<u64> = (0..4).filter_map(|_| s.next()).collect();
        assert_eq!(slots, [0, 500, 2_000, 2_500]);
        let mut silent = Pace::new(vec![(0, 1_000)], 0, None);
        assert_eq!(silent.next(), None);
    }

    #[test]
    fn the_slot_bound_is_never_below_the_slots_given() {
        // 1,000/s over slots 0..=10 ms: 11 slots, exactly.
        let mut fixed = Pace::constant(1_000_000, 0, Some(11));
        assert_eq!(std::iter::from_fn(|| fixed.next()).count(), 11);
        assert_eq!(Pace::slot_bound(&[(1_000_000, u64::MAX)], 11), 12);
        let steps = vec![(2_000, 1_000), (0, 1_000)];
        let mut cycling = Pace::new(steps.clone(), 0, Some(10_001));
        let given = std::iter::from_fn(|| cycling.next()).count() as u128;
        assert!(Pace::slot_bound(&steps, 10_001) >= given, "{given}");
        assert_eq!(Pace::slot_bound(&steps, 0), 0);
        assert_eq!(Pace::slot_bound(&[(0, u64::MAX)], 5), 0);
    }
}
