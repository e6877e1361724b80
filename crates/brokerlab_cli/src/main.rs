//! `brokerlab`: runs a scenario file on the engine and prints the transcript (or `--json`).

fn main() {
    eprintln!("brokerlab: the runner is not written yet");
    std::process::exit(2);
}
