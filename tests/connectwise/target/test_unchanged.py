"""target-connectwise's UPSERT sends only what changed: a rerun of the same input writes nothing,
and a PATCH carries one op per field whose value differs from the company's, however the values
are written (references by id against ConnectWise's expanded ones, date-times with or without
milliseconds or ``Z``, 10 against 10.0)."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.connectwise.tap.helpers import run_tap, tap_config
from tests.connectwise.target.helpers import (
    patch_bodies,
    record,
    run_target,
    schema,
    start_recording_sandbox,
    state,
    target_config,
    writes,
)

COMPANIES = "/company/companies"
MAPPINGS = {"companies": {"entity": COMPANIES, "method": "UPSERT", "match": ["identifier"]}}


@pytest.fixture
def cw():
    sandbox = start_recording_sandbox()
    yield sandbox
    sandbox.stop()


def fresh(cw) -> None:
    cw.reset_stats()
    cw.write_bodies.clear()


def test_a_rerun_of_the_same_input_writes_nothing_and_a_change_patches_that_field_alone(cw, tmp_path):
    existing = cw.get(COMPANIES, 1)
    rows = [
        {"identifier": existing["identifier"], "phoneNumber": "555-0100", "leadFlag": True,
         "dateAcquired": "2020-05-01T08:00:00Z", "country": {"id": 1}, "annualRevenue": 1000.5,
         "addressLine2": None},
        *[{"identifier": f"Unchanged{n}", "name": f"Unchanged {n}", "city": "Tacoma", "state": "WA",
           "zip": "04101", "numberOfEmployees": 12 + n, "leadFlag": False,
           "types": [{"id": 1}]} for n in range(2)],
    ]
    config = target_config(cw, tmp_path, MAPPINGS)

    def messages(companies, n):
        return [schema("companies"), *[record("companies", r) for r in companies], state({"run": n})]

    first = run_target(config, messages(rows, 1), tmp_path)
    assert first.rejects == []
    assert sorted(r["method"] for r in first.results) == ["PATCH", "POST", "POST"]
    published = sorted(r["remote_id"] for r in first.results)
    # the look-up reads, in the same request, the fields a PATCH would send
    lookup = next(e for e in cw.request_log() if e["method"] == "GET"
                  and existing["identifier"] in parse_qs(e["query"]).get("conditions", [""])[0])
    assert parse_qs(lookup["query"])["fields"] == [
        "id,addressLine2,annualRevenue,country,dateAcquired,identifier,leadFlag,phoneNumber"]

    fresh(cw)
    second = run_target(config, messages(rows, 2), tmp_path)
    assert writes(cw) == [] and second.rejects == []
    assert [(r["skipped"], r["method"], r["status"]) for r in second.results] == \
        [("unchanged", None, None)] * 3
    assert sorted(r["remote_id"] for r in second.results) == published
    assert {r["url"].rsplit("/", 1)[-1] for r in second.results} == {str(i) for i in published}
    assert [e["method"] for e in cw.request_log() if "/apis/3.0/" in e["path"]] == ["GET"] * 3
    assert second.states == [{"run": 2}]

    # The same values written another way: a reference with the name ConnectWise gives it, a
    # date-time with milliseconds or an offset, a number with a decimal point.
    country = cw.get(COMPANIES, 1)["country"]
    variants = [dict(rows[0], dateAcquired="2020-05-01T08:00:00.000+00:00", annualRevenue=1000.50,
                     country={"id": 1, "name": country["name"]}),
                dict(rows[1], numberOfEmployees=12, types=[{"id": 1}]),
                dict(rows[2], dateAcquired=None)]
    fresh(cw)
    third = run_target(config, messages(variants, 3), tmp_path)
    assert writes(cw) == [] and third.rejects == []
    assert {r["skipped"] for r in third.results} == {"unchanged"}

    # One field of one record changes: one PATCH, with that field's op alone.
    changed = [rows[0], dict(rows[1], city="Seattle"), rows[2]]
    cw_id = next(rid for rid in published if cw.get(COMPANIES, rid)["identifier"] == "Unchanged0")
    before = {rid: cw.get(COMPANIES, rid) for rid in published}
    fresh(cw)
    fourth = run_target(config, messages(changed, 4), tmp_path)
    assert patch_bodies(cw) == [(str(cw_id), [{"op": "replace", "path": "city", "value": "Seattle"}])]
    assert [e["method"] for e in writes(cw)] == ["PATCH"]
    assert [(r["method"], r["status"], r["remote_id"]) for r in fourth.results
            if not r.get("skipped")] == [("PATCH", 200, cw_id)]
    after = {rid: cw.get(COMPANIES, rid) for rid in published}
    assert after[cw_id]["city"] == "Seattle"
    strip = lambda c: {k: v for k, v in c.items() if k not in ("city", "_info")}  # noqa: E731
    assert strip(after[cw_id]) == strip(before[cw_id])
    assert all(after[rid] == before[rid] for rid in published if rid != cw_id)


def test_null_over_a_value_is_a_change(cw, tmp_path):
    existing = cw.get(COMPANIES, 2)
    assert existing.get("addressLine2")
    run = run_target(target_config(cw, tmp_path, MAPPINGS), [
        schema("companies"), record("companies", {"identifier": existing["identifier"],
                                                  "addressLine2": None})], tmp_path)
    assert run.rejects == []
    assert patch_bodies(cw) == [("2", [{"op": "replace", "path": "addressLine2", "value": None}])]
    assert "addressLine2" not in cw.get(COMPANIES, 2)


def test_the_taps_own_records_sent_back_unchanged_write_nothing(cw, tmp_path):
    """Every field tap-connectwise reads (references with their _info, dates, custom fields),
    sent back to the company it came from by id, equals the company's."""
    tap = run_tap(tap_config(cw), ["company_companies"])
    rows = tap.records["company_companies"][:12]
    assert len(rows) == 12 and all("_info" in r["status"] for r in rows if r.get("status"))
    config = target_config(cw, tmp_path)  # a tap stream's name: UPSERT by id, no mapping
    stream_schema = tap.schemas["company_companies"]

    fresh(cw)
    same = run_target(config, [stream_schema, *[record("company_companies", r) for r in rows]],
                      tmp_path)
    assert same.rejects == [] and writes(cw) == []
    assert [r["skipped"] for r in same.results] == ["unchanged"] * 12

    moved = [dict(rows[0], city="Spokane"), *rows[1:]]
    fresh(cw)
    one = run_target(config, [stream_schema, *[record("company_companies", r) for r in moved]],
                     tmp_path)
    assert one.rejects == []
    assert patch_bodies(cw) == [(str(rows[0]["id"]), [{"op": "replace", "path": "city",
                                                        "value": "Spokane"}])]
    assert cw.get(COMPANIES, rows[0]["id"])["city"] == "Spokane"
