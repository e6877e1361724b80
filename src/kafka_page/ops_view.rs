//! The Kafka page's operation forms: create a topic, add partitions, alter a config, delete records,
//! produce a record, reset a group's offsets, and consume by hand (subscribe or assign, `poll()`,
//! `commitSync()`, `seek`, `close()`, with the last poll's records and the hand consumer's assignment and
//! positions). Each is a `<form>`: labelled fields, Enter submits, and a refusal is shown next to the
//! field it concerns with the engine's text ([`super::ops`]) — a button-only form's under its button.
//! The forms only check what a form must (a number is a number); every Kafka rule is the engine's.

use super::model::KafkaSession;
use super::ops::{KafkaOp, OpError, ResetTo, SeekTo};
use crate::ws_bar::SessionRef;
use broker_core::kafka::scenario::document::AcksSpec;
use broker_core::kafka::scenario::HAND_CONSUMER;
use std::collections::BTreeMap;
use yew::prelude::*;

/// A form's fields: (field, label, default value).
type Fields = &'static [(&'static str, &'static str, &'static str)];

/// The forms: (id, title, submit label, fields).
const FORMS: &[(&str, &str, &str, Fields)] = &[
    (
        "create",
        "Create a topic",
        "Create",
        &[
            ("name", "Topic name", ""),
            ("partitions", "Partitions", "1"),
            ("replication_factor", "Replication factor", "1"),
            ("configs", "Configs (name=value, comma-separated)", ""),
        ],
    ),
    (
        "produce",
        "Produce a record",
        "Send",
        &[
            ("topic", "Topic", ""),
            ("key", "Key (empty: null)", ""),
            ("value", "Value", ""),
            ("headers", "Headers (name=value, comma-separated)", ""),
            ("partition", "Partition (empty: by key)", ""),
            ("acks", "acks (0, 1, all)", "all"),
        ],
    ),
    ("partitions", "Add partitions", "Add", &[("topic", "Topic", ""), ("total", "New total", "")]),
    (
        "config",
        "Alter a topic config",
        "Alter",
        &[("topic", "Topic", ""), ("configs", "Config name", ""), ("value", "Value (empty: delete)", "")],
    ),
    (
        "delete",
        "Delete records",
        "Delete",
        &[
            ("topic", "Topic", ""),
            ("partition", "Partition", "0"),
            ("before", "Before offset (-1: high watermark)", ""),
        ],
    ),
    (
        "reset",
        "Reset a group's offsets",
        "Reset",
        &[
            ("group", "Group", ""),
            ("topic", "Topic", ""),
            ("to", "To (earliest, latest, datetime:<ms>, shift-by:<n>, offset:<n>)", "earliest"),
        ],
    ),
];

/// The hand consumer's forms with fields: (id, title, submit label, fields).
const HAND_FORMS: &[(&str, &str, &str, Fields)] = &[
    (
        "hand-subscribe",
        "Subscribe as a member of a group",
        "subscribe()",
        &[
            ("group", "Group (group.id)", ""),
            ("topics", "Topics (comma-separated)", ""),
            ("max_poll_records", "max.poll.records", "5"),
            ("auto_offset_reset", "auto.offset.reset (earliest, latest, none)", "earliest"),
        ],
    ),
    (
        "hand-assign",
        "…or assign partitions (no group membership)",
        "assign()",
        &[
            ("partitions", "Partitions (topic-partition, comma-separated)", ""),
            ("group", "Group for commitSync (empty: none)", ""),
        ],
    ),
    (
        "hand-seek",
        "Seek a partition",
        "seek()",
        &[
            ("partition", "Partition (topic-partition)", ""),
            ("to", "To (an offset, beginning or end)", "beginning"),
        ],
    ),
];

/// The hand consumer's calls without arguments: (id, button).
const HAND_ACTIONS: &[(&str, &str)] =
    &[("hand-poll", "poll()"), ("hand-commit", "commitSync()"), ("hand-close", "close()")];

