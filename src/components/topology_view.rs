//! The topology graph as SVG: nodes in columns, bindings as labelled curves, messages in motion as tokens
//! along the edges; click a node to inspect it.
//!
//! Tokens are CSS animations (`offset-path` set to the edge's own path), started by the browser when a
//! token's element is inserted and kept running across re-renders by its key, so a frame costs no work
//! per moving token; `www/style.css` stops the motion under `prefers-reduced-motion`.

use super::use_app;
use crate::state::{Action, AppState, Selection};
use crate::topology::{
    EdgeGeometry, Graph, Node, NodeStatus, PanZoom, StreamStrip, TokenTracker, TokenView, Viewport,
    NODE_HEIGHT, NODE_WIDTH, STRIP_CELLS, TOKEN_MILLIS,
};
use std::rc::Rc;
use yew::prelude::*;

/// Longer labels are cut with an ellipsis; the full text is in the node's tooltip.
const MAX_LABEL_CHARS: usize = 19;

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// The graph and each edge's geometry. Made again at each session version, but a refresh of the same
/// shape keeps the previous layout and geometry ([`Graph::from_session_after`]), so only counts and
/// labels change.
struct Drawing {
    graph: Graph,
    edges: Rc<[EdgeGeometry]>,
}

/// Zoom steps of the +/− buttons and keys, and how far an arrow key pans (CSS pixels).
const ZOOM_STEP: f64 = 1.25;
const PAN_STEP: f64 = 60.0;

/// What the routing explanation shows about one edge or node: on the matched route, or checked and not.
fn route_class(matched: Option<bool>) -> Option<&'static str> {
    matched.map(|m| if m { "route-match" } else { "route-miss" })
}

