//! The session's history: the recorded inputs and engine snapshots behind rewind and scrubbing
//! (deterministic replay from the nearest snapshot), the sampling stops of fast-forward, and the
//! per-queue series behind the charts (the whole run, old parts downsampled).
//!
//! How a moment is rebuilt: the engine is deterministic, so the state at `t` is the state of the nearest
//! snapshot at or before `t`, played forward with the same inputs at the same points. An input (a UI form's
//! method, a client's method, a new client connection, or an editing operation) is recorded with its
//! virtual time and with the number of deadline instants the simulation had fired before it, because an
//! input at `t` may have come before an instant due at `t` (a publish at 0 before the first step).
//!
//! Going forward after a scrub back replays the recorded future (play, step and fast-forward give exactly
//! the run as it was); acting at an earlier moment discards that future, like typing after an undo.

use super::{run_broker_until, Engine, QueueCounters, Session};
use broker_core::amqp::{ChannelNumber, ConnectionId, Method};
use broker_core::VirtualTime;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A snapshot is taken at the run's frontier once this many events were logged since the last one, and
/// at least an eighth of the log: a snapshot copies the engine, whose simulation keeps its own log, so
/// spacing them in proportion keeps the copying to a few events' worth per event on any run length, while
/// replay work to any moment stays bounded by the spacing.
const SNAPSHOT_EVERY_EVENTS: usize = 2_000;
const SNAPSHOT_SPACING_DIVISOR: usize = 8;
/// … or this many recorded inputs (with at least some events: an input replays cheaply).
const SNAPSHOT_EVERY_INPUTS: usize = 64;
/// At most this many snapshots are kept; past it every other one of the older half goes, so old parts of
/// the run are covered more sparsely (a scrub there replays more) and memory stays bounded.
pub const MAX_SNAPSHOTS: usize = 32;
/// Per queue, at most this many chart points are kept; past it the older half is merged pairwise.
pub const MAX_POINTS_PER_QUEUE: usize = 600;

/// Something from outside the engine that changed it, recorded so a replay repeats it.
#[derive(Clone)]
pub enum Input {
    /// A method on the UI's channel ([`Session::ui_apply`]).
    Ui(Method),
    /// A method on a client's channel ([`Session::client_apply`]).
    Client(ConnectionId, ChannelNumber, Method),
    /// A new client connection with one channel ([`Session::connect_client`]).
    Connect(String),
    /// Any other operation on the session ([`Session::apply_recorded`]); it must be deterministic.
    Operation(Rc<dyn Fn(&mut Session)>),
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Ui(m) => write!(f, "Ui({m:?})"),
            Input::Client(c, ch, m) => write!(f, "Client({c:?}, {ch:?}, {m:?})"),
            Input::Connect(name) => write!(f, "Connect({name:?})"),
            Input::Operation(_) => write!(f, "Operation(…)"),
        }
    }
}

/// A recorded input and where in the run it happened.
#[derive(Clone, Debug)]
struct Entry {
    at: VirtualTime,
    /// Deadline instants the simulation had fired before it (`None` in manual mode, where the broker fires
    /// everything due as its clock moves, so the time alone places an input).
    instants_before: Option<u64>,
    /// Whether the scenario's run had ended (its final checks made) before it.
    finished_before: bool,
    input: Input,
}

/// A copy of the session (without its log and history) at a point of the run.
#[derive(Clone)]
struct Snapshot {
    at: VirtualTime,
    instants: Option<u64>,
    /// Recorded inputs already applied in it.
    journal_pos: usize,
    log_len: usize,
    session: Rc<Session>,
}

/// A value's range over a chart bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    fn of(v: f64) -> Range {
        Range { min: v, max: v }
    }

    fn merge(self, other: Range) -> Range {
        Range { min: self.min.min(other.min), max: self.max.max(other.max) }
    }
}

/// One chart bucket of a queue: virtual milliseconds `[from_millis, to_millis)`; depths as sampled at the
/// bucket's end, rates (messages per second) over the second before it; min and max over the bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub from_millis: u64,
    pub to_millis: u64,
    pub ready: Range,
    pub unacked: Range,
    pub publish: Range,
    pub deliver: Range,
    pub ack: Range,
}

