//! Embed mode: a compact sandbox for a column of a tutorial, driven by its page over `postMessage`.
//! (Work in progress.)

use yew::prelude::*;

/// Whether the page was opened as an embed (its address asks for it).
pub fn requested() -> bool {
    false
}

/// The embedded sandbox's root component.
#[function_component(EmbedApp)]
pub fn embed_app() -> Html {
    html! {}
}
