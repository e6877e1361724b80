//! The Kafka sandbox (`index.html?embed=1&model=kafka&scenario=quickstart&panels=…`), its own wasm module
//! (`src/embed_kafka_main.rs`): a compact view of a Kafka document's run — controls, each partition's
//! offsets, each group's lag, the checks, the last events — driven by its page over `postMessage`
//! ([`super::kafka`], the model sandboxes' protocol with Kafka's requests). The listener, the player and
//! the controls, checks and log panels are the model sandboxes' ([`super::model_view`]).

use super::bridge;
use super::config::EmbedConfig;
use super::kafka::KafkaEmbed;
use super::model_view::{self, use_model_sandbox, ModelPanel};
use crate::kafka_page::model::KafkaSession;
use yew::prelude::*;

/// A part of the Kafka sandbox's view an author can choose (`panels=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KafkaPanel {
    Controls,
    /// Each partition: log start, high watermark, log end, leader, ISR.
    Partitions,
    /// Each group and partition: committed offset and lag.
    Groups,
    Checks,
    Log,
}

impl ModelPanel for KafkaPanel {
    const ALL: &'static [KafkaPanel] = &[
        KafkaPanel::Controls,
        KafkaPanel::Partitions,
        KafkaPanel::Groups,
        KafkaPanel::Checks,
        KafkaPanel::Log,
    ];
    const DEFAULT: &'static [KafkaPanel] =
        &[KafkaPanel::Controls, KafkaPanel::Partitions, KafkaPanel::Groups];

    fn name(self) -> &'static str {
        match self {
            KafkaPanel::Controls => "controls",
            KafkaPanel::Partitions => "partitions",
            KafkaPanel::Groups => "groups",
            KafkaPanel::Checks => "checks",
            KafkaPanel::Log => "log",
        }
    }
}

/// The Kafka sandbox's panels from `panels=` (default: controls, partitions, groups), with a warning per
/// unknown name; the rest of the address is read as the RabbitMQ sandbox reads it.
pub fn kafka_config(
    pairs: &[(String, String)],
    parent: Option<&str>,
    own: &str,
) -> (EmbedConfig, Vec<KafkaPanel>) {
    model_view::model_config(pairs, parent, own)
}

/// The Kafka sandbox's root component.
#[function_component(KafkaEmbedApp)]
pub fn kafka_embed_app() -> Html {
    let setup = use_memo((), |_| {
        kafka_config(&bridge::query_pairs(), bridge::referrer_origin().as_deref(), &bridge::own_origin())
    });
    let (config, panels) = (&setup.0, &setup.1);
    let sandbox = use_model_sandbox::<KafkaSession>(config);
    let guard = sandbox.embed.borrow();
    let state: &KafkaEmbed = &guard;
    model_view::shell::<_, KafkaSession>(config, panels, |p| match p {
        KafkaPanel::Controls => model_view::controls(&sandbox),
        KafkaPanel::Partitions => partitions(state),
        KafkaPanel::Groups => groups(state),
        KafkaPanel::Checks => model_view::checks(state),
        KafkaPanel::Log => model_view::log(state),
    })
}

fn partitions(state: &KafkaEmbed) -> Html {
    let rows: Vec<Html> = state
        .session
        .as_ref()
        .map(|s| s.partitions())
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let isr = p.isr.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
            html! {
                <tr data-partition={p.name()}>
                    <td class="name">{ p.name() }</td>
                    <td class="num log-start">{ p.log_start }</td>
                    <td class="num hw">{ p.high_watermark }</td>
                    <td class="num leo">{ p.log_end }</td>
                    <td class="num leader">{ p.leader.map_or("none".to_string(), |l| l.to_string()) }</td>
                    <td class="num isr">{ isr }</td>
                </tr>
            }
        })
        .collect();
    html! {
        <section class="embed-panel embed-queues embed-partitions" aria-label="Partitions">
            <table class="grid" id="embed-partitions">
                <thead><tr>
                    <th>{ "Partition" }</th>
                    <th class="num" title="Log start offset">{ "Log start" }</th>
                    <th class="num" title="High watermark: what consumers can read">{ "High watermark" }</th>
                    <th class="num" title="Log end offset">{ "Log end" }</th>
                    <th class="num">{ "Leader" }</th>
                    <th class="num" title="In-sync replicas">{ "ISR" }</th>
                </tr></thead>
                <tbody>
                    if rows.is_empty() {
                        <tr><td colspan="6" class="muted">{ "No partitions yet" }</td></tr>
                    }
                    { for rows }
                </tbody>
            </table>
        </section>
    }
}

fn groups(state: &KafkaEmbed) -> Html {
    let mut rows = Vec::new();
    for g in state.session.as_ref().map(|s| s.groups()).unwrap_or_default() {
        for (tp, committed, lag) in &g.offsets {
            rows.push(html! {
                <tr data-group={g.id.clone()} data-partition={format!("{}-{}", tp.topic, tp.partition)}>
                    <td class="name">{ g.id.clone() }</td>
                    <td>{ format!("{}-{}", tp.topic, tp.partition) }</td>
                    <td class="num committed">{ committed.map_or("–".to_string(), |c| c.to_string()) }</td>
                    <td class="num group-lag">{ *lag }</td>
                    <td>{ g.state.clone() }</td>
                </tr>
            });
        }
    }
    html! {
        <section class="embed-panel embed-queues embed-groups" aria-label="Consumer groups">
            <table class="grid" id="embed-groups">
                <thead><tr>
                    <th>{ "Group" }</th>
                    <th>{ "Partition" }</th>
                    <th class="num" title="The group's committed offset">{ "Committed" }</th>
                    <th class="num" title="Log end offset minus the committed offset">{ "Lag" }</th>
                    <th>{ "State" }</th>
                </tr></thead>
                <tbody>
                    if rows.is_empty() {
                        <tr><td colspan="5" class="muted">{ "No consumer groups" }</td></tr>
                    }
                    { for rows }
                </tbody>
            </table>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kafka_sandbox_reads_its_own_panels_and_the_shared_settings() {
        let pairs: Vec<(String, String)> = [
            ("embed", "1"),
            ("model", "kafka"),
            ("scenario", "quickstart"),
            ("panels", "groups,controls,queues"),
            ("origin", "https://blog.example"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (config, panels) = kafka_config(&pairs, None, "https://app.example");
        assert_eq!(panels, vec![KafkaPanel::Groups, KafkaPanel::Controls]);
        assert_eq!(config.scenario.as_deref(), Some("quickstart"));
        assert_eq!(config.allowed_origins, vec!["https://blog.example".to_string()]);
        assert_eq!(
            config.warnings,
            vec!["unknown panel 'queues' (known: controls, partitions, groups, checks, log)".to_string()]
        );
        let (_, panels) = kafka_config(&[], None, "https://app.example");
        assert_eq!(panels, vec![KafkaPanel::Controls, KafkaPanel::Partitions, KafkaPanel::Groups]);
    }
}
