//! What every model's page shares of the shell around its views: files in and out (import, export),
//! share links, the clipboard, and the hand-over of a document to the page of its model.
//!
//! One page per model (ARCHITECTURE.md): each page's wasm module carries only its model, so a document
//! written for another model is not refused but *forwarded*: the page navigates to the other model's page
//! with the document in a scenario link (`#scenario=…`, [`crate::persist::permalink`]), which that page
//! opens as it opens any link. [`forward_address`] decides the address (plain Rust, tested natively);
//! the browser side only follows it.
//!
//! Invariant: a forwarded document is carried byte for byte (deflated, not re-serialized), so the other
//! page refuses or plays exactly what the user chose; a document too large for a link is refused here
//! with what to do instead, and nothing is navigated.

use crate::persist::permalink;
use broker_core::scenario::document::{model_of, ModelName};

/// The address query that selects a model's page (index.html's loader reads it): RabbitMQ's page is the
/// default and has none.
pub fn model_query(model: ModelName) -> &'static str {
    match model {
        ModelName::Amqp => "",
        ModelName::Kafka => "?model=kafka",
        ModelName::Sqs => "?model=sqs",
        ModelName::Redis => "?model=redis",
    }
}

/// The model a scenario document is written for, when it is not `here`'s: the document goes to that
/// model's page. `None`: this page opens it (or refuses it with its own parser's error, at its line).
pub fn elsewhere(text: &str, here: ModelName) -> Option<ModelName> {
    model_of(text).ok().filter(|m| *m != here)
}

/// The address query that opens stored workspace `id` on `model`'s page, in the store `database`
/// (`brokerlab`, or `brokerlab-<name>` for `?db=<name>`): the RabbitMQ page reopens its last workspace
/// (which the caller sets), the other pages the one `?ws=` names.
pub fn workspace_query(model: ModelName, id: &str, database: &str) -> String {
    let db = database.strip_prefix("brokerlab-");
    match model {
        ModelName::Amqp => db.map(|d| format!("?db={d}")).unwrap_or_default(),
        _ => format!("{}&ws={id}{}", model_query(model), db.map(|d| format!("&db={d}")).unwrap_or_default()),
    }
}

/// The address (relative to the page's path: query and fragment) that opens `document` on `model`'s
/// page. Refused when the document is too large for a link.
pub fn forward_address(model: ModelName, document: &str) -> Result<String, String> {
    let fragment = permalink::encode(document);
    if fragment.len() > permalink::MAX_FRAGMENT_CHARS + permalink::PREFIX.len()
        || document.len() > permalink::MAX_DOCUMENT_BYTES
    {
        return Err(format!(
            "this document is for the {} page and too large to be handed to it by a link ({} bytes)",
            page_name(model),
            document.len()
        ));
    }
    Ok(format!("{}#{fragment}", model_query(model)))
}

/// The page's name as the model picker shows it.
pub fn page_name(model: ModelName) -> &'static str {
    match model {
        ModelName::Amqp => "RabbitMQ",
        ModelName::Kafka => "Kafka",
        ModelName::Sqs => "SQS",
        ModelName::Redis => "Redis",
    }
}

/// A file name from a document or workspace name: letters, digits and `-`; the rest becomes `_`.
pub fn safe_file_name(name: &str, fallback: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).take(60).collect();
    if s.is_empty() {
        fallback.into()
    } else {
        s
    }
}

/// An operation a page's form did to its running document, and the instant (ms) it was done at. A page
/// keeps these in time order ([`keep_applied`]) and replays each at its instant, after the run's own step
/// there ([`is_due`]), so the state at any time does not depend on how the page got there (a rewind, a
/// reopened workspace). So the form's own call comes after that step too: a page just opened at 0 plays
/// instant 0 before it (`SqsSession::operate`, `KafkaSession::operate`). The Kafka and SQS pages share it;
/// each brings its own operations.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Applied<Op> {
    pub at: u64,
    pub op: Op,
}

/// Keeps `op`, done at `at`, after every operation done at or before `at` (an operation done after a
/// rewind goes before the later ones).
pub fn keep_applied<Op>(ops: &mut Vec<Applied<Op>>, at: u64, op: Op) {
    let i = ops.partition_point(|a| a.at <= at);
    ops.insert(i, Applied { at, op });
}

/// Whether an operation done at `at` is played when a run goes from `from_ms` (`None`: a run built afresh,
/// from 0) to `to_ms`.
pub fn is_due(at: u64, from_ms: Option<u64>, to_ms: u64) -> bool {
    at <= to_ms && from_ms.is_none_or(|from| at > from)
}

