//! The simulation runtime of scenario documents: producers, consumers, faults, client latency and checks
//! around one [`Broker`], all on virtual time.
//!
//! Actors are clients: each has its own connection and channel and acts only through
//! [`Broker::apply`] with AMQP methods; it learns of deliveries, confirms, returns and closures from the
//! broker's events addressed to its connection. With a latency `L`, a command reaches the broker `L`
//! after the client sends it and an event reaches the client `L` after the broker emits it (connection
//! set-up itself is immediate). Everything that happens later — a producer's next publish slot, the
//! end of a consumer's work on a message, a fault, a delayed command or event — is a wake-up on one
//! [`DeadlineQueue`](crate::clock::DeadlineQueue) (the run's [`RunClock`]), fired in `(due, seq)` order;
//! at an equal instant the broker's own timers fire first. Randomness (templates, processing times,
//! probabilities) comes from one [`Prng`] seeded by the document, so a document and a seed give the same
//! transcript every time, natively and in wasm.
//!
//! The broker is reached through the narrow [`SimPort`] trait (`sim/port.rs`): the engine's [`Broker`] by
//! default (`Simulation` is `Simulation<Broker>`), or a real RabbitMQ in the native runner (crate
//! `real_broker`), where time passes on its own and the same actors run against it.
//!
//! # Driving it
//! [`Simulation::new`] (or [`Simulation::from_json`]), then [`step`](Simulation::step) (one instant),
//! [`run_until`](Simulation::run_until) or [`run`](Simulation::run) (to the document's end, then the
//! final checks). Observe with [`now`](Simulation::now), [`broker`](Simulation::broker),
//! [`take_events`](Simulation::take_events), [`check_results`](Simulation::check_results),
//! [`report`](Simulation::report) and [`transcript`](Simulation::transcript).

use super::document::{
    Action, Check, ConfirmStrategy, Consumer, Document, EventMatch, Placeholder, Problem, Producer, Template,
};
use super::report::{EventFilter, Outcome, Report, StepRecord, StopInfo, REPORT_FORMAT};
use super::script::{
    Decision as ScriptDecision, ScriptError, ScriptFactory, ScriptLimits, ScriptMessage, ScriptOutcome,
    ScriptRuntime, ON_MESSAGE, ON_TICK,
};
use super::{Pos, ScenarioError};
use crate::amqp::definitions::Definitions;
use crate::amqp::error::AmqpError;
use crate::amqp::event::{CancelReason, Event, LoggedEvent};
use crate::amqp::method::{Method, Reply};
use crate::amqp::types::{BasicProperties, ChannelNumber, ConnectionId, Delivery, MessageId};
use crate::amqp::{Broker, BrokerConfig};
use crate::clock::{DeadlineQueue, VirtualTime};
use crate::prng::Prng;
use serde::{Deserialize, Serialize};
use sim_kernel::checks::order_verdict;
use sim_kernel::pace::Pace;
use sim_kernel::runtime::{self, Run, RunClock};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;

pub mod budget;
pub mod port;
pub use budget::RunBudget;
pub use port::{QueueCounts, SimPort};
// Check verdicts and processing times are the kernel's (every model's runtime has them).
pub use sim_kernel::checks::{CheckResult, CheckStatus};
pub use sim_kernel::processing::exponential_millis;

/// Every actor uses channel 1 of its own connection.
const CHANNEL: ChannelNumber = ChannelNumber(1);

/// How to run a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimOptions {
    /// Overrides the document's seed.
    pub seed: Option<u64>,
    /// Keeps every event and actor step for the transcript and the report (benchmarks turn it off;
    /// checks do not need it).
    pub keep_log: bool,
    /// Without `keep_log`: still hands every event to [`Simulation::take_events`], moved rather than
    /// copied, for a caller that keeps its own log (the web app). With `keep_log` it changes nothing.
    pub hand_over_events: bool,
    /// The runaway guard: at most this many wake-ups and broker timer firings at one instant.
    pub max_firings_per_instant: u64,
    /// Calls [`Broker::assert_invariants`] after every instant (tests; it panics on a broken invariant).
    /// The page's release build (feature `skip-invariant-checks`) has no such check: there it does nothing.
    pub check_invariants: bool,
    /// The most messages, body bytes and events the run may cost ([`budget`]): a document over it is
    /// refused before it runs, and a run that goes past it is stopped at that message or event.
    pub budget: RunBudget,
    /// Where the document's scripts run: the built-in host by default, or the caller's factory (the web
    /// page's scripting module). A value, not something registered elsewhere: no global state.
    pub scripts: ScriptFactory,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: None,
            keep_log: true,
            hand_over_events: false,
            max_firings_per_instant: 100_000,
            check_invariants: false,
            budget: RunBudget::DEFAULT,
            scripts: ScriptFactory::default(),
        }
    }
}

/// Work counters of a run (for benchmarks and the app's status line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStats {
    /// Instants fired by [`Simulation::step`].
    pub instants: u64,
    /// Actor wake-ups and broker timer firings.
    pub firings: u64,
    /// Broker events observed.
    pub events: u64,
}

/// A document's actor as declared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ActorSpec<'a> {
    Producer(&'a Producer),
    Consumer(&'a Consumer),
}

/// One actor and where it stands ([`Simulation::actors`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ActorStatus<'a> {
    pub spec: ActorSpec<'a>,
    /// Its open connection, if connected now.
    pub connection: Option<ConnectionId>,
    /// Whether it has connected at least once.
    pub started: bool,
    /// Crashed (a crash fault, `after_messages`, a script's `crash()`) and not restarted since.
    pub crashed: bool,
    /// Stopped for good: a stop, a crash without restart, a channel error.
    pub gone: bool,
    /// A consumer's queues as resolved at its last set-up (a server-named queue's generated name);
    /// empty before it first sets up, and for producers.
    pub queues: &'a [String],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ActorRef {
    Producer(usize),
    Consumer(usize),
}

/// Something an actor or the scenario does at a later instant.
#[derive(Clone, Debug)]
enum Wake {
    /// Connect and set up (start, reconnect, restart after a crash).
    Connect(ActorRef),
    /// A consumer's scheduled stop.
    Stop(usize),
    /// A producer's publish slot.
    Tick(usize),
    Burst(usize, u64),
    /// A consumer finished its work on the message in hand (for the connection epoch given).
    Processed(usize, u64),
    /// A command reaching the broker after the client's latency.
    Command(ActorRef, u64, Box<Method>),
    /// An event reaching a client after its latency.
    Receive(ActorRef, u64, Box<LoggedEvent>),
    Fault(usize),
}

/// An actor's link to the broker: its connection, latency and epoch (the kernel's [`sim_kernel::link`]).
type Link = sim_kernel::link::Link<ConnectionId>;

#[derive(Clone, Debug)]
struct ProducerActor {
    spec: Producer,
    link: Link,
    routing_key: Template,
    body: Template,
    correlation_id: Option<Template>,
    message_id: Option<Template>,
    base_properties: BasicProperties,
    pace: Option<Pace>,
    /// Messages sent (or script ticks run), across reconnects.
    published: u64,
    /// Slots that came due and wait for the confirm strategy to let them go.
    backlog: u64,
    publish_seq: u64,
    outstanding: BTreeSet<u64>,
    in_batch: u64,
    batch_wait: bool,
    confirmed: u64,
    nacked: u64,
}

impl ProducerActor {
    fn remaining(&self) -> u64 {
        self.spec.count.map_or(u64::MAX, |c| c.saturating_sub(self.published))
    }

    fn gate_open(&self) -> bool {
        match &self.spec.confirms {
            None => true,
            Some(c) => match c.strategy {
                ConfirmStrategy::Individual => self.outstanding.is_empty(),
                ConfirmStrategy::Batch => !self.batch_wait,
                ConfirmStrategy::Async => (self.outstanding.len() as u64) < c.max_outstanding,
            },
        }
    }
}

