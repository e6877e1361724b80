//! Workspaces kept in IndexedDB, broker durability across reloads, permalinks and workspace files: this
//! part's slice of the state. The store itself is driven by `components/workspaces.rs` (async); the
//! reducer only swaps sessions and records what the store said.

use super::{AppState, Tab, Theme, SPEEDS};
use crate::persist::catalog::Entry;
use crate::persist::workspace::{Layout, WorkspaceDoc, WORKSPACE_FORMAT};
use crate::session::Session;
use broker_core::VirtualTime;

/// Whether this tab may write the current workspace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ownership {
    /// Not decided yet (the store is opening).
    #[default]
    Pending,
    /// This tab holds the workspace's lock and saves it.
    Owner,
    /// Another tab holds it: this one shows it and does not save.
    OtherTab,
    /// Another tab took it over from this one.
    TakenOver,
    /// Nothing is saved (the store is unusable): the page works from memory.
    NoStore,
}

/// This part's slice of the app state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkspaceState {
    /// The workspace open (id and name).
    pub current: Option<Entry>,
    /// Every saved workspace, in the store's order.
    pub entries: Vec<Entry>,
    /// The scenario document the session plays (set when a document is loaded); `None`: manual broker.
    pub scenario_text: Option<String>,
    pub ownership: Ownership,
    /// What is wrong with the store, as a sentence (newer, damaged, quota, unavailable).
    pub problem: Option<String>,
    /// The store cannot be read as it is: offer export and reset.
    pub store_unreadable: bool,
    /// Batches written so far (the status line).
    pub saves: u64,
    /// The last permalink made (a URL fragment) for the share field.
    pub permalink: Option<String>,
}

/// This part's actions (dispatched as `Action::Workspace`).
#[derive(Clone, Debug, PartialEq)]
pub enum WorkspaceAction {
    /// Replace the session with a stored workspace.
    Open {
        entry: Entry,
        entries: Vec<Entry>,
        doc: Box<WorkspaceDoc>,
    },
    /// Make the page as it is the workspace `entry` (a first visit: nothing stored to reopen).
    Adopt {
        entry: Entry,
        entries: Vec<Entry>,
    },
    /// The list changed (rename, duplicate, delete).
    Entries(Vec<Entry>),
    Renamed(String),
    Ownership(Ownership),
    /// The store reported a problem; `unreadable` offers export and reset.
    Problem {
        text: String,
        unreadable: bool,
    },
    ClearProblem,
    Saved(u64),
    RestartBroker,
    Permalink(Option<String>),
    /// A refused permalink or file: shown, nothing run.
    Refused(String),
}

fn tab_from_id(id: &str) -> Option<Tab> {
    Tab::ALL.iter().copied().find(|t| t.id() == id)
}

fn theme_id(theme: Theme) -> &'static str {
    match theme {
        Theme::System => "system",
        Theme::Light => "light",
        Theme::Dark => "dark",
    }
}

fn theme_from_id(id: &str) -> Theme {
    match id {
        "light" => Theme::Light,
        "dark" => Theme::Dark,
        _ => Theme::System,
    }
}

impl AppState {
    pub(super) fn apply_workspace(&mut self, action: WorkspaceAction) {
        match action {
            WorkspaceAction::Open { entry, entries, doc } => self.open_workspace(entry, entries, &doc),
            WorkspaceAction::Adopt { entry, entries } => {
                self.workspace.current = Some(entry);
                self.workspace.entries = entries;
            }
            WorkspaceAction::Entries(entries) => {
                if let Some(c) = &mut self.workspace.current {
                    if let Some(e) = entries.iter().find(|e| e.id == c.id) {
                        c.name = e.name.clone();
                    }
                }
                self.workspace.entries = entries;
            }
            WorkspaceAction::Renamed(name) => {
                if let Some(c) = &mut self.workspace.current {
                    c.name = name.clone();
                    if let Some(e) = self.workspace.entries.iter_mut().find(|e| e.id == c.id) {
                        e.name = name;
                    }
                }
            }
            WorkspaceAction::Ownership(o) => {
                self.workspace.ownership = o;
                match o {
                    Ownership::OtherTab => self.info(
                        "This workspace is open in another tab, which saves it; changes here are not saved. \
                         Use “Take over” to save from this tab instead.",
                    ),
                    Ownership::TakenOver => self.error(
                        "Another tab took this workspace over: changes here are no longer saved. Use “Take over” \
                         to take it back.",
                    ),
                    _ => {}
                }
            }
            WorkspaceAction::Problem { text, unreadable } => {
                self.workspace.store_unreadable |= unreadable;
                self.error(text.clone());
                self.workspace.problem = Some(text);
            }
            WorkspaceAction::ClearProblem => {
                self.workspace.problem = None;
                self.workspace.store_unreadable = false;
            }
            WorkspaceAction::Saved(n) => {
                self.workspace.saves = n;
                if self.workspace.problem.as_deref().is_some_and(|p| p.contains("quota")) {
                    self.workspace.problem = None;
                }
            }
            WorkspaceAction::RestartBroker => {
                self.session.borrow_mut().restart_broker();
                self.playing = false;
                self.got.clear();
                self.peeked = None;
                self.info(
                    "Broker restarted: durable exchanges, queues and bindings and persistent messages in durable \
                     queues survived; unacknowledged ones are back as redelivered",
                );
            }
            WorkspaceAction::Permalink(link) => self.workspace.permalink = link,
            WorkspaceAction::Refused(text) => self.error(text),
        }
    }

