//! The topology's rendering end to end: tokens ride the edges while a scenario plays (and only blink
//! under `prefers-reduced-motion`), a 30+ node topology lays out without overlapping nodes or labels
//! (seen whole after "Fit") and is first shown at a readable size, and the
//! queue table fits the tabs pane from a 1280 px laptop to a 2560 px monitor. Screenshots:
//! `artifacts/e2e-render-tokens.png`, `e2e-render-1280.png`, `e2e-render-2560.png`.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::Duration;

/// The tokens layer's dots and badges now: `[{edge, path, x, y}]` (the path is the edge's own `d`).
const TOKENS_JS: &str = "
    return [...document.querySelectorAll('#topology .token, #topology .token-badge')].map(t => {
      const edge = document.querySelector(`#topology g.edge[data-edge='${t.dataset.edge}'] path`);
      const r = t.getBoundingClientRect();
      return {edge: t.dataset.edge, badge: t.classList.contains('token-badge'),
              offset: getComputedStyle(t).offsetPath, d: edge ? edge.getAttribute('d') : null,
              animation: getComputedStyle(t).animationName, x: r.x, y: r.y};
    });";

fn tokens(page: &Page) -> Vec<Value> {
    page.execute(TOKENS_JS, json!([])).as_array().cloned().unwrap_or_default()
}

/// Waits (up to 20 s) until the tokens layer shows something. The page itself looks at every animation
/// frame, so a token that lives only a few frames is not missed between two WebDriver round trips.
fn wait_tokens(page: &Page) -> Vec<Value> {
    let script = format!(
        "const done = arguments[arguments.length - 1];
         const read = () => {{ {TOKENS_JS} }};
         const t0 = performance.now();
         const look = () => {{
           const t = read();
           if (t.length > 0 || performance.now() - t0 > 20000) done(t); else requestAnimationFrame(look);
         }};
         look();"
    );
    let t = page.execute_async(&script, json!([])).as_array().cloned().unwrap_or_default();
    assert!(!t.is_empty(), "no token appeared on any edge in 20 s");
    t
}

#[test]
fn tokens_ride_the_edges_while_a_scenario_plays() {
    let browser = Browser::open("/");
    let page = &browser.page;
    page.settle_after_restore();
    page.click("#scenario option[value='02-work-queues']");
    page.wait_text("#notice", "Loaded scenario '2. Work queues'");
    assert!(tokens(page).is_empty(), "nothing moves before play");
    page.click("#speed option[value='1']");
    page.click("#play");
    let first = wait_tokens(page);
    for t in &first {
        let d = t["d"].as_str().expect("every token names an edge that is drawn");
        // The token rides its edge's own path: the computed offset-path is `path("<d>")`.
        let offset = t["offset"].as_str().unwrap_or("");
        let numbers = |s: &str| -> Vec<String> {
            s.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                .filter(|p| !p.is_empty())
                .map(|p| format!("{:.1}", p.parse::<f64>().unwrap_or(f64::NAN)))
                .collect()
        };
        assert_eq!(numbers(offset), numbers(d), "token path {offset} vs edge {d}");
        assert_eq!(t["animation"], json!("token-ride"));
    }
    // A dot moves along its edge: the same dot (same edge) is somewhere else a moment later.
    let dot =
        first.iter().find(|t| t["badge"] == json!(false)).expect("a handful in flight: dots, not badges");
    std::thread::sleep(Duration::from_millis(150));
    let later = page.execute(
        "const e = arguments[0]; const t = document.querySelector(`#topology .token[data-edge='${e}']`);
         if (!t) return null; const r = t.getBoundingClientRect(); return [r.x, r.y];",
        json!([dot["edge"]]),
    );
    if let Some(pos) = later.as_array() {
        let moved = (pos[0].as_f64().unwrap() - dot["x"].as_f64().unwrap()).abs()
            + (pos[1].as_f64().unwrap() - dot["y"].as_f64().unwrap()).abs();
        assert!(moved > 0.5, "the dot travels along its edge (moved {moved} px)");
    }
    page.screenshot("e2e-render-tokens.png");
    page.click("#play");

    // Reduced motion: the same tokens blink in place instead of travelling.
    post(
        &format!("{}/goog/cdp/execute", page.s),
        json!({"cmd": "Emulation.setEmulatedMedia",
               "params": {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]}}),
    );
    page.click("#play");
    let calm = wait_tokens(page);
    page.click("#play");
    assert!(
        calm.iter().filter(|t| t["badge"] == json!(false)).all(|t| t["animation"] == json!("token-blink")),
        "reduced motion: {calm:?}"
    );
    assert!(page.console_errors().is_empty());
}

