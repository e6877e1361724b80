//! The SQS page's state, in plain Rust (tested natively): a document, its run played up to the page's
//! time, and what the views show of it — each queue's visible / in-flight / delayed counts, every
//! message with its visibility clock, FIFO message groups as lanes (blocked while one of their messages
//! is in flight), the dead-letter edges with receive counts, SNS topics with their subscriptions.
//!
//! Invariants: the run is always the document played from 0 to `time` with the learner's calls by hand
//! ([`super::ops`]) done at their instants, so going back rebuilds it and plays it again — the engine is
//! deterministic, so the state at a time never depends on how the page got there.
//! Every count and state shown is read from the engine ([`SqsRun::service`]), never worked out again here.

use super::explain::{DeadLettered, EmptyReceive};
use super::ops::{OpError, SqsOp};
use crate::persist::permalink;
use crate::shell::{keep_applied, Applied};
use broker_core::scenario::document::ModelName;
use broker_core::scenario::sim::{CheckResult, CheckStatus};
use broker_core::sqs::queue::{MessageState, Queue, StoredMessage};
use broker_core::sqs::scenario::{SqsEvent, SqsRun, SqsRunOptions};
use broker_core::sqs::service::Census;
use broker_core::VirtualTime;
use std::collections::BTreeMap;

/// A bundled SQS document: its id (`?doc=`), its title and its text.
pub struct Bundled {
    pub id: &'static str,
    pub title: &'static str,
    pub text: &'static str,
}

/// The documents the SQS page offers: the tutorials of `tests/scenarios/sqs-tutorials/` (the same files
/// the goldens and the moto comparison play). The first is the visibility timeout.
pub const BUNDLED: &[Bundled] = &[
    Bundled {
        id: "visibility-timeout",
        title: "Tutorial: the visibility timeout (work longer than the timeout is done twice)",
        text: include_str!("../../tests/scenarios/sqs-tutorials/visibility-timeout/document.json"),
    },
    Bundled {
        id: "long-and-short-polling",
        title: "Tutorial: long versus short polling",
        text: include_str!("../../tests/scenarios/sqs-tutorials/long-and-short-polling/document.json"),
    },
    Bundled {
        id: "dead-letter-queue-and-redrive",
        title: "Tutorial: a dead-letter queue, and redrive back",
        text: include_str!("../../tests/scenarios/sqs-tutorials/dead-letter-queue-and-redrive/document.json"),
    },
    Bundled {
        id: "fifo-order-and-deduplication",
        title: "Tutorial: FIFO ordering and deduplication",
        text: include_str!("../../tests/scenarios/sqs-tutorials/fifo-order-and-deduplication/document.json"),
    },
    Bundled {
        id: "sns-fan-out-with-filters",
        title: "Tutorial: SNS fan-out with filter policies",
        text: include_str!("../../tests/scenarios/sqs-tutorials/sns-fan-out-with-filters/document.json"),
    },
];

/// One message as a queue shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageView {
    pub message_id: String,
    pub body: String,
    pub state: MessageState,
    /// `ApproximateReceiveCount`.
    pub receive_count: u32,
    pub group: Option<String>,
    /// In flight or delayed: how long until it is visible again (its visibility clock, or its delay).
    pub remaining_ms: u64,
    /// The whole length of that clock: from the last receive (in flight) or the send (delayed) to when it
    /// becomes visible; 0 when visible.
    pub clock_ms: u64,
}

/// A FIFO queue's message group: its messages in order, blocked while one of them is in flight.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupLane {
    pub group: String,
    pub messages: Vec<MessageView>,
    pub blocked: bool,
}

/// Where a queue's redrive policy sends a message: the dead-letter queue, after how many receives, and
/// how many it moved there so far.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetterEdge {
    pub to: String,
    pub max_receive_count: u32,
    pub moved: usize,
}

