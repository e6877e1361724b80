//! The SQS sandbox end to end: the example page `/examples/sqs-visibility.html` embeds an SQS sandbox
//! (`data-model="sqs"`, its own module `embed-sqs/`) playing the visibility-timeout tutorial
//! (tests/scenarios/sqs-tutorials); through the page's `postMessage` API the test plays and pauses it, runs
//! it past the visibility timeout with the page's buttons, sees the job received a second time by the
//! second worker (the engine's events pushed to the page), sends, receives and deletes a message as the
//! page, gets SQS's refusals in boto3's words, and runs to the end with every check passed — at 1280×720
//! and 1920×1080, screenshots `artifacts/e2e-embed-sqs-*.png`.

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
    api(page, &format!("Brokerlab.get('#sandbox-sqs').{call}")).unwrap_or_else(|e| panic!("{call}: {e}"))
}

/// The `received` events of `queue` pushed to the page so far.
fn received(page: &Page, queue: &str) -> Vec<Value> {
    let events = page.execute("return window.sqsEvents;", json!([]));
    events
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event"] == "received" && e["queue"] == queue)
        .cloned()
        .collect()
}

fn run_at(width: i64, height: i64) {
    let browser = Browser::open_sized("/examples/sqs-visibility.html", width, height);
    let page = &browser.page;
    let info = sandbox_call(page, "ready()");
    assert_eq!(info["model"], "sqs", "the SQS sandbox answered: {info}");
    assert_eq!(info["scenario"]["bundled"], "visibility-timeout", "loaded by data-scenario: {info}");
    assert_eq!(info["endMillis"], 100_000, "{info}");

    // The sandbox downloaded the SQS sandbox's module.
    let frame_src = page.execute("return document.querySelector('#sandbox-sqs iframe').src;", json!([]));
    assert!(frame_src.as_str().unwrap_or("").contains("model=sqs"), "{frame_src}");

    // Events: the engine's records, pushed to the page.
    page.execute(
        "window.sqsEvents = [];
         Brokerlab.get('#sandbox-sqs').on('event', r => window.sqsEvents.push(r));",
        json!([]),
    );
    let played = sandbox_call(page, "play()");
    assert_eq!(played["playing"], true);
    let paused = sandbox_call(page, "pause()");
    assert_eq!(paused["playing"], false);

    // At 29 s the job is in flight with its first worker, received once.
    page.click("#sqs-run29");
    let text = page.wait_text("#sqs-readout", "t = 29.000s");
    assert!(text.contains("jobs: visible 0 · in flight 1 · delayed 0"), "{text}");
    let jobs = received(page, "jobs");
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(
        (jobs[0]["consumer"].clone(), jobs[0]["receive_count"].clone()),
        (json!("worker-a"), json!(1))
    );

    // At 31 s its visibility timeout ran out: the second worker received it, a second time.
    page.click("#sqs-run31");
    let text = page.wait_text("#sqs-readout", "t = 31.000s");
    assert!(text.contains("jobs: visible 0 · in flight 1"), "{text}");
    let jobs = received(page, "jobs");
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(
        (jobs[1]["consumer"].clone(), jobs[1]["receive_count"].clone()),
        (json!("worker-b"), json!(2))
    );
    assert_eq!(jobs[1]["message_id"], jobs[0]["message_id"], "the same job");
    let at = jobs[1]["at"].as_u64().expect("at");
    assert!((30_000..=31_000).contains(&at), "received again when the 30 s ran out: {at}");
    page.screenshot(&format!("e2e-embed-sqs-31s-{width}x{height}.png"));

    // The page's own calls: refusals in boto3's words, then a message sent to `jobs` with the page's
    // button.
    let refused = api(page, "Brokerlab.get('#sandbox-sqs').send({queue: 'nope', body: 'x'})").unwrap_err();
    assert!(
        refused.starts_with("An error occurred (AWS.SimpleQueueService.NonExistentQueue) when calling the SendMessage operation"),
        "SQS's refusal: {refused}"
    );
    let refused =
        api(page, "Brokerlab.get('#sandbox-sqs').deleteMessage({queue: 'jobs', receiptHandle: 'AQEB-typo'})")
            .unwrap_err();
    assert!(refused.contains("(ReceiptHandleIsInvalid)"), "{refused}");
    page.click("#sqs-send");
    let text = page.wait_text("#sqs-readout", "Sent to jobs: MessageId ");
    assert!(text.contains("t = 31.000s"), "{text}");

    // To the end: every check of the tutorial passes.
    page.click("#sqs-run-end");
    page.wait_text("#sqs-readout", "(run finished)");
    let checks = sandbox_call(page, "checks()");
    assert_eq!((checks["pending"].clone(), checks["failed"].clone()), (json!(0), json!(0)), "{checks}");
    let events = page.execute("return window.sqsEvents;", json!([]));
    let events = events.as_array().expect("events");
    assert!(events.iter().all(|e| e["at"].is_u64() && e["text"].is_string()), "records have at and text");
    // The sandbox's checks list, inside its frame: each check numbered once, by the list.
    let frame = page.find("#sandbox-sqs iframe");
    post(&format!("{}/frame", page.s), json!({"id": {"element-6066-11e4-a52e-4f735466cecf": frame}}));
    let listed = page.execute(
        "return Array.from(document.querySelectorAll('#embed-checks li')).map(li => li.textContent);",
        json!([]),
    );
    let rows = page.execute(
        "return Array.from(document.querySelectorAll('#embed-queues tbody tr')).map(tr => tr.dataset.queue);",
        json!([]),
    );
    post(&format!("{}/frame/parent", page.s), json!({}));
    let listed: Vec<&str> =
        listed.as_array().expect("the checks list").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(listed.len(), checks["checks"].as_array().map_or(0, Vec::len), "{listed:?}");
    assert!(listed.iter().all(|l| l.ends_with("— pass")), "{listed:?}");
    assert_eq!(rows, json!(["jobs", "jobs-heartbeat"]), "the queues panel lists the document's queues");
    page.execute("document.querySelector('#sandbox-sqs').scrollIntoView({block: 'end'});", json!([]));
    page.screenshot(&format!("e2e-embed-sqs-end-{width}x{height}.png"));
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn an_sqs_tutorial_embedded_in_a_page_at_1280x720() {
    run_at(1280, 720);
}

#[test]
fn an_sqs_tutorial_embedded_in_a_page_at_1920x1080() {
    run_at(1920, 1080);
}
