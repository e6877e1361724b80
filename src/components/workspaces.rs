//! Workspaces: the bar that lists, renames, duplicates and deletes them (and restarts the broker, shares a
//! permalink, exports and imports files), and the hook that keeps the current one saved in IndexedDB.
//!
//! Saving: every change marks the workspace dirty; the next animation frame turns the latest state into
//! its document and hands the writes to the [`Saver`](crate::persist::saver::Saver), which flushes one
//! atomic batch per frame at most (the next waits until the previous is written). Only the tab holding
//! the workspace's Web Lock saves.

use crate::components::{event_value, use_app};
use crate::shell::{FileButtons, ShareField};
use crate::state::workspace::{Ownership, WorkspaceAction};
use crate::state::{Action, AppState};
use broker_core::scenario::document::ModelName;
use yew::prelude::*;

/// The workspace bar (under the header).
#[function_component(WorkspaceBar)]
pub fn workspace_bar() -> Html {
    let app = use_app();
    let ws = &app.workspace;
    let renaming = use_state(|| None::<String>);
    let op = |f: fn(&AppState) -> Op| {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| run(f(&app), &app))
    };
    let on_select = {
        let app = app.clone();
        Callback::from(move |e: Event| run(Op::Switch(event_value(&e)), &app))
    };
    let on_import = {
        let app = app.clone();
        Callback::from(move |e: Event| run(Op::Import(crate::shell::file_of(&e)), &app))
    };
    let start_rename = {
        let renaming = renaming.clone();
        let name = ws.current.as_ref().map(|c| c.name.clone()).unwrap_or_default();
        Callback::from(move |_: MouseEvent| renaming.set(Some(name.clone())))
    };
    let rename_input = {
        let renaming = renaming.clone();
        Callback::from(move |e: InputEvent| {
            let value = e.target_unchecked_into::<web_sys::HtmlInputElement>().value();
            renaming.set(Some(value));
        })
    };
    let commit_rename = {
        let app = app.clone();
        let renaming = renaming.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(name) = (*renaming).clone() {
                run(Op::Rename(name), &app);
            }
            renaming.set(None);
        })
    };
    let copy_link = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(link) = &app.workspace.permalink {
                let said = if crate::shell::copy_to_clipboard(link, "ws-permalink") {
                    "Copied the share link: it opens this workspace at this moment"
                } else {
                    "The link is selected: copy it with Ctrl+C"
                };
                app.dispatch(Action::Workspace(WorkspaceAction::Copied(said.into())));
            }
        })
    };
    let current_id = ws.current.as_ref().map(|c| c.id.clone()).unwrap_or_default();
    let status = match ws.ownership {
        Ownership::Pending => "Opening saved workspaces…".to_string(),
        Ownership::Owner => "Saved automatically".to_string(),
        Ownership::OtherTab => "Open in another tab: not saved here".to_string(),
        Ownership::TakenOver => "Taken over by another tab: not saved here".to_string(),
        Ownership::NoStore => "Not saved (storage unavailable)".to_string(),
    };
    let take_over = matches!(ws.ownership, Ownership::OtherTab | Ownership::TakenOver);
    html! {
        <section class="workspace-bar" id="workspace-bar" aria-label="Workspaces">
            <label class="ws-label" for="ws-select">{ "Workspace" }</label>
            if let Some(name) = (*renaming).clone() {
                <form class="ws-rename" onsubmit={commit_rename}>
                    <input id="ws-name" aria-label="Workspace name" value={name} maxlength="200" oninput={rename_input} />
                    <button class="btn small" type="submit" id="ws-rename-ok">{ "OK" }</button>
                </form>
            } else {
                <select id="ws-select" onchange={on_select} aria-label="Open workspace">
                    { for ws.entries.iter().map(|e| html! {
                        <option value={e.id.clone()} selected={e.id == current_id}>{ e.name.clone() }</option>
                    }) }
                </select>
                <button class="btn small" id="ws-rename" onclick={start_rename}>{ "Rename" }</button>
            }
            <button class="btn small" id="ws-new" onclick={op(|_| Op::New)}>{ "New" }</button>
            <button class="btn small" id="ws-duplicate" onclick={op(|_| Op::Duplicate)}>{ "Duplicate" }</button>
            <button class="btn small" id="ws-delete" onclick={op(|_| Op::Delete)}>{ "Delete" }</button>
            <span class="ws-sep" />
            <button class="btn small" id="ws-restart" title="A RabbitMQ node restart: only durable state survives"
                    onclick={op(|_| Op::Restart)}>{ "Restart broker" }</button>
            <FileButtons prefix="ws" on_share={op(|_| Op::Share)} on_export={op(|_| Op::Export)} on_import={on_import} />
            if take_over {
                <button class="btn small primary" id="ws-take-over" onclick={op(|_| Op::TakeOver)}>{ "Take over" }</button>
            }
            <span class="ws-status" id="ws-status" role="status">{ status }</span>
            if ws.store_unreadable {
                <span class="ws-bad-store">
                    <button class="btn small" id="ws-export-store" onclick={op(|_| Op::ExportStore)}>{ "Export saved data" }</button>
                    <button class="btn small danger" id="ws-reset-store" onclick={op(|_| Op::ResetStore)}>{ "Reset saved data" }</button>
                </span>
            }
            if let Some(name) = &ws.undo_delete {
                <span class="ws-undo" role="status">
                    { format!("Deleted '{name}'") }
                    <button class="btn small primary" id="ws-undo-delete" onclick={op(|_| Op::UndoDelete)}>{ "Undo" }</button>
                </span>
            }
            if let Some(link) = &ws.permalink {
                <ShareField prefix="ws" link={link.clone()} on_copy={copy_link} />
            }
        </section>
    }
}