impl Point {
    fn merge(&self, later: &Point) -> Point {
        Point {
            from_millis: self.from_millis,
            to_millis: later.to_millis,
            ready: self.ready.merge(later.ready),
            unacked: self.unacked.merge(later.unacked),
            publish: self.publish.merge(later.publish),
            deliver: self.deliver.merge(later.deliver),
            ack: self.ack.merge(later.ack),
        }
    }

    /// Whether this point merges several samples (an old part of a long run).
    pub fn is_merged(&self, sample_millis: u64) -> bool {
        self.to_millis - self.from_millis > sample_millis
    }
}

/// The charts' sampling interval at virtual time `now_millis`: fine at the start of a run, so a run of a
/// few seconds draws a curve (30 points for 3 s), coarser as the run grows, so a long run costs a
/// bounded number of engine stops per virtual minute. Each interval divides the next, so samples of a
/// growing run stay aligned and never overlap.
pub fn sample_millis(now_millis: u64) -> u64 {
    match now_millis {
        0..60_000 => 100,
        60_000..600_000 => 1_000,
        _ => 10_000,
    }
}

/// The window the rates are measured over: a second, so a rate reads "per second" however fine the
/// sampling (a burst at one instant is spread over the second after it, not drawn 10× as high).
const RATE_WINDOW_MILLIS: u64 = 1_000;

/// Per queue, its points oldest first.
///
/// # Invariants
/// - Points of a queue are in time order and do not overlap; at most [`MAX_POINTS_PER_QUEUE`] per queue.
/// - The last sample's points are provisional: every sample in that interval replaces them, so a point
///   holds the values at its interval's end.
/// - `ends` holds the counters at the end of recent intervals, oldest first, none older than the last
///   one at least [`RATE_WINDOW_MILLIS`] before the latest interval's end (a dozen at most); `origin` is
///   the base while none is that old (the run's start, or the moment a future was discarded).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    queues: BTreeMap<String, Vec<Point>>,
    /// The start of the last interval sampled, and its length.
    last: Option<(u64, u64)>,
    /// `(end millis, counters)` of finished intervals: the bases of the rates.
    ends: std::collections::VecDeque<(u64, BTreeMap<String, QueueCounters>)>,
    origin: (u64, BTreeMap<String, QueueCounters>),
    /// The counters at the last sample.
    last_counters: BTreeMap<String, QueueCounters>,
}

/// A queue's values at a sample.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sample {
    pub ready: u32,
    pub unacked: u32,
    pub counters: QueueCounters,
}

impl Series {
    /// The queues with points, by name.
    pub fn queue_names(&self) -> impl Iterator<Item = &str> {
        self.queues.keys().map(String::as_str)
    }

    /// A queue's points, oldest first (empty for an unknown queue).
    pub fn points(&self, queue: &str) -> &[Point] {
        self.queues.get(queue).map_or(&[], Vec::as_slice)
    }

    /// The start of the last interval sampled (virtual milliseconds).
    pub fn last_sample_millis(&self) -> Option<u64> {
        self.last.map(|(start, _)| start)
    }

