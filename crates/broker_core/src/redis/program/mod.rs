//! Redis programs: a line format that is simply redis-cli (`docs/redis-programs.md`) — one command per
//! line with redis-cli's quoting, `client NAME` to switch connections (so a `BRPOP` in one client can be
//! served by an `LPUSH` in another), `sleep SECONDS` for time — parsed ([`parse`]) and run ([`run`]) on
//! the engine, printing each reply as redis-cli prints it on a terminal.
//!
//! Invariants: parsing never panics and bounds its work (program size, statement count, argument count,
//! clients, sleep length); a transcript is a function of the program alone; the transcript's shape
//! (prompts, `(blocked)`, replies of unblocked clients after the statement that unblocked them, in the
//! order the clients blocked) is the same for the engine and for the real server
//! (`crates/real_broker/src/redis.rs` prints through [`Transcript`] too).

pub mod compare;
pub mod parse;
pub mod run;
#[cfg(test)]
mod tests;

pub use parse::{parse, Program, ProgramError, Statement, StatementKind};
pub use run::{run, Transcript};
