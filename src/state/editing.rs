//! Editing: the scenario editor (the document and its scripts, with errors at their line),
//! `definitions.json` import, moving and replaying messages.
//!
//! The editor's texts live here as typed, so a refused document, a script that does not compile or a
//! bad definitions file is never lost: the error is shown next to the text, with its line and column.

use super::AppState;
use crate::session::editing::LocatedError;
use broker_core::amqp::{Delivery, MessageId};
use broker_core::scenario::document::locate;
use broker_core::scenario::sim::{SimOptions, Simulation};
use std::collections::BTreeMap;

/// This part's slice of the app state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EditState {
    /// The scenario document as typed; `None` until the user edits it (the editor then shows the loaded
    /// document, or in manual mode a document of the current broker).
    pub draft: Option<String>,
    /// Why the last "Apply" of the document was refused.
    pub document_error: Option<LocatedError>,
    /// The script being edited: its name and its text as typed.
    pub script: Option<(String, String)>,
    /// Why the script being edited was refused (its line and column are in the script).
    pub script_error: Option<LocatedError>,
    /// The definitions paste box, as typed.
    pub import_text: String,
    /// Why the last import was refused (located in the imported text).
    pub import_error: Option<LocatedError>,
    /// What the last import left out or could not enforce.
    pub import_warnings: Vec<String>,
    /// A message whose lineage is shown on its own (it has no delivery to show in the detail panel).
    pub lineage_of: Option<MessageId>,
}

/// This part's actions (dispatched as `Action::Edit`).
#[derive(Clone, Debug, PartialEq)]
pub enum EditAction {
    /// The document editor's text changed.
    EditDocument(String),
    /// Reloads the run from the document as typed; an error keeps the text and shows where it is.
    ApplyDocument,
    /// Drops the draft: the editor shows the loaded document again.
    RevertDocument,
    /// Puts a document of the current broker's topology in the editor (not applied).
    NewFromBroker,
    /// Starts editing one of the document's scripts.
    SelectScript(String),
    EditScript(String),
    /// Compiles the script being edited; if it compiles, puts it in the document and applies that.
    ApplyScript,
    EditImport(String),
    /// Imports a `definitions.json` (from the file picker or the paste box) into the current broker.
    ImportDefinitions(String),
    /// A file was handed to the user (the text says which).
    Downloaded(String),
    /// Moves the ready messages of a queue to another (a shovel, as the management UI does).
    MoveMessages {
        source: String,
        destination: String,
    },
    /// Republishes a message as it was delivered.
    Replay(Box<Delivery>),
    /// Shows the lineage of a message by its engine id (`m12`): the detail panel shows its last known
    /// delivery, or a bare lineage when the message is nowhere to be peeked.
    ShowLineage(MessageId),
}

