//! The topology graph's model and layered layout: producers → exchanges → queues → consumers.
//!
//! Pure Rust (tested natively): [`Graph::from_session`] reads the engine's exchanges, bindings, queues and
//! consumers plus the connections that published; [`Graph::layout`] places nodes in columns (exchanges
//! bound to exchanges go one column further right) and orders each column by the mean position of its
//! neighbours (one barycentre sweep each way), which keeps edges mostly uncrossed at 30+ nodes.
//!
//! Messages in motion: [`Graph::flows`] maps a slice of the event log onto the edges messages crossed
//! (publish → exchange, route → queue, deliver → consumer, dead-letter → DLX), and [`TokenTracker`] turns
//! what happened since the last frame into tokens that live for [`TOKEN_MILLIS`] of wall time — one dot
//! per message, or one count badge per edge once more than [`AGGREGATE_ABOVE`] are in flight.

use crate::session::Session;
use crate::state::Selection;
use broker_core::amqp::exchange::Destination;
use broker_core::amqp::{Event, LoggedEvent};
use std::collections::{BTreeMap, VecDeque};

pub const NODE_WIDTH: f64 = 150.0;
pub const NODE_HEIGHT: f64 = 42.0;
/// Wide enough for a binding key of [`EDGE_LABEL_CHARS`] between two columns.
const COLUMN_GAP: f64 = 100.0;
const ROW_GAP: f64 = 16.0;
const MARGIN: f64 = 16.0;
/// Edge labels are cut to this many characters (11 px monospace: about 6.6 px each) so they fit the gap.
pub const EDGE_LABEL_CHARS: usize = 14;

/// How long a token takes to cross its edge, in wall milliseconds.
pub const TOKEN_MILLIS: f64 = 900.0;
/// Past this many messages in flight on the whole graph, each busy edge shows one count badge instead
/// of a dot per message (a few hundred dots stay legible and cheap; thousands would be neither).
pub const AGGREGATE_ABOVE: u32 = 300;
/// Dots of one batch (one edge, one frame) are spread over at most this share of [`TOKEN_MILLIS`].
const DOT_SPREAD: f64 = 0.5;

/// Exchange-to-exchange chains deeper than this share the last exchange column (cycles are allowed).
const MAX_EXCHANGE_DEPTH: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    Producer,
    Exchange,
    Queue,
    Consumer,
}

impl NodeKind {
    pub fn class(self) -> &'static str {
        match self {
            NodeKind::Producer => "producer",
            NodeKind::Exchange => "exchange",
            NodeKind::Queue => "queue",
            NodeKind::Consumer => "consumer",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub label: String,
    /// A second line: exchange type, queue depth, consumer's connection.
    pub detail: String,
    pub selection: Selection,
    pub column: usize,
    pub x: f64,
    pub y: f64,
    /// Whether the node wants attention (a queue with ready messages).
    pub busy: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub label: String,
    pub selection: Option<Selection>,
    /// Dead-letter routes are drawn dashed.
    pub dead_letter: bool,
}

/// The graph and its layout.
///
/// # Invariants
/// - `keys` maps each node's identity (kind and name; a consumer is `queue\0tag`, a producer its
///   connection id) to its index in `nodes`; `edge_index` maps `(from, to)` to the first such edge.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub width: f64,
    pub height: f64,
    keys: BTreeMap<(NodeKind, String), usize>,
    edge_index: BTreeMap<(usize, usize), usize>,
}

/// Where an edge is drawn: its SVG path, where its label sits and where a count badge goes.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeGeometry {
    pub d: String,
    pub label_at: (f64, f64),
    pub badge_at: (f64, f64),
    /// A box holding the whole curve (its control points' box): `[left, top, right, bottom]`.
    pub bounds: [f64; 4],
}

/// The part of the graph the pane shows, in graph coordinates (the SVG's user units).
///
/// Only what meets it (plus [`OVERSCAN`] around) is put in the DOM: the browser lays out and paints
/// every SVG element on each change, so a 200-node graph costs the same per frame as the 40 nodes on
/// screen only if the others are not there. Scrolling brings them in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// Graph units drawn beyond each side of the viewport, so a scroll shows drawn content at once.
pub const OVERSCAN: f64 = 400.0;

impl Viewport {
    /// The viewport of a pane scrolled to `(scroll_x, scroll_y)` with `client` size in CSS pixels,
    /// showing the graph at `scale` CSS pixels per unit, snapped outwards to whole [`OVERSCAN`] steps so
    /// that scrolling re-renders the graph only every few hundred units.
    pub fn of_pane(scroll: (f64, f64), client: (f64, f64), scale: f64) -> Option<Viewport> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if !(ok(scroll.0) && ok(scroll.1) && client.0 > 0.0 && client.1 > 0.0 && scale > 0.0) {
            return None;
        }
        let snap_down = |v: f64| (v / OVERSCAN).floor() * OVERSCAN;
        let snap_up = |v: f64| (v / OVERSCAN).ceil() * OVERSCAN;
        let (x0, y0) = (snap_down(scroll.0 / scale), snap_down(scroll.1 / scale));
        let (x1, y1) = (snap_up((scroll.0 + client.0) / scale), snap_up((scroll.1 + client.1) / scale));
        Some(Viewport { x: x0, y: y0, width: x1 - x0, height: y1 - y0 })
    }

    /// Whether the box `[left, top, right, bottom]` meets the viewport grown by [`OVERSCAN`].
    pub fn meets(&self, b: [f64; 4]) -> bool {
        b[2] >= self.x - OVERSCAN
            && b[0] <= self.x + self.width + OVERSCAN
            && b[3] >= self.y - OVERSCAN
            && b[1] <= self.y + self.height + OVERSCAN
    }

    /// Whether the point meets the viewport grown by [`OVERSCAN`].
    pub fn shows(&self, (x, y): (f64, f64)) -> bool {
        self.meets([x, y, x, y])
    }
}

/// The box of a set of points.
fn bounds_of(points: &[(f64, f64)]) -> [f64; 4] {
    points.iter().fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |b, &(x, y)| {
        [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)]
    })
}

