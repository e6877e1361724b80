//! Producers and consumers added from the page (what tryrabbitmq.com users expect of a hand-built broker):
//! a small form becomes an actor of a scenario document, and the page plays that document.
//!
//! A hand-built broker has no actors, so adding one turns it into a scenario: the document of its
//! topology (`Session::document_from_broker`) plus the actor. A scenario keeps its document and gains
//! the actor. Either way the run starts over at t = 0 from the document (the engine is deterministic:
//! a document is the whole run), and the notice says so; the Scenario tab shows the document to tune.

use super::AppState;
use serde_json::{json, Value};

/// How a consumer settles what it is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerAck {
    /// `basic.consume` with `no_ack`: the broker forgets a message as it delivers it.
    Auto,
    /// Manual `basic.ack` after the processing time.
    Manual,
}

/// An actor to add, as the page's form gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum NewActor {
    Producer { exchange: String, routing_key: String, rate: f64, body: String },
    Consumer { queue: String, prefetch: u16, ack: ConsumerAck, processing_millis: u64 },
}

/// How long a hand-built broker turned scenario runs (it had no end of its own).
const HAND_BUILT_DURATION: &str = "1h";

impl AppState {
    /// Adds `actor` to the document the page plays (made from the broker when it plays none) and loads it.
    pub(super) fn add_actor(&mut self, actor: NewActor) {
        let (text, from_broker) = match (&self.workspace.scenario_text, self.session.borrow().scenario()) {
            (Some(text), Some(_)) => (text.clone(), false),
            _ => (self.session.borrow().document_from_broker(), true),
        };
        let mut doc: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return self.error(format!("The scenario document cannot take an actor: {e}")),
        };
        if from_broker {
            doc["name"] = json!("Hand-built broker");
            doc["description"] =
                json!("A broker built in the page, with producers and consumers added from it.");
            doc["duration"] = json!(HAND_BUILT_DURATION);
        }
        let (list, prefix, actor_json) = match actor {
            NewActor::Producer { exchange, routing_key, rate, body } => {
                if !(rate.is_finite() && rate > 0.0 && rate <= 10_000.0) {
                    return self
                        .error("A producer's rate is messages per second, more than 0 and at most 10000");
                }
                let mut p = json!({"exchange": exchange, "routing_key": routing_key, "rate": rate});
                if !body.is_empty() {
                    p["body"] = json!(body);
                }
                ("producers", "producer", p)
            }
            NewActor::Consumer { queue, prefetch, ack, processing_millis } => {
                if queue.is_empty() {
                    return self.error("A consumer needs the queue it consumes from");
                }
                let c = json!({
                    "queue": queue,
                    "prefetch": prefetch,
                    "auto_ack": ack == ConsumerAck::Auto,
                    "processing": format!("{processing_millis}ms"),
                });
                ("consumers", "consumer", c)
            }
        };
        let Some(object) = doc.as_object_mut() else {
            return self.error("The scenario document is not a JSON object");
        };
        let actors = object.entry(list).or_insert_with(|| json!([]));
        let Some(actors) = actors.as_array_mut() else {
            return self.error(format!("The scenario document's '{list}' is not a list"));
        };
        let taken = |name: &str| actors.iter().any(|a| a["name"] == name);
        let name = (1..).map(|n| format!("{prefix}-{n}")).find(|n| !taken(n)).unwrap_or_default();
        let mut actor_json = actor_json;
        actor_json["name"] = json!(name);
        actors.push(actor_json);
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        self.load_document(&text);
        // Loaded (a refusal keeps the parser's located error as the notice).
        if self.notice.as_ref().is_some_and(|n| n.kind == super::NoticeKind::Info) {
            let whence = if from_broker {
                "the broker's topology became a scenario (its messages are not carried over)"
            } else {
                "the scenario was reloaded with it"
            };
            self.info(format!("Added {prefix} '{name}': {whence}; the run starts at t = 0, press play"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::QueueForm;
    use crate::state::{Action, NoticeKind};
    use broker_core::scenario::sim::CheckStatus;

    #[test]
    fn a_producer_and_a_consumer_added_to_a_hand_built_broker_move_messages() {
        let mut s = AppState::default();
        let form = QueueForm { name: "jobs".into(), durable: true, ..QueueForm::default() };
        s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Declared".into() });
        s.apply(Action::AddActor(NewActor::Producer {
            exchange: String::new(),
            routing_key: "jobs".into(),
            rate: 5.0,
            body: "job {seq}".into(),
        }));
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
        assert!(s.notice.as_ref().unwrap().text.starts_with("Added producer 'producer-1'"), "{:?}", s.notice);
        s.apply(Action::AddActor(NewActor::Consumer {
            queue: "jobs".into(),
            prefetch: 1,
            ack: ConsumerAck::Manual,
            processing_millis: 100,
        }));
        assert!(s.notice.as_ref().unwrap().text.starts_with("Added consumer 'consumer-1'"), "{:?}", s.notice);
        let text = s.workspace.scenario_text.clone().unwrap();
        assert!(text.contains("\"producer-1\"") && text.contains("\"consumer-1\""), "{text}");
        s.session.borrow_mut().run_until(broker_core::VirtualTime::from_millis(2_000), 100_000);
        let session = s.session.borrow();
        let counters = session.counters("jobs");
        assert!(counters.enqueued >= 10, "{counters:?}");
        assert!(counters.acked >= 9, "the consumer acknowledges: {counters:?}");
        assert!(session.checks().iter().all(|c| c.status != CheckStatus::Fail));
        drop(session);
        // A bad rate is refused and nothing changes.
        let before = s.workspace.scenario_text.clone();
        s.apply(Action::AddActor(NewActor::Producer {
            exchange: String::new(),
            routing_key: "jobs".into(),
            rate: 0.0,
            body: String::new(),
        }));
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Error);
        assert_eq!(s.workspace.scenario_text, before);
    }
}
