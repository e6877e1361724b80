#!/usr/bin/env bash
# A real Apache Kafka 4.1 broker (KRaft, one node that is broker and controller; or a cluster) on 127.0.0.1, for the Kafka
# model's differential tests (issue #16). Not called by scripts/check.sh yet.
#
#   scripts/kafka-node.sh start DIR    fetches the jars once (Maven Central, into $BROKERLAB_KAFKA_LIB or
#                                      ~/.cache/brokerlab/kafka-4.1.1), formats DIR and starts the node;
#                                      returns when 127.0.0.1:9092 accepts connections (about 7 s here)
#   scripts/kafka-node.sh stop DIR     stops it (or every node of a cluster) and removes DIR
#   scripts/kafka-node.sh cluster DIR N  N brokers (1-9), node i on $PORT+2(i-1) (9092, 9094, 9096, …), and
#                                      one KRaft controller of their own (node 100, controller-only, on
#                                      $PORT+1), so that any broker, data and all, can be stopped; -Xmx256m
#                                      each; returns when every broker accepts connections. Brokers heartbeat
#                                      every 500 ms and are fenced 4 s after their last one
#                                      (broker.session.timeout.ms, 9 s by default): what a crash shows
#   scripts/kafka-node.sh node-stop DIR I / node-start DIR I   stops (SIGTERM: a controlled shutdown) or
#                                      restarts broker I of a cluster, for broker-down cases; node-kill DIR I
#                                      kills it (SIGKILL: a crash, no controlled shutdown); node-pause DIR I /
#                                      node-resume DIR I freeze and thaw its JVM (SIGSTOP / SIGCONT: a slow,
#                                      live follower; with BROKERLAB_KAFKA_PROPS raising
#                                      broker.session.timeout.ms it is not fenced meanwhile)
#   (BROKERLAB_KAFKA_PORT picks the client port, default 9092, the controller's is the next one;
#   BROKERLAB_KAFKA_PROPS adds lines to server.properties, e.g. "offsets.topic.num.partitions=1";
#   BROKERLAB_KAFKA_RACKS=a,b,c gives cluster broker i the i-th `broker.rack`, an empty item none)
#   scripts/kafka-node.sh tool DIR CLASS ARGS…   runs one of Kafka's command-line tools with the same jars,
#                                      e.g. `tool DIR org.apache.kafka.tools.TopicCommand --bootstrap-server
#                                      127.0.0.1:9092 --create --topic t --partitions 3`
#
# Run on 2026-12-06 (Debian 12, 2 cores, Java 17); what the recipe this started from left open —
# - `mvn dependency:copy-dependencies` on kafka_2.13 + kafka-tools + kafka-clients 4.1.1 takes ~22 s (54 MB, 93 jars);
# - the resolved slf4j-api is 1.7.36, so log4j-slf4j2-impl does not bind: Kafka runs silently (SLF4J NOP
#   warnings on stderr); logs are not needed for the oracle, so no binding is added;
# - the note's server.properties is enough as it stands (no `advertised.listeners` or protocol map needed);
# - the node accepts connections about 7 s after `kafka.Kafka` starts, a topic command takes about 2 s (JVM start);
# - the topic tool is `org.apache.kafka.tools.TopicCommand` (kafka-tools), not `kafka.admin.TopicCommand`;
# - their error texts (what the Kafka model must reproduce), e.g. "Topic name is invalid: 'bad name' contains one
#   or more characters other than ASCII alphanumerics, '.', '_' and '-'" and "Unable to replicate the partition 2
#   time(s): The target replication factor of 2 cannot be reached because only 1 broker(s) are registered."
set -euo pipefail
VERSION=4.1.1
LIB=${BROKERLAB_KAFKA_LIB:-$HOME/.cache/brokerlab/kafka-$VERSION}
PORT=${BROKERLAB_KAFKA_PORT:-9092}
CONTROLLER_PORT=$((PORT + 1))
say() { echo "[kafka] $*" >&2; }

fetch_jars() {
  if [ -f "$LIB/.complete" ]; then return; fi
  command -v mvn >/dev/null || { say "mvn is missing (apt-get install -y maven)"; exit 1; }
  mkdir -p "$LIB"
  local pom; pom=$(mktemp -d)
  cat > "$pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>brokerlab</groupId><artifactId>kafka-oracle</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-clients</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
POM
  say "fetching Kafka $VERSION's jars from Maven Central into $LIB"
  (cd "$pom" && timeout 300 mvn -q -B dependency:copy-dependencies -DoutputDirectory="$LIB") >&2
  rm -rf "$pom"
  touch "$LIB/.complete"
}

