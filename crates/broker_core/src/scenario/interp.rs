//! The meaning of scenario statements: variables, pika's argument rules, channel numbering, virtual time.
//!
//! One interpreter serves both the check ([`check`], a dry run with no broker, where values a broker would
//! produce are `Unknown`) and the real run ([`run`]). Sharing the code is what makes "the check passed"
//! mean "every statement is well-formed": the only failures left for a real run are values that depend on
//! the broker's answers (the fields of a step that failed, a `basic.get` that found the queue empty).
//!
//! # Invariants
//! - `now` never goes back; every broker call happens at `now`.
//! - `conns[i].open_channels` holds the channel numbers the client believes open: a number is reused
//!   (lowest free first, as pika does) only after the broker closed that channel or the client did.

use super::backend::{AdvanceStop, BackendFailure, EngineBackend, StepBackend};
use super::report::{Outcome, Report, StepRecord, StopInfo, REPORT_FORMAT};
use super::syntax::{Arg, Expr, ExprKind, RawKind, RawStep};
use super::{Pos, RunOptions, Scenario, ScenarioError};
use crate::amqp::channel::ChannelNumbers;
use crate::amqp::error::{AmqpError, ErrorScope};
use crate::amqp::event::{Event, LoggedEvent};
use crate::amqp::method::{Method, Reply};
use crate::amqp::types::{
    BasicProperties, ChannelNumber, ConnectionId, DeliveryTag, FieldTable, FieldValue, TypedValue,
};
use crate::amqp::{Broker, BrokerConfig, DEFAULT_CHANNEL_MAX};
use crate::clock::VirtualTime;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A value a scenario expression evaluates to.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    /// Keys are strings; order as written (converted to a sorted field table when sent).
    Dict(Vec<(String, Value)>),
    /// A field value of an exact AMQP type (`int8(5)`, `Decimal("1.25")`, `datetime.datetime(…)`).
    Field(TypedValue),
    Props(Box<BasicProperties>),
    /// Index into the interpreter's connections.
    Conn(usize),
    /// Index into the interpreter's channels.
    Chan(usize),
    /// A method's `-ok` (pika's method frame: `result.method.queue`).
    Reply(Rc<Reply>),
    /// What a step bound when the broker answered with an error (pika would have raised).
    Failed {
        error: Rc<AmqpError>,
        line: u32,
    },
    /// Dry run: known only when the scenario runs against a broker.
    Unknown,
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "a bool",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "a list",
            Value::Dict(_) => "a dict",
            Value::Field(_) => "a typed field value",
            Value::Props(_) => "BasicProperties",
            Value::Conn(_) => "a connection",
            Value::Chan(_) => "a channel",
            Value::Reply(_) => "a method result",
            Value::Failed { .. } => "a failed step's result",
            Value::Unknown => "a value",
        }
    }

    /// The transcript form of an assigned value.
    fn display(&self) -> String {
        match self {
            Value::None => "None".to_string(),
            Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(x) => format!("{x:?}"),
            Value::Str(s) => format!("{s:?}"),
            Value::Bytes(b) => format!("b{}", crate::amqp::types::body_text(b)),
            Value::List(items) => {
                format!("[{}]", items.iter().map(Value::display).collect::<Vec<_>>().join(", "))
            }
            Value::Dict(entries) => format!(
                "{{{}}}",
                entries.iter().map(|(k, v)| format!("{k:?}: {}", v.display())).collect::<Vec<_>>().join(", ")
            ),
            Value::Field(t) => t.to_string(),
            Value::Props(p) => super::report::properties_text(p),
            Value::Reply(r) => super::report::reply_text(r),
            other => other.type_name().to_string(),
        }
    }
}

struct ConnSlot {
    id: Option<ConnectionId>,
    open_channels: ChannelNumbers,
}

struct ChanSlot {
    conn: usize,
    number: ChannelNumber,
}

struct Interp<'b> {
    /// `None` in the dry run.
    backend: Option<&'b mut dyn StepBackend>,
    options: RunOptions,
    now: VirtualTime,
    vars: BTreeMap<String, Value>,
    conns: Vec<ConnSlot>,
    chans: Vec<ChanSlot>,
    events: Vec<LoggedEvent>,
    steps: Vec<StepRecord>,
    seen_step: bool,
    seen_seed: bool,
}

/// Checks a scenario by a dry run: every error a run could find without a broker is found here.
pub(crate) fn check(scenario: &Scenario) -> Result<(), ScenarioError> {
    let mut interp = Interp::new(None, RunOptions::default());
    for statement in &scenario.statements {
        interp.statement(&statement.kind, statement.pos)?;
    }
    Ok(())
}

/// Plays a checked scenario on a fresh broker and returns what happened.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Report {
    let seed = options.seed.unwrap_or(scenario.seed);
    let mut backend = EngineBackend { broker: Broker::new(BrokerConfig::default(), seed) };
    run_on(scenario, options, &mut backend)
}

/// Plays a checked scenario on `backend` (the engine, or a real broker a native runner provides) and
/// returns what happened; the seed recorded is the options' or the scenario's.
pub fn run_on(scenario: &Scenario, options: &RunOptions, backend: &mut dyn StepBackend) -> Report {
    let seed = options.seed.unwrap_or(scenario.seed);
    let mut interp = Interp::new(Some(backend), options.clone());
    let mut stopped = None;
    for statement in &scenario.statements {
        if let Err(e) = interp.statement(&statement.kind, statement.pos) {
            stopped = Some(StopInfo { pos: e.pos, at: interp.now, message: e.message });
            break;
        }
    }
    let queues = interp.backend.as_mut().expect("a real run has a backend").queues();
    Report {
        format: REPORT_FORMAT.to_string(),
        version: scenario.version,
        seed,
        queues,
        steps: interp.steps,
        events: interp.events,
        end: interp.now,
        stopped,
    }
}

