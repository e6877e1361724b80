//! The Kafka page's workspaces, in the store the RabbitMQ page keeps its own in (`crate::persist::pages`,
//! shared with the SQS page): a Kafka workspace is a [`PageDoc`] whose scenario is a Kafka document
//! (with the brokers the learner took down, as faults), whose time is the page's and whose operations are
//! the learner's from the page's forms, each at its instant. Reopening plays the document again to the
//! saved time: the engine is deterministic, so the state seen is the one saved (the log's records,
//! offsets, a broker down and what it lost).

use super::model::{KafkaSession, BUNDLED};
use crate::persist::pages::{self, PageDoc, PageSession};
use broker_core::scenario::document::ModelName;

/// The layout tab a Kafka workspace records.
pub const TAB: &str = "kafka";

impl PageSession for KafkaSession {
    const MODEL: ModelName = ModelName::Kafka;
    const ID_PREFIX: &'static str = "kafka";

    fn title(&self) -> String {
        self.name().to_string()
    }

    /// The session as a workspace named `name`: the document as played (the learner's clicks are in
    /// it as faults) and the page's time.
    fn to_workspace(&self, name: &str) -> PageDoc {
        pages::page_doc(name, self.played_text(), self.time_ms(), TAB, &self.ops)
    }

    /// Reopens a Kafka workspace: its document played again to its time (refused with the engine's
    /// error, `line:col`, when the document does not open).
    fn from_workspace(doc: &PageDoc) -> Result<KafkaSession, String> {
        let text = doc.scenario.as_deref().ok_or("the workspace holds no scenario document")?;
        let print = super::model::fingerprint(text);
        let bundled = BUNDLED.iter().find(|b| b.fingerprint == print).map(|b| b.id);
        let mut session = KafkaSession::open(text, bundled)?;
        let ops = pages::read_ops::<super::ops::KafkaOp>(doc, "an operation of the Kafka page")?;
        if !ops.is_empty() {
            session.set_ops(ops);
        }
        session.seek(doc.virtual_millis);
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::catalog::{self, Meta, StoreProblem, INDEX_KEY, META_KEY, SCHEMA_VERSION};
    use crate::persist::pages::{delete, label, list, Stored};
    use crate::persist::workspace::WorkspaceDoc;
    use crate::persist::{KvStore, MemoryStore};
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

    async fn save(
        store: &MemoryStore,
        id: Option<&str>,
        doc: &PageDoc,
    ) -> Result<(String, catalog::Index), StoreProblem> {
        crate::persist::pages::save(store, ModelName::Kafka, id, doc).await
    }

    async fn open(store: &MemoryStore, id: &str) -> Result<Stored<KafkaSession>, String> {
        crate::persist::pages::open::<KafkaSession>(store, id).await
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
        let Stored::Mine(back) = now(open(&store, &id)).unwrap() else { panic!("a Kafka workspace") };
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
        assert_eq!(label(&index, ModelName::Kafka, &rid, "Orders"), "Orders (RabbitMQ page)");
        assert_eq!(label(&index, ModelName::Kafka, &id, "Renamed"), "Renamed");
        let query =
            now(crate::persist::pages::hand_over(&store, ModelName::Amqp, &rid, "brokerlab-t")).unwrap();
        assert_eq!(query, "?db=t");
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

    /// A RabbitMQ workspace whose durable image is damaged (the bad-input case `workspace/image-garbage`):
    /// this page does not read the image, so it recognises the workspace as the RabbitMQ page's, hands it
    /// over whole (store and link alike), and the RabbitMQ page's reader refuses it with the line and column.
    #[test]
    fn a_damaged_rabbitmq_image_is_handed_over_and_refused_by_the_rabbitmq_page() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-input/workspace");
        let text = std::fs::read_to_string(root.join("image-garbage.json")).unwrap();
        let expected = std::fs::read_to_string(root.join("image-garbage.expected")).unwrap();
        let store = MemoryStore::default();
        let mut index = now(list(&store)).unwrap();
        let id = index.new_id();
        index.upsert(&id, "w");
        now(store.put(&catalog::workspace_key(&id), &text)).unwrap();
        now(store.put(INDEX_KEY, &index.to_json())).unwrap();
        assert!(matches!(now(open(&store, &id)).unwrap(), Stored::Elsewhere(ModelName::Amqp)));
        let link = crate::persist::permalink::encode_workspace(&text).unwrap();
        let super::super::model::Opening::Forward { model, fragment } = super::super::model::open_link(&link)
        else {
            panic!("handed over")
        };
        assert_eq!(model, ModelName::Amqp);
        let Ok(Some(crate::persist::permalink::Link::Workspace(there))) =
            crate::persist::permalink::decode_link(&fragment)
        else {
            panic!("a workspace link")
        };
        let refused =
            WorkspaceDoc::<broker_core::amqp::durable::DurableImage>::from_json(&there).unwrap_err();
        assert_eq!(format!("refused: {refused}"), expected.trim_end());
    }
}
