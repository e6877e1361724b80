//! Redis documents (`"model": "redis"`, `docs/redis-documents.md`) on a real redis-server, and their
//! comparison with the engine (`docs/real-broker.md`, "Redis documents").
//!
//! The engine plays the document first, recording every exchange its actors have with the server
//! (`RedisRunOptions::record_wire`: each producer's `LPUSH`/`XADD`/`PUBLISH`, each worker's `BRPOP`,
//! `BLMOVE`, `LREM`, `XREADGROUP`, `XACK`, `XAUTOCLAIM`, each subscriber's `SUBSCRIBE`, heartbeats and
//! reapers, crashes and disconnects). The real run sends the same commands, each actor on a connection of
//! its own (the connection code of [`crate::redis`]), at the same instants in real time, and reads what
//! redis-server answers: the reply, the blocked clients the command served, the messages it handed to
//! subscribers, the clients whose blocking timeout ran out. The actors are deterministic given their
//! replies and instants, so as long as every exchange agrees, real actors would have run the same course:
//! the two runs' lines ([`engine_lines`], [`RealDocumentRun::lines`]) are diffed with the kernel's diff
//! and the allow-list. The checks on the server's state (`list_length`, `stream_length`, `pending`,
//! `max_idle_ms`) are read from redis-server at their instants; the checks counted from the actors'
//! replies (`received`, `processed`, …) follow from the exchanges compared.
//!
//! Normalised: stream ids `redis-server` generates from its clock (`XADD … *`) are replaced by the
//! engine's id of the same entry, and the engine's ids are replaced by the real ones in the commands
//! sent (`XACK`); idle times are compared only through the `max_idle_ms` check's pass or fail.
//!
//! Invariants: the run lasts the document's duration plus bounded waits (every read has
//! [`crate::redis::REPLY_TIMEOUT`]; a timeout or a disconnect is waited for at most a second); the
//! server is reset first (`crate::redis::reset`: persistence defaults, `FLUSHALL`; point it at a server of
//! its own); connections close at the end.

use crate::compare::{AllowEntry, Difference, Line};
use crate::redis::{
    is_blocking, is_pubsub, still_blocked, until_pong, update_subscription_counts, Conn, REPLY_TIMEOUT,
};
use broker_core::redis::scenario::document::CheckSpec;
use broker_core::redis::scenario::{RedisDocument, RedisRun, WireStep};
use broker_core::redis::Reply;
use sim_kernel::checks::CheckStatus;
use sim_kernel::clock::VirtualTime;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// The two sides' names, as the differences carry them.
const SIDES: [&str; 2] = ["engine", "redis-server"];

/// How long a blocked client's end (its timeout, a disconnect) is waited for after its instant: Redis
/// looks at timeouts on its event loop, at least 10 times a second.
const GRACE: Duration = Duration::from_secs(1);

/// Why `doc` cannot be played faithfully on a real redis-server at `speed`, one sentence per reason
/// naming the document's place.
pub fn refusals(doc: &RedisDocument, speed: u64) -> Vec<String> {
    let mut out = Vec::new();
    for (i, f) in doc.faults.iter().enumerate() {
        if f.server_restart {
            out.push(format!(
                "faults[{i}].server_restart: restarting redis-server needs its process, and the runner plays \
                 on a server it does not own (--broker); the restart is compared by the durability programs"
            ));
        }
    }
    for (i, f) in doc.faults.iter().enumerate() {
        if f.subscriber_stall.is_some() {
            out.push(format!(
                "faults[{i}].subscriber_stall: a real client that stops reading has its bytes taken by the \
                 kernel's socket buffers (hundreds of KB on loopback) before redis-server's output buffer \
                 grows, so when the limit cuts it off depends on the machine; the limits are compared by the \
                 program pubsub-output-buffer-limit, whose messages pass them within one event-loop turn"
            ));
        }
    }
    if speed != 1 {
        out.push(format!(
            "--speed {speed}: redis-server keeps its own time (key expiry, idle times, blocking timeouts); \
             run Redis documents with --speed 1"
        ));
    }
    out
}

/// A real run of a document: its lines, in the order of the engine's exchanges.
pub struct RealDocumentRun {
    pub lines: Vec<Line>,
}

