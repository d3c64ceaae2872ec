"""tap-superoffice against the SuperOffice emulator, run as users run it (a subprocess, start_date set).

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §1: keyset pages of at most 1,000
rows on the primary key; ``updatedDate`` compares by date only; soft deletions; the tenant's host
looked up and followed when it moves (421); tokens from the refresh grant; 10 requests a second.
"""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path

import pytest

from tests.superoffice.tap.helpers import data_requests, run_tap, start_sandbox, tap_config, write_store


@pytest.fixture
def sandbox():
    sandbox = start_sandbox(sizes={"Contact": 2500, "Person": 40})
    yield sandbox
    sandbox.stop()


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "tokens.json"


@pytest.mark.parametrize("rows", [0, 1, 999, 1000, 1001, 5000])
def test_pages_of_1000_rows_read_every_row_once(store, rows):
    sandbox = start_sandbox(sizes={"Contact": rows})
    try:
        run = run_tap(tap_config(sandbox, store))
        ids = run.ids("contact", "contactId")
        assert ids == list(range(1, rows + 1))
        requests = data_requests(sandbox)
        # ceil(N/1000) pages, plus one empty page when N is a multiple of 1,000 (a full page may
        # not be the last one).
        assert len(requests) == max(1, math.ceil(rows / 1000) + (1 if rows and rows % 1000 == 0 else 0))
        assert all("%24top=1000" in e["query"] for e in requests)
        assert "%24skip" not in "".join(e["query"] for e in requests)
    finally:
        sandbox.stop()


def test_the_select_names_every_column_and_date_times_carry_a_zone(sandbox, store):
    run = run_tap(tap_config(sandbox, store), ("contact", "person"))
    contact = run.records["contact"][0]
    for column in ("contactId", "name", "orgnr", "updatedDate", "registeredDate", "deletedDate"):
        assert column in contact
    assert contact["updatedDate"].endswith("+00:00")
    assert all(r["personUpdatedDate"] is None or r["personUpdatedDate"].endswith("+00:00")
               for r in run.records["person"])
    assert len(run.ids("person", "personId")) == 40


def test_an_incremental_run_rereads_the_bookmark_day_and_misses_no_change(sandbox, store):
    config = tap_config(sandbox, store)
    first = run_tap(config)
    state = first.final_state
    bookmark = state["bookmarks"]["contact"]["replication_key_value"]
    assert bookmark == max(r["updatedDate"] for r in first.records["contact"])
    sandbox.touch("Contact", [7, 1234], field="Name")
    sandbox.delete("Contact", 99)
    second = run_tap(config, state=state)
    ids = second.ids("contact", "contactId")
    assert {7, 1234, 99} <= set(ids)
    # Only the bookmark's day and later are read again, not the 2,500 rows.
    assert len(ids) < 100
    assert all(r["updatedDate"][:10] >= bookmark[:10] or r["contactId"] == 99 for r in second.records["contact"])
    deleted = [r for r in second.records["contact"] if r["contactId"] == 99]
    assert deleted[0]["_sdc_deleted_at"] and deleted[0]["deletedDate"]
    filters = [e["query"] for e in data_requests(sandbox)[-4:]]
    assert any("updatedDate+after" in f for f in filters) and any("deletedDate+afterTime" in f for f in filters)


def test_an_expired_access_token_is_refreshed_and_the_run_goes_on(sandbox, store):
    config = tap_config(sandbox, store)
    sandbox.expire_access_tokens()  # the store still believes its token fresh
    run = run_tap(config)
    assert len(run.ids("contact", "contactId")) == 2500
    statuses = [e["status"] for e in data_requests(sandbox)]
    assert statuses.count(401) == 1
    assert json.loads(store.read_text())["refresh_token"]  # kept: SuperOffice does not rotate


def test_the_tenant_moving_mid_run_is_followed(sandbox, store):
    sandbox.faults.latency(0.05)
    config = tap_config(sandbox, store, page_size=100)

    def move_after_the_first_page() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not data_requests(sandbox):
            time.sleep(0.01)
        sandbox.move_tenant("online5")

    mover = threading.Thread(target=move_after_the_first_page)
    mover.start()
    run = run_tap(config)
    mover.join()
    assert run.ids("contact", "contactId") == list(range(1, 2501))
    requests = data_requests(sandbox)
    assert [e["status"] for e in requests].count(421) == 1
    assert requests[-1]["path"].startswith("/online5/")
    assert "moved from" in run.stderr


def test_a_revoked_consent_fails_fast_saying_how_to_grant_access_again(sandbox, store):
    config = tap_config(sandbox, store)
    sandbox.revoke_consent()
    sandbox.expire_access_tokens()
    started = time.monotonic()
    run = run_tap(config, check=False)
    assert run.returncode != 0 and time.monotonic() - started < 30
    assert "tap-superoffice authorize --config" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_tenant_in_maintenance_is_an_error_naming_the_state(sandbox, store):
    sandbox.set_state("OfflineMaintenance")
    run = run_tap(tap_config(sandbox, store), check=False)
    assert run.returncode != 0 and "OfflineMaintenance" in run.stderr


def test_an_unknown_tenant_names_the_setting(sandbox, store):
    run = run_tap(tap_config(sandbox, store, tenant_id="Cust99999"), check=False)
    assert run.returncode != 0 and "tenant_id" in run.stderr


def test_every_default_stream_at_10_a_second_gets_no_429(store):
    sandbox = start_sandbox(sizes={"Contact": 3000}, default_size=30)
    try:
        run = run_tap(tap_config(sandbox, store, page_size=100),
                      ("contact", "person", "sale", "project", "appointment", "document", "ticket",
                       "ticket_message", "product", "price_list", "user", "selection"))
        assert len(run.ids("contact", "contactId")) == 3000
        log = sandbox.request_log(100_000)
        assert len(log) > 40
        assert [e["status"] for e in log].count(429) == 0
    finally:
        sandbox.stop()


def test_a_custom_stream_reads_an_archive_with_path_and_query_values(sandbox, store):
    config = tap_config(sandbox, store, custom_streams=[
        {"name": "persons_of_contact_5", "endpoint": "/Archive/{provider}", "path": {"provider": "Person"},
         "query": {"$select": "personId,firstName,contactId", "$filter": "contactId eq 5"}}])
    run = run_tap(config, ("persons_of_contact_5",))
    requests = [e for e in sandbox.request_log() if e["path"].endswith("/Archive/Person")]
    assert requests and all(e["status"] == 200 for e in requests)
    rows = run.records["persons_of_contact_5"]
    assert rows and all(r["contactId"] == 5 and "firstName" in r for r in rows)


def test_extra_columns_are_selected(sandbox, store):
    config = tap_config(sandbox, store, extra_columns={"contact": ["postAddress/city"]})
    run = run_tap(config)
    assert "postAddress%2Fcity" in data_requests(sandbox)[0]["query"]
    assert "postAddress/city" in run.records["contact"][0]


def test_no_secret_reaches_the_output(sandbox, store):
    config = tap_config(sandbox, store)
    run = run_tap(config)
    tokens = json.loads(store.read_text())
    output = run.stdout + run.stderr
    for secret in (config["client_secret"], tokens["access_token"], tokens["refresh_token"]):
        assert secret not in output


def test_a_token_store_older_than_its_lifetime_is_refreshed_first(sandbox, store):
    write_store(store, sandbox.issue_tokens(), age=4000)
    run = run_tap(tap_config(sandbox, store))
    assert len(run.ids("contact", "contactId")) == 2500
    assert not [e for e in data_requests(sandbox) if e["status"] == 401]
