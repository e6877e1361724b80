//! The Redis page's views: every key as the server holds it at the page's time — a list as its items from
//! head to tail with the clients blocked on it, a stream as a strip of entries (each marked delivered or
//! pending per group) with its consumer groups (last-delivered id, entries read, lag), their consumers
//! and their pending entries lists (id, consumer, idle time, delivery count) — pub/sub channels and
//! patterns with their subscribers, the charts over the run ([`super::charts`]), the redis-cli console
//! ([`super::console`]), the document's checks and the event log. The time bar and the keyboard are the shell's ([`crate::shell::TimeBar`],
//! [`crate::shell::TimeKey`]): Space plays or pauses, ← / → move one second, Home goes back to 0, End
//! to the end, unless a field (the console) has the focus.

use super::console::{Console, SessionRef};
use super::explain::{explains_publish, is_publish};
use super::explain_panel::{Asked, ExplainPanel};
use super::model::{
    check_counts, open_file, open_link, ChannelView, KeyKind, KeyView, Opening, RedisSession, StreamView,
    BUNDLED,
};
use crate::persist::permalink;
use crate::player::{use_player, Player};
use crate::shell::{clock_text, FileButtons, ShareField, TimeBar};
use broker_core::scenario::document::ModelName;
use broker_core::scenario::sim::CheckStatus;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// The page's own styles (only the Redis page's download carries them).
const STYLE: &str = include_str!("redis.css");

/// The speeds the player offers.
const SPEEDS: &[u64] = &[1, 2, 5, 10, 20];

/// How many items of a list the page draws.
const SHOWN_ITEMS: usize = 24;

fn tenths(ms: u64) -> String {
    format!("{}.{} s", ms / 1000, ms % 1000 / 100)
}

/// The bundled document the address asks for (`?doc=ID`, default: streams with a consumer group).
fn initial_doc() -> String {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()
        .and_then(|p| p.get("doc"))
        .filter(|d| BUNDLED.iter().any(|b| b.id == d))
        .unwrap_or_else(|| BUNDLED[0].id.to_string())
}

/// A notice under the header: (is it a refusal, the sentence).
type Notice = Option<(bool, String)>;

fn starting_session(doc_id: &str, from_address: bool) -> (RedisSession, Notice) {
    let bundled = || {
        RedisSession::bundled(doc_id)
            .or_else(|| RedisSession::bundled(BUNDLED[0].id))
            .expect("bundled documents open")
    };
    if !from_address {
        return (bundled(), None);
    }
    match open_link(&crate::shell::take_hash()) {
        Opening::Nothing => (bundled(), None),
        Opening::Open(s) => (*s, Some((false, "Opened the document of the link".into()))),
        Opening::Refused(e) => (bundled(), Some((true, e))),
        Opening::Forward { model, fragment } => {
            go_to(model, &fragment);
            (bundled(), Some((false, format!("Opening it on the {} page…", crate::shell::page_name(model)))))
        }
    }
}

fn go_to(model: ModelName, fragment: &str) {
    if let Some(w) = web_sys::window() {
        let l = w.location();
        let path = l.pathname().unwrap_or_default();
        let _ = l.set_href(&format!("{path}{}#{fragment}", crate::shell::model_query(model)));
    }
}

#[derive(Properties, PartialEq)]
pub struct RedisAppProps {
    /// The bundled document to open (tests pass one; the page reads `?doc=`).
    #[prop_or_default]
    pub doc: Option<String>,
}

