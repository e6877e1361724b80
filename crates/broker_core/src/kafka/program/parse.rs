//! The `.kafka` line format: Java client statements as Kafka's javadoc writes them, and the command-line
//! tools of Kafka's quickstart, parsed into [`Statement`]s.
//!
//! A Java statement may span lines and ends with `;`. The expressions are a small subset of Java
//! (constructor calls, method chains, string and number literals, `null`, casts such as `(short) 1`, static
//! fields like `ConfigResource.Type.TOPIC`); what they mean is decided here, by shape, so every statement
//! the runner sees is one it can run. A line starting with `kafka-` (or `$ bin/kafka-…`) is a tool command;
//! `kafka-console-producer` takes the lines after it that start with `>` as its input. `//` starts a
//! comment. Every error names `line:col` of the first character that is wrong.

use super::client::{ClientCall, ConfigOp, NewTopic, OffsetQuery, PartitionOffset, SendRecord, Tp};
use std::collections::BTreeMap;
use std::fmt;

/// A malformed program: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub col: u32,
    /// What is wrong.
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

/// How `--reset-offsets` picks the new offsets (the tool's rules live in [`crate::kafka::tools`]).
pub use crate::kafka::tools::ResetSpec;

/// One of the quickstart's command-line tools, as the runner emulates it with the same client calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tool {
    /// `kafka-topics --create --topic T [--partitions N] [--replication-factor R] [--config k=v]…`.
    TopicsCreate { topic: NewTopic },
    /// `kafka-topics --describe --topic T`.
    TopicsDescribe { topic: String },
    /// `kafka-topics --delete --topic T`.
    TopicsDelete { topic: String },
    /// `kafka-topics --alter --topic T --partitions N`.
    TopicsAlter { topic: String, partitions: i32 },
    /// `kafka-console-producer --topic T [--property parse.key=true] [--property key.separator=S]
    /// [--producer-property k=v]…` and the `>` lines after it.
    ConsoleProducer {
        topic: String,
        parse_key: bool,
        separator: String,
        properties: Vec<(String, String)>,
        lines: Vec<String>,
    },
    /// `kafka-console-consumer --topic T [--from-beginning] [--group G] [--max-messages N]
    /// [--property print.key=true] [--timeout-ms N]`.
    ConsoleConsumer {
        topic: String,
        from_beginning: bool,
        group: Option<String>,
        max_messages: Option<i64>,
        print_key: bool,
    },
    /// `kafka-consumer-groups --describe --group G`.
    GroupsDescribe { group: String },
    /// `kafka-consumer-groups --reset-offsets --group G --topic T (--to-earliest|--to-latest|--to-offset N|
    /// --shift-by N) (--dry-run|--execute)`.
    GroupsReset { group: String, topic: String, spec: ResetSpec, execute: bool },
    /// `kafka-consumer-groups --delete-offsets --group G --topic T[:P,P…]…`: every partition of `T`, or
    /// the ones listed.
    GroupsDeleteOffsets { group: String, topics: Vec<(String, Option<Vec<i32>>)> },
    /// `kafka-server-stop --node-id N` / `kafka-server-start --node-id N`: a broker fault; `signal` is
    /// `SIGNAL=… kafka-server-stop`'s (the script's `kill -s $SIGNAL`): `KILL` a crash, not a controlled
    /// shutdown; `STOP` / `CONT` pause and resume the broker's process.
    Server { start: bool, node: i32, signal: ServerSignal },
    /// `kafka-leader-election --election-type PREFERRED|UNCLEAN --topic T --partition P` (the type in any
    /// case, as the tool takes it): one partition's election, reported as the tool reports it.
    LeaderElection { election: String, topic: String, partition: i32 },
}

/// The signal `kafka-server-stop` sends (`SIGNAL=…`, TERM by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerSignal {
    Term,
    Kill,
    Stop,
    Cont,
}

/// What a statement does when run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Builds `Properties` (nothing is sent).
    Local,
    /// One client call.
    Call(ClientCall),
    /// `consumer.poll(…).partitions().size()`: the poll, shown as how many partitions its records came
    /// from (a property that holds where the partitions themselves are drawn at random, as the null-key
    /// sticky partitioner's are).
    PartitionCount(ClientCall),
    /// A command-line tool.
    Tool(Tool),
}

/// One statement of a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Its first line.
    pub line: u32,
    /// Its text as written (continuation lines joined by one space; a tool's input lines left out).
    pub source: String,
    /// What it does.
    pub action: Action,
}

/// A parsed `.kafka` program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// The statements, in order.
    pub statements: Vec<Statement>,
}

/// The most statements a program may have, and the longest a program may be (bad input stays bounded).
pub const MAX_STATEMENTS: usize = 10_000;
const MAX_DEPTH: usize = 32;
const MAX_PROGRAM_BYTES: usize = 1 << 20;
/// The most bytes the `"…".repeat(n)` of one program may make in all (a value of a few hundred KB, as a
/// golden filling 1 MiB segments needs, fits many times).
const MAX_REPEAT_BYTES: usize = 16 << 20;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(i64),
    Punct(char),
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: u32,
    col: u32,
}

#[derive(Clone, Debug)]
enum Expr {
    Str(String),
    Num(i64),
    Null,
    Bool(bool),
    Name(String),
    /// `new Class<…>(args)`.
    New(String, Vec<Located>),
    /// `target.method(args)`; `target` is `None` for a bare call.
    Call(Box<Located>, String, Vec<Located>),
    /// `target.field`.
    Field(Box<Located>, String),
}

#[derive(Clone, Debug)]
struct Located {
    expr: Expr,
    line: u32,
    col: u32,
}

fn err<T>(line: u32, col: u32, message: impl Into<String>) -> Result<T, ProgramError> {
    Err(ProgramError { line, col, message: message.into() })
}

