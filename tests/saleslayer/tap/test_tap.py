"""tap-saleslayer against the Sales Layer emulator, run as users run it (a subprocess).

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §3.1.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from urllib.parse import parse_qs

import pytest

from connector_sandbox.clock import Clock
from tests.saleslayer.tap.helpers import (
    CONNECTOR_ID,
    PRIVATE_KEY,
    TABLES,
    discover,
    reads,
    run_cli,
    run_tap,
    select,
    start_sandbox,
    tap_config,
)

pytestmark = pytest.mark.timeout(180)
SIZES = {"catalogue": 6, "products": 1200, "product_formats": 40, "brands": 3}


@pytest.fixture
def sandbox():
    sandbox = start_sandbox(sizes=SIZES)
    yield sandbox
    sandbox.stop()


def query(entry: dict) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(entry["query"], keep_blank_values=True).items()}


def test_discovery_types_every_table_from_data_schema_info_and_reads_no_catalogue(sandbox):
    """[SL-SDK]: every answer carries data_schema/data_schema_info; discovery reads one page of the
    changes since the server's now (test=1 gives it), never the catalogue's pages."""
    catalog = discover(tap_config(sandbox))
    streams = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    assert set(streams) == set(TABLES)
    products = streams["products"]["schema"]["properties"]
    assert products["ID"]["type"] == ["integer"]
    assert products["ID_catalogue"] == {"type": ["array", "null"], "items": {"type": ["integer"]},
                                        "title": "ID_catalogue"}
    assert products["product_price"]["type"] == ["number", "null"]
    assert products["product_active"]["type"] == ["boolean", "null"]
    assert products["product_release_date"]["format"] == "date-time"
    assert {"product_name_en", "product_name_es", "product_name_fr"} <= set(products)
    assert set(products["product_image"]["items"]["properties"]) == {"ID", "ORG", "THM", "MED"}
    assert streams["catalogue"]["schema"]["properties"]["ID_PARENT"]["type"] == ["integer", "null"]
    assert streams["products"]["key_properties"] == ["ID"]
    calls = [query(e) for e in sandbox.request_log()]
    assert len(calls) == 2 and calls[0]["test"] == "1"
    assert int(calls[1]["last_update"]) >= int(calls[0]["time"]) - 1 and calls[1]["pagination"] == "1"
    assert "page_token" not in calls[1]


def test_one_export_feeds_every_stream_and_every_row_comes_once(sandbox):
    """1.18 pages span tables; one export (next_page as given until absent) for the four streams."""
    sandbox.reset_stats()
    run = run_tap(tap_config(sandbox, page_size=500))
    for table in TABLES:
        ids = run.ids(table, "ID")
        assert len(ids) == len(set(ids)) == sandbox.count(table), table
    calls = [query(e) for e in reads(sandbox)]
    starts = [c for c in calls if "page_token" not in c]
    follows = [c for c in calls if "page_token" in c]
    assert len(starts) == 2  # discovery's page, then the run's one export
    assert follows and all("key256" not in c for c in follows)  # followed as given
    assert starts[1]["ver"] == "1.18" and starts[1]["pagination"] == "500"
    assert "last_update" not in starts[1]  # a first run without start_date: everything
    bookmark = {s["replication_key_value"] for s in run.final_state["bookmarks"].values()}
    assert len(bookmark) == 1  # one bookmark for the connector: the export's server time


def test_rows_are_converted_by_their_declared_type(sandbox):
    """Numbers and booleans may arrive as strings; date-times without a zone; files as lists."""
    run = run_tap(tap_config(sandbox, timezone="Europe/Madrid"), ["products", "brands"])
    for row in run.records["products"]:
        assert isinstance(row["product_stock"], (int, type(None)))
        assert isinstance(row["product_active"], (bool, type(None)))
        assert row["product_price"] is None or isinstance(row["product_price"], (int, float))
        assert all(isinstance(i, int) for i in row["ID_catalogue"])
        if row["product_release_date"]:
            assert dt.datetime.fromisoformat(row["product_release_date"]).utcoffset() in (
                dt.timedelta(hours=1), dt.timedelta(hours=2))
        for image in row["product_image"]:
            assert set(image) == {"ID", "ORG", "THM", "MED"}
    # Exact: the emitted numbers are the emulator's own (decoded as Decimal, written as numbers).
    for row in run.records["products"][:200]:
        stored = sandbox.get("products", row["ID"])
        assert row["product_price"] == stored["product_price"] and row["product_stock"] == stored["product_stock"]
        assert row["product_tags"] == stored["product_tags"] and row["product_name_fr"] == stored["product_name_fr"]
        assert [image["ID"] for image in row["product_image"]] == stored["product_image"]


def test_the_next_run_reads_what_changed_and_reports_deletions(sandbox):
    """[SL-LU]: last_update = the previous answer's server time; D rows are deletions."""
    config = tap_config(sandbox)
    first = run_tap(config, ["products", "product_formats"])
    bookmark = first.final_state["bookmarks"]["products"]["replication_key_value"]
    sandbox.touch("products", [5, 6])
    sandbox.delete("products", 7)
    sandbox.reset_stats()
    second = run_tap(config, ["products", "product_formats"], state=first.final_state)
    changed = {r["ID"]: r for r in second.records["products"]}
    assert set(changed) == {5, 6, 7}
    assert changed[7]["_sdc_deleted_at"] is not None and changed[5]["_sdc_deleted_at"] is None
    assert changed[5]["product_name_en"].endswith(" *") or any(
        str(v).endswith(" *") for v in changed[5].values())
    export = next(query(e) for e in reads(sandbox) if "page_token" not in query(e) and
                  query(e).get("pagination") != "1")
    assert int(export["last_update"]) == int(dt.datetime.fromisoformat(bookmark).timestamp())
    assert len(second.records["products"]) < sandbox.count("products")
    # Every selected stream carries the new export's time, rows or not: the connector's one bookmark.
    bookmarks = {name: b["replication_key_value"] for name, b in second.final_state["bookmarks"].items()}
    assert set(bookmarks) == {"products", "product_formats"} and len(set(bookmarks.values())) == 1
    assert bookmarks["products"] >= bookmark