/// A queue as the page draws it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueView {
    pub name: String,
    pub fifo: bool,
    pub visible: usize,
    pub in_flight: usize,
    pub delayed: usize,
    /// The queue's `VisibilityTimeout` in seconds.
    pub visibility_timeout: i64,
    pub dead_letter: Option<DeadLetterEdge>,
    /// In arrival order.
    pub messages: Vec<MessageView>,
    /// FIFO only, in the order groups first appear.
    pub groups: Vec<GroupLane>,
}

/// An SNS subscription: the queue it delivers to and its filter policy.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionView {
    pub queue: String,
    pub raw_message_delivery: bool,
    pub filter_policy: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TopicView {
    pub name: String,
    pub subscriptions: Vec<SubscriptionView>,
    /// Messages published to it so far.
    pub published: usize,
}

/// A message processed more than once, by whom.
#[derive(Clone, Debug, PartialEq)]
pub struct DoneTwice {
    pub body: String,
    pub message_id: String,
    pub by: Vec<String>,
}

/// A message a receive by hand returned, as the page lists it, with where it is now.
#[derive(Clone, Debug, PartialEq)]
pub struct HandRow {
    pub queue: String,
    pub received_at_ms: u64,
    pub body: String,
    pub message_id: String,
    pub receipt_handle: String,
    /// `ApproximateReceiveCount` when this receive returned it.
    pub receive_count: u32,
    /// Its state in that queue now; `None` once it left it (deleted, moved to a dead-letter queue, expired).
    pub state: Option<MessageState>,
    /// In flight or delayed: how long until it is visible again, and that clock's whole length.
    pub remaining_ms: u64,
    pub clock_ms: u64,
    /// Whether this receive is the message's latest (its handle the one that deletes it).
    pub latest: bool,
}

/// How many intervals the charts sample the run in.
pub const CHART_SAMPLES: u64 = 100;

/// Every queue's counts at one moment (in [`CountSeries::queues`]' order).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CountSample {
    pub at_ms: u64,
    pub counts: Vec<Census>,
}

/// Each queue's visible / in-flight / delayed counts over the whole run, as the engine counts them.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CountSeries {
    pub queues: Vec<String>,
    pub samples: Vec<CountSample>,
}

/// The page's session: the document and its run at the page's time.
pub struct SqsSession {
    /// The bundled document's id, when it is one.
    pub bundled: Option<&'static str>,
    pub text: String,
    /// What the learner did by hand, at its instant, in time order ([`super::ops`]).
    pub ops: Vec<Applied<SqsOp>>,
    run: SqsRun,
    /// The charts' samples over the whole run (with the calls by hand).
    pub counts: CountSeries,
    /// What the views count from the run's events, kept up to the run's last event.
    tally: EventTally,
}

/// What the page counts from the run's events — the messages done twice, the messages moved to each
/// dead-letter queue, the publishes of each topic, the empty receives and the dead-lettered messages the
/// explanations list — kept as the run plays: each event is read once,
/// when it is logged, not on every redraw (a redraw of a long run would read them all again).
///
/// Invariant: it holds what the first `read` events of the run say, and nothing else; a run played
/// again from 0 starts a new tally.
#[derive(Debug, Default)]
struct EventTally {
    /// How many of the run's events are counted.
    read: usize,
    /// Messages processed once so far: message id → the consumer that did it.
    done_once: BTreeMap<String, String>,
    /// Messages processed more than once, in the order their second processing happened.
    done_twice: Vec<DoneTwice>,
    /// Where each message of `done_twice` is in it, by message id.
    done_twice_at: BTreeMap<String, usize>,
    /// Messages moved by a redrive policy: (from, to) → how many.
    moved: BTreeMap<(String, String), usize>,
    /// Publishes per SNS topic.
    published: BTreeMap<String, usize>,
    /// The empty receives, in run order.
    empty_receives: Vec<EmptyReceive>,
    /// The messages moved to a dead-letter queue, in run order.
    dead_lettered: Vec<DeadLettered>,
}

