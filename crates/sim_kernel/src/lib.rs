//! Brokerlab's simulation kernel: what every broker model shares, in no model's words.
//!
//! A model (one module per broker in the engine crate, `broker_core`) is a deterministic state machine on
//! virtual time; the kernel gives it the clock ([`VirtualTime`], [`DeadlineQueue`]) and seeded randomness
//! ([`Prng`]), and gives the runtime that plays scenario documents on a model its generic parts: the time
//! loop ([`runtime`]), the values documents are written in ([`values`]), located errors and JSON paths
//! ([`located`]), pacing ([`pace`]), processing times ([`processing`]), client latency ([`link`]),
//! templates ([`template`]), count and order checks over any model's events ([`checks`]: [`EventInfo`]),
//! the run budget's counting ([`budget`]), the report envelope ([`transcript`]), the diff used to
//! compare a run with a real system ([`diff`]) and the script sandbox ([`script`]: Rhai with limits,
//! located errors and seeded randomness; a model adds its script API).
//!
//! # Invariants
//! - The kernel names no broker model and none of a model's vocabulary, and depends on no model crate
//!   (`tests/tidy.rs` fails the build otherwise).
//! - No wall clock, no threads, no global state, no web dependency, no hash-map iteration: time and
//!   randomness are inputs, so the same inputs give the same output natively and in WebAssembly.

pub mod budget;
pub mod checks;
pub mod clock;
pub mod diff;
pub mod link;
pub mod located;
pub mod order;
pub mod pace;
pub mod prng;
pub mod processing;
pub mod runtime;
pub mod script;
pub mod template;
pub mod transcript;
pub mod values;

pub use checks::{EventInfo, EventPattern};
pub use clock::{DeadlineQueue, VirtualTime};
pub use prng::Prng;
