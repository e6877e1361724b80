//! The Kafka page: its own wasm module (`brokerlab_kafka`, built from `src/kafka_main.rs`), which the
//! page's loader (index.html) imports for `?model=kafka`; the RabbitMQ page's module never references
//! this code, so Kafka does not reach its download (ARCHITECTURE.md, "One page per model").
//!
//! - [`model`]: the session (a document, the learner's faults, the run at the page's time), plain Rust.
//! - [`view`]: the views.

pub mod explain;
pub mod explain_view;
pub mod model;
pub mod ops;
pub mod ops_view;
pub mod view;
pub mod workspaces;

/// Mounts the Kafka page on `<body>`.
pub fn start() {
    #[cfg(target_arch = "wasm32")]
    yew::Renderer::<view::KafkaApp>::with_props(view::KafkaAppProps { doc: None }).render();
}
