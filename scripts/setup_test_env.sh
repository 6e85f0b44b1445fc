#!/usr/bin/env bash
# What the test suite needs beyond the Python package: filled in as the suite grows.
set -euo pipefail
PY="$1"
"$PY" -c "import hasila, hasila.infer, hasila.train" 
