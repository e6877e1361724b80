//! The headers exchange: `x-match` modes, RabbitMQ's header comparison and its bind-time validation.
//!
//! As in `rabbit_exchange_type_headers`: a binding's arguments are compared with the message's headers
//! (the message's own `x-` headers included). Under `all` / `any` the binding's arguments whose names start
//! with `x-` take no part; under `all-with-x` / `any-with-x` only `x-match` itself is left out. An argument
//! whose value is void matches when the header is present with any value; any other value must equal the
//! header's as Erlang's `==` compares them (1 and 1.0 are equal, 1 and "1" are not, integers of every
//! AMQP width and timestamps are numbers, a byte array equals the same string; see [`identical`]). `all` with nothing to compare matches
//! every message; `any` with nothing to compare matches none. A missing `x-match` means `all`.

use super::super::error::{AmqpError, ReplyCode};
use super::super::types::{FieldTable, FieldValue, TypedValue};
use std::fmt::Write as _;

/// How a headers binding combines its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum XMatch {
    All,
    Any,
    AllWithX,
    AnyWithX,
}

const X_MATCH: &str = "x-match";

impl XMatch {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(XMatch::All),
            "any" => Some(XMatch::Any),
            "all-with-x" => Some(XMatch::AllWithX),
            "any-with-x" => Some(XMatch::AnyWithX),
            _ => None,
        }
    }

    /// The binding's mode. Anything but a valid string reads as `all`, as RabbitMQ's router does
    /// (bind-time validation keeps such bindings out in the first place).
    fn of(arguments: &FieldTable) -> Self {
        match arguments.get(X_MATCH) {
            Some(FieldValue::Str(s)) => XMatch::parse(s).unwrap_or(XMatch::All),
            _ => XMatch::All,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            XMatch::All => "all",
            XMatch::Any => "any",
            XMatch::AllWithX => "all-with-x",
            XMatch::AnyWithX => "any-with-x",
        }
    }

    fn needs_every_argument(self) -> bool {
        matches!(self, XMatch::All | XMatch::AllWithX)
    }

    /// Whether the argument named `key` is compared with the headers under this mode.
    fn compares(self, key: &str) -> bool {
        match self {
            XMatch::All | XMatch::Any => !key.starts_with("x-"),
            XMatch::AllWithX | XMatch::AnyWithX => key != X_MATCH,
        }
    }
}

/// Rejects a binding whose `x-match` is not one of the four modes, with RabbitMQ's channel error.
pub(super) fn validate(arguments: &FieldTable) -> Result<(), AmqpError> {
    let detail = match arguments.get(X_MATCH) {
        None => return Ok(()),
        Some(FieldValue::Str(s)) if XMatch::parse(s).is_some() => return Ok(()),
        Some(FieldValue::Str(s)) => format!(
            "Invalid x-match field value {}; expected all, any, all-with-x, or any-with-x",
            erlang_binary(s)
        ),
        Some(other) => {
            let head = format!("Invalid x-match field type {} (value ", amqp_type_name(other));
            // `~p` breaks a long value over lines, indented to the column it starts at.
            let value = erlang_pretty(other, head.chars().count() + 1);
            format!("{head}{value}); expected longstr")
        }
    };
    Err(AmqpError::channel(ReplyCode::PreconditionFailed, detail))
}

/// Whether a message with these headers goes through a binding with these arguments.
pub(super) fn matches(arguments: &FieldTable, headers: &FieldTable) -> bool {
    let mode = XMatch::of(arguments);
    let mut compared = arguments.iter().filter(|(key, _)| mode.compares(key));
    if mode.needs_every_argument() {
        compared.all(|(key, expected)| argument_matches(expected, headers.get(key)))
    } else {
        compared.any(|(key, expected)| argument_matches(expected, headers.get(key)))
    }
}

