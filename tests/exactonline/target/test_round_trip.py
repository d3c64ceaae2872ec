"""Round trip: tap-exactonline reads accounts, target-exactonline writes changes back, the tap sees them."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.exactonline.tap.helpers import run_tap, tap_config, write_store
from tests.exactonline.target.helpers import DIVISION, put_bodies, record, run_target, start_recording_sandbox, writes


def test_exactonline_round_trip_tap_to_target_to_tap(tmp_path):
    eo = start_recording_sandbox(seed=41, sizes={"crm/Accounts": 40})
    try:
        store = tmp_path / "tokens.json"
        write_store(store, eo.issue_tokens())
        config = tap_config(eo, store, divisions=[DIVISION])
        first = run_tap(config, ["crm_accounts"])
        rows = first.records["crm_accounts"]
        assert len(rows) == 40
        changed = [dict(r) for r in rows[5:8]]
        for row in changed:
            row["Name"] = row["Name"] + " (synced)"
        changed[0]["StartDate"] = "2025-03-30T09:15:00+00:00"  # the day summer time starts

        # The tap's own SCHEMA and records, a stream named crm_accounts: no mapping needed.
        target = {**config, "results_path": str(tmp_path / "results.jsonl"),
                  "rejects_path": str(tmp_path / "rejects.jsonl")}
        eo.reset_stats()
        published = run_target(target, [first.schemas["crm_accounts"],
                                        *[record("crm_accounts", r) for r in changed],
                                        {"type": "STATE", "value": first.final_state}], tmp_path)
        assert published.rejects == []
        assert [r["method"] for r in published.results] == ["PUT"] * 3
        assert [w["method"] for w in writes(eo)] == ["PUT"] * 3
        # Each PUT carries what the records change, not every field the tap read.
        assert sorted(put_bodies(eo)) == sorted(
            [(changed[0]["ID"], {"Name": changed[0]["Name"], "StartDate": "2025-03-30T11:15:00"})]
            + [(row["ID"], {"Name": row["Name"]}) for row in changed[1:]])
        assert published.states == [first.final_state]

        second = run_tap(config, ["crm_accounts"], state=first.final_state)
        back = {r["ID"]: r for r in second.records["crm_accounts"]}
        assert set(back) == {r["ID"] for r in changed}
        for row in changed:
            assert back[row["ID"]]["Name"] == row["Name"]
            assert back[row["ID"]]["City"] == row["City"]
        start = datetime.fromisoformat(back[changed[0]["ID"]]["StartDate"])
        assert start == datetime.fromisoformat("2025-03-30T09:15:00+00:00")  # the same instant
        # Exact stores the wall clock: 11:15 in Amsterdam (CEST) on that day.
        wall_ms = (datetime(2025, 3, 30, 11, 15) - datetime(1970, 1, 1)) // timedelta(milliseconds=1)
        assert eo.get("crm/Accounts", changed[0]["ID"], DIVISION)["StartDate"] == wall_ms
    finally:
        eo.stop()
