//! Runs a program on the engine and builds its transcript: `NAME> COMMAND` and the reply as redis-cli
//! prints it, `(blocked)` for a client that waits, `NAME> (unblocked, line N)` and its reply when another
//! statement or a `sleep` ends the wait, and `# NAME is still blocked (line N)` at the end.

use serde::Serialize;

use super::parse::{Program, StatementKind};
use crate::redis::reply::Reply;
use crate::redis::server::{Outcome, Redis};

/// A transcript under construction; its text is what `brokerlab run` prints.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Transcript {
    pub lines: Vec<String>,
    /// For each client, the line of the statement it is blocked in.
    #[serde(skip)]
    blocked_at: Vec<Option<u32>>,
}

impl Transcript {
    pub fn new(clients: usize) -> Transcript {
        Transcript { lines: Vec::new(), blocked_at: vec![None; clients] }
    }

    pub fn text(&self) -> String {
        let mut s = self.lines.join("\n");
        if !s.is_empty() {
            s.push('\n');
        }
        s
    }

    /// The echo of a statement.
    pub fn statement(&mut self, client: &str, text: &str) {
        self.lines.push(format!("{client}> {text}"));
    }

    pub fn sleep(&mut self, text: &str) {
        self.lines.push(text.to_string());
    }

    pub fn reply(&mut self, reply: &Reply) {
        self.lines.extend(reply.render().lines().map(str::to_string));
    }

    pub fn blocked(&mut self, client: usize, line: u32) {
        self.blocked_at[client] = Some(line);
        self.lines.push("(blocked)".to_string());
    }

    pub fn is_blocked(&self, client: usize) -> Option<u32> {
        self.blocked_at[client]
    }

    /// A command on a client that waits in a blocking command is not sent: redis-cli could not send it.
    pub fn still_blocked(&mut self, line: u32) {
        self.lines.push(format!(
            "(error) brokerlab: this client is blocked since line {line}; the command was not sent"
        ));
    }

    /// Replies of clients whose wait ended, printed in the order the clients blocked.
    pub fn unblocked(&mut self, names: &[String], mut woken: Vec<(usize, Reply)>) {
        woken.sort_by_key(|(c, _)| self.blocked_at[*c].unwrap_or(0));
        for (client, reply) in woken {
            let line = self.blocked_at[client].take().unwrap_or(0);
            self.lines.push(format!("{}> (unblocked, line {line})", names[client]));
            self.reply(&reply);
        }
    }

    /// Messages pushed to subscribers, grouped by client in the program's client order.
    pub fn pushed(&mut self, names: &[String], pushes: &[(usize, Reply)]) {
        for (client, name) in names.iter().enumerate() {
            let mine: Vec<&Reply> = pushes.iter().filter(|(c, _)| *c == client).map(|(_, r)| r).collect();
            if mine.is_empty() {
                continue;
            }
            self.lines.push(format!("{name}> (received)"));
            for r in mine {
                self.reply(r);
            }
        }
    }

    /// Clients whose connection the server closed (an output buffer limit), in the program's client
    /// order. Their next command opens a new connection, as redis-cli reconnects.
    pub fn closed(&mut self, names: &[String], mut clients: Vec<usize>) {
        clients.sort_unstable();
        for client in clients {
            self.blocked_at[client] = None;
            self.lines.push(format!("{}> (connection closed by the server)", names[client]));
        }
    }

    pub fn finish(&mut self, names: &[String]) {
        for (client, at) in self.blocked_at.iter().enumerate() {
            if let Some(line) = at {
                self.lines.push(format!("# {} is still blocked (line {line})", names[client]));
            }
        }
    }
}

/// Runs `program` on a fresh engine.
pub fn run(program: &Program) -> Transcript {
    run_checked(program, |_| Ok(())).0
}

/// Runs `program`, calling `check` on the server after every statement; stops at the first failure.
pub fn run_checked(
    program: &Program,
    mut check: impl FnMut(&Redis) -> Result<(), String>,
) -> (Transcript, Result<(), String>) {
    let mut redis = Redis::new();
    let names = &program.clients;
    let mut t = Transcript::new(names.len());
    for s in &program.statements {
        match &s.kind {
            StatementKind::Client(_) => {}
            StatementKind::Sleep(ms) => {
                t.sleep(&s.text);
                let woken = redis.advance(*ms);
                t.unblocked(names, woken);
                t.closed(names, redis.take_closed());
            }
            StatementKind::Command(argv) => {
                t.statement(&names[s.client], &s.text);
                if let Some(line) = t.is_blocked(s.client) {
                    t.still_blocked(line);
                    continue;
                }
                let (outcome, woken) = redis.execute(s.client, argv);
                match outcome {
                    Outcome::Reply(r) => t.reply(&r),
                    Outcome::Blocked => t.blocked(s.client, s.line),
                    Outcome::Replies(rs) => rs.iter().for_each(|r| t.reply(r)),
                }
                t.unblocked(names, woken);
                t.pushed(names, &redis.take_pushes());
                t.closed(names, redis.take_closed());
            }
        }
        if let Err(e) = check(&redis) {
            return (t, Err(format!("line {}: {e}", s.line)));
        }
    }
    t.finish(names);
    (t, Ok(()))
}