/// A point of the cubic Bézier `p0 p1 p2 p3` at `t` in 0..=1.
fn bezier(p: [(f64, f64); 4], t: f64) -> (f64, f64) {
    let u = 1.0 - t;
    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
    (a * p[0].0 + b * p[1].0 + c * p[2].0 + d * p[3].0, a * p[0].1 + b * p[1].1 + c * p[2].1 + d * p[3].1)
}

fn is_predeclared(name: &str) -> bool {
    name.is_empty() || name.starts_with("amq.")
}

fn exchange_label(name: &str) -> String {
    if name.is_empty() {
        "(AMQP default)".to_string()
    } else {
        name.to_string()
    }
}

impl Graph {
    /// The graph of what the session's broker holds now, laid out.
    pub fn from_session(session: &Session) -> Graph {
        Graph::from_session_after(session, None)
    }

    /// The graph of what the session holds now, keeping `previous`'s layout when the shape is the same
    /// (the same nodes in the same columns, the same edges): a refresh that only changes counts and
    /// labels costs no layout, and nodes never move while nothing is declared or deleted. The result
    /// equals a fresh [`from_session`](Self::from_session), because the layout depends on the shape only.
    pub fn from_session_after(session: &Session, previous: Option<&Graph>) -> Graph {
        let mut g = Graph::unplaced(session);
        match previous {
            Some(p) if p.same_shape(&g) => {
                for (n, old) in g.nodes.iter_mut().zip(&p.nodes) {
                    (n.x, n.y) = (old.x, old.y);
                }
                (g.width, g.height) = (p.width, p.height);
            }
            _ => g.layout(),
        }
        g
    }

    /// Whether `other` has the same nodes (identity and column, in order) and edges (ends and kind):
    /// everything the layout reads.
    pub fn same_shape(&self, other: &Graph) -> bool {
        self.keys == other.keys
            && self.nodes.len() == other.nodes.len()
            && self.nodes.iter().zip(&other.nodes).all(|(a, b)| a.column == b.column)
            && self.edges.len() == other.edges.len()
            && self
                .edges
                .iter()
                .zip(&other.edges)
                .all(|(a, b)| (a.from, a.to, a.dead_letter) == (b.from, b.to, b.dead_letter))
    }

    /// The graph's nodes and edges, not yet placed.
    fn unplaced(session: &Session) -> Graph {
        let broker = session.broker();
        let exchanges = broker.exchanges();
        let queues = broker.queues();
        let mut g = Graph::default();
        let mut index: BTreeMap<(NodeKind, String), usize> = BTreeMap::new();
        fn add(
            g: &mut Graph,
            index: &mut BTreeMap<(NodeKind, String), usize>,
            node: Node,
            key: String,
        ) -> usize {
            *index.entry((node.kind, key)).or_insert_with(|| {
                g.nodes.push(node);
                g.nodes.len() - 1
            })
        }

        // Exchanges worth showing: user-declared ones, and predeclared ones in use.
        let published: BTreeMap<&str, ()> = session
            .connections()
            .values()
            .flat_map(|c| c.published_to.keys().map(|x| (x.as_str(), ())))
            .collect();
        let bound_to: BTreeMap<String, ()> = exchanges
            .iter()
            .flat_map(|x| x.bindings.iter())
            .filter_map(|b| match &b.destination {
                Destination::Exchange(d) => Some((d.to_string(), ())),
                Destination::Queue(_) => None,
            })
            .collect();
        let shown: Vec<_> = exchanges
            .iter()
            .filter(|x| {
                !is_predeclared(&x.name)
                    || !x.bindings.is_empty()
                    || published.contains_key(x.name.as_str())
                    || bound_to.contains_key(&x.name)
            })
            .collect();

        // Exchange columns: 1 + the longest chain of exchange-to-exchange bindings leading here.
        let mut depth: BTreeMap<&str, usize> = shown.iter().map(|x| (x.name.as_str(), 0)).collect();
        for _ in 0..MAX_EXCHANGE_DEPTH {
            for x in &shown {
                let d = depth[x.name.as_str()];
                for b in &x.bindings {
                    if let Destination::Exchange(dest) = &b.destination {
                        if let Some(dd) = depth.get_mut(&**dest) {
                            *dd = (*dd).max((d + 1).min(MAX_EXCHANGE_DEPTH - 1));
                        }
                    }
                }
            }
        }
        let queue_column = 2 + depth.values().copied().max().unwrap_or(0);

        for x in &shown {
            let node = Node {
                kind: NodeKind::Exchange,
                label: exchange_label(&x.name),
                detail: format!("{}{}", x.kind, if x.internal { " · internal" } else { "" }),
                selection: Selection::Exchange(x.name.clone()),
                column: 1 + depth[x.name.as_str()],
                x: 0.0,
                y: 0.0,
                busy: false,
            };
            add(&mut g, &mut index, node, x.name.clone());
        }
        for q in &queues {
            let node = Node {
                kind: NodeKind::Queue,
                label: q.name.clone(),
                detail: format!("{} ready · {} unacked", q.messages_ready, q.messages_unacknowledged),
                selection: Selection::Queue(q.name.clone()),
                column: queue_column,
                x: 0.0,
                y: 0.0,
                busy: q.messages_ready > 0,
            };
            add(&mut g, &mut index, node, q.name.clone());
        }
        for (id, c) in session.connections() {
            if c.published_to.is_empty() {
                continue;
            }
            let node = Node {
                kind: NodeKind::Producer,
                label: c.name.clone(),
                detail: format!("{id} · producer"),
                selection: Selection::Connection(*id),
                column: 0,
                x: 0.0,
                y: 0.0,
                busy: false,
            };
            let from = add(&mut g, &mut index, node, id.to_string());
            for (x, count) in &c.published_to {
                if let Some(&to) = index.get(&(NodeKind::Exchange, x.clone())) {
                    g.edges.push(Edge {
                        from,
                        to,
                        label: format!("{count} msgs"),
                        selection: None,
                        dead_letter: false,
                    });
                }
            }
        }
        for x in &shown {
            let from = index[&(NodeKind::Exchange, x.name.clone())];
            for b in &x.bindings {
                let (kind, name) = match &b.destination {
                    Destination::Queue(n) => (NodeKind::Queue, n.to_string()),
                    Destination::Exchange(n) => (NodeKind::Exchange, n.to_string()),
                };
                let Some(&to) = index.get(&(kind, name.clone())) else { continue };
                let label = if b.arguments.is_empty() {
                    b.routing_key.clone()
                } else {
                    let args: Vec<String> = b.arguments.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    args.join(" ")
                };
                g.edges.push(Edge {
                    from,
                    to,
                    label,
                    selection: Some(Selection::Binding {
                        source: x.name.clone(),
                        destination: name,
                        routing_key: b.routing_key.clone(),
                    }),
                    dead_letter: false,
                });
            }
        }
        // The default exchange's implicit bindings, for the queues it has routed to (key = queue name).
        if let Some(&from) = index.get(&(NodeKind::Exchange, String::new())) {
            for q in session.default_routes() {
                if let Some(&to) = index.get(&(NodeKind::Queue, q.clone())) {
                    g.edges.push(Edge { from, to, label: q.clone(), selection: None, dead_letter: false });
                }
            }
        }
        // Dead-letter exchanges: a dashed edge from the queue back to its DLX.
        for q in &queues {
            let Some(detail) = broker.queue(&q.name) else { continue };
            if let Some(broker_core::amqp::FieldValue::Str(dlx)) =
                detail.arguments.get("x-dead-letter-exchange")
            {
                if let Some(&to) = index.get(&(NodeKind::Exchange, dlx.clone())) {
                    let from = index[&(NodeKind::Queue, q.name.clone())];
                    g.edges.push(Edge {
                        from,
                        to,
                        label: "dead letters".into(),
                        selection: None,
                        dead_letter: true,
                    });
                }
            }
            for c in &detail.consumers {
                let conn =
                    session.connections().get(&c.connection).map_or_else(String::new, |v| v.name.clone());
                let node = Node {
                    kind: NodeKind::Consumer,
                    label: c.consumer_tag.clone(),
                    detail: format!("{conn} · {} unacked", c.unacked),
                    selection: Selection::Consumer {
                        queue: q.name.clone(),
                        consumer_tag: c.consumer_tag.clone(),
                    },
                    column: queue_column + 1,
                    x: 0.0,
                    y: 0.0,
                    busy: false,
                };
                let to = add(&mut g, &mut index, node, format!("{}\u{0}{}", q.name, c.consumer_tag));
                let from = index[&(NodeKind::Queue, q.name.clone())];
                let prefetch = if c.prefetch == 0 { "∞".to_string() } else { c.prefetch.to_string() };
                g.edges.push(Edge {
                    from,
                    to,
                    label: format!("prefetch {prefetch}"),
                    selection: None,
                    dead_letter: false,
                });
            }
        }
        g.edge_index = BTreeMap::new();
        for (i, e) in g.edges.iter().enumerate() {
            g.edge_index.entry((e.from, e.to)).or_insert(i);
        }
        g.keys = index;
        g
    }

