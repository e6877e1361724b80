//! The parser of SQS programs: Python statements as a boto3 script writes them (`docs/sqs-programs.md`).
//!
//! A statement is `[name =] sqs.METHOD(Param=value, …)[subscripts]`, `time.sleep(seconds)`,
//! `brokerlab.short_poll_sampling(True|False)`, `print(expr)` or a bare expression; `import …` lines and
//! `sqs = boto3.client("sqs" …)` are accepted and do nothing. Values are Python literals (strings,
//! numbers, booleans, `None`, lists, dicts) and names with subscripts. A statement may span lines
//! inside brackets. Every error names its line and column; parameters are checked against the boto3
//! method's as botocore's validation does, before anything runs.

use std::fmt;

use super::value::Py;

/// Bounds on a program, so a hostile one is refused rather than run.
pub const MAX_PROGRAM_BYTES: usize = 1 << 20;
pub const MAX_STATEMENTS: usize = 10_000;
const MAX_DEPTH: usize = 32;
/// The longest single `time.sleep`: the longest retention period (14 days).
pub const MAX_SLEEP_MILLIS: u64 = 1_209_600_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl ProgramError {
    /// `file:line:col: message`.
    pub fn located(&self, file: &str) -> String {
        format!("{file}:{}:{}: {}", self.line, self.col, self.message)
    }
}

impl fmt::Display for ProgramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Lit(Py),
    Name { name: String, line: u32, col: u32 },
    List(Vec<Expr>),
    Dict(Vec<(String, Expr)>),
    Index { base: Box<Expr>, key: Py },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `sqs.method(args)` and subscripts applied to its reply.
    Call {
        method: String,
        args: Vec<(String, Expr)>,
        subscripts: Vec<Py>,
    },
    Sleep {
        millis: u64,
    },
    ShortPollSampling(bool),
    Print(Expr),
    /// A bare expression: its `repr` is printed, as in Python's interactive mode.
    Show(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub line: u32,
    /// The statement's text (its lines joined).
    pub source: String,
    pub target: Option<String>,
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Program {
    pub statements: Vec<Statement>,
}

/// One boto3 SQS method: its parameters (botocore's order) and which are required.
pub struct MethodSpec {
    pub name: &'static str,
    pub operation: &'static str,
    pub params: &'static [&'static str],
    pub required: &'static [&'static str],
}

