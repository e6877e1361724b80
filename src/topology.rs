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
use broker_core::amqp::ConnectionId;
use broker_core::amqp::{Event, LoggedEvent};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

mod placement;

pub const NODE_WIDTH: f64 = 150.0;
pub const NODE_HEIGHT: f64 = 42.0;
/// The narrowest gap between two columns; a gap grows with its labels ([`Graph::layout`]) up to
/// [`MAX_COLUMN_GAP`], wide enough for a label of [`EDGE_LABEL_CHARS`] and the edges' ends.
const COLUMN_GAP: f64 = 100.0;
const MAX_COLUMN_GAP: f64 = 150.0;
/// Between two rows: room for a routed edge and its label to run between them.
const ROW_GAP: f64 = 20.0;
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

/// Whether a graph node stands for something there now, or something declared that is not (yet, or
/// any more) there: the graph places every declared entity and actor from the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    Live,
    /// Declared and not there yet (an actor before its start, a queue its consumer declares later) or
    /// reconnecting.
    Waiting,
    /// A worker that crashed and has not restarted.
    Crashed,
    /// Stopped for good, or deleted.
    Gone,
}

impl NodeStatus {
    pub fn class(self) -> Option<&'static str> {
        match self {
            NodeStatus::Live => None,
            NodeStatus::Waiting => Some("waiting"),
            NodeStatus::Crashed => Some("crashed"),
            NodeStatus::Gone => Some("gone"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub label: String,
    /// A second line: exchange type, queue depth, consumer's connection, an actor's state.
    pub detail: String,
    /// What clicking it inspects (nothing for an actor or queue not there).
    pub selection: Option<Selection>,
    pub column: usize,
    pub x: f64,
    pub y: f64,
    /// Whether the node wants attention (a queue with ready messages).
    pub busy: bool,
    pub status: NodeStatus,
    /// A stream queue's log, drawn as a strip along the node's foot.
    pub stream: Option<StreamStrip>,
}

/// The end of a stream queue's log as its graph node draws it: the newest offsets and where each
/// consumer reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamStrip {
    /// The oldest offset still in the log.
    pub first: u64,
    /// The offset the next message gets.
    pub next: u64,
    /// Each consumer's next offset to read.
    pub positions: Vec<u64>,
}

/// How many of a stream's newest offsets its node's strip shows.
pub const STRIP_CELLS: u64 = 14;

impl StreamStrip {
    /// The strip of stream `queue`, if it is one.
    pub fn of(broker: &broker_core::amqp::Broker, queue: &str) -> Option<StreamStrip> {
        let log = broker.stream_log(queue)?;
        let mut positions: Vec<u64> = broker
            .queue(queue)
            .map(|q| q.consumers.iter().filter_map(|c| c.stream_offset).collect())
            .unwrap_or_default();
        positions.sort_unstable();
        Some(StreamStrip { first: log.first_offset(), next: log.next_offset(), positions })
    }

    /// The offsets the strip shows: the newest [`STRIP_CELLS`] (fewer while the log is shorter).
    pub fn shown(&self) -> std::ops::Range<u64> {
        self.next.saturating_sub(STRIP_CELLS).max(self.first)..self.next
    }

