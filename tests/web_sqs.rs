//! Browser test of the SQS page's views, rendered in headless Chromium: the visibility-timeout tutorial
//! moved by the keyboard (→, End, Home), a queue's visible / in-flight / delayed counts and an in-flight
//! message's visibility clock, the graph, the job processed twice, the checks turning green at the end,
//! an empty receive explained; then the FIFO tutorial's groups as lanes with a blocked one explained, and
//! the dead-letter tutorial's DLQ edge.
#![cfg(target_arch = "wasm32")]

use brokerlab::sqs_page::view::{SqsApp, SqsAppProps};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod web_common;
use web_common::{find, root, text_with};

/// Yew's renders, then 40 ms for the rest of the page's reaction.
async fn settle() {
    web_common::settle_and_pause(40).await;
}

fn text(root: &web_sys::Element, css: &str) -> String {
    find(root, css).text_content().unwrap_or_default().trim().to_string()
}

fn count(root: &web_sys::Element, css: &str) -> u32 {
    root.query_selector_all(css).unwrap().length()
}

fn key(name: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(name);
    init.set_bubbles(true);
    let e = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    let document = web_sys::window().unwrap().document().unwrap();
    document.body().unwrap().dispatch_event(&e).unwrap();
}

fn render(doc: &str) -> web_sys::Element {
    let root = root();
    yew::Renderer::<SqsApp>::with_root_and_props(root.clone(), SqsAppProps { doc: Some(doc.to_string()) })
        .render();
    root
}

#[wasm_bindgen_test]
async fn the_visibility_timeout_tutorial_shows_the_clock_running_out_and_the_job_done_twice() {
    let root = render("visibility-timeout");
    settle().await;
    assert_eq!(text(&root, "#sqs-clock"), "0.000 s / 100.000 s");
    assert_eq!(count(&root, ".sqs-node"), 2, "two queues in the graph");
    assert_eq!(text(&root, "#queue-jobs [data-count=in-flight]"), "in flight 0");

    for _ in 0..20 {
        key("ArrowRight");
    }
    settle().await;
    assert_eq!(text(&root, "#sqs-clock"), "20.000 s / 100.000 s");
    assert_eq!(text(&root, "#queue-jobs [data-count=in-flight]"), "in flight 1");
    assert_eq!(text(&root, "#queue-jobs [data-count=visible]"), "visible 0");
    let msg = text(&root, "#queue-jobs .sqs-msg");
    assert!(
        msg.contains("resize-photo-1")
            && msg.contains("in flight · 10.0 s left")
            && msg.contains("received 1×"),
        "{msg}"
    );
    let fill = find(&root, "#queue-jobs .sqs-clock-fill").get_attribute("style").unwrap_or_default();
    assert_eq!(fill, "width:33.3%", "10 s of the 30 s clock left");
    assert!(text(&root, "#sqs-twice").contains("Processed more than once: 0"));

    key("End");
    settle().await;
    assert_eq!(text(&root, "#sqs-clock"), "100.000 s / 100.000 s");
    let twice = text(&root, "#sqs-twice");
    assert!(twice.contains("resize-photo-1 processed") && twice.contains("worker-a, worker-b"), "{twice}");
    assert!(text(&root, "#sqs-checks h2").starts_with("Checks: 6 passed, 0 failed, 0 to come"));

    // careful-b's first long poll (10 s → 30 s) came back empty: careful-a held the job in flight.
    let buttons = root.query_selector_all(".sqs-why-empty").unwrap();
    let b = (0..buttons.length())
        .filter_map(|i| buttons.item(i))
        .map(wasm_bindgen::JsCast::unchecked_into::<web_sys::HtmlElement>)
        .find(|b| b.text_content().unwrap_or_default() == "careful-b 30.0 s")
        .expect("careful-b's empty receive at 30 s");
    b.click();
    settle().await;
    let why = text(&root, "#sqs-explanation");
    assert!(why.contains("waited 20 s") && why.contains("1 message was in flight"), "{why}");

    key("Home");
    settle().await;
    assert_eq!(text(&root, "#sqs-clock"), "0.000 s / 100.000 s");
    assert!(text(&root, "#sqs-twice").contains("Processed more than once: 0"));
}

#[wasm_bindgen_test]
async fn fifo_lanes_a_blocked_group_and_the_dead_letter_edge() {
    let root = render("fifo-order-and-deduplication");
    settle().await;
    key("ArrowRight");
    settle().await;
    assert!(count(&root, ".sqs-lane") >= 1, "message groups as lanes");
    let blocked = find(&root, ".sqs-lane.blocked");
    assert!(blocked.text_content().unwrap_or_default().contains("blocked"));
    find(&root, ".sqs-lane.blocked .sqs-why-group").click();
    settle().await;
    let why = text(&root, "#sqs-explanation");
    assert!(why.contains("is in flight") && why.contains("A FIFO queue delivers"), "{why}");

    let root = render("dead-letter-queue-and-redrive");
    settle().await;
    for _ in 0..39 {
        key("ArrowRight");
    }
    text_with(&root, "#sqs-clock", "39.000 s /").await;
    assert_eq!(count(&root, ".sqs-dlq-link"), 1);
    // An SVG group, not an HTML element: read its text directly.
    let link = root
        .query_selector(".sqs-dlq-link")
        .unwrap()
        .expect("the DLQ edge")
        .text_content()
        .unwrap_or_default();
    assert!(link.contains("> 3 receives · moved 1"), "{link}");
    // The label sits clear of both boxes (it was clipped by them: "ceives · mo").
    let label = root.query_selector(".sqs-dlq-link text").unwrap().expect("the DLQ edge's label");
    let l = label.get_bounding_client_rect();
    assert!(l.width() > 0.0, "the label is laid out");
    let boxes = root.query_selector_all(".sqs-node rect").unwrap();
    assert!(boxes.length() >= 2);
    for i in 0..boxes.length() {
        let b = boxes.get(i).unwrap().dyn_into::<web_sys::Element>().unwrap().get_bounding_client_rect();
        let apart =
            l.right() <= b.left() || b.right() <= l.left() || l.bottom() <= b.top() || b.bottom() <= l.top();
        assert!(
            apart,
            "the label ({}–{}) overlaps a queue's box ({}–{})",
            l.left(),
            l.right(),
            b.left(),
            b.right()
        );
    }
    assert!(text(&root, "#queue-payments .sqs-dlq-edge").contains("payments-dlq after 3 receives · moved 1"));
    find(&root, ".sqs-why-dlq").click();
    settle().await;
    assert!(text(&root, "#sqs-explanation").contains("maxReceiveCount=3"));
}
