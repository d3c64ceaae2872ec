#!/usr/bin/env bash
# Exact Online: set up, start the Exact Online emulator, seed the tap's token store from the tokens
# the emulator issues, `meltano run tap-exactonline target-duckdb` into the DuckDB warehouse
# (output/warehouse.duckdb, schema exactonline), then print the row count of every table loaded
# and how many requests the emulator answered.
# Environment:
#   SANDBOX_PORT (8082)
#   EXACT_TRANSACTION_LINES (5000), EXACT_ACCOUNTS (500), EXACT_CONTACTS (1000), EXACT_ITEMS (200),
#   EXACT_SALES_INVOICES (300, each with its lines): rows of each table in each division. The tap
#     reads the user's current division (100001) and a sync page holds 1,000 rows: the defaults
#     cost 12 requests, well within Exact's 60 a minute per division, so the tap never waits.
#   EXACT_DEMO_DIR (output/exactonline): emulator log, its tokens file and the demo's token store
#   TARGET_DUCKDB_FILEPATH (output/warehouse.duckdb), MELTANO_DATABASE_URI (Meltano's state)
#   DEMO_SKIP_SETUP=1: skip scripts/setup.sh (the test suite, which has set up already)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ "${DEMO_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh
port="${SANDBOX_PORT:-8082}"
out="${EXACT_DEMO_DIR:-$PWD/output/exactonline}"
tokens_file="$out/sandbox-tokens.json"   # written by the emulator once it listens
store="$out/demo-token-store.json"       # the tap's token store for the demo
warehouse="${TARGET_DUCKDB_FILEPATH:-$PWD/output/warehouse.duckdb}"
mkdir -p "$out" "$(dirname "$warehouse")"
rm -f "$tokens_file"
source scripts/demos/sandbox.sh
# --verbose: one log line per request ("... GET /api/v1/100001/sync/CRM/Accounts?... -> 200").
start_exactonline_sandbox "$port" "$out/sandbox.log" --verbose --tokens-file "$tokens_file" \
  --size financial/TransactionLines="${EXACT_TRANSACTION_LINES:-5000}" \
  --size crm/Accounts="${EXACT_ACCOUNTS:-500}" \
  --size crm/Contacts="${EXACT_CONTACTS:-1000}" \
  --size logistics/Items="${EXACT_ITEMS:-200}" \
  --size salesinvoice/SalesInvoices="${EXACT_SALES_INVOICES:-300}"

# Each emulator starts a new token chain, unaware of the refresh token the last demo left in the
# store. So the store is seeded on every run with the pair this emulator just issued (the access
# token is valid 600 s from when it wrote the file), as `tap-exactonline authorize` leaves it; the
# tap reads it and would rotate it from then on. Against the real Exact Online, run `authorize`
# once and keep the store.
uv run --no-sync python - "$tokens_file" "$store" <<'EOF'
import json, os, sys
from connector_core.oauth import OAuthTokens, TokenStore

tokens_file, store_path = sys.argv[1:3]
with open(tokens_file, encoding="utf-8") as fh:
    tokens = json.load(fh)
issued = os.path.getmtime(tokens_file)
store = TokenStore(store_path)
with store.lock():
    store.write(OAuthTokens(tokens["access_token"], tokens["refresh_token"],
                            issued + int(tokens["expires_in"]), issued))
EOF

export TAP_EXACTONLINE_BASE_URL="http://127.0.0.1:$port"
export TAP_EXACTONLINE_CLIENT_ID=5f1d3c2a-7b8e-4f60-9a1b-2c3d4e5f6a7b   # the emulator's defaults
export TAP_EXACTONLINE_CLIENT_SECRET=sandbox-secret
export TAP_EXACTONLINE_TOKEN_STORE="$store"
export TARGET_DUCKDB_FILEPATH="$warehouse"
# The emulator's data are new on every demo: forget the last demo's tables (the loader upserts, so
# rows of larger sizes would stay) and its bookmarks (--full-refresh). Against the real Exact
# Online, leave both out: runs are incremental.
uv run --no-sync python -c 'import duckdb, sys; duckdb.connect(sys.argv[1]).execute("drop schema if exists exactonline cascade")' "$warehouse"
uv run --no-sync meltano run --full-refresh tap-exactonline target-duckdb
uv run --no-sync python scripts/demos/print_row_counts.py "$warehouse" exactonline
echo "Exact Online emulator: $(grep -c ' -> ' "$out/sandbox.log" || true) requests," \
  "$(grep -c ' -> 429 ' "$out/sandbox.log" || true) answered 429 ($out/sandbox.log)"
