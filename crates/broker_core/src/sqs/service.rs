//! The SQS service: queues by name, the 60-second wait before a deleted name returns, and every API call.
//!
//! Time moves only through [`Sqs::advance_to`] and through a long poll (a `ReceiveMessage` that waits
//! moves the clock to the moment it returns, as a blocking call does); randomness (message ids, receipt
//! handles, sequence-number gaps, the servers a short poll samples) comes from the seeded [`Prng`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::digest::{md5_hex, md5_of_attributes, sha256_hex};
use super::error::SqsError;
use super::queue::*;
use super::types::*;
use crate::{Prng, VirtualTime};

/// A standard queue's servers: each message lives on one; a short poll asks a random subset.
pub const SERVERS: u8 = 4;
/// How long a deleted queue's name stays unavailable, and how often a queue may be purged.
const NAME_REUSE_MILLIS: u64 = 60_000;
const PURGE_INTERVAL_MILLIS: u64 = 60_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sqs {
    now: VirtualTime,
    prng: Prng,
    queues: BTreeMap<String, Queue>,
    /// Deleted names and when they were deleted (dropped once reusable).
    deleted: BTreeMap<String, VirtualTime>,
    /// Whether a standard queue's short poll samples a subset of servers (on, as on AWS).
    short_poll_sampling: bool,
    next_arrival: u64,
    /// The last FIFO sequence number handed out (shared by all queues: increasing, with gaps).
    last_sequence: u128,
    /// Message move tasks in the order they started (at most [`MOVE_TASKS_KEPT`] per source queue).
    #[serde(default)]
    move_tasks: Vec<MoveTask>,
}

/// How many tasks `ListMessageMoveTasks` can show per source queue: "the most recent … (up to 10)".
const MOVE_TASKS_KEPT: usize = 10;

/// What a receive can move: the counts a census sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Census {
    pub visible: usize,
    pub in_flight: usize,
    pub delayed: usize,
}

impl Sqs {
    pub fn new(seed: u64) -> Self {
        Sqs {
            now: VirtualTime(0),
            prng: Prng::new(seed),
            queues: BTreeMap::new(),
            deleted: BTreeMap::new(),
            short_poll_sampling: true,
            next_arrival: 0,
            last_sequence: 10_000_000_000_000_000_000,
            move_tasks: Vec::new(),
        }
    }

    pub fn now(&self) -> VirtualTime {
        self.now
    }

    /// Moves the clock forward (never back) and applies retention.
    pub fn advance_to(&mut self, t: VirtualTime) {
        if t > self.now {
            self.now = t;
        }
        self.expire();
    }

    pub fn set_short_poll_sampling(&mut self, on: bool) {
        self.short_poll_sampling = on;
    }

    pub fn queues(&self) -> impl Iterator<Item = &Queue> {
        self.queues.values()
    }

    pub fn queue(&self, name: &str) -> Option<&Queue> {
        self.queues.get(name)
    }

    pub fn census(&self, name: &str) -> Census {
        let mut c = Census::default();
        if let Some(q) = self.queues.get(name) {
            for m in q.messages.values() {
                match m.state(self.now) {
                    MessageState::Visible => c.visible += 1,
                    MessageState::InFlight => c.in_flight += 1,
                    MessageState::Delayed => c.delayed += 1,
                }
            }
        }
        c
    }

