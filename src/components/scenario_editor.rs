//! The Scenario tab: the loaded scenario's document and its scripts in code editors (line numbers, the
//! error's line marked, Tab indents), "Apply" to reload the run; `definitions.json` export and import.

use super::use_app;
use crate::session::editing::LocatedError;
use crate::state::editing::{document_scripts, EditAction};
use crate::state::Action;
use wasm_bindgen::JsCast;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// What Tab inserts in a code editor.
const INDENT: &str = "  ";

#[derive(Properties, PartialEq)]
pub struct CodeEditorProps {
    /// The textarea's id.
    pub id: AttrValue,
    pub label: AttrValue,
    pub text: String,
    /// The 1-based line to mark in the gutter (an error's).
    #[prop_or_default]
    pub error_line: Option<u32>,
    pub oninput: Callback<String>,
    #[prop_or(16)]
    pub rows: u32,
}

/// A monospace textarea with a line-number gutter that scrolls with it; Tab inserts spaces instead of
/// leaving the field. Not a keyboard trap: Shift+Tab moves focus back, and Escape then Tab moves it on.
#[function_component(CodeEditor)]
pub fn code_editor(p: &CodeEditorProps) -> Html {
    let gutter = use_node_ref();
    let area = use_node_ref();
    // A new error: scroll its line into view (two lines of context above it).
    {
        let (gutter, area) = (gutter.clone(), area.clone());
        use_effect_with(p.error_line, move |line| {
            let found = line.and_then(|n| {
                let g = gutter.cast::<web_sys::Element>()?;
                let ln = g.query_selector(&format!(".ln[data-line='{n}']")).ok()??;
                let ln = ln.dyn_into::<web_sys::HtmlElement>().ok()?;
                Some((g, ln, area.cast::<web_sys::Element>()?))
            });
            if let (Some((g, ln, area)), Some(n)) = (found, *line) {
                // Every gutter line is one text line high.
                let top = (n as i32 - 3).max(0) * ln.offset_height();
                area.set_scroll_top(top);
                g.set_scroll_top(area.scroll_top());
                // The error sits right above the editor: bring both into view.
                if let Some(error) = g.parent_element().and_then(|e| e.previous_element_sibling()) {
                    error.scroll_into_view_with_bool(true);
                }
            }
        });
    }
    // Escape was the last key: the next Tab leaves the field.
    let escaped = use_mut_ref(|| false);
    let lines = p.text.split('\n').count().max(1);
    let onscroll = {
        let gutter = gutter.clone();
        Callback::from(move |e: Event| {
            let Some(area) = e.target_dyn_into::<HtmlTextAreaElement>() else { return };
            if let Some(g) = gutter.cast::<web_sys::Element>() {
                g.set_scroll_top(area.scroll_top());
            }
        })
    };
    let oninput = {
        let cb = p.oninput.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e.target_dyn_into::<HtmlTextAreaElement>() {
                cb.emit(area.value());
            }
        })
    };
    let onkeydown = {
        let cb = p.oninput.clone();
        Callback::from(move |e: KeyboardEvent| {
            let after_escape = escaped.replace(e.key() == "Escape");
            if e.key() != "Tab"
                || after_escape
                || e.shift_key()
                || e.ctrl_key()
                || e.alt_key()
                || e.meta_key()
            {
                return;
            }
            let Some(area) = e.target_dyn_into::<HtmlTextAreaElement>() else { return };
            e.prevent_default();
            // Selection offsets are the browser's (UTF-16 units); the browser does the splice itself.
            let start = area.selection_start().ok().flatten().unwrap_or(0);
            if area.set_range_text(INDENT).is_ok() {
                let caret = start + INDENT.len() as u32;
                let _ = area.set_selection_start(Some(caret));
                let _ = area.set_selection_end(Some(caret));
                cb.emit(area.value());
            }
        })
    };
    html! {
        <div class="code-editor">
            <pre class="gutter" aria-hidden="true" ref={gutter}>
                { for (1..=lines as u32).map(|n| {
                    let error = p.error_line == Some(n);
                    html! { <span class={classes!("ln", error.then_some("error"))}
                                  data-line={n.to_string()}>{ format!("{n}\n") }</span> }
                }) }
            </pre>
            <textarea ref={area} id={p.id.clone()} aria-label={p.label.clone()} spellcheck="false" wrap="off"
                      autocomplete="off" rows={p.rows.to_string()} value={p.text.clone()}
                      {oninput} {onkeydown} onscroll={onscroll} />
        </div>
    }
}