impl EventTally {
    /// Counts the events logged since the last call.
    fn catch_up(&mut self, events: &[(VirtualTime, SqsEvent)]) {
        for (index, (at, e)) in events.iter().enumerate().skip(self.read) {
            match e {
                SqsEvent::Processed { consumer, body, message_id } => {
                    if let Some(&i) = self.done_twice_at.get(message_id) {
                        self.done_twice[i].by.push(consumer.clone());
                    } else if let Some(first) = self.done_once.remove(message_id) {
                        self.done_twice_at.insert(message_id.clone(), self.done_twice.len());
                        self.done_twice.push(DoneTwice {
                            body: body.clone(),
                            message_id: message_id.clone(),
                            by: vec![first, consumer.clone()],
                        });
                    } else {
                        self.done_once.insert(message_id.clone(), consumer.clone());
                    }
                }
                SqsEvent::Moved { message_id, from, to, receive_count } => {
                    *self.moved.entry((from.clone(), to.clone())).or_default() += 1;
                    // Its body: from the first receive or send of it logged before (once per move).
                    let body = events[..index]
                        .iter()
                        .find_map(|(_, e)| match e {
                            SqsEvent::Received { message_id: id, body, .. }
                            | SqsEvent::Sent { message_id: id, body, .. }
                                if id == message_id =>
                            {
                                Some(body.clone())
                            }
                            _ => None,
                        })
                        .unwrap_or_default();
                    self.dead_lettered.push(DeadLettered {
                        message_id: message_id.clone(),
                        body,
                        from: from.clone(),
                        to: to.clone(),
                        at_ms: at.as_millis(),
                        receive_count: *receive_count,
                    });
                }
                SqsEvent::EmptyReceive { consumer, queue, waited_ms } => {
                    self.empty_receives.push(EmptyReceive {
                        index,
                        at_ms: at.as_millis(),
                        consumer: consumer.clone(),
                        queue: queue.clone(),
                        waited_ms: *waited_ms,
                    })
                }
                SqsEvent::Published { topic, .. } => *self.published.entry(topic.clone()).or_default() += 1,
                _ => {}
            }
        }
        self.read = events.len();
    }
}

impl std::fmt::Debug for SqsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqsSession").field("name", &self.name()).finish_non_exhaustive()
    }
}

