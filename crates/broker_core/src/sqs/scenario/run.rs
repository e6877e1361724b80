//! The SQS document runtime: producers and consumers as clients of the engine's [`Sqs`] service (and
//! SNS's fan-out) on the kernel's time loop, faults and operator actions at times, checks at times, a
//! transcript and a JSON report.
//!
//! A consumer is a `ReceiveMessage` loop. A receive that returns messages is followed by their
//! processing, one after the other, each then deleted (or not); heartbeats extend the visibility timeout
//! of the messages not finished yet; the next receive follows the last message. A long poll (a wait
//! above 0) that finds nothing stays open: the runtime looks again for it after everything that happens
//! while it waits, and it returns at the first look that finds messages, or empty when its wait ends.
//!
//! Calls can also be made by hand at the run's current instant ([`hand`]: the SQS page's forms), as
//! the caller [`HAND`], with the same answers and the same ledger.
//!
//! # Invariants (checked after every instant; a break stops the run with the reason)
//! - The engine's own ([`Sqs::check_invariants`]).
//! - Every message the run has seen is in exactly one of: visible, in flight or delayed in exactly one
//!   queue (its own, or another one it was moved to: a dead-letter queue, or back), deleted, expired
//!   (its retention period ran out) or purged; a message leaves the queues only by one of those.
//! - Time never goes back; a check is decided at its time and never changes.

use super::document::{CheckSpec, ConsumerSpec, MessageVar, ProducerSpec, SqsDocument, Who};
use crate::sqs::queue::{queue_url, MessageState};
use crate::sqs::sns::{topic_arn, Publish, Sns};
use crate::sqs::types::{AttributeData, AttributeValue, ReceiveMessage, Received, SendMessage};
use crate::sqs::Sqs;
use serde::Serialize;
use sim_kernel::checks::{CheckResult, CheckStatus};
use sim_kernel::clock::{DeadlineQueue, VirtualTime};
use sim_kernel::located::{Pos, Problem, ScenarioError};
use sim_kernel::pace::Pace;
use sim_kernel::prng::Prng;
use sim_kernel::runtime::{self, Run, RunClock};
use sim_kernel::template::Template;
use sim_kernel::transcript::{end_line, StopInfo};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

mod hand;
pub use hand::{HandDelete, HandReceive, HAND};

/// The runaway guard's default: the most firings at one instant.
const MAX_FIRINGS: u64 = 100_000;

/// Something an actor or the scenario does at a later instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wake {
    Send(usize),
    Start(usize),
    /// A consumer's next `ReceiveMessage` (its poll number, so a stale one is ignored).
    Poll(usize, u64),
    /// A long poll's wait ends.
    WaitEnds(usize, u64),
    /// The message being processed is done.
    Processed(usize, u64),
    Heartbeat(usize, u64),
    Stop(usize),
    Fault(usize),
    /// A long poll made by hand ends its wait (its index in the receives by hand).
    HandWaitEnds(usize),
}

/// One thing that happened, as the transcript and the report show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SqsEvent {
    Sent {
        producer: String,
        seq: u64,
        queue: String,
        body: String,
        message_id: String,
        group: Option<String>,
        deduplicated: bool,
    },
    Published {
        producer: String,
        seq: u64,
        topic: String,
        body: String,
        message_id: String,
    },
    SendFailed {
        producer: String,
        seq: u64,
        error: String,
    },
    Started {
        consumer: String,
    },
    Received {
        consumer: String,
        queue: String,
        body: String,
        message_id: String,
        receive_count: u32,
        group: Option<String>,
    },
    EmptyReceive {
        consumer: String,
        queue: String,
        waited_ms: u64,
    },
    ReceiveFailed {
        consumer: String,
        error: String,
    },
    Processed {
        consumer: String,
        body: String,
        message_id: String,
    },
    ProcessingFailed {
        consumer: String,
        body: String,
        message_id: String,
    },
    Deleted {
        consumer: String,
        body: String,
        message_id: String,
    },
    /// `DeleteMessage` succeeded but the message stays: the handle was not its latest (received again).
    DeleteKept {
        consumer: String,
        body: String,
        message_id: String,
    },
    DeleteFailed {
        consumer: String,
        body: String,
        error: String,
    },
    Extended {
        consumer: String,
        body: String,
        visibility_timeout: i64,
    },
    ExtendFailed {
        consumer: String,
        body: String,
        error: String,
    },
    Crashed {
        consumer: String,
    },
    Stopped {
        consumer: String,
    },
    Moved {
        message_id: String,
        from: String,
        to: String,
        receive_count: u32,
    },
    Expired {
        message_id: String,
        queue: String,
    },
    Redriven {
        message_id: String,
        from: String,
    },
    Action {
        what: String,
    },
}

/// A body as the transcript shows it: quoted, and cut after 40 characters (the report has it whole), so
/// an SNS envelope stays on a readable line.
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 40;
        let chars = self.0.chars().count();
        if chars <= SHOWN {
            return write!(f, "{:?}", self.0);
        }
        let head: String = self.0.chars().take(SHOWN).collect();
        write!(f, "{head:?}… ({chars} characters)")
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn group_text(g: &Option<String>) -> String {
    g.as_ref().map(|g| format!(" group={g}")).unwrap_or_default()
}

