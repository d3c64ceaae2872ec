"""target-saleslayer against the Sales Layer emulator's Import connector, run as users run it: batches far
fewer than the records, items refused with Sales Layer's reasons, deletions through ``delete_data``, the
tracking URL followed to its end (or the run stopped when it does not end), temporary errors retried with
a fresh signature, a wrong private key, dry run, records refused before sending, tap rows mapped with
stream maps.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §3.1 "Writes (Import connector)".
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from connector_sandbox.clock import Clock
from target_saleslayer.forms import FormValueError, http_build_query
from tests.saleslayer.target.helpers import (
    IMPORT_PRIVATE_KEY,
    imports,
    items_of,
    run_target,
    start_sandbox,
    target_config,
)
from tests.target_runner import record, schema, state

pytestmark = pytest.mark.timeout(180)

SIZES = {"catalogue": 6, "products": 20, "product_formats": 10, "brands": 3}


@pytest.fixture
def sandbox():
    sandbox = start_sandbox(sizes=SIZES)
    yield sandbox
    sandbox.stop()


def stream(name: str, items, keys=("REF",), final_state=None):
    return [schema(name, key_properties=list(keys)), *(record(name, item) for item in items),
            state(final_state or {"bookmarks": {name: {"n": len(items)}}})]


def product(i: int, **fields):
    return {"REF": f"NEW-{i:05d}", "catalogue_REF": "CAT-0001", "name_en": f"Chair {i} ✓", "price": "19.90",
            **fields}


def row(sandbox, table: str, ref: str):
    i = sandbox.store.find_ref(table, ref)
    return None if i is None else sandbox.store.row(table, i)


# -- encoding -----------------------------------------------------------------------------------------
def test_values_are_encoded_as_php_http_build_query_writes_them():
    pairs = http_build_query({"REF": "A", "tags": ["x", "y"], "attributes": {"w": {"value": Decimal("17.790")}},
                              "active": True, "hidden": False, "note": None, "images": [], "n": Decimal("1E+2"),
                              "f": 0.1, "k": 3}, "input_data[products][0]")
    assert pairs == [
        ("input_data[products][0][REF]", "A"), ("input_data[products][0][tags][0]", "x"),
        ("input_data[products][0][tags][1]", "y"), ("input_data[products][0][attributes][w][value]", "17.790"),
        ("input_data[products][0][active]", "1"), ("input_data[products][0][hidden]", "0"),
        ("input_data[products][0][note]", ""), ("input_data[products][0][images]", ""),
        ("input_data[products][0][n]", "100"), ("input_data[products][0][f]", "0.1"),
        ("input_data[products][0][k]", "3")]
    for bad in ({"a[b]": 1}, {"x": float("nan")}, {"x": {"": 1}}):
        with pytest.raises(FormValueError):
            http_build_query(bad)


# -- batches ------------------------------------------------------------------------------------------
def test_ten_thousand_items_go_in_ten_calls_and_every_record_is_accounted_for(sandbox, tmp_path):
    items = [product(i) for i in range(10_000)]
    for i in range(0, 10_000, 1000):  # one refused item in each call
        items[i] = product(i, price="a lot")
    started = time.monotonic()
    run = run_target(target_config(sandbox, tmp_path), stream("products", items), tmp_path)
    seconds = time.monotonic() - started
    assert len(imports(sandbox)) == 10 and sandbox.counters["imports"] == 10  # batch_size 1000
    assert len(run.results) + len(run.rejects) == 10_000
    assert len(run.rejects) == 10 and all("'a lot' is not a number" in r["reason"] for r in run.rejects)
    assert {r["key"] for r in run.results} | {r["key"] for r in run.rejects} == {i["REF"] for i in items}
    assert {(r["action"], r["tracking"]) for r in run.results} == {("created", "end")}
    assert sorted(r["call"] for r in run.results)[::999] == list(range(1, 11))
    assert all(isinstance(r["remote_id"], int) for r in run.results)
    assert sandbox.count("products") == 20 + 9_990  # every tracking URL was followed to the end: all applied
    assert sandbox.counters["tracking_polls"] >= 10
    assert run.states == [{"bookmarks": {"products": {"n": 10_000}}}]
    assert seconds < 40, f"{seconds:.1f} s"


def test_refused_items_are_rejected_with_sales_layers_reason_and_the_rest_published(sandbox, tmp_path):
    variants = [{"REF": "FMT-0000001", "price": 5}, {"REF": "FMT-NEW", "product_REF": "PRD-000001"}]
    items = [
        {"REF": "PRD-000001", "name_en": "Renamed ✓", "active": False, "tags": ["a", "b"]},
        {"REF": "PRD-000002", "colour": "red"},
        {"REF": "PRD-000003", "catalogue_REF": "CAT-9999"},
        {"REF": "PRD-000004", "name_en": "Once"},
        {"REF": "PRD-000004", "name_en": "Twice"},  # the same item again: goes in the next call, in order
        {"REF": "NEW-1", "ID": 7},
    ]
    run = run_target(target_config(sandbox, tmp_path), [*stream("products", items)[:-1],
                                                        *stream("product_formats", variants)], tmp_path)
    reasons = {(r["stream"], r["key"]): r["reason"] for r in run.rejects}
    assert "products[1] (REF 'PRD-000002'): unknown field 'colour'" in reasons["products", "PRD-000002"]
    assert "no catalogue item has the REF 'CAT-9999'" in reasons["products", "PRD-000003"]
    assert "ID 7 has the REF 'PRD-000007', not 'NEW-1'" in reasons["products", "NEW-1"]
    assert "only updates existing product_formats items" in reasons["product_formats", "FMT-NEW"]
    assert all(r["vendor_message"] in r["reason"] for r in run.rejects)
    assert sorted((r["key"], r["action"], r["call"]) for r in run.results) == [
        ("FMT-0000001", "updated", 3), ("PRD-000001", "updated", 1), ("PRD-000004", "updated", 1),
        ("PRD-000004", "updated", 2)]
    assert len(imports(sandbox)) == 3
    assert row(sandbox, "products", "PRD-000001")["product_name_en"] == "Renamed ✓"
    assert row(sandbox, "products", "PRD-000001")["product_tags"] == ["a", "b"]
    assert row(sandbox, "products", "PRD-000004")["product_name_en"] == "Twice"
    assert row(sandbox, "product_formats", "FMT-0000001")["format_price"] == 5
    assert run.states == [{"bookmarks": {"product_formats": {"n": 2}}}]


def test_a_call_denied_for_its_size_stops_the_run_naming_batch_size(tmp_path):
    sandbox = start_sandbox(sizes=SIZES, max_import_items=5)
    try:
        run = run_target(target_config(sandbox, tmp_path, batch_size=10), stream("products", [
            product(i) for i in range(8)]), tmp_path, check=False)
    finally:
        sandbox.stop()
    assert run.returncode != 0 and "batch_size" in run.stderr and "too many items" in run.stderr
    assert run.states == [] and run.results == [] and run.rejects == []


def test_a_call_denied_as_a_whole_rejects_each_item_with_the_reason(sandbox, tmp_path):
    run = run_target(target_config(sandbox, tmp_path, {"brands": {"entity": "brands"}}),
                     stream("brands", [{"REF": "B-1"}, {"REF": "B-2"}]), tmp_path)
    assert run.results == [] and len(run.rejects) == 2
    assert all("denied the whole call" in r["reason"] and "has no table 'brands'" in r["reason"]
               for r in run.rejects)
    assert run.states == [{"bookmarks": {"brands": {"n": 2}}}]


def test_a_full_sink_waits_for_the_streams_before_it(sandbox, tmp_path):
    """Products in a category created by the same run: when the products' sink fills up first
    (``batch_size_rows``), the categories before them are imported (and their import ended) first."""
    messages = [*stream("catalogue", [{"REF": "CAT-NEW", "parent_REF": "", "name_en": "New"}])[:-1],
                *stream("products", [product(i, catalogue_REF="CAT-NEW") for i in range(5)])]
    run = run_target(target_config(sandbox, tmp_path, batch_size_rows=3), messages, tmp_path)
    assert run.rejects == [] and [(r["stream"], r["call"]) for r in run.results] == [
        ("catalogue", 1), *[("products", 2)] * 3, *[("products", 3)] * 2]
    category = sandbox.store.find_ref("catalogue", "CAT-NEW")
    assert all(row(sandbox, "products", f"NEW-{i:05d}")["ID_catalogue"] == [category] for i in range(5))


# -- deletions ------------------------------------------------------------------------------------------
def test_deletions_go_through_delete_data(sandbox, tmp_path):
    run = run_target(target_config(sandbox, tmp_path, {"retired": {"entity": "products", "method": "DELETE"}}), [
        *stream("products", [{"REF": "PRD-000005", "_sdc_deleted_at": "2025-01-01T00:00:00+00:00"},
                             {"ID": 6, "_sdc_deleted_at": "2025-01-01T00:00:00+00:00", "saleslayer_time": "x"},
                             {"REF": "PRD-000007", "name_en": "Kept"},
                             {"REF": "PRD-GONE", "_sdc_deleted_at": "2025-01-01T00:00:00+00:00"}], keys=())[:-1],
        *stream("retired", [{"REF": "PRD-000008", "name_en": "not sent"}])], tmp_path)
    first = sandbox.forms[0]
    assert items_of(first, "delete_data") == {"products[0]": {"REF": "PRD-000005"}, "products[1]": {"ID": "6"},
                                              "products[2]": {"REF": "PRD-GONE"}}
    assert items_of(first) == {"products[0]": {"REF": "PRD-000007", "name_en": "Kept"}}
    assert items_of(sandbox.forms[1], "delete_data") == {"products[0]": {"REF": "PRD-000008"}}
    assert sorted(((r["key"], r["method"], r["action"], r["remote_id"]) for r in run.results), key=str) == sorted([
        (6, "DELETE", "deleted", 6), ("PRD-000005", "DELETE", "deleted", 5), ("PRD-000007", "UPSERT", "updated", 7),
        ("PRD-000008", "DELETE", "deleted", 8)], key=str)
    assert ["delete_data[products][2]: REF 'PRD-GONE' does not exist" in r["reason"] for r in run.rejects] == [True]
    assert [row(sandbox, "products", f"PRD-00000{i}") for i in (5, 6, 8)] == [None, None, None]
    assert sandbox.store.variants_of(5) == []  # Sales Layer deletes a product's variants with it


def test_api_1_17_rejects_deletions_with_the_reason_and_imports_the_rest_at_once(sandbox, tmp_path):
    run = run_target(target_config(sandbox, tmp_path, api_version="1.17"), stream("products", [
        {"REF": "PRD-000005", "_sdc_deleted_at": "2025-01-01T00:00:00Z"}, {"REF": "PRD-000006", "stock": 3}]),
        tmp_path)
    assert ["needs api_version 1.18" in r["reason"] and "delete_data" in r["reason"] for r in run.rejects] == [True]
    assert [(r["key"], r["tracking"]) for r in run.results] == [("PRD-000006", "applied at once")]
    assert row(sandbox, "products", "PRD-000006")["product_stock"] == 3
    assert sandbox.counters["tracking_polls"] == 0 and "delete_data" not in str(sandbox.forms)
    again = run_target(target_config(sandbox, tmp_path, {"gone": {"entity": "products", "method": "DELETE"}},
                                     api_version="1.17"), [], tmp_path, check=False)
    assert again.returncode != 0 and "mappings.gone.method DELETE needs api_version 1.18" in again.stderr


# -- tracking ------------------------------------------------------------------------------------------
def test_the_tracking_url_is_followed_until_end_before_results_are_written(tmp_path):
    # The emulator's clock stands still: its job moves on by polls only (prepare, started, end).
    sandbox = start_sandbox(sizes=SIZES, import_seconds=30, clock=Clock(frozen=True))
    try:
        run = run_target(target_config(sandbox, tmp_path, tracking_poll_seconds=0.2),
                         stream("products", [product(1), product(2)]), tmp_path)
        assert sandbox.counters["tracking_polls"] == 3 and sandbox.pending_imports() == []
        assert sandbox.count("products") == 22
    finally:
        sandbox.stop()
    assert "prepare, 0 % complete: Preparing the import of 2 items" in run.stderr
    assert "started, 50 % complete: Importing items (50 %)" in run.stderr
    assert "ended after" in run.stderr and "Import finished: 2 new, 0 updated, 0 deleted items" in run.stderr
    assert [(r["tracking"], r["tracking_message"]) for r in run.results] == [
        ("end", "Import finished: 2 new, 0 updated, 0 deleted items")] * 2
    assert run.states == [{"bookmarks": {"products": {"n": 2}}}]


def test_an_import_still_running_after_the_bounded_wait_stops_the_run_without_its_state(tmp_path):
    sandbox = start_sandbox(sizes=SIZES, import_seconds=30, clock=Clock(frozen=True))
    try:
        run = run_target(target_config(sandbox, tmp_path, tracking_timeout_seconds=1, tracking_poll_seconds=30),
                         stream("products", [product(1)]), tmp_path, check=False)
        assert sandbox.count("products") == 20  # not applied yet
        url = sandbox.url
    finally:
        sandbox.stop()
    assert run.returncode != 0 and "is still running after 1 s" in run.stderr
    assert f"tracking URL {url}/ last said started" in run.stderr and "status_tracking=" not in run.stderr
    assert run.states == [] and run.results == [] and run.rejects == []


def test_input_data_directly_is_sent_and_its_import_ends_at_the_first_poll(sandbox, tmp_path):
    run = run_target(target_config(sandbox, tmp_path, input_data_directly=True),
                     stream("products", [product(1)]), tmp_path)
    assert sandbox.form()["input_data_directly"] == "1" and sandbox.form()["get_affected_ids"] == "1"
    # The emulator applies it when the call is answered and still gives a tracking URL: it says end at once.
    assert [(r["action"], r["tracking"]) for r in run.results] == [("created", "end")]
    assert sandbox.counters["tracking_polls"] == 1 and row(sandbox, "products", "NEW-00001") is not None


# -- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", [10, 11, 14])
def test_a_temporary_error_is_retried_with_a_fresh_signature(sandbox, tmp_path, code):
    sandbox.temporary_error(code, 1)
    run = run_target(target_config(sandbox, tmp_path), stream("products", [product(1)]), tmp_path)
    assert sandbox.counters["temporary_errors"] == 1 and sandbox.counters["imports"] == 1
    signatures = [(f["unique"], f["key256"]) for f in map(dict, sandbox.forms)]
    assert len(signatures) == 2 and len(set(signatures)) == 2
    assert sandbox.stats()["saleslayer"]["refused_by_signature"] == {}
    assert [r["key"] for r in run.results] == ["NEW-00001"] and run.rejects == []
    assert f"error {code}" in run.stderr


def test_a_wrong_private_key_fails_fast_naming_private_key_and_never_shows_a_key(sandbox, tmp_path):
    wrong = "wrong-import-key-31337"
    run = run_target(target_config(sandbox, tmp_path, private_key=wrong),
                     stream("products", [product(1), product(2)]), tmp_path, check=False)
    assert run.returncode != 0 and "`private_key`" in run.stderr and "error 9" in run.stderr
    assert len(sandbox.forms) == 1  # not retried
    for secret in (wrong, IMPORT_PRIVATE_KEY):
        assert secret not in run.stdout + run.stderr
        for path in (tmp_path / "results.jsonl", tmp_path / "rejects.jsonl"):
            assert not path.exists() or secret not in path.read_text()
    assert run.states == [] and run.results == [] and run.rejects == []


def test_dry_run_logs_the_calls_and_sends_nothing(sandbox, tmp_path):
    run = run_target(target_config(sandbox, tmp_path, dry_run=True, batch_size=2),
                     stream("products", [product(1), product(2), product(3), {"name_en": "no REF"}], keys=()),
                     tmp_path)
    assert sandbox.request_log() == [] and sandbox.forms == []
    assert "dry run: would send Sales Layer import call 1 (2 products items: 2 to import)" in run.stderr
    assert "dry run: would send Sales Layer import call 2 (1 products item: 1 to import)" in run.stderr
    assert [(r["key"], r["dry_run"], r["call"]) for r in run.results] == [
        ("NEW-00001", True, 1), ("NEW-00002", True, 1), ("NEW-00003", True, 2)]
    assert len(run.rejects) == 1 and sandbox.count("products") == 20


def test_records_that_cannot_be_items_are_rejected_before_sending(sandbox, tmp_path):
    run = run_target(target_config(sandbox, tmp_path), stream("products", [
        {"name_en": "no REF"}, {"REF": "", "ID": None, "name_en": "empty REF"}, {"REF": ["A", "B"]},
        {"ID": "abc"}, {"REF": "X-1", "weird[name]": 1}, {"REF": "X-2", "attributes": {"": 1}}], keys=()),
        tmp_path)
    reasons = [r["reason"] for r in run.rejects]
    assert len(reasons) == 6 and run.results == [] and sandbox.request_log() == []
    assert reasons[0].startswith("the record has no REF (or ID)") and reasons[1] == reasons[0]
    assert "REF must be a single value" in reasons[2] and "'abc' is not a Sales Layer ID" in reasons[3]
    assert "the field name 'weird[name]' cannot be sent" in reasons[4]
    assert "attributes: the field name '' cannot be sent" in reasons[5]
    assert run.states == [{"bookmarks": {"products": {"n": 6}}}]


def test_mappings_are_checked_before_anything_is_read(sandbox, tmp_path):
    for mappings, expected in (({"x": {"entity": "products", "method": "PATCH"}}, "mappings.x.method must be UPSERT"),
                               ({"x": {"entity": "a/b"}}, "mappings.x.entity must be the name of an import table"),
                               ({"x": {"entity": "products", "match": ["REF"]}}, "mappings.x.match is not")):
        run = run_target(target_config(sandbox, tmp_path, mappings), [], tmp_path, check=False)
        assert run.returncode != 0 and expected in run.stderr, run.stderr[-500:]
    unmapped = run_target(target_config(sandbox, tmp_path), stream("things", [{"REF": "A"}]), tmp_path, check=False)
    assert unmapped.returncode != 0 and "stream 'things' has no mapping" in unmapped.stderr
    assert sandbox.request_log() == []


# -- tap rows -------------------------------------------------------------------------------------------
def test_tap_rows_written_back_with_the_readmes_stream_map(sandbox, tmp_path):
    """A tap-saleslayer ``products`` row (export column names, ``ID``, ``ID_catalogue``, ``saleslayer_time``)
    mapped to the import connector's names with a stream map, as the README shows; categories first."""
    tap_row = {"ID": 3, "ID_catalogue": [1], "product_reference": "PRD-000003", "product_name_en": "Tap name ✓",
               "product_name_es": "Nombre", "product_price": 1234567.891, "product_active": True,
               "product_tags": ["x"], "saleslayer_time": "2025-01-01T00:00:00+00:00", "_sdc_deleted_at": None}
    deleted = {"ID": 4, "saleslayer_time": "2025-01-01T00:00:00+00:00", "_sdc_deleted_at": "2025-01-01T00:00:00Z"}
    stream_maps = {"products": {  # the README's
        "REF": "record.get('product_reference')", "name_en": "record.get('product_name_en')",
        "name_es": "record.get('product_name_es')", "price": "record.get('product_price')",
        "active": "record.get('product_active')", "tags": "record.get('product_tags')",
        "catalogue_REF": "record.get('catalogue_REF')", "ID": "ID", "_sdc_deleted_at": "_sdc_deleted_at",
        "__else__": "__NULL__"}}
    catalogue = [{"REF": "CAT-NEW", "parent_REF": "", "name_en": "New category"}]
    messages = [*stream("catalogue", catalogue)[:-1], schema("products", key_properties=["ID"]),
                record("products", {**tap_row, "catalogue_REF": "CAT-NEW"}), record("products", deleted),
                state({"bookmarks": {"products": {"replication_key_value": "2025-01-01T00:00:00+00:00"}}})]
    run = run_target(target_config(sandbox, tmp_path, stream_maps=stream_maps, validate_records=False), messages,
                     tmp_path)
    assert run.rejects == []
    assert [(r["stream"], r["key"], r["action"]) for r in run.results] == [
        ("catalogue", "CAT-NEW", "created"), ("products", "PRD-000003", "updated"), ("products", 4, "deleted")]
    updated = row(sandbox, "products", "PRD-000003")
    assert (updated["product_name_en"], updated["product_price"], updated["product_tags"]) == (
        "Tap name ✓", 1234567.891, ["x"])
    assert updated["ID_catalogue"] == [sandbox.store.find_ref("catalogue", "CAT-NEW")]
    assert row(sandbox, "products", "PRD-000004") is None
    assert items_of(sandbox.forms[1])["products[0]"] == {
        "REF": "PRD-000003", "name_en": "Tap name ✓", "name_es": "Nombre", "price": "1234567.891", "active": "1",
        "tags[0]": "x", "catalogue_REF": "CAT-NEW", "ID": "3"}