pub use browser::*;

/// The browser side (compiles natively too, as web-sys does; only the page calls it).
mod browser {
    use super::*;
    use wasm_bindgen::JsCast;

    /// Opens `document` on `model`'s page (see [`forward_address`]); the current page is left (and kept in
    /// the history, so Back returns to it).
    pub fn forward(model: ModelName, document: &str) -> Result<(), String> {
        let address = forward_address(model, document)?;
        let location = web_sys::window().ok_or("no window")?.location();
        let path = location.pathname().unwrap_or_default();
        location
            .set_href(&format!("{path}{address}"))
            .map_err(|_| "the browser refused to navigate".to_string())
    }

    #[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
export async function brokerlab_fetch_text(file) {
  let response;
  try {
    response = await fetch(new URL(file, document.baseURI).href);
  } catch (e) {
    throw new Error(`${file}: ${e && e.message ? e.message : e}`);
  }
  if (!response.ok) throw new Error(`${file}: HTTP ${response.status}`);
  return await response.text();
}
"#)]
    extern "C" {
        fn brokerlab_fetch_text(file: &str) -> js_sys::Promise;
    }

    /// The text of one of the app's served files (`file` relative to the page, `document.baseURI`, as the
    /// loader resolves the modules: an embedded page has an opaque origin). The `Err` names the file and
    /// what failed (`kafka/documents/x/document.json: HTTP 404`, or the browser's network error).
    pub async fn fetch_text(file: &str) -> Result<String, String> {
        let answer = wasm_bindgen_futures::JsFuture::from(brokerlab_fetch_text(file)).await;
        match answer {
            Ok(text) => text.as_string().ok_or_else(|| format!("{file}: not text")),
            Err(e) => Err(e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .or_else(|| e.as_string())
                .unwrap_or_else(|| format!("{file}: the fetch failed"))),
        }
    }

    /// The page's own address with `fragment` (a share link): origin, path and model query.
    pub fn page_url(model: ModelName, fragment: &str) -> String {
        let base = web_sys::window()
            .and_then(|w| {
                let l = w.location();
                Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?))
            })
            .unwrap_or_default();
        format!("{base}{}#{fragment}", model_query(model))
    }

    /// The location's fragment, and removes it from the address (a link is opened once; reloading the page
    /// must not open it again).
    pub fn take_hash() -> String {
        let Some(w) = web_sys::window() else { return String::new() };
        let location = w.location();
        let hash = location.hash().unwrap_or_default();
        if !hash.is_empty() {
            let url = format!(
                "{}{}",
                location.pathname().unwrap_or_default(),
                location.search().unwrap_or_default()
            );
            if let Ok(h) = w.history() {
                let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        }
        hash
    }

    /// The file chosen in a file input's `change` event (the input is cleared, so choosing the same file
    /// again fires again).
    pub fn file_of(e: &yew::Event) -> Option<web_sys::File> {
        use yew::TargetCast;
        let input = e.target_dyn_into::<web_sys::HtmlInputElement>()?;
        let file = input.files()?.get(0);
        input.set_value("");
        file
    }

    /// A chosen file's text, bounded by `max_bytes`; refusals are sentences naming the file.
    pub async fn read_file(file: &web_sys::File, max_bytes: usize) -> Result<String, String> {
        if file.size() > max_bytes as f64 {
            return Err(format!(
                "'{}' is too large ({} bytes; at most {max_bytes})",
                file.name(),
                file.size()
            ));
        }
        match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(t) => Ok(t.as_string().unwrap_or_default()),
            Err(_) => Err(format!("'{}' cannot be read", file.name())),
        }
    }

    /// Hands a text to the user as a file download.
    pub fn download(file_name: &str, mime: &str, text: &str) -> Result<(), String> {
        let fail = |what: &str| format!("Could not save {file_name}: {what}");
        let parts = js_sys::Array::of1(&text.into());
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
            .map_err(|_| fail("the browser refused the file"))?;
        let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| fail("no object URL"))?;
        let document = web_sys::window().and_then(|w| w.document()).ok_or_else(|| fail("no document"))?;
        let anchor = document
            .create_element("a")
            .ok()
            .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
            .ok_or_else(|| fail("no link"))?;
        anchor.set_href(&url);
        anchor.set_download(file_name);
        anchor.click();
        let _ = web_sys::Url::revoke_object_url(&url);
        Ok(())
    }

    /// Puts `text` on the clipboard (the asynchronous Clipboard API, reached through `js_sys` so the page
    /// needs no extra `web-sys` feature); where it is missing (an insecure origin), selects the input
    /// `field_id` that shows it instead.
    pub fn copy_to_clipboard(text: &str, field_id: &str) -> bool {
        let Some(window) = web_sys::window() else { return false };
        let navigator = window.navigator();
        let clipboard =
            js_sys::Reflect::get(navigator.as_ref(), &"clipboard".into()).ok().filter(|c| c.is_object());
        let write = clipboard.as_ref().and_then(|c| {
            js_sys::Reflect::get(c, &"writeText".into())
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        });
        if let (Some(clipboard), Some(write)) = (clipboard, write) {
            if write.call1(&clipboard, &text.into()).is_ok() {
                return true;
            }
        }
        let field = window.document().and_then(|d| d.get_element_by_id(field_id));
        if let Some(field) = field.and_then(|f| f.dyn_into::<web_sys::HtmlInputElement>().ok()) {
            field.select();
        }
        false
    }
}

