//! Topic configurations: the ones the model acts on, their Kafka 4.1 defaults, and Kafka's validation of
//! a value (`ConfigDef`'s parsing and range checks), with its exact messages.
//!
//! Invariant: a [`TopicConfig`] only ever holds values that passed [`TopicConfig::set`]; the overrides it
//! keeps are the strings as given, which is what `describeConfigs` shows for them. Defaults, messages and
//! the accepted values were recorded from a real Kafka 4.1.1 broker (`tests/kafka/admin_probe.golden`).

use crate::kafka::{ErrorCode, KafkaError, TimestampType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The topic configurations the model supports, by Kafka's name, in the order `describe` lists them.
pub const SUPPORTED: &[&str] = &[
    "cleanup.policy",
    "delete.retention.ms",
    "max.message.bytes",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.insync.replicas",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.ms",
    "unclean.leader.election.enable",
];

/// `cleanup.policy`: a list of `delete` and `compact` (possibly empty: then neither applies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupPolicy {
    /// Old segments are deleted by `retention.ms` / `retention.bytes`.
    pub delete: bool,
    /// Older records with the same key are removed by the log cleaner.
    pub compact: bool,
}

/// The effective configuration of one topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicConfig {
    /// `cleanup.policy` (default `delete`).
    pub cleanup_policy: CleanupPolicy,
    /// `retention.ms` (default 7 days; -1: no limit).
    pub retention_ms: i64,
    /// `retention.bytes` per partition (default -1: no limit).
    pub retention_bytes: i64,
    /// `segment.bytes` (default 1 GiB, at least 1 MiB).
    pub segment_bytes: i32,
    /// `segment.ms` (default 7 days).
    pub segment_ms: i64,
    /// `min.insync.replicas` (default 1).
    pub min_insync_replicas: i32,
    /// `max.message.bytes`: the largest record batch the leader accepts (default 1048588).
    pub max_message_bytes: i32,
    /// `message.timestamp.type` (default `CreateTime`).
    pub message_timestamp_type: TimestampType,
    /// `message.timestamp.after.max.ms`: how far ahead of the leader's clock a `CreateTime` may be
    /// (default 1 hour).
    pub message_timestamp_after_max_ms: i64,
    /// `message.timestamp.before.max.ms`: how far behind (default `Long.MAX_VALUE`).
    pub message_timestamp_before_max_ms: i64,
    /// `delete.retention.ms`: how long a tombstone survives compaction (default 1 day).
    pub delete_retention_ms: i64,
    /// `min.cleanable.dirty.ratio` (default 0.5).
    pub min_cleanable_dirty_ratio: f64,
    /// `unclean.leader.election.enable` (default false).
    pub unclean_leader_election_enable: bool,
    /// The overrides as given (`name` → value string), shown by `describe`.
    overrides: BTreeMap<String, String>,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            cleanup_policy: CleanupPolicy { delete: true, compact: false },
            retention_ms: 604_800_000,
            retention_bytes: -1,
            segment_bytes: 1_073_741_824,
            segment_ms: 604_800_000,
            min_insync_replicas: 1,
            max_message_bytes: 1_048_588,
            message_timestamp_type: TimestampType::CreateTime,
            message_timestamp_after_max_ms: 3_600_000,
            message_timestamp_before_max_ms: i64::MAX,
            delete_retention_ms: 86_400_000,
            min_cleanable_dirty_ratio: 0.5,
            unclean_leader_election_enable: false,
            overrides: BTreeMap::new(),
        }
    }
}

/// Where a described value comes from (`ConfigEntry.ConfigSource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfigSource {
    /// Set on the topic.
    DynamicTopicConfig,
    /// The cluster-wide default a KRaft cluster records for `min.insync.replicas`.
    DynamicDefaultBrokerConfig,
    /// Kafka's built-in default.
    DefaultConfig,
}

impl ConfigSource {
    /// As the Java client prints it: `DYNAMIC_TOPIC_CONFIG`.
    pub fn name(self) -> &'static str {
        match self {
            ConfigSource::DynamicTopicConfig => "DYNAMIC_TOPIC_CONFIG",
            ConfigSource::DynamicDefaultBrokerConfig => "DYNAMIC_DEFAULT_BROKER_CONFIG",
            ConfigSource::DefaultConfig => "DEFAULT_CONFIG",
        }
    }
}

