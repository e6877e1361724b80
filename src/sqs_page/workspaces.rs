//! The SQS page's workspaces, in the store every page keeps its own in (`crate::persist::pages`, shared
//! with the Kafka page): an SQS workspace is a [`PageDoc`] whose scenario is an SQS document, whose
//! time is the page's and whose operations are the learner's calls by hand (send, receive, delete, change
//! visibility), each at its instant. Reopening plays the document again to the saved time with those calls
//! at their instants: the engine is deterministic, so the state seen is the one saved — every queue's
//! messages and their visibility clocks, and the receipt handles the receives by hand returned.

use super::model::{SqsSession, BUNDLED};
use super::ops::SqsOp;
use crate::persist::pages::{self, PageDoc, PageSession};
use broker_core::scenario::document::ModelName;

/// The layout tab an SQS workspace records.
pub const TAB: &str = "sqs";

impl PageSession for SqsSession {
    const MODEL: ModelName = ModelName::Sqs;
    const ID_PREFIX: &'static str = "sqs";

    fn title(&self) -> String {
        self.name().to_string()
    }

    fn to_workspace(&self, name: &str) -> PageDoc {
        pages::page_doc(name, self.text.clone(), self.time_ms(), TAB, &self.ops)
    }

    /// Reopens an SQS workspace: its document played again to its time with the calls by hand (refused
    /// with the engine's error, `line:col`, when the document does not open, or naming the operation that
    /// is not one of the page's).
    fn from_workspace(doc: &PageDoc) -> Result<SqsSession, String> {
        let text = doc.scenario.as_deref().ok_or("the workspace holds no scenario document")?;
        let bundled = BUNDLED.iter().find(|b| b.text == text).map(|b| b.id);
        let mut session = SqsSession::open(text, bundled)?;
        let ops = pages::read_ops::<SqsOp>(doc, "an operation of the SQS page")?;
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
    use crate::persist::pages::{self, delete, label, list, Stored};
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
        pages::save(store, ModelName::Sqs, id, doc).await
    }

    async fn open(store: &MemoryStore, id: &str) -> Result<Stored<SqsSession>, String> {
        pages::open::<SqsSession>(store, id).await
    }

    /// The dead-letter tutorial with calls by hand on `payments-dlq` (no consumer of the document polls
    /// it): a message sent at 0 (before the run's own step there), received at 2 s with a 30 s visibility
    /// timeout, the page then at 7 s: in flight with 25 s left.
    fn by_hand() -> SqsSession {
        let mut s = SqsSession::bundled("dead-letter-queue-and-redrive").unwrap();
        s.operate(SqsOp::Send {
            queue: "payments-dlq".into(),
            body: "order-42 by hand".into(),
            attributes: vec![("kind".into(), "demo".into())],
            delay_seconds: None,
            group_id: None,
            deduplication_id: None,
        })
        .unwrap();
        s.seek(2_000);
        s.operate(SqsOp::Receive {
            queue: "payments-dlq".into(),
            max_number_of_messages: Some(10),
            visibility_timeout: Some(30),
            wait_time_seconds: None,
        })
        .unwrap();
        s.seek(7_000);
        s
    }

