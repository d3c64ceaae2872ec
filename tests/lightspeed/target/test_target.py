"""target-lightspeed against the Lightspeed emulator: creates, UPSERT by id and by match fields (sending
what changed, or nothing), products through POST 2.0 and PUT 2.1, sales through register_sales,
deletes, rejects with their reasons, and the token kept out."""

from __future__ import annotations

import json

import pytest

from tests.lightspeed.tap.helpers import TOKEN
from tests.lightspeed.target.helpers import run_target, start_sandbox, target_config
from tests.target_runner import record, schema, state

OPEN = {"type": "object", "properties": {}}
CUSTOMER = {"type": "object", "properties": {
    "id": {"type": ["string", "null"]}, "first_name": {"type": ["string", "null"]},
    "last_name": {"type": ["string", "null"]}, "email": {"type": ["string", "null"]},
    "note": {"type": ["string", "null"]}}}


@pytest.fixture
def sandbox():
    sandbox = start_sandbox(sizes={"/customers": 6, "/products": 6, "/registers": 1})
    yield sandbox
    sandbox.stop()


def customer_ids(sandbox):
    return [row["id"] for row in sandbox.store.page("/customers", None, 0, None, 100, deleted=False)]


def test_post_creates_customers_and_reports_the_remote_id(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"new_customers": {"entity": "/customers", "method": "POST"}})
    run = run_target(config, [schema("new_customers", CUSTOMER),
                              record("new_customers", {"first_name": "Zoë", "last_name": "Ærø", "email": "z@x.test"}),
                              state({"done": 1})], tmp_path)
    assert [r["status"] for r in run.results] == [201]
    created = sandbox.get("/customers", run.results[0]["remote_id"])
    assert (created["first_name"], created["last_name"], created["email"]) == ("Zoë", "Ærø", "z@x.test")
    assert run.states == [{"done": 1}]


def test_upsert_by_email_puts_what_differs_posts_the_rest_and_a_rerun_sends_nothing(sandbox, tmp_path):
    existing = sandbox.get("/customers", customer_ids(sandbox)[2])
    config = target_config(sandbox, tmp_path, {"people": {"entity": "/customers", "method": "UPSERT",
                                                          "match": ["email"]}})
    messages = [schema("people", CUSTOMER, ["email"]),
                record("people", {"email": existing["email"], "first_name": existing["first_name"],
                                  "last_name": existing["last_name"], "note": "VIP"}),
                record("people", {"email": "new@x.test", "first_name": "New", "last_name": "Person"})]
    run = run_target(config, messages, tmp_path)
    assert sorted((r["method"], r["status"]) for r in run.results) == [("POST", 201), ("PUT", 200)]
    put = [w for w in sandbox.write_bodies if w["method"] == "PUT"]
    # what changed, plus the names Lightspeed requires on every PUT
    assert [w["body"] for w in put] == [{"note": "VIP", "first_name": existing["first_name"],
                                         "last_name": existing["last_name"]}]
    assert sandbox.get("/customers", existing["id"])["note"] == "VIP"

    (tmp_path / "again").mkdir()
    again = run_target(target_config(sandbox, tmp_path / "again", config["mappings"]), messages, tmp_path / "again")
    assert [r.get("skipped") for r in again.results] == ["unchanged", "unchanged"]
    assert sandbox.count("/customers") == 7


def test_a_tap_customers_row_is_written_back_by_id_without_a_mapping(sandbox, tmp_path):
    row = json.loads(json.dumps(sandbox.get("/customers", customer_ids(sandbox)[0]), default=float))
    run = run_target(target_config(sandbox, tmp_path), [
        schema("customers", OPEN, ["id"]), record("customers", {**row, "note": "synced"})], tmp_path)
    assert [(r["method"], r["remote_id"]) for r in run.results] == [("PUT", row["id"])]
    assert [w["body"]["note"] for w in sandbox.write_bodies] == ["synced"]
    assert set(sandbox.write_bodies[0]["body"]) == {"note", "first_name", "last_name"}


def test_products_are_created_with_post_2_0_and_updated_with_put_2_1(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"items": {"entity": "/products", "method": "UPSERT", "match": ["sku"]}})
    messages = [schema("items", OPEN, ["sku"]),
                record("items", {"sku": "SKU-000002", "name": "Renamed", "price_excluding_tax": 12.3}),
                record("items", {"sku": "NEW-1", "name": "Brand new", "price_including_tax": 0.1})]
    run = run_target(config, messages, tmp_path)
    assert sorted((r["method"], r["status"]) for r in run.results) == [("POST", 200), ("PUT", 200)]
    put = next(w for w in sandbox.write_bodies if w["method"] == "PUT")
    assert put["path"].startswith("/api/2.1/products/")
    assert put["body"]["common"]["name"] == "Renamed" and float(put["body"]["details"]["price_excluding_tax"]) == 12.3
    new_id = next(r["remote_id"] for r in run.results if r["method"] == "POST")
    assert sandbox.get("/products", new_id)["name"] == "Brand new"


