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
    /// The workspace just deleted (its name), while its Undo is offered.
    pub undo_delete: Option<String>,
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
    /// A workspace was deleted (its name): Undo is offered until another workspace action.
    Deleted(String),
    /// The deleted workspace was brought back, or its Undo dismissed.
    UndoDone,
    /// An import opened what it found (the text says what and from which file); any notice of the
    /// import itself (a definitions report) follows it.
    Found(String),
    /// A message of the workspace bar (share link copied, workspace restored).
    Copied(String),
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
            WorkspaceAction::Deleted(name) => {
                self.info(format!("Deleted workspace '{name}'"));
                self.workspace.undo_delete = Some(name);
            }
            WorkspaceAction::UndoDone => self.workspace.undo_delete = None,
            WorkspaceAction::Found(found) => match self.notice.take() {
                Some(n) if n.text.starts_with("Imported") => {
                    self.notice = Some(super::Notice { kind: n.kind, text: format!("{found}: {}", n.text) })
                }
                Some(n) if n.kind == super::NoticeKind::Error => self.notice = Some(n),
                _ => self.info(format!("{found}: opened it in a new workspace")),
            },
            WorkspaceAction::Copied(text) => {
                self.workspace.undo_delete = None;
                self.info(text);
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
                self.message = None;
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
        // A scenario opens at its start and is replayed to its saved moment in frames (below), never in
        // one blocking loop: a far position would freeze the tab.
        let session = match (&doc.scenario, &doc.image) {
            (Some(text), _) => Session::from_scenario(text),
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
        self.workspace.undo_delete = None;
        self.forget_shown();
        self.tab = tab_from_id(&doc.layout.tab).unwrap_or(Tab::Queues);
        self.theme = theme_from_id(&doc.layout.theme);
        if SPEEDS.contains(&doc.layout.speed) {
            self.speed = doc.layout.speed;
        }
        if doc.scenario.is_some() && at > VirtualTime::ZERO {
            self.restore_to(at, format!("workspace '{}'", entry.name));
        } else if doc.image.is_some() {
            // Reopening a hand-built broker is a node restart: say what RabbitMQ would have lost.
            let dropped = doc.dropped_messages;
            let lost = if dropped == 0 {
                "no message was lost".to_string()
            } else {
                format!(
                    "{} dropped by the restart, as RabbitMQ drops non-persistent messages and non-durable queues",
                    super::count(dropped, "transient message was", "transient messages were")
                )
            };
            self.info(format!(
                "Opened workspace '{}': reopening is a broker restart; durable entities and persistent messages \
                 survived, {lost}",
                entry.name
            ));
        } else {
            self.info(format!("Opened workspace '{}'", entry.name));
        }
    }

    /// The current workspace as it would be stored now.
    pub fn workspace_doc(&self) -> WorkspaceDoc {
        let session = self.session.borrow();
        let scenario = self.workspace.scenario_text.clone().filter(|_| session.scenario().is_some());
        let image = scenario.is_none().then(|| session.durable_image());
        // What a restart would lose: every message held now that the durable image does not keep. A
        // stream's unacked deliveries are reads of its log, which keeps them: only the log counts.
        let broker = session.broker();
        let held: u64 = broker
            .queues()
            .iter()
            .map(|q| {
                let unacked =
                    if broker.stream_log(&q.name).is_some() { 0 } else { q.messages_unacknowledged };
                u64::from(q.messages_ready) + u64::from(unacked)
            })
            .sum();
        let dropped_messages =
            image.as_ref().map_or(0, |image| held.saturating_sub(image.message_count() as u64));
        let at = self.restoring_to().map_or(session.now(), |target| target.max(session.now()));
        WorkspaceDoc {
            format: WORKSPACE_FORMAT,
            name: self.workspace.current.as_ref().map_or_else(|| "Workspace".to_string(), |c| c.name.clone()),
            scenario,
            image,
            virtual_millis: at.as_millis(),
            dropped_messages,
            layout: Layout {
                tab: self.tab.id().to_string(),
                theme: theme_id(self.theme).to_string(),
                speed: self.speed,
            },
            rabbitmq_version: crate::persist::workspace::imitated_version(),
            operations: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::timeline::TimelineAction;
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
        assert!(doc.to_json().contains(r#""rabbitmq_version":"3.10.0""#), "the export says what it imitates");
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
        while reopened.timeline.fast_forward.is_some() {
            reopened.apply(Action::Timeline(TimelineAction::FastForwardFrame));
        }
        assert_eq!(reopened.now(), VirtualTime::from_millis(700));
        assert_eq!(reopened.session.borrow().log().len(), app.session.borrow().log().len());
        assert_eq!(reopened.notice.as_ref().unwrap().text, "Opened workspace 'S' at t = 0.700s");
    }

    /// A scenario saved far into its run: a long replay, done one animation frame at a time.
    fn far_doc() -> WorkspaceDoc {
        let text = r#"{"brokerlab": 2, "name": "Long", "duration": "2h",
            "definitions": {"queues": [{"name": "q", "vhost": "/", "durable": true, "auto_delete": false,
                                        "arguments": {}}]},
            "producers": [{"name": "p", "exchange": "", "routing_key": "q", "rate": 1}]}"#;
        let mut doc = WorkspaceDoc::manual("Long");
        doc.scenario = Some(text.to_string());
        doc.virtual_millis = 3_600_000;
        doc
    }

    #[test]
    fn reopening_a_run_saved_far_ahead_replays_in_frames_with_progress_and_cancel() {
        let mut app = AppState::default();
        let open = |app: &mut AppState| {
            app.apply(Action::Workspace(WorkspaceAction::Open {
                entry: entry("w3", "Long"),
                entries: vec![],
                doc: Box::new(far_doc()),
            }))
        };
        open(&mut app);
        assert_eq!(app.notice.as_ref().unwrap().kind, crate::state::NoticeKind::Info, "{:?}", app.notice);
        assert_eq!(app.now(), VirtualTime::ZERO, "nothing replayed in the action itself");
        let ff = app.timeline.fast_forward.clone().expect("a restore in frames");
        assert_eq!(ff.target, VirtualTime::from_millis(3_600_000));
        assert!(
            app.notice.as_ref().unwrap().text.starts_with("Restoring workspace 'Long'"),
            "{:?}",
            app.notice
        );
        app.apply(Action::Timeline(TimelineAction::FastForwardFrame));
        assert!(app.now() > VirtualTime::ZERO && app.now() < ff.target, "one chunk: {}", app.now());
        assert!(ff.percent(app.now()) < 100);
        assert_eq!(
            app.workspace_doc().virtual_millis,
            3_600_000,
            "a save meanwhile keeps the saved position"
        );
        app.apply(Action::Timeline(TimelineAction::CancelFastForward));
        assert!(app.timeline.fast_forward.is_none());
        assert!(app.notice.as_ref().unwrap().text.contains("cancelled"), "{:?}", app.notice);
        let stopped = app.now();
        assert_eq!(app.workspace_doc().virtual_millis, stopped.as_millis(), "it goes on from there");
        open(&mut app);
        let mut frames = 0;
        while app.timeline.fast_forward.is_some() {
            app.apply(Action::Timeline(TimelineAction::FastForwardFrame));
            frames += 1;
            assert!(frames < 1_000);
        }
        assert!(frames > 1, "{frames} frames");
        assert_eq!(app.now(), VirtualTime::from_millis(3_600_000));
    }

    #[test]
    fn reopening_a_hand_built_broker_counts_the_transient_messages_the_restart_dropped() {
        let mut app = AppState::default();
        app.apply(Action::LoadExample); // durable queues, transient messages
        let doc = app.workspace_doc();
        assert_eq!(doc.dropped_messages, 6, "3 publishes, each to a queue and to 'audit.log'");
        let mut reopened = AppState::default();
        reopened.apply(Action::Workspace(WorkspaceAction::Open {
            entry: entry("w1", "Demo"),
            entries: vec![],
            doc: Box::new(WorkspaceDoc::from_json(&doc.to_json()).unwrap()),
        }));
        let text = reopened.notice.clone().unwrap().text;
        assert!(text.contains("6 transient messages were dropped by the restart"), "{text}");
    }

    #[test]
    fn a_deleted_workspace_offers_undo_until_another_is_opened() {
        let mut app = AppState::default();
        app.apply(Action::Workspace(WorkspaceAction::Deleted("Demo".into())));
        assert_eq!(app.workspace.undo_delete.as_deref(), Some("Demo"));
        assert_eq!(app.notice.as_ref().unwrap().text, "Deleted workspace 'Demo'");
        app.apply(Action::Workspace(WorkspaceAction::UndoDone));
        assert!(app.workspace.undo_delete.is_none());
    }
}
