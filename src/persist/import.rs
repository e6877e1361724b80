//! Import: which of the files the app writes a chosen file is. The workspace bar's Import accepts each of
//! them — a workspace export (`*.brokerlab.json`), a scenario document (`"brokerlab": 2`, from the editor or
//! the bundled tutorials) and a RabbitMQ `definitions.json` (the Scenario tab's export, or the management
//! UI's) — and says which it found.
//!
//! Invariant: recognising a file only looks at its top-level keys; whether its content loads is decided by
//! the same parsers as everywhere else (workspace, document, definitions), so an import is never more
//! lenient than opening the same thing another way.

use super::workspace::{WorkspaceDoc, MAX_FILE_BYTES};
use broker_core::amqp::durable::DurableImage;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What an imported file turned out to be; a workspace's durable image read as `Image` (as in
/// [`WorkspaceDoc`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Found<Image = DurableImage> {
    /// A workspace export (its format is checked).
    Workspace(Box<WorkspaceDoc<Image>>),
    /// A scenario document: the text, and its name when it has one.
    Scenario { text: String, name: String },
    /// A RabbitMQ `definitions.json` (the text).
    Definitions(String),
}

impl<Image> Found<Image> {
    /// What was found, for the notice ("a scenario document 'Work queues'").
    pub fn describe(&self) -> String {
        match self {
            Found::Workspace(doc) => format!("a Brokerlab workspace '{}'", doc.name),
            Found::Scenario { name, .. } if name.is_empty() => "a scenario document".to_string(),
            Found::Scenario { name, .. } => format!("a scenario document '{name}'"),
            Found::Definitions(_) => "a RabbitMQ definitions.json".to_string(),
        }
    }
}

/// Keys only a RabbitMQ definitions file has at its top level (`rabbit_definitions` export).
const DEFINITIONS_KEYS: &[&str] = &[
    "rabbit_version",
    "rabbitmq_version",
    "product_name",
    "vhosts",
    "users",
    "permissions",
    "policies",
    "queues",
    "exchanges",
    "bindings",
    "parameters",
    "global_parameters",
];

/// Recognises `text` as one of the files the app writes. A file that is none of them (or not JSON) is
/// refused with what was expected.
pub fn detect(text: &str) -> Result<Found, String> {
    detect_as(text)
}

/// [`detect`] with a workspace's durable image read as `Image` (the other pages' `PageDoc` keeps it as JSON).
pub fn detect_as<Image: Serialize + DeserializeOwned>(text: &str) -> Result<Found<Image>, String> {
    if text.len() > MAX_FILE_BYTES {
        return Err(format!("the file is {} bytes; at most {MAX_FILE_BYTES} are accepted", text.len()));
    }
    // Editors on Windows write a byte-order mark; JSON parsers refuse it, the user cannot see it.
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| {
        format!("it is not JSON ({e}); Import opens a workspace export, a scenario document or a definitions.json")
    })?;
    let Some(object) = value.as_object() else {
        return Err(
            "it is JSON but not an object; Import opens a workspace export, a scenario document or a \
                    definitions.json"
                .into(),
        );
    };
    if object.contains_key("brokerlab") {
        let name = object.get("name").and_then(|n| n.as_str()).unwrap_or_default().to_string();
        return Ok(Found::Scenario { text: body.to_string(), name });
    }
    let workspace_keys = ["format", "image", "scenario", "virtual_millis", "layout"];
    if object.contains_key("format")
        && workspace_keys.iter().filter(|k| object.contains_key(**k)).count() >= 2
    {
        return WorkspaceDoc::from_json(body).map(|doc| Found::Workspace(Box::new(doc)));
    }
    if DEFINITIONS_KEYS.iter().any(|k| object.contains_key(*k)) {
        return Ok(Found::Definitions(body.to_string()));
    }
    Err("it is none of the files Brokerlab writes: a workspace export (\"format\" and \"image\" or \
         \"scenario\"), a scenario document (\"brokerlab\": 2) or a RabbitMQ definitions.json (\"queues\", \
         \"exchanges\", \"bindings\"…)"
        .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;
    #[test]
    fn every_file_the_app_writes_is_recognised() {
        // A workspace export, as the Export button writes it.
        let mut app = crate::state::AppState::default();
        app.apply(crate::state::Action::LoadExample);
        let workspace = app.workspace_doc().to_json();
        assert!(matches!(detect(&workspace), Ok(Found::Workspace(doc)) if doc.image.is_some()));
        // A bundled scenario document, and one the editor made from the broker.
        let (_, tutorial) = crate::scenarios::BUNDLED[1];
        let found = detect(tutorial).unwrap();
        assert_eq!(found.describe(), "a scenario document '2. Work queues'");
        let from_broker = app.session.borrow().document_from_broker();
        assert!(matches!(detect(&from_broker), Ok(Found::Scenario { .. })));
        // The definitions export (with a byte-order mark, as some editors save it).
        let definitions = app.session.borrow().export_definitions();
        let found = detect(&format!("\u{feff}{definitions}")).unwrap();
        assert_eq!(found.describe(), "a RabbitMQ definitions.json");
        let Found::Definitions(text) = found else { unreachable!() };
        assert!(Session::new(1).import_definitions(&text).is_ok(), "what is handed on imports");
    }

    #[test]
    fn anything_else_is_refused_saying_what_is_expected() {
        for (text, expected) in [
            ("not json", "it is not JSON"),
            ("[1, 2]", "not an object"),
            (r#"{"hello": 1}"#, "none of the files Brokerlab writes"),
            (r#"{"format": 99, "name": "w", "image": null}"#, "newer Brokerlab"),
        ] {
            let e = detect(text).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
    }
}
