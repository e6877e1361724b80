//! Rewind, scrubbing and fast-forward along the run's timeline, and the charts' settings.
//!
//! The work lives in the session ([`crate::session::Session::seek`], snapshots and replay); this slice
//! holds what the page asks for: a fast-forward in progress (done in chunks, one per animation frame, so
//! the page stays responsive) and the queue the charts show.

use super::{AppState, MAX_INSTANTS_PER_TICK};
use broker_core::VirtualTime;

/// One animation frame of a fast-forward moves virtual time by at most this much (and fires at most
/// [`MAX_INSTANTS_PER_TICK`] instants), so the progress bar moves and Cancel is answered promptly.
pub const FAST_FORWARD_FRAME_MILLIS: u64 = 60_000;

/// A fast-forward in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FastForward {
    pub from: VirtualTime,
    pub target: VirtualTime,
    pub purpose: Purpose,
}

/// Why a fast-forward runs: every long replay in the page goes through the same chunked frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The user's "run to t".
    RunTo,
    /// Reopening something stored at a later moment (a workspace, a shared link): replaying the run to its
    /// saved position. The text names it for the notices ("workspace 'Demo'").
    Restore(String),
}

impl FastForward {
    /// What the progress line says it is doing.
    pub fn label(&self) -> String {
        match &self.purpose {
            Purpose::RunTo => format!("Fast-forward to {}", self.target),
            Purpose::Restore(what) => format!("Restoring {what} to {}", self.target),
        }
    }
}

impl FastForward {
    /// Progress in percent (0–100) with the clock at `now`.
    pub fn percent(&self, now: VirtualTime) -> u32 {
        let span = self.target.as_millis().saturating_sub(self.from.as_millis());
        if span == 0 {
            return 100;
        }
        let done = now.as_millis().saturating_sub(self.from.as_millis()).min(span);
        u32::try_from(done * 100 / span).unwrap_or(100)
    }
}

/// This part's slice of the app state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimelineState {
    pub fast_forward: Option<FastForward>,
    /// What is typed in the "run to" field; cleared when the run it was typed for is replaced or reached.
    pub run_to_text: String,
    /// The queue the charts show (`None`: the first one).
    pub chart_queue: Option<String>,
}

/// This part's actions (dispatched as `Action::Timeline`).
#[derive(Clone, Debug, PartialEq)]
pub enum TimelineAction {
    /// Show the moment `t` (scrubbing; pauses play).
    Seek(VirtualTime),
    /// Fast-forward to the time typed in the "run to" field (`30s`, `1500ms`, `2m`, or seconds).
    StartFastForward(String),
    /// The "run to" field was edited.
    EditRunTo(String),
    /// One animation frame's chunk of the fast-forward in progress.
    FastForwardFrame,
    CancelFastForward,
    SelectChartQueue(String),
}

