//! Brokerlab's broker engine: message brokers as deterministic state machines on virtual time.
//!
//! The engine never reads a clock, never spawns a thread and holds no global state. The caller applies
//! commands at a [`VirtualTime`] it chooses, asks for [`Broker::next_deadline`](amqp::Broker::next_deadline)
//! and advances time explicitly; randomness comes from a [`Prng`] seeded by the caller. The same inputs and
//! seed therefore give the same event log, byte for byte, natively and in WebAssembly.
//!
//! Models live in one module each: [`amqp`] (RabbitMQ's AMQP 0-9-1) and [`kafka`] (Apache Kafka).

pub mod amqp;
pub mod clock;
pub mod kafka;
pub mod prng;
pub mod redis;
pub mod scenario;
pub mod sqs;
pub mod testkit;

pub use clock::{DeadlineQueue, VirtualTime};
pub use prng::Prng;
/// Stable sorts sharing one instantiation (the page's download: `sim_kernel::order`).
pub use sim_kernel::order;

/// The engine version, shown by the app and written into reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
