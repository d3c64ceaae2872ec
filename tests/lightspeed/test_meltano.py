"""Lightspeed through Meltano, as users run it: the demo into DuckDB, and the round-trip job
(customers read, their note marked by a stream map, PUT back; the next incremental run reads the
changed customers again and its filter sends nothing)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.lightspeed.tap.helpers import TOKEN, start_sandbox
from tests.meltano_env import free_port, own_meltano

# Meltano runs share the project's .meltano/: one xdist worker runs the group "meltano" in turn.
pytestmark = pytest.mark.xdist_group("meltano")

ROOT = Path(__file__).resolve().parents[2]
MELTANO = [str(ROOT / ".venv" / "bin" / "meltano")]
SUFFIX = " (synced)"



def test_the_demo_loads_every_row_without_a_429(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "DEMO_SKIP_SETUP": "1", "SANDBOX_PORT": str(free_port()), "LS_PRODUCTS": "2100",
           "LS_CUSTOMERS": "800", "LS_SALES": "900", "LS_DEMO_DIR": str(tmp_path / "demo"),
           "TARGET_DUCKDB_FILEPATH": str(warehouse), **own_meltano(tmp_path)}
    proc = subprocess.run(["bash", "scripts/demos/lightspeed.sh"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with duckdb.connect(str(warehouse)) as db:
        assert db.execute("select count(distinct id) from lightspeed.products").fetchone()[0] == 2100
        assert db.execute("select count(*) from lightspeed.customers").fetchone()[0] == 800
        assert db.execute("select count(*) from lightspeed.sales").fetchone()[0] == 900
    assert "6 tables" in proc.stdout and "0 answered 429" in proc.stdout


def test_the_round_trip_job_puts_every_note_once(tmp_path):
    ls = start_sandbox(sizes={"/customers": 30})
    try:
        connection = {"BASE_URL": ls.api_url, "TOKEN": TOKEN}
        env = {**os.environ, **own_meltano(tmp_path),
               **{f"TAP_LIGHTSPEED_{k}": v for k, v in connection.items()},
               **{f"TARGET_LIGHTSPEED_{k}": v for k, v in connection.items()},
               "TARGET_LIGHTSPEED_RESULTS_PATH": str(tmp_path / "results.jsonl"),
               "TARGET_LIGHTSPEED_REJECTS_PATH": str(tmp_path / "rejects.jsonl")}
        before = {row["id"]: row["note"] for row in ls.store.page("/customers", None, 0, None, 100, deleted=False)}
        proc = subprocess.run([*MELTANO, "run", "lightspeed-round-trip"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-5000:]
        for customer, note in before.items():
            assert ls.get("/customers", customer)["note"] == (note or "") + SUFFIX
        puts = [e for e in ls.request_log() if e["method"] == "PUT"]
        assert len(puts) == 30
        assert not (tmp_path / "rejects.jsonl").read_text().strip()

        ls.reset_stats()
        again = subprocess.run([*MELTANO, "run", "lightspeed-round-trip"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr[-5000:]
        reads = [e for e in ls.request_log() if e["path"].endswith("/customers") and e["method"] == "GET"]
        assert reads and "after=" in reads[0]["query"] and "after=0" not in reads[0]["query"]
        assert [e for e in ls.request_log() if e["method"] != "GET"] == []
    finally:
        ls.stop()
