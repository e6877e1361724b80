//! The time loop every model's simulation runs on: instants, the runaway guard, checks decided at their
//! time, and a live system whose time passes on its own.
//!
//! A simulation ([`Run`]) is a system under test with timers of its own (an engine, or a real system
//! behind a port) and actors around it whose later work are wake-ups on one deadline queue. The kernel
//! drives it: [`next_deadline`], [`step`] (one instant), [`run_until`]. The simulation keeps its state and
//! answers the kernel's questions; it never moves time itself.
//!
//! # Invariants
//! - Time never goes back: an instant is never before the last one, and never after the run's end.
//! - At one instant the system's own timers fire before the wake-ups due then, and wake-ups fire in the
//!   order they were scheduled ([`DeadlineQueue`](crate::clock::DeadlineQueue)), including those the
//!   instant itself schedules for the same time.
//! - A check at `T` is decided at `T` once everything due at `T` has fired, and never changes after.
//! - At most [`Run::max_firings_per_instant`] firings happen at one instant; past it the run stops (the
//!   runaway guard), so no document loops for ever.

use crate::clock::{DeadlineQueue, VirtualTime};
use crate::located::Pos;
use crate::transcript::StopInfo;

/// What every simulation's time loop keeps, whatever its model: the current instant, the run's end, why
/// it stopped early, the runaway guard, and the wake-ups of its actors and scenario.
#[derive(Clone, Debug)]
pub struct RunClock<W> {
    /// The current instant.
    pub now: VirtualTime,
    /// The run's end (its document's duration).
    pub end: VirtualTime,
    /// Set once the run stopped early (never cleared).
    pub stopped: Option<StopInfo>,
    /// The runaway guard: the most firings at one instant.
    pub max_firings: u64,
    /// The wake-ups, due in time order and then in the order they were scheduled.
    pub wakes: DeadlineQueue<W>,
}

impl<W> RunClock<W> {
    /// A clock at instant zero, running until `end`, with the wake-ups scheduled so far.
    pub fn new(end: VirtualTime, max_firings: u64, wakes: DeadlineQueue<W>) -> Self {
        RunClock { now: VirtualTime::ZERO, end, stopped: None, max_firings, wakes }
    }
}

/// What the kernel's time loop needs from a simulation.
pub trait Run {
    /// Something an actor or the scenario does at a later instant.
    type Wake;

    /// Whether the system's time passes on its own (a real system): the loop then waits with
    /// [`wait_system`](Run::wait_system) between instants, and things arrive while it waits.
    const LIVE: bool = false;

    /// The run's clock: the current instant, the end, the stop, the runaway guard and the wake-ups.
    fn clock(&self) -> &RunClock<Self::Wake>;
    fn clock_mut(&mut self) -> &mut RunClock<Self::Wake>;

    /// The current instant.
    fn now(&self) -> VirtualTime {
        self.clock().now
    }
    fn set_now(&mut self, now: VirtualTime) {
        self.clock_mut().now = now;
    }
    /// The run's end (its document's duration).
    fn end(&self) -> VirtualTime {
        self.clock().end
    }
    /// Whether the run stopped early.
    fn is_stopped(&self) -> bool {
        self.clock().stopped.is_some()
    }
    /// Stops the run (only called while it is not stopped).
    fn stop(&mut self, stop: StopInfo) {
        self.clock_mut().stopped = Some(stop);
    }
    /// The runaway guard: the most firings at one instant.
    fn max_firings_per_instant(&self) -> u64 {
        self.clock().max_firings
    }
    /// When the earliest wake-up is due.
    fn next_wake(&self) -> Option<VirtualTime> {
        self.clock().wakes.next_due()
    }
    /// Takes the earliest wake-up if it is due at or before `due`.
    fn pop_wake(&mut self, due: VirtualTime) -> Option<Self::Wake> {
        self.clock_mut().wakes.pop_due(due).map(|(_, wake)| wake)
    }
    /// Does what a wake-up says.
    fn fire(&mut self, wake: Self::Wake);

