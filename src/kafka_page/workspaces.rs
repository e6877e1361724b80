//! The Kafka page's workspaces, in the store the RabbitMQ page keeps its own in (`crate::persist`: one
//! IndexedDB database, one schema, one list): a Kafka workspace is a [`WorkspaceDoc`] whose scenario is
//! a Kafka document (with the brokers the learner took down, as faults) and whose time is the page's.
//!
//! Invariants:
//! - Every save reads the list again first ([`catalog::open`]), so a workspace another tab added is kept,
//!   and a store written by a newer Brokerlab or damaged is reported and left untouched — nothing is
//!   written over it (the RabbitMQ page offers its export and reset).
//! - The Kafka page's last workspace is `last_kafka`; the RabbitMQ page's `last` is never changed here,
//!   so neither page sends the learner to the other when it loads.
//! - Reopening plays the document again to the saved time: the engine is deterministic, so the state
//!   seen is the one saved (the log's records, offsets, a broker down and what it lost).

use super::model::{KafkaSession, BUNDLED};
use crate::persist::catalog::{self, Index, StoreProblem};
use crate::persist::workspace::{Layout, WorkspaceDoc};
use crate::persist::{KvStore, Write};
use broker_core::scenario::document::ModelName;

/// The layout tab a Kafka workspace records.
pub const TAB: &str = "kafka";

impl KafkaSession {
    /// The session as a workspace named `name`: the document as played (the learner's clicks are in
    /// it as faults) and the page's time.
    pub fn to_workspace(&self, name: &str) -> WorkspaceDoc {
        let mut doc = WorkspaceDoc::manual(name);
        doc.scenario = Some(self.played_text());
        doc.virtual_millis = self.time_ms();
        doc.layout = Layout { tab: TAB.into(), ..Layout::default() };
        doc.operations =
            self.ops.iter().map(|a| serde_json::to_value(a).expect("an operation serialises")).collect();
        doc
    }

    /// Reopens a Kafka workspace: its document played again to its time (refused with the engine's
    /// error, `line:col`, when the document does not open).
    pub fn from_workspace(doc: &WorkspaceDoc) -> Result<KafkaSession, String> {
        let text = doc.scenario.as_deref().ok_or("the workspace holds no scenario document")?;
        let bundled = BUNDLED.iter().find(|b| b.text == text).map(|b| b.id);
        let mut session = KafkaSession::open(text, bundled)?;
        let mut ops = Vec::new();
        for (i, op) in doc.operations.iter().enumerate() {
            let applied: super::ops::Applied = serde_json::from_value(op.clone())
                .map_err(|e| format!("operations[{i}] is not an operation of the Kafka page: {e}"))?;
            ops.push(applied);
        }
        if !ops.is_empty() {
            session.set_ops(ops);
        }
        session.seek(doc.virtual_millis);
        Ok(session)
    }
}

/// What a stored workspace is for the Kafka page.
#[derive(Debug)]
pub enum Stored {
    /// A Kafka workspace, reopened at its time.
    Kafka(Box<KafkaSession>),
    /// Another model's workspace (a RabbitMQ scenario or manual broker): its page opens it.
    Elsewhere(ModelName),
    /// Not in the store (deleted in another tab).
    Missing,
}

/// The model a stored workspace is for.
pub fn model_of_workspace(doc: &WorkspaceDoc) -> ModelName {
    match doc.scenario.as_deref() {
        Some(text) => crate::shell::elsewhere(text, ModelName::Amqp).unwrap_or(ModelName::Amqp),
        None => ModelName::Amqp,
    }
}

/// The list (migrating an older store, reporting a newer or damaged one).
pub async fn list(store: &impl KvStore) -> Result<Index, StoreProblem> {
    catalog::open(store).await
}

/// Saves `doc` as workspace `id` (a new one when `None`) and makes it the Kafka page's last one; returns
/// its id and the list as written. A newer or damaged store is reported and left as it is.
pub async fn save(
    store: &impl KvStore,
    id: Option<&str>,
    doc: &WorkspaceDoc,
) -> Result<(String, Index), StoreProblem> {
    let mut index = catalog::open(store).await?;
    let id = match id {
        Some(id) => id.to_string(),
        None => index.new_id(),
    };
    let writes = catalog::save_kafka_writes(&mut index, &id, doc);
    store.write_batch(&writes).await?;
    Ok((id, index))
}

