//! What the sandboxes of the models with a page of their own (Kafka, SQS) share of their page: the
//! address's panels, the listener ([`ModelHub`], the shared [`Listener`] over a [`ModelEmbed`]), the player,
//! and the controls, checks and log panels. Each model's view (`kafka_view.rs`, `sqs_view.rs`) adds its
//! own panels and mounts [`use_model_sandbox`].
//!
//! Invariants (of [`ModelHub`], as the RabbitMQ sandbox's hub): events before the listener's count were
//! offered to the subscribers of their time; every subscriber's origin is an allowed one; a reply goes to
//! the window and origin its request came from, after the events the request caused.

use super::bridge::{self, post, Listener};
use super::config::{self, EmbedConfig};
use super::model::{EmbedSession, ModelEmbed, ModelIncoming, ModelRequest};
use super::protocol::{self, Request};
use crate::components::header::speed_options;
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// Wall milliseconds between two steps of play; each plays this much virtual time times the speed.
const TICK_MS: u32 = 100;
/// How many of the latest events the log panel lists.
pub const LOG_LINES: usize = 12;

/// A part of a model sandbox's view an author can choose (`panels=`).
pub trait ModelPanel: Copy + PartialEq + 'static {
    /// Every panel, in the order the warning lists them.
    const ALL: &'static [Self];
    /// The panels shown when the address names none.
    const DEFAULT: &'static [Self];
    fn name(self) -> &'static str;
}

/// A model sandbox's panels from `panels=` (default: [`ModelPanel::DEFAULT`]), with a warning per unknown
/// name; the rest of the address is read as the RabbitMQ sandbox reads it.
pub fn model_config<P: ModelPanel>(
    pairs: &[(String, String)],
    parent: Option<&str>,
    own: &str,
) -> (EmbedConfig, Vec<P>) {
    let (panel_pairs, rest): (Vec<_>, Vec<_>) = pairs.iter().cloned().partition(|(k, _)| k == "panels");
    let mut config = config::from_query(&rest, parent, own);
    let mut panels = Vec::new();
    for (_, value) in panel_pairs {
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match P::ALL.iter().find(|p| p.name() == name) {
                Some(p) if !panels.contains(p) => panels.push(*p),
                Some(_) => {}
                None => {
                    let known: Vec<&str> = P::ALL.iter().map(|p| p.name()).collect();
                    config.warnings.push(format!("unknown panel '{name}' (known: {})", known.join(", ")));
                }
            }
        }
    }
    if panels.is_empty() {
        panels = P::DEFAULT.to_vec();
    }
    (config, panels)
}

/// A model sandbox's listener: the shared [`Listener`] over its [`ModelEmbed`].
pub struct ModelHub {
    listener: Listener,
}

impl ModelHub {
    pub fn new(allowed_origins: Vec<String>, parent_origin: Option<String>) -> ModelHub {
        ModelHub { listener: Listener::new(allowed_origins, parent_origin) }
    }

    /// Handles one `message` event.
    pub fn receive<S: EmbedSession>(&mut self, embed: &mut ModelEmbed<S>, event: &web_sys::MessageEvent) {
        let Some((source, origin)) = self.listener.admit(event) else { return };
        let incoming = match bridge::js_value(&event.data()) {
            Ok(Some(value)) => super::model::parse::<S>(&value),
            Ok(None) => ModelIncoming::Ignore,
            Err(error) => ModelIncoming::Bad { id: Value::Null, error },
        };
        let (id, outcome) = match incoming {
            ModelIncoming::Ignore => return,
            ModelIncoming::Bad { id, error } => (id, Err(error)),
            ModelIncoming::Request { id, request } => {
                let outcome = match request {
                    ModelRequest::Shared(Request::Subscribe { kinds }) => {
                        Ok(self.listener.subscribe(&source, &origin, kinds))
                    }
                    ModelRequest::Shared(Request::Unsubscribe) => {
                        Ok(self.listener.unsubscribe(&source, &origin))
                    }
                    ModelRequest::Shared(Request::Info) => Ok(self.listener.with_ignored(embed.info())),
                    request @ ModelRequest::Shared(Request::Load(_)) => {
                        let outcome = embed.handle(request);
                        if outcome.is_ok() {
                            self.listener.restart();
                        }
                        outcome
                    }
                    request => embed.handle(request),
                };
                (id, outcome)
            }
        };
        if let Err(e) = &outcome {
            embed.notice = Some((true, e.clone()));
        }
        self.flush(embed);
        post(&source, &origin, &protocol::reply(&id, outcome));
    }

    /// New events to subscribers, `finished` at the run's end, `resize` when the height changed.
    pub fn flush<S: EmbedSession>(&mut self, embed: &ModelEmbed<S>) {
        self.listener.flush(
            embed.event_count(),
            |from| embed.event_records(from),
            embed.finished(),
            || embed.checks().ok(),
        );
    }
}

