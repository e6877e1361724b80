//! The page's broker session: the engine, the UI's own AMQP connection, the event log and the views
//! derived from it (connections, channels, rates).
//!
//! The session is shared as `Rc<RefCell<Session>>` by the app state so an action never clones the broker;
//! every change bumps [`Session::version`], which the state copies so components know when to re-read.
//! Everything broker-like goes through [`Broker`]; the session only records what the engine reports.
//!
//! The engine is either a plain broker (manual mode: only the user acts) or a [`Simulation`] of a
//! scenario document (its producers and consumers act as time passes, its checks are judged); the UI's
//! forms act on the simulation's broker the same way, through the UI's own connection.

use broker_core::amqp::{
    AmqpError, Broker, BrokerConfig, ChannelNumber, ConnectionId, Event, LoggedEvent, Method, Reply,
};
use broker_core::scenario::sim::{CheckResult, SimOptions, Simulation};
use broker_core::VirtualTime;
use std::collections::{BTreeMap, BTreeSet};

// Parts of the session kept in their own files (child modules see the session's private fields).
mod durability;
pub mod editing;
pub mod timeline;

/// The client-provided name of the connection the UI's forms use (as the management UI's own).
pub const UI_CONNECTION_NAME: &str = "Brokerlab UI";

/// A channel as the event log describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelView {
    pub prefetch: u16,
    pub confirm: bool,
    pub published: u64,
}

/// A connection as the event log describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionView {
    pub name: String,
    pub channels: BTreeMap<ChannelNumber, ChannelView>,
    /// Exchanges this connection has published to (edges of the topology view), by publish count.
    pub published_to: BTreeMap<String, u64>,
}

/// Cumulative per-queue counters from the event log, for rates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounters {
    pub enqueued: u64,
    pub delivered: u64,
    pub acked: u64,
}

/// How many rate samples are kept (one per virtual second): a rate is the mean over this window.
const RATE_WINDOW_SECS: u64 = 5;

/// What drives the broker.
#[derive(Clone)] // rewind snapshots ([`timeline`])
enum Engine {
    /// Manual mode: only the UI acts; time moves the broker's own timers.
    Manual(Box<Broker>),
    /// A scenario document's run.
    Scenario(Box<Simulation>),
}

/// The loaded scenario document's name and description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioInfo {
    pub name: String,
    pub description: String,
}

/// The engine and what the page knows about it.
///
/// # Invariants
/// - `log` holds every event the engine recorded, oldest first; `connections` is exactly what replaying
///   `log`'s connection/channel events gives.
/// - `version` grows on every change that can alter what is shown.
#[derive(Clone)] // rewind snapshots clone it, without `log` and `history` ([`timeline`])
pub struct Session {
    engine: Engine,
    scenario: Option<ScenarioInfo>,
    /// Opened on first use, so a scenario nobody touches runs exactly as the native runner plays it.
    ui_connection: Option<ConnectionId>,
    ui_channel: ChannelNumber,
    next_channel: u16,
    log: Vec<LoggedEvent>,
    connections: BTreeMap<ConnectionId, ConnectionView>,
    counters: BTreeMap<String, QueueCounters>,
    /// Queues the default exchange has routed to (its implicit bindings worth drawing).
    default_routes: BTreeSet<String>,
    /// `(second, counters at that second)` for the last [`RATE_WINDOW_SECS`] virtual seconds.
    samples: Vec<(u64, BTreeMap<String, QueueCounters>)>,
    version: u64,
    /// The loaded scenario document's text, for the editor ([`editing`]).
    edit: editing::EditRecord,
    /// Recorded inputs, snapshots and chart series behind rewind and fast-forward ([`timeline`]).
    history: timeline::History,
}

impl Session {
    /// A fresh broker with the UI's connection and first channel open.
    pub fn new(seed: u64) -> Self {
        let mut s =
            Session::with_engine(Engine::Manual(Box::new(Broker::new(BrokerConfig::default(), seed))), None);
        s.open_ui_channel();
        s.absorb();
        s
    }

