//! Browser test of the Redis page, rendered in headless Chromium: the streams tutorial moved by the
//! keyboard (→, End, Home); the stream's entries, its group with last-delivered id and lag, and its
//! pending entries list with the crashed consumer's entry; then the console — commands typed and sent
//! with Enter, redis-cli's replies and errors, Up recalling the last command, the key the command made,
//! and the commands played again after a rewind; redis-cli's `(TX)` prompt, and Ctrl-C getting it out of reading
//! messages on a new connection. The explanations: "why pending?" on bob's entry, "XAUTOCLAIM next?"
//! on the group with min-idle edited (what it lists then claimed by the same `XAUTOCLAIM` typed on the
//! console), "who got it?" on a miss of the pub/sub tutorial; each closed with × or Escape.
#![cfg(target_arch = "wasm32")]

use brokerlab::redis_page::view::{RedisApp, RedisAppProps};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod web_common;
use web_common::{click, find, fire, root, settle, text_is, text_with, type_value, until};

fn text(root: &web_sys::Element, css: &str) -> String {
    find(root, css).text_content().unwrap_or_default().trim().to_string()
}

fn count(root: &web_sys::Element, css: &str) -> u32 {
    root.query_selector_all(css).unwrap().length()
}

fn key_on(target: &web_sys::EventTarget, name: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(name);
    init.set_bubbles(true);
    let e = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&e).unwrap();
}

fn key(name: &str) {
    let document = web_sys::window().unwrap().document().unwrap();
    key_on(&document.body().unwrap(), name);
}

fn console_input(root: &web_sys::Element) -> web_sys::HtmlInputElement {
    find(root, "#redis-console-input").dyn_into().unwrap()
}

/// Types `line` in the console and presses Enter; waits until the console shows it sent (its prompt line
/// is the last one typed) or refused (the field emptied).
async fn type_command(root: &web_sys::Element, line: &str) {
    let input = console_input(root);
    input.set_value(line);
    fire(&input, "input");
    settle().await;
    key_on(&input, "Enter");
    until(
        &format!("the console to take {line:?}"),
        || input.value().is_empty().then_some(()),
        || text(root, "#redis-console-out"),
    )
    .await;
}

/// Waits for a page just rendered to show its document at 0 with its key listener registered (an effect
/// after its first render, which [`settle`] lets Yew finish).
async fn mounted(root: &web_sys::Element) {
    text_with(root, "#redis-clock", "0.000 s / ").await;
}

fn render(doc: &str) -> web_sys::Element {
    let root = root();
    yew::Renderer::<RedisApp>::with_root_and_props(
        root.clone(),
        RedisAppProps { doc: Some(doc.to_string()) },
    )
    .render();
    root
}

#[wasm_bindgen_test]
async fn the_streams_tutorial_shows_entries_groups_and_the_pending_entries_list() {
    let root = render("streams-consumer-groups-and-xautoclaim");
    mounted(&root).await;
    assert_eq!(text(&root, "#redis-clock"), "0.000 s / 20.000 s");
    assert_eq!(text(&root, "[data-key=orders] .redis-type"), "stream");
    assert_eq!(count(&root, "[data-key=orders] .redis-entry"), 0);

    for _ in 0..6 {
        key("ArrowRight");
    }
    text_is(&root, "#redis-clock", "6.000 s / 20.000 s").await;
    assert_eq!(count(&root, "[data-key=orders] .redis-entry"), 6);
    // bob crashed at 3.2 s holding an order: it is pending for him, idle since he read it.
    assert_eq!(count(&root, ".redis-pel-row[data-consumer=bob]"), 1);
    let bob = text(&root, ".redis-pel-row[data-consumer=bob] td:nth-child(4)");
    assert_eq!(bob, "1", "one delivery");
    assert_eq!(
        text(&root, "[data-group=shipping] [data-stat=last-delivered]"),
        "last-delivered-id 1700000005000-0"
    );
    assert!(count(&root, "[data-key=orders] .redis-entry.pending") >= 1);

    key("End");
    text_is(&root, "#redis-clock", "20.000 s / 20.000 s").await;
    assert_eq!(count(&root, ".redis-pel-row"), 0, "the rescuer claimed and acknowledged it");
    assert_eq!(text(&root, "[data-group=shipping] [data-stat=lag]"), "lag 0");
    assert!(text(&root, "#redis-checks h2").starts_with("Checks: 8 passed, 0 failed, 0 to come"));
    let consumers = text(&root, "[data-group=shipping] .redis-consumers");
    assert!(consumers.contains("rescuer"), "{consumers}");
}

