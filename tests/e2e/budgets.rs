//! The download budgets (issue 17) on the release build the other tests use: each page's first download
//! — the wasm, JS and CSS the browser fetched at start, `gzip -9` — must stay within its budget
//! ([`PAGE_BUDGETS`]). Measured from the served files, as `scripts/web-bench.sh` measures them; the bench
//! adds brotli, first render and frame times.
//!
//! Not yet listed in `main.rs`: the RabbitMQ page is still over its budget (696.0 kB against 662.2 kB
//! on 2026-12-07, h-kweb4); the Kafka page is under its own since the model pages stopped
//! reading the RabbitMQ durable image (631.3 kB; BENCHMARKS.md, issue 17 open). It is listed there in the
//! commit that brings the RabbitMQ page under its budget.

use crate::harness::*;

#[test]
fn each_page_s_first_download_is_within_its_budget() {
    let browser = Browser::open("/");
    let page = &browser.page;
    let (port, dist) = (served_port(), trunk_build());
    let mut over = Vec::new();
    for (name, path, selector, budget) in PAGE_BUDGETS {
        let (fetched, _) = initial_download(page, port, path, selector, &dist);
        assert!(
            fetched.iter().any(|f| f.file.ends_with(".wasm")),
            "{name} page fetched no wasm: {:?}",
            fetched.iter().map(|f| &f.file).collect::<Vec<_>>()
        );
        let total: u64 = fetched.iter().map(|f| f.gzip).sum();
        let brotli: Option<u64> = fetched.iter().map(|f| f.brotli).sum();
        let brotli = brotli.map_or_else(|| "no brotli tool".to_string(), |b| format!("{b} brotli"));
        let files: Vec<String> = fetched.iter().map(|f| format!("{} {}", f.file, f.gzip)).collect();
        println!(
            "{name} page ({path}): {total} bytes gzipped ({brotli}), budget {budget}: {}",
            files.join(", ")
        );
        if total > budget {
            over.push(format!(
                "{name} page ({path}): {total} bytes gzipped > {budget} ({})",
                files.join(", ")
            ));
        }
    }
    assert!(over.is_empty(), "over budget: {over:#?}");
}
