//! SQS documents (`"model": "sqs"`) on an SQS emulator through boto3, and their comparison with the
//! engine (`docs/sqs-documents.md`, "Against an emulator").
//!
//! The engine plays the document first ([`SqsRun`], instantaneous); its events give every send's time,
//! body and message group, so the real producers send the same messages at the same times. The
//! document's consumers then run their `ReceiveMessage` loops in real time through the SQS driver that
//! also plays the golden programs (`sqs-driver/driver.py`, here in its `--serve` mode: one boto3 call
//! per request, each on its own thread, so a consumer's long poll does not hold up the others): receive
//! (its wait time, batch size and visibility timeout), work on each message for the document's
//! processing time, delete it (or not, or fail on a poison message), extend the visibility timeout
//! while working (heartbeats), poll again. Faults and operator actions (a crash, `PurgeQueue`,
//! `StartMessageMoveTask`, `SetQueueAttributes`) happen at their times; each check is decided at its
//! time from the queues' `Approximate*` attributes and from what the consumers did. [`outcome_lines`]
//! turns both runs into the lines compared with the kernel's diff and the allow-list.
//!
//! SQS's timers (visibility timeouts, delays, long polls) count whole seconds on the server, so a
//! document runs in real time: as long as its `duration` ([`MAX_REAL_DURATION_MS`] at most).
//!
//! Invariants: every wait is bounded (a reply at most [`REPLY_TIMEOUT`] after its request, the run at
//! most its duration plus that); the driver process ends with the run.

use crate::compare::{AllowEntry, Difference, Line};
use broker_core::sqs::scenario::document::{CheckSpec, ConsumerSpec, MessageVar, SqsDocument, Who};
use broker_core::sqs::scenario::{SqsEvent, SqsRun};
use serde_json::{json, Map, Value};
use sim_kernel::checks::CheckStatus;
use sim_kernel::prng::Prng;
use sim_kernel::template::Template;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The two sides of a comparison, as the differences name them.
pub const SIDES: [&str; 2] = ["engine", "emulator"];
/// The longest document played in real time.
pub const MAX_REAL_DURATION_MS: u64 = 600_000;
/// The longest an answer may take (a long poll waits at most 20 s).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest the loop sleeps between looks at the clock and the driver's answers.
const TICK: Duration = Duration::from_millis(10);

/// Why `doc` cannot be played faithfully on an emulator, one sentence per reason naming the field.
pub fn refusals(doc: &SqsDocument, speed: u64) -> Vec<String> {
    let mut out = Vec::new();
    if speed > 1 {
        out.push(format!(
            "--speed {speed}: SQS counts visibility timeouts, delays and long polls in whole seconds on the \
             server; an SQS document runs in real time (--speed 1)"
        ));
    }
    if doc.duration.0 > MAX_REAL_DURATION_MS {
        out.push(format!(
            "duration: {} ms in real time is more than the {MAX_REAL_DURATION_MS} ms a comparison may take",
            doc.duration.0
        ));
    }
    for (i, p) in doc.producers.iter().enumerate() {
        let drawn = |t: &Option<String>| t.as_deref().is_some_and(|t| t.contains("{random"));
        if drawn(&p.deduplication_id) {
            out.push(format!(
                "producers[{i}].deduplication_id: a {{random:N}} draw of the engine's seed, which the send log \
                 does not keep; the emulator would get other ids"
            ));
        }
        for (k, v) in &p.attributes {
            if v.contains("{random") {
                out.push(format!(
                    "producers[{i}].attributes.{k}: a {{random:N}} draw of the engine's seed, which the send log \
                     does not keep; the emulator would get other values"
                ));
            }
        }
    }
    out
}

/// What a consumer did, in order (the consumer-side checks count these, as the engine's run does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Did {
    Received,
    Empty,
    Processed,
    /// `DeleteMessage` answered success.
    Deleted,
}

/// Who sent a message: producer, send number, message group.
#[derive(Clone, Debug)]
struct Origin {
    producer: String,
    seq: u64,
    group: Option<String>,
}

/// What a run (engine or emulator) ended with, in the terms both can tell.
#[derive(Clone, Debug, Default)]
pub struct DocumentOutcome {
    /// Check index, description, status.
    pub checks: Vec<(usize, String, CheckStatus)>,
    /// Per queue at the end: visible, in flight, delayed.
    pub queues: BTreeMap<String, (u64, u64, u64)>,
    /// Per queue: the highest `ApproximateReceiveCount` a receive returned.
    pub max_receive: BTreeMap<String, u64>,
    /// Per producer: sent, failed.
    pub producers: BTreeMap<String, (u64, u64)>,
    /// (consumer, what, message id), in order.
    log: Vec<(String, Did, String)>,
    /// Per consumer: its queue.
    queue_of: BTreeMap<String, String>,
    origins: BTreeMap<String, Origin>,
    /// `stopped: …` when the run stopped early.
    pub stopped: Option<String>,
}

impl DocumentOutcome {
    fn members(&self, who: &Who) -> BTreeSet<&String> {
        self.queue_of
            .iter()
            .filter(|(c, q)| who.consumer.as_ref() == Some(*c) || who.queue.as_ref() == Some(*q))
            .map(|(c, _)| c)
            .collect()
    }