/// pika's parameter lists (BlockingChannel, pika 1.x), in positional order, and how many are required.
const CHANNEL_METHODS: &[(&str, &[&str], usize)] = &[
    ("close", &[], 0),
    ("confirm_delivery", &[], 0),
    (
        "exchange_declare",
        &["exchange", "exchange_type", "passive", "durable", "auto_delete", "internal", "arguments"],
        1,
    ),
    ("exchange_delete", &["exchange", "if_unused"], 0),
    ("exchange_bind", &["destination", "source", "routing_key", "arguments"], 2),
    ("exchange_unbind", &["destination", "source", "routing_key", "arguments"], 0),
    ("queue_declare", &["queue", "passive", "durable", "exclusive", "auto_delete", "arguments"], 1),
    ("queue_bind", &["queue", "exchange", "routing_key", "arguments"], 2),
    ("queue_unbind", &["queue", "exchange", "routing_key", "arguments"], 1),
    ("queue_purge", &["queue"], 1),
    ("queue_delete", &["queue", "if_unused", "if_empty"], 1),
    ("basic_qos", &["prefetch_size", "prefetch_count", "global_qos"], 0),
    (
        "basic_consume",
        &["queue", "on_message_callback", "auto_ack", "exclusive", "consumer_tag", "arguments"],
        1,
    ),
    ("basic_cancel", &["consumer_tag"], 1),
    // `immediate`: pika 0.x's last parameter (pika 1.x dropped it); RabbitMQ refuses it, and a scenario can
    // still send it to see how.
    ("basic_publish", &["exchange", "routing_key", "body", "properties", "mandatory", "immediate"], 3),
    ("basic_get", &["queue", "auto_ack"], 1),
    ("basic_ack", &["delivery_tag", "multiple"], 0),
    ("basic_nack", &["delivery_tag", "multiple", "requeue"], 0),
    ("basic_reject", &["delivery_tag", "requeue"], 0),
    ("basic_recover", &["requeue"], 0),
    ("tx_select", &[], 0),
    ("tx_commit", &[], 0),
    ("tx_rollback", &[], 0),
];

const PROPERTY_FIELDS: &[&str] = &[
    "content_type",
    "content_encoding",
    "headers",
    "delivery_mode",
    "priority",
    "correlation_id",
    "reply_to",
    "expiration",
    "message_id",
    "timestamp",
    "type",
    "user_id",
    "app_id",
];

/// Matches call arguments to parameter names, pika's way; returns the expressions by name.
fn bind_args<'e>(
    what: &str,
    params: &[&'static str],
    required: usize,
    args: &'e [Arg],
    call_pos: Pos,
) -> Result<BTreeMap<&'static str, &'e Expr>, ScenarioError> {
    let mut bound: BTreeMap<&'static str, &Expr> = BTreeMap::new();
    for (i, arg) in args.iter().enumerate() {
        let (name, pos) = match &arg.keyword {
            Some((k, pos)) => match params.iter().find(|p| **p == k) {
                Some(p) => (*p, *pos),
                None => {
                    let hint = if params.is_empty() {
                        format!("{what} takes no arguments")
                    } else {
                        format!("it takes {}", params.join(", "))
                    };
                    return Err(ScenarioError::new(*pos, format!("{what} has no argument '{k}'; {hint}")));
                }
            },
            None => match params.get(i) {
                Some(p) => (*p, arg.value.pos),
                None => {
                    return Err(ScenarioError::new(
                        arg.value.pos,
                        format!("{what} takes at most {} positional arguments", params.len()),
                    ))
                }
            },
        };
        if bound.insert(name, &arg.value).is_some() {
            return Err(ScenarioError::new(pos, format!("argument '{name}' given twice")));
        }
    }
    for p in &params[..required] {
        if !bound.contains_key(p) {
            return Err(ScenarioError::new(call_pos, format!("{what} needs '{p}'")));
        }
    }
    Ok(bound)
}

/// Evaluated arguments of one call, with the converters pika's types call for.
struct Args {
    values: BTreeMap<&'static str, (Value, Pos)>,
}

impl Args {
    /// The value, or `None` when the argument is absent, `None` or (dry run) unknown.
    fn get(&self, name: &str) -> Option<&(Value, Pos)> {
        self.values.get(name).filter(|(v, _)| !matches!(v, Value::None | Value::Unknown))
    }
    fn is_unknown(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some((Value::Unknown, _)))
    }
    fn string(&self, name: &str, default: &str) -> Result<String, ScenarioError> {
        match self.get(name) {
            None => Ok(default.to_string()),
            Some((Value::Str(s), _)) => Ok(s.clone()),
            Some((v, pos)) => Err(wrong_type(*pos, name, "a string", v)),
        }
    }
    fn opt_string(&self, name: &str) -> Result<Option<String>, ScenarioError> {
        match self.get(name) {
            None => Ok(None),
            Some((Value::Str(s), _)) => Ok(Some(s.clone())),
            Some((v, pos)) => Err(wrong_type(*pos, name, "a string", v)),
        }
    }
    fn boolean(&self, name: &str, default: bool) -> Result<bool, ScenarioError> {
        match self.get(name) {
            None => Ok(default),
            Some((Value::Bool(b), _)) => Ok(*b),
            Some((v, pos)) => Err(wrong_type(*pos, name, "True or False", v)),
        }
    }
    fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ScenarioError> {
        match self.get(name) {
            None => Ok(None),
            Some((Value::Int(i), pos)) => {
                if (min..=max).contains(i) {
                    Ok(Some(*i))
                } else {
                    Err(ScenarioError::new(
                        *pos,
                        format!("'{name}' must be between {min} and {max}, found {i}"),
                    ))
                }
            }
            Some((v, pos)) => Err(wrong_type(*pos, name, "an integer", v)),
        }
    }
    fn table(&self, name: &str) -> Result<FieldTable, ScenarioError> {
        match self.get(name) {
            None => Ok(FieldTable::new()),
            Some((Value::Dict(entries), pos)) => dict_to_table(entries, *pos),
            Some((v, pos)) => Err(wrong_type(*pos, name, "a dict", v)),
        }
    }
    fn tag(&self, name: &str) -> Result<DeliveryTag, ScenarioError> {
        Ok(DeliveryTag(self.int(name, 0, i64::MAX)?.unwrap_or(0) as u64))
    }
}

fn wrong_type(pos: Pos, name: &str, expected: &str, found: &Value) -> ScenarioError {
    let hint = if name == "expiration" && matches!(found, Value::Int(_)) {
        " (AMQP's expiration is a string of milliseconds, e.g. \"1000\")"
    } else {
        ""
    };
    ScenarioError::new(pos, format!("'{name}' must be {expected}, found {}{hint}", found.type_name()))
}

fn dict_to_table(entries: &[(String, Value)], pos: Pos) -> Result<FieldTable, ScenarioError> {
    let mut table = FieldTable::new();
    for (k, v) in entries {
        table.insert(k.clone(), field_value(v, pos)?);
    }
    Ok(table)
}

fn field_value(v: &Value, pos: Pos) -> Result<FieldValue, ScenarioError> {
    Ok(match v {
        Value::None | Value::Unknown => FieldValue::Void,
        Value::Bool(b) => FieldValue::Bool(*b),
        Value::Int(i) => FieldValue::Int(*i),
        Value::Float(x) => FieldValue::Float(*x),
        Value::Str(s) => FieldValue::Str(s.clone()),
        // pika sends Python bytes as a byte array (`x`).
        Value::Bytes(b) => FieldValue::Typed(TypedValue::Bytes(b.clone())),
        Value::Field(t) => FieldValue::Typed(t.clone()),
        Value::List(items) => {
            FieldValue::Array(items.iter().map(|i| field_value(i, pos)).collect::<Result<_, _>>()?)
        }
        Value::Dict(entries) => FieldValue::Table(dict_to_table(entries, pos)?),
        other => {
            return Err(ScenarioError::new(pos, format!("{} cannot go in a field table", other.type_name())))
        }
    })
}

