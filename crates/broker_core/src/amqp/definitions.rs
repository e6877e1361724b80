//! RabbitMQ's `definitions.json`: import a real export into a [`Broker`], export one RabbitMQ would import.
//!
//! # The file
//! [`Definitions`] mirrors the management plugin's export (RabbitMQ 3.10: `rabbit_mgmt_wm_definitions`):
//! `rabbit_version`, `rabbitmq_version`, `product_name`, `product_version`, `users`, `vhosts`,
//! `permissions`, `topic_permissions`, `parameters`, `global_parameters`, `policies`, `queues`,
//! `exchanges`, `bindings`. Unknown top-level keys are accepted and kept (newer versions add some);
//! unknown keys inside an entity are ignored, as RabbitMQ's importer only reads the keys it knows.
//! [`Definitions::from_json`] locates syntax and type errors by line and column.
//!
//! # Import ([`import`])
//! The order is RabbitMQ's (`rabbit_definitions:apply_defs`): exchanges, then policies, then queues,
//! then bindings. Every declaration goes through [`Broker::apply`] on a connection of its own, so the
//! validation and the error texts are the engine's (RabbitMQ's); the first failure stops the import
//! and names the entity: `queues[3] 'orders': 406 PRECONDITION_FAILED - …`. As RabbitMQ does, the
//! importer skips (with a warning in the [`ImportReport`]) the default exchange, `amq.*` exchanges and
//! queues, and any queue or exchange that already exists (it is not redeclared, so no equivalence check).
//! The broker simulates one virtual host: entities of other vhosts are skipped with a warning; an
//! entity without a `vhost` field (a per-vhost export) belongs to the broker's. Users, permissions,
//! topic permissions and runtime parameters are kept in the file but have no effect (Brokerlab has no
//! authentication, federation or shovels). Stream queues are skipped with a warning (not modelled), as
//! are the bindings to them. A queue or exchange name, routing key or argument key over 255 bytes (an
//! AMQP short string's limit) stops the import at its entity, "queue should be less than 255 bytes,
//! actually was 300": RabbitMQ's own import would create an entity no AMQP 0-9-1 client can name (see
//! `ImportError::too_long`).
//!
//! # Policies
//! A policy applies to a queue or exchange of its vhost whose name its `pattern` matches (a regular
//! expression searched anywhere in the name, as Erlang's `re:run`), when `apply-to` allows the kind
//! (`queues`, `exchanges`, `all`, default `all`) and when the queue type supports every key of the
//! definition (`rabbit_queue_type:is_policy_applicable`: a policy with `delivery-limit` does not apply
//! to a classic queue, one with `ha-mode` not to a quorum queue). Of the policies that apply, the
//! highest `priority` wins (ties: the one set first); only that one has effect.
//!
//! How a policy key combines with the queue's own `x-` argument (RabbitMQ 3.10,
//! `rabbit_amqqueue_process:process_args_policy` for classic queues, `rabbit_quorum_queue` for quorum
//! queues, `rabbit_policy:get_arg` for exchanges):
//!
//! | key | classic queue | quorum queue |
//! | --- | --- | --- |
//! | `message-ttl`, `max-length`, `max-length-bytes` | lower value wins | lower value wins |
//! | `expires` | lower value wins | policy wins |
//! | `overflow` | argument wins | policy wins |
//! | `dead-letter-exchange`, `dead-letter-routing-key` | argument wins | argument wins |
//! | `delivery-limit` | (policy not applicable) | lower value wins |
//! | `alternate-exchange` (exchanges) | argument wins | |
//!
//! Other recognised keys (`queue-mode`, `queue-version`, `ha-*`, `queue-master-locator`,
//! `max-in-memory-*`, `dead-letter-strategy`, `queue-leader-locator`, `federation-upstream(-set)`, stream
//! keys) are validated, count for applicability, and otherwise have no effect in Brokerlab (listed in
//! [`AppliedPolicy::without_effect`]). An unrecognised key fails the import as RabbitMQ's validation does.
//!
//! The policies become the broker's own ([`Broker::set_policy`]; one of the same name is replaced) and
//! the entities are declared with their own arguments only: the broker combines them with the policy in
//! effect (the table above; `x-max-priority` is not a policy key in 3.10), for every queue and exchange,
//! including those that existed before the import and those declared after it. A client that later
//! redeclares a queue with its own arguments, or without any (pika's `queue_declare('q', durable=True)`
//! when the queue had none), is accepted, as RabbitMQ compares only the declared arguments.
//! [`ImportReport::applied_policies`] says which policy took effect on each imported entity and what it
//! changed. Checked on a RabbitMQ 3.10 node (policy `message-ttl` 1000 on `^q`): a bare redeclare of a
//! matched queue is accepted; own `x-message-ttl` 5000 expires after 1000 ms, own 500 after 500 ms; a
//! redeclare with 1000 is refused, "inequivalent arg 'x-message-ttl' … received '1000' but current is
//! '5000'"; of two matching policies, priority 5 beats priority 1.
//!
//! # Export ([`export`])
//! What the management export would list for the broker's vhost: the broker's policies, every exchange
//! (with its own arguments, never a policy's value) but the default and `amq.*` ones, every queue but exclusive ones (they cannot be restored) and server-named `amq.` ones
//! (RabbitMQ's import skips them), and the explicit bindings between those (none from the default
//! exchange). Queues carry `type` (`classic` / `quorum`) as RabbitMQ 3.11+ writes it; importers ignore it
//! in favour of `x-queue-type`.