/// The sandbox's state and a redraw, for the model's panels.
pub struct Sandbox<S> {
    pub embed: Rc<RefCell<ModelEmbed<S>>>,
    pub redraw: UseForceUpdateHandle,
}

/// Mounts a model sandbox's machinery: its state (the address's document loaded at start), the `message`
/// listener, the player, the `ready` announcement, the flush after every render and the page set-up.
#[hook]
pub fn use_model_sandbox<S: EmbedSession>(config: &EmbedConfig) -> Sandbox<S> {
    let embed = {
        let config = config.clone();
        use_mut_ref(move || {
            let mut embed = ModelEmbed::<S>::default();
            if let Some(id) = &config.scenario {
                if let Err(e) = embed.load(protocol::LoadSource::Bundled(id.clone())) {
                    embed.notice = Some((true, e));
                }
            }
            if let Some(speed) = config.speed {
                embed.speed = speed;
            }
            embed
        })
    };
    let hub = {
        let config = config.clone();
        use_mut_ref(move || ModelHub::new(config.allowed_origins.clone(), bridge::referrer_origin()))
    };
    let redraw = use_force_update();
    {
        // The listener and the player, once.
        let (embed, hub, redraw) = (embed.clone(), hub.clone(), redraw.clone());
        use_effect_with((), move |_| {
            use wasm_bindgen::JsCast;
            let listener = web_sys::window().map(|window| {
                let (embed, hub, redraw) = (embed.clone(), hub.clone(), redraw.clone());
                let handler = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                    move |event: web_sys::MessageEvent| {
                        let (Ok(mut embed), Ok(mut hub)) = (embed.try_borrow_mut(), hub.try_borrow_mut())
                        else {
                            return;
                        };
                        hub.receive(&mut embed, &event);
                        redraw.force_update();
                    },
                );
                let _ = window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
                (window, handler)
            });
            if let (Ok(embed), Ok(hub)) = (embed.try_borrow(), hub.try_borrow()) {
                hub.listener.to_parent(&protocol::notification("ready", embed.info()));
            }
            let player = gloo_timers::callback::Interval::new(TICK_MS, move || {
                let Ok(mut embed) = embed.try_borrow_mut() else { return };
                if embed.playing {
                    let virtual_ms = (f64::from(TICK_MS) * embed.speed).round().max(1.0) as u64;
                    embed.advance(virtual_ms);
                    if let Ok(mut hub) = hub.try_borrow_mut() {
                        hub.flush(&embed);
                    }
                    redraw.force_update();
                }
            });
            move || {
                drop(player);
                if let Some((window, handler)) = listener {
                    let _ = window
                        .remove_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
                }
            }
        });
    }
    super::use_page_setup(config.theme);
    {
        let (embed, hub) = (embed.clone(), hub.clone());
        use_effect(move || {
            if let (Ok(embed), Ok(mut hub)) = (embed.try_borrow(), hub.try_borrow_mut()) {
                hub.flush(&embed);
            }
        });
    }
    Sandbox { embed, redraw }
}

/// The sandbox's root: the address's warnings, then the chosen panels in order.
pub fn shell<P: ModelPanel, S: EmbedSession>(
    config: &EmbedConfig,
    panels: &[P],
    panel: impl Fn(&P) -> Html,
) -> Html {
    let model = S::MODEL.as_str();
    html! {
        <div class={classes!("embed-app", format!("embed-{model}"))} id="embed" data-model={model}
             data-panels={panels.iter().map(|p| p.name()).collect::<Vec<_>>().join(",")}>
            <style>{ super::STYLE }</style>
            if !config.warnings.is_empty() {
                <ul class="embed-warnings" role="alert">
                    { for config.warnings.iter().map(|w| html! { <li>{ w.clone() }</li> }) }
                </ul>
            }
            { for panels.iter().map(panel) }
        </div>
    }
}

