#!/usr/bin/env bash
# The second SQS emulator: every golden SQS program (tests/scenarios/sqs/*/program.sqs) runs on the engine
# and on ElasticMQ (Maven Central `org.elasticmq:elasticmq-server_2.13`, a JVM server of its own), through
# the same boto3 driver as moto's comparison (scripts/real-sqs-tests.sh), and any difference not in
# tests/scenarios/sqs/elasticmq-allow-list.toml (each entry naming the AWS page that decides) fails the
# test. ElasticMQ implements SQS only: a program that calls SNS is said and not compared here (moto's
# comparison covers it). Then every SQS document without SNS (tests/scenarios/sqs-tutorials/*/document.json)
# is played on it in real time through the driver's serve mode, as on moto, and its outcome compared with
# the engine's, minus tests/real_broker/sqs-documents-elasticmq-allowlist.toml (each entry naming its AWS page).
# The jars are resolved with Maven once into ~/.cache/brokerlab/elasticmq-$VERSION (≈ 6 s, 37 MB); the
# server listens on 127.0.0.1:$BROKERLAB_ELASTICMQ_PORT only (queue URLs name the same address, account
# 123456789012 and region us-east-1 as the engine's), its queues are deleted before each program, and it
# is stopped by its process id at the end. Never passes without having compared.
# Time on this machine: the server accepts connections 3–9 s after the JVM starts (quiet / loaded machine);
# the programs ≈ 2½ min (60.5 s of it the `retention` program's real sleeps; one of ElasticMQ's
# StartMessageMoveTask replies takes its 20 s request timeout), then the documents' durations in real time
# (≈ 4 min; each bounded by its duration plus 60 s).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
say() { echo "[elasticmq] $*"; }
fail() { echo "[elasticmq] FAILED: $*" >&2; exit 1; }

VERSION=1.7.1
LIB=${BROKERLAB_ELASTICMQ_LIB:-$HOME/.cache/brokerlab/elasticmq-$VERSION}
PORT=${BROKERLAB_ELASTICMQ_PORT:-9324}
# A venv of its own (boto3 only): CI runs this script beside moto's, which installs into its venv.
VENV=${BROKERLAB_ELASTICMQ_VENV:-$HOME/.cache/brokerlab/elasticmq-venv}
ALLOW=tests/scenarios/sqs/elasticmq-allow-list.toml
DOCUMENTS_ALLOW=tests/real_broker/sqs-documents-elasticmq-allowlist.toml
# The same client as moto's comparison.
BOTO3='boto3==1.44.18'

if [ ! -f "$LIB/.complete" ]; then
  command -v mvn >/dev/null || fail "mvn is missing (apt-get install -y maven)"
  pom=$(mktemp -d)
  cat > "$pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>brokerlab</groupId><artifactId>elasticmq-oracle</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.elasticmq</groupId><artifactId>elasticmq-server_2.13</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
POM
  say "fetching ElasticMQ $VERSION's jars from Maven Central into $LIB"
  mkdir -p "$LIB"
  # A Maven repository of its own: CI runs this beside the Kafka step, whose fetch writes ~/.m2 at the
  # same moment on a fresh machine, and Maven's local repository is not safe for two writers.
  (cd "$pom" && timeout 300 mvn -q -B -Dmaven.repo.local="$HOME/.cache/brokerlab/m2-elasticmq" \
     dependency:copy-dependencies -DoutputDirectory="$LIB") \
    || { rm -rf "$pom"; fail "cannot resolve org.elasticmq:elasticmq-server_2.13:$VERSION with Maven"; }
  rm -rf "$pom"
  touch "$LIB/.complete"
fi
command -v java >/dev/null || fail "java is missing"

if ! "$VENV/bin/python" -c 'import boto3' 2>/dev/null; then
  say "installing $BOTO3 into $VENV"
  timeout 60 python3 -m venv "$VENV" || fail "python3 -m venv failed (apt-get install python3-venv)"
  timeout 300 "$VENV/bin/pip" install -q "$BOTO3" || fail "cannot install boto3 from PyPI"
