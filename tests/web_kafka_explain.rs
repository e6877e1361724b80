//! Browser test of the Kafka page's inspector (issue 17, points 2 and 3), rendered in headless Chromium:
//! a record clicked in its partition's row shows its key, value, offset, who read it and when its group
//! committed past it; "why this partition" shows the key's bytes, murmur2 and the modulo; Escape closes
//! it; "why this assignment" shows the range assignor's division; the rebalances are listed step by step
//! with their generations; a slow consumer's lag is explained by its rates.
#![cfg(target_arch = "wasm32")]

use brokerlab::kafka_page::model::bundled_text;
use brokerlab::kafka_page::view::{KafkaApp, KafkaAppProps};

/// The page opened on a bundled document, with its text as the page would have fetched it.
fn props(doc: &str) -> KafkaAppProps {
    KafkaAppProps {
        doc: Some(doc.to_string()),
        text: bundled_text(doc).map(String::from),
        ..KafkaAppProps::default()
    }
}
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod web_common;
use web_common::{find, root};

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

/// A key pressed with the focus on `target` (it bubbles, as a real key press does).
fn key_on(target: &web_sys::HtmlElement, name: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(name);
    init.set_bubbles(true);
    let e = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&e).unwrap();
}

fn key(name: &str) {
    let document = web_sys::window().unwrap().document().unwrap();
    key_on(&document.body().unwrap(), name);
}

#[wasm_bindgen_test]
async fn a_record_its_partition_the_assignment_and_the_rebalances_explained() {
    let root = root();
    yew::Renderer::<KafkaApp>::with_root_and_props(root.clone(), props("consumer-crash-rebalance")).render();
    settle().await;
    assert!(text(&root, "#kafka-inspect").contains("no records yet"));
    key("End");
    settle().await;

    // A keyed record: its detail, then why it is in payments-0.
    find(&root, "#record-payments-0-0").click();
    settle().await;
    let detail = text(&root, "#record-detail");
    assert!(detail.starts_with("Record payments-0@0"), "{detail}");
    assert!(text(&root, "#record-key").starts_with("\"account-"), "{detail}");
    assert!(text(&root, "#record-reads").contains("(ledger) at"), "{detail}");
    assert!(text(&root, "#record-commits").contains("group ledger at"), "{detail}");
    assert_eq!(count(&root, "#why-partition-steps"), 0, "closed until asked");
    find(&root, "#why-partition").click();
    settle().await;
    let steps = text(&root, "#why-partition-steps");
    assert!(steps.contains("StringSerializer") && steps.contains("murmur2"), "{steps}");
    assert!(steps.contains("mod 2 partitions = 0"), "{steps}");

    // Escape (from the focused button) closes the explanation.
    key_on(&find(&root, "#why-partition"), "Escape");
    settle().await;
    assert_eq!(count(&root, "#kafka-explain"), 0);

    // One member left after the crash: range gives it both partitions.
    find(&root, "#why-assignment-ledger").click();
    settle().await;
    let steps = text(&root, "#why-assignment-steps");
    assert!(steps.contains("payments: 2 partitions / 1 member = 2"), "{steps}");

    // The rebalances: the first generation gives each member one partition; later ones follow the crash.
    find(&root, "#rebalances-ledger").click();
    settle().await;
    assert!(count(&root, "#rebalance-list > li") >= 2, "{}", text(&root, "#rebalance-list"));
    let first = text(&root, "#rebalance-list > li:first-child");
    assert!(first.contains("eager") && first.contains("generation / group epoch 1"), "{first}");
    assert!(text(&root, "#rebalance-list").contains("revoked"), "the survivor gave its partition up first");
}

#[wasm_bindgen_test]
async fn a_slow_consumers_lag_is_explained_by_its_rates() {
    let root = root();
    yew::Renderer::<KafkaApp>::with_root_and_props(root.clone(), props("slow-consumer-lag")).render();
    settle().await;
    for _ in 0..8 {
        key("ArrowRight");
    }
    settle().await;
    find(&root, "#why-lag-analytics").click();
    settle().await;
    let verdict = text(&root, "#why-lag-verdict");
    assert!(verdict.contains("falls behind"), "{verdict}");
    assert!(text(&root, "#kafka-explain tbody").contains("clicks-0, clicks-1"));
    find(&root, "#why-lost").click();
    settle().await;
    assert!(text(&root, "#kafka-explain").contains("None so far"), "{}", text(&root, "#kafka-explain"));
    find(&root, "#kafka-explain-close").click();
    settle().await;
    assert_eq!(count(&root, "#kafka-explain"), 0);
}
