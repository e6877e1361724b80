//! Workspaces: the bar that lists, renames, duplicates and deletes them, and the hook that keeps the current
//! one saved in IndexedDB. (Work in progress.)

use crate::state::AppState;
use yew::prelude::*;

/// The workspace bar (under the header).
#[function_component(WorkspaceBar)]
pub fn workspace_bar() -> Html {
    html! {}
}

/// Keeps the app state and the store in step (called once by the root component).
#[hook]
pub fn use_workspace_sync(state: &UseReducerHandle<AppState>) {
    let _ = state;
}
