//! Test support compiled into the library: the reference model, the seeded random workload, the
//! lockstep runner that compares them with the engine, and the deterministic transcript.
//!
//! It lives in the library (not under `tests/`) so that the native tests and the web app's browser test
//! (wasm-bindgen-test in headless Chromium) call the very same code: the native run and the wasm run of
//! [`deterministic_transcript`] must print the same text. Like the engine it is pure: no clock, no
//! threads, no I/O, and no dependency beyond the engine's own.
//!
//! - [`model`]: a deliberately naive RabbitMQ (the subset it covers is listed there).
//! - [`workload`]: the weighted random operations, valid and invalid, on a per-seed topology.
//! - [`lockstep`]: engine and model side by side, compared after every step (`SEED=… STEP=…` on failure).
//! - [`transcript`]: a scripted scenario plus a random workload, as an event log.

pub mod lockstep;
pub mod model;
pub mod transcript;
pub mod workload;

pub use lockstep::{run_seed, SimStats, Simulation};
pub use model::Model;
pub use transcript::{deterministic_events, deterministic_transcript, random_run};
pub use workload::{Op, Step, Workload, WorkloadConfig};
