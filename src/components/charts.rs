//! Charts of a queue's depth (ready, unacked) and rates (publish, deliver, ack) over the whole run:
//! SVG line charts with axes in virtual seconds, a queue selector, a legend and the moment shown (after a
//! scrub, an earlier one) as a vertical line. Old parts of a long run are downsampled buckets; their
//! min–max range is drawn as a band so no spike disappears.

use super::{event_value, use_app};
use crate::session::timeline::{sample_millis, Point, Range};
use crate::state::timeline::TimelineAction;
use crate::state::Action;
use yew::prelude::*;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 170.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

/// One line of a chart: its label, CSS class (colour) and value per point.
struct Line {
    label: &'static str,
    class: &'static str,
    value: fn(&Point) -> Range,
}

const DEPTH: [Line; 2] = [
    Line { label: "Ready", class: "series-ready", value: |p| p.ready },
    Line { label: "Unacked", class: "series-unacked", value: |p| p.unacked },
];

const RATES: [Line; 3] = [
    Line { label: "Publish", class: "series-publish", value: |p| p.publish },
    Line { label: "Deliver", class: "series-deliver", value: |p| p.deliver },
    Line { label: "Ack", class: "series-ack", value: |p| p.ack },
];

/// A "nice" tick step (1, 2 or 5 × 10ⁿ) giving about `count` ticks over `range`.
pub fn nice_step(range: f64, count: u32) -> f64 {
    if !(range.is_finite() && range > 0.0) {
        return 1.0;
    }
    let raw = range / f64::from(count.max(1));
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn tick_label(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The tab: the queue selector and the two charts.
#[function_component(ChartsTab)]
pub fn charts_tab() -> Html {
    let app = use_app();
    let session = app.session.borrow();
    let series = session.series();
    let names: Vec<String> = series.queue_names().map(str::to_string).collect();
    let Some(first) = names.first().cloned() else {
        return html! {
            <p class="muted" id="charts-empty">
                { "No queues yet: declare one or load a scenario, then play — the charts follow the whole run." }
            </p>
        };
    };
    let queue = app.timeline.chart_queue.clone().filter(|q| names.contains(q)).unwrap_or(first);
    let points = series.points(&queue).to_vec();
    let x_max_seconds = (session.furthest().as_millis() as f64 / 1000.0).max(1.0);
    let now_seconds = session.now().as_millis() as f64 / 1000.0;
    drop(session);
    let select = {
        let app = app.clone();
        Callback::from(move |e: Event| {
            app.dispatch(Action::Timeline(TimelineAction::SelectChartQueue(event_value(&e))))
        })
    };
    let coarse = points.iter().any(|p| p.is_merged(sample_millis(p.from_millis)));
    html! {
        <div class="charts" id="charts">
            <div class="charts-head">
                <label class="chart-queue">
                    <span>{ "Queue" }</span>
                    <select id="chart-queue" onchange={select} aria-label="Queue to chart">
                        { for names.iter().map(|n| html! {
                            <option value={n.clone()} selected={*n == queue}>{ n.clone() }</option>
                        }) }
                    </select>
                </label>
                <span class="muted">
                    { format!("The whole run, 0 – {x_max_seconds:.0} s; the dashed line is the moment shown (t = {now_seconds:.1} s).") }
                    if coarse { { " Older parts are merged: bands show each bucket's min–max." } }
                </span>
            </div>
            { chart("chart-depth", &format!("Depth of '{queue}'"), "messages", &DEPTH, &points, x_max_seconds, now_seconds) }
            { chart("chart-rates", &format!("Rates of '{queue}'"), "messages / s", &RATES, &points, x_max_seconds, now_seconds) }
        </div>
    }
}

/// One SVG chart with its axes, lines, bands, the "now" line and a legend.
fn chart(id: &str, title: &str, unit: &str, lines: &[Line], points: &[Point], x_max: f64, now: f64) -> Html {
    let y_max_value =
        points.iter().flat_map(|p| lines.iter().map(move |l| (l.value)(p).max)).fold(0.0_f64, f64::max);
    let y_step = nice_step(y_max_value.max(1.0), 4);
    let y_max = (y_max_value / y_step).ceil().max(1.0) * y_step;
    let x_step = nice_step(x_max, 6);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = move |s: f64| LEFT + (s / x_max).clamp(0.0, 1.0) * plot_w;
    let y = move |v: f64| TOP + plot_h - (v / y_max).clamp(0.0, 1.0) * plot_h;
    // A point holds the values at its interval's end.
    let mid = |p: &Point| p.to_millis as f64 / 1000.0;

    let x_ticks: Vec<f64> = (0..).map(|i| f64::from(i) * x_step).take_while(|s| *s <= x_max + 1e-9).collect();
    let y_ticks: Vec<f64> = (0..).map(|i| f64::from(i) * y_step).take_while(|v| *v <= y_max + 1e-9).collect();
    let latest: Vec<String> = lines
        .iter()
        .map(|l| {
            let v = points.last().map_or(0.0, |p| (l.value)(p).max);
            format!("{} {}", l.label, tick_label((v * 10.0).round() / 10.0))
        })
        .collect();
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");

    let series = lines.iter().map(|l| {
        let line: Vec<String> =
            points.iter().map(|p| format!("{:.1},{:.1}", x(mid(p)), y((l.value)(p).max))).collect();
        // The band: max along the top, min back along the bottom (only where buckets were merged).
        let band = points.iter().any(|p| (l.value)(p).min < (l.value)(p).max).then(|| {
            let top = points.iter().map(|p| format!("{:.1},{:.1}", x(mid(p)), y((l.value)(p).max)));
            let bottom = points.iter().rev().map(|p| format!("{:.1},{:.1}", x(mid(p)), y((l.value)(p).min)));
            top.chain(bottom).collect::<Vec<_>>().join(" ")
        });
        html! {
            <g class={classes!("series", l.class)}>
                if let Some(band) = band {
                    <polygon class="band" points={band} />
                }
                <polyline class="line" points={line.join(" ")} />
            </g>
        }
    });
    html! {
        <figure class="chart" id={id.to_string()}>
            <figcaption>
                <span class="chart-title">{ title.to_string() }</span>
                <span class="chart-unit muted">{ format!("{unit} · virtual seconds") }</span>
                <ul class="chart-legend" aria-label={format!("{title}: legend")}>
                    { for lines.iter().map(|l| html! {
                        <li><span class={classes!("swatch", l.class)} aria-hidden="true" />{ l.label }</li>
                    }) }
                </ul>
            </figcaption>
            <svg viewBox={format!("0 0 {WIDTH} {HEIGHT}")} role="img"
                 aria-labelledby={format!("{title_id} {desc_id}")} class="chart-svg">
                <title id={title_id}>{ format!("{title} over the run, in {unit} against virtual seconds") }</title>
                <desc id={desc_id}>{ format!("At the latest sample: {}", latest.join(", ")) }</desc>
                <g class="grid" aria-hidden="true">
                    { for y_ticks.iter().map(|v| html! {
                        <>
                            <line x1={LEFT.to_string()} x2={(WIDTH - RIGHT).to_string()}
                                  y1={format!("{:.1}", y(*v))} y2={format!("{:.1}", y(*v))} />
                            <text class="tick y" x={(LEFT - 6.0).to_string()} y={format!("{:.1}", y(*v) + 4.0)}>
                                { tick_label(*v) }
                            </text>
                        </>
                    }) }
                    { for x_ticks.iter().map(|s| html! {
                        <text class="tick x" x={format!("{:.1}", x(*s))} y={(HEIGHT - BOTTOM + 16.0).to_string()}>
                            { format!("{}s", tick_label(*s)) }
                        </text>
                    }) }
                    <line class="axis" x1={LEFT.to_string()} x2={(WIDTH - RIGHT).to_string()}
                          y1={(TOP + plot_h).to_string()} y2={(TOP + plot_h).to_string()} />
                    <line class="axis" x1={LEFT.to_string()} x2={LEFT.to_string()}
                          y1={TOP.to_string()} y2={(TOP + plot_h).to_string()} />
                </g>
                { for series }
                <line class="chart-now" x1={format!("{:.1}", x(now))} x2={format!("{:.1}", x(now))}
                      y1={TOP.to_string()} y2={(TOP + plot_h).to_string()}>
                    <title>{ format!("t = {now:.1} s") }</title>
                </line>
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(10.0, 5), 2.0);
        assert_eq!(nice_step(12_000.0, 4), 5_000.0);
        assert_eq!(nice_step(0.7, 4), 0.2);
        assert_eq!(nice_step(0.0, 4), 1.0);
        assert_eq!(nice_step(f64::NAN, 4), 1.0);
    }
}
