//! The topology graph's model and layered layout: producers → exchanges → queues → consumers.
//!
//! Pure Rust (tested natively): [`Graph::from_session`] reads the engine's exchanges, bindings, queues and
//! consumers plus the connections that published; [`Graph::layout`] places nodes in columns (exchanges
//! bound to exchanges go one column further right) and orders each column by the mean position of its
//! neighbours (one barycentre sweep each way), which keeps edges mostly uncrossed at 30+ nodes.

use crate::session::Session;
use crate::state::Selection;
use broker_core::amqp::exchange::Destination;
use std::collections::BTreeMap;

pub const NODE_WIDTH: f64 = 150.0;
pub const NODE_HEIGHT: f64 = 42.0;
const COLUMN_GAP: f64 = 64.0;
const ROW_GAP: f64 = 16.0;
const MARGIN: f64 = 16.0;

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

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub width: f64,
    pub height: f64,
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
        g.layout();
        g
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
        let tallest = order.iter().map(Vec::len).max().unwrap_or(0) as f64;
        let full_height = tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP;
        for (c, col) in order.iter().enumerate() {
            let col_height = col.len() as f64 * (NODE_HEIGHT + ROW_GAP) - ROW_GAP;
            let top = MARGIN + (full_height - col_height) / 2.0;
            for (pos, &i) in col.iter().enumerate() {
                self.nodes[i].x = MARGIN + c as f64 * (NODE_WIDTH + COLUMN_GAP);
                self.nodes[i].y = top + pos as f64 * (NODE_HEIGHT + ROW_GAP);
            }
        }
        self.width = if columns == 0 {
            0.0
        } else {
            2.0 * MARGIN + columns as f64 * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP
        };
        self.height = if tallest == 0.0 { 0.0 } else { 2.0 * MARGIN + full_height };
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
}