    /// A session playing a scenario document (JSON text). A malformed document is refused with the
    /// parser's located message (`line:col: …`).
    pub fn from_scenario(json_text: &str) -> Result<Self, String> {
        let document =
            broker_core::scenario::document::Document::parse(json_text).map_err(|e| e.to_string())?;
        // The session keeps the one log: the simulation hands its events over instead of keeping a copy
        // (which every rewind snapshot would clone).
        let options = SimOptions {
            keep_log: false,
            hand_over_events: true,
            scripts: crate::scripting::factory(),
            ..SimOptions::default()
        };
        let sim = Simulation::from_json(json_text, options).map_err(|e| e.to_string())?;
        let info = ScenarioInfo { name: document.name, description: document.description };
        let mut s = Session::with_engine(Engine::Scenario(Box::new(sim)), Some(info));
        s.edit.document = Some(json_text.into());
        s.absorb();
        Ok(s)
    }

    fn with_engine(engine: Engine, scenario: Option<ScenarioInfo>) -> Self {
        Session {
            engine,
            scenario,
            ui_connection: None,
            ui_channel: ChannelNumber(1),
            next_channel: 1,
            log: Vec::new(),
            connections: BTreeMap::new(),
            counters: BTreeMap::new(),
            default_routes: BTreeSet::new(),
            samples: Vec::new(),
            version: 0,
            edit: editing::EditRecord::default(),
            history: timeline::History::default(),
        }
    }

    /// Continues the version numbering of the session this one replaces, so views memoised on the
    /// version never mistake the new session for the old one.
    pub fn continue_versions_from(&mut self, previous: u64) {
        self.version = self.version.max(previous.saturating_add(1));
    }

    pub fn broker(&self) -> &Broker {
        match &self.engine {
            Engine::Manual(b) => b,
            Engine::Scenario(sim) => sim.broker(),
        }
    }

    fn broker_mut(&mut self) -> &mut Broker {
        match &mut self.engine {
            Engine::Manual(b) => b,
            Engine::Scenario(sim) => sim.broker_mut(),
        }
    }

    /// The virtual clock (a simulation's clock may be ahead of its broker's between broker events).
    pub fn now(&self) -> VirtualTime {
        match &self.engine {
            Engine::Manual(b) => b.now(),
            Engine::Scenario(sim) => sim.now(),
        }
    }

    /// The loaded scenario, if the engine is a simulation.
    pub fn scenario(&self) -> Option<&ScenarioInfo> {
        self.scenario.as_ref()
    }

    /// The loaded scenario's checks as judged now (settled ones keep their verdict); empty in manual mode.
    pub fn checks(&self) -> Vec<CheckResult> {
        match &self.engine {
            Engine::Manual(_) => Vec::new(),
            Engine::Scenario(sim) => sim.check_results(),
        }
    }

    /// The scenario's end (its duration); `None` in manual mode.
    pub fn end(&self) -> Option<VirtualTime> {
        match &self.engine {
            Engine::Manual(_) => None,
            Engine::Scenario(sim) => Some(sim.end()),
        }
    }