impl fmt::Display for SqsEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SqsEvent::*;
        match self {
            Sent { producer, seq, queue, body, message_id, group, deduplicated } => {
                write!(f, "{producer} send #{seq} {} -> {queue} id={}{}", Shown(body), short(message_id), group_text(group))?;
                if *deduplicated {
                    write!(f, " (deduplicated: the id of the earlier copy, nothing stored)")?;
                }
                Ok(())
            }
            Published { producer, seq, topic, body, message_id } => {
                write!(f, "{producer} publish #{seq} {} -> topic {topic} id={}", Shown(body), short(message_id))
            }
            SendFailed { producer, seq, error } => write!(f, "{producer} send #{seq} failed: {error}"),
            Started { consumer } => write!(f, "{consumer} starts polling"),
            Received { consumer, queue, body, message_id, receive_count, group } => write!(
                f,
                "{consumer} <- {queue} {} id={} receive-count={receive_count}{}",
                Shown(body),
                short(message_id),
                group_text(group)
            ),
            EmptyReceive { consumer, queue, waited_ms: 0 } => write!(f, "{consumer} <- {queue} nothing (short poll)"),
            EmptyReceive { consumer, queue, waited_ms } => {
                write!(f, "{consumer} <- {queue} nothing (waited {})", VirtualTime::from_millis(*waited_ms))
            }
            ReceiveFailed { consumer, error } => write!(f, "{consumer} receive failed: {error}"),
            Processed { consumer, body, .. } => write!(f, "{consumer} processed {}", Shown(body)),
            ProcessingFailed { consumer, body, .. } => write!(f, "{consumer} processing {} failed; not deleted", Shown(body)),
            Deleted { consumer, body, .. } => write!(f, "{consumer} deleted {}", Shown(body)),
            DeleteKept { consumer, body, .. } => write!(
                f,
                "{consumer} delete {} succeeded but the message stays: it was received again since (an old receipt handle)",
                Shown(body)
            ),
            DeleteFailed { consumer, body, error } => write!(f, "{consumer} delete {} failed: {error}", Shown(body)),
            Extended { consumer, body, visibility_timeout } => {
                write!(f, "{consumer} change_message_visibility {} VisibilityTimeout={visibility_timeout}", Shown(body))
            }
            ExtendFailed { consumer, body, error } => {
                write!(f, "{consumer} change_message_visibility {} failed: {error}", Shown(body))
            }
            Crashed { consumer } => write!(f, "{consumer} crashed"),
            Stopped { consumer } => write!(f, "{consumer} stops polling"),
            Moved { message_id, from, to, receive_count } => {
                write!(f, "message {} moved {from} -> {to} (receive-count={receive_count})", short(message_id))
            }
            Expired { message_id, queue } => write!(f, "message {} expired in {queue} (retention period)", short(message_id)),
            Redriven { message_id, from } => write!(
                f,
                "message {} redriven out of {from} by the move task (sent on as a new message, a new id)",
                short(message_id)
            ),
            Action { what } => write!(f, "{what}"),
        }
    }
}

/// Where a message the run has seen is: exactly one of these.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fate {
    /// In this queue, in one of its states (visible, in flight, delayed).
    Stored(String),
    Deleted,
    Expired,
    Purged,
    /// Taken out of a dead-letter queue by a message move task, which sends a new message (a new id)
    /// in its place.
    Redriven,
}

/// Who sent a message, for the order checks.
#[derive(Clone, Debug)]
struct Origin {
    producer: usize,
    seq: u64,
    group: Option<String>,
}

struct ProducerActor {
    spec: ProducerSpec,
    pace: Pace,
    body: Template<MessageVar>,
    group: Option<Template<MessageVar>>,
    deduplication: Option<Template<MessageVar>>,
    attributes: Vec<(String, Template<MessageVar>)>,
    seq: u64,
    sent: u64,
    failed: u64,
}

struct ConsumerActor {
    spec: ConsumerSpec,
    running: bool,
    stopping: bool,
    /// Incremented by every receive and by a crash: wakes of an older one are stale.
    poll_no: u64,
    /// A long poll open until this time.
    waiting: Option<(VirtualTime, VirtualTime)>,
    /// The messages of the last receive not finished yet, the first being worked on.
    batch: VecDeque<Received>,
    wait_seconds: i64,
}

/// What a consumer did with a message, in order: the consumer-side checks count these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Did {
    Received,
    Empty,
    Processed,
    Deleted,
}

struct CheckSlot {
    spec: CheckSpec,
    at: VirtualTime,
    result: CheckResult,
}

/// Options a runner gives (the seed and the runaway guard override the document's).
#[derive(Clone, Debug, Default)]
pub struct SqsRunOptions {
    pub seed: Option<u64>,
    pub max_firings_per_instant: Option<u64>,
}

/// A document being played.
pub struct SqsRun {
    doc: SqsDocument,
    seed: u64,
    clock: RunClock<Wake>,
    sqs: Sqs,
    sns: Sns,
    prng: Prng,
    producers: Vec<ProducerActor>,
    consumers: Vec<ConsumerActor>,
    checks: Vec<CheckSlot>,
    events: Vec<(VirtualTime, SqsEvent)>,
    ledger: BTreeMap<String, Fate>,
    origins: BTreeMap<String, Origin>,
    /// (consumer, what, message id), in order.
    log: Vec<(usize, Did, String)>,
    max_receive: BTreeMap<String, u32>,
    /// When each message the ledger knows was first sent (its retention counts from there).
    sent_at: BTreeMap<String, VirtualTime>,
    /// How many messages each move task (by handle) had moved at the last reconciliation.
    moves_seen: BTreeMap<String, u64>,
    failure: Option<String>,
    /// Messages sent by hand so far ([`hand`]).
    hand_sends: u64,
    /// Receives made by hand, answered or open.
    hand_receives: Vec<HandReceive>,
}

impl SqsRun {
    /// Reads a document and builds its run (queues and topics created at 0).
    pub fn from_json(text: &str, options: SqsRunOptions) -> Result<SqsRun, ScenarioError> {
        let text = sim_kernel::located::strip_bom(text);
        let doc = SqsDocument::parse(text)?;
        SqsRun::build(doc, options).map_err(|p| p.into_error(Some(text)))
    }

