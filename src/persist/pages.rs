//! The workspaces of a model's own page (Kafka, SQS, Redis), in the store the RabbitMQ page keeps its own in
//! (one IndexedDB database, one schema, one list): a page's workspace is a [`WorkspaceDoc`] whose scenario
//! is that model's document and whose time is the page's. Each page brings its session as a
//! [`PageSession`] (how it becomes a workspace and comes back from one); the store's side is written once
//! here, and the bar that shows it once in `crate::ws_bar`.
//!
//! Invariants:
//! - Every save reads the list again first ([`catalog::open`]), so a workspace another tab added is kept,
//!   and a store written by a newer Brokerlab or damaged is reported and left untouched — nothing is
//!   written over it (the RabbitMQ page offers its export and reset).
//! - Each page has its own last workspace ([`Index::last_of`]); saving or opening on one page never changes
//!   another's, so no page sends the learner to another when it loads.
//! - Reopening plays the document again to the saved time with the learner's operations at their
//!   instants: the engine is deterministic, so the state seen is the one saved.
//! - These pages read a workspace as a [`PageDoc`]: a RabbitMQ workspace's durable image stays JSON they
//!   neither read nor write back, so they only recognise such a workspace and hand it to the RabbitMQ page,
//!   which refuses a damaged image (with its line and column) when it opens it.

use super::catalog::{self, Index, StoreProblem};
use super::workspace::{Layout, WorkspaceDoc};
use super::{KvStore, Write};
use crate::shell::Applied;
use broker_core::scenario::document::{model_of, ModelName};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A workspace as a model's own page reads and writes it: a RabbitMQ workspace's durable image kept as the
/// JSON it is (never read here; the RabbitMQ page's [`WorkspaceDoc`] reads it).
pub type PageDoc = WorkspaceDoc<Value>;

/// What a model's page keeps in a workspace.
pub trait PageSession: Sized {
    /// The page's model (never [`ModelName::Amqp`]: the RabbitMQ page keeps its own workspaces).
    const MODEL: ModelName;
    /// The prefix of the page's element ids (`kafka` gives `#kafka-ws-name`).
    const ID_PREFIX: &'static str;
    /// What the page calls its document (the name field starts with it).
    fn title(&self) -> String;
    /// The session as a workspace named `name`: the document as played, the page's time and the
    /// learner's operations with their instants.
    fn to_workspace(&self, name: &str) -> PageDoc;
    /// Reopens a workspace of this model at its time (refused with a sentence when it does not open).
    fn from_workspace(doc: &PageDoc) -> Result<Self, String>;
}

/// A page's session as a workspace named `name`: its document as played, its time (ms), its layout tab
/// and the learner's operations at their instants (kept as JSON, so the store names no model).
pub fn page_doc<Op: Serialize>(
    name: &str,
    scenario: String,
    virtual_millis: u64,
    tab: &str,
    ops: &[Applied<Op>],
) -> PageDoc {
    let mut doc = PageDoc::manual(name);
    doc.scenario = Some(scenario);
    doc.virtual_millis = virtual_millis;
    doc.layout = Layout { tab: tab.into(), ..Layout::default() };
    doc.operations = ops.iter().map(|a| serde_json::to_value(a).expect("an operation serialises")).collect();
    doc
}

/// A workspace's operations read back as the page's `Op`s, in their order; one that is not (`what`, e.g.
/// "an operation of the Kafka page") is refused with its place and serde's reason.
pub fn read_ops<Op: DeserializeOwned>(doc: &PageDoc, what: &str) -> Result<Vec<Applied<Op>>, String> {
    let mut ops = Vec::with_capacity(doc.operations.len());
    for (i, op) in doc.operations.iter().enumerate() {
        let applied =
            Applied::<Op>::deserialize(op).map_err(|e| format!("operations[{i}] is not {what}: {e}"))?;
        ops.push(applied);
    }
    Ok(ops)
}

