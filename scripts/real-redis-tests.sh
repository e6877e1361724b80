#!/usr/bin/env bash
# The Redis differential: every golden Redis program (tests/scenarios/redis/*/program.redis) runs on the
# engine and on a real redis-server 7 (Debian's package) over RESP, and any difference after normalising
# wall-clock stream ids and idle times, and the order of KEYS, SCAN and PUBSUB CHANNELS lists (redis-server's hash seed), fails the test (there is no allow-list yet: Redis is the oracle).
# redis-server listens on 127.0.0.1:$BROKERLAB_REDIS_PORT (default 6390) with a temporary directory, no
# persistence, and is stopped by its process id at the end. Never passes without having compared.
# Time on this machine: ≈ 5–15 s for the 17 programs (their sleeps are real there), plus the runner's build.
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
  --logfile "$DIR/redis.log" &
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
