#!/usr/bin/env bash
# Set everything up and serve the demo district on http://127.0.0.1:5000
# Extra arguments go to `minping demo` (e.g. --seed 3 --port 5001 --no-serve).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/minping demo "$@"