/// A delivery a consumer works on, with what its script already decided.
#[derive(Clone, Debug)]
struct InHand {
    delivery: Box<Delivery>,
    seq: u64,
    decision: Option<Decided>,
    publishes: Vec<Method>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decided {
    Ack,
    Nack { requeue: bool },
    Reject { requeue: bool },
    Crash,
    Cancel,
}

#[derive(Clone, Debug)]
struct ConsumerActor {
    spec: Consumer,
    link: Link,
    reply: Option<Template>,
    /// Queues consumed from (resolved at set-up: a server-named queue gets its name then).
    queues: Vec<String>,
    tags: Vec<String>,
    /// Delivered and waiting, with their number among all this consumer received.
    buffer: VecDeque<(u64, Box<Delivery>)>,
    current: Option<InHand>,
    /// Deliveries received, across reconnects.
    received: u64,
    crash_after: Vec<u64>,
    cancelled: bool,
}

/// What a script decided in one call.
#[derive(Clone, Debug, Default)]
struct ScriptTurn {
    decision: Option<Decided>,
    publishes: Vec<Method>,
    logs: Vec<String>,
    processing_millis: Option<u64>,
}

/// The simulation's side of the script host ([`ScriptRuntime`], from the options' [`ScriptFactory`]): compiles the document's scripts and turns
/// deliveries into [`ScriptMessage`]s and [`ScriptOutcome`]s into AMQP methods.
#[derive(Clone, Debug)]
struct ScriptSeam {
    host: Option<Box<dyn ScriptRuntime>>,
}

impl ScriptSeam {
    /// Compiles every script of the document (none: no host at all) and checks that each actor's script
    /// has the function it will call.
    fn new(doc: &Document, factory: &ScriptFactory, seed: u64) -> Result<ScriptSeam, Problem> {
        if doc.scripts.is_empty() {
            return Ok(ScriptSeam { host: None });
        }
        let mut host = factory
            .runtime(ScriptLimits::default(), seed)
            .map_err(|message| Problem { path: "scripts".to_string(), message })?;
        for (name, source) in &doc.scripts {
            host.compile(name, source)
                .map_err(|e| Problem { path: format!("scripts.{name}"), message: e.to_string() })?;
        }
        let uses = doc
            .producers
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.script.as_ref().map(|s| (format!("producers[{i}].script"), s, ON_TICK)))
            .chain(doc.consumers.iter().enumerate().filter_map(|(i, c)| {
                c.script.as_ref().map(|s| (format!("consumers[{i}].script"), s, ON_MESSAGE))
            }));
        for (path, script, function) in uses {
            if !host.has_function(script, function) {
                return Err(Problem {
                    path,
                    message: format!("script '{script}' has no `fn {function}(…)`"),
                });
            }
        }
        Ok(ScriptSeam { host: Some(host) })
    }

    /// One call of script `script`: the host's outcome as the simulation's turn, an error as its text.
    fn turn(
        &mut self,
        script: &str,
        call: impl FnOnce(&mut dyn ScriptRuntime) -> Result<ScriptOutcome, ScriptError>,
    ) -> Result<ScriptTurn, String> {
        let host = self.host.as_mut().ok_or_else(|| format!("no script named '{script}'"))?;
        call(host.as_mut()).map(script_turn).map_err(|e| e.to_string())
    }

    fn on_message(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        delivery: &Delivery,
        seq: u64,
    ) -> Result<ScriptTurn, String> {
        let msg = ScriptMessage {
            seq,
            body: String::from_utf8_lossy(&delivery.body).into_owned(),
            routing_key: delivery.routing_key.clone(),
            exchange: delivery.exchange.clone(),
            redelivered: delivery.redelivered,
            headers: delivery.properties.headers.clone(),
            properties: delivery.properties.clone(),
            delivery_tag: delivery.delivery_tag.0,
        };
        self.turn(script, |host| host.on_message(script, actor, now_millis, &msg))
    }

    fn on_tick(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        seq: u64,
    ) -> Result<ScriptTurn, String> {
        self.turn(script, |host| host.on_tick(script, actor, now_millis, seq))
    }
}

fn script_turn(outcome: ScriptOutcome) -> ScriptTurn {
    ScriptTurn {
        decision: outcome.decision.map(|d| match d {
            ScriptDecision::Ack => Decided::Ack,
            ScriptDecision::Nack { requeue } => Decided::Nack { requeue },
            ScriptDecision::Reject { requeue } => Decided::Reject { requeue },
            ScriptDecision::Crash => Decided::Crash,
            ScriptDecision::Cancel => Decided::Cancel,
        }),
        publishes: outcome
            .publishes
            .into_iter()
            .map(|p| Method::BasicPublish {
                exchange: p.exchange,
                routing_key: p.routing_key,
                mandatory: false,
                properties: p.properties,
                body: p.body.into_bytes(),
                immediate: false,
            })
            .collect(),
        logs: outcome.logs,
        processing_millis: outcome.processing_millis,
    }
}

/// A check being watched.
#[derive(Clone, Debug)]
struct CheckWatch {
    spec: Check,
    description: String,
    count: u64,
    first: Option<u64>,
    then: Option<u64>,
    /// Per message: redelivered deliveries to the consumer; and the highest.
    redeliveries: BTreeMap<MessageId, u64>,
    max_redeliveries: u64,
    result: Option<CheckResult>,
}

/// A scenario document being run.
///
/// # Invariants
/// - `now` never goes back, and the broker's clock is never ahead of it.
/// - An actor's `link.conn`, when set, is open in the broker and owned by that actor in `owners`.
/// - A consumer holds at most one message in hand (`current`); `buffer` keeps the rest in delivery order.
/// - A settled check never changes.
/// - Every message an actor publishes and every broker event is charged to the run's budget as it
///   happens ([`budget`]); the one past it is not published and the run is stopped, so a run is bounded
///   whatever its document says.
///
/// Clone is a full copy (the app keeps clones as rewind snapshots); a clone runs on independently.
///
/// `B` is the broker the actors talk to ([`SimPort`]): the engine by default, or a real one.
#[derive(Clone)]
pub struct Simulation<B = Broker> {
    broker: B,
    prng: Prng,
    seed: u64,
    options: SimOptions,
    clock: RunClock<Wake>,
    producers: Vec<ProducerActor>,
    consumers: Vec<ConsumerActor>,
    faults: Vec<super::document::Fault>,
    /// Every connection ever opened by an actor (ids are never reused).
    owners: BTreeMap<ConnectionId, ActorRef>,
    names: BTreeMap<String, ActorRef>,
    /// Events waiting for their actor at this instant.
    pending: VecDeque<LoggedEvent>,
    /// The broker's events being collected (kept to reuse its buffer: one command at a time).
    inbox: Vec<LoggedEvent>,
    /// A rendered body before it is copied into its exact-size `basic.publish` buffer.
    scratch: String,
    log: Vec<LoggedEvent>,
    taken: usize,
    /// Events not yet taken, when they are handed over instead of logged ([`SimOptions::hand_over_events`]).
    handed_over: Vec<LoggedEvent>,
    steps: Vec<StepRecord>,
    checks: Vec<CheckWatch>,
    event_index: u64,
    /// Published by actors and not yet acked by a consumer (kept only when a check needs it).
    unacked_published: Option<BTreeSet<MessageId>>,
    published_total: u64,
    finished: bool,
    stats: SimStats,
    scripts: ScriptSeam,
    /// What the run has used of its budget.
    meter: budget::Meter,
}

impl Simulation {
    /// Parses, checks and prepares a document given as JSON text; every error is located in `text`.
    pub fn from_json(text: &str, options: SimOptions) -> Result<Simulation, ScenarioError> {
        let text = super::strip_bom(text);
        let document = Document::parse(text)?;
        let mut sim = Simulation::build(&document, options).map_err(|p| p.into_error(Some(text)))?;
        sim.meter.locate_actors(text, sim.producers.len(), sim.consumers.len());
        sim.meter.locate_scripts(text, document.scripts.keys());
        Ok(sim)
    }

    /// Prepares a document (the definitions are imported at time 0). Errors carry the JSON path; their
    /// position is `0:0` since there is no text to find it in (use [`Simulation::from_json`]).
    pub fn new(document: &Document) -> Result<Simulation, ScenarioError> {
        Simulation::with_options(document, SimOptions::default())
    }

    pub fn with_options(document: &Document, options: SimOptions) -> Result<Simulation, ScenarioError> {
        document.validate().map_err(|p| p.into_error(None))?;
        Simulation::build(document, options).map_err(|p| p.into_error(None))
    }

    fn build(doc: &Document, options: SimOptions) -> Result<Simulation, Problem> {
        let seed = options.seed.unwrap_or(doc.seed);
        Simulation::build_on(doc, options, Broker::new(BrokerConfig::default(), seed))
    }
}

impl<B: SimPort> Simulation<B> {
    /// Prepares a document on another broker (a real RabbitMQ behind a [`SimPort`]); errors as
    /// [`Simulation::with_options`].
    pub fn with_port(
        document: &Document,
        options: SimOptions,
        port: B,
    ) -> Result<Simulation<B>, ScenarioError> {
        document.validate().map_err(|p| p.into_error(None))?;
        Simulation::build_on(document, options, port).map_err(|p| p.into_error(None))
    }

