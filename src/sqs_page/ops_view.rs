//! The SQS page's calls by hand: send a message, receive messages, delete one, change its visibility —
//! each a `<form>` (labelled fields, Enter submits, a refusal shown next to the field it concerns with
//! SQS's error as boto3 words it, [`super::ops`]) — and the messages the receives by hand returned, each
//! with its receipt handle, where it is now (its visibility clock running out while in flight), and
//! buttons to delete it or change its visibility. The forms only check what a form must; every SQS rule
//! is the engine's.

use super::model::{HandRow, SqsSession};
use super::ops::{build, OpError};
use broker_core::sqs::queue::MessageState;
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// A form's fields: (field, label, default value; `@queue` is the first queue's name).
type Fields = &'static [(&'static str, &'static str, &'static str)];

/// The forms: (id, title, submit label, fields).
const FORMS: &[(&str, &str, &str, Fields)] = &[
    (
        "send",
        "Send a message",
        "Send",
        &[
            ("queue", "Queue", "@queue"),
            ("body", "Message body", ""),
            ("attributes", "Message attributes (name=value, comma-separated)", ""),
            ("delay_seconds", "DelaySeconds (empty: the queue's)", ""),
            ("group_id", "MessageGroupId (FIFO)", ""),
            ("deduplication_id", "MessageDeduplicationId (FIFO)", ""),
        ],
    ),
    (
        "receive",
        "Receive messages",
        "Receive",
        &[
            ("queue", "Queue", "@queue"),
            ("max_number_of_messages", "MaxNumberOfMessages", "1"),
            ("visibility_timeout", "VisibilityTimeout, s (empty: the queue's)", ""),
            ("wait_time_seconds", "WaitTimeSeconds (empty: the queue's)", ""),
        ],
    ),
    (
        "delete",
        "Delete a message",
        "Delete",
        &[("queue", "Queue", "@queue"), ("receipt_handle", "ReceiptHandle", "")],
    ),
    (
        "visibility",
        "Change a message's visibility",
        "Change",
        &[
            ("queue", "Queue", "@queue"),
            ("receipt_handle", "ReceiptHandle", ""),
            ("visibility_timeout", "VisibilityTimeout, s", ""),
        ],
    ),
];

fn tenths(ms: u64) -> String {
    format!("{}.{} s", ms / 1000, ms % 1000 / 100)
}

/// Where a message received by hand is now, in words.
fn whereabouts(r: &HandRow) -> (&'static str, String) {
    match r.state {
        None => ("gone", "gone: deleted, moved or expired".to_string()),
        Some(_) if !r.latest => {
            ("stale", "received again since: this handle no longer deletes it".to_string())
        }
        Some(MessageState::InFlight) => ("in-flight", format!("in flight · {} left", tenths(r.remaining_ms))),
        Some(MessageState::Visible) => {
            ("visible", "visible again: its visibility timeout ran out".to_string())
        }
        Some(MessageState::Delayed) => ("delayed", format!("invisible · {} left", tenths(r.remaining_ms))),
    }
}

/// The page's session, shared with the panel (compared by identity; the workspace bar's).
pub use crate::ws_bar::SessionRef;

#[derive(Properties, PartialEq)]
pub struct HandPanelProps {
    pub session: SessionRef<SqsSession>,
    /// Changes whenever the page redraws (time moved, a call was made): the list follows.
    pub version: u64,
    /// The session changed: the page redraws.
    pub on_done: Callback<()>,
}

