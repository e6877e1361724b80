//! The Kafka page's inspector in the browser (issue 17, points 2, 3 and 7), at 1280×720 and 1920×1080:
//! the quickstart played, a record clicked in its partition's row (its value, who read it), "why this
//! partition" opened with the keyboard (Enter) and closed with Escape; then a broker taken down by a click
//! (the ISR shrinks) and the group's rebalances and the failed sends explained. Screenshots:
//! `artifacts/e2e-kafka-explain-*.png`.

use crate::harness::*;
use serde_json::json;
use std::time::Duration;

fn exists(page: &Page, css: &str) -> bool {
    page.execute("return document.querySelector(arguments[0]) !== null;", json!([css])).as_bool()
        == Some(true)
}

fn center(page: &Page, css: &str) {
    page.execute("document.querySelector(arguments[0]).scrollIntoView({block: 'center'});", json!([css]));
    std::thread::sleep(Duration::from_millis(100));
}

fn first_partition(page: &Page) -> (String, String) {
    let v = page.execute(
        "const c = document.querySelectorAll('#kafka-cluster tbody tr:first-child td');
         return [c[1].textContent, c[4].textContent];",
        json!([]),
    );
    (v[0].as_str().unwrap().to_string(), v[1].as_str().unwrap().to_string())
}

fn explain_at(width: i64, height: i64) {
    let b = Browser::open_sized("/?model=kafka", width, height);
    let page = &b.page;
    page.wait_text("#kafka-about h2", "quickstart");

    // Play by a click, then to 10 s with the keyboard: ten records in the log, and the consumer (started at
    // 4 s, its group's first generation after the 3 s initial rebalance delay) has read the first ones.
    page.click("#kafka-play");
    std::thread::sleep(Duration::from_millis(300));
    page.click("#kafka-play");
    blur(page);
    keys(page, &[KEY_HOME]);
    keys(page, &[KEY_RIGHT; 10]);
    page.wait_text("#kafka-clock", "10.000 s / 20.000 s");

    // A record clicked: its detail.
    page.click("#record-quickstart-events-0-2");
    page.wait_text("#record-detail", "Record quickstart-events-0@2");
    assert_eq!(page.text("#record-value"), "\"This is event number 3\"");
    assert!(page.text("#record-reads").contains("console-consumer"), "{}", page.text("#record-reads"));
    // "Why this partition" with the keyboard: Tab-reachable button, Enter opens it.
    page.execute("document.getElementById('why-partition').focus();", json!([]));
    keys(page, &[KEY_ENTER]);
    let steps = page.wait_text("#why-partition-steps", "sticky");
    assert!(steps.contains("no key") && steps.contains("one partition"), "{steps}");
    center(page, "#kafka-explain");
    page.assert_in_view("#why-partition-steps", "the partition explanation");
    page.screenshot(&format!("e2e-kafka-explain-record-{width}.png"));
    // Escape closes it.
    keys(page, &[KEY_ESCAPE]);
    for _ in 0..40 {
        if !exists(page, "#kafka-explain") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!exists(page, "#kafka-explain"), "Escape closed the explanation");

    // The replication document: the leader taken down at 2 s, the ISR shrinks; sends fail later.
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
    page.screenshot(&format!("e2e-kafka-explain-isr-{width}.png"));
    // Five seconds on (the group's first generation came after its 3 s initial delay): the record written
    // before the fault is replicated; the group's rebalance told step by step.
    keys(page, &[KEY_RIGHT; 5]);
    page.wait_text("#kafka-clock", "8.000 s");
    page.click("#record-ledger-0-0");
    page.wait_text("#record-detail", "below the high watermark");
    page.click("#rebalances-readers");
    page.wait_text("#rebalance-list", "generation / group epoch 1");
    center(page, "#kafka-explain");
    page.screenshot(&format!("e2e-kafka-explain-rebalance-{width}.png"));
    page.click("#why-lost");
    page.wait_text("#kafka-explain", "Records lost or read twice");
    center(page, "#kafka-explain");
    page.screenshot(&format!("e2e-kafka-explain-lost-{width}.png"));
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn kafka_explanations_at_1280x720() {
    explain_at(1280, 720);
}

#[test]
fn kafka_explanations_at_1920x1080() {
    explain_at(1920, 1080);
}