    /// The node's second line: the log's offsets.
    pub fn detail(&self) -> String {
        match self.next.checked_sub(1) {
            Some(last) if last >= self.first => format!("stream · offsets {}–{last}", self.first),
            _ => format!("stream · next offset {}", self.next),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub label: String,
    /// Characters kept for the label (its box in the layout): a label that changes while the shape
    /// stays (a count) is given a fixed room and clipped to it.
    pub label_room: usize,
    pub selection: Option<Selection>,
    /// Dead-letter routes are drawn dashed.
    pub dead_letter: bool,
    /// A declared binding or route not in the broker now (its queue not declared yet, or gone).
    pub pending: bool,
}

/// Node identities of declared actors and their server-named queues start with this (a character no
/// client puts in a name), so they never meet a broker entity's name.
const ACTOR_KEY: char = '\u{1}';

fn actor_key(name: &str) -> String {
    format!("{ACTOR_KEY}{name}")
}

/// Label room of an edge whose label is a count ("12345 msgs").
const COUNT_LABEL_ROOM: usize = 10;

/// A graph being built: nodes by identity, edges deduplicated by `(from, to, label)`.
#[derive(Default)]
struct Builder {
    g: Graph,
    /// Identity → node.
    keys: BTreeMap<(NodeKind, String), usize>,
    /// Identities and the names events use (a queue's generated name, a connection id, `queue\0tag`).
    lookup: BTreeMap<(NodeKind, String), usize>,
    /// Edges by `(from, to, dead_letter, label)`.
    edges: BTreeMap<(usize, usize, bool, String), usize>,
}

impl Builder {
    fn add(&mut self, node: Node, key: String) -> usize {
        let kind = node.kind;
        if let Some(&i) = self.keys.get(&(kind, key.clone())) {
            return i;
        }
        self.g.nodes.push(node);
        let i = self.g.nodes.len() - 1;
        self.keys.insert((kind, key.clone()), i);
        self.lookup.insert((kind, key), i);
        i
    }

    fn alias(&mut self, kind: NodeKind, name: String, node: usize) {
        self.lookup.entry((kind, name)).or_insert(node);
    }

    fn find(&self, kind: NodeKind, name: &str) -> Option<usize> {
        self.lookup.get(&(kind, name.to_string())).copied()
    }

    fn edge(&mut self, edge: Edge) {
        let key = (edge.from, edge.to, edge.dead_letter, edge.label.clone());
        match self.edges.get(&key) {
            // A declared binding the broker also holds: one edge, live.
            Some(&i) => {
                if self.g.edges[i].pending && !edge.pending {
                    self.g.edges[i] = edge;
                }
            }
            None => {
                self.edges.insert(key, self.g.edges.len());
                self.g.edges.push(edge);
            }
        }
    }
}

fn plain_edge(from: usize, to: usize, label: String, room: usize) -> Edge {
    Edge { from, to, label, label_room: room, selection: None, dead_letter: false, pending: false }
}

fn binding_label(routing_key: &str, arguments: &broker_core::amqp::FieldTable) -> String {
    if arguments.is_empty() {
        routing_key.to_string()
    } else {
        let args: Vec<String> = arguments.iter().map(|(k, v)| format!("{k}={v}")).collect();
        args.join(" ")
    }
}

fn room_of(label: &str) -> usize {
    label.chars().count().min(EDGE_LABEL_CHARS)
}

/// A routing key that names one queue through the default exchange (no template parts).
fn literal_key(template: &str) -> Option<&str> {
    (!template.contains('{')).then_some(template)
}

/// An actor node's status and second line (`live` describes it while connected).
fn actor_state(
    a: &broker_core::scenario::sim::ActorStatus<'_>,
    live: impl FnOnce() -> String,
) -> (NodeStatus, String) {
    if a.connection.is_some() {
        (NodeStatus::Live, live())
    } else if a.crashed {
        let restarts = !a.gone;
        (NodeStatus::Crashed, if restarts { "crashed · restarting".into() } else { "crashed".into() })
    } else if a.gone {
        (NodeStatus::Gone, "stopped".into())
    } else if a.started {
        (NodeStatus::Waiting, "reconnecting".into())
    } else {
        (NodeStatus::Waiting, "not started yet".into())
    }
}

/// The graph and its layout.
///
/// # Invariants
/// - `keys` maps each node's identity (kind and name; a consumer is `queue\0tag`, a producer its
///   connection id, a declared actor or the server-named queue it declares [`ACTOR_KEY`] and its
///   name) to its index in `nodes`; `edge_index` maps `(from, to)` to the first such edge.
/// - After [`Graph::layout`], `geometry[i]` is edge `i`'s; no two placed labels' boxes meet, and no
///   label meets a node or an edge's end ([`placement`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub width: f64,
    pub height: f64,
    /// Each edge's path and label place (made by [`Graph::layout`], one per edge).
    pub geometry: Vec<EdgeGeometry>,
    keys: BTreeMap<(NodeKind, String), usize>,
    /// `keys` and the names events use for the same nodes (a server-named queue's generated name, an
    /// actor's connection id, a consumer's `queue\0tag`).
    lookup: BTreeMap<(NodeKind, String), usize>,
    edge_index: BTreeMap<(usize, usize), usize>,
}

/// Where an edge is drawn: its SVG path, where its label sits and where a count badge goes.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeGeometry {
    pub d: String,
    /// The centre of the label's box; `None` when no free place was found (the text is in the tooltip).
    pub label_at: Option<(f64, f64)>,
    pub badge_at: (f64, f64),
    /// A box holding the whole path (a curve's control points' box): `[left, top, right, bottom]`.
    pub bounds: [f64; 4],
    /// Where the edge leaves its source and reaches its target.
    pub ends: [(f64, f64); 2],
    /// The path as a polyline (a curve sampled), for tests and hit checks.
    pub points: Vec<(f64, f64)>,
    /// Routed orthogonally around the boxes (a backward edge, or a curve that would cross a node).
    pub routed: bool,
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
    /// The viewport of a pane of `client` size in CSS pixels showing the graph at `scale` CSS pixels
    /// per unit, its origin at `offset` pixels from the pane's top left (negative when the graph is
    /// panned left or up), snapped outwards to whole [`OVERSCAN`] steps so that panning re-renders the
    /// graph only every few hundred units. `None` for a pane not laid out yet.
    pub fn of_pane(offset: (f64, f64), client: (f64, f64), scale: f64) -> Option<Viewport> {
        let ok = |v: f64| v.is_finite();
        if !(ok(offset.0) && ok(offset.1) && client.0 > 0.0 && client.1 > 0.0 && scale > 0.0 && ok(scale)) {
            return None;
        }
        let snap_down = |v: f64| (v / OVERSCAN).floor() * OVERSCAN;
        let snap_up = |v: f64| (v / OVERSCAN).ceil() * OVERSCAN;
        let (left, top) = (-offset.0 / scale, -offset.1 / scale);
        let (x0, y0) = (snap_down(left), snap_down(top));
        let (x1, y1) = (snap_up(left + client.0 / scale), snap_up(top + client.1 / scale));
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

/// How the graph sits in its pane: `scale` CSS pixels per graph unit, the graph's origin at `(x, y)`
/// CSS pixels from the pane's top left.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PanZoom {
    pub scale: f64,
    pub x: f64,
    pub y: f64,
}

/// The zoom range of the +/− buttons and the wheel.
pub const MIN_ZOOM: f64 = 0.1;
pub const MAX_ZOOM: f64 = 4.0;
/// On load the graph is fitted to its pane when that takes no less than this scale (node names then
/// render at 9 px or more; every bundled scenario fits a 1280×720 window so), and no more than
/// [`MAX_FIT`]; a graph too big for it is shown from its top left at [`READABLE_ZOOM`] instead, where
/// labels stay readable and only the part in sight is drawn. "Fit" fits whatever the size.
pub const FIT_FLOOR: f64 = 0.63;
pub const READABLE_ZOOM: f64 = 0.75;
pub const MAX_FIT: f64 = 1.5;
/// Room kept around a fitted graph, in CSS pixels.
const FIT_PADDING: f64 = 8.0;

impl PanZoom {
    /// The whole graph (`size` in graph units) centred in a pane of `pane` CSS pixels, as large as fits
    /// up to [`MAX_FIT`]; with `readable`, a graph that would need less than [`FIT_FLOOR`] is shown at
    /// [`READABLE_ZOOM`] from its top left instead.
    pub fn fit(size: (f64, f64), pane: (f64, f64), readable: bool) -> PanZoom {
        let room = ((pane.0 - 2.0 * FIT_PADDING).max(1.0), (pane.1 - 2.0 * FIT_PADDING).max(1.0));
        if size.0 <= 0.0 || size.1 <= 0.0 {
            return PanZoom { scale: 1.0, x: FIT_PADDING, y: FIT_PADDING };
        }
        let fit = (room.0 / size.0).min(room.1 / size.1).clamp(MIN_ZOOM, MAX_FIT);
        if readable && fit < FIT_FLOOR {
            let scale = READABLE_ZOOM;
            let x = if size.0 * scale <= room.0 { (pane.0 - size.0 * scale) / 2.0 } else { FIT_PADDING };
            return PanZoom { scale, x, y: FIT_PADDING };
        }
        PanZoom { scale: fit, x: (pane.0 - size.0 * fit) / 2.0, y: (pane.1 - size.1 * fit) / 2.0 }
    }

