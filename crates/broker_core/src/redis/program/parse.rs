//! The `.redis` line format: redis-cli's argument splitting (`sdssplitargs`: `"double quotes"` with
//! `\n \r \t \b \a \\ \" \xhh`, `'single quotes'` with `\'`), `#` comment lines, `client NAME` and
//! `sleep SECONDS` statements.

use serde::Serialize;
use sim_kernel::located::{Pos, ScenarioError};

/// A program error at `line:col` (1-based).
pub type ProgramError = ScenarioError;

/// Bounds: a program is small and written by hand.
pub const MAX_PROGRAM_BYTES: usize = 1 << 20;
pub const MAX_STATEMENTS: usize = 10_000;
pub const MAX_ARGS: usize = 10_000;
pub const MAX_CLIENTS: usize = 64;
/// The longest `sleep`, in milliseconds (the real server waits it out).
pub const MAX_SLEEP_MS: u64 = 60_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum StatementKind {
    /// A command sent on the current client.
    Command(Vec<Vec<u8>>),
    /// `client NAME`: later commands go to this client (created on first use).
    Client(usize),
    /// `sleep SECONDS`: virtual time advances (the real server: real time passes).
    Sleep(u64),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub line: u32,
    /// The source line, trimmed (what the transcript echoes).
    pub text: String,
    /// The client the statement runs on (for a command).
    pub client: usize,
    pub kind: StatementKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Program {
    pub statements: Vec<Statement>,
    /// Client names by index; index 0 is `main`.
    pub clients: Vec<String>,
}

/// Splits a line as redis-cli does; the error's column is 1-based within `line`.
pub fn split_args(line: &str) -> Result<Vec<Vec<u8>>, (u32, &'static str)> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let bad = |at: usize| (at as u32 + 1, "Invalid argument(s)");
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Ok(out);
        }
        let start = i;
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= b.len() {
                    return Err(bad(start));
                }
                if b[i] == b'\\'
                    && i + 3 < b.len()
                    && b[i + 1] == b'x'
                    && b[i + 2].is_ascii_hexdigit()
                    && b[i + 3].is_ascii_hexdigit()
                {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap_or("0");
                    cur.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    i += 3;
                } else if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    cur.push(match b[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if b[i] == b'"' {
                    i = closing_quote(b, i).map_err(bad)?;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else if insq {
                if i >= b.len() {
                    return Err(bad(start));
                }
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if b[i] == b'\'' {
                    i = closing_quote(b, i).map_err(bad)?;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else {
                if i >= b.len() || b[i].is_ascii_whitespace() {
                    break;
                }
                match b[i] {
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
        if out.len() > MAX_ARGS {
            return Err((start as u32 + 1, "too many arguments on one line"));
        }
    }
}

/// A closing quote at `at` must end the argument (a space or the line's end follows, as redis-cli's
/// `sdssplitargs` requires); the index after it, or the index of the offending byte.
fn closing_quote(b: &[u8], at: usize) -> Result<usize, usize> {
    match b.get(at + 1) {
        Some(c) if !c.is_ascii_whitespace() => Err(at + 1),
        _ => Ok(at + 1),
    }
}

fn err(line: u32, col: u32, message: impl Into<String>) -> ProgramError {
    ScenarioError::new(Pos::new(line, col), message)
}

fn valid_client_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// Parses a program.
pub fn parse(text: &str) -> Result<Program, ProgramError> {
    if text.len() > MAX_PROGRAM_BYTES {
        return Err(err(1, 1, format!("the program is larger than {MAX_PROGRAM_BYTES} bytes")));
    }
    let text = sim_kernel::located::strip_bom(text);
    let mut program = Program { statements: Vec::new(), clients: vec!["main".to_string()] };
    let mut current = 0usize;
    for (n, raw) in text.lines().enumerate() {
        let line = n as u32 + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = (raw.len() - raw.trim_start().len()) as u32;
        let args = split_args(raw).map_err(|(col, m)| err(line, col, m))?;
        let word = String::from_utf8_lossy(&args[0]).to_string();
        let kind = if word == "client" {
            if args.len() != 2 {
                return Err(err(line, indent + 1, "expected `client NAME`"));
            }
            let name = String::from_utf8_lossy(&args[1]).to_string();
            if !valid_client_name(&name) {
                return Err(err(
                    line,
                    indent + 8,
                    "a client name is letters, digits, `_` and `-` (at most 64)",
                ));
            }
            current = match program.clients.iter().position(|c| *c == name) {
                Some(i) => i,
                None => {
                    if program.clients.len() >= MAX_CLIENTS {
                        return Err(err(line, indent + 8, format!("at most {MAX_CLIENTS} clients")));
                    }
                    program.clients.push(name);
                    program.clients.len() - 1
                }
            };
            StatementKind::Client(current)
        } else if word == "sleep" {
            let seconds =
                args.get(1).and_then(|a| std::str::from_utf8(a).ok()).and_then(|s| s.parse::<f64>().ok());
            match seconds {
                Some(s)
                    if args.len() == 2 && s.is_finite() && s >= 0.0 && s * 1000.0 <= MAX_SLEEP_MS as f64 =>
                {
                    StatementKind::Sleep((s * 1000.0).round() as u64)
                }
                _ => {
                    return Err(err(
                        line,
                        indent + 1,
                        format!("expected `sleep SECONDS` (0 to {} seconds)", MAX_SLEEP_MS / 1000),
                    ))
                }
            }
        } else {
            StatementKind::Command(args)
        };
        if program.statements.len() >= MAX_STATEMENTS {
            return Err(err(line, 1, format!("more than {MAX_STATEMENTS} statements")));
        }
        program.statements.push(Statement { line, text: trimmed.to_string(), client: current, kind });
    }
    Ok(program)
}