/// Parses a virtual time typed by the user: `250ms`, `30s`, `1.5s`, `2m`, `1h`, or a bare number of
/// seconds.
pub fn parse_time(text: &str) -> Result<VirtualTime, String> {
    let t = text.trim();
    let (number, unit_millis) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1_000.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3_600_000.0)
    } else {
        (t, 1_000.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{t}' is not a time: write it like 30s, 1500ms, 2m or 1h"))?;
    let millis = value * unit_millis;
    // Ten years of virtual time is far past any run; the bound keeps the conversion exact.
    if !millis.is_finite() || !(0.0..=3.2e11).contains(&millis) {
        return Err(format!("'{t}' is not a time between 0 and ten years"));
    }
    Ok(VirtualTime::from_millis(millis.round() as u64))
}

impl AppState {
    /// Replays the session to `target` in the page's chunked frames (progress, Cancel) instead of in one
    /// blocking loop: reopening a run at a later moment.
    pub(crate) fn restore_to(&mut self, target: VirtualTime, what: String) {
        let now = self.now();
        if target <= now {
            return;
        }
        self.info(format!("Restoring {what} to t = {target}…"));
        self.timeline.fast_forward = Some(FastForward { from: now, target, purpose: Purpose::Restore(what) });
    }

    /// The moment being restored to, while a restore runs (a save in between keeps that position).
    pub(crate) fn restoring_to(&self) -> Option<VirtualTime> {
        self.timeline
            .fast_forward
            .as_ref()
            .filter(|ff| matches!(ff.purpose, Purpose::Restore(_)))
            .map(|ff| ff.target)
    }

    pub(super) fn apply_timeline(&mut self, action: TimelineAction) {
        match action {
            TimelineAction::Seek(t) => {
                self.playing = false;
                self.lagging = false;
                self.carry_millis.set(0.0);
                self.timeline.fast_forward = None;
                let shown = self.session.borrow_mut().seek(t);
                // The notice of what was done at another moment ("ended", "fast-forwarded") is stale now.
                if self.session.borrow().has_future() {
                    self.info(format!(
                        "Showing t = {shown}: play or step replays the recorded run from here"
                    ));
                } else {
                    self.info(format!("Showing the latest moment, t = {shown}"));
                }
            }
            TimelineAction::EditRunTo(text) => self.timeline.run_to_text = text,
            TimelineAction::StartFastForward(text) => {
                let target = match parse_time(&text) {
                    Ok(t) => t,
                    Err(e) => return self.error(e),
                };
                let (now, end) = {
                    let session = self.session.borrow();
                    (session.now(), session.end())
                };
                let target = end.map_or(target, |end| target.min(end));
                if target <= now {
                    return self.error(format!(
                        "t = {target} is not ahead of the clock ({now}): scrub back instead"
                    ));
                }
                self.playing = false;
                self.lagging = false;
                self.timeline.fast_forward = Some(FastForward { from: now, target, purpose: Purpose::RunTo });
                self.info(format!("Fast-forwarding to {target}"));
            }
            TimelineAction::FastForwardFrame => {
                let Some(ff) = self.timeline.fast_forward.clone() else { return };
                if self.playing {
                    // Play took over: the driver moves the clock now.
                    self.timeline.fast_forward = None;
                    return;
                }
                let mut session = self.session.borrow_mut();
                let chunk = session.now().plus_millis(FAST_FORWARD_FRAME_MILLIS).min(ff.target);
                session.run_until(chunk, MAX_INSTANTS_PER_TICK);
                let (now, finished) = (session.now(), session.finished());
                drop(session);
                let reached = finished || now >= ff.target;
                if reached {
                    self.timeline.fast_forward = None;
                    self.timeline.run_to_text.clear();
                }
                match (&ff.purpose, reached) {
                    (_, false) => {}
                    (Purpose::Restore(what), true) => self.info(format!("Opened {what} at t = {now}")),
                    (Purpose::RunTo, true) if finished => self.announce_end(),
                    (Purpose::RunTo, true) => self.info(format!("Fast-forwarded to {now}")),
                }
            }
            TimelineAction::CancelFastForward => {
                if let Some(ff) = self.timeline.fast_forward.take() {
                    let now = self.now();
                    match ff.purpose {
                        Purpose::RunTo => self.info(format!("Fast-forward cancelled at {now}")),
                        Purpose::Restore(what) => self.info(format!(
                            "Restoring {what} was cancelled at t = {now} (saved at {}): it goes on from here",
                            ff.target
                        )),
                    }
                }
            }
            TimelineAction::SelectChartQueue(queue) => self.timeline.chart_queue = Some(queue),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;
    use crate::state::{Action, NoticeKind};

    fn work_queues() -> AppState {
        let mut s = AppState::new(Session::new(1));
        s.apply(Action::LoadScenario("02-work-queues".into()));
        s
    }

    fn tl(s: &mut AppState, a: TimelineAction) {
        s.apply(Action::Timeline(a));
    }

    #[test]
    fn times_parse_with_units() {
        assert_eq!(parse_time("30s"), Ok(VirtualTime::from_millis(30_000)));
        assert_eq!(parse_time(" 1500ms "), Ok(VirtualTime::from_millis(1_500)));
        assert_eq!(parse_time("2m"), Ok(VirtualTime::from_millis(120_000)));
        assert_eq!(parse_time("1.5"), Ok(VirtualTime::from_millis(1_500)));
        assert_eq!(parse_time("1h"), Ok(VirtualTime::from_millis(3_600_000)));
        assert!(parse_time("soon").unwrap_err().contains("not a time"));
        assert!(parse_time("-3s").is_err());
        assert!(parse_time("1e30s").is_err());
    }

    #[test]
    fn fast_forward_runs_in_frames_with_progress_and_can_be_cancelled() {
        let mut s = AppState::new(Session::new(1));
        tl(&mut s, TimelineAction::StartFastForward("5m".into()));
        let ff = s.timeline.fast_forward.clone().expect("started");
        assert_eq!(ff.target, VirtualTime::from_millis(300_000));
        tl(&mut s, TimelineAction::FastForwardFrame);
        assert_eq!(s.now(), VirtualTime::from_millis(FAST_FORWARD_FRAME_MILLIS), "one frame's chunk");
        assert_eq!(ff.percent(s.now()), 20);
        tl(&mut s, TimelineAction::CancelFastForward);
        assert!(s.timeline.fast_forward.is_none());
        assert!(s.notice.as_ref().unwrap().text.contains("cancelled at"));
        tl(&mut s, TimelineAction::FastForwardFrame);
        assert_eq!(s.now(), VirtualTime::from_millis(FAST_FORWARD_FRAME_MILLIS), "nothing after cancel");
        tl(&mut s, TimelineAction::StartFastForward("5m".into()));
        let mut frames = 0;
        while s.timeline.fast_forward.is_some() {
            tl(&mut s, TimelineAction::FastForwardFrame);
            frames += 1;
            assert!(frames < 10);
        }
        assert_eq!(s.now(), VirtualTime::from_millis(300_000));
        assert_eq!(frames, 4);
        tl(&mut s, TimelineAction::StartFastForward("1m".into()));
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Error, "behind the clock");
        tl(&mut s, TimelineAction::StartFastForward("later".into()));
        assert!(s.notice.as_ref().unwrap().text.contains("not a time"));
    }

    #[test]
    fn fast_forward_stops_at_a_scenarios_end_and_reports_its_checks() {
        let mut s = work_queues();
        tl(&mut s, TimelineAction::StartFastForward("1h".into()));
        assert_eq!(
            s.timeline.fast_forward.clone().unwrap().target,
            VirtualTime::from_millis(10_000),
            "clamped"
        );
        tl(&mut s, TimelineAction::FastForwardFrame);
        assert!(s.timeline.fast_forward.is_none());
        assert!(s.session.borrow().finished());
        assert!(s.notice.as_ref().unwrap().text.contains("checks pass"), "{:?}", s.notice);
    }

    #[test]
    fn scrubbing_back_shows_the_earlier_counts_and_playing_on_gives_the_same_run() {
        let mut s = work_queues();
        s.apply(Action::SetSpeed(1000.0));
        s.apply(Action::TogglePlay);
        while s.playing {
            s.apply(Action::Tick { wall_millis: 33.0 });
        }
        let acked_at_end = s.session.borrow().counters("task_queue").acked;
        let log_at_end: Vec<String> = s.session.borrow().log().iter().map(|e| e.to_string()).collect();
        assert_eq!(acked_at_end, 10);
        s.apply(Action::TogglePlay);
        tl(&mut s, TimelineAction::Seek(VirtualTime::from_millis(1_000)));
        assert!(!s.playing, "scrubbing pauses");
        let acked_then = s.session.borrow().counters("task_queue").acked;
        assert!(acked_then < acked_at_end, "{acked_then}");
        assert!(s.session.borrow().has_future());
        assert_eq!(s.session.borrow().furthest(), VirtualTime::from_millis(10_000));
        // Play on at a different speed (other chunks): the same run.
        s.apply(Action::SetSpeed(100.0));
        s.apply(Action::TogglePlay);
        while s.playing {
            s.apply(Action::Tick { wall_millis: 20.0 });
        }
        let log_again: Vec<String> = s.session.borrow().log().iter().map(|e| e.to_string()).collect();
        assert_eq!(log_again, log_at_end);
    }

    #[test]
    fn the_chart_queue_is_remembered() {
        let mut s = work_queues();
        tl(&mut s, TimelineAction::SelectChartQueue("task_queue".into()));
        assert_eq!(s.timeline.chart_queue.as_deref(), Some("task_queue"));
    }
}
