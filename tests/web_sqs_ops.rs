//! Browser test of the SQS page's calls by hand (headless Chromium), the panel rendered alone on the
//! dead-letter tutorial: a message sent to `payments-dlq` and received, listed with its receipt handle in
//! flight; a mistyped handle refused with SQS's ReceiptHandleIsInvalid text next to the handle field (the
//! field marked invalid and described by the error); the message deleted from the list.
#![cfg(target_arch = "wasm32")]

use brokerlab::sqs_page::model::SqsSession;
use brokerlab::sqs_page::ops_view::{HandPanel, HandPanelProps, SessionRef};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::Callback;

wasm_bindgen_test_configure!(run_in_browser);

mod web_common;
use web_common::{find, root};

/// Yew's renders, then 40 ms for the rest of the page's reaction.
async fn settle() {
    web_common::settle_and_pause(40).await;
}

async fn type_value(root: &web_sys::Element, css: &str, value: &str) {
    let input: web_sys::HtmlInputElement = find(root, css).dyn_into().unwrap();
    input.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input.dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
    settle().await;
}

async fn submit(root: &web_sys::Element, form: &str) {
    find(root, &format!("#sqs-op-{form}-submit")).click();
    settle().await;
}

fn text(root: &web_sys::Element, css: &str) -> String {
    find(root, css).text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn send_receive_a_refused_delete_and_a_delete_from_the_list() {
    let session = Rc::new(RefCell::new(SqsSession::bundled("dead-letter-queue-and-redrive").unwrap()));
    session.borrow_mut().seek(1_000);
    let root = root();
    yew::Renderer::<HandPanel>::with_root_and_props(
        root.clone(),
        HandPanelProps { session: SessionRef(Rc::clone(&session)), version: 0, on_done: Callback::noop() },
    )
    .render();
    settle().await;
    let queue: web_sys::HtmlInputElement = find(&root, "#sqs-op-send-queue").dyn_into().unwrap();
    assert_eq!(queue.value(), "payments", "the first queue by name");
    type_value(&root, "#sqs-op-send-queue", "payments-dlq").await;
    type_value(&root, "#sqs-op-send-body", "by hand").await;
    submit(&root, "send").await;
    assert!(text(&root, "#sqs-op-send-done").starts_with("Sent to payments-dlq: MessageId "));
    type_value(&root, "#sqs-op-receive-queue", "payments-dlq").await;
    submit(&root, "receive").await;
    assert_eq!(text(&root, "#sqs-op-receive-done"), "Received 1 message from payments-dlq");
    let row = text(&root, "#sqs-hand-received .sqs-hand-msg");
    assert!(row.contains("by hand") && row.contains("in flight · 30.0 s left"), "{row}");

    type_value(&root, "#sqs-op-delete-queue", "payments-dlq").await;
    type_value(&root, "#sqs-op-delete-receipt_handle", "nope").await;
    submit(&root, "delete").await;
    assert_eq!(
        text(&root, "#sqs-op-delete-receipt_handle-error"),
        "An error occurred (ReceiptHandleIsInvalid) when calling the DeleteMessage operation: The input receipt \
         handle 'nope' is not a valid receipt handle."
    );
    let field = find(&root, "#sqs-op-delete-receipt_handle");
    assert_eq!(field.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(
        field.get_attribute("aria-describedby").as_deref(),
        Some("sqs-op-delete-receipt_handle-error")
    );

    find(&root, "#sqs-hand-received .sqs-hand-delete").click();
    settle().await;
    assert_eq!(text(&root, "#sqs-op-delete-done"), "Deleted \"by hand\" from payments-dlq");
    assert!(root.query_selector("#sqs-op-delete-receipt_handle-error").unwrap().is_none());
    assert!(text(&root, "#sqs-hand-received .sqs-hand-msg").contains("gone"));
    assert_eq!(session.borrow().ops.len(), 3);
}
