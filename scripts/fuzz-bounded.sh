#!/usr/bin/env bash
# Bounded coverage-guided fuzzing in CI: every cargo-fuzz target in fuzz/ (one per input kind: format 1,
# documents, definitions.json, scripts, permalinks, stored workspaces, embed messages) runs a fixed number
# of inputs from a fixed seed, starting from a corpus of the project's own inputs (the bundled scenarios,
# the golden scenarios and the bad-input catalogue). A crash, a timeout or an out-of-memory fails CI and
# leaves the input in fuzz/artifacts/<target>/: keep it as a case in tests/bad-input/<kind>/ once fixed.
# The seeded mutation fuzzers of the native tests (crates/broker_core/tests/fuzz_inputs.rs,
# src/bad_input.rs) run beside this; fuzz/README.md says how to hunt for longer.
#
# libFuzzer needs a nightly toolchain (installed with rustup when missing) and cargo-fuzz (pinned below).
# FUZZ_RUNS (default 100000 inputs per target) and FUZZ_SECONDS (default 45, a cap per target) bound it.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
say() { echo "[fuzz] $*"; }
fail() { echo "[fuzz] FAILED: $*" >&2; exit 1; }

CARGO_FUZZ_VERSION=0.13.2
RUNS=${FUZZ_RUNS:-100000}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-45}
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  say "rustup toolchain install nightly (libFuzzer needs it; give up after 300 s)"
  timeout 300 rustup toolchain install nightly --profile minimal \
    || fail "no nightly toolchain: libFuzzer cannot be built here"
fi
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  say "cargo install cargo-fuzz $CARGO_FUZZ_VERSION (about 1 min)"
  cargo install -q --force cargo-fuzz --version "=$CARGO_FUZZ_VERSION" --locked
fi

# Unset what scripts/env.sh exports for the stable toolchain: cargo-fuzz runs `cargo +nightly`.
unset RUSTUP_TOOLCHAIN
say "building the targets (nightly $(rustc +nightly --version | cut -d' ' -f2-))"
(cd fuzz && cargo +nightly fuzz build --sanitizer none -O) || fail "the fuzz targets do not build"

corpus=$(mktemp -d /tmp/brokerlab-fuzz.XXXXXX)
trap 'rm -rf "$corpus"' EXIT
seed() { # $1 = target, then files
  local target=$1; shift
  mkdir -p "$corpus/$target"
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$corpus/$target/$(echo "$f" | tr '/' '_')"; done
  return 0
}
shopt -s nullglob globstar
seed format1 tests/scenarios/**/scenario.brokerlab tests/bad-input/format1/*
seed document www/scenarios/*.json tests/bad-input/document/*
seed definitions crates/broker_core/tests/definitions/*.json tests/bad-input/definitions/*
seed script tests/bad-input/script/*
seed permalink tests/bad-input/permalink/*
seed workspace tests/bad-input/workspace/*
seed embed tests/bad-input/embed/*

for target in format1 document definitions script permalink workspace embed; do
  t0=$SECONDS
  # -seed fixes libFuzzer's choices, -runs the work; the time cap only guards a slow machine.
  if ! (cd fuzz && cargo +nightly fuzz run --sanitizer none -O "$target" "$corpus/$target" -- \
        -seed=1 -runs="$RUNS" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 > "$corpus/$target.log" 2>&1); then
    tail -40 "$corpus/$target.log" >&2
    fail "$target: libFuzzer found a crash, a timeout or an out-of-memory (input in fuzz/artifacts/$target/)"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$corpus/$target.log" | tail -1)
  say "$target: ${runs:-?} inputs, nothing found ($((SECONDS - t0)) s)"
done
say "every target ran clean in $((SECONDS - start)) s"