    fn build(doc: SqsDocument, options: SqsRunOptions) -> Result<SqsRun, Problem> {
        let seed = options.seed.unwrap_or(doc.seed);
        let mut sqs = Sqs::new(seed);
        sqs.set_short_poll_sampling(doc.short_poll_sampling);
        let mut sns = Sns::new();
        for (i, q) in doc.queues.iter().enumerate() {
            sqs.create_queue(&q.name, &q.attributes)
                .map_err(|e| Problem::new(format!("queues[{i}]"), format!("CreateQueue: {e}")))?;
        }
        for (i, t) in doc.topics.iter().enumerate() {
            let arn = sns
                .create_topic(&t.name)
                .map_err(|e| Problem::new(format!("topics[{i}].name"), format!("CreateTopic: {e}")))?;
            for (j, s) in t.subscriptions.iter().enumerate() {
                let mut attributes = BTreeMap::new();
                if s.raw_message_delivery {
                    attributes.insert("RawMessageDelivery".to_string(), "true".to_string());
                }
                if let Some(p) = &s.filter_policy {
                    let text = match p {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    attributes.insert("FilterPolicy".to_string(), text);
                }
                let endpoint = sqs.queue(&s.queue).map(|q| q.arn()).unwrap_or_default();
                sns.subscribe(&mut sqs, &arn, "sqs", &endpoint, &attributes).map_err(|e| {
                    Problem::new(format!("topics[{i}].subscriptions[{j}]"), format!("Subscribe: {e}"))
                })?;
            }
        }
        let compile = |t: &str| Template::<MessageVar>::compile(t, ()).expect("validated");
        let mut wakes = DeadlineQueue::new();
        let mut producers = Vec::new();
        for (i, p) in doc.producers.iter().enumerate() {
            let mut pace = p.pace();
            if p.count != Some(0) {
                if let Some(t) = pace.next() {
                    wakes.schedule(VirtualTime::from_millis(t), Wake::Send(i));
                }
            }
            producers.push(ProducerActor {
                spec: p.clone(),
                pace,
                body: compile(p.body.as_deref().unwrap_or("{producer}-{seq}")),
                group: p.group.as_deref().map(compile),
                deduplication: p.deduplication_id.as_deref().map(compile),
                attributes: p.attributes.iter().map(|(k, v)| (k.clone(), compile(v))).collect(),
                seq: 0,
                sent: 0,
                failed: 0,
            });
        }
        let mut consumers = Vec::new();
        for (i, c) in doc.consumers.iter().enumerate() {
            let queue_wait =
                sqs.queue(&c.queue).map_or(0, |q| q.attributes.receive_message_wait_time_seconds);
            wakes.schedule(VirtualTime::from_millis(c.start.0), Wake::Start(i));
            if let Some(stop) = c.stop {
                wakes.schedule(VirtualTime::from_millis(stop.0), Wake::Stop(i));
            }
            consumers.push(ConsumerActor {
                spec: c.clone(),
                running: false,
                stopping: false,
                poll_no: 0,
                waiting: None,
                batch: VecDeque::new(),
                wait_seconds: c.wait_time_seconds.unwrap_or(queue_wait),
            });
        }
        for (i, f) in doc.faults.iter().enumerate() {
            wakes.schedule(VirtualTime::from_millis(f.at.0), Wake::Fault(i));
        }
        let end = VirtualTime::from_millis(doc.duration.0);
        let checks = doc
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| CheckSlot {
                spec: c.clone(),
                at: c.at.map_or(end, |a| VirtualTime::from_millis(a.0)),
                result: CheckResult {
                    index: i,
                    description: describe(c),
                    status: CheckStatus::Pending,
                    observed: String::new(),
                    reason: String::new(),
                },
            })
            .collect();
        Ok(SqsRun {
            seed,
            clock: RunClock::new(end, options.max_firings_per_instant.unwrap_or(MAX_FIRINGS), wakes),
            sqs,
            sns,
            // The actors' draws (templates, processing times) are apart from the engine's (ids,
            // handles, the short-poll sample), so adding a consumer does not change the ids.
            prng: Prng::new(seed ^ 0x5153_5f61_6374_6f72),
            producers,
            consumers,
            checks,
            events: Vec::new(),
            ledger: BTreeMap::new(),
            origins: BTreeMap::new(),
            log: Vec::new(),
            max_receive: BTreeMap::new(),
            sent_at: BTreeMap::new(),
            moves_seen: BTreeMap::new(),
            failure: None,
            hand_sends: 0,
            hand_receives: Vec::new(),
            doc,
        })
    }

    /// Plays the document to its end.
    pub fn run(&mut self) {
        let end = self.clock.end;
        runtime::run_until(self, end);
    }

    pub fn events(&self) -> &[(VirtualTime, SqsEvent)] {
        &self.events
    }

    pub fn check_results(&self) -> Vec<CheckResult> {
        self.checks.iter().map(|c| c.result.clone()).collect()
    }

    pub fn stopped(&self) -> Option<&StopInfo> {
        self.clock.stopped.as_ref()
    }

    pub fn service(&self) -> &Sqs {
        &self.sqs
    }

    pub fn document(&self) -> &SqsDocument {
        &self.doc
    }

    /// Plays every instant up to `to` (clamped to the end), for a page that moves through the run.
    pub fn run_until(&mut self, to: VirtualTime) {
        runtime::run_until(self, to);
    }

    /// The instant played up to.
    pub fn time(&self) -> VirtualTime {
        self.clock.now
    }

    /// The document's end (its `duration`).
    pub fn end_time(&self) -> VirtualTime {
        self.clock.end
    }

    /// The SNS topics and their subscriptions, for views.
    pub fn sns(&self) -> &Sns {
        &self.sns
    }

    fn push(&mut self, event: SqsEvent) {
        self.events.push((self.clock.now, event));
    }

