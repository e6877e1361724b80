//! Stream queues on the RabbitMQ page (issue 18), typed with real key presses: a stream declared from the
//! queue form (Type "stream", its `x-max-age` from the Type's shortcuts; first with `exclusive`, which
//! RabbitMQ refuses with its text), three messages published, a consumer from "first" with a prefetch of
//! 2 that gets offsets 0 and 1, acks to get offset 2, and the log with the consumer's position in the
//! Messages tab, the graph and the inspector. At 1280×720 and 1920×1080. Screenshots:
//! `artifacts/e2e-streams-*.png`.

use crate::harness::*;
use serde_json::json;

/// Scrolls `css` to the top of its scrolled pane, so a screenshot shows it.
fn scroll_to(page: &Page, css: &str) {
    page.execute("document.querySelector(arguments[0]).scrollIntoView({block: 'start'});", json!([css]));
    std::thread::sleep(std::time::Duration::from_millis(150));
}

fn streams(width: i64, height: i64) {
    let browser = Browser::open_sized("/", width, height);
    let page = &browser.page;
    page.wait_text("header.app-header h1", "Brokerlab");
    let tag = format!("{width}x{height}");

    // Declared exclusive first: RabbitMQ's refusal, in the notice as every refusal is.
    page.click("#tab-queues");
    page.type_keys("#queue-name", "events");
    page.click("#queue-type option[value='stream']");
    page.click("#queue-exclusive");
    page.click("#queue-declare");
    page.wait_text(
        "#notice",
        "406 PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 'events' in vhost '/'",
    );
    page.screenshot(&format!("e2e-streams-{tag}-refused.png"));
    page.click("#queue-exclusive");
    page.click("#queue-arg-add-x-max-age");
    assert_eq!(page.value("#queue-arg-key-0"), "x-max-age");
    page.type_keys("#queue-arg-value-0", "7D");
    page.click("#queue-declare");
    page.wait_text("#notice", "Declared: queue 'events' (0 messages, 0 consumers)");
    let row = page.wait_text("tr[data-queue='events']", "stream");
    assert!(row.contains("x-max-age=\"7D\""), "{row}");

    // Three messages through the default exchange.
    page.click("#tab-messages");
    page.type_keys("#publish-key", "events");
    for body in ["order 0", "order 1", "order 2"] {
        page.type_keys("#publish-body", body);
        page.click("#publish");
        page.wait_text("#notice", "Published to exchange '' with key 'events'");
    }
    let log = page.wait_text("#stream-chosen", "offsets 0–2 · 3 messages");
    assert!(log.contains("order 2"), "{log}");

    // From "first" with a prefetch of 2: offsets 0 and 1, then an ack brings offset 2.
    page.click("#stream-offset option[value='first']");
    page.type_keys("#stream-prefetch", "2");
    page.type_keys("#stream-ctag", "audit");
    page.click("#stream-consume");
    page.wait_text(
        "#notice",
        "Consuming from 'events' as 'audit' (channel 1, x-stream-offset \"first\"): 2 deliveries",
    );
    let reads = page.wait_text("#stream-reads-1", "offset 1");
    assert!(reads.contains("offset 0 · order 0") && !reads.contains("offset 2"), "{reads}");
    page.wait_text("#stream-reader-1", "reads offset 2 next · 2 unacked of prefetch 2");
    page.wait_text("#stream-chosen-pos-audit", "reads offset 2 next");
    scroll_to(page, "#stream-form");
    page.screenshot(&format!("e2e-streams-{tag}-reading.png"));
    page.click("#stream-ack-1");
    let reads = page.wait_text("#stream-reads-1", "offset 2 · order 2");
    assert!(reads.contains("offset 0 · order 0"), "{reads}");
    page.wait_text("#stream-chosen-pos-audit", "waits for offset 3");

    // A second reader from an offset typed in.
    page.click("#stream-offset option[value='offset']");
    page.type_keys("#stream-offset-value", "1");
    page.type_keys("#stream-ctag", "replay");
    page.click("#stream-consume");
    let replay = page.wait_text("#stream-reads-2", "offset 2");
    assert!(replay.contains("offset 1") && !replay.contains("offset 0"), "{replay}");
    scroll_to(page, "#stream-readers");
    page.screenshot(&format!("e2e-streams-{tag}-readers.png"));

    // The graph: the stream's node draws its log and the two readers' marks; the inspector its cells.
    let strip = page.execute(
        "const n = document.querySelector(\"g.node.queue[aria-label^='queue events']\");
         return n ? [n.querySelectorAll('.log-cell').length, n.querySelectorAll('.reader-mark').length,
                     n.textContent] : null;",
        json!([]),
    );
    assert_eq!(strip[0], 3, "{strip}");
    assert_eq!(strip[1], 2, "{strip}");
    assert!(strip[2].as_str().unwrap_or("").contains("stream · offsets 0–2"), "{strip}");
    page.click("#tab-queues");
    page.click("tr[data-queue='events'] button.link");
    page.wait_text(".inspector", "waits for offset 3");
    page.find("#inspector-stream-cell-2");
    page.screenshot(&format!("e2e-streams-{tag}-inspector.png"));
    assert!(page.console_errors().is_empty(), "console: {:?}", page.console_errors());
}

#[test]
fn streams_declared_published_and_read_at_1280x720() {
    streams(1280, 720);
}

#[test]
fn streams_declared_published_and_read_at_1920x1080() {
    streams(1920, 1080);
}
