//! The web budgets of issue #6, measured in headless Chromium through WebDriver (`scripts/web-bench.sh`):
//! (a) frame times with 100 queues and 10,000 virtual messages a second playing, against an idle blank Yew
//! page sampled the same way in the same run, (b) the initial download of each model's page (the wasm, JS
//! and CSS the RabbitMQ page `/` and the Kafka page `/?model=kafka` fetch at start, gzipped and, when the
//! `brotli` tool is installed, brotli-compressed), (c) first render of each against a blank Yew page built with the same toolchain,
//! measured in the same run. Prints a table; asserts nothing about time.
//!
//! Environment: `WEB_BENCH_SECONDS` (frame sampling, default 12), `WEB_BENCH_LOADS` (page loads per page
//! for first render, default 9), `WEB_BENCH_QUEUES` / `WEB_BENCH_PRODUCERS` / `WEB_BENCH_RATE` (the load:
//! default 100 queues, 10 producers × 1,000 messages a second).

#[path = "../tests/e2e/harness.rs"]
mod harness;

use harness::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Builds one of the benchmark's own pages (`benches/pages/<page>/index.html`) with the app's trunk settings.
fn trunk_build_page(page: &str) -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo_root().join("target"), PathBuf::from);
    let dist = target.join(format!("bench-{page}-dist"));
    let status = Command::new("trunk")
        .args(["build", "--release", "--dist"])
        .arg(&dist)
        .arg(format!("benches/pages/{page}/index.html"))
        .current_dir(repo_root())
        .status()
        .expect("trunk is installed (scripts/setup.sh)");
    assert!(status.success(), "trunk build of benches/pages/{page} failed");
    dist
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

fn is_download_kind(file: &str) -> bool {
    matches!(Path::new(file).extension().and_then(|e| e.to_str()), Some("wasm" | "js" | "css"))
}

/// The page's initial download: the wasm, JS and CSS files the browser fetched (Resource Timing) from
/// loading `path` until `selector` shows and two seconds more, each with its size, `gzip -9` size and
/// `brotli -q 11` size; and
/// the dist's other wasm, JS and CSS files, which nothing fetched at start (the lazy scripting module, the
/// embedders' helper script). Leaves the page open.
fn initial_download(
    page: &Page,
    port: u16,
    path: &str,
    selector: &str,
    dist: &Path,
) -> (Vec<(String, u64, u64, Option<u64>)>, Vec<String>) {
    post(&format!("{}/url", page.s), json!({"url": format!("http://127.0.0.1:{port}{path}")}));
    page.find(selector);
    std::thread::sleep(Duration::from_secs(2));
    let names = page.execute("return performance.getEntriesByType('resource').map(e => e.name);", json!([]));
    let origin = format!("http://127.0.0.1:{port}/");
    let mut fetched: Vec<String> = names
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|url| url.strip_prefix(&origin))
        .map(|rel| rel.split(['?', '#']).next().unwrap_or(rel).to_string())
        .filter(|rel| is_download_kind(rel))
        .collect();
    fetched.sort();
    fetched.dedup();
    let sized = fetched
        .iter()
        .map(|rel| {
            let path = dist.join(rel);
            let raw = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{rel} was fetched: {e}")).len();
            let gz = Command::new("gzip").args(["-9", "-c"]).arg(&path).output().expect("gzip");
            // Brotli (quality 11, as a static host precompresses) when the `brotli` tool is installed.
            let br = Command::new("brotli")
                .args(["-q", "11", "-c"])
                .arg(&path)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| o.stdout.len() as u64);
            (rel.clone(), raw, gz.stdout.len() as u64, br)
        })
        .collect();
    let left =
        files_under(dist).into_iter().filter(|f| is_download_kind(f) && !fetched.contains(f)).collect();
    (sized, left)
}