use super::arguments::QueueType;
use super::broker::Broker;
use super::error::AmqpError;
use super::exchange::Destination;
use super::method::Method;
use super::types::{ChannelNumber, FieldTable, FieldValue};
use crate::clock::VirtualTime;
use serde::de::{Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

mod read;

/// The RabbitMQ version whose export shape [`export`] writes.
pub const EXPORT_RABBIT_VERSION: &str = "3.10.0";

/// A RabbitMQ `definitions.json` (management export shape).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Definitions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rabbit_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rabbitmq_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_version: Option<String>,
    pub users: Vec<User>,
    pub vhosts: Vec<VirtualHost>,
    pub permissions: Vec<Permission>,
    pub topic_permissions: Vec<TopicPermission>,
    pub parameters: Vec<Parameter>,
    pub global_parameters: Vec<GlobalParameter>,
    pub policies: Vec<Policy>,
    pub queues: Vec<QueueDefinition>,
    pub exchanges: Vec<ExchangeDefinition>,
    pub bindings: Vec<BindingDefinition>,
    /// Top-level keys this version does not know, kept as they were.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// An internal user (its password hash is kept, never checked).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct User {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashing_algorithm: Option<String>,
    /// A comma-separated string (older exports) or a list of tags.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub tags: serde_json::Value,
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub limits: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VirtualHost {
    pub name: String,
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub limits: serde_json::Value,
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub metadata: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Permission {
    pub user: String,
    pub vhost: String,
    pub configure: String,
    pub write: String,
    pub read: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopicPermission {
    pub user: String,
    pub vhost: String,
    pub exchange: String,
    pub write: String,
    pub read: String,
}

/// A vhost-scoped runtime parameter (federation upstreams, shovels, limits…).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Parameter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vhost: Option<String>,
    pub component: String,
    pub name: String,
    pub value: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GlobalParameter {
    pub name: String,
    pub value: serde_json::Value,
}

/// A policy: `definition` keys apply to the queues and exchanges whose name `pattern` matches.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Policy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vhost: Option<String>,
    pub name: String,
    pub pattern: String,
    /// `queues`, `exchanges` or `all` (RabbitMQ's default).
    #[serde(rename = "apply-to")]
    pub apply_to: String,
    pub definition: BTreeMap<String, serde_json::Value>,
    pub priority: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueDefinition {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vhost: Option<String>,
    /// Informational (`classic`, `quorum`, `stream`): RabbitMQ declares from `x-queue-type`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub durable: bool,
    pub auto_delete: bool,
    pub arguments: FieldTable,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExchangeDefinition {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vhost: Option<String>,
    /// `direct`, `fanout`, `topic` or `headers`.
    #[serde(rename = "type")]
    pub kind: String,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: FieldTable,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BindingDefinition {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vhost: Option<String>,
    pub destination: String,
    /// `queue` or `exchange`.
    pub destination_type: String,
    pub routing_key: String,
    pub arguments: FieldTable,
}

// What each entity reads, and what a file may leave out (`read`'s module doc: one reader for all ten).
use read::Kind::{Bool, Json, JsonMap, OptStr, Str, Table, I64};
use read::{opt, req, Entity, Slots};

const USER: Entity = Entity {
    name: "User",
    fields: &[
        req("name", Str),
        opt("password_hash", OptStr),
        opt("hashing_algorithm", OptStr),
        opt("tags", Json),
        opt("limits", Json),
    ],
    keys: &["name", "password_hash", "hashing_algorithm", "tags", "limits"],
};
const VIRTUAL_HOST: Entity = Entity {
    name: "VirtualHost",
    fields: &[req("name", Str), opt("limits", Json), opt("metadata", Json)],
    keys: &["name", "limits", "metadata"],
};
const PERMISSION: Entity = Entity {
    name: "Permission",
    fields: &[
        req("user", Str),
        req("vhost", Str),
        req("configure", Str),
        req("write", Str),
        req("read", Str),
    ],
    keys: &["user", "vhost", "configure", "write", "read"],
};
const TOPIC_PERMISSION: Entity = Entity {
    name: "TopicPermission",
    fields: &[req("user", Str), req("vhost", Str), req("exchange", Str), req("write", Str), req("read", Str)],
    keys: &["user", "vhost", "exchange", "write", "read"],
};
const PARAMETER: Entity = Entity {
    name: "Parameter",
    fields: &[opt("vhost", OptStr), req("component", Str), req("name", Str), req("value", Json)],
    keys: &["vhost", "component", "name", "value"],
};
const GLOBAL_PARAMETER: Entity = Entity {
    name: "GlobalParameter",
    fields: &[req("name", Str), req("value", Json)],
    keys: &["name", "value"],
};
const POLICY: Entity = Entity {
    name: "Policy",
    fields: &[
        opt("vhost", OptStr),
        req("name", Str),
        req("pattern", Str),
        opt("apply-to", Str),
        req("definition", JsonMap),
        opt("priority", I64),
    ],
    keys: &["vhost", "name", "pattern", "apply-to", "definition", "priority"],
};
const QUEUE: Entity = Entity {
    name: "QueueDefinition",
    fields: &[
        req("name", Str),
        opt("vhost", OptStr),
        opt("type", OptStr),
        opt("durable", Bool),
        opt("auto_delete", Bool),
        opt("arguments", Table),
    ],
    keys: &["name", "vhost", "type", "durable", "auto_delete", "arguments"],
};
const EXCHANGE: Entity = Entity {
    name: "ExchangeDefinition",
    fields: &[
        req("name", Str),
        opt("vhost", OptStr),
        req("type", Str),
        opt("durable", Bool),
        opt("auto_delete", Bool),
        opt("internal", Bool),
        opt("arguments", Table),
    ],
    keys: &["name", "vhost", "type", "durable", "auto_delete", "internal", "arguments"],
};
const BINDING: Entity = Entity {
    name: "BindingDefinition",
    fields: &[
        req("source", Str),
        opt("vhost", OptStr),
        req("destination", Str),
        req("destination_type", Str),
        opt("routing_key", Str),
        opt("arguments", Table),
    ],
    keys: &["source", "vhost", "destination", "destination_type", "routing_key", "arguments"],
};

/// A required field's value (the reader refused the entity without it).
fn required<T>(value: Option<T>) -> T {
    value.expect("the reader checks required fields")
}

impl User {
    fn from_slots(mut s: Slots) -> User {
        User {
            name: required(s.string(0)),
            password_hash: s.opt_string(1),
            hashing_algorithm: s.opt_string(2),
            tags: s.json(3),
            limits: s.json(4),
        }
    }
}

impl VirtualHost {
    fn from_slots(mut s: Slots) -> VirtualHost {
        VirtualHost { name: required(s.string(0)), limits: s.json(1), metadata: s.json(2) }
    }
}

impl Permission {
    fn from_slots(mut s: Slots) -> Permission {
        Permission {
            user: required(s.string(0)),
            vhost: required(s.string(1)),
            configure: required(s.string(2)),
            write: required(s.string(3)),
            read: required(s.string(4)),
        }
    }
}

impl TopicPermission {
    fn from_slots(mut s: Slots) -> TopicPermission {
        TopicPermission {
            user: required(s.string(0)),
            vhost: required(s.string(1)),
            exchange: required(s.string(2)),
            write: required(s.string(3)),
            read: required(s.string(4)),
        }
    }
}

impl Parameter {
    fn from_slots(mut s: Slots) -> Parameter {
        Parameter {
            vhost: s.opt_string(0),
            component: required(s.string(1)),
            name: required(s.string(2)),
            value: s.json(3),
        }
    }
}

impl GlobalParameter {
    fn from_slots(mut s: Slots) -> GlobalParameter {
        GlobalParameter { name: required(s.string(0)), value: s.json(1) }
    }
}

impl Policy {
    fn from_slots(mut s: Slots) -> Policy {
        Policy {
            vhost: s.opt_string(0),
            name: required(s.string(1)),
            pattern: required(s.string(2)),
            apply_to: s.string(3).unwrap_or_else(|| "all".to_string()),
            definition: s.json_map(4),
            priority: s.i64(5).unwrap_or(0),
        }
    }
}

impl QueueDefinition {
    fn from_slots(mut s: Slots) -> QueueDefinition {
        QueueDefinition {
            name: required(s.string(0)),
            vhost: s.opt_string(1),
            kind: s.opt_string(2),
            durable: s.bool(3).unwrap_or(true),
            auto_delete: s.bool(4).unwrap_or(false),
            arguments: s.table(5),
        }
    }
}

impl ExchangeDefinition {
    fn from_slots(mut s: Slots) -> ExchangeDefinition {
        ExchangeDefinition {
            name: required(s.string(0)),
            vhost: s.opt_string(1),
            kind: required(s.string(2)),
            durable: s.bool(3).unwrap_or(true),
            auto_delete: s.bool(4).unwrap_or(false),
            internal: s.bool(5).unwrap_or(false),
            arguments: s.table(6),
        }
    }
}

impl BindingDefinition {
    fn from_slots(mut s: Slots) -> BindingDefinition {
        BindingDefinition {
            source: required(s.string(0)),
            vhost: s.opt_string(1),
            destination: required(s.string(2)),
            destination_type: required(s.string(3)),
            routing_key: s.string(4).unwrap_or_default(),
            arguments: s.table(5),
        }
    }
}

/// Each entity type read alone (a durable image's policies, for one) goes through the same reader.
macro_rules! deserialize_entity {
    ($($ty:ident: $entity:ident),* $(,)?) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                read::entity(deserializer, &$entity).map($ty::from_slots)
            }
        }
    )*};
}

deserialize_entity!(
    User: USER,
    VirtualHost: VIRTUAL_HOST,
    Permission: PERMISSION,
    TopicPermission: TOPIC_PERMISSION,
    Parameter: PARAMETER,
    GlobalParameter: GLOBAL_PARAMETER,
    Policy: POLICY,
    QueueDefinition: QUEUE,
    ExchangeDefinition: EXCHANGE,
    BindingDefinition: BINDING,
);

/// A list of entities, through the one sequence reader.
fn list<'de, A: MapAccess<'de>, T>(
    map: &mut A,
    entity: &'static Entity,
    build: fn(Slots) -> T,
) -> Result<Vec<T>, A::Error> {
    let mut out = Vec::new();
    out.extend(read::list(map, entity)?.into_iter().map(build));
    Ok(out)
}

impl<'de> Deserialize<'de> for Definitions {
    /// Reads the known keys as they stream by (so serde_json's error positions stay exact) and keeps
    /// any other top-level key in `extra`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DefinitionsVisitor;
        impl<'de> Visitor<'de> for DefinitionsVisitor {
            type Value = Definitions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a RabbitMQ definitions object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Definitions, A::Error> {
                let mut defs = Definitions::default();
                let mut seen = BTreeSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !seen.insert(key.clone()) {
                        return Err(A::Error::custom(format!("duplicate field `{key}`")));
                    }
                    match key.as_str() {
                        "rabbit_version" => defs.rabbit_version = map.next_value()?,
                        "rabbitmq_version" => defs.rabbitmq_version = map.next_value()?,
                        "product_name" => defs.product_name = map.next_value()?,
                        "product_version" => defs.product_version = map.next_value()?,
                        "users" => defs.users = list(&mut map, &USER, User::from_slots)?,
                        "vhosts" => defs.vhosts = list(&mut map, &VIRTUAL_HOST, VirtualHost::from_slots)?,
                        "permissions" => {
                            defs.permissions = list(&mut map, &PERMISSION, Permission::from_slots)?
                        }
                        "topic_permissions" => {
                            defs.topic_permissions =
                                list(&mut map, &TOPIC_PERMISSION, TopicPermission::from_slots)?
                        }
                        "parameters" => defs.parameters = list(&mut map, &PARAMETER, Parameter::from_slots)?,
                        "global_parameters" => {
                            defs.global_parameters =
                                list(&mut map, &GLOBAL_PARAMETER, GlobalParameter::from_slots)?
                        }
                        "policies" => defs.policies = list(&mut map, &POLICY, Policy::from_slots)?,
                        "queues" => defs.queues = list(&mut map, &QUEUE, QueueDefinition::from_slots)?,
                        "exchanges" => {
                            defs.exchanges = list(&mut map, &EXCHANGE, ExchangeDefinition::from_slots)?
                        }
                        "bindings" => {
                            defs.bindings = list(&mut map, &BINDING, BindingDefinition::from_slots)?
                        }
                        _ => {
                            let value: serde_json::Value = map.next_value()?;
                            defs.extra.insert(key, value);
                        }
                    }
                }
                Ok(defs)
            }
        }
        deserializer.deserialize_map(DefinitionsVisitor)
    }
}

