//! The script host: runs the Rhai scripts of scripted consumers and producers, sandboxed and deterministic.
//!
//! A scenario's `scripts` are compiled once each ([`ScriptHost::compile`]); the simulation then calls
//! [`ScriptHost::on_message`] for each delivery to a scripted consumer and [`ScriptHost::on_tick`] at each
//! tick of a scripted producer. A call returns a [`ScriptOutcome`] (the decision, the messages to publish,
//! log lines, the processing time); the simulation turns it into AMQP methods. Scripts never touch the
//! broker themselves.
//!
//! The sandbox: no `import` or module loading (the `no_module` feature), no `eval` (the symbol is disabled),
//! no wall clock (`no_time`; `now()` is the virtual time the caller passes), no threads, no I/O (`print`
//! and `debug` become log lines). Every call runs under [`ScriptLimits`]; a loop that never ends, a string
//! that doubles forever or recursion without a base case stops with a [`ScriptError`] that names the script,
//! the line and the column. Determinism: `random(n)` draws from the host's own [`Prng`], seeded in
//! [`ScriptHost::new`]; Rhai's object maps are BTreeMaps, so iterating a map follows key order; floats are
//! compiled out (`no_float`) because their formatting and libm functions could differ between native code
//! and wasm. The same seed and inputs therefore give the same outcomes on every platform.
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
use crate::prng::Prng;
use api::{Call, CallKind};
use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, Position, Scope, AST};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// The function a consumer script defines: `fn on_message(msg) { … }`.
pub const ON_MESSAGE: &str = "on_message";
/// The function a producer script defines: `fn on_tick(seq) { … }` (or `fn on_tick() { … }`).
pub const ON_TICK: &str = "on_tick";

/// How often (in evaluation steps) the live variables are measured against the size limits. Between two
/// checks a script can grow its data by at most this many steps' worth.
const DATA_CHECK_EVERY_STEPS: u32 = 16;

/// How deeply arrays and maps may nest. Measuring, cloning and dropping values recurse per level, so an
/// unbounded `loop { m = #{inner: m} }` would otherwise end in a native stack overflow.
const MAX_DATA_DEPTH: usize = 64;

/// Rhai's parser limits on expression nesting (top level, inside functions). The parser recurses per
/// level, so these keep a hostile `((((…))))` from exhausting the native stack, in wasm too.
const MAX_EXPR_DEPTH: usize = 64;
const MAX_FUNCTION_EXPR_DEPTH: usize = 32;

/// What one script call may consume. Every limit is enforced; a zero is raised to one, because Rhai reads
/// zero as "unlimited" and a scenario must not be able to switch the sandbox off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScriptLimits {
    /// Rhai operations per call (each expression evaluated, each loop iteration, each function call).
    pub max_operations: u64,
    /// Bytes in any one string.
    pub max_string_size: usize,
    /// Items in any one array.
    pub max_array_size: usize,
    /// Entries in any one object map (the `state` map included).
    pub max_map_size: usize,
    /// Nested script function calls (recursion depth).
    pub max_call_levels: usize,
    /// Bytes one call may emit in total: log lines plus published bodies, exchanges and routing keys.
    pub max_output_bytes: usize,
}

impl Default for ScriptLimits {
    /// Generous for per-message logic, and small enough that a runaway script stops within milliseconds
    /// natively and does not freeze a browser tab.
    fn default() -> Self {
        ScriptLimits {
            max_operations: 100_000,
            max_string_size: 1 << 20,
            max_array_size: 100_000,
            max_map_size: 100_000,
            max_call_levels: 32,
            max_output_bytes: 16 << 20,
        }
    }
}

/// A script that does not compile or a call that failed, located in the script's source.
///
/// `line` and `col` are 1-based (columns count characters); both are 0 when the failure has no place in
/// the source (an unknown script, a missing `on_message`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptError {
    pub script: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl ScriptError {
    fn unlocated(script: &str, message: impl Into<String>) -> Self {
        ScriptError { script: script.to_string(), line: 0, col: 0, message: message.into() }
    }

    fn at(script: &str, pos: Position, message: impl Into<String>) -> Self {
        let line = pos.line().and_then(|l| u32::try_from(l).ok()).unwrap_or(0);
        let col = pos.position().and_then(|c| u32::try_from(c).ok()).unwrap_or(0);
        ScriptError { script: script.to_string(), line, col, message: message.into() }
    }
}

impl fmt::Display for ScriptError {
    /// `script 'flaky' line 3, col 7: message` (or `script 'flaky': message` without a location).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "script '{}': {}", self.script, self.message)
        } else {
            write!(f, "script '{}' line {}, col {}: {}", self.script, self.line, self.col, self.message)
        }
    }
}

impl std::error::Error for ScriptError {}

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

