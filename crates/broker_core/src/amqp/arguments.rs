//! Queue declaration arguments (`x-message-ttl`, `x-max-length`, `x-queue-type`, …): validation with
//! RabbitMQ's exact texts, and the equivalence check a redeclaration must pass.
//!
//! RabbitMQ (3.10) validates in this order: `x-queue-type` first, then each argument the queue type knows,
//! in its fixed validator order, then rejects arguments that belong only to *other* queue types
//! (`invalid arg 'x-max-priority' for queue 'q' in vhost '/' of queue type rabbit_quorum_queue`).
//! Unknown arguments (`x-foo`) are accepted and ignored, as RabbitMQ does.

use super::error::{AmqpError, ReplyCode};
use super::types::{FieldTable, FieldValue, Name, TypedValue};

/// Longest TTL / expiry RabbitMQ accepts: ten years in milliseconds.
pub const MAX_EXPIRY_MILLIS: i64 = 315_360_000_000;

/// RabbitMQ's `?MAX_SUPPORTED_PRIORITY`.
pub const MAX_SUPPORTED_PRIORITY: i64 = 255;

/// The queue types of model 1: classic, quorum and stream (an append-only log read by offset; see
/// `stream.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueType {
    Classic,
    Quorum,
    Stream,
}

impl QueueType {
    /// The Erlang module name RabbitMQ prints in its texts.
    pub fn module_name(self) -> &'static str {
        match self {
            QueueType::Classic => "rabbit_classic_queue",
            QueueType::Quorum => "rabbit_quorum_queue",
            QueueType::Stream => "rabbit_stream_queue",
        }
    }

    /// The name `x-queue-type` gives this type.
    pub fn name(self) -> &'static str {
        match self {
            QueueType::Classic => "classic",
            QueueType::Quorum => "quorum",
            QueueType::Stream => "stream",
        }
    }

    /// Whether a queue of this type must be durable, not exclusive and not auto-delete, and cannot be
    /// server-named (quorum queues and streams).
    pub fn is_replicated(self) -> bool {
        self != QueueType::Classic
    }

    /// The arguments this queue type understands (RabbitMQ 3.10 `capabilities()`), in RabbitMQ's order;
    /// redeclaration compares exactly these.
    fn arguments(self) -> &'static [&'static str] {
        match self {
            QueueType::Classic => &[
                "x-expires",
                "x-message-ttl",
                "x-dead-letter-exchange",
                "x-dead-letter-routing-key",
                "x-max-length",
                "x-max-length-bytes",
                "x-max-priority",
                "x-overflow",
                "x-queue-mode",
                "x-queue-version",
                "x-single-active-consumer",
                "x-queue-type",
                "x-queue-master-locator",
            ],
            QueueType::Quorum => &[
                "x-dead-letter-exchange",
                "x-dead-letter-routing-key",
                "x-dead-letter-strategy",
                "x-expires",
                "x-max-length",
                "x-max-length-bytes",
                "x-max-in-memory-length",
                "x-max-in-memory-bytes",
                "x-overflow",
                "x-single-active-consumer",
                "x-queue-type",
                "x-quorum-initial-group-size",
                "x-delivery-limit",
                "x-message-ttl",
                "x-queue-leader-locator",
            ],
            QueueType::Stream => &[
                "x-max-length-bytes",
                "x-queue-type",
                "x-max-age",
                "x-stream-max-segment-size-bytes",
                "x-initial-cluster-size",
                "x-queue-leader-locator",
            ],
        }
    }
}

/// What a full queue does with a new message (`x-overflow`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Overflow {
    #[default]
    DropHead,
    RejectPublish,
    RejectPublishDlx,
}

/// A queue's arguments, validated and parsed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueArguments {
    pub queue_type: Option<QueueType>,
    pub message_ttl_millis: Option<u64>,
    pub expires_millis: Option<u64>,
    pub max_length: Option<u64>,
    pub max_length_bytes: Option<u64>,
    pub overflow: Overflow,
    pub dead_letter_exchange: Option<Name>,
    pub dead_letter_routing_key: Option<Name>,
    pub max_priority: Option<u8>,
    pub single_active_consumer: bool,
    pub delivery_limit: Option<u64>,
    /// Streams: `x-max-age` in milliseconds.
    pub max_age_millis: Option<u64>,
    /// Streams: `x-stream-max-segment-size-bytes`.
    pub max_segment_size_bytes: Option<u64>,
}

