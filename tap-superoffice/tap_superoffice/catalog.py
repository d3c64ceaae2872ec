"""The packaged SuperOffice stream catalog (``catalog.json``), generated from the vendor's specs.

``catalog.json`` is written by ``scripts/generators/superoffice.py`` and committed. It holds:

* provider streams: a GET list endpoint (``/Contact``) backed by an archive provider
  (``SimpleContact``), read with an explicit ``$select`` of the provider's columns (the default
  columns leave out dates), keyset-paged on the primary key, incremental on the change column
  (``updatedDate``; ``date`` columns compare by date only);
* lookup lists (``/List/{name}/Items``): one request answers every item;
* ``get_templates``: the schema of every GET endpoint, for custom streams.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from connector_core.catalog import packaged_json
from connector_core.params import template_shape

#: A custom stream on an archive answer (``/Contact/{id}/Persons``) whose columns are unknown.
OPEN_ROW_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {"PrimaryKey": {"type": ["string", "integer", "null"]}, "EntityName": {"type": ["string", "null"]}},
    "additionalProperties": True,
}


@dataclass(frozen=True)
class StreamSpec:
    """One stream of the catalog, or one declared in ``custom_streams``."""

    name: str
    path: str
    schema_name: str | None = None
    primary_keys: tuple[str, ...] = ()
    replication_key: str | None = None
    #: ``date`` (compares by day) or ``datetime``; None: no incremental read.
    replication_restriction: str | None = None
    deleted_column: str | None = None
    #: The provider's columns ``$select``ed; empty: not a provider stream.
    columns: tuple[str, ...] = ()
    selected_by_default: bool = False
    #: ``keyset`` (provider streams with an int key), ``skip`` (provider streams without one),
    #: ``next_link`` (custom streams on an archive answer), ``none`` (one answer).
    paging: str = "none"

    @property
    def is_provider(self) -> bool:
        return bool(self.columns)


def load() -> dict[str, t.Any]:
    """The raw packaged catalog."""
    return packaged_json(__package__, "catalog.json")


def max_page_size() -> int:
    return int(load()["max_page_size"])


def _paging(raw: t.Mapping[str, t.Any]) -> str:
    if not raw.get("columns"):
        return "none"
    key = raw["primary_key"]
    schema = load()["schemas"][raw.get("model") or raw["name"]]["properties"].get(key, {})
    # Keyset paging needs a column the provider filters and orders by: its int id.
    return "keyset" if key != "PrimaryKey" and "integer" in schema.get("type", ()) else "skip"


def stream_specs() -> list[StreamSpec]:
    """Every catalog stream."""
    return [
        StreamSpec(name=raw["name"], path=raw["path"], schema_name=raw.get("model") or raw["name"],
                   primary_keys=(raw["primary_key"],), replication_key=raw["replication_key"],
                   replication_restriction=raw.get("replication_restriction"),
                   deleted_column=raw.get("deleted_column"), columns=tuple(raw.get("columns") or ()),
                   selected_by_default=raw["selected_by_default"], paging=_paging(raw))
        for raw in load()["streams"]
    ]


def stream_for_path(endpoint: str) -> StreamSpec | None:
    """The catalog stream that reads ``endpoint`` (``/Contact``), if any."""
    shape = template_shape(endpoint)
    return next((s for s in stream_specs() if template_shape(s.path) == shape), None)


def schema_for_endpoint(endpoint: str) -> tuple[dict[str, t.Any], bool] | None:
    """The row schema of a GET on ``endpoint`` and whether the answer is an archive answer
    (rows under ``value``); None when the specs know no such GET endpoint."""
    catalog = load()
    shape = template_shape(endpoint)
    model = next((m for template, m in catalog["get_templates"].items() if template_shape(template) == shape), None)
    if model is None:
        return None
    if model == "ODataSlimResponse":
        return OPEN_ROW_SCHEMA, True
    return catalog["schemas"][model], False


def json_schema(name: str) -> dict[str, t.Any]:
    """The Singer schema of a stream or model."""
    return load()["schemas"][name]
