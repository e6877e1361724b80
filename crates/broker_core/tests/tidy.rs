//! Architecture guards, run as ordinary tests: the engine stays free of web dependencies, clocks, threads
//! and global state.

use std::path::PathBuf;

/// The kernel's global-state scanner, shared so every crate of the engine applies the same rule.
#[path = "../../sim_kernel/tests/support/global_state.rs"]
mod global_state;
/// The guards' common parts (manifests, source files, banned APIs, clippy's bans, the wasm tree).
#[path = "../../sim_kernel/tests/support/tidy.rs"]
mod tidy;
use tidy::declared_dependencies;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const WEB_CRATES: &[&str] = &["yew", "web-sys", "js-sys", "wasm-bindgen", "gloo"];

fn is_web_crate(name: &str) -> bool {
    WEB_CRATES.iter().any(|w| name == *w || name.starts_with(&format!("{w}-")) || name.starts_with("gloo"))
}

#[test]
fn engine_has_no_web_dependency() {
    let manifest = std::fs::read_to_string(crate_dir().join("Cargo.toml")).unwrap();
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
    let offenders = tidy::banned_uses(&tidy::rust_files(&crate_dir().join("src")), &banned);
    assert!(offenders.is_empty(), "banned API in the engine:\n{}", offenders.join("\n"));
}

/// No global mutable state in the engine (the script runtime factory included: the caller passes it in
/// `SimOptions`): no `thread_local!`, `static mut`, `lazy_static!`, and no `static` of a type with interior
/// mutability (`OnceLock`, `LazyLock`, `Cell`, `Mutex`, atomics …).
#[test]
fn engine_source_holds_no_global_state() {
    let mut offenders = Vec::new();
    for path in tidy::rust_files(&crate_dir().join("src")) {
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, what) in global_state::global_state(&text) {
            offenders.push(format!("{}:{line}: {what}", path.display()));
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
    tidy::assert_clippy_bans_clock_and_threads(&crate_dir());
}

/// The whole dependency tree the browser build pulls in, not just the direct dependencies: a crate we
/// depend on must not bring a web dependency with it on wasm32 (Rhai ≥ 1.24 would, through `web-time`).
#[test]
fn engine_dependency_tree_for_wasm32_has_no_web_crate() {
    let tree = tidy::wasm_dependency_tree("broker_core", &crate_dir());
    let web: Vec<&String> = tree.iter().filter(|name| is_web_crate(name) || *name == "web-time").collect();
    assert!(web.is_empty(), "broker_core pulls web crates into the wasm build: {web:?}");
}
