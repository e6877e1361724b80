//! Event-log filtering for the log view: by kind, queue, message and text, incrementally, so a log that
//! only grows is scanned once (the view stays fast with 100,000 events).

use broker_core::amqp::exchange::Destination;
use broker_core::amqp::{Event, LoggedEvent, MessageId};
use broker_core::scenario::document::EVENT_KINDS;

/// The filter group of an event tag (`event` in the engine's log): a connection's, a channel's or a
/// consumer's opening and closing share one group; every other tag is its own.
fn group_of_tag(tag: &'static str) -> &'static str {
    match tag {
        "connection_opened" | "connection_closed" => "connection",
        "channel_opened" | "channel_closed" | "confirm_selected" | "qos_set" => "channel",
        "consumer_started" | "consumer_cancelled" => "consumer",
        other => other,
    }
}

/// Every event kind, as the filter's list offers them: the engine's event tags
/// ([`EVENT_KINDS`]), grouped as [`event_kind`] groups events, in the engine's order.
pub fn kinds() -> Vec<&'static str> {
    let mut kinds = Vec::new();
    for tag in EVENT_KINDS {
        let group = group_of_tag(tag);
        if !kinds.contains(&group) {
            kinds.push(group);
        }
    }
    kinds
}

/// The kind of an event (its filter group): the engine's own tag ([`Event::kind`]), grouped.
pub fn event_kind(e: &Event) -> &'static str {
    group_of_tag(e.kind())
}

/// Whether an event concerns the named queue.
pub fn mentions_queue(e: &Event, name: &str) -> bool {
    match e {
        Event::QueueDeclared { queue, .. }
        | Event::QueueDeleted { queue, .. }
        | Event::QueuePurged { queue, .. }
        | Event::ConsumerStarted { queue, .. }
        | Event::ConsumerCancelled { queue, .. }
        | Event::Enqueued { queue, .. }
        | Event::Delivered { queue, .. }
        | Event::GetEmpty { queue, .. }
        | Event::Acked { queue, .. }
        | Event::Nacked { queue, .. }
        | Event::Rejected { queue, .. }
        | Event::Requeued { queue, .. }
        | Event::Expired { queue, .. }
        | Event::DeadLettered { queue, .. } => &**queue == name,
        Event::Dropped { queue, .. } => queue.as_deref() == Some(name),
        Event::Routed { queues, .. } => queues.iter().any(|q| &**q == name),
        Event::Bound { destination: Destination::Queue(q), .. }
        | Event::Unbound { destination: Destination::Queue(q), .. } => &**q == name,
        _ => false,
    }
}

/// The message an event is about (its engine identity), for lineage; `None` for events about no one
/// message.
pub fn message_of(e: &Event) -> Option<MessageId> {
    match e {
        Event::Published { message, .. }
        | Event::Routed { message, .. }
        | Event::Enqueued { message, .. }
        | Event::Acked { message, .. }
        | Event::Nacked { message, .. }
        | Event::Rejected { message, .. }
        | Event::Requeued { message, .. }
        | Event::Expired { message, .. }
        | Event::DeadLettered { message, .. }
        | Event::Dropped { message, .. }
        | Event::Returned { message, .. } => Some(*message),
        Event::Delivered { delivery, .. } => Some(delivery.message),
        _ => None,
    }
}

/// The filter the log view applies; empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub kind: String,
    pub queue: String,
    /// Case-insensitive text of the event line (also finds a message id such as `m12`).
    pub text: String,
}

impl LogFilter {
    pub fn is_empty(&self) -> bool {
        self.kind.is_empty() && self.queue.is_empty() && self.text.is_empty()
    }

    pub fn matches(&self, e: &LoggedEvent) -> bool {
        if !self.kind.is_empty() && event_kind(&e.event) != self.kind {
            return false;
        }
        if !self.queue.is_empty() && !mentions_queue(&e.event, &self.queue) {
            return false;
        }
        if !self.text.is_empty() {
            let line = e.event.to_string().to_lowercase();
            // Whole-word match for message ids so `m1` does not find `m12`.
            let needle = self.text.to_lowercase();
            let is_id = needle.len() > 1
                && needle.starts_with('m')
                && needle[1..].bytes().all(|b| b.is_ascii_digit());
            if is_id {
                return line.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == needle);
            }
            return line.contains(&needle);
        }
        true
    }
}

/// The indices of the log's matching events, kept up to date as the log grows.
#[derive(Clone, Debug, Default)]
pub struct FilteredLog {
    filter: LogFilter,
    scanned: usize,
    pub matches: Vec<usize>,
}

