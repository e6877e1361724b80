//! The scenario text format, version 1: a lexer and a parser that turn lines into statements.
//!
//! The grammar is a small, line-oriented subset of Python so a pika program translates line by line:
//! one statement per line, `#` comments, implicit line continuation inside `(…)`, `[…]` and `{…}`.
//! Nothing here knows the broker; [`super::interp`] gives the statements their meaning.

use super::{Pos, ScenarioError, MAX_TIME_MILLIS};

/// The word the first line starts with: `brokerlab-scenario 1`.
pub const HEADER_WORD: &str = "brokerlab-scenario";

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    Bytes(Vec<u8>),
    /// A number as written (digits, `_`, one `.`), with a unit suffix if letters follow directly (`200ms`).
    Number {
        text: String,
        unit: Option<String>,
    },
    Punct(char),
    Newline,
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Str(_) | Tok::Bytes(_) => "a string".to_string(),
            Tok::Number { text, unit } => format!("'{text}{}'", unit.as_deref().unwrap_or("")),
            Tok::Punct(c) => format!("'{c}'"),
            Tok::Newline => "the end of the line".to_string(),
            Tok::Eof => "the end of the file".to_string(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: Pos,
    /// Byte range in the source text, for echoing a statement as written.
    pub start: usize,
    pub end: usize,
}

