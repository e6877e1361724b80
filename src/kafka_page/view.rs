//! The Kafka page's views: the cluster (brokers, partitions' leaders, followers and ISR, a broker taken
//! down or brought back by a click), each partition's log strip (log start, high watermark, log end, the
//! retention cut, each group's committed offset), consumer groups (state, generation or epoch, members and
//! their assignments coloured per member), the lag of every partition over the whole run, the checks of
//! the document (a tutorial's steps) and its event log. The time bar and the keys are the shell's
//! ([`crate::shell::TimeBar`], [`crate::player`]): Space plays or pauses, ← / → move one second, Home goes
//! back to 0, End to the end; every control is a focusable button, select or slider.

use super::model::{
    bundled_entry, check_counts, open_file, open_link, Bundled, GroupView, KafkaSession, LagSeries, Opening,
    PartitionView, ShareGroupView, BUNDLED, QUICKSTART,
};
use super::model::{LAG_CHART_H, LAG_CHART_W};
use crate::persist::permalink;
use crate::player::{use_player, ModelSession, Player};
use crate::shell::{clock_text, FileButtons, ShareField, TimeBar};
use broker_core::kafka::TopicPartition;
use broker_core::scenario::document::ModelName;
use broker_core::scenario::sim::CheckStatus;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// The page's own styles (only the Kafka page's download carries them).
const STYLE: &str = include_str!("kafka.css");

/// Member colours (assignment chips, committed-offset marks, lag lines).
pub const PALETTE: &[&str] =
    &["#2f6fde", "#d9480f", "#2b8a3e", "#ae3ec9", "#c2255c", "#0c8599", "#e67700", "#5f3dc4"];

fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// The speeds the player offers.
const SPEEDS: &[u64] = &[1, 2, 5, 10, 20];

/// The bundled document the address asks for (`?doc=ID`, default: the quickstart).
pub fn initial_doc() -> &'static Bundled {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()
        .and_then(|p| p.get("doc"))
        .and_then(|d| bundled_entry(&d))
        .unwrap_or(&BUNDLED[0])
}

/// A notice under the header: (is it a refusal, the sentence).
type Notice = Option<(bool, String)>;

