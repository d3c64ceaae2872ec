"""target-superoffice against the SuperOffice emulator (contract §1.6): POST, PUT, PATCH as JSON Patch
of the fields the record carries, DELETE; UPSERT by id or by match fields through one look-up;
records checked against the Swagger models before anything is sent; SuperOffice's message in rejects."""

from __future__ import annotations

import json

import pytest

from tests.superoffice.tap.helpers import query_of
from tests.superoffice.target.helpers import run_target, start_sandbox, target_config
from tests.target_runner import record, schema, state

CONTACT = {"type": "object", "properties": {
    "ContactId": {"type": ["integer", "null"]}, "Name": {"type": ["string", "null"]},
    "Department": {"type": ["string", "null"]}, "OrgNr": {"type": ["string", "null"]},
    "Number1": {"type": ["string", "null"]}}}
TAP_ROW = {"type": "object", "properties": {
    "contactId": {"type": "integer"}, "department": {"type": ["string", "null"]},
    "PrimaryKey": {"type": ["string", "null"]}, "EntityName": {"type": ["string", "null"]}}}


@pytest.fixture
def sandbox():
    sandbox = start_sandbox(sizes={"Contact": 10})
    yield sandbox
    sandbox.stop()


def test_post_creates_and_reports_the_remote_id(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"new": {"entity": "/Contact", "method": "POST"}})
    run = run_target(config, [schema("new", CONTACT), record("new", {"Name": "O'Brien & Søn AS", "OrgNr": "900000001"}),
                              state({"done": 1})], tmp_path)
    [result] = run.results
    assert result["method"] == "POST" and result["status"] == 200 and result["remote_id"] == 11
    assert sandbox.get("Contact", 11)["Name"] == "O'Brien & Søn AS"
    assert run.states == [{"done": 1}]


def test_patch_sends_a_json_patch_of_the_record_fields(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"change": {"entity": "/Contact/{id}", "method": "PATCH",
                                                          "path": {"id": "ContactId"}}})
    run = run_target(config, [schema("change", CONTACT, ["ContactId"]),
                              record("change", {"ContactId": 2, "Department": "Økonomi"})], tmp_path)
    assert [(r["method"], r["status"]) for r in run.results] == [("PATCH", 200)]
    assert [w["body"] for w in sandbox.write_bodies] == [[{"op": "replace", "path": "/Department", "value": "Økonomi"}]]
    [patch] = [e for e in sandbox.request_log() if e["method"] == "PATCH"]
    assert patch["path"].endswith("/api/v1/Contact/2")
    assert patch["headers"]["Content-Type"] == "application/json-patch+json"
    assert sandbox.get("Contact", 2)["Department"] == "Økonomi"


def test_upsert_by_id_sends_only_what_differs_and_a_rerun_nothing(sandbox, tmp_path):
    current = sandbox.get("Contact", 4)
    config = target_config(sandbox, tmp_path, {"contacts": {"entity": "/Contact", "method": "UPSERT"}})
    messages = [schema("contacts", CONTACT, ["ContactId"]),
                record("contacts", {"ContactId": 4, "Name": current["Name"], "Department": "Renamed dept"})]
    run = run_target(config, messages, tmp_path)
    assert [(r["method"], r["remote_id"]) for r in run.results] == [("PATCH", 4)]
    assert [w["body"] for w in sandbox.write_bodies] == [[{"op": "replace", "path": "/Department",
                                                           "value": "Renamed dept"}]]
    (tmp_path / "again").mkdir()
    again = run_target(target_config(sandbox, tmp_path / "again", config["mappings"]), messages, tmp_path / "again")
    assert [r.get("skipped") for r in again.results] == ["unchanged"]
    assert len(sandbox.write_bodies) == 1


