//! End-to-end: build the app with trunk (release, wasm-opt), serve `dist/` on 127.0.0.1, load it in headless
//! Chromium through WebDriver (chromedriver), check what is rendered and save a screenshot.
//!
//! Needs the toolchain `scripts/setup.sh` installs, so it only builds with `--features e2e`
//! (`scripts/check.sh` runs it). The screenshot lands in `artifacts/e2e-shell.png`.

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
    post(&format!("{s}/url"), json!({"url": format!("http://127.0.0.1:{port}/")}));

    // The wasm app renders asynchronously: wait (bounded) for the header it draws.
    let mut heading = String::new();
    for _ in 0..200 {
        let found = ureq::post(&format!("{s}/element"))
            .send_json(json!({"using": "css selector", "value": "header.app-header h1"}));
        if let Ok(mut r) = found {
            let v: Value = r.body_mut().read_json().unwrap();
            let el = v["value"].as_object().unwrap().values().next().unwrap().as_str().unwrap().to_string();
            heading = get(&format!("{s}/element/{el}/text"))["value"].as_str().unwrap_or("").to_string();
            if !heading.is_empty() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(heading, "Brokerlab", "the header's title");

    let title = get(&format!("{s}/title"))["value"].as_str().unwrap().to_string();
    assert!(title.starts_with("Brokerlab"), "page title: {title}");
    let workspace =
        post(&format!("{s}/element"), json!({"using": "css selector", "value": "main#workspace"}));
    let ws = workspace["value"].as_object().unwrap().values().next().unwrap().as_str().unwrap().to_string();
    let ws_text = get(&format!("{s}/element/{ws}/text"))["value"].as_str().unwrap().to_string();
    assert!(ws_text.contains("Empty workspace"), "workspace area text: {ws_text}");

    let png = get(&format!("{s}/screenshot"))["value"].as_str().unwrap().to_string();
    let bytes = base64::engine::general_purpose::STANDARD.decode(png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    let artifacts = repo_root().join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("e2e-shell.png"), &bytes).unwrap();
    println!("screenshot: {}", artifacts.join("e2e-shell.png").display());

    // No errors in the page's console (a panic in the wasm would show here).
    let logs = post(&format!("{s}/se/log"), json!({"type": "browser"}));
    let severe: Vec<&Value> = logs["value"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["level"] == "SEVERE").collect())
        .unwrap_or_default();
    assert!(severe.is_empty(), "console errors: {severe:?}");

    let _ = ureq::delete(&s).call();
}