    /// The earliest moment after now at which a message of any queue changes state or expires.
    pub fn next_deadline(&self) -> Option<VirtualTime> {
        let mut best: Option<VirtualTime> = None;
        for q in self.queues.values() {
            for m in q.messages.values() {
                let expiry = m.sent.plus_millis(q.attributes.message_retention_period as u64 * 1000);
                for t in [m.visible_at, expiry] {
                    if t > self.now && best.is_none_or(|b| t < b) {
                        best = Some(t);
                    }
                }
            }
        }
        match (best, self.next_move()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When the next move of a running move task happens.
    fn next_move(&self) -> Option<VirtualTime> {
        self.move_tasks
            .iter()
            .filter(|t| t.status == MoveStatus::Running)
            .map(|t| t.move_time(t.moved + 1))
            .min()
    }

    fn expire(&mut self) {
        self.run_move_tasks();
        let now = self.now;
        self.deleted.retain(|_, at| at.plus_millis(NAME_REUSE_MILLIS) > now);
        for q in self.queues.values_mut() {
            let retention = q.attributes.message_retention_period as u64 * 1000;
            q.messages.retain(|_, m| m.sent.plus_millis(retention) > now);
            q.dedup.retain(|_, d| d.expires > now);
            q.receive_attempts.retain(|_, a| a.expires > now);
        }
    }

    fn name_of_url(&self, url: &str) -> Result<String, SqsError> {
        let name = url.rsplit('/').next().unwrap_or("");
        if self.queues.contains_key(name) {
            Ok(name.to_string())
        } else {
            Err(SqsError::queue_does_not_exist())
        }
    }

    fn queue_mut(&mut self, url: &str) -> Result<&mut Queue, SqsError> {
        let name = self.name_of_url(url)?;
        self.queues.get_mut(&name).ok_or_else(SqsError::queue_does_not_exist)
    }

    /// A fresh id (a version-4 UUID drawn from the seed), for the services built on this one (SNS).
    pub fn new_id(&mut self) -> String {
        self.uuid()
    }

    fn uuid(&mut self) -> String {
        let a = self.prng.next_u64();
        let b = self.prng.next_u64();
        // Version 4, variant 1, as SQS's message ids are.
        let a = (a & 0xffff_ffff_ffff_0fff) | 0x4000;
        let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }

    // ---- queues ----

    pub fn create_queue(
        &mut self,
        name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<String, SqsError> {
        self.expire();
        let fifo_attr = attributes.get("FifoQueue").map(|v| v.to_ascii_lowercase());
        let fifo = match fifo_attr.as_deref() {
            Some("true") => true,
            Some("false") | None => false,
            Some(_) => return Err(SqsError::invalid_attribute_value("FifoQueue")),
        };
        let stem = name.strip_suffix(".fifo");
        let valid_chars = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if fifo {
            if !(stem.is_some_and(valid_chars) && (6..=80).contains(&name.len())) {
                return Err(SqsError::invalid_parameter(
                    "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.",
                ));
            }
        } else if name.is_empty() || name.len() > 80 || !valid_chars(name) {
            return Err(SqsError::invalid_parameter(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
            ));
        }
        let mut parsed = QueueAttributes::defaults(fifo);
        for (key, value) in attributes {
            parsed.set(key, value)?;
        }
        parsed.check_combination()?;
        if let Some((text, policy)) = &parsed.redrive_policy {
            self.check_dead_letter_target(name, text, policy, fifo)?;
        }
        if let Some(existing) = self.queues.get(name) {
            // Same name: the URL if every given attribute equals the queue's, else `QueueNameExists`.
            let shown: BTreeMap<&str, String> = existing.attributes.shown().into_iter().collect();
            for key in attributes.keys() {
                let mine = shown.get(key.as_str()).cloned().unwrap_or_default();
                let theirs =
                    parsed.shown().into_iter().find(|(k, _)| k == key).map(|(_, v)| v).unwrap_or_default();
                if mine != theirs {
                    return Err(SqsError::queue_name_exists(key));
                }
            }
            return Ok(existing.url());
        }
        if self.deleted.contains_key(name) {
            return Err(SqsError::queue_deleted_recently());
        }
        let queue = Queue {
            name: name.to_string(),
            created: self.now,
            last_modified: self.now,
            attributes: parsed,
            created_with: attributes.clone(),
            messages: BTreeMap::new(),
            dedup: BTreeMap::new(),
            receive_attempts: BTreeMap::new(),
            last_purge: None,
            tags: BTreeMap::new(),
        };
        let url = queue.url();
        self.queues.insert(name.to_string(), queue);
        Ok(url)
    }

    /// The dead-letter target must exist, be of the source's type and allow the source by its
    /// `RedriveAllowPolicy`; `text` is the policy as given.
    fn check_dead_letter_target(
        &self,
        source: &str,
        text: &str,
        policy: &RedrivePolicy,
        fifo: bool,
    ) -> Result<(), SqsError> {
        let target = policy.dead_letter_target_arn.rsplit(':').next().unwrap_or("");
        match self.queues.get(target) {
            None => Err(SqsError::invalid_value(text, "RedrivePolicy", "Dead letter target does not exist")),
            Some(q) if q.attributes.fifo != fifo => Err(SqsError::invalid_value(
                text,
                "RedrivePolicy",
                "Dead-letter queue must be same type of queue as the source.",
            )),
            Some(q) => {
                let allow = match &q.attributes.redrive_allow_policy {
                    Some(p) => parse_redrive_allow(p)?,
                    None => RedriveAllow::AllowAll,
                };
                let source_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{source}");
                if allow.allows(&source_arn) {
                    Ok(())
                } else {
                    Err(SqsError::invalid_value(
                        text,
                        "RedrivePolicy",
                        &format!(
                            "Queue {} does not allow {source_arn} to use it as a dead-letter queue (RedriveAllowPolicy)",
                            q.arn()
                        ),
                    ))
                }
            }
        }
    }

    pub fn get_queue_url(&mut self, name: &str) -> Result<String, SqsError> {
        self.expire();
        self.queues.get(name).map(Queue::url).ok_or_else(SqsError::queue_does_not_exist)
    }

    /// `ListQueues`: URLs in name order, at most `max_results` (1..=1000) from after `next_token`.
    pub fn list_queues(
        &mut self,
        prefix: Option<&str>,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>), SqsError> {
        self.expire();
        if let Some(m) = max_results {
            if !(1..=1000).contains(&m) {
                return Err(SqsError::invalid_value(
                    m,
                    "MaxResults",
                    "MaxResults must be an integer between 1 and 1000",
                ));
            }
        }
        let limit = max_results.unwrap_or(1000) as usize;
        let names: Vec<&String> = self
            .queues
            .keys()
            .filter(|n| prefix.is_none_or(|p| n.starts_with(p)))
            .filter(|n| next_token.is_none_or(|t| n.as_str() > t))
            .collect();
        let page: Vec<String> = names.iter().take(limit).map(|n| queue_url(n)).collect();
        // A token only when the caller paginates, as SQS does.
        let token = if max_results.is_some() && names.len() > limit {
            Some(names[limit - 1].to_string())
        } else {
            None
        };
        Ok((page, token))
    }

    pub fn delete_queue(&mut self, url: &str) -> Result<(), SqsError> {
        self.expire();
        let name = self.name_of_url(url)?;
        self.queues.remove(&name);
        // A running move task from a deleted queue cannot go on.
        let arn = queue_arn(&name);
        for t in self.move_tasks.iter_mut().filter(|t| t.status == MoveStatus::Running && t.source_arn == arn)
        {
            t.status = MoveStatus::Failed;
            t.failure_reason = Some(format!("The source queue {arn} was deleted."));
        }
        self.deleted.insert(name, self.now);
        Ok(())
    }

    pub fn get_queue_attributes(
        &mut self,
        url: &str,
        names: &[String],
    ) -> Result<Vec<(String, String)>, SqsError> {
        self.expire();
        let now = self.now;
        let name = self.name_of_url(url)?;
        let q = &self.queues[&name];
        let mut all: BTreeMap<String, String> =
            q.attributes.shown().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        all.insert("QueueArn".into(), q.arn());
        all.insert("CreatedTimestamp".into(), (q.created.as_millis() / 1000).to_string());
        all.insert("LastModifiedTimestamp".into(), (q.last_modified.as_millis() / 1000).to_string());
        all.insert("ApproximateNumberOfMessages".into(), q.count(now, MessageState::Visible).to_string());
        all.insert(
            "ApproximateNumberOfMessagesNotVisible".into(),
            q.count(now, MessageState::InFlight).to_string(),
        );
        all.insert(
            "ApproximateNumberOfMessagesDelayed".into(),
            q.count(now, MessageState::Delayed).to_string(),
        );
        // In the order asked for (`All`: by name).
        let mut out = Vec::new();
        for n in names {
            if n == "All" {
                return Ok(all.into_iter().collect());
            }
            match all.get(n) {
                Some(v) => {
                    if !out.iter().any(|(k, _): &(String, String)| k == n) {
                        out.push((n.clone(), v.clone()));
                    }
                }
                // Known names a queue does not show (FIFO ones on a standard queue, an unset policy).
                None if KNOWN_ATTRIBUTES.contains(&n.as_str()) => {}
                None => return Err(SqsError::invalid_attribute_name(n)),
            }
        }
        Ok(out)
    }

    pub fn set_queue_attributes(
        &mut self,
        url: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        self.expire();
        let name = self.name_of_url(url)?;
        let mut next = self.queues[&name].attributes.clone();
        for (k, v) in attributes {
            next.set(k, v)?;
        }
        next.check_combination()?;
        if let Some((text, policy)) = &next.redrive_policy {
            self.check_dead_letter_target(&name, text, policy, next.fifo)?;
        }
        let now = self.now;
        let q = self.queues.get_mut(&name).ok_or_else(SqsError::queue_does_not_exist)?;
        q.attributes = next;
        q.last_modified = now;
        Ok(())
    }

    pub fn purge_queue(&mut self, url: &str) -> Result<(), SqsError> {
        self.expire();
        let now = self.now;
        let q = self.queue_mut(url)?;
        if q.last_purge.is_some_and(|t| t.plus_millis(PURGE_INTERVAL_MILLIS) > now) {
            return Err(SqsError::purge_queue_in_progress(&q.name));
        }
        q.last_purge = Some(now);
        q.messages.clear();
        Ok(())
    }

    // ---- messages ----

    pub fn send_message(&mut self, url: &str, request: &SendMessage) -> Result<Sent, SqsError> {
        self.expire();
        let name = self.name_of_url(url)?;
        self.send_to(&name, request)
    }

    fn send_to(&mut self, name: &str, request: &SendMessage) -> Result<Sent, SqsError> {
        let now = self.now;
        let attrs = self.queues[name].attributes.clone();
        validate_body(&request.body, &request.attributes, attrs.maximum_message_size)?;
        let not_for_queue_type = |value: &dyn std::fmt::Display, parameter: &str| {
            SqsError::invalid_value(
                value,
                parameter,
                "The request include parameter that is not valid for this queue type",
            )
        };
        if let Some(d) = request.delay_seconds {
            if attrs.fifo {
                return Err(not_for_queue_type(&d, "DelaySeconds"));
            }
            if !(0..=900).contains(&d) {
                return Err(SqsError::invalid_value(
                    d,
                    "DelaySeconds",
                    "DelaySeconds must be >= 0 and <= 900",
                ));
            }
        }
        if let Some(g) = &request.group_id {
            check_token(g, "MessageGroupId")?;
        }
        if let Some(d) = &request.deduplication_id {
            if !attrs.fifo {
                return Err(not_for_queue_type(d, "MessageDeduplicationId"));
            }
            check_token(d, "MessageDeduplicationId")?;
        }
        let md5_of_body = md5_hex(request.body.as_bytes());
        let md5_of_attributes = md5_of_attributes(&request.attributes);
        let mut dedup_key = None;
        if attrs.fifo {
            let group =
                request.group_id.as_deref().ok_or_else(|| SqsError::missing_parameter("MessageGroupId"))?;
            let id = match (&request.deduplication_id, attrs.content_based_deduplication) {
                (Some(id), _) => id.clone(),
                (None, true) => sha256_hex(request.body.as_bytes()),
                (None, false) => {
                    return Err(SqsError::invalid_parameter(
                        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                    ))
                }
            };
            let key = if attrs.deduplication_scope == "messageGroup" {
                format!("{group}\u{0}{id}")
            } else {
                id.clone()
            };
            if let Some(record) = self.queues[name].dedup.get(&key) {
                // A duplicate within the interval is accepted and not enqueued: the first copy's ids.
                return Ok(Sent {
                    message_id: record.message_id.clone(),
                    md5_of_body,
                    md5_of_attributes,
                    sequence_number: record.sequence_number.clone(),
                });
            }
            dedup_key = Some((key, id));
        }
        let message_id = self.uuid();
        let sequence_number = if attrs.fifo {
            // Increasing and non-consecutive, 20 digits, as the API Reference describes `SequenceNumber`.
            self.last_sequence += u128::from(self.prng.range_inclusive(1, 1_000_000));
            Some(self.last_sequence.to_string())
        } else {
            None
        };
        let delay = request.delay_seconds.unwrap_or(attrs.delay_seconds) as u64;
        let server = self.prng.below(u64::from(SERVERS)) as u8;
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        let q = self.queues.get_mut(name).ok_or_else(SqsError::queue_does_not_exist)?;
        if let Some((key, _)) = &dedup_key {
            q.dedup.insert(
                key.clone(),
                DedupRecord {
                    expires: now.plus_millis(DEDUP_WINDOW_MILLIS),
                    message_id: message_id.clone(),
                    sequence_number: sequence_number.clone(),
                },
            );
        }
        q.messages.insert(
            arrival,
            StoredMessage {
                message_id: message_id.clone(),
                body: request.body.clone(),
                attributes: request.attributes.clone(),
                md5_of_body: md5_of_body.clone(),
                md5_of_attributes: md5_of_attributes.clone(),
                group_id: request.group_id.clone(),
                deduplication_id: dedup_key.map(|(_, id)| id),
                sequence_number: sequence_number.clone(),
                sent: now,
                visible_at: now.plus_millis(delay * 1000),
                receive_count: 0,
                first_receive: None,
                last_receive: None,
                handle_nonce: 0,
                server,
                dead_letter_source: None,
            },
        );
        Ok(Sent { message_id, md5_of_body, md5_of_attributes, sequence_number })
    }

    pub fn send_message_batch(
        &mut self,
        url: &str,
        entries: &[(String, SendMessage)],
    ) -> Result<BatchResult<Sent>, SqsError> {
        self.expire();
        let name = self.name_of_url(url)?;
        check_batch(entries.iter().map(|(id, _)| id.as_str()), "SendMessageBatchRequestEntry")?;
        let max = self.queues[&name].attributes.maximum_message_size as usize;
        let total: usize = entries.iter().map(|(_, e)| message_size(&e.body, &e.attributes)).sum();
        if total > max {
            return Err(SqsError::batch_request_too_long(total, max));
        }
        let mut result = BatchResult { successful: Vec::new(), failed: Vec::new() };
        for (id, entry) in entries {
            match self.send_to(&name, entry) {
                Ok(sent) => result.successful.push((id.clone(), sent)),
                Err(e) => result.failed.push(failure(id, &e)),
            }
        }
        Ok(result)
    }

    /// `ReceiveMessage`. With a wait (the request's or the queue's `ReceiveMessageWaitTimeSeconds`) and
    /// nothing to return, the clock moves to the first moment a message becomes visible — the call
    /// returns then — or to the end of the wait, returning nothing.
    pub fn receive_message(
        &mut self,
        url: &str,
        request: &ReceiveMessage,
    ) -> Result<Vec<Received>, SqsError> {
        self.receive(url, request, true)
    }

    /// One look of a `ReceiveMessage` that does not move the clock: with a wait (the request's or the
    /// queue's) it asks every server, as a long poll does, but returns at once, empty or not. A caller
    /// that plays many clients on one clock (the document runtime) keeps the poll open itself and looks
    /// again when something changed, until the wait ends.
    pub fn receive_message_without_waiting(
        &mut self,
        url: &str,
        request: &ReceiveMessage,
    ) -> Result<Vec<Received>, SqsError> {
        self.receive(url, request, false)
    }

    fn receive(
        &mut self,
        url: &str,
        request: &ReceiveMessage,
        block: bool,
    ) -> Result<Vec<Received>, SqsError> {
        self.expire();
        let name = self.name_of_url(url)?;
        let max = request.max_number_of_messages.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(SqsError::invalid_value(
                max,
                "MaxNumberOfMessages",
                "Must be between 1 and 10, if provided",
            ));
        }
        if let Some(v) = request.visibility_timeout {
            if !(0..=MAX_VISIBILITY_SECONDS).contains(&v) {
                return Err(SqsError::invalid_value(
                    v,
                    "VisibilityTimeout",
                    "Must be >= 0 and <= 43200, if provided",
                ));
            }
        }
        if let Some(w) = request.wait_time_seconds {
            if !(0..=20).contains(&w) {
                return Err(SqsError::invalid_value(
                    w,
                    "WaitTimeSeconds",
                    "Must be >= 0 and <= 20, if provided",
                ));
            }
        }
        for n in &request.system_attribute_names {
            if !SYSTEM_ATTRIBUTES.contains(&n.as_str()) && n != "All" {
                return Err(SqsError::invalid_attribute_name(n));
            }
        }
        let attempt = match &request.receive_request_attempt_id {
            Some(id) if self.queues[&name].attributes.fifo => {
                check_token(id, "ReceiveRequestAttemptId")?;
                if let Some(again) = self.retry_receive(&name, id, request)? {
                    return Ok(again);
                }
                Some(id.clone())
            }
            // "This parameter applies only to FIFO queues": a standard queue ignores it.
            _ => None,
        };
        let wait = request
            .wait_time_seconds
            .unwrap_or(self.queues[&name].attributes.receive_message_wait_time_seconds);
        let deadline = if block { self.now.plus_millis(wait as u64 * 1000) } else { self.now };
        loop {
            // A long poll asks every server; a short poll a sample of them.
            let got = self.receive_now(&name, max as usize, request, wait == 0)?;
            if let (Some(id), false) = (&attempt, got.is_empty()) {
                let now = self.now;
                let messages: Vec<(u64, u64)> = got
                    .iter()
                    .filter_map(|m| parse_handle(&m.receipt_handle).ok())
                    .map(|(n, a)| (a, n))
                    .collect();
                let q = self.queues.get_mut(&name).ok_or_else(SqsError::queue_does_not_exist)?;
                let visible_at = messages
                    .first()
                    .and_then(|(a, _)| q.messages.get(a))
                    .map(|m| m.visible_at)
                    .unwrap_or(now);
                q.receive_attempts.insert(
                    id.clone(),
                    ReceiveAttempt { expires: now.plus_millis(RECEIVE_ATTEMPT_MILLIS), messages, visible_at },
                );
            }
            if !got.is_empty() || self.now >= deadline {
                return Ok(got);
            }
            let q = &self.queues[&name];
            let next = q.messages.values().map(|m| m.visible_at).filter(|t| *t > self.now).min();
            // A move task's next move can bring a message: the poll looks again then.
            let next = match (next, self.next_move()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match next {
                Some(t) if t <= deadline => self.advance_to(t),
                _ => self.advance_to(deadline),
            }
            if !self.queues.contains_key(&name) {
                return Err(SqsError::queue_does_not_exist());
            }
        }
    }

    /// A retried FIFO receive: the same messages and handles when its attempt is known and none of its
    /// messages was modified since (visibility reset from now); `None` for an unknown or expired id; an
    /// error when the attempt can no longer be retried. The error's text is the one AWS returned for an
    /// attempt that is "not retryable" (amazon-sqs-java-messaging-lib#213); no AWS page quotes it.
    fn retry_receive(
        &mut self,
        name: &str,
        id: &str,
        request: &ReceiveMessage,
    ) -> Result<Option<Vec<Received>>, SqsError> {
        let now = self.now;
        let q = self.queues.get_mut(name).ok_or_else(SqsError::queue_does_not_exist)?;
        let Some(attempt) = q.receive_attempts.get(id).cloned() else { return Ok(None) };
        let intact = attempt.messages.iter().all(|(arrival, nonce)| {
            q.messages
                .get(arrival)
                .is_some_and(|m| m.handle_nonce == *nonce && m.visible_at == attempt.visible_at)
        });
        if !intact {
            return Err(SqsError::invalid_value(
                id,
                "ReceiveRequestAttemptId",
                "The receiveRequestAttemptId is not valid anymore since the receive call is not retryable",
            ));
        }
        let visibility = request.visibility_timeout.unwrap_or(q.attributes.visibility_timeout) as u64;
        let visible_at = now.plus_millis(visibility * 1000);
        let mut out = Vec::with_capacity(attempt.messages.len());
        for (arrival, _) in &attempt.messages {
            if let Some(m) = q.messages.get_mut(arrival) {
                m.visible_at = visible_at;
                m.last_receive = Some(now);
                out.push(received(m, *arrival, request));
            }
        }
        if let Some(a) = q.receive_attempts.get_mut(id) {
            a.visible_at = visible_at;
        }
        Ok(Some(out))
    }

    fn receive_now(
        &mut self,
        name: &str,
        max: usize,
        request: &ReceiveMessage,
        short_poll: bool,
    ) -> Result<Vec<Received>, SqsError> {
        let now = self.now;
        let attrs = self.queues[name].attributes.clone();
        let visibility = request.visibility_timeout.unwrap_or(attrs.visibility_timeout) as u64;
        // Which servers answer: all, or (short polling a standard queue) each with probability 1/2 and
        // at least one, so a receive can come back empty while messages wait on the others.
        let mut servers = [true; SERVERS as usize];
        if short_poll && !attrs.fifo && self.short_poll_sampling {
            loop {
                for s in servers.iter_mut() {
                    *s = self.prng.chance(1, 2);
                }
                if servers.iter().any(|s| *s) {
                    break;
                }
            }
        }
        // Messages past their receive count go to the dead-letter queue instead of being received.
        if let Some((_, policy)) = &attrs.redrive_policy {
            let target = policy.dead_letter_target_arn.rsplit(':').next().unwrap_or("").to_string();
            if self.queues.contains_key(&target) && target != name {
                let doomed: Vec<u64> = self.queues[name]
                    .messages
                    .iter()
                    .filter(|(_, m)| {
                        m.state(now) == MessageState::Visible && m.receive_count >= policy.max_receive_count
                    })
                    .map(|(k, _)| *k)
                    .collect();
                for k in doomed {
                    let Some(mut m) = self.queues.get_mut(name).and_then(|q| q.messages.remove(&k)) else {
                        continue;
                    };
                    // The moved copy keeps its id, body, attributes, receive count and first send time,
                    // and records where it came from (`DeadLetterQueueSourceArn`, where a move task
                    // without a destination sends it back).
                    m.visible_at = now;
                    m.dead_letter_source = Some(queue_arn(name));
                    // FIFO to FIFO: the deduplication id becomes the message id, so that the dead-letter
                    // queue's deduplication cannot drop an independent message that shared an id
                    // (Developer Guide, "Configure a dead-letter queue redrive").
                    if attrs.fifo {
                        m.deduplication_id = Some(m.message_id.clone());
                    }
                    let arrival = self.next_arrival;
                    self.next_arrival += 1;
                    if let Some(dlq) = self.queues.get_mut(&target) {
                        dlq.messages.insert(arrival, m);
                    }
                }
            }
        }
        let q = &self.queues[name];
        let in_flight = q.count(now, MessageState::InFlight);
        let mut chosen: Vec<u64> = Vec::new();
        if attrs.fifo {
            // Groups with a message in flight are blocked; the others deliver in order, the first
            // available group's messages first, as many as fit.
            let mut blocked: Vec<&str> = q
                .messages
                .values()
                .filter(|m| m.state(now) == MessageState::InFlight)
                .filter_map(|m| m.group_id.as_deref())
                .collect();
            let room = FIFO_IN_FLIGHT_LIMIT.saturating_sub(in_flight).min(max);
            let mut groups_in_order: Vec<&str> = Vec::new();
            for m in q.messages.values() {
                let g = m.group_id.as_deref().unwrap_or("");
                if !groups_in_order.contains(&g) && !blocked.contains(&g) {
                    groups_in_order.push(g);
                }
            }
            'groups: for g in groups_in_order {
                for (k, m) in &q.messages {
                    if m.group_id.as_deref().unwrap_or("") != g {
                        continue;
                    }
                    match m.state(now) {
                        MessageState::Visible => {
                            if chosen.len() == room {
                                break 'groups;
                            }
                            chosen.push(*k);
                        }
                        // A delayed message cannot happen on FIFO (no per-message delay), but a queue
                        // delay can: later messages of the group wait behind it.
                        _ => break,
                    }
                }
                blocked.push(g);
            }
        } else {
            for (k, m) in &q.messages {
                if chosen.len() == max {
                    break;
                }
                if m.state(now) == MessageState::Visible && servers[usize::from(m.server)] {
                    chosen.push(*k);
                }
            }
            // Past the in-flight quota a short poll fails with OverLimit; a long poll returns no error
            // ("Amazon SQS standard queue quotas", Messages per queue (in flight)): it finds nothing.
            if !chosen.is_empty() && in_flight + chosen.len() > STANDARD_IN_FLIGHT_LIMIT {
                if !short_poll {
                    return Ok(Vec::new());
                }
                return Err(SqsError::over_limit(format!(
                    "The maximum number of in flight messages ({STANDARD_IN_FLIGHT_LIMIT}) is reached."
                )));
            }
        }
        let mut out = Vec::with_capacity(chosen.len());
        for k in chosen {
            let nonce = self.prng.next_u64();
            let Some(m) = self.queues.get_mut(name).and_then(|q| q.messages.get_mut(&k)) else { continue };
            m.receive_count += 1;
            m.first_receive.get_or_insert(now);
            m.last_receive = Some(now);
            m.visible_at = now.plus_millis(visibility * 1000);
            m.handle_nonce = nonce;
            out.push(received(m, k, request));
        }
        Ok(out)
    }

    pub fn delete_message(&mut self, url: &str, handle: &str) -> Result<(), SqsError> {
        self.expire();
        let name = self.name_of_url(url)?;
        let (nonce, arrival) = parse_handle(handle)?;
        let now = self.now;
        let q = self.queues.get_mut(&name).ok_or_else(SqsError::queue_does_not_exist)?;
        let current =
            q.messages.get(&arrival).map(|m| (m.handle_nonce == nonce && m.receive_count > 0, m.state(now)));
        match current {
            // A FIFO handle expires with its visibility timeout ("sqs-receipt-handle-error").
            Some((latest, state)) if q.attributes.fifo && !(latest && state == MessageState::InFlight) => {
                Err(SqsError::receipt_handle_expired(handle))
            }
            Some((true, _)) => {
                q.messages.remove(&arrival);
                Ok(())
            }
            // A standard queue: a handle of a message already gone, or of an earlier receive, succeeds
            // without deleting (DeleteMessage's API Reference: the most recent handle is the one that deletes).
            _ => Ok(()),
        }
    }

    pub fn delete_message_batch(
        &mut self,
        url: &str,
        entries: &[(String, String)],
    ) -> Result<BatchResult<()>, SqsError> {
        self.expire();
        self.name_of_url(url)?;
        check_batch(entries.iter().map(|(id, _)| id.as_str()), "DeleteMessageBatchRequestEntry")?;
        let mut result = BatchResult { successful: Vec::new(), failed: Vec::new() };
        for (id, handle) in entries {
            match self.delete_message(url, handle) {
                Ok(()) => result.successful.push((id.clone(), ())),
                Err(e) => result.failed.push(failure(id, &e)),
            }
        }
        Ok(result)
    }

    pub fn change_message_visibility(
        &mut self,
        url: &str,
        handle: &str,
        timeout: i64,
    ) -> Result<(), SqsError> {
        self.expire();
        let now = self.now;
        let name = self.name_of_url(url)?;
        let (nonce, arrival) = parse_handle(handle)?;
        // Above 12 hours the total in flight is beyond the limit whatever has elapsed: the text SQS
        // returns for that (as reported from AWS in aws/aws-sdk-net#794 and localstack#3956; no AWS page
        // quotes it). A negative value keeps the engine's own wording (unverified, see the allow-list).
        if timeout < 0 {
            return Err(SqsError::invalid_value(
                timeout,
                "VisibilityTimeout",
                "Must be between 0 and 43200, if provided",
            ));
        }
        let q = self.queues.get_mut(&name).ok_or_else(SqsError::queue_does_not_exist)?;
        let m = match q.messages.get_mut(&arrival) {
            Some(m) if m.handle_nonce == nonce && m.state(now) == MessageState::InFlight => m,
            _ => return Err(SqsError::message_not_inflight()),
        };
        let since = m.last_receive.unwrap_or(now);
        let until = now.plus_millis(timeout as u64 * 1000);
        if until.as_millis() - since.as_millis() > MAX_VISIBILITY_SECONDS as u64 * 1000 {
            return Err(SqsError::invalid_value(
                timeout,
                "VisibilityTimeout",
                "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
            ));
        }
        m.visible_at = until;
        Ok(())
    }

    pub fn change_message_visibility_batch(
        &mut self,
        url: &str,
        entries: &[(String, String, i64)],
    ) -> Result<BatchResult<()>, SqsError> {
        self.expire();
        self.name_of_url(url)?;
        check_batch(
            entries.iter().map(|(id, _, _)| id.as_str()),
            "ChangeMessageVisibilityBatchRequestEntry",
        )?;
        let mut result = BatchResult { successful: Vec::new(), failed: Vec::new() };
        for (id, handle, timeout) in entries {
            match self.change_message_visibility(url, handle, *timeout) {
                Ok(()) => result.successful.push((id.clone(), ())),
                Err(e) => result.failed.push(failure(id, &e)),
            }
        }
        Ok(result)
    }

    // ---- dead-letter queue redrive (message move tasks) ----

    /// `StartMessageMoveTask`: moves the messages visible in the dead-letter queue `source_arn` now,
    /// oldest first, to `destination_arn` or (without one) back to the queue each came from, at
    /// `max_per_second` (1..=500) on virtual time. Returns the task handle.
    ///
    /// Errors: a source or destination that does not exist, `ResourceNotFoundException`; a source no
    /// queue's redrive policy names, a destination of the other queue type, a second task on a source
    /// with one running, or a rate outside 1..=500, `InvalidParameterValue` (API Reference,
    /// `StartMessageMoveTask`; Developer Guide, "Configure a dead-letter queue redrive"). The texts of
    /// the `InvalidParameterValue`s are the engine's: no AWS page quotes them.
    pub fn start_message_move_task(
        &mut self,
        source_arn: &str,
        destination_arn: Option<&str>,
        max_per_second: Option<i64>,
    ) -> Result<String, SqsError> {
        self.expire();
        if let Some(r) = max_per_second {
            if !(1..=500).contains(&r) {
                return Err(SqsError::invalid_value(
                    r,
                    "MaxNumberOfMessagesPerSecond",
                    "Must be between 1 and 500, if provided",
                ));
            }
        }
        let source = self.queue_of_arn(source_arn).ok_or_else(SqsError::resource_not_found)?;
        let is_dead_letter_queue = self.queues.values().any(|q| {
            q.attributes.redrive_policy.as_ref().is_some_and(|(_, p)| p.dead_letter_target_arn == source_arn)
        });
        if !is_dead_letter_queue {
            return Err(SqsError::invalid_value(
                source_arn,
                "SourceArn",
                "Source queue must be configured as a Dead Letter Queue",
            ));
        }
        if self.move_tasks.iter().any(|t| t.status == MoveStatus::Running && t.source_arn == source_arn) {
            return Err(SqsError::invalid_value(
                source_arn,
                "SourceArn",
                "There is already a task running. Only one active task is allowed for a source queue arn at a given time",
            ));
        }
        if let Some(d) = destination_arn {
            let dest = self.queue_of_arn(d).ok_or_else(SqsError::resource_not_found)?;
            if self.queues[&dest].attributes.fifo != self.queues[&source].attributes.fifo {
                return Err(SqsError::invalid_value(
                    d,
                    "DestinationArn",
                    "The destination queue must be the same type of queue as the source queue",
                ));
            }
        }
        let to_move = self.queues[&source].count(self.now, MessageState::Visible) as u64;
        let handle = self.uuid();
        self.move_tasks.push(MoveTask {
            handle: handle.clone(),
            source_arn: source_arn.to_string(),
            destination_arn: destination_arn.map(str::to_string),
            max_per_second: max_per_second.map(|r| r as u32),
            status: MoveStatus::Running,
            moved: 0,
            to_move,
            started: self.now,
            failure_reason: None,
        });
        // Keep the most recent tasks per source queue, as `ListMessageMoveTasks` can show them.
        let of_source = self.move_tasks.iter().filter(|t| t.source_arn == source_arn).count();
        if of_source > MOVE_TASKS_KEPT {
            if let Some(oldest) = self.move_tasks.iter().position(|t| t.source_arn == source_arn) {
                self.move_tasks.remove(oldest);
            }
        }
        // Nothing to move: the task is complete at once.
        self.run_move_tasks();
        Ok(handle)
    }

    /// `ListMessageMoveTasks`: the most recent tasks of a source queue, newest first, `max_results`
    /// (1..=10, default 1) of them.
    pub fn list_message_move_tasks(
        &mut self,
        source_arn: &str,
        max_results: Option<i64>,
    ) -> Result<Vec<MoveTask>, SqsError> {
        self.expire();
        let max = max_results.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(SqsError::invalid_value(max, "MaxResults", "Must be between 1 and 10, if provided"));
        }
        self.queue_of_arn(source_arn).ok_or_else(SqsError::resource_not_found)?;
        Ok(self
            .move_tasks
            .iter()
            .rev()
            .filter(|t| t.source_arn == source_arn)
            .take(max as usize)
            .cloned()
            .collect())
    }

    /// `CancelMessageMoveTask`: stops a running task (what it moved stays moved) and returns how many
    /// it moved. Only a `RUNNING` task can be cancelled (API Reference, `CancelMessageMoveTask`); the
    /// engine's text for another one is its own.
    pub fn cancel_message_move_task(&mut self, handle: &str) -> Result<u64, SqsError> {
        self.expire();
        let task = self
            .move_tasks
            .iter_mut()
            .find(|t| t.handle == handle)
            .ok_or_else(SqsError::resource_not_found)?;
        if task.status != MoveStatus::Running {
            return Err(SqsError::invalid_value(
                handle,
                "TaskHandle",
                &format!(
                    "Only a task in RUNNING status can be cancelled; this one is {}",
                    task.status.as_str()
                ),
            ));
        }
        task.status = MoveStatus::Cancelled;
        Ok(task.moved)
    }

    pub fn move_tasks(&self) -> &[MoveTask] {
        &self.move_tasks
    }

    /// The queue an ARN of this account and region names, if it exists.
    fn queue_of_arn(&self, arn: &str) -> Option<String> {
        let name = arn.strip_prefix(&format!("arn:aws:sqs:{REGION}:{ACCOUNT}:"))?;
        self.queues.contains_key(name).then(|| name.to_string())
    }

    /// Makes every move of the running tasks due by now, each at its own moment: the oldest message
    /// visible in the source then becomes a new message of its destination — a new message id and send
    /// time (so retention starts again), no receives — keeping its body, attributes and message group
    /// (Developer Guide, "Configure a dead-letter queue redrive": "All redriven messages are considered
    /// new messages with a new messageID and enqueueTime"). A task whose source has no visible message
    /// left completes; one that cannot place a message (no destination given and the message has no
    /// source queue, or that queue is gone) fails.
    fn run_move_tasks(&mut self) {
        let now = self.now;
        for i in 0..self.move_tasks.len() {
            while self.move_tasks[i].status == MoveStatus::Running {
                let task = &self.move_tasks[i];
                if task.moved >= task.to_move {
                    self.move_tasks[i].status = MoveStatus::Completed;
                    break;
                }
                let at = task.move_time(task.moved + 1);
                if at > now {
                    break;
                }
                let source = arn_queue_name(&task.source_arn).to_string();
                let explicit = task.destination_arn.clone();
                let next = self.queues.get(&source).and_then(|q| {
                    q.messages
                        .iter()
                        .find(|(_, m)| m.state(at) == MessageState::Visible)
                        .map(|(k, m)| (*k, m))
                });
                let Some((key, message)) = next else {
                    self.move_tasks[i].status = MoveStatus::Completed;
                    break;
                };
                let target = explicit.clone().or_else(|| message.dead_letter_source.clone());
                let dest = target.as_deref().and_then(|a| self.queue_of_arn(a));
                let Some(dest) = dest else {
                    let reason = match target {
                        Some(a) => format!("The destination queue {a} does not exist."),
                        None => format!(
                            "Message {} has no source queue to return to; give a DestinationArn.",
                            message.message_id
                        ),
                    };
                    self.move_tasks[i].status = MoveStatus::Failed;
                    self.move_tasks[i].failure_reason = Some(reason);
                    break;
                };
                let Some(mut m) = self.queues.get_mut(&source).and_then(|q| q.messages.remove(&key)) else {
                    break;
                };
                let dest_attrs = self.queues[&dest].attributes.clone();
                m.message_id = self.uuid();
                m.sent = at;
                m.visible_at = at.plus_millis(dest_attrs.delay_seconds as u64 * 1000);
                m.receive_count = 0;
                m.first_receive = None;
                m.last_receive = None;
                m.handle_nonce = 0;
                m.dead_letter_source = None;
                m.server = self.prng.below(u64::from(SERVERS)) as u8;
                if dest_attrs.fifo {
                    self.last_sequence += u128::from(self.prng.range_inclusive(1, 1_000_000));
                    m.sequence_number = Some(self.last_sequence.to_string());
                }
                let arrival = self.next_arrival;
                self.next_arrival += 1;
                if let Some(q) = self.queues.get_mut(&dest) {
                    q.messages.insert(arrival, m);
                }
                self.move_tasks[i].moved += 1;
            }
        }
    }

    /// Checks the stored-state invariants of the `sqs` module doc: the census adds up (each message in
    /// exactly one state), ids unique per queue, nothing kept past retention or in flight past 12 hours,
    /// every FIFO message in a group, no name re-created within 60 s of its deletion.
    pub fn check_invariants(&self) -> Result<(), String> {
        for q in self.queues.values() {
            let mut ids = std::collections::BTreeSet::new();
            for m in q.messages.values() {
                if !ids.insert(&m.message_id) {
                    return Err(format!("{}: message {} twice", q.name, m.message_id));
                }
                if m.state(self.now) == MessageState::InFlight && m.receive_count == 0 {
                    return Err(format!("{}: {} in flight, never received", q.name, m.message_id));
                }
                let retention = q.attributes.message_retention_period as u64 * 1000;
                if m.sent.plus_millis(retention) <= self.now {
                    return Err(format!("{}: {} kept past retention", q.name, m.message_id));
                }
                if let Some(t) = m.last_receive {
                    if m.visible_at.as_millis() > t.as_millis() + MAX_VISIBILITY_SECONDS as u64 * 1000 {
                        return Err(format!("{}: {} in flight past 12 hours", q.name, m.message_id));
                    }
                }
            }
            let c = self.census(&q.name);
            if c.visible + c.in_flight + c.delayed != q.messages.len() {
                return Err(format!("{}: census does not add up", q.name));
            }
            if q.attributes.fifo && q.messages.values().any(|m| m.group_id.is_none()) {
                return Err(format!("{}: FIFO message without a group", q.name));
            }
        }
        let mut running = std::collections::BTreeSet::new();
        for t in &self.move_tasks {
            if t.moved > t.to_move {
                return Err(format!("move task {}: moved {} of {}", t.handle, t.moved, t.to_move));
            }
            if t.status == MoveStatus::Running {
                if !running.insert(&t.source_arn) {
                    return Err(format!("{}: two running move tasks", t.source_arn));
                }
                if !self.queues.contains_key(arn_queue_name(&t.source_arn)) {
                    return Err(format!("move task {}: running without its source queue", t.handle));
                }
            }
            if (t.status == MoveStatus::Failed) != t.failure_reason.is_some() {
                return Err(format!("move task {}: a failure reason only when failed", t.handle));
            }
        }
        for q in self.queues.values() {
            if self.deleted.contains_key(&q.name)
                && self.deleted[&q.name].plus_millis(NAME_REUSE_MILLIS) > self.now
            {
                return Err(format!("{}: re-created within 60 s of its deletion", q.name));
            }
        }
        Ok(())
    }
}

const SYSTEM_ATTRIBUTES: &[&str] = &[
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
];

const KNOWN_ATTRIBUTES: &[&str] = &[
    "All",
    "Policy",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "ApproximateNumberOfMessagesDelayed",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
];

fn queue_arn(name: &str) -> String {
    format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")
}

/// The queue name an SQS ARN ends with.
fn arn_queue_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or("")
}

