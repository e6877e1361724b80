//! Entry point of the Kafka sandbox's wasm module (index.html's loader imports it for `?embed=1&model=kafka`).
fn main() {
    brokerlab::start_embed_kafka();
}
