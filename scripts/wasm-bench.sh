#!/usr/bin/env bash
# The AMQP engine as wasm against the engine as native code (issue 18, BENCHMARKS.md "wasm against
# native"): the direct publish → deliver → ack benchmark criterion times (broker_core/benches/
# amqp_support/, run by crates/amqp_wasm_bench), measured natively and in headless Chromium in the
# same script, alternating, each against its own VecDeque baseline. Both builds use cargo's `bench`
# profile (opt-level "s", no LTO: what `cargo bench` measures natively), not the page's `release`
# profile ("z", LTO), so the ratio compares the same compiled code on two targets.
#
# Prints each run's median lines and the ratios. A few minutes on 2 cores the first time (two builds).
# Knobs: AMQP_WASM_BENCH=full (11 rounds of 100 batches of 1,000 messages after 20 warm-up batches) or
# `warm_up,rounds,batches`; WASM_BENCH_PAIRS=2 (native then wasm, this many times).
set -euo pipefail
source "$(dirname "$0")/env.sh"

export AMQP_WASM_BENCH=${AMQP_WASM_BENCH:-full}
pairs=${WASM_BENCH_PAIRS:-2}
cargo_test=(cargo test --profile bench -p amqp_wasm_bench --test direct --locked)

echo "[wasm-bench] building (native and wasm32, profile bench, plan $AMQP_WASM_BENCH)" >&2
"${cargo_test[@]}" --no-run >&2
wasm=$("${cargo_test[@]}" --target wasm32-unknown-unknown --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*direct-[^"]*\.wasm\)".*/\1/p' | tail -1)
[ -n "$wasm" ] || { echo "[wasm-bench] no wasm test binary found" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq 1 "$pairs"); do
  echo "[wasm-bench] pair $i: native (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  "${cargo_test[@]}" -q -- --nocapture 2>/dev/null | grep '^amqp_wasm_bench' | tee -a "$out/native" >&2
  echo "[wasm-bench] pair $i: wasm32 in $(chromium --version 2>/dev/null || echo chromium) (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  # The runner reads webdriver.json (the browser and its flags) from the current directory: the root.
  wasm-bindgen-test-runner "$wasm" --nocapture 2>&1 | grep -o 'amqp_wasm_bench.*' | tee -a "$out/wasm" >&2
done

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| Pair | native baseline ns | native direct ns | native ratio | wasm baseline ns | wasm direct ns | wasm ratio | wasm/native (direct) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
paste <(grep ' median ' "$out/native") <(grep ' median ' "$out/wasm") | awk -v OFS=' | ' '
  function field(name,   i, kv) {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
  }
  {
    # Each line holds the native fields, then (after paste'"'"'s tab) the wasm ones; the names repeat, so
    # split the two halves.
    split($0, half, "\t")
    $0 = half[1]; nb = field("baseline_ns"); nd = field("direct_ns"); nr = field("ratio")
    $0 = half[2]; wb = field("baseline_ns"); wd = field("direct_ns"); wr = field("ratio")
    printf "| %d | %s | %s | %s | %s | %s | %s | %.2f |\n", NR, nb, nd, nr, wb, wd, wr, wd / nd
  }'