/// A malformed definitions file: serde_json's message with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for JsonError {}

impl JsonError {
    /// serde_json's error without the ` at line L column C` suffix it appends (we print our own).
    pub fn from_serde(e: &serde_json::Error) -> Self {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        JsonError { line: e.line(), column: e.column(), message }
    }
}

impl Definitions {
    /// Parses a `definitions.json`.
    pub fn from_json(text: &str) -> Result<Definitions, JsonError> {
        serde_json::from_str(text).map_err(|e| JsonError::from_serde(&e))
    }

    /// The file as RabbitMQ's management UI downloads it (pretty-printed JSON).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("definitions are plain data")
    }
}

/// What an import did, and what it left out and why.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The broker's vhost: the only one imported.
    pub vhost: String,
    /// Exchanges declared, in file order.
    pub exchanges: Vec<String>,
    /// Queues declared, in file order.
    pub queues: Vec<String>,
    /// Bindings created.
    pub bindings: usize,
    /// The policy that took effect on each declared queue and exchange that one matched.
    pub applied_policies: Vec<AppliedPolicy>,
    /// The vhost's policies in the file, validated (the broker now holds them too).
    pub policies: Vec<Policy>,
    /// Entities skipped and settings without effect, one sentence each, with the entity's location.
    pub warnings: Vec<String>,
}

