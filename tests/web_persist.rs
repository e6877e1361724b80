//! Browser tests of persistence in real IndexedDB (headless Chromium): atomic batches, the schema version
//! and its migration, newer and damaged stores left untouched, quota failures losing nothing, workspaces
//! (save, rename, duplicate, delete, reopen), broker durability across a reload, tab ownership through
//! Web Locks, permalinks; and the persistence benchmark (figures printed, never asserted).
#![cfg(target_arch = "wasm32")]

use broker_core::amqp::{BasicProperties, FieldTable, Method};
use brokerlab::persist::catalog::{self, Index, StoreProblem, INDEX_KEY, META_KEY, SCHEMA_VERSION};
use brokerlab::persist::idb::IdbStore;
use brokerlab::persist::saver::Saver;
use brokerlab::persist::workspace::WorkspaceDoc;
use brokerlab::persist::{lock, permalink, KvStore, PersistError, Write};
use brokerlab::session::Session;
use brokerlab::state::workspace::WorkspaceAction;
use brokerlab::state::{Action, AppState};
use gloo_timers::future::TimeoutFuture;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn fresh(name: &str) -> IdbStore {
    IdbStore::delete_database(name).await.expect("delete test database");
    IdbStore::open(name).await.expect("IndexedDB must be available")
}

fn put(key: &str, json: &str) -> Write {
    Write::Put { key: key.into(), json: json.into() }
}

fn now_millis() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

fn declare(queue: &str, durable: bool) -> Method {
    Method::QueueDeclare {
        queue: queue.into(),
        passive: false,
        durable,
        exclusive: false,
        auto_delete: false,
        arguments: FieldTable::new(),
    }
}

fn publish(queue: &str, persistent: bool, body: &str) -> Method {
    Method::BasicPublish {
        exchange: String::new(),
        routing_key: queue.into(),
        mandatory: false,
        properties: BasicProperties {
            delivery_mode: Some(if persistent { 2 } else { 1 }),
            ..Default::default()
        },
        body: body.as_bytes().to_vec(),
        immediate: false,
    }
}

#[wasm_bindgen_test]
async fn a_batch_is_one_transaction_seen_whole_or_not_at_all_by_another_connection() {
    let name = "brokerlab-test-atomic";
    let writer = fresh(name).await;
    let keys: Vec<String> = (0..400).map(|i| format!("k{i:03}")).collect();
    let first: Vec<Write> = keys.iter().map(|k| put(k, "\"old\"")).collect();
    writer.write_batch(&first).await.unwrap();
    let reader = IdbStore::open(name).await.unwrap();
    let second: Vec<Write> = keys.iter().map(|k| put(k, "\"new\"")).collect();
    let done = Rc::new(Cell::new(false));
    let flag = Rc::clone(&done);
    wasm_bindgen_futures::spawn_local(async move {
        writer.write_batch(&second).await.unwrap();
        flag.set(true);
        writer.close();
    });
    // Read every key (one read transaction per pass) while the batch is being written.
    let mut passes = 0;
    let mut saw_new = false;
    loop {
        let finished = done.get();
        let values: Vec<String> =
            reader.get_many(&keys).await.unwrap().into_iter().map(Option::unwrap).collect();
        let olds = values.iter().filter(|v| *v == "\"old\"").count();
        assert!(olds == 0 || olds == values.len(), "a mix of old and new: {values:?}");
        saw_new |= olds == 0;
        passes += 1;
        if finished {
            break;
        }
    }
    assert!(saw_new && passes >= 1);
    reader.close();
}

#[wasm_bindgen_test]
async fn a_fresh_store_gets_the_schema_and_an_old_one_is_migrated_in_place() {
    let store = fresh("brokerlab-test-schema").await;
    let index = catalog::open(&store).await.unwrap();
    assert_eq!(index, Index::default());
    assert_eq!(store.get(META_KEY).await.unwrap(), Some(format!("{{\"schema\":{SCHEMA_VERSION}}}")));
    store.close();

    // Schema 0: bare workspace records, no meta, no index.
    let store = fresh("brokerlab-test-migrate").await;
    let doc: WorkspaceDoc = WorkspaceDoc::manual("Legacy orders");
    store.put("workspace/w7", &doc.to_json()).await.unwrap();
    let index = catalog::open(&store).await.unwrap();
    assert_eq!(index.entries.len(), 1);
    assert_eq!(index.entries[0].name, "Legacy orders");
    assert_eq!(index.last.as_deref(), Some("w7"));
    assert_eq!(index.clone().new_id(), "w8", "ids continue after the migrated ones");
    assert_eq!(catalog::load(&store, "w7").await.unwrap(), Some(doc), "the record itself is kept");
    store.close();
}

