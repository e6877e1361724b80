//! The Redis sandbox (`index.html?embed=1&model=redis&scenario=streams-consumer-groups-and-xautoclaim&
//! panels=…`), its own wasm module (`src/embed_redis_main.rs`): a compact view of a Redis document's run —
//! controls, the keys (each list's length and the clients blocked on it, each stream's length and its
//! groups' pending entries and lag), pub/sub (each channel's publishes, deliveries, missed messages and
//! subscribers; each pattern's subscribers), the console (the commands the page sent and redis-cli's
//! replies), the checks, the last events — driven by its page over `postMessage` ([`super::redis`]). The
//! listener, the player and the controls, checks and log panels are the model sandboxes'
//! ([`super::model_view`]).

use super::bridge;
use super::config::EmbedConfig;
use super::model_view::{self, use_model_sandbox, ModelPanel};
use super::redis::RedisEmbed;
use crate::redis_page::model::{ConsoleLine, KeyKind, RedisSession};
use yew::prelude::*;

/// How many of the console's latest blocks the console panel shows.
const CONSOLE_LINES: usize = 12;

/// A part of the Redis sandbox's view an author can choose (`panels=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisPanel {
    Controls,
    /// Lists (length, blocked clients) and streams (length; per group pending, lag, last-delivered id).
    Keys,
    /// Channels (publishes, deliveries, missed, subscribers) and patterns (subscribers).
    Pubsub,
    /// The commands the page sent on the sandbox's console, with redis-cli's replies.
    Console,
    Checks,
    Log,
}

impl ModelPanel for RedisPanel {
    const ALL: &'static [RedisPanel] = &[
        RedisPanel::Controls,
        RedisPanel::Keys,
        RedisPanel::Pubsub,
        RedisPanel::Console,
        RedisPanel::Checks,
        RedisPanel::Log,
    ];
    const DEFAULT: &'static [RedisPanel] = &[RedisPanel::Controls, RedisPanel::Keys, RedisPanel::Pubsub];

    fn name(self) -> &'static str {
        match self {
            RedisPanel::Controls => "controls",
            RedisPanel::Keys => "keys",
            RedisPanel::Pubsub => "pubsub",
            RedisPanel::Console => "console",
            RedisPanel::Checks => "checks",
            RedisPanel::Log => "log",
        }
    }
}

/// The Redis sandbox's panels from `panels=` (default: controls, keys, pubsub), with a warning per unknown
/// name; the rest of the address is read as the RabbitMQ sandbox reads it.
pub fn redis_config(
    pairs: &[(String, String)],
    parent: Option<&str>,
    own: &str,
) -> (EmbedConfig, Vec<RedisPanel>) {
    model_view::model_config(pairs, parent, own)
}

/// The Redis sandbox's root component.
#[function_component(RedisEmbedApp)]
pub fn redis_embed_app() -> Html {
    let setup = use_memo((), |_| {
        redis_config(&bridge::query_pairs(), bridge::referrer_origin().as_deref(), &bridge::own_origin())
    });
    let (config, panels) = (&setup.0, &setup.1);
    let sandbox = use_model_sandbox::<RedisSession>(config);
    let guard = sandbox.embed.borrow();
    let state: &RedisEmbed = &guard;
    model_view::shell::<_, RedisSession>(config, panels, |p| match p {
        RedisPanel::Controls => model_view::controls(&sandbox),
        RedisPanel::Keys => keys(state),
        RedisPanel::Pubsub => pubsub(state),
        RedisPanel::Console => console(state),
        RedisPanel::Checks => model_view::checks(state),
        RedisPanel::Log => model_view::log(state),
    })
}

fn keys(state: &RedisEmbed) -> Html {
    let keys = state.session.as_ref().map(|s| s.keys()).unwrap_or_default();
    let mut rows = Vec::new();
    for k in &keys {
        match &k.kind {
            KeyKind::List(items) => rows.push(html! {
                <tr data-key={k.name.clone()} class="list">
                    <td class="name">{ &k.name }</td>
                    <td>{ "list" }</td>
                    <td class="num length">{ items.len() }</td>
                    <td class="detail">
                        if !k.blocked.is_empty() {
                            { format!("blocked: {}", k.blocked.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", ")) }
                        }
                    </td>
                </tr>
            }),
            KeyKind::Stream(s) => rows.push(html! {
                <tr data-key={k.name.clone()} class="stream">
                    <td class="name">{ &k.name }</td>
                    <td>{ "stream" }</td>
                    <td class="num length">{ s.length }</td>
                    <td class="detail">
                        { for s.groups.iter().map(|g| html! {
                            <span class="embed-redis-group" data-group={g.name.clone()}>
                                { format!("group {}: pending {} · lag {} · last-delivered {}", g.name, g.pending.len(),
                                    g.lag.map_or("(nil)".to_string(), |l| l.to_string()), g.last_delivered) }
                            </span>
                        }) }
                    </td>
                </tr>
            }),
            KeyKind::String(_) => {}
        }
    }
    html! {
        <section class="embed-panel embed-queues embed-redis-keys" aria-label="Lists and streams">
            <table class="grid" id="embed-keys">
                <thead><tr>
                    <th>{ "Key" }</th>
                    <th>{ "Type" }</th>
                    <th class="num" title="LLEN or XLEN">{ "Length" }</th>
                    <th title="The clients blocked on a list; each consumer group of a stream">{ "Blocked / groups" }</th>
                </tr></thead>
                <tbody>
                    if rows.is_empty() {
                        <tr><td colspan="4" class="muted">{ "No list or stream (an empty list does not exist)" }</td></tr>
                    }
                    { for rows }
                </tbody>
            </table>
        </section>
    }
}