    fn build_on(doc: &Document, options: SimOptions, broker: B) -> Result<Simulation<B>, Problem> {
        budget::check_document(doc, &options.budget)?;
        let budget = options.budget;
        let seed = options.seed.unwrap_or(doc.seed);
        // The actors' generator is split from the broker's seed so that adding an actor does not shift
        // the broker's own draws (generated names).
        let prng = Prng::new(seed ^ 0x5eed_ac70_25c0_ffee);
        let mut producers = Vec::new();
        for (i, p) in doc.producers.iter().enumerate() {
            let compile = |field: &str, t: &str| {
                Template::compile(t, false)
                    .map_err(|m| Problem { path: format!("producers[{i}].{field}"), message: m })
            };
            let mut base = BasicProperties {
                headers: p.properties.headers.clone(),
                priority: p.properties.priority,
                reply_to: p.properties.reply_to.clone(),
                expiration: p.properties.expiration.map(|e| e.0.to_string()),
                content_type: p.properties.content_type.clone(),
                kind: p.properties.kind.clone(),
                app_id: p.properties.app_id.clone(),
                ..BasicProperties::default()
            };
            if p.properties.persistent {
                base.delivery_mode = Some(2);
            }
            let start = p.start.0;
            let end = p.duration.map(|d| start.saturating_add(d.0));
            let pace = if let Some(rate) = p.rate {
                Some(Pace::constant(rate.per_kilosecond, start, end))
            } else if !p.rate_schedule.is_empty() {
                let steps = p.rate_schedule.iter().map(|s| (s.rate.per_kilosecond, s.duration.0)).collect();
                Some(Pace::new(steps, start, end))
            } else {
                None
            };
            producers.push(ProducerActor {
                link: Link::new(&p.name, p.latency, p.reconnect_after),
                routing_key: compile("routing_key", &p.routing_key)?,
                body: compile("body", p.body.as_deref().unwrap_or("{actor} #{seq}"))?,
                correlation_id: p
                    .properties
                    .correlation_id
                    .as_deref()
                    .map(|t| compile("properties.correlation_id", t))
                    .transpose()?,
                message_id: p
                    .properties
                    .message_id
                    .as_deref()
                    .map(|t| compile("properties.message_id", t))
                    .transpose()?,
                base_properties: base,
                pace,
                published: 0,
                backlog: 0,
                publish_seq: 1,
                outstanding: BTreeSet::new(),
                in_batch: 0,
                batch_wait: false,
                confirmed: 0,
                nacked: 0,
                spec: p.clone(),
            });
        }
        let mut consumers = Vec::new();
        for (i, c) in doc.consumers.iter().enumerate() {
            let reply = match &c.reply {
                Some(r) => Some(
                    Template::compile(&r.body, true)
                        .map_err(|m| Problem { path: format!("consumers[{i}].reply.body"), message: m })?,
                ),
                None => None,
            };
            let crash_after = doc
                .faults
                .iter()
                .filter(|f| f.crash.as_deref() == Some(c.name.as_str()))
                .filter_map(|f| f.after_messages)
                .collect();
            consumers.push(ConsumerActor {
                link: Link::new(&c.name, c.latency, c.reconnect_after),
                reply,
                queues: Vec::new(),
                tags: Vec::new(),
                buffer: VecDeque::new(),
                current: None,
                received: 0,
                crash_after,
                cancelled: false,
                spec: c.clone(),
            });
        }
        let scripts = ScriptSeam::new(doc, &options.scripts, seed ^ 0x5c71_9700_0000_0001)?;
        let mut names = BTreeMap::new();
        for (i, p) in producers.iter().enumerate() {
            names.insert(p.spec.name.clone(), ActorRef::Producer(i));
        }
        for (i, c) in consumers.iter().enumerate() {
            names.insert(c.spec.name.clone(), ActorRef::Consumer(i));
        }
        let needs_acks = doc.checks.iter().any(|c| c.all_published_acked);
        let checks = doc
            .checks
            .iter()
            .map(|c| CheckWatch {
                description: c.description.clone().unwrap_or_else(|| describe_check(c)),
                spec: c.clone(),
                count: 0,
                first: None,
                then: None,
                redeliveries: BTreeMap::new(),
                max_redeliveries: 0,
                result: None,
            })
            .collect();
        let clock =
            RunClock::new(VirtualTime(doc.duration.0), options.max_firings_per_instant, DeadlineQueue::new());
        let mut sim = Simulation {
            broker,
            prng,
            seed,
            options,
            clock,
            producers,
            consumers,
            faults: doc.faults.clone(),
            owners: BTreeMap::new(),
            names,
            pending: VecDeque::new(),
            inbox: Vec::new(),
            scratch: String::new(),
            log: Vec::new(),
            taken: 0,
            handed_over: Vec::new(),
            steps: Vec::new(),
            checks,
            event_index: 0,
            unacked_published: needs_acks.then(BTreeSet::new),
            published_total: 0,
            finished: false,
            stats: SimStats::default(),
            scripts,
            meter: budget::Meter::new(budget),
        };
        sim.import_definitions(doc)?;
        for i in 0..sim.producers.len() {
            let p = &sim.producers[i];
            sim.clock.wakes.schedule(VirtualTime(p.spec.start.0), Wake::Connect(ActorRef::Producer(i)));
            for b in &p.spec.bursts {
                sim.clock.wakes.schedule(VirtualTime(b.at.0), Wake::Burst(i, b.count));
            }
        }
        for i in 0..sim.consumers.len() {
            let c = &sim.consumers[i].spec;
            let (start, stop) = (c.start.0, c.stop);
            sim.clock.wakes.schedule(VirtualTime(start), Wake::Connect(ActorRef::Consumer(i)));
            if let Some(stop) = stop {
                sim.clock.wakes.schedule(VirtualTime(stop.0), Wake::Stop(i));
            }
        }
        for (i, f) in sim.faults.iter().enumerate() {
            if let Some(at) = f.at {
                sim.clock.wakes.schedule(VirtualTime(at.0), Wake::Fault(i));
            }
        }
        Ok(sim)
    }

    /// Imports the document's definitions at time 0 (RabbitMQ's import rules and error texts).
    fn import_definitions(&mut self, doc: &Document) -> Result<(), Problem> {
        let defs = &doc.definitions;
        if *defs == Definitions::default() {
            return Ok(());
        }
        let start = self.log.len();
        let report = self.broker.import_definitions(VirtualTime::ZERO, defs).map_err(|e| Problem {
            path: format!("definitions.{}", e.path),
            message: format!("'{}': {}", e.entity, e.message),
        })?;
        self.collect();
        self.pending.clear();
        let summary = format!(
            "{} exchanges, {} queues, {} bindings",
            report.exchanges.len(),
            report.queues.len(),
            report.bindings
        );
        self.record(
            start,
            "import definitions".to_string(),
            None,
            None,
            None,
            Outcome::Value { value: summary },
        );
        for warning in report.warnings {
            self.note("import definitions".to_string(), format!("warning: {warning}"));
        }
        Ok(())
    }

    // ----- observation -----

    pub fn now(&self) -> VirtualTime {
        self.clock.now
    }

    /// The document's end (its `duration`).
    pub fn end(&self) -> VirtualTime {
        self.clock.end
    }

    /// Every actor of the document, producers first, in document order, and where each stands now
    /// (the page's graph draws them all from the start, so its layout does not move as they begin).
    pub fn actors(&self) -> Vec<ActorStatus<'_>> {
        let status = |link: &Link| (link.conn, link.epoch > 0, link.crashed, link.gone);
        let producers = self.producers.iter().map(|p| {
            let (connection, started, crashed, gone) = status(&p.link);
            ActorStatus {
                spec: ActorSpec::Producer(&p.spec),
                connection,
                started,
                crashed,
                gone,
                queues: &[],
            }
        });
        let consumers = self.consumers.iter().map(|c| {
            let (connection, started, crashed, gone) = status(&c.link);
            ActorStatus {
                spec: ActorSpec::Consumer(&c.spec),
                connection,
                started,
                crashed,
                gone,
                queues: &c.queues,
            }
        });
        producers.chain(consumers).collect()
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn broker(&self) -> &B {
        &self.broker
    }

    /// Why the run stopped early (the runaway guard), if it did.
    pub fn stopped(&self) -> Option<&StopInfo> {
        self.clock.stopped.as_ref()
    }

    pub fn stats(&self) -> SimStats {
        SimStats { events: self.event_index, ..self.stats }
    }

    /// What the run has used of its budget so far (messages, body bytes and events).
    pub fn budget_used(&self) -> RunBudget {
        RunBudget {
            messages: self.meter.count.messages,
            body_bytes: self.meter.count.body_bytes,
            events: self.event_index,
        }
    }

    /// Whether the run reached its end and the final checks were made.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// The events recorded since the last call (empty when the log is off and events are not handed
    /// over).
    pub fn take_events(&mut self) -> Vec<LoggedEvent> {
        if !self.options.keep_log {
            return std::mem::take(&mut self.handed_over);
        }
        let new = self.log[self.taken..].to_vec();
        self.taken = self.log.len();
        new
    }

