//! The app's one state and its reducer: every user action and timer tick is an [`Action`]; the reducer is
//! plain Rust (no DOM), tested natively.
//!
//! The engine lives in a shared [`Session`] (`Rc<RefCell<…>>`), so reducing an action never clones the
//! broker: the state copies the session's version number, and a new version is what makes views re-read.

use crate::forms::AckMode;
use crate::session::Session;
use broker_core::amqp::exchange::BindingCheck;
use broker_core::amqp::{ConnectionId, Delivery, FieldTable, FieldValue, Method, Reply};
use broker_core::scenario::sim::CheckStatus;
use broker_core::VirtualTime;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::Reducible;

// Parts of the app state kept in their own files: each owns its slice of the state and of the actions.
pub mod actors;
pub mod editing;
pub mod reply_to;
pub mod scripting;
pub mod streams;
pub mod timeline;
pub mod workspace;

/// The playback speeds offered (virtual seconds per wall second).
pub const SPEEDS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0, 1000.0];

/// At most this many deadline instants are fired per driver tick, so a frame's work stays bounded; past
/// it the clock lags behind wall time (shown in the header) instead of freezing the page.
pub const MAX_INSTANTS_PER_TICK: usize = 5_000;

/// At most this many deadline instants are fired by one [`Action::RunUntil`].
pub const RUN_UNTIL_MAX_INSTANTS: usize = 200_000;

/// While playing, the views re-read the session at most this often (wall milliseconds). The engine
/// moves at every driver tick (about 30 a second); the page shows it 10 times a second, which counts
/// and depths follow smoothly (tokens move by CSS animation in between), so the rendering work of a
/// busy page comes at a third of the tick rate.
pub const VIEW_REFRESH_MILLIS: f64 = 100.0;

/// `n` and the word for it, singular or plural: "1 message", "2 messages".
pub fn count(n: u64, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// What a driver tick did to the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TickOutcome {
    caught_up: bool,
    finished: bool,
}

/// A driver tick longer than this (a background tab, a debugger pause) counts as this long.
const MAX_TICK_WALL_MILLIS: f64 = 250.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Queues,
    Exchanges,
    Bindings,
    Connections,
    Messages,
    Log,
    Charts,
    Scenario,
}

impl Tab {
    pub const ALL: [Tab; 8] = [
        Tab::Queues,
        Tab::Exchanges,
        Tab::Bindings,
        Tab::Connections,
        Tab::Messages,
        Tab::Log,
        Tab::Charts,
        Tab::Scenario,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Queues => "Queues",
            Tab::Exchanges => "Exchanges",
            Tab::Bindings => "Bindings",
            Tab::Connections => "Connections",
            Tab::Messages => "Messages",
            Tab::Log => "Event log",
            Tab::Charts => "Charts",
            Tab::Scenario => "Scenario",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Tab::Queues => "queues",
            Tab::Exchanges => "exchanges",
            Tab::Bindings => "bindings",
            Tab::Connections => "connections",
            Tab::Messages => "messages",
            Tab::Log => "log",
            Tab::Charts => "charts",
            Tab::Scenario => "scenario",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    /// Follow `prefers-color-scheme`.
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn next(self) -> Theme {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "Theme: system",
            Theme::Light => "Theme: light",
            Theme::Dark => "Theme: dark",
        }
    }
}

/// What the inspector panel shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    Exchange(String),
    Queue(String),
    Connection(ConnectionId),
    Consumer { queue: String, consumer_tag: String },
    Binding { source: String, destination: String, routing_key: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    Info,
    Error,
}

/// The banner under the header: the last operation's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
}

/// The start card: where a newcomer begins (the tutorials, an empty broker, the example). It is shown
/// while the page holds nothing yet (no scenario, nothing declared) unless closed, and whenever asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StartCard {
    /// Closed by the user: an empty broker stays empty without the card.
    pub dismissed: bool,
    /// Opened from the header's "Start" button, whatever the page holds.
    pub requested: bool,
}

/// A result drawn in response to a click, which the view showing it scrolls into view
/// (`components::use_reveal`): the user sees what the click did without hunting for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reveal {
    /// The routing explanation.
    Explanation,
    /// The messages "Get messages" took.
    Taken,
    /// A peek's list.
    Peeked,
    /// The message detail.
    Message,
    /// The lineage of a message that is in no queue any more.
    Lineage,
    /// The inspector (a node or binding selected).
    Inspector,
}

/// The last click's result to reveal, and a serial that every such click increments: asking for the
/// same result again reveals it again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Revealed {
    pub serial: u64,
    pub what: Option<Reveal>,
}

/// A routing explanation for a would-be publish.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteExplanation {
    pub exchange: String,
    pub routing_key: String,
    /// `None`: the exchange does not exist.
    pub checks: Option<Vec<BindingCheck>>,
    pub alternate_exchange: Option<String>,
}

// Actions are transient (built, dispatched, consumed), so `Apply`'s inline method costs nothing worth a
// Box at every call site; the engine's `Method` makes the same choice.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    TogglePlay,
    Step,
    SetSpeed(f64),
    /// Wall time passed while playing, in milliseconds.
    Tick {
        wall_millis: f64,
    },
    SetTab(Tab),
    Select(Option<Selection>),
    /// Send a method on the UI's channel; `done` is the success message.
    Apply {
        method: Method,
        done: String,
    },
    /// A form could not build its method (the text says why).
    FormError(String),
    Get {
        queue: String,
        count: u32,
        mode: AckMode,
    },
    Peek {
        queue: String,
    },
    ShowMessage(Box<Delivery>),
    CloseMessage,
    Explain {
        exchange: String,
        routing_key: String,
        headers: FieldTable,
    },
    DismissNotice,
    CycleTheme,
    /// Declares a small example topology through the UI connection and a worker connection.
    LoadExample,
    /// Replaces the engine with a run of a bundled scenario (by its id in [`crate::scenarios::BUNDLED`]).
    LoadScenario(String),
    /// Replaces the engine with an empty hand-built broker (the start card's "empty broker").
    LoadEmpty,
    /// Shows the start card (the tutorials, the empty broker, the example) again.
    ShowStart,
    /// Adds a producer or a consumer to what the page plays ([`actors`]).
    AddActor(actors::NewActor),
    /// Closes the start card.
    CloseStart,
    /// Replaces the engine with a run of a scenario document given as JSON text.
    LoadDocument(String),
    /// Runs the engine to a virtual time at once and pauses (the embed API's "run until").
    RunUntil(VirtualTime),
    /// Rewind, scrubbing, fast-forward and charts ([`timeline`]).
    Timeline(timeline::TimelineAction),
    /// Definitions, scenario editing, moving and replaying messages, lineage ([`editing`]).
    Edit(editing::EditAction),
    /// Workspaces, durability across reloads, permalinks and files ([`workspace`]).
    Workspace(workspace::WorkspaceAction),
    /// The scripting engine's load finished ([`scripting`]).
    Scripting(scripting::ScriptingAction),
    /// Reading a stream queue by hand ([`streams`]).
    Stream(streams::StreamAction),
}

