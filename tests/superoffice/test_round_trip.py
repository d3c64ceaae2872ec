"""The round trip, plugin by plugin (the Meltano job is tests/superoffice/test_meltano.py): contacts
read by tap-superoffice, one field changed and PATCHed back by target-superoffice as a JSON Patch,
and the next incremental run of the tap reads exactly the changed contacts with the new value."""

from __future__ import annotations

import datetime as dt

from tests.superoffice.tap.helpers import query_of, run_tap, tap_config
from tests.superoffice.target.helpers import run_target, start_sandbox, target_config
from tests.target_runner import record, schema

TODAY = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.timezone.utc)
ROW = {"type": "object", "properties": {"contactId": {"type": "integer"},
                                        "department": {"type": ["string", "null"]}}}


def test_contacts_read_patched_back_and_seen_by_the_next_incremental_run(tmp_path):
    sandbox = start_sandbox(sizes={"Contact": 30})
    try:
        sandbox.clock.set(TODAY, frozen=True)
        config = tap_config(sandbox, tmp_path / "tokens.json")
        first = run_tap(config)
        rows = {r["contactId"]: r for r in first.records["contact"]}
        assert sorted(rows) == list(range(1, 31))
        bookmark = first.final_state["bookmarks"]["contact"]["replication_key_value"]
        last_day = sorted(i for i, r in rows.items() if r["updatedDate"][:10] == bookmark[:10])
        changed = {i: f"{r['department'] or 'none'} (synced)" for i, r in rows.items() if i in (2, 5, 11)}

        # The tap's rows, as a stream map leaves them (the key and the changed field), to the
        # target: a stream named `contact` UPSERTs /Contact by id (a look-up, then a JSON Patch).
        sandbox.clock.advance(60)
        run = run_target(target_config(sandbox, tmp_path), [
            schema("contact", ROW, ["contactId"]),
            *(record("contact", {"contactId": i, "department": d}) for i, d in changed.items())], tmp_path)
        assert run.rejects == []
        assert sorted((r["method"], r["status"], r["remote_id"]) for r in run.results) == [
            ("PATCH", 200, 2), ("PATCH", 200, 5), ("PATCH", 200, 11)]
        patches = sorted((w["path"].rsplit("/", 1)[-1], w["body"]) for w in sandbox.write_bodies)
        assert patches == sorted((str(i), [{"op": "replace", "path": "/Department", "value": d}])
                                 for i, d in changed.items())
        assert {e["headers"]["Content-Type"] for e in sandbox.request_log() if e["method"] == "PATCH"} == {
            "application/json-patch+json"}

        sandbox.reset_stats()
        second = run_tap(config, state=first.final_state)
        seen = {r["contactId"]: r for r in second.records["contact"]}
        # Exactly the bookmark's day again and the three patched contacts, with their new value
        # and today's updatedDate.
        assert sorted(seen) == sorted({*last_day, *changed})
        for i, department in changed.items():
            assert seen[i]["department"] == department
            assert seen[i]["updatedDate"] == "2026-03-02T09:01:00+00:00"
        assert second.final_state["bookmarks"]["contact"]["replication_key_value"] == "2026-03-02T09:01:00+00:00"
        first_page = next(e for e in sandbox.request_log() if e["path"].endswith("/api/v1/Contact"))
        assert query_of(first_page)["$filter"] == f"updatedDate after '{_day_before(bookmark)}'"
    finally:
        sandbox.stop()


def _day_before(stamp: str) -> str:
    return (dt.date.fromisoformat(stamp[:10]) - dt.timedelta(days=1)).isoformat()
