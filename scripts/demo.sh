#!/usr/bin/env bash
# The main job: set up, start the ConnectWise sandbox, `meltano run tap-connectwise target-duckdb`
# into the embedded DuckDB warehouse (output/warehouse.duckdb, schema connectwise), then print the
# row count of every table loaded.
# Environment: SANDBOX_PORT (8081), SANDBOX_TICKETS (500; each ticket costs one request for its notes,
# within ConnectWise's 1,000-requests-a-minute budget that the tap keeps to).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
port="${SANDBOX_PORT:-8081}"
tickets="${SANDBOX_TICKETS:-500}"
source scripts/demos/sandbox.sh
start_connectwise_sandbox "$port" output/sandbox.log --size /service/tickets="$tickets"
export TAP_CONNECTWISE_SITE="http://127.0.0.1:$port"
# --full-refresh: the sandbox starts fresh on every demo, so a previous demo's bookmarks would
# describe another server's data. Against a real ConnectWise, leave it out: runs are incremental.
uv run --no-sync meltano run --full-refresh tap-connectwise target-duckdb
uv run --no-sync python scripts/demos/print_row_counts.py output/warehouse.duckdb connectwise