impl AppState {
    pub(super) fn apply_editing(&mut self, action: EditAction) {
        match action {
            EditAction::EditDocument(text) => self.edit.draft = Some(text),
            EditAction::ApplyDocument => self.apply_document(),
            EditAction::RevertDocument => {
                self.edit.draft = None;
                self.edit.document_error = None;
            }
            EditAction::NewFromBroker => {
                let text = self.session.borrow().document_from_broker();
                self.edit.draft = Some(text);
                self.edit.document_error = None;
                self.info(
                    "A document of the current broker is in the editor: add actors and checks, then Apply",
                );
            }
            EditAction::SelectScript(name) => {
                let source = document_scripts(&self.document_text()).ok().and_then(|mut s| s.remove(&name));
                match source {
                    Some(source) => {
                        self.edit.script = Some((name, source));
                        self.edit.script_error = None;
                    }
                    None => self.error(format!("The document has no script '{name}'")),
                }
            }
            EditAction::EditScript(text) => {
                if let Some((_, source)) = &mut self.edit.script {
                    *source = text;
                }
            }
            EditAction::ApplyScript => self.apply_script(),
            EditAction::EditImport(text) => self.edit.import_text = text,
            EditAction::ImportDefinitions(text) => self.import_definitions(&text),
            EditAction::Downloaded(text) => self.info(text),
            EditAction::MoveMessages { source, destination } => {
                let result = self.session.borrow_mut().move_messages(&source, &destination);
                match result {
                    Ok(outcome) => {
                        let declared = if outcome.declared_destination {
                            format!(" (the shovel declared queue '{destination}')")
                        } else {
                            String::new()
                        };
                        self.info(format!(
                            "Moved {} from '{source}' to '{destination}'{declared}",
                            super::count(outcome.moved.into(), "message", "messages")
                        ));
                        self.peeked = None;
                    }
                    Err(e) => self.error(e),
                }
            }
            EditAction::Replay(delivery) => {
                let result = self.session.borrow_mut().replay(&delivery);
                match result {
                    Ok(()) => {
                        let exchange = if delivery.exchange.is_empty() {
                            "the default exchange".to_string()
                        } else {
                            format!("exchange '{}'", delivery.exchange)
                        };
                        self.info(format!(
                            "Replayed {} to {exchange} with key '{}'",
                            delivery.message, delivery.routing_key
                        ));
                    }
                    Err(e) => self.error(e.to_string()),
                }
            }
            EditAction::ShowLineage(message) => {
                let session = self.session.borrow();
                let delivery = session.last_delivery(message);
                let logged = delivery.is_some() || !session.lineage(message).is_empty();
                drop(session);
                self.edit.lineage_of = None;
                match delivery {
                    Some(d) => self.message = Some(Box::new(d)),
                    None if logged => {
                        self.message = None;
                        self.edit.lineage_of = Some(message);
                    }
                    None => self.error(format!("No message {message} in the event log")),
                }
            }
        }
    }

    /// The document the editor shows: the draft, else the loaded document, else the current broker's.
    pub fn document_text(&self) -> String {
        if let Some(draft) = &self.edit.draft {
            return draft.clone();
        }
        let session = self.session.borrow();
        match session.document_text() {
            Some(text) => text.to_string(),
            None => session.document_from_broker(),
        }
    }

    fn apply_document(&mut self) {
        let text = self.document_text();
        let options = SimOptions { scripts: crate::scripting::factory(), ..SimOptions::default() };
        match Simulation::from_json(&text, options) {
            Ok(_) => {
                self.load_document(&text);
                self.edit.draft = None;
                self.edit.document_error = None;
                if self.edit.script.is_some() {
                    self.edit.script_error = None;
                }
            }
            Err(e) => {
                let error = LocatedError::new(e.pos.line, e.pos.col, e.message);
                self.error(format!("This scenario cannot be loaded: {error}"));
                // A script that does not compile: open it in the script editor with its own position.
                if let Some(name) = error.message.strip_prefix("scripts.").and_then(|m| m.split(':').next()) {
                    if let Ok(mut scripts) = document_scripts(&text) {
                        if let Some(source) = scripts.remove(name) {
                            self.edit.script_error = compile_script(name, &source).err();
                            self.edit.script = Some((name.to_string(), source));
                        }
                    }
                }
                self.edit.draft = Some(text);
                self.edit.document_error = Some(error);
            }
        }
    }

    fn apply_script(&mut self) {
        let Some((name, source)) = self.edit.script.clone() else { return };
        if let Err(e) = compile_script(&name, &source) {
            self.error(format!("Script '{name}' does not compile: {e}"));
            self.edit.script_error = Some(e);
            return;
        }
        self.edit.script_error = None;
        match replace_script(&self.document_text(), &name, &source) {
            Ok(text) => {
                self.edit.draft = Some(text);
                self.apply_document();
            }
            Err(e) => self.error(e),
        }
    }

    fn import_definitions(&mut self, text: &str) {
        let result = self.session.borrow_mut().import_definitions(text);
        match result {
            Ok(report) => {
                let count = |n: usize, one: &str, many: &str| super::count(n as u64, one, many);
                self.info(format!(
                    "Imported definitions.json: {}, {}, {}{}",
                    count(report.exchanges.len(), "exchange", "exchanges"),
                    count(report.queues.len(), "queue", "queues"),
                    count(report.bindings, "binding", "bindings"),
                    if report.warnings.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", count(report.warnings.len(), "warning", "warnings"))
                    }
                ));
                self.edit.import_error = None;
                self.edit.import_warnings = report.warnings;
            }
            Err(e) => {
                self.error(format!("definitions.json was not imported, nothing changed: {e}"));
                self.edit.import_text = text.to_string();
                self.edit.import_error = Some(e);
                self.edit.import_warnings.clear();
            }
        }
    }
}

