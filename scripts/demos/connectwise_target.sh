#!/usr/bin/env bash
# target-connectwise's two Meltano jobs against the ConnectWise sandbox:
#   connectwise-round-trip  companies -> stream map (name + " (synced)") -> back, PATCH by id
#   csv-to-connectwise      samples/connectwise/prospects.csv -> /company/companies, UPSERT by identifier
# then the CSV job once more (from scratch): it finds every company and creates none.
# Environment: SANDBOX_PORT (8081). The sandbox starts with fresh data, so the runs use
# --full-refresh (Meltano's state would otherwise remember the previous demo's sandbox). Results and
# rejects of the demo go to output/connectwise/demo/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash scripts/setup.sh
port="${SANDBOX_PORT:-8081}"
mkdir -p output/connectwise/demo
rm -f output/connectwise/demo/results.jsonl output/connectwise/demo/rejects.jsonl
source scripts/demos/sandbox.sh
start_connectwise_sandbox "$port" output/connectwise/demo/sandbox.log
site="http://127.0.0.1:$port"
export TAP_CONNECTWISE_SITE="$site" TARGET_CONNECTWISE_SITE="$site"
export TARGET_CONNECTWISE_RESULTS_PATH="$PWD/output/connectwise/demo/results.jsonl"
export TARGET_CONNECTWISE_REJECTS_PATH="$PWD/output/connectwise/demo/rejects.jsonl"
show() { uv run --no-sync python scripts/demos/show_connectwise_companies.py "$site" "$TARGET_CONNECTWISE_RESULTS_PATH"; }
echo "== before"; show
echo "== meltano run connectwise-round-trip"
uv run --no-sync meltano run --full-refresh connectwise-round-trip 2>&1 | grep -E "Published|Rejected a" || true
show
echo "== meltano run csv-to-connectwise"
uv run --no-sync meltano run --full-refresh csv-to-connectwise 2>&1 | grep -E "Published|Rejected a" || true
show
echo "== meltano run csv-to-connectwise, again"
uv run --no-sync meltano run --full-refresh csv-to-connectwise 2>&1 | grep -E "Published|Rejected a" || true
show
echo "rejects: $(wc -l < "$TARGET_CONNECTWISE_REJECTS_PATH" 2>/dev/null || echo 0) (output/connectwise/demo/rejects.jsonl)"
