//! The Kafka page: its own wasm module (`brokerlab_kafka`, built from `src/kafka_main.rs`), which the
//! page's loader (index.html) imports for `?model=kafka`; the RabbitMQ page's module never references
//! this code, so Kafka does not reach its download (ARCHITECTURE.md, "One page per model").
//!
//! - [`model`]: the session (a document, the learner's faults, the run at the page's time), plain Rust.
//! - [`view`]: the views.
//! - [`ops`]: the forms' operations; [`op_json`] reads them back from a workspace.

pub mod explain;
pub mod explain_view;
pub mod model;
mod op_json;
pub mod ops;
pub mod ops_view;
pub mod view;
pub mod workspaces;

/// Mounts the Kafka page on `<body>`, on the document the address asks for (`?doc=`): the quickstart at
/// once (the module carries it); another bundled document once its text is fetched from the served app
/// (`model::Bundled::file`), or, when that fails, the quickstart with the failure said as a refusal.
pub fn start() {
    #[cfg(target_arch = "wasm32")]
    {
        use view::{KafkaApp, KafkaAppProps};
        let mount = |props: KafkaAppProps| yew::Renderer::<KafkaApp>::with_props(props).render();
        let doc = view::initial_doc();
        if doc.id == model::BUNDLED[0].id {
            mount(KafkaAppProps { from_address: true, ..KafkaAppProps::default() });
            return;
        }
        wasm_bindgen_futures::spawn_local(async move {
            let props = match crate::shell::fetch_text(&doc.file()).await {
                Ok(text) => KafkaAppProps {
                    doc: Some(doc.id.to_string()),
                    text: Some(text),
                    from_address: true,
                    refusal: None,
                },
                Err(e) => KafkaAppProps {
                    from_address: true,
                    refusal: Some(format!(
                        "The document '{}' could not be fetched ({e}): the quickstart is shown instead. \
                         Reload the page to try again.",
                        doc.title
                    )),
                    ..KafkaAppProps::default()
                },
            };
            mount(props);
        });
    }
}
