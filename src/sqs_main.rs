//! Entry point of the SQS page's wasm module (index.html's loader imports it for `?model=sqs`).
fn main() {
    brokerlab::sqs_page::start();
}