impl QueueArguments {
    pub fn queue_type(&self) -> QueueType {
        self.queue_type.unwrap_or(QueueType::Classic)
    }
}

/// The AMQP type name RabbitMQ prints for a value (see [`FieldValue::amqp_type_name`]).
pub fn type_name(v: &FieldValue) -> &'static str {
    v.amqp_type_name()
}

/// A value as Erlang's `~p` prints it inside an error term (`{value_negative,-1}`).
fn erlang_term(v: &FieldValue) -> String {
    match v {
        FieldValue::Int(i) => i.to_string(),
        FieldValue::Bool(b) => b.to_string(),
        FieldValue::Float(x) => super::exchange::headers::erlang_float(*x),
        FieldValue::Str(s) => format!("<<\"{s}\">>"),
        FieldValue::Typed(_) => super::exchange::headers::erlang_value(v),
        other => other.to_string(),
    }
}

/// `queue 'q' in vhost '/'`: RabbitMQ's `rabbit_misc:rs/1`.
pub fn queue_resource(queue: &str, vhost: &str) -> String {
    format!("queue '{queue}' in vhost '{vhost}'")
}

/// `exchange 'x' in vhost '/'`.
pub fn exchange_resource(exchange: &str, vhost: &str) -> String {
    format!("exchange '{exchange}' in vhost '{vhost}'")
}

/// One validator's complaint, printed the way Erlang's `~p` prints RabbitMQ's error term.
type Complaint = String;

fn int_arg(v: &FieldValue) -> Result<i64, Complaint> {
    v.integer().ok_or_else(|| format!("\"expected integer, got {}\"", type_name(v)))
}

fn non_neg_int_arg(v: &FieldValue) -> Result<i64, Complaint> {
    let i = int_arg(v)?;
    if i < 0 {
        return Err(format!("{{value_negative,{i}}}"));
    }
    Ok(i)
}

fn check_expiry(i: i64) -> Result<i64, Complaint> {
    if i < 0 {
        Err(format!("{{value_negative,{i}}}"))
    } else if i > MAX_EXPIRY_MILLIS {
        Err(format!("{{value_too_large,{i}}}"))
    } else {
        Ok(i)
    }
}

fn bool_arg(v: &FieldValue) -> Result<bool, Complaint> {
    match v {
        FieldValue::Bool(b) => Ok(*b),
        other => Err(format!("{{unacceptable_type,{}}}", type_name(other))),
    }
}

fn str_arg(v: &FieldValue) -> Result<&str, Complaint> {
    match v {
        FieldValue::Str(s) => Ok(s),
        other => Err(format!("{{unacceptable_type,{}}}", type_name(other))),
    }
}

fn one_of(v: &FieldValue, allowed: &[&str], complaint: &str) -> Result<(), Complaint> {
    let s = str_arg(v)?;
    if allowed.contains(&s) {
        Ok(())
    } else {
        Err(complaint.to_string())
    }
}

