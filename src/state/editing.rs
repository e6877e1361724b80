//! Editing: definitions import and export, the scenario editor, moving and replaying messages, lineage. (Work in progress.)

use super::AppState;

/// This part's slice of the app state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EditState {}

/// This part's actions (dispatched as `Action::Edit`).
#[derive(Clone, Debug, PartialEq)]
pub enum EditAction {}

impl AppState {
    pub(super) fn apply_editing(&mut self, action: EditAction) {
        match action {}
    }
}
