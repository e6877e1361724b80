//! Runs a parsed program against the engine and records a transcript that reads like an interactive
//! Python session with boto3: each statement, then the reply dict as boto3 returns it (without
//! `ResponseMetadata`) or the exception it raises, and a `# t=…` line whenever virtual time moved.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::parse::{method, Action, Expr, Program};
use super::value::Py;
use crate::sqs::sns::{Publish, Sns};
use crate::sqs::types::*;
use crate::sqs::{Sqs, SqsError};
use crate::VirtualTime;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranscriptLine {
    /// The statement's first line in the program.
    pub line: u32,
    /// Virtual time when the statement finished, in milliseconds.
    pub time_millis: u64,
    pub source: String,
    /// What the session prints: a reply's `repr`, an exception line, or nothing.
    pub output: Option<String>,
    /// The reply (for `--json`), when the statement called SQS and got one.
    pub reply: Option<Py>,
    /// The error's code, when it raised one.
    pub error_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Transcript {
    pub lines: Vec<TranscriptLine>,
}

impl Transcript {
    pub fn text(&self) -> String {
        let mut out = String::new();
        let mut shown_time = 0;
        for l in &self.lines {
            out.push_str(">>> ");
            out.push_str(&l.source);
            out.push('\n');
            if let Some(o) = &l.output {
                out.push_str(o);
                out.push('\n');
            }
            if l.time_millis != shown_time {
                out.push_str(&format!("# t={}.{:03}s\n", l.time_millis / 1000, l.time_millis % 1000));
                shown_time = l.time_millis;
            }
        }
        out
    }
}

/// Why a statement stopped: an SQS error, botocore's parameter validation, or a Python error.
enum Failure {
    Sqs(SqsError),
    Param(String),
    Python(String),
}

impl Failure {
    fn line(&self, operation: &str) -> String {
        match self {
            Failure::Sqs(e) => {
                let class = e
                    .exception
                    .as_deref()
                    .map(|c| format!("botocore.errorfactory.{c}"))
                    .unwrap_or_else(|| "botocore.exceptions.ClientError".to_string());
                format!("{class}: {}", e.client_error(operation))
            }
            Failure::Param(m) => {
                format!("botocore.exceptions.ParamValidationError: Parameter validation failed:\n{m}")
            }
            Failure::Python(m) => m.clone(),
        }
    }
}

struct Session {
    sqs: Sqs,
    sns: Sns,
    names: BTreeMap<String, Py>,
}

/// Runs `program` on a fresh engine seeded with `seed` (short-poll sampling on, as on AWS).
pub fn run(program: &Program, seed: u64) -> Transcript {
    let mut s = Session { sqs: Sqs::new(seed), sns: Sns::new(), names: BTreeMap::new() };
    let mut transcript = Transcript::default();
    for st in &program.statements {
        let (output, reply, error_code) = match &st.action {
            Action::Sleep { millis } => {
                let t = s.sqs.now().plus_millis(*millis);
                s.sqs.advance_to(t);
                (None, None, None)
            }
            Action::ShortPollSampling(on) => {
                s.sqs.set_short_poll_sampling(*on);
                (None, None, None)
            }
            Action::Print(e) => match s.eval(e) {
                Ok(Py::Str(text)) => (Some(text), None, None),
                Ok(v) => (Some(v.repr()), None, None),
                Err(f) => (Some(f.line("")), None, None),
            },
            Action::Show(e) => match s.eval(e) {
                Ok(v) => {
                    let shown = if st.target.is_some() { None } else { Some(v.repr()) };
                    if let Some(t) = &st.target {
                        s.names.insert(t.clone(), v);
                    }
                    (shown, None, None)
                }
                Err(f) => (Some(f.line("")), None, None),
            },
            Action::Call { method: name, args, subscripts } => {
                let operation = method(name).map(|m| m.operation).unwrap_or("");
                match s.call(name, args) {
                    Ok(reply) => {
                        let mut value = Ok(reply.clone());
                        for key in subscripts {
                            value = value.and_then(|v| index(&v, key));
                        }
                        match value {
                            Ok(v) => {
                                // A bare `sqs.…(…)[key]` echoes the value too, as Python's session does.
                                let shown = if st.target.is_none() && !subscripts.is_empty() {
                                    format!("{}\n{}", reply.repr(), v.repr())
                                } else {
                                    reply.repr()
                                };
                                if let Some(t) = &st.target {
                                    s.names.insert(t.clone(), v);
                                }
                                (Some(shown), Some(reply), None)
                            }
                            Err(f) => {
                                (Some(format!("{}\n{}", reply.repr(), f.line(operation))), Some(reply), None)
                            }
                        }
                    }
                    Err(f) => {
                        let code = match &f {
                            Failure::Sqs(e) => Some(e.code.clone()),
                            _ => None,
                        };
                        (Some(f.line(operation)), None, code)
                    }
                }
            }
        };
        transcript.lines.push(TranscriptLine {
            line: st.line,
            time_millis: s.sqs.now().as_millis(),
            source: st.source.clone(),
            output,
            reply,
            error_code,
        });
    }
    transcript
}

fn index(v: &Py, key: &Py) -> Result<Py, Failure> {
    match (v, key) {
        (Py::Dict(items), Py::Str(k)) => items
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Failure::Python(format!("KeyError: {}", key.repr()))),
        (Py::List(items), Py::Int(i)) => {
            let len = items.len() as i64;
            let at = if *i < 0 { len + i } else { *i };
            if (0..len).contains(&at) {
                Ok(items[at as usize].clone())
            } else {
                Err(Failure::Python("IndexError: list index out of range".into()))
            }
        }
        (Py::List(_), _) => Err(Failure::Python(format!(
            "TypeError: list indices must be integers or slices, not {}",
            key.type_name()
        ))),
        (Py::Dict(_), _) => Err(Failure::Python(format!("KeyError: {}", key.repr()))),
        (other, _) => {
            Err(Failure::Python(format!("TypeError: '{}' object is not subscriptable", other.type_name())))
        }
    }
}

