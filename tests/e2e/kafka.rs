//! The Kafka page in the browser (issue 17), opened by `?model=kafka` from the same index.html as the
//! RabbitMQ page, at 1280×720 and 1920×1080: the quickstart tutorial played with the keyboard until its
//! checks pass and the lag is 0; a broker taken down by a click (the ISR shrinks, a new leader), scrubbed
//! back before the click and brought back; the model picker switching pages both ways. Each page fetched
//! only its own model's module. A document reaches its model's page from either page's Import or link
//! (a Kafka document on the RabbitMQ page, a RabbitMQ document on the Kafka page), and the Kafka page's
//! share link carries the brokers taken down. Screenshots: `artifacts/e2e-kafka-*.png`.

use crate::harness::*;
use serde_json::json;
use std::time::Duration;

/// The wasm and JS files the page fetched (Resource Timing).
fn fetched(page: &Page) -> Vec<String> {
    let v = page.execute(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)
                .filter(p => p.endsWith('.wasm') || p.endsWith('.js'));",
        json!([]),
    );
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap_or("").to_string()).collect()
}

fn first_partition(page: &Page) -> (String, String) {
    let v = page.execute(
        "const c = document.querySelectorAll('#kafka-cluster tbody tr:first-child td');
         return [c[1].textContent, c[4].textContent];",
        json!([]),
    );
    (v[0].as_str().unwrap().to_string(), v[1].as_str().unwrap().to_string())
}

