//! Declaration forms: exchanges, queues (with a typed arguments editor) and bindings.

use super::{event_value, use_app};
use crate::forms::{
    row_value, with_argument, BindingForm, ExchangeForm, FieldRow, QueueForm, QueueTypeChoice, ValueKind,
    QUEUE_ARGUMENTS,
};
use crate::state::Action;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FieldRowsProps {
    /// Prefix of the element ids (`{id}-key-0`, …).
    pub id: AttrValue,
    pub rows: Vec<FieldRow>,
    pub onchange: Callback<Vec<FieldRow>>,
    /// Known keys offered in a list, with their expected type.
    #[prop_or_default]
    pub known: &'static [(&'static str, ValueKind)],
}

/// A field-table editor: key, type and value per row; a blank row is always kept at the end.
///
/// The rows are keyed by their position and are the only children of their element. Yew matches an
/// unkeyed list of children from the END, and a `for` list is diffed together with its siblings: when the
/// first keystroke in the blank row appended a new blank row, the DOM row being typed in (with the focus)
/// was reused for the new blank row and the typed row was drawn into a new DOM row, so every later
/// keystroke went into yet another row (issue 15). A keyed list diffs by key only when every child of the
/// element is keyed (a sibling such as the `<datalist>` made the row be replaced, losing the focus), so
/// the datalist is outside. Position keys are enough: rows are only appended at the end, and a removal
/// redraws the controlled values of the rows after it.
///
/// A row of an exact type is read by the scenario format's reader in the scripting module
/// ([`crate::scripting::read_field_value`]): the editor loads the module as soon as such a row has a key,
/// and draws the rows again once it is there.
#[function_component(FieldRowsEditor)]
pub fn field_rows_editor(p: &FieldRowsProps) -> Html {
    let list_id = format!("{}-known", p.id);
    let reader_ready = use_state(crate::scripting::ready);
    {
        let reader_ready = reader_ready.clone();
        use_effect_with(crate::forms::needs_reader(&p.rows), move |&needs| {
            if needs && !*reader_ready {
                wasm_bindgen_futures::spawn_local(async move {
                    // A failed load leaves the rows saying they wait for it; the submit tries again
                    // and shows why it failed.
                    let _ = crate::scripting::load().await;
                    reader_ready.set(crate::scripting::ready());
                });
            }
        });
    }
    let update = |i: usize, f: fn(&mut FieldRow, String, &'static [(&'static str, ValueKind)])| {
        let rows = p.rows.clone();
        let onchange = p.onchange.clone();
        let known = p.known;
        Callback::from(move |e: Event| {
            let mut rows = rows.clone();
            if let Some(row) = rows.get_mut(i) {
                f(row, event_value(&e), known);
            }
            if rows.last().is_none_or(|r| !r.key.is_empty()) {
                rows.push(FieldRow::blank());
            }
            onchange.emit(rows);
        })
    };
    let remove = |i: usize| {
        let rows = p.rows.clone();
        let onchange = p.onchange.clone();
        Callback::from(move |_: MouseEvent| {
            let mut rows = rows.clone();
            rows.remove(i);
            if rows.is_empty() {
                rows.push(FieldRow::blank());
            }
            onchange.emit(rows);
        })
    };
    html! {
        <>
        if !p.known.is_empty() {
            <datalist id={list_id.clone()}>
                { for p.known.iter().map(|(k, _)| html! { <option value={*k} /> }) }
            </datalist>
        }
        <div class="field-rows">
            { for p.rows.iter().enumerate().map(|(i, row)| html! {
                <div class="field-row" key={i}>
                    <input id={format!("{}-key-{i}", p.id)} aria-label="Argument name" placeholder="key"
                           list={list_id.clone()} value={row.key.clone()}
                           oninput={update(i, |r, v, known| {
                               if let Some((_, kind)) = known.iter().find(|(k, _)| *k == v) {
                                   r.kind = *kind;
                               }
                               r.key = v;
                           }).reform(Event::from)} />
                    <select id={format!("{}-type-{i}", p.id)} aria-label="Value type" onchange={update(i, |r, v, _| r.kind = ValueKind::parse(&v))}>
                        { for ValueKind::ALL.iter().map(|k| html! {
                            <option value={k.as_str()} selected={*k == row.kind}>{ k.as_str() }</option>
                        }) }
                    </select>
                    <input id={format!("{}-value-{i}", p.id)} aria-label="Argument value"
                           placeholder={row.kind.placeholder()}
                           value={row.value.clone()} oninput={update(i, |r, v, _| r.value = v).reform(Event::from)} />
                    <button type="button" class="btn small" aria-label="Remove this argument"
                            onclick={remove(i)}>{ "✕" }</button>
                    // The row's own error, while it is typed; the rows stay as they are.
                    if let Some(e) = (!row.key.trim().is_empty()).then(|| row_value(row).err()).flatten() {
                        <span id={format!("{}-error-{i}", p.id)} class="field-error error-text" role="alert">{ e }</span>
                    }
                </div>
            }) }
        </div>
        </>
    }
}