fn failure(id: &str, e: &SqsError) -> BatchFailure {
    BatchFailure { id: id.to_string(), sender_fault: true, code: e.entry_code(), message: e.message.clone() }
}

/// A batch: 1..=10 entries with distinct ids of at most 80 alphanumerics, hyphens and underscores.
fn check_batch<'a>(ids: impl Iterator<Item = &'a str> + Clone, entry_type: &str) -> Result<(), SqsError> {
    let n = ids.clone().count();
    if n == 0 {
        return Err(SqsError::empty_batch(entry_type));
    }
    if n > 10 {
        return Err(SqsError::too_many_entries(n));
    }
    let mut seen = std::collections::BTreeSet::new();
    for id in ids {
        if id.is_empty()
            || id.len() > 80
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(SqsError::invalid_batch_entry_id());
        }
        if !seen.insert(id) {
            return Err(SqsError::batch_ids_not_distinct(id));
        }
    }
    Ok(())
}

/// Group and deduplication ids: 1..=128 alphanumerics and punctuation.
fn check_token(value: &str, parameter: &str) -> Result<(), SqsError> {
    if value.is_empty() || value.len() > 128 || !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(SqsError::invalid_value(
            value,
            parameter,
            &format!(
                "{parameter} can only include alphanumeric and punctuation characters. 1 to 128 in length"
            ),
        ));
    }
    Ok(())
}

