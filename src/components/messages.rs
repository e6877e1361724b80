//! The Messages tab: publish (with the routing explainer), get with ack modes, peek, purge, move messages
//! to another queue (a shovel), and the message detail with its `x-death` history drawn as a chain, a
//! Replay button and the message's lineage from the event log.

use super::body_text_for_ui;
use super::editors::{applied, check_field, dispatch_when_read, rows_field, text_field, FieldRowsEditor};
use super::{event_value, field_table_view, use_app, use_reveal, value_text};
use crate::forms::{field_table, AckMode, PublishForm};
use crate::state::editing::EditAction;
use crate::state::reply_to::{self, REPLY_TO_QUEUE};
use crate::state::{Action, Reveal};
use broker_core::amqp::{Delivery, FieldTable, FieldValue, MessageId, Method};
use yew::prelude::*;

#[function_component(MessagesTab)]
pub fn messages_tab() -> Html {
    html! {
        <div class="tab-body messages">
            <PublishView />
            <GetView />
            <super::streams::StreamConsumeView />
            <TransactionView />
            <ReplyToView />
            <MoveView />
            <LineageLookup />
            <Explanation />
            <MessageDetail />
        </div>
    }
}

#[function_component(PublishView)]
fn publish_view() -> Html {
    let app = use_app();
    let form = use_state(PublishForm::default);
    let onsubmit = {
        let (app, form) = (app.clone(), form.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let done = format!("Published to exchange '{}' with key '{}'", form.exchange, form.routing_key);
            let f = (*form).clone();
            dispatch_when_read(&app, &form.headers, move || applied(f.to_method(), done));
        })
    };
    let explain = {
        let (app, form) = (app.clone(), form.clone());
        Callback::from(move |_: MouseEvent| {
            let f = (*form).clone();
            dispatch_when_read(&app, &form.headers, move || match field_table(&f.headers) {
                Ok(headers) => Action::Explain { exchange: f.exchange, routing_key: f.routing_key, headers },
                Err(e) => Action::FormError(e),
            })
        })
    };
    let exchanges: Vec<String> =
        app.session.borrow().broker().exchanges().into_iter().map(|x| x.name).collect();
    html! {
        <form class="card form" id="publish-form" onsubmit={onsubmit} aria-label="Publish message">
            <h3>{ "Publish message" }</h3>
            <label>{ "Exchange" }
                <input id="publish-exchange" list="publish-exchanges" value={form.exchange.clone()}
                       oninput={text_field!(form, exchange)} placeholder="empty: the default exchange" />
            </label>
            <datalist id="publish-exchanges">{ for exchanges.iter().map(|n| html! { <option value={n.clone()} /> }) }</datalist>
            <label>{ "Routing key" }<input id="publish-key" value={form.routing_key.clone()}
                                            oninput={text_field!(form, routing_key)} /></label>
            <div class="checks">
                <label><input type="checkbox" id="publish-persistent" checked={form.persistent}
                              onchange={check_field!(form, persistent)} />{ "persistent (delivery_mode 2)" }</label>
                <label><input type="checkbox" checked={form.mandatory} onchange={check_field!(form, mandatory)} />
                       { "mandatory" }</label>
            </div>
            <div class="row3">
                <label>{ "expiration (ms)" }<input id="publish-expiration" value={form.expiration.clone()}
                                                    oninput={text_field!(form, expiration)} /></label>
                <label>{ "priority" }<input id="publish-priority" value={form.priority.clone()}
                                             oninput={text_field!(form, priority)} /></label>
                <label>{ "content_type" }<input id="publish-content-type" value={form.content_type.clone()}
                                                 oninput={text_field!(form, content_type)} /></label>
                <label>{ "reply_to" }<input id="publish-reply-to" list="reply-to-names" value={form.reply_to.clone()}
                                             oninput={text_field!(form, reply_to)} /></label>
                <datalist id="reply-to-names"><option value={REPLY_TO_QUEUE} /></datalist>
                <label>{ "correlation_id" }<input id="publish-correlation-id" value={form.correlation_id.clone()}
                                                   oninput={text_field!(form, correlation_id)} /></label>
            </div>
            <fieldset>
                <legend>{ "Headers" }</legend>
                <FieldRowsEditor id="publish-header" rows={form.headers.clone()} onchange={rows_field!(form, headers)} />
            </fieldset>
            <label>{ "Body" }<textarea id="publish-body" rows="3" value={form.body.clone()}
                                        oninput={text_field!(form, body)} /></label>
            <div class="buttons">
                <button class="btn primary" id="publish" type="submit">{ "Publish message" }</button>
                <button class="btn" id="explain" type="button" onclick={explain}>{ "Explain routing" }</button>
            </div>
            // A mandatory publish that no queue took comes back (basic.return): said here, where it was published.
            if let Some(returned) = app.publish_returned.clone() {
                <p class="error-text" id="publish-returned" role="status">{ returned }</p>
            }
        </form>
    }
}

