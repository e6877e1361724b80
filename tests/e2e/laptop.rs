//! The page on a laptop, as a newcomer meets it (issue 15): every form typed with real key events, one
//! key at a time; every tab reached with the bundled scenario whose panel is tallest loaded; every
//! click's result drawn where the user looks (inside the viewport, not clipped by a scrolled pane).
//! At 1280×720 and 1920×1080 (one browser session each); the layout alone at 1366×768 and 1024×700
//! with every bundled scenario, and at phone and tablet widths without sideways scrolling.
//! Screenshots: `artifacts/e2e-laptop-*.png`.

use crate::harness::*;
use serde_json::{json, Value};

/// The keys and values of a field-rows editor (`{prefix}-key-N` / `{prefix}-value-N`), in order.
fn rows(page: &Page, prefix: &str) -> Vec<(String, String)> {
    let v = page.execute(
        "const out = [];
         for (let i = 0; ; i++) {
           const k = document.getElementById(`${arguments[0]}-key-${i}`);
           if (!k) return out;
           const v = document.getElementById(`${arguments[0]}-value-${i}`);
           out.push([k.value, v ? v.value : null]);
         }",
        json!([prefix]),
    );
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| (r[0].as_str().unwrap_or("").to_string(), r[1].as_str().unwrap_or("").to_string()))
        .collect()
}

/// Types each `(key, value)` into the next rows of a field-rows editor, alternating the two ways of
/// typing; then the editor holds exactly these rows and one blank row after them.
fn type_rows(page: &Page, prefix: &str, wanted: &[(&str, &str)]) {
    for (i, (key, value)) in wanted.iter().enumerate() {
        if i % 2 == 0 {
            page.send_keys(&format!("#{prefix}-key-{i}"), key);
            page.send_keys(&format!("#{prefix}-value-{i}"), value);
        } else {
            page.type_keys(&format!("#{prefix}-key-{i}"), key);
            page.type_keys(&format!("#{prefix}-value-{i}"), value);
        }
    }
    let mut expected: Vec<(String, String)> =
        wanted.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    expected.push((String::new(), String::new()));
    assert_eq!(rows(page, prefix), expected, "{prefix}: every typed character is in its row");
}

/// Types `text` with real keys and checks the field holds it.
fn typed(page: &Page, css: &str, text: &str) {
    page.type_keys(css, text);
    assert_eq!(page.value(css), text, "{css} holds what was typed");
}

/// Clicks `css` and checks the notice it leads to says `needle` and is in view.
fn click_for_notice(page: &Page, css: &str, needle: &str) -> String {
    page.click(css);
    let text = page.wait_text("#notice", needle);
    page.assert_in_view("#notice", &format!("the notice after {css}"));
    text
}