/// The size SQS counts against `MaximumMessageSize`: the body plus each attribute's name, type and value.
fn message_size(body: &str, attributes: &BTreeMap<String, AttributeValue>) -> usize {
    body.len()
        + attributes
            .iter()
            .map(|(n, v)| {
                n.len()
                    + v.data_type.len()
                    + match &v.value {
                        AttributeData::String(s) => s.len(),
                        AttributeData::Binary(b) => b.len(),
                    }
            })
            .sum::<usize>()
}

fn validate_body(
    body: &str,
    attributes: &BTreeMap<String, AttributeValue>,
    max: i64,
) -> Result<(), SqsError> {
    if body.is_empty() {
        return Err(SqsError::missing_parameter("MessageBody"));
    }
    let allowed = |c: char| matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
    if !body.chars().all(allowed) {
        return Err(SqsError::invalid_message_contents());
    }
    if attributes.len() > 10 {
        return Err(SqsError::invalid_parameter(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [10].",
            attributes.len()
        )));
    }
    for (name, value) in attributes {
        let name_ok = !name.is_empty()
            && name.len() <= 256
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            && !name.starts_with('.')
            && !name.ends_with('.')
            && !name.contains("..")
            && !name.to_ascii_lowercase().starts_with("aws.")
            && !name.to_ascii_lowercase().starts_with("amazon.");
        if !name_ok {
            return Err(SqsError::invalid_parameter(format!(
                "Message ({name}) contains invalid attribute name."
            )));
        }
        let base = value.data_type.split('.').next().unwrap_or("");
        let type_ok = matches!(
            (base, &value.value),
            ("String" | "Number", AttributeData::String(_)) | ("Binary", AttributeData::Binary(_))
        );
        if !type_ok {
            return Err(SqsError::invalid_parameter(format!(
                "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
            )));
        }
        let empty = match &value.value {
            AttributeData::String(s) => s.is_empty(),
            AttributeData::Binary(b) => b.is_empty(),
        };
        if empty {
            return Err(SqsError::invalid_parameter(format!(
                "Message ({name}) must contain a non-empty message attribute value for message attribute type {}.",
                value.data_type
            )));
        }
    }
    let size = message_size(body, attributes);
    if size as i64 > max {
        return Err(SqsError::invalid_parameter(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
        )));
    }
    Ok(())
}

