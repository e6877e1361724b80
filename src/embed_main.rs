//! Entry point of the embedded sandbox's wasm module (index.html's loader imports it for `?embed=1`).
fn main() {
    brokerlab::start_embed();
}
