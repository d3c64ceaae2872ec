"""Contract tests of the Sales Layer (PIM) classic connector API emulator (API 1.17 / 1.18), as a client sees it
over HTTP (plain ``requests`` against a started :class:`SalesLayerSandbox`).

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §3.1 (source tags [SL-CALL], [SL-SDK], [SL-PDF],
[SL-IMP], [SL-DEL], [SL-TRK], [SL-LU], [SL-OUT], [SL-CONN]) and the UNCERTAIN readings the emulator's module
docstring chooses. The clock is frozen (``connector_sandbox.clock.Clock``): time moves only when a test advances it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from connector_sandbox.cli import build_parser
from connector_sandbox.clock import Clock
from connector_sandbox.registry import emulators
from connector_sandbox.saleslayer import (
    DEFAULT_CONNECTOR_ID,
    DEFAULT_IMPORT_CONNECTOR_ID,
    DEFAULT_IMPORT_PRIVATE_KEY,
    DEFAULT_PRIVATE_KEY,
    SalesLayerSandbox,
)
from connector_sandbox.saleslayer.cli import SalesLayerEmulator

pytestmark = pytest.mark.timeout(60)

NOW = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=dt.timezone.utc)
T_NOW = int(NOW.timestamp())
SIZES = {"catalogue": 6, "products": 12, "product_formats": 10, "brands": 3}
SECOND_TOKEN = "sandbox-export-second-token"
TABLES = ["catalogue", "products", "product_formats", "brands"]
ERROR_KEYS = {"version", "time", "error", "error_message"}


def new_sandbox(**kwargs: Any) -> SalesLayerSandbox:
    options: dict[str, Any] = {"seed": 5, "sizes": SIZES, "clock": Clock(NOW, frozen=True),
                               "private_key": [DEFAULT_PRIVATE_KEY, SECOND_TOKEN], **kwargs}
    return SalesLayerSandbox(**options).start()


@pytest.fixture
def sl():
    sandbox = new_sandbox()
    yield sandbox
    sandbox.stop()


# ---------------------------------------------------------------------------------------- helpers
def call(sl: SalesLayerSandbox, params: dict[str, Any]) -> dict[str, Any]:
    r = requests.get(sl.api_url, params={k: str(v) for k, v in params.items()}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def read(sl: SalesLayerSandbox, **params: Any) -> dict[str, Any]:
    """One signed read of the export connector (a fresh signature each time, as the SDK makes)."""
    return call(sl, {**sl.signed_params(), **params})


def error_of(answer: dict[str, Any], code: int) -> str:
    assert answer["error"] == code, answer
    assert set(answer) == ERROR_KEYS, answer  # no action, no data
    assert isinstance(answer["time"], int) and answer["error_message"]
    return answer["error_message"]


def php_form(prefix: str, value: Any) -> list[tuple[str, str]]:
    """What PHP's ``http_build_query`` writes for ``[prefix => value]``: ``input_data[products][0][REF]=A``."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in php_form(f"{prefix}[{k}]", v)]
    if isinstance(value, list):
        return [pair for k, v in enumerate(value) for pair in php_form(f"{prefix}[{k}]", v)]
    return [(prefix, "1" if value is True else "0" if value is False else str(value))]


