//! "Add producer" and "Add consumer": two small forms at the foot of the graph pane, so a hand-built
//! broker gets the actors tryrabbitmq.com users expect. Each becomes an actor of the scenario document the
//! page plays (`state/actors.rs`).

use super::{event_value, use_app};
use crate::state::actors::{ConsumerAck, NewActor};
use crate::state::Action;
use yew::prelude::*;

/// Which form is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Open {
    None,
    Producer,
    Consumer,
}

#[function_component(ActorsBar)]
pub fn actors_bar() -> Html {
    let app = use_app();
    let open = use_state(|| Open::None);
    let exchange = use_state(String::new);
    let key = use_state(String::new);
    let rate = use_state(|| "1".to_string());
    let body = use_state(String::new);
    let queue = use_state(String::new);
    let prefetch = use_state(|| "1".to_string());
    let ack = use_state(|| "manual".to_string());
    let processing = use_state(|| "200".to_string());

    let toggle = |which: Open| {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(if *open == which { Open::None } else { which }))
    };
    let text = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.set(event_value(&e)))
    };
    let choose = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: Event| state.set(event_value(&e)))
    };
    let session = app.session.borrow();
    let queues: Vec<String> = session.broker().queues().into_iter().map(|q| q.name).collect();
    let exchanges: Vec<String> = session.broker().exchanges().into_iter().map(|x| x.name).collect();
    drop(session);
    let chosen_queue =
        if queues.contains(&*queue) { (*queue).clone() } else { queues.first().cloned().unwrap_or_default() };

    let add_producer = {
        let (app, open) = (app.clone(), open.clone());
        let (exchange, key, rate, body) = (exchange.clone(), key.clone(), rate.clone(), body.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match rate.trim().parse::<f64>() {
                Ok(r) => {
                    app.dispatch(Action::AddActor(NewActor::Producer {
                        exchange: (*exchange).clone(),
                        routing_key: (*key).clone(),
                        rate: r,
                        body: (*body).clone(),
                    }));
                    open.set(Open::None);
                }
                Err(_) => app
                    .dispatch(Action::FormError(format!("'{}' is not a rate (messages per second)", *rate))),
            }
        })
    };
    let add_consumer = {
        let (app, open) = (app.clone(), open.clone());
        let (prefetch, ack, processing) = (prefetch.clone(), ack.clone(), processing.clone());
        let chosen_queue = chosen_queue.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (Ok(prefetch), Ok(millis)) =
                (prefetch.trim().parse::<u16>(), processing.trim().parse::<u64>())
            else {
                app.dispatch(Action::FormError(
                    "Prefetch is 0–65535 and processing a number of milliseconds".into(),
                ));
                return;
            };
            let ack = if *ack == "auto" { ConsumerAck::Auto } else { ConsumerAck::Manual };
            app.dispatch(Action::AddActor(NewActor::Consumer {
                queue: chosen_queue.clone(),
                prefetch,
                ack,
                processing_millis: millis.min(3_600_000),
            }));
            open.set(Open::None);
        })
    };
    html! {
        <div class="actors-bar" id="actors-bar">
            <button class="btn small" id="add-producer" aria-expanded={(*open == Open::Producer).to_string()}
                    onclick={toggle(Open::Producer)}>{ "+ Producer" }</button>
            <button class="btn small" id="add-consumer" aria-expanded={(*open == Open::Consumer).to_string()}
                    onclick={toggle(Open::Consumer)}>{ "+ Consumer" }</button>
            <span class="muted actors-hint">{ "Actors make this a scenario: the run starts over at t = 0." }</span>
            if *open == Open::Producer {
                <form class="actor-form" id="producer-form" onsubmit={add_producer} aria-label="Add a producer">
                    <label>{ "Exchange" }
                        <input id="producer-exchange" list="producer-exchanges" value={(*exchange).clone()}
                               oninput={text(&exchange)} placeholder="empty: the default exchange" /></label>
                    <datalist id="producer-exchanges">
                        { for exchanges.iter().map(|n| html! { <option value={n.clone()} /> }) }
                    </datalist>
                    <label>{ "Routing key" }
                        <input id="producer-key" value={(*key).clone()} oninput={text(&key)} /></label>
                    <label>{ "Rate (msg/s)" }
                        <input id="producer-rate" inputmode="decimal" size="5" value={(*rate).clone()} oninput={text(&rate)} /></label>
                    <label>{ "Body" }
                        <input id="producer-body" value={(*body).clone()} oninput={text(&body)}
                               placeholder="{actor} #{seq}" /></label>
                    <button class="btn small primary" id="producer-add" type="submit">{ "Add producer" }</button>
                </form>
            }
            if *open == Open::Consumer {
                <form class="actor-form" id="consumer-form" onsubmit={add_consumer} aria-label="Add a consumer">
                    <label>{ "Queue" }
                        <select id="consumer-queue" onchange={choose(&queue)}>
                            { for queues.iter().map(|q| html! {
                                <option value={q.clone()} selected={*q == chosen_queue}>{ q.clone() }</option>
                            }) }
                        </select></label>
                    <label>{ "Prefetch" }
                        <input id="consumer-prefetch" inputmode="numeric" size="4" value={(*prefetch).clone()}
                               oninput={text(&prefetch)} /></label>
                    <label>{ "Ack" }
                        <select id="consumer-ack" onchange={choose(&ack)}>
                            <option value="manual" selected={*ack == "manual"}>{ "manual ack" }</option>
                            <option value="auto" selected={*ack == "auto"}>{ "auto ack (no_ack)" }</option>
                        </select></label>
                    <label>{ "Processing (ms)" }
                        <input id="consumer-processing" inputmode="numeric" size="5" value={(*processing).clone()}
                               oninput={text(&processing)} /></label>
                    <button class="btn small primary" id="consumer-add" type="submit"
                            disabled={queues.is_empty()}>{ "Add consumer" }</button>
                </form>
            }
        </div>
    }
}
