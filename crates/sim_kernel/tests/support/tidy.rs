//! The architecture guards' common parts, for the tidy tests of the kernel and of every model crate
//! (`sim_kernel/tests/tidy.rs`, `broker_core/tests/tidy.rs` include this file by path): the dependency
//! names a manifest declares, a crate's source files, banned APIs in code (comments cut off), clippy's
//! bans with reasons, and the crate's dependency tree for the browser build.

use std::path::{Path, PathBuf};

/// Every dependency name declared in a Cargo.toml, in any dependency table (`[dependencies]`,
/// `[dev-dependencies]`, `[target.'cfg(..)'.dependencies]`, `[dependencies.foo]`; `serde.workspace = true`
/// declares `serde`).
pub fn declared_dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line.contains("dependencies");
            if let Some(rest) = line.trim_matches(|c| c == '[' || c == ']').rsplit_once("dependencies.") {
                names.push(rest.1.trim().to_string());
            }
            continue;
        }
        if in_deps {
            if let Some((name, _)) = line.split_once('=') {
                let name = name.trim().split('.').next().unwrap_or("");
                if !name.is_empty() && !name.starts_with('#') {
                    names.push(name.trim_matches('"').to_string());
                }
            }
        }
    }
    names
}

/// Every `.rs` file under `dir`, sorted.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable folder") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `file:line: api` for each use of a `banned` API in the code of `files` (text after `//` is not code).
pub fn banned_uses(files: &[PathBuf], banned: &[&str]) -> Vec<String> {
    let mut offenders = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(path).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for b in banned {
                if code.contains(b) {
                    offenders.push(format!("{}:{}: {b}", path.display(), n + 1));
                }
            }
        }
    }
    offenders
}

/// Asserts that the crate's `clippy.toml` bans the wall clock and thread spawning, each with a reason.
pub fn assert_clippy_bans_clock_and_threads(crate_dir: &Path) {
    let conf = std::fs::read_to_string(crate_dir.join("clippy.toml")).expect("a clippy.toml");
    for api in ["std::time::Instant::now", "std::time::SystemTime::now", "std::thread::spawn"] {
        let line = conf
            .lines()
            .find(|l| l.contains(&format!("\"{api}\"")))
            .unwrap_or_else(|| panic!("{api} not banned"));
        assert!(line.contains("reason"), "{api} is banned without a reason");
    }
}

/// The names of the crates in `package`'s normal dependency tree for wasm32 (what the browser build pulls
/// in, not only the direct dependencies).
pub fn wasm_dependency_tree(package: &str, crate_dir: &Path) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["tree", "-p", package, "--target", "wasm32-unknown-unknown", "-e", "normal"])
        .args(["--prefix", "none", "--locked"])
        .current_dir(crate_dir)
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        tree.lines().any(|l| l.starts_with(&format!("{package} "))),
        "unexpected cargo tree output:\n{tree}"
    );
    tree.lines().filter_map(|l| l.split_whitespace().next()).map(String::from).collect()
}
