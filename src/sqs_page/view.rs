//! The SQS page's views: the graph (SNS topics with their subscriptions and filter policies → queues →
//! dead-letter queues, each edge labelled), every queue with its visible / in-flight / delayed counts and
//! its messages (each in-flight message's visibility clock running out, each delayed one's delay), FIFO
//! message groups as lanes with the blocked ones marked, the explanations (why a receive came back
//! empty, why a group is blocked, why a message reached the DLQ), the document's checks, the messages
//! done twice, the calls by hand ([`super::ops_view`]) and the event log. The time bar is the shell's
//! ([`crate::shell::TimeBar`], ids `sqs-play`, `sqs-step`, …). Keyboard: Space plays or
//! pauses, ← / → move one second, Home goes back to 0, End to the end (unless a field has the focus);
//! every control is a focusable button, select, slider or labelled field.

use super::explain;
use super::model::{check_counts, open_file, open_link, Opening, QueueView, SqsSession, TopicView, BUNDLED};
use crate::persist::permalink;
use crate::player::{use_player, ModelSession, Player};
use crate::shell::{FileButtons, ShareField, TimeBar};
use broker_core::scenario::document::ModelName;
use broker_core::scenario::sim::CheckStatus;
use broker_core::sqs::queue::MessageState;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// The page's own styles (only the SQS page's download carries them).
const STYLE: &str = include_str!("sqs.css");

/// The speeds the player offers.
const SPEEDS: &[u64] = &[1, 2, 5, 10, 20];

