//! Unit tests of the script host's internals: value conversions, publish options, size measuring and
//! error texts. Behaviour through the public API is tested in `tests/scripts.rs`.

use super::convert::{dynamic_to_field, field_to_dynamic, publish_properties};
use super::*;
use crate::amqp::types::FieldValue;
use rhai::Map;

fn table(entries: &[(&str, FieldValue)]) -> FieldTable {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

#[test]
fn script_field_values_round_trip_through_rhai() {
    let value = FieldValue::Table(table(&[
        ("b", FieldValue::Bool(true)),
        ("i", FieldValue::Int(-7)),
        ("s", FieldValue::Str("x".into())),
        ("a", FieldValue::Array(vec![FieldValue::Int(1), FieldValue::Void])),
        ("t", FieldValue::Table(table(&[("k", FieldValue::Str("v".into()))]))),
    ]));
    assert_eq!(dynamic_to_field(&field_to_dynamic(&value)), Ok(value));
}

#[test]
fn script_float_headers_arrive_as_text_because_floats_are_compiled_out() {
    assert_eq!(
        dynamic_to_field(&field_to_dynamic(&FieldValue::Float(1.5))),
        Ok(FieldValue::Str("1.5".into()))
    );
}

#[test]
fn script_function_pointers_have_no_amqp_form() {
    let f = Dynamic::from(rhai::FnPtr::new("f").unwrap());
    assert_eq!(dynamic_to_field(&f), Err("Fn".to_string()));
}

#[test]
fn script_publish_options_fill_the_properties() {
    let mut options = Map::new();
    options.insert("persistent".into(), Dynamic::from_bool(false));
    options.insert("type".into(), Dynamic::from("order.created".to_string()));
    options.insert("timestamp".into(), Dynamic::from_int(1_700_000_000));
    options.insert("app_id".into(), Dynamic::from("lab".to_string()));
    let p = publish_properties("publish", &Dynamic::from_map(options)).unwrap();
    assert_eq!(p.delivery_mode, Some(1));
    assert_eq!(p.kind.as_deref(), Some("order.created"));
    assert_eq!(p.timestamp, Some(1_700_000_000));
    assert_eq!(p.app_id.as_deref(), Some("lab"));
    let mut bad = Map::new();
    bad.insert("timestamp".into(), Dynamic::from_int(-1));
    let e = publish_properties("reply", &Dynamic::from_map(bad)).unwrap_err();
    assert_eq!(e, "reply(): option timestamp must be a non-negative integer, not i64 (-1)");
}

#[test]
fn script_measure_counts_nested_data_like_rhai() {
    let limits =
        ScriptLimits { max_map_size: 3, max_array_size: 2, max_string_size: 5, ..ScriptLimits::default() };
    let mut inner = Map::new();
    inner.insert("a".into(), Dynamic::from("abc".to_string()));
    let mut outer = Map::new();
    outer.insert("x".into(), Dynamic::from_map(inner.clone()));
    outer.insert("y".into(), Dynamic::from_int(1));
    let ok = Dynamic::from_map(outer.clone());
    assert_eq!(measure_live_data(std::iter::once(&ok), &limits), Ok(()));
    // One more nested entry passes the map limit (2 + 1 + 1 > 3), counted across levels.
    outer.insert("z".into(), Dynamic::from_map(inner));
    let too_many = Dynamic::from_map(outer).into_shared();
    assert_eq!(measure_live_data(std::iter::once(&too_many), &limits), Err("Size of object map"));
    // Each value is measured on its own, as Rhai does.
    let s = Dynamic::from("abcd".to_string());
    assert_eq!(measure_live_data([&s, &s].into_iter(), &limits), Ok(()));
    let arr = Dynamic::from_array(vec![s.clone(), s]);
    assert_eq!(measure_live_data(std::iter::once(&arr), &limits), Err("Length of string"));
}

#[test]
fn script_measure_refuses_deep_nesting() {
    let mut value = Dynamic::from_map(Map::new());
    for _ in 0..=MAX_DATA_DEPTH {
        value = Dynamic::from_array(vec![value]);
    }
    let limits = ScriptLimits { max_array_size: 1_000, ..ScriptLimits::default() };
    assert_eq!(measure_live_data(std::iter::once(&value), &limits), Err("Depth of nested arrays and maps"));
}

#[test]
fn script_error_display_with_and_without_location() {
    let located =
        ScriptError { script: "spin".into(), line: 2, col: 5, message: "too many operations".into() };
    assert_eq!(located.to_string(), "script 'spin' line 2, col 5: too many operations");
    assert_eq!(ScriptError::unlocated("x", "gone").to_string(), "script 'x': gone");
}

#[test]
fn script_decisions_display_as_the_calls_that_made_them() {
    let shown: Vec<String> = [
        Decision::Ack,
        Decision::Nack { requeue: false },
        Decision::Reject { requeue: true },
        Decision::Crash,
        Decision::Cancel,
    ]
    .iter()
    .map(Decision::to_string)
    .collect();
    assert_eq!(shown, ["ack()", "nack(false)", "reject(true)", "crash()", "cancel()"]);
}

#[test]
fn script_find_fn_locates_entry_points() {
    assert_eq!(find_fn("// x\n  fn  on_tick() {}\n", ON_TICK), (2, 3));
    assert_eq!(find_fn("fn other() {}", ON_TICK), (0, 0));
}

#[test]
fn script_a_failed_call_leaves_the_host_clean_for_the_next() {
    let limits = ScriptLimits { max_operations: 5_000, max_map_size: 50, ..ScriptLimits::default() };
    let mut host = ScriptHost::new(limits, 0);
    let src = "fn on_message(msg) { if msg.seq == 0 { let m = #{}; for i in 0..40 { m[`k${i}`] = i; } loop {} } ack(); }";
    host.compile("s", src).unwrap();
    assert!(host.on_message("s", "a", 0, &ScriptMessage::default()).is_err());
    assert!(host.call.borrow().state().is_unit(), "the actor's state must not stay lent out");
    assert!(host.scope.is_empty(), "the failed call's variables must not outlive it");
    let msg = ScriptMessage { seq: 1, ..ScriptMessage::default() };
    let outcome = host.on_message("s", "a", 0, &msg).unwrap();
    assert_eq!(outcome.decision, Some(Decision::Ack));
}
