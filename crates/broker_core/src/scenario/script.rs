//! The script host: runs the Rhai scripts of scripted consumers and producers, sandboxed and deterministic.
//!
//! A scenario's `scripts` are compiled once each ([`ScriptHost::compile`]); the simulation then calls
//! [`ScriptHost::on_message`] for each delivery to a scripted consumer and [`ScriptHost::on_tick`] at each
//! tick of a scripted producer. A call returns a [`ScriptOutcome`] (the decision, the messages to publish,
//! log lines, the processing time); the simulation turns it into AMQP methods. Scripts never touch the
//! broker themselves.
//!
//! The sandbox itself — Rhai's set-up, the limits ([`ScriptLimits`]), located errors ([`ScriptError`]),
//! `random(n)` from a seeded `Prng`, `log`, `now`, `sleep` and the actors' `state` maps — is the kernel's
//! (`sim_kernel::script`), shared with every model; this module adds RabbitMQ's script API (`ack`, `nack`,
//! `reject`, `publish`, `reply`, the `msg` map) and its two entry points. The same seed and inputs give
//! the same outcomes on every platform.
//!
//! The script API is described for users in `docs/scripts.md`.
//!
//! Submodules: `api` (the functions scripts call, and the per-call record they write into), `convert`
//! (messages, field tables and publish options between Rust and Rhai values), `wire` (the text protocol
//! through which a [`ScriptHost`] in another wasm module serves a simulation, see [`ScriptRuntime`]).
//!
//! The simulation reaches its host through the [`ScriptRuntime`] trait, made by the [`ScriptFactory`] its
//! caller passes in `SimOptions` (a value: no global state): the [`ScriptHost`] in this crate by default,
//! or a host elsewhere. The web page uses that to keep Rhai out of its first download: its scripting engine is a
//! second wasm module (the same `ScriptHost`, built from this crate) loaded when a document has scripts.
//! The feature `external-scripts` (set only by the page's trunk build) compiles the built-in fallback out, so
//! Rhai is not linked into that build; the default [`ScriptFactory`] then refuses scripts.

mod api;
mod convert;
#[cfg(test)]
mod tests;
pub mod wire;

use crate::amqp::types::{BasicProperties, FieldTable};
use api::{AmqpCall, CallKind};
use serde::{Deserialize, Serialize};
use sim_kernel::script::rhai::Dynamic;
use sim_kernel::script::{EntryPoint, Sandbox, SandboxSpec};
use std::fmt;

// The sandbox's limits and errors are the kernel's; they keep their paths here.
pub use sim_kernel::script::{ScriptError, ScriptLimits};

/// The function a consumer script defines: `fn on_message(msg) { … }`.
pub const ON_MESSAGE: &str = "on_message";
/// The function a producer script defines: `fn on_tick(seq) { … }` (or `fn on_tick() { … }`).
pub const ON_TICK: &str = "on_tick";

/// RabbitMQ's script API as the kernel's sandbox serves it.
const API: SandboxSpec<AmqpCall> = SandboxSpec {
    register: api::register,
    entry_points: &[
        EntryPoint { function: ON_MESSAGE, arities: &[1], form: "fn on_message(msg)" },
        EntryPoint { function: ON_TICK, arities: &[0, 1], form: "fn on_tick(seq)" },
    ],
    inside: "on_message or on_tick",
    output: "logs and publishes",
};

/// A delivery as a consumer script sees it (the `msg` argument of `on_message`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScriptMessage {
    /// The consumer's own count of messages handed to its script, from 0.
    pub seq: u64,
    /// The body as text (a non-UTF-8 body is the caller's to render, e.g. lossily).
    pub body: String,
    pub routing_key: String,
    pub exchange: String,
    pub redelivered: bool,
    /// The message headers; when empty, `properties.headers` is shown to the script instead.
    pub headers: FieldTable,
    pub properties: BasicProperties,
    pub delivery_tag: u64,
}

/// How a consumer settles the message it was given (at most one per call).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// `basic.ack`.
    Ack,
    /// `basic.nack` (RabbitMQ's extension; `requeue = false` dead-letters the message if the queue has a DLX).
    Nack { requeue: bool },
    /// `basic.reject`.
    Reject { requeue: bool },
    /// The consumer dies holding the message: its channel closes without an ack, so the broker requeues it.
    /// In a producer: the producer's connection drops.
    Crash,
    /// `basic.cancel`: the consumer stops receiving (the message itself stays unacked). In a producer: it
    /// stops producing.
    Cancel,
}

impl fmt::Display for Decision {
    /// The call that made the decision, as a script writes it: `ack()`, `nack(false)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Ack => write!(f, "ack()"),
            Decision::Nack { requeue } => write!(f, "nack({requeue})"),
            Decision::Reject { requeue } => write!(f, "reject({requeue})"),
            Decision::Crash => write!(f, "crash()"),
            Decision::Cancel => write!(f, "cancel()"),
        }
    }
}

