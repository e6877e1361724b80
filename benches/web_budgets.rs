//! The web budgets of issues #6 and #17, measured in headless Chromium through WebDriver
//! (`scripts/web-bench.sh`), every figure also as a ratio to a baseline of the same run:
//! (a) frame times with 100 queues and 10,000 virtual messages a second playing on the RabbitMQ load page,
//! with 100 partitions and 10,000 records a second playing on the Kafka page itself (a generated
//! document opened by its share link), with 10 queues and 1,000 messages a second on the SQS page and
//! with 10 keys and 1,000 messages a second on the Redis page (the same way; an SQS run and a Redis run
//! each hold at most 20,000 messages), each against an idle blank Yew page sampled the same way in the
//! same run; (b) the initial download of every page of [`PAGE_BUDGETS`] (each model's page and each
//! sandbox: the wasm, JS and CSS it fetches at start, gzipped and, when the `brotli` tool is installed,
//! brotli-compressed), against its budget; (c) first render of each against a blank Yew page built with
//! the same toolchain, measured in the same run. Prints Markdown tables; asserts nothing about time (the
//! download budgets are asserted by the e2e test `budgets`).
//!
//! Environment: `WEB_BENCH_SECONDS` (frame sampling, default 12), `WEB_BENCH_LOADS` (page loads per page
//! for first render, default 9), `WEB_BENCH_QUEUES` / `WEB_BENCH_PRODUCERS` / `WEB_BENCH_RATE` (the
//! RabbitMQ load: default 100 queues, 10 producers × 1,000 messages a second), `WEB_BENCH_PARTITIONS` /
//! `WEB_BENCH_KAFKA_PRODUCERS` / `WEB_BENCH_KAFKA_RATE` (the Kafka load: default 100 partitions, 10
//! producers × 1,000 records a second), `WEB_BENCH_SQS_QUEUES` / `WEB_BENCH_SQS_RATE` (the SQS load:
//! default 10 queues, one producer of 100 messages a second and one consumer each),
//! `WEB_BENCH_REDIS_KEYS` / `WEB_BENCH_REDIS_RATE` (the Redis load: default 10 keys, one producer of 100
//! messages a second each, see [`redis_load_document`]).

#[path = "../tests/e2e/harness.rs"]
mod harness;
mod load_documents;

use harness::*;
use load_documents::{kafka_load_document, redis_load_document, sqs_load_document};
use serde_json::{json, Value};
use std::path::PathBuf;
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

/// Opens a model's page on a generated document by its share link (the page plays it to the end once
/// before its first render: waited for up to 2 minutes), presses its Play button, waits 3 s of warm-up.
fn open_playing(port: u16, model: &str, document: &str, play: &str) -> Browser {
    let fragment = brokerlab::persist::permalink::encode(document);
    let browser = browser_at(port, &format!("/?model={model}#{fragment}"));
    let opened = (0..600).any(|_| {
        let shown =
            browser.page.execute("return document.body.textContent.includes('Web bench load');", json!([]));
        shown == json!(true) || {
            std::thread::sleep(Duration::from_millis(200));
            false
        }
    });
    assert!(opened, "the {model} page opened the bench's document");
    browser.page.click(play);
    std::thread::sleep(Duration::from_secs(3)); // warm-up: consumers start, messages flow
    browser
}

/// Samples the frames of a page under load for `ms`, with the virtual clock shown by `clock` before and
/// after: (the frames' answer, clock text before, after, console errors).
fn sample_under_load(page: &Page, ms: f64, clock: &str) -> (Value, String, String, Vec<Value>) {
    let before = page.text(clock);
    let v = sample_frames(page, ms);
    let after = page.text(clock);
    (v, before, after, page.console_errors())
}

