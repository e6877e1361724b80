//! The Redis page in the browser (issue 20), opened by `?model=redis` from the same index.html as the
//! other pages, at 1280×720 and 1920×1080: the streams tutorial picked with a click, played with the
//! keyboard to the moment the crashed consumer's entry waits in the pending entries list, then the
//! console driven with real key presses — commands typed and sent with Enter, redis-cli's replies and
//! errors, Up recalling the last command — and the commands played again after a rewind. The page
//! fetched only the Redis module. A workspace: console commands typed at their instants (a push, a `BRPOP`
//! that waits and times out, an `LRANGE`), saved by Enter in the bar's name field, and after a reload
//! (`?ws=`) reopened at its time with the commands replayed. The charts over the run (a group's pending
//! entries and lag, a channel's deliveries and missed messages, a list's length with the console's
//! pushes), shown with a click and read at the page's time, moved by the keyboard. The explanations ("why pending?", "XAUTOCLAIM next?", "who got it?") opened with Enter and
//! closed with Escape. Screenshots: `artifacts/e2e-redis-*.png`.

use crate::harness::*;
use crate::sqs::fetched;
use serde_json::json;

const INPUT: &str = "#redis-console-input";

/// Types `line` in the console with real key presses and sends it with Enter.
fn send(page: &Page, line: &str) {
    page.type_keys(INPUT, line);
    keys(page, &[KEY_ENTER]);
}

