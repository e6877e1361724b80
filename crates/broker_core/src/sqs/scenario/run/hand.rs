//! Calls made by hand on a running document (the SQS page's forms): `SendMessage`, `ReceiveMessage`,
//! `DeleteMessage` and `ChangeMessageVisibility` at the run's current instant, through the same engine the
//! actors use, so they get SQS's answers and errors and the run's ledger keeps every message accounted for.
//!
//! The caller is named [`HAND`] in the events (`you send …`, `you <- jobs …`), beside the document's actors.
//!
//! # Invariants
//! - A refused call changes nothing and records nothing: it returns the engine's [`SqsError`].
//! - A call is made after everything the run did at its instant (the caller plays the run to the instant
//!   first), and what it changed is acted on at once: open long polls look again (a message sent by hand
//!   reaches a waiting consumer at that instant), and the ledger is reconciled.
//! - A long poll by hand that finds nothing stays open, as a consumer's does: it is answered at the first
//!   look that finds messages or empty when its wait ends ([`HandReceive::answered_at`]).
//! - Given the same calls at the same instants, a replayed run is the same, receipt handles included.

use super::*;
use crate::sqs::error::SqsError;
use crate::sqs::types::Sent;

/// The name the events give to the calls made by hand.
pub const HAND: &str = "you";

/// A `ReceiveMessage` made by hand, and its answer once given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HandReceive {
    pub queue: String,
    pub asked_at: VirtualTime,
    /// When a long poll's wait ends (`asked_at` for a short poll).
    pub wait_until: VirtualTime,
    /// When it returned: at once, or for a long poll that found nothing, when a message came or the wait
    /// ended. `None` while the poll is open.
    pub answered_at: Option<VirtualTime>,
    /// What it returned (with their receipt handles), in SQS's order.
    pub messages: Vec<Received>,
    #[serde(skip)]
    request: ReceiveMessage,
}

/// What a `DeleteMessage` by hand did (SQS answers the same success to all three).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandDelete {
    /// The message is gone.
    Deleted { message_id: String, body: String },
    /// Accepted, but the message stays: the handle was not its latest (received again since).
    Kept { message_id: String, body: String },
    /// Accepted and nothing was deleted: a standard queue's handle of a message already gone.
    Nothing,
}

impl SqsRun {
    /// `SendMessage` by hand to `queue`, now.
    pub fn hand_send(&mut self, queue: &str, request: &SendMessage) -> Result<Sent, SqsError> {
        self.sqs.advance_to(self.clock.now);
        let sent = self.sqs.send_message(&queue_url(queue), request)?;
        self.hand_sends += 1;
        let deduplicated = self.ledger.contains_key(&sent.message_id);
        if !deduplicated {
            self.ledger.insert(sent.message_id.clone(), Fate::Stored(queue.to_string()));
        }
        self.push(SqsEvent::Sent {
            producer: HAND.to_string(),
            seq: self.hand_sends,
            queue: queue.to_string(),
            body: request.body.clone(),
            message_id: sent.message_id.clone(),
            group: request.group_id.clone(),
            deduplicated,
        });
        self.after_hand();
        Ok(sent)
    }

    /// `ReceiveMessage` by hand from `queue`, now; returns its index in [`SqsRun::hand_receives`]. With a
    /// wait (the request's or the queue's `ReceiveMessageWaitTimeSeconds`) and nothing to return, it stays
    /// open on the run's clock.
    pub fn hand_receive(&mut self, queue: &str, request: &ReceiveMessage) -> Result<usize, SqsError> {
        self.sqs.advance_to(self.clock.now);
        let got = self.sqs.receive_message_without_waiting(&queue_url(queue), request)?;
        let queue_wait = self.sqs.queue(queue).map_or(0, |q| q.attributes.receive_message_wait_time_seconds);
        let wait = request.wait_time_seconds.unwrap_or(queue_wait).max(0) as u64;
        let index = self.hand_receives.len();
        self.hand_receives.push(HandReceive {
            queue: queue.to_string(),
            asked_at: self.clock.now,
            wait_until: self.clock.now.plus_millis(wait * 1000),
            answered_at: None,
            messages: Vec::new(),
            request: request.clone(),
        });
        if got.is_empty() && wait > 0 {
            self.clock.wakes.schedule(self.clock.now.plus_millis(wait * 1000), Wake::HandWaitEnds(index));
        } else {
            self.answer_hand(index, got);
        }
        // A receive can move messages past their receive count to the dead-letter queue.
        self.verify();
        Ok(index)
    }

    /// The receives made by hand so far, in the order they were made.
    pub fn hand_receives(&self) -> &[HandReceive] {
        &self.hand_receives
    }

