//! Where edges run and where their labels go, once the nodes are placed ([`place`]).
//!
//! Edges leave a node's right side and enter the next node's left side as S-curves; the ends of the
//! edges on one side are spread over its height in the order of their other ends, so parallel
//! bindings (three keys from one exchange to one queue) are three curves, not one. An edge that
//! goes backwards (a dead-letter route to an exchange further left, an RPC server's replies) or whose
//! curve would cross a node is routed orthogonally instead: out of the bottom of its source, along
//! the gaps between columns and rows (or a lane under the graph), into the bottom of its target —
//! the shortest such path with the fewest bends (Dijkstra over the gaps' grid), avoiding lanes an
//! earlier route took.
//!
//! Labels are placed greedily, bindings first, each at the first free candidate along its edge.
//!
//! # Invariants (tested over every bundled scenario)
//! - No two placed label boxes meet; no label box meets a node box or an edge end's box.
//! - A routed edge crosses no node box other than its own ends'.
//! - Every path, label and node lies inside `[0, width] × [0, height]`.
//! - A label that finds no free place is not drawn (`label_at` is `None`); its text stays in the
//!   edge's tooltip.

use super::{bezier, bounds_of, EdgeGeometry, Graph, NodeKind, MARGIN, NODE_HEIGHT, NODE_WIDTH};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

/// Width of one label character (11 px monospace) in graph units, with a little slack.
pub const LABEL_CHAR_WIDTH: f64 = 6.8;
/// A label box's height (11 px text and its halo).
pub const LABEL_HEIGHT: f64 = 14.0;
/// The halo drawn around a label's text, each side.
const LABEL_PAD: f64 = 3.0;
/// An edge end's box is this far around the end point each way: it holds the arrow head (9 graph units
/// long, `topology_view.rs`) and the curve's start.
pub const END_HALF: f64 = 8.5;
/// Routed edges keep this far from every node (less than half the gap between two rows, so a route
/// can run between them).
const CLEARANCE: f64 = 5.0;
/// A routed edge's first and last run, straight out of its node: to the middle of the gap between rows.
const STUB: f64 = super::ROW_GAP / 2.0;
/// Cost of a bend in a routed edge, in graph units of length.
const BEND_COST: f64 = 60.0;
/// Extra cost of running along a grid segment an earlier route took.
const SHARED_COST: f64 = 200.0;
/// Lanes under the lowest node, for routes that find no way through the gaps.
const BOTTOM_LANES: usize = 4;
const LANE_STEP: f64 = 12.0;

/// A label box's width for `room` characters.
pub fn label_width(room: usize) -> f64 {
    room as f64 * LABEL_CHAR_WIDTH + 2.0 * LABEL_PAD
}

/// The box `[left, top, right, bottom]` of a label of `room` characters centred on `at`.
pub fn label_box(at: (f64, f64), room: usize) -> [f64; 4] {
    let (w, h) = (label_width(room), LABEL_HEIGHT);
    [at.0 - w / 2.0, at.1 - h / 2.0, at.0 + w / 2.0, at.1 + h / 2.0]
}

/// The box around an edge's end point.
pub fn end_box((x, y): (f64, f64)) -> [f64; 4] {
    [x - END_HALF, y - END_HALF, x + END_HALF, y + END_HALF]
}

/// Whether two boxes overlap (touching is not overlapping).
pub fn meet(a: [f64; 4], b: [f64; 4]) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

fn grow(b: [f64; 4], by: f64) -> [f64; 4] {
    [b[0] - by, b[1] - by, b[2] + by, b[3] + by]
}

