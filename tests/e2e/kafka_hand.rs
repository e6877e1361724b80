//! Consume by hand on the Kafka page (issue 17, Deliver 4), by real key presses at 1280×720 and
//! 1920×1080: `poll()` before subscribing throws the Java client's IllegalStateException under its button;
//! the hand consumer subscribes (fields typed, Enter) as the only member of group `audit`, its first
//! `poll()` joins the group, and once the page has played on it is a member of the group in the groups
//! view; `poll()` shows the records returned (partition, offset, key, value), `commitSync()` moves the
//! group's committed offset and lag, `seek` to an offset reads from there, a seek on a partition it is not
//! assigned is refused with the client's text next to the field. The share-groups tutorial draws its
//! share group: members with the records they hold, each record in flight with its delivery count.
//! Screenshots: `artifacts/e2e-kafka-hand-*.png`, `artifacts/e2e-kafka-share-*.png`.

use crate::harness::*;
use serde_json::json;

/// Presses Enter on a button, as a keyboard user does once the button has the focus.
fn enter_on(page: &Page, css: &str) {
    page.execute(
        "const e = document.querySelector(arguments[0]); e.scrollIntoView({block: 'center'}); e.focus();",
        json!([css]),
    );
    keys(page, &[KEY_ENTER]);
}

/// Plays `n` seconds with the → key (the focus off every field, as the page's shortcuts want).
fn forward(page: &Page, n: usize) {
    blur(page);
    keys(page, &vec![KEY_RIGHT; n]);
}

fn group_row(page: &Page) -> String {
    page.text("#group-audit table tbody tr")
}