/// [`matches`], with a one-line reason naming the header that decided it.
pub(super) fn explain(arguments: &FieldTable, headers: &FieldTable) -> (bool, String) {
    let mode = XMatch::of(arguments);
    let compared: Vec<(&String, &FieldValue)> =
        arguments.iter().filter(|(key, _)| mode.compares(key)).collect();
    let name = mode.as_str();
    let deciding = compared
        .iter()
        .find(|(key, expected)| argument_matches(expected, headers.get(*key)) != mode.needs_every_argument());
    match (mode.needs_every_argument(), deciding) {
        (true, None) if compared.is_empty() => {
            (true, format!("x-match {name}: no header to compare, so every message matches"))
        }
        (true, None) => (true, format!("x-match {name}: {n} of {n} headers matched", n = compared.len())),
        (true, Some((key, expected))) | (false, Some((key, expected))) => {
            let matched = !mode.needs_every_argument();
            (matched, format!("x-match {name}: {}", describe(key, expected, headers.get(*key))))
        }
        (false, None) if compared.is_empty() => {
            (false, format!("x-match {name}: no header to compare, so no message matches"))
        }
        (false, None) => (false, format!("x-match {name}: no header matched")),
    }
}

/// One argument against the message's header of the same name.
fn argument_matches(expected: &FieldValue, actual: Option<&FieldValue>) -> bool {
    match (expected, actual) {
        (FieldValue::Void, actual) => actual.is_some(),
        (expected, Some(actual)) => identical(expected, actual),
        (_, None) => false,
    }
}

