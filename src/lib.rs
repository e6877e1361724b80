//! Brokerlab's web app (Yew): drives the broker engine and shows it. Owns nothing of broker semantics.

pub mod app;

/// Mounts the app on `<body>`.
pub fn start() {
    #[cfg(target_arch = "wasm32")]
    yew::Renderer::<app::App>::new().render();
}
