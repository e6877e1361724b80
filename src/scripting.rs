//! The page's scripting engine, loaded asynchronously before the first document with scripts opens.
//!
//! Rhai is a quarter of the page's gzipped wasm, and only documents with `scripts` need it, so the page's
//! own module is built without it (feature `lazy-scripts` → `broker_core`'s `external-scripts`) and the
//! engine's script host runs in a second wasm module, `crates/brokerlab_scripts`, which trunk puts in
//! `lazy/` (an ES module, `data-bindgen-target="web"`) without loading it.
//!
//! Loading is asynchronous and happens before the engine asks for a host: when an action would open a
//! document with scripts and [`ready`] is false, the reducer parks it (`state/scripting.rs`), the app's
//! [`use_scripting_loader`](crate::components::use_scripting_loader) effect awaits [`load`] — a dynamic
//! `import()` of `lazy/brokerlab_scripts.js` resolved against `document.baseURI`, then its async init
//! with the fetched `lazy/brokerlab_scripts_bg.wasm` — and the parked action runs once it is there. Places
//! outside the reducer that build a session to validate a document (a permalink, a workspace file) await
//! [`prepare`] first. Nothing here uses `eval` or `new Function`, so a Content-Security-Policy without
//! `unsafe-eval` allows it, and the page never blocks on the download. A failed load (HTTP error, a
//! module of another protocol) is an `Err` naming the file; the page stays as it was, and the next
//! attempt fetches again.
//!
//! The engine side stays synchronous: [`factory`] — the value every simulation the page builds gets in
//! its `SimOptions::scripts` (and the script editor's check uses), never registered globally — only uses
//! the module already loaded, and refuses with a clear error if called before. Every script call then crosses as `wire` text to a host there.
//! The same `ScriptHost` code and an exact encoding give the same outcomes as the built-in host, so the
//! event log is the same (`wire`'s tests check it natively).
//!
//! The module also holds the scenario format's reader of one value (`int8(5)`, `[uint16(1), b"z"]`) that
//! the forms' typed values go through ([`read_field_value`]): its lexer, parser and interpreter were 17 kB
//! of the page's gzipped first download (BENCHMARKS.md). A form with such a value loads the module while
//! it is typed, and its submit waits for it (`components::editors::dispatch_when_read`).
//!
//! Builds without `lazy-scripts` (native tests, the browser tests, the bench pages) use the engine's
//! built-in host ([`factory`] is `ScriptFactory::default()`) and reader: [`ready`] is always true there
//! and nothing is loaded.

use crate::state::editing::document_scripts;

/// Whether a document (JSON text) has scripts, so opening it needs the scripting engine. A document that
/// is not even JSON needs none: it is refused for its syntax before any script matters.
pub fn needs_engine(document_text: &str) -> bool {
    document_scripts(document_text).is_ok_and(|scripts| !scripts.is_empty())
}

/// Loads the engine if `document_text` needs it and it is not loaded yet; `Err` says why it could not be.
pub async fn prepare(document_text: &str) -> Result<(), String> {
    if needs_engine(document_text) && !ready() {
        load().await
    } else {
        Ok(())
    }
}

#[cfg(all(target_arch = "wasm32", feature = "lazy-scripts"))]
pub use module::{factory, load, read_field_value, ready};

#[cfg(not(all(target_arch = "wasm32", feature = "lazy-scripts")))]
pub use built_in::{factory, load, read_field_value, ready};

/// Without `lazy-scripts` the engine's own host serves every simulation: always ready.
#[cfg(not(all(target_arch = "wasm32", feature = "lazy-scripts")))]
mod built_in {
    use broker_core::scenario::script::ScriptFactory;
    #[cfg(test)]
    use std::cell::Cell;

    #[cfg(test)]
    thread_local! {
        /// Native tests of the reducer's waiting pretend the engine is still to be loaded.
        static PRETEND_UNLOADED: Cell<bool> = const { Cell::new(false) };
    }

    /// Makes [`ready`] answer `!unloaded` on this thread (tests of the reducer's waiting).
    #[cfg(test)]
    pub fn pretend_unloaded(unloaded: bool) {
        PRETEND_UNLOADED.with(|p| p.set(unloaded));
    }

    /// Whether the scripting engine is loaded.
    pub fn ready() -> bool {
        #[cfg(test)]
        return !PRETEND_UNLOADED.with(Cell::get);
        #[cfg(not(test))]
        true
    }

    /// Where the page's simulations run their scripts: the engine's built-in host.
    pub fn factory() -> ScriptFactory {
        ScriptFactory::default()
    }

    /// Loads the scripting engine: nothing to load here.
    pub async fn load() -> Result<(), String> {
        Ok(())
    }

    /// One value of the scenario format, read by the engine's own reader (`None` while [`ready`] is false).
    pub fn read_field_value(
        text: &str,
    ) -> Option<Result<broker_core::amqp::FieldValue, broker_core::scenario::ScenarioError>> {
        ready().then(|| broker_core::scenario::parse_field_value(text))
    }
}

#[cfg(test)]
pub use built_in::pretend_unloaded;

/// The page's side of the scripting module (the `lazy-scripts` build in the browser).
#[cfg(all(target_arch = "wasm32", feature = "lazy-scripts"))]
mod module {
    use broker_core::scenario::script::wire::{self, RemoteHost, Transport};
    use broker_core::scenario::script::{ScriptFactory, ScriptLimits, ScriptRuntime};
    use wasm_bindgen::prelude::*;

