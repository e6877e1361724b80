//! Redis as a message broker, in Redis's vocabulary: a keyspace of keys with expiry on virtual time,
//! lists used as queues (with clients blocked in `BLPOP`/`BRPOP`/`BLMOVE`), pub/sub channels and
//! patterns (fire-and-forget: nothing is kept for absent subscribers), and streams with consumer
//! groups and pending entries lists — replying exactly as redis-server 7.0 does, RESP value for RESP
//! value and error text for error text.
//!
//! - [`server::Redis`] is the server: every command, on virtual time (milliseconds since the start; the
//!   wall clock of `*` stream ids is [`server::EPOCH_MS`] plus it).
//! - [`stream`] holds streams, groups and PELs, and the stream commands.
//! - [`reply::Reply`] is a RESP2 value and prints as redis-cli prints it.
//! - [`glob`] is Redis's glob matching; [`args`] its argument parsing rules; [`scan`] `SCAN`'s cursor
//!   over a modelled hash table.
//! - [`obuf`] is clients' output buffers and `client-output-buffer-limit`, which cuts off a slow
//!   subscriber.
//! - [`program`] is the line format that is simply redis-cli (`docs/redis-programs.md`).
//! - [`scenario`] plays documents (`"model": "redis"`): producers, workers, subscribers, faults and
//!   checks as clients of the server (`docs/redis-documents.md`).
//!
//! Invariants (checked by [`server::Redis::check_invariants`] after every step of the seeded tests): no
//! stored list is empty; no key outlives its expiry; a blocked client waits on keys holding no list and
//! is served in blocking order per key; stream ids strictly increase and never exceed the stream's last
//! id; every pending entry belongs to exactly one consumer, whose own PEL holds it; the keyspace table
//! is a power of two holding every key; no channel, pattern or shard channel is kept without subscribers
//! or lists one twice.

pub mod args;
pub mod glob;
pub mod obuf;
pub mod persist;
pub mod program;
pub mod reply;
pub mod scan;
pub mod scenario;
pub mod server;
pub mod stream;

pub use reply::Reply;
pub use server::Redis;
