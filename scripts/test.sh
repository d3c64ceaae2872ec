#!/usr/bin/env bash
# Set up, lint and type-check, then run the whole test suite (it starts the sandboxes it needs
# in-process).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# ruff (the whole tree) and mypy (the packages and the emulators), configured in pyproject.toml.
uv run --no-sync ruff check .
uv run --no-sync mypy
# Two workers (TEST_WORKERS): the tests that run Meltano share .meltano/ and are one xdist group
# ("meltano"), run by one worker in turn (--dist loadgroup).
uv run --no-sync pytest -n "${TEST_WORKERS:-2}" --dist loadgroup "$@"