/// Validates `arguments` for queue `queue` as RabbitMQ's `check_declare_arguments` does and parses them.
pub fn parse_queue_arguments(
    queue: &str,
    vhost: &str,
    arguments: &FieldTable,
) -> Result<QueueArguments, AmqpError> {
    let invalid = |key: &str, complaint: Complaint| {
        AmqpError::channel(
            ReplyCode::PreconditionFailed,
            format!("invalid arg '{key}' for {}: {complaint}", queue_resource(queue, vhost)),
        )
    };
    let mut parsed = QueueArguments::default();

    // x-queue-type comes first: it decides which other arguments are valid.
    if let Some(v) = arguments.get("x-queue-type") {
        let s = str_arg(v).map_err(|c| invalid("x-queue-type", c))?;
        parsed.queue_type = match s {
            "classic" => Some(QueueType::Classic),
            "quorum" => Some(QueueType::Quorum),
            "stream" => Some(QueueType::Stream),
            other => return Err(invalid("x-queue-type", format!("\"unsupported queue type '{other}'\""))),
        };
    }
    let queue_type = parsed.queue_type();
    let known = queue_type.arguments();

    // RabbitMQ's validator order (`declare_args()`), restricted to the queue type's arguments.
    const ORDER: &[&str] = &[
        "x-expires",
        "x-message-ttl",
        "x-dead-letter-exchange",
        "x-dead-letter-routing-key",
        "x-dead-letter-strategy",
        "x-max-length",
        "x-max-length-bytes",
        "x-max-in-memory-length",
        "x-max-in-memory-bytes",
        "x-max-priority",
        "x-overflow",
        "x-queue-mode",
        "x-queue-version",
        "x-single-active-consumer",
        "x-quorum-initial-group-size",
        "x-max-age",
        "x-stream-max-segment-size-bytes",
        "x-initial-cluster-size",
    ];
    for key in ORDER.iter().copied().filter(|k| known.contains(k)) {
        let Some(v) = arguments.get(key) else { continue };
        let r: Result<(), Complaint> = match key {
            "x-expires" => int_arg(v).and_then(|i| {
                if i == 0 {
                    Err("{value_zero,0}".to_string())
                } else {
                    check_expiry(i).map(|i| parsed.expires_millis = Some(i as u64))
                }
            }),
            "x-message-ttl" => {
                int_arg(v).and_then(check_expiry).map(|i| parsed.message_ttl_millis = Some(i as u64))
            }
            "x-dead-letter-exchange" => str_arg(v).map(|s| parsed.dead_letter_exchange = Some(Name::from(s))),
            "x-dead-letter-routing-key" => str_arg(v).and_then(|s| {
                if arguments.contains_key("x-dead-letter-exchange") {
                    parsed.dead_letter_routing_key = Some(Name::from(s));
                    Ok(())
                } else {
                    Err("routing_key_but_no_dlx_defined".to_string())
                }
            }),
            "x-dead-letter-strategy" => one_of(v, &["at-most-once", "at-least-once"], "invalid_dlx_strategy"),
            "x-max-length" => non_neg_int_arg(v).map(|i| parsed.max_length = Some(i as u64)),
            "x-max-length-bytes" => non_neg_int_arg(v).map(|i| parsed.max_length_bytes = Some(i as u64)),
            "x-max-in-memory-length" | "x-max-in-memory-bytes" => non_neg_int_arg(v).map(|_| ()),
            "x-max-priority" => non_neg_int_arg(v).and_then(|i| {
                if i > MAX_SUPPORTED_PRIORITY {
                    Err(format!("{{max_value_exceeded,{i}}}"))
                } else {
                    parsed.max_priority = Some(i as u8);
                    Ok(())
                }
            }),
            "x-overflow" => str_arg(v).and_then(|s| {
                parsed.overflow = match s {
                    "drop-head" => Overflow::DropHead,
                    "reject-publish" => Overflow::RejectPublish,
                    "reject-publish-dlx" => Overflow::RejectPublishDlx,
                    _ => return Err("invalid_overflow".to_string()),
                };
                Ok(())
            }),
            "x-queue-mode" => str_arg(v).and_then(|s| {
                if s == "default" || s == "lazy" {
                    Ok(())
                } else {
                    Err(format!("\"unsupported queue mode '{s}'\""))
                }
            }),
            "x-queue-version" => non_neg_int_arg(v).and_then(|i| {
                if i == 1 || i == 2 {
                    Ok(())
                } else {
                    Err(format!("\"unsupported queue version '{i}'\""))
                }
            }),
            "x-single-active-consumer" => bool_arg(v).map(|b| parsed.single_active_consumer = b),
            "x-max-age" => match str_arg(v) {
                // RabbitMQ 3.10 reads the leading digits with `list_to_integer`, which crashes the
                // channel when there are none (golden stream-arguments).
                Ok(s) if !s.starts_with(|c: char| c.is_ascii_digit()) => {
                    return Err(AmqpError::internal_error())
                }
                Ok(s) => max_age_millis(s)
                    .map(|ms| parsed.max_age_millis = Some(ms))
                    .ok_or_else(|| "invalid_max_age".to_string()),
                Err(c) => Err(c),
            },
            "x-stream-max-segment-size-bytes" => {
                non_neg_int_arg(v).map(|i| parsed.max_segment_size_bytes = Some(i as u64))
            }
            "x-quorum-initial-group-size" | "x-initial-cluster-size" => {
                non_neg_int_arg(v).and_then(
                    |i| {
                        if i == 0 {
                            Err("{value_zero,0}".to_string())
                        } else {
                            Ok(())
                        }
                    },
                )
            }
            _ => Ok(()),
        };
        r.map_err(|c| invalid(key, c))?;
    }

    // Arguments that only other queue types understand are refused.
    let other_types = [QueueType::Classic, QueueType::Quorum, QueueType::Stream];
    for key in arguments.keys() {
        let belongs_elsewhere =
            other_types.iter().any(|t| *t != queue_type && t.arguments().contains(&&**key));
        if belongs_elsewhere && !known.contains(&&**key) {
            return Err(AmqpError::channel(
                ReplyCode::PreconditionFailed,
                format!(
                    "invalid arg '{key}' for {} of queue type {}",
                    queue_resource(queue, vhost),
                    queue_type.module_name()
                ),
            ));
        }
    }

    // x-delivery-limit has no validator in RabbitMQ 3.10: a non-integer is simply not a limit.
    if queue_type == QueueType::Quorum {
        if let Some(i) = arguments.get("x-delivery-limit").and_then(FieldValue::integer) {
            parsed.delivery_limit = Some(i.max(0) as u64);
        }
    }
    Ok(parsed)
}

