//! The SQS page's calls by hand, by real key presses at 1280×720 and 1920×1080, on the dead-letter
//! tutorial's `payments-dlq` (a queue no consumer of the document polls): a message typed into the send
//! form and sent with Enter; received with Enter (VisibilityTimeout 30), listed with its receipt handle
//! and seen in flight with its visibility clock, which runs down as time moves by the keyboard; a delete
//! with a mistyped handle refused with SQS's ReceiptHandleIsInvalid text next to the handle field; the
//! message deleted from the list (its Delete button pressed with Enter); its visibility changed after
//! that, refused with MessageNotInflight; the calls kept over a rewind; saved as a workspace by Enter in
//! its name field and reopened after a reload (`?ws=`) at its time with the calls by hand (the same
//! receipt handle and visibility clock). Then the model pickers: the
//! RabbitMQ and Kafka pages list Amazon SQS and go to `?model=sqs`. Screenshots:
//! `artifacts/e2e-sqs-ops-*.png`.

use crate::harness::*;
use serde_json::json;

fn scroll_to(page: &Page, css: &str) {
    page.execute("document.querySelector(arguments[0]).scrollIntoView({block: 'center'});", json!([css]));
}

/// Gives the element the focus (as Tab would) and presses Enter there.
fn enter_on(page: &Page, css: &str) {
    page.execute("document.querySelector(arguments[0]).focus();", json!([css]));
    keys(page, &[KEY_ENTER]);
}

