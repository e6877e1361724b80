//! Native and wasm agree: the engine's seeded transcript equals one golden file on both targets.
//!
//! The same test body runs natively (`cargo test`) and in headless Chromium (`cargo test --target
//! wasm32-unknown-unknown`); both compare `deterministic_transcript(seed)` byte for byte with
//! `tests/determinism/transcript-seed-<seed>.txt`, so a passing pair shows native and wasm produce the same
//! event log. `UPDATE_GOLDEN=1 cargo test --test determinism_everywhere` rewrites the file natively.

use broker_core::testkit::deterministic_transcript;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const SEEDS: [(u64, &str); 2] = [
    (42, include_str!("determinism/transcript-seed-42.txt")),
    (7, include_str!("determinism/transcript-seed-7.txt")),
];

/// FNV-1a, to print a short fingerprint of each transcript in both test logs.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn check(seed: u64, golden: &str, target: &str) {
    let transcript = deterministic_transcript(seed);
    let line = format!(
        "{target}: seed {seed}: {} events, fingerprint {:016x}",
        transcript.lines().count(),
        fingerprint(&transcript)
    );
    #[cfg(target_arch = "wasm32")]
    web_sys::console::log_1(&line.into());
    #[cfg(not(target_arch = "wasm32"))]
    println!("{line}");
    if transcript != golden {
        let first = transcript.lines().zip(golden.lines()).position(|(a, b)| a != b);
        panic!(
            "{target}: seed {seed}: transcript differs from the golden file (first differing line: {first:?}; \
             {} lines vs {})",
            transcript.lines().count(),
            golden.lines().count()
        );
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn native_transcripts_match_the_golden_files() {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/determinism");
        for (seed, _) in SEEDS {
            std::fs::write(dir.join(format!("transcript-seed-{seed}.txt")), deterministic_transcript(seed))
                .unwrap();
        }
        return;
    }
    for (seed, golden) in SEEDS {
        check(seed, golden, "native");
    }
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
fn wasm_transcripts_match_the_golden_files() {
    for (seed, golden) in SEEDS {
        check(seed, golden, "wasm32 in Chromium");
    }
}