/// A `basic.publish` a script asked for (`publish(…)` or `reply(…)`), in call order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScriptPublish {
    pub exchange: String,
    pub routing_key: String,
    pub body: String,
    pub properties: BasicProperties,
}

/// Everything one call produced. Effects are only recorded here; the simulation carries them out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScriptOutcome {
    /// `None` when the script did not settle the message: the consumer's own settings decide.
    pub decision: Option<Decision>,
    pub publishes: Vec<ScriptPublish>,
    /// `log(…)`, `print(…)` and `debug(…)` lines, in call order.
    pub logs: Vec<String>,
    /// The sum of the script's `sleep(ms)` calls; `None` when it never called `sleep`.
    pub processing_millis: Option<u64>,
}

/// Runs scripts for one simulation: the kernel's [`Sandbox`] with RabbitMQ's script API. Holds the
/// compiled scripts, each actor's `state` map and the generator behind `random(n)`; there is no global
/// state, so two hosts never interfere. Cloning gives an independent copy (the app's rewind snapshots).
///
/// * Setup: [`new`](Self::new), [`compile`](Self::compile), [`has_function`](Self::has_function).
/// * Calls: [`on_message`](Self::on_message) (consumers), [`on_tick`](Self::on_tick) (producers).
/// * Inspection: [`state`](Self::state), [`limits`](Self::limits).
#[derive(Clone)]
pub struct ScriptHost {
    sandbox: Sandbox<AmqpCall>,
}

