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
//! What redis-cli 7.0 does itself, before or instead of the server (compared with the real `redis-cli`
//! in a terminal by `tests/scenarios/redis-console/`): a line starting with a whole number and more
//! words sends the rest that many times (`3 PING`; `Invalid redis-cli repeat command option value.` for 0,
//! below it or out of range); `SUBSCRIBE`, `PSUBSCRIBE` and `SSUBSCRIBE` print `Reading messages…` even
//! when refused, and once subscribed redis-cli only reads messages: a typed line is not sent, and
//! [`CTRL_C`] leaves that mode on a new connection (the subscriptions are gone with the old one), printing
//! the time since the command when it is half a second or more. Ctrl-C in a blocking command or at the
//! prompt ends redis-cli itself: the console's connection closes (its wait, transaction and watched keys
//! with it) and the next command opens a new one, as a redis-cli started again would.
//!
//! redis-cli's own commands, never sent (compared the same way, by `tests/scenarios/redis-console/
//! redis-cli-help-clear-quit/`): `help` or `?` alone prints redis-cli 7.0.15's introduction
//! ([`HELP_INTRO`]); `help WORDS` every entry whose name begins with those words (`help config` gives
//! `CONFIG` and its subcommands) and `help @GROUP` a group's entries, as redis-cli prints them from the
//! server's `COMMAND DOCS` (redis-cli 7.0 asks for it when it connects; its entries, recorded from the
//! real redis-cli and compared again in CI by `scripts/redis-cli-help.py`, are
//! `crates/broker_core/data/redis-cli-help.tsv`), a lone blank line when none matches; after a repeat
//! count too, printed once. `clear` alone clears the screen ([`HandLine::Cleared`]); `restart` says it is
//! for the Lua debugger only ([`RESTART`]). `quit` or `exit` as the first word (words after it do not
//! matter) ends redis-cli, as Ctrl-C at the prompt does: the connection closes. After a repeat count
//! `clear`, `quit` and `exit` are sent to the server (`2 quit` is the server's `QUIT`, which this model
//! does not know: redis-server answers `OK` and closes the connection). Not modelled: `connect HOST PORT`,
//! the `:set hints` preferences and `help <tab>` (a terminal's completion).
//!
//! # Invariants
//! - A line that is not sent changes nothing on the server and records no event: one redis-cli refuses
//!   (`Invalid argument(s)`, a bad repeat count), an empty one, or one typed while the console waits in a
//!   blocking command or reads messages (redis-cli cannot send it either) records nothing at all;
//!   redis-cli's own `help`, `clear` and `restart` record only their console lines, and `quit` / `exit`
//!   what Ctrl-C records (the connection closed). Everything sent is recorded, errors included (a
//!   refused command inside `MULTI` makes `EXEC` fail).
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

/// The console's Ctrl-C, sent as a line of its own (the page's Ctrl-C key, the embed API's `command`).
pub const CTRL_C: &str = "\u{3}";

/// redis-cli's answer to a repeat count of 0, below it or out of range (`0 PING`).
pub const BAD_REPEAT: &str = "Invalid redis-cli repeat command option value.";

/// What redis-cli writes for `clear`: the cursor home, then the screen erased.
pub const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J";

/// redis-cli's answer to `restart` outside its Lua debugger.
pub const RESTART: &str = "Use 'restart' only in Lua debugging mode.";

/// redis-cli 7.0.15's answer to `help` (or `?`) alone.
pub const HELP_INTRO: &str = "redis-cli 7.0.15
To get help about Redis commands type:
      \"help @<group>\" to get a list of commands in <group>
      \"help <command>\" for help on <command>
      \"help <tab>\" to get a list of possible help topics
      \"quit\" to exit

To set redis-cli preferences:
      \":set hints\" enable online hints
      \":set nohints\" disable online hints
Set your preferences in ~/.redisclirc
";