/// Splits one Java statement's text (from `line`) into tokens.
fn lex(chunks: &[(u32, &str)]) -> Result<Vec<Token>, ProgramError> {
    let mut out = Vec::new();
    for &(line, text) in chunks {
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let col = i as u32 + 1;
            if c.is_whitespace() {
                i += 1;
            } else if c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            } else if c == '"' {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return err(line, col, "this string is not closed on its line"),
                        Some('"') => break,
                        Some('\\') => {
                            let e = match chars.get(i + 1) {
                                Some('n') => '\n',
                                Some('t') => '\t',
                                Some('"') => '"',
                                Some('\\') => '\\',
                                _ => {
                                    return err(
                                        line,
                                        i as u32 + 1,
                                        "unknown escape in a string (use \\n \\t \\\" \\\\)",
                                    )
                                }
                            };
                            s.push(e);
                            i += 2;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push(Token { tok: Tok::Str(s), line, col });
            } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '_') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().filter(|&&d| d != '_').collect();
                if i < chars.len() && (chars[i] == 'L' || chars[i] == 'l') {
                    i += 1;
                }
                if i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '.') {
                    return err(line, col, "a whole number is expected here");
                }
                let n = text
                    .parse::<i64>()
                    .or_else(|_| err(line, col, format!("{text} does not fit in a long")))?;
                out.push(Token { tok: Tok::Num(n), line, col });
            } else if c.is_alphabetic() || c == '_' || c == '$' {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                    i += 1;
                }
                out.push(Token { tok: Tok::Ident(chars[start..i].iter().collect()), line, col });
            } else if "(),;.<>=[]?{}:".contains(c) {
                out.push(Token { tok: Tok::Punct(c), line, col });
                i += 1;
            } else {
                return err(line, col, format!("unexpected character '{c}'"));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Token>,
    at: usize,
    /// Where the statement ends (for errors at its end).
    end: (u32, u32),
    /// How many bytes `"…".repeat(n)` may still make in this program (bad input stays bounded).
    repeat_budget: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.tok)
    }
    fn pos(&self) -> (u32, u32) {
        self.toks.get(self.at).map(|t| (t.line, t.col)).unwrap_or(self.end)
    }
    fn is(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }
    fn expect(&mut self, c: char) -> Result<(), ProgramError> {
        if self.is(c) {
            self.at += 1;
            Ok(())
        } else {
            let (l, col) = self.pos();
            err(l, col, format!("expected '{c}' here"))
        }
    }
    fn ident(&mut self) -> Result<String, ProgramError> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.at += 1;
                Ok(s)
            }
            _ => {
                let (l, c) = self.pos();
                err(l, c, "expected a name here")
            }
        }
    }
    /// Skips `<…>` type arguments (balanced).
    fn skip_type_args(&mut self) -> Result<(), ProgramError> {
        if !self.is('<') {
            return Ok(());
        }
        let (l, c) = self.pos();
        let mut depth = 0;
        while let Some(t) = self.peek() {
            match t {
                Tok::Punct('<') => depth += 1,
                Tok::Punct('>') => depth -= 1,
                Tok::Ident(_)
                | Tok::Punct(',')
                | Tok::Punct('?')
                | Tok::Punct('.')
                | Tok::Punct('[')
                | Tok::Punct(']') => {}
                _ => return err(l, c, "malformed type arguments"),
            }
            self.at += 1;
            if depth == 0 {
                return Ok(());
            }
        }
        err(l, c, "type arguments are not closed with '>'")
    }
    fn args(&mut self, depth: usize) -> Result<Vec<Located>, ProgramError> {
        self.expect('(')?;
        let mut out = Vec::new();
        if self.is(')') {
            self.at += 1;
            return Ok(out);
        }
        loop {
            out.push(self.expr(depth + 1)?);
            if self.is(',') {
                self.at += 1;
                continue;
            }
            self.expect(')')?;
            return Ok(out);
        }
    }
    fn expr(&mut self, depth: usize) -> Result<Located, ProgramError> {
        let (line, col) = self.pos();
        if depth > MAX_DEPTH {
            return err(line, col, "expressions nest too deeply");
        }
        let mut e = match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.at += 1;
                Expr::Str(s)
            }
            Some(Tok::Num(n)) => {
                self.at += 1;
                Expr::Num(n)
            }
            Some(Tok::Punct('(')) => {
                // A cast: `(short) 1`, `(int) 3`.
                self.at += 1;
                let ty = self.ident()?;
                if !["short", "int", "long", "Short", "Integer", "Long"].contains(&ty.as_str()) {
                    return err(
                        line,
                        col + 1,
                        format!("only a number cast like (short) is allowed here, not ({ty})"),
                    );
                }
                self.expect(')')?;
                return self.expr(depth + 1);
            }
            Some(Tok::Ident(word)) if word == "new" => {
                self.at += 1;
                let mut class = self.ident()?;
                while self.is('.') {
                    self.at += 1;
                    class = format!("{class}.{}", self.ident()?);
                }
                self.skip_type_args()?;
                let args = self.args(depth)?;
                Expr::New(class, args)
            }
            Some(Tok::Ident(word)) => {
                self.at += 1;
                match word.as_str() {
                    "null" => Expr::Null,
                    "true" => Expr::Bool(true),
                    "false" => Expr::Bool(false),
                    _ => {
                        if self.is('(') {
                            let args = self.args(depth)?;
                            let target = Located { expr: Expr::Name(String::new()), line, col };
                            Expr::Call(Box::new(target), word, args)
                        } else {
                            Expr::Name(word)
                        }
                    }
                }
            }
            _ => return err(line, col, "expected a value here"),
        };
        let mut steps = 0;
        while self.is('.') {
            steps += 1;
            if steps > MAX_DEPTH {
                return err(line, col, "the call chain is too long");
            }
            self.at += 1;
            let (name_line, name_col) = self.pos();
            let name = self.ident()?;
            if let (Expr::Str(s), "repeat", true) = (&e, name.as_str(), self.is('(')) {
                // Java's `String.repeat(count)`: a long value without a long line.
                let args = self.args(depth)?;
                let count = match args.as_slice() {
                    [Located { expr: Expr::Num(n), .. }] => *n,
                    _ => return err(name_line, name_col, "repeat takes one whole number"),
                };
                let count = usize::try_from(count)
                    .or_else(|_| err(name_line, name_col, format!("count is negative: {count}")))?;
                let bytes = s.len().saturating_mul(count);
                if bytes > self.repeat_budget {
                    return err(
                        name_line,
                        name_col,
                        format!("repeat makes at most {MAX_REPEAT_BYTES} bytes in a program"),
                    );
                }
                self.repeat_budget -= bytes;
                e = Expr::Str(s.repeat(count));
                continue;
            }
            let target = Box::new(Located { expr: e, line, col });
            e = if self.is('(') {
                Expr::Call(target, name, self.args(depth)?)
            } else {
                Expr::Field(target, name)
            };
        }
        Ok(Located { expr: e, line, col })
    }
}

/// What a program's variable holds.
#[derive(Clone, Debug, PartialEq)]
enum Var {
    Props(Vec<(String, String)>),
    Admin,
    Producer,
    Consumer,
    /// A `KafkaShareConsumer`.
    ShareConsumer,
    /// The records of a share consumer's poll (`ConsumerRecords<…> records = share.poll(…)`).
    Records(String),
    /// A result kept in a variable (`RecordMetadata m = …`): it can be named, not used.
    Value,
}

struct Context {
    vars: BTreeMap<String, Var>,
}

fn str_of(e: &Located) -> Result<String, ProgramError> {
    match &e.expr {
        Expr::Str(s) => Ok(s.clone()),
        _ => err(e.line, e.col, "expected a string here"),
    }
}

fn opt_str_of(e: &Located) -> Result<Option<String>, ProgramError> {
    match &e.expr {
        Expr::Null => Ok(None),
        Expr::Str(s) => Ok(Some(s.clone())),
        _ => err(e.line, e.col, "expected a string or null here"),
    }
}

fn num_of(e: &Located) -> Result<i64, ProgramError> {
    match &e.expr {
        Expr::Num(n) => Ok(*n),
        _ => err(e.line, e.col, "expected a whole number here"),
    }
}

fn int_of(e: &Located) -> Result<i32, ProgramError> {
    let n = num_of(e)?;
    i32::try_from(n).or_else(|_| err(e.line, e.col, format!("{n} does not fit in an int")))
}

fn arity(e: &Located, what: &str, args: &[Located], n: &[usize]) -> Result<(), ProgramError> {
    if n.contains(&args.len()) {
        Ok(())
    } else {
        let want: Vec<String> = n.iter().map(|k| k.to_string()).collect();
        err(e.line, e.col, format!("{what} takes {} argument(s), not {}", want.join(" or "), args.len()))
    }
}

/// `List.of(a, b)`, `Set.of(…)`, `Arrays.asList(…)`, `Collections.singleton(…)`/`singletonList(…)`.
fn list_of(e: &Located) -> Result<&[Located], ProgramError> {
    if let Expr::Call(target, method, args) = &e.expr {
        if let Expr::Name(class) = &target.expr {
            let ok = matches!(
                (class.as_str(), method.as_str()),
                ("List" | "Set", "of")
                    | ("Arrays", "asList")
                    | ("Collections", "singleton" | "singletonList")
            );
            if ok {
                return Ok(args);
            }
        }
    }
    err(e.line, e.col, "expected a list here, like List.of(…)")
}

/// `Map.of(k1, v1, k2, v2…)` or `Collections.singletonMap(k, v)` as pairs.
fn map_of(e: &Located) -> Result<Vec<(&Located, &Located)>, ProgramError> {
    if let Expr::Call(target, method, args) = &e.expr {
        if let Expr::Name(class) = &target.expr {
            if (class == "Map" && method == "of") || (class == "Collections" && method == "singletonMap") {
                if args.len() % 2 != 0 {
                    return err(e.line, e.col, "Map.of takes keys and values in pairs");
                }
                return Ok(args.chunks(2).map(|p| (&p[0], &p[1])).collect());
            }
        }
    }
    err(e.line, e.col, "expected a map here, like Map.of(key, value)")
}

fn tp_of(e: &Located) -> Result<Tp, ProgramError> {
    match &e.expr {
        Expr::New(class, args) if class == "TopicPartition" => {
            arity(e, "new TopicPartition", args, &[2])?;
            Ok(Tp { topic: str_of(&args[0])?, partition: int_of(&args[1])? })
        }
        _ => err(e.line, e.col, "expected new TopicPartition(topic, partition) here"),
    }
}

fn tps_of(e: &Located) -> Result<Vec<Tp>, ProgramError> {
    list_of(e)?.iter().map(tp_of).collect()
}

fn strs_of(e: &Located) -> Result<Vec<String>, ProgramError> {
    match &e.expr {
        Expr::Str(s) => Ok(vec![s.clone()]),
        _ => list_of(e)?.iter().map(str_of).collect(),
    }
}