#[wasm_bindgen_test]
async fn a_newer_or_damaged_store_is_reported_and_left_untouched_then_exported_and_reset() {
    let store = fresh("brokerlab-test-newer").await;
    store
        .write_batch(&[put(META_KEY, "{\"schema\":99}"), put("workspace/w1", "{\"future\":true}")])
        .await
        .unwrap();
    let before = catalog::export_raw(&store).await.unwrap();
    let problem = catalog::open(&store).await.unwrap_err();
    assert_eq!(problem, StoreProblem::Newer { found: 99 });
    assert!(problem.to_string().contains("newer Brokerlab") && problem.to_string().contains("export"));
    assert_eq!(catalog::export_raw(&store).await.unwrap(), before, "untouched");
    assert!(before.contains("future"), "the export carries the raw records: {before}");
    store.close();

    let store = fresh("brokerlab-test-corrupt").await;
    store
        .write_batch(&[put(META_KEY, "{\"schema\":1}"), put(INDEX_KEY, "{\"entries\":[{\"id\":")])
        .await
        .unwrap();
    let before = catalog::export_raw(&store).await.unwrap();
    let problem = catalog::open(&store).await.unwrap_err();
    assert!(matches!(&problem, StoreProblem::Corrupt { key, .. } if key == INDEX_KEY), "{problem:?}");
    assert_eq!(catalog::export_raw(&store).await.unwrap(), before, "untouched");
    // A damaged workspace record is reported too, and stays as it is.
    store.put("workspace/w1", "not json").await.unwrap();
    assert!(matches!(catalog::load(&store, "w1").await, Err(StoreProblem::Corrupt { .. })));
    assert_eq!(store.get("workspace/w1").await.unwrap().as_deref(), Some("not json"));
    // Reset: everything goes, a fresh schema is written, and the store opens again.
    catalog::reset(&store).await.unwrap();
    assert_eq!(catalog::open(&store).await.unwrap(), Index::default());
    assert_eq!(store.keys().await.unwrap(), vec![META_KEY.to_string(), INDEX_KEY.to_string()]);
    store.close();
}

/// IndexedDB with a quota: refuses batches while `full` is set, as a `QuotaExceededError` would.
struct Quota<'a> {
    inner: &'a IdbStore,
    full: Cell<bool>,
}

impl KvStore for Quota<'_> {
    async fn put(&self, key: &str, json: &str) -> Result<(), PersistError> {
        self.write_batch(&[put(key, json)]).await
    }
    async fn get(&self, key: &str) -> Result<Option<String>, PersistError> {
        self.inner.get(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), PersistError> {
        self.inner.delete(key).await
    }
    async fn write_batch(&self, writes: &[Write]) -> Result<(), PersistError> {
        if self.full.get() {
            return Err(PersistError("QuotaExceededError: the quota has been exceeded".into()));
        }
        self.inner.write_batch(writes).await
    }
    async fn keys(&self) -> Result<Vec<String>, PersistError> {
        self.inner.keys().await
    }
}

#[wasm_bindgen_test]
async fn quota_exceeded_is_reported_and_nothing_is_lost() {
    let idb = fresh("brokerlab-test-quota").await;
    let store = Quota { inner: &idb, full: Cell::new(true) };
    let mut saver = Saver::default();
    let mut index = Index::default();
    let doc: WorkspaceDoc = WorkspaceDoc::manual("Big one");
    for w in catalog::save_writes(&mut index, "w1", &doc) {
        if let Write::Put { key, json } = w {
            saver.put(&key, json);
        }
    }
    let batch = saver.take().unwrap();
    let err = store.write_batch(&batch).await.unwrap_err();
    assert!(err.is_quota(), "{err}");
    saver.finished(batch, false);
    assert_eq!(idb.get("workspace/w1").await.unwrap(), None, "nothing half-written");
    // Space is freed: the same writes go through on the next frame.
    store.full.set(false);
    let batch = saver.take().expect("the refused writes are still pending");
    store.write_batch(&batch).await.unwrap();
    saver.finished(batch, true);
    assert_eq!(catalog::load(&idb, "w1").await.unwrap(), Some(doc));
    idb.close();
}

