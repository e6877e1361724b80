//! The topology graph as SVG: nodes in columns, bindings as labelled curves, messages in motion as tokens
//! along the edges; click a node to inspect it.
//!
//! Tokens are CSS animations (`offset-path` set to the edge's own path), started by the browser when a
//! token's element is inserted and kept running across re-renders by its key, so a frame costs no work
//! per moving token; `www/style.css` stops the motion under `prefers-reduced-motion`.

use super::use_app;
use crate::state::{Action, Selection};
use crate::topology::{
    EdgeGeometry, Graph, TokenTracker, TokenView, EDGE_LABEL_CHARS, NODE_HEIGHT, NODE_WIDTH, TOKEN_MILLIS,
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

/// The graph and each edge's geometry, computed once per session version.
struct Drawing {
    graph: Graph,
    edges: Vec<EdgeGeometry>,
}

#[function_component(TopologyView)]
pub fn topology_view() -> Html {
    let app = use_app();
    let drawing = {
        let session = app.session.clone();
        use_memo(app.version, move |_| {
            let graph = Graph::from_session(&session.borrow());
            let edges = (0..graph.edges.len()).map(|i| graph.edge_geometry(i)).collect();
            Drawing { graph, edges }
        })
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
    let select = |s: Selection| {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| app.dispatch(Action::Select(Some(s.clone()))))
    };
    let key_select = |s: Selection| {
        let app = app.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                app.dispatch(Action::Select(Some(s.clone())));
            }
        })
    };
    let flowing: std::collections::BTreeSet<usize> = match &tokens {
        TokenView::Dots(dots) => dots.iter().map(|d| d.1).collect(),
        TokenView::Badges(badges) => badges.iter().map(|b| b.0).collect(),
    };
    let edges = graph.edges.iter().zip(&drawing.edges).enumerate().map(|(i, (e, geo))| {
        let selected = e.selection.is_some() && e.selection == app.selected;
        let onclick = e.selection.clone().map(select);
        let (lx, ly) = geo.label_at;
        html! {
            <g class={classes!("edge", e.dead_letter.then_some("dead-letter"), selected.then_some("selected"),
                               flowing.contains(&i).then_some("flowing"))}
               data-edge={i.to_string()} onclick={onclick}>
                <path d={geo.d.clone()} marker-end="url(#arrow)" />
                if !e.label.is_empty() {
                    <text x={format!("{lx:.1}")} y={format!("{ly:.1}")} text-anchor="middle">
                        <title>{ e.label.clone() }</title>
                        { clip(&e.label, EDGE_LABEL_CHARS) }
                    </text>
                }
            </g>
        }
    });
    let nodes = graph.nodes.iter().map(|n| {
        let selected = app.selected.as_ref() == Some(&n.selection);
        let label = format!("{} {}: {}", n.kind.class(), n.label, n.detail);
        html! {
            <g class={classes!("node", n.kind.class(), selected.then_some("selected"), n.busy.then_some("busy"))}
               transform={format!("translate({},{})", n.x, n.y)} tabindex="0" role="button"
               aria-label={label.clone()} onclick={select(n.selection.clone())}
               onkeydown={key_select(n.selection.clone())}>
                <title>{ label }</title>
                <rect width={NODE_WIDTH.to_string()} height={NODE_HEIGHT.to_string()} rx="6" />
                <text class="label" x="10" y="17">{ clip(&n.label, MAX_LABEL_CHARS) }</text>
                <text class="detail" x="10" y="33">{ clip(&n.detail, 24) }</text>
            </g>
        }
    });
    let tokens = tokens_layer(graph, &drawing.edges, &tokens);
    html! {
        <div class="topology" id="topology">
            // Fits the pane's width, shrinking to at most MIN_SCALE (then the pane scrolls) and never
            // growing past natural size.
            <svg style={format!("width:100%;min-width:{}px;max-width:{}px", graph.width * MIN_SCALE, graph.width)}
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

/// The moving dots (keyed, so an element keeps its running animation while the graph re-renders) or,
/// past [`crate::topology::AGGREGATE_ABOVE`] in flight, one count badge per busy edge.
fn tokens_layer(graph: &Graph, geometry: &[EdgeGeometry], view: &TokenView) -> Html {
    // One `path('…')` string per edge, shared by its dots.
    let paths: Vec<Rc<str>> = geometry.iter().map(|g| Rc::from(format!("path('{}')", g.d))).collect();
    match view {
        TokenView::Dots(dots) => html! {
            <g class="tokens" aria-hidden="true">
                { for dots.iter().map(|(key, edge, delay)| {
                    let dead = graph.edges[*edge].dead_letter;
                    html! {
                        <circle key={key.clone()} class={classes!("token", dead.then_some("dead-letter"))} r="4.5"
                                data-edge={edge.to_string()}
                                style={format!("offset-path:{};animation-delay:{delay:.0}ms", paths[*edge])} />
                    }
                }) }
            </g>
        },
        TokenView::Badges(badges) => html! {
            <g class="tokens" aria-hidden="true">
                { for badges.iter().map(|(edge, count)| {
                    let (x, y) = geometry[*edge].badge_at;
                    let text = if *count >= 10_000 { format!("{}k", count / 1000) } else { count.to_string() };
                    let width = 10.0 + 7.0 * text.chars().count() as f64;
                    html! {
                        <g key={edge.to_string()} class="token-badge" data-edge={edge.to_string()}
                           transform={format!("translate({x:.1},{y:.1})")}>
                            <title>{ format!("{count} messages on this edge in the last {TOKEN_MILLIS:.0} ms") }</title>
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
