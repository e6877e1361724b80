//! The loaded scenario's panel: its name, description, progress to its end, and its checks shown live as
//! pass / fail / pending with the value observed. It sits above the tabs: its height is capped (it
//! scrolls inside, `www/style.css`) and it folds to its head and summary line, so the tabs keep their room
//! on a laptop whatever the scenario says.

use super::use_app;
use broker_core::scenario::sim::CheckStatus;
use yew::prelude::*;

fn status_label(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "pass",
        CheckStatus::Fail => "fail",
        CheckStatus::Pending => "pending",
    }
}

#[function_component(ChecksPanel)]
pub fn checks_panel() -> Html {
    let app = use_app();
    let folded = use_state(|| false);
    let session = app.session.borrow();
    let Some(info) = session.scenario() else { return html! {} };
    let checks = session.checks();
    let (now, end) = (session.now(), session.end().unwrap_or(session.now()));
    let percent = if end.as_millis() == 0 { 100 } else { now.as_millis() * 100 / end.as_millis() };
    let passed = checks.iter().filter(|c| c.status == CheckStatus::Pass).count();
    let failed = checks.iter().filter(|c| c.status == CheckStatus::Fail).count();
    let summary = format!(
        "{passed} of {} pass · {failed} fail · {} pending",
        checks.len(),
        checks.len() - passed - failed
    );
    let toggle = {
        let folded = folded.clone();
        Callback::from(move |_: MouseEvent| folded.set(!*folded))
    };
    html! {
        <section class={classes!("scenario-panel", folded.then_some("folded"))} id="checks" aria-label="Scenario checks">
            <header class="scenario-head">
                <h2 id="scenario-name">{ info.name.clone() }</h2>
                <span class="scenario-time">{ format!("{now} of {end}") }</span>
                <progress max="100" value={percent.min(100).to_string()} aria-label="Run progress" />
                <button type="button" class="btn small" id="checks-fold" onclick={toggle}
                        aria-expanded={(!*folded).to_string()} aria-controls="checks-details">
                    { if *folded { "Show details" } else { "Hide details" } }
                </button>
            </header>
            <p id="checks-summary" class="checks-summary" aria-live="polite">{ summary }</p>
            <div id="checks-details" class="scenario-details" hidden={*folded}>
                <p class="scenario-description">{ info.description.clone() }</p>
                <ol class="checks">
                    { for checks.iter().map(|c| {
                        let status = status_label(c.status);
                        html! {
                            <li class={classes!("check", status)} data-status={status}>
                                <span class="check-status">{ status }</span>
                                <span class="check-description">{ c.description.clone() }</span>
                                <span class="check-observed">{ format!("observed {}", c.observed) }</span>
                                if !c.reason.is_empty() {
                                    <span class="check-reason">{ c.reason.clone() }</span>
                                }
                            </li>
                        }
                    }) }
                </ol>
            </div>
        </section>
    }
}
