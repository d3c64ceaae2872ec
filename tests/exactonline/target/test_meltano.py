"""`meltano run exactonline-round-trip` end to end: tap-exactonline--accounts (stream map appending
" (synced)" to each name) -> target-exactonline (UPSERT by ID, i.e. a look-up and a PUT of the
name, or nothing when the account already has it)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.exactonline.tap.helpers import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, start_sandbox, write_store
from tests.meltano_env import own_meltano

# Meltano runs share the project's .meltano/ (plugin venvs, `meltano install`): one xdist worker
# runs every test of the group "meltano" (scripts/test.sh runs pytest with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("meltano")

ROOT = Path(__file__).resolve().parents[3]
MELTANO = [str(ROOT / ".venv" / "bin" / "meltano")]
SUFFIX = " (synced)"


def test_meltano_exactonline_round_trip_renames_every_account_once(tmp_path):
    eo = start_sandbox(seed=61, sizes={"crm/Accounts": 25})
    try:
        store = tmp_path / "tokens.json"
        write_store(store, eo.issue_tokens())
        connection = {"BASE_URL": eo.url, "CLIENT_ID": DEFAULT_CLIENT_ID,
                      "CLIENT_SECRET": DEFAULT_CLIENT_SECRET, "TOKEN_STORE": str(store)}
        env = {**os.environ, **own_meltano(tmp_path),
               **{f"TAP_EXACTONLINE_{k}": v for k, v in connection.items()},
               **{f"TARGET_EXACTONLINE_{k}": v for k, v in connection.items()},
               "TARGET_EXACTONLINE_RESULTS_PATH": str(tmp_path / "results.jsonl"),
               "TARGET_EXACTONLINE_REJECTS_PATH": str(tmp_path / "rejects.jsonl")}
        subprocess.run([*MELTANO, "install"], cwd=ROOT, env=env, check=True, capture_output=True,
                       timeout=600)
        names = {eo.key_of("crm/Accounts", i): eo.get("crm/Accounts", eo.key_of("crm/Accounts", i))
                 for i in range(1, 26)}
        proc = subprocess.run([*MELTANO, "run", "exactonline-round-trip"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-5000:]
        for key, before in names.items():
            after = eo.get("crm/Accounts", key)
            assert after["Name"] == before["Name"] + SUFFIX
            assert after["City"] == before["City"]  # only the name was sent
        results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
        puts = [r for r in results if r.get("method") == "PUT"]
        assert len(puts) == 25 and not (tmp_path / "rejects.jsonl").read_text().strip()

        # The rerun reads the 25 renamed accounts again (each PUT bumped its Timestamp) and the
        # stream map's filter drops them: nothing is written, no name gets a second suffix.
        eo.reset_stats()
        again = subprocess.run([*MELTANO, "run", "exactonline-round-trip"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr[-5000:]
        assert [e for e in eo.request_log() if e["method"] != "GET"] == []
        assert all(not eo.get("crm/Accounts", k)["Name"].endswith(SUFFIX * 2) for k in names)

        # Without the filter (and a map that marks a name once), from scratch: all 25 accounts
        # reach the target again, each already named as the record says. Each is looked up and
        # none is written (each no-op PUT would spend a request of Exact's daily budget).
        eo.reset_stats()
        unfiltered = {**env,
                      "TAP_EXACTONLINE__ACCOUNTS_STREAM_MAPS_CRM_ACCOUNTS___FILTER__": "True",
                      "TAP_EXACTONLINE__ACCOUNTS_STREAM_MAPS_CRM_ACCOUNTS_NAME":
                      f"Name if Name.endswith('{SUFFIX}') else Name + '{SUFFIX}'"}
        full = subprocess.run([*MELTANO, "run", "--full-refresh", "exactonline-round-trip"],
                              cwd=ROOT, env=unfiltered, capture_output=True, text=True, timeout=300)
        assert full.returncode == 0, full.stderr[-5000:]
        assert [e for e in eo.request_log() if e["method"] != "GET"] == []
        lookups = [e for e in eo.request_log() if "/crm/Accounts" in e["path"]]
        assert len(lookups) == 25 and all("$select=ID,Name" in unquote(e["query"]) for e in lookups)
        results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
        skipped = [r for r in results if r.get("skipped")]
        assert len(skipped) == 25 and {r["skipped"] for r in skipped} == {"unchanged"}
        assert {r["remote_id"] for r in skipped} == set(names)
        assert all(eo.get("crm/Accounts", k)["Name"] == names[k]["Name"] + SUFFIX for k in names)
    finally:
        eo.stop()
