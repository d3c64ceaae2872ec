"""Exact's rotating refresh tokens across processes, against the emulator's token endpoint.

Exact invalidates a refresh token once its successor is used, and a reused one kills the chain
(401 "Old refresh token used"): processes sharing one token store must refresh once between
them, and a process that dies right after a refresh must leave the new token in the store.
Both tests run with the token store in a file and in PostgreSQL (``token_store_url``): the
PostgreSQL store is what runs on several machines share.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from connector_core.oauth.store import TokenStorage, open_token_store
from tests.exactonline.tap.helpers import TAP, catalog_selecting, start_sandbox, tap_config, write_json, write_store
from tests.exactonline.target.helpers import TARGET, record, schema


@pytest.fixture(params=["file", "postgres"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """``token_store`` (and ``token_store_url``) of a file store or of a row in PostgreSQL."""
    if request.param == "file":
        return {"token_store": str(tmp_path / "tokens.json")}
    server = request.getfixturevalue("postgres")
    return {"token_store": "exact-" + secrets.token_hex(4),
            "token_store_url": server.create_database("tokens_" + secrets.token_hex(4))}


def seed_store(settings: dict[str, str], tokens: dict, *, age: float) -> TokenStorage:
    """The store as `authorize` leaves it (tokens obtained ``age`` seconds ago), in either backend."""
    if "token_store_url" not in settings:
        write_store(Path(settings["token_store"]), tokens, age=age)
        return open_token_store(settings)
    store = open_token_store(settings)
    now = time.time() - age
    store.write({"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
                 "expires_at": now + int(tokens["expires_in"]), "obtained_at": now})
    return store


def test_exactonline_tap_and_target_refreshing_at_once_refresh_once(tmp_path, store_settings):
    eo = start_sandbox(seed=51, sizes={"crm/Accounts": 40})
    try:
        seed_store(store_settings, eo.issue_tokens(), age=600)
        eo.clock.advance(600)  # expired for both processes, and old enough to refresh
        config = tap_config(eo, store_settings["token_store"], **store_settings, divisions=[100001],
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


def test_exactonline_crash_right_after_a_refresh_keeps_the_chain(tmp_path, store_settings):
    eo = start_sandbox(seed=52, sizes={"crm/Accounts": 10})
    try:
        first = eo.issue_tokens()
        store = seed_store(store_settings, first, age=600)
        eo.clock.advance(600)
        config = tap_config(eo, store_settings["token_store"], **store_settings, divisions=[100001])
        config_path = write_json(str(tmp_path), "config.json", config)
        crashed = subprocess.run([sys.executable, "-c", CRASH_AFTER_REFRESH, config_path],
                                 capture_output=True, text=True, timeout=60)
        assert crashed.returncode == 17, crashed.stderr
        assert eo.stats()["exactonline"]["refreshes"] == 1
        stored = store.read().to_json()
        assert stored["refresh_token"] != first["refresh_token"]  # the successor, stored

        # Ten minutes later the stored access token has expired: the next process refreshes
        # with the successor the crashed one stored.
        eo.clock.advance(600)
        store.write({**stored, "obtained_at": stored["obtained_at"] - 600,
                     "expires_at": stored["obtained_at"]})
        proc = subprocess.run([*TAP, "--config", config_path, "--catalog", write_json(
            str(tmp_path), "catalog.json", catalog_selecting(["crm_accounts"]))],
            capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert sum(1 for line in proc.stdout.splitlines() if '"RECORD"' in line) == 10
        stats = eo.stats()["exactonline"]
        assert stats["refreshes"] == 2 and "Old refresh token" not in proc.stderr
    finally:
        eo.stop()
