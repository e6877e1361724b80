//! Browser test of the timeline: the app rendered in headless Chromium; a scenario fast-forwarded with
//! the "run to" field (frames, progress, then done), scrubbed back with the slider (the clock, the queue
//! table and the header show the earlier moment), the charts tab drawn, and back to the latest moment.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod web_common;
use web_common::{find, root};

/// Yew's renders, then 40 ms for the rest of the page's reaction.
async fn settle() {
    web_common::settle_and_pause(40).await;
}

fn element(root: &web_sys::Element, css: &str) -> web_sys::Element {
    root.query_selector(css).unwrap().unwrap_or_else(|| panic!("no element matches {css}"))
}

fn text(root: &web_sys::Element, css: &str) -> String {
    find(root, css).text_content().unwrap_or_default().trim().to_string()
}

/// Sets a field's value and fires the event Yew listens to.
fn set_value(root: &web_sys::Element, css: &str, value: &str, event: &str) {
    let el = find(root, css);
    if let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(select) = el.dyn_ref::<web_sys::HtmlSelectElement>() {
        select.set_value(value);
    }
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    el.dispatch_event(&web_sys::Event::new_with_event_init_dict(event, &init).unwrap()).unwrap();
}

fn ready(root: &web_sys::Element, queue: &str) -> String {
    text(root, &format!("tr[data-queue='{queue}'] td.ready"))
}

#[wasm_bindgen_test]
async fn fast_forward_scrub_back_and_charts() {
    let root = root();
    yew::Renderer::<brokerlab::app::App>::with_root(root.clone()).render();
    settle().await;
    assert!(root.query_selector("#timeline-scrub").unwrap().is_some(), "the bar is on the page");

    set_value(&root, "#scenario", "02-work-queues", "change");
    settle().await;
    assert_eq!(text(&root, "#clock"), "t = 0.000s");

    // Fast-forward to 1.2 s: frames run it, the progress goes away when done.
    set_value(&root, "#ff-target", "1.2s", "input");
    settle().await;
    find(&root, "#ff-go").click();
    for _ in 0..50 {
        settle().await;
        if root.query_selector("#ff-progress").unwrap().is_none() {
            break;
        }
    }
    assert!(root.query_selector("#ff-progress").unwrap().is_none(), "the fast-forward finished");
    assert_eq!(text(&root, "#clock"), "t = 1.200s");
    assert!(text(&root, "#notice").contains("Fast-forwarded to 1.200s"), "{}", text(&root, "#notice"));
    let ready_at_1200 = ready(&root, "task_queue");

    // On to the end, then scrub back to 1.2 s: the same counts as when the clock first passed there.
    set_value(&root, "#ff-target", "10s", "input");
    settle().await;
    find(&root, "#ff-go").click();
    for _ in 0..50 {
        settle().await;
        if root.query_selector("#ff-progress").unwrap().is_none() {
            break;
        }
    }
    assert_eq!(text(&root, "#clock"), "t = 10.000s");
    assert_eq!(ready(&root, "task_queue"), "0");
    assert!(root.query_selector("#timeline-rewound").unwrap().is_none());
    set_value(&root, "#timeline-scrub", "1200", "input");
    settle().await;
    assert_eq!(text(&root, "#clock"), "t = 1.200s");
    assert_eq!(ready(&root, "task_queue"), ready_at_1200);
    assert_ne!(ready_at_1200, "0", "tasks were waiting at 1.2 s");
    assert!(text(&root, "#timeline-rewound").contains("discards"), "the UI says what acting does");
    assert!(root.query_selector("#rewound").unwrap().is_some(), "the header shows the badge");
    assert_eq!(text(&root, "#timeline-time"), "t = 1.200s of 10.000s");

    // The charts: both drawn over the whole run, the moment shown as a line, the queue selectable.
    find(&root, "#tab-charts").click();
    settle().await;
    let depth = find(&root, "#chart-depth");
    assert!(depth.query_selector("polyline.line").unwrap().is_some());
    assert!(text(&root, "#chart-depth").contains("Depth of 'task_queue'"));
    let now_line = depth.query_selector("line.chart-now").unwrap().expect("the now line");
    let x_now: f64 = now_line.get_attribute("x1").unwrap().parse().unwrap();
    assert!(root.query_selector("#chart-rates svg[role='img']").unwrap().is_some());
    let labels = element(&root, "#chart-depth svg").get_attribute("aria-labelledby").unwrap();
    assert!(labels.contains("chart-depth-title"));

    // Back to the latest moment with the button; the now line moves right.
    find(&root, "#timeline-latest").click();
    settle().await;
    assert_eq!(text(&root, "#clock"), "t = 10.000s");
    let x_end: f64 =
        element(&root, "#chart-depth line.chart-now").get_attribute("x1").unwrap().parse().unwrap();
    assert!(x_end > x_now, "{x_end} > {x_now}");
    assert!(root.query_selector("#timeline-rewound").unwrap().is_none());

    // A bad time is refused with a readable message.
    set_value(&root, "#ff-target", "soon", "input");
    settle().await;
    find(&root, "#ff-go").click();
    settle().await;
    assert!(text(&root, "#notice").contains("not a time"));
}
