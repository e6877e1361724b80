//! The SQS page's explanations, in plain Rust (tested natively): why a receive came back empty, why a
//! FIFO message group is blocked, why a message reached the dead-letter queue. Each reads the engine's
//! own state (a run replayed to the moment in question, which is the same state the page showed then —
//! the engine is deterministic) and the run's events; nothing of SQS's rules is decided again here, the
//! texts only say which of them applied.

use super::model::{GroupLane, QueueView, SqsSession};
use broker_core::sqs::queue::MessageState;
use broker_core::sqs::scenario::SqsEvent;

/// An empty receive the log shows: its index in the run's events, who, where, when.
#[derive(Clone, Debug, PartialEq)]
pub struct EmptyReceive {
    pub index: usize,
    pub at_ms: u64,
    pub consumer: String,
    pub queue: String,
    pub waited_ms: u64,
}

/// What a queue held just before an empty receive answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Before {
    pub visible: usize,
    pub in_flight: usize,
    pub delayed: usize,
    /// FIFO: visible messages whose group had a message in flight (SQS holds them back).
    pub visible_but_blocked: usize,
    pub fifo: bool,
    /// Whether short polls sample a subset of the servers (the document's `short_poll_sampling`).
    pub sampling: bool,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn seconds(ms: u64) -> String {
    if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{}.{:03} s", ms / 1000, ms % 1000)
    }
}

/// Why a receive came back empty, from what the queue held just before it.
pub fn why_empty(receive: &EmptyReceive, before: Before) -> Vec<String> {
    let mut out = Vec::new();
    let q = &receive.queue;
    let deliverable = before.visible - before.visible_but_blocked;
    if receive.waited_ms == 0 {
        out.push(format!(
            "{} made a short poll (WaitTimeSeconds=0): ReceiveMessage answered at once.",
            receive.consumer
        ));
    } else {
        out.push(format!(
            "{} made a long poll: it waited {} (its WaitTimeSeconds) and no message became visible in '{q}' in that time.",
            receive.consumer,
            seconds(receive.waited_ms)
        ));
    }
    if deliverable > 0 && receive.waited_ms == 0 && before.sampling && !before.fifo {
        out.push(format!(
            "'{q}' held {} just before, but a short poll asks only a sample of SQS's servers, and none of the sampled ones held one of them. Ask again, or long-poll (WaitTimeSeconds above 0): a long poll asks every server.",
            plural(deliverable, "visible message", "visible messages")
        ));
        return out;
    }
    if before.visible_but_blocked > 0 {
        out.push(format!(
            "'{q}' held {}, but each belongs to a message group with a message in flight: a FIFO queue delivers nothing else of a group until that message is deleted or its visibility timeout runs out.",
            plural(before.visible_but_blocked, "visible message", "visible messages")
        ));
    }
    if before.visible == 0 {
        match (before.in_flight, before.delayed) {
            (0, 0) => out.push(format!("'{q}' was empty: nothing had been sent to it, or everything was deleted.")),
            (n, 0) => out.push(format!(
                "Nothing in '{q}' was visible: {} in flight — received by a consumer and hidden until it is deleted or its visibility timeout runs out.",
                plural(n, "message was", "messages were")
            )),
            (0, d) => out.push(format!(
                "Nothing in '{q}' was visible: {} delayed (DelaySeconds), not receivable before the delay ends.",
                plural(d, "message was", "messages were")
            )),
            (n, d) => out.push(format!(
                "Nothing in '{q}' was visible: {} in flight (received, hidden until deleted or the visibility timeout runs out) and {} delayed (DelaySeconds).",
                plural(n, "message was", "messages were"),
                plural(d, "message", "messages")
            )),
        }
    }
    out
}

/// Why a FIFO message group is blocked (or why not).
pub fn why_blocked(queue: &QueueView, lane: &GroupLane) -> Vec<String> {
    let g = &lane.group;
    let Some(head) = lane.messages.iter().find(|m| m.state == MessageState::InFlight) else {
        return vec![format!(
            "Group '{g}' is not blocked: none of its messages is in flight, so the next receive on '{}' can take its oldest visible message.",
            queue.name
        )];
    };
    let waiting = lane.messages.iter().filter(|m| m.message_id != head.message_id).count();
    let mut out = vec![format!(
        "Message {:?} of group '{g}' is in flight (received {}, its visibility clock has {} left).",
        head.body,
        plural(head.receive_count as usize, "time", "times"),
        seconds(head.remaining_ms)
    )];
    out.push(format!(
        "A FIFO queue delivers a group's messages in order and one receive at a time: while one of them is in flight, SQS returns nothing else of '{g}' — {} behind it.",
        match waiting {
            0 => "no message waits".to_string(),
            n => format!("{} waiting", plural(n, "message", "messages")),
        }
    ));
    out.push(format!(
        "The group is free again when the consumer deletes {:?}, or when its visibility timeout runs out (in {}) and it can be received again — before the messages behind it.",
        head.body,
        seconds(head.remaining_ms)
    ));
    out
}