/// RabbitMQ 3.10's comparison of a binding argument with a header: Erlang's `==` on the decoded values,
/// whatever their AMQP types. So numbers compare by value across types (1 matches 1.0, 0.0 matches -0.0
/// and 0), while a string never equals a number and `true` never equals 1. Inside an array or a table
/// each element is a `{Type, Value}` tuple, so there the types must be the same too (`[1]` does not
/// match `[1.0]`). Observed on RabbitMQ 3.10.8: `tests/scenarios/amqp/headers-value-comparison`.
pub(crate) fn identical(a: &FieldValue, b: &FieldValue) -> bool {
    match (erlang_number(a), erlang_number(b)) {
        (Some(ErlangNumber::Integer(x)), Some(ErlangNumber::Integer(y))) => return x == y,
        // Erlang converts the integer to a float to compare it with one.
        (Some(ErlangNumber::Integer(i)), Some(ErlangNumber::Float(f)))
        | (Some(ErlangNumber::Float(f)), Some(ErlangNumber::Integer(i))) => return i as f64 == f,
        (Some(ErlangNumber::Float(x)), Some(ErlangNumber::Float(y))) => return x == y,
        (Some(_), None) | (None, Some(_)) => return false,
        (None, None) => {}
    }
    match (a, b) {
        (FieldValue::Array(xs), FieldValue::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_typed(x, y))
        }
        (FieldValue::Table(xs), FieldValue::Table(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|((kx, x), (ky, y))| kx == ky && same_typed(x, y))
        }
        // A long string and a byte array both decode to an Erlang binary.
        _ => match (erlang_bytes(a), erlang_bytes(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

/// A value RabbitMQ decodes to an Erlang number: every integer type and timestamps to an integer, `float`
/// and `double` to a float (a decimal decodes to a `{Scale, Value}` tuple, not a number).
enum ErlangNumber {
    Integer(i128),
    Float(f64),
}

fn erlang_number(v: &FieldValue) -> Option<ErlangNumber> {
    match v {
        FieldValue::Float(x) => Some(ErlangNumber::Float(*x)),
        FieldValue::Typed(TypedValue::Float32(x)) => Some(ErlangNumber::Float(f64::from(*x))),
        FieldValue::Typed(TypedValue::Timestamp(t)) => Some(ErlangNumber::Integer(i128::from(*t))),
        other => other.integer().map(|i| ErlangNumber::Integer(i128::from(i))),
    }
}

/// The bytes of a value RabbitMQ decodes to an Erlang binary (`longstr` and `binary`).
fn erlang_bytes(v: &FieldValue) -> Option<&[u8]> {
    match v {
        FieldValue::Str(s) => Some(s.as_bytes()),
        FieldValue::Typed(TypedValue::Bytes(b)) => Some(b),
        _ => None,
    }
}

/// `{Type, Value} == {Type, Value}`: an element of an array or a table.
fn same_typed(a: &FieldValue, b: &FieldValue) -> bool {
    a.amqp_type_name() == b.amqp_type_name() && identical(a, b)
}

fn describe(key: &str, expected: &FieldValue, actual: Option<&FieldValue>) -> String {
    match (expected, actual) {
        (FieldValue::Void, Some(_)) => format!("header '{key}' is present"),
        (FieldValue::Void, None) => format!("header '{key}' is missing"),
        (expected, None) => format!("header '{key}' = {expected} but the message has no '{key}'"),
        (expected, Some(actual)) if identical(expected, actual) => {
            format!("header '{key}' = {expected} matches")
        }
        (expected, Some(actual)) => format!("header '{key}' = {expected} but the message has {actual}"),
    }
}

/// The AMQP field type RabbitMQ would name for a value (see [`FieldValue::amqp_type_name`]).
fn amqp_type_name(value: &FieldValue) -> &'static str {
    value.amqp_type_name()
}

/// A string as Erlang's `~tp` prints a binary: `<<"all">>`, or `<<"é"/utf8>>` beyond ASCII.
fn erlang_binary(s: &str) -> String {
    let mut out = String::from("<<\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\{:o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    if !s.is_ascii() {
        out.push_str("/utf8");
    }
    out.push_str(">>");
    out
}

/// A field value as Erlang's `~tp` prints RabbitMQ's decoded form (arrays and tables keep their types).
pub(crate) fn erlang_value(value: &FieldValue) -> String {
    match value {
        FieldValue::Bool(b) => b.to_string(),
        FieldValue::Int(i) => i.to_string(),
        FieldValue::Float(x) => erlang_float(*x),
        FieldValue::Str(s) => erlang_binary(s),
        FieldValue::Void => "undefined".to_string(),
        FieldValue::Typed(TypedValue::Float32(x)) => erlang_float(f64::from(*x)),
        FieldValue::Typed(TypedValue::Decimal(scale, value)) => format!("{{{scale},{value}}}"),
        FieldValue::Typed(TypedValue::Timestamp(t)) => t.to_string(),
        FieldValue::Typed(TypedValue::Bytes(b)) => match std::str::from_utf8(b) {
            Ok(text) if text.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') => {
                erlang_binary(text)
            }
            _ => format!("<<{}>>", b.iter().map(u8::to_string).collect::<Vec<_>>().join(",")),
        },
        FieldValue::Typed(other) => other.integer().unwrap_or_default().to_string(),
        FieldValue::Array(items) => {
            let items: Vec<String> =
                items.iter().map(|v| format!("{{{},{}}}", amqp_type_name(v), erlang_value(v))).collect();
            format!("[{}]", items.join(","))
        }
        FieldValue::Table(table) => {
            let entries: Vec<String> = table
                .iter()
                .map(|(k, v)| format!("{{{},{},{}}}", erlang_binary(k), amqp_type_name(v), erlang_value(v)))
                .collect();
            format!("[{}]", entries.join(","))
        }
    }
}

/// A value as Erlang's `~p` lays it out from column `col` (1-based) of a line 80 wide, as
/// `io_lib_pretty` does: on one line when it fits; else a list or tuple puts each element that is
/// itself a list or tuple on a line of its own, indented to just inside its bracket, and packs plain
/// elements (numbers, atoms, binaries) on a line while they fit. RabbitMQ prints an array as
/// `[{Type,Value},…]` and a table as `[{Key,Type,Value},…]`. For a value starting past the middle of the
/// line (column 41 and on, where RabbitMQ's errors print them): there `io_lib_pretty` never lines a
/// tagged tuple's elements up after its tag. Not modelled: a binary of non-printable bytes longer than a
/// line (split between bytes).
pub(crate) fn erlang_pretty(value: &FieldValue, col: usize) -> String {
    let term = Term::of(value);
    let len = term.len();
    let mut out = String::new();
    if len < LINE - col.min(LINE) {
        term.write(&mut out);
    } else {
        let fit = Fit { max: len };
        fit.pp(&term, col, &" ".repeat(col.saturating_sub(1)), 0, 0, &mut out);
    }
    out
}

/// `~p`'s line length.
const LINE: usize = 80;

/// An Erlang term as `io_lib_pretty` sees it: a printed atom, number or binary, a list, or a tuple
/// (tagged when its first element is an atom, as `{signedint,1}` is).
enum Term {
    Leaf(String),
    List(Vec<Term>),
    Tuple(Vec<Term>),
}

impl Term {
    fn of(value: &FieldValue) -> Term {
        let typed = |v: &FieldValue| Term::Tuple(vec![Term::Leaf(amqp_type_name(v).into()), Term::of(v)]);
        match value {
            FieldValue::Array(items) => Term::List(items.iter().map(typed).collect()),
            FieldValue::Table(table) => Term::List(
                table
                    .iter()
                    .map(|(k, v)| {
                        Term::Tuple(vec![
                            Term::Leaf(erlang_binary(k)),
                            Term::Leaf(amqp_type_name(v).into()),
                            Term::of(v),
                        ])
                    })
                    .collect(),
            ),
            FieldValue::Typed(TypedValue::Decimal(scale, v)) => {
                Term::Tuple(vec![Term::Leaf(scale.to_string()), Term::Leaf(v.to_string())])
            }
            other => Term::Leaf(erlang_value(other)),
        }
    }

    /// The length written on one line.
    fn len(&self) -> usize {
        match self {
            Term::Leaf(s) => s.chars().count(),
            Term::List(items) | Term::Tuple(items) => {
                2 + items.iter().map(Term::len).sum::<usize>() + items.len().saturating_sub(1)
            }
        }
    }

    fn is_leaf(&self) -> bool {
        matches!(self, Term::Leaf(_))
    }

    fn write(&self, out: &mut String) {
        let (open, close, items) = match self {
            Term::Leaf(s) => return out.push_str(s),
            Term::List(items) => ('[', ']', items),
            Term::Tuple(items) => ('{', '}', items),
        };
        out.push(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            item.write(out);
        }
        out.push(close);
    }
}

/// `io_lib_pretty`'s layout. `col` is where the term starts, `ind` the indentation of its continuation
/// lines, `ld` how many closing brackets follow it on its last line, `w` what is already on the line.
struct Fit {
    /// The most characters on one line (`M`): the whole term's length, as `~p` sets it.
    max: usize,
}

impl Fit {
    fn fits(&self, len: usize, col: usize, ld: usize, w: usize) -> bool {
        len + col + ld < LINE && len + w + ld <= self.max
    }

    fn pp(&self, term: &Term, col: usize, ind: &str, ld: usize, w: usize, out: &mut String) {
        if self.fits(term.len(), col, ld, w) {
            return term.write(out);
        }
        match term {
            Term::Leaf(s) => out.push_str(s),
            Term::List(items) => {
                out.push('[');
                self.pp_list(items, col + 1, &format!("{ind} "), ld, w + 1, out);
                out.push(']');
            }
            Term::Tuple(items) if items.len() > 1 && matches!(&items[0], Term::Leaf(t) if is_atom(t)) => {
                // A tagged tuple: `io_lib_pretty` first tries to line the other elements up after the
                // tag, which it refuses past the middle of the line (where RabbitMQ's values start);
                // then they go one column in, as here.
                let Term::Leaf(tag) = &items[0] else { return };
                let tag_len = tag.chars().count();
                out.push('{');
                out.push_str(tag);
                self.pp_tail(
                    &items[1..],
                    col + 1,
                    col + tag_len + 2,
                    &format!("{ind} "),
                    ld,
                    w + 1 + tag_len,
                    out,
                );
                out.push('}');
            }
            Term::Tuple(items) => {
                out.push('{');
                self.pp_list(items, col + 1, &format!("{ind} "), ld, w + 1, out);
                out.push('}');
            }
        }
    }

    /// Elements after the opening bracket at `col0`.
    fn pp_list(&self, items: &[Term], col0: usize, ind: &str, ld: usize, w: usize, out: &mut String) {
        let Some(first) = items.first() else { return };
        let ld1 = if items.len() > 1 { 0 } else { ld + 1 };
        let width = self.pp_element(first, col0, ind, ld1, w, out);
        self.pp_tail(&items[1..], col0, col0 + width, ind, ld, w + width, out);
    }

    /// The elements after the first, each after a comma: on the same line while a plain one fits, else
    /// on a new line at `col0`; `col` is where the line is now.
    #[allow(clippy::too_many_arguments)]
    fn pp_tail(
        &self,
        items: &[Term],
        col0: usize,
        col: usize,
        ind: &str,
        ld: usize,
        w: usize,
        out: &mut String,
    ) {
        let (mut col, mut w) = (col, w);
        for (i, item) in items.iter().enumerate() {
            let ld1 = if i + 1 < items.len() { 0 } else { ld + 1 };
            let elen = 1 + item.len();
            let packs = item.is_leaf()
                && if ld1 == 0 {
                    elen + 1 + col < LINE && w + elen < self.max
                } else {
                    elen + col + ld1 < LINE && w + elen + ld1 <= self.max
                };
            if packs {
                out.push(',');
                item.write(out);
                col += elen;
                w += elen;
            } else {
                out.push_str(",\n");
                out.push_str(ind);
                let width = self.pp_element(item, col0, ind, ld1, 0, out);
                col = col0 + width;
                w = width;
            }
        }
    }

    /// One element; returns its width, or a full line when the next element must start a new one.
    fn pp_element(&self, term: &Term, col: usize, ind: &str, ld: usize, w: usize, out: &mut String) -> usize {
        if term.is_leaf() && self.fits(term.len(), col, ld, w) {
            term.write(out);
            term.len()
        } else {
            self.pp(term, col, ind, ld, w, out);
            LINE
        }
    }
}

/// Whether a printed leaf is an atom (a type name, `true`, `undefined`), not a number or a binary.
fn is_atom(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// A float as Erlang (OTP 25) prints it: the shortest digits that read back as the same float, written
/// `2.5e3` when that is shorter than `2500.0` (at a tie the plain form: `100.0`, `0.0001`), and always
/// with an exponent from 2^53 on (`1.2345678901234568e16`); at least one digit after the point.
pub(crate) fn erlang_float(x: f64) -> String {
    let shortest = format!("{x:e}");
    let Some((mantissa, exponent)) = shortest.split_once('e') else { return shortest };
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let (first, rest) = digits.split_at(1);
    let scientific = format!("{sign}{first}.{}e{exponent}", if rest.is_empty() { "0" } else { rest });
    if x.abs() >= 9_007_199_254_740_992.0 {
        return scientific;
    }
    let plain = if exponent >= 0 {
        let point = exponent as usize + 1;
        if digits.len() > point {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        } else {
            format!("{sign}{digits}{}.0", "0".repeat(point - digits.len()))
        }
    } else {
        format!("{sign}0.{}{digits}", "0".repeat((-exponent - 1) as usize))
    };
    if scientific.len() < plain.len() {
        scientific
    } else {
        plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(entries: &[(&str, FieldValue)]) -> FieldTable {
        entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn s(v: &str) -> FieldValue {
        FieldValue::Str(v.to_string())
    }

    #[test]
    fn invalid_x_match_is_rejected_with_rabbitmq_text() {
        let e = validate(&table(&[("x-match", s("some"))])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "406 PRECONDITION_FAILED - Invalid x-match field value <<\"some\">>; \
             expected all, any, all-with-x, or any-with-x"
        );
        let e = validate(&table(&[("x-match", FieldValue::Int(1))])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "406 PRECONDITION_FAILED - Invalid x-match field type signedint (value 1); expected longstr"
        );
        for ok in ["all", "any", "all-with-x", "any-with-x"] {
            assert!(validate(&table(&[("x-match", s(ok))])).is_ok(), "{ok}");
        }
        assert!(validate(&FieldTable::new()).is_ok());
    }

    #[test]
    fn erlang_printing() {
        assert_eq!(erlang_binary("é"), "<<\"é\"/utf8>>");
        assert_eq!(erlang_binary("a\"b"), "<<\"a\\\"b\">>");
        assert_eq!(erlang_float(1.5), "1.5");
        assert_eq!(erlang_float(1e-7), "1.0e-7");
        assert_eq!(
            erlang_value(&FieldValue::Array(vec![s("a"), FieldValue::Int(2)])),
            "[{longstr,<<\"a\">>},{signedint,2}]"
        );
    }

    #[test]
    fn floats_print_as_erlang_prints_them() {
        // `io:format("~p", [F])` on the Erlang 25 RabbitMQ 3.10 runs on.
        for (x, erlang) in [
            (2500.0, "2.5e3"),
            (-2500.0, "-2.5e3"),
            (1000.0, "1.0e3"),
            (100.0, "100.0"),
            (123456.0, "123456.0"),
            (123456789.0, "123456789.0"),
            (1e15, "1.0e15"),
            (12345678901234567.0, "1.2345678901234568e16"),
            (9007199254740992.0, "9.007199254740992e15"),
            (9007199254740990.0, "9007199254740990.0"),
            (0.001, "0.001"),
            (0.0001, "0.0001"),
            (1e-5, "1.0e-5"),
            (1e-10, "1.0e-10"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (0.30000000000000004, "0.30000000000000004"),
            (1e100, "1.0e100"),
            (5e-324, "5.0e-324"),
            (123.456, "123.456"),
        ] {
            assert_eq!(erlang_float(x), erlang, "{x:e}");
        }
    }

    #[test]
    fn long_values_wrap_as_erlang_pretty_prints_them() {
        // `io_lib:format("Invalid x-match field type ~p (value ~p); expected longstr", [Type, Term])` on
        // Erlang 25, the RabbitMQ 3.10 reply before its cut to 255 bytes.
        let message = |v: &FieldValue| {
            let head = format!("Invalid x-match field type {} (value ", amqp_type_name(v));
            format!("{head}{}); expected longstr", erlang_pretty(v, head.len() + 1))
        };
        let pad = " ".repeat(41);
        let ints = FieldValue::Array((1..=18).map(FieldValue::Int).collect());
        let lines: Vec<String> = (1..=18).map(|i| format!("{{signedint,{i}}}")).collect();
        assert_eq!(
            message(&ints),
            format!(
                "Invalid x-match field type array (value [{}]); expected longstr",
                lines.join(&format!(",\n{pad}"))
            )
        );
        let nested = FieldValue::Array(vec![FieldValue::Array((1..=30).map(FieldValue::Int).collect())]);
        let lines: Vec<String> = (1..=30).map(|i| format!("{{signedint,{i}}}")).collect();
        assert_eq!(
            message(&nested),
            format!(
                "Invalid x-match field type array (value [{{array,\n{pad} [{}]}}]); expected longstr",
                lines.join(&format!(",\n{pad}  "))
            )
        );
        let wide = table(&[("a", FieldValue::Int(1)), (&"b".repeat(35), s(&"c".repeat(30)))]);
        assert_eq!(
            message(&FieldValue::Table(wide)),
            format!(
                "Invalid x-match field type table (value [{{<<\"a\">>,signedint,1}},\n{pad}{{<<\"{}\">>,\n{pad} \
                 longstr,\n{pad} <<\"{}\">>}}]); expected longstr",
                "b".repeat(35),
                "c".repeat(30)
            )
        );
        let inner = table(&[("inner", s(&"v".repeat(40)))]);
        let deep =
            table(&[("d", FieldValue::Typed(TypedValue::Decimal(2, 125))), ("k", FieldValue::Table(inner))]);
        assert_eq!(
            message(&FieldValue::Table(deep)),
            format!(
                "Invalid x-match field type table (value [{{<<\"d\">>,decimal,{{2,125}}}},\n{pad}{{<<\"k\">>,table,\n\
                 {pad} [{{<<\"inner\">>,longstr,\n{pad}   <<\"{}\">>}}]}}]); expected longstr",
                "v".repeat(40)
            )
        );
        let mixed = FieldValue::Array(vec![
            FieldValue::Bool(true),
            FieldValue::Bool(false),
            FieldValue::Void,
            FieldValue::Float(2500.0),
            FieldValue::Typed(TypedValue::Decimal(2, 125)),
            s("some text here"),
        ]);
        let lines = [
            "{bool,true}",
            "{bool,false}",
            "{void,undefined}",
            "{double,2.5e3}",
            "{decimal,{2,125}}",
            "{longstr,<<\"some text here\">>}",
        ];
        assert_eq!(
            message(&mixed),
            format!(
                "Invalid x-match field type array (value [{}]); expected longstr",
                lines.join(&format!(",\n{pad}"))
            )
        );
        let short = FieldValue::Array(vec![FieldValue::Int(1)]);
        assert_eq!(
            message(&short),
            "Invalid x-match field type array (value [{signedint,1}]); expected longstr"
        );
        // RabbitMQ cuts the reply-text to 252 bytes and `...` (seen on RabbitMQ 3.10.8).
        let e = validate(&table(&[("x-match", ints)])).unwrap_err();
        assert_eq!(e.text.len(), 255);
        assert!(e.text.ends_with("{signedint,4},\n      ..."), "{}", e.text);
    }

    #[test]
    fn values_compare_as_erlang_equality() {
        // Values from tests/scenarios/amqp/headers-value-comparison (RabbitMQ 3.10.8).
        assert!(identical(&FieldValue::Int(1), &FieldValue::Int(1)));
        assert!(identical(&FieldValue::Int(1), &FieldValue::Float(1.0)));
        assert!(identical(&FieldValue::Int(5_000_000_000), &FieldValue::Float(5e9)));
        assert!(!identical(&FieldValue::Int(1), &s("1")));
        assert!(!identical(&FieldValue::Int(1), &FieldValue::Bool(true)));
        assert!(identical(&FieldValue::Float(0.0), &FieldValue::Float(-0.0)));
        assert!(identical(&FieldValue::Float(0.0), &FieldValue::Int(0)));
        assert!(!identical(
            &FieldValue::Array(vec![FieldValue::Int(1), s("x")]),
            &FieldValue::Array(vec![FieldValue::Float(1.0), s("x")])
        ));
        assert!(identical(
            &FieldValue::Array(vec![FieldValue::Float(-0.0)]),
            &FieldValue::Array(vec![FieldValue::Float(0.0)])
        ));
    }

    #[test]
    fn explain_names_the_deciding_header() {
        let args = table(&[("x-match", s("all")), ("format", s("pdf")), ("type", s("report"))]);
        let (matched, reason) = explain(&args, &table(&[("format", s("pdf")), ("type", s("log"))]));
        assert!(!matched);
        assert_eq!(reason, "x-match all: header 'type' = \"report\" but the message has \"log\"");
        let (matched, reason) = explain(&args, &table(&[("format", s("pdf")), ("type", s("report"))]));
        assert!(matched);
        assert_eq!(reason, "x-match all: 2 of 2 headers matched");
        let any = table(&[("x-match", s("any")), ("format", s("pdf")), ("type", s("report"))]);
        let (matched, reason) = explain(&any, &table(&[("format", s("pdf"))]));
        assert!(matched);
        assert_eq!(reason, "x-match any: header 'format' = \"pdf\" matches");
        let (matched, reason) = explain(&any, &table(&[("format", s("zip"))]));
        assert!(!matched);
        assert_eq!(reason, "x-match any: no header matched");
    }
}