// ---- botocore's parameter validation, for the shapes a program passes ----

fn invalid_type(path: &str, v: &Py, valid: &str) -> Failure {
    Failure::Param(format!(
        "Invalid type for parameter {path}, value: {}, type: <class '{}'>, valid types: {valid}",
        v.repr(),
        v.type_name()
    ))
}

fn want_str(path: &str, v: &Py) -> Result<String, Failure> {
    match v {
        Py::Str(s) => Ok(s.clone()),
        other => Err(invalid_type(path, other, "<class 'str'>")),
    }
}

fn want_int(path: &str, v: &Py) -> Result<i64, Failure> {
    match v {
        Py::Int(i) => Ok(*i),
        other => Err(invalid_type(path, other, "<class 'int'>")),
    }
}

fn want_list<'a>(path: &str, v: &'a Py) -> Result<&'a [Py], Failure> {
    match v {
        Py::List(items) => Ok(items),
        other => Err(invalid_type(path, other, "<class 'list'>, <class 'tuple'>")),
    }
}

fn want_dict<'a>(path: &str, v: &'a Py) -> Result<&'a [(String, Py)], Failure> {
    match v {
        Py::Dict(items) => Ok(items),
        other => Err(invalid_type(path, other, "<class 'dict'>")),
    }
}

fn str_map(path: &str, v: &Py) -> Result<BTreeMap<String, String>, Failure> {
    want_dict(path, v)?.iter().map(|(k, v)| Ok((k.clone(), want_str(&format!("{path}.{k}"), v)?))).collect()
}

fn str_list(path: &str, v: &Py) -> Result<Vec<String>, Failure> {
    want_list(path, v)?.iter().enumerate().map(|(i, v)| want_str(&format!("{path}[{i}]"), v)).collect()
}

