"""scripts/demos/exactonline.sh end to end, run twice: its tables and row counts equal the emulator's.

The demo starts its own emulator (a separate process, stopped when the script exits), so the
expected counts come from an in-process emulator built with the same seed and sizes: the data are
a pure function of (seed, division, table, index). The second run proves the demo re-runnable:
it starts from the store a run that refreshed would leave (a rotated refresh token the new emulator
never issued, an expired access token), and the demo must seed the store from the new emulator.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from connector_sandbox.exactonline import ExactOnlineSandbox
from tests.meltano_env import free_port, own_meltano

# Meltano runs share the project's .meltano/ (plugin venvs, `meltano install`): one xdist worker
# runs every test of the group "meltano" (scripts/test.sh runs pytest with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("meltano")

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scripts" / "demos" / "exactonline.sh"

# Sizes passed to the demo (different from its defaults, to show the overrides reach the emulator).
SIZES = {
    "EXACT_TRANSACTION_LINES": ("financial/TransactionLines", 2500),
    "EXACT_ACCOUNTS": ("crm/Accounts", 300),
    "EXACT_CONTACTS": ("crm/Contacts", 700),
    "EXACT_ITEMS": ("logistics/Items", 150),
    "EXACT_SALES_INVOICES": ("salesinvoice/SalesInvoices", 200),
}
# meltano.yml's selection for tap-exactonline: table -> emulator endpoint
TABLES = {
    "crm_accounts": "sync/CRM/Accounts",
    "crm_contacts": "sync/CRM/Contacts",
    "financial_glaccounts": "sync/Financial/GLAccounts",
    "financial_transactionlines": "sync/Financial/TransactionLines",
    "logistics_items": "sync/Logistics/Items",
    "salesinvoice_salesinvoices": "sync/SalesInvoice/SalesInvoices",  # one row per invoice line
    "deleted": "sync/Deleted",
}
CURRENT_DIVISION = 100001  # the emulator's default; the tap reads the current division


def expected_counts() -> dict[str, int]:
    emulator = ExactOnlineSandbox(seed=42, sizes={path: n for path, n in SIZES.values()})
    return {table: emulator.count(path, division=CURRENT_DIVISION) for table, path in TABLES.items()}


def warehouse_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        assert {schema for schema, _ in tables} == {"exactonline"}, tables
        return {t: con.execute(f'select count(*) from exactonline."{t}"').fetchone()[0]
                for _, t in tables}


def printed_counts(stdout: str) -> dict[str, int]:
    return {m[1]: int(m[2].replace(",", ""))
            for m in re.finditer(r"^exactonline\.(\w+)\s+([\d,]+)$", stdout, re.M)}


def run_demo(env: dict) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    proc = subprocess.run(["bash", str(DEMO)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc, elapsed


def test_demo_loads_what_the_emulator_holds_and_runs_again(tmp_path):
    port = free_port()
    demo_dir = tmp_path / "exactonline"
    warehouse = tmp_path / "warehouse.duckdb"
    env = {
        **os.environ,
        "DEMO_SKIP_SETUP": "1",  # the suite has set up (scripts/test.sh); the demo does it otherwise
        "SANDBOX_PORT": str(port),
        "EXACT_DEMO_DIR": str(demo_dir),
        "TARGET_DUCKDB_FILEPATH": str(warehouse),
        **own_meltano(tmp_path),  # own state and run files, not the project's
        **{var: str(n) for var, (_, n) in SIZES.items()},
    }
    expected = expected_counts()
    assert expected["financial_transactionlines"] == 2500 and expected["salesinvoice_salesinvoices"] > 200

    for run in range(2):
        if run == 1:  # as a run that refreshed leaves it: unknown to the next emulator
            (demo_dir / "demo-token-store.json").write_text(json.dumps({
                "access_token": "stale", "refresh_token": "rotated-by-the-last-emulator",
                "expires_at": time.time() - 60, "obtained_at": time.time() - 660}))
        proc, elapsed = run_demo(env)
        assert warehouse_counts(warehouse) == expected
        assert printed_counts(proc.stdout) == expected
        assert f"{len(expected)} tables, {sum(expected.values()):,} rows" in proc.stdout
        # 2,500 lines are 3 sync pages, every other table 1 page, plus current/Me: about 10
        # requests, far within the 60 a minute, so nothing waits and nothing is refused.
        requests, refused = map(int, re.search(
            r"Exact Online emulator: (\d+) requests, (\d+) answered 429", proc.stdout).groups())
        assert 0 < requests < 60 and refused == 0, proc.stdout
        assert elapsed < 60, elapsed
        # The store holds this emulator's token pair (no refresh needed within 570 s).
        issued = json.loads((demo_dir / "sandbox-tokens.json").read_text())
        stored = json.loads((demo_dir / "demo-token-store.json").read_text())
        assert (stored["access_token"], stored["refresh_token"]) == (
            issued["access_token"], issued["refresh_token"])
        # The emulator stopped with the script: its port is free again.
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no listener
            sock.bind(("127.0.0.1", port))
            sock.listen()
