//! Brokerlab's web app (Yew): drives the broker engine and shows it. Owns nothing of broker semantics.
//!
//! Persistence ([`persist`]) sits behind a narrow trait so native tests use memory and the browser
//! IndexedDB.

pub mod app;
pub mod persist;

/// Mounts the app on `<body>`.
pub fn start() {
    #[cfg(target_arch = "wasm32")]
    yew::Renderer::<app::App>::new().render();
}