def test_upsert_by_match_looks_up_with_a_filter_then_patches_or_posts(sandbox, tmp_path):
    existing = sandbox.get("Contact", 3)
    config = target_config(sandbox, tmp_path, {"companies": {"entity": "/Contact", "method": "UPSERT",
                                                             "match": ["OrgNr"]}})
    run = run_target(config, [schema("companies", CONTACT, ["OrgNr"]),
                              record("companies", {"OrgNr": existing["OrgNr"], "Department": "Matched"}),
                              record("companies", {"OrgNr": "O'1", "Name": "Quote ' in the key"})], tmp_path)
    assert sorted((r["method"], r["status"], r["remote_id"]) for r in run.results) == [
        ("PATCH", 200, 3), ("POST", 200, 11)]
    assert sandbox.get("Contact", 3)["Department"] == "Matched"
    assert (sandbox.get("Contact", 11)["OrgNr"], sandbox.get("Contact", 11)["Name"]) == ("O'1", "Quote ' in the key")
    # One filtered look-up per record, $select-ing the key and the record's other fields' columns.
    lookups = [query_of(e) for e in sandbox.request_log() if e["method"] == "GET" and e["path"].endswith("/v1/Contact")]
    assert sorted(lookups, key=lambda q: q["$filter"]) == [
        {"$select": "contactId,department", "$filter": f"orgnr eq '{existing['OrgNr']}'", "$top": "2"},
        {"$select": "contactId,name", "$filter": "orgnr eq 'O''1'", "$top": "2"}]
    bodies = sorted((w["method"], w["body"]) for w in sandbox.write_bodies if w["path"].count("/") > 3)
    assert [b for b in bodies if b[0] == "PATCH"] == [
        ("PATCH", [{"op": "replace", "path": "/Department", "value": "Matched"}])]  # only what differs
    assert [b[1] for b in bodies if b[0] == "POST"] == [{"OrgNr": "O'1", "Name": "Quote ' in the key"}]
    assert sandbox.count("Contact") == 11


def test_upsert_by_match_on_number1_of_an_unchanged_object_sends_nothing(sandbox, tmp_path):
    current = sandbox.get("Contact", 5)
    config = target_config(sandbox, tmp_path, {"companies": {"entity": "/Contact", "method": "UPSERT",
                                                             "match": ["Number1"]}})
    run = run_target(config, [schema("companies", CONTACT, ["Number1"]),
                              record("companies", {"Number1": current["Number1"], "Name": current["Name"]})],
                     tmp_path)
    assert [(r.get("skipped"), r["remote_id"]) for r in run.results] == [("unchanged", 5)]
    assert sandbox.write_bodies == []


def test_envelope_records_carry_path_query_and_payload(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {
        "create": {"entity": "/Contact", "method": "POST"},
        "change": {"entity": "/Contact/{id}", "method": "PATCH"},
        "drop": {"entity": "/Contact/{id}", "method": "DELETE"}})
    run = run_target(config, [
        schema("create"), record("create", {"payload": {"Name": "Envelope AS"}, "query": {"$select": "ContactId"}}),
        schema("change"), record("change", {"path": {"id": 8}, "payload": {"Department": "Via envelope"}}),
        schema("drop"), record("drop", {"path": {"id": 9}}),
    ], tmp_path)
    assert run.rejects == []
    assert sorted((r["method"], r["status"], r["remote_id"]) for r in run.results) == [
        ("DELETE", 204, 9), ("PATCH", 200, 8), ("POST", 200, 11)]
    assert sandbox.get("Contact", 11)["Name"] == "Envelope AS" and sandbox.get("Contact", 9) is None
    assert sandbox.get("Contact", 8)["Department"] == "Via envelope"
    [post] = [e for e in sandbox.request_log() if e["method"] == "POST"]
    assert query_of(post) == {"$select": "ContactId"}
    assert [w["body"] for w in sandbox.write_bodies if w["method"] == "PATCH"] == [
        [{"op": "replace", "path": "/Department", "value": "Via envelope"}]]