/// The shell's document buttons, the same on every model's page: Share link, Export, Import (a file
/// input in a button-like label). `prefix` names their ids (`ws` on the RabbitMQ page: `ws-share`, …).
#[derive(yew::Properties, PartialEq)]
pub struct FileButtonsProps {
    pub prefix: &'static str,
    pub on_share: yew::Callback<yew::MouseEvent>,
    pub on_export: yew::Callback<yew::MouseEvent>,
    pub on_import: yew::Callback<yew::Event>,
}

#[yew::function_component(FileButtons)]
pub fn file_buttons(props: &FileButtonsProps) -> yew::Html {
    let p = props.prefix;
    yew::html! {
        <>
            <button class="btn small" id={format!("{p}-share")} onclick={props.on_share.clone()}>{ "Share link" }</button>
            <button class="btn small" id={format!("{p}-export")} onclick={props.on_export.clone()}>{ "Export" }</button>
            <label class="btn small ws-import">
                { "Import" }
                <input type="file" id={format!("{p}-import")} accept=".json,application/json"
                       onchange={props.on_import.clone()} />
            </label>
        </>
    }
}

/// The share link, shown to be copied (ids `{prefix}-permalink`, `{prefix}-copy-link`).
#[derive(yew::Properties, PartialEq)]
pub struct ShareFieldProps {
    pub prefix: &'static str,
    pub link: String,
    pub on_copy: yew::Callback<yew::MouseEvent>,
}

#[yew::function_component(ShareField)]
pub fn share_field(props: &ShareFieldProps) -> yew::Html {
    let p = props.prefix;
    yew::html! {
        <span class="ws-share-field">
            <input class="ws-permalink" id={format!("{p}-permalink")} readonly=true aria-label="Share link"
                   value={props.link.clone()} />
            <button class="btn small" id={format!("{p}-copy-link")} onclick={props.on_copy.clone()}>{ "Copy" }</button>
        </span>
    }
}

/// The time bar every model's page shows, the same way: Rewind, Play/Pause, Step, −1 s, +1 s, the speed,
/// the clock and the scrubber. `prefix` names their ids (`redis` on the Redis page: `redis-play`, …).
/// The page owns the time; the bar only asks for moves.
#[derive(yew::Properties, PartialEq)]
pub struct TimeBarProps {
    pub prefix: &'static str,
    pub now_ms: u64,
    pub end_ms: u64,
    pub playing: bool,
    pub speed: u64,
    /// The speeds offered (×).
    pub speeds: &'static [u64],
    /// Go to an instant (ms; the page clamps it).
    pub on_seek: yew::Callback<u64>,
    pub on_play: yew::Callback<()>,
    /// Step to the next instant something happens.
    pub on_step: yew::Callback<()>,
    pub on_speed: yew::Callback<u64>,
}