    /// When the system next has something to do or tell.
    fn system_deadline(&self) -> Option<VirtualTime>;
    /// Lets the system's time reach `to`, firing its timers on the way.
    fn advance_system(&mut self, to: VirtualTime);
    /// Takes the system's new events (checks see them, the log keeps them, actors get theirs).
    fn collect(&mut self);
    /// Hands the events waiting at this instant to their actors.
    fn drain(&mut self);
    /// Live systems only: blocks until `to` or until something arrives, and returns the instant reached.
    fn wait_system(&mut self, to: VirtualTime) -> VirtualTime {
        to
    }
    /// A failure outside the scenario (a system that cannot be reached): the run stops with this text.
    fn take_failure(&mut self) -> Option<String> {
        None
    }

    /// Decides the checks still open whose time satisfies `due`.
    fn settle_checks(&mut self, due: impl Fn(VirtualTime) -> bool);
    /// The time of the earliest check still open that has one.
    fn next_check_due(&self) -> Option<VirtualTime>;

    /// After each instant, with the number of firings it took (statistics, invariant checks).
    fn instant_done(&mut self, _firings: u64) {}
}

/// The next instant something happens, within the run's end (`None` once the run stopped).
pub fn next_deadline<R: Run>(run: &R) -> Option<VirtualTime> {
    next_instant(run.is_stopped(), run.system_deadline(), run.next_wake(), run.now(), run.end())
}

/// [`next_deadline`] from what it reads, for a simulation that answers it without lending itself to the
/// loop (`&self`): the earlier of the system's deadline and the next wake-up, never before `now`, none
/// after `end` or once stopped.
pub fn next_instant(
    stopped: bool,
    system: Option<VirtualTime>,
    wake: Option<VirtualTime>,
    now: VirtualTime,
    end: VirtualTime,
) -> Option<VirtualTime> {
    if stopped {
        return None;
    }
    let due = match (system, wake) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    (due <= end).then_some(due.max(now))
}

/// Stops the run with a failure outside the scenario, unless it stopped already.
fn fail<R: Run>(run: &mut R, message: String) {
    if !run.is_stopped() {
        let at = run.now();
        run.stop(StopInfo { pos: Pos::new(0, 0), at, message });
    }
}

/// Fires one instant: the system's timers and every wake-up due then, including those the instant itself
/// schedules for the same time. Returns the instant, or `None` when nothing is left before the end (or
/// the run stopped).
pub fn step<R: Run>(run: &mut R) -> Option<VirtualTime> {
    let due = next_deadline(run)?;
    run.settle_checks(|at| at < due);
    run.set_now(due);
    let mut fired = 0u64;
    loop {
        if run.is_stopped() {
            break;
        }
        if fired >= run.max_firings_per_instant() {
            let message = format!(
                "runaway: more than {} firings at {due}; the run was stopped",
                run.max_firings_per_instant()
            );
            run.stop(StopInfo { pos: Pos::new(0, 0), at: due, message });
            break;
        }
        if run.system_deadline().is_some_and(|d| d <= due) {
            run.advance_system(due);
            run.collect();
        } else if let Some(wake) = run.pop_wake(due) {
            run.fire(wake);
        } else {
            break;
        }
        fired += 1;
        run.drain();
    }
    if let Some(message) = run.take_failure() {
        fail(run, message);
    }
    run.instant_done(fired);
    Some(due)
}

/// Fires every instant up to `to` (clamped to the end) and settles the checks due by then.
pub fn run_until<R: Run>(run: &mut R, to: VirtualTime) {
    let to = to.min(run.end());
    if R::LIVE {
        run_live_until(run, to);
    }
    while next_deadline(run).is_some_and(|d| d <= to) {
        step(run);
    }
    if run.is_stopped() || to < run.now() {
        return;
    }
    run.set_now(to);
    run.advance_system(to);
    run.settle_checks(|at| at <= to);
}