/// The empty receives of the run so far, latest first (kept by the session as the run plays).
pub fn empty_receives(session: &SqsSession) -> Vec<EmptyReceive> {
    session.empty_receives().iter().rev().cloned().collect()
}

/// What the queue held just before an empty receive: the run replayed to 1 ms before it (for a long
/// poll, just before it ended).
pub fn before(session: &SqsSession, receive: &EmptyReceive) -> Before {
    let sampling = session.run().document().short_poll_sampling;
    let Some(run) = session.replayed_to(receive.at_ms.saturating_sub(1)) else {
        return Before { sampling, ..Before::default() };
    };
    let now = run.time();
    let Some(q) = run.service().queue(&receive.queue) else {
        return Before { sampling, ..Before::default() };
    };
    let c = run.service().census(&receive.queue);
    let blocked_groups: Vec<&str> = q
        .messages
        .values()
        .filter(|m| m.state(now) == MessageState::InFlight)
        .filter_map(|m| m.group_id.as_deref())
        .collect();
    let visible_but_blocked = if q.attributes.fifo {
        q.messages
            .values()
            .filter(|m| m.state(now) == MessageState::Visible)
            .filter(|m| m.group_id.as_deref().is_some_and(|g| blocked_groups.contains(&g)))
            .count()
    } else {
        0
    };
    Before {
        visible: c.visible,
        in_flight: c.in_flight,
        delayed: c.delayed,
        visible_but_blocked,
        fifo: q.attributes.fifo,
        sampling,
    }
}

/// A message a redrive policy moved to a dead-letter queue.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLettered {
    pub message_id: String,
    pub body: String,
    pub from: String,
    pub to: String,
    pub at_ms: u64,
    pub receive_count: u32,
}

/// The messages moved to a dead-letter queue so far, in order (kept by the session as the run plays).
pub fn dead_lettered(session: &SqsSession) -> Vec<DeadLettered> {
    session.dead_lettered().to_vec()
}