fn run_at(width: i64, height: i64) {
    let path = format!("/?model=kafka&db=e2ehand{width}");
    let b = Browser::open_sized(&path, width, height);
    let page = &b.page;
    // Loaded again at its size: the Operate panel folds or not by the window's height at load.
    page.goto(&path);
    page.wait_text("#kafka-about h2", "quickstart");
    crate::kafka_ops::open_operate(page, height);

    // poll() with no subscription: the Java client's exception, under the button.
    enter_on(page, "#kafka-op-hand-poll-submit");
    let e = page.wait_text("#kafka-op-hand-poll-error", "IllegalStateException");
    assert_eq!(
        e,
        "IllegalStateException: Consumer is not subscribed to any topics or assigned any partitions"
    );
    page.assert_in_view("#kafka-op-hand-poll-error", "the exception under the poll() button");
    page.screenshot(&format!("e2e-kafka-hand-not-subscribed-{width}.png"));

    // At 12 s the producer has written its ten events; subscribe as group audit's only member.
    forward(page, 12);
    page.wait_text("#kafka-clock", "12.000 s / 20.000 s");
    page.type_keys("#kafka-op-hand-subscribe-group", "audit");
    page.type_keys("#kafka-op-hand-subscribe-topics", "quickstart-events");
    page.type_keys("#kafka-op-hand-subscribe-max_poll_records", "3");
    page.press("#kafka-op-hand-subscribe-max_poll_records", KEY_ENTER);
    page.wait_text(
        "#kafka-op-hand-subscribe-done",
        "hand-consumer subscribe([quickstart-events]) in group audit",
    );
    enter_on(page, "#kafka-op-hand-poll-submit");
    page.wait_text("#kafka-op-hand-poll-done", "poll() returned 0 records; assignment() = []");

    // Played on: the group rebalanced, the hand consumer is its member with the partition; nothing
    // committed yet, so the lag is every record.
    forward(page, 4);
    page.wait_text("#kafka-clock", "16.000 s / 20.000 s");
    let members = page.wait_text("#group-audit .kafka-members", "hand-consumer");
    assert!(members.contains("quickstart-events-0"), "{members}");
    assert_eq!(page.text("#group-audit .group-state"), "Stable");
    assert_eq!(group_row(page).split_whitespace().collect::<Vec<_>>(), ["quickstart-events-0", "-", "10"]);

    enter_on(page, "#kafka-op-hand-poll-submit");
    page.wait_text(
        "#kafka-op-hand-poll-done",
        "poll() returned 3 records; assignment() = [quickstart-events-0]",
    );
    let records = page.wait_text("#kafka-hand-records", "This is event number 3");
    assert!(records.contains("Last poll() at 16.000 s: 3 records"), "{records}");
    let first = page.text("#kafka-hand-records tbody tr");
    assert_eq!(
        first.split('\t').next().unwrap_or(&first).split_whitespace().take(3).collect::<Vec<_>>(),
        ["quickstart-events-0", "0", "null"],
        "partition, offset, key: {first}"
    );
    page.screenshot(&format!("e2e-kafka-hand-polled-{width}.png"));

    // commitSync(): the group's committed offset is 3, its lag 7.
    enter_on(page, "#kafka-op-hand-commit-submit");
    page.wait_text("#kafka-op-hand-commit-done", "commitSync() committed {quickstart-events-0=3}");
    page.wait_text("#group-audit table tbody tr", "3");
    assert_eq!(group_row(page).split_whitespace().collect::<Vec<_>>(), ["quickstart-events-0", "3", "7"]);
    page.execute("document.querySelector('#group-audit').scrollIntoView({block: 'center'});", json!([]));
    page.screenshot(&format!("e2e-kafka-hand-committed-{width}.png"));

    // seek on a partition it is not assigned: the client's refusal at the field; then to offset 8.
    page.type_keys("#kafka-op-hand-seek-partition", "quickstart-events-5");
    page.type_keys("#kafka-op-hand-seek-to", "8");
    page.press("#kafka-op-hand-seek-to", KEY_ENTER);
    page.wait_text(
        "#kafka-op-hand-seek-partition-error",
        "IllegalStateException: No current assignment for partition quickstart-events-5",
    );
    page.type_keys("#kafka-op-hand-seek-partition", "quickstart-events-0");
    page.press("#kafka-op-hand-seek-partition", KEY_ENTER);
    page.wait_text("#kafka-op-hand-seek-done", "seek(quickstart-events-0, 8)");
    assert!(page.try_find("#kafka-op-hand-seek-partition-error").is_none());
    enter_on(page, "#kafka-op-hand-poll-submit");
    page.wait_text("#kafka-op-hand-poll-done", "poll() returned 2 records");
    let records = page.wait_text("#kafka-hand-records", "This is event number 10");
    assert!(records.contains("This is event number 9"), "{records}");
    enter_on(page, "#kafka-op-hand-commit-submit");
    page.wait_text("#kafka-op-hand-commit-done", "commitSync() committed {quickstart-events-0=10}");
    assert_eq!(group_row(page).split_whitespace().collect::<Vec<_>>(), ["quickstart-events-0", "10", "0"]);
    page.screenshot(&format!("e2e-kafka-hand-seek-{width}.png"));

    // Rewound before the subscription: only the consumer of the first poll() (no group), no group audit;
    // forward again: all back.
    blur(page);
    keys(page, &[KEY_HOME]);
    page.wait_text("#kafka-clock", "0.000 s / 20.000 s");
    page.wait_text("#kafka-hand-state", "group none");
    assert!(page.try_find("#group-audit").is_none());
    forward(page, 16);
    page.wait_text("#kafka-clock", "16.000 s / 20.000 s");
    page.wait_text("#kafka-hand-records", "This is event number 10");
    assert_eq!(group_row(page).split_whitespace().collect::<Vec<_>>(), ["quickstart-events-0", "10", "0"]);
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn kafka_hand_consumer_at_1280x720() {
    run_at(1280, 720);
}

#[test]
fn kafka_hand_consumer_at_1920x1080() {
    run_at(1920, 1080);
}

fn share_groups_at(width: i64, height: i64) {
    let b = Browser::open_sized("/?model=kafka&doc=share-groups", width, height);
    let page = &b.page;
    page.wait_text("#kafka-about h2", "This document");
    forward(page, 3);
    page.wait_text("#kafka-clock", "3.000 s / 30.000 s");
    let group = page.wait_text("#share-group-crew", "crew-3");
    assert!(group.contains("delivery limit 5"), "{group}");
    // Three members, one record each (max.poll.records 1), each drawn in its holder's colour.
    let held = page.execute(
        "return Array.from(document.querySelectorAll('#share-group-crew .kafka-members li')).map(li => li.textContent);",
        json!([]),
    );
    let held: Vec<&str> = held.as_array().expect("members").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(held.len(), 3, "{held:?}");
    assert!(held.iter().any(|m| m.contains("jobs-0@")), "{held:?}");
    let cells = page.text("#share-crew-jobs-0");
    assert!(cells.starts_with("jobs-0 from "), "{cells}");
    page.execute(
        "document.querySelector('#kafka-share-groups').scrollIntoView({block: 'start'});",
        json!([]),
    );
    page.screenshot(&format!("e2e-kafka-share-3s-{width}.png"));
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn kafka_share_groups_drawn_at_1280x720() {
    share_groups_at(1280, 720);
}

#[test]
fn kafka_share_groups_drawn_at_1920x1080() {
    share_groups_at(1920, 1080);
}