fn message_attributes(path: &str, v: &Py) -> Result<BTreeMap<String, AttributeValue>, Failure> {
    let mut out = BTreeMap::new();
    for (name, value) in want_dict(path, v)? {
        let p = format!("{path}.{name}");
        let fields = want_dict(&p, value)?;
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        for (k, _) in fields {
            if !["StringValue", "BinaryValue", "StringListValues", "BinaryListValues", "DataType"]
                .contains(&k.as_str())
            {
                return Err(Failure::Param(format!(
                    "Unknown parameter in {p}: \"{k}\", must be one of: StringValue, BinaryValue, StringListValues, BinaryListValues, DataType"
                )));
            }
        }
        let data_type = want_str(
            &format!("{p}.DataType"),
            get("DataType")
                .ok_or_else(|| Failure::Param(format!("Missing required parameter in {p}: \"DataType\"")))?,
        )?;
        let value = match (get("StringValue"), get("BinaryValue")) {
            (Some(s), _) => AttributeData::String(want_str(&format!("{p}.StringValue"), s)?),
            (None, Some(Py::Bytes(b))) => AttributeData::Binary(b.clone()),
            (None, Some(Py::Str(s))) => AttributeData::Binary(s.as_bytes().to_vec()),
            (None, Some(other)) => {
                return Err(invalid_type(
                    &format!("{p}.BinaryValue"),
                    other,
                    "<class 'bytes'>, <class 'bytearray'>, file-like object",
                ))
            }
            (None, None) => AttributeData::String(String::new()),
        };
        out.insert(name.clone(), AttributeValue { data_type, value });
    }
    Ok(out)
}

fn arg<'a>(args: &'a [(String, Py)], name: &str) -> Option<&'a Py> {
    args.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

fn send_request(path: &str, args: &[(String, Py)]) -> Result<SendMessage, Failure> {
    let p = |n: &str| if path.is_empty() { n.to_string() } else { format!("{path}.{n}") };
    Ok(SendMessage {
        body: want_str(&p("MessageBody"), arg(args, "MessageBody").unwrap_or(&Py::Str(String::new())))?,
        delay_seconds: arg(args, "DelaySeconds").map(|v| want_int(&p("DelaySeconds"), v)).transpose()?,
        attributes: arg(args, "MessageAttributes")
            .map(|v| message_attributes(&p("MessageAttributes"), v))
            .transpose()?
            .unwrap_or_default(),
        group_id: arg(args, "MessageGroupId").map(|v| want_str(&p("MessageGroupId"), v)).transpose()?,
        deduplication_id: arg(args, "MessageDeduplicationId")
            .map(|v| want_str(&p("MessageDeduplicationId"), v))
            .transpose()?,
    })
}

fn sent_reply(sent: &Sent) -> Vec<(String, Py)> {
    let mut out = vec![("MD5OfMessageBody".to_string(), Py::Str(sent.md5_of_body.clone()))];
    if let Some(m) = &sent.md5_of_attributes {
        out.push(("MD5OfMessageAttributes".into(), Py::Str(m.clone())));
    }
    out.push(("MessageId".into(), Py::Str(sent.message_id.clone())));
    if let Some(s) = &sent.sequence_number {
        out.push(("SequenceNumber".into(), Py::Str(s.clone())));
    }
    out
}

/// A `SendMessageBatchResultEntry` after its `Id`, in the API model's member order.
fn sent_entry(sent: &Sent) -> Vec<(String, Py)> {
    let mut out = vec![
        ("MessageId".to_string(), Py::Str(sent.message_id.clone())),
        ("MD5OfMessageBody".to_string(), Py::Str(sent.md5_of_body.clone())),
    ];
    if let Some(m) = &sent.md5_of_attributes {
        out.push(("MD5OfMessageAttributes".into(), Py::Str(m.clone())));
    }
    if let Some(s) = &sent.sequence_number {
        out.push(("SequenceNumber".into(), Py::Str(s.clone())));
    }
    out
}