/// One compiled script and the shape of its entry points, found once at compile time.
#[derive(Clone)]
struct Compiled {
    ast: AST,
    /// Parameter counts of the script's functions, by name (Rhai allows overloads by arity).
    functions: BTreeMap<String, Vec<usize>>,
}

impl Compiled {
    fn arities(&self, function: &str) -> &[usize] {
        self.functions.get(function).map_or(&[], Vec::as_slice)
    }
}

/// Runs scripts for one simulation. Holds the compiled scripts, each actor's `state` map and the
/// [`Prng`] that `random(n)` draws from; there is no global state, so two hosts never interfere.
///
/// * Setup: [`new`](Self::new), [`compile`](Self::compile), [`has_function`](Self::has_function).
/// * Calls: [`on_message`](Self::on_message) (consumers), [`on_tick`](Self::on_tick) (producers).
/// * Inspection: [`state`](Self::state), [`limits`](Self::limits).
///
/// # Invariants
/// * Between calls the shared per-call record is idle: no actor's state is lent out and no outcome is
///   half-written (every call path resets it, on success and on error).
/// * Each actor's `state` is a shared Rhai object map, created empty on the actor's first call.
/// * The engine's limits are the ones in `limits`, each at least 1.
pub struct ScriptHost {
    engine: Engine,
    limits: ScriptLimits,
    scripts: BTreeMap<String, Compiled>,
    /// Per actor: a shared (`Rc<RefCell>`) map, lent to the script as `state` during that actor's calls.
    states: BTreeMap<String, Dynamic>,
    call: Rc<RefCell<Call>>,
    /// The last source position the evaluator stepped on in the current call (see [`Self::error`]).
    last_pos: Rc<Cell<Position>>,
    /// Reused by every call; script functions cannot see it, it only has to exist for Rhai.
    scope: Scope<'static>,
}

/// An independent copy (for the app's rewind snapshots): a new Rhai engine wired to fresh shared cells,
/// the compiled scripts reused (an `AST` is immutable), each actor's `state` map copied deeply so the two
/// hosts never see each other's writes, and the `random(n)` generator continuing from the same point.
impl Clone for ScriptHost {
    fn clone(&self) -> Self {
        // The seed is irrelevant: the whole per-call record, generator included, is copied over it.
        let mut copy = ScriptHost::new(self.limits, 0);
        *copy.call.borrow_mut() = self.call.borrow().clone();
        copy.scripts = self.scripts.clone();
        copy.states = self
            .states
            .iter()
            .map(|(actor, state)| (actor.clone(), state.flatten_clone().into_shared()))
            .collect();
        copy
    }
}

