"""A refusal after the site has answered is transient: the tap retries it and reads every row.

Only the first request of a run treats a refused connection as a wrong setting (see
tests/test_plugin_errors.py); here the sandbox goes away after the first page and comes back on the
same port, as a service does when it restarts.
"""

from __future__ import annotations

import threading
import time

from tests.connectwise.tap.helpers import run_tap, start_sandbox, tap_config


def test_a_refusal_mid_run_is_retried_until_the_site_is_back():
    sandbox = start_sandbox(sizes={"/service/tickets": 600})
    sandbox.faults.latency(0.2)  # time to take the site down between two pages
    config = tap_config(sandbox, page_size=100)
    outcome: dict = {}
    tap = threading.Thread(target=lambda: outcome.update(
        run=run_tap(config, streams=["service_tickets"], check=False)))
    try:
        tap.start()
        deadline = time.monotonic() + 60
        while not any(r["path"].endswith("/service/tickets") and r["status"] == 200
                      for r in sandbox.request_log()):
            assert time.monotonic() < deadline, "the tap never read a page"
            time.sleep(0.01)
        sandbox.faults.drop(count=1)  # the kept-alive connection is cut on its next request...
        sandbox.stop()                # ...and a new one is refused until the site is back
        time.sleep(2)
        sandbox.start()
        tap.join(timeout=240)
    finally:
        sandbox.stop()
    run = outcome["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    ids = run.ids("service_tickets")
    assert len(ids) == 600 == len(set(ids))
    assert "failed (ConnectionError: connection refused); retrying in" in run.stderr
    assert "Cannot connect" not in run.stderr
