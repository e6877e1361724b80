//! Stream queues on the page: the log with its offsets and where each consumer reads ([`StreamLogView`],
//! in the inspector and the Messages tab), and "Consume from a stream" ([`StreamConsumeView`]): the
//! page's own client subscribing with `x-stream-offset`, a prefetch and manual acks, its deliveries
//! listed with the offset RabbitMQ puts in their `x-stream-offset` header.

use super::editors::{select_field, text_field};
use super::{body_text_for_ui, use_app};
use crate::forms::{OffsetChoice, StreamConsumeForm};
use crate::state::streams::{reader_connection, reads, StreamAction, STREAM_READER};
use crate::state::Action;
use broker_core::amqp::Delivery;
use yew::prelude::*;

/// How many of the newest entries the log view draws.
const LOG_CELLS: u64 = 24;

#[derive(Properties, PartialEq)]
pub struct StreamLogProps {
    pub queue: AttrValue,
    /// Prefix of the element ids (`{id}-cell-3`, `{id}-pos-…`).
    pub id: AttrValue,
}

/// A stream's log as a strip of cells (offset and body), the oldest offsets cut by retention said in
/// words, and a mark under the offset each consumer reads next.
#[function_component(StreamLogView)]
pub fn stream_log_view(p: &StreamLogProps) -> Html {
    let app = use_app();
    let session = app.session.borrow();
    let broker = session.broker();
    let Some(log) = broker.stream_log(&p.queue) else { return html! {} };
    let consumers = broker.queue(&p.queue).map(|q| q.consumers).unwrap_or_default();
    let (first, next) = (log.first_offset(), log.next_offset());
    let shown_from = next.saturating_sub(LOG_CELLS).max(first);
    let head = if log.is_empty() {
        format!("empty · the next message gets offset {next}")
    } else {
        format!(
            "offsets {first}–{} · {} · {} bytes · the next message gets offset {next}",
            next - 1,
            crate::state::count(log.len() as u64, "message", "messages"),
            log.bytes()
        )
    };
    html! {
        <div class="stream-log" id={p.id.clone()}>
            <p class="stream-log-head muted">{ head }</p>
            <ol class="stream-cells" aria-label={format!("The log of stream '{}'", p.queue)}>
                if shown_from > first {
                    <li class="stream-cell earlier">{ format!("… {} earlier", shown_from - first) }</li>
                }
                { for log.entries().skip((shown_from - first) as usize).map(|e| {
                    let readers: Vec<&str> = consumers.iter().filter(|c| c.stream_offset == Some(e.offset))
                        .map(|c| c.consumer_tag.as_str()).collect();
                    html! {
                        <li class={classes!("stream-cell", (!readers.is_empty()).then_some("read-here"))}
                            id={format!("{}-cell-{}", p.id, e.offset)}
                            title={format!("offset {} · written at {} · {}", e.offset, e.written_at, body_text_for_ui(e.message.body()))}>
                            <span class="offset">{ e.offset }</span>
                            <span class="body">{ body_text_for_ui(e.message.body()) }</span>
                        </li>
                    }
                }) }
                <li class="stream-cell next" title="where the next message is appended">{ format!("{next} →") }</li>
            </ol>
            if consumers.is_empty() {
                <p class="muted">{ "No consumer reads this stream." }</p>
            } else {
                <ul class="plain stream-positions">
                    { for consumers.iter().map(|c| {
                        let at = c.stream_offset.unwrap_or(next);
                        let whence = if at >= next { format!("waits for offset {at} (read up to the end)") }
                                     else { format!("reads offset {at} next") };
                        html! {
                            <li id={format!("{}-pos-{}", p.id, c.consumer_tag)}>
                                <strong>{ c.consumer_tag.clone() }</strong>
                                { format!(" on {}/{} · {whence} · prefetch {} · {} unacked", c.connection, c.channel,
                                          c.prefetch, c.unacked) }
                            </li>
                        }
                    }) }
                </ul>
            }
        </div>
    }
}