/// Whether the axis-parallel or sloped segment `p`–`q` passes through the inside of box `b`
/// (Liang–Barsky clipping).
pub fn segment_crosses(p: (f64, f64), q: (f64, f64), b: [f64; 4]) -> bool {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (pk, qk) in [(-dx, p.0 - b[0]), (dx, b[2] - p.0), (-dy, p.1 - b[1]), (dy, b[3] - p.1)] {
        if pk == 0.0 {
            if qk <= 0.0 {
                return false;
            }
        } else {
            let r = qk / pk;
            if pk < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    t1 - t0 > 1e-9
}

/// An edge's end on one side of a node: the other end's place along that side, the edge, and
/// whether it leaves the node.
type SideEnd = (f64, usize, bool);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
    Bottom,
}

/// Places every edge and label of a graph whose nodes are placed, and sets its size.
pub fn place(g: &mut Graph) {
    let n = g.edges.len();
    let backwards: Vec<bool> = g.edges.iter().map(|e| g.nodes[e.to].x <= g.nodes[e.from].x).collect();
    // Ends spread along each side, ordered by the other end's place.
    let mut sides: BTreeMap<(usize, u8), Vec<SideEnd>> = BTreeMap::new();
    let side_id = |s: Side| match s {
        Side::Left => 0u8,
        Side::Right => 1,
        Side::Bottom => 2,
    };
    for (i, e) in g.edges.iter().enumerate() {
        let (a, b) = (&g.nodes[e.from], &g.nodes[e.to]);
        let (out_side, in_side) =
            if backwards[i] { (Side::Bottom, Side::Bottom) } else { (Side::Right, Side::Left) };
        let key = |s: Side, other: &super::Node| if s == Side::Bottom { other.x } else { other.y };
        sides.entry((e.from, side_id(out_side))).or_default().push((key(out_side, b), i, true));
        sides.entry((e.to, side_id(in_side))).or_default().push((key(in_side, a), i, false));
    }
    let mut start = vec![(0.0, 0.0); n];
    let mut end = vec![(0.0, 0.0); n];
    for ((node, side), mut ends) in sides {
        broker_core::order::sort_by(&mut ends, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let nd = &g.nodes[node];
        let k = ends.len() as f64;
        for (pos, &(_, edge, outgoing)) in ends.iter().enumerate() {
            let f = (pos as f64 + 1.0) / (k + 1.0);
            let p = match side {
                0 => (nd.x, nd.y + NODE_HEIGHT * f),
                1 => (nd.x + NODE_WIDTH, nd.y + NODE_HEIGHT * f),
                // Along the bottom, outgoing ends on the left half, incoming on the right.
                _ => (nd.x + NODE_WIDTH * (0.15 + 0.7 * f), nd.y + NODE_HEIGHT),
            };
            if outgoing {
                start[edge] = p;
            } else {
                end[edge] = p;
            }
        }
    }
    let boxes: Vec<[f64; 4]> = (0..g.nodes.len()).map(|i| g.node_box(i)).collect();
    // Forward curves, unless one would cross a node: then it is routed too.
    let mut curves: Vec<Option<[(f64, f64); 4]>> = vec![None; n];
    for i in 0..n {
        if backwards[i] {
            continue;
        }
        let (p0, p3) = (start[i], end[i]);
        let bend = ((p3.0 - p0.0).abs() / 2.0).max(40.0);
        let p = [p0, (p0.0 + bend, p0.1), (p3.0 - bend, p3.1), p3];
        let e = &g.edges[i];
        let samples: Vec<(f64, f64)> = (0..=24).map(|k| bezier(p, k as f64 / 24.0)).collect();
        let crosses = samples.windows(2).any(|w| {
            boxes.iter().enumerate().any(|(j, b)| j != e.from && j != e.to && segment_crosses(w[0], w[1], *b))
        });
        if !crosses {
            curves[i] = Some(p);
        }
    }
    // Routed edges: a stub straight out of each end, then the grid.
    let stub = |p: (f64, f64), side: Side| match side {
        Side::Bottom => (p.0, p.1 + STUB),
        Side::Right => (p.0 + STUB, p.1),
        Side::Left => (p.0 - STUB, p.1),
    };
    let routed: Vec<usize> = (0..n).filter(|&i| curves[i].is_none()).collect();
    let mut stubs = BTreeMap::new();
    for &i in &routed {
        let (s, t) = if backwards[i] { (Side::Bottom, Side::Bottom) } else { (Side::Right, Side::Left) };
        stubs.insert(i, (stub(start[i], s), stub(end[i], t)));
    }
    let mut paths: Vec<Vec<(f64, f64)>> = vec![Vec::new(); n];
    if !routed.is_empty() {
        let grid = Grid::new(&boxes, stubs.values().flat_map(|(a, b)| [*a, *b]));
        let mut used = BTreeSet::new();
        for &i in &routed {
            let (s, t) = stubs[&i];
            let mid = grid
                .route(s, t, &mut used)
                .unwrap_or_else(|| vec![s, (s.0, grid.floor), (t.0, grid.floor), t]);
            let mut path = vec![start[i]];
            path.extend(mid);
            path.push(end[i]);
            path.dedup();
            paths[i] = simplify(path);
        }
    }
    for i in 0..n {
        if let Some(p) = curves[i] {
            paths[i] = (0..=16).map(|k| bezier(p, k as f64 / 16.0)).collect();
        }
    }
    // The canvas: every node and path, and room for labels below the lowest lane.
    let mut right = g.nodes.iter().map(|nd| nd.x + NODE_WIDTH).fold(0.0, f64::max);
    let mut bottom = g.nodes.iter().map(|nd| nd.y + NODE_HEIGHT).fold(0.0, f64::max);
    for p in &paths {
        for &(x, y) in p {
            right = right.max(x);
            bottom = bottom.max(y);
        }
    }
    if !routed.is_empty() {
        bottom += LABEL_HEIGHT;
    }
    let (width, height) = if g.nodes.is_empty() { (0.0, 0.0) } else { (right + MARGIN, bottom + MARGIN) };

    // Labels: bindings first (what a learner reads), then counts, prefetch and routes.
    let mut obstacles = Obstacles::default();
    for b in &boxes {
        obstacles.add(grow(*b, 1.0));
    }
    for i in 0..n {
        obstacles.add(end_box(start[i]));
        obstacles.add(end_box(end[i]));
    }
    let mut order: Vec<usize> = (0..n).collect();
    broker_core::order::sort_by_key(&mut order, |&i| {
        let e = &g.edges[i];
        let binding = g.nodes[e.from].kind == NodeKind::Exchange && !e.dead_letter;
        (!binding, curves[i].is_none(), i)
    });
    let mut label_at = vec![None; n];
    for i in order {
        let room = g.edges[i].label_room;
        if room == 0 || g.edges[i].label.is_empty() {
            continue;
        }
        let inside = |b: [f64; 4]| b[0] >= 0.0 && b[1] >= 0.0 && b[2] <= width && b[3] <= height;
        let found = candidates(&paths[i], curves[i], &g.edges[i], g).into_iter().find(|&at| {
            let b = label_box(at, room);
            inside(b) && !obstacles.hits(b)
        });
        if let Some(at) = found {
            obstacles.add(label_box(at, room));
            label_at[i] = Some(at);
        }
    }

    g.geometry = (0..n)
        .map(|i| {
            let (d, badge_at, bounds) = match curves[i] {
                Some(p) => (
                    format!(
                        "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                        p[0].0, p[0].1, p[1].0, p[1].1, p[2].0, p[2].1, p[3].0, p[3].1
                    ),
                    bezier(p, 0.35),
                    bounds_of(&p),
                ),
                None => {
                    let mut d = String::new();
                    for (k, (x, y)) in paths[i].iter().enumerate() {
                        d.push_str(&format!("{}{x:.1},{y:.1}", if k == 0 { "M" } else { " L" }));
                    }
                    (d, point_along(&paths[i], 0.5), bounds_of(&paths[i]))
                }
            };
            EdgeGeometry {
                d,
                label_at: label_at[i],
                badge_at,
                bounds,
                ends: [start[i], end[i]],
                points: paths[i].clone(),
                routed: curves[i].is_none(),
            }
        })
        .collect();
    g.width = width;
    g.height = height;
}

/// Places to try for an edge's label, best first: on a curve near its middle (a binding's nearer its
/// queue, where fanned-out curves are a row apart), then along it and a little above or below; on a
/// routed edge, along its longest horizontal runs.
fn candidates(
    path: &[(f64, f64)],
    curve: Option<[(f64, f64); 4]>,
    edge: &super::Edge,
    g: &Graph,
) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let offsets = [0.0, -LABEL_HEIGHT * 0.6, LABEL_HEIGHT * 0.6, -LABEL_HEIGHT * 1.2, LABEL_HEIGHT * 1.2];
    match curve {
        Some(p) => {
            let to_queue = g.nodes[edge.to].kind == NodeKind::Queue;
            let ts: &[f64] = if to_queue {
                &[0.6, 0.5, 0.7, 0.4, 0.8, 0.3, 0.85, 0.2, 0.9, 0.15]
            } else {
                &[0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.15, 0.85]
            };
            for &dy in &offsets {
                for &t in ts {
                    let (x, y) = bezier(p, t);
                    out.push((x, y + dy));
                }
            }
        }
        None => {
            let mut runs: Vec<((f64, f64), (f64, f64))> = path
                .windows(2)
                .map(|w| (w[0], w[1]))
                .filter(|(a, b)| (a.1 - b.1).abs() < 0.5 && (a.0 - b.0).abs() > 1.0)
                .collect();
            broker_core::order::sort_by(&mut runs, |a, b| {
                (b.1 .0 - b.0 .0).abs().total_cmp(&(a.1 .0 - a.0 .0).abs())
            });
            for &dy in &[0.0, -LABEL_HEIGHT * 0.6, LABEL_HEIGHT * 0.6] {
                for (a, b) in &runs {
                    for f in [0.5, 0.3, 0.7, 0.15, 0.85] {
                        out.push((a.0 + (b.0 - a.0) * f, a.1 + dy));
                    }
                }
            }
            for w in path.windows(2) {
                out.push(((w[0].0 + w[1].0) / 2.0, (w[0].1 + w[1].1) / 2.0));
            }
        }
    }
    out
}

/// The point at `share` of a polyline's length.
fn point_along(path: &[(f64, f64)], share: f64) -> (f64, f64) {
    let len = |a: (f64, f64), b: (f64, f64)| ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let total: f64 = path.windows(2).map(|w| len(w[0], w[1])).sum();
    let mut left = total * share;
    for w in path.windows(2) {
        let l = len(w[0], w[1]);
        if l >= left && l > 0.0 {
            let f = left / l;
            return (w[0].0 + (w[1].0 - w[0].0) * f, w[0].1 + (w[1].1 - w[0].1) * f);
        }
        left -= l;
    }
    path.last().copied().unwrap_or((0.0, 0.0))
}

/// Drops the middle of three points in a straight line.
fn simplify(path: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(path.len());
    for p in path {
        if out.len() >= 2 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            let collinear = ((a.0 - b.0).abs() < 1e-9 && (b.0 - p.0).abs() < 1e-9)
                || ((a.1 - b.1).abs() < 1e-9 && (b.1 - p.1).abs() < 1e-9);
            if collinear {
                out.pop();
            }
        }
        out.push(p);
    }
    out
}