    fn send(&mut self, i: usize) {
        let now = self.clock.now;
        let p = &mut self.producers[i];
        p.seq += 1;
        let seq = p.seq;
        let name = p.spec.name.clone();
        let prng = &mut self.prng;
        let var = |v: &MessageVar, out: &mut String| match v {
            MessageVar::Seq => out.push_str(&seq.to_string()),
            MessageVar::Producer => out.push_str(&name),
        };
        let body = p.body.render(prng, var);
        let group = p.group.as_ref().map(|t| t.render(prng, var));
        let deduplication_id = p.deduplication.as_ref().map(|t| t.render(prng, var));
        let attributes: BTreeMap<String, AttributeValue> = p
            .attributes
            .iter()
            .map(|(k, t)| {
                let value = AttributeValue {
                    data_type: "String".to_string(),
                    value: AttributeData::String(t.render(prng, var)),
                };
                (k.clone(), value)
            })
            .collect();
        let more = p.spec.count.is_none_or(|c| seq < c);
        if more {
            if let Some(t) = p.pace.next() {
                self.clock.wakes.schedule(VirtualTime::from_millis(t).max(now), Wake::Send(i));
            }
        }
        let spec = self.producers[i].spec.clone();
        if let Some(queue) = &spec.queue {
            let request = SendMessage {
                body: body.clone(),
                delay_seconds: spec.delay_seconds,
                attributes,
                group_id: group.clone(),
                deduplication_id,
            };
            match self.sqs.send_message(&queue_url(queue), &request) {
                Ok(sent) => {
                    self.producers[i].sent += 1;
                    let deduplicated = self.ledger.contains_key(&sent.message_id);
                    if !deduplicated {
                        self.ledger.insert(sent.message_id.clone(), Fate::Stored(queue.clone()));
                        self.origins.insert(
                            sent.message_id.clone(),
                            Origin { producer: i, seq, group: group.clone() },
                        );
                    }
                    self.push(SqsEvent::Sent {
                        producer: spec.name,
                        seq,
                        queue: queue.clone(),
                        body,
                        message_id: sent.message_id,
                        group,
                        deduplicated,
                    });
                }
                Err(e) => {
                    self.producers[i].failed += 1;
                    self.push(SqsEvent::SendFailed { producer: spec.name, seq, error: e.to_string() });
                }
            }
        } else if let Some(topic) = &spec.topic {
            let request = Publish { message: body.clone(), subject: None, attributes };
            match self.sns.publish(&mut self.sqs, &topic_arn(topic), &request) {
                Ok(message_id) => {
                    self.producers[i].sent += 1;
                    self.push(SqsEvent::Published {
                        producer: spec.name,
                        seq,
                        topic: topic.clone(),
                        body,
                        message_id,
                    });
                }
                Err(e) => {
                    self.producers[i].failed += 1;
                    self.push(SqsEvent::SendFailed { producer: spec.name, seq, error: e.to_string() });
                }
            }
        }
    }

    fn start_consumer(&mut self, i: usize) {
        let c = &mut self.consumers[i];
        if c.running || c.stopping {
            return;
        }
        c.running = true;
        let name = c.spec.name.clone();
        self.push(SqsEvent::Started { consumer: name });
        self.poll(i);
    }

    fn request(&self, i: usize) -> ReceiveMessage {
        let c = &self.consumers[i];
        ReceiveMessage {
            max_number_of_messages: c.spec.max_number_of_messages,
            visibility_timeout: c.spec.visibility_timeout,
            wait_time_seconds: c.spec.wait_time_seconds,
            system_attribute_names: vec!["All".to_string()],
            message_attribute_names: Vec::new(),
            receive_request_attempt_id: None,
        }
    }

    /// A `ReceiveMessage` (one look); returns whether it got messages (then the batch is being worked on).
    fn look(&mut self, i: usize) -> Option<bool> {
        let request = self.request(i);
        let url = queue_url(&self.consumers[i].spec.queue);
        match self.sqs.receive_message_without_waiting(&url, &request) {
            Ok(got) if got.is_empty() => Some(false),
            Ok(got) => {
                self.take_batch(i, got);
                Some(true)
            }
            Err(e) => {
                let name = self.consumers[i].spec.name.clone();
                self.push(SqsEvent::ReceiveFailed { consumer: name, error: e.to_string() });
                None
            }
        }
    }

    fn poll(&mut self, i: usize) {
        let c = &mut self.consumers[i];
        if !c.running {
            return;
        }
        if c.stopping {
            c.running = false;
            let name = c.spec.name.clone();
            self.push(SqsEvent::Stopped { consumer: name });
            return;
        }
        c.poll_no += 1;
        let (no, wait) = (c.poll_no, c.wait_seconds);
        match self.look(i) {
            Some(true) => {}
            Some(false) if wait > 0 => {
                let until = self.clock.now.plus_millis(wait as u64 * 1000);
                self.consumers[i].waiting = Some((self.clock.now, until));
                self.clock.wakes.schedule(until, Wake::WaitEnds(i, no));
            }
            Some(false) => self.empty(i, 0),
            None => self.pause_after_failure(i),
        }
    }

    /// An empty receive: the loop pauses, then receives again.
    fn empty(&mut self, i: usize, waited_ms: u64) {
        let c = &self.consumers[i];
        let (consumer, queue) = (c.spec.name.clone(), c.spec.queue.clone());
        self.log.push((i, Did::Empty, String::new()));
        self.push(SqsEvent::EmptyReceive { consumer, queue, waited_ms });
        self.pause(i);
    }

