//! Browser tests of the SQS page's workspaces in real IndexedDB (headless Chromium): an SQS workspace
//! saved with calls by hand (a message sent, received with a 30 s visibility timeout) reopens at its time
//! from a second connection, as after a reload, with the same queues, visibility clocks and receipt
//! handles; the list holds every page's workspaces, each listed for its page; a newer or damaged store is
//! reported and left byte for byte; the page's workspace bar saves by Enter in its name field and reopens
//! a workspace picked in its list.
#![cfg(target_arch = "wasm32")]

use broker_core::scenario::document::ModelName;
use brokerlab::kafka_page::model::KafkaSession;
use brokerlab::persist::catalog::{self, Meta, StoreProblem, INDEX_KEY, META_KEY, SCHEMA_VERSION};
use brokerlab::persist::idb::IdbStore;
use brokerlab::persist::pages::{self, PageSession, Stored};
use brokerlab::persist::workspace::WorkspaceDoc;
use brokerlab::persist::KvStore;
use brokerlab::sqs_page::model::SqsSession;
use brokerlab::sqs_page::ops::SqsOp;
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

/// The dead-letter tutorial with calls by hand on `payments-dlq` (no consumer of the document polls it):
/// a message sent at 0, received at 2 s with a 30 s visibility timeout, the page then at 7 s.
fn by_hand() -> SqsSession {
    let mut s = SqsSession::bundled("dead-letter-queue-and-redrive").unwrap();
    s.operate(SqsOp::Send {
        queue: "payments-dlq".into(),
        body: "order-42 by hand".into(),
        attributes: vec![],
        delay_seconds: None,
        group_id: None,
        deduplication_id: None,
    })
    .unwrap();
    s.seek(2_000);
    s.operate(SqsOp::Receive {
        queue: "payments-dlq".into(),
        max_number_of_messages: None,
        visibility_timeout: Some(30),
        wait_time_seconds: None,
    })
    .unwrap();
    s.seek(7_000);
    s
}

#[wasm_bindgen_test]
async fn an_sqs_workspace_reopens_after_a_reload_at_its_time_with_its_calls_by_hand() {
    let name = "brokerlab-test-sqs-ws";
    let store = fresh(name).await;
    let s = by_hand();
    let received = s.hand_received();
    assert_eq!(received.len(), 1, "the receive by hand returned the message");
    assert_eq!(received[0].remaining_ms, 25_000, "in flight, 25 s of its 30 s left");
    let (id, _) = pages::save(&store, ModelName::Sqs, None, &s.to_workspace("By hand")).await.unwrap();
    // A RabbitMQ and a Kafka workspace in the same store, as their pages write them.
    let mut index = pages::list(&store).await.unwrap();
    let rid = index.new_id();
    let mut rabbit: WorkspaceDoc = WorkspaceDoc::manual("Orders");
    rabbit.scenario = Some(brokerlab::scenarios::BUNDLED[1].1.to_string());
    store.write_batch(&catalog::save_writes(&mut index, &rid, &rabbit)).await.unwrap();
    let kafka = KafkaSession::bundled("quickstart").unwrap();
    let (kid, _) = pages::save(&store, ModelName::Kafka, None, &kafka.to_workspace("Quick")).await.unwrap();
    store.close();

    // A second connection: what a reload sees.
    let reopened = IdbStore::open(name).await.unwrap();
    let index = pages::list(&reopened).await.unwrap();
    assert_eq!(index.entries.len(), 3);
    assert_eq!(index.sqs, vec![id.clone()]);
    assert_eq!(index.last_sqs.as_deref(), Some(id.as_str()));
    assert_eq!(index.last.as_deref(), Some(rid.as_str()), "the RabbitMQ page's last stays its own");
    assert_eq!(index.last_kafka.as_deref(), Some(kid.as_str()), "the Kafka page's too");
    assert_eq!(pages::label(&index, ModelName::Sqs, &kid, "Quick"), "Quick (Kafka page)");
    let Stored::<SqsSession>::Mine(back) = pages::open(&reopened, &id).await.unwrap() else { panic!("SQS") };
    assert_eq!(back.time_ms(), 7_000);
    assert_eq!(back.ops, s.ops);
    assert_eq!(back.queues(), s.queues(), "every queue's messages and visibility clocks");
    assert_eq!(back.hand_received(), received, "the same receipt handle, 25 s left");
    assert!(matches!(
        pages::open::<SqsSession>(&reopened, &rid).await.unwrap(),
        Stored::Elsewhere(ModelName::Amqp)
    ));
    assert!(matches!(
        pages::open::<SqsSession>(&reopened, &kid).await.unwrap(),
        Stored::Elsewhere(ModelName::Kafka)
    ));
    reopened.close();
}

#[wasm_bindgen_test]
async fn a_newer_or_damaged_store_is_reported_and_left_byte_for_byte() {
    let s = by_hand();
    for (meta, index, problem) in [
        (SCHEMA_VERSION + 1, "{\"entries\":[],\"next_id\":3}", "newer Brokerlab"),
        (SCHEMA_VERSION, "{\"entries\": [", "damaged"),
    ] {
        let store = fresh("brokerlab-test-sqs-bad").await;
        store.put(META_KEY, &serde_json::to_string(&Meta { schema: meta }).unwrap()).await.unwrap();
        store.put(INDEX_KEY, index).await.unwrap();
        let before = catalog::export_raw(&store).await.unwrap();
        let e: StoreProblem =
            pages::save(&store, ModelName::Sqs, None, &s.to_workspace("W")).await.unwrap_err();
        assert!(e.to_string().contains(problem), "{e}");
        assert!(pages::delete(&store, "w1").await.is_err());
        assert!(pages::open::<SqsSession>(&store, "w1").await.is_err());
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
    let database = "brokerlab-test-sqs-bar";
    fresh(database).await.close();
    let session = Rc::new(RefCell::new(by_hand()));
    let opened = Rc::new(RefCell::new(0));
    let count = Rc::clone(&opened);
    let root = root();
    yew::Renderer::<WorkspaceBar<SqsSession>>::with_root_and_props(
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
    type_value(&root, "#sqs-ws-name", "Payments by hand");
    settle().await;
    press_enter(&root, "#sqs-ws-name");
    settle().await;
    text_is(&root, "#sqs-ws-status", "Saved workspace 'Payments by hand'").await;
    assert!(text(&root, "#sqs-ws-list").contains("Payments by hand"));
    assert_eq!(text(&root, "#sqs-ws-save").trim(), "Save", "saving again goes into it");
    // Elsewhere the session moves on; picking the workspace brings back its time and calls by hand.
    session.borrow_mut().seek(40_000);
    let list: web_sys::HtmlSelectElement = find(&root, "#sqs-ws-list").dyn_into().unwrap();
    list.set_value("w1");
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    list.dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
    settle().await;
    text_is(&root, "#sqs-ws-status", "Opened workspace 'Payments by hand'").await;
    assert_eq!(session.borrow().time_ms(), 7_000);
    assert_eq!(session.borrow().hand_received()[0].remaining_ms, 25_000);
    assert_eq!(*opened.borrow(), 1);
    let store = IdbStore::open(database).await.unwrap();
    let stored = catalog::load(&store, "w1").await.unwrap().expect("saved");
    assert_eq!(stored.name, "Payments by hand");
    assert_eq!(stored.virtual_millis, 7_000);
    assert_eq!(stored.operations.len(), 2);
    store.close();
}