    /// The module's files, relative to the page (`document.baseURI`), as error messages name them.
    const GLUE: &str = "lazy/brokerlab_scripts.js";

    // One load at a time: concurrent callers share the promise; a failed load is forgotten, so the next
    // call fetches again. `api` is set only once the module is instantiated and speaks our protocol.
    #[wasm_bindgen(inline_js = r#"
let api = null;
let loading = null;
async function fetch_module(protocol) {
  const glue = 'lazy/brokerlab_scripts.js';
  const wasm = 'lazy/brokerlab_scripts_bg.wasm';
  const url = (file) => new URL(file, document.baseURI).href;
  console.info('Brokerlab: loading the scripting engine');
  let module;
  try {
    module = await import(url(glue));
  } catch (e) {
    throw new Error(`${glue}: ${e && e.message ? e.message : e}`);
  }
  let response;
  try {
    response = await fetch(url(wasm));
  } catch (e) {
    throw new Error(`${wasm}: ${e && e.message ? e.message : e}`);
  }
  if (!response.ok) throw new Error(`${wasm}: HTTP ${response.status}`);
  try {
    await module.default({ module_or_path: response });
  } catch (e) {
    throw new Error(`${wasm}: ${e && e.message ? e.message : e}`);
  }
  const theirs = typeof module.scripts_protocol === 'function' ? module.scripts_protocol() : 'none';
  if (theirs !== protocol) {
    throw new Error(`${glue} speaks protocol ${theirs}, the page ${protocol}: reload the page`);
  }
  return module;
}
export function scripts_ready() { return api !== null; }
export function scripts_load(protocol) {
  if (api !== null) return Promise.resolve();
  if (loading === null) {
    loading = fetch_module(protocol).then(
      (module) => { api = module; loading = null; },
      (e) => { loading = null; throw e; },
    );
  }
  return loading;
}
export function scripts_new(config) { return api.scripts_new(config); }
export function scripts_clone(handle) { return api.scripts_clone(handle); }
export function scripts_drop(handle) { api.scripts_drop(handle); }
export function scripts_call(handle, request) { return api.scripts_call(handle, request); }
export function scripts_field_value(text) { return api.scripts_field_value(text); }
"#)]
    extern "C" {
        fn scripts_ready() -> bool;
        fn scripts_load(protocol: u32) -> js_sys::Promise;
        #[wasm_bindgen(catch)]
        fn scripts_new(config: &str) -> Result<u32, JsValue>;
        fn scripts_clone(handle: u32) -> u32;
        fn scripts_drop(handle: u32);
        fn scripts_call(handle: u32, request: &str) -> String;
        fn scripts_field_value(text: &str) -> String;
    }

    /// Whether the scripting module is loaded (and speaks the page's protocol).
    pub fn ready() -> bool {
        scripts_ready()
    }

    /// Fetches and instantiates the scripting module (once; later calls return at once). The `Err` is a
    /// sentence naming the file that failed.
    pub async fn load() -> Result<(), String> {
        wasm_bindgen_futures::JsFuture::from(scripts_load(wire::PROTOCOL))
            .await
            .map(|_| ())
            .map_err(|e| format!("the scripting engine could not be loaded: {}", js_text(&e)))
    }

    /// One value of the scenario format, read in the scripting module (`None` until it is loaded).
    pub fn read_field_value(
        text: &str,
    ) -> Option<Result<broker_core::amqp::FieldValue, broker_core::scenario::ScenarioError>> {
        scripts_ready().then(|| wire::field_value_answer(&scripts_field_value(text)))
    }

    /// One host in the scripting module; freed with the simulation (or snapshot) that owns it.
    #[derive(Debug)]
    struct ModuleHost(u32);

    impl Transport for ModuleHost {
        fn call(&self, request: &str) -> String {
            scripts_call(self.0, request)
        }
        fn duplicate(&self) -> Box<dyn Transport> {
            Box::new(ModuleHost(scripts_clone(self.0)))
        }
    }

    impl Drop for ModuleHost {
        fn drop(&mut self) {
            scripts_drop(self.0);
        }
    }

    fn js_text(e: &JsValue) -> String {
        e.as_string()
            .or_else(|| js_sys::Reflect::get(e, &"message".into()).ok().and_then(|m| m.as_string()))
            .unwrap_or_else(|| format!("{e:?}"))
    }

    /// The engine's factory: synchronous, so it only uses a module already loaded (the app awaits
    /// [`load`] before it opens a document with scripts).
    fn module_runtime(limits: ScriptLimits, seed: u64) -> Result<Box<dyn ScriptRuntime>, String> {
        if !scripts_ready() {
            return Err(format!(
                "the scripting engine ({GLUE}) is not loaded yet: open the document again once it is"
            ));
        }
        let handle = scripts_new(&wire::host_config(limits, seed)).map_err(|e| js_text(&e))?;
        Ok(Box::new(RemoteHost::new(Box::new(ModuleHost(handle)))))
    }

    /// Where the page's simulations run their scripts: the scripting module (passed in `SimOptions`).
    pub fn factory() -> ScriptFactory {
        ScriptFactory::new(module_runtime)
    }
}