    fn count(&self, who: &Who, did: Did) -> u64 {
        let members = self.members(who);
        self.log.iter().filter(|(c, d, _)| *d == did && members.contains(c)).count() as u64
    }

    fn duplicates(&self, who: &Who) -> u64 {
        let members = self.members(who);
        let mut done = BTreeSet::new();
        self.log
            .iter()
            .filter(|(c, d, id)| *d == Did::Processed && members.contains(c) && !done.insert(id.clone()))
            .count() as u64
    }

    /// Per message group and producer, first processings in send order.
    fn group_order(&self, who: &Who) -> bool {
        let members = self.members(who);
        let mut done = BTreeSet::new();
        let mut last: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (c, d, id) in &self.log {
            if *d != Did::Processed || !members.contains(c) || !done.insert(id.clone()) {
                continue;
            }
            let Some(o) = self.origins.get(id) else { continue };
            let key = (o.group.clone().unwrap_or_default(), o.producer.clone());
            if last.insert(key, o.seq).is_some_and(|b| b > o.seq) {
                return false;
            }
        }
        true
    }
}

/// The engine run's outcome.
pub fn engine_outcome(run: &SqsRun) -> DocumentOutcome {
    let doc = run.document();
    let mut out = DocumentOutcome {
        checks: run.check_results().into_iter().map(|r| (r.index, r.description, r.status)).collect(),
        queue_of: doc.consumers.iter().map(|c| (c.name.clone(), c.queue.clone())).collect(),
        stopped: run.stopped().map(|s| s.message.clone()),
        ..DocumentOutcome::default()
    };
    for q in &doc.queues {
        let c = run.service().census(&q.name);
        out.queues.insert(q.name.clone(), (c.visible as u64, c.in_flight as u64, c.delayed as u64));
    }
    for p in &doc.producers {
        out.producers.insert(p.name.clone(), (0, 0));
    }
    for (_, e) in run.events() {
        match e {
            SqsEvent::Sent { producer, seq, message_id, group, .. } => {
                out.producers.entry(producer.clone()).or_default().0 += 1;
                out.origins.entry(message_id.clone()).or_insert(Origin {
                    producer: producer.clone(),
                    seq: *seq,
                    group: group.clone(),
                });
            }
            SqsEvent::Published { producer, .. } => out.producers.entry(producer.clone()).or_default().0 += 1,
            SqsEvent::SendFailed { producer, .. } => {
                out.producers.entry(producer.clone()).or_default().1 += 1
            }
            SqsEvent::Received { consumer, queue, message_id, receive_count, .. } => {
                let top = out.max_receive.entry(queue.clone()).or_insert(0);
                *top = (*top).max(u64::from(*receive_count));
                out.log.push((consumer.clone(), Did::Received, message_id.clone()));
            }
            SqsEvent::EmptyReceive { consumer, .. } => {
                out.log.push((consumer.clone(), Did::Empty, String::new()))
            }
            SqsEvent::Processed { consumer, message_id, .. } => {
                out.log.push((consumer.clone(), Did::Processed, message_id.clone()))
            }
            // A delete with an old handle succeeds too (the message stays): both count as a success.
            SqsEvent::Deleted { consumer, message_id, .. }
            | SqsEvent::DeleteKept { consumer, message_id, .. } => {
                out.log.push((consumer.clone(), Did::Deleted, message_id.clone()))
            }
            _ => {}
        }
    }
    out
}

/// The outcome as lines to diff: checks, each queue's counts at the end, highest receive count and
/// messages processed twice, producers' counts, each consumer's receives, processings and deletes. Empty receives are
/// left to the checks: how many a loop makes depends on the milliseconds of a real run.
pub fn outcome_lines(o: &DocumentOutcome) -> Vec<Line> {
    let line = |text: String| Line { step_line: 0, text };
    let mut out = Vec::new();
    for (index, description, status) in &o.checks {
        let status = match status {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Pending => "pending",
        };
        out.push(line(format!("check {} {status}: {description}", index + 1)));
    }
    for (q, (v, f, d)) in &o.queues {
        out.push(line(format!("queue {q} at the end: visible {v}, in flight {f}, delayed {d}")));
        let who = Who { consumer: None, queue: Some(q.clone()) };
        out.push(line(format!(
            "queue {q}: highest receive count {}, processed twice {}",
            o.max_receive.get(q).copied().unwrap_or(0),
            o.duplicates(&who)
        )));
    }
    for (p, (s, f)) in &o.producers {
        out.push(line(format!("producer {p}: sent {s}, failed {f}")));
    }
    for c in o.queue_of.keys() {
        let who = Who { consumer: Some(c.clone()), queue: None };
        out.push(line(format!(
            "consumer {c}: received {}, processed {}, deleted {}",
            o.count(&who, Did::Received),
            o.count(&who, Did::Processed),
            o.count(&who, Did::Deleted)
        )));
    }
    if let Some(s) = &o.stopped {
        out.push(line(format!("stopped: {s}")));
    }
    out
}

/// Compares an engine run and an emulator run of document `name`; differences an allow-list entry
/// covers (`scenario = name`, `line = 0`, `contains` a substring of the line) carry its reason.
pub fn compare(
    name: &str,
    engine: &DocumentOutcome,
    real: &DocumentOutcome,
    allow: &[AllowEntry],
) -> Vec<Difference> {
    let mut d = sim_kernel::diff::diff(&outcome_lines(engine), &outcome_lines(real), SIDES);
    sim_kernel::diff::apply_allow_list(name, &mut d, allow);
    d
}

