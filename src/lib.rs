//! Brokerlab's web app (Yew): drives the broker engine and shows it. Owns nothing of broker semantics.
//!
//! - [`session`]: the engine, the UI's AMQP connection and the event log, shared by `Rc<RefCell<…>>`.
//! - [`state`]: the one app state and its reducer ([`state::Action`]); plain Rust, tested natively.
//! - [`forms`], [`topology`], [`log_filter`]: the data behind forms, the graph layout and log filters.
//! - [`app`] and [`components`]: the page.
//! - [`embed`]: the compact embedded sandbox and its `postMessage` API.
//! - [`persist`]: a narrow key–value trait so native tests use memory and the browser IndexedDB.
//! - [`kafka_page`]: the Kafka page (its own wasm module, `src/kafka_main.rs`).
//! - [`sqs_page`]: the SQS page (its own wasm module, `src/sqs_main.rs`).
//! - [`redis_page`]: the Redis page (its own wasm module, `src/redis_main.rs`).
//! - [`shell`]: what every model's page shares of its shell (files, links, forwarding to another model's page).
//! - [`ws_bar`]: the Kafka and SQS pages' workspace bar (the store's side is [`persist::pages`]).
//! - [`scripting`]: the scripting engine (a second wasm module), loaded before a document with scripts.

pub mod app;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod bad_input;
pub mod components;
pub mod embed;
pub mod forms;
pub mod kafka_page;
pub mod log_filter;
pub mod persist;
pub mod player;
pub mod redis_page;
pub mod scenarios;
pub mod scripting;
pub mod session;
pub mod shell;
pub mod sqs_page;
pub mod state;
pub mod topology;
pub mod ws_bar;

/// Mounts the app on `<body>`, after installing a panic hook that keeps the page readable.
///
/// The embedded sandbox is its own wasm module ([`start_embed`], `src/embed_main.rs`), which index.html's
/// loader imports for `?embed=1`: this entry never references it, so the full page does not download
/// the embed's protocol and views, nor the embed the workspaces.
pub fn start() {
    #[cfg(target_arch = "wasm32")]
    {
        std::panic::set_hook(Box::new(report_panic));
        components::workspaces::enable_persistence(); // the page saves workspaces; test renders do not
        yew::Renderer::<app::App>::new().render();
    }
}

/// Mounts the embedded sandbox on `<body>` (the embed module's entry, `src/embed_main.rs`).
pub fn start_embed() {
    #[cfg(target_arch = "wasm32")]
    {
        std::panic::set_hook(Box::new(report_panic));
        yew::Renderer::<embed::EmbedApp>::new().render();
    }
}

/// Mounts the Kafka sandbox on `<body>` (the Kafka embed module's entry, `src/embed_kafka_main.rs`): a
/// module of its own, so neither the RabbitMQ sandbox nor the Kafka page carries the other's code.
pub fn start_embed_kafka() {
    #[cfg(target_arch = "wasm32")]
    {
        std::panic::set_hook(Box::new(report_panic));
        yew::Renderer::<embed::kafka_view::KafkaEmbedApp>::new().render();
    }
}

/// Mounts the SQS sandbox on `<body>` (the SQS embed module's entry, `src/embed_sqs_main.rs`): a module of
/// its own, so it carries only the SQS engine and no other sandbox or page carries it.
pub fn start_embed_sqs() {
    #[cfg(target_arch = "wasm32")]
    {
        std::panic::set_hook(Box::new(report_panic));
        yew::Renderer::<embed::sqs_view::SqsEmbedApp>::new().render();
    }
}

/// Mounts the Redis sandbox on `<body>` (the Redis embed module's entry, `src/embed_redis_main.rs`): a
/// module of its own, so it carries only the Redis engine and no other sandbox or page carries it.
pub fn start_embed_redis() {
    #[cfg(target_arch = "wasm32")]
    {
        std::panic::set_hook(Box::new(report_panic));
        yew::Renderer::<embed::redis_view::RedisEmbedApp>::new().render();
    }
}

/// A panic is a bug, but the page must not go blank: log it and show it as text at the top of the page.
#[cfg(target_arch = "wasm32")]
fn report_panic(info: &std::panic::PanicHookInfo<'_>) {
    let text =
        format!("Brokerlab hit an internal error and stopped: {info}. Reload the page to start again.");
    web_sys::console::error_1(&text.clone().into());
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    if let (Ok(div), Some(body)) = (document.create_element("div"), document.body()) {
        div.set_class_name("panic-notice");
        div.set_attribute("role", "alert").ok();
        div.set_text_content(Some(&text));
        let _ = body.prepend_with_node_1(&div);
    }
}
