//! One reader for every entity of a definitions file (users, vhosts, permissions, …, bindings).
//!
//! serde's derive gives each entity type its own visitor, and each `Vec<T>` its own copy of
//! serde_json's sequence reader with `T`'s visitor inlined: ten lists, ten copies, about 60 kB of the
//! page's code. Here an entity is a table of fields ([`Entity`]); one visitor reads any of them into
//! [`Slots`] and one sequence reader reads any list, so each field type's reader (a string, an optional
//! string, a boolean, an `i64`, a JSON value, an arguments table, a map of JSON values) is compiled
//! once per deserializer, and each entity only turns its slots into its struct.
//!
//! The answers are the derived readers': the same values, defaults, `null` handling and errors (
//! "missing field `name`", "duplicate field `name`", "invalid type: …, expected struct QueueDefinition",
//! "… expected a sequence") at the same positions, since the same serde_json calls read the same bytes
//! (`tests/definitions_reader.rs` holds the derived readers' answers). As serde's derive does, an entity
//! may also be written as a JSON array of its fields in declaration order (`["q", "/", …]`; no RabbitMQ
//! export writes one, but the `definitions/nested-10000` bad-input golden is read that way).

use super::super::types::FieldTable;
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use std::collections::BTreeMap;
use std::fmt;

/// How a field's value is read.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// `String`.
    Str,
    /// `Option<String>` (`null` is `None`).
    OptStr,
    Bool,
    I64,
    /// `serde_json::Value`.
    Json,
    /// An arguments table ([`FieldTable`]).
    Table,
    /// `BTreeMap<String, serde_json::Value>` (a policy's definition).
    JsonMap,
}

/// A field: its JSON key, its kind, and whether a file may leave it out (then the entity's default).
pub(super) struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

/// An entity type: the name its errors give (`struct QueueDefinition`) and its fields, in the order the
/// derived reader checked them for missing ones (declaration order).
pub(super) struct Entity {
    pub name: &'static str,
    pub fields: &'static [Field],
    /// The fields' JSON keys again: a deserializer may choose by them (serde's `flatten` does: a durable
    /// image's queue is its `QueueDefinition` flattened beside the queue's messages).
    pub keys: &'static [&'static str],
}

pub(super) const fn req(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: true }
}

pub(super) const fn opt(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: false }
}

/// One field's value as read.
pub(super) enum Slot {
    Str(String),
    OptStr(Option<String>),
    Bool(bool),
    I64(i64),
    Json(serde_json::Value),
    Table(FieldTable),
    JsonMap(BTreeMap<String, serde_json::Value>),
}

/// An entity's fields as read, by position in [`Entity::fields`]; `None` where the file left it out.
pub(super) struct Slots(Vec<Option<Slot>>);

impl Slots {
    pub fn string(&mut self, i: usize) -> Option<String> {
        match self.0[i].take() {
            Some(Slot::Str(s)) => Some(s),
            None => None,
            Some(_) => unreachable!("field {i} is not a string"),
        }
    }

    pub fn opt_string(&mut self, i: usize) -> Option<String> {
        match self.0[i].take() {
            Some(Slot::OptStr(s)) => s,
            None => None,
            Some(_) => unreachable!("field {i} is not an optional string"),
        }
    }

    pub fn bool(&mut self, i: usize) -> Option<bool> {
        match self.0[i].take() {
            Some(Slot::Bool(b)) => Some(b),
            None => None,
            Some(_) => unreachable!("field {i} is not a boolean"),
        }
    }

    pub fn i64(&mut self, i: usize) -> Option<i64> {
        match self.0[i].take() {
            Some(Slot::I64(n)) => Some(n),
            None => None,
            Some(_) => unreachable!("field {i} is not an integer"),
        }
    }

    /// A JSON value; `Null` when left out.
    pub fn json(&mut self, i: usize) -> serde_json::Value {
        match self.0[i].take() {
            Some(Slot::Json(v)) => v,
            None => serde_json::Value::Null,
            Some(_) => unreachable!("field {i} is not a JSON value"),
        }
    }

    /// An arguments table; empty when left out.
    pub fn table(&mut self, i: usize) -> FieldTable {
        match self.0[i].take() {
            Some(Slot::Table(t)) => t,
            None => FieldTable::new(),
            Some(_) => unreachable!("field {i} is not a table"),
        }
    }

    pub fn json_map(&mut self, i: usize) -> BTreeMap<String, serde_json::Value> {
        match self.0[i].take() {
            Some(Slot::JsonMap(m)) => m,
            None => BTreeMap::new(),
            Some(_) => unreachable!("field {i} is not a map"),
        }
    }
}