#[function_component(TopologyView)]
pub fn topology_view() -> Html {
    let app = use_app();
    let previous = use_mut_ref(|| None::<Rc<Drawing>>);
    let drawing = {
        let session = app.session.clone();
        let previous = previous.clone();
        use_memo(app.version, move |_| {
            let before = previous.borrow().clone();
            let graph = Graph::from_session_after(&session.borrow(), before.as_ref().map(|d| &d.graph));
            let edges = match &before {
                Some(d) if d.graph.same_shape(&graph) => d.edges.clone(),
                _ => graph.geometry.iter().cloned().collect(),
            };
            Drawing { graph, edges }
        })
    };
    if !previous.borrow().as_ref().is_some_and(|p| Rc::ptr_eq(p, &drawing)) {
        *previous.borrow_mut() = Some(drawing.clone());
    }
    // The pane's size in CSS pixels, measured after a render that may change it (a new graph, the
    // inspector opening or closing) and on window resize (a state change only when it differs).
    let pane = use_node_ref();
    let pane_size = use_state_eq(|| None::<(f64, f64)>);
    let measure: Rc<dyn Fn()> = {
        let (pane, pane_size) = (pane.clone(), pane_size.setter());
        Rc::new(move || pane_size.set(measure_pane(&pane)))
    };
    {
        let measure = measure.clone();
        let size = (drawing.graph.width.to_bits(), drawing.graph.height.to_bits(), app.selected.is_some());
        use_effect_with(size, move |_| {
            measure();
            let listener = on_window_resize(measure);
            move || drop(listener)
        });
    }
    // Where the user put the graph; `None` follows fit-to-view. A newly loaded scenario is fitted again.
    let placed = use_state_eq(|| None::<PanZoom>);
    let loaded = {
        let session = app.session.borrow();
        (session.scenario().map(|s| s.name.clone()), session.document_text().map(str::len))
    };
    {
        let placed = placed.setter();
        use_effect_with(loaded, move |_| placed.set(None));
    }
    let graph_size = (drawing.graph.width, drawing.graph.height);
    let view = match (*placed, *pane_size) {
        (Some(v), _) => Some(v),
        (None, Some(pane)) => Some(PanZoom::fit(graph_size, pane, true)),
        (None, None) => None,
    };
    let tracker = use_mut_ref(TokenTracker::default);
    tracker.borrow_mut().advance(&drawing.graph, app.session.borrow().log(), js_sys::Date::now());
    let tokens = tracker.borrow().view();
    let has_tokens = tracker.borrow().in_flight() > 0;
    // Tokens left when nothing re-renders (paused) are cleared once they have arrived.
    let force = use_force_update();
    use_effect_with((app.version, has_tokens), move |(_, has_tokens)| {
        let timeout = has_tokens.then(|| {
            gloo_timers::callback::Timeout::new(TOKEN_MILLIS as u32 + 50, move || force.force_update())
        });
        move || drop(timeout)
    });
    // Wheel zoom and keyboard pan/zoom listen on the pane itself: a wheel listener there may prevent
    // the page's scroll, and keys handled here never reach the page's shortcuts (→ steps).
    {
        let (pane, placed) = (pane.clone(), placed.clone());
        let state = (view, *pane_size, graph_size);
        use_effect_with(state, move |&(view, pane_size, graph_size)| {
            let listeners = pane_listeners(&pane, view, pane_size, graph_size, placed);
            move || drop(listeners)
        });
    }

    // The drag's start (declared before the empty pane's early return: hooks run in the same order on
    // every render, with or without nodes).
    let drag = use_mut_ref(|| None::<(f64, f64, PanZoom)>);

    let graph = &drawing.graph;
    if graph.nodes.is_empty() {
        return html! {
            <div class="topology empty-graph" id="topology" ref={pane}>
                <div>
                <h2>{ "Empty workspace" }</h2>
                <p>{ "No exchanges or queues yet. Declare some in the tabs, or press " }
                   <strong>{ "Load example" }</strong>{ "." }</p>
                </div>
            </div>
        };
    }
    let dispatch = app.dispatcher();
    let aggregated = matches!(tokens, TokenView::Badges(_));
    let flowing: std::collections::BTreeSet<usize> = match &tokens {
        TokenView::Dots(dots) => dots.iter().map(|d| d.1).collect(),
        TokenView::Badges(badges) => badges.iter().map(|b| b.0).collect(),
    };
    let route = app.explanation.as_ref().map(|x| graph.route_marks(x)).unwrap_or_default();
    // Only what the pane shows (and a margin) is drawn; before the pane is measured, everything.
    let all = Viewport { x: 0.0, y: 0.0, width: graph.width, height: graph.height };
    let shown = view.zip(*pane_size).and_then(|(v, p)| v.viewport(p)).unwrap_or(all);
    let edges = graph
        .edges
        .iter()
        .zip(drawing.edges.iter())
        .enumerate()
        .filter(|(_, (_, geo))| shown.meets(geo.bounds));
    let edges = edges.map(|(i, (e, geo))| {
        let selected = e.selection.is_some() && e.selection == app.selected;
        let label_at = geo.label_at.filter(|&at| shown.shows(at));
        html! {
            <EdgeView key={i} index={i} d={geo.d.clone()} label={e.label.clone()} label_room={e.label_room}
                      label_at={label_at} dead_letter={e.dead_letter} pending={e.pending} selected={selected}
                      flowing={flowing.contains(&i)} route={route.edges.get(&i).copied()}
                      selection={e.selection.clone()} dispatch={dispatch.clone()} />
        }
    });
    let nodes = graph.nodes.iter().enumerate().filter(|(i, _)| shown.meets(graph.node_box(*i)));
    let nodes = nodes.map(|(i, n)| {
        let selected = n.selection.is_some() && app.selected == n.selection;
        html! { <NodeView key={i} node={n.clone()} selected={selected} route={route.nodes.get(&i).copied()}
        dispatch={dispatch.clone()} /> }
    });
    let tokens = tokens_layer(graph, &drawing.edges, &tokens, &shown);
    let zoom_button = |factor: f64| {
        let placed = placed.clone();
        let pane_size = *pane_size;
        Callback::from(move |_: MouseEvent| {
            if let (Some(v), Some(p)) = (view, pane_size) {
                placed.set(Some(v.zoom_at(factor, (p.0 / 2.0, p.1 / 2.0))));
            }
        })
    };
    let fit = {
        let (placed, pane_size) = (placed.clone(), *pane_size);
        Callback::from(move |_: MouseEvent| {
            if let Some(p) = pane_size {
                placed.set(Some(PanZoom::fit(graph_size, p, false)));
            }
        })
    };
    // Drag to pan: from anywhere but a node or a button (those are clicked).
    let onpointerdown = {
        let drag = drag.clone();
        Callback::from(move |e: PointerEvent| {
            use wasm_bindgen::JsCast;
            let on_control = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("g.node, button").ok().flatten())
                .is_some();
            if e.button() != 0 || on_control {
                return;
            }
            if let Some(v) = view {
                *drag.borrow_mut() = Some((f64::from(e.client_x()), f64::from(e.client_y()), v));
                if let Some(el) = e.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                    let _ = el.set_pointer_capture(e.pointer_id());
                }
            }
        })
    };
    let onpointermove = {
        let (drag, placed) = (drag.clone(), placed.clone());
        Callback::from(move |e: PointerEvent| {
            if let Some((x0, y0, v)) = *drag.borrow() {
                let (dx, dy) = (f64::from(e.client_x()) - x0, f64::from(e.client_y()) - y0);
                if dx.abs() + dy.abs() >= 2.0 {
                    placed.set(Some(v.pan(dx, dy)));
                }
            }
        })
    };
    let onpointerup = {
        let drag = drag.clone();
        Callback::from(move |_: PointerEvent| *drag.borrow_mut() = None)
    };
    let view_attr = view.map_or_else(String::new, |v| format!("{:.4} {:.1} {:.1}", v.scale, v.x, v.y));
    html! {
        <div class={classes!("topology", drag.borrow().is_some().then_some("dragging"))} id="topology" ref={pane}
             tabindex="0" aria-label="Topology graph: drag or arrow keys to pan, + and − to zoom, 0 to fit"
             data-nodes={graph.nodes.len().to_string()} data-edges={graph.edges.len().to_string()}
             data-view={view_attr} data-graph={format!("{:.1} {:.1}", graph.width, graph.height)}
             {onpointerdown} {onpointermove} onpointerup={onpointerup.clone()} onpointercancel={onpointerup}>
            // While counts are shown instead of dots (a busy graph), busy edges are drawn still: the
            // marching dashes would repaint the whole graph at every frame.
            <svg class={classes!(aggregated.then_some("aggregated"), route.active.then_some("explaining"))}
                 role="group" aria-label="Topology: producers, exchanges, queues and consumers">
                <defs>
                    // In graph units, so a highlighted (thicker) edge keeps the same arrow head.
                    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9"
                            markerUnits="userSpaceOnUse" orient="auto-start-reverse">
                        <path d="M0,0 L10,5 L0,10 z" />
                    </marker>
                </defs>
                if let Some(v) = view {
                    <g class="graph-view" transform={v.transform()}>
                        { for edges }
                        { for nodes }
                        { tokens }
                    </g>
                }
            </svg>
            <div class="graph-controls" role="toolbar" aria-label="Zoom">
                <button class="btn small" id="graph-zoom-in" type="button" title="Zoom in (+)"
                        aria-label="Zoom in" onclick={zoom_button(ZOOM_STEP)}>{ "+" }</button>
                <button class="btn small" id="graph-zoom-out" type="button" title="Zoom out (−)"
                        aria-label="Zoom out" onclick={zoom_button(1.0 / ZOOM_STEP)}>{ "−" }</button>
                <button class="btn small" id="graph-fit" type="button" title="Fit the whole graph (0)"
                        onclick={fit}>{ "Fit" }</button>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct NodeProps {
    node: Node,
    selected: bool,
    route: Option<bool>,
    dispatch: UseReducerDispatcher<AppState>,
}

/// One node; it renders again only when its own text, place, state or selection changes.
#[function_component(NodeView)]
fn node_view(props: &NodeProps) -> Html {
    let n = &props.node;
    let onclick = n.selection.clone().map(|s| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::Select(Some(s.clone()))))
    });
    let onkeydown = n.selection.clone().map(|s| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                dispatch.dispatch(Action::Select(Some(s.clone())));
            }
        })
    });
    let state = match n.status {
        NodeStatus::Live => String::new(),
        NodeStatus::Waiting => " (not there yet)".to_string(),
        NodeStatus::Crashed => " (crashed)".to_string(),
        NodeStatus::Gone => " (gone)".to_string(),
    };
    let label = format!("{} {}{state}: {}", n.kind.class(), n.label, n.detail);
    let crashed = n.status == NodeStatus::Crashed;
    html! {
        <g class={classes!("node", n.kind.class(), props.selected.then_some("selected"), n.busy.then_some("busy"),
                           n.status.class(), route_class(props.route))}
           transform={format!("translate({},{})", n.x, n.y)} tabindex="0" role="button"
           aria-label={label} onclick={onclick} onkeydown={onkeydown}>
            <title>{ format!("{} {}{state}", n.kind.class(), n.label) }</title>
            <rect width={NODE_WIDTH.to_string()} height={NODE_HEIGHT.to_string()} rx="6" />
            <text class="label" x="10" y="17">{ clip(&n.label, if crashed { MAX_LABEL_CHARS - 2 } else { MAX_LABEL_CHARS }) }</text>
            <text class="detail" x="10" y={if n.stream.is_some() { "31" } else { "33" }}>{ clip(&n.detail, 24) }</text>
            if let Some(strip) = &n.stream {
                { stream_strip(strip) }
            }
            if crashed {
                <g class="crash-mark" transform={format!("translate({},{})", NODE_WIDTH - 13.0, 13.0)}>
                    <circle r="8" />
                    <path d="M-3.5,-3.5 L3.5,3.5 M3.5,-3.5 L-3.5,3.5" />
                </g>
            }
        </g>
    }
}