/// One described configuration (`ConfigEntry`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigEntry {
    /// The configuration's name.
    pub name: String,
    /// Its value as Kafka shows it.
    pub value: String,
    /// Where the value comes from.
    pub source: ConfigSource,
}

fn invalid(value: &str, name: &str, why: &str) -> KafkaError {
    KafkaError::with_message(
        ErrorCode::InvalidConfig,
        format!("Invalid value {value} for configuration {name}: {why}"),
    )
}

/// Java's `Long.parseLong` on the trimmed string: an optional sign and decimal digits.
fn parse_java_integer(text: &str) -> Option<i128> {
    let t = text.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i128>().ok()
}

fn parse_long(name: &str, value: &str, min: Option<i64>) -> Result<i64, KafkaError> {
    let n = parse_java_integer(value)
        .and_then(|n| i64::try_from(n).ok())
        .ok_or_else(|| invalid(value, name, "Not a number of type LONG"))?;
    match min {
        Some(min) if n < min => Err(invalid(&n.to_string(), name, &format!("Value must be at least {min}"))),
        _ => Ok(n),
    }
}

fn parse_int(name: &str, value: &str, min: i32) -> Result<i32, KafkaError> {
    let n = parse_java_integer(value)
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| invalid(value, name, "Not a number of type INT"))?;
    if n < min {
        return Err(invalid(&n.to_string(), name, &format!("Value must be at least {min}")));
    }
    Ok(n)
}

/// Java's `Double.toString` for the values a ratio takes (`2` prints `2.0`).
fn java_double(x: f64) -> String {
    let text = format!("{x:?}");
    if x.is_finite() && x != 0.0 && !(1e-3..1e7).contains(&x.abs()) {
        // Java switches to computerized scientific notation outside [1e-3, 1e7): 1.0E-5.
        let sci = format!("{x:e}");
        let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
        let mantissa = if mantissa.contains('.') { mantissa.to_string() } else { format!("{mantissa}.0") };
        return format!("{mantissa}E{exponent}");
    }
    text
}

fn parse_ratio(name: &str, value: &str) -> Result<f64, KafkaError> {
    let x: f64 = value.trim().parse().map_err(|_| invalid(value, name, "Not a number of type DOUBLE"))?;
    if x < 0.0 {
        return Err(invalid(&java_double(x), name, "Value must be at least 0"));
    }
    if x > 1.0 {
        return Err(invalid(&java_double(x), name, "Value must be no more than 1"));
    }
    Ok(x)
}

