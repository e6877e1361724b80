//! Commands typed by hand on a running document (the Redis page's console): one redis-cli command line at
//! the run's current instant, sent on a client of its own through the same server the actors use, so it
//! gets redis-server's reply or error and acts on the run at once — a push serves a blocked worker, a
//! `PUBLISH` reaches the subscribers, an `XREADGROUP` makes entries pending.
//!
//! The console's client is named [`HAND`] in the events (`you> LPUSH q a -> (integer) 1`). What it shows
//! is kept as [`HandLine`]s, worded as redis-cli prints them: the reply (`(integer) 1`, `(nil)`, numbered
//! arrays, `(error) …`), `Reading messages... (press Ctrl-C to quit)` before the first subscription, the
//! messages pushed while subscribed, a blocking command's reply when it comes or its timeout ends.
//!
//! # Invariants
//! - A line that is not sent changes nothing and records nothing: one redis-cli refuses
//!   (`Invalid argument(s)`), an empty one, or one typed while the console waits in a blocking command
//!   (redis-cli cannot send it either). Everything sent is recorded, errors included (a refused command
//!   inside `MULTI` makes `EXEC` fail).
//! - A command is sent after everything the run did at its instant (the caller plays the run to the
//!   instant first); given the same lines at the same instants, a replayed run is the same.
//! - The hand may move anything anywhere (pop an element a worker would have taken, read entries for a
//!   consumer of its own, delete a key), so once a command was typed the run's list and group ledgers
//!   follow the server at the end of each instant ([`RedisRun::adopt_hand_changes`]): an element gone
//!   from its list without an actor taking it was taken by hand, one that appeared was pushed by hand.
//!   The engine's own invariants are checked as before.

use super::*;
use crate::redis::program::parse::split_args;

/// The name the events give to the console's client.
pub const HAND: &str = "you";

/// redis-cli's line before the first message of a subscription (Redis 7.0's `redis-cli`).
pub const READING_MESSAGES: &str = "Reading messages... (press Ctrl-C to quit)";

/// One line (or block of lines) of the console, at the instant it was printed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "line", rename_all = "snake_case")]
pub enum HandLine {
    /// A command as typed.
    Typed { command: String },
    /// What redis-cli printed for it (one or more lines, each ending with a newline).
    Output { text: String },
    /// The command blocks: its reply comes later.
    Blocked { command: String },
    /// A blocking command's reply, when it came (served or timed out).
    Unblocked { command: String, waited_ms: u64, text: String },
    /// A message pushed to the console's client while it is subscribed.
    Received { text: String },
    /// The connection was closed under the console (a server restart).
    Closed { text: String },
}

/// The console's state in the run.
#[derive(Clone, Debug, Default)]
pub(super) struct Hand {
    pub(super) lines: Vec<(VirtualTime, HandLine)>,
    /// The blocking command the console waits in, and since when.
    pub(super) waiting: Option<(String, VirtualTime)>,
    /// Whether any command was sent (then the ledgers follow the server).
    pub(super) used: bool,
    /// Whether the console's client has subscribed since it connected (redis-cli's pub/sub mode).
    subscribed: bool,
}

impl RedisRun {
    /// The console's client: after every actor and the admin.
    pub(super) fn hand_client(&self) -> ClientId {
        self.admin + 1
    }

    /// Sends one redis-cli command line now; returns what redis-cli printed, or `None` when the command
    /// blocks (its reply is a [`HandLine::Unblocked`] later). `Err` when the line is not sent: the text
    /// the console shows instead (`Invalid argument(s)`, or why it waits); an empty line is `Err("")`.
    pub fn hand_command(&mut self, line: &str) -> Result<Option<String>, String> {
        let argv = split_args(line).map_err(|(_, e)| e.to_string())?;
        if argv.is_empty() {
            return Err(String::new());
        }
        if let Some((command, since)) = &self.hand.waiting {
            return Err(format!(
                "the console waits in {command} since {}.{:03} s; the command was not sent (redis-cli cannot send it either)",
                since.as_millis() / 1000,
                since.as_millis() % 1000
            ));
        }
        self.advance_system(self.clock.now);
        let typed = line.trim().to_string();
        self.hand.used = true;
        let now = self.clock.now;
        self.hand.lines.push((now, HandLine::Typed { command: typed.clone() }));
        let client = self.hand_client();
        let was_subscribed = self.redis.in_subscribe_mode(client);
        let (outcome, woken) = self.redis.execute(client, &argv);
        let receivers = match &outcome {
            Outcome::Reply(Reply::Int(n)) => Some(*n),
            _ => None,
        };
        let mut output = match outcome {
            Outcome::Reply(r) => Some(r.render()),
            Outcome::Replies(rs) => Some(rs.iter().map(Reply::render).collect::<String>()),
            Outcome::Blocked => None,
        };
        if let Some(text) = output.as_mut() {
            // redis-cli enters its pub/sub mode with this line, before the confirmations.
            if !was_subscribed && !self.hand.subscribed && self.redis.in_subscribe_mode(client) {
                self.hand.subscribed = true;
                *text = format!("{READING_MESSAGES}\n{text}");
            }
        }
        match &output {
            Some(text) => {
                self.hand.lines.push((now, HandLine::Output { text: text.clone() }));
                let reply = text.trim_end().lines().filter(|l| *l != READING_MESSAGES);
                let reply = reply.map(str::trim).collect::<Vec<_>>().join(" ");
                self.push(RedisEvent::Typed { by: HAND.to_string(), command: typed, reply });
            }
            None => {
                self.hand.waiting = Some((typed.clone(), now));
                self.hand.lines.push((now, HandLine::Blocked { command: typed.clone() }));
                self.push(RedisEvent::Typed {
                    by: HAND.to_string(),
                    command: typed,
                    reply: "(blocked)".into(),
                });
            }
        }
        // What the command published reaches the subscribers (and the console, when it listens); a
        // `PUBLISH` is told as a producer's is, with the subscribers away missing it.
        let publish = argv[0].eq_ignore_ascii_case(b"publish") && argv.len() == 3;
        match receivers.filter(|_| publish) {
            Some(n) => {
                let channel = String::from_utf8_lossy(&argv[1]).into_owned();
                let message = String::from_utf8_lossy(&argv[2]).into_owned();
                self.published(None, &channel, &message, &Reply::Int(n));
            }
            None => {
                for (c, push) in self.redis.take_pushes() {
                    self.deliver_push(c, push);
                }
            }
        }
        self.route(woken);
        self.verify();
        Ok(output)
    }

