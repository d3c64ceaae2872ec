"""Incremental reads on _info.lastUpdated: exactly the changed rows plus the inclusive boundary."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.connectwise.tap.helpers import run_tap, start_sandbox, tap_config


@pytest.fixture
def sandbox():
    sandbox = start_sandbox(sizes={"/service/tickets": 3000, "/service/tickets/{parentId}/notes": 2})
    yield sandbox
    sandbox.stop()


def conditions_sent(sandbox, suffix: str) -> list[str]:
    return [
        parse_qs(r["query"]).get("conditions", [""])[0]
        for r in sandbox.request_log()
        if r["path"].endswith(suffix)
    ]


def test_second_run_returns_exactly_the_changed_rows(sandbox):
    first = run_tap(tap_config(sandbox), streams=["service_tickets"])
    rows = first.records["service_tickets"]
    assert len(rows) == 3000
    bookmark = first.final_state["bookmarks"]["service_tickets"]["replication_key_value"]
    assert bookmark == max(r["lastUpdated"] for r in rows)
    assert all(r["lastUpdated"] == r["_info"]["lastUpdated"] for r in rows)
    boundary = {r["id"] for r in rows if r["lastUpdated"] == bookmark}

    changed = {r["id"] for r in sandbox.touch("/service/tickets", [5, 1200, 2999, 3000])}
    sandbox.reset_stats()

    second = run_tap(tap_config(sandbox), streams=["service_tickets"], state=first.final_state)

    assert sorted(second.ids("service_tickets")) == sorted(changed | boundary)
    assert conditions_sent(sandbox, "/service/tickets") == [f"lastUpdated >= [{bookmark}]"]
    new_bookmark = second.final_state["bookmarks"]["service_tickets"]["replication_key_value"]
    assert new_bookmark > bookmark

    # Nothing changed since: the third run reads only the rows at the new (inclusive) bookmark.
    third = run_tap(tap_config(sandbox), streams=["service_tickets"], state=second.final_state)
    boundary = {r["id"] for r in second.records["service_tickets"] if r["lastUpdated"] == new_bookmark}
    assert boundary and set(third.ids("service_tickets")) == boundary


def test_start_date_and_user_conditions_are_combined(sandbox):
    config = tap_config(sandbox, start_date="2000-01-01T00:00:00Z",
                        conditions={"service_tickets": "board/id = 1"})

    run = run_tap(config, streams=["service_tickets"])

    assert conditions_sent(sandbox, "/service/tickets") == [
        "(board/id = 1) and (lastUpdated >= [2000-01-01T00:00:00Z])"
    ]
    rows = run.records["service_tickets"]
    assert rows and all(r["board"]["id"] == 1 for r in rows)


def test_children_are_read_for_changed_parents_only(sandbox):
    sandbox.set_size("/service/tickets", 40)
    streams = ["service_tickets", "service_tickets_notes"]
    first = run_tap(tap_config(sandbox), streams=streams)
    notes = first.records["service_tickets_notes"]
    assert {n["parentId"] for n in notes} == set(first.ids("service_tickets"))
    assert all(n["ticketId"] == n["parentId"] for n in notes if "ticketId" in n)
    assert "service_tickets_notes" not in first.final_state.get("bookmarks", {}) or not (
        first.final_state["bookmarks"]["service_tickets_notes"].get("partitions")
    )

    sandbox.touch("/service/tickets", [7])
    sandbox.reset_stats()
    second = run_tap(tap_config(sandbox), streams=streams, state=first.final_state)

    parents = set(second.ids("service_tickets"))
    assert 7 in parents
    assert {n["parentId"] for n in second.records["service_tickets_notes"]} <= parents
    note_requests = [r for r in sandbox.request_log() if r["path"].endswith("/notes")]
    assert len(note_requests) == len(parents)  # one page per changed ticket, none for the others


def test_deselected_properties_are_not_requested(sandbox):
    from tests.connectwise.tap.helpers import catalog_selecting

    catalog = catalog_selecting(["service_tickets"],
                                deselect_properties={"service_tickets": ["summary", "board"]})
    sandbox.set_size("/service/tickets", 10)

    run = run_tap(tap_config(sandbox), catalog=catalog)

    query = parse_qs(next(r for r in sandbox.request_log()
                          if r["path"].endswith("/service/tickets"))["query"])
    fields = query["fields"][0].split(",")
    assert "summary" not in fields and "board" not in fields
    assert {"id", "_info", "company", "status"} <= set(fields)
    row = run.records["service_tickets"][0]
    assert "summary" not in row and "board" not in row and row["lastUpdated"]
