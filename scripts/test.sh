#!/usr/bin/env bash
# Set up, lint and type-check, then run the whole test suite (it starts the sandboxes it needs
# in-process).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# ruff and mypy (configured in pyproject.toml): the packages and the emulators.
uv run --no-sync ruff check connector-core ./*-client tap-* target-* sandbox/connector_sandbox
uv run --no-sync mypy
uv run --no-sync pytest "$@"
