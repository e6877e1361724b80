//! Browser test: the whole app rendered by Yew in headless Chromium; clicks and key presses go through
//! the real DOM (run by `cargo test --target wasm32-unknown-unknown`).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod web_common;
use web_common::{find, root};

/// Yew's renders, then 20 ms for the rest of the page's reaction.
async fn settle() {
    web_common::settle_and_pause(20).await;
}

#[wasm_bindgen_test]
async fn the_app_renders_and_reacts_to_clicks_and_shortcuts() {
    let root = root();
    yew::Renderer::<brokerlab::app::App>::with_root(root.clone()).render();
    settle().await;
    assert_eq!(find(&root, "header h1").text_content().unwrap(), "Brokerlab");
    assert!(find(&root, "#topology").text_content().unwrap().contains("Empty workspace"));
    assert_eq!(find(&root, "#clock").text_content().unwrap().trim(), "t = 0.000s");

    // Loading the example fills the graph and the queue table.
    find(&root, "#load-example").click();
    settle().await;
    let graph = find(&root, "#topology").text_content().unwrap();
    assert!(graph.contains("orders.eu") && graph.contains("order.eu.*"), "graph: {graph}");
    let ready = find(&root, "tr[data-queue='orders.eu'] td.ready").text_content().unwrap();
    assert_eq!(ready, "2");

    // Clicking a node opens the inspector with its arguments.
    let node = root
        .query_selector("g.node.queue[aria-label^='queue orders.eu']")
        .unwrap()
        .expect("the queue's node");
    let click = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &{
        let init = web_sys::MouseEventInit::new();
        init.set_bubbles(true);
        init
    })
    .unwrap();
    node.dispatch_event(&click).unwrap();
    settle().await;
    let inspector = find(&root, ".inspector").text_content().unwrap();
    assert!(inspector.contains("x-message-ttl") && inspector.contains("5000"), "inspector: {inspector}");

    // → steps to the next deadline (the 5 s TTL); space toggles play.
    let key = |k: &str| {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(k);
        init.set_bubbles(true);
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()
    };
    web_sys::window().unwrap().dispatch_event(&key("ArrowRight")).unwrap();
    settle().await;
    assert_eq!(find(&root, "#clock").text_content().unwrap().trim(), "t = 5.000s");
    assert_eq!(find(&root, "tr[data-queue='orders.eu'] td.ready").text_content().unwrap(), "0", "expired");
    assert_eq!(find(&root, "#play").get_attribute("aria-pressed").as_deref(), Some("false"));
    web_sys::window().unwrap().dispatch_event(&key(" ")).unwrap();
    settle().await;
    assert_eq!(find(&root, "#play").get_attribute("aria-pressed").as_deref(), Some("true"));
    web_sys::window().unwrap().dispatch_event(&key(" ")).unwrap();
    settle().await;
    assert_eq!(find(&root, "#play").get_attribute("aria-pressed").as_deref(), Some("false"));
}

#[wasm_bindgen_test]
async fn the_scenario_picker_loads_a_bundled_scenario_and_shows_its_checks() {
    let root = root();
    yew::Renderer::<brokerlab::app::App>::with_root(root.clone()).render();
    settle().await;
    assert!(root.query_selector("#checks").unwrap().is_none(), "manual mode has no checks panel");
    let picker = find(&root, "#scenario").dyn_into::<web_sys::HtmlSelectElement>().unwrap();
    assert_eq!(picker.length() as usize, brokerlab::scenarios::BUNDLED.len() + 1, "every scenario + manual");
    picker.set_value("02-work-queues");
    let change = web_sys::Event::new_with_event_init_dict("change", &{
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        init
    })
    .unwrap();
    picker.dispatch_event(&change).unwrap();
    settle().await;
    assert_eq!(find(&root, "#scenario-name").text_content().unwrap(), "2. Work queues");
    let checks = root.query_selector_all("#checks li.check").unwrap();
    assert!(checks.length() >= 5);
    for i in 0..checks.length() {
        let item = checks.item(i).unwrap().dyn_into::<web_sys::Element>().unwrap();
        assert_eq!(item.get_attribute("data-status").as_deref(), Some("pending"));
    }
    // Stepping runs the scenario's actors: the producer's queue appears with its first task.
    for _ in 0..3 {
        find(&root, "#step").click();
        settle().await;
    }
    assert!(find(&root, "#topology").text_content().unwrap().contains("task_queue"));
    assert_ne!(find(&root, "#clock").text_content().unwrap().trim(), "t = 0.000s");
}