/// Why a message reached the dead-letter queue: its receives, what the consumers did with each, and the
/// source queue's `maxReceiveCount`.
pub fn why_dead_letter(session: &SqsSession, moved: &DeadLettered) -> Vec<String> {
    let max = session
        .run()
        .service()
        .queue(&moved.from)
        .and_then(|q| q.attributes.redrive_policy.as_ref())
        .map(|(_, p)| p.max_receive_count);
    let mut out = Vec::new();
    match max {
        Some(max) => out.push(format!(
            "'{}' has a RedrivePolicy: a message received more than maxReceiveCount={max} times goes to '{}'.",
            moved.from, moved.to
        )),
        None => out.push(format!("'{}' sends its messages to '{}' (its redrive policy).", moved.from, moved.to)),
    }
    let events = session.run().events();
    let mut receives = 0;
    for (at, e) in events.iter().filter(|(at, _)| at.as_millis() <= moved.at_ms) {
        match e {
            SqsEvent::Received { consumer, message_id, receive_count, queue, .. }
                if *message_id == moved.message_id && *queue == moved.from =>
            {
                receives += 1;
                out.push(format!(
                    "{}: {consumer} received it (ApproximateReceiveCount={receive_count}).",
                    seconds(at.as_millis())
                ));
            }
            SqsEvent::ProcessingFailed { consumer, message_id, .. } if *message_id == moved.message_id => {
                out.push(format!(
                    "{}: {consumer}'s processing failed and it did not delete the message: it became visible again when its visibility timeout ran out.",
                    seconds(at.as_millis())
                ));
            }
            SqsEvent::Processed { consumer, message_id, .. } if *message_id == moved.message_id => {
                out.push(format!(
                    "{}: {consumer} processed it but had not deleted it when its visibility timeout ran out.",
                    seconds(at.as_millis())
                ));
            }
            _ => {}
        }
    }
    out.push(format!(
        "{}: {} without a delete; at the next receive its count would have gone past the limit, so SQS moved it to '{}' instead of delivering it. It keeps its message id and its receive count ({}).",
        seconds(moved.at_ms),
        plural(receives, "receive", "receives"),
        moved.to,
        moved.receive_count
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(waited_ms: u64) -> EmptyReceive {
        EmptyReceive { index: 0, at_ms: 3_000, consumer: "c".into(), queue: "q".into(), waited_ms }
    }

    #[test]
    fn an_empty_short_poll_with_visible_messages_was_the_servers_sample() {
        let mut s = SqsSession::bundled("long-and-short-polling").expect("opens");
        s.seek(s.end_ms());
        let empties = empty_receives(&s);
        assert!(empties.iter().all(|e| e.queue == "orders-short" || e.waited_ms > 0));
        // The tutorial's lesson: some short polls come back empty while messages wait in the queue.
        let sampled: Vec<&EmptyReceive> =
            empties.iter().filter(|e| e.waited_ms == 0 && before(&s, e).visible > 0).collect();
        assert!(!sampled.is_empty(), "{empties:?}");
        let text = why_empty(sampled[0], before(&s, sampled[0])).join(" ");
        assert!(
            text.contains("short poll (WaitTimeSeconds=0)") && text.contains("sample of SQS's servers"),
            "{text}"
        );
        // One on an empty queue says so.
        let empty = empties.iter().find(|e| e.waited_ms == 0 && before(&s, e).visible == 0).expect("one");
        let b = before(&s, empty);
        assert_eq!((b.visible, b.in_flight, b.delayed), (0, 0, 0));
        assert!(why_empty(empty, b).join(" ").contains("was empty"));
    }

    #[test]
    fn an_empty_receive_names_what_was_not_visible() {
        let in_flight = Before { in_flight: 2, ..Before::default() };
        let text = why_empty(&receive(20_000), in_flight).join(" ");
        assert!(text.contains("waited 20 s") && text.contains("2 messages were in flight"), "{text}");
        let delayed = Before { delayed: 1, sampling: true, ..Before::default() };
        assert!(why_empty(&receive(0), delayed).join(" ").contains("1 message was delayed (DelaySeconds)"));
        let fifo = Before {
            visible: 3,
            visible_but_blocked: 3,
            in_flight: 1,
            fifo: true,
            sampling: true,
            ..Before::default()
        };
        let text = why_empty(&receive(0), fifo).join(" ");
        assert!(
            text.contains("message group with a message in flight") && !text.contains("sample"),
            "{text}"
        );
        // Without sampling, a short poll with visible messages is not blamed on the servers.
        let plain = Before { visible: 2, ..Before::default() };
        assert!(!why_empty(&receive(0), plain).join(" ").contains("sample"));
    }

    #[test]
    fn the_vt_tutorials_second_careful_worker_found_the_job_in_flight() {
        let mut s = SqsSession::bundled("visibility-timeout").expect("opens");
        s.seek(30_000);
        // careful-b long-polled from 10 s to 30 s while careful-a held the job (its heartbeat at 20 s).
        let e = empty_receives(&s)
            .into_iter()
            .find(|e| e.consumer == "careful-b")
            .expect("careful-b's long poll");
        assert_eq!(e.waited_ms, 20_000);
        let b = before(&s, &e);
        assert_eq!((b.visible, b.in_flight), (0, 1));
        assert!(why_empty(&e, b).join(" ").contains("1 message was in flight"));
    }

    #[test]
    fn a_blocked_group_names_its_message_in_flight() {
        let mut s = SqsSession::bundled("fifo-order-and-deduplication").expect("opens");
        let mut found = None;
        for t in (0..=s.end_ms()).step_by(250) {
            s.seek(t);
            let q = s.queues().into_iter().find(|q| q.name == "orders.fifo").expect("queue");
            if let Some(lane) = q.groups.iter().find(|l| l.blocked && l.messages.len() > 1).cloned() {
                found = Some((q, lane));
                break;
            }
        }
        let (q, lane) = found.expect("a blocked group with messages waiting");
        let text = why_blocked(&q, &lane).join(" ");
        let head = lane.messages.iter().find(|m| m.state == MessageState::InFlight).expect("in flight");
        assert!(text.contains(&format!("{:?}", head.body)) && text.contains("is in flight"), "{text}");
        assert!(
            text.contains(&format!("{} waiting", plural(lane.messages.len() - 1, "message", "messages"))),
            "{text}"
        );
        let free = GroupLane { blocked: false, messages: Vec::new(), group: "g".into() };
        assert!(why_blocked(&q, &free)[0].contains("is not blocked"));
    }

    #[test]
    fn the_malformed_payment_reached_the_dlq_after_three_receives() {
        let mut s = SqsSession::bundled("dead-letter-queue-and-redrive").expect("opens");
        s.seek(39_000);
        let moved = dead_lettered(&s);
        assert_eq!(moved.len(), 1);
        let m = &moved[0];
        assert_eq!(
            (m.body.as_str(), m.from.as_str(), m.to.as_str(), m.receive_count),
            ("payment-1-malformed", "payments", "payments-dlq", 3)
        );
        let lines = why_dead_letter(&s, m);
        assert!(lines[0].contains("maxReceiveCount=3"), "{lines:?}");
        let received: Vec<&String> = lines.iter().filter(|l| l.contains("received it")).collect();
        assert_eq!(received.len(), 3, "{lines:?}");
        assert!(received[2].contains("ApproximateReceiveCount=3"));
        assert!(lines.iter().any(|l| l.contains("processing failed")), "{lines:?}");
        assert!(lines.last().unwrap().contains("3 receives without a delete"), "{lines:?}");
    }
}