/// redis-cli's help entries, as redis-cli 7.0.15 builds them from redis-server 7.0.15's `COMMAND DOCS`
/// (every command and subcommand: name, group, since, arguments, summary; tab-separated, in name order).
/// Recorded from the real redis-cli by `scripts/redis-cli-help.py`, which compares it again in CI.
const HELP_ENTRIES: &str = include_str!("../../../../data/redis-cli-help.tsv");

/// One of redis-cli's help entries.
struct HelpEntry<'a> {
    name: &'a str,
    group: &'a str,
    since: &'a str,
    arguments: &'a str,
    summary: &'a str,
}

fn help_entries() -> impl Iterator<Item = HelpEntry<'static>> {
    HELP_ENTRIES.lines().map(|line| {
        let mut f = line.splitn(5, '\t');
        let mut next = || f.next().expect("redis-cli-help.tsv: five tab-separated fields");
        HelpEntry { name: next(), group: next(), since: next(), arguments: next(), summary: next() }
    })
}

/// What redis-cli 7.0 prints for `help` followed by `topic`: its introduction when there is no topic;
/// for `@group`, every entry of that group (its name compared without case); otherwise every entry
/// whose name's first words are the topic's words (`help config` lists `CONFIG` and its subcommands,
/// `help config get` one). A blank line ends it, the only line when nothing matches.
pub fn help(topic: &[Vec<u8>]) -> String {
    let Some(first) = topic.first() else { return HELP_INTRO.to_string() };
    let mut out = String::new();
    let heading = |out: &mut String, e: &HelpEntry| {
        out.push_str(&format!(
            "\n  \x1b[1m{}\x1b[0m \x1b[90m{}\x1b[0m\n  \x1b[33msummary:\x1b[0m {}\n  \x1b[33msince:\x1b[0m {}\n",
            e.name, e.arguments, e.summary, e.since
        ));
    };
    for e in help_entries() {
        if let Some(group) = first.strip_prefix(b"@") {
            if group.eq_ignore_ascii_case(e.group.as_bytes()) {
                heading(&mut out, &e);
            }
        } else {
            let words: Vec<&str> = e.name.split(' ').collect();
            let matches = topic.len() <= words.len()
                && topic.iter().zip(&words).all(|(t, w)| t.eq_ignore_ascii_case(w.as_bytes()));
            if matches {
                heading(&mut out, &e);
                out.push_str(&format!("  \x1b[33mgroup:\x1b[0m {}\n", e.group));
            }
        }
    }
    out.push('\n');
    out
}

/// The most times the console repeats one line: redis-cli has no bound, a page needs one.
pub const MAX_REPEAT: u64 = 1000;

/// redis-cli's repeat count: the first word read as C's `strtol` reads it (leading white space, a sign,
/// digits; a NUL byte ends it), when that takes the whole word and more words follow. `Ok(None)` when
/// the line has no count; `Err` with redis-cli's text when the count is 0, below it or out of range.
pub fn repeat_count(argv: &[Vec<u8>]) -> Result<Option<u64>, &'static str> {
    if argv.len() < 2 {
        return Ok(None);
    }
    let word = argv[0].split(|b| *b == 0).next().unwrap_or_default();
    let mut i = word.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).count();
    let negative = match word.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &word[i..];
    if digits.is_empty() {
        // strtol reads nothing and points at the word's start: a count (of 0) only when the word is empty.
        return if word.is_empty() { Err(BAD_REPEAT) } else { Ok(None) };
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return Ok(None);
    }
    let value = std::str::from_utf8(digits).ok().and_then(|d| d.parse::<i64>().ok());
    match value {
        Some(n) if n > 0 && !negative => Ok(Some(n as u64)),
        _ => Err(BAD_REPEAT),
    }
}

