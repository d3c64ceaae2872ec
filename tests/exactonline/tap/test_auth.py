"""tap-exactonline's OAuth: refresh through the token store, dead chains, no secret in the output."""

from __future__ import annotations

import json
import time

import pytest

from exactonline_client import DivisionLimiter, parse_exact_date
from tests.exactonline.tap.helpers import (
    DEFAULT_CLIENT_SECRET,
    run_tap,
    start_sandbox,
    tap_config,
    write_store,
)


@pytest.fixture
def eo():
    sandbox = start_sandbox(seed=3, sizes={"crm/Accounts": 40})
    yield sandbox
    sandbox.stop()


def assert_no_secret(run, *secrets: str) -> None:
    state = json.dumps(run.states)
    for secret in (DEFAULT_CLIENT_SECRET, *secrets):
        assert secret not in run.stdout
        assert secret not in run.stderr
        assert secret not in state


def test_exactonline_tap_refreshes_expired_token_once_and_rotates_store(eo, tmp_path):
    tokens = eo.issue_tokens()
    eo.clock.advance(600)  # the access token expired on Exact's side; a refresh is allowed
    store = tmp_path / "tokens.json"
    write_store(store, tokens, age=600)
    run = run_tap(tap_config(eo, store), ["crm_accounts"])
    assert len(run.records["crm_accounts"]) == 40
    assert eo.stats()["exactonline"]["refreshes"] == 1
    stored = json.loads(store.read_text())
    assert stored["refresh_token"] != tokens["refresh_token"]
    assert stored["access_token"] != tokens["access_token"]
    assert stored["expires_at"] > time.time() + 500
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    assert_no_secret(run, tokens["refresh_token"], tokens["access_token"],
                     stored["refresh_token"], stored["access_token"])

    # A second run uses the stored (fresh) token: no further refresh.
    again = run_tap(tap_config(eo, store), ["crm_accounts"])
    assert len(again.records["crm_accounts"]) == 40
    assert eo.stats()["exactonline"]["refreshes"] == 1


def test_exactonline_tap_seeds_store_from_refresh_token_setting(eo, tmp_path):
    tokens = eo.issue_tokens()
    eo.clock.advance(600)
    store = tmp_path / "sub" / "tokens.json"
    config = tap_config(eo, store, refresh_token=tokens["refresh_token"])
    run = run_tap(config, ["crm_accounts"])
    assert len(run.records["crm_accounts"]) == 40
    stored = json.loads(store.read_text())
    assert stored["refresh_token"] != tokens["refresh_token"]
    assert eo.stats()["exactonline"]["refreshes"] == 1
    # The store wins over the (now dead) refresh_token setting on the next run.
    again = run_tap(config, ["crm_accounts"])
    assert len(again.records["crm_accounts"]) == 40
    assert eo.stats()["exactonline"]["old_refresh_token"] == 0
    assert_no_secret(run, tokens["refresh_token"], stored["refresh_token"], stored["access_token"])


def test_exactonline_tap_dead_chain_names_authorize_command(eo, tmp_path):
    old = eo.issue_tokens()
    eo.issue_tokens()  # a new consent elsewhere revokes the first chain
    eo.clock.advance(600)
    store = tmp_path / "tokens.json"
    write_store(store, old, age=600)
    run = run_tap(tap_config(eo, store), ["crm_accounts"], check=False)
    assert run.returncode != 0
    assert "crm_accounts" not in run.records
    assert "tap-exactonline authorize --config" in run.stderr
    assert_no_secret(run, old["refresh_token"], old["access_token"])


def test_exactonline_tap_without_tokens_says_how_to_grant_access(eo, tmp_path):
    run = run_tap(tap_config(eo, tmp_path / "missing.json"), ["crm_accounts"], check=False)
    assert run.returncode != 0
    assert "tap-exactonline authorize --config" in run.stderr


def _response(headers: dict):
    import requests

    response = requests.Response()
    response.status_code = 200
    response.headers.update(headers)
    return response