/// `orders-2` → (`orders`, 2): the partition's name as Kafka prints it (a topic may contain `-`).
fn topic_partition(field: &'static str, text: &str) -> Result<(String, i32), OpError> {
    let text = text.trim();
    let bad = || OpError { field, message: format!("'{text}' is not topic-partition (e.g. orders-0)") };
    let (topic, p) = text.rsplit_once('-').ok_or_else(bad)?;
    let p: i32 = p.parse().map_err(|_| bad())?;
    if topic.is_empty() {
        return Err(bad());
    }
    Ok((topic.to_string(), p))
}

fn list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect()
}

fn number<T: std::str::FromStr>(field: &'static str, text: &str) -> Result<T, OpError> {
    text.trim()
        .parse()
        .map_err(|_| OpError { field, message: format!("'{}' is not a whole number", text.trim()) })
}

fn pairs(field: &'static str, text: &str) -> Result<Vec<(String, String)>, OpError> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
            None => Err(OpError { field, message: format!("'{p}' is not name=value") }),
        })
        .collect()
}

fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// A form's values as an operation (only the form's own checks: numbers, `name=value`, one of a list).
pub fn build(form: &str, v: &BTreeMap<String, String>) -> Result<KafkaOp, OpError> {
    let get = |f: &str| v.get(f).cloned().unwrap_or_default();
    Ok(match form {
        "create" => KafkaOp::CreateTopic {
            name: get("name"),
            partitions: number("partitions", &get("partitions"))?,
            replication_factor: number("replication_factor", &get("replication_factor"))?,
            configs: pairs("configs", &get("configs"))?.into_iter().collect(),
        },
        "produce" => KafkaOp::Produce {
            topic: get("topic"),
            partition: match get("partition").trim() {
                "" => None,
                p => Some(number("partition", p)?),
            },
            key: optional(&get("key")),
            value: optional(&get("value")),
            headers: pairs("headers", &get("headers"))?,
            acks: match get("acks").trim() {
                "0" => AcksSpec::Zero,
                "1" => AcksSpec::One,
                "all" | "-1" => AcksSpec::All,
                other => {
                    return Err(OpError {
                        field: "acks",
                        message: format!("acks is 0, 1 or all, not '{other}'"),
                    })
                }
            },
        },
        "partitions" => {
            KafkaOp::AddPartitions { topic: get("topic"), total: number("total", &get("total"))? }
        }
        "config" => {
            KafkaOp::AlterConfig { topic: get("topic"), name: get("configs"), value: optional(&get("value")) }
        }
        "hand-subscribe" => KafkaOp::HandSubscribe {
            group: get("group").trim().to_string(),
            topics: list(&get("topics")),
            max_poll_records: number("max_poll_records", &get("max_poll_records"))?,
            auto_offset_reset: get("auto_offset_reset").trim().to_string(),
        },
        "hand-assign" => KafkaOp::HandAssign {
            group: optional(get("group").trim()),
            partitions: list(&get("partitions"))
                .iter()
                .map(|p| topic_partition("partitions", p))
                .collect::<Result<_, _>>()?,
            max_poll_records: 5,
            auto_offset_reset: "earliest".into(),
        },
        "hand-poll" => KafkaOp::HandPoll,
        "hand-commit" => KafkaOp::HandCommit,
        "hand-close" => KafkaOp::HandClose,
        "hand-seek" => {
            let (topic, partition) = topic_partition("partition", &get("partition"))?;
            let to = match get("to").trim() {
                "beginning" => SeekTo::Beginning,
                "end" => SeekTo::End,
                n => SeekTo::Offset(number("to", n)?),
            };
            KafkaOp::HandSeek { topic, partition, to }
        }
        "delete" => KafkaOp::DeleteRecords {
            topic: get("topic"),
            partition: number("partition", &get("partition"))?,
            before: number("before", &get("before"))?,
        },
        _ => KafkaOp::ResetOffsets {
            group: get("group"),
            topic: get("topic"),
            to: match get("to").trim() {
                "earliest" => ResetTo::Earliest,
                "latest" => ResetTo::Latest,
                t => match t.split_once(':') {
                    Some(("datetime", ms)) => ResetTo::Datetime(number("to", ms)?),
                    Some(("shift-by", n)) => ResetTo::ShiftBy(number("to", n)?),
                    Some(("offset", n)) => ResetTo::Offset(number("to", n)?),
                    _ => {
                        return Err(OpError {
                            field: "to",
                            message: format!(
                                "'{t}' is not earliest, latest, datetime:<ms>, shift-by:<n> or offset:<n>"
                            ),
                        })
                    }
                },
            },
        },
    })
}

