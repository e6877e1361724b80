//! Entry point of the web app: mounts the Yew root component.
fn main() {
    brokerlab::start();
}
