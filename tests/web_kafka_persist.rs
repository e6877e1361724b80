//! Browser tests of the Kafka page's workspaces in real IndexedDB (headless Chromium): a Kafka workspace
//! saved with a broker the learner took down reopens at its time with the same partitions (what the log
//! kept, the ISR, the leader) from a second connection, as after a reload; the list holds both pages'
//! workspaces; a newer or damaged store is reported and left byte for byte; the page's workspace bar
//! saves by Enter in its name field and reopens a workspace picked in its list.
#![cfg(target_arch = "wasm32")]

use broker_core::scenario::document::ModelName;
use brokerlab::kafka_page::model::KafkaSession;
use brokerlab::persist::catalog::{self, Meta, StoreProblem, INDEX_KEY, META_KEY, SCHEMA_VERSION};
use brokerlab::persist::idb::IdbStore;
use brokerlab::persist::pages::{self as workspaces, PageSession, Stored};
use brokerlab::persist::workspace::WorkspaceDoc;
use brokerlab::persist::KvStore;
use brokerlab::ws_bar::{SessionRef, WorkspaceBar, WorkspaceBarProps};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::Callback;

wasm_bindgen_test_configure!(run_in_browser);

mod web_common;
use web_common::{find, root, text_is};

/// Yew's renders, then 60 ms for the rest of the page's reaction.
async fn settle() {
    web_common::settle_and_pause(60).await;
}

async fn fresh(name: &str) -> IdbStore {
    IdbStore::delete_database(name).await.expect("delete test database");
    IdbStore::open(name).await.expect("IndexedDB must be available")
}

#[wasm_bindgen_test]
async fn a_kafka_workspace_reopens_after_a_reload_at_its_time_with_the_broker_still_down() {
    let name = "brokerlab-test-kafka-ws";
    let store = fresh(name).await;
    let mut s = KafkaSession::bundled("replicas-broker-down").unwrap();
    s.seek(2_000);
    let leader = s.partitions()[0].leader.unwrap();
    s.toggle_broker(leader);
    s.seek(6_000);
    let (id, _) =
        workspaces::save(&store, ModelName::Kafka, None, &s.to_workspace("Leader down")).await.unwrap();
    // A RabbitMQ workspace in the same store, as its page writes it.
    let mut index = workspaces::list(&store).await.unwrap();
    let rid = index.new_id();
    let mut rabbit: WorkspaceDoc = WorkspaceDoc::manual("Orders");
    rabbit.scenario = Some(brokerlab::scenarios::BUNDLED[1].1.to_string());
    store.write_batch(&catalog::save_writes(&mut index, &rid, &rabbit)).await.unwrap();
    store.close();

    // A second connection: what a reload sees.
    let reopened = IdbStore::open(name).await.unwrap();
    let index = workspaces::list(&reopened).await.unwrap();
    assert_eq!(index.entries.len(), 2);
    assert_eq!(index.kafka, vec![id.clone()]);
    assert_eq!(index.last_kafka.as_deref(), Some(id.as_str()));
    assert_eq!(index.last.as_deref(), Some(rid.as_str()), "the RabbitMQ page's last stays its own");
    let Stored::<KafkaSession>::Mine(back) = workspaces::open(&reopened, &id).await.unwrap() else {
        panic!("Kafka")
    };
    assert_eq!(back.time_ms(), 6_000);
    assert_eq!(back.partitions(), s.partitions(), "the log, its high watermark, the ISR and leader");
    assert!(!back.brokers().iter().find(|b| b.id == leader).unwrap().up);
    assert!(matches!(
        workspaces::open::<KafkaSession>(&reopened, &rid).await.unwrap(),
        Stored::Elsewhere(ModelName::Amqp)
    ));
    reopened.close();
}

#[wasm_bindgen_test]
async fn a_newer_or_damaged_store_is_reported_and_left_byte_for_byte() {
    let s = KafkaSession::bundled("quickstart").unwrap();
    for (meta, index, problem) in [
        (SCHEMA_VERSION + 1, "{\"entries\":[],\"next_id\":3}", "newer Brokerlab"),
        (SCHEMA_VERSION, "{\"entries\": [", "damaged"),
    ] {
        let store = fresh("brokerlab-test-kafka-bad").await;
        store.put(META_KEY, &serde_json::to_string(&Meta { schema: meta }).unwrap()).await.unwrap();
        store.put(INDEX_KEY, index).await.unwrap();
        let before = catalog::export_raw(&store).await.unwrap();
        let e: StoreProblem =
            workspaces::save(&store, ModelName::Kafka, None, &s.to_workspace("W")).await.unwrap_err();
        assert!(e.to_string().contains(problem), "{e}");
        assert!(workspaces::delete(&store, "w1").await.is_err());
        assert_eq!(catalog::export_raw(&store).await.unwrap(), before, "nothing was written");
        store.close();
    }
}

fn type_value(root: &web_sys::Element, css: &str, value: &str) {
    let input: web_sys::HtmlInputElement = find(root, css).dyn_into().unwrap();
    input.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input.dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
}

fn press_enter(root: &web_sys::Element, css: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    let e = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    find(root, css).dispatch_event(&e).unwrap();
}

fn text(root: &web_sys::Element, css: &str) -> String {
    find(root, css).text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn the_bar_saves_on_enter_and_reopens_a_picked_workspace() {
    let database = "brokerlab-test-kafka-bar";
    fresh(database).await.close();
    let session = Rc::new(RefCell::new(KafkaSession::bundled("quickstart").unwrap()));
    session.borrow_mut().seek(4_000);
    let opened = Rc::new(RefCell::new(0));
    let count = Rc::clone(&opened);
    let root = root();
    yew::Renderer::<WorkspaceBar<KafkaSession>>::with_root_and_props(
        root.clone(),
        WorkspaceBarProps {
            session: SessionRef(Rc::clone(&session)),
            version: 0,
            playing: false,
            on_opened: Callback::from(move |()| *count.borrow_mut() += 1),
            database: Some(database.into()),
        },
    )
    .render();
    settle().await;
    type_value(&root, "#kafka-ws-name", "My quickstart");
    settle().await;
    press_enter(&root, "#kafka-ws-name");
    settle().await;
    text_is(&root, "#kafka-ws-status", "Saved workspace 'My quickstart'").await;
    assert!(text(&root, "#kafka-ws-list").contains("My quickstart"));
    assert_eq!(text(&root, "#kafka-ws-save").trim(), "Save", "saving again goes into it");
    // Elsewhere the session moves on; picking the workspace brings back its time.
    session.borrow_mut().seek(9_000);
    let list: web_sys::HtmlSelectElement = find(&root, "#kafka-ws-list").dyn_into().unwrap();
    list.set_value("w1");
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    list.dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
    settle().await;
    text_is(&root, "#kafka-ws-status", "Opened workspace 'My quickstart'").await;
    assert_eq!(session.borrow().time_ms(), 4_000);
    assert_eq!(*opened.borrow(), 1);
    let store = IdbStore::open(database).await.unwrap();
    let stored = catalog::load(&store, "w1").await.unwrap().expect("saved");
    assert_eq!(stored.name, "My quickstart");
    assert_eq!(stored.virtual_millis, 4_000);
    store.close();
}
