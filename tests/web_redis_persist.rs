//! Browser tests of the Redis page's workspaces in real IndexedDB (headless Chromium): a Redis workspace
//! saved with console commands (a push, a `BRPOP` that waits and times out, an `LRANGE`) reopens at its time
//! from a second connection, as after a reload, with the same keys, console transcript and history; the
//! list holds every page's workspaces, each listed for its page; a newer or damaged store is reported and
//! left byte for byte; the page's workspace bar saves by Enter in its name field and reopens a workspace
//! picked in its list.
#![cfg(target_arch = "wasm32")]

use broker_core::scenario::document::ModelName;
use brokerlab::persist::catalog::{self, Meta, StoreProblem, INDEX_KEY, META_KEY, SCHEMA_VERSION};
use brokerlab::persist::idb::IdbStore;
use brokerlab::persist::pages::{self, PageSession, Stored};
use brokerlab::persist::KvStore;
use brokerlab::redis_page::model::RedisSession;
use brokerlab::sqs_page::model::SqsSession;
use brokerlab::ws_bar::{SessionRef, WorkspaceBar, WorkspaceBarProps};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::Callback;

wasm_bindgen_test_configure!(run_in_browser);

mod web_common;
use web_common::{find, fire, root, settle, text_is, text_with};

async fn fresh(name: &str) -> IdbStore {
    IdbStore::delete_database(name).await.expect("delete test database");
    IdbStore::open(name).await.expect("IndexedDB must be available")
}

/// The job-queue tutorial with console commands: a push by hand at 0 on a list nobody pops, a
/// `BRPOP inbox 2` at 2 s that waits and times out at 4 s, an `LRANGE` at 5 s; the page then at 6 s.
fn by_hand() -> RedisSession {
    let mut s = RedisSession::bundled("job-queue-brpop-and-blmove").unwrap();
    s.type_command("RPUSH later by-hand").unwrap();
    s.seek(2_000);
    assert_eq!(s.type_command("BRPOP inbox 2").unwrap(), None, "the console waits");
    s.seek(5_000);
    s.type_command("LRANGE later 0 -1").unwrap();
    s.seek(6_000);
    s
}

#[wasm_bindgen_test]
async fn a_redis_workspace_reopens_after_a_reload_at_its_time_with_its_console_commands() {
    let name = "brokerlab-test-redis-ws";
    let store = fresh(name).await;
    let s = by_hand();
    let (id, _) = pages::save(&store, ModelName::Redis, None, &s.to_workspace("By hand")).await.unwrap();
    let sqs = SqsSession::bundled("dead-letter-queue-and-redrive").unwrap();
    let (qid, _) = pages::save(&store, ModelName::Sqs, None, &sqs.to_workspace("Q")).await.unwrap();
    store.close();

    // A second connection: what a reload sees.
    let reopened = IdbStore::open(name).await.unwrap();
    let index = pages::list(&reopened).await.unwrap();
    assert_eq!(index.entries.len(), 2);
    assert_eq!(index.redis, vec![id.clone()]);
    assert_eq!(index.last_redis.as_deref(), Some(id.as_str()));
    assert_eq!(index.last_sqs.as_deref(), Some(qid.as_str()), "the SQS page's last stays its own");
    assert_eq!(pages::label(&index, ModelName::Redis, &qid, "Q"), "Q (SQS page)");
    let Stored::<RedisSession>::Mine(back) = pages::open(&reopened, &id).await.unwrap() else {
        panic!("a Redis workspace")
    };
    assert_eq!(back.time_ms(), 6_000);
    assert_eq!(back.ops, s.ops);
    assert_eq!(back.console(), s.console(), "the console's transcript, the BRPOP timed out at 4 s");
    assert_eq!(back.keys(), s.keys());
    assert_eq!(back.history, s.history);
    assert!(matches!(
        pages::open::<RedisSession>(&reopened, &qid).await.unwrap(),
        Stored::Elsewhere(ModelName::Sqs)
    ));
    reopened.close();
}

#[wasm_bindgen_test]
async fn a_newer_or_damaged_store_is_reported_and_left_byte_for_byte() {
    let s = by_hand();
    for (meta, index, problem) in [
        (SCHEMA_VERSION + 1, "{\"entries\":[],\"next_id\":3}", "newer Brokerlab"),
        (SCHEMA_VERSION, "{\"entries\":[],\"next_id\":3,\"last_redis\":7}", "damaged"),
    ] {
        let store = fresh("brokerlab-test-redis-bad").await;
        store.put(META_KEY, &serde_json::to_string(&Meta { schema: meta }).unwrap()).await.unwrap();
        store.put(INDEX_KEY, index).await.unwrap();
        let before = catalog::export_raw(&store).await.unwrap();
        let e: StoreProblem =
            pages::save(&store, ModelName::Redis, None, &s.to_workspace("W")).await.unwrap_err();
        assert!(e.to_string().contains(problem), "{e}");
        assert!(pages::delete(&store, "w1").await.is_err());
        assert!(pages::open::<RedisSession>(&store, "w1").await.is_err());
        assert_eq!(catalog::export_raw(&store).await.unwrap(), before, "nothing was written");
        store.close();
    }
}

#[wasm_bindgen_test]
async fn the_bar_saves_on_enter_and_reopens_a_picked_workspace() {
    let database = "brokerlab-test-redis-bar";
    fresh(database).await.close();
    let session = Rc::new(RefCell::new(by_hand()));
    let opened = Rc::new(RefCell::new(0));
    let count = Rc::clone(&opened);
    let root = root();
    yew::Renderer::<WorkspaceBar<RedisSession>>::with_root_and_props(
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
    // The bar saves once its store is open.
    web_common::el(&root, "#redis-ws-bar[aria-busy=false]").await;
    let input: web_sys::HtmlInputElement = find(&root, "#redis-ws-name").dyn_into().unwrap();
    input.set_value("Jobs by hand");
    fire(&input, "input");
    settle().await;
    let key = web_sys::KeyboardEventInit::new();
    key.set_key("Enter");
    key.set_bubbles(true);
    let enter = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &key).unwrap();
    input.dispatch_event(&enter).unwrap();
    text_is(&root, "#redis-ws-status", "Saved workspace 'Jobs by hand'").await;
    text_with(&root, "#redis-ws-list", "Jobs by hand").await;
    // Elsewhere the session moves on; picking the workspace brings back its time and commands.
    session.borrow_mut().seek(15_000);
    let list: web_sys::HtmlSelectElement = find(&root, "#redis-ws-list").dyn_into().unwrap();
    list.set_value("w1");
    fire(&list, "change");
    text_is(&root, "#redis-ws-status", "Opened workspace 'Jobs by hand'").await;
    assert_eq!(session.borrow().time_ms(), 6_000);
    assert_eq!(session.borrow().ops.len(), 3);
    assert_eq!(*opened.borrow(), 1);
    let store = IdbStore::open(database).await.unwrap();
    let stored = catalog::load(&store, "w1").await.unwrap().expect("saved");
    assert_eq!(
        (stored.name.as_str(), stored.virtual_millis, stored.operations.len()),
        ("Jobs by hand", 6_000, 3)
    );
    store.close();
}