    /// Every check's result so far: settled ones as they were decided, the others pending with the value
    /// observed now.
    pub fn check_results(&self) -> Vec<CheckResult> {
        (0..self.checks.len())
            .map(|i| match &self.checks[i].result {
                Some(r) => r.clone(),
                None => {
                    let mut r = self.evaluate(i);
                    r.status = CheckStatus::Pending;
                    r.reason = match self.checks[i].spec.at {
                        Some(at) => format!("decided at {}", VirtualTime(at.0)),
                        None => "decided at the end of the run".to_string(),
                    };
                    r
                }
            })
            .collect()
    }

    /// The run as a report (steps are actor and fault actions; events as recorded).
    pub fn report(&self) -> Report {
        Report {
            format: REPORT_FORMAT.to_string(),
            version: super::document::DOCUMENT_VERSION,
            seed: self.seed,
            steps: self.steps.clone(),
            events: self.log.clone(),
            queues: self.broker.queues(),
            end: self.clock.now,
            stopped: self.clock.stopped.clone(),
        }
    }

    /// The transcript with the default event filter, then one line per check.
    pub fn transcript(&self) -> String {
        self.transcript_filtered(&EventFilter::default())
    }

    pub fn transcript_filtered(&self, filter: &EventFilter) -> String {
        let mut out = self.report().transcript(filter);
        for r in self.check_results() {
            let _ = writeln!(out, "{} {}", self.clock.now, r.line());
        }
        out
    }

    /// The JSON report with a `checks` array.
    pub fn to_json(&self, filter: &EventFilter) -> String {
        let mut value = serde_json::to_value(self.report().filtered(filter)).expect("a report is plain data");
        if let serde_json::Value::Object(map) = &mut value {
            map.insert(
                "checks".to_string(),
                serde_json::to_value(self.check_results()).expect("check results are plain data"),
            );
        }
        serde_json::to_string_pretty(&value).expect("a report is plain data")
    }

    // ----- time -----

    /// The next instant something happens, within the document's duration (the kernel's time loop,
    /// [`sim_kernel::runtime`]).
    pub fn next_deadline(&self) -> Option<VirtualTime> {
        let (system, wake) = (self.broker.next_deadline(), self.clock.wakes.next_due());
        runtime::next_instant(self.clock.stopped.is_some(), system, wake, self.clock.now, self.clock.end)
    }

    /// Fires one instant: the broker's timers and every wake-up due then, including those the instant
    /// itself schedules for the same time. Returns the instant, or `None` when nothing is left before the
    /// end (or the run stopped).
    pub fn step(&mut self) -> Option<VirtualTime> {
        runtime::step(&mut Driven(self))
    }

    /// Fires every instant up to `to` (clamped to the end) and settles the checks due by then. A live
    /// broker's time passes on its own: the loop waits for it, and takes an arrival (a delivery, a
    /// confirm) as an instant of its own.
    pub fn run_until(&mut self, to: VirtualTime) {
        runtime::run_until(&mut Driven(self), to)
    }

    /// Runs to the document's end and makes the final checks.
    pub fn run(&mut self) {
        self.run_until(self.clock.end);
        if self.clock.stopped.is_none() && !self.finished {
            self.finished = true;
            let end = self.clock.end;
            for i in 0..self.checks.len() {
                if self.checks[i].result.is_none() {
                    let mut r = self.evaluate(i);
                    if self.checks[i].spec.at.is_some_and(|at| VirtualTime(at.0) > end) {
                        r.status = CheckStatus::Fail;
                        r.reason = format!("the run ended at {end}, before the check's time");
                    }
                    self.checks[i].result = Some(r);
                }
            }
        }
    }

    // ----- events -----

    /// Takes the broker's new events: checks see each, the log keeps it, actors get theirs.
    fn collect(&mut self) {
        let mut inbox = std::mem::take(&mut self.inbox);
        self.broker.drain_events_into(&mut inbox);
        for e in inbox.drain(..) {
            self.observe(&e);
            let for_actor = match &e.event {
                Event::Delivered { connection, .. }
                | Event::Confirmed { connection, .. }
                | Event::Returned { connection, .. }
                | Event::ChannelClosed { connection, error: Some(_), .. }
                | Event::ConnectionClosed { connection, error: Some(_) }
                | Event::ConsumerCancelled { connection, reason: CancelReason::QueueDeleted, .. } => {
                    self.owners.contains_key(connection)
                }
                _ => false,
            };
            if self.options.keep_log || self.options.hand_over_events {
                let log = if self.options.keep_log { &mut self.log } else { &mut self.handed_over };
                if for_actor {
                    log.push(e.clone());
                } else {
                    log.push(e);
                    continue;
                }
            }
            if for_actor {
                self.pending.push_back(e);
            }
        }
        self.inbox = inbox;
    }

    fn drain(&mut self) {
        while let Some(e) = self.pending.pop_front() {
            self.route(e);
        }
    }

    /// Hands an event to the actor owning its connection, now or after the actor's latency. The loss of
    /// a connection or channel is known at once (the socket is gone).
    fn route(&mut self, e: LoggedEvent) {
        let connection = match &e.event {
            Event::Delivered { connection, .. }
            | Event::Confirmed { connection, .. }
            | Event::Returned { connection, .. }
            | Event::ChannelClosed { connection, .. }
            | Event::ConnectionClosed { connection, .. }
            | Event::ConsumerCancelled { connection, .. } => *connection,
            _ => return,
        };
        let Some(&actor) = self.owners.get(&connection) else { return };
        let now = self.clock.now;
        let link = self.link_mut(actor);
        if link.conn != Some(connection) {
            return;
        }
        match &e.event {
            Event::ChannelClosed { error: Some(error), .. } => {
                let error = error.clone();
                self.lost_channel(actor, error);
            }
            Event::ConnectionClosed { error: Some(error), .. } => {
                let error = error.clone();
                self.lost_connection(actor, error);
            }
            _ => {
                let latency = link.latency_millis;
                if latency == 0 {
                    self.receive(actor, e);
                } else {
                    let epoch = link.epoch;
                    let arrival = link.receive_arrival(now);
                    self.clock.wakes.schedule(arrival, Wake::Receive(actor, epoch, Box::new(e)));
                }
            }
        }
    }

    fn link_mut(&mut self, actor: ActorRef) -> &mut Link {
        match actor {
            ActorRef::Producer(i) => &mut self.producers[i].link,
            ActorRef::Consumer(i) => &mut self.consumers[i].link,
        }
    }

    fn link(&self, actor: ActorRef) -> &Link {
        match actor {
            ActorRef::Producer(i) => &self.producers[i].link,
            ActorRef::Consumer(i) => &self.consumers[i].link,
        }
    }

    /// An event reaches its client.
    fn receive(&mut self, actor: ActorRef, e: LoggedEvent) {
        match (actor, e.event) {
            (ActorRef::Producer(i), Event::Confirmed { delivery_tag, multiple, ack, .. }) => {
                let p = &mut self.producers[i];
                let settled: Vec<u64> = if multiple {
                    p.outstanding.range(..=delivery_tag.0).copied().collect()
                } else {
                    vec![delivery_tag.0]
                };
                for seq in settled {
                    if p.outstanding.remove(&seq) {
                        if ack {
                            p.confirmed += 1;
                        } else {
                            p.nacked += 1;
                        }
                    }
                }
                if p.outstanding.is_empty() {
                    p.batch_wait = false;
                }
                self.try_publish(i);
            }
            (ActorRef::Consumer(i), Event::Delivered { delivery, .. }) => self.delivered(i, delivery),
            (ActorRef::Consumer(i), Event::ConsumerCancelled { consumer_tag, queue, .. }) => {
                let c = &mut self.consumers[i];
                c.tags.retain(|t| **t != *consumer_tag);
                let source = format!("{} notices basic.cancel (queue '{queue}' deleted)", c.link.name);
                let start = self.log.len();
                self.record(
                    start,
                    source,
                    None,
                    None,
                    None,
                    Outcome::Value { value: "consumer cancelled".into() },
                );
            }
            _ => {}
        }
    }

    // ----- wake-ups -----

