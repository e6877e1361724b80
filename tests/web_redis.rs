//! Browser test of the Redis page, rendered in headless Chromium: the streams tutorial moved by the
//! keyboard (→, End, Home); the stream's entries, its group with last-delivered id and lag, and its
//! pending entries list with the crashed consumer's entry; then the console — commands typed and sent
//! with Enter, redis-cli's replies and errors, Up recalling the last command, the key the command made,
//! and the commands played again after a rewind.
#![cfg(target_arch = "wasm32")]

use brokerlab::redis_page::view::{RedisApp, RedisAppProps};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod web_common;
use web_common::{find, root};

fn text(root: &web_sys::Element, css: &str) -> String {
    find(root, css).text_content().unwrap_or_default().trim().to_string()
}

fn count(root: &web_sys::Element, css: &str) -> u32 {
    root.query_selector_all(css).unwrap().length()
}

async fn settle() {
    TimeoutFuture::new(40).await;
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

/// Types `line` in the console and presses Enter.
async fn type_command(root: &web_sys::Element, line: &str) {
    let input = console_input(root);
    input.set_value(line);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input.dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
    settle().await;
    key_on(&input, "Enter");
    settle().await;
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
    settle().await;
    assert_eq!(text(&root, "#redis-clock"), "0.000 s / 20.000 s");
    assert_eq!(text(&root, "[data-key=orders] .redis-type"), "stream");
    assert_eq!(count(&root, "[data-key=orders] .redis-entry"), 0);

    for _ in 0..6 {
        key("ArrowRight");
    }
    settle().await;
    assert_eq!(text(&root, "#redis-clock"), "6.000 s / 20.000 s");
    assert_eq!(count(&root, "[data-key=orders] .redis-entry"), 6);
    // bob crashed at 3.2 s holding an order: it is pending for him, idle since he read it.
    assert_eq!(count(&root, ".redis-pel-row[data-consumer=bob]"), 1);
    let bob = text(&root, ".redis-pel-row[data-consumer=bob]");
    assert!(bob.contains("bob") && bob.ends_with("1"), "one delivery: {bob}");
    assert_eq!(
        text(&root, "[data-group=shipping] [data-stat=last-delivered]"),
        "last-delivered-id 1700000005000-0"
    );
    assert!(count(&root, "[data-key=orders] .redis-entry.pending") >= 1);

    key("End");
    settle().await;
    assert_eq!(text(&root, "#redis-clock"), "20.000 s / 20.000 s");
    assert_eq!(count(&root, ".redis-pel-row"), 0, "the rescuer claimed and acknowledged it");
    assert_eq!(text(&root, "[data-group=shipping] [data-stat=lag]"), "lag 0");
    assert!(text(&root, "#redis-checks h2").starts_with("Checks: 8 passed, 0 failed, 0 to come"));
    let consumers = text(&root, "[data-group=shipping] .redis-consumers");
    assert!(consumers.contains("rescuer"), "{consumers}");
}

#[wasm_bindgen_test]
async fn the_console_sends_commands_with_enter_and_recalls_them_with_up() {
    let root = render("job-queue-brpop-and-blmove");
    settle().await;
    for _ in 0..2 {
        key("ArrowRight");
    }
    settle().await;
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
    settle().await;
    assert_eq!(count(&root, ".redis-typed"), 0);
    assert_eq!(count(&root, "[data-key=todo]"), 0);
    key("End");
    settle().await;
    assert_eq!(count(&root, ".redis-typed"), 2, "the two commands sent (the refused line was not)");
    assert_eq!(text(&root, "[data-key=todo] .redis-item"), "a b");
}
