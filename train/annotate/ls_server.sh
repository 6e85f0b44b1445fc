#!/usr/bin/env bash
# Start a local Label Studio server non-interactively for Hasila annotation.
#
#   train/annotate/ls_server.sh install          # once: LS into its own venv ($HASILA_LS_VENV)
#   train/annotate/ls_server.sh install-browser-test   # + playwright, for the real-UI test
#                                                # (uses a system Chromium: $HASILA_CHROMIUM)
#   train/annotate/ls_server.sh start [PORT]     # foreground; Ctrl-C stops it
#
# Label Studio pins its own Django/pydantic stack, so it lives in a separate venv
# (default /opt/hasila-ls) and never touches Hasila's environment. The server gets one
# user with a fixed legacy API token so that `hasila-annotate ls-push/ls-pull` can talk to it:
#   LABEL_STUDIO_URL=http://localhost:PORT  LABEL_STUDIO_API_KEY=$HASILA_LS_TOKEN
set -euo pipefail

VENV="${HASILA_LS_VENV:-/opt/hasila-ls}"
LS_VERSION="${HASILA_LS_VERSION:-1.23.2}"
DATA="${HASILA_LS_DATA:-$HOME/.local/share/hasila-label-studio}"
USER_EMAIL="${HASILA_LS_USER:-annotator@hasila.local}"
PASSWORD="${HASILA_LS_PASSWORD:-hasila-annotator}"
TOKEN="${HASILA_LS_TOKEN:-hasila-local-token-0123456789}"

case "${1:-}" in
  install)
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "label-studio==$LS_VERSION"
    # Check the install by importing it, not by piping `label-studio version` into `head`: under
    # pipefail, head closing the pipe killed the writer with BrokenPipeError (CI on a fresh machine).
    "$VENV/bin/python" -c "import label_studio, sys; sys.stderr.write('Label Studio %s in $VENV\\n' % label_studio.__version__)"
    ;;
  install-browser-test)
    [ -x "$VENV/bin/pip" ] || { echo "no venv in $VENV: run '$0 install' first" >&2; exit 2; }
    "$VENV/bin/pip" install --quiet --disable-pip-version-check playwright
    ;;
  start)
    PORT="${2:-8080}"
    [ -x "$VENV/bin/label-studio" ] || { echo "no Label Studio in $VENV: run '$0 install' first" >&2; exit 2; }
    mkdir -p "$DATA"
    export LABEL_STUDIO_USERNAME="$USER_EMAIL" LABEL_STUDIO_PASSWORD="$PASSWORD" \
           LABEL_STUDIO_USER_TOKEN="$TOKEN" LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
           LABEL_STUDIO_BASE_DATA_DIR="$DATA" LATEST_VERSION_CHECK=false \
           LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true \
           SENTRY_DSN= FRONTEND_SENTRY_DSN= SENTRY_RATE=0 COLLECT_ANALYTICS=false
    echo "Label Studio on http://localhost:$PORT  user $USER_EMAIL  API token $TOKEN  data $DATA" >&2
    exec "$VENV/bin/label-studio" start --no-browser --internal-host 127.0.0.1 --port "$PORT" --data-dir "$DATA"
    ;;
  *)
    echo "usage: $0 install | install-browser-test | start [PORT]" >&2
    exit 2
    ;;
esac
