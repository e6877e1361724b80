//! Waiting for the scripting engine: this part's slice of the state.
//!
//! Every way a document reaches the app — the bundled picker, a document from a file, the editor's
//! Apply, a stored workspace or permalink being opened, the embed API — is an action that ends in a new
//! session built from the document. Those actions pass [`AppState::admit`] first: if the document has
//! scripts and the scripting engine ([`crate::scripting`]) is not loaded yet, the action is parked here
//! with a "Loading the scripting engine…" notice and a new request number, the app's loader effect awaits
//! the module and answers with [`ScriptingAction::Finished`], and the parked action runs then. Until then,
//! and for good if the load fails, the page keeps what it showed. Documents without scripts never wait
//! and never load the module.

use super::{Action, AppState};
use crate::state::editing::EditAction;
use crate::state::workspace::WorkspaceAction;
use std::borrow::Cow;

/// This part's slice of the app state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScriptingState {
    /// The action waiting for the engine (the latest one: a newer document replaces it).
    pub waiting: Option<Box<Action>>,
    /// Counts the loads asked for; the loader effect runs on each new number, and a finished load only
    /// releases the action that asked for it.
    pub request: u64,
}

/// This part's actions (dispatched as `Action::Scripting`).
#[derive(Clone, Debug, PartialEq)]
pub enum ScriptingAction {
    /// The load asked for as `request` finished: `Err` is why the engine could not be loaded.
    Finished { request: u64, result: Result<(), String> },
}

/// The loading notice (the end-to-end test waits for it).
pub const LOADING_NOTICE: &str = "Loading the scripting engine…";

