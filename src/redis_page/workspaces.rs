//! The Redis page's workspaces, in the store every page keeps its own in (`crate::persist::pages`, the
//! glue the Kafka and SQS pages share, and `crate::ws_bar`'s bar): a Redis workspace is a [`PageDoc`]
//! whose scenario is a Redis document, whose time is the page's and whose operations are the commands
//! typed on the console, each at its instant. Reopening plays the document again to the saved time with
//! those commands at their instants: the engine is deterministic, so the state seen is the one saved —
//! every key, group and pending entry, a console waiting in a blocking command, and the console's
//! transcript (its history recalls the commands with Up).

use super::model::{RedisSession, BUNDLED};
use crate::persist::pages::{self, PageDoc, PageSession};
use broker_core::scenario::document::ModelName;

/// The layout tab a Redis workspace records.
pub const TAB: &str = "redis";

impl PageSession for RedisSession {
    const MODEL: ModelName = ModelName::Redis;
    const ID_PREFIX: &'static str = "redis";

    fn title(&self) -> String {
        self.name().to_string()
    }

    fn to_workspace(&self, name: &str) -> PageDoc {
        pages::page_doc(name, self.text.clone(), self.time_ms(), TAB, &self.ops)
    }

    /// Reopens a Redis workspace: its document played again to its time with the console's commands
    /// (refused with the engine's error, `line:col`, when the document does not open, or naming the
    /// operation that is not a console command).
    fn from_workspace(doc: &PageDoc) -> Result<RedisSession, String> {
        let text = doc.scenario.as_deref().ok_or("the workspace holds no scenario document")?;
        let bundled = BUNDLED.iter().find(|b| b.text == text).map(|b| b.id);
        let mut session = RedisSession::open(text, bundled)?;
        let ops = pages::read_ops::<String>(doc, "a command of the Redis console")?;
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
    use crate::persist::{KvStore, MemoryStore};
    use crate::redis_page::model::ConsoleLine;
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
        pages::save(store, ModelName::Redis, id, doc).await
    }

    async fn open(store: &MemoryStore, id: &str) -> Result<Stored<RedisSession>, String> {
        pages::open::<RedisSession>(store, id).await
    }

    /// The job-queue tutorial with console commands: a push by hand at 0 on a list nobody pops, a
    /// `BRPOP inbox 2` at 2 s that waits and times out at 4 s, an `LRANGE` at 5 s; the page then at 6 s.
    fn by_hand() -> RedisSession {
        let mut s = RedisSession::bundled("job-queue-brpop-and-blmove").unwrap();
        assert_eq!(s.type_command("RPUSH later by-hand").unwrap().as_deref(), Some("(integer) 1\n"));
        s.seek(2_000);
        assert_eq!(s.type_command("BRPOP inbox 2").unwrap(), None, "the console waits");
        s.seek(5_000);
        assert_eq!(s.type_command("LRANGE later 0 -1").unwrap().as_deref(), Some("1) \"by-hand\"\n"));
        s.seek(6_000);
        s
    }

