//! End-to-end: build the app with trunk (release, wasm-opt), serve `dist/` on 127.0.0.1, load it in headless
//! Chromium through WebDriver (chromedriver), check what is rendered and save a screenshot.
//!
//! Needs the toolchain `scripts/setup.sh` installs, so it only builds with `--features e2e`
//! (`scripts/check.sh` runs it). Screenshots land in `artifacts/e2e-*.png`: the empty shell, a declared
//! queue with a published message, a taken message, a refused redeclare with RabbitMQ's 406 text, and
//! the example topology with a dead-lettered message's `x-death` chain, and the "Work queues" scenario
//! played from the picker with its checks passing.

use base64::Engine as _;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the app into `target/e2e-dist` exactly as a release deploy would.
fn trunk_build() -> PathBuf {
    let dist = repo_root().join("target/e2e-dist");
    let status = Command::new("trunk")
        .args(["build", "--release", "--dist"])
        .arg(&dist)
        .current_dir(repo_root())
        .status()
        .expect("trunk is installed (scripts/setup.sh)");
    assert!(status.success(), "trunk build --release failed");
    assert!(dist.join("index.html").exists());
    dist
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// A minimal static file server on an ephemeral loopback port; answers until the test process ends.
fn serve(dist: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dist = dist.clone();
            std::thread::spawn(move || handle(stream, &dist));
        }
    });
    port
}