/// A field value written as in a scenario (`int8(5)`, `Decimal("1.25")`, `[uint16(1), b"z"]`,
/// `{"k": 1}`), alone: what the page's forms use for a value of an exact AMQP type, with the same checks
/// and the same located errors (line 1) as a scenario line. No variable is defined.
pub fn parse_field_value(text: &str) -> Result<FieldValue, ScenarioError> {
    let expr = super::syntax::parse_value(text)?;
    let value = Interp::new(None, RunOptions::default()).eval(&expr)?;
    field_value(&value, expr.pos)
}

impl<'b> Interp<'b> {
    fn new(backend: Option<&'b mut dyn StepBackend>, options: RunOptions) -> Self {
        Interp {
            backend,
            options,
            now: VirtualTime::ZERO,
            vars: BTreeMap::new(),
            conns: Vec::new(),
            chans: Vec::new(),
            events: Vec::new(),
            steps: Vec::new(),
            seen_step: false,
            seen_seed: false,
        }
    }

    fn statement(&mut self, kind: &RawKind, pos: Pos) -> Result<(), ScenarioError> {
        match kind {
            RawKind::Seed(_) => {
                if self.seen_seed {
                    return Err(ScenarioError::new(pos, "the seed is set twice"));
                }
                if self.seen_step {
                    return Err(ScenarioError::new(pos, "`seed` must come before the first step"));
                }
                self.seen_seed = true;
                Ok(())
            }
            RawKind::Wait(millis) => {
                self.seen_step = true;
                if self.now.as_millis().saturating_add(*millis) > super::MAX_TIME_MILLIS {
                    return Err(ScenarioError::new(
                        pos,
                        format!(
                            "`wait` would move the clock from {} past the latest time a scenario can reach, \
                             {}ms (about 285,000 years)",
                            self.now,
                            super::MAX_TIME_MILLIS
                        ),
                    ));
                }
                let to = self.now.plus_millis(*millis);
                self.advance(to, pos)
            }
            RawKind::Step { at_millis, step } => {
                self.seen_step = true;
                if let Some(at) = at_millis {
                    let at = VirtualTime::from_millis(*at);
                    if at < self.now {
                        return Err(ScenarioError::new(
                            pos,
                            format!(
                                "`at {at}` is earlier than the current time {}: time only moves forward",
                                self.now
                            ),
                        ));
                    }
                    self.advance(at, pos)?;
                }
                self.step(step, pos)
            }
        }
    }

    /// Fires every deadline due by `to`, one instant at a time, within the runaway guard.
    fn advance(&mut self, to: VirtualTime, pos: Pos) -> Result<(), ScenarioError> {
        let guard = self.options.max_timer_firings;
        let Some(backend) = self.backend.as_mut() else {
            self.now = to;
            return Ok(());
        };
        match backend.advance(to, guard) {
            Ok(()) => {
                self.now = to;
                self.collect_events();
                Ok(())
            }
            Err(AdvanceStop::Runaway { at }) => {
                self.now = at;
                self.collect_events();
                Err(ScenarioError::new(
                    pos,
                    format!("runaway: more than {guard} timer firings before {to}; the scenario was stopped"),
                ))
            }
            Err(AdvanceStop::Failure(failure)) => {
                self.collect_events();
                Err(ScenarioError::new(pos, failure.0))
            }
        }
    }

    /// Takes the broker's new events, keeping the client's view of open channels in step with them.
    fn collect_events(&mut self) {
        let Some(backend) = self.backend.as_mut() else { return };
        let events = backend.take_events();
        for e in &events {
            match &e.event {
                Event::ChannelClosed { connection, channel, .. } => {
                    if let Some(slot) = self.conns.iter_mut().find(|c| c.id == Some(*connection)) {
                        slot.open_channels.remove(channel.0);
                    }
                }
                Event::ConnectionClosed { connection, .. } => {
                    if let Some(slot) = self.conns.iter_mut().find(|c| c.id == Some(*connection)) {
                        slot.open_channels.clear();
                    }
                }
                _ => {}
            }
        }
        self.events.extend(events);
    }

    fn after_call(&mut self) {
        self.collect_events();
        if self.options.check_invariants {
            if let Some(backend) = &self.backend {
                backend.check_invariants();
            }
        }
    }

