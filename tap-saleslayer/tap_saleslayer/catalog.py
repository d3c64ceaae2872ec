"""The packaged Sales Layer (PIM) stream catalog (``catalog.json``), generated from the vendor's specs.

TODO(saleslayer): scaffolded by ``scripts/dev/new_vendor.py``. ``catalog.json`` is written by
``scripts/generators/saleslayer.py`` and committed: streams as data (path, keys, cursor) plus the
Singer schemas of the models they return. Extend :class:`StreamSpec` with what the vendor's streams
need (parents, pagination kinds) as the generator learns them from the vendor's specs.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from connector_core.catalog import packaged_json


@dataclass(frozen=True)
class StreamSpec:
    """One stream of the catalog, or one declared in ``custom_streams``."""

    name: str
    path: str
    model: str | None
    primary_keys: tuple[str, ...] = ()
    replication_key: str | None = None
    selected_by_default: bool = False
    paginate: bool = True


def load() -> dict[str, t.Any]:
    """The raw packaged catalog."""
    return packaged_json(__package__, "catalog.json")


def max_page_size() -> int:
    return int(load()["max_page_size"])


def stream_specs() -> list[StreamSpec]:
    """Every catalog stream."""
    return [
        StreamSpec(name=raw["name"], path=raw["path"], model=raw["model"],
                   primary_keys=tuple(raw["primary_keys"]), replication_key=raw["replication_key"],
                   selected_by_default=raw["selected_by_default"])
        for raw in load()["streams"]
    ]


def _shape(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", template.rstrip("/"))


def model_for_endpoint(endpoint: str) -> str | None:
    """The model a GET on ``endpoint`` returns, matching templates whatever their param names."""
    shape = _shape(endpoint)
    return next((model for template, model in load()["get_templates"].items() if _shape(template) == shape), None)


def json_schema(model: str) -> dict[str, t.Any]:
    """The Singer schema of the rows of ``model``."""
    return load()["schemas"][model]
