//! The root component: the one app state (a reducer provided through a context), the driver that maps
//! wall time to virtual time, keyboard shortcuts, the theme, and the page layout.

use crate::components::actors::ActorsBar;
use crate::components::charts::ChartsTab;
use crate::components::checks::ChecksPanel;
use crate::components::header::Header;
use crate::components::inspector::Inspector;
use crate::components::log::LogTab;
use crate::components::messages::MessagesTab;
use crate::components::scenario_editor::ScenarioTab;
use crate::components::start::StartCard;
use crate::components::tables::{BindingsTab, ConnectionsTab, ExchangesTab, QueuesTab};
use crate::components::timeline::TimelineBar;
use crate::components::topology_view::TopologyView;
use crate::components::workspaces::{use_workspace_sync, WorkspaceBar};
use crate::components::{use_app, use_scripting_loader, AppContext};
use crate::state::{Action, AppState, NoticeKind, Tab, Theme};
use yew::prelude::*;

/// The driver's tick period while playing (wall milliseconds); each tick advances the engine by the
/// wall time that really passed times the speed, with bounded work (see `state::MAX_INSTANTS_PER_TICK`).
const TICK_MILLIS: u32 = 33;

/// The whole page.
#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(AppState::default);
    use_driver(&state);
    use_scripting_loader(&state);
    use_shortcuts(&state);
    use_theme(state.theme);
    use_workspace_sync(&state);
    html! {
        <ContextProvider<AppContext> context={state}>
            <Shell />
        </ContextProvider<AppContext>>
    }
}

#[function_component(Shell)]
fn shell() -> Html {
    let app = use_app();
    let tab_button = |tab: Tab| {
        let onclick = {
            let app = app.clone();
            Callback::from(move |_| app.dispatch(Action::SetTab(tab)))
        };
        let selected = app.tab == tab;
        html! {
            <button role="tab" id={format!("tab-{}", tab.id())} aria-selected={selected.to_string()}
                    aria-controls="tab-panel" class={classes!("tab", selected.then_some("active"))} onclick={onclick}>
                { tab.label() }
            </button>
        }
    };
    // A newly opened tab shows its top: the panel is one element for every tab, and its scroll position
    // from the previous tab would open this one somewhere in its middle.
    let panel = use_node_ref();
    {
        let panel = panel.clone();
        use_effect_with(app.tab, move |_| {
            if let Some(panel) = panel.cast::<web_sys::Element>() {
                panel.set_scroll_top(0);
            }
        });
    }
    let body = match app.tab {
        Tab::Queues => html! { <QueuesTab /> },
        Tab::Exchanges => html! { <ExchangesTab /> },
        Tab::Bindings => html! { <BindingsTab /> },
        Tab::Connections => html! { <ConnectionsTab /> },
        Tab::Messages => html! { <MessagesTab /> },
        Tab::Log => html! { <LogTab /> },
        Tab::Charts => html! { <ChartsTab /> },
        Tab::Scenario => html! { <ScenarioTab /> },
    };
    html! {
        <div class="app">
            <Header />
            <WorkspaceBar />
            <TimelineBar />
            <NoticeBanner />
            <main class="workspace" id="workspace" aria-label="Workspace">
                <section class="graph-pane" aria-label="Topology">
                    <StartCard />
                    <TopologyView />
                    <ActorsBar />
                    <Inspector />
                </section>
                <section class="tabs-pane">
                    <ChecksPanel />
                    <nav class="tabs" role="tablist" aria-label="Views">
                        { for Tab::ALL.iter().map(|t| tab_button(*t)) }
                    </nav>
                    <div id="tab-panel" role="tabpanel" ref={panel} aria-labelledby={format!("tab-{}", app.tab.id())}>
                        { body }
                    </div>
                </section>
            </main>
            <footer class="app-footer">
                { format!("engine broker_core {} · space: play/pause · →: step one event", broker_core::VERSION) }
            </footer>
        </div>
    }
}

/// The last operation's outcome: RabbitMQ's code and text on a refusal.
#[function_component(NoticeBanner)]
fn notice_banner() -> Html {
    let app = use_app();
    let Some(n) = &app.notice else { return html! { <div class="notice-slot" /> } };
    let dismiss = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::DismissNotice))
    };
    let (class, role) = match n.kind {
        NoticeKind::Error => ("notice error", "alert"),
        NoticeKind::Info => ("notice info", "status"),
    };
    html! {
        <div class="notice-slot">
            <div class={class} role={role} id="notice">
                <span class="notice-text">{ n.text.clone() }</span>
                <button class="btn small" onclick={dismiss} aria-label="Dismiss">{ "✕" }</button>
            </div>
        </div>
    }
}

/// While playing, ticks the engine from wall time (an interval; wall time is measured, not assumed).
/// The embedded view uses it too.
#[hook]
pub(crate) fn use_driver(state: &UseReducerHandle<AppState>) {
    let dispatcher = state.dispatcher();
    use_effect_with(state.playing, move |playing| {
        let interval = playing.then(|| {
            let last = std::cell::Cell::new(js_sys::Date::now());
            gloo_timers::callback::Interval::new(TICK_MILLIS, move || {
                let now = js_sys::Date::now();
                let wall_millis = now - last.replace(now);
                dispatcher.dispatch(Action::Tick { wall_millis });
            })
        });
        move || drop(interval)
    });
}

/// Space toggles play/pause and → steps one event, unless the user is typing in a field.
#[hook]
fn use_shortcuts(state: &UseReducerHandle<AppState>) {
    let dispatcher = state.dispatcher();
    use_effect_with((), move |_| {
        let listener = web_sys::window().map(|window| {
            let handler = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(
                move |e: web_sys::KeyboardEvent| {
                    use wasm_bindgen::JsCast;
                    let typing =
                        e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| {
                            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT" | "BUTTON")
                        });
                    if typing || e.ctrl_key() || e.meta_key() || e.alt_key() {
                        return;
                    }
                    match e.key().as_str() {
                        " " => {
                            e.prevent_default();
                            dispatcher.dispatch(Action::TogglePlay);
                        }
                        "ArrowRight" => {
                            e.prevent_default();
                            dispatcher.dispatch(Action::Step);
                        }
                        _ => {}
                    }
                },
            );
            use wasm_bindgen::JsCast;
            let _ = window.add_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref());
            (window, handler)
        });
        move || {
            if let Some((window, handler)) = listener {
                use wasm_bindgen::JsCast;
                let _ =
                    window.remove_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref());
            }
        }
    });
}

/// Sets `data-theme` on `<html>`; without it the CSS follows `prefers-color-scheme`.
#[hook]
fn use_theme(theme: Theme) {
    use_effect_with(theme, |theme| {
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = match theme {
                Theme::System => root.remove_attribute("data-theme"),
                Theme::Light => root.set_attribute("data-theme", "light"),
                Theme::Dark => root.set_attribute("data-theme", "dark"),
            };
        }
    });
}
