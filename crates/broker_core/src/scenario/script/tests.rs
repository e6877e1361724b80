//! Unit tests of the script host's internals: value conversions, publish options and error texts (the
//! sandbox's own internals are tested in `sim_kernel::script`). Behaviour through the public API is tested in `tests/scripts.rs`.

use super::convert::{dynamic_to_field, field_to_dynamic, publish_properties};
use super::*;
use crate::amqp::types::FieldValue;
use sim_kernel::script::rhai::{self, Map};

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
