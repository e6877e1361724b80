//! The text protocol between a simulation and a [`ScriptHost`] that lives elsewhere (the web page's
//! scripting module, a second wasm instance): one JSON request per [`ScriptRuntime`] call, one JSON reply.
//!
//! Both sides are this file, so they cannot drift apart within a build; [`PROTOCOL`] guards against a
//! scripting module left over from another build. The encoding is exact, so a remote host computes exactly
//! what a local one would (the determinism rule): strings and integers are carried as they are, and float
//! header values as their IEEE bit patterns (JSON's decimal floats are not guaranteed to round-trip, and NaN
//! has no JSON form).
//!
//! * The caller's side: [`RemoteHost`] implements [`ScriptRuntime`] over a [`Transport`].
//! * The host's side: [`new_host`] and [`serve`].
//! * One value of the scenario format for the page's forms ([`serve_field_value`], read back with
//!   [`field_value_answer`]): the format's reader (lexer, parser and interpreter) lives in the scripting
//!   module too, so the page's first download does not carry it.

use super::{
    Decision, ScriptError, ScriptHost, ScriptLimits, ScriptMessage, ScriptOutcome, ScriptPublish,
    ScriptRuntime,
};
use crate::amqp::types::{BasicProperties, FieldTable, FieldValue, TypedValue};
use crate::scenario::{Pos, ScenarioError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The protocol's version; a scripting module answering another one is refused.
pub const PROTOCOL: u32 = 2;

/// A field value, with floats as bit patterns.
#[derive(Serialize, Deserialize)]
enum Value {
    B(bool),
    I(i64),
    F(u64),
    S(String),
    A(Vec<Value>),
    T(BTreeMap<String, Value>),
    V,
    /// A 32-bit float's bit pattern.
    F32(u32),
    /// Any other typed value (no floats inside).
    X(TypedValue),
}

fn to_wire(v: &FieldValue) -> Value {
    match v {
        FieldValue::Bool(b) => Value::B(*b),
        FieldValue::Int(i) => Value::I(*i),
        FieldValue::Float(x) => Value::F(x.to_bits()),
        FieldValue::Str(s) => Value::S(s.clone()),
        FieldValue::Array(items) => Value::A(items.iter().map(to_wire).collect()),
        FieldValue::Table(t) => Value::T(table_to_wire(t)),
        FieldValue::Void => Value::V,
        FieldValue::Typed(TypedValue::Float32(x)) => Value::F32(x.to_bits()),
        FieldValue::Typed(t) => Value::X(t.clone()),
    }
}

fn from_wire(v: Value) -> FieldValue {
    match v {
        Value::B(b) => FieldValue::Bool(b),
        Value::I(i) => FieldValue::Int(i),
        Value::F(bits) => FieldValue::Float(f64::from_bits(bits)),
        Value::S(s) => FieldValue::Str(s),
        Value::A(items) => FieldValue::Array(items.into_iter().map(from_wire).collect()),
        Value::T(t) => FieldValue::Table(table_from_wire(t)),
        Value::V => FieldValue::Void,
        Value::F32(bits) => FieldValue::Typed(TypedValue::Float32(f32::from_bits(bits))),
        Value::X(t) => FieldValue::Typed(t),
    }
}

fn table_to_wire(t: &FieldTable) -> BTreeMap<String, Value> {
    // Inserted one by one: `collect` into a map compiles a sort per element type (crate::order).
    let mut table = BTreeMap::new();
    table.extend(t.iter().map(|(k, v)| (k.clone(), to_wire(v))));
    table
}

fn table_from_wire(t: BTreeMap<String, Value>) -> FieldTable {
    let mut table = FieldTable::new(); // not `collect`: see table_to_wire
    table.extend(t.into_iter().map(|(k, v)| (k, from_wire(v))));
    table
}

/// Properties with their headers carried apart (the rest of [`BasicProperties`] has no float).
#[derive(Serialize, Deserialize)]
struct Properties {
    rest: BasicProperties,
    headers: BTreeMap<String, Value>,
}

fn properties_to_wire(p: &BasicProperties) -> Properties {
    let mut rest = p.clone();
    let headers = table_to_wire(&std::mem::take(&mut rest.headers));
    Properties { rest, headers }
}

fn properties_from_wire(p: Properties) -> BasicProperties {
    let mut props = p.rest;
    props.headers = table_from_wire(p.headers);
    props
}

#[derive(Serialize, Deserialize)]
struct Message {
    seq: u64,
    body: String,
    routing_key: String,
    exchange: String,
    redelivered: bool,
    headers: BTreeMap<String, Value>,
    properties: Properties,
    delivery_tag: u64,
}

#[derive(Serialize, Deserialize)]
struct Publish {
    exchange: String,
    routing_key: String,
    body: String,
    properties: Properties,
}

#[derive(Serialize, Deserialize)]
struct Outcome {
    decision: Option<Decision>,
    publishes: Vec<Publish>,
    logs: Vec<String>,
    processing_millis: Option<u64>,
}

#[derive(Serialize, Deserialize)]
enum Request {
    Compile { name: String, source: String },
    HasFunction { name: String, function: String },
    OnMessage { script: String, actor: String, now_millis: u64, msg: Box<Message> },
    OnTick { script: String, actor: String, now_millis: u64, seq: u64 },
}

#[derive(Serialize, Deserialize)]
enum Reply {
    Compiled(Result<(), ScriptError>),
    HasFunction(bool),
    Outcome(Result<Outcome, ScriptError>),
    /// The request could not be read (another protocol).
    Malformed(String),
}

fn outcome_to_wire(o: ScriptOutcome) -> Outcome {
    Outcome {
        decision: o.decision,
        publishes: o
            .publishes
            .into_iter()
            .map(|p| Publish {
                properties: properties_to_wire(&p.properties),
                exchange: p.exchange,
                routing_key: p.routing_key,
                body: p.body,
            })
            .collect(),
        logs: o.logs,
        processing_millis: o.processing_millis,
    }
}

fn outcome_from_wire(o: Outcome) -> ScriptOutcome {
    ScriptOutcome {
        decision: o.decision,
        publishes: o
            .publishes
            .into_iter()
            .map(|p| ScriptPublish {
                exchange: p.exchange,
                routing_key: p.routing_key,
                body: p.body,
                properties: properties_from_wire(p.properties),
            })
            .collect(),
        logs: o.logs,
        processing_millis: o.processing_millis,
    }
}

#[derive(Serialize, Deserialize)]
struct Config {
    protocol: u32,
    limits: ScriptLimits,
    seed: u64,
}

/// The text [`new_host`] takes: the limits and the seed a [`ScriptHost::new`] call would get.
pub fn host_config(limits: ScriptLimits, seed: u64) -> String {
    serde_json::to_string(&Config { protocol: PROTOCOL, limits, seed }).expect("plain data serialises")
}

/// The host's side: a [`ScriptHost`] made from a [`host_config`] text.
pub fn new_host(config: &str) -> Result<ScriptHost, String> {
    let config: Config = serde_json::from_str(config).map_err(|e| format!("script host config: {e}"))?;
    if config.protocol != PROTOCOL {
        return Err(format!("scripting module speaks protocol {PROTOCOL}, the page {}", config.protocol));
    }
    Ok(ScriptHost::new(config.limits, config.seed))
}

/// The host's side: answers one request of a [`RemoteHost`].
pub fn serve(host: &mut ScriptHost, request: &str) -> String {
    let reply = match serde_json::from_str::<Request>(request) {
        Err(e) => Reply::Malformed(e.to_string()),
        Ok(Request::Compile { name, source }) => Reply::Compiled(host.compile(&name, &source)),
        Ok(Request::HasFunction { name, function }) => {
            Reply::HasFunction(host.has_function(&name, &function))
        }
        Ok(Request::OnMessage { script, actor, now_millis, msg }) => {
            let msg = ScriptMessage {
                seq: msg.seq,
                body: msg.body,
                routing_key: msg.routing_key,
                exchange: msg.exchange,
                redelivered: msg.redelivered,
                headers: table_from_wire(msg.headers),
                properties: properties_from_wire(msg.properties),
                delivery_tag: msg.delivery_tag,
            };
            Reply::Outcome(host.on_message(&script, &actor, now_millis, &msg).map(outcome_to_wire))
        }
        Ok(Request::OnTick { script, actor, now_millis, seq }) => {
            Reply::Outcome(host.on_tick(&script, &actor, now_millis, seq).map(outcome_to_wire))
        }
    };
    serde_json::to_string(&reply).expect("plain data serialises")
}

/// What [`serve_field_value`] answers: the value, or the reader's located error.
#[derive(Serialize, Deserialize)]
enum FieldAnswer {
    Value(Value),
    Error { line: u32, col: u32, message: String },
}

/// The host's side of a form's value: [`crate::scenario::parse_field_value`] of `text`, as wire text.
pub fn serve_field_value(text: &str) -> String {
    let answer = match crate::scenario::parse_field_value(text) {
        Ok(value) => FieldAnswer::Value(to_wire(&value)),
        Err(e) => FieldAnswer::Error { line: e.pos.line, col: e.pos.col, message: e.message },
    };
    serde_json::to_string(&answer).expect("plain data serialises")
}

/// The caller's side: the value (or the located error) a [`serve_field_value`] answer carries, exactly as
/// the reader gave it. An answer that cannot be read is an error at line 1, column 1.
pub fn field_value_answer(answer: &str) -> Result<FieldValue, ScenarioError> {
    match serde_json::from_str::<FieldAnswer>(answer) {
        Ok(FieldAnswer::Value(value)) => Ok(from_wire(value)),
        Ok(FieldAnswer::Error { line, col, message }) => {
            Err(ScenarioError::new(Pos::new(line, col), message))
        }
        Err(e) => Err(ScenarioError::new(
            Pos::new(1, 1),
            format!("the scripting module's answer is unreadable: {e}"),
        )),
    }
}

/// How a [`RemoteHost`] reaches its host: one host per transport.
pub trait Transport: fmt::Debug {
    /// Sends one request to this transport's host and returns the reply.
    fn call(&self, request: &str) -> String;
    /// A transport to a new host that is an independent copy of this one's (as [`ScriptHost`]'s `Clone`).
    fn duplicate(&self) -> Box<dyn Transport>;
}

/// A [`ScriptRuntime`] whose [`ScriptHost`] is behind a [`Transport`].
#[derive(Debug)]
pub struct RemoteHost {
    transport: Box<dyn Transport>,
}

impl RemoteHost {
    pub fn new(transport: Box<dyn Transport>) -> Self {
        RemoteHost { transport }
    }

    fn ask(&self, request: &Request) -> Result<Reply, String> {
        let text = serde_json::to_string(request).expect("plain data serialises");
        let reply = self.transport.call(&text);
        match serde_json::from_str::<Reply>(&reply) {
            Ok(Reply::Malformed(e)) => Err(format!("the scripting module refused the request: {e}")),
            Ok(reply) => Ok(reply),
            Err(e) => Err(format!("the scripting module's reply is unreadable: {e}")),
        }
    }

    /// Asks for what script `name` needs and takes the reply `pick` accepts; another kind of reply, or
    /// none, is an error of that script.
    fn ask_for<T>(
        &self,
        name: &str,
        request: &Request,
        pick: impl FnOnce(Reply) -> Option<Result<T, ScriptError>>,
    ) -> Result<T, ScriptError> {
        match self.ask(request) {
            Ok(reply) => pick(reply).unwrap_or_else(|| {
                Err(ScriptError::unlocated(name, "the scripting module gave another kind of reply"))
            }),
            Err(e) => Err(ScriptError::unlocated(name, e)),
        }
    }

    fn outcome(&self, script: &str, request: &Request) -> Result<ScriptOutcome, ScriptError> {
        self.ask_for(script, request, |reply| match reply {
            Reply::Outcome(result) => Some(result.map(outcome_from_wire)),
            _ => None,
        })
    }
}

impl ScriptRuntime for RemoteHost {
    fn compile(&mut self, name: &str, source: &str) -> Result<(), ScriptError> {
        let request = Request::Compile { name: name.to_string(), source: source.to_string() };
        self.ask_for(name, &request, |reply| match reply {
            Reply::Compiled(result) => Some(result),
            _ => None,
        })
    }

    fn has_function(&self, name: &str, function: &str) -> bool {
        let request = Request::HasFunction { name: name.to_string(), function: function.to_string() };
        matches!(self.ask(&request), Ok(Reply::HasFunction(true)))
    }

    fn on_message(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        msg: &ScriptMessage,
    ) -> Result<ScriptOutcome, ScriptError> {
        let msg = Message {
            seq: msg.seq,
            body: msg.body.clone(),
            routing_key: msg.routing_key.clone(),
            exchange: msg.exchange.clone(),
            redelivered: msg.redelivered,
            headers: table_to_wire(&msg.headers),
            properties: properties_to_wire(&msg.properties),
            delivery_tag: msg.delivery_tag,
        };
        let request = Request::OnMessage {
            script: script.to_string(),
            actor: actor.to_string(),
            now_millis,
            msg: Box::new(msg),
        };
        self.outcome(script, &request)
    }

    fn on_tick(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        seq: u64,
    ) -> Result<ScriptOutcome, ScriptError> {
        let request =
            Request::OnTick { script: script.to_string(), actor: actor.to_string(), now_millis, seq };
        self.outcome(script, &request)
    }

    fn clone_runtime(&self) -> Box<dyn ScriptRuntime> {
        Box::new(RemoteHost { transport: self.transport.duplicate() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::script::ScriptFactory;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A transport to a host in the same process, through the same text as across wasm modules.
    #[derive(Debug)]
    struct Loopback(Rc<RefCell<ScriptHost>>);

    impl Transport for Loopback {
        fn call(&self, request: &str) -> String {
            serve(&mut self.0.borrow_mut(), request)
        }
        fn duplicate(&self) -> Box<dyn Transport> {
            Box::new(Loopback(Rc::new(RefCell::new(self.0.borrow().clone()))))
        }
    }

    fn remote(limits: ScriptLimits, seed: u64) -> Result<Box<dyn ScriptRuntime>, String> {
        let host = new_host(&host_config(limits, seed))?;
        Ok(Box::new(RemoteHost::new(Box::new(Loopback(Rc::new(RefCell::new(host)))))))
    }

    #[test]
    fn field_values_cross_exactly() {
        let mut t = FieldTable::new();
        t.insert("f".into(), FieldValue::Float(0.1 + 0.2));
        t.insert("nan".into(), FieldValue::Float(f64::NAN));
        t.insert("n".into(), FieldValue::Array(vec![FieldValue::Int(i64::MIN), FieldValue::Void]));
        t.insert(
            "t".into(),
            FieldValue::Table(FieldTable::from([("s".into(), FieldValue::Str("é\"".into()))])),
        );
        let back = table_from_wire(
            serde_json::from_str(&serde_json::to_string(&table_to_wire(&t)).unwrap()).unwrap(),
        );
        assert_eq!(format!("{back:?}"), format!("{t:?}"));
        match (&back["f"], &back["nan"]) {
            (FieldValue::Float(f), FieldValue::Float(n)) => {
                assert_eq!(f.to_bits(), (0.1_f64 + 0.2).to_bits());
                assert_eq!(n.to_bits(), f64::NAN.to_bits());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_form_s_value_crosses_as_the_reader_gives_it() {
        use crate::scenario::parse_field_value;
        for text in [
            "int8(5)",
            "float32(0.1)",
            "[uint16(1), b\"z\", 0.30000000000000004]",
            "{\"k\": Decimal(\"1.25\"), \"t\": timestamp(7)}",
            "int8(300)",
            "[1, ",
            "nope(1)",
        ] {
            let direct = parse_field_value(text);
            let crossed = field_value_answer(&serve_field_value(text));
            assert_eq!(format!("{crossed:?}"), format!("{direct:?}"), "{text}");
        }
        let e = field_value_answer("not json").unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (1, 1));
        assert!(e.message.starts_with("the scripting module's answer is unreadable"), "{e:?}");
    }

    #[test]
    fn a_protocol_mismatch_is_refused() {
        let ours = format!("\"protocol\":{PROTOCOL}");
        let config = host_config(ScriptLimits::default(), 1).replace(&ours, "\"protocol\":99");
        assert!(new_host(&config).unwrap_err().contains("protocol"));
    }

    /// Every bundled document and scripted test document gives the same transcript through the wire as
    /// with the built-in host (the scripts' outcomes, their errors and their clones all cross it).
    #[test]
    fn documents_run_identically_through_the_wire() {
        use crate::scenario::sim::{run_document_transcript, SimOptions, Simulation};
        let through_wire = |text: &str| -> Result<String, String> {
            let options = SimOptions { scripts: ScriptFactory::new(remote), ..SimOptions::default() };
            let mut sim = Simulation::from_json(text, options).map_err(|e| e.to_string())?;
            sim.run();
            Ok(sim.transcript())
        };
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/scenarios");
        let mut scripted = 0;
        let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
        names.sort();
        for path in names.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
            let text = std::fs::read_to_string(&path).unwrap();
            scripted += usize::from(text.contains("\"scripts\""));
            let local = run_document_transcript(&text);
            assert_eq!(local, through_wire(&text), "{}", path.display());
        }
        assert!(scripted >= 2, "the bundled library has scripted documents");
    }

    /// A rewind snapshot through the wire: a simulation cloned mid-run (its remote host duplicated, `state`
    /// maps and `random(n)` included) plays on exactly as the built-in host's run does, and so does the
    /// original after it.
    #[test]
    fn a_clone_through_the_wire_plays_on_identically() {
        use crate::clock::VirtualTime;
        use crate::scenario::sim::{SimOptions, Simulation};
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../www/scenarios/09-poison-message.json");
        let text = std::fs::read_to_string(path).unwrap();
        let mut reference = Simulation::from_json(&text, SimOptions::default()).unwrap();
        reference.run();
        let reference = reference.transcript();
        let options = SimOptions { scripts: ScriptFactory::new(remote), ..SimOptions::default() };
        let mut sim = Simulation::from_json(&text, options).unwrap();
        sim.run_until(VirtualTime::from_millis(1_500));
        let mut copy = sim.clone();
        sim.run();
        copy.run();
        assert_eq!(sim.transcript(), reference, "the original");
        assert_eq!(copy.transcript(), reference, "the clone");
    }
}
