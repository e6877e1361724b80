//! What the sandboxes of the models with a page of their own (Kafka, SQS) share: the protocol's envelope
//! and shared requests ([`super::protocol`], version 1) over a model's session, which the model brings as
//! an [`EmbedSession`] together with its own requests (Kafka's `produce`, SQS's `send`, …). Plain Rust (no
//! DOM), tested natively through each model's module; [`super::model_view`] wires it to the page.
//!
//! Invariants: the sandbox's run is the model page's session (the document and what the embedding page
//! did, each kept at its instant), so the state at a time never depends on how the page got there; the
//! clock only moves forward through requests and play, and never past the run's end.

use super::protocol::{self, clip, envelope, Incoming, LoadSource, Request};
use broker_core::scenario::document::model_of;
use broker_core::VirtualTime;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::fmt::{Debug, Display};

pub use crate::player::ModelSession;

/// A model page's session as its sandbox drives it: what every session answers alike (open, play, the
/// clock, the checks, the events) is [`ModelSession`]'s; a model states here only its sandbox's own part.
pub trait EmbedSession: ModelSession {
    /// The request types the sandbox takes and the parameters of each, the shared ones included, in the
    /// order error texts list them.
    const REQUESTS: &'static [(&'static str, &'static [&'static str])];
    /// Virtual milliseconds one `step` plays (the model page's step).
    const STEP_MS: u64;
    /// The model's own requests.
    type Own: Clone + Debug + PartialEq;

    /// Validates a request of a type the shared protocol does not know (`None`: a shared one).
    fn parse_own(kind: &str, fields: &Map<String, Value>) -> Option<Result<Self::Own, String>>;
    /// Carries out one of the model's own requests: the result's fields (the clock is added to them).
    fn handle_own(embed: &mut ModelEmbed<Self>, request: Self::Own) -> Result<Value, String>;

    /// The bundled documents: (id, text).
    fn bundled() -> Vec<(&'static str, &'static str)>;
}

/// The run's events from `from` on as the protocol sends them: the engine's record (`event` its kind, its
/// fields), `at` in ms, and `text`, its transcript line.
pub fn event_records<E: Serialize + Display>(events: &[(VirtualTime, E)], from: usize) -> Vec<Value> {
    events
        .get(from..)
        .unwrap_or(&[])
        .iter()
        .map(|(at, event)| {
            let mut v = serde_json::to_value(event).unwrap_or_else(|_| json!({}));
            if let Some(m) = v.as_object_mut() {
                m.insert("at".into(), json!(at.as_millis()));
                m.insert("text".into(), Value::String(format!("{at} {event}")));
            }
            v
        })
        .collect()
}

/// The latest `n` events as transcript lines.
pub fn last_lines<E: Display>(events: &[(VirtualTime, E)], n: usize) -> Vec<String> {
    events[events.len().saturating_sub(n)..].iter().map(|(at, e)| format!("{at} {e}")).collect()
}

/// A validated request to a model's sandbox.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelRequest<Own> {
    /// A request every sandbox takes (never `Publish` or `Counters`, the RabbitMQ sandbox's).
    Shared(Request),
    /// One of the model's own.
    Own(Own),
}

/// What an incoming message is, for a model's sandbox.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelIncoming<Own> {
    Ignore,
    Bad { id: Value, error: String },
    Request { id: Value, request: ModelRequest<Own> },
}

/// Classifies and validates one incoming message's data (the envelope's rules are the RabbitMQ
/// sandbox's: [`protocol::envelope`]).
pub fn parse<S: EmbedSession>(data: &Value) -> ModelIncoming<S::Own> {
    let (id, kind, o) = match envelope(data, S::REQUESTS) {
        Ok(parts) => parts,
        Err(Incoming::Bad { id, error }) => return ModelIncoming::Bad { id, error },
        Err(_) => return ModelIncoming::Ignore,
    };
    let request = match S::parse_own(kind, o) {
        Some(own) => own.map(ModelRequest::Own),
        None => protocol::request(kind, o).map(ModelRequest::Shared),
    };
    match request {
        Ok(request) => ModelIncoming::Request { id, request },
        Err(error) => ModelIncoming::Bad { id, error },
    }
}

/// A model sandbox's state: the run (once a document is loaded), play and speed, the last outcome.
pub struct ModelEmbed<S> {
    pub session: Option<S>,
    pub playing: bool,
    pub speed: f64,
    /// The last outcome, as the controls show it: (is an error, text).
    pub notice: Option<(bool, String)>,
}

impl<S> Default for ModelEmbed<S> {
    fn default() -> Self {
        ModelEmbed { session: None, playing: false, speed: 1.0, notice: None }
    }
}

impl<S: EmbedSession> ModelEmbed<S> {
    /// Loads a bundled document by id or a document's text; the sandbox keeps what it had when the
    /// document is refused.
    pub fn load(&mut self, source: LoadSource) -> Result<(), String> {
        let page = crate::shell::page_name(S::MODEL);
        let opened = match source {
            LoadSource::Bundled(id) => {
                let bundled = S::bundled();
                match bundled.iter().find(|(b, _)| *b == id) {
                    Some((id, text)) => S::open(text, Some(*id)),
                    None => {
                        let known: Vec<&str> = bundled.iter().map(|(id, _)| *id).collect();
                        return Err(format!(
                            "no bundled {page} document '{}'; known: {}",
                            clip(&id),
                            known.join(", ")
                        ));
                    }
                }
            }
            LoadSource::Document(text) => {
                if let Ok(model) = model_of(&text) {
                    if model != S::MODEL {
                        let own = S::MODEL.as_str();
                        return Err(format!(
                            "this document's model is '{}', not '{own}': it plays in a sandbox without model={own}",
                            model.as_str()
                        ));
                    }
                }
                S::open(&text, None)
            }
        };
        let session = opened.map_err(|e| format!("This scenario cannot be loaded: {e}"))?;
        self.notice = Some((false, format!("Loaded “{}”", session.name())));
        self.session = Some(session);
        self.playing = false;
        Ok(())
    }

