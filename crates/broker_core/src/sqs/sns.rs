//! Amazon SNS fan-out to SQS, in SNS's vocabulary: topics, subscriptions (protocol `sqs`), `Publish`
//! with message attributes, subscription filter policies on those attributes and raw message delivery
//! — as the SNS Developer Guide documents them ("Amazon SNS message filtering", "Amazon SNS raw message
//! delivery", "Amazon SNS message and JSON formats").
//!
//! A publish delivers, in subscription order, to every `sqs` subscription whose filter policy matches
//! the message attributes: raw, the message itself with its attributes as SQS message attributes;
//! otherwise the notification envelope (JSON) with the attributes inside it. Delivery is at once on
//! virtual time (a real topic delivers within milliseconds). Ids come from the SQS service's seeded
//! generator, so a run is reproducible.
//!
//! Invariants: a topic name is unique; a subscription belongs to one topic; a stored filter policy
//! parsed when it was set (so a publish never meets an invalid one).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::SqsError;
use super::queue::{ACCOUNT, REGION};
use super::types::{AttributeData, AttributeValue, SendMessage};
use super::Sqs;
use crate::VirtualTime;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sns {
    /// By name.
    topics: BTreeMap<String, Topic>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    pub name: String,
    pub subscriptions: Vec<Subscription>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub arn: String,
    pub protocol: String,
    /// The queue's ARN.
    pub endpoint: String,
    pub raw_message_delivery: bool,
    /// As given (JSON text).
    pub filter_policy: Option<String>,
}

/// `Publish`'s parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publish {
    pub message: String,
    pub subject: Option<String>,
    pub attributes: BTreeMap<String, AttributeValue>,
}

fn sns_error(exception: &str, code: &str, message: impl Into<String>) -> SqsError {
    SqsError { exception: Some(exception.into()), code: code.into(), message: message.into() }
}

fn invalid_parameter(message: impl Into<String>) -> SqsError {
    sns_error("InvalidParameterException", "InvalidParameter", message)
}

fn topic_not_found() -> SqsError {
    sns_error("NotFoundException", "NotFound", "Topic does not exist")
}

pub fn topic_arn(name: &str) -> String {
    format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}")
}

impl Sns {
    pub fn new() -> Self {
        Sns::default()
    }

    pub fn topics(&self) -> impl Iterator<Item = &Topic> {
        self.topics.values()
    }

    fn topic_mut(&mut self, arn: &str) -> Result<&mut Topic, SqsError> {
        let name = arn.strip_prefix(&format!("arn:aws:sns:{REGION}:{ACCOUNT}:")).unwrap_or("");
        self.topics.get_mut(name).ok_or_else(topic_not_found)
    }

