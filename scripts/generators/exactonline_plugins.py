"""Generate tap-exactonline's stream catalog from the Exact Online entity specs.

Reads ``exact_entities_picqer_2025-12.derived.json`` (451 endpoints, properties, keys) and the
2019 Edm metadata ``meta-data_2019-12.dannyvdsluijs.json`` (property Edm types, allowed verbs)
from the reference folder (``../shared/specs/exactonline`` by default) and writes
``tap-exactonline/tap_exactonline/catalog.json``, which the tap loads at run time, and
``target-exactonline/target_exactonline/entities.json`` (writable endpoints, see
:func:`build_entities`). The tap never
reads the reference folder; rerun this script when the specs change and commit the output.

Written by the entry point ``python scripts/generators/exactonline.py [--check]``.

What it decides, per entity (contract §2.4-2.5):
- ``sync/{Service}/{Entity}`` wherever it exists (Timestamp cursor, 1,000 rows a page), plus
  ``sync/Deleted`` as the stream ``deleted``;
- else ``bulk/{Service}/{Entity}`` (full read, 1,000 rows a page, ``$select`` required);
- else the regular endpoint (60 rows a page), incremental on ``Modified`` when the entity has it;
  beta endpoints (``/api/v1/beta/{division}/…``) as streams named ``beta_…``, read like regular
  ones; ``read/`` functions and endpoints without GET are left to custom streams;
- the stream name: the regular path in snake case (``crm/Accounts`` -> ``crm_accounts``);
- the schema: scalar properties only (embedded line collections and reference classes are
  navigation properties, not selectable columns); Edm types from the 2019 metadata, else the
  library's coarse type; ``Edm.DateTime`` (and, without Edm type, ``Created``/``Modified``/
  ``*Date``) as date-time strings;
- ``endpoints``: every other GET endpoint (bulk/sync twins of a stream, ``read/`` functions)
  with its key and compact column types, so custom streams get a schema without one in config;
- the primary key: ``Division`` plus the entity key (``ID`` for sync views, whose library key is
  the Timestamp row version).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOG_OUT = ROOT / "tap-exactonline" / "tap_exactonline" / "catalog.json"
ENTITIES_OUT = ROOT / "target-exactonline" / "target_exactonline" / "entities.json"

EDM_TYPES = {
    "Edm.String": "string", "Edm.Guid": "string", "Edm.DateTime": "date-time",
    "Edm.Int16": "integer", "Edm.Int32": "integer", "Edm.Int64": "integer", "Edm.Byte": "integer",
    "Edm.Double": "number", "Edm.Decimal": "number", "Edm.Single": "number",
    "Edm.Boolean": "boolean", "Edm.Binary": "string",
}
SHORT = {"string": "s", "stringdate-time": "d", "integer": "i", "number": "n", "boolean": "b"}
PHP_TYPES = {"string": "string", "int": "integer", "float": "number", "bool": "boolean"}


def snake(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_")


def json_type(kind: str) -> dict:
    if kind == "date-time":
        return {"type": ["string", "null"], "format": "date-time"}
    return {"type": [kind, "null"]}


def build(specs: Path) -> dict:
    picqer = json.loads((specs / "exact_entities_picqer_2025-12.derived.json").read_text())
    meta = json.loads((specs / "meta-data_2019-12.dannyvdsluijs.json").read_text())
    edm: dict[str, dict[str, str]] = {}
    no_get: set[str] = set()
    for entry in meta.values():
        path = entry["uri"].split("{division}/", 1)[-1].lower()
        edm[path] = {p["name"]: p["type"] for p in entry["properties"]}
        if not entry.get("supportedMethods", {}).get("get", True):
            no_get.add(path)
    entities = picqer["entities"]
    by_kind: dict[str, dict[str, dict]] = {}
    for entity in entities:
        by_kind.setdefault(entity["kind"], {})[entity["path"].lower()] = entity
    regular = by_kind["rest"]

    def plain(path: str) -> str:  # sync/CRM/Accounts -> crm/accounts
        return path.split("/", 1)[1].lower()

    def columns(entity: dict, *fallbacks: str) -> dict:
        types: dict[str, str] = {}
        for key in (entity["path"].lower(), *fallbacks):
            for name, kind in edm.get(key, {}).items():
                types.setdefault(name, kind)
        out = {}
        for prop in entity["properties"]:
            name, php = prop["name"], prop["phpType"]
            kind = EDM_TYPES.get(types.get(name, ""))
            if kind is None:
                if php not in PHP_TYPES:
                    continue  # navigation property (line collection, reference class)
                kind = PHP_TYPES[php]
                if kind == "string" and (name in ("Created", "Modified") or name.endswith("Date")):
                    kind = "date-time"
            out[name] = json_type(kind)
        return out

    streams = []
    covered: set[str] = set()
    for path, entity in sorted(by_kind["sync"].items()):
        if path == "sync/deleted":
            name = "deleted"
        else:
            name = snake(plain(entity["path"]))
            covered.add(plain(entity["path"]))
        props = columns(entity, plain(entity["path"]))
        key = "ID" if "ID" in props else "Timestamp"
        streams.append({"name": name, "path": "/" + entity["path"], "kind": "sync",
                        "properties": props, "entity_key": key, "replication_key": "Timestamp",
                        "selected_by_default": True})
    for path, entity in sorted(by_kind["bulk"].items()):
        if plain(path) in covered:
            continue
        covered.add(plain(path))
        props = columns(entity, plain(path))
        streams.append({"name": snake(plain(entity["path"])), "path": "/" + entity["path"],
                        "kind": "bulk", "properties": props, "entity_key": entity["primaryKey"],
                        "replication_key": None, "selected_by_default": True})
    for path, entity in sorted(regular.items()):
        if path in covered or path in no_get or "GET" not in entity["libraryMethods"]:
            continue
        if path.startswith(("current/",)):
            continue
        props = columns(entity)
        key = entity["primaryKey"] if entity["primaryKey"] in props else None
        if key is None:
            continue
        streams.append({"name": snake(entity["path"]), "path": "/" + entity["path"],
                        "kind": "regular", "properties": props, "entity_key": key,
                        "replication_key": "Modified" if "Modified" in props else None,
                        "selected_by_default": False})
    # Beta endpoints (/api/v1/beta/{division}/service/Entity): streams named beta_..., read like
    # regular endpoints, not selected by default.
    for _path, entity in sorted(by_kind["beta"].items()):
        plain_path = entity["path"].split("{division}/", 1)[1]
        props = columns(entity, plain_path.lower())
        key = entity["primaryKey"] if entity["primaryKey"] in props else None
        if key is None or "GET" not in entity["libraryMethods"]:
            continue
        streams.append({"name": "beta_" + snake(plain_path), "path": "/" + plain_path,
                        "kind": "beta", "properties": props, "entity_key": key,
                        "replication_key": "Modified" if "Modified" in props else None,
                        "selected_by_default": False})
    # Every other GET endpoint (bulk/sync twins, read functions), for custom streams.
    chosen = {s["path"].lower() for s in streams if s["kind"] != "beta"}
    endpoints = {}
    for entity in entities:
        path = "/" + entity["path"]
        if path.lower() in chosen or entity["kind"] == "beta":
            continue  # beta endpoints live at /api/v1/beta/{division}/..., not below the division
        if entity["kind"] == "rest" and "GET" not in entity["libraryMethods"]:
            continue
        props = columns(entity, plain(entity["path"]) if "/" in entity["path"] else "")
        endpoints[path] = {"entity_key": "ID" if entity["kind"] == "sync" and "ID" in props
                           else entity["primaryKey"],
                           "properties": {k: SHORT[v["type"][0] + v.get("format", "")]
                                          for k, v in props.items()}}
    names = [s["name"] for s in streams]
    assert len(names) == len(set(names)), "duplicate stream names"
    return {"source": "scripts/generators/exactonline.py", "streams": streams,
            "endpoints": endpoints,
            "deleted_entity_types": deleted_entity_types(by_kind, regular, streams)}


def deleted_entity_types(by_kind: dict, regular: dict, streams: list[dict]) -> dict[str, str]:
    """``sync/Deleted``'s EntityType codes -> the sync stream whose rows they delete.

    The codes come from the EntityType description (``1= TransactionLines 2= Accounts …``). A code
    maps to the sync stream of that entity when its rows are the entity's own, so ``EntityKey`` is
    the row's ``ID``. Left out: header-and-lines views such as ``sync/SalesInvoice/SalesInvoices``
    (one row per invoice line: the entity has a line collection and the view carries the lines'
    columns), whose ``ID`` is a line's.
    """
    deleted = by_kind["sync"]["sync/deleted"]
    text = next(p["description"] for p in deleted["properties"] if p["name"] == "EntityType")
    sync_streams = {s["path"].rsplit("/", 1)[1].lower(): s for s in streams
                    if s["kind"] == "sync" and s["name"] != "deleted"}
    out = {}
    for code, entity in re.findall(r"(\d+)=\s*([A-Za-z]+)", text):
        stream = sync_streams.get(entity.lower())
        if stream is None or stream["entity_key"] != "ID":
            continue
        header = regular.get(stream["path"].split("/", 2)[2].lower())
        if header is not None and any(p["phpType"].endswith("[]") for p in header["properties"]):
            own = {p["name"] for p in header["properties"]}
            if len(set(stream["properties"]) - own - {"Timestamp"}) > 2:
                continue  # one row per line
        out[code] = stream["name"]
    return out


# Compact Edm codes of target-exactonline's entities.json.
EDM_CODES = {
    "Edm.String": "s", "Edm.Guid": "g", "Edm.DateTime": "d", "Edm.Int16": "i", "Edm.Int32": "i",
    "Edm.Byte": "i", "Edm.Int64": "l", "Edm.Double": "n", "Edm.Decimal": "n", "Edm.Single": "n",
    "Edm.Boolean": "b", "Edm.Binary": "x",
}
PHP_CODES = {"string": "s", "int": "i", "float": "n", "bool": "b"}
# Columns the tap adds or that only Exact's sync views have: never part of a write.
NOT_WRITTEN = {"Timestamp"}


def build_entities(specs: Path, catalog: dict) -> dict:
    """target-exactonline's ``entities.json``: every writable endpoint, its verbs and fields.

    Verbs: the 2019 metadata's ``supportedMethods`` where it has the endpoint (scraped from Exact's
    docs), else the library's verbs. Fields: the 2025 library's properties with their Edm type and,
    where the 2019 metadata knows, whether POST and PUT may set them (``w``: ``p`` and/or ``u``;
    ``?`` unknown, treated as writable). ``lines``: embedded line collections (``SalesInvoiceLine[]``)
    with the lines' endpoint. ``streams``: tap-exactonline streams whose columns all belong to
    the endpoint (plus ``Timestamp``), so a tap stream maps to its entity without configuration.
    """
    picqer = json.loads((specs / "exact_entities_picqer_2025-12.derived.json").read_text())
    meta = json.loads((specs / "meta-data_2019-12.dannyvdsluijs.json").read_text())
    meta_by_path = {m["uri"].split("{division}/", 1)[-1].lower(): m for m in meta.values()}
    by_class = {e["class"]: e for e in picqer["entities"] if e["kind"] == "rest"}
    entities: dict[str, dict] = {}
    for entity in picqer["entities"]:
        if entity["kind"] != "rest":
            continue
        known = meta_by_path.get(entity["path"].lower())
        if known is not None:
            methods = [m.upper() for m, ok in known["supportedMethods"].items() if ok]
        else:
            methods = list(entity["libraryMethods"])
        if not set(methods) & {"POST", "PUT", "DELETE"}:
            continue
        edm = {p["name"]: p for p in (known or {}).get("properties", [])}
        properties: dict[str, dict] = {}
        lines: dict[str, str] = {}
        for prop in entity["properties"]:
            name, php = prop["name"], prop["phpType"]
            if php.endswith("[]"):
                line_class = by_class.get(php[:-2])
                if line_class is not None:
                    lines[name] = line_class["path"]
                continue
            scraped = edm.get(name)
            code = EDM_CODES.get(scraped["type"]) if scraped else None
            if code is None:
                if php not in PHP_CODES:
                    continue  # a reference class: not a column
                code = PHP_CODES[php]
                if code == "s" and (name in ("Created", "Modified") or name.endswith("Date")):
                    code = "d"
            if scraped is not None:
                sm = scraped.get("supportedMethods") or {}
                writable = ("p" if sm.get("post") else "") + ("u" if sm.get("put") else "")
            else:
                writable = "?"
            properties[name] = {"t": code, "w": writable}
        key = entity["primaryKey"]
        if key not in properties:
            continue
        key_type = properties[key]["t"]
        if key_type == "s" and key.lower().endswith("id") and edm.get(key) is None:
            key_type = "g"  # UNCERTAIN: an ...ID key without Edm type; every known one is Edm.Guid
        entities[entity["path"]] = {"methods": methods, "key": key, "key_type": key_type,
                                    "properties": properties, "lines": lines,
                                    "docs": entity.get("docs")}
    by_lower = {path.lower(): path for path in entities}
    streams = {}
    for stream in catalog["streams"]:
        if stream["kind"] == "beta":
            continue  # /api/v1/beta/…: no writable entity in entities.json
        path = stream["path"].lstrip("/")
        if stream["kind"] in ("sync", "bulk"):
            path = path.split("/", 1)[1]
        target = by_lower.get(path.lower())
        if target is None or "POST" not in entities[target]["methods"]:
            continue
        columns = set(stream["properties"]) - NOT_WRITTEN
        if columns <= set(entities[target]["properties"]):
            streams[stream["name"]] = "/" + target
    return {"source": "scripts/generators/exactonline.py", "entities": entities,
            "streams": streams}


def outputs(specs: Path) -> dict[Path, str]:
    """tap-exactonline's catalog and target-exactonline's entities, as written."""
    catalog = build(specs)
    entities = build_entities(specs, catalog)
    kinds: dict[str, int] = {}
    for stream in catalog["streams"]:
        kinds[stream["kind"]] = kinds.get(stream["kind"], 0) + 1
    print(f"{ENTITIES_OUT.relative_to(ROOT)}: {len(entities['entities'])} writable endpoints, "
          f"{len(entities['streams'])} tap streams mapped to them; {CATALOG_OUT.relative_to(ROOT)}: "
          f"{len(catalog['streams'])} streams {kinds}", file=sys.stderr)
    return {CATALOG_OUT: json.dumps(catalog, indent=1, sort_keys=True) + "\n",
            ENTITIES_OUT: json.dumps(entities, indent=1, sort_keys=True) + "\n"}