java_run() { java -Xmx512m -cp "$LIB/*" "$@"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# stop_process PIDFILE: SIGTERM (a controlled shutdown), then wait until the JVM has exited — its listeners
# close one by one, so a closed client port does not mean the controller port is free yet — SIGKILL after 30 s.
stop_process() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}
wait_port() {
  for _ in $(seq 1 120); do port_open "$1" && return 0; sleep 0.5; done
  return 1
}

# The group coordinator's settings every node gets: the KIP-848 and share groups' heartbeat interval at
# 500 ms instead of 5 s (their clients take the broker's interval; rebalances then finish in about a
# second), one partition for the share-group state topic, and share groups' acquisition locks allowed
# down to 1 s (a program sets its group's `share.record.lock.duration.ms`; the minimum is 15 s by default).
# The engine's EngineClients is configured the same (kafka::program::engine).
group_props() {
  cat <<GROUP
group.consumer.heartbeat.interval.ms=500
group.consumer.min.heartbeat.interval.ms=500
group.share.heartbeat.interval.ms=500
group.share.min.heartbeat.interval.ms=500
group.share.min.record.lock.duration.ms=1000
share.coordinator.state.topic.num.partitions=1
GROUP
}

# The cluster's controller: node 100, controller-only, in folder $1.
CONTROLLER_ID=100
controller_props() {
  cat > "$1/server.properties" <<PROPS
process.roles=controller
node.id=$CONTROLLER_ID
controller.quorum.voters=$CONTROLLER_ID@127.0.0.1:$CONTROLLER_PORT
listeners=CONTROLLER://127.0.0.1:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
log.dirs=$1/data
broker.session.timeout.ms=4000
${BROKERLAB_KAFKA_PROPS:-}
PROPS
}

# server.properties of cluster broker $2 (of $3) in folder $1.
cluster_props() {
  local dir=$1 i=$2 n=$3 listeners
  listeners="PLAINTEXT://127.0.0.1:$((PORT + 2 * (i - 1)))"
  local rf=$(( n < 3 ? n : 3 ))
  local rack=""
  if [ -n "${BROKERLAB_KAFKA_RACKS:-}" ]; then
    IFS=, read -r -a racks <<< "$BROKERLAB_KAFKA_RACKS"
    [ -n "${racks[$((i - 1))]:-}" ] && rack="broker.rack=${racks[$((i - 1))]}"
  fi
  cat > "$dir/server.properties" <<PROPS
process.roles=broker
node.id=$i
controller.quorum.voters=$CONTROLLER_ID@127.0.0.1:$CONTROLLER_PORT
broker.heartbeat.interval.ms=500
listeners=$listeners
controller.listener.names=CONTROLLER
log.dirs=$dir/data
auto.create.topics.enable=false
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=1000
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=1
$rack
$(group_props)
${BROKERLAB_KAFKA_PROPS:-}
PROPS
}

start_node() {
  local dir=$1
  nohup java -Xmx256m -cp "$LIB/*" kafka.Kafka "$dir/server.properties" > "$dir/kafka.out" 2>&1 &
  echo $! > "$dir/pid"
}

case "${1:-}" in
  start)
    DIR=${2:?usage: kafka-node.sh start DIR}
    fetch_jars
    mkdir -p "$DIR/data"
    cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