    /// Records every queue's values at virtual time `now_millis` (in the last interval sampled, or a
    /// later one); the interval is [`sample_millis`]'s.
    pub fn record(&mut self, now_millis: u64, samples: &BTreeMap<String, Sample>) {
        let width = sample_millis(now_millis);
        let start = now_millis / width * width;
        match self.last {
            Some((last, _)) if start < last => return,
            Some((last, _)) if start == last => {}
            previous => {
                if let Some((last, last_width)) = previous {
                    let counters = std::mem::take(&mut self.last_counters);
                    self.ends.push_back((last + last_width, counters));
                }
                self.last = Some((start, width));
            }
        }
        let end = start + width;
        // The base: the latest finished interval ending at least a window before this one's end (the
        // origin while there is none yet). The span is at least the window: a rate is per second.
        while self.ends.len() > 1 && self.ends[1].0 + RATE_WINDOW_MILLIS <= end {
            self.ends.pop_front();
        }
        let (base_end, base) = match self.ends.front() {
            Some((at, counters)) if at + RATE_WINDOW_MILLIS <= end => (*at, counters),
            _ => (self.origin.0, &self.origin.1),
        };
        let span = end.saturating_sub(base_end).max(RATE_WINDOW_MILLIS) as f64 / 1000.0;
        for (queue, s) in samples {
            let before = base.get(queue).copied().unwrap_or_default();
            let rate = |now: u64, then: u64| now.saturating_sub(then) as f64 / span;
            let point = Point {
                from_millis: start,
                to_millis: end,
                ready: Range::of(f64::from(s.ready)),
                unacked: Range::of(f64::from(s.unacked)),
                publish: Range::of(rate(s.counters.enqueued, before.enqueued)),
                deliver: Range::of(rate(s.counters.delivered, before.delivered)),
                ack: Range::of(rate(s.counters.acked, before.acked)),
            };
            let points = self.queues.entry(queue.clone()).or_default();
            match points.last_mut() {
                Some(last) if last.from_millis == start => *last = point,
                _ => points.push(point),
            }
            if points.len() > MAX_POINTS_PER_QUEUE {
                downsample(points);
            }
            self.last_counters.insert(queue.clone(), s.counters);
        }
    }

    /// Forgets the interval holding `now_millis` and everything after it (the future discarded by acting
    /// at an earlier moment); `counters`, the values now, become the base of the next rates.
    fn truncate_from(&mut self, now_millis: u64, counters: BTreeMap<String, QueueCounters>) {
        let width = sample_millis(now_millis);
        let start = now_millis / width * width;
        for points in self.queues.values_mut() {
            points.retain(|p| p.to_millis <= start);
        }
        self.queues.retain(|_, points| !points.is_empty());
        // The next sample opens a fresh interval; its rates count from now.
        self.last = None;
        self.ends.clear();
        self.origin = (now_millis, counters.clone());
        self.last_counters = counters;
    }
}

/// Merges the older half of `points` pairwise: the recent part keeps one point per second, older parts
/// get coarser buckets whose min and max still show every extreme.
pub fn downsample(points: &mut Vec<Point>) {
    let half = points.len() / 2;
    let mut merged: Vec<Point> =
        points[..half].chunks(2).map(|c| c.iter().skip(1).fold(c[0].clone(), |a, b| a.merge(b))).collect();
    merged.extend_from_slice(&points[half..]);
    *points = merged;
}

/// Recorded inputs, snapshots, the furthest moment reached and the chart series.
///
/// # Invariants
/// - `snapshots` is non-empty once the session absorbed its first events, ordered by position in the
///   run, and each lies on the current history (at or before the frontier); the first is the run's start.
/// - `pos <= journal.len()`: the inputs `journal[..pos]` are applied in the session's current state.
/// - The session is at the frontier exactly when `pos == journal.len()` and its clock is at `furthest`.
#[derive(Clone, Default)]
pub struct History {
    journal: Vec<Entry>,
    pos: usize,
    snapshots: Vec<Snapshot>,
    furthest: VirtualTime,
    /// Set while an input runs (its own nested inputs are not recorded again, no snapshot is taken
    /// half-way through it) and while a replay applies a recorded one.
    in_input: bool,
    series: Series,
}

impl Session {
    /// The furthest moment the run has reached (the end of the timeline bar).
    pub fn furthest(&self) -> VirtualTime {
        self.history.furthest
    }

    /// The earliest moment a scrub can go back to (the first snapshot).
    pub fn rewind_floor(&self) -> VirtualTime {
        self.history.snapshots.first().map_or(VirtualTime::ZERO, |s| s.at)
    }

    /// Whether the session shows an earlier moment than the furthest reached (play replays the future).
    pub fn has_future(&self) -> bool {
        self.history.pos < self.history.journal.len() || self.now() < self.history.furthest
    }

    /// How many snapshots are kept (bounded by [`MAX_SNAPSHOTS`]).
    pub fn snapshot_count(&self) -> usize {
        self.history.snapshots.len()
    }

    /// How many inputs are recorded on the current history.
    pub fn recorded_inputs(&self) -> usize {
        self.history.journal.len()
    }