/// Every form of the page, typed with real keys, in a manual (hand-built) workspace; each click's
/// result is checked to be in view.
fn type_every_form(page: &Page, tag: &str) {
    // Queues: a name and four arguments, the ones that could not be typed before (TTL, DLX, max-length,
    // priority).
    page.click("#tab-queues");
    typed(page, "#queue-name", "laptop.dead");
    click_for_notice(page, "#queue-declare", "Declared: queue 'laptop.dead'");
    typed(page, "#queue-name", "laptop.orders");
    type_rows(
        page,
        "queue-arg",
        &[
            ("x-max-length", "10"),
            ("x-message-ttl", "60000"),
            ("x-dead-letter-exchange", "laptop.dlx"),
            ("x-max-priority", "5"),
        ],
    );
    click_for_notice(page, "#queue-declare", "Declared: queue 'laptop.orders'");
    let row = page.wait_text("tr[data-queue='laptop.orders'] td.name", "x-max-priority");
    for arg in ["x-max-length=10", "x-message-ttl=60000", "laptop.dlx", "x-max-priority=5"] {
        assert!(row.contains(arg), "the queue table shows {arg}: {row}");
    }
    // A click on the queue's name shows it in the inspector, in view.
    page.click("tr[data-queue='laptop.orders'] td.name button");
    page.wait_text(".inspector", "Queue 'laptop.orders'");
    page.assert_in_view(".inspector", "the inspector after a click on a queue");

    // Exchanges: a fanout with an alternate exchange.
    page.click("#tab-exchanges");
    typed(page, "#exchange-name", "laptop.dlx");
    page.click("#exchange-type option[value='fanout']");
    type_rows(page, "exchange-arg", &[("alternate-exchange", "amq.fanout")]);
    click_for_notice(page, "#exchange-declare", "Declared exchange 'laptop.dlx'");
    let table = page.wait_text("#exchanges-table", "laptop.dlx");
    assert!(table.contains("alternate-exchange"), "exchanges: {table}");

    // Bindings: the dead-letter exchange to the dead-letter queue, with two binding arguments.
    page.click("#tab-bindings");
    typed(page, "#binding-source", "laptop.dlx");
    typed(page, "#binding-destination", "laptop.dead");
    typed(page, "#binding-key", "orders.#");
    type_rows(page, "binding-arg", &[("x-laptop-note", "typed"), ("x-laptop-size", "1280")]);
    click_for_notice(page, "#binding-add", "Bound");
    let bindings = page.text("#tab-panel");
    assert!(bindings.contains("x-laptop-note"), "bindings: {bindings}");

    // Messages: every field of the publish form, headers included.
    page.click("#tab-messages");
    page.assert_in_view("#publish-form", "the publish form");
    typed(page, "#publish-exchange", "");
    typed(page, "#publish-key", "laptop.orders");
    typed(page, "#publish-expiration", "60000");
    typed(page, "#publish-priority", "3");
    typed(page, "#publish-content-type", "text/plain");
    typed(page, "#publish-reply-to", "laptop.replies");
    typed(page, "#publish-correlation-id", "corr-42");
    type_rows(page, "publish-header", &[("x-trace", "abc-123"), ("x-tenant", "eu-west")]);
    typed(page, "#publish-body", "hello from a laptop");
    page.click("#explain");
    page.wait_text("#explanation", "with key 'laptop.orders'");
    page.assert_in_view("#explanation", "the routing explanation");
    click_for_notice(page, "#publish", "Published to exchange '' with key 'laptop.orders'");

    // Peek, then the peeked message's detail: every typed property and header arrived.
    page.click("#get-queue option[value='laptop.orders']");
    page.click("#peek");
    page.wait_text("#peek-list", "hello from a laptop");
    page.assert_in_view("#peek-result", "the peeked messages");
    page.click("#peek-list button");
    let detail = page.wait_text("#message-detail", "hello from a laptop");
    page.assert_in_view("#message-detail", "the peeked message's detail");
    for shown in ["abc-123", "eu-west", "x-tenant", "text/plain", "laptop.replies", "corr-42", "60000"] {
        assert!(detail.contains(shown), "the detail shows {shown}: {detail}");
    }
    page.screenshot(&format!("e2e-laptop-{tag}-detail.png"));

    // Get (the count typed), requeued: the taken list and the detail in view.
    typed(page, "#get-count", "2");
    page.click("#get-mode option[value='nack-requeue']");
    click_for_notice(page, "#get", "Got 1 message from 'laptop.orders'");
    page.assert_in_view("#got-list", "the taken messages");

    // Move to a typed destination.
    page.click("#move-source option[value='laptop.orders']");
    typed(page, "#move-destination", "laptop.archive");
    click_for_notice(page, "#move", "laptop.archive");

    // The lineage of the first message, by its typed id.
    typed(page, "#lineage-id", "m1");
    page.click("#lineage-show");
    page.wait_text("#message-detail", "Message m1");
    page.assert_in_view("#message-detail", "the message found by its lineage id");
    click_for_notice(page, "#message-replay", "Replayed m1");

    // The log's filter.
    page.click("#tab-log");
    typed(page, "#log-text", "laptop.archive");
    page.wait_text(".log-viewport", "laptop.archive");

    // The workspace's name.
    if page.try_find("#ws-rename").is_some() {
        page.click("#ws-rename");
    }
    typed(page, "#ws-name", "My laptop lab");
    page.press("#ws-name", KEY_ENTER);
    let chosen = page.execute(
        "const s = document.getElementById('ws-select'); \
                               return s ? s.options[s.selectedIndex].text : null;",
        json!([]),
    );
    assert_eq!(chosen, json!("My laptop lab"), "the workspace is renamed as typed");

    // Run to a typed time, submitted with Enter.
    typed(page, "#ff-target", "2.5s");
    page.press("#ff-target", KEY_ENTER);
    page.wait_text("#clock", "t = 2.500s");

    // The scenario editor: a whole document typed key by key, then applied.
    page.click("#tab-scenario");
    let document = r#"{"brokerlab": 2, "name": "Typed on a laptop", "duration": "3s"}"#;
    typed(page, "#scenario-text", document);
    page.click("#scenario-apply");
    page.wait_text("#notice", "Loaded scenario 'Typed on a laptop'");
    page.assert_in_view("#notice", "the notice after Apply");
}