/// Queue or exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Queue,
    Exchange,
}

/// The policy in effect on one entity and what it changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppliedPolicy {
    pub kind: EntityKind,
    pub name: String,
    pub policy: String,
    /// Arguments the policy set or changed in the declaration, with their effective values.
    pub arguments: FieldTable,
    /// The entity's own values of the arguments the policy changed (absent: the policy added it).
    pub replaced: FieldTable,
    /// Keys of the policy that Brokerlab does not model (or that lost to the entity's own argument).
    pub without_effect: Vec<String>,
}

/// An import that stopped: which entity (`queues[3]`, its name) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// The entity's place in the file, e.g. `queues[3]`.
    pub path: String,
    /// The entity's name (for bindings: `source -> destination`).
    pub entity: String,
    /// RabbitMQ's error when the engine refused the declaration.
    pub amqp: Option<AmqpError>,
    /// The whole reason: the AMQP error's text, or a validation message.
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}': {}", self.path, self.entity, self.message)
    }
}

impl std::error::Error for ImportError {}

impl ImportError {
    /// A name, key or table key over 255 bytes: no AMQP 0-9-1 client could ever use the entity. RabbitMQ
    /// 3.10's HTTP API refuses such a queue name with this text (`rabbit_parameter_validation:
    /// amqp091_queue_name/2`, called by `rabbit_mgmt_wm_queue`), but not an exchange name (declared
    /// through the direct Erlang client, which encodes no short strings), and its definitions import
    /// (`rabbit_definitions:add_queue_int/3`, `add_exchange_int/3`, `add_binding_int/4`) checks neither:
    /// it would leave entities no client can name, so Brokerlab refuses all of them, with the text.
    fn too_long(path: String, entity: &str, method: &Method) -> Result<(), Self> {
        method.check_short_strings().map_err(|e| {
            let entity: String = entity.chars().take(64).collect();
            ImportError::invalid(
                path,
                &entity,
                format!("{} should be less than 255 bytes, actually was {}", e.field, e.len),
            )
        })
    }

    fn invalid(path: String, entity: &str, message: String) -> Self {
        ImportError { path, entity: entity.to_string(), amqp: None, message }
    }

    fn amqp(path: String, entity: &str, error: AmqpError) -> Self {
        ImportError { path, entity: entity.to_string(), message: error.to_string(), amqp: Some(error) }
    }
}

/// How one policy key combines with the entity's own argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// The lower of the two values (`res_min`).
    Min,
    /// The entity's argument if it has one (`res_arg`).
    ArgumentWins,
    /// The policy's value.
    PolicyWins,
    /// Recognised, validated, not modelled.
    NoEffect,
}

/// Policy keys that RabbitMQ 3.10 recognises (core, mirroring, federation) with their validation.
const KNOWN_POLICY_KEYS: &[&str] = &[
    "alternate-exchange",
    "dead-letter-exchange",
    "dead-letter-routing-key",
    "dead-letter-strategy",
    "message-ttl",
    "expires",
    "max-length",
    "max-length-bytes",
    "max-in-memory-length",
    "max-in-memory-bytes",
    "queue-mode",
    "queue-version",
    "overflow",
    "delivery-limit",
    "max-age",
    "stream-max-segment-size-bytes",
    "queue-leader-locator",
    "initial-cluster-size",
    "ha-mode",
    "ha-params",
    "ha-sync-mode",
    "ha-sync-batch-size",
    "ha-promote-on-shutdown",
    "ha-promote-on-failure",
    "queue-master-locator",
    "federation-upstream",
    "federation-upstream-set",
];