/// The queue name an ARN ends with.
fn name_of_arn(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

impl SqsSession {
    /// Opens a document at time 0; refuses it with the engine's error (`line:col`).
    pub fn open(text: &str, bundled: Option<&'static str>) -> Result<SqsSession, String> {
        let run = SqsRun::from_json(text, SqsRunOptions::default()).map_err(|e| e.to_string())?;
        let mut session = SqsSession {
            bundled,
            text: text.to_string(),
            ops: Vec::new(),
            run,
            counts: CountSeries::default(),
            tally: EventTally::default(),
        };
        session.counts = session.sample_counts();
        session.tally.catch_up(session.run.events());
        Ok(session)
    }

    /// A bundled document by id.
    pub fn bundled(id: &str) -> Option<SqsSession> {
        let b = BUNDLED.iter().find(|b| b.id == id)?;
        SqsSession::open(b.text, Some(b.id)).ok()
    }

    /// What the page calls the document: a bundled one's title, else "Opened document".
    pub fn name(&self) -> &'static str {
        let bundled = self.bundled.and_then(|id| BUNDLED.iter().find(|b| b.id == id));
        bundled.map_or("Opened document", |b| b.title)
    }

    /// A fresh run of the document at time 0, without the calls by hand (see [`SqsSession::replayed_to`]).
    pub fn replay(&self) -> Option<SqsRun> {
        SqsRun::from_json(&self.text, SqsRunOptions::default()).ok()
    }

    /// A fresh run played to `to_ms` with the calls by hand done at their instants: the state the page
    /// showed at `to_ms` (the explanations look at an earlier moment with it).
    pub fn replayed_to(&self, to_ms: u64) -> Option<SqsRun> {
        let mut run = self.replay()?;
        super::ops::play(&mut run, &self.ops, None, to_ms);
        Some(run)
    }

    /// Plays `run` (at `from_ms`) on to `to_ms`, with the calls by hand due on the way.
    pub fn play_on(&self, run: &mut SqsRun, from_ms: u64, to_ms: u64) {
        super::ops::play(run, &self.ops, Some(from_ms), to_ms);
    }

    /// Does a form's call now, through the engine; kept (in time order) so that replaying the run does it
    /// again at this instant. A refusal is the engine's, at its field, and nothing is kept.
    pub fn operate(&mut self, op: SqsOp) -> Result<String, OpError> {
        let now = self.time_ms();
        // After the run's own step at this instant, as a replay does it (a page just opened at 0 has not
        // played instant 0 yet).
        self.run.run_until(VirtualTime::from_millis(now));
        let applied = super::ops::apply(&mut self.run, &op);
        self.tally.catch_up(self.run.events());
        let said = applied?;
        keep_applied(&mut self.ops, now, op);
        self.counts = self.sample_counts();
        Ok(said)
    }

    /// Replaces the calls by hand (a reopened workspace's), each kept at its instant in time order, and
    /// plays the run afresh to time 0 with them (a [`SqsSession::seek`] then plays on).
    pub fn set_ops(&mut self, ops: Vec<Applied<SqsOp>>) {
        self.ops = Vec::with_capacity(ops.len());
        for a in ops {
            keep_applied(&mut self.ops, a.at, a.op);
        }
        if let Some(run) = self.replayed_to(0) {
            self.run = run;
            self.tally = EventTally::default();
        }
        self.tally.catch_up(self.run.events());
        self.counts = self.sample_counts();
    }

    /// Every queue's counts at [`CHART_SAMPLES`] + 1 moments from 0 to the end, from a run played afresh
    /// with the calls by hand.
    fn sample_counts(&self) -> CountSeries {
        let Some(mut run) = self.replay() else { return CountSeries::default() };
        let queues: Vec<String> = run.service().queues().map(|q| q.name.clone()).collect();
        let end = run.end_time().as_millis();
        let mut samples = Vec::new();
        let mut played = None;
        for i in 0..=CHART_SAMPLES {
            let at_ms = end * i / CHART_SAMPLES;
            super::ops::play(&mut run, &self.ops, played, at_ms);
            played = Some(at_ms);
            let counts = queues.iter().map(|q| run.service().census(q)).collect();
            samples.push(CountSample { at_ms, counts });
        }
        CountSeries { queues, samples }
    }

    /// The messages the receives by hand returned, the latest receive first, each with where it is now.
    pub fn hand_received(&self) -> Vec<HandRow> {
        let now = self.run.time();
        let mut rows = Vec::new();
        for r in self.run.hand_receives().iter().rev() {
            let Some(at) = r.answered_at else { continue };
            let stored = self.run.service().queue(&r.queue);
            for m in &r.messages {
                let count: u32 =
                    m.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(0);
                let here = stored.and_then(|q| q.messages.values().find(|s| s.message_id == m.message_id));
                let (state, remaining_ms, clock_ms) = match here {
                    Some(s) => {
                        let (remaining, clock) = clock_of(s, now);
                        (Some(s.state(now)), remaining, clock)
                    }
                    None => (None, 0, 0),
                };
                rows.push(HandRow {
                    queue: r.queue.clone(),
                    received_at_ms: at.as_millis(),
                    body: m.body.clone(),
                    message_id: m.message_id.clone(),
                    receipt_handle: m.receipt_handle.clone(),
                    receive_count: count,
                    state,
                    remaining_ms,
                    clock_ms,
                    latest: here.is_some_and(|s| s.receive_count == count),
                });
            }
        }
        rows
    }

    /// The long polls by hand still open: (queue, asked at ms, wait ends at ms).
    pub fn open_polls(&self) -> Vec<(String, u64, u64)> {
        self.run
            .hand_receives()
            .iter()
            .filter(|r| r.answered_at.is_none())
            .map(|r| (r.queue.clone(), r.asked_at.as_millis(), r.wait_until.as_millis()))
            .collect()
    }

    pub fn run(&self) -> &SqsRun {
        &self.run
    }

    pub fn time_ms(&self) -> u64 {
        self.run.time().as_millis()
    }

    pub fn end_ms(&self) -> u64 {
        self.run.end_time().as_millis()
    }

    /// Plays to `to_ms` (clamped to the end), doing the calls by hand due on the way; going back plays
    /// again from 0.
    pub fn seek(&mut self, to_ms: u64) {
        let to_ms = to_ms.min(self.end_ms());
        let mut from = Some(self.time_ms());
        if to_ms < self.time_ms() {
            match self.replay() {
                Some(run) => self.run = run,
                None => return,
            }
            self.tally = EventTally::default();
            from = None;
        }
        super::ops::play(&mut self.run, &self.ops, from, to_ms);
        self.tally.catch_up(self.run.events());
    }

    pub fn description(&self) -> &str {
        self.run.document().description.as_deref().unwrap_or("")
    }

    pub fn checks(&self) -> Vec<CheckResult> {
        self.run.check_results()
    }

    /// The run's events up to now, as the transcript words them.
    pub fn events(&self) -> Vec<(u64, String)> {
        self.run.events().iter().map(|(t, e)| (t.as_millis(), e.to_string())).collect()
    }

    pub fn stopped(&self) -> Option<String> {
        self.run.stopped().map(|s| s.message.clone())
    }

    /// Every queue, in name order, as the engine holds it now.
    pub fn queues(&self) -> Vec<QueueView> {
        let now = self.run.time();
        let service = self.run.service();
        service.queues().map(|q| queue_view(q, now, &self.tally.moved, service.census(&q.name))).collect()
    }

    /// The SNS topics and their subscriptions, with how many messages each topic got so far.
    pub fn topics(&self) -> Vec<TopicView> {
        self.run
            .sns()
            .topics()
            .map(|t| TopicView {
                name: t.name.clone(),
                subscriptions: t
                    .subscriptions
                    .iter()
                    .map(|s| SubscriptionView {
                        queue: name_of_arn(&s.endpoint).to_string(),
                        raw_message_delivery: s.raw_message_delivery,
                        filter_policy: s.filter_policy.clone(),
                    })
                    .collect(),
                published: self.tally.published.get(&t.name).copied().unwrap_or(0),
            })
            .collect()
    }

    /// The messages processed more than once so far (the visibility timeout's lesson), in the order their
    /// second processing happened.
    pub fn done_twice(&self) -> Vec<DoneTwice> {
        self.tally.done_twice.clone()
    }

    /// The empty receives of the run so far, in run order.
    pub fn empty_receives(&self) -> &[EmptyReceive] {
        &self.tally.empty_receives
    }

    /// The messages moved to a dead-letter queue so far, in run order.
    pub fn dead_lettered(&self) -> &[DeadLettered] {
        &self.tally.dead_lettered
    }
}

