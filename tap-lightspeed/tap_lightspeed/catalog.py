"""The packaged Lightspeed Retail X-Series stream catalog (``catalog.json``), generated from the API 2.0
OpenAPI document by ``scripts/generators/lightspeed.py``: streams as data (path, paging, keys,
cursor, whether deleted rows can be asked for) plus the Singer schemas of their rows."""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from connector_core.catalog import packaged_json

#: How a stream reads its pages: ``version`` (``after``/``page_size``, the next ``after`` from
#: ``version.max``, the end on an empty page), ``page_info`` (``after=page_info.last_seen`` while
#: ``has_next``) or ``single`` (one answer).
Paging = t.Literal["version", "page_info", "single", "offset"]


@dataclass(frozen=True)
class StreamSpec:
    """One stream of the catalog, or one declared in ``custom_streams``."""

    name: str
    path: str
    schema_name: str
    records: str = "data"
    paging: Paging = "version"
    page_size: bool = True
    deleted: bool = False
    primary_keys: tuple[str, ...] = ()
    replication_key: str | None = None
    selected_by_default: bool = False
    parent: str | None = None
    parent_key: str | None = None


def load() -> dict[str, t.Any]:
    """The raw packaged catalog."""
    return packaged_json(__package__, "catalog.json")


def max_page_size() -> int:
    return int(load()["max_page_size"])


def stream_specs() -> list[StreamSpec]:
    """Every catalog stream."""
    return [
        StreamSpec(name=raw["name"], path=raw["path"], schema_name=raw["name"], records=raw["records"],
                   paging=raw["paging"], page_size=raw["page_size"], deleted=raw["deleted"],
                   primary_keys=tuple(raw["primary_keys"]), replication_key=raw["replication_key"],
                   selected_by_default=raw["selected_by_default"], parent=raw.get("parent"),
                   parent_key=raw.get("parent_key"))
        for raw in load()["streams"]
    ]


def _shape(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", template.rstrip("/"))


def stream_for_path(endpoint: str) -> StreamSpec | None:
    """The catalog stream that reads ``endpoint`` (a list path, templates matched by shape)."""
    shape = _shape(endpoint)
    return next((spec for spec in stream_specs() if _shape(spec.path) == shape), None)


def model_for_endpoint(endpoint: str) -> str | None:
    """The model a GET on ``endpoint`` returns, matching templates whatever their param names."""
    shape = _shape(endpoint)
    return next((model for template, model in load()["get_templates"].items() if _shape(template) == shape), None)


def json_schema(name: str) -> dict[str, t.Any]:
    """The Singer schema of a stream's rows (by stream name) or of a model (by its name)."""
    return load()["schemas"][name]