impl FilteredLog {
    /// Brings the matches up to date with `log` under `filter`, scanning only what is new unless the filter
    /// changed or the log is not the one scanned before (it shrank).
    pub fn update(&mut self, log: &[LoggedEvent], filter: &LogFilter) {
        if *filter != self.filter || log.len() < self.scanned {
            *self = FilteredLog { filter: filter.clone(), scanned: 0, matches: Vec::new() };
        }
        if filter.is_empty() {
            self.matches.extend(self.scanned..log.len());
        } else {
            self.matches.extend((self.scanned..log.len()).filter(|&i| filter.matches(&log[i])));
        }
        self.scanned = log.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;
    use crate::state::{Action, AppState};

    #[test]
    fn filters_by_kind_queue_and_message_incrementally() {
        let mut s = AppState::new(Session::new(1));
        s.apply(Action::LoadExample);
        let session = s.session.clone();
        let log = session.borrow().log().to_vec();
        let mut f = FilteredLog::default();
        f.update(&log, &LogFilter { kind: "enqueued".into(), ..LogFilter::default() });
        let n = f.matches.len();
        assert!(n >= 3, "each example publish is enqueued somewhere");
        assert!(f.matches.iter().all(|&i| event_kind(&log[i].event) == "enqueued"));
        // Growth is scanned incrementally and gives what a fresh scan gives.
        s.apply(Action::Get { queue: "orders.eu".into(), count: 1, mode: crate::forms::AckMode::RejectDrop });
        let log = session.borrow().log().to_vec();
        let filter = LogFilter { queue: "orders.dead".into(), ..LogFilter::default() };
        f.update(&log, &filter);
        let mut fresh = FilteredLog::default();
        fresh.update(&log, &filter);
        assert_eq!(f.matches, fresh.matches);
        assert!(
            f.matches.iter().any(|&i| matches!(log[i].event, Event::Enqueued { .. })),
            "dead-lettered copy"
        );
        let by_id = LogFilter { text: "m1".into(), ..LogFilter::default() };
        let mut g = FilteredLog::default();
        g.update(&log, &by_id);
        assert!(!g.matches.is_empty());
        assert!(g.matches.iter().all(|&i| !log[i].event.to_string().contains("m10")));
    }

    #[test]
    fn every_logged_event_is_in_the_group_of_its_engine_tag_and_the_list_offers_it() {
        let kinds = kinds();
        let mut seen = std::collections::BTreeSet::new();
        for (name, text) in crate::scenarios::BUNDLED {
            let mut s = Session::from_scenario(text).expect("a bundled scenario loads");
            s.run_until(broker_core::VirtualTime::from_millis(60_000), 1_000_000);
            for e in s.log() {
                let tag = broker_core::scenario::report::event_kind(&e.event);
                let tag: &'static str =
                    EVENT_KINDS.iter().find(|k| **k == tag).unwrap_or_else(|| panic!("{name}: tag {tag}"));
                assert_eq!(event_kind(&e.event), group_of_tag(tag), "{name}: {}", e.event);
                assert!(kinds.contains(&event_kind(&e.event)));
                seen.insert(event_kind(&e.event));
            }
        }
        assert!(seen.len() >= 15, "the bundled scenarios show most kinds: {seen:?}");
        let unique: std::collections::BTreeSet<_> = kinds.iter().collect();
        assert_eq!(unique.len(), kinds.len(), "each kind offered once");
    }

    #[test]
    fn a_hundred_thousand_events_filter_without_reformatting_twice() {
        let mut s = Session::new(1);
        s.ui_apply(broker_core::amqp::Method::QueueDeclare {
            queue: "q".into(),
            passive: false,
            durable: false,
            exclusive: false,
            auto_delete: false,
            arguments: Default::default(),
        })
        .unwrap();
        for _ in 0..34_000 {
            s.ui_apply(broker_core::amqp::Method::BasicPublish {
                exchange: String::new(),
                routing_key: "q".into(),
                mandatory: false,
                properties: Default::default(),
                body: Vec::new(),
                immediate: false,
            })
            .unwrap();
        }
        let log = s.log();
        assert!(log.len() > 100_000);
        let mut f = FilteredLog::default();
        let filter = LogFilter { kind: "routed".into(), ..LogFilter::default() };
        f.update(log, &filter);
        assert_eq!(f.matches.len(), 34_000);
        let before = f.scanned;
        f.update(log, &filter);
        assert_eq!((f.scanned, f.matches.len()), (before, 34_000), "nothing new: nothing rescanned");
    }
}
