#!/usr/bin/env bash
# Set up, then run the whole test suite (it starts the sandboxes it needs in-process).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
uv run --no-sync pytest "$@"
