"""Faults: 429 waited out, 5xx and dropped connections retried, 401 fails fast; no secret leaks."""

from __future__ import annotations

import base64
import time

import pytest

from tests.connectwise.tap.helpers import COMPANY_ID, PUBLIC_KEY, SECRETS, run_tap, start_sandbox, tap_config


@pytest.fixture
def sandbox():
    sandbox = start_sandbox(sizes={"/service/tickets": 2500})
    yield sandbox
    sandbox.stop()


def data_requests(sandbox) -> list[dict]:
    return [r for r in sandbox.request_log() if r["path"].endswith("/service/tickets")]


def assert_no_secret(*texts: str) -> None:
    private_key, client_id = SECRETS
    token = base64.b64encode(f"{COMPANY_ID}+{PUBLIC_KEY}:{private_key}".encode()).decode()
    for text in texts:
        for secret in (*SECRETS, token):
            assert secret not in text


def test_429_retry_after_is_waited_out(sandbox):
    sandbox.rate_limit(requests=1, per_seconds=2, retry_after_format="seconds")

    run = run_tap(tap_config(sandbox), streams=["service_tickets"])

    assert len(run.ids("service_tickets")) == 2500
    log = data_requests(sandbox)
    statuses = [r["status"] for r in log]
    assert 429 in statuses and statuses[-1] == 200
    # Each retry came no earlier than the Retry-After the 429 asked for.
    for limited, retry in zip(log, log[1:]):
        if limited["status"] == 429:
            waited = retry["received_at"] - limited["received_at"]
            assert waited >= int(limited["retry_after"]) - 0.05
    assert "retrying in" in run.stderr


def test_http_date_retry_after(sandbox):
    sandbox.rate_limit(requests=1, per_seconds=2, retry_after_format="http-date")

    run = run_tap(tap_config(sandbox), streams=["service_tickets"])

    assert len(run.ids("service_tickets")) == 2500


def test_proactive_limiter_avoids_429(sandbox):
    """The tap waits before the budget is spent: zero 429s. Takes a minute (the budget's window)."""
    sandbox.rate_limit(requests=6, per_seconds=60)
    # 500-row pages: 2500 rows are 5 full pages plus the empty terminal one, and the codebase
    # lookup: 7 requests against a tap budget of 5 a minute, so the tap must wait once.
    started = time.monotonic()
    run = run_tap(tap_config(sandbox, requests_per_minute=5, page_size=500),
                  streams=["service_tickets"])

    assert len(run.ids("service_tickets")) == 2500
    assert sandbox.stats()["rate_limited"] == 0
    assert len(data_requests(sandbox)) == 6
    assert time.monotonic() - started >= 59


def test_burst_of_5xx_is_retried(sandbox):
    sandbox.faults.add(status=503, count=3, path_prefix="/service/tickets")

    run = run_tap(tap_config(sandbox), streams=["service_tickets"])

    assert len(run.ids("service_tickets")) == 2500
    assert [r["status"] for r in data_requests(sandbox)][:4] == [503, 503, 503, 200]


def test_dropped_connection_is_retried(sandbox):
    sandbox.faults.drop(count=2)

    run = run_tap(tap_config(sandbox), streams=["service_tickets"])

    assert len(run.ids("service_tickets")) == 2500
    assert sandbox.stats()["dropped"] == 2


def test_permanent_401_fails_fast_naming_the_settings(sandbox):
    config = tap_config(sandbox, private_key="wrong-private-key-b2d9")
    started = time.monotonic()

    run = run_tap(config, streams=["service_tickets"], check=False)

    assert run.returncode != 0
    assert time.monotonic() - started < 15
    assert len(data_requests(sandbox)) == 1  # not retried
    assert "401" in run.stderr and "`private_key`" in run.stderr and "`public_key`" in run.stderr
    assert "wrong-private-key-b2d9" not in run.stderr + run.stdout
    assert_no_secret(run.stdout, run.stderr)


def test_missing_client_id_is_explained(sandbox):
    config = tap_config(sandbox, client_id="not-a-registered-client")

    run = run_tap(config, streams=["service_tickets"], check=False)

    assert run.returncode != 0
    assert "`client_id`" in run.stderr
    assert "not-a-registered-client" not in run.stderr + run.stdout


def test_retries_exhausted_error_is_clear(sandbox):
    sandbox.faults.add(status=500, count=50)

    run = run_tap(tap_config(sandbox, max_retries=2), streams=["service_tickets"], check=False)

    assert run.returncode != 0
    assert "failed after 2 attempts" in run.stderr
    assert "/service/tickets" in run.stderr
    assert not run.states


def test_no_secret_anywhere(sandbox):
    sandbox.faults.add(status=503, count=1)
    streams = ["service_tickets", "service_tickets_notes", "company_companies"]
    sandbox.set_size("/service/tickets", 30)

    run = run_tap(tap_config(sandbox), streams=streams)

    assert run.records["service_tickets_notes"]
    assert_no_secret(run.stdout, run.stderr, str(run.states))

