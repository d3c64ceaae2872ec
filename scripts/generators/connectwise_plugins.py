"""Generate tap-connectwise's stream catalog and target-connectwise's entity catalog.

Reads the derived ConnectWise Manage 2025.1 catalogs (list endpoints and models) from the
reference folder (``../shared/specs/connectwise`` by default) and writes
``tap-connectwise/tap_connectwise/catalog.json`` (streams) and
``target-connectwise/target_connectwise/entities.json`` (the methods each endpoint allows and the
request-body models), which the plugins load at run time. The plugins never read the reference
folder; rerun this script when the specs change and commit the output.

Written by the entry point ``python scripts/generators/connectwise.py [--check]``.

What it decides, per list endpoint:
- the stream name: the path in snake case without ``{params}``
  (``/service/tickets/{parentId}/notes`` -> ``service_tickets_notes``);
- the parent stream for nested endpoints: the list endpoint whose path is the prefix before the
  last ``{param}``; nested endpoints without such a parent are left to custom streams and listed in
  ``unreachable``;
- the JSON schema: the item model with references kept as ``{"$ref": "Model"}`` (the tap inlines
  them as nullable objects), every property nullable, ``_info`` an object of strings, custom-field values (``value``)
  any JSON;
- incremental replication (``lastUpdated``, lifted from ``_info``) for top-level endpoints whose
  items carry ``_info``;
- pagination: forward-only (``pageId``) where the endpoint takes ``pageId`` and its items have an
  ``id``, except audit endpoints (the developer guide excludes the audit trail); else page/Link.
"""

from __future__ import annotations

import json
import re
import sys
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOG_OUT = ROOT / "tap-connectwise" / "tap_connectwise" / "catalog.json"
ENTITIES_OUT = ROOT / "target-connectwise" / "target_connectwise" / "entities.json"

# Streams selected when the user gives no catalog: the entities PSA reporting is built on.
DEFAULT_SELECTED = [
    "company_companies",
    "company_contacts",
    "company_configurations",
    "company_companies_sites",
    "service_tickets",
    "service_tickets_notes",
    "service_boards",
    "service_priorities",
    "time_entries",
    "project_projects",
    "project_tickets",
    "finance_agreements",
    "finance_invoices",
    "system_members",
    "sales_opportunities",
    "sales_activities",
    "schedule_entries",
    "expense_entries",
    "procurement_purchaseorders",
]

LINK_COLUMNS = ["parentId", "grandparentId", "greatGrandparentId"]

SCALARS = {
    "string": {"type": "string"},
    "NullableString": {"type": "string"},
    "int32": {"type": "integer"},
    "int64": {"type": "integer"},
    "NullableInt32": {"type": "integer"},
    "NullableInt64": {"type": "integer"},
    "float32": {"type": "number"},
    "float64": {"type": "number"},
    "NullableFloat32": {"type": "number"},
    "NullableFloat64": {"type": "number"},
    "bool": {"type": "boolean"},
    "NullableBool": {"type": "boolean"},
    "time.Time": {"type": "string", "format": "date-time"},
    "NullableTime": {"type": "string", "format": "date-time"},
    "map[string]string": {"type": "object", "additionalProperties": {"type": "string"}},
    "interface{}": {},
    "map[string]interface{}": {},
    "map[string]map[string]interface{}": {"type": "object"},
}