impl TopicConfig {
    /// Validates `value` for `name` as Kafka 4.1 does and applies it (`incrementalAlterConfigs` SET, or a
    /// config given at creation). The error is Kafka's `INVALID_CONFIG` with its message.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), KafkaError> {
        match name {
            "cleanup.policy" => {
                let mut policy = CleanupPolicy { delete: false, compact: false };
                for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match item {
                        "delete" => policy.delete = true,
                        "compact" => policy.compact = true,
                        other => return Err(invalid(other, name, "String must be one of: compact, delete")),
                    }
                }
                self.cleanup_policy = policy;
            }
            "retention.ms" => self.retention_ms = parse_long(name, value, Some(-1))?,
            "retention.bytes" => self.retention_bytes = parse_long(name, value, None)?,
            "segment.bytes" => self.segment_bytes = parse_int(name, value, 1_048_576)?,
            "segment.ms" => self.segment_ms = parse_long(name, value, Some(1))?,
            "min.insync.replicas" => self.min_insync_replicas = parse_int(name, value, 1)?,
            "max.message.bytes" => self.max_message_bytes = parse_int(name, value, 0)?,
            "message.timestamp.type" => {
                self.message_timestamp_type = match value.trim() {
                    "CreateTime" => TimestampType::CreateTime,
                    "LogAppendTime" => TimestampType::LogAppendTime,
                    _ => {
                        return Err(invalid(value, name, "String must be one of: CreateTime, LogAppendTime"))
                    }
                }
            }
            "delete.retention.ms" => self.delete_retention_ms = parse_long(name, value, Some(0))?,
            "message.timestamp.after.max.ms" => {
                self.message_timestamp_after_max_ms = parse_long(name, value, Some(0))?
            }
            "message.timestamp.before.max.ms" => {
                self.message_timestamp_before_max_ms = parse_long(name, value, Some(0))?
            }
            "min.cleanable.dirty.ratio" => self.min_cleanable_dirty_ratio = parse_ratio(name, value)?,
            "unclean.leader.election.enable" => {
                let v = value.trim();
                self.unclean_leader_election_enable = if v.eq_ignore_ascii_case("true") {
                    true
                } else if v.eq_ignore_ascii_case("false") {
                    false
                } else {
                    return Err(invalid(value, name, "Expected value to be either true or false"));
                }
            }
            _ => {
                return Err(KafkaError::with_message(
                    ErrorCode::InvalidConfig,
                    format!("Unknown topic config name: {name}"),
                ))
            }
        }
        self.overrides.insert(name.to_string(), value.to_string());
        Ok(())
    }

    /// Removes an override (`incrementalAlterConfigs` DELETE): the value returns to Kafka's default.
    pub fn reset(&mut self, name: &str) -> Result<(), KafkaError> {
        if !SUPPORTED.contains(&name) {
            return Err(KafkaError::with_message(
                ErrorCode::InvalidConfig,
                format!("Unknown topic config name: {name}"),
            ));
        }
        let mut fresh = TopicConfig::default();
        let kept: Vec<(String, String)> = self
            .overrides
            .iter()
            .filter(|(k, _)| k.as_str() != name)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in kept {
            fresh.set(&k, &v)?;
        }
        *self = fresh;
        Ok(())
    }

    /// A config built from `configs` (name → value), each validated in order; the first error wins.
    pub fn from_pairs<'a>(configs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, KafkaError> {
        let mut config = TopicConfig::default();
        for (name, value) in configs {
            config.set(name, value)?;
        }
        Ok(config)
    }

    /// The overrides, by name.
    pub fn overrides(&self) -> &BTreeMap<String, String> {
        &self.overrides
    }

    /// Every supported configuration with its value and source, as `describeConfigs` shows them.
    pub fn describe(&self) -> Vec<ConfigEntry> {
        SUPPORTED
            .iter()
            .map(|&name| {
                if let Some(v) = self.overrides.get(name) {
                    return ConfigEntry {
                        name: name.into(),
                        value: v.clone(),
                        source: ConfigSource::DynamicTopicConfig,
                    };
                }
                let d = TopicConfig::default();
                let (value, source) = match name {
                    "cleanup.policy" => ("delete".to_string(), ConfigSource::DefaultConfig),
                    "retention.ms" => (d.retention_ms.to_string(), ConfigSource::DefaultConfig),
                    "retention.bytes" => (d.retention_bytes.to_string(), ConfigSource::DefaultConfig),
                    "segment.bytes" => (d.segment_bytes.to_string(), ConfigSource::DefaultConfig),
                    "segment.ms" => (d.segment_ms.to_string(), ConfigSource::DefaultConfig),
                    "min.insync.replicas" => {
                        (d.min_insync_replicas.to_string(), ConfigSource::DynamicDefaultBrokerConfig)
                    }
                    "max.message.bytes" => (d.max_message_bytes.to_string(), ConfigSource::DefaultConfig),
                    "message.timestamp.type" => ("CreateTime".to_string(), ConfigSource::DefaultConfig),
                    "message.timestamp.after.max.ms" => {
                        (d.message_timestamp_after_max_ms.to_string(), ConfigSource::DefaultConfig)
                    }
                    "message.timestamp.before.max.ms" => {
                        (d.message_timestamp_before_max_ms.to_string(), ConfigSource::DefaultConfig)
                    }
                    "delete.retention.ms" => (d.delete_retention_ms.to_string(), ConfigSource::DefaultConfig),
                    "min.cleanable.dirty.ratio" => {
                        (java_double(d.min_cleanable_dirty_ratio), ConfigSource::DefaultConfig)
                    }
                    _ => ("false".to_string(), ConfigSource::DefaultConfig),
                };
                ConfigEntry { name: name.into(), value, source }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_doubles_print_as_java_does() {
        assert_eq!(java_double(2.0), "2.0");
        assert_eq!(java_double(-0.1), "-0.1");
        assert_eq!(java_double(0.5), "0.5");
        assert_eq!(java_double(1e-5), "1.0E-5");
    }
}
