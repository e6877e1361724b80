# Sourced by the two SQS comparisons (real-sqs-tests.sh on moto, real-sqs-elasticmq-tests.sh on ElasticMQ):
# what they do alike once a program or a document is chosen. They set before sourcing: say, VENV (a
# Python with the driver's packages), PORT (the emulator), bin (the runner); `failed` counts the
# comparisons that found a difference outside their allow-list.
# shellcheck shell=bash

# sqs_document_limit DOCUMENT: how long, in whole seconds, playing it in real time may take: its
# `duration` (60 s when it names none; 600 s when it cannot be read) plus 60 s for the driver's start
# and the last answers.
sqs_document_limit() {
  "$VENV/bin/python" - "$1" <<'PY'
import json, re, sys
text = json.load(open(sys.argv[1], encoding="utf-8")).get("duration", "60s")
m = re.fullmatch(r"([0-9.]+)\s*(ms|s|m|h)", str(text))
seconds = float(m[1]) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m[2]] if m else 600
print(int(seconds) + 60)
PY
}

# sqs_compare SECONDS FILE ALLOW_LIST NAME: plays a program or a document on the emulator and on the
# engine (--compare), bounded by SECONDS; a difference outside ALLOW_LIST counts in `failed`.
sqs_compare() {
  local limit=$1 file=$2 allow=$3 name=$4
  if ! timeout "$limit" "$bin" run "$file" --broker "sqs://127.0.0.1:$PORT" --compare --allow-list "$allow" --name "$name"; then
    failed=$((failed + 1))
    say "$name: differences outside the allow-list (above)"
  fi
}
