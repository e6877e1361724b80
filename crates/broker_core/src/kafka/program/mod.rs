//! Kafka programs: a line format that reads like the Java client code of Kafka's documentation and the
//! command-line tools of its quickstart (`docs/kafka-programs.md`), parsed ([`parse`]) into statements
//! that run ([`run`]) against a [`KafkaClients`] — the engine's model or a real Kafka through the Java
//! client (`real_broker::kafka`) — and give a transcript that is the same for equal behaviour.
//!
//! Invariants: parsing never panics and bounds its work (statement count, nesting, program size);
//! every statement the parser returns names only clients declared before it; a transcript is a function
//! of the replies alone (member ids numbered, records sorted by partition and offset).

pub mod client;
pub mod engine;
pub mod parse;
pub mod run;
#[cfg(test)]
mod tests;

pub use client::{ClientCall, ClientError, ClientReply, KafkaClients};
pub use parse::{parse, Program, ProgramError, Statement};
pub use run::{created_topics, run, used_groups, Transcript, TranscriptLine};
