//! SQS scenario documents (`"model": "sqs"`) and their runtime: producers (and SNS publishers) and
//! consumers' `ReceiveMessage` loops as clients of the engine on the kernel's time loop, faults and
//! operator actions, checks, a transcript and a JSON report. The format is described in
//! `docs/sqs-documents.md`.
//!
//! # Invariants
//! - A document is read whole and checked before anything runs; problems are located (`line:col`).
//! - One seed, one transcript.
//! - After every instant each message is visible, in flight or delayed in exactly one queue, or deleted,
//!   expired or purged — exactly one ([`run`]'s ledger; a break stops the run).

pub mod document;
pub mod run;

pub use document::SqsDocument;
pub use run::{run_document_transcript, HandDelete, HandReceive, SqsEvent, SqsRun, SqsRunOptions, HAND};
