//! Typed field values in the RabbitMQ page's forms (issue 18), typed with real key presses: a headers
//! exchange bound with `x-match=all` and an `int8` argument (first mistyped as 300: the engine's own
//! error shows next to the field and every row keeps what was typed), then a message published with the
//! same header as an `int8` reaches the queue and one with the header as a string does not.
//! At 1280×720 and 1920×1080. Screenshots: `artifacts/e2e-typed-fields-*.png`.

use crate::harness::*;
use serde_json::json;

/// The `(key, type, value)` of each row of a field-rows editor.
fn rows(page: &Page, prefix: &str) -> Vec<(String, String, String)> {
    let v = page.execute(
        "const out = [];
         for (let i = 0; ; i++) {
           const k = document.getElementById(`${arguments[0]}-key-${i}`);
           if (!k) return out;
           out.push([k.value, document.getElementById(`${arguments[0]}-type-${i}`).value,
                     document.getElementById(`${arguments[0]}-value-${i}`).value]);
         }",
        json!([prefix]),
    );
    let s = |x: &serde_json::Value| x.as_str().unwrap_or("").to_string();
    v.as_array().expect("rows").iter().map(|r| (s(&r[0]), s(&r[1]), s(&r[2]))).collect()
}

/// Types one row: its key, its type chosen from the list, its value.
fn type_row(page: &Page, prefix: &str, i: usize, key: &str, kind: &str, value: &str) {
    page.type_keys(&format!("#{prefix}-key-{i}"), key);
    page.click(&format!("#{prefix}-type-{i} option[value='{kind}']"));
    page.type_keys(&format!("#{prefix}-value-{i}"), value);
}

fn typed_fields(width: i64, height: i64) {
    let browser = Browser::open_sized("/", width, height);
    let page = &browser.page;
    page.wait_text("header.app-header h1", "Brokerlab");
    let tag = format!("{width}x{height}");

    page.click("#tab-exchanges");
    page.type_keys("#exchange-name", "typed.h");
    page.click("#exchange-type option[value='headers']");
    page.click("#exchange-declare");
    page.wait_text("#notice", "Declared exchange 'typed.h'");
    page.click("#tab-queues");
    page.type_keys("#queue-name", "typed.q");
    page.click("#queue-declare");
    page.wait_text("#notice", "Declared: queue 'typed.q'");

    // The binding: x-match=all and n8 as an int8, first out of range.
    page.click("#tab-bindings");
    page.type_keys("#binding-source", "typed.h");
    page.type_keys("#binding-destination", "typed.q");
    type_row(page, "binding-arg", 0, "x-match", "String", "all");
    type_row(page, "binding-arg", 1, "n8", "int8", "300");
    let error = page.wait_text("#binding-arg-error-1", "out of range");
    assert!(error.starts_with("argument 'n8': 1:"), "the engine's located error: {error}");
    page.assert_in_view("#binding-arg-error-1", "the row's error");
    page.click("#binding-add");
    page.wait_text("#notice", "out of range");
    page.screenshot(&format!("e2e-typed-fields-{tag}-error.png"));
    let expected = |v: &str| {
        vec![
            ("x-match".to_string(), "String".to_string(), "all".to_string()),
            ("n8".to_string(), "int8".to_string(), v.to_string()),
            (String::new(), "String".to_string(), String::new()),
        ]
    };
    assert_eq!(rows(page, "binding-arg"), expected("300"), "nothing typed is lost on the error");
    page.type_keys("#binding-arg-value-1", "7");
    assert!(page.try_find("#binding-arg-error-1").is_none(), "the error goes once the value is right");
    assert_eq!(rows(page, "binding-arg"), expected("7"));
    page.click("#binding-add");
    page.wait_text("#notice", "Bound");
    let bindings = page.wait_text("#tab-panel", "n8");
    assert!(bindings.contains("typed.q"), "bindings: {bindings}");

    // A message with n8 = int8(7) matches; one with n8 = "7" (a string) does not.
    page.click("#tab-messages");
    page.type_keys("#publish-exchange", "typed.h");
    type_row(page, "publish-header", 0, "n8", "int8", "7");
    page.type_keys("#publish-body", "typed match");
    page.click("#publish");
    page.wait_text("#notice", "Published to exchange 'typed.h'");
    page.click("#publish-header-type-0 option[value='String']");
    page.type_keys("#publish-body", "string header");
    page.click("#publish");
    page.wait_text("#notice", "Published to exchange 'typed.h'");
    page.click("#get-queue option[value='typed.q']");
    page.click("#peek");
    let peeked = page.wait_text("#peek-list", "typed match");
    assert!(!peeked.contains("string header"), "a string header does not equal an int8: {peeked}");
    page.assert_in_view("#peek-result", "the peeked message");
    page.screenshot(&format!("e2e-typed-fields-{tag}-matched.png"));
    assert!(page.console_errors().is_empty(), "console: {:?}", page.console_errors());
}

#[test]
fn typed_field_values_at_1280x720() {
    typed_fields(1280, 720);
}

#[test]
fn typed_field_values_at_1920x1080() {
    typed_fields(1920, 1080);
}