/// RabbitMQ's `check_max_age`: a positive number then one unit (`Y` 365 days, `M` 30 days, `D`, `h`,
/// `m`, `s`), in milliseconds; `None` when invalid.
pub fn max_age_millis(text: &str) -> Option<u64> {
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().ok().filter(|n| *n > 0)?;
    let unit_millis: u64 = match unit {
        "Y" => 365 * 86_400_000,
        "M" => 30 * 86_400_000,
        "D" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        "s" => 1000,
        _ => return None,
    };
    number.checked_mul(unit_millis)
}

/// `'1000'` for a value both sides have; RabbitMQ's `val/1` for a plain value.
fn plain_val(v: &FieldValue) -> String {
    match v {
        FieldValue::Str(s) => format!("'{s}'"),
        // As RabbitMQ 3.10.8 writes them (golden field-values-decimal-redeclare): a byte array with `~s`,
        // void as a missing value, an array or a table with `~p` from the column after the quote.
        FieldValue::Typed(TypedValue::Bytes(b)) => format!("'{}'", String::from_utf8_lossy(b)),
        FieldValue::Void => "none".to_string(),
        FieldValue::Array(_) | FieldValue::Table(_) => {
            format!("'{}'", super::exchange::headers::erlang_pretty(v, 2))
        }
        other => format!("'{}'", erlang_plain(other)),
    }
}

fn erlang_plain(v: &FieldValue) -> String {
    match v {
        FieldValue::Str(s) => s.clone(),
        other => erlang_term(other),
    }
}

/// `the value '1000' of type 'signedint'` or `none`: RabbitMQ's `val/1` for a typed value or a missing one.
fn typed_val(v: Option<&FieldValue>) -> String {
    match v {
        None => "none".to_string(),
        Some(v) => format!("the value '{}' of type '{}'", erlang_plain(v), type_name(v)),
    }
}

/// RabbitMQ's test for an argument's old and new value: the same type class (every integer type,
/// `timestamp` and `decimal` are one class, `float` and `double` another, each other type its own) and
/// equal as Erlang's `==` compares the decoded values. So `int8(5)` redeclares `5`, and `5.0` does not.
fn equivalent(current: &FieldValue, received: &FieldValue) -> bool {
    type_class(current) == type_class(received) && super::exchange::headers::identical(current, received)
}

fn type_class(v: &FieldValue) -> &'static str {
    match v {
        // A timestamp redeclares an integer of the same value (RabbitMQ 3.10.8, golden
        // field-values-decimal-redeclare).
        FieldValue::Typed(TypedValue::Decimal(..) | TypedValue::Timestamp(_)) => "int",
        FieldValue::Float(_) | FieldValue::Typed(TypedValue::Float32(_)) => "float",
        other if other.integer().is_some() => "int",
        other => type_name(other),
    }
}

