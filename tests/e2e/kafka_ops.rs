//! The Kafka page's operation forms and workspaces, by real key presses at 1280×720 and 1920×1080: a
//! topic with a bad name typed and submitted with Enter is refused with Kafka's InvalidTopicException
//! next to the name field; fixed, it is created; a keyed record typed into the produce form lands at its
//! partition; a group's offsets are reset (refused while the group is active, with kafka-consumer-groups'
//! rule); the page saved as a workspace by Enter in its name field, reopened after a reload with the
//! topic the form created. At 1280×720 the Operate panel starts folded (the groups in view) and is
//! unfolded with Tab and Enter. Screenshots: `artifacts/e2e-kafka-ops-*.png`.

use crate::harness::*;
use serde_json::json;

fn scroll_to(page: &Page, css: &str) {
    page.execute("document.querySelector(arguments[0]).scrollIntoView({block: 'center'});", json!([css]));
}

fn expanded(page: &Page) -> String {
    let v = page.execute(
        "return document.querySelector('#kafka-ops-toggle').getAttribute('aria-expanded');",
        json!([]),
    );
    v.as_str().unwrap_or_default().to_string()
}

/// The Operate panel starts folded on a laptop's 720 px (the groups and lag stay in view) and open on a
/// taller window; unfolded here from the keyboard: Tab reaches its heading's button, Enter opens it.
pub(crate) fn open_operate(page: &Page, height: i64) {
    if height >= 900 {
        assert_eq!(expanded(page), "true", "open from the start on a tall window");
        return;
    }
    assert_eq!(expanded(page), "false", "folded at {height} px");
    assert!(page.try_find("#kafka-op-create-name").is_none_or(|_| {
        page.execute(
            "return document.querySelector('#kafka-op-create-name').offsetParent === null;",
            json!([]),
        ) == json!(true)
    }));
    page.assert_in_view("#kafka-groups", "the groups above the fold with the panel folded");
    // Tab from the top of the page, through the header's and the left column's controls.
    blur(page);
    for _ in 0..200 {
        let on = page.execute("return document.activeElement && document.activeElement.id;", json!([]));
        if on == json!("kafka-ops-toggle") {
            break;
        }
        keys(page, &['\u{E004}']);
    }
    let on = page.execute("return document.activeElement && document.activeElement.id;", json!([]));
    assert_eq!(on, json!("kafka-ops-toggle"), "Tab reaches the Operate panel's button");
    keys(page, &[KEY_ENTER]);
    for _ in 0..100 {
        if expanded(page) == "true" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(expanded(page), "true", "Enter unfolds it");
    page.find("#kafka-op-create-name");
}

fn run_at(width: i64, height: i64) {
    let db = format!("e2eops{width}");
    let path = format!("/?model=kafka&db={db}");
    let b = Browser::open_sized(&path, width, height);
    let page = &b.page;
    // Loaded again at its size: the Operate panel folds or not by the window's height at load.
    page.goto(&path);
    page.wait_text("#kafka-about h2", "quickstart");
    if height < 900 {
        page.screenshot(&format!("e2e-kafka-ops-folded-{width}.png"));
    }
    open_operate(page, height);

    // A bad topic name, typed and submitted with Enter: Kafka's refusal next to the field.
    scroll_to(page, "#kafka-op-create");
    page.type_keys("#kafka-op-create-name", "orders!");
    page.type_keys("#kafka-op-create-partitions", "3");
    page.press("#kafka-op-create-partitions", KEY_ENTER);
    let error = page.wait_text("#kafka-op-create-name-error", "InvalidTopicException");
    assert!(error.starts_with("InvalidTopicException: Topic name is invalid: 'orders!'"), "{error}");
    page.assert_in_view("#kafka-op-create-name-error", "the error next to the name field");
    page.screenshot(&format!("e2e-kafka-ops-bad-name-{width}.png"));
    // Fixed: created, the error gone.
    page.type_keys("#kafka-op-create-name", "orders");
    page.press("#kafka-op-create-name", KEY_ENTER);
    page.wait_text("#kafka-op-create-done", "Created topic orders with 3 partition(s)");
    assert!(page.try_find("#kafka-op-create-name-error").is_none());

    // A keyed record, typed.
    scroll_to(page, "#kafka-op-produce");
    page.type_keys("#kafka-op-produce-topic", "orders");
    page.type_keys("#kafka-op-produce-key", "customer-42");
    page.type_keys("#kafka-op-produce-value", "paid");
    page.press("#kafka-op-produce-value", KEY_ENTER);
    let said = page.wait_text("#kafka-op-produce-done", "Wrote the record to orders-");
    assert!(said.ends_with("at offset 0"), "{said}");
    page.wait_text("#kafka-logs", "orders-");
    page.screenshot(&format!("e2e-kafka-ops-produced-{width}.png"));

    // Reset offsets: the console consumer's group is Stable at the end; an inactive group's move.
    page.execute("document.activeElement && document.activeElement.blur();", json!([]));
    post(
        &format!("{}/actions", page.s),
        json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": "\u{E010}"}, {"type": "keyUp", "value": "\u{E010}"}]}]}),
    );
    let _ = ureq::delete(&format!("{}/actions", page.s)).call();
    page.wait_text("#kafka-clock", "20.000 s / 20.000 s");
    scroll_to(page, "#kafka-op-reset");
    page.type_keys("#kafka-op-reset-group", "console-consumer-group");
    page.type_keys("#kafka-op-reset-topic", "quickstart-events");
    page.press("#kafka-op-reset-topic", KEY_ENTER);
    page.wait_text(
        "#kafka-op-reset-group-error",
        "Assignments can only be reset if the group 'console-consumer-group' is inactive, but the current state is Stable.",
    );
    page.type_keys("#kafka-op-reset-group", "audit");
    page.type_keys("#kafka-op-reset-to", "shift-by:-3");
    page.press("#kafka-op-reset-to", KEY_ENTER);
    page.wait_text("#kafka-op-reset-to-error", "Cannot shift offset for partition quickstart-events-0");
    page.type_keys("#kafka-op-reset-to", "latest");
    page.press("#kafka-op-reset-to", KEY_ENTER);
    page.wait_text(
        "#kafka-op-reset-done",
        "Reset group audit's offsets of quickstart-events: quickstart-events-0: 10",
    );
    page.screenshot(&format!("e2e-kafka-ops-reset-{width}.png"));

    // Saved as a workspace by Enter in its name; reopened after a reload, with the topic.
    page.type_keys("#kafka-ws-name", "Orders by hand");
    page.press("#kafka-ws-name", KEY_ENTER);
    page.wait_text("#kafka-ws-status", "Saved workspace 'Orders by hand'");
    page.goto(&format!("/?model=kafka&db={db}&ws=w1"));
    page.wait_text("#kafka-clock", "20.000 s / 20.000 s");
    page.wait_text("#kafka-logs", "orders-");
    page.screenshot(&format!("e2e-kafka-ops-reopened-{width}.png"));
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn kafka_ops_at_1280x720() {
    run_at(1280, 720);
}

#[test]
fn kafka_ops_at_1920x1080() {
    run_at(1920, 1080);
}
