//! Workspaces kept in IndexedDB, broker durability across reloads, permalinks and workspace files. (Work in progress.)

use super::AppState;

/// This part's slice of the app state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkspaceState {}

/// This part's actions (dispatched as `Action::Workspace`).
#[derive(Clone, Debug, PartialEq)]
pub enum WorkspaceAction {}

impl AppState {
    pub(super) fn apply_workspace(&mut self, action: WorkspaceAction) {
        match action {}
    }
}