/// An error under its editor: where it is and what is wrong.
fn error_box(id: &'static str, error: &Option<LocatedError>) -> Html {
    match error {
        None => html! {},
        Some(e) if e.line == 0 => html! {
            <p class="edit-error" id={id} role="alert">{ e.message.clone() }</p>
        },
        Some(e) => html! {
            <p class="edit-error" id={id} role="alert">
                <span class="where">{ format!("line {}, column {}", e.line, e.col) }</span>
                { format!(": {}", e.message) }
            </p>
        },
    }
}

pub use crate::shell::download;

#[function_component(ScenarioTab)]
pub fn scenario_tab() -> Html {
    html! {
        <div class="tab-body scenario-editor">
            <DocumentEditor />
            <ScriptEditor />
            <DefinitionsPanel />
        </div>
    }
}

#[function_component(DocumentEditor)]
fn document_editor() -> Html {
    let app = use_app();
    let text = app.document_text();
    let (title, loaded) = {
        let session = app.session.borrow();
        match session.scenario() {
            Some(s) => (format!("Scenario document: {}", s.name), true),
            None => ("Scenario document (manual mode: the current broker as a document)".to_string(), false),
        }
    };
    let edited = app.edit.draft.is_some();
    let dispatch = |action: fn() -> EditAction| {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| app.dispatch(Action::Edit(action())))
    };
    let oninput = {
        let app = app.clone();
        Callback::from(move |text: String| app.dispatch(Action::Edit(EditAction::EditDocument(text))))
    };
    let save = {
        let (app, text) = (app.clone(), text.clone());
        Callback::from(move |_: MouseEvent| {
            app.dispatch(match download("scenario.json", "application/json", &text) {
                Ok(()) => {
                    Action::Edit(EditAction::Downloaded("Downloaded the document as scenario.json".into()))
                }
                Err(e) => Action::FormError(e),
            });
        })
    };
    html! {
        <section class="card form" aria-label="Scenario document">
            <h3>{ title }
                if edited { <span class="badge" id="scenario-edited">{ "edited, not applied" }</span> }
            </h3>
            <p class="muted">{ "A Brokerlab scenario (format 2): definitions, producers, consumers, scripts, faults and \
                checks. Apply reloads the run from this text; if it is refused, the text stays as you typed it \
                and the error's line is marked." }</p>
            { error_box("scenario-error", &app.edit.document_error) }
            <CodeEditor id="scenario-text" label="Scenario document (JSON)" text={text} rows={22}
                        error_line={app.edit.document_error.as_ref().map(|e| e.line)} {oninput} />
            <div class="buttons">
                <button class="btn primary" id="scenario-apply" type="button"
                        onclick={dispatch(|| EditAction::ApplyDocument)}>{ "Apply" }</button>
                <button class="btn" id="scenario-revert" type="button" disabled={!edited || !loaded}
                        onclick={dispatch(|| EditAction::RevertDocument)}>{ "Revert to the loaded document" }</button>
                <button class="btn" id="scenario-new" type="button"
                        onclick={dispatch(|| EditAction::NewFromBroker)}>{ "New from current broker" }</button>
                <button class="btn" id="scenario-download" type="button" onclick={save}>{ "Download scenario" }</button>
            </div>
        </section>
    }
}

#[function_component(ScriptEditor)]
fn script_editor() -> Html {
    let app = use_app();
    // Parsed again only when the text changes (not on every tick of a playing run).
    let scripts = use_memo(app.document_text(), |text| -> Vec<String> {
        document_scripts(text).map(|s| s.into_keys().collect()).unwrap_or_default()
    });
    let selected = app.edit.script.as_ref().map(|(n, _)| n.clone());
    let select = {
        let app = app.clone();
        Callback::from(move |e: Event| {
            let name = super::event_value(&e);
            if !name.is_empty() {
                app.dispatch(Action::Edit(EditAction::SelectScript(name)));
            }
        })
    };
    let oninput = {
        let app = app.clone();
        Callback::from(move |text: String| app.dispatch(Action::Edit(EditAction::EditScript(text))))
    };
    let apply = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| app.dispatch(Action::Edit(EditAction::ApplyScript)))
    };
    html! {
        <section class="card form" aria-label="Scripts">
            <h3>{ "Scripts (Rhai)" }</h3>
            if scripts.is_empty() {
                <p class="muted" id="script-none">{ "This document has no scripts. Add one to its \"scripts\" map \
                    (name → Rhai source) and refer to it from an actor's \"script\" field." }</p>
            } else {
                <label>{ "Script" }
                    <select id="script-select" onchange={select}>
                        <option value="" selected={selected.is_none()}>{ "choose a script…" }</option>
                        { for scripts.iter().map(|n| html! {
                            <option value={n.clone()} selected={selected.as_ref() == Some(n)}>{ n.clone() }</option>
                        }) }
                    </select>
                </label>
            }
            if let Some((name, source)) = &app.edit.script {
                { error_box("script-error", &app.edit.script_error) }
                <CodeEditor id="script-text" label={format!("Script '{name}'")} text={source.clone()} rows={12}
                            error_line={app.edit.script_error.as_ref().map(|e| e.line)} {oninput} />
                <div class="buttons">
                    <button class="btn primary" id="script-apply" type="button" onclick={apply}>
                        { "Apply script" }</button>
                    <span class="muted">{ "Compiles the script, puts it in the document and reloads the run." }</span>
                </div>
            }
        </section>
    }
}