    /// A client of the server by name, as views show who waits or listens: a worker's, a subscriber's,
    /// a producer's or a reaper's name, `admin` (the client that creates the groups), [`HAND`], or a
    /// worker's heartbeat connection (`worker-a (heartbeat)`).
    pub fn client_name(&self, client: ClientId) -> String {
        let (w, s, p) = (self.workers.len(), self.subscribers.len(), self.producers.len());
        let r = self.doc.reapers.len();
        if client < w {
            self.workers[client].spec.name.clone()
        } else if client < w + s {
            self.subscribers[client - w].spec.name.clone()
        } else if client < w + s + p {
            self.producers[client - w - s].spec.name.clone()
        } else if client < w + s + p + r {
            self.doc.reapers[client - w - s - p].name.clone()
        } else if client == self.admin {
            "admin".to_string()
        } else if client == self.hand_client() {
            HAND.to_string()
        } else if let Some(i) = client.checked_sub(self.hand_client() + 1).filter(|i| *i < w) {
            format!("{} (heartbeat)", self.workers[i].spec.name)
        } else {
            format!("client {client}")
        }
    }

    /// The console's lines so far, in the order they were printed.
    pub fn hand_lines(&self) -> &[(VirtualTime, HandLine)] {
        &self.hand.lines
    }

    /// The blocking command the console waits in, and since when.
    pub fn hand_waiting(&self) -> Option<(&str, VirtualTime)> {
        self.hand.waiting.as_ref().map(|(c, t)| (c.as_str(), *t))
    }

    /// The reply to the console's blocking command (served, or its timeout's nil).
    pub(super) fn hand_answered(&mut self, reply: Reply) {
        let Some((command, since)) = self.hand.waiting.take() else { return };
        let waited_ms = self.clock.now.as_millis() - since.as_millis();
        let text = reply.render();
        let one_line = text.trim_end().lines().map(str::trim).collect::<Vec<_>>().join(" ");
        self.hand
            .lines
            .push((self.clock.now, HandLine::Unblocked { command: command.clone(), waited_ms, text }));
        self.push(RedisEvent::Typed { by: HAND.to_string(), command, reply: one_line });
    }

    /// A message pushed to the console's client.
    pub(super) fn hand_received(&mut self, push: &Reply) {
        self.hand.lines.push((self.clock.now, HandLine::Received { text: push.render() }));
    }

    /// The server restarted: the console's connection closed under it (redis-cli reconnects on the
    /// next command, without its subscriptions).
    pub(super) fn hand_disconnected(&mut self) {
        let waiting = self.hand.waiting.take();
        if waiting.is_some() || self.hand.subscribed {
            let text = "Error: Server closed the connection\n".to_string();
            self.hand.lines.push((self.clock.now, HandLine::Closed { text }));
        }
        self.hand.subscribed = false;
    }

    /// After commands typed by hand: the ledgers take the server's word (see the module's invariants).
    pub(super) fn adopt_hand_changes(&mut self) {
        // Lists: an element the ledger puts in a list that no longer holds it was taken by hand; one a
        // list holds beyond the ledger's was pushed by hand.
        let mut held: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for (key, entry) in &self.redis.keys {
            if let Value::List(list) = &entry.value {
                let counts = held.entry(String::from_utf8_lossy(key).into_owned()).or_default();
                for e in list {
                    *counts.entry(String::from_utf8_lossy(e).into_owned()).or_default() += 1;
                }
            }
        }
        for (body, place) in self.elements.iter_mut() {
            let Place::InList(key) = place else { continue };
            let left = held.get_mut(key.as_str()).and_then(|c| c.get_mut(body.as_str())).filter(|n| **n > 0);
            match left {
                Some(n) => *n -= 1,
                None => *place = Place::ByHand,
            }
        }
        for (key, counts) in held {
            for (body, n) in counts {
                for _ in 0..n {
                    self.elements.push((body.clone(), Place::InList(key.clone())));
                }
            }
        }
        // Groups: each entry's fate is what the group says; a destroyed group is forgotten.
        self.refresh_group_fates(false);
    }
}