    fn fire(&mut self, wake: Wake) {
        match wake {
            Wake::Connect(actor) => self.connect(actor),
            Wake::Stop(i) => {
                let link = &mut self.consumers[i].link;
                link.gone = true;
                if let Some(conn) = link.disconnect() {
                    let source = format!("{} stops", link.name);
                    self.reset_consumer(i);
                    let start = self.log.len();
                    self.broker.close_connection(self.clock.now, conn);
                    self.collect();
                    self.record(start, source, Some(conn), None, None, Outcome::ConnectionClosed);
                }
            }
            Wake::Tick(i) => {
                let p = &mut self.producers[i];
                if p.link.conn.is_some() && p.remaining() > p.backlog {
                    p.backlog += 1;
                }
                let more = p.remaining() > p.backlog;
                let next = if more { p.pace.as_mut().and_then(Pace::next) } else { None };
                if let Some(t) = next {
                    self.clock.wakes.schedule(VirtualTime(t).max(self.clock.now), Wake::Tick(i));
                }
                self.try_publish(i);
            }
            Wake::Burst(i, count) => {
                let p = &mut self.producers[i];
                if p.link.conn.is_some() {
                    p.backlog = p.backlog.saturating_add(count).min(p.remaining());
                }
                self.try_publish(i);
            }
            Wake::Processed(i, epoch) => {
                if self.consumers[i].link.epoch == epoch {
                    self.finish_message(i);
                }
            }
            Wake::Command(actor, epoch, method) => {
                if self.link(actor).epoch == epoch {
                    self.apply(actor, *method);
                }
            }
            Wake::Receive(actor, epoch, e) => {
                if self.link(actor).epoch == epoch {
                    self.receive(actor, *e);
                }
            }
            Wake::Fault(i) => self.fault(i),
        }
    }

    /// Sends a method from an actor: at once, or to arrive after the actor's latency. A publish is
    /// charged to the run's budget first; the one past it is not sent and stops the run.
    fn send(&mut self, actor: ActorRef, method: Method) {
        if self.clock.stopped.is_some() {
            return;
        }
        // A rendered name or key over 255 bytes cannot be sent: the client library raises (pika's
        // `ShortStringTooLong`), which ends the run here, as it does against a real broker.
        if let Err(e) = method.check_short_strings() {
            let name = self.link(actor).name.clone();
            self.stop_run(format!("{name}: {e}"));
            return;
        }
        if let Method::BasicPublish { body, .. } = &method {
            if let Err(exceeded) = self.meter.count.charge_message(body.len()) {
                let (who, pos) = match actor {
                    ActorRef::Producer(i) => (
                        format!("producer '{}' (producers[{i}])", self.producers[i].link.name),
                        self.meter.producer_pos(i),
                    ),
                    ActorRef::Consumer(i) => (
                        format!("consumer '{}' (consumers[{i}])", self.consumers[i].link.name),
                        self.meter.consumer_pos(i),
                    ),
                };
                let message = self.meter.count.stop_message(exceeded, &who);
                self.clock.stopped = Some(StopInfo { pos, at: self.clock.now, message });
                return;
            }
        }
        let now = self.clock.now;
        let link = self.link_mut(actor);
        if link.latency_millis == 0 {
            self.apply(actor, method);
        } else {
            let arrival = link.send_arrival(now);
            let epoch = link.epoch;
            self.clock.wakes.schedule(arrival, Wake::Command(actor, epoch, Box::new(method)));
        }
    }

    /// Applies an actor's method at the broker now. An error closes the channel; the broker's
    /// `channel.close` event tells the actor.
    fn apply(&mut self, actor: ActorRef, method: Method) {
        let Some(conn) = self.link(actor).conn else { return };
        let _ = self.broker.apply(self.clock.now, conn, CHANNEL, method);
        self.collect();
    }

    /// A set-up method, recorded as a step.
    fn setup(&mut self, actor: ActorRef, method: Method) -> Result<Reply, AmqpError> {
        let link = self.link(actor);
        let conn = link.conn.expect("set-up runs on an open connection");
        let source = format!("{} {}", link.name, method_text(&method));
        let start = self.log.len();
        let logged = self.options.keep_log.then(|| method.clone());
        let result = self.broker.apply(self.clock.now, conn, CHANNEL, method);
        self.collect();
        let outcome = match &result {
            Ok(reply) => Outcome::Reply { reply: reply.clone() },
            Err(error) => Outcome::Error { error: error.clone() },
        };
        self.record(start, source, Some(conn), Some(CHANNEL), logged, outcome);
        result
    }

    fn record(
        &mut self,
        events_start: usize,
        source: String,
        connection: Option<ConnectionId>,
        channel: Option<ChannelNumber>,
        method: Option<Method>,
        outcome: Outcome,
    ) {
        if self.options.keep_log {
            self.steps.push(StepRecord {
                line: 0,
                at: self.clock.now,
                source,
                connection,
                channel,
                method,
                outcome,
                events_start,
            });
        }
    }

    fn note(&mut self, source: String, value: impl Into<String>) {
        let start = self.log.len();
        self.record(start, source, None, None, None, Outcome::Value { value: value.into() });
    }

    fn connect(&mut self, actor: ActorRef) {
        let link = self.link(actor);
        if link.gone || link.conn.is_some() {
            return;
        }
        let name = link.name.clone();
        let start = self.log.len();
        let conn = self.broker.connect(self.clock.now, &name);
        self.owners.insert(conn, actor);
        self.collect();
        let link = self.link_mut(actor);
        link.conn = Some(conn);
        link.epoch += 1;
        link.crashed = false;
        self.record(start, format!("{name} connects"), Some(conn), None, None, Outcome::Connected);
        if self.setup(actor, Method::ChannelOpen).is_err() {
            return;
        }
        let ok = match actor {
            ActorRef::Producer(i) => self.setup_producer(i),
            ActorRef::Consumer(i) => self.setup_consumer(i),
        };
        if ok.is_err() {
            // The error closed the channel; the actor gives up (its `lost_channel` note says why).
        }
    }

    fn setup_producer(&mut self, i: usize) -> Result<(), AmqpError> {
        let actor = ActorRef::Producer(i);
        let p = &mut self.producers[i];
        p.outstanding.clear();
        p.batch_wait = false;
        p.in_batch = 0;
        p.publish_seq = 1;
        if p.spec.confirms.is_some() {
            self.setup(actor, Method::ConfirmSelect)?;
        }
        let p = &mut self.producers[i];
        let first_connect = p.link.epoch == 1;
        if p.pace.is_none() && p.spec.bursts.is_empty() {
            // Unpaced: the whole count (what is left of it) is due now.
            p.backlog = p.remaining();
        } else if first_connect {
            if let Some(t) = p.pace.as_mut().and_then(Pace::next) {
                self.clock.wakes.schedule(VirtualTime(t).max(self.clock.now), Wake::Tick(i));
            }
        }
        self.try_publish(i);
        Ok(())
    }

    fn setup_consumer(&mut self, i: usize) -> Result<(), AmqpError> {
        let actor = ActorRef::Consumer(i);
        let c = &self.consumers[i];
        let spec = c.spec.clone();
        if spec.prefetch > 0 || spec.prefetch_global {
            self.setup(
                actor,
                Method::BasicQos {
                    prefetch_size: 0,
                    prefetch_count: spec.prefetch,
                    global: spec.prefetch_global,
                },
            )?;
        }
        let mut queues = match &spec.queue {
            Some(q) => vec![q.clone()],
            None => spec.queues.clone(),
        };
        if let Some(d) = &spec.declare {
            let reply = self.setup(
                actor,
                Method::QueueDeclare {
                    queue: d.name.clone(),
                    passive: false,
                    durable: d.durable,
                    exclusive: d.exclusive,
                    auto_delete: d.auto_delete,
                    arguments: d.arguments.clone(),
                },
            )?;
            let name = match reply {
                Reply::QueueDeclareOk { queue, .. } => queue,
                _ => d.name.clone(),
            };
            for b in &spec.bind {
                self.setup(
                    actor,
                    Method::QueueBind {
                        queue: name.clone(),
                        exchange: b.exchange.clone(),
                        routing_key: b.routing_key.clone(),
                        arguments: b.arguments.clone(),
                    },
                )?;
            }
            queues = vec![name];
        }
        let mut tags = Vec::new();
        for (k, q) in queues.iter().enumerate() {
            let tag = if queues.len() == 1 { spec.name.clone() } else { format!("{}-{}", spec.name, k + 1) };
            self.setup(
                actor,
                Method::BasicConsume {
                    queue: q.clone(),
                    consumer_tag: tag.clone(),
                    auto_ack: spec.auto_ack,
                    exclusive: spec.exclusive,
                    arguments: spec.arguments.clone(),
                },
            )?;
            tags.push(tag);
        }
        let c = &mut self.consumers[i];
        c.queues = queues;
        c.tags = tags;
        c.cancelled = false;
        Ok(())
    }

    fn reset_consumer(&mut self, i: usize) {
        let c = &mut self.consumers[i];
        c.buffer.clear();
        c.current = None;
        c.tags.clear();
    }