def test_a_sale_is_created_through_register_sales(sandbox, tmp_path):
    register = sandbox.store.page("/registers", None, 0, None, 1, deleted=False)[0]["id"]
    product = sandbox.store.page("/products", None, 0, None, 1, deleted=False)[0]["id"]
    config = target_config(sandbox, tmp_path, {"sales": {"entity": "/api/register_sales", "method": "POST"}})
    run = run_target(config, [schema("sales", OPEN), record("sales", {
        "register_id": register, "status": "CLOSED",
        "register_sale_products": [{"product_id": product, "quantity": 2, "price": 2.675, "tax": 0.1}],
        "register_sale_payments": [{"amount": 5.55, "payment_date": "2026-01-01T10:00:00Z"}]})], tmp_path)
    assert [r["status"] for r in run.results] == [200]
    sale = sandbox.get("/sales", run.results[0]["remote_id"])
    assert str(sale["total_price"]) == "5.350" and sale["line_items"][0]["product_id"] == product


def test_delete_soft_deletes(sandbox, tmp_path):
    victim = customer_ids(sandbox)[3]
    config = target_config(sandbox, tmp_path, {"gone": {"entity": "/customers/{customer_id}", "method": "DELETE"}})
    run = run_target(config, [schema("gone", OPEN, ["customer_id"]), record("gone", {"customer_id": victim})], tmp_path)
    assert [(r["method"], r["status"]) for r in run.results] == [("DELETE", 204)]
    assert sandbox.get("/customers", victim) is None and sandbox.count("/customers") == 5


def test_bad_records_are_rejected_with_the_reason_and_never_sent(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"new_customers": {"entity": "/customers", "method": "POST"},
                                               "new_products": {"entity": "/products", "method": "POST"}})
    run = run_target(config, [
        schema("new_customers", OPEN),
        record("new_customers", {"first_name": "Fine", "last_name": "One"}),
        record("new_customers", {"first_name": "X", "last_name": "Y", "colour": "red"}),
        record("new_customers", {"first_name": "NoLast"}),
        record("new_customers", {"first_name": "Typed", "last_name": "Wrong", "enable_loyalty": "yes"}),
        schema("new_products", OPEN),
        record("new_products", {"name": "Both", "price_including_tax": 1, "price_excluding_tax": 1}),
    ], tmp_path)
    reasons = {r["record"].get("first_name") or r["record"].get("name"): r["reason"] for r in run.rejects}
    assert "field colour is not in CustomerBase" in reasons["X"]
    assert "last_name missing" in reasons["NoLast"]
    assert "enable_loyalty" in reasons["Typed"]
    assert "not both" in reasons["Both"]
    assert len(run.results) == 1 and [w["body"] for w in sandbox.write_bodies] == [
        {"first_name": "Fine", "last_name": "One"}]


def test_a_refused_write_is_a_reject_with_lightspeeds_message(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"change": {"entity": "/customers/{customer_id}", "method": "PUT"}})
    run = run_target(config, [schema("change", OPEN), record("change", {
        "customer_id": "00000000-0000-4000-8000-000000000999", "first_name": "Ghost", "last_name": "G"})], tmp_path)
    assert run.results == [] and "answered 404" in run.rejects[0]["reason"]
    assert "not found" in run.rejects[0]["reason"]


def test_a_refused_token_stops_the_run_without_a_secret(sandbox, tmp_path):
    config = target_config(sandbox, tmp_path, {"new_customers": {"entity": "/customers", "method": "POST"}},
                           token="wrong-token-0000")
    run = run_target(config, [schema("new_customers", OPEN),
                              record("new_customers", {"first_name": "A", "last_name": "B"}), state({"s": 1})],
                     tmp_path, check=False)
    assert run.returncode != 0 and "`token` setting" in run.stderr
    assert run.states == [] and run.rejects == []  # no record is blamed for the credentials
    assert "wrong-token-0000" not in run.stdout + run.stderr and TOKEN not in run.stdout + run.stderr


def test_a_forbidden_write_is_rejected_saying_what_to_fix(sandbox, tmp_path):
    """The connection's hint (as in the tap's errors) follows Lightspeed's message."""
    sandbox.faults.add(status=403, count=1, path_prefix="/api/2.0/customers",
                       body={"error": "Forbidden", "message": "Injected: the app lacks the customers scope"})
    config = target_config(sandbox, tmp_path, {"new_customers": {"entity": "/customers", "method": "POST"}},
                           concurrency=1)
    run = run_target(config, [schema("new_customers", OPEN),
                              record("new_customers", {"first_name": "A", "last_name": "B"}),
                              record("new_customers", {"first_name": "C", "last_name": "D"})], tmp_path)
    (reject,) = run.rejects
    assert reject["status"] == 403 and "Injected: the app lacks the customers scope" in reject["reason"]
    assert reject["reason"].endswith("; Lightspeed refused the request: the token's user or app lacks "
                                     "permission for this endpoint")
    assert [r["status"] for r in run.results] == [201]