    fn pause(&mut self, i: usize) {
        let c = &self.consumers[i];
        let default = if c.wait_seconds > 0 { 0 } else { 1_000 };
        // No pause after an empty long poll is no spin: the next poll waits again.
        let pause = c.spec.pause_when_empty.map_or(default, |p| p.0);
        self.clock.wakes.schedule(self.clock.now.plus_millis(pause), Wake::Poll(i, c.poll_no));
    }

    /// A receive that failed: the loop tries again a second later (a loop that retried at once would
    /// spin at one instant).
    fn pause_after_failure(&mut self, i: usize) {
        let c = &self.consumers[i];
        self.clock.wakes.schedule(self.clock.now.plus_millis(1_000), Wake::Poll(i, c.poll_no));
    }

    fn wait_ends(&mut self, i: usize, no: u64) {
        let c = &self.consumers[i];
        if !c.running || c.poll_no != no {
            return;
        }
        let Some((since, _)) = c.waiting else { return };
        self.consumers[i].waiting = None;
        match self.look(i) {
            Some(true) => {}
            Some(false) => self.empty(i, self.clock.now.as_millis() - since.as_millis()),
            None => self.pause_after_failure(i),
        }
    }

    fn take_batch(&mut self, i: usize, got: Vec<Received>) {
        let name = self.consumers[i].spec.name.clone();
        let queue = self.consumers[i].spec.queue.clone();
        for m in &got {
            let count: u32 =
                m.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(0);
            let top = self.max_receive.entry(queue.clone()).or_insert(0);
            *top = (*top).max(count);
            self.log.push((i, Did::Received, m.message_id.clone()));
            self.push(SqsEvent::Received {
                consumer: name.clone(),
                queue: queue.clone(),
                body: m.body.clone(),
                message_id: m.message_id.clone(),
                receive_count: count,
                group: m.attributes.get("MessageGroupId").cloned(),
            });
        }
        let c = &mut self.consumers[i];
        c.waiting = None;
        c.batch = got.into();
        let no = c.poll_no;
        if let Some(h) = &c.spec.heartbeat {
            let at = self.clock.now.plus_millis(h.every.0);
            self.clock.wakes.schedule(at, Wake::Heartbeat(i, no));
        }
        self.work_on_next(i);
    }

    fn work_on_next(&mut self, i: usize) {
        let c = &self.consumers[i];
        if c.batch.is_empty() {
            self.clock.wakes.schedule(self.clock.now, Wake::Poll(i, c.poll_no));
            return;
        }
        let no = c.poll_no;
        let took = c.spec.processing.draw(&mut self.prng);
        self.clock.wakes.schedule(self.clock.now.plus_millis(took), Wake::Processed(i, no));
    }

    fn processed(&mut self, i: usize, no: u64) {
        let c = &mut self.consumers[i];
        if !c.running || c.poll_no != no {
            return;
        }
        let Some(m) = c.batch.pop_front() else { return };
        let spec = c.spec.clone();
        let (consumer, body, message_id) = (spec.name.clone(), m.body.clone(), m.message_id.clone());
        if spec.fails_on.as_ref().is_some_and(|t| m.body.contains(t.as_str())) {
            self.push(SqsEvent::ProcessingFailed { consumer, body, message_id });
        } else {
            self.log.push((i, Did::Processed, message_id.clone()));
            self.push(SqsEvent::Processed {
                consumer: consumer.clone(),
                body: body.clone(),
                message_id: message_id.clone(),
            });
            if spec.delete {
                match self.sqs.delete_message(&queue_url(&spec.queue), &m.receipt_handle) {
                    Ok(()) => {
                        let stays = self
                            .sqs
                            .queue(&spec.queue)
                            .is_some_and(|q| q.messages.values().any(|s| s.message_id == message_id));
                        if stays {
                            self.push(SqsEvent::DeleteKept { consumer, body, message_id });
                        } else {
                            self.ledger.insert(message_id.clone(), Fate::Deleted);
                            self.log.push((i, Did::Deleted, message_id.clone()));
                            self.push(SqsEvent::Deleted { consumer, body, message_id });
                        }
                    }
                    Err(e) => self.push(SqsEvent::DeleteFailed { consumer, body, error: e.to_string() }),
                }
            }
        }
        self.work_on_next(i);
    }

    fn heartbeat(&mut self, i: usize, no: u64) {
        let c = &self.consumers[i];
        if !c.running || c.poll_no != no || c.batch.is_empty() {
            return;
        }
        let Some(h) = c.spec.heartbeat.clone() else { return };
        let url = queue_url(&c.spec.queue);
        let consumer = c.spec.name.clone();
        let batch: Vec<Received> = c.batch.iter().cloned().collect();
        for m in batch {
            let body = m.body.clone();
            match self.sqs.change_message_visibility(&url, &m.receipt_handle, h.visibility_timeout) {
                Ok(()) => self.push(SqsEvent::Extended {
                    consumer: consumer.clone(),
                    body,
                    visibility_timeout: h.visibility_timeout,
                }),
                Err(e) => self.push(SqsEvent::ExtendFailed {
                    consumer: consumer.clone(),
                    body,
                    error: e.to_string(),
                }),
            }
        }
        self.clock.wakes.schedule(self.clock.now.plus_millis(h.every.0), Wake::Heartbeat(i, no));
    }

    fn stop_consumer(&mut self, i: usize) {
        let c = &mut self.consumers[i];
        if !c.running {
            c.stopping = true;
            return;
        }
        c.stopping = true;
        // An open long poll ends now; a batch in hand is finished first.
        if c.waiting.take().is_some() || c.batch.is_empty() {
            c.poll_no += 1;
            c.running = false;
            let name = c.spec.name.clone();
            self.push(SqsEvent::Stopped { consumer: name });
        }
    }