fn new_topic_of(e: &Located) -> Result<NewTopic, ProgramError> {
    // `new NewTopic(…)` possibly followed by `.configs(Map.of(…))`.
    let (base, configs) = match &e.expr {
        Expr::Call(target, m, args) if m == "configs" => {
            arity(e, "configs", args, &[1])?;
            let mut configs = Vec::new();
            for (k, v) in map_of(&args[0])? {
                configs.push((str_of(k)?, str_of(v)?));
            }
            (target.as_ref(), configs)
        }
        _ => (e, Vec::new()),
    };
    match &base.expr {
        Expr::New(class, args) if class == "NewTopic" && args.len() == 2 => {
            // `new NewTopic(name, Map.of(partition, List.of(broker, …), …))`: replicas by hand.
            let mut replica_assignment: Vec<(i32, Vec<i32>)> = Vec::new();
            for (k, v) in map_of(&args[1])? {
                let partition = int_of(k)?;
                if replica_assignment.iter().any(|(p, _)| *p == partition) {
                    // Java's Map.of refuses a repeated key.
                    return err(k.line, k.col, format!("duplicate key: {partition}"));
                }
                let replicas = list_of(v)?.iter().map(int_of).collect::<Result<Vec<_>, _>>()?;
                replica_assignment.push((partition, replicas));
            }
            replica_assignment.sort_by_key(|(p, _)| *p);
            Ok(NewTopic {
                name: str_of(&args[0])?,
                partitions: None,
                replication_factor: None,
                configs,
                replica_assignment,
            })
        }
        Expr::New(class, args) if class == "NewTopic" => {
            arity(base, "new NewTopic", args, &[2, 3])?;
            let optional = |a: &Located| -> Result<Option<i64>, ProgramError> {
                match &a.expr {
                    Expr::Call(t, m, x)
                        if m == "empty"
                            && x.is_empty()
                            && matches!(&t.expr, Expr::Name(n) if n == "Optional") =>
                    {
                        Ok(None)
                    }
                    Expr::Call(t, m, x)
                        if m == "of"
                            && x.len() == 1
                            && matches!(&t.expr, Expr::Name(n) if n == "Optional") =>
                    {
                        Ok(Some(num_of(&x[0])?))
                    }
                    _ => Ok(Some(num_of(a)?)),
                }
            };
            let partitions = optional(&args[1])?
                .map(|n| {
                    i32::try_from(n)
                        .or_else(|_| err(args[1].line, args[1].col, format!("{n} does not fit in an int")))
                })
                .transpose()?;
            let rf = optional(&args[2])?
                .map(|n| {
                    i16::try_from(n)
                        .or_else(|_| err(args[2].line, args[2].col, format!("{n} does not fit in a short")))
                })
                .transpose()?;
            Ok(NewTopic {
                name: str_of(&args[0])?,
                partitions,
                replication_factor: rf,
                configs,
                replica_assignment: Vec::new(),
            })
        }
        _ => err(e.line, e.col, "expected new NewTopic(name, partitions, (short) replicationFactor) here"),
    }
}

/// `new ConfigResource(ConfigResource.Type.TOPIC, "t")` → the topic.
/// `new ConfigResource(ConfigResource.Type.TOPIC | GROUP, name)` → (is a group, name).
fn resource_of(e: &Located) -> Result<(bool, String), ProgramError> {
    if let Expr::New(class, args) = &e.expr {
        if class == "ConfigResource"
            && args.len() == 2
            && matches!(&args[0].expr, Expr::Field(_, f) if f == "GROUP")
        {
            return Ok((true, str_of(&args[1])?));
        }
    }
    Ok((false, topic_resource_of(e)?))
}

fn topic_resource_of(e: &Located) -> Result<String, ProgramError> {
    if let Expr::New(class, args) = &e.expr {
        if class == "ConfigResource" && args.len() == 2 {
            let is_topic = matches!(&args[0].expr, Expr::Field(_, f) if f == "TOPIC");
            if !is_topic {
                return err(args[0].line, args[0].col, "only ConfigResource.Type.TOPIC is supported");
            }
            return str_of(&args[1]);
        }
    }
    err(e.line, e.col, "expected new ConfigResource(ConfigResource.Type.TOPIC, topic) here")
}

/// `new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET|DELETE)`.
fn config_op_of(e: &Located) -> Result<ConfigOp, ProgramError> {
    if let Expr::New(class, args) = &e.expr {
        if class == "AlterConfigOp" && args.len() == 2 {
            let (name, value) = match &args[0].expr {
                Expr::New(c, kv) if c == "ConfigEntry" && kv.len() == 2 => {
                    (str_of(&kv[0])?, opt_str_of(&kv[1])?)
                }
                _ => return err(args[0].line, args[0].col, "expected new ConfigEntry(name, value) here"),
            };
            return match &args[1].expr {
                Expr::Field(_, op) if op == "SET" => {
                    Ok(ConfigOp { name, value: Some(value.unwrap_or_default()) })
                }
                Expr::Field(_, op) if op == "DELETE" => Ok(ConfigOp { name, value: None }),
                _ => err(
                    args[1].line,
                    args[1].col,
                    "expected AlterConfigOp.OpType.SET or AlterConfigOp.OpType.DELETE",
                ),
            };
        }
    }
    err(
        e.line,
        e.col,
        "expected new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET) here",
    )
}

/// `Duration.ofMillis(n)` / `ofSeconds(n)` in ms.
fn duration_of(e: &Located) -> Result<i64, ProgramError> {
    if let Expr::Call(t, m, args) = &e.expr {
        if matches!(&t.expr, Expr::Name(n) if n == "Duration") && args.len() == 1 {
            let n = num_of(&args[0])?;
            let ms = match m.as_str() {
                "ofMillis" => Some(n),
                "ofSeconds" => n.checked_mul(1000),
                _ => return err(e.line, e.col, "expected Duration.ofMillis(n) or Duration.ofSeconds(n)"),
            };
            return match ms {
                Some(ms) if (0..=3_600_000).contains(&ms) => Ok(ms),
                _ => err(args[0].line, args[0].col, "a duration in a program is from 0 to one hour"),
            };
        }
    }
    err(e.line, e.col, "expected Duration.ofMillis(n) here")
}

fn record_of(e: &Located) -> Result<SendRecord, ProgramError> {
    match &e.expr {
        Expr::New(class, args) if class == "ProducerRecord" => {
            let topic = str_of(args.first().ok_or_else(|| ProgramError {
                line: e.line,
                col: e.col,
                message: "new ProducerRecord needs a topic".into(),
            })?)?;
            let opt_int = |a: &Located| -> Result<Option<i64>, ProgramError> {
                match &a.expr {
                    Expr::Null => Ok(None),
                    _ => Ok(Some(num_of(a)?)),
                }
            };
            // The Java constructors: (topic, value), (topic, key, value), (topic, partition, key, value),
            // (topic, partition, timestamp, key, value), and the last two with headers at the end.
            let with_headers = matches!(args.len(), 5 | 6)
                && matches!(&args[args.len() - 1].expr, Expr::Call(_, m, _) if m == "of");
            let (args, headers) = if with_headers {
                (&args[..args.len() - 1], headers_of(&args[args.len() - 1])?)
            } else {
                (&args[..], Vec::new())
            };
            let (partition, timestamp, key, value) = match args.len() {
                2 => (None, None, None, opt_str_of(&args[1])?),
                3 => (None, None, opt_str_of(&args[1])?, opt_str_of(&args[2])?),
                4 => (opt_int(&args[1])?, None, opt_str_of(&args[2])?, opt_str_of(&args[3])?),
                5 => (opt_int(&args[1])?, opt_int(&args[2])?, opt_str_of(&args[3])?, opt_str_of(&args[4])?),
                n => {
                    return err(e.line, e.col, format!("new ProducerRecord takes 2 to 6 arguments, not {n}"))
                }
            };
            let partition = partition
                .map(|p| {
                    i32::try_from(p)
                        .or_else(|_| err(args[1].line, args[1].col, format!("{p} does not fit in an int")))
                })
                .transpose()?;
            Ok(SendRecord { topic, partition, timestamp, key, value, headers })
        }
        _ => err(e.line, e.col, "expected new ProducerRecord<>(topic, key, value) here"),
    }
}

/// `List.of(new RecordHeader("k", "v".getBytes()), …)` → the headers (a value may be `null`).
fn headers_of(e: &Located) -> Result<Vec<(String, Option<String>)>, ProgramError> {
    let mut out = Vec::new();
    for h in list_of(e)? {
        match &h.expr {
            Expr::New(class, a)
                if (class == "RecordHeader" || class.ends_with(".RecordHeader")) && a.len() == 2 =>
            {
                let key = str_of(&a[0])?;
                let value = match &a[1].expr {
                    Expr::Null => None,
                    Expr::Call(t, m, _) if m == "getBytes" => Some(str_of(t)?),
                    _ => return err(a[1].line, a[1].col, "expected \"value\".getBytes() or null here"),
                };
                out.push((key, value));
            }
            _ => return err(h.line, h.col, "expected new RecordHeader(key, value.getBytes()) here"),
        }
    }
    Ok(out)
}

/// `Map.of(tp, ts, …)` of `offsetsForTimes`.
fn timestamps_of(e: &Located) -> Result<Vec<(Tp, i64)>, ProgramError> {
    map_of(e)?.into_iter().map(|(tp, ts)| Ok((tp_of(tp)?, num_of(ts)?))).collect()
}

