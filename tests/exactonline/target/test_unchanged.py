"""target-exactonline's UPSERT sends only what changed: a rerun of the same input writes nothing
(each no-op PUT would spend a request of Exact's daily budget), and a PUT carries only the fields
whose values differ from the account's, however the values are written (``/Date(ms)/`` against
ISO date-times, padded codes, GUID case, 10 against 10.0)."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.exactonline.tap.helpers import run_tap
from tests.exactonline.target.helpers import (
    DIVISION,
    put_bodies,
    record,
    run_target,
    schema,
    start_recording_sandbox,
    state,
    tap_config,
    target_config,
    write_store,
    writes,
)

MAPPINGS = {"accounts": {"entity": "/crm/Accounts", "method": "UPSERT"},          # by ID
            "items": {"entity": "/logistics/Items", "method": "UPSERT", "match": ["Code"]}}


@pytest.fixture
def eo():
    sandbox = start_recording_sandbox(seed=11)
    yield sandbox
    sandbox.stop()


def fresh(eo) -> None:
    eo.reset_stats()
    eo.write_bodies.clear()


def test_a_rerun_of_the_same_input_writes_nothing_and_a_change_puts_that_field_alone(eo, tmp_path):
    keys = [eo.key_of("crm/Accounts", i, DIVISION) for i in (1, 2, 3)]
    parent = eo.key_of("crm/Accounts", 4, DIVISION)
    accounts = [{"ID": key, "Name": f"Unchanged {n}", "City": "Delft", "Code": f"UC{n}",
                 "StartDate": "2025-03-30T09:15:00+00:00", "CreditLineSales": 1500,
                 "Blocked": False, "Parent": parent, "Website": None}
                for n, key in enumerate(keys)]
    items = [{"Code": f"UC-ITEM-{n}", "Description": f"Item {n}", "CostPriceStandard": 2.5}
             for n in range(2)]
    config = target_config(eo, tmp_path, MAPPINGS, division=DIVISION)

    def messages(account_rows, n):
        return [schema("accounts"), schema("items"),
                *[record("accounts", r) for r in account_rows],
                *[record("items", r) for r in items], state({"run": n})]

    first = run_target(config, messages(accounts, 1), tmp_path)
    assert first.rejects == []
    assert sorted(r["method"] for r in first.results) == ["POST", "POST", "PUT", "PUT", "PUT"]
    published = sorted(r["remote_id"] for r in first.results)
    # the look-up reads, in the same request, the fields a PUT would send
    lookup = next(e for e in eo.request_log() if e["method"] == "GET" and "crm/Accounts" in e["path"])
    assert parse_qs(lookup["query"])["$select"] == [
        "ID,Name,City,Code,StartDate,CreditLineSales,Blocked,Parent,Website"]

    fresh(eo)
    second = run_target(config, messages(accounts, 2), tmp_path)
    assert writes(eo) == [] and second.rejects == []
    assert [(r["skipped"], r["method"], r["status"]) for r in second.results] == \
        [("unchanged", None, None)] * 5
    assert sorted(r["remote_id"] for r in second.results) == published
    assert {r["url"].rsplit("(guid'", 1)[-1].rstrip("')") for r in second.results_of("accounts")} \
        == set(keys)
    assert [e["method"] for e in eo.request_log()] == ["GET"] * 5  # one look-up each
    assert second.states == [{"run": 2}]

    # The same values written another way: the code padded as Exact pads it, the date-time as
    # Amsterdam's wall clock (as Exact keeps it) or with milliseconds and Z, 1500 as 1500.0, the
    # GUID in capitals.
    variants = [dict(accounts[0], Code=" " * 15 + "UC0", StartDate="2025-03-30T11:15:00"),
                dict(accounts[1], StartDate="2025-03-30T09:15:00.000Z", CreditLineSales=1500.0),
                dict(accounts[2], Parent=parent.upper(), CreditLineSales=1500.00)]
    fresh(eo)
    third = run_target(config, messages(variants, 3), tmp_path)
    assert writes(eo) == [] and third.rejects == []
    assert {r["skipped"] for r in third.results} == {"unchanged"}

    # One field of one record changes: one PUT, carrying that field alone.
    changed = [accounts[0], dict(accounts[1], City="Leiden"), accounts[2]]
    before = {k: eo.get("crm/Accounts", k, DIVISION) for k in keys}
    fresh(eo)
    fourth = run_target(config, messages(changed, 4), tmp_path)
    assert put_bodies(eo) == [(keys[1], {"City": "Leiden"})]
    assert [e["method"] for e in writes(eo)] == ["PUT"]
    assert [(r["method"], r["status"]) for r in fourth.results if not r.get("skipped")] == \
        [("PUT", 204)]
    after = {k: eo.get("crm/Accounts", k, DIVISION) for k in keys}
    assert after[keys[1]]["City"] == "Leiden"
    assert {k: v for k, v in after[keys[1]].items() if k not in ("City", "Modified", "Timestamp")} \
        == {k: v for k, v in before[keys[1]].items() if k not in ("City", "Modified", "Timestamp")}
    assert after[keys[0]] == before[keys[0]] and after[keys[2]] == before[keys[2]]


def test_null_over_a_value_is_a_change(eo, tmp_path):
    key = eo.key_of("crm/Accounts", 1, DIVISION)
    assert eo.get("crm/Accounts", key, DIVISION)["Website"]
    config = target_config(eo, tmp_path, MAPPINGS, division=DIVISION)
    run = run_target(config, [schema("accounts"), record("accounts", {"ID": key, "Website": None})],
                     tmp_path)
    assert put_bodies(eo) == [(key, {"Website": None})] and run.rejects == []
    assert eo.get("crm/Accounts", key, DIVISION)["Website"] is None


def test_the_taps_own_records_sent_back_unchanged_write_nothing(eo, tmp_path):
    """Every field tap-exactonline reads (dates, padded codes, GUIDs, numbers, flags), sent back
    to the account it came from, equals the account's: the bug report's PUT of Code and Name
    meant to change City becomes a PUT of City alone."""
    store = tmp_path / "tokens.json"
    write_store(store, eo.issue_tokens())
    tap = run_tap(tap_config(eo, store, divisions=[DIVISION]), ["crm_accounts"])
    rows = tap.records["crm_accounts"][:10]
    assert len(rows) == 10 and all(r["Code"].startswith(" ") for r in rows)
    target = {**tap_config(eo, store), "results_path": str(tmp_path / "results.jsonl"),
              "rejects_path": str(tmp_path / "rejects.jsonl")}
    stream_schema = tap.schemas["crm_accounts"]

    fresh(eo)
    same = run_target(target, [stream_schema, *[record("crm_accounts", r) for r in rows]], tmp_path)
    assert same.rejects == [] and writes(eo) == []
    assert [r["skipped"] for r in same.results] == ["unchanged"] * 10
    selected = parse_qs(eo.request_log()[-1]["query"])["$select"][0].split(",")
    assert {"Code", "Name", "City", "StartDate", "Parent", "CreditLineSales", "Blocked"} <= set(selected)

    moved = [dict(rows[0], City="Zwolle"), *rows[1:]]
    fresh(eo)
    one = run_target(target, [stream_schema, *[record("crm_accounts", r) for r in moved]], tmp_path)
    assert one.rejects == []
    assert put_bodies(eo) == [(rows[0]["ID"], {"City": "Zwolle"})]
    assert eo.get("crm/Accounts", rows[0]["ID"], DIVISION)["City"] == "Zwolle"


def test_dry_run_reports_the_skip_and_the_narrowed_put(eo, tmp_path):
    key = eo.key_of("crm/Accounts", 2, DIVISION)
    current = eo.get("crm/Accounts", key, DIVISION)
    config = target_config(eo, tmp_path, MAPPINGS, division=DIVISION, dry_run=True)
    run = run_target(config, [schema("accounts"),
                              record("accounts", {"ID": key, "Name": current["Name"]}),
                              record("accounts", {"ID": key, "Name": current["Name"],
                                                  "City": "Gouda"})], tmp_path)
    assert writes(eo) == [] and eo.get("crm/Accounts", key, DIVISION) == current
    assert [(r.get("skipped"), r["method"], r["dry_run"]) for r in run.results] == [
        ("unchanged", None, True), (None, "PUT", True)]
    assert "unchanged" in run.stderr and 'body={"City":"Gouda"}' in run.stderr


def test_an_upsert_that_finds_the_invoice_still_refuses_its_lines(eo, tmp_path):
    """A document's lines go in the POST that creates it; a header PUT cannot carry them."""
    invoice = eo.get("salesinvoice/SalesInvoices",
                     eo.key_of("salesinvoice/SalesInvoices", 1, DIVISION), DIVISION)
    item = eo.key_of("logistics/Items", 1, DIVISION)
    config = target_config(eo, tmp_path, {"invoices": {"entity": "/salesinvoice/SalesInvoices",
                                                       "method": "UPSERT"}}, division=DIVISION)
    run = run_target(config, [schema("invoices"), record("invoices", {
        "InvoiceID": invoice["InvoiceID"], "Description": invoice["Description"],
        "SalesInvoiceLines": [{"Item": item, "Quantity": 1.0}]})], tmp_path)
    assert writes(eo) == [] and run.results == []
    [reject] = run.rejects
    assert "send the lines to /salesinvoice/SalesInvoiceLines" in reject["reason"]