/// What a stored workspace is for a page.
#[derive(Debug)]
pub enum Stored<S> {
    /// This page's workspace, reopened at its time.
    Mine(Box<S>),
    /// Another model's workspace: its page opens it.
    Elsewhere(ModelName),
    /// Not in the store (deleted in another tab).
    Missing,
}

/// The model a stored workspace is for (a manual broker is RabbitMQ's).
pub fn model_of_workspace<Image>(doc: &WorkspaceDoc<Image>) -> ModelName {
    doc.scenario.as_deref().and_then(|text| model_of(text).ok()).unwrap_or(ModelName::Amqp)
}

/// The list (migrating an older store, reporting a newer or damaged one).
pub async fn list(store: &impl KvStore) -> Result<Index, StoreProblem> {
    catalog::open(store).await
}

/// Saves `doc` (a `model` workspace) as workspace `id` (a new one when `None`) and makes it that page's
/// last one; returns its id and the list as written. A newer or damaged store is reported and left as it is.
pub async fn save(
    store: &impl KvStore,
    model: ModelName,
    id: Option<&str>,
    doc: &PageDoc,
) -> Result<(String, Index), StoreProblem> {
    let mut index = catalog::open(store).await?;
    let id = match id {
        Some(id) => id.to_string(),
        None => index.new_id(),
    };
    let writes = catalog::save_page_writes(&mut index, model, &id, doc);
    store.write_batch(&writes).await?;
    Ok((id, index))
}

/// Reads workspace `id`: one of `S`'s model is reopened at its time (and becomes that page's last),
/// another model's is named for its page. A damaged record is reported, not changed.
pub async fn open<S: PageSession>(store: &impl KvStore, id: &str) -> Result<Stored<S>, String> {
    let mut index = catalog::open(store).await.map_err(|p| p.to_string())?;
    let Some(doc) = catalog::load_as::<Value>(store, id).await.map_err(|p| p.to_string())? else {
        return Ok(Stored::Missing);
    };
    let model = model_of_workspace(&doc);
    if model != S::MODEL {
        return Ok(Stored::Elsewhere(model));
    }
    let session = S::from_workspace(&doc)
        .map_err(|e| format!("Workspace '{}' cannot be opened: {e}. Nothing was run.", doc.name))?;
    *index.last_of_mut(S::MODEL) = Some(id.to_string());
    let write = Write::Put { key: catalog::INDEX_KEY.into(), json: index.to_json() };
    store.write_batch(&[write]).await.map_err(|e| e.to_string())?;
    Ok(Stored::Mine(Box::new(session)))
}

/// Deletes workspace `id` (one batch: its record and the list without it).
pub async fn delete(store: &impl KvStore, id: &str) -> Result<Index, StoreProblem> {
    let mut index = catalog::open(store).await?;
    index.remove(id);
    let writes = [
        Write::Delete { key: catalog::workspace_key(id) },
        Write::Put { key: catalog::INDEX_KEY.into(), json: index.to_json() },
    ];
    store.write_batch(&writes).await?;
    Ok(index)
}

/// How `here`'s page lists a workspace: its name, with the model's page when it is another's.
pub fn label(index: &Index, here: ModelName, id: &str, name: &str) -> String {
    let model = index.model_of(id);
    if model == here {
        name.to_string()
    } else {
        format!("{name} ({} page)", crate::shell::page_name(model))
    }
}

/// Hands workspace `id`, another model's, to its page: the address (query) that opens it there. The
/// RabbitMQ page opens its workspaces through its `last` one, which is set first (one write; the
/// workspace itself is not touched); the other pages open `?ws=`.
pub async fn hand_over(
    store: &impl KvStore,
    model: ModelName,
    id: &str,
    database: &str,
) -> Result<String, StoreProblem> {
    if model == ModelName::Amqp {
        let mut index = catalog::open(store).await?;
        index.last = Some(id.to_string());
        store.write_batch(&[Write::Put { key: catalog::INDEX_KEY.into(), json: index.to_json() }]).await?;
    }
    Ok(crate::shell::workspace_query(model, id, database))
}