fi

say "building the runner"
# The same build as the other real-broker scripts, so none of them replaces the runner another one uses.
cargo build -q -p brokerlab_cli --features real-broker --locked
bin="${CARGO_TARGET_DIR:-target}/debug/brokerlab"
[ -x "$bin" ] || fail "no runner at $bin"
source scripts/sqs-compare.sh

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  fail "127.0.0.1:$PORT is already taken; stop that server or set BROKERLAB_ELASTICMQ_PORT"
fi
DIR=$(mktemp -d /tmp/brokerlab-elasticmq.XXXXXX)
# The node address is the one queue URLs carry: the bound address itself. strict: AWS's limits.
cat > "$DIR/elasticmq.conf" <<CONF
include classpath("application.conf")
node-address { protocol = "http", host = "127.0.0.1", port = $PORT, context-path = "" }
rest-sqs { enabled = true, bind-port = $PORT, bind-hostname = "127.0.0.1", sqs-limits = strict }
generate-node-address = false
aws { region = "us-east-1", accountId = "123456789012" }
CONF
booted=$SECONDS
java -Xmx256m -Dconfig.file="$DIR/elasticmq.conf" -cp "$LIB/*" org.elasticmq.server.Main >"$DIR/log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 600); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$DIR/log" >&2; fail "ElasticMQ exited"; }
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || { cat "$DIR/log" >&2; fail "ElasticMQ did not listen on 127.0.0.1:$PORT"; }
say "ElasticMQ $VERSION listens on 127.0.0.1:$PORT ($((SECONDS - booted)) s after the JVM started)"

export BROKERLAB_PYTHON="$VENV/bin/python"
# ElasticMQ has no reset call: delete every queue, so a program's queue names are its own.
reset() {
  timeout 30 "$VENV/bin/python" - "http://127.0.0.1:$PORT" <<'PY' || fail "cannot delete ElasticMQ's queues"
import sys, boto3
sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
for url in sqs.list_queues().get("QueueUrls", []):
    sqs.delete_queue(QueueUrl=url)
left = sqs.list_queues().get("QueueUrls", [])
if left:
    sys.exit(f"queues left after deleting: {left}")
PY
}

failed=0
count=0
skipped=0
for program in tests/scenarios/sqs/*/program.sqs; do
  name=$(basename "$(dirname "$program")")
  if grep -q '^[^#]*\bsns\.' "$program"; then
    say "$name: not compared here (it calls SNS, which ElasticMQ does not implement; moto's comparison covers it)"
    skipped=$((skipped + 1))
    continue
  fi
  reset
  count=$((count + 1))
  sqs_compare 180 "$program" "$ALLOW" "$name"
done
[ "$count" -gt 0 ] || fail "no SQS golden programs found"
[ "$failed" = 0 ] || fail "$failed of $count SQS programs differ from ElasticMQ outside the allow-list"
say "all $count SQS programs without SNS agree with ElasticMQ or differ only as the allow-list says ($skipped with SNS not compared; $((SECONDS - start)) s)"

documents=0
for document in tests/scenarios/sqs-tutorials/*/document.json; do
  name=$(basename "$(dirname "$document")")
  if "$VENV/bin/python" -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1])).get("topics") else 1)' "$document"; then
    say "$name: not played here (it has SNS topics, which ElasticMQ does not implement; moto's comparison covers it)"
    continue
  fi
  reset
  documents=$((documents + 1))
  limit=$(sqs_document_limit "$document")
  say "$name: playing the document on ElasticMQ in real time (at most ${limit} s)"
  sqs_compare "$limit" "$document" "$DOCUMENTS_ALLOW" "$name"
done
[ "$documents" -gt 0 ] || fail "no SQS documents without SNS found"
[ "$failed" = 0 ] || fail "$failed of $documents SQS documents differ from ElasticMQ outside the allow-list"
say "all $documents SQS documents without SNS agree with ElasticMQ or differ only as the allow-list says ($((SECONDS - start)) s)"