fn run_at(width: i64, height: i64) {
    let db = format!("e2esqs{width}");
    let b =
        Browser::open_sized(&format!("/?model=sqs&doc=dead-letter-queue-and-redrive&db={db}"), width, height);
    let page = &b.page;
    page.wait_text("#sqs-about h2", "dead-letter queue");
    page.wait_text("#sqs-clock", "0.000 s / 60.000 s");

    // Sent with Enter.
    scroll_to(page, "#sqs-op-send");
    page.type_keys("#sqs-op-send-queue", "payments-dlq");
    page.type_keys("#sqs-op-send-body", "order-42 by hand");
    page.press("#sqs-op-send-body", KEY_ENTER);
    page.wait_text("#sqs-op-send-done", "Sent to payments-dlq: MessageId ");
    page.wait_text("#queue-payments-dlq [data-count=visible]", "visible 1");

    // Received with Enter: listed with its receipt handle, in flight with its 30 s clock.
    scroll_to(page, "#sqs-op-receive");
    page.type_keys("#sqs-op-receive-queue", "payments-dlq");
    page.type_keys("#sqs-op-receive-visibility_timeout", "30");
    page.press("#sqs-op-receive-visibility_timeout", KEY_ENTER);
    page.wait_text("#sqs-op-receive-done", "Received 1 message from payments-dlq");
    page.wait_text("#queue-payments-dlq [data-count=in-flight]", "in flight 1");
    let row = page.wait_text("#sqs-hand-received .sqs-hand-msg", "order-42 by hand");
    assert!(row.contains("in flight · 30.0 s left") && row.contains("ReceiptHandle AQEB"), "{row}");
    let handle = page.execute(
        "return document.querySelector('#sqs-hand-received .sqs-hand-msg').dataset.handle;",
        json!([]),
    );
    let handle = handle.as_str().unwrap().to_string();
    assert!(handle.starts_with("AQEB") && handle.len() == 36, "{handle}");

    // Five seconds on with the keyboard: its clock ran down.
    blur(page);
    keys(page, &[KEY_RIGHT; 5]);
    page.wait_text("#sqs-clock", "5.000 s / 60.000 s");
    page.wait_text("#sqs-hand-received .sqs-hand-msg", "in flight · 25.0 s left");
    let fill = page.execute(
        "return document.querySelector('#sqs-hand-received .sqs-clock-fill').getAttribute('style');",
        json!([]),
    );
    assert_eq!(fill.as_str(), Some("width:83.3%"), "25 s of the 30 s clock left");
    scroll_to(page, "#sqs-hand-received");
    page.assert_in_view("#sqs-hand-received .sqs-hand-msg", "the message received by hand");
    page.screenshot(&format!("e2e-sqs-ops-in-flight-{width}.png"));

    // A mistyped handle: SQS's refusal next to the handle field.
    scroll_to(page, "#sqs-op-delete");
    page.type_keys("#sqs-op-delete-queue", "payments-dlq");
    page.type_keys("#sqs-op-delete-receipt_handle", "AQEB-typo");
    page.press("#sqs-op-delete-receipt_handle", KEY_ENTER);
    let error = page.wait_text("#sqs-op-delete-receipt_handle-error", "ReceiptHandleIsInvalid");
    assert_eq!(
        error,
        "An error occurred (ReceiptHandleIsInvalid) when calling the DeleteMessage operation: The input receipt \
         handle 'AQEB-typo' is not a valid receipt handle."
    );
    page.assert_in_view("#sqs-op-delete-receipt_handle-error", "the error next to the handle field");
    page.screenshot(&format!("e2e-sqs-ops-refused-{width}.png"));

    // Deleted from the list, its Delete button pressed with Enter.
    enter_on(page, "#sqs-hand-received .sqs-hand-delete");
    page.wait_text("#sqs-op-delete-done", "Deleted \"order-42 by hand\" from payments-dlq");
    assert!(page.try_find("#sqs-op-delete-receipt_handle-error").is_none(), "the error is gone");
    page.wait_text("#queue-payments-dlq [data-count=in-flight]", "in flight 0");
    page.wait_text("#sqs-hand-received .sqs-hand-msg", "gone");

    // Its visibility changed afterwards: the button fills the form and gives the timeout field the
    // focus; typed and sent with Enter, refused with MessageNotInflight.
    enter_on(page, "#sqs-hand-received .sqs-hand-visibility");
    let focused = page.execute("return document.activeElement.id;", json!([]));
    assert_eq!(focused.as_str(), Some("sqs-op-visibility-visibility_timeout"));
    assert_eq!(page.value("#sqs-op-visibility-receipt_handle"), handle);
    keys(page, &['6', '0', KEY_ENTER]);
    let error = page.wait_text("#sqs-op-visibility-receipt_handle-error", "MessageNotInflight");
    assert!(
        error.ends_with("Message does not exist or is not available for visibility timeout change."),
        "{error}"
    );
    page.assert_in_view("#sqs-op-visibility-receipt_handle-error", "the error next to the handle field");
    page.screenshot(&format!("e2e-sqs-ops-deleted-{width}.png"));

    // Rewound to 0 with the keyboard, then forward: the calls are kept at their instants (sent and
    // received at 0 s, the same receipt handle; deleted at 5 s).
    blur(page);
    keys(page, &[KEY_HOME]);
    page.wait_text("#sqs-clock", "0.000 s / 60.000 s");
    page.wait_text("#queue-payments-dlq [data-count=in-flight]", "in flight 1");
    page.wait_text("#sqs-hand-received .sqs-hand-msg", "in flight · 30.0 s left");
    let again = page.execute(
        "return document.querySelector('#sqs-hand-received .sqs-hand-msg').dataset.handle;",
        json!([]),
    );
    assert_eq!(again.as_str(), Some(handle.as_str()), "the same receipt handle");
    keys(page, &[KEY_RIGHT; 6]);
    page.wait_text("#sqs-clock", "6.000 s / 60.000 s");
    page.wait_text("#queue-payments-dlq [data-count=in-flight]", "in flight 0");
    page.wait_text("#sqs-hand-received .sqs-hand-msg", "gone");

    // Saved as a workspace by Enter in its name, back at 3 s (in flight, 27 s left); reopened after a
    // reload with the calls by hand at their instants: the same receipt handle, the same clock.
    keys(page, &[KEY_LEFT; 3]);
    page.wait_text("#sqs-clock", "3.000 s / 60.000 s");
    page.type_keys("#sqs-ws-name", "Payments by hand");
    page.press("#sqs-ws-name", KEY_ENTER);
    page.wait_text("#sqs-ws-status", "Saved workspace 'Payments by hand'");
    page.goto(&format!("/?model=sqs&db={db}&ws=w1"));
    page.wait_text("#sqs-clock", "3.000 s / 60.000 s");
    page.wait_text("#sqs-about h2", "dead-letter queue");
    page.wait_text("#queue-payments-dlq [data-count=in-flight]", "in flight 1");
    let row = page.wait_text("#sqs-hand-received .sqs-hand-msg", "in flight · 27.0 s left");
    assert!(row.contains("order-42 by hand"), "{row}");
    let reopened = page.execute(
        "return document.querySelector('#sqs-hand-received .sqs-hand-msg').dataset.handle;",
        json!([]),
    );
    assert_eq!(reopened.as_str(), Some(handle.as_str()), "the same receipt handle after the reload");
    assert_eq!(page.value("#sqs-ws-name"), "Payments by hand");
    page.screenshot(&format!("e2e-sqs-ws-reopened-{width}.png"));
    // The delete at 5 s is kept too: forward with the keyboard, the message is gone.
    blur(page);
    keys(page, &[KEY_RIGHT; 3]);
    page.wait_text("#sqs-clock", "6.000 s / 60.000 s");
    page.wait_text("#sqs-hand-received .sqs-hand-msg", "gone");
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn sqs_ops_at_1280x720() {
    run_at(1280, 720);
}

#[test]
fn sqs_ops_at_1920x1080() {
    run_at(1920, 1080);
}

#[test]
fn the_rabbitmq_and_kafka_pickers_go_to_the_sqs_page() {
    let b = Browser::open_sized("/", 1280, 720);
    let page = &b.page;
    page.wait_text("header.app-header", "Scenario");
    page.click("#model-picker option[value='sqs']");
    page.wait_text("#sqs-about h2", "the visibility timeout");
    let search = page.execute("return location.search;", json!([]));
    assert_eq!(search.as_str(), Some("?model=sqs"));
    let options = page.execute(
        "return [...document.querySelectorAll('#model-picker option')].map(o => o.value).join(' ');",
        json!([]),
    );
    assert_eq!(options.as_str(), Some("rabbitmq kafka sqs redis"), "the SQS page's picker lists all four");
    page.click("#model-picker option[value='kafka']");
    page.wait_text("#kafka-about h2", "quickstart");
    page.click("#model-picker option[value='sqs']");
    page.wait_text("#sqs-about h2", "the visibility timeout");
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}
