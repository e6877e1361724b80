//! Browser test of editing: the Scenario tab's code editors (gutter, Tab, located errors), definitions
//! import from the paste box, and on the Messages tab moving messages and a message's lineage — the whole
//! app rendered by Yew in headless Chromium, driven through the real DOM.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod web_common;
use web_common::{el, find, root, text_with};

/// Yew's renders, then 20 ms for the rest of the page's reaction.
async fn settle() {
    web_common::settle_and_pause(20).await;
}

fn text(root: &web_sys::Element, css: &str) -> String {
    find(root, css).text_content().unwrap_or_default()
}

fn textarea(root: &web_sys::Element, css: &str) -> web_sys::HtmlTextAreaElement {
    find(root, css).dyn_into().unwrap()
}

/// Sets a field's value as typing would and fires `input` (what the components listen to).
fn type_value(root: &web_sys::Element, css: &str, value: &str) {
    let el = find(root, css);
    if let Some(t) = el.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        t.set_value(value);
    } else if let Some(i) = el.dyn_ref::<web_sys::HtmlInputElement>() {
        i.set_value(value);
    }
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    el.dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
}

fn select(root: &web_sys::Element, css: &str, value: &str) {
    let el: web_sys::HtmlSelectElement = find(root, css).dyn_into().unwrap();
    el.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    el.dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
}

#[wasm_bindgen_test]
async fn the_scenario_editor_marks_the_error_line_keeps_the_text_and_applies_a_fix() {
    let root = root();
    yew::Renderer::<brokerlab::app::App>::with_root(root.clone()).render();
    settle().await;
    el(&root, "#tab-scenario").await.click();
    settle().await;
    // Manual mode: the editor holds a document of the current broker, one gutter number per line.
    let document = textarea(&root, "#scenario-text").value();
    assert!(document.contains("\"brokerlab\": 2"), "{document}");
    let editor = root.query_selector(".code-editor").unwrap().expect("the document's editor comes first");
    let gutter_lines = editor.query_selector_all(".gutter .ln").unwrap().length();
    assert_eq!(gutter_lines as usize, document.split('\n').count());

    // A syntax error on line 3: the error names it, the gutter marks it, the text stays as typed.
    let broken = document.replacen("\"name\":", "\"name\" ", 1);
    let line = broken.lines().position(|l| l.contains("\"name\" ")).unwrap() + 1;
    type_value(&root, "#scenario-text", &broken);
    settle().await;
    assert!(root.query_selector("#scenario-edited").unwrap().is_some(), "shown as edited");
    el(&root, "#scenario-apply").await.click();
    settle().await;
    let error = text_with(&root, "#scenario-error", "line").await;
    assert!(error.starts_with(&format!("line {line}, column ")), "{error}");
    let marked = el(&root, ".gutter .ln.error").await.get_attribute("data-line").unwrap();
    assert_eq!(marked, line.to_string());
    assert_eq!(textarea(&root, "#scenario-text").value(), broken, "nothing lost");
    assert!(text(&root, "#notice").contains("cannot be loaded"));

    // Tab inserts spaces where the caret is.
    let area = textarea(&root, "#scenario-text");
    area.focus().unwrap();
    area.set_selection_range(0, 0).unwrap();
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Tab");
    init.set_bubbles(true);
    init.set_cancelable(true);
    let tab = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    area.dispatch_event(&tab).unwrap();
    settle().await;
    assert!(tab.default_prevented(), "focus stays in the editor");
    assert_eq!(textarea(&root, "#scenario-text").value(), format!("  {broken}"));

    // Fixed: the run loads from the text (a scenario now, with its name in the title).
    let fixed = document.replacen("From the current broker", "Edited in the browser", 1);
    type_value(&root, "#scenario-text", &fixed);
    settle().await;
    el(&root, "#scenario-apply").await.click();
    settle().await;
    assert!(root.query_selector("#scenario-error").unwrap().is_none());
    text_with(&root, "#notice", "Loaded scenario 'Edited in the browser'").await;
    assert!(text(&root, ".scenario-editor h3").contains("Edited in the browser"));
}

#[wasm_bindgen_test]
async fn definitions_import_moving_messages_and_lineage() {
    let root = root();
    yew::Renderer::<brokerlab::app::App>::with_root(root.clone()).render();
    settle().await;
    el(&root, "#tab-scenario").await.click();
    settle().await;
    // A bad file: located, nothing declared.
    let bad = "{\"queues\": [\n  {\"name\": \"jobs\", \"durable\": true, \"auto_delete\": false,\n   \"arguments\": {\"x-max-length\": \"ten\"}}]}";
    type_value(&root, "#definitions-paste", bad);
    settle().await;
    el(&root, "#definitions-import").await.click();
    settle().await;
    let error = text_with(&root, "#definitions-error", "line").await;
    assert!(error.contains("queues[0] 'jobs'"), "{error}");
    assert!(error.starts_with("line 2, column "), "{error}");
    // A good one: a queue with a dead-letter exchange and its dead-letter queue.
    let good = r#"{"queues": [
  {"name": "jobs", "durable": true, "auto_delete": false,
   "arguments": {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "jobs.dead"}},
  {"name": "jobs.dead", "durable": true, "auto_delete": false, "arguments": {}},
  {"name": "jobs.retry", "durable": true, "auto_delete": false, "arguments": {}}
]}"#;
    type_value(&root, "#definitions-paste", good);
    settle().await;
    el(&root, "#definitions-import").await.click();
    settle().await;
    text_with(&root, "#notice", "3 queues").await;
    assert!(root.query_selector("#definitions-error").unwrap().is_none());

    // Publish two messages, reject the first: it is dead-lettered.
    el(&root, "#tab-messages").await.click();
    settle().await;
    for body in ["first", "second"] {
        type_value(&root, "#publish-key", "jobs");
        settle().await;
        type_value(&root, "#publish-body", body);
        settle().await;
        el(&root, "#publish").await.click();
        settle().await;
    }
    select(&root, "#get-queue", "jobs");
    select(&root, "#get-mode", "reject");
    settle().await;
    el(&root, "#get").await.click();
    settle().await;
    let lineage = text_with(&root, "#lineage", "dead lettered").await;
    assert!(lineage.contains("enqueue m1 on queue 'jobs.dead'"), "{lineage}");

    // Move what is left in jobs (the second message) to jobs.retry.
    select(&root, "#move-source", "jobs");
    type_value(&root, "#move-destination", "jobs.retry");
    settle().await;
    el(&root, "#move").await.click();
    settle().await;
    let notice = text_with(&root, "#notice", "Moved").await;
    assert!(notice.starts_with("Moved 1 message from 'jobs' to 'jobs.retry'"), "{notice}");
    select(&root, "#get-queue", "jobs.retry");
    select(&root, "#get-mode", "ack");
    settle().await;
    el(&root, "#get").await.click();
    settle().await;
    text_with(&root, "#message-body", "second").await;
    let lineage = text_with(&root, "#lineage", "a copy of m2, moved by a shovel").await;
    let steps = root.query_selector_all("#lineage li.step").unwrap().length();
    assert!(steps >= 8, "original and copy: {lineage}");
    // A message never delivered (unroutable: dropped) is found by its id; its lineage stands alone.
    type_value(&root, "#publish-key", "nowhere");
    settle().await;
    el(&root, "#publish").await.click();
    settle().await;
    type_value(&root, "#lineage-id", "m4");
    settle().await;
    el(&root, "#lineage-show").await.click();
    let alone = text_with(&root, "#lineage-alone", "drop m4 (unroutable)").await;
    assert!(alone.contains("publish m4"), "{alone}");
}
