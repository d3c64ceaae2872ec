"""The packaged ConnectWise stream catalog (``catalog.json``), generated from the vendor specs.

``catalog.json`` is written by ``scripts/generators/connectwise.py`` and committed: streams as
data (path, parent, keys, cursor, pagination) plus the models their schemas are built from. This
module turns it into Singer JSON schemas, inlining model references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from connector_core.catalog import packaged_json

# Depth at which nested models stop being expanded and are kept as free-form JSON objects. Three
# levels cover every reference object (id, name, _info) inside the entities that hold them.
MAX_DEPTH = 3


@dataclass(frozen=True)
class StreamSpec:
    """One stream of the catalog."""

    name: str
    path: str
    model: str | None
    parent: str | None = None
    path_params: tuple[str, ...] = ()  # placeholders, in path order
    link_columns: tuple[str, ...] = ()  # per placeholder, the column that keeps its value
    primary_keys: tuple[str, ...] = ()
    replication_key: str | None = None
    forward_only: bool = False
    selected_by_default: bool = False
    paginate: bool = True
    cursor_is_model_field: bool = False


def load() -> dict[str, Any]:
    """The raw packaged catalog."""
    return packaged_json(__package__, "catalog.json")


def stream_specs() -> list[StreamSpec]:
    """Every catalog stream, parents before their children."""
    return [
        StreamSpec(
            name=raw["name"],
            path=raw["path"],
            model=raw["model"],
            parent=raw["parent"],
            path_params=tuple(raw["path_params"]),
            link_columns=tuple(raw["link_columns"]),
            primary_keys=tuple(raw["primary_keys"]),
            replication_key=raw["replication_key"],
            forward_only=raw["forward_only"],
            selected_by_default=raw["selected_by_default"],
            cursor_is_model_field=raw["replication_key"] in load()["schemas"][raw["model"]]["properties"],
        )
        for raw in load()["streams"]
    ]


def _template_key(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/"))


def model_for_endpoint(endpoint: str) -> str | None:
    """The model a GET on ``endpoint`` returns, matching templates whatever their param names."""
    key = _template_key(endpoint)
    for template, model in load()["get_templates"].items():
        if _template_key(template) == key:
            return model
    return None


def _expand(schema: dict[str, Any], models: dict[str, Any], depth: int) -> dict[str, Any]:
    if "$ref" in schema:
        if depth >= MAX_DEPTH:
            return _free_object({"type": ["object", "null"]})
        model = models[schema["$ref"]]
        return {
            "type": ["object", "null"],
            "properties": {
                name: _expand(prop, models, depth + 1) for name, prop in model["properties"].items()
            },
        }
    out = dict(schema)
    if "items" in out:
        out["items"] = _expand(out["items"], models, depth)
    if "properties" in out:
        out["properties"] = {k: _expand(v, models, depth + 1) for k, v in out["properties"].items()}
    kind = out.get("type")
    if (kind == "object" or isinstance(kind, list) and "object" in kind) and "properties" not in out:
        out = _free_object(out)
    return out


def _free_object(schema: dict[str, Any]) -> dict[str, Any]:
    """An object kept as it comes. singer-sdk needs ``properties`` on every object schema (it fails
    on objects inside arrays without them); ``additionalProperties`` keeps every key."""
    return {**schema, "properties": {}, "additionalProperties": schema.get("additionalProperties", True)}


def json_schema(spec: StreamSpec) -> dict[str, Any]:
    """The Singer schema of a stream: the model, plus the path params and the lifted cursor."""
    models = load()["schemas"]
    top = models[spec.model]
    properties: dict[str, Any] = {}
    for column in spec.link_columns:
        # Ancestor ids that fill the endpoint's path, kept so child rows link to their parent.
        properties[column] = {"type": ["integer", "null"]}
    for name, prop in top["properties"].items():
        properties[name] = _expand(prop, models, 1)
    if spec.replication_key and spec.replication_key not in properties:
        properties[spec.replication_key] = {"type": ["string", "null"], "format": "date-time"}
    for key in spec.primary_keys:
        kind = properties[key].get("type")
        if isinstance(kind, list):
            properties[key] = {**properties[key], "type": [t for t in kind if t != "null"]}
    return {"type": "object", "properties": properties}
