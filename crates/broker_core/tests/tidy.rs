//! Architecture guards, run as ordinary tests: the engine stays free of web dependencies, clocks, threads
//! and global state.

use std::path::Path;

/// The kernel's global-state scanner, shared so every crate of the engine applies the same rule.
#[path = "../../sim_kernel/tests/support/global_state.rs"]
mod global_state;

const WEB_CRATES: &[&str] = &["yew", "web-sys", "js-sys", "wasm-bindgen", "gloo"];

/// Every dependency name declared in a Cargo.toml, in any dependency table.
fn declared_dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            // [dependencies], [dev-dependencies], [target.'cfg(..)'.dependencies], [dependencies.foo] …
            in_deps = line.contains("dependencies");
            if let Some(rest) = line.trim_matches(|c| c == '[' || c == ']').rsplit_once("dependencies.") {
                names.push(rest.1.trim().to_string());
            }
            continue;
        }
        if in_deps {
            if let Some((name, _)) = line.split_once('=') {
                let name = name.trim();
                if !name.is_empty() && !name.starts_with('#') {
                    names.push(name.trim_matches('"').to_string());
                }
            }
        }
    }
    names
}

fn is_web_crate(name: &str) -> bool {
    WEB_CRATES.iter().any(|w| name == *w || name.starts_with(&format!("{w}-")) || name.starts_with("gloo"))
}

#[test]
fn engine_has_no_web_dependency() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let web: Vec<String> = declared_dependencies(&manifest).into_iter().filter(|d| is_web_crate(d)).collect();
    assert!(web.is_empty(), "broker_core must not depend on web crates, found: {web:?}");
}

#[test]
fn the_guard_sees_web_dependencies_in_every_table() {
    let bad = "[dependencies]\nserde = \"1\"\nyew = \"0.23\"\n[target.'cfg(target_arch = \"wasm32\")'.dependencies]\n\
               web-sys = \"0.3\"\n[dev-dependencies.wasm-bindgen]\nversion = \"0.2\"\n[dependencies]\ngloo-timers = \"0.4\"\n";
    let web: Vec<String> = declared_dependencies(bad).into_iter().filter(|d| is_web_crate(d)).collect();
    assert_eq!(web, ["yew", "web-sys", "wasm-bindgen", "gloo-timers"]);
}

/// Wall-clock and thread APIs are banned in the engine's source (clippy.toml bans them too, with reasons;
/// this catches them even when clippy is not run).
#[test]
fn engine_source_uses_no_clock_or_threads() {
    let banned =
        ["Instant::now", "SystemTime::now", "thread::spawn", "thread::sleep", "HashMap<", "HashSet<"];
    let mut offenders = Vec::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    for b in banned {
                        if code.contains(b) {
                            offenders.push(format!("{}:{}: {b}", path.display(), n + 1));
                        }
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "banned API in the engine:\n{}", offenders.join("\n"));
}

/// No global mutable state in the engine (the script runtime factory included: the caller passes it in
/// `SimOptions`): no `thread_local!`, `static mut`, `lazy_static!`, and no `static` of a type with interior
/// mutability (`OnceLock`, `LazyLock`, `Cell`, `Mutex`, atomics …).
#[test]
fn engine_source_holds_no_global_state() {
    let mut offenders = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (line, what) in global_state::global_state(&text) {
                    offenders.push(format!("{}:{line}: {what}", path.display()));
                }
            }
        }
    }
    offenders.sort();
    assert!(offenders.is_empty(), "global state in the engine:\n{}", offenders.join("\n"));
}

#[test]
fn the_global_state_guard_sees_every_kind_and_nothing_else() {
    global_state::self_test();
}

#[test]
fn engine_clippy_config_bans_clock_and_threads_with_reasons() {
    let conf = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("clippy.toml")).unwrap();
    for api in ["std::time::Instant::now", "std::time::SystemTime::now", "std::thread::spawn"] {
        let line = conf
            .lines()
            .find(|l| l.contains(&format!("\"{api}\"")))
            .unwrap_or_else(|| panic!("{api} not banned"));
        assert!(line.contains("reason"), "{api} is banned without a reason");
    }
}

/// The whole dependency tree the browser build pulls in, not just the direct dependencies: a crate we
/// depend on must not bring a web dependency with it on wasm32 (Rhai ≥ 1.24 would, through `web-time`).
#[test]
fn engine_dependency_tree_for_wasm32_has_no_web_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "tree",
            "-p",
            "broker_core",
            "--target",
            "wasm32-unknown-unknown",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--locked",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.lines().any(|l| l.starts_with("broker_core ")), "unexpected cargo tree output:\n{tree}");
    let web: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| is_web_crate(name) || *name == "web-time")
        .collect();
    assert!(web.is_empty(), "broker_core pulls web crates into the wasm build: {web:?}");
}
