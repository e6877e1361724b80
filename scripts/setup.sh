#!/usr/bin/env bash
# Installs what Brokerlab needs to build, serve and test, and nothing else. Idempotent: each step checks
# first and says what it found; a second run with everything present takes seconds.
#
#   wasm32 standard library   rustup's target where rustup can reach its server (the standard route);
#                             otherwise Debian's rustc-web 1.96 with a wasm32 std built once from Debian's
#                             own Rust source (the route for machines without access to the Rust dist server)
#   wasm-bindgen-cli          exactly the wasm-bindgen version in Cargo.lock (trunk and the test runner need it)
#   trunk 0.21.14             builds and serves the app
#   wasm-opt (binaryen 132)   trunk's release optimiser (Debian's binaryen 108 cannot read current wasm)
#   chromium, chromedriver    the headless browser for the wasm tests and the end-to-end test
#   rabbitmq-server           RabbitMQ 3.10 from Debian: the oracle scripts/real-broker-tests.sh compares with
#
# Prints the toolchain to use as its last line on stdout (`toolchain=NAME`); scripts/env.sh reads it.
# BROKERLAB_ROUTE=rustup|debian forces a route (default: rustup if it works within a time limit).
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0
WASM_TARGET=wasm32-unknown-unknown
DEBIAN_SYSROOT=/usr/lib/rustlib
say() { echo "[setup] $*" >&2; }
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  # apt-get update once per run, and only when something is to be installed.
  if [ -z "$apt_updated" ]; then
    say "apt-get update"
    sudo_if_needed apt-get update -qq >&2
    apt_updated=1
  fi
  say "apt-get install $*"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:/usr/local/bin:$PATH"

# ---------------------------------------------------------------- the compiler and the wasm32 std
has_wasm_std() { # $1 = toolchain name
  local sysroot
  sysroot=$(rustc +"$1" --print sysroot 2>/dev/null) || return 1
  ls "$sysroot/lib/rustlib/$WASM_TARGET/lib/"libstd-*.rlib >/dev/null 2>&1
}

rustup_route() {
  command -v rustup >/dev/null || return 1
  if has_wasm_std stable; then say "rustup: stable has the $WASM_TARGET std"; return 0; fi
  say "rustup: adding target $WASM_TARGET to stable (give up after 180 s)"
  timeout 180 rustup target add --toolchain stable "$WASM_TARGET" >&2 && has_wasm_std stable
}

debian_route() {
  local pkgs=(rustc-web cargo-web libstd-rust-web-dev rust-web-src rust-web-llvm lld-22 rust-web-clippy rustfmt-web)
  local missing=()
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; else say "debian: rustc-web packages present"; fi
  if command -v rustup >/dev/null && ! rustup toolchain list | grep -q '^web'; then
    say "rustup toolchain link web /usr (Debian's rustc 1.96 as toolchain 'web')"
    rustup toolchain link web /usr >&2
  fi
  local libdir="$DEBIAN_SYSROOT/$WASM_TARGET/lib" stamp want
  stamp="$libdir/.brokerlab-std-stamp"
  want=$(/usr/bin/rustc -vV)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && ls "$libdir"/libstd-*.rlib >/dev/null 2>&1; then
    say "debian: wasm32 std present for $(/usr/bin/rustc --version)"
    return 0
  fi
  say "debian: building the wasm32 std from Debian's Rust source (about 30 s)"
  local work
  work=$(mktemp -d)
  mkdir -p "$work/src"
  printf '[package]\nname = "stdbuild"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n' > "$work/Cargo.toml"
  echo '' > "$work/src/lib.rs"
  (cd "$work" && RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Cembed-bitcode=yes RUSTC=/usr/bin/rustc \
     /usr/bin/cargo build -q --release --target "$WASM_TARGET" -Zbuild-std=std,panic_abort,test >&2)
  sudo_if_needed mkdir -p "$libdir"
  local cp=(cp); [ "$(id -u)" = 0 ] || cp=(sudo cp)
  sudo_if_needed find "$libdir" -maxdepth 1 -name 'lib*.r*' -delete
  find "$work/target/$WASM_TARGET/release/deps" \( -name 'lib*.rlib' -o -name 'lib*.rmeta' \) \
    ! -name 'libstdbuild-*' -exec "${cp[@]}" {} "$libdir/" \;
  echo "$want" | sudo_if_needed tee "$stamp" >/dev/null
  rm -rf "$work"
  # Crates built against an earlier std fail with E0460; drop the project's wasm32 build.
  rm -rf "target/$WASM_TARGET"
  say "debian: wasm32 std installed in $libdir"
}

