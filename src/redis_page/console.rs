//! The console: redis-cli on the running document. A command typed here is sent at the page's time through
//! the engine ([`super::model::RedisSession::type_command`]) and its reply printed as redis-cli prints it;
//! what was sent is kept and sent again when the run is replayed (a rewind, Play after the end). Keyboard:
//! Enter sends, Up / Down walk through the commands typed before, as redis-cli's history does; Ctrl-C
//! (or the button shown then) gets redis-cli out of a blocking command or of reading messages. redis-cli's
//! own commands are the engine's too (`help`, `help SET`, `help @list`, `quit` / `exit`, which close the
//! connection); `clear` empties what is shown here, the history stays.

use super::model::{ConsoleLine, RedisSession, CTRL_C, PROMPT, PROMPT_TX};
use yew::prelude::*;

/// The session, shared with the page and the workspace bar (compared by identity: the `version` prop
/// says when it changed).
pub use crate::ws_bar::SessionRef;

/// Where Up / Down go in the history (oldest first): `cursor` is the entry shown (`None`: the line being
/// typed). Returns the new cursor and the text the input shows (`None`: leave the input as it is).
pub fn recall(history: &[String], cursor: Option<usize>, up: bool) -> (Option<usize>, Option<String>) {
    match (up, cursor) {
        (true, None) if history.is_empty() => (None, None),
        (true, None) => (Some(history.len() - 1), history.last().cloned()),
        (true, Some(0)) => (Some(0), None),
        (true, Some(i)) => (Some(i - 1), history.get(i - 1).cloned()),
        (false, None) => (None, None),
        (false, Some(i)) if i + 1 >= history.len() => (None, Some(String::new())),
        (false, Some(i)) => (Some(i + 1), history.get(i + 1).cloned()),
    }
}

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    pub session: SessionRef<RedisSession>,
    /// Changes whenever the page redraws (time moved, a command was sent): the console follows.
    pub version: u64,
    /// A command was sent: the page redraws.
    pub on_sent: Callback<()>,
}

