//! The topology graph as SVG: nodes in columns, bindings as labelled curves, messages in motion as tokens
//! along the edges; click a node to inspect it.
//!
//! Tokens are CSS animations (`offset-path` set to the edge's own path), started by the browser when a
//! token's element is inserted and kept running across re-renders by its key, so a frame costs no work
//! per moving token; `www/style.css` stops the motion under `prefers-reduced-motion`.

use super::use_app;
use crate::state::{Action, AppState, Selection};
use crate::topology::{
    EdgeGeometry, Graph, Node, TokenTracker, TokenView, Viewport, EDGE_LABEL_CHARS, NODE_HEIGHT, NODE_WIDTH,
    TOKEN_MILLIS,
};
use std::rc::Rc;
use yew::prelude::*;

/// Longer labels are cut with an ellipsis; the full text is in the node's tooltip.
const MAX_LABEL_CHARS: usize = 19;

/// The graph shrinks to fit its pane down to this scale; below it, the pane scrolls (so labels stay
/// readable however many nodes there are).
const MIN_SCALE: f64 = 0.75;

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
                _ => (0..graph.edges.len()).map(|i| graph.edge_geometry(i)).collect(),
            };
            Drawing { graph, edges }
        })
    };
    if !previous.borrow().as_ref().is_some_and(|p| Rc::ptr_eq(p, &drawing)) {
        *previous.borrow_mut() = Some(drawing.clone());
    }
    // The part of the graph the pane shows, measured after each render of a new size, on scroll and
    // on window resize (a state change only when it moves to another step).
    let pane = use_node_ref();
    let viewport = use_state_eq(|| None::<Viewport>);
    let measure: Rc<dyn Fn()> = {
        let (pane, viewport, width) = (pane.clone(), viewport.setter(), drawing.graph.width);
        Rc::new(move || viewport.set(measure_pane(&pane, width)))
    };
    {
        let measure = measure.clone();
        let size = (drawing.graph.width.to_bits(), drawing.graph.height.to_bits());
        use_effect_with(size, move |_| {
            measure();
            let listener = on_window_resize(measure);
            move || drop(listener)
        });
    }
    let viewport = *viewport;
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

    let graph = &drawing.graph;
    if graph.nodes.is_empty() {
        return html! {
            <div class="topology empty-graph" id="topology">
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
    // Only what the pane shows (and a margin) is drawn; before the pane is measured, everything.
    let all = Viewport { x: 0.0, y: 0.0, width: graph.width, height: graph.height };
    let view = viewport.unwrap_or(all);
    let edges = graph
        .edges
        .iter()
        .zip(drawing.edges.iter())
        .enumerate()
        .filter(|(_, (_, geo))| view.meets(geo.bounds));
    let edges = edges.map(|(i, (e, geo))| {
        let selected = e.selection.is_some() && e.selection == app.selected;
        let label = if view.shows(geo.label_at) { e.label.clone() } else { String::new() };
        html! {
            <EdgeView key={i} index={i} d={geo.d.clone()} label={label} label_at={geo.label_at}
                      dead_letter={e.dead_letter} selected={selected} flowing={flowing.contains(&i)}
                      selection={e.selection.clone()} dispatch={dispatch.clone()} />
        }
    });
    let nodes = graph.nodes.iter().enumerate().filter(|(i, _)| view.meets(graph.node_box(*i)));
    let nodes = nodes.map(|(i, n)| {
        let selected = app.selected.as_ref() == Some(&n.selection);
        html! { <NodeView key={i} node={n.clone()} selected={selected} dispatch={dispatch.clone()} /> }
    });
    let tokens = tokens_layer(graph, &drawing.edges, &tokens, &view);
    let onscroll = {
        let measure = measure.clone();
        Callback::from(move |_: Event| measure())
    };
    html! {
        <div class="topology" id="topology" ref={pane} onscroll={onscroll}
             data-nodes={graph.nodes.len().to_string()} data-edges={graph.edges.len().to_string()}>
            // Fits the pane's width, shrinking to at most MIN_SCALE (then the pane scrolls) and never
            // growing past natural size.
            // While counts are shown instead of dots (a busy graph), busy edges are drawn still: the
            // marching dashes would repaint the whole graph at every frame.
            <svg style={format!("width:100%;min-width:{}px;max-width:{}px", graph.width * MIN_SCALE, graph.width)}
                 class={classes!(aggregated.then_some("aggregated"))}
                 viewBox={format!("0 0 {} {}", graph.width, graph.height)} role="group"
                 aria-label="Topology: producers, exchanges, queues and consumers">
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"
                            orient="auto-start-reverse">
                        <path d="M0,0 L10,5 L0,10 z" />
                    </marker>
                </defs>
                { for edges }
                { for nodes }
                { tokens }
            </svg>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct NodeProps {
    node: Node,
    selected: bool,
    dispatch: UseReducerDispatcher<AppState>,
}

/// One node; it renders again only when its own text, place or selection changes.
#[function_component(NodeView)]
fn node_view(props: &NodeProps) -> Html {
    let n = &props.node;
    let onclick = {
        let (dispatch, s) = (props.dispatch.clone(), n.selection.clone());
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::Select(Some(s.clone()))))
    };
    let onkeydown = {
        let (dispatch, s) = (props.dispatch.clone(), n.selection.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                dispatch.dispatch(Action::Select(Some(s.clone())));
            }
        })
    };
    let label = format!("{} {}: {}", n.kind.class(), n.label, n.detail);
    html! {
        <g class={classes!("node", n.kind.class(), props.selected.then_some("selected"), n.busy.then_some("busy"))}
           transform={format!("translate({},{})", n.x, n.y)} tabindex="0" role="button"
           aria-label={label.clone()} onclick={onclick} onkeydown={onkeydown}>
            <title>{ format!("{} {}", n.kind.class(), n.label) }</title>
            <rect width={NODE_WIDTH.to_string()} height={NODE_HEIGHT.to_string()} rx="6" />
            <text class="label" x="10" y="17">{ clip(&n.label, MAX_LABEL_CHARS) }</text>
            <text class="detail" x="10" y="33">{ clip(&n.detail, 24) }</text>
        </g>
    }
}

#[derive(Properties, PartialEq)]
struct EdgeProps {
    index: usize,
    d: String,
    label: String,
    label_at: (f64, f64),
    dead_letter: bool,
    selected: bool,
    flowing: bool,
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
    let (lx, ly) = props.label_at;
    html! {
        <g class={classes!("edge", props.dead_letter.then_some("dead-letter"), props.selected.then_some("selected"),
                           props.flowing.then_some("flowing"))}
           data-edge={props.index.to_string()} onclick={onclick}>
            <path d={props.d.clone()} marker-end="url(#arrow)" />
            if !props.label.is_empty() {
                <text x={format!("{lx:.1}")} y={format!("{ly:.1}")} text-anchor="middle">
                    <title>{ props.label.clone() }</title>
                    { clip(&props.label, EDGE_LABEL_CHARS) }
                </text>
            }
        </g>
    }
}

/// The pane's viewport in graph units: its scroll position and size over the SVG's drawn scale.
fn measure_pane(pane: &NodeRef, graph_width: f64) -> Option<Viewport> {
    let el = pane.cast::<web_sys::Element>()?;
    let svg = el.first_element_child()?;
    let scale = svg.get_bounding_client_rect().width() / graph_width;
    let scroll = (f64::from(el.scroll_left()), f64::from(el.scroll_top()));
    Viewport::of_pane(scroll, (f64::from(el.client_width()), f64::from(el.client_height())), scale)
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
