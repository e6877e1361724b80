//! The page's scripting engine, loaded on demand (feature `lazy-scripts`, set by the page's trunk build).
//!
//! Rhai is a quarter of the page's gzipped wasm, and only documents with `scripts` need it, so the page's
//! own module is built without it (`broker_core`'s `external-scripts`) and the engine's script host runs in
//! a second wasm module, `crates/brokerlab_scripts`, which trunk puts in `lazy/` without loading it. The
//! first time a simulation needs a script host ([`broker_core::scenario::script::new_runtime`]), the factory
//! registered here fetches and instantiates that module, synchronously (the engine's calls are synchronous;
//! browsers allow synchronous compilation of a module this size on the main thread), then every script call
//! crosses as `wire` text to a host there. The same `ScriptHost` code and an exact encoding give the same
//! outcomes as the built-in host, so the event log is the same (`wire`'s tests check it natively).

use broker_core::scenario::script::wire::{self, RemoteHost, Transport};
use broker_core::scenario::script::{set_runtime_factory, ScriptLimits, ScriptRuntime};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
let api = null;
function get(url, binary) {
  const xhr = new XMLHttpRequest();
  xhr.open('GET', url, false);
  if (binary) xhr.overrideMimeType('text/plain; charset=x-user-defined');
  xhr.send();
  if (xhr.status !== 200) throw new Error(`${url}: HTTP ${xhr.status}`);
  return xhr.responseText;
}
export function scripts_load(protocol) {
  if (api !== null) return;
  const base = new URL('lazy/', document.baseURI);
  console.info('Brokerlab: loading the scripting engine');
  const glue = get(new URL('brokerlab_scripts.js', base), false);
  const module = new Function(`${glue}\nreturn wasm_bindgen;`)();
  const text = get(new URL('brokerlab_scripts_bg.wasm', base), true);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  module.initSync({ module: bytes });
  if (module.scripts_protocol() !== protocol) {
    throw new Error(`the scripting module speaks protocol ${module.scripts_protocol()}, the page ${protocol}: reload the page`);
  }
  api = module;
}
export function scripts_new(config) { return api.scripts_new(config); }
export function scripts_clone(handle) { return api.scripts_clone(handle); }
export function scripts_drop(handle) { api.scripts_drop(handle); }
export function scripts_call(handle, request) { return api.scripts_call(handle, request); }
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn scripts_load(protocol: u32) -> Result<(), JsValue>;
    #[wasm_bindgen(catch)]
    fn scripts_new(config: &str) -> Result<u32, JsValue>;
    fn scripts_clone(handle: u32) -> u32;
    fn scripts_drop(handle: u32);
    fn scripts_call(handle: u32, request: &str) -> String;
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

fn module_runtime(limits: ScriptLimits, seed: u64) -> Result<Box<dyn ScriptRuntime>, String> {
    scripts_load(wire::PROTOCOL)
        .map_err(|e| format!("the scripting engine could not be loaded: {}", js_text(&e)))?;
    let handle = scripts_new(&wire::host_config(limits, seed)).map_err(|e| js_text(&e))?;
    Ok(Box::new(RemoteHost::new(Box::new(ModuleHost(handle)))))
}

/// Makes every simulation of the page use the scripting module.
pub fn install() {
    set_runtime_factory(Some(module_runtime));
}