/// A receipt handle: `AQEB`, the receive's 16 hex digits of secret, the message's 16 hex digits of
/// arrival number. Opaque to the user, as SQS's are.
fn make_handle(nonce: u64, arrival: u64) -> String {
    format!("AQEB{nonce:016x}{arrival:016x}")
}

fn parse_handle(handle: &str) -> Result<(u64, u64), SqsError> {
    let invalid = || SqsError::receipt_handle_is_invalid(handle);
    let rest = handle.strip_prefix("AQEB").ok_or_else(invalid)?;
    if rest.len() != 32 || !rest.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let nonce = u64::from_str_radix(&rest[..16], 16).map_err(|_| invalid())?;
    let arrival = u64::from_str_radix(&rest[16..], 16).map_err(|_| invalid())?;
    Ok((nonce, arrival))
}

fn received(m: &StoredMessage, arrival: u64, request: &ReceiveMessage) -> Received {
    let wants = |n: &str| request.system_attribute_names.iter().any(|a| a == n || a == "All");
    let mut attributes = BTreeMap::new();
    let secs = |t: VirtualTime| t.as_millis().to_string();
    let mut put = |n: &str, v: Option<String>| {
        if let (true, Some(v)) = (wants(n), v) {
            attributes.insert(n.to_string(), v);
        }
    };
    put("SenderId", Some(ACCOUNT.to_string()));
    put("SentTimestamp", Some(secs(m.sent)));
    put("ApproximateReceiveCount", Some(m.receive_count.to_string()));
    put("ApproximateFirstReceiveTimestamp", m.first_receive.map(secs));
    put("SequenceNumber", m.sequence_number.clone());
    put("MessageDeduplicationId", m.deduplication_id.clone());
    put("MessageGroupId", m.group_id.clone());
    put("DeadLetterQueueSourceArn", m.dead_letter_source.clone());
    let picked: BTreeMap<String, AttributeValue> = m
        .attributes
        .iter()
        .filter(|(n, _)| {
            request.message_attribute_names.iter().any(|want| {
                want == "All"
                    || want == ".*"
                    || want == *n
                    || want
                        .strip_suffix(".*")
                        .is_some_and(|p| n.starts_with(p) && n[p.len()..].starts_with('.'))
            })
        })
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    Received {
        message_id: m.message_id.clone(),
        receipt_handle: make_handle(m.handle_nonce, arrival),
        md5_of_body: m.md5_of_body.clone(),
        body: m.body.clone(),
        attributes,
        md5_of_attributes: md5_of_attributes(&picked),
        message_attributes: picked,
    }
}

