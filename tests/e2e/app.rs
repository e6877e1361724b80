//! The main app end to end. Screenshots land in `artifacts/e2e-*.png`: the empty shell, a declared
//! queue with a published message, a taken message, a refused redeclare with RabbitMQ's 406 text, and
//! the example topology with a dead-lettered message's `x-death` chain, and the "Work queues" scenario
//! played from the picker with its checks passing, then scrubbed back (`e2e-timeline.png`) and charted
//! (`e2e-charts.png`).

use crate::harness::*;
use serde_json::{json, Value};
use std::time::Duration;

#[test]
fn the_served_app_renders_its_shell_in_chromium() {
    let dist = trunk_build();
    let port = serve(dist);
    let driver = start_chromedriver();
    let session = post(
        &format!("{}/session", driver.base),
        json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": chrome_options(&driver),
            "goog:loggingPrefs": {"browser": "ALL"}
        }}}),
    );
    let id = session["value"]["sessionId"].as_str().expect("a WebDriver session").to_string();
    let s = format!("{}/session/{id}", driver.base);
    let page = Page { s: s.clone() };
    post(&format!("{s}/window/rect"), json!({"width": 1600, "height": 1000}));
    post(&format!("{s}/url"), json!({"url": format!("http://127.0.0.1:{port}/")}));

    // The wasm app renders asynchronously: wait (bounded) for the header it draws.
    let heading = page.wait_text("header.app-header h1", "Brokerlab");
    assert_eq!(heading, "Brokerlab", "the header's title");

    let title = get(&format!("{s}/title"))["value"].as_str().unwrap().to_string();
    assert!(title.starts_with("Brokerlab"), "page title: {title}");
    let ws_text = page.text("main#workspace");
    assert!(ws_text.contains("Empty workspace"), "workspace area text: {ws_text}");
    assert_eq!(page.text("#clock"), "t = 0.000s");
    page.screenshot("e2e-shell.png");

    // Declare a queue through the form (Queues is the first tab).
    page.type_into("#queue-name", "e2e.orders");
    page.click("#queue-declare");
    page.wait_text("#notice", "Declared: queue 'e2e.orders'");
    page.wait_text("#topology", "e2e.orders");

    // Publish to it through the default exchange from the Messages tab.
    page.click("#tab-messages");
    page.type_into("#publish-key", "e2e.orders");
    page.type_into("#publish-body", "<b>order 1</b> as text");
    page.click("#publish");
    page.wait_text("#notice", "Published to exchange '' with key 'e2e.orders'");

    // The queue table shows one ready message.
    page.click("#tab-queues");
    let ready = page.wait_text("tr[data-queue='e2e.orders'] td.ready", "1");
    assert_eq!(ready, "1");
    assert_eq!(page.text("tr[data-queue='e2e.orders'] td.unacked"), "0");
    page.screenshot("e2e-queue.png");

    // Get it with "ack": the body is shown as text (not markup) and the queue is empty.
    page.click("#tab-messages");
    page.click("#get-mode option[value='ack']");
    page.click("#get");
    page.wait_text("#notice", "Got 1 message from 'e2e.orders'");
    assert_eq!(page.text("#message-body"), "<b>order 1</b> as text");
    page.screenshot("e2e-message.png");
    page.click("#tab-queues");
    page.wait_text("tr[data-queue='e2e.orders'] td.ready", "0");

    // A redeclare with another `durable` is refused with RabbitMQ's code and text; the app keeps working.
    page.type_into("#queue-name", "e2e.orders");
    page.click("#queue-durable");
    page.click("#queue-declare");
    let refusal = page.wait_text("#notice", "406 PRECONDITION_FAILED");
    assert!(
        refusal.contains(
            "406 PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'e2e.orders' in vhost '/'"
        ),
        "banner: {refusal}"
    );
    page.screenshot("e2e-refused.png");
    page.click("#queue-durable");
    page.click("#queue-declare");
    page.wait_text("#notice", "Declared: queue 'e2e.orders'");

    // The example topology; a message rejected without requeue is dead-lettered with its x-death.
    page.click("#load-example");
    page.wait_text("#notice", "Loaded the example");
    page.click("#tab-messages");
    page.click("#get-queue option[value='orders.eu']");
    page.click("#get-mode option[value='reject']");
    page.click("#get");
    page.wait_text("#notice", "Got 1 message from 'orders.eu'");
    page.click("#get-queue option[value='orders.dead']");
    page.click("#get-mode option[value='nack-requeue']");
    page.click("#get");
    let chain = page.wait_text("#x-death", "rejected");
    assert!(chain.contains("queue 'orders.eu'"), "x-death chain: {chain}");
    page.click("g.node.queue[aria-label^='queue orders.dead']");
    page.wait_text(".inspector", "Queue 'orders.dead'");
    page.screenshot("e2e-topology.png");

    // Time: play advances the virtual clock; the TTL of the example queues then fires.
    page.click("#speed option[value='1000']");
    page.click("#play");
    page.wait_text("#clock", "t = ");
    let mut expired = false;
    for _ in 0..100 {
        let clock = page.text("#clock");
        if clock != "t = 0.000s" && page.text("#topology").contains("0 ready") {
            expired = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(expired, "playing moves the clock and the 5 s TTL empties 'orders.eu'");
    page.click("#play");
    page.click("#tab-log");
    page.wait_text("#log-count", "events");
    page.type_into("#log-text", "dead-letter");
    let log = page.wait_text(".log-viewport", "dead-letter");
    assert!(log.contains("(expired)"), "the log shows the TTL dead-lettering: {log}");
    page.screenshot("e2e-log.png");

    // A bundled scenario from the picker replaces the engine; its checks start pending.
    page.click("#scenario option[value='02-work-queues']");
    page.wait_text("#notice", "Loaded scenario '2. Work queues'");
    page.wait_text("#scenario-name", "Work queues");
    assert_eq!(page.text("#clock"), "t = 0.000s", "a fresh run starts at 0");
    let before = page.text("#checks-summary");
    assert!(before.starts_with("0 of ") && !before.contains(" 0 pending"), "summary: {before}");
    // Step once: the actors connect.
    page.click("#step");
    page.wait_text("#notice", "Stepped to");
    // Played at 1000×, the producer and the workers move the tasks; the run ends and every check passes.
    page.click("#tab-queues");
    page.click("#speed option[value='1000']");
    page.click("#play");
    let summary = page.wait_text("#checks-summary", " · 0 pending");
    assert!(summary.contains(" · 0 fail · "), "checks: {summary}");
    let checks = page.text("#checks");
    assert!(!checks.to_lowercase().contains("fail\n"), "no check failed: {checks}");
    page.wait_text("#notice", "Scenario ended at 10.000s");
    assert_eq!(page.text("tr[data-queue='task_queue'] td.acked"), "10", "ten tasks consumed");
    assert_eq!(page.text("tr[data-queue='task_queue'] td.total"), "0");
    assert!(page.text("#topology").contains("worker-2"), "the workers are drawn");
    page.screenshot("e2e-scenario.png");

    // After the end, a task of our own from the form: it stays in the queue (the workers' connections
    // are still open, so it is delivered, but no actor acts any more to acknowledge it).
    page.click("#tab-messages");
    page.type_into("#publish-key", "task_queue");
    page.type_into("#publish-body", "a task from the form");
    page.click("#publish");
    page.wait_text("#notice", "Published to exchange '' with key 'task_queue'");
    page.click("#tab-queues");
    page.wait_text("tr[data-queue='task_queue'] td.total", "1");

    // Rewind: the slider's Home key goes back to the start, dragging (an input event) to 1 s, and the
    // left arrow one step earlier; the tables show that moment and the bar says what acting would do.
    let slider = page.find("#timeline-scrub");
    post(&format!("{s}/element/{slider}/value"), json!({"text": "\u{E011}"})); // Home
    page.wait_text("#clock", "t = 0.000s");
    assert_eq!(page.text("tr[data-queue='task_queue'] td.acked"), "0");
    page.execute(
        "const r = document.querySelector('#timeline-scrub'); r.value = '1000';
         r.dispatchEvent(new Event('input', { bubbles: true }));",
        json!([]),
    );
    page.wait_text("#clock", "t = 1.000s");
    post(&format!("{s}/element/{slider}/value"), json!({"text": "\u{E012}"})); // ←
    page.wait_text("#clock", "t = 0.900s");
    let acked_then: u32 = page.text("tr[data-queue='task_queue'] td.acked").parse().expect("a count");
    let ready_then: u32 = page.text("tr[data-queue='task_queue'] td.ready").parse().expect("a count");
    assert!(acked_then < 10 && ready_then > 0, "earlier counts: {acked_then} acked, {ready_then} ready");
    assert!(page.text("#timeline-rewound").contains("discards everything after it"));
    assert_eq!(page.text("#timeline-time"), "t = 0.900s of 10.000s");
    assert!(page.text("#checks-summary").contains("pending"), "the checks as they stood then");
    page.screenshot("e2e-timeline.png");

    // The charts: the whole run, with the moment shown as a line.
    page.click("#tab-charts");
    page.wait_text("#chart-depth", "Depth of 'task_queue'");
    page.wait_text("#chart-rates", "Rates of 'task_queue'");
    page.screenshot("e2e-charts.png");

    // Back to the latest moment: the same end as before the scrub, our task replayed with it.
    page.click("#timeline-latest");
    page.wait_text("#clock", "t = 10.000s");
    page.click("#tab-queues");
    assert_eq!(page.text("tr[data-queue='task_queue'] td.acked"), "10");
    assert_eq!(page.text("tr[data-queue='task_queue'] td.total"), "1");

    // No errors in the page's console (a panic in the wasm would show here).
    let logs = post(&format!("{s}/se/log"), json!({"type": "browser"}));
    let severe: Vec<&Value> = logs["value"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["level"] == "SEVERE").collect())
        .unwrap_or_default();
    assert!(severe.is_empty(), "console errors: {severe:?}");

    let _ = ureq::delete(&s).call();
}
