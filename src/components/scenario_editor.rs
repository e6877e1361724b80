//! The Scenario tab: edit the loaded scenario's document and scripts with errors at their line; import and
//! export `definitions.json`. (Work in progress.)

use yew::prelude::*;

#[function_component(ScenarioTab)]
pub fn scenario_tab() -> Html {
    html! { <p class="muted">{ "Scenario editing: coming soon." }</p> }
}