def snake(name: str) -> str:
    """camelCase or PascalCase to snake_case."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return name.lower()


def stream_name(path: str) -> str:
    segments = path.strip("/").split("/")
    name = "_".join(snake(p) for p in segments if not p.startswith("{"))
    if segments[-1].startswith("{"):
        # e.g. /procurement/products/{parentId}/components/{id}: a list keyed by its last param
        name += "_by_" + snake(segments[-1].strip("{}"))
    return name


def nullable(schema: dict) -> dict:
    """Allow null in a property schema (APIs omit or null almost every field)."""
    if not schema:
        return schema
    if "$ref" in schema:
        return schema  # the tap inlines references as nullable objects
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    return out


def go_type_schema(go_type: str, models: dict) -> dict:
    """JSON schema for one Go type of the generated client."""
    t = go_type.lstrip("*")
    if t.startswith("[]"):
        return {"type": "array", "items": go_type_schema(t[2:], models)}
    if t.startswith("map[string]") and t not in SCALARS:
        return {"type": "object"}
    if t in SCALARS:
        return dict(SCALARS[t])
    if t in models:
        return {"$ref": t}
    # A model the generated client names but does not define: keep the JSON as it comes.
    return {"type": "object"}


def model_schema(name: str, models: dict) -> dict:
    props = {}
    for prop in models[name]["properties"]:
        schema = go_type_schema(prop["goType"], models)
        props[prop["name"]] = nullable(schema)
    return {"type": "object", "properties": props}


def write_schema(name: str, models: dict) -> dict:
    """A model as a request body: types checked, required fields (the generated client's
    non-omitempty fields, which ConnectWise requires on create) and documented max lengths."""
    props, required = {}, []
    for prop in models[name]["properties"]:
        schema = go_type_schema(prop["goType"], models)
        if "$ref" in schema:
            schema = {"$ref": f"#/definitions/{schema['$ref']}"}
        elif schema.get("type") == "array" and "$ref" in schema.get("items", {}):
            schema["items"] = {"$ref": f"#/definitions/{schema['items']['$ref']}"}
        match = re.search(r"Max length: (\d+);", prop.get("comment") or "")
        if match and schema.get("type") == "string":
            schema["maxLength"] = int(match.group(1))
        if prop["required"]:
            required.append(prop["name"])
        elif schema:
            schema = {"anyOf": [schema, {"type": "null"}]} if "$ref" in schema else nullable(schema)
        props[prop["name"]] = schema
    return {"type": "object", "properties": props, "required": required}


def build_entities(specs: Path) -> dict:
    """The target's catalog: the methods each endpoint allows and its request-body models."""
    models = json.loads((specs / "cw_manage_2025.1_models.derived.json").read_text())["models"]
    operations = json.loads((specs / "cw_manage_2025.1_operations.derived.json").read_text())
    endpoints: dict[str, dict] = {}
    for op in operations["operations"]:
        entry = endpoints.setdefault(op["path"], {"methods": [], "body": {}})
        if op["method"] not in entry["methods"]:
            entry["methods"].append(op["method"])
        body = (op.get("requestBody") or {}).get("type")
        if body and op["method"] in ("POST", "PUT") and body.lstrip("[]*") in models:
            entry["body"][op["method"]] = body.lstrip("*")
    used = {m.lstrip("[]") for e in endpoints.values() for m in e["body"].values()}
    schemas = closed_schemas(used, lambda model: write_schema(model, models))
    for entry in endpoints.values():
        entry["methods"].sort()
    return {
        "generated_by": "scripts/generators/connectwise.py",
        "source": "ConnectWise Manage API 2025.1 (derived operation and model catalogs)",
        "endpoints": dict(sorted(endpoints.items())),
        "definitions": dict(sorted(schemas.items())),
    }


def parent_path(path: str) -> str:
    return re.sub(r"/\{[^}]+\}[^{]*$", "", path)