/// One line (or block of lines) of the console, at the instant it was printed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "line", rename_all = "snake_case")]
pub enum HandLine {
    /// A command as typed; `transaction` when redis-cli's prompt said `(TX)` (after `MULTI`).
    Typed {
        command: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        transaction: bool,
    },
    /// What redis-cli printed for it (one or more lines, each ending with a newline).
    Output { text: String },
    /// The command blocks: its reply comes later.
    Blocked { command: String },
    /// A blocking command's reply, when it came (served or timed out); `waited_ms` since the line was
    /// typed (for a repeated line, the last repetition's reply only: redis-cli times the whole line).
    Unblocked { command: String, waited_ms: u64, text: String },
    /// A message pushed to the console's client while it is subscribed.
    Received { text: String },
    /// The connection was closed under the console (a server restart).
    Closed { text: String },
    /// `clear`: redis-cli cleared the screen (it writes [`CLEAR_SCREEN`]); what was printed before is
    /// no longer shown.
    Cleared,
}

/// The console's state in the run.
#[derive(Clone, Debug, Default)]
pub(super) struct Hand {
    pub(super) lines: Vec<(VirtualTime, HandLine)>,
    /// The blocking command the console waits in, and since when.
    pub(super) waiting: Option<(String, VirtualTime)>,
    /// Whether any command was sent (then the ledgers follow the server).
    pub(super) used: bool,
    /// Since when redis-cli reads messages (its pub/sub mode, entered by a `SUBSCRIBE` it sent).
    subscribed: Option<VirtualTime>,
    /// A repeated line's command, and how many times it is still to be sent after the reply it waits for.
    repeat: Option<(Vec<Vec<u8>>, u64)>,
    /// When the line whose repetitions are still going was typed.
    typed_at: VirtualTime,
}

impl RedisRun {
    /// The console's client: after every actor and the admin.
    pub(super) fn hand_client(&self) -> ClientId {
        self.admin + 1
    }

    /// Sends one redis-cli command line now; returns what redis-cli printed, or `None` when the command
    /// blocks (its reply is a [`HandLine::Unblocked`] later). `Err` when the line is not sent: the text
    /// the console shows instead (`Invalid argument(s)`, a bad repeat count, or why it waits); an empty
    /// line is `Err("")`. [`CTRL_C`] is Ctrl-C ([`RedisRun::hand_interrupt`]).
    pub fn hand_command(&mut self, line: &str) -> Result<Option<String>, String> {
        if line.trim() == CTRL_C {
            return Ok(Some(self.hand_interrupt()));
        }
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
        if self.hand.subscribed.is_some() {
            return Err("redis-cli reads messages until Ctrl-C; the command was not sent (redis-cli does not send it either)".into());
        }
        let count = repeat_count(&argv).map_err(str::to_string)?;
        if let Some(printed) = self.hand_own_command(line, &argv, count.is_some()) {
            return Ok(Some(printed));
        }
        let (repeat, argv) = match count {
            Some(n) if n > MAX_REPEAT => {
                return Err(format!(
                    "brokerlab: the console repeats a command at most {MAX_REPEAT} times; nothing was sent"
                ))
            }
            Some(n) => (n, argv[1..].to_vec()),
            None => (1, argv),
        };
        self.advance_system(self.clock.now);
        let typed = line.trim().to_string();
        self.hand.used = true;
        let now = self.clock.now;
        let transaction = self.hand_in_transaction();
        self.hand.lines.push((now, HandLine::Typed { command: typed.clone(), transaction }));
        self.hand.typed_at = now;
        let mut printed = String::new();
        for left in (0..repeat).rev() {
            match self.hand_send(&typed, &argv, false) {
                Some(text) => printed.push_str(&text),
                None => {
                    self.hand.repeat = (left > 0).then(|| (argv.clone(), left));
                    self.verify();
                    return Ok(None);
                }
            }
            if self.hand.subscribed.is_some() {
                // redis-cli now only reads messages: the other repetitions are never sent.
                break;
            }
        }
        self.verify();
        Ok(Some(printed))
    }