    /// Node `i`'s box `[left, top, right, bottom]`.
    pub fn node_box(&self, i: usize) -> [f64; 4] {
        let n = &self.nodes[i];
        [n.x, n.y, n.x + NODE_WIDTH, n.y + NODE_HEIGHT]
    }

    /// The index of a node by its identity (see the type's invariants).
    pub fn node(&self, kind: NodeKind, key: &str) -> Option<usize> {
        self.keys.get(&(kind, key.to_string())).copied()
    }

    fn edge_between(&self, from: usize, to: usize) -> Option<usize> {
        self.edge_index.get(&(from, to)).copied()
    }

    /// The edges from exchange `from` to queue `to`: the binding itself, or the shortest chain through
    /// exchange-to-exchange bindings (a message routed by `x` can reach a queue bound to `y`).
    fn route_edges(&self, from: usize, to: usize) -> Vec<usize> {
        if let Some(e) = self.edge_between(from, to) {
            return vec![e];
        }
        // Breadth-first over exchange nodes; `came_by[n]` is the edge that first reached `n`.
        let mut came_by: BTreeMap<usize, usize> = BTreeMap::new();
        let mut frontier = vec![from];
        for _ in 0..MAX_EXCHANGE_DEPTH {
            let mut next = Vec::new();
            for &x in &frontier {
                for (i, e) in self.edges.iter().enumerate() {
                    let reaches = e.from == x
                        && !e.dead_letter
                        && self.nodes[e.to].kind == NodeKind::Exchange
                        && e.to != from
                        && !came_by.contains_key(&e.to);
                    if reaches {
                        came_by.insert(e.to, i);
                        next.push(e.to);
                    }
                }
            }
            for &x in &next {
                if let Some(last) = self.edge_between(x, to) {
                    let mut path = vec![last];
                    let mut at = x;
                    while let Some(&e) = came_by.get(&at) {
                        path.push(e);
                        at = self.edges[e].from;
                    }
                    path.reverse();
                    return path;
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        Vec::new()
    }

    /// How many messages crossed each edge in `events` (edge index → count): a publish crosses its
    /// producer's edge, a route every binding (or exchange chain) to each queue reached, a delivery to a
    /// consumer its consumer edge, a dead-lettering the dashed edge to the DLX. Events about nodes the
    /// graph does not show are skipped.
    pub fn flows(&self, events: &[LoggedEvent]) -> BTreeMap<usize, u32> {
        let mut out: BTreeMap<usize, u32> = BTreeMap::new();
        // Route paths repeat for every message of a busy exchange: look each one up once per call.
        let mut routes: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        let mut add = |edge: usize| *out.entry(edge).or_insert(0) += 1;
        for e in events {
            match &e.event {
                Event::Published { connection, exchange, .. } => {
                    let from = self.node(NodeKind::Producer, &connection.to_string());
                    let to = self.node(NodeKind::Exchange, exchange);
                    if let Some(edge) = from.zip(to).and_then(|(f, t)| self.edge_between(f, t)) {
                        add(edge);
                    }
                }
                Event::Routed { exchange, queues, .. } => {
                    let Some(from) = self.node(NodeKind::Exchange, exchange) else { continue };
                    for q in queues {
                        let Some(to) = self.node(NodeKind::Queue, q) else { continue };
                        let path = routes.entry((from, to)).or_insert_with(|| self.route_edges(from, to));
                        for &edge in path.iter() {
                            add(edge);
                        }
                    }
                }
                Event::Delivered { queue, delivery, .. } => {
                    let Some(tag) = &delivery.consumer_tag else { continue };
                    let from = self.node(NodeKind::Queue, queue);
                    let to = self.node(NodeKind::Consumer, &format!("{queue}\u{0}{tag}"));
                    if let Some(edge) = from.zip(to).and_then(|(f, t)| self.edge_between(f, t)) {
                        add(edge);
                    }
                }
                Event::DeadLettered { queue, dead_letter_exchange, .. } => {
                    let from = self.node(NodeKind::Queue, queue);
                    let to = self.node(NodeKind::Exchange, dead_letter_exchange);
                    if let Some(edge) = from.zip(to).and_then(|(f, t)| self.edge_between(f, t)) {
                        add(edge);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The SVG path of edge `i` (a horizontal S-curve; a backwards edge, such as a dead-letter route to
    /// an exchange further left, loops below), its label's place and its count badge's place.
    pub fn edge_geometry(&self, i: usize) -> EdgeGeometry {
        let e = &self.edges[i];
        let (a, b) = (&self.nodes[e.from], &self.nodes[e.to]);
        let backwards = b.x <= a.x;
        let (x1, y1) = (a.x + NODE_WIDTH, a.y + NODE_HEIGHT / 2.0);
        if backwards {
            let (x2, y2) = (b.x + NODE_WIDTH / 2.0, b.y + NODE_HEIGHT);
            let p = [(x1, y1), (x1 + 60.0, y1), (x2, y2 + 60.0), (x2, y2)];
            return EdgeGeometry {
                d: format!("M{x1},{y1} C{},{y1} {x2},{} {x2},{y2}", x1 + 60.0, y2 + 60.0),
                label_at: (x1 + 40.0, (y1 + y2) / 2.0 + 30.0),
                badge_at: bezier(p, 0.5),
                bounds: bounds_of(&p),
            };
        }
        let (x2, y2) = (b.x, b.y + NODE_HEIGHT / 2.0);
        let bend = ((x2 - x1).abs() / 2.0).max(40.0);
        let p = [(x1, y1), (x1 + bend, y1), (x2 - bend, y2), (x2, y2)];
        // A binding's label sits near its destination, where fanned-out edges are a row apart (at the
        // midpoint they converge on the source); other labels sit mid-way.
        let label_t =
            if self.nodes[e.to].kind == NodeKind::Queue && x2 - x1 <= COLUMN_GAP + 1.0 { 0.72 } else { 0.5 };
        let (lx, ly) = bezier(p, label_t);
        EdgeGeometry {
            d: format!("M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}", x1 + bend, x2 - bend),
            label_at: (lx, ly - 4.0),
            badge_at: bezier(p, 0.35),
            bounds: bounds_of(&p),
        }
    }

    /// Assigns `x`, `y` and the canvas size: columns left to right, each ordered by barycentre.
    pub fn layout(&mut self) {
        let columns = self.nodes.iter().map(|n| n.column + 1).max().unwrap_or(0);
        let mut order: Vec<Vec<usize>> = vec![Vec::new(); columns];
        for (i, n) in self.nodes.iter().enumerate() {
            order[n.column].push(i);
        }
        let mut rank = vec![0.0f64; self.nodes.len()];
        let set_ranks = |order: &Vec<Vec<usize>>, rank: &mut Vec<f64>| {
            for col in order {
                for (pos, &i) in col.iter().enumerate() {
                    rank[i] = pos as f64;
                }
            }
        };
        set_ranks(&order, &mut rank);
        // Forward sweep (by predecessors), then backward (by successors) for the producers' column.
        for c in 1..columns {
            self.sort_column(&mut order[c], &rank, true);
            set_ranks(&order, &mut rank);
        }
        for c in (0..columns.saturating_sub(1)).rev() {
            self.sort_column(&mut order[c], &rank, false);
            set_ranks(&order, &mut rank);
        }
        // Empty columns (no producers yet, no exchange chains) take no room.
        let mut slot = vec![0usize; columns];
        let mut used = 0;
        for (c, col) in order.iter().enumerate() {
            slot[c] = used;
            if !col.is_empty() {
                used += 1;
            }
        }
        // The tallest column is spaced evenly; every other column, outwards from it, puts each node
        // beside its neighbours there (so an exchange sits by its own queues, a consumer by its queue).
        let tallest = (0..columns).max_by_key(|&c| (order[c].len(), std::cmp::Reverse(c))).unwrap_or(0);
        let step = NODE_HEIGHT + ROW_GAP;
        let mut y = vec![MARGIN; self.nodes.len()];
        if let Some(col) = order.get(tallest) {
            for (pos, &i) in col.iter().enumerate() {
                y[i] = MARGIN + pos as f64 * step;
            }
        }
        for col in order.iter().skip(tallest + 1) {
            self.place_column(col, &mut y, true);
        }
        for col in order.iter().take(tallest).rev() {
            self.place_column(col, &mut y, false);
        }
        for (c, col) in order.iter().enumerate() {
            for &i in col {
                self.nodes[i].x = MARGIN + slot[c] as f64 * (NODE_WIDTH + COLUMN_GAP);
                self.nodes[i].y = y[i];
            }
        }
        self.width =
            if used == 0 { 0.0 } else { 2.0 * MARGIN + used as f64 * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP };
        self.height = self.nodes.iter().map(|n| n.y + NODE_HEIGHT + MARGIN).fold(0.0, f64::max);
    }

    /// Gives one column's nodes (in their order) the mean `y` of their placed neighbours (predecessors
    /// or successors), then pushes them apart to one row each and lifts the column back by the mean push,
    /// so a crowded group stays centred on its neighbours.
    fn place_column(&self, col: &[usize], y: &mut [f64], by_predecessors: bool) {
        let step = NODE_HEIGHT + ROW_GAP;
        let column = |i: usize| self.nodes[i].column;
        let mut wanted: Vec<Option<f64>> = col
            .iter()
            .map(|&i| {
                let ys: Vec<f64> = self
                    .edges
                    .iter()
                    .filter(|e| !e.dead_letter)
                    .filter_map(|e| {
                        if by_predecessors && e.to == i && column(e.from) < column(i) {
                            Some(y[e.from])
                        } else if !by_predecessors && e.from == i && column(e.to) > column(i) {
                            Some(y[e.to])
                        } else {
                            None
                        }
                    })
                    .collect();
                (!ys.is_empty()).then(|| ys.iter().sum::<f64>() / ys.len() as f64)
            })
            .collect();
        // Nodes without neighbours follow the one before them (or precede the first that has some).
        let first_known = wanted.iter().position(Option::is_some);
        for k in 0..wanted.len() {
            if wanted[k].is_none() {
                wanted[k] = Some(match (k, first_known) {
                    (0, Some(f)) => wanted[f].unwrap_or(MARGIN) - f as f64 * step,
                    (0, None) => MARGIN,
                    _ => wanted[k - 1].unwrap_or(MARGIN) + step,
                });
            }
        }
        let wanted: Vec<f64> = wanted.into_iter().map(|w| w.unwrap_or(MARGIN)).collect();
        let mut placed = Vec::with_capacity(col.len());
        for (k, w) in wanted.iter().enumerate() {
            let floor = if k == 0 { MARGIN } else { placed[k - 1] + step };
            placed.push(w.max(floor));
        }
        if let Some(&top) = placed.first() {
            let pushed = placed.iter().zip(&wanted).map(|(p, w)| p - w).sum::<f64>() / placed.len() as f64;
            let lift = pushed.min(top - MARGIN).max(0.0);
            for (&i, p) in col.iter().zip(&placed) {
                y[i] = p - lift;
            }
        }
    }

    /// Orders one column by the mean rank of each node's neighbours on the given side; nodes without
    /// neighbours keep their place relative to each other (stable sort).
    fn sort_column(&self, col: &mut [usize], rank: &[f64], by_predecessors: bool) {
        let key = |i: usize| -> f64 {
            let neighbours: Vec<f64> = self
                .edges
                .iter()
                .filter(|e| !e.dead_letter)
                .filter_map(|e| {
                    if by_predecessors && e.to == i && self.nodes[e.from].column < self.nodes[i].column {
                        Some(rank[e.from])
                    } else if !by_predecessors
                        && e.from == i
                        && self.nodes[e.to].column > self.nodes[i].column
                    {
                        Some(rank[e.to])
                    } else {
                        None
                    }
                })
                .collect();
            if neighbours.is_empty() {
                rank[i]
            } else {
                neighbours.iter().sum::<f64>() / neighbours.len() as f64
            }
        };
        let mut keyed: Vec<(f64, usize)> = col.iter().map(|&i| (key(i), i)).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (slot, (_, i)) in col.iter_mut().zip(keyed) {
            *slot = i;
        }
    }
}

/// Messages that crossed one edge in one frame, shown for [`TOKEN_MILLIS`] from `born_millis`.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// Unique for the tracker's life: the key that keeps a token's DOM element (and its animation).
    pub id: u64,
    pub edge: usize,
    pub count: u32,
    pub born_millis: f64,
}

/// What the tokens layer draws.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenView {
    /// One dot per message: `(key, edge, delay before it sets off in wall milliseconds)`.
    Dots(Vec<(String, usize, f64)>),
    /// Too many to draw one by one: per busy edge, the messages in flight on it.
    Badges(Vec<(usize, u32)>),
}

/// Turns the event log's growth into tokens, frame by frame.
///
/// # Invariants
/// - `seen` events of the log have been turned into tokens; `last_seen` is the last of them (a log
///   whose event at `seen - 1` differs, or that is shorter, is another history: a rewind or a newly
///   loaded scenario, so tokens start over without replaying it).
/// - `tokens` are in `born_millis` order and none is older than [`TOKEN_MILLIS`] after `advance`.
/// - Token edges index the graph given to the last `advance` (the graph is rebuilt with the log, so a
///   new graph comes with new events; tokens of a changed graph are dropped).
#[derive(Debug, Default)]
pub struct TokenTracker {
    seen: Option<usize>,
    last_seen: Option<LoggedEvent>,
    edges: usize,
    tokens: VecDeque<Token>,
    next_id: u64,
}

impl TokenTracker {
    /// Takes the events added to `log` since the last call as tokens born at `now_millis` (wall time),
    /// and forgets tokens that have arrived. The first call only marks where the log stands.
    pub fn advance(&mut self, graph: &Graph, log: &[LoggedEvent], now_millis: f64) {
        let same_history = match self.seen {
            None => false,
            Some(0) => true,
            Some(n) => n <= log.len() && self.last_seen.as_ref() == Some(&log[n - 1]),
        };
        if graph.edges.len() != self.edges {
            self.tokens.clear();
            self.edges = graph.edges.len();
        }
        if same_history {
            let from = self.seen.unwrap_or(0);
            for (edge, count) in graph.flows(&log[from..]) {
                self.tokens.push_back(Token { id: self.next_id, edge, count, born_millis: now_millis });
                self.next_id += 1;
            }
        } else {
            self.tokens.clear();
        }
        self.seen = Some(log.len());
        self.last_seen = log.last().cloned();
        while self.tokens.front().is_some_and(|t| now_millis - t.born_millis >= TOKEN_MILLIS) {
            self.tokens.pop_front();
        }
    }

    /// Messages in flight on the whole graph.
    pub fn in_flight(&self) -> u32 {
        self.tokens.iter().map(|t| t.count).sum()
    }

    pub fn tokens(&self) -> impl Iterator<Item = &Token> {
        self.tokens.iter()
    }

    /// Dots while at most [`AGGREGATE_ABOVE`] messages are in flight, count badges past it. A batch's
    /// dots leave one after another (spread over part of the crossing), so a burst reads as a stream.
    pub fn view(&self) -> TokenView {
        if self.in_flight() > AGGREGATE_ABOVE {
            let mut per_edge: BTreeMap<usize, u32> = BTreeMap::new();
            for t in &self.tokens {
                *per_edge.entry(t.edge).or_insert(0) += t.count;
            }
            return TokenView::Badges(per_edge.into_iter().collect());
        }
        let mut dots = Vec::new();
        for t in &self.tokens {
            let gap = (TOKEN_MILLIS * DOT_SPREAD / f64::from(t.count)).min(120.0);
            for i in 0..t.count {
                dots.push((format!("{}.{i}", t.id), t.edge, f64::from(i) * gap));
            }
        }
        TokenView::Dots(dots)
    }
}

/// A scenario document (format 2) for load and layout: `exchanges` direct exchanges (`x0`, …), `queues`
/// queues (`q000`, …; queue `i` bound to exchange `i % exchanges` with key `k<i>`) each with one
/// auto-ack consumer, and `producers` producers each publishing `rate_per_producer` messages a second to
/// exchange `p % exchanges` with a random key `k0`…; queue `q000` dead-letters to a fanout `dlx` bound
/// to a `dead` queue. The tests' 30+ node scenario and the web benchmark's 100-queue load.
pub fn fan_out_document(
    exchanges: usize,
    queues: usize,
    producers: usize,
    rate_per_producer: u64,
    duration_millis: u64,
) -> String {
    use serde_json::json;
    let exchanges = exchanges.max(1);
    let mut xs: Vec<_> = (0..exchanges)
        .map(|x| {
            json!({"name": format!("x{x}"), "vhost": "/", "type": "direct", "durable": false,
            "auto_delete": false, "internal": false, "arguments": {}})
        })
        .collect();
    xs.push(json!({"name": "dlx", "vhost": "/", "type": "fanout", "durable": false, "auto_delete": false,
        "internal": false, "arguments": {}}));
    let mut qs = vec![json!({"name": "dead", "vhost": "/", "durable": false, "auto_delete": false,
        "arguments": {}})];
    let mut bindings = vec![json!({"source": "dlx", "vhost": "/", "destination": "dead",
        "destination_type": "queue", "routing_key": "", "arguments": {}})];
    let mut consumers = Vec::new();
    for i in 0..queues {
        let name = format!("q{i:03}");
        let arguments = if i == 0 { json!({"x-dead-letter-exchange": "dlx"}) } else { json!({}) };
        qs.push(json!({"name": name, "vhost": "/", "durable": false, "auto_delete": false,
            "arguments": arguments}));
        bindings.push(json!({"source": format!("x{}", i % exchanges), "vhost": "/", "destination": name,
            "destination_type": "queue", "routing_key": format!("k{i}"), "arguments": {}}));
        consumers.push(json!({"name": format!("c{i:03}"), "queue": name, "auto_ack": true}));
    }
    let producers: Vec<_> = (0..producers)
        .map(|p| {
            json!({"name": format!("p{p}"), "exchange": format!("x{}", p % exchanges),
            "routing_key": format!("k{{random:{}}}", queues.max(1)), "body_size": 16,
            "rate": rate_per_producer, "start": "100ms"})
        })
        .collect();
    json!({
        "brokerlab": 2,
        "name": format!("Fan-out: {queues} queues"),
        "description": "A generated load: producers publish random keys to direct exchanges that fan out \
            to many queues, each with a consumer.",
        "seed": 7,
        "duration": format!("{duration_millis}ms"),
        "definitions": {"exchanges": xs, "queues": qs, "bindings": bindings},
        "producers": producers,
        "consumers": consumers,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Action, AppState};
    use broker_core::amqp::{FieldTable, Method};

    fn crossings(g: &Graph) -> usize {
        let mut n = 0;
        for (i, a) in g.edges.iter().enumerate() {
            for b in &g.edges[i + 1..] {
                let (a0, a1, b0, b1) = (&g.nodes[a.from], &g.nodes[a.to], &g.nodes[b.from], &g.nodes[b.to]);
                if a0.column == b0.column && a1.column == b1.column && (a0.y - b0.y) * (a1.y - b1.y) < 0.0 {
                    n += 1;
                }
            }
        }
        n
    }

    #[test]
    fn the_example_has_every_layer_in_its_column() {
        let mut s = AppState::new(Session::new(1));
        s.apply(Action::LoadExample);
        let g = Graph::from_session(&s.session.borrow());
        let column = |label: &str| g.nodes.iter().find(|n| n.label == label).map(|n| (n.kind, n.column));
        assert_eq!(column("order-service"), Some((NodeKind::Producer, 0)));
        assert_eq!(column("orders"), Some((NodeKind::Exchange, 1)));
        assert_eq!(column("audit"), Some((NodeKind::Exchange, 2)), "bound from 'orders': one column on");
        assert_eq!(column("orders.eu"), Some((NodeKind::Queue, 3)));
        assert_eq!(column("audit-worker"), Some((NodeKind::Consumer, 4)));
        assert!(column("amq.fanout").is_none(), "unused predeclared exchanges are hidden");
        assert!(g.edges.iter().any(|e| e.label == "order.eu.*"), "binding keys label the edges");
        assert!(g.edges.iter().any(|e| e.dead_letter));
        // No two nodes overlap.
        for (i, a) in g.nodes.iter().enumerate() {
            for b in &g.nodes[i + 1..] {
                assert!(a.x != b.x || (a.y - b.y).abs() >= NODE_HEIGHT, "{} overlaps {}", a.label, b.label);
            }
        }
    }

    #[test]
    fn forty_queues_stay_readable_and_uncrossed() {
        let mut s = AppState::new(Session::new(1));
        let mut methods = Vec::new();
        for x in ["a", "b", "c", "d"] {
            methods.push(Method::ExchangeDeclare {
                exchange: x.into(),
                exchange_type: "direct".into(),
                passive: false,
                durable: false,
                auto_delete: false,
                internal: false,
                arguments: FieldTable::new(),
            });
        }
        // Queues declared in an order unrelated to their exchanges: the layout must sort them.
        for i in 0..40 {
            let q = format!("q{i:02}");
            methods.push(Method::QueueDeclare {
                queue: q.clone(),
                passive: false,
                durable: false,
                exclusive: false,
                auto_delete: false,
                arguments: FieldTable::new(),
            });
            methods.push(Method::QueueBind {
                queue: q,
                exchange: ["d", "a", "c", "b"][i % 4].into(),
                routing_key: format!("k{i}"),
                arguments: FieldTable::new(),
            });
        }
        for method in methods {
            s.apply(Action::Apply { method, done: String::new() });
        }
        let g = Graph::from_session(&s.session.borrow());
        assert_eq!(g.nodes.len(), 44);
        assert_eq!(crossings(&g), 0, "barycentre ordering untangles a bipartite fan-out");
        assert!(g.height >= 40.0 * NODE_HEIGHT, "one row per queue");
    }

    fn overlaps(g: &Graph) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, a) in g.nodes.iter().enumerate() {
            for b in &g.nodes[i + 1..] {
                let apart = a.x + NODE_WIDTH <= b.x
                    || b.x + NODE_WIDTH <= a.x
                    || a.y + NODE_HEIGHT <= b.y
                    || b.y + NODE_HEIGHT <= a.y;
                if !apart {
                    out.push((a.label.clone(), b.label.clone()));
                }
            }
        }
        out
    }

    fn fan_out_state(exchanges: usize, queues: usize) -> AppState {
        let mut s = AppState::new(Session::new(1));
        s.apply(Action::LoadDocument(fan_out_document(exchanges, queues, 2, 50, 5_000)));
        assert!(s.notice.as_ref().is_some_and(|n| n.text.starts_with("Loaded")), "{:?}", s.notice);
        s
    }

    #[test]
    fn a_loaded_scenario_of_seventy_nodes_lays_out_without_overlaps() {
        let mut s = fan_out_state(4, 32);
        // Let producers and consumers connect and publish, so every layer is drawn.
        for _ in 0..20 {
            s.apply(Action::Step);
        }
        let g = Graph::from_session(&s.session.borrow());
        let count = |k: NodeKind| g.nodes.iter().filter(|n| n.kind == k).count();
        assert_eq!(count(NodeKind::Queue), 33, "32 queues and 'dead'");
        assert_eq!(count(NodeKind::Exchange), 5);
        assert_eq!(count(NodeKind::Consumer), 32);
        assert_eq!(count(NodeKind::Producer), 2);
        assert!(g.nodes.len() >= 70);
        assert_eq!(overlaps(&g), Vec::<(String, String)>::new());
        // Inside the canvas, and binding labels fit between the columns.
        for n in &g.nodes {
            assert!(n.x >= 0.0 && n.y >= 0.0, "{}", n.label);
            assert!(n.x + NODE_WIDTH <= g.width && n.y + NODE_HEIGHT <= g.height, "{}", n.label);
        }
        assert!(EDGE_LABEL_CHARS as f64 * 6.7 <= COLUMN_GAP, "a clipped label fits the column gap");
        let fan_out: Vec<_> = g.edges.iter().filter(|e| g.nodes[e.to].kind == NodeKind::Queue).collect();
        assert!(fan_out.len() >= 33);
        assert_eq!(crossings(&g), 0, "bindings from four exchanges to their queues do not cross");
    }

    #[test]
    fn flows_follow_publish_route_deliver_and_dead_letter_onto_edges() {
        let mut s = fan_out_state(1, 3);
        for _ in 0..200 {
            s.apply(Action::Step);
        }
        let session = s.session.borrow();
        let g = Graph::from_session(&session);
        let flows = g.flows(session.log());
        let edge = |from: &str, to: &str| {
            g.edges.iter().position(|e| g.nodes[e.from].label == from && g.nodes[e.to].label == to)
        };
        let on = |from: &str, to: &str| edge(from, to).and_then(|e| flows.get(&e).copied()).unwrap_or(0);
        let published = session
            .log()
            .iter()
            .filter(|e| matches!(&e.event, Event::Published { exchange, .. } if &**exchange == "x0"))
            .count() as u32;
        assert!(published > 5, "the producers published: {published}");
        let producers: u32 =
            g.nodes.iter().filter(|n| n.kind == NodeKind::Producer).map(|n| on(&n.label, "x0")).sum();
        assert_eq!(producers, published, "every publish crosses its producer's edge once");
        let routed = on("x0", "q000") + on("x0", "q001") + on("x0", "q002");
        assert_eq!(routed, published, "each key routes to exactly one of the three queues");
        let delivered = on("q000", "c000") + on("q001", "c001") + on("q002", "c002");
        let deliveries =
            session.log().iter().filter(|e| matches!(e.event, Event::Delivered { .. })).count() as u32;
        assert!(delivered > 0 && delivered == deliveries, "{delivered} of {deliveries}");
        assert_eq!(on("q000", "dlx"), 0, "nothing was dead-lettered");
    }

    #[test]
    fn a_route_through_an_exchange_chain_lights_every_hop() {
        let mut s = AppState::new(Session::new(1));
        s.apply(Action::LoadExample);
        let session = s.session.borrow();
        let g = Graph::from_session(&session);
        let (orders, audit_log) =
            (g.node(NodeKind::Exchange, "orders").unwrap(), g.node(NodeKind::Queue, "audit.log").unwrap());
        let path = g.route_edges(orders, audit_log);
        let hops: Vec<_> = path
            .iter()
            .map(|&e| (g.nodes[g.edges[e].from].label.clone(), g.nodes[g.edges[e].to].label.clone()))
            .collect();
        assert_eq!(
            hops,
            vec![("orders".to_string(), "audit".to_string()), ("audit".to_string(), "audit.log".to_string())]
        );
    }

    #[test]
    fn tokens_are_born_from_new_events_and_die_after_their_crossing() {
        let mut s = fan_out_state(1, 3);
        let mut tracker = TokenTracker::default();
        {
            let session = s.session.borrow();
            let g = Graph::from_session(&session);
            tracker.advance(&g, session.log(), 0.0);
        }
        assert_eq!(tracker.in_flight(), 0, "history before the first frame is not animated");
        for _ in 0..20 {
            s.apply(Action::Step);
        }
        let session = s.session.borrow();
        let g = Graph::from_session(&session);
        tracker.advance(&g, session.log(), 100.0);
        let expected: u32 = g.flows(session.log()).values().sum();
        assert!(expected > 0 && expected <= AGGREGATE_ABOVE, "{expected}");
        assert_eq!(tracker.in_flight(), expected);
        match tracker.view() {
            TokenView::Dots(dots) => {
                assert_eq!(dots.len() as u32, expected, "one dot per message");
                let keys: std::collections::BTreeSet<_> = dots.iter().map(|d| d.0.clone()).collect();
                assert_eq!(keys.len(), dots.len(), "keys are unique");
                assert!(dots.iter().all(|d| d.2 < TOKEN_MILLIS * DOT_SPREAD + 1.0));
            }
            TokenView::Badges(_) => panic!("{expected} in flight is few enough for dots"),
        }
        // The same log again: nothing new.
        tracker.advance(&g, session.log(), 200.0);
        assert_eq!(tracker.in_flight(), expected);
        tracker.advance(&g, session.log(), 100.0 + TOKEN_MILLIS);
        assert_eq!(tracker.in_flight(), 0, "arrived tokens are forgotten");
        // A shorter log is another history (a rewind): no tokens, and the next growth counts again.
        tracker.advance(&g, &session.log()[..10], 2_000.0);
        assert_eq!(tracker.in_flight(), 0);
        tracker.advance(&g, session.log(), 2_100.0);
        assert_eq!(tracker.in_flight(), g.flows(&session.log()[10..]).values().sum::<u32>());
    }

    #[test]
    fn past_a_few_hundred_in_flight_edges_show_counts() {
        let mut s = fan_out_state(1, 4);
        let mut tracker = TokenTracker::default();
        let g = Graph::from_session(&s.session.borrow());
        tracker.advance(&g, s.session.borrow().log(), 0.0);
        // Play two virtual seconds at 100 messages a second: about 200 publishes, routes and deliveries.
        s.apply(Action::SetSpeed(1000.0));
        s.apply(Action::TogglePlay);
        s.apply(Action::Tick { wall_millis: 2.0 });
        let session = s.session.borrow();
        let g = Graph::from_session(&session);
        tracker.advance(&g, session.log(), 10.0);
        assert!(tracker.in_flight() > AGGREGATE_ABOVE, "{}", tracker.in_flight());
        let TokenView::Badges(badges) = tracker.view() else { panic!("aggregated") };
        assert_eq!(badges.iter().map(|b| b.1).sum::<u32>(), tracker.in_flight());
        assert!(badges.len() >= 4 + 2, "producer, binding and consumer edges are busy: {badges:?}");
        assert!(badges.windows(2).all(|w| w[0].0 < w[1].0), "one badge per edge");
    }

    #[test]
    fn edge_geometry_puts_binding_labels_near_their_queue() {
        let s = fan_out_state(1, 8);
        let g = Graph::from_session(&s.session.borrow());
        for (i, e) in g.edges.iter().enumerate() {
            let geo = g.edge_geometry(i);
            assert!(geo.d.starts_with('M') && geo.d.contains(" C"), "{}", geo.d);
            let (from, to) = (&g.nodes[e.from], &g.nodes[e.to]);
            if to.kind == NodeKind::Queue && to.x > from.x {
                assert!(geo.label_at.0 > from.x + NODE_WIDTH && geo.label_at.0 < to.x, "between the columns");
                assert!((geo.label_at.1 - (to.y + NODE_HEIGHT / 2.0)).abs() < (NODE_HEIGHT + ROW_GAP) * 2.0);
            }
        }
    }

    #[test]
    fn a_refresh_of_the_same_shape_keeps_the_layout_and_equals_a_fresh_one() {
        let mut s = fan_out_state(2, 12);
        s.apply(Action::SetSpeed(10.0));
        s.apply(Action::TogglePlay);
        s.apply(Action::Tick { wall_millis: 100.0 }); // connected and publishing
        let first = Graph::from_session(&s.session.borrow());
        s.apply(Action::Tick { wall_millis: 100.0 });
        let session = s.session.borrow();
        let fresh = Graph::from_session(&session);
        assert!(first.same_shape(&fresh), "playing changes counts, not the shape");
        assert_ne!(first, fresh, "the counts did change");
        assert_eq!(Graph::from_session_after(&session, Some(&first)), fresh);
        drop(session);
        // A new queue changes the shape: the layout is made again, not reused.
        s.apply(Action::Apply {
            method: Method::QueueDeclare {
                queue: "new".into(),
                passive: false,
                durable: false,
                exclusive: false,
                auto_delete: false,
                arguments: FieldTable::new(),
            },
            done: "Declared".into(),
        });
        let session = s.session.borrow();
        let fresh = Graph::from_session(&session);
        assert!(!first.same_shape(&fresh));
        assert_eq!(Graph::from_session_after(&session, Some(&first)), fresh);
    }

    #[test]
    fn a_viewport_draws_what_it_meets_and_snaps_to_steps() {
        let s = fan_out_state(1, 100);
        let g = Graph::from_session(&s.session.borrow());
        let geo: Vec<EdgeGeometry> = (0..g.edges.len()).map(|i| g.edge_geometry(i)).collect();
        assert!(g.height > 5_000.0, "a tall graph: {}", g.height);
        // The pane's top 800 CSS px at scale 0.8: graph units 0..1000, drawn with the overscan.
        let top = Viewport::of_pane((0.0, 0.0), (700.0, 800.0), 0.8).expect("a measured pane");
        assert_eq!((top.y, top.height), (0.0, 1200.0), "snapped outwards to whole steps");
        assert_eq!(
            Viewport::of_pane((0.0, 150.0), (700.0, 800.0), 0.8),
            Viewport::of_pane((0.0, 0.0), (700.0, 850.0), 0.8)
        );
        let drawn: Vec<usize> = (0..g.nodes.len()).filter(|&i| top.meets(g.node_box(i))).collect();
        let queues = drawn.iter().filter(|&&i| g.nodes[i].kind == NodeKind::Queue).count();
        assert!((20..=40).contains(&queues), "only the queues near the top: {queues}");
        for (i, n) in g.nodes.iter().enumerate() {
            let far = n.y > top.y + top.height + OVERSCAN || n.y + NODE_HEIGHT < top.y - OVERSCAN;
            assert_eq!(drawn.contains(&i), !far, "{}", n.label);
        }
        // An edge is drawn when its curve's box meets the viewport: every edge ending at a node in sight.
        let in_sight = |b: [f64; 4]| b[3] >= top.y && b[1] <= top.y + top.height;
        for (i, e) in g.edges.iter().enumerate() {
            if in_sight(g.node_box(e.to)) || in_sight(g.node_box(e.from)) {
                assert!(top.meets(geo[i].bounds), "edge {i} ends at a node in sight");
            }
        }
        // A viewport over the whole graph draws everything; no measurement is refused.
        let all = Viewport { x: 0.0, y: 0.0, width: g.width, height: g.height };
        assert!((0..g.nodes.len()).all(|i| all.meets(g.node_box(i))));
        assert!(geo.iter().all(|e| all.meets(e.bounds)));
        assert_eq!(Viewport::of_pane((0.0, 0.0), (0.0, 800.0), 1.0), None, "a pane not laid out yet");
        assert_eq!(Viewport::of_pane((0.0, f64::NAN), (10.0, 800.0), 1.0), None);
    }
}
