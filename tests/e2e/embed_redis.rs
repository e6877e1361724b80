//! The Redis sandbox end to end: the example page `/examples/redis-streams.html` embeds a Redis sandbox
//! (`data-model="redis"`, its own module `embed-redis/`) playing the streams tutorial
//! (tests/scenarios/redis-tutorials); through the page's `postMessage` API the test plays and pauses it,
//! runs it to bob's crash with the page's buttons, reads the group's pending entries and lag, sends
//! `XPENDING` on the sandbox's console connection (redis-cli's reply, printed by the page), gets
//! redis-server's error for a wrong command, sees the rescuer's claim pushed to the page as an event, and
//! runs to the end with every check passed — at 1280×720 and 1920×1080, screenshots
//! `artifacts/e2e-embed-redis-*.png`. And the sandbox's first download, opened on its own: only its
//! module, within the 650 kB budget (gzip; brotli printed).

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
    api(page, &format!("Brokerlab.get('#sandbox-redis').{call}")).unwrap_or_else(|e| panic!("{call}: {e}"))
}

/// The events of `kind` pushed to the page so far.
fn events(page: &Page, kind: &str) -> Vec<Value> {
    let events = page.execute("return window.redisEvents;", json!([]));
    events.as_array().expect("events").iter().filter(|e| e["event"] == kind).cloned().collect()
}

fn run_at(width: i64, height: i64) {
    let browser = Browser::open_sized("/examples/redis-streams.html", width, height);
    let page = &browser.page;
    let info = sandbox_call(page, "ready()");
    assert_eq!(info["model"], "redis", "the Redis sandbox answered: {info}");
    assert_eq!(info["scenario"]["bundled"], "streams-consumer-groups-and-xautoclaim", "{info}");
    assert_eq!(info["endMillis"], 20_000, "{info}");
    let frame_src = page.execute("return document.querySelector('#sandbox-redis iframe').src;", json!([]));
    assert!(frame_src.as_str().unwrap_or("").contains("model=redis"), "{frame_src}");

    page.execute(
        "window.redisEvents = [];
         Brokerlab.get('#sandbox-redis').on('event', r => window.redisEvents.push(r));",
        json!([]),
    );
    assert_eq!(sandbox_call(page, "play()")["playing"], true);
    assert_eq!(sandbox_call(page, "pause()")["playing"], false);

    // At 3.5 s (the golden transcript): book-1 acknowledged, bob crashed holding book-2, alice on book-3.
    page.click("#redis-run35");
    let text = page.wait_text("#redis-readout", "t = 3.500s");
    assert!(
        text.contains(
            "orders: length 3 · group shipping: pending 2 · lag 0 · last-delivered 1700000003000-0"
        ),
        "{text}"
    );
    let crashed = events(page, "crashed");
    assert_eq!(crashed.len(), 1, "{crashed:?}");
    assert_eq!((crashed[0]["worker"].clone(), crashed[0]["at"].clone()), (json!("bob"), json!(3_200)));

    // XPENDING on the sandbox's console connection: redis-cli's lines, bob's entry idle since 2 s.
    page.click("#redis-xpending");
    let text = page.wait_text("#redis-readout", "127.0.0.1:6379> XPENDING orders shipping - + 10");
    assert!(
        text.contains("1) 1) \"1700000002000-0\"\n   2) \"bob\"\n   3) (integer) 1500\n   4) (integer) 1"),
        "{text}"
    );
    assert!(text.contains("2) 1) \"1700000003000-0\"\n   2) \"alice\""), "{text}");
    // redis-server's error, in redis-cli's words; the sandbox's own refusal of a line it cannot split.
    let refused = api(page, "Brokerlab.get('#sandbox-redis').command('LPUSH orders x')").unwrap_err();
    assert_eq!(refused, "(error) WRONGTYPE Operation against a key holding the wrong kind of value");
    let refused = api(page, "Brokerlab.get('#sandbox-redis').command('SET x \"open')").unwrap_err();
    assert_eq!(refused, "Invalid argument(s)");
    let refused = api(page, "Brokerlab.get('#sandbox-redis').counters('nope')").unwrap_err();
    assert!(refused.starts_with("no list, stream, channel or pattern 'nope' at 3.500s"), "{refused}");
    page.screenshot(&format!("e2e-embed-redis-3500ms-{width}x{height}.png"));

    // At 8.5 s the rescuer's XAUTOCLAIM took bob's entry (its second delivery) and acknowledged it.
    page.click("#redis-run85");
    let text = page.wait_text("#redis-readout", "t = 8.500s");
    assert!(text.contains("group shipping: pending 1 · lag 0 · last-delivered 1700000006000-0"), "{text}");
    let took: Vec<Value> = events(page, "took").into_iter().filter(|e| e["worker"] == "rescuer").collect();
    assert_eq!(took.len(), 1, "{took:?}");
    assert_eq!((took[0]["id"].clone(), took[0]["deliveries"].clone()), (json!("1700000002000-0"), json!(2)));

    // To the end: every check of the tutorial passes (the page's commands changed nothing they count).
    page.click("#redis-run-end");
    let text = page.wait_text("#redis-readout", "(run finished)");
    assert!(text.contains("group shipping: pending 0 · lag 0"), "{text}");
    let checks = sandbox_call(page, "checks()");
    assert_eq!((checks["pending"].clone(), checks["failed"].clone()), (json!(0), json!(0)), "{checks}");
    let typed = events(page, "typed");
    assert_eq!(typed.len(), 2, "the XPENDING and the refused LPUSH were sent: {typed:?}");
    // Inside the sandbox's frame: the keys panel and the console with the page's commands.
    let frame = page.find("#sandbox-redis iframe");
    post(&format!("{}/frame", page.s), json!({"id": {"element-6066-11e4-a52e-4f735466cecf": frame}}));
    let rows = page.execute(
        "return Array.from(document.querySelectorAll('#embed-keys tbody tr')).map(tr => tr.textContent);",
        json!([]),
    );
    let console = page.execute("return document.querySelector('#embed-console').textContent;", json!([]));
    let listed = page.execute("return document.querySelectorAll('#embed-checks li.pass').length;", json!([]));
    post(&format!("{}/frame/parent", page.s), json!({}));
    let rows: Vec<&str> = rows.as_array().expect("rows").iter().filter_map(Value::as_str).collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].starts_with("ordersstream6group shipping: pending 0 · lag 0"), "{rows:?}");
    let console = console.as_str().unwrap_or("");
    assert!(console.contains("127.0.0.1:6379> LPUSH orders x\n(error) WRONGTYPE"), "{console}");
    assert_eq!(listed, json!(8), "the tutorial's eight checks, passed");
    page.execute("document.querySelector('#sandbox-redis').scrollIntoView({block: 'end'});", json!([]));
    page.screenshot(&format!("e2e-embed-redis-end-{width}x{height}.png"));
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn a_redis_tutorial_embedded_in_a_page_at_1280x720() {
    run_at(1280, 720);
}

