#!/usr/bin/env bash
# The Redis differential: every golden Redis program (tests/scenarios/redis/*/program.redis) runs on the
# engine and on a real redis-server 7 (Debian's package) over RESP, and any difference after normalising
# wall-clock stream ids and idle times, and the order of KEYS, SCAN and PUBSUB CHANNELS lists (redis-server's hash seed), fails the test (there is no allow-list yet: Redis is the oracle).
# Then the console goldens (tests/scenarios/redis-console/*/: lines typed into the real redis-cli in a
# terminal, scripts/redis-cli-console.py) and the console's help entries (scripts/redis-cli-help.py). Then every Redis document (tests/scenarios/redis-tutorials/*/document.json, and any
# tests/scenarios/redis-documents/*/document.json): the engine's exchanges played on redis-server in real
# time, compared exchange by exchange and check by check; a difference outside
# tests/real_broker/redis-documents-allowlist.toml fails the test (docs/real-broker.md, "Redis documents").
# redis-server listens on 127.0.0.1:$BROKERLAB_REDIS_PORT (default 6390) with a temporary directory for its
# RDB and AOF files and DEBUG allowed from loopback (the persistence programs reload the files with DEBUG
# RELOAD NOSAVE and DEBUG LOADAOF; the runner resets the persistence configuration before each program),
# and is stopped by its process id at the end. Never passes without having compared.
# Time on this machine: ≈ 5–15 s for the programs (their sleeps are real there), ≈ 105 s for the documents
# (their durations: 8–20 s each, in real time), plus the runner's build.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
say() { echo "[real-redis] $*"; }
fail() { echo "[real-redis] FAILED: $*" >&2; exit 1; }

PORT=${BROKERLAB_REDIS_PORT:-6390}

if ! command -v redis-server >/dev/null; then
  say "installing redis-server (Debian)"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  timeout 300 $SUDO apt-get install -y redis-server >/dev/null \
    || { timeout 300 $SUDO apt-get update >/dev/null && timeout 300 $SUDO apt-get install -y redis-server >/dev/null; } \
    || fail "cannot install redis-server"
fi
say "$(redis-server --version)"

say "building the runner"
# The same build as the other real-broker scripts, so none of them replaces the runner another one uses.
cargo build -q -p brokerlab_cli --features real-broker --locked
bin="${CARGO_TARGET_DIR:-target}/debug/brokerlab"
[ -x "$bin" ] || fail "no runner at $bin"

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  fail "127.0.0.1:$PORT is already taken; stop that server or set BROKERLAB_REDIS_PORT"
fi
DIR=$(mktemp -d /tmp/brokerlab-redis.XXXXXX)
redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no --dir "$DIR" --daemonize no \
  --enable-debug-command local --logfile "$DIR/redis.log" &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 "$redis_pid" 2>/dev/null || { cat "$DIR/redis.log" >&2; fail "redis-server exited"; }
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || fail "redis-server did not listen on 127.0.0.1:$PORT"

failed=0
count=0
for program in tests/scenarios/redis/*/program.redis; do
  name=$(basename "$(dirname "$program")")
  count=$((count + 1))
  # The runner flushes the database before each program.
  if ! timeout 120 "$bin" run "$program" --broker "redis://127.0.0.1:$PORT" --compare --name "$name"; then
    failed=$((failed + 1))
    echo "[real-redis] $name: differences from redis-server (above)"
  fi
done
[ "$count" -gt 0 ] || fail "no Redis golden programs found"
[ "$failed" = 0 ] || fail "$failed of $count Redis programs differ from redis-server"
say "all $count Redis programs agree with redis-server ($((SECONDS - start)) s)"

# The console's own lines (tests/scenarios/redis-console/): the real redis-cli in a terminal, typed the
# golden's lines on this server; crates/broker_core/tests/redis_console.rs types them on the engine's console.
command -v python3 >/dev/null || fail "python3 is needed to drive redis-cli in a terminal"
console_failed=0
console_count=0
for dir in tests/scenarios/redis-console/*/; do
  [ -f "$dir/input.txt" ] || continue
  console_count=$((console_count + 1))
  if ! timeout 120 python3 scripts/redis-cli-console.py "$PORT" "$dir" --compare; then
    console_failed=$((console_failed + 1))
    echo "[real-redis] $(basename "$dir"): the real redis-cli differs from expected.txt (above)"
  fi
done
[ "$console_count" -gt 0 ] || fail "no redis-cli console goldens found"
[ "$console_failed" = 0 ] || fail "$console_failed of $console_count console goldens differ from redis-cli"
say "all $console_count console goldens agree with redis-cli ($(redis-cli --version))"
# The console's `help <command>` and `help @<group>` entries: what redis-cli builds from this server's
# COMMAND DOCS, every entry (the goldens above compare a few as the terminal shows them).
timeout 120 python3 scripts/redis-cli-help.py "$PORT" crates/broker_core/data/redis-cli-help.tsv --compare \
  || fail "crates/broker_core/data/redis-cli-help.tsv differs from redis-cli's help (above; --record refreshes it)"
say "the console's help entries agree with redis-cli's ($(wc -l < crates/broker_core/data/redis-cli-help.tsv) entries)"

DOC_ALLOW=tests/real_broker/redis-documents-allowlist.toml
doc_failed=0
doc_count=0
for document in tests/scenarios/redis-tutorials/*/document.json tests/scenarios/redis-documents/*/document.json; do
  [ -f "$document" ] || continue
  name=$(basename "$(dirname "$document")")
  doc_count=$((doc_count + 1))
  # A document lasts its duration in real time (at most 60 s by default); the bound leaves room for the
  # waits of a busy machine.
  if ! timeout 180 "$bin" run "$document" --broker "redis://127.0.0.1:$PORT" --compare --name "$name" \
      --allow-list "$DOC_ALLOW"; then
    doc_failed=$((doc_failed + 1))
    echo "[real-redis] $name: differences from redis-server (above)"
  fi
done
[ "$doc_count" -gt 0 ] || fail "no Redis documents found"
[ "$doc_failed" = 0 ] || fail "$doc_failed of $doc_count Redis documents differ from redis-server"
say "all $doc_count Redis documents agree with redis-server (allow-list: $DOC_ALLOW; $((SECONDS - start)) s in all)"