/// What a bar button asks the store side to do.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // native builds have no store
enum Op {
    New,
    Switch(String),
    Rename(String),
    Duplicate,
    Delete,
    UndoDelete,
    Restart,
    Share,
    Export,
    Import(Option<web_sys::File>),
    TakeOver,
    ExportStore,
    ResetStore,
}

fn run(op: Op, app: &UseReducerHandle<AppState>) {
    match op {
        Op::Restart => app.dispatch(Action::Workspace(WorkspaceAction::RestartBroker)),
        Op::Share => {
            // The whole workspace — its scenario or its hand-built broker, and the moment shown.
            let fragment = crate::persist::permalink::encode_workspace(&app.workspace_doc().to_json());
            match fragment {
                Ok(fragment) => app.dispatch(Action::Workspace(WorkspaceAction::Permalink(Some(
                    crate::shell::page_url(ModelName::Amqp, &fragment),
                )))),
                Err(e) => app.dispatch(Action::Workspace(WorkspaceAction::Refused(e))),
            }
        }
        op => store_side::run(op, app),
    }
}

thread_local! {
    /// Whether the app saves workspaces: set by the page's entry point, so components rendered by tests
    /// (several apps in one page) do not read or write the user's workspaces.
    static ENABLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Turns saving on for the app about to be rendered (the page's entry point calls it once).
pub fn enable_persistence() {
    ENABLED.with(|e| e.set(true));
}

fn enabled() -> bool {
    ENABLED.with(std::cell::Cell::get)
}

/// Keeps the app state and the store in step (called once by the root component).
#[hook]
pub fn use_workspace_sync(state: &UseReducerHandle<AppState>) {
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            if enabled() {
                store_side::start(state);
            }
        });
    }
    let deps = (
        state.version,
        state.tab,
        state.theme,
        state.speed.to_bits(),
        state.workspace.current.clone(),
        state.workspace.ownership,
    );
    let state = state.clone();
    use_effect_with(deps, move |_| {
        if enabled() {
            store_side::changed(&state);
        }
    });
}

#[cfg(not(target_arch = "wasm32"))]
mod store_side {
    //! Native builds (reducer tests) have no store.
    use super::Op;
    use crate::state::AppState;
    use yew::UseReducerHandle;

