"""SuperOffice through Meltano, as users run it: the demo into DuckDB, and the round-trip job
(contacts read, their department marked by a stream map, PATCHed back; the next incremental run
reads the changed contacts again and its filter sends nothing)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from connector_sandbox.superoffice.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT
from tests.meltano_env import free_port, own_meltano
from tests.superoffice.tap.helpers import query_of, start_sandbox, write_store

# Meltano runs share the project's .meltano/ (plugin venvs, `meltano install`): one xdist worker
# runs every test of the group "meltano" (scripts/test.sh runs pytest with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("meltano")

ROOT = Path(__file__).resolve().parents[2]
MELTANO = [str(ROOT / ".venv" / "bin" / "meltano")]
SUFFIX = " (synced)"



def test_the_demo_loads_every_row_without_a_429(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "DEMO_SKIP_SETUP": "1", "SANDBOX_PORT": str(free_port()), "SO_CONTACTS": "2100",
           "SO_PERSONS": "3000", "SO_DEMO_DIR": str(tmp_path / "demo"), "TARGET_DUCKDB_FILEPATH": str(warehouse),
           **own_meltano(tmp_path)}
    proc = subprocess.run(["bash", "scripts/demos/superoffice.sh"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with duckdb.connect(str(warehouse)) as db:
        assert db.execute("select count(*) from superoffice.contact").fetchone()[0] == 2100
        assert db.execute("select count(distinct contactid) from superoffice.contact").fetchone()[0] == 2100
        assert db.execute("select count(*) from superoffice.person").fetchone()[0] == 3000
    assert "12 tables" in proc.stdout and "0 answered 429" in proc.stdout


def test_the_round_trip_job_patches_every_department_once(tmp_path):
    """start_date without state (the first run reads the contacts changed since it), then with
    Meltano's state (the second run reads from the bookmark, not from start_date)."""
    so = start_sandbox(sizes={"Contact": 30})
    try:
        store = write_store(tmp_path / "tokens.json", so.issue_tokens())
        updated = {i: so.get("Contact", i)["UpdatedDate"] for i in range(1, 31)}
        start = updated[16][:10]  # the day of contact 16: contacts 16..30 are changed since
        since = [i for i, stamp in updated.items() if stamp[:10] >= start]
        assert since == list(range(min(since), 31)) and 10 <= len(since) < 30
        connection = {"BASE_URL": so.environment_url, "TENANT_ID": DEFAULT_TENANT, "CLIENT_ID": DEFAULT_CLIENT_ID,
                      "CLIENT_SECRET": DEFAULT_CLIENT_SECRET, "TOKEN_STORE": str(store)}
        env = {**os.environ, **own_meltano(tmp_path),
               **{f"TAP_SUPEROFFICE_{k}": v for k, v in connection.items()},
               **{f"TARGET_SUPEROFFICE_{k}": v for k, v in connection.items()},
               "TAP_SUPEROFFICE_START_DATE": start,
               "TARGET_SUPEROFFICE_RESULTS_PATH": str(tmp_path / "results.jsonl"),
               "TARGET_SUPEROFFICE_REJECTS_PATH": str(tmp_path / "rejects.jsonl")}
        before = {i: so.get("Contact", i)["Department"] for i in range(1, 31)}
        proc = subprocess.run([*MELTANO, "run", "superoffice-round-trip"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-5000:]
        reads = [e for e in so.request_log() if e["path"].endswith("/v1/Contact") and e["method"] == "GET"]
        assert query_of(reads[0])["$filter"] == f"updatedDate after '{_day_before(start)}'"
        for i, department in before.items():
            marked = department + SUFFIX if department is not None and i in since else department
            assert so.get("Contact", i)["Department"] == marked, i
        patches = [e for e in so.request_log() if e["method"] == "PATCH"]
        assert sorted(int(e["path"].rsplit("/", 1)[-1]) for e in patches) == [
            i for i in since if before[i] is not None]
        assert {e["headers"]["Content-Type"] for e in patches} == {"application/json-patch+json"}
        assert not (tmp_path / "rejects.jsonl").read_text().strip()

        # The next incremental run starts from Meltano's bookmark, the latest updatedDate the first
        # run read (contact 30's), not from start_date: it reads that day again, and the patched
        # contacts (changed today); the stream map's filter drops them, so nothing is written.
        bookmark = max(updated.values())
        assert bookmark == updated[30] and bookmark[:10] > start
        so.reset_stats()
        again = subprocess.run([*MELTANO, "run", "superoffice-round-trip"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr[-5000:]
        reads = [e for e in so.request_log() if e["path"].endswith("/v1/Contact") and e["method"] == "GET"]
        assert [query_of(e)["$filter"] for e in reads] == [
            f"updatedDate after '{_day_before(bookmark)}'", f"deletedDate afterTime '{bookmark}'"]
        assert [e for e in so.request_log() if e["method"] != "GET"] == []
    finally:
        so.stop()


def _day_before(day: str) -> str:
    return (dt.date.fromisoformat(day[:10]) - dt.timedelta(days=1)).isoformat()
