# Sourced by the other scripts: runs the set-up (quick when everything is present) and exports the
# environment the build and the tests need.
# shellcheck shell=bash
BROKERLAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_setup_out=$("$BROKERLAB_ROOT/scripts/setup.sh")
_toolchain=$(printf '%s\n' "$_setup_out" | sed -n 's/^toolchain=//p' | tail -1)
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:/usr/local/bin:$PATH"
if [ -n "$_toolchain" ]; then export RUSTUP_TOOLCHAIN=$_toolchain; fi
# wasm-bindgen-test-runner drives this chromedriver; webdriver.json (repo root) names the browser binary.
export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
cd "$BROKERLAB_ROOT"