    pub fn start(_: UseReducerHandle<AppState>) {}
    pub fn changed(_: &UseReducerHandle<AppState>) {}
    pub fn run(_: Op, _: &UseReducerHandle<AppState>) {}
}

#[cfg(target_arch = "wasm32")]
mod store_side {
    //! The browser side: IndexedDB, the per-frame saver, the tab lock, files and permalinks.
    use super::Op;
    use crate::persist::catalog::{self, Entry, Index, StoreProblem};
    use crate::persist::idb::IdbStore;
    use crate::persist::import::Found;
    use crate::persist::lock::{self, TabLock};
    use crate::persist::saver::Saver;
    use crate::persist::workspace::WorkspaceDoc;
    use crate::persist::{permalink, KvStore, Write};
    use crate::session::Session;
    use crate::shell::{download, safe_file_name};
    use crate::state::editing::EditAction;
    use crate::state::workspace::{Ownership, WorkspaceAction};
    use crate::state::{Action, AppState};
    use broker_core::amqp::durable::DurableImage;
    use broker_core::scenario::document::ModelName;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::{spawn_local, JsFuture};
    use yew::{UseReducerDispatcher, UseReducerHandle};

    /// The app's database; `?db=<name>` picks another (tests).
    const DATABASE: &str = "brokerlab";

    struct Persist {
        store: IdbStore,
        database: String,
        index: RefCell<Index>,
        saver: RefCell<Saver>,
        lock: RefCell<Option<TabLock>>,
        /// The latest state, read when the frame comes (so a burst of changes costs one document).
        latest: RefCell<Option<AppState>>,
        dirty: Cell<bool>,
        frame_scheduled: Cell<bool>,
        dispatch: UseReducerDispatcher<AppState>,
        /// Bumped on every lock change so a stale "lost" callback is ignored.
        lock_generation: Cell<u64>,
        /// The workspace deleted last, kept in memory while its Undo is offered.
        deleted: RefCell<Option<WorkspaceDoc>>,
    }

    thread_local! {
        static PERSIST: RefCell<Option<Rc<Persist>>> = const { RefCell::new(None) };
    }

    fn persist() -> Option<Rc<Persist>> {
        PERSIST.with(|p| p.borrow().clone())
    }

    fn act(dispatch: &UseReducerDispatcher<AppState>, a: WorkspaceAction) {
        dispatch.dispatch(Action::Workspace(a));
    }

    fn database_name() -> String {
        let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        let db = web_sys::UrlSearchParams::new_with_str(&search).ok().and_then(|p| p.get("db"));
        match db {
            Some(name)
                if !name.is_empty()
                    && name.len() <= 64
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
            {
                format!("{DATABASE}-{name}")
            }
            _ => DATABASE.to_string(),
        }
    }

    pub fn start(state: UseReducerHandle<AppState>) {
        let dispatch = state.dispatcher();
        spawn_local(async move {
            let database = database_name();
            let store = match IdbStore::open(&database).await {
                Ok(s) => s,
                Err(e) => {
                    act(&dispatch, WorkspaceAction::Ownership(Ownership::NoStore));
                    let text = StoreProblem::Unavailable(e.0).to_string();
                    act(&dispatch, WorkspaceAction::Problem { text, unreadable: false });
                    return;
                }
            };
            let opened = catalog::open(&store).await;
            let p = Rc::new(Persist {
                store,
                database,
                index: RefCell::new(Index::default()),
                saver: RefCell::new(Saver::default()),
                lock: RefCell::new(None),
                latest: RefCell::new(None),
                dirty: Cell::new(false),
                frame_scheduled: Cell::new(false),
                dispatch: dispatch.clone(),
                lock_generation: Cell::new(0),
                deleted: RefCell::new(None),
            });
            PERSIST.with(|slot| *slot.borrow_mut() = Some(Rc::clone(&p)));
            let index = match opened {
                Ok(index) => index,
                Err(problem) => {
                    report_unreadable(&p, &problem);
                    return;
                }
            };
            *p.index.borrow_mut() = index;
            // A permalink opens in a new workspace; a hostile one is refused and nothing runs (the refusal
            // is shown after the last workspace reopens, so its notice stays up).
            let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
            listen_for_links(&p);
            let refusal = match open_link(&p, &hash).await {
                Ok(true) => return,
                Ok(false) => None,
                Err(text) => Some(text),
            };
            let last = p.index.borrow().last.clone();
            match last {
                Some(id) => open_existing(&p, &id).await,
                None => {
                    // A first visit: what the page shows becomes the first workspace (nothing replaced).
                    let id = p.index.borrow_mut().new_id();
                    p.index.borrow_mut().upsert(&id, "Workspace 1");
                    let entry = Entry { id: id.clone(), name: "Workspace 1".into() };
                    let entries = p.index.borrow().entries.clone();
                    act(&p.dispatch, WorkspaceAction::Adopt { entry, entries });
                    take_lock(&p, &id, false).await;
                }
            }
            if let Some(text) = refusal {
                act(&dispatch, WorkspaceAction::Refused(text));
            }
        });
    }