/// "Consume from a stream": the form, the chosen stream's log, and the page reader's consumers with the
/// deliveries each was given.
#[function_component(StreamConsumeView)]
pub fn stream_consume_view() -> Html {
    let app = use_app();
    let form = use_state(StreamConsumeForm::default);
    let session = app.session.borrow();
    let broker = session.broker();
    let all: Vec<String> = broker.queues().into_iter().map(|q| q.name).collect();
    // Streams first: the form is for them, but any queue can be tried (RabbitMQ says what it makes of it).
    let mut queues: Vec<String> = all.iter().filter(|q| broker.stream_log(q).is_some()).cloned().collect();
    queues.extend(all.iter().filter(|q| broker.stream_log(q).is_none()).cloned());
    let chosen = if queues.contains(&form.queue) {
        form.queue.clone()
    } else {
        queues.first().cloned().unwrap_or_default()
    };
    let reader = reader_connection(&session);
    let delivered = reader.map(|c| reads(&session, c)).unwrap_or_default();
    // The reader's consumers, by channel, with their queue and position.
    let mut readers = Vec::new();
    if let Some(conn) = reader {
        for q in broker.queues() {
            for c in broker.queue(&q.name).map(|d| d.consumers).unwrap_or_default() {
                if c.connection == conn {
                    readers.push((q.name.clone(), c));
                }
            }
        }
    }
    readers.sort_unstable_by_key(|(_, c)| c.channel);
    let is_stream = broker.stream_log(&chosen).is_some();
    drop(session);

    let onsubmit = {
        let (app, form, chosen) = (app.clone(), form.clone(), chosen.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut f = (*form).clone();
            f.queue = chosen.clone();
            app.dispatch(Action::Stream(StreamAction::Consume(f)));
        })
    };
    let set_offset = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let mut f = (*form).clone();
            f.offset = OffsetChoice::parse(&super::event_value(&e));
            form.set(f);
        })
    };
    let set_ack = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let mut f = (*form).clone();
            f.manual_ack = super::event_value(&e) != "auto";
            form.set(f);
        })
    };
    let show = |d: &Delivery| {
        let app = app.clone();
        let d = Box::new(d.clone());
        Callback::from(move |_: MouseEvent| app.dispatch(Action::ShowMessage(d.clone())))
    };
    let stream_action = |a: StreamAction| {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| app.dispatch(Action::Stream(a.clone())))
    };
    html! {
        <section class="card form stream-consume" aria-label="Consume from a stream">
            <h3>{ "Consume from a stream" }</h3>
            <p class="muted">{ format!("A client of the page's own ('{STREAM_READER}') subscribes on a fresh channel: basic.qos, then \
                basic.consume with x-stream-offset. A stream consumer needs a prefetch and manual acks; reading removes nothing.") }</p>
            <form id="stream-form" onsubmit={onsubmit}>
                <label>{ "Queue" }
                    <select id="stream-queue" onchange={select_field!(form, queue)}>
                        { for queues.iter().map(|q| html! { <option value={q.clone()} selected={*q == chosen}>{ q.clone() }</option> }) }
                    </select>
                </label>
                <div class="row3">
                    <label>{ "x-stream-offset" }
                        <select id="stream-offset" onchange={set_offset}>
                            { for OffsetChoice::ALL.iter().map(|o| html! {
                                <option value={o.key()} selected={*o == form.offset}>{ o.label() }</option>
                            }) }
                        </select>
                    </label>
                    if form.offset.takes_value() {
                        <label>{ "value" }
                            <input id="stream-offset-value" value={form.offset_value.clone()} placeholder={form.offset.placeholder()}
                                   oninput={text_field!(form, offset_value)} />
                        </label>
                    }
                    <label>{ "prefetch" }
                        <input id="stream-prefetch" inputmode="numeric" size="5" value={form.prefetch.clone()}
                               oninput={text_field!(form, prefetch)} />
                    </label>
                    <label>{ "Ack" }
                        <select id="stream-ack" onchange={set_ack}>
                            <option value="manual" selected={form.manual_ack}>{ "manual ack" }</option>
                            <option value="auto" selected={!form.manual_ack}>{ "auto ack (no_ack)" }</option>
                        </select>
                    </label>
                    <label>{ "consumer tag" }
                        <input id="stream-ctag" value={form.consumer_tag.clone()} placeholder="empty: amq.ctag-…"
                               oninput={text_field!(form, consumer_tag)} />
                    </label>
                </div>
                <div class="buttons">
                    <button class="btn primary" id="stream-consume" type="submit" disabled={chosen.is_empty()}>{ "Consume" }</button>
                    if !chosen.is_empty() && !is_stream {
                        <span class="muted">{ format!(" '{chosen}' is not a stream: RabbitMQ ignores x-stream-offset there") }</span>
                    }
                </div>
            </form>
            if is_stream {
                <StreamLogView queue={chosen.clone()} id="stream-chosen" />
            }
            if !readers.is_empty() {
                <h4>{ "The page's consumers" }</h4>
                <ul class="plain stream-readers" id="stream-readers">
                    { for readers.iter().map(|(queue, c)| {
                        let mine: Vec<_> = delivered.iter().filter(|r| r.channel == c.channel).collect();
                        let position = c.stream_offset.map_or_else(String::new, |o| format!(" · reads offset {o} next"));
                        html! {
                            <li class="stream-reader" id={format!("stream-reader-{}", c.channel.0)}>
                                <div>
                                    <strong>{ c.consumer_tag.clone() }</strong>
                                    { format!(" on '{queue}' (channel {}){position} · {} unacked of prefetch {}", c.channel, c.unacked, c.prefetch) }
                                    <button class="btn small" id={format!("stream-ack-{}", c.channel.0)}
                                            onclick={stream_action(StreamAction::AckAll { connection: c.connection, channel: c.channel })}
                                            disabled={c.unacked == 0}>{ "Ack all (multiple)" }</button>
                                    <button class="btn small" id={format!("stream-cancel-{}", c.channel.0)}
                                            onclick={stream_action(StreamAction::Cancel { connection: c.connection, channel: c.channel,
                                                consumer_tag: c.consumer_tag.clone() })}>{ "Cancel" }</button>
                                </div>
                                <ol class="message-list stream-reads" id={format!("stream-reads-{}", c.channel.0)}>
                                    { for mine.iter().map(|r| html! {
                                        <li>
                                            <span class="offset">{ r.offset.map_or("-".to_string(), |o| format!("offset {o}")) }</span>
                                            { " · " }
                                            <button class="link" onclick={show(&r.delivery)}>{ body_text_for_ui(&r.delivery.body) }</button>
                                            <span class="muted">{ format!(" · tag {}", r.delivery.delivery_tag.0) }</span>
                                        </li>
                                    }) }
                                </ol>
                            </li>
                        }
                    }) }
                </ul>
            }
        </section>
    }
}