/// Every node's box `[left, top, right, bottom]` and every edge label's box, in the pane's coordinates
/// (CSS pixels), by node label and edge number. The graph draws only what its pane shows, so this first
/// fits the whole graph into the pane ("Fit") and waits for it to be drawn.
fn graph_boxes(page: &Page) -> Value {
    page.click("#graph-fit");
    page.execute_async(
        "const done = arguments[arguments.length - 1];
         const pane = document.getElementById('topology');
         const nodes = {}, labels = {};
         const frames = (n, f) => n ? requestAnimationFrame(() => frames(n - 1, f)) : setTimeout(f, 30);
         const box = (el) => { const r = el.getBoundingClientRect(), p = pane.getBoundingClientRect();
           const x = r.left - p.left, y = r.top - p.top;
           return [x, y, x + r.width, y + r.height]; };
         frames(2, () => {
           for (const g of pane.querySelectorAll('g.node')) nodes[g.getAttribute('aria-label').split(':')[0]] = box(g.querySelector('rect'));
           for (const t of pane.querySelectorAll('g.edge text')) labels[t.parentNode.dataset.edge] = box(t);
           done({nodes, labels});
         });",
        json!([]),
    )
}

fn boxes_of(v: &Value) -> Vec<(String, [f64; 4])> {
    let mut out: Vec<_> = v
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, b)| {
            let f = |i: usize| b[i].as_f64().unwrap();
            (k.clone(), [f(0), f(1), f(2), f(3)])
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn a_topology_of_thirty_plus_nodes_is_readable_from_1280_to_2560_wide() {
    let browser = Browser::open("/");
    let page = &browser.page;
    page.settle_after_restore();
    // Three exchanges and 30 queues, each queue bound to one exchange, through the forms.
    page.click("#tab-exchanges");
    for x in ["orders", "billing", "shipping"] {
        page.type_into("#exchange-name", x);
        page.click("#exchange-declare");
        page.wait_text("#notice", &format!("'{x}'"));
    }
    page.click("#tab-queues");
    for i in 0..30 {
        page.type_into("#queue-name", &format!("service-{i:02}.inbox"));
        page.click("#queue-declare");
        page.wait_text("#notice", &format!("queue 'service-{i:02}.inbox'"));
    }
    page.click("#tab-bindings");
    for i in 0..30 {
        let x = ["orders", "billing", "shipping"][i % 3];
        page.type_into("#binding-source", x);
        page.type_into("#binding-destination", &format!("service-{i:02}.inbox"));
        page.type_into("#binding-key", &format!("{x}.event.{i}"));
        page.click("#binding-add");
        page.wait_text("#bindings-table", &format!("{x}.event.{i}"));
    }
    page.click("#tab-queues");

    // Labels stay readable as the graph is first shown: node names render at 9 px or more (a graph too
    // big to fit at a readable size is shown from its top at a readable scale, not shrunk to a smudge).
    for (width, height) in [(1280, 800), (2560, 1440)] {
        post(&format!("{}/window/rect", page.s), json!({"width": width, "height": height}));
        std::thread::sleep(Duration::from_millis(300));
        let label_px = page.execute(
            "return Math.min(...[...document.querySelectorAll('#topology g.node text.label')]
               .map(t => t.getBoundingClientRect().height));",
            json!([]),
        );
        assert!(label_px.as_f64().unwrap() >= 9.0, "label height at {width} px: {label_px}");
    }
    for (width, height) in [(1280, 800), (2560, 1440)] {
        post(&format!("{}/window/rect", page.s), json!({"width": width, "height": height}));
        std::thread::sleep(Duration::from_millis(300));
        let graph = graph_boxes(page);
        let boxes = boxes_of(&graph["nodes"]);
        assert_eq!(boxes.len(), 33, "3 exchanges and 30 queues, all drawn once fitted: {boxes:?}");
        let drawn = page.execute("return document.querySelector('#topology').dataset.nodes;", json!([]));
        assert_eq!(drawn, json!("33"), "the graph's own node count");
        for (i, (a, ra)) in boxes.iter().enumerate() {
            for (b, rb) in &boxes[i + 1..] {
                let apart = ra[2] <= rb[0] || rb[2] <= ra[0] || ra[3] <= rb[1] || rb[3] <= ra[1];
                assert!(apart, "at {width} px {a} overlaps {b}: {ra:?} {rb:?}");
            }
        }
        let labels = boxes_of(&graph["labels"]);
        assert!(labels.len() >= 30, "every binding's label was drawn somewhere: {}", labels.len());
        for (i, (a, ra)) in labels.iter().enumerate() {
            for (b, rb) in &labels[i + 1..] {
                let apart = ra[2] <= rb[0] + 1.0
                    || rb[2] <= ra[0] + 1.0
                    || ra[3] <= rb[1] + 1.0
                    || rb[3] <= ra[1] + 1.0;
                assert!(apart, "edge labels {a} and {b} overlap at {width} px: {ra:?} {rb:?}");
            }
        }
        // The queue table fits its pane: no sideways scrolling.
        let fit = page.execute(
            "const p = document.getElementById('tab-panel'); return [p.scrollWidth, p.clientWidth];",
            json!([]),
        );
        assert!(fit[0].as_f64() <= fit[1].as_f64(), "the queue table scrolls sideways at {width} px: {fit}");
        page.screenshot(&format!("e2e-render-{width}.png"));
    }
    assert!(page.console_errors().is_empty());
}
