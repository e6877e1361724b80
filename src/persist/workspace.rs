//! A workspace as stored in IndexedDB and as a file: which scenario (its document text) or a manual broker
//! with its durable image, the timeline position and the layout.
//!
//! A manual workspace keeps only what RabbitMQ keeps across a restart ([`DurableImage`]): reopening it is
//! a node restart. A scenario workspace keeps its document and the virtual time: reopening replays the
//! deterministic run to that instant.
//!
//! The durable image is a type parameter: the RabbitMQ page reads it as a [`DurableImage`] (the default),
//! the other models' pages keep it as JSON they never read (`crate::persist::pages::PageDoc`), so their
//! modules do not carry the AMQP image's reader only to recognise a RabbitMQ workspace and hand it over;
//! a damaged image is refused, with its line and column, by the page that opens it.

use broker_core::amqp::durable::DurableImage;
use broker_core::scenario::MAX_TIME_MILLIS;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The workspace document's format; a newer one is reported, not read.
pub const WORKSPACE_FORMAT: u32 = 1;

/// The largest workspace file accepted on import (bytes).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// Tab, theme and speed, by their stable ids.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Layout {
    pub tab: String,
    pub theme: String,
    pub speed: f64,
}

impl Default for Layout {
    fn default() -> Self {
        Layout { tab: "queues".into(), theme: "system".into(), speed: 1.0 }
    }
}

/// One workspace; `Image` is how the page reading it takes a manual broker's durable state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "Image: Deserialize<'de>"))]
pub struct WorkspaceDoc<Image = DurableImage> {
    pub format: u32,
    pub name: String,
    /// The scenario document (JSON text) when the workspace plays one; `None`: a manual broker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// A manual broker's durable state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// The timeline position (virtual milliseconds).
    #[serde(default)]
    pub virtual_millis: u64,
    /// A manual broker's messages that the durable image does not keep (transient messages, messages
    /// in non-durable queues) when it was saved: reopening says how many the restart dropped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_messages: u64,
    #[serde(default)]
    pub layout: Layout,
    /// The RabbitMQ version the broker imitates (`rabbit_version` of its definitions export), so a file
    /// says what it models; informative, not checked on reading.
    #[serde(default = "imitated_version")]
    pub rabbitmq_version: String,
    /// What the learner did from the Kafka page's forms, each with its instant (the Kafka page's
    /// `ops::Applied`, kept as JSON here so the store does not depend on a model): reopening does them
    /// again at their instants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<serde_json::Value>,
}

/// The version written into workspaces: the engine's, as in its `definitions.json` export.
pub fn imitated_version() -> String {
    broker_core::amqp::definitions::EXPORT_RABBIT_VERSION.to_string()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl<Image> WorkspaceDoc<Image> {
    /// An empty manual workspace.
    pub fn manual(name: &str) -> Self {
        WorkspaceDoc {
            format: WORKSPACE_FORMAT,
            name: name.to_string(),
            scenario: None,
            image: None,
            virtual_millis: 0,
            dropped_messages: 0,
            layout: Layout::default(),
            rabbitmq_version: imitated_version(),
            operations: Vec::new(),
        }
    }
}

impl<Image: Serialize + DeserializeOwned> WorkspaceDoc<Image> {
    /// Reads a stored or exported workspace; refuses newer formats and oversized text.
    pub fn from_json(text: &str) -> Result<Self, String> {
        if text.len() > MAX_FILE_BYTES {
            return Err(format!(
                "the workspace is {} bytes; at most {MAX_FILE_BYTES} are accepted",
                text.len()
            ));
        }
        // A byte-order mark (a file saved by a Windows editor) is ignored, as in every other input.
        let text = broker_core::scenario::strip_bom(text);
        let doc: WorkspaceDoc<Image> =
            serde_json::from_str(text).map_err(|e| format!("not a Brokerlab workspace: {e}"))?;
        if doc.format > WORKSPACE_FORMAT {
            return Err(format!(
                "workspace format {} was written by a newer Brokerlab (this one reads up to {WORKSPACE_FORMAT})",
                doc.format
            ));
        }
        if doc.name.chars().count() > 200 {
            return Err("the workspace name is longer than 200 characters".into());
        }
        // Reopening replays the run to this position: a time no scenario can reach is refused here.
        if doc.virtual_millis > MAX_TIME_MILLIS {
            return Err(format!(
                "the workspace's time position ({} ms) is past the latest time a run can reach, {MAX_TIME_MILLIS} \
                 ms (about 285,000 years)",
                doc.virtual_millis
            ));
        }
        Ok(doc)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a workspace serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type WorkspaceDoc = super::WorkspaceDoc<DurableImage>;

    #[test]
    fn a_workspace_round_trips_and_newer_or_garbage_is_refused() {
        let mut doc = WorkspaceDoc::manual("orders <b>demo</b>");
        doc.virtual_millis = 1234;
        doc.scenario = Some("{}".into());
        assert_eq!(WorkspaceDoc::from_json(&doc.to_json()), Ok(doc.clone()));
        doc.format = WORKSPACE_FORMAT + 1;
        let err = WorkspaceDoc::from_json(&doc.to_json()).unwrap_err();
        assert!(err.contains("newer Brokerlab"), "{err}");
        assert!(WorkspaceDoc::from_json("{\"format\":1")
            .unwrap_err()
            .starts_with("not a Brokerlab workspace"));
    }
}
