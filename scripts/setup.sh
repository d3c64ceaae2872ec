#!/usr/bin/env bash
# Install everything the project needs on a fresh machine: uv (pinned), the workspace venv (.venv,
# from uv.lock) and the Meltano plugins (.meltano/). Idempotent; sourced by demo.sh and test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
UV_VERSION=0.13.8
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
uv sync --locked --quiet
uv run --no-sync meltano install --parallelism 2 >/dev/null
