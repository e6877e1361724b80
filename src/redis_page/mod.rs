//! The Redis page: its own wasm module (`brokerlab_redis`, built from `src/redis_main.rs`), which the
//! page's loader (index.html) imports for `?model=redis`; no other page's module references this code, so
//! Redis does not reach their downloads (ARCHITECTURE.md, "One page per model").
//!
//! - [`model`]: the session (a document, the commands typed on the console, its run at the page's time)
//!   and what the views show of the server, plain Rust.
//! - [`view`]: the page — keys (lists with their items and blocked clients, streams with entries, groups
//!   and pending entries), pub/sub channels, checks, the event log — and [`console`], the redis-cli
//!   console (Enter sends, Up / Down recall).
//! - [`explain`]: the explanations, plain Rust — why a pending entry is still pending, what `XAUTOCLAIM`
//!   takes next (the engine's own scan), who got a published message and who did not — and
//!   [`explain_panel`], the panel that shows them (opened from the keys, the pub/sub panel or the log).
//! - [`charts`]: each list's length, each group's pending entries and lag, each channel's deliveries and
//!   missed messages over the whole run.
//! - [`workspaces`]: the page's workspaces in the shared store (`crate::persist::pages`, the bar
//!   `crate::ws_bar`): the document, the page's time and the console's commands with their instants.

pub mod charts;
pub mod console;
pub mod explain;
pub mod explain_panel;
pub mod model;
pub mod view;
pub mod workspaces;

/// Mounts the Redis page on `<body>`.
pub fn start() {
    #[cfg(target_arch = "wasm32")]
    yew::Renderer::<view::RedisApp>::with_props(view::RedisAppProps { doc: None }).render();
}