/// The whole Redis page.
#[function_component(RedisApp)]
pub fn redis_app(props: &RedisAppProps) -> Html {
    let doc_id = props.doc.clone().unwrap_or_else(initial_doc);
    let start = {
        let from_address = props.doc.is_none();
        use_mut_ref(move || Some(starting_session(&doc_id, from_address)))
    };
    let first_notice = start.borrow().as_ref().and_then(|(_, n)| n.clone());
    let notice = use_state(move || first_notice);
    let session: Rc<RefCell<RedisSession>> = {
        let start = start.clone();
        use_mut_ref(move || start.borrow_mut().take().map(|(s, _)| s).expect("the starting session"))
    };
    let share_link = use_state(|| None::<String>);
    // The explanation panel's question, when one is open.
    let asked = use_state(|| None::<Asked>);
    let on_ask = {
        let asked = asked.clone();
        Callback::from(move |a: Asked| asked.set(Some(a)))
    };
    let on_close_explain = {
        let asked = asked.clone();
        Callback::from(move |()| asked.set(None))
    };
    let version = use_state(|| 0u64);
    let speed = use_state(|| 1u64);
    let bump: Rc<dyn Fn()> = {
        let version = version.clone();
        Rc::new(move || version.set(*version + 1))
    };
    // Play, pause, seek and their keys (shared by every model's page: crate::player).
    let Player { playing, seek, toggle_play } = use_player(session.clone(), bump.clone(), *speed);
    let step = {
        let session = session.clone();
        let seek = seek.clone();
        Callback::from(move |_: ()| {
            let to = session.borrow().next_event_ms();
            seek.emit(to);
        })
    };
    let on_share = {
        let session = session.clone();
        let share_link = share_link.clone();
        let notice = notice.clone();
        Callback::from(move |_: MouseEvent| {
            let text = session.borrow().text.clone();
            let link = crate::shell::page_url(ModelName::Redis, &permalink::encode(&text));
            let said = if crate::shell::copy_to_clipboard(&link, "redis-permalink") {
                "Copied the share link: it opens this document"
            } else {
                "The share link is below: copy it with Ctrl+C"
            };
            share_link.set(Some(link));
            notice.set(Some((false, said.into())));
        })
    };
    let on_copy = {
        let share_link = share_link.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(link) = &*share_link {
                crate::shell::copy_to_clipboard(link, "redis-permalink");
            }
        })
    };
    let on_export = {
        let session = session.clone();
        let notice = notice.clone();
        Callback::from(move |_: MouseEvent| {
            let s = session.borrow();
            let file = format!("{}.json", s.bundled.unwrap_or("redis-document"));
            notice.set(Some(match crate::shell::download(&file, "application/json", &s.text) {
                Ok(()) => (false, format!("Exported the document as {file}")),
                Err(e) => (true, e),
            }));
        })
    };
    let on_import = {
        let session = session.clone();
        let notice = notice.clone();
        let playing = playing.clone();
        let bump = bump.clone();
        Callback::from(move |e: Event| {
            let Some(file) = crate::shell::file_of(&e) else { return };
            let session = session.clone();
            let notice = notice.clone();
            let playing = playing.clone();
            let bump = bump.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let max = crate::persist::workspace::MAX_FILE_BYTES;
                let text = match crate::shell::read_file(&file, max).await {
                    Ok(text) => text,
                    Err(e) => return notice.set(Some((true, e))),
                };
                let name = file.name();
                match open_file(&name, &text) {
                    Opening::Open(s) => {
                        *session.borrow_mut() = *s;
                        playing.set(false);
                        notice.set(Some((false, format!("Opened the Redis document in '{name}'"))));
                        bump();
                    }
                    Opening::Forward { model, fragment } => {
                        notice.set(Some((
                            false,
                            format!(
                                "'{name}' is for the {} page: opening it there…",
                                crate::shell::page_name(model)
                            ),
                        )));
                        go_to(model, &fragment);
                    }
                    Opening::Refused(e) => notice.set(Some((true, e))),
                    Opening::Nothing => {}
                }
            });
        })
    };
    // Picking a tutorial opens it in place (no reload: the module is already here).
    let pick_doc = {
        let session = session.clone();
        let playing = playing.clone();
        let bump = bump.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
            if let Some(s) = RedisSession::bundled(&value) {
                *session.borrow_mut() = s;
                playing.set(false);
                bump();
                if let Some(w) = web_sys::window() {
                    if let Ok(h) = w.history() {
                        let _ = h.replace_state_with_url(
                            &wasm_bindgen::JsValue::NULL,
                            "",
                            Some(&format!("?model=redis&doc={value}")),
                        );
                    }
                }
            }
        })
    };
    let pick_model = Callback::from(|e: Event| {
        let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
        if value != "redis" {
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_search(&format!("?model={value}"));
            }
        }
    });
    let on_speed = {
        let speed = speed.clone();
        Callback::from(move |v: u64| speed.set(v))
    };
    let on_sent = {
        let bump = bump.clone();
        Callback::from(move |_: ()| bump())
    };
    // A workspace reopened (the bar replaced the session): paused, redrawn.
    let on_ws_opened = {
        let playing = playing.clone();
        let bump = bump.clone();
        Callback::from(move |()| {
            playing.set(false);
            bump();
        })
    };

    let s = session.borrow();
    let now = s.time_ms();
    let end = s.end_ms();
    let keys = s.keys();
    let channels = s.channels();
    let waiting = s.waiting_on_nothing();
    let checks = s.checks();
    let (passed, failed, pending) = check_counts(&checks);
    html! {
        <div class="app redis-app" data-model="redis">
            <style>{ STYLE }</style>
            <header class="app-header">
                <h1>{ "Brokerlab" }</h1>
                <label class="model-pick">
                    <span class="visually-hidden">{ "Model" }</span>
                    <select id="model-picker" aria-label="Broker model" onchange={pick_model}>
                        <option value="rabbitmq">{ "RabbitMQ" }</option>
                        <option value="kafka">{ "Kafka" }</option>
                        <option value="sqs">{ "Amazon SQS" }</option>
                        <option value="redis" selected=true>{ "Redis" }</option>
                    </select>
                </label>
                <select id="redis-doc" aria-label="Redis tutorial" onchange={pick_doc}>
                    if s.bundled.is_none() {
                        <option value="" selected=true disabled=true>{ "Opened document" }</option>
                    }
                    { for BUNDLED.iter().map(|b| html! {
                        <option value={b.id} selected={s.bundled == Some(b.id)}>{ b.title }</option>
                    }) }
                </select>
                <span class="redis-files">
                    <FileButtons prefix="redis" on_share={on_share} on_export={on_export} on_import={on_import} />
                </span>
                <crate::ws_bar::WorkspaceBar<RedisSession> session={SessionRef(session.clone())}
                    version={*version} playing={*playing} on_opened={on_ws_opened} />
                <TimeBar prefix="redis" now_ms={now} end_ms={end} playing={*playing} speed={*speed} speeds={SPEEDS}
                         on_seek={seek.clone()} on_play={toggle_play.clone()} on_step={step} on_speed={on_speed} />
            </header>
            if notice.is_some() || share_link.is_some() {
                <div class="redis-notices">
                    if let Some((refused, text)) = &*notice {
                        <p id="redis-notice" class={classes!("notice", if *refused { "error" } else { "info" })}
                           role={if *refused { "alert" } else { "status" }}>{ text }</p>
                    }
                    if let Some(link) = &*share_link {
                        <ShareField prefix="redis" link={link.clone()} on_copy={on_copy} />
                    }
                </div>
            }
            <main class="redis-main">
                <section class="redis-col">
                    <section id="redis-about" class="panel redis-panel">
                        <h2>{ s.name() }</h2>
                        <p class="redis-description">{ s.description() }</p>
                        if let Some(stop) = s.stopped() { <p class="notice error" role="alert">{ stop }</p> }
                    </section>
                    <section id="redis-keys" class="panel redis-panel" aria-label="Keys">
                        <h2>{ format!("Keys ({})", keys.len()) }</h2>
                        if keys.is_empty() { <p class="muted">{ "No keys at this moment." }</p> }
                        { for keys.iter().map(|k| key_card(k, &on_ask)) }
                        if !waiting.is_empty() {
                            <div class="redis-waiting-list" id="redis-waiting">
                                <strong>{ "Blocked on keys that do not exist yet" }</strong>
                                <ul>
                                    { for waiting.iter().map(|w| html! {
                                        <li class="redis-blocked-client" data-client={w.client.clone()}>
                                            <strong>{ &w.client }</strong>{ format!(" waits on {} ({})", w.keys.join(", "), w.what) }
                                        </li>
                                    }) }
                                </ul>
                            </div>
                        }
                    </section>
                    { pubsub(&channels, &publishes(&s), &on_ask) }
                    <super::charts::RedisCharts session={SessionRef(session.clone())} version={*version} />
                </section>
                <section class="redis-col">
                    if let Some(a) = &*asked {
                        <ExplainPanel key={a.key()} session={SessionRef(session.clone())} version={*version}
                                      asked={a.clone()} on_close={on_close_explain.clone()} />
                    }
                    <Console session={SessionRef(session.clone())} version={*version} on_sent={on_sent} />
                    <section id="redis-checks" class="panel redis-panel" aria-label="Checks">
                        <h2>{ format!("Checks: {passed} passed, {failed} failed, {pending} to come") }</h2>
                        <ul class="redis-check-list">
                            { for checks.iter().map(|c| {
                                let (class, word) = match c.status {
                                    CheckStatus::Pass => ("pass", "passed"),
                                    CheckStatus::Fail => ("fail", "failed"),
                                    CheckStatus::Pending => ("pending", "to come"),
                                };
                                html! {
                                    <li class={classes!("redis-check", class)}>
                                        <span class="redis-check-status">{ word }</span>{ " " }
                                        <span>{ &c.description }</span>
                                        if c.status != CheckStatus::Pending {
                                            <span class="muted">{ format!(" — observed {}", c.observed) }</span>
                                        }
                                        if c.status == CheckStatus::Fail {
                                            <span class="muted">{ format!(" ({})", c.reason) }</span>
                                        }
                                    </li>
                                }
                            }) }
                        </ul>
                    </section>
                    <section id="redis-log" class="panel redis-panel" aria-label="Event log">
                        <h2>{ "Events" }</h2>
                        <ul class="redis-events" aria-label="Latest first">
                            { for s.run().events().iter().enumerate().rev().take(80).map(|(i, (t, e))| {
                                let line = e.to_string();
                                html! {
                                    <li class={classes!(line.starts_with("you>").then_some("by-hand"))}>
                                        <span class="muted">{ clock_text(t.as_millis()) }</span>{ " " }{ line }
                                        if explains_publish(e) { { ask_button("redis-why-publish", "who got it?", "Who got this message and who did not", Asked::Publish(i), &on_ask) } }
                                    </li>
                                }
                            }) }
                        </ul>
                    </section>
                </section>
            </main>
        </div>
    }
}

