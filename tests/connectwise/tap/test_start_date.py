"""tap-connectwise with start_date, without and then with state, on every kind of stream.

The emulator's ``_info.lastUpdated`` grows with the id over 2019..2025, so a start_date of
2024-01-01 splits a collection of a few hundred rows. A run without start_date is the oracle.
Kinds: top-level incremental (forward-only), top-level incremental paged by page number, child
streams (read for each emitted parent; audits paged by page number), non-incremental top-level
streams (forward-only and page-number audit trail), custom streams with and without a cursor.
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import parse_qs

import pytest

from tests.connectwise.tap.helpers import run_tap, start_sandbox, tap_config

START = "2024-01-01T00:00:00Z"
CUSTOM = [
    {"name": "board_1_tickets", "endpoint": "/service/tickets", "replication_key": "lastUpdated",
     "query": {"conditions": "board/id = 1"}},
    {"name": "tickets_by_entry", "endpoint": "/service/tickets", "replication_key": "dateEntered"},
    {"name": "address_format_2", "endpoint": "/company/addressFormats/{id}", "path": {"id": 2},
     "paginate": False},
]
INCREMENTAL = ["service_tickets", "time_entries", "board_1_tickets",
               "system_workflows_triggers_options"]  # the last: incremental, page numbers
CHILDREN = {"service_tickets_notes": "service_tickets",  # forward-only
            "time_entries_audits": "time_entries"}  # page numbers
FULL = ["company_entity_types", "system_audittrail", "address_format_2"]  # no cursor
BY_ENTRY = "tickets_by_entry"  # custom, on _info.dateEntered
STREAMS = INCREMENTAL + [BY_ENTRY] + list(CHILDREN) + FULL


@pytest.fixture
def sandbox():
    sandbox = start_sandbox(sizes={
        "/service/tickets": 320, "/service/tickets/{parentId}/notes": 2, "/time/entries": 320,
        "/time/entries/{parentId}/audits": 2, "/system/workflows/triggers/options": 400,
        "/system/audittrail": 30})
    yield sandbox
    sandbox.stop()


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def as_json(rows) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def ids(rows) -> set:
    return {r["id"] for r in rows}


def conditions(sandbox, suffix: str) -> list[str]:
    return [parse_qs(r["query"]).get("conditions", [""])[0] for r in sandbox.request_log()
            if r["path"].endswith(suffix)]


def test_connectwise_start_date_then_state_on_every_kind_of_stream(sandbox):
    oracle = run_tap(tap_config(sandbox, start_date=None, custom_streams=CUSTOM), STREAMS).records
    sandbox.reset_stats()

    first = run_tap(tap_config(sandbox, start_date=START, custom_streams=CUSTOM), STREAMS)
    rows = first.records
    # Incremental streams: exactly the rows updated at or after start_date, asked of the server.
    for stream in INCREMENTAL:
        wanted = [r for r in oracle[stream] if at(r["lastUpdated"]) >= at(START)]
        assert 0 < len(wanted) < len(oracle[stream]), stream  # START really splits it
        assert as_json(rows[stream]) == as_json(wanted), stream
    wanted = [r for r in oracle[BY_ENTRY] if at(r["_info"]["dateEntered"]) >= at(START)]
    assert 0 < len(wanted) < len(oracle[BY_ENTRY])
    assert as_json(rows[BY_ENTRY]) == as_json(wanted)
    assert all(r["dateEntered"] == r["_info"]["dateEntered"] for r in rows[BY_ENTRY])
    assert sorted(conditions(sandbox, "/service/tickets")) == [
        "(board/id = 1) and (lastUpdated >= [2024-01-01T00:00:00Z])",  # board_1_tickets
        "dateEntered >= [2024-01-01T00:00:00Z]",  # tickets_by_entry
        "lastUpdated >= [2024-01-01T00:00:00Z]",  # service_tickets
    ]
    # Child streams: every child of each parent read, and of no other parent.
    for child, parent in CHILDREN.items():
        parents = ids(rows[parent])
        wanted = [r for r in oracle[child] if r["parentId"] in parents]
        assert wanted and as_json(rows[child]) == as_json(wanted), child
    # No cursor: every row, start_date or not.
    for stream in FULL:
        assert rows[stream] and as_json(rows[stream]) == as_json(oracle[stream]), stream
    state = first.final_state
    for stream in INCREMENTAL:
        assert state["bookmarks"][stream]["replication_key_value"] == max(
            r["lastUpdated"] for r in rows[stream]), stream
    assert state["bookmarks"][BY_ENTRY]["replication_key_value"] == max(
        r["dateEntered"] for r in rows[BY_ENTRY])

    # Changes: an old ticket (before START) and a new one, an old time entry.
    tickets = [t["id"] for t in sandbox.touch("/service/tickets", [3, 310])]
    entry = sandbox.touch("/time/entries", [4])[0]["id"]
    sandbox.reset_stats()
    second = run_tap(tap_config(sandbox, start_date=START, custom_streams=CUSTOM), STREAMS,
                     state=state)
    again = second.records
    # The bookmark wins over start_date: the changed rows, plus the rows at the (inclusive)
    # bookmark; children of those parents only; every row of the streams without a cursor.
    for stream, changed in (("service_tickets", set(tickets)), ("time_entries", {entry})):
        bookmark = state["bookmarks"][stream]["replication_key_value"]
        boundary = {r["id"] for r in rows[stream] if r["lastUpdated"] == bookmark}
        assert ids(again[stream]) == changed | boundary, stream
        assert f"lastUpdated >= [{bookmark}]" in conditions(sandbox, "/" + stream.replace("_", "/"))
    assert {n["parentId"] for n in again["service_tickets_notes"]} == ids(again["service_tickets"])
    assert {a["parentId"] for a in again["time_entries_audits"]} == ids(again["time_entries"])
    for stream in FULL:
        assert as_json(again[stream]) == as_json(rows[stream]), stream
    for stream in ("service_tickets", "time_entries"):
        assert second.final_state["bookmarks"][stream]["replication_key_value"] > \
            state["bookmarks"][stream]["replication_key_value"], stream


@pytest.mark.parametrize("cursor", ["id", "summary"])
def test_connectwise_custom_stream_cursor_must_be_a_date_time(sandbox, cursor):
    """start_date and the incremental condition compare the cursor as a date-time: any other
    replication_key is a config error naming the entry, not a crash mid-run."""
    config = tap_config(sandbox, custom_streams=[
        {"name": "tickets", "endpoint": "/service/tickets", "replication_key": cursor}])
    run = run_tap(config, check=False)  # no catalog: the tap discovers its streams itself
    assert run.returncode != 0 and not run.records
    assert (f"custom_streams[0].replication_key {cursor!r} is not a date-time property"
            in run.stderr)
    assert "Traceback" not in run.stderr