fn main() {
    let seconds = env_u64("WEB_BENCH_SECONDS", 12).max(10);
    let loads = env_u64("WEB_BENCH_LOADS", 9).max(1);
    let (queues, producers, rate) = (
        env_u64("WEB_BENCH_QUEUES", 100),
        env_u64("WEB_BENCH_PRODUCERS", 10),
        env_u64("WEB_BENCH_RATE", 1000),
    );
    let (partitions, kafka_producers, kafka_rate) = (
        env_u64("WEB_BENCH_PARTITIONS", 100),
        env_u64("WEB_BENCH_KAFKA_PRODUCERS", 10),
        env_u64("WEB_BENCH_KAFKA_RATE", 1000),
    );
    let (sqs_queues, sqs_rate) = (env_u64("WEB_BENCH_SQS_QUEUES", 10), env_u64("WEB_BENCH_SQS_RATE", 100));
    let (redis_keys, redis_rate) =
        (env_u64("WEB_BENCH_REDIS_KEYS", 10), env_u64("WEB_BENCH_REDIS_RATE", 100));
    let redis_doc = redis_load_document(redis_keys, redis_rate);

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
    let blank = ("blank", "/", "#blank", 0);
    // (name, gzip total, brotli total, budget)
    let mut totals: Vec<(&str, u64, Option<u64>, u64)> = Vec::new();
    for (name, path, selector, budget) in PAGE_BUDGETS.into_iter().chain([blank]) {
        let (port, dist) = if name == "blank" { (blank_port, &blank_dist) } else { (app_port, &app_dist) };
        let (fetched, left) = initial_download(page, port, path, selector, dist);
        let mut total = (0, 0, Some(0));
        for f in fetched {
            let br_text = f.brotli.map_or("-".to_string(), |b| b.to_string());
            println!("| {name} | {} | {} | {} | {br_text} |", f.file, f.raw, f.gzip);
            total = (total.0 + f.raw, total.1 + f.gzip, total.2.zip(f.brotli).map(|(a, b)| a + b));
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
        totals.push((name, total.1, total.2, budget));
    }
    let blank_gz = totals.iter().find(|t| t.0 == "blank").map_or(1, |t| t.1.max(1));

    // (c) First render: each page and the blank page loaded in turn in the same browser, same run.
    let fcp_pages: Vec<(&str, u16, &str, &str)> = PAGE_BUDGETS
        .iter()
        .map(|&(name, path, selector, _)| (name, app_port, path, selector))
        .chain([("blank Yew page", blank_port, "/", "#blank")])
        .collect();
    let mut fcp: Vec<(Vec<f64>, Vec<f64>)> = vec![(vec![], vec![]); fcp_pages.len()];
    for _ in 0..loads {
        for (i, &(_, port, path, selector)) in fcp_pages.iter().enumerate() {
            let (f, l) = first_paint(page, port, path, selector);
            fcp[i].0.push(f);
            fcp[i].1.push(l);
        }
    }
    drop(browser);
    let blank_median = median(fcp[fcp.len() - 1].0.clone());
    println!("\n## First render ({loads} loads each, in turn; first contentful paint)\n");
    println!(
        "| Page | FCP median ms | FCP min–max ms | load event median ms | FCP / blank page's |\n\
         | --- | ---: | ---: | ---: | ---: |"
    );
    let mut fcp_ratios = Vec::new();
    for (i, (name, ..)) in fcp_pages.iter().enumerate() {
        let mut s = fcp[i].0.clone();
        s.sort_by(f64::total_cmp);
        let m = median(fcp[i].0.clone());
        println!(
            "| {name} | {m:.1} | {:.1}–{:.1} | {:.1} | {:.2}× |",
            s[0],
            s[s.len() - 1],
            median(fcp[i].1.clone()),
            m / blank_median
        );
        fcp_ratios.push((*name, m, m / blank_median));
    }

    // (a) Frame times: the idle blank page first (the browser's own frame rhythm, same flags, same run),
    // then the RabbitMQ load page, then the Kafka page under its load. All served cross-origin isolated
    // (fine timestamps).
    let ms = seconds as f64 * 1000.0;
    let browser = browser_at(serve_with_headers(blank_dist, ISOLATED), "/");
    browser.page.find("#blank");
    std::thread::sleep(Duration::from_secs(3));
    let idle = sample_frames(&browser.page, ms);
    drop(browser);
    let idle_intervals = frame_intervals(&idle);

    let load_port = serve_with_headers(load_dist, ISOLATED);
    let browser = browser_at(load_port, &format!("/?queues={queues}&producers={producers}&rate={rate}"));
    browser.page.find("svg g.node.queue");
    std::thread::sleep(Duration::from_secs(3)); // warm-up: connections open, the graph fills
    let (v, clock_before, clock_after, errors) = sample_under_load(&browser.page, ms, "#clock");
    drop(browser);
    let intervals = frame_intervals(&v);

    // The Kafka page itself, opened on the generated document by its share link, played by its button.
    let kafka_doc = kafka_load_document(partitions, kafka_producers, kafka_rate);
    let isolated_port = serve_with_headers(app_dist.clone(), ISOLATED);
    let browser = open_playing(isolated_port, "kafka", &kafka_doc, "#kafka-play");
    let (kv, kafka_before, kafka_after, kafka_errors) = sample_under_load(&browser.page, ms, "#kafka-clock");
    let kafka_partitions_shown = browser
        .page
        .execute("return document.querySelectorAll('#kafka-cluster tbody tr').length;", json!([]));
    drop(browser);
    let kafka_intervals = frame_intervals(&kv);

    // The SQS page the same way.
    let browser = open_playing(isolated_port, "sqs", &sqs_load_document(sqs_queues, sqs_rate), "#sqs-play");
    let (sv, sqs_before, sqs_after, sqs_errors) = sample_under_load(&browser.page, ms, "#sqs-clock");
    drop(browser);
    let sqs_intervals = frame_intervals(&sv);

    // The Redis page the same way.
    let browser = open_playing(isolated_port, "redis", &redis_doc, "#redis-play");
    let (rv, redis_before, redis_after, redis_errors) = sample_under_load(&browser.page, ms, "#redis-clock");
    let redis_keys_shown =
        browser.page.execute("return document.querySelectorAll('#redis-keys .redis-key').length;", json!([]));
    drop(browser);
    let redis_intervals = frame_intervals(&rv);

    let clock = |s: &str| {
        s.trim_start_matches("t = ")
            .split(['s', '/'])
            .next()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    println!("\n## Frame times under load\n");
    println!(
        "RabbitMQ load page: {queues} queues, {producers} producers × {rate} msg/s = {} virtual msg/s at 1×; \
         sampled {seconds} s of requestAnimationFrame after a 3 s warm-up, after the same on the idle blank \
         Yew page. Nodes drawn: {}; at the end {} dots, {} count badges; virtual clock {clock_before} → \
         {clock_after} ({:.2} virtual s in {seconds} wall s{}).",
        producers * rate,
        v["nodes"],
        v["tokens"],
        v["badges"],
        clock(&clock_after) - clock(&clock_before),
        if v["lag"] == json!(true) { ", lagging shown" } else { "" }
    );
    println!(
        "\nKafka page: {partitions} partitions (replication factor 3), {kafka_producers} producers × \
         {kafka_rate} records/s = {} records/s, one group of 10 consumers; played by its Play button, the same \
         warm-up and sampling. Partition rows in the cluster view: {kafka_partitions_shown}; virtual clock \
         {kafka_before} → {kafka_after} ({:.2} virtual s in {seconds} wall s).",
        kafka_producers * kafka_rate,
        clock(&kafka_after) - clock(&kafka_before),
    );
    println!(
        "\nSQS page: {sqs_queues} queues, one producer of {sqs_rate} msg/s and one long-polling consumer each \
         = {} msg/s; the same warm-up and sampling. Virtual clock {sqs_before} → {sqs_after} ({:.2} virtual s \
         in {seconds} wall s).",
        sqs_queues * sqs_rate,
        clock(&sqs_after) - clock(&sqs_before),
    );
    let (lists, streams) = (redis_keys.div_ceil(3), (redis_keys + 1) / 3);
    println!(
        "\nRedis page: {redis_keys} keys ({lists} lists with a BRPOP worker each, {streams} streams with a \
         consumer group of one XREADGROUP worker each, {} channels with one subscriber each), one producer of \
         {redis_rate} msg/s per key = {} msg/s; the same warm-up and sampling. Key cards shown at the end: \
         {redis_keys_shown}; virtual clock {redis_before} → {redis_after} ({:.2} virtual s in {seconds} wall s).",
        redis_keys - lists - streams,
        redis_keys * redis_rate,
        clock(&redis_after) - clock(&redis_before),
    );
    println!(
        "\n| Page | timestamp resolution | Frames | p50 ms | p95 ms | p99 ms | max ms | frames > 16.7 ms | \
         frames > 20 ms (dropped) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    println!("{}", frame_row("blank Yew page, idle", &idle, &idle_intervals));
    println!("{}", frame_row(&format!("RabbitMQ load page ({queues} queues)"), &v, &intervals));
    println!("{}", frame_row(&format!("Kafka page ({partitions} partitions)"), &kv, &kafka_intervals));
    println!("{}", frame_row(&format!("SQS page ({sqs_queues} queues)"), &sv, &sqs_intervals));
    println!("{}", frame_row(&format!("Redis page ({redis_keys} keys)"), &rv, &redis_intervals));
    let idle_p95 = percentile(&idle_intervals, 95.0);
    let (p95, kafka_p95) = (percentile(&intervals, 95.0), percentile(&kafka_intervals, 95.0));
    let (sqs_p95, redis_p95) = (percentile(&sqs_intervals, 95.0), percentile(&redis_intervals, 95.0));
    println!(
        "\np95 / idle p95: RabbitMQ {:.3}, Kafka {:.3}, SQS {:.3}, Redis {:.3}",
        p95 / idle_p95,
        kafka_p95 / idle_p95,
        sqs_p95 / idle_p95,
        redis_p95 / idle_p95
    );
    if !errors.is_empty() {
        println!("\nconsole errors on the RabbitMQ load page: {errors:?}");
    }
    if !kafka_errors.is_empty() {
        println!("\nconsole errors on the Kafka page: {kafka_errors:?}");
    }
    if !sqs_errors.is_empty() {
        println!("\nconsole errors on the SQS page: {sqs_errors:?}");
    }
    if !redis_errors.is_empty() {
        println!("\nconsole errors on the Redis page: {redis_errors:?}");
    }

    println!("\n## Budgets\n");
    println!("| Budget | Measured | Met |\n| --- | --- | --- |");
    for (name, p95, what) in [
        ("RabbitMQ", p95, format!("{queues} queues, {} msg/s", producers * rate)),
        ("Kafka", kafka_p95, format!("{partitions} partitions, {} records/s", kafka_producers * kafka_rate)),
        ("SQS", sqs_p95, format!("{sqs_queues} queues, {} msg/s", sqs_queues * sqs_rate)),
        ("Redis", redis_p95, format!("{redis_keys} keys, {} msg/s", redis_keys * redis_rate)),
    ] {
        println!(
            "| p95 frame time ≤ 16.7 ms, {name} ({what}) | {p95:.3} ms ({:.3}× the idle page's {idle_p95:.3} ms) | {} |",
            p95 / idle_p95,
            if p95 <= 16.7 { "yes" } else { "no" }
        );
    }
    // Issue 17's budgets: each page at most 650 kB gzipped; the RabbitMQ page no more than 2% above the
    // 649.2 kB it had before the Kafka page existed (662.2 kB). Brotli written beside.
    for &(name, gz, br, budget) in totals.iter().filter(|t| t.0 != "blank") {
        println!(
            "| {name} page's initial download ≤ {:.1} kB gzipped | {:.1} kB ({:.2}× the blank page's); brotli {} | {} |",
            budget as f64 / 1000.0,
            gz as f64 / 1000.0,
            gz as f64 / blank_gz as f64,
            br.map_or("-".to_string(), |b| format!("{:.1} kB", b as f64 / 1000.0)),
            if gz <= budget { "yes" } else { "no" }
        );
    }
    for (name, m, ratio) in fcp_ratios.iter().filter(|r| r.0 != "blank Yew page") {
        println!(
            "| first render ≤ 2.5× blank Yew page ({name}) | {m:.1} / {blank_median:.1} ms = {ratio:.2}× | {} |",
            if *ratio <= 2.5 { "yes" } else { "no" }
        );
    }
}
