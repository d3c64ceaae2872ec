"""The TMPL_SYSTEM emulator's contract: authentication, pages, filters, the quota, writes and their
validation, the control plane and the command line.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``; these tests hold for the scaffold's
made-up API. Rewrite them from TMPL_SYSTEM's documented contract
(``TMPL_DOC``), each
with the sentence of the docs it checks.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
import requests

from connector_sandbox.cli import build_parser
from connector_sandbox.registry import emulators
from connector_sandbox.tmplvendor import DEFAULT_API_KEY, TmplVendorSandbox
from connector_sandbox.tmplvendor.cli import TmplVendorEmulator


@pytest.fixture
def sandbox():
    sandbox = TmplVendorSandbox(sizes={"/items": 120}, requests_per_minute=None)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def api(sandbox):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {DEFAULT_API_KEY}"
    return session


def test_every_request_needs_the_api_key(sandbox):
    assert requests.get(f"{sandbox.api_url}/items").status_code == 401
    wrong = requests.get(f"{sandbox.api_url}/items", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"


def test_pages_in_id_order_until_next_page_is_null(sandbox, api):
    first = api.get(f"{sandbox.api_url}/items", params={"per_page": 100}).json()
    assert [r["id"] for r in first["data"]] == list(range(1, 101)) and first["next_page"] == 2
    last = api.get(f"{sandbox.api_url}/items", params={"per_page": 100, "page": 2}).json()
    assert [r["id"] for r in last["data"]] == list(range(101, 121)) and last["next_page"] is None
    assert len(api.get(f"{sandbox.api_url}/items").json()["data"]) == 25  # the default page


@pytest.mark.parametrize("query", [{"per_page": 101}, {"per_page": 0}, {"page": "x"}, {"colour": "red"},
                                   {"updated_since": "yesterday"}])
def test_a_bad_query_parameter_is_a_400_naming_it(sandbox, api, query):
    answer = api.get(f"{sandbox.api_url}/items", params=query)
    assert answer.status_code == 400 and answer.json()["error"]["field"] == next(iter(query))


def test_updated_since_is_inclusive_and_sees_writes(sandbox, api):
    since = sandbox.get("/items", 110)["updated_at"]
    rows = api.get(f"{sandbox.api_url}/items", params={"updated_since": since, "per_page": 100}).json()["data"]
    assert [r["id"] for r in rows] == list(range(110, 121))
    sandbox.clock.advance(60)
    sandbox.touch("/items", [3])
    later = sandbox.get("/items", 3)["updated_at"]
    rows = api.get(f"{sandbox.api_url}/items", params={"updated_since": later}).json()["data"]
    assert [r["id"] for r in rows] == [3]


def test_filters_match_fields_exactly(sandbox, api):
    code = sandbox.get("/items", 7)["code"]
    rows = api.get(f"{sandbox.api_url}/items", params={"code": code}).json()["data"]
    assert [r["id"] for r in rows] == [7]


def test_the_quota_answers_429_with_its_headers_and_retry_after(sandbox, api):
    sandbox.set_requests_per_minute(2)
    ok = api.get(f"{sandbox.api_url}/items")
    assert ok.headers["X-RateLimit-Limit"] == "2" and ok.headers["X-RateLimit-Remaining"] == "1"
    api.get(f"{sandbox.api_url}/items")
    refused = api.get(f"{sandbox.api_url}/items")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert int(refused.headers["X-RateLimit-Reset"]) > sandbox.clock.timestamp()
    sandbox.clock.advance(60)
    assert api.get(f"{sandbox.api_url}/items").status_code == 200


def test_writes_and_their_status_codes(sandbox, api):
    created = api.post(f"{sandbox.api_url}/items", json={"name": "Widget", "price": 2.5})
    assert created.status_code == 201 and created.json()["id"] == 121
    assert created.headers["Location"].endswith("/items/121") and created.json()["updated_at"]
    patched = api.patch(f"{sandbox.api_url}/items/121", json={"status": "archived"})
    assert patched.status_code == 200 and patched.json()["price"] == 2.5 and patched.json()["status"] == "archived"
    replaced = api.put(f"{sandbox.api_url}/items/121", json={"name": "Widget II"})
    assert replaced.status_code == 200 and replaced.json()["price"] is None  # a whole replacement
    assert api.delete(f"{sandbox.api_url}/items/121").status_code == 204
    assert api.get(f"{sandbox.api_url}/items/121").status_code == 404
    assert api.delete(f"{sandbox.api_url}/items").status_code == 405
    assert sandbox.count("/items") == 120


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"name": "A", "colour": "red"}, "colour", "unknown_field"),
    ({"name": "A", "id": 5}, "id", "read_only_field"),
    ({"price": 1}, "name", "required"),
    ({"name": 5}, "name", "validation_failed"),
    ({"name": "A", "status": "lost"}, "status", "validation_failed"),
    ({"name": "A" * 101}, "name", "validation_failed"),
])
def test_bodies_are_validated_against_the_model(sandbox, api, body, field, code):
    answer = api.post(f"{sandbox.api_url}/items", json=body)
    assert answer.status_code == 422
    assert (answer.json()["error"]["field"], answer.json()["error"]["code"]) == (field, code)
    assert sandbox.count("/items") == 120


def test_the_control_plane(sandbox):
    control = f"{sandbox.url}/__sandbox/tmplvendor"
    assert requests.post(f"{control}/create", json={"path": "/items", "record": {"name": "Made"}}).status_code == 201
    assert requests.get(f"{control}/count", params={"path": "/items"}).json() == {"count": 121}
    assert requests.post(f"{control}/create", json={"path": "/items", "record": {}}).status_code == 400
    requests.post(f"{control}/size", json={"path": "/items", "n": 100_000})
    assert sandbox.count("/items") == 100_001 and sandbox.materialized_records() == 1
    requests.post(f"{sandbox.url}/__sandbox/reset", json={"data": True})
    assert sandbox.count("/items") == 100_000


def test_the_command_line_finds_the_emulator():
    assert "tmplvendor" in {ep.name for ep in entry_points(group="connector_sandbox.emulators")}
    assert isinstance(emulators()["tmplvendor"], TmplVendorEmulator)
    args = build_parser({"tmplvendor": TmplVendorEmulator()}).parse_args(
        ["tmplvendor", "--port", "0", "--size", "/items=7", "--requests-per-minute", "5"])
    server = TmplVendorEmulator().build(args)
    assert server.count("/items") == 7 and server.quota.limit("minute") == 5