#[test]
fn a_redis_tutorial_embedded_in_a_page_at_1920x1080() {
    run_at(1920, 1080);
}

#[test]
fn the_redis_sandbox_downloads_only_its_own_module_within_the_budget() {
    let browser = Browser::open("/");
    let page = &browser.page;
    let (port, dist) = (served_port(), trunk_build());
    let (name, path, selector, budget) =
        PAGE_BUDGETS.into_iter().find(|p| p.0 == "Redis sandbox").expect("listed in PAGE_BUDGETS");
    let (fetched, _) = initial_download(page, port, path, selector, &dist);
    let wasm: Vec<&str> = fetched.iter().map(|f| f.file.as_str()).filter(|f| f.ends_with(".wasm")).collect();
    assert_eq!(wasm, ["embed-redis/brokerlab_embed_redis_bg.wasm"], "only the Redis sandbox's module");
    let gz: u64 = fetched.iter().map(|f| f.gzip).sum();
    let br: Option<u64> = fetched.iter().map(|f| f.brotli).sum();
    let files: Vec<String> = fetched
        .iter()
        .map(|f| format!("{} {} raw, {} gz, {:?} br", f.file, f.raw, f.gzip, f.brotli))
        .collect();
    println!("{name} ({path}): {gz} bytes gzipped, brotli {br:?}: {}", files.join("; "));
    assert!(gz <= budget, "{name}: {gz} bytes gzipped > {budget}: {files:?}");
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}