    /// The broker closed an actor's channel with an error: the actor gives up.
    fn lost_channel(&mut self, actor: ActorRef, error: AmqpError) {
        let link = self.link_mut(actor);
        link.gone = true;
        let name = link.name.clone();
        if let Some(conn) = link.disconnect() {
            self.broker.close_connection(self.clock.now, conn);
            self.collect();
        }
        if let ActorRef::Consumer(i) = actor {
            self.reset_consumer(i);
        }
        self.note(format!("{name} gives up after a channel error"), error.to_string());
    }

    /// The broker closed an actor's connection (a restart): it reconnects after its delay.
    fn lost_connection(&mut self, actor: ActorRef, error: AmqpError) {
        let now = self.clock.now;
        let link = self.link_mut(actor);
        let at = link.lost(now);
        let name = link.name.clone();
        if let ActorRef::Consumer(i) = actor {
            self.reset_consumer(i);
        }
        self.clock.wakes.schedule(at, Wake::Connect(actor));
        self.note(format!("{name} lost its connection ({error})"), format!("reconnects at {at}"));
    }

    // ----- producers -----

    /// Publishes while slots are due and the confirm strategy allows.
    fn try_publish(&mut self, i: usize) {
        loop {
            let p = &mut self.producers[i];
            if p.backlog == 0 || p.link.conn.is_none() || p.link.gone {
                return;
            }
            if p.remaining() == 0 {
                p.backlog = 0;
                return;
            }
            if !p.gate_open() || self.clock.stopped.is_some() {
                return;
            }
            p.backlog -= 1;
            self.publish_one(i);
        }
    }

    fn publish_one(&mut self, i: usize) {
        let p = &mut self.producers[i];
        p.published += 1;
        let seq = p.published;
        if let Some(script) = p.spec.script.clone() {
            // A script producer: each slot is one `on_tick` (seq from 0), publishing what it asks for.
            let name = p.link.name.clone();
            match self.scripts.on_tick(&script, &name, self.clock.now.as_millis(), seq - 1) {
                Ok(turn) => {
                    for line in turn.logs {
                        self.note(format!("{name} log"), line);
                    }
                    for method in turn.publishes {
                        self.track_confirm(i);
                        self.published_total += 1;
                        self.send(ActorRef::Producer(i), method);
                    }
                    match turn.decision {
                        // In a producer, `crash()` drops its connection and `cancel()` stops it.
                        Some(Decided::Crash) => {
                            self.drop_connection(ActorRef::Producer(i), format!("{name} crashes (script)"));
                            self.producers[i].link.crashed = true;
                        }
                        Some(Decided::Cancel) => {
                            self.producers[i].link.gone = true;
                            self.note(format!("{name} stops (script)"), "cancel()");
                        }
                        _ => {}
                    }
                }
                Err(message) => self.stop_script(&script, message),
            }
            return;
        }
        let p = &mut self.producers[i];
        let ctx = RenderContext { seq, actor: &p.spec.name, body: "", correlation_id: "" };
        let routing_key = render(&p.routing_key, &ctx, &mut self.prng);
        // Rendered into a reused buffer, then copied once at its final size: the broker keeps bodies as
        // exact-size boxes, so a body with spare capacity would be reallocated there.
        self.scratch.clear();
        render_into(&p.body, &ctx, &mut self.prng, &mut self.scratch);
        let rendered = self.scratch.as_bytes();
        let body = match p.spec.body_size {
            None => rendered.to_vec(),
            Some(size) => {
                let mut body = Vec::with_capacity(size);
                body.extend_from_slice(&rendered[..rendered.len().min(size)]);
                body.resize(size, b'.');
                body
            }
        };
        let mut properties = p.base_properties.clone();
        if let Some(t) = &p.correlation_id {
            properties.correlation_id = Some(render(t, &ctx, &mut self.prng));
        }
        if let Some(t) = &p.message_id {
            properties.message_id = Some(render(t, &ctx, &mut self.prng));
        }
        let method = Method::BasicPublish {
            exchange: p.spec.exchange.clone(),
            routing_key,
            mandatory: p.spec.mandatory,
            properties,
            body,
            immediate: false,
        };
        self.track_confirm(i);
        self.published_total += 1;
        self.send(ActorRef::Producer(i), method);
    }

    /// Counts one publish against the producer's confirm strategy (its sequence number and batch).
    fn track_confirm(&mut self, i: usize) {
        let p = &mut self.producers[i];
        if let Some(c) = &p.spec.confirms {
            p.outstanding.insert(p.publish_seq);
            p.publish_seq += 1;
            if c.strategy == ConfirmStrategy::Batch {
                p.in_batch += 1;
                if p.in_batch >= c.batch_size {
                    p.in_batch = 0;
                    p.batch_wait = true;
                }
            }
        }
    }

    // ----- consumers -----

    fn delivered(&mut self, i: usize, delivery: Box<Delivery>) {
        let c = &mut self.consumers[i];
        c.received += 1;
        if c.crash_after.contains(&c.received) {
            let n = c.received;
            self.crash(i, format!("after {n} messages"));
            return;
        }
        c.buffer.push_back((c.received, delivery));
        if c.current.is_none() {
            self.start_next(i);
        }
    }

    /// Takes the next buffered delivery in hand and schedules the end of its processing.
    fn start_next(&mut self, i: usize) {
        let c = &mut self.consumers[i];
        let Some((seq, delivery)) = c.buffer.pop_front() else { return };
        let mut millis = c.spec.processing.draw(&mut self.prng);
        let mut in_hand = InHand { delivery, seq, decision: None, publishes: Vec::new() };
        if let Some(script) = c.spec.script.clone() {
            let name = c.link.name.clone();
            match self.scripts.on_message(&script, &name, self.clock.now.as_millis(), &in_hand.delivery, seq)
            {
                Ok(turn) => {
                    millis = turn.processing_millis.unwrap_or(millis);
                    in_hand.decision = turn.decision;
                    in_hand.publishes = turn.publishes;
                    for line in turn.logs {
                        self.note(format!("{name} log"), line);
                    }
                }
                Err(message) => return self.stop_script(&script, message),
            }
        }
        let c = &mut self.consumers[i];
        c.current = Some(in_hand);
        let epoch = c.link.epoch;
        self.clock.wakes.schedule(self.clock.now.plus_millis(millis), Wake::Processed(i, epoch));
    }

    /// Stops the whole run for a script's error, located at the script in the document.
    fn stop_script(&mut self, script: &str, message: String) {
        if self.clock.stopped.is_none() {
            let pos = self.meter.script_pos(script);
            self.clock.stopped = Some(StopInfo { pos, at: self.clock.now, message });
        }
    }

    /// Stops the whole run (the broker's failure): nothing fires any more.
    fn stop_run(&mut self, message: String) {
        if self.clock.stopped.is_none() {
            self.clock.stopped = Some(StopInfo { pos: Pos::new(0, 0), at: self.clock.now, message });
        }
    }

    fn decide(&mut self, i: usize, in_hand: &InHand) -> Decided {
        if let Some(d) = in_hand.decision {
            return d;
        }
        let Simulation { consumers, prng, .. } = self;
        let spec = &consumers[i].spec;
        let n = in_hand.seq;
        for rule in &spec.decisions {
            if rule.every.is_some_and(|every| n % every != 0) {
                continue;
            }
            if rule.redelivered.is_some_and(|r| r != in_hand.delivery.redelivered) {
                continue;
            }
            if let Some(p) = rule.probability {
                if !prng.chance(p.numerator, p.denominator) {
                    continue;
                }
            }
            return decided(rule.action, rule.requeue);
        }
        decided(spec.default_decision, true)
    }

    fn finish_message(&mut self, i: usize) {
        let Some(in_hand) = self.consumers[i].current.take() else { return };
        let decision = self.decide(i, &in_hand);
        let actor = ActorRef::Consumer(i);
        if decision == Decided::Crash {
            self.consumers[i].current = Some(in_hand);
            self.crash(i, "decided to crash".to_string());
            return;
        }
        let tag = in_hand.delivery.delivery_tag;
        let auto_ack = self.consumers[i].spec.auto_ack;
        if let Some(method) = self.rpc_reply(i, &in_hand) {
            self.send(actor, method);
        }
        for method in in_hand.publishes {
            self.send(actor, method);
        }
        match decision {
            Decided::Ack | Decided::Cancel if !auto_ack => {
                self.send(actor, Method::BasicAck { delivery_tag: tag, multiple: false })
            }
            Decided::Nack { requeue } => {
                self.send(actor, Method::BasicNack { delivery_tag: tag, multiple: false, requeue })
            }
            Decided::Reject { requeue } => {
                self.send(actor, Method::BasicReject { delivery_tag: tag, requeue })
            }
            _ => {}
        }
        if decision == Decided::Cancel && !self.consumers[i].cancelled {
            self.consumers[i].cancelled = true;
            for tag in self.consumers[i].tags.clone() {
                self.send(actor, Method::BasicCancel { consumer_tag: tag });
            }
        }
        if self.consumers[i].link.conn.is_some() {
            self.start_next(i);
        }
    }

