//! Conversions between the engine's data (messages, field tables, properties) and Rhai values.
//!
//! Integers cross as Rhai's `i64` (the engine's `u64` counters saturate at `i64::MAX`, far beyond any
//! simulation). Floats are compiled out of Rhai (`no_float`), so a float header reaches a script as its
//! decimal text.

use super::ScriptMessage;
use crate::amqp::types::{BasicProperties, FieldTable, FieldValue, TypedValue};
use sim_kernel::script::rhai::{Array, Dynamic, Map};

// Counters and text cross as the kernel's sandbox converts them for every model.
pub(super) use sim_kernel::script::{int, text};

/// The `msg` a consumer script receives.
pub(super) fn message_map(msg: &ScriptMessage) -> Dynamic {
    let headers = if msg.headers.is_empty() { &msg.properties.headers } else { &msg.headers };
    let mut map = Map::new();
    map.insert("seq".into(), int(msg.seq));
    map.insert("body".into(), Dynamic::from(msg.body.clone()));
    map.insert("routing_key".into(), Dynamic::from(msg.routing_key.clone()));
    map.insert("exchange".into(), Dynamic::from(msg.exchange.clone()));
    map.insert("redelivered".into(), Dynamic::from_bool(msg.redelivered));
    map.insert("delivery_tag".into(), int(msg.delivery_tag));
    map.insert("persistent".into(), Dynamic::from_bool(msg.properties.persistent()));
    map.insert("headers".into(), Dynamic::from_map(table_to_map(headers)));
    map.insert("properties".into(), Dynamic::from_map(properties_map(&msg.properties)));
    Dynamic::from_map(map)
}

/// The message properties that are set, by their pika names (`type` for the AMQP `type` property);
/// headers are in `msg.headers`.
pub(super) fn properties_map(p: &BasicProperties) -> Map {
    let mut map = Map::new();
    let strings = p.string_fields();
    for (key, value) in strings {
        if let Some(value) = value {
            map.insert(key.into(), Dynamic::from(value.clone()));
        }
    }
    if let Some(mode) = p.delivery_mode {
        map.insert("delivery_mode".into(), Dynamic::from_int(i64::from(mode)));
    }
    if let Some(priority) = p.priority {
        map.insert("priority".into(), Dynamic::from_int(i64::from(priority)));
    }
    if let Some(timestamp) = p.timestamp {
        map.insert("timestamp".into(), int(timestamp));
    }
    map
}

pub(super) fn table_to_map(table: &FieldTable) -> Map {
    table.iter().map(|(k, v)| (k.as_str().into(), field_to_dynamic(v))).collect()
}

pub(super) fn field_to_dynamic(value: &FieldValue) -> Dynamic {
    match value {
        FieldValue::Bool(b) => Dynamic::from_bool(*b),
        FieldValue::Int(i) => Dynamic::from_int(*i),
        FieldValue::Float(x) => Dynamic::from(x.to_string()),
        FieldValue::Str(s) => Dynamic::from(s.clone()),
        FieldValue::Array(items) => Dynamic::from_array(items.iter().map(field_to_dynamic).collect()),
        FieldValue::Table(t) => Dynamic::from_map(table_to_map(t)),
        FieldValue::Void => Dynamic::UNIT,
        // Integers of every width and timestamps as script integers; the rest as their transcript text.
        FieldValue::Typed(t) => match (value.integer(), t) {
            (Some(i), _) => Dynamic::from_int(i),
            (None, TypedValue::Timestamp(s)) => int(*s),
            (None, _) => Dynamic::from(t.to_string()),
        },
    }
}