route=${BROKERLAB_ROUTE:-}
toolchain=""
if [ "$route" != debian ] && rustup_route; then
  toolchain=stable
elif [ "$route" = rustup ]; then
  say "rustup route forced but it failed"; exit 1
else
  say "the rustup route is not available here: using Debian's rustc-web"
  debian_route
  if command -v rustup >/dev/null; then toolchain=web; fi
fi
if [ -n "$toolchain" ]; then export RUSTUP_TOOLCHAIN=$toolchain; fi
say "toolchain: ${toolchain:-system} ($(rustc --version))"

# ---------------------------------------------------------------- cargo-installed tools
wb_want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
wb_have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$wb_have" = "$wb_want" ]; then
  say "wasm-bindgen-cli $wb_have present (matches Cargo.lock)"
else
  say "cargo install wasm-bindgen-cli $wb_want (have: ${wb_have:-none}; about 2 min)"
  # Not --locked: its lock file pins a crate version that crates.io no longer serves.
  cargo install -q --force wasm-bindgen-cli --version "=$wb_want" >&2
fi

trunk_have=$(trunk --version 2>/dev/null | awk '{print $2}' || true)
if [ "$trunk_have" = "$TRUNK_VERSION" ]; then
  say "trunk $trunk_have present"
else
  say "cargo install trunk $TRUNK_VERSION (have: ${trunk_have:-none}; about 5 min)"
  # 0.22 needs a newer rustc than either toolchain here.
  cargo install -q --force trunk --version "=$TRUNK_VERSION" --locked >&2
fi

# ---------------------------------------------------------------- wasm-opt
wo_want=${BINARYEN_VERSION%%.*}
if /usr/local/bin/wasm-opt --version 2>/dev/null | grep -q "version $wo_want"; then
  say "wasm-opt $wo_want present"
else
  say "npm install binaryen@$BINARYEN_VERSION (wasm-opt $wo_want)"
  sudo_if_needed npm install -g --silent --prefix /usr/local "binaryen@$BINARYEN_VERSION" >&2
fi

# ---------------------------------------------------------------- the browser
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] \
   && dpkg -s chromium chromium-driver >/dev/null 2>&1; then
  say "chromium and chromedriver present ($(/usr/bin/chromedriver --version | awk '{print $2}'))"
else
  apt_install chromium chromium-driver
fi

# ---------------------------------------------------------------- RabbitMQ (the differential test's oracle)
# scripts/real-broker-tests.sh starts its own node from this package (loopback only, data in a temporary
# folder); the package's system service is not used.
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && dpkg -s rabbitmq-server >/dev/null 2>&1; then
  say "rabbitmq-server present ($(dpkg-query -W -f='${Version}' rabbitmq-server))"
else
  say "rabbitmq-server: for the comparison with a real broker (scripts/real-broker-tests.sh)"
  apt_install rabbitmq-server
fi

# ---------------------------------------------------------------- Kafka (the Kafka differential test's oracle)
# scripts/kafka-node.sh runs Apache Kafka from Maven Central's jars with a JDK; the Java client itself is the
# reference client (scripts/real-kafka-tests.sh compiles a small driver against it). The jars are fetched on
# first use, into ~/.cache/brokerlab/kafka-<version>.
if command -v java >/dev/null && command -v javac >/dev/null && command -v mvn >/dev/null; then
  say "java, javac and mvn present ($(javac -version 2>&1), mvn $(mvn -B -v 2>/dev/null | head -1 | awk '{print $3}'))"
else
  say "a JDK and Maven: for the comparison with a real Kafka (scripts/real-kafka-tests.sh)"
  apt_install openjdk-17-jdk-headless maven
fi

echo "toolchain=$toolchain"