fn handle(mut stream: TcpStream, dist: &Path) {
    let mut line = String::new();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    if reader.read_line(&mut line).is_err() {
        return;
    }
    // Drain the headers.
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").split('?').next().unwrap_or("/");
    let rel = if path == "/" { "index.html" } else { path.trim_start_matches('/') };
    let file = dist.join(rel);
    let (status, body, ctype) = match (rel.contains(".."), std::fs::read(&file)) {
        (false, Ok(bytes)) => ("200 OK", bytes, content_type(&file)),
        _ => ("404 Not Found", b"not found".to_vec(), "text/plain"),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// chromedriver, killed when dropped.
struct Driver {
    child: Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_chromedriver() -> Driver {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port();
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let driver = Driver { child, base: format!("http://127.0.0.1:{port}") };
    for _ in 0..100 {
        if let Ok(mut r) = ureq::get(&format!("{}/status", driver.base)).call() {
            let v: Value = r.body_mut().read_json().unwrap();
            if v["value"]["ready"] == json!(true) {
                return driver;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("chromedriver did not become ready");
}

fn post(url: &str, body: Value) -> Value {
    let mut r = ureq::post(url).send_json(body).unwrap_or_else(|e| panic!("POST {url}: {e}"));
    r.body_mut().read_json().unwrap()
}

fn get(url: &str) -> Value {
    let mut r = ureq::get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    r.body_mut().read_json().unwrap()
}

/// The chromeOptions of `webdriver.json` (the same browser and flags the wasm tests use).
fn chrome_options() -> Value {
    let text = std::fs::read_to_string(repo_root().join("webdriver.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut opts = v["goog:chromeOptions"].clone();
    let dir = std::env::temp_dir().join(format!("brokerlab-e2e-profile-{}", std::process::id()));
    opts["args"].as_array_mut().unwrap().push(json!(format!("--user-data-dir={}", dir.display())));
    opts["args"].as_array_mut().unwrap().push(json!("--window-size=1280,800"));
    opts
}

/// One WebDriver session on the served app, with the few commands the test needs.
struct Page {
    s: String,
}

fn element_id(v: &Value) -> Option<String> {
    v["value"].as_object()?.values().next()?.as_str().map(str::to_string)
}

impl Page {
    fn try_find(&self, css: &str) -> Option<String> {
        let mut r = ureq::post(&format!("{}/element", self.s))
            .send_json(json!({"using": "css selector", "value": css}))
            .ok()?;
        element_id(&r.body_mut().read_json().ok()?)
    }

    /// Finds an element, waiting (bounded) for the wasm app to render it.
    fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            if let Some(id) = self.try_find(css) {
                return id;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no element matches {css}");
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        post(&format!("{}/element/{id}/click", self.s), json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        post(&format!("{}/element/{id}/clear", self.s), json!({}));
        post(&format!("{}/element/{id}/value", self.s), json!({"text": text}));
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        get(&format!("{}/element/{id}/text", self.s))["value"].as_str().unwrap_or("").to_string()
    }

    /// Waits (bounded) until the element's text contains `needle`; returns the text.
    fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            if self.try_find(css).is_some() {
                last = self.text(css);
                if last.contains(needle) {
                    return last;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{css} never contained {needle:?}; last text: {last:?}");
    }

    fn screenshot(&self, name: &str) {
        let png = get(&format!("{}/screenshot", self.s))["value"].as_str().unwrap().to_string();
        let bytes = base64::engine::general_purpose::STANDARD.decode(png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let artifacts = repo_root().join("artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        std::fs::write(artifacts.join(name), &bytes).unwrap();
        println!("screenshot: {}", artifacts.join(name).display());
    }
}

#[test]
fn the_served_app_renders_its_shell_in_chromium() {
    let dist = trunk_build();
    let port = serve(dist);
    let driver = start_chromedriver();
    let session = post(
        &format!("{}/session", driver.base),
        json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": chrome_options(),
            "goog:loggingPrefs": {"browser": "ALL"}
        }}}),
    );
    let id = session["value"]["sessionId"].as_str().expect("a WebDriver session").to_string();
    let s = format!("{}/session/{id}", driver.base);
    let page = Page { s: s.clone() };
    post(&format!("{s}/window/rect"), json!({"width": 1600, "height": 1000}));
    post(&format!("{s}/url"), json!({"url": format!("http://127.0.0.1:{port}/")}));

    // The wasm app renders asynchronously: wait (bounded) for the header it draws.
    let heading = page.wait_text("header.app-header h1", "Brokerlab");
    assert_eq!(heading, "Brokerlab", "the header's title");

    let title = get(&format!("{s}/title"))["value"].as_str().unwrap().to_string();
    assert!(title.starts_with("Brokerlab"), "page title: {title}");
    let ws_text = page.text("main#workspace");
    assert!(ws_text.contains("Empty workspace"), "workspace area text: {ws_text}");
    assert_eq!(page.text("#clock"), "t = 0.000s");
    page.screenshot("e2e-shell.png");

    // Declare a queue through the form (Queues is the first tab).
    page.type_into("#queue-name", "e2e.orders");
    page.click("#queue-declare");
    page.wait_text("#notice", "Declared: queue 'e2e.orders'");
    page.wait_text("#topology", "e2e.orders");

    // Publish to it through the default exchange from the Messages tab.
    page.click("#tab-messages");
    page.type_into("#publish-key", "e2e.orders");
    page.type_into("#publish-body", "<b>order 1</b> as text");
    page.click("#publish");
    page.wait_text("#notice", "Published to exchange '' with key 'e2e.orders'");

    // The queue table shows one ready message.
    page.click("#tab-queues");
    let ready = page.wait_text("tr[data-queue='e2e.orders'] td.ready", "1");
    assert_eq!(ready, "1");
    assert_eq!(page.text("tr[data-queue='e2e.orders'] td.unacked"), "0");
    page.screenshot("e2e-queue.png");

    // Get it with "ack": the body is shown as text (not markup) and the queue is empty.
    page.click("#tab-messages");
    page.click("#get-mode option[value='ack']");
    page.click("#get");
    page.wait_text("#notice", "Got 1 message(s) from 'e2e.orders'");
    assert_eq!(page.text("#message-body"), "<b>order 1</b> as text");
    page.screenshot("e2e-message.png");
    page.click("#tab-queues");
    page.wait_text("tr[data-queue='e2e.orders'] td.ready", "0");

    // A redeclare with another `durable` is refused with RabbitMQ's code and text; the app keeps working.
    page.type_into("#queue-name", "e2e.orders");
    page.click("#queue-durable");
    page.click("#queue-declare");
    let refusal = page.wait_text("#notice", "406 PRECONDITION_FAILED");
    assert!(
        refusal.contains(
            "406 PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'e2e.orders' in vhost '/'"
        ),
        "banner: {refusal}"
    );
    page.screenshot("e2e-refused.png");
    page.click("#queue-durable");
    page.click("#queue-declare");
    page.wait_text("#notice", "Declared: queue 'e2e.orders'");

    // The example topology; a message rejected without requeue is dead-lettered with its x-death.
    page.click("#load-example");
    page.wait_text("#notice", "Loaded the example");
    page.click("#tab-messages");
    page.click("#get-queue option[value='orders.eu']");
    page.click("#get-mode option[value='reject']");
    page.click("#get");
    page.wait_text("#notice", "Got 1 message(s) from 'orders.eu'");
    page.click("#get-queue option[value='orders.dead']");
    page.click("#get-mode option[value='nack-requeue']");
    page.click("#get");
    let chain = page.wait_text("#x-death", "rejected");
    assert!(chain.contains("queue 'orders.eu'"), "x-death chain: {chain}");
    page.click("g.node.queue[aria-label^='queue orders.dead']");
    page.wait_text(".inspector", "Queue 'orders.dead'");
    page.screenshot("e2e-topology.png");

    // Time: play advances the virtual clock; the TTL of the example queues then fires.
    page.click("#speed option[value='1000']");
    page.click("#play");
    page.wait_text("#clock", "t = ");
    let mut expired = false;
    for _ in 0..100 {
        let clock = page.text("#clock");
        if clock != "t = 0.000s" && page.text("#topology").contains("0 ready") {
            expired = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(expired, "playing moves the clock and the 5 s TTL empties 'orders.eu'");
    page.click("#play");
    page.click("#tab-log");
    page.wait_text("#log-count", "events");
    page.type_into("#log-text", "dead-letter");
    let log = page.wait_text(".log-viewport", "dead-letter");
    assert!(log.contains("(expired)"), "the log shows the TTL dead-lettering: {log}");
    page.screenshot("e2e-log.png");

    // A bundled scenario from the picker replaces the engine; its checks start pending.
    page.click("#scenario option[value='02-work-queues']");
    page.wait_text("#notice", "Loaded scenario '2. Work queues'");
    page.wait_text("#scenario-name", "Work queues");
    assert_eq!(page.text("#clock"), "t = 0.000s", "a fresh run starts at 0");
    let before = page.text("#checks-summary");
    assert!(before.starts_with("0 of ") && !before.contains(" 0 pending"), "summary: {before}");
    // Played at 1000×, the producer and the workers move the tasks; the run ends and every check passes.
    page.click("#tab-queues");
    page.click("#speed option[value='1000']");
    page.click("#play");
    let summary = page.wait_text("#checks-summary", " · 0 pending");
    assert!(summary.contains(" · 0 fail · "), "checks: {summary}");
    let checks = page.text("#checks");
    assert!(!checks.to_lowercase().contains("fail\n"), "no check failed: {checks}");
    page.wait_text("#notice", "Scenario ended at 10.000s");
    assert_eq!(page.text("tr[data-queue='task_queue'] td.acked"), "10", "ten tasks consumed");
    assert_eq!(page.text("tr[data-queue='task_queue'] td.total"), "0");
    assert!(page.text("#topology").contains("worker-2"), "the workers are drawn");
    page.screenshot("e2e-scenario.png");

    // No errors in the page's console (a panic in the wasm would show here).
    let logs = post(&format!("{s}/se/log"), json!({"type": "browser"}));
    let severe: Vec<&Value> = logs["value"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["level"] == "SEVERE").collect())
        .unwrap_or_default();
    assert!(severe.is_empty(), "console errors: {severe:?}");

    let _ = ureq::delete(&s).call();
}
