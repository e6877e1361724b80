//! The Kafka page's inspector: every partition's latest records as buttons (click or Enter opens a
//! record's detail: key, value, headers, timestamp, offset, partition, who read it and when its group
//! committed past it, and "why this partition"), and per group "why this assignment", "why is it
//! lagging" and its rebalances step by step; and the records lost or read twice. Escape closes what is
//! open. What it shows is derived in [`super::explain`] (tested natively); this file only lays it out.

use super::explain::{self, PartitionReason};
use super::model::KafkaSession;
use broker_core::kafka::TopicPartition;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// How many of a partition's latest records get a button.
pub const RECORD_BUTTONS: i64 = 40;

/// How many partitions get a row of record buttons (a topic of 100 partitions would otherwise draw
/// thousands of buttons at every step of the player).
pub const RECORD_ROWS: usize = 12;

/// The page's session, compared by identity (the page bumps `version` when it changes).
#[derive(Clone)]
pub struct SessionRef(pub Rc<RefCell<KafkaSession>>);

impl PartialEq for SessionRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub session: SessionRef,
    /// Changes whenever the session does.
    pub version: u64,
}

/// What the inspector shows under its buttons.
#[derive(Clone, Debug, PartialEq)]
enum Shown {
    Record(TopicPartition, i64),
    Assignment(String),
    Lag(String),
    Rebalances(String),
    Incidents,
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

fn tp_name(tp: &TopicPartition) -> String {
    format!("{}-{}", tp.topic, tp.partition)
}

#[function_component(Inspector)]
pub fn inspector(props: &InspectorProps) -> Html {
    let shown = use_state(|| None::<Shown>);
    let why_open = use_state(|| false);
    let show = {
        let shown = shown.clone();
        let why_open = why_open.clone();
        Callback::from(move |s: Shown| {
            why_open.set(false);
            shown.set(Some(s));
        })
    };
    let close = {
        let shown = shown.clone();
        Callback::from(move |_: ()| shown.set(None))
    };
    let onkeydown = {
        let close = close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                close.emit(());
                e.prevent_default();
            }
        })
    };
    let s = props.session.0.borrow();
    let partitions = s.partitions();
    let groups = s.groups();
    // Read from every event of the run: only while shown.
    let incidents =
        if shown.as_ref() == Some(&Shown::Incidents) { explain::incidents(s.run()) } else { Vec::new() };
    let more_partitions = partitions.len().saturating_sub(RECORD_ROWS);
    let record_rows = partitions.iter().take(RECORD_ROWS).map(|p| {
        let tp = TopicPartition::new(p.topic.clone(), p.partition);
        let from = p.log_start.max(p.log_end - RECORD_BUTTONS);
        html! {
            <div class="kafka-records" role="group" aria-label={format!("Records of {}", p.name())}>
                <span class="kafka-records-name">{ p.name() }</span>
                if p.log_end == p.log_start { <span class="muted">{ "no records yet" }</span> }
                if from > p.log_start { <span class="muted">{ "…" }</span> }
                { for (from..p.log_end).map(|o| {
                    let selected = matches!(&*shown, Some(Shown::Record(t, x)) if *t == tp && *x == o);
                    let onclick = {
                        let show = show.clone();
                        let tp = tp.clone();
                        Callback::from(move |_: MouseEvent| show.emit(Shown::Record(tp.clone(), o)))
                    };
                    html! {
                        <button class={classes!("kafka-record", (o >= p.high_watermark).then_some("unreplicated"), selected.then_some("selected"))}
                                id={format!("record-{}-{o}", p.name())} aria-pressed={selected.to_string()}
                                aria-label={format!("Record {}@{o}", p.name())} onclick={onclick}>{ o }</button>
                    }
                }) }
            </div>
        }
    });
    let group_rows = groups.iter().map(|g| {
        let button = |label: String, id: String, what: Shown| {
            let show = show.clone();
            let pressed = shown.as_ref() == Some(&what);
            let onclick = Callback::from(move |_: MouseEvent| show.emit(what.clone()));
            html! { <button class="btn kafka-why" id={id} aria-pressed={pressed.to_string()} onclick={onclick}>{ label }</button> }
        };
        html! {
            <div class="kafka-why-row" role="group" aria-label={format!("Group {}", g.id)}>
                <strong>{ &g.id }</strong>
                { button("Why this assignment".into(), format!("why-assignment-{}", g.id), Shown::Assignment(g.id.clone())) }
                { button("Why is it lagging".into(), format!("why-lag-{}", g.id), Shown::Lag(g.id.clone())) }
                { button("Rebalances step by step".into(), format!("rebalances-{}", g.id), Shown::Rebalances(g.id.clone())) }
            </div>
        }
    });
    let incidents_button = {
        let show = show.clone();
        let onclick = Callback::from(move |_: MouseEvent| show.emit(Shown::Incidents));
        html! {
            <button class="btn kafka-why" id="why-lost" onclick={onclick}
                    aria-pressed={(shown.as_ref() == Some(&Shown::Incidents)).to_string()}>
                { "Lost or duplicated records" }
            </button>
        }
    };
    let body = match &*shown {
        None => html! {},
        Some(Shown::Record(tp, offset)) => record_view(&s, tp, *offset, &why_open),
        Some(Shown::Assignment(group)) => {
            let a = explain::why_assignment(s.run(), group);
            html! {
                <>
                    <h3>{ format!("Why this assignment: group {} ({} assignor)", a.group, a.assignor) }</h3>
                    <ol class="kafka-steps" id="why-assignment-steps">
                        { for a.steps.iter().map(|x| html! { <li>{ x }</li> }) }
                    </ol>
                </>
            }
        }
        Some(Shown::Lag(group)) => {
            let g = groups.iter().find(|g| &g.id == group);
            let owners: Vec<(String, Vec<TopicPartition>)> = g
                .map(|g| g.members.iter().map(|m| (m.client_id.clone(), m.assignment.clone())).collect())
                .unwrap_or_default();
            let offsets = g.map(|g| g.offsets.clone()).unwrap_or_default();
            let e = explain::why_lagging(s.run(), group, &owners, &offsets);
            html! {
                <>
                    <h3>{ format!("Why is {} lagging (the last {} s)", e.group, e.window_ms / 1000) }</h3>
                    <p id="why-lag-verdict">{ &e.verdict }</p>
                    <table class="kafka-table">
                        <thead><tr><th>{ "member" }</th><th>{ "partitions" }</th><th>{ "arriving / s" }</th><th>{ "read / s" }</th><th>{ "lag" }</th></tr></thead>
                        <tbody>
                            { for e.members.iter().map(|m| html! {
                                <tr class={classes!((m.processed_per_s + 0.05 < m.arrival_per_s).then_some("behind"))}>
                                    <td>{ &m.consumer }</td>
                                    <td>{ if m.partitions.is_empty() { "none".to_string() } else { m.partitions.join(", ") } }</td>
                                    <td>{ format!("{:.1}", m.arrival_per_s) }</td>
                                    <td>{ format!("{:.1}", m.processed_per_s) }</td>
                                    <td>{ m.lag }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </>
            }
        }
        Some(Shown::Rebalances(group)) => {
            let list = s.rebalances(group);
            html! {
                <>
                    <h3>{ format!("Rebalances of {group}") }</h3>
                    if list.is_empty() { <p class="muted">{ "No member has been assigned anything yet." }</p> }
                    <ol class="kafka-rebalances" id="rebalance-list">
                        { for list.iter().enumerate().map(|(i, r)| html! {
                            <li class="kafka-rebalance">
                                <strong>{ format!("Rebalance {} ", i + 1) }</strong>
                                <span class="chip">{ if r.eager { "eager: everything revoked, then assigned" } else { "cooperative: only moved partitions revoked" } }</span>
                                <span class="muted">{ format!(" ends at {}", seconds(r.end_ms())) }
                                    { r.generation.map(|g| format!(", generation / group epoch {g}")).unwrap_or_default() }</span>
                                if !r.member_epochs.is_empty() {
                                    <div class="muted">{ format!("member epochs: {}", r.member_epochs.iter().map(|(c, e)| format!("{c} {e}")).collect::<Vec<_>>().join(", ")) }</div>
                                }
                                <ul class="kafka-steps">
                                    { for r.steps.iter().map(|st| html! {
                                        <li class={classes!("step", st.what)}>
                                            <span class="muted">{ seconds(st.at_ms) }</span>{ " " }
                                            <strong>{ &st.consumer }</strong>{ format!(" {} ", st.what) }
                                            { if st.partitions.is_empty() { "nothing".to_string() } else { st.partitions.join(", ") } }
                                        </li>
                                    }) }
                                </ul>
                            </li>
                        }) }
                    </ol>
                </>
            }
        }
        Some(Shown::Incidents) => html! {
            <>
                <h3>{ "Records lost or read twice" }</h3>
                if incidents.is_empty() {
                    <p class="muted">{ "None so far: no acknowledged record was cut from a log, no send failed, no record was read twice by one group." }</p>
                }
                <ul class="kafka-steps" id="incident-list">
                    { for incidents.iter().map(|i| html! {
                        <li class={classes!("incident", i.kind.replace(' ', "-"))}>
                            <span class="muted">{ seconds(i.at_ms) }</span>{ " " }<strong>{ i.kind }</strong>{ " " }{ &i.text }
                        </li>
                    }) }
                </ul>
            </>
        },
    };
    let on_close = {
        let close = close.clone();
        Callback::from(move |_: MouseEvent| close.emit(()))
    };
    html! {
        <section id="kafka-inspect" class="panel kafka-panel" aria-label="Records and explanations" onkeydown={onkeydown}>
            <h2>{ "Records and explanations" }</h2>
            <p class="muted kafka-legend">{ "Click a record (or Tab to it and press Enter) to see it and why it is in its partition; Escape closes." }</p>
            { for record_rows }
            if more_partitions > 0 {
                <p class="muted">{ format!("… and {more_partitions} more partitions (the first {RECORD_ROWS} are listed)") }</p>
            }
            <div class="kafka-why-rows">
                { for group_rows }
                <div class="kafka-why-row">{ incidents_button }</div>
            </div>
            if shown.is_some() {
                <div id="kafka-explain" class="kafka-explain" role="region" aria-label="Explanation">
                    <button class="btn kafka-close" id="kafka-explain-close" onclick={on_close} aria-keyshortcuts="Escape">{ "Close" }</button>
                    { body }
                </div>
            }
        </section>
    }
}

fn record_view(s: &KafkaSession, tp: &TopicPartition, offset: i64, why_open: &UseStateHandle<bool>) -> Html {
    let Some(d) = explain::record_detail(s.run(), tp, offset) else {
        return html! {
            <p id="record-gone">{ format!("{}@{offset} is no longer in the log at this time (deleted, truncated or not yet written).", tp_name(tp)) }</p>
        };
    };
    let toggle = {
        let why_open = why_open.clone();
        Callback::from(move |_: MouseEvent| why_open.set(!*why_open))
    };
    let text = |v: &Option<String>| v.clone().map_or("null".to_string(), |v| format!("\"{v}\""));
    let reason = explain::why_partition(s.run(), &d);
    let kind = match reason {
        PartitionReason::Explicit { .. } => "explicit partition",
        PartitionReason::Keyed { .. } => "key → murmur2 → modulo",
        PartitionReason::Sticky { .. } => "null key → sticky partition",
    };
    html! {
        <div id="record-detail">
            <h3>{ format!("Record {}@{}", tp_name(&d.partition), d.offset) }</h3>
            <dl class="kafka-fields">
                <dt>{ "partition" }</dt><dd>{ tp_name(&d.partition) }</dd>
                <dt>{ "offset" }</dt><dd>{ d.offset }</dd>
                <dt>{ "key" }</dt><dd id="record-key">{ text(&d.key) }</dd>
                <dt>{ "value" }</dt><dd id="record-value">{ text(&d.value) }</dd>
                <dt>{ "headers" }</dt>
                <dd>{ if d.headers.is_empty() { "none".to_string() } else { d.headers.iter().map(|(k, v)| format!("{k}={}", text(v))).collect::<Vec<_>>().join(", ") } }</dd>
                <dt>{ "timestamp" }</dt><dd>{ format!("{} ({})", d.timestamp, d.timestamp_type) }</dd>
                <dt>{ "replicated" }</dt>
                <dd>{ if d.replicated { "yes: below the high watermark, on every in-sync replica" } else { "not yet: above the high watermark, consumers cannot read it" } }</dd>
                <dt>{ "sent by" }</dt>
                <dd>{ d.acknowledged.as_ref().map_or("no acknowledgement seen".to_string(), |(p, seq, at)| format!("{p}, send #{seq}, acknowledged at {}", seconds(*at))) }</dd>
                <dt>{ "read by" }</dt>
                <dd id="record-reads">{ if d.reads.is_empty() { "no consumer yet".to_string() } else { d.reads.iter().map(|r| format!("{} ({}) at {}", r.consumer, r.group, seconds(r.at_ms))).collect::<Vec<_>>().join("; ") } }</dd>
                <dt>{ "committed" }</dt>
                <dd id="record-commits">{ if d.commits.is_empty() { "no group has committed past it yet".to_string() } else { d.commits.iter().map(|c| format!("group {} at {} (by {}, offset {})", c.group, seconds(c.at_ms), c.consumer, c.offset)).collect::<Vec<_>>().join("; ") } }</dd>
            </dl>
            <button class="btn" id="why-partition" aria-expanded={why_open.to_string()} onclick={toggle}>
                { format!("Why this partition ({kind})") }
            </button>
            if **why_open {
                <ol class="kafka-steps" id="why-partition-steps">
                    { for reason.steps().iter().map(|x| html! { <li>{ x }</li> }) }
                </ol>
            }
        </div>
    }
}
