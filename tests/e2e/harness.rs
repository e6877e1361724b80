//! The end-to-end harness: builds the app once with trunk (release, wasm-opt), serves `dist/` on 127.0.0.1
//! from this process, starts chromedriver and drives headless Chromium through WebDriver (JSON over HTTP).
//! Screenshots land in `artifacts/`.

#![allow(dead_code)] // each test file uses part of the harness

use base64::Engine as _;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the app into `<target dir>/e2e-dist` exactly as a release deploy would (once per test process).
pub fn trunk_build() -> PathBuf {
    static DIST: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIST.get_or_init(trunk_build_now).clone()
}

fn trunk_build_now() -> PathBuf {
    // Inside the target directory in use, so builds with separate target directories never share a dist.
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo_root().join("target"), PathBuf::from);
    let dist = target.join("e2e-dist");
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

pub fn content_type(path: &Path) -> &'static str {
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
pub fn serve(dist: PathBuf) -> u16 {
    serve_with_headers(dist, "")
}

/// [`serve`], adding `headers` (each line ending in `\r\n`) to every response.
pub fn serve_with_headers(dist: PathBuf, headers: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dist = dist.clone();
            std::thread::spawn(move || handle(stream, &dist, headers));
        }
    });
    port
}

fn handle(mut stream: TcpStream, dist: &Path, headers: &str) {
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
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// chromedriver, killed when dropped.
pub struct Driver {
    child: Child,
    pub base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn start_chromedriver() -> Driver {
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

pub fn post(url: &str, body: Value) -> Value {
    let mut r = ureq::post(url).send_json(body).unwrap_or_else(|e| panic!("POST {url}: {e}"));
    r.body_mut().read_json().unwrap()
}

pub fn get(url: &str) -> Value {
    let mut r = ureq::get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    r.body_mut().read_json().unwrap()
}

/// The chromeOptions of `webdriver.json` (the same browser and flags the wasm tests use).
pub fn chrome_options() -> Value {
    let text = std::fs::read_to_string(repo_root().join("webdriver.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut opts = v["goog:chromeOptions"].clone();
    static PROFILES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = PROFILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("brokerlab-e2e-profile-{}-{n}", std::process::id()));
    opts["args"].as_array_mut().unwrap().push(json!(format!("--user-data-dir={}", dir.display())));
    opts["args"].as_array_mut().unwrap().push(json!("--window-size=1280,800"));
    opts
}

/// One WebDriver session on the served app, with the few commands the test needs.
pub struct Page {
    pub s: String,
}

pub fn element_id(v: &Value) -> Option<String> {
    v["value"].as_object()?.values().next()?.as_str().map(str::to_string)
}

impl Page {
    pub fn try_find(&self, css: &str) -> Option<String> {
        let mut r = ureq::post(&format!("{}/element", self.s))
            .send_json(json!({"using": "css selector", "value": css}))
            .ok()?;
        element_id(&r.body_mut().read_json().ok()?)
    }

    /// Finds an element, waiting (bounded) for the wasm app to render it.
    pub fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            if let Some(id) = self.try_find(css) {
                return id;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no element matches {css}");
    }

    pub fn click(&self, css: &str) {
        let id = self.find(css);
        post(&format!("{}/element/{id}/click", self.s), json!({}));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        post(&format!("{}/element/{id}/clear", self.s), json!({}));
        post(&format!("{}/element/{id}/value", self.s), json!({"text": text}));
    }

    pub fn text(&self, css: &str) -> String {
        let id = self.find(css);
        get(&format!("{}/element/{id}/text", self.s))["value"].as_str().unwrap_or("").to_string()
    }

    /// Waits (bounded) until the element's text contains `needle`; returns the text.
    pub fn wait_text(&self, css: &str, needle: &str) -> String {
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

    pub fn screenshot(&self, name: &str) {
        let png = get(&format!("{}/screenshot", self.s))["value"].as_str().unwrap().to_string();
        let bytes = base64::engine::general_purpose::STANDARD.decode(png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let artifacts = repo_root().join("artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        std::fs::write(artifacts.join(name), &bytes).unwrap();
        println!("screenshot: {}", artifacts.join(name).display());
    }
}

/// The port the built app is served on (built and served once per test process). Served with
/// `Access-Control-Allow-Origin: *`, as docs/embed.md asks of a host: an embedded sandbox (an iframe
/// without `allow-same-origin`) has an opaque origin and fetches the app's files cross-origin.
pub fn served_port() -> u16 {
    static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    *PORT.get_or_init(|| serve_with_headers(trunk_build(), "Access-Control-Allow-Origin: *\r\n"))
}

/// A browser (its own chromedriver and profile) with one WebDriver session; closed when dropped.
pub struct Browser {
    pub page: Page,
    _driver: Driver,
}

impl Browser {
    /// Opens `path` (e.g. `/` or `/?embed=…`) of the served app in a new headless Chromium.
    pub fn open(path: &str) -> Browser {
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
        let page = Page { s: format!("{}/session/{id}", driver.base) };
        post(&format!("{}/window/rect", page.s), json!({"width": 1600, "height": 1000}));
        page.goto(path);
        Browser { page, _driver: driver }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.page.s).call();
    }
}

impl Page {
    /// Navigates to `path` on the served app (a reload when it is the current address).
    pub fn goto(&self, path: &str) {
        post(&format!("{}/url", self.s), json!({"url": format!("http://127.0.0.1:{}{path}", served_port())}));
    }

    /// Runs JavaScript in the page (`arguments` are `args`); returns its result.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        post(&format!("{}/execute/sync", self.s), json!({"script": script, "args": args}))["value"].clone()
    }

    /// Runs asynchronous JavaScript; the script calls `arguments[arguments.length - 1](result)`.
    pub fn execute_async(&self, script: &str, args: Value) -> Value {
        post(&format!("{}/execute/async", self.s), json!({"script": script, "args": args}))["value"].clone()
    }

    /// The browser console's SEVERE entries since the last call (a wasm panic shows here).
    pub fn console_errors(&self) -> Vec<Value> {
        let logs = post(&format!("{}/se/log", self.s), json!({"type": "browser"}));
        logs["value"]
            .as_array()
            .map(|a| a.iter().filter(|e| e["level"] == "SEVERE").cloned().collect())
            .unwrap_or_default()
    }
}