    /// Zoomed by `factor` (clamped to the zoom range) about the pane point `at`, which stays put.
    pub fn zoom_at(self, factor: f64, at: (f64, f64)) -> PanZoom {
        let scale = (self.scale * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let f = scale / self.scale;
        PanZoom { scale, x: at.0 - (at.0 - self.x) * f, y: at.1 - (at.1 - self.y) * f }
    }

    /// Moved by `(dx, dy)` CSS pixels.
    pub fn pan(self, dx: f64, dy: f64) -> PanZoom {
        PanZoom { scale: self.scale, x: self.x + dx, y: self.y + dy }
    }

    /// The part of the graph a pane of `pane` CSS pixels shows ([`Viewport::of_pane`]).
    pub fn viewport(self, pane: (f64, f64)) -> Option<Viewport> {
        Viewport::of_pane((self.x, self.y), pane, self.scale)
    }

    /// The SVG transform that draws the graph so.
    pub fn transform(self) -> String {
        format!("translate({:.1},{:.1}) scale({:.4})", self.x, self.y, self.scale)
    }
}

/// What a routing explanation lights on the graph ([`Graph::route_marks`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RouteMarks {
    /// An explanation of an exchange on the graph is shown.
    pub active: bool,
    /// Edge → whether its binding matched.
    pub edges: BTreeMap<usize, bool>,
    /// Node → whether a matched binding reaches it.
    pub nodes: BTreeMap<usize, bool>,
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
                g.geometry = p.geometry.clone();
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
            && self.edges.iter().zip(&other.edges).all(|(a, b)| {
                (a.from, a.to, a.dead_letter, a.label_room) == (b.from, b.to, b.dead_letter, b.label_room)
            })
    }