    fn rpc_reply(&mut self, i: usize, in_hand: &InHand) -> Option<Method> {
        let c = &self.consumers[i];
        let template = c.reply.as_ref()?;
        let props = &in_hand.delivery.properties;
        let reply_to = props.reply_to.clone()?;
        let body = String::from_utf8_lossy(&in_hand.delivery.body);
        let correlation_id = props.correlation_id.clone().unwrap_or_default();
        let ctx = RenderContext {
            seq: in_hand.seq,
            actor: &c.spec.name,
            body: &body,
            correlation_id: &correlation_id,
        };
        let text = render(template, &ctx, &mut self.prng);
        let properties =
            BasicProperties { correlation_id: props.correlation_id.clone(), ..BasicProperties::default() };
        Some(Method::BasicPublish {
            exchange: String::new(),
            routing_key: reply_to,
            mandatory: false,
            properties,
            body: text.into_bytes(),
            immediate: false,
        })
    }

    /// The consumer process dies: its connection closes without acking (the broker requeues what it
    /// held). It comes back after `restart_after`, if given.
    fn crash(&mut self, i: usize, why: String) {
        let c = &mut self.consumers[i];
        let Some((conn, restart)) = c.link.crash(self.clock.now, c.spec.restart_after) else { return };
        let name = c.link.name.clone();
        self.reset_consumer(i);
        let start = self.log.len();
        self.broker.close_connection(self.clock.now, conn);
        self.collect();
        let value = match restart {
            Some(at) => {
                self.clock.wakes.schedule(at, Wake::Connect(ActorRef::Consumer(i)));
                format!("connection closed; restarts at {at}")
            }
            None => "connection closed".to_string(),
        };
        self.record(
            start,
            format!("{name} crashes ({why})"),
            Some(conn),
            None,
            None,
            Outcome::Value { value },
        );
    }

    // ----- faults -----

    fn fault(&mut self, index: usize) {
        let f = self.faults[index].clone();
        if let Some(name) = &f.crash {
            if let Some(&ActorRef::Consumer(i)) = self.names.get(name) {
                self.crash(i, "fault".to_string());
            }
        } else if let Some(name) = &f.drop_connection {
            if let Some(&actor) = self.names.get(name) {
                self.drop_connection(actor, format!("fault: {name}'s connection drops"));
            }
        } else if f.restart_broker {
            let start = self.log.len();
            self.broker.restart(self.clock.now);
            self.collect();
            self.record(
                start,
                "fault: broker restart".to_string(),
                None,
                None,
                None,
                Outcome::Value { value: "restarted".into() },
            );
        } else if let (Some(latency), Some(name)) = (f.latency, &f.client) {
            if let Some(&actor) = self.names.get(name) {
                self.link_mut(actor).latency_millis = latency.0;
                self.note(format!("fault: latency of {name}"), format!("{} one way", latency));
            }
        }
    }

    /// An actor's connection closes under it; it reconnects after its `reconnect_after`.
    fn drop_connection(&mut self, actor: ActorRef, source: String) {
        let now = self.clock.now;
        let Some((conn, at)) = self.link_mut(actor).drop_connection(now) else { return };
        if let ActorRef::Consumer(i) = actor {
            self.reset_consumer(i);
        }
        let start = self.log.len();
        self.broker.close_connection(self.clock.now, conn);
        self.collect();
        self.clock.wakes.schedule(at, Wake::Connect(actor));
        let value = format!("connection closed; reconnects at {at}");
        self.record(start, source, Some(conn), None, None, Outcome::Value { value });
    }

    // ----- checks -----

    /// Updates the event-based checks with one event.
    fn observe(&mut self, e: &LoggedEvent) {
        let index = self.event_index;
        self.event_index += 1;
        if self.event_index > self.meter.count.budget.events && self.clock.stopped.is_none() {
            let message = self.meter.count.stop_message(budget::Exceeded::Events, "");
            self.clock.stopped = Some(StopInfo { pos: Pos::new(0, 0), at: self.clock.now, message });
        }
        if let Some(set) = &mut self.unacked_published {
            match &e.event {
                Event::Published { message, connection, .. } if self.owners.contains_key(connection) => {
                    set.insert(*message);
                }
                Event::Acked { message, .. } => {
                    set.remove(message);
                }
                Event::Delivered { connection, delivery, .. } => {
                    if let Some(ActorRef::Consumer(i)) = self.owners.get(connection) {
                        if self.consumers[*i].spec.auto_ack && delivery.consumer_tag.is_some() {
                            set.remove(&delivery.message);
                        }
                    }
                }
                _ => {}
            }
        }
        if self.checks.is_empty() {
            return;
        }
        let owners = &self.owners;
        let names = &self.names;
        for check in self.checks.iter_mut().filter(|c| c.result.is_none()) {
            let spec = &check.spec;
            if let Some(m) = &spec.count {
                if matches(m, &e.event, owners, names) {
                    check.count += 1;
                }
            }
            if let (Some(first), Some(then)) = (&spec.first, &spec.then) {
                if check.first.is_none() && matches(first, &e.event, owners, names) {
                    check.first = Some(index);
                }
                if check.then.is_none() && matches(then, &e.event, owners, names) {
                    check.then = Some(index);
                }
            }
            if let Some(name) = &spec.consumer {
                if let Event::Delivered { connection, delivery, .. } = &e.event {
                    let actor = owners.get(connection).copied();
                    if delivery.redelivered && actor.is_some() && actor == names.get(name).copied() {
                        let n = check.redeliveries.entry(delivery.message).or_insert(0);
                        *n += 1;
                        check.max_redeliveries = check.max_redeliveries.max(*n);
                    }
                }
            }
        }
    }

    /// Decides the checks whose time satisfies `due`.
    fn settle_checks(&mut self, due: impl Fn(VirtualTime) -> bool) {
        for i in 0..self.checks.len() {
            let c = &self.checks[i];
            if c.result.is_none() && c.spec.at.is_some_and(|at| due(VirtualTime(at.0))) {
                let r = self.evaluate(i);
                self.checks[i].result = Some(r);
            }
        }
    }

    /// A check's verdict from what is observed now.
    fn evaluate(&self, i: usize) -> CheckResult {
        let w = &self.checks[i];
        let spec = &w.spec;
        let matchers = [&spec.count, &spec.first, &spec.then];
        if let Some(m) =
            matchers.into_iter().flatten().find(|m| !self.broker.observes(&m.event, m.reason.as_deref()))
        {
            // A real broker does this inside; no client sees it, so the check cannot be decided there.
            return CheckResult {
                index: i,
                description: w.description.clone(),
                status: CheckStatus::Pending,
                observed: "-".to_string(),
                reason: format!("'{}' events are not observable on this broker", m.event),
            };
        }
        let (pass, observed, reason) = if let Some(queue) = &spec.queue {
            match self.broker.queue_counts(queue) {
                None => (false, "no queue".to_string(), format!("queue '{queue}' does not exist")),
                Some(d) => {
                    let (ready, unacked) = (d.ready, d.unacked);
                    let (value, cmp) = match (&spec.messages, &spec.ready, &spec.unacked) {
                        (Some(c), _, _) => (ready + unacked, c),
                        (_, Some(c), _) => (ready, c),
                        (_, _, Some(c)) => (unacked, c),
                        _ => unreachable!("validated: one of messages, ready, unacked"),
                    };
                    let reason = format!("{ready} ready, {unacked} unacked");
                    (cmp.holds(value), value.to_string(), reason)
                }
            }
        } else if let (Some(_), Some(cmp)) = (&spec.count, &spec.is) {
            (cmp.holds(w.count), w.count.to_string(), String::new())
        } else if spec.first.is_some() {
            order_verdict(w.first, w.then)
        } else if let Some(most) = spec.redelivered_at_most {
            let worst = w.redeliveries.iter().find(|(_, n)| **n == w.max_redeliveries).map(|(m, _)| *m);
            let reason = match worst {
                Some(m) if w.max_redeliveries > most => {
                    format!("{m} was redelivered {} times", w.max_redeliveries)
                }
                _ => String::new(),
            };
            (w.max_redeliveries <= most, w.max_redeliveries.to_string(), reason)
        } else if spec.all_published_acked {
            let left = self.unacked_published.as_ref().map_or(0, BTreeSet::len) as u64;
            let acked = self.published_total.saturating_sub(left);
            let reason = if left > 0 { format!("{left} not acked") } else { String::new() };
            (left == 0, format!("{acked} of {} acked", self.published_total), reason)
        } else {
            let published: u64 =
                self.producers.iter().filter(|p| p.spec.confirms.is_some()).map(|p| p.published).sum();
            let confirmed: u64 = self.producers.iter().map(|p| p.confirmed).sum();
            let nacked: u64 = self.producers.iter().map(|p| p.nacked).sum();
            let unconfirmed_producers =
                self.producers.iter().filter(|p| p.spec.confirms.is_none() && p.published > 0).count();
            let reason = if unconfirmed_producers > 0 {
                format!("{unconfirmed_producers} producers publish without confirms")
            } else if nacked > 0 {
                format!("{nacked} nacked")
            } else if confirmed < published {
                format!("{} unconfirmed", published - confirmed)
            } else {
                String::new()
            };
            (reason.is_empty(), format!("{confirmed} of {published} confirmed"), reason)
        };
        CheckResult {
            index: i,
            description: w.description.clone(),
            status: if pass { CheckStatus::Pass } else { CheckStatus::Fail },
            observed,
            reason: if pass { String::new() } else { reason },
        }
    }

