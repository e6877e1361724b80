//! Embed mode end to end: the example tutorial page (`/examples/work-queues.html`) with its two embedded
//! sandboxes, driven by the page's own buttons and read back through the `postMessage` API; a message from
//! a foreign origin is ignored, bad requests get error replies; the embed opened by its address shows only
//! the panels asked for. Screenshots: `artifacts/e2e-embed-*.png`.

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

/// Counters of `task_queue` in the sandbox `selector`, read through the API.
fn task_queue(page: &Page, selector: &str) -> Value {
    let result = api(page, &format!("Brokerlab.get('{selector}').counters('task_queue')"))
        .unwrap_or_else(|e| panic!("counters of {selector}: {e}"));
    let mut q = result["queues"]["task_queue"].clone();
    q["timeMillis"] = result["timeMillis"].clone();
    q
}

/// Runs `script` inside the first sandbox's frame. Its origin is opaque (no `allow-same-origin`), so the
/// page's own scripts cannot reach into it; WebDriver can.
fn in_sandbox(page: &Page, script: &str) -> Value {
    let frame = page.find("#sandbox-one iframe");
    post(&format!("{}/frame", page.s), json!({"id": {"element-6066-11e4-a52e-4f735466cecf": frame}}));
    let result = page.execute(script, json!([]));
    post(&format!("{}/frame/parent", page.s), json!({}));
    result
}

/// The reply a raw message posted by the page to the first sandbox's frame gets (waits for it).
fn raw_reply(page: &Page, message: Value) -> Value {
    let script = "const [message, done] = arguments;
        const frame = document.querySelector('#sandbox-one iframe');
        const onMessage = e => {
            if (e.source === frame.contentWindow && e.data && e.data.type === 'reply' && e.data.id === message.id) {
                window.removeEventListener('message', onMessage);
                done(e.data);
            }
        };
        window.addEventListener('message', onMessage);
        // The sandbox's origin is opaque (no allow-same-origin): it cannot be named as the target.
        frame.contentWindow.postMessage(message, '*');";
    page.execute_async(script, json!([message]))
}

