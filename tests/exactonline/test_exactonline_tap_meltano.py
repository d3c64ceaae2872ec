"""`meltano run tap-exactonline target-duckdb` end to end: DuckDB row counts equal the sandbox's.

The tables land in schema `exactonline`, the extractor's `load_schema` in meltano.yml.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb
from eo_helpers import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, start_sandbox, write_store

ROOT = Path(__file__).resolve().parents[2]
MELTANO = [str(ROOT / ".venv" / "bin" / "meltano")]

# meltano.yml's selection for tap-exactonline: stream -> sandbox table
SELECTED = {
    "crm_accounts": "sync/CRM/Accounts",
    "crm_contacts": "sync/CRM/Contacts",
    "financial_glaccounts": "sync/Financial/GLAccounts",
    "financial_transactionlines": "sync/Financial/TransactionLines",
    "logistics_items": "sync/Logistics/Items",
}


def test_meltano_run_tap_exactonline_target_duckdb(tmp_path):
    sandbox = start_sandbox(sizes={"financial/TransactionLines": 2500})
    try:
        store = tmp_path / "tokens.json"
        write_store(store, sandbox.issue_tokens())
        env = {
            **os.environ,
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path}/meltano.db",
            "TAP_EXACTONLINE_BASE_URL": sandbox.url,
            "TAP_EXACTONLINE_CLIENT_ID": DEFAULT_CLIENT_ID,
            "TAP_EXACTONLINE_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
            "TAP_EXACTONLINE_TOKEN_STORE": str(store),
            "TARGET_DUCKDB_FILEPATH": str(tmp_path / "warehouse.duckdb"),
        }
        subprocess.run([*MELTANO, "install"], cwd=ROOT, env=env, check=True, capture_output=True)
        proc = subprocess.run([*MELTANO, "run", "tap-exactonline", "target-duckdb"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-5000:]
        with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
            counts = {t: con.execute(f'select count(*) from exactonline."{t}"').fetchone()[0]
                      for (t,) in con.execute("select table_name from information_schema.tables "
                                              "where table_schema = 'exactonline'").fetchall()}
        for stream, table in SELECTED.items():
            assert counts.get(stream) == sandbox.count(table), (stream, counts)
        assert counts["financial_transactionlines"] == 2500
        assert sandbox.stats()["by_status"].get("429", 0) == 0
    finally:
        sandbox.stop()