/// An expression as written; [`super::interp`] evaluates it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ExprKind {
    /// A variable, or one of `True`, `False`, `None`, `pika`.
    Name(String),
    Str(String),
    Bytes(Vec<u8>),
    Int(i64),
    Float(f64),
    List(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Attr(Box<Expr>, String),
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Arg {
    /// `Some` for a keyword argument (`queue="q"`), with the keyword's position.
    pub keyword: Option<(String, Pos)>,
    pub value: Expr,
}

/// One line (or bracket-continued lines) of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawStatement {
    pub pos: Pos,
    pub kind: RawKind,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RawKind {
    Seed(u64),
    /// `wait 1.5s`: advance the clock by this many milliseconds.
    Wait(u64),
    /// A step, at an absolute time (`at 5.5s …`) or at the current time.
    Step {
        at_millis: Option<u64>,
        step: RawStep,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawStep {
    pub targets: Vec<(String, Pos)>,
    pub expr: Expr,
    /// The step as written (without `at T`), continuation lines joined by one space.
    pub source: String,
}

/// How deeply an expression may nest: brackets (`(`, `[`, `{`) in the lexer, and the expression tree
/// (each bracket, call and `.name` adds a level) in the parser. The parser and the interpreter recurse
/// once per level, so without a bound 100,000 nested `[` overflow the stack; pika programs nest a few
/// levels, and Python's own parser stops at 200 nested brackets.
pub const MAX_NESTING: usize = 100;

/// The most statements one scenario may hold. A statement costs a few hundred bytes once parsed
/// (`tests/format1_memory.rs` measures it), so this bounds a scenario's memory to tens of megabytes; the
/// golden scenarios have at most a few hundred.
pub const MAX_STATEMENTS: usize = 100_000;

/// Reads the header line and returns the declared version and the rest of the statements.
///
/// The body is lexed one logical line (a statement with its bracket-continued lines) at a time and each
/// line's tokens are dropped once its statement is parsed, so the memory a scenario takes is its
/// statements', not its tokens' (about 60 bytes per token).
pub(crate) fn parse(text: &str) -> Result<(u32, Vec<RawStatement>), ScenarioError> {
    let first_line = text.lines().next().unwrap_or("");
    let version = parse_header(first_line)?;
    let body_start = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut lexer = Lexer::new(text, body_start, 2);
    let mut statements = Vec::new();
    loop {
        let mut tokens = lexer.next_line()?;
        let Some(first) = tokens.first() else { break };
        if first.tok == Tok::Newline {
            continue;
        }
        if statements.len() >= MAX_STATEMENTS {
            return Err(ScenarioError::new(
                first.pos,
                format!("a scenario holds at most {MAX_STATEMENTS} statements; split it into several files"),
            ));
        }
        let last = tokens[tokens.len() - 1].pos;
        tokens.push(Token { tok: Tok::Eof, pos: last, start: text.len(), end: text.len() });
        let mut parser = Parser { text, tokens, i: 0 };
        statements.push(parser.statement()?);
    }
    statements.shrink_to_fit();
    Ok((version, statements))
}

/// One value alone on one line, written as in a scenario (`int8(5)`, `[1, "a"]`, `{"k": Decimal("1.5")}`):
/// the page's forms read a typed field value with it. Positions are on line 1.
pub(crate) fn parse_value(text: &str) -> Result<Expr, ScenarioError> {
    let mut lexer = Lexer::new(text, 0, 1);
    let mut tokens = lexer.next_line()?;
    if !lexer.next_line()?.is_empty() {
        let pos = tokens.last().map_or(Pos::new(1, 1), |t| t.pos);
        return Err(ScenarioError::new(pos, "a value is one line"));
    }
    let last = tokens.last().map_or(Pos::new(1, 1), |t| t.pos);
    tokens.push(Token { tok: Tok::Eof, pos: last, start: text.len(), end: text.len() });
    let mut parser = Parser { text, tokens, i: 0 };
    let expr = parser.expr()?;
    if !matches!(parser.peek().tok, Tok::Newline | Tok::Eof) {
        return Err(parser.error_here("the end of the value"));
    }
    Ok(expr)
}

fn parse_header(line: &str) -> Result<u32, ScenarioError> {
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    let expected = || {
        ScenarioError::new(
            Pos::new(1, 1),
            format!("the first line must declare the format version: `{HEADER_WORD} 1`"),
        )
    };
    let rest = line.strip_prefix(HEADER_WORD).ok_or_else(expected)?;
    let trimmed = rest.trim_start();
    if trimmed.len() == rest.len() {
        return Err(expected());
    }
    let col = (HEADER_WORD.len() + rest.len() - trimmed.len() + 1) as u32;
    let word = trimmed.split(|c: char| c.is_whitespace() || c == '#').next().unwrap_or("");
    let version: u32 = word.parse().map_err(|_| {
        ScenarioError::new(Pos::new(1, col), format!("expected a format version number, found '{word}'"))
    })?;
    let after = trimmed[word.len()..].trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        let col = col + (trimmed.len() - after.len()) as u32;
        return Err(ScenarioError::new(Pos::new(1, col), "unexpected text after the format version"));
    }
    if version != super::FORMAT_VERSION {
        return Err(ScenarioError::new(
            Pos::new(1, col),
            format!(
                "unsupported format version {version}: this runner reads version {}",
                super::FORMAT_VERSION
            ),
        ));
    }
    Ok(version)
}

/// Splits `text[start..]` (which begins on line `first_line`) into tokens, one logical line at a time.
struct Lexer<'t> {
    chars: std::iter::Peekable<std::str::CharIndices<'t>>,
    text_len: usize,
    line: u32,
    col: u32,
    /// Open brackets, innermost last, with where each was opened.
    depth: Vec<(char, Pos)>,
    /// The end of the text was reached (the last line's tokens were handed out).
    finished: bool,
}

impl<'t> Lexer<'t> {
    fn new(text: &'t str, start: usize, first_line: u32) -> Self {
        let mut chars = text.char_indices().peekable();
        while chars.peek().is_some_and(|&(i, _)| i < start) {
            chars.next();
        }
        Lexer { chars, text_len: text.len(), line: first_line, col: 1, depth: Vec::new(), finished: false }
    }

    fn advance(&mut self) -> Option<(usize, char)> {
        self.col += 1;
        self.chars.next()
    }

    /// The tokens of the next logical line, ending with [`Tok::Newline`] (a blank line is that token
    /// alone); empty once the text is exhausted.
    fn next_line(&mut self) -> Result<Vec<Token>, ScenarioError> {
        let mut tokens = Vec::new();
        if self.finished {
            return Ok(tokens);
        }
        while let Some(&(i, c)) = self.chars.peek() {
            let pos = Pos::new(self.line, self.col);
            match c {
                '\n' => {
                    self.advance();
                    self.line += 1;
                    self.col = 1;
                    if self.depth.is_empty() {
                        tokens.push(Token { tok: Tok::Newline, pos, start: i, end: i });
                        return Ok(tokens);
                    }
                }
                ' ' | '\t' | '\r' => {
                    self.advance();
                }
                '#' => {
                    while self.chars.peek().is_some_and(|&(_, c)| c != '\n') {
                        self.advance();
                    }
                }
                '(' | '[' | '{' => {
                    if self.depth.len() >= MAX_NESTING {
                        return Err(ScenarioError::new(
                            pos,
                            format!(
                                "brackets nest more than {MAX_NESTING} levels deep here; write the value in \
                                 flatter pieces"
                            ),
                        ));
                    }
                    self.advance();
                    self.depth.push((c, pos));
                    tokens.push(Token { tok: Tok::Punct(c), pos, start: i, end: i + 1 });
                }
                ')' | ']' | '}' => {
                    self.advance();
                    let open = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    match self.depth.pop() {
                        Some((o, _)) if o == open => {}
                        Some((o, opos)) => {
                            return Err(ScenarioError::new(
                                pos,
                                format!("'{c}' does not match '{o}' at {}:{}", opos.line, opos.col),
                            ))
                        }
                        None => return Err(ScenarioError::new(pos, format!("unmatched '{c}'"))),
                    }
                    tokens.push(Token { tok: Tok::Punct(c), pos, start: i, end: i + 1 });
                }
                ',' | ':' | '.' | '=' | '-' => {
                    self.advance();
                    tokens.push(Token { tok: Tok::Punct(c), pos, start: i, end: i + 1 });
                }
                '"' | '\'' => {
                    let (s, end) = lex_string(&mut self.chars, &mut self.col, pos, false)?;
                    tokens.push(Token {
                        tok: Tok::Str(String::from_utf8(s).unwrap_or_default()),
                        pos,
                        start: i,
                        end,
                    });
                }
                c if c.is_ascii_digit() => {
                    let mut number = String::new();
                    let mut end = i;
                    while let Some(&(j, d)) = self.chars.peek() {
                        if d.is_ascii_digit() || d == '_' || d == '.' {
                            number.push(d);
                            end = j + 1;
                            self.advance();
                        } else {
                            break;
                        }
                    }
                    let mut unit = String::new();
                    while let Some(&(j, d)) = self.chars.peek() {
                        if d.is_ascii_alphanumeric() || d == '_' {
                            unit.push(d);
                            end = j + d.len_utf8();
                            self.advance();
                        } else {
                            break;
                        }
                    }
                    let unit = (!unit.is_empty()).then_some(unit);
                    tokens.push(Token { tok: Tok::Number { text: number, unit }, pos, start: i, end });
                }
                c if c.is_alphabetic() || c == '_' => {
                    let mut word = String::new();
                    let mut end = i;
                    while let Some(&(j, d)) = self.chars.peek() {
                        if d.is_alphanumeric() || d == '_' {
                            word.push(d);
                            end = j + d.len_utf8();
                            self.advance();
                        } else {
                            break;
                        }
                    }
                    let is_bytes_prefix = word == "b" || word == "B";
                    if is_bytes_prefix && self.chars.peek().is_some_and(|&(_, q)| q == '"' || q == '\'') {
                        let (s, end) = lex_string(&mut self.chars, &mut self.col, pos, true)?;
                        tokens.push(Token { tok: Tok::Bytes(s), pos, start: i, end });
                    } else {
                        tokens.push(Token { tok: Tok::Ident(word), pos, start: i, end });
                    }
                }
                other => return Err(ScenarioError::new(pos, format!("unexpected character '{other}'"))),
            }
        }
        if let Some((open, pos)) = self.depth.pop() {
            return Err(ScenarioError::new(pos, format!("'{open}' is never closed")));
        }
        self.finished = true;
        let end = self.text_len;
        tokens.push(Token { tok: Tok::Newline, pos: Pos::new(self.line, self.col), start: end, end });
        Ok(tokens)
    }
}

/// Reads a quoted string whose opening quote is next; returns its bytes and the end offset.
/// Escapes follow Python: `\\ \' \" \n \r \t \0 \xHH`, and `\uHHHH` in text strings.
fn lex_string(
    chars: &mut std::iter::Peekable<impl Iterator<Item = (usize, char)>>,
    col: &mut u32,
    start: Pos,
    bytes: bool,
) -> Result<(Vec<u8>, usize), ScenarioError> {
    let mut next = |col: &mut u32| {
        let n = chars.next();
        *col += 1;
        n
    };
    let (_, quote) = next(col).expect("caller saw the quote");
    let mut out = Vec::new();
    loop {
        let here = *col;
        match next(col) {
            None | Some((_, '\n')) => {
                return Err(ScenarioError::new(start, "unterminated string: close it on the same line"))
            }
            Some((j, c)) if c == quote => return Ok((out, j + 1)),
            Some((_, '\\')) => {
                let esc_pos = Pos::new(start.line, here);
                let Some((_, e)) = next(col) else {
                    return Err(ScenarioError::new(start, "unterminated string"));
                };
                let mut hex = |n: usize, col: &mut u32| -> Result<u32, ScenarioError> {
                    let mut v = 0u32;
                    for _ in 0..n {
                        match next(col).and_then(|(_, h)| h.to_digit(16)) {
                            Some(d) => v = v * 16 + d,
                            None => {
                                return Err(ScenarioError::new(
                                    esc_pos,
                                    format!("escape \\{e} needs {n} hex digits"),
                                ))
                            }
                        }
                    }
                    Ok(v)
                };
                match e {
                    '\\' | '\'' | '"' => out.push(e as u8),
                    'n' => out.push(b'\n'),
                    'r' => out.push(b'\r'),
                    't' => out.push(b'\t'),
                    '0' => out.push(0),
                    'x' => {
                        let v = hex(2, col)?;
                        if bytes {
                            out.push(v as u8);
                        } else {
                            let c = char::from_u32(v).expect("two hex digits are a valid char");
                            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                    }
                    'u' if !bytes => {
                        let v = hex(4, col)?;
                        let c = char::from_u32(v).ok_or_else(|| {
                            ScenarioError::new(esc_pos, format!("\\u{v:04x} is not a character"))
                        })?;
                        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                    other => {
                        return Err(ScenarioError::new(
                            esc_pos,
                            format!("unknown escape '\\{other}' in a string"),
                        ))
                    }
                }
            }
            Some((_, c)) => {
                if bytes && !c.is_ascii() {
                    return Err(ScenarioError::new(
                        Pos::new(start.line, here),
                        "bytes literals hold ASCII only; write other bytes as \\xHH",
                    ));
                }
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
    }
}

/// Words a statement can start with; they cannot name variables.
pub(crate) const KEYWORDS: [&str; 3] = ["seed", "wait", "at"];

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.i]
    }
    fn peek_at(&self, k: usize) -> &Tok {
        self.tokens.get(self.i + k).map_or(&Tok::Eof, |t| &t.tok)
    }
    fn bump(&mut self) -> Token {
        let t = self.tokens[self.i].clone();
        if t.tok != Tok::Eof {
            self.i += 1;
        }
        t
    }
    fn error_here(&self, what: &str) -> ScenarioError {
        let t = self.peek();
        ScenarioError::new(t.pos, format!("expected {what}, found {}", t.tok.describe()))
    }
    fn expect_punct(&mut self, c: char) -> Result<Token, ScenarioError> {
        if self.peek().tok == Tok::Punct(c) {
            Ok(self.bump())
        } else {
            Err(self.error_here(&format!("'{c}'")))
        }
    }
    fn at_punct(&self, c: char) -> bool {
        self.peek().tok == Tok::Punct(c)
    }

    fn statement(&mut self) -> Result<RawStatement, ScenarioError> {
        let first = self.peek().clone();
        let kind = match &first.tok {
            Tok::Ident(w) if w == "seed" => {
                self.bump();
                let t = self.bump();
                match &t.tok {
                    Tok::Number { text, unit: None } => {
                        let seed = parse_int(text)
                            .and_then(|v| u64::try_from(v).ok())
                            .ok_or_else(|| ScenarioError::new(t.pos, "the seed is a whole number ≥ 0"))?;
                        RawKind::Seed(seed)
                    }
                    _ => {
                        return Err(ScenarioError::new(t.pos, "expected the seed, a whole number: `seed 42`"))
                    }
                }
            }
            Tok::Ident(w) if w == "wait" => {
                self.bump();
                RawKind::Wait(self.duration("wait")?)
            }
            Tok::Ident(w) if w == "at" => {
                self.bump();
                let at = self.duration("at")?;
                let step = self.step()?;
                RawKind::Step { at_millis: Some(at), step }
            }
            _ => RawKind::Step { at_millis: None, step: self.step()? },
        };
        match self.peek().tok {
            Tok::Newline | Tok::Eof => {}
            _ => return Err(self.error_here("the end of the line")),
        }
        Ok(RawStatement { pos: first.pos, kind })
    }

    /// A time such as `200ms`, `1.5s` or `2s`, in milliseconds, at most [`MAX_TIME_MILLIS`].
    fn duration(&mut self, keyword: &str) -> Result<u64, ScenarioError> {
        if self.at_punct('-') && matches!(self.peek_at(1), Tok::Number { .. }) {
            let what = if keyword == "wait" {
                "`wait` moves the clock forward by a time of 0 or more"
            } else {
                "`at` names a time from the start of the run, 0 or more"
            };
            return Err(ScenarioError::new(
                self.peek().pos,
                format!("negative times are not allowed: {what}"),
            ));
        }
        let t = self.bump();
        let Tok::Number { text, unit } = &t.tok else {
            return Err(ScenarioError::new(
                t.pos,
                format!("expected a time after `{keyword}`, like `{keyword} 200ms` or `{keyword} 1.5s`"),
            ));
        };
        let written = format!("{text}{}", unit.as_deref().unwrap_or(""));
        let invalid = |msg: String| ScenarioError::new(t.pos, msg);
        let too_large = || {
            invalid(format!(
                "the time '{written}' is too large: a scenario's times are at most {MAX_TIME_MILLIS}ms \
                 (about 285,000 years)"
            ))
        };
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (text.as_str(), None),
        };
        let whole_valid =
            !whole.is_empty() && !whole.starts_with('_') && !whole.ends_with('_') && !whole.contains("__");
        if !whole_valid {
            return Err(invalid(format!("'{written}' is not a time: write digits, like 200ms or 1.5s")));
        }
        // Digits only past this point; a number past u64 is simply too large.
        let whole: Option<u64> = whole.replace('_', "").parse().ok();
        let millis = match unit.as_deref() {
            Some("ms") => {
                if frac.is_some() {
                    return Err(invalid("virtual time counts whole milliseconds".to_string()));
                }
                whole
            }
            Some("s") => {
                let frac_millis = match frac {
                    None => 0,
                    Some(f) if !f.is_empty() && f.len() <= 3 && f.bytes().all(|b| b.is_ascii_digit()) => {
                        format!("{f:0<3}").parse::<u64>().expect("three digits")
                    }
                    Some(_) => {
                        return Err(invalid(
                            "virtual time counts whole milliseconds: at most 3 decimals".to_string(),
                        ))
                    }
                };
                whole.and_then(|w| w.checked_mul(1000)).and_then(|m| m.checked_add(frac_millis))
            }
            Some(other) => return Err(invalid(format!("unknown time unit '{other}': use ms or s"))),
            None => return Err(invalid("a time needs a unit: 200ms or 1.5s".to_string())),
        };
        match millis {
            Some(m) if m <= MAX_TIME_MILLIS => Ok(m),
            _ => Err(too_large()),
        }
    }

    fn step(&mut self) -> Result<RawStep, ScenarioError> {
        let start_index = self.i;
        let mut targets = Vec::new();
        // `a = …` or `a, b, c = …`: identifiers separated by commas, then `=`.
        let mut k = 0;
        loop {
            match (self.peek_at(k), self.peek_at(k + 1)) {
                (Tok::Ident(_), Tok::Punct(',')) => k += 2,
                (Tok::Ident(_), Tok::Punct('=')) => {
                    for _ in 0..=k / 2 {
                        let t = self.bump();
                        let Tok::Ident(name) = t.tok else { unreachable!("checked above") };
                        if KEYWORDS.contains(&name.as_str())
                            || ["True", "False", "None", "pika"].contains(&name.as_str())
                        {
                            return Err(ScenarioError::new(
                                t.pos,
                                format!("'{name}' is reserved and cannot name a variable"),
                            ));
                        }
                        targets.push((name, t.pos));
                        if self.at_punct(',') {
                            self.bump();
                        }
                    }
                    self.expect_punct('=')?;
                    break;
                }
                _ => break,
            }
        }
        let expr = self.expr()?;
        let source = self.source_of(start_index, self.i);
        Ok(RawStep { targets, expr, source })
    }

    /// The text of tokens `from..to`, each source line trimmed and continuation lines joined by a space.
    fn source_of(&self, from: usize, to: usize) -> String {
        let mut pieces: Vec<String> = Vec::new();
        let mut line_start: Option<&Token> = None;
        let mut last: Option<&Token> = None;
        for t in &self.tokens[from..to] {
            if let (Some(s), Some(l)) = (line_start, last) {
                if t.pos.line != l.pos.line {
                    pieces.push(self.text[s.start..l.end].to_string());
                    line_start = None;
                }
            }
            line_start.get_or_insert(t);
            last = Some(t);
        }
        if let (Some(s), Some(l)) = (line_start, last) {
            pieces.push(self.text[s.start..l.end].to_string());
        }
        pieces.join(" ")
    }

    fn expr(&mut self) -> Result<Expr, ScenarioError> {
        self.nested_expr().map(|(e, _)| e)
    }

    /// An expression and the depth of its tree (a literal or a name is 1; every bracket, call and
    /// `.name` adds one), refused past [`MAX_NESTING`]: the interpreter evaluates it recursively.
    fn nested_expr(&mut self) -> Result<(Expr, usize), ScenarioError> {
        let (mut e, mut depth) = self.primary()?;
        loop {
            let link = self.peek().pos;
            if self.at_punct('.') {
                self.bump();
                let t = self.bump();
                let Tok::Ident(name) = t.tok else {
                    return Err(ScenarioError::new(t.pos, "expected a name after '.'"));
                };
                let pos = e.pos;
                e = Expr { kind: ExprKind::Attr(Box::new(e), name), pos };
                depth += 1;
            } else if self.at_punct('(') {
                self.bump();
                let (args, args_depth) = self.args()?;
                let pos = e.pos;
                e = Expr { kind: ExprKind::Call { callee: Box::new(e), args }, pos };
                depth = depth.max(args_depth) + 1;
            } else {
                return Ok((e, depth));
            }
            if depth > MAX_NESTING {
                return Err(too_deep(link));
            }
        }
    }

    /// A call's arguments after its `(`, and the deepest argument's depth.
    fn args(&mut self) -> Result<(Vec<Arg>, usize), ScenarioError> {
        let mut args: Vec<Arg> = Vec::new();
        let mut deepest = 0;
        loop {
            if self.at_punct(')') {
                self.bump();
                return Ok((args, deepest));
            }
            let keyword = match (self.peek_at(0), self.peek_at(1)) {
                (Tok::Ident(name), Tok::Punct('=')) => {
                    let name = name.clone();
                    let pos = self.bump().pos;
                    self.bump();
                    Some((name, pos))
                }
                _ => None,
            };
            let (value, depth) = self.nested_expr()?;
            deepest = deepest.max(depth);
            if keyword.is_none() && args.iter().any(|a| a.keyword.is_some()) {
                return Err(ScenarioError::new(
                    value.pos,
                    "a positional argument cannot follow a keyword argument",
                ));
            }
            args.push(Arg { keyword, value });
            if self.at_punct(',') {
                self.bump();
            } else if !self.at_punct(')') {
                return Err(self.error_here("',' or ')'"));
            }
        }
    }

    fn primary(&mut self) -> Result<(Expr, usize), ScenarioError> {
        let t = self.peek().clone();
        let mut depth = 1;
        let kind = match t.tok {
            Tok::Ident(name) => {
                self.bump();
                ExprKind::Name(name)
            }
            Tok::Str(s) => {
                self.bump();
                ExprKind::Str(s)
            }
            Tok::Bytes(b) => {
                self.bump();
                ExprKind::Bytes(b)
            }
            Tok::Number { .. } => return Ok((self.number(false)?, 1)),
            Tok::Punct('-') => {
                self.bump();
                if !matches!(self.peek().tok, Tok::Number { .. }) {
                    return Err(self.error_here("a number after '-'"));
                }
                let mut e = self.number(true)?;
                e.pos = t.pos;
                return Ok((e, 1));
            }
            Tok::Punct('[') => {
                self.bump();
                let mut items = Vec::new();
                while !self.at_punct(']') {
                    let (item, d) = self.nested_expr()?;
                    depth = depth.max(d + 1);
                    items.push(item);
                    if self.at_punct(',') {
                        self.bump();
                    } else if !self.at_punct(']') {
                        return Err(self.error_here("',' or ']'"));
                    }
                }
                self.bump();
                ExprKind::List(items)
            }
            Tok::Punct('{') => {
                self.bump();
                let mut entries = Vec::new();
                while !self.at_punct('}') {
                    let (key, dk) = self.nested_expr()?;
                    self.expect_punct(':')?;
                    let (value, dv) = self.nested_expr()?;
                    depth = depth.max(dk.max(dv) + 1);
                    entries.push((key, value));
                    if self.at_punct(',') {
                        self.bump();
                    } else if !self.at_punct('}') {
                        return Err(self.error_here("',' or '}'"));
                    }
                }
                self.bump();
                ExprKind::Dict(entries)
            }
            _ => return Err(self.error_here("a value or a call")),
        };
        if depth > MAX_NESTING {
            return Err(too_deep(t.pos));
        }
        Ok((Expr { kind, pos: t.pos }, depth))
    }

    fn number(&mut self, negative: bool) -> Result<Expr, ScenarioError> {
        let t = self.bump();
        let Tok::Number { text, unit } = &t.tok else { unreachable!("caller checked") };
        if let Some(unit) = unit {
            return Err(ScenarioError::new(
                t.pos,
                format!("'{text}{unit}' is not a number; times go after `wait` or `at`"),
            ));
        }
        let sign = if negative { "-" } else { "" };
        let kind = if text.contains('.') {
            let v: f64 = format!("{sign}{}", text.replace('_', ""))
                .parse()
                .map_err(|_| ScenarioError::new(t.pos, format!("invalid number '{text}'")))?;
            ExprKind::Float(v)
        } else {
            let v = parse_int(&format!("{sign}{text}"))
                .ok_or_else(|| ScenarioError::new(t.pos, format!("invalid integer '{text}'")))?;
            ExprKind::Int(v)
        };
        Ok(Expr { kind, pos: t.pos })
    }
}

fn too_deep(pos: Pos) -> ScenarioError {
    ScenarioError::new(
        pos,
        format!(
            "this expression nests more than {MAX_NESTING} levels deep (each bracket, call and '.name' is a \
             level); write it in flatter pieces"
        ),
    )
}

/// Parses an integer the way Python writes one: digits with optional `_` separators between them.
fn parse_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    text.replace('_', "").parse().ok()
}