#[test]
fn the_example_tutorial_drives_two_embedded_sandboxes() {
    let browser = Browser::open("/examples/work-queues.html");
    let page = &browser.page;
    let infos = api(
        page,
        "Promise.all([Brokerlab.get('#sandbox-one').ready(), Brokerlab.get('#sandbox-two').ready()])",
    )
    .expect("both sandboxes start and answer");
    assert_eq!(infos[0]["scenario"], Value::Null, "sandbox one waits for the page to load its scenario");
    // Isolation: scripts run, but never with the page's origin (the pair would let the frame lift its
    // sandbox): the sandbox has an opaque origin, and the page cannot reach into it.
    let isolation = page.execute(
        "const frame = document.querySelector('#sandbox-one iframe');
         let reachable = true;
         try { void frame.contentWindow.document.body; } catch (e) { reachable = false; }
         return [frame.getAttribute('sandbox'), reachable];",
        json!([]),
    );
    let tokens = isolation[0].as_str().expect("a sandbox attribute");
    assert!(tokens.split(' ').any(|t| t == "allow-scripts"), "{tokens}");
    assert!(!tokens.split(' ').any(|t| t == "allow-same-origin"), "{tokens}");
    assert_eq!(isolation[1], json!(false), "the sandbox's document is out of the page's reach");
    // Its stylesheets still load (cross-origin from the opaque origin, with their integrity checked), and
    // the sandbox's own styles (embed.css, drawn by the sandbox's root in a <style>) apply too.
    let styles = in_sandbox(
        page,
        "const links = [...document.querySelectorAll('link[rel=stylesheet]')];
         const own = [...document.querySelectorAll('style')]
           .filter(s => s.sheet && s.textContent.includes('html[data-embed]'));
         return [links.length, links.filter(l => l.sheet).length, origin, own.length];",
    );
    assert!(styles[0].as_u64().unwrap_or(0) >= 4, "{styles}");
    assert_eq!(styles[0], styles[1], "every stylesheet applies inside the sandbox: {styles}");
    assert_eq!(styles[2], "null", "the sandbox's origin is opaque");
    assert_eq!(styles[3], 1, "the sandbox's own styles are drawn once and apply: {styles}");
    assert_eq!(infos[1]["scenario"]["name"], "2. Work queues", "sandbox two loaded by its data-scenario");
    assert_eq!(infos[1]["protocol"], 1);

    // Sandbox one: the page's buttons load a document through the API, run to 10 s and publish.
    page.click("#one-load");
    page.wait_text("#one-readout", "Loaded “One worker” at t = 0.000s");
    page.click("#one-run");
    let text = page.wait_text("#one-readout", "t = 10.000s");
    assert!(text.contains("task_queue: ready 0 · unacked 0 · published "), "the worker keeps up: {text}");
    let q = task_queue(page, "#sandbox-one");
    assert_eq!(q["timeMillis"], 10_000);
    let done = q["acked"].as_u64().unwrap();
    assert!(done >= 4, "a task every 2 s from 0.1 s, each done in 1 s: {q}");
    assert_eq!((q["published"].as_u64(), q["delivered"].as_u64()), (Some(done), Some(done)), "{q}");

    page.click("#one-publish");
    page.wait_text("#one-readout", "Published “task from the page #1” at t = 10.000s");
    let q = task_queue(page, "#sandbox-one");
    assert_eq!(
        (q["ready"].clone(), q["unacked"].clone()),
        (json!(0), json!(1)),
        "the idle worker took it at once: {q}"
    );
    page.click("#one-counters");
    page.wait_text("#one-readout", "task_queue: ready 0 · unacked 1 ·");

    // Play: the worker finishes the task in a virtual second (bounded wait, then pause).
    page.click("#one-play");
    page.wait_text("#one-readout", "Playing from t = 10.000s");
    // While playing, the worker does the page's task too (the producer's next task comes at 10.1 s).
    let acked = api(
        page,
        &format!(
            "new Promise((resolve, reject) => {{
                const s = Brokerlab.get('#sandbox-one');
                let tries = 0;
                const poll = () => s.counters('task_queue').then(c => {{
                    if (c.queues.task_queue.acked >= {done} + 2) resolve(c);
                    else if (++tries > 150) reject(new Error('not acked: ' + JSON.stringify(c)));
                    else setTimeout(poll, 100);
                }}, reject);
                poll();
            }})"
        ),
    )
    .expect("the page's task and the producer's next one are done while playing");
    assert!(acked["timeMillis"].as_u64().unwrap() > 11_000, "{acked}");
    assert!(acked["queues"]["task_queue"]["published"].as_u64().unwrap() >= done + 2, "{acked}");
    let paused = api(page, "Brokerlab.get('#sandbox-one').pause()").unwrap();
    assert_eq!(paused["playing"], false);
    page.screenshot("e2e-embed-one-worker.png");

    // Sandbox two: the bundled scenario run to its end; events and the end arrive as notifications.
    page.click("#two-run");
    let text = page.wait_text("#two-readout", "(run finished)");
    assert!(
        text.contains("task_queue: ready 0 · unacked 0 · published 10 · delivered 11 · acked 10"),
        "one task was delivered twice (worker-1 died holding it): {text}"
    );
    page.wait_text("#two-finished", "at 10.000s: 6 of 6 checks pass");
    let ticker = page.text("#two-events");
    assert!(ticker.contains("ack") || ticker.contains("deliver") || ticker.contains("requeue"), "{ticker}");
    let checks = api(page, "Brokerlab.get('#sandbox-two').checks()").unwrap();
    assert_eq!((checks["passed"].clone(), checks["failed"].clone()), (json!(6), json!(0)), "{checks}");
    let q = task_queue(page, "#sandbox-two");
    assert_eq!((q["delivered"].clone(), q["acked"].clone()), (json!(11), json!(10)));
    page.execute("document.getElementById('two-workers').scrollIntoView()", json!([]));
    page.screenshot("e2e-embed-two-workers.png");

    // Reload sandbox two through its button: a fresh run at t = 0.
    page.click("#two-load");
    page.wait_text("#two-readout", "Loaded “2. Work queues” at t = 0.000s");
    assert_eq!(task_queue(page, "#sandbox-two")["published"], 0);

    // Bad requests get error replies, through the API and as raw messages.
    let e = api(page, "Brokerlab.get('#sandbox-one').runUntil('soon')").expect_err("refused");
    assert!(e.starts_with("'time' must be milliseconds"), "{e}");
    let e =
        api(page, "Brokerlab.get('#sandbox-one').publish({exchange: 'nope', routingKey: 'x'})").unwrap_err();
    assert!(e.starts_with("404 NOT_FOUND - no exchange 'nope' in vhost '/'"), "{e}");
    let e = api(page, "Brokerlab.get('#sandbox-one').load('99-missing')").unwrap_err();
    assert!(e.starts_with("no bundled scenario '99-missing'"), "{e}");
    let r = raw_reply(page, json!({"brokerlab": 1, "id": "bad-1", "type": "warp"}));
    assert_eq!(r["ok"], false, "{r}");
    assert!(r["error"].as_str().unwrap().starts_with("unknown request type 'warp'"), "{r}");
    let r = raw_reply(page, json!({"brokerlab": 7, "id": "bad-2", "type": "play"}));
    assert!(r["error"].as_str().unwrap().starts_with("unsupported protocol version 7"), "{r}");
    let r = raw_reply(page, json!({"brokerlab": 1, "id": "bad-3", "type": "publish", "routing_key": "q"}));
    assert_eq!(r["error"], "'publish' takes no field 'routing_key'", "{r}");

    // A frame of another origin (sandboxed srcdoc: an opaque origin) sends requests: they are ignored —
    // counted as seen, never answered, and the sandbox's state is unchanged.
    let before = task_queue(page, "#sandbox-one");
    let seen_before = api(page, "Brokerlab.get('#sandbox-one').info()").unwrap()["ignoredMessages"].clone();
    let replies_to_stranger = api(
        page,
        r#"new Promise((resolve, reject) => {
            const evil = document.createElement('iframe');
            evil.setAttribute('sandbox', 'allow-scripts');
            evil.srcdoc = `<script>
                let replies = 0;
                addEventListener('message', () => { replies += 1; });
                const target = parent.frames[0];
                target.postMessage({brokerlab: 1, id: 'evil-1', type: 'load', scenario: '01-hello-world'}, '*');
                target.postMessage({brokerlab: 1, id: 'evil-2', type: 'publish', routingKey: 'task_queue', body: 'x'}, '*');
                target.postMessage({brokerlab: 1, id: 'evil-3', type: 'warp'}, '*');
                setTimeout(() => parent.postMessage({evilReplies: replies}, '*'), 1500);
            <\/script>`;
            addEventListener('message', e => {
                if (e.source === evil.contentWindow && e.data && typeof e.data.evilReplies === 'number') {
                    resolve(e.data.evilReplies);
                }
            });
            document.body.appendChild(evil);
            setTimeout(() => reject(new Error('the probe frame never reported')), 10000);
        })"#,
    )
    .expect("the probe frame reports");
    let seen_after = api(
        page,
        "new Promise((resolve, reject) => {
            const s = Brokerlab.get('#sandbox-one');
            let tries = 0;
            const poll = () => s.info().then(i => {
                if (i.ignoredMessages >= 3 + arguments_before) resolve(i);
                else if (++tries > 100) reject(new Error('not seen: ' + JSON.stringify(i)));
                else setTimeout(poll, 50);
            }, reject);
            poll();
        })"
        .replace("arguments_before", &seen_before.to_string())
        .as_str(),
    )
    .expect("the sandbox saw the stranger's three messages");
    assert_eq!(replies_to_stranger, json!(0), "no reply goes to a foreign origin");
    assert_eq!(seen_after["scenario"]["name"], "One worker", "the stranger's load was not obeyed");
    assert_eq!(task_queue(page, "#sandbox-one"), before, "the stranger's publish was not obeyed");

    let errors = page.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    page.execute("window.scrollTo(0, 0)", json!([]));
    page.screenshot("e2e-embed-page.png");
}

