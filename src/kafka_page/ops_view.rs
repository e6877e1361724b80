//! The Kafka page's operation forms: create a topic, add partitions, alter a config, delete records,
//! produce a record, reset a group's offsets. Each is a `<form>`: labelled fields, Enter submits, and a
//! refusal is shown next to the field it concerns with the engine's text ([`super::ops`]). The forms
//! only check what a form must (a number is a number); every Kafka rule is the engine's.

use super::ops::{KafkaOp, OpError, ResetTo};
use super::ws_view::SessionRef;
use broker_core::kafka::scenario::document::AcksSpec;
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
    pub session: SessionRef,
    /// The session changed: the page redraws.
    pub on_done: Callback<()>,
}

#[function_component(OpsPanel)]
pub fn ops_panel(props: &OpsPanelProps) -> Html {
    let values = use_state(|| {
        let mut m = BTreeMap::new();
        for (form, _, _, fields) in FORMS {
            for (f, _, default) in *fields {
                m.insert(format!("{form}.{f}"), default.to_string());
            }
        }
        m
    });
    // The last outcome: (form, Ok(what happened) or Err(refusal at a field)).
    let outcome = use_state(|| None::<(&'static str, Result<String, OpError>)>);
    html! {
        <section id="kafka-ops" class="panel kafka-panel" aria-label="Operate">
            <h2>{ "Operate" }</h2>
            { for FORMS.iter().map(|(form, title, submit, fields)| {
                let form: &'static str = form;
                let onsubmit = {
                    let values = values.clone();
                    let outcome = outcome.clone();
                    let session = props.session.clone();
                    let on_done = props.on_done.clone();
                    Callback::from(move |e: SubmitEvent| {
                        e.prevent_default();
                        let mine: BTreeMap<String, String> = values
                            .iter()
                            .filter_map(|(k, v)| k.strip_prefix(&format!("{form}.")).map(|f| (f.to_string(), v.clone())))
                            .collect();
                        let result = build(form, &mine).and_then(|op| session.0.borrow_mut().operate(op));
                        outcome.set(Some((form, result)));
                        on_done.emit(());
                    })
                };
                let error = match &*outcome {
                    Some((f, Err(e))) if *f == form => Some(e.clone()),
                    _ => None,
                };
                let done = match &*outcome {
                    Some((f, Ok(said))) if *f == form => Some(said.clone()),
                    _ => None,
                };
                html! {
                    <form id={format!("kafka-op-{form}")} class="kafka-op" onsubmit={onsubmit} aria-label={*title}>
                        <h3>{ *title }</h3>
                        { for fields.iter().map(|(field, label, _)| {
                            let key = format!("{form}.{field}");
                            let id = format!("kafka-op-{form}-{field}");
                            let oninput = {
                                let values = values.clone();
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
                                    <input id={id.clone()} type="text" value={values.get(&key).cloned().unwrap_or_default()}
                                           oninput={oninput} aria-invalid={err.is_some().to_string()}
                                           aria-describedby={err.is_some().then(|| err_id.clone())} />
                                    if let Some(e) = err {
                                        <p id={err_id} class="field-error" role="alert">{ &e.message }</p>
                                    }
                                </div>
                            }
                        }) }
                        <button type="submit" class="btn small" id={format!("kafka-op-{form}-submit")}>{ *submit }</button>
                        if let Some(said) = done {
                            <p class="kafka-op-done" role="status" id={format!("kafka-op-{form}-done")}>{ said }</p>
                        }
                    </form>
                }
            }) }
        </section>
    }
}
