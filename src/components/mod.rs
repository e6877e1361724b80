//! The page's components. Each reads the one app state through [`use_app`] and changes it only by
//! dispatching [`Action`](crate::state::Action)s.

pub mod actors;
pub mod charts;
pub mod checks;
pub mod editors;
pub mod header;
pub mod inspector;
pub mod log;
pub mod messages;
pub mod scenario_editor;
pub mod start;
pub mod streams;
pub mod tables;
pub mod timeline;
pub mod topology_view;
pub mod workspaces;

use crate::state::{AppState, Reveal};
use broker_core::amqp::{FieldTable, FieldValue};
use yew::prelude::*;

/// The app state as the root provides it.
pub type AppContext = UseReducerHandle<AppState>;

/// The app state and its dispatcher, from the context the root component provides.
#[hook]
pub fn use_app() -> AppContext {
    use_context::<AppContext>().expect("components are rendered inside the App's context provider")
}

/// Loads the scripting engine when the state parks an action for it (`state/scripting.rs`), then
/// answers with how the load went; the parked action runs then. The app and the embedded view use it.
#[hook]
pub fn use_scripting_loader(state: &UseReducerHandle<AppState>) {
    let dispatcher = state.dispatcher();
    let waiting = state.scripting.waiting.is_some();
    use_effect_with(state.scripting.request, move |&request| {
        if waiting {
            wasm_bindgen_futures::spawn_local(async move {
                let result = crate::scripting::load().await;
                let finished = crate::state::scripting::ScriptingAction::Finished { request, result };
                dispatcher.dispatch(crate::state::Action::Scripting(finished));
            });
        }
    });
}

/// Scrolls `node`'s element into view after a click drew `what` in it ([`Reveal`]): to the nearest edge,
/// so a result already in view stays put, and every scrolled pane on the way moves. A view mounted
/// after the click (a tab opened later) does not scroll for it.
#[hook]
pub fn use_reveal(node: &NodeRef, what: Reveal) {
    let app = use_app();
    let seen = use_mut_ref(|| app.revealed.serial);
    let node = node.clone();
    use_effect_with(app.revealed, move |revealed| {
        let new = seen.replace(revealed.serial) != revealed.serial;
        if new && revealed.what == Some(what) {
            if let Some(element) = node.cast::<web_sys::Element>() {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Nearest);
                options.set_inline(web_sys::ScrollLogicalPosition::Nearest);
                element.scroll_into_view_with_scroll_into_view_options(&options);
            }
        }
    });
}

/// The value of the input, select or textarea an event came from.
pub fn event_value(e: &Event) -> String {
    use wasm_bindgen::JsCast;
    let Some(target) = e.target() else { return String::new() };
    if let Some(i) = target.dyn_ref::<web_sys::HtmlInputElement>() {
        i.value()
    } else if let Some(s) = target.dyn_ref::<web_sys::HtmlSelectElement>() {
        s.value()
    } else if let Some(t) = target.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        t.value()
    } else {
        String::new()
    }
}

/// Whether the checkbox an event came from is checked.
pub fn event_checked(e: &Event) -> bool {
    use wasm_bindgen::JsCast;
    e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()).is_some_and(|i| i.checked())
}

/// A field table as text rows (`key = value`), for tables and the inspector.
pub fn table_text(t: &FieldTable) -> String {
    let parts: Vec<String> = t.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join(", ")
}

/// A field table as a definition list; nested tables and arrays are shown in their compact text form.
pub fn field_table_view(t: &FieldTable) -> Html {
    if t.is_empty() {
        return html! { <span class="muted">{ "none" }</span> };
    }
    html! {
        <dl class="fields">
            { for t.iter().map(|(k, v)| html! { <><dt>{ k.clone() }</dt><dd>{ value_text(v) }</dd></> }) }
        </dl>
    }
}

pub fn value_text(v: &FieldValue) -> String {
    match v {
        FieldValue::Str(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A message body for display: UTF-8 text as it is (rendered as text, never as HTML), anything else as
/// a byte count.
pub fn body_text_for_ui(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(s) => s.to_string(),
        Err(_) => format!("<{} bytes of binary data>", body.len()),
    }
}