#[function_component(GetView)]
fn get_view() -> Html {
    let app = use_app();
    let queue = use_state(String::new);
    let count = use_state(|| "1".to_string());
    let mode = use_state(|| AckMode::NackRequeue);
    let (taken_list, peek_list) = (use_node_ref(), use_node_ref());
    use_reveal(&taken_list, Reveal::Taken);
    use_reveal(&peek_list, Reveal::Peeked);
    let queues: Vec<String> = app.session.borrow().broker().queues().into_iter().map(|q| q.name).collect();
    let chosen =
        if queue.is_empty() { queues.first().cloned().unwrap_or_default() } else { (*queue).clone() };
    let get = {
        let (app, chosen, count, mode) = (app.clone(), chosen.clone(), count.clone(), mode.clone());
        Callback::from(move |_: MouseEvent| match count.trim().parse::<u32>() {
            Ok(n) if n >= 1 => app.dispatch(Action::Get { queue: chosen.clone(), count: n, mode: *mode }),
            _ => app
                .dispatch(Action::FormError(format!("Messages: '{}' is not a count of at least 1", *count))),
        })
    };
    let peek = {
        let (app, chosen) = (app.clone(), chosen.clone());
        Callback::from(move |_: MouseEvent| app.dispatch(Action::Peek { queue: chosen.clone() }))
    };
    let purge = {
        let (app, chosen) = (app.clone(), chosen.clone());
        Callback::from(move |_: MouseEvent| {
            app.dispatch(Action::Apply {
                method: Method::QueuePurge { queue: chosen.clone() },
                done: format!("Purged '{chosen}'"),
            })
        })
    };
    let set_queue = {
        let queue = queue.clone();
        Callback::from(move |e: Event| queue.set(event_value(&e)))
    };
    let set_count = {
        let count = count.clone();
        Callback::from(move |e: InputEvent| count.set(event_value(&e)))
    };
    let set_mode = {
        let mode = mode.clone();
        Callback::from(move |e: Event| mode.set(AckMode::parse(&event_value(&e))))
    };
    let show = |d: &Delivery| {
        let app = app.clone();
        let d = Box::new(d.clone());
        Callback::from(move |_: MouseEvent| app.dispatch(Action::ShowMessage(d.clone())))
    };
    html! {
        <section class="card form" aria-label="Get messages">
            <h3>{ "Get messages" }</h3>
            <label>{ "Queue" }
                <select id="get-queue" onchange={set_queue}>
                    { for queues.iter().map(|q| html! { <option value={q.clone()} selected={*q == chosen}>{ q.clone() }</option> }) }
                </select>
            </label>
            <label>{ "Ack mode" }
                <select id="get-mode" onchange={set_mode}>
                    { for AckMode::ALL.iter().map(|m| html! {
                        <option value={m.key()} selected={*m == *mode}>{ m.label() }</option>
                    }) }
                </select>
            </label>
            <label>{ "Messages" }<input id="get-count" type="number" min="1" max="100" value={(*count).clone()}
                                         oninput={set_count} /></label>
            <div class="buttons">
                <button class="btn primary" id="get" onclick={get} disabled={chosen.is_empty()}>{ "Get message(s)" }</button>
                <button class="btn" id="peek" onclick={peek} disabled={chosen.is_empty()}>{ "Peek" }</button>
                <button class="btn danger" id="purge" onclick={purge} disabled={chosen.is_empty()}>{ "Purge" }</button>
            </div>
            if !app.got.is_empty() {
                <h4>{ "Taken" }</h4>
                <ol class="message-list" id="got-list" ref={taken_list}>
                    { for app.got.iter().map(|(d, m)| html! {
                        <li><button class="link" onclick={show(d)}>{ format!("{} · {}", d.message, body_text_for_ui(&d.body)) }</button>
                            <span class="muted">{ format!(" redelivered={} · {}", d.redelivered, m.label()) }</span></li>
                    }) }
                </ol>
            }
            if let Some((q, messages)) = &app.peeked {
                <div id="peek-result" ref={peek_list}>
                    <h4>{ format!("Peek: '{q}' ({} ready)", messages.len()) }</h4>
                    <ol class="message-list" id="peek-list">
                        { for messages.iter().take(50).map(|d| html! {
                            <li><button class="link" onclick={show(d)}>{ format!("{} · {}", d.message, body_text_for_ui(&d.body)) }</button></li>
                        }) }
                    </ol>
                </div>
            }
        </section>
    }
}