def test_start_date_is_the_first_runs_last_update(sandbox):
    """Without a bookmark, start_date is sent as last_update: only what changed since is read."""
    start = "2024-01-01T00:00:00Z"
    sandbox.reset_stats()
    run = run_tap(tap_config(sandbox, start_date=start), ["products"])
    export = [query(e) for e in reads(sandbox) if "page_token" not in query(e)][-1]
    assert export["last_update"] == str(int(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()))
    assert 0 < len(run.records["products"]) < sandbox.count("products")


def test_languages_keeps_the_chosen_languages_columns(sandbox):
    catalog = discover(tap_config(sandbox, languages=["es"]))
    products = next(e for e in catalog["streams"] if e["tap_stream_id"] == "products")["schema"]["properties"]
    assert "product_name_es" in products and "product_name_en" not in products and "product_name_fr" not in products
    assert "product_price" in products  # not multilingual: kept


def test_every_call_is_signed_afresh_with_sha256(sandbox):
    """[SL-CALL]: key256 = SHA-256(code + private key + time + unique); a fresh unique every call."""
    run_tap(tap_config(sandbox), ["brands"])
    signed = [query(e) for e in sandbox.request_log() if "key256" in e["query"]]
    assert len(signed) >= 3
    assert len({c["unique"] for c in signed}) == len(signed)
    for call in signed:
        assert call["code"] == CONNECTOR_ID
        expected = hashlib.sha256(f"{CONNECTOR_ID}{PRIVATE_KEY}{call['time']}{call['unique']}".encode()).hexdigest()
        assert call["key256"] == expected
        assert PRIVATE_KEY not in str(call)


def test_temporary_errors_are_retried_with_a_new_signature(sandbox):
    """10 blocked, 11 unavailable, 14 updating data: retried; a retry reusing its unique would get 3."""
    config = tap_config(sandbox)
    catalog = select(discover(config), ["brands"])
    sandbox.temporary_error(11, 1)
    sandbox.temporary_error(14, 1)
    run = run_tap(config, catalog=catalog)
    assert len(run.records["brands"]) == SIZES["brands"]
    assert "error 11" in run.stderr and "error 14" in run.stderr


def test_a_wrong_private_key_fails_at_once_naming_the_setting(sandbox):
    wrong = "not-the-key-3b2c"
    result = run_cli(tap_config(sandbox, private_key=wrong), "--discover")
    assert result.returncode == 1
    assert "error 9" in result.stderr and "`private_key`" in result.stderr
    assert wrong not in result.stderr + result.stdout
    assert len(sandbox.request_log()) == 1  # no retry


def test_a_wrong_connector_code_names_connector_id(sandbox):
    result = run_cli(tap_config(sandbox, connector_id="CN000H0000C999"), "--discover")
    assert result.returncode == 1 and "error 2" in result.stderr and "`connector_id`" in result.stderr


def test_a_clock_off_by_an_hour_is_corrected_from_the_servers_time():
    """12/13 are clock skew: the answer's server time corrects the signature once."""
    ahead = start_sandbox(sizes={"brands": 2, "products": 2, "catalogue": 1, "product_formats": 1},
                          clock=Clock(dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)))
    try:
        run = run_tap(tap_config(ahead), ["brands"])
        assert len(run.records["brands"]) == 2
        assert "clock is" in run.stderr and "error 13" in run.stderr or "error 12" in run.stderr
    finally:
        ahead.stop()


def test_without_group_category_id_a_product_is_one_row_per_category(sandbox):
    config = tap_config(sandbox, group_category_id=False)
    catalog = discover(config)
    products = next(e for e in catalog["streams"] if e["tap_stream_id"] == "products")
    assert products["key_properties"] == ["ID", "ID_catalogue"]
    assert products["schema"]["properties"]["ID_catalogue"]["type"] == ["integer", "null"]
    run = run_tap(config, ["products"], catalog=None)
    assert len(run.records["products"]) >= sandbox.count("products")


def test_the_connectors_own_parameters_are_settings(sandbox):
    run_tap(tap_config(sandbox, parents_category_tree=True, same_parent_variants=True,
                       add_empty_categories=True), ["brands"])
    export = [query(e) for e in reads(sandbox) if "page_token" not in query(e)][-1]
    assert export["parents_category_tree"] == "1" and export["same_parent_variants"] == "1"
    assert export["add_empty_categories"] == "1" and export["group_category_id"] == "1"


def test_query_passes_other_parameters_and_sales_layers_refusal_is_shown(sandbox):
    """The emulator knows no `channel` parameter: Sales Layer's validation error (1) ends the run."""
    result = run_cli(tap_config(sandbox, query={"channel": "web"}), "--discover")
    assert result.returncode == 1 and "error 1 (Validation error)" in result.stderr and "channel" in result.stderr
    assert any("channel=web" in e["query"] for e in sandbox.request_log())


def test_query_cannot_override_what_the_tap_sends(sandbox):
    result = run_cli(tap_config(sandbox, query={"last_update": "0"}), "--discover")
    assert result.returncode == 1 and "query.last_update" in result.stderr