    fn step(&mut self, step: &RawStep, pos: Pos) -> Result<(), ScenarioError> {
        if let ExprKind::Call { callee, args } = &step.expr.kind {
            match &callee.kind {
                ExprKind::Name(name) if name == "connect" && !self.vars.contains_key(name) => {
                    return self.connect(step, args, pos)
                }
                ExprKind::Attr(base, method) => {
                    if let ExprKind::Name(var) = &base.kind {
                        match self.vars.get(var) {
                            Some(Value::Conn(c)) => {
                                return self.connection_method(step, pos, *c, method, args, callee.pos)
                            }
                            Some(Value::Chan(c)) => {
                                return self.channel_method(step, pos, *c, method, args, callee.pos)
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        // A plain assignment.
        let value = self.eval(&step.expr)?;
        match step.targets.as_slice() {
            [] => Err(ScenarioError::new(
                step.expr.pos,
                "this line computes a value but does nothing with it: assign it (`name = …`) or call a method",
            )),
            [(name, _)] => {
                let display = value.display();
                self.vars.insert(name.clone(), value);
                let events_start = self.events.len();
                self.record((step, pos), None, None, None, Outcome::Value { value: display }, events_start);
                Ok(())
            }
            [_, (_, second), ..] => {
                Err(ScenarioError::new(*second, "only `method, properties, body = ch.basic_get(…)` unpacks"))
            }
        }
    }

    fn record(
        &mut self,
        (step, pos): (&RawStep, Pos),
        connection: Option<ConnectionId>,
        channel: Option<ChannelNumber>,
        method: Option<Method>,
        outcome: Outcome,
        events_start: usize,
    ) {
        if self.backend.is_none() {
            return;
        }
        self.steps.push(StepRecord {
            line: pos.line,
            at: self.now,
            source: step.source.clone(),
            connection,
            channel,
            method,
            outcome,
            events_start,
        });
    }

    fn single_target(step: &RawStep) -> Result<Option<&str>, ScenarioError> {
        match step.targets.as_slice() {
            [] => Ok(None),
            [(name, _)] => Ok(Some(name)),
            [_, (_, second), ..] => {
                Err(ScenarioError::new(*second, "only `method, properties, body = ch.basic_get(…)` unpacks"))
            }
        }
    }

    fn connect(&mut self, step: &RawStep, args: &[Arg], pos: Pos) -> Result<(), ScenarioError> {
        let target = Self::single_target(step)?.map(str::to_string);
        let bound = bind_args("connect", &["name"], 0, args, step.expr.pos)?;
        let args = self.eval_args(&bound)?;
        let name = args.string("name", target.as_deref().unwrap_or(""))?;
        let id = match self.backend.as_mut() {
            Some(backend) => {
                Some(backend.connect(self.now, &name).map_err(|f| ScenarioError::new(pos, f.0))?)
            }
            None => None,
        };
        self.conns.push(ConnSlot { id, open_channels: ChannelNumbers::default() });
        let index = self.conns.len() - 1;
        if let Some(t) = target {
            self.vars.insert(t, Value::Conn(index));
        }
        let events_start = self.events.len();
        self.after_call();
        if let Some(id) = id {
            self.record((step, pos), Some(id), None, None, Outcome::Connected, events_start);
        }
        Ok(())
    }

    fn connection_method(
        &mut self,
        step: &RawStep,
        pos: Pos,
        conn: usize,
        method: &str,
        args: &[Arg],
        call_pos: Pos,
    ) -> Result<(), ScenarioError> {
        let target = Self::single_target(step)?.map(str::to_string);
        let events_start = self.events.len();
        match method {
            "channel" => {
                let bound = bind_args("channel", &["channel_number"], 0, args, call_pos)?;
                let args = self.eval_args(&bound)?;
                let slot = &mut self.conns[conn];
                let number = match args.int("channel_number", 1, 65535)? {
                    Some(n) => n as u16,
                    // pika: the lowest number not held by an open channel, refused on the client once the
                    // negotiated channel_max are open (`Connection._next_channel_number`).
                    None => match slot.open_channels.lowest_free() {
                        Some(n) if slot.open_channels.len() < usize::from(DEFAULT_CHANNEL_MAX) => n,
                        _ => {
                            return Err(ScenarioError::new(
                                call_pos,
                                format!(
                                    "NoFreeChannels: The connection has run out of free channels ({} open, \
                                     the channel_max negotiated with RabbitMQ is {DEFAULT_CHANNEL_MAX})",
                                    slot.open_channels.len()
                                ),
                            ))
                        }
                    },
                };
                let number = ChannelNumber(number);
                self.chans.push(ChanSlot { conn, number });
                if let Some(t) = target {
                    self.vars.insert(t, Value::Chan(self.chans.len() - 1));
                }
                let result =
                    self.send(conn, number, Method::ChannelOpen).map_err(|f| ScenarioError::new(pos, f.0))?;
                self.finish_channel_step(
                    (step, pos),
                    conn,
                    number,
                    Method::ChannelOpen,
                    result,
                    events_start,
                );
                Ok(())
            }
            "close" => {
                bind_args("close", &[], 0, args, call_pos)?;
                let slot = &mut self.conns[conn];
                slot.open_channels.clear();
                let id = slot.id;
                if let (Some(backend), Some(id)) = (self.backend.as_mut(), id) {
                    backend.close_connection(self.now, id).map_err(|f| ScenarioError::new(pos, f.0))?;
                }
                if let Some(t) = target {
                    self.vars.insert(t, Value::None);
                }
                self.after_call();
                self.record((step, pos), id, None, None, Outcome::ConnectionClosed, events_start);
                Ok(())
            }
            other => Err(ScenarioError::new(
                call_pos,
                format!("a connection has no method '{other}'; it has channel() and close()"),
            )),
        }
    }

    fn send(
        &mut self,
        conn: usize,
        number: ChannelNumber,
        method: Method,
    ) -> Result<Option<Result<Reply, AmqpError>>, BackendFailure> {
        // pika refuses a method with a short string over 255 bytes before sending it (also in the dry
        // run, so a literal name is caught by the check).
        method.check_short_strings().map_err(|e| BackendFailure(e.to_string()))?;
        let slot = &mut self.conns[conn];
        let (Some(backend), Some(id)) = (self.backend.as_mut(), slot.id) else { return Ok(None) };
        let result = backend.apply(self.now, id, number, method)?;
        // The client's view of which channels are open follows the broker's answer.
        match &result {
            Ok(Reply::ChannelOpenOk { .. }) => {
                slot.open_channels.insert(number.0);
            }
            Ok(Reply::ChannelCloseOk) => {
                slot.open_channels.remove(number.0);
            }
            Err(e) if e.scope == ErrorScope::Channel => {
                slot.open_channels.remove(number.0);
            }
            Err(_) => slot.open_channels.clear(),
            Ok(_) => {}
        }
        Ok(Some(result))
    }

    fn finish_channel_step(
        &mut self,
        (step, pos): (&RawStep, Pos),
        conn: usize,
        number: ChannelNumber,
        method: Method,
        result: Option<Result<Reply, AmqpError>>,
        events_start: usize,
    ) {
        self.after_call();
        let Some(result) = result else {
            if self.backend.is_none() {
                // Dry run: the channel is assumed to open.
                if matches!(method, Method::ChannelOpen) {
                    self.conns[conn].open_channels.insert(number.0);
                } else if matches!(method, Method::ChannelClose) {
                    self.conns[conn].open_channels.remove(number.0);
                }
            }
            return;
        };
        let outcome = match result {
            Ok(reply) => Outcome::Reply { reply },
            Err(error) => Outcome::Error { error },
        };
        let id = self.conns[conn].id;
        self.record((step, pos), id, Some(number), Some(method), outcome, events_start);
    }

    fn channel_method(
        &mut self,
        step: &RawStep,
        pos: Pos,
        chan: usize,
        name: &str,
        args: &[Arg],
        call_pos: Pos,
    ) -> Result<(), ScenarioError> {
        let (conn, number) = (self.chans[chan].conn, self.chans[chan].number);
        let name = if name == "confirm_select" { "confirm_delivery" } else { name };
        let Some((_, params, required)) = CHANNEL_METHODS.iter().find(|(m, _, _)| *m == name) else {
            let all: Vec<&str> = CHANNEL_METHODS.iter().map(|(m, _, _)| *m).collect();
            return Err(ScenarioError::new(
                call_pos,
                format!("a channel has no method '{name}'; it has {}", all.join(", ")),
            ));
        };
        if let Some(arg) =
            args.iter().find(|a| a.keyword.as_ref().is_some_and(|(k, _)| k == "on_message_callback"))
        {
            let pos = arg.keyword.as_ref().map_or(arg.value.pos, |(_, p)| *p);
            return Err(ScenarioError::new(
                pos,
                "scenario format 1 has no callbacks: leave out on_message_callback; deliveries are printed \
                 in the transcript and later steps ack them (`ch.basic_ack(delivery_tag=1)`)",
            ));
        }
        let unpack = step.targets.len() > 1;
        if unpack && (name != "basic_get" || step.targets.len() != 3) {
            return Err(ScenarioError::new(
                step.targets[1].1,
                "only `method, properties, body = ch.basic_get(…)` unpacks",
            ));
        }
        let bound = bind_args(name, params, *required, args, call_pos)?;
        let args = self.eval_args(&bound)?;
        let method = build_method(name, &args)?;
        // pika refuses a short string over 255 bytes before sending; point at the argument that holds it.
        if let Err(too_long) = method.check_short_strings() {
            let at = args.get(short_string_argument(&too_long.field)).map_or(pos, |(_, p)| *p);
            return Err(ScenarioError::new(at, too_long.to_string()));
        }
        let events_start = self.events.len();
        let result = self.send(conn, number, method.clone()).map_err(|f| ScenarioError::new(pos, f.0))?;
        // What the step binds: pika returns the consumer tag from basic_consume, the method frame from the
        // rest, and (method, properties, body) from basic_get.
        let bound_values: Vec<Value> = match &result {
            None => vec![Value::Unknown; step.targets.len()],
            Some(Err(error)) => {
                vec![
                    Value::Failed { error: Rc::new(error.clone()), line: step.expr.pos.line };
                    step.targets.len()
                ]
            }
            Some(Ok(Reply::BasicConsumeOk { consumer_tag })) => vec![Value::Str(consumer_tag.clone())],
            Some(Ok(Reply::BasicGetEmpty)) => vec![Value::None; step.targets.len()],
            Some(Ok(reply @ Reply::BasicGetOk(d))) if unpack => vec![
                Value::Reply(Rc::new(reply.clone())),
                Value::Props(Box::new(d.properties.clone())),
                Value::Bytes(d.body.clone()),
            ],
            Some(Ok(reply)) => vec![Value::Reply(Rc::new(reply.clone()))],
        };
        for ((target, _), value) in step.targets.iter().zip(bound_values) {
            self.vars.insert(target.clone(), value);
        }
        self.finish_channel_step((step, pos), conn, number, method, result, events_start);
        Ok(())
    }

    fn eval_args(&self, bound: &BTreeMap<&'static str, &Expr>) -> Result<Args, ScenarioError> {
        let mut values = BTreeMap::new();
        for (name, expr) in bound {
            values.insert(*name, (self.eval(expr)?, expr.pos));
        }
        Ok(Args { values })
    }

    fn eval(&self, expr: &Expr) -> Result<Value, ScenarioError> {
        let pos = expr.pos;
        Ok(match &expr.kind {
            ExprKind::Str(s) => Value::Str(s.clone()),
            ExprKind::Bytes(b) => Value::Bytes(b.clone()),
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Float(x) => Value::Float(*x),
            ExprKind::List(items) => {
                Value::List(items.iter().map(|i| self.eval(i)).collect::<Result<_, _>>()?)
            }
            ExprKind::Dict(entries) => {
                let mut out: Vec<(String, Value)> = Vec::new();
                for (k, v) in entries {
                    let key = match self.eval(k)? {
                        Value::Str(s) => s,
                        Value::Unknown => String::new(),
                        other => {
                            return Err(ScenarioError::new(
                                k.pos,
                                format!("dict keys are strings, found {}", other.type_name()),
                            ))
                        }
                    };
                    let value = self.eval(v)?;
                    if let Some(slot) = out.iter_mut().find(|(existing, _)| *existing == key) {
                        slot.1 = value;
                    } else {
                        out.push((key, value));
                    }
                }
                Value::Dict(out)
            }
            ExprKind::Name(name) => match name.as_str() {
                "True" => Value::Bool(true),
                "False" => Value::Bool(false),
                "None" => Value::None,
                _ => match self.vars.get(name) {
                    Some(v) => v.clone(),
                    None => return Err(unknown_name(name, pos)),
                },
            },
            ExprKind::Attr(base, attr) => {
                if let Some(path) = constant_path(expr) {
                    if !self.vars.contains_key(path[0]) {
                        return constant(&path, pos);
                    }
                }
                let base_value = self.eval(base)?;
                attribute(&base_value, attr, pos)?
            }
            ExprKind::Call { callee, args } => {
                if let Some(path) = constant_path(callee) {
                    if !self.vars.contains_key(path[0]) {
                        if let Some(kind) = FieldConstructor::named(&path) {
                            let values = args
                                .iter()
                                .map(|a| Ok((self.eval(&a.value)?, a.value.pos)))
                                .collect::<Result<Vec<_>, ScenarioError>>()?;
                            if let Some(keyword) = args.iter().find_map(|a| a.keyword.as_ref()) {
                                return Err(ScenarioError::new(
                                    keyword.1,
                                    format!("{}(…) takes its values by position", path.join(".")),
                                ));
                            }
                            return kind.build(&path.join("."), &values, pos);
                        }
                    }
                }
                let is_props = match constant_path(callee) {
                    Some(path) => {
                        !self.vars.contains_key(path[0])
                            && (path == ["BasicProperties"] || path == ["pika", "BasicProperties"])
                    }
                    None => false,
                };
                if !is_props {
                    if let Some(path) = constant_path(callee) {
                        let root = path[0];
                        let known = ["pika", "DeliveryMode", "ExchangeType", "BasicProperties", "connect"];
                        if !self.vars.contains_key(root) && !known.contains(&root) {
                            return Err(unknown_name(root, pos));
                        }
                    }
                    let msg = match &callee.kind {
                        ExprKind::Attr(base, _)
                            if matches!(&base.kind, ExprKind::Name(v)
                                if matches!(self.vars.get(v), Some(Value::Conn(_) | Value::Chan(_)))) =>
                        {
                            "a connection or channel method is a step of its own: write it on its own line"
                                .to_string()
                        }
                        ExprKind::Name(n) if n == "connect" => {
                            "connect(…) is a step of its own: `conn = connect(\"name\")`".to_string()
                        }
                        _ => "only BasicProperties(…) and typed values such as int8(…) or Decimal(…) can be \
                              called inside a value"
                            .to_string(),
                    };
                    return Err(ScenarioError::new(pos, msg));
                }
                let bound = bind_args("BasicProperties", PROPERTY_FIELDS, 0, args, pos)?;
                let args = self.eval_args(&bound)?;
                Value::Props(Box::new(build_properties(&args)?))
            }
        })
    }
}

/// The calls that write a field value of an exact AMQP type. pika's own values first (`Decimal`, the
/// `datetime` it sends as a timestamp), then the integer widths and the 32-bit float pika cannot send.
#[derive(Clone, Copy, Debug)]
enum FieldConstructor {
    /// `int8` … `int64`, `uint8` … `uint32`: the AMQP type, the smallest and the largest value.
    Integer(fn(i64) -> TypedValue, i64, i64),
    Float32,
    Decimal,
    Datetime,
    Timestamp,
}

impl FieldConstructor {
    fn named(path: &[&str]) -> Option<Self> {
        Some(match path {
            ["int8"] => {
                FieldConstructor::Integer(|v| TypedValue::Int8(v as i8), i8::MIN.into(), i8::MAX.into())
            }
            ["uint8"] => FieldConstructor::Integer(|v| TypedValue::Uint8(v as u8), 0, u8::MAX.into()),
            ["int16"] => {
                FieldConstructor::Integer(|v| TypedValue::Int16(v as i16), i16::MIN.into(), i16::MAX.into())
            }
            ["uint16"] => FieldConstructor::Integer(|v| TypedValue::Uint16(v as u16), 0, u16::MAX.into()),
            // pika's own encoding of an `int` that fits 32 bits: the plain value.
            ["int32"] => FieldConstructor::Integer(TypedValue::Int64, i32::MIN.into(), i32::MAX.into()),
            ["uint32"] => FieldConstructor::Integer(|v| TypedValue::Uint32(v as u32), 0, u32::MAX.into()),
            ["int64"] => FieldConstructor::Integer(TypedValue::Int64, i64::MIN, i64::MAX),
            ["float32"] => FieldConstructor::Float32,
            ["Decimal"] | ["decimal", "Decimal"] => FieldConstructor::Decimal,
            ["datetime"] | ["datetime", "datetime"] => FieldConstructor::Datetime,
            ["timestamp"] => FieldConstructor::Timestamp,
            _ => return None,
        })
    }

    /// The value of `name(values…)`; errors point at the value that is wrong.
    fn build(self, name: &str, values: &[(Value, Pos)], call_pos: Pos) -> Result<Value, ScenarioError> {
        if values.iter().any(|(v, _)| matches!(v, Value::Unknown)) {
            return Ok(Value::Unknown);
        }
        let (min_args, max_args, what) = match self {
            FieldConstructor::Datetime => {
                (3, 6, "a year, month and day, then optionally hour, minute, second")
            }
            FieldConstructor::Decimal => (1, 1, "one string of digits such as \"1.25\""),
            FieldConstructor::Float32 => (1, 1, "one number"),
            _ => (1, 1, "one integer"),
        };
        if values.len() < min_args || values.len() > max_args {
            return Err(ScenarioError::new(call_pos, format!("{name}(…) takes {what}")));
        }
        let int_at = |i: usize| match &values[i] {
            (Value::Int(v), _) => Ok(*v),
            (other, pos) => {
                Err(ScenarioError::new(*pos, format!("{name}(…) takes {what}, found {}", other.type_name())))
            }
        };
        let out_of_range = |pos: Pos, v: &dyn std::fmt::Display, range: &str| {
            ScenarioError::new(pos, format!("{name}({v}) is out of range: {range}"))
        };
        let typed = match self {
            FieldConstructor::Integer(make, min, max) => {
                let v = int_at(0)?;
                if v < min || v > max {
                    return Err(out_of_range(values[0].1, &v, &format!("{name} holds {min} to {max}")));
                }
                if name == "int32" {
                    return Ok(Value::Int(v));
                }
                make(v)
            }
            FieldConstructor::Float32 => {
                let x = match &values[0] {
                    (Value::Float(x), _) => *x,
                    (Value::Int(i), _) => *i as f64,
                    (other, pos) => {
                        return Err(ScenarioError::new(
                            *pos,
                            format!("{name}(…) takes {what}, found {}", other.type_name()),
                        ))
                    }
                };
                if x.abs() > f64::from(f32::MAX) {
                    return Err(out_of_range(values[0].1, &x, "a 32-bit float is at most 3.4028235e38"));
                }
                TypedValue::Float32(x as f32)
            }
            FieldConstructor::Timestamp => {
                let v = int_at(0)?;
                if v < 0 {
                    return Err(out_of_range(
                        values[0].1,
                        &v,
                        "a timestamp is seconds since 1970, not negative",
                    ));
                }
                TypedValue::Timestamp(v as u64)
            }
            FieldConstructor::Decimal => match &values[0] {
                (Value::Str(text), pos) => parse_decimal(text, *pos)?,
                (Value::Int(i), pos) => parse_decimal(&i.to_string(), *pos)?,
                (other, pos) => {
                    return Err(ScenarioError::new(
                        *pos,
                        format!("{name}(…) takes {what}, found {}", other.type_name()),
                    ))
                }
            },
            FieldConstructor::Datetime => {
                let mut parts = [0i64; 6];
                for (i, part) in parts.iter_mut().enumerate().take(values.len()) {
                    *part = int_at(i)?;
                }
                let [year, month, day, hour, minute, second] = parts;
                let checks: [(i64, i64, i64, &str); 6] = [
                    (year, 1970, 9999, "the year is 1970 to 9999 (a timestamp counts seconds from 1970)"),
                    (month, 1, 12, "the month is 1 to 12"),
                    (day, 1, days_in_month(year, month), "the day is not in that month"),
                    (hour, 0, 23, "the hour is 0 to 23"),
                    (minute, 0, 59, "the minute is 0 to 59"),
                    (second, 0, 59, "the second is 0 to 59"),
                ];
                for (i, (v, min, max, range)) in checks.iter().enumerate().take(values.len()) {
                    if v < min || v > max {
                        return Err(ScenarioError::new(
                            values[i].1,
                            format!("{name}(…): {v} is out of range: {range}"),
                        ));
                    }
                }
                let days = days_from_civil(year, month, day);
                TypedValue::Timestamp((days * 86_400 + hour * 3600 + minute * 60 + second) as u64)
            }
        };
        Ok(Value::Field(typed))
    }
}

/// A decimal as pika encodes Python's `Decimal`: the digits as a 32-bit integer, the scale as the number
/// of digits after the point (`"1.25"` → 125, scale 2). A negative value goes as its two's complement,
/// which RabbitMQ reads back as unsigned.
fn parse_decimal(text: &str, pos: Pos) -> Result<TypedValue, ScenarioError> {
    let bad = |why: &str| ScenarioError::new(pos, format!("Decimal({text:?}) {why}"));
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int.is_empty() && frac.is_empty() || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return Err(bad("is not a decimal number: write digits with at most one '.', such as \"1.25\""));
    }
    let scale = u8::try_from(frac.len()).map_err(|_| bad("has more than 255 digits after the point"))?;
    let digits: i64 = format!("{int}{frac}")
        .trim_start_matches('0')
        .parse::<i64>()
        .or_else(|e| if int.chars().chain(frac.chars()).all(|c| c == '0') { Ok(0) } else { Err(e) })
        .map_err(|_| bad("has more digits than 32 bits hold (pika packs them as a signed 32-bit integer)"))?;
    let value = if negative { -digits } else { digits };
    let value = i32::try_from(value)
        .map_err(|_| bad("has more digits than 32 bits hold (pika packs them as a signed 32-bit integer)"))?;
    Ok(TypedValue::Decimal(scale, value as u32))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn unknown_name(name: &str, pos: Pos) -> ScenarioError {
    let hint = if name == "callback" || name.ends_with("callback") {
        "; scenario format 1 has no callbacks (deliveries appear in the transcript)"
    } else {
        ""
    };
    ScenarioError::new(pos, format!("unknown variable '{name}'{hint}"))
}

/// `a.b.c` as `["a", "b", "c"]` when the expression is only names and dots.
fn constant_path(expr: &Expr) -> Option<Vec<&str>> {
    match &expr.kind {
        ExprKind::Name(n) => Some(vec![n.as_str()]),
        ExprKind::Attr(base, attr) => {
            let mut path = constant_path(base)?;
            path.push(attr);
            Some(path)
        }
        _ => None,
    }
}

/// pika's enum constants that tutorials use (`pika.DeliveryMode.Persistent`, `ExchangeType.fanout`).
fn constant(path: &[&str], pos: Pos) -> Result<Value, ScenarioError> {
    let path = if path.first() == Some(&"pika") { &path[1..] } else { path };
    let path = match path {
        ["spec", rest @ ..] | ["exchange_type", rest @ ..] => rest,
        other => other,
    };
    match path {
        ["DeliveryMode", "Persistent"] => Ok(Value::Int(2)),
        ["DeliveryMode", "Transient"] => Ok(Value::Int(1)),
        ["ExchangeType", kind @ ("direct" | "fanout" | "topic" | "headers")] => {
            Ok(Value::Str(kind.to_string()))
        }
        [first, ..] if !["pika", "DeliveryMode", "ExchangeType"].contains(first) && path.len() == 1 => {
            Err(unknown_name(first, pos))
        }
        _ => Err(ScenarioError::new(pos, format!("unknown name '{}'", path.join(".")))),
    }
}

fn attribute(base: &Value, attr: &str, pos: Pos) -> Result<Value, ScenarioError> {
    let missing = || ScenarioError::new(pos, format!("{} has no attribute '{attr}'", base.type_name()));
    match base {
        Value::Unknown => Ok(Value::Unknown),
        Value::Failed { error, line } => {
            Err(ScenarioError::new(pos, format!("no '{attr}': the step at line {line} failed with {error}")))
        }
        Value::None => Err(ScenarioError::new(
            pos,
            format!("None has no attribute '{attr}' (did basic.get find the queue empty?)"),
        )),
        Value::Reply(reply) => {
            if attr == "method" {
                return Ok(base.clone());
            }
            let s = |v: &str| Ok(Value::Str(v.to_string()));
            let n = |v: u32| Ok(Value::Int(i64::from(v)));
            match (reply.as_ref(), attr) {
                (Reply::QueueDeclareOk { queue, .. }, "queue") => s(queue),
                (Reply::QueueDeclareOk { message_count, .. }, "message_count") => n(*message_count),
                (Reply::QueueDeclareOk { consumer_count, .. }, "consumer_count") => n(*consumer_count),
                (
                    Reply::QueuePurgeOk { message_count } | Reply::QueueDeleteOk { message_count },
                    "message_count",
                ) => n(*message_count),
                (
                    Reply::BasicConsumeOk { consumer_tag } | Reply::BasicCancelOk { consumer_tag },
                    "consumer_tag",
                ) => s(consumer_tag),
                (Reply::ChannelOpenOk { channel }, "channel_number") => n(u32::from(channel.0)),
                (Reply::BasicGetOk(d), _) => match attr {
                    "delivery_tag" => Ok(Value::Int(d.delivery_tag.0 as i64)),
                    "redelivered" => Ok(Value::Bool(d.redelivered)),
                    "exchange" => s(&d.exchange),
                    "routing_key" => s(&d.routing_key),
                    "message_count" => Ok(d.message_count.map_or(Value::None, |c| Value::Int(i64::from(c)))),
                    "properties" => Ok(Value::Props(Box::new(d.properties.clone()))),
                    "body" => Ok(Value::Bytes(d.body.clone())),
                    _ => Err(missing()),
                },
                _ => Err(missing()),
            }
        }
        Value::Props(p) => {
            let s = |v: &Option<String>| Ok(v.clone().map_or(Value::None, Value::Str));
            match attr {
                "content_type" => s(&p.content_type),
                "content_encoding" => s(&p.content_encoding),
                "headers" => Ok(if p.headers.is_empty() {
                    Value::None
                } else {
                    from_field_value(&FieldValue::Table(p.headers.clone()))
                }),
                "delivery_mode" => Ok(p.delivery_mode.map_or(Value::None, |m| Value::Int(i64::from(m)))),
                "priority" => Ok(p.priority.map_or(Value::None, |m| Value::Int(i64::from(m)))),
                "correlation_id" => s(&p.correlation_id),
                "reply_to" => s(&p.reply_to),
                "expiration" => s(&p.expiration),
                "message_id" => s(&p.message_id),
                "timestamp" => Ok(p.timestamp.map_or(Value::None, |t| Value::Int(t as i64))),
                "type" => s(&p.kind),
                "user_id" => s(&p.user_id),
                "app_id" => s(&p.app_id),
                _ => Err(missing()),
            }
        }
        _ => Err(missing()),
    }
}

fn from_field_value(v: &FieldValue) -> Value {
    match v {
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::Int(i) => Value::Int(*i),
        FieldValue::Float(x) => Value::Float(*x),
        FieldValue::Str(s) => Value::Str(s.clone()),
        FieldValue::Array(items) => Value::List(items.iter().map(from_field_value).collect()),
        FieldValue::Table(t) => {
            Value::Dict(t.iter().map(|(k, v)| (k.clone(), from_field_value(v))).collect())
        }
        FieldValue::Void => Value::None,
        FieldValue::Typed(TypedValue::Bytes(b)) => Value::Bytes(b.clone()),
        FieldValue::Typed(t) => match t.integer() {
            Some(i) => Value::Int(i),
            None => Value::Field(t.clone()),
        },
    }
}

fn build_properties(args: &Args) -> Result<BasicProperties, ScenarioError> {
    let expiration = args.opt_string("expiration")?;
    Ok(BasicProperties {
        content_type: args.opt_string("content_type")?,
        content_encoding: args.opt_string("content_encoding")?,
        headers: args.table("headers")?,
        delivery_mode: args.int("delivery_mode", 0, 255)?.map(|m| m as u8),
        priority: args.int("priority", 0, 255)?.map(|p| p as u8),
        correlation_id: args.opt_string("correlation_id")?,
        reply_to: args.opt_string("reply_to")?,
        expiration,
        message_id: args.opt_string("message_id")?,
        timestamp: args.int("timestamp", 0, i64::MAX)?.map(|t| t as u64),
        kind: args.opt_string("type")?,
        user_id: args.opt_string("user_id")?,
        app_id: args.opt_string("app_id")?,
    })
}

/// The pika argument that holds a method's short-string field (`queue`, `arguments key`, a property).
fn short_string_argument(field: &str) -> &str {
    match field {
        "queue" | "exchange" | "exchange_type" | "routing_key" | "consumer_tag" | "destination"
        | "source" => field,
        "arguments key" => "arguments",
        _ => "properties",
    }
}

/// Builds the AMQP method a pika call sends, with pika's defaults for absent arguments.
fn build_method(name: &str, a: &Args) -> Result<Method, ScenarioError> {
    Ok(match name {
        "close" => Method::ChannelClose,
        "confirm_delivery" => Method::ConfirmSelect,
        "tx_select" => Method::TxSelect,
        "tx_commit" => Method::TxCommit,
        "tx_rollback" => Method::TxRollback,
        "exchange_declare" => Method::ExchangeDeclare {
            exchange: a.string("exchange", "")?,
            exchange_type: a.string("exchange_type", "direct")?,
            passive: a.boolean("passive", false)?,
            durable: a.boolean("durable", false)?,
            auto_delete: a.boolean("auto_delete", false)?,
            internal: a.boolean("internal", false)?,
            arguments: a.table("arguments")?,
        },
        "exchange_delete" => Method::ExchangeDelete {
            exchange: a.string("exchange", "")?,
            if_unused: a.boolean("if_unused", false)?,
        },
        "exchange_bind" | "exchange_unbind" => {
            let (destination, source) = (a.string("destination", "")?, a.string("source", "")?);
            let (routing_key, arguments) = (a.string("routing_key", "")?, a.table("arguments")?);
            if name == "exchange_bind" {
                Method::ExchangeBind { destination, source, routing_key, arguments }
            } else {
                Method::ExchangeUnbind { destination, source, routing_key, arguments }
            }
        }
        "queue_declare" => Method::QueueDeclare {
            queue: a.string("queue", "")?,
            passive: a.boolean("passive", false)?,
            durable: a.boolean("durable", false)?,
            exclusive: a.boolean("exclusive", false)?,
            auto_delete: a.boolean("auto_delete", false)?,
            arguments: a.table("arguments")?,
        },
        "queue_bind" | "queue_unbind" => {
            let queue = a.string("queue", "")?;
            // pika binds with the queue's name when no routing key is given.
            let routing_key = a.string("routing_key", &queue)?;
            let (exchange, arguments) = (a.string("exchange", "")?, a.table("arguments")?);
            if name == "queue_bind" {
                Method::QueueBind { queue, exchange, routing_key, arguments }
            } else {
                Method::QueueUnbind { queue, exchange, routing_key, arguments }
            }
        }
        "queue_purge" => Method::QueuePurge { queue: a.string("queue", "")? },
        "queue_delete" => Method::QueueDelete {
            queue: a.string("queue", "")?,
            if_unused: a.boolean("if_unused", false)?,
            if_empty: a.boolean("if_empty", false)?,
        },
        "basic_qos" => Method::BasicQos {
            prefetch_size: a.int("prefetch_size", 0, u32::MAX.into())?.unwrap_or(0) as u32,
            prefetch_count: a.int("prefetch_count", 0, 65535)?.unwrap_or(0) as u16,
            global: a.boolean("global_qos", false)?,
        },
        "basic_consume" => Method::BasicConsume {
            queue: a.string("queue", "")?,
            consumer_tag: a.string("consumer_tag", "")?,
            auto_ack: a.boolean("auto_ack", false)?,
            exclusive: a.boolean("exclusive", false)?,
            arguments: a.table("arguments")?,
        },
        "basic_cancel" => Method::BasicCancel { consumer_tag: a.string("consumer_tag", "")? },
        "basic_publish" => {
            let body = match a.get("body") {
                Some((Value::Str(s), _)) => s.clone().into_bytes(),
                Some((Value::Bytes(b), _)) => b.clone(),
                Some((v, pos)) => return Err(wrong_type(*pos, "body", "a string or bytes", v)),
                None if a.is_unknown("body") => Vec::new(),
                None => {
                    let pos = a.values.get("body").map_or(Pos::new(0, 0), |(_, p)| *p);
                    return Err(ScenarioError::new(pos, "'body' must be a string or bytes, found None"));
                }
            };
            let properties = match a.get("properties") {
                None => BasicProperties::default(),
                Some((Value::Props(p), _)) => (**p).clone(),
                Some((v, pos)) => return Err(wrong_type(*pos, "properties", "BasicProperties(…)", v)),
            };
            let (exchange, routing_key) = (a.string("exchange", "")?, a.string("routing_key", "")?);
            let mandatory = a.boolean("mandatory", false)?;
            let immediate = a.boolean("immediate", false)?;
            Method::BasicPublish { exchange, routing_key, mandatory, immediate, properties, body }
        }
        "basic_get" => {
            Method::BasicGet { queue: a.string("queue", "")?, auto_ack: a.boolean("auto_ack", false)? }
        }
        "basic_ack" => {
            Method::BasicAck { delivery_tag: a.tag("delivery_tag")?, multiple: a.boolean("multiple", false)? }
        }
        "basic_nack" => Method::BasicNack {
            delivery_tag: a.tag("delivery_tag")?,
            multiple: a.boolean("multiple", false)?,
            requeue: a.boolean("requeue", true)?,
        },
        "basic_reject" => {
            Method::BasicReject { delivery_tag: a.tag("delivery_tag")?, requeue: a.boolean("requeue", true)? }
        }
        "basic_recover" => Method::BasicRecover { requeue: a.boolean("requeue", false)? },
        other => unreachable!("{other} is in CHANNEL_METHODS but has no builder"),
    })
}