/// The page's state. Cheap to clone: the engine is shared, not copied.
///
/// Equality is identity of the reduce that made the state ([`AppState::serial`]), not a comparison of
/// its parts: Yew compares the context's states at every render of the app, and a derived comparison of
/// every field (taken messages, peeks, the editor's and the workspace's slices) was 7.9 kB of the page's
/// code (BENCHMARKS.md, "The RabbitMQ page's first download, 2026-12-08").
#[derive(Clone)]
pub struct AppState {
    /// Which reduce made this state: each one that does not return its input numbers its output one
    /// more, so a state and its clones are equal and the outputs of two reduces never are. An action
    /// that changes nothing shown still makes a new state, which re-renders what reads it to the same
    /// DOM (a tick not to be shown keeps the same state, as before).
    serial: u64,
    pub session: Rc<RefCell<Session>>,
    /// The session's version when this state was made; a change re-renders what reads the session.
    pub version: u64,
    pub playing: bool,
    pub speed: f64,
    /// Whether the last tick could not catch up with wall time (too much work at this speed).
    pub lagging: bool,
    /// Fractional virtual milliseconds carried to the next tick (slow speeds advance by < 1 ms a tick).
    /// A cell, like `unshown_millis`: a tick that changes nothing on screen keeps the same state.
    carry_millis: Cell<f64>,
    /// Wall milliseconds played since the views last re-read the session ([`VIEW_REFRESH_MILLIS`]).
    unshown_millis: Cell<f64>,
    pub tab: Tab,
    pub selected: Option<Selection>,
    pub notice: Option<Notice>,
    /// The messages the last "Get messages" took, and what was done with them.
    pub got: Vec<(Delivery, AckMode)>,
    /// The last peek: queue name and its ready messages.
    pub peeked: Option<(String, Vec<Delivery>)>,
    /// The message shown in the detail panel.
    pub message: Option<Box<Delivery>>,
    pub explanation: Option<RouteExplanation>,
    /// The last publish from the page came back with `basic.return` (mandatory, unroutable): the text for
    /// the publish form ("312 NO_ROUTE …").
    pub publish_returned: Option<String>,
    /// What the last click drew, to be scrolled into view.
    pub revealed: Revealed,
    pub theme: Theme,
    /// Whether the start card is shown ([`AppState::start_card_shown`]).
    pub start: StartCard,
    pub timeline: timeline::TimelineState,
    pub edit: editing::EditState,
    pub workspace: workspace::WorkspaceState,
    pub scripting: scripting::ScriptingState,
}

impl PartialEq for AppState {
    fn eq(&self, other: &Self) -> bool {
        self.serial == other.serial && Rc::ptr_eq(&self.session, &other.session)
    }
}

impl Default for AppState {
    fn default() -> Self {
        AppState::new(Session::new(42))
    }
}

impl AppState {
    pub fn new(session: Session) -> Self {
        let version = session.version();
        AppState {
            serial: 0,
            session: Rc::new(RefCell::new(session)),
            version,
            playing: false,
            speed: 1.0,
            lagging: false,
            carry_millis: Cell::new(0.0),
            unshown_millis: Cell::new(0.0),
            tab: Tab::Queues,
            selected: None,
            notice: None,
            got: Vec::new(),
            peeked: None,
            message: None,
            explanation: None,
            publish_returned: None,
            revealed: Revealed::default(),
            theme: Theme::System,
            start: StartCard::default(),
            timeline: timeline::TimelineState::default(),
            edit: editing::EditState::default(),
            workspace: workspace::WorkspaceState::default(),
            scripting: scripting::ScriptingState::default(),
        }
    }

    /// The virtual clock.
    pub fn now(&self) -> VirtualTime {
        self.session.borrow().now()
    }

    /// Forgets what was shown of the session being replaced (peek, taken messages, the message detail, a
    /// routing explanation, a fast-forward in progress), so nothing of the old run stays on screen.
    pub(crate) fn forget_shown(&mut self) {
        self.playing = false;
        self.lagging = false;
        self.carry_millis.set(0.0);
        self.selected = None;
        self.got.clear();
        self.peeked = None;
        self.message = None;
        self.explanation = None;
        self.publish_returned = None;
        self.timeline.fast_forward = None;
        self.timeline.run_to_text.clear();
        self.start.requested = false;
    }

    /// Whether the start card is shown: asked for, or the page holds nothing yet and it was not closed.
    pub fn start_card_shown(&self) -> bool {
        if self.start.requested {
            return true;
        }
        if self.start.dismissed || self.timeline.fast_forward.is_some() {
            return false;
        }
        let session = self.session.borrow();
        let broker = session.broker();
        session.scenario().is_none()
            && broker.queues().is_empty()
            && broker.exchanges().iter().all(|x| x.name.is_empty() || x.name.starts_with("amq."))
    }

