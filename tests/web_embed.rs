//! Embed mode in Chromium: messages as they really arrive from JavaScript (numbers are floats, objects
//! are plain objects, anything may come) are classified and validated the way the native tests expect.

use broker_core::VirtualTime;
use brokerlab::embed::bridge::parse_js;
use brokerlab::embed::protocol::{Incoming, LoadSource, Request};
use serde_json::json;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn js(text: &str) -> JsValue {
    js_sys::JSON::parse(text).expect("valid JSON in the test")
}

#[wasm_bindgen_test]
fn javascript_numbers_and_objects_make_valid_requests() {
    match parse_js(&js(r#"{"brokerlab": 1, "id": 3, "type": "runUntil", "time": 2500}"#)) {
        Incoming::Request { id, request } => {
            assert_eq!(request, Request::RunUntil(VirtualTime::from_millis(2500)));
            assert_eq!(id.as_f64(), Some(3.0));
        }
        other => panic!("{other:?}"),
    }
    match parse_js(&js(
        r#"{"brokerlab": 1, "id": "x", "type": "load", "document": {"brokerlab": 2, "name": "n"}}"#,
    )) {
        Incoming::Request { request: Request::Load(LoadSource::Document(text)), .. } => {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v, json!({"brokerlab": 2, "name": "n"}));
        }
        other => panic!("{other:?}"),
    }
    match parse_js(&js(r#"{"brokerlab": 1, "id": "p", "type": "publish", "routingKey": "q", "priority": 4}"#))
    {
        Incoming::Request { request: Request::Publish(form), .. } => assert_eq!(form.priority, "4"),
        other => panic!("{other:?}"),
    }
}

#[wasm_bindgen_test]
fn foreign_and_malformed_messages_from_javascript() {
    // Not ours: strings, numbers, other libraries' objects, a function, undefined.
    for data in [
        JsValue::from_str("hello"),
        JsValue::from_f64(1.0),
        JsValue::UNDEFINED,
        JsValue::NULL,
        js(r#"{"type": "webpackOk"}"#),
        js_sys::Function::new_no_args("return 1").into(),
    ] {
        assert_eq!(parse_js(&data), Incoming::Ignore, "{data:?}");
    }
    match parse_js(&js(r#"{"brokerlab": 1, "id": 1.5, "type": "runUntil", "time": 12.5}"#)) {
        Incoming::Bad { error, .. } => assert!(error.starts_with("'time' must be"), "{error}"),
        other => panic!("{other:?}"),
    }
    match parse_js(&js(r#"{"brokerlab": "1", "id": "v", "type": "play"}"#)) {
        Incoming::Bad { error, .. } => assert!(error.starts_with("unsupported protocol version"), "{error}"),
        other => panic!("{other:?}"),
    }
}

/// `depth` arrays inside each other, built in JavaScript without JSON (whose parser has its own limit).
fn nested_arrays(depth: usize) -> JsValue {
    let mut value: JsValue = js_sys::Array::new().into();
    for _ in 0..depth {
        let outer = js_sys::Array::new();
        outer.push(&value);
        value = outer.into();
    }
    value
}

#[wasm_bindgen_test]
fn a_deeply_nested_message_is_refused_not_a_stack_overflow() {
    for depth in [5_000, 100_000] {
        let message = js(r#"{"brokerlab": 1, "id": "deep", "type": "load"}"#);
        js_sys::Reflect::set(&message, &"document".into(), &nested_arrays(depth)).expect("an object");
        match parse_js(&message) {
            Incoming::Bad { error, .. } => {
                assert!(error.starts_with("the message nests more than 64 levels deep"), "{error}")
            }
            other => panic!("{other:?}"),
        }
        // Someone else's deep message is still none of ours.
        assert_eq!(parse_js(&nested_arrays(depth)), Incoming::Ignore);
    }
}