/// A message's clock now: (how long until it is visible again, the clock's whole length — from the last
/// receive when in flight, from the send when delayed); (0, 0) when visible.
fn clock_of(m: &StoredMessage, now: VirtualTime) -> (u64, u64) {
    let state = m.state(now);
    let from = match state {
        MessageState::Visible => return (0, 0),
        MessageState::InFlight => m.last_receive.unwrap_or(m.sent),
        MessageState::Delayed => m.sent,
    };
    (
        m.visible_at.as_millis().saturating_sub(now.as_millis()),
        m.visible_at.as_millis().saturating_sub(from.as_millis()),
    )
}

fn queue_view(
    q: &Queue,
    now: VirtualTime,
    moved: &BTreeMap<(String, String), usize>,
    census: broker_core::sqs::service::Census,
) -> QueueView {
    let messages: Vec<MessageView> = q
        .messages
        .values()
        .map(|m| {
            let state = m.state(now);
            let (remaining_ms, clock_ms) = clock_of(m, now);
            MessageView {
                message_id: m.message_id.clone(),
                body: m.body.clone(),
                state,
                receive_count: m.receive_count,
                group: m.group_id.clone(),
                remaining_ms,
                clock_ms,
            }
        })
        .collect();
    let mut groups: Vec<GroupLane> = Vec::new();
    if q.attributes.fifo {
        for m in &messages {
            let Some(g) = &m.group else { continue };
            let lane = match groups.iter().position(|l| l.group == *g) {
                Some(i) => &mut groups[i],
                None => {
                    groups.push(GroupLane { group: g.clone(), messages: Vec::new(), blocked: false });
                    groups.last_mut().expect("just pushed")
                }
            };
            lane.blocked |= m.state == MessageState::InFlight;
            lane.messages.push(m.clone());
        }
    }
    let dead_letter = q.attributes.redrive_policy.as_ref().map(|(_, p)| {
        let to = name_of_arn(&p.dead_letter_target_arn).to_string();
        let moved = moved.get(&(q.name.clone(), to.clone())).copied().unwrap_or(0);
        DeadLetterEdge { to, max_receive_count: p.max_receive_count, moved }
    });
    QueueView {
        name: q.name.clone(),
        fifo: q.attributes.fifo,
        visible: census.visible,
        in_flight: census.in_flight,
        delayed: census.delayed,
        visibility_timeout: q.attributes.visibility_timeout,
        dead_letter,
        messages,
        groups,
    }
}

