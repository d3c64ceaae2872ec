"""The emulator's view of ``api_catalog.json`` (written by ``scripts/generators/superoffice_emulator.py``).

Archive providers with their columns, the GET list endpoints backed by them, the entities served item
by item, the models of the Swagger files and the lookup lists. Column restriction types are folded
into the few kinds the query language knows (:data:`KINDS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

# Restriction type (archive-provider reference pages) -> the kind the emulator compares and prints.
KINDS = {
    "int": "int", "timeSpan": "int",
    "decimal": "decimal",
    "bool": "bool",
    "string": "string", "stringorPK": "string", "positiveString": "string",
    "date": "date", "unlimitedDate": "date",
    "datetime": "datetime",
    "listAny": "list", "associate": "list", "userGroup": "list", "ejUser": "list", "ejCategory": "list",
    "listInterest": "list", "saintStatus": "list",
    "intArray": "intarray",
}


@dataclass(frozen=True)
class Column:
    name: str
    restriction: str | None
    kind: str  # int, decimal, bool, string, date, datetime, list, intarray, none
    order_by: bool


@dataclass
class Provider:
    name: str
    entities: list[str]
    key: str | None
    updated: str | None
    registered: str | None
    deleted_date: str | None
    deleted_flag: str | None
    default_select: list[str]
    columns: dict[str, Column]
    by_lower: dict[str, Column] = field(default_factory=dict)

    @property
    def entity(self) -> str:
        return self.entities[0]

    @property
    def soft_deletes(self) -> bool:
        return self.deleted_date is not None

    def column(self, name: str) -> Column | None:
        return self.by_lower.get(name.strip().lower())


@dataclass(frozen=True)
class Entity:
    name: str
    model: str
    response_model: str
    key: str
    provider: str | None
    collection_methods: tuple[str, ...]
    item_methods: tuple[str, ...]


class Catalog:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.providers: dict[str, Provider] = {}
        for name, spec in data["providers"].items():
            columns = {c: Column(c, r, KINDS.get(r or "", "none"), bool(ob)) for c, (r, ob) in spec["columns"].items()}
            p = Provider(name, spec["entities"], spec["key"], spec["updated"], spec["registered"], spec["deleted_date"],
                         spec["deleted_flag"], spec["default_select"], columns)
            p.by_lower = {c.lower(): col for c, col in columns.items()}
            self.providers[name] = p
        self._providers_lower = {n.lower(): p for n, p in self.providers.items()}
        self.entities = {n: Entity(n, e["model"], e["response_model"], e["key"], e["provider"],
                                   tuple(e["collection_methods"]), tuple(e["item_methods"]))
                         for n, e in data["entities"].items()}
        self._entities_lower = {n.lower(): e for n, e in self.entities.items()}
        self.list_endpoints: dict[str, str] = data["list_endpoints"]
        #: ``{entity: {list name: {"provider", "column"}}}``: ``GET /api/v1/Contact/{id}/Persons``.
        self.related_lists: dict[str, dict[str, dict[str, str]]] = data.get("related_lists", {})
        self._lists_lower = {n.lower(): (n, p) for n, p in self.list_endpoints.items()}
        self.lookup_lists: dict[str, str] = data["lookup_lists"]
        self._lookup_lower = {n.lower(): n for n in self.lookup_lists}
        self.models: dict[str, dict[str, Any]] = data["models"]
        self.query_options = {k: {o.lower(): o for o in v} for k, v in data["query_options"].items()}
        self.operators: dict[str, list[str]] = data["filter_operators"]

    def provider(self, name: str) -> Provider | None:
        return self._providers_lower.get(name.lower())

    def entity(self, name: str) -> Entity | None:
        return self._entities_lower.get(name.lower())

    def list_endpoint(self, name: str) -> tuple[str, str] | None:
        """(entity name, provider) of ``GET /api/v1/{name}``."""
        return self._lists_lower.get(name.lower())

    def related_list(self, entity: str, name: str) -> tuple[str, str, str] | None:
        """(list name, provider, the provider's column holding the entity's id) of
        ``GET /api/v1/{entity}/{id}/{name}``, names case-insensitive."""
        lists = self.related_lists.get(entity, {})
        canon = next((n for n in lists if n.lower() == name.lower()), None)
        return None if canon is None else (canon, lists[canon]["provider"], lists[canon]["column"])

    def lookup_list(self, name: str) -> str | None:
        return self._lookup_lower.get(name.lower())

    def entity_of_provider(self, provider: str) -> Entity | None:
        return next((e for e in self.entities.values() if e.provider == provider), None)


@cache
def load_catalog() -> Catalog:
    return Catalog(json.loads((Path(__file__).parent / "api_catalog.json").read_text(encoding="utf-8")))
