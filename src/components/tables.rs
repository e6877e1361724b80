//! The tabs' tables: queues (with rates), exchanges, bindings, connections / channels / consumers.

use super::editors::{BindingFormView, ExchangeFormView, QueueFormView};
use super::inspector::features;
use super::{table_text, use_app, AppContext};
use crate::state::{Action, AppState, Selection};
use broker_core::amqp::exchange::Destination;
use broker_core::amqp::{FieldTable, Method};
use yew::prelude::*;

fn select(app: &AppContext, s: Selection) -> Callback<MouseEvent> {
    let app = app.clone();
    Callback::from(move |_| app.dispatch(Action::Select(Some(s.clone()))))
}

fn apply(app: &AppContext, method: Method, done: String) -> Callback<MouseEvent> {
    let app = app.clone();
    Callback::from(move |_| app.dispatch(Action::Apply { method: method.clone(), done: done.clone() }))
}

fn rate(r: f64) -> String {
    if r == 0.0 {
        "0".into()
    } else if r < 10.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.0}")
    }
}

/// One row of the queues table, as plain values: a row renders again only when one of them changes.
#[derive(Properties, PartialEq)]
struct QueueRowProps {
    name: String,
    features: String,
    arguments: String,
    ready: u32,
    unacked: u32,
    consumers: u32,
    acked: u64,
    /// `in …`, `out …`, `ack …` per second.
    rates: [String; 3],
    dispatch: UseReducerDispatcher<AppState>,
}

#[function_component(QueuesTab)]
pub fn queues_tab() -> Html {
    let app = use_app();
    let dispatch = app.dispatcher();
    let rows = {
        let session = app.session.borrow();
        session
            .broker()
            .queues()
            .into_iter()
            .map(|q| {
                let detail = session.broker().queue(&q.name);
                let queue_type = detail.as_ref().map(|d| d.queue_type);
                let args = detail.map(|d| d.arguments).unwrap_or_default();
                let (p, d, a) = session.rates(&q.name);
                // The type first when it is not the default (the management UI's Type column).
                let features = match queue_type {
                    Some(t) if t != broker_core::amqp::arguments::QueueType::Classic => {
                        format!("{} {}", t.name(), features(q.durable, q.exclusive, q.auto_delete))
                    }
                    _ => features(q.durable, q.exclusive, q.auto_delete),
                };
                QueueRowProps {
                    features,
                    arguments: table_text(&args),
                    ready: q.messages_ready,
                    unacked: q.messages_unacknowledged,
                    consumers: q.consumers,
                    acked: session.counters(&q.name).acked,
                    rates: [
                        format!("in {}", rate(p)),
                        format!("out {}", rate(d)),
                        format!("ack {}", rate(a)),
                    ],
                    dispatch: dispatch.clone(),
                    name: q.name,
                }
            })
            .collect::<Vec<_>>()
    };
    html! {
        <div class="tab-body">
            // Features and arguments ride under the name, rates and actions stack, so the table fits the
            // tabs pane from a laptop (about 600 px) up without scrolling sideways.
            // Explicit roles: the rows are laid out as grids (www/style.css), which must not cost the table
            // its semantics.
            <table class="grid queues" id="queues-table" aria-label="Queues" role="table">
                <thead role="rowgroup"><tr role="row">
                    <th role="columnheader">{ "Name" }<span class="sub">{ "features · arguments" }</span></th>
                    <th role="columnheader" class="num">{ "Ready" }</th>
                    <th role="columnheader" class="num">{ "Unacked" }</th>
                    <th role="columnheader" class="num">{ "Total" }</th>
                    <th role="columnheader" class="num" title="Consumers">{ "Cons." }</th>
                    <th role="columnheader" class="num" title="Messages acknowledged since the start (consumed)">
                        { "Acked" }</th>
                    <th role="columnheader" class="num"
                        title="Per second over the last 5 virtual seconds: incoming / deliver + get / ack">
                        { "Rates /s" }</th>
                    <th role="columnheader"><span class="visually-hidden">{ "Actions" }</span></th>
                </tr></thead>
                <tbody role="rowgroup">
                if rows.is_empty() {
                    <tr role="row"><td role="cell" colspan="8" class="muted">{ "No queues" }</td></tr>
                }
                { for rows.into_iter().map(|row| {
                    let key = row.name.clone();
                    html! { <QueueRow key={key} ..row /> }
                }) }
                </tbody>
            </table>
            <QueueFormView />
        </div>
    }
}

