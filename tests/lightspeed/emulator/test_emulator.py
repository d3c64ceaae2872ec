"""The Lightspeed Retail X-Series emulator keeps the contract (§2.1): tokens, the version cursor,
deletions, the 5-minute budget with an HTTP-date Retry-After, writes and their checks."""

from __future__ import annotations

import email.utils
import time
from decimal import Decimal

import pytest
import requests

from connector_sandbox.lightspeed import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TOKEN, LightspeedSandbox

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


@pytest.fixture
def ls():
    with LightspeedSandbox(sizes={"/products": 25, "/customers": 4}, max_page_size=10) as sandbox:
        yield sandbox


def get(ls, path, **params):
    return requests.get(ls.api_url + path, params=params, headers=AUTH, timeout=10)


def test_tokens_go_in_the_header_only(ls):
    assert requests.get(ls.api_url + "/products", timeout=10).status_code == 401
    assert requests.get(ls.api_url + "/products", headers={"Authorization": "Bearer nope"}, timeout=10).json() == {
        "error": "Unauthorized", "message": "invalid or revoked token"}
    url_token = requests.get(ls.api_url + "/products", params={"access_token": DEFAULT_TOKEN}, timeout=10)
    assert url_token.status_code == 401 and "URL" in url_token.json()["message"]


def test_the_version_cursor_pages_to_an_empty_page_with_a_cap_below_the_ask(ls):
    seen, after, pages = [], 0, 0
    while True:
        body = get(ls, "/products", after=after, page_size=5000).json()
        pages += 1
        if not body["data"]:
            assert body["version"] is None
            break
        assert len(body["data"]) <= 10  # capped silently below the ask
        versions = [row["version"] for row in body["data"]]
        assert versions == sorted(versions) and min(versions) > after
        assert body["version"] == {"min": versions[0], "max": versions[-1]}
        seen += [row["id"] for row in body["data"]]
        after = body["version"]["max"]
    assert len(seen) == len(set(seen)) == 25 and pages == 4


def test_versions_are_global_and_not_contiguous(ls):
    products = [r["version"] for r in get(ls, "/products", page_size=10).json()["data"]]
    customers = [r["version"] for r in get(ls, "/customers", page_size=10).json()["data"]]
    assert not set(products) & set(customers)
    assert any(b - a > 1 for a, b in zip(products, products[1:]))


def test_a_change_moves_a_row_past_the_bookmark_and_deletions_show_with_deleted_true(ls):
    rows = get(ls, "/customers", page_size=10).json()["data"]
    bookmark = rows[-1]["version"]
    ls.touch("/customers", rows[0]["id"])
    ls.delete("/customers", rows[1]["id"])
    changed = get(ls, "/customers", after=bookmark).json()["data"]
    assert [r["id"] for r in changed] == [rows[0]["id"]]
    with_deleted = get(ls, "/customers", after=bookmark, deleted="true").json()["data"]
    assert [r["id"] for r in with_deleted] == [rows[0]["id"], rows[1]["id"]] and with_deleted[1]["deleted_at"]
    assert get(ls, f"/customers/{rows[1]['id']}").status_code == 404


def test_an_undocumented_parameter_or_a_bad_value_is_a_400(ls):
    assert get(ls, "/products", page=2).json()["message"] == "unknown query parameter 'page' for /products"
    assert get(ls, "/products", after="2024-01-01").status_code == 400
    assert get(ls, "/sales", deleted="true").status_code == 400  # /sales offers no deleted


def test_the_budget_headers_and_a_429_with_an_http_date():
    with LightspeedSandbox(sizes={"/registers": 1}, requests_per_window=None) as ls:
        first = get(ls, "/outlets")
        assert first.headers["X-RateLimit-Limit"] == "350"  # 300 x 1 register + 50
        assert first.headers["X-RateLimit-Remaining"] == "349"
        ls.requests_per_window = 3
        ls.throttle.clear_usage()
        assert [get(ls, "/outlets").status_code for _ in range(3)] == [200, 200, 200]
        refused = get(ls, "/outlets")
        assert refused.status_code == 429
        assert refused.json() == {"error": "Too Many Requests", "message": "Rate limiting enforced"}
        retry_at = email.utils.parsedate_to_datetime(refused.headers["Retry-After"])
        assert retry_at.tzinfo is not None and 200 < retry_at.timestamp() - time.time() <= 301