def test_exactonline_tap_limiter_reads_millisecond_resets():
    limiter = DivisionLimiter(100001, 60, __import__("logging").getLogger("test"))
    reset_ms = int((time.time() + 1.5) * 1000)
    limiter.observe_response(_response({
        "X-RateLimit-Minutely-Limit": "60", "X-RateLimit-Minutely-Remaining": "0",
        "X-RateLimit-Minutely-Reset": str(reset_ms),
        "X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4000",
        "X-RateLimit-Reset": str(int((time.time() + 86000) * 1000)),
    }))
    started = time.monotonic()
    waited = limiter.acquire()
    assert 1.0 <= time.monotonic() - started < 3.0  # milliseconds read as ms, not seconds
    assert waited > 0
    assert limiter.daily.server_limit == 5000 and limiter.minutely.server_limit == 60


def test_exactonline_tap_exact_dates_are_cet_wall_clock():
    from zoneinfo import ZoneInfo

    # 2024-01-15 12:00 written by Exact (CET, UTC+1) is 11:00 UTC; in July (CEST) 10:00 UTC.
    winter = "/Date(1705320000000)/"
    summer = "/Date(1721044800000)/"
    tz = ZoneInfo("Europe/Amsterdam")
    assert parse_exact_date(winter, tz) == "2024-01-15T11:00:00+00:00"
    assert parse_exact_date(summer, tz) == "2024-07-15T10:00:00+00:00"
    assert parse_exact_date(winter, None) == "2024-01-15T12:00:00+00:00"


def test_exactonline_tap_authorize_subcommand_writes_store(eo, tmp_path):
    import socket
    import subprocess

    import requests

    from tests.exactonline.tap.helpers import TAP, write_json

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = tmp_path / "tokens.json"
    config = tap_config(eo, store, redirect_uri=f"http://127.0.0.1:{port}/callback")
    proc = subprocess.Popen([*TAP, "authorize", "--config", write_json(str(tmp_path), "c.json", config),
                             "--timeout", "30"], stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for line in proc.stderr:
            if line.strip().startswith("http"):
                url = line.strip()
                break
        assert url and url.startswith(eo.url + "/api/oauth2/auth?")
        # The "browser": the sandbox consents at once and redirects to the loopback server.
        assert requests.get(url, timeout=10).status_code == 200
        rest = proc.stderr.read()
        assert proc.wait(timeout=30) == 0, rest
    finally:
        if proc.poll() is None:
            proc.kill()
    stored = json.loads(store.read_text())
    assert stored["refresh_token"] and stored["access_token"]
    assert stored["refresh_token"] not in rest and stored["access_token"] not in rest
    # The tap runs on the stored tokens without any refresh.
    run = run_tap(tap_config(eo, store), ["crm_accounts"])
    assert len(run.records["crm_accounts"]) == 40
    assert eo.stats()["exactonline"]["refreshes"] == 0


def test_exactonline_tap_short_lived_token_is_refreshed_without_waiting(tmp_path):
    """A token endpoint that states a 60 s lifetime: an expired token is refreshed at once (Exact
    refuses a refresh only before a token's last 30 s), not after a constant 570 s."""
    # The emulator refuses a refresh before the token's last 30 s: 30 s for a 60 s token.
    sandbox = start_sandbox(seed=3, sizes={"crm/Accounts": 40}, access_token_ttl=60)
    try:
        tokens = sandbox.issue_tokens()
        assert tokens["expires_in"] == "60"
        sandbox.clock.advance(61)
        store = tmp_path / "tokens.json"
        write_store(store, tokens, age=61)
        run = run_tap(tap_config(sandbox, store), ["crm_accounts"])
        assert len(run.records["crm_accounts"]) == 40
        assert "until the vendor allows a refresh" not in run.stderr
        counters = sandbox.stats()["exactonline"]
        assert counters["refreshes"] == 1 and counters["too_early"] == 0
        assert json.loads(store.read_text())["expires_in"] == 60
    finally:
        sandbox.stop()
