//! The embedded sandbox's panels, compact for a column of text: controls, topology, a queue table with the
//! counters the API reads, the checks and the last events. Each reads the app state through `use_app`.

use super::config::Panel;
use crate::components::checks::ChecksPanel;
use crate::components::header::{speed_options, TimeCallbacks};
use crate::components::topology_view::TopologyView;
use crate::components::use_app;
use crate::state::NoticeKind;
use yew::prelude::*;

/// How many of the latest events the log panel lists.
const LOG_LINES: usize = 12;

#[derive(Properties, PartialEq)]
pub struct ShellProps {
    pub panels: Vec<Panel>,
    pub warnings: Vec<String>,
}

/// The chosen panels, in the author's order.
#[function_component(EmbedShell)]
pub fn embed_shell(props: &ShellProps) -> Html {
    let panel = |p: &Panel| match p {
        Panel::Controls => html! { <Controls /> },
        Panel::Topology => html! {
            <section class="embed-panel embed-topology" aria-label="Topology"><TopologyView /></section>
        },
        Panel::Queues => html! { <QueueCounters /> },
        Panel::Checks => html! { <section class="embed-panel embed-checks"><ChecksPanel /></section> },
        Panel::Log => html! { <RecentEvents /> },
    };
    html! {
        <div class="embed-app" id="embed" data-panels={props.panels.iter().map(|p| p.name()).collect::<Vec<_>>().join(",")}>
            <style>{ super::STYLE }</style>
            if !props.warnings.is_empty() {
                <ul class="embed-warnings" role="alert">
                    { for props.warnings.iter().map(|w| html! { <li>{ w.clone() }</li> }) }
                </ul>
            }
            { for props.panels.iter().map(panel) }
        </div>
    }
}

/// Play / pause, step, speed, the clock and the last outcome.
#[function_component(Controls)]
fn controls() -> Html {
    let app = use_app();
    let session = app.session.borrow();
    let (now, end, finished) = (session.now(), session.end(), session.finished());
    let name = session.scenario().map(|s| s.name.clone()).unwrap_or_else(|| "Manual broker".into());
    drop(session);
    let TimeCallbacks { toggle, step, set_speed: speed } = TimeCallbacks::new(&app);
    let clock = match end {
        Some(end) => format!("t = {now} / {end}"),
        None => format!("t = {now}"),
    };
    let (notice_class, notice_text) = match &app.notice {
        Some(n) if n.kind == NoticeKind::Error => ("embed-notice error", n.text.clone()),
        Some(n) => ("embed-notice", n.text.clone()),
        None => ("embed-notice", String::new()),
    };
    html! {
        <section class="embed-panel embed-controls" aria-label="Controls">
            <div class="embed-bar">
                <button id="embed-play" class="btn primary small" onclick={toggle} disabled={finished}
                        aria-pressed={app.playing.to_string()}>
                    { if app.playing { "❚❚ Pause" } else { "▶ Play" } }
                </button>
                <button id="embed-step" class="btn small" onclick={step} disabled={finished}>{ "Step" }</button>
                <label class="embed-speed">{ "Speed " }
                    <select id="embed-speed" onchange={speed} aria-label="Speed">
                        { speed_options(app.speed) }
                    </select>
                </label>
                <span id="embed-clock" class="embed-clock">{ clock }</span>
                <span class="embed-name" title={name.clone()}>{ name }</span>
                <a class="embed-open" href="./" target="_blank" rel="noopener">{ "Brokerlab ↗" }</a>
            </div>
            <p id="embed-notice" class={notice_class} aria-live="polite">{ notice_text }</p>
        </section>
    }
}

/// One row per queue: what is in it now, and what went through it.
#[function_component(QueueCounters)]
fn queue_counters() -> Html {
    let app = use_app();
    let session = app.session.borrow();
    let rows: Vec<Html> = session
        .broker()
        .queues()
        .into_iter()
        .map(|q| {
            let c = session.counters(&q.name);
            html! {
                <tr data-queue={q.name.clone()}>
                    <td class="name">{ q.name.clone() }</td>
                    <td class="num ready">{ q.messages_ready }</td>
                    <td class="num unacked">{ q.messages_unacknowledged }</td>
                    <td class="num published">{ c.enqueued }</td>
                    <td class="num delivered">{ c.delivered }</td>
                    <td class="num acked">{ c.acked }</td>
                    <td class="num consumers">{ q.consumers }</td>
                </tr>
            }
        })
        .collect();
    html! {
        <section class="embed-panel embed-queues" aria-label="Queues">
            <table class="grid" id="embed-queues">
                <thead><tr>
                    <th>{ "Queue" }</th>
                    <th class="num" title="Ready to be delivered">{ "Ready" }</th>
                    <th class="num" title="Delivered, not yet acknowledged">{ "Unacked" }</th>
                    <th class="num" title="Messages that entered the queue since the start">{ "Published" }</th>
                    <th class="num" title="Deliveries since the start (redeliveries count again)">{ "Delivered" }</th>
                    <th class="num" title="Acknowledged since the start">{ "Acked" }</th>
                    <th class="num" title="Consumers now">{ "Consumers" }</th>
                </tr></thead>
                <tbody>
                    if rows.is_empty() {
                        <tr><td colspan="7" class="muted">{ "No queues yet" }</td></tr>
                    }
                    { for rows }
                </tbody>
            </table>
        </section>
    }
}

/// The latest events, newest last, as their transcript lines.
#[function_component(RecentEvents)]
fn recent_events() -> Html {
    let app = use_app();
    let session = app.session.borrow();
    let log = session.log();
    let lines: Vec<String> =
        log[log.len().saturating_sub(LOG_LINES)..].iter().map(|e| e.to_string()).collect();
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
