//! The store's schema: a `meta` record with the schema version, a `workspaces` index (names, the last
//! one opened) and one `workspace/<id>` record per workspace. Opening checks the version and migrates an
//! older store forward in one atomic batch; a newer or corrupt store is reported and left untouched,
//! so the user can export its raw records before resetting it.

use super::pages::PageDoc;
use super::workspace::WorkspaceDoc;
use super::{KvStore, PersistError, Write};
use broker_core::scenario::document::ModelName;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The schema this build writes. Version 0 is the unversioned store of the first prototype (bare
/// `workspace/<id>` records, no index); [`migrate`] brings any older store here.
pub const SCHEMA_VERSION: u32 = 1;

pub const META_KEY: &str = "meta";
pub const INDEX_KEY: &str = "workspaces";

pub fn workspace_key(id: &str) -> String {
    format!("workspace/{id}")
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub schema: u32,
}

/// One workspace in the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub name: String,
}

/// The list of workspaces.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub entries: Vec<Entry>,
    /// The workspace open last (reopened on load).
    pub last: Option<String>,
    /// The next id handed out (`w<n>`).
    pub next_id: u64,
    /// The workspaces that hold a Kafka document (the Kafka page's; listed on both pages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kafka: Vec<String>,
    /// The Kafka workspace open last on the Kafka page (reopened there); `last` stays the RabbitMQ
    /// page's, so neither page sends the learner to the other on load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_kafka: Option<String>,
    /// The workspaces that hold an SQS document (the SQS page's), as `kafka` is for Kafka.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sqs: Vec<String>,
    /// The SQS workspace open last on the SQS page (reopened there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sqs: Option<String>,
    /// The workspaces that hold a Redis document (the Redis page's), as `kafka` is for Kafka.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redis: Vec<String>,
    /// The Redis workspace open last on the Redis page (reopened there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_redis: Option<String>,
}

impl Index {
    /// A fresh id (never reused, even after a delete).
    pub fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("w{}", self.next_id)
    }

    pub fn name_of(&self, id: &str) -> Option<&str> {
        self.entries.iter().find(|e| e.id == id).map(|e| e.name.as_str())
    }

    /// Adds or renames `id`.
    pub fn upsert(&mut self, id: &str, name: &str) {
        match self.entries.iter_mut().find(|e| e.id == id) {
            Some(e) => e.name = name.to_string(),
            None => self.entries.push(Entry { id: id.to_string(), name: name.to_string() }),
        }
    }

    pub fn remove(&mut self, id: &str) {
        self.entries.retain(|e| e.id != id);
        self.kafka.retain(|k| k != id);
        self.sqs.retain(|k| k != id);
        self.redis.retain(|k| k != id);
        for model in [ModelName::Kafka, ModelName::Sqs, ModelName::Redis] {
            if self.last_of(model) == Some(id) {
                *self.last_of_mut(model) = None;
            }
        }
        if self.last.as_deref() == Some(id) {
            let next = self.entries.iter().find(|e| self.model_of(&e.id) == ModelName::Amqp);
            self.last = next.map(|e| e.id.clone());
        }
    }

    /// The model whose page a listed workspace is for (unlisted ones are the RabbitMQ page's).
    pub fn model_of(&self, id: &str) -> ModelName {
        if self.kafka.iter().any(|k| k == id) {
            ModelName::Kafka
        } else if self.sqs.iter().any(|k| k == id) {
            ModelName::Sqs
        } else if self.redis.iter().any(|k| k == id) {
            ModelName::Redis
        } else {
            ModelName::Amqp
        }
    }

    /// The workspace `model`'s page opened last (reopened there on load).
    pub fn last_of(&self, model: ModelName) -> Option<&str> {
        match model {
            ModelName::Amqp => self.last.as_deref(),
            ModelName::Kafka => self.last_kafka.as_deref(),
            ModelName::Sqs => self.last_sqs.as_deref(),
            ModelName::Redis => self.last_redis.as_deref(),
        }
    }

    pub fn last_of_mut(&mut self, model: ModelName) -> &mut Option<String> {
        match model {
            ModelName::Amqp => &mut self.last,
            ModelName::Kafka => &mut self.last_kafka,
            ModelName::Sqs => &mut self.last_sqs,
            ModelName::Redis => &mut self.last_redis,
        }
    }

    /// Lists `id` as `model`'s workspace (and as no other's), keeping its place when it already is.
    fn mark(&mut self, model: ModelName, id: &str) {
        for (list, of) in [
            (&mut self.kafka, ModelName::Kafka),
            (&mut self.sqs, ModelName::Sqs),
            (&mut self.redis, ModelName::Redis),
        ] {
            if of != model {
                list.retain(|k| k != id);
            } else if !list.iter().any(|k| k == id) {
                list.push(id.to_string());
            }
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the index serialises")
    }
}

/// Why the store cannot be used as it is. The store is left untouched in every case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreProblem {
    /// Written by a newer Brokerlab.
    Newer { found: u32 },
    /// A record that cannot be read.
    Corrupt { key: String, reason: String },
    /// IndexedDB itself failed (unavailable, private mode, …).
    Unavailable(String),
}

impl fmt::Display for StoreProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreProblem::Newer { found } => write!(
                f,
                "Saved workspaces were written by a newer Brokerlab (store schema {found}; this version reads \
                 up to {SCHEMA_VERSION}). They are left untouched: export them, or reset to start afresh."
            ),
            StoreProblem::Corrupt { key, reason } => write!(
                f,
                "The saved workspaces are damaged (record '{key}': {reason}). They are left untouched: export \
                 them, or reset to start afresh."
            ),
            StoreProblem::Unavailable(e) => write!(f, "Workspaces cannot be saved in this browser: {e}"),
        }
    }
}

