//! The topology graph in the browser, on every bundled scenario at 1280×720 and 2560×1440: fitted to
//! its pane on load (its drawn box inside the pane, not in a corner behind a scrollbar), zoomed by the
//! +/− buttons, the wheel and keys, panned by dragging and arrow keys and fitted again by "Fit"; a
//! crashed worker stays drawn, marked; explaining a publish lights the bindings that matched.
//! Screenshots: `artifacts/graph-<scenario>-<width>.png`.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::Duration;

/// The bundled scenarios' ids, from `www/scenarios/`.
fn bundled() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(repo_root().join("www/scenarios"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    ids.sort();
    assert!(ids.len() >= 11, "{ids:?}");
    ids
}

fn load(page: &Page, id: &str) {
    page.click(&format!("#scenario option[value='{id}']"));
    page.wait_text("#notice", "Loaded scenario");
    frames(page);
}

/// Lets the page render and measure (two animation frames and a moment).
fn frames(page: &Page) {
    page.execute_async(
        "const done = arguments[arguments.length - 1];
         requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 60)));",
        json!([]),
    );
}

/// The pane's box, the drawn graph's box (both in CSS pixels of the window), the view
/// (`scale x y`) and the number of nodes drawn.
fn geometry(page: &Page) -> Value {
    page.execute(
        "const pane = document.getElementById('topology');
         const g = pane.querySelector('g.graph-view');
         const r = (b) => [b.left, b.top, b.right, b.bottom];
         return {pane: r(pane.getBoundingClientRect()), graph: g ? r(g.getBoundingClientRect()) : null,
                 view: pane.dataset.view, nodes: pane.querySelectorAll('g.node').length,
                 declared: Number(pane.dataset.nodes)};",
        json!([]),
    )
}

fn boxed(v: &Value) -> [f64; 4] {
    let f = |i: usize| v[i].as_f64().unwrap();
    [f(0), f(1), f(2), f(3)]
}

fn scale(page: &Page) -> f64 {
    let view = geometry(page)["view"].as_str().unwrap_or("").to_string();
    view.split(' ').next().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no view: {view:?}"))
}

fn view(page: &Page) -> Vec<f64> {
    let view = geometry(page)["view"].as_str().unwrap_or("").to_string();
    view.split(' ').map(|s| s.parse().unwrap()).collect()
}

/// Asserts the whole graph is drawn inside its pane, using a fair part of it.
fn assert_fitted(page: &Page, what: &str) {
    let g = geometry(page);
    let (pane, graph) = (boxed(&g["pane"]), boxed(&g["graph"]));
    assert_eq!(g["nodes"], g["declared"], "{what}: every node is drawn: {g}");
    let inside = graph[0] >= pane[0] - 1.0
        && graph[1] >= pane[1] - 1.0
        && graph[2] <= pane[2] + 1.0
        && graph[3] <= pane[3] + 1.0;
    assert!(inside, "{what}: the graph {graph:?} leaves its pane {pane:?}");
    let used = ((graph[2] - graph[0]) / (pane[2] - pane[0])).max((graph[3] - graph[1]) / (pane[3] - pane[1]));
    assert!(used > 0.5, "{what}: the graph fills {:.0}% of its pane, small in a corner", used * 100.0);
    let scrolls = page.execute(
        "const p = document.getElementById('topology'); return p.scrollWidth > p.clientWidth || p.scrollHeight > p.clientHeight;",
        json!([]),
    );
    assert_eq!(scrolls, json!(false), "{what}: the pane scrolls");
}

#[test]
fn every_bundled_scenario_fits_its_pane_at_1280_and_2560_wide() {
    let browser = Browser::open("/");
    let page = &browser.page;
    page.settle_after_restore();
    for (width, height) in [(1280, 720), (2560, 1440)] {
        page.set_viewport(width, height);
        for id in bundled() {
            load(page, &id);
            assert_fitted(page, &format!("{id} at {width}×{height}"));
            page.screenshot(&format!("graph-{id}-{width}.png"));
        }
    }
    assert!(page.console_errors().is_empty());
}