fn seconds(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

fn tenths(ms: u64) -> String {
    format!("{}.{} s", ms / 1000, ms % 1000 / 100)
}

/// The bundled document the address asks for (`?doc=ID`, default: the visibility timeout).
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

fn starting_session(doc_id: &str, from_address: bool) -> (SqsSession, Notice) {
    let bundled = || {
        SqsSession::bundled(doc_id)
            .or_else(|| SqsSession::bundled(BUNDLED[0].id))
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
pub struct SqsAppProps {
    /// The bundled document to open (tests pass one; the page reads `?doc=`).
    #[prop_or_default]
    pub doc: Option<String>,
}

/// The whole SQS page.
#[function_component(SqsApp)]
pub fn sqs_app(props: &SqsAppProps) -> Html {
    let doc_id = props.doc.clone().unwrap_or_else(initial_doc);
    let start = {
        let from_address = props.doc.is_none();
        use_mut_ref(move || Some(starting_session(&doc_id, from_address)))
    };
    let first_notice = start.borrow().as_ref().and_then(|(_, n)| n.clone());
    let notice = use_state(move || first_notice);
    let session: Rc<RefCell<SqsSession>> = {
        let start = start.clone();
        use_mut_ref(move || start.borrow_mut().take().map(|(s, _)| s).expect("the starting session"))
    };
    let share_link = use_state(|| None::<String>);
    let version = use_state(|| 0u64);
    let speed = use_state(|| 1u64);
    let explained = use_state(|| None::<Explained>);
    let bump: Rc<dyn Fn()> = {
        let version = version.clone();
        Rc::new(move || version.set(*version + 1))
    };
    // Play, pause, seek and their keys (shared by every model's page: crate::player).
    let Player { playing, seek, toggle_play } = use_player(session.clone(), bump.clone(), *speed);
    let on_share = {
        let session = session.clone();
        let share_link = share_link.clone();
        let notice = notice.clone();
        Callback::from(move |_: MouseEvent| {
            let text = session.borrow().text.clone();
            let link = crate::shell::page_url(ModelName::Sqs, &permalink::encode(&text));
            let said = if crate::shell::copy_to_clipboard(&link, "sqs-permalink") {
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
                crate::shell::copy_to_clipboard(link, "sqs-permalink");
            }
        })
    };
    let on_export = {
        let session = session.clone();
        let notice = notice.clone();
        Callback::from(move |_: MouseEvent| {
            let s = session.borrow();
            let file = format!("{}.json", s.bundled.unwrap_or("sqs-document"));
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
        let explained = explained.clone();
        let bump = bump.clone();
        Callback::from(move |e: Event| {
            let Some(file) = crate::shell::file_of(&e) else { return };
            let session = session.clone();
            let notice = notice.clone();
            let playing = playing.clone();
            let explained = explained.clone();
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
                        explained.set(None);
                        notice.set(Some((false, format!("Opened the SQS document in '{name}'"))));
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
        let explained = explained.clone();
        let bump = bump.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
            if let Some(s) = SqsSession::bundled(&value) {
                *session.borrow_mut() = s;
                playing.set(false);
                explained.set(None);
                bump();
                if let Some(w) = web_sys::window() {
                    if let Ok(h) = w.history() {
                        let _ = h.replace_state_with_url(
                            &wasm_bindgen::JsValue::NULL,
                            "",
                            Some(&format!("?model=sqs&doc={value}")),
                        );
                    }
                }
            }
        })
    };
    let pick_model = Callback::from(|e: Event| {
        let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
        if value != "sqs" {
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_search(&format!("?model={value}"));
            }
        }
    });
    let pick_speed = {
        let speed = speed.clone();
        Callback::from(move |v: u64| speed.set(v))
    };
    let explain = {
        let explained = explained.clone();
        Callback::from(move |what: Explained| explained.set(Some(what)))
    };

    let s = session.borrow();
    let now = s.time_ms();
    let end = s.end_ms();
    let queues = s.queues();
    let topics = s.topics();
    let step = {
        let session = session.clone();
        let seek = seek.clone();
        // The next instant something happens (an event), else one second.
        Callback::from(move |()| {
            let to = {
                let s = session.borrow();
                let n = s.run().events().len();
                let mut probe = s.replayed_to(s.time_ms());
                let mut to = s.time_ms() + 1000;
                if let Some(run) = probe.as_mut() {
                    let mut t = s.time_ms();
                    while t < s.end_ms() {
                        let from = t;
                        t = (t + 100).min(s.end_ms());
                        s.play_on(run, from, t);
                        if run.events().len() > n {
                            to = t;
                            break;
                        }
                    }
                }
                to
            };
            seek.emit(to);
        })
    };
    let on_hand = {
        let bump = bump.clone();
        Callback::from(move |_: ()| bump())
    };
    let on_ws_opened = {
        let playing = playing.clone();
        let explained = explained.clone();
        let bump = bump.clone();
        Callback::from(move |()| {
            playing.set(false);
            explained.set(None);
            bump();
        })
    };
    let checks = s.checks();
    let (passed, failed, pending) = check_counts(&checks);
    let twice = s.done_twice();
    html! {
        <div class="app sqs-app" data-model="sqs">
            <style>{ STYLE }</style>
            <header class="app-header">
                <h1>{ "Brokerlab" }</h1>
                <label class="model-pick">
                    <span class="visually-hidden">{ "Model" }</span>
                    <select id="model-picker" aria-label="Broker model" onchange={pick_model}>
                        <option value="rabbitmq">{ "RabbitMQ" }</option>
                        <option value="kafka">{ "Kafka" }</option>
                        <option value="sqs" selected=true>{ "Amazon SQS" }</option>
                        <option value="redis">{ "Redis" }</option>
                    </select>
                </label>
                <select id="sqs-doc" aria-label="SQS tutorial" onchange={pick_doc}>
                    if s.bundled.is_none() {
                        <option value="" selected=true disabled=true>{ "Opened document" }</option>
                    }
                    { for BUNDLED.iter().map(|b| html! {
                        <option value={b.id} selected={s.bundled == Some(b.id)}>{ b.title }</option>
                    }) }
                </select>
                <span class="sqs-files">
                    <FileButtons prefix="sqs" on_share={on_share} on_export={on_export} on_import={on_import} />
                </span>
                <crate::ws_bar::WorkspaceBar<SqsSession> session={crate::ws_bar::SessionRef(session.clone())}
                    version={*version} playing={*playing} on_opened={on_ws_opened} />
                <TimeBar prefix="sqs" now_ms={now} end_ms={end} playing={*playing} speed={*speed} speeds={SPEEDS}
                         on_seek={seek.clone()} on_play={toggle_play.clone()} on_step={step} on_speed={pick_speed} />
            </header>
            if notice.is_some() || share_link.is_some() {
                <div class="sqs-notices">
                    if let Some((refused, text)) = &*notice {
                        <p id="sqs-notice" class={classes!("notice", if *refused { "error" } else { "info" })}
                           role={if *refused { "alert" } else { "status" }}>{ text }</p>
                    }
                    if let Some(link) = &*share_link {
                        <ShareField prefix="sqs" link={link.clone()} on_copy={on_copy} />
                    }
                </div>
            }
            <main class="sqs-main">
                <section class="sqs-col">
                    <section id="sqs-about" class="panel sqs-panel">
                        <h2>{ s.name() }</h2>
                        <p class="sqs-description">{ s.description() }</p>
                        if let Some(stop) = s.stopped() { <p class="notice error" role="alert">{ stop }</p> }
                    </section>
                    { graph(&queues, &topics) }
                    <section id="sqs-queues" class="panel sqs-panel" aria-label="Queues">
                        <h2>{ "Queues" }</h2>
                        { for queues.iter().map(|q| queue_card(q, &explain)) }
                    </section>
                    { explanations(&s, explained.as_ref(), &queues, &explain) }
                    <super::charts::CountCharts series={s.counts.clone()} now={now} end={end} />
                </section>
                <section class="sqs-col">
                    <section id="sqs-checks" class="panel sqs-panel" aria-label="Checks">
                        <h2>{ format!("Checks: {passed} passed, {failed} failed, {pending} to come") }</h2>
                        <ul class="sqs-check-list">
                            { for checks.iter().map(|c| {
                                let (class, word) = match c.status {
                                    CheckStatus::Pass => ("pass", "passed"),
                                    CheckStatus::Fail => ("fail", "failed"),
                                    CheckStatus::Pending => ("pending", "to come"),
                                };
                                html! {
                                    <li class={classes!("sqs-check", class)}>
                                        <span class="sqs-check-status">{ word }</span>{ " " }
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
                    <section id="sqs-twice" class="panel sqs-panel" aria-label="Messages processed more than once">
                        <h2>{ format!("Processed more than once: {}", twice.len()) }</h2>
                        if twice.is_empty() { <p class="muted">{ "No message has been processed twice so far." }</p> }
                        <ul class="sqs-twice-list">
                            { for twice.iter().map(|d| html! {
                                <li class="sqs-twice">
                                    <strong>{ &d.body }</strong>
                                    { format!(" processed {}×, by {}", d.by.len(), d.by.join(", ")) }
                                </li>
                            }) }
                        </ul>
                    </section>
                    <super::ops_view::HandPanel key={s.bundled.unwrap_or("opened")}
                        session={crate::ws_bar::SessionRef(session.clone())} version={*version}
                        on_done={on_hand.clone()} />
                    <section id="sqs-log" class="panel sqs-panel" aria-label="Event log">
                        <h2>{ "Events" }</h2>
                        <ul class="sqs-events" aria-label="Latest first">
                            { for s.latest_events(80).into_iter().map(|(t, e)| html! {
                                <li><span class="muted">{ seconds(t) }</span>{ " " }{ e }</li>
                            }) }
                        </ul>
                    </section>
                </section>
            </main>
        </div>
    }
}

/// What the explanations panel shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Explained {
    /// An empty receive, by its index in the run's events.
    Empty(usize),
    /// A FIFO group: (queue, group).
    Blocked(String, String),
    /// A message moved to a dead-letter queue, by id.
    DeadLetter(String),
}

fn explanations(
    s: &SqsSession,
    shown: Option<&Explained>,
    queues: &[QueueView],
    on: &Callback<Explained>,
) -> Html {
    let empties = explain::empty_receives(s);
    let moved = explain::dead_lettered(s);
    let text: Option<(String, Vec<String>)> = match shown {
        Some(Explained::Empty(i)) => empties.iter().find(|e| e.index == *i).map(|e| {
            (
                format!("Why did {}'s receive at {} come back empty?", e.consumer, seconds(e.at_ms)),
                explain::why_empty(e, explain::before(s, e)),
            )
        }),
        Some(Explained::Blocked(q, g)) => queues.iter().find(|x| x.name == *q).and_then(|qv| {
            let lane = qv.groups.iter().find(|l| l.group == *g)?;
            Some((format!("Why is group '{g}' blocked?"), explain::why_blocked(qv, lane)))
        }),
        Some(Explained::DeadLetter(id)) => moved
            .iter()
            .find(|m| m.message_id == *id)
            .map(|m| (format!("Why did {:?} reach '{}'?", m.body, m.to), explain::why_dead_letter(s, m))),
        None => None,
    };
    html! {
        <section id="sqs-explain" class="panel sqs-panel" aria-label="Explanations">
            <h2>{ "Why?" }</h2>
            <div class="sqs-why-row">
                <span class="sqs-why-name">{ "Empty receives" }</span>
                if empties.is_empty() { <span class="muted">{ "none so far" }</span> }
                { for empties.iter().take(12).map(|e| {
                    let i = e.index;
                    let on = on.clone();
                    html! {
                        <button class="btn small sqs-why-empty" data-consumer={e.consumer.clone()} data-at={e.at_ms.to_string()} onclick={Callback::from(move |_: MouseEvent| on.emit(Explained::Empty(i)))}>
                            { format!("{} {}", e.consumer, tenths(e.at_ms)) }
                        </button>
                    }
                }) }
            </div>
            <div class="sqs-why-row">
                <span class="sqs-why-name">{ "Dead-lettered" }</span>
                if moved.is_empty() { <span class="muted">{ "none so far" }</span> }
                { for moved.iter().map(|m| {
                    let id = m.message_id.clone();
                    let on = on.clone();
                    html! {
                        <button class="btn small sqs-why-dlq" onclick={Callback::from(move |_: MouseEvent| on.emit(Explained::DeadLetter(id.clone())))}>
                            { m.body.clone() }
                        </button>
                    }
                }) }
            </div>
            if let Some((title, lines)) = text {
                <div id="sqs-explanation" class="sqs-explanation" role="region" aria-label="Explanation">
                    <h3>{ title }</h3>
                    <ul>{ for lines.iter().map(|l| html! { <li>{ l }</li> }) }</ul>
                </div>
            } else if shown.is_some() {
                <p class="muted">{ "That is not there at this moment." }</p>
            } else {
                <p class="muted">{ "Pick an empty receive, a dead-lettered message, or a blocked group (in its queue) to see why." }</p>
            }
        </section>
    }
}

/// One message: its body, its state, its receive count, and the clock until it is visible again.
fn message_item(m: &super::model::MessageView) -> Html {
    let (class, state) = match m.state {
        MessageState::Visible => ("visible", "visible".to_string()),
        MessageState::InFlight => ("in-flight", format!("in flight · {} left", tenths(m.remaining_ms))),
        MessageState::Delayed => ("delayed", format!("delayed · {} left", tenths(m.remaining_ms))),
    };
    let fraction = if m.clock_ms == 0 { 0.0 } else { m.remaining_ms as f64 / m.clock_ms as f64 };
    html! {
        <li class={classes!("sqs-msg", class)} title={format!("message id {}", m.message_id)}>
            <span class="sqs-msg-body">{ &m.body }</span>
            <span class="sqs-msg-state">{ state }</span>
            <span class="sqs-msg-count" title="ApproximateReceiveCount">{ format!("received {}×", m.receive_count) }</span>
            if m.state != MessageState::Visible {
                <span class="sqs-clock" role="img" aria-label={format!("{} of {} left", tenths(m.remaining_ms), tenths(m.clock_ms))}>
                    <span class="sqs-clock-fill" style={format!("width:{:.1}%", fraction * 100.0)}></span>
                </span>
            }
        </li>
    }
}

/// A queue: its counts, its messages (FIFO: one lane per message group, blocked ones marked), its DLQ.
fn queue_card(q: &QueueView, on: &Callback<Explained>) -> Html {
    let id = format!("queue-{}", q.name.replace('.', "-"));
    html! {
        <div class={classes!("sqs-queue", q.fifo.then_some("fifo"))} id={id} data-queue={q.name.clone()}>
            <div class="sqs-queue-head">
                <strong>{ &q.name }</strong>
                <span class="muted">{ format!("{} · VisibilityTimeout {} s", if q.fifo { "FIFO" } else { "standard" }, q.visibility_timeout) }</span>
            </div>
            <div class="sqs-counts">
                <span class="sqs-count visible" data-count="visible">{ format!("visible {}", q.visible) }</span>
                <span class="sqs-count in-flight" data-count="in-flight">{ format!("in flight {}", q.in_flight) }</span>
                <span class="sqs-count delayed" data-count="delayed">{ format!("delayed {}", q.delayed) }</span>
                if let Some(d) = &q.dead_letter {
                    <span class="sqs-dlq-edge">{ format!("→ {} after {} receives · moved {}", d.to, d.max_receive_count, d.moved) }</span>
                }
            </div>
            if q.fifo {
                { for q.groups.iter().map(|lane| {
                    let on = on.clone();
                    let (qn, g) = (q.name.clone(), lane.group.clone());
                    html! {
                        <div class={classes!("sqs-lane", lane.blocked.then_some("blocked"))} data-group={lane.group.clone()}>
                            <div class="sqs-lane-head">
                                <strong>{ format!("group {}", lane.group) }</strong>
                                if lane.blocked { <span class="sqs-blocked">{ "blocked" }</span> }
                                <button class="btn small sqs-why-group" onclick={Callback::from(move |_: MouseEvent| on.emit(Explained::Blocked(qn.clone(), g.clone())))}>
                                    { if lane.blocked { "Why blocked?" } else { "Why?" } }
                                </button>
                            </div>
                            <ul class="sqs-msgs">{ for lane.messages.iter().map(message_item) }</ul>
                        </div>
                    }
                }) }
            } else {
                <ul class="sqs-msgs">{ for q.messages.iter().take(40).map(message_item) }</ul>
                if q.messages.len() > 40 { <p class="muted">{ format!("… and {} more", q.messages.len() - 40) }</p> }
            }
        </div>
    }
}

/// The graph: topics (left) → their subscribed queues (middle, the edge labelled with the filter policy)
/// → dead-letter queues (right, the edge labelled with maxReceiveCount and the messages moved; the gap
/// between the two columns is wide enough for that label).
fn graph(queues: &[QueueView], topics: &[TopicView]) -> Html {
    const BOX_W: f64 = 190.0;
    const BOX_H: f64 = 50.0;
    const ROW: f64 = 66.0;
    let is_dlq = |name: &str| queues.iter().any(|q| q.dead_letter.as_ref().is_some_and(|d| d.to == name));
    // The gap before the dead-letter column holds its edges' labels (`> 10 receives · moved 100` is about
    // 140 units wide at the label's size); the labels are drawn after the boxes, so a longer one is not
    // hidden behind them.
    let col_x = [8.0, 250.0, 250.0 + BOX_W + 160.0];
    let mut place: Vec<(String, f64, f64)> = Vec::new();
    let (mut rows_mid, mut rows_right) = (0.0, 0.0);
    for q in queues {
        let (x, row) = if is_dlq(&q.name) { (col_x[2], &mut rows_right) } else { (col_x[1], &mut rows_mid) };
        place.push((q.name.clone(), x, 8.0 + *row * ROW));
        *row += 1.0;
    }
    let at = |name: &str| place.iter().find(|(n, _, _)| n == name).map(|(_, x, y)| (*x, *y));
    let rows = rows_mid.max(rows_right).max(topics.len() as f64).max(1.0);
    let height = 16.0 + rows * ROW;
    let width = col_x[2] + BOX_W + 8.0;
    html! {
        <section id="sqs-graph" class="panel sqs-panel" aria-label="Topics, queues and dead-letter queues">
            <h2>{ "Graph" }</h2>
            <svg class="sqs-graph" viewBox={format!("0 0 {width} {height}")} role="img"
                 aria-label="SNS topics, their subscriptions, the queues and their dead-letter queues">
                <defs>
                    <marker id="sqs-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" class="sqs-arrow-head" />
                    </marker>
                </defs>
                { for topics.iter().enumerate().map(|(i, t)| {
                    let y = 8.0 + i as f64 * ROW;
                    html! {
                        <g class="sqs-topic" data-topic={t.name.clone()}>
                            <rect x={col_x[0].to_string()} y={y.to_string()} width={(BOX_W - 20.0).to_string()} height={BOX_H.to_string()} rx="24" />
                            <text x={(col_x[0] + 12.0).to_string()} y={(y + 20.0).to_string()} class="sqs-node-name">{ format!("topic {}", t.name) }</text>
                            <text x={(col_x[0] + 12.0).to_string()} y={(y + 38.0).to_string()} class="sqs-node-counts">{ format!("published {}", t.published) }</text>
                            { for t.subscriptions.iter().enumerate().filter_map(|(k, sub)| {
                                let (qx, qy) = at(&sub.queue)?;
                                let (x1, y1) = (col_x[0] + BOX_W - 20.0, y + BOX_H / 2.0);
                                let (x2, y2) = (qx, qy + BOX_H / 2.0);
                                let label = match &sub.filter_policy {
                                    Some(p) => format!("filter {p}"),
                                    None => "everything".to_string(),
                                };
                                let label = if sub.raw_message_delivery { format!("{label} · raw") } else { label };
                                let lx = (x1 + x2) / 2.0;
                                let ly = (y1 + y2) / 2.0 - 4.0 + k as f64 * 2.0;
                                Some(html! {
                                    <g class="sqs-sub">
                                        <path d={format!("M {x1} {y1} C {lx} {y1}, {lx} {y2}, {x2} {y2}")} marker-end="url(#sqs-arrow)" />
                                        <text x={lx.to_string()} y={ly.to_string()} class="sqs-edge-label" text-anchor="middle">{ shorten(&label, 30) }</text>
                                        <title>{ label }</title>
                                    </g>
                                })
                            }) }
                        </g>
                    }
                }) }
                { for queues.iter().filter_map(|q| {
                    let (x, y) = at(&q.name)?;
                    Some(html! {
                        <g class={classes!("sqs-node", q.fifo.then_some("fifo"), is_dlq(&q.name).then_some("dlq"))} data-queue={q.name.clone()}>
                            <rect x={x.to_string()} y={y.to_string()} width={BOX_W.to_string()} height={BOX_H.to_string()} rx="5" />
                            <text x={(x + 8.0).to_string()} y={(y + 19.0).to_string()} class="sqs-node-name">{ shorten(&q.name, 24) }</text>
                            <text x={(x + 8.0).to_string()} y={(y + 38.0).to_string()} class="sqs-node-counts">
                                { format!("{} visible · {} in flight · {} delayed", q.visible, q.in_flight, q.delayed) }
                            </text>
                        </g>
                    })
                }) }
                { for queues.iter().filter_map(|q| {
                    let d = q.dead_letter.as_ref()?;
                    let (x1, y1) = at(&q.name)?;
                    let (x2, y2) = at(&d.to)?;
                    let (sx, sy, ex, ey) = (x1 + BOX_W, y1 + BOX_H / 2.0, x2, y2 + BOX_H / 2.0);
                    let mx = (sx + ex) / 2.0;
                    Some(html! {
                        <g class="sqs-dlq-link" data-from={q.name.clone()} data-to={d.to.clone()}>
                            <path d={format!("M {sx} {sy} C {mx} {sy}, {mx} {ey}, {ex} {ey}")} marker-end="url(#sqs-arrow)" />
                            <text x={mx.to_string()} y={((sy + ey) / 2.0 - 6.0).to_string()} class="sqs-edge-label" text-anchor="middle">
                                { format!("> {} receives · moved {}", d.max_receive_count, d.moved) }
                            </text>
                        </g>
                    })
                }) }
            </svg>
        </section>
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max - 1).collect();
    format!("{head}…")
}
