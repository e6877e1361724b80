//! Browser test: real IndexedDB in headless Chromium (run by `cargo test --target wasm32-unknown-unknown`).
#![cfg(target_arch = "wasm32")]

use brokerlab::persist::idb::IdbStore;
use brokerlab::persist::KvStore;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn indexeddb_round_trip_survives_reopening() {
    // Fails (not skips) if IndexedDB is unavailable: open() returns an error and the test panics.
    let name = "brokerlab-test-roundtrip";
    IdbStore::delete_database(name).await.expect("delete test database");
    let store = IdbStore::open(name).await.expect("IndexedDB must be available");
    assert_eq!(store.get("workspace/1").await.unwrap(), None);
    let doc = r#"{"name":"tutorial 1","queues":["hello"]}"#;
    store.put("workspace/1", doc).await.expect("write");
    store.close();

    // A fresh connection reads what the first wrote: the value is really in the database.
    let reopened = IdbStore::open(name).await.expect("reopen");
    assert_eq!(reopened.get("workspace/1").await.unwrap().as_deref(), Some(doc));
    reopened.delete("workspace/1").await.expect("delete");
    assert_eq!(reopened.get("workspace/1").await.unwrap(), None);
    reopened.close();
}

#[wasm_bindgen_test]
fn runs_in_a_real_browser_with_indexeddb() {
    let window = web_sys::window().expect("a window: this test runs in Chromium, not node");
    let nav = window.navigator().user_agent().unwrap_or_default();
    web_sys::console::log_1(&format!("browser under test: {nav}").into());
    assert!(nav.contains("Chrome"), "expected Chromium, got {nav}");
    assert!(window.indexed_db().ok().flatten().is_some(), "IndexedDB is not available");
}
