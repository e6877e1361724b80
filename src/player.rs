//! The player every model's page shares: play and pause virtual time, seek, and the keys that do it.
//!
//! A page's session says where its run is and moves it ([`ModelSession`]); [`use_player`] gives the page a
//! `playing` state, `seek` and `toggle_play`, plays `STEP_MS × speed` of virtual time every `STEP_MS` of
//! wall time while playing and redraws every `TICK_MS` (the engine's work spread over the frames between
//! two redraws), stops at the end, and answers the shell's time keys ([`crate::shell::TimeKey`]: Space, ←, →,
//! Home, End) on the document. The buttons are the shell's [`crate::shell::TimeBar`].
//!
//! Invariants: the player never seeks past the session's end (it stops there); Play at the end starts
//! again from 0; a key pressed while a field, a list or a button has the focus, or with Ctrl, Alt or Meta,
//! is left to the browser (typing a space in a form never plays).

use crate::shell::{key_listener, time_key_of};
use broker_core::scenario::document::ModelName;
use broker_core::scenario::sim::CheckResult;
use broker_core::VirtualTime;
use serde::Serialize;
use std::cell::RefCell;
use std::fmt::Display;
use std::rc::Rc;
use yew::prelude::*;

/// Wall milliseconds between two steps of the engine while playing; each step plays `STEP_MS × speed`
/// of virtual time, so a step's engine work is a quarter of a redraw's period and fits in a frame beside
/// it, instead of one large step landing on the frame that also redraws.
pub const STEP_MS: u32 = 25;

/// Wall milliseconds between two redraws while playing: every `TICK_MS / STEP_MS` steps (and at the end).
/// The page's clock and timeline show the session's time at each redraw, which is then exactly the
/// time played; a pause or a seek redraws at once.
pub const TICK_MS: u32 = 100;

/// A model page's session (Kafka, SQS, Redis): a document played up to the page's time, with what the
/// learner did by hand kept at its instants. What every model's session answers alike is asked here, once
/// for all — the player moves it, and the model's sandbox (`crate::embed::model::EmbedSession`, whose impls
/// then state only the model's own requests) opens, plays and reads it — while each model's impl says only
/// how its session does it.
pub trait ModelSession: Sized + 'static {
    /// The session's model (`model=` in the sandbox's address and in its `info`).
    const MODEL: ModelName;
    /// The run's events, as the engine logs them.
    type Event: Serialize + Display;

    /// Opens a document at time 0 (refused with the engine's error, `line:col`).
    fn open(text: &str, bundled: Option<&'static str>) -> Result<Self, String>;
    /// What the page calls the document: a bundled one's title, else "Opened document".
    fn name(&self) -> &'static str;
    /// The bundled document's id, when it is one.
    fn bundled_id(&self) -> Option<&'static str>;
    /// The document's description (empty without one).
    fn description(&self) -> &str;
    /// The instant played up to, in milliseconds.
    fn time_ms(&self) -> u64;
    /// The run's end, in milliseconds.
    fn end_ms(&self) -> u64;
    /// Plays (or rewinds) to `to_ms`, clamped to the end.
    fn seek(&mut self, to_ms: u64);
    /// The document's checks as judged now.
    fn checks(&self) -> Vec<CheckResult>;
    /// The run's events up to now, each at its instant.
    fn run_events(&self) -> &[(VirtualTime, Self::Event)];

    /// The event log's lines: the latest `n` events up to now, newest first, each at its instant in
    /// milliseconds and as the transcript words it. Only these are formatted, however long the run is:
    /// the log is redrawn on every tick.
    fn latest_events(&self, n: usize) -> Vec<(u64, String)> {
        self.run_events().iter().rev().take(n).map(|(t, e)| (t.as_millis(), e.to_string())).collect()
    }
}

/// What a page gets from [`use_player`].
#[derive(Clone)]
pub struct Player {
    /// Whether time is playing.
    pub playing: UseStateHandle<bool>,
    /// Moves the run to an instant (milliseconds) and redraws.
    pub seek: Callback<u64>,
    /// Play or pause (Play at the end starts again from 0).
    pub toggle_play: Callback<()>,
}

/// The player of a page whose run is `session`; `redraw` asks the page to draw again, `speed` multiplies
/// the virtual time played per tick.
#[hook]
pub fn use_player<S: ModelSession>(session: Rc<RefCell<S>>, redraw: Rc<dyn Fn()>, speed: u64) -> Player {
    let playing = use_state(|| false);
    let seek = {
        let session = session.clone();
        let redraw = redraw.clone();
        Callback::from(move |to: u64| {
            session.borrow_mut().seek(to);
            redraw();
        })
    };
    {
        let session = session.clone();
        let playing_handle = playing.clone();
        use_effect_with((*playing, speed), move |(on, speed)| {
            let step = u64::from(STEP_MS) * *speed;
            let steps_per_redraw = TICK_MS / STEP_MS;
            let mut steps = 0;
            let interval = on.then(|| {
                gloo_timers::callback::Interval::new(STEP_MS, move || {
                    let (now, end) = times(&session);
                    if now >= end {
                        playing_handle.set(false);
                        return;
                    }
                    let to = (now + step).min(end);
                    session.borrow_mut().seek(to);
                    steps += 1;
                    if steps % steps_per_redraw == 0 || to >= end {
                        redraw();
                    }
                })
            });
            move || drop(interval)
        });
    }
    let toggle_play = {
        let playing = playing.clone();
        let session = session.clone();
        let seek = seek.clone();
        Callback::from(move |_: ()| {
            let (now, end) = times(&session);
            if !*playing && now >= end {
                seek.emit(0);
            }
            playing.set(!*playing);
        })
    };
    {
        let toggle_play = toggle_play.clone();
        let seek = seek.clone();
        use_effect_with((), move |_| {
            let listener = key_listener(move |e: web_sys::KeyboardEvent| {
                let Some(key) = time_key_of(&e) else { return };
                let (now, end) = times(&session);
                match key.target(now, end) {
                    Some(to) => seek.emit(to),
                    None => toggle_play.emit(()),
                }
                e.prevent_default();
            });
            move || drop(listener)
        });
    }
    Player { playing, seek, toggle_play }
}

fn times<S: ModelSession>(session: &RefCell<S>) -> (u64, u64) {
    let s = session.borrow();
    (s.time_ms(), s.end_ms())
}