/// `12.345 s`: the clock's format.
pub fn clock_text(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

#[yew::function_component(TimeBar)]
pub fn time_bar(props: &TimeBarProps) -> yew::Html {
    use yew::TargetCast;
    let p = props.prefix;
    let now = props.now_ms;
    let seek = |to: u64| {
        let on = props.on_seek.clone();
        yew::Callback::from(move |_: yew::MouseEvent| on.emit(to))
    };
    let on_play = {
        let on = props.on_play.clone();
        yew::Callback::from(move |_: yew::MouseEvent| on.emit(()))
    };
    let on_step = {
        let on = props.on_step.clone();
        yew::Callback::from(move |_: yew::MouseEvent| on.emit(()))
    };
    let on_speed = {
        let on = props.on_speed.clone();
        yew::Callback::from(move |e: yew::Event| {
            let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
            if let Ok(v) = value.parse::<u64>() {
                on.emit(v);
            }
        })
    };
    let scrub = {
        let on = props.on_seek.clone();
        yew::Callback::from(move |e: yew::InputEvent| {
            let v = e.target_unchecked_into::<web_sys::HtmlInputElement>().value();
            if let Ok(ms) = v.parse::<u64>() {
                on.emit(ms);
            }
        })
    };
    yew::html! {
        <>
            <div class="time-controls">
                <button id={format!("{p}-rewind")} class="btn" onclick={seek(0)} aria-label="Back to 0"
                        aria-keyshortcuts="Home">{ "Rewind" }</button>
                <button id={format!("{p}-play")} class="btn primary" onclick={on_play}
                        aria-keyshortcuts="Space">{ if props.playing { "Pause" } else { "Play" } }</button>
                <button id={format!("{p}-step")} class="btn" onclick={on_step} aria-label="Step to the next event">{ "Step" }</button>
                <button id={format!("{p}-back")} class="btn" onclick={seek(now.saturating_sub(1000))}
                        aria-label="Back one second" aria-keyshortcuts="ArrowLeft">{ "−1 s" }</button>
                <button id={format!("{p}-forward")} class="btn" onclick={seek(now + 1000)}
                        aria-label="Forward one second" aria-keyshortcuts="ArrowRight">{ "+1 s" }</button>
                <select id={format!("{p}-speed")} aria-label="Speed" onchange={on_speed}>
                    { for props.speeds.iter().map(|v| yew::html! {
                        <option value={v.to_string()} selected={props.speed == *v}>{ format!("{v}×") }</option>
                    }) }
                </select>
                <span id={format!("{p}-clock")} class="clock">{ format!("{} / {}", clock_text(now), clock_text(props.end_ms)) }</span>
            </div>
            <input id={format!("{p}-time")} type="range" class="time-scrub" min="0" max={props.end_ms.to_string()}
                   step="100" value={now.to_string()} oninput={scrub} aria-label="Time (rewind or fast-forward)" />
        </>
    }
}

/// A key the time bar answers when no field has the focus: Space plays or pauses, ← / → move one
/// second, Home goes back to 0, End to the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeKey {
    PlayPause,
    Back,
    Forward,
    Start,
    End,
}

impl TimeKey {
    /// The key's meaning, unless a modifier is held or a field (input, select, text area, button) has
    /// the focus: typing in a console must not move time.
    pub fn of(key: &str, in_field: bool, modified: bool) -> Option<TimeKey> {
        if in_field || modified {
            return None;
        }
        Some(match key {
            " " => TimeKey::PlayPause,
            "ArrowLeft" => TimeKey::Back,
            "ArrowRight" => TimeKey::Forward,
            "Home" => TimeKey::Start,
            "End" => TimeKey::End,
            _ => return None,
        })
    }

    /// The instant it goes to from `now` (`None`: play or pause).
    pub fn target(self, now_ms: u64, end_ms: u64) -> Option<u64> {
        match self {
            TimeKey::PlayPause => None,
            TimeKey::Back => Some(now_ms.saturating_sub(1000)),
            TimeKey::Forward => Some((now_ms + 1000).min(end_ms)),
            TimeKey::Start => Some(0),
            TimeKey::End => Some(end_ms),
        }
    }
}

/// A `keydown` listener on the document, removed when dropped.
pub struct KeyListener {
    document: web_sys::Document,
    closure: wasm_bindgen::closure::Closure<dyn Fn(web_sys::KeyboardEvent)>,
}

impl Drop for KeyListener {
    fn drop(&mut self) {
        use wasm_bindgen::JsCast;
        let _ = self
            .document
            .remove_event_listener_with_callback("keydown", self.closure.as_ref().unchecked_ref());
    }
}

/// Listens to `keydown` on the document until the returned value is dropped.
pub fn key_listener(f: impl Fn(web_sys::KeyboardEvent) + 'static) -> Option<KeyListener> {
    use wasm_bindgen::JsCast;
    let document = web_sys::window()?.document()?;
    let closure = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(f);
    document.add_event_listener_with_callback("keydown", closure.as_ref().unchecked_ref()).ok()?;
    Some(KeyListener { document, closure })
}

