#!/usr/bin/env bash
# A stream queue across a RabbitMQ node restart (issue 18): part 1 writes persistent and transient messages
# to a durable stream and reads two, the node is stopped and started, part 2 reads the stream from "first"
# and from offset 2 after one more publish. Writes part1.real.txt and part2.real.txt beside this script.
# Run by hand (README.md); not part of CI, since the line format has no node restart to compare with.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${BROKERLAB_RABBITMQ_PORT:-5700}
BIN=${BROKERLAB_BIN:-${CARGO_TARGET_DIR:-target}/debug/brokerlab}   # cargo build -p brokerlab_cli --features real-broker
DIR=$(mktemp -d /tmp/brokerlab-stream-probe.XXXXXX); mkdir -p "$DIR/home"
EPMD_PORT=$((4369 + PORT - 5672))
export HOME=$DIR/home RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
       RABBITMQ_NODE_PORT=$PORT RABBITMQ_DIST_PORT=$((PORT + 20000)) ERL_EPMD_ADDRESS=127.0.0.1 \
       ERL_EPMD_PORT=$EPMD_PORT RABBITMQ_MNESIA_BASE=$DIR/mnesia RABBITMQ_LOG_BASE=$DIR/log \
       RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
up() {
  /usr/lib/rabbitmq/bin/rabbitmq-server -detached
  for _ in $(seq 1 120); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0; sleep 0.5; done
  echo "the node did not start" >&2; exit 1
}
down() {
  /usr/lib/rabbitmq/bin/rabbitmqctl stop >/dev/null 2>&1
  for _ in $(seq 1 60); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break; sleep 0.5; done
}
URI="amqp://guest:guest@127.0.0.1:$PORT/%2f"
up; sleep 3
"$BIN" run "$HERE/part1.brokerlab" --broker "$URI" > "$HERE/part1.real.txt"; echo "part 1: rc $?"
down; sleep 1; up; sleep 5
"$BIN" run "$HERE/part2.brokerlab" --broker "$URI" > "$HERE/part2.real.txt"; echo "part 2: rc $?"
down
epmd=$(ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -1)
[ -n "$epmd" ] && "$epmd" -port "$EPMD_PORT" -kill >/dev/null 2>&1
rm -rf "$DIR"
