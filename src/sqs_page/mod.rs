//! The SQS page: its own wasm module (`brokerlab_sqs`, built from `src/sqs_main.rs`), which the page's
//! loader (index.html) imports for `?model=sqs`; the RabbitMQ page's module never references this code,
//! so SQS does not reach its download (ARCHITECTURE.md, "One page per model").
//!
//! - [`model`]: the session (a document and its run at the page's time) and what the views show, plain Rust.
//! - [`explain`]: why a receive came back empty, why a group is blocked, why a message reached the DLQ.
//! - [`ops`]: send, receive, delete and change visibility by hand on the running document, plain Rust.
//! - [`workspaces`]: the page's workspaces in the shared store (`crate::persist::pages`, the bar in
//!   `crate::ws_bar`): the document, the page's time and the calls by hand.
//! - [`view`], [`ops_view`] and [`charts`]: the views (the forms and the messages received by hand in
//!   `ops_view`; each queue's counts over the run in `charts`).

pub mod charts;
pub mod explain;
pub mod model;
pub mod ops;
pub mod ops_view;
pub mod view;
pub mod workspaces;

/// Mounts the SQS page on `<body>`.
pub fn start() {
    #[cfg(target_arch = "wasm32")]
    yew::Renderer::<view::SqsApp>::with_props(view::SqsAppProps { doc: None }).render();
}