def test_a_tap_row_is_written_back_by_its_columns(sandbox, tmp_path):
    run = run_target(target_config(sandbox, tmp_path), [
        schema("contact", TAP_ROW, ["contactId"]),
        record("contact", {"contactId": 6, "department": "From the tap", "PrimaryKey": "6", "EntityName": "contact"}),
    ], tmp_path)
    assert [(r["method"], r["remote_id"]) for r in run.results] == [("PATCH", 6)]
    assert sandbox.get("Contact", 6)["Department"] == "From the tap"


def test_put_and_delete(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {
        "replace": {"entity": "/Contact/{id}", "method": "PUT", "path": {"id": "ContactId"}},
        "remove": {"entity": "/Contact/{id}", "method": "DELETE", "path": {"id": "ContactId"}},
    })
    run = run_target(config, [
        schema("replace", CONTACT, ["ContactId"]), record("replace", {"ContactId": 1, "Name": "Only a name"}),
        schema("remove", CONTACT, ["ContactId"]), record("remove", {"ContactId": 5}),
    ], tmp_path)
    assert sorted((r["method"], r["status"]) for r in run.results) == [("DELETE", 204), ("PUT", 200)]
    assert sandbox.get("Contact", 1)["Name"] == "Only a name"
    assert sandbox.get("Contact", 5) is None


def test_bad_records_are_rejected_with_the_reason_and_never_sent(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {
        "new": {"entity": "/Contact", "method": "POST"},
        "change": {"entity": "/Contact/{id}", "method": "PATCH", "path": {"id": "ContactId"}},
        "elsewhere": {"entity": "/NoSuchEntity", "method": "POST"},
        "replace_all": {"entity": "/Contact", "method": "PUT"},
        "sale": {"entity": "/Sale", "method": "POST"}})
    open_schema = {"type": "object", "properties": {}}
    run = run_target(config, [
        schema("new", open_schema), record("new", {"Name": "x", "Colour": "red"}),
        record("new", {"Name": 12}),
        schema("change", open_schema), record("change", {"Department": "no id"}),
        record("change", {"ContactId": 999999, "Department": "missing"}),
        schema("elsewhere", open_schema), record("elsewhere", {"Name": "x"}),
        schema("replace_all", open_schema), record("replace_all", {"Name": "x"}),
        schema("sale", open_schema), record("sale", {"Status": "Won"}),
    ], tmp_path)
    assert not run.results
    reasons = {(r["stream"], json.dumps(r["record"], sort_keys=True)): r["reason"] for r in run.rejects}
    assert len(reasons) == len(run.rejects) == 7
    assert reasons[("new", '{"Colour": "red", "Name": "x"}')] == "field Colour is not in ContactEntity (/Contact)"
    assert reasons[("new", '{"Name": 12}')] == "Name: 12 is not of type 'string', 'null'"
    assert "path parameter id of /Contact/{id} has no value: the record needs the field ContactId" in reasons[
        ("change", '{"Department": "no id"}')]
    assert "/NoSuchEntity" in reasons[("elsewhere", '{"Name": "x"}')]
    assert reasons[("replace_all", '{"Name": "x"}')] == "PUT is not allowed on /Contact; it allows GET, POST"
    assert reasons[("sale", '{"Status": "Won"}')].startswith("Status: 'Won' is not one of")
    # The only request sent: the PATCH of an object SuperOffice does not have, rejected with its message.
    assert reasons[("change", '{"ContactId": 999999, "Department": "missing"}')] == (
        "PATCH /online2/Cust12345/api/v1/Contact/999999 answered 404: SoNotFoundException: "
        "Contact id 999999 not found")
    assert [(e["method"], e["status"]) for e in sandbox.request_log() if "/api/v1/" in e["path"]] == [("PATCH", 404)]


def test_dry_run_sends_no_write(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"contacts": {"entity": "/Contact", "method": "UPSERT"}}, dry_run=True)
    run = run_target(config, [schema("contacts", CONTACT, ["ContactId"]),
                              record("contacts", {"ContactId": 2, "Department": "Dry"})], tmp_path)
    assert sandbox.write_bodies == [] and sandbox.get("Contact", 2)["Department"] != "Dry"
    assert "dry" in run.stderr.lower()
