"""Exact's rotating refresh tokens across processes, against the emulator's token endpoint.

Exact invalidates a refresh token once its successor is used, and a reused one kills the chain
(401 "Old refresh token used"): processes sharing one token store must refresh once between
them, and a process that dies right after a refresh must leave the new token in the store.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.exactonline.tap.helpers import TAP, catalog_selecting, start_sandbox, tap_config, write_json, write_store
from tests.exactonline.target.helpers import TARGET, record, schema


def test_exactonline_tap_and_target_refreshing_at_once_refresh_once(tmp_path):
    eo = start_sandbox(seed=51, sizes={"crm/Accounts": 40})
    try:
        store = tmp_path / "tokens.json"
        write_store(store, eo.issue_tokens(), age=600)
        eo.clock.advance(600)  # expired for both processes, and old enough to refresh
        config = tap_config(eo, store, divisions=[100001],
                            results_path=str(tmp_path / "results.jsonl"),
                            rejects_path=str(tmp_path / "rejects.jsonl"),
                            mappings={"new": {"entity": "/crm/Accounts", "method": "POST"}})
        config_path = write_json(str(tmp_path), "config.json", config)
        catalog_path = write_json(str(tmp_path), "catalog.json", catalog_selecting(["crm_accounts"]))
        messages = "".join(json.dumps(m) + "\n" for m in
                           [schema("new"), *[record("new", {"Name": f"N{i}"}) for i in range(3)]])
        taps = [subprocess.Popen([*TAP, "--config", config_path, "--catalog", catalog_path],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        target = subprocess.Popen([*TARGET, "--config", config_path], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        target_out, target_err = target.communicate(messages, timeout=120)
        outputs = [p.communicate(timeout=120) for p in taps]
        assert target.returncode == 0, target_err
        for proc, (out, err) in zip(taps, outputs):
            assert proc.returncode == 0, err
            # 40 accounts, plus those the target created before the tap's read came by.
            assert 40 <= sum(1 for line in out.splitlines() if '"RECORD"' in line) <= 43
        stats = eo.stats()["exactonline"]
        assert stats["refreshes"] == 1  # one refresh for three processes; all went on
        assert eo.count("crm/Accounts", 100001) == 43
        assert all(e["status"] in (200, 201) for e in eo.request_log())
    finally:
        eo.stop()


CRASH_AFTER_REFRESH = textwrap.dedent("""
    import json, logging, os, sys
    from exactonline_client import ExactOnlineConnection
    config = json.load(open(sys.argv[1]))
    connection = ExactOnlineConnection(config, logging.getLogger("crash"), "crash-test")
    connection.refresher.access_token(force=True)  # the refresh, written to the store
    os._exit(17)  # dies before its next request
""")


def test_exactonline_crash_right_after_a_refresh_keeps_the_chain(tmp_path):
    eo = start_sandbox(seed=52, sizes={"crm/Accounts": 10})
    try:
        store = tmp_path / "tokens.json"
        first = eo.issue_tokens()
        write_store(store, first, age=600)
        eo.clock.advance(600)
        config = tap_config(eo, store, divisions=[100001])
        config_path = write_json(str(tmp_path), "config.json", config)
        crashed = subprocess.run([sys.executable, "-c", CRASH_AFTER_REFRESH, config_path],
                                 capture_output=True, text=True, timeout=60)
        assert crashed.returncode == 17, crashed.stderr
        assert eo.stats()["exactonline"]["refreshes"] == 1
        stored = json.loads(store.read_text())
        assert stored["refresh_token"] != first["refresh_token"]  # the successor, stored

        # Ten minutes later the stored access token has expired: the next process refreshes
        # with the successor the crashed one stored.
        eo.clock.advance(600)
        store.write_text(json.dumps({**stored, "obtained_at": stored["obtained_at"] - 600,
                                     "expires_at": stored["obtained_at"]}))
        proc = subprocess.run([*TAP, "--config", config_path, "--catalog", write_json(
            str(tmp_path), "catalog.json", catalog_selecting(["crm_accounts"]))],
            capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert sum(1 for line in proc.stdout.splitlines() if '"RECORD"' in line) == 10
        stats = eo.stats()["exactonline"]
        assert stats["refreshes"] == 2 and "Old refresh token" not in proc.stderr
    finally:
        eo.stop()
