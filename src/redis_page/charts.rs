//! The Redis page's charts over the whole run: each list's length (`LLEN`), each consumer group's pending
//! entries (`XPENDING`'s count) and lag (`XINFO GROUPS`), each channel's messages delivered and missed so
//! far, sampled from 0 to the end with the page's time marked. The samples are the engine's, from a run
//! played afresh with the console's commands ([`super::model::ChartSeries`]), taken only once the panel is
//! opened and kept until the console's commands change ([`RedisSession::charts`]); the axes' steps are the
//! shell's ([`crate::components::charts::nice_step`]), the drawing the SQS page's (small step-line charts).

use super::console::SessionRef;
use super::model::{Chart, ChartSeries, RedisSession};
use crate::components::charts::nice_step;
use yew::prelude::*;

const W: f64 = 520.0;
const H: f64 = 80.0;

fn seconds(ms: u64) -> String {
    format!("{} s", ms / 1000)
}

/// A line's points as a step line (a value holds until the next sample); a sample without a value (a
/// nil lag, a group not created yet) breaks the line, so each run of values is its own polyline.
fn step_lines(
    at_ms: &[u64],
    values: &[Option<i64>],
    x: impl Fn(u64) -> f64,
    y: impl Fn(i64) -> f64,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut points: Vec<String> = Vec::new();
    let mut last: Option<f64> = None;
    for (t, v) in at_ms.iter().zip(values) {
        match v {
            Some(v) => {
                let yv = y(*v);
                if let Some(prev) = last {
                    points.push(format!("{:.1},{prev:.1}", x(*t)));
                }
                points.push(format!("{:.1},{yv:.1}", x(*t)));
                last = Some(yv);
            }
            None => {
                if !points.is_empty() {
                    out.push(points.join(" "));
                }
                points.clear();
                last = None;
            }
        }
    }
    if !points.is_empty() {
        out.push(points.join(" "));
    }
    out
}

/// What a chart says at the page's time, for its accessible label and its readout.
fn at_now(series: &ChartSeries, chart: &Chart, now: u64) -> String {
    let i = series.at_ms.iter().rposition(|t| *t <= now).unwrap_or(0);
    let parts: Vec<String> = chart
        .id
        .lines()
        .iter()
        .zip(&chart.lines)
        .map(|((label, _), values)| {
            let v = values.get(i).copied().flatten();
            format!("{label} {}", v.map_or("(nil)".to_string(), |v| v.to_string()))
        })
        .collect();
    parts.join(" · ")
}

#[derive(Properties, PartialEq)]
pub struct RedisChartsProps {
    /// The page's session (compared by identity: the `version` prop says when it changed).
    pub session: SessionRef<RedisSession>,
    /// Changes whenever the page redraws (time moved, a command was sent, a document opened).
    pub version: u64,
}

/// The charts' panel: hidden until asked for, since showing them samples the whole run
/// ([`RedisSession::charts`], kept until the console's commands change); once shown, one small chart per
/// list, group and channel, the page's time as a dashed line. The panel stays as it is when another
/// document opens.
#[function_component(RedisCharts)]
pub fn redis_charts(props: &RedisChartsProps) -> Html {
    let shown = use_state(|| false);
    let toggle = {
        let shown = shown.clone();
        Callback::from(move |_: MouseEvent| shown.set(!*shown))
    };
    let s = props.session.0.borrow();
    html! {
        <section id="redis-charts" class="panel redis-panel" aria-label="Charts over the run">
            <div class="redis-charts-head">
                <h2>{ "Over the run" }</h2>
                <button id="redis-charts-toggle" type="button" aria-expanded={shown.to_string()}
                        aria-controls="redis-charts-body" onclick={toggle}>
                    { if *shown { "Hide charts" } else { "Show charts" } }
                </button>
            </div>
            if *shown {
                <div id="redis-charts-body">{ charts(&s.charts(), s.time_ms(), s.end_ms()) }</div>
            } else {
                <p class="muted">{ "Each list's length, each consumer group's pending entries and lag, each channel's messages delivered and missed, from 0 to the end (the console's commands included)." }</p>
            }
        </section>
    }
}

/// One small chart per list, group and channel, the page's time (`now`) as a dashed line.
fn charts(s: &ChartSeries, now: u64, end_ms: u64) -> Html {
    let end = end_ms.max(1) as f64;
    let x = |t: u64| t as f64 / end * W;
    let now = now.min(end_ms);
    html! {
        <>
            if s.charts.is_empty() {
                <p class="muted">{ "No list, consumer group or channel with publishes in this run." }</p>
            }
            { for s.charts.iter().map(|c| {
                let top = c.lines.iter().flatten().flatten().copied().max().unwrap_or(0).max(1);
                let bottom = c.lines.iter().flatten().flatten().copied().min().unwrap_or(0).min(0);
                let step = nice_step((top - bottom) as f64, 2);
                let y_max = (top as f64 / step).ceil() * step;
                let y_min = (bottom as f64 / step).floor() * step;
                let y = move |v: i64| H - (v as f64 - y_min) / (y_max - y_min) * (H - 6.0);
                let readout = at_now(s, c, now);
                let polylines: Vec<Html> = c
                    .id
                    .lines()
                    .iter()
                    .zip(&c.lines)
                    .flat_map(|((_, class), values)| {
                        step_lines(&s.at_ms, values, x, y).into_iter().map(move |points| {
                            html! { <polyline class={classes!("redis-chart-line", *class)} {points} /> }
                        })
                    })
                    .collect();
                let title = c.id.title();
                html! {
                    <figure class="redis-chart" data-chart={c.id.slug()}>
                        <figcaption>
                            <span class="redis-chart-title">{ &title }</span>
                            <span class="redis-chart-legend" aria-hidden="true">
                                { for c.id.lines().iter().map(|(label, class)| html! {
                                    <span><span class={classes!("swatch", *class)}></span>{ *label }</span>
                                }) }
                            </span>
                            <span class="redis-chart-now muted">{ format!("at {}: {readout}", seconds(now)) }</span>
                        </figcaption>
                        <svg viewBox={format!("-30 -4 {} {}", W + 36.0, H + 20.0)} role="img"
                             aria-label={format!("{title}, over the run; at {}: {readout}", seconds(now))}>
                            <line class="axis" x1="0" y1={y(y_min as i64).to_string()} x2={W.to_string()} y2={y(y_min as i64).to_string()} />
                            <line class="axis" x1="0" y1="0" x2="0" y2={H.to_string()} />
                            <text class="tick" x="-4" y={(y(y_max as i64) + 4.0).to_string()} text-anchor="end">{ y_max as i64 }</text>
                            <text class="tick" x="-4" y={H.to_string()} text-anchor="end">{ y_min as i64 }</text>
                            <text class="tick" x={W.to_string()} y={(H + 14.0).to_string()} text-anchor="end">{ seconds(end_ms) }</text>
                            { for polylines }
                            <line class="now" x1={x(now).to_string()} x2={x(now).to_string()} y1="0" y2={H.to_string()} />
                        </svg>
                    </figure>
                }
            }) }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_value_breaks_the_line_and_values_hold_until_the_next_sample() {
        let at = [0, 10, 20, 30, 40];
        let values = [Some(1), Some(2), None, Some(0), Some(0)];
        let lines = step_lines(&at, &values, |t| t as f64, |v| v as f64);
        assert_eq!(lines, ["0.0,1.0 10.0,1.0 10.0,2.0", "30.0,0.0 40.0,0.0 40.0,0.0"]);
        assert!(step_lines(&at, &[None; 5], |t| t as f64, |v| v as f64).is_empty());
    }
}