impl fmt::Debug for ScriptHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptHost")
            .field("limits", &self.sandbox.limits())
            .field("scripts", &self.sandbox.script_names().collect::<Vec<_>>())
            .field("actors", &self.sandbox.actors().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What a simulation needs of a script host: compile, look up entry points, call them, and copy itself for
/// the app's rewind snapshots. [`ScriptHost`] is the implementation; [`wire::RemoteHost`] forwards every
/// call, unchanged, to a `ScriptHost` behind a [`wire::Transport`] (another wasm module in the web page).
pub trait ScriptRuntime: fmt::Debug {
    /// See [`ScriptHost::compile`].
    fn compile(&mut self, name: &str, source: &str) -> Result<(), ScriptError>;
    /// See [`ScriptHost::has_function`].
    fn has_function(&self, name: &str, function: &str) -> bool;
    /// See [`ScriptHost::on_message`].
    fn on_message(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        msg: &ScriptMessage,
    ) -> Result<ScriptOutcome, ScriptError>;
    /// See [`ScriptHost::on_tick`].
    fn on_tick(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        seq: u64,
    ) -> Result<ScriptOutcome, ScriptError>;
    /// An independent copy, as [`ScriptHost`]'s `Clone`.
    fn clone_runtime(&self) -> Box<dyn ScriptRuntime>;
}

impl Clone for Box<dyn ScriptRuntime> {
    fn clone(&self) -> Self {
        self.clone_runtime()
    }
}

impl ScriptRuntime for ScriptHost {
    fn compile(&mut self, name: &str, source: &str) -> Result<(), ScriptError> {
        ScriptHost::compile(self, name, source)
    }
    fn has_function(&self, name: &str, function: &str) -> bool {
        ScriptHost::has_function(self, name, function)
    }
    fn on_message(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        msg: &ScriptMessage,
    ) -> Result<ScriptOutcome, ScriptError> {
        ScriptHost::on_message(self, script, actor, now_millis, msg)
    }
    fn on_tick(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        seq: u64,
    ) -> Result<ScriptOutcome, ScriptError> {
        ScriptHost::on_tick(self, script, actor, now_millis, seq)
    }
    fn clone_runtime(&self) -> Box<dyn ScriptRuntime> {
        Box::new(self.clone())
    }
}

/// Makes a script runtime from the limits and the `random(n)` seed (what [`ScriptHost::new`] takes); an
/// `Err` says why none is available (the web page: its scripting module could not be loaded).
pub type RuntimeFactory = fn(ScriptLimits, u64) -> Result<Box<dyn ScriptRuntime>, String>;

/// Which script runtime a simulation builds its host with: a plain value the caller passes
/// ([`SimOptions::scripts`](crate::scenario::sim::SimOptions::scripts)), never state registered
/// somewhere, so two simulations on one thread can use different runtimes.
///
/// [`ScriptFactory::default`] is the built-in [`ScriptHost`]; under the `external-scripts` feature there
/// is none built in, and the default refuses scripts with a clear error. [`ScriptFactory::new`] wraps
/// another factory (the web page's, which serves every call from its separately loaded module).
#[derive(Clone, Copy, Default)]
pub struct ScriptFactory {
    /// `None`: the built-in host (or, under `external-scripts`, none).
    external: Option<RuntimeFactory>,
}

impl ScriptFactory {
    /// Runtimes made by `factory` instead of the built-in host.
    pub fn new(factory: RuntimeFactory) -> Self {
        ScriptFactory { external: Some(factory) }
    }

    /// A runtime with no scripts yet, under `limits`, its `random(n)` seeded with `seed`.
    pub fn runtime(&self, limits: ScriptLimits, seed: u64) -> Result<Box<dyn ScriptRuntime>, String> {
        if let Some(factory) = self.external {
            return factory(limits, seed);
        }
        #[cfg(not(feature = "external-scripts"))]
        return Ok(Box::new(ScriptHost::new(limits, seed)));
        #[cfg(feature = "external-scripts")]
        Err("no scripting engine is available in this build".to_string())
    }

    /// Compiles `source` as a simulation using these runtimes would, for the editor's located errors.
    pub fn check(&self, name: &str, source: &str) -> Result<(), ScriptError> {
        self.runtime(ScriptLimits::default(), 0)
            .map_err(|e| ScriptError::unlocated(name, e))?
            .compile(name, source)
    }
}

/// Two values are equal when they make runtimes the same way (the same function, or both built in).
impl PartialEq for ScriptFactory {
    fn eq(&self, other: &Self) -> bool {
        match (self.external, other.external) {
            (None, None) => true,
            (Some(a), Some(b)) => std::ptr::fn_addr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for ScriptFactory {}

impl fmt::Debug for ScriptFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.external.is_some() {
            "ScriptFactory(external)"
        } else {
            "ScriptFactory(built-in)"
        })
    }
}

impl ScriptHost {
    /// A host with no scripts yet; `seed` seeds the generator behind `random(n)`.
    pub fn new(limits: ScriptLimits, seed: u64) -> Self {
        ScriptHost { sandbox: Sandbox::new(limits, seed, &API) }
    }

    /// The limits in force (zeros raised to one).
    pub fn limits(&self) -> ScriptLimits {
        self.sandbox.limits()
    }

    /// Compiles `source` under `name`, replacing a script of that name. A syntax error names its line and
    /// column; an entry point with the wrong parameters (`fn on_message()`) is refused here too.
    pub fn compile(&mut self, name: &str, source: &str) -> Result<(), ScriptError> {
        self.sandbox.compile(name, source)
    }

    /// Whether script `name` defines `function` (with any number of parameters).
    pub fn has_function(&self, name: &str, function: &str) -> bool {
        self.sandbox.has_function(name, function)
    }

    /// An actor's `state` map as it stands (`None` before the actor's first call), for inspection and tests.
    pub fn state(&self, actor: &str) -> Option<FieldTable> {
        let state = self.sandbox.state(actor)?;
        match convert::dynamic_to_field(&state) {
            Ok(crate::amqp::types::FieldValue::Table(t)) => Some(t),
            _ => None,
        }
    }

    /// Consumer logic: calls the script's `on_message(msg)` for one delivery. `actor` selects the `state`
    /// map, which persists between calls (changes made before an error are kept).
    pub fn on_message(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        msg: &ScriptMessage,
    ) -> Result<ScriptOutcome, ScriptError> {
        if self.sandbox.arities(script, ON_MESSAGE)?.is_empty() {
            return Err(ScriptError::unlocated(script, "the script has no `fn on_message(msg)`"));
        }
        let kind = CallKind::Message {
            reply_to: msg.properties.reply_to.clone(),
            correlation_id: msg.properties.correlation_id.clone(),
        };
        let args = vec![convert::message_map(msg)];
        self.run(script, actor, now_millis, kind, ON_MESSAGE, args)
    }

    /// Producer logic: calls the script's `on_tick(seq)` (or `on_tick()`) at one producer tick; `seq` counts
    /// the producer's ticks from 0.
    pub fn on_tick(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        seq: u64,
    ) -> Result<ScriptOutcome, ScriptError> {
        let args = match self.sandbox.arities(script, ON_TICK)? {
            [] => return Err(ScriptError::unlocated(script, "the script has no `fn on_tick(seq)`")),
            arities if arities.contains(&1) => vec![convert::int(seq)],
            _ => Vec::new(),
        };
        self.run(script, actor, now_millis, CallKind::Tick, ON_TICK, args)
    }

    /// One call through the sandbox, its output as RabbitMQ's outcome.
    fn run(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        kind: CallKind,
        function: &str,
        args: Vec<Dynamic>,
    ) -> Result<ScriptOutcome, ScriptError> {
        let call = AmqpCall { kind, ..AmqpCall::default() };
        let output = self.sandbox.call(script, actor, now_millis, function, args, call)?;
        Ok(ScriptOutcome {
            decision: output.model.decision,
            publishes: output.model.publishes,
            logs: output.logs,
            processing_millis: output.processing_millis,
        })
    }
}
