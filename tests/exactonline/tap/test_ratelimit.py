"""tap-exactonline under Exact's minutely budget: no row lost or doubled through waits and 429s."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from tests.exactonline.tap.helpers import data_requests, run_tap, start_sandbox, tap_config, write_store


@pytest.mark.parametrize("headers_on_429", ["hit", "none"])
def test_exactonline_tap_minutely_budget_waits_or_retries_429(tmp_path, headers_on_429):
    eo = start_sandbox(seed=5, sizes={"crm/Accounts": 1500})
    try:
        store = tmp_path / "tokens.json"
        write_store(store, eo.issue_tokens())
        # The sandbox minute ends 6 s from now, so the budget renews within the test. Its clock
        # may lag real time by up to a minute: the tap then either waits for the announced
        # reset (epoch ms) or, when that reset already passed in real time, gets a 429 (no
        # Retry-After, empty body) and retries until the sandbox minute rolls over.
        real = time.time()
        eo.clock.set(datetime.fromtimestamp(real - ((real - 54) % 60), timezone.utc))
        eo.set_limits(minutely=1, empty_429_body=True, headers_on_429=headers_on_429)
        started = time.monotonic()
        run = run_tap(tap_config(eo, store, divisions=[100001]), ["crm_accounts"], timeout=90)
        rows = run.records["crm_accounts"]
        assert len(rows) == 1500 and len({r["ID"] for r in rows}) == 1500
        pages = data_requests(eo, "/sync/CRM/Accounts")
        ok = [r for r in pages if r["status"] == 200]
        limited = [r for r in pages if r["status"] == 429]
        assert len(ok) == 2
        assert len(limited) == eo.stats()["exactonline"]["rate_limited_minutely"]
        assert time.monotonic() - started < 60
        assert "Traceback" not in run.stderr
    finally:
        eo.stop()
