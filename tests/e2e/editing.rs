//! Editing end to end: the scenario document edited with a syntax error (shown at its line, the line
//! marked in the gutter) then fixed and run; a script error at its line; `definitions.json` exported
//! (the real download path) and imported back through the file picker in a fresh browser, and a bad
//! file refused with its line; messages moved between queues; the lineage of a dead-lettered message.
//! Screenshots: `artifacts/e2e-editing-*.png`.

use crate::harness::*;
use serde_json::{json, Value};

/// Replaces a code editor's text as typing would (sets the value, fires `input`); returns the old text.
fn set_editor(page: &Page, css: &str, text: &str) -> String {
    let old = page.execute(
        "const t = document.querySelector(arguments[0]); const old = t.value; t.value = arguments[1];
         t.dispatchEvent(new Event('input', {bubbles: true})); return old;",
        json!([css, text]),
    );
    old.as_str().expect("a textarea").to_string()
}

fn editor_text(page: &Page, css: &str) -> String {
    page.execute("return document.querySelector(arguments[0]).value;", json!([css]))
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The line number marked as an error in the gutter of the editor that holds `css`, if any.
fn marked_line(page: &Page, css: &str) -> Value {
    page.execute(
        "const ln = document.querySelector(arguments[0]).parentElement.querySelector('.gutter .ln.error');
         return ln ? ln.dataset.line : null;",
        json!([css]),
    )
}

#[test]
fn editing_a_scenario_shows_errors_at_their_line_and_a_fix_runs() {
    let browser = Browser::open("/");
    let page = &browser.page;
    page.wait_text("header.app-header h1", "Brokerlab");
    page.click("#scenario option[value='08-retry-with-dlx']");
    page.wait_text("#notice", "Loaded scenario");
    page.click("#tab-scenario");
    page.find("#scenario-text");

    // A missing comma after "seed": JSON reports it where the next key starts, on the next line.
    let original = editor_text(page, "#scenario-text");
    let seed_line = original.lines().position(|l| l.trim_start().starts_with("\"seed\"")).unwrap() + 1;
    let broken = original.replacen("\"seed\": 8,", "\"seed\": 8", 1);
    assert_ne!(broken, original);
    set_editor(page, "#scenario-text", &broken);
    page.wait_text("#scenario-edited", "edited");
    page.click("#scenario-apply");
    let expected = seed_line + 1;
    let error = page.wait_text("#scenario-error", "line");
    assert!(error.starts_with(&format!("line {expected}, column ")), "error: {error}");
    assert_eq!(marked_line(page, "#scenario-text"), json!(expected.to_string()), "the gutter marks it");
    assert_eq!(editor_text(page, "#scenario-text"), broken, "the text is kept as typed");
    page.wait_text("#notice", &format!("cannot be loaded: {expected}:"));
    page.screenshot("e2e-editing-error.png");

    // A real Tab key press indents instead of leaving the editor.
    let id = page.find("#scenario-text");
    post(&format!("{}/element/{id}/value", page.s), json!({"text": "\u{E004}"}));
    let after_tab = editor_text(page, "#scenario-text");
    assert_eq!(after_tab.len(), broken.len() + 2, "two spaces inserted");
    let focused = page.execute("return document.activeElement.id;", json!([]));
    assert_eq!(focused, json!("scenario-text"));

    // Fixed (the duration shortened too, to see the edit take effect): it loads and runs to its end.
    let fixed = original.replacen("\"duration\": \"15s\"", "\"duration\": \"12s\"", 1);
    assert_ne!(fixed, original);
    set_editor(page, "#scenario-text", &fixed);
    page.click("#scenario-apply");
    page.wait_text("#notice", "Loaded scenario");
    assert!(page.try_find("#scenario-error").is_none(), "the error is gone");
    page.click("#speed option[value='1000']");
    page.click("#play");
    let summary = page.wait_text("#checks-summary", "0 pending");
    assert!(summary.contains("· 0 fail"), "every check passes: {summary}");
    assert!(page.text(".scenario-time").ends_with("of 12.000s"), "{}", page.text(".scenario-time"));
    page.screenshot("e2e-editing-fixed.png");

    // A script with a syntax error on its line 2: shown there; fixed, it goes into the document.
    page.click("#script-select option[value='fail-first-attempt']");
    page.find("#script-text");
    let script = editor_text(page, "#script-text");
    let lines: Vec<&str> = script.lines().collect();
    let broken_script = format!("{}\n  let = ;\n{}", lines[0], lines[1..].join("\n"));
    set_editor(page, "#script-text", &broken_script);
    page.click("#script-apply");
    let error = page.wait_text("#script-error", "line");
    assert!(error.starts_with("line 2, column "), "script error: {error}");
    assert_eq!(marked_line(page, "#script-text"), json!("2"));
    page.screenshot("e2e-editing-script.png");
    set_editor(page, "#script-text", &script.replacen("second attempt", "2nd attempt", 1));
    page.click("#script-apply");
    page.wait_text("#notice", "Loaded scenario");
    assert!(editor_text(page, "#scenario-text").contains("2nd attempt"), "the document holds the script");
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn editing_definitions_round_trip_moving_messages_and_lineage() {
    let browser = Browser::open("/");
    let page = &browser.page;
    page.wait_text("header.app-header h1", "Brokerlab");
    page.click("#load-example");
    page.wait_text("#notice", "Loaded the example");

    // Export through the real download path; the blob handed to the link is the file.
    page.execute(
        "window.__downloads = [];
         const create = URL.createObjectURL;
         URL.createObjectURL = (blob) => { window.__blob = blob; return create(blob); };
         HTMLAnchorElement.prototype.click = function () { window.__downloads.push(this.download); };",
        json!([]),
    );
    page.click("#tab-scenario");
    page.click("#definitions-export");
    page.wait_text("#notice", "Exported the broker's definitions as definitions.json");
    assert_eq!(page.execute("return window.__downloads;", json!([])), json!(["definitions.json"]));
    let exported = page.execute_async(
        "const done = arguments[arguments.length - 1]; window.__blob.text().then(done);",
        json!([]),
    );
    let exported = exported.as_str().expect("the file's text").to_string();
    let definitions: Value = serde_json::from_str(&exported).expect("valid JSON");
    assert_eq!(definitions["queues"].as_array().map(Vec::len), Some(4), "{exported}");
    assert!(exported.contains("\"x-dead-letter-exchange\": \"orders.dlx\""));

    // Import it back into a fresh broker (another browser) through the file picker.
    let file = std::env::temp_dir().join(format!("brokerlab-e2e-definitions-{}.json", std::process::id()));
    std::fs::write(&file, &exported).unwrap();
    {
        let fresh = Browser::open("/");
        let other = &fresh.page;
        other.wait_text("header.app-header h1", "Brokerlab");
        other.click("#tab-scenario");
        // A bad file first (pasted): refused at its line, nothing declared.
        let bad = exported.replacen("\"durable\": true", "\"durable\": \"yes\"", 1);
        let bad_line = bad.lines().position(|l| l.contains("\"yes\"")).unwrap() + 1;
        set_editor(other, "#definitions-paste", &bad);
        other.click("#definitions-import");
        let error = other.wait_text("#definitions-error", "line");
        assert!(error.starts_with(&format!("line {bad_line}, column ")), "error: {error}");
        assert!(other.text("#notice").contains("nothing changed"));
        assert!(!other.text("#topology").contains("orders.dead"), "nothing declared");
        other.screenshot("e2e-editing-definitions-error.png");
        other.type_into("#definitions-file", file.to_str().unwrap());
        other.wait_text("#notice", "Imported definitions.json: 3 exchanges, 4 queues, 5 bindings");
        other.wait_text("#topology", "orders.dead");
        other.screenshot("e2e-editing-imported.png");
    }
    let _ = std::fs::remove_file(&file);

    // Move the two messages of orders.eu to a new queue (the shovel declares it).
    page.click("#tab-messages");
    page.click("#move-source option[value='orders.eu']");
    page.type_into("#move-destination", "orders.eu.archive");
    page.click("#move");
    page.wait_text("#notice", "Moved 2 messages from 'orders.eu' to 'orders.eu.archive'");
    page.click("#tab-queues");
    page.wait_text("tr[data-queue='orders.eu.archive'] td.ready", "2");
    assert_eq!(page.text("tr[data-queue='orders.eu'] td.ready"), "0");
    page.click("#tab-messages");
    page.click("#get-queue option[value='orders.eu.archive']");
    page.click("#get-mode option[value='nack-requeue']");
    page.click("#get");
    let lineage = page.wait_text("#lineage", "moved by a shovel");
    assert!(lineage.contains("on queue 'orders.eu.archive'"), "{lineage}");
    page.execute("document.querySelector('#move-form').scrollIntoView();", json!([]));
    page.screenshot("e2e-editing-move.png");

    // A dead-lettered message's lineage: rejected from orders.us into orders.dead, then requeued there
    // and taken again (redelivered).
    page.click("#get-queue option[value='orders.us']");
    page.click("#get-mode option[value='reject']");
    page.click("#get");
    page.wait_text("#notice", "Got 1 message from 'orders.us'");
    page.click("#get-queue option[value='orders.dead']");
    page.click("#get-mode option[value='nack-requeue']");
    page.click("#get");
    page.wait_text("#notice", "Got 1 message from 'orders.dead'");
    page.click("#get");
    let lineage = page.wait_text("#lineage", "redelivered=true");
    let kinds = page.execute(
        "return [...document.querySelectorAll('#lineage li.step .kind')].map(k => k.textContent);",
        json!([]),
    );
    let kinds: Vec<&str> = kinds.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    // The publish fanned out to audit.log too (one identity, two queue copies).
    let order = [
        "published",
        "routed",
        "enqueued",
        "enqueued",
        "delivered",
        "rejected",
        "dead lettered",
        "routed",
        "enqueued",
        "delivered",
        "nacked",
        "requeued",
        "delivered",
        "nacked",
        "requeued",
    ];
    assert_eq!(kinds, order, "lineage: {lineage}");
    assert!(lineage.contains("from queue 'orders.us' (rejected) -> exchange 'orders.dlx'"), "{lineage}");
    page.wait_text("#x-death", "rejected");
    page.execute("document.querySelector('#lineage').scrollIntoView();", json!([]));
    page.screenshot("e2e-editing-lineage.png");
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}