    /// `CreateTopic`: idempotent for a name; 1 to 256 letters, digits, hyphens and underscores
    /// (API Reference, `CreateTopic`). FIFO topics are not modelled.
    pub fn create_topic(&mut self, name: &str) -> Result<String, SqsError> {
        let valid = !name.is_empty()
            && name.len() <= 256
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(invalid_parameter(
                "Invalid parameter: Topic Name must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
            ));
        }
        self.topics
            .entry(name.to_string())
            .or_insert_with(|| Topic { name: name.to_string(), subscriptions: Vec::new() });
        Ok(topic_arn(name))
    }

    /// `Subscribe` with protocol `sqs` (the only one modelled): confirmed at once, as SNS does for a
    /// queue of the same account. Attributes: `RawMessageDelivery`, `FilterPolicy`, `FilterPolicyScope`
    /// (`MessageAttributes`, the default, only). Subscribing the same endpoint again returns the same
    /// subscription.
    pub fn subscribe(
        &mut self,
        sqs: &mut Sqs,
        topic: &str,
        protocol: &str,
        endpoint: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<String, SqsError> {
        self.topic_mut(topic)?;
        if protocol != "sqs" {
            return Err(invalid_parameter(format!(
                "Invalid parameter: Protocol {protocol} (this sandbox delivers to sqs only)"
            )));
        }
        if !endpoint.starts_with("arn:aws:sqs:") {
            return Err(invalid_parameter("Invalid parameter: SQS endpoint ARN"));
        }
        let mut raw = false;
        let mut filter = None;
        for (k, v) in attributes {
            match k.as_str() {
                "RawMessageDelivery" => {
                    raw = match v.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(invalid_parameter("Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [{v}]. Must be true or false.".replace("{v}", v))),
                    }
                }
                "FilterPolicy" => {
                    parse_filter_policy(v)?;
                    filter = Some(v.clone());
                }
                "FilterPolicyScope" if v == "MessageAttributes" => {}
                _ => {
                    return Err(invalid_parameter(format!(
                        "Invalid parameter: Attributes Reason: Unknown attribute {k}"
                    )))
                }
            }
        }
        let t = self.topic_mut(topic)?;
        if let Some(existing) = t.subscriptions.iter().find(|s| s.endpoint == endpoint) {
            return Ok(existing.arn.clone());
        }
        let arn = format!("{topic}:{}", sqs.new_id());
        t.subscriptions.push(Subscription {
            arn: arn.clone(),
            protocol: protocol.to_string(),
            endpoint: endpoint.to_string(),
            raw_message_delivery: raw,
            filter_policy: filter,
        });
        Ok(arn)
    }

    /// `Publish`: returns the message id; delivers to each matching subscription's queue.
    pub fn publish(&mut self, sqs: &mut Sqs, topic: &str, request: &Publish) -> Result<String, SqsError> {
        let subscriptions = self.topic_mut(topic)?.subscriptions.clone();
        if request.message.is_empty() {
            return Err(invalid_parameter("Invalid parameter: Empty message"));
        }
        let message_id = sqs.new_id();
        for s in &subscriptions {
            let matches = match &s.filter_policy {
                Some(text) => parse_filter_policy(text).map(|p| policy_matches(&p, &request.attributes))?,
                None => true,
            };
            if !matches {
                continue;
            }
            let queue = s.endpoint.rsplit(':').next().unwrap_or("");
            let Ok(url) = sqs.get_queue_url(queue) else {
                // A queue that no longer exists: SNS's delivery fails; nothing to store.
                continue;
            };
            let send = if s.raw_message_delivery {
                SendMessage {
                    body: request.message.clone(),
                    attributes: request.attributes.clone(),
                    ..Default::default()
                }
            } else {
                let signature = sqs.new_id();
                SendMessage {
                    body: envelope(topic, &message_id, request, sqs.now(), &s.arn, &signature),
                    ..Default::default()
                }
            };
            // A delivery the queue refuses (e.g. too large) is lost, as a failed SNS delivery is.
            let _ = sqs.send_message(&url, &send);
        }
        Ok(message_id)
    }
}

/// The notification envelope SNS stores in a queue without raw delivery ("Amazon SNS message and JSON
/// formats", HTTP/HTTPS notification JSON format): its fields in that page's order, pretty-printed as
/// SNS does. The engine signs nothing: `Signature` is a placeholder drawn from the seed.
fn envelope(
    topic: &str,
    message_id: &str,
    p: &Publish,
    now: VirtualTime,
    subscription: &str,
    signature: &str,
) -> String {
    let q = |s: &str| Value::String(s.to_string()).to_string();
    let mut fields = vec![("Type", q("Notification")), ("MessageId", q(message_id)), ("TopicArn", q(topic))];
    if let Some(s) = &p.subject {
        fields.push(("Subject", q(s)));
    }
    fields.push(("Message", q(&p.message)));
    fields.push(("Timestamp", q(&iso8601(now))));
    fields.push(("SignatureVersion", q("1")));
    fields.push(("Signature", q(signature)));
    fields.push((
        "SigningCertURL",
        q(&format!(
            "https://sns.{REGION}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"
        )),
    ));
    fields.push((
        "UnsubscribeURL",
        q(&format!("https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription}")),
    ));
    let mut out = String::from("{\n");
    for (i, (k, v)) in fields.iter().enumerate() {
        let last = i + 1 == fields.len() && p.attributes.is_empty();
        out.push_str(&format!("  \"{k}\" : {v}{}\n", if last { "" } else { "," }));
    }
    if !p.attributes.is_empty() {
        out.push_str("  \"MessageAttributes\" : {\n");
        let n = p.attributes.len();
        for (i, (name, a)) in p.attributes.iter().enumerate() {
            let value = match &a.value {
                AttributeData::String(s) => q(s),
                AttributeData::Binary(b) => q(&b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
            };
            out.push_str(&format!(
                "    {} : {{\"Type\":{},\"Value\":{value}}}{}\n",
                q(name),
                q(&a.data_type),
                if i + 1 == n { "" } else { "," }
            ));
        }
        out.push_str("  }\n");
    }
    out.push('}');
    out
}

/// Virtual milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn iso8601(t: VirtualTime) -> String {
    let ms = t.as_millis();
    let (days, rest) = (ms / 86_400_000, ms % 86_400_000);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

/// One condition of a filter policy ("Amazon SNS message filtering": exact string and numeric
/// matching, prefix, anything-but, numeric ranges, exists).
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Exact(String),
    Number(f64),
    Prefix(String),
    AnythingBut(Vec<Condition>),
    Numeric(Vec<(String, f64)>),
    Exists(bool),
}

