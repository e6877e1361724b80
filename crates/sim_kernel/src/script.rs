//! The script sandbox every model's scripts run in: Rhai, sandboxed, limited, located and deterministic.
//!
//! A model gives the sandbox its script API (a [`SandboxSpec`]: the functions it registers, the entry
//! points a script may define and their parameter counts); the sandbox compiles scripts once each
//! ([`Sandbox::compile`]) and runs one entry point per [`Sandbox::call`], lending the calling actor its
//! `state` map. A call returns a [`CallOutput`]: the log lines, the processing time the script asked for
//! with `sleep(ms)`, and the model's own per-call record (what its API recorded). Scripts never touch a
//! model themselves; the model's runtime acts on the output.
//!
//! The sandbox: no `import` or module loading (Rhai's `no_module` feature), no `eval` (the symbol is
//! disabled), no wall clock (`no_time`; `now()` is the virtual time the caller passes), no threads, no I/O
//! (`print` and `debug` become log lines). Every call runs under [`ScriptLimits`]; a loop that never ends,
//! a string that doubles forever or recursion without a base case stops with a [`ScriptError`] that names
//! the script, the line and the column. Determinism: `random(n)` draws from the sandbox's own [`Prng`],
//! seeded in [`Sandbox::new`]; Rhai's object maps are BTreeMaps, so iterating a map follows key order;
//! floats are compiled out (`no_float`) because their formatting and libm functions could differ between
//! native code and wasm. The same seed and inputs therefore give the same outputs on every platform.
//!
//! The functions every model's scripts have: `log(value)` (and `print` / `debug`), `now()`, `random(n)`,
//! `sleep(ms)`, and the `state` map. A model's API functions write into [`Call::model`] and count what
//! they emit with [`Call::spend`], so one output limit covers logs and the model's effects together.
//!
//! [`rhai`] is re-exported so a model registers its API against the same Rhai the sandbox runs.
//!
//! # Invariants
//! * Between calls the shared per-call record is idle: no actor's state is lent out and no output is
//!   half-written (every call path resets it, on success and on error).
//! * Each actor's `state` is a shared Rhai object map, created empty on the actor's first call.
//! * The engine's limits are the ones in `limits`, each at least 1.

pub use rhai;

use crate::prng::Prng;
use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, Position, Scope, AST};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// A script-visible result: Rhai's error carries the position of the failing call.
pub type ScriptResult<T> = Result<T, Box<EvalAltResult>>;

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
    /// Bytes one call may emit in total: log lines plus what the model's API counts ([`Call::spend`]).
    pub max_output_bytes: usize,
}

