//! A stored workspace or workspace file, reopened as the page reopens one (replayed to its position).
#![no_main]
use broker_core::VirtualTime;
use brokerlab::persist::workspace::WorkspaceDoc;
use brokerlab::session::Session;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(doc) = WorkspaceDoc::from_json(&String::from_utf8_lossy(bytes)) else { return };
    let _ = match (&doc.scenario, &doc.image) {
        // The page replays in frames; here in one loop, each call bounded like a frame.
        (Some(text), _) => Session::from_scenario(text).map(|mut session| {
            while !session.run_until(VirtualTime::from_millis(doc.virtual_millis), 100_000) {}
            session
        }),
        (None, Some(image)) => Session::from_durable_image(image, 42),
        (None, None) => Ok(Session::new(42)),
    };
});