#[cfg(test)]
mod move_task_tests {
    //! Message move tasks (dead-letter queue redrive), checked against what the API Reference's
    //! `StartMessageMoveTask` / `ListMessageMoveTasks` / `CancelMessageMoveTask` pages and the Developer
    //! Guide's "Configure a dead-letter queue redrive" say; invariants after every step.

    use super::*;

    const DLQ: &str = "arn:aws:sqs:us-east-1:123456789012:dlq";

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn redrive(max: u32) -> String {
        format!("{{\"deadLetterTargetArn\":\"{DLQ}\",\"maxReceiveCount\":{max}}}")
    }

    fn ok(sqs: &Sqs) {
        sqs.check_invariants().unwrap();
    }

    /// A DLQ and the given source queues (visibility 1 s, one receive allowed), each source's `n`
    /// messages dead-lettered by a second receive; returns the URLs of the sources.
    fn dead_lettered(sqs: &mut Sqs, sources: &[&str], n: usize) -> Vec<String> {
        sqs.set_short_poll_sampling(false);
        sqs.create_queue("dlq", &BTreeMap::new()).unwrap();
        let mut urls = Vec::new();
        for s in sources {
            let url = sqs
                .create_queue(s, &attrs(&[("VisibilityTimeout", "1"), ("RedrivePolicy", &redrive(1))]))
                .unwrap();
            for i in 0..n {
                sqs.send_message(&url, &SendMessage { body: format!("{s} {i}"), ..Default::default() })
                    .unwrap();
            }
            let all = ReceiveMessage { max_number_of_messages: Some(10), ..Default::default() };
            assert_eq!(sqs.receive_message(&url, &all).unwrap().len(), n);
            ok(sqs);
            urls.push(url);
        }
        sqs.advance_to(sqs.now().plus_millis(1_000));
        for url in &urls {
            let all = ReceiveMessage { max_number_of_messages: Some(10), ..Default::default() };
            assert!(sqs.receive_message(url, &all).unwrap().is_empty());
        }
        assert_eq!(sqs.census("dlq").visible, n * sources.len());
        ok(sqs);
        urls
    }