    /// Opens the link in `hash` (a shared workspace or scenario) in a new workspace. `Ok(false)`: the
    /// fragment is no link; `Err`: a refused link (nothing was run), as a sentence.
    async fn open_link(p: &Rc<Persist>, hash: &str) -> Result<bool, String> {
        let link = match permalink::decode_link(hash) {
            Ok(Some(link)) => link,
            Ok(None) => return Ok(false),
            Err(text) => {
                clear_hash();
                return Err(text);
            }
        };
        clear_hash();
        // Another model's document (or a workspace holding one) goes to that model's page, whole.
        let foreign = match &link {
            permalink::Link::Scenario(text) => Some(text.clone()),
            permalink::Link::Workspace(text) => {
                WorkspaceDoc::<DurableImage>::from_json(text).ok().and_then(|d| d.scenario)
            }
        };
        if let Some(text) = foreign {
            if let Some(model) = crate::shell::elsewhere(&text, ModelName::Amqp) {
                crate::shell::forward(model, &text)
                    .map_err(|e| format!("This link's scenario cannot be opened: {e}. Nothing was run."))?;
                return Ok(true);
            }
        }
        let doc = match link {
            permalink::Link::Scenario(text) => {
                // A scripted document needs the scripting engine to be checked (and run).
                let prepared = crate::scripting::prepare(&text).await;
                let s = prepared
                    .and_then(|()| Session::from_scenario(&text))
                    .map_err(|e| format!("This link's scenario cannot be loaded: {e}. Nothing was run."))?;
                let name =
                    s.scenario().map_or("Shared scenario".to_string(), |i| format!("Shared: {}", i.name));
                let mut doc = WorkspaceDoc::manual(&name);
                doc.scenario = Some(text);
                doc
            }
            permalink::Link::Workspace(text) => {
                let mut doc = validate_import(&text)
                    .await
                    .map_err(|e| format!("This link's workspace cannot be opened: {e}. Nothing was run."))?;
                doc.name = format!("Shared: {}", doc.name).chars().take(200).collect();
                doc
            }
        };
        save_current_now(p);
        create_and_open(p, doc).await;
        Ok(true)
    }

    /// A link opened in a tab where the app already runs changes only the fragment: load it then too.
    fn listen_for_links(p: &Rc<Persist>) {
        let Some(window) = web_sys::window() else { return };
        let weak = Rc::downgrade(p);
        let on_change = Closure::<dyn Fn()>::new(move || {
            let Some(p) = weak.upgrade() else { return };
            let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
            spawn_local(async move {
                if let Err(text) = open_link(&p, &hash).await {
                    act(&p.dispatch, WorkspaceAction::Refused(text));
                }
            });
        });
        let _ = window.add_event_listener_with_callback("hashchange", on_change.as_ref().unchecked_ref());
        on_change.forget(); // for the page's lifetime, as the store itself
    }