#[wasm_bindgen_test]
async fn the_console_sends_commands_with_enter_and_recalls_them_with_up() {
    let root = render("job-queue-brpop-and-blmove");
    mounted(&root).await;
    for _ in 0..2 {
        key("ArrowRight");
    }
    text_is(&root, "#redis-clock", "2.000 s / 20.000 s").await;
    // Typing in the console does not move time (the space and the arrows stay in the field).
    type_command(&root, "LPUSH todo 'a b'").await;
    assert_eq!(text(&root, "#redis-clock"), "2.000 s / 20.000 s");
    let out = text(&root, "#redis-console-out");
    assert!(out.contains("127.0.0.1:6379> LPUSH todo 'a b'\n(integer) 1"), "{out}");
    assert_eq!(text(&root, "[data-key=todo] .redis-item"), "a b");
    type_command(&root, "XADD todo * f v").await;
    let out = text(&root, "#redis-console-out");
    assert!(
        out.ends_with("(error) WRONGTYPE Operation against a key holding the wrong kind of value"),
        "{out}"
    );
    assert_eq!(count(&root, ".redis-output.error"), 1);
    type_command(&root, "GET \"open").await;
    assert!(text(&root, "#redis-console-out").ends_with("Invalid argument(s)"));
    // Up recalls the commands, newest first; Down comes back to an empty line.
    let input = console_input(&root);
    key_on(&input, "ArrowUp");
    settle().await;
    assert_eq!(input.value(), "GET \"open");
    key_on(&input, "ArrowUp");
    settle().await;
    assert_eq!(input.value(), "XADD todo * f v");
    key_on(&input, "ArrowDown");
    key_on(&input, "ArrowDown");
    settle().await;
    assert_eq!(input.value(), "");
    assert!(text(&root, "#redis-log").contains("you> LPUSH todo 'a b' -> (integer) 1"));

    // Back to 0: the commands are not there yet; to the end: they were sent again at 2 s.
    key("Home");
    text_is(&root, "#redis-clock", "0.000 s / 20.000 s").await;
    assert_eq!(count(&root, ".redis-typed"), 0);
    assert_eq!(count(&root, "[data-key=todo]"), 0);
    key("End");
    text_is(&root, "#redis-clock", "20.000 s / 20.000 s").await;
    assert_eq!(count(&root, ".redis-typed"), 2, "the two commands sent (the refused line was not)");
    assert_eq!(text(&root, "[data-key=todo] .redis-item"), "a b");
}

#[wasm_bindgen_test]
async fn the_console_s_help_is_redis_cli_s_and_clear_empties_it_but_not_the_history() {
    let root = render("job-queue-brpop-and-blmove");
    mounted(&root).await;
    type_command(&root, "help").await;
    let out = text(&root, "#redis-console-out");
    assert!(
        out.contains("127.0.0.1:6379> help\nredis-cli 7.0.15\nTo get help about Redis commands type:"),
        "{out}"
    );
    type_command(&root, "clear").await;
    assert_eq!(text(&root, "#redis-console-out"), "", "an empty screen, without the hint");
    assert_eq!(count(&root, ".redis-typed"), 0);
    // Up still recalls what was typed before, `clear` included.
    let input = console_input(&root);
    key_on(&input, "ArrowUp");
    settle().await;
    assert_eq!(input.value(), "clear");
    key_on(&input, "ArrowUp");
    settle().await;
    assert_eq!(input.value(), "help");
    type_command(&root, "LLEN jobs").await;
    assert_eq!(count(&root, ".redis-typed"), 1, "only what came after clear");
    assert!(text(&root, "#redis-console-out").contains("127.0.0.1:6379> LLEN jobs\n(integer) "));
}