    #[test]
    fn moves_at_the_given_rate_on_virtual_time() {
        let mut sqs = Sqs::new(1);
        dead_lettered(&mut sqs, &["orders"], 3);
        let start = sqs.now();
        sqs.start_message_move_task(DLQ, None, Some(2)).unwrap();
        // 2 per second: the first move half a second after the start, the next one at 1 s.
        sqs.advance_to(start.plus_millis(499));
        assert_eq!((sqs.census("orders").visible, sqs.move_tasks()[0].moved), (0, 0));
        ok(&sqs);
        sqs.advance_to(start.plus_millis(500));
        assert_eq!((sqs.census("orders").visible, sqs.census("dlq").visible), (1, 2));
        ok(&sqs);
        sqs.advance_to(start.plus_millis(1_500));
        let task = &sqs.move_tasks()[0];
        assert_eq!((task.status, task.moved, task.to_move), (MoveStatus::Completed, 3, 3));
        assert_eq!((sqs.census("orders").visible, sqs.census("dlq").visible), (3, 0));
        assert_eq!(sqs.next_deadline().map(|t| t > start.plus_millis(1_500)), Some(true));
        ok(&sqs);
    }

    #[test]
    fn a_moved_message_is_new_and_returns_to_its_own_source() {
        let mut sqs = Sqs::new(2);
        let urls = dead_lettered(&mut sqs, &["orders", "payments"], 1);
        let old: Vec<String> =
            sqs.queue("dlq").unwrap().messages.values().map(|m| m.message_id.clone()).collect();
        let dead_lettered_at = sqs.queue("dlq").unwrap().messages.values().next().unwrap().sent;
        sqs.start_message_move_task(DLQ, None, None).unwrap();
        let moved_at = sqs.now().plus_millis(1_000);
        sqs.advance_to(moved_at);
        ok(&sqs);
        for (name, url) in ["orders", "payments"].iter().zip(&urls) {
            let q = sqs.queue(name).unwrap();
            assert_eq!(q.messages.len(), 1, "{name}");
            let m = q.messages.values().next().unwrap();
            assert_eq!(m.body, format!("{name} 0"));
            // New message id and enqueue time, no receives ("Configure a dead-letter queue redrive").
            assert!(!old.contains(&m.message_id));
            assert!(m.sent > dead_lettered_at);
            assert_eq!((m.receive_count, m.first_receive, m.dead_letter_source.clone()), (0, None, None));
            let want = ReceiveMessage {
                system_attribute_names: vec!["ApproximateReceiveCount".into()],
                ..Default::default()
            };
            let got = sqs.receive_message(url, &want).unwrap();
            assert_eq!(got[0].attributes["ApproximateReceiveCount"], "1");
        }
    }