#[test]
fn the_embed_address_chooses_the_scenario_and_the_panels() {
    let browser = Browser::open(
        "/index.html?embed=1&scenario=02-work-queues&panels=topology,queues,controls&theme=dark",
    );
    let page = &browser.page;
    page.wait_text("#embed-clock", "t = 0.000s / 10.000s");
    let panels =
        page.execute("return document.getElementById('embed').getAttribute('data-panels')", json!([]));
    assert_eq!(panels, "topology,queues,controls");
    page.wait_text("#topology", "task_queue");
    assert!(page.try_find("#checks").is_none(), "the checks panel was not asked for");
    assert!(page.try_find("header.app-header").is_none(), "the full app's header is not shown");
    // Step through the page's own controls: the producer and workers connect.
    page.click("#embed-step");
    page.wait_text("#embed-notice", "Stepped to");
    page.click("#embed-play");
    page.wait_text("#embed-play", "Pause");
    page.click("#embed-play");
    page.wait_text("#embed-play", "Play");
    let published = page.text("#embed-queues tr[data-queue='task_queue'] td.published");
    assert!(published.parse::<u32>().is_ok(), "a number: {published}");
    page.screenshot("e2e-embed-direct.png");
    let errors = page.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

/// A `load` of a bundled document with scripts, sent through the API: the sandbox fetches its scripting
/// module only then, answers once it is there, and the scripted run passes its checks.
#[test]
fn an_embedded_sandbox_answers_a_scripted_load_once_its_scripting_engine_is_loaded() {
    let browser = Browser::open("/examples/work-queues.html");
    let page = &browser.page;
    api(page, "Brokerlab.get('#sandbox-one').ready()").expect("the sandbox starts");
    // The sandbox has an opaque origin: its resource timeline is read from inside it, through WebDriver.
    let lazy_fetches = || {
        in_sandbox(
            page,
            "return performance.getEntriesByType('resource').filter(e => e.name.includes('/lazy/')).length;",
        )
    };
    assert_eq!(lazy_fetches(), json!(0), "nothing scripted yet, nothing fetched");

    let info = api(page, "Brokerlab.get('#sandbox-one').load('08-retry-with-dlx')").expect("it loads");
    assert_eq!(info["scenario"]["name"], "Retry with a dead-letter exchange and a TTL", "{info}");
    let fetched = lazy_fetches().as_u64().unwrap_or(0);
    assert!(fetched >= 2, "the reply came after the module's JS and wasm were fetched ({fetched})");

    let end = api(page, "Brokerlab.get('#sandbox-one').runUntil('15s')").expect("runs");
    assert_eq!(end["timeMillis"], 15_000, "{end}");
    let checks = api(page, "Brokerlab.get('#sandbox-one').checks()").unwrap();
    assert_eq!((checks["passed"].clone(), checks["failed"].clone()), (json!(8), json!(0)), "{checks}");
    assert!(page.console_errors().is_empty());
}