/// A stream queue's log along its node's foot: one cell per offset of the newest ones, and a mark where
/// each consumer reads next (past the last cell: waiting for the next message).
fn stream_strip(strip: &StreamStrip) -> Html {
    let shown = strip.shown();
    let cell = (NODE_WIDTH - 20.0) / STRIP_CELLS as f64;
    let x_of = |offset: u64| 10.0 + (offset.saturating_sub(shown.start)) as f64 * cell;
    let marks: Vec<f64> = strip
        .positions
        .iter()
        .filter(|p| **p >= shown.start)
        .map(|p| x_of((*p).min(shown.end)).min(NODE_WIDTH - 8.0))
        .collect();
    html! {
        <g class="stream-strip">
            { for shown.clone().map(|o| html! {
                <rect class="log-cell" x={format!("{:.1}", x_of(o))} y="35" width={format!("{:.1}", cell - 1.5)}
                      height="4" />
            }) }
            { for marks.into_iter().map(|x| html! {
                <path class="reader-mark" d={format!("M{x:.1},33 l3,0 l-1.5,2.5 z M{:.1},35 l0,5", x + 1.5)} />
            }) }
        </g>
    }
}

#[derive(Properties, PartialEq)]
struct EdgeProps {
    index: usize,
    d: String,
    label: String,
    label_room: usize,
    /// The label's centre, when it is placed and in sight.
    label_at: Option<(f64, f64)>,
    dead_letter: bool,
    pending: bool,
    selected: bool,
    flowing: bool,
    route: Option<bool>,
    selection: Option<Selection>,
    dispatch: UseReducerDispatcher<AppState>,
}