/// A script value as an AMQP field value, or the name of a type that has no AMQP form (a function pointer).
pub(super) fn dynamic_to_field(value: &Dynamic) -> Result<FieldValue, String> {
    let value = value.flatten_clone();
    if value.is_unit() {
        return Ok(FieldValue::Void);
    }
    if let Ok(b) = value.as_bool() {
        return Ok(FieldValue::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Ok(FieldValue::Int(i));
    }
    if let Ok(c) = value.as_char() {
        return Ok(FieldValue::Str(c.to_string()));
    }
    if value.is_string() {
        return Ok(FieldValue::Str(value.into_string().unwrap_or_default()));
    }
    let type_name = value.type_name();
    if let Some(items) = value.clone().try_cast::<Array>() {
        return items.iter().map(dynamic_to_field).collect::<Result<_, _>>().map(FieldValue::Array);
    }
    if let Some(map) = value.try_cast::<Map>() {
        let mut table = FieldTable::new();
        for (k, v) in &map {
            table.insert(k.to_string(), dynamic_to_field(v)?);
        }
        return Ok(FieldValue::Table(table));
    }
    Err(type_name.to_string())
}

/// The keys `publish(…, options)` and `reply(…, options)` accept.
const OPTION_KEYS: &str = "headers, persistent, delivery_mode, priority, expiration, correlation_id, \
                           reply_to, message_id, timestamp, type, content_type, content_encoding, user_id, app_id";

/// Message properties from a script's options map (`#{persistent: true, headers: #{…}}`).
///
/// Values are checked for type and range only; what RabbitMQ itself validates (an `expiration` that is not
/// a number) is passed through so the broker refuses it with its own error.
pub(super) fn publish_properties(function: &str, options: &Dynamic) -> Result<BasicProperties, String> {
    let options = options.flatten_clone();
    let type_name = options.type_name();
    let Some(map) = options.try_cast::<Map>() else {
        return Err(format!(
            "{function}(): options must be an object map like #{{persistent: true}}, not a {type_name}"
        ));
    };
    if map.contains_key("persistent") && map.contains_key("delivery_mode") {
        return Err(format!("{function}(): give persistent or delivery_mode, not both"));
    }
    let mut p = BasicProperties::default();
    for (key, value) in &map {
        let value = value.flatten_clone();
        let wrong = |expected: &str| {
            format!("{function}(): option {key} must be {expected}, not {}", describe(&value))
        };
        match key.as_str() {
            "headers" => match dynamic_to_field(&value) {
                Ok(FieldValue::Table(t)) => p.headers = t,
                Ok(_) => return Err(wrong("an object map")),
                Err(t) => return Err(format!("{function}(): a header holds a {t}, which has no AMQP form")),
            },
            "persistent" => {
                p.delivery_mode =
                    Some(if value.as_bool().map_err(|_| wrong("true or false"))? { 2 } else { 1 })
            }
            "delivery_mode" => match value.as_int() {
                Ok(mode @ 1..=2) => p.delivery_mode = u8::try_from(mode).ok(),
                _ => return Err(wrong("1 (transient) or 2 (persistent)")),
            },
            "priority" => match value.as_int().ok().and_then(|n| u8::try_from(n).ok()) {
                Some(priority) => p.priority = Some(priority),
                None => return Err(wrong("an integer from 0 to 255")),
            },
            "timestamp" => match value.as_int().ok().and_then(|n| u64::try_from(n).ok()) {
                Some(timestamp) => p.timestamp = Some(timestamp),
                None => return Err(wrong("a non-negative integer")),
            },
            "expiration" => {
                p.expiration = Some(short_string(&value).ok_or_else(|| wrong("a string or an integer"))?)
            }
            "correlation_id" => {
                p.correlation_id = Some(short_string(&value).ok_or_else(|| wrong("a string or an integer"))?)
            }
            "reply_to" => p.reply_to = Some(short_string(&value).ok_or_else(|| wrong("a string"))?),
            "message_id" => {
                p.message_id = Some(short_string(&value).ok_or_else(|| wrong("a string or an integer"))?)
            }
            "type" => p.kind = Some(short_string(&value).ok_or_else(|| wrong("a string"))?),
            "content_type" => p.content_type = Some(short_string(&value).ok_or_else(|| wrong("a string"))?),
            "content_encoding" => {
                p.content_encoding = Some(short_string(&value).ok_or_else(|| wrong("a string"))?)
            }
            "user_id" => p.user_id = Some(short_string(&value).ok_or_else(|| wrong("a string"))?),
            "app_id" => p.app_id = Some(short_string(&value).ok_or_else(|| wrong("a string"))?),
            other => return Err(format!("{function}(): unknown option '{other}' (options: {OPTION_KEYS})")),
        }
    }
    Ok(p)
}

/// A string property's value: a string, or an integer written in decimal.
fn short_string(value: &Dynamic) -> Option<String> {
    if let Ok(i) = value.as_int() {
        return Some(i.to_string());
    }
    value.clone().into_string().ok()
}

fn describe(value: &Dynamic) -> String {
    if value.is_string() {
        format!("the string {:?}", text(value))
    } else {
        format!("{} ({})", value.type_name(), value)
    }
}