fn attribute_reply(v: &AttributeValue) -> Py {
    let mut d = Py::dict();
    match &v.value {
        AttributeData::String(s) => d.put("StringValue", Py::Str(s.clone())),
        AttributeData::Binary(b) => d.put("BinaryValue", Py::Bytes(b.clone())),
    }
    d.put("DataType", Py::Str(v.data_type.clone()));
    d
}

fn received_reply(m: &Received) -> Py {
    let mut d = Py::dict();
    d.put("MessageId", Py::Str(m.message_id.clone()));
    d.put("ReceiptHandle", Py::Str(m.receipt_handle.clone()));
    d.put("MD5OfBody", Py::Str(m.md5_of_body.clone()));
    d.put("Body", Py::Str(m.body.clone()));
    if !m.attributes.is_empty() {
        d.put(
            "Attributes",
            Py::Dict(m.attributes.iter().map(|(k, v)| (k.clone(), Py::Str(v.clone()))).collect()),
        );
    }
    if let Some(md5) = &m.md5_of_attributes {
        d.put("MD5OfMessageAttributes", Py::Str(md5.clone()));
        d.put(
            "MessageAttributes",
            Py::Dict(m.message_attributes.iter().map(|(k, v)| (k.clone(), attribute_reply(v))).collect()),
        );
    }
    d
}

/// A batch reply: `Successful` and `Failed`, both always there (the API Reference marks both required).
fn batch_reply<T>(r: &BatchResult<T>, ok: impl Fn(&T) -> Vec<(String, Py)>) -> Py {
    let mut d = Py::dict();
    d.put(
        "Successful",
        Py::List(
            r.successful
                .iter()
                .map(|(id, t)| {
                    let mut items = vec![("Id".to_string(), Py::Str(id.clone()))];
                    items.extend(ok(t));
                    Py::Dict(items)
                })
                .collect(),
        ),
    );
    d.put(
        "Failed",
        Py::List(
            r.failed
                .iter()
                .map(|f| {
                    Py::Dict(vec![
                        ("Id".into(), Py::Str(f.id.clone())),
                        ("SenderFault".into(), Py::Bool(f.sender_fault)),
                        ("Code".into(), Py::Str(f.code.clone())),
                        ("Message".into(), Py::Str(f.message.clone())),
                    ])
                })
                .collect(),
        ),
    );
    d
}

/// One batch entry: its `Id` and its fields.
type Entry<'a> = (String, &'a [(String, Py)]);

/// A batch's `Entries`: each a dict with an `Id` and the entry's own parameters.
fn entries<'a>(args: &'a [(String, Py)], allowed: &[&str]) -> Result<Vec<Entry<'a>>, Failure> {
    let Some(given) = arg(args, "Entries") else { return Ok(Vec::new()) };
    let list = want_list("Entries", given)?;
    let mut out = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let path = format!("Entries[{i}]");
        let fields = want_dict(&path, e)?;
        for (k, _) in fields {
            if k != "Id" && !allowed.contains(&k.as_str()) {
                let mut all = vec!["Id"];
                all.extend_from_slice(allowed);
                return Err(Failure::Param(format!(
                    "Unknown parameter in {path}: \"{k}\", must be one of: {}",
                    all.join(", ")
                )));
            }
        }
        let id = fields
            .iter()
            .find(|(k, _)| k == "Id")
            .map(|(_, v)| want_str(&format!("{path}.Id"), v))
            .transpose()?
            .ok_or_else(|| Failure::Param(format!("Missing required parameter in {path}: \"Id\"")))?;
        out.push((id, fields));
    }
    Ok(out)
}

