"""tap-exactonline against the Exact Online sandbox: sync, incremental, regular pages, divisions."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from tests.exactonline.tap.helpers import data_requests, run_tap, start_sandbox, tap_config, write_store


@pytest.fixture
def eo():
    sandbox = start_sandbox(seed=7, sizes={"crm/Accounts": 2500, "activities/Tasks": 150,
                                         "cashflow/Receivables": 1200})
    yield sandbox
    sandbox.stop()


@pytest.fixture
def config(eo, tmp_path):
    store = tmp_path / "tokens.json"
    write_store(store, eo.issue_tokens())
    return tap_config(eo, store)


def test_exactonline_tap_sync_pages_every_row_once(eo, config):
    run = run_tap(config, ["crm_accounts"])
    rows = run.records["crm_accounts"]
    assert len(rows) == 2500
    assert len({r["ID"] for r in rows}) == 2500
    pages = data_requests(eo, "/sync/CRM/Accounts")
    # Exact's last page (500 rows) carries no __next, so no terminal request.
    assert len(pages) == math.ceil(2500 / 1000)
    assert all(r["status"] == 200 for r in pages)
    assert "Timestamp gt 0L" in pages[0]["query"].replace("%20", " ")
    assert "$select=" in pages[0]["query"]
    assert all(r["headers"]["Accept"] == "application/json" for r in pages)
    assert {r["Division"] for r in rows} == {100001}
    # /Date(ms)/ became UTC ISO timestamps.
    assert datetime.fromisoformat(rows[0]["Modified"]).utcoffset().total_seconds() == 0
    schema = run.schemas["crm_accounts"]
    assert schema["key_properties"] == ["Division", "ID"]
    assert schema["bookmark_properties"] == ["Timestamp"]


def test_exactonline_tap_incremental_by_timestamp(eo, config):
    first = run_tap(config, ["crm_accounts"])
    assert len(first.records["crm_accounts"]) == 2500
    bookmark = first.final_state["bookmarks"]["crm_accounts"]["partitions"][0]
    assert bookmark["context"] == {"Division": 100001}
    assert bookmark["replication_key_value"] == max(r["Timestamp"] for r in first.records["crm_accounts"])

    changed = [eo.key_of("crm/Accounts", i) for i in (3, 1700, 2500)]
    eo.touch("crm/Accounts", changed)
    eo.reset_stats()
    second = run_tap(config, ["crm_accounts"], state=first.final_state)
    assert sorted(r["ID"] for r in second.records["crm_accounts"]) == sorted(changed)
    pages = data_requests(eo, "/sync/CRM/Accounts")
    assert len(pages) == 1
    assert f"Timestamp gt {bookmark['replication_key_value']}L" in pages[0]["query"].replace("%20", " ")

    third = run_tap(config, ["crm_accounts"], state=second.final_state)
    assert third.records.get("crm_accounts", []) == []


def test_exactonline_tap_regular_endpoint_60_row_pages(eo, config):
    run = run_tap(config, ["activities_tasks"])
    rows = run.records["activities_tasks"]
    assert len(rows) == 150
    assert len({r["ID"] for r in rows}) == 150
    pages = data_requests(eo, "/activities/Tasks")
    assert len(pages) == math.ceil(150 / 60)
    query = pages[0]["query"].replace("%20", " ")
    assert "Modified ge datetime'" in query and "$orderby=Modified" in query

    # Inclusive boundary: the next run starts at the newest Modified and gets at least that row.
    newest = max(r["Modified"] for r in rows)
    again = run_tap(config, ["activities_tasks"], state=run.final_state)
    got = again.records.get("activities_tasks", [])
    assert 1 <= len(got) < 150
    assert all(r["Modified"] >= newest for r in got)


def test_exactonline_tap_two_divisions_partitioned(eo, config):
    eo.set_size("crm/Accounts", 1200, division=100001)
    eo.set_size("crm/Accounts", 300, division=100002)
    config["divisions"] = [100001, 100002]
    run = run_tap(config, ["crm_accounts"])
    rows = run.records["crm_accounts"]
    by_division = {}
    for r in rows:
        by_division.setdefault(r["Division"], []).append(r["ID"])
    assert {d: len(ids) for d, ids in by_division.items()} == {100001: 1200, 100002: 300}
    keys = {(r["Division"], r["ID"]) for r in rows}
    assert len(keys) == 1500
    assert run.schemas["crm_accounts"]["key_properties"][0] == "Division"
    partitions = run.final_state["bookmarks"]["crm_accounts"]["partitions"]
    assert sorted(p["context"]["Division"] for p in partitions) == [100001, 100002]
    assert len(data_requests(eo, "/100001/sync/CRM/Accounts")) == 2
    assert len(data_requests(eo, "/100002/sync/CRM/Accounts")) == 1


def test_exactonline_tap_all_divisions_from_system_divisions(eo, config):
    eo.set_size("crm/Accounts", 5)
    config["all_divisions"] = True
    run = run_tap(config, ["crm_accounts"])
    divisions = sorted({r["Division"] for r in run.records["crm_accounts"]})
    assert divisions == [100001, 100002, 100003]


def test_exactonline_tap_custom_stream(eo, config):
    eo.set_size("crm/Accounts", 30)
    config["custom_streams"] = [{
        "name": "blocked_accounts", "endpoint": "/bulk/CRM/Accounts",
        "query": {"$filter": "Blocked eq false"},
    }]
    run = run_tap(config, ["blocked_accounts"])
    rows = run.records["blocked_accounts"]
    assert rows and all(r["Blocked"] is False for r in rows)
    assert run.schemas["blocked_accounts"]["key_properties"] == ["Division", "ID"]
    query = data_requests(eo, "/bulk/CRM/Accounts")[0]["query"].replace("%20", " ")
    assert "$filter=Blocked eq false" in query and "$select=" in query


def test_exactonline_tap_bulk_full_read(eo, config):
    run = run_tap(config, ["cashflow_receivables"])
    rows = run.records["cashflow_receivables"]
    assert len(rows) == 1200 and len({r["ID"] for r in rows}) == 1200
    pages = data_requests(eo, "/bulk/Cashflow/Receivables")
    assert len(pages) == 2
    assert "$select=" in pages[0]["query"] and "$filter" not in pages[0]["query"]
    assert run.schemas["cashflow_receivables"]["key_properties"] == ["Division", "ID"]


def test_exactonline_tap_sync_deleted(eo, config):
    eo.set_size("crm/Accounts", 20)
    first = run_tap(config, ["deleted"])
    assert first.records.get("deleted", []) == []
    gone = [eo.key_of("crm/Accounts", i) for i in (2, 9)]
    for key in gone:
        eo.delete("crm/Accounts", key)
    run = run_tap(config, ["deleted"], state=first.final_state)
    rows = run.records["deleted"]
    assert sorted(r["EntityKey"] for r in rows) == sorted(gone)
    assert {r["EntityType"] for r in rows} == {2}
    assert run.schemas["deleted"]["key_properties"] == ["Division", "ID"]