/// `c.offsetsForTimes(Map.of(tp, ts)).get(tp).offset()` (the Java idiom of a seek by timestamp) → the
/// consumer's name and the timestamp, when `e` is that expression.
fn offset_for_time_of(e: &Located, tp: &Tp) -> Result<Option<(String, i64)>, ProgramError> {
    let Expr::Call(get, m, a) = &e.expr else { return Ok(None) };
    if m != "offset" || !a.is_empty() {
        return Ok(None);
    }
    let Expr::Call(lookup, gm, ga) = &get.expr else { return Ok(None) };
    if gm != "get" || ga.len() != 1 {
        return Ok(None);
    }
    let Expr::Call(target, om, oa) = &lookup.expr else { return Ok(None) };
    if om != "offsetsForTimes" || oa.len() != 1 {
        return Ok(None);
    }
    let Expr::Name(consumer) = &target.expr else { return Ok(None) };
    let query = timestamps_of(&oa[0])?;
    let key = tp_of(&ga[0])?;
    match query.as_slice() {
        [(q, ts)] if *q == key && q == tp => Ok(Some((consumer.clone(), *ts))),
        _ => err(
            oa[0].line,
            oa[0].col,
            "a seek by timestamp looks up the partition it seeks: seek(tp, c.offsetsForTimes(Map.of(tp, ts)).get(tp).offset())",
        ),
    }
}

/// Strips a trailing `.all().get()` / `.get()` / `.all()` / `.values()` / `.allTopicNames().get()` chain.
fn strip_future(mut e: &Located) -> &Located {
    loop {
        match &e.expr {
            Expr::Call(t, m, args)
                if args.is_empty()
                    && [
                        "get",
                        "all",
                        "values",
                        "allTopicNames",
                        "partitionsToOffsetAndMetadata",
                        "describedGroups",
                        "lowWatermark",
                    ]
                    .contains(&m.as_str()) =>
            {
                e = t
            }
            _ => return e,
        }
    }
}

impl Context {
    fn var(&self, e: &Located) -> Result<(String, Var), ProgramError> {
        match &e.expr {
            Expr::Name(n) => match self.vars.get(n) {
                Some(v) => Ok((n.clone(), v.clone())),
                None => err(e.line, e.col, format!("'{n}' is not declared before this line")),
            },
            _ => err(e.line, e.col, "expected a variable here"),
        }
    }

    fn props_of(&self, e: &Located) -> Result<Vec<(String, String)>, ProgramError> {
        match self.var(e)? {
            (_, Var::Props(p)) => Ok(p),
            (n, _) => err(e.line, e.col, format!("'{n}' is not a Properties")),
        }
    }

    /// The value of a declaration's right side (what the variable then holds) and its action.
    fn value(&mut self, e: &Located, declared: Option<&str>) -> Result<(Var, Action), ProgramError> {
        match &e.expr {
            Expr::New(class, args) if class == "Properties" => {
                arity(e, "new Properties", args, &[0])?;
                Ok((Var::Props(Vec::new()), Action::Local))
            }
            Expr::New(class, args) if class == "KafkaShareConsumer" => {
                arity(e, class, args, &[1, 3])?;
                let properties = self.props_of(&args[0])?;
                let share = declared
                    .ok_or_else(|| ProgramError {
                        line: e.line,
                        col: e.col,
                        message: format!("keep the new {class} in a variable"),
                    })?
                    .to_string();
                Ok((Var::ShareConsumer, Action::Call(ClientCall::NewShareConsumer { share, properties })))
            }
            Expr::New(class, args) if class == "KafkaProducer" || class == "KafkaConsumer" => {
                arity(e, class, args, &[1, 3])?;
                let properties = self.props_of(&args[0])?;
                let name = declared
                    .ok_or_else(|| ProgramError {
                        line: e.line,
                        col: e.col,
                        message: format!("keep the new {class} in a variable"),
                    })?
                    .to_string();
                if class == "KafkaProducer" {
                    Ok((Var::Producer, Action::Call(ClientCall::NewProducer { producer: name, properties })))
                } else {
                    Ok((Var::Consumer, Action::Call(ClientCall::NewConsumer { consumer: name, properties })))
                }
            }
            Expr::Call(t, m, args)
                if m == "create"
                    && matches!(&t.expr, Expr::Name(n) if n == "Admin" || n == "AdminClient") =>
            {
                arity(e, "Admin.create", args, &[1])?;
                let properties = self.props_of(&args[0])?;
                let name = declared
                    .ok_or_else(|| ProgramError {
                        line: e.line,
                        col: e.col,
                        message: "keep the new Admin in a variable".into(),
                    })?
                    .to_string();
                Ok((Var::Admin, Action::Call(ClientCall::NewAdmin { admin: name, properties })))
            }
            _ => match self.call(e)? {
                Action::Call(ClientCall::SharePoll { share, timeout_ms }) => Ok((
                    Var::Records(share.clone()),
                    Action::Call(ClientCall::SharePoll { share, timeout_ms }),
                )),
                action => Ok((Var::Value, action)),
            },
        }
    }

    fn call(&mut self, whole: &Located) -> Result<Action, ProgramError> {
        // `producer.send(r).get()` keeps its `.get()`; every other future is waited for.
        if let Expr::Call(inner, m, args) = &whole.expr {
            if m == "get" && args.is_empty() {
                if let Expr::Call(t, m2, a2) = &inner.expr {
                    if m2 == "send" {
                        return self.method(inner, t, m2, a2, true);
                    }
                }
            }
        }
        // `consumer.poll(…).partitions().size()`: how many partitions the poll's records came from.
        if let Expr::Call(parts, size, a1) = &whole.expr {
            if let Expr::Call(poll, partitions, a2) = &parts.expr {
                if size == "size" && a1.is_empty() && partitions == "partitions" && a2.is_empty() {
                    if let Expr::Call(t, m, args) = &poll.expr {
                        if m == "poll" && matches!(self.var(t)?.1, Var::Consumer) {
                            return match self.method(poll, t, m, args, false)? {
                                Action::Call(call) => Ok(Action::PartitionCount(call)),
                                other => Ok(other),
                            };
                        }
                    }
                }
            }
        }
        let e = strip_future(whole);
        match &e.expr {
            Expr::Call(t, m, args) => self.method(e, t, m, args, false),
            _ => err(e.line, e.col, "expected a method call here"),
        }
    }

