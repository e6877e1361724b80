//! The explanation panel ([`super::explain`] computes what it says): opened by a "why pending?" button on
//! a pending entry, an "XAUTOCLAIM next?" button on a group, or a "who got it?" button on a `PUBLISH`, a
//! delivery or a miss in the event log or the pub/sub panel; closed with × or Escape. It takes the focus
//! when it opens (its × button), so Tab reaches its fields and Enter activates them.

use super::console::SessionRef;
use super::explain::{
    autoclaim_preview, parse_count, parse_min_idle, parse_start, pending_why, publish_why, secs, Verdict,
};
use super::model::RedisSession;
use yew::prelude::*;

/// What the panel explains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Asked {
    /// "Why is this entry still pending".
    Pending { key: String, group: String, id: String },
    /// "What does XAUTOCLAIM take next".
    Autoclaim { key: String, group: String },
    /// "Who got this message": the run's event at this index (a publish, a delivery or a miss).
    Publish(usize),
}

impl Asked {
    /// A key that changes with what is asked, so the panel's fields start afresh for each question.
    pub fn key(&self) -> String {
        match self {
            Asked::Pending { key, group, id } => format!("pending/{key}/{group}/{id}"),
            Asked::Autoclaim { key, group } => format!("autoclaim/{key}/{group}"),
            Asked::Publish(i) => format!("publish/{i}"),
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct ExplainProps {
    pub session: SessionRef<RedisSession>,
    /// Changes whenever the page redraws: the explanation follows the page's time.
    pub version: u64,
    pub asked: Asked,
    pub on_close: Callback<()>,
}

/// What a field holds after an input event, as typed.
fn field_text(e: &InputEvent) -> String {
    e.target_unchecked_into::<web_sys::HtmlInputElement>().value()
}

#[function_component(ExplainPanel)]
pub fn explain_panel(props: &ExplainProps) -> Html {
    let close_ref = use_node_ref();
    // The XAUTOCLAIM preview's arguments as typed (min-idle shows the document's claimer's, else 0, until
    // it is edited): a field keeps what the user types, empty or not a number, and the preview shows
    // Redis's error for it, as the command would reply.
    let min_idle = use_state(|| None::<String>);
    let start = use_state(|| "0-0".to_string());
    let count = use_state(|| "100".to_string());
    {
        let close_ref = close_ref.clone();
        use_effect_with(props.asked.clone(), move |_| {
            if let Some(b) = close_ref.cast::<web_sys::HtmlElement>() {
                let _ = b.focus();
            }
        });
    }
    let on_keydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                e.stop_propagation();
                on_close.emit(());
            }
        })
    };
    let on_close_click = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let s = props.session.0.borrow();
    let run = s.run();
    let (title, body) = match &props.asked {
        Asked::Pending { key, group, id } => (
            format!("Why is {id} still pending in group {group}?"),
            match pending_why(run, s.time_ms(), key, group, id) {
                None => {
                    html! { <p class="muted">{ format!("{id} is not pending in {key}/{group} at this moment (acknowledged, claimed away or deleted).") }</p> }
                }
                Some(w) => html! {
                    <>
                        <dl class="redis-explain-facts">
                            <dt>{ "consumer" }</dt><dd data-fact="consumer">{ &w.consumer }</dd>
                            <dt>{ "delivered at" }</dt><dd data-fact="delivered-at">{ secs(w.delivered_at_ms) }</dd>
                            <dt>{ "deliveries" }</dt><dd data-fact="deliveries">{ w.deliveries }</dd>
                            <dt>{ "idle" }</dt><dd data-fact="idle">{ format!("{} ms", w.idle_ms) }</dd>
                            <dt>{ "XACKed" }</dt><dd data-fact="acked">{ "never" }</dd>
                        </dl>
                        <ul class="redis-explain-reasons">
                            { for w.reasons.iter().map(|r| html! { <li>{ r }</li> }) }
                        </ul>
                    </>
                },
            },
        ),
        Asked::Autoclaim { key, group } => {
            let claimer = run.document().workers.iter().find(|w| {
                w.stream.as_deref() == Some(key)
                    && w.group.as_deref() == Some(group)
                    && w.xautoclaim.is_some()
            });
            let default_min = claimer.and_then(|w| w.xautoclaim.as_ref()).map_or(0, |a| a.min_idle.0 as i64);
            let consumer = claimer
                .map_or("<consumer>".to_string(), |w| w.consumer.clone().unwrap_or_else(|| w.name.clone()));
            let min = (*min_idle).clone().unwrap_or_else(|| default_min.to_string());
            let on_min = {
                let min_idle = min_idle.clone();
                Callback::from(move |e: InputEvent| min_idle.set(Some(field_text(&e))))
            };
            let on_start = {
                let start = start.clone();
                Callback::from(move |e: InputEvent| start.set(field_text(&e)))
            };
            let on_count = {
                let count = count.clone();
                Callback::from(move |e: InputEvent| count.set(field_text(&e)))
            };
            // In the order XAUTOCLAIM checks its arguments: min-idle-time, start, COUNT.
            let preview = parse_min_idle(&min).and_then(|min| {
                let st = parse_start(&start)?;
                let n = parse_count(&count)?;
                Ok(autoclaim_preview(run.server(), key, group, &consumer, min, st, n))
            });
            (
                format!("What does XAUTOCLAIM take next from {key}/{group}?"),
                html! {
                    <>
                        <div class="redis-explain-args">
                            <label>{ "min-idle-time (ms) " }
                                <input id="redis-autoclaim-min-idle" type="number" min="0" value={min.clone()} oninput={on_min} />
                            </label>
                            <label>{ "start " }
                                <input id="redis-autoclaim-start" type="text" size="14" value={(*start).clone()} oninput={on_start} />
                            </label>
                            <label>{ "COUNT " }
                                <input id="redis-autoclaim-count" type="number" min="1" value={(*count).clone()} oninput={on_count} />
                            </label>
                        </div>
                        { match preview {
                            Err(e) => html! { <p class="notice error" role="alert">{ e }</p> },
                            Ok(None) => html! { <p class="muted">{ format!("{key} has no group {group} at this moment.") }</p> },
                            Ok(Some(p)) => html! {
                                <>
                                    <p><code class="redis-autoclaim-command">{ &p.command }</code></p>
                                    <p class="redis-autoclaim-summary" role="status">{ &p.summary }</p>
                                    if p.rows.is_empty() {
                                        <p class="muted">{ "The pending entries list is empty: nothing to claim." }</p>
                                    } else {
                                        <table class="redis-pel redis-autoclaim-rows" aria-label="Pending entries and what XAUTOCLAIM does with each">
                                            <thead><tr><th>{ "id" }</th><th>{ "consumer" }</th><th>{ "idle" }</th><th>{ "deliveries" }</th><th>{ "XAUTOCLAIM" }</th></tr></thead>
                                            <tbody>
                                                { for p.rows.iter().map(|r| {
                                                    let (class, said) = match &r.verdict {
                                                        Verdict::Claimed => ("claimed", format!("claims it (delivery {} to {consumer})", r.deliveries + 1)),
                                                        Verdict::Deleted => ("deleted", "entry deleted: dropped, replied as deleted".to_string()),
                                                        Verdict::TooYoung(by) => ("too-young", format!("too young: idle {by} ms short of {}", min.trim())),
                                                        Verdict::BeforeStart => ("before-start", "before start: not looked at".to_string()),
                                                        Verdict::NotReached => ("not-reached", "after the cursor: the next call".to_string()),
                                                    };
                                                    html! {
                                                        <tr class={classes!("redis-autoclaim-row", class)} data-id={r.id.clone()} data-verdict={class}>
                                                            <td><code>{ &r.id }</code></td>
                                                            <td>{ &r.consumer }</td>
                                                            <td class="num">{ format!("{} ms", r.idle_ms) }</td>
                                                            <td class="num">{ r.deliveries }</td>
                                                            <td>{ said }</td>
                                                        </tr>
                                                    }
                                                }) }
                                            </tbody>
                                        </table>
                                    }
                                </>
                            },
                        } }
                    </>
                },
            )
        }
        Asked::Publish(index) => match publish_why(run, *index) {
            None => (
                "Who got this message?".to_string(),
                html! { <p class="muted">{ "This event is no publish." }</p> },
            ),
            Some(w) => (
                format!("Who got {} on {}?", w.message, w.channel),
                html! {
                    <>
                        <p><span class="muted">{ secs(w.at_ms as i64) }</span>{ " " }<strong>{ &w.publisher }</strong>{ " " }<code>{ &w.command }</code>
                            { w.receivers.map(|n| format!(" → (integer) {n}")).unwrap_or_default() }</p>
                        { for w.notes.iter().map(|n| html! { <p class="redis-explain-note">{ n }</p> }) }
                        <ul class="redis-explain-fates">
                            { for w.fates.iter().map(|f| html! {
                                <li class={classes!("redis-fate", f.kind)} data-subscriber={f.subscriber.clone()} data-fate={f.kind}>
                                    <strong>{ &f.subscriber }</strong>{ ": " }{ &f.why }
                                </li>
                            }) }
                        </ul>
                        if w.fates.is_empty() { <p class="muted">{ "The document has no subscribers." }</p> }
                    </>
                },
            ),
        },
    };
    html! {
        <section id="redis-explain" class="panel redis-panel redis-explain" role="dialog" aria-label={title.clone()}
                 data-asked={props.asked.key()} onkeydown={on_keydown}>
            <div class="redis-explain-head">
                <h2>{ title }</h2>
                <button id="redis-explain-close" class="redis-explain-close" ref={close_ref}
                        aria-label="Close the explanation (Escape)" title="Close (Escape)" onclick={on_close_click}>{ "×" }</button>
            </div>
            { body }
        </section>
    }
}
