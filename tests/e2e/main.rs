//! End-to-end tests: the app built with trunk (release, wasm-opt) and served on 127.0.0.1, driven in headless
//! Chromium through WebDriver (chromedriver); each file checks what is rendered and saves screenshots.
//!
//! Needs the toolchain `scripts/setup.sh` installs, so it only builds with `--features e2e`
//! (`scripts/check.sh` runs it). One trunk build serves every test of the process.

mod harness;

mod app;
mod editing;
mod embed;
mod embed_kafka;
mod embed_redis;
mod embed_sqs;
mod graph;
mod kafka;
mod kafka_explain;
mod kafka_hand;
mod kafka_ops;
mod laptop;
mod persist;
mod redis;
mod render;
mod reply_to;
mod scripting;
mod sqs;
mod sqs_dlq;
mod sqs_ops;
mod start;
mod streams;
mod typed_fields;
