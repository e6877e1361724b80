//! Direct reply-to on the RabbitMQ page (issue 18), with real key presses: RabbitMQ's tutorial 6 (RPC)
//! loaded, a request typed into the Publish form with reply_to `amq.rabbitmq.reply-to` and sent with
//! Enter before the page consumes it (RabbitMQ's 406), a consumer with manual ack (refused), then the
//! no-ack consumer reached with Shift+Tab and Enter; the request sent again carries the consumer's key,
//! the tutorial's server answers it, and the answer is listed under the page's channel with its
//! correlation_id. At 1280×720 and 1920×1080. Screenshots: `artifacts/e2e-reply-to-*.png`.

use crate::harness::*;
use serde_json::json;
use std::time::Duration;

const KEY_SHIFT: char = '\u{E008}';
const KEY_TAB: char = '\u{E004}';

fn active_id(page: &Page) -> serde_json::Value {
    page.execute("return document.activeElement && document.activeElement.id;", json!([]))
}

/// Shift+Tab: the focus to the previous control, as a keyboard moves it.
fn shift_tab(page: &Page) {
    let actions = json!([
        {"type": "keyDown", "value": KEY_SHIFT.to_string()},
        {"type": "keyDown", "value": KEY_TAB.to_string()},
        {"type": "keyUp", "value": KEY_TAB.to_string()},
        {"type": "keyUp", "value": KEY_SHIFT.to_string()},
    ]);
    post(
        &format!("{}/actions", page.s),
        json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
    );
    let _ = ureq::delete(&format!("{}/actions", page.s)).call();
}

fn reply_to(width: i64, height: i64) {
    let browser = Browser::open_sized("/", width, height);
    let page = &browser.page;
    page.wait_text("header.app-header h1", "Brokerlab");
    let tag = format!("{width}x{height}");
    page.load_scenario("06-rpc");

    // A request before the page consumes amq.rabbitmq.reply-to: RabbitMQ's refusal.
    page.click("#tab-messages");
    page.wait_text("#reply-to-state", "No reply consumer");
    page.type_keys("#publish-key", "rpc_queue");
    page.type_keys("#publish-body", "fib(10)");
    page.type_keys("#publish-reply-to", "amq.rabbitmq.reply-to");
    page.type_keys("#publish-correlation-id", "page-1");
    page.press("#publish-correlation-id", KEY_ENTER);
    page.wait_text("#notice", "406 PRECONDITION_FAILED - fast reply consumer does not exist");

    // From the keyboard: manual ack is refused; Shift+Tab to the no-ack consumer, Enter.
    page.execute("document.getElementById('reply-consume-ack').focus();", json!([]));
    keys(page, &[KEY_ENTER]);
    page.wait_text("#notice", "406 PRECONDITION_FAILED - reply consumer cannot acknowledge");
    page.execute("document.getElementById('reply-consume-ack').focus();", json!([]));
    shift_tab(page);
    assert_eq!(active_id(page), json!("reply-consume"), "Shift+Tab reaches Consume (no-ack)");
    keys(page, &[KEY_ENTER]);
    let state = page.wait_text("#reply-to-state", "Consuming amq.rabbitmq.reply-to as 'amq.ctag-");
    assert!(state.contains("carries the key amq.rabbitmq.reply-to."), "{state}");

    // The request again (the form kept what was typed): the tutorial's server answers it.
    page.press("#publish-correlation-id", KEY_ENTER);
    page.wait_text("#notice", "Published to exchange '' with key 'rpc_queue'");
    page.click("#play");
    let replies = page.wait_text("#reply-list", "answer to fib(10) (page-1)");
    assert!(replies.contains("correlation_id=page-1"), "{replies}");
    page.click("#play");
    page.execute("document.getElementById('reply-to').scrollIntoView({block: 'center'});", json!([]));
    std::thread::sleep(Duration::from_millis(150));
    page.assert_in_view("#reply-list", "the replies");
    page.assert_in_view("#reply-to-state", "the reply consumer's state");
    page.screenshot(&format!("e2e-reply-to-{tag}-replied.png"));

    // The reply opens in the message detail.
    page.click("#reply-list button.link");
    let detail = page.wait_text("#message-detail", "page-1");
    assert!(detail.contains("answer to fib(10)"), "{detail}");
    page.screenshot(&format!("e2e-reply-to-{tag}-detail.png"));
    assert!(page.console_errors().is_empty(), "console: {:?}", page.console_errors());
}

#[test]
fn direct_reply_to_from_the_keyboard_at_1280x720() {
    reply_to(1280, 720);
}

#[test]
fn direct_reply_to_from_the_keyboard_at_1920x1080() {
    reply_to(1920, 1080);
}
