//! The page side of the embed protocol: listens for `message` events, obeys only the allowed origins,
//! answers each request to the window and origin it came from, and pushes notifications (events to
//! subscribers; `ready`, `resize` and `finished` to the embedding page).

use super::protocol::{self, Incoming, LoadSource, Request, Sandbox};
use crate::state::{Action, AppState};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use wasm_bindgen::JsCast;
use yew::UseReducerHandle;

impl Sandbox for UseReducerHandle<AppState> {
    fn current(&self) -> &AppState {
        // Yew 0.23's handle reads the shared current state, which dispatch updates synchronously.
        self
    }

    fn act(&mut self, action: Action) {
        UseReducerHandle::dispatch(self, action);
    }
}

/// A window that asked for event notifications.
struct Subscriber {
    target: web_sys::Window,
    origin: String,
    /// Only these event kinds; all when `None`.
    kinds: Option<BTreeSet<String>>,
}

/// What every sandbox's listener (the RabbitMQ one here, each model's in [`super::model_view`]) remembers
/// between messages and renders: who may talk to it, who subscribed, what was sent.
///
/// # Invariants
/// - `sent_events` ≤ the run's event count after every [`Listener::flush`]; events before it were offered
///   to the subscribers of their time (a new subscriber sees events from its subscription on).
/// - Every subscriber's `origin` is one of `allowed_origins`; the parent's origin is one too, or `None`.
pub struct Listener {
    allowed_origins: Vec<String>,
    /// The embedding page's origin, when allowed: where `ready`, `resize` and `finished` go.
    parent_origin: Option<String>,
    subscribers: Vec<Subscriber>,
    sent_events: usize,
    /// Messages dropped because their origin is not allowed (reported by `info`, so a test can tell a
    /// message was seen and ignored rather than not delivered yet).
    ignored_messages: u64,
    announced_finished: bool,
    last_height: i32,
}

impl Listener {
    pub fn new(allowed_origins: Vec<String>, parent_origin: Option<String>) -> Listener {
        let parent_origin = parent_origin.filter(|o| allowed_origins.contains(o));
        Listener {
            allowed_origins,
            parent_origin,
            subscribers: Vec::new(),
            sent_events: 0,
            ignored_messages: 0,
            announced_finished: false,
            last_height: 0,
        }
    }

    /// The window and origin to answer a message from an allowed origin; any other is counted and
    /// ignored without a word (an answer would tell a stranger we exist).
    pub fn admit(&mut self, event: &web_sys::MessageEvent) -> Option<(web_sys::Window, String)> {
        let origin = event.origin();
        if !self.allowed_origins.contains(&origin) {
            self.ignored_messages += 1;
            return None;
        }
        // A cross-origin window proxy fails `instanceof Window`, yet `postMessage` on it works.
        let source: web_sys::Window = event.source()?.unchecked_into();
        Some((source, origin))
    }

    /// `subscribe`: events (of `kinds`, or all) go to `source` from now on, replacing its subscription.
    pub fn subscribe(
        &mut self,
        source: &web_sys::Window,
        origin: &str,
        kinds: Option<BTreeSet<String>>,
    ) -> Value {
        self.subscribers.retain(|s| !(same_window(&s.target, source) && s.origin == origin));
        self.subscribers.push(Subscriber { target: source.clone(), origin: origin.to_string(), kinds });
        json!({"subscribed": true})
    }

    /// `unsubscribe`: no more events to `source`.
    pub fn unsubscribe(&mut self, source: &web_sys::Window, origin: &str) -> Value {
        let before = self.subscribers.len();
        self.subscribers.retain(|s| !(same_window(&s.target, source) && s.origin == origin));
        json!({"subscribed": false, "removed": before - self.subscribers.len()})
    }

    /// `info`'s count of ignored messages, added to the sandbox's own.
    pub fn with_ignored(&self, mut info: Value) -> Value {
        info["ignoredMessages"] = json!(self.ignored_messages);
        info
    }

    /// A new run was loaded: its log starts afresh.
    pub fn restart(&mut self) {
        self.sent_events = 0;
        self.announced_finished = false;
    }