/// `unsupported_policies` of each queue type's `capabilities()` (RabbitMQ 3.10): a policy with any of
/// these keys does not apply to a queue of that type at all.
fn unsupported_policy_keys(queue_type: QueueType) -> &'static [&'static str] {
    match queue_type {
        QueueType::Classic => &[
            "max-age",
            "stream-max-segment-size-bytes",
            "queue-leader-locator",
            "initial-cluster-size",
            "delivery-limit",
            "dead-letter-strategy",
        ],
        QueueType::Quorum => &[
            "max-priority",
            "queue-mode",
            "single-active-consumer",
            "ha-mode",
            "ha-params",
            "ha-sync-mode",
            "ha-promote-on-shutdown",
            "ha-promote-on-failure",
            "queue-master-locator",
            "max-age",
            "stream-max-segment-size-bytes",
            "initial-cluster-size",
        ],
        QueueType::Stream => &[
            "expires",
            "message-ttl",
            "dead-letter-exchange",
            "dead-letter-routing-key",
            "max-length",
            "max-in-memory-length",
            "max-in-memory-bytes",
            "max-priority",
            "overflow",
            "queue-mode",
            "single-active-consumer",
            "delivery-limit",
            "ha-mode",
            "ha-params",
            "ha-sync-mode",
            "ha-promote-on-shutdown",
            "ha-promote-on-failure",
            "queue-master-locator",
            "dead-letter-strategy",
        ],
    }
}

fn queue_rule(queue_type: QueueType, key: &str) -> Rule {
    match (queue_type, key) {
        (_, "message-ttl" | "max-length" | "max-length-bytes") => Rule::Min,
        (_, "dead-letter-exchange" | "dead-letter-routing-key") => Rule::ArgumentWins,
        (QueueType::Classic, "expires") => Rule::Min,
        (QueueType::Classic, "overflow") => Rule::ArgumentWins,
        (QueueType::Quorum, "expires" | "overflow") => Rule::PolicyWins,
        (QueueType::Quorum, "delivery-limit") => Rule::Min,
        _ => Rule::NoEffect,
    }
}

fn exchange_rule(key: &str) -> Rule {
    match key {
        "alternate-exchange" => Rule::ArgumentWins,
        _ => Rule::NoEffect,
    }
}

/// A JSON value as Erlang's `~p` prints the term RabbitMQ decoded it to (`<<"abc">>`, `-1`).
fn erlang_term(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("<<\"{s}\">>"),
        serde_json::Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

/// RabbitMQ's `rabbit_policies:validate_policy0` (and the mirroring module's) for one key.
fn validate_policy_value(key: &str, v: &serde_json::Value) -> Result<(), String> {
    let int = v.as_i64();
    let s = v.as_str();
    let ok = match key {
        "alternate-exchange" | "dead-letter-exchange" | "dead-letter-routing-key" => s.is_some(),
        "dead-letter-strategy" => matches!(s, Some("at-most-once" | "at-least-once")),
        "message-ttl"
        | "max-length"
        | "max-length-bytes"
        | "max-in-memory-length"
        | "max-in-memory-bytes"
        | "delivery-limit"
        | "initial-cluster-size"
        | "stream-max-segment-size-bytes" => int.is_some_and(|i| i >= 0),
        "expires" => int.is_some_and(|i| i >= 1),
        "queue-mode" => matches!(s, Some("default" | "lazy")),
        "queue-version" => matches!(int, Some(1 | 2)),
        "overflow" => matches!(s, Some("drop-head" | "reject-publish" | "reject-publish-dlx")),
        "queue-leader-locator" => {
            matches!(s, Some("client-local" | "balanced" | "random" | "least-leaders"))
        }
        // Mirroring, federation and stream age are not modelled; their validators are not copied.
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let what = match key {
        "alternate-exchange" => "a valid alternate exchange name",
        "dead-letter-exchange" => "a valid dead letter exchange name",
        "dead-letter-routing-key" => "a valid dead letter routing key",
        "dead-letter-strategy" => "a valid dead letter strategy",
        "message-ttl" => "a valid message TTL",
        "expires" => "a valid queue expiry",
        "max-length" => "a valid maximum length",
        "max-length-bytes" => "a valid maximum length in bytes",
        "max-in-memory-length" | "max-in-memory-bytes" => "a valid maximum memory in bytes",
        "queue-mode" => "a valid queue-mode value",
        "queue-version" => "a valid queue-version value",
        "overflow" => "a valid overflow value",
        "delivery-limit" => "a valid delivery limit",
        "queue-leader-locator" => "a valid queue leader locator value",
        "initial-cluster-size" => "a valid cluster size",
        _ => "a valid segment size",
    };
    Err(format!("{} is not {what}", erlang_term(v)))
}

/// A validated policy with its compiled pattern.
#[derive(Clone, Debug)]
pub(crate) struct CompiledPolicy {
    pub(crate) policy: Policy,
    pattern: regex_lite::Regex,
}

impl CompiledPolicy {
    fn applies_to(&self, kind: EntityKind, name: &str, queue_type: Option<QueueType>) -> bool {
        let kind_ok = match self.policy.apply_to.as_str() {
            "all" => true,
            "queues" => kind == EntityKind::Queue,
            "exchanges" => kind == EntityKind::Exchange,
            _ => false,
        };
        let applicable = match queue_type {
            Some(t) => {
                let unsupported = unsupported_policy_keys(t);
                self.policy.definition.keys().all(|k| !unsupported.contains(&k.as_str()))
            }
            None => true,
        };
        kind_ok && applicable && self.pattern.is_match(&latin1(name))
    }
}

/// Erlang's `re` runs without its `unicode` option on a name's and a pattern's bytes, read as latin-1:
/// `.` is one byte, `\xE9` is the byte 0xE9, and `\w`, `\d` and `(?i)` know only ASCII (PCRE's C-locale
/// tables). The regex engine reads characters, so both sides are spelt one character per byte.
fn latin1(text: &str) -> String {
    text.bytes().map(char::from).collect()
}

/// Validates one policy as `rabbit_policy:set` does; compiles its pattern.
pub(crate) fn compile_policy(policy: &Policy) -> Result<CompiledPolicy, String> {
    if policy.name.is_empty() {
        return Err("policy has undefined name".to_string());
    }
    let pattern = regex_lite::Regex::new(&latin1(&policy.pattern)).map_err(|e| {
        format!(
            "Validation failed: pattern should be regular expression but is invalid \
             (or uses a feature Brokerlab's regex engine lacks, e.g. look-around): {e}"
        )
    })?;
    match policy.apply_to.as_str() {
        "all" | "queues" | "exchanges" => {}
        other => {
            return Err(format!(
                "Validation failed: apply-to '{other}' unrecognised; should be 'queues', 'exchanges' or 'all'"
            ))
        }
    }
    if policy.definition.is_empty() {
        return Err("Validation failed: no policy provided".to_string());
    }
    let unknown: Vec<String> = policy
        .definition
        .iter()
        .filter(|(k, _)| !KNOWN_POLICY_KEYS.contains(&k.as_str()))
        .map(|(k, v)| format!("{{<<\"{k}\">>,{}}}", erlang_term(v)))
        .collect();
    if !unknown.is_empty() {
        return Err(format!("Validation failed: [{}] are not recognised policy settings", unknown.join(",")));
    }
    for (key, value) in &policy.definition {
        validate_policy_value(key, value).map_err(|e| format!("Validation failed: {e}"))?;
    }
    Ok(CompiledPolicy { policy: policy.clone(), pattern })
}

/// The policy in effect: the highest priority among those that apply, the first listed on ties.
fn effective_policy<'p>(
    policies: &'p [CompiledPolicy],
    kind: EntityKind,
    name: &str,
    queue_type: Option<QueueType>,
) -> Option<&'p CompiledPolicy> {
    let mut best: Option<&CompiledPolicy> = None;
    for p in policies.iter().filter(|p| p.applies_to(kind, name, queue_type)) {
        if best.is_none_or(|b| p.policy.priority > b.policy.priority) {
            best = Some(p);
        }
    }
    best
}