#[wasm_bindgen_test]
async fn the_console_has_redis_cli_s_transaction_prompt_and_ctrl_c_leaves_reading_messages() {
    let root = render("pubsub-fire-and-forget");
    mounted(&root).await;
    type_command(&root, "MULTI").await;
    assert_eq!(text(&root, ".redis-console-line .redis-prompt"), "127.0.0.1:6379(TX)>");
    type_command(&root, "DISCARD").await;
    let out = text(&root, "#redis-console-out");
    assert!(out.contains("127.0.0.1:6379(TX)> DISCARD\nOK"), "{out}");
    assert_eq!(text(&root, ".redis-console-line .redis-prompt"), "127.0.0.1:6379>");
    assert_eq!(count(&root, "#redis-console-ctrl-c"), 0, "nothing to interrupt");
    // Subscribed, redis-cli only reads messages: a line is not sent, until Ctrl-C (the button here).
    type_command(&root, "SUBSCRIBE scores.football").await;
    assert!(text(&root, "#redis-console-out").contains("Reading messages... (press Ctrl-C to quit)"));
    type_command(&root, "PING").await;
    assert!(text(&root, "#redis-console-out").ends_with("(redis-cli does not send it either)"));
    click(&root, "#redis-console-ctrl-c").await;
    until(
        "Ctrl-C to end the subscription",
        || (count(&root, "#redis-console-ctrl-c") == 0).then_some(()),
        || text(&root, "#redis-console-out"),
    )
    .await;
    assert!(text(&root, "#redis-console-out").ends_with("^C"));
    type_command(&root, "PUBSUB NUMSUB scores.football").await;
    let out = text(&root, "#redis-console-out");
    assert!(
        out.ends_with("1) \"scores.football\"\n2) (integer) 0"),
        "the old connection's subscription is gone: {out}"
    );
}

/// The readout of the chart `slug` at the page's time.
fn chart_now(root: &web_sys::Element, slug: &str) -> String {
    text(root, &format!("[data-chart='{slug}'] .redis-chart-now"))
}

#[wasm_bindgen_test]
async fn the_charts_follow_the_run_and_the_console_s_commands() {
    // Pub/sub (the golden transcript): PUBLISH replied 0, 2, 2, 1, 1, 2, 2, 3, 3, 3; 11 messages missed.
    let root = render("pubsub-fire-and-forget");
    mounted(&root).await;
    // Hidden at first (nothing sampled); shown with a click.
    assert_eq!(count(&root, ".redis-chart"), 0);
    click(&root, "#redis-charts-toggle").await;
    assert_eq!(chart_now(&root, "channel:scores.football"), "at 0 s: delivered 0 · missed 0");
    key("End");
    text_is(&root, "#redis-clock", "10.000 s / 10.000 s").await;
    assert_eq!(chart_now(&root, "channel:scores.football"), "at 10 s: delivered 19 · missed 11");
    assert_eq!(count(&root, "[data-chart='channel:scores.football'] polyline.delivered"), 1);
    // A PUBLISH typed on the console reaches the three subscribers: on the chart at once.
    type_command(&root, "PUBLISH scores.football by-hand").await;
    assert_eq!(chart_now(&root, "channel:scores.football"), "at 10 s: delivered 22 · missed 11");

    // The streams tutorial: the group's pending entries and lag, none before the group exists.
    let root = render("streams-consumer-groups-and-xautoclaim");
    mounted(&root).await;
    click(&root, "#redis-charts-toggle").await;
    let group = "group:orders:shipping";
    assert_eq!(
        text(&root, &format!("[data-chart='{group}'] .redis-chart-title")),
        "stream orders, group shipping: pending and lag"
    );
    for _ in 0..6 {
        key("ArrowRight");
    }
    text_is(&root, "#redis-clock", "6.000 s / 20.000 s").await;
    assert_eq!(chart_now(&root, group), "at 6 s: pending 2 · lag 1");
    let now_line =
        root.query_selector(&format!("[data-chart='{group}'] line.now")).unwrap().expect("the now line");
    let now_x = now_line.get_attribute("x1");
    assert_eq!(now_x.as_deref(), Some("156"), "6 s of 20 on a 520-wide chart");
}

