//! Finds global mutable state in Rust source, for the tidy tests of the kernel and of every model crate
//! (`broker_core/tests/tidy.rs` includes this file by path).
//!
//! Global state is what one simulation could see of another on the same thread or process: a
//! `thread_local!`, a `static mut`, a `lazy_static!`, an `#[thread_local]`, or a `static` whose type can
//! change behind a shared reference (`Cell`, `RefCell`, `OnceCell`, `OnceLock`, `LazyLock`, `Lazy`,
//! `Mutex`, `RwLock`, an atomic). Immutable statics (`static NAMES: &[&str] = …`) are constants and
//! allowed. Comments, strings and character literals are blanked first, so prose and messages never
//! match, and `'static` is a lifetime, not an item.

/// Type names whose values change behind a shared reference: a `static` of such a type is global state.
const INTERIOR_MUTABILITY: &[&str] = &[
    "Cell",
    "RefCell",
    "UnsafeCell",
    "OnceCell",
    "OnceLock",
    "LazyLock",
    "LazyCell",
    "Lazy",
    "Mutex",
    "RwLock",
    "Condvar",
    "AtomicBool",
    "AtomicU8",
    "AtomicU16",
    "AtomicU32",
    "AtomicU64",
    "AtomicUsize",
    "AtomicI8",
    "AtomicI16",
    "AtomicI32",
    "AtomicI64",
    "AtomicIsize",
    "AtomicPtr",
];

/// Every place in `source` that holds global mutable state: (1-based line, what was found).
pub fn global_state(source: &str) -> Vec<(usize, String)> {
    let code = blank_comments_and_literals(source);
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    for marker in ["thread_local!", "lazy_static!", "#[thread_local]"] {
        for (at, _) in code.match_indices(marker) {
            if word_starts(&code, at) {
                found.push((line_of(at), marker.to_string()));
            }
        }
    }
    for (at, _) in code.match_indices("static") {
        let rest = &code[at + "static".len()..];
        if !word_starts(&code, at) || !rest.starts_with(char::is_whitespace) {
            continue;
        }
        let rest = rest.trim_start();
        if rest.starts_with("mut ") || rest.starts_with("mut\n") {
            found.push((line_of(at), "static mut".to_string()));
            continue;
        }
        // `static NAME: TYPE = …;` — the type runs from the colon to the `=` (or the `;` of an extern one).
        let Some(colon) = rest.find(':') else { continue };
        let name = rest[..colon].trim();
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let after = &rest[colon + 1..];
        let end = after.find(['=', ';']).unwrap_or(after.len());
        let ty = &after[..end];
        let words: Vec<&str> = ty.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
        if let Some(kind) = INTERIOR_MUTABILITY.iter().find(|k| words.contains(k)) {
            found.push((line_of(at), format!("static {name} of a {kind}")));
        }
    }
    found.sort();
    found
}

/// Whether the text at `at` starts a word (no identifier character or `'` just before it).
fn word_starts(code: &str, at: usize) -> bool {
    !code[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '\'')
}

/// `source` with comments, string literals and character literals replaced by spaces (newlines kept, so
/// line numbers stay right). Raw strings (`r"…"`, `r#"…"#`) and nested block comments are understood.
fn blank_comments_and_literals(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && !out.chars().next_back().is_some_and(|p| p.is_alphanumeric() || p == '_')
        {
            // A raw string: r, hashes, a quote, then everything up to a quote and as many hashes.
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            let mut k = j + 1;
            while k < chars.len() {
                if chars[k] == '"' && (1..=hashes).all(|h| chars.get(k + h) == Some(&'#')) {
                    k += 1 + hashes;
                    break;
                }
                k += 1;
            }
            for &ch in &chars[i..k.min(chars.len())] {
                out.push(blank(ch));
            }
            i = k;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                let skip = if chars[i] == '\\' { 2 } else { 1 };
                for &ch in &chars[i..(i + skip).min(chars.len())] {
                    out.push(blank(ch));
                }
                i += skip;
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '\u{1F600}'); anything else after a quote is a lifetime.
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                let skip = if chars[i] == '\\' { 2 } else { 1 };
                for &ch in &chars[i..(i + skip).min(chars.len())] {
                    out.push(blank(ch));
                }
                i += skip;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The scanner finds each kind of global state and nothing in constants, lifetimes, comments or text.
pub fn self_test() {
    let bad = r#####"
thread_local! {
    /// The factory new_runtime uses instead of the built-in host (per thread: tests stay independent).
    static FACTORY: Cell<Option<RuntimeFactory>> = const { Cell::new(None) };
}
static mut COUNT: u64 = 0;
static CACHE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
pub(crate) static TABLE: LazyLock<BTreeMap<u8, u8>> = LazyLock::new(BTreeMap::new);
static HITS: AtomicU64 = AtomicU64::new(0);
static SEEN: Mutex<Vec<u8>> = Mutex::new(Vec::new());
lazy_static! { static ref NAMES: Vec<u8> = Vec::new(); }
"#####;
    let found: Vec<String> =
        global_state(bad).into_iter().map(|(line, what)| format!("{line}: {what}")).collect();
    assert_eq!(
        found,
        [
            "2: thread_local!",
            "4: static FACTORY of a Cell",
            "6: static mut",
            "7: static CACHE of a OnceLock",
            "8: static TABLE of a LazyLock",
            "9: static HITS of a AtomicU64",
            "10: static SEEN of a Mutex",
            "11: lazy_static!",
        ]
    );
    let fine = r#####"
static NAMES: &[&str] = &["a", "b"];
const LIMIT: usize = 3;
fn f(s: &'static str) -> &'static str { s }
// thread_local! { static X: Cell<u8> = Cell::new(0); }
/* static mut Y: u8 = 0; /* nested */ static Z: Mutex<u8> = Mutex::new(0); */
const TEXT: &str = "static mut in a message; thread_local! too";
const RAW: &str = r#"static S: RefCell<u8> = "quoted";"#;
const QUOTE: char = '"';
struct Memo { cache: std::cell::OnceCell<u8> }
"#####;
    assert_eq!(global_state(fine), []);
}