/// Merges the policy into `arguments` per the rules in the module doc; returns what it changed and the
/// keys without effect.
fn merge_policy(
    policy: &Policy,
    arguments: &mut FieldTable,
    rule: impl Fn(&str) -> Rule,
    argument_name: impl Fn(&str) -> String,
) -> Merged {
    let mut merged = Merged::default();
    // The dead-letter routing key needs a dead-letter exchange; merge the exchange first.
    let mut keys: Vec<&String> = policy.definition.keys().collect();
    crate::order::sort_by_key(&mut keys, |k| k.as_str() == "dead-letter-routing-key");
    for key in keys {
        let value = &policy.definition[key];
        let arg = argument_name(key);
        let Ok(policy_value) = serde_json::from_value::<FieldValue>(value.clone()) else {
            merged.without_effect.push(key.clone());
            continue;
        };
        let new_value = match (rule(key), arguments.get(&arg)) {
            (Rule::NoEffect, _) => None,
            (_, None) => Some(policy_value),
            (Rule::ArgumentWins, Some(_)) => None,
            (Rule::PolicyWins, Some(current)) => (current != &policy_value).then_some(policy_value),
            (Rule::Min, Some(FieldValue::Int(current))) => match policy_value {
                FieldValue::Int(p) if p < *current => Some(FieldValue::Int(p)),
                _ => None,
            },
            // A non-integer argument is left for the declaration to refuse, as RabbitMQ would.
            (Rule::Min, Some(_)) => None,
        };
        if key == "dead-letter-routing-key" && !arguments.contains_key("x-dead-letter-exchange") {
            // Without a dead-letter exchange RabbitMQ never reads the key.
            merged.without_effect.push(key.clone());
            continue;
        }
        match new_value {
            Some(v) => {
                if let Some(own) = arguments.insert(arg.clone(), v.clone()) {
                    merged.replaced.insert(arg.clone(), own);
                }
                merged.arguments.insert(arg, v);
            }
            None => merged.without_effect.push(key.clone()),
        }
    }
    merged
}

/// The policy in effect on a broker entity, from the broker's policies: its name, the entity's own
/// arguments with the policy's effective values merged in (what the engine acts on; never what
/// equivalence compares), and what the merge changed. `queue_type` is `None` for an exchange.
pub(crate) fn effective_arguments(
    policies: &[CompiledPolicy],
    kind: EntityKind,
    name: &str,
    own: &FieldTable,
    queue_type: Option<QueueType>,
) -> Option<(String, FieldTable, Merged)> {
    if policies.is_empty() {
        return None;
    }
    let p = effective_policy(policies, kind, name, queue_type)?;
    let mut arguments = own.clone();
    let merged = match queue_type {
        Some(t) => merge_policy(&p.policy, &mut arguments, |k| queue_rule(t, k), |k: &str| format!("x-{k}")),
        None => merge_policy(&p.policy, &mut arguments, exchange_rule, |k: &str| k.to_string()),
    };
    Some((p.policy.name.clone(), arguments, merged))
}

/// What [`merge_policy`] did to one declaration.
#[derive(Default)]
pub(crate) struct Merged {
    arguments: FieldTable,
    replaced: FieldTable,
    without_effect: Vec<String>,
}

fn queue_type_of(arguments: &FieldTable) -> QueueType {
    match arguments.get("x-queue-type") {
        Some(FieldValue::Str(s)) if s == "quorum" => QueueType::Quorum,
        Some(FieldValue::Str(s)) if s == "stream" => QueueType::Stream,
        _ => QueueType::Classic,
    }
}