/// The session the page starts with: the document of the address's link (`#scenario=…`, made by either
/// model's page) when `from_address`, else the bundled `doc_id` with its `text` (the quickstart's when
/// none is given). Another model's document is forwarded to its page.
fn starting_session(doc_id: &str, text: Option<&str>, from_address: bool) -> (KafkaSession, Notice) {
    let bundled = || {
        let opened = match (bundled_entry(doc_id), text) {
            (Some(b), Some(text)) => KafkaSession::open(text, Some(b.id)).ok(),
            _ => None,
        };
        opened.unwrap_or_else(|| {
            KafkaSession::open(QUICKSTART, Some(BUNDLED[0].id)).expect("the quickstart opens")
        })
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

/// Opens `fragment` (a share link's) on `model`'s page.
fn go_to(model: ModelName, fragment: &str) {
    if let Some(w) = web_sys::window() {
        let l = w.location();
        let path = l.pathname().unwrap_or_default();
        let _ = l.set_href(&format!("{path}{}#{fragment}", crate::shell::model_query(model)));
    }
}

/// Navigates to the page of another model (each model's page downloads only its own module).
fn go_to_model(model: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_search(&format!("?model={model}"));
    }
}

#[derive(Properties, PartialEq, Default)]
pub struct KafkaAppProps {
    /// The bundled document to open (default: the quickstart).
    #[prop_or_default]
    pub doc: Option<String>,
    /// Its text when it is not the quickstart (which the module carries): the page fetched it
    /// ([`super::start`]); tests pass [`super::model::bundled_text`]'s.
    #[prop_or_default]
    pub text: Option<String>,
    /// Whether the address's link (`#…`) is opened instead (the page: yes; tests: no).
    #[prop_or_default]
    pub from_address: bool,
    /// A refusal to show at start (the document could not be fetched).
    #[prop_or_default]
    pub refusal: Option<String>,
}

/// The whole Kafka page.
#[function_component(KafkaApp)]
pub fn kafka_app(props: &KafkaAppProps) -> Html {
    let start = {
        let doc_id = props.doc.clone().unwrap_or_else(|| BUNDLED[0].id.to_string());
        let text = props.text.clone();
        let from_address = props.from_address;
        let refusal = props.refusal.clone();
        use_mut_ref(move || {
            let (session, notice) = starting_session(&doc_id, text.as_deref(), from_address);
            Some((session, notice.or(refusal.map(|r| (true, r)))))
        })
    };
    let first_notice = start.borrow().as_ref().and_then(|(_, n)| n.clone());
    let notice = use_state(move || first_notice);
    let session: Rc<RefCell<KafkaSession>> = {
        let start = start.clone();
        use_mut_ref(move || start.borrow_mut().take().map(|(s, _)| s).expect("the starting session"))
    };
    let share_link = use_state(|| None::<String>);
    let version = use_state(|| 0u64);
    let bump: Rc<dyn Fn()> = {
        let version = version.clone();
        Rc::new(move || version.set(*version + 1))
    };
    // Play, pause, seek and their keys (shared by every model's page: crate::player).
    let speed = use_state(|| 1u64);
    let Player { playing, seek, toggle_play } = use_player(session.clone(), bump.clone(), *speed);
    let step = {
        let session = session.clone();
        let seek = seek.clone();
        Callback::from(move |()| {
            let to = session.borrow().next_event_ms();
            seek.emit(to);
        })
    };
    let on_speed = {
        let speed = speed.clone();
        Callback::from(move |v: u64| speed.set(v))
    };
    let toggle_broker = {
        let session = session.clone();
        let bump = bump.clone();
        Callback::from(move |broker: i32| {
            session.borrow_mut().toggle_broker(broker);
            bump();
        })
    };
    // The shell's document buttons (shared with the RabbitMQ page: crate::shell).
    let on_share = {
        let session = session.clone();
        let share_link = share_link.clone();
        let notice = notice.clone();
        Callback::from(move |_: MouseEvent| {
            let text = session.borrow().played_text();
            let link = crate::shell::page_url(ModelName::Kafka, &permalink::encode(&text));
            let said = if crate::shell::copy_to_clipboard(&link, "kafka-permalink") {
                "Copied the share link: it opens this document, with the brokers you took down"
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
                crate::shell::copy_to_clipboard(link, "kafka-permalink");
            }
        })
    };
    let on_export = {
        let session = session.clone();
        let notice = notice.clone();
        Callback::from(move |_: MouseEvent| {
            let s = session.borrow();
            let file = format!("{}.json", s.bundled.unwrap_or("kafka-document"));
            notice.set(Some(match crate::shell::download(&file, "application/json", &s.played_text()) {
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
                        notice.set(Some((false, format!("Opened the Kafka document in '{name}'"))));
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
    let pick_doc = Callback::from(move |e: Event| {
        let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_search(&format!("?model=kafka&doc={value}"));
        }
    });
    let pick_model = Callback::from(|e: Event| {
        let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
        if value != "kafka" {
            go_to_model(&value);
        }
    });

    let on_ws_opened = {
        let playing = playing.clone();
        let bump = bump.clone();
        Callback::from(move |()| {
            playing.set(false);
            bump();
        })
    };
    let on_ops_done = {
        let bump = bump.clone();
        Callback::from(move |()| bump())
    };
    let s = session.borrow();
    let now = s.time_ms();
    let end = s.end_ms();
    let groups = s.groups();
    let partitions = s.partitions();
    // Member colours: by the member's place in its group (client ids in order).
    let owner_of = |tp: &TopicPartition| -> Vec<(String, usize)> {
        let mut out = Vec::new();
        for g in &groups {
            for (i, m) in g.members.iter().enumerate() {
                if m.assignment.contains(tp) {
                    out.push((m.client_id.clone(), i));
                }
            }
        }
        out
    };
    let checks = s.checks();
    let (passed, failed, pending) = check_counts(&checks);
    let tutorial = s.bundled == Some("quickstart");
    html! {
        <div class="app kafka-app" data-model="kafka">
            <style>{ STYLE }</style>
            <header class="app-header">
                <h1>{ "Brokerlab" }</h1>
                <label class="model-pick">
                    <span class="visually-hidden">{ "Model" }</span>
                    <select id="model-picker" aria-label="Broker model" onchange={pick_model}>
                        <option value="rabbitmq">{ "RabbitMQ" }</option>
                        <option value="kafka" selected=true>{ "Kafka" }</option>
                        <option value="sqs">{ "Amazon SQS" }</option>
                        <option value="redis">{ "Redis" }</option>
                    </select>
                </label>
                <select id="kafka-doc" aria-label="Kafka document" onchange={pick_doc}>
                    if s.bundled.is_none() {
                        <option value="" selected=true disabled=true>{ "Opened document" }</option>
                    }
                    { for BUNDLED.iter().map(|b| html! {
                        <option value={b.id} selected={s.bundled == Some(b.id)}>{ b.title }</option>
                    }) }
                </select>
                <span class="kafka-files">
                    <FileButtons prefix="kafka" on_share={on_share} on_export={on_export} on_import={on_import} />
                </span>
                <crate::ws_bar::WorkspaceBar<KafkaSession> session={crate::ws_bar::SessionRef(session.clone())}
                    version={*version} playing={*playing} on_opened={on_ws_opened} />
                <TimeBar prefix="kafka" now_ms={now} end_ms={end} playing={*playing} speed={*speed} speeds={SPEEDS}
                         on_seek={seek.clone()} on_play={toggle_play.clone()} on_step={step} on_speed={on_speed} />
            </header>
            if notice.is_some() || share_link.is_some() {
                <div class="kafka-notices">
                    if let Some((refused, text)) = &*notice {
                        <p id="kafka-notice" class={classes!("notice", if *refused { "error" } else { "info" })}
                           role={if *refused { "alert" } else { "status" }}>{ text }</p>
                    }
                    if let Some(link) = &*share_link {
                        <ShareField prefix="kafka" link={link.clone()} on_copy={on_copy} />
                    }
                </div>
            }
            <main class="kafka-main">
                <section class="kafka-col">
                    <section id="kafka-about" class="panel kafka-panel">
                        <h2>{ if tutorial { "Tutorial: Kafka's quickstart" } else { "This document" } }</h2>
                        <p class="kafka-description">{ s.description() }</p>
                        if let Some(stop) = s.stopped() { <p class="notice error" role="alert">{ stop }</p> }
                    </section>
                    <ClusterView brokers={s.brokers()} partitions={partitions.clone()} on_toggle={toggle_broker} />
                    <section id="kafka-logs" class="panel kafka-panel" aria-label="Partition logs">
                        <h2>{ "Partition logs" }</h2>
                        { for partitions.iter().map(|p| log_strip(p, &groups, owner_of(&TopicPartition::new(p.topic.clone(), p.partition)))) }
                    </section>
                    <super::explain_view::Inspector session={super::explain_view::SessionRef(session.clone())} version={*version} />
                </section>
                <section class="kafka-col">
                    <section id="kafka-checks" class="panel kafka-panel" aria-label="Checks">
                        <h2>{ format!("Checks: {passed} passed, {failed} failed, {pending} to come") }</h2>
                        <ul class="kafka-check-list">
                            { for checks.iter().map(|c| {
                                let (class, word) = match c.status {
                                    CheckStatus::Pass => ("pass", "passed"),
                                    CheckStatus::Fail => ("fail", "failed"),
                                    CheckStatus::Pending => ("pending", "to come"),
                                };
                                html! {
                                    <li class={classes!("kafka-check", class)}>
                                        <span class="kafka-check-status">{ word }</span>{ " " }
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
                    <super::ops_view::OpsPanel session={crate::ws_bar::SessionRef(session.clone())}
                        on_done={on_ops_done} version={*version} />
                    { super::ops_view::acks_all_answers(&s) }
                    <GroupsView groups={groups.clone()} />
                    <ShareGroupsView groups={s.share_groups()} />
                    <LagChart series={s.lag.clone()} now={now} end={end} />
                    <section id="kafka-log" class="panel kafka-panel" aria-label="Event log">
                        <h2>{ "Events" }</h2>
                        <ul class="kafka-events" aria-label="Latest first">
                            { for s.latest_events(60).into_iter().map(|(t, e)| html! {
                                <li><span class="muted">{ clock_text(t) }</span>{ " " }{ e }</li>
                            }) }
                        </ul>
                    </section>
                </section>
            </main>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ClusterProps {
    pub brokers: Vec<super::model::BrokerView>,
    pub partitions: Vec<PartitionView>,
    pub on_toggle: Callback<i32>,
}

/// The brokers and, per broker, the replicas it holds: the leader filled, followers outlined, replicas
/// out of the ISR struck and dashed.
#[function_component(ClusterView)]
pub fn cluster_view(props: &ClusterProps) -> Html {
    html! {
        <section id="kafka-cluster" class="panel kafka-panel" aria-label="Cluster">
            <h2>{ "Cluster" }</h2>
            <p class="muted kafka-legend">
                <span class="replica leader">{ "leader" }</span>{ " " }
                <span class="replica follower">{ "in-sync follower" }</span>{ " " }
                <span class="replica out">{ "out of sync" }</span>
            </p>
            <div class="kafka-brokers">
                { for props.brokers.iter().map(|b| {
                    let id = b.id;
                    let onclick = {
                        let t = props.on_toggle.clone();
                        Callback::from(move |_: MouseEvent| t.emit(id))
                    };
                    let replicas = props.partitions.iter().filter(|p| p.replicas.contains(&id));
                    html! {
                        <div class={classes!("kafka-broker", (!b.up).then_some("down"))} id={format!("broker-{id}")}>
                            <div class="kafka-broker-head">
                                <strong>{ format!("broker {id}") }</strong>
                                <span class="muted">{ if b.up { format!("up · leads {}", b.leads) } else { "down".to_string() } }</span>
                            </div>
                            <ul class="kafka-replicas">
                                { for replicas.map(|p| {
                                    let (class, role) = if p.leader == Some(id) {
                                        ("leader", "leader")
                                    } else if p.isr.contains(&id) {
                                        ("follower", "in-sync follower")
                                    } else {
                                        ("out", "follower out of the ISR")
                                    };
                                    html! {
                                        <li class={classes!("replica", class)} title={format!("{}: {role}", p.name())}>
                                            { p.name() }
                                        </li>
                                    }
                                }) }
                            </ul>
                            <button class="btn kafka-broker-toggle" id={format!("broker-{id}-toggle")} onclick={onclick}>
                                { if b.up { format!("Take broker {id} down") } else { format!("Bring broker {id} back") } }
                            </button>
                        </div>
                    }
                }) }
            </div>
            <table class="kafka-table" aria-label="Partitions">
                <thead><tr><th>{ "partition" }</th><th>{ "leader" }</th><th>{ "epoch" }</th><th>{ "replicas" }</th><th>{ "ISR" }</th></tr></thead>
                <tbody>
                    { for props.partitions.iter().map(|p| html! {
                        <tr class={classes!((p.isr.len() < p.replicas.len()).then_some("under-replicated"), p.leader.is_none().then_some("offline"))}>
                            <td>{ p.name() }</td>
                            <td>{ p.leader.map_or("none (offline)".to_string(), |l| l.to_string()) }</td>
                            <td>{ p.leader_epoch }</td>
                            <td>{ join(&p.replicas) }</td>
                            <td class="isr">{ join(&p.isr) }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </section>
    }
}

fn join(ids: &[i32]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

/// One partition's log as a strip of offsets: deleted by retention (before the log start), readable
/// (log start → high watermark), written but not yet replicated (high watermark → log end); each group's
/// committed offset marked below.
fn log_strip(p: &PartitionView, groups: &[GroupView], owners: Vec<(String, usize)>) -> Html {
    const WIDTH: f64 = 560.0;
    let span = (p.log_end.max(1)) as f64;
    let x = |o: i64| o as f64 / span * WIDTH;
    let cells = p.log_end <= 120;
    let committed: Vec<(String, i64)> = groups
        .iter()
        .filter_map(|g| {
            g.offsets
                .iter()
                .find(|(tp, _, _)| tp.topic == p.topic && tp.partition == p.partition)
                .and_then(|(_, c, _)| c.map(|c| (g.id.clone(), c)))
        })
        .collect();
    html! {
        <div class="kafka-log" id={format!("log-{}", p.name())}>
            <div class="kafka-log-head">
                <strong>{ p.name() }</strong>
                <span class="muted">
                    { format!("log start {} · high watermark {} · log end {} · {} segment{}", p.log_start, p.high_watermark,
                              p.log_end, p.segments, if p.segments == 1 { "" } else { "s" }) }
                    if p.log_start > 0 { { format!(" · retention cut before {}", p.log_start) } }
                </span>
                { for owners.iter().map(|(name, i)| html! {
                    <span class="chip" style={format!("border-color:{0};color:{0}", colour(*i))}>{ format!("read by {name}") }</span>
                }) }
            </div>
            <svg class="kafka-strip" viewBox={format!("-4 0 {} 34", WIDTH + 8.0)} role="img"
                 aria-label={format!("{}: offsets {} to {}, high watermark {}", p.name(), p.log_start, p.log_end, p.high_watermark)}>
                <rect class="strip-bg" x="0" y="2" width={WIDTH.to_string()} height="16" />
                if p.log_start > 0 {
                    <rect class="strip-deleted" x="0" y="2" width={x(p.log_start).to_string()} height="16" />
                }
                <rect class="strip-readable" x={x(p.log_start).to_string()} y="2"
                      width={(x(p.high_watermark) - x(p.log_start)).max(0.0).to_string()} height="16" />
                <rect class="strip-unreplicated" x={x(p.high_watermark).to_string()} y="2"
                      width={(x(p.log_end) - x(p.high_watermark)).max(0.0).to_string()} height="16" />
                if cells && p.log_end > 0 {
                    { for (1..p.log_end).map(|o| html! {
                        <line class="strip-cell" x1={x(o).to_string()} x2={x(o).to_string()} y1="2" y2="18" />
                    }) }
                }
                <line class="strip-hw" x1={x(p.high_watermark).to_string()} x2={x(p.high_watermark).to_string()} y1="0" y2="20" />
                { for committed.iter().enumerate().map(|(i, (g, c))| html! {
                    <g class="strip-commit">
                        <polygon points={format!("{0},20 {1},28 {2},28", x(*c), x(*c) - 4.0, x(*c) + 4.0)} style={format!("fill:{}", colour(i + 3))} />
                        <title>{ format!("{g} committed {c}") }</title>
                    </g>
                }) }
            </svg>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct GroupsProps {
    pub groups: Vec<GroupView>,
}

/// Consumer groups: state, generation, members with their partitions (one colour per member), and per
/// partition the committed offset and the lag.
#[function_component(GroupsView)]
pub fn groups_view(props: &GroupsProps) -> Html {
    html! {
        <section id="kafka-groups" class="panel kafka-panel" aria-label="Consumer groups">
            <h2>{ "Consumer groups" }</h2>
            if props.groups.is_empty() { <p class="muted">{ "No group has joined yet." }</p> }
            { for props.groups.iter().map(|g| html! {
                <div class="kafka-group" id={format!("group-{}", g.id)}>
                    <div class="kafka-group-head">
                        <strong>{ &g.id }</strong>
                        <span class="group-state">{ &g.state }</span>
                        <span class="muted">{ if g.protocol == "classic" { format!("generation {}", g.generation) } else { format!("group epoch {}", g.generation) } }</span>
                        <span class="muted">{ format!("{} protocol", g.protocol) }</span>
                    </div>
                    <ul class="kafka-members">
                        { for g.members.iter().enumerate().map(|(i, m)| html! {
                            <li>
                                <span class="swatch" style={format!("background:{}", colour(i))}></span>
                                <strong>{ &m.client_id }</strong>{ " " }
                                if m.assignment.is_empty() { <span class="muted">{ "no partitions" }</span> }
                                { for m.assignment.iter().map(|tp| html! {
                                    <span class="chip" style={format!("border-color:{0};color:{0}", colour(i))}>{ format!("{}-{}", tp.topic, tp.partition) }</span>
                                }) }
                            </li>
                        }) }
                    </ul>
                    <table class="kafka-table">
                        <thead><tr><th>{ "partition" }</th><th>{ "committed" }</th><th>{ "lag" }</th></tr></thead>
                        <tbody>
                            { for g.offsets.iter().map(|(tp, c, lag)| html! {
                                <tr>
                                    <td>{ format!("{}-{}", tp.topic, tp.partition) }</td>
                                    <td>{ c.map_or("-".to_string(), |c| c.to_string()) }</td>
                                    <td class="lag-value">{ lag }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
            }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ShareGroupsProps {
    pub groups: Vec<ShareGroupView>,
}

/// Share groups (KIP-932), in the consumer groups' style: members (one colour each) with the records
/// they hold acquired, and per share-partition its start offset (SPSO) and every record in flight as a
/// cell — available, acquired (the holder's colour), acknowledged or archived — with its delivery count.
/// Nothing is drawn for a document without share consumers.
#[function_component(ShareGroupsView)]
pub fn share_groups_view(props: &ShareGroupsProps) -> Html {
    if props.groups.is_empty() {
        return html! {};
    }
    html! {
        <section id="kafka-share-groups" class="panel kafka-panel" aria-label="Share groups">
            <h2>{ "Share groups" }</h2>
            <p class="muted kafka-legend">
                <span class="share-cell available">{ "available" }</span>{ " " }
                <span class="share-cell acquired">{ "acquired" }</span>{ " " }
                <span class="share-cell acknowledged">{ "acknowledged" }</span>{ " " }
                <span class="share-cell archived">{ "archived" }</span>
                { " · the number is the delivery count" }
            </p>
            { for props.groups.iter().map(|g| {
                let colour_of = |member: &str| g.members.iter().position(|m| m.name == member).map(colour);
                html! {
                    <div class="kafka-group kafka-share-group" id={format!("share-group-{}", g.id)}>
                        <div class="kafka-group-head">
                            <strong>{ &g.id }</strong>
                            <span class="muted">{ "share group" }</span>
                            <span class="muted">{ format!("delivery limit {} · record lock {}", g.delivery_limit, clock_text(g.lock_duration_ms)) }</span>
                        </div>
                        <ul class="kafka-members">
                            { for g.members.iter().enumerate().map(|(i, m)| html! {
                                <li class={classes!((!m.running).then_some("stopped"))}>
                                    <span class="swatch" style={format!("background:{}", colour(i))}></span>
                                    <strong>{ &m.name }</strong>{ " " }
                                    if !m.running { <span class="muted">{ "not polling · " }</span> }
                                    if m.acquired.is_empty() { <span class="muted">{ "holds no record" }</span> }
                                    { for m.acquired.iter().map(|a| html! {
                                        <span class="chip" style={format!("border-color:{0};color:{0}", colour(i))}>{ a }</span>
                                    }) }
                                </li>
                            }) }
                        </ul>
                        <table class="kafka-table">
                            <thead><tr><th>{ "partition" }</th><th>{ "start offset" }</th><th>{ "in flight" }</th><th>{ "acquired" }</th></tr></thead>
                            <tbody>
                                { for g.partitions.iter().map(|p| html! {
                                    <tr>
                                        <td>{ p.partition.to_string() }</td>
                                        <td>{ p.start_offset.map_or("- (no fetch yet)".to_string(), |o| o.to_string()) }</td>
                                        <td>{ p.in_flight.len() }</td>
                                        <td class="lag-value">{ p.in_flight.iter().filter(|r| r.state == "Acquired").count() }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                        { for g.partitions.iter().filter(|p| !p.in_flight.is_empty()).map(|p| html! {
                            <div class="share-records" id={format!("share-{}-{}", g.id, p.partition)}
                                 role="list" aria-label={format!("{}: records in flight from offset {}", p.partition, p.start_offset.unwrap_or(0))}>
                                <span class="kafka-records-name">{ format!("{} from {}", p.partition, p.start_offset.unwrap_or(0)) }</span>
                                { for p.in_flight.iter().map(|r| {
                                    let holder = r.member.as_deref().and_then(colour_of);
                                    let title = match &r.member {
                                        Some(m) => format!("offset {}: acquired by {m}, delivery {}", r.offset, r.delivery_count),
                                        None => format!("offset {}: {}, delivered {} time(s)", r.offset, r.state.to_lowercase(), r.delivery_count),
                                    };
                                    html! {
                                        <span role="listitem" class={classes!("share-cell", r.state.to_lowercase())} title={title.clone()} aria-label={title}
                                              style={holder.map(|c| format!("background:{c};border-color:{c}"))}>
                                            <span class="share-offset">{ r.offset }</span>
                                            <sub>{ r.delivery_count }</sub>
                                        </span>
                                    }
                                }) }
                            </div>
                        }) }
                    </div>
                }
            }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct LagProps {
    pub series: Rc<LagSeries>,
    pub now: u64,
    pub end: u64,
}

/// The lag of every (group, partition) over the whole run, the page's time marked.
#[function_component(LagChart)]
pub fn lag_chart(props: &LagProps) -> Html {
    const W: f64 = LAG_CHART_W;
    const H: f64 = LAG_CHART_H;
    let s = &props.series;
    let end = props.end.max(1) as f64;
    let max = s.max as f64;
    let x = |t: u64| t as f64 / end * W;
    html! {
        <section id="kafka-lag" class="panel kafka-panel" aria-label="Lag over the run">
            <h2>{ "Lag per partition over the run" }</h2>
            <svg class="kafka-lag-chart" viewBox={format!("-34 -4 {} {}", W + 40.0, H + 22.0)} role="img"
                 aria-label="Lag per partition over the whole run">
                <line class="axis" x1="0" y1={H.to_string()} x2={W.to_string()} y2={H.to_string()} />
                <line class="axis" x1="0" y1="0" x2="0" y2={H.to_string()} />
                <text class="tick" x="-4" y={(H - (H - 8.0)).to_string()} text-anchor="end">{ max as u64 }</text>
                <text class="tick" x="-4" y={H.to_string()} text-anchor="end">{ "0" }</text>
                <text class="tick" x={W.to_string()} y={(H + 14.0).to_string()} text-anchor="end">{ clock_text(props.end) }</text>
                { for s.points.iter().enumerate().map(|(i, points)| html! {
                    <polyline class="lag-line" points={points.clone()} style={format!("stroke:{}", colour(i))} />
                }) }
                <line class="now" x1={x(props.now).to_string()} x2={x(props.now).to_string()} y1="0" y2={H.to_string()} />
            </svg>
            <ul class="kafka-lag-legend">
                { for s.lines.iter().enumerate().map(|(i, l)| html! {
                    <li><span class="swatch" style={format!("background:{}", colour(i))}></span>{ l }</li>
                }) }
            </ul>
        </section>
    }
}