/// A filter policy: per attribute name, the conditions of which one must match (all names must).
pub type FilterPolicy = Vec<(String, Vec<Condition>)>;

pub fn parse_filter_policy(text: &str) -> Result<FilterPolicy, SqsError> {
    let bad = |why: &str| invalid_parameter(format!("Invalid parameter: FilterPolicy: {why}"));
    let json: Value = serde_json::from_str(text).map_err(|_| bad("failed to parse JSON."))?;
    let map = json.as_object().ok_or_else(|| bad("the policy must be a JSON object"))?;
    let mut out = Vec::new();
    for (name, conds) in map {
        let list =
            conds.as_array().ok_or_else(|| bad(&format!("\"{name}\" must be an array of conditions")))?;
        let parsed = list.iter().map(|c| condition(c, &bad)).collect::<Result<Vec<_>, _>>()?;
        out.push((name.clone(), parsed));
    }
    Ok(out)
}

fn condition(c: &Value, bad: &dyn Fn(&str) -> SqsError) -> Result<Condition, SqsError> {
    match c {
        Value::String(s) => Ok(Condition::Exact(s.clone())),
        Value::Number(n) => Ok(Condition::Number(n.as_f64().unwrap_or(f64::NAN))),
        Value::Object(o) if o.len() == 1 => {
            let (op, arg) = o.iter().next().ok_or_else(|| bad("empty condition"))?;
            match (op.as_str(), arg) {
                ("prefix", Value::String(p)) => Ok(Condition::Prefix(p.clone())),
                ("exists", Value::Bool(b)) => Ok(Condition::Exists(*b)),
                ("anything-but", Value::Array(items)) => Ok(Condition::AnythingBut(
                    items.iter().map(|i| condition(i, bad)).collect::<Result<_, _>>()?,
                )),
                ("anything-but", v @ (Value::String(_) | Value::Number(_) | Value::Object(_))) => {
                    Ok(Condition::AnythingBut(vec![condition(v, bad)?]))
                }
                ("numeric", Value::Array(items)) => {
                    let mut pairs = Vec::new();
                    let mut it = items.iter();
                    while let Some(op) = it.next() {
                        let op = op.as_str().filter(|o| ["=", "<", "<=", ">", ">="].contains(o));
                        let n = it.next().and_then(Value::as_f64);
                        match (op, n) {
                            (Some(o), Some(n)) => pairs.push((o.to_string(), n)),
                            _ => return Err(bad("numeric needs operator and number pairs")),
                        }
                    }
                    if pairs.is_empty() {
                        return Err(bad("numeric needs operator and number pairs"));
                    }
                    Ok(Condition::Numeric(pairs))
                }
                _ => Err(bad(&format!("unrecognized match type {op}"))),
            }
        }
        _ => Err(bad("a condition is a string, a number or an object with one operator")),
    }
}

/// Whether a message's attributes pass a policy: every named attribute passes one of its conditions.
pub fn policy_matches(policy: &FilterPolicy, attributes: &BTreeMap<String, AttributeValue>) -> bool {
    policy.iter().all(|(name, conds)| conds.iter().any(|c| attribute_matches(c, attributes.get(name))))
}

