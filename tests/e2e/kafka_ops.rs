//! The Kafka page's operation forms and workspaces, by real key presses at 1280×720 and 1920×1080: a
//! topic with a bad name typed and submitted with Enter is refused with Kafka's InvalidTopicException
//! next to the name field; fixed, it is created; a keyed record typed into the produce form lands at its
//! partition; a group's offsets are reset (refused while the group is active, with kafka-consumer-groups'
//! rule); the page saved as a workspace by Enter in its name field, reopened after a reload with the
//! topic the form created. Screenshots: `artifacts/e2e-kafka-ops-*.png`.

use crate::harness::*;
use serde_json::json;

fn scroll_to(page: &Page, css: &str) {
    page.execute("document.querySelector(arguments[0]).scrollIntoView({block: 'center'});", json!([css]));
}

fn run_at(width: i64, height: i64) {
    let db = format!("e2eops{width}");
    let b = Browser::open_sized(&format!("/?model=kafka&db={db}"), width, height);
    let page = &b.page;
    page.wait_text("#kafka-about h2", "quickstart");

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