/// The hand `acks=all` sends' final answers up to the page's time, the latest first (at most five). Drawn
/// by the page with the time (the forms' panel keeps its own state and does not redraw as time moves).
pub fn acks_all_answers(s: &super::model::KafkaSession) -> Html {
    if s.sends.answers.is_empty() {
        return html! {};
    }
    html! {
        <ul class="kafka-op-answers" id="kafka-op-produce-answers" aria-label="acks=all answers">
            { for s.sends.answers.iter().rev().take(5).map(|a| html! {
                <li class={classes!(a.text.starts_with("Failed").then_some("failed"))}>
                    { format!("{:.1} s → {:.1} s: {}", a.sent_at as f64 / 1000.0, a.answered_at as f64 / 1000.0, a.text) }
                </li>
            }) }
        </ul>
    }
}

#[derive(Properties, PartialEq)]
pub struct OpsPanelProps {
    pub session: SessionRef<KafkaSession>,
    /// The session changed: the page redraws.
    pub on_done: Callback<()>,
    /// Bumped by the page on every change: the hand consumer's state is redrawn at the page's time.
    #[prop_or_default]
    pub version: u64,
    /// Whether the panel starts open (none: by the window's height, [`OPEN_FROM_HEIGHT`]).
    #[prop_or_default]
    pub open: Option<bool>,
}

/// The forms' typed values, by `form.field`.
type Values = UseStateHandle<BTreeMap<String, String>>;
/// The last outcome: (form, Ok(what happened) or Err(refusal at a field)).
type Outcome = UseStateHandle<Option<(&'static str, Result<String, OpError>)>>;

/// What a form needs to submit and draw its outcome.
#[derive(Clone)]
struct FormCtx {
    values: Values,
    outcome: Outcome,
    session: SessionRef<KafkaSession>,
    on_done: Callback<()>,
}

impl FormCtx {
    fn submit(&self, form: &'static str) -> Callback<SubmitEvent> {
        let ctx = self.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mine: BTreeMap<String, String> = ctx
                .values
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&format!("{form}.")).map(|f| (f.to_string(), v.clone())))
                .collect();
            let result = build(form, &mine).and_then(|op| ctx.session.0.borrow_mut().operate(op));
            ctx.outcome.set(Some((form, result)));
            ctx.on_done.emit(());
        })
    }

    /// The refusal of `form` (at `field` when it has one) and its result.
    fn outcome_of(&self, form: &str) -> (Option<OpError>, Option<String>) {
        match &*self.outcome {
            Some((f, Err(e))) if *f == form => (Some(e.clone()), None),
            Some((f, Ok(said))) if *f == form => (None, Some(said.clone())),
            _ => (None, None),
        }
    }

    /// A form with labelled fields; Enter in any field submits it.
    fn form(&self, form: &'static str, title: &'static str, submit: &'static str, fields: Fields) -> Html {
        let (error, done) = self.outcome_of(form);
        // A refusal at no field of this form (a hand call's exception) is shown under its button.
        let unplaced = error.as_ref().filter(|e| !fields.iter().any(|(f, _, _)| *f == e.field));
        html! {
            <form id={format!("kafka-op-{form}")} class="kafka-op" onsubmit={self.submit(form)} aria-label={title}>
                <h3>{ title }</h3>
                { for fields.iter().map(|(field, label, _)| {
                    let key = format!("{form}.{field}");
                    let id = format!("kafka-op-{form}-{field}");
                    let oninput = {
                        let values = self.values.clone();
                        let key = key.clone();
                        Callback::from(move |e: InputEvent| {
                            let mut m = (*values).clone();
                            m.insert(key.clone(), e.target_unchecked_into::<web_sys::HtmlInputElement>().value());
                            values.set(m);
                        })
                    };
                    let err = error.as_ref().filter(|e| e.field == *field);
                    let err_id = format!("{id}-error");
                    html! {
                        <div class={classes!("kafka-field", err.is_some().then_some("invalid"))}>
                            <label for={id.clone()}>{ *label }</label>
                            <input id={id.clone()} type="text" value={self.values.get(&key).cloned().unwrap_or_default()}
                                   oninput={oninput} aria-invalid={err.is_some().to_string()}
                                   aria-describedby={err.is_some().then(|| err_id.clone())} />
                            if let Some(e) = err {
                                <p id={err_id} class="field-error" role="alert">{ &e.message }</p>
                            }
                        </div>
                    }
                }) }
                <button type="submit" class="btn small" id={format!("kafka-op-{form}-submit")}>{ submit }</button>
                if let Some(e) = unplaced {
                    <p id={format!("kafka-op-{form}-error")} class="field-error" role="alert">{ &e.message }</p>
                }
                if let Some(said) = done {
                    <p class="kafka-op-done" role="status" id={format!("kafka-op-{form}-done")}>{ said }</p>
                }
            </form>
        }
    }
}

