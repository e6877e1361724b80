//! A model page's workspace bar (the Kafka, SQS and Redis pages'): the workspaces of the shared store (every
//! page's in one list), a name, Save (into the workspace open, else a new one) and Delete. Opening one of
//! the page's own workspaces replays its document to its time here; another model's is opened on its page.
//! While a workspace is open, the page's changes are saved into it when the clock is not running (a pause,
//! a seek, a click). A store that cannot be read (newer, damaged, unavailable) is reported in the bar and
//! never written. The store's side is [`crate::persist::pages`]; a page brings its session as a
//! [`PageSession`], and its element ids start with [`PageSession::ID_PREFIX`] (`#kafka-ws-name`).
//!
//! Keyboard: the list is a `<select>`, the name a labelled field where Enter saves.

use crate::persist::catalog::{Index, StoreProblem};
use crate::persist::pages::{self, PageSession, Stored};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

#[cfg(target_arch = "wasm32")]
type Store = crate::persist::idb::IdbStore;
#[cfg(not(target_arch = "wasm32"))]
type Store = crate::persist::MemoryStore;

async fn open_store(name: &str) -> Result<Store, StoreProblem> {
    #[cfg(target_arch = "wasm32")]
    return Store::open(name).await.map_err(StoreProblem::from);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = name;
        Ok(Store::default())
    }
}

/// The store's database, as the RabbitMQ page names it: `brokerlab`, or `brokerlab-<name>` for `?db=`.
pub fn database_name() -> String {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let db = web_sys::UrlSearchParams::new_with_str(&search).ok().and_then(|p| p.get("db"));
    match db {
        Some(name)
            if !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            format!("brokerlab-{name}")
        }
        _ => "brokerlab".to_string(),
    }
}

/// `?ws=<id>`: the workspace the RabbitMQ page handed over.
fn requested_workspace() -> Option<String> {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    web_sys::UrlSearchParams::new_with_str(&search).ok().and_then(|p| p.get("ws"))
}

/// The page's session, shared with the bar and the page's panels (compared by identity).
pub struct SessionRef<S>(pub Rc<RefCell<S>>);

impl<S> Clone for SessionRef<S> {
    fn clone(&self) -> Self {
        SessionRef(Rc::clone(&self.0))
    }
}

impl<S> PartialEq for SessionRef<S> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Properties)]
pub struct WorkspaceBarProps<S: PageSession + 'static> {
    pub session: SessionRef<S>,
    /// Bumped by the page on every change (the bar saves the open workspace then).
    pub version: u64,
    pub playing: bool,
    /// The session was replaced by a workspace's: the page redraws.
    pub on_opened: Callback<()>,
    /// The database (tests name theirs; the page's is [`database_name`]).
    #[prop_or_default]
    pub database: Option<String>,
}

impl<S: PageSession + 'static> PartialEq for WorkspaceBarProps<S> {
    fn eq(&self, other: &Self) -> bool {
        self.session == other.session
            && self.version == other.version
            && self.playing == other.playing
            && self.on_opened == other.on_opened
            && self.database == other.database
    }
}

/// The bar's state.
#[derive(Clone, PartialEq, Default)]
struct Bar {
    index: Option<Index>,
    /// The workspace open (saved into).
    current: Option<String>,
    /// What the bar says: (is it a problem, the sentence).
    status: Option<(bool, String)>,
    /// The store cannot be written (newer, damaged or unavailable).
    blocked: bool,
}

