"""A Sales Layer connector's tables as Singer streams: schemas and records from what every answer says.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §3.1 "Response". Each answer carries,
for every table of the connector, ``data_schema`` (the column order of its positional rows:
``STATUS``, ``ID``, then the fields; a file or image field as ``{field: [subfields]}``) and
``data_schema_info`` (per field its ``type``: string, numeric, boolean, datetime, list, json, image,
file; multilingual fields once per language with ``basename`` and ``language_code``; joins
``ID_<table>`` with ``table_key``). Rows are ``[STATUS, ID, v3, v4, …]``; ``STATUS`` ``D`` is a
deletion (``["D", ID]``). Numbers and booleans may arrive as strings, date-times without a zone.

A column keeps the name Sales Layer gives it (``product_name_en``); :func:`table_schema` drops the
languages a user leaves out (the ``languages`` setting) and :class:`RowReader` converts a row by its
declared types. In a ``last_update`` answer an unchanged file or image column is ``["U"]``: the field
is left out of the record (it did not change), not emptied.
"""

from __future__ import annotations

import decimal
import re
import typing as t
from dataclasses import dataclass
from datetime import datetime, tzinfo

KEY = "ID"
STATUS = "STATUS"
DELETED = "D"
UNCHANGED = ["U"]
#: The export's server ``time`` (the run's bookmark), on every record.
EXPORT_TIME = "saleslayer_time"
DELETED_AT = "_sdc_deleted_at"

FieldInfo = t.Mapping[str, t.Any]

_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def stream_name(table: str) -> str:
    """``products`` -> ``products``; any other character than a letter, digit or ``_`` becomes ``_``."""
    return re.sub(r"\W", "_", table.strip()).lower() or "table"


def columns_of(data_schema: t.Sequence[t.Any]) -> list[tuple[str, list[str] | None]]:
    """``data_schema`` as ``(name, subfields)`` pairs (subfields of a file/image field, else None)."""
    out: list[tuple[str, list[str] | None]] = []
    for entry in data_schema:
        if isinstance(entry, str):
            out.append((entry, None))
        elif isinstance(entry, dict) and len(entry) == 1:
            name, subfields = next(iter(entry.items()))
            out.append((str(name), [str(s) for s in subfields or []]))
        else:
            raise ValueError(f"data_schema entry {entry!r} is neither a field name nor {{field: [subfields]}}")
    return out


def is_join(name: str) -> bool:
    return name.startswith("ID_")


def property_schema(name: str, info: FieldInfo, subfields: list[str] | None) -> dict[str, t.Any]:
    """The JSON schema of one column, from its ``data_schema_info`` type."""
    kind = str(info.get("type") or "string")
    described: dict[str, t.Any] = {}
    title = info.get("title") or (info.get("titles") or {}).get(info.get("language_code") or "")
    if title:
        described["title"] = str(title)
    if name == KEY:
        return {"type": ["integer"], **described}
    if is_join(name):
        if kind == "list":
            return {"type": ["array", "null"], "items": {"type": ["integer"]}, **described}
        if kind == "string":  # group_category_delimiter: "3|7"
            return {"type": ["string", "null"], **described}
        return {"type": ["integer", "null"], **described}
    if kind in ("image", "file"):
        parts = [s for s in subfields or [] if s != STATUS]
        item = {"type": ["object"], "properties": {s: {"type": ["string", "null"]} for s in parts}}
        out = {"type": ["array", "null"], "items": item, **described}
        if kind == "image" and info.get("sizes"):
            out["description"] = "Image sizes: " + ", ".join(
                f"{size} {dims.get('width', 0)}x{dims.get('height', 0)}" for size, dims in info["sizes"].items())
        return out
    simple: dict[str, dict[str, t.Any]] = {
        "numeric": {"type": ["number", "null"]}, "boolean": {"type": ["boolean", "null"]},
        "datetime": dict(_NULLABLE_TIME), "list": {"type": ["array", "null"], "items": {"type": ["string"]}},
        "json": {"type": ["object", "array", "null"]},
    }
    return {**simple.get(kind, {"type": ["string", "null"]}), **described}


def keeps(info: FieldInfo, languages: t.Collection[str] | None) -> bool:
    """Whether a column is kept: a multilingual one only in the chosen ``languages`` (None: all)."""
    code = info.get("language_code")
    return languages is None or not code or str(code) in languages


def table_schema(table: str, data_schema: t.Sequence[t.Any], info: t.Mapping[str, FieldInfo],
                 languages: t.Collection[str] | None = None) -> dict[str, t.Any]:
    """The stream schema of ``table``: its columns (languages chosen), the deletion and export time."""
    properties: dict[str, t.Any] = {}
    for name, subfields in columns_of(data_schema):
        if name == STATUS:
            continue
        field_info = info.get(name) or {}
        if keeps(field_info, languages):
            properties[name] = property_schema(name, field_info, subfields)
    if KEY not in properties:
        raise ValueError(f"table {table}: data_schema has no ID column")
    properties[DELETED_AT] = dict(_NULLABLE_TIME)
    properties[EXPORT_TIME] = {"type": ["string"], "format": "date-time"}
    return {"type": "object", "properties": properties}