/// Compiles a script as the simulation will, for its errors at their line and column in the script.
pub fn compile_script(name: &str, source: &str) -> Result<(), LocatedError> {
    crate::scripting::factory().check(name, source).map_err(|e| LocatedError::new(e.line, e.col, e.message))
}

/// The `scripts` map of a document, by name.
pub fn document_scripts(text: &str) -> Result<BTreeMap<String, String>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut scripts = BTreeMap::new();
    if let Some(map) = value.get("scripts").and_then(|s| s.as_object()) {
        for (name, source) in map {
            if let Some(source) = source.as_str() {
                scripts.insert(name.clone(), source.to_string());
            }
        }
    }
    Ok(scripts)
}

/// The document with script `name`'s text replaced by `source`, the rest of the text untouched (its
/// layout and key order are the user's).
pub fn replace_script(text: &str, name: &str, source: &str) -> Result<String, String> {
    let no_script = || format!("The document has no script '{name}' to replace");
    let pos = locate(text, &format!("scripts.{name}")).ok_or_else(no_script)?;
    let start = byte_offset(text, pos.line, pos.col).ok_or_else(no_script)?;
    let literal = &text[start..];
    if !literal.starts_with('"') {
        return Err(format!("scripts.{name} is not a string"));
    }
    // The end of the JSON string: the first unescaped quote after the opening one.
    let mut escaped = false;
    let mut end = None;
    for (i, b) in literal.bytes().enumerate().skip(1) {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => {
                end = Some(i + 1);
                break;
            }
            _ => {}
        }
    }
    let end = end.ok_or_else(|| format!("scripts.{name}: the string does not end"))?;
    let encoded = serde_json::to_string(source).expect("a string always encodes");
    Ok(format!("{}{encoded}{}", &text[..start], &literal[end..]))
}

