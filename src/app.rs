//! The root component: the page shell (header, workspace area, footer).
use yew::prelude::*;

/// The whole page. Later issues fill the workspace with the topology editor, tables and charts.
#[function_component(App)]
pub fn app() -> Html {
    html! {
        <div class="app">
            <header class="app-header">
                <h1>{ "Brokerlab" }</h1>
                <span class="tagline">{ "a message-broker sandbox that runs in your browser" }</span>
            </header>
            <main class="workspace" id="workspace" aria-label="Workspace">
                <div class="empty">
                    <h2>{ "Empty workspace" }</h2>
                    <p>{ "Build a topology, script producers and consumers, and watch RabbitMQ, Kafka, SQS \
                          or Redis Streams behave — all inside this tab." }</p>
                </div>
            </main>
            <footer class="app-footer">{ format!("engine broker_core {}", broker_core::VERSION) }</footer>
        </div>
    }
}