    fn report_unreadable(p: &Persist, problem: &StoreProblem) {
        act(&p.dispatch, WorkspaceAction::Ownership(Ownership::NoStore));
        act(&p.dispatch, WorkspaceAction::Problem { text: problem.to_string(), unreadable: true });
    }

    fn clear_hash() {
        if let Some(w) = web_sys::window() {
            let location = w.location();
            let url = format!(
                "{}{}",
                location.pathname().unwrap_or_default(),
                location.search().unwrap_or_default()
            );
            if let Ok(h) = w.history() {
                let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&url));
            }
        }
    }

    /// Opens workspace `id`: reads it, takes its lock, replaces the session.
    async fn open_existing(p: &Rc<Persist>, id: &str) {
        match catalog::load(&p.store, id).await {
            // A Kafka or SQS workspace (that page's, in the same store) opens on its page (`?ws=`).
            Ok(Some(doc)) if crate::persist::pages::model_of_workspace(&doc) != ModelName::Amqp => {
                let model = crate::persist::pages::model_of_workspace(&doc);
                if let Some(w) = web_sys::window() {
                    let l = w.location();
                    let path = l.pathname().unwrap_or_default();
                    let _ = l.set_href(&format!(
                        "{path}{}",
                        crate::shell::workspace_query(model, id, &p.database)
                    ));
                }
            }
            Ok(Some(doc)) => open_doc(p, id, doc).await,
            Ok(None) => {
                // Listed but missing (deleted in another tab): forget it and open another.
                p.index.borrow_mut().remove(id);
                let next = p.index.borrow().last.clone();
                match next {
                    Some(next) if next != id => Box::pin(open_existing(p, &next)).await,
                    _ => create_and_open(p, WorkspaceDoc::manual("Workspace 1")).await,
                }
            }
            Err(problem) => report_unreadable(p, &problem),
        }
    }

    async fn open_doc(p: &Rc<Persist>, id: &str, doc: WorkspaceDoc) {
        if let Some(old) = p.lock.borrow_mut().take() {
            old.release();
        }
        p.dirty.set(false);
        let entry = Entry { id: id.to_string(), name: doc.name.clone() };
        p.index.borrow_mut().upsert(id, &doc.name);
        let entries = p.index.borrow().entries.clone();
        act(&p.dispatch, WorkspaceAction::Open { entry, entries, doc: Box::new(doc) });
        take_lock(p, id, false).await;
    }

    async fn take_lock(p: &Rc<Persist>, id: &str, steal: bool) {
        let generation = p.lock_generation.get() + 1;
        p.lock_generation.set(generation);
        let weak = Rc::downgrade(p);
        let on_lost = move || {
            if let Some(p) = weak.upgrade() {
                if p.lock_generation.get() == generation {
                    p.lock.borrow_mut().take();
                    act(&p.dispatch, WorkspaceAction::Ownership(Ownership::TakenOver));
                }
            }
        };
        match lock::acquire(&lock::lock_name(&p.database, id), steal, on_lost).await {
            Ok(Some(held)) => {
                *p.lock.borrow_mut() = Some(held);
                act(&p.dispatch, WorkspaceAction::Ownership(Ownership::Owner));
                // Record which workspace is open last (and anything pending).
                p.dirty.set(true);
                schedule_frame(p);
            }
            Ok(None) => act(&p.dispatch, WorkspaceAction::Ownership(Ownership::OtherTab)),
            Err(e) => act(&p.dispatch, WorkspaceAction::Refused(format!("Tab ownership failed: {e}"))),
        }
    }

    async fn create_and_open(p: &Rc<Persist>, doc: WorkspaceDoc) {
        let id = p.index.borrow_mut().new_id();
        let writes = catalog::save_writes(&mut p.index.borrow_mut(), &id, &doc);
        queue_writes(p, writes);
        open_doc(p, &id, doc).await;
    }

    fn queue_writes(p: &Rc<Persist>, writes: impl IntoIterator<Item = Write>) {
        let mut saver = p.saver.borrow_mut();
        for w in writes {
            match w {
                Write::Put { key, json } => saver.put(&key, json),
                Write::Delete { key } => saver.delete(&key),
            }
        }
        drop(saver);
        schedule_frame(p);
    }

    /// Called after every render whose state may differ: remember it and save on the next frame.
    pub fn changed(state: &UseReducerHandle<AppState>) {
        let Some(p) = persist() else { return };
        *p.latest.borrow_mut() = Some((**state).clone());
        if state.workspace.current.is_none() {
            return;
        }
        p.dirty.set(true);
        schedule_frame(&p);
    }

    fn schedule_frame(p: &Rc<Persist>) {
        if p.frame_scheduled.get() {
            return;
        }
        let Some(window) = web_sys::window() else { return };
        p.frame_scheduled.set(true);
        let weak = Rc::downgrade(p);
        let frame = Closure::once_into_js(move || {
            if let Some(p) = weak.upgrade() {
                p.frame_scheduled.set(false);
                frame_tick(&p);
            }
        });
        let _ = window.request_animation_frame(frame.unchecked_ref());
    }

    /// One animation frame: turn the latest state into writes, flush at most one batch.
    fn frame_tick(p: &Rc<Persist>) {
        let owner = p.lock.borrow().is_some();
        if owner && p.dirty.replace(false) {
            let latest = p.latest.borrow();
            if let Some(state) = latest.as_ref() {
                if let Some(current) = &state.workspace.current {
                    let doc = state.workspace_doc();
                    let writes = catalog::save_writes(&mut p.index.borrow_mut(), &current.id, &doc);
                    let mut saver = p.saver.borrow_mut();
                    for w in writes {
                        if let Write::Put { key, json } = w {
                            saver.put(&key, json);
                        }
                    }
                }
            }
        }
        if !owner {
            return;
        }
        let Some(batch) = p.saver.borrow_mut().take() else { return };
        let p = Rc::clone(p);
        spawn_local(async move {
            let result = p.store.write_batch(&batch).await;
            let ok = result.is_ok();
            p.saver.borrow_mut().finished(batch, ok);
            match result {
                Ok(()) => act(&p.dispatch, WorkspaceAction::Saved(p.saver.borrow().flushed)),
                Err(e) if e.is_quota() => act(
                    &p.dispatch,
                    WorkspaceAction::Problem {
                        text: "The browser's storage quota is exceeded: this workspace is not saved. Nothing on the \
                               page is lost; free space (delete workspaces or purge queues) and it is saved again."
                            .into(),
                        unreadable: false,
                    },
                ),
                Err(e) => act(&p.dispatch, WorkspaceAction::Problem { text: format!("Saving failed: {e}"), unreadable: false }),
            }
            if p.saver.borrow().has_pending() {
                // Retry or continue on a later frame (at most one transaction per frame).
                let retry = Rc::clone(&p);
                gloo_timers::callback::Timeout::new(if ok { 0 } else { 2_000 }, move || {
                    schedule_frame(&retry)
                })
                .forget();
            }
        });
    }

    /// Saves the current workspace's latest state now (before switching away from it).
    fn save_current_now(p: &Rc<Persist>) {
        p.dirty.set(true);
        frame_tick(p);
    }

    pub fn run(op: Op, app: &UseReducerHandle<AppState>) {
        let Some(p) = persist() else {
            act(
                &app.dispatcher(),
                WorkspaceAction::Refused("Workspaces are not available: storage could not be opened".into()),
            );
            return;
        };
        let current = app.workspace.current.clone();
        let doc_now = app.workspace_doc();
        let app = app.clone();
        spawn_local(async move {
            match op {
                Op::New => {
                    save_current_now(&p);
                    let n = p.index.borrow().entries.len() + 1;
                    create_and_open(&p, WorkspaceDoc::manual(&format!("Workspace {n}"))).await;
                }
                Op::Switch(id) => {
                    if current.as_ref().is_some_and(|c| c.id == id) {
                        return;
                    }
                    save_current_now(&p);
                    open_existing(&p, &id).await;
                }
                Op::Rename(name) => {
                    let name = name.trim().chars().take(200).collect::<String>();
                    let Some(current) = current else { return };
                    if name.is_empty() {
                        act(&p.dispatch, WorkspaceAction::Refused("A workspace needs a name".into()));
                        return;
                    }
                    p.index.borrow_mut().upsert(&current.id, &name);
                    act(&p.dispatch, WorkspaceAction::Renamed(name));
                }
                Op::Duplicate => {
                    save_current_now(&p);
                    let mut doc = doc_now;
                    doc.name = format!("{} (copy)", doc.name);
                    create_and_open(&p, doc).await;
                }
                Op::Delete => {
                    let Some(current) = current else { return };
                    *p.deleted.borrow_mut() = Some(doc_now);
                    p.index.borrow_mut().remove(&current.id);
                    let index_json = p.index.borrow().to_json();
                    if let Some(old) = p.lock.borrow_mut().take() {
                        old.release();
                    }
                    p.latest.borrow_mut().take();
                    p.dirty.set(false);
                    queue_writes(
                        &p,
                        [
                            Write::Delete { key: catalog::workspace_key(&current.id) },
                            Write::Put { key: catalog::INDEX_KEY.into(), json: index_json },
                        ],
                    );
                    // Flush the delete even though no workspace lock is held right now.
                    let batch = p.saver.borrow_mut().take();
                    if let Some(batch) = batch {
                        let ok = p.store.write_batch(&batch).await.is_ok();
                        p.saver.borrow_mut().finished(batch, ok);
                    }
                    let next = p.index.borrow().last.clone();
                    match next {
                        Some(id) => open_existing(&p, &id).await,
                        None => create_and_open(&p, WorkspaceDoc::manual("Workspace 1")).await,
                    }
                    act(&p.dispatch, WorkspaceAction::Entries(p.index.borrow().entries.clone()));
                    act(&p.dispatch, WorkspaceAction::Deleted(current.name.clone()));
                }
                Op::UndoDelete => {
                    let Some(doc) = p.deleted.borrow_mut().take() else { return };
                    save_current_now(&p);
                    let name = doc.name.clone();
                    create_and_open(&p, doc).await;
                    act(&p.dispatch, WorkspaceAction::Entries(p.index.borrow().entries.clone()));
                    act(&p.dispatch, WorkspaceAction::Copied(format!("Restored workspace '{name}'")));
                }
                Op::TakeOver => {
                    if let Some(current) = current {
                        take_lock(&p, &current.id, true).await;
                    }
                }
                Op::Export => {
                    let file = format!("{}.brokerlab.json", safe_file_name(&doc_now.name, "workspace"));
                    match download(&file, "application/json", &doc_now.to_json()) {
                        Ok(()) => act(
                            &p.dispatch,
                            WorkspaceAction::Copied(format!(
                                "Exported workspace '{}' as {file} (a broker imitating RabbitMQ {})",
                                doc_now.name, doc_now.rabbitmq_version
                            )),
                        ),
                        Err(e) => act(&p.dispatch, WorkspaceAction::Refused(e)),
                    }
                }
                Op::Import(Some(file)) => {
                    if file.size() > crate::persist::workspace::MAX_FILE_BYTES as f64 {
                        act(
                            &p.dispatch,
                            WorkspaceAction::Refused(format!(
                                "'{}' is too large to be a workspace",
                                file.name()
                            )),
                        );
                        return;
                    }
                    let text = match JsFuture::from(file.text()).await {
                        Ok(t) => t.as_string().unwrap_or_default(),
                        Err(_) => {
                            act(
                                &p.dispatch,
                                WorkspaceAction::Refused(format!("'{}' cannot be read", file.name())),
                            );
                            return;
                        }
                    };
                    let name = file.name();
                    let found = match crate::persist::import::detect(&text) {
                        Ok(found) => found,
                        Err(e) => {
                            act(
                                &p.dispatch,
                                WorkspaceAction::Refused(format!("'{name}' was not imported: {e}")),
                            );
                            return;
                        }
                    };
                    let what = found.describe();
                    // A document of another model is that model's page's to open (or refuse).
                    let foreign = match &found {
                        Found::Scenario { text, .. } => Some(text.clone()),
                        Found::Workspace(doc) => doc.scenario.clone(),
                        Found::Definitions(_) => None,
                    };
                    if let Some(text) = foreign {
                        if let Some(model) = crate::shell::elsewhere(&text, ModelName::Amqp) {
                            if let Err(e) = crate::shell::forward(model, &text) {
                                act(
                                    &p.dispatch,
                                    WorkspaceAction::Refused(format!(
                                        "'{name}' ({what}) was not opened: {e}"
                                    )),
                                );
                            }
                            return;
                        }
                    }
                    let opened = match found {
                        Found::Workspace(doc) => validate_workspace(*doc).await.map(|doc| (doc, None)),
                        Found::Scenario { text, name: title } => validate_scenario(&text).await.map(|()| {
                            let title = if title.is_empty() { name.clone() } else { title };
                            let mut doc = WorkspaceDoc::manual(&title.chars().take(200).collect::<String>());
                            doc.scenario = Some(text);
                            (doc, None)
                        }),
                        Found::Definitions(text) => {
                            // All or nothing, checked on a scratch broker before a workspace is made.
                            Session::new(42).import_definitions(&text).map_err(|e| e.to_string()).map(|_| {
                                let stem = name.trim_end_matches(".json");
                                (WorkspaceDoc::manual(&format!("Imported {stem}")), Some(text))
                            })
                        }
                    };
                    match opened {
                        Ok((doc, definitions)) => {
                            save_current_now(&p);
                            create_and_open(&p, doc).await;
                            if let Some(text) = definitions {
                                app.dispatch(Action::Edit(EditAction::ImportDefinitions(text)));
                            }
                            act(&p.dispatch, WorkspaceAction::Found(format!("Found {what} in '{name}'")));
                        }
                        Err(e) => act(
                            &p.dispatch,
                            WorkspaceAction::Refused(format!("'{name}' ({what}) was not imported: {e}")),
                        ),
                    }
                }
                Op::Import(None) => {}
                Op::ExportStore => match catalog::export_raw(&p.store).await {
                    Ok(text) => {
                        if let Err(e) = download("brokerlab-saved-data.json", "application/json", &text) {
                            act(&p.dispatch, WorkspaceAction::Refused(e));
                        }
                    }
                    Err(e) => act(&p.dispatch, WorkspaceAction::Refused(e.to_string())),
                },
                Op::ResetStore => match catalog::reset(&p.store).await {
                    Ok(index) => {
                        *p.index.borrow_mut() = index;
                        act(&p.dispatch, WorkspaceAction::ClearProblem);
                        let mut doc = doc_now;
                        doc.name = "Workspace 1".into();
                        create_and_open(&p, doc).await;
                    }
                    Err(e) => act(&p.dispatch, WorkspaceAction::Refused(e.to_string())),
                },
                Op::Restart | Op::Share => {}
            }
            drop(app);
        });
    }

    /// A workspace file is hostile input: parsed with limits, its scenario or image must load (a scenario
    /// with scripts after the scripting engine has).
    pub async fn validate_import(text: &str) -> Result<WorkspaceDoc, String> {
        validate_workspace(WorkspaceDoc::from_json(text)?).await
    }

    async fn validate_workspace(doc: WorkspaceDoc) -> Result<WorkspaceDoc, String> {
        match (&doc.scenario, &doc.image) {
            (Some(s), _) => validate_scenario(s).await?,
            (None, Some(image)) => Session::from_durable_image(image, 42).map(|_| ())?,
            (None, None) => {}
        }
        Ok(doc)
    }

    async fn validate_scenario(text: &str) -> Result<(), String> {
        crate::scripting::prepare(text).await?;
        Session::from_scenario(text).map(|_| ())
    }
}
