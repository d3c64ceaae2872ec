"""The emulator's view of ``api_catalog.json`` (written by ``scripts/generators/saleslayer.py`` from the facts
file ``scripts/generators/saleslayer_connectors.json``).

The classic API has no fixed catalog: every connector describes its own tables. The catalog holds the
sandbox's two connectors as data: the export connector's tables (their columns in row order, the
``data_schema`` and ``data_schema_info`` every answer carries) and the import connector's field names.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

FILE_TYPES = ("image", "file")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string numeric boolean datetime image file json list
    sample: str  # how data.py fills it
    basename: str | None = None
    language: str | None = None
    table_key: str | None = None
    subfields: tuple[str, ...] = ()  # image/file: [STATUS, ID, <size or FILE>...]
    sizes: tuple[str, ...] = ()  # image: the size names (ORG, THM...)

    @property
    def is_file(self) -> bool:
        return self.type in FILE_TYPES


@dataclass
class Table:
    name: str
    key: str  # the reference column (the import's REF)
    custom: bool
    titles: dict[str, str]
    columns: list[Column]
    data_schema: list[Any]
    data_schema_info: dict[str, Any]
    by_name: dict[str, Column] = field(default_factory=dict)

    def column(self, name: str) -> Column | None:
        return self.by_name.get(name)


@dataclass(frozen=True)
class ImportField:
    name: str
    column: str | None  # None: the status field
    type: str  # a column type, "ref" or "status"
    ref: str | None = None  # type ref: the table whose references it takes


@dataclass
class ImportTable:
    name: str
    only_update_existing: bool
    fields: dict[str, ImportField]


class Catalog:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.api: dict[str, Any] = data["api"]
        self.versions: list[str] = self.api["versions"]
        self.default_version: str = self.api["default_version"]
        self.paginated_versions: list[str] = self.api["paginated_versions"]
        self.error_messages: dict[int, str] = {int(k): v for k, v in self.api["errors"].items()}
        self.read_parameters: list[str] = self.api["read_parameters"]
        self.import_parameters: list[str] = self.api["import_parameters"]
        self.signature_parameters: list[str] = self.api["signature_parameters"]
        self.pagination: dict[str, int] = self.api["pagination"]
        self.company: dict[str, Any] = data["company"]
        self.languages: list[str] = data["languages"]
        self.default_language: str = data["default_language"]
        export = data["export"]
        self.export_type: str = export["connector_type"]
        self.custom_parameters: dict[str, Any] = export["custom_parameters"]
        self.tables: dict[str, Table] = {}
        for name, spec in export["tables"].items():
            columns = [Column(c["name"], c["type"], c["sample"], c.get("basename"), c.get("language"),
                              c.get("table_key"), tuple(c.get("subfields", ())), tuple(c.get("sizes", {})))
                       for c in spec["columns"]]
            table = Table(name, spec["key"], spec["custom"], spec["titles"], columns, spec["data_schema"],
                          spec["data_schema_info"])
            table.by_name = {c.name: c for c in columns}
            self.tables[name] = table
        imports = data["import"]
        self.import_type: str = imports["connector_type"]
        self.import_tables: dict[str, ImportTable] = {
            name: ImportTable(name, spec["only_update_existing"],
                              {f: ImportField(f, v["column"], v["type"], v.get("ref")) for f, v in spec["fields"].items()})
            for name, spec in imports["tables"].items()}

    def table(self, name: str) -> Table:
        """A table by name (``products`` or ``/products``); KeyError naming the tables otherwise."""
        key = name.strip().strip("/")
        if key not in self.tables:
            raise KeyError(f"unknown table {name!r}; the export connector has {', '.join(self.tables)}")
        return self.tables[key]

    def schema_info(self, table: str, grouped: bool) -> dict[str, Any]:
        """``data_schema_info[table]``; with ``group_category_id`` the category join is a list (several IDs)."""
        info = self.tables[table].data_schema_info
        if not grouped or "ID_catalogue" not in info:
            return info
        out = copy.deepcopy(info)
        out["ID_catalogue"]["type"] = "list"
        return out


@cache
def load_catalog() -> Catalog:
    return Catalog(json.loads((Path(__file__).parent / "api_catalog.json").read_text(encoding="utf-8")))