    fn fault(&mut self, i: usize) {
        let f = self.doc.faults[i].clone();
        if let Some(name) = &f.consumer_crash {
            let Some(k) = self.consumers.iter().position(|c| &c.spec.name == name) else { return };
            let c = &mut self.consumers[k];
            if c.running {
                c.running = false;
                c.stopping = true;
                c.poll_no += 1;
                c.waiting = None;
                c.batch.clear();
                self.push(SqsEvent::Crashed { consumer: name.clone() });
            }
        }
        if let Some(q) = &f.purge_queue {
            let what = match self.sqs.purge_queue(&queue_url(q)) {
                Ok(()) => {
                    for fate in self.ledger.values_mut() {
                        if *fate == Fate::Stored(q.clone()) {
                            *fate = Fate::Purged;
                        }
                    }
                    format!("purge_queue {q}")
                }
                Err(e) => format!("purge_queue {q} failed: {e}"),
            };
            self.push(SqsEvent::Action { what });
        }
        if let Some(m) = &f.start_message_move_task {
            let arn = |name: &str| self.sqs.queue(name).map(|q| q.arn()).unwrap_or_default();
            let source = arn(&m.source);
            let destination = m.destination.as_deref().map(arn);
            let to = m.destination.clone().unwrap_or_else(|| "its source queues".to_string());
            let what = match self.sqs.start_message_move_task(
                &source,
                destination.as_deref(),
                m.max_number_of_messages_per_second,
            ) {
                Ok(_) => format!("start_message_move_task {} -> {to}", m.source),
                Err(e) => format!("start_message_move_task {} failed: {e}", m.source),
            };
            self.push(SqsEvent::Action { what });
        }
        if let Some(s) = &f.set_queue_attributes {
            let what = match self.sqs.set_queue_attributes(&queue_url(&s.name), &s.attributes) {
                Ok(()) => format!(
                    "set_queue_attributes {} {}",
                    s.name,
                    s.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
                ),
                Err(e) => format!("set_queue_attributes {} failed: {e}", s.name),
            };
            self.push(SqsEvent::Action { what });
        }
    }

    /// Open long polls look again (after anything that happened at this instant), in consumer order.
    fn look_again(&mut self) {
        for i in 0..self.consumers.len() {
            if self.consumers[i].running && self.consumers[i].waiting.is_some() {
                if let Some(false) | None = self.look(i) {
                    // Still waiting (a failed look keeps the poll open until its wait ends).
                }
            }
        }
        self.look_again_by_hand();
    }

    /// The engine's invariants and the ledger's; a break stops the run with the reason.
    fn verify(&mut self) {
        if self.clock.stopped.is_some() {
            return;
        }
        let broken = self.sqs.check_invariants().and_then(|()| self.reconcile());
        if let Err(e) = broken {
            self.clock.stopped = Some(StopInfo {
                pos: Pos::new(0, 0),
                at: self.clock.now,
                message: format!("invariant broken: {e}"),
            });
        }
    }

    /// The ledger against the queues: every message in exactly one place; what left a queue was deleted,
    /// purged, or expired; what moved is reported.
    fn reconcile(&mut self) -> Result<(), String> {
        let now = self.clock.now;
        let mut seen: BTreeMap<String, (String, u32, MessageState, VirtualTime)> = BTreeMap::new();
        for q in self.sqs.queues() {
            for m in q.messages.values() {
                let place = (q.name.clone(), m.receive_count, m.state(now), m.sent);
                if let Some((other, ..)) = seen.insert(m.message_id.clone(), place) {
                    return Err(format!("message {} is in {other} and in {}", m.message_id, q.name));
                }
            }
        }
        for (id, (_, _, _, sent)) in &seen {
            self.sent_at.insert(id.clone(), *sent);
        }
        // Messages the move tasks took out of their source queues since the last look, by queue.
        let mut redriven: BTreeMap<String, u64> = BTreeMap::new();
        for t in self.sqs.move_tasks() {
            let before = self.moves_seen.insert(t.handle.clone(), t.moved).unwrap_or(0);
            let source = t.source_arn.rsplit(':').next().unwrap_or("").to_string();
            *redriven.entry(source).or_insert(0) += t.moved.saturating_sub(before);
        }
        let mut events = Vec::new();
        for (id, fate) in self.ledger.iter_mut() {
            match (&*fate, seen.remove(id)) {
                (Fate::Stored(q), Some((place, count, ..))) => {
                    if *q != place {
                        events.push(SqsEvent::Moved {
                            message_id: id.clone(),
                            from: q.clone(),
                            to: place.clone(),
                            receive_count: count,
                        });
                        *fate = Fate::Stored(place);
                    }
                }
                (Fate::Stored(q), None) if redriven.get(q).is_some_and(|n| *n > 0) => {
                    if let Some(n) = redriven.get_mut(q) {
                        *n -= 1;
                    }
                    events.push(SqsEvent::Redriven { message_id: id.clone(), from: q.clone() });
                    *fate = Fate::Redriven;
                }
                (Fate::Stored(q), None) => {
                    // Gone without a delete or a purge: only its retention period may have taken it
                    // (checked below).
                    events.push(SqsEvent::Expired { message_id: id.clone(), queue: q.clone() });
                    *fate = Fate::Expired;
                }
                (gone, Some((place, ..))) => {
                    return Err(format!("message {id} is {gone:?} and yet stored in {place}"));
                }
                (_, None) => {}
            }
        }
        // Messages the run did not send itself (SNS deliveries) join the ledger where they are.
        for (id, (place, ..)) in seen {
            self.ledger.insert(id, Fate::Stored(place));
        }
        for e in events {
            if let SqsEvent::Expired { message_id, queue } = &e {
                // An expiry is only honest once the retention period has run out; the queue's current
                // period is an upper bound on what it was when the message was sent.
                let sent = self.sent_at.get(message_id).copied().unwrap_or(VirtualTime::ZERO);
                let retention =
                    self.sqs.queue(queue).map_or(0, |q| q.attributes.message_retention_period as u64 * 1000);
                if sent.plus_millis(retention) > now && self.sqs.queue(queue).is_some() {
                    return Err(format!(
                        "message {message_id} left {queue} without a delete, a purge or its retention period"
                    ));
                }
            }
            self.push(e);
        }
        Ok(())
    }
}