impl Default for ScriptLimits {
    /// Generous for per-event logic, and small enough that a runaway script stops within milliseconds
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

impl ScriptLimits {
    /// The same limits with every zero raised to one.
    fn at_least_one(self) -> Self {
        ScriptLimits {
            max_operations: self.max_operations.max(1),
            max_string_size: self.max_string_size.max(1),
            max_array_size: self.max_array_size.max(1),
            max_map_size: self.max_map_size.max(1),
            max_call_levels: self.max_call_levels.max(1),
            max_output_bytes: self.max_output_bytes.max(1),
        }
    }
}

/// A script that does not compile or a call that failed, located in the script's source.
///
/// `line` and `col` are 1-based (columns count characters); both are 0 when the failure has no place in
/// the source (an unknown script, a missing entry point).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptError {
    pub script: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl ScriptError {
    /// An error with no place in the source.
    pub fn unlocated(script: &str, message: impl Into<String>) -> Self {
        ScriptError { script: script.to_string(), line: 0, col: 0, message: message.into() }
    }

    /// An error at Rhai's position `pos` (none: unlocated).
    pub fn at(script: &str, pos: Position, message: impl Into<String>) -> Self {
        let line = pos.line().and_then(|l| u32::try_from(l).ok()).unwrap_or(0);
        let col = pos.position().and_then(|c| u32::try_from(c).ok()).unwrap_or(0);
        ScriptError { script: script.to_string(), line, col, message: message.into() }
    }

    /// A call of a script that was never compiled.
    pub fn unknown_script(script: &str) -> Self {
        ScriptError::unlocated(script, "no script by this name has been compiled")
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

/// A script-visible runtime error; Rhai attaches the call's position.
pub fn fail(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(message), Position::NONE).into()
}

/// A `u64` counter as a script integer (saturating at `i64::MAX`, far beyond any simulation).
pub fn int(value: u64) -> Dynamic {
    Dynamic::from_int(i64::try_from(value).unwrap_or(i64::MAX))
}

/// Any value as text: a string as it is, anything else as Rhai prints it (`42`, `true`, `#{"a": 1}`).
pub fn text(value: &Dynamic) -> String {
    let value = value.flatten_clone();
    if value.is_string() {
        value.into_string().unwrap_or_default()
    } else {
        value.to_string()
    }
}

/// A model's script API, as the sandbox needs it.
pub struct SandboxSpec<X: 'static> {
    /// Registers the model's functions on a new engine (a copy's too), each writing into the shared call.
    pub register: fn(&mut Engine, &Rc<RefCell<Call<X>>>),
    /// The entry points a script may define: the function, the parameter counts allowed, and how to write
    /// it (for the compile error about a wrong signature).
    pub entry_points: &'static [EntryPoint],
    /// Where the API works, for the error of a function called outside a call (`"on_tick"`).
    pub inside: &'static str,
    /// What the output limit counts, for its error (`"logs"`, `"logs and sends"`).
    pub output: &'static str,
}

/// An entry point a script may define.
#[derive(Clone, Copy, Debug)]
pub struct EntryPoint {
    pub function: &'static str,
    /// The parameter counts allowed (Rhai allows overloads by arity).
    pub arities: &'static [usize],
    /// How to write it: `fn on_tick(seq)`.
    pub form: &'static str,
}

/// The inputs and the growing output of the call in progress, shared between the sandbox and the
/// functions registered on its engine.
///
/// # Invariants
/// * `running` is false exactly when no call is running; then `state` is unit and the output is empty.
/// * `output_bytes <= max_output_bytes`; output that would pass the limit is refused, not recorded.
#[derive(Clone, Debug)] // cloned with its sandbox (rewind snapshots)
pub struct Call<X> {
    prng: Prng,
    now_millis: u64,
    running: bool,
    /// The actor's shared `state` map while its call runs.
    state: Dynamic,
    logs: Vec<String>,
    processing_millis: Option<u64>,
    output_bytes: usize,
    max_output_bytes: usize,
    /// `print`/`debug` cannot fail, so passing the limit there is remembered and reported after the call.
    overflowed: bool,
    inside: &'static str,
    output: &'static str,
    /// The model's part of the call: its inputs (given to [`Sandbox::call`]) and what its API recorded.
    pub model: X,
}

impl<X: Default> Call<X> {
    fn new(prng: Prng, max_output_bytes: usize, inside: &'static str, output: &'static str) -> Self {
        Call {
            prng,
            now_millis: 0,
            running: false,
            state: Dynamic::UNIT,
            logs: Vec::new(),
            processing_millis: None,
            output_bytes: 0,
            max_output_bytes,
            overflowed: false,
            inside,
            output,
            model: X::default(),
        }
    }

    fn begin(&mut self, now_millis: u64, state: Dynamic, model: X) {
        debug_assert!(!self.running, "a script call started inside another");
        self.now_millis = now_millis;
        self.running = true;
        self.state = state;
        self.logs.clear();
        self.processing_millis = None;
        self.output_bytes = 0;
        self.overflowed = false;
        self.model = model;
    }

    /// Ends the call: its output and whether `print`/`debug` passed the output limit.
    fn finish(&mut self) -> (CallOutput<X>, bool) {
        self.running = false;
        self.state = Dynamic::UNIT;
        let output = CallOutput {
            logs: std::mem::take(&mut self.logs),
            processing_millis: self.processing_millis.take(),
            model: std::mem::take(&mut self.model),
        };
        (output, std::mem::replace(&mut self.overflowed, false))
    }
}

fn output_overflow(limit: usize, output: &str) -> String {
    format!("too much output in one call (limit {limit} bytes of {output})")
}

/// What one call produced. Effects are only recorded here; the model's runtime carries them out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallOutput<X> {
    /// `log(…)`, `print(…)` and `debug(…)` lines, in call order.
    pub logs: Vec<String>,
    /// The sum of the script's `sleep(ms)` calls; `None` when it never called `sleep`.
    pub processing_millis: Option<u64>,
    /// What the model's API recorded.
    pub model: X,
}