    #[test]
    fn an_sqs_workspace_is_saved_listed_and_reopened_at_its_time_with_the_calls_by_hand() {
        let store = MemoryStore::default();
        let s = by_hand();
        assert_eq!(s.ops.len(), 2);
        let received = s.hand_received();
        assert_eq!(received.len(), 1, "the receive by hand returned the message");
        assert_eq!(received[0].remaining_ms, 25_000, "in flight, 25 s of its 30 s left");
        let (id, index) = now(save(&store, None, &s.to_workspace("By hand"))).unwrap();
        assert_eq!(index.sqs, vec![id.clone()]);
        assert_eq!(index.last_sqs.as_deref(), Some(id.as_str()));
        assert_eq!(
            (index.last.as_deref(), index.last_kafka.as_deref()),
            (None, None),
            "others' last untouched"
        );
        let Stored::Mine(back) = now(open(&store, &id)).unwrap() else { panic!("an SQS workspace") };
        assert_eq!(back.time_ms(), 7_000);
        assert_eq!(back.ops, s.ops, "the calls by hand at their instants");
        assert_eq!(back.queues(), s.queues(), "the same messages, states and visibility clocks");
        assert_eq!(back.hand_received(), received, "the same receipt handle, 25 s left");
        assert_eq!(back.counts, s.counts, "the charts with the calls by hand");
        assert_eq!(back.bundled, Some("dead-letter-queue-and-redrive"));
        // Saved again under the same id: one entry, renamed.
        let (again, index) = now(save(&store, Some(&id), &s.to_workspace("Renamed"))).unwrap();
        assert_eq!(again, id);
        assert_eq!((index.entries.len(), index.sqs.len()), (1, 1));
        assert_eq!(index.name_of(&id), Some("Renamed"));
        // A Kafka and a RabbitMQ workspace in the same list are for their pages.
        let kafka = crate::kafka_page::model::KafkaSession::bundled("quickstart").unwrap();
        let (kid, _) =
            now(pages::save(&store, ModelName::Kafka, None, &PageSession::to_workspace(&kafka, "Quick")))
                .unwrap();
        let mut rabbit = WorkspaceDoc::manual("Orders");
        rabbit.scenario = Some(crate::scenarios::BUNDLED[1].1.to_string());
        let mut index = now(list(&store)).unwrap();
        let rid = index.new_id();
        now(store.write_batch(&catalog::save_writes(&mut index, &rid, &rabbit))).unwrap();
        assert!(matches!(now(open(&store, &rid)).unwrap(), Stored::Elsewhere(ModelName::Amqp)));
        assert!(matches!(now(open(&store, &kid)).unwrap(), Stored::Elsewhere(ModelName::Kafka)));
        let index = now(list(&store)).unwrap();
        assert_eq!(label(&index, ModelName::Sqs, &rid, "Orders"), "Orders (RabbitMQ page)");
        assert_eq!(label(&index, ModelName::Sqs, &kid, "Quick"), "Quick (Kafka page)");
        assert_eq!(label(&index, ModelName::Sqs, &id, "Renamed"), "Renamed");
        assert_eq!(label(&index, ModelName::Kafka, &id, "Renamed"), "Renamed (SQS page)");
        assert_eq!(index.last_of(ModelName::Sqs), Some(id.as_str()), "each page keeps its own last");
        assert_eq!(index.last_of(ModelName::Kafka), Some(kid.as_str()));
        assert_eq!(index.last_of(ModelName::Amqp), Some(rid.as_str()));
        let query = now(pages::hand_over(&store, ModelName::Kafka, &kid, "brokerlab")).unwrap();
        assert_eq!(query, format!("?model=kafka&ws={kid}"));
        // Deleted: gone from the list and from the SQS page's last.
        let index = now(delete(&store, &id)).unwrap();
        assert_eq!(index.last_sqs, None);
        assert!(index.sqs.is_empty());
        assert_eq!(index.last_of(ModelName::Kafka), Some(kid.as_str()));
        assert!(matches!(now(open(&store, &id)).unwrap(), Stored::Missing));
    }

    #[test]
    fn a_newer_or_damaged_store_is_reported_and_not_written_over() {
        let s = by_hand();
        let store = MemoryStore::default();
        let newer = serde_json::to_string(&Meta { schema: SCHEMA_VERSION + 1 }).unwrap();
        now(store.put(META_KEY, &newer)).unwrap();
        now(store.put(INDEX_KEY, "{\"entries\":[],\"next_id\":0,\"future\":true}")).unwrap();
        let before = now(catalog::export_raw(&store)).unwrap();
        let e = now(save(&store, None, &s.to_workspace("W"))).unwrap_err();
        assert!(matches!(e, StoreProblem::Newer { .. }), "{e:?}");
        assert!(e.to_string().contains("newer Brokerlab"), "{e}");
        assert!(now(delete(&store, "w1")).is_err());
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
        // An operation that is not one of the page's is named, and nothing runs.
        let mut doc = s.to_workspace("W");
        doc.operations.push(serde_json::json!({"at": 1, "op": {"op": "purge", "queue": "q"}}));
        let (id, _) = now(save(&store, None, &doc)).unwrap();
        let e = now(open(&store, &id)).unwrap_err();
        assert!(e.contains("operations[2] is not an operation of the SQS page"), "{e}");
    }
}