/// Waits (bounded: 60 s) until stream `key` shows at least `n` entries while the page plays: at 5× a
/// redraw can come after several `XADD`s, so an exact length can be skipped.
fn wait_xlen_at_least(page: &Page, key: &str, n: usize) {
    let css = format!("[data-key={key}] .redis-key-head");
    let mut last = String::new();
    for _ in 0..600 {
        if page.try_find(&css).is_some() {
            last = page.text(&css);
            let len = last.split("XLEN ").nth(1).and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next());
            if len.and_then(|l| l.parse::<usize>().ok()).is_some_and(|l| l >= n) {
                return;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{css} never showed XLEN {n} or more; last text: {last:?}");
}

fn run_at(width: i64, height: i64) {
    let b = Browser::open_sized("/?model=redis&doc=job-queue-brpop-and-blmove", width, height);
    let page = &b.page;
    page.wait_text("#redis-about h2", "a job queue with BRPOP");
    let files = fetched(page);
    assert!(files.iter().any(|f| f.ends_with("redis/brokerlab_redis_bg.wasm")), "{files:?}");
    assert!(
        !files.iter().any(|f| f.contains("brokerlab_web")
            || f.contains("brokerlab_kafka")
            || f.contains("brokerlab_sqs")),
        "only the Redis module was fetched: {files:?}"
    );

    // The streams tutorial, picked with a click; played at 5× until the shop added three orders.
    page.click("#redis-doc option[value='streams-consumer-groups-and-xautoclaim']");
    page.wait_text("#redis-about h2", "recovered with XAUTOCLAIM");
    page.wait_text("#redis-clock", "0.000 s / 20.000 s");
    page.assert_in_view("#redis-play", "the play button");
    page.assert_in_view(INPUT, "the console");
    page.click("#redis-speed option[value='5']");
    page.click("#redis-play");
    wait_xlen_at_least(page, "orders", 3);
    page.click("#redis-play");
    page.wait_text("#redis-play", "Play");

    // Then with the keyboard to 6 s: bob crashed at 3.2 s holding an order, pending for him.
    blur(page);
    keys(page, &[KEY_HOME, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#redis-clock", "6.000 s / 20.000 s");
    let bob = page.text(".redis-pel-row[data-consumer=bob]");
    assert!(bob.contains("bob"), "{bob}");
    page.assert_in_view(".redis-pel", "the pending entries list");

    // The console: real key presses, Enter sends; redis-cli's replies and errors.
    send(page, "XPENDING orders shipping - + 10 bob");
    page.wait_text("#redis-console-out", "4) (integer) 1");
    send(page, "LPUSH orders x");
    page.wait_text(
        "#redis-console-out",
        "(error) WRONGTYPE Operation against a key holding the wrong kind of value",
    );
    send(page, "XADD audit * who me");
    page.wait_text("#redis-console-out", "\"1700000006000-0\"");
    page.wait_text("[data-key=audit] .redis-entry-fields", "who=me");
    // Up recalls the last command.
    keys(page, &[KEY_UP]);
    assert_eq!(page.value(INPUT), "XADD audit * who me");
    let clock = page.text("#redis-clock");
    assert_eq!(clock, "6.000 s / 20.000 s", "typing in the console does not move time");
    page.assert_in_view("#redis-console-out", "the console's output");
    page.screenshot(&format!("e2e-redis-console-{width}.png"));

    // Rewound with the keyboard: the commands are not there yet; at the end they were sent again.
    blur(page);
    keys(page, &[KEY_HOME]);
    page.wait_text("#redis-clock", "0.000 s / 20.000 s");
    assert_eq!(page.execute("return document.querySelectorAll('.redis-typed').length;", json!([])), json!(0));
    keys(page, &[KEY_END]);
    page.wait_text("#redis-clock", "20.000 s / 20.000 s");
    page.wait_text("#redis-checks h2", "Checks: 8 passed, 0 failed, 0 to come");
    assert_eq!(page.execute("return document.querySelectorAll('.redis-typed').length;", json!([])), json!(3));
    page.screenshot(&format!("e2e-redis-end-{width}.png"));
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

/// Console commands at their instants, saved as a workspace with Enter, reopened after a reload.
fn workspace_at(width: i64, height: i64) {
    let db = format!("e2eredis{width}");
    let b =
        Browser::open_sized(&format!("/?model=redis&doc=job-queue-brpop-and-blmove&db={db}"), width, height);
    let page = &b.page;
    page.wait_text("#redis-about h2", "a job queue with BRPOP");
    page.wait_text("#redis-ws-list", "");
    // At 0 a push by hand on a list nobody pops; at 2 s a BRPOP with a 2 s timeout, which waits.
    send(page, "RPUSH later by-hand");
    page.wait_text("#redis-console-out", "(integer) 1");
    blur(page);
    keys(page, &[KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#redis-clock", "2.000 s / 20.000 s");
    send(page, "BRPOP inbox 2");
    page.wait_text("#redis-console-out", "(waiting…)");
    // At 5 s it has timed out (redis-cli's `(nil)` and the time it took); the list is read by hand.
    blur(page);
    keys(page, &[KEY_RIGHT, KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#redis-clock", "5.000 s / 20.000 s");
    page.wait_text("#redis-console-out", "(2.00s)");
    send(page, "LRANGE later 0 -1");
    page.wait_text("#redis-console-out", "1) \"by-hand\"");
    // Saved by Enter in the bar's name field.
    page.type_keys("#redis-ws-name", "Jobs by hand");
    page.press("#redis-ws-name", KEY_ENTER);
    page.wait_text("#redis-ws-status", "Saved workspace 'Jobs by hand'");
    page.screenshot(&format!("e2e-redis-ws-saved-{width}.png"));

    // A reload on the workspace: the same time, the commands sent again at their instants.
    page.goto(&format!("/?model=redis&db={db}&ws=w1"));
    page.wait_text("#redis-clock", "5.000 s / 20.000 s");
    page.wait_text("#redis-about h2", "a job queue with BRPOP");
    let out = page.wait_text("#redis-console-out", "1) \"by-hand\"");
    assert!(out.contains("RPUSH later by-hand") && out.contains("(nil)") && out.contains("(2.00s)"), "{out}");
    assert_eq!(page.execute("return document.querySelectorAll('.redis-typed').length;", json!([])), json!(3));
    let typed_at = page
        .execute("return [...document.querySelectorAll('.redis-typed')].map(e => e.dataset.at);", json!([]));
    assert_eq!(typed_at, json!(["0", "2000", "5000"]), "each command at its instant");
    assert_eq!(page.value("#redis-ws-name"), "Jobs by hand");
    page.assert_in_view("#redis-ws-name", "the workspace's name");
    // The console's history came back with the workspace: Up recalls the last command.
    page.click(INPUT);
    keys(page, &[KEY_UP]);
    assert_eq!(page.value(INPUT), "LRANGE later 0 -1");
    page.screenshot(&format!("e2e-redis-ws-reopened-{width}.png"));
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

/// The readout of the chart `slug` (`group:orders:shipping`): what it says at the page's time.
fn chart_now(page: &Page, slug: &str) -> String {
    page.text(&format!("[data-chart='{slug}'] .redis-chart-now"))
}

fn charts_at(width: i64, height: i64) {
    let b = Browser::open_sized("/?model=redis&doc=streams-consumer-groups-and-xautoclaim", width, height);
    let page = &b.page;
    page.wait_text("#redis-about h2", "recovered with XAUTOCLAIM");
    // Hidden until asked for (showing them samples the whole run); they stay shown for the other documents.
    assert_eq!(page.text("#redis-charts-toggle"), "Show charts");
    page.click("#redis-charts-toggle");
    let group = "group:orders:shipping";
    page.wait_text(
        &format!("[data-chart='{group}'] figcaption"),
        "stream orders, group shipping: pending and lag",
    );
    // With the keyboard to 3 s, then 6 s (the golden transcript): at 3 s alice holds book-3 and bob
    // book-2; at 6 s alice took book-5 and book-6 waits (lag 1).
    blur(page);
    keys(page, &[KEY_HOME, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#redis-clock", "3.000 s / 20.000 s");
    assert_eq!(chart_now(page, group), "at 3 s: pending 2 · lag 0");
    keys(page, &[KEY_RIGHT, KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#redis-clock", "6.000 s / 20.000 s");
    assert_eq!(chart_now(page, group), "at 6 s: pending 2 · lag 1");
    // The line: drawn over the whole run (the group exists from 0), the page's time marked.
    let drawn = page.execute(
        "const f = document.querySelector(arguments[0]);
         return [f.querySelectorAll('polyline.pending').length, f.querySelectorAll('polyline.lag').length,
                 f.querySelector('line.now').getAttribute('x1')];",
        json!([format!("[data-chart='{group}']")]),
    );
    assert_eq!(drawn, json!([1, 1, "156"]), "6 s of 20 on a 520-wide chart");
    page.execute("document.querySelector('#redis-charts').scrollIntoView({block: 'start'});", json!([]));
    page.assert_in_view(&format!("[data-chart='{group}'] svg"), "the group's chart");
    page.screenshot(&format!("e2e-redis-charts-streams-{width}.png"));

    // Pub/sub, picked with a click, to the end with End: 19 deliveries and 11 missed messages (PUBLISH
    // replied 0, 2, 2, 1, 1, 2, 2, 3, 3, 3 in the golden transcript).
    page.click("#redis-doc option[value='pubsub-fire-and-forget']");
    page.wait_text("#redis-about h2", "pub/sub is fire-and-forget");
    blur(page);
    keys(page, &[KEY_END]);
    page.wait_text("#redis-clock", "10.000 s / 10.000 s");
    assert_eq!(chart_now(page, "channel:scores.football"), "at 10 s: delivered 19 · missed 11");
    page.execute("document.querySelector('#redis-charts').scrollIntoView({block: 'start'});", json!([]));
    page.screenshot(&format!("e2e-redis-charts-pubsub-{width}.png"));

    // The job queue: at 5 s three jobs pushed on the console with real key presses are on the list's
    // chart from then on.
    page.click("#redis-doc option[value='job-queue-brpop-and-blmove']");
    page.wait_text("#redis-about h2", "a job queue with BRPOP");
    blur(page);
    keys(page, &[KEY_HOME, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#redis-clock", "5.000 s / 20.000 s");
    let before = chart_now(page, "list:jobs");
    assert_eq!(before, "at 5 s: length 2", "job-3 and job-4 wait (the golden transcript)");
    send(page, "RPUSH jobs a b c");
    page.wait_text("#redis-console-out", "(integer) 5");
    page.wait_text("[data-chart='list:jobs'] .redis-chart-now", "at 5 s: length 5");
    blur(page);
    keys(page, &[KEY_LEFT]);
    page.wait_text("#redis-clock", "4.000 s / 20.000 s");
    assert_eq!(chart_now(page, "list:jobs"), "at 4 s: length 2", "before the push");
    page.execute("document.querySelector('#redis-charts').scrollIntoView({block: 'start'});", json!([]));
    page.screenshot(&format!("e2e-redis-charts-list-{width}.png"));
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

/// Waits (bounded) until nothing matches `css`.
fn wait_gone(page: &Page, css: &str) {
    for _ in 0..100 {
        if page.try_find(css).is_none() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{css} is still there");
}

/// The id of the element that has the focus.
fn focused(page: &Page) -> String {
    let v = page.execute("return document.activeElement ? document.activeElement.id : '';", json!([]));
    v.as_str().unwrap_or("").to_string()
}

/// The three explanations, opened with Enter on their buttons and closed with Escape: why bob's entry is
/// still pending after his crash, what XAUTOCLAIM would take with a min-idle typed in, and who got a
/// message published while a subscriber was away.
fn explanations_at(width: i64, height: i64) {
    let b = Browser::open_sized("/?model=redis&doc=streams-consumer-groups-and-xautoclaim", width, height);
    let page = &b.page;
    page.wait_text("#redis-about h2", "recovered with XAUTOCLAIM");
    page.wait_text("#redis-clock", "0.000 s / 20.000 s");
    blur(page);
    keys(page, &[KEY_HOME, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#redis-clock", "6.000 s / 20.000 s");

    // "why pending?" on bob's entry, with Enter: the panel takes the focus, Escape closes it.
    let bob = ".redis-pel-row[data-consumer=bob] .redis-why-pending";
    page.press(bob, KEY_ENTER);
    let why = page.wait_text("#redis-explain", "still pending");
    assert!(why.contains("bob"), "{why}");
    assert!(why.contains("XACK"), "what would free it: {why}");
    assert!(page.text("#redis-explain [data-fact=idle]").ends_with(" ms"), "{why}");
    assert_eq!(focused(page), "redis-explain-close", "the panel has the focus");
    page.assert_in_view("#redis-explain", "the explanation");
    page.screenshot(&format!("e2e-redis-why-pending-{width}.png"));
    keys(page, &[KEY_ESCAPE]);
    wait_gone(page, "#redis-explain");
    assert_eq!(page.text("#redis-clock"), "6.000 s / 20.000 s", "Escape in the panel does not move time");

    // "XAUTOCLAIM next?" on the group: with min-idle 0 and COUNT 100 it claims bob's entry; with a day,
    // nothing.
    page.press("[data-group=shipping] .redis-why-autoclaim", KEY_ENTER);
    page.wait_text("#redis-explain", "What does XAUTOCLAIM take next");
    page.send_keys("#redis-autoclaim-count", "100");
    page.send_keys("#redis-autoclaim-min-idle", "0");
    page.wait_text(".redis-autoclaim-command", "XAUTOCLAIM orders shipping rescuer 0 0-0 COUNT 100");
    let id = page
        .execute("return document.querySelector('.redis-pel-row[data-consumer=bob]').dataset.id;", json!([]));
    let id = id.as_str().expect("bob's pending id").to_string();
    page.wait_text(&format!(".redis-autoclaim-row[data-id='{id}'][data-verdict=claimed]"), "");
    page.send_keys("#redis-autoclaim-min-idle", "86400000");
    page.wait_text(&format!(".redis-autoclaim-row[data-id='{id}'][data-verdict=too-young]"), "too young");
    assert!(page.try_find(".redis-autoclaim-row[data-verdict=claimed]").is_none(), "nothing is a day idle");
    page.screenshot(&format!("e2e-redis-xautoclaim-next-{width}.png"));
    // A field emptied keeps what was typed, and the preview is Redis's reply to such an argument.
    page.send_keys("#redis-autoclaim-count", "0");
    page.wait_text("#redis-explain .notice.error", "ERR COUNT must be > 0");
    assert_eq!(page.value("#redis-autoclaim-count"), "0");
    page.click("#redis-explain-close");
    wait_gone(page, "#redis-explain");

    // Pub/sub: at 4 s the dashboard is away; "who got it?" on the latest publish (goal-4 at 3.5 s).
    page.click("#redis-doc option[value='pubsub-fire-and-forget']");
    page.wait_text("#redis-clock", "0.000 s / 10.000 s");
    blur(page);
    keys(page, &[KEY_RIGHT, KEY_RIGHT, KEY_RIGHT, KEY_RIGHT]);
    page.wait_text("#redis-clock", "4.000 s / 10.000 s");
    page.press(".redis-publishes .redis-publish:first-child .redis-why-publish", KEY_ENTER);
    page.wait_text("#redis-explain", "goal-4");
    page.wait_text("#redis-explain [data-subscriber=archiver][data-fate=got]", "");
    page.wait_text("#redis-explain [data-subscriber=dashboard][data-fate=missed]", "");
    page.wait_text("#redis-explain [data-subscriber=mobile][data-fate=missed]", "");
    page.assert_in_view("#redis-explain", "the explanation");
    page.screenshot(&format!("e2e-redis-who-got-it-{width}.png"));
    keys(page, &[KEY_ESCAPE]);
    wait_gone(page, "#redis-explain");
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn redis_explanations_at_1280x720() {
    explanations_at(1280, 720);
}

#[test]
fn redis_explanations_at_1920x1080() {
    explanations_at(1920, 1080);
}

#[test]
fn redis_charts_at_1280x720() {
    charts_at(1280, 720);
}

#[test]
fn redis_charts_at_1920x1080() {
    charts_at(1920, 1080);
}

#[test]
fn redis_workspace_at_1280x720() {
    workspace_at(1280, 720);
}

#[test]
fn redis_workspace_at_1920x1080() {
    workspace_at(1920, 1080);
}

#[test]
fn redis_page_at_1280x720() {
    run_at(1280, 720);
}

#[test]
fn redis_page_at_1920x1080() {
    run_at(1920, 1080);
}

#[test]
fn the_other_pages_pickers_go_to_the_redis_page() {
    let b = Browser::open_sized("/", 1280, 720);
    let page = &b.page;
    page.wait_text("header.app-header", "Scenario");
    page.click("#model-picker option[value='redis']");
    page.wait_text("#redis-about h2", "Streams and consumer groups");
    let search = page.execute("return location.search;", json!([]));
    assert_eq!(search.as_str(), Some("?model=redis"));
    page.click("#model-picker option[value='sqs']");
    page.wait_text("#sqs-about h2", "the visibility timeout");
    page.click("#model-picker option[value='redis']");
    page.wait_text("#redis-about h2", "Streams and consumer groups");
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}
