#!/usr/bin/env bash
# Lightspeed Retail X-Series: set up, start the Lightspeed emulator, `meltano run tap-lightspeed
# target-duckdb` (the retail core: products, customers, sales, inventory, outlets, registers) into the
# DuckDB warehouse (output/warehouse.duckdb, schema lightspeed) with the emulator's personal token,
# then print the row count of every table loaded and how many requests the emulator answered (and
# how many it refused with 429: none, the tap keeps the 5-minute budget).
# Environment:
#   SANDBOX_PORT (8084)
#   LS_PRODUCTS (5000), LS_CUSTOMERS (3000), LS_SALES (4000): rows; every other list has 25
#   LS_DEMO_DIR (output/lightspeed): the emulator's log
#   TARGET_DUCKDB_FILEPATH (output/warehouse.duckdb)
#   DEMO_SKIP_SETUP=1: skip scripts/setup.sh (the test suite, which has set up already)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ "${DEMO_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh
port="${SANDBOX_PORT:-8084}"
out="${LS_DEMO_DIR:-$PWD/output/lightspeed}"
warehouse="${TARGET_DUCKDB_FILEPATH:-$PWD/output/warehouse.duckdb}"
mkdir -p "$out" "$(dirname "$warehouse")"
source scripts/demos/sandbox.sh
start_lightspeed_sandbox "$port" "$out/sandbox.log" --verbose --default-size 25 --size /registers=2 \
  --size /products="${LS_PRODUCTS:-5000}" --size /customers="${LS_CUSTOMERS:-3000}" --size /sales="${LS_SALES:-4000}"

# The sandbox environment of meltano.yml holds the emulator's published personal token.
export TAP_LIGHTSPEED_BASE_URL="http://127.0.0.1:$port/api/2.0"
export TARGET_DUCKDB_FILEPATH="$warehouse"
# The emulator's data are new on every demo: forget the last demo's tables and bookmarks
# (--full-refresh). Against the real store, leave both out: runs are incremental.
uv run --no-sync python -c 'import duckdb, sys; duckdb.connect(sys.argv[1]).execute("drop schema if exists lightspeed cascade")' "$warehouse"
uv run --no-sync meltano run --full-refresh tap-lightspeed target-duckdb
uv run --no-sync python scripts/demos/print_row_counts.py "$warehouse" lightspeed
echo "Lightspeed emulator: $(grep -c ' -> ' "$out/sandbox.log" || true) requests," \
  "$(grep -c ' -> 429 ' "$out/sandbox.log" || true) answered 429 ($out/sandbox.log)"