    fn method(
        &mut self,
        e: &Located,
        target: &Located,
        m: &str,
        args: &[Located],
        get: bool,
    ) -> Result<Action, ProgramError> {
        if let Expr::Name(class) = &target.expr {
            if class == "Thread" && m == "sleep" {
                arity(e, "Thread.sleep", args, &[1])?;
                let ms = num_of(&args[0])?;
                if !(0..=3_600_000).contains(&ms) {
                    return err(args[0].line, args[0].col, "a sleep in a program is from 0 to one hour");
                }
                return Ok(Action::Call(ClientCall::Sleep { ms }));
            }
        }
        let (name, var) = self.var(target)?;
        let call = match (var, m) {
            (Var::Props(mut p), "put" | "setProperty") => {
                arity(e, m, args, &[2])?;
                let key = str_of(&args[0])?;
                let value = match &args[1].expr {
                    Expr::Str(s) => s.clone(),
                    Expr::Num(n) => n.to_string(),
                    Expr::Bool(b) => b.to_string(),
                    Expr::Field(_, f) => f.clone(),
                    Expr::Call(t, cm, _) if cm == "getName" => match &t.expr {
                        Expr::Field(c, f) if f == "class" => match &c.expr {
                            Expr::Name(n) => n.clone(),
                            _ => return err(args[1].line, args[1].col, "expected a value here"),
                        },
                        _ => return err(args[1].line, args[1].col, "expected a value here"),
                    },
                    _ => return err(args[1].line, args[1].col, "expected a string or number value here"),
                };
                p.retain(|(k, _)| *k != key);
                p.push((key, value));
                self.vars.insert(name, Var::Props(p));
                return Ok(Action::Local);
            }
            (Var::Admin, "createTopics") => {
                arity(e, m, args, &[1])?;
                ClientCall::CreateTopics {
                    admin: name,
                    topics: list_of(&args[0])?.iter().map(new_topic_of).collect::<Result<_, _>>()?,
                }
            }
            (Var::Admin, "deleteTopics") => {
                arity(e, m, args, &[1])?;
                ClientCall::DeleteTopics { admin: name, topics: strs_of(&args[0])? }
            }
            (Var::Admin, "electLeaders") => {
                arity(e, m, args, &[2])?;
                let election = match &args[0].expr {
                    Expr::Field(t, f)
                        if matches!(&t.expr, Expr::Name(n) if n == "ElectionType")
                            && (f == "PREFERRED" || f == "UNCLEAN") =>
                    {
                        f.clone()
                    }
                    _ => return err(args[0].line, args[0].col, "expected ElectionType.PREFERRED or ElectionType.UNCLEAN here"),
                };
                ClientCall::ElectLeaders { admin: name, election, partitions: tps_of(&args[1])? }
            }
            (Var::Admin, "describeTopics") => {
                arity(e, m, args, &[1])?;
                ClientCall::DescribeTopics { admin: name, topics: strs_of(&args[0])? }
            }
            (Var::Admin, "describeCluster") => {
                arity(e, m, args, &[0])?;
                ClientCall::DescribeCluster { admin: name }
            }
            (Var::Admin, "createPartitions") => {
                arity(e, m, args, &[1])?;
                let pairs = map_of(&args[0])?;
                let [(topic, np)] = pairs.as_slice() else {
                    return err(
                        args[0].line,
                        args[0].col,
                        "give one topic per createPartitions in a program",
                    );
                };
                let total = match &np.expr {
                    Expr::Call(t, im, a)
                        if im == "increaseTo"
                            && a.len() == 1
                            && matches!(&t.expr, Expr::Name(n) if n == "NewPartitions") =>
                    {
                        int_of(&a[0])?
                    }
                    _ => return err(np.line, np.col, "expected NewPartitions.increaseTo(n) here"),
                };
                ClientCall::CreatePartitions { admin: name, topic: str_of(topic)?, total }
            }
            (Var::Admin, "incrementalAlterConfigs") => {
                arity(e, m, args, &[1])?;
                let pairs = map_of(&args[0])?;
                let [(resource, ops)] = pairs.as_slice() else {
                    return err(
                        args[0].line,
                        args[0].col,
                        "give one topic per incrementalAlterConfigs in a program",
                    );
                };
                let ops = list_of(ops)?.iter().map(config_op_of).collect::<Result<_, _>>()?;
                match resource_of(resource)? {
                    (true, group) => ClientCall::AlterGroupConfigs { admin: name, group, ops },
                    (false, topic) => ClientCall::IncrementalAlterConfigs { admin: name, topic, ops },
                }
            }
            (Var::Admin, "describeConfigs") => {
                arity(e, m, args, &[1])?;
                let list = list_of(&args[0])?;
                let [resource] = list else {
                    return err(args[0].line, args[0].col, "give one topic per describeConfigs in a program");
                };
                ClientCall::DescribeConfigs { admin: name, topic: topic_resource_of(resource)? }
            }
            (Var::Admin, "deleteRecords") => {
                arity(e, m, args, &[1])?;
                let pairs = map_of(&args[0])?;
                let [(tp, before)] = pairs.as_slice() else {
                    return err(
                        args[0].line,
                        args[0].col,
                        "give one partition per deleteRecords in a program",
                    );
                };
                let before_offset = match &before.expr {
                    Expr::Call(t, bm, a)
                        if bm == "beforeOffset"
                            && a.len() == 1
                            && matches!(&t.expr, Expr::Name(n) if n == "RecordsToDelete") =>
                    {
                        num_of(&a[0])?
                    }
                    _ => {
                        return err(before.line, before.col, "expected RecordsToDelete.beforeOffset(n) here")
                    }
                };
                ClientCall::DeleteRecords { admin: name, partition: tp_of(tp)?, before_offset }
            }
            (Var::Admin, "listOffsets") => {
                arity(e, m, args, &[1])?;
                let pairs = map_of(&args[0])?;
                let [(tp, spec)] = pairs.as_slice() else {
                    return err(args[0].line, args[0].col, "give one partition per listOffsets in a program");
                };
                let spec = match &spec.expr {
                    Expr::Call(t, sm, a) if matches!(&t.expr, Expr::Name(n) if n == "OffsetSpec") => {
                        match (sm.as_str(), a.len()) {
                            ("earliest", 0) => OffsetQuery::Earliest,
                            ("latest", 0) => OffsetQuery::Latest,
                            ("forTimestamp", 1) => OffsetQuery::ForTimestamp(num_of(&a[0])?),
                            _ => {
                                return err(
                                    spec.line,
                                    spec.col,
                                    "expected OffsetSpec.earliest(), latest() or forTimestamp(ms)",
                                )
                            }
                        }
                    }
                    _ => {
                        return err(
                            spec.line,
                            spec.col,
                            "expected OffsetSpec.earliest(), latest() or forTimestamp(ms)",
                        )
                    }
                };
                ClientCall::ListOffsets { admin: name, partition: tp_of(tp)?, spec }
            }
            (Var::Admin, "listConsumerGroupOffsets") => {
                arity(e, m, args, &[1])?;
                ClientCall::ListConsumerGroupOffsets { admin: name, group: str_of(&args[0])? }
            }
            (Var::Admin, "describeConsumerGroups") => {
                arity(e, m, args, &[1])?;
                ClientCall::DescribeConsumerGroups { admin: name, groups: strs_of(&args[0])? }
            }
            (Var::Admin, "deleteConsumerGroups") => {
                arity(e, m, args, &[1])?;
                ClientCall::DeleteConsumerGroups { admin: name, groups: strs_of(&args[0])? }
            }
            (Var::Admin, "deleteConsumerGroupOffsets") => {
                arity(e, m, args, &[2])?;
                ClientCall::DeleteConsumerGroupOffsets {
                    admin: name,
                    group: str_of(&args[0])?,
                    partitions: tps_of(&args[1])?,
                }
            }
            (Var::Admin, "alterConsumerGroupOffsets") => {
                arity(e, m, args, &[2])?;
                let mut offsets = Vec::new();
                for (tp, om) in map_of(&args[1])? {
                    let tp = tp_of(tp)?;
                    offsets.push(PartitionOffset {
                        topic: tp.topic,
                        partition: tp.partition,
                        offset: Some(offset_and_metadata_of(om)?),
                    });
                }
                ClientCall::AlterConsumerGroupOffsets { admin: name, group: str_of(&args[0])?, offsets }
            }
            (Var::Admin, "close") => {
                return err(e.line, e.col, "the admin is closed at the end of the program")
            }
            (Var::Producer, "send") => {
                arity(e, m, args, &[1])?;
                ClientCall::Send { producer: name, record: record_of(&args[0])?, get }
            }
            (Var::Producer, "sendOffsetsToTransaction") => {
                arity(e, m, args, &[2])?;
                let mut offsets = Vec::new();
                for (tp, om) in map_of(&args[0])? {
                    let tp = tp_of(tp)?;
                    offsets.push(PartitionOffset {
                        topic: tp.topic,
                        partition: tp.partition,
                        offset: Some(offset_and_metadata_of(om)?),
                    });
                }
                let (consumer, group) = match &args[1].expr {
                    Expr::Call(t, gm, a) if gm == "groupMetadata" && a.is_empty() => match self.var(t)? {
                        (c, Var::Consumer) => (Some(c), None),
                        (n, _) => return err(t.line, t.col, format!("'{n}' is not a KafkaConsumer")),
                    },
                    Expr::New(class, a) if class == "ConsumerGroupMetadata" && a.len() == 1 => {
                        (None, Some(str_of(&a[0])?))
                    }
                    _ => {
                        return err(
                            args[1].line,
                            args[1].col,
                            "expected consumer.groupMetadata() or new ConsumerGroupMetadata(group) here",
                        )
                    }
                };
                ClientCall::SendOffsetsToTransaction { producer: name, offsets, consumer, group }
            }
            (Var::Producer, "flush") => ClientCall::Flush { producer: name },
            (Var::Producer, "initTransactions") => ClientCall::InitTransactions { producer: name },
            (Var::Producer, "beginTransaction") => ClientCall::BeginTransaction { producer: name },
            (Var::Producer, "commitTransaction") => ClientCall::CommitTransaction { producer: name },
            (Var::Producer, "abortTransaction") => ClientCall::AbortTransaction { producer: name },
            (Var::Producer, "close") => {
                arity(e, m, args, &[0, 1])?;
                let timeout_ms = match args.first() {
                    Some(a) => Some(duration_of(a)? as u64),
                    None => None,
                };
                ClientCall::CloseProducer { producer: name, timeout_ms }
            }
            (Var::Consumer, "subscribe") => {
                arity(e, m, args, &[1])?;
                ClientCall::Subscribe { consumer: name, topics: strs_of(&args[0])? }
            }
            (Var::Consumer, "assign") => {
                arity(e, m, args, &[1])?;
                ClientCall::Assign { consumer: name, partitions: tps_of(&args[0])? }
            }
            (Var::Consumer, "unsubscribe") => ClientCall::Unsubscribe { consumer: name },
            (Var::Consumer, "poll") => {
                arity(e, m, args, &[1])?;
                ClientCall::Poll { consumer: name, timeout_ms: duration_of(&args[0])? }
            }
            (Var::Consumer, "commitSync") => {
                arity(e, m, args, &[0, 1])?;
                let offsets = match args.first() {
                    None => None,
                    Some(a) => {
                        let mut out = Vec::new();
                        for (tp, om) in map_of(a)? {
                            let tp = tp_of(tp)?;
                            out.push(PartitionOffset {
                                topic: tp.topic,
                                partition: tp.partition,
                                offset: Some(offset_and_metadata_of(om)?),
                            });
                        }
                        Some(out)
                    }
                };
                ClientCall::CommitSync { consumer: name, offsets }
            }
            (Var::Consumer, "commitAsync") => {
                arity(e, m, args, &[0])?;
                ClientCall::CommitAsync { consumer: name }
            }
            (Var::Consumer, "seek") => {
                arity(e, m, args, &[2])?;
                let partition = tp_of(&args[0])?;
                match offset_for_time_of(&args[1], &partition)? {
                    Some((other, timestamp)) => {
                        if other != name {
                            return err(
                                args[1].line,
                                args[1].col,
                                format!("look up the offset with '{name}', the consumer that seeks"),
                            );
                        }
                        ClientCall::SeekToTimestamp { consumer: name, partition, timestamp }
                    }
                    None => ClientCall::Seek { consumer: name, partition, offset: num_of(&args[1])? },
                }
            }
            (Var::Consumer, "offsetsForTimes") => {
                arity(e, m, args, &[1])?;
                ClientCall::OffsetsForTimes { consumer: name, query: timestamps_of(&args[0])? }
            }
            (Var::Consumer, "seekToBeginning") => {
                arity(e, m, args, &[1])?;
                ClientCall::SeekToBeginning { consumer: name, partitions: tps_of(&args[0])? }
            }
            (Var::Consumer, "seekToEnd") => {
                arity(e, m, args, &[1])?;
                ClientCall::SeekToEnd { consumer: name, partitions: tps_of(&args[0])? }
            }
            (Var::Consumer, "position") => {
                arity(e, m, args, &[1])?;
                ClientCall::Position { consumer: name, partition: tp_of(&args[0])? }
            }
            (Var::Consumer, "committed") => {
                arity(e, m, args, &[1])?;
                ClientCall::Committed { consumer: name, partitions: tps_of(&args[0])? }
            }
            (Var::Consumer, "pause") => {
                arity(e, m, args, &[1])?;
                ClientCall::Pause { consumer: name, partitions: tps_of(&args[0])? }
            }
            (Var::Consumer, "resume") => {
                arity(e, m, args, &[1])?;
                ClientCall::Resume { consumer: name, partitions: tps_of(&args[0])? }
            }
            (Var::Consumer, "assignment") => ClientCall::Assignment { consumer: name },
            (Var::Consumer, "groupMetadata") => ClientCall::GroupMetadata { consumer: name },
            (Var::ShareConsumer, "subscribe") => {
                arity(e, m, args, &[1])?;
                ClientCall::ShareSubscribe { share: name, topics: strs_of(&args[0])? }
            }
            (Var::ShareConsumer, "poll") => {
                arity(e, m, args, &[1])?;
                ClientCall::SharePoll { share: name, timeout_ms: duration_of(&args[0])? }
            }
            (Var::ShareConsumer, "commitSync") => {
                arity(e, m, args, &[0])?;
                ClientCall::ShareCommitSync { share: name }
            }
            (Var::ShareConsumer, "close") => {
                arity(e, m, args, &[0])?;
                ClientCall::ShareClose { share: name }
            }
            (Var::ShareConsumer, "acknowledge") => {
                return err(
                    e.line,
                    e.col,
                    "acknowledge the records of a poll with: for (ConsumerRecord<String, String> r : records) share.acknowledge(r, AcknowledgeType.ACCEPT);",
                )
            }
            (Var::Consumer, "close") => ClientCall::CloseConsumer { consumer: name },
            (var, _) => {
                let what = match var {
                    Var::Props(_) => "Properties",
                    Var::Admin => "Admin",
                    Var::Producer => "KafkaProducer",
                    Var::Consumer => "KafkaConsumer",
                    Var::ShareConsumer => "KafkaShareConsumer",
                    Var::Records(_) => "ConsumerRecords",
                    Var::Value => "kept result",
                };
                return err(
                    e.line,
                    e.col,
                    format!("'{name}' is a {what}; this program format has no {what}.{m}"),
                );
            }
        };
        if !matches!(call, ClientCall::Send { .. })
            && !args.is_empty()
            && matches!(
                call,
                ClientCall::Flush { .. }
                    | ClientCall::Assignment { .. }
                    | ClientCall::GroupMetadata { .. }
                    | ClientCall::CloseConsumer { .. }
                    | ClientCall::Unsubscribe { .. }
                    | ClientCall::InitTransactions { .. }
                    | ClientCall::BeginTransaction { .. }
                    | ClientCall::CommitTransaction { .. }
                    | ClientCall::AbortTransaction { .. }
            )
        {
            return err(e.line, e.col, format!("{m} takes no arguments in a program"));
        }
        Ok(Action::Call(call))
    }
}

