//! The header: the brand, time controls (play/pause, step, speed, the virtual clock, a badge when an
//! earlier moment is shown; scrubbing and fast-forward are in the timeline bar below) and page actions
//! (the start card, the bundled scenario picker, the example, the theme), and the model picker (RabbitMQ or
//! Kafka: the Kafka page is another module, opened by `?model=kafka`).
//!
//! The picker always names what the page holds: a `<select>`'s shown option is DOM state the user changes
//! by picking, so after every render it is set back to the loaded scenario (a pick that did not load, a
//! workspace opened, the example loaded all show the truth).

use super::{event_value, use_app, AppContext};
use crate::state::{Action, SPEEDS};
use yew::prelude::*;

/// The picker's value while a document that is not a bundled one (as bundled) plays.
const OTHER_SCENARIO: &str = "other";

fn speed_label(speed: f64) -> String {
    format!("{speed}×")
}

/// What the page's time controls dispatch; the header and the embed's control bar share them.
pub struct TimeCallbacks {
    pub toggle: Callback<MouseEvent>,
    pub step: Callback<MouseEvent>,
    /// From the speed `<select>`: its value is one of [`SPEEDS`].
    pub set_speed: Callback<Event>,
}

impl TimeCallbacks {
    pub fn new(app: &AppContext) -> Self {
        let dispatch = |action: fn() -> Action| {
            let app = app.clone();
            Callback::from(move |_: MouseEvent| app.dispatch(action()))
        };
        let app = app.clone();
        TimeCallbacks {
            toggle: dispatch(|| Action::TogglePlay),
            step: dispatch(|| Action::Step),
            set_speed: Callback::from(move |e: Event| {
                if let Ok(speed) = event_value(&e).parse::<f64>() {
                    app.dispatch(Action::SetSpeed(speed));
                }
            }),
        }
    }
}

/// The speed `<select>`'s options, `current` selected.
pub fn speed_options(current: f64) -> Html {
    html! {
        { for SPEEDS.iter().map(|s| html! {
            <option value={s.to_string()} selected={*s == current}>{ speed_label(*s) }</option>
        }) }
    }
}

#[function_component(Header)]
pub fn header() -> Html {
    let app = use_app();
    let now = app.now();
    let TimeCallbacks { toggle, step, set_speed } = TimeCallbacks::new(&app);
    let example = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::LoadExample))
    };
    let theme = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::CycleTheme))
    };
    let catalogue = use_memo((), |_| crate::scenarios::catalogue());
    let pick = {
        let app = app.clone();
        Callback::from(move |e: Event| {
            let id = event_value(&e);
            if !id.is_empty() && id != OTHER_SCENARIO {
                app.dispatch(Action::LoadScenario(id));
            }
        })
    };
    let loaded = app.session.borrow().scenario().map(|s| s.name.clone());
    // The picker's value for what is loaded: a bundled scenario's id, "other" for any other document
    // (edited, imported, shared), "" for a hand-built broker.
    let loaded_id = match &loaded {
        None => String::new(),
        Some(name) => catalogue
            .iter()
            .find(|e| {
                &e.name == name
                    && app.workspace.scenario_text.as_deref() == crate::scenarios::bundled_text(e.id)
            })
            .map_or_else(|| OTHER_SCENARIO.to_string(), |e| e.id.to_string()),
    };
    let picker = use_node_ref();
    {
        let picker = picker.clone();
        let loaded_id = loaded_id.clone();
        use_effect(move || {
            if let Some(select) = picker.cast::<web_sys::HtmlSelectElement>() {
                if select.value() != loaded_id {
                    select.set_value(&loaded_id);
                }
            }
        });
    }
    let show_start = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::ShowStart))
    };
    // One page per model: the Kafka page is another wasm module, loaded by the address (index.html).
    let pick_model = Callback::from(|e: Event| {
        let model = event_value(&e);
        if model != "rabbitmq" {
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_search(&format!("?model={model}"));
            }
        }
    });
    let rewound = app.session.borrow().has_future();
    let play_label = if app.playing { "Pause (space)" } else { "Play (space)" };
    html! {
        <header class="app-header">
            <h1>{ "Brokerlab" }</h1>
            <label class="tagline model-pick">
                <select id="model-picker" onchange={pick_model} aria-label="Broker model">
                    <option value="rabbitmq" selected=true>{ "RabbitMQ" }</option>
                    <option value="kafka">{ "Kafka" }</option>
                    <option value="sqs">{ "Amazon SQS" }</option>
                    <option value="redis">{ "Redis" }</option>
                </select>
                { " sandbox" }
            </label>
            <div class="time-controls" role="group" aria-label="Time controls">
                <button id="play" class={classes!("btn", "primary", app.playing.then_some("on"))}
                        onclick={toggle} aria-pressed={app.playing.to_string()} title={play_label}
                        aria-label={play_label}>
                    { if app.playing { "❚❚ Pause" } else { "▶ Play" } }
                </button>
                <button id="step" class="btn" onclick={step} title="Step to the next scheduled event (→)"
                        aria-label="Step one event (right arrow)">{ "Step →" }</button>
                <label class="speed">
                    <span>{ "Speed" }</span>
                    <select id="speed" onchange={set_speed} aria-label="Playback speed">
                        { speed_options(app.speed) }
                    </select>
                </label>
                <output id="clock" class="clock" aria-label="Virtual clock" aria-live="off">
                    { format!("t = {now}") }
                </output>
                if rewound {
                    <span id="rewound" class="rewound-badge"
                          title="An earlier moment of the run is shown: the timeline bar below says more">
                        { "⟲ rewound" }
                    </span>
                }
                if app.lagging {
                    <span class="lag" title="More events than one frame may process: the clock runs behind">
                        { "lagging" }
                    </span>
                }
            </div>
            <div class="header-actions">
                <label class="scenario-picker">
                    <span>{ "Scenario" }</span>
                    <select id="scenario" ref={picker} onchange={pick} aria-label="Load a bundled scenario">
                        <option value="" selected={loaded_id.is_empty()} disabled=true>
                            { "Hand-built broker" }
                        </option>
                        { for catalogue.iter().map(|entry| html! {
                            <option value={entry.id} title={entry.description.clone()}
                                    selected={loaded_id == entry.id}>
                                { entry.name.clone() }
                            </option>
                        }) }
                        if loaded_id == OTHER_SCENARIO {
                            <option value={OTHER_SCENARIO} selected=true disabled=true>
                                { loaded.clone().unwrap_or_default() }
                            </option>
                        }
                    </select>
                </label>
                <button id="start" class="btn" onclick={show_start}
                        title="The tutorials, an empty broker, the example">{ "Start…" }</button>
                <button id="load-example" class="btn" onclick={example}
                        title="The example topology in a fresh broker">{ "Load example" }</button>
                <button id="theme" class="btn" onclick={theme} aria-label={app.theme.label()}
                        title={app.theme.label()}>{ "◐" }</button>
            </div>
        </header>
    }
}
