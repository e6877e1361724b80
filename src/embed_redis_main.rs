//! Entry point of the Redis sandbox's wasm module (index.html's loader imports it for `?embed=1&model=redis`).
fn main() {
    brokerlab::start_embed_redis();
}
