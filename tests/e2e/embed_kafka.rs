//! The Kafka sandbox end to end (issue 17 point 6): the example page `/examples/kafka-lag.html` embeds a
//! Kafka sandbox (`data-model="kafka"`, its own module `embed-kafka/`); the test loads the offsets-and-lag
//! tutorial's document (tests/scenarios/kafka-tutorials) through the page's `postMessage` API, plays and
//! pauses it, runs it, produces a record, reads offsets and lag per group and partition, receives the
//! engine's events, and sees the slow group's lag fall to 0 — at 1280×720 and 1920×1080, screenshots
//! `artifacts/e2e-embed-kafka-*.png`.
//!
//! The sandbox's checks panel numbers each check once (the tutorial's descriptions carry their number,
//! which the list used to add again: "1. 1. …").

use crate::harness::*;
use serde_json::{json, Value};

/// Evaluates a JavaScript expression giving a promise in the page; `Ok(result)` or `Err(message)`.
fn api(page: &Page, expression: &str) -> Result<Value, String> {
    let script = format!(
        "const done = arguments[arguments.length - 1];
         Promise.resolve().then(() => {expression})
           .then(r => done({{ok: true, result: r === undefined ? null : r}}),
                 e => done({{ok: false, error: String(e && e.message || e)}}));"
    );
    let out = page.execute_async(&script, json!([]));
    if out["ok"] == json!(true) {
        Ok(out["result"].clone())
    } else {
        Err(out["error"].as_str().unwrap_or("no error text").to_string())
    }
}

fn sandbox_call(page: &Page, call: &str) -> Value {
    api(page, &format!("Brokerlab.get('#sandbox-kafka').{call}")).unwrap_or_else(|e| panic!("{call}: {e}"))
}

fn run_at(width: i64, height: i64) {
    let browser = Browser::open_sized("/examples/kafka-lag.html", width, height);
    let page = &browser.page;
    let info = sandbox_call(page, "ready()");
    assert_eq!(info["model"], "kafka", "the Kafka sandbox answered: {info}");
    assert_eq!(info["scenario"]["bundled"], "offsets-and-lag", "loaded by data-scenario: {info}");

    // The sandbox downloaded the Kafka sandbox's module, not the RabbitMQ sandbox's.
    let frame_src = page.execute("return document.querySelector('#sandbox-kafka iframe').src;", json!([]));
    assert!(frame_src.as_str().unwrap_or("").contains("model=kafka"), "{frame_src}");

    // The tutorial's document, loaded by value as a page would send it.
    let text = std::fs::read_to_string(
        repo_root().join("tests/scenarios/kafka-tutorials/offsets-and-lag/document.json"),
    )
    .expect("the tutorial's document");
    let loaded = api(page, &format!("Brokerlab.get('#sandbox-kafka').load({{document: {text}}})"))
        .expect("the tutorial loads by value");
    assert_eq!((loaded["timeMillis"].clone(), loaded["endMillis"].clone()), (json!(0), json!(18_000)));

    // Events: the engine's records, pushed to the page.
    page.execute(
        "window.kafkaEvents = [];
         Brokerlab.get('#sandbox-kafka').on('event', r => window.kafkaEvents.push(r));",
        json!([]),
    );
    // Play and pause (bounded: a few wall ticks at most), then run to 6 s through the page's button.
    let played = sandbox_call(page, "play()");
    assert_eq!(played["playing"], true);
    let paused = sandbox_call(page, "pause()");
    assert_eq!(paused["playing"], false);
    page.click("#kafka-run6");
    let text6 = page.wait_text("#kafka-readout", "t = 6.000s");
    let c = sandbox_call(page, "counters({group: 'reporting'})");
    let lag6 = c["groups"]["reporting"]["lag"].as_u64().expect("a lag");
    assert!(lag6 >= 40, "the slow group is behind at 6 s (the tutorial's check 1): {c}");
    let partition = &c["topics"]["sensor-readings"]["partitions"][0];
    assert_eq!(partition["highWatermark"], partition["logEndOffset"], "{c}");
    assert!(text6.contains("reporting: lag "), "{text6}");
    page.screenshot(&format!("e2e-embed-kafka-6s-{width}x{height}.png"));

    // A record from the page: offset 100 (the sensor wrote 0–99).
    let produced =
        sandbox_call(page, "produce({topic: 'sensor-readings', key: 'page', value: 'from the page'})");
    assert_eq!(produced["produced"], "Wrote the record to sensor-readings-0 at offset 100", "{produced}");
    let refused =
        api(page, "Brokerlab.get('#sandbox-kafka').produce({topic: 'nope', value: 'x'})").unwrap_err();
    assert!(refused.contains("This server does not host this topic-partition"), "Kafka's refusal: {refused}");

    // To the end: the slow group caught up, lag 0, committed offset = high watermark = 101.
    page.click("#kafka-run-end");
    page.wait_text("#kafka-readout", "(run finished)");
    let c = sandbox_call(page, "counters({topic: 'sensor-readings'})");
    let reporting = &c["groups"]["reporting"];
    assert_eq!(reporting["lag"], 0, "lag fell to 0: {c}");
    assert_eq!(reporting["partitions"][0]["committedOffset"], 101, "{c}");
    assert_eq!(c["topics"]["sensor-readings"]["partitions"][0]["highWatermark"], 101, "{c}");
    page.wait_text("#kafka-readout", "reporting: lag 0");

    let events = page.execute("return window.kafkaEvents;", json!([]));
    let events = events.as_array().expect("events");
    let consumed = events.iter().filter(|e| e["event"] == "consumed").count();
    assert!(consumed >= 101, "the events reached the page ({} events, {consumed} consumed)", events.len());
    assert!(events.iter().all(|e| e["at"].is_u64() && e["text"].is_string()), "records have at and text");
    let checks = sandbox_call(page, "checks()");
    assert_eq!(checks["pending"], 0, "{checks}");
    // The sandbox's checks list: each check numbered once, by the list.
    // Inside the sandbox's frame (WebDriver's frame switch: the frame is the sandbox's own document).
    let frame = page.find("#sandbox-kafka iframe");
    post(&format!("{}/frame", page.s), json!({"id": {"element-6066-11e4-a52e-4f735466cecf": frame}}));
    let listed = page.execute(
        "return Array.from(document.querySelectorAll('#embed-checks li')).map(li => li.textContent);",
        json!([]),
    );
    post(&format!("{}/frame/parent", page.s), json!({}));
    let listed: Vec<&str> =
        listed.as_array().expect("the checks list").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(listed.len(), checks["checks"].as_array().map_or(0, Vec::len), "{listed:?}");
    assert!(listed[0].starts_with("reporting is slower than the sensor"), "{listed:?}");
    assert!(
        listed.iter().all(|l| !l.starts_with(|c: char| c.is_ascii_digit())),
        "numbered twice: {listed:?}"
    );
    page.execute("document.querySelector('#sandbox-kafka').scrollIntoView({block: 'end'});", json!([]));
    page.screenshot(&format!("e2e-embed-kafka-end-{width}x{height}.png"));
}

#[test]
fn a_kafka_tutorial_embedded_in_a_page_at_1280x720() {
    run_at(1280, 720);
}

#[test]
fn a_kafka_tutorial_embedded_in_a_page_at_1920x1080() {
    run_at(1920, 1080);
}