/// Imports `definitions` into `broker` at `at`, declaring through a connection of its own
/// (`definitions import`, closed at the end). See the module doc for the rules.
///
/// On error the entities declared before the failing one stay (RabbitMQ's import is not atomic either).
pub fn import(
    broker: &mut Broker,
    at: VirtualTime,
    definitions: &Definitions,
) -> Result<ImportReport, ImportError> {
    let vhost = broker.config().vhost.clone();
    let mut report = ImportReport { vhost: vhost.clone(), ..ImportReport::default() };
    let ours = |v: &Option<String>| v.as_deref().is_none_or(|v| v == vhost);
    let other_vhost = |path: String, name: &str, v: &Option<String>| {
        format!(
            "{path} '{name}': skipped: vhost '{}' is not simulated (this broker is vhost '{vhost}')",
            v.as_deref().unwrap_or_default()
        )
    };

    // What Brokerlab keeps but does not enforce.
    for (what, n) in [
        ("users", definitions.users.len()),
        ("permissions", definitions.permissions.len()),
        ("topic_permissions", definitions.topic_permissions.len()),
    ] {
        if n > 0 {
            report
                .warnings
                .push(format!("{what}: {n} kept but not enforced (Brokerlab has no authentication)"));
        }
    }
    for v in definitions.vhosts.iter().filter(|v| v.name != vhost) {
        report.warnings.push(format!(
            "vhosts: '{}' is not simulated: its entities are skipped (this broker is vhost '{vhost}')",
            v.name
        ));
    }
    for (i, p) in definitions.parameters.iter().enumerate() {
        report.warnings.push(format!(
            "parameters[{i}] '{}/{}': runtime parameters are not simulated",
            p.component, p.name
        ));
    }
    if !definitions.global_parameters.is_empty() {
        report
            .warnings
            .push(format!("global_parameters: {} kept, not simulated", definitions.global_parameters.len()));
    }

    // Policies are validated before anything is declared, so a bad one changes nothing.
    let mut policies = Vec::new();
    for (i, policy) in definitions.policies.iter().enumerate() {
        let path = format!("policies[{i}]");
        if !ours(&policy.vhost) {
            report.warnings.push(other_vhost(path, &policy.name, &policy.vhost));
            continue;
        }
        policies.push(compile_policy(policy).map_err(|m| ImportError::invalid(path, &policy.name, m))?);
        report.policies.push(policy.clone());
    }

    let connection = broker.connect(at, "definitions import");
    let channel = ChannelNumber(1);
    let result = broker.apply(at, connection, channel, Method::ChannelOpen);
    assert!(result.is_ok(), "a fresh connection opens channel 1: {result:?}");
    let outcome = import_entities(broker, at, connection, channel, definitions, &policies, &mut report);
    broker.close_connection(at, connection);
    outcome.map(|()| report)
}

fn import_entities(
    broker: &mut Broker,
    at: VirtualTime,
    connection: super::types::ConnectionId,
    channel: ChannelNumber,
    definitions: &Definitions,
    policies: &[CompiledPolicy],
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let vhost = report.vhost.clone();
    let ours = |v: &Option<String>| v.as_deref().is_none_or(|v| v == vhost);
    let other_vhost = |path: &str, name: &str, v: &Option<String>| {
        format!(
            "{path} '{name}': skipped: vhost '{}' is not simulated (this broker is vhost '{vhost}')",
            v.as_deref().unwrap_or_default()
        )
    };

    let mut existing = BTreeSet::new(); // not `collect`: see crate::order
    existing.extend(broker.exchanges().into_iter().map(|x| x.name));
    for (i, x) in definitions.exchanges.iter().enumerate() {
        let path = format!("exchanges[{i}]");
        if !ours(&x.vhost) {
            report.warnings.push(other_vhost(&path, &x.name, &x.vhost));
            continue;
        }
        if x.name.is_empty() {
            report.warnings.push(format!("{path} '': skipped: not importing the default exchange"));
            continue;
        }
        if x.name.starts_with("amq.") {
            report.warnings.push(format!(
                "{path} '{}': skipped: an exchange whose name begins with 'amq.' is not imported",
                x.name
            ));
            continue;
        }
        if existing.contains(&x.name) {
            report.warnings.push(format!("{path} '{}': already exists: left as it is", x.name));
            continue;
        }
        let arguments = x.arguments.clone();
        let method = Method::ExchangeDeclare {
            exchange: x.name.clone(),
            exchange_type: x.kind.clone(),
            passive: false,
            durable: x.durable,
            auto_delete: x.auto_delete,
            internal: x.internal,
            arguments,
        };
        ImportError::too_long(path.clone(), &x.name, &method)?;
        broker.apply(at, connection, channel, method).map_err(|e| ImportError::amqp(path, &x.name, e))?;
        report.exchanges.push(x.name.clone());
    }

    // The policies become the broker's (replacing those of the same name) and apply to every queue and
    // exchange, including those declared before or after the import.
    broker.set_compiled_policies(policies.to_vec());
    let policies = broker.compiled_policies().to_vec();
    let mut declared: BTreeMap<String, FieldTable> = BTreeMap::new(); // not `collect`: see crate::order
    declared.extend(broker.exchanges().into_iter().map(|x| (x.name, x.arguments)));
    for name in &report.exchanges {
        let Some(own) = declared.get(name) else { continue };
        if let Some((policy, _, merged)) =
            effective_arguments(&policies, EntityKind::Exchange, name, own, None)
        {
            report.applied_policies.push(AppliedPolicy {
                kind: EntityKind::Exchange,
                name: name.clone(),
                policy,
                arguments: merged.arguments,
                replaced: merged.replaced,
                without_effect: merged.without_effect,
            });
        }
    }

    let mut existing = BTreeSet::new(); // not `collect`: see crate::order
    existing.extend(broker.queues().into_iter().map(|q| q.name));
    let mut skipped_queues = BTreeSet::new();
    for (i, q) in definitions.queues.iter().enumerate() {
        let path = format!("queues[{i}]");
        if !ours(&q.vhost) {
            report.warnings.push(other_vhost(&path, &q.name, &q.vhost));
            continue;
        }
        if q.name.starts_with("amq.") {
            report.warnings.push(format!(
                "{path} '{}': skipped: a queue whose name begins with 'amq.' is not imported",
                q.name
            ));
            skipped_queues.insert(q.name.clone());
            continue;
        }
        if existing.contains(&q.name) {
            report.warnings.push(format!("{path} '{}': already exists: left as it is", q.name));
            continue;
        }
        let queue_type = queue_type_of(&q.arguments);
        let declared_type = queue_type.name();
        if let Some(kind) = q.kind.as_deref().filter(|k| *k != declared_type) {
            report.warnings.push(format!(
                "{path} '{}': field type '{kind}' ignored: RabbitMQ declares a {declared_type} queue from \
                 arguments.x-queue-type",
                q.name
            ));
        }
        // Declared with its own arguments: the broker applies the policy (see the module doc).
        let method = Method::QueueDeclare {
            queue: q.name.clone(),
            passive: false,
            durable: q.durable,
            exclusive: false,
            auto_delete: q.auto_delete,
            arguments: q.arguments.clone(),
        };
        ImportError::too_long(path.clone(), &q.name, &method)?;
        broker.apply(at, connection, channel, method).map_err(|e| ImportError::amqp(path, &q.name, e))?;
        report.queues.push(q.name.clone());
        if let Some((policy, _, merged)) =
            effective_arguments(&policies, EntityKind::Queue, &q.name, &q.arguments, Some(queue_type))
        {
            report.applied_policies.push(AppliedPolicy {
                kind: EntityKind::Queue,
                name: q.name.clone(),
                policy,
                arguments: merged.arguments,
                replaced: merged.replaced,
                without_effect: merged.without_effect,
            });
        }
    }

    for (i, b) in definitions.bindings.iter().enumerate() {
        let path = format!("bindings[{i}]");
        let entity = format!("{} -> {}", b.source, b.destination);
        if !ours(&b.vhost) {
            report.warnings.push(other_vhost(&path, &entity, &b.vhost));
            continue;
        }
        let method = match b.destination_type.as_str() {
            "queue" => {
                if skipped_queues.contains(&b.destination) {
                    report.warnings.push(format!("{path} '{entity}': skipped: its queue was skipped"));
                    continue;
                }
                Method::QueueBind {
                    queue: b.destination.clone(),
                    exchange: b.source.clone(),
                    routing_key: b.routing_key.clone(),
                    arguments: b.arguments.clone(),
                }
            }
            "exchange" => Method::ExchangeBind {
                destination: b.destination.clone(),
                source: b.source.clone(),
                routing_key: b.routing_key.clone(),
                arguments: b.arguments.clone(),
            },
            other => {
                return Err(ImportError::invalid(
                    path,
                    &entity,
                    format!("destination_type '{other}' unrecognised; should be 'queue' or 'exchange'"),
                ))
            }
        };
        ImportError::too_long(path.clone(), &entity, &method)?;
        broker.apply(at, connection, channel, method).map_err(|e| ImportError::amqp(path, &entity, e))?;
        report.bindings += 1;
    }
    Ok(())
}