#[function_component(WorkspaceBar)]
pub fn workspace_bar<S: PageSession + 'static>(props: &WorkspaceBarProps<S>) -> Html {
    let bar = use_state(Bar::default);
    let store: Rc<RefCell<Option<Rc<Store>>>> = use_mut_ref(|| None);
    let name = use_state(|| props.session.0.borrow().title());
    let model = S::MODEL;
    let page = crate::shell::page_name(model);
    let prefix = S::ID_PREFIX;
    let database = props.database.clone().unwrap_or_else(database_name);
    // Opening the store once: the list, and the workspace `?ws=` asks for.
    {
        let bar = bar.clone();
        let store = store.clone();
        let session = props.session.clone();
        let on_opened = props.on_opened.clone();
        let name = name.clone();
        let database = database.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let opened = match open_store(&database).await {
                    Ok(s) => Rc::new(s),
                    Err(p) => {
                        return bar.set(Bar {
                            status: Some((true, p.to_string())),
                            blocked: true,
                            ..Bar::default()
                        })
                    }
                };
                *store.borrow_mut() = Some(Rc::clone(&opened));
                let mut state = match pages::list(&*opened).await {
                    Ok(index) => Bar { index: Some(index), ..Bar::default() },
                    Err(p) => Bar { status: Some((true, p.to_string())), blocked: true, ..Bar::default() },
                };
                if let (Some(id), false) = (requested_workspace(), state.blocked) {
                    match pages::open::<S>(&*opened, &id).await {
                        Ok(Stored::Mine(s)) => {
                            name.set(
                                state.index.as_ref().and_then(|i| i.name_of(&id)).unwrap_or("").to_string(),
                            );
                            *session.0.borrow_mut() = *s;
                            state.current = Some(id);
                            on_opened.emit(());
                        }
                        Ok(_) => {
                            state.status =
                                Some((true, format!("Workspace {id} is not a workspace of the {page} page")))
                        }
                        Err(e) => state.status = Some((true, e)),
                    }
                }
                bar.set(state);
            });
        });
    }
    // Autosave into the open workspace while the clock is stopped.
    {
        let bar = bar.clone();
        let store = store.clone();
        let session = props.session.clone();
        let name = name.clone();
        use_effect_with((props.version, props.playing), move |(_, playing)| {
            let target = bar.current.clone().filter(|_| !*playing && !bar.blocked);
            let store = store.borrow().clone();
            if let (Some(id), Some(store)) = (target, store) {
                let doc = session.0.borrow().to_workspace(&name);
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(p) = pages::save(&*store, model, Some(&id), &doc).await {
                        let mut b = (*bar).clone();
                        b.status = Some((true, format!("Not saved: {p}")));
                        b.blocked = true;
                        bar.set(b);
                    }
                });
            }
        });
    }
    let save = {
        let bar = bar.clone();
        let store = store.clone();
        let session = props.session.clone();
        let name = name.clone();
        Callback::from(move |_: ()| {
            let Some(store) = store.borrow().clone() else { return };
            let typed = name.trim().chars().take(200).collect::<String>();
            if typed.is_empty() {
                let mut b = (*bar).clone();
                b.status = Some((true, "A workspace needs a name".into()));
                return bar.set(b);
            }
            let doc = session.0.borrow().to_workspace(&typed);
            let bar = bar.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let mut b = (*bar).clone();
                match pages::save(&*store, model, b.current.as_deref(), &doc).await {
                    Ok((id, index)) => {
                        b.status = Some((false, format!("Saved workspace '{typed}'")));
                        b.current = Some(id);
                        b.index = Some(index);
                    }
                    Err(p) => {
                        b.status = Some((true, format!("Not saved: {p}")));
                        b.blocked = true;
                    }
                }
                bar.set(b);
            });
        })
    };
    let pick = {
        let bar = bar.clone();
        let store = store.clone();
        let session = props.session.clone();
        let on_opened = props.on_opened.clone();
        let name = name.clone();
        let database = database.clone();
        Callback::from(move |e: Event| {
            let id = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
            let Some(store) = store.borrow().clone() else { return };
            if id.is_empty() {
                return;
            }
            let (bar, session, on_opened, name, database) =
                (bar.clone(), session.clone(), on_opened.clone(), name.clone(), database.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let mut b = (*bar).clone();
                let listed = b.index.as_ref().and_then(|i| i.name_of(&id)).unwrap_or("").to_string();
                match pages::open::<S>(&*store, &id).await {
                    Ok(Stored::Mine(s)) => {
                        *session.0.borrow_mut() = *s;
                        b.current = Some(id);
                        b.status = Some((false, format!("Opened workspace '{listed}'")));
                        name.set(listed);
                        on_opened.emit(());
                    }
                    Ok(Stored::Elsewhere(other)) => {
                        let there = crate::shell::page_name(other);
                        match pages::hand_over(&*store, other, &id, &database).await {
                            Ok(query) => {
                                b.status = Some((
                                    false,
                                    format!("'{listed}' is for the {there} page: opening it there…"),
                                ));
                                if let Some(w) = web_sys::window() {
                                    let l = w.location();
                                    let path = l.pathname().unwrap_or_default();
                                    let _ = l.set_href(&format!("{path}{query}"));
                                }
                            }
                            Err(p) => b.status = Some((true, p.to_string())),
                        }
                    }
                    Ok(Stored::Missing) => {
                        b.status = Some((true, format!("Workspace '{listed}' was deleted in another tab")));
                        b.index = pages::list(&*store).await.ok();
                    }
                    Err(e) => b.status = Some((true, e)),
                }
                bar.set(b);
            });
        })
    };
    let delete = {
        let bar = bar.clone();
        let store = store.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(store) = store.borrow().clone() else { return };
            let Some(id) = bar.current.clone() else { return };
            let bar = bar.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let mut b = (*bar).clone();
                let listed = b.index.as_ref().and_then(|i| i.name_of(&id)).unwrap_or("").to_string();
                match pages::delete(&*store, &id).await {
                    Ok(index) => {
                        b.index = Some(index);
                        b.current = None;
                        b.status = Some((
                            false,
                            format!("Deleted workspace '{listed}' (the page keeps showing it)"),
                        ));
                    }
                    Err(p) => b.status = Some((true, p.to_string())),
                }
                bar.set(b);
            });
        })
    };
    let on_name = {
        let name = name.clone();
        Callback::from(move |e: InputEvent| {
            name.set(e.target_unchecked_into::<web_sys::HtmlInputElement>().value())
        })
    };
    let on_key = {
        let save = save.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                e.prevent_default();
                save.emit(());
            }
        })
    };
    let on_save = Callback::from(move |_: MouseEvent| save.emit(()));
    let entries = bar.index.as_ref().map(|i| i.entries.clone()).unwrap_or_default();
    let id = |part: &str| format!("{prefix}-ws-{part}");
    html! {
        // Busy until the store is open (the list read or the store refused): saving waits for it.
        <div id={id("bar")} class="page-ws" role="group" aria-label="Workspaces"
             aria-busy={(bar.index.is_none() && !bar.blocked).to_string()}>
            <label for={id("list")} class="visually-hidden">{ "Workspace" }</label>
            <select id={id("list")} onchange={pick} disabled={bar.blocked}>
                <option value="" selected={bar.current.is_none()}>{ "Workspaces…" }</option>
                { for entries.iter().map(|e| {
                    let label = bar.index.as_ref().map_or(e.name.clone(), |i| pages::label(i, model, &e.id, &e.name));
                    html! { <option value={e.id.clone()} selected={bar.current.as_deref() == Some(e.id.as_str())}>{ label }</option> }
                }) }
            </select>
            <label for={id("name")} class="visually-hidden">{ "Workspace name" }</label>
            <input id={id("name")} type="text" value={(*name).clone()} oninput={on_name} onkeydown={on_key}
                   placeholder="Workspace name" maxlength="200" />
            <button id={id("save")} class="btn small" onclick={on_save} disabled={bar.blocked}>
                { if bar.current.is_some() { "Save" } else { "Save as workspace" } }
            </button>
            if bar.current.is_some() {
                <button id={id("delete")} class="btn small" onclick={delete}>{ "Delete" }</button>
            }
            if let Some((problem, text)) = &bar.status {
                <span id={id("status")} class={classes!("page-ws-status", if *problem { "error" } else { "info" })}
                      role={if *problem { "alert" } else { "status" }}>{ text }</span>
            }
        </div>
    }
}
