//! The SQS page's charts over the whole run: for each queue, its visible, in-flight and delayed counts
//! (`ApproximateNumberOfMessages`, `…NotVisible`, `…Delayed`) sampled from 0 to the end, the page's time
//! marked. The samples are the engine's census of a run played with the learner's calls by hand
//! ([`super::model::CountSeries`]); the axes' steps are the shell's ([`crate::components::charts::nice_step`]).

use super::model::CountSeries;
use crate::components::charts::nice_step;
use broker_core::sqs::service::Census;
use yew::prelude::*;

const W: f64 = 520.0;
const H: f64 = 96.0;

/// Which count of a census a line draws.
type Count = fn(&Census) -> usize;

/// (label, CSS class, which count).
const LINES: [(&str, &str, Count); 3] = [
    ("visible", "visible", |c| c.visible),
    ("in flight", "in-flight", |c| c.in_flight),
    ("delayed", "delayed", |c| c.delayed),
];

fn seconds(ms: u64) -> String {
    format!("{} s", ms / 1000)
}

#[derive(Properties, PartialEq)]
pub struct CountChartsProps {
    pub series: CountSeries,
    pub now: u64,
    pub end: u64,
}

/// One small chart per queue, the page's time as a dashed line.
#[function_component(CountCharts)]
pub fn count_charts(props: &CountChartsProps) -> Html {
    let s = &props.series;
    let end = props.end.max(1) as f64;
    let x = |t: u64| t as f64 / end * W;
    html! {
        <section id="sqs-charts" class="panel sqs-panel" aria-label="Counts over the run">
            <h2>{ "Visible, in flight and delayed over the run" }</h2>
            <ul class="sqs-chart-legend" aria-hidden="true">
                { for LINES.iter().map(|(label, class, _)| html! {
                    <li><span class={classes!("swatch", *class)}></span>{ *label }</li>
                }) }
            </ul>
            { for s.queues.iter().enumerate().map(|(q, name)| {
                let top = s.samples.iter().flat_map(|p| LINES.iter().map(move |(_, _, f)| f(&p.counts[q]))).max().unwrap_or(0);
                let step = nice_step(top.max(1) as f64, 2);
                let y_max = ((top.max(1) as f64) / step).ceil() * step;
                let y = move |v: usize| H - v as f64 / y_max * (H - 6.0);
                let now = props.now.min(props.end);
                let at_now = s.samples.iter().rev().find(|p| p.at_ms <= now).map(|p| p.counts[q]).unwrap_or_default();
                html! {
                    <figure class="sqs-chart" data-queue={name.clone()}>
                        <figcaption>{ name }</figcaption>
                        <svg viewBox={format!("-30 -4 {} {}", W + 36.0, H + 20.0)} role="img"
                             aria-label={format!("{name}: visible, in flight and delayed over the run; at {}: {} visible, {} in flight, {} delayed",
                                 seconds(now), at_now.visible, at_now.in_flight, at_now.delayed)}>
                            <line class="axis" x1="0" y1={H.to_string()} x2={W.to_string()} y2={H.to_string()} />
                            <line class="axis" x1="0" y1="0" x2="0" y2={H.to_string()} />
                            <text class="tick" x="-4" y={(y(y_max as usize) + 4.0).to_string()} text-anchor="end">{ y_max as u64 }</text>
                            <text class="tick" x="-4" y={H.to_string()} text-anchor="end">{ "0" }</text>
                            <text class="tick" x={W.to_string()} y={(H + 14.0).to_string()} text-anchor="end">{ seconds(props.end) }</text>
                            { for LINES.iter().map(|(_, class, f)| {
                                // A step line: a count holds until the next sample.
                                let mut points = Vec::new();
                                let mut last: Option<f64> = None;
                                for p in &s.samples {
                                    let yv = y(f(&p.counts[q]));
                                    if let Some(prev) = last {
                                        points.push(format!("{:.1},{:.1}", x(p.at_ms), prev));
                                    }
                                    points.push(format!("{:.1},{:.1}", x(p.at_ms), yv));
                                    last = Some(yv);
                                }
                                html! { <polyline class={classes!("sqs-chart-line", *class)} points={points.join(" ")} /> }
                            }) }
                            <line class="now" x1={x(now).to_string()} x2={x(now).to_string()} y1="0" y2={H.to_string()} />
                        </svg>
                    </figure>
                }
            }) }
        </section>
    }
}