/// Reads one entity (a JSON object) into its slots.
pub(super) fn entity<'de, D: Deserializer<'de>>(
    deserializer: D,
    entity: &'static Entity,
) -> Result<Slots, D::Error> {
    deserializer.deserialize_struct(entity.name, entity.keys, EntityVisitor(entity))
}

/// Reads a list of entities.
pub(super) fn list<'de, A: MapAccess<'de>>(
    map: &mut A,
    entity: &'static Entity,
) -> Result<Vec<Slots>, A::Error> {
    map.next_value_seed(List(entity))
}

/// Which of an entity's fields a key names (`None`: a key the entity does not know, skipped as
/// RabbitMQ's importer skips it).
struct Key(&'static Entity);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }
    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.fields.iter().position(|f| f.name == key))
    }
}

struct EntityVisitor(&'static Entity);

impl<'de> Visitor<'de> for EntityVisitor {
    type Value = Slots;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", self.0.name)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slots, A::Error> {
        let fields = self.0.fields;
        let mut slots: Vec<Option<Slot>> = fields.iter().map(|_| None).collect();
        while let Some(key) = map.next_key_seed(Key(self.0))? {
            let Some(i) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if slots[i].is_some() {
                return Err(A::Error::duplicate_field(fields[i].name));
            }
            slots[i] = Some(match fields[i].kind {
                Kind::Str => Slot::Str(map.next_value()?),
                Kind::OptStr => Slot::OptStr(map.next_value()?),
                Kind::Bool => Slot::Bool(map.next_value()?),
                Kind::I64 => Slot::I64(map.next_value()?),
                Kind::Json => Slot::Json(map.next_value()?),
                Kind::Table => Slot::Table(map.next_value()?),
                Kind::JsonMap => Slot::JsonMap(map.next_value()?),
            });
        }
        if let Some(f) = fields.iter().zip(&slots).find(|(f, s)| f.required && s.is_none()) {
            return Err(A::Error::missing_field(f.0.name));
        }
        Ok(Slots(slots))
    }
    /// The array form: fields in declaration order; a short array ends with the entity's defaults, or
    /// is refused at the first required field it lacks.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Slots, A::Error> {
        let fields = self.0.fields;
        let mut slots = Vec::with_capacity(fields.len());
        for (i, field) in fields.iter().enumerate() {
            let slot = match field.kind {
                Kind::Str => seq.next_element()?.map(Slot::Str),
                Kind::OptStr => seq.next_element()?.map(Slot::OptStr),
                Kind::Bool => seq.next_element()?.map(Slot::Bool),
                Kind::I64 => seq.next_element()?.map(Slot::I64),
                Kind::Json => seq.next_element()?.map(Slot::Json),
                Kind::Table => seq.next_element()?.map(Slot::Table),
                Kind::JsonMap => seq.next_element()?.map(Slot::JsonMap),
            };
            if slot.is_none() && field.required {
                return Err(A::Error::invalid_length(i, &WithElements(self.0)));
            }
            slots.push(slot);
        }
        Ok(Slots(slots))
    }
}

/// What a short array was expected to hold: "struct Permission with 5 elements".
struct WithElements(&'static Entity);

impl serde::de::Expected for WithElements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {} with {} elements", self.0.name, self.0.fields.len())
    }
}

struct List(&'static Entity);

impl<'de> DeserializeSeed<'de> for List {
    type Value = Vec<Slots>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Slots>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for List {
    type Value = Vec<Slots>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Slots>, A::Error> {
        let mut out = Vec::new();
        while let Some(slots) = seq.next_element_seed(One(self.0))? {
            out.push(slots);
        }
        Ok(out)
    }
}

struct One(&'static Entity);

impl<'de> DeserializeSeed<'de> for One {
    type Value = Slots;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Slots, D::Error> {
        entity(deserializer, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        BINDING, EXCHANGE, GLOBAL_PARAMETER, PARAMETER, PERMISSION, POLICY, QUEUE, TOPIC_PERMISSION, USER,
        VIRTUAL_HOST,
    };

    #[test]
    fn every_entity_lists_its_fields_keys_in_order() {
        let all = [
            &USER,
            &VIRTUAL_HOST,
            &PERMISSION,
            &TOPIC_PERMISSION,
            &PARAMETER,
            &GLOBAL_PARAMETER,
            &POLICY,
            &QUEUE,
            &EXCHANGE,
            &BINDING,
        ];
        for entity in all {
            let names: Vec<&str> = entity.fields.iter().map(|f| f.name).collect();
            assert_eq!(entity.keys, names.as_slice(), "{}", entity.name);
        }
    }
}
