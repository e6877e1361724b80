//! The root component: the page shell (header and workspace area).
use yew::prelude::*;

#[function_component(App)]
pub fn app() -> Html {
    html! {
        <div class="app">
            <header class="app-header"><h1>{ "Brokerlab" }</h1></header>
            <main class="workspace" id="workspace"></main>
        </div>
    }
}