/// A key: its name, type and TTL, then what it holds, and who is blocked on it.
fn key_card(k: &KeyView, on_ask: &Callback<Asked>) -> Html {
    html! {
        <div class={classes!("redis-key", k.type_name())} data-key={k.name.clone()}>
            <div class="redis-key-head">
                <strong class="redis-key-name">{ &k.name }</strong>
                <span class={classes!("redis-type", k.type_name())}>{ k.type_name() }</span>
                if let Some(ttl) = k.ttl_ms { <span class="muted" title="PTTL">{ format!("expires in {}", tenths(ttl)) }</span> }
                { match &k.kind {
                    KeyKind::List(items) => html! { <span class="muted">{ format!("LLEN {}", items.len()) }</span> },
                    KeyKind::Stream(s) => html! { <span class="muted">{ format!("XLEN {} · last id {}", s.length, s.last_id) }</span> },
                    KeyKind::String(_) => html! {},
                } }
            </div>
            { match &k.kind {
                KeyKind::String(v) => html! { <code class="redis-string">{ v }</code> },
                KeyKind::List(items) => list_items(items),
                KeyKind::Stream(s) => stream_view(&k.name, s, on_ask),
            } }
            if !k.blocked.is_empty() {
                <ul class="redis-blocked" aria-label="Clients blocked on this key, in the order they are served">
                    { for k.blocked.iter().enumerate().map(|(i, (client, what))| html! {
                        <li class="redis-blocked-client" data-client={client.clone()}>
                            { format!("{}. ", i + 1) }<strong>{ client }</strong>{ format!(" blocked ({what})") }
                        </li>
                    }) }
                </ul>
            }
        </div>
    }
}

