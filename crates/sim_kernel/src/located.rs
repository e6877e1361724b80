//! Where a problem is in a text: positions ([`Pos`]), located errors ([`ScenarioError`]), JSON paths found
//! again in a document's text ([`locate`], [`Problem`]), and the decoding every text input goes through
//! ([`decode_source`], [`strip_bom`]).
//!
//! # Invariants
//! - Lines and columns are 1-based and count characters, not bytes; `0:0` means "no place in a text".
//! - Nothing here panics on any input: a path that cannot be followed gives `None`, not an error.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub fn new(line: u32, col: u32) -> Self {
        Pos { line, col }
    }
}

/// A malformed scenario (or a step that cannot run), located in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioError {
    pub pos: Pos,
    pub message: String,
}

impl ScenarioError {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        ScenarioError { pos, message: message.into() }
    }

    /// `file:line:col: message`, the form editors and CI logs link to.
    pub fn located(&self, file: &str) -> String {
        format!("{file}:{self}")
    }
}

impl fmt::Display for ScenarioError {
    /// `line:col: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.pos.line, self.pos.col, self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// `text` without a leading byte-order mark (U+FEFF). Every text input accepts one and ignores it, as
/// RFC 8259 allows for JSON: Windows editors write it, and a user cannot see it to remove it.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// A scenario file's bytes as text: a leading UTF-8 byte-order mark is dropped, and bytes that are not
/// UTF-8 are refused with the `line:col` (columns in characters, as everywhere) and the byte number of the
/// first bad byte, since an editor showing the file cannot show the bad byte itself.
pub fn decode_source(file: &[u8]) -> Result<&str, ScenarioError> {
    let bytes = file.strip_prefix(b"\xef\xbb\xbf").unwrap_or(file);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).expect("valid up to here");
            let line = good.matches('\n').count() + 1;
            let col = good.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let at_byte = e.valid_up_to() + (file.len() - bytes.len());
            Err(ScenarioError::new(
                Pos::new(u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(col).unwrap_or(u32::MAX)),
                format!(
                    "the file is not UTF-8 text: byte {at_byte} (0x{:02x}) is not valid UTF-8; save the file \
                     as UTF-8",
                    file[at_byte]
                ),
            ))
        }
    }
}

/// A semantic problem: the JSON path of the offending value and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem { path: path.into(), message: message.into() }
    }

    /// The problem as a [`ScenarioError`] located in `source` when it is given and the path is found.
    pub fn into_error(self, source: Option<&str>) -> ScenarioError {
        let pos = source.and_then(|s| locate_nearest(s, &self.path)).unwrap_or(Pos::new(0, 0));
        ScenarioError::new(pos, format!("{}: {}", self.path, self.message))
    }
}

/// serde_json's error with its line and column (`line 0` means the end of the input).
pub fn json_error(e: serde_json::Error) -> ScenarioError {
    let message = e.to_string();
    // serde_json appends " at line L column C"; the position already says it.
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    let message = match message.as_str() {
        // serde_json stops at 128 nested arrays and objects rather than overflow the stack.
        "recursion limit exceeded" => {
            "the JSON nests more than 128 levels deep (arrays and objects inside each other)".to_string()
        }
        "EOF while parsing a value" if e.line() == 1 && e.column() == 0 => {
            "the document is empty: a scenario document is a JSON object".to_string()
        }
        _ => message,
    };
    // serde_json counts a position before the first character of a line as column 0.
    ScenarioError::new(Pos::new(e.line() as u32, (e.column() as u32).max(1)), message)
}

/// Finds the value at `path`, or else the nearest enclosing one that can be found: a path through a key
/// with a `.` or `[` in it (a script named `a.b`) cannot be followed, and its object is the next best place.
pub fn locate_nearest(text: &str, path: &str) -> Option<Pos> {
    let mut path = path;
    loop {
        if let Some(pos) = locate(text, path) {
            return Some(pos);
        }
        match path.rfind(['.', '[']) {
            Some(i) if i > 0 => path = &path[..i],
            _ => return None,
        }
    }
}

/// Finds the `line:col` of the value at `path` (`actors[1].name`) in the JSON `text`.
pub fn locate(text: &str, path: &str) -> Option<Pos> {
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_string()));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            segments.push(Segment::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        }
    }
    let mut scanner = Scanner { chars: text.chars().collect(), i: 0, line: 1, col: 1 };
    scanner.find(&segments)
}

enum Segment {
    Key(String),
    Index(usize),
}

/// A forgiving JSON walker that tracks line and column (the text already parsed, so it is valid).
struct Scanner {
    chars: Vec<char>,
    i: usize,
    line: u32,
    col: u32,
}

impl Scanner {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn string(&mut self) -> Option<String> {
        if self.bump()? != '"' {
            return None;
        }
        let mut s = String::new();
        loop {
            match self.bump()? {
                '"' => return Some(s),
                '\\' => match self.bump()? {
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                        s.push(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).unwrap_or('?'));
                    }
                    c => s.push(c),
                },
                c => s.push(c),
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            '"' => {
                self.string()?;
            }
            '{' | '[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        '"' => {
                            self.string()?;
                            continue;
                        }
                        '{' | '[' => depth += 1,
                        '}' | ']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.bump();
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.bump();
                }
            }
            _ => {
                while !matches!(self.peek(), None | Some(',' | '}' | ']' | ' ' | '\n' | '\r' | '\t')) {
                    self.bump();
                }
            }
        }
        Some(())
    }

    fn find(&mut self, path: &[Segment]) -> Option<Pos> {
        self.skip_ws();
        let Some((first, rest)) = path.split_first() else {
            return Some(Pos::new(self.line, self.col));
        };
        match first {
            Segment::Key(key) => {
                if self.bump()? != '{' {
                    return None;
                }
                loop {
                    self.skip_ws();
                    if self.peek()? == '}' {
                        return None;
                    }
                    let name = self.string()?;
                    self.skip_ws();
                    if self.bump()? != ':' {
                        return None;
                    }
                    if &name == key {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    self.skip_ws();
                    if self.peek()? == ',' {
                        self.bump();
                    }
                }
            }
            Segment::Index(index) => {
                if self.bump()? != '[' {
                    return None;
                }
                for _ in 0..*index {
                    self.skip_value()?;
                    self.skip_ws();
                    if self.bump()? != ',' {
                        return None;
                    }
                }
                self.find(rest)
            }
        }
    }
}