impl SqsRun {
    /// The consumers a check names (one, or every consumer of a queue).
    fn members(&self, who: &Who) -> BTreeSet<usize> {
        (0..self.consumers.len())
            .filter(|&i| {
                let spec = &self.consumers[i].spec;
                who.consumer.as_ref().is_some_and(|c| *c == spec.name)
                    || who.queue.as_ref().is_some_and(|q| *q == spec.queue)
            })
            .collect()
    }

    fn count(&self, who: &Who, did: Did) -> u64 {
        let members = self.members(who);
        self.log.iter().filter(|(i, d, _)| *d == did && members.contains(i)).count() as u64
    }

    fn census(&self, queue: &str) -> (usize, usize, usize) {
        let c = self.sqs.census(queue);
        (c.visible, c.in_flight, c.delayed)
    }

    /// (observed, pass, reason).
    fn evaluate(&self, spec: &CheckSpec) -> (String, bool, String) {
        let expect = spec.expect;
        let number = |n: u64| -> (String, bool, String) {
            let pass = expect.is_some_and(|e| e.holds(n));
            let reason = expect.map(|e| format!("expected {e}")).unwrap_or_default();
            (n.to_string(), pass, reason)
        };
        if let Some(q) = &spec.visible {
            return number(self.census(&q.queue).0 as u64);
        }
        if let Some(q) = &spec.in_flight {
            return number(self.census(&q.queue).1 as u64);
        }
        if let Some(q) = &spec.delayed {
            return number(self.census(&q.queue).2 as u64);
        }
        if let Some(q) = &spec.dlq_depth {
            let target = self
                .sqs
                .queue(&q.queue)
                .and_then(|q| q.attributes.redrive_policy.as_ref())
                .map(|(_, p)| p.dead_letter_target_arn.rsplit(':').next().unwrap_or("").to_string());
            return match target {
                Some(t) => {
                    let (a, b, c) = self.census(&t);
                    number((a + b + c) as u64)
                }
                None => {
                    ("no dead-letter queue".to_string(), false, format!("{} has no RedrivePolicy", q.queue))
                }
            };
        }
        if let Some(q) = &spec.max_receive_count {
            return number(u64::from(self.max_receive.get(&q.queue).copied().unwrap_or(0)));
        }
        if let Some(w) = &spec.received {
            return number(self.count(w, Did::Received));
        }
        if let Some(w) = &spec.empty_receives {
            return number(self.count(w, Did::Empty));
        }
        if let Some(w) = &spec.processed {
            return number(self.count(w, Did::Processed));
        }
        if let Some(w) = &spec.deleted {
            return number(self.count(w, Did::Deleted));
        }
        if let Some(w) = &spec.duplicates_processed {
            let members = self.members(w);
            let mut done = BTreeSet::new();
            let twice = self
                .log
                .iter()
                .filter(|(i, d, id)| *d == Did::Processed && members.contains(i) && !done.insert(id.clone()))
                .count();
            return number(twice as u64);
        }
        if let Some(w) = &spec.group_order {
            let members = self.members(w);
            let mut done = BTreeSet::new();
            // Per (group, producer): the last send number processed.
            let mut last: BTreeMap<(String, usize), u64> = BTreeMap::new();
            for (i, d, id) in &self.log {
                if *d != Did::Processed || !members.contains(i) || !done.insert(id.clone()) {
                    continue;
                }
                let Some(o) = self.origins.get(id) else { continue };
                let key = (o.group.clone().unwrap_or_default(), o.producer);
                let before = last.insert(key.clone(), o.seq);
                if let Some(b) = before.filter(|b| *b > o.seq) {
                    let producer = &self.producers[o.producer].spec.name;
                    return (
                        format!("group {:?}: {producer} #{} processed after #{b}", key.0, o.seq),
                        false,
                        "out of order".to_string(),
                    );
                }
            }
            return ("in order".to_string(), true, String::new());
        }
        if let Some(p) = &spec.sent {
            let a = self.producers.iter().find(|a| a.spec.name == p.producer).expect("validated");
            return number(a.sent);
        }
        if let Some(p) = &spec.failed {
            let a = self.producers.iter().find(|a| a.spec.name == p.producer).expect("validated");
            return number(a.failed);
        }
        ("-".to_string(), false, "no check".to_string())
    }

    fn settle(&mut self, i: usize) {
        let spec = self.checks[i].spec.clone();
        let (observed, pass, reason) = self.evaluate(&spec);
        let r = &mut self.checks[i].result;
        r.observed = observed;
        r.status = if pass { CheckStatus::Pass } else { CheckStatus::Fail };
        r.reason = if pass { String::new() } else { reason };
    }

