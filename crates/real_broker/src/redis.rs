//! A Redis program (`docs/redis-programs.md`) on a real redis-server over RESP2: one TCP connection per
//! program client (so a `BRPOP` really blocks while another client pushes), real waiting for `sleep`,
//! and the same transcript as the engine's (`broker_core::redis::program::Transcript`).
//!
//! How a wait is observed without timing guesses: a control connection asks `CLIENT LIST ID …` after
//! every statement; a client that no longer has the `b` flag has been served or timed out (Redis
//! replies to a served client before it replies to the command that served it), so its reply is read
//! then. A blocking command's own outcome is its reply, or the `b` flag when no reply has come.
//! The server is reset before the program ([`reset`]): point it at a server of its own.
//!
//! Invariants: every socket read has a timeout (nothing hangs on a silent server); replies are parsed
//! with bounded sizes; connections are closed at the end.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use broker_core::redis::program::{Program, StatementKind, Transcript};
use broker_core::redis::Reply;

pub(crate) const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BULK: usize = 64 << 20;

pub(crate) struct Conn {
    pub(crate) reader: BufReader<TcpStream>,
    pub(crate) id: i64,
}

impl Conn {
    pub(crate) fn open(addr: &str) -> Result<Conn, String> {
        let s = TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        s.set_read_timeout(Some(REPLY_TIMEOUT)).map_err(|e| e.to_string())?;
        s.set_nodelay(true).ok();
        let mut c = Conn { reader: BufReader::new(s), id: 0 };
        c.id = match c.call(&[b"CLIENT".to_vec(), b"ID".to_vec()])? {
            Reply::Int(i) => i,
            other => return Err(format!("CLIENT ID replied {other:?}")),
        };
        Ok(c)
    }

    pub(crate) fn send(&mut self, argv: &[Vec<u8>]) -> Result<(), String> {
        let mut buf = format!("*{}\r\n", argv.len()).into_bytes();
        for a in argv {
            buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            buf.extend_from_slice(a);
            buf.extend_from_slice(b"\r\n");
        }
        self.reader.get_mut().write_all(&buf).map_err(|e| format!("write: {e}"))
    }

    pub(crate) fn call(&mut self, argv: &[Vec<u8>]) -> Result<Reply, String> {
        self.send(argv)?;
        self.read()
    }

    /// Whether a reply has started to arrive within `wait`.
    pub(crate) fn has_reply(&mut self, wait: Duration) -> Result<bool, String> {
        if !self.reader.buffer().is_empty() {
            return Ok(true);
        }
        let s = self.reader.get_ref();
        s.set_read_timeout(Some(wait)).map_err(|e| e.to_string())?;
        let mut one = [0u8; 1];
        let r = s.peek(&mut one);
        s.set_read_timeout(Some(REPLY_TIMEOUT)).map_err(|e| e.to_string())?;
        match r {
            Ok(0) => Err("the server closed the connection".into()),
            Ok(_) => Ok(true),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                Ok(false)
            }
            Err(e) => Err(format!("read: {e}")),
        }
    }

    fn line(&mut self) -> Result<String, String> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).map_err(|e| format!("read: {e}"))?;
        if !line.ends_with(b"\r\n") {
            return Err("the server closed the connection mid-reply".into());
        }
        line.truncate(line.len() - 2);
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    pub(crate) fn read(&mut self) -> Result<Reply, String> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(1.min(line.len()));
        let num = || rest.parse::<i64>().map_err(|_| format!("bad RESP length {rest:?}"));
        Ok(match kind {
            "+" => Reply::Status(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Int(num()?),
            "$" => {
                let n = num()?;
                if n < 0 {
                    return Ok(Reply::Nil);
                }
                let n = n as usize;
                if n > MAX_BULK {
                    return Err(format!("a bulk string of {n} bytes"));
                }
                let mut buf = vec![0u8; n + 2];
                self.reader.read_exact(&mut buf).map_err(|e| format!("read: {e}"))?;
                buf.truncate(n);
                Reply::Bulk(buf)
            }
            "*" => {
                let n = num()?;
                if n < 0 {
                    return Ok(Reply::NilArray);
                }
                let mut items = Vec::with_capacity((n as usize).min(1024));
                for _ in 0..n {
                    items.push(self.read()?);
                }
                Reply::Array(items)
            }
            _ => return Err(format!("not RESP2: {line:?}")),
        })
    }
}