#[function_component(QueueRow)]
fn queue_row(row: &QueueRowProps) -> Html {
    let act = |method: Method, done: String| {
        let dispatch = row.dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            dispatch.dispatch(Action::Apply { method: method.clone(), done: done.clone() })
        })
    };
    let select = {
        let (dispatch, name) = (row.dispatch.clone(), row.name.clone());
        Callback::from(move |_: MouseEvent| {
            dispatch.dispatch(Action::Select(Some(Selection::Queue(name.clone()))))
        })
    };
    let name = &row.name;
    html! {
        <tr role="row" data-queue={name.clone()}>
            <td role="cell" class="name">
                <button class="link" onclick={select}>{ name.clone() }</button>
                if !row.features.is_empty() || !row.arguments.is_empty() {
                    <span class="sub">
                        <span class="features" title="D durable · Excl exclusive · AD auto-delete">{ row.features.clone() }</span>
                        if !row.arguments.is_empty() { <span class="args">{ row.arguments.clone() }</span> }
                    </span>
                }
            </td>
            <td role="cell" class="num ready">{ row.ready }</td>
            <td role="cell" class="num unacked">{ row.unacked }</td>
            <td role="cell" class="num total">{ row.ready + row.unacked }</td>
            <td role="cell" class="num">{ row.consumers }</td>
            <td role="cell" class="num acked">{ row.acked }</td>
            <td role="cell" class="num rates" title="incoming / deliver + get / ack, per second">
                <span>{ row.rates[0].clone() }</span><span>{ row.rates[1].clone() }</span>
                <span>{ row.rates[2].clone() }</span></td>
            <td role="cell" class="actions">
                <button class="btn small" onclick={act(Method::QueuePurge { queue: name.clone() },
                    format!("Purged '{name}'"))}>{ "Purge" }</button>
                <button class="btn small danger" onclick={act(
                    Method::QueueDelete { queue: name.clone(), if_unused: false, if_empty: false },
                    format!("Deleted queue '{name}'"))}>{ "Delete" }</button>
            </td>
        </tr>
    }
}

