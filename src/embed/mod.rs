//! Embed mode: a compact sandbox for a column of a tutorial, driven by its page over `postMessage`.
//!
//! `index.html?embed=1&scenario=02-work-queues&panels=controls,topology,queues&origin=https://blog.example`
//! renders only the chosen panels ([`view`]) and obeys requests ([`protocol`], version 1) from the allowed
//! origins only ([`config`]); [`bridge`] is the page-side listener. The author's side is
//! `www/brokerlab-embed.js`; the protocol is documented in `docs/embed.md`.
//!
//! The models with a page of their own have a sandbox of their own too, each its own wasm module:
//! Kafka's ([`kafka`], [`kafka_view`]), SQS's ([`sqs`], [`sqs_view`]) and Redis's ([`redis`],
//! [`redis_view`]), over what they share
//! ([`model`]: the protocol over a model's session; [`model_view`]: the listener, player and panels).
//! Every sandbox's listener is [`bridge::Listener`].
//!
//! Every effect is an [`Action`](crate::state::Action) on the same [`AppState`] the full app uses.

pub mod bridge;
pub mod config;
pub mod kafka;
pub mod kafka_view;
pub mod model;
pub mod model_view;
pub mod protocol;
pub mod redis;
pub mod redis_view;
pub mod sqs;
pub mod sqs_view;
pub mod view;

use crate::components::AppContext;
use crate::state::{Action, AppState, Theme};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// The embedded sandbox's root component.
#[function_component(EmbedApp)]
pub fn embed_app() -> Html {
    let config = use_memo((), |_| {
        config::from_query(
            &bridge::query_pairs(),
            bridge::referrer_origin().as_deref(),
            &bridge::own_origin(),
        )
    });
    let state = {
        let config = config.clone();
        use_reducer(move || {
            let mut state = AppState::default();
            if let Some(id) = &config.scenario {
                state.apply(Action::LoadScenario(id.clone()));
            }
            if let Some(speed) = config.speed {
                state.apply(Action::SetSpeed(speed));
            }
            state
        })
    };
    let hub = {
        let config = config.clone();
        use_mut_ref(move || bridge::Hub::new(config.allowed_origins.clone(), bridge::referrer_origin()))
    };
    use_listener(&state, &hub);
    crate::app::use_driver(&state);
    crate::components::use_scripting_loader(&state);
    use_page_setup(config.theme);
    {
        // After every render (a banner or a button can change the height without a new engine version):
        // new events to subscribers, the run's end, the content's height.
        let (state, hub) = (state.clone(), hub.clone());
        use_effect(move || {
            if let Ok(mut hub) = hub.try_borrow_mut() {
                hub.flush(&state);
            }
        });
    }
    html! {
        <ContextProvider<AppContext> context={state}>
            <view::EmbedShell panels={config.panels.clone()} warnings={config.warnings.clone()} />
        </ContextProvider<AppContext>>
    }
}

/// Registers the `message` listener once and announces `ready` to the embedding page.
#[hook]
fn use_listener(state: &UseReducerHandle<AppState>, hub: &Rc<RefCell<bridge::Hub>>) {
    let (state, hub) = (state.clone(), hub.clone());
    use_effect_with((), move |_| {
        use wasm_bindgen::JsCast;
        let listener = web_sys::window().map(|window| {
            let (mut sandbox, hub) = (state.clone(), hub.clone());
            let handler = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |event: web_sys::MessageEvent| {
                    // A message arriving while another is handled (it cannot, single-threaded) is dropped
                    // rather than panicking.
                    let Ok(mut hub_now) = hub.try_borrow_mut() else { return };
                    if let Some(pending) = hub_now.receive(&mut sandbox, &event) {
                        // A `load` that needs the scripting engine: answered once the engine is loaded.
                        let (mut sandbox, hub) = (sandbox.clone(), hub.clone());
                        wasm_bindgen_futures::spawn_local(async move {
                            let loaded = crate::scripting::load().await;
                            // No borrow is held across an await, so this one is free.
                            if let Ok(mut hub) = hub.try_borrow_mut() {
                                hub.finish_load(&mut sandbox, pending, loaded);
                            }
                        });
                    }
                },
            );
            let _ = window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
            (window, handler)
        });
        if let Ok(hub) = hub.try_borrow() {
            hub.announce_ready(&state);
        }
        move || {
            if let Some((window, handler)) = listener {
                let _ =
                    window.remove_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
            }
        }
    });
}

/// The sandboxes' own styles (`www/css/embed.css`), drawn by each sandbox's root: only the sandboxes'
/// modules carry them, so the full pages do not fetch a stylesheet they never use (BENCHMARKS.md).
pub(crate) const STYLE: &str = include_str!("../../www/css/embed.css");

/// Marks `<html>` as an embed (for `embed.css`) and applies the theme the address chose.
#[hook]
fn use_page_setup(theme: Theme) {
    use_effect_with(theme, |theme| {
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.set_attribute("data-embed", "");
            let _ = match theme {
                Theme::System => root.remove_attribute("data-theme"),
                Theme::Light => root.set_attribute("data-theme", "light"),
                Theme::Dark => root.set_attribute("data-theme", "dark"),
            };
        }
    });
}
