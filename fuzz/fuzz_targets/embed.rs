//! An embed message (JSON, as `postMessage` delivers it), classified and validated.
#![no_main]
use brokerlab::embed::protocol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(data) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let _ = protocol::parse(&data);
    }
});
