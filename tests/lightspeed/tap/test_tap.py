"""tap-lightspeed against the Lightspeed (retail POS) emulator: pages, incremental runs, custom streams, retries,
errors that name the setting, secrets kept out of the output; plus singer-sdk's standard tap tests.

TODO(lightspeed): scaffolded by ``scripts/dev/new_vendor.py``; these tests hold for the scaffold's
made-up API. Rewrite them for Lightspeed (retail POS)'s contract
(``shared/vendors/superoffice-lightspeed-saleslayer.md``) as the tap learns it.
"""

from __future__ import annotations

import atexit

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_lightspeed.tap import TapLightspeed
from tests.lightspeed.tap.helpers import API_KEY, TAP, run_tap, start_sandbox, tap_config
from tests.tap_runner import run_tap_process


@pytest.fixture
def sandbox():
    sandbox = start_sandbox(sizes={"/items": 230})
    yield sandbox
    sandbox.stop()


def test_a_run_reads_every_row_in_full_pages(sandbox):
    run = run_tap(tap_config(sandbox))
    assert run.ids("items") == list(range(1, 231))
    pages = [e for e in sandbox.request_log() if e["path"].endswith("/items")]
    assert len(pages) == 3  # 100 + 100 + 30: the largest page the API serves
    assert all("per_page=100" in e["query"] for e in pages)
    assert run.final_state["bookmarks"]["items"]["replication_key_value"] == max(
        r["updated_at"] for r in run.records["items"])


def test_the_next_run_reads_only_what_changed(sandbox):
    first = run_tap(tap_config(sandbox))
    sandbox.clock.advance(3600)
    sandbox.touch("/items", [5, 17])
    second = run_tap(tap_config(sandbox), state=first.final_state)
    # The changed rows, and the row at the bookmark itself: the filter is inclusive, so a row
    # changed in the bookmark's second after the first run read it is not lost.
    assert second.ids("items") == [5, 17, 230]
    assert [r["name"].endswith(" *") for r in second.records["items"]] == [True, True, False]


def test_start_date_limits_the_first_run(sandbox):
    row_100 = sandbox.get("/items", 100)
    run = run_tap(tap_config(sandbox, start_date=row_100["updated_at"]))
    assert run.ids("items") == list(range(100, 231))  # inclusive


def test_a_custom_stream_reads_a_declared_endpoint(sandbox):
    config = tap_config(sandbox, custom_streams=[
        {"name": "item_3", "endpoint": "/items/{id}", "path": {"id": 3}, "paginate": False},
        {"name": "archived", "endpoint": "/items", "query": {"status": "archived"}},
    ])
    run = run_tap(config, streams=["item_3", "archived"])
    assert run.ids("item_3") == [3]
    archived = run.records["archived"]
    assert archived and all(r["status"] == "archived" for r in archived)
    assert len(archived) == sandbox.store.listing("/items", {"status": "archived"}, None).count()


def test_a_custom_stream_outside_the_catalog_needs_a_schema(sandbox):
    config = tap_config(sandbox, custom_streams=[{"name": "things", "endpoint": "/things"}])
    run = run_tap_process([*TAP, "--discover"], config, check=False)
    assert run.returncode != 0
    assert "custom_streams[0].endpoint '/things' is not a GET endpoint" in run.stderr


def test_429_and_5xx_are_retried(sandbox):
    sandbox.faults.add(status=429, count=1, headers={"Retry-After": "1"})
    sandbox.faults.add(status=503, count=1)
    run = run_tap(tap_config(sandbox))
    assert run.ids("items") == list(range(1, 231))
    assert sandbox.stats()["faults_injected"] == 2


def test_a_wrong_api_key_is_one_line_naming_the_setting(sandbox):
    run = run_tap(tap_config(sandbox, api_key="wrong-key-0000"), check=False)
    assert run.returncode != 0
    assert "401" in run.stderr and "`api_key`" in run.stderr
    assert "wrong-key-0000" not in run.stderr + run.stdout


def test_a_bad_base_url_is_a_config_error_naming_it(sandbox):
    run = run_tap_process(TAP, {**tap_config(sandbox), "base_url": "api.example.com"}, check=False)
    assert run.returncode != 0
    assert "base_url must be an http(s) URL" in run.stderr
    assert run.record_count == 0


def test_the_api_key_never_appears_in_the_output(sandbox):
    run = run_tap(tap_config(sandbox))
    assert API_KEY not in run.stdout + run.stderr


SANDBOX = start_sandbox(sizes={"/items": 40})
atexit.register(SANDBOX.stop)

TestTapLightspeed = get_tap_test_class(TapLightspeed, config=tap_config(SANDBOX),
                                       suite_config=SuiteConfig(max_records_limit=100))
