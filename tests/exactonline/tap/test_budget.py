"""tap-exactonline: a spent daily budget stops the run cleanly; deletions mark their entity's rows."""

from __future__ import annotations

import logging
import time

import pytest

from exactonline_client.connection import DivisionLimiter
from tests.exactonline.tap.helpers import data_requests, run_tap, start_sandbox, tap_config, write_store


@pytest.fixture
def eo():
    sandbox = start_sandbox(seed=23, sizes={"crm/Accounts": 2500, "logistics/Items": 1200})
    yield sandbox
    sandbox.stop()


@pytest.fixture
def config(eo, tmp_path):
    store = tmp_path / "tokens.json"
    write_store(store, eo.issue_tokens())
    return tap_config(eo, store, divisions=[100001], daily_budget_max_wait=5)


def test_exactonline_tap_spent_daily_budget_stops_cleanly_with_state_saved(eo, config):
    eo.set_limits(daily=2)
    first = run_tap(config, ["crm_accounts", "logistics_items"])
    assert first.returncode == 0
    rows = first.records["crm_accounts"]
    assert len(rows) == 2000  # two pages of 1,000: the budget Exact announced, no request more
    assert "logistics_items" not in first.records
    assert all(r["status"] == 200 for r in eo.request_log())  # no 429: the headers said stop
    assert eo.stats()["exactonline"]["rate_limited_daily"] == 0
    assert "daily budget of division 100001 is spent" in first.stderr
    assert "crm_accounts (100001, partly read)" in first.stderr
    assert "logistics_items (100001)" in first.stderr
    bookmark = first.final_state["bookmarks"]["crm_accounts"]["partitions"][0]
    assert bookmark["replication_key_value"] == max(r["Timestamp"] for r in rows)

    eo.set_limits(daily=5000)  # the next day
    eo.reset_limits()
    second = run_tap(config, ["crm_accounts", "logistics_items"], state=first.final_state)
    rest = second.records["crm_accounts"]
    assert len(rest) == 500
    assert len({r["ID"] for r in rows + rest}) == 2500  # every row once over the two runs
    assert len(second.records["logistics_items"]) == 1200
    assert "daily budget" not in second.stderr


def test_exactonline_tap_deletions_mark_the_entity_rows(eo, config):
    first = run_tap(config, ["crm_accounts", "logistics_items", "deleted"])
    assert "_sdc_deleted_at" in first.schemas["crm_accounts"]["schema"]["properties"]
    gone_accounts = [eo.key_of("crm/Accounts", i) for i in (5, 2400)]
    gone_item = eo.key_of("logistics/Items", 7)
    for key in gone_accounts:
        eo.delete("crm/Accounts", key)
    eo.delete("logistics/Items", gone_item)
    eo.reset_stats()
    second = run_tap(config, ["crm_accounts", "logistics_items", "deleted"], state=first.final_state)
    assert len(second.records["deleted"]) == 3
    marks = second.records["crm_accounts"]
    assert sorted(m["ID"] for m in marks) == sorted(gone_accounts)
    assert all(m["_sdc_deleted_at"] and m["Division"] == 100001 for m in marks)
    assert [m["ID"] for m in second.records["logistics_items"]] == [gone_item]
    # sync/Deleted runs last, so each mark follows its stream's SCHEMA (logistics_items sorts after
    # deleted by name, which is the order singer-sdk would otherwise sync them in).
    lines = second.stdout.splitlines()
    items_schema = min(i for i, line in enumerate(lines) if '"SCHEMA"' in line and
                       '"stream":"logistics_items"' in line.replace(" ", ""))
    first_deleted = min(i for i, line in enumerate(lines) if '"stream":"deleted"' in line.replace(" ", ""))
    assert items_schema < first_deleted
    # The marks cost no request and leave the entity streams' bookmarks alone.
    assert len(data_requests(eo, "/sync/Deleted")) == 1
    for stream in ("crm_accounts", "logistics_items"):
        assert second.final_state["bookmarks"][stream] == first.final_state["bookmarks"][stream]
    # Without its entity stream selected, sync/Deleted marks nothing.
    third = run_tap(config, ["deleted"], state=first.final_state)
    assert set(third.records) == {"deleted"}


def test_division_limiter_budget_left_names_each_known_budget():
    """The progress lines' budget_left for a division: its minutely and daily room, as known."""
    limiter = DivisionLimiter(100001, 60, logging.getLogger("test"))
    assert limiter.budget_left() == "minutely:60"  # the published 60 a minute; daily unknown
    limiter.acquire()
    assert limiter.budget_left() in ("minutely:59", "minutely:60")  # 60 if a minute just began
    limiter.daily.observe(4980, time.time() + 3600, 5000)
    assert limiter.budget_left().endswith(",daily:4980")
