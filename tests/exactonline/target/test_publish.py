"""target-exactonline against the Exact Online sandbox: every method, documents, upserts, rejects."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.exactonline.target.helpers import (
    DIVISION,
    record,
    run_target,
    schema,
    start_sandbox,
    state,
    target_config,
    writes,
)

ACCOUNTS = {"accounts": {"entity": "/crm/Accounts", "method": "POST"}}


@pytest.fixture
def eo():
    sandbox = start_sandbox(seed=11)
    yield sandbox
    sandbox.stop()


def test_target_exactonline_post_asks_for_the_representation_and_records_the_new_id(eo, tmp_path):
    before = eo.count("crm/Accounts", DIVISION)
    config = target_config(eo, tmp_path, ACCOUNTS, division=DIVISION)
    run = run_target(config, [schema("accounts"),
                              record("accounts", {"Name": "Acme BV", "City": "Delft",
                                                  "Created": "2024-01-01T00:00:00Z"}),
                              record("accounts", {"Name": "Bolt NV", "Division": 100002})], tmp_path)
    assert eo.count("crm/Accounts", DIVISION) == before + 2  # `division` wins over the record's
    posts = writes(eo, "/crm/Accounts")
    assert [p["method"] for p in posts] == ["POST", "POST"]
    assert all(p["headers"].get("Prefer") == "return=representation" for p in posts)
    assert [r["status"] for r in run.results] == [201, 201]
    created = eo.get("crm/Accounts", run.results[0]["remote_id"], DIVISION)
    assert created["Name"] == "Acme BV" and created["City"] == "Delft"
    # Created is read-only (Exact's docs): left out of the body and said so, not a reject.
    assert "Created is read-only on POST crm/Accounts" in run.stderr
    assert run.rejects == []


def test_target_exactonline_put_changes_only_sent_fields_and_delete_removes(eo, tmp_path):
    first, second = eo.key_of("crm/Accounts", 1, DIVISION), eo.key_of("crm/Accounts", 2, DIVISION)
    city_before = eo.get("crm/Accounts", first, DIVISION)["City"]
    mappings = {"fixes": {"entity": "/crm/Accounts", "method": "PUT"},
                "gone": {"entity": "/crm/accounts", "method": "DELETE"}}
    config = target_config(eo, tmp_path, mappings, division=DIVISION)
    run = run_target(config, [schema("fixes"), record("fixes", {"ID": first, "Name": "Renamed"}),
                              schema("gone"), record("gone", {"ID": second})], tmp_path)
    after = eo.get("crm/Accounts", first, DIVISION)
    assert after["Name"] == "Renamed" and after["City"] == city_before
    with pytest.raises(KeyError):
        eo.get("crm/Accounts", second, DIVISION)
    sent = writes(eo)
    assert sorted((w["method"], w["path"]) for w in sent) == [
        ("DELETE", f"/api/v1/{DIVISION}/crm/Accounts(guid'{second}')"),
        ("PUT", f"/api/v1/{DIVISION}/crm/Accounts(guid'{first}')")]
    assert sorted((r["method"], r["status"], r["remote_id"]) for r in run.results) == [
        ("DELETE", 204, second), ("PUT", 204, first)]


def test_target_exactonline_document_with_lines_is_one_post(eo, tmp_path):
    customer = eo.key_of("crm/Accounts", 3, DIVISION)
    items = [eo.key_of("logistics/Items", i, DIVISION) for i in (1, 2)]
    invoices_before = eo.count("salesinvoice/SalesInvoices", DIVISION)
    lines_before = eo.count("salesinvoice/SalesInvoiceLines", DIVISION)
    config = target_config(eo, tmp_path, {"invoices": {"entity": "/salesinvoice/SalesInvoices",
                                                       "method": "POST"}}, division=DIVISION)
    invoice = {"OrderedBy": customer, "Description": "November", "Journal": "70",
               "SalesInvoiceLines": [{"Item": items[0], "Quantity": 2.0, "UnitPrice": 10.0},
                                     {"Item": items[1], "Quantity": 1.0, "UnitPrice": 5.5}]}
    run = run_target(config, [schema("invoices"), record("invoices", invoice)], tmp_path)
    assert len(writes(eo)) == 1
    assert eo.count("salesinvoice/SalesInvoices", DIVISION) == invoices_before + 1
    assert eo.count("salesinvoice/SalesInvoiceLines", DIVISION) == lines_before + 2
    created = eo.get("salesinvoice/SalesInvoices", run.results[0]["remote_id"], DIVISION)
    assert created["AmountFCExclVat"] == 25.5  # the header sums its two lines


def test_target_exactonline_upsert_by_code_posts_then_puts(eo, tmp_path):
    mappings = {"items": {"entity": "/logistics/Items", "method": "UPSERT", "match": ["Code"]}}
    config = target_config(eo, tmp_path, mappings, division=DIVISION)
    before = eo.count("logistics/Items", DIVISION)
    rows = [{"Code": f"UPS-{i}", "Description": f"Item {i}"} for i in range(3)]
    first = run_target(config, [schema("items"), *[record("items", r) for r in rows],
                                state({"run": 1})], tmp_path)
    assert [r["method"] for r in first.results] == ["POST"] * 3
    assert eo.count("logistics/Items", DIVISION) == before + 3
    changed = [{**r, "Description": r["Description"] + " v2"} for r in rows]
    second = run_target(config, [schema("items"), *[record("items", r) for r in changed],
                                 state({"run": 2})], tmp_path)
    assert [r["method"] for r in second.results] == ["PUT"] * 3
    assert eo.count("logistics/Items", DIVISION) == before + 3
    assert eo.get("logistics/Items", first.results[0]["remote_id"], DIVISION)["Description"] == "Item 0 v2"
    lookups = [e for e in eo.request_log() if e["method"] == "GET" and "/logistics/Items" in e["path"]]
    assert parse_qs(lookups[0]["query"])["$filter"] == ["trim(Code) eq 'UPS-0'"]
    assert second.states[-1] == {"run": 2}


def test_target_exactonline_upsert_by_id_of_a_tap_stream_needs_no_mapping(eo, tmp_path):
    """A stream named like a tap-exactonline stream upserts its entity by key (here: PUT by ID)."""
    key = eo.key_of("crm/Contacts", 1, DIVISION)
    config = target_config(eo, tmp_path)
    stream_schema = {"type": "object", "properties": {"Division": {"type": "integer"},
                                                      "ID": {"type": "string"},
                                                      "Timestamp": {"type": "integer"},
                                                      "FirstName": {"type": ["string", "null"]}}}
    run = run_target(config, [schema("crm_contacts", stream_schema, ["Division", "ID"]),
                              record("crm_contacts", {"Division": DIVISION, "ID": key,
                                                      "Timestamp": 123, "FirstName": "Ada"})],
                     tmp_path)
    assert [(r["method"], r["status"]) for r in run.results] == [("PUT", 204)]
    assert eo.get("crm/Contacts", key, DIVISION)["FirstName"] == "Ada"


BAD_RECORDS = [
    ({"Name": "x", "Colour": "red"}, "POST", "field Colour is not in crm/Accounts"),
    ({"Name": 42}, "POST", "Name: 42 is not a string"),
    ({"Name": "x", "Blocked": "no"}, "POST", "Blocked: 'no' is not a boolean"),
    ({"Name": "x", "StartDate": "next week"}, "POST", "StartDate"),
    ({"ID": "not-a-guid", "Name": "x"}, "PUT", "the key of crm/Accounts must be a GUID"),
    ({"Name": "x"}, "PUT", "PUT on crm/Accounts needs the key field ID"),
    ({"Name": "x"}, "DELETE", "DELETE on crm/Accounts needs the key field ID"),
    ({"Name": "x"}, "PATCH", "Exact Online has no PATCH"),
    (["not", "an", "object"], "POST", "must be an object"),
]


@pytest.mark.parametrize(("payload", "method", "reason"), BAD_RECORDS,
                         ids=[r[2].split(":")[0][:30] for r in BAD_RECORDS])
def test_target_exactonline_bad_records_are_rejected_before_sending(eo, tmp_path, payload, method, reason):
    mappings = {"accounts": {"entity": "/crm/Accounts", "method": method}}
    config = target_config(eo, tmp_path, mappings, division=DIVISION)
    message = record("accounts", payload) if isinstance(payload, dict) else \
        record("accounts", {"payload": payload})
    run = run_target(config, [schema("accounts"), message], tmp_path)
    assert writes(eo) == [] and run.results == []
    assert len(run.rejects) == 1 and reason in run.rejects[0]["reason"], run.rejects


def test_target_exactonline_rejects_what_the_endpoint_cannot_do(eo, tmp_path):
    mappings = {"entries": {"entity": "/generaljournalentry/GeneralJournalEntries", "method": "DELETE"},
                "invoices": {"entity": "/salesinvoice/SalesInvoices", "method": "PUT"},
                "nowhere": {"entity": "/crm/Nowhere", "method": "POST"}}
    config = target_config(eo, tmp_path, mappings, division=DIVISION)
    invoice = eo.key_of("salesinvoice/SalesInvoices", 1, DIVISION)
    run = run_target(config, [
        schema("entries"), record("entries", {"EntryID": "3e1e4a4b-0000-4000-8000-000000000001"}),
        schema("invoices"), record("invoices", {"InvoiceID": invoice, "SalesInvoiceLines": [{}]}),
        schema("nowhere"), record("nowhere", {"Name": "x"})], tmp_path)
    assert writes(eo) == []
    reasons = {r["stream"]: r["reason"] for r in run.rejects}
    assert "DELETE needs DELETE on generaljournalentry/GeneralJournalEntries, which allows GET, POST" \
        in reasons["entries"]
    assert "send the lines to /salesinvoice/SalesInvoiceLines" in reasons["invoices"]
    assert "unknown entity /crm/Nowhere" in reasons["nowhere"]


def test_target_exactonline_stops_sending_to_an_endpoint_before_exact_blocks_it(eo, tmp_path):
    """Records Exact refuses (unknown account) spend the allowance; the rest are rejected unsent."""
    config = target_config(eo, tmp_path, {"contacts": {"entity": "/crm/Contacts", "method": "POST"}},
                           division=DIVISION, error_allowance=3)
    missing = "00000000-0000-4000-8000-00000000abcd"
    rows = [{"Account": missing, "FirstName": f"F{i}", "LastName": "L"} for i in range(6)]
    run = run_target(config, [schema("contacts"), *[record("contacts", r) for r in rows]], tmp_path)
    sent = writes(eo, "/crm/Contacts")
    assert [w["status"] for w in sent] == [400, 400, 400]
    assert eo.stats()["exactonline"]["error_blocks"] == 0
    assert len(run.rejects) == 6
    assert all("Invalid reference" in (r["vendor_message"] or "") for r in run.rejects[:3])
    assert all("not sent: crm/Contacts in division 100001 answered 3 errors" in r["reason"]
               for r in run.rejects[3:])


def test_target_exactonline_spent_daily_budget_fails_without_passing_state(eo, tmp_path):
    eo.set_limits(daily=2)
    config = target_config(eo, tmp_path, ACCOUNTS, division=DIVISION, daily_budget_max_wait=5)
    messages = [schema("accounts")]
    for i in range(4):
        messages += [record("accounts", {"Name": f"A{i}"}), state({"done": i})]
    run = run_target(config, messages, tmp_path, check=False)
    assert run.returncode != 0
    assert "daily" in run.stderr and "renews in" in run.stderr
    assert len(writes(eo, "/crm/Accounts")) == 2
    assert run.states == [{"done": 0}, {"done": 1}]  # not the STATE after the unsent record


def test_target_exactonline_required_fields_spare_exacts_error_allowance(eo, tmp_path):
    """Which fields Exact requires is not in the specs; `required` says it, and a record without
    them is rejected before its POST (an UPSERT still looks up first: an update needs none)."""
    mappings = {"accounts": {"entity": "/crm/Accounts", "method": "UPSERT", "match": "Code",
                             "required": ["Name"]}}
    config = target_config(eo, tmp_path, mappings, division=DIVISION)
    existing = eo.get("crm/Accounts", eo.key_of("crm/Accounts", 1, DIVISION), DIVISION)
    run = run_target(config, [schema("accounts"),
                              record("accounts", {"Code": "NEW-1", "City": "Delft"}),
                              record("accounts", {"Code": existing["Code"].strip(), "City": "Delft"})],
                     tmp_path)
    assert [w["method"] for w in writes(eo)] == ["PUT"]
    assert [r["reason"] for r in run.rejects] == [
        "Name missing: creating a /crm/Accounts needs Name (mappings.accounts.required)"]
    assert all(e["status"] == 200 for e in eo.request_log() if e["method"] == "GET")


def test_target_exactonline_a_match_value_of_the_wrong_type_is_a_reject(eo, tmp_path):
    """Creator is read-only (not checked as part of a body) and a GUID: "x" cannot be looked up."""
    mappings = {"accounts": {"entity": "/crm/Accounts", "method": "UPSERT", "match": "Creator"}}
    config = target_config(eo, tmp_path, mappings, division=DIVISION)
    run = run_target(config, [schema("accounts"), record("accounts", {"Creator": "x", "Name": "A"}),
                              record("accounts", {"Name": "B", "Creator": None})], tmp_path)
    assert eo.request_log() == [] and run.results == []
    assert [r["reason"] for r in run.rejects] == [
        "cannot look crm/Accounts up by Creator: 'x' is not a GUID",
        "UPSERT matches on Creator, but the record has no Creator"]