pub(crate) fn is_pubsub(argv: &[Vec<u8>]) -> bool {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    matches!(
        name.as_str(),
        "subscribe" | "psubscribe" | "unsubscribe" | "punsubscribe" | "ssubscribe" | "sunsubscribe"
    )
}

fn is_pong(r: &Reply) -> bool {
    match r {
        Reply::Status(s) => s == "PONG",
        Reply::Array(items) => {
            items.len() == 2 && items[0] == Reply::bulk("pong") && items[1] == Reply::bulk("")
        }
        _ => false,
    }
}

/// Sends `PING` and reads up to its reply: what came before it on this connection. In subscribe mode
/// Redis answers `PING` after every message already queued for the client, so this reads exactly the
/// replies and messages sent so far. `skip_first` keeps the first reply whatever it is (a `PING` of the
/// program's own).
pub(crate) fn until_pong(conn: &mut Conn, skip_first: bool) -> Result<Vec<Reply>, String> {
    conn.send(&[b"PING".to_vec()])?;
    let mut out = Vec::new();
    if skip_first {
        out.push(conn.read()?);
    }
    loop {
        let r = conn.read()?;
        if is_pong(&r) {
            return Ok(out);
        }
        if out.len() > 100_000 {
            return Err("more than 100,000 messages before PONG".into());
        }
        out.push(r);
    }
}

/// Updates a client's subscription counts from the (un)subscribe confirmations in `replies`: `[0]`
/// channels and patterns, `[1]` shard channels (Redis counts them apart; the client is in subscribe
/// mode while either is above 0).
pub(crate) fn update_subscription_counts(replies: &[Reply], counts: &mut [i64; 2]) {
    for r in replies {
        if let Reply::Array(items) = r {
            if let [Reply::Bulk(kind), _, Reply::Int(n)] = items.as_slice() {
                if kind.ends_with(b"subscribe") {
                    counts[usize::from(kind.starts_with(b"s"))] = *n;
                }
            }
        }
    }
}

pub(crate) fn is_blocking(argv: &[Vec<u8>]) -> bool {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    matches!(
        name.as_str(),
        "blpop"
            | "brpop"
            | "blmove"
            | "brpoplpush"
            | "bzpopmin"
            | "bzpopmax"
            | "blmpop"
            | "xread"
            | "xreadgroup"
    )
}

/// A blocking command's timeout in seconds: `XREAD`/`XREADGROUP`'s `BLOCK` milliseconds, or the other
/// commands' last argument (seconds).
fn block_timeout_secs(argv: &[Vec<u8>]) -> Option<f64> {
    let text = |a: &Vec<u8>| std::str::from_utf8(a).ok().and_then(|a| a.parse::<f64>().ok());
    if argv[0].eq_ignore_ascii_case(b"XREAD") || argv[0].eq_ignore_ascii_case(b"XREADGROUP") {
        let at = argv.iter().position(|a| a.eq_ignore_ascii_case(b"BLOCK"))?;
        return argv.get(at + 1).and_then(text).map(|ms| ms / 1000.0);
    }
    argv.last().and_then(text)
}