/// `tx.select`, `tx.commit` and `tx.rollback` on the page's own channel: what the Publish form and
/// "Get messages" send there is held until the commit (RabbitMQ's errors for mixing with confirms, or
/// committing a channel that is not transactional, are the engine's).
#[function_component(TransactionView)]
fn transaction_view() -> Html {
    let app = use_app();
    let held = {
        let session = app.session.borrow();
        session.ui_connection().and_then(|c| session.broker().transaction_held(c, session.ui_channel()))
    };
    let send = |method: Method, done: &'static str| {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| {
            app.dispatch(Action::Apply { method: method.clone(), done: done.into() })
        })
    };
    html! {
        <section class="card form" aria-label="Transactions">
            <h3>{ "Transactions (the page's channel)" }</h3>
            <p class="muted" id="tx-state">{ match held {
                None => "Not transactional: each publish and ack takes effect at once.".to_string(),
                Some((p, s)) => format!(
                    "In a transaction: {} and {} held until tx.commit.",
                    crate::state::count(p as u64, "publish", "publishes"),
                    crate::state::count(s as u64, "settlement", "settlements")
                ),
            } }</p>
            <div class="buttons">
                <button class="btn" id="tx-select" onclick={send(Method::TxSelect, "tx.select-ok: publishes and acks from this page are held until tx.commit")}>{ "tx.select" }</button>
                <button class="btn primary" id="tx-commit" onclick={send(Method::TxCommit, "tx.commit-ok: the held publishes and acks took effect")}>{ "tx.commit" }</button>
                <button class="btn" id="tx-rollback" onclick={send(Method::TxRollback, "tx.rollback-ok: the held publishes and acks were forgotten")}>{ "tx.rollback" }</button>
            </div>
        </section>
    }
}