    pub(crate) fn info(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice { kind: NoticeKind::Info, text: text.into() });
    }

    /// Asks the view of `what` to scroll it into view (again, if it already was).
    pub(crate) fn reveal(&mut self, what: Reveal) {
        self.revealed = Revealed { serial: self.revealed.serial.wrapping_add(1), what: Some(what) };
    }

    pub(crate) fn error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice { kind: NoticeKind::Error, text: text.into() });
    }

    /// Applies an action in place (the [`Reducible`] impl wraps this). An action that opens a document
    /// with scripts waits for the scripting engine first ([`scripting`]).
    pub fn apply(&mut self, action: Action) {
        let Some(action) = self.admit(action) else { return };
        match action {
            Action::TogglePlay => {
                self.playing = !self.playing;
                self.carry_millis.set(0.0);
                self.lagging = false;
            }
            Action::Step => {
                self.playing = false;
                let stepped = self.session.borrow_mut().step();
                match stepped {
                    Some(at) if self.session.borrow().finished() => self.announce_end_at(at),
                    Some(at) => self.info(format!("Stepped to {at}")),
                    None => self.info("Nothing scheduled: no timer is pending (TTL, queue expiry)"),
                }
            }
            Action::SetSpeed(speed) => {
                // Only the offered speeds: a crafted value cannot make a tick run away.
                if SPEEDS.contains(&speed) {
                    self.speed = speed;
                }
            }
            Action::Tick { wall_millis } => {
                if let Some(tick) = self.advance(wall_millis) {
                    self.show_tick(tick);
                }
            }
            Action::SetTab(tab) => self.tab = tab,
            Action::Select(selection) => {
                if selection.is_some() {
                    self.reveal(Reveal::Inspector);
                }
                self.selected = selection;
            }
            Action::Apply { method, done } => self.apply_method(method, done),
            Action::FormError(text) => self.error(text),
            Action::Get { queue, count, mode } => self.get(&queue, count, mode),
            Action::Peek { queue } => {
                let peeked = self.session.borrow().broker().peek(&queue);
                match peeked {
                    Some(messages) => {
                        let ready = count(messages.len() as u64, "ready message", "ready messages");
                        self.info(format!("Queue '{queue}' holds {ready}"));
                        self.peeked = Some((queue, messages));
                        self.reveal(Reveal::Peeked);
                    }
                    None => self.error(format!("404 NOT_FOUND - no queue '{queue}' in vhost '/'")),
                }
            }
            Action::ShowMessage(delivery) => {
                self.message = Some(delivery);
                self.reveal(Reveal::Message);
            }
            Action::CloseMessage => self.message = None,
            Action::Explain { exchange, routing_key, headers } => {
                let session = self.session.borrow();
                let broker = session.broker();
                let checks = broker.explain_route(&exchange, &routing_key, &headers);
                let alternate_exchange =
                    broker.exchanges().into_iter().find(|x| x.name == exchange).and_then(|x| {
                        match x.arguments.get("alternate-exchange") {
                            Some(FieldValue::Str(ae)) => Some(ae.clone()),
                            _ => None,
                        }
                    });
                drop(session);
                self.explanation =
                    Some(RouteExplanation { exchange, routing_key, checks, alternate_exchange });
                self.reveal(Reveal::Explanation);
            }
            Action::DismissNotice => self.notice = None,
            Action::CycleTheme => self.theme = self.theme.next(),
            Action::LoadExample => self.load_example(),
            Action::LoadScenario(id) => match crate::scenarios::bundled_text(&id) {
                Some(text) => self.load_document(text),
                None => self.error(format!("No bundled scenario '{id}'")),
            },
            Action::LoadDocument(text) => self.load_document(&text),
            Action::LoadEmpty => {
                let mut fresh = Session::new(42);
                fresh.continue_versions_from(self.session.borrow().version());
                *self.session.borrow_mut() = fresh;
                self.workspace.scenario_text = None;
                self.forget_shown();
                self.start = StartCard { dismissed: true, requested: false };
                self.info(
                    "An empty broker: declare exchanges and queues in the tabs, publish from Messages, and add \
                     producers and consumers to watch messages flow",
                );
            }
            Action::ShowStart => self.start.requested = true,
            Action::AddActor(actor) => self.add_actor(actor),
            Action::CloseStart => self.start = StartCard { dismissed: true, requested: false },
            Action::RunUntil(target) => self.run_until(target),
            Action::Timeline(a) => self.apply_timeline(a),
            Action::Edit(a) => {
                let lineage = matches!(a, editing::EditAction::ShowLineage(_));
                self.apply_editing(a);
                if lineage && self.message.is_some() {
                    self.reveal(Reveal::Message);
                } else if lineage && self.edit.lineage_of.is_some() {
                    self.reveal(Reveal::Lineage);
                }
            }
            Action::Workspace(a) => self.apply_workspace(a),
            Action::Scripting(a) => self.apply_scripting(a),
            Action::Stream(a) => self.apply_stream(a),
        }
        self.version = self.session.borrow().version();
        self.refresh_peek();
    }

    /// Sends a form's method on the UI's channel and says what came of it. A mandatory publish that no
    /// queue took comes back as `basic.return` 312 NO_ROUTE (RabbitMQ's answer to the publisher), and the
    /// notice says so instead of "Published".
    fn apply_method(&mut self, method: Method, done: String) {
        // The page is a client of the broker: a name, key or header over 255 bytes cannot be encoded, so
        // it is refused here as a client library refuses it (pika's ShortStringTooLong), before it is sent;
        // the page's connection stays open.
        if let Err(too_long) = method.check_short_strings() {
            self.error(too_long.to_string());
            return;
        }
        let published = match &method {
            Method::BasicPublish { exchange, routing_key, .. } => {
                Some((exchange.clone(), routing_key.clone()))
            }
            _ => None,
        };
        let log_before = self.session.borrow().log().len();
        let result = self.session.borrow_mut().ui_apply(method);
        self.publish_returned = None;
        match result {
            Ok(Reply::QueueDeclareOk { queue, message_count, consumer_count }) => self.info(format!(
                "{done}: queue '{queue}' ({}, {})",
                count(message_count.into(), "message", "messages"),
                count(consumer_count.into(), "consumer", "consumers")
            )),
            Ok(Reply::QueuePurgeOk { message_count }) => {
                self.info(format!("{done}: {} purged", count(message_count.into(), "message", "messages")))
            }
            Ok(Reply::QueueDeleteOk { message_count }) => {
                self.info(format!("{done} ({} deleted)", count(message_count.into(), "message", "messages")))
            }
            Ok(_) => {
                let returned = published.and_then(|(exchange, key)| {
                    let session = self.session.borrow();
                    let ui = session.ui_connection();
                    session.log()[log_before..].iter().find_map(|e| match &e.event {
                        broker_core::amqp::Event::Returned { connection, reply_code, reply_text, .. }
                            if Some(*connection) == ui =>
                        {
                            let via = if exchange.is_empty() { "the default exchange".to_string() } else { format!("exchange '{exchange}'") };
                            Some(format!(
                                "Returned to the publisher: {reply_code} {reply_text} - the mandatory message published to \
                                 {via} with routing key '{key}' matched no queue"
                            ))
                        }
                        _ => None,
                    })
                });
                // On a transactional channel a publish waits for tx.commit: the notice says so.
                let held = {
                    let session = self.session.borrow();
                    session
                        .ui_connection()
                        .and_then(|c| session.broker().transaction_held(c, session.ui_channel()))
                };
                match returned {
                    Some(text) => {
                        self.publish_returned = Some(text.clone());
                        self.error(text);
                    }
                    None => match held {
                        Some((publishes, settlements)) if publishes + settlements > 0 => self.info(format!(
                            "{done} (held by the transaction until tx.commit: {}, {})",
                            count(publishes as u64, "publish", "publishes"),
                            count(settlements as u64, "settlement", "settlements")
                        )),
                        _ => self.info(done),
                    },
                }
            }
            Err(e) => self.error(e.to_string()),
        }
    }

    /// Keeps the peek list what the queue holds now: it is re-read after every change (a scenario
    /// loaded, a rewind, a restart, a tick shown), and dropped when the queue is gone.
    fn refresh_peek(&mut self) {
        let Some((queue, shown)) = &self.peeked else { return };
        let now = self.session.borrow().broker().peek(queue);
        match now {
            Some(messages) if &messages == shown => {}
            Some(messages) => self.peeked = Some((queue.clone(), messages)),
            None => self.peeked = None,
        }
    }

    /// "Get messages": takes up to `count` with manual ack, then settles them all as `mode` says (after
    /// taking them all, so a requeued message is not taken twice).
    fn get(&mut self, queue: &str, at_most: u32, mode: AckMode) {
        let mut taken = Vec::new();
        let mut session = self.session.borrow_mut();
        for _ in 0..at_most.clamp(1, 100) {
            match session.ui_apply(Method::BasicGet { queue: queue.to_string(), auto_ack: false }) {
                Ok(Reply::BasicGetOk(d)) => taken.push(*d),
                Ok(_) => break,
                Err(e) => {
                    drop(session);
                    self.error(e.to_string());
                    return;
                }
            }
        }
        for d in &taken {
            let delivery_tag = d.delivery_tag;
            let settle = match mode {
                AckMode::Ack => Method::BasicAck { delivery_tag, multiple: false },
                AckMode::NackRequeue => Method::BasicNack { delivery_tag, multiple: false, requeue: true },
                AckMode::RejectDrop => Method::BasicReject { delivery_tag, requeue: false },
            };
            if let Err(e) = session.ui_apply(settle) {
                drop(session);
                self.error(e.to_string());
                return;
            }
        }
        drop(session);
        if taken.is_empty() {
            self.info(format!("Queue '{queue}' is empty"));
        } else {
            self.info(format!("Got {} from '{queue}'", count(taken.len() as u64, "message", "messages")));
        }
        self.message = taken.first().cloned().map(Box::new);
        self.got = taken.into_iter().map(|d| (d, mode)).collect();
        if !self.got.is_empty() {
            self.reveal(Reveal::Taken);
        }
    }

    /// Replaces the session with a run of `text`; a malformed document leaves the session as it was and
    /// shows the parser's located error.
    fn load_document(&mut self, text: &str) {
        let mut session = match Session::from_scenario(text) {
            Ok(s) => s,
            Err(e) => {
                self.error(format!("This scenario cannot be loaded: {e}"));
                return;
            }
        };
        session.continue_versions_from(self.session.borrow().version());
        let name = session.scenario().map(|s| s.name.clone()).unwrap_or_default();
        *self.session.borrow_mut() = session;
        self.workspace.scenario_text = Some(text.to_string()); // saved with the workspace
        self.forget_shown();
        self.info(format!("Loaded scenario '{name}': press play or step through it"));
    }

    /// The engine's part of a driver tick: while playing, moves virtual time by the wall time passed
    /// times the speed (bounded work). Changes only the shared session and the cells, so the state
    /// itself stays valid to keep; `None` when nothing was to be done.
    fn advance(&self, wall_millis: f64) -> Option<TickOutcome> {
        if !self.playing || !wall_millis.is_finite() || wall_millis <= 0.0 {
            return None;
        }
        let wall_millis = wall_millis.min(MAX_TICK_WALL_MILLIS);
        let virtual_millis = wall_millis * self.speed + self.carry_millis.get();
        let whole = virtual_millis.floor();
        self.carry_millis.set(virtual_millis - whole);
        let mut session = self.session.borrow_mut();
        let target = session.now().plus_millis(whole as u64);
        let caught_up = session.run_until(target, MAX_INSTANTS_PER_TICK);
        let finished = session.finished();
        drop(session);
        if !caught_up {
            self.carry_millis.set(0.0);
        }
        self.unshown_millis.set(self.unshown_millis.get() + wall_millis);
        Some(TickOutcome { caught_up, finished })
    }

    /// Whether a tick's outcome must be shown now: the run ended, lagging started or stopped, or the
    /// views have not re-read the session for [`VIEW_REFRESH_MILLIS`].
    fn tick_shows(&self, tick: TickOutcome) -> bool {
        tick.finished || self.lagging == tick.caught_up || self.unshown_millis.get() >= VIEW_REFRESH_MILLIS
    }

    /// The page's part of a driver tick: the flags, the end of the run.
    fn show_tick(&mut self, tick: TickOutcome) {
        self.unshown_millis.set(0.0);
        self.refresh_peek();
        self.lagging = !tick.caught_up;
        if tick.finished {
            self.playing = false;
            self.lagging = false;
            self.announce_end();
        }
    }

    /// Runs to `target` (the scenario's end at most) and pauses; the work is bounded, and if the bound is
    /// hit the clock stops short and the banner says where.
    fn run_until(&mut self, target: VirtualTime) {
        self.playing = false;
        self.lagging = false;
        self.carry_millis.set(0.0);
        let caught_up = self.session.borrow_mut().run_until(target, RUN_UNTIL_MAX_INSTANTS);
        if self.session.borrow().finished() {
            self.announce_end();
        } else if caught_up {
            self.info(format!("Ran to {target}"));
        } else {
            self.error(format!("Stopped at {} before {target}: too many events at once", self.now()));
        }
    }

    fn announce_end(&mut self) {
        let at = self.now();
        self.announce_end_at(at);
    }

    /// The banner at a scenario's end: how its checks came out.
    fn announce_end_at(&mut self, at: VirtualTime) {
        let session = self.session.borrow();
        if let Some(why) = session.stopped() {
            drop(session);
            self.error(format!("The run stopped at {at}: {why}"));
            return;
        }
        let checks = session.checks();
        drop(session);
        let passed = checks.iter().filter(|c| c.status == CheckStatus::Pass).count();
        let text = format!("Scenario ended at {at}: {passed} of {} checks pass", checks.len());
        if passed == checks.len() {
            self.info(text);
        } else {
            self.error(text);
        }
    }

    /// "Load example": a fresh hand-built broker holding the example topology, replacing what was open
    /// (as loading a scenario does), so the example never mixes into another run.
    fn load_example(&mut self) {
        let mut fresh = Session::new(42);
        fresh.continue_versions_from(self.session.borrow().version());
        *self.session.borrow_mut() = fresh;
        self.workspace.scenario_text = None;
        self.forget_shown();
        let mut methods = Vec::new();
        let queue = |name: &str, args: FieldTable| Method::QueueDeclare {
            queue: name.into(),
            passive: false,
            durable: true,
            exclusive: false,
            auto_delete: false,
            arguments: args,
        };
        let exchange = |name: &str, kind: &str| Method::ExchangeDeclare {
            exchange: name.into(),
            exchange_type: kind.into(),
            passive: false,
            durable: true,
            auto_delete: false,
            internal: false,
            arguments: FieldTable::new(),
        };
        let bind = |q: &str, x: &str, key: &str| Method::QueueBind {
            queue: q.into(),
            exchange: x.into(),
            routing_key: key.into(),
            arguments: FieldTable::new(),
        };
        methods.push(exchange("orders", "topic"));
        methods.push(exchange("orders.dlx", "fanout"));
        methods.push(exchange("audit", "fanout"));
        let mut args = FieldTable::new();
        args.insert("x-message-ttl".into(), FieldValue::Int(5000));
        args.insert("x-dead-letter-exchange".into(), FieldValue::Str("orders.dlx".into()));
        methods.push(queue("orders.eu", args.clone()));
        methods.push(queue("orders.us", args));
        methods.push(queue("orders.dead", FieldTable::new()));
        methods.push(queue("audit.log", FieldTable::new()));
        methods.push(bind("orders.eu", "orders", "order.eu.*"));
        methods.push(bind("orders.us", "orders", "order.us.#"));
        methods.push(bind("orders.dead", "orders.dlx", ""));
        methods.push(bind("audit.log", "audit", ""));
        methods.push(Method::ExchangeBind {
            destination: "audit".into(),
            source: "orders".into(),
            routing_key: "#".into(),
            arguments: FieldTable::new(),
        });
        let mut session = self.session.borrow_mut();
        for m in methods {
            if let Err(e) = session.ui_apply(m) {
                drop(session);
                self.error(e.to_string());
                return;
            }
        }
        // A worker consuming one queue with prefetch 1 and no acks: one message stays unacked.
        let (conn, ch) = session.connect_client("worker-1");
        let setup = [
            Method::BasicQos { prefetch_size: 0, prefetch_count: 1, global: false },
            Method::BasicConsume {
                queue: "audit.log".into(),
                consumer_tag: "audit-worker".into(),
                auto_ack: false,
                exclusive: false,
                arguments: FieldTable::new(),
            },
        ];
        for m in setup {
            if let Err(e) = session.client_apply(conn, ch, m) {
                drop(session);
                self.error(e.to_string());
                return;
            }
        }
        let (producer, pch) = session.connect_client("order-service");
        for (i, key) in ["order.eu.created", "order.us.ny.created", "order.eu.paid"].iter().enumerate() {
            let publish = Method::BasicPublish {
                exchange: "orders".into(),
                routing_key: key.to_string(),
                mandatory: false,
                properties: Default::default(),
                body: format!("{{\"order\": {}}}", i + 1).into_bytes(),
                immediate: false,
            };
            if let Err(e) = session.client_apply(producer, pch, publish) {
                drop(session);
                self.error(e.to_string());
                return;
            }
        }
        drop(session);
        self.info(
            "Loaded the example in a fresh broker: a topic exchange with TTL queues dead-lettering to 'orders.dead'",
        );
    }
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        if let Action::Tick { wall_millis } = action {
            // The engine moves at every tick; the page re-renders only when the tick is to be shown, so
            // a tick that is not keeps the same state (and Yew renders nothing).
            return match self.advance(wall_millis) {
                Some(tick) if self.tick_shows(tick) => {
                    let mut next = (*self).clone();
                    next.serial = self.serial.wrapping_add(1);
                    next.show_tick(tick);
                    next.version = next.session.borrow().version();
                    Rc::new(next)
                }
                _ => self,
            };
        }
        let mut next = (*self).clone();
        next.serial = self.serial.wrapping_add(1);
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{PublishForm, QueueForm};

    fn state() -> AppState {
        AppState::new(Session::new(7))
    }

    fn declare(s: &mut AppState, form: &QueueForm) {
        s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Declared".into() });
    }

    fn publish_to(s: &mut AppState, queue: &str, body: &str) {
        let form = PublishForm { routing_key: queue.into(), body: body.into(), ..PublishForm::default() };
        s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Published".into() });
    }

    fn ready(s: &AppState, queue: &str) -> u32 {
        s.session.borrow().broker().queues().iter().find(|q| q.name == queue).map_or(0, |q| q.messages_ready)
    }

    #[test]
    fn states_are_equal_only_as_outputs_of_the_same_reduce() {
        let first = Rc::new(state());
        assert!(*first == (*first).clone(), "a clone is the same state");
        // A new state even when nothing shown changed: what reads it re-renders (to the same DOM).
        let closed = Rc::clone(&first).reduce(Action::DismissNotice);
        assert!(*closed != *first);
        let again = Rc::clone(&closed).reduce(Action::DismissNotice);
        assert!(*again != *closed && *again != *first);
        // A tick of a paused page is not shown: the same state comes back, equal to itself.
        let paused = Rc::clone(&again).reduce(Action::Tick { wall_millis: 10.0 });
        assert!(Rc::ptr_eq(&paused, &again) && *paused == *again);
        // Two pages' states are never equal, even made by as many reduces.
        assert!(*Rc::new(state()) != *first);
    }

    #[test]
    fn a_refusal_shows_rabbitmq_text_and_the_next_action_works() {
        let mut s = state();
        declare(&mut s, &QueueForm { name: "q".into(), ..QueueForm::default() });
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info);
        let v = s.version;
        declare(&mut s, &QueueForm { name: "q".into(), durable: false, ..QueueForm::default() });
        let notice = s.notice.clone().unwrap();
        assert_eq!(notice.kind, NoticeKind::Error);
        assert!(
            notice.text.starts_with("406 PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q'"),
            "{}",
            notice.text
        );
        assert!(s.version > v, "the refusal is in the log, so the version moved");
        publish_to(&mut s, "q", "hi");
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
        assert_eq!(ready(&s, "q"), 1);
    }

    #[test]
    fn get_with_each_ack_mode() {
        let mut s = state();
        declare(&mut s, &QueueForm { name: "q".into(), ..QueueForm::default() });
        publish_to(&mut s, "q", "one");
        publish_to(&mut s, "q", "two");
        s.apply(Action::Get { queue: "q".into(), count: 2, mode: AckMode::NackRequeue });
        assert_eq!(s.got.len(), 2);
        assert_eq!(ready(&s, "q"), 2, "nack requeue puts them back");
        s.apply(Action::Get { queue: "q".into(), count: 1, mode: AckMode::Ack });
        assert!(s.got[0].0.redelivered, "taken again after a requeue");
        assert_eq!(s.got[0].0.body, b"one");
        assert_eq!(ready(&s, "q"), 1);
        s.apply(Action::Get { queue: "q".into(), count: 1, mode: AckMode::RejectDrop });
        assert_eq!(ready(&s, "q"), 0);
        s.apply(Action::Get { queue: "q".into(), count: 1, mode: AckMode::Ack });
        assert!(s.got.is_empty());
        assert!(s.notice.as_ref().unwrap().text.contains("empty"));
        s.apply(Action::Get { queue: "missing".into(), count: 1, mode: AckMode::Ack });
        assert!(s.notice.as_ref().unwrap().text.starts_with("404 NOT_FOUND"));
    }

    #[test]
    fn ticks_move_the_engine_at_once_and_the_views_ten_times_a_second() {
        let mut s = state();
        publish_to(&mut s, "", "x"); // something in the session
        s.apply(Action::TogglePlay);
        let mut shown = Rc::new(s);
        let mut renders = 0;
        for i in 1..=30 {
            let before = Rc::clone(&shown);
            shown = Rc::clone(&shown).reduce(Action::Tick { wall_millis: 10.0 });
            assert_eq!(shown.now(), VirtualTime::from_millis(10 * i), "the engine moves at every tick");
            if !Rc::ptr_eq(&before, &shown) {
                renders += 1;
                assert_eq!(shown.version, shown.session.borrow().version(), "a shown state is current");
            }
        }
        assert_eq!(renders, 3, "300 ms of ticks are shown three times");
        // Pausing is an ordinary action: shown at once, with the session's latest version.
        let paused = Rc::clone(&shown).reduce(Action::TogglePlay);
        assert!(!paused.playing);
        assert_eq!(paused.version, paused.session.borrow().version());
        assert!(Rc::ptr_eq(&paused, &Rc::clone(&paused).reduce(Action::Tick { wall_millis: 10.0 })));
    }

    #[test]
    fn ticks_advance_virtual_time_by_speed_only_while_playing() {
        let mut s = state();
        s.apply(Action::Tick { wall_millis: 100.0 });
        assert_eq!(s.now(), VirtualTime::ZERO, "paused: time stands still");
        s.apply(Action::SetSpeed(10.0));
        s.apply(Action::TogglePlay);
        s.apply(Action::Tick { wall_millis: 100.0 });
        assert_eq!(s.now(), VirtualTime::from_millis(1000));
        s.apply(Action::SetSpeed(0.1));
        for _ in 0..25 {
            s.apply(Action::Tick { wall_millis: 4.0 });
        }
        assert_eq!(s.now(), VirtualTime::from_millis(1010), "fractions carry over");
        s.apply(Action::SetSpeed(3.7));
        assert_eq!(s.speed, 0.1, "only offered speeds");
        s.apply(Action::Tick { wall_millis: f64::NAN });
        assert_eq!(s.now(), VirtualTime::from_millis(1010));
    }

    #[test]
    fn step_fires_the_next_deadline_and_pauses() {
        let mut s = state();
        let mut form = QueueForm { name: "ttl".into(), ..QueueForm::default() };
        form.arguments =
            vec![crate::forms::FieldRow::new("x-message-ttl", crate::forms::ValueKind::Number, "250")];
        declare(&mut s, &form);
        publish_to(&mut s, "ttl", "x");
        s.apply(Action::TogglePlay);
        s.apply(Action::Step);
        assert!(!s.playing);
        assert_eq!(s.now(), VirtualTime::from_millis(250));
        assert_eq!(ready(&s, "ttl"), 0, "expired");
        s.apply(Action::Step);
        assert!(s.notice.as_ref().unwrap().text.starts_with("Nothing scheduled"));
    }

    #[test]
    fn the_work_queues_scenario_plays_to_its_end_and_every_check_passes() {
        let mut s = state();
        s.apply(Action::LoadScenario("02-work-queues".into()));
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
        let checks = s.session.borrow().checks();
        let n = checks.len();
        assert!(n >= 5, "{checks:?}");
        assert!(checks.iter().all(|c| c.status == CheckStatus::Pending), "{checks:?}");
        // Step once by hand, then play at the top speed: bounded ticks until the run ends and pauses.
        assert_eq!(s.session.borrow().ui_connection(), None, "the UI stays out of an untouched run");
        let log_before = s.session.borrow().log().len();
        s.apply(Action::Step);
        assert!(s.notice.as_ref().unwrap().text.starts_with("Stepped to"), "{:?}", s.notice);
        assert!(s.session.borrow().log().len() > log_before, "the actors connected");
        s.apply(Action::SetSpeed(1000.0));
        s.apply(Action::TogglePlay);
        let mut ticks = 0;
        while s.playing {
            s.apply(Action::Tick { wall_millis: 33.0 });
            ticks += 1;
            assert!(ticks < 1000, "10 virtual seconds at 1000× end within a second of ticks");
        }
        let session = s.session.borrow();
        assert!(session.finished());
        assert_eq!(s.now(), VirtualTime::from_millis(10_000));
        let checks = session.checks();
        assert!(checks.iter().all(|c| c.status == CheckStatus::Pass), "{checks:#?}");
        assert_eq!(session.counters("task_queue").acked, 10, "ten tasks consumed and acknowledged");
        assert!(session.log().iter().any(|e| matches!(e.event, broker_core::amqp::Event::Delivered { .. })));
        drop(session);
        assert_eq!(ready(&s, "task_queue"), 0);
        let all = format!("{n} of {n} checks pass");
        assert!(s.notice.as_ref().unwrap().text.contains(&all), "{:?}", s.notice);
    }

    #[test]
    fn manual_operations_act_on_the_scenario_broker() {
        let mut s = state();
        s.apply(Action::LoadScenario("02-work-queues".into()));
        // Publish a task of our own before the producer starts: worker-2 does it too.
        publish_to(&mut s, "task_queue", "mine");
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
        assert_eq!(ready(&s, "task_queue"), 1);
        s.apply(Action::SetSpeed(1000.0));
        s.apply(Action::TogglePlay);
        for _ in 0..1000 {
            if !s.playing {
                break;
            }
            s.apply(Action::Tick { wall_millis: 33.0 });
        }
        let session = s.session.borrow();
        assert!(session.finished());
        assert_eq!(session.counters("task_queue").acked, 11, "the UI's message was consumed as well");
        let ui = session.ui_connection().expect("opened on first use");
        assert!(session.connections()[&ui].published_to.contains_key(""));
    }

    #[test]
    fn a_malformed_document_is_refused_with_its_error_and_the_session_stays() {
        let mut s = state();
        declare(&mut s, &QueueForm { name: "kept".into(), ..QueueForm::default() });
        s.apply(Action::LoadDocument("{ \"brokerlab\": 2, \"name\": ".into()));
        let notice = s.notice.clone().unwrap();
        assert_eq!(notice.kind, NoticeKind::Error);
        assert!(notice.text.starts_with("This scenario cannot be loaded: 1:"), "{}", notice.text);
        assert!(s.session.borrow().scenario().is_none());
        s.apply(Action::LoadDocument(r#"{"brokerlab": 2, "name": "x", "duration": "1s", "checks": [{"description": "d", "queue": "nope"}]}"#.into()));
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Error, "{:?}", s.notice);
        assert_eq!(ready(&s, "kept"), 0);
        assert!(s.session.borrow().broker().queue("kept").is_some(), "the old session is untouched");
        s.apply(Action::LoadScenario("no-such".into()));
        assert!(s.notice.as_ref().unwrap().text.contains("No bundled scenario"));
    }

    #[test]
    fn every_bundled_scenario_loads_and_its_checks_pass_when_played() {
        for (id, _) in crate::scenarios::BUNDLED {
            let mut s = state();
            s.apply(Action::LoadScenario(id.to_string()));
            let mut steps = 0;
            while !s.session.borrow().finished() {
                s.apply(Action::Step);
                steps += 1;
                assert!(steps < 200_000, "{id} ends");
            }
            let checks = s.session.borrow().checks();
            assert!(checks.iter().all(|c| c.status == CheckStatus::Pass), "{id}: {checks:#?}");
        }
    }

    #[test]
    fn the_example_opens_in_a_fresh_broker_instead_of_mixing_into_the_open_one() {
        let mut s = state();
        s.apply(Action::LoadScenario("02-work-queues".into()));
        s.apply(Action::Step);
        s.apply(Action::LoadExample);
        let session = s.session.borrow();
        assert!(session.scenario().is_none(), "the example is a hand-built broker of its own");
        assert!(session.broker().queue("task_queue").is_none(), "nothing of the scenario stays");
        assert_eq!(session.now(), VirtualTime::ZERO);
        drop(session);
        assert!(s.workspace.scenario_text.is_none(), "the workspace no longer saves the scenario");
        assert_eq!(ready(&s, "orders.eu"), 2);
        // Loading it twice gives the same broker (not twice the messages).
        s.apply(Action::LoadExample);
        assert_eq!(ready(&s, "orders.eu"), 2);
    }

    #[test]
    fn counts_in_notices_are_singular_for_one() {
        let mut s = state();
        declare(&mut s, &QueueForm { name: "q".into(), ..QueueForm::default() });
        assert!(s.notice.as_ref().unwrap().text.ends_with("(0 messages, 0 consumers)"), "{:?}", s.notice);
        publish_to(&mut s, "q", "one");
        declare(&mut s, &QueueForm { name: "q".into(), ..QueueForm::default() });
        assert!(s.notice.as_ref().unwrap().text.ends_with("(1 message, 0 consumers)"), "{:?}", s.notice);
        s.apply(Action::Peek { queue: "q".into() });
        assert_eq!(s.notice.as_ref().unwrap().text, "Queue 'q' holds 1 ready message");
        s.apply(Action::Get { queue: "q".into(), count: 5, mode: AckMode::NackRequeue });
        assert_eq!(s.notice.as_ref().unwrap().text, "Got 1 message from 'q'");
        publish_to(&mut s, "q", "two");
        s.apply(Action::Get { queue: "q".into(), count: 5, mode: AckMode::Ack });
        assert_eq!(s.notice.as_ref().unwrap().text, "Got 2 messages from 'q'");
    }

    #[test]
    fn the_peek_list_follows_the_queue_through_loads_rewinds_and_restarts() {
        let mut s = state();
        declare(&mut s, &QueueForm { name: "q".into(), durable: true, ..QueueForm::default() });
        s.session.borrow_mut().run_until(VirtualTime::from_millis(1_000), 100);
        publish_to(&mut s, "q", "one");
        s.apply(Action::Peek { queue: "q".into() });
        assert_eq!(s.peeked.as_ref().unwrap().1.len(), 1);
        publish_to(&mut s, "q", "two");
        assert_eq!(s.peeked.as_ref().unwrap().1.len(), 2, "a publish after the peek shows in the list");
        s.apply(Action::Get { queue: "q".into(), count: 1, mode: AckMode::Ack });
        assert_eq!(s.peeked.as_ref().unwrap().1.len(), 1, "a taken message leaves the list");
        s.apply(Action::Timeline(timeline::TimelineAction::Seek(VirtualTime::from_millis(500))));
        assert_eq!(s.peeked.as_ref().unwrap().1.len(), 0, "rewound to before the publishes");
        s.apply(Action::Workspace(workspace::WorkspaceAction::RestartBroker));
        s.apply(Action::Peek { queue: "q".into() });
        publish_to(&mut s, "q", "three");
        s.apply(Action::LoadScenario("02-work-queues".into()));
        assert!(s.peeked.is_none(), "another scenario: no queue 'q', no list");
    }

    #[test]
    fn a_mandatory_publish_that_no_queue_takes_says_312_no_route() {
        let mut s = state();
        let form = PublishForm {
            exchange: "amq.direct".into(),
            routing_key: "nowhere".into(),
            body: "x".into(),
            mandatory: true,
            ..PublishForm::default()
        };
        s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Published".into() });
        let notice = s.notice.clone().unwrap();
        assert_eq!(notice.kind, NoticeKind::Error, "{notice:?}");
        assert!(notice.text.contains("312 NO_ROUTE"), "{}", notice.text);
        assert!(notice.text.contains("exchange 'amq.direct' with routing key 'nowhere'"), "{}", notice.text);
        assert_eq!(s.publish_returned.as_deref(), Some(notice.text.as_str()));
        // Not mandatory: dropped silently, as RabbitMQ does.
        let form = PublishForm { mandatory: false, ..form };
        s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Published".into() });
        assert_eq!(s.notice.as_ref().unwrap().text, "Published");
        assert!(s.publish_returned.is_none());
    }

    #[test]
    fn a_name_over_255_bytes_is_refused_by_the_form_as_a_client_refuses_it() {
        let mut s = state();
        declare(&mut s, &QueueForm { name: "kept".into(), ..QueueForm::default() });
        let connection = s.session.borrow().ui_connection();
        let long = "q".repeat(256);
        declare(&mut s, &QueueForm { name: long.clone(), ..QueueForm::default() });
        let notice = s.notice.clone().unwrap();
        assert_eq!(notice.kind, NoticeKind::Error, "{notice:?}");
        assert!(
            notice.text.starts_with("ShortStringTooLong: AMQP Short String can contain up to 255 bytes"),
            "{}",
            notice.text
        );
        // Nothing reached the broker: the page's connection is the same one, and no such queue exists.
        assert_eq!(s.session.borrow().ui_connection(), connection);
        assert!(s.session.borrow().broker().queues().iter().all(|q| q.name != long));
        // 255 bytes is a valid name.
        declare(&mut s, &QueueForm { name: "q".repeat(255), ..QueueForm::default() });
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
    }

    #[test]
    fn the_example_loads_and_explains_routing() {
        let mut s = state();
        s.apply(Action::LoadExample);
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
        assert_eq!(ready(&s, "orders.eu"), 2);
        s.apply(Action::Explain {
            exchange: "orders".into(),
            routing_key: "order.eu.created".into(),
            headers: FieldTable::new(),
        });
        let e = s.explanation.clone().unwrap();
        let checks = e.checks.unwrap();
        assert_eq!(checks.iter().filter(|c| c.matched).count(), 2, "orders.eu and the audit exchange");
        s.apply(Action::Explain {
            exchange: "nope".into(),
            routing_key: String::new(),
            headers: FieldTable::new(),
        });
        assert!(s.explanation.as_ref().unwrap().checks.is_none());
    }

    /// Every click that draws a result asks for it to be scrolled into view, again when asked again;
    /// a refused one (a missing queue) does not.
    #[test]
    fn each_click_that_draws_a_result_reveals_it() {
        let mut s = state();
        declare(&mut s, &QueueForm { name: "q".into(), ..QueueForm::default() });
        publish_to(&mut s, "q", "one");
        assert_eq!(s.revealed, Revealed::default(), "a declare or a publish answers in the notice");
        let mut serials = Vec::new();
        let mut expect = |s: &AppState, what: Reveal| {
            assert_eq!(s.revealed.what, Some(what));
            assert!(!serials.contains(&s.revealed.serial), "a new serial for each click");
            serials.push(s.revealed.serial);
        };
        let explain = || Action::Explain {
            exchange: String::new(),
            routing_key: "q".into(),
            headers: FieldTable::new(),
        };
        s.apply(explain());
        expect(&s, Reveal::Explanation);
        s.apply(explain());
        expect(&s, Reveal::Explanation);
        s.apply(Action::Peek { queue: "q".into() });
        expect(&s, Reveal::Peeked);
        let before = s.revealed;
        s.apply(Action::Peek { queue: "missing".into() });
        assert_eq!(s.revealed, before, "a refused peek draws nothing");
        let message = s.peeked.clone().unwrap().1[0].clone();
        s.apply(Action::ShowMessage(Box::new(message.clone())));
        expect(&s, Reveal::Message);
        s.apply(Action::Get { queue: "q".into(), count: 1, mode: AckMode::NackRequeue });
        expect(&s, Reveal::Taken);
        s.apply(Action::Edit(editing::EditAction::ShowLineage(message.message)));
        expect(&s, Reveal::Message);
        s.apply(Action::Select(Some(Selection::Queue("q".into()))));
        expect(&s, Reveal::Inspector);
        let before = s.revealed;
        s.apply(Action::Select(None));
        assert_eq!(s.revealed, before, "closing the inspector reveals nothing");
    }

    #[test]
    fn the_pages_channel_holds_publishes_in_a_transaction_until_commit() {
        let mut s = state();
        declare(&mut s, &QueueForm { name: "q".into(), ..QueueForm::default() });
        let tx = |s: &mut AppState, method: Method| s.apply(Action::Apply { method, done: "done".into() });
        tx(&mut s, Method::TxCommit);
        assert_eq!(
            s.notice.clone().unwrap().text,
            "406 PRECONDITION_FAILED - channel is not transactional",
            "RabbitMQ's refusal"
        );
        tx(&mut s, Method::TxSelect);
        publish_to(&mut s, "q", "a");
        assert_eq!(
            s.notice.clone().unwrap().text,
            "Published (held by the transaction until tx.commit: 1 publish, 0 settlements)"
        );
        publish_to(&mut s, "q", "b");
        assert_eq!(ready(&s, "q"), 0, "held");
        tx(&mut s, Method::TxRollback);
        assert_eq!(ready(&s, "q"), 0, "forgotten");
        publish_to(&mut s, "q", "c");
        tx(&mut s, Method::TxCommit);
        assert_eq!(ready(&s, "q"), 1, "committed");
        assert_eq!(s.notice.clone().unwrap().kind, NoticeKind::Info);
        tx(&mut s, Method::ConfirmSelect);
        assert!(s.notice.clone().unwrap().text.starts_with("406 PRECONDITION_FAILED"), "{:?}", s.notice);
    }
}