/// The ids of `clients` that Redis still has blocked.
pub(crate) fn still_blocked(control: &mut Conn, ids: &[i64]) -> Result<Vec<i64>, String> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut argv = vec![b"CLIENT".to_vec(), b"LIST".to_vec(), b"ID".to_vec()];
    argv.extend(ids.iter().map(|i| i.to_string().into_bytes()));
    let Reply::Bulk(text) = control.call(&argv)? else {
        return Err("CLIENT LIST did not reply a string".into());
    };
    let text = String::from_utf8_lossy(&text);
    Ok(text
        .lines()
        .filter(|l| l.split(' ').any(|f| f.strip_prefix("flags=").is_some_and(|v| v.contains('b'))))
        .filter_map(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")).and_then(|v| v.parse().ok()))
        .collect())
}

/// Whether the server has let client `id` go (an output buffer limit closed it): its connection failed,
/// and within a second `CLIENT LIST ID` no longer lists it.
fn closed_by_server(control: &mut Conn, id: i64) -> Result<bool, String> {
    let until = Instant::now() + Duration::from_secs(1);
    loop {
        let argv = [b"CLIENT".to_vec(), b"LIST".to_vec(), b"ID".to_vec(), id.to_string().into_bytes()];
        let Reply::Bulk(text) = control.call(&argv)? else {
            return Err("CLIENT LIST did not reply a string".into());
        };
        if text.is_empty() {
            return Ok(true);
        }
        if Instant::now() > until {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Puts the server in the state the engine starts in: redis-server's default persistence
/// configuration (`broker_core::redis::persist`) and output buffer limits (`broker_core::redis::obuf`),
/// then `FLUSHALL`, which with save points also writes
/// an empty RDB file, so a program's `DEBUG RELOAD NOSAVE` before its first save loads nothing, as on
/// the engine. An earlier program may have left `appendonly yes`, other save points or a dump file.
pub(crate) fn reset(control: &mut Conn) -> Result<(), String> {
    let limits = broker_core::redis::obuf::Limits::default().config_value();
    let config = [
        "CONFIG",
        "SET",
        "save",
        "3600 1 300 100 60 10000",
        "appendonly",
        "no",
        "appendfsync",
        "everysec",
        "client-output-buffer-limit",
        &limits,
    ];
    match control.call(&config.map(|a| a.as_bytes().to_vec()))? {
        Reply::Status(s) if s == "OK" => {}
        other => return Err(format!("CONFIG SET replied {other:?}")),
    }
    control.call(&[b"FLUSHALL".to_vec()])?;
    Ok(())
}

/// Plays `program` on the server at `uri` (`redis://HOST:PORT`) and returns its transcript text.
pub fn run(uri: &str, program: &Program) -> Result<String, String> {
    let addr =
        uri.strip_prefix("redis://").ok_or("a Redis program runs against --broker redis://HOST:PORT")?;
    let addr = addr.trim_end_matches('/');
    let mut control = Conn::open(addr)?;
    reset(&mut control)?;
    let names = &program.clients;
    let mut conns: Vec<Option<Conn>> = (0..names.len()).map(|_| None).collect();
    // Blocked clients in blocking order, with the real instant their timeout ends (None: forever).
    let mut blocked: Vec<(usize, Option<Instant>)> = Vec::new();
    let mut t = Transcript::new(names.len());
    let mut subscribed = vec![false; names.len()];
    let mut counts = vec![[0i64; 2]; names.len()];
    for s in &program.statements {
        match &s.kind {
            StatementKind::Client(_) => continue,
            StatementKind::Sleep(ms) => {
                t.sleep(&s.text);
                std::thread::sleep(Duration::from_millis(*ms));
            }
            StatementKind::Command(argv) => {
                t.statement(&names[s.client], &s.text);
                if let Some(line) = t.is_blocked(s.client) {
                    t.still_blocked(line);
                    continue;
                }
                if conns[s.client].is_none() {
                    conns[s.client] = Some(Conn::open(addr)?);
                }
                let conn = conns[s.client].as_mut().expect("opened");
                conn.send(argv)?;
                if is_pubsub(argv) || subscribed[s.client] {
                    let own_ping = argv[0].eq_ignore_ascii_case(b"PING");
                    let replies = until_pong(conn, own_ping)?;
                    update_subscription_counts(&replies, &mut counts[s.client]);
                    subscribed[s.client] = counts[s.client].iter().any(|n| *n > 0);
                    replies.iter().for_each(|r| t.reply(r));
                } else if is_blocking(argv) {
                    let id = conn.id;
                    let waited_from = Instant::now();
                    loop {
                        if conn.has_reply(Duration::from_millis(20))? {
                            let r = conn.read()?;
                            t.reply(&r);
                            break;
                        }
                        if still_blocked(&mut control, &[id])?.contains(&id) {
                            let secs = block_timeout_secs(argv);
                            let until =
                                secs.filter(|s| *s > 0.0).map(|s| waited_from + Duration::from_secs_f64(s));
                            blocked.push((s.client, until));
                            t.blocked(s.client, s.line);
                            break;
                        }
                        if waited_from.elapsed() > REPLY_TIMEOUT {
                            return Err(format!("line {}: no reply and not blocked", s.line));
                        }
                    }
                } else {
                    let r = conn.read()?;
                    t.reply(&r);
                }
            }
        }
        // Which waits ended. After a sleep, a timeout that is due is given up to a second to be noticed
        // (Redis checks timeouts on its event loop, at least 10 times a second).
        let give_up = Instant::now() + Duration::from_secs(1);
        loop {
            let ids: Vec<i64> = blocked.iter().map(|(c, _)| conns[*c].as_ref().expect("open").id).collect();
            let still = still_blocked(&mut control, &ids)?;
            let due = blocked.iter().any(|(c, until)| {
                until.is_some_and(|u| u <= Instant::now())
                    && still.contains(&conns[*c].as_ref().expect("open").id)
            });
            if due && matches!(s.kind, StatementKind::Sleep(_)) && Instant::now() < give_up {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            let mut woken = Vec::new();
            let mut keep = Vec::new();
            for (c, until) in blocked.drain(..) {
                let conn = conns[c].as_mut().expect("open");
                if still.contains(&conn.id) {
                    keep.push((c, until));
                } else {
                    woken.push((c, conn.read()?));
                }
            }
            blocked = keep;
            t.unblocked(names, woken);
            break;
        }
        let mut pushes = Vec::new();
        let mut closed = Vec::new();
        for (c, on) in subscribed.iter().enumerate() {
            if *on {
                let conn = conns[c].as_mut().expect("open");
                match until_pong(conn, false) {
                    Ok(replies) => pushes.extend(replies.into_iter().map(|r| (c, r))),
                    Err(e) => {
                        let id = conn.id;
                        if !closed_by_server(&mut control, id)? {
                            return Err(format!("line {}: {e}", s.line));
                        }
                        closed.push(c);
                    }
                }
            }
        }
        t.pushed(names, &pushes);
        for &c in &closed {
            conns[c] = None;
            subscribed[c] = false;
            counts[c] = [0, 0];
        }
        t.closed(names, closed);
    }
    t.finish(names);
    Ok(t.text())
}

#[cfg(test)]
mod tests {
    use super::block_timeout_secs;

    fn argv(line: &str) -> Vec<Vec<u8>> {
        line.split(' ').map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn a_blocking_commands_timeout_is_its_last_argument_or_xreads_block_milliseconds() {
        assert_eq!(block_timeout_secs(&argv("BLPOP a b 0.5")), Some(0.5));
        assert_eq!(block_timeout_secs(&argv("XREAD BLOCK 250 STREAMS s $")), Some(0.25));
        assert_eq!(block_timeout_secs(&argv("xreadgroup GROUP g c block 0 STREAMS s >")), Some(0.0));
        assert_eq!(block_timeout_secs(&argv("XREAD STREAMS s 5")), None);
    }
}
