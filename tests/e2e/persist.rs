//! Persistence end to end: durable state survives a real page reload (exactly the durable queues and
//! their persistent messages), and a reload in the middle of a burst of writes finds a consistent store.
//! Screenshots: `artifacts/e2e-persist-before.png`, `e2e-persist-after.png`, `e2e-persist-burst.png`.

use crate::harness::*;
use serde_json::{json, Value};

/// Reads the app's IndexedDB records (`meta`, the index and every workspace) as a JSON object.
const READ_STORE: &str = r#"
const done = arguments[arguments.length - 1];
const open = indexedDB.open('brokerlab');
open.onerror = () => done({error: String(open.error)});
open.onsuccess = () => {
  const db = open.result;
  const tx = db.transaction(['kv'], 'readonly');
  const store = tx.objectStore('kv');
  const keys = store.getAllKeys();
  const values = store.getAll();
  tx.oncomplete = () => {
    const out = {};
    keys.result.forEach((k, i) => { out[k] = values.result[i]; });
    db.close();
    done(out);
  };
};
"#;

fn store(page: &Page) -> Value {
    page.execute_async(READ_STORE, json!([]))
}

/// The stored document of the last workspace, parsed.
fn last_workspace(page: &Page) -> Value {
    let records = store(page);
    let index: Value = serde_json::from_str(records["workspaces"].as_str().expect("an index")).unwrap();
    let last = index["last"].as_str().expect("a last workspace").to_string();
    serde_json::from_str(records[format!("workspace/{last}")].as_str().expect("its record")).unwrap()
}