/// Boxes already taken, bucketed on a coarse grid so a test looks at its neighbourhood only.
#[derive(Default)]
struct Obstacles {
    cells: BTreeMap<(i64, i64), Vec<[f64; 4]>>,
}

const CELL: f64 = 64.0;

impl Obstacles {
    fn cells_of(b: [f64; 4]) -> impl Iterator<Item = (i64, i64)> {
        let (x0, x1) = ((b[0] / CELL).floor() as i64, (b[2] / CELL).floor() as i64);
        let (y0, y1) = ((b[1] / CELL).floor() as i64, (b[3] / CELL).floor() as i64);
        (x0..=x1).flat_map(move |x| (y0..=y1).map(move |y| (x, y)))
    }

    fn add(&mut self, b: [f64; 4]) {
        for c in Self::cells_of(b) {
            self.cells.entry(c).or_default().push(b);
        }
    }

    fn hits(&self, b: [f64; 4]) -> bool {
        Self::cells_of(b).any(|c| self.cells.get(&c).is_some_and(|v| v.iter().any(|o| meet(*o, b))))
    }
}

/// The routing grid: vertical lines through the gaps between columns (and each route's ends), horizontal
/// lines through the gaps between a column's rows, each route's ends, and lanes under the graph.
struct Grid {
    xs: Vec<f64>,
    ys: Vec<f64>,
    /// Node boxes grown by [`CLEARANCE`].
    boxes: Vec<[f64; 4]>,
    /// The first lane under every node.
    floor: f64,
}