/// One edge with its label; it renders again only when its label, place or state changes.
#[function_component(EdgeView)]
fn edge_view(props: &EdgeProps) -> Html {
    let onclick = props.selection.clone().map(|s| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::Select(Some(s.clone()))))
    });
    html! {
        <g class={classes!("edge", props.dead_letter.then_some("dead-letter"), props.selected.then_some("selected"),
                           props.flowing.then_some("flowing"), props.pending.then_some("pending"),
                           route_class(props.route))}
           data-edge={props.index.to_string()} onclick={onclick}>
            <title>{ props.label.clone() }</title>
            <path d={props.d.clone()} marker-end="url(#arrow)" />
            if let Some((lx, ly)) = props.label_at {
                <text x={format!("{lx:.1}")} y={format!("{ly:.1}")} text-anchor="middle" dominant-baseline="central">
                    { clip(&props.label, props.label_room.max(1)) }
                </text>
            }
        </g>
    }
}

/// The pane's size in CSS pixels.
fn measure_pane(pane: &NodeRef) -> Option<(f64, f64)> {
    let el = pane.cast::<web_sys::Element>()?;
    let size = (f64::from(el.client_width()), f64::from(el.client_height()));
    (size.0 > 0.0 && size.1 > 0.0).then_some(size)
}