/// The stored bodies of a queue's messages.
fn stored_bodies(doc: &Value, queue: &str) -> Vec<String> {
    let queues = doc["image"]["queues"].as_array().cloned().unwrap_or_default();
    queues
        .iter()
        .find(|q| q["name"] == queue)
        .map(|q| {
            q["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["body"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn set_checked(page: &Page, css: &str, want: bool) {
    let checked = page.execute("return document.querySelector(arguments[0]).checked;", json!([css]));
    if checked.as_bool() != Some(want) {
        page.click(css);
    }
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    for _ in 0..100 {
        if ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("never happened: {what}");
}

fn declare(page: &Page, queue: &str, durable: bool) {
    page.click("#tab-queues");
    page.type_into("#queue-name", queue);
    set_checked(page, "#queue-durable", durable);
    page.click("#queue-declare");
    page.wait_text("#notice", &format!("queue '{queue}'"));
}

fn publish(page: &Page, queue: &str, persistent: bool, body: &str) {
    page.click("#tab-messages");
    page.type_into("#publish-exchange", "");
    page.type_into("#publish-key", queue);
    set_checked(page, "#publish-persistent", persistent);
    page.type_into("#publish-body", body);
    page.click("#publish");
    page.wait_text("#notice", &format!("with key '{queue}'"));
}

#[test]
fn a_reload_keeps_exactly_the_durable_queues_and_their_persistent_messages() {
    let browser = Browser::open("/");
    let page = &browser.page;
    page.wait_text("#ws-status", "Saved automatically");
    declare(page, "keep.q", true);
    declare(page, "lose.q", false);
    for q in ["keep.q", "lose.q"] {
        publish(page, q, true, &format!("{q} persistent"));
        publish(page, q, false, &format!("{q} transient"));
    }
    page.click("#tab-queues");
    page.wait_text("tr[data-queue='lose.q'] td.ready", "2");
    page.screenshot("e2e-persist-before.png");
    wait_until("the workspace is saved", || stored_bodies(&last_workspace(page), "keep.q").len() == 1);

    page.goto("/");
    page.wait_text("#ws-status", "Saved automatically");
    page.wait_text("#notice", "Opened workspace");
    page.click("#tab-queues");
    assert_eq!(page.wait_text("tr[data-queue='keep.q'] td.ready", "1"), "1");
    assert!(page.try_find("tr[data-queue='lose.q']").is_none(), "the transient queue is gone");
    let doc = last_workspace(page);
    assert_eq!(stored_bodies(&doc, "keep.q"), ["keep.q persistent"]);
    // The message itself, as the Messages tab shows it after a get.
    page.click("#tab-messages");
    page.click("#get-queue option[value='keep.q']");
    page.click("#get-mode option[value='ack']");
    page.click("#get");
    page.wait_text("#notice", "Got 1 message from 'keep.q'");
    assert_eq!(page.text("#message-body"), "keep.q persistent");
    page.screenshot("e2e-persist-after.png");
    assert!(page.console_errors().is_empty(), "console errors: {:?}", page.console_errors());
}

#[test]
fn a_reload_in_the_middle_of_a_burst_of_writes_finds_a_consistent_state() {
    let browser = Browser::open("/");
    let page = &browser.page;
    page.wait_text("#ws-status", "Saved automatically");
    declare(page, "burst", true);
    page.click("#tab-messages");
    page.type_into("#publish-key", "burst");
    set_checked(page, "#publish-persistent", true);
    // Publish m0, m1, … every few milliseconds and reload the page while that goes on.
    page.execute(
        r#"
        let i = 0;
        const body = document.querySelector('#publish-body');
        setInterval(() => {
          body.value = 'm' + i; i += 1;
          body.dispatchEvent(new Event('input', {bubbles: true}));
          document.querySelector('#publish').click();
        }, 3);
        setTimeout(() => location.reload(), 400);
        "#,
        json!([]),
    );
    std::thread::sleep(std::time::Duration::from_millis(600));
    page.wait_text("#ws-status", "Saved automatically");
    page.wait_text("#notice", "Opened workspace");
    // The store holds one whole save: readable records, the index pointing at its workspace, and the
    // messages of one instant: m0 … m(k-1), in order, without gaps.
    let records = store(page);
    assert_eq!(records["meta"].as_str(), Some("{\"schema\":1}"));
    let doc = last_workspace(page);
    let bodies = stored_bodies(&doc, "burst");
    let expected: Vec<String> = (0..bodies.len()).map(|i| format!("m{i}")).collect();
    assert_eq!(bodies, expected, "a prefix of the burst");
    assert!(!bodies.is_empty(), "some of the burst was saved before the reload");
    page.click("#tab-queues");
    let shown = page.text("tr[data-queue='burst'] td.ready");
    assert_eq!(shown, bodies.len().to_string(), "the page shows what the store holds");
    page.screenshot("e2e-persist-burst.png");
}

#[test]
fn a_permalink_opens_in_a_new_workspace_and_a_hostile_one_runs_nothing() {
    // A valid scenario whose name is markup: it must show as text.
    let (_, text) = brokerlab::scenarios::BUNDLED[0];
    let mut doc: Value = serde_json::from_str(text).unwrap();
    doc["name"] = json!("<img src=x onerror=\"document.title='pwned'\">Shared demo");
    let fragment = brokerlab::persist::permalink::encode(&doc.to_string());
    let browser = Browser::open(&format!("/#{fragment}"));
    let page = &browser.page;
    page.wait_text("#ws-status", "Saved automatically");
    let selected = page.execute(
        "const s = document.querySelector('#ws-select'); return s.options[s.selectedIndex].text;",
        json!([]),
    );
    assert_eq!(selected.as_str(), Some("Shared: <img src=x onerror=\"document.title='pwned'\">Shared demo"));
    assert!(
        page.try_find("#ws-select img").is_none() && page.try_find("img[src='x']").is_none(),
        "no markup"
    );
    assert_eq!(page.text("#clock"), "t = 0.000s", "loaded, not run");
    let hash = page.execute("return location.hash;", json!([]));
    assert_eq!(
        hash.as_str(),
        Some(""),
        "the fragment is consumed, so a reload does not add another workspace"
    );
    page.screenshot("e2e-persist-permalink.png");

    // Hostile links: a clear error, nothing loaded, the previous workspace stays.
    // (A query makes each address differ, so the browser loads the page instead of only moving to the hash.)
    let cut = &fragment[..fragment.len() / 2];
    for (i, (fragment, complaint)) in
        [("scenario=%%%%", "malformed"), (cut, "truncated")].into_iter().enumerate()
    {
        page.goto(&format!("/?hostile={i}#{fragment}"));
        page.wait_text("#ws-status", "Saved automatically");
        page.wait_text("#notice", complaint);
    }
    page.screenshot("e2e-persist-hostile.png");
    let title = page.execute("return document.title;", json!([]));
    assert_ne!(title.as_str(), Some("pwned"));
    let names = page
        .execute("return [...document.querySelectorAll('#ws-select option')].map(o => o.text);", json!([]));
    assert_eq!(names.as_array().map(Vec::len), Some(1), "no workspace was made by a hostile link: {names}");
}
