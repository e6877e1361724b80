//! A run's budget: the most work and memory one document may cost, whatever it says.
//!
//! A document is hostile input (a permalink, a stored workspace, an embed message): `count: 10^12` with no
//! rate, `rate × duration`, `body_size × count` would otherwise publish until the process runs out of
//! memory, in one wake-up. Two guards share one [`RunBudget`]:
//!
//! - **Before the run** ([`check_document`]): every producer's most messages (its `count`, or the publish
//!   slots its pacing gives within the run, plus its bursts) and most body bytes are added up; a document
//!   over the budget is refused with the JSON path of the producer field that makes it so, like any other
//!   malformed document. This needs no run, so a hostile document costs nothing.
//! - **During the run** ([`Meter`]): every message an actor publishes (knob producers, script publishes,
//!   RPC replies) and every broker event is counted one by one; the message or event past the budget stops
//!   the run with a [`StopInfo`](super::super::report::StopInfo) naming the actor and, when the text is
//!   known, its `line:col`. This catches what the estimate cannot see (scripts, consumers that republish).
//!
//! # Invariants
//! - The meter is charged per message and per event, never per wake-up: one wake-up that would publish a
//!   billion messages stops at the budget.
//! - The limits live in the simulation ([`super::SimOptions::budget`]), so the native runner and the page
//!   refuse and stop the same documents at the same message.

use super::super::document::{locate, Problem};
use super::super::document::{Document, Millis, Placeholder, Producer, Template, TemplatePart};
use super::super::Pos;
use std::collections::BTreeMap;

// The budget, its counting and its texts are the kernel's; the estimate before a run is this model's.
pub(crate) use sim_kernel::budget::Exceeded;
pub use sim_kernel::budget::RunBudget;
use sim_kernel::budget::{grouped, plural};
use sim_kernel::pace::Pace;

/// The most messages a producer can publish in a run ending at `run_end`, and the field that sets that
/// bound.
fn producer_bound(p: &Producer, run_end: Millis) -> (u128, &'static str) {
    let start = u128::from(p.start.0);
    let end = u128::from(run_end.0);
    let stop = match p.duration {
        Some(d) => end.min(start + u128::from(d.0)),
        None => end,
    };
    // Publish slots fall in [start, stop]: both ends count (a slot at the very end of the run fires).
    let window = if stop >= start { stop - start + 1 } else { 0 };
    let paced: Option<(u128, &'static str)> = if window == 0 {
        Some((0, "start"))
    } else if let Some(rate) = p.rate {
        Some((Pace::slot_bound(&[(rate.per_kilosecond, u64::MAX)], window), "rate"))
    } else if !p.rate_schedule.is_empty() {
        let steps: Vec<(u64, u64)> =
            p.rate_schedule.iter().map(|s| (s.rate.per_kilosecond, s.duration.0)).collect();
        Some((Pace::slot_bound(&steps, window), "rate_schedule"))
    } else {
        None
    };
    let bursts: u128 = p.bursts.iter().filter(|b| b.at <= run_end).map(|b| u128::from(b.count)).sum();
    let unbounded = match (paced, p.bursts.is_empty()) {
        (Some((n, field)), true) => (n, field),
        (Some((n, field)), false) if n >= bursts => (n + bursts, field),
        (Some((n, _)), false) => (n + bursts, "bursts"),
        (None, false) => (bursts, "bursts"),
        // Unpaced: the whole count at once (validation makes sure there is one).
        (None, true) => (u128::MAX, "count"),
    };
    match p.count {
        Some(count) if u128::from(count) <= unbounded.0 => (u128::from(count), "count"),
        _ => unbounded,
    }
}

/// The longest body a template can render to: its text, and at most 20 digits per number.
fn template_bound(template: &Template, actor: &str) -> u128 {
    template
        .parts
        .iter()
        .map(|part| match part {
            TemplatePart::Text(t) => t.len() as u128,
            TemplatePart::Var(Placeholder::Actor) => actor.len() as u128,
            TemplatePart::Var(Placeholder::Seq) | TemplatePart::Random(_) => 20,
            // Reply-only placeholders never appear in a producer's body.
            TemplatePart::Var(Placeholder::Body | Placeholder::CorrelationId) => 0,
        })
        .sum()
}