    /// Sends what is new since the last call: the run's events from the last sent on (`count` of them in
    /// all, `records(from)` as the protocol's records) to subscribers, `finished` (with `report()`) when
    /// the run reached its end, and `resize` when the content's height changed.
    pub fn flush(
        &mut self,
        count: usize,
        records: impl FnOnce(usize) -> Vec<Value>,
        finished: bool,
        report: impl FnOnce() -> Option<Value>,
    ) {
        if count < self.sent_events {
            self.sent_events = 0;
        }
        if !self.subscribers.is_empty() && count > self.sent_events {
            let records = records(self.sent_events);
            for s in &self.subscribers {
                let chosen: Vec<&Value> = records
                    .iter()
                    .filter(|r| s.kinds.as_ref().is_none_or(|k| k.contains(protocol::event_kind(r))))
                    .collect();
                if !chosen.is_empty() {
                    post(&s.target, &s.origin, &protocol::notification("events", json!({"events": chosen})));
                }
            }
        }
        self.sent_events = count;
        if finished && !self.announced_finished {
            self.announced_finished = true;
            if let Some(report) = report() {
                self.to_parent(&protocol::notification("finished", report));
            }
        } else if !finished {
            self.announced_finished = false;
        }
        // The body's content, not the document: a document is never shorter than its frame, so measuring
        // it would let the frame grow but never shrink (embed.css lets the body be as short as it is).
        let height = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
            .map_or(0, |body| body.scroll_height());
        if height != self.last_height {
            self.last_height = height;
            self.to_parent(&protocol::notification("resize", json!({"height": height})));
        }
    }

    /// Posts `message` to the embedding page, if its origin is allowed.
    pub fn to_parent(&self, message: &Value) {
        let (Some(origin), Some(parent)) = (&self.parent_origin, parent_window()) else { return };
        post(&parent, origin, message);
    }
}

/// A `load` request whose document needs the scripting engine, which is not loaded yet: the listener
/// awaits the engine, then [`Hub::finish_load`] carries the request out and answers it, so a page that
/// awaits the reply finds the scenario loaded.
pub struct PendingLoad {
    id: Value,
    source: web_sys::Window,
    origin: String,
    request: Request,
}

/// The RabbitMQ sandbox's listener: the shared [`Listener`] over the app's state.
pub struct Hub {
    listener: Listener,
}

impl Hub {
    pub fn new(allowed_origins: Vec<String>, parent_origin: Option<String>) -> Hub {
        Hub { listener: Listener::new(allowed_origins, parent_origin) }
    }

    /// Handles one `message` event; a `load` that must wait for the scripting engine comes back
    /// unanswered, for [`Hub::finish_load`].
    pub fn receive(
        &mut self,
        sandbox: &mut UseReducerHandle<AppState>,
        event: &web_sys::MessageEvent,
    ) -> Option<PendingLoad> {
        let (source, origin) = self.listener.admit(event)?;
        let (id, outcome) = match parse_js(&event.data()) {
            Incoming::Ignore => return None,
            Incoming::Request { id, request } if waits_for_scripting(&request) => {
                return Some(PendingLoad { id, source, origin, request });
            }
            Incoming::Bad { id, error } => (id, Err(error)),
            Incoming::Request { id, request } => {
                let outcome = match request {
                    Request::Subscribe { kinds } => Ok(self.listener.subscribe(&source, &origin, kinds)),
                    Request::Unsubscribe => Ok(self.listener.unsubscribe(&source, &origin)),
                    request @ Request::Load(_) => self.load(sandbox, request),
                    Request::Info => Ok(self.listener.with_ignored(protocol::info(sandbox.current()))),
                    request => protocol::handle(sandbox, request),
                };
                (id, outcome)
            }
        };
        // Events the request caused go out before its reply, so a page that awaits the reply has them.
        self.flush(sandbox.current());
        post(&source, &origin, &protocol::reply(&id, outcome));
        None
    }

    /// Carries out a `load` request.
    fn load(&mut self, sandbox: &mut UseReducerHandle<AppState>, request: Request) -> Result<Value, String> {
        let outcome = protocol::handle(sandbox, request);
        if outcome.is_ok() {
            self.listener.restart();
        }
        outcome
    }

    /// Answers a `load` that waited for the scripting engine: carried out if the engine loaded, else
    /// refused with why (the sandbox keeps what it had).
    pub fn finish_load(
        &mut self,
        sandbox: &mut UseReducerHandle<AppState>,
        pending: PendingLoad,
        loaded: Result<(), String>,
    ) {
        let PendingLoad { id, source, origin, request } = pending;
        let outcome = loaded.and_then(|()| self.load(sandbox, request));
        self.flush(sandbox.current());
        post(&source, &origin, &protocol::reply(&id, outcome));
    }

    /// Sends what is new since the last call (see [`Listener::flush`]).
    pub fn flush(&mut self, state: &AppState) {
        let session = state.session.borrow();
        let log = session.log();
        let finished = session.finished();
        self.listener.flush(
            log.len(),
            |from| log[from..].iter().map(protocol::event_record).collect(),
            finished,
            || Some(protocol::checks(state)),
        );
    }

    /// Tells the embedding page the sandbox is listening.
    pub fn announce_ready(&self, state: &AppState) {
        self.listener.to_parent(&protocol::notification("ready", protocol::info(state)));
    }
}

