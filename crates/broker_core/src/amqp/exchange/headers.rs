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
        Some(other) => format!(
            "Invalid x-match field type {} (value {}); expected longstr",
            amqp_type_name(other),
            erlang_value(other)
        ),
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

/// Erlang prints a float with at least one decimal and `e` exponents as `1.0e-5`.
fn erlang_float(x: f64) -> String {
    let shortest = format!("{x:?}");
    match shortest.split_once('e') {
        Some((mantissa, exponent)) if !mantissa.contains('.') => format!("{mantissa}.0e{exponent}"),
        _ => shortest,
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