#[function_component(DefinitionsPanel)]
fn definitions_panel() -> Html {
    let app = use_app();
    let export = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| {
            let text = app.session.borrow().export_definitions();
            app.dispatch(match download("definitions.json", "application/json", &text) {
                Ok(()) => Action::Edit(EditAction::Downloaded(format!(
                    "Exported the broker's definitions as definitions.json (rabbit_version {}, the RabbitMQ \
                         version imitated)",
                    broker_core::amqp::definitions::EXPORT_RABBIT_VERSION
                ))),
                Err(e) => Action::FormError(e),
            });
        })
    };
    let pick = {
        let app = app.clone();
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() else { return };
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            // Choosing the same file again must fire `change` again.
            input.set_value("");
            let app = app.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
                match text.ok().and_then(|t| t.as_string()) {
                    Some(text) => app.dispatch(Action::Edit(EditAction::ImportDefinitions(text))),
                    None => app.dispatch(Action::FormError(format!("Could not read '{}'", file.name()))),
                }
            });
        })
    };
    let oninput = {
        let app = app.clone();
        Callback::from(move |text: String| app.dispatch(Action::Edit(EditAction::EditImport(text))))
    };
    let import = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| {
            let text = app.edit.import_text.clone();
            app.dispatch(Action::Edit(EditAction::ImportDefinitions(text)))
        })
    };
    let policies = app.session.borrow().policies();
    html! {
        <section class="card form" aria-label="definitions.json">
            <h3>{ "definitions.json" }</h3>
            <p class="muted">{ "RabbitMQ's definitions format (management UI → Overview → Export / Import \
                definitions): exchanges, queues, bindings and policies. Import applies to the current broker, all \
                or nothing: a file with an error changes nothing." }</p>
            <div class="buttons">
                <button class="btn" id="definitions-export" type="button" onclick={export}>
                    { "Export definitions.json" }</button>
                <label class="btn file-button">{ "Import a file…" }
                    <input type="file" id="definitions-file" accept=".json,application/json" onchange={pick} />
                </label>
            </div>
            { error_box("definitions-error", &app.edit.import_error) }
            <CodeEditor id="definitions-paste" label="definitions.json to import" text={app.edit.import_text.clone()}
                        rows={8} error_line={app.edit.import_error.as_ref().map(|e| e.line)} {oninput} />
            <div class="buttons">
                <button class="btn primary" id="definitions-import" type="button" onclick={import}
                        disabled={app.edit.import_text.trim().is_empty()}>{ "Import pasted definitions" }</button>
            </div>
            if !app.edit.import_warnings.is_empty() {
                <h4>{ "Left out by the last import" }</h4>
                <ul class="import-warnings" id="definitions-warnings">
                    { for app.edit.import_warnings.iter().map(|w| html! { <li>{ w.clone() }</li> }) }
                </ul>
            }
            if !policies.is_empty() {
                <h4>{ "Policies" }</h4>
                <table class="grid" id="policies">
                    <thead><tr>
                        <th>{ "Name" }</th><th>{ "Pattern" }</th><th>{ "Apply to" }</th><th>{ "Priority" }</th>
                        <th>{ "Definition" }</th><th>{ "In effect on" }</th>
                    </tr></thead>
                    <tbody>
                    { for policies.iter().map(|(p, applied)| html! {
                        <tr data-policy={p.name.clone()}>
                            <td>{ p.name.clone() }</td>
                            <td><code>{ p.pattern.clone() }</code></td>
                            <td>{ p.apply_to.clone() }</td>
                            <td>{ p.priority }</td>
                            <td><code>{ p.definition.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ") }</code></td>
                            <td>{ if applied.is_empty() { "—".to_string() } else { applied.join(", ") } }</td>
                        </tr>
                    }) }
                    </tbody>
                </table>
            }
        </section>
    }
}
