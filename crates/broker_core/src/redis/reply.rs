//! A reply as Redis sends it over RESP2, and how `redis-cli` prints it on a terminal
//! (`(integer) 1`, `(nil)`, `(empty array)`, numbered nested arrays, `(error) …`).
//!
//! Invariants: [`Reply::render`] always ends each printed value with a newline; a bulk string is printed
//! quoted with the escapes of redis-cli (`\n`, `\r`, `\t`, `\a`, `\b`, `\"`, `\\`, `\xhh` for bytes that
//! are not printable ASCII), so every byte of a value is visible in a transcript.

use serde::{Deserialize, Serialize};

/// One RESP2 value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// A simple string (`+OK`).
    Status(String),
    /// An error (`-ERR …`), its whole text.
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// The null bulk string (`$-1`).
    Nil,
    /// The null array (`*-1`); redis-cli prints it as `(nil)` too.
    NilArray,
    Array(Vec<Reply>),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Status("OK".into())
    }
    pub fn err(text: impl Into<String>) -> Reply {
        Reply::Error(text.into())
    }
    pub fn bulk(bytes: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(bytes.as_ref().to_vec())
    }

    /// What redis-cli prints for this reply on a terminal (its `cliFormatReplyTTY`).
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, "");
        out
    }

    fn render_into(&self, out: &mut String, prefix: &str) {
        match self {
            Reply::Status(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Reply::Error(e) => {
                out.push_str("(error) ");
                out.push_str(e);
                out.push('\n');
            }
            Reply::Int(i) => out.push_str(&format!("(integer) {i}\n")),
            Reply::Bulk(b) => {
                out.push_str(&quote(b));
                out.push('\n');
            }
            Reply::Nil | Reply::NilArray => out.push_str("(nil)\n"),
            Reply::Array(items) if items.is_empty() => out.push_str("(empty array)\n"),
            Reply::Array(items) => {
                let width = items.len().to_string().len();
                let nested = format!("{prefix}{}", " ".repeat(width + 2));
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(prefix);
                    }
                    out.push_str(&format!("{:>width$}) ", i + 1));
                    item.render_into(out, &nested);
                }
            }
        }
    }
}

/// A byte string quoted as redis-cli quotes it (`sdscatrepr`).
pub fn quote(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}