class RowError(ValueError):
    """A value does not match its column's declared type; the message names table, ID and field."""


_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}
_INTEGER = re.compile(r"[+-]?\d+")


def _number(value: t.Any) -> t.Any:
    if value is None or isinstance(value, (int, decimal.Decimal)):
        return int(value) if isinstance(value, bool) else value
    text = str(value).strip()
    if not text:
        return None
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return int(number) if _INTEGER.fullmatch(text) else number


def _integer(value: t.Any) -> int | None:
    number = _number(value)
    if number is None:
        return None
    if number != int(number):
        raise ValueError(f"{value!r} is not an integer")
    return int(number)


def _boolean(value: t.Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, decimal.Decimal)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return None if text == "" else False
    raise ValueError(f"{value!r} is not a boolean")


def _datetime(zone: tzinfo) -> t.Callable[[t.Any], str | None]:
    def convert(value: t.Any) -> str | None:
        if value in (None, "") or (isinstance(value, str) and value.startswith("0000-00-00")):
            return None
        if isinstance(value, (int, decimal.Decimal)):  # a UNIX time
            return datetime.fromtimestamp(int(value), zone).isoformat()
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()
    return convert


def _text(value: t.Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _strings(value: t.Any) -> list[str] | None:
    if value in (None, ""):
        return None if value is None else []
    if isinstance(value, list):
        return [v if isinstance(v, str) else str(v) for v in value if v is not None]
    return [str(value)]


def _json(value: t.Any) -> t.Any:
    if value in (None, ""):
        return None
    return value if isinstance(value, (dict, list)) else {"value": value}


def _joins(value: t.Any) -> list[int] | None:
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return [i for i in (_integer(v) for v in values) if i is not None]


def _files(subfields: list[str]) -> t.Callable[[t.Any], t.Any]:
    def convert(value: t.Any) -> t.Any:
        if value in (None, ""):
            return None if value is None else []
        if not isinstance(value, list):
            raise ValueError(f"{value!r} is not a list of files")
        out = []
        for item in value:
            if not isinstance(item, list):
                raise ValueError(f"{item!r} is not a file entry")
            entry = dict(zip(subfields, item))
            entry.pop(STATUS, None)
            out.append({k: _text(v) for k, v in entry.items()})
        return out
    return convert


def converter(name: str, info: FieldInfo, subfields: list[str] | None, zone: tzinfo) -> t.Callable[[t.Any], t.Any]:
    kind = str(info.get("type") or "string")
    if is_join(name):
        return _joins if kind == "list" else _text if kind == "string" else _integer
    if kind in ("image", "file"):
        return _files(subfields or [])
    return {"numeric": _number, "boolean": _boolean, "datetime": _datetime(zone), "list": _strings,
            "json": _json}.get(kind, _text)


@dataclass
class RowReader:
    """Turns one table's positional rows into records, for the columns its stream keeps."""

    table: str
    positions: list[tuple[int, str, t.Callable[[t.Any], t.Any], bool]]  # index, name, convert, is a file
    key_index: int

    @classmethod
    def build(cls, table: str, data_schema: t.Sequence[t.Any], info: t.Mapping[str, FieldInfo],
              keep: t.Collection[str], zone: tzinfo) -> RowReader:
        positions = []
        key_index = -1
        for index, (name, subfields) in enumerate(columns_of(data_schema)):
            if name == KEY:
                key_index = index
            elif name != STATUS and name in keep:
                field_info = info.get(name) or {}
                positions.append((index, name, converter(name, field_info, subfields, zone), subfields is not None))
        if key_index < 0:
            raise ValueError(f"table {table}: data_schema has no ID column")
        return cls(table, positions, key_index)

    def record(self, row: t.Sequence[t.Any], export_time: str) -> dict[str, t.Any]:
        if not isinstance(row, list) or len(row) < 2:
            raise RowError(f"{self.table}: a row is not [STATUS, ID, ...]: {str(row)[:100]}")
        try:
            key = _integer(row[1] if row[0] == DELETED else row[self.key_index])
        except ValueError as exc:
            raise RowError(f"{self.table}: ID {row[1]!r}: {exc}") from None
        if row[0] == DELETED:
            return {KEY: key, DELETED_AT: export_time, EXPORT_TIME: export_time}
        record: dict[str, t.Any] = {KEY: key}
        for index, name, convert, is_file in self.positions:
            if index >= len(row):
                continue
            value = row[index]
            if is_file and value == UNCHANGED:
                continue
            try:
                record[name] = convert(value)
            except ValueError as exc:
                raise RowError(f"{self.table} ID {key}, field {name}: {exc}") from None
        record[DELETED_AT] = None
        record[EXPORT_TIME] = export_time
        return record
