//! The Kafka sandbox (`index.html?embed=1&model=kafka&scenario=quickstart&panels=…`), its own wasm module
//! (`src/embed_kafka_main.rs`): a compact view of a Kafka document's run — controls, each partition's
//! offsets, each group's lag, the checks, the last events — driven by its page over `postMessage`
//! ([`super::kafka`], the RabbitMQ sandbox's protocol with Kafka's requests).
//!
//! Invariants (of [`KafkaHub`], as the RabbitMQ sandbox's hub): events before `sent_events` were offered
//! to the subscribers of their time; every subscriber's origin is an allowed one; a reply goes to the
//! window and origin its request came from, after the events the request caused.

use super::bridge::{self, post, same_window};
use super::config::{self, EmbedConfig};
use super::kafka::{KafkaEmbed, KafkaIncoming, KafkaRequest};
use super::protocol::{self, Request};
use crate::components::header::speed_options;
use crate::state::Theme;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use yew::prelude::*;

/// Wall milliseconds between two steps of play; each plays this much virtual time times the speed.
const TICK_MS: u32 = 100;
/// How many of the latest events the log panel lists.
const LOG_LINES: usize = 12;

/// A part of the Kafka sandbox's view an author can choose (`panels=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KafkaPanel {
    Controls,
    /// Each partition: log start, high watermark, log end, leader, ISR.
    Partitions,
    /// Each group and partition: committed offset and lag.
    Groups,
    Checks,
    Log,
}

impl KafkaPanel {
    pub const ALL: [KafkaPanel; 5] = [
        KafkaPanel::Controls,
        KafkaPanel::Partitions,
        KafkaPanel::Groups,
        KafkaPanel::Checks,
        KafkaPanel::Log,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KafkaPanel::Controls => "controls",
            KafkaPanel::Partitions => "partitions",
            KafkaPanel::Groups => "groups",
            KafkaPanel::Checks => "checks",
            KafkaPanel::Log => "log",
        }
    }
}

/// The Kafka sandbox's panels from `panels=` (default: controls, partitions, groups), with a warning per
/// unknown name; the rest of the address is read as the RabbitMQ sandbox reads it.
pub fn kafka_config(
    pairs: &[(String, String)],
    parent: Option<&str>,
    own: &str,
) -> (EmbedConfig, Vec<KafkaPanel>) {
    let (panel_pairs, rest): (Vec<_>, Vec<_>) = pairs.iter().cloned().partition(|(k, _)| k == "panels");
    let mut config = config::from_query(&rest, parent, own);
    let mut panels = Vec::new();
    for (_, value) in panel_pairs {
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match KafkaPanel::ALL.into_iter().find(|p| p.name() == name) {
                Some(p) if !panels.contains(&p) => panels.push(p),
                Some(_) => {}
                None => {
                    let known: Vec<&str> = KafkaPanel::ALL.iter().map(|p| p.name()).collect();
                    config.warnings.push(format!("unknown panel '{name}' (known: {})", known.join(", ")));
                }
            }
        }
    }
    if panels.is_empty() {
        panels = vec![KafkaPanel::Controls, KafkaPanel::Partitions, KafkaPanel::Groups];
    }
    (config, panels)
}

struct Subscriber {
    target: web_sys::Window,
    origin: String,
    kinds: Option<BTreeSet<String>>,
}

/// What the Kafka sandbox's bridge remembers between messages and renders.
pub struct KafkaHub {
    allowed_origins: Vec<String>,
    parent_origin: Option<String>,
    subscribers: Vec<Subscriber>,
    sent_events: usize,
    ignored_messages: u64,
    announced_finished: bool,
    last_height: i32,
}

impl KafkaHub {
    fn new(allowed_origins: Vec<String>, parent_origin: Option<String>) -> KafkaHub {
        let parent_origin = parent_origin.filter(|o| allowed_origins.contains(o));
        KafkaHub {
            allowed_origins,
            parent_origin,
            subscribers: Vec::new(),
            sent_events: 0,
            ignored_messages: 0,
            announced_finished: false,
            last_height: 0,
        }
    }