impl AppState {
    /// The document an action would open, if it opens one.
    fn document_of(&self, action: &Action) -> Option<Cow<'static, str>> {
        match action {
            Action::LoadScenario(id) => crate::scenarios::bundled_text(id).map(Cow::Borrowed),
            Action::LoadDocument(text) => Some(Cow::Owned(text.clone())),
            Action::Edit(EditAction::ApplyDocument | EditAction::ApplyScript) => {
                Some(Cow::Owned(self.document_text()))
            }
            Action::Workspace(WorkspaceAction::Open { doc, .. }) => doc.scenario.clone().map(Cow::Owned),
            _ => None,
        }
    }

    /// Lets an action through, or parks it until the scripting engine is loaded (then `None`). A document
    /// being opened also drops whatever was waiting: the user's latest choice wins.
    pub(super) fn admit(&mut self, action: Action) -> Option<Action> {
        let Some(text) = self.document_of(&action) else { return Some(action) };
        self.scripting.waiting = None;
        if crate::scripting::ready() || !crate::scripting::needs_engine(&text) {
            return Some(action);
        }
        self.scripting.waiting = Some(Box::new(action));
        self.scripting.request += 1;
        self.info(LOADING_NOTICE);
        None
    }

    pub(super) fn apply_scripting(&mut self, action: ScriptingAction) {
        match action {
            ScriptingAction::Finished { request, result } => {
                if request != self.scripting.request {
                    return; // an earlier load: the action waiting asked for a later one
                }
                let Some(waiting) = self.scripting.waiting.take() else { return };
                match result {
                    // Ready now, so the action goes through `admit` and runs.
                    Ok(()) => self.apply(*waiting),
                    Err(e) => self.error(format!(
                        "This document has scripts, and {e}. Nothing was opened: the page is as it was."
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::QueueForm;
    use crate::session::Session;
    use crate::state::NoticeKind;

    /// A state whose scripting engine is still to be loaded (the native build has its host built in,
    /// so this pretends; reset when dropped).
    struct Unloaded(AppState);

    impl Drop for Unloaded {
        fn drop(&mut self) {
            crate::scripting::pretend_unloaded(false);
        }
    }

    fn unloaded() -> Unloaded {
        crate::scripting::pretend_unloaded(true);
        let mut s = AppState::new(Session::new(7));
        let form = QueueForm { name: "kept".into(), ..QueueForm::default() };
        s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Declared".into() });
        Unloaded(s)
    }

    fn kept(s: &AppState) -> bool {
        s.session.borrow().scenario().is_none() && s.session.borrow().broker().queue("kept").is_some()
    }

    #[test]
    fn a_document_without_scripts_opens_at_once_and_asks_for_no_engine() {
        let mut s = unloaded();
        s.0.apply(Action::LoadScenario("02-work-queues".into()));
        assert_eq!(s.0.scripting.request, 0, "no load asked for");
        assert!(s.0.notice.as_ref().unwrap().text.starts_with("Loaded scenario"), "{:?}", s.0.notice);
    }

    #[test]
    fn a_scripted_document_waits_for_the_engine_then_opens() {
        let mut s = unloaded();
        let v = s.0.version;
        s.0.apply(Action::LoadScenario("09-poison-message".into()));
        assert_eq!(s.0.notice.as_ref().unwrap().text, LOADING_NOTICE);
        assert_eq!(s.0.scripting.request, 1);
        assert!(kept(&s.0), "nothing replaced while loading");
        assert_eq!(s.0.version, v);
        crate::scripting::pretend_unloaded(false);
        // An earlier request's answer releases nothing.
        s.0.apply(Action::Scripting(ScriptingAction::Finished { request: 0, result: Ok(()) }));
        assert!(kept(&s.0));
        s.0.apply(Action::Scripting(ScriptingAction::Finished { request: 1, result: Ok(()) }));
        assert!(s.0.scripting.waiting.is_none());
        let name = s.0.session.borrow().scenario().map(|i| i.name.clone());
        assert!(name.is_some_and(|n| n.contains("oison")), "opened");
        assert!(s.0.notice.as_ref().unwrap().text.starts_with("Loaded scenario"), "{:?}", s.0.notice);
    }

    #[test]
    fn a_failed_load_keeps_the_page_as_it_was_and_says_which_file() {
        let mut s = unloaded();
        s.0.apply(Action::LoadScenario("08-retry-with-dlx".into()));
        let why = "the scripting engine could not be loaded: lazy/brokerlab_scripts.js: HTTP 404";
        s.0.apply(Action::Scripting(ScriptingAction::Finished { request: 1, result: Err(why.into()) }));
        let notice = s.0.notice.clone().unwrap();
        assert_eq!(notice.kind, NoticeKind::Error);
        assert!(notice.text.contains("lazy/brokerlab_scripts.js: HTTP 404"), "{}", notice.text);
        assert!(kept(&s.0));
        assert!(s.0.scripting.waiting.is_none());
        // The page keeps working: a document without scripts opens.
        s.0.apply(Action::LoadScenario("01-hello-world".into()));
        assert!(s.0.session.borrow().scenario().is_some());
    }

    #[test]
    fn a_newer_document_replaces_the_one_waiting() {
        let mut s = unloaded();
        s.0.apply(Action::LoadScenario("09-poison-message".into()));
        s.0.apply(Action::LoadScenario("01-hello-world".into()));
        assert!(s.0.scripting.waiting.is_none(), "the user's latest choice wins");
        crate::scripting::pretend_unloaded(false);
        s.0.apply(Action::Scripting(ScriptingAction::Finished { request: 1, result: Ok(()) }));
        let name = s.0.session.borrow().scenario().map(|i| i.name.clone()).unwrap();
        assert!(name.contains("Hello"), "{name}");
    }

    #[test]
    fn the_editor_and_a_stored_workspace_wait_too() {
        let mut s = unloaded();
        let text = crate::scenarios::bundled_text("09-poison-message").unwrap();
        s.0.apply(Action::Edit(EditAction::EditDocument(text.into())));
        s.0.apply(Action::Edit(EditAction::ApplyDocument));
        assert_eq!(s.0.scripting.request, 1);
        assert!(kept(&s.0));
        let mut doc = crate::persist::workspace::WorkspaceDoc::manual("w");
        doc.scenario = Some(text.into());
        let entry = crate::persist::catalog::Entry { id: "w1".into(), name: "w".into() };
        s.0.apply(Action::Workspace(WorkspaceAction::Open { entry, entries: vec![], doc: Box::new(doc) }));
        assert_eq!(s.0.scripting.request, 2);
        assert!(kept(&s.0));
        crate::scripting::pretend_unloaded(false);
        s.0.apply(Action::Scripting(ScriptingAction::Finished { request: 2, result: Ok(()) }));
        assert_eq!(s.0.workspace.current.as_ref().map(|e| e.id.as_str()), Some("w1"));
        assert!(s.0.session.borrow().scenario().is_some());
    }
}