    /// The transcript: one line per event, the end, each queue's counts, each actor's, the checks.
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        for (at, e) in &self.events {
            out.push_str(&format!("{at} {e}\n"));
        }
        if let Some(stop) = &self.clock.stopped {
            out.push_str(&stop.transcript_line());
            out.push('\n');
        }
        let at = self.clock.now;
        out.push_str(&end_line(at));
        out.push('\n');
        for q in self.sqs.queues() {
            let (v, f, d) = self.census(&q.name);
            out.push_str(&format!("{at} queue {} visible={v} in-flight={f} delayed={d}\n", q.name));
        }
        let mut fates = [0u64; 4];
        for fate in self.ledger.values() {
            match fate {
                Fate::Deleted => fates[0] += 1,
                Fate::Expired => fates[1] += 1,
                Fate::Purged => fates[2] += 1,
                Fate::Redriven => fates[3] += 1,
                Fate::Stored(_) => {}
            }
        }
        out.push_str(&format!(
            "{at} messages deleted={} expired={} purged={} redriven={}\n",
            fates[0], fates[1], fates[2], fates[3]
        ));
        for p in &self.producers {
            out.push_str(&format!("{at} producer {} sent={} failed={}\n", p.spec.name, p.sent, p.failed));
        }
        for (i, c) in self.consumers.iter().enumerate() {
            let n = |did: Did| self.log.iter().filter(|(k, d, _)| *k == i && *d == did).count();
            out.push_str(&format!(
                "{at} consumer {} received={} processed={} deleted={} empty-receives={}\n",
                c.spec.name,
                n(Did::Received),
                n(Did::Processed),
                n(Did::Deleted),
                n(Did::Empty)
            ));
        }
        for c in &self.checks {
            out.push_str(&format!("{at} {}\n", c.result.line()));
        }
        out
    }

    /// The JSON report (the kernel's envelope).
    pub fn to_json(&self) -> String {
        sim_kernel::transcript::report_json(
            "sqs",
            self.seed,
            self.clock.now,
            self.clock.stopped.as_ref(),
            self.events.iter().map(|(at, e)| (*at, e)),
            self.check_results(),
        )
    }
}

fn describe(spec: &CheckSpec) -> String {
    if let Some(d) = &spec.description {
        return d.clone();
    }
    let at = spec.at.map_or("at the end".to_string(), |a| format!("at {}", VirtualTime::from_millis(a.0)));
    let expect = spec.expect.map(|e| format!(" {e}")).unwrap_or_default();
    let who = |w: &Who| match (&w.consumer, &w.queue) {
        (Some(c), _) => c.clone(),
        (_, Some(q)) => format!("the consumers of {q}"),
        _ => String::new(),
    };
    let what = if let Some(q) = &spec.visible {
        format!("messages visible in {}", q.queue)
    } else if let Some(q) = &spec.in_flight {
        format!("messages in flight in {}", q.queue)
    } else if let Some(q) = &spec.delayed {
        format!("messages delayed in {}", q.queue)
    } else if let Some(q) = &spec.dlq_depth {
        format!("messages in the dead-letter queue of {}", q.queue)
    } else if let Some(q) = &spec.max_receive_count {
        format!("highest receive count seen on {}", q.queue)
    } else if let Some(w) = &spec.received {
        format!("messages received by {}", who(w))
    } else if let Some(w) = &spec.empty_receives {
        format!("empty receives of {}", who(w))
    } else if let Some(w) = &spec.processed {
        format!("messages processed by {}", who(w))
    } else if let Some(w) = &spec.deleted {
        format!("messages deleted by {}", who(w))
    } else if let Some(w) = &spec.duplicates_processed {
        format!("messages processed again by {}", who(w))
    } else if let Some(w) = &spec.group_order {
        format!("per-group order of processing by {}", who(w))
    } else if let Some(p) = &spec.sent {
        format!("messages sent by {}", p.producer)
    } else if let Some(p) = &spec.failed {
        format!("sends failed for {}", p.producer)
    } else {
        String::new()
    };
    format!("{at} {what}{expect}")
}

impl Run for SqsRun {
    type Wake = Wake;

    fn clock(&self) -> &RunClock<Wake> {
        &self.clock
    }
    fn clock_mut(&mut self) -> &mut RunClock<Wake> {
        &mut self.clock
    }
    fn fire(&mut self, wake: Wake) {
        self.sqs.advance_to(self.clock.now);
        match wake {
            Wake::Send(i) => self.send(i),
            Wake::Start(i) => self.start_consumer(i),
            Wake::Poll(i, no) => {
                if self.consumers[i].poll_no == no && self.consumers[i].waiting.is_none() {
                    self.poll(i)
                }
            }
            Wake::WaitEnds(i, no) => self.wait_ends(i, no),
            Wake::Processed(i, no) => self.processed(i, no),
            Wake::Heartbeat(i, no) => self.heartbeat(i, no),
            Wake::Stop(i) => self.stop_consumer(i),
            Wake::Fault(i) => self.fault(i),
            Wake::HandWaitEnds(i) => self.hand_wait_ends(i),
        }
    }
    fn system_deadline(&self) -> Option<VirtualTime> {
        // The engine's timers matter to the run only while a long poll waits for a message to become
        // visible, and for retention and moves (which the ledger reports).
        self.sqs.next_deadline()
    }
    fn advance_system(&mut self, to: VirtualTime) {
        self.sqs.advance_to(to);
        // What the engine's own timers did (moves, expiries) is told before the actors act on it.
        self.verify();
    }
    fn collect(&mut self) {}
    fn drain(&mut self) {
        self.look_again();
    }
    fn settle_checks(&mut self, due: impl Fn(VirtualTime) -> bool) {
        for i in 0..self.checks.len() {
            if self.checks[i].result.status == CheckStatus::Pending && due(self.checks[i].at) {
                self.settle(i);
            }
        }
    }
    fn next_check_due(&self) -> Option<VirtualTime> {
        self.checks.iter().filter(|c| c.result.status == CheckStatus::Pending).map(|c| c.at).min()
    }
    fn take_failure(&mut self) -> Option<String> {
        self.failure.take()
    }
    fn instant_done(&mut self, _firings: u64) {
        self.verify();
    }
}

/// Runs an SQS document and returns its transcript, or its error located in the text.
pub fn run_document_transcript(text: &str) -> Result<String, String> {
    let mut run = SqsRun::from_json(text, SqsRunOptions::default()).map_err(|e| e.to_string())?;
    run.run();
    Ok(run.transcript())
}