impl Session {
    fn eval(&self, e: &Expr) -> Result<Py, Failure> {
        match e {
            Expr::Lit(v) => Ok(v.clone()),
            Expr::Name { name, .. } => self
                .names
                .get(name)
                .cloned()
                .ok_or_else(|| Failure::Python(format!("NameError: name '{name}' is not defined"))),
            Expr::List(items) => Ok(Py::List(items.iter().map(|i| self.eval(i)).collect::<Result<_, _>>()?)),
            Expr::Dict(items) => Ok(Py::Dict(
                items.iter().map(|(k, v)| Ok((k.clone(), self.eval(v)?))).collect::<Result<_, Failure>>()?,
            )),
            Expr::Index { base, key } => index(&self.eval(base)?, key),
        }
    }

    fn call(&mut self, name: &str, args: &[(String, Expr)]) -> Result<Py, Failure> {
        let args: Vec<(String, Py)> =
            args.iter().map(|(n, e)| Ok((n.clone(), self.eval(e)?))).collect::<Result<_, Failure>>()?;
        let a = |n: &str| arg(&args, n);
        let s = |n: &str| a(n).map(|v| want_str(n, v)).transpose();
        let i = |n: &str| a(n).map(|v| want_int(n, v)).transpose();
        let url = || s("QueueUrl").map(|u| u.unwrap_or_default());
        let sqs = &mut self.sqs;
        let empty = Py::dict;
        let reply = match name {
            "create_queue" => {
                let attrs =
                    a("Attributes").map(|v| str_map("Attributes", v)).transpose()?.unwrap_or_default();
                let url =
                    sqs.create_queue(&s("QueueName")?.unwrap_or_default(), &attrs).map_err(Failure::Sqs)?;
                Py::Dict(vec![("QueueUrl".into(), Py::Str(url))])
            }
            "get_queue_url" => {
                let url = sqs.get_queue_url(&s("QueueName")?.unwrap_or_default()).map_err(Failure::Sqs)?;
                Py::Dict(vec![("QueueUrl".into(), Py::Str(url))])
            }
            "list_queues" => {
                let (urls, token) = sqs
                    .list_queues(
                        s("QueueNamePrefix")?.as_deref(),
                        i("MaxResults")?,
                        s("NextToken")?.as_deref(),
                    )
                    .map_err(Failure::Sqs)?;
                let mut d = empty();
                if !urls.is_empty() {
                    d.put("QueueUrls", Py::List(urls.into_iter().map(Py::Str).collect()));
                }
                if let Some(t) = token {
                    d.put("NextToken", Py::Str(t));
                }
                d
            }
            "delete_queue" => {
                sqs.delete_queue(&url()?).map_err(Failure::Sqs)?;
                empty()
            }
            "get_queue_attributes" => {
                let names = a("AttributeNames")
                    .map(|v| str_list("AttributeNames", v))
                    .transpose()?
                    .unwrap_or_default();
                let attrs = sqs.get_queue_attributes(&url()?, &names).map_err(Failure::Sqs)?;
                let mut d = empty();
                if !attrs.is_empty() {
                    d.put("Attributes", Py::Dict(attrs.into_iter().map(|(k, v)| (k, Py::Str(v))).collect()));
                }
                d
            }
            "set_queue_attributes" => {
                let attrs = str_map("Attributes", a("Attributes").unwrap_or(&Py::dict()))?;
                sqs.set_queue_attributes(&url()?, &attrs).map_err(Failure::Sqs)?;
                empty()
            }
            "purge_queue" => {
                sqs.purge_queue(&url()?).map_err(Failure::Sqs)?;
                empty()
            }
            "send_message" => {
                let request = send_request("", &args)?;
                Py::Dict(sent_reply(&sqs.send_message(&url()?, &request).map_err(Failure::Sqs)?))
            }
            "send_message_batch" => {
                let list = entries(
                    &args,
                    &[
                        "MessageBody",
                        "DelaySeconds",
                        "MessageAttributes",
                        "MessageSystemAttributes",
                        "MessageDeduplicationId",
                        "MessageGroupId",
                    ],
                )?;
                let mut requests = Vec::new();
                for (n, (id, fields)) in list.iter().enumerate() {
                    if arg(fields, "MessageBody").is_none() {
                        return Err(Failure::Param(format!(
                            "Missing required parameter in Entries[{n}]: \"MessageBody\""
                        )));
                    }
                    requests.push((id.clone(), send_request(&format!("Entries[{n}]"), fields)?));
                }
                batch_reply(&sqs.send_message_batch(&url()?, &requests).map_err(Failure::Sqs)?, sent_entry)
            }
            "receive_message" => {
                let mut system = a("AttributeNames")
                    .map(|v| str_list("AttributeNames", v))
                    .transpose()?
                    .unwrap_or_default();
                system.extend(
                    a("MessageSystemAttributeNames")
                        .map(|v| str_list("MessageSystemAttributeNames", v))
                        .transpose()?
                        .unwrap_or_default(),
                );
                let request = ReceiveMessage {
                    max_number_of_messages: i("MaxNumberOfMessages")?,
                    visibility_timeout: i("VisibilityTimeout")?,
                    wait_time_seconds: i("WaitTimeSeconds")?,
                    system_attribute_names: system,
                    message_attribute_names: a("MessageAttributeNames")
                        .map(|v| str_list("MessageAttributeNames", v))
                        .transpose()?
                        .unwrap_or_default(),
                    receive_request_attempt_id: s("ReceiveRequestAttemptId")?,
                };
                let got = sqs.receive_message(&url()?, &request).map_err(Failure::Sqs)?;
                let mut d = empty();
                if !got.is_empty() {
                    d.put("Messages", Py::List(got.iter().map(received_reply).collect()));
                }
                d
            }
            "delete_message" => {
                sqs.delete_message(&url()?, &s("ReceiptHandle")?.unwrap_or_default())
                    .map_err(Failure::Sqs)?;
                empty()
            }
            "delete_message_batch" => {
                let list = entries(&args, &["ReceiptHandle"])?;
                let mut requests = Vec::new();
                for (n, (id, fields)) in list.iter().enumerate() {
                    let h = arg(fields, "ReceiptHandle").ok_or_else(|| {
                        Failure::Param(format!(
                            "Missing required parameter in Entries[{n}]: \"ReceiptHandle\""
                        ))
                    })?;
                    requests.push((id.clone(), want_str(&format!("Entries[{n}].ReceiptHandle"), h)?));
                }
                batch_reply(&sqs.delete_message_batch(&url()?, &requests).map_err(Failure::Sqs)?, |_| {
                    Vec::new()
                })
            }
            "change_message_visibility" => {
                sqs.change_message_visibility(
                    &url()?,
                    &s("ReceiptHandle")?.unwrap_or_default(),
                    i("VisibilityTimeout")?.unwrap_or(0),
                )
                .map_err(Failure::Sqs)?;
                empty()
            }
            "change_message_visibility_batch" => {
                let list = entries(&args, &["ReceiptHandle", "VisibilityTimeout"])?;
                let mut requests = Vec::new();
                for (n, (id, fields)) in list.iter().enumerate() {
                    let h = arg(fields, "ReceiptHandle").ok_or_else(|| {
                        Failure::Param(format!(
                            "Missing required parameter in Entries[{n}]: \"ReceiptHandle\""
                        ))
                    })?;
                    let t = arg(fields, "VisibilityTimeout")
                        .map(|v| want_int(&format!("Entries[{n}].VisibilityTimeout"), v))
                        .transpose()?;
                    requests.push((
                        id.clone(),
                        want_str(&format!("Entries[{n}].ReceiptHandle"), h)?,
                        t.unwrap_or(0),
                    ));
                }
                batch_reply(
                    &sqs.change_message_visibility_batch(&url()?, &requests).map_err(Failure::Sqs)?,
                    |_| Vec::new(),
                )
            }
            "sns.create_topic" => {
                let arn = self.sns.create_topic(&s("Name")?.unwrap_or_default()).map_err(Failure::Sqs)?;
                Py::Dict(vec![("TopicArn".into(), Py::Str(arn))])
            }
            "sns.subscribe" => {
                let attrs =
                    a("Attributes").map(|v| str_map("Attributes", v)).transpose()?.unwrap_or_default();
                let arn = self
                    .sns
                    .subscribe(
                        sqs,
                        &s("TopicArn")?.unwrap_or_default(),
                        &s("Protocol")?.unwrap_or_default(),
                        &s("Endpoint")?.unwrap_or_default(),
                        &attrs,
                    )
                    .map_err(Failure::Sqs)?;
                Py::Dict(vec![("SubscriptionArn".into(), Py::Str(arn))])
            }
            "sns.publish" => {
                let request = Publish {
                    message: s("Message")?.unwrap_or_default(),
                    subject: s("Subject")?,
                    attributes: a("MessageAttributes")
                        .map(|v| message_attributes("MessageAttributes", v))
                        .transpose()?
                        .unwrap_or_default(),
                };
                let topic = s("TopicArn")?.or(s("TargetArn")?).unwrap_or_default();
                let id = self.sns.publish(sqs, &topic, &request).map_err(Failure::Sqs)?;
                Py::Dict(vec![("MessageId".into(), Py::Str(id))])
            }
            "start_message_move_task" => {
                let handle = sqs
                    .start_message_move_task(
                        &s("SourceArn")?.unwrap_or_default(),
                        s("DestinationArn")?.as_deref(),
                        i("MaxNumberOfMessagesPerSecond")?,
                    )
                    .map_err(Failure::Sqs)?;
                Py::Dict(vec![("TaskHandle".into(), Py::Str(handle))])
            }
            "list_message_move_tasks" => {
                let tasks = sqs
                    .list_message_move_tasks(&s("SourceArn")?.unwrap_or_default(), i("MaxResults")?)
                    .map_err(Failure::Sqs)?;
                let mut d = empty();
                if !tasks.is_empty() {
                    d.put("Results", Py::List(tasks.iter().map(move_task_reply).collect()));
                }
                d
            }
            "cancel_message_move_task" => {
                let moved = sqs
                    .cancel_message_move_task(&s("TaskHandle")?.unwrap_or_default())
                    .map_err(Failure::Sqs)?;
                Py::Dict(vec![("ApproximateNumberOfMessagesMoved".into(), Py::Int(moved as i64))])
            }
            other => {
                return Err(Failure::Python(format!(
                    "AttributeError: 'SQS' object has no attribute '{other}'"
                )))
            }
        };
        Ok(reply)
    }
}