#[test]
fn the_graph_zooms_pans_and_fits_by_buttons_wheel_keys_and_drag() {
    let browser = Browser::open("/");
    let page = &browser.page;
    page.settle_after_restore();
    page.set_viewport(1280, 720);
    load(page, "04-routing");
    let fitted = view(page);
    page.click("#graph-zoom-in");
    frames(page);
    let zoomed = scale(page);
    assert!((zoomed / fitted[0] - 1.25).abs() < 0.01, "+ zooms in by a step: {fitted:?} → {zoomed}");
    let transform = page.execute(
        "return document.querySelector('#topology g.graph-view').getAttribute('transform');",
        json!([]),
    );
    assert!(transform.as_str().unwrap().contains(&format!("scale({zoomed:.4})")), "{transform}");
    page.click("#graph-zoom-out");
    page.click("#graph-zoom-out");
    frames(page);
    assert!(scale(page) < fitted[0], "− zooms out");
    page.click("#graph-fit");
    frames(page);
    assert_fitted(page, "after Fit");

    // The wheel zooms about the pointer.
    page.execute(
        "const p = document.getElementById('topology'); const r = p.getBoundingClientRect();
         p.dispatchEvent(new WheelEvent('wheel', {deltaY: -200, clientX: r.left + 100, clientY: r.top + 100,
                                                  bubbles: true, cancelable: true}));",
        json!([]),
    );
    frames(page);
    assert!(scale(page) > fitted[0], "the wheel zooms in");

    // Keys on the focused pane: arrows pan, '-' zooms out, '0' fits; → does not step the scenario.
    page.click("#graph-fit");
    frames(page);
    let before = view(page);
    let clock = page.text("#clock");
    let key = |k: &str| {
        page.execute(
            "const p = document.getElementById('topology'); p.focus();
             p.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0], bubbles: true, cancelable: true}));",
            json!([k]),
        );
        frames(page);
    };
    key("ArrowRight");
    let panned = view(page);
    assert!(panned[1] < before[1] && panned[2] == before[2], "→ pans: {before:?} → {panned:?}");
    assert_eq!(page.text("#clock"), clock, "→ on the graph pans, it does not step the scenario");
    key("ArrowDown");
    assert!(view(page)[2] < before[2], "↓ pans");
    key("-");
    assert!(scale(page) < before[0], "- zooms out");
    key("0");
    assert_fitted(page, "after the 0 key");

    // Dragging the background pans.
    page.execute(
        "const s = document.querySelector('#topology svg'); const r = s.getBoundingClientRect();
         const at = (type, dx) => s.dispatchEvent(new PointerEvent(type, {pointerId: 1, button: 0, bubbles: true,
           clientX: r.left + 5 + dx, clientY: r.bottom - 5}));
         at('pointerdown', 0); at('pointermove', 40); at('pointermove', 80); at('pointerup', 80);",
        json!([]),
    );
    frames(page);
    let dragged = view(page);
    assert!((dragged[1] - before[1] - 80.0).abs() < 1.0, "dragged 80 px right: {before:?} → {dragged:?}");
    assert!(page.console_errors().is_empty());
}

#[test]
fn a_crashed_worker_stays_marked_and_an_explained_publish_lights_its_bindings() {
    let browser = Browser::open("/");
    let page = &browser.page;
    page.settle_after_restore();
    page.set_viewport(1280, 720);
    load(page, "02-work-queues");
    let nodes =
        |css: &str| page.execute("return document.querySelectorAll(arguments[0]).length;", json!([css]));
    assert_eq!(nodes("#topology g.node.consumer"), json!(2), "both workers are drawn before they start");
    let layout = |page: &Page| {
        page.execute(
            "return [...document.querySelectorAll('#topology g.node')].map(n => n.getAttribute('transform')).join(';');",
            json!([]),
        )
    };
    let at_start = layout(page);
    page.click("#speed option[value='10']");
    page.click("#play");
    for _ in 0..100 {
        if nodes("#topology g.node.consumer.crashed") == json!(1) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    page.click("#play");
    let crashed = page.execute(
        "const n = document.querySelector('#topology g.node.consumer.crashed');
         return n ? [n.getAttribute('aria-label'), !!n.querySelector('.crash-mark')] : null;",
        json!([]),
    );
    assert!(
        crashed[0].as_str().is_some_and(|l| l.contains("worker-1") && l.contains("crashed")),
        "{crashed}"
    );
    assert_eq!(crashed[1], json!(true), "marked");
    assert_eq!(layout(page), at_start, "nothing moved as the workers started and one crashed");
    page.screenshot("graph-crashed-worker.png");

    load(page, "04-routing");
    page.click("#play");
    for _ in 0..100 {
        if nodes("#topology g.node.queue:not(.waiting)") == json!(2) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    page.click("#play");
    page.click("#tab-messages");
    page.type_into("#publish-exchange", "direct_logs");
    page.type_into("#publish-key", "error");
    page.click("#explain");
    page.wait_text("#explanation", "direct_logs");
    frames(page);
    assert_eq!(nodes("#topology g.edge.route-match"), json!(2), "'error' is bound to both queues");
    assert_eq!(nodes("#topology g.edge.route-miss"), json!(2), "'info' and 'warning' did not match");
    page.screenshot("graph-explained-route.png");
    assert!(page.console_errors().is_empty());
}
