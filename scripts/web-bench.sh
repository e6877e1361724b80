#!/usr/bin/env bash
# The web budgets (issue #6) in headless Chromium: frame times under a 100-queue, 10,000 msg/s load,
# the gzipped initial download, and first render against a blank Yew page built the same way.
# Builds three pages with trunk (release), then prints a Markdown table. A few minutes on 2 cores.
# Knobs: WEB_BENCH_SECONDS, WEB_BENCH_LOADS, WEB_BENCH_QUEUES, WEB_BENCH_PRODUCERS, WEB_BENCH_RATE.
set -euo pipefail
source "$(dirname "$0")/env.sh"
exec cargo bench -p brokerlab --features e2e --bench web_budgets "$@"