pub const METHODS: &[MethodSpec] = &[
    MethodSpec {
        name: "create_queue",
        operation: "CreateQueue",
        params: &["QueueName", "Attributes", "tags"],
        required: &["QueueName"],
    },
    MethodSpec {
        name: "get_queue_url",
        operation: "GetQueueUrl",
        params: &["QueueName", "QueueOwnerAWSAccountId"],
        required: &["QueueName"],
    },
    MethodSpec {
        name: "list_queues",
        operation: "ListQueues",
        params: &["QueueNamePrefix", "NextToken", "MaxResults"],
        required: &[],
    },
    MethodSpec {
        name: "delete_queue",
        operation: "DeleteQueue",
        params: &["QueueUrl"],
        required: &["QueueUrl"],
    },
    MethodSpec {
        name: "get_queue_attributes",
        operation: "GetQueueAttributes",
        params: &["QueueUrl", "AttributeNames"],
        required: &["QueueUrl"],
    },
    MethodSpec {
        name: "set_queue_attributes",
        operation: "SetQueueAttributes",
        params: &["QueueUrl", "Attributes"],
        required: &["QueueUrl", "Attributes"],
    },
    MethodSpec {
        name: "purge_queue",
        operation: "PurgeQueue",
        params: &["QueueUrl"],
        required: &["QueueUrl"],
    },
    MethodSpec {
        name: "send_message",
        operation: "SendMessage",
        params: &[
            "QueueUrl",
            "MessageBody",
            "DelaySeconds",
            "MessageAttributes",
            "MessageSystemAttributes",
            "MessageDeduplicationId",
            "MessageGroupId",
        ],
        required: &["QueueUrl", "MessageBody"],
    },
    MethodSpec {
        name: "send_message_batch",
        operation: "SendMessageBatch",
        params: &["QueueUrl", "Entries"],
        required: &["QueueUrl", "Entries"],
    },
    MethodSpec {
        name: "receive_message",
        operation: "ReceiveMessage",
        params: &[
            "QueueUrl",
            "AttributeNames",
            "MessageSystemAttributeNames",
            "MessageAttributeNames",
            "MaxNumberOfMessages",
            "VisibilityTimeout",
            "WaitTimeSeconds",
            "ReceiveRequestAttemptId",
        ],
        required: &["QueueUrl"],
    },
    MethodSpec {
        name: "delete_message",
        operation: "DeleteMessage",
        params: &["QueueUrl", "ReceiptHandle"],
        required: &["QueueUrl", "ReceiptHandle"],
    },
    MethodSpec {
        name: "delete_message_batch",
        operation: "DeleteMessageBatch",
        params: &["QueueUrl", "Entries"],
        required: &["QueueUrl", "Entries"],
    },
    MethodSpec {
        name: "change_message_visibility",
        operation: "ChangeMessageVisibility",
        params: &["QueueUrl", "ReceiptHandle", "VisibilityTimeout"],
        required: &["QueueUrl", "ReceiptHandle", "VisibilityTimeout"],
    },
    MethodSpec {
        name: "change_message_visibility_batch",
        operation: "ChangeMessageVisibilityBatch",
        params: &["QueueUrl", "Entries"],
        required: &["QueueUrl", "Entries"],
    },
    // SNS (`sns = boto3.client("sns")`): the fan-out to SQS.
    MethodSpec {
        name: "sns.create_topic",
        operation: "CreateTopic",
        params: &["Name", "Attributes", "Tags", "DataProtectionPolicy"],
        required: &["Name"],
    },
    MethodSpec {
        name: "sns.subscribe",
        operation: "Subscribe",
        params: &["TopicArn", "Protocol", "Endpoint", "Attributes", "ReturnSubscriptionArn"],
        required: &["TopicArn", "Protocol"],
    },
    MethodSpec {
        name: "sns.publish",
        operation: "Publish",
        params: &[
            "TopicArn",
            "TargetArn",
            "PhoneNumber",
            "Message",
            "Subject",
            "MessageStructure",
            "MessageAttributes",
            "MessageDeduplicationId",
            "MessageGroupId",
        ],
        required: &["Message"],
    },
    MethodSpec {
        name: "start_message_move_task",
        operation: "StartMessageMoveTask",
        params: &["SourceArn", "DestinationArn", "MaxNumberOfMessagesPerSecond"],
        required: &["SourceArn"],
    },
    MethodSpec {
        name: "list_message_move_tasks",
        operation: "ListMessageMoveTasks",
        params: &["SourceArn", "MaxResults"],
        required: &["SourceArn"],
    },
    MethodSpec {
        name: "cancel_message_move_task",
        operation: "CancelMessageMoveTask",
        params: &["TaskHandle"],
        required: &["TaskHandle"],
    },
];

pub fn method(name: &str) -> Option<&'static MethodSpec> {
    METHODS.iter().find(|m| m.name == name)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(String),
    Punct(char),
    Newline,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: u32,
    col: u32,
}

fn err(line: u32, col: u32, message: impl Into<String>) -> ProgramError {
    ProgramError { line, col, message: message.into() }
}