    /// The scenario's producers and consumers as declared and where each stands (empty in manual
    /// mode): the graph places them all from the start.
    pub fn actors(&self) -> Vec<broker_core::scenario::sim::ActorStatus<'_>> {
        match &self.engine {
            Engine::Manual(_) => Vec::new(),
            Engine::Scenario(sim) => sim.actors(),
        }
    }

    /// Whether the scenario ran to its end (its final checks are made); always false in manual mode.
    pub fn finished(&self) -> bool {
        match &self.engine {
            Engine::Manual(_) => false,
            Engine::Scenario(sim) => sim.finished() || sim.stopped().is_some(),
        }
    }

    /// Why the scenario's run was stopped early (the engine's runaway guard), if it was.
    pub fn stopped(&self) -> Option<String> {
        match &self.engine {
            Engine::Manual(_) => None,
            Engine::Scenario(sim) => sim.stopped().map(|s| s.message.clone()),
        }
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn log(&self) -> &[LoggedEvent] {
        &self.log
    }

    pub fn connections(&self) -> &BTreeMap<ConnectionId, ConnectionView> {
        &self.connections
    }

    /// The UI's connection, once it has been opened.
    pub fn ui_connection(&self) -> Option<ConnectionId> {
        self.ui_connection
    }

    pub fn ui_channel(&self) -> ChannelNumber {
        self.ui_channel
    }

    fn open_ui_channel(&mut self) {
        // A fresh number each time, as a client library allocates them; the closed one stays in the log.
        let channel = ChannelNumber(self.next_channel);
        self.next_channel = self.next_channel.wrapping_add(1).max(1);
        let at = self.now();
        let connection = match self.ui_connection {
            Some(c) if self.broker().is_open(c) => c,
            _ => {
                let c = self.broker_mut().connect(at, UI_CONNECTION_NAME);
                self.ui_connection = Some(c);
                c
            }
        };
        let opened = self.broker_mut().apply(at, connection, channel, Method::ChannelOpen);
        assert!(opened.is_ok(), "opening a fresh UI channel cannot fail: {opened:?}");
        self.ui_channel = channel;
    }

    /// Sends one method on the UI's channel now. If an earlier error closed that channel (or its
    /// connection), a fresh one is opened first, as RabbitMQ's management UI does per operation.
    pub fn ui_apply(&mut self, method: Method) -> Result<Reply, AmqpError> {
        self.record_input(timeline::Input::Ui(method.clone()));
        let open = self.ui_connection.is_some_and(|c| self.broker().is_channel_open(c, self.ui_channel));
        if !open {
            self.open_ui_channel();
        }
        let connection = self.ui_connection.expect("open_ui_channel opened the UI connection");
        let (at, channel) = (self.now(), self.ui_channel);
        let result = self.broker_mut().apply(at, connection, channel, method);
        self.absorb();
        result
    }

    /// Opens a client connection with one channel (for examples and tests); returns its ids.
    pub fn connect_client(&mut self, name: &str) -> (ConnectionId, ChannelNumber) {
        self.record_input(timeline::Input::Connect(name.to_string()));
        let at = self.now();
        let conn = self.broker_mut().connect(at, name);
        let channel = ChannelNumber(1);
        let opened = self.broker_mut().apply(at, conn, channel, Method::ChannelOpen);
        assert!(opened.is_ok(), "channel 1 of a new connection opens: {opened:?}");
        self.absorb();
        (conn, channel)
    }

    /// Sends a method on a client's channel now.
    pub fn client_apply(
        &mut self,
        connection: ConnectionId,
        channel: ChannelNumber,
        method: Method,
    ) -> Result<Reply, AmqpError> {
        self.record_input(timeline::Input::Client(connection, channel, method.clone()));
        let at = self.now();
        let result = self.broker_mut().apply(at, connection, channel, method);
        self.absorb();
        result
    }

    /// Fires the next scheduled event (one instant); returns its time, or `None` if nothing is scheduled.
    /// A scenario with nothing left to do before its end is run to its end (its final checks are made).
    pub fn step(&mut self) -> Option<VirtualTime> {
        // After a scrub back, the recorded inputs made before the next instant come first.
        self.replay_inputs_before_next_instant();
        let at = match &mut self.engine {
            Engine::Manual(b) => b.step(),
            Engine::Scenario(sim) => match sim.step() {
                Some(at) => Some(at),
                None if !sim.finished() && sim.stopped().is_none() => {
                    sim.run();
                    Some(sim.now())
                }
                None => None,
            },
        };
        self.absorb();
        at
    }

    /// Moves virtual time towards `target`, firing at most `max_instants` deadline instants so one frame's
    /// work is bounded. Returns whether the clock reached `target` (false: it lags behind, work remains).
    pub fn run_until(&mut self, target: VirtualTime, max_instants: usize) -> bool {
        if target <= self.now() {
            return true;
        }
        // Replays recorded inputs after a scrub back, and stops at each sampling boundary for the charts.
        self.run_timeline_until(target, max_instants)
    }

    /// The engine's part of [`run_until`](Self::run_until): deadline instants only, no recorded inputs.
    fn run_engine_until(&mut self, target: VirtualTime, max_instants: usize) -> bool {
        let caught_up = match &mut self.engine {
            Engine::Manual(b) => run_broker_until(b, target, max_instants),
            Engine::Scenario(sim) => run_simulation_until(sim, target, max_instants),
        };
        self.absorb();
        caught_up
    }

    /// Takes the engine's new events into the log and the derived views; bumps the version.
    fn absorb(&mut self) {
        let events = match &mut self.engine {
            Engine::Manual(b) => b.take_events(),
            Engine::Scenario(sim) => {
                // What the UI's own methods caused reaches the actors now, not at the next scheduled event.
                sim.take_outside_effects();
                let mut events = sim.take_events();
                // After the end no step will collect what the UI's own methods caused: take it here
                // (no actor acts any more, so none misses a delivery).
                if sim.finished() || sim.stopped().is_some() {
                    events.extend(sim.broker_mut().take_events());
                }
                events
            }
        };
        for e in &events {
            self.observe(&e.event);
        }
        self.log.extend(events);
        self.sample_rates();
        self.version += 1;
        self.after_absorb();
    }

    fn observe(&mut self, event: &Event) {
        match event {
            Event::ConnectionOpened { connection, name } => {
                let view = ConnectionView {
                    name: name.to_string(),
                    channels: BTreeMap::new(),
                    published_to: BTreeMap::new(),
                };
                self.connections.insert(*connection, view);
            }
            Event::ConnectionClosed { connection, .. } => {
                self.connections.remove(connection);
            }
            Event::ChannelOpened { connection, channel } => {
                if let Some(c) = self.connections.get_mut(connection) {
                    c.channels.insert(*channel, ChannelView::default());
                }
            }
            Event::ChannelClosed { connection, channel, .. } => {
                if let Some(c) = self.connections.get_mut(connection) {
                    c.channels.remove(channel);
                }
            }
            Event::QosSet { connection, channel, prefetch_count, .. } => {
                if let Some(ch) = self.channel_mut(*connection, *channel) {
                    ch.prefetch = *prefetch_count;
                }
            }
            Event::ConfirmSelected { connection, channel } => {
                if let Some(ch) = self.channel_mut(*connection, *channel) {
                    ch.confirm = true;
                }
            }
            Event::Published { connection, channel, exchange, .. } => {
                if let Some(ch) = self.channel_mut(*connection, *channel) {
                    ch.published += 1;
                }
                if let Some(c) = self.connections.get_mut(connection) {
                    match c.published_to.get_mut(&**exchange) {
                        Some(n) => *n += 1,
                        None => {
                            c.published_to.insert(exchange.to_string(), 1);
                        }
                    }
                }
            }
            Event::Routed { exchange, queues, .. } if exchange.is_empty() => {
                for q in queues.iter() {
                    if !self.default_routes.contains(&**q) {
                        self.default_routes.insert(q.to_string());
                    }
                }
            }
            Event::QueueDeleted { queue, .. } => {
                self.default_routes.remove(&**queue);
            }
            Event::Enqueued { queue, .. } => self.queue_counters(queue).enqueued += 1,
            Event::Delivered { queue, .. } => self.queue_counters(queue).delivered += 1,
            Event::Acked { queue, .. } => self.queue_counters(queue).acked += 1,
            _ => {}
        }
    }

    /// A queue's counters, made on first use (without allocating its name on every event).
    fn queue_counters(&mut self, queue: &str) -> &mut QueueCounters {
        if !self.counters.contains_key(queue) {
            self.counters.insert(queue.to_string(), QueueCounters::default());
        }
        self.counters.get_mut(queue).expect("inserted above")
    }

    fn channel_mut(&mut self, connection: ConnectionId, channel: ChannelNumber) -> Option<&mut ChannelView> {
        self.connections.get_mut(&connection)?.channels.get_mut(&channel)
    }

    fn sample_rates(&mut self) {
        let second = self.now().as_millis() / 1000;
        if self.samples.last().is_some_and(|(s, _)| *s == second) {
            return;
        }
        self.samples.push((second, self.counters.clone()));
        let keep_from = second.saturating_sub(RATE_WINDOW_SECS);
        self.samples.retain(|(s, _)| *s >= keep_from);
    }

    /// The queues the default exchange has routed messages to.
    pub fn default_routes(&self) -> &BTreeSet<String> {
        &self.default_routes
    }

    /// A queue's cumulative counters.
    pub fn counters(&self, queue: &str) -> QueueCounters {
        self.counters.get(queue).copied().unwrap_or_default()
    }

    /// Per-second rates `(publish, deliver, ack)` of a queue over the last few virtual seconds.
    pub fn rates(&self, queue: &str) -> (f64, f64, f64) {
        let Some((first_second, first)) = self.samples.first() else { return (0.0, 0.0, 0.0) };
        let span_millis = self.now().as_millis().saturating_sub(first_second * 1000);
        if span_millis == 0 {
            return (0.0, 0.0, 0.0);
        }
        let then = first.get(queue).copied().unwrap_or_default();
        let now = self.counters(queue);
        let per_sec = |a: u64, b: u64| (a.saturating_sub(b)) as f64 * 1000.0 / span_millis as f64;
        (
            per_sec(now.enqueued, then.enqueued),
            per_sec(now.delivered, then.delivered),
            per_sec(now.acked, then.acked),
        )
    }
}

