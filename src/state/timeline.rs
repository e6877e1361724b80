//! Rewind, scrubbing and fast-forward along the run's timeline, and the charts' settings. (Work in progress.)

use super::AppState;

/// This part's slice of the app state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimelineState {}

/// This part's actions (dispatched as `Action::Timeline`).
#[derive(Clone, Debug, PartialEq)]
pub enum TimelineAction {}

impl AppState {
    pub(super) fn apply_timeline(&mut self, action: TimelineAction) {
        match action {}
    }
}
