//! The start card: where a newcomer begins. It lists the bundled scenarios (RabbitMQ's tutorials and a few
//! patterns) by their own titles with the first sentence of their descriptions — one click opens one —
//! and offers an empty hand-built broker or the example topology. It covers the graph pane while the page
//! holds nothing (so the forms on the right stay usable) and comes back from the header's "Start" button.

use super::use_app;
use crate::state::Action;
use yew::prelude::*;

/// The first sentence of a description, without the "RabbitMQ tutorial N:" lead-in the title already
/// says (the whole text stays in the entry's tooltip).
pub fn summary(description: &str) -> String {
    let text = match description.split_once(": ") {
        Some((lead, rest)) if lead.starts_with("RabbitMQ tutorial") => rest,
        _ => description,
    };
    // Kept as written (no capitalising): a sentence may start with a name such as `emit_log`.
    let end = text.find(". ").map_or(text.len(), |i| i + 1);
    text[..end].to_string()
}

/// Whether a bundled scenario is one of RabbitMQ's seven tutorials (listed first, as "Tutorials").
fn is_tutorial(description: &str) -> bool {
    description.starts_with("RabbitMQ tutorial")
}

#[function_component(StartCard)]
pub fn start_card() -> Html {
    let app = use_app();
    let catalogue = use_memo((), |_| crate::scenarios::catalogue());
    if !app.start_card_shown() {
        return html! {};
    }
    let dispatch = |action: Action| {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| app.dispatch(action.clone()))
    };
    let entry = |e: &crate::scenarios::ScenarioEntry| {
        html! {
            <li>
                <button class="start-entry" id={format!("start-{}", e.id)} title={e.description.clone()}
                        onclick={dispatch(Action::LoadScenario(e.id.to_string()))}>
                    <span class="start-entry-name">{ e.name.clone() }</span>
                    <span class="start-entry-summary">{ summary(&e.description) }</span>
                </button>
            </li>
        }
    };
    let (tutorials, patterns): (Vec<_>, Vec<_>) = catalogue.iter().partition(|e| is_tutorial(&e.description));
    html! {
        <section class="start-card" id="start-card" aria-labelledby="start-title">
            <header class="start-head">
                <h2 id="start-title">{ "Where to begin" }</h2>
                <button class="btn small" id="start-close" aria-label="Close the start card"
                        onclick={dispatch(Action::CloseStart)}>{ "✕" }</button>
            </header>
            <p class="start-intro">
                { "Brokerlab imitates a RabbitMQ 3.10 broker in your browser. Open a tutorial: producers and \
                   consumers run on a virtual clock you can play, step and rewind, and checks say what should \
                   happen. Or build your own broker from the tabs on the right." }
            </p>
            <div class="start-columns">
                <div>
                    <h3>{ "RabbitMQ tutorials" }</h3>
                    <ol class="start-list">{ for tutorials.into_iter().map(entry) }</ol>
                </div>
                <div>
                    <h3>{ "Patterns" }</h3>
                    <ol class="start-list">{ for patterns.into_iter().map(entry) }</ol>
                    <h3>{ "On your own" }</h3>
                    <ul class="start-list">
                        <li>
                            <button class="start-entry" id="start-empty" onclick={dispatch(Action::LoadEmpty)}>
                                <span class="start-entry-name">{ "Start with an empty broker" }</span>
                                <span class="start-entry-summary">
                                    { "Declare exchanges and queues, bind them, publish and get messages, as in \
                                       the management UI." }
                                </span>
                            </button>
                        </li>
                        <li>
                            <button class="start-entry" id="start-example" onclick={dispatch(Action::LoadExample)}>
                                <span class="start-entry-name">{ "Open the example broker" }</span>
                                <span class="start-entry-summary">
                                    { "A topic exchange, TTL queues that dead-letter, a consumer holding an \
                                       unacknowledged message." }
                                </span>
                            </button>
                        </li>
                    </ul>
                    <p class="start-hint muted">
                        { "A file exported from Brokerlab (a workspace, a scenario or a definitions.json) opens \
                           with Import in the workspace bar." }
                    </p>
                </div>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_shows_the_first_sentence_without_the_tutorial_lead_in() {
        assert_eq!(
            summary("RabbitMQ tutorial 1: a producer sends one message. Then more."),
            "a producer sends one message."
        );
        assert_eq!(
            summary("A delayed retry built from queue features. The worker…"),
            "A delayed retry built from queue features."
        );
        assert_eq!(summary("No full stop"), "No full stop");
        assert_eq!(summary(""), "");
        let catalogue = crate::scenarios::catalogue();
        let tutorials = catalogue.iter().filter(|e| is_tutorial(&e.description)).count();
        assert_eq!(tutorials, 7, "RabbitMQ's seven tutorials are listed as such");
    }
}
