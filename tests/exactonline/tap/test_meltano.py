"""`meltano run tap-exactonline target-duckdb` end to end, twice, with start_date set.

The tables land in schema `exactonline`, the extractor's `load_schema` in meltano.yml. start_date
(`TAP_EXACTONLINE_START_DATE`, as a Meltano user sets it) is before the emulator's data, so the
first run loads every row: DuckDB row counts equal the sandbox's. The second run starts from the
state Meltano kept: it reads only what changed (no SyncTimestamp request, no sync read from the
start) and the changes land in DuckDB.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qs

import duckdb
import pytest

from tests.exactonline.tap.helpers import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    START_DATE,
    data_requests,
    start_sandbox,
    write_store,
)
from tests.meltano_env import own_meltano

# Meltano runs share the project's .meltano/ (plugin venvs, `meltano install`): one xdist worker
# runs every test of the group "meltano" (scripts/test.sh runs pytest with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("meltano")

ROOT = Path(__file__).resolve().parents[3]
MELTANO = [str(ROOT / ".venv" / "bin" / "meltano")]
DIVISION = 100001  # the emulator's current division, which the tap reads by default

# meltano.yml's selection for tap-exactonline: stream -> sandbox table
SELECTED = {
    "crm_accounts": "sync/CRM/Accounts",
    "crm_contacts": "sync/CRM/Contacts",
    "financial_glaccounts": "sync/Financial/GLAccounts",
    "financial_transactionlines": "sync/Financial/TransactionLines",
    "logistics_items": "sync/Logistics/Items",
}
# The endpoints of meltano.yml's selection that Exact's SyncTimestamp serves (one request each on
# the first run).
WITH_SYNC_TIMESTAMP = ("TransactionLines", "SalesInvoices")


def meltano_run(env: dict) -> None:
    proc = subprocess.run([*MELTANO, "run", "tap-exactonline", "target-duckdb"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-5000:]


def warehouse(path: Path, query: str, *args) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query, args).fetchall()


def row_counts(path: Path) -> dict[str, int]:
    tables = warehouse(path, "select table_name from information_schema.tables "
                             "where table_schema = 'exactonline'")
    return {t: warehouse(path, f'select count(*) from exactonline."{t}"')[0][0] for (t,) in tables}


def endpoint_of(request: dict) -> str:
    return parse_qs(request["query"])["endPoint"][0].strip("'")


def test_meltano_run_tap_exactonline_target_duckdb(tmp_path):
    sandbox = start_sandbox(sizes={"financial/TransactionLines": 2500})
    try:
        store = tmp_path / "tokens.json"
        write_store(store, sandbox.issue_tokens())
        db = tmp_path / "warehouse.duckdb"
        env = {
            **os.environ,
            **own_meltano(tmp_path),
            "TAP_EXACTONLINE_BASE_URL": sandbox.url,
            "TAP_EXACTONLINE_CLIENT_ID": DEFAULT_CLIENT_ID,
            "TAP_EXACTONLINE_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
            "TAP_EXACTONLINE_TOKEN_STORE": str(store),
            "TAP_EXACTONLINE_START_DATE": START_DATE,
            "TARGET_DUCKDB_FILEPATH": str(db),
        }
        subprocess.run([*MELTANO, "install"], cwd=ROOT, env=env, check=True, capture_output=True)
        meltano_run(env)
        counts = row_counts(db)
        for stream, table in SELECTED.items():
            assert counts.get(stream) == sandbox.count(table), (stream, counts)
        assert counts["financial_transactionlines"] == 2500
        assert sandbox.stats()["by_status"].get("429", 0) == 0
        # start_date reached the tap: SyncTimestamp asked once for each endpoint it serves.
        asked = data_requests(sandbox, "/read/sync/Sync/SyncTimestamp")
        assert sorted(map(endpoint_of, asked)) == sorted(WITH_SYNC_TIMESTAMP)

        # Second run, from Meltano's state: only the changes are read, and they land.
        account = sandbox.key_of("crm/Accounts", 2, DIVISION)
        line = sandbox.key_of("financial/TransactionLines", 40, DIVISION)
        sandbox.touch("crm/Accounts", [account], DIVISION)
        sandbox.touch("financial/TransactionLines", [line], DIVISION)
        sandbox.reset_stats()
        meltano_run(env)
        assert row_counts(db) == counts  # upserted, not appended
        assert data_requests(sandbox, "/read/sync/Sync/SyncTimestamp") == []
        # Every table that had rows is read after its bookmark (sync/Deleted, with no deletion
        # yet, has none and is read from the start again).
        for table in SELECTED.values():
            request, = data_requests(sandbox, f"/{DIVISION}/{table}")
            assert parse_qs(request["query"])["$filter"][0] != "Timestamp gt 0L", request
        name = sandbox.get("crm/Accounts", account, DIVISION)["Name"]
        assert name.endswith(" *")  # the emulator's touch
        assert warehouse(db, 'select "Name" from exactonline.crm_accounts where "ID" = ?',
                         account) == [(name,)]
    finally:
        sandbox.stop()
