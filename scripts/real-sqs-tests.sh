#!/usr/bin/env bash
# The SQS emulator differential: every golden SQS program (tests/scenarios/sqs/*/program.sqs) runs on the
# engine and on moto (PyPI `moto[server]`, driven through boto3 by crates/real_broker/sqs-driver/driver.py),
# and any difference not in tests/scenarios/sqs/emulator-allow-list.toml (each entry naming the AWS page
# that decides) fails the test. Then every SQS document (tests/scenarios/sqs-tutorials/*/document.json) is
# played in real time on moto through the same driver's serve mode (crates/real_broker/src/sqs_document.rs)
# and its outcome compared with the engine's, minus tests/real_broker/sqs-documents-allowlist.toml (each
# entry naming its AWS page). moto is installed into a venv under ~/.cache/brokerlab and listens on
# 127.0.0.1 only; it is stopped by its process id at the end. Never passes without having compared.
# Time on this machine: ≈ 1¼ min for the programs with the venv in place (60.5 s of it the `retention`
# program's real sleeps; ≈ 1–2 min more for the first install),
# then the documents' durations in real time (≈ 4½ min; each bounded by its duration plus 60 s).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
say() { echo "[real-sqs] $*"; }
fail() { echo "[real-sqs] FAILED: $*" >&2; exit 1; }

PORT=${BROKERLAB_SQS_PORT:-5055}
VENV=${BROKERLAB_SQS_VENV:-$HOME/.cache/brokerlab/sqs-venv}
ALLOW=tests/scenarios/sqs/emulator-allow-list.toml
DOCUMENTS_ALLOW=tests/real_broker/sqs-documents-allowlist.toml
# Pinned: moto 5.2 is the emulator the allow-list was written against; boto3 is the reference client.
MOTO='moto[server]==5.2.6'
BOTO3='boto3==1.44.18'

if ! "$VENV/bin/python" -c 'import moto, boto3' 2>/dev/null; then
  say "installing $MOTO and $BOTO3 into $VENV"
  timeout 60 python3 -m venv "$VENV" || fail "python3 -m venv failed (apt-get install python3-venv)"
  timeout 300 "$VENV/bin/pip" install -q "$MOTO" "$BOTO3" || fail "cannot install moto and boto3 from PyPI"
fi

say "building the runner"
# The same build as the other real-broker scripts, so none of them replaces the runner another one uses.
cargo build -q -p brokerlab_cli --features real-broker --locked
bin="${CARGO_TARGET_DIR:-target}/debug/brokerlab"
[ -x "$bin" ] || fail "no runner at $bin"
source scripts/sqs-compare.sh

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  fail "127.0.0.1:$PORT is already taken; stop that server or set BROKERLAB_SQS_PORT"
fi
LOG=$(mktemp /tmp/brokerlab-moto.XXXXXX)
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 "$moto_pid" 2>/dev/null || { cat "$LOG" >&2; fail "moto_server exited"; }
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || fail "moto_server did not listen on 127.0.0.1:$PORT"

export BROKERLAB_PYTHON="$VENV/bin/python"
failed=0
count=0
reset() {
  timeout 10 "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$PORT/moto-api/reset', method='POST'))" \
    || fail "cannot reset moto"
}
for program in tests/scenarios/sqs/*/program.sqs; do
  name=$(basename "$(dirname "$program")")
  # A fresh emulator per program: its queue names are the program's own.
  reset
  count=$((count + 1))
  sqs_compare 120 "$program" "$ALLOW" "$name"
done
[ "$count" -gt 0 ] || fail "no SQS golden programs found"
[ "$failed" = 0 ] || fail "$failed of $count SQS programs differ from moto outside the allow-list"
say "all $count SQS programs agree with moto or differ only as the allow-list says ($((SECONDS - start)) s)"

documents=0
for document in tests/scenarios/sqs-tutorials/*/document.json; do
  name=$(basename "$(dirname "$document")")
  reset
  documents=$((documents + 1))
  limit=$(sqs_document_limit "$document")
  say "$name: playing the document on moto in real time (at most ${limit} s)"
  sqs_compare "$limit" "$document" "$DOCUMENTS_ALLOW" "$name"
done
[ "$documents" -gt 0 ] || fail "no SQS documents found"
[ "$failed" = 0 ] || fail "$failed of $documents SQS documents differ from moto outside the allow-list"
say "all $documents SQS documents agree with moto or differ only as the allow-list says ($((SECONDS - start)) s)"