    #[test]
    fn a_long_poll_returns_when_a_moved_message_arrives() {
        let mut sqs = Sqs::new(3);
        let urls = dead_lettered(&mut sqs, &["orders"], 1);
        let start = sqs.now();
        sqs.start_message_move_task(DLQ, None, Some(1)).unwrap();
        let wait = ReceiveMessage { wait_time_seconds: Some(20), ..Default::default() };
        let got = sqs.receive_message(&urls[0], &wait).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(sqs.now(), start.plus_millis(1_000));
        ok(&sqs);
    }

    #[test]
    fn validation_as_documented() {
        let mut sqs = Sqs::new(4);
        sqs.create_queue("dlq", &BTreeMap::new()).unwrap();
        let not_dlq = sqs.start_message_move_task(DLQ, None, None).unwrap_err();
        assert_eq!(not_dlq.code, "InvalidParameterValue");
        let missing = sqs.start_message_move_task("arn:aws:sqs:us-east-1:123456789012:x", None, None);
        assert_eq!(missing.unwrap_err().code, "ResourceNotFoundException");
        sqs.create_queue("orders", &attrs(&[("RedrivePolicy", &redrive(1))])).unwrap();
        sqs.create_queue("q.fifo", &attrs(&[("FifoQueue", "true")])).unwrap();
        let other_type = sqs
            .start_message_move_task(DLQ, Some("arn:aws:sqs:us-east-1:123456789012:q.fifo"), None)
            .unwrap_err();
        assert_eq!(other_type.code, "InvalidParameterValue");
        let no_destination =
            sqs.start_message_move_task(DLQ, Some("arn:aws:sqs:us-east-1:123456789012:gone"), None);
        assert_eq!(no_destination.unwrap_err().code, "ResourceNotFoundException");
        for rate in [0, 501, -1] {
            assert_eq!(
                sqs.start_message_move_task(DLQ, None, Some(rate)).unwrap_err().code,
                "InvalidParameterValue"
            );
        }
        assert_eq!(sqs.list_message_move_tasks(DLQ, Some(0)).unwrap_err().code, "InvalidParameterValue");
        assert_eq!(sqs.cancel_message_move_task("nope").unwrap_err().code, "ResourceNotFoundException");
        // An empty dead-letter queue: the task completes at once, and cannot be cancelled.
        let handle = sqs.start_message_move_task(DLQ, None, Some(500)).unwrap();
        let listed = sqs.list_message_move_tasks(DLQ, None).unwrap();
        assert_eq!((listed[0].status, listed[0].to_move), (MoveStatus::Completed, 0));
        assert_eq!(sqs.cancel_message_move_task(&handle).unwrap_err().code, "InvalidParameterValue");
        ok(&sqs);
    }

    #[test]
    fn one_running_task_per_source_and_cancel_keeps_what_moved() {
        let mut sqs = Sqs::new(5);
        dead_lettered(&mut sqs, &["orders"], 3);
        let start = sqs.now();
        let handle = sqs.start_message_move_task(DLQ, None, Some(1)).unwrap();
        assert_eq!(sqs.start_message_move_task(DLQ, None, None).unwrap_err().code, "InvalidParameterValue");
        sqs.advance_to(start.plus_millis(1_000));
        assert_eq!(sqs.cancel_message_move_task(&handle).unwrap(), 1);
        sqs.advance_to(start.plus_millis(10_000));
        assert_eq!((sqs.census("orders").visible, sqs.census("dlq").visible), (1, 2));
        ok(&sqs);
        // A new task may start once the other is no longer running; it counts what is there now.
        sqs.start_message_move_task(DLQ, None, None).unwrap();
        assert_eq!(sqs.list_message_move_tasks(DLQ, Some(10)).unwrap()[0].to_move, 2);
        ok(&sqs);
    }

    #[test]
    fn a_task_fails_when_it_cannot_place_a_message_or_loses_its_source() {
        let mut sqs = Sqs::new(6);
        dead_lettered(&mut sqs, &["orders"], 1);
        // Sent to the dead-letter queue directly: no source queue to go back to.
        let dlq_url = sqs.get_queue_url("dlq").unwrap();
        sqs.send_message(&dlq_url, &SendMessage { body: "direct".into(), ..Default::default() }).unwrap();
        sqs.start_message_move_task(DLQ, None, Some(10)).unwrap();
        sqs.advance_to(sqs.now().plus_millis(1_000));
        let t = &sqs.move_tasks()[0];
        assert_eq!((t.status, t.moved), (MoveStatus::Failed, 1));
        assert!(t.failure_reason.as_deref().is_some_and(|r| r.contains("DestinationArn")));
        ok(&sqs);
        // Deleting the source of a running task fails it.
        sqs.start_message_move_task(DLQ, None, Some(1)).unwrap();
        sqs.delete_queue(&dlq_url).unwrap();
        assert_eq!(sqs.move_tasks()[1].status, MoveStatus::Failed);
        ok(&sqs);
    }

    #[test]
    fn a_fifo_message_dead_lettered_takes_its_message_id_as_deduplication_id() {
        let mut sqs = Sqs::new(8);
        let dlq = "arn:aws:sqs:us-east-1:123456789012:dlq.fifo";
        sqs.create_queue("dlq.fifo", &attrs(&[("FifoQueue", "true")])).unwrap();
        let policy = format!("{{\"deadLetterTargetArn\":\"{dlq}\",\"maxReceiveCount\":1}}");
        let url = sqs
            .create_queue(
                "orders.fifo",
                &attrs(&[("FifoQueue", "true"), ("VisibilityTimeout", "1"), ("RedrivePolicy", &policy)]),
            )
            .unwrap();
        let send = SendMessage {
            body: "b".into(),
            group_id: Some("g".into()),
            deduplication_id: Some("d-1".into()),
            ..Default::default()
        };
        let sent = sqs.send_message(&url, &send).unwrap();
        assert_eq!(sqs.receive_message(&url, &ReceiveMessage::default()).unwrap().len(), 1);
        sqs.advance_to(sqs.now().plus_millis(1_000));
        assert!(sqs.receive_message(&url, &ReceiveMessage::default()).unwrap().is_empty());
        let m = sqs.queue("dlq.fifo").unwrap().messages.values().next().unwrap();
        assert_eq!(m.deduplication_id.as_deref(), Some(sent.message_id.as_str()));
        ok(&sqs);
        // Redriven back to the FIFO source: a new message in the same group, with a sequence number.
        sqs.start_message_move_task(dlq, None, None).unwrap();
        sqs.advance_to(sqs.now().plus_millis(1_000));
        let back = sqs.queue("orders.fifo").unwrap().messages.values().next().unwrap();
        assert_eq!(back.group_id.as_deref(), Some("g"));
        assert!(back.sequence_number.is_some() && back.message_id != sent.message_id);
        ok(&sqs);
    }

    #[test]
    fn at_most_ten_tasks_kept_per_source() {
        let mut sqs = Sqs::new(7);
        sqs.create_queue("dlq", &BTreeMap::new()).unwrap();
        sqs.create_queue("orders", &attrs(&[("RedrivePolicy", &redrive(1))])).unwrap();
        let handles: Vec<String> =
            (0..12).map(|_| sqs.start_message_move_task(DLQ, None, None).unwrap()).collect();
        assert_eq!(sqs.move_tasks().len(), 10);
        let listed = sqs.list_message_move_tasks(DLQ, Some(10)).unwrap();
        assert_eq!(listed[0].handle, handles[11]);
        assert_eq!(listed[9].handle, handles[2]);
        ok(&sqs);
    }
}