/// One compiled script and the shape of its functions, found once at compile time.
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
/// [`Prng`] that `random(n)` draws from; there is no global state, so two sandboxes never interfere.
pub struct Sandbox<X: 'static> {
    spec: &'static SandboxSpec<X>,
    engine: Engine,
    limits: ScriptLimits,
    scripts: BTreeMap<String, Compiled>,
    /// Per actor: a shared (`Rc<RefCell>`) map, lent to the script as `state` during that actor's calls.
    states: BTreeMap<String, Dynamic>,
    call: Rc<RefCell<Call<X>>>,
    /// The last source position the evaluator stepped on in the current call (see [`Self::error`]).
    last_pos: Rc<Cell<Position>>,
    /// Reused by every call; script functions cannot see it, it only has to exist for Rhai.
    scope: Scope<'static>,
}

/// An independent copy (for the app's rewind snapshots): a new Rhai engine wired to fresh shared cells,
/// the compiled scripts reused (an `AST` is immutable), each actor's `state` map copied deeply so the two
/// sandboxes never see each other's writes, and the `random(n)` generator continuing from the same point.
impl<X: Clone + Default + 'static> Clone for Sandbox<X> {
    fn clone(&self) -> Self {
        // The seed is irrelevant: the whole per-call record, generator included, is copied over it.
        let mut copy = Sandbox::new(self.limits, 0, self.spec);
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

impl<X: Default + 'static> Sandbox<X> {
    /// A sandbox with no scripts yet, serving the model's API `spec`; `seed` seeds `random(n)`.
    pub fn new(limits: ScriptLimits, seed: u64, spec: &'static SandboxSpec<X>) -> Self {
        let limits = limits.at_least_one();
        let call = Rc::new(RefCell::new(Call::new(
            Prng::new(seed),
            limits.max_output_bytes,
            spec.inside,
            spec.output,
        )));
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
        register_common(&mut engine, &call);
        (spec.register)(&mut engine, &call);

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
                    let state = shared.borrow().state.clone();
                    let values = context.scope().iter_raw().map(|(_, _, v)| v).chain(std::iter::once(&state));
                    if let Err(what) = measure_live_data(values, &limits) {
                        return Err(EvalAltResult::ErrorDataTooLarge(what.to_string(), pos).into());
                    }
                }
                Ok(DebuggerCommand::StepInto)
            },
        );

        Sandbox {
            spec,
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

    /// The names of the compiled scripts, in order.
    pub fn script_names(&self) -> impl Iterator<Item = &str> {
        self.scripts.keys().map(String::as_str)
    }

    /// The actors that have a `state` map, in order.
    pub fn actors(&self) -> impl Iterator<Item = &str> {
        self.states.keys().map(String::as_str)
    }

    /// Compiles `source` under `name`, replacing a script of that name. A syntax error names its line and
    /// column; an entry point with the wrong parameters is refused here too.
    pub fn compile(&mut self, name: &str, source: &str) -> Result<(), ScriptError> {
        let ast = self.engine.compile(source).map_err(|e| ScriptError::at(name, e.1, e.0.to_string()))?;
        let mut functions: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for f in ast.iter_functions() {
            functions.entry(f.name.to_string()).or_default().push(f.params.len());
        }
        let compiled = Compiled { ast, functions };
        for entry in self.spec.entry_points {
            let function = entry.function;
            if let Some(bad) = compiled.arities(function).iter().find(|n| !entry.arities.contains(n)) {
                let (line, col) = find_fn(source, function);
                return Err(ScriptError {
                    script: name.to_string(),
                    line,
                    col,
                    message: format!("{function} takes {bad} parameter(s); write it as {}", entry.form),
                });
            }
        }
        self.scripts.insert(name.to_string(), compiled);
        Ok(())
    }

    /// The parameter counts of `function` in script `script` (empty when it does not define it); an
    /// error when no script of that name was compiled.
    pub fn arities(&self, script: &str, function: &str) -> Result<&[usize], ScriptError> {
        self.scripts
            .get(script)
            .map(|c| c.arities(function))
            .ok_or_else(|| ScriptError::unknown_script(script))
    }

    /// Whether script `name` defines `function` (with any number of parameters).
    pub fn has_function(&self, name: &str, function: &str) -> bool {
        self.arities(name, function).is_ok_and(|a| !a.is_empty())
    }

    /// An actor's `state` map as it stands (a deep copy; `None` before the actor's first call).
    pub fn state(&self, actor: &str) -> Option<Dynamic> {
        Some(self.states.get(actor)?.flatten_clone())
    }

    /// One call of `function(args…)` in script `script` for `actor` at `now_millis`, with the model's
    /// per-call inputs `model`: lends the actor's `state`, runs the function, collects the output, puts
    /// everything back. The `state` map persists between calls (changes made before an error are kept).
    pub fn call(
        &mut self,
        script: &str,
        actor: &str,
        now_millis: u64,
        function: &str,
        args: Vec<Dynamic>,
        model: X,
    ) -> Result<CallOutput<X>, ScriptError> {
        let ast = match self.scripts.get(script) {
            Some(compiled) => &compiled.ast,
            None => return Err(ScriptError::unknown_script(script)),
        };
        let state = self
            .states
            .entry(actor.to_string())
            .or_insert_with(|| Dynamic::from_map(rhai::Map::new()).into_shared())
            .clone();
        self.call.borrow_mut().begin(now_millis, state, model);
        self.last_pos.set(Position::NONE);
        // The AST's top-level statements are not re-run per call: only the entry function is.
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let result =
            self.engine.call_fn_with_options::<Dynamic>(options, &mut self.scope, ast, function, args);
        let (output, overflowed) = self.call.borrow_mut().finish();
        // A failed call may leave its variables behind; the next call must start from nothing.
        self.scope.clear();

        match result {
            Ok(_) => {}
            // `exit()` ends the call early, like `return` from the entry function.
            Err(e) if matches!(*e, EvalAltResult::Exit(..)) => {}
            Err(e) => return Err(self.error(script, *e)),
        }
        if overflowed {
            let message = output_overflow(self.limits.max_output_bytes, self.spec.output);
            return Err(ScriptError::at(script, self.last_pos.get(), message));
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
        Ok(output)
    }

    /// Turns Rhai's error into a located [`ScriptError`] with a message in the sandbox's words for limits.
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

/// The functions every model's scripts have: the `state` map, `print`/`debug`/`log` as log lines,
/// `now()`, `random(n)` and `sleep(ms)`.
fn register_common<X: 'static>(engine: &mut Engine, call: &Rc<RefCell<Call<X>>>) {
    // `state` is not a scope variable (script functions cannot see the caller's scope): the resolver
    // hands out the actor's shared map, so `state.n += 1` inside any function changes the stored map.
    // A local variable or parameter named `state` (index > 0) shadows it as usual.
    let c = Rc::clone(call);
    #[allow(deprecated)] // Rhai marks `on_var` "volatile", not deprecated.
    engine.on_var(move |name, index, _| {
        if index == 0 && name == "state" {
            let call = c.borrow();
            if call.running {
                return Ok(Some(call.state.clone()));
            }
        }
        Ok(None)
    });

    // `print` and `debug` would write to stdout; in the sandbox they are log lines.
    let c = Rc::clone(call);
    engine.on_print(move |text| {
        let mut call = c.borrow_mut();
        if call.log_line(text).is_err() {
            call.overflowed = true;
        }
    });
    let c = Rc::clone(call);
    engine.on_debug(move |text, _, _| {
        let mut call = c.borrow_mut();
        if call.log_line(text).is_err() {
            call.overflowed = true;
        }
    });

    let c = Rc::clone(call);
    engine.register_fn("log", move |value: Dynamic| c.borrow_mut().log_line(&text(&value)));

    let c = Rc::clone(call);
    engine.register_fn("now", move || -> ScriptResult<i64> {
        let call = c.borrow();
        call.running("now")?;
        Ok(i64::try_from(call.now_millis).unwrap_or(i64::MAX))
    });
    let c = Rc::clone(call);
    engine.register_fn("random", move |bound: i64| -> ScriptResult<i64> {
        let Ok(bound @ 1..) = u64::try_from(bound) else {
            return Err(fail(format!("random(n) needs n > 0, got {bound}")));
        };
        let mut call = c.borrow_mut();
        call.running("random")?;
        // below(bound) < bound <= i64::MAX, so the conversion cannot fail.
        Ok(i64::try_from(call.prng.below(bound)).unwrap_or(i64::MAX))
    });
    let c = Rc::clone(call);
    engine.register_fn("sleep", move |millis: i64| -> ScriptResult<()> {
        let Ok(millis) = u64::try_from(millis) else {
            return Err(fail(format!("sleep(ms) needs ms >= 0, got {millis}")));
        };
        let mut call = c.borrow_mut();
        call.running("sleep")?;
        let total = call.processing_millis.unwrap_or(0).saturating_add(millis);
        call.processing_millis = Some(total);
        Ok(())
    });
}

/// What the model's API functions use of the call in progress (no bound on the model's record).
impl<X> Call<X> {
    /// Whether a call is running (the model's API refuses to work between calls).
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// `Err` unless a call is running: `function()` can only run inside the entry points.
    pub fn running(&self, function: &str) -> ScriptResult<()> {
        if !self.running {
            return Err(fail(format!("{function}() can only run inside {}", self.inside)));
        }
        Ok(())
    }

    /// The entry points' names, as errors of the model's API name them (`"on_tick"`).
    pub fn inside(&self) -> &'static str {
        self.inside
    }

    /// Counts `bytes` of output against the call's limit; `Err` (nothing counted) when they would pass it.
    pub fn spend(&mut self, bytes: usize) -> ScriptResult<()> {
        let total = self.output_bytes.saturating_add(bytes);
        if total > self.max_output_bytes {
            return Err(fail(output_overflow(self.max_output_bytes, self.output)));
        }
        self.output_bytes = total;
        Ok(())
    }

    fn log_line(&mut self, line: &str) -> ScriptResult<()> {
        self.running("log")?;
        self.spend(line.len())?;
        self.logs.push(line.to_string());
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Map;

    /// A model with one function, `emit(value)`, recording text that counts against the output limit.
    fn register_emit(engine: &mut Engine, call: &Rc<RefCell<Call<Vec<String>>>>) {
        let c = Rc::clone(call);
        engine.register_fn("emit", move |value: Dynamic| -> ScriptResult<()> {
            let mut call = c.borrow_mut();
            call.running("emit")?;
            let line = text(&value);
            call.spend(line.len())?;
            call.model.push(line);
            Ok(())
        });
    }

    const SPEC: SandboxSpec<Vec<String>> = SandboxSpec {
        register: register_emit,
        entry_points: &[EntryPoint { function: "run", arities: &[0, 1], form: "fn run(n)" }],
        inside: "run",
        output: "logs and emits",
    };

    fn sandbox(limits: ScriptLimits, source: &str) -> Sandbox<Vec<String>> {
        let mut sandbox = Sandbox::new(limits, 7, &SPEC);
        sandbox.compile("s", source).unwrap_or_else(|e| panic!("{e}"));
        sandbox
    }

    #[test]
    fn a_call_returns_logs_sleep_and_the_model_record() {
        let mut s = sandbox(
            ScriptLimits::default(),
            "fn run(n) { log(`n=${n}`); print(now()); emit(n * 2); sleep(5); sleep(7); state.calls = 1; }",
        );
        let out = s.call("s", "a", 1_500, "run", vec![int(21)], Vec::new()).unwrap();
        assert_eq!(out.logs, ["n=21", "1500"]);
        assert_eq!(out.processing_millis, Some(12));
        assert_eq!(out.model, ["42"]);
        let state = s.state("a").unwrap();
        assert_eq!(state.read_lock::<Map>().unwrap().get("calls").map(|v| v.as_int()), Some(Ok(1)));
        assert!(s.state("b").is_none());
    }

    #[test]
    fn limits_name_the_line_and_the_limit() {
        let limits = ScriptLimits { max_operations: 1_000, ..ScriptLimits::default() };
        let mut s = sandbox(limits, "fn run() {\n  let x = 0;\n  loop {\n    x += 1;\n  }\n}");
        let e = s.call("s", "a", 0, "run", Vec::new(), Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "script 's' line 4, col 10: too many operations (limit 1000)");
        let limits = ScriptLimits { max_output_bytes: 10, ..ScriptLimits::default() };
        let mut s = sandbox(limits, "fn run() {\n  emit(\"0123456789x\");\n}");
        let e = s.call("s", "a", 0, "run", Vec::new(), Vec::new()).unwrap_err();
        assert_eq!(e.message, "too much output in one call (limit 10 bytes of logs and emits)");
        assert_eq!(e.line, 2);
    }

    #[test]
    fn entry_points_with_the_wrong_parameters_are_refused_at_compile_time() {
        let mut s = Sandbox::new(ScriptLimits::default(), 0, &SPEC);
        let e = s.compile("bad", "// x\n  fn run(a, b) {}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "script 'bad' line 2, col 3: run takes 2 parameter(s); write it as fn run(n)"
        );
        assert_eq!(
            s.arities("nope", "run").unwrap_err().to_string(),
            "script 'nope': no script by this name has been compiled"
        );
        assert!(!s.has_function("nope", "run"));
    }

    #[test]
    fn random_is_seeded_and_a_clone_continues_the_same_sequence() {
        let source = "fn run() { emit(random(1000)); }";
        let mut a = sandbox(ScriptLimits::default(), source);
        let first = a.call("s", "x", 0, "run", Vec::new(), Vec::new()).unwrap().model;
        let mut b = a.clone();
        let next_a = a.call("s", "x", 0, "run", Vec::new(), Vec::new()).unwrap().model;
        let next_b = b.call("s", "x", 0, "run", Vec::new(), Vec::new()).unwrap().model;
        assert_eq!(next_a, next_b);
        let mut prng = Prng::new(7);
        assert_eq!(first, [prng.below(1000).to_string()]);
        assert_eq!(next_a, [prng.below(1000).to_string()]);
    }

    #[test]
    fn measure_counts_nested_data_like_rhai() {
        let limits = ScriptLimits {
            max_map_size: 3,
            max_array_size: 2,
            max_string_size: 5,
            ..ScriptLimits::default()
        };
        let mut inner = Map::new();
        inner.insert("a".into(), Dynamic::from("abc".to_string()));
        let mut outer = Map::new();
        outer.insert("x".into(), Dynamic::from_map(inner.clone()));
        outer.insert("y".into(), Dynamic::from_int(1));
        let ok = Dynamic::from_map(outer.clone());
        assert_eq!(measure_live_data(std::iter::once(&ok), &limits), Ok(()));
        // One more nested entry passes the map limit (2 + 1 + 1 > 3), counted across levels.
        outer.insert("z".into(), Dynamic::from_map(inner));
        let too_many = Dynamic::from_map(outer).into_shared();
        assert_eq!(measure_live_data(std::iter::once(&too_many), &limits), Err("Size of object map"));
        // Each value is measured on its own, as Rhai does.
        let s = Dynamic::from("abcd".to_string());
        assert_eq!(measure_live_data([&s, &s].into_iter(), &limits), Ok(()));
        let arr = Dynamic::from_array(vec![s.clone(), s]);
        assert_eq!(measure_live_data(std::iter::once(&arr), &limits), Err("Length of string"));
    }

    #[test]
    fn measure_refuses_deep_nesting() {
        let mut value = Dynamic::from_map(Map::new());
        for _ in 0..=MAX_DATA_DEPTH {
            value = Dynamic::from_array(vec![value]);
        }
        let limits = ScriptLimits { max_array_size: 1_000, ..ScriptLimits::default() };
        assert_eq!(
            measure_live_data(std::iter::once(&value), &limits),
            Err("Depth of nested arrays and maps")
        );
    }

    #[test]
    fn find_fn_locates_entry_points() {
        assert_eq!(find_fn("// x\n  fn  run() {}\n", "run"), (2, 3));
        assert_eq!(find_fn("fn other() {}", "run"), (0, 0));
    }

    #[test]
    fn a_failed_call_leaves_the_sandbox_clean_for_the_next() {
        let limits = ScriptLimits { max_operations: 5_000, max_map_size: 50, ..ScriptLimits::default() };
        let src =
            "fn run(n) { if n == 0 { let m = #{}; for i in 0..40 { m[`k${i}`] = i; } loop {} } emit(n); }";
        let mut s = sandbox(limits, src);
        assert!(s.call("s", "a", 0, "run", vec![int(0)], Vec::new()).is_err());
        assert!(s.call.borrow().state.is_unit(), "the actor's state must not stay lent out");
        assert!(!s.call.borrow().is_running());
        assert!(s.scope.is_empty(), "the failed call's variables must not outlive it");
        let out = s.call("s", "a", 0, "run", vec![int(1)], Vec::new()).unwrap();
        assert_eq!(out.model, ["1"]);
    }
}