impl fmt::Debug for ScriptHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptHost")
            .field("limits", &self.limits)
            .field("scripts", &self.scripts.keys().collect::<Vec<_>>())
            .field("actors", &self.states.keys().collect::<Vec<_>>())
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
        let limits = ScriptLimits {
            max_operations: limits.max_operations.max(1),
            max_string_size: limits.max_string_size.max(1),
            max_array_size: limits.max_array_size.max(1),
            max_map_size: limits.max_map_size.max(1),
            max_call_levels: limits.max_call_levels.max(1),
            max_output_bytes: limits.max_output_bytes.max(1),
        };
        let call = Rc::new(RefCell::new(Call::new(Prng::new(seed), limits.max_output_bytes)));
        let last_pos = Rc::new(Cell::new(Position::NONE));

        let mut engine = Engine::new();
        engine.set_max_operations(limits.max_operations);
        engine.set_max_string_size(limits.max_string_size);
        engine.set_max_array_size(limits.max_array_size);
        engine.set_max_map_size(limits.max_map_size);
        engine.set_max_call_levels(limits.max_call_levels);
        engine.set_max_expr_depths(MAX_EXPR_DEPTH, MAX_FUNCTION_EXPR_DEPTH);
        // `eval` would compile and run a string built at run time; scripts are whole at compile time.
        engine.disable_symbol("eval");
        api::register(&mut engine, &call);

        // Rhai passes a limit error raised inside a function up with the position of the outermost call
        // site, which for `call_fn` is none at all. The step hook remembers the last position evaluated,
        // so the error can name the line where the script actually was.
        // The same hook closes a gap in Rhai's size checks: `m[key] = value` checks the value but not the
        // map it grows, so every few steps the live variables (and `state`) are measured as Rhai would.
        let last = Rc::clone(&last_pos);
        let steps = Cell::new(0_u32);
        let shared = Rc::clone(&call);
        #[allow(deprecated)] // Rhai marks its debugger API "volatile", not deprecated.
        engine.register_debugger(
            |_, debugger| debugger,
            move |context, event, _, _, pos| {
                use rhai::debugger::{DebuggerCommand, DebuggerEvent};
                if matches!(event, DebuggerEvent::Start | DebuggerEvent::Step) && !pos.is_none() {
                    last.set(pos);
                }
                let n = steps.get().wrapping_add(1);
                steps.set(n);
                if n % DATA_CHECK_EVERY_STEPS == 0 {
                    let state = shared.borrow().state();
                    let values = context.scope().iter_raw().map(|(_, _, v)| v).chain(std::iter::once(&state));
                    if let Err(what) = measure_live_data(values, &limits) {
                        return Err(EvalAltResult::ErrorDataTooLarge(what.to_string(), pos).into());
                    }
                }
                Ok(DebuggerCommand::StepInto)
            },
        );

        ScriptHost {
            engine,
            limits,
            scripts: BTreeMap::new(),
            states: BTreeMap::new(),
            call,
            last_pos,
            scope: Scope::new(),
        }
    }

    /// The limits in force (zeros raised to one).
    pub fn limits(&self) -> ScriptLimits {
        self.limits
    }

    /// Compiles `source` under `name`, replacing a script of that name. A syntax error names its line and
    /// column; an entry point with the wrong parameters (`fn on_message()`) is refused here too.
    pub fn compile(&mut self, name: &str, source: &str) -> Result<(), ScriptError> {
        let ast = self.engine.compile(source).map_err(|e| ScriptError::at(name, e.1, e.0.to_string()))?;
        let mut functions: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for f in ast.iter_functions() {
            functions.entry(f.name.to_string()).or_default().push(f.params.len());
        }
        let compiled = Compiled { ast, functions };
        for (function, allowed, form) in
            [(ON_MESSAGE, &[1][..], "fn on_message(msg)"), (ON_TICK, &[0, 1][..], "fn on_tick(seq)")]
        {
            if let Some(bad) = compiled.arities(function).iter().find(|n| !allowed.contains(n)) {
                let (line, col) = find_fn(source, function);
                return Err(ScriptError {
                    script: name.to_string(),
                    line,
                    col,
                    message: format!("{function} takes {bad} parameter(s); write it as {form}"),
                });
            }
        }
        self.scripts.insert(name.to_string(), compiled);
        Ok(())
    }

    /// Whether script `name` defines `function` (with any number of parameters).
    pub fn has_function(&self, name: &str, function: &str) -> bool {
        self.scripts.get(name).is_some_and(|c| !c.arities(function).is_empty())
    }

    /// An actor's `state` map as it stands (`None` before the actor's first call), for inspection and tests.
    pub fn state(&self, actor: &str) -> Option<FieldTable> {
        let state = self.states.get(actor)?.flatten_clone();
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
        let compiled = self.scripts.get(script).ok_or_else(|| unknown_script(script))?;
        if compiled.arities(ON_MESSAGE).is_empty() {
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
        let compiled = self.scripts.get(script).ok_or_else(|| unknown_script(script))?;
        let args = match compiled.arities(ON_TICK) {
            [] => return Err(ScriptError::unlocated(script, "the script has no `fn on_tick(seq)`")),
            arities if arities.contains(&1) => vec![convert::int(seq)],
            _ => Vec::new(),
        };
        self.run(script, actor, now_millis, CallKind::Tick, ON_TICK, args)
    }

    /// One call: lend the actor's state, run the function, collect the outcome, put everything back.
    fn run(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        kind: CallKind,
        function: &str,
        args: Vec<Dynamic>,
    ) -> Result<ScriptOutcome, ScriptError> {
        let state = self
            .states
            .entry(actor.to_string())
            .or_insert_with(|| Dynamic::from_map(rhai::Map::new()).into_shared())
            .clone();
        let ast = match self.scripts.get(script) {
            Some(compiled) => &compiled.ast,
            None => return Err(unknown_script(script)), // checked by the callers; kept total anyway
        };
        self.call.borrow_mut().begin(now_millis, kind, state);
        self.last_pos.set(Position::NONE);
        // The AST's top-level statements are not re-run per call: only the entry function is.
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let result =
            self.engine.call_fn_with_options::<Dynamic>(options, &mut self.scope, ast, function, args);
        let (outcome, overflowed) = self.call.borrow_mut().finish();
        // A failed call may leave its variables behind; the next call must start from nothing.
        self.scope.clear();

        match result {
            Ok(_) => {}
            // `exit()` ends the call early, like `return` from the entry function.
            Err(e) if matches!(*e, EvalAltResult::Exit(..)) => {}
            Err(e) => return Err(self.error(script, *e)),
        }
        if overflowed {
            return Err(ScriptError::at(script, self.last_pos.get(), self.output_overflow_message()));
        }
        if let Some(state) = self.states.get(actor) {
            if !state.is_map() {
                let type_name = state.flatten_clone().type_name();
                return Err(ScriptError::unlocated(
                    script,
                    format!("`state` must stay an object map, but the script set it to a {type_name}"),
                ));
            }
            // The state outlives the call: measure it whole, whatever the step hook last saw.
            if let Err(what) = measure_live_data(std::iter::once(state), &self.limits) {
                let error = EvalAltResult::ErrorDataTooLarge(what.to_string(), Position::NONE);
                let mut error = self.error(script, error);
                error.message = format!("state: {}", error.message);
                return Err(error);
            }
        }
        Ok(outcome)
    }

    fn output_overflow_message(&self) -> String {
        format!(
            "too much output in one call (limit {} bytes of logs and publishes)",
            self.limits.max_output_bytes
        )
    }

    /// Turns Rhai's error into a located [`ScriptError`] with a message in the host's words for limits.
    fn error(&self, script: &str, mut err: EvalAltResult) -> ScriptError {
        // Errors inside nested script functions arrive wrapped, the innermost carrying the real position.
        while let EvalAltResult::ErrorInFunctionCall(_, _, inner, _) = err {
            err = *inner;
        }
        let stepped = self.last_pos.get();
        // A system error's position is the outermost call site (none, under `call_fn`): use the step hook's.
        let pos =
            if err.is_system_exception() || err.position().is_none() { stepped } else { err.position() };
        let limits = &self.limits;
        let message = match &err {
            EvalAltResult::ErrorTooManyOperations(_) => {
                format!("too many operations (limit {})", limits.max_operations)
            }
            EvalAltResult::ErrorStackOverflow(_) => {
                format!("too many nested function calls (limit {})", limits.max_call_levels)
            }
            EvalAltResult::ErrorDataTooLarge(what, _) => {
                let what = what.to_ascii_lowercase();
                if what.starts_with("depth") {
                    format!("arrays and maps nested too deeply (limit {MAX_DATA_DEPTH} levels)")
                } else if what.contains("string") {
                    format!("string too large (limit {} bytes)", limits.max_string_size)
                } else if what.contains("array") {
                    format!("array too large (limit {} items)", limits.max_array_size)
                } else if what.contains("map") {
                    format!("object map too large (limit {} entries)", limits.max_map_size)
                } else {
                    format!("{what} too large")
                }
            }
            EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
            _ => {
                err.clear_position();
                err.to_string()
            }
        };
        ScriptError::at(script, pos, message)
    }
}