/// The action a form's method gives: applying it, or its input error.
pub(crate) fn applied(method: Result<broker_core::amqp::Method, String>, done: String) -> Action {
    match method {
        Ok(method) => Action::Apply { method, done },
        Err(e) => Action::FormError(e),
    }
}

/// Dispatches the action a form gives from its `rows` (and the rest of it), which may need the scenario
/// format's reader: at once when they do not or it is loaded, else once the scripting module is (its
/// load's failure is the form's error).
pub(crate) fn dispatch_when_read(
    app: &super::AppContext,
    rows: &[FieldRow],
    action: impl FnOnce() -> Action + 'static,
) {
    if !crate::forms::needs_reader(rows) || crate::scripting::ready() {
        return app.dispatch(action());
    }
    let app = app.clone();
    wasm_bindgen_futures::spawn_local(async move {
        match crate::scripting::load().await {
            Ok(()) => app.dispatch(action()),
            Err(e) => app.dispatch(Action::FormError(e)),
        }
    });
}

macro_rules! text_field {
    ($state:ident, $field:ident) => {{
        let state = $state.clone();
        Callback::from(move |e: InputEvent| {
            let mut f = (*state).clone();
            f.$field = $crate::components::event_value(&e);
            state.set(f);
        })
    }};
}

macro_rules! select_field {
    ($state:ident, $field:ident) => {{
        let state = $state.clone();
        Callback::from(move |e: Event| {
            let mut f = (*state).clone();
            f.$field = $crate::components::event_value(&e);
            state.set(f);
        })
    }};
}

macro_rules! check_field {
    ($state:ident, $field:ident) => {{
        let state = $state.clone();
        Callback::from(move |e: Event| {
            let mut f = (*state).clone();
            f.$field = $crate::components::event_checked(&e);
            state.set(f);
        })
    }};
}

macro_rules! rows_field {
    ($state:ident, $field:ident) => {{
        let state = $state.clone();
        Callback::from(move |rows: Vec<$crate::forms::FieldRow>| {
            let mut f = (*state).clone();
            f.$field = rows;
            state.set(f);
        })
    }};
}

#[allow(unused_imports)] // select_field: kept with its siblings for forms with more selects
pub(crate) use {check_field, rows_field, select_field, text_field};

#[function_component(QueueFormView)]
pub fn queue_form_view() -> Html {
    let app = use_app();
    let form = use_state(QueueForm::default);
    let onsubmit = {
        let (app, form) = (app.clone(), form.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = (*form).clone();
            dispatch_when_read(&app, &form.arguments, move || applied(f.to_method(), "Declared".into()));
        })
    };
    let set_type = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let mut f = (*form).clone();
            f.queue_type = QueueTypeChoice::parse(&event_value(&e));
            form.set(f);
        })
    };
    html! {
        <form class="card form" id="queue-form" onsubmit={onsubmit} aria-label="Add a new queue">
            <h3>{ "Add a new queue" }</h3>
            <label>{ "Name" }<input id="queue-name" value={form.name.clone()} oninput={text_field!(form, name)}
                                     placeholder="empty: the broker names it (amq.gen-…)" /></label>
            <div class="checks">
                <label><input type="checkbox" id="queue-durable" checked={form.durable}
                              onchange={check_field!(form, durable)} />{ "durable" }</label>
                <label><input type="checkbox" id="queue-exclusive" checked={form.exclusive}
                              onchange={check_field!(form, exclusive)} />{ "exclusive" }</label>
                <label><input type="checkbox" id="queue-auto-delete" checked={form.auto_delete}
                              onchange={check_field!(form, auto_delete)} />{ "auto-delete" }</label>
            </div>
            <label>{ "Type" }
                <select id="queue-type" onchange={set_type}>
                    { for QueueTypeChoice::ALL.iter().map(|t| html! {
                        <option value={t.as_str()} selected={*t == form.queue_type}>{ t.as_str() }</option>
                    }) }
                </select>
            </label>
            <fieldset>
                <legend>{ "Arguments" }</legend>
                <FieldRowsEditor id="queue-arg" rows={form.arguments.clone()} onchange={rows_field!(form, arguments)}
                                 known={QUEUE_ARGUMENTS} />
                <div class="arg-shortcuts" id="queue-arg-shortcuts">
                    <span class="muted">{ format!("Add ({}):", form.queue_type.as_str()) }</span>
                    { for form.queue_type.suggested_arguments().iter().map(|(key, kind)| {
                        let (form, key, kind) = (form.clone(), *key, *kind);
                        html! {
                            <button type="button" class="btn small link" id={format!("queue-arg-add-{key}")}
                                    onclick={Callback::from(move |_: MouseEvent| {
                                        let mut f = (*form).clone();
                                        f.arguments = with_argument(&f.arguments, key, kind).0;
                                        form.set(f);
                                    })}>{ key }</button>
                        }
                    }) }
                </div>
            </fieldset>
            <button class="btn primary" id="queue-declare" type="submit">{ "Add queue" }</button>
        </form>
    }
}