fn attribute_matches(c: &Condition, a: Option<&AttributeValue>) -> bool {
    let Some(a) = a else { return matches!(c, Condition::Exists(false)) };
    let AttributeData::String(text) = &a.value else {
        // Binary attributes are not matched by filter policies.
        return matches!(c, Condition::Exists(true));
    };
    let base = a.data_type.split('.').next().unwrap_or("");
    if a.data_type == "String.Array" {
        let items: Vec<Value> = serde_json::from_str(text).unwrap_or_default();
        return items.iter().any(|v| match v {
            Value::String(s) => value_matches(c, Some(s), None),
            Value::Number(n) => value_matches(c, None, n.as_f64()),
            _ => false,
        });
    }
    match base {
        "Number" => value_matches(c, None, text.trim().parse::<f64>().ok()),
        _ => value_matches(c, Some(text), None),
    }
}

/// A condition against one value: a string (of a `String` attribute) or a number.
fn value_matches(c: &Condition, s: Option<&str>, n: Option<f64>) -> bool {
    match c {
        Condition::Exists(b) => *b,
        Condition::Exact(e) => s == Some(e.as_str()),
        Condition::Number(x) => n == Some(*x),
        Condition::Prefix(p) => s.is_some_and(|s| s.starts_with(p.as_str())),
        Condition::AnythingBut(list) => !list.iter().any(|c| value_matches(c, s, n)),
        Condition::Numeric(pairs) => n.is_some_and(|v| {
            pairs.iter().all(|(op, x)| match op.as_str() {
                "=" => v == *x,
                "<" => v < *x,
                "<=" => v <= *x,
                ">" => v > *x,
                _ => v >= *x,
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    //! Filter policies as the SNS Developer Guide's "Amazon SNS message filtering" pages describe
    //! them, and the envelope's layout.

    use super::*;

    fn attrs(pairs: &[(&str, &str, &str)]) -> BTreeMap<String, AttributeValue> {
        pairs
            .iter()
            .map(|(n, t, v)| {
                (
                    n.to_string(),
                    AttributeValue { data_type: t.to_string(), value: AttributeData::String(v.to_string()) },
                )
            })
            .collect()
    }

    fn passes(policy: &str, a: &[(&str, &str, &str)]) -> bool {
        policy_matches(&parse_filter_policy(policy).unwrap(), &attrs(a))
    }

    #[test]
    fn exact_prefix_and_anything_but() {
        assert!(passes(r#"{"color": ["red", "blue"]}"#, &[("color", "String", "blue")]));
        assert!(!passes(r#"{"color": ["red"]}"#, &[("color", "String", "Red")]));
        assert!(!passes(r#"{"color": ["red"]}"#, &[]));
        assert!(passes(r#"{"region": [{"prefix": "eu-"}]}"#, &[("region", "String", "eu-west-1")]));
        assert!(!passes(r#"{"region": [{"prefix": "eu-"}]}"#, &[("region", "String", "us-east-1")]));
        assert!(passes(r#"{"s": [{"anything-but": ["a", "b"]}]}"#, &[("s", "String", "c")]));
        assert!(!passes(r#"{"s": [{"anything-but": "a"}]}"#, &[("s", "String", "a")]));
        assert!(passes(r#"{"s": [{"anything-but": {"prefix": "x"}}]}"#, &[("s", "String", "yz")]));
        // anything-but needs the attribute to be there.
        assert!(!passes(r#"{"s": [{"anything-but": ["a"]}]}"#, &[]));
        // Every key of the policy must match (AND), any condition of a key (OR).
        let p = r#"{"a": ["1"], "b": ["2", "3"]}"#;
        assert!(passes(p, &[("a", "String", "1"), ("b", "String", "3")]));
        assert!(!passes(p, &[("a", "String", "1")]));
    }

    #[test]
    fn numeric_and_exists() {
        let range = r#"{"amount": [{"numeric": [">=", 100, "<", 1000]}]}"#;
        assert!(passes(range, &[("amount", "Number", "100")]));
        assert!(passes(range, &[("amount", "Number", "999.5")]));
        assert!(!passes(range, &[("amount", "Number", "1000")]));
        // Numeric matching applies to Number attributes only.
        assert!(!passes(range, &[("amount", "String", "150")]));
        assert!(passes(r#"{"n": [5]}"#, &[("n", "Number", "5.0")]));
        assert!(passes(r#"{"n": [{"numeric": ["=", 5]}]}"#, &[("n", "Number", "5")]));
        assert!(passes(r#"{"x": [{"exists": true}]}"#, &[("x", "String", "anything")]));
        assert!(!passes(r#"{"x": [{"exists": true}]}"#, &[]));
        assert!(passes(r#"{"x": [{"exists": false}]}"#, &[]));
        assert!(!passes(r#"{"x": [{"exists": false}]}"#, &[("x", "String", "v")]));
        // String.Array: any element.
        assert!(passes(r#"{"tags": ["b"]}"#, &[("tags", "String.Array", r#"["a", "b"]"#)]));
    }

    #[test]
    fn invalid_policies_are_refused() {
        for bad in ["[", "[]", r#"{"a": "x"}"#, r#"{"a": [{"nope": 1}]}"#, r#"{"a": [{"numeric": [">"]}]}"#] {
            let e = parse_filter_policy(bad).unwrap_err();
            assert_eq!(e.code, "InvalidParameter", "{bad}");
        }
    }

    #[test]
    fn fan_out_raw_and_enveloped() {
        let mut sqs = Sqs::new(9);
        sqs.set_short_poll_sampling(false);
        let mut sns = Sns::new();
        let topic = sns.create_topic("t").unwrap();
        assert_eq!(sns.create_topic("t").unwrap(), topic);
        let raw = sqs.create_queue("raw", &BTreeMap::new()).unwrap();
        let env = sqs.create_queue("env", &BTreeMap::new()).unwrap();
        let on = |k: &str, v: &str| [(k.to_string(), v.to_string())].into_iter().collect::<BTreeMap<_, _>>();
        sns.subscribe(
            &mut sqs,
            &topic,
            "sqs",
            "arn:aws:sqs:us-east-1:123456789012:raw",
            &on("RawMessageDelivery", "true"),
        )
        .unwrap();
        sns.subscribe(&mut sqs, &topic, "sqs", "arn:aws:sqs:us-east-1:123456789012:env", &BTreeMap::new())
            .unwrap();
        assert_eq!(
            sns.subscribe(&mut sqs, &topic, "http", "https://example.com", &BTreeMap::new())
                .unwrap_err()
                .code,
            "InvalidParameter"
        );
        sqs.advance_to(VirtualTime(86_400_000 + 3_723_004));
        let p = Publish {
            message: "hi".into(),
            subject: Some("s".into()),
            attributes: attrs(&[("k", "String", "v")]),
        };
        let id = sns.publish(&mut sqs, &topic, &p).unwrap();
        let all = crate::sqs::types::ReceiveMessage {
            message_attribute_names: vec!["All".into()],
            ..Default::default()
        };
        let got = sqs.receive_message(&raw, &all).unwrap();
        assert_eq!((got[0].body.as_str(), got[0].message_attributes.len()), ("hi", 1));
        let got = sqs.receive_message(&env, &all).unwrap();
        assert!(got[0].message_attributes.is_empty());
        let body: Value = serde_json::from_str(&got[0].body).unwrap();
        assert_eq!(body["Type"], "Notification");
        assert_eq!(body["MessageId"], id.as_str());
        assert_eq!(body["Subject"], "s");
        assert_eq!(body["Timestamp"], "1970-01-02T01:02:03.004Z");
        assert_eq!(body["MessageAttributes"]["k"]["Value"], "v");
        assert!(got[0].body.starts_with("{\n  \"Type\" : \"Notification\",\n  \"MessageId\" : "));
        assert_eq!(
            sns.publish(&mut sqs, "arn:aws:sns:us-east-1:123456789012:x", &p).unwrap_err().code,
            "NotFound"
        );
        sqs.check_invariants().unwrap();
    }
}