impl Grid {
    fn new(boxes: &[[f64; 4]], ends: impl Iterator<Item = (f64, f64)>) -> Grid {
        let grown: Vec<[f64; 4]> = boxes.iter().map(|b| grow(*b, CLEARANCE)).collect();
        let mut columns: BTreeMap<i64, Vec<[f64; 4]>> = BTreeMap::new();
        for b in boxes {
            columns.entry(b[0].round() as i64).or_default().push(*b);
        }
        let mut xs = Vec::new();
        let lefts: Vec<f64> = columns.keys().map(|&x| x as f64).collect();
        // Three lanes down each gap between columns, so routes that meet there can run side by side.
        for w in lefts.windows(2) {
            let centre = (w[0] + NODE_WIDTH + w[1]) / 2.0;
            xs.extend([centre - LANE_STEP, centre, centre + LANE_STEP]);
        }
        if let Some(&last) = lefts.last() {
            xs.push(last + NODE_WIDTH + CLEARANCE + 6.0);
        }
        let mut ys = Vec::new();
        for col in columns.values_mut() {
            broker_core::order::sort_by(col, |a, b| a[1].total_cmp(&b[1]));
            for w in col.windows(2) {
                if w[1][1] - w[0][3] > 2.0 * CLEARANCE {
                    ys.push((w[0][3] + w[1][1]) / 2.0);
                }
            }
        }
        let lowest = boxes.iter().map(|b| b[3]).fold(0.0, f64::max);
        let floor = lowest + CLEARANCE + LANE_STEP;
        for k in 0..BOTTOM_LANES {
            ys.push(floor + k as f64 * LANE_STEP);
        }
        for (x, y) in ends {
            xs.push(x);
            ys.push(y);
        }
        let sort = |v: &mut Vec<f64>| {
            broker_core::order::sort_by(v, f64::total_cmp);
            v.dedup_by(|a, b| (*a - *b).abs() < 0.5);
        };
        sort(&mut xs);
        sort(&mut ys);
        Grid { xs, ys, boxes: grown, floor }
    }

