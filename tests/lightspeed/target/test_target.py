"""target-lightspeed against the Lightspeed (retail POS) emulator: every method, UPSERT by key and by match
(sending only what changed, or nothing), rejects with their reasons, and secrets kept out.

TODO(lightspeed): scaffolded by ``scripts/dev/new_vendor.py``; these tests hold for the scaffold's
made-up API. Rewrite them for Lightspeed (retail POS)'s write contract
(``shared/vendors/superoffice-lightspeed-saleslayer.md``).
"""

from __future__ import annotations

import pytest

from tests.lightspeed.tap.helpers import API_KEY
from tests.lightspeed.target.helpers import run_target, start_sandbox, target_config
from tests.target_runner import record, schema, state

ITEM = {"type": "object", "properties": {"id": {"type": ["integer", "null"]}, "code": {"type": ["string", "null"]},
                                         "name": {"type": ["string", "null"]}, "price": {"type": ["number", "null"]},
                                         "status": {"type": ["string", "null"]}}}


@pytest.fixture
def sandbox():
    sandbox = start_sandbox(sizes={"/items": 10})
    yield sandbox
    sandbox.stop()


def test_post_creates_and_reports_the_remote_id(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"new_items": {"entity": "/items", "method": "POST"}})
    run = run_target(config, [schema("new_items", ITEM), record("new_items", {"name": "Widget", "price": 9.5}),
                              record("new_items", {"name": "Gadget", "code": "G-1"}), state({"done": 1})], tmp_path)
    ids = sorted(r["remote_id"] for r in run.results)  # records without a key publish concurrently
    assert [r["status"] for r in run.results] == [201, 201] and ids == [11, 12]
    assert {(sandbox.get("/items", i)["name"], sandbox.get("/items", i)["code"]) for i in ids} == {
        ("Widget", None), ("Gadget", "G-1")}
    assert run.states == [{"done": 1}]


def test_upsert_by_match_patches_what_differs_and_posts_the_rest(sandbox, tmp_path):
    existing = sandbox.get("/items", 3)
    config = target_config(sandbox, tmp_path, {"products": {"entity": "/items", "method": "UPSERT",
                                                            "match": ["code"]}})
    messages = [schema("products", ITEM, ["code"]),
                record("products", {"code": existing["code"], "name": existing["name"], "price": 1.25}),
                record("products", {"code": "NEW-1", "name": "Brand new"})]
    run = run_target(config, messages, tmp_path)
    assert sorted((r["method"], r["status"]) for r in run.results) == [("PATCH", 200), ("POST", 201)]
    patch = [w for w in sandbox.write_bodies if w["method"] == "PATCH"]
    assert [w["body"] for w in patch] == [{"price": 1.25}]  # the name was the same: not sent
    assert sandbox.get("/items", 3)["price"] == 1.25

    (tmp_path / "again").mkdir()
    again = run_target(target_config(sandbox, tmp_path / "again", config["mappings"]), messages, tmp_path / "again")
    assert [r.get("skipped") for r in again.results] == ["unchanged", "unchanged"]
    assert sandbox.count("/items") == 11


def test_a_tap_stream_upserts_its_entity_by_id_without_a_mapping(sandbox, tmp_path):
    row = sandbox.get("/items", 4)
    run = run_target(target_config(sandbox, tmp_path), [
        schema("items", ITEM, ["id"]), record("items", {**{k: row[k] for k in ITEM["properties"]}, "name": "Renamed"}),
    ], tmp_path)
    assert [(r["method"], r["remote_id"]) for r in run.results] == [("PATCH", 4)]
    assert [w["body"] for w in sandbox.write_bodies] == [{"name": "Renamed"}]


def test_put_patch_and_delete(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {
        "replace": {"entity": "/items/{id}", "method": "PUT"},
        "change": {"entity": "/items/{id}", "method": "PATCH"},
        "remove": {"entity": "/items/{id}", "method": "DELETE"},
    })
    run = run_target(config, [
        schema("replace", ITEM, ["id"]), record("replace", {"id": 1, "name": "Only a name"}),
        schema("change", ITEM, ["id"]), record("change", {"id": 2, "status": "archived"}),
        schema("remove", ITEM, ["id"]), record("remove", {"id": 5}),
    ], tmp_path)
    assert sorted((r["method"], r["status"]) for r in run.results) == [("DELETE", 204), ("PATCH", 200), ("PUT", 200)]
    assert sandbox.get("/items", 1)["price"] is None  # PUT replaces the whole object
    assert sandbox.get("/items", 2)["status"] == "archived"
    assert sandbox.get("/items", 5) is None


def test_bad_records_are_rejected_with_the_reason_and_never_sent(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"new_items": {"entity": "/items", "method": "POST"},
                                               "remove": {"entity": "/items/{id}", "method": "DELETE"}})
    open_schema = {"type": "object", "properties": {}}
    run = run_target(config, [
        schema("new_items", open_schema),
        record("new_items", {"name": "Fine"}),
        record("new_items", {"name": "X", "colour": "red"}),
        record("new_items", {"price": 3}),
        record("new_items", {"name": "Y", "status": "lost"}),
        schema("remove", open_schema), record("remove", {"name": "no id"}),
    ], tmp_path)
    # records are checked by the publishing workers, so rejects come in any order
    reasons = {r["record"].get("name"): r["reason"] for r in run.rejects_of("new_items")}
    assert "field colour is not in Item (/items)" in reasons["X"]
    assert "'name' is a required property" in reasons[None]
    assert "status: 'lost' is not one of" in reasons["Y"]
    assert "path parameter id of /items/{id} has no value" in run.rejects_of("remove")[0]["reason"]
    assert len(run.results) == 1 and [w["body"] for w in sandbox.write_bodies] == [{"name": "Fine"}]


def test_a_refused_write_is_a_reject_with_the_vendors_message(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"change": {"entity": "/items/{id}", "method": "PATCH"}})
    run = run_target(config, [schema("change", ITEM, ["id"]), record("change", {"id": 999, "name": "Ghost"})],
                     tmp_path)
    assert run.results == [] and "answered 404: /items/999 not found" in run.rejects[0]["reason"]


def test_a_wrong_api_key_stops_the_run_without_a_secret(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"new_items": {"entity": "/items", "method": "POST"}},
                           api_key="wrong-key-0000")
    run = run_target(config, [schema("new_items", ITEM), record("new_items", {"name": "A"}), state({"s": 1})],
                     tmp_path, check=False)
    assert run.returncode != 0 and "401" in run.stderr
    assert run.states == [] and run.rejects == []  # no record is blamed for the credentials
    assert "wrong-key-0000" not in run.stdout + run.stderr and API_KEY not in run.stdout + run.stderr