    /// The chart series of the whole run.
    pub fn series(&self) -> &Series {
        &self.history.series
    }

    /// Runs `operation` on the session as a recorded input, so rewinding and replaying repeat it. Use it
    /// for any change to the engine that does not go through `ui_apply`, `client_apply` or
    /// `connect_client`; the operation must be deterministic (it is called again on replay).
    pub fn apply_recorded<R: 'static>(&mut self, operation: impl Fn(&mut Session) -> R + 'static) -> R {
        let operation = Rc::new(operation);
        let replayed = Rc::clone(&operation);
        self.record_input(Input::Operation(Rc::new(move |s: &mut Session| {
            replayed(s);
        })));
        let outer = std::mem::replace(&mut self.history.in_input, true);
        let result = operation(self);
        self.history.in_input = outer;
        result
    }

    /// Shows the moment `target` (clamped to the timeline): restores the nearest snapshot at or before
    /// it and replays the recorded inputs and instants up to it. Moving forward replays from where the
    /// session is. Returns the moment shown.
    pub fn seek(&mut self, target: VirtualTime) -> VirtualTime {
        self.seek_within(target, usize::MAX);
        self.now()
    }

    /// [`seek`](Self::seek) with bounded work: restores the snapshot and replays at most `max_instants`
    /// deadline instants towards the (clamped) target. Returns the clamped target and whether it was
    /// reached; if not, `run_until` towards it goes on from where the replay stopped (the page does that
    /// in animation frames, so a scrub into a sparsely snapshotted part never freezes the tab).
    pub fn seek_within(&mut self, target: VirtualTime, max_instants: usize) -> (VirtualTime, bool) {
        let target = target.clamp(self.rewind_floor(), self.history.furthest);
        if target < self.now() || self.history.pos > self.journal_pos_at(target) {
            let index = self.history.snapshots.iter().rposition(|s| s.at <= target).unwrap_or(0);
            self.restore(index);
        }
        let reached = self.run_timeline_until(target, max_instants);
        self.absorb();
        (target, reached)
    }

    /// Inputs recorded at or before `t`.
    fn journal_pos_at(&self, t: VirtualTime) -> usize {
        self.history.journal.partition_point(|e| e.at <= t)
    }

    /// Replaces the session's state with snapshot `index`'s; the log goes back to that moment and the
    /// version keeps growing (views memoised on it must re-read).
    fn restore(&mut self, index: usize) {
        let Some(snapshot) = self.history.snapshots.get(index).cloned() else { return };
        let history = std::mem::take(&mut self.history);
        let mut log = std::mem::take(&mut self.log);
        let version = self.version;
        *self = (*snapshot.session).clone();
        log.truncate(snapshot.log_len);
        self.log = log;
        self.history = history;
        self.history.pos = snapshot.journal_pos;
        self.version = version + 1;
    }

    /// Deadline instants the simulation has fired (`None` in manual mode).
    fn instant_count(&self) -> Option<u64> {
        match &self.engine {
            Engine::Manual(_) => None,
            Engine::Scenario(sim) => Some(sim.stats().instants),
        }
    }

    fn finished_run(&self) -> bool {
        match &self.engine {
            Engine::Manual(_) => false,
            Engine::Scenario(sim) => sim.finished(),
        }
    }

    /// Records an input about to be applied now. Acting at an earlier moment than the furthest reached
    /// discards the recorded future first.
    pub(super) fn record_input(&mut self, input: Input) {
        if self.history.in_input {
            return;
        }
        if self.has_future() {
            self.discard_future();
        }
        let entry = Entry {
            at: self.now(),
            instants_before: self.instant_count(),
            finished_before: self.finished_run(),
            input,
        };
        self.history.journal.push(entry);
        self.history.pos = self.history.journal.len();
    }

    /// Makes the current moment the frontier: later inputs, snapshots and chart points are dropped.
    fn discard_future(&mut self) {
        let (now, pos, instants) = (self.now(), self.history.pos, self.instant_count());
        let history = &mut self.history;
        history.journal.truncate(pos);
        history.snapshots.retain(|s| s.at <= now && s.journal_pos <= pos && s.instants <= instants);
        history.furthest = now;
        let counters = self.counters.clone();
        self.history.series.truncate_from(now.as_millis(), counters);
    }

    /// Called after every absorb: at the frontier, moves it, samples the charts once per sampling interval
    /// ([`sample_millis`]) and takes a snapshot when one is due.
    pub(super) fn after_absorb(&mut self) {
        let now = self.now();
        if self.history.pos < self.history.journal.len() || now < self.history.furthest {
            return; // replaying known ground: its points and snapshots exist
        }
        self.history.furthest = now;
        let samples = self.chart_samples();
        self.history.series.record(now.as_millis(), &samples);
        if !self.history.in_input && self.snapshot_due() {
            self.take_snapshot();
        }
    }

    fn chart_samples(&self) -> BTreeMap<String, Sample> {
        let mut samples: BTreeMap<String, Sample> = BTreeMap::new();
        // Deleted queues keep their line: their counters stay, their depth is zero.
        for (queue, counters) in &self.counters {
            samples.insert(queue.clone(), Sample { counters: *counters, ..Sample::default() });
        }
        for q in self.broker().queues() {
            let entry = samples.entry(q.name.clone()).or_default();
            entry.ready = q.messages_ready;
            entry.unacked = q.messages_unacknowledged;
        }
        samples
    }

    fn snapshot_due(&self) -> bool {
        let Some(last) = self.history.snapshots.last() else { return true };
        let events = self.log.len().saturating_sub(last.log_len);
        let spacing = SNAPSHOT_EVERY_EVENTS.max(self.log.len() / SNAPSHOT_SPACING_DIVISOR);
        let inputs = self.history.journal.len().saturating_sub(last.journal_pos);
        events >= spacing || (inputs >= SNAPSHOT_EVERY_INPUTS && events >= spacing / 8)
    }

    fn take_snapshot(&mut self) {
        let log = std::mem::take(&mut self.log);
        let history = std::mem::take(&mut self.history);
        let copy = Rc::new(self.clone());
        self.log = log;
        self.history = history;
        let snapshot = Snapshot {
            at: self.now(),
            instants: self.instant_count(),
            journal_pos: self.history.journal.len(),
            log_len: self.log.len(),
            session: copy,
        };
        let snapshots = &mut self.history.snapshots;
        snapshots.push(snapshot);
        if snapshots.len() > MAX_SNAPSHOTS {
            // Keep the first (the start) and the newer half; drop every other one of the older half.
            let half = snapshots.len() / 2;
            let mut index = 0;
            snapshots.retain(|_| {
                let keep = index == 0 || index >= half || index % 2 == 0;
                index += 1;
                keep
            });
        }
    }

    /// Moves towards `target`: recorded inputs due by then are replayed at their points (after a scrub
    /// back), and the clock stops at each sampling boundary ([`sample_millis`]) so the charts get a point
    /// per interval. At most
    /// `max_instants` deadline instants are fired; returns whether `target` was reached.
    pub(super) fn run_timeline_until(&mut self, target: VirtualTime, max_instants: usize) -> bool {
        let start = self.instant_count().unwrap_or(0);
        loop {
            let used = usize::try_from(self.instant_count().unwrap_or(0).saturating_sub(start))
                .unwrap_or(usize::MAX);
            let budget = max_instants.saturating_sub(used);
            let next = self.history.journal.get(self.history.pos).filter(|e| e.at <= target).cloned();
            if let Some(entry) = next {
                if !self.fire_before(&entry, budget) {
                    self.absorb();
                    return false;
                }
                self.apply_entry(entry);
                continue;
            }
            let now = self.now();
            if now >= target {
                return true;
            }
            // Stop at every sampling boundary, so the charts get a point per interval.
            let width = sample_millis(now.as_millis());
            let boundary = VirtualTime::from_millis((now.as_millis() / width + 1) * width).min(target);
            if !self.run_engine_until(boundary, budget) {
                return false;
            }
            if boundary >= target || self.now() < boundary {
                // Reached, or the clock stops short of it: a scenario's end.
                return true;
            }
        }
    }

    /// Fires what came before `entry` in the recorded run: the instants it followed, then the clock moved
    /// to its time (and the run's end made, if it came after). False if `budget` instants did not suffice.
    fn fire_before(&mut self, entry: &Entry, budget: usize) -> bool {
        match &mut self.engine {
            Engine::Scenario(sim) => {
                let mut fired = 0;
                while entry.instants_before.is_some_and(|n| sim.stats().instants < n) {
                    if fired == budget {
                        return false;
                    }
                    if sim.step().is_none() {
                        break;
                    }
                    fired += 1;
                }
                if sim.now() < entry.at {
                    sim.run_until(entry.at);
                }
                if entry.finished_before && !sim.finished() {
                    sim.run();
                }
                true
            }
            Engine::Manual(broker) => broker.now() >= entry.at || run_broker_until(broker, entry.at, budget),
        }
    }

    /// Applies a recorded input again (not recorded twice).
    fn apply_entry(&mut self, entry: Entry) {
        self.absorb();
        let outer = std::mem::replace(&mut self.history.in_input, true);
        match entry.input {
            Input::Ui(method) => {
                let _ = self.ui_apply(method);
            }
            Input::Client(connection, channel, method) => {
                let _ = self.client_apply(connection, channel, method);
            }
            Input::Connect(name) => {
                let _ = self.connect_client(&name);
            }
            Input::Operation(operation) => operation(self),
        }
        self.history.in_input = outer;
        self.history.pos += 1;
        self.absorb();
    }

    /// Before a step after a scrub back: replays the recorded inputs that came before the next instant.
    pub(super) fn replay_inputs_before_next_instant(&mut self) {
        while let Some(entry) = self.history.journal.get(self.history.pos).cloned() {
            let before_next = match (&self.engine, entry.instants_before) {
                (Engine::Scenario(sim), Some(n)) => sim.stats().instants >= n,
                (Engine::Manual(broker), _) => broker.next_deadline().is_none_or(|due| entry.at <= due),
                (Engine::Scenario(_), None) => true,
            };
            if !before_next {
                return;
            }
            self.fire_before(&entry, usize::MAX);
            self.apply_entry(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::amqp::{BasicProperties, FieldTable};

    fn publish(queue: &str, body: &str) -> Method {
        Method::BasicPublish {
            exchange: String::new(),
            routing_key: queue.into(),
            mandatory: false,
            properties: BasicProperties::default(),
            body: body.as_bytes().to_vec(),
            immediate: false,
        }
    }

    fn declare(queue: &str) -> Method {
        Method::QueueDeclare {
            queue: queue.into(),
            passive: false,
            durable: true,
            exclusive: false,
            auto_delete: false,
            arguments: FieldTable::new(),
        }
    }

    /// Everything a view can read, as text: the clock, the log, queues, connections, checks, counters.
    fn fingerprint(s: &Session) -> String {
        let log: Vec<String> = s.log().iter().map(|e| e.to_string()).collect();
        format!(
            "now {}\nlog {}\nqueues {:?}\nconnections {:?}\nchecks {:?}\ncounters {:?}\nfinished {}",
            s.now(),
            log.join("\n"),
            s.broker().queues(),
            s.connections(),
            s.checks(),
            s.counters,
            s.finished()
        )
    }

    fn work_queues() -> Session {
        Session::from_scenario(crate::scenarios::bundled_text("02-work-queues").expect("bundled"))
            .expect("loads")
    }

    /// A run with UI inputs at 0 (before the first instant), mid-run and after the end.
    fn play_with_inputs(s: &mut Session, upto: VirtualTime) {
        s.ui_apply(publish("task_queue", "early")).expect("publish at 0");
        s.step();
        s.run_until(VirtualTime::from_millis(2_500), 7);
        s.run_until(VirtualTime::from_millis(2_500), 1_000);
        s.ui_apply(publish("task_queue", "mid")).expect("publish mid-run");
        s.ui_apply(declare("side")).expect("declare");
        s.step();
        s.step();
        s.run_until(upto, 100_000);
    }

    #[test]
    fn scrubbing_back_then_forward_gives_the_same_state_as_never_scrubbing() {
        let end = VirtualTime::from_millis(10_000);
        let mut reference = work_queues();
        play_with_inputs(&mut reference, end);
        reference.ui_apply(publish("side", "after the end")).expect("publish after the end");
        assert!(reference.finished());

        let mut s = work_queues();
        play_with_inputs(&mut s, end);
        s.ui_apply(publish("side", "after the end")).expect("publish after the end");
        assert_eq!(fingerprint(&s), fingerprint(&reference));
        assert_eq!(s.furthest(), end);

        // Back to 2.5 s: the state is what a run stopped there shows.
        let mut upto_mid = work_queues();
        upto_mid.ui_apply(publish("task_queue", "early")).unwrap();
        upto_mid.step();
        upto_mid.run_until(VirtualTime::from_millis(2_500), 100_000);
        upto_mid.ui_apply(publish("task_queue", "mid")).unwrap();
        upto_mid.ui_apply(declare("side")).unwrap();
        assert_eq!(s.seek(VirtualTime::from_millis(2_500)), VirtualTime::from_millis(2_500));
        assert!(s.has_future());
        assert_eq!(fingerprint(&s), fingerprint(&upto_mid));

        // Forward again by stepping and playing in other chunks: the same future.
        s.step();
        s.run_until(VirtualTime::from_millis(6_000), 3);
        s.seek(VirtualTime::from_millis(1_000));
        s.run_until(end, 1_000_000);
        assert_eq!(fingerprint(&s), fingerprint(&reference));
        assert!(!s.has_future());

        // Scrub to the very start and back to the end.
        s.seek(VirtualTime::ZERO);
        assert!(s.log().len() < reference.log().len());
        s.seek(end);
        assert_eq!(fingerprint(&s), fingerprint(&reference));
    }

    #[test]
    fn acting_at_an_earlier_moment_discards_the_future() {
        let mut s = work_queues();
        play_with_inputs(&mut s, VirtualTime::from_millis(10_000));
        let inputs = s.recorded_inputs();
        s.seek(VirtualTime::from_millis(1_000));
        s.ui_apply(publish("task_queue", "new past")).expect("publish");
        assert_eq!(s.furthest(), VirtualTime::from_millis(1_000));
        assert!(!s.has_future());
        assert_eq!(s.recorded_inputs(), 2, "the early publish and this one; {inputs} before");
        s.run_until(VirtualTime::from_millis(10_000), 1_000_000);
        let bodies: Vec<String> = s
            .log()
            .iter()
            .filter_map(|e| match &e.event {
                broker_core::amqp::Event::Published { .. } => Some(e.to_string()),
                _ => None,
            })
            .collect();
        assert!(!s.broker().queues().iter().any(|q| q.name == "side"), "the later declare is gone");
        assert!(bodies.len() > 2, "{bodies:?}");
        // The new future is itself replayable.
        let end_print = fingerprint(&s);
        s.seek(VirtualTime::from_millis(3_000));
        s.seek(VirtualTime::from_millis(10_000));
        assert_eq!(fingerprint(&s), end_print);
    }

    #[test]
    fn manual_mode_rewinds_too_and_operations_are_replayed() {
        let mut s = Session::new(3);
        s.ui_apply(declare("q")).unwrap();
        s.run_until(VirtualTime::from_millis(1_500), 10);
        let (conn, ch) = s.connect_client("worker");
        s.client_apply(conn, ch, publish("q", "a")).unwrap();
        s.apply_recorded(|s: &mut Session| {
            let _ = s.ui_apply(publish("q", "b"));
            let _ = s.ui_apply(publish("q", "c"));
        });
        s.run_until(VirtualTime::from_millis(4_000), 10);
        let end = fingerprint(&s);
        assert_eq!(s.recorded_inputs(), 4, "nested inputs of an operation are not recorded twice");
        s.seek(VirtualTime::from_millis(1_000));
        assert_eq!(s.broker().queues()[0].messages_ready, 0);
        s.seek(VirtualTime::from_millis(2_000));
        assert_eq!(s.broker().queues()[0].messages_ready, 3);
        s.seek(VirtualTime::from_millis(4_000));
        assert_eq!(fingerprint(&s), end);
    }

    #[test]
    fn snapshots_stay_bounded_and_the_charts_cover_the_whole_run() {
        let mut s = Session::new(5);
        s.ui_apply(declare("q")).unwrap();
        // 300 seconds with 40 publishes a second: 12,000 publishes, many snapshots' worth of events.
        for second in 1..=300u64 {
            for _ in 0..40 {
                s.ui_apply(publish("q", "x")).unwrap();
            }
            s.run_until(VirtualTime::from_millis(second * 1000), 10);
            assert!(s.snapshot_count() <= MAX_SNAPSHOTS, "{} at {second}", s.snapshot_count());
        }
        assert!(s.snapshot_count() > 4, "{}", s.snapshot_count());
        assert_eq!(s.rewind_floor(), VirtualTime::ZERO, "the start is always kept");
        let points = s.series().points("q");
        assert_eq!(points.first().map(|p| p.from_millis), Some(0));
        assert_eq!(points.last().map(|p| p.to_millis), Some(301_000), "the interval holding t = 300 s");
        assert_eq!(points.last().unwrap().ready.max, 12_000.0);
        assert!(points.iter().any(|p| p.publish.max == 40.0), "{:?}", &points[..3]);
        // An old moment comes back exactly.
        s.seek(VirtualTime::from_millis(100_500));
        assert_eq!(s.broker().queues()[0].messages_ready, 40 * 101);
    }

    #[test]
    fn downsampling_keeps_the_extremes() {
        let mut series = Series::default();
        let mut samples = BTreeMap::new();
        for second in 0..5_000u64 {
            // A spike of 999 at second 123 and a dip to 0 at second 456; 10 otherwise.
            let ready = match second {
                123 => 999,
                456 => 0,
                _ => 10,
            };
            samples.insert("q".to_string(), Sample { ready, ..Sample::default() });
            series.record(second * 1000, &samples);
        }
        let points = series.points("q");
        assert!(points.len() <= MAX_POINTS_PER_QUEUE);
        assert_eq!(points.first().unwrap().from_millis, 0);
        assert_eq!(points.last().unwrap().to_millis, 5_000_000);
        assert!(points.windows(2).all(|w| w[0].to_millis <= w[1].from_millis), "ordered, no overlap");
        let at =
            |millis: u64| points.iter().find(|p| p.from_millis <= millis && millis < p.to_millis).unwrap();
        assert_eq!(at(123_000).ready.max, 999.0);
        assert_eq!(at(456_000).ready.min, 0.0);
        assert!(!at(4_999_000).is_merged(sample_millis(4_999_000)), "recent intervals keep their own point");
        assert!(at(10_000).is_merged(sample_millis(10_000)), "old parts are coarser");
    }

    #[test]
    fn a_three_second_run_draws_a_curve_and_a_long_one_stays_bounded() {
        let mut s = Session::new(5);
        s.ui_apply(declare("q")).unwrap();
        // One publish every 100 ms for 3 s: the depth climbs to 30.
        for tenth in 1..=30u64 {
            s.ui_apply(publish("q", "x")).unwrap();
            s.run_until(VirtualTime::from_millis(tenth * 100), 10);
        }
        let points = s.series().points("q");
        assert!(points.len() >= 30, "a point per 100 ms, not one per second: {}", points.len());
        let depths: Vec<f64> = points.iter().map(|p| p.ready.max).collect();
        assert!(depths.windows(2).all(|w| w[0] <= w[1]) && depths.last() == Some(&30.0), "{depths:?}");
        // The publish rate reads per second (10 a second), not per sample.
        let rate = points.iter().rev().nth(2).unwrap().publish.max;
        assert!((rate - 10.0).abs() < 1e-9, "{rate}");
        // Two hours on: bounded points, and few engine stops per virtual minute.
        assert!(s.run_until(VirtualTime::from_millis(7_200_000), 1_000_000));
        assert!(s.series().points("q").len() <= MAX_POINTS_PER_QUEUE);
        assert_eq!(sample_millis(7_200_000), 10_000);
    }
}
