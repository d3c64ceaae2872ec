"""tap-saleslayer's reading of data_schema / data_schema_info and of positional rows (§3.1 "Response")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tap_saleslayer.schema import RowError, RowReader, table_schema

DATA_SCHEMA = ["STATUS", "ID", "ID_catalogue", "name_en", "name_es", "price", "active", "launched", "tags",
               "attributes", {"image": ["STATUS", "ID", "ORG", "THM"]}]
INFO = {
    "ID": {"type": "numeric"}, "ID_catalogue": {"type": "list", "table_key": "catalogue"},
    "name_en": {"type": "string", "basename": "name", "language_code": "en", "titles": {"en": "Name"}},
    "name_es": {"type": "string", "basename": "name", "language_code": "es"},
    "price": {"type": "numeric"}, "active": {"type": "boolean"}, "launched": {"type": "datetime"},
    "tags": {"type": "list"}, "attributes": {"type": "json"},
    "image": {"type": "image", "sizes": {"ORG": {"width": 0, "height": 0}, "THM": {"width": 150, "height": 150}}},
}
NOW = "2026-12-07T08:00:00+00:00"


def reader(**kwargs):
    schema = table_schema("products", DATA_SCHEMA, INFO, **kwargs)
    return RowReader.build("products", DATA_SCHEMA, INFO, set(schema["properties"]), dt.timezone.utc)


def test_the_schema_follows_the_declared_types():
    properties = table_schema("products", DATA_SCHEMA, INFO)["properties"]
    assert properties["ID"]["type"] == ["integer"]
    assert properties["ID_catalogue"]["items"] == {"type": ["integer"]}
    assert properties["name_en"]["title"] == "Name"
    assert properties["price"]["type"] == ["number", "null"]
    assert properties["launched"]["format"] == "date-time"
    assert set(properties["image"]["items"]["properties"]) == {"ID", "ORG", "THM"}
    assert "150x150" in properties["image"]["description"]
    assert {"_sdc_deleted_at", "saleslayer_time"} <= set(properties)


def test_languages_leave_the_other_languages_out():
    properties = table_schema("products", DATA_SCHEMA, INFO, languages={"es"})["properties"]
    assert "name_es" in properties and "name_en" not in properties and "price" in properties


def test_numbers_and_booleans_sent_as_strings_are_converted_exactly():
    row = ["M", "12", ["3", 4], "Chair", "Silla", "19.90", "1", "2024-05-01 10:00:00", ["a", 2], {"k": 1},
           [["M", "img1", "http://x/ORG/1.jpg", "http://x/THM/1.jpg"]]]
    record = reader().record(row, NOW)
    assert record["ID"] == 12 and record["ID_catalogue"] == [3, 4]
    assert record["price"] == Decimal("19.90") and str(record["price"]) == "19.90"
    assert record["active"] is True
    assert record["launched"] == "2024-05-01T10:00:00+00:00"
    assert record["tags"] == ["a", "2"] and record["attributes"] == {"k": 1}
    assert record["image"] == [{"ID": "img1", "ORG": "http://x/ORG/1.jpg", "THM": "http://x/THM/1.jpg"}]
    assert record["_sdc_deleted_at"] is None and record["saleslayer_time"] == NOW


@pytest.mark.parametrize(("value", "expected"), [("0", False), (0, False), ("true", True), (True, True),
                                                 ("", None), (None, None)])
def test_booleans(value, expected):
    row = ["M", 1, [], "", "", "", value, "", [], None, []]
    assert reader().record(row, NOW)["active"] is expected


def test_a_deleted_row_is_its_id_and_the_deletion_time():
    assert reader().record(["D", "44"], NOW) == {"ID": 44, "_sdc_deleted_at": NOW, "saleslayer_time": NOW}


def test_an_unchanged_file_column_is_left_out_not_emptied():
    row = ["M", 5, [1], "Chair", "Silla", 3, 1, "", [], None, ["U"]]
    assert "image" not in reader().record(row, NOW)


def test_a_value_that_is_not_its_type_names_table_id_and_field():
    row = ["M", 7, [1], "Chair", "Silla", "twelve", 1, "", [], None, []]
    with pytest.raises(RowError, match=r"products ID 7, field price: 'twelve' is not a number"):
        reader().record(row, NOW)


def test_a_zone_is_given_to_date_times_sent_without_one():
    zone = dt.timezone(dt.timedelta(hours=2))
    schema = table_schema("products", DATA_SCHEMA, INFO)
    rows = RowReader.build("products", DATA_SCHEMA, INFO, set(schema["properties"]), zone)
    record = rows.record(["M", 1, [], "", "", 1, 1, "2024-05-01 10:00:00", [], None, []], NOW)
    assert record["launched"] == "2024-05-01T10:00:00+02:00"
