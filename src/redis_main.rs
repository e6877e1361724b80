//! Entry point of the Redis page's wasm module (index.html's loader imports it for `?model=redis`).
fn main() {
    brokerlab::redis_page::start();
}
