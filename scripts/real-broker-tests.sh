#!/usr/bin/env bash
# The differential test: every golden scenario (tests/scenarios/amqp/*/) and every bundled document
# (www/scenarios/*.json: actors, confirms, scripts, checks) runs on the engine and on a real RabbitMQ 3.10
# (`brokerlab run --broker … --compare`), and any difference not in tests/real_broker/allowlist.toml fails
# the test. The node is started and stopped here, with its data in
# a temporary folder, listening on 127.0.0.1 only (no system service). If RabbitMQ cannot be installed or
# started, this fails loudly: it never passes without having compared.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
say() { echo "[real-broker] $*"; }
fail() { echo "[real-broker] FAILED: $*" >&2; exit 1; }
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

SERVER=/usr/lib/rabbitmq/bin/rabbitmq-server
CTL=/usr/lib/rabbitmq/bin/rabbitmqctl
PORT=${BROKERLAB_RABBITMQ_PORT:-5672}
URI="amqp://guest:guest@127.0.0.1:$PORT/%2f"
ALLOW=tests/real_broker/allowlist.toml

if [ ! -x "$SERVER" ]; then
  say "RabbitMQ is not installed: apt-get install -y rabbitmq-server"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server \
    || fail "cannot install rabbitmq-server (scripts/setup.sh installs it)"
fi
[ -x "$SERVER" ] || fail "rabbitmq-server is still missing after the install"

say "building the runner with the real-broker feature"
cargo build -q -p brokerlab_cli --features real-broker --locked
bin="${CARGO_TARGET_DIR:-target}/debug/brokerlab"
[ -x "$bin" ] || fail "no runner at $bin"

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  fail "127.0.0.1:$PORT is already taken; stop that broker or set BROKERLAB_RABBITMQ_PORT"
fi

DIR=$(mktemp -d /tmp/brokerlab-rabbitmq.XXXXXX)
mkdir -p "$DIR/home"
# Every port follows PORT, so sessions on other ports never meet: the distribution port, and epmd's own
# port (4369 for 5672), since two nodes named rabbit@localhost cannot register with one epmd and stopping
# kills the epmd.
EPMD_PORT=$((4369 + PORT - 5672))
export HOME=$DIR/home RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
       RABBITMQ_NODE_PORT=$PORT RABBITMQ_DIST_PORT=$((PORT + 20000)) ERL_EPMD_ADDRESS=127.0.0.1 \
       ERL_EPMD_PORT=$EPMD_PORT \
       RABBITMQ_MNESIA_BASE=$DIR/mnesia RABBITMQ_LOG_BASE=$DIR/log \
       RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
stop_node() {
  say "stopping the node"
  "$CTL" stop >/dev/null 2>&1 || true
  local epmd
  epmd=$(ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -1)
  if [ -n "$epmd" ]; then "$epmd" -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true; fi
  # `rabbitmqctl stop` returns while the VM is still exiting; wait until the port is free.
  for _ in $(seq 1 30); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
    sleep 0.5
  done
  rm -rf "$DIR"
}
trap stop_node EXIT

say "starting RabbitMQ on 127.0.0.1:$PORT (data in $DIR)"
"$SERVER" -detached || fail "rabbitmq-server -detached failed"
for _ in $(seq 1 120); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  sleep 0.5
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null \
  || { tail -20 "$DIR"/log/*.log 2>/dev/null || true; fail "RabbitMQ did not accept connections on $PORT within 60 s"; }
say "RabbitMQ is up after $((SECONDS - start)) s"

failed=()
count=0
for folder in tests/scenarios/amqp/*/; do
  name=$(basename "$folder")
  args=()
  if [ -f "$folder/args" ]; then read -r -a args < "$folder/args"; fi
  count=$((count + 1))
  if ! "$bin" run "$folder/scenario.brokerlab" "${args[@]}" --broker "$URI" --compare --allow-list "$ALLOW"; then
    failed+=("$name")
  fi
done

# Format-2 documents: the engine's own simulation with RabbitMQ as its broker. Before the definitions
# imports below, which leave queues and a policy behind. Real time (--speed 1) unless a speed-up keeps
# every outcome: a speed-up multiplies real latencies in virtual time, and it shrinks the real gap between
# publishes of different connections, which reach a queue in either order when a few ms apart.
#   02, 03, 11: one producer per consumer queue (or consumers compared sorted): --speed 10.
#   09: two producers 50 ms apart feed one consumer: --speed 2 (25 ms of real time between them).
#   04, 05: several producers at the same or nearby instants feed one consumer: real time.
#   07 (publisher confirms): RabbitMQ confirms a persistent message after writing it to disk (1-12 ms
#      here), so the 1,000 one-by-one round trips only fit the document's 120 s in real time; it runs in
#      the background, alongside the others (which take about a minute in all).
#   08 (retry with a dead-letter TTL): RabbitMQ's TTL runs in real time (the runner refuses a speed-up).
say "format-2 documents (www/scenarios/*.json) on RabbitMQ"
docs_start=$SECONDS
slow_log="$DIR/07.log"
slow_doc=$(ls www/scenarios/07-*.json)
"$bin" run "$slow_doc" --broker "$URI" --compare --allow-list "$ALLOW" --speed 1 > "$slow_log" 2>&1 &
slow_pid=$!
for doc in www/scenarios/*.json; do
  [ "$doc" = "$slow_doc" ] && continue
  speed=1
  case "$(basename "$doc")" in 02-* | 03-* | 11-*) speed=10 ;; 09-*) speed=2 ;; esac
  count=$((count + 1))
  if ! "$bin" run "$doc" --broker "$URI" --compare --allow-list "$ALLOW" --speed "$speed"; then
    failed+=("$(basename "$doc")")
  fi
done
count=$((count + 1))
if ! wait "$slow_pid"; then failed+=("$(basename "$slow_doc")"); fi
cat "$slow_log"
say "documents compared in $((SECONDS - docs_start)) s"

# definitions.json both ways: what Brokerlab exports, RabbitMQ imports; what RabbitMQ exports (with everything
# the imports above declared), Brokerlab imports as is.
say "definitions.json: RabbitMQ imports Brokerlab's exports of every bundled scenario"
for doc in www/scenarios/*.json; do
  out="$DIR/brokerlab-$(basename "$doc")"
  "$bin" definitions export "$doc" > "$out" || fail "brokerlab definitions export $doc"
  if ! log=$("$CTL" import_definitions "$out" 2>&1); then
    echo "$log" >&2
    failed+=("definitions:$(basename "$doc")")
  fi
done
say "definitions.json: Brokerlab imports RabbitMQ's own export"
"$CTL" export_definitions "$DIR/rabbitmq-export.json" >/dev/null 2>&1 || fail "rabbitmqctl export_definitions"
"$bin" definitions import "$DIR/rabbitmq-export.json" || failed+=("definitions:rabbitmq-export")

echo
if [ ${#failed[@]} -gt 0 ]; then
  fail "${#failed[@]} of $count scenarios differ from RabbitMQ beyond the allow-list: ${failed[*]}"
fi
say "all $count scenarios agree with RabbitMQ (allow-list: $ALLOW) in $((SECONDS - start)) s"