/// Cross-origin isolation for the pages whose frames are sampled: with it Chromium gives
/// `performance.now()` and requestAnimationFrame's timestamps 5 µs resolution instead of 100 µs, so a
/// 16.67 ms frame is not read as 16.6 or 16.8. Nothing else on these same-origin pages changes.
const ISOLATED: &str =
    "Cross-Origin-Opener-Policy: same-origin\r\nCross-Origin-Embedder-Policy: require-corp\r\n";

/// Timestamps of `ms` milliseconds of requestAnimationFrame callbacks on the open page, with what the
/// page showed at the end.
fn sample_frames(page: &Page, ms: f64) -> Value {
    page.execute_async(
        "const done = arguments[arguments.length - 1];
         const ms = arguments[0];
         const stamps = [];
         const t0 = performance.now();
         const frame = (t) => { stamps.push(t); if (t - t0 < ms) requestAnimationFrame(frame);
           else done({stamps, isolated: self.crossOriginIsolated === true,
                      tokens: document.querySelectorAll('.token').length,
                      badges: document.querySelectorAll('.token-badge').length,
                      nodes: document.querySelectorAll('g.node').length,
                      lag: !!document.querySelector('.lag')}); };
         requestAnimationFrame(frame);",
        json!([ms]),
    )
}

