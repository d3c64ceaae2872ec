"""Sales Layer through Meltano, as users run it: the demo into DuckDB; start_date on a first run and
the bookmark on the next (changes and deletions only); the job that imports a CSV product list."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qs

import duckdb
import pytest

from tests.meltano_env import free_port, own_meltano
from tests.saleslayer.tap.helpers import CONNECTOR_ID, PRIVATE_KEY, start_sandbox

# Meltano runs share the project's .meltano/: one xdist worker runs the group "meltano" in turn.
pytestmark = pytest.mark.xdist_group("meltano")

ROOT = Path(__file__).resolve().parents[2]
MELTANO = [str(ROOT / ".venv" / "bin" / "meltano")]



def test_the_demo_loads_every_table(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "DEMO_SKIP_SETUP": "1", "SANDBOX_PORT": str(free_port()), "SL_PRODUCTS": "2100",
           "SL_VARIANTS": "3000", "SL_CATEGORIES": "15", "SL_DEMO_DIR": str(tmp_path / "demo"),
           "TARGET_DUCKDB_FILEPATH": str(warehouse), **own_meltano(tmp_path)}
    proc = subprocess.run(["bash", "scripts/demos/saleslayer.sh"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with duckdb.connect(str(warehouse)) as db:
        assert db.execute("select count(distinct id) from saleslayer.products").fetchone()[0] == 2100
        assert db.execute("select count(*) from saleslayer.product_formats").fetchone()[0] == 3000
        assert db.execute("select count(*) from saleslayer.catalogue").fetchone()[0] == 15
    assert "4 tables" in proc.stdout


def test_start_date_then_the_bookmark_through_meltano(tmp_path):
    """A first run from start_date (sent as last_update); the next from the state Meltano kept."""
    sandbox = start_sandbox(sizes={"catalogue": 6, "products": 400, "product_formats": 50, "brands": 3})
    warehouse = tmp_path / "warehouse.duckdb"
    try:
        env = {**os.environ, **own_meltano(tmp_path), "TAP_SALESLAYER_API_URL": sandbox.url,
               "TAP_SALESLAYER_CONNECTOR_ID": CONNECTOR_ID, "TAP_SALESLAYER_PRIVATE_KEY": PRIVATE_KEY,
               "TAP_SALESLAYER_START_DATE": "2024-01-01T00:00:00Z", "TARGET_DUCKDB_FILEPATH": str(warehouse)}
        run = [*MELTANO, "run", "tap-saleslayer", "target-duckdb"]
        first = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert first.returncode == 0, first.stderr[-4000:]
        exports = [parse_qs(e["query"]) for e in sandbox.request_log() if "pagination=1&" not in e["query"]
                   and "pagination" in e["query"]]
        assert exports[-1]["last_update"] == [str(int(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()))]
        with duckdb.connect(str(warehouse)) as db:
            loaded = db.execute("select count(*) from saleslayer.products").fetchone()[0]
        assert 0 < loaded < 400

        first_export_time = int(sandbox.request_log()[-1]["received_at"])
        sandbox.touch("products", [1, 2])  # older than start_date: not loaded by the first run
        sandbox.delete("products", 400)
        sandbox.reset_stats()
        second = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr[-4000:]
        exports = [parse_qs(e["query"]) for e in sandbox.request_log() if "pagination=1&" not in e["query"]
                   and "pagination" in e["query"]]
        assert abs(int(exports[-1]["last_update"][0]) - first_export_time) <= 2  # the server's time, kept
        with duckdb.connect(str(warehouse)) as db:
            rows = dict(db.execute("select id, _sdc_deleted_at is not null from saleslayer.products "
                                   "where id in (1, 2, 400)").fetchall())
            assert rows == {1: False, 2: False, 400: True}
            # 1 and 2 are new to the warehouse (older than start_date); 400 (the newest) was loaded.
            assert db.execute("select count(*) from saleslayer.products").fetchone()[0] == loaded + 2
    finally:
        sandbox.stop()


def test_the_csv_job_imports_the_product_list_in_one_call(tmp_path):
    """csv-to-saleslayer: samples/saleslayer/products.csv, renamed by the stream map, UPSERTed by REF."""
    from tests.saleslayer.target.helpers import IMPORT_CONNECTOR_ID, IMPORT_PRIVATE_KEY
    from tests.saleslayer.target.helpers import start_sandbox as start_import_sandbox

    sandbox = start_import_sandbox()
    try:
        env = {**os.environ, **own_meltano(tmp_path), "TARGET_SALESLAYER_API_URL": sandbox.url,
               "TARGET_SALESLAYER_CONNECTOR_ID": IMPORT_CONNECTOR_ID,
               "TARGET_SALESLAYER_PRIVATE_KEY": IMPORT_PRIVATE_KEY, "TARGET_SALESLAYER_TRACKING_POLL_SECONDS": "1",
               "TARGET_SALESLAYER_RESULTS_PATH": str(tmp_path / "results.jsonl"),
               "TARGET_SALESLAYER_REJECTS_PATH": str(tmp_path / "rejects.jsonl")}
        before = sandbox.count("products")
        proc = subprocess.run([*MELTANO, "run", "csv-to-saleslayer"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-5000:]
        assert not (tmp_path / "rejects.jsonl").read_text().strip()
        assert sandbox.count("products") == before + 10
        assert len([e for e in sandbox.request_log() if e["method"] == "POST"]) == 1
        row = sandbox.get("products", sandbox.rows.store.find_ref("products", "PL-2027-003"))
        assert row["product_name_es"] == "Sofá «Nube» 3 plazas" and row["product_price"] == 1899.99
        assert row["product_active"] is True and row["ID_catalogue"] == [2]
        wardrobe = sandbox.get("products", sandbox.rows.store.find_ref("products", "PL-2027-008"))
        assert wardrobe["product_stock"] is None  # an empty cell stays empty
        assert PRIVATE_KEY not in proc.stderr and IMPORT_PRIVATE_KEY not in proc.stderr
    finally:
        sandbox.stop()
