"""Generate every Lightspeed (retail POS) artifact from the vendor's specs: the tap's stream catalog, the
target's entities and the emulator's API catalog.

TODO(lightspeed): scaffolded by ``scripts/dev/new_vendor.py``. :data:`SPEC` below is the scaffold's
made-up API (one entity, ``/items``). Read
``shared/vendors/superoffice-lightspeed-saleslayer.md`` for Lightspeed (retail POS), put the vendor's
specs under ``shared/specs/lightspeed/`` (an OpenAPI document, a metadata file) and replace
:func:`load_spec` by a reader of them that returns the same shape; the three writers stay. The
emulator's catalog comes from the specs too, never from a plugin's package: that independence is
what catches a plugin misreading the vendor.

Writes (and ``--check`` compares, exit 1 when one is stale):
- ``tap-lightspeed/tap_lightspeed/catalog.json``: streams (path, model, keys, cursor), the GET
  endpoints custom streams may name, and the Singer schema of each model;
- ``target-lightspeed/target_lightspeed/entities.json``: writable endpoints (methods, model,
  filters), each model's JSON schema for a request body, its read-only fields, and the tap stream
  each entity is written from by default;
- ``sandbox/connector_sandbox/lightspeed/api_catalog.json``: what the emulator serves and checks.

Usage: python scripts/generators/lightspeed.py [--specs DIR] [--check]
"""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

import outputs

ROOT = Path(__file__).resolve().parents[2]
GENERATED_BY = "scripts/generators/lightspeed.py"
OUTPUTS = {
    "tap": ROOT / "tap-lightspeed" / "tap_lightspeed" / "catalog.json",
    "target": ROOT / "target-lightspeed" / "target_lightspeed" / "entities.json",
    "emulator": ROOT / "sandbox" / "connector_sandbox" / "lightspeed" / "api_catalog.json",
}

SPEC: dict[str, t.Any] = {
    "source": "scaffold example (TODO(lightspeed): the vendor's specs)",
    "page_size": {"default": 25, "max": 100},
    "entities": {
        # stream name: list endpoint, model, the fields the list endpoint filters on, the cursor.
        "items": {"path": "/items", "model": "Item", "filters": ["code", "status"], "cursor": "updated_at"},
    },
    "models": {
        "Item": {
            "key": "id",
            "required": ["name"],
            "properties": {
                "id": {"type": "integer", "read_only": True},
                "code": {"type": "string", "max_length": 20},
                "name": {"type": "string", "max_length": 100},
                "status": {"type": "string", "enum": ["active", "archived"]},
                "price": {"type": "number"},
                "created_at": {"type": "date-time", "read_only": True},
                "updated_at": {"type": "date-time", "read_only": True},
            },
        },
    },
}


def load_spec() -> dict[str, t.Any]:
    """The vendor's API: entities (list endpoint, model, filters, cursor) and models."""
    return SPEC


def _json_type(prop: dict[str, t.Any], *, nullable: bool) -> dict[str, t.Any]:
    kind = prop["type"]
    out: dict[str, t.Any] = {"type": ["string", "null"] if nullable else "string", "format": "date-time"} \
        if kind == "date-time" else {"type": [kind, "null"] if nullable else kind}
    if "max_length" in prop:
        out["maxLength"] = prop["max_length"]
    if "enum" in prop:
        out["enum"] = [*prop["enum"], None] if nullable else list(prop["enum"])
    return out


def tap_catalog(spec: dict[str, t.Any]) -> dict[str, t.Any]:
    schemas = {}
    for name, model in spec["models"].items():
        properties = {field: _json_type(prop, nullable=field != model["key"])
                      for field, prop in model["properties"].items()}
        schemas[name] = {"type": "object", "properties": properties}
    streams, templates = [], {}
    for name, entity in spec["entities"].items():
        key = spec["models"][entity["model"]]["key"]
        streams.append({"name": name, "path": entity["path"], "model": entity["model"], "primary_keys": [key],
                        "replication_key": entity.get("cursor"), "selected_by_default": True})
        templates[entity["path"]] = entity["model"]
        templates[f"{entity['path']}/{{{key}}}"] = entity["model"]
    return {"generated_by": GENERATED_BY, "source": spec["source"], "max_page_size": spec["page_size"]["max"],
            "streams": streams, "get_templates": templates, "schemas": schemas}


def target_entities(spec: dict[str, t.Any]) -> dict[str, t.Any]:
    endpoints, models, read_only = {}, {}, {}
    for entity in spec["entities"].values():
        key = spec["models"][entity["model"]]["key"]
        endpoints[entity["path"]] = {"methods": ["GET", "POST"], "model": entity["model"],
                                     "filters": entity["filters"]}
        endpoints[f"{entity['path']}/{{{key}}}"] = {"methods": ["DELETE", "GET", "PATCH", "PUT"],
                                                    "model": entity["model"]}
    for name, model in spec["models"].items():
        writable = {f: p for f, p in model["properties"].items() if not p.get("read_only")}
        models[name] = {"type": "object", "additionalProperties": False, "required": model["required"],
                        "properties": {f: _json_type(p, nullable=f not in model["required"])
                                       for f, p in writable.items()}}
        read_only[name] = sorted(f for f, p in model["properties"].items() if p.get("read_only"))
    streams = {name: entity["path"] for name, entity in spec["entities"].items()}
    return {"generated_by": GENERATED_BY, "source": spec["source"], "streams": streams,
            "endpoints": endpoints, "models": models, "read_only": read_only}


def emulator_catalog(spec: dict[str, t.Any]) -> dict[str, t.Any]:
    collections = {entity["path"]: {"model": entity["model"], "filters": entity["filters"],
                                    "cursor": entity.get("cursor")}
                   for entity in spec["entities"].values()}
    return {"generated_by": GENERATED_BY, "source": spec["source"], "page_size": spec["page_size"],
            "collections": collections, "models": spec["models"]}


def render(obj: t.Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"


def derive(specs: Path) -> dict[Path, str]:
    spec = load_spec()  # TODO(lightspeed): read the vendor's specs from ``specs``
    wanted = {"tap": tap_catalog(spec), "target": target_entities(spec), "emulator": emulator_catalog(spec)}
    return {path: render(wanted[part]) for part, path in OUTPUTS.items()}


if __name__ == "__main__":
    sys.exit(outputs.main(__doc__ or "", "lightspeed", derive))
