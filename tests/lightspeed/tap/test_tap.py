"""tap-lightspeed against the Lightspeed emulator, run as users run it (a subprocess)."""

from __future__ import annotations

import math
import subprocess
from decimal import Decimal
from urllib.parse import parse_qs

import pytest

from tests.lightspeed.tap.helpers import TOKEN, discover, run_tap, start_sandbox, tap_config

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def sandbox():
    sandbox = start_sandbox(sizes={"/products": 23, "/customers": 7}, max_page_size=10)
    yield sandbox
    sandbox.stop()


def list_requests(sandbox, path):
    return [e for e in sandbox.request_log() if e["path"] == f"/api/2.0{path}"]


@pytest.mark.parametrize("rows", [0, 1, 10, 23])
def test_a_run_reads_every_row_and_ends_only_on_an_empty_page(sandbox, rows):
    """The server caps pages at 10 (the tap asks more): ceil(N/10) pages and the empty one."""
    sandbox.set_size("/products", rows)
    run = run_tap(tap_config(sandbox), ["products"])
    assert len(run.ids("products")) == rows == len(set(run.ids("products")))
    requests = list_requests(sandbox, "/products")
    assert len(requests) == math.ceil(rows / 10) + 1
    assert all("after=" in e["query"] for e in requests)
    if rows:
        assert run.final_state["bookmarks"]["products"]["replication_key_value"] == max(
            r["version"] for r in run.records["products"])


def test_money_and_quantities_are_exact(sandbox):
    run = run_tap(tap_config(sandbox), ["products"])
    prices = {r["id"]: sandbox.get("/products", r["id"]) for r in run.records["products"]}
    for row in run.records["products"]:
        for name in ("price_including_tax", "price_excluding_tax", "supply_price"):
            if row.get(name) is not None:
                assert Decimal(str(row[name])) == prices[row["id"]][name], name


def test_the_next_run_reads_what_changed_and_what_was_deleted(sandbox):
    config = tap_config(sandbox)
    first = run_tap(config, ["customers"])
    assert len(first.ids("customers")) == 7
    ids = first.ids("customers")
    sandbox.touch("/customers", ids[1])
    sandbox.delete("/customers", ids[4])
    second = run_tap(config, ["customers"], state=first.final_state)
    assert second.ids("customers") == [ids[1], ids[4]]
    deleted = second.records["customers"][1]
    assert deleted["deleted_at"] and deleted["_sdc_deleted_at"]
    queries = [e["query"] for e in list_requests(sandbox, "/customers")]
    bookmark = first.final_state["bookmarks"]["customers"]["replication_key_value"]
    assert f"after={bookmark}" in queries[-2] and "deleted=true" in queries[-2]
    third = run_tap(config, ["customers"], state=second.final_state)
    assert third.ids("customers") == []


def test_start_date_limits_the_first_run_but_is_never_sent_as_a_version(sandbox):
    all_rows = run_tap(tap_config(sandbox), ["products"]).records["products"]
    cut = sorted(r["updated_at"] for r in all_rows)[15]
    run = run_tap(tap_config(sandbox, start_date=cut), ["products"])
    assert sorted(run.ids("products")) == sorted(r["id"] for r in all_rows if r["updated_at"] >= cut)
    assert all("after=0" in e["query"] or "after=" not in e["query"] or e["query"].split("after=")[1][0].isdigit()
               for e in list_requests(sandbox, "/products"))
    assert not any(cut[:4] in e["query"] for e in list_requests(sandbox, "/products"))


def test_429_with_an_http_date_is_waited_for_and_5xx_retried(sandbox):
    sandbox.faults.add(status=503, count=1, path_prefix="/products")
    sandbox.faults.add(status=429, count=1, path_prefix="/products",
                       body={"error": "Too Many Requests", "message": "Rate limiting enforced"},
                       headers={"Retry-After": "Thu, 01 Jan 2015 00:00:00 GMT"})  # in the past: no wait
    run = run_tap(tap_config(sandbox), ["products"])
    assert len(run.ids("products")) == 23


def test_a_small_budget_is_kept_without_a_single_429(sandbox):
    """Budget 8 per 3 s, reserve 2: the tap waits on X-RateLimit-Remaining before the server refuses."""
    sandbox.requests_per_window = 8
    sandbox.throttle.configure("window", 8, 3.0)
    run = run_tap(tap_config(sandbox, rate_limit_reserve=2, rate_limit_window_seconds=3), ["products", "customers"])
    assert len(run.ids("products")) == 23 and len(run.ids("customers")) == 7
    assert sandbox.stats()["rate_limited"] == 0


def test_a_refused_token_is_one_line_naming_the_setting(sandbox):
    run = run_tap(tap_config(sandbox, token="not-the-token"), ["products"], check=False)
    assert run.returncode != 0
    assert "`token` setting" in run.stderr
    assert "not-the-token" not in run.stderr + run.stdout


def test_a_bad_base_url_is_a_config_error_naming_it(sandbox):
    with pytest.raises(subprocess.CalledProcessError) as failed:
        discover(tap_config(sandbox, base_url="shop.retail.lightspeed.app"))
    assert "base_url must be the full API root" in failed.value.stderr


def test_the_token_never_appears_in_the_output(sandbox):
    run = run_tap(tap_config(sandbox), ["products", "customers"])
    assert TOKEN not in run.stdout + run.stderr


def test_a_custom_stream_reads_a_declared_endpoint(sandbox):
    custom = [{"name": "customer_search", "endpoint": "/search", "query": {"type": "customers"}, "primary_keys": ["id"],
               "schema": {"type": "object", "properties": {"id": {"type": "string"}}}}]
    run = run_tap(tap_config(sandbox, custom_streams=custom), ["customer_search"])
    assert len(run.ids("customer_search")) == 7


def test_a_search_stream_pages_by_offset_with_the_searched_types_schema(sandbox):
    """/search (offset paging, at most 1000 a page): the tap asks offset 0, 10, 20 for 23 products
    at page_size 10 and stops at total_count; the rows carry the product schema's fields."""
    custom = [{"name": "product_search", "endpoint": "/search", "query": {"type": "products"}}]
    sandbox.reset_stats()
    run = run_tap(tap_config(sandbox, custom_streams=custom, page_size=10), ["product_search"])
    assert sorted(run.ids("product_search")) == sorted(sandbox.store.row_id("/products", i) for i in range(1, 24))
    searches = [parse_qs(e["query"]) for e in sandbox.request_log() if e["path"].endswith("/search")]
    assert [(q.get("offset"), q["page_size"]) for q in searches] == [
        (None, ["10"]), (["10"], ["10"]), (["20"], ["10"])], searches
    assert {"sku", "handle", "version"} <= set(run.schemas["product_search"]["schema"]["properties"])


def test_a_search_stream_without_a_known_type_is_a_config_error(sandbox):
    with pytest.raises(subprocess.CalledProcessError) as failed:
        discover(tap_config(sandbox, custom_streams=[
            {"name": "s", "endpoint": "/search", "query": {"type": "brands"}}]))
    assert "custom_streams[0].query.type must be one of sales, products, customers for /search; got brands" \
        in failed.value.stderr