/// The tabs pane: one row of tabs, each visible and clickable, and a tab area of usable height.
fn check_tabs_usable(page: &Page, what: &str) {
    let (_, height) = page.viewport();
    let tops = page.execute(
        "return [...document.querySelectorAll('.tabs .tab')].map(t => t.getBoundingClientRect().top);",
        json!([]),
    );
    let tops: Vec<i64> =
        tops.as_array().unwrap().iter().map(|t| t.as_f64().unwrap().round() as i64).collect();
    assert_eq!(tops.len(), 8, "eight tabs");
    assert!(tops.iter().all(|t| *t == tops[0]), "{what}: the tabs wrap into more rows: tops {tops:?}");
    let ids = page.execute("return [...document.querySelectorAll('.tabs .tab')].map(t => t.id);", json!([]));
    for id in ids.as_array().unwrap().iter().filter_map(Value::as_str) {
        page.assert_in_view(&format!("#{id}"), &format!("{what}: the tab button"));
        page.click(&format!("#{id}"));
        page.wait_text(&format!("#{id}[aria-selected='true']"), "");
        let panel = page.execute(
            "return document.getElementById('tab-panel').getBoundingClientRect().height;",
            json!([]),
        );
        let panel = panel.as_f64().unwrap_or(0.0);
        assert!(
            panel >= (height / 3) as f64,
            "{what}: the tab area is {panel} px high under tab {id} (want at least a third of {height})"
        );
        page.assert_in_view("#tab-panel > *", &format!("{what}: the content of tab {id}"));
        let cut = cut_headers(page);
        assert!(cut.is_empty(), "{what}: column headers cut under tab {id}: {cut:?}");
    }
}

/// The column headers of the shown tables whose text does not fit (drawn cut, as `REA…`).
fn cut_headers(page: &Page) -> Vec<String> {
    let v = page.execute(
        "return [...document.querySelectorAll('#tab-panel table th')]
           .filter(th => th.innerText.trim() !== '' && th.scrollWidth > th.clientWidth + 1)
           .map(th => `${th.innerText.trim()} (${th.clientWidth} of ${th.scrollWidth} px)`);",
        json!([]),
    );
    v.as_array().unwrap().iter().filter_map(|s| s.as_str().map(str::to_string)).collect()
}

/// The bundled scenario whose panel (description and checks) is tallest at this size.
fn tallest_scenario(page: &Page) -> String {
    let mut tallest = (0.0, String::new());
    for id in page.bundled_scenarios() {
        page.load_scenario(&id);
        let h = page.execute("return document.getElementById('checks').scrollHeight;", json!([]));
        let h = h.as_f64().unwrap_or(0.0);
        if h > tallest.0 {
            tallest = (h, id);
        }
    }
    tallest.1
}

/// The page does not scroll sideways.
fn assert_no_sideways_scroll(page: &Page, what: &str) {
    let v = page.execute("return [document.documentElement.scrollWidth, window.innerWidth];", json!([]));
    let (scroll, inner) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
    assert!(scroll <= inner, "{what}: the page is {scroll} px wide in a {inner} px viewport");
}

/// One session at a laptop or desktop size: every form typed, then every tab reached with the tallest
/// scenario loaded and a click's result in view there too.
fn tour(width: i64, height: i64) {
    let browser = Browser::open_sized("/", width, height);
    let page = &browser.page;
    page.wait_text("header.app-header h1", "Brokerlab");
    assert_eq!(page.viewport(), (width, height));
    let tag = format!("{width}x{height}");
    page.screenshot(&format!("e2e-laptop-{tag}-start.png"));

    type_every_form(page, &tag);

    let tallest = tallest_scenario(page);
    page.load_scenario(&tallest);
    check_tabs_usable(page, &format!("{tag} with '{tallest}'"));
    // The scenario's panel folds to its head and summary, giving the room to the tabs, and unfolds.
    let panel_height = || {
        page.execute("return document.getElementById('tab-panel').getBoundingClientRect().height;", json!([]))
            .as_f64()
            .unwrap()
    };
    let unfolded = panel_height();
    page.click("#checks-fold");
    page.wait_text("#checks-fold[aria-expanded='false']", "Show details");
    assert!(panel_height() > unfolded, "folding the checks gives the tabs more room");
    page.assert_in_view("#checks-summary", "the checks' summary when folded");
    page.click("#checks-fold");
    page.wait_text("#checks-fold[aria-expanded='true']", "Hide details");
    let details = page.execute("return document.getElementById('checks-details').offsetHeight;", json!([]));
    assert!(details.as_f64().unwrap_or(0.0) > 0.0, "the checks show again when unfolded");
    // With the scenario's panel above them, the results still appear in view.
    page.click("#tab-messages");
    page.click("#explain");
    page.wait_text("#explanation", "Routing via exchange");
    page.assert_in_view("#explanation", "the routing explanation under a scenario");
    page.click("#peek");
    page.wait_text("#notice", "ready messages");
    page.assert_in_view("#peek-result", "the peek's result under a scenario");
    page.click("#tab-queues");
    page.screenshot(&format!("e2e-laptop-{tag}-{tallest}.png"));
    assert_no_sideways_scroll(page, &tag);
    assert!(page.console_errors().is_empty(), "console errors: {:?}", page.console_errors());
}