mod sandbox {
    //! The Redis sandbox's root, mounted in the test page and driven over `postMessage` by the page
    //! itself (its own origin is the one the sandbox obeys when its address names none).
    use super::*;
    use brokerlab::embed::redis_view::RedisEmbedApp;
    use serde_json::{json, Value};
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Collects the replies the sandbox posts to this window.
    fn replies() -> Rc<RefCell<Vec<Value>>> {
        let got = Rc::new(RefCell::new(Vec::new()));
        let sink = got.clone();
        let handler = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |e: web_sys::MessageEvent| {
                let text = js_sys::JSON::stringify(&e.data()).ok().and_then(|t| t.as_string());
                if let Some(v) = text.and_then(|t| serde_json::from_str::<Value>(&t).ok()) {
                    if v["type"] == "reply" {
                        sink.borrow_mut().push(v);
                    }
                }
            },
        );
        let window = web_sys::window().unwrap();
        window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref()).unwrap();
        handler.forget();
        got
    }

    /// Posts a request and waits (bounded) for its reply.
    async fn ask(got: &Rc<RefCell<Vec<Value>>>, request: Value) -> Value {
        let id = request["id"].clone();
        let message = js_sys::JSON::parse(&request.to_string()).unwrap();
        web_sys::window().unwrap().post_message(&message, "*").unwrap();
        until(
            &format!("the reply to {request}"),
            || got.borrow().iter().find(|r| r["id"] == id).cloned(),
            || format!("{} replies, none with id {id}", got.borrow().len()),
        )
        .await
    }

    #[wasm_bindgen_test]
    async fn the_sandbox_loads_runs_and_sends_commands_over_post_message() {
        let root = root();
        yew::Renderer::<RedisEmbedApp>::with_root(root.clone()).render();
        let got = replies();
        text_is(&root, "#embed-clock", "t = 0.000s").await;
        assert_eq!(
            find(&root, "#embed").get_attribute("data-panels").as_deref(),
            Some("controls,keys,pubsub")
        );

        let r = ask(
            &got,
            json!({"brokerlab": 1, "id": "l", "type": "load", "scenario": "pubsub-fire-and-forget"}),
        )
        .await;
        assert_eq!((r["ok"].clone(), r["result"]["model"].clone()), (json!(true), json!("redis")), "{r}");
        let r = ask(&got, json!({"brokerlab": 1, "id": "r", "type": "runUntil", "time": "10s"})).await;
        assert_eq!(r["result"]["finished"], true, "{r}");
        text_is(&root, "#embed-clock", "t = 10.000s / 10.000s").await;
        let row = "#embed-pubsub [data-channel='scores.football']";
        assert_eq!(text(&root, &format!("{row} .delivered")), "19");
        assert_eq!(text(&root, &format!("{row} .missed")), "11");
        assert_eq!(count(&root, "#embed-pubsub [data-pattern='scores.*']"), 1);

        // A command on the sandbox's console connection: redis-server's reply, the counters after it.
        let r = ask(
            &got,
            json!({"brokerlab": 1, "id": "c", "type": "command", "line": "PUBLISH scores.football hi"}),
        )
        .await;
        assert_eq!(
            (r["result"]["output"].clone(), r["result"]["waiting"].clone()),
            (json!("(integer) 3"), json!(false)),
            "{r}"
        );
        text_is(&root, &format!("{row} .delivered"), "22").await;
        let r =
            ask(&got, json!({"brokerlab": 1, "id": "k", "type": "counters", "key": "scores.football"})).await;
        assert_eq!(r["result"]["channels"]["scores.football"]["publishes"], 11, "{r}");
        let r = ask(&got, json!({"brokerlab": 1, "id": "e", "type": "command", "line": "LPUSH"})).await;
        assert_eq!(r["ok"], false);
        assert_eq!(r["error"], "(error) ERR wrong number of arguments for 'lpush' command");
        text_is(&root, "#embed-notice", "(error) ERR wrong number of arguments for 'lpush' command").await;
        let r = ask(&got, json!({"brokerlab": 1, "id": "p", "type": "produce", "topic": "t"})).await;
        assert!(r["error"].as_str().unwrap().starts_with("unknown request type 'produce'"), "{r}");
    }
}

