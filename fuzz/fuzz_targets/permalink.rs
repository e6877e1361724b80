//! A permalink's fragment, decoded and (when it carries a document) opened as the page opens one.
#![no_main]
use brokerlab::persist::permalink;
use brokerlab::session::Session;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let fragment = String::from_utf8_lossy(bytes);
    if let Ok(Some(text)) = permalink::decode(&fragment) {
        let _ = Session::from_scenario(&text);
    }
});
