#!/usr/bin/env bash
# Every check CI makes, in CI's order: set-up, format, clippy (native and wasm32), native tests, the
# real-RabbitMQ comparison, the real-Kafka comparison beside the SQS emulator comparisons (moto, ElasticMQ), the real-Redis
# comparison and bounded cargo-fuzz runs of every input kind,
# browser tests (wasm-bindgen-test in headless Chromium), and the end-to-end test (trunk release build,
# served on loopback, driven through WebDriver). This is the README's test command; .ci/run calls it.
set -euo pipefail
start=$SECONDS
source "$(dirname "$0")/env.sh"
step() { echo; echo "==> $* ($((SECONDS - start)) s)"; }

step "cargo fmt --check"
if cargo fmt --version >/dev/null 2>&1; then cargo fmt --all -- --check
elif command -v rustup >/dev/null && cargo +stable fmt --version >/dev/null 2>&1; then cargo +stable fmt --all -- --check
else echo "rustfmt not available for this toolchain: skipped"; fi

step "clippy, native"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "clippy, wasm32 (the web app)"
cargo clippy -p brokerlab --target wasm32-unknown-unknown --lib --tests --locked -- -D warnings
# The page's own build: without Rhai, with its on-demand scripting module (src/scripting.rs, crates/brokerlab_scripts).
cargo clippy -p brokerlab --target wasm32-unknown-unknown --lib --features lazy-scripts --locked -- -D warnings
cargo clippy -p brokerlab_scripts --target wasm32-unknown-unknown --locked -- -D warnings
# The SQS page's module (src/sqs_main.rs, built by index.html into sqs/).
cargo clippy -p brokerlab --target wasm32-unknown-unknown --bin brokerlab_sqs --features lazy-scripts --locked -- -D warnings
# The Redis page's module (src/redis_main.rs, built by index.html into redis/).
cargo clippy -p brokerlab --target wasm32-unknown-unknown --bin brokerlab_redis --features lazy-scripts --locked -- -D warnings
# The Kafka sandbox's module (src/embed_kafka_main.rs, built into embed-kafka/).
cargo clippy -p brokerlab --target wasm32-unknown-unknown --bin brokerlab_embed_kafka --features lazy-scripts --locked -- -D warnings
# The SQS sandbox's module (src/embed_sqs_main.rs, built into embed-sqs/).
cargo clippy -p brokerlab --target wasm32-unknown-unknown --bin brokerlab_embed_sqs --features lazy-scripts --locked -- -D warnings
# The Redis sandbox's module (src/embed_redis_main.rs, built into embed-redis/).
cargo clippy -p brokerlab --target wasm32-unknown-unknown --bin brokerlab_embed_redis --features lazy-scripts --locked -- -D warnings

step "native tests: cargo test --workspace"
cargo test --workspace --locked

step "real broker: every golden scenario on the engine and on RabbitMQ 3.10 (--compare)"
"$(dirname "$0")/real-broker-tests.sh"

# The Kafka comparison (the longest step, ~12 min) waits mostly on the JVM and the broker; the SQS and
# Redis comparisons and the fuzzers have no outcome that depends on tens of milliseconds, so they run one
# after the other beside it (the RabbitMQ comparison above has checks timed in tens of milliseconds and
# runs alone). Each is bounded on its own; the Kafka log is printed whole at the end.
step "real Kafka: every Kafka golden program on Apache Kafka 4.1 and on the engine (--compare), beside the SQS and Redis comparisons and the bounded fuzzers"
logs=$(mktemp -d /tmp/brokerlab-check.XXXXXX)
"$(dirname "$0")/real-kafka-tests.sh" > "$logs/kafka.log" 2>&1 & kafka_pid=$!
# The second SQS emulator, ElasticMQ (a JVM of its own, mostly idle: the programs' sleeps and long polls),
# beside the others too; bounded on its own, its log printed whole at the end.
timeout 900 "$(dirname "$0")/real-sqs-elasticmq-tests.sh" > "$logs/elasticmq.log" 2>&1 & elasticmq_pid=$!
# A failure below must not leave the Kafka or ElasticMQ comparison running behind the script.
trap 'kill "$kafka_pid" "$elasticmq_pid" 2>/dev/null || true' EXIT

step "SQS emulator: every SQS golden program on moto (boto3) and on the engine (--compare, AWS's pages decide)"
timeout 900 "$(dirname "$0")/real-sqs-tests.sh"

step "real Redis: every Redis golden program on redis-server 7 and on the engine (--compare)"
timeout 600 "$(dirname "$0")/real-redis-tests.sh"

step "fuzz: every cargo-fuzz target, bounded (fixed seed and input count)"
fuzz_status=0; "$(dirname "$0")/fuzz-bounded.sh" || fuzz_status=$?
kafka_status=0; wait "$kafka_pid" || kafka_status=$?
elasticmq_status=0; wait "$elasticmq_pid" || elasticmq_status=$?
trap - EXIT
echo; echo "==> SQS emulator ElasticMQ: every SQS golden program without SNS on ElasticMQ (boto3) and on the engine (--compare, AWS's pages decide); its log"
cat "$logs/elasticmq.log"
echo; echo "==> real Kafka's log"; cat "$logs/kafka.log"; rm -rf "$logs"
[ "$fuzz_status" = 0 ] || { echo "fuzz: FAILED ($fuzz_status)" >&2; exit 1; }
[ "$elasticmq_status" = 0 ] || { echo "SQS emulator ElasticMQ: FAILED ($elasticmq_status)" >&2; exit 1; }
[ "$kafka_status" = 0 ] || { echo "real Kafka: FAILED ($kafka_status)" >&2; exit 1; }

step "browser tests: wasm-bindgen-test in headless Chromium"
cargo test -p brokerlab --target wasm32-unknown-unknown --tests --locked

step "end-to-end: trunk build --release, served on 127.0.0.1, driven through WebDriver"
cargo test -p brokerlab --features e2e --test e2e --locked -- --nocapture

echo
echo "all checks passed in $((SECONDS - start)) s"