    /// Sends one command of a typed line on the console's client and records what redis-cli prints;
    /// `None` when it blocks. `resumed`: an earlier repetition of the line blocked, so this reply ends
    /// the line's wait (redis-cli times the whole line).
    fn hand_send(&mut self, typed: &str, argv: &[Vec<u8>], resumed: bool) -> Option<String> {
        let now = self.clock.now;
        let client = self.hand_client();
        let (outcome, woken) = self.redis.execute(client, argv);
        let receivers = match &outcome {
            Outcome::Reply(Reply::Int(n)) => Some(*n),
            _ => None,
        };
        let refused = matches!(&outcome, Outcome::Reply(Reply::Error(_)));
        let mut output = match outcome {
            Outcome::Reply(r) => Some(r.render()),
            Outcome::Replies(rs) => Some(rs.iter().map(Reply::render).collect::<String>()),
            Outcome::Blocked => None,
        };
        // redis-cli enters its pub/sub mode for these commands with this line, before the reply, and
        // leaves it at once when the reply is an error.
        let name = argv[0].to_ascii_lowercase();
        if matches!(name.as_slice(), b"subscribe" | b"psubscribe" | b"ssubscribe") {
            if let Some(text) = output.as_mut() {
                *text = format!("{READING_MESSAGES}\n{text}");
                if !refused {
                    self.hand.subscribed = Some(self.hand.typed_at);
                }
            }
        }
        let command = typed.to_string();
        match &output {
            Some(text) => {
                let line = if resumed {
                    let waited_ms = now.as_millis() - self.hand.typed_at.as_millis();
                    HandLine::Unblocked { command: command.clone(), waited_ms, text: text.clone() }
                } else {
                    HandLine::Output { text: text.clone() }
                };
                self.hand.lines.push((now, line));
                let reply = text.trim_end().lines().filter(|l| *l != READING_MESSAGES);
                let reply = reply.map(str::trim).collect::<Vec<_>>().join(" ");
                self.push(RedisEvent::Typed { by: HAND.to_string(), command, reply });
            }
            None => {
                self.hand.waiting = Some((command.clone(), now));
                self.hand.lines.push((now, HandLine::Blocked { command: command.clone() }));
                self.push(RedisEvent::Typed { by: HAND.to_string(), command, reply: "(blocked)".into() });
            }
        }
        // What the command published reaches the subscribers (and the console, when it listens); a
        // `PUBLISH` is told as a producer's is, with the subscribers away missing it.
        let publish = name == b"publish" && argv.len() == 3;
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
        output
    }

    /// redis-cli's own commands, done before or instead of the server; `None` for a line sent to the
    /// server. `counted`: the line starts with a repeat count (then only `help` is redis-cli's: `2 quit`
    /// and `2 clear` are sent, twice). Prints nothing on the server's side and records no event, except
    /// `quit` / `exit`, which end redis-cli as Ctrl-C at the prompt does: the connection closes.
    fn hand_own_command(&mut self, line_text: &str, argv: &[Vec<u8>], counted: bool) -> Option<String> {
        let first = |word: &str| argv[0].eq_ignore_ascii_case(word.as_bytes());
        let topic = &argv[usize::from(counted)..];
        let is_help = topic[0].eq_ignore_ascii_case(b"help") || topic[0] == b"?";
        let line = if !counted && (first("quit") || first("exit")) {
            None
        } else if !counted && first("restart") {
            Some(HandLine::Output { text: format!("{RESTART}\n") })
        } else if !counted && argv.len() == 1 && first("clear") {
            Some(HandLine::Cleared)
        } else if is_help {
            Some(HandLine::Output { text: help(&topic[1..]) })
        } else {
            return None;
        };
        self.advance_system(self.clock.now);
        let now = self.clock.now;
        let transaction = self.hand_in_transaction();
        let command = line_text.trim().to_string();
        self.hand.lines.push((now, HandLine::Typed { command: command.clone(), transaction }));
        let printed = match &line {
            Some(HandLine::Output { text }) => text.clone(),
            Some(_) => CLEAR_SCREEN.to_string(),
            None => String::new(),
        };
        match line {
            Some(l) => self.hand.lines.push((now, l)),
            None => self.hand_close(&command),
        }
        self.verify();
        Some(printed)
    }