    /// The graph's nodes and edges, not yet placed: what the broker holds now, plus every entity and
    /// actor the scenario document declares (those not there are marked, not left out, so the layout
    /// is the same from the start to the end of a run).
    fn unplaced(session: &Session) -> Graph {
        use broker_core::scenario::sim::ActorSpec;
        let broker = session.broker();
        let exchanges = broker.exchanges();
        let queues = broker.queues();
        let actors = session.actors();
        let mut b = Builder::default();
        // Inserted one by one: `collect` into a set compiles its own sort (broker_core::order).
        let mut actor_connections: BTreeSet<ConnectionId> = BTreeSet::new();
        actor_connections.extend(actors.iter().filter_map(|a| a.connection));
        let dead_letter_exchange =
            |arguments: &broker_core::amqp::FieldTable| match arguments.get("x-dead-letter-exchange") {
                Some(broker_core::amqp::FieldValue::Str(dlx)) => Some(dlx.clone()),
                _ => None,
            };
        let queue_details: Vec<_> = queues.iter().filter_map(|q| broker.queue(&q.name)).collect();

        // Exchanges worth showing: user-declared ones, and predeclared ones in use or named by the
        // document (published to, bound from, a dead-letter target).
        let mut wanted: BTreeSet<String> =
            session.connections().values().flat_map(|c| c.published_to.keys().cloned()).collect();
        for x in &exchanges {
            for bd in &x.bindings {
                if let Destination::Exchange(d) = &bd.destination {
                    wanted.insert(d.to_string());
                }
            }
        }
        for a in &actors {
            match a.spec {
                ActorSpec::Producer(p) => {
                    wanted.insert(p.exchange.clone());
                }
                ActorSpec::Consumer(c) => {
                    wanted.extend(c.bind.iter().map(|bd| bd.exchange.clone()));
                    if c.reply.is_some() {
                        wanted.insert(String::new());
                    }
                }
            }
        }
        wanted.extend(queue_details.iter().filter_map(|q| dead_letter_exchange(&q.arguments)));
        let shown: Vec<_> = exchanges
            .iter()
            .filter(|x| !is_predeclared(&x.name) || !x.bindings.is_empty() || wanted.contains(&x.name))
            .collect();

        // Exchange columns: 1 + the longest chain of exchange-to-exchange bindings leading here.
        // Inserted one by one: `collect` into a map would compile its own sort (sim_kernel::order).
        let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
        depth.extend(shown.iter().map(|x| (x.name.as_str(), 0)));
        for _ in 0..MAX_EXCHANGE_DEPTH {
            for x in &shown {
                let d = depth[x.name.as_str()];
                for bd in &x.bindings {
                    if let Destination::Exchange(dest) = &bd.destination {
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
                selection: Some(Selection::Exchange(x.name.clone())),
                column: 1 + depth[x.name.as_str()],
                x: 0.0,
                y: 0.0,
                busy: false,
                status: NodeStatus::Live,
                stream: None,
            };
            b.add(node, x.name.clone());
        }
        let queue_node = |name: &str, label: String, status: NodeStatus, detail: String| Node {
            kind: NodeKind::Queue,
            label,
            detail,
            selection: (status == NodeStatus::Live).then(|| Selection::Queue(name.to_string())),
            column: queue_column,
            x: 0.0,
            y: 0.0,
            busy: false,
            stream: (status == NodeStatus::Live).then(|| StreamStrip::of(broker, name)).flatten(),
            status,
        };
        let live_queue = |name: &str| queues.iter().find(|q| q.name == name);
        let queue_text = |q: &broker_core::amqp::QueueInfo| match StreamStrip::of(broker, &q.name) {
            // A stream's messages stay in the log: its offsets say more than "ready".
            Some(strip) => strip.detail(),
            None => format!("{} ready · {} unacked", q.messages_ready, q.messages_unacknowledged),
        };
        // Queues the document's consumers declare, before the broker's (a server-named one is known by
        // its consumer until it has a name).
        for a in &actors {
            let ActorSpec::Consumer(c) = a.spec else { continue };
            let Some(d) = &c.declare else { continue };
            let resolved = a.queues.first().cloned().or_else(|| (!d.name.is_empty()).then(|| d.name.clone()));
            let key = if d.name.is_empty() { actor_key(&c.name) } else { d.name.clone() };
            let live = resolved.as_deref().and_then(live_queue);
            let (status, detail) = match live {
                Some(q) => (NodeStatus::Live, queue_text(q)),
                None if a.started => (NodeStatus::Gone, "deleted".to_string()),
                None => (NodeStatus::Waiting, format!("declared by {}", c.name)),
            };
            let label = resolved.clone().unwrap_or_else(|| "(server-named)".to_string());
            let mut node = queue_node(resolved.as_deref().unwrap_or(""), label, status, detail);
            node.busy = live.is_some_and(|q| q.messages_ready > 0);
            let i = b.add(node, key);
            if let Some(name) = resolved {
                b.alias(NodeKind::Queue, name, i);
            }
        }
        for q in &queues {
            if b.find(NodeKind::Queue, &q.name).is_some() {
                continue;
            }
            let mut node = queue_node(&q.name, q.name.clone(), NodeStatus::Live, queue_text(q));
            node.busy = q.messages_ready > 0;
            b.add(node, q.name.clone());
        }
        // Queues the document's consumers consume from without declaring them, not there (yet).
        for a in &actors {
            let ActorSpec::Consumer(c) = a.spec else { continue };
            if c.declare.is_some() {
                continue;
            }
            for name in c.queue.iter().chain(&c.queues) {
                if b.find(NodeKind::Queue, name).is_none() {
                    let node = queue_node(name, name.clone(), NodeStatus::Waiting, "not declared".into());
                    b.add(node, name.clone());
                }
            }
        }

        // Producers: the document's, then other connections that published (the UI's, a manual worker's).
        for a in &actors {
            let ActorSpec::Producer(p) = a.spec else { continue };
            let published: u64 = a
                .connection
                .and_then(|c| session.connections().get(&c))
                .map_or(0, |c| c.published_to.values().sum());
            let (status, detail) = actor_state(a, || {
                format!(
                    "{} · {published} published",
                    a.connection.map_or_else(String::new, |c| c.to_string())
                )
            });
            let node = Node {
                kind: NodeKind::Producer,
                label: p.name.clone(),
                detail,
                selection: a.connection.map(Selection::Connection),
                column: 0,
                x: 0.0,
                y: 0.0,
                busy: false,
                status,
                stream: None,
            };
            let from = b.add(node, actor_key(&p.name));
            if let Some(conn) = a.connection {
                b.alias(NodeKind::Producer, conn.to_string(), from);
            }
            if let Some(to) = b.find(NodeKind::Exchange, &p.exchange) {
                let mut e = plain_edge(from, to, p.routing_key.clone(), room_of(&p.routing_key));
                e.pending = status != NodeStatus::Live;
                b.edge(e);
            }
        }
        for (id, c) in session.connections() {
            if c.published_to.is_empty() || actor_connections.contains(id) {
                continue;
            }
            let node = Node {
                kind: NodeKind::Producer,
                label: c.name.clone(),
                detail: format!("{id} · producer"),
                selection: Some(Selection::Connection(*id)),
                column: 0,
                x: 0.0,
                y: 0.0,
                busy: false,
                status: NodeStatus::Live,
                stream: None,
            };
            let from = b.add(node, id.to_string());
            for (x, count) in &c.published_to {
                if let Some(to) = b.find(NodeKind::Exchange, x) {
                    b.edge(plain_edge(from, to, format!("{count} msgs"), COUNT_LABEL_ROOM));
                }
            }
        }

        // The document's consumers: their queues' edges, the bindings they declare, their replies.
        let consumers_of = |conn: ConnectionId| {
            queue_details.iter().flat_map(move |q| {
                q.consumers
                    .iter()
                    .filter(move |c| c.connection == conn)
                    .map(move |c| (q.info.name.clone(), c))
            })
        };
        for a in &actors {
            let ActorSpec::Consumer(c) = a.spec else { continue };
            let unacked: u32 =
                a.connection.map_or(0, |conn| consumers_of(conn).map(|(_, c)| c.unacked).sum());
            let (status, detail) = actor_state(a, || {
                format!("{} · {unacked} unacked", a.connection.map_or_else(String::new, |c| c.to_string()))
            });
            let first = a.connection.and_then(|conn| consumers_of(conn).next());
            let node = Node {
                kind: NodeKind::Consumer,
                label: c.name.clone(),
                detail,
                selection: first.as_ref().map(|(queue, ci)| Selection::Consumer {
                    queue: queue.clone(),
                    consumer_tag: ci.consumer_tag.clone(),
                }),
                column: queue_column + 1,
                x: 0.0,
                y: 0.0,
                busy: false,
                status,
                stream: None,
            };
            let to = b.add(node, actor_key(&c.name));
            if let Some(conn) = a.connection {
                for (queue, ci) in consumers_of(conn) {
                    b.alias(NodeKind::Consumer, format!("{queue}\u{0}{}", ci.consumer_tag), to);
                }
                b.alias(NodeKind::Producer, conn.to_string(), to);
            }
            let declared =
                c.declare
                    .as_ref()
                    .map(|d| if d.name.is_empty() { actor_key(&c.name) } else { d.name.clone() });
            let consumed: Vec<String> = match &declared {
                Some(key) => vec![key.clone()],
                None => c.queue.iter().chain(&c.queues).cloned().collect(),
            };
            let prefetch = if c.auto_ack {
                "auto-ack".to_string()
            } else if c.prefetch == 0 {
                "prefetch ∞".to_string()
            } else {
                format!("prefetch {}", c.prefetch)
            };
            for key in &consumed {
                let Some(from) = b.find(NodeKind::Queue, key) else { continue };
                let mut e = plain_edge(from, to, prefetch.clone(), room_of(&prefetch));
                e.pending = status != NodeStatus::Live;
                b.edge(e);
            }
            if let Some(queue) = declared.as_ref().and_then(|k| b.find(NodeKind::Queue, k)) {
                for bd in &c.bind {
                    let Some(from) = b.find(NodeKind::Exchange, &bd.exchange) else { continue };
                    let label = binding_label(&bd.routing_key, &bd.arguments);
                    let mut e = plain_edge(from, queue, label.clone(), room_of(&label));
                    e.pending = true;
                    b.edge(e);
                }
            }
            let mut publishes: BTreeMap<String, &str> = BTreeMap::new();
            if c.reply.is_some() {
                publishes.insert(String::new(), "replies");
            }
            if let Some(conn) = a.connection.and_then(|conn| session.connections().get(&conn)) {
                for x in conn.published_to.keys() {
                    publishes.entry(x.clone()).or_insert("publishes");
                }
            }
            for (x, label) in publishes {
                if let Some(x) = b.find(NodeKind::Exchange, &x) {
                    let mut e = plain_edge(to, x, label.to_string(), room_of(label));
                    e.pending = status != NodeStatus::Live;
                    b.edge(e);
                }
            }
        }

        // The broker's bindings.
        for x in &shown {
            let Some(from) = b.find(NodeKind::Exchange, &x.name) else { continue };
            for bd in &x.bindings {
                let (kind, name) = match &bd.destination {
                    Destination::Queue(n) => (NodeKind::Queue, n.to_string()),
                    Destination::Exchange(n) => (NodeKind::Exchange, n.to_string()),
                };
                let Some(to) = b.find(kind, &name) else { continue };
                let label = binding_label(&bd.routing_key, &bd.arguments);
                b.edge(Edge {
                    from,
                    to,
                    label_room: room_of(&label),
                    label,
                    selection: Some(Selection::Binding {
                        source: x.name.clone(),
                        destination: name,
                        routing_key: bd.routing_key.clone(),
                    }),
                    dead_letter: false,
                    pending: false,
                });
            }
        }
        // The default exchange's implicit bindings (key = queue name) worth drawing: to the queues it
        // has routed to, and to those the document addresses through it (a producer's literal key, a
        // `reply_to`, a dead-letter routing key), so they are there from the start.
        if let Some(from) = b.find(NodeKind::Exchange, "") {
            let mut targets: BTreeSet<String> = session.default_routes().clone();
            for a in &actors {
                if let ActorSpec::Producer(p) = a.spec {
                    if p.exchange.is_empty() {
                        targets.extend(literal_key(&p.routing_key).map(str::to_string));
                    }
                    targets.extend(
                        p.properties.reply_to.iter().filter_map(|r| literal_key(r)).map(str::to_string),
                    );
                }
            }
            for q in &queue_details {
                if dead_letter_exchange(&q.arguments).as_deref() == Some("") {
                    if let Some(broker_core::amqp::FieldValue::Str(k)) =
                        q.arguments.get("x-dead-letter-routing-key")
                    {
                        targets.insert(k.clone());
                    }
                }
            }
            for q in targets {
                if let Some(to) = b.find(NodeKind::Queue, &q) {
                    let mut e = plain_edge(from, to, q.clone(), room_of(&q));
                    e.pending = b.g.nodes[to].status != NodeStatus::Live;
                    b.edge(e);
                }
            }
        }
        // Dead-letter exchanges: a dashed edge from the queue back to its DLX.
        for q in &queue_details {
            let Some(dlx) = dead_letter_exchange(&q.arguments) else { continue };
            let (Some(from), Some(to)) =
                (b.find(NodeKind::Queue, &q.info.name), b.find(NodeKind::Exchange, &dlx))
            else {
                continue;
            };
            let label = "dead letters".to_string();
            b.edge(Edge {
                from,
                to,
                label_room: room_of(&label),
                label,
                selection: None,
                dead_letter: true,
                pending: false,
            });
        }
        // Consumers of other connections (the UI's, a manual worker's).
        for q in &queue_details {
            for c in q.consumers.iter().filter(|c| !actor_connections.contains(&c.connection)) {
                let conn =
                    session.connections().get(&c.connection).map_or_else(String::new, |v| v.name.clone());
                let node = Node {
                    kind: NodeKind::Consumer,
                    label: c.consumer_tag.clone(),
                    detail: format!("{conn} · {} unacked", c.unacked),
                    selection: Some(Selection::Consumer {
                        queue: q.info.name.clone(),
                        consumer_tag: c.consumer_tag.clone(),
                    }),
                    column: queue_column + 1,
                    x: 0.0,
                    y: 0.0,
                    busy: false,
                    status: NodeStatus::Live,
                    stream: None,
                };
                let to = b.add(node, format!("{}\u{0}{}", q.info.name, c.consumer_tag));
                let Some(from) = b.find(NodeKind::Queue, &q.info.name) else { continue };
                let prefetch = if c.prefetch == 0 { "∞".to_string() } else { c.prefetch.to_string() };
                let label = format!("prefetch {prefetch}");
                b.edge(plain_edge(from, to, label.clone(), room_of(&label)));
            }
        }
        let Builder { mut g, keys, lookup, .. } = b;
        g.edge_index = BTreeMap::new();
        for (i, e) in g.edges.iter().enumerate() {
            g.edge_index.entry((e.from, e.to)).or_insert(i);
        }
        g.keys = keys;
        g.lookup = lookup;
        g
    }

    /// Node `i`'s box `[left, top, right, bottom]`.
    pub fn node_box(&self, i: usize) -> [f64; 4] {
        let n = &self.nodes[i];
        [n.x, n.y, n.x + NODE_WIDTH, n.y + NODE_HEIGHT]
    }

    /// The index of a node by its identity (see the type's invariants).
    pub fn node(&self, kind: NodeKind, key: &str) -> Option<usize> {
        self.lookup.get(&(kind, key.to_string())).copied()
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

    /// What a routing explanation lights on the graph: the explained exchange's bindings that matched
    /// (`true`) and those that did not (`false`), and the nodes they lead to (`true` when reached).
    pub fn route_marks(&self, x: &crate::state::RouteExplanation) -> RouteMarks {
        let mut marks = RouteMarks::default();
        let (Some(source), Some(checks)) = (self.node(NodeKind::Exchange, &x.exchange), &x.checks) else {
            return marks;
        };
        marks.active = true;
        marks.nodes.insert(source, true);
        for (i, e) in self.edges.iter().enumerate() {
            let binding = e.from == source && !e.dead_letter && self.nodes[e.to].kind != NodeKind::Consumer;
            if !binding {
                continue;
            }
            let matched = match &e.selection {
                Some(Selection::Binding { destination, routing_key, .. }) => checks.iter().any(|c| {
                    let name = match &c.binding.destination {
                        Destination::Queue(n) | Destination::Exchange(n) => &**n,
                    };
                    c.matched && &c.binding.routing_key == routing_key && name == destination
                }),
                // The default exchange's implicit binding: to the queue the key names.
                None if x.exchange.is_empty() => self.node(NodeKind::Queue, &x.routing_key) == Some(e.to),
                _ => false,
            };
            marks.edges.insert(i, matched);
            *marks.nodes.entry(e.to).or_insert(false) |= matched;
        }
        marks
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

    /// Edge `i`'s path, label place and badge place ([`placement`]).
    pub fn edge_geometry(&self, i: usize) -> EdgeGeometry {
        self.geometry[i].clone()
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
        // Each gap between two columns is wide enough for the widest label of an edge across it, with
        // room for the edges' ends on both sides.
        let mut gap = vec![COLUMN_GAP; used.max(1)];
        for e in &self.edges {
            let (a, b) = (slot[self.nodes[e.from].column], slot[self.nodes[e.to].column]);
            if b == a + 1 {
                let wanted = placement::label_width(e.label_room) + 2.0 * placement::END_HALF + 8.0;
                gap[a] = gap[a].max(wanted.min(MAX_COLUMN_GAP));
            }
        }
        let mut slot_x = vec![MARGIN; used.max(1)];
        for s in 1..used {
            slot_x[s] = slot_x[s - 1] + NODE_WIDTH + gap[s - 1];
        }
        for (c, col) in order.iter().enumerate() {
            for &i in col {
                self.nodes[i].x = slot_x[slot[c]];
                self.nodes[i].y = y[i];
            }
        }
        placement::place(self);
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
        broker_core::order::sort_by(&mut keyed, |a, b| a.0.total_cmp(&b.0));
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
            assert!(geo.d.starts_with('M'), "{}", geo.d);
            assert_eq!(geo.routed, !geo.d.contains(" C"), "a curve, or a route of straight runs: {}", geo.d);
            assert_eq!(geo.routed, e.dead_letter, "only the dead-letter route goes backwards: {}", geo.d);
            let (from, to) = (&g.nodes[e.from], &g.nodes[e.to]);
            if to.kind == NodeKind::Queue && to.x > from.x && !e.label.is_empty() {
                let at = geo.label_at.expect("every binding label finds a place");
                assert!(at.0 > from.x + NODE_WIDTH && at.0 < to.x, "between the columns");
                assert!((at.1 - (to.y + NODE_HEIGHT / 2.0)).abs() < (NODE_HEIGHT + ROW_GAP) * 2.0);
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
            Viewport::of_pane((0.0, -150.0), (700.0, 800.0), 0.8),
            Viewport::of_pane((0.0, 0.0), (700.0, 850.0), 0.8),
            "a graph panned up by 150 px shows what a pane 150 px taller would"
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

    // ----- every bundled scenario: readable, stable, complete -----

    /// Each bundled scenario's graph at t = 0, at a few moments of its run and at its end.
    fn bundled_graphs() -> Vec<(String, Vec<(u64, Graph)>)> {
        crate::scenarios::BUNDLED
            .iter()
            .map(|(id, _)| {
                let mut s = AppState::new(Session::new(1));
                s.apply(Action::LoadScenario(id.to_string()));
                let end = s.session.borrow().end().expect("a scenario").as_millis();
                let mut graphs = vec![(0, Graph::from_session(&s.session.borrow()))];
                for k in 1..=4 {
                    let t = end * k / 4;
                    s.apply(Action::RunUntil(broker_core::VirtualTime(t)));
                    graphs.push((t, Graph::from_session(&s.session.borrow())));
                }
                (id.to_string(), graphs)
            })
            .collect()
    }

    #[test]
    fn bundled_scenarios_labels_meet_no_label_node_or_edge_end() {
        use placement::{end_box, label_box, meet};
        for (id, graphs) in bundled_graphs() {
            for (t, g) in graphs {
                let labels: Vec<(usize, [f64; 4])> = g
                    .edges
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| !e.label.is_empty())
                    .map(|(i, e)| {
                        let at = g.geometry[i].label_at.unwrap_or_else(|| {
                            panic!("{id} at {t} ms: edge {i} '{}' found no place for its label", e.label)
                        });
                        (i, label_box(at, e.label_room))
                    })
                    .collect();
                for (k, &(i, a)) in labels.iter().enumerate() {
                    assert!(
                        a[0] >= 0.0 && a[1] >= 0.0 && a[2] <= g.width && a[3] <= g.height,
                        "{id} at {t} ms: label '{}' {a:?} leaves the {}×{} canvas",
                        g.edges[i].label,
                        g.width,
                        g.height
                    );
                    for &(j, b) in &labels[k + 1..] {
                        assert!(
                            !meet(a, b),
                            "{id} at {t} ms: labels '{}' and '{}' overlap",
                            g.edges[i].label,
                            g.edges[j].label
                        );
                    }
                    for (n, node) in g.nodes.iter().enumerate() {
                        assert!(
                            !meet(a, g.node_box(n)),
                            "{id} at {t} ms: label '{}' covers {}",
                            g.edges[i].label,
                            node.label
                        );
                    }
                    for (j, geo) in g.geometry.iter().enumerate() {
                        for end in geo.ends {
                            assert!(
                                !meet(a, end_box(end)),
                                "{id} at {t} ms: label '{}' covers an end of edge {j} ({} → {})",
                                g.edges[i].label,
                                g.nodes[g.edges[j].from].label,
                                g.nodes[g.edges[j].to].label
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn bundled_scenarios_dead_letter_routes_cross_no_other_node_and_stay_inside() {
        use placement::segment_crosses;
        let mut dead_letter_edges = 0;
        for (id, graphs) in bundled_graphs() {
            for (t, g) in graphs {
                for (i, e) in g.edges.iter().enumerate() {
                    let geo = &g.geometry[i];
                    for &(x, y) in &geo.points {
                        assert!(
                            x >= 0.0 && y >= 0.0 && x <= g.width && y <= g.height,
                            "{id}: edge {i} leaves the canvas"
                        );
                    }
                    if e.dead_letter {
                        dead_letter_edges += 1;
                    }
                    for w in geo.points.windows(2) {
                        for n in (0..g.nodes.len()).filter(|&n| n != e.from && n != e.to) {
                            let b = g.node_box(n);
                            assert!(
                                !segment_crosses(w[0], w[1], b),
                                "{id} at {t} ms: edge {} → {}{} crosses node {}",
                                g.nodes[e.from].label,
                                g.nodes[e.to].label,
                                if e.dead_letter { " (dead letters)" } else { "" },
                                g.nodes[n].label
                            );
                        }
                    }
                }
            }
        }
        assert!(dead_letter_edges > 0, "the library has dead-letter routes to check");
    }

    #[test]
    fn bundled_scenarios_place_every_declared_node_from_the_start_and_never_move_it() {
        for (id, graphs) in bundled_graphs() {
            let (_, first) = &graphs[0];
            let place = |g: &Graph| -> Vec<(NodeKind, String, i64, i64)> {
                let mut v: Vec<_> = g
                    .keys
                    .iter()
                    .map(|((kind, key), &i)| (*kind, key.clone(), g.nodes[i].x as i64, g.nodes[i].y as i64))
                    .collect();
                v.sort();
                v
            };
            for (t, g) in &graphs[1..] {
                assert_eq!(place(g), place(first), "{id}: the nodes at {t} ms are not those at 0 ms");
            }
            let doc: serde_json::Value =
                serde_json::from_str(crate::scenarios::bundled_text(&id).unwrap()).unwrap();
            for role in ["producers", "consumers"] {
                for actor in doc[role].as_array().into_iter().flatten() {
                    let name = actor["name"].as_str().unwrap();
                    assert!(
                        first.nodes.iter().any(|n| n.label == name),
                        "{id}: {name} is drawn from the start"
                    );
                }
            }
        }
    }

    #[test]
    fn a_crashed_worker_stays_on_the_graph_marked_crashed() {
        let mut s = AppState::new(Session::new(1));
        s.apply(Action::LoadScenario("02-work-queues".into()));
        let before = Graph::from_session(&s.session.borrow());
        let worker = |g: &Graph| g.nodes.iter().find(|n| n.label == "worker-1").cloned();
        assert_eq!(worker(&before).map(|n| n.status), Some(NodeStatus::Waiting));
        // The fault crashes worker-1 at 1 s, with a task in hand.
        s.apply(Action::RunUntil(broker_core::VirtualTime(1_500)));
        let after = Graph::from_session(&s.session.borrow());
        let w = worker(&after).expect("the crashed worker is still drawn");
        assert_eq!(w.status, NodeStatus::Crashed);
        assert!(w.detail.contains("crashed"), "{}", w.detail);
        let w2 = after.nodes.iter().find(|n| n.label == "worker-2").unwrap();
        assert_eq!(w2.status, NodeStatus::Live);
        let before_w = worker(&before).unwrap();
        assert_eq!((w.x, w.y), (before_w.x, before_w.y), "it did not move");
    }

    #[test]
    fn fit_centres_a_small_graph_and_keeps_a_big_one_readable() {
        let small = PanZoom::fit((400.0, 200.0), (800.0, 600.0), true);
        assert_eq!(small.scale, MAX_FIT.min((800.0 - 16.0) / 400.0));
        assert!((small.x - (800.0 - 400.0 * small.scale) / 2.0).abs() < 1e-9, "centred");
        let wide = PanZoom::fit((900.0, 300.0), (600.0, 500.0), true);
        assert!(wide.scale < 1.0 && wide.scale >= FIT_FLOOR);
        assert!(wide.x >= 0.0 && wide.x + 900.0 * wide.scale <= 600.0, "inside the pane: {wide:?}");
        let tall = PanZoom::fit((900.0, 4000.0), (600.0, 500.0), true);
        assert_eq!((tall.scale, tall.y), (READABLE_ZOOM, FIT_PADDING), "from the top, readable");
        let all = PanZoom::fit((900.0, 4000.0), (600.0, 500.0), false);
        assert!(all.y >= 0.0 && all.y + 4000.0 * all.scale <= 500.0 + 1e-9, "Fit shows everything: {all:?}");
        // Zooming keeps the point under the cursor; the viewport follows the pan and zoom.
        let z = small.zoom_at(2.0, (100.0, 100.0));
        let graph_point = |v: PanZoom, p: (f64, f64)| ((p.0 - v.x) / v.scale, (p.1 - v.y) / v.scale);
        let (a, b) = (graph_point(small, (100.0, 100.0)), graph_point(z, (100.0, 100.0)));
        assert!((a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9);
        let panned = PanZoom { scale: 0.5, x: -1000.0, y: -2000.0 };
        let v = panned.viewport((600.0, 400.0)).unwrap();
        assert!(
            v.x <= 2000.0 && v.x + v.width >= 3200.0 && v.y <= 4000.0 && v.y + v.height >= 4800.0,
            "{v:?}"
        );
        assert!(!v.meets([0.0, 0.0, 100.0, 100.0]), "the graph's corner is far out of sight");
        assert_eq!(PanZoom { scale: 0.0, x: 0.0, y: 0.0 }.viewport((600.0, 400.0)), None);
    }

    #[test]
    fn an_explained_publish_lights_the_bindings_that_matched() {
        let mut s = AppState::new(Session::new(1));
        s.apply(Action::LoadScenario("04-routing".into()));
        // The consumers declare and bind their queues as they start.
        s.apply(Action::RunUntil(broker_core::VirtualTime(500)));
        s.apply(Action::Explain {
            exchange: "direct_logs".into(),
            routing_key: "error".into(),
            headers: FieldTable::new(),
        });
        let g = Graph::from_session(&s.session.borrow());
        let marks = g.route_marks(s.explanation.as_ref().unwrap());
        assert!(marks.active);
        let lit: Vec<(String, bool)> =
            marks.edges.iter().map(|(&i, &m)| (g.edges[i].label.clone(), m)).collect();
        let mut expected = vec![
            ("error".to_string(), true),
            ("error".to_string(), true),
            ("info".to_string(), false),
            ("warning".to_string(), false),
        ];
        let mut sorted = lit.clone();
        sorted.sort();
        expected.sort();
        assert_eq!(sorted, expected, "both queues' 'error' bindings matched, the others did not");
        let reached = marks.nodes.iter().filter(|(&n, &m)| m && g.nodes[n].kind == NodeKind::Queue).count();
        assert_eq!(reached, 2);
        // Through the default exchange: the queue named by the key.
        s.apply(Action::LoadScenario("01-hello-world".into()));
        s.apply(Action::Explain {
            exchange: String::new(),
            routing_key: "hello".into(),
            headers: FieldTable::new(),
        });
        let g = Graph::from_session(&s.session.borrow());
        let marks = g.route_marks(s.explanation.as_ref().unwrap());
        let hello = g.node(NodeKind::Queue, "hello").unwrap();
        assert!(marks.edges.iter().any(|(&i, &m)| m && g.edges[i].to == hello), "{marks:?}");
    }
}
