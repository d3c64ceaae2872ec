"""The packaged Exact Online stream catalog (``catalog.json``), generated from the vendor specs.

``catalog.json`` is written by ``scripts/generators/exactonline.py`` and committed: one
stream per entity (sync where Exact has one, else bulk, else the regular endpoint) with its scalar
columns and key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector_core.catalog import packaged_json


@dataclass(frozen=True)
class StreamSpec:
    name: str
    path: str
    kind: str  # sync | bulk | regular | beta | custom
    columns: tuple[str, ...] = ()  # API properties, for $select
    primary_keys: tuple[str, ...] = ("Division", "ID")
    replication_key: str | None = None
    selected_by_default: bool = False


def load() -> dict[str, Any]:
    return packaged_json(__package__, "catalog.json")


DELETED_AT = "_sdc_deleted_at"


def deleted_entity_types() -> dict[int, str]:
    """``sync/Deleted`` EntityType code -> the stream whose rows it deletes (see the generator)."""
    return {int(code): name for code, name in load()["deleted_entity_types"].items()}


def stream_specs() -> list[tuple[StreamSpec, dict]]:
    out = []
    marked = set(deleted_entity_types().values())
    for raw in load()["streams"]:
        spec = StreamSpec(
            name=raw["name"], path=raw["path"], kind=raw["kind"],
            columns=tuple(raw["properties"]),
            primary_keys=("Division", raw["entity_key"]),
            replication_key=raw["replication_key"],
            selected_by_default=raw["selected_by_default"],
        )
        schema = json_schema(raw["properties"], spec.primary_keys)
        if spec.name in marked:  # rows sync/Deleted reports deleted come with this set
            schema["properties"][DELETED_AT] = {"type": ["string", "null"], "format": "date-time"}
        out.append((spec, schema))
    return out


def json_schema(properties: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    props = {"Division": {"type": ["integer"]}, **{k: dict(v) for k, v in properties.items()}}
    for key in keys:
        kind = props[key].get("type")
        if isinstance(kind, list):
            props[key] = {**props[key], "type": [x for x in kind if x != "null"]}
    return {"type": "object", "properties": props}


_LONG: dict[str, dict[str, Any]] = {"s": {"type": ["string", "null"]}, "i": {"type": ["integer", "null"]},
         "n": {"type": ["number", "null"]}, "b": {"type": ["boolean", "null"]},
         "d": {"type": ["string", "null"], "format": "date-time"}}


def find_endpoint(endpoint: str) -> dict[str, Any] | None:
    """``{"entity_key", "properties"}`` of the GET endpoint ``endpoint`` (case-insensitive)."""
    wanted = endpoint.rstrip("/").lower()
    for raw in load()["streams"]:
        if raw["path"].lower() == wanted:
            return raw
    for path, raw in load()["endpoints"].items():
        if path.lower() == wanted:
            return {"entity_key": raw["entity_key"],
                    "properties": {k: dict(_LONG[v]) for k, v in raw["properties"].items()}}
    return None