/// Refuses a document whose producers can publish more messages or body bytes than `budget`, with the
/// JSON path of the field to change. Run after [`Document::validate`] (templates compile, paced or
/// counted producers).
pub fn check_document(doc: &Document, budget: &RunBudget) -> Result<(), Problem> {
    let mut total_messages: u128 = 0;
    let mut total_bytes: u128 = 0;
    for (i, p) in doc.producers.iter().enumerate() {
        let (messages, field) = producer_bound(p, doc.duration);
        total_messages = total_messages.saturating_add(messages);
        if total_messages > u128::from(budget.messages) {
            let shown = if messages == u128::MAX { "without limit".to_string() } else { grouped(messages) };
            let alone = if messages > u128::from(budget.messages) {
                String::new()
            } else {
                " (with the producers before it)".to_string()
            };
            return Err(Problem {
                path: format!("producers[{i}].{field}"),
                message: format!(
                    "producer '{}' can publish {shown} messages in this run{alone}, more than a run's budget \
                     of {} messages: lower its 'count', or give it a 'rate' and a shorter 'duration'",
                    p.name,
                    grouped(u128::from(budget.messages))
                ),
            });
        }
        let per_message = match p.body_size {
            Some(size) => size as u128,
            None => match &p.body {
                Some(body) => Template::compile(body, false).map_or(0, |t| template_bound(&t, &p.name)),
                None => p.name.len() as u128 + 22,
            },
        };
        let bytes = per_message.saturating_mul(messages);
        total_bytes = total_bytes.saturating_add(bytes);
        if total_bytes > u128::from(budget.body_bytes) {
            let path = if p.body_size.is_some() { "body_size" } else { "body" };
            return Err(Problem {
                path: format!("producers[{i}].{path}"),
                message: format!(
                    "producer '{}' can publish {} bytes of message bodies in this run ({} of up to \
                     {} bytes), more than a run's budget of {} bytes: lower its 'body_size' or its message \
                     count",
                    p.name,
                    grouped(bytes),
                    plural(messages, "message"),
                    grouped(per_message),
                    grouped(u128::from(budget.body_bytes))
                ),
            });
        }
    }
    Ok(())
}

/// What a run has used of its budget so far (the kernel's counting), and where each actor is written in
/// the document.
#[derive(Clone, Debug)]
pub(crate) struct Meter {
    pub count: sim_kernel::budget::Meter,
    /// `line:col` of `producers[i]` and `consumers[i]` when the document's text is known.
    producer_pos: Vec<Pos>,
    consumer_pos: Vec<Pos>,
    /// `line:col` of each script's text (`scripts.<name>`), for a script error that stops the run.
    script_pos: BTreeMap<String, Pos>,
}

impl Meter {
    pub fn new(budget: RunBudget) -> Meter {
        Meter {
            count: sim_kernel::budget::Meter::new(budget),
            producer_pos: Vec::new(),
            consumer_pos: Vec::new(),
            script_pos: BTreeMap::new(),
        }
    }

    /// Finds every actor in the document's text, so a stop can point at the one that overspent.
    pub fn locate_actors(&mut self, text: &str, producers: usize, consumers: usize) {
        let find = |kind: &str, i: usize| locate(text, &format!("{kind}[{i}]")).unwrap_or(Pos::new(0, 0));
        self.producer_pos = (0..producers).map(|i| find("producers", i)).collect();
        self.consumer_pos = (0..consumers).map(|i| find("consumers", i)).collect();
    }

    /// Finds every script's text (a name `locate` cannot follow, with a `.` or `[`, points at `scripts`).
    pub fn locate_scripts<'n>(&mut self, text: &str, names: impl Iterator<Item = &'n String>) {
        let all = locate(text, "scripts").unwrap_or(Pos::new(0, 0));
        // Inserted one by one: `collect` into a map compiles a sort per element type (crate::order).
        self.script_pos = BTreeMap::new();
        self.script_pos.extend(names.map(|name| {
            let plain = !name.contains(['.', '[', ']']);
            let pos = plain.then(|| locate(text, &format!("scripts.{name}"))).flatten().unwrap_or(all);
            (name.clone(), pos)
        }));
    }

    pub fn script_pos(&self, name: &str) -> Pos {
        self.script_pos.get(name).copied().unwrap_or(Pos::new(0, 0))
    }

    pub fn producer_pos(&self, i: usize) -> Pos {
        self.producer_pos.get(i).copied().unwrap_or(Pos::new(0, 0))
    }

    pub fn consumer_pos(&self, i: usize) -> Pos {
        self.consumer_pos.get(i).copied().unwrap_or(Pos::new(0, 0))
    }
}