/// Reads workspace `id`: a Kafka one is reopened at its time (and becomes the Kafka page's last), another
/// model's is named for its page. A damaged record is reported, not changed.
pub async fn open(store: &impl KvStore, id: &str) -> Result<Stored, String> {
    let mut index = catalog::open(store).await.map_err(|p| p.to_string())?;
    let Some(doc) = catalog::load(store, id).await.map_err(|p| p.to_string())? else {
        return Ok(Stored::Missing);
    };
    match model_of_workspace(&doc) {
        ModelName::Kafka => {
            let session = KafkaSession::from_workspace(&doc)
                .map_err(|e| format!("Workspace '{}' cannot be opened: {e}. Nothing was run.", doc.name))?;
            index.last_kafka = Some(id.to_string());
            let write = Write::Put { key: catalog::INDEX_KEY.into(), json: index.to_json() };
            store.write_batch(&[write]).await.map_err(|e| e.to_string())?;
            Ok(Stored::Kafka(Box::new(session)))
        }
        model => Ok(Stored::Elsewhere(model)),
    }
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

/// How the page lists a workspace: its name, with the model's page when it is not Kafka's.
pub fn label(index: &Index, id: &str, name: &str) -> String {
    if index.kafka.iter().any(|k| k == id) {
        name.to_string()
    } else {
        format!("{name} (RabbitMQ page)")
    }
}

/// The RabbitMQ page opens its workspaces through its `last` one: the record of which is set before the
/// Kafka page navigates there (one write; the workspace itself is not touched).
pub async fn hand_to_rabbitmq(store: &impl KvStore, id: &str) -> Result<(), StoreProblem> {
    let mut index = catalog::open(store).await?;
    index.last = Some(id.to_string());
    store.write_batch(&[Write::Put { key: catalog::INDEX_KEY.into(), json: index.to_json() }]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::catalog::{Meta, INDEX_KEY, META_KEY, SCHEMA_VERSION};
    use crate::persist::MemoryStore;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// The memory store never waits: one poll finishes every future here.
    fn now<T>(f: impl Future<Output = T>) -> T {
        let mut cx = Context::from_waker(Waker::noop());
        match pin!(f).poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the memory store does not wait"),
        }
    }

    #[test]
    fn a_kafka_workspace_is_saved_listed_and_reopened_at_its_time_with_the_clicks() {
        let store = MemoryStore::default();
        let mut s = KafkaSession::bundled("replicas-broker-down").unwrap();
        s.seek(2_000);
        let leader = s.partitions()[0].leader.unwrap();
        s.toggle_broker(leader);
        s.seek(4_500);
        let (id, index) = now(save(&store, None, &s.to_workspace("Broker down"))).unwrap();
        assert_eq!(index.kafka, vec![id.clone()]);
        assert_eq!(index.last_kafka.as_deref(), Some(id.as_str()));
        assert_eq!(index.last, None, "the RabbitMQ page's last is not the Kafka page's");
        let Stored::Kafka(back) = now(open(&store, &id)).unwrap() else { panic!("a Kafka workspace") };
        assert_eq!(back.time_ms(), 4_500);
        assert_eq!(back.partitions(), s.partitions(), "the same leader, ISR and log");
        assert!(!back.brokers().iter().find(|b| b.id == leader).unwrap().up, "still down");
        // Saved again under the same id: one entry, renamed.
        let (again, index) = now(save(&store, Some(&id), &s.to_workspace("Renamed"))).unwrap();
        assert_eq!(again, id);
        assert_eq!(index.entries.len(), 1);
        assert_eq!(index.name_of(&id), Some("Renamed"));
        // A RabbitMQ workspace in the same list is for the RabbitMQ page.
        let mut rabbit = WorkspaceDoc::manual("Orders");
        rabbit.scenario = Some(crate::scenarios::BUNDLED[1].1.to_string());
        let mut index = now(list(&store)).unwrap();
        let rid = index.new_id();
        now(store.write_batch(&catalog::save_writes(&mut index, &rid, &rabbit))).unwrap();
        assert!(matches!(now(open(&store, &rid)).unwrap(), Stored::Elsewhere(ModelName::Amqp)));
        let index = now(list(&store)).unwrap();
        assert_eq!(label(&index, &rid, "Orders"), "Orders (RabbitMQ page)");
        assert_eq!(label(&index, &id, "Renamed"), "Renamed");
        now(hand_to_rabbitmq(&store, &rid)).unwrap();
        assert_eq!(now(list(&store)).unwrap().last.as_deref(), Some(rid.as_str()));
        // Deleted: gone from the list and from the Kafka page's last.
        let index = now(delete(&store, &id)).unwrap();
        assert_eq!(index.last_kafka, None);
        assert!(index.kafka.is_empty());
        assert!(matches!(now(open(&store, &id)).unwrap(), Stored::Missing));
    }

    #[test]
    fn a_newer_or_damaged_store_is_reported_and_not_written_over() {
        let s = KafkaSession::bundled("quickstart").unwrap();
        let store = MemoryStore::default();
        let newer = serde_json::to_string(&Meta { schema: SCHEMA_VERSION + 1 }).unwrap();
        now(store.put(META_KEY, &newer)).unwrap();
        now(store.put(INDEX_KEY, "{\"entries\":[],\"next_id\":0,\"future\":true}")).unwrap();
        let before = now(catalog::export_raw(&store)).unwrap();
        let e = now(save(&store, None, &s.to_workspace("W"))).unwrap_err();
        assert!(matches!(e, StoreProblem::Newer { .. }), "{e:?}");
        assert!(e.to_string().contains("newer Brokerlab"), "{e}");
        assert_eq!(now(catalog::export_raw(&store)).unwrap(), before, "nothing written");

        let store = MemoryStore::default();
        now(store.put(META_KEY, &serde_json::to_string(&Meta { schema: SCHEMA_VERSION }).unwrap())).unwrap();
        now(store.put(INDEX_KEY, "{not json")).unwrap();
        let before = now(catalog::export_raw(&store)).unwrap();
        let e = now(save(&store, None, &s.to_workspace("W"))).unwrap_err();
        assert!(matches!(e, StoreProblem::Corrupt { .. }), "{e:?}");
        assert!(e.to_string().contains("damaged"), "{e}");
        assert_eq!(now(catalog::export_raw(&store)).unwrap(), before, "nothing written");
        // A damaged workspace record is reported by name, and left.
        let store = MemoryStore::default();
        let (id, _) = now(save(&store, None, &s.to_workspace("W"))).unwrap();
        now(store.put(&catalog::workspace_key(&id), "{\"format\": 1")).unwrap();
        let e = now(open(&store, &id)).unwrap_err();
        assert!(e.contains("damaged") && e.contains(&catalog::workspace_key(&id)), "{e}");
    }
}
