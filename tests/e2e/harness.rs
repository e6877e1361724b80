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

/// chromedriver, killed when dropped, with the Chromium profile folder of its session, deleted then.
pub struct Driver {
    child: Child,
    pub base: String,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Chromium may still be writing as it exits: a few tries, then leave it (it is in /tmp).
        for _ in 0..5 {
            if std::fs::remove_dir_all(&self.profile).is_ok() || !self.profile.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
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
    static PROFILES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = PROFILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = std::env::temp_dir().join(format!("brokerlab-e2e-profile-{}-{n}", std::process::id()));
    let driver = Driver { child, base: format!("http://127.0.0.1:{port}"), profile };
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
    // WebDriver answers a failed command with an error status and a JSON body that says why: show it.
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut r = agent.post(url).send_json(&body).unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = r.status();
    let answer: Value = r.body_mut().read_json().unwrap_or_else(|e| panic!("POST {url}: {status}: {e}"));
    assert!(status.is_success(), "POST {url} {body}: {status}: {answer}");
    answer
}

pub fn get(url: &str) -> Value {
    let mut r = ureq::get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    r.body_mut().read_json().unwrap()
}

/// The chromeOptions of `webdriver.json` (the same browser and flags the wasm tests use), with the
/// profile folder of `driver` (deleted when the driver is dropped).
pub fn chrome_options(driver: &Driver) -> Value {
    let text = std::fs::read_to_string(repo_root().join("webdriver.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut opts = v["goog:chromeOptions"].clone();
    let dir = driver.profile.display();
    opts["args"].as_array_mut().unwrap().push(json!(format!("--user-data-dir={dir}")));
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
                "goog:chromeOptions": chrome_options(&driver),
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

// ---- Laptop-sized windows, real key typing and "is it where the user looks" (tests/e2e/laptop.rs) ----

/// The WebDriver key for Control (held until [`KEY_RELEASE_ALL`]).
pub const KEY_CONTROL: char = '\u{E009}';
/// Releases the held modifier keys (WebDriver's NULL key).
pub const KEY_RELEASE_ALL: char = '\u{E000}';
pub const KEY_BACKSPACE: char = '\u{E003}';
pub const KEY_ENTER: char = '\u{E007}';
pub const KEY_END: char = '\u{E010}';
pub const KEY_ESCAPE: char = '\u{E00C}';
pub const KEY_HOME: char = '\u{E011}';
pub const KEY_LEFT: char = '\u{E012}';
pub const KEY_RIGHT: char = '\u{E014}';
pub const KEY_UP: char = '\u{E013}';

/// Presses keys on the page as a keyboard does: keyDown / keyUp to whatever has the focus.
pub fn keys(page: &Page, keys: &[char]) {
    let mut actions = Vec::new();
    for k in keys {
        actions.push(json!({"type": "keyDown", "value": k.to_string()}));
        actions.push(json!({"type": "keyUp", "value": k.to_string()}));
    }
    post(
        &format!("{}/actions", page.s),
        json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
    );
    let _ = ureq::delete(&format!("{}/actions", page.s)).call();
}

/// Moves the focus off any control, as a click on the page's background does.
pub fn blur(page: &Page) {
    page.execute("document.activeElement && document.activeElement.blur();", json!([]));
}

impl Browser {
    /// [`Browser::open`] with the page's viewport (`innerWidth` × `innerHeight`) exactly `width` × `height`.
    pub fn open_sized(path: &str, width: i64, height: i64) -> Browser {
        let browser = Browser::open(path);
        browser.page.set_viewport(width, height);
        browser
    }
}

impl Page {
    /// Waits (bounded, best effort) for the start-up restore of the saved workspace, which replaces the
    /// session once IndexedDB answers: acting before it would be undone.
    pub fn settle_after_restore(&self) {
        self.wait_text("header.app-header h1", "Brokerlab");
        for _ in 0..60 {
            let restored = self.execute(
                "const n = document.getElementById('notice'); return !!n && /workspace/i.test(n.textContent);",
                json!([]),
            );
            if restored == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The viewport's size: `innerWidth` × `innerHeight`.
    pub fn viewport(&self) -> (i64, i64) {
        let v = self.execute("return [window.innerWidth, window.innerHeight];", json!([]));
        (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0))
    }

    /// Sizes the window so that the viewport is `width` × `height` (the window's own frame, if any, is
    /// measured and added); panics if the browser does not get there.
    pub fn set_viewport(&self, width: i64, height: i64) {
        let (mut outer_w, mut outer_h) = (width, height);
        for _ in 0..3 {
            post(&format!("{}/window/rect", self.s), json!({"width": outer_w, "height": outer_h}));
            let mut inner = (0, 0);
            for _ in 0..20 {
                inner = self.viewport();
                if inner == (width, height) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            outer_w += width - inner.0;
            outer_h += height - inner.1;
        }
        panic!("the viewport never became {width}×{height} (it is {:?})", self.viewport());
    }

    /// The `value` of a form field.
    pub fn value(&self, css: &str) -> String {
        self.execute(
            "const e = document.querySelector(arguments[0]); return e ? e.value : null;",
            json!([css]),
        )
        .as_str()
        .unwrap_or_else(|| panic!("no field {css}"))
        .to_string()
    }

    /// Types `text` into a field as a user does: clicks it, selects what it holds with Ctrl+A and deletes
    /// it with Backspace, then presses one key per character. WebDriver's "send keys" dispatches real
    /// key events (keydown, keypress, input, keyup) one character after another, and the page renders
    /// between them, so a field that loses its text or its focus while typing shows it here.
    pub fn send_keys(&self, css: &str, text: &str) {
        let id = self.find(css);
        post(&format!("{}/element/{id}/click", self.s), json!({}));
        let clear = format!("{KEY_CONTROL}a{KEY_RELEASE_ALL}{KEY_BACKSPACE}");
        post(&format!("{}/element/{id}/value", self.s), json!({"text": clear}));
        post(&format!("{}/element/{id}/value", self.s), json!({"text": text}));
    }

    /// Presses one key (e.g. [`KEY_ENTER`]) in a field, leaving what it holds.
    pub fn press(&self, css: &str, key: char) {
        let id = self.find(css);
        post(&format!("{}/element/{id}/value", self.s), json!({"text": key.to_string()}));
    }

    /// Types `text` into a field with WebDriver's low-level key actions: a click gives it focus, then each
    /// character is a keyDown and a keyUp sent to whatever element has the focus, as a keyboard does
    /// (a field that moves the focus elsewhere while typing loses the rest of the text).
    pub fn type_keys(&self, css: &str, text: &str) {
        self.click(css);
        let mut actions = vec![
            json!({"type": "keyDown", "value": KEY_CONTROL.to_string()}),
            json!({"type": "keyDown", "value": "a"}),
            json!({"type": "keyUp", "value": "a"}),
            json!({"type": "keyUp", "value": KEY_CONTROL.to_string()}),
            json!({"type": "keyDown", "value": KEY_BACKSPACE.to_string()}),
            json!({"type": "keyUp", "value": KEY_BACKSPACE.to_string()}),
        ];
        for c in text.chars() {
            actions.push(json!({"type": "keyDown", "value": c.to_string()}));
            actions.push(json!({"type": "keyUp", "value": c.to_string()}));
        }
        post(
            &format!("{}/actions", self.s),
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        );
        let _ = ureq::delete(&format!("{}/actions", self.s)).call();
    }

    /// Why the element is not where the user looks, or `None` when it is: inside the viewport
    /// (`getBoundingClientRect` against `innerHeight` / `innerWidth`) and inside every pane that clips it,
    /// at least 100 px of it (or all of it, when shorter) shows, and nothing covers its top (the element at
    /// that point is it or inside it).
    pub fn not_in_view(&self, css: &str) -> Option<String> {
        let v = self.execute(
            "const el = document.querySelector(arguments[0]);
             if (!el) return 'missing';
             const r = el.getBoundingClientRect();
             const where = `top ${Math.round(r.top)}, bottom ${Math.round(r.bottom)}, left ${Math.round(r.left)}, ` +
               `right ${Math.round(r.right)} in a ${innerWidth}×${innerHeight} viewport`;
             if (r.width === 0 || r.height === 0) return 'not drawn: ' + where;
             let top = Math.max(r.top, 0), bottom = Math.min(r.bottom, innerHeight);
             let left = Math.max(r.left, 0), right = Math.min(r.right, innerWidth);
             for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
               const s = getComputedStyle(a);
               if (s.overflowY === 'visible' && s.overflowX === 'visible') continue;
               const c = a.getBoundingClientRect();
               top = Math.max(top, c.top); bottom = Math.min(bottom, c.bottom);
               left = Math.max(left, c.left); right = Math.min(right, c.right);
             }
             const need = Math.min(r.height, 100);
             if (bottom - top < need - 1 || right - left < Math.min(r.width, 40) - 1)
               return `only ${Math.max(0, Math.round(bottom - top))} px high shows: ` + where;
             const x = left + Math.min((right - left) / 2, 24), y = top + Math.min((bottom - top) / 2, 8);
             const hit = document.elementFromPoint(x, y);
             if (!hit || !(el === hit || el.contains(hit)))
               return `covered at (${Math.round(x)}, ${Math.round(y)}) by ` +
                 (hit ? hit.outerHTML.slice(0, 120) : 'nothing') + ': ' + where;
             return null;",
            json!([css]),
        );
        v.as_str().map(str::to_string)
    }

    /// Panics unless `css` is where the user looks ([`Page::not_in_view`]); waits a little first, since
    /// scrolling into view happens after the render.
    pub fn assert_in_view(&self, css: &str, what: &str) {
        let mut why = None;
        for _ in 0..20 {
            why = self.not_in_view(css);
            if why.is_none() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let (w, h) = self.viewport();
        let shot = format!("e2e-not-in-view-{w}x{h}.png");
        self.screenshot(&shot);
        panic!("{what} ({css}) is not in view at {w}×{h}: {}; see artifacts/{shot}", why.unwrap_or_default());
    }

    /// Loads a bundled scenario from the picker and waits until it is loaded.
    pub fn load_scenario(&self, id: &str) {
        let option = format!("#scenario option[value='{id}']");
        let name =
            self.execute("return document.querySelector(arguments[0]).textContent.trim();", json!([option]));
        let name = name.as_str().unwrap_or_else(|| panic!("no bundled scenario {id}")).to_string();
        self.click(&option);
        self.wait_text("#notice", &format!("Loaded scenario '{name}'"));
    }

    /// The ids of the bundled scenarios, as the picker offers them (not the disabled entries that name what
    /// is loaded: "Hand-built broker", or a document of its own).
    pub fn bundled_scenarios(&self) -> Vec<String> {
        let v = self.execute(
            "return [...document.querySelectorAll('#scenario option:not([disabled])')].map(o => o.value).filter(v => v);",
            json!([]),
        );
        v.as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
}

/// One file of a page's initial download: its path in the dist, raw, `gzip -9` and (when the `brotli`
/// tool is installed) `brotli -q 11` sizes.
pub struct Fetched {
    pub file: String,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: Option<u64>,
}

fn is_download_kind(file: &str) -> bool {
    matches!(Path::new(file).extension().and_then(|e| e.to_str()), Some("wasm" | "js" | "css"))
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

/// A page's initial download (issues 6 and 17): the wasm, JS and CSS files the browser fetched (Resource
/// Timing) from loading `path` on `port` until `selector` shows and two seconds more, sized from `dist`
/// (what the server sent); and the dist's other wasm, JS and CSS files, which nothing fetched at start
/// (another page's module, the lazy scripting module, the embedders' helper script). Leaves the page open.
pub fn initial_download(
    page: &Page,
    port: u16,
    path: &str,
    selector: &str,
    dist: &Path,
) -> (Vec<Fetched>, Vec<String>) {
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
            assert!(gz.status.success(), "gzip -9 {rel}");
            // Brotli (quality 11, as a static host precompresses) when the `brotli` tool is installed.
            let br = Command::new("brotli")
                .args(["-q", "11", "-c"])
                .arg(&path)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| o.stdout.len() as u64);
            Fetched { file: rel.clone(), raw, gzip: gz.stdout.len() as u64, brotli: br }
        })
        .collect();
    let left =
        files_under(dist).into_iter().filter(|f| is_download_kind(f) && !fetched.contains(f)).collect();
    (sized, left)
}

/// The pages whose first download has a budget (issue 17: each model's page at most 650 kB gzipped, the
/// RabbitMQ page at most 2% above the 649.2 kB it had before the Kafka page existed): (name, path, the
/// selector that shows once it has started, budget in gzipped bytes). The embedded sandbox is the
/// RabbitMQ model's other page; each model's sandbox (`?embed=1&model=…`, a module of its own) is a page
/// of its own too and has the per-page budget.
pub const PAGE_BUDGETS: [(&str, &str, &str, u64); 8] = [
    ("RabbitMQ", "/", "header.app-header", 662_200),
    ("Kafka", "/?model=kafka", ".kafka-app", 650_000),
    ("SQS", "/?model=sqs", ".sqs-app", 650_000),
    ("Redis", "/?model=redis", ".redis-app", 650_000),
    ("embedded sandbox", "/?embed=1", "#embed", 650_000),
    ("Kafka sandbox", "/?embed=1&model=kafka", "#embed", 650_000),
    ("SQS sandbox", "/?embed=1&model=sqs", "#embed", 650_000),
    ("Redis sandbox", "/?embed=1&model=redis", "#embed", 650_000),
];