/// One `ListMessageMoveTasksResultEntry`, in botocore's member order; the handle only while running.
fn move_task_reply(t: &crate::sqs::queue::MoveTask) -> Py {
    use crate::sqs::queue::MoveStatus;
    let mut d = Py::dict();
    if t.status == MoveStatus::Running {
        d.put("TaskHandle", Py::Str(t.handle.clone()));
    }
    d.put("Status", Py::Str(t.status.as_str().into()));
    d.put("SourceArn", Py::Str(t.source_arn.clone()));
    if let Some(a) = &t.destination_arn {
        d.put("DestinationArn", Py::Str(a.clone()));
    }
    if let Some(r) = t.max_per_second {
        d.put("MaxNumberOfMessagesPerSecond", Py::Int(i64::from(r)));
    }
    d.put("ApproximateNumberOfMessagesMoved", Py::Int(t.moved as i64));
    d.put("ApproximateNumberOfMessagesToMove", Py::Int(t.to_move as i64));
    if let Some(r) = &t.failure_reason {
        d.put("FailureReason", Py::Str(r.clone()));
    }
    d.put("StartedTimestamp", Py::Int(t.started.as_millis() as i64));
    d
}

/// The virtual time a transcript line was printed at, for readers of `--json`.
pub fn seconds(t: VirtualTime) -> String {
    format!("{}.{:03}", t.as_millis() / 1000, t.as_millis() % 1000)
}