/// A live system's time passes on its own: wait for the next instant, a check's time or `to`, and take an
/// arrival as an instant of its own when it comes. A check at `T` is decided at `T` once everything due
/// at `T` has fired, as without a live system.
fn run_live_until<R: Run>(run: &mut R, to: VirtualTime) {
    loop {
        if run.is_stopped() {
            return;
        }
        let target =
            [next_deadline(run), run.next_check_due()].into_iter().flatten().fold(to, VirtualTime::min);
        let reached = run.wait_system(target.max(run.now()));
        if let Some(message) = run.take_failure() {
            fail(run, message);
            return;
        }
        // Not at or past an instant that is still to fire (the run may lag behind the wall clock).
        match next_deadline(run) {
            Some(due) if due <= reached => run.settle_checks(|at| at < due),
            _ => run.settle_checks(|at| at <= reached),
        }
        match next_deadline(run) {
            Some(due) if due <= reached => {
                step(run);
            }
            _ if reached >= to => return,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy simulation: a system with one timer, wake-ups that log their name, a check at 5 ms.
    struct Toy {
        clock: RunClock<&'static str>,
        system_timer: Option<VirtualTime>,
        log: Vec<String>,
        check_at_5: Option<usize>,
        again: bool,
    }

    impl Default for Toy {
        fn default() -> Self {
            Toy {
                clock: RunClock::new(VirtualTime(10), 5, DeadlineQueue::new()),
                system_timer: None,
                log: Vec::new(),
                check_at_5: None,
                again: false,
            }
        }
    }

    impl Run for Toy {
        type Wake = &'static str;
        fn clock(&self) -> &RunClock<&'static str> {
            &self.clock
        }
        fn clock_mut(&mut self) -> &mut RunClock<&'static str> {
            &mut self.clock
        }
        fn fire(&mut self, wake: &'static str) {
            self.log.push(format!("{} {wake}", self.clock.now));
            if wake == "loop" && self.again {
                self.clock.wakes.schedule(self.clock.now, "loop");
            }
        }
        fn system_deadline(&self) -> Option<VirtualTime> {
            self.system_timer
        }
        fn advance_system(&mut self, to: VirtualTime) {
            if self.system_timer.is_some_and(|t| t <= to) {
                self.system_timer = None;
                self.log.push(format!("{to} system timer"));
            }
        }
        fn collect(&mut self) {}
        fn drain(&mut self) {}
        fn settle_checks(&mut self, due: impl Fn(VirtualTime) -> bool) {
            if self.check_at_5.is_none() && due(VirtualTime(5)) {
                self.check_at_5 = Some(self.log.len());
            }
        }
        fn next_check_due(&self) -> Option<VirtualTime> {
            self.check_at_5.is_none().then_some(VirtualTime(5))
        }
    }

    #[test]
    fn the_system_fires_first_then_wakes_in_order_and_checks_at_their_time() {
        let mut toy = Toy { system_timer: Some(VirtualTime(5)), ..Toy::default() };
        toy.clock.wakes.schedule(VirtualTime(5), "b");
        toy.clock.wakes.schedule(VirtualTime(2), "a");
        toy.clock.wakes.schedule(VirtualTime(11), "after the end");
        run_until(&mut toy, VirtualTime(100));
        assert_eq!(toy.log, ["0.002s a", "0.005s system timer", "0.005s b"]);
        // Decided once everything due at 5 ms fired.
        assert_eq!(toy.check_at_5, Some(3));
        assert_eq!(toy.clock.now, VirtualTime(10));
        assert_eq!(next_deadline(&toy), None);
    }

    #[test]
    fn the_runaway_guard_stops_an_instant_that_never_ends() {
        let mut toy = Toy { again: true, ..Toy::default() };
        toy.clock.wakes.schedule(VirtualTime(3), "loop");
        assert_eq!(step(&mut toy), Some(VirtualTime(3)));
        assert_eq!(toy.log.len(), 5);
        let stop = toy.clock.stopped.clone().expect("stopped");
        assert_eq!(stop.message, "runaway: more than 5 firings at 0.003s; the run was stopped");
        assert_eq!(step(&mut toy), None);
    }
}