fn one_line(r: &Reply) -> String {
    r.render().trim_end().lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

fn at_text(at: VirtualTime) -> String {
    let ms = at.as_millis();
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

/// An extended `XPENDING` reply with each entry's idle time shown as `<idle>`: the real one is the
/// engine's plus the milliseconds of real round trips (a claimer's `XPENDING … IDLE ms` filter and its
/// `XCLAIM` are compared whole).
fn without_idle(argv: &[String], reply: &Reply) -> Reply {
    match reply {
        Reply::Array(entries) if argv.len() > 3 && argv[0].eq_ignore_ascii_case("XPENDING") => Reply::Array(
            entries
                .iter()
                .map(|e| match e {
                    Reply::Array(parts) if parts.len() == 4 => {
                        let mut parts = parts.clone();
                        parts[2] = Reply::Status("<idle>".to_string());
                        Reply::Array(parts)
                    }
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The lines of one command step. `served` and `pushes` are sorted by actor (each actor's own in
/// order): replies to different clients have no order a client can see.
fn command_lines(
    n: u32,
    at: VirtualTime,
    actor: &str,
    argv: &[String],
    replies: &[Reply],
    mut served: Vec<(String, Reply)>,
    mut pushes: Vec<(String, Reply)>,
) -> Vec<Line> {
    let reply = if replies.is_empty() {
        "(blocked)".to_string()
    } else {
        replies.iter().map(|r| one_line(&without_idle(argv, r))).collect::<Vec<_>>().join(" | ")
    };
    let t = at_text(at);
    let mut out = vec![Line { step_line: n, text: format!("{t} {actor}: {} -> {reply}", argv.join(" ")) }];
    served.sort_by(|a, b| a.0.cmp(&b.0));
    pushes.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, r) in served {
        out.push(Line { step_line: n, text: format!("{t}   served {name}: {}", one_line(&r)) });
    }
    for (name, r) in pushes {
        out.push(Line { step_line: n, text: format!("{t}   message to {name}: {}", one_line(&r)) });
    }
    out
}

fn timeout_lines(n: u32, at: VirtualTime, mut served: Vec<(String, Reply)>) -> Vec<Line> {
    served.sort_by(|a, b| a.0.cmp(&b.0));
    let t = at_text(at);
    served
        .into_iter()
        .map(|(name, r)| Line { step_line: n, text: format!("{t} timeout of {name}: {}", one_line(&r)) })
        .collect()
}

fn disconnect_line(n: u32, at: VirtualTime, actor: &str) -> Line {
    Line { step_line: n, text: format!("{} {actor}: connection closed", at_text(at)) }
}

/// The checks read from the server's state: (index, instant), by instant.
fn state_checks(run: &RedisRun) -> Vec<(usize, VirtualTime)> {
    let end = run.end_time();
    let mut out: Vec<(usize, VirtualTime)> = run
        .document()
        .checks
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.list_length.is_some()
                || c.stream_length.is_some()
                || c.pending.is_some()
                || c.max_idle_ms.is_some()
        })
        .map(|(i, c)| (i, c.at.map_or(end, |a| VirtualTime::from_millis(a.0))))
        .collect();
    out.sort_by_key(|(i, at)| (*at, *i));
    out
}

/// A state check's line: its observed number, or for `max_idle_ms` (idle times differ by the real
/// clock's milliseconds) whether it held.
fn check_line(i: usize, spec: &CheckSpec, description: &str, observed: &str, pass: bool) -> Line {
    let value = if spec.max_idle_ms.is_some() {
        (if pass { "holds" } else { "does not hold" }).to_string()
    } else {
        observed.to_string()
    };
    Line { step_line: 0, text: format!("check {i} ({description}): {value}") }
}

/// The engine run's lines (the run built with `record_wire` and played to its end).
pub fn engine_lines(run: &RedisRun) -> Result<Vec<Line>, String> {
    let wire = run.wire().ok_or("the engine's run did not record its exchanges (record_wire)")?;
    let mut out = Vec::new();
    for (k, step) in wire.iter().enumerate() {
        let n = k as u32 + 1;
        match step {
            WireStep::Command { at, actor, argv, replies, served, pushes, .. } => {
                let named = |v: &[(usize, Reply)]| -> Vec<(String, Reply)> {
                    v.iter().map(|(c, r)| (run.client_name(*c), r.clone())).collect()
                };
                out.extend(command_lines(n, *at, actor, argv, replies, named(served), named(pushes)));
            }
            WireStep::Timeouts { at, served } => {
                let named = served.iter().map(|(c, r)| (run.client_name(*c), r.clone())).collect();
                out.extend(timeout_lines(n, *at, named));
            }
            WireStep::Disconnect { at, actor, .. } => out.push(disconnect_line(n, *at, actor)),
            WireStep::Restart { .. } => return Err("the run restarts the server".into()),
        }
    }
    let results = run.check_results();
    for (i, _) in state_checks(run) {
        let (spec, r) = (&run.document().checks[i], &results[i]);
        out.push(check_line(i, spec, &r.description, &r.observed, r.status == CheckStatus::Pass));
    }
    Ok(out)
}

/// Compares the engine's lines and the real run's for document `name`; differences an allow-list entry
/// covers (`scenario = name`, `line` the exchange's number or 0 for a check, `contains` a substring)
/// carry its reason.
pub fn compare(name: &str, engine: &[Line], real: &[Line], allow: &[AllowEntry]) -> Vec<Difference> {
    let mut d = sim_kernel::diff::diff(engine, real, SIDES);
    sim_kernel::diff::apply_allow_list(name, &mut d, allow);
    d
}

/// Stream ids: the engine's and redis-server's of the same entries.
#[derive(Default)]
struct Ids {
    to_real: HashMap<String, String>,
    to_engine: HashMap<String, String>,
}

impl Ids {
    fn learn(&mut self, engine: &Reply, real: &Reply) {
        if let (Reply::Bulk(e), Reply::Bulk(r)) = (engine, real) {
            let (e, r) = (String::from_utf8_lossy(e).into_owned(), String::from_utf8_lossy(r).into_owned());
            self.to_real.insert(e.clone(), r.clone());
            self.to_engine.insert(r, e);
        }
    }

    fn real_arg(&self, a: &str) -> Vec<u8> {
        self.to_real.get(a).map_or(a, String::as_str).as_bytes().to_vec()
    }

    /// An `XADD … MINID [~] threshold` threshold of the engine's clock, as one of the real server's that
    /// trims the same entries: the real id of the oldest entry the engine's threshold keeps (the first
    /// at or after it), or just past the newest real id when it keeps none of them. The threshold falls
    /// between entries' milliseconds, which the two clocks give differently (real ones drift by round
    /// trips), so only the entries it separates can be carried over.
    fn real_threshold(&self, threshold: &str) -> Vec<u8> {
        let Some(t) = parse_id(threshold) else { return threshold.as_bytes().to_vec() };
        let mut known: Vec<((u64, u64), (u64, u64))> =
            self.to_real.iter().filter_map(|(e, r)| Some((parse_id(e)?, parse_id(r)?))).collect();
        known.sort();
        match known.iter().find(|(e, _)| *e >= t) {
            Some((_, (ms, seq))) => format!("{ms}-{seq}").into_bytes(),
            None => match known.last() {
                Some((_, (ms, seq))) => format!("{ms}-{}", seq + 1).into_bytes(),
                None => threshold.as_bytes().to_vec(),
            },
        }
    }

    /// `argv` with the engine's stream ids replaced by the real ones (an `XADD`'s `MINID` threshold by
    /// [`Ids::real_threshold`]).
    fn real_argv(&self, argv: &[String]) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = argv.iter().map(|a| self.real_arg(a)).collect();
        if argv.first().is_some_and(|c| c.eq_ignore_ascii_case("XADD")) {
            if let Some(i) = argv.iter().position(|a| a.eq_ignore_ascii_case("MINID")) {
                let at = if argv.get(i + 1).is_some_and(|a| a == "~" || a == "=") { i + 2 } else { i + 1 };
                if let Some(t) = argv.get(at) {
                    out[at] = self.real_threshold(t);
                }
            }
        }
        out
    }

    fn engine_reply(&self, r: &Reply) -> Reply {
        match r {
            Reply::Bulk(b) => match self.to_engine.get(String::from_utf8_lossy(b).as_ref()) {
                Some(e) => Reply::Bulk(e.as_bytes().to_vec()),
                None => r.clone(),
            },
            Reply::Array(items) => Reply::Array(items.iter().map(|i| self.engine_reply(i)).collect()),
            other => other.clone(),
        }
    }
}

/// A stream id `ms-seq` as numbers.
fn parse_id(text: &str) -> Option<(u64, u64)> {
    let (ms, seq) = text.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// The real side: connections per engine client, who is blocked and who is subscribed.
struct Player<'a> {
    run: &'a RedisRun,
    addr: String,
    control: Conn,
    conns: BTreeMap<usize, Conn>,
    /// Clients blocked on the real server, in the order they blocked.
    blocked: Vec<usize>,
    /// Clients in subscribe mode: their channel-and-pattern and shard-channel counts.
    subscribed: BTreeMap<usize, [i64; 2]>,
    ids: Ids,
    started: Instant,
}

impl Player<'_> {
    fn sleep_until(&self, at: VirtualTime) {
        let target = self.started + Duration::from_millis(at.as_millis());
        let now = Instant::now();
        if target > now {
            std::thread::sleep(target - now);
        }
    }

    fn conn(&mut self, client: usize) -> Result<&mut Conn, String> {
        if !self.conns.contains_key(&client) {
            self.conns.insert(client, Conn::open(&self.addr)?);
        }
        Ok(self.conns.get_mut(&client).expect("opened"))
    }

    /// The blocked clients the server no longer blocks, with their replies. With `expect`, waits up to
    /// [`GRACE`] for those clients' blocks to end (a timeout the server has yet to notice).
    fn served(&mut self, expect: &[usize]) -> Result<Vec<(String, Reply)>, String> {
        let give_up = Instant::now() + GRACE;
        loop {
            let ids: Vec<i64> = self.blocked.iter().map(|c| self.conns[c].id).collect();
            let still = still_blocked(&mut self.control, &ids)?;
            let waiting =
                expect.iter().any(|c| self.blocked.contains(c) && still.contains(&self.conns[c].id));
            if waiting && Instant::now() < give_up {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            let mut out = Vec::new();
            let mut keep = Vec::new();
            for c in std::mem::take(&mut self.blocked) {
                let conn = self.conns.get_mut(&c).expect("open");
                if still.contains(&conn.id) {
                    keep.push(c);
                } else {
                    let r = conn.read()?;
                    out.push((self.run.client_name(c), self.ids.engine_reply(&r)));
                }
            }
            self.blocked = keep;
            return Ok(out);
        }
    }

    /// Messages subscribers received, except `actor`'s (read with its own command).
    fn pushes(&mut self, actor: usize) -> Result<Vec<(String, Reply)>, String> {
        let mut out = Vec::new();
        let clients: Vec<usize> = self.subscribed.keys().copied().filter(|c| *c != actor).collect();
        for c in clients {
            let conn = self.conns.get_mut(&c).expect("open");
            for r in until_pong(conn, false)? {
                out.push((self.run.client_name(c), self.ids.engine_reply(&r)));
            }
        }
        Ok(out)
    }

    /// Sends one command of `client`; its replies (empty: blocked).
    fn command(&mut self, client: usize, line: u32, argv: &[String]) -> Result<Vec<Reply>, String> {
        let real = self.ids.real_argv(argv);
        let in_subscribe_mode = self.subscribed.contains_key(&client);
        let conn = self.conn(client)?;
        conn.send(&real)?;
        if is_pubsub(&real) || in_subscribe_mode {
            let own_ping = real[0].eq_ignore_ascii_case(b"PING");
            let replies = until_pong(conn, own_ping)?;
            let counts = self.subscribed.entry(client).or_default();
            update_subscription_counts(&replies, counts);
            if counts.iter().all(|n| *n == 0) {
                self.subscribed.remove(&client);
            }
            return Ok(replies);
        }
        if !is_blocking(&real) {
            return Ok(vec![conn.read()?]);
        }
        let id = conn.id;
        let waited_from = Instant::now();
        loop {
            let conn = self.conns.get_mut(&client).expect("open");
            if conn.has_reply(Duration::from_millis(20))? {
                return Ok(vec![conn.read()?]);
            }
            if still_blocked(&mut self.control, &[id])?.contains(&id) {
                self.blocked.push(client);
                return Ok(Vec::new());
            }
            if waited_from.elapsed() > REPLY_TIMEOUT {
                return Err(format!("exchange {line}: no reply and not blocked"));
            }
        }
    }

    /// Closes `client`'s connection and waits until the server has let it go.
    fn disconnect(&mut self, client: usize) -> Result<(), String> {
        self.blocked.retain(|c| *c != client);
        self.subscribed.remove(&client);
        let Some(conn) = self.conns.remove(&client) else { return Ok(()) };
        let id = conn.id;
        conn.reader.get_ref().shutdown(std::net::Shutdown::Both).ok();
        drop(conn);
        let give_up = Instant::now() + GRACE;
        loop {
            let argv = [b"CLIENT".to_vec(), b"LIST".to_vec(), b"ID".to_vec(), id.to_string().into_bytes()];
            match self.control.call(&argv)? {
                Reply::Bulk(text) if text.iter().all(u8::is_ascii_whitespace) => return Ok(()),
                _ if Instant::now() >= give_up => {
                    return Err(format!("redis-server kept client {id} a second after it disconnected"))
                }
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }

    fn int(&mut self, argv: &[&str]) -> Result<Reply, String> {
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        self.control.call(&argv)
    }

    /// Reads check `i` from the server.
    fn check(&mut self, i: usize) -> Result<Line, String> {
        let spec = self.run.document().checks[i].clone();
        let description = self.run.check_results()[i].description.clone();
        let number = |r: Reply| match r {
            Reply::Int(n) => n.to_string(),
            other => one_line(&other),
        };
        let observed = if let Some(k) = &spec.list_length {
            number(self.int(&["LLEN", k.key.as_str()])?)
        } else if let Some(k) = &spec.stream_length {
            number(self.int(&["XLEN", k.key.as_str()])?)
        } else if let Some(g) = spec.pending.as_ref().or(spec.max_idle_ms.as_ref()) {
            let mut argv = vec!["XPENDING", g.stream.as_str(), g.group.as_str(), "-", "+", "1000000"];
            if let Some(c) = &g.consumer {
                argv.push(c.as_str());
            }
            match self.int(&argv)? {
                // XPENDING's extended form: [id, consumer, idle ms, deliveries] per entry.
                Reply::Array(entries) if spec.pending.is_some() => entries.len().to_string(),
                Reply::Array(entries) => entries
                    .iter()
                    .filter_map(|e| match e {
                        Reply::Array(f) => match f.get(2) {
                            Some(Reply::Int(idle)) => Some(*idle),
                            _ => None,
                        },
                        _ => None,
                    })
                    .max()
                    .unwrap_or(0)
                    .to_string(),
                // A group gone (a restart, a destroy) has nothing pending, as the engine counts.
                Reply::Error(e) if e.starts_with("NOGROUP") => "0".to_string(),
                other => one_line(&other),
            }
        } else {
            return Err(format!("checks[{i}] is not read from the server"));
        };
        let pass = observed.parse::<u64>().is_ok_and(|n| spec.expect.is_some_and(|e| e.holds(n)));
        Ok(check_line(i, &spec, &description, &observed, pass))
    }
}

/// Plays the exchanges of `run` (built with `record_wire`, played to its end) on the redis-server at
/// `uri` (`redis://HOST:PORT`), in real time.
pub fn run_document_real(run: &RedisRun, uri: &str) -> Result<RealDocumentRun, String> {
    let refused = refusals(run.document(), 1);
    if !refused.is_empty() {
        return Err(format!("cannot be played on redis-server: {}", refused.join("; ")));
    }
    let wire = run.wire().ok_or("the engine's run did not record its exchanges (record_wire)")?;
    let addr =
        uri.strip_prefix("redis://").ok_or("a Redis document runs against --broker redis://HOST:PORT")?;
    let addr = addr.trim_end_matches('/').to_string();
    let mut control = Conn::open(&addr)?;
    crate::redis::reset(&mut control)?;
    let mut p = Player {
        run,
        addr,
        control,
        conns: BTreeMap::new(),
        blocked: Vec::new(),
        subscribed: BTreeMap::new(),
        ids: Ids::default(),
        started: Instant::now(),
    };
    let mut checks = state_checks(run).into_iter().peekable();
    let mut lines = Vec::new();
    // Check lines go last, in the engine's order (the instant a check is read at is its own).
    let mut check_lines = Vec::new();
    for (k, step) in wire.iter().enumerate() {
        let n = k as u32 + 1;
        // A check at T is decided once everything due at T has happened.
        while let Some((i, at)) = checks.next_if(|(_, at)| *at < step.at()) {
            p.sleep_until(at);
            check_lines.push(p.check(i)?);
        }
        p.sleep_until(step.at());
        p.play(n, step, &mut lines).map_err(|e| format!("exchange {n} ({}): {e}", step_text(step)))?;
    }
    for (i, at) in checks {
        p.sleep_until(at);
        check_lines.push(p.check(i)?);
    }
    lines.extend(check_lines);
    Ok(RealDocumentRun { lines })
}

/// A step as the errors name it.
fn step_text(step: &WireStep) -> String {
    match step {
        WireStep::Command { at, actor, argv, .. } => format!("{} {actor}: {}", at_text(*at), argv.join(" ")),
        WireStep::Timeouts { at, .. } => format!("{} timeouts", at_text(*at)),
        WireStep::Disconnect { at, actor, .. } => format!("{} {actor} disconnects", at_text(*at)),
        WireStep::Restart { at } => format!("{} restart", at_text(*at)),
    }
}

impl Player<'_> {
    /// Plays one step on the server; its lines go to `lines`.
    fn play(&mut self, n: u32, step: &WireStep, lines: &mut Vec<Line>) -> Result<(), String> {
        let p = self;
        match step {
            WireStep::Command { at, client, actor, argv, replies, .. } => {
                let real = p.command(*client, n, argv)?;
                if argv[0].eq_ignore_ascii_case("XADD") {
                    if let (Some(e), Some(r)) = (replies.first(), real.first()) {
                        p.ids.learn(e, r);
                    }
                }
                let real: Vec<Reply> = real.iter().map(|r| p.ids.engine_reply(r)).collect();
                let served = p.served(&[])?;
                let pushes = p.pushes(*client)?;
                lines.extend(command_lines(n, *at, actor, argv, &real, served, pushes));
            }
            WireStep::Timeouts { at, served } => {
                let expect: Vec<usize> = served.iter().map(|(c, _)| *c).collect();
                let real = p.served(&expect)?;
                lines.extend(timeout_lines(n, *at, real));
            }
            WireStep::Disconnect { at, client, actor } => {
                p.disconnect(*client)?;
                lines.push(disconnect_line(n, *at, actor));
            }
            WireStep::Restart { .. } => return Err("the run restarts the server".into()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_stream_ids_become_the_engines_and_the_engines_go_out_as_real_ones() {
        let mut ids = Ids::default();
        ids.learn(&Reply::bulk("1000-0"), &Reply::bulk("1765090000123-0"));
        assert_eq!(ids.real_arg("1000-0"), b"1765090000123-0".to_vec());
        assert_eq!(ids.real_arg("0-0"), b"0-0".to_vec());
        let real = Reply::Array(vec![Reply::bulk("1765090000123-0"), Reply::bulk("other")]);
        assert_eq!(ids.engine_reply(&real), Reply::Array(vec![Reply::bulk("1000-0"), Reply::bulk("other")]));
    }

    #[test]
    fn a_minid_threshold_goes_out_as_the_real_id_of_the_oldest_entry_it_keeps() {
        let mut ids = Ids::default();
        ids.learn(&Reply::bulk("1700000000500-0"), &Reply::bulk("1765090000503-0"));
        ids.learn(&Reply::bulk("1700000001000-0"), &Reply::bulk("1765090001007-0"));
        let argv = |t: &str| -> Vec<String> {
            ["XADD", "s", "MINID", "~", t, "*", "body", "x"].iter().map(|a| a.to_string()).collect()
        };
        assert_eq!(ids.real_argv(&argv("1700000000700-0"))[4], b"1765090001007-0".to_vec());
        assert_eq!(ids.real_argv(&argv("1700000000500-0"))[4], b"1765090000503-0".to_vec());
        assert_eq!(ids.real_argv(&argv("1700000001001-0"))[4], b"1765090001007-1".to_vec());
        assert_eq!(ids.real_argv(&argv("1700000000001-0"))[4], b"1765090000503-0".to_vec());
        // Other ids and other commands as before.
        assert_eq!(ids.real_argv(&argv("1700000000001-0"))[1], b"s".to_vec());
        let xack: Vec<String> = ["XACK", "s", "g", "1700000000500-0"].iter().map(|a| a.to_string()).collect();
        assert_eq!(ids.real_argv(&xack)[3], b"1765090000503-0".to_vec());
    }

    #[test]
    fn a_document_that_restarts_the_server_or_runs_faster_is_refused_at_its_place() {
        let text = r#"{"brokerlab": 2, "model": "redis", "duration": "5s",
            "faults": [{"at": "1s", "server_restart": true}]}"#;
        let doc = RedisDocument::parse(text).unwrap();
        let r = refusals(&doc, 2);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].starts_with("faults[0].server_restart: "), "{r:?}");
        assert!(r[1].starts_with("--speed 2: "), "{r:?}");
    }
}