/// `new OffsetAndMetadata(n)` → n.
fn offset_and_metadata_of(e: &Located) -> Result<i64, ProgramError> {
    match &e.expr {
        Expr::New(c, a) if c == "OffsetAndMetadata" && (a.len() == 1 || a.len() == 2) => num_of(&a[0]),
        _ => err(e.line, e.col, "expected new OffsetAndMetadata(offset) here"),
    }
}

/// Splits a tool line into words (double or single quotes group words), with each word's column.
fn shell_words(line: u32, text: &str, first_col: u32) -> Result<Vec<(String, u32)>, ProgramError> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let col = first_col + i as u32;
        let mut word = String::new();
        while i < chars.len() && !chars[i].is_whitespace() {
            let c = chars[i];
            if c == '"' || c == '\'' {
                i += 1;
                while i < chars.len() && chars[i] != c {
                    word.push(chars[i]);
                    i += 1;
                }
                if i == chars.len() {
                    return err(line, col, "this quote is not closed");
                }
            } else {
                word.push(c);
            }
            i += 1;
        }
        out.push((word, col));
    }
    Ok(out)
}

/// Parses a tool command line (`kafka-topics --create …`); `input` are the `>` lines after it.
fn tool(line: u32, text: &str, first_col: u32, input: Vec<String>) -> Result<Tool, ProgramError> {
    let mut words = Vec::new();
    for (w, c) in shell_words(line, text, first_col)? {
        match w.split_once('=') {
            Some((k, v)) if k == "--node-id" => {
                words.push((k.to_string(), c));
                words.push((v.to_string(), c + k.chars().count() as u32 + 1));
            }
            _ => words.push((w, c)),
        }
    }
    // `SIGNAL=KILL kafka-server-stop …`: kafka-server-stop.sh sends `kill -s $SIGNAL` (TERM by default).
    let mut signal = ServerSignal::Term;
    if let Some(name) = words[0].0.strip_prefix("SIGNAL=").map(str::to_string) {
        signal = match name.as_str() {
            "KILL" | "SIGKILL" | "9" => ServerSignal::Kill,
            "TERM" | "SIGTERM" | "15" => ServerSignal::Term,
            "STOP" | "SIGSTOP" | "19" => ServerSignal::Stop,
            "CONT" | "SIGCONT" | "18" => ServerSignal::Cont,
            _ => {
                return err(
                    line,
                    words[0].1,
                    format!("SIGNAL is TERM, KILL, STOP or CONT in a program, not '{name}'"),
                )
            }
        };
        words.remove(0);
        if words.first().is_none_or(|w| !w.0.trim_start_matches("bin/").starts_with("kafka-server-stop")) {
            return err(line, first_col, "SIGNAL= goes before kafka-server-stop only");
        }
    }
    let (command, col0) = words[0].clone();
    let command = command.trim_start_matches("bin/").trim_end_matches(".sh").to_string();
    let known: &[&str] = match command.as_str() {
        "kafka-topics" => &["--create", "--describe", "--delete", "--alter", "--topic", "--partitions", "--replication-factor", "--replica-assignment", "--config", "--bootstrap-server"],
        "kafka-console-producer" => &["--topic", "--property", "--producer-property", "--bootstrap-server"],
        "kafka-console-consumer" => &["--topic", "--from-beginning", "--group", "--max-messages", "--property", "--bootstrap-server"],
        "kafka-consumer-groups" => &["--describe", "--group", "--reset-offsets", "--delete-offsets", "--topic", "--to-earliest", "--to-latest", "--to-offset", "--shift-by", "--dry-run", "--execute", "--bootstrap-server"],
        "kafka-server-stop" | "kafka-server-start" => &["--node-id"],
        "kafka-leader-election" => &["--election-type", "--topic", "--partition", "--bootstrap-server"],
        _ => return err(line, col0, format!("unknown tool '{command}' (kafka-topics, kafka-console-producer, kafka-console-consumer, kafka-consumer-groups, kafka-server-stop, kafka-server-start, kafka-leader-election)")),
    };
    let mut opts: Vec<(String, Option<String>, u32, u32)> = Vec::new();
    let mut i = 1;
    while i < words.len() {
        let (w, col) = &words[i];
        if !w.starts_with("--") {
            return err(line, *col, format!("expected an option like --topic here, not '{w}'"));
        }
        let flag = matches!(
            w.as_str(),
            "--create"
                | "--describe"
                | "--delete"
                | "--alter"
                | "--list"
                | "--from-beginning"
                | "--reset-offsets"
                | "--delete-offsets"
                | "--dry-run"
                | "--execute"
                | "--to-earliest"
                | "--to-latest"
                | "--all-topics"
                | "--all-topic-partitions"
        );
        if flag {
            opts.push((w.clone(), None, *col, *col));
            i += 1;
        } else {
            let value = words.get(i + 1).ok_or_else(|| ProgramError {
                line,
                col: *col,
                message: format!("{w} needs a value"),
            })?;
            opts.push((w.clone(), Some(value.0.clone()), *col, value.1));
            i += 2;
        }
    }
    for (o, _, col, _) in &opts {
        if !known.contains(&o.as_str()) {
            return err(line, *col, format!("{command} in a program has no option {o}"));
        }
    }
    let has = |o: &str| opts.iter().any(|(k, _, _, _)| k == o);
    let value = |o: &str| {
        opts.iter().rev().find(|(k, _, _, _)| k == o).and_then(|(_, v, _, c)| v.clone().map(|v| (v, *c)))
    };
    let all = |o: &str| {
        opts.iter()
            .filter(|(k, _, _, _)| k == o)
            .filter_map(|(_, v, _, c)| v.clone().map(|v| (v, *c)))
            .collect::<Vec<_>>()
    };
    let need = |o: &str| {
        value(o).ok_or_else(|| ProgramError { line, col: col0, message: format!("{command} needs {o}") })
    };
    let number = |(v, c): (String, u32)| -> Result<i64, ProgramError> {
        v.parse::<i64>().or_else(|_| err(line, c, format!("'{v}' is not a whole number")))
    };
    let pairs = |o: &str| -> Result<Vec<(String, String)>, ProgramError> {
        all(o)
            .into_iter()
            .map(|(v, c)| match v.split_once('=') {
                Some((k, val)) => Ok((k.to_string(), val.to_string())),
                None => err(line, c, format!("{o} needs key=value, not '{v}'")),
            })
            .collect()
    };
    match command.as_str() {
        "kafka-topics" => {
            let topic = need("--topic")?.0;
            let actions = ["--create", "--describe", "--delete", "--alter"].iter().filter(|a| has(a)).count();
            if actions != 1 {
                return err(
                    line,
                    col0,
                    "kafka-topics needs exactly one of --create, --describe, --delete, --alter",
                );
            }
            if has("--create") {
                let partitions = value("--partitions")
                    .map(number)
                    .transpose()?
                    .map(|n| i32::try_from(n).unwrap_or(i32::MAX));
                let rf = value("--replication-factor")
                    .map(number)
                    .transpose()?
                    .map(|n| i16::try_from(n).unwrap_or(i16::MAX));
                let mut replica_assignment = Vec::new();
                if let Some((v, c)) = value("--replica-assignment") {
                    // The tool refuses the counts with an assignment (and prints its usage).
                    for other in ["--partitions", "--replication-factor"] {
                        if has(other) {
                            return err(
                                line,
                                c,
                                format!(
                                    "Option \"[replica-assignment]\" can't be used with option \"[{}]\"",
                                    &other[2..]
                                ),
                            );
                        }
                    }
                    for (i, part) in v.split(',').enumerate() {
                        let replicas = part
                            .split(':')
                            .map(|b| {
                                b.trim().parse::<i32>().or_else(|_| {
                                    err(line, c, format!("--replica-assignment takes broker ids like 1:2:3,2:3:1, not '{v}'"))
                                })
                            })
                            .collect::<Result<Vec<i32>, _>>()?;
                        replica_assignment.push((i as i32, replicas));
                    }
                }
                Ok(Tool::TopicsCreate {
                    topic: NewTopic {
                        name: topic,
                        partitions,
                        replication_factor: rf,
                        configs: pairs("--config")?,
                        replica_assignment,
                    },
                })
            } else if has("--describe") {
                Ok(Tool::TopicsDescribe { topic })
            } else if has("--delete") {
                Ok(Tool::TopicsDelete { topic })
            } else {
                let partitions = number(need("--partitions")?)?;
                Ok(Tool::TopicsAlter { topic, partitions: i32::try_from(partitions).unwrap_or(i32::MAX) })
            }
        }
        "kafka-console-producer" => {
            let topic = need("--topic")?.0;
            let mut parse_key = false;
            let mut separator = "\t".to_string();
            for (k, v) in pairs("--property")? {
                match k.as_str() {
                    "parse.key" => parse_key = v == "true",
                    "key.separator" => separator = v,
                    _ => {
                        return err(
                            line,
                            col0,
                            format!("kafka-console-producer in a program has no --property {k}"),
                        )
                    }
                }
            }
            Ok(Tool::ConsoleProducer {
                topic,
                parse_key,
                separator,
                properties: pairs("--producer-property")?,
                lines: input,
            })
        }
        "kafka-console-consumer" => {
            let mut print_key = false;
            for (k, v) in pairs("--property")? {
                match k.as_str() {
                    "print.key" => print_key = v == "true",
                    _ => {
                        return err(
                            line,
                            col0,
                            format!("kafka-console-consumer in a program has no --property {k}"),
                        )
                    }
                }
            }
            Ok(Tool::ConsoleConsumer {
                topic: need("--topic")?.0,
                from_beginning: has("--from-beginning"),
                group: value("--group").map(|v| v.0),
                max_messages: value("--max-messages").map(number).transpose()?,
                print_key,
            })
        }
        "kafka-server-stop" | "kafka-server-start" => {
            let (v, c) = need("--node-id")?;
            let node = number((v, c))?;
            if !(1..=9).contains(&node) {
                return err(line, c, format!("--node-id is 1 to 9, not {node}"));
            }
            Ok(Tool::Server { start: command == "kafka-server-start", node: node as i32, signal })
        }
        "kafka-leader-election" => {
            let (kind, c) = need("--election-type")?;
            let election = kind.to_ascii_uppercase();
            if election != "PREFERRED" && election != "UNCLEAN" {
                return err(line, c, format!("--election-type is PREFERRED or UNCLEAN, not '{kind}'"));
            }
            let topic = need("--topic")?.0;
            let (v, c) = need("--partition")?;
            let partition = i32::try_from(number((v.clone(), c))?)
                .ok()
                .filter(|p| *p >= 0)
                .ok_or_else(|| ProgramError { line, col: c, message: format!("'{v}' is not a partition") })?;
            Ok(Tool::LeaderElection { election, topic, partition })
        }
        _ => {
            let group = need("--group")?.0;
            let actions =
                ["--describe", "--reset-offsets", "--delete-offsets"].iter().filter(|a| has(a)).count();
            if actions != 1 {
                return err(
                    line,
                    col0,
                    "kafka-consumer-groups needs one of --describe, --reset-offsets and --delete-offsets",
                );
            }
            if has("--describe") {
                return Ok(Tool::GroupsDescribe { group });
            }
            if has("--delete-offsets") {
                // `--topic T` (every partition) or `--topic T:0,2`, as often as needed.
                let mut topics = Vec::new();
                for (v, c) in all("--topic") {
                    let (topic, list) = match v.split_once(':') {
                        Some((t, l)) => (t.to_string(), Some(l.to_string())),
                        None => (v.clone(), None),
                    };
                    let partitions = match list {
                        None => None,
                        Some(l) => Some(
                            l.split(',')
                                .map(|p| {
                                    p.trim().parse::<i32>().or_else(|_| {
                                        err(
                                            line,
                                            c,
                                            format!("'{p}' is not a partition number in --topic {v}"),
                                        )
                                    })
                                })
                                .collect::<Result<Vec<_>, _>>()?,
                        ),
                    };
                    topics.push((topic, partitions));
                }
                if topics.is_empty() {
                    return err(line, col0, "--delete-offsets needs --topic T (or T:0,1)");
                }
                return Ok(Tool::GroupsDeleteOffsets { group, topics });
            }
            let specs = ["--to-earliest", "--to-latest", "--to-offset", "--shift-by"]
                .iter()
                .filter(|a| has(a))
                .count();
            if specs != 1 {
                return err(
                    line,
                    col0,
                    "--reset-offsets needs one of --to-earliest, --to-latest, --to-offset N, --shift-by N",
                );
            }
            let spec = if has("--to-earliest") {
                ResetSpec::ToEarliest
            } else if has("--to-latest") {
                ResetSpec::ToLatest
            } else if has("--to-offset") {
                ResetSpec::ToOffset(number(need("--to-offset")?)?)
            } else {
                ResetSpec::ShiftBy(number(need("--shift-by")?)?)
            };
            if has("--dry-run") && has("--execute") {
                return err(line, col0, "give --dry-run or --execute, not both");
            }
            Ok(Tool::GroupsReset { group, topic: need("--topic")?.0, spec, execute: has("--execute") })
        }
    }
}