impl From<PersistError> for StoreProblem {
    fn from(e: PersistError) -> Self {
        StoreProblem::Unavailable(e.0)
    }
}

/// Reads the index, migrating an older store (one atomic batch); reports a newer or corrupt one.
pub async fn open(store: &impl KvStore) -> Result<Index, StoreProblem> {
    let meta = match store.get(META_KEY).await? {
        Some(text) => serde_json::from_str::<Meta>(&text)
            .map_err(|e| StoreProblem::Corrupt { key: META_KEY.into(), reason: e.to_string() })?,
        None => Meta { schema: 0 },
    };
    if meta.schema > SCHEMA_VERSION {
        return Err(StoreProblem::Newer { found: meta.schema });
    }
    if meta.schema < SCHEMA_VERSION {
        let mut records = BTreeMap::new();
        for key in store.keys().await? {
            if let Some(v) = store.get(&key).await? {
                records.insert(key, v);
            }
        }
        let writes = migrate(meta.schema, &records)?;
        store.write_batch(&writes).await?;
    }
    let text = store.get(INDEX_KEY).await?.unwrap_or_else(|| Index::default().to_json());
    serde_json::from_str(&text)
        .map_err(|e| StoreProblem::Corrupt { key: INDEX_KEY.into(), reason: e.to_string() })
}

/// The writes that bring a store at schema `from` to [`SCHEMA_VERSION`] (each step in turn).
pub fn migrate(from: u32, records: &BTreeMap<String, String>) -> Result<Vec<Write>, StoreProblem> {
    let mut writes = Vec::new();
    if from == 0 {
        // 0 → 1: index the bare workspace records (their name from the document, else the key).
        let mut index = Index::default();
        for (key, text) in records.range("workspace/".to_string()..) {
            let Some(id) = key.strip_prefix("workspace/") else { break };
            let name = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_string))
                .unwrap_or_else(|| id.to_string());
            index.upsert(id, &name);
            if let Some(n) = id.strip_prefix('w').and_then(|n| n.parse::<u64>().ok()) {
                index.next_id = index.next_id.max(n);
            }
        }
        index.last = index.entries.first().map(|e| e.id.clone());
        writes.push(Write::Put { key: INDEX_KEY.into(), json: index.to_json() });
    }
    let meta = Meta { schema: SCHEMA_VERSION };
    writes.push(Write::Put { key: META_KEY.into(), json: serde_json::to_string(&meta).expect("meta") });
    Ok(writes)
}

/// Reads one workspace as the RabbitMQ page does (its durable image read); a damaged record is a
/// [`StoreProblem::Corrupt`] (left as it is).
pub async fn load(store: &impl KvStore, id: &str) -> Result<Option<WorkspaceDoc>, StoreProblem> {
    load_as(store, id).await
}

/// [`load`] with the durable image read as `Image` (another page's [`super::pages::PageDoc`] keeps it as
/// JSON).
pub async fn load_as<Image: Serialize + DeserializeOwned>(
    store: &impl KvStore,
    id: &str,
) -> Result<Option<WorkspaceDoc<Image>>, StoreProblem> {
    let key = workspace_key(id);
    match store.get(&key).await? {
        None => Ok(None),
        Some(text) => {
            WorkspaceDoc::from_json(&text).map(Some).map_err(|reason| StoreProblem::Corrupt { key, reason })
        }
    }
}

/// Every record as raw text, keyed (the "export" offered for a store that cannot be read).
pub async fn export_raw(store: &impl KvStore) -> Result<String, PersistError> {
    let mut records = serde_json::Map::new();
    for key in store.keys().await? {
        if let Some(v) = store.get(&key).await? {
            records.insert(key, serde_json::Value::String(v));
        }
    }
    Ok(serde_json::to_string_pretty(&serde_json::Value::Object(records)).expect("strings serialise"))
}

/// Deletes every record and writes a fresh schema (the "reset" offered for a bad store), atomically.
pub async fn reset(store: &impl KvStore) -> Result<Index, PersistError> {
    let mut writes: Vec<Write> = store.keys().await?.into_iter().map(|key| Write::Delete { key }).collect();
    writes.push(Write::Put { key: INDEX_KEY.into(), json: Index::default().to_json() });
    let meta = Meta { schema: SCHEMA_VERSION };
    writes.push(Write::Put { key: META_KEY.into(), json: serde_json::to_string(&meta).expect("meta") });
    store.write_batch(&writes).await?;
    Ok(Index::default())
}

/// The writes that save `doc` as workspace `id` and make it the last one opened (one batch).
pub fn save_writes(index: &mut Index, id: &str, doc: &WorkspaceDoc) -> [Write; 2] {
    index.upsert(id, &doc.name);
    index.last = Some(id.to_string());
    [
        Write::Put { key: workspace_key(id), json: doc.to_json() },
        Write::Put { key: INDEX_KEY.into(), json: index.to_json() },
    ]
}

/// A model page's [`save_writes`]: `doc` (holding `model`'s document) is saved as workspace `id`, listed
/// as that model's workspace and made that page's last one; the other pages' last ones are left alone.
pub fn save_page_writes(index: &mut Index, model: ModelName, id: &str, doc: &PageDoc) -> [Write; 2] {
    index.upsert(id, &doc.name);
    index.mark(model, id);
    *index.last_of_mut(model) = Some(id.to_string());
    [
        Write::Put { key: workspace_key(id), json: doc.to_json() },
        Write::Put { key: INDEX_KEY.into(), json: index.to_json() },
    ]
}
