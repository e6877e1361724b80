//! Amazon SQS's model, in SQS's vocabulary: queues (standard and `.fifo`), messages, receipt handles,
//! visibility timeouts, message groups, deduplication ids and dead-letter queues — as the SQS Developer
//! Guide and API Reference document them (emulators are cross-checks, not references).
//!
//! - [`service::Sqs`] is the service: every API call, on virtual time and a seed.
//! - [`queue`] holds a queue's attributes (with AWS's bounds) and its stored messages.
//! - [`digest`] computes the MD5 digests SQS returns and the SHA-256 of content-based deduplication.
//! - [`error::SqsError`] is an SQS error as boto3 raises it (exception class, code, message).
//! - [`sns`] is SNS's fan-out to SQS (topics, subscriptions, filter policies, raw delivery).
//! - [`program`] is the line format that reads like boto3 code (`docs/sqs-programs.md`).
//!
//! Invariants (checked by [`service::Sqs::check_invariants`] after every step of the seeded tests):
//! every stored message is in exactly one state — delayed (never received, not yet visible), visible,
//! or in flight (received, its visibility timeout running) — in exactly one queue; a deleted, expired,
//! purged or dead-lettered message is in no state of its source queue; no message outlives its queue's
//! retention period; no message stays in flight more than 12 hours past its last receive; FIFO messages
//! all have a group; a message id appears once per queue; a deleted queue's name stays unavailable for
//! 60 seconds; a message move task never counts more moved than it had to move, a source queue has at
//! most one running task (and a running task's source exists), and only a failed task has a failure
//! reason. That a FIFO group with a message in flight delivers nothing else, and that receives return
//! the oldest visible messages, is checked against the naive model of `tests/sqs_lockstep.rs`.

pub mod digest;
pub mod error;
pub mod program;
pub mod queue;
pub mod scenario;
pub mod service;
pub mod sns;
pub mod types;

pub use error::SqsError;
pub use service::Sqs;
