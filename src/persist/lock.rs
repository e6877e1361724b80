//! Tab ownership of a workspace through the Web Locks API (`navigator.locks`), called through
//! `js_sys::Reflect` because web-sys's binding is behind an unstable cfg. One tab holds the lock named
//! after the workspace and is the only one that writes it; another tab is told so and can take over
//! (`steal`), which makes the first tab's lock fail: it learns it lost ownership and stops writing.

use js_sys::{Function, Object, Promise, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// A held lock; dropping it does not release it (call [`TabLock::release`]).
pub struct TabLock {
    release: Rc<RefCell<Option<Function>>>,
}

impl TabLock {
    /// Lets the lock go (switching workspace).
    pub fn release(&self) {
        if let Some(resolve) = self.release.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    }
}

/// The lock name of a workspace (one namespace per database name, so tests do not clash with the app).
pub fn lock_name(database: &str, workspace_id: &str) -> String {
    format!("{database}/{workspace_id}")
}

/// Whether this browser has Web Locks.
pub fn supported() -> bool {
    locks().is_some()
}

fn locks() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    Reflect::get(&navigator, &"locks".into()).ok().filter(|l| !l.is_undefined() && !l.is_null())
}

/// Tries to take the lock `name`: `steal` takes it from its holder. `Ok(None)`: another tab holds it.
/// `on_lost` runs if another tab later steals it. Without Web Locks every tab owns (`Ok(Some)`).
pub async fn acquire(
    name: &str,
    steal: bool,
    on_lost: impl FnOnce() + 'static,
) -> Result<Option<TabLock>, String> {
    let release: Rc<RefCell<Option<Function>>> = Rc::new(RefCell::new(None));
    let Some(locks) = locks() else { return Ok(Some(TabLock { release })) };
    let mut resolve_acquired: Option<Function> = None;
    let acquired = Promise::new(&mut |resolve, _| resolve_acquired = Some(resolve));
    let resolve_acquired = resolve_acquired.expect("the executor runs at once");
    let held = Rc::clone(&release);
    let callback = Closure::once(move |lock: JsValue| -> JsValue {
        if lock.is_null() {
            let _ = resolve_acquired.call1(&JsValue::NULL, &JsValue::FALSE);
            return JsValue::UNDEFINED;
        }
        // The lock is held until this promise settles.
        let hold = Promise::new(&mut |resolve, _| *held.borrow_mut() = Some(resolve));
        let _ = resolve_acquired.call1(&JsValue::NULL, &JsValue::TRUE);
        hold.into()
    });
    let options = Object::new();
    let flag = if steal { "steal" } else { "ifAvailable" };
    Reflect::set(&options, &flag.into(), &JsValue::TRUE).map_err(|e| format!("{e:?}"))?;
    let request: Function = Reflect::get(&locks, &"request".into())
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "navigator.locks.request is not a function".to_string())?;
    let outcome =
        request.call3(&locks, &name.into(), &options, callback.as_ref()).map_err(|e| format!("{e:?}"))?;
    callback.forget();
    if let Ok(outcome) = outcome.dyn_into::<Promise>() {
        // Rejected (AbortError) when another tab steals the lock.
        let lost = Closure::once(move |_e: JsValue| on_lost());
        let _ = outcome.catch(&lost);
        lost.forget();
    }
    let got = JsFuture::from(acquired).await.map_err(|e| format!("{e:?}"))?;
    Ok(got.as_bool().unwrap_or(false).then_some(TabLock { release }))
}