/// The 406 for an inequivalent field, e.g. `durable`.
pub fn inequivalent(key: &str, resource: &str, received: &str, current: &str) -> AmqpError {
    AmqpError::channel(
        ReplyCode::PreconditionFailed,
        format!("inequivalent arg '{key}' for {resource}: received {received} but current is {current}"),
    )
}

/// Compares a boolean property (`durable`, `auto_delete`, …) of a redeclaration.
pub fn assert_field_equivalence(
    key: &str,
    resource: &str,
    current: bool,
    received: bool,
) -> Result<(), AmqpError> {
    if current == received {
        Ok(())
    } else {
        Err(inequivalent(key, resource, &format!("'{received}'"), &format!("'{current}'")))
    }
}

/// RabbitMQ's `assert_args_equivalence`: compares `keys` of the current and the received arguments.
pub fn assert_args_equivalence(
    current: &FieldTable,
    received: &FieldTable,
    resource: &str,
    keys: &[&str],
) -> Result<(), AmqpError> {
    for key in keys {
        let (c, r) = (current.get(*key), received.get(*key));
        match (c, r) {
            (None, None) => {}
            (Some(c), Some(r)) => {
                // RabbitMQ 3.10 writes a plain value into this text with `~s`, which fails on a decimal's
                // `{Scale, Value}`: the channel process crashes and the connection closes with a bare
                // 541 (golden field-values-decimal-redeclare).
                let decimal = |v: &FieldValue| matches!(v, FieldValue::Typed(TypedValue::Decimal(..)));
                if !equivalent(c, r) && (decimal(c) || decimal(r)) {
                    return Err(AmqpError::internal_error());
                }
                if !equivalent(c, r) {
                    return Err(inequivalent(key, resource, &plain_val(r), &plain_val(c)));
                }
            }
            (c, r) => {
                // A classic queue declared without x-queue-type equals one declared with "classic".
                let classic = Some(&FieldValue::Str("classic".to_string()));
                if *key == "x-queue-type" && (c == classic || r == classic) {
                    continue;
                }
                return Err(inequivalent(key, resource, &typed_val(r), &typed_val(c)));
            }
        }
    }
    Ok(())
}

/// Compares the arguments of a queue redeclaration (only those its queue type understands).
pub fn assert_queue_args_equivalence(
    queue_type: QueueType,
    current: &FieldTable,
    received: &FieldTable,
    resource: &str,
) -> Result<(), AmqpError> {
    assert_args_equivalence(current, received, resource, queue_type.arguments())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&str, FieldValue)]) -> FieldTable {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn errors_read_like_rabbitmq() {
        let e =
            parse_queue_arguments("q", "/", &table(&[("x-max-priority", FieldValue::Int(256))])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "406 PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'q' in vhost '/': \
             {max_value_exceeded,256}"
        );
        let e = parse_queue_arguments("q", "/", &table(&[("x-message-ttl", FieldValue::Str("x".into()))]))
            .unwrap_err();
        assert!(e.text.ends_with(": \"expected integer, got longstr\""), "{}", e.text);
    }

    #[test]
    fn missing_argument_prints_typed_value_and_none() {
        let cur = table(&[]);
        let new = table(&[("x-message-ttl", FieldValue::Int(5))]);
        let e =
            assert_args_equivalence(&cur, &new, "queue 'q' in vhost '/'", &["x-message-ttl"]).unwrap_err();
        assert!(
            e.text.ends_with("received the value '5' of type 'signedint' but current is none"),
            "{}",
            e.text
        );
    }

    #[test]
    fn quorum_only_argument_on_classic_queue_is_refused() {
        let e =
            parse_queue_arguments("q", "/", &table(&[("x-delivery-limit", FieldValue::Int(2))])).unwrap_err();
        assert_eq!(
            e.text,
            "PRECONDITION_FAILED - invalid arg 'x-delivery-limit' for queue 'q' in vhost '/' of queue type \
             rabbit_classic_queue"
        );
    }
}
