//! The scripting engine end to end: the page loads `lazy/` (the second wasm module) asynchronously and
//! only for a document with scripts; a failed load is a readable error that leaves the page as it was; a
//! scripted scenario from the picker then loads and plays to its end. Screenshot:
//! `artifacts/e2e-scripting.png`.
//!
//! Not checked here: a Content-Security-Policy without `unsafe-eval`. ChromeDriver lifts the page's
//! policy for the session (a `new Function` in a page script still runs under such a header), so a test
//! through WebDriver cannot tell; the loader simply has no `eval` or `new Function` (`src/scripting.rs`).

use crate::harness::*;
use serde_json::{json, Value};

/// The resources the page fetched from a `lazy/` folder (anywhere), by path.
fn lazy_requests(page: &Page) -> Vec<String> {
    let v = page.execute(
        "return performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)
           .filter((p) => p.includes('/lazy/'));",
        json!([]),
    );
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
}

/// Plays the loaded scenario at 1000× to its end; every check passes.
fn play_to_the_end(page: &Page) {
    page.click("#speed option[value='1000']");
    page.click("#play");
    let summary = page.wait_text("#checks-summary", " · 0 pending");
    assert!(summary.contains(" · 0 fail"), "every check passes: {summary}");
    page.wait_text("#notice", "Scenario ended at");
}

#[test]
fn the_scripting_engine_loads_only_for_scripts_and_a_failed_load_keeps_the_page() {
    let browser = Browser::open("/");
    let page = &browser.page;
    page.wait_text("header.app-header h1", "Brokerlab");

    // A scenario without scripts opens at once and fetches nothing from lazy/.
    page.click("#scenario option[value='02-work-queues']");
    page.wait_text("#notice", "Loaded scenario '2. Work queues'");
    page.click("#step");
    page.wait_text("#notice", "Stepped to");
    assert_eq!(lazy_requests(page), Vec::<String>::new(), "no scripts, no scripting engine");
    page.click("#tab-log");
    let log_count = page.wait_text("#log-count", "events");

    // The engine's files made unreachable (the page's base moved): the load fails with a sentence that
    // names the file, and the page keeps the scenario it had.
    page.execute(
        "const b = document.createElement('base'); b.id = 'e2e-base'; b.href = '/nowhere/';
         document.head.prepend(b);",
        json!([]),
    );
    page.click("#scenario option[value='09-poison-message']");
    let error = page.wait_text("#notice", "could not be loaded");
    assert!(error.contains("lazy/brokerlab_scripts.js"), "the file is named: {error}");
    assert!(error.contains("Nothing was opened"), "{error}");
    assert!(page.text("#scenario-name").contains("Work queues"), "the previous scenario stays");
    assert_eq!(page.text("#log-count"), log_count, "and its run");
    let _ = page.console_errors(); // the 404 of the failed import is logged; forget it

    // Back to the real base: a scripted scenario loads the engine (asynchronously) and plays.
    page.execute("document.getElementById('e2e-base').remove();", json!([]));
    page.click("#scenario option[value='08-retry-with-dlx']");
    page.wait_text("#notice", "Loaded scenario");
    page.wait_text("#scenario-name", "etry");
    assert_eq!(page.text("#clock"), "t = 0.000s", "a fresh run");
    let fetched = lazy_requests(page);
    for file in ["/lazy/brokerlab_scripts.js", "/lazy/brokerlab_scripts_bg.wasm"] {
        assert!(fetched.iter().any(|p| p == file), "{file} fetched: {fetched:?}");
    }
    play_to_the_end(page);
    page.screenshot("e2e-scripting.png");

    // Another scripted scenario reuses the loaded engine: nothing fetched again.
    page.click("#scenario option[value='09-poison-message']");
    page.wait_text("#notice", "Loaded scenario 'Poison message");
    assert_eq!(lazy_requests(page).len(), fetched.len(), "loaded once");
    play_to_the_end(page);
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}