def build(specs: Path) -> dict:
    endpoints = json.loads((specs / "cw_manage_2025.1_list_endpoints.derived.json").read_text())
    models = json.loads((specs / "cw_manage_2025.1_models.derived.json").read_text())["models"]
    operations = json.loads((specs / "cw_manage_2025.1_operations.derived.json").read_text())

    items = endpoints["listEndpoints"]
    by_path = {e["path"]: e for e in items}
    names: dict[str, str] = {}
    streams = []
    unreachable = []
    served_by_list: dict[str, str] = {}
    used_models: set[str] = set()

    for entry in items:
        path = entry["path"]
        parent = None
        if entry["pathParams"]:
            parent_entry = by_path.get(parent_path(path))
            if parent_entry is None:
                unreachable.append(path)
                continue
            parent = stream_name(parent_entry["path"])
        name = stream_name(path)
        if name in names:
            other = by_path[names[name]]
            if parent is not None and other["itemSchema"] == entry["itemSchema"]:
                # The same items are served by a list endpoint: no per-parent (N+1) requests.
                served_by_list[path] = names[name]
                continue
            raise SystemExit(f"stream name {name!r} used by {names[name]} and {path}")
        names[name] = path
        model = entry["itemSchema"]
        if model not in models:
            # e.g. /system/reports/{reportName}/columns returns maps, not a model: custom stream
            unreachable.append(path)
            del names[name]
            continue
        fields = {p["name"] for p in models[model]["properties"]}
        # Placeholders in path order (the derived catalog lists them alphabetically).
        path_params = re.findall(r"\{([^}]+)\}", path)
        # Child rows link to their ancestors in columns named by depth, whatever the endpoint
        # calls its placeholders: parentId for the nearest, then grandparentId.
        # Where the model has a field of that name already, the link column gets a leading "_".
        link_columns = [f"_{c}" if c in fields else c for c in LINK_COLUMNS[: len(path_params)][::-1]]
        has_id = "id" in fields
        has_info = "_info" in fields
        # The guide excludes "Audit Trail endpoints" from forward-only; read conservatively as
        # /system/audittrail and every .../audits list.
        forward_only = entry["supportsPageId"] and has_id and "audit" not in path.lower()
        streams.append(
            {
                "name": name,
                "path": path,
                "model": model,
                "module": entry["module"],
                "parent": parent,
                "path_params": path_params,
                "link_columns": link_columns,
                "primary_keys": [*link_columns, "id"] if has_id else [],
                "replication_key": "lastUpdated" if has_info and parent is None else None,
                "forward_only": forward_only,
                "selected_by_default": name in DEFAULT_SELECTED,
            }
        )
        used_models.add(model)

    streams = _parents_first(streams, unreachable)
    missing = sorted(set(DEFAULT_SELECTED) - {s["name"] for s in streams})
    if missing:
        raise SystemExit(f"default streams not in the catalog: {missing}")

    # Single-record GETs and everything else, so custom streams can find a schema by template.
    get_templates = {
        op["path"]: op["returns"].lstrip("[]*")
        for op in operations["operations"]
        if op["method"] == "GET" and op["returns"] and op["returns"].lstrip("[]*") in models
    }
    # Every model a stream or GET template uses, closed over references so the tap can inline them.
    schemas = closed_schemas(used_models | set(get_templates.values()),
                             lambda model: model_schema(model, models))

    return {
        "generated_by": "scripts/generators/connectwise.py",
        "source": "ConnectWise Manage API 2025.1 (derived list-endpoint, operation and model catalogs)",
        "streams": streams,
        "get_templates": dict(sorted(get_templates.items())),
        "unreachable": unreachable,
        "served_by_list": served_by_list,
        "schemas": dict(sorted(schemas.items())),
    }


def _parents_first(streams: list[dict], unreachable: list[str]) -> list[dict]:
    """Order streams so every parent precedes its children; drop children of dropped parents."""
    by_name = {s["name"]: s for s in streams}
    ordered: list[dict] = []
    placed: set[str] = set()

    def place(stream: dict) -> bool:
        if stream["name"] in placed:
            return True
        parent = stream["parent"]
        if parent is not None and (parent not in by_name or not place(by_name[parent])):
            unreachable.append(stream["path"])
            del by_name[stream["name"]]
            return False
        placed.add(stream["name"])
        ordered.append(stream)
        return True

    for stream in list(streams):
        if stream["name"] in by_name:
            place(stream)
    return ordered


def closed_schemas(roots: set[str], make: t.Callable[[str], dict]) -> dict[str, dict]:
    """``make(model)`` for the roots and every model their schemas reference."""
    schemas: dict[str, dict] = {}
    pending = sorted(roots)
    while pending:
        model = pending.pop()
        if model not in schemas:
            schemas[model] = make(model)
            pending.extend(sorted({r.split("/")[-1] for r in _refs(schemas[model])} - set(schemas)))
    return schemas


def _refs(schema: object):
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield schema["$ref"]
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def outputs(specs: Path) -> dict[Path, str]:
    """tap-connectwise's catalog and target-connectwise's entities, as written."""
    entities = build_entities(specs)
    catalog = build(specs)
    # tap-connectwise's stream names for the collections the target can write, so a stream named
    # like a tap stream maps to its entity without configuration.
    entities["streams"] = {
        st["name"]: st["path"] for st in catalog["streams"]
        if st["parent"] is None and "POST" in entities["endpoints"].get(st["path"], {}).get("methods", [])
    }
    top = sum(1 for s in catalog["streams"] if s["parent"] is None)
    print(f"{ENTITIES_OUT.relative_to(ROOT)}: {len(entities['endpoints'])} endpoints, "
          f"{len(entities['definitions'])} body models; {CATALOG_OUT.relative_to(ROOT)}: "
          f"{len(catalog['streams'])} streams ({top} top-level, {len(catalog['streams']) - top} child), "
          f"{len(catalog['schemas'])} schemas, {len(catalog['unreachable'])} nested endpoints without a "
          "parent list endpoint", file=sys.stderr)
    return {ENTITIES_OUT: json.dumps(entities, separators=(",", ":")) + "\n",
            CATALOG_OUT: json.dumps(catalog, indent=None, separators=(",", ":"), sort_keys=False) + "\n"}