/// Whether a `load` request's document has scripts and the scripting engine is not loaded yet.
fn waits_for_scripting(request: &Request) -> bool {
    let text = match request {
        Request::Load(LoadSource::Bundled(id)) => crate::scenarios::bundled_text(id),
        Request::Load(LoadSource::Document(text)) => Some(text.as_str()),
        _ => None,
    };
    text.is_some_and(|t| !crate::scripting::ready() && crate::scripting::needs_engine(t))
}

/// The deepest a message may nest (arrays and objects inside each other): converting it to JSON recurses
/// once per level on the wasm stack (1 MiB), which a few thousand levels overflow, killing the sandbox.
pub const MAX_MESSAGE_DEPTH: usize = 64;
/// The most values a message may hold, counting a shared object each time it is reached (so a small
/// object graph cannot expand into an exponential tree).
pub const MAX_MESSAGE_VALUES: usize = 1_000_000;

/// Classifies a message's data as it arrives from JavaScript. Values JSON cannot hold (a function, a DOM
/// node, a cycle) are not a Brokerlab message: ignored. A message too deep or too large to convert is
/// refused before the conversion (an error reply when it is a Brokerlab request, else ignored).
pub fn parse_js(data: &wasm_bindgen::JsValue) -> Incoming {
    match js_value(data) {
        Ok(Some(value)) => protocol::parse(&value),
        Ok(None) => Incoming::Ignore,
        Err(error) => Incoming::Bad { id: Value::Null, error },
    }
}

/// A message's data as JSON, for either model's parser: `Ok(None)` when it is not JSON or too large and
/// not a Brokerlab message (ignored), `Err(why)` when a Brokerlab message is too deep or too large.
pub fn js_value(data: &wasm_bindgen::JsValue) -> Result<Option<Value>, String> {
    if let Err(error) = check_shape(data) {
        let ours = data.is_object() && js_sys::Reflect::has(data, &"brokerlab".into()).unwrap_or(false);
        return if ours { Err(error) } else { Ok(None) };
    }
    Ok(serde_wasm_bindgen::from_value::<Value>(data.clone()).ok())
}

/// Walks the message without recursion: at most [`MAX_MESSAGE_DEPTH`] levels and
/// [`MAX_MESSAGE_VALUES`] values (a cycle stops at the depth limit).
fn check_shape(data: &wasm_bindgen::JsValue) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let mut pending = vec![(data.clone(), 0usize)];
    let mut seen = 0usize;
    while let Some((value, depth)) = pending.pop() {
        seen += 1;
        if seen > MAX_MESSAGE_VALUES {
            return Err(format!("the message holds more than {MAX_MESSAGE_VALUES} values"));
        }
        if depth > MAX_MESSAGE_DEPTH {
            return Err(format!(
                "the message nests more than {MAX_MESSAGE_DEPTH} levels deep (arrays and objects inside each other)"
            ));
        }
        if js_sys::Array::is_array(&value) {
            pending.extend(js_sys::Array::from(&value).iter().map(|item| (item, depth + 1)));
        } else if value.is_object() && !value.is_function() {
            let object: &js_sys::Object = value.unchecked_ref();
            pending.extend(js_sys::Object::values(object).iter().map(|item| (item, depth + 1)));
        }
    }
    Ok(())
}

/// The embedding window, or `None` when the sandbox is the top-level page.
pub fn parent_window() -> Option<web_sys::Window> {
    let window = web_sys::window()?;
    let parent = window.parent().ok().flatten()?;
    (!same_window(&parent, &window)).then_some(parent)
}

pub fn same_window(a: &web_sys::Window, b: &web_sys::Window) -> bool {
    let (a, b): (&wasm_bindgen::JsValue, &wasm_bindgen::JsValue) = (a.as_ref(), b.as_ref());
    a == b
}

/// Posts a JSON value as a plain JavaScript object (not a `Map`) to `target`, for `origin` only.
pub fn post(target: &web_sys::Window, origin: &str, message: &Value) {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    if let Ok(js) = message.serialize(&serializer) {
        // A window that went away (its frame removed) cannot be answered; nothing else to do.
        let _ = target.post_message(&js, origin);
    }
}

/// The decoded query pairs of the page's address.
pub fn query_pairs() -> Vec<(String, String)> {
    let Some(search) = web_sys::window().and_then(|w| w.location().search().ok()) else { return Vec::new() };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else { return Vec::new() };
    let Ok(Some(entries)) = js_sys::try_iter(&params) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|pair| {
            let pair: js_sys::Array = pair.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

/// The sandbox's own origin.
pub fn own_origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

/// The embedding page's origin as the referrer tells it (browsers send at least the origin to a frame).
pub fn referrer_origin() -> Option<String> {
    parent_window()?;
    let referrer = web_sys::window()?.document()?.referrer();
    super::config::origin_of(&referrer)
}