/// Parses a `.kafka` program.
pub fn parse(text: &str) -> Result<Program, ProgramError> {
    if text.len() > MAX_PROGRAM_BYTES {
        return err(1, 1, format!("a program is at most {MAX_PROGRAM_BYTES} bytes"));
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut ctx = Context { vars: BTreeMap::new() };
    let mut statements = Vec::new();
    let mut repeat_budget = MAX_REPEAT_BYTES;
    let mut i = 0;
    while i < lines.len() {
        let line_no = i as u32 + 1;
        let raw = lines[i];
        let trimmed = raw.trim_start();
        let indent = (raw.chars().count() - trimmed.chars().count()) as u32;
        if trimmed.is_empty() || trimmed.starts_with("//") {
            i += 1;
            continue;
        }
        if statements.len() >= MAX_STATEMENTS {
            return err(line_no, 1, format!("a program has at most {MAX_STATEMENTS} statements"));
        }
        let command = trimmed.strip_prefix("$ ").unwrap_or(trimmed);
        let command_col = indent + 1 + (trimmed.chars().count() - command.chars().count()) as u32;
        let unprefixed =
            command.strip_prefix("SIGNAL=").map_or(command, |r| r.split_once(' ').map_or(r, |x| x.1));
        if unprefixed.trim_start().trim_start_matches("bin/").starts_with("kafka-") {
            let mut input = Vec::new();
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim_start().starts_with('>') {
                input.push(lines[j].trim_start()[1..].to_string());
                j += 1;
            }
            let tool = tool(line_no, command, command_col, input)?;
            if !matches!(tool, Tool::ConsoleProducer { .. }) && j > i + 1 {
                return err(line_no + 1, 1, "only kafka-console-producer takes '>' input lines");
            }
            statements.push(Statement {
                line: line_no,
                source: command.trim_end().to_string(),
                action: Action::Tool(tool),
            });
            i = j;
            continue;
        }
        if trimmed.starts_with('>') {
            return err(line_no, indent + 1, "a '>' input line belongs after kafka-console-producer");
        }
        // A Java statement: lines up to the one ending with ';' (outside strings and comments).
        let mut chunks: Vec<(u32, &str)> = Vec::new();
        let mut j = i;
        loop {
            let l = lines[j];
            chunks.push((j as u32 + 1, l));
            let code = strip_comment(l);
            if code.trim_end().ends_with(';') {
                break;
            }
            j += 1;
            if j == lines.len() || j - i >= 50 {
                let last = chunks.last().map(|c| c.0).unwrap_or(line_no);
                return err(
                    last,
                    lines[last as usize - 1].chars().count() as u32 + 1,
                    "a Java statement ends with ';'",
                );
            }
        }
        let source = chunks.iter().map(|(_, l)| strip_comment(l).trim()).collect::<Vec<_>>().join(" ");
        let toks = lex(&chunks)?;
        let last = toks.last().map(|t| (t.line, t.col + 1)).unwrap_or((line_no, 1));
        let mut p = Parser { toks, at: 0, end: last, repeat_budget };
        let action = statement(&mut p, &mut ctx)?;
        repeat_budget = p.repeat_budget;
        statements.push(Statement { line: line_no, source, action });
        i = j + 1;
    }
    Ok(Program { statements })
}

/// A line without its `//` comment (a `//` inside a string stays).
fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        if c == '"' && prev != '\\' {
            in_str = !in_str;
        }
        if !in_str && c == '/' && line[i + 1..].starts_with('/') {
            return &line[..i];
        }
        prev = c;
    }
    line
}

