//! Redis scenario documents (`"model": "redis"`) and their runtime: producers (`LPUSH`, `XADD`,
//! `PUBLISH`), workers (`BRPOP`, `BLMOVE` with a processing list, `XREADGROUP`, `XAUTOCLAIM`) and
//! subscribers as clients of the engine on the kernel's time loop, faults, checks, a transcript and a
//! JSON report. The format is described in `docs/redis-documents.md`.
//!
//! # Invariants
//! - A document is read whole and checked before anything runs; problems are located (`line:col`).
//! - One seed, one transcript.
//! - After every instant each list element the run pushed is in one list, in one worker's hand, done
//!   or lost, and each stream entry is, per group, unread, pending in exactly one consumer's PEL, or
//!   acknowledged ([`run`]'s ledgers; a break stops the run).

pub mod document;
pub mod run;

pub use document::RedisDocument;
pub use run::{
    help, repeat_count, run_document_transcript, HandLine, RedisEvent, RedisRun, RedisRunOptions, WireStep,
    BAD_REPEAT, CLEAR_SCREEN, CTRL_C, HAND, HELP_INTRO, MAX_REPEAT, READING_MESSAGES, RESTART,
};