#[wasm_bindgen_test]
async fn workspaces_are_listed_renamed_duplicated_deleted_and_the_last_reopens() {
    let name = "brokerlab-test-workspaces";
    let store = fresh(name).await;
    let mut index = catalog::open(&store).await.unwrap();
    let a = index.new_id();
    let b = index.new_id();
    let mut doc_a: WorkspaceDoc = WorkspaceDoc::manual("Orders");
    doc_a.virtual_millis = 5_000;
    store.write_batch(&catalog::save_writes(&mut index, &a, &doc_a)).await.unwrap();
    let doc_b: WorkspaceDoc = WorkspaceDoc::manual("Billing");
    store.write_batch(&catalog::save_writes(&mut index, &b, &doc_b)).await.unwrap();
    // Rename a, duplicate it as c, delete b.
    index.upsert(&a, "Orders (EU)");
    let c = index.new_id();
    let mut copy = catalog::load(&store, &a).await.unwrap().unwrap();
    copy.name = "Orders (copy)".into();
    store.write_batch(&catalog::save_writes(&mut index, &c, &copy)).await.unwrap();
    index.remove(&b);
    store
        .write_batch(&[Write::Delete { key: catalog::workspace_key(&b) }, put(INDEX_KEY, &index.to_json())])
        .await
        .unwrap();
    store.close();

    let store = IdbStore::open(name).await.unwrap();
    let index = catalog::open(&store).await.unwrap();
    let names: Vec<&str> = index.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Orders (EU)", "Orders (copy)"]);
    assert_eq!(index.last.as_deref(), Some(c.as_str()), "the last saved reopens");
    assert_eq!(catalog::load(&store, &b).await.unwrap(), None);
    assert_eq!(catalog::load(&store, &c).await.unwrap().unwrap().virtual_millis, 5_000);
    store.close();
}

#[wasm_bindgen_test]
async fn a_reload_keeps_exactly_the_durable_persistent_state() {
    let name = "brokerlab-test-durability";
    let store = fresh(name).await;
    let mut app = AppState::default();
    {
        let mut s = app.session.borrow_mut();
        s.ui_apply(declare("durable", true)).unwrap();
        s.ui_apply(declare("transient", false)).unwrap();
        for q in ["durable", "transient"] {
            s.ui_apply(publish(q, true, &format!("{q} persistent"))).unwrap();
            s.ui_apply(publish(q, false, &format!("{q} transient"))).unwrap();
        }
    }
    app.apply(Action::Workspace(WorkspaceAction::Adopt {
        entry: catalog::Entry { id: "w1".into(), name: "Demo".into() },
        entries: vec![],
    }));
    let mut index = catalog::open(&store).await.unwrap();
    store.write_batch(&catalog::save_writes(&mut index, "w1", &app.workspace_doc())).await.unwrap();
    store.close();

    // "Reload": a new connection, a new app state.
    let store = IdbStore::open(name).await.unwrap();
    let index = catalog::open(&store).await.unwrap();
    let id = index.last.clone().unwrap();
    let doc = catalog::load(&store, &id).await.unwrap().unwrap();
    let mut reloaded = AppState::default();
    let entry = index.entries[0].clone();
    reloaded.apply(Action::Workspace(WorkspaceAction::Open {
        entry,
        entries: index.entries,
        doc: Box::new(doc),
    }));
    let session = reloaded.session.borrow();
    let queues: Vec<String> = session.broker().queues().into_iter().map(|q| q.name).collect();
    assert_eq!(queues, ["durable"]);
    let bodies: Vec<Vec<u8>> =
        session.broker().peek("durable").unwrap().into_iter().map(|d| d.body).collect();
    assert_eq!(bodies, [b"durable persistent".to_vec()]);
    store.close();
}

#[wasm_bindgen_test]
async fn one_tab_owns_a_workspace_the_other_is_told_and_can_take_over() {
    assert!(lock::supported(), "Chromium has Web Locks");
    let name = lock::lock_name("brokerlab-test-locks", "w1");
    let lost = Rc::new(Cell::new(false));
    let flag = Rc::clone(&lost);
    let first = lock::acquire(&name, false, move || flag.set(true)).await.unwrap();
    assert!(first.is_some(), "the first tab owns it");
    let second = lock::acquire(&name, false, || {}).await.unwrap();
    assert!(second.is_none(), "the second is told another holds it");
    let taken = lock::acquire(&name, true, || {}).await.unwrap();
    assert!(taken.is_some(), "take over");
    // The browser tells the first holder when it gets to it: look again every 20 ms, for up to 20 s.
    for _ in 0..1000 {
        if lost.get() {
            break;
        }
        TimeoutFuture::new(20).await;
    }
    assert!(lost.get(), "the first tab learns it lost the workspace");
    taken.unwrap().release();
    // A release is asynchronous too: try to take the lock until it is free (or 20 s have passed).
    let mut again = None;
    for _ in 0..1000 {
        again = lock::acquire(&name, false, || {}).await.unwrap();
        if again.is_some() {
            break;
        }
        TimeoutFuture::new(20).await;
    }
    assert!(again.is_some(), "released locks can be taken");
    again.unwrap().release();
}