/// The forms and the messages received by hand.
#[function_component(HandPanel)]
pub fn hand_panel(props: &HandPanelProps) -> Html {
    let first_queue = props.session.0.borrow().queues().first().map(|q| q.name.clone()).unwrap_or_default();
    let values = use_state(|| {
        let mut m = BTreeMap::new();
        for (form, _, _, fields) in FORMS {
            for (f, _, default) in *fields {
                let v = if *default == "@queue" { first_queue.clone() } else { default.to_string() };
                m.insert(format!("{form}.{f}"), v);
            }
        }
        m
    });
    // The last outcome: (form, Ok(what happened) or Err(refusal at a field)).
    let outcome = use_state(|| None::<(&'static str, Result<String, OpError>)>);
    let run_op = {
        let outcome = outcome.clone();
        let session = props.session.clone();
        let on_done = props.on_done.clone();
        Callback::from(move |(form, fields): (&'static str, BTreeMap<String, String>)| {
            let result = build(form, &fields).and_then(|op| session.0.borrow_mut().operate(op));
            outcome.set(Some((form, result)));
            on_done.emit(());
        })
    };
    let s = props.session.0.borrow();
    let queues: Vec<String> = s.queues().into_iter().map(|q| q.name).collect();
    let rows = s.hand_received();
    let open = s.open_polls();
    html! {
        <section id="sqs-hand" class="panel sqs-panel" aria-label="Calls by hand">
            <h2>{ "By hand" }</h2>
            <p class="muted sqs-hand-note">{ "Each call is made at the page's time, after what the run did then; rewinding keeps it at that time." }</p>
            <datalist id="sqs-queue-names">
                { for queues.iter().map(|q| html! { <option value={q.clone()} /> }) }
            </datalist>
            <div class="sqs-hand-forms">
            { for FORMS.iter().map(|(form, title, submit, fields)| {
                let form: &'static str = form;
                let onsubmit = {
                    let values = values.clone();
                    let run_op = run_op.clone();
                    Callback::from(move |e: SubmitEvent| {
                        e.prevent_default();
                        let mine: BTreeMap<String, String> = values
                            .iter()
                            .filter_map(|(k, v)| k.strip_prefix(&format!("{form}.")).map(|f| (f.to_string(), v.clone())))
                            .collect();
                        run_op.emit((form, mine));
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
                    <form id={format!("sqs-op-{form}")} class="sqs-op" onsubmit={onsubmit} aria-label={*title}>
                        <h3>{ *title }</h3>
                        { for fields.iter().map(|(field, label, _)| {
                            let key = format!("{form}.{field}");
                            let id = format!("sqs-op-{form}-{field}");
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
                                <div class={classes!("sqs-field", err.is_some().then_some("invalid"))}>
                                    <label for={id.clone()}>{ *label }</label>
                                    <input id={id.clone()} type="text" value={values.get(&key).cloned().unwrap_or_default()}
                                           oninput={oninput} aria-invalid={err.is_some().to_string()}
                                           list={(*field == "queue").then_some("sqs-queue-names")}
                                           autocomplete="off" spellcheck="false"
                                           aria-describedby={err.is_some().then(|| err_id.clone())} />
                                    if let Some(e) = err {
                                        <p id={err_id} class="field-error" role="alert">{ &e.message }</p>
                                    }
                                </div>
                            }
                        }) }
                        <button type="submit" class="btn small" id={format!("sqs-op-{form}-submit")}>{ *submit }</button>
                        if let Some(said) = done {
                            <p class="sqs-op-done" role="status" id={format!("sqs-op-{form}-done")}>{ said }</p>
                        }
                    </form>
                }
            }) }
            </div>
            <h3>{ "Received by hand" }</h3>
            if rows.is_empty() && open.is_empty() {
                <p class="muted">{ "Nothing received by hand yet: receive from a queue above." }</p>
            }
            <ul id="sqs-hand-received" class="sqs-hand-list" aria-label="Messages received by hand, latest first">
                { for open.iter().map(|(queue, asked, until)| html! {
                    <li class="sqs-hand-msg waiting">
                        { format!("Long poll on {queue} since {}: waiting for a message until {}", tenths(*asked), tenths(*until)) }
                    </li>
                }) }
                { for rows.iter().take(12).map(|r| {
                    let (class, state) = whereabouts(r);
                    let fraction = if r.clock_ms == 0 { 0.0 } else { r.remaining_ms as f64 / r.clock_ms as f64 };
                    let on_delete = {
                        let run_op = run_op.clone();
                        let fields: BTreeMap<String, String> = [
                            ("queue".to_string(), r.queue.clone()),
                            ("receipt_handle".to_string(), r.receipt_handle.clone()),
                        ].into();
                        Callback::from(move |_: MouseEvent| run_op.emit(("delete", fields.clone())))
                    };
                    let on_visibility = {
                        let values = values.clone();
                        let (queue, handle) = (r.queue.clone(), r.receipt_handle.clone());
                        Callback::from(move |_: MouseEvent| {
                            let mut m = (*values).clone();
                            m.insert("visibility.queue".into(), queue.clone());
                            m.insert("visibility.receipt_handle".into(), handle.clone());
                            values.set(m);
                            focus("sqs-op-visibility-visibility_timeout");
                        })
                    };
                    let body = r.body.clone();
                    html! {
                        <li class={classes!("sqs-hand-msg", class)} data-handle={r.receipt_handle.clone()} data-message-id={r.message_id.clone()}>
                            <div class="sqs-hand-head">
                                <span class="sqs-msg-body">{ &r.body }</span>
                                <span class="muted">{ format!("{} · received at {} · ApproximateReceiveCount {}", r.queue, tenths(r.received_at_ms), r.receive_count) }</span>
                            </div>
                            <div class="sqs-hand-state">
                                <span class="sqs-hand-where">{ state }</span>
                                if r.state == Some(MessageState::InFlight) && r.latest {
                                    <span class="sqs-clock" role="img" aria-label={format!("{} of {} left", tenths(r.remaining_ms), tenths(r.clock_ms))}>
                                        <span class="sqs-clock-fill" style={format!("width:{:.1}%", fraction * 100.0)}></span>
                                    </span>
                                }
                            </div>
                            <div class="sqs-hand-handle">
                                <span class="muted">{ "ReceiptHandle " }</span>
                                <code class="sqs-handle">{ &r.receipt_handle }</code>
                            </div>
                            <div class="sqs-hand-actions">
                                <button type="button" class="btn small sqs-hand-delete" onclick={on_delete}
                                        aria-label={format!("Delete {body} with this receipt handle")}>{ "Delete" }</button>
                                <button type="button" class="btn small sqs-hand-visibility" onclick={on_visibility}
                                        aria-label={format!("Change the visibility of {body} with this receipt handle")}>{ "Change visibility…" }</button>
                            </div>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}

/// Moves the keyboard focus to the element with this id.
fn focus(id: &str) {
    let element = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id));
    if let Some(e) = element.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = e.focus();
    }
}
