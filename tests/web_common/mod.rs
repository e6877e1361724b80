//! What the browser tests of the page share: a fresh root element to render the app into, finding
//! rendered elements by CSS selector (a missing one fails the test with its selector), and waiting for the
//! page to react — never a guessed pause: [`settle`] lets Yew finish what it scheduled (renders and their
//! effects, such as a page's key listener), and [`until`], [`el`], [`text_with`] and [`text_is`] poll the
//! DOM for what the test expects, failing after [`WAIT_MS`] with what they saw last.

#![allow(dead_code)] // each test file uses part of it

use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::JsCast;

/// How long a wait polls before it fails: generous, since a debug build on a busy machine is slow, and a
/// test that passes never waits it out.
pub const WAIT_MS: u32 = 20_000;

/// How often a wait looks again.
const POLL_MS: u32 = 20;

/// A new `<div>` appended to `<body>`, for one rendering of the app.
pub fn root() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div
}

/// The rendered element matching `css` under `root`.
pub fn find(root: &web_sys::Element, css: &str) -> web_sys::HtmlElement {
    root.query_selector(css)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {css}"))
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
}

/// Lets Yew finish everything it has scheduled — renders, and the effects after them (a page's key
/// listener is one) — then lets the browser run what was queued before (a timer at 0, an event).
/// Work that is not Yew's (IndexedDB, a fetch, a timer) is waited for with [`until`].
pub async fn settle() {
    yew::scheduler::flush().await;
    TimeoutFuture::new(0).await;
    yew::scheduler::flush().await;
}

/// [`settle`], then `ms` more: the pages whose reaction to a click or a key is not all scheduled by Yew
/// by the time [`settle`] returns (a flush alone failed now and then, under load, for the Kafka page's
/// broker toggle). Checks that depend on work outside Yew (IndexedDB, the clock moving) use [`until`].
pub async fn settle_and_pause(ms: u32) {
    settle().await;
    TimeoutFuture::new(ms).await;
}

/// Polls `probe` until it gives a value (after letting Yew finish its work each time); after [`WAIT_MS`]
/// fails with `what` and what `last` says the page showed last.
pub async fn until<T>(what: &str, mut probe: impl FnMut() -> Option<T>, last: impl Fn() -> String) -> T {
    for _ in 0..=WAIT_MS / POLL_MS {
        settle().await;
        if let Some(v) = probe() {
            return v;
        }
        TimeoutFuture::new(POLL_MS).await;
    }
    panic!("waited {} s for {what}; last: {}", WAIT_MS / 1000, last());
}

/// The text of `css` under `root`, if it is rendered.
fn text_of(root: &web_sys::Element, css: &str) -> Option<String> {
    root.query_selector(css).unwrap().and_then(|e| e.text_content())
}

/// The element once it is rendered.
pub async fn el(root: &web_sys::Element, css: &str) -> web_sys::HtmlElement {
    until(&format!("an element matching {css}"), || root.query_selector(css).unwrap(), || "none".into())
        .await;
    find(root, css)
}

/// The text of `css` once it contains `needle`.
pub async fn text_with(root: &web_sys::Element, css: &str, needle: &str) -> String {
    let last = || format!("{:?}", text_of(root, css));
    until(&format!("{css} to contain {needle:?}"), || text_of(root, css).filter(|t| t.contains(needle)), last)
        .await
}

/// Waits until the text of `css`, trimmed, is `expected`.
pub async fn text_is(root: &web_sys::Element, css: &str, expected: &str) {
    let last = || format!("{:?}", text_of(root, css));
    until(
        &format!("{css} to read {expected:?}"),
        || text_of(root, css).filter(|t| t.trim() == expected),
        last,
    )
    .await;
}

/// Clicks the element once it is rendered, then lets the page react.
pub async fn click(root: &web_sys::Element, css: &str) {
    el(root, css).await.click();
    settle().await;
}

/// Sets a field's value as typing would and fires `input` (what the components listen to).
pub async fn type_value(root: &web_sys::Element, css: &str, value: &str) {
    let el = el(root, css).await;
    if let Some(t) = el.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        t.set_value(value);
    } else if let Some(i) = el.dyn_ref::<web_sys::HtmlInputElement>() {
        i.set_value(value);
    }
    fire(&el, "input");
    settle().await;
}

/// Picks `value` in a list and fires `change`.
pub async fn select(root: &web_sys::Element, css: &str, value: &str) {
    let el: web_sys::HtmlSelectElement = el(root, css).await.dyn_into().unwrap();
    el.set_value(value);
    fire(&el, "change");
    settle().await;
}

/// Fires a bubbling event of type `kind` at `target`.
pub fn fire(target: &web_sys::EventTarget, kind: &str) {
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    target.dispatch_event(&web_sys::Event::new_with_event_init_dict(kind, &init).unwrap()).unwrap();
}