    fn open_workspace(&mut self, entry: Entry, entries: Vec<Entry>, doc: &WorkspaceDoc) {
        let at = VirtualTime::from_millis(doc.virtual_millis);
        let session = match (&doc.scenario, &doc.image) {
            (Some(text), _) => Session::replay_scenario(text, at),
            (None, Some(image)) => Session::from_durable_image(image, 42),
            (None, None) => Ok(Session::new(42)),
        };
        let mut session = match session {
            Ok(s) => s,
            Err(e) => {
                self.error(format!("Workspace '{}' cannot be opened: {e}", entry.name));
                return;
            }
        };
        session.continue_versions_from(self.session.borrow().version());
        *self.session.borrow_mut() = session;
        self.workspace.scenario_text = doc.scenario.clone();
        self.workspace.current = Some(entry.clone());
        self.workspace.entries = entries;
        self.playing = false;
        self.lagging = false;
        self.carry_millis.set(0.0);
        self.selected = None;
        self.got.clear();
        self.peeked = None;
        self.message = None;
        self.explanation = None;
        self.tab = tab_from_id(&doc.layout.tab).unwrap_or(Tab::Queues);
        self.theme = theme_from_id(&doc.layout.theme);
        if SPEEDS.contains(&doc.layout.speed) {
            self.speed = doc.layout.speed;
        }
        self.info(format!("Opened workspace '{}'", entry.name));
    }

    /// The current workspace as it would be stored now.
    pub fn workspace_doc(&self) -> WorkspaceDoc {
        let session = self.session.borrow();
        let scenario = self.workspace.scenario_text.clone().filter(|_| session.scenario().is_some());
        let image = scenario.is_none().then(|| session.durable_image());
        WorkspaceDoc {
            format: WORKSPACE_FORMAT,
            name: self.workspace.current.as_ref().map_or_else(|| "Workspace".to_string(), |c| c.name.clone()),
            scenario,
            image,
            virtual_millis: session.now().as_millis(),
            layout: Layout {
                tab: self.tab.id().to_string(),
                theme: theme_id(self.theme).to_string(),
                speed: self.speed,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Action;

    fn entry(id: &str, name: &str) -> Entry {
        Entry { id: id.into(), name: name.into() }
    }

    #[test]
    fn a_saved_manual_workspace_reopens_with_its_layout_and_durable_state() {
        let mut app = AppState::default();
        app.apply(Action::LoadExample);
        app.apply(Action::SetTab(Tab::Bindings));
        app.apply(Action::CycleTheme);
        let doc = app.workspace_doc();
        assert!(doc.image.is_some() && doc.scenario.is_none());
        let queues_before: Vec<String> = app
            .session
            .borrow()
            .broker()
            .queues()
            .into_iter()
            .filter(|q| q.durable)
            .map(|q| q.name)
            .collect();
        let mut reopened = AppState::default();
        let open = WorkspaceAction::Open {
            entry: entry("w1", "Demo"),
            entries: vec![entry("w1", "Demo")],
            doc: Box::new(doc),
        };
        reopened.apply(Action::Workspace(open));
        assert_eq!(reopened.tab, Tab::Bindings);
        assert_eq!(reopened.theme, Theme::Light);
        let queues_after: Vec<String> =
            reopened.session.borrow().broker().queues().into_iter().map(|q| q.name).collect();
        assert_eq!(queues_after, queues_before);
        assert!(!queues_after.is_empty());
    }

    #[test]
    fn a_scenario_workspace_stores_its_document_and_position() {
        let mut app = AppState::default();
        app.apply(Action::LoadScenario(crate::scenarios::BUNDLED[1].0.to_string()));
        app.session.borrow_mut().run_until(VirtualTime::from_millis(700), 1_000);
        let doc = app.workspace_doc();
        assert_eq!(doc.scenario.as_deref(), Some(crate::scenarios::BUNDLED[1].1));
        assert_eq!(doc.virtual_millis, 700);
        let mut reopened = AppState::default();
        reopened.apply(Action::Workspace(WorkspaceAction::Open {
            entry: entry("w2", "S"),
            entries: vec![],
            doc: Box::new(doc),
        }));
        assert_eq!(reopened.now(), VirtualTime::from_millis(700));
        assert_eq!(reopened.session.borrow().log().len(), app.session.borrow().log().len());
    }
}