/// Play / pause, step, the speed, the clock, the document's name and the last outcome.
pub fn controls<S: EmbedSession>(sandbox: &Sandbox<S>) -> Html {
    let (embed, redraw) = (&sandbox.embed, &sandbox.redraw);
    let state = embed.borrow();
    let act = |request: Request| {
        let (embed, redraw) = (embed.clone(), redraw.clone());
        Callback::from(move |_: MouseEvent| {
            if let Ok(mut embed) = embed.try_borrow_mut() {
                if let Err(e) = embed.handle(ModelRequest::Shared(request.clone())) {
                    embed.notice = Some((true, e));
                }
            }
            redraw.force_update();
        })
    };
    let toggle = act(if state.playing { Request::Pause } else { Request::Play });
    let step = act(Request::Step);
    let speed = {
        let (embed, redraw) = (embed.clone(), redraw.clone());
        Callback::from(move |e: Event| {
            let value = e.target_dyn_into::<web_sys::HtmlSelectElement>().map(|s| s.value());
            if let (Some(Ok(speed)), Ok(mut embed)) =
                (value.map(|v| v.parse::<f64>()), embed.try_borrow_mut())
            {
                embed.speed = speed;
            }
            redraw.force_update();
        })
    };
    let clock = state.clock();
    let (now, end) = (clock["time"].as_str().unwrap_or(""), clock["endMillis"].as_u64());
    let clock = match end {
        Some(end) => format!("t = {now} / {}", broker_core::VirtualTime::from_millis(end)),
        None => format!("t = {now}"),
    };
    let name = state.session.as_ref().map_or("No document loaded", |s| s.name()).to_string();
    let (notice_class, notice_text) = match &state.notice {
        Some((true, text)) => ("embed-notice error", text.clone()),
        Some((false, text)) => ("embed-notice", text.clone()),
        None => ("embed-notice", String::new()),
    };
    let disabled = state.session.is_none() || state.finished();
    let page = format!("./{}", crate::shell::model_query(S::MODEL));
    html! {
        <section class="embed-panel embed-controls" aria-label="Controls">
            <div class="embed-bar">
                <button id="embed-play" class="btn primary small" onclick={toggle} {disabled}
                        aria-pressed={state.playing.to_string()}>
                    { if state.playing { "❚❚ Pause" } else { "▶ Play" } }
                </button>
                <button id="embed-step" class="btn small" onclick={step} {disabled}>{ "Step" }</button>
                <label class="embed-speed">{ "Speed " }
                    <select id="embed-speed" onchange={speed} aria-label="Speed">{ speed_options(state.speed) }</select>
                </label>
                <span id="embed-clock" class="embed-clock">{ clock }</span>
                <span class="embed-name" title={name.clone()}>{ name }</span>
                <a class="embed-open" href={page} target="_blank" rel="noopener">{ "Brokerlab ↗" }</a>
            </div>
            <p id="embed-notice" class={notice_class} aria-live="polite">{ notice_text }</p>
        </section>
    }
}

/// A check's description without the number the list gives it: the tutorials number their checks
/// ("1. reporting is slower…") and the `<ol>` numbers them too, which showed "1. 1. …". A description
/// numbered otherwise (or not at all) is kept as written.
pub fn unnumbered(index: usize, description: &str) -> &str {
    description.strip_prefix(&format!("{}. ", index + 1)).unwrap_or(description)
}

/// The document's checks as judged now.
pub fn checks<S: EmbedSession>(state: &ModelEmbed<S>) -> Html {
    let list = state.session.as_ref().map(|s| s.checks()).unwrap_or_default();
    let model = S::MODEL.as_str();
    html! {
        <section class={classes!("embed-panel", "embed-log", format!("embed-{model}-checks"))} aria-label="Checks">
            <ol id="embed-checks">
                if list.is_empty() {
                    <li class="muted">{ "No checks" }</li>
                }
                { for list.iter().enumerate().map(|(i, c)| {
                    let status = protocol::status_text(c.status);
                    let text = unnumbered(i, &c.description);
                    html! { <li class={format!("embed-check {status}")}>{ format!("{text} — {status}") }</li> }
                }) }
            </ol>
        </section>
    }
}

/// The latest events, as transcript lines.
pub fn log<S: EmbedSession>(state: &ModelEmbed<S>) -> Html {
    let lines = state.last_lines(LOG_LINES);
    html! {
        <section class="embed-panel embed-log" aria-label="Latest events">
            <ol id="embed-log">
                if lines.is_empty() {
                    <li class="muted">{ "No events yet" }</li>
                }
                { for lines.into_iter().map(|l| html! { <li>{ l }</li> }) }
            </ol>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tutorials_numbered_check_is_numbered_once_in_the_list() {
        assert_eq!(unnumbered(0, "1. reporting is slower"), "reporting is slower");
        assert_eq!(unnumbered(1, "1. out of order"), "1. out of order", "kept: not its place in the list");
        assert_eq!(
            unnumbered(2, "lag of reporting on sensor-readings at the end"),
            "lag of reporting on sensor-readings at the end"
        );
        // Every bundled tutorial's check of both models, as the sandbox lists it: no number twice.
        for b in crate::kafka_page::model::BUNDLED {
            let s = crate::kafka_page::model::KafkaSession::bundled(b.id).expect("opens");
            for (i, c) in s.checks().iter().enumerate() {
                let shown = unnumbered(i, &c.description);
                assert!(!shown.starts_with(&format!("{}. ", i + 1)), "{}: {shown}", b.id);
            }
        }
        for b in crate::sqs_page::model::BUNDLED {
            let s = crate::sqs_page::model::SqsSession::bundled(b.id).expect("opens");
            for (i, c) in s.checks().iter().enumerate() {
                let shown = unnumbered(i, &c.description);
                assert!(!shown.starts_with(&format!("{}. ", i + 1)), "{}: {shown}", b.id);
            }
        }
    }
}