/// Measures values the way Rhai's own size check does (array items, map entries and string bytes, each
/// summed over everything a value contains) and names the first limit passed, in Rhai's words. Values
/// borrowed for writing at this instant are skipped; the next check sees them.
fn measure_live_data<'a>(
    values: impl Iterator<Item = &'a Dynamic>,
    limits: &ScriptLimits,
) -> Result<(), &'static str> {
    #[derive(Default)]
    struct Totals {
        array_items: usize,
        map_entries: usize,
        string_bytes: usize,
    }
    fn walk(
        value: &Dynamic,
        depth: usize,
        totals: &mut Totals,
        limits: &ScriptLimits,
    ) -> Result<(), &'static str> {
        if depth > MAX_DATA_DEPTH {
            return Err("Depth of nested arrays and maps");
        }
        if let Some(map) = value.read_lock::<rhai::Map>() {
            totals.map_entries += map.len();
            if totals.map_entries > limits.max_map_size {
                return Err("Size of object map");
            }
            map.values().try_for_each(|v| walk(v, depth + 1, totals, limits))
        } else if let Some(array) = value.read_lock::<rhai::Array>() {
            totals.array_items += array.len();
            if totals.array_items > limits.max_array_size {
                return Err("Size of array");
            }
            array.iter().try_for_each(|v| walk(v, depth + 1, totals, limits))
        } else if let Some(text) = value.read_lock::<rhai::ImmutableString>() {
            totals.string_bytes += text.len();
            if totals.string_bytes > limits.max_string_size {
                return Err("Length of string");
            }
            Ok(())
        } else {
            Ok(())
        }
    }
    for value in values {
        walk(value, 0, &mut Totals::default(), limits)?;
    }
    Ok(())
}

fn unknown_script(script: &str) -> ScriptError {
    ScriptError::unlocated(script, "no script by this name has been compiled")
}

/// The 1-based line and column of `fn <name>` in `source`, for errors about an entry point's signature.
fn find_fn(source: &str, name: &str) -> (u32, u32) {
    for (n, line) in source.lines().enumerate() {
        if let Some(at) = line.find("fn ") {
            if line[at + 3..].trim_start().starts_with(name) {
                let col = line[..at].chars().count() + 1;
                return (u32::try_from(n + 1).unwrap_or(u32::MAX), u32::try_from(col).unwrap_or(u32::MAX));
            }
        }
    }
    (0, 0)
}
