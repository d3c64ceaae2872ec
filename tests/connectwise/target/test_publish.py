"""target-connectwise end to end: each method, both record forms, UPSERT, rejects, dry run, retries.

The target runs as a subprocess fed Singer messages on stdin, against the strict ConnectWise
sandbox (unknown body fields, missing required fields and non-array PATCH bodies are 400s, a
method the endpoint doesn't allow is a 405). Every run is also checked for leaked secrets.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.connectwise.target.helpers import (
    ADDRESS_FORMATS,
    FORMAT_SCHEMA,
    assert_no_secrets,
    list_all,
    record,
    run_target,
    schema,
    start_sandbox,
    state,
    target_config,
    writes,
)

FORMAT = ADDRESS_FORMATS
FORMAT_ITEM = ADDRESS_FORMATS + "/{id}"


@pytest.fixture
def sandbox():
    sb = start_sandbox()
    try:
        yield sb
    finally:
        sb.stop()


def check_secrets(run) -> None:
    assert_no_secrets(run.stdout, run.stderr, run.results_path.read_text() if run.results_path.exists() else "",
                      run.rejects_path.read_text() if run.rejects_path.exists() else "")


# -- each method -----------------------------------------------------------------------------------
def test_post_put_patch_delete_plain_records(sandbox, tmp_path):
    before = {i: sandbox.get(FORMAT, i) for i in (1, 2, 3)}
    count_before = sandbox.count(FORMAT)
    config = target_config(sandbox, tmp_path, {
        "new": {"entity": FORMAT, "method": "POST"},
        "replace": {"entity": FORMAT_ITEM, "method": "PUT"},
        "fix": {"entity": FORMAT_ITEM, "method": "PATCH"},
        "gone": {"entity": FORMAT_ITEM, "method": "DELETE"},
    })
    messages = [schema(s, FORMAT_SCHEMA, ["id"] if s != "new" else []) for s in ("new", "replace", "fix", "gone")]
    messages += [
        record("new", {"name": "Created by POST", "format": "[street]"}),
        record("replace", {"id": 1, "name": "Replaced by PUT", "format": "[zip] [city]"}),
        record("fix", {"id": 2, "name": "Patched"}),
        record("gone", {"id": 3}),
        state({"bookmarks": {"done": True}}),
    ]
    run = run_target(config, messages, tmp_path)
    check_secrets(run)
    assert run.states == [{"bookmarks": {"done": True}}]
    assert run.rejects == []
    by_stream = {r["stream"]: r for r in run.results}
    assert set(by_stream) == {"new", "replace", "fix", "gone"}

    created = by_stream["new"]
    assert (created["method"], created["status"]) == ("POST", 201)
    assert isinstance(created["remote_id"], int) and created["remote_id"] > 3
    assert created["url"].endswith("/apis/3.0" + FORMAT)
    obj = sandbox.get(FORMAT, created["remote_id"])
    assert (obj["name"], obj["format"]) == ("Created by POST", "[street]")

    replaced = by_stream["replace"]
    assert (replaced["method"], replaced["status"], replaced["remote_id"]) == ("PUT", 200, 1)
    assert replaced["url"].endswith(FORMAT + "/1")
    obj = sandbox.get(FORMAT, 1)
    assert (obj["name"], obj["format"]) == ("Replaced by PUT", "[zip] [city]")

    patched = by_stream["fix"]
    assert (patched["method"], patched["status"], patched["remote_id"]) == ("PATCH", 200, 2)
    obj = sandbox.get(FORMAT, 2)
    assert obj["name"] == "Patched"
    assert obj["format"] == before[2]["format"], "a PATCH changes only the fields it names"

    deleted = by_stream["gone"]
    assert (deleted["method"], deleted["status"]) == ("DELETE", 204)
    assert deleted["remote_id"] == 3
    assert sandbox.get(FORMAT, 3) is None
    assert sandbox.count(FORMAT) == count_before  # one created, one deleted

    routes = sorted(e["route"] + " " + str(e["status"]) for e in writes(sandbox))
    assert routes == sorted([
        f"POST {FORMAT} 201", f"PUT {FORMAT}/{{id}} 200", f"PATCH {FORMAT}/{{id}} 200",
        f"DELETE {FORMAT}/{{id}} 204",
    ])


def test_envelopes_and_a_patch_op_list_passed_through(sandbox, tmp_path):
    before2 = sandbox.get(FORMAT, 2)
    config = target_config(sandbox, tmp_path, {
        "create": {"entity": FORMAT, "method": "POST"},
        "patch": {"entity": FORMAT_ITEM, "method": "PATCH"},
        "drop": {"entity": FORMAT_ITEM, "method": "DELETE"},
    })
    ops = [{"op": "replace", "path": "/format", "value": "[op list]"},
           {"op": "replace", "path": "defaultFlag", "value": True}]
    messages = [schema("create"), schema("patch"), schema("drop")]
    messages += [
        record("create", {"payload": {"name": "From envelope", "format": "[env]"}}),
        record("patch", {"path": {"id": 1}, "payload": {"name": "Envelope patch"}}),
        record("patch", {"path": {"id": 2}, "payload": ops}),
        record("drop", {"path": {"id": 3}}),
        state({"s": 1}),
    ]
    run = run_target(config, messages, tmp_path)
    check_secrets(run)
    assert run.rejects == []
    assert run.states == [{"s": 1}]
    created = run.results_of("create")[0]
    assert created["status"] == 201
    assert sandbox.get(FORMAT, created["remote_id"])["name"] == "From envelope"
    assert sandbox.get(FORMAT, 1)["name"] == "Envelope patch"
    obj2 = sandbox.get(FORMAT, 2)
    assert (obj2["format"], obj2["defaultFlag"], obj2["name"]) == ("[op list]", True, before2["name"])
    assert sandbox.get(FORMAT, 3) is None
    assert sorted(r["key"]["id"] for r in run.results_of("patch")) == [1, 2]

    # The bodies themselves, as the dry run logs them: an op list built from the payload
    # (replace ops, no id), and the given op list unchanged (its leading slash kept).
    dry = run_target({**config, "dry_run": True}, messages, tmp_path)
    bodies = [line.split("body=", 1)[1] for line in dry.stderr.splitlines() if "would send PATCH" in line]
    assert sorted((json.loads(b) for b in bodies), key=json.dumps) == sorted(
        [[{"op": "replace", "path": "name", "value": "Envelope patch"}], ops], key=json.dumps)


def test_a_path_field_mapped_from_another_record_field(sandbox, tmp_path):
    """README: ``"path": {"parentId": "ticket_id"}``: the field fills the path, not the body."""
    notes = "/service/tickets/5/notes"
    count_before = sandbox.count(notes)
    config = target_config(sandbox, tmp_path, {
        "ticket_notes": {"entity": "/service/tickets/{parentId}/notes", "method": "POST",
                         "path": {"parentId": "ticket_id"}},
        "renames": {"entity": FORMAT_ITEM, "method": "PATCH", "path": {"id": "format_id"}},
    })
    messages = [schema("ticket_notes"), schema("renames"),
                record("ticket_notes", {"ticket_id": 5, "text": "Called the customer",
                                        "detailDescriptionFlag": True}),
                record("renames", {"format_id": 2, "name": "Via format_id"})]
    run = run_target(config, messages, tmp_path)
    assert run.rejects == []
    note = run.results_of("ticket_notes")[0]
    assert note["status"] == 201 and note["url"].endswith("/service/tickets/5/notes")
    assert sandbox.count(notes) == count_before + 1
    assert sandbox.get(FORMAT, 2)["name"] == "Via format_id"


# -- UPSERT ----------------------------------------------------------------------------------------
def test_upsert_by_id_and_by_match_twice_creates_nothing_the_second_time(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {
        "formats_by_id": {"entity": FORMAT, "method": "UPSERT"},
        "formats_by_name": {"entity": FORMAT, "method": "UPSERT", "match": ["name"]},
        "companies": {"entity": "/company/companies", "method": "UPSERT", "match": "identifier"},
    })
    company = sandbox.get("/company/companies", 1)
    messages = [schema("formats_by_id", FORMAT_SCHEMA, ["id"]), schema("formats_by_name", FORMAT_SCHEMA),
                schema("companies")]
    messages += [
        record("formats_by_id", {"id": 1, "name": "Upserted 1", "format": "[a]"}),
        record("formats_by_id", {"id": 2, "name": "Upserted 2", "format": "[b]"}),
        record("formats_by_name", {"name": "Upsert new", "format": "[c]"}),
        record("formats_by_name", {"name": "Upsert other", "format": "[d]"}),
        record("companies", {"identifier": company["identifier"], "phoneNumber": "555-0100"}),
        state({"run": 1}),
    ]
    counts = lambda: (sandbox.count(FORMAT), sandbox.count("/company/companies"))  # noqa: E731
    formats_before, companies_before = counts()

    first = run_target(config, messages, tmp_path)
    check_secrets(first)
    assert first.rejects == []
    assert sorted((r["key"], r["method"], r["remote_id"]) for r in first.results_of("formats_by_id")) == [
        ([1], "PATCH", 1), ([2], "PATCH", 2)]
    assert sorted(r["method"] for r in first.results_of("formats_by_name")) == ["POST", "POST"]
    assert [r["method"] for r in first.results_of("companies")] == ["PATCH"]
    assert first.results_of("companies")[0]["remote_id"] == 1
    assert counts() == (formats_before + 2, companies_before)
    assert sandbox.get(FORMAT, 1)["name"] == "Upserted 1"
    assert sandbox.get("/company/companies", 1)["phoneNumber"] == "555-0100"
    # the look-ups: by id (GET …/{id}) and by a conditions query on the match field
    gets = [e for e in sandbox.request_log() if e["method"] == "GET" and "/apis/3.0/" in e["path"]]
    assert any(e["path"].endswith(FORMAT + "/1") for e in gets)
    assert any("conditions=" in e["query"] and "identifier" in e["query"] for e in gets)

    created = {r["remote_id"] for r in first.results_of("formats_by_name")}
    sandbox.reset_stats()
    second = run_target(config, messages, tmp_path)
    assert second.rejects == []
    assert counts() == (formats_before + 2, companies_before), "the second run created objects"
    # Identical input: every object already has the record's values, so nothing is written.
    assert [(r["skipped"], r["method"], r["status"]) for r in second.results] == \
        [("unchanged", None, None)] * 5
    assert {r["remote_id"] for r in second.results_of("formats_by_name")} == created
    assert writes(sandbox) == []
    names = [f["name"] for f in list_all(sandbox, FORMAT)]
    assert names.count("Upsert new") == 1 and names.count("Upsert other") == 1


def test_upsert_of_the_same_match_value_twice_in_one_run_posts_once(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"f": {"entity": FORMAT, "method": "UPSERT", "match": ["name"]}})
    messages = [schema("f", FORMAT_SCHEMA),
                record("f", {"name": "Twice", "format": "[first]"}),
                record("f", {"name": "Twice", "format": "[second]"})]
    run = run_target(config, messages, tmp_path)
    assert [r["method"] for r in run.results] == ["POST", "PATCH"]  # same key: in order
    assert run.results[0]["remote_id"] == run.results[1]["remote_id"]
    assert sandbox.get(FORMAT, run.results[0]["remote_id"])["format"] == "[second]"
    lookups = [e for e in sandbox.request_log() if e["method"] == "GET" and "conditions=" in e["query"]]
    assert len(lookups) == 1, "the second record must use the cached look-up"


def test_a_partial_upsert_patches_a_match_and_is_rejected_if_it_would_create(sandbox, tmp_path):
    """Company requires name, site… on create only: a partial record may update, not create."""
    company = sandbox.get("/company/companies", 2)
    config = target_config(sandbox, tmp_path, {"c": {"entity": "/company/companies", "method": "UPSERT",
                                                     "match": ["identifier"]}})
    count = sandbox.count("/company/companies")
    messages = [schema("c"), record("c", {"identifier": company["identifier"], "phoneNumber": "555-0199"}),
                record("c", {"identifier": "NoSuchCompany", "phoneNumber": "555-0100"})]
    run = run_target(config, messages, tmp_path)
    assert [(r["method"], r["remote_id"]) for r in run.results] == [("PATCH", 2)]
    assert sandbox.get("/company/companies", 2)["phoneNumber"] == "555-0199"
    [reject] = run.rejects
    assert reject["record"]["identifier"] == "NoSuchCompany" and "'name' is a required property" in reject["reason"]
    assert sandbox.count("/company/companies") == count
    assert [e["method"] for e in writes(sandbox)] == ["PATCH"]


# -- rejects ---------------------------------------------------------------------------------------
def test_bad_records_are_rejected_and_the_rest_publish(sandbox, tmp_path):
    sandbox.faults.add(status=400, count=1, path_prefix="/company/companies",
                       body={"code": "InvalidObject", "message": "Injected: company is locked",
                             "errors": [{"code": "Locked", "field": "name", "message": "locked"}]})
    config = target_config(sandbox, tmp_path, {
        "good": {"entity": FORMAT, "method": "POST"},
        "loose": {"entity": FORMAT, "method": "POST"},
        "keyed": {"entity": FORMAT, "method": "POST"},
        "typed": {"entity": FORMAT, "method": "POST"},
        "patches": {"entity": FORMAT_ITEM, "method": "PATCH"},
        "nowhere": {"entity": "/company/notAnEntity", "method": "POST"},
        "not_allowed": {"entity": FORMAT, "method": "PUT"},
        "contacts": {"entity": "/company/contacts", "method": "POST"},
        "companies": {"entity": "/company/companies/{id}", "method": "PATCH"},
    })
    typed_schema = {"type": "object", "properties": {"name": {"type": "string"}, "format": {"type": "string"}}}
    messages = [schema("good", FORMAT_SCHEMA), schema("loose"), schema("keyed", FORMAT_SCHEMA, ["name"]),
                schema("typed", typed_schema), schema("patches"), schema("nowhere"), schema("not_allowed"),
                schema("contacts"), schema("companies")]
    bad = {
        "patches": {"name": "no id"},                                  # missing path value
        "keyed": {"format": "[no name]"},                              # missing key property
        "typed": {"name": 12345, "format": "[x]"},                     # wrong type (stream schema)
        "nowhere": {"name": "x"},                                      # unknown entity
        "not_allowed": {"name": "x", "format": "y"},                   # method not allowed
    }
    too_long = {"name": "N" * 51, "format": "[too long]"}               # over max length: local
    wrong_model_type = {"name": "Flag", "format": "[f]", "defaultFlag": "yes"}
    unknown_field = {"name": "U", "format": "[u]", "colour": "red"}
    dangling_ref = {"firstName": "Orphan", "company": {"id": 987654}}  # only the sandbox knows
    locked = {"id": 1, "name": "Renamed"}                               # injected vendor 400
    messages += [record("good", {"name": "Good 1", "format": "[1]"})]
    messages += [record(stream, rec) for stream, rec in bad.items()]
    messages += [record("good", too_long), record("loose", wrong_model_type), record("loose", unknown_field),
                 record("contacts", dangling_ref), record("companies", locked),
                 record("good", {"name": "Good 2", "format": "[2]"}),
                 record("contacts", {"firstName": "Fine", "lastName": "Contact"}),
                 state({"bookmarks": {"good": 2}})]
    run = run_target(config, messages, tmp_path)
    check_secrets(run)
    assert run.returncode == 0
    assert run.states == [{"bookmarks": {"good": 2}}]
    assert sorted(r["stream"] for r in run.results) == ["contacts", "good", "good"]
    rejects = run.rejects
    assert len(rejects) == 10
    reasons = {json.dumps(r["record"], sort_keys=True): r for r in rejects}

    def reason(rec: dict) -> str:
        return reasons[json.dumps(rec, sort_keys=True)]["reason"]

    assert "path parameter id" in reason(bad["patches"]) and "no value" in reason(bad["patches"])
    assert "key property name missing" in reason(bad["keyed"])
    assert "schema" in reason(bad["typed"]) and "12345" in reason(bad["typed"])
    assert "unknown entity /company/notAnEntity" in reason(bad["nowhere"])
    assert "PUT is not allowed on /company/addressFormats" in reason(bad["not_allowed"])
    assert "name" in reason(too_long) and "too long" in reason(too_long)
    assert "defaultFlag" in reason(wrong_model_type) and "schema" not in reason(wrong_model_type)
    assert "colour is not in AddressFormat" in reason(unknown_field)
    orphan = reasons[json.dumps(dangling_ref, sort_keys=True)]
    assert orphan["status"] == 400 and "company" in orphan["reason"] and "987654" in orphan["reason"]
    assert orphan["vendor_message"]
    injected = reasons[json.dumps(locked, sort_keys=True)]
    assert injected["status"] == 400
    assert "Injected: company is locked" in injected["reason"] and "name: locked" in injected["reason"]
    assert sandbox.get("/company/companies", 1)["name"] != "Renamed"
    # Only the records that passed every local check were sent.
    sent = sorted(f"{e['method']} {e['path'].split('/apis/3.0', 1)[1]} {e['status']}" for e in writes(sandbox))
    assert sent == sorted([f"POST {FORMAT} 201", f"POST {FORMAT} 201", "POST /company/contacts 201",
                           "POST /company/contacts 400", "PATCH /company/companies/1 400"])


def test_an_unmapped_stream_fails_at_its_schema(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {})
    run = run_target(config, [schema("no_such_stream"), record("no_such_stream", {"a": 1})], tmp_path, check=False)
    assert run.returncode != 0
    assert "mappings.no_such_stream" in run.stderr
    assert writes(sandbox) == []


def test_a_tap_stream_name_upserts_its_entity_without_a_mapping(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {})
    run = run_target(config, [schema("company_address_formats", FORMAT_SCHEMA, ["id"]),
                              record("company_address_formats", {"id": 2, "name": "Default map", "format": "[m]",
                                                                 "lastUpdated": "2024-01-01T00:00:00Z"})],
                     tmp_path, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert [r["method"] for r in run.results] == ["PATCH"]
    assert sandbox.get(FORMAT, 2)["name"] == "Default map"


# -- dry run ---------------------------------------------------------------------------------------
def test_dry_run_sends_nothing_and_flags_every_result(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {
        "new": {"entity": FORMAT, "method": "POST"},
        "fix": {"entity": FORMAT_ITEM, "method": "PATCH"},
        "gone": {"entity": FORMAT_ITEM, "method": "DELETE"},
        "up": {"entity": FORMAT, "method": "UPSERT", "match": ["name"]},
    }, dry_run=True)
    messages = [schema(s, FORMAT_SCHEMA) for s in ("new", "fix", "gone", "up")]
    messages += [record("new", {"name": "Dry", "format": "[d]"}), record("fix", {"id": 1, "name": "Dry fix"}),
                 record("gone", {"id": 2}), record("up", {"name": "Dry upsert", "format": "[u]"}),
                 record("new", {"name": "N" * 60, "format": "[too long]"}), state({"dry": 1}),
                 record("new", {"name": "Dry after the state", "format": "[a]"})]
    snapshot = [sandbox.get(FORMAT, i) for i in (1, 2, 3)]
    count = sandbox.count(FORMAT)
    run = run_target(config, messages, tmp_path)
    check_secrets(run)
    assert writes(sandbox) == []
    assert sandbox.count(FORMAT) == count
    assert [sandbox.get(FORMAT, i) for i in (1, 2, 3)] == snapshot
    assert len(run.results) == 5 and all(r["dry_run"] is True and r["status"] is None for r in run.results)
    assert sorted(r["method"] for r in run.results) == ["DELETE", "PATCH", "POST", "POST", "POST"]
    assert len(run.rejects) == 1  # the checks still run
    assert run.states == [{"dry": 1}]
    assert "would send PATCH" in run.stderr and '"path":"name"' in run.stderr

    # A real run afterwards (same results file) publishes everything, the record after the STATE
    # too: a dry-run line is no evidence that a record was published.
    real = run_target({**config, "dry_run": False}, messages, tmp_path)
    assert len(real.results) == 5 and not any(r.get("dry_run") for r in real.results)
    assert sandbox.count(FORMAT) == count + 3 - 1


# -- retries and failures --------------------------------------------------------------------------
def test_429_and_503_are_retried_and_publish(sandbox, tmp_path):
    sandbox.faults.add(status=503, count=2, path_prefix=FORMAT)
    sandbox.faults.add(status=429, count=1, path_prefix=FORMAT, headers={"Retry-After": "0"},
                       body={"error": "ConnectWiseAPI", "message": "Too many requests."})
    config = target_config(sandbox, tmp_path, {"new": {"entity": FORMAT, "method": "POST"}}, concurrency=1)
    messages = [schema("new", FORMAT_SCHEMA), record("new", {"name": "Retried", "format": "[r]"}),
                record("new", {"name": "Also", "format": "[a]"}), state({"ok": 1})]
    run = run_target(config, messages, tmp_path)
    check_secrets(run)
    assert run.rejects == []
    assert [r["status"] for r in run.results] == [201, 201]
    assert run.states == [{"ok": 1}]
    statuses = [e["status"] for e in writes(sandbox)]
    assert statuses == [503, 503, 429, 201, 201]
    names = [f["name"] for f in list_all(sandbox, FORMAT)]
    assert names.count("Retried") == 1 and names.count("Also") == 1


def test_a_permanent_500_fails_the_run_without_passing_state_on(sandbox, tmp_path):
    sandbox.faults.add(status=500, count=1000, path_prefix=FORMAT + "/2")
    config = target_config(sandbox, tmp_path, {
        "new": {"entity": FORMAT, "method": "POST"},
        "fix": {"entity": FORMAT_ITEM, "method": "PATCH"},
    }, max_retries=2, concurrency=1)
    messages = [schema("new", FORMAT_SCHEMA), schema("fix", FORMAT_SCHEMA),
                record("new", {"name": "Before", "format": "[b]"}), state({"position": 1}),
                record("fix", {"id": 2, "name": "Never"}), state({"position": 2})]
    run = run_target(config, messages, tmp_path, check=False)
    check_secrets(run)
    assert run.returncode != 0
    assert run.states == [{"position": 1}]  # passed on once "Before" was published; never 2
    assert len(run.checkpoints) == 1
    assert [r["stream"] for r in run.results] == ["new"]
    assert "PATCH /v2025_1/apis/3.0/company/addressFormats/2" in run.stderr and "500" in run.stderr
    assert [e["status"] for e in writes(sandbox, "/addressFormats/2")] == [500, 500]
    assert not any(r["stream"] == "fix" for r in run.results + run.rejects)


def test_wrong_credentials_fail_the_run_instead_of_rejecting_every_record(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"new": {"entity": FORMAT, "method": "POST"}},
                           private_key="wrong-private-key-123")
    messages = [schema("new", FORMAT_SCHEMA), record("new", {"name": "A", "format": "[a]"}),
                record("new", {"name": "B", "format": "[b]"}), state({"s": 1})]
    run = run_target(config, messages, tmp_path, check=False)
    assert_no_secrets(run.stdout, run.stderr)
    assert "wrong-private-key-123" not in run.stderr
    assert run.returncode != 0
    assert run.states == []
    assert run.rejects == []
    assert "401" in run.stderr


def test_refusals_name_the_settings_to_fix_as_the_taps_errors_do(sandbox, tmp_path):
    """A 403 rejects the record, a 401 stops the run: both name the credential settings."""
    settings = "check the `company_id`, `public_key` and `private_key` settings"
    sandbox.faults.add(status=403, count=1, path_prefix=FORMAT,
                       body={"code": "Forbidden", "message": "Injected: the member may not add formats"})
    config = target_config(sandbox, tmp_path, {"new": {"entity": FORMAT, "method": "POST"}}, concurrency=1)
    messages = [schema("new", FORMAT_SCHEMA), record("new", {"name": "A", "format": "[a]"}),
                record("new", {"name": "B", "format": "[b]"}), state({"s": 1})]
    run = run_target(config, messages, tmp_path)
    (reject,) = run.rejects
    assert reject["status"] == 403 and reject["vendor_message"] == "Injected: the member may not add formats"
    assert reject["reason"].startswith("POST /v2025_1/apis/3.0/company/addressFormats answered 403: Injected")
    assert settings in reject["reason"] and "security role" in reject["reason"]
    assert [r["status"] for r in run.results] == [201] and run.states == [{"s": 1}]

    (tmp_path / "again").mkdir()
    config = target_config(sandbox, tmp_path / "again", config["mappings"], private_key="wrong-private-key-123")
    run = run_target(config, messages, tmp_path / "again", check=False)
    assert run.returncode != 0 and run.rejects == [] and run.states == []
    assert "answered 401" in run.stderr and settings in run.stderr
    assert "wrong-private-key-123" not in run.stderr


def test_request_timeout_applies_to_publishing_requests(sandbox, tmp_path):
    sandbox.faults.latency(1.3)
    config = target_config(sandbox, tmp_path, {"new": {"entity": FORMAT, "method": "POST"}},
                           request_timeout=1, max_retries=2)
    started = time.monotonic()
    run = run_target(config, [schema("new", FORMAT_SCHEMA), record("new", {"name": "Slow", "format": "[s]"}),
                              state({"s": 1})], tmp_path, check=False)
    assert run.returncode != 0 and run.states == []
    assert "timed out" in run.stderr.lower()
    assert time.monotonic() - started < 15


def test_date_time_values_are_sent_as_they_came(sandbox, tmp_path):
    """singer-sdk parses date-time strings into datetimes; the target sends the original strings."""
    config = target_config(sandbox, tmp_path, {"fixes": {"entity": "/company/companies/{id}",
                                                         "method": "PATCH"}})
    company_schema = {"type": "object", "properties": {
        "id": {"type": "integer"},
        "dateAcquired": {"type": ["string", "null"], "format": "date-time"}}}
    messages = [schema("fixes", company_schema, ["id"]),
                record("fixes", {"id": 4, "dateAcquired": "2019-02-11T15:42:38Z"})]

    run = run_target(config, messages, tmp_path)

    assert run.rejects == [] and [r["status"] for r in run.results] == [200]
    assert sandbox.get("/company/companies", 4)["dateAcquired"] == "2019-02-11T15:42:38Z"
