//! Entry point of the SQS sandbox's wasm module (index.html's loader imports it for `?embed=1&model=sqs`).
fn main() {
    brokerlab::start_embed_sqs();
}