/// Splits the text into tokens; newlines inside brackets are not statement ends (as in Python).
fn tokenize(text: &str) -> Result<Vec<Token>, ProgramError> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        let (tl, tc) = (line, col);
        let advance = |i: &mut usize, col: &mut u32| {
            *i += 1;
            *col += 1;
        };
        match c {
            '\n' => {
                if depth == 0 {
                    out.push(Token { tok: Tok::Newline, line: tl, col: tc });
                }
                i += 1;
                line += 1;
                col = 1;
            }
            ' ' | '\t' | '\r' => advance(&mut i, &mut col),
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                i += 2;
                line += 1;
                col = 1;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    advance(&mut i, &mut col);
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(err(tl, tc, format!("nesting deeper than {MAX_DEPTH} brackets")));
                }
                out.push(Token { tok: Tok::Punct(c), line: tl, col: tc });
                advance(&mut i, &mut col);
            }
            ')' | ']' | '}' => {
                if depth == 0 {
                    return Err(err(tl, tc, format!("unmatched '{c}'")));
                }
                depth -= 1;
                out.push(Token { tok: Tok::Punct(c), line: tl, col: tc });
                advance(&mut i, &mut col);
            }
            ',' | ':' | '=' | '.' | ';' | '-' => {
                out.push(Token { tok: Tok::Punct(c), line: tl, col: tc });
                advance(&mut i, &mut col);
            }
            '"' | '\'' => {
                let quote = c;
                advance(&mut i, &mut col);
                let mut s = String::new();
                loop {
                    let Some(&d) = chars.get(i) else {
                        return Err(err(tl, tc, "unterminated string literal"));
                    };
                    if d == '\n' {
                        return Err(err(tl, tc, "unterminated string literal"));
                    }
                    advance(&mut i, &mut col);
                    if d == quote {
                        break;
                    }
                    if d != '\\' {
                        s.push(d);
                        continue;
                    }
                    let Some(&e) = chars.get(i) else {
                        return Err(err(tl, tc, "unterminated string literal"));
                    };
                    advance(&mut i, &mut col);
                    match e {
                        'n' => s.push('\n'),
                        't' => s.push('\t'),
                        'r' => s.push('\r'),
                        '0' => s.push('\0'),
                        '\\' | '\'' | '"' => s.push(e),
                        'x' | 'u' => {
                            let n = if e == 'x' { 2 } else { 4 };
                            let hex: String = chars.iter().skip(i).take(n).collect();
                            let code = u32::from_str_radix(&hex, 16)
                                .ok()
                                .filter(|_| hex.len() == n)
                                .and_then(char::from_u32)
                                .ok_or_else(|| err(line, col, format!("invalid \\{e} escape")))?;
                            s.push(code);
                            for _ in 0..n {
                                advance(&mut i, &mut col);
                            }
                        }
                        other => {
                            s.push('\\');
                            s.push(other);
                        }
                    }
                }
                out.push(Token { tok: Tok::Str(s), line: tl, col: tc });
            }
            c if c.is_ascii_digit() => {
                let mut s = String::new();
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == '_') {
                    if chars[i] != '_' {
                        s.push(chars[i]);
                    }
                    advance(&mut i, &mut col);
                }
                let tok = if s.contains('.') {
                    if s.parse::<f64>().is_err() {
                        return Err(err(tl, tc, format!("invalid number '{s}'")));
                    }
                    Tok::Float(s)
                } else {
                    Tok::Int(s.parse().map_err(|_| err(tl, tc, format!("integer '{s}' out of range")))?)
                };
                out.push(Token { tok, line: tl, col: tc });
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut s = String::new();
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    s.push(chars[i]);
                    advance(&mut i, &mut col);
                }
                out.push(Token { tok: Tok::Ident(s), line: tl, col: tc });
            }
            other => return Err(err(tl, tc, format!("unexpected character '{other}'"))),
        }
    }
    if depth > 0 {
        return Err(err(line, col, "unexpected end of program: a bracket is not closed"));
    }
    out.push(Token { tok: Tok::Newline, line, col });
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Token>,
    pos: usize,
    lines: Vec<&'a str>,
    defined: Vec<String>,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn expect(&mut self, c: char) -> Result<Token, ProgramError> {
        let t = self.next();
        if t.tok == Tok::Punct(c) {
            Ok(t)
        } else {
            Err(err(t.line, t.col, format!("expected '{c}', found {}", describe(&t.tok))))
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek().tok == Tok::Punct(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Result<(String, u32, u32), ProgramError> {
        let t = self.next();
        match t.tok {
            Tok::Ident(s) => Ok((s, t.line, t.col)),
            other => Err(err(t.line, t.col, format!("expected a name, found {}", describe(&other)))),
        }
    }

    fn value(&mut self) -> Result<Expr, ProgramError> {
        let t = self.next();
        let mut e = match t.tok {
            Tok::Str(s) => {
                // Adjacent string literals concatenate, as in Python.
                let mut s = s;
                while let Tok::Str(more) = &self.peek().tok {
                    s.push_str(more);
                    self.pos += 1;
                }
                Expr::Lit(Py::Str(s))
            }
            Tok::Int(i) => Expr::Lit(Py::Int(i)),
            Tok::Float(f) => Expr::Lit(Py::Float(f)),
            Tok::Punct('-') => match self.next().tok {
                Tok::Int(i) => Expr::Lit(Py::Int(-i)),
                Tok::Float(f) => Expr::Lit(Py::Float(format!("-{f}"))),
                other => {
                    return Err(err(
                        t.line,
                        t.col,
                        format!("expected a number after '-', found {}", describe(&other)),
                    ))
                }
            },
            Tok::Ident(name) => match name.as_str() {
                "True" => Expr::Lit(Py::Bool(true)),
                "False" => Expr::Lit(Py::Bool(false)),
                "None" => Expr::Lit(Py::None),
                _ => {
                    if !self.defined.contains(&name) {
                        return Err(err(t.line, t.col, format!("name '{name}' is not defined")));
                    }
                    Expr::Name { name, line: t.line, col: t.col }
                }
            },
            Tok::Punct('[') => {
                let mut items = Vec::new();
                while !self.eat(']') {
                    items.push(self.value()?);
                    if !self.eat(',') {
                        self.expect(']')?;
                        break;
                    }
                }
                Expr::List(items)
            }
            Tok::Punct('{') => {
                let mut items = Vec::new();
                while !self.eat('}') {
                    let k = self.next();
                    let Tok::Str(key) = k.tok else {
                        return Err(err(
                            k.line,
                            k.col,
                            format!("expected a string key, found {}", describe(&k.tok)),
                        ));
                    };
                    self.expect(':')?;
                    items.push((key, self.value()?));
                    if !self.eat(',') {
                        self.expect('}')?;
                        break;
                    }
                }
                Expr::Dict(items)
            }
            other => return Err(err(t.line, t.col, format!("expected a value, found {}", describe(&other)))),
        };
        while self.peek().tok == Tok::Punct('[') {
            self.pos += 1;
            let key = self.subscript()?;
            e = Expr::Index { base: Box::new(e), key };
        }
        Ok(e)
    }

    fn subscript(&mut self) -> Result<Py, ProgramError> {
        let t = self.next();
        let key = match t.tok {
            Tok::Str(s) => Py::Str(s),
            Tok::Int(i) => Py::Int(i),
            Tok::Punct('-') => match self.next().tok {
                Tok::Int(i) => Py::Int(-i),
                other => {
                    return Err(err(t.line, t.col, format!("expected an index, found {}", describe(&other))))
                }
            },
            other => {
                return Err(err(
                    t.line,
                    t.col,
                    format!("expected a string or integer subscript, found {}", describe(&other)),
                ))
            }
        };
        self.expect(']')?;
        Ok(key)
    }

    fn args(&mut self) -> Result<Vec<(String, Expr, u32, u32)>, ProgramError> {
        let mut args = Vec::new();
        while !self.eat(')') {
            let (name, line, col) = self.ident()?;
            self.expect('=')?;
            if args.iter().any(|(n, _, _, _)| *n == name) {
                return Err(err(line, col, format!("keyword argument repeated: {name}")));
            }
            args.push((name, self.value()?, line, col));
            if !self.eat(',') {
                self.expect(')')?;
                break;
            }
        }
        Ok(args)
    }

    fn end_of_statement(&mut self) -> Result<(), ProgramError> {
        let t = self.next();
        match t.tok {
            Tok::Newline | Tok::Punct(';') => Ok(()),
            other => Err(err(
                t.line,
                t.col,
                format!("expected the end of the statement, found {}", describe(&other)),
            )),
        }
    }

    fn statement(&mut self) -> Result<Option<Statement>, ProgramError> {
        let first = self.peek().clone();
        let line = first.line;
        let source_line = self.lines.get(line as usize - 1).map(|l| l.trim()).unwrap_or("").to_string();
        let Tok::Ident(head) = &first.tok else {
            if let Tok::Punct('[' | '{') | Tok::Str(_) | Tok::Int(_) = first.tok {
                let e = self.value()?;
                self.end_of_statement()?;
                return Ok(Some(Statement {
                    line,
                    source: source_line,
                    target: None,
                    action: Action::Show(e),
                }));
            }
            return Err(err(
                first.line,
                first.col,
                format!("expected a statement, found {}", describe(&first.tok)),
            ));
        };
        // `import boto3`, `import time`: nothing to do.
        if head == "import" || head == "from" {
            while self.peek().tok != Tok::Newline {
                self.pos += 1;
            }
            self.pos += 1;
            return Ok(None);
        }
        let mut target = None;
        if self.toks.get(self.pos + 1).map(|t| &t.tok) == Some(&Tok::Punct('=')) {
            target = Some(head.clone());
            self.pos += 2;
        }
        let start = self.peek().clone();
        let Tok::Ident(object) = start.tok.clone() else {
            let e = self.value()?;
            self.end_of_statement()?;
            if let Some(t) = &target {
                self.defined.push(t.clone());
            }
            return Ok(Some(Statement { line, source: source_line, target, action: Action::Show(e) }));
        };
        let action = if self.toks.get(self.pos + 1).map(|t| &t.tok) == Some(&Tok::Punct('.')) {
            self.pos += 2;
            let (member, mline, mcol) = self.ident()?;
            self.expect('(')?;
            match object.as_str() {
                "boto3" if member == "client" => {
                    // `sqs = boto3.client("sqs", …)`: the client every `sqs.` call uses.
                    while !self.eat(')') {
                        self.next();
                    }
                    self.end_of_statement()?;
                    if !matches!(target.as_deref(), Some("sqs" | "sns")) {
                        return Err(err(start.line, start.col, "name the client `sqs` (or `sns`): sqs = boto3.client(\"sqs\")"));
                    }
                    return Ok(None);
                }
                "time" if member == "sleep" => {
                    let t = self.next();
                    let millis = match &t.tok {
                        Tok::Int(i) if *i >= 0 => (*i as u64).saturating_mul(1000),
                        Tok::Float(f) => seconds_to_millis(f).ok_or_else(|| err(t.line, t.col, format!("invalid sleep '{f}'")))?,
                        other => return Err(err(t.line, t.col, format!("expected seconds, found {}", describe(other)))),
                    };
                    if millis > MAX_SLEEP_MILLIS {
                        return Err(err(t.line, t.col, "a sleep is at most 1209600 seconds (14 days)"));
                    }
                    self.expect(')')?;
                    Action::Sleep { millis }
                }
                "brokerlab" if member == "short_poll_sampling" => {
                    let t = self.next();
                    let on = match t.tok {
                        Tok::Ident(ref b) if b == "True" => true,
                        Tok::Ident(ref b) if b == "False" => false,
                        other => return Err(err(t.line, t.col, format!("expected True or False, found {}", describe(&other)))),
                    };
                    self.expect(')')?;
                    Action::ShortPollSampling(on)
                }
                "sqs" | "sns" => {
                    let member = if object == "sns" { format!("sns.{member}") } else { member };
                    let spec = method(&member).ok_or_else(|| {
                        let client = if object == "sns" { "SNS" } else { "SQS" };
                        let bare = member.trim_start_matches("sns.");
                        err(mline, mcol, format!("'{client}' object has no attribute '{bare}' (this sandbox knows: {})", known_methods()))
                    })?;
                    let args = self.args()?;
                    for (name, _, l, c) in &args {
                        if !spec.params.contains(&name.as_str()) {
                            return Err(err(
                                *l,
                                *c,
                                format!("Unknown parameter in input: \"{name}\", must be one of: {}", spec.params.join(", ")),
                            ));
                        }
                    }
                    for r in spec.required {
                        if !args.iter().any(|(n, _, _, _)| n == r) {
                            return Err(err(mline, mcol, format!("Missing required parameter in input: \"{r}\"")));
                        }
                    }
                    let mut subscripts = Vec::new();
                    while self.eat('[') {
                        subscripts.push(self.subscript()?);
                    }
                    Action::Call {
                        method: member,
                        args: args.into_iter().map(|(n, e, _, _)| (n, e)).collect(),
                        subscripts,
                    }
                }
                _ => return Err(err(start.line, start.col, format!("unknown call '{object}.{member}' (use sqs.…, time.sleep or brokerlab.short_poll_sampling)"))),
            }
        } else if object == "print" && self.toks.get(self.pos + 1).map(|t| &t.tok) == Some(&Tok::Punct('(')) {
            self.pos += 2;
            let e = self.value()?;
            self.expect(')')?;
            Action::Print(e)
        } else {
            Action::Show(self.value()?)
        };
        self.end_of_statement()?;
        if let Some(t) = &target {
            if !self.defined.contains(t) {
                self.defined.push(t.clone());
            }
        }
        // The source of a statement spanning lines: all of them, joined.
        let end_line = self.toks[self.pos.saturating_sub(1)].line;
        let source = if end_line > line {
            (line..=end_line)
                .filter_map(|l| self.lines.get(l as usize - 1))
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            source_line
        };
        Ok(Some(Statement { line, source, target, action }))
    }
}

fn seconds_to_millis(f: &str) -> Option<u64> {
    let (whole, frac) = f.split_once('.').unwrap_or((f, ""));
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut frac = frac.to_string();
    if frac.len() > 3 && frac[3..].chars().any(|c| c != '0') {
        return None;
    }
    frac.truncate(3);
    while frac.len() < 3 {
        frac.push('0');
    }
    Some(whole.checked_mul(1000)? + frac.parse::<u64>().ok()?)
}

fn known_methods() -> String {
    METHODS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Str(_) => "a string".into(),
        Tok::Int(i) => format!("'{i}'"),
        Tok::Float(f) => format!("'{f}'"),
        Tok::Punct(c) => format!("'{c}'"),
        Tok::Newline => "the end of the line".into(),
    }
}

/// Parses a program.
pub fn parse(text: &str) -> Result<Program, ProgramError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > MAX_PROGRAM_BYTES {
        return Err(err(1, 1, format!("program larger than {MAX_PROGRAM_BYTES} bytes")));
    }
    let toks = tokenize(text)?;
    let mut p = Parser { toks, pos: 0, lines: text.lines().collect(), defined: Vec::new() };
    let mut statements = Vec::new();
    while p.pos < p.toks.len() {
        if matches!(p.peek().tok, Tok::Newline | Tok::Punct(';')) {
            p.pos += 1;
            continue;
        }
        if let Some(s) = p.statement()? {
            statements.push(s);
            if statements.len() > MAX_STATEMENTS {
                let t = p.peek();
                return Err(err(t.line, t.col, format!("more than {MAX_STATEMENTS} statements")));
            }
        }
    }
    Ok(Program { statements })
}
