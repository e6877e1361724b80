//! Browser test of the Kafka page's operation forms (headless Chromium): a topic with a bad name is
//! refused with Kafka's InvalidTopicException text next to the name field (and the field marked
//! invalid); fixed, it is created; a keyed record typed into the produce form lands at its key's
//! partition; resetting an active group's offsets is refused with kafka-consumer-groups' rule, an
//! inactive one's moves.
#![cfg(target_arch = "wasm32")]

use brokerlab::kafka_page::model::KafkaSession;
use brokerlab::kafka_page::ops_view::{OpsPanel, OpsPanelProps};
use brokerlab::ws_bar::SessionRef;
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
    find(root, &format!("#kafka-op-{form}-submit")).click();
    settle().await;
}

fn text(root: &web_sys::Element, css: &str) -> String {
    find(root, css).text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn create_a_topic_fix_its_name_produce_by_key_and_reset_offsets() {
    let session = Rc::new(RefCell::new(KafkaSession::bundled("quickstart").unwrap()));
    session.borrow_mut().seek(1_000);
    let root = root();
    yew::Renderer::<OpsPanel>::with_root_and_props(
        root.clone(),
        OpsPanelProps {
            session: SessionRef(Rc::clone(&session)),
            on_done: Callback::noop(),
            version: 0,
            open: Some(true),
        },
    )
    .render();
    settle().await;
    type_value(&root, "#kafka-op-create-name", "orders!").await;
    type_value(&root, "#kafka-op-create-partitions", "3").await;
    submit(&root, "create").await;
    let error = text(&root, "#kafka-op-create-name-error");
    assert!(error.starts_with("InvalidTopicException: Topic name is invalid: 'orders!'"), "{error}");
    let name = find(&root, "#kafka-op-create-name");
    assert_eq!(name.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(name.get_attribute("aria-describedby").as_deref(), Some("kafka-op-create-name-error"));
    type_value(&root, "#kafka-op-create-name", "orders").await;
    submit(&root, "create").await;
    assert!(root.query_selector("#kafka-op-create-name-error").unwrap().is_none(), "the error is gone");
    assert_eq!(
        text(&root, "#kafka-op-create-done"),
        "Created topic orders with 3 partition(s), replication factor 1"
    );
    assert_eq!(session.borrow().partitions().iter().filter(|p| p.topic == "orders").count(), 3);

    type_value(&root, "#kafka-op-produce-topic", "orders").await;
    type_value(&root, "#kafka-op-produce-key", "customer-42").await;
    type_value(&root, "#kafka-op-produce-value", "paid").await;
    submit(&root, "produce").await;
    let p = broker_core::kafka::partitioner::partition_for_key(b"customer-42", 3);
    assert_eq!(text(&root, "#kafka-op-produce-done"), format!("Wrote the record to orders-{p} at offset 0"));
    type_value(&root, "#kafka-op-produce-acks", "2").await;
    submit(&root, "produce").await;
    assert_eq!(text(&root, "#kafka-op-produce-acks-error"), "acks is 0, 1 or all, not '2'");

    // The console consumer's group is Stable at the end: its offsets stay.
    session.borrow_mut().seek(20_000);
    type_value(&root, "#kafka-op-reset-group", "console-consumer-group").await;
    type_value(&root, "#kafka-op-reset-topic", "quickstart-events").await;
    submit(&root, "reset").await;
    assert_eq!(
        text(&root, "#kafka-op-reset-group-error"),
        "Assignments can only be reset if the group 'console-consumer-group' is inactive, but the current state is \
         Stable."
    );
    type_value(&root, "#kafka-op-reset-group", "audit").await;
    type_value(&root, "#kafka-op-reset-to", "shift-by:x").await;
    submit(&root, "reset").await;
    assert_eq!(text(&root, "#kafka-op-reset-to-error"), "'x' is not a whole number");
    type_value(&root, "#kafka-op-reset-to", "latest").await;
    submit(&root, "reset").await;
    assert_eq!(
        text(&root, "#kafka-op-reset-done"),
        "Reset group audit's offsets of quickstart-events: quickstart-events-0: 10"
    );
}
