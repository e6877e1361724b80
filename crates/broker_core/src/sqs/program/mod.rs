//! SQS programs: a line format that reads like boto3 code (`docs/sqs-programs.md`) — `sqs.create_queue(
//! QueueName="orders")`, `sqs.send_message(QueueUrl=url, MessageBody="…")`, `time.sleep(31)` for virtual
//! time — parsed ([`parse`]) and run ([`run`]) against the engine, printing each reply as boto3 returns it.
//!
//! Invariants: parsing never panics and bounds its work (program size, statement count, bracket depth,
//! sleep length); every name a statement reads was assigned by an earlier statement; every `sqs.` call
//! names a boto3 SQS method with only its parameters and all its required ones; a transcript is a
//! function of the program and the seed.

pub mod compare;
pub mod parse;
pub mod run;
#[cfg(test)]
mod tests;
pub mod value;

pub use parse::{parse, Program, ProgramError, Statement};
pub use run::{run, Transcript, TranscriptLine};
pub use value::Py;