/// The time keys for a `keydown` event ([`TimeKey::of`], the focused element read from the event).
pub fn time_key_of(e: &web_sys::KeyboardEvent) -> Option<TimeKey> {
    use wasm_bindgen::JsCast;
    let in_field = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA" | "BUTTON"));
    TimeKey::of(&e.key(), in_field, e.ctrl_key() || e.meta_key() || e.alt_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_of_the_other_model_goes_to_its_page_with_the_document_intact() {
        let kafka = r#"{"brokerlab": 2, "model": "kafka", "name": "k"}"#;
        let amqp = r#"{"brokerlab": 2, "name": "a"}"#;
        assert_eq!(elsewhere(kafka, ModelName::Amqp), Some(ModelName::Kafka));
        assert_eq!(elsewhere(kafka, ModelName::Kafka), None);
        assert_eq!(elsewhere(amqp, ModelName::Kafka), Some(ModelName::Amqp));
        assert_eq!(elsewhere(amqp, ModelName::Amqp), None);
        let sqs = r#"{"brokerlab": 2, "model": "sqs", "name": "s"}"#;
        assert_eq!(elsewhere(sqs, ModelName::Amqp), Some(ModelName::Sqs));
        assert_eq!(elsewhere(sqs, ModelName::Kafka), Some(ModelName::Sqs));
        assert_eq!(elsewhere(kafka, ModelName::Sqs), Some(ModelName::Kafka));
        assert_eq!(elsewhere(sqs, ModelName::Sqs), None);
        // Not a document, or an unknown model: this page's own parser refuses it, at its field.
        assert_eq!(elsewhere("not json", ModelName::Amqp), None);
        assert_eq!(elsewhere(r#"{"brokerlab": 2, "model": "mqtt"}"#, ModelName::Amqp), None);
        let to_kafka = forward_address(ModelName::Kafka, kafka).unwrap();
        let fragment = to_kafka.strip_prefix("?model=kafka#").expect("the Kafka page's query");
        assert_eq!(permalink::decode(fragment), Ok(Some(kafka.to_string())));
        let to_rabbit = forward_address(ModelName::Amqp, amqp).unwrap();
        assert!(to_rabbit.starts_with("#scenario="), "{to_rabbit}");
        assert_eq!(permalink::decode(&to_rabbit), Ok(Some(amqp.to_string())));
    }

    #[test]
    fn time_keys_act_only_outside_fields_and_without_modifiers() {
        assert_eq!(TimeKey::of(" ", false, false), Some(TimeKey::PlayPause));
        assert_eq!(TimeKey::of(" ", true, false), None, "a space typed in the console stays there");
        assert_eq!(TimeKey::of("ArrowLeft", false, true), None);
        assert_eq!(TimeKey::of("x", false, false), None);
        assert_eq!(TimeKey::Back.target(500, 9_000), Some(0));
        assert_eq!(TimeKey::Forward.target(8_500, 9_000), Some(9_000));
        assert_eq!(TimeKey::End.target(0, 9_000), Some(9_000));
        assert_eq!(TimeKey::PlayPause.target(0, 9_000), None);
        assert_eq!(clock_text(12_345), "12.345 s");
    }

    #[test]
    fn a_stored_workspace_opens_on_its_models_page_in_the_same_database() {
        assert_eq!(workspace_query(ModelName::Sqs, "w3", "brokerlab"), "?model=sqs&ws=w3");
        assert_eq!(workspace_query(ModelName::Kafka, "w3", "brokerlab-e2e"), "?model=kafka&ws=w3&db=e2e");
        assert_eq!(workspace_query(ModelName::Amqp, "w3", "brokerlab-e2e"), "?db=e2e");
        assert_eq!(workspace_query(ModelName::Amqp, "w3", "brokerlab"), "");
    }

    #[test]
    fn a_document_too_large_for_a_link_is_refused_saying_so() {
        let huge = format!(
            r#"{{"brokerlab": 2, "model": "kafka", "description": "{}"}}"#,
            "x".repeat(permalink::MAX_DOCUMENT_BYTES)
        );
        let e = forward_address(ModelName::Kafka, &huge).unwrap_err();
        assert!(e.contains("Kafka page") && e.contains("too large"), "{e}");
        assert_eq!(safe_file_name("My doc: 1", "document"), "My_doc__1");
        assert_eq!(safe_file_name("", "document"), "document");
    }
}
