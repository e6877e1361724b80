//! Per-record scripts for Kafka consumers: `fn on_record(record) { … }` in the kernel's script sandbox
//! (`sim_kernel::script`). The record is a map `#{topic, partition, offset, key, value, timestamp,
//! headers}` (`key`/`value` are `()` when null). What to do is said by calls, as every model's scripts
//! do (the kernel's sandbox keeps no return value): `commit()` — `commitSync()` once this poll's records
//! are processed; `crash()` — the consumer's process dies after this record (no close, no leave).
//! `sleep(ms)` sets the record's processing time (instead of the consumer's `processing`), `log(…)`
//! writes a transcript line, `state` persists per consumer, `random(n)` draws from the run's seed.
//!
//! # Invariants
//! - A script's effects are recorded in [`RecordCall`] and carried out by the runtime, never by the script.
//! - A call that fails (a limit, an error) stops the run with the script's `name:line:col`.

use sim_kernel::script::rhai::{self, Dynamic, Engine};
use sim_kernel::script::{Call, EntryPoint, SandboxSpec};
use std::cell::RefCell;
use std::rc::Rc;

/// The function a consumer's script defines.
pub const ON_RECORD: &str = "on_record";

/// What one `on_record` call asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordCall {
    /// `commit()` was called.
    pub commit: bool,
    /// `crash()` was called.
    pub crash: bool,
}

fn register(engine: &mut Engine, call: &Rc<RefCell<Call<RecordCall>>>) {
    let c = Rc::clone(call);
    engine.register_fn("commit", move || c.borrow_mut().model.commit = true);
    let c = Rc::clone(call);
    engine.register_fn("crash", move || c.borrow_mut().model.crash = true);
}

/// Kafka's consumer script API, as the kernel's sandbox serves it.
pub const API: SandboxSpec<RecordCall> = SandboxSpec {
    register,
    entry_points: &[EntryPoint { function: ON_RECORD, arities: &[1], form: "fn on_record(record)" }],
    inside: "on_record",
    output: "logs",
};

/// A record as a script sees it.
pub fn record_map(
    topic: &str,
    partition: i32,
    offset: i64,
    timestamp: i64,
    key: Option<String>,
    value: Option<String>,
    headers: &[(String, Option<String>)],
) -> Dynamic {
    let text = |v: Option<String>| v.map_or(Dynamic::UNIT, Dynamic::from);
    let mut h = rhai::Map::new();
    for (k, v) in headers {
        h.insert(k.as_str().into(), text(v.clone()));
    }
    let mut m = rhai::Map::new();
    m.insert("topic".into(), Dynamic::from(topic.to_string()));
    m.insert("partition".into(), Dynamic::from(i64::from(partition)));
    m.insert("offset".into(), Dynamic::from(offset));
    m.insert("timestamp".into(), Dynamic::from(timestamp));
    m.insert("key".into(), text(key));
    m.insert("value".into(), text(value));
    m.insert("headers".into(), Dynamic::from_map(h));
    Dynamic::from_map(m)
}