fn active_id() -> String {
    let document = web_sys::window().unwrap().document().unwrap();
    document.active_element().map(|e| e.id()).unwrap_or_default()
}

fn rows(root: &web_sys::Element, css: &str) -> Vec<(String, String)> {
    let list = root.query_selector_all(css).unwrap();
    (0..list.length())
        .map(|i| {
            let e: web_sys::Element = list.item(i).unwrap().dyn_into().unwrap();
            (
                e.get_attribute("data-id").unwrap_or_default(),
                e.get_attribute("data-verdict").unwrap_or_default(),
            )
        })
        .collect()
}

#[wasm_bindgen_test]
async fn why_pending_and_what_xautoclaim_takes_next_open_by_click_and_close_with_escape_or_x() {
    let root = render("streams-consumer-groups-and-xautoclaim");
    mounted(&root).await;
    for _ in 0..6 {
        key("ArrowRight");
    }
    text_is(&root, "#redis-clock", "6.000 s / 20.000 s").await;
    assert_eq!(count(&root, "#redis-explain"), 0);

    click(&root, ".redis-pel-row[data-consumer=bob] .redis-why-pending").await;
    let bob_id = find(&root, ".redis-pel-row[data-consumer=bob]").get_attribute("data-id").unwrap();
    text_with(&root, "#redis-explain h2", &format!("Why is {bob_id} still pending")).await;
    assert_eq!(active_id(), "redis-explain-close", "the panel takes the focus");
    assert_eq!(text(&root, "[data-fact=consumer]"), "bob");
    assert_eq!(text(&root, "[data-fact=deliveries]"), "1");
    assert_eq!(text(&root, "[data-fact=acked]"), "never");
    let idle: u64 = text(&root, "[data-fact=idle]").trim_end_matches(" ms").parse().unwrap();
    assert!(idle >= 3000, "bob read it before he crashed at 3.2 s: {idle}");
    let reasons = text(&root, ".redis-explain-reasons");
    assert!(reasons.contains("bob (consumer bob) crashed at 3.2 s holding it"), "{reasons}");
    assert!(reasons.contains(&format!("XACK orders shipping {bob_id}")), "{reasons}");
    assert!(
        reasons.contains(&format!(
            "rescuer claims with XAUTOCLAIM min-idle 5000 ms: this entry is idle long enough in {} ms",
            5000 - idle
        )),
        "{reasons}"
    );
    assert!(reasons.contains("XGROUP DELCONSUMER orders shipping bob"), "{reasons}");
    // Escape closes it; the time keys work again.
    key_on(&find(&root, "#redis-explain-close"), "Escape");
    settle().await;
    assert_eq!(count(&root, "#redis-explain"), 0);

    // What XAUTOCLAIM takes next: the rescuer's min-idle (5 s) first, then edited.
    click(&root, "[data-group=shipping] .redis-why-autoclaim").await;
    text_with(&root, "#redis-explain h2", "What does XAUTOCLAIM take next from orders/shipping?").await;
    let min_idle: web_sys::HtmlInputElement = find(&root, "#redis-autoclaim-min-idle").dyn_into().unwrap();
    assert_eq!(min_idle.value(), "5000");
    assert_eq!(
        text(&root, ".redis-autoclaim-command"),
        "XAUTOCLAIM orders shipping rescuer 5000 0-0 COUNT 100"
    );
    let before = rows(&root, ".redis-autoclaim-row");
    assert_eq!(before.len() as u32, count(&root, ".redis-pel-row"), "every pending entry is listed");
    assert!(before.iter().all(|(_, v)| v == "too-young"), "nothing idle 5 s yet: {before:?}");
    assert!(text(&root, ".redis-autoclaim-summary").contains("claims 0 entries"));

    type_value(&root, "#redis-autoclaim-min-idle", "3000").await;
    let after = rows(&root, ".redis-autoclaim-row");
    assert!(after.contains(&(bob_id.clone(), "claimed".to_string())), "{after:?}");
    type_value(&root, "#redis-autoclaim-count", "1").await;
    type_value(&root, "#redis-autoclaim-min-idle", "0").await;
    let one = rows(&root, ".redis-autoclaim-row");
    assert_eq!(one[0].1, "claimed", "{one:?}");
    assert!(one[1..].iter().all(|(_, v)| v == "not-reached"), "COUNT 1 stops after the first: {one:?}");
    assert!(text(&root, ".redis-autoclaim-summary")
        .contains(&format!("replies the cursor {}", one.get(1).map_or("0-0", |r| &r.0))));

    // The same XAUTOCLAIM typed on the console claims exactly what the panel listed.
    type_value(&root, "#redis-autoclaim-count", "100").await;
    let listed: Vec<String> = rows(&root, ".redis-autoclaim-row")
        .into_iter()
        .filter(|(_, v)| v == "claimed")
        .map(|(id, _)| id)
        .collect();
    assert!(!listed.is_empty());
    type_command(&root, "XAUTOCLAIM orders shipping rescuer 0 0-0 COUNT 100 JUSTID").await;
    let out = text(&root, "#redis-console-out");
    let reply = &out[out.rfind("JUSTID").unwrap()..];
    let mut expected = String::from("1) \"0-0\"\n2) ");
    for (i, id) in listed.iter().enumerate() {
        let indent = if i == 0 { "" } else { "   " };
        expected.push_str(&format!("{indent}{}) \"{id}\"\n", i + 1));
    }
    expected.push_str("3) (empty array)");
    assert!(reply.contains(&expected), "{reply}\nexpected {expected}");
    // × closes it.
    click(&root, "#redis-explain-close").await;
    assert_eq!(count(&root, "#redis-explain"), 0);
}

