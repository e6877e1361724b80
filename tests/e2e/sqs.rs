//! The SQS page in the browser (issue 19), opened by `?model=sqs` from the same index.html as the other
//! pages, at 1280×720 and 1920×1080: the visibility-timeout tutorial picked from the tutorials with a
//! click, played (the job in flight, its visibility clock running out), then played faster until the job
//! was done twice and every check passed, and rewound with the keyboard. The page fetched only the SQS
//! module. Screenshots: `artifacts/e2e-sqs-*.png`.

use crate::harness::*;
use serde_json::json;
use std::time::Duration;

/// The wasm and JS files the page fetched (Resource Timing).
pub fn fetched(page: &Page) -> Vec<String> {
    let v = page.execute(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)
                .filter(p => p.endsWith('.wasm') || p.endsWith('.js'));",
        json!([]),
    );
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap_or("").to_string()).collect()
}

/// Waits (bounded: 60 s) until the element's text contains `needle`, for a run played in real time.
pub fn wait_long(page: &Page, css: &str, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..600 {
        if page.try_find(css).is_some() {
            last = page.text(css);
            if last.contains(needle) {
                return last;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{css} never contained {needle:?}; last text: {last:?}");
}

fn run_at(width: i64, height: i64) {
    let b = Browser::open_sized("/?model=sqs&doc=long-and-short-polling", width, height);
    let page = &b.page;
    page.wait_text("#sqs-about h2", "long versus short polling");
    let files = fetched(page);
    assert!(files.iter().any(|f| f.ends_with("sqs/brokerlab_sqs_bg.wasm")), "{files:?}");
    assert!(
        !files.iter().any(|f| f.contains("brokerlab_web") || f.contains("brokerlab_kafka")),
        "only the SQS module was fetched: {files:?}"
    );

    // The visibility-timeout tutorial, picked with a click.
    page.click("#sqs-doc option[value='visibility-timeout']");
    page.wait_text("#sqs-about h2", "the visibility timeout");
    page.wait_text("#sqs-clock", "0.000 s / 100.000 s");
    page.assert_in_view("#sqs-play", "the play button");
    page.assert_in_view("#sqs-graph", "the graph");

    // Played at 1×: worker-a receives the job at once, it is in flight with its clock running out.
    page.click("#sqs-play");
    page.wait_text("#queue-jobs [data-count=in-flight]", "in flight 1");
    wait_long(page, "#sqs-clock", "2.");
    page.click("#sqs-play");
    page.wait_text("#sqs-play", "Play");
    let msg = page.text("#queue-jobs .sqs-msg");
    assert!(
        msg.contains("resize-photo-1") && msg.contains("in flight") && msg.contains("received 1×"),
        "{msg}"
    );
    page.assert_in_view("#queue-jobs", "the jobs queue");
    page.screenshot(&format!("e2e-sqs-in-flight-{width}.png"));

    // Ten seconds on with the keyboard, then played at 20× to the end: the timeout ran out, worker-b
    // received the job again and both workers did it.
    blur(page);
    keys(page, &[KEY_RIGHT; 10]);
    page.wait_text("#sqs-clock", "s / 100.000 s");
    let clock = page.text("#sqs-clock");
    assert!(clock.starts_with("12.") || clock.starts_with("11.") || clock.starts_with("13."), "{clock}");
    page.click("#sqs-speed option[value='20']");
    page.click("#sqs-play");
    wait_long(page, "#sqs-queues", "received 2×");
    wait_long(page, "#sqs-twice h2", "Processed more than once: 1");
    wait_long(page, "#sqs-clock", "100.000 s / 100.000 s");
    page.wait_text("#sqs-checks h2", "Checks: 6 passed, 0 failed, 0 to come");
    let twice = page.text("#sqs-twice");
    assert!(twice.contains("resize-photo-1 processed") && twice.contains("worker-a, worker-b"), "{twice}");
    page.assert_in_view("#sqs-twice", "the messages done twice");
    page.screenshot(&format!("e2e-sqs-done-twice-{width}.png"));

    // Why did careful-b's first long poll come back empty? careful-a held the job in flight.
    page.click(".sqs-why-empty[data-consumer='careful-b'][data-at='30000']");
    page.wait_text("#sqs-explanation", "in flight");

    // Rewound with the keyboard.
    blur(page);
    keys(page, &[KEY_HOME]);
    page.wait_text("#sqs-clock", "0.000 s / 100.000 s");
    page.wait_text("#sqs-twice h2", "Processed more than once: 0");
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn sqs_page_at_1280x720() {
    run_at(1280, 720);
}

#[test]
fn sqs_page_at_1920x1080() {
    run_at(1920, 1080);
}