#[function_component(OpsPanel)]
pub fn ops_panel(props: &OpsPanelProps) -> Html {
    let values = use_state(|| {
        let mut m = BTreeMap::new();
        for (form, _, _, fields) in FORMS.iter().chain(HAND_FORMS) {
            for (f, _, default) in *fields {
                m.insert(format!("{form}.{f}"), default.to_string());
            }
        }
        m
    });
    let outcome = use_state(|| None::<(&'static str, Result<String, OpError>)>);
    let open = {
        let given = props.open;
        use_state(move || given.unwrap_or_else(open_at_start))
    };
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let ctx = FormCtx { values, outcome, session: props.session.clone(), on_done: props.on_done.clone() };
    html! {
        <section id="kafka-ops" class={classes!("panel", "kafka-panel", (!*open).then_some("collapsed"))} aria-label="Operate">
            <h2>
                <button type="button" id="kafka-ops-toggle" class="kafka-ops-toggle" onclick={toggle}
                        aria-expanded={open.to_string()} aria-controls="kafka-ops-body">
                    <span class="kafka-ops-caret" aria-hidden="true">{ if *open { "▾" } else { "▸" } }</span>
                    { "Operate" }
                    if !*open {
                        <span class="muted kafka-ops-hint">{ " — create topics, produce, reset offsets, consume by hand" }</span>
                    }
                </button>
            </h2>
            <div id="kafka-ops-body" class="kafka-ops-body" hidden={!*open}>
                { for FORMS.iter().map(|(form, title, submit, fields)| ctx.form(form, title, submit, fields)) }
                { hand_section(&ctx) }
            </div>
        </section>
    }
}

/// The panel starts folded on a short window (a laptop's 720 px), where its forms would push the groups,
/// lag and events below the fold; open on a taller one. Its heading's button unfolds it (Enter or Space).
fn open_at_start() -> bool {
    let height = web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64());
    height.is_none_or(|h| h >= OPEN_FROM_HEIGHT)
}

/// The window height (CSS px) from which the Operate panel starts open.
pub const OPEN_FROM_HEIGHT: f64 = 900.0;

/// Consume by hand: the hand consumer's forms, its calls without arguments (one button each, a form of
/// its own so that a refusal is shown under it), its assignment with positions and the last poll's
/// records, read from the run at the page's time.
fn hand_section(ctx: &FormCtx) -> Html {
    let state = ctx.session.0.borrow().run().hand_state();
    html! {
        <section id="kafka-hand" class="kafka-hand" aria-labelledby="kafka-hand-title">
            <h3 id="kafka-hand-title">{ "Consume by hand" }</h3>
            <p class="muted kafka-hand-about">
                { format!("A KafkaConsumer of your own (client.id {HAND_CONSUMER}, enable.auto.commit=false): it joins its \
                           group like any member, so the group rebalances; poll() takes what is there now — a member that \
                           has just subscribed gets its partitions once the rebalance is done, so play on a little and poll again.") }
            </p>
            <div class="kafka-hand-forms">
                { for HAND_FORMS.iter().map(|(form, title, submit, fields)| ctx.form(form, title, submit, fields)) }
            </div>
            <div class="kafka-hand-actions" role="group" aria-label="Hand consumer calls">
                { for HAND_ACTIONS.iter().map(|(form, label)| {
                    let form: &'static str = form;
                    html! {
                        <form id={format!("kafka-op-{form}")} class="kafka-hand-action" onsubmit={ctx.submit(form)}>
                            <button type="submit" class="btn small" id={format!("kafka-op-{form}-submit")}>{ *label }</button>
                        </form>
                    }
                }) }
            </div>
            { for HAND_ACTIONS.iter().map(|(form, _)| {
                let (error, done) = ctx.outcome_of(form);
                html! { <>
                    if let Some(e) = error {
                        <p id={format!("kafka-op-{form}-error")} class="field-error" role="alert">{ e.message }</p>
                    }
                    if let Some(said) = done {
                        <p class="kafka-op-done" role="status" id={format!("kafka-op-{form}-done")}>{ said }</p>
                    }
                </> }
            }) }
            { hand_state(state) }
        </section>
    }
}

/// The hand consumer now: its group, assignment with positions, and the last poll's records.
fn hand_state(state: Option<broker_core::kafka::scenario::HandState>) -> Html {
    let Some(h) = state else {
        return html! { <p id="kafka-hand-state" class="muted">{ "No hand consumer yet: subscribe or assign first." }</p> };
    };
    let group = h.group.clone().unwrap_or_else(|| "none".into());
    let assignment: Vec<String> = h
        .assignment
        .iter()
        .map(|(tp, p)| match p {
            Some(p) => format!("{tp} (position {p})"),
            None => format!("{tp} (position decided at the next poll)"),
        })
        .collect();
    html! {
        <div class="kafka-hand-now">
            <p id="kafka-hand-state">
                <strong>{ HAND_CONSUMER }</strong>{ format!(" · group {group} · ") }
                if h.closed { { "closed" } } else if assignment.is_empty() { { "no partitions assigned" } } else { { format!("assigned {}", assignment.join(", ")) } }
            </p>
            if let Some((at, records)) = &h.last_poll {
                <table id="kafka-hand-records" class="kafka-table"
                       aria-label={format!("Records of the last poll, at {:.3} s", at.as_millis() as f64 / 1000.0)}>
                    <caption>{ format!("Last poll() at {:.3} s: {} record{}", at.as_millis() as f64 / 1000.0, records.len(), if records.len() == 1 { "" } else { "s" }) }</caption>
                    <thead><tr><th>{ "partition" }</th><th>{ "offset" }</th><th>{ "key" }</th><th>{ "value" }</th></tr></thead>
                    <tbody>
                        { for records.iter().map(|r| html! {
                            <tr>
                                <td>{ r.partition.to_string() }</td>
                                <td>{ r.offset }</td>
                                <td>{ r.key.as_ref().map_or("null".to_string(), |k| String::from_utf8_lossy(k).into_owned()) }</td>
                                <td>{ r.value.as_ref().map_or("null".to_string(), |v| String::from_utf8_lossy(v).into_owned()) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
        </div>
    }
}
