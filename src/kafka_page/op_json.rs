//! [`KafkaOp`]'s reader: the JSON the derived `Serialize` writes (`{"op": "create_topic", "name": …}`, an
//! internally tagged object), read back field by field from a [`serde_json::Value`].
//!
//! Why not `#[derive(Deserialize)]` with `#[serde(tag = "op")]`: serde buffers an internally tagged object
//! and reads every variant from the buffer in one generic function, about 30 kB of the Kafka page's wasm
//! (BENCHMARKS.md, "One page per model"). This reader goes through the page's `Value` (already linked) and
//! reads each field with the field type's own `Deserialize` from `&Value`, so the page carries one small
//! function per field type instead.
//!
//! Invariants:
//! - It accepts exactly what the derived reader accepted for an object, and refuses with serde's texts:
//!   `missing field `op``, `unknown variant …, expected one of …`, `unknown field …, expected one of …`
//!   (the variant's fields; `deny_unknown_fields`), `missing field …`, and the field type's own
//!   `invalid type …` errors. A unit variant (`hand_poll`, `hand_commit`, `hand_close`) ignores other
//!   fields, as serde's internally tagged unit variants do. Where an object has several faults, the first
//!   unknown field is reported before any value's fault, then the fields in declaration order.
//! - Only an object is an operation (the derived reader also took serde's sequence form, `["hand_poll"]`,
//!   which nothing writes; it is refused here as `invalid type: sequence`).
//! - The JSON shape is frozen by the tests below (each variant written and read back, and the texts).

use super::ops::KafkaOp;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The variants' tags, in declaration order.
const VARIANTS: &[&str] = &[
    "create_topic",
    "add_partitions",
    "alter_config",
    "delete_records",
    "produce",
    "reset_offsets",
    "hand_subscribe",
    "hand_assign",
    "hand_poll",
    "hand_commit",
    "hand_seek",
    "hand_close",
];

/// Each struct variant's fields, in declaration order.
fn fields_of(tag: &str) -> &'static [&'static str] {
    match tag {
        "create_topic" => &["name", "partitions", "replication_factor", "configs"],
        "add_partitions" => &["topic", "total"],
        "alter_config" => &["topic", "name", "value"],
        "delete_records" => &["topic", "partition", "before"],
        "produce" => &["topic", "partition", "key", "value", "headers", "acks"],
        "reset_offsets" => &["group", "topic", "to"],
        "hand_subscribe" => &["group", "topics", "max_poll_records", "auto_offset_reset"],
        "hand_assign" => &["group", "partitions", "max_poll_records", "auto_offset_reset"],
        "hand_seek" => &["topic", "partition", "to"],
        _ => &[],
    }
}

/// An object's fields (the tag taken out) with serde's texts for what is wrong.
struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// A field that must be there.
    fn req<T: DeserializeOwned>(&self, name: &'static str) -> Result<T, serde_json::Error> {
        match self.map.get(name) {
            Some(v) => T::deserialize(v),
            None => Err(serde_json::Error::missing_field(name)),
        }
    }

    /// A field that may be left out: `Option`'s `None`, or the type's default (`#[serde(default)]`).
    fn or_default<T: DeserializeOwned + Default>(&self, name: &'static str) -> Result<T, serde_json::Error> {
        match self.map.get(name) {
            Some(v) => T::deserialize(v),
            None => Ok(T::default()),
        }
    }
}

