//! Entry point of the Kafka page's wasm module (index.html's loader imports it for `?model=kafka`).
fn main() {
    brokerlab::kafka_page::start();
}