fn pubsub(state: &RedisEmbed) -> Html {
    let counters = super::redis::counters(state, None).ok();
    let channels = counters.as_ref().and_then(|c| c["channels"].as_object().cloned()).unwrap_or_default();
    let patterns = counters.as_ref().and_then(|c| c["patterns"].as_object().cloned()).unwrap_or_default();
    html! {
        <section class="embed-panel embed-queues embed-redis-pubsub" aria-label="Pub/sub">
            <table class="grid" id="embed-pubsub">
                <thead><tr>
                    <th>{ "Channel" }</th>
                    <th class="num" title="PUBLISH commands on it so far">{ "Publishes" }</th>
                    <th class="num" title="The subscribers they reached in all (the sum of PUBLISH's replies)">{ "Delivered" }</th>
                    <th class="num" title="Messages the document's subscribers missed: not subscribed when published">{ "Missed" }</th>
                    <th class="num" title="PUBSUB NUMSUB now">{ "Subscribers" }</th>
                </tr></thead>
                <tbody>
                    if channels.is_empty() && patterns.is_empty() {
                        <tr><td colspan="5" class="muted">{ "No channel published on or subscribed to" }</td></tr>
                    }
                    { for channels.iter().map(|(name, c)| html! {
                        <tr data-channel={name.clone()}>
                            <td class="name">{ name }</td>
                            <td class="num">{ c["publishes"].to_string() }</td>
                            <td class="num delivered">{ c["receivers"].to_string() }</td>
                            <td class="num missed">{ c["missed"].to_string() }</td>
                            <td class="num">{ c["subscribers"].to_string() }</td>
                        </tr>
                    }) }
                    { for patterns.iter().map(|(name, p)| html! {
                        <tr data-pattern={name.clone()}>
                            <td class="name">{ format!("pattern {name}") }</td>
                            <td class="num"></td><td class="num"></td><td class="num"></td>
                            <td class="num">{ p["subscribers"].to_string() }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </section>
    }
}

fn console(state: &RedisEmbed) -> Html {
    let lines = state.session.as_ref().map(|s| s.console()).unwrap_or_default();
    let shown = &lines[lines.len().saturating_sub(CONSOLE_LINES)..];
    html! {
        <section class="embed-panel embed-log embed-redis-console" aria-label="Console">
            <pre id="embed-console">
                if lines.is_empty() {
                    <span class="muted">{ "The page's commands and redis-cli's replies show here." }</span>
                }
                { for shown.iter().map(|l| match l {
                    ConsoleLine::Prompt { prompt, command, .. } => html! { <span class="prompt">{ format!("{prompt}{command}\n") }</span> },
                    ConsoleLine::Output(text) => html! { <span>{ text }</span> },
                    ConsoleLine::Waiting => html! { <span class="muted">{ "(waiting…)\n" }</span> },
                }) }
            </pre>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redis_sandbox_reads_its_own_panels_and_the_shared_settings() {
        let pairs: Vec<(String, String)> = [
            ("embed", "1"),
            ("model", "redis"),
            ("scenario", "pubsub-fire-and-forget"),
            ("panels", "console,pubsub,queues"),
            ("origin", "https://blog.example"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (config, panels) = redis_config(&pairs, None, "https://app.example");
        assert_eq!(panels, vec![RedisPanel::Console, RedisPanel::Pubsub]);
        assert_eq!(config.scenario.as_deref(), Some("pubsub-fire-and-forget"));
        assert_eq!(config.allowed_origins, vec!["https://blog.example".to_string()]);
        assert_eq!(
            config.warnings,
            vec!["unknown panel 'queues' (known: controls, keys, pubsub, console, checks, log)".to_string()]
        );
        let (_, panels) = redis_config(&[], None, "https://app.example");
        assert_eq!(panels, vec![RedisPanel::Controls, RedisPanel::Keys, RedisPanel::Pubsub]);
    }
}