/// Fires the broker's deadline instants up to `target`, at most `max_instants` of them.
fn run_broker_until(broker: &mut Broker, target: VirtualTime, max_instants: usize) -> bool {
    let mut fired = 0;
    while let Some(due) = broker.next_deadline() {
        if due > target {
            break;
        }
        if fired == max_instants {
            return false;
        }
        broker.step();
        fired += 1;
    }
    broker.advance_to(target);
    true
}

/// Fires the simulation's instants up to `target`, at most `max_instants` of them; at or past the
/// document's end the run is finished, which makes the final checks.
fn run_simulation_until(sim: &mut Simulation, target: VirtualTime, max_instants: usize) -> bool {
    let mut fired = 0;
    while let Some(due) = sim.next_deadline() {
        if due > target {
            break;
        }
        if fired == max_instants {
            return false;
        }
        sim.step();
        fired += 1;
    }
    // Nothing is left before `target`: this only moves the clock and settles the checks due by then.
    sim.run_until(target);
    if target >= sim.end() {
        sim.run();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::amqp::{BasicProperties, FieldTable, FieldValue};

    /// A plain `queue.declare` (the session's other test modules use it too).
    pub(super) fn declare(queue: &str, durable: bool) -> Method {
        Method::QueueDeclare {
            queue: queue.into(),
            passive: false,
            durable,
            exclusive: false,
            auto_delete: false,
            arguments: FieldTable::new(),
        }
    }

    /// A worker that idles until the document's end, and one task the UI publishes mid-run.
    const IDLE_WORKER: &str = r#"{
      "brokerlab": 2, "name": "idle worker", "seed": 3, "duration": "60s",
      "definitions": { "queues": [
        { "name": "tasks", "vhost": "/", "durable": false, "auto_delete": false, "arguments": {} } ] },
      "consumers": [ { "name": "worker", "queue": "tasks", "prefetch": 1, "processing": "100ms" } ]
    }"#;

    #[test]
    fn a_ui_publish_reaches_an_idle_scenario_worker_at_once() {
        let mut s = Session::from_scenario(IDLE_WORKER).expect("the document loads");
        assert!(s.run_until(VirtualTime(10_000), 10_000));
        s.ui_apply(Method::BasicPublish {
            exchange: String::new(),
            routing_key: "tasks".into(),
            mandatory: false,
            properties: BasicProperties::default(),
            body: b"task".to_vec(),
            immediate: false,
        })
        .unwrap();
        // The delivery is in the page's log now, and the worker acks after its 100 ms of work, not at the
        // document's end (its next scheduled event before this change).
        assert!(s.log().iter().any(|e| matches!(e.event, Event::Delivered { .. })), "delivered at once");
        assert_eq!(s.step(), Some(VirtualTime(10_100)), "the worker's work is the next event");
        assert_eq!(s.counters("tasks").acked, 1, "acked at 10.1 s");
    }

    #[test]
    fn a_refused_method_closes_the_ui_channel_and_the_next_one_gets_a_fresh_channel() {
        let mut s = Session::new(1);
        assert!(s.ui_apply(declare("q", true)).is_ok());
        let first = s.ui_channel();
        let err = s.ui_apply(declare("q", false)).expect_err("inequivalent durable is refused");
        assert!(err.to_string().starts_with("406 PRECONDITION_FAILED - inequivalent arg 'durable'"), "{err}");
        let ui = s.ui_connection().expect("opened");
        assert!(!s.broker().is_channel_open(ui, first), "the engine closed the channel");
        // The next operation works on a new channel.
        let reply = s.ui_apply(declare("q", true)).expect("redeclare works");
        assert!(matches!(reply, Reply::QueueDeclareOk { .. }));
        assert_ne!(s.ui_channel(), first);
        let ui = &s.connections()[&s.ui_connection().unwrap()];
        assert_eq!(ui.channels.keys().copied().collect::<Vec<_>>(), vec![s.ui_channel()]);
    }

    #[test]
    fn the_log_and_rates_follow_the_engine() {
        let mut s = Session::new(1);
        s.ui_apply(declare("q", false)).unwrap();
        let v = s.version();
        s.run_until(VirtualTime::from_millis(1000), 10);
        assert!(s.version() > v);
        for _ in 0..4 {
            let publish = Method::BasicPublish {
                exchange: String::new(),
                routing_key: "q".into(),
                mandatory: false,
                properties: BasicProperties::default(),
                body: b"x".to_vec(),
                immediate: false,
            };
            s.ui_apply(publish).unwrap();
        }
        s.run_until(VirtualTime::from_millis(2000), 10);
        assert_eq!(s.counters("q").enqueued, 4);
        let (publish_rate, _, _) = s.rates("q");
        assert!(publish_rate > 0.0 && publish_rate <= 4.0, "{publish_rate}");
        assert!(s.log().iter().any(|e| matches!(e.event, Event::Enqueued { .. })));
        assert_eq!(s.broker().queues()[0].messages_ready, 4);
    }

    #[test]
    fn run_until_bounds_the_work_per_call() {
        let mut s = Session::new(1);
        // Three queues whose messages expire at 10, 20 and 30 ms: three deadline instants.
        for (i, ttl) in [10, 20, 30].into_iter().enumerate() {
            let name = format!("q{i}");
            let mut args = FieldTable::new();
            args.insert("x-message-ttl".into(), FieldValue::Int(ttl));
            s.ui_apply(Method::QueueDeclare {
                queue: name.clone(),
                passive: false,
                durable: false,
                exclusive: false,
                auto_delete: false,
                arguments: args,
            })
            .unwrap();
            s.ui_apply(Method::BasicPublish {
                exchange: String::new(),
                routing_key: name,
                mandatory: false,
                properties: BasicProperties::default(),
                body: Vec::new(),
                immediate: false,
            })
            .unwrap();
        }
        assert!(!s.run_until(VirtualTime::from_millis(100), 2), "two instants of three: lagging");
        assert!(s.now() < VirtualTime::from_millis(100));
        assert!(s.run_until(VirtualTime::from_millis(100), 2));
        assert_eq!(s.now(), VirtualTime::from_millis(100));
        assert!(s.broker().queues().iter().all(|q| q.messages_ready == 0));
        assert_eq!(s.step(), None, "nothing left to fire");
    }
}