#[test]
fn a_1280x720_laptop_types_every_form_reaches_every_tab_and_shows_each_result() {
    tour(1280, 720);
}

#[test]
fn a_1920x1080_desktop_types_every_form_reaches_every_tab_and_shows_each_result() {
    tour(1920, 1080);
}

/// Every bundled scenario at the two other laptop sizes: tabs on one row, a usable tab area, the publish
/// form reachable, headers whole; then a tablet and a phone width never scroll sideways on any tab.
#[test]
fn every_bundled_scenario_fits_1366x768_and_1024x700_and_narrow_pages_never_scroll_sideways() {
    let browser = Browser::open_sized("/", 1366, 768);
    let page = &browser.page;
    page.wait_text("header.app-header h1", "Brokerlab");
    let scenarios = page.bundled_scenarios();
    assert!(scenarios.len() >= 11, "the bundled scenarios: {scenarios:?}");
    for (width, height) in [(1366, 768), (1024, 700)] {
        page.set_viewport(width, height);
        for id in &scenarios {
            page.load_scenario(id);
            check_tabs_usable(page, &format!("{width}x{height} with '{id}'"));
            page.click("#tab-messages");
            page.assert_in_view("#publish-form", &format!("{width}x{height} with '{id}': the publish form"));
            // Reachable: scrolled to inside the tab area, the button shows whole and nothing covers it.
            page.execute("document.getElementById('publish').scrollIntoView({block: 'nearest'});", json!([]));
            page.assert_in_view("#publish", &format!("{width}x{height} with '{id}': the Publish button"));
            assert_no_sideways_scroll(page, &format!("{width}x{height} with '{id}'"));
        }
        page.click("#tab-queues");
        page.screenshot(&format!("e2e-laptop-{width}x{height}.png"));
    }
    let tallest = tallest_scenario(page);
    page.load_scenario(&tallest);
    for (width, height) in [(700, 900), (390, 844)] {
        page.set_viewport(width, height);
        let ids =
            page.execute("return [...document.querySelectorAll('.tabs .tab')].map(t => t.id);", json!([]));
        for id in ids.as_array().unwrap().iter().filter_map(Value::as_str) {
            // As a reader does: bring the tab row out from under the sticky notice before clicking (the
            // tall Messages tab leaves the page scrolled with the tabs at the top edge, under the notice).
            click_in_sight(page, &format!("#{id}"));
            page.wait_text(&format!("#{id}[aria-selected='true']"), "");
            assert_no_sideways_scroll(page, &format!("{width}x{height} with '{tallest}' on {id}"));
        }
        click_in_sight(page, "#tab-messages");
        click_in_sight(page, "#explain");
        page.wait_text("#explanation", "Routing via exchange");
        page.assert_in_view("#explanation", &format!("{width}x{height}: the routing explanation"));
        page.screenshot(&format!("e2e-laptop-{width}x{height}.png"));
    }
    assert!(page.console_errors().is_empty(), "console errors: {:?}", page.console_errors());
}

/// Scrolls the element to the middle of the window, then clicks it: WebDriver's own click does not scroll an
/// element that shows at the window's edge, even when the sticky notice bar lies over it there.
fn click_in_sight(page: &Page, css: &str) {
    page.execute("document.querySelector(arguments[0]).scrollIntoView({block: 'center'});", json!([css]));
    page.click(css);
}