#[function_component(ExchangesTab)]
pub fn exchanges_tab() -> Html {
    let app = use_app();
    let exchanges = app.session.borrow().broker().exchanges();
    html! {
        <div class="tab-body">
            <table class="grid" id="exchanges-table" aria-label="Exchanges">
                <thead><tr><th>{ "Name" }</th><th>{ "Type" }</th><th>{ "Features" }</th><th>{ "Arguments" }</th>
                    <th class="num">{ "Bindings" }</th><th>{ "Actions" }</th></tr></thead>
                <tbody>
                { for exchanges.into_iter().map(|x| {
                    let label = if x.name.is_empty() { "(AMQP default)".to_string() } else { x.name.clone() };
                    let deletable = !x.name.is_empty() && !x.name.starts_with("amq.");
                    html! {
                        <tr>
                            <td><button class="link" onclick={select(&app, Selection::Exchange(x.name.clone()))}>{ label }</button></td>
                            <td>{ x.kind.as_str() }</td>
                            <td>{ format!("{}{}", features(x.durable, false, x.auto_delete), if x.internal { " I" } else { "" }) }</td>
                            <td class="args">{ table_text(&x.arguments) }</td>
                            <td class="num">{ x.bindings.len() }</td>
                            <td class="actions">
                                if deletable {
                                    <button class="btn small danger" onclick={apply(&app,
                                        Method::ExchangeDelete { exchange: x.name.clone(), if_unused: false },
                                        format!("Deleted exchange '{}'", x.name))}>{ "Delete" }</button>
                                }
                            </td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
            <ExchangeFormView />
        </div>
    }
}

fn unbind(source: &str, destination: &Destination, routing_key: &str, arguments: &FieldTable) -> Method {
    match destination {
        Destination::Queue(q) => Method::QueueUnbind {
            queue: q.to_string(),
            exchange: source.to_string(),
            routing_key: routing_key.to_string(),
            arguments: arguments.clone(),
        },
        Destination::Exchange(x) => Method::ExchangeUnbind {
            destination: x.to_string(),
            source: source.to_string(),
            routing_key: routing_key.to_string(),
            arguments: arguments.clone(),
        },
    }
}

#[function_component(BindingsTab)]
pub fn bindings_tab() -> Html {
    let app = use_app();
    let exchanges = app.session.borrow().broker().exchanges();
    let rows: Vec<_> =
        exchanges.iter().flat_map(|x| x.bindings.iter().map(move |b| (x.name.clone(), b.clone()))).collect();
    html! {
        <div class="tab-body">
            <table class="grid" id="bindings-table" aria-label="Bindings">
                <thead><tr><th>{ "From" }</th><th>{ "To" }</th><th>{ "Routing key" }</th><th>{ "Arguments" }</th>
                    <th>{ "Actions" }</th></tr></thead>
                <tbody>
                if rows.is_empty() {
                    <tr><td colspan="5" class="muted">{ "No bindings (the default exchange's implicit ones are not listed)" }</td></tr>
                }
                { for rows.into_iter().map(|(source, b)| html! {
                    <tr>
                        <td>{ source.clone() }</td>
                        <td>{ b.destination.to_string() }</td>
                        <td>{ b.routing_key.clone() }</td>
                        <td class="args">{ table_text(&b.arguments) }</td>
                        <td role="cell" class="actions"><button class="btn small danger"
                            onclick={apply(&app, unbind(&source, &b.destination, &b.routing_key, &b.arguments), "Unbound".into())}>
                            { "Unbind" }</button></td>
                    </tr>
                }) }
                </tbody>
            </table>
            <BindingFormView />
        </div>
    }
}

#[function_component(ConnectionsTab)]
pub fn connections_tab() -> Html {
    let app = use_app();
    let session = app.session.borrow();
    let consumers: Vec<_> = session
        .broker()
        .queues()
        .into_iter()
        .filter_map(|q| session.broker().queue(&q.name))
        .flat_map(|d| {
            let name = d.info.name.clone();
            d.consumers.into_iter().map(move |c| (name.clone(), c))
        })
        .collect();
    let unacked_on = |conn, ch| -> u32 {
        consumers
            .iter()
            .filter(|(_, c)| c.connection == conn && c.channel == ch)
            .map(|(_, c)| c.unacked)
            .sum()
    };
    html! {
        <div class="tab-body">
            <h3>{ "Connections and channels" }</h3>
            <table class="grid" id="connections-table" aria-label="Connections and channels">
                <thead><tr><th>{ "Connection" }</th><th>{ "Client name" }</th><th>{ "Channel" }</th>
                    <th class="num">{ "Prefetch" }</th><th>{ "Confirms" }</th><th class="num">{ "Published" }</th>
                    <th class="num">{ "Unacked (consumers)" }</th></tr></thead>
                <tbody>
                { for session.connections().iter().flat_map(|(id, c)| {
                    let id = *id;
                    let name = c.name.clone();
                    let rows: Vec<Html> = if c.channels.is_empty() {
                        vec![html! { <tr><td>{ id.to_string() }</td><td>{ name.clone() }</td><td colspan="5" class="muted">{ "no channels" }</td></tr> }]
                    } else {
                        c.channels.iter().map(|(n, ch)| html! {
                            <tr>
                                <td>{ id.to_string() }</td><td>{ name.clone() }</td><td>{ n.to_string() }</td>
                                <td role="cell" class="num">{ ch.prefetch }</td><td>{ if ch.confirm { "yes" } else { "" } }</td>
                                <td role="cell" class="num">{ ch.published }</td><td class="num">{ unacked_on(id, *n) }</td>
                            </tr>
                        }).collect()
                    };
                    rows
                }) }
                </tbody>
            </table>
            <h3>{ "Consumers" }</h3>
            <table class="grid" id="consumers-table" aria-label="Consumers">
                <thead><tr><th>{ "Queue" }</th><th>{ "Consumer tag" }</th><th>{ "Channel" }</th><th>{ "Ack" }</th>
                    <th>{ "Exclusive" }</th><th class="num">{ "Prefetch" }</th><th class="num">{ "Unacked" }</th></tr></thead>
                <tbody>
                if consumers.is_empty() {
                    <tr><td colspan="7" class="muted">{ "No consumers" }</td></tr>
                }
                { for consumers.iter().map(|(q, c)| html! {
                    <tr>
                        <td>{ q.clone() }</td><td>{ c.consumer_tag.clone() }</td>
                        <td>{ format!("{}/{}", c.connection, c.channel) }</td>
                        <td>{ if c.auto_ack { "auto" } else { "manual" } }</td>
                        <td>{ if c.exclusive { "yes" } else { "" } }</td>
                        <td role="cell" class="num">{ c.prefetch }</td><td class="num">{ c.unacked }</td>
                    </tr>
                }) }
                </tbody>
            </table>
        </div>
    }
}
