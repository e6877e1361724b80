//! The event log: filters (kind, queue, text or message id) and a virtual scroll that renders only the
//! rows in view, so 100,000 events cost what 40 do.

use super::{event_checked, event_value, use_app};
use crate::log_filter::{kinds, FilteredLog, LogFilter};
use yew::prelude::*;

/// Row height in pixels; must match `.log-row` in `www/style.css`.
const ROW_PX: f64 = 22.0;
/// Rows rendered above and below the visible ones, so fast scrolling does not show gaps.
const OVERSCAN_ROWS: usize = 10;
/// The viewport height assumed before the first scroll event reports the real one.
const DEFAULT_VIEWPORT_PX: f64 = 480.0;

#[function_component(LogTab)]
pub fn log_tab() -> Html {
    let app = use_app();
    let filter = use_state(LogFilter::default);
    let follow = use_state(|| true);
    let scroll = use_state(|| (0.0f64, DEFAULT_VIEWPORT_PX));
    let filtered = use_mut_ref(FilteredLog::default);
    let viewport = use_node_ref();

    let total = {
        let session = app.session.borrow();
        filtered.borrow_mut().update(session.log(), &filter);
        session.log().len()
    };
    let n = filtered.borrow().matches.len();
    let (scroll_top, height) = *scroll;
    let visible = (height / ROW_PX).ceil() as usize + 1;
    let first = if *follow {
        n.saturating_sub(visible)
    } else {
        ((scroll_top / ROW_PX) as usize).saturating_sub(OVERSCAN_ROWS).min(n)
    };
    let last = (first + visible + 2 * OVERSCAN_ROWS).min(n);

    // Following: keep the viewport at the bottom after each render.
    {
        let viewport = viewport.clone();
        let follow = *follow;
        use_effect(move || {
            if follow {
                if let Some(el) = viewport.cast::<web_sys::Element>() {
                    el.set_scroll_top(el.scroll_height());
                }
            }
        });
    }

    let onscroll = {
        let (scroll, viewport, follow) = (scroll.clone(), viewport.clone(), follow.clone());
        Callback::from(move |_: Event| {
            if let Some(el) = viewport.cast::<web_sys::Element>() {
                let (top, height) = (el.scroll_top() as f64, el.client_height() as f64);
                scroll.set((top, height));
                // Scrolling up away from the end stops following, as a terminal does.
                if *follow && top + height < el.scroll_height() as f64 - 2.0 * ROW_PX {
                    follow.set(false);
                }
            }
        })
    };
    let set = |f: fn(&mut LogFilter, String)| {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            let mut next = (*filter).clone();
            f(&mut next, event_value(&e));
            filter.set(next);
        })
    };
    let set_follow = {
        let follow = follow.clone();
        Callback::from(move |e: Event| follow.set(event_checked(&e)))
    };
    let queues: Vec<String> = app.session.borrow().broker().queues().into_iter().map(|q| q.name).collect();
    let session = app.session.borrow();
    let log = session.log();
    let rows = filtered.borrow().matches[first..last].to_vec();
    html! {
        <div class="tab-body log-tab">
            <div class="log-filters" role="search" aria-label="Filter the event log">
                <label>{ "Kind" }
                    <select id="log-kind" onchange={set(|f, v| f.kind = v)}>
                        <option value="" selected={filter.kind.is_empty()}>{ "all" }</option>
                        { for kinds().into_iter().map(|k| html! { <option value={k} selected={filter.kind == k}>{ k }</option> }) }
                    </select>
                </label>
                <label>{ "Queue" }
                    <select id="log-queue" onchange={set(|f, v| f.queue = v)}>
                        <option value="" selected={filter.queue.is_empty()}>{ "all" }</option>
                        { for queues.iter().map(|q| html! { <option value={q.clone()} selected={filter.queue == *q}>{ q.clone() }</option> }) }
                    </select>
                </label>
                <label>{ "Text or message id" }
                    <input id="log-text" type="search" value={filter.text.clone()} placeholder="e.g. m3 or dead-letter"
                           oninput={set(|f, v| f.text = v).reform(Event::from)} />
                </label>
                <label class="inline"><input type="checkbox" checked={*follow} onchange={set_follow} />{ "follow" }</label>
                <span class="muted" id="log-count">{ format!("{n} of {total} events") }</span>
            </div>
            <div class="log-viewport" ref={viewport} onscroll={onscroll} tabindex="0" aria-label="Events">
                <div class="log-spacer" style={format!("height:{}px", n as f64 * ROW_PX)}>
                    { for rows.iter().enumerate().map(|(k, &i)| {
                        let e = &log[i];
                        let kind = crate::log_filter::event_kind(&e.event);
                        html! {
                            <div class={classes!("log-row", kind)} style={format!("top:{}px", (first + k) as f64 * ROW_PX)}>
                                <span class="at">{ e.at.to_string() }</span>
                                <span class="text">{ e.event.to_string() }</span>
                            </div>
                        }
                    }) }
                </div>
            </div>
        </div>
    }
}