/// What the SQS page does with a link or an imported file.
#[derive(Debug)]
pub enum Opening {
    /// Not a link: the page shows its bundled document.
    Nothing,
    /// An SQS document, opened at time 0.
    Open(Box<SqsSession>),
    /// Another model's document: the page of `model` opens `fragment` (a share link's).
    Forward { model: ModelName, fragment: String },
    /// Refused, as a sentence; nothing was run.
    Refused(String),
}

/// A scenario document's text: an SQS document opens here, another model's goes to its page, anything
/// else is refused with the parser's error (`line:col`) after `what`.
pub fn open_document(text: String, what: &str) -> Opening {
    match broker_core::scenario::document::model_of(&text) {
        Ok(model) if model != ModelName::Sqs => {
            return Opening::Forward { model, fragment: permalink::encode(&text) };
        }
        _ => {}
    }
    match SqsSession::open(&text, None) {
        Ok(s) => Opening::Open(Box::new(s)),
        Err(e) => Opening::Refused(format!("{what} cannot be opened: {e}. Nothing was run.")),
    }
}

/// The page's fragment (a share link, `#scenario=…`). A workspace link goes to the RabbitMQ page, which
/// keeps workspaces.
pub fn open_link(fragment: &str) -> Opening {
    match permalink::decode_link(fragment) {
        Ok(None) => Opening::Nothing,
        Err(e) => Opening::Refused(e),
        Ok(Some(permalink::Link::Scenario(text))) => open_document(text, "This link's scenario"),
        Ok(Some(permalink::Link::Workspace(text))) => match permalink::encode_workspace(&text) {
            Ok(fragment) => Opening::Forward { model: ModelName::Amqp, fragment },
            Err(e) => Opening::Refused(e),
        },
    }
}

/// An imported file (`name`): a scenario document (this model's or another's).
pub fn open_file(name: &str, text: &str) -> Opening {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    open_document(text.to_string(), &format!("'{name}'"))
}

/// Counts of check statuses: (passed, failed, pending).
pub fn check_counts(checks: &[CheckResult]) -> (usize, usize, usize) {
    let count = |s: CheckStatus| checks.iter().filter(|c| c.status == s).count();
    (count(CheckStatus::Pass), count(CheckStatus::Fail), count(CheckStatus::Pending))
}

impl crate::player::ModelSession for SqsSession {
    const MODEL: ModelName = ModelName::Sqs;
    type Event = SqsEvent;

