//! Browser tests of stream queues and direct reply-to on the RabbitMQ page (issue 18): the queue form's
//! Type list and its stream arguments, RabbitMQ's refusal shown as the page shows others, and "Consume
//! from a stream" from "first" with its deliveries listed by offset, the log drawn in the Messages tab,
//! the inspector and the graph; RPC through `amq.rabbitmq.reply-to` on the page's channel with RabbitMQ's
//! refusals — the whole app rendered by Yew in headless Chromium, driven through the real DOM.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod web_common;
use web_common::{click, el, find, root, select, settle, text_with, type_value};

#[wasm_bindgen_test]
async fn a_stream_is_declared_refused_published_to_and_read_from_first_by_offset() {
    let root = root();
    yew::Renderer::<brokerlab::app::App>::with_root(root.clone()).render();
    settle().await;
    click(&root, "#tab-queues").await;

    // Exclusive: RabbitMQ's refusal, word for word, as the page shows refusals.
    type_value(&root, "#queue-name", "events").await;
    select(&root, "#queue-type", "stream").await;
    click(&root, "#queue-exclusive").await;
    click(&root, "#queue-declare").await;
    text_with(
        &root,
        "#notice",
        "406 PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 'events' in vhost '/'",
    )
    .await;

    // The stream's own arguments come from the Type's shortcuts.
    click(&root, "#queue-exclusive").await;
    let shortcuts = text_with(&root, "#queue-arg-shortcuts", "x-max-age").await;
    assert!(shortcuts.contains("x-stream-max-segment-size-bytes"), "{shortcuts}");
    click(&root, "#queue-arg-add-x-max-age").await;
    assert_eq!(
        find(&root, "#queue-arg-key-0").dyn_into::<web_sys::HtmlInputElement>().unwrap().value(),
        "x-max-age"
    );
    type_value(&root, "#queue-arg-value-0", "7D").await;
    click(&root, "#queue-declare").await;
    text_with(&root, "#notice", "Declared: queue 'events'").await;
    let table = text_with(&root, "#tab-panel", "stream").await;
    assert!(table.contains("x-max-age"), "{table}");

    // Three messages, then a consumer from "first" with a prefetch of 2.
    click(&root, "#tab-messages").await;
    type_value(&root, "#publish-key", "events").await;
    for body in ["e0", "e1", "e2"] {
        type_value(&root, "#publish-body", body).await;
        click(&root, "#publish").await;
        text_with(&root, "#notice", "Published").await;
    }
    let log = text_with(&root, "#stream-chosen", "offsets 0–2").await;
    assert!(log.contains("e2"), "{log}");
    select(&root, "#stream-offset", "first").await;
    type_value(&root, "#stream-prefetch", "2").await;
    click(&root, "#stream-consume").await;
    text_with(&root, "#notice", "x-stream-offset \"first\"").await;
    let reads = text_with(&root, "#stream-reads-1", "offset 1").await;
    assert!(reads.contains("offset 0") && !reads.contains("offset 2"), "the prefetch is the credit: {reads}");
    text_with(&root, "#stream-reader-1", "reads offset 2 next").await;
    click(&root, "#stream-ack-1").await;
    text_with(&root, "#stream-reads-1", "offset 2").await;
    text_with(&root, "#stream-chosen", "waits for offset 3").await;

    // The graph draws the stream's log with the reader's mark, and the inspector its cells.
    let node =
        root.query_selector("g.node.queue[aria-label^='queue events']").unwrap().expect("the stream's node");
    assert!(node.text_content().unwrap().contains("stream · offsets 0–2"));
    assert_eq!(node.query_selector_all(".stream-strip .log-cell").unwrap().length(), 3);
    assert_eq!(node.query_selector_all(".stream-strip .reader-mark").unwrap().length(), 1);
    click(&root, "#tab-queues").await;
    let button =
        root.query_selector("button[data-select-queue='events'], tr[data-queue='events'] button").unwrap();
    if let Some(b) = button {
        b.dyn_into::<web_sys::HtmlElement>().unwrap().click();
    } else {
        let click = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &{
            let init = web_sys::MouseEventInit::new();
            init.set_bubbles(true);
            init
        })
        .unwrap();
        node.dispatch_event(&click).unwrap();
    }
    settle().await;
    for offset in 0..3 {
        el(&root, &format!("#inspector-stream-cell-{offset}")).await;
    }
    text_with(&root, ".inspector", "waits for offset 3").await;
}

#[wasm_bindgen_test]
async fn a_request_published_with_direct_reply_to_gets_its_reply_on_the_pages_channel() {
    let root = root();
    yew::Renderer::<brokerlab::app::App>::with_root(root.clone()).render();
    settle().await;
    click(&root, "#tab-queues").await;
    type_value(&root, "#queue-name", "requests").await;
    click(&root, "#queue-declare").await;
    text_with(&root, "#notice", "Declared: queue 'requests'").await;

    // Before the page consumes amq.rabbitmq.reply-to, and with manual acks: RabbitMQ's refusals.
    click(&root, "#tab-messages").await;
    text_with(&root, "#reply-to-state", "No reply consumer").await;
    type_value(&root, "#publish-key", "requests").await;
    type_value(&root, "#publish-reply-to", "amq.rabbitmq.reply-to").await;
    type_value(&root, "#publish-correlation-id", "1").await;
    type_value(&root, "#publish-body", "what time is it?").await;
    click(&root, "#publish").await;
    text_with(&root, "#notice", "406 PRECONDITION_FAILED - fast reply consumer does not exist").await;
    click(&root, "#reply-consume-ack").await;
    text_with(&root, "#notice", "406 PRECONDITION_FAILED - reply consumer cannot acknowledge").await;

    // No-ack: the request leaves with the consumer's key in reply_to.
    click(&root, "#reply-consume").await;
    text_with(&root, "#reply-to-state", "Consuming amq.rabbitmq.reply-to as 'amq.ctag-").await;
    click(&root, "#publish").await;
    text_with(&root, "#notice", "Published to exchange '' with key 'requests'").await;
    let key = find(&root, "#reply-to-state code").text_content().unwrap();
    assert!(key.starts_with("amq.rabbitmq.reply-to."), "{key}");
    click(&root, "#get").await;
    text_with(&root, "#message-detail", &key).await;

    // The page answers as the server: the default exchange, the key as routing key.
    type_value(&root, "#publish-key", &key).await;
    type_value(&root, "#publish-reply-to", "").await;
    type_value(&root, "#publish-body", "noon").await;
    click(&root, "#publish").await;
    let replies = text_with(&root, "#reply-list", "noon").await;
    assert!(replies.contains("correlation_id=1"), "{replies}");

    click(&root, "#reply-cancel").await;
    text_with(&root, "#notice", "basic.cancel-ok").await;
    text_with(&root, "#reply-to-state", "No reply consumer").await;
}
