//! The load page of the web benchmark: the app's page (the same components as `app.rs`'s shell, the same
//! driver cadence and reducer) opened on a generated scenario already playing — 100 queues fed by 10
//! producers at 1,000 messages a second each — because the app itself has no address that loads a
//! document. `?queues=N&producers=N&rate=N` change the load. Without the workspace bar and its sync
//! hook: restoring the saved workspace on start would replace the generated run.

#[cfg(target_arch = "wasm32")]
mod page {
    use brokerlab::components::charts::ChartsTab;
    use brokerlab::components::checks::ChecksPanel;
    use brokerlab::components::header::Header;
    use brokerlab::components::inspector::Inspector;
    use brokerlab::components::tables::QueuesTab;
    use brokerlab::components::timeline::TimelineBar;
    use brokerlab::components::topology_view::TopologyView;
    use brokerlab::components::AppContext;
    use brokerlab::state::{Action, AppState, Tab};
    use yew::prelude::*;

    /// The app's driver period (`app.rs`'s `TICK_MILLIS`).
    const TICK_MILLIS: u32 = 33;

    fn param(name: &str, default: u64) -> u64 {
        web_sys::window()
            .and_then(|w| w.location().search().ok())
            .and_then(|q| web_sys::UrlSearchParams::new_with_str(&q).ok())
            .and_then(|p| p.get(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    #[function_component(LoadPage)]
    pub fn load_page() -> Html {
        let state = use_reducer(|| {
            let (queues, producers, rate) =
                (param("queues", 100), param("producers", 10), param("rate", 1000));
            // At most an hour, and no longer than the producers' messages fit in a run's budget (a document
            // over it is refused): 60 s of the default load, far more than the bench samples.
            let per_second = (producers * rate).max(1);
            let budget = broker_core::scenario::sim::RunBudget::DEFAULT.messages;
            let duration_millis = (budget * 600 / per_second).min(3_600_000);
            let doc = brokerlab::topology::fan_out_document(
                1,
                queues as usize,
                producers as usize,
                rate,
                duration_millis,
            );
            let mut s = AppState::default();
            s.apply(Action::LoadDocument(doc));
            s.apply(Action::TogglePlay);
            s
        });
        {
            let dispatcher = state.dispatcher();
            use_effect_with((), move |_| {
                let last = std::cell::Cell::new(js_sys::Date::now());
                let interval = gloo_timers::callback::Interval::new(TICK_MILLIS, move || {
                    let now = js_sys::Date::now();
                    dispatcher.dispatch(Action::Tick { wall_millis: now - last.replace(now) });
                });
                move || drop(interval)
            });
        }
        let body = match state.tab {
            Tab::Charts => html! { <ChartsTab /> },
            _ => html! { <QueuesTab /> },
        };
        html! {
            <ContextProvider<AppContext> context={state}>
                <div class="app">
                    <Header />
                    <TimelineBar />
                    <main class="workspace" id="workspace">
                        <section class="graph-pane"><TopologyView /><Inspector /></section>
                        <section class="tabs-pane">
                            <ChecksPanel />
                            <div id="tab-panel">{ body }</div>
                        </section>
                    </main>
                </div>
            </ContextProvider<AppContext>>
        }
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    yew::Renderer::<page::LoadPage>::new().render();
}