fn run_at(width: i64, height: i64) {
    let b = Browser::open_sized("/?model=kafka", width, height);
    let page = &b.page;
    page.wait_text("#kafka-about h2", "quickstart");
    let files = fetched(page);
    assert!(files.iter().any(|f| f.ends_with("kafka/brokerlab_kafka_bg.wasm")), "{files:?}");
    assert!(
        !files.iter().any(|f| f.contains("brokerlab_web")),
        "the RabbitMQ module was not fetched: {files:?}"
    );
    page.assert_in_view("#kafka-play", "the play button");
    page.assert_in_view("#kafka-cluster", "the cluster view");

    // The quickstart: play by a click, then to 5 s with the keyboard; records arrive, the group lags.
    page.click("#kafka-play");
    std::thread::sleep(Duration::from_millis(300));
    page.click("#kafka-play");
    blur(page);
    keys(page, &[KEY_HOME, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#kafka-clock", "3.000 s / 20.000 s");
    page.wait_text("#kafka-checks h2", "0 passed");
    page.screenshot(&format!("e2e-kafka-quickstart-3s-{width}.png"));
    // Eighteen seconds on: every check has passed and the lag is 0.
    keys(page, &[KEY_RIGHT; 17]);
    page.wait_text("#kafka-clock", "20.000 s / 20.000 s");
    page.wait_text("#kafka-checks h2", "Checks: 5 passed, 0 failed, 0 to come");
    assert_eq!(page.text("#group-console-consumer-group td.lag-value"), "0");
    page.screenshot(&format!("e2e-kafka-quickstart-end-{width}.png"));

    // The replication document: 2 s on, the leader taken down by a click.
    page.click("#kafka-doc option[value='replicas-broker-down']");
    page.wait_text("#kafka-clock", "0.000 s / 40.000 s");
    blur(page);
    keys(page, &[KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#kafka-clock", "2.000 s");
    let (leader, isr) = first_partition(page);
    assert_eq!(isr.split(", ").count(), 3, "{isr}");
    page.click(&format!("#broker-{leader}-toggle"));
    page.wait_text(&format!("#broker-{leader} .kafka-broker-head"), "down");
    blur(page);
    keys(page, &[KEY_RIGHT]);
    page.wait_text("#kafka-clock", "3.000 s");
    let (new_leader, isr) = first_partition(page);
    assert_ne!(new_leader, leader, "a new leader");
    assert!(!isr.split(", ").any(|b| b == leader), "the ISR shrank: {isr}");
    page.assert_in_view(&format!("#broker-{leader}-toggle"), "the toggle of the broker taken down");
    page.screenshot(&format!("e2e-kafka-broker-down-{width}.png"));
    // Scrubbed back before the click: up; forward again: down; brought back by a click.
    keys(page, &[KEY_LEFT, KEY_LEFT, KEY_LEFT]);
    page.wait_text("#kafka-clock", "0.000 s");
    page.wait_text(&format!("#broker-{leader} .kafka-broker-head"), "up");
    keys(page, &[KEY_RIGHT, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT]);
    page.wait_text(&format!("#broker-{leader} .kafka-broker-head"), "down");
    page.click(&format!("#broker-{leader}-toggle"));
    page.wait_text(&format!("#broker-{leader}-toggle"), "Take broker");
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());

    // The picker: to the RabbitMQ page (its own module only), and back.
    page.click("#model-picker option[value='rabbitmq']");
    page.wait_text("header.app-header", "Scenario");
    let files = fetched(page);
    assert!(!files.iter().any(|f| f.contains("kafka")), "the Kafka module was not fetched: {files:?}");
    page.click("#model-picker option[value='kafka']");
    page.wait_text("#kafka-about h2", "quickstart");
}

#[test]
fn kafka_page_at_1280x720() {
    run_at(1280, 720);
}

#[test]
fn kafka_page_at_1920x1080() {
    run_at(1920, 1080);
}

/// Chooses `path` in the file input `css` (WebDriver types the path into it, as a user picks a file).
fn choose_file(page: &Page, css: &str, path: &std::path::Path) {
    let id = page.find(css);
    post(&format!("{}/element/{id}/value", page.s), json!({"text": path.display().to_string()}));
}

/// One page per model, one shell: a Kafka document imported on the RabbitMQ page opens on the Kafka page
/// (not refused at "model"), a RabbitMQ document imported on the Kafka page opens on the RabbitMQ page,
/// the Kafka page's share link carries the brokers taken down, and a Kafka link opened on the RabbitMQ
/// page's address (no `?model`) lands on the Kafka page. Screenshots: `e2e-kafka-shell-*.png`.
fn forward_at(width: i64, height: i64) {
    let dir = std::env::temp_dir().join(format!("brokerlab-kafka-shell-{}-{width}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kafka_doc = dir.join("slow-consumer.json");
    let kafka_text = std::fs::read_to_string(
        repo_root().join("tests/scenarios/kafka-documents/slow-consumer-lag/document.json"),
    )
    .unwrap();
    std::fs::write(&kafka_doc, &kafka_text).unwrap();
    let rabbit_doc = dir.join("hello.json");
    std::fs::copy(repo_root().join("www/scenarios/01-hello-world.json"), &rabbit_doc).unwrap();

    // The RabbitMQ page's Import, given a Kafka document: the Kafka page opens it.
    let b = Browser::open_sized(&format!("/?db=kafka-shell-{width}"), width, height);
    let page = &b.page;
    page.settle_after_restore();
    choose_file(page, "#ws-import", &kafka_doc);
    page.wait_text("#kafka-notice", "Opened the document of the link");
    page.wait_text("#kafka-about h2", "This document");
    page.wait_text("#kafka-doc", "Opened document");
    let files = fetched(page);
    assert!(!files.iter().any(|f| f.contains("brokerlab_web")), "only the Kafka module: {files:?}");
    assert!(page.execute("return location.search;", json!([])).as_str() == Some("?model=kafka"));
    assert!(page.text("#kafka-about").contains("100 ms per record"), "{}", page.text("#kafka-about"));

    // Played with the keyboard, a broker taken down, shared: the link carries both.
    blur(page);
    keys(page, &[KEY_HOME, KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#kafka-clock", "2.000 s");
    page.click("#broker-1-toggle");
    page.wait_text("#broker-1 .kafka-broker-head", "down");
    page.click("#kafka-share");
    page.find("#kafka-copy-link");
    let link = page.execute("return document.getElementById('kafka-permalink').value;", json!([]));
    let link = link.as_str().expect("a share link").to_string();
    assert!(link.contains("?model=kafka#scenario="), "{link}");
    page.assert_in_view("#kafka-permalink", "the share link");
    page.screenshot(&format!("e2e-kafka-shell-shared-{width}.png"));

    // That link opened on the RabbitMQ page's address (no ?model): it lands on the Kafka page, with the
    // broker taken down at 2 s.
    let fragment = link.split_once('#').unwrap().1.to_string();
    page.goto(&format!("/?db=kafka-shell-{width}#{fragment}"));
    page.wait_text("#kafka-notice", "Opened the document of the link");
    blur(page);
    keys(page, &[KEY_RIGHT, KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#kafka-clock", "3.000 s");
    page.wait_text("#broker-1 .kafka-broker-head", "down");

    // The Kafka page's Import, given a RabbitMQ document: the RabbitMQ page opens it.
    choose_file(page, "#kafka-import", &rabbit_doc);
    page.wait_text("#notice", "Shared: 1. Hello World");
    let files = fetched(page);
    assert!(!files.iter().any(|f| f.contains("kafka")), "only the RabbitMQ module: {files:?}");
    page.screenshot(&format!("e2e-kafka-shell-to-rabbitmq-{width}.png"));

    // A file neither page opens is refused on the Kafka page, saying why.
    page.goto("/?model=kafka");
    page.wait_text("#kafka-about h2", "quickstart");
    let definitions = dir.join("definitions.json");
    std::fs::write(&definitions, r#"{"rabbit_version": "3.10.0", "queues": []}"#).unwrap();
    choose_file(page, "#kafka-import", &definitions);
    let refusal = page.wait_text("#kafka-notice", "was not imported");
    assert!(refusal.contains("RabbitMQ page"), "{refusal}");
    page.screenshot(&format!("e2e-kafka-shell-refused-{width}.png"));
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn documents_go_to_their_models_page_at_1280x720() {
    forward_at(1280, 720);
}

#[test]
fn documents_go_to_their_models_page_at_1920x1080() {
    forward_at(1920, 1080);
}