#[wasm_bindgen_test]
fn permalinks_carry_a_scenario_and_hostile_ones_run_nothing() {
    let (_, text) = brokerlab::scenarios::BUNDLED[0];
    let fragment = permalink::encode(text);
    let decoded = permalink::decode(&format!("#{fragment}")).unwrap().unwrap();
    assert_eq!(decoded, text);
    assert!(Session::from_scenario(&decoded).is_ok());
    // Hostile: malformed, truncated, a bomb; and a valid link whose document is not a scenario.
    assert!(permalink::decode("#scenario=!!!!").is_err());
    assert!(permalink::decode(&format!("#{}", &fragment[..fragment.len() - 3])).is_err());
    let not_a_scenario = permalink::encode("{\"name\": \"<script>alert(1)</script>\"}");
    let text = permalink::decode(&not_a_scenario).unwrap().unwrap();
    assert!(Session::from_scenario(&text).is_err(), "refused before anything runs");
}

/// The benchmark behind BENCHMARKS.md: prints figures, asserts only that the work was done.
/// Run with `--release` for the reported numbers (debug builds use a tenth of the messages).
#[wasm_bindgen_test]
async fn benchmark_batched_writes_and_restoring_persisted_messages() {
    let store = fresh("brokerlab-bench").await;
    let records = 500;
    let value = "{\"name\":\"workspace\",\"queues\":[\"a\",\"b\",\"c\"],\"position\":12345}";
    let start = now_millis();
    for i in 0..records {
        store.put(&format!("single/{i}"), value).await.unwrap();
    }
    let single_ms = now_millis() - start;
    let batch: Vec<Write> = (0..records).map(|i| put(&format!("batched/{i}"), value)).collect();
    let start = now_millis();
    store.write_batch(&batch).await.unwrap();
    let batched_ms = now_millis() - start;
    assert_eq!(store.keys().await.unwrap().len(), 2 * records);
    let log = |s: String| web_sys::console::log_1(&s.into());
    log(format!(
        "BENCH writes: {records} records, one transaction each: {single_ms:.1} ms ({:.0}/s); one batch: {batched_ms:.1} ms \
         ({:.0}/s); ratio {:.1}x",
        records as f64 * 1000.0 / single_ms,
        records as f64 * 1000.0 / batched_ms,
        single_ms / batched_ms
    ));

    let messages = if cfg!(debug_assertions) { 10_000 } else { 100_000 };
    let mut session = Session::new(1);
    session.ui_apply(declare("durable", true)).unwrap();
    for i in 0..messages {
        session.ui_apply(publish("durable", true, &format!("order {i:06} {{\"amount\": 42}}"))).unwrap();
    }
    let image = session.durable_image();
    let mut doc: WorkspaceDoc = WorkspaceDoc::manual("bench");
    doc.image = Some(image);
    let json = doc.to_json();
    store.put("workspace/bench", &json).await.unwrap();
    store.close();
    let start = now_millis();
    let store = IdbStore::open("brokerlab-bench").await.unwrap();
    let text = store.get("workspace/bench").await.unwrap().unwrap();
    let read_ms = now_millis() - start;
    let doc: WorkspaceDoc = WorkspaceDoc::from_json(&text).unwrap();
    let parsed_ms = now_millis() - start;
    let restored = Session::from_durable_image(doc.image.as_ref().unwrap(), 1).unwrap();
    let total_ms = now_millis() - start;
    assert_eq!(restored.broker().queues()[0].messages_ready as usize, messages);
    log(format!(
        "BENCH restore: {messages} persisted messages ({:.1} MB JSON): read {read_ms:.0} ms, parse {:.0} ms, rebuild \
         {:.0} ms, total {total_ms:.0} ms",
        json.len() as f64 / 1e6,
        parsed_ms - read_ms,
        total_ms - parsed_ms
    ));
    store.close();
}
