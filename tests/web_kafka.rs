//! Browser test of the Kafka page's views, rendered in headless Chromium: the clock moved by the keyboard
//! (→, ←, End, Home), the cluster view (a broker taken down by a click leaves the ISR and loses its
//! leadership; brought back by a second click), the log strips, the consumer groups with their
//! assignments and lag (the first generation after the initial rebalance delay), the lag chart over the whole run, and the quickstart tutorial's checks turning
//! green at its end.
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
use web_common::{find, root, until};

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

/// A key pressed on the page (the document listens, as with a keyboard and nothing focused).
fn key(name: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(name);
    init.set_bubbles(true);
    let e = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    let document = web_sys::window().unwrap().document().unwrap();
    document.body().unwrap().dispatch_event(&e).unwrap();
}

/// The partition table's cells of the first partition: (leader, ISR).
fn leader_and_isr(root: &web_sys::Element) -> (String, String) {
    let cells = root.query_selector_all("#kafka-cluster tbody tr:first-child td").unwrap();
    let cell = |i: u32| cells.item(i).and_then(|n| n.text_content()).unwrap_or_default();
    (cell(1), cell(4))
}

#[wasm_bindgen_test]
async fn cluster_logs_groups_lag_and_the_quickstart_checks() {
    let root = root();
    yew::Renderer::<KafkaApp>::with_root_and_props(root.clone(), props("replicas-broker-down")).render();
    settle().await;
    assert_eq!(text(&root, "#kafka-clock"), "0.000 s / 40.000 s");
    assert_eq!(count(&root, ".kafka-broker"), 3, "three brokers");
    let mut isr: Vec<String> = leader_and_isr(&root).1.split(", ").map(str::to_string).collect();
    isr.sort();
    assert_eq!(isr, ["1", "2", "3"], "every replica in sync at 0");

    // Two seconds on with the keyboard; records are in the log, read by the group's member.
    key("ArrowRight");
    key("ArrowRight");
    settle().await;
    assert_eq!(text(&root, "#kafka-clock"), "2.000 s / 40.000 s");
    assert!(text(&root, "#log-ledger-0").contains("high watermark 2"), "{}", text(&root, "#log-ledger-0"));
    // The classic group waits group.initial.rebalance.delay.ms (3 s) before its first generation.
    let group = text(&root, "#group-readers");
    assert!(group.contains("PreparingRebalance") && group.contains("generation 0"), "{group}");

    // The leader taken down by a click: a new leader, the ISR shrinks.
    let (leader, _) = leader_and_isr(&root);
    find(&root, &format!("#broker-{leader}-toggle")).click();
    settle().await;
    assert!(find(&root, &format!("#broker-{leader}")).class_name().contains("down"));
    let (new_leader, isr) = leader_and_isr(&root);
    assert_ne!(new_leader, leader, "a new leader");
    key("ArrowRight");
    settle().await;
    let (_, isr_later) = leader_and_isr(&root);
    assert!(
        !isr_later.split(", ").any(|b| b == leader),
        "the ISR lost broker {leader}: {isr} then {isr_later}"
    );
    assert_eq!(count(&root, &format!("#broker-{leader} .replica")), 1, "its replica stays drawn");
    assert_eq!(count(&root, &format!("#broker-{leader} .replica.out")), 1, "out of the ISR");

    // Back before the click (←): the broker is up; and a second click brings it back later on.
    key("Home");
    settle().await;
    assert_eq!(text(&root, "#kafka-clock"), "0.000 s / 40.000 s");
    assert!(!find(&root, &format!("#broker-{leader}")).class_name().contains("down"));
    key("End");
    settle().await;
    assert!(find(&root, &format!("#broker-{leader}")).class_name().contains("down"), "the click is kept");
    let group = text(&root, "#group-readers");
    assert!(group.contains("Stable") && group.contains("generation 1"), "{group}");
    assert_eq!(text(&root, "#group-readers .kafka-members .chip"), "ledger-0", "the member's assignment");
    find(&root, &format!("#broker-{leader}-toggle")).click();
    settle().await;
    assert!(!find(&root, &format!("#broker-{leader}")).class_name().contains("down"));

    // The lag chart has one line per partition of the group.
    assert_eq!(count(&root, "#kafka-lag polyline.lag-line"), 1);
    assert!(text(&root, "#kafka-lag").contains("readers: ledger-0"));
}

#[wasm_bindgen_test]
async fn the_quickstart_tutorial_is_played_to_its_checks() {
    let root = root();
    yew::Renderer::<KafkaApp>::with_root_and_props(root.clone(), props("quickstart")).render();
    settle().await;
    assert!(text(&root, "#kafka-about h2").contains("quickstart"));
    assert_eq!(text(&root, "#kafka-checks h2"), "Checks: 0 passed, 0 failed, 5 to come");
    // Play with the button; the clock moves.
    find(&root, "#kafka-play").click();
    let start = "0.000 s / 20.000 s";
    until(
        "playing to move the clock",
        || (text(&root, "#kafka-clock") != start).then_some(()),
        || text(&root, "#kafka-clock"),
    )
    .await;
    find(&root, "#kafka-play").click();
    settle().await;
    // To the end with the keyboard: every check passed, the lag is 0.
    key("End");
    settle().await;
    assert_eq!(text(&root, "#kafka-checks h2"), "Checks: 5 passed, 0 failed, 0 to come");
    assert_eq!(text(&root, "#group-console-consumer-group td.lag-value"), "0");
    assert!(text(&root, "#log-quickstart-events-0").contains("log end 10"));
}