/// `for (ConsumerRecord<String, String> r : records) share.acknowledge(r, AcknowledgeType.X);` on one line:
/// every record of a share consumer's poll acknowledged alike.
fn for_each(p: &mut Parser, ctx: &mut Context) -> Result<Action, ProgramError> {
    p.at += 1; // `for`
    p.expect('(')?;
    let (line, col) = p.pos();
    let ty = p.ident()?;
    if ty != "ConsumerRecord" && ty != "var" {
        return err(
            line,
            col,
            "a for loop in a program goes over records: for (ConsumerRecord<String, String> r : records)",
        );
    }
    p.skip_type_args()?;
    let record = p.ident()?;
    p.expect(':')?;
    let (line, col) = p.pos();
    let records = p.ident()?;
    let share = match ctx.vars.get(&records) {
        Some(Var::Records(share)) => share.clone(),
        Some(_) => {
            return err(line, col, format!("'{records}' is not the records of a share consumer's poll"))
        }
        None => return err(line, col, format!("'{records}' is not declared before this line")),
    };
    p.expect(')')?;
    let call = p.expr(0)?;
    p.expect(';')?;
    if p.at < p.toks.len() {
        let (l, c) = p.pos();
        return err(l, c, "one statement per line: nothing may follow the loop");
    }
    let shape = "expected share.acknowledge(r, AcknowledgeType.ACCEPT | RELEASE | REJECT) in the loop";
    let Expr::Call(target, m, args) = &call.expr else { return err(call.line, call.col, shape) };
    if m != "acknowledge" || args.len() != 2 {
        return err(call.line, call.col, shape);
    }
    match &target.expr {
        Expr::Name(n) if *n == share => {}
        _ => {
            return err(
                target.line,
                target.col,
                format!("acknowledge with '{share}', whose poll gave '{records}'"),
            )
        }
    }
    if !matches!(&args[0].expr, Expr::Name(n) if *n == record) {
        return err(args[0].line, args[0].col, format!("acknowledge the loop's record '{record}'"));
    }
    let kind = match &args[1].expr {
        Expr::Field(t, k)
            if matches!(&t.expr, Expr::Name(n) if n == "AcknowledgeType")
                && ["ACCEPT", "RELEASE", "REJECT"].contains(&k.as_str()) =>
        {
            k.clone()
        }
        _ => {
            return err(args[1].line, args[1].col, "expected AcknowledgeType.ACCEPT, RELEASE or REJECT here")
        }
    };
    Ok(Action::Call(ClientCall::ShareAcknowledge { share, kind }))
}

/// One Java statement: `Type name = value;`, `var name = value;` or `call;`.
fn statement(p: &mut Parser, ctx: &mut Context) -> Result<Action, ProgramError> {
    if matches!(p.peek(), Some(Tok::Ident(w)) if w == "for") {
        return for_each(p, ctx);
    }
    // A declaration starts with a type (a name, maybe dotted, maybe generic) and then a name and '='.
    let start = p.at;
    let mut declared = None;
    if let Some(Tok::Ident(_)) = p.peek() {
        p.at += 1;
        while p.is('.') {
            p.at += 1;
            p.ident()?;
        }
        p.skip_type_args()?;
        if let (Some(Tok::Ident(name)), Some(Tok::Punct('='))) =
            (p.peek().cloned(), p.toks.get(p.at + 1).map(|t| t.tok.clone()))
        {
            let (line, col) = p.pos();
            if ctx.vars.contains_key(&name) {
                return err(line, col, format!("'{name}' is already declared"));
            }
            p.at += 2;
            declared = Some(name);
        } else {
            p.at = start;
        }
    }
    let e = p.expr(0)?;
    p.expect(';')?;
    if p.at < p.toks.len() {
        let (l, c) = p.pos();
        return err(l, c, "one statement per line: nothing may follow ';'");
    }
    match declared {
        Some(name) => {
            let (var, action) = ctx.value(&e, Some(&name))?;
            ctx.vars.insert(name, var);
            Ok(action)
        }
        None => {
            if matches!(e.expr, Expr::New(..)) {
                return err(e.line, e.col, "keep what `new` makes in a variable");
            }
            ctx.call(&e)
        }
    }
}
