//! The SQS sandbox (`index.html?embed=1&model=sqs&scenario=visibility-timeout&panels=…`), its own wasm
//! module (`src/embed_sqs_main.rs`): a compact view of an SQS document's run — controls, each queue's
//! visible / in-flight / delayed counts with its dead-letter queue, the checks, the last events — driven
//! by its page over `postMessage` ([`super::sqs`], the model sandboxes' protocol with SQS's calls). The
//! listener, the player and the controls, checks and log panels are the model sandboxes'
//! ([`super::model_view`]).

use super::bridge;
use super::config::EmbedConfig;
use super::model_view::{self, use_model_sandbox, ModelPanel};
use super::sqs::SqsEmbed;
use crate::sqs_page::model::SqsSession;
use yew::prelude::*;

/// A part of the SQS sandbox's view an author can choose (`panels=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqsPanel {
    Controls,
    /// Each queue: visible, in flight, delayed; its dead-letter queue and how many moved there.
    Queues,
    Checks,
    Log,
}

impl ModelPanel for SqsPanel {
    const ALL: &'static [SqsPanel] = &[SqsPanel::Controls, SqsPanel::Queues, SqsPanel::Checks, SqsPanel::Log];
    const DEFAULT: &'static [SqsPanel] = &[SqsPanel::Controls, SqsPanel::Queues];

    fn name(self) -> &'static str {
        match self {
            SqsPanel::Controls => "controls",
            SqsPanel::Queues => "queues",
            SqsPanel::Checks => "checks",
            SqsPanel::Log => "log",
        }
    }
}

/// The SQS sandbox's panels from `panels=` (default: controls, queues), with a warning per unknown name;
/// the rest of the address is read as the RabbitMQ sandbox reads it.
pub fn sqs_config(
    pairs: &[(String, String)],
    parent: Option<&str>,
    own: &str,
) -> (EmbedConfig, Vec<SqsPanel>) {
    model_view::model_config(pairs, parent, own)
}

/// The SQS sandbox's root component.
#[function_component(SqsEmbedApp)]
pub fn sqs_embed_app() -> Html {
    let setup = use_memo((), |_| {
        sqs_config(&bridge::query_pairs(), bridge::referrer_origin().as_deref(), &bridge::own_origin())
    });
    let (config, panels) = (&setup.0, &setup.1);
    let sandbox = use_model_sandbox::<SqsSession>(config);
    let guard = sandbox.embed.borrow();
    let state: &SqsEmbed = &guard;
    model_view::shell::<_, SqsSession>(config, panels, |p| match p {
        SqsPanel::Controls => model_view::controls(&sandbox),
        SqsPanel::Queues => queues(state),
        SqsPanel::Checks => model_view::checks(state),
        SqsPanel::Log => model_view::log(state),
    })
}

fn queues(state: &SqsEmbed) -> Html {
    let rows: Vec<Html> = state
        .session
        .as_ref()
        .map(|s| s.queues())
        .unwrap_or_default()
        .into_iter()
        .map(|q| {
            let dead_letter = q.dead_letter.as_ref().map_or(String::new(), |d| {
                format!("{} after {} ({} moved)", d.to, d.max_receive_count, d.moved)
            });
            html! {
                <tr data-queue={q.name.clone()}>
                    <td class="name">{ q.name.clone() }</td>
                    <td class="num visible">{ q.visible }</td>
                    <td class="num in-flight">{ q.in_flight }</td>
                    <td class="num delayed">{ q.delayed }</td>
                    <td class="dead-letter">{ dead_letter }</td>
                </tr>
            }
        })
        .collect();
    html! {
        <section class="embed-panel embed-queues embed-sqs-queues" aria-label="Queues">
            <table class="grid" id="embed-queues">
                <thead><tr>
                    <th>{ "Queue" }</th>
                    <th class="num" title="ApproximateNumberOfMessages: visible, waiting for a receive">{ "Visible" }</th>
                    <th class="num" title="ApproximateNumberOfMessagesNotVisible: received, not deleted yet">{ "In flight" }</th>
                    <th class="num" title="ApproximateNumberOfMessagesDelayed">{ "Delayed" }</th>
                    <th title="The redrive policy: the dead-letter queue, after how many receives">{ "Dead-letter queue" }</th>
                </tr></thead>
                <tbody>
                    if rows.is_empty() {
                        <tr><td colspan="5" class="muted">{ "No queues" }</td></tr>
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
    fn the_sqs_sandbox_reads_its_own_panels_and_the_shared_settings() {
        let pairs: Vec<(String, String)> = [
            ("embed", "1"),
            ("model", "sqs"),
            ("scenario", "visibility-timeout"),
            ("panels", "log,controls,partitions"),
            ("origin", "https://blog.example"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (config, panels) = sqs_config(&pairs, None, "https://app.example");
        assert_eq!(panels, vec![SqsPanel::Log, SqsPanel::Controls]);
        assert_eq!(config.scenario.as_deref(), Some("visibility-timeout"));
        assert_eq!(config.allowed_origins, vec!["https://blog.example".to_string()]);
        assert_eq!(
            config.warnings,
            vec!["unknown panel 'partitions' (known: controls, queues, checks, log)".to_string()]
        );
        let (_, panels) = sqs_config(&[], None, "https://app.example");
        assert_eq!(panels, vec![SqsPanel::Controls, SqsPanel::Queues]);
    }
}