/// An error an SQS call answered: its code and message.
#[derive(Clone, Debug)]
struct CallError {
    code: String,
    message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // An emulator's HTTP 500 comes with a whole HTML page: its first line says enough.
        let first = self.message.lines().next().unwrap_or("");
        write!(f, "{}: {first}", self.code)
    }
}

/// A request's id and its answer.
type Answer = (u64, Result<Value, CallError>);

/// The boto3 driver in `--serve` mode: requests by id, answers in any order.
struct Driver {
    child: Child,
    stdin: Option<ChildStdin>,
    answers: Receiver<Value>,
    /// Answers read while waiting for another one.
    early: BTreeMap<u64, Value>,
    next_id: u64,
}

impl Driver {
    fn start(endpoint: &str) -> Result<Driver, String> {
        let driver = std::env::var("BROKERLAB_SQS_DRIVER")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/sqs-driver/driver.py").to_string());
        let python = std::env::var("BROKERLAB_PYTHON").unwrap_or_else(|_| "python3".to_string());
        let mut child = Command::new(&python)
            .arg(&driver)
            .arg("--serve")
            .arg(format!("http://{endpoint}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {python} {driver}: {e}"))?;
        let stdout = child.stdout.take().ok_or("the driver has no stdout")?;
        let (tx, answers) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        Ok(Driver { stdin: child.stdin.take(), child, answers, early: BTreeMap::new(), next_id: 0 })
    }

    /// Sends a request; its answer comes with the returned id.
    fn request(&mut self, service: &str, op: &str, args: Value) -> Result<u64, String> {
        self.next_id += 1;
        let id = self.next_id;
        let line = json!({"id": id, "service": service, "op": op, "args": args}).to_string();
        let stdin = self.stdin.as_mut().ok_or("the driver's input is closed")?;
        writeln!(stdin, "{line}").and_then(|()| stdin.flush()).map_err(|e| format!("the driver: {e}"))?;
        Ok(id)
    }

    /// The next answer, waiting at most `wait`.
    fn next_answer(&mut self, wait: Duration) -> Result<Option<Answer>, String> {
        let first = self.early.keys().next().copied();
        let v = match first {
            Some(id) => self.early.remove(&id),
            None => match self.answers.recv_timeout(wait) {
                Ok(v) => Some(v),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Err("the SQS driver exited".to_string()),
            },
        };
        Ok(v.map(split_answer))
    }

    /// A request and its answer (other answers meanwhile are kept for [`Driver::next_answer`]).
    fn call(&mut self, service: &str, op: &str, args: Value) -> Result<Result<Value, CallError>, String> {
        let id = self.request(service, op, args)?;
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            if let Some(v) = self.early.remove(&id) {
                return Ok(split_answer(v).1);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("{op}: no answer from the SQS driver in {} s", REPLY_TIMEOUT.as_secs()));
            }
            match self.answers.recv_timeout(left) {
                Ok(v) => {
                    let got = v["id"].as_u64().unwrap_or(0);
                    self.early.insert(got, v);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err("the SQS driver exited".to_string()),
            }
        }
    }

    /// A call that must succeed (setting up the queues and topics).
    fn must(&mut self, service: &str, op: &str, args: Value) -> Result<Value, String> {
        self.call(service, op, args)?.map_err(|e| format!("{op}: {e}"))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn split_answer(v: Value) -> Answer {
    let id = v["id"].as_u64().unwrap_or(0);
    match v.get("error") {
        Some(e) => (
            id,
            Err(CallError {
                code: e["code"].as_str().unwrap_or("").to_string(),
                message: e["message"].as_str().unwrap_or("").to_string(),
            }),
        ),
        None => (id, Ok(v.get("reply").cloned().unwrap_or(Value::Null))),
    }
}

/// A message in a consumer's hands.
#[derive(Clone, Debug)]
struct Held {
    body: String,
    message_id: String,
    receipt_handle: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotStarted,
    /// The next receive at this time.
    Idle(u64),
    /// A receive in flight (its request id).
    Receiving(u64),
    /// Working on the batch's first message until this time.
    Working(u64),
    Stopped,
}

struct RealConsumer {
    spec: ConsumerSpec,
    /// The wait of its receives: its own, or the queue's `ReceiveMessageWaitTimeSeconds`.
    wait_seconds: i64,
    phase: Phase,
    stopping: bool,
    /// A graceful stop during a receive: what it brings back is made visible again at once.
    release_late: bool,
    /// The request id of its open receive.
    pending: Option<u64>,
    batch: VecDeque<Held>,
    heartbeat_at: Option<u64>,
}

/// One send of the engine's run, to make at the same time.
struct Send {
    at: u64,
    producer: usize,
    seq: u64,
    body: String,
    group: Option<String>,
}

/// A real run of a document: its outcome and a log of what happened (virtual times).
pub struct RealDocumentRun {
    pub outcome: DocumentOutcome,
    pub log: Vec<String>,
}

struct Player<'a> {
    doc: &'a SqsDocument,
    driver: Driver,
    started: Instant,
    urls: BTreeMap<String, String>,
    arns: BTreeMap<String, String>,
    topics: BTreeMap<String, String>,
    prng: Prng,
    outcome: DocumentOutcome,
    log: Vec<String>,
}