    /// The broker, for a client outside the document (the app's own UI connection). Apply methods at
    /// [`now`](Simulation::now) and never advance the broker's clock: the simulation keeps time. Then call
    /// [`take_outside_effects`](Simulation::take_outside_effects), or the events those methods caused
    /// wait in the broker until the next [`step`](Simulation::step) collects them.
    pub fn broker_mut(&mut self) -> &mut B {
        &mut self.broker
    }

    /// Collects, at this instant, what methods applied through [`broker_mut`](Simulation::broker_mut)
    /// caused: checks see it, and a delivery to an actor reaches it now (after the actor's latency), as
    /// it would on a real broker — not at the document's next scheduled event, which may be far off.
    /// Does nothing after the end (no actor acts any more).
    pub fn take_outside_effects(&mut self) {
        if self.finished || self.clock.stopped.is_some() {
            return;
        }
        self.collect();
        self.drain();
    }
}

/// The simulation as the kernel's time loop drives it: the broker is the system, the actors' later work
/// are its wake-ups. A private wrapper, so that nothing outside can move the clock or fire a wake-up.
struct Driven<'a, B>(&'a mut Simulation<B>);

impl<B: SimPort> Run for Driven<'_, B> {
    type Wake = Wake;
    const LIVE: bool = B::LIVE;

    fn clock(&self) -> &RunClock<Wake> {
        &self.0.clock
    }

    fn clock_mut(&mut self) -> &mut RunClock<Wake> {
        &mut self.0.clock
    }

    fn fire(&mut self, wake: Wake) {
        self.0.fire(wake)
    }

    fn system_deadline(&self) -> Option<VirtualTime> {
        self.0.broker.next_deadline()
    }

    fn advance_system(&mut self, to: VirtualTime) {
        self.0.broker.advance_to(to)
    }

    fn collect(&mut self) {
        self.0.collect()
    }

    fn drain(&mut self) {
        self.0.drain()
    }

    fn wait_system(&mut self, to: VirtualTime) -> VirtualTime {
        self.0.broker.wait_until(to)
    }

    fn take_failure(&mut self) -> Option<String> {
        self.0.broker.take_failure()
    }

    fn settle_checks(&mut self, due: impl Fn(VirtualTime) -> bool) {
        self.0.settle_checks(due)
    }

    fn next_check_due(&self) -> Option<VirtualTime> {
        self.0
            .checks
            .iter()
            .filter(|c| c.result.is_none())
            .filter_map(|c| c.spec.at.map(|at| VirtualTime(at.0)))
            .min()
    }

    fn instant_done(&mut self, firings: u64) {
        self.0.stats.instants += 1;
        self.0.stats.firings += firings;
        if self.0.options.check_invariants {
            self.0.broker.assert_invariants();
        }
    }
}

fn decided(action: Action, requeue: bool) -> Decided {
    match action {
        Action::Ack => Decided::Ack,
        Action::Nack => Decided::Nack { requeue },
        Action::Reject => Decided::Reject { requeue },
        Action::Crash => Decided::Crash,
        Action::Cancel => Decided::Cancel,
    }
}

struct RenderContext<'a> {
    seq: u64,
    actor: &'a str,
    body: &'a str,
    correlation_id: &'a str,
}

impl RenderContext<'_> {
    /// Writes a placeholder's value.
    fn write(&self, var: &Placeholder, out: &mut String) {
        match var {
            Placeholder::Seq => {
                let _ = write!(out, "{}", self.seq);
            }
            Placeholder::Actor => out.push_str(self.actor),
            Placeholder::Body => out.push_str(self.body),
            Placeholder::CorrelationId => out.push_str(self.correlation_id),
        }
    }
}

fn render(template: &Template, ctx: &RenderContext<'_>, prng: &mut Prng) -> String {
    template.render(prng, |var, out| ctx.write(var, out))
}

/// Appends a rendered template to `out`.
fn render_into(template: &Template, ctx: &RenderContext<'_>, prng: &mut Prng, out: &mut String) {
    template.render_into(prng, out, |var, out| ctx.write(var, out))
}

/// Whether an event is one a check's matcher names (the kernel's matcher over [`Event`]'s fields).
fn matches(
    m: &EventMatch,
    e: &Event,
    owners: &BTreeMap<ConnectionId, ActorRef>,
    names: &BTreeMap<String, ActorRef>,
) -> bool {
    sim_kernel::checks::matches(m, e, |c| owners.get(&c).copied(), |n| names.get(n).copied())
}

/// A set-up method as a step's source: `basic.consume queue="q"`.
fn method_text(m: &Method) -> String {
    match m {
        Method::QueueDeclare { queue, durable, exclusive, auto_delete, .. } => {
            let mut s = format!("queue.declare queue={queue:?}");
            for (on, flag) in
                [(*durable, " durable"), (*exclusive, " exclusive"), (*auto_delete, " auto_delete")]
            {
                if on {
                    s.push_str(flag);
                }
            }
            s
        }
        Method::QueueBind { queue, exchange, routing_key, .. } => {
            format!("queue.bind queue={queue:?} exchange={exchange:?} routing_key={routing_key:?}")
        }
        Method::BasicQos { prefetch_count, global, .. } => {
            format!("basic.qos prefetch_count={prefetch_count} global={global}")
        }
        Method::BasicConsume { queue, consumer_tag, auto_ack, exclusive, .. } => {
            let mut s = format!("basic.consume queue={queue:?} consumer_tag={consumer_tag:?}");
            if *auto_ack {
                s.push_str(" auto_ack");
            }
            if *exclusive {
                s.push_str(" exclusive");
            }
            s
        }
        other => other.amqp_name().to_string(),
    }
}

fn describe_check(c: &Check) -> String {
    let when = match c.at {
        Some(at) => format!("at {} ", VirtualTime(at.0)),
        None => "at the end ".to_string(),
    };
    let matcher = |m: &EventMatch| {
        let mut s = m.event.clone();
        for (name, v) in [
            ("queue", &m.queue),
            ("exchange", &m.exchange),
            ("routing_key", &m.routing_key),
            ("reason", &m.reason),
            ("actor", &m.actor),
        ] {
            if let Some(v) = v {
                let _ = write!(s, " {name} '{v}'");
            }
        }
        s
    };
    if let Some(q) = &c.queue {
        let (what, cmp) = match (&c.messages, &c.ready, &c.unacked) {
            (Some(cmp), _, _) => ("messages", cmp),
            (_, Some(cmp), _) => ("ready", cmp),
            (_, _, Some(cmp)) => ("unacked", cmp),
            _ => ("messages", &super::document::Comparison { op: super::document::Op::Eq, value: 0 }),
        };
        format!("{when}queue '{q}' {what} {cmp}")
    } else if let (Some(m), Some(cmp)) = (&c.count, &c.is) {
        format!("{when}count of {} {cmp}", matcher(m))
    } else if let (Some(a), Some(b)) = (&c.first, &c.then) {
        format!("{when}{} before {}", matcher(a), matcher(b))
    } else if let (Some(name), Some(n)) = (&c.consumer, c.redelivered_at_most) {
        format!("{when}consumer '{name}' got no message redelivered more than {n} times")
    } else if c.all_published_acked {
        format!("{when}every published message acked")
    } else {
        format!("{when}every published message confirmed")
    }
}

/// Runs a document given as JSON text to its end and returns its transcript (with the check lines),
/// or the error that stopped it from starting. Pure: the same text gives the same string everywhere.
pub fn run_document_transcript(json_text: &str) -> Result<String, String> {
    let mut sim = Simulation::from_json(json_text, SimOptions::default()).map_err(|e| e.to_string())?;
    sim.run();
    Ok(sim.transcript())
}