/// Reads one operation from its JSON value.
pub fn read(value: Value) -> Result<KafkaOp, serde_json::Error> {
    let mut map = match value {
        Value::Object(map) => map,
        other => {
            return Err(serde_json::Error::invalid_type(
                unexpected_of(&other),
                &"internally tagged enum KafkaOp",
            ))
        }
    };
    let tag = match map.remove("op") {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(serde_json::Error::invalid_type(unexpected_of(&other), &"variant identifier"))
        }
        None => return Err(serde_json::Error::missing_field("op")),
    };
    let Some(&tag) = VARIANTS.iter().find(|v| **v == tag) else {
        return Err(serde_json::Error::unknown_variant(&tag, VARIANTS));
    };
    let f = Fields { map };
    let known = fields_of(tag);
    if !known.is_empty() {
        if let Some(unknown) = f.map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(serde_json::Error::unknown_field(unknown, known));
        }
    }
    Ok(match tag {
        "create_topic" => KafkaOp::CreateTopic {
            name: f.req("name")?,
            partitions: f.req("partitions")?,
            replication_factor: f.req("replication_factor")?,
            configs: f.or_default("configs")?,
        },
        "add_partitions" => KafkaOp::AddPartitions { topic: f.req("topic")?, total: f.req("total")? },
        "alter_config" => KafkaOp::AlterConfig {
            topic: f.req("topic")?,
            name: f.req("name")?,
            value: f.or_default("value")?,
        },
        "delete_records" => KafkaOp::DeleteRecords {
            topic: f.req("topic")?,
            partition: f.req("partition")?,
            before: f.req("before")?,
        },
        "produce" => KafkaOp::Produce {
            topic: f.req("topic")?,
            partition: f.or_default("partition")?,
            key: f.or_default("key")?,
            value: f.or_default("value")?,
            headers: f.or_default("headers")?,
            acks: f.req("acks")?,
        },
        "reset_offsets" => {
            KafkaOp::ResetOffsets { group: f.req("group")?, topic: f.req("topic")?, to: f.req("to")? }
        }
        "hand_subscribe" => KafkaOp::HandSubscribe {
            group: f.req("group")?,
            topics: f.req("topics")?,
            max_poll_records: f.req("max_poll_records")?,
            auto_offset_reset: f.req("auto_offset_reset")?,
        },
        "hand_assign" => KafkaOp::HandAssign {
            group: f.or_default("group")?,
            partitions: f.req("partitions")?,
            max_poll_records: f.req("max_poll_records")?,
            auto_offset_reset: f.req("auto_offset_reset")?,
        },
        "hand_poll" => KafkaOp::HandPoll,
        "hand_commit" => KafkaOp::HandCommit,
        "hand_seek" => {
            KafkaOp::HandSeek { topic: f.req("topic")?, partition: f.req("partition")?, to: f.req("to")? }
        }
        _ => KafkaOp::HandClose,
    })
}

fn unexpected_of(v: &Value) -> serde::de::Unexpected<'_> {
    match v {
        Value::Null => serde::de::Unexpected::Other("null"),
        Value::Bool(b) => serde::de::Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => serde::de::Unexpected::Unsigned(u),
            (None, Some(i)) => serde::de::Unexpected::Signed(i),
            _ => serde::de::Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => serde::de::Unexpected::Str(s),
        Value::Array(_) => serde::de::Unexpected::Seq,
        Value::Object(_) => serde::de::Unexpected::Map,
    }
}

impl<'de> Deserialize<'de> for KafkaOp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KafkaOp, D::Error> {
        let value = Value::deserialize(deserializer)?;
        read(value).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `op_json_cases.tsv`: each line an input, a tab, and what serde's derived reader (`#[serde(tag =
    /// "op", rename_all = "snake_case", deny_unknown_fields)]` on the same enum, serde 1.0.228) gave for it:
    /// `OK` and the operation written back, or `ERR` and its text. This reader must give the same.
    #[test]
    fn reads_what_the_derived_reader_read_and_refuses_with_its_texts() {
        let cases = include_str!("op_json_cases.tsv");
        let mut count = 0;
        for line in cases.lines() {
            let (input, expected) = line.split_once('\t').expect("input<TAB>expected");
            let value: Value = serde_json::from_str(input).expect("a JSON input");
            let got = match serde_json::from_value::<KafkaOp>(value) {
                Ok(op) => format!("OK {}", serde_json::to_string(&op).unwrap()),
                Err(e) => format!("ERR {e}"),
            };
            assert_eq!(got, expected, "for {input}");
            count += 1;
        }
        assert!(count >= 40, "the cases file was read ({count} lines)");
    }

    #[test]
    fn only_an_object_is_an_operation() {
        let e = serde_json::from_str::<KafkaOp>(r#"["hand_poll"]"#).unwrap_err();
        assert_eq!(e.to_string(), "invalid type: sequence, expected internally tagged enum KafkaOp");
    }

    #[test]
    fn a_workspace_operation_is_read_inside_its_applied_record() {
        let applied: super::super::ops::Applied =
            serde_json::from_str(r#"{"at":1500,"op":{"op":"add_partitions","topic":"t","total":4}}"#)
                .unwrap();
        assert_eq!(applied.at, 1500);
        assert_eq!(applied.op, KafkaOp::AddPartitions { topic: "t".into(), total: 4 });
        let e = serde_json::from_str::<super::super::ops::Applied>(
            r#"{"at":1,"op":{"op":"hand_poll","x":1},"y":2}"#,
        );
        assert!(e.is_ok(), "Applied itself allows other fields, as before: {e:?}");
    }
}