/// Direct reply-to on the page's own channel ([`reply_to`]): consume `amq.rabbitmq.reply-to` (no-ack;
/// manual ack offered to show RabbitMQ's refusal), then a request published with that `reply_to` carries
/// the consumer's key, and the replies sent to it are listed here.
#[function_component(ReplyToView)]
fn reply_to_view() -> Html {
    let app = use_app();
    let (consumer, replies, channel) = {
        let session = app.session.borrow();
        (reply_to::consumer(&session), reply_to::replies(&session), session.ui_channel())
    };
    let send = |method: Method, done: &'static str| {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| {
            app.dispatch(Action::Apply { method: method.clone(), done: done.into() })
        })
    };
    let show = |d: &Delivery| {
        let app = app.clone();
        let d = Box::new(d.clone());
        Callback::from(move |_: MouseEvent| app.dispatch(Action::ShowMessage(d.clone())))
    };
    html! {
        <section class="card form" id="reply-to" aria-label="Direct reply-to">
            <h3>{ "Direct reply-to (the page's channel)" }</h3>
            <p class="muted" id="reply-to-state">{ match &consumer {
                None => html! { { format!(
                    "No reply consumer on channel {channel}: a publish with reply_to {REPLY_TO_QUEUE} is refused until one consumes it."
                ) } },
                Some((tag, key)) => html! { <>
                    { format!("Consuming {REPLY_TO_QUEUE} as '{tag}' (no-ack) on channel {channel}. A request published here with reply_to {REPLY_TO_QUEUE} carries the key ") }
                    <code>{ key.clone() }</code>{ "; a reply published to the default exchange with that key comes here." }
                </> },
            } }</p>
            <div class="buttons">
                <button class="btn primary" id="reply-consume" onclick={send(reply_to::consume(false), "basic.consume-ok: replies to this channel's requests arrive below")}>{ "Consume (no-ack)" }</button>
                <button class="btn" id="reply-consume-ack" onclick={send(reply_to::consume(true), "basic.consume-ok")}>{ "Consume with manual ack" }</button>
                if let Some((tag, _)) = &consumer {
                    <button class="btn" id="reply-cancel" onclick={send(Method::BasicCancel { consumer_tag: tag.clone() }, "basic.cancel-ok: replies to its key now route nowhere")}>{ "Cancel" }</button>
                }
            </div>
            if !replies.is_empty() {
                <h4>{ "Replies" }</h4>
                <ol class="message-list" id="reply-list">
                    { for replies.iter().map(|d| html! {
                        <li><button class="link" onclick={show(d)}>{ format!("{} · {}", d.message, body_text_for_ui(&d.body)) }</button>
                            <span class="muted">{ format!(" correlation_id={}", d.properties.correlation_id.as_deref().unwrap_or("(none)")) }</span></li>
                    }) }
                </ol>
            }
        </section>
    }
}

#[function_component(Explanation)]
fn explanation() -> Html {
    let app = use_app();
    let node = use_node_ref();
    use_reveal(&node, Reveal::Explanation);
    let Some(e) = &app.explanation else { return html! {} };
    let name = if e.exchange.is_empty() { "(AMQP default)".to_string() } else { format!("'{}'", e.exchange) };
    html! {
        <section class="card explain" id="explanation" aria-label="Routing explanation" ref={node}>
            <h3>{ format!("Routing via exchange {name} with key '{}'", e.routing_key) }</h3>
            { match &e.checks {
                None => html! { <p class="error-text">{ format!("404 NOT_FOUND - no exchange '{}' in vhost '/'", e.exchange) }</p> },
                Some(checks) if checks.is_empty() && e.exchange.is_empty() => html! {
                    <p>{ format!("The default exchange routes to the queue named '{}', if it exists.", e.routing_key) }</p>
                },
                Some(checks) if checks.is_empty() => html! { <p>{ "The exchange has no bindings: the message is unroutable." }</p> },
                Some(checks) => html! {
                    <table class="grid">
                        <thead><tr><th>{ "" }</th><th>{ "Destination" }</th><th>{ "Binding key" }</th><th>{ "Why" }</th></tr></thead>
                        <tbody>
                        { for checks.iter().map(|c| html! {
                            <tr class={if c.matched { "match" } else { "nomatch" }}>
                                <td>{ if c.matched { "✔" } else { "✘" } }</td>
                                <td>{ c.binding.destination.to_string() }</td>
                                <td>{ c.binding.routing_key.clone() }</td>
                                <td>{ c.reason.clone() }</td>
                            </tr>
                        }) }
                        </tbody>
                    </table>
                },
            } }
            if let Some(ae) = &e.alternate_exchange {
                <p class="muted">{ format!("If no binding matches, the message goes to the alternate exchange '{ae}'.") }</p>
            }
        </section>
    }
}