def test_oauth_refresh_rotates_and_revokes_the_old_token(ls):
    tokens = ls.issue_tokens()
    assert get_with(ls, tokens["access_token"]).status_code == 200
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET}
    fresh = requests.post(ls.token_url, data=form, timeout=10).json()
    assert fresh["refresh_token"] != tokens["refresh_token"] and fresh["domain_prefix"] == "sandbox"
    assert isinstance(fresh["expires"], int) and fresh["expires_in"] == 86400
    assert requests.post(ls.token_url, data=form, timeout=10).status_code == 400  # the old one is dead
    assert requests.post(ls.token_url, json=form, timeout=10).status_code == 400  # form bodies only


def get_with(ls, token):
    return requests.get(ls.api_url + "/products", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_writes_answer_the_documented_shapes_and_check_bodies(ls):
    created = requests.post(ls.api_url + "/customers", json={"first_name": "Zoë", "last_name": "Ø"}, headers=AUTH,
                            timeout=10)
    assert created.status_code == 201 and created.json()["data"]["name"] == "Zoë Ø"
    brand = requests.post(ls.api_url + "/brands", json={"name": "Acme"}, headers=AUTH, timeout=10)
    assert brand.status_code == 200 and isinstance(brand.json()["data"], str)
    product = requests.post(ls.api_url + "/products", json={"name": "P", "price_excluding_tax": 0.1}, headers=AUTH,
                            timeout=10)
    assert product.status_code == 200 and isinstance(product.json()["data"], list)
    both = requests.post(ls.api_url + "/products", json={"name": "P", "price_excluding_tax": 1,
                                                          "price_including_tax": 1.1}, headers=AUTH, timeout=10)
    assert both.status_code == 422 and "not both" in both.json()["message"]
    missing = requests.post(ls.api_url + "/customers", json={"first_name": "A"}, headers=AUTH, timeout=10)
    assert missing.status_code == 422 and missing.json()["message"] == "last_name: is required"
    unknown = requests.post(ls.api_url + "/tags", json={"name": "t", "colour": "red"}, headers=AUTH, timeout=10)
    assert unknown.status_code == 422 and "colour" in unknown.json()["message"]
    assert requests.delete(f"{ls.api_url}/customers/{created.json()['data']['id']}", headers=AUTH,
                           timeout=10).status_code == 204


def test_products_update_through_2_1_and_sales_through_register_sales(ls):
    product = get(ls, "/products", page_size=1).json()["data"][0]
    url = f"{ls.url}/api/2.1/products/{product['id']}"
    assert requests.put(url, json={"name": "flat"}, headers=AUTH, timeout=10).status_code == 422
    assert requests.put(url, json={"common": {"name": "New"}, "details": {"price_excluding_tax": 2.675}},
                        headers=AUTH, timeout=10).status_code == 200
    assert ls.get("/products", product["id"])["price_excluding_tax"] == Decimal("2.675")
    register = get(ls, "/registers").json()["data"][0]["id"]
    sale = requests.post(f"{ls.url}/api/register_sales", headers=AUTH, timeout=10, json={
        "register_id": register, "register_sale_products": [{"product_id": product["id"], "quantity": 3,
                                                             "price": 0.1}]})
    assert sale.status_code == 200
    assert str(ls.get("/sales", sale.json()["register_sale"]["id"])["total_price"]) == "0.3"  # exact


def test_same_seed_same_bytes_and_large_sizes_stay_lazy():
    with LightspeedSandbox(seed=7, sizes={"/products": 1_000_000}) as a, LightspeedSandbox(seed=7) as b:
        b.set_size("/products", 1_000_000)
        last = 1_000_000 * 64
        assert get(a, "/products", after=last - 640).content == get(b, "/products", after=last - 640).content
        assert len(get(a, "/products", after=last - 640).json()["data"]) == 11  # ids 999990..1000000
        assert a.materialized_records() == 0