/// Native `wheel` and `keydown` listeners on the pane for the view `view` (removed when dropped).
fn pane_listeners(
    pane: &NodeRef,
    view: Option<PanZoom>,
    pane_size: Option<(f64, f64)>,
    graph_size: (f64, f64),
    placed: UseStateHandle<Option<PanZoom>>,
) -> Option<(ElementListener, ElementListener)> {
    let el = pane.cast::<web_sys::Element>()?;
    let (view, size) = (view?, pane_size?);
    let wheel = {
        let placed = placed.clone();
        let el2 = el.clone();
        ElementListener::new(&el, "wheel", move |e: web_sys::Event| {
            use wasm_bindgen::JsCast;
            let Ok(e) = e.dyn_into::<web_sys::WheelEvent>() else { return };
            e.prevent_default();
            let rect = el2.get_bounding_client_rect();
            let at = (f64::from(e.client_x()) - rect.left(), f64::from(e.client_y()) - rect.top());
            // Pixels or lines: about 100 px a notch either way.
            let delta = if e.delta_mode() == 1 { e.delta_y() * 33.0 } else { e.delta_y() };
            placed.set(Some(view.zoom_at((-delta * 0.0015).exp(), at)));
        })?
    };
    let keys = ElementListener::new(&el, "keydown", move |e: web_sys::Event| {
        use wasm_bindgen::JsCast;
        let Ok(e) = e.dyn_into::<web_sys::KeyboardEvent>() else { return };
        if e.ctrl_key() || e.meta_key() || e.alt_key() {
            return;
        }
        let centre = (size.0 / 2.0, size.1 / 2.0);
        let next = match e.key().as_str() {
            "ArrowLeft" => view.pan(PAN_STEP, 0.0),
            "ArrowRight" => view.pan(-PAN_STEP, 0.0),
            "ArrowUp" => view.pan(0.0, PAN_STEP),
            "ArrowDown" => view.pan(0.0, -PAN_STEP),
            "+" | "=" => view.zoom_at(ZOOM_STEP, centre),
            "-" | "_" => view.zoom_at(1.0 / ZOOM_STEP, centre),
            "0" => PanZoom::fit(graph_size, size, false),
            _ => return,
        };
        e.prevent_default();
        e.stop_propagation();
        placed.set(Some(next));
    })?;
    Some((wheel, keys))
}