/// A list from head (left: `LPUSH`, `LPOP`) to tail (right: `RPUSH`, `RPOP`, `BRPOP`).
fn list_items(items: &[String]) -> Html {
    html! {
        <div class="redis-list" role="list" aria-label="Items from head (left) to tail (right)">
            <span class="redis-end muted" aria-hidden="true">{ "head ▸" }</span>
            { for items.iter().take(SHOWN_ITEMS).enumerate().map(|(i, item)| html! {
                <span class="redis-item" role="listitem" title={format!("index {i}")}>{ item }</span>
            }) }
            if items.len() > SHOWN_ITEMS { <span class="muted">{ format!("… {} more", items.len() - SHOWN_ITEMS) }</span> }
            <span class="redis-end muted" aria-hidden="true">{ "◂ tail" }</span>
        </div>
    }
}

/// A stream: its entries as a strip (each marked per group: delivered, pending), then each group with its
/// last-delivered id, entries read and lag, its consumers and its pending entries list.
fn stream_view(key: &str, s: &StreamView, on_ask: &Callback<Asked>) -> Html {
    html! {
        <>
            <ol class="redis-entries" aria-label={format!("Entries of {key}, oldest first")}>
                { for s.entries.iter().map(|e| {
                    let pending = e.delivered.iter().any(|(_, p)| *p);
                    let delivered = !e.delivered.is_empty() && e.delivered.iter().all(|(d, _)| *d);
                    html! {
                        <li class={classes!("redis-entry", pending.then_some("pending"), (delivered && !pending).then_some("delivered"))}
                            data-id={e.id.clone()} title={e.fields.clone()}>
                            <span class="redis-entry-id">{ &e.id }</span>
                            <span class="redis-entry-fields">{ &e.fields }</span>
                        </li>
                    }
                }) }
            </ol>
            if s.entries.len() < s.length {
                <p class="muted">{ format!("The latest {} of {} entries.", s.entries.len(), s.length) }</p>
            }
            { for s.groups.iter().map(|g| html! {
                <div class="redis-group" data-group={g.name.clone()}>
                    <div class="redis-group-head">
                        <strong>{ format!("group {}", g.name) }</strong>
                        <span class="redis-gstat" data-stat="last-delivered">{ format!("last-delivered-id {}", g.last_delivered) }</span>
                        <span class="redis-gstat" data-stat="entries-read">{ format!("entries-read {}", g.entries_read.map_or("(nil)".to_string(), |n| n.to_string())) }</span>
                        <span class="redis-gstat" data-stat="lag">{ format!("lag {}", g.lag.map_or("(nil)".to_string(), |n| n.to_string())) }</span>
                        <span class="redis-gstat" data-stat="pending">{ format!("pending {}", g.pending.len()) }</span>
                        { ask_button("redis-why-autoclaim", "XAUTOCLAIM next?", &format!("What XAUTOCLAIM on group {} takes next", g.name),
                                     Asked::Autoclaim { key: key.to_string(), group: g.name.clone() }, on_ask) }
                    </div>
                    if !g.consumers.is_empty() {
                        <div class="redis-consumers">
                            { for g.consumers.iter().map(|c| html! {
                                <span class="redis-consumer" data-consumer={c.name.clone()}>
                                    <strong>{ &c.name }</strong>{ format!(" pending {} · idle {}", c.pending, tenths(c.idle_ms)) }
                                </span>
                            }) }
                        </div>
                    }
                    if g.pending.is_empty() {
                        <p class="muted redis-pel-empty">{ "Pending entries list: empty (every delivered entry was acknowledged)." }</p>
                    } else {
                        <table class="redis-pel" aria-label={format!("Pending entries of group {}", g.name)}>
                            <thead><tr><th>{ "id" }</th><th>{ "consumer" }</th><th>{ "idle" }</th><th>{ "deliveries" }</th><th><span class="visually-hidden">{ "explain" }</span></th></tr></thead>
                            <tbody>
                                { for g.pending.iter().map(|p| html! {
                                    <tr class="redis-pel-row" data-id={p.id.clone()} data-consumer={p.consumer.clone()}>
                                        <td><code>{ &p.id }</code></td>
                                        <td>{ &p.consumer }</td>
                                        <td class="num">{ format!("{} ms", p.idle_ms) }</td>
                                        <td class="num">{ p.deliveries }</td>
                                        <td>{ ask_button("redis-why-pending", "why pending?", &format!("Why is {} still pending", p.id),
                                                         Asked::Pending { key: key.to_string(), group: g.name.clone(), id: p.id.clone() }, on_ask) }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    }
                </div>
            }) }
        </>
    }
}

/// A small button that opens the explanation panel on `asked`.
fn ask_button(
    class: &'static str,
    label: &'static str,
    title: &str,
    asked: Asked,
    on_ask: &Callback<Asked>,
) -> Html {
    let on_ask = on_ask.clone();
    let onclick = Callback::from(move |_: MouseEvent| on_ask.emit(asked.clone()));
    html! {
        <button type="button" class={classes!("redis-ask", class)} title={title.to_string()} aria-label={title.to_string()} {onclick}>{ label }</button>
    }
}

/// How many of the latest publishes the pub/sub panel lists.
const SHOWN_PUBLISHES: usize = 4;

/// The latest publishes up to the page's time, newest first: (event index, time, command, reply).
fn publishes(s: &RedisSession) -> Vec<(usize, u64, String)> {
    let events = s.run().events();
    events
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, (_, e))| is_publish(e))
        .take(SHOWN_PUBLISHES)
        .map(|(i, (t, e))| (i, t.as_millis(), e.to_string()))
        .collect()
}

/// Pub/sub: each channel, pattern and shard channel with its subscribers, then the latest publishes.
fn pubsub(channels: &[ChannelView], publishes: &[(usize, u64, String)], on_ask: &Callback<Asked>) -> Html {
    html! {
        <section id="redis-pubsub" class="panel redis-panel" aria-label="Pub/sub">
            <h2>{ "Pub/sub" }</h2>
            if channels.is_empty() {
                <p class="muted">{ "No channel or pattern has a subscriber at this moment: a message published now reaches nobody and is not kept." }</p>
            }
            <ul class="redis-channels">
                { for channels.iter().map(|c| html! {
                    <li class="redis-channel" data-channel={c.name.clone()} data-kind={c.kind}>
                        <span class="muted">{ c.kind }</span>{ " " }<strong>{ &c.name }</strong>
                        { format!(" — {} subscriber{}: {}", c.subscribers.len(), if c.subscribers.len() == 1 { "" } else { "s" }, c.subscribers.join(", ")) }
                    </li>
                }) }
            </ul>
            if !publishes.is_empty() {
                <h3 class="redis-h3">{ "Latest publishes" }</h3>
                <ul class="redis-publishes">
                    { for publishes.iter().map(|(i, t, line)| html! {
                        <li class="redis-publish" data-event={i.to_string()}>
                            <span class="muted">{ clock_text(*t) }</span>{ " " }{ line }{ " " }
                            { ask_button("redis-why-publish", "who got it?", "Who got this message and who did not", Asked::Publish(*i), on_ask) }
                        </li>
                    }) }
                </ul>
            }
        </section>
    }
}
