//! Charts of queue depth and rates over the whole run. (Work in progress.)

use yew::prelude::*;

#[function_component(ChartsTab)]
pub fn charts_tab() -> Html {
    html! { <p class="muted">{ "Charts: coming soon." }</p> }
}