    /// redis-cli ends (`quit`, Ctrl-C at the prompt or in a blocking command) or leaves its pub/sub mode:
    /// the console's connection closes, with its wait, transaction, watched keys and subscriptions.
    fn hand_close(&mut self, command: &str) {
        self.hand.used = true;
        self.hand.waiting = None;
        self.hand.repeat = None;
        let client = self.hand_client();
        self.redis.disconnect(client);
        self.push(RedisEvent::Typed {
            by: HAND.to_string(),
            command: command.to_string(),
            reply: "(connection closed)".into(),
        });
    }

    /// Ctrl-C on the console. Reading messages, redis-cli leaves its pub/sub mode on a new connection
    /// (the old one closes with its subscriptions) and prints the time since the command when it is half
    /// a second or more; in a blocking command or at its prompt redis-cli ends, and the next command
    /// opens a new connection. Either way the console's connection closes. Returns what was printed.
    pub fn hand_interrupt(&mut self) -> String {
        self.advance_system(self.clock.now);
        let now = self.clock.now;
        let mut text = "^C\n".to_string();
        if let Some(since) = self.hand.subscribed.take() {
            let ms = now.as_millis() - since.as_millis();
            if ms >= 500 {
                text.push_str(&format!("({:.2}s)\n", ms as f64 / 1000.0));
            }
        }
        self.hand.lines.push((now, HandLine::Output { text: text.clone() }));
        self.hand_close("Ctrl-C");
        self.verify();
        text
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

    /// Whether the console's connection is in a transaction (redis-cli's prompt says `(TX)`).
    pub fn hand_in_transaction(&self) -> bool {
        self.redis.transactions.contains_key(&self.hand_client())
    }

    /// Whether redis-cli reads messages (its pub/sub mode: only Ctrl-C gets it out).
    pub fn hand_reading(&self) -> bool {
        self.hand.subscribed.is_some()
    }

    /// The blocking command the console waits in, and since when.
    pub fn hand_waiting(&self) -> Option<(&str, VirtualTime)> {
        self.hand.waiting.as_ref().map(|(c, t)| (c.as_str(), *t))
    }

    /// The reply to the console's blocking command (served, or its timeout's nil); a repeated line goes
    /// on with its next repetition.
    pub(super) fn hand_answered(&mut self, reply: Reply) {
        let Some((command, _)) = self.hand.waiting.take() else { return };
        let text = reply.render();
        let one_line = text.trim_end().lines().map(str::trim).collect::<Vec<_>>().join(" ");
        let line = match self.hand.repeat {
            Some(_) => HandLine::Output { text },
            None => {
                let waited_ms = self.clock.now.as_millis() - self.hand.typed_at.as_millis();
                HandLine::Unblocked { command: command.clone(), waited_ms, text }
            }
        };
        self.hand.lines.push((self.clock.now, line));
        self.push(RedisEvent::Typed { by: HAND.to_string(), command: command.clone(), reply: one_line });
        let Some((argv, mut left)) = self.hand.repeat.take() else { return };
        while left > 0 {
            left -= 1;
            if self.hand_send(&command, &argv, left == 0).is_none() {
                self.hand.repeat = (left > 0).then(|| (argv.clone(), left));
                return;
            }
        }
    }

    /// A message pushed to the console's client.
    pub(super) fn hand_received(&mut self, push: &Reply) {
        self.hand.lines.push((self.clock.now, HandLine::Received { text: push.render() }));
    }

    /// The server restarted: the console's connection closed under it (redis-cli reconnects on the
    /// next command, without its subscriptions).
    pub(super) fn hand_disconnected(&mut self) {
        let waiting = self.hand.waiting.take();
        self.hand.repeat = None;
        if waiting.is_some() || self.hand.subscribed.is_some() {
            let text = "Error: Server closed the connection\n".to_string();
            self.hand.lines.push((self.clock.now, HandLine::Closed { text }));
        }
        self.hand.subscribed = None;
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