    pub fn session(&self) -> Result<&S, String> {
        self.session.as_ref().ok_or_else(|| "no document is loaded: send 'load' first".to_string())
    }

    pub fn session_mut(&mut self) -> Result<&mut S, String> {
        self.session.as_mut().ok_or_else(|| "no document is loaded: send 'load' first".to_string())
    }

    /// Whether the run reached its end.
    pub fn finished(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.time_ms() >= s.end_ms())
    }

    /// Plays `virtual_ms` more (clamped to the end); play stops at the end.
    pub fn advance(&mut self, virtual_ms: u64) {
        if let Some(s) = self.session.as_mut() {
            s.seek(s.time_ms().saturating_add(virtual_ms));
        }
        if self.finished() {
            self.playing = false;
        }
    }

    /// Carries out a request (other than subscriptions, which the page's listener keeps).
    pub fn handle(&mut self, request: ModelRequest<S::Own>) -> Result<Value, String> {
        let request = match request {
            ModelRequest::Own(own) => {
                let fields = S::handle_own(self, own)?;
                return Ok(self.with_clock(fields));
            }
            ModelRequest::Shared(request) => request,
        };
        match request {
            Request::Info => Ok(self.info()),
            Request::Load(source) => {
                self.load(source)?;
                Ok(self.info())
            }
            Request::Play => {
                let s = self.session()?;
                if s.time_ms() >= s.end_ms() {
                    return Err(format!(
                        "the scenario ended at {}: load it again to replay it",
                        VirtualTime::from_millis(s.end_ms())
                    ));
                }
                self.playing = true;
                Ok(self.clock())
            }
            Request::Pause => {
                self.playing = false;
                Ok(self.clock())
            }
            Request::Step => {
                self.session()?;
                self.playing = false;
                self.advance(S::STEP_MS);
                Ok(self.clock())
            }
            Request::RunUntil(target) => {
                let now = VirtualTime::from_millis(self.session()?.time_ms());
                if target < now {
                    return Err(format!("{target} is in the past: the clock is at {now}"));
                }
                self.advance(target.as_millis() - now.as_millis());
                Ok(self.clock())
            }
            Request::SetSpeed(speed) => {
                self.speed = speed;
                Ok(self.clock())
            }
            Request::Checks => self.checks(),
            other => Err(format!(
                "'{other:?}' is not a {} sandbox's request; it is kept by the listener",
                crate::shell::page_name(S::MODEL)
            )),
        }
    }

    /// The clock and play state: part of most results (the RabbitMQ sandbox's shape).
    pub fn clock(&self) -> Value {
        let (now, end) = self.session.as_ref().map_or((0, None), |s| (s.time_ms(), Some(s.end_ms())));
        json!({
            "timeMillis": now,
            "time": VirtualTime::from_millis(now).to_string(),
            "endMillis": end,
            "playing": self.playing,
            "speed": self.speed,
            "finished": self.finished(),
        })
    }

    pub fn with_clock(&self, fields: Value) -> Value {
        let mut out = self.clock();
        if let (Some(m), Value::Object(f)) = (out.as_object_mut(), fields) {
            m.extend(f);
        }
        out
    }

    /// The loaded document (if any), the model and the clock.
    pub fn info(&self) -> Value {
        let scenario = self.session.as_ref().map_or(
            Value::Null,
            |s| json!({"name": s.name(), "description": s.description(), "bundled": s.bundled_id()}),
        );
        self.with_clock(
            json!({"protocol": protocol::PROTOCOL_VERSION, "model": S::MODEL.as_str(), "scenario": scenario}),
        )
    }

    /// The document's checks as judged now, with a tally (the RabbitMQ sandbox's shape).
    pub fn checks(&self) -> Result<Value, String> {
        let results = self.session()?.checks();
        let count = |status| results.iter().filter(|c| c.status == status).count();
        use broker_core::scenario::sim::CheckStatus;
        let (passed, failed, pending) =
            (count(CheckStatus::Pass), count(CheckStatus::Fail), count(CheckStatus::Pending));
        let list: Vec<Value> = results
            .iter()
            .map(|c| {
                json!({
                    "index": c.index,
                    "description": c.description,
                    "status": protocol::status_text(c.status),
                    "observed": c.observed,
                    "reason": c.reason,
                })
            })
            .collect();
        Ok(self.with_clock(json!({"passed": passed, "failed": failed, "pending": pending, "checks": list})))
    }

    /// How many events the run has logged so far.
    pub fn event_count(&self) -> usize {
        self.session.as_ref().map_or(0, |s| s.run_events().len())
    }

    /// The run's events from index `from` on, as sent to subscribers ([`event_records`]).
    pub fn event_records(&self, from: usize) -> Vec<Value> {
        self.session.as_ref().map_or_else(Vec::new, |s| event_records(s.run_events(), from))
    }

    /// The latest `n` events as transcript lines (the log panel).
    pub fn last_lines(&self, n: usize) -> Vec<String> {
        self.session.as_ref().map_or_else(Vec::new, |s| last_lines(s.run_events(), n))
    }
}
