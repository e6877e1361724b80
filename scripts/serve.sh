#!/usr/bin/env bash
# Sets up what is missing, then serves the app at http://127.0.0.1:8080 (release build, rebuilt on change).
set -euo pipefail
source "$(dirname "$0")/env.sh"
echo "[serve] trunk serve --release on http://127.0.0.1:${PORT:-8080}" >&2
exec trunk serve --release --address 127.0.0.1 --port "${PORT:-8080}"