/// The `x-death` entries of a message, most recent first (as RabbitMQ keeps them).
pub fn x_death(headers: &FieldTable) -> Vec<&FieldTable> {
    match headers.get("x-death") {
        Some(FieldValue::Array(entries)) => entries
            .iter()
            .filter_map(|e| match e {
                FieldValue::Table(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[function_component(MessageDetail)]
fn message_detail() -> Html {
    let app = use_app();
    let node = use_node_ref();
    use_reveal(&node, Reveal::Message);
    let Some(d) = &app.message else { return html! {} };
    let close = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::CloseMessage))
    };
    let p = &d.properties;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut headers = p.headers.clone();
    let deaths: Vec<FieldTable> = x_death(&p.headers).into_iter().cloned().collect();
    headers.remove("x-death");
    let get = |t: &FieldTable, k: &str| t.get(k).map(value_text).unwrap_or_default();
    let replay = {
        let (app, d) = (app.clone(), d.clone());
        Callback::from(move |_: MouseEvent| app.dispatch(Action::Edit(EditAction::Replay(d.clone()))))
    };
    html! {
        <section class="card message-detail" id="message-detail" aria-label="Message detail" ref={node}>
            <div class="inspector-head">
                <h3>{ format!("Message {}", d.message) }</h3>
                <button class="btn small" id="message-replay" onclick={replay}
                        title="Publish a copy with the same exchange, routing key, properties, headers and body">
                    { "Replay" }</button>
                <button class="btn small" onclick={close} aria-label="Close the message">{ "✕" }</button>
            </div>
            <dl class="fields">
                <dt>{ "exchange" }</dt><dd>{ if d.exchange.is_empty() { "(AMQP default)".to_string() } else { d.exchange.clone() } }</dd>
                <dt>{ "routing key" }</dt><dd>{ d.routing_key.clone() }</dd>
                <dt>{ "redelivered" }</dt><dd>{ d.redelivered.to_string() }</dd>
                <dt>{ "delivery_mode" }</dt><dd>{ p.delivery_mode.map(|m| m.to_string()).unwrap_or_default() }</dd>
                <dt>{ "priority" }</dt><dd>{ p.priority.map(|m| m.to_string()).unwrap_or_default() }</dd>
                <dt>{ "expiration" }</dt><dd>{ opt(&p.expiration) }</dd>
                <dt>{ "content_type" }</dt><dd>{ opt(&p.content_type) }</dd>
                <dt>{ "reply_to" }</dt><dd>{ opt(&p.reply_to) }</dd>
                <dt>{ "correlation_id" }</dt><dd>{ opt(&p.correlation_id) }</dd>
                <dt>{ "message_id" }</dt><dd>{ opt(&p.message_id) }</dd>
            </dl>
            <h4>{ "Headers" }</h4>
            { field_table_view(&headers) }
            <h4>{ "Body" }</h4>
            <pre class="body" id="message-body">{ body_text_for_ui(&d.body) }</pre>
            if !deaths.is_empty() {
                <h4>{ "x-death history (oldest first)" }</h4>
                <ol class="death-chain" id="x-death">
                    // RabbitMQ keeps the most recent death first; a chain reads best oldest first.
                    { for deaths.iter().rev().map(|t| html! {
                        <li class="death">
                            <div class="death-queue">{ format!("queue '{}'", get(t, "queue")) }</div>
                            <div class="death-reason">{ get(t, "reason") }</div>
                            <div class="muted">{ format!("×{} · via exchange '{}' · keys {}", get(t, "count"),
                                get(t, "exchange"), get(t, "routing-keys")) }</div>
                        </li>
                    }) }
                </ol>
            }
            <Lineage message={d.message} id="lineage" />
        </section>
    }
}

/// Finds a message by its engine id (`m12`, as the event log names it) and shows its lineage.
#[function_component(LineageLookup)]
fn lineage_lookup() -> Html {
    let app = use_app();
    let alone = use_node_ref();
    use_reveal(&alone, Reveal::Lineage);
    let id = use_state(String::new);
    let onsubmit = {
        let (app, id) = (app.clone(), id.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let text = id.trim();
            match text.strip_prefix('m').unwrap_or(text).parse::<u64>() {
                Ok(n) => app.dispatch(Action::Edit(EditAction::ShowLineage(MessageId(n)))),
                Err(_) => app.dispatch(Action::FormError(format!(
                    "Lineage: '{text}' is not a message id (the event log names messages m1, m2, …)"
                ))),
            }
        })
    };
    let set_id = {
        let id = id.clone();
        Callback::from(move |e: InputEvent| id.set(event_value(&e)))
    };
    html! {
        <form class="card form" id="lineage-form" onsubmit={onsubmit} aria-label="Message lineage">
            <h3>{ "Message lineage" }</h3>
            <label>{ "Message id (as in the event log)" }
                <input id="lineage-id" placeholder="m12" value={(*id).clone()} oninput={set_id} />
            </label>
            <div class="buttons">
                <button class="btn" id="lineage-show" type="submit">{ "Show lineage" }</button>
            </div>
            if let Some(m) = app.edit.lineage_of {
                <div ref={alone}>
                    <p class="muted">{ format!("{m} was never delivered and is in no queue now; its steps:") }</p>
                    <Lineage message={m} id="lineage-alone" />
                </div>
            }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct LineageProps {
    message: MessageId,
    /// The list's element id.
    id: AttrValue,
}

/// A message's lineage: every step of it (and of its moved or replayed copies) in the event log, as a
/// vertical chain with virtual times. Recomputed only when the log changes.
#[function_component(Lineage)]
fn lineage(p: &LineageProps) -> Html {
    let app = use_app();
    let steps = {
        let session = app.session.clone();
        use_memo((app.version, p.message), move |(_, id)| session.borrow().lineage(*id))
    };
    html! {
        <>
            <h4>{ format!("Lineage ({} steps in the event log)", steps.len()) }</h4>
            <ol class="lineage" id={p.id.clone()}>
                { for steps.iter().map(|s| html! {
                    <li class={classes!("step", s.kind)}>
                        <span class="at">{ s.at.to_string() }</span>
                        <span class="what">
                            <span class="kind">{ s.kind.replace('_', " ") }</span>
                            <span class="text">{ s.text.clone() }</span>
                            if let Some((from, how)) = s.copy_of {
                                <span class="copy">{ format!("a copy of {from}, {}", how.label()) }</span>
                            }
                        </span>
                    </li>
                }) }
            </ol>
        </>
    }
}

/// "Move messages", as the management UI offers it on a queue's page (with the shovel plugin).
#[function_component(MoveView)]
fn move_view() -> Html {
    let app = use_app();
    let source = use_state(String::new);
    let destination = use_state(String::new);
    let queues: Vec<(String, u32)> =
        app.session.borrow().broker().queues().into_iter().map(|q| (q.name, q.messages_ready)).collect();
    let chosen = if source.is_empty() {
        queues.first().map(|(n, _)| n.clone()).unwrap_or_default()
    } else {
        (*source).clone()
    };
    let onsubmit = {
        let (app, chosen, destination) = (app.clone(), chosen.clone(), destination.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if destination.trim().is_empty() {
                app.dispatch(Action::FormError("Move messages: name the destination queue".into()));
                return;
            }
            app.dispatch(Action::Edit(EditAction::MoveMessages {
                source: chosen.clone(),
                destination: destination.trim().to_string(),
            }));
        })
    };
    let set_source = {
        let source = source.clone();
        Callback::from(move |e: Event| source.set(event_value(&e)))
    };
    let set_destination = {
        let destination = destination.clone();
        Callback::from(move |e: InputEvent| destination.set(event_value(&e)))
    };
    html! {
        <form class="card form" id="move-form" onsubmit={onsubmit} aria-label="Move messages">
            <h3>{ "Move messages" }</h3>
            <p class="muted">{ "As RabbitMQ's management UI does it, with a shovel: each message ready in the source                 now is taken, republished to the default exchange with the destination queue's name as routing key                 (properties, headers and body kept; a new message for the broker), then acknowledged at the source.                 A missing destination is declared durable." }</p>
            <label>{ "From queue" }
                <select id="move-source" onchange={set_source}>
                    { for queues.iter().map(|(q, ready)| html! {
                        <option value={q.clone()} selected={*q == chosen}>{ format!("{q} ({ready} ready)") }</option>
                    }) }
                </select>
            </label>
            <label>{ "To queue" }
                <input id="move-destination" list="move-destinations" value={(*destination).clone()}
                       oninput={set_destination} />
            </label>
            <datalist id="move-destinations">
                { for queues.iter().filter(|(q, _)| *q != chosen).map(|(q, _)| html! { <option value={q.clone()} /> }) }
            </datalist>
            <div class="buttons">
                <button class="btn primary" id="move" type="submit" disabled={chosen.is_empty()}>{ "Move messages" }</button>
            </div>
        </form>
    }
}