    #[test]
    fn a_redis_workspace_is_saved_listed_and_reopened_at_its_time_with_the_consoles_commands() {
        let store = MemoryStore::default();
        let s = by_hand();
        assert_eq!(s.ops.len(), 3);
        let (id, index) = now(save(&store, None, &s.to_workspace("By hand"))).unwrap();
        assert_eq!(index.redis, vec![id.clone()]);
        assert_eq!(index.last_redis.as_deref(), Some(id.as_str()));
        assert_eq!(
            (index.last.as_deref(), index.last_kafka.as_deref(), index.last_sqs.as_deref()),
            (None, None, None)
        );
        let Stored::Mine(back) = now(open(&store, &id)).unwrap() else { panic!("a Redis workspace") };
        assert_eq!(back.time_ms(), 6_000);
        assert_eq!(back.ops, s.ops, "the console's commands at their instants");
        assert_eq!(back.console(), s.console(), "the console's transcript, the BRPOP timed out at 4 s");
        assert!(
            back.console().contains(&ConsoleLine::Output("(nil)\n(2.00s)\n".into())),
            "{:?}",
            back.console()
        );
        assert_eq!(back.keys(), s.keys(), "the same keys and items");
        assert_eq!(back.checks(), s.checks());
        assert_eq!(back.history, vec!["RPUSH later by-hand", "BRPOP inbox 2", "LRANGE later 0 -1"]);
        assert_eq!(back.bundled, Some("job-queue-brpop-and-blmove"));
        // Saved again under the same id: one entry, renamed.
        let (again, index) = now(save(&store, Some(&id), &s.to_workspace("Renamed"))).unwrap();
        assert_eq!(again, id);
        assert_eq!((index.entries.len(), index.redis.len()), (1, 1));
        // An SQS workspace in the same list is for its page, and each page keeps its own last.
        let sqs = crate::sqs_page::model::SqsSession::bundled("dead-letter-queue-and-redrive").unwrap();
        let (qid, _) =
            now(pages::save(&store, ModelName::Sqs, None, &PageSession::to_workspace(&sqs, "Q"))).unwrap();
        assert!(matches!(now(open(&store, &qid)).unwrap(), Stored::Elsewhere(ModelName::Sqs)));
        let index = now(list(&store)).unwrap();
        assert_eq!(label(&index, ModelName::Redis, &qid, "Q"), "Q (SQS page)");
        assert_eq!(label(&index, ModelName::Sqs, &id, "Renamed"), "Renamed (Redis page)");
        assert_eq!(index.last_of(ModelName::Redis), Some(id.as_str()));
        assert_eq!(index.last_of(ModelName::Sqs), Some(qid.as_str()));
        assert_eq!(
            now(pages::hand_over(&store, ModelName::Redis, &id, "brokerlab")).unwrap(),
            format!("?model=redis&ws={id}")
        );
        // Deleted: gone from the list and from the Redis page's last, the SQS page's left.
        let index = now(delete(&store, &id)).unwrap();
        assert_eq!(index.last_redis, None);
        assert!(index.redis.is_empty());
        assert_eq!(index.last_of(ModelName::Sqs), Some(qid.as_str()));
        assert!(matches!(now(open(&store, &id)).unwrap(), Stored::Missing));
    }

    #[test]
    fn the_redis_pages_list_and_last_are_stored_and_an_older_list_reads_without_them() {
        let store = MemoryStore::default();
        let (id, _) = now(save(&store, None, &by_hand().to_workspace("W"))).unwrap();
        let stored = now(store.get(INDEX_KEY)).unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(
            (v["redis"][0].as_str(), v["last_redis"].as_str()),
            (Some(id.as_str()), Some(id.as_str()))
        );
        // A list written before the Redis page had workspaces (schema 1 as well) reads as none.
        let older: catalog::Index =
            serde_json::from_str("{\"entries\":[],\"last\":null,\"next_id\":3}").unwrap();
        assert_eq!((older.redis.len(), older.last_of(ModelName::Redis)), (0, None));
        assert!(!older.to_json().contains("redis"), "nothing written for a page without workspaces");
    }

    #[test]
    fn a_newer_or_damaged_store_is_reported_and_left_byte_for_byte() {
        let s = by_hand();
        let store = MemoryStore::default();
        let newer = serde_json::to_string(&Meta { schema: SCHEMA_VERSION + 1 }).unwrap();
        now(store.put(META_KEY, &newer)).unwrap();
        now(store.put(INDEX_KEY, "{\"entries\":[],\"next_id\":0,\"future\":true}")).unwrap();
        let before = now(catalog::export_raw(&store)).unwrap();
        let e = now(save(&store, None, &s.to_workspace("W"))).unwrap_err();
        assert!(matches!(e, StoreProblem::Newer { .. }), "{e:?}");
        assert!(now(open(&store, "w1")).unwrap_err().contains("newer Brokerlab"));
        assert_eq!(now(catalog::export_raw(&store)).unwrap(), before, "nothing written");

        let store = MemoryStore::default();
        now(store.put(META_KEY, &serde_json::to_string(&Meta { schema: SCHEMA_VERSION }).unwrap())).unwrap();
        now(store.put(INDEX_KEY, "{\"entries\":[],\"next_id\":0,\"redis\":\"not a list\"}")).unwrap();
        let before = now(catalog::export_raw(&store)).unwrap();
        let e = now(save(&store, None, &s.to_workspace("W"))).unwrap_err();
        assert!(matches!(e, StoreProblem::Corrupt { .. }) && e.to_string().contains("damaged"), "{e:?}");
        assert_eq!(now(catalog::export_raw(&store)).unwrap(), before, "nothing written");
        // A command that is not a console line is named, and nothing runs.
        let store = MemoryStore::default();
        let mut doc = s.to_workspace("W");
        doc.operations.push(serde_json::json!({"at": 1, "op": {"op": "purge"}}));
        let (id, _) = now(save(&store, None, &doc)).unwrap();
        let e = now(open(&store, &id)).unwrap_err();
        assert!(e.contains("operations[3] is not a command of the Redis console"), "{e}");
    }
}
