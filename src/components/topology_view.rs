//! The topology graph as SVG: nodes in columns, bindings as labelled curves; click a node to inspect it.

use super::use_app;
use crate::state::{Action, Selection};
use crate::topology::{Graph, NODE_HEIGHT, NODE_WIDTH};
use yew::prelude::*;

/// Longer labels are cut with an ellipsis; the full text is in the node's tooltip.
const MAX_LABEL_CHARS: usize = 19;

/// The graph shrinks to fit its pane down to this scale; below it, the pane scrolls.
const MIN_SCALE: f64 = 0.6;

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

#[function_component(TopologyView)]
pub fn topology_view() -> Html {
    let app = use_app();
    let graph = {
        let session = app.session.clone();
        use_memo(app.version, move |_| Graph::from_session(&session.borrow()))
    };
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
    let edges = graph.edges.iter().map(|e| {
        let (a, b) = (&graph.nodes[e.from], &graph.nodes[e.to]);
        let backwards = b.x <= a.x;
        let (x1, y1) = (a.x + NODE_WIDTH, a.y + NODE_HEIGHT / 2.0);
        let (x2, y2) = if backwards { (b.x + NODE_WIDTH / 2.0, b.y + NODE_HEIGHT) } else { (b.x, b.y + NODE_HEIGHT / 2.0) };
        let bend = ((x2 - x1).abs() / 2.0).max(40.0);
        let d = if backwards {
            format!("M{x1},{y1} C{},{y1} {x2},{} {x2},{y2}", x1 + 60.0, y2 + 60.0)
        } else {
            format!("M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}", x1 + bend, x2 - bend)
        };
        let (lx, ly) = if backwards { (x1 + 40.0, (y1 + y2) / 2.0 + 30.0) } else { ((x1 + x2) / 2.0, (y1 + y2) / 2.0 - 4.0) };
        let selected = e.selection.is_some() && e.selection == app.selected;
        let onclick = e.selection.clone().map(select);
        html! {
            <g class={classes!("edge", e.dead_letter.then_some("dead-letter"), selected.then_some("selected"))}
               onclick={onclick}>
                <path d={d} marker-end="url(#arrow)" />
                if !e.label.is_empty() {
                    <text x={lx.to_string()} y={ly.to_string()} text-anchor="middle">
                        <title>{ e.label.clone() }</title>
                        { clip(&e.label, 28) }
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
            </svg>
        </div>
    }
}