    /// Handles one `message` event.
    fn receive(&mut self, embed: &mut KafkaEmbed, event: &web_sys::MessageEvent) {
        use wasm_bindgen::JsCast;
        let origin = event.origin();
        if !self.allowed_origins.contains(&origin) {
            self.ignored_messages += 1;
            return;
        }
        let Some(source) = event.source() else { return };
        let source: web_sys::Window = source.unchecked_into();
        let incoming = match bridge::js_value(&event.data()) {
            Ok(Some(value)) => super::kafka::parse(&value),
            Ok(None) => KafkaIncoming::Ignore,
            Err(error) => KafkaIncoming::Bad { id: Value::Null, error },
        };
        let (id, outcome) = match incoming {
            KafkaIncoming::Ignore => return,
            KafkaIncoming::Bad { id, error } => (id, Err(error)),
            KafkaIncoming::Request { id, request } => {
                let outcome = match request {
                    KafkaRequest::Shared(Request::Subscribe { kinds }) => {
                        self.subscribers.retain(|s| !(same_window(&s.target, &source) && s.origin == origin));
                        self.subscribers.push(Subscriber {
                            target: source.clone(),
                            origin: origin.clone(),
                            kinds,
                        });
                        Ok(json!({"subscribed": true}))
                    }
                    KafkaRequest::Shared(Request::Unsubscribe) => {
                        let before = self.subscribers.len();
                        self.subscribers.retain(|s| !(same_window(&s.target, &source) && s.origin == origin));
                        Ok(json!({"subscribed": false, "removed": before - self.subscribers.len()}))
                    }
                    KafkaRequest::Shared(Request::Info) => {
                        let mut info = embed.info();
                        info["ignoredMessages"] = json!(self.ignored_messages);
                        Ok(info)
                    }
                    request @ KafkaRequest::Shared(Request::Load(_)) => {
                        let outcome = embed.handle(request);
                        if outcome.is_ok() {
                            self.sent_events = 0;
                            self.announced_finished = false;
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
    fn flush(&mut self, embed: &KafkaEmbed) {
        let count = embed.event_count();
        if count < self.sent_events {
            self.sent_events = 0;
        }
        if !self.subscribers.is_empty() && count > self.sent_events {
            let records = embed.event_records(self.sent_events);
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
        let finished = embed.finished();
        if finished && !self.announced_finished {
            self.announced_finished = true;
            if let Ok(checks) = embed.checks() {
                self.to_parent(&protocol::notification("finished", checks));
            }
        } else if !finished {
            self.announced_finished = false;
        }
        let height = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
            .map_or(0, |body| body.scroll_height());
        if height != self.last_height {
            self.last_height = height;
            self.to_parent(&protocol::notification("resize", json!({"height": height})));
        }
    }

    fn to_parent(&self, message: &Value) {
        let (Some(origin), Some(parent)) = (&self.parent_origin, bridge::parent_window()) else { return };
        post(&parent, origin, message);
    }
}

/// The Kafka sandbox's root component.
#[function_component(KafkaEmbedApp)]
pub fn kafka_embed_app() -> Html {
    let setup = use_memo((), |_| {
        kafka_config(&bridge::query_pairs(), bridge::referrer_origin().as_deref(), &bridge::own_origin())
    });
    let (config, panels) = (&setup.0, &setup.1);
    let embed = {
        let config = config.clone();
        use_mut_ref(move || {
            let mut embed = KafkaEmbed::default();
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
        use_mut_ref(move || KafkaHub::new(config.allowed_origins.clone(), bridge::referrer_origin()))
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
                hub.to_parent(&protocol::notification("ready", embed.info()));
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
    use_page_setup(config.theme);
    {
        let (embed, hub) = (embed.clone(), hub.clone());
        use_effect(move || {
            if let (Ok(embed), Ok(mut hub)) = (embed.try_borrow(), hub.try_borrow_mut()) {
                hub.flush(&embed);
            }
        });
    }
    let state = embed.borrow();
    let panel = |p: &KafkaPanel| match p {
        KafkaPanel::Controls => controls(&state, &embed, &redraw),
        KafkaPanel::Partitions => partitions(&state),
        KafkaPanel::Groups => groups(&state),
        KafkaPanel::Checks => checks(&state),
        KafkaPanel::Log => log(&state),
    };
    html! {
        <div class="embed-app embed-kafka" id="embed" data-model="kafka"
             data-panels={panels.iter().map(|p| p.name()).collect::<Vec<_>>().join(",")}>
            if !config.warnings.is_empty() {
                <ul class="embed-warnings" role="alert">
                    { for config.warnings.iter().map(|w| html! { <li>{ w.clone() }</li> }) }
                </ul>
            }
            { for panels.iter().map(panel) }
        </div>
    }
}

fn controls(state: &KafkaEmbed, embed: &Rc<RefCell<KafkaEmbed>>, redraw: &UseForceUpdateHandle) -> Html {
    let act = |request: KafkaRequest| {
        let (embed, redraw) = (embed.clone(), redraw.clone());
        Callback::from(move |_: MouseEvent| {
            if let Ok(mut embed) = embed.try_borrow_mut() {
                if let Err(e) = embed.handle(request.clone()) {
                    embed.notice = Some((true, e));
                }
            }
            redraw.force_update();
        })
    };
    let toggle = act(KafkaRequest::Shared(if state.playing { Request::Pause } else { Request::Play }));
    let step = act(KafkaRequest::Shared(Request::Step));
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
    let name = state.session.as_ref().map_or("No document loaded", |s| s.name());
    let (notice_class, notice_text) = match &state.notice {
        Some((true, text)) => ("embed-notice error", text.clone()),
        Some((false, text)) => ("embed-notice", text.clone()),
        None => ("embed-notice", String::new()),
    };
    let disabled = state.session.is_none() || state.finished();
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
                <span class="embed-name" title={name}>{ name }</span>
                <a class="embed-open" href="./?model=kafka" target="_blank" rel="noopener">{ "Brokerlab ↗" }</a>
            </div>
            <p id="embed-notice" class={notice_class} aria-live="polite">{ notice_text }</p>
        </section>
    }
}

fn partitions(state: &KafkaEmbed) -> Html {
    let rows: Vec<Html> = state
        .session
        .as_ref()
        .map(|s| s.partitions())
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let isr = p.isr.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
            html! {
                <tr data-partition={p.name()}>
                    <td class="name">{ p.name() }</td>
                    <td class="num log-start">{ p.log_start }</td>
                    <td class="num hw">{ p.high_watermark }</td>
                    <td class="num leo">{ p.log_end }</td>
                    <td class="num leader">{ p.leader.map_or("none".to_string(), |l| l.to_string()) }</td>
                    <td class="num isr">{ isr }</td>
                </tr>
            }
        })
        .collect();
    html! {
        <section class="embed-panel embed-queues embed-partitions" aria-label="Partitions">
            <table class="grid" id="embed-partitions">
                <thead><tr>
                    <th>{ "Partition" }</th>
                    <th class="num" title="Log start offset">{ "Log start" }</th>
                    <th class="num" title="High watermark: what consumers can read">{ "High watermark" }</th>
                    <th class="num" title="Log end offset">{ "Log end" }</th>
                    <th class="num">{ "Leader" }</th>
                    <th class="num" title="In-sync replicas">{ "ISR" }</th>
                </tr></thead>
                <tbody>
                    if rows.is_empty() {
                        <tr><td colspan="6" class="muted">{ "No partitions yet" }</td></tr>
                    }
                    { for rows }
                </tbody>
            </table>
        </section>
    }
}

fn groups(state: &KafkaEmbed) -> Html {
    let mut rows = Vec::new();
    for g in state.session.as_ref().map(|s| s.groups()).unwrap_or_default() {
        for (tp, committed, lag) in &g.offsets {
            rows.push(html! {
                <tr data-group={g.id.clone()} data-partition={format!("{}-{}", tp.topic, tp.partition)}>
                    <td class="name">{ g.id.clone() }</td>
                    <td>{ format!("{}-{}", tp.topic, tp.partition) }</td>
                    <td class="num committed">{ committed.map_or("–".to_string(), |c| c.to_string()) }</td>
                    <td class="num group-lag">{ *lag }</td>
                    <td>{ g.state.clone() }</td>
                </tr>
            });
        }
    }
    html! {
        <section class="embed-panel embed-queues embed-groups" aria-label="Consumer groups">
            <table class="grid" id="embed-groups">
                <thead><tr>
                    <th>{ "Group" }</th>
                    <th>{ "Partition" }</th>
                    <th class="num" title="The group's committed offset">{ "Committed" }</th>
                    <th class="num" title="Log end offset minus the committed offset">{ "Lag" }</th>
                    <th>{ "State" }</th>
                </tr></thead>
                <tbody>
                    if rows.is_empty() {
                        <tr><td colspan="5" class="muted">{ "No consumer groups" }</td></tr>
                    }
                    { for rows }
                </tbody>
            </table>
        </section>
    }
}

/// A check's description without the number the list gives it: the tutorials number their checks
/// ("1. reporting is slower…") and the `<ol>` numbers them too, which showed "1. 1. …". A description
/// numbered otherwise (or not at all) is kept as written.
fn unnumbered(index: usize, description: &str) -> &str {
    description.strip_prefix(&format!("{}. ", index + 1)).unwrap_or(description)
}

fn checks(state: &KafkaEmbed) -> Html {
    let list = state.session.as_ref().map(|s| s.checks()).unwrap_or_default();
    html! {
        <section class="embed-panel embed-log embed-kafka-checks" aria-label="Checks">
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

fn log(state: &KafkaEmbed) -> Html {
    let lines: Vec<String> = state
        .session
        .as_ref()
        .map(|s| {
            let events = s.run().events();
            events[events.len().saturating_sub(LOG_LINES)..]
                .iter()
                .map(|(at, e)| format!("{at} {e}"))
                .collect()
        })
        .unwrap_or_default();
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

/// Marks `<html>` as an embed (for `embed.css`) and applies the theme the address chose.
#[hook]
fn use_page_setup(theme: Theme) {
    use_effect_with(theme, |theme| {
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.set_attribute("data-embed", "");
            let _ = match theme {
                Theme::System => root.remove_attribute("data-theme"),
                Theme::Light => root.set_attribute("data-theme", "light"),
                Theme::Dark => root.set_attribute("data-theme", "dark"),
            };
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kafka_sandbox_reads_its_own_panels_and_the_shared_settings() {
        let pairs: Vec<(String, String)> = [
            ("embed", "1"),
            ("model", "kafka"),
            ("scenario", "quickstart"),
            ("panels", "groups,controls,queues"),
            ("origin", "https://blog.example"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (config, panels) = kafka_config(&pairs, None, "https://app.example");
        assert_eq!(panels, vec![KafkaPanel::Groups, KafkaPanel::Controls]);
        assert_eq!(config.scenario.as_deref(), Some("quickstart"));
        assert_eq!(config.allowed_origins, vec!["https://blog.example".to_string()]);
        assert_eq!(
            config.warnings,
            vec!["unknown panel 'queues' (known: controls, partitions, groups, checks, log)".to_string()]
        );
        let (_, panels) = kafka_config(&[], None, "https://app.example");
        assert_eq!(panels, vec![KafkaPanel::Controls, KafkaPanel::Partitions, KafkaPanel::Groups]);
    }

    #[test]
    fn a_tutorials_numbered_check_is_numbered_once_in_the_list() {
        assert_eq!(unnumbered(0, "1. reporting is slower"), "reporting is slower");
        assert_eq!(unnumbered(1, "1. out of order"), "1. out of order", "kept: not its place in the list");
        assert_eq!(
            unnumbered(2, "lag of reporting on sensor-readings at the end"),
            "lag of reporting on sensor-readings at the end"
        );
        // Every bundled tutorial's check, as the sandbox lists it: no number twice.
        for b in crate::kafka_page::model::BUNDLED {
            let s = crate::kafka_page::model::KafkaSession::bundled(b.id).expect("opens");
            for (i, c) in s.checks().iter().enumerate() {
                let shown = unnumbered(i, &c.description);
                assert!(!shown.starts_with(&format!("{}. ", i + 1)), "{}: {shown}", b.id);
            }
        }
    }
}