    /// `DeleteMessage` by hand, now.
    pub fn hand_delete(&mut self, queue: &str, receipt_handle: &str) -> Result<HandDelete, SqsError> {
        self.sqs.advance_to(self.clock.now);
        let before = self.stored(queue);
        self.sqs.delete_message(&queue_url(queue), receipt_handle)?;
        let after = self.stored(queue);
        let gone = before.into_iter().find(|(id, _)| !after.contains_key(id));
        let by_hand = self.received_by_hand(receipt_handle).map(|m| (m.message_id.clone(), m.body.clone()));
        let outcome = match (gone, by_hand) {
            (Some((message_id, body)), _) => {
                self.ledger.insert(message_id.clone(), Fate::Deleted);
                HandDelete::Deleted { message_id, body }
            }
            (None, Some((message_id, body))) if after.contains_key(&message_id) => {
                HandDelete::Kept { message_id, body }
            }
            (None, _) => HandDelete::Nothing,
        };
        let consumer = HAND.to_string();
        match &outcome {
            HandDelete::Deleted { message_id, body } => {
                let (message_id, body) = (message_id.clone(), body.clone());
                self.push(SqsEvent::Deleted { consumer, body, message_id });
            }
            HandDelete::Kept { message_id, body } => {
                let (message_id, body) = (message_id.clone(), body.clone());
                self.push(SqsEvent::DeleteKept { consumer, body, message_id });
            }
            HandDelete::Nothing => self.push(SqsEvent::Action {
                what: format!(
                    "{HAND} delete_message on {queue}: accepted, no message deleted (already gone)"
                ),
            }),
        }
        self.after_hand();
        Ok(outcome)
    }

    /// `ChangeMessageVisibility` by hand, now; returns the message's body when the handle is one a
    /// receive by hand returned.
    pub fn hand_change_visibility(
        &mut self,
        queue: &str,
        receipt_handle: &str,
        visibility_timeout: i64,
    ) -> Result<Option<String>, SqsError> {
        self.sqs.advance_to(self.clock.now);
        self.sqs.change_message_visibility(&queue_url(queue), receipt_handle, visibility_timeout)?;
        let body = self.received_by_hand(receipt_handle).map(|m| m.body.clone());
        self.push(SqsEvent::Extended {
            consumer: HAND.to_string(),
            body: body.clone().unwrap_or_else(|| format!("receipt handle {receipt_handle}")),
            visibility_timeout,
        });
        self.after_hand();
        Ok(body)
    }

    /// The message a receive by hand returned with this receipt handle.
    fn received_by_hand(&self, receipt_handle: &str) -> Option<&Received> {
        self.hand_receives.iter().flat_map(|r| &r.messages).find(|m| m.receipt_handle == receipt_handle)
    }

    /// A queue's messages now: id → body.
    fn stored(&self, queue: &str) -> BTreeMap<String, String> {
        self.sqs
            .queue(queue)
            .map(|q| q.messages.values().map(|m| (m.message_id.clone(), m.body.clone())).collect())
            .unwrap_or_default()
    }

    /// After a call by hand: open long polls look again at what it changed, and the ledger is reconciled.
    fn after_hand(&mut self) {
        self.look_again();
        self.verify();
    }

    /// A receive by hand returns `got` now (empty: it waited until now).
    fn answer_hand(&mut self, index: usize, got: Vec<Received>) {
        let now = self.clock.now;
        let r = &mut self.hand_receives[index];
        r.answered_at = Some(now);
        let (queue, waited_ms) = (r.queue.clone(), now.as_millis() - r.asked_at.as_millis());
        if got.is_empty() {
            self.push(SqsEvent::EmptyReceive { consumer: HAND.to_string(), queue, waited_ms });
            return;
        }
        for m in &got {
            let count: u32 =
                m.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(0);
            let top = self.max_receive.entry(queue.clone()).or_insert(0);
            *top = (*top).max(count);
            self.push(SqsEvent::Received {
                consumer: HAND.to_string(),
                queue: queue.clone(),
                body: m.body.clone(),
                message_id: m.message_id.clone(),
                receive_count: count,
                group: m.attributes.get("MessageGroupId").cloned(),
            });
        }
        self.hand_receives[index].messages = got;
    }

    /// Open receives by hand look again (after the consumers' open polls).
    pub(super) fn look_again_by_hand(&mut self) {
        for i in 0..self.hand_receives.len() {
            let r = &self.hand_receives[i];
            if r.answered_at.is_some() {
                continue;
            }
            let url = queue_url(&r.queue);
            let request = r.request.clone();
            if let Ok(got) = self.sqs.receive_message_without_waiting(&url, &request) {
                if !got.is_empty() {
                    self.answer_hand(i, got);
                }
            }
        }
    }

    /// A long poll by hand's wait ends: one last look, then it returns (empty or not).
    pub(super) fn hand_wait_ends(&mut self, index: usize) {
        let r = &self.hand_receives[index];
        if r.answered_at.is_some() {
            return;
        }
        let url = queue_url(&r.queue);
        let request = r.request.clone();
        let got = self.sqs.receive_message_without_waiting(&url, &request).unwrap_or_default();
        self.answer_hand(index, got);
    }
}