const EXCHANGE_ARGUMENTS: &[(&str, ValueKind)] = &[("alternate-exchange", ValueKind::String)];
const BINDING_ARGUMENTS: &[(&str, ValueKind)] = &[("x-match", ValueKind::String)];

#[function_component(ExchangeFormView)]
pub fn exchange_form_view() -> Html {
    let app = use_app();
    let form = use_state(ExchangeForm::default);
    let onsubmit = {
        let (app, form) = (app.clone(), form.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (f, done) = ((*form).clone(), format!("Declared exchange '{}'", form.name));
            dispatch_when_read(&app, &form.arguments, move || applied(f.to_method(), done));
        })
    };
    html! {
        <form class="card form" id="exchange-form" onsubmit={onsubmit} aria-label="Add a new exchange">
            <h3>{ "Add a new exchange" }</h3>
            <label>{ "Name" }<input id="exchange-name" value={form.name.clone()} oninput={text_field!(form, name)} /></label>
            <label>{ "Type" }
                <select id="exchange-type" onchange={select_field!(form, kind)}>
                    { for ["direct", "fanout", "topic", "headers"].iter().map(|k| html! {
                        <option value={*k} selected={form.kind == *k}>{ *k }</option>
                    }) }
                </select>
            </label>
            <div class="checks">
                <label><input type="checkbox" checked={form.durable} onchange={check_field!(form, durable)} />{ "durable" }</label>
                <label><input type="checkbox" checked={form.auto_delete} onchange={check_field!(form, auto_delete)} />{ "auto-delete" }</label>
                <label><input type="checkbox" checked={form.internal} onchange={check_field!(form, internal)} />{ "internal" }</label>
            </div>
            <fieldset>
                <legend>{ "Arguments" }</legend>
                <FieldRowsEditor id="exchange-arg" rows={form.arguments.clone()} onchange={rows_field!(form, arguments)}
                                 known={EXCHANGE_ARGUMENTS} />
            </fieldset>
            <button class="btn primary" id="exchange-declare" type="submit">{ "Add exchange" }</button>
        </form>
    }
}

#[function_component(BindingFormView)]
pub fn binding_form_view() -> Html {
    let app = use_app();
    let form = use_state(BindingForm::default);
    let onsubmit = {
        let (app, form) = (app.clone(), form.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = (*form).clone();
            dispatch_when_read(&app, &form.arguments, move || applied(f.to_method(), "Bound".into()));
        })
    };
    let set_kind = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let mut f = (*form).clone();
            f.to_exchange = event_value(&e) == "exchange";
            form.set(f);
        })
    };
    let names = {
        let session = app.session.borrow();
        let exchanges: Vec<String> =
            session.broker().exchanges().into_iter().map(|x| x.name).filter(|n| !n.is_empty()).collect();
        let queues: Vec<String> = session.broker().queues().into_iter().map(|q| q.name).collect();
        (exchanges, queues)
    };
    let destinations = if form.to_exchange { names.0.clone() } else { names.1.clone() };
    html! {
        <form class="card form" id="binding-form" onsubmit={onsubmit} aria-label="Add a binding">
            <h3>{ "Add a binding" }</h3>
            <label>{ "From exchange" }
                <input id="binding-source" list="binding-exchanges" value={form.source.clone()}
                       oninput={text_field!(form, source)} />
            </label>
            <datalist id="binding-exchanges">{ for names.0.iter().map(|n| html! { <option value={n.clone()} /> }) }</datalist>
            <label>{ "To" }
                <select id="binding-kind" onchange={set_kind} aria-label="Destination type">
                    <option value="queue" selected={!form.to_exchange}>{ "queue" }</option>
                    <option value="exchange" selected={form.to_exchange}>{ "exchange" }</option>
                </select>
            </label>
            <label>{ "Destination" }
                <input id="binding-destination" list="binding-destinations" value={form.destination.clone()}
                       oninput={text_field!(form, destination)} />
            </label>
            <datalist id="binding-destinations">{ for destinations.iter().map(|n| html! { <option value={n.clone()} /> }) }</datalist>
            <label>{ "Routing key" }<input id="binding-key" value={form.routing_key.clone()}
                                            oninput={text_field!(form, routing_key)} /></label>
            <fieldset>
                <legend>{ "Arguments (headers exchanges: x-match and the headers to match)" }</legend>
                <FieldRowsEditor id="binding-arg" rows={form.arguments.clone()} onchange={rows_field!(form, arguments)}
                                 known={BINDING_ARGUMENTS} />
            </fieldset>
            <button class="btn primary" id="binding-add" type="submit">{ "Bind" }</button>
        </form>
    }
}