/// The byte offset of a 1-based line and column (columns count characters).
fn byte_offset(text: &str, line: u32, col: u32) -> Option<usize> {
    let line_start =
        if line <= 1 { 0 } else { text.match_indices('\n').nth(line as usize - 2).map(|(i, _)| i + 1)? };
    let rest = &text[line_start..];
    rest.char_indices().nth(col.saturating_sub(1) as usize).map(|(i, _)| line_start + i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{FieldRow, PublishForm, QueueForm, ValueKind};
    use crate::session::Session;
    use crate::state::{Action, NoticeKind};
    use broker_core::amqp::{Event, FieldValue, Method, Reply};

    fn state() -> AppState {
        AppState::new(Session::new(7))
    }

    fn declare(s: &mut AppState, name: &str, arguments: Vec<FieldRow>) {
        let form = QueueForm { name: name.into(), arguments, ..QueueForm::default() };
        s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Declared".into() });
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
    }

    fn publish(s: &mut AppState, exchange: &str, key: &str, body: &str) {
        let form = PublishForm {
            exchange: exchange.into(),
            routing_key: key.into(),
            body: body.into(),
            ..PublishForm::default()
        };
        s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Published".into() });
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
    }

    fn bodies(s: &AppState, queue: &str) -> Vec<String> {
        let peeked = s.session.borrow().broker().peek(queue).unwrap_or_default();
        peeked.into_iter().map(|d| String::from_utf8(d.body).unwrap()).collect()
    }

    fn edit(s: &mut AppState, action: EditAction) {
        s.apply(Action::Edit(action));
    }

    #[test]
    fn move_keeps_order_counts_and_properties() {
        let mut s = state();
        declare(&mut s, "from", Vec::new());
        declare(&mut s, "to", Vec::new());
        publish(&mut s, "", "to", "already there");
        for i in 1..=5 {
            let form = PublishForm {
                routing_key: "from".into(),
                body: format!("m{i}"),
                priority: "3".into(),
                headers: vec![FieldRow::new("trace", ValueKind::String, &format!("t{i}"))],
                ..PublishForm::default()
            };
            s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Published".into() });
        }
        edit(&mut s, EditAction::MoveMessages { source: "from".into(), destination: "to".into() });
        let notice = s.notice.clone().unwrap();
        assert_eq!(notice.kind, NoticeKind::Info, "{notice:?}");
        assert!(notice.text.starts_with("Moved 5 messages from 'from' to 'to'"), "{}", notice.text);
        assert!(bodies(&s, "from").is_empty());
        assert_eq!(bodies(&s, "to"), ["already there", "m1", "m2", "m3", "m4", "m5"]);
        let moved = s.session.borrow().broker().peek("to").unwrap();
        assert_eq!(moved[1].properties.priority, Some(3), "properties kept");
        assert_eq!(moved[5].properties.headers.get("trace"), Some(&FieldValue::Str("t5".into())));
        assert_eq!(moved[1].exchange, "", "republished to the default exchange");
        assert_eq!(moved[1].routing_key, "to", "with the destination's name as the key");
        // The shovel acked every message at the source and closed its connection.
        let session = s.session.borrow();
        assert_eq!(session.counters("from").acked, 5);
        assert!(session.connections().values().all(|c| !c.name.starts_with("Shovel")));
        assert!(session.log().iter().any(|e| matches!(&e.event,
            Event::ConnectionOpened { name, .. } if &**name == "Shovel 'Move from from'")));
    }

    #[test]
    fn move_declares_a_missing_destination_and_refuses_a_missing_source() {
        let mut s = state();
        declare(&mut s, "from", Vec::new());
        publish(&mut s, "", "from", "x");
        edit(&mut s, EditAction::MoveMessages { source: "from".into(), destination: "new".into() });
        assert!(
            s.notice.as_ref().unwrap().text.contains("the shovel declared queue 'new'"),
            "{:?}",
            s.notice
        );
        assert_eq!(bodies(&s, "new"), ["x"]);
        let new = s.session.borrow().broker().queue("new").unwrap();
        assert!(new.info.durable);
        edit(&mut s, EditAction::MoveMessages { source: "nope".into(), destination: "new".into() });
        let notice = s.notice.clone().unwrap();
        assert_eq!(notice.kind, NoticeKind::Error);
        assert!(notice.text.starts_with("404 NOT_FOUND - no queue 'nope'"), "{}", notice.text);
        edit(&mut s, EditAction::MoveMessages { source: "new".into(), destination: "new".into() });
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Error);
        assert_eq!(bodies(&s, "new"), ["x"]);
    }

    #[test]
    fn replay_routes_like_the_original() {
        let mut s = state();
        s.apply(Action::LoadExample);
        // The example routes order.eu.* to orders.eu and everything to the audit exchange's queue.
        let original = s.session.borrow().broker().peek("orders.eu").unwrap()[0].clone();
        let eu_before = bodies(&s, "orders.eu").len();
        let audit_enqueued = s.session.borrow().counters("audit.log").enqueued;
        edit(&mut s, EditAction::Replay(Box::new(original.clone())));
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
        let eu = s.session.borrow().broker().peek("orders.eu").unwrap();
        assert_eq!(eu.len(), eu_before + 1);
        let copy = eu.last().unwrap();
        assert_eq!((copy.exchange.as_str(), copy.routing_key.as_str()), ("orders", "order.eu.created"));
        assert_eq!((&copy.body, &copy.properties), (&original.body, &original.properties));
        assert_ne!(copy.message, original.message, "a new publish, a new identity");
        assert_eq!(s.session.borrow().counters("audit.log").enqueued, audit_enqueued + 1, "and via audit");
        // The copy's lineage starts with the original's publish.
        let lineage = s.session.borrow().lineage(copy.message);
        assert_eq!(lineage[0].message, original.message);
        let copy_publish = lineage.iter().find(|l| l.message == copy.message).unwrap();
        assert_eq!(
            copy_publish.copy_of,
            Some((original.message, crate::session::editing::Republished::Replayed))
        );
        // Replaying to an exchange that is gone is refused with RabbitMQ's error.
        s.apply(Action::Apply {
            method: Method::ExchangeDelete { exchange: "orders".into(), if_unused: false },
            done: "Deleted".into(),
        });
        edit(&mut s, EditAction::Replay(Box::new(original)));
        let notice = s.notice.clone().unwrap();
        assert_eq!(notice.kind, NoticeKind::Error);
        assert!(notice.text.starts_with("404 NOT_FOUND - no exchange 'orders'"), "{}", notice.text);
    }

    #[test]
    fn lineage_of_a_dead_lettered_then_redelivered_message_lists_every_step_in_order() {
        let mut s = state();
        declare(&mut s, "dlq", Vec::new());
        declare(
            &mut s,
            "work",
            vec![
                FieldRow::new("x-dead-letter-exchange", ValueKind::String, ""),
                FieldRow::new("x-dead-letter-routing-key", ValueKind::String, "dlq"),
            ],
        );
        publish(&mut s, "", "work", "job");
        let get = |s: &mut AppState, queue: &str| match s
            .session
            .borrow_mut()
            .ui_apply(Method::BasicGet { queue: queue.into(), auto_ack: false })
        {
            Ok(Reply::BasicGetOk(d)) => *d,
            other => panic!("{other:?}"),
        };
        let d = get(&mut s, "work");
        let ui = |s: &mut AppState, m: Method| s.session.borrow_mut().ui_apply(m).unwrap();
        ui(&mut s, Method::BasicReject { delivery_tag: d.delivery_tag, requeue: false });
        let d2 = get(&mut s, "dlq");
        assert_eq!(d2.message, d.message, "dead-lettering keeps the identity");
        ui(&mut s, Method::BasicNack { delivery_tag: d2.delivery_tag, multiple: false, requeue: true });
        let d3 = get(&mut s, "dlq");
        assert!(d3.redelivered);
        ui(&mut s, Method::BasicAck { delivery_tag: d3.delivery_tag, multiple: false });
        // Another message in between must not show up.
        publish(&mut s, "", "dlq", "other");
        let lineage = s.session.borrow().lineage(d.message);
        let kinds: Vec<&str> = lineage.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                "published",
                "routed",
                "enqueued",
                "delivered",
                "rejected",
                "dead_lettered",
                "routed",
                "enqueued",
                "delivered",
                "nacked",
                "requeued",
                "delivered",
                "acked"
            ],
            "{lineage:#?}"
        );
        assert!(lineage.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(lineage[5].text.contains("from queue 'work' (rejected)"), "{}", lineage[5].text);
        assert!(lineage[7].text.contains("queue 'dlq'"));
        assert!(lineage[11].text.contains("redelivered=true"));
        // The detail panel finds the message by its id.
        edit(&mut s, EditAction::ShowLineage(d.message));
        assert_eq!(s.message.as_ref().unwrap().message, d.message);
        assert_eq!(s.edit.lineage_of, None);
        // One never delivered and gone (unroutable) has a lineage of its own; an unknown id is refused.
        publish(&mut s, "", "nowhere", "lost");
        let lost = MessageId(d.message.0 + 2);
        edit(&mut s, EditAction::ShowLineage(lost));
        assert_eq!((s.message.as_ref(), s.edit.lineage_of), (None, Some(lost)));
        assert_eq!(s.session.borrow().lineage(lost).last().map(|l| l.kind), Some("dropped"));
        edit(&mut s, EditAction::ShowLineage(MessageId(999)));
        assert!(s.notice.as_ref().unwrap().text.starts_with("No message m999"));
    }

    #[test]
    fn lineage_follows_a_move() {
        let mut s = state();
        declare(&mut s, "a", Vec::new());
        publish(&mut s, "", "a", "one");
        let original = s.session.borrow().broker().peek("a").unwrap()[0].message;
        edit(&mut s, EditAction::MoveMessages { source: "a".into(), destination: "b".into() });
        let moved = s.session.borrow().broker().peek("b").unwrap()[0].message;
        let from_original = s.session.borrow().lineage(original);
        let from_copy = s.session.borrow().lineage(moved);
        assert_eq!(from_original, from_copy, "one family, seen from either end");
        let kinds: Vec<(u64, &str)> = from_copy.iter().map(|l| (l.message.0, l.kind)).collect();
        let (o, m) = (original.0, moved.0);
        assert_eq!(
            kinds,
            [
                (o, "published"),
                (o, "routed"),
                (o, "enqueued"),
                (o, "delivered"),
                (m, "published"),
                (m, "routed"),
                (m, "enqueued"),
                (o, "acked"),
            ]
        );
    }

    #[test]
    fn a_bad_document_keeps_the_text_and_shows_line_and_column() {
        let mut s = state();
        s.apply(Action::LoadScenario("01-hello-world".into()));
        let loaded = s.document_text();
        assert_eq!(Some(loaded.as_str()), crate::scenarios::bundled_text("01-hello-world"));
        // A syntax error on line 3: a missing comma.
        let broken = loaded.replacen("\"name\"", "\"name\" \"oops\"", 1);
        let line = broken.lines().position(|l| l.contains("oops")).unwrap() as u32 + 1;
        edit(&mut s, EditAction::EditDocument(broken.clone()));
        edit(&mut s, EditAction::ApplyDocument);
        let error = s.edit.document_error.clone().expect("refused");
        assert_eq!(error.line, line, "{error}");
        assert!(error.col > 0);
        assert_eq!(s.document_text(), broken, "the text is kept as typed");
        let notice = s.notice.clone().unwrap();
        assert_eq!(notice.kind, NoticeKind::Error);
        assert!(notice.text.contains(&format!("{line}:{}:", error.col)), "{}", notice.text);
        assert_eq!(s.session.borrow().document_text(), Some(loaded.as_str()), "the run is untouched");
        // A semantic error is located at the offending value.
        let unknown_queue = loaded.replacen("\"queue\": \"hello\"", "\"queue\": \"nowhere\"", 1);
        assert_ne!(unknown_queue, loaded);
        edit(&mut s, EditAction::EditDocument(unknown_queue.clone()));
        edit(&mut s, EditAction::ApplyDocument);
        let error = s.edit.document_error.clone().expect("refused");
        let expected = unknown_queue.lines().position(|l| l.contains("nowhere")).unwrap() as u32 + 1;
        assert_eq!(error.line, expected, "{error}");
        // Fixed: it loads, and the draft is the loaded document.
        let fixed = loaded.replacen("\"seed\": 1", "\"seed\": 5", 1);
        edit(&mut s, EditAction::EditDocument(fixed.clone()));
        edit(&mut s, EditAction::ApplyDocument);
        assert!(s.edit.document_error.is_none());
        assert_eq!(s.edit.draft, None);
        assert_eq!(s.session.borrow().document_text(), Some(fixed.as_str()));
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
    }

    #[test]
    fn a_script_error_is_at_its_line_and_a_fixed_script_goes_into_the_document() {
        let mut s = state();
        s.apply(Action::LoadScenario("09-poison-message".into()));
        let scripts = document_scripts(&s.document_text()).unwrap();
        let (name, source) = scripts.iter().next().expect("the poison scenario has a script");
        edit(&mut s, EditAction::SelectScript(name.clone()));
        assert_eq!(s.edit.script, Some((name.clone(), source.clone())));
        let broken = format!("{source}\nlet x = ;\n");
        let line = broken.lines().position(|l| l == "let x = ;").unwrap() as u32 + 1;
        edit(&mut s, EditAction::EditScript(broken.clone()));
        edit(&mut s, EditAction::ApplyScript);
        let error = s.edit.script_error.clone().expect("does not compile");
        assert_eq!(error.line, line, "{error}");
        assert_eq!(s.edit.script.as_ref().unwrap().1, broken, "kept as typed");
        // Fixed: the document gets the script, the rest of the text as it was.
        let fixed = format!("// tried and fixed\n{source}");
        edit(&mut s, EditAction::EditScript(fixed.clone()));
        edit(&mut s, EditAction::ApplyScript);
        assert!(s.edit.script_error.is_none(), "{:?}", s.edit.script_error);
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
        let text = s.session.borrow().document_text().unwrap().to_string();
        assert_eq!(document_scripts(&text).unwrap()[name], fixed);
        let original = crate::scenarios::bundled_text("09-poison-message").unwrap();
        assert_eq!(text.lines().count(), original.lines().count(), "only the script's string changed");
        // A script broken inside the document opens in the script editor at its own line.
        let in_document = replace_script(&text, name, "fn on_message(msg) {\n  let = 1;\n}").unwrap();
        edit(&mut s, EditAction::EditDocument(in_document));
        edit(&mut s, EditAction::ApplyDocument);
        assert!(s.edit.document_error.as_ref().unwrap().message.starts_with(&format!("scripts.{name}")));
        assert_eq!(s.edit.script_error.as_ref().map(|e| e.line), Some(2), "{:?}", s.edit.script_error);
    }

    #[test]
    fn definitions_export_and_import_round_trip_and_a_bad_file_changes_nothing() {
        let mut s = state();
        s.apply(Action::LoadExample);
        let exported = s.session.borrow().export_definitions();
        assert!(exported.contains("\"orders.dead\""));
        let mut fresh = state();
        edit(&mut fresh, EditAction::ImportDefinitions(exported.clone()));
        assert_eq!(fresh.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", fresh.notice);
        assert_eq!(fresh.session.borrow().export_definitions(), exported, "the same topology");
        // A syntax error: located, nothing changed.
        let mut other = state();
        declare(&mut other, "kept", Vec::new());
        let before = other.session.borrow().export_definitions();
        let bad = "{\n  \"queues\": [\n    {\"name\": \"q\",, }\n  ]\n}";
        edit(&mut other, EditAction::ImportDefinitions(bad.into()));
        let error = other.edit.import_error.clone().expect("refused");
        assert_eq!((error.line, error.col), (3, 18), "{error}: the second comma");
        assert_eq!(other.edit.import_text, bad, "kept for fixing");
        // A refused entity (an argument RabbitMQ refuses), after a valid one: nothing at all is declared.
        let refused = r#"{
  "queues": [
    {"name": "fine", "vhost": "/", "durable": true, "auto_delete": false, "arguments": {}},
    {"name": "bad", "vhost": "/", "durable": true, "auto_delete": false,
     "arguments": {"x-max-length": -1}}
  ]
}"#;
        edit(&mut other, EditAction::ImportDefinitions(refused.into()));
        let error = other.edit.import_error.clone().expect("refused");
        assert!(error.message.starts_with("queues[1] 'bad': "), "{error}");
        assert_eq!(error.line, 4, "{error}");
        assert_eq!(other.notice.as_ref().unwrap().kind, NoticeKind::Error);
        assert_eq!(other.session.borrow().export_definitions(), before, "nothing changed");
        assert!(other.session.borrow().broker().queue("fine").is_none());
    }

    #[test]
    fn new_from_broker_is_a_document_that_loads() {
        let mut s = state();
        s.apply(Action::LoadExample);
        edit(&mut s, EditAction::NewFromBroker);
        edit(&mut s, EditAction::ApplyDocument);
        assert_eq!(s.notice.as_ref().unwrap().kind, NoticeKind::Info, "{:?}", s.notice);
        let session = s.session.borrow();
        assert!(session.scenario().is_some());
        assert!(session.broker().queue("orders.dead").is_some());
    }

    #[test]
    fn replace_script_keeps_the_rest_of_the_text() {
        let text = "{\n  \"scripts\": {\n    \"a\": \"old \\\"quoted\\\"\",\n    \"b\": \"x\"\n  }\n}";
        let replaced = replace_script(text, "a", "new\nline").unwrap();
        assert_eq!(replaced, "{\n  \"scripts\": {\n    \"a\": \"new\\nline\",\n    \"b\": \"x\"\n  }\n}");
        assert!(replace_script(text, "missing", "x").is_err());
    }
}