/// Parses and imports a `definitions.json` in one go; a JSON error becomes an [`ImportError`] at `json`
/// whose message carries the line and column.
pub fn import_json(broker: &mut Broker, at: VirtualTime, text: &str) -> Result<ImportReport, ImportError> {
    let definitions = Definitions::from_json(text)
        .map_err(|e| ImportError::invalid("json".to_string(), "definitions.json", e.to_string()))?;
    import(broker, at, &definitions)
}

/// The broker's topology as RabbitMQ's management export writes it (see the module doc).
pub fn export(broker: &Broker) -> Definitions {
    let vhost = broker.config().vhost.clone();
    let exported_name = |name: &str| !name.is_empty() && !name.starts_with("amq.");
    let queues: Vec<QueueDefinition> = broker
        .queues()
        .into_iter()
        .filter(|q| !q.exclusive && exported_name(&q.name))
        .filter_map(|q| broker.queue(&q.name))
        .map(|d| QueueDefinition {
            name: d.info.name.clone(),
            vhost: Some(vhost.clone()),
            kind: Some(d.queue_type.name().to_string()),
            durable: d.info.durable,
            auto_delete: d.info.auto_delete,
            arguments: d.arguments,
        })
        .collect();
    let mut queue_names: BTreeSet<&str> = BTreeSet::new(); // not `collect`: see crate::order
    queue_names.extend(queues.iter().map(|q| q.name.as_str()));
    let all_exchanges = broker.exchanges();
    let exchanges = all_exchanges
        .iter()
        .filter(|x| exported_name(&x.name))
        .map(|x| ExchangeDefinition {
            name: x.name.clone(),
            vhost: Some(vhost.clone()),
            kind: x.kind.as_str().to_string(),
            durable: x.durable,
            auto_delete: x.auto_delete,
            internal: x.internal,
            arguments: x.arguments.clone(),
        })
        .collect();
    let mut bindings = Vec::new();
    for x in all_exchanges.iter().filter(|x| !x.name.is_empty()) {
        for b in &x.bindings {
            let (destination, destination_type) = match &b.destination {
                Destination::Queue(q) if queue_names.contains(&**q) => (q.to_string(), "queue"),
                Destination::Exchange(d) if !d.is_empty() => (d.to_string(), "exchange"),
                _ => continue,
            };
            bindings.push(BindingDefinition {
                source: x.name.clone(),
                vhost: Some(vhost.clone()),
                destination,
                destination_type: destination_type.to_string(),
                routing_key: b.routing_key.clone(),
                arguments: b.arguments.clone(),
            });
        }
    }
    let policies =
        broker.policies().iter().map(|p| Policy { vhost: Some(vhost.clone()), ..p.clone() }).collect();
    Definitions {
        rabbit_version: Some(EXPORT_RABBIT_VERSION.to_string()),
        rabbitmq_version: Some(EXPORT_RABBIT_VERSION.to_string()),
        product_name: Some("Brokerlab".to_string()),
        product_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        vhosts: vec![VirtualHost {
            name: vhost,
            limits: serde_json::Value::Null,
            metadata: serde_json::Value::Null,
        }],
        policies,
        queues,
        exchanges,
        bindings,
        ..Definitions::default()
    }
}

/// [`export`], plus any policy of an earlier import's `report` the broker no longer holds. The broker
/// keeps its policies itself and never merges them into the declared arguments, so [`export`] alone
/// already writes them; this stays for callers that keep an import's report.
pub fn export_with_policies(broker: &Broker, report: &ImportReport) -> Definitions {
    let mut definitions = export(broker);
    for p in &report.policies {
        if !definitions.policies.iter().any(|k| k.name == p.name) {
            definitions.policies.push(Policy { vhost: Some(report.vhost.clone()), ..p.clone() });
        }
    }
    definitions
}