/// An event listener on an element, removed when dropped.
struct ElementListener {
    target: web_sys::Element,
    event: &'static str,
    closure: wasm_bindgen::closure::Closure<dyn Fn(web_sys::Event)>,
}

impl ElementListener {
    fn new(
        target: &web_sys::Element,
        event: &'static str,
        f: impl Fn(web_sys::Event) + 'static,
    ) -> Option<Self> {
        use wasm_bindgen::JsCast;
        let closure = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::Event)>::new(f);
        target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref()).ok()?;
        Some(ElementListener { target: target.clone(), event, closure })
    }
}

impl Drop for ElementListener {
    fn drop(&mut self) {
        use wasm_bindgen::JsCast;
        let _ = self
            .target
            .remove_event_listener_with_callback(self.event, self.closure.as_ref().unchecked_ref());
    }
}

/// Calls `f` on every window resize until the returned guard is dropped.
fn on_window_resize(f: Rc<dyn Fn()>) -> Option<ResizeListener> {
    use wasm_bindgen::JsCast;
    let window = web_sys::window()?;
    let closure = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || f());
    window.add_event_listener_with_callback("resize", closure.as_ref().unchecked_ref()).ok()?;
    Some(ResizeListener { window, closure })
}

/// A window `resize` listener, removed when dropped.
struct ResizeListener {
    window: web_sys::Window,
    closure: wasm_bindgen::closure::Closure<dyn Fn()>,
}

impl Drop for ResizeListener {
    fn drop(&mut self) {
        use wasm_bindgen::JsCast;
        let _ =
            self.window.remove_event_listener_with_callback("resize", self.closure.as_ref().unchecked_ref());
    }
}

/// The moving dots (keyed, so an element keeps its running animation while the graph re-renders) or,
/// past [`crate::topology::AGGREGATE_ABOVE`] in flight, one count badge per busy edge.
fn tokens_layer(graph: &Graph, geometry: &[EdgeGeometry], view: &TokenView, shown: &Viewport) -> Html {
    match view {
        TokenView::Dots(dots) => {
            // One `path('…')` string per edge with dots, shared by them.
            let mut paths: std::collections::BTreeMap<usize, Rc<str>> = std::collections::BTreeMap::new();
            html! {
                <g class="tokens" aria-hidden="true">
                    { for dots.iter().filter(|d| shown.meets(geometry[d.1].bounds)).map(|(key, edge, delay)| {
                        let dead = graph.edges[*edge].dead_letter;
                        let path = paths
                            .entry(*edge)
                            .or_insert_with(|| Rc::from(format!("path('{}')", geometry[*edge].d)))
                            .clone();
                        html! {
                            <circle key={key.clone()} class={classes!("token", dead.then_some("dead-letter"))} r="4.5"
                                    data-edge={edge.to_string()}
                                    style={format!("offset-path:{path};animation-delay:{delay:.0}ms")} />
                        }
                    }) }
                </g>
            }
        }
        TokenView::Badges(badges) => html! {
            <g class="tokens" aria-hidden="true">
                { for badges.iter().filter(|b| shown.shows(geometry[b.0].badge_at)).map(|(edge, count)| {
                    let (x, y) = geometry[*edge].badge_at;
                    let text = if *count >= 10_000 { format!("{}k", count / 1000) } else { count.to_string() };
                    let width = 10.0 + 7.0 * text.chars().count() as f64;
                    html! {
                        <g key={edge.to_string()} class="token-badge" data-edge={edge.to_string()}
                           transform={format!("translate({x:.1},{y:.1})")}>
                            <title>{ format!("messages on this edge in the last {TOKEN_MILLIS:.0} ms") }</title>
                            <rect x={format!("{:.1}", -width / 2.0)} y="-9" width={format!("{width:.1}")}
                                  height="18" rx="9" />
                            <text text-anchor="middle" y="4">{ text }</text>
                        </g>
                    }
                }) }
            </g>
        },
    }
}