    fn free(&self, p: (f64, f64), q: (f64, f64)) -> bool {
        !self.boxes.iter().any(|b| segment_crosses(p, q, *b))
    }

    fn index_of(v: &[f64], x: f64) -> Option<usize> {
        v.iter().position(|&a| (a - x).abs() < 0.5)
    }

    /// The cheapest orthogonal path from `s` to `t` (both on the grid) through free segments: length,
    /// plus [`BEND_COST`] a bend and [`SHARED_COST`] a segment another route took (recorded in `used`).
    fn route(
        &self,
        s: (f64, f64),
        t: (f64, f64),
        used: &mut BTreeSet<(usize, usize, usize, usize)>,
    ) -> Option<Vec<(f64, f64)>> {
        let (w, h) = (self.xs.len(), self.ys.len());
        let (sx, sy) = (Self::index_of(&self.xs, s.0)?, Self::index_of(&self.ys, s.1)?);
        let (tx, ty) = (Self::index_of(&self.xs, t.0)?, Self::index_of(&self.ys, t.1)?);
        // State: (x, y, direction 0..4: +x, -x, +y, -y); costs in hundredths.
        let state = |x: usize, y: usize, d: usize| (y * w + x) * 4 + d;
        let mut best = vec![u64::MAX; w * h * 4];
        let mut came: Vec<usize> = vec![usize::MAX; w * h * 4];
        let mut heap = BinaryHeap::new();
        for d in 0..4 {
            best[state(sx, sy, d)] = 0;
            heap.push(Reverse((0u64, state(sx, sy, d))));
        }
        let mut segment_ok: BTreeMap<(usize, usize, usize, usize), bool> = BTreeMap::new();
        let mut goal = None;
        while let Some(Reverse((cost, st))) = heap.pop() {
            if cost > best[st] {
                continue;
            }
            let (cell, d) = (st / 4, st % 4);
            let (x, y) = (cell % w, cell / w);
            if (x, y) == (tx, ty) {
                goal = Some(st);
                break;
            }
            for nd in 0..4 {
                let (nx, ny) = match nd {
                    0 if x + 1 < w => (x + 1, y),
                    1 if x > 0 => (x - 1, y),
                    2 if y + 1 < h => (x, y + 1),
                    3 if y > 0 => (x, y - 1),
                    _ => continue,
                };
                let key = (x.min(nx), y.min(ny), x.max(nx), y.max(ny));
                let ok = *segment_ok
                    .entry(key)
                    .or_insert_with(|| self.free((self.xs[x], self.ys[y]), (self.xs[nx], self.ys[ny])));
                if !ok {
                    continue;
                }
                let len = (self.xs[nx] - self.xs[x]).abs() + (self.ys[ny] - self.ys[y]).abs();
                let mut step = len;
                if nd != d && cost > 0 {
                    step += BEND_COST;
                }
                if used.contains(&key) {
                    step += SHARED_COST;
                }
                let next = cost + (step * 100.0) as u64;
                let ns = state(nx, ny, nd);
                if next < best[ns] {
                    best[ns] = next;
                    came[ns] = st;
                    heap.push(Reverse((next, ns)));
                }
            }
        }
        let mut at = goal?;
        let mut cells = vec![at / 4];
        while came[at] != usize::MAX {
            at = came[at];
            cells.push(at / 4);
        }
        cells.reverse();
        cells.dedup();
        for pair in cells.windows(2) {
            let (a, b) = ((pair[0] % w, pair[0] / w), (pair[1] % w, pair[1] / w));
            used.insert((a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1)));
        }
        Some(cells.into_iter().map(|c| (self.xs[c % w], self.ys[c / w])).collect())
    }
}