def post_import(sl: SalesLayerSandbox, input_data: Any = None, delete_data: Any = None, *, ver: str = "1.18",
                connector: str = "import", **extra: Any) -> dict[str, Any]:
    """An import as the SDK's ``set_info`` sends it: the signature and ``ver`` in the URL, the data in a form body."""
    pairs: list[tuple[str, str]] = []
    if input_data is not None:
        pairs += php_form("input_data", input_data)
    if delete_data is not None:
        pairs += php_form("delete_data", delete_data)
    pairs += [(k, str(v)) for k, v in extra.items()]
    r = requests.post(sl.api_url, params={**sl.signed_params(connector), "ver": ver}, data=pairs, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def rows_of(answer: dict[str, Any], table: str) -> list[list[Any]]:
    return answer["data"][table]


def names(answer: dict[str, Any], table: str) -> list[str]:
    """The column names of ``data_schema[table]`` (a file field is ``{name: [subfields]}``)."""
    return [f if isinstance(f, str) else next(iter(f)) for f in answer["data_schema"][table]]


def position(answer: dict[str, Any], table: str, field: str) -> int:
    return names(answer, table).index(field)


def by_ref(answer: dict[str, Any], table: str, ref: str) -> list[Any]:
    key = {"catalogue": "section_reference", "products": "product_reference",
           "product_formats": "format_reference", "brands": "brand_reference"}[table]
    k = position(answer, table, key)
    return next(row for row in rows_of(answer, table) if row[0] == "M" and row[k] == ref)


# ---------------------------------------------------------------------------------------- signature
def test_key256_is_the_sha256_of_code_private_key_time_and_unique(sl):
    """[SL-CALL][SL-SDK]: ``key256`` = SHA-256 hex of ``code + secret_key + time + unique``; a connector can hold
    several tokens [SL-CONN]."""
    for key, unique in ((DEFAULT_PRIVATE_KEY, 12345), (SECOND_TOKEN, 67890)):
        text = f"{DEFAULT_CONNECTOR_ID}{key}{T_NOW}{unique}"
        params = {"code": DEFAULT_CONNECTOR_ID, "time": T_NOW, "unique": unique,
                  "key256": hashlib.sha256(text.encode()).hexdigest()}
        assert call(sl, {**params, "test": 1}) == {"version": "1.17", "time": T_NOW, "action": "test", "error": 0}
    assert sl.signed_params()["key256"] != sl.signed_params(key_index=1)["key256"]


def test_the_legacy_key_is_the_sha1_of_the_same_text_and_only_one_key_may_be_sent(sl):
    """[SL-CALL][SL-SDK]: legacy ``key`` = SHA-1 of the same text (``$key_var = 'key'``)."""
    text = f"{DEFAULT_CONNECTOR_ID}{DEFAULT_PRIVATE_KEY}{T_NOW}777"
    legacy = {"code": DEFAULT_CONNECTOR_ID, "time": T_NOW, "unique": 777,
              "key": hashlib.sha1(text.encode()).hexdigest()}
    assert call(sl, {**legacy, "test": 1})["error"] == 0
    both = {**sl.signed_params(unique=778), "key": sl.signed_params(cypher="sha1", unique=778)["key"]}
    error_of(call(sl, both), 4)  # exactly one of key256 and key
    sha1 = sl.signed_params(cypher="sha1")
    assert "key256" not in sha1 and read(sl, test=1)["error"] == 0 and call(sl, {**sha1, "test": 1})["error"] == 0


def test_a_missing_or_unknown_connector_code_is_error_2(sl):
    """[SL-SDK] error list: 2 Invalid connector code."""
    params = sl.signed_params()
    assert "code" in error_of(call(sl, {k: v for k, v in params.items() if k != "code"}), 2)
    assert "CN000H0000C000" in error_of(call(sl, {**params, "code": "CN000H0000C000"}), 2)


def test_a_unique_serves_one_call_only(sl):
    """[SL-CALL] ``unique`` (random int) and [SL-SDK] 3 Wrong unique key: a reused or non-numeric unique is 3."""
    params = sl.signed_params()
    assert call(sl, {**params, "test": 1})["error"] == 0
    assert "already used" in error_of(call(sl, {**params, "test": 1}), 3)
    error_of(call(sl, {**params, "unique": "abc"}), 3)
    refused = sl.signed_params()
    error_of(call(sl, {**refused, "colour": "red"}), 1)
    error_of(call(sl, refused), 3)  # spent by a correctly signed call even though it was refused
    error_of(call(sl, {k: v for k, v in sl.signed_params().items() if k != "unique"}), 3)


def test_a_malformed_key_is_error_4_and_a_wrong_private_key_is_error_9(sl):
    """[SL-SDK]: 4 Invalid codification key, 9 Invalid private key."""
    params = sl.signed_params()
    error_of(call(sl, {**params, "key256": "abc"}), 4)
    error_of(call(sl, {**params, "key256": params["key256"].upper()}), 4)  # PHP hash() writes lowercase hex
    error_of(call(sl, {k: v for k, v in params.items() if k != "key256"}), 4)
    wrong = hashlib.sha256(f"{DEFAULT_CONNECTOR_ID}not-the-key{params['time']}{params['unique']}".encode()).hexdigest()
    error_of(call(sl, {**params, "key256": wrong}), 9)
    # the import connector's key does not sign for the export connector
    imp = sl.signed_params("import")
    error_of(call(sl, {**imp, "code": DEFAULT_CONNECTOR_ID}), 9)


@pytest.mark.parametrize(("offset", "code"), [(-301, 13), (301, 12)])
def test_a_time_outside_the_window_is_expired_13_or_incorrect_12(sl, offset, code):
    """[SL-SDK]: 12 Incorrect date-code, 13 Date code has expired (clock skew -> 12/13); the window is the
    emulator's 300 s reading."""
    error_of(call(sl, sl.signed_params(time=T_NOW + offset)), code)
    edge = -300 if offset < 0 else 300
    assert call(sl, {**sl.signed_params(time=T_NOW + edge), "test": 1})["error"] == 0
    error_of(call(sl, {**sl.signed_params(), "time": "2026-03-02"}), 12)


def test_errors_are_http_200_with_a_code_and_a_message_and_never_show_a_private_key(sl):
    """[SL-SDK][SL-PDF]: errors come as a JSON ``error`` code (the SDK reads the body of every answer); the
    private key is only ever hashed [SL-CALL]."""
    answers = [requests.get(sl.api_url, params=p, timeout=10) for p in (
        {**sl.signed_params(), "key256": "0" * 64}, {**sl.signed_params(), "ver": "9.9"},
        {**sl.signed_params("import")}, sl.signed_params(), {**sl.signed_params(), "ver": "1.18"})]
    answers.append(requests.post(sl.api_url, params=sl.signed_params("import"),
                                 data=php_form("input_data", {"products": [{"REF": "PRD-000001", "price": "2"}]})))
    answers.append(requests.get(sl.url + "/__sandbox/stats", params={"log": 50}, timeout=10))
    assert [r.status_code for r in answers] == [200] * len(answers)
    assert [r.json().get("error") for r in answers[:5]] == [9, 6, 7, 0, 0]
    for r in answers:
        assert DEFAULT_PRIVATE_KEY not in r.text and SECOND_TOKEN not in r.text
        assert DEFAULT_IMPORT_PRIVATE_KEY not in r.text
    assert answers[0].json()["error_message"].startswith("Invalid private key")


# ---------------------------------------------------------------------------------------- parameters
def test_unknown_parameters_and_bad_values_are_refused(sl):
    """[SL-SDK]: 1 Validation error, 6 API version nonexistent, 8 Invalid compression type; only 1.17 and 1.18 are
    active [SL-CALL]. A misspelt ``last_updated`` is not silently a full read."""
    assert "last_updated" in error_of(read(sl, last_updated=T_NOW - 60), 1)
    error_of(read(sl, ver="1.16"), 6)
    error_of(read(sl, ver="2.0"), 6)
    error_of(read(sl, compression=2), 8)
    error_of(read(sl, group_category_id="yes"), 1)
    error_of(read(sl, group_category_delimiter="|"), 1)  # needs group_category_id=1
    assert read(sl, ver="1.17")["version"] == "1.17" and read(sl, ver="1.18")["version"] == "1.18"


def test_pagination_needs_version_1_18(sl):
    """[SL-CALL]: ``pagination`` — 1.18 only."""
    error_of(read(sl, pagination=500), 1)
    error_of(read(sl, ver="1.18", pagination=0), 1)
    error_of(read(sl, ver="1.18", pagination="many"), 1)


def test_a_read_on_the_import_connector_or_an_import_on_the_export_connector_is_error_7(sl):
    """[SL-SDK]: 7 Wrong output mode; Export connectors output, Import connectors input [SL-INTRO][SL-CONN]."""
    assert "import connector" in error_of(call(sl, sl.signed_params("import")), 7)
    answer = post_import(sl, {"products": [{"REF": "PRD-000001", "price": "3"}]}, connector="export")
    assert "export connector" in error_of(answer, 7)
    assert sl.get("products", 1)["product_price"] != 3


def test_an_incorrect_last_update_answers_everything_with_error_5(sl):
    """[SL-SDK] 5 Incorrect date of last_update; [SL-CALL] absent/0 -> full catalogue."""
    full = read(sl)
    for bad in ("yesterday", T_NOW + 3600, "-5"):
        answer = read(sl, last_update=bad)
        assert answer["error"] == 5 and answer["action"] == "refresh"
        assert answer["data"] == full["data"]
    zero = read(sl, last_update=0)
    assert zero["error"] == 0 and zero["data"] == full["data"]


def test_answers_are_gzipped_unless_compression_is_0(sl):
    """[SL-CALL]: ``compression`` (default 1)."""
    assert requests.get(sl.api_url, params=sl.signed_params(), timeout=10).headers["Content-Encoding"] == "gzip"
    plain = requests.get(sl.api_url, params={**sl.signed_params(), "compression": 0}, timeout=10)
    assert "Content-Encoding" not in plain.headers and plain.json()["error"] == 0


# ---------------------------------------------------------------------------------------- answers
def test_1_17_answers_everything_at_once(sl):
    """[SL-CALL]: ``ver`` default 1.17; [SL-SDK]: ``time`` is the server's UNIX time; ``next_page`` only in 1.18."""
    answer = read(sl)
    assert (answer["version"], answer["time"], answer["action"], answer["error"]) == ("1.17", T_NOW, "refresh", 0)
    assert not {"next_page", "page_count", "page_length"} & set(answer)
    assert list(answer["data"]) == TABLES
    for table in TABLES:
        assert sorted({row[1] for row in rows_of(answer, table)}) == list(range(1, SIZES[table] + 1))
        assert all(row[0] == "M" for row in rows_of(answer, table))


def test_1_18_pages_hold_every_row_once_following_next_page_as_given():
    """[SL-SDK]: more data -> ``next_page`` (complete URL), ``page_count``, ``page_length``; fetch ``next_page``
    with GET until absent (the SDK calls it as given, no new signature)."""
    sizes = {"catalogue": 5, "products": 1100, "product_formats": 8, "brands": 2}
    with SalesLayerSandbox(sizes=sizes, clock=Clock(NOW, frozen=True)) as sl:
        first = read(sl, ver="1.18", pagination=1)
        pages, url = [first], first.get("next_page")
        while url:
            assert "key256" not in url and "unique" not in url
            r = requests.get(url, timeout=10)
            assert r.status_code == 200 and r.json()["error"] == 0, r.text
            pages.append(r.json())
            url = pages[-1].get("next_page")
        assert len(pages) == 3 and [p["page_count"] for p in pages] == [3, 3, 3]
        assert [p["page_length"] for p in pages] == [500, 500, 500] and "next_page" not in pages[-1]
        items = [{(t, row[1]) for t in TABLES for row in rows_of(p, t)} for p in pages]
        assert [len(i) for i in items] == [500, 500, 1115 - 1000]  # page_length counts items, not rows
        seen = [(t, row[1], row[position(p, t, "ID_catalogue")] if t == "products" else None)
                for p in pages for t in TABLES for row in rows_of(p, t)]
        assert len(seen) == len(set(seen))  # every row exactly once
        assert set().union(*items) == {(t, i) for t in TABLES for i in range(1, sizes[t] + 1)}
        # a next_page URL takes no other parameter (a last_update slipped in is 1) and may be fetched again
        error_of(requests.get(first["next_page"] + f"&last_update={T_NOW}", timeout=10).json(), 1)
        assert requests.get(first["next_page"], timeout=10).json()["data"] == pages[1]["data"]
        # a row changed while paging leaves the read and comes with last_update = the FIRST answer's time
        signature = sl.signed_params()
        start = call(sl, {**signature, "ver": "1.18", "pagination": 1})
        sl.clock.advance(5)
        sl.touch("products", 1100)
        second = requests.get(start["next_page"], timeout=10).json()
        error_of(requests.get(second["next_page"], params=signature, timeout=10).json(), 3)  # a spent signature
        last = requests.get(second["next_page"], timeout=10).json()
        assert last["time"] == start["time"] + 5 and last["page_count"] == 3 and "next_page" not in last
        assert 1100 not in {row[1] for row in rows_of(last, "products")}
        changed = read(sl, ver="1.18", last_update=start["time"])
        assert {row[1] for row in rows_of(changed, "products")} == {1100} and "next_page" not in changed
        sl.clock.advance(601)  # an unused next_page URL expires (page_ttl 600 s): 13
        error_of(requests.get(start["next_page"], timeout=10).json(), 13)


@pytest.mark.parametrize(("asked", "length"), [(1, 500), (999, 500), (1000, 500), (1001, 1000), (1500, 1000),
                                               (1501, 1500), (5000, 4500), (None, 1000)])
def test_pagination_is_approximate(sl, asked, length):
    """[SL-CALL]: ``pagination`` items per page, approximate (ranges: <1000 -> 500, 1001-1500 -> 1000 ...);
    default 1000."""
    params = {"ver": "1.18"} if asked is None else {"ver": "1.18", "pagination": asked}
    answer = read(sl, **params)
    assert answer["page_length"] == length and answer["page_count"] == 1 and "next_page" not in answer


def test_shaping_parameters_in_a_post_body_are_ignored(sl):
    """[SL-CALL] says the shaping parameters are "GET only" while [SL-SDK] ``get_info`` POSTs ``pagination=5000``
    ([UNCERTAIN]): the emulator reads them from the URL only, so the SDK's body ``pagination`` has no effect."""
    r = requests.post(sl.api_url, params={**sl.signed_params(), "ver": "1.18"}, data={"pagination": "5000"},
                      timeout=10)
    assert r.json()["error"] == 0 and r.json()["page_length"] == 1000
    signed_in_body = requests.post(sl.api_url, params={"ver": "1.18"}, data=sl.signed_params(), timeout=10).json()
    assert signed_in_body["error"] == 0 and signed_in_body["version"] == "1.18"  # the signature may be POSTed


def test_every_answer_describes_every_table(sl):
    """[SL-SDK][SL-PDF]: top level ``version``, ``time``, ``action``, ``error``, ``schema{connector_type,
    default_language, languages[], company_ID, company_name, ...}``, ``data_schema`` and ``data_schema_info``."""
    full = read(sl)
    sl.clock.advance(5)
    empty = read(sl, ver="1.18", last_update=full["time"] + 1)  # nothing changed: still every table
    for answer in (full, empty):
        assert {"version", "time", "action", "error", "schema", "data_schema", "data_schema_info",
                "data"} <= set(answer)
        schema = answer["schema"]
        assert {"connector_type", "default_language", "languages", "company_ID", "company_name", "headings",
                "custom_parameters", "sanitized_table_names", "language_table_names", "offline_mode"} <= set(schema)
        assert schema["default_language"] in schema["languages"]
        for key in ("data_schema", "data_schema_info", "data"):
            assert list(answer[key]) == TABLES
        assert list(schema["sanitized_table_names"]) == TABLES
    assert empty["action"] == "update" and all(rows == [] for rows in empty["data"].values())
    assert full["data_schema"] == empty["data_schema"] and full["data_schema_info"] == empty["data_schema_info"]
    types = {"string", "numeric", "boolean", "datetime", "image", "file", "json", "list"}
    assert {info["type"] for t in TABLES for info in full["data_schema_info"][t].values()} <= types


def test_rows_are_positional_in_data_schema_order(sl):
    """[SL-SDK][SL-PDF]: ``data{table:[[STATUS, ID, v3, v4, ...]]}`` positional rows in ``data_schema`` order."""
    answer = read(sl, group_category_id=1)
    for table in TABLES:
        schema = answer["data_schema"][table]
        assert schema[:2] == ["STATUS", "ID"]
        for row in rows_of(answer, table):
            assert len(row) == len(schema) and row[0] == "M" and isinstance(row[1], int)
            stored = sl.get(table, row[1])
            for name, value in zip(schema[2:], row[2:]):
                if isinstance(name, str) and answer["data_schema_info"][table][name]["type"] == "string":
                    assert value == stored[name]
    row = by_ref(answer, "products", "PRD-000007")
    assert row[1] == 7
    assert row[position(answer, "products", "product_name_en")] == sl.get("products", 7)["product_name_en"]


def test_multilingual_fields_are_one_column_per_language(sl):
    """[SL-SDK][SL-PDF]: multilingual fields appear once per language (``basename`` + ``language_code``)."""
    answer = read(sl)
    languages = answer["schema"]["languages"]
    assert len(languages) > 1
    for table in TABLES:
        info = answer["data_schema_info"][table]
        bases: dict[str, list[str]] = {}
        for field, props in info.items():
            if props.get("language_code"):
                assert field == f"{props['basename']}_{props['language_code']}"
                bases.setdefault(props["basename"], []).append(props["language_code"])
        for base, codes in bases.items():
            assert codes == languages, (table, base)
    assert {"section_name_en", "section_name_es", "section_name_fr"} <= set(names(answer, "catalogue"))
    assert "brand_name" in names(answer, "brands") and "language_code" not in \
        answer["data_schema_info"]["brands"]["brand_name"]


def test_id_fields_join_the_tables(sl):
    """[SL-SDK][SL-PDF]: ``ID_{table}`` fields are joins (``ID_PARENT`` = parent category)."""
    answer = read(sl, group_category_id=1)
    ids = {t: {row[1] for row in rows_of(answer, t)} for t in TABLES}
    info = answer["data_schema_info"]
    assert info["products"]["ID_catalogue"]["table_key"] == "catalogue"
    assert info["product_formats"]["ID_products"]["table_key"] == "products"
    parents = [row[position(answer, "catalogue", "ID_PARENT")] for row in rows_of(answer, "catalogue")]
    assert 0 in parents and set(parents) - {0} <= ids["catalogue"]
    for row in rows_of(answer, "products"):
        assert set(row[position(answer, "products", "ID_catalogue")]) <= ids["catalogue"]
    assert {row[position(answer, "product_formats", "ID_products")] for row in rows_of(answer, "product_formats")} \
        <= ids["products"]


def test_image_and_file_fields_list_their_subfields(sl):
    """[SL-SDK][SL-PDF]: ``data_schema{table:[fieldName | {fileField:[subfields...]}]}``; image sizes in
    ``data_schema_info`` ``sizes``; a file value is a list of ``[STATUS, ID, URL per subfield]``."""
    answer = read(sl)
    files = {t: [f for f in answer["data_schema"][t] if isinstance(f, dict)] for t in TABLES}
    assert all(files.values())
    checked = 0
    for table, fields in files.items():
        for spec in fields:
            (name, subfields), = spec.items()
            assert subfields[:2] == ["STATUS", "ID"]
            props = answer["data_schema_info"][table][name]
            if props["type"] == "image":
                assert subfields[2:] == list(props["sizes"])
            else:
                assert props["type"] == "file" and subfields[2:] == ["FILE"]
            k = position(answer, table, name)
            for row in rows_of(answer, table):
                for item in row[k]:
                    assert len(item) == len(subfields) and item[0] == "M" and isinstance(item[1], str)
                    checked += 1
    assert checked
    k = position(answer, "products", "product_image")
    url = next(item[2] for row in rows_of(answer, "products") for item in row[k])
    image = requests.get(url, timeout=10)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"


def test_test_1_checks_the_signature_only(sl):
    """[SL-CALL]: ``test`` (auth check only)."""
    assert read(sl, test=1) == {"version": "1.17", "time": T_NOW, "action": "test", "error": 0}
    assert read(sl, test=1, ver="1.18")["version"] == "1.18"
    error_of(call(sl, {**sl.signed_params(), "key256": "f" * 64, "test": 1}), 9)


# ---------------------------------------------------------------------------------------- incremental
def test_last_update_returns_exactly_the_rows_changed_since_with_d_rows_for_deletions(sl):
    """[SL-CALL][SL-LU][SL-OUT]: send ``last_update=<time from previous response>``; the API returns the items
    changed between ``last_update`` and ``time``, with ``'D'`` rows for deletions ([SL-SDK]: 2nd element = ID)."""
    t0 = read(sl)["time"]
    sl.clock.advance(60)
    sl.touch("products", 3)
    created = sl.create("products", {"REF": "NEW-1", "name_en": "New one", "catalogue_REF": "CAT-0001"})
    assert sl.delete("products", 5) and sl.delete("brands", 2)
    sl.clock.advance(1)
    second = read(sl, last_update=t0)
    assert second["action"] == "update" and second["error"] == 0 and second["time"] == t0 + 61
    products = rows_of(second, "products")
    assert {(r[0], r[1]) for r in products} == {("M", 3), ("D", 5), ("M", created["ID"])}
    assert ["D", 5] in products  # a D row is ["D", ID]
    assert len([r for r in products if r[1] == 3]) == len(sl.get("products", 3)["ID_catalogue"])
    assert rows_of(second, "product_formats") == [["D", 5]]  # deleting a product deletes its variants
    assert rows_of(second, "brands") == [["D", 2]] and rows_of(second, "catalogue") == []
    sl.clock.advance(1)
    third = read(sl, last_update=second["time"])
    assert all(rows == [] for rows in third["data"].values())


def test_a_changed_category_brings_its_products(sl):
    """[SL-OUT][SL-LU]: hierarchy effects: a category change can emit M rows for its products."""
    grouped = read(sl, group_category_id=1)
    k = position(grouped, "products", "ID_catalogue")
    members = sorted(row[1] for row in rows_of(grouped, "products") if 2 in row[k])
    assert members
    sl.clock.advance(30)
    sl.touch("catalogue", 2)
    answer = read(sl, last_update=grouped["time"] + 1, group_category_id=1)
    assert [row[1] for row in rows_of(answer, "catalogue")] == [2]
    assert [row[1] for row in rows_of(answer, "products")] == members


def test_unchanged_files_are_sent_as_u(sl):
    """[SL-SDK]: a file field whose first element is ``'U'`` is unchanged (not downloaded again)."""
    t0 = read(sl)["time"]
    sl.clock.advance(10)
    sl.touch("products", 4)
    answer = post_import(sl, {"products": [{"REF": "PRD-000006", "images": "https://cdn.example.com/a.jpg"}]},
                         input_data_directly=1)
    assert answer["input_response"]["result"] == 1
    changed = read(sl, last_update=t0)
    image, manual = position(changed, "products", "product_image"), position(changed, "products", "product_manual")
    touched = next(r for r in rows_of(changed, "products") if r[1] == 4)
    assert touched[image] == ["U"] and touched[manual] == ["U"]
    new_files = next(r for r in rows_of(changed, "products") if r[1] == 6)
    assert [item[0] for item in new_files[image]] == ["M"] and new_files[image][0][2].endswith(".jpg")


def test_a_connector_change_returns_everything(sl):
    """[SL-CALL]: any connector change resets ``last_update`` (the next call returns everything) — also when it
    happens in the same second as the answer whose ``time`` the client stored."""
    t0 = read(sl)["time"]
    sl.clock.advance(10)
    assert all(rows == [] for rows in read(sl, last_update=t0)["data"].values())
    changed_at = requests.post(f"{sl.url}/__sandbox/saleslayer/reconfigure", json={}, timeout=10).json()["changed_at"]
    assert changed_at == t0 + 10
    everything = read(sl, last_update=t0)
    assert everything["action"] == "refresh" and len(rows_of(everything, "brands")) == SIZES["brands"]
    sl.clock.advance(10)
    t1 = read(sl)["time"]
    sl.reconfigure()  # same second as t1
    again = read(sl, last_update=t1)
    assert again["action"] == "refresh" and len(rows_of(again, "brands")) == SIZES["brands"]
    sl.clock.advance(10)
    assert all(rows == [] for rows in read(sl, last_update=t1 + 1)["data"].values())


def test_group_category_id_gives_one_row_per_product(sl):
    """[SL-CALL][SL-SDK]: ``group_category_id=1`` groups multi-category products (``ID_catalogue`` a list, the
    SDK's ``multi-key``); without it a product in several categories is one row per category."""
    grouped, plain = read(sl, group_category_id=1), read(sl)
    k = position(plain, "products", "ID_catalogue")
    assert [r[1] for r in rows_of(grouped, "products")] == list(range(1, SIZES["products"] + 1))
    assert grouped["data_schema_info"]["products"]["ID_catalogue"]["type"] == "list"
    assert plain["data_schema_info"]["products"]["ID_catalogue"]["type"] == "numeric"
    several = {r[1]: r[k] for r in rows_of(grouped, "products") if len(r[k]) > 1}
    assert several
    for pid, cats in several.items():
        assert sorted(r[k] for r in rows_of(plain, "products") if r[1] == pid) == sorted(cats)
    assert all(isinstance(r[k], int) for r in rows_of(plain, "products"))
    assert len(rows_of(plain, "products")) == sum(len(r[k]) for r in rows_of(grouped, "products"))
    delimited = read(sl, group_category_id=1, group_category_delimiter="|")
    pid, cats = next(iter(several.items()))
    row = next(r for r in rows_of(delimited, "products") if r[1] == pid)
    assert row[k] == "|".join(str(c) for c in cats)


# ---------------------------------------------------------------------------------------- imports
def test_an_import_is_a_php_form_and_answers_its_counts(sl):
    """[SL-IMP]: ``POST`` auth params + ``input_data[{table}] = [{"REF": ..., field: value}]``; [SL-SDK] the body is
    ``http_build_query`` (``input_data[products][0][REF]=...``); [SL-DEL] ``delete_data[{table}] = [{"REF": ...}]``
    (1.18) and ``input_response{result, errors[], items_affected, new_items, updated_items, deleted_items}``."""
    items = {"products": [
        {"REF": "NEW-1", "name_en": "Zoë's \"new\" chair 🪑 & co", "price": "12.50", "tags": ["a", "b c"],
         "catalogue_REF": ["CAT-0001", "CAT-0002"], "attributes": {"material": "oak", "size": {"cm": "40"}}},
        {"REF": "PRD-000001", "price": "1.5"}]}
    pairs = php_form("input_data", items)
    assert ("input_data[products][0][catalogue_REF][1]", "CAT-0002") in pairs
    assert ("input_data[products][0][attributes][size][cm]", "40") in pairs
    answer = post_import(sl, items, {"products": [{"REF": "PRD-000002"}]}, input_data_directly=1, get_affected_ids=1)
    assert (answer["version"], answer["action"], answer["error"]) == ("1.18", "input", 0)
    response = answer["input_response"]
    assert response["result"] == 1 and response["errors"] == []
    assert response["new_items"] == {"products": 1} and response["updated_items"] == {"products": 1}
    assert response["deleted_items"] == {"products": 1, "product_formats": 1}  # its variant goes with it
    assert response["items_affected"] == {"products": 3, "product_formats": 1}
    assert response["affected_ids"]["products"]["1"] == "PRD-000001"
    after = read(sl, group_category_id=1)
    new = by_ref(after, "products", "NEW-1")
    assert new[position(after, "products", "product_name_en")] == "Zoë's \"new\" chair 🪑 & co"
    assert new[position(after, "products", "ID_catalogue")] == [1, 2]
    assert new[position(after, "products", "product_tags")] == ["a", "b c"]
    assert new[position(after, "products", "product_attributes")] == {"material": "oak", "size": {"cm": "40"}}
    assert float(by_ref(after, "products", "PRD-000001")[position(after, "products", "product_price")]) == 1.5
    assert 2 not in {r[1] for r in rows_of(after, "products")}
    # the signature may as well travel in the body; import data in the query string is refused
    body = [*sl.signed_params("import").items(), *php_form("input_data", {"brands": []}),
            *php_form("input_data", {"products": [{"REF": "PRD-000003", "status": "X"}]})]
    assert requests.post(sl.api_url, params={"ver": "1.18"}, data=body, timeout=10).json()["input_response"][
        "deleted_items"] == {"products": 1, "product_formats": 1}  # status X deletes [SL-DEL]
    in_query = requests.post(sl.api_url, params={**sl.signed_params("import"), "input_data[products][0][REF]": "X"},
                             timeout=10)
    error_of(in_query.json(), 1)


def test_refused_items_are_listed_with_the_reason_and_the_others_go_on(sl):
    """[SL-DEL][SL-SDK]: ``input_response.errors[]``; field names are the import connector's "Name on Import" and
    "Only update existing items = NO" is needed to create [SL-IMP] (the sandbox's variants only update)."""
    items = {"products": [{"REF": "PRD-000001", "colour": "red"}, {"REF": "PRD-000002", "price": "cheap"},
                          {"REF": "PRD-000003", "catalogue_REF": "CAT-9999"}, {"price": "3"},
                          {"REF": "PRD-000004", "price": "4"}],
             "product_formats": [{"REF": "FMT-NEW", "product_REF": "PRD-000004"}]}
    response = post_import(sl, items, input_data_directly=1)["input_response"]
    assert response["result"] == 1 and response["updated_items"] == {"products": 1}
    errors = response["errors"]
    assert len(errors) == 5
    assert "PRD-000001" in errors[0] and "'colour'" in errors[0]
    assert "PRD-000002" in errors[1] and "'cheap' is not a number" in errors[1]
    assert "CAT-9999" in errors[2] and "REF is missing" in errors[3]
    assert "FMT-NEW" in errors[4] and "only updates existing" in errors[4]
    assert sl.get("products", 4)["product_price"] == 4 and sl.get("products", 2)["product_price"] != "cheap"
    denied = post_import(sl, {"products": [{"REF": "PRD-000001", "colour": "red"}]})["input_response"]
    assert denied["result"] == 2 and "status_tracking" not in denied
    same = post_import(sl, {"products": [{"REF": "PRD-000004", "price": "4"}]})["input_response"]
    assert same["result"] == 0 and same["items_affected"] == {}  # nothing to change: unmodified


def test_more_items_than_the_import_limit_deny_the_whole_call():
    """[SL-DEL]: ``result`` 2 = denied; the limit per call is the emulator's ``max_import_items``."""
    sl = new_sandbox(max_import_items=3)
    try:
        four = [{"REF": f"PRD-00000{i}", "price": "9"} for i in range(1, 5)]
        response = post_import(sl, {"products": four[:3]}, {"products": [{"REF": "PRD-000005"}]})["input_response"]
        assert response["result"] == 2 and "too many items" in response["errors"][0]
        assert response["items_affected"] == {} and sl.count("products") == SIZES["products"]
        assert post_import(sl, {"products": four[:3]}, input_data_directly=1)["input_response"]["result"] == 1
    finally:
        sl.stop()


def test_a_json_body_is_refused(sl):
    """[SL-SDK]: the SDK encodes the body with PHP ``http_build_query``; a JSON body is [UNCERTAIN] in the doc and
    the emulator's strict reading refuses it (1)."""
    r = requests.post(sl.api_url, params=sl.signed_params("import"), timeout=10,
                      json={"input_data": {"products": [{"REF": "PRD-000001", "price": "2"}]}})
    assert r.status_code == 200 and "form-encoded" in error_of(r.json(), 1)


def test_the_tracking_url_goes_prepare_started_end_and_the_changes_wait_for_the_end(sl):
    """[SL-TRK]: the tracking URL returns ``{"version":"1.18","time":...,"input_status":"prepare|started|end",
    "input_percent_completion":0-100,"input_action_message":"..."}``; [SL-DEL] ``status_tracking:<URL>``."""
    response = post_import(sl, {"products": [{"REF": "NEW-9", "name_en": "Later"}]})["input_response"]
    url = response["status_tracking"]
    assert url.startswith(sl.url) and response["new_items"] == {"products": 1}
    statuses = []
    for _ in range(3):
        assert sl.count("products") == SIZES["products"]  # not yet
        body = requests.get(url, timeout=10).json()
        assert set(body) == {"version", "time", "input_status", "input_percent_completion", "input_action_message"}
        assert body["version"] == "1.18" and body["time"] == T_NOW
        statuses.append((body["input_status"], body["input_percent_completion"]))
    assert statuses == [("prepare", 0), ("started", 50), ("end", 100)]
    assert sl.count("products") == SIZES["products"] + 1
    assert requests.get(url, timeout=10).json()["input_status"] == "end"
    error_of(requests.get(url + "&unique=1", timeout=10).json(), 1)


def test_an_import_job_also_ends_with_the_clock(sl):
    """[SL-TRK]: the job ends by itself; the emulator's job takes ``import_seconds`` (3) of the sandbox clock."""
    url = post_import(sl, {"products": [{"REF": "PRD-000001", "price": "77"}]})["input_response"]["status_tracking"]
    assert sl.pending_imports() and sl.get("products", 1)["product_price"] != 77
    sl.clock.advance(3)
    assert read(sl, test=1)["error"] == 0  # any request applies a job whose time is up
    assert sl.get("products", 1)["product_price"] == 77 and not sl.pending_imports()
    assert requests.get(url, timeout=10).json()["input_status"] == "end"


def test_input_data_directly_and_1_17_imports_apply_at_once(sl):
    """[SL-IMP][SL-SDK]: ``input_data_directly=1`` (force direct import, 1.18); the SDK returns a 1.17 import's
    ``input_response`` at once (no tracking); ``delete_data`` is 1.18 [SL-DEL]."""
    direct = post_import(sl, {"products": [{"REF": "PRD-000001", "price": "11"}]}, input_data_directly=1)
    assert direct["input_response"]["result"] == 1 and sl.get("products", 1)["product_price"] == 11
    old = post_import(sl, {"products": [{"REF": "PRD-000002", "price": "22"}]}, ver="1.17")
    assert old["version"] == "1.17" and "status_tracking" not in old["input_response"]
    assert sl.get("products", 2)["product_price"] == 22 and not sl.pending_imports()
    error_of(post_import(sl, delete_data={"products": [{"REF": "PRD-000003"}]}, ver="1.17"), 1)


# ---------------------------------------------------------------------------------------- temporary errors
def test_temporary_errors_come_on_demand_after_the_signature_check(sl):
    """[SL-SDK]: 10 Service temporarily blocked, 11 Service temporarily unavailable, 14 Updating data. Try later;
    the emulator answers them only on demand and after the signature check (the ``unique`` is spent)."""
    sl.temporary_error(11)
    error_of(call(sl, {**sl.signed_params(), "key256": "0" * 64}), 9)  # a bad signature answers first
    params = sl.signed_params()
    error_of(call(sl, params), 11)
    error_of(call(sl, params), 3)  # retry with a new signature
    assert read(sl)["error"] == 0
    control = f"{sl.url}/__sandbox/saleslayer/temporary-error"
    assert requests.post(control, json={"code": 14, "count": 2}, timeout=10).json() == {"ok": True, "pending": 2}
    error_of(read(sl), 14)
    error_of(post_import(sl, {"products": [{"REF": "PRD-000001", "price": "5"}]}), 14)
    sl.temporary_error(10)
    error_of(read(sl, test=1), 10)
    assert requests.post(control, json={"code": 9}, timeout=10).status_code == 400
    with pytest.raises(ValueError):
        sl.temporary_error(12)


# ---------------------------------------------------------------------------------------- control plane and CLI
def test_the_control_plane_over_http(sl):
    """The kit's control plane (``/__sandbox/<vendor>/size|count|touch|create|delete``), tables by name."""
    control = f"{sl.url}/__sandbox/saleslayer"
    assert requests.get(f"{control}/count", params={"path": "products"}, timeout=10).json() == {"count": 12}
    assert requests.post(f"{control}/size", json={"path": "brands", "n": 40}, timeout=10).json() == {"ok": True}
    assert sl.count("brands") == 40
    t0 = read(sl)["time"]
    sl.clock.advance(5)
    touched = requests.post(f"{control}/touch", json={"path": "brands", "ids": [7]}, timeout=10).json()
    assert touched == {"ok": True, "touched": [7]}
    created = requests.post(f"{control}/create", timeout=10, json={
        "path": "catalogue", "record": {"REF": "CAT-NEW", "name_en": "Made", "parent_REF": "CAT-0001"}})
    assert created.status_code == 201 and created.json()["ID_PARENT"] == 1
    bad = requests.post(f"{control}/create", json={"path": "catalogue", "record": {"REF": "X", "nope": 1}}, timeout=10)
    assert bad.status_code == 400 and "nope" in bad.json()["error"]
    assert requests.post(f"{control}/delete", json={"path": "brands", "id": 8}, timeout=10).json() == {"ok": True}
    changed = read(sl, last_update=t0)
    assert rows_of(changed, "brands") == [by_ref(changed, "brands", "BRD-007"), ["D", 8]]
    assert [r[1] for r in rows_of(changed, "catalogue")] == [created.json()["ID"]]
    stats = requests.get(f"{sl.url}/__sandbox/stats", timeout=10).json()["saleslayer"]
    assert stats["reads"] == 2
    requests.post(f"{sl.url}/__sandbox/reset", json={"data": True}, timeout=10)
    assert sl.get("brands", 8) is not None and sl.count("catalogue") == SIZES["catalogue"]


def test_the_command_line_finds_and_builds_the_emulator():
    """``connector-sandbox saleslayer`` through the registry's entry point, with its own options."""
    plugin = emulators()["saleslayer"]
    assert isinstance(plugin, SalesLayerEmulator)
    args = build_parser({"saleslayer": plugin}).parse_args(
        ["saleslayer", "--port", "0", "--size", "products=7", "--private-key", "k1", "--private-key", "k2",
         "--temporary-error", "11:2", "--max-import-items", "5"])
    server = plugin.build(args)
    assert isinstance(server, SalesLayerSandbox) and server.count("products") == 7
    assert server.count("catalogue") == 12  # every other table keeps its own default size
    assert server.connectors[DEFAULT_CONNECTOR_ID].keys == ("k1", "k2")
    assert server.connectors[DEFAULT_IMPORT_CONNECTOR_ID].keys == (DEFAULT_IMPORT_PRIVATE_KEY,)
    assert server.importer.max_items == 5 and list(server._temporary) == [11, 11]
    with pytest.raises(SystemExit):
        build_parser({"saleslayer": plugin}).parse_args(["saleslayer", "--temporary-error", "9"])


def test_the_command_line_serves_signed_calls():
    """``python -m connector_sandbox saleslayer --port 0`` prints ``READY <url>`` and answers signed calls."""
    proc = subprocess.Popen([sys.executable, "-m", "connector_sandbox", "saleslayer", "--port", "0",
                             "--size", "products=3"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:")
        stamp, unique = int(time.time()), 4242
        key = hashlib.sha256(f"{DEFAULT_CONNECTOR_ID}{DEFAULT_PRIVATE_KEY}{stamp}{unique}".encode()).hexdigest()
        answer = requests.get(line.split()[1] + "/", timeout=10, params={
            "code": DEFAULT_CONNECTOR_ID, "time": stamp, "unique": unique, "key256": key})
        assert answer.json()["error"] == 0 and len(answer.json()["data"]["products"]) >= 3
    finally:
        proc.terminate()
        proc.wait(timeout=10)