#[function_component(Console)]
pub fn console(props: &ConsoleProps) -> Html {
    let input = use_state(String::new);
    let cursor = use_state(|| None::<usize>);
    // A line that was not sent: redis-cli's refusal, or why the console cannot send it now.
    let note = use_state(|| None::<String>);
    let out_ref = use_node_ref();
    {
        // Keep the newest output in view, as a terminal does.
        let out_ref = out_ref.clone();
        use_effect_with((props.version, (*note).clone()), move |_| {
            if let Some(el) = out_ref.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    let submit = {
        let session = props.session.clone();
        let input = input.clone();
        let cursor = cursor.clone();
        let note = note.clone();
        let on_sent = props.on_sent.clone();
        move || {
            let line = (*input).clone();
            if line.trim().is_empty() {
                return;
            }
            let result = session.0.borrow_mut().type_command(&line);
            input.set(String::new());
            cursor.set(None);
            match result {
                Ok(_) => note.set(None),
                Err(e) => note.set(Some(e)),
            }
            on_sent.emit(());
        }
    };
    let interrupt = {
        let session = props.session.clone();
        let note = note.clone();
        let on_sent = props.on_sent.clone();
        move || {
            let result = session.0.borrow_mut().type_command(CTRL_C);
            note.set(result.err().filter(|e| !e.is_empty()));
            on_sent.emit(());
        }
    };
    let on_ctrl_c = {
        let interrupt = interrupt.clone();
        Callback::from(move |_: MouseEvent| interrupt())
    };
    let onkeydown = {
        let session = props.session.clone();
        let input = input.clone();
        let cursor = cursor.clone();
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Enter" => {
                e.prevent_default();
                submit();
            }
            // Ctrl-C while redis-cli waits or reads messages; otherwise the browser's copy.
            "c" if e.ctrl_key() && {
                let s = session.0.borrow();
                s.run().hand_reading() || s.run().hand_waiting().is_some()
            } =>
            {
                e.prevent_default();
                interrupt();
            }
            key @ ("ArrowUp" | "ArrowDown") => {
                e.prevent_default();
                let s = session.0.borrow();
                let (c, text) = recall(&s.history, *cursor, key == "ArrowUp");
                cursor.set(c);
                if let Some(t) = text {
                    input.set(t);
                }
            }
            _ => {}
        })
    };
    let oninput = {
        let input = input.clone();
        Callback::from(move |e: InputEvent| {
            input.set(e.target_unchecked_into::<web_sys::HtmlInputElement>().value());
        })
    };
    let s = props.session.0.borrow();
    let lines = s.console();
    let waiting = s.run().hand_waiting().map(|(c, _)| format!("waiting in {c}… (Ctrl-C ends it)"));
    let reading = s.run().hand_reading();
    let prompt = if s.run().hand_in_transaction() { PROMPT_TX } else { PROMPT };
    let placeholder = match (waiting, reading) {
        (Some(w), _) => w,
        (None, true) => "reading messages… (Ctrl-C to quit)".to_string(),
        (None, false) => String::new(),
    };
    html! {
        <section id="redis-console" class="panel redis-panel" aria-label="Console (redis-cli)">
            <h2>{ "Console" }<span class="muted">{ " — redis-cli on this run, at the page's time" }</span></h2>
            <pre id="redis-console-out" class="redis-console-out" ref={out_ref} aria-live="polite">
                // The hint until a first line is typed (after `clear`, an empty screen as redis-cli's).
                if s.run().hand_lines().is_empty() {
                    <span class="muted">{ "Type a command below: XADD orders * item pen, LRANGE jobs 0 -1, XPENDING orders shipping - + 10…\n" }</span>
                }
                { for lines.iter().map(|l| match l {
                    ConsoleLine::Prompt { at_ms, prompt, command } => html! {
                        <span class="redis-typed" data-at={at_ms.to_string()}>
                            <span class="redis-prompt">{ *prompt }</span>{ command }{ "\n" }
                        </span>
                    },
                    ConsoleLine::Output(text) => html! {
                        <span class={classes!("redis-output", text.starts_with("(error)").then_some("error"))}>{ text }</span>
                    },
                    ConsoleLine::Waiting => html! { <span class="redis-waiting muted">{ "(waiting…)\n" }</span> },
                }) }
                if let Some(n) = &*note {
                    if !n.is_empty() { <span class="redis-note error">{ format!("{n}\n") }</span> }
                }
            </pre>
            <div class="redis-console-line">
                <label for="redis-console-input" class="redis-prompt">{ prompt.trim_end() }</label>
                <input id="redis-console-input" class="redis-console-input" type="text" autocomplete="off"
                       spellcheck="false" aria-label="Command (redis-cli): Enter sends, Up recalls"
                       placeholder={placeholder.clone()}
                       value={(*input).clone()} {oninput} {onkeydown} />
                if !placeholder.is_empty() {
                    <button id="redis-console-ctrl-c" type="button" class="redis-ctrl-c" onclick={on_ctrl_c}
                            title="Ctrl-C: redis-cli leaves the blocking command or stops reading messages (its connection closes)">
                        { "Ctrl-C" }
                    </button>
                }
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_and_down_walk_the_history_as_redis_cli_s_does() {
        let h: Vec<String> = ["LPUSH q a", "LLEN q", "LPOP q"].map(String::from).to_vec();
        assert_eq!(recall(&h, None, true), (Some(2), Some("LPOP q".into())));
        assert_eq!(recall(&h, Some(2), true), (Some(1), Some("LLEN q".into())));
        assert_eq!(recall(&h, Some(0), true), (Some(0), None), "the oldest stays");
        assert_eq!(recall(&h, Some(1), false), (Some(2), Some("LPOP q".into())));
        assert_eq!(recall(&h, Some(2), false), (None, Some(String::new())), "past the newest: an empty line");
        assert_eq!(recall(&h, None, false), (None, None));
        assert_eq!(recall(&[], None, true), (None, None));
    }
}
