"""`meltano run tap-connectwise target-duckdb` end to end, with start_date set: DuckDB row counts
equal the sandbox's (start_date, set as a Meltano user sets it, is before the emulator's data), then
a second run from Meltano's state reads only the changes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qs

import duckdb
import pytest

from connector_sandbox.connectwise import (
    ConnectWiseSandbox,
)
from tests.connectwise.tap.helpers import START_DATE, connectwise_env
from tests.meltano_env import own_meltano

# Meltano runs share the project's .meltano/ (plugin venvs, `meltano install`): one xdist worker
# runs every test of the group "meltano" (scripts/test.sh runs pytest with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("meltano")

ROOT = Path(__file__).resolve().parents[3]
MELTANO = [str(ROOT / ".venv" / "bin" / "meltano")]

# meltano.yml's default selection: stream -> sandbox collection
TOP_LEVEL = {
    "company_companies": "/company/companies",
    "company_contacts": "/company/contacts",
    "company_configurations": "/company/configurations",
    "service_tickets": "/service/tickets",
    "service_boards": "/service/boards",
    "service_priorities": "/service/priorities",
    "time_entries": "/time/entries",
    "expense_entries": "/expense/entries",
    "schedule_entries": "/schedule/entries",
    "project_projects": "/project/projects",
    "project_tickets": "/project/tickets",
    "finance_agreements": "/finance/agreements",
    "finance_invoices": "/finance/invoices",
    "procurement_purchaseorders": "/procurement/purchaseorders",
    "system_members": "/system/members",
    "sales_opportunities": "/sales/opportunities",
    "sales_activities": "/sales/activities",
}
CHILDREN = {
    "service_tickets_notes": ("/service/tickets", "/service/tickets/{}/notes"),
    "company_companies_sites": ("/company/companies", "/company/companies/{}/sites"),
}


@pytest.fixture(scope="module")
def sandbox():
    sandbox = ConnectWiseSandbox(sizes={"/service/tickets": 300})
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def meltano_env(tmp_path_factory, sandbox):
    tmp = tmp_path_factory.mktemp("meltano")
    env = {
        **os.environ,
        **own_meltano(tmp),  # own state and run files, not the project's
        **connectwise_env(sandbox),
        "TARGET_DUCKDB_FILEPATH": str(tmp / "warehouse.duckdb"),
    }
    subprocess.run([*MELTANO, "install"], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def meltano_run(env) -> subprocess.CompletedProcess:
    proc = subprocess.run([*MELTANO, "run", "tap-connectwise", "target-duckdb"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return proc


def row_counts(path: str) -> dict[str, int]:
    """Rows of every table; target-duckdb's schema is the extractor's `load_schema` (connectwise)."""
    with duckdb.connect(path, read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        assert {schema for schema, _ in tables} <= {"connectwise"}, tables
        return {t: con.execute(f'select count(*) from connectwise."{t}"').fetchone()[0]
                for _, t in tables}


def expected_counts(sandbox) -> dict[str, int]:
    expected = {stream: sandbox.count(path) for stream, path in TOP_LEVEL.items()}
    for stream, (parent, child) in CHILDREN.items():
        expected[stream] = sum(sandbox.count(child.format(i))
                               for i in range(1, sandbox.count(parent) + 1))
    return expected


def ticket_conditions(sandbox) -> list[str]:
    return [parse_qs(r["query"]).get("conditions", [""])[0] for r in sandbox.request_log()
            if r["path"].endswith("/service/tickets")]


def test_meltano_run_loads_every_row_then_only_changes(sandbox, meltano_env):
    sandbox.reset_stats()
    meltano_run(meltano_env)
    warehouse = meltano_env["TARGET_DUCKDB_FILEPATH"]
    expected = expected_counts(sandbox)
    assert row_counts(warehouse) == expected
    assert expected["service_tickets"] == 300 and expected["service_tickets_notes"] > 300
    assert ticket_conditions(sandbox) == [f"lastUpdated >= [{START_DATE}]"]  # start_date arrived

    sandbox.touch("/service/tickets", [3, 150])
    sandbox.reset_stats()
    meltano_run(meltano_env)
    # From Meltano's state: the bookmark, not start_date.
    bookmark, = ticket_conditions(sandbox)
    assert bookmark.startswith("lastUpdated >= [") and bookmark > f"lastUpdated >= [{START_DATE}]"

    # Incremental: the changed tickets (and their notes) are read again and upserted, no more.
    assert row_counts(warehouse) == expected
    note_requests = [r for r in sandbox.request_log() if r["path"].endswith("/notes")]
    assert 2 <= len(note_requests) < 10
    with duckdb.connect(warehouse, read_only=True) as con:
        summary = con.execute("select summary from connectwise.service_tickets where id = 3").fetchone()[0]
    assert summary == sandbox.get("/service/tickets", 3)["summary"]


def test_inherited_extractor_loads_into_the_same_schema(sandbox, meltano_env, tmp_path):
    # tap-connectwise--companies inherits load_schema from tap-connectwise: its namespace (derived
    # from its own name, tap_connectwise__companies) would otherwise name the schema.
    env = {**meltano_env, "TARGET_DUCKDB_FILEPATH": str(tmp_path / "companies.duckdb")}
    proc = subprocess.run([*MELTANO, "run", "--full-refresh", "tap-connectwise--companies",
                           "target-duckdb"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert row_counts(env["TARGET_DUCKDB_FILEPATH"]) == {
        "company_companies": sandbox.count("/company/companies")}