/// The sorted intervals between consecutive frames of a [`sample_frames`] answer.
fn frame_intervals(v: &Value) -> Vec<f64> {
    let stamps: Vec<f64> =
        v["stamps"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
    let mut intervals: Vec<f64> = stamps.windows(2).map(|w| w[1] - w[0]).collect();
    intervals.sort_by(f64::total_cmp);
    intervals
}

/// One row of the frame table.
fn frame_row(name: &str, v: &Value, intervals: &[f64]) -> String {
    format!(
        "| {name} | {} | {} | {:.3} | {:.3} | {:.3} | {:.1} | {} | {} |",
        if v["isolated"] == json!(true) { "5 µs" } else { "100 µs" },
        intervals.len(),
        percentile(intervals, 50.0),
        percentile(intervals, 95.0),
        percentile(intervals, 99.0),
        intervals.last().copied().unwrap_or(f64::NAN),
        intervals.iter().filter(|&&i| i > 16.7).count(),
        intervals.iter().filter(|&&i| i > 20.0).count()
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    percentile(&v, 50.0)
}

/// A new WebDriver session on an open browser: `Browser::open` then navigate where asked.
fn browser_at(port: u16, path: &str) -> Browser {
    let b = Browser::open("/");
    post(&format!("{}/url", b.page.s), json!({"url": format!("http://127.0.0.1:{port}{path}")}));
    b
}

/// First contentful paint (ms since navigation start) after loading `path`, waiting for `selector`.
fn first_paint(page: &Page, port: u16, path: &str, selector: &str) -> (f64, f64) {
    post(&format!("{}/url", page.s), json!({"url": format!("http://127.0.0.1:{port}{path}")}));
    page.find(selector);
    let v = page.execute_async(
        "const done = arguments[arguments.length - 1];
         const read = () => {
           const fcp = performance.getEntriesByName('first-contentful-paint')[0];
           const nav = performance.getEntriesByType('navigation')[0];
           if (fcp) done([fcp.startTime, nav ? nav.loadEventEnd : -1]); else setTimeout(read, 20);
         };
         read();",
        json!([]),
    );
    (v[0].as_f64().unwrap_or(f64::NAN), v[1].as_f64().unwrap_or(f64::NAN))
}

fn main() {
    let seconds = env_u64("WEB_BENCH_SECONDS", 12).max(10);
    let loads = env_u64("WEB_BENCH_LOADS", 9).max(1);
    let (queues, producers, rate) = (
        env_u64("WEB_BENCH_QUEUES", 100),
        env_u64("WEB_BENCH_PRODUCERS", 10),
        env_u64("WEB_BENCH_RATE", 1000),
    );

    let app_dist = trunk_build();
    let blank_dist = trunk_build_page("blank");
    let load_dist = trunk_build_page("load");
    let app_port = served_port();
    let blank_port = serve(blank_dist.clone());

    // (b) The initial download: what the first load of each page fetched (it is also the warm-up load of
    // (c): compiling caches, disk).
    let browser = Browser::open("/");
    let page = &browser.page;
    println!(
        "\n## Initial download (the wasm, JS and CSS each page fetched at start; gzip -9, brotli -q 11)\n"
    );
    println!("| Page | File | Bytes | Gzipped | Brotli |\n| --- | --- | ---: | ---: | ---: |");
    let (mut app_total, mut kafka_total) = (0, 0);
    // One page per model (issue 17): the RabbitMQ page (`/`) and the Kafka page (`/?model=kafka`) of the
    // same build, each fetching only its own model's module.
    for (name, port, path, selector, dist) in [
        ("app (RabbitMQ)", app_port, "/", "header.app-header", &app_dist),
        ("app (Kafka)", app_port, "/?model=kafka", ".kafka-app", &app_dist),
        ("blank", blank_port, "/", "#blank", &blank_dist),
    ] {
        let (fetched, left) = initial_download(page, port, path, selector, dist);
        let mut total = (0, 0, Some(0));
        for (file, raw, gz, br) in fetched {
            let br_text = br.map_or("-".to_string(), |b| b.to_string());
            println!("| {name} | {file} | {raw} | {gz} | {br_text} |");
            total = (total.0 + raw, total.1 + gz, total.2.zip(br).map(|(a, b)| a + b));
        }
        println!(
            "| {name} | **total** | {} | **{}** ({:.1} kB) | {} |",
            total.0,
            total.1,
            total.1 as f64 / 1000.0,
            total.2.map_or("-".to_string(), |b| format!("**{b}** ({:.1} kB)", b as f64 / 1000.0))
        );
        if !left.is_empty() {
            println!("| {name} | not fetched at start: {} | | | |", left.join(", "));
        }
        match path {
            "/" if port == app_port => app_total = total.1,
            "/?model=kafka" => kafka_total = total.1,
            _ => {}
        }
    }

    // (c) First render: the app and the blank page loaded alternately in the same browser, same run.
    let (mut app_fcp, mut blank_fcp, mut app_load, mut blank_load) = (vec![], vec![], vec![], vec![]);
    let (mut kafka_fcp, mut kafka_load) = (vec![], vec![]);
    for _ in 0..loads {
        let (f, l) = first_paint(page, app_port, "/", "header.app-header");
        app_fcp.push(f);
        app_load.push(l);
        let (f, l) = first_paint(page, app_port, "/?model=kafka", ".kafka-app");
        kafka_fcp.push(f);
        kafka_load.push(l);
        let (f, l) = first_paint(page, blank_port, "/", "#blank");
        blank_fcp.push(f);
        blank_load.push(l);
    }
    drop(browser);
    let (app_median, blank_median) = (median(app_fcp.clone()), median(blank_fcp.clone()));
    println!("\n## First render ({loads} loads each, alternating; first contentful paint)\n");
    println!(
        "| Page | FCP median ms | FCP min–max ms | load event median ms |\n| --- | ---: | ---: | ---: |"
    );
    for (name, fcp, load) in [
        ("app (RabbitMQ)", &app_fcp, &app_load),
        ("app (Kafka)", &kafka_fcp, &kafka_load),
        ("blank Yew page", &blank_fcp, &blank_load),
    ] {
        let mut s = fcp.clone();
        s.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.1} | {:.1}–{:.1} | {:.1} |",
            median(fcp.clone()),
            s[0],
            s[s.len() - 1],
            median(load.clone())
        );
    }
    let ratio = app_median / blank_median;
    let kafka_ratio = median(kafka_fcp.clone()) / blank_median;

    // (a) Frame times: the idle blank page first (the browser's own frame rhythm, same flags, same run),
    // then the app's page under load. Both served cross-origin isolated (fine timestamps).
    let ms = seconds as f64 * 1000.0;
    let browser = browser_at(serve_with_headers(blank_dist, ISOLATED), "/");
    browser.page.find("#blank");
    std::thread::sleep(Duration::from_secs(3));
    let idle = sample_frames(&browser.page, ms);
    drop(browser);
    let idle_intervals = frame_intervals(&idle);

    let load_port = serve_with_headers(load_dist, ISOLATED);
    let browser = browser_at(load_port, &format!("/?queues={queues}&producers={producers}&rate={rate}"));
    let page = &browser.page;
    page.find("svg g.node.queue");
    std::thread::sleep(Duration::from_secs(3)); // warm-up: connections open, the graph fills
    let clock_before = page.text("#clock");
    let v = sample_frames(page, ms);
    let clock_after = page.text("#clock");
    let errors = page.console_errors();
    drop(browser);
    let intervals = frame_intervals(&v);
    let clock =
        |s: &str| s.trim_start_matches("t = ").trim_end_matches('s').parse::<f64>().unwrap_or(f64::NAN);
    let virtual_seconds = clock(&clock_after) - clock(&clock_before);
    println!("\n## Frame times under load\n");
    println!(
        "Load: {queues} queues, {producers} producers × {rate} msg/s = {} virtual msg/s at 1×; sampled {seconds} s \
         of requestAnimationFrame after a 3 s warm-up, after the same on the idle blank Yew page. Nodes drawn: \
         {}; at the end {} dots, {} count badges; virtual clock {clock_before} → {clock_after} \
         ({virtual_seconds:.2} virtual s in {seconds} wall s{}).",
        producers * rate,
        v["nodes"],
        v["tokens"],
        v["badges"],
        if v["lag"] == json!(true) { ", lagging shown" } else { "" }
    );
    println!(
        "\n| Page | timestamp resolution | Frames | p50 ms | p95 ms | p99 ms | max ms | frames > 16.7 ms | \
         frames > 20 ms (dropped) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    println!("{}", frame_row("blank Yew page, idle", &idle, &idle_intervals));
    println!("{}", frame_row("app under load", &v, &intervals));
    let (p95, idle_p95) = (percentile(&intervals, 95.0), percentile(&idle_intervals, 95.0));
    println!("\np95 under load / p95 idle = {:.3}", p95 / idle_p95);
    if !errors.is_empty() {
        println!("\nconsole errors on the load page: {errors:?}");
    }

    println!("\n## Budgets\n");
    println!("| Budget | Measured | Met |\n| --- | --- | --- |");
    println!(
        "| p95 frame time ≤ 16.7 ms | {p95:.3} ms ({:.3}× the idle page's {idle_p95:.3} ms) | {} |",
        p95 / idle_p95,
        if p95 <= 16.7 { "yes" } else { "no" }
    );
    // Issue 17's budgets: each model's page at most 650 kB gzipped; the RabbitMQ page no more than 2% above
    // the 649.2 kB it had before the Kafka page existed (662.2 kB).
    println!(
        "| RabbitMQ page's initial download ≤ 662.2 kB gzipped (649.2 + 2%) | {:.1} kB | {} |",
        app_total as f64 / 1000.0,
        if app_total <= 662_200 { "yes" } else { "no" }
    );
    println!(
        "| Kafka page's initial download ≤ 650 kB gzipped | {:.1} kB | {} |",
        kafka_total as f64 / 1000.0,
        if kafka_total <= 650_000 { "yes" } else { "no" }
    );
    println!(
        "| first render ≤ 2.5× blank Yew page (RabbitMQ) | {app_median:.1} / {blank_median:.1} ms = {ratio:.2}× | {} |",
        if ratio <= 2.5 { "yes" } else { "no" }
    );
    println!(
        "| first render ≤ 2.5× blank Yew page (Kafka) | {kafka_ratio:.2}× | {} |",
        if kafka_ratio <= 2.5 { "yes" } else { "no" }
    );
}
