//! The web page's scripting engine, a second wasm module: the engine's own [`ScriptHost`] (Rhai), serving
//! the page's simulations through `broker_core::scenario::script::wire`. The page (`src/scripting.rs`)
//! imports it (an ES module) asynchronously before it opens the first document with scripts, then calls
//! these exports synchronously; each handle is one host, so a simulation and its rewind snapshots each
//! keep their own. It also holds the scenario format's reader of one value for the page's forms
//! ([`scripts_field_value`]), which the page's own module would otherwise carry.

use broker_core::scenario::script::{wire, ScriptHost};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    /// The hosts by handle (a freed slot is `None` and reused).
    static HOSTS: RefCell<Vec<Option<ScriptHost>>> = const { RefCell::new(Vec::new()) };
}

fn insert(host: ScriptHost) -> u32 {
    HOSTS.with(|hosts| {
        let mut hosts = hosts.borrow_mut();
        let slot = match hosts.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                hosts.push(None);
                hosts.len() - 1
            }
        };
        hosts[slot] = Some(host);
        u32::try_from(slot).expect("fewer than 2^32 hosts")
    })
}

fn with_host<T>(handle: u32, f: impl FnOnce(&mut ScriptHost) -> T) -> T {
    HOSTS.with(|hosts| {
        let mut hosts = hosts.borrow_mut();
        let host =
            hosts.get_mut(handle as usize).and_then(Option::as_mut).expect("a live script host handle");
        f(host)
    })
}

/// The wire protocol this module speaks.
#[wasm_bindgen]
pub fn scripts_protocol() -> u32 {
    wire::PROTOCOL
}

/// A new host from `wire::host_config` text; its handle.
#[wasm_bindgen]
pub fn scripts_new(config: &str) -> Result<u32, JsValue> {
    wire::new_host(config).map(insert).map_err(|e| JsValue::from_str(&e))
}

/// An independent copy of a host (a rewind snapshot); the copy's handle.
#[wasm_bindgen]
pub fn scripts_clone(handle: u32) -> u32 {
    let copy = with_host(handle, |host| host.clone());
    insert(copy)
}

/// Frees a host.
#[wasm_bindgen]
pub fn scripts_drop(handle: u32) {
    HOSTS.with(|hosts| {
        if let Some(slot) = hosts.borrow_mut().get_mut(handle as usize) {
            *slot = None;
        }
    });
}

/// Answers one `wire` request for a host.
#[wasm_bindgen]
pub fn scripts_call(handle: u32, request: &str) -> String {
    with_host(handle, |host| wire::serve(host, request))
}

/// Reads one value of the scenario format (`int8(5)`) for the page's forms: `wire::serve_field_value`.
#[wasm_bindgen]
pub fn scripts_field_value(text: &str) -> String {
    wire::serve_field_value(text)
}

fn main() {}
