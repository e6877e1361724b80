//! The inspector: details and arguments of the node or binding selected in the graph or a table.

use super::{field_table_view, use_app, use_reveal};
use crate::state::{Action, Reveal, Selection};
use yew::prelude::*;

#[function_component(Inspector)]
pub fn inspector() -> Html {
    let app = use_app();
    let node = use_node_ref();
    use_reveal(&node, Reveal::Inspector);
    let Some(selection) = app.selected.clone() else { return html! {} };
    let close = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::Select(None)))
    };
    let session = app.session.borrow();
    let broker = session.broker();
    let (title, body) = match &selection {
        Selection::Queue(name) => match broker.queue(name) {
            Some(q) => {
                let c = session.counters(name);
                (
                    format!("Queue '{name}'"),
                    html! {
                        <>
                        <dl class="fields">
                            <dt>{ "type" }</dt><dd>{ q.queue_type.module_name() }</dd>
                            <dt>{ "features" }</dt><dd>{ features(q.info.durable, q.info.exclusive, q.info.auto_delete) }</dd>
                            <dt>{ "ready" }</dt><dd>{ q.info.messages_ready }</dd>
                            <dt>{ "unacked" }</dt><dd>{ q.info.messages_unacknowledged }</dd>
                            <dt>{ "bytes ready" }</dt><dd>{ q.bytes_ready }</dd>
                            <dt>{ "enqueued / delivered / acked" }</dt>
                            <dd>{ format!("{} / {} / {}", c.enqueued, c.delivered, c.acked) }</dd>
                        </dl>
                        if broker.stream_log(name).is_some() {
                            <h4>{ "Log" }</h4>
                            <super::streams::StreamLogView queue={name.clone()} id="inspector-stream" />
                        }
                        <h4>{ "Arguments" }</h4>
                        { field_table_view(&q.arguments) }
                        <h4>{ format!("Consumers ({})", q.consumers.len()) }</h4>
                        <ul class="plain">
                            { for q.consumers.iter().map(|c| html! {
                                <li>{ format!("{} on {}/{} · prefetch {} · {} unacked{}{}", c.consumer_tag, c.connection,
                                    c.channel, c.prefetch, c.unacked, if c.auto_ack { " · auto-ack" } else { "" },
                                    c.stream_offset.map_or_else(String::new, |o| format!(" · reads offset {o} next"))) }</li>
                            }) }
                        </ul>
                        </>
                    },
                )
            }
            None => (format!("Queue '{name}'"), html! { <p class="muted">{ "deleted" }</p> }),
        },
        Selection::Exchange(name) => match broker.exchanges().into_iter().find(|x| &x.name == name) {
            Some(x) => (
                if name.is_empty() {
                    "The default exchange".to_string()
                } else {
                    format!("Exchange '{name}'")
                },
                html! {
                    <>
                    <dl class="fields">
                        <dt>{ "type" }</dt><dd>{ x.kind.as_str() }</dd>
                        <dt>{ "features" }</dt>
                        <dd>{ format!("{}{}", features(x.durable, false, x.auto_delete),
                                      if x.internal { " internal" } else { "" }) }</dd>
                    </dl>
                    <h4>{ "Arguments" }</h4>
                    { field_table_view(&x.arguments) }
                    <h4>{ format!("Bindings ({})", x.bindings.len()) }</h4>
                    <ul class="plain">
                        { for x.bindings.iter().map(|b| html! {
                            <li>{ format!("→ {} key '{}'", b.destination, b.routing_key) }
                                if !b.arguments.is_empty() { { field_table_view(&b.arguments) } }</li>
                        }) }
                    </ul>
                    </>
                },
            ),
            None => (format!("Exchange '{name}'"), html! { <p class="muted">{ "deleted" }</p> }),
        },
        Selection::Connection(id) => match session.connections().get(id) {
            Some(c) => (
                format!("Connection {id}"),
                html! {
                    <>
                    <dl class="fields">
                        <dt>{ "client name" }</dt><dd>{ c.name.clone() }</dd>
                        <dt>{ "channels" }</dt><dd>{ c.channels.len() }</dd>
                    </dl>
                    <h4>{ "Published to" }</h4>
                    <ul class="plain">
                        { for c.published_to.iter().map(|(x, n)| html! {
                            <li>{ format!("exchange '{x}': {n} messages") }</li>
                        }) }
                    </ul>
                    </>
                },
            ),
            None => (format!("Connection {id}"), html! { <p class="muted">{ "closed" }</p> }),
        },
        Selection::Consumer { queue, consumer_tag } => {
            let c = broker
                .queue(queue)
                .and_then(|q| q.consumers.into_iter().find(|c| &c.consumer_tag == consumer_tag));
            match c {
                Some(c) => (
                    format!("Consumer '{consumer_tag}'"),
                    html! {
                        <dl class="fields">
                            <dt>{ "queue" }</dt><dd>{ queue.clone() }</dd>
                            <dt>{ "channel" }</dt><dd>{ format!("{}/{}", c.connection, c.channel) }</dd>
                            <dt>{ "ack mode" }</dt><dd>{ if c.auto_ack { "automatic" } else { "manual" } }</dd>
                            <dt>{ "exclusive" }</dt><dd>{ c.exclusive.to_string() }</dd>
                            <dt>{ "prefetch" }</dt><dd>{ c.prefetch }</dd>
                            <dt>{ "unacked" }</dt><dd>{ c.unacked }</dd>
                            if let Some(o) = c.stream_offset {
                                <dt>{ "stream position" }</dt><dd>{ format!("reads offset {o} next") }</dd>
                            }
                        </dl>
                    },
                ),
                None => {
                    (format!("Consumer '{consumer_tag}'"), html! { <p class="muted">{ "cancelled" }</p> })
                }
            }
        }
        Selection::Binding { source, destination, routing_key } => (
            "Binding".to_string(),
            html! {
                <dl class="fields">
                    <dt>{ "from exchange" }</dt><dd>{ if source.is_empty() { "(AMQP default)".to_string() } else { source.clone() } }</dd>
                    <dt>{ "to" }</dt><dd>{ destination.clone() }</dd>
                    <dt>{ "routing key" }</dt><dd>{ routing_key.clone() }</dd>
                </dl>
            },
        ),
    };
    html! {
        <aside class="inspector" aria-label="Inspector" ref={node}>
            <div class="inspector-head">
                <h3>{ title }</h3>
                <button class="btn small" onclick={close} aria-label="Close the inspector">{ "✕" }</button>
            </div>
            { body }
        </aside>
    }
}

/// The management UI's feature letters: D(urable), Excl(usive), AD (auto-delete).
pub fn features(durable: bool, exclusive: bool, auto_delete: bool) -> String {
    let mut out = Vec::new();
    if durable {
        out.push("D");
    }
    if exclusive {
        out.push("Excl");
    }
    if auto_delete {
        out.push("AD");
    }
    out.join(" ")
}
