#!/usr/bin/env bash
# SuperOffice CRM Online: set up, start the SuperOffice emulator, seed the token store from the
# tokens the emulator issues, `meltano run tap-superoffice target-duckdb` into the DuckDB warehouse
# (output/warehouse.duckdb, schema superoffice), then print the row count of every table loaded and
# how many requests the emulator answered (and how many it throttled: none, at 10 a second).
# Environment:
#   SANDBOX_PORT (8083)
#   SO_CONTACTS (5000), SO_PERSONS (10000): rows; every other table has 25
#   SO_DEMO_DIR (output/superoffice): emulator log, its tokens file and the demo's token store
#   TARGET_DUCKDB_FILEPATH (output/warehouse.duckdb)
#   DEMO_SKIP_SETUP=1: skip scripts/setup.sh (the test suite, which has set up already)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ "${DEMO_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh
port="${SANDBOX_PORT:-8083}"
out="${SO_DEMO_DIR:-$PWD/output/superoffice}"
tokens_file="$out/sandbox-tokens.json"   # written by the emulator once it listens
store="$out/demo-token-store.json"       # the tap's token store for the demo
warehouse="${TARGET_DUCKDB_FILEPATH:-$PWD/output/warehouse.duckdb}"
mkdir -p "$out" "$(dirname "$warehouse")"
rm -f "$tokens_file"
source scripts/demos/sandbox.sh
start_superoffice_sandbox "$port" "$out/sandbox.log" --verbose --tokens-file "$tokens_file" \
  --size Contact="${SO_CONTACTS:-5000}" --size Person="${SO_PERSONS:-10000}" --default-size 25

# Each emulator starts a new consent: the store is seeded with the pair it just issued, as
# `tap-superoffice authorize` leaves it. Against the real SuperOffice, run `authorize` once.
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

export TAP_SUPEROFFICE_BASE_URL="http://127.0.0.1:$port/online"   # the emulator's environment host
export TAP_SUPEROFFICE_TOKEN_STORE="$store"
export TARGET_DUCKDB_FILEPATH="$warehouse"
# The emulator's data are new on every demo: forget the last demo's tables and bookmarks
# (--full-refresh). Against the real SuperOffice, leave both out: runs are incremental.
uv run --no-sync python -c 'import duckdb, sys; duckdb.connect(sys.argv[1]).execute("drop schema if exists superoffice cascade")' "$warehouse"
uv run --no-sync meltano run --full-refresh tap-superoffice target-duckdb
uv run --no-sync python scripts/demos/print_row_counts.py "$warehouse" superoffice
echo "SuperOffice emulator: $(grep -c ' -> ' "$out/sandbox.log" || true) requests," \
  "$(grep -c ' -> 429 ' "$out/sandbox.log" || true) answered 429 ($out/sandbox.log)"
