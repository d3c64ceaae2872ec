#!/usr/bin/env bash
# Sales Layer PIM: set up, start the Sales Layer emulator, `meltano run tap-saleslayer target-duckdb`
# (every table of the emulator's export connector: catalogue, products, product_formats and the custom
# table brands, in one export) into the DuckDB warehouse (output/warehouse.duckdb, schema saleslayer)
# with the emulator's demo connector code and private key, then print the row count of every table
# loaded and how many calls the emulator answered.
# Environment:
#   SANDBOX_PORT (8085)
#   SL_PRODUCTS (5000), SL_VARIANTS (12000), SL_CATEGORIES (40): rows
#   SL_DEMO_DIR (output/saleslayer): the emulator's log
#   TARGET_DUCKDB_FILEPATH (output/warehouse.duckdb)
#   DEMO_SKIP_SETUP=1: skip scripts/setup.sh (the test suite, which has set up already)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ "${DEMO_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh
port="${SANDBOX_PORT:-8085}"
out="${SL_DEMO_DIR:-$PWD/output/saleslayer}"
warehouse="${TARGET_DUCKDB_FILEPATH:-$PWD/output/warehouse.duckdb}"
mkdir -p "$out" "$(dirname "$warehouse")"
source scripts/demos/sandbox.sh
start_saleslayer_sandbox "$port" "$out/sandbox.log" --verbose --size products="${SL_PRODUCTS:-5000}" \
  --size product_formats="${SL_VARIANTS:-12000}" --size catalogue="${SL_CATEGORIES:-40}"

# The sandbox environment of meltano.yml holds the emulator's demo export connector (code and key).
export TAP_SALESLAYER_API_URL="http://127.0.0.1:$port"
export TARGET_DUCKDB_FILEPATH="$warehouse"
# The emulator's data are new on every demo: forget the last demo's tables and bookmark
# (--full-refresh). Against the real connector, leave both out: runs are incremental.
uv run --no-sync python -c 'import duckdb, sys; duckdb.connect(sys.argv[1]).execute("drop schema if exists saleslayer cascade")' "$warehouse"
uv run --no-sync meltano run --full-refresh tap-saleslayer target-duckdb
uv run --no-sync python scripts/demos/print_row_counts.py "$warehouse" saleslayer
echo "Sales Layer emulator: $(grep -c ' -> ' "$out/sandbox.log" || true) calls ($out/sandbox.log)"