#[wasm_bindgen_test]
async fn who_got_a_published_message_and_why_the_others_missed_it() {
    let root = render("pubsub-fire-and-forget");
    mounted(&root).await;
    key("End");
    text_is(&root, "#redis-clock", "10.000 s / 10.000 s").await;
    // A miss in the event log: the dashboard away at 3.5 s.
    let log = root.query_selector_all("#redis-log li").unwrap();
    let missed = (0..log.length())
        .map(|i| log.item(i).unwrap().dyn_into::<web_sys::HtmlElement>().unwrap())
        .find(|li| {
            let t = li.text_content().unwrap_or_default();
            t.starts_with("3.500 s") && t.contains("dashboard missed")
        })
        .expect("the dashboard missed the message of 3.5 s");
    missed
        .query_selector(".redis-why-publish")
        .unwrap()
        .unwrap()
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
        .click();
    settle().await;
    text_with(&root, "#redis-explain h2", "on scores.football?").await;
    assert_eq!(active_id(), "redis-explain-close");
    let fate = |who: &str| {
        let li = find(&root, &format!(".redis-fate[data-subscriber={who}]"));
        (li.get_attribute("data-fate").unwrap(), li.text_content().unwrap())
    };
    let (kind, why) = fate("archiver");
    assert_eq!(kind, "got", "{why}");
    assert!(why.contains("through its pattern scores.*, which matches scores.football"), "{why}");
    let (kind, why) = fate("dashboard");
    assert_eq!(kind, "missed", "{why}");
    assert!(why.contains("its connection dropped at 3.0 s; it subscribed only after, at 7.0 s"), "{why}");
    let (kind, why) = fate("mobile");
    assert_eq!(kind, "missed", "{why}");
    assert!(why.contains("not subscribed yet: it subscribes at 5.5 s"), "{why}");
    assert!(text(&root, "#redis-explain").contains("PUBLISH replied 1"));
    key_on(&find(&root, "#redis-explain"), "Escape");
    settle().await;
    assert_eq!(count(&root, "#redis-explain"), 0);

    // The latest publish from the pub/sub panel: all three got it.
    click(&root, ".redis-publishes .redis-why-publish").await;
    text_with(&root, "#redis-explain", "PUBLISH replied 3").await;
    assert_eq!(count(&root, ".redis-fate[data-fate=got]"), 3);
    assert!(fate("mobile").1.contains("subscribed to scores.football"));
}