    fn open(text: &str, bundled: Option<&'static str>) -> Result<Self, String> {
        SqsSession::open(text, bundled)
    }
    fn name(&self) -> &'static str {
        SqsSession::name(self)
    }
    fn bundled_id(&self) -> Option<&'static str> {
        self.bundled
    }
    fn description(&self) -> &str {
        SqsSession::description(self)
    }
    fn time_ms(&self) -> u64 {
        SqsSession::time_ms(self)
    }
    fn end_ms(&self) -> u64 {
        SqsSession::end_ms(self)
    }
    fn seek(&mut self, to_ms: u64) {
        SqsSession::seek(self, to_ms)
    }
    fn checks(&self) -> Vec<CheckResult> {
        SqsSession::checks(self)
    }
    fn run_events(&self) -> &[(VirtualTime, SqsEvent)] {
        self.run.events()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue<'a>(qs: &'a [QueueView], name: &str) -> &'a QueueView {
        qs.iter().find(|q| q.name == name).unwrap_or_else(|| panic!("queue {name}"))
    }

    #[test]
    fn every_bundled_tutorial_opens_and_passes_all_its_checks_at_the_end() {
        assert_eq!(BUNDLED.len(), 5);
        for b in BUNDLED {
            let mut s = SqsSession::bundled(b.id).unwrap_or_else(|| panic!("{} opens", b.id));
            assert_eq!(s.time_ms(), 0);
            s.seek(s.end_ms());
            let checks = s.checks();
            let (pass, fail, pending) = check_counts(&checks);
            assert!(pass > 0 && fail == 0 && pending == 0, "{}: {checks:#?}", b.id);
            assert!(s.stopped().is_none(), "{}", b.id);
        }
    }

    #[test]
    fn the_visibility_timeout_runs_out_and_the_job_is_done_twice() {
        let mut s = SqsSession::bundled("visibility-timeout").expect("opens");
        // At 20 s worker-a has had the job since 0 s: in flight, its 30 s clock with 10 s left.
        s.seek(20_000);
        let qs = s.queues();
        let jobs = queue(&qs, "jobs");
        assert_eq!((jobs.visible, jobs.in_flight, jobs.delayed), (0, 1, 0));
        let m = &jobs.messages[0];
        assert_eq!(m.state, MessageState::InFlight);
        assert_eq!((m.receive_count, m.remaining_ms, m.clock_ms), (1, 10_000, 30_000));
        assert!(s.done_twice().is_empty());
        // At 31 s the clock ran out and worker-b received it again: a new 30 s clock, receive count 2.
        s.seek(31_000);
        let m = queue(&s.queues(), "jobs").messages[0].clone();
        assert_eq!((m.state, m.receive_count, m.clock_ms), (MessageState::InFlight, 2, 30_000));
        assert_eq!(m.remaining_ms, 29_000);
        // At the end the job was processed by both workers; the heartbeat queue's once.
        s.seek(s.end_ms());
        let twice = s.done_twice();
        assert_eq!(twice.len(), 1, "{twice:?}");
        assert_eq!(twice[0].body, "resize-photo-1");
        assert_eq!(twice[0].by[..2], ["worker-a".to_string(), "worker-b".to_string()]);
        // Going back rebuilds the run: the same moment comes back exactly.
        let at_20 = {
            s.seek(20_000);
            s.queues()
        };
        s.seek(5_000);
        s.seek(20_000);
        assert_eq!(s.queues(), at_20);
        // The counts kept as the run plays start again with it: nothing done twice yet at 20 s, and the
        // job done twice once (by the same two workers) at the end again, not counted a second time.
        assert!(s.done_twice().is_empty());
        s.seek(s.end_ms());
        assert_eq!(s.done_twice(), twice);
    }

    #[test]
    fn fifo_groups_are_lanes_blocked_while_one_of_their_messages_is_in_flight() {
        let mut s = SqsSession::bundled("fifo-order-and-deduplication").expect("opens");
        let mut saw_blocked = false;
        for t in (0..=s.end_ms()).step_by(250) {
            s.seek(t);
            let q = queue(&s.queues(), "orders.fifo").clone();
            assert!(q.fifo);
            for lane in &q.groups {
                let in_flight = lane.messages.iter().any(|m| m.state == MessageState::InFlight);
                assert_eq!(lane.blocked, in_flight, "{t} ms {lane:?}");
                saw_blocked |= lane.blocked && lane.messages.len() > 1;
                assert!(lane.group.starts_with("customer-"));
            }
            let in_lanes: usize = q.groups.iter().map(|l| l.messages.len()).sum();
            assert_eq!(in_lanes, q.messages.len(), "every FIFO message is in its group's lane");
        }
        assert!(saw_blocked, "a group with messages waiting behind one in flight");
    }

    #[test]
    fn the_dead_letter_edge_counts_the_messages_moved_and_topics_show_their_filters() {
        let mut s = SqsSession::bundled("dead-letter-queue-and-redrive").expect("opens");
        s.seek(39_000);
        let qs = s.queues();
        let edge = queue(&qs, "payments").dead_letter.clone().expect("a redrive policy");
        assert_eq!((edge.to.as_str(), edge.max_receive_count, edge.moved), ("payments-dlq", 3, 1));
        let dlq = queue(&qs, "payments-dlq");
        assert_eq!(dlq.messages.len(), 1);
        assert_eq!(dlq.messages[0].body, "payment-1-malformed");
        assert_eq!(dlq.messages[0].receive_count, 3, "it keeps its receive count");

        let mut s = SqsSession::bundled("sns-fan-out-with-filters").expect("opens");
        s.seek(s.end_ms());
        let topics = s.topics();
        assert_eq!(topics.len(), 1);
        let t = &topics[0];
        assert_eq!(t.name, "orders");
        assert_eq!(t.published, 10);
        let subs: Vec<(&str, bool, bool)> = t
            .subscriptions
            .iter()
            .map(|x| (x.queue.as_str(), x.raw_message_delivery, x.filter_policy.is_some()))
            .collect();
        assert_eq!(subs, [("audit", false, false), ("europe", true, true), ("refunds", true, true)]);
        assert!(t.subscriptions[1].filter_policy.as_deref().unwrap().contains("eu-"));
    }

    #[test]
    fn the_charts_samples_are_the_queues_counts_at_their_moments_calls_by_hand_included() {
        let mut s = SqsSession::bundled("visibility-timeout").expect("opens");
        assert_eq!(s.counts.queues, ["jobs", "jobs-heartbeat"]);
        assert_eq!(s.counts.samples.len() as u64, CHART_SAMPLES + 1);
        s.seek(3_000);
        s.operate(SqsOp::Send {
            queue: "jobs-heartbeat".into(),
            body: "by hand".into(),
            attributes: vec![],
            delay_seconds: Some(10),
            group_id: None,
            deduplication_id: None,
        })
        .unwrap();
        let series = s.counts.clone();
        let mut saw_delayed = false;
        for sample in &series.samples {
            s.seek(sample.at_ms);
            for (i, q) in series.queues.iter().enumerate() {
                let v = queue(&s.queues(), q).clone();
                let c = sample.counts[i];
                assert_eq!(
                    (c.visible, c.in_flight, c.delayed),
                    (v.visible, v.in_flight, v.delayed),
                    "{q} at {}",
                    sample.at_ms
                );
                saw_delayed |= c.delayed > 0;
            }
        }
        assert!(saw_delayed, "the message sent by hand with DelaySeconds=10 is charted as delayed");
    }

    #[test]
    fn a_link_or_file_opens_an_sqs_document_and_forwards_another_models() {
        let sqs = BUNDLED[0].text;
        let Opening::Open(s) = open_link(&format!("#{}", permalink::encode(sqs))) else { panic!("opens") };
        assert_eq!(s.text, sqs);
        assert!(matches!(open_file("vt.json", sqs), Opening::Open(_)));
        assert!(matches!(open_link(""), Opening::Nothing));
        let amqp = crate::scenarios::BUNDLED[1].1;
        let Opening::Forward { model, fragment } = open_file("work.json", amqp) else { panic!("forwarded") };
        assert_eq!(model, ModelName::Amqp);
        assert_eq!(permalink::decode(&fragment), Ok(Some(amqp.to_string())));
        let bad = sqs.replacen("\"seed\": 7", "\"seed\": \"seven\"", 1);
        let Opening::Refused(e) = open_file("bad.json", &bad) else { panic!("refused") };
        assert!(e.starts_with("'bad.json' cannot be opened") && e.contains("Nothing was run"), "{e}");
    }
}
