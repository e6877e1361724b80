//! Kafka scenario documents (`"model": "kafka"`) and their runtime: producers and consumers as clients of
//! the engine on the kernel's time loop, faults, checks, a transcript and a JSON report.
//! The format is described in `docs/kafka-documents.md`.
//!
//! # Invariants
//! - A document is read whole and checked before anything runs; problems are located (`line:col`).
//! - One seed, one transcript, natively and in WebAssembly (`tests/determinism_everywhere.rs`).

pub mod document;
pub mod run;
pub mod script;
pub mod zipf;

pub use document::KafkaDocument;
pub use run::{
    run_document_transcript, ActorEvent, HandSeek, HandState, KafkaRun, KafkaRunOptions, SentRecord,
    HAND_CONSUMER,
};
