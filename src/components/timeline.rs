//! The timeline bar under the header: a slider over the run from its start to the furthest moment
//! reached, to scrub back and forth (everything on the page then shows that moment), and a "run to t = …"
//! field that fast-forwards in chunks, one per animation frame, with a progress bar and Cancel.

use super::{event_value, use_app, AppContext};
use crate::state::timeline::TimelineAction;
use crate::state::Action;
use broker_core::VirtualTime;
use yew::prelude::*;

/// The slider's step: fine on short runs, coarser on long ones so the arrow keys still travel.
fn slider_step_millis(span_millis: u64) -> u64 {
    match span_millis {
        0..=120_000 => 100,
        120_001..=1_200_000 => 1_000,
        _ => 10_000,
    }
}

#[function_component(TimelineBar)]
pub fn timeline_bar() -> Html {
    let app = use_app();
    use_fast_forward_frames(&app);
    let session = app.session.borrow();
    let (now, furthest, floor, rewound) =
        (session.now(), session.furthest(), session.rewind_floor(), session.has_future());
    let end = session.end();
    drop(session);

    let on_scrub = {
        let app = app.clone();
        Callback::from(move |e: InputEvent| {
            if let Ok(millis) = event_value(&e).parse::<u64>() {
                app.dispatch(Action::Timeline(TimelineAction::Seek(VirtualTime::from_millis(millis))));
            }
        })
    };
    let to_latest = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::Timeline(TimelineAction::Seek(furthest))))
    };
    // The field's text lives in the app state, so loading another run clears it (nothing stale).
    let on_target = {
        let app = app.clone();
        Callback::from(move |e: InputEvent| {
            app.dispatch(Action::Timeline(TimelineAction::EditRunTo(event_value(&e))))
        })
    };
    let on_run_to = {
        let app = app.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let text = app.timeline.run_to_text.clone();
            app.dispatch(Action::Timeline(TimelineAction::StartFastForward(text)));
        })
    };
    let cancel = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::Timeline(TimelineAction::CancelFastForward)))
    };

    let span = furthest.as_millis().saturating_sub(floor.as_millis());
    let value_text = format!("t = {now} of {furthest}");
    let placeholder = end.map_or_else(|| "e.g. 30s".to_string(), |end| format!("e.g. {end}"));
    let progress = app.timeline.fast_forward.as_ref().map(|ff| {
        let percent = ff.percent(now);
        let label = ff.label();
        html! {
            <div class="ff-progress" role="status" aria-live="polite">
                <progress id="ff-progress" max="100" value={percent.to_string()} aria-label={label.clone()}>
                    { format!("{percent}%") }
                </progress>
                <span id="ff-status">{ format!("{label}: {percent}% · t = {now}") }</span>
                <button id="ff-cancel" type="button" class="btn small" onclick={cancel}>{ "Cancel" }</button>
            </div>
        }
    });
    html! {
        <div class={classes!("timeline-bar", rewound.then_some("rewound"))} id="timeline" role="group"
             aria-label="Timeline">
            <label class="timeline-scrub" for="timeline-scrub">
                <span>{ "Timeline" }</span>
            </label>
            <input id="timeline-scrub" type="range" min={floor.as_millis().to_string()}
                   max={furthest.as_millis().to_string()} step={slider_step_millis(span).to_string()}
                   value={now.as_millis().to_string()} disabled={span == 0} oninput={on_scrub}
                   aria-label="Scrub the run: arrow keys step, Home and End jump to the start and the latest moment"
                   aria-valuetext={value_text.clone()} />
            <output id="timeline-time" class="timeline-time" for="timeline-scrub">{ value_text }</output>
            if rewound {
                <span id="timeline-rewound" class="timeline-note" role="status">
                    { "Earlier moment: play or step replays the same run; acting here (publish, declare…) \
                       discards everything after it." }
                </span>
                <button id="timeline-latest" type="button" class="btn small" onclick={to_latest}>
                    { "Latest" }
                </button>
            }
            <form class="ff-form" onsubmit={on_run_to} aria-label="Fast-forward">
                <label for="ff-target">{ "Run to t =" }</label>
                <input id="ff-target" type="text" inputmode="decimal" size="7" placeholder={placeholder}
                       value={app.timeline.run_to_text.clone()} oninput={on_target}
                       aria-label="Fast-forward to virtual time (30s, 1500ms, 2m)" />
                <button id="ff-go" type="submit" class="btn small"
                        disabled={app.timeline.fast_forward.is_some()}>{ "Go" }</button>
            </form>
            { for progress }
        </div>
    }
}

/// While a fast-forward runs, asks for the next animation frame after every render and does one chunk
/// in it: the work is spread over frames and the page repaints (and answers Cancel) in between.
#[hook]
fn use_fast_forward_frames(app: &AppContext) {
    let active = app.timeline.fast_forward.is_some();
    let dispatcher = app.dispatcher();
    use_effect_with((active, app.version), move |(active, _)| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let window = web_sys::window();
        let frame = active.then_some(()).and(window.clone()).and_then(|window| {
            let callback = Closure::<dyn FnMut(f64)>::new(move |_: f64| {
                dispatcher.dispatch(Action::Timeline(TimelineAction::FastForwardFrame));
            });
            let id = window.request_animation_frame(callback.as_ref().unchecked_ref()).ok()?;
            Some((id, callback))
        });
        move || {
            if let (Some((id, callback)), Some(window)) = (frame, window) {
                let _ = window.cancel_animation_frame(id);
                drop(callback);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slider_step_grows_with_the_run() {
        assert_eq!(slider_step_millis(10_000), 100);
        assert_eq!(slider_step_millis(600_000), 1_000);
        assert_eq!(slider_step_millis(86_400_000), 10_000);
    }
}
