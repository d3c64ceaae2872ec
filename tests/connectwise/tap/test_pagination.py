"""Every row exactly once, in ceil(N/1000) data requests (+1 only for a full last page)."""

from __future__ import annotations

import math

import pytest

from tests.connectwise.tap.helpers import run_tap, start_sandbox, tap_config


@pytest.fixture(scope="module")
def sandbox():
    sandbox = start_sandbox()
    yield sandbox
    sandbox.stop()


def ticket_requests(sandbox) -> list[dict]:
    return [r for r in sandbox.request_log() if r["path"].endswith("/service/tickets")]


@pytest.mark.parametrize("rows", [0, 1, 999, 1000, 1001, 5000])
def test_forward_only_reads_every_row_once(sandbox, rows):
    sandbox.set_size("/service/tickets", rows)
    sandbox.reset_stats()

    run = run_tap(tap_config(sandbox), streams=["service_tickets"])

    ids = run.ids("service_tickets")
    assert len(ids) == rows
    assert len(set(ids)) == rows
    assert rows == sandbox.count("/service/tickets")
    requests = ticket_requests(sandbox)
    # A forward-only page shorter than pageSize is the last; a full last page needs one empty
    # terminal page to prove it was the last.
    expected = max(1, math.ceil(rows / 1000)) + (1 if rows and rows % 1000 == 0 else 0)
    assert len(requests) == expected
    assert all("pageSize=1000" in r["query"] for r in requests)
    assert all(r["status"] == 200 for r in requests)


def test_page_link_pagination_for_custom_stream(sandbox):
    """A custom stream pages with page/pageSize and the Link header, ordered by id."""
    sandbox.set_size("/service/tickets", 2500)
    sandbox.reset_stats()
    config = tap_config(sandbox, custom_streams=[
        {"name": "all_tickets", "endpoint": "/service/tickets", "paginate": True},
    ])

    run = run_tap(config, streams=["all_tickets"])

    ids = run.ids("all_tickets")
    assert len(ids) == 2500 == len(set(ids))
    requests = ticket_requests(sandbox)
    assert [r["query"].count("page=") for r in requests] == [1, 1, 1]
    assert len(requests) == 3


def test_page_size_setting_is_validated(sandbox):
    run = run_tap(tap_config(sandbox, page_size=1001), streams=["service_tickets"], check=False)
    assert run.returncode != 0
    assert "page_size must be between 1 and 1000" in run.stderr


def test_audit_endpoints_page_with_links(sandbox):
    """Audit lists don't do forward-only: the tap pages them with page/Link and misses nothing."""
    sandbox.set_size("/time/entries", 3)
    sandbox.set_size("/time/entries/{parentId}/audits", 2100)
    sandbox.reset_stats()

    run = run_tap(tap_config(sandbox), streams=["time_entries_audits"])

    assert len(run.records["time_entries_audits"]) == 3 * 2100
    audit_requests = [r for r in sandbox.request_log() if r["path"].endswith("/audits")]
    assert len(audit_requests) == 3 * 3
    assert all("page=" in r["query"] for r in audit_requests)