impl Player<'_> {
    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn say(&mut self, text: String) {
        let at = sim_kernel::clock::VirtualTime::from_millis(self.now());
        self.log.push(format!("{at} {text}"));
    }

    fn url(&self, queue: &str) -> String {
        self.urls.get(queue).cloned().unwrap_or_else(|| queue.to_string())
    }

    fn setup(&mut self) -> Result<(), String> {
        for q in &self.doc.queues {
            let reply = self.driver.must(
                "sqs",
                "create_queue",
                json!({"QueueName": q.name, "Attributes": q.attributes}),
            )?;
            let url = reply["QueueUrl"].as_str().unwrap_or_default().to_string();
            let attrs = self.driver.must(
                "sqs",
                "get_queue_attributes",
                json!({"QueueUrl": url, "AttributeNames": ["QueueArn"]}),
            )?;
            self.arns
                .insert(q.name.clone(), attrs["Attributes"]["QueueArn"].as_str().unwrap_or("").to_string());
            self.urls.insert(q.name.clone(), url);
        }
        for t in &self.doc.topics {
            let reply = self.driver.must("sns", "create_topic", json!({"Name": t.name}))?;
            let arn = reply["TopicArn"].as_str().unwrap_or_default().to_string();
            for s in &t.subscriptions {
                let mut attributes = Map::new();
                if s.raw_message_delivery {
                    attributes.insert("RawMessageDelivery".into(), "true".into());
                }
                if let Some(p) = &s.filter_policy {
                    let text = match p {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    attributes.insert("FilterPolicy".into(), text.into());
                }
                let endpoint = self.arns.get(&s.queue).cloned().unwrap_or_default();
                self.driver.must(
                    "sns",
                    "subscribe",
                    json!({"TopicArn": arn, "Protocol": "sqs", "Endpoint": endpoint, "Attributes": attributes}),
                )?;
            }
            self.topics.insert(t.name.clone(), arn);
        }
        Ok(())
    }

    fn send(&mut self, s: &Send, templates: &[ProducerTemplates]) -> Result<(), String> {
        let spec = &self.doc.producers[s.producer];
        let t = &templates[s.producer];
        let (name, seq) = (spec.name.clone(), s.seq);
        let var = |v: &MessageVar, out: &mut String| match v {
            MessageVar::Seq => out.push_str(&seq.to_string()),
            MessageVar::Producer => out.push_str(&name),
        };
        let mut attributes = Map::new();
        for (k, template) in &t.attributes {
            let value = template.render(&mut self.prng, var);
            attributes.insert(k.clone(), json!({"DataType": "String", "StringValue": value}));
        }
        let answer = if let Some(queue) = &spec.queue {
            let mut args = json!({"QueueUrl": self.url(queue), "MessageBody": s.body});
            if !attributes.is_empty() {
                args["MessageAttributes"] = Value::Object(attributes);
            }
            if let Some(d) = spec.delay_seconds {
                args["DelaySeconds"] = d.into();
            }
            if let Some(g) = &s.group {
                args["MessageGroupId"] = g.clone().into();
            }
            if let Some(d) = &t.deduplication {
                args["MessageDeduplicationId"] = d.render(&mut self.prng, var).into();
            }
            self.driver.call("sqs", "send_message", args)?
        } else {
            let topic = spec.topic.clone().unwrap_or_default();
            let mut args =
                json!({"TopicArn": self.topics.get(&topic).cloned().unwrap_or(topic), "Message": s.body});
            if !attributes.is_empty() {
                args["MessageAttributes"] = Value::Object(attributes);
            }
            self.driver.call("sns", "publish", args)?
        };
        let counts = self.outcome.producers.entry(name.clone()).or_default();
        match answer {
            Ok(reply) => {
                counts.0 += 1;
                let id = reply["MessageId"].as_str().unwrap_or_default().to_string();
                self.outcome.origins.entry(id.clone()).or_insert(Origin {
                    producer: name.clone(),
                    seq,
                    group: s.group.clone(),
                });
                self.say(format!("{name} send #{seq} {:?} id={id}", s.body));
            }
            Err(e) => {
                counts.1 += 1;
                self.say(format!("{name} send #{seq} failed: {e}"));
            }
        }
        Ok(())
    }

    fn receive(&mut self, c: &RealConsumer) -> Result<u64, String> {
        let mut args = json!({
            "QueueUrl": self.url(&c.spec.queue),
            "MessageSystemAttributeNames": ["All"],
        });
        if let Some(n) = c.spec.max_number_of_messages {
            args["MaxNumberOfMessages"] = n.into();
        }
        if let Some(v) = c.spec.visibility_timeout {
            args["VisibilityTimeout"] = v.into();
        }
        if let Some(w) = c.spec.wait_time_seconds {
            args["WaitTimeSeconds"] = w.into();
        }
        self.driver.request("sqs", "receive_message", args)
    }

    /// `ApproximateNumberOfMessages`, `…NotVisible`, `…Delayed` of a queue now.
    fn census(&mut self, queue: &str) -> Result<(u64, u64, u64), String> {
        let url = self.url(queue);
        let reply = self.driver.call(
            "sqs",
            "get_queue_attributes",
            json!({"QueueUrl": url, "AttributeNames": [
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed"]}),
        )?;
        let Ok(reply) = reply else { return Ok((0, 0, 0)) };
        let n = |k: &str| reply["Attributes"][k].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
        Ok((
            n("ApproximateNumberOfMessages"),
            n("ApproximateNumberOfMessagesNotVisible"),
            n("ApproximateNumberOfMessagesDelayed"),
        ))
    }

    /// The dead-letter queue of `queue` (its `RedrivePolicy` on the emulator).
    fn dead_letter_queue(&mut self, queue: &str) -> Result<Option<String>, String> {
        let url = self.url(queue);
        let reply = self.driver.call(
            "sqs",
            "get_queue_attributes",
            json!({"QueueUrl": url, "AttributeNames": ["RedrivePolicy"]}),
        )?;
        let policy = reply.ok().and_then(|r| r["Attributes"]["RedrivePolicy"].as_str().map(String::from));
        Ok(policy.and_then(|p| serde_json::from_str::<Value>(&p).ok()).and_then(|p| {
            p["deadLetterTargetArn"].as_str().map(|a| a.rsplit(':').next().unwrap_or("").to_string())
        }))
    }

    fn evaluate(&mut self, spec: &CheckSpec) -> Result<bool, String> {
        let holds = |n: u64| spec.expect.is_some_and(|e| e.holds(n));
        if let Some(q) = &spec.visible {
            return Ok(holds(self.census(&q.queue)?.0));
        }
        if let Some(q) = &spec.in_flight {
            return Ok(holds(self.census(&q.queue)?.1));
        }
        if let Some(q) = &spec.delayed {
            return Ok(holds(self.census(&q.queue)?.2));
        }
        if let Some(q) = &spec.dlq_depth {
            return match self.dead_letter_queue(&q.queue)? {
                Some(t) => {
                    let (a, b, c) = self.census(&t)?;
                    Ok(holds(a + b + c))
                }
                None => Ok(false),
            };
        }
        let o = &self.outcome;
        if let Some(q) = &spec.max_receive_count {
            return Ok(holds(o.max_receive.get(&q.queue).copied().unwrap_or(0)));
        }
        if let Some(w) = &spec.received {
            return Ok(holds(o.count(w, Did::Received)));
        }
        if let Some(w) = &spec.empty_receives {
            return Ok(holds(o.count(w, Did::Empty)));
        }
        if let Some(w) = &spec.processed {
            return Ok(holds(o.count(w, Did::Processed)));
        }
        if let Some(w) = &spec.deleted {
            return Ok(holds(o.count(w, Did::Deleted)));
        }
        if let Some(w) = &spec.duplicates_processed {
            return Ok(holds(o.duplicates(w)));
        }
        if let Some(w) = &spec.group_order {
            return Ok(o.group_order(w));
        }
        if let Some(p) = &spec.sent {
            return Ok(holds(o.producers.get(&p.producer).map_or(0, |c| c.0)));
        }
        if let Some(p) = &spec.failed {
            return Ok(holds(o.producers.get(&p.producer).map_or(0, |c| c.1)));
        }
        Ok(false)
    }

    /// A receive's answer for consumer `c`.
    fn received(&mut self, c: &mut RealConsumer, answer: Result<Value, CallError>) -> Result<(), String> {
        let now = self.now();
        let name = c.spec.name.clone();
        if c.phase == Phase::Stopped {
            // Stopped while the receive was open: a graceful stop gives its messages back at once.
            if c.release_late {
                if let Ok(reply) = &answer {
                    for m in reply["Messages"].as_array().cloned().unwrap_or_default() {
                        let handle = m["ReceiptHandle"].as_str().unwrap_or_default();
                        let args = json!({"QueueUrl": self.url(&c.spec.queue), "ReceiptHandle": handle, "VisibilityTimeout": 0});
                        let _ = self.driver.call("sqs", "change_message_visibility", args)?;
                        self.say(format!(
                            "{name} (stopped) gives back {} received by its last open poll",
                            m["Body"]
                        ));
                    }
                }
            }
            return Ok(());
        }
        let reply = match answer {
            Ok(r) => r,
            Err(e) => {
                self.say(format!("{name} receive failed: {e}"));
                c.phase = Phase::Idle(now + 1_000);
                return Ok(());
            }
        };
        let messages = reply["Messages"].as_array().cloned().unwrap_or_default();
        if messages.is_empty() {
            self.outcome.log.push((name.clone(), Did::Empty, String::new()));
            self.say(format!("{name} <- {} nothing", c.spec.queue));
            let default = if c.wait_seconds > 0 { 0 } else { 1_000 };
            let pause = c.spec.pause_when_empty.map_or(default, |p| p.0);
            c.phase = if c.stopping { Phase::Stopped } else { Phase::Idle(now + pause) };
            return Ok(());
        }
        for m in messages {
            let held = Held {
                body: m["Body"].as_str().unwrap_or_default().to_string(),
                message_id: m["MessageId"].as_str().unwrap_or_default().to_string(),
                receipt_handle: m["ReceiptHandle"].as_str().unwrap_or_default().to_string(),
            };
            let count: u64 =
                m["Attributes"]["ApproximateReceiveCount"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
            let top = self.outcome.max_receive.entry(c.spec.queue.clone()).or_insert(0);
            *top = (*top).max(count);
            self.outcome.log.push((name.clone(), Did::Received, held.message_id.clone()));
            self.say(format!(
                "{name} <- {} {:?} id={} receive-count={count}",
                c.spec.queue, held.body, held.message_id
            ));
            c.batch.push_back(held);
        }
        c.heartbeat_at = c.spec.heartbeat.as_ref().map(|h| now + h.every.0);
        c.phase = Phase::Working(now + c.spec.processing.draw(&mut self.prng));
        Ok(())
    }

    /// The batch's first message is done: processed (or failed), deleted, then the next one or a receive.
    fn processed(&mut self, c: &mut RealConsumer) -> Result<(), String> {
        let name = c.spec.name.clone();
        if let Some(m) = c.batch.pop_front() {
            if c.spec.fails_on.as_ref().is_some_and(|t| m.body.contains(t.as_str())) {
                self.say(format!("{name} processing {:?} failed; not deleted", m.body));
            } else {
                self.outcome.log.push((name.clone(), Did::Processed, m.message_id.clone()));
                self.say(format!("{name} processed {:?}", m.body));
                if c.spec.delete {
                    let args =
                        json!({"QueueUrl": self.url(&c.spec.queue), "ReceiptHandle": m.receipt_handle});
                    match self.driver.call("sqs", "delete_message", args)? {
                        Ok(_) => {
                            self.outcome.log.push((name.clone(), Did::Deleted, m.message_id.clone()));
                            self.say(format!("{name} deleted {:?}", m.body));
                        }
                        Err(e) => self.say(format!("{name} delete {:?} failed: {e}", m.body)),
                    }
                }
            }
        }
        let now = self.now();
        c.phase = if !c.batch.is_empty() {
            Phase::Working(now + c.spec.processing.draw(&mut self.prng))
        } else if c.stopping {
            self.say(format!("{name} stops polling"));
            Phase::Stopped
        } else {
            c.heartbeat_at = None;
            Phase::Idle(now)
        };
        Ok(())
    }

    fn heartbeat(&mut self, c: &mut RealConsumer) -> Result<(), String> {
        let Some(h) = c.spec.heartbeat.clone() else { return Ok(()) };
        for m in c.batch.clone() {
            let args = json!({"QueueUrl": self.url(&c.spec.queue), "ReceiptHandle": m.receipt_handle,
                "VisibilityTimeout": h.visibility_timeout});
            match self.driver.call("sqs", "change_message_visibility", args)? {
                Ok(_) => self.say(format!(
                    "{} change_message_visibility {:?} VisibilityTimeout={}",
                    c.spec.name, m.body, h.visibility_timeout
                )),
                Err(e) => {
                    self.say(format!("{} change_message_visibility {:?} failed: {e}", c.spec.name, m.body))
                }
            }
        }
        c.heartbeat_at = c.heartbeat_at.map(|t| t + h.every.0);
        Ok(())
    }

    fn fault(&mut self, i: usize, consumers: &mut [RealConsumer]) -> Result<(), String> {
        let f = self.doc.faults[i].clone();
        if let Some(name) = &f.consumer_crash {
            if let Some(c) = consumers.iter_mut().find(|c| &c.spec.name == name) {
                if !matches!(c.phase, Phase::Stopped | Phase::NotStarted) {
                    c.phase = Phase::Stopped;
                    c.stopping = true;
                    c.release_late = false;
                    c.batch.clear();
                    c.heartbeat_at = None;
                    self.say(format!("{name} crashed"));
                }
            }
        }
        if let Some(q) = &f.purge_queue {
            let answer = self.driver.call("sqs", "purge_queue", json!({"QueueUrl": self.url(q)}))?;
            self.say(format!("purge_queue {q}: {}", answer.map_or_else(|e| e.to_string(), |_| "ok".into())));
        }
        if let Some(m) = &f.start_message_move_task {
            let mut args = json!({"SourceArn": self.arns.get(&m.source).cloned().unwrap_or_default()});
            if let Some(d) = &m.destination {
                args["DestinationArn"] = self.arns.get(d).cloned().unwrap_or_default().into();
            }
            if let Some(n) = m.max_number_of_messages_per_second {
                args["MaxNumberOfMessagesPerSecond"] = n.into();
            }
            let answer = self.driver.call("sqs", "start_message_move_task", args)?;
            self.say(format!(
                "start_message_move_task {}: {}",
                m.source,
                answer.map_or_else(|e| e.to_string(), |_| "ok".into())
            ));
        }
        if let Some(s) = &f.set_queue_attributes {
            let args = json!({"QueueUrl": self.url(&s.name), "Attributes": s.attributes});
            let answer = self.driver.call("sqs", "set_queue_attributes", args)?;
            self.say(format!(
                "set_queue_attributes {}: {}",
                s.name,
                answer.map_or_else(|e| e.to_string(), |_| "ok".into())
            ));
        }
        Ok(())
    }
}

/// A producer's templates for what the send log does not keep (attributes, deduplication ids).
struct ProducerTemplates {
    attributes: Vec<(String, Template<MessageVar>)>,
    deduplication: Option<Template<MessageVar>>,
}

/// The sends of the engine's run, in time order (a failed send with the body its template gives).
fn sends_of(run: &SqsRun) -> Vec<Send> {
    let doc = run.document();
    let index = |name: &str| doc.producers.iter().position(|p| p.name == name);
    let mut prng = Prng::new(run.document().seed);
    let mut out = Vec::new();
    for (at, e) in run.events() {
        let (producer, seq, body, group) = match e {
            SqsEvent::Sent { producer, seq, body, group, .. } => {
                (producer, *seq, body.clone(), group.clone())
            }
            SqsEvent::Published { producer, seq, body, .. } => (producer, *seq, body.clone(), None),
            SqsEvent::SendFailed { producer, seq, .. } => {
                let Some(i) = index(producer) else { continue };
                let text = doc.producers[i].body.as_deref().unwrap_or("{producer}-{seq}");
                let body = Template::<MessageVar>::compile(text, ())
                    .map(|t| {
                        t.render(&mut prng, |v, out| match v {
                            MessageVar::Seq => out.push_str(&seq.to_string()),
                            MessageVar::Producer => out.push_str(producer),
                        })
                    })
                    .unwrap_or_default();
                (producer, *seq, body, None)
            }
            _ => continue,
        };
        let Some(i) = index(producer) else { continue };
        out.push(Send { at: at.as_millis(), producer: i, seq, body, group });
    }
    out
}

/// Plays the document of `engine` (already run) on the SQS endpoint at `uri` (`sqs://HOST:PORT`) in
/// real time. The emulator should be fresh (`scripts/real-sqs-tests.sh` resets moto before each one).
pub fn run_document_real(engine: &SqsRun, uri: &str, speed: u64) -> Result<RealDocumentRun, String> {
    let doc = engine.document();
    let refused = refusals(doc, speed);
    if !refused.is_empty() {
        return Err(format!("this document cannot be played on an emulator: {}", refused.join("; ")));
    }
    let endpoint =
        uri.strip_prefix("sqs://").ok_or("an SQS document runs against --broker sqs://HOST:PORT")?;
    let compile =
        |t: &str| Template::<MessageVar>::compile(t, ()).map_err(|e| format!("template {t:?}: {e}"));
    let mut templates = Vec::new();
    for p in &doc.producers {
        templates.push(ProducerTemplates {
            attributes: p
                .attributes
                .iter()
                .map(|(k, v)| Ok((k.clone(), compile(v)?)))
                .collect::<Result<_, String>>()?,
            deduplication: p.deduplication_id.as_deref().map(compile).transpose()?,
        });
    }
    let sends = sends_of(engine);
    let mut player = Player {
        doc,
        driver: Driver::start(endpoint)?,
        started: Instant::now(),
        urls: BTreeMap::new(),
        arns: BTreeMap::new(),
        topics: BTreeMap::new(),
        prng: Prng::new(doc.seed ^ 0x5153_5f61_6374_6f72),
        outcome: DocumentOutcome {
            queue_of: doc.consumers.iter().map(|c| (c.name.clone(), c.queue.clone())).collect(),
            producers: doc.producers.iter().map(|p| (p.name.clone(), (0, 0))).collect(),
            ..DocumentOutcome::default()
        },
        log: Vec::new(),
    };
    player.setup()?;
    let mut consumers: Vec<RealConsumer> = doc
        .consumers
        .iter()
        .map(|c| {
            let queue_wait = doc
                .queues
                .iter()
                .find(|q| q.name == c.queue)
                .and_then(|q| q.attributes.get("ReceiveMessageWaitTimeSeconds"))
                .and_then(|w| w.parse().ok())
                .unwrap_or(0);
            RealConsumer {
                spec: c.clone(),
                wait_seconds: c.wait_time_seconds.unwrap_or(queue_wait),
                phase: Phase::NotStarted,
                stopping: false,
                release_late: false,
                pending: None,
                batch: VecDeque::new(),
                heartbeat_at: None,
            }
        })
        .collect();
    let end = doc.duration.0;
    let mut checks: Vec<(usize, u64)> =
        doc.checks.iter().enumerate().map(|(i, c)| (i, c.at.map_or(end, |a| a.0))).collect();
    checks.sort_by_key(|(i, at)| (*at, *i));
    let mut results: BTreeMap<usize, bool> = BTreeMap::new();
    let (mut next_send, mut next_check) = (0, 0);
    let mut faults_done = vec![false; doc.faults.len()];
    let mut stops_done = vec![false; doc.consumers.len()];
    // The clock starts once the queues exist, as the engine's run starts with them.
    player.started = Instant::now();
    loop {
        let now = player.now();
        // In the engine's order at one instant: sends, consumers' starts and stops, faults, then checks.
        while next_send < sends.len() && sends[next_send].at <= now {
            player.send(&sends[next_send], &templates)?;
            next_send += 1;
        }
        for (i, c) in consumers.iter_mut().enumerate() {
            if c.phase == Phase::NotStarted && c.spec.start.0 <= now && !c.stopping {
                player.say(format!("{} starts polling", c.spec.name));
                c.phase = Phase::Idle(now);
            }
            if !stops_done[i] && c.spec.stop.is_some_and(|s| s.0 <= now) {
                stops_done[i] = true;
                c.stopping = true;
                match c.phase {
                    Phase::NotStarted | Phase::Idle(_) => c.phase = Phase::Stopped,
                    Phase::Receiving(_) => {
                        c.phase = Phase::Stopped;
                        c.release_late = true;
                    }
                    Phase::Working(_) | Phase::Stopped => {}
                }
                if c.phase == Phase::Stopped {
                    player.say(format!("{} stops polling", c.spec.name));
                }
            }
        }
        for (i, done) in faults_done.iter_mut().enumerate() {
            if !*done && doc.faults[i].at.0 <= now {
                *done = true;
                player.fault(i, &mut consumers)?;
            }
        }
        for c in consumers.iter_mut() {
            if c.heartbeat_at.is_some_and(|t| t <= now) && matches!(c.phase, Phase::Working(_)) {
                player.heartbeat(c)?;
            }
            if let Phase::Working(t) = c.phase {
                if t <= now {
                    player.processed(c)?;
                }
            }
            if let Phase::Idle(t) = c.phase {
                if t <= player.now() {
                    let id = player.receive(c)?;
                    c.pending = Some(id);
                    c.phase = Phase::Receiving(id);
                }
            }
        }
        while next_check < checks.len() && checks[next_check].1 <= now {
            let (i, _) = checks[next_check];
            let pass = player.evaluate(&doc.checks[i])?;
            results.insert(i, pass);
            next_check += 1;
        }
        if now >= end && next_check == checks.len() {
            break;
        }
        // Answers to receives, until the next thing due.
        let mut due = end;
        for s in sends.get(next_send..).unwrap_or_default().iter().take(1) {
            due = due.min(s.at);
        }
        for (_, at) in checks.get(next_check..).unwrap_or_default().iter().take(1) {
            due = due.min(*at);
        }
        for c in &consumers {
            match c.phase {
                Phase::Idle(t) | Phase::Working(t) => due = due.min(t),
                Phase::NotStarted => due = due.min(c.spec.start.0),
                _ => {}
            }
            if let Some(t) = c.heartbeat_at {
                due = due.min(t);
            }
        }
        let wait = Duration::from_millis(due.saturating_sub(player.now())).min(TICK);
        if let Some((id, answer)) = player.driver.next_answer(wait)? {
            if let Some(c) = consumers.iter_mut().find(|c| c.pending == Some(id)) {
                c.pending = None;
                player.received(c, answer)?;
            }
        }
    }
    for q in &doc.queues {
        let census = player.census(&q.name)?;
        player.outcome.queues.insert(q.name.clone(), census);
    }
    let engine_checks = engine.check_results();
    player.outcome.checks = engine_checks
        .into_iter()
        .map(|r| {
            let status = match results.get(&r.index) {
                Some(true) => CheckStatus::Pass,
                Some(false) => CheckStatus::Fail,
                None => CheckStatus::Pending,
            };
            (r.index, r.description, status)
        })
        .collect();
    Ok(RealDocumentRun { outcome: player.outcome, log: player.log })
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::sqs::scenario::SqsRunOptions;

    fn tutorial(name: &str) -> SqsRun {
        let path = format!(
            "{}/../../tests/scenarios/sqs-tutorials/{name}/document.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("tutorial");
        let mut run = SqsRun::from_json(&text, SqsRunOptions::default()).expect("valid");
        run.run();
        run
    }

    #[test]
    fn refusals_name_the_document_field() {
        let run = tutorial("fifo-order-and-deduplication");
        assert!(refusals(run.document(), 1).is_empty());
        let mut doc = run.document().clone();
        doc.producers[0].deduplication_id = Some("order-{random:3}".into());
        doc.duration = sim_kernel::values::Millis(MAX_REAL_DURATION_MS + 1);
        let r = refusals(&doc, 2);
        assert_eq!(r.len(), 3, "{r:?}");
        assert!(r[0].starts_with("--speed 2:"), "{r:?}");
        assert!(r[1].starts_with("duration:"), "{r:?}");
        assert!(r[2].starts_with("producers[0].deduplication_id:"), "{r:?}");
    }

    #[test]
    fn the_sends_are_the_engines() {
        let run = tutorial("fifo-order-and-deduplication");
        let sends = sends_of(&run);
        assert_eq!(sends.len(), 15);
        assert!(sends.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(sends.iter().all(|s| s.group.as_deref().is_some_and(|g| g.starts_with("customer-"))));
        assert_eq!(sends[0].body, "order-1");
    }

    #[test]
    fn the_outcome_lines_of_an_engine_run() {
        let run = tutorial("visibility-timeout");
        let o = engine_outcome(&run);
        let lines: Vec<String> = outcome_lines(&o).into_iter().map(|l| l.text).collect();
        let golden = format!("{}/tests/sqs-document-outcome.txt", env!("CARGO_MANIFEST_DIR"));
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if std::env::var_os("BROKERLAB_BLESS").is_some() {
            std::fs::write(&golden, lines.join("\n") + "\n").expect("write the golden");
        } else {
            assert_eq!(lines.join("\n") + "\n", want, "{golden} (BROKERLAB_BLESS=1 rewrites it)");
        }
    }
}