log.dirs=$DIR/data
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=1000
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
$(group_props)
${BROKERLAB_KAFKA_PROPS:-}
PROPS
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then say "127.0.0.1:$PORT is taken"; exit 1; fi
    id=$(java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    java_run kafka.tools.StorageTool format -t "$id" -c "$DIR/server.properties" --feature share.version=1 >/dev/null 2>&1
    nohup java -Xmx512m -cp "$LIB/*" kafka.Kafka "$DIR/server.properties" > "$DIR/kafka.out" 2>&1 &
    echo $! > "$DIR/pid"
    for _ in $(seq 1 120); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then say "up on 127.0.0.1:$PORT"; exit 0; fi
      sleep 0.5
    done
    say "did not accept connections within 60 s"; tail -20 "$DIR/kafka.out" >&2; exit 1 ;;
  cluster)
    DIR=${2:?usage: kafka-node.sh cluster DIR N}; N=${3:?usage: kafka-node.sh cluster DIR N}
    [[ "$N" =~ ^[1-9]$ ]] || { say "N is 1 to 9"; exit 2; }
    fetch_jars
    for i in $(seq 1 "$N"); do
      if port_open $((PORT + 2 * (i - 1))); then say "127.0.0.1:$((PORT + 2 * (i - 1))) is taken"; exit 1; fi
    done
    if port_open "$CONTROLLER_PORT"; then say "127.0.0.1:$CONTROLLER_PORT is taken"; exit 1; fi
    id=$(java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    mkdir -p "$DIR/controller/data"
    controller_props "$DIR/controller"
    java_run kafka.tools.StorageTool format -t "$id" -c "$DIR/controller/server.properties" --feature share.version=1 >/dev/null 2>&1
    # The brokers start alongside the controller (they retry until it answers): a few seconds sooner.
    start_node "$DIR/controller"
    for i in $(seq 1 "$N"); do
      mkdir -p "$DIR/node-$i/data"
      cluster_props "$DIR/node-$i" "$i" "$N"
      java_run kafka.tools.StorageTool format -t "$id" -c "$DIR/node-$i/server.properties" --feature share.version=1 >/dev/null 2>&1
      start_node "$DIR/node-$i"
    done
    echo "$N" > "$DIR/nodes"
    wait_port "$CONTROLLER_PORT" || { say "the controller did not start"; tail -20 "$DIR/controller/kafka.out" >&2; exit 1; }
    for i in $(seq 1 "$N"); do
      wait_port $((PORT + 2 * (i - 1))) || { say "node $i did not start"; tail -20 "$DIR/node-$i/kafka.out" >&2; exit 1; }
    done
    say "cluster of $N up on 127.0.0.1:$PORT (nodes every second port)" ;;
  node-stop)
    DIR=${2:?}; I=${3:?}
    kill "$(cat "$DIR/node-$I/pid")" 2>/dev/null || true
    for _ in $(seq 1 60); do port_open $((PORT + 2 * (I - 1))) || break; sleep 0.5; done ;;
  node-kill)
    DIR=${2:?}; I=${3:?}
    kill -KILL "$(cat "$DIR/node-$I/pid")" 2>/dev/null || true
    for _ in $(seq 1 60); do port_open $((PORT + 2 * (I - 1))) || break; sleep 0.1; done ;;
  node-pause)
    # SIGSTOP of broker I's JVM: a live but frozen follower. It stays registered (its connections stay
    # open) and the controller fences it only after broker.session.timeout.ms without a heartbeat, while
    # its leaders drop it from their ISRs after replica.lag.time.max.ms.
    DIR=${2:?}; I=${3:?}
    kill -STOP "$(cat "$DIR/node-$I/pid")" ;;
  node-resume)
    DIR=${2:?}; I=${3:?}
    kill -CONT "$(cat "$DIR/node-$I/pid")" ;;
  node-start)
    DIR=${2:?}; I=${3:?}
    start_node "$DIR/node-$I"
    wait_port $((PORT + 2 * (I - 1))) || { say "node $I did not start"; exit 1; } ;;
  stop)
    DIR=${2:?usage: kafka-node.sh stop DIR}
    if [ -f "$DIR/nodes" ]; then
      # A paused (SIGSTOP) node would not act on SIGTERM: thaw it first.
      for i in $(seq 1 "$(cat "$DIR/nodes")"); do kill -CONT "$(cat "$DIR/node-$i/pid")" 2>/dev/null || true; done
      for i in $(seq 1 "$(cat "$DIR/nodes")"); do kill "$(cat "$DIR/node-$i/pid")" 2>/dev/null || true; done
      for i in $(seq 1 "$(cat "$DIR/nodes")"); do stop_process "$DIR/node-$i/pid"; done
    fi
    [ -f "$DIR/controller/pid" ] && stop_process "$DIR/controller/pid"
    [ -f "$DIR/pid" ] && stop_process "$DIR/pid"
    rm -rf "$DIR" ;;
  tool)
    DIR=${2:?}; shift 2; fetch_jars; java_run "$@" ;;
  fetch)
    fetch_jars; echo "$LIB" ;;
  *) echo "usage: $0 start|stop|cluster|node-stop|node-start|node-kill|node-pause|node-resume|tool DIR …|fetch" >&2; exit 2 ;;
esac
