"""target-superoffice against the SuperOffice emulator (contract §1.6): POST, PUT, PATCH as JSON Patch
of the fields the record carries, DELETE; UPSERT by id or by match fields through one look-up;
records checked against the Swagger models before anything is sent; SuperOffice's message in rejects."""

from __future__ import annotations

import pytest

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
    assert sorted((r["method"], r["status"]) for r in run.results) == [("PATCH", 200), ("POST", 200)]
    assert sandbox.get("Contact", 3)["Department"] == "Matched"
    lookups = [e for e in sandbox.request_log() if e["method"] == "GET" and e["path"].endswith("/v1/Contact")]
    assert len(lookups) == 2 and all("orgnr+eq" in e["query"] for e in lookups)
    assert sandbox.count("Contact") == 11


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
        "elsewhere": {"entity": "/NoSuchEntity", "method": "POST"}})
    open_schema = {"type": "object", "properties": {}}
    run = run_target(config, [
        schema("new", open_schema), record("new", {"Name": "x", "Colour": "red"}),
        record("new", {"Name": 12}),
        schema("change", open_schema), record("change", {"Department": "no id"}),
        record("change", {"ContactId": 999999, "Department": "missing"}),
        schema("elsewhere", open_schema), record("elsewhere", {"Name": "x"}),
    ], tmp_path)
    reasons = [r["reason"] for r in run.rejects]
    assert len(reasons) == 5 and not run.results
    assert any("Colour" in r and "ContactEntity" in r for r in reasons)
    assert any("Name" in r and "12" in r for r in reasons)
    assert any("ContactId" in r for r in reasons)
    assert any("404" in r and "SoNotFoundException" in r for r in reasons)  # SuperOffice's ErrorType and message
    assert any("/NoSuchEntity" in r for r in reasons)
    assert [w for w in sandbox.write_bodies if w["method"] == "POST"] == []


def test_dry_run_sends_no_write(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"contacts": {"entity": "/Contact", "method": "UPSERT"}}, dry_run=True)
    run = run_target(config, [schema("contacts", CONTACT, ["ContactId"]),
                              record("contacts", {"ContactId": 2, "Department": "Dry"})], tmp_path)
    assert sandbox.write_bodies == [] and sandbox.get("Contact", 2)["Department"] != "Dry"
    assert "dry" in run.stderr.lower()
