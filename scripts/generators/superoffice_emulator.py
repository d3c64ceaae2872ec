#!/usr/bin/env python3
"""Build the SuperOffice emulator's API catalog from the vendor's specs, on its own.

Reads (development time only, never at run or test time):
  <specs>/rest/Swagger-v1-*.json               the REST WebAPI (Swagger 2.0, SuperOfficeDocs/docs)
  scripts/generators/superoffice_providers.json the archive providers' columns (from the docs'
                                                archive-provider reference pages)

Writes:
  sandbox/connector_sandbox/superoffice/api_catalog.json

Only facts about the API are kept: which GET list endpoint is backed by which archive provider (the
Swagger descriptions say "Calls the Archive service using the "X" archive"), the query options of
the list endpoints, the filter operators the Swagger descriptions name, the entity endpoints and
their methods, the models (property names and JSON types, enums, references), the lookup lists
(``List/{name}/Items``) and, per provider, its entities, columns (restriction type, OrderBy) and
the key / change / deletion columns read off the column names. No prose is copied.

``emulator_catalog(specs_dir, providers)`` is what ``scripts/generators/superoffice.py`` (the
vendor's entry point) writes; run this file alone to write the catalog by itself.
"""

from __future__ import annotations

import json
import re
import sys
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT.parent / "shared" / "specs" / "superoffice"
PROVIDERS = ROOT / "scripts" / "generators" / "superoffice_providers.json"
CATALOG_OUT = ROOT / "sandbox" / "connector_sandbox" / "superoffice" / "api_catalog.json"
GENERATED_BY = "scripts/generators/superoffice_emulator.py"

# The entities the emulator serves item by item (GET/POST/PUT/PATCH/DELETE) with related seeded data.
CORE_ENTITIES = ("Contact", "Person", "Sale", "Project", "Appointment", "Document", "Ticket", "Product")
# Providers whose rows are not named "<entity>Id": AllUsers lists users (the associate id is the row),
# ForeignKeys lists keys (keyId; appId/deviceId repeat across rows).
KEY_OVERRIDES = {"AllUsers": "associateDbId", "ForeignKeys": "keyId"}
ARCHIVE_RE = re.compile(r'Calls the Archive service using the "(\w+)" archive')
OPERATOR_LINE_RE = re.compile(r"^\s*(ints|strings|associate|list ids|dates|Unary ops|Funcs)\s*:\s*(.+?)\s*$", re.M)

# RestrictionType -> operator names, from the docs' "Archive Provider Restriction Types"
# (en/api/archive-providers/restriction-types.md) and the OData search overview
# (en/api/search/odata/index.md, which adds eq/ne/lt/gt/... and `between` on strings). The Swagger
# descriptions' "Filter Operators" lists are merged in below (they add le/ge, set, in, ...).
RESTRICTION_OPERATORS: dict[str, list[str]] = {
    "bool": ["set", "eq", "equals"],
    "int": ["equals", "greater", "less", "unequals", "between", "eq", "ne", "lt", "gt", "le", "ge", "set", "="],
    "decimal": ["equals", "greater", "less", "unequals", "between", "eq", "ne", "lt", "gt", "le", "ge", "set", "="],
    "string": ["begins", "contains", "is", "notBegins", "notContains", "isNot", "between", "in", "eq", "ne", "="],
    "associate": ["currentAssociate", "associateIsOneOf", "associateIsNotOneOf", "eq", "oneOf", "notOneOf"],
    "listAny": ["oneOf", "notOneOf", "equals", "eq", "="],
    "datetime": ["afterTime", "beforeTime", "dateTime"],
    "date": ["before", "date", "after", "dateBetween", "between", "beforeOrEqual", "beforeToday", "today",
             "afterToday"],
}


def _short(ref: str) -> str:
    """``#/definitions/SuperOffice.CRM.Services.ContactEntity`` -> ``ContactEntity``."""
    return ref.rsplit("/", 1)[-1].rsplit(".", 1)[-1]


def _type_spec(prop: dict[str, t.Any]) -> dict[str, t.Any]:
    """A Swagger property as the emulator checks it: JSON type, format, enum, reference, items."""
    if "$ref" in prop:
        return {"type": "object", "ref": _short(prop["$ref"])}
    kind = prop.get("type", "object")
    out: dict[str, t.Any] = {"type": kind}
    if kind == "string" and prop.get("format") == "date-time":
        out["type"] = "date-time"
    elif kind == "integer":
        out["format"] = prop.get("format", "int32")
    if "enum" in prop:
        out["enum"] = list(prop["enum"])
    if kind == "array":
        out["items"] = _type_spec(prop.get("items") or {})
    if kind == "object" and "additionalProperties" in prop:
        out["type"] = "map"
        out["values"] = _type_spec(prop["additionalProperties"])
    return out


def _load_rest(specs_dir: Path) -> dict[str, dict[str, t.Any]]:
    return {path.stem.removeprefix("Swagger-v1-"): json.loads(path.read_text(encoding="utf-8"))
            for path in sorted((specs_dir / "rest").glob("Swagger-v1-*.json"))}


def _definitions(rest: dict[str, dict[str, t.Any]]) -> dict[str, dict[str, t.Any]]:
    """Every definition by its short name (the same short name is the same carrier in every file)."""
    out: dict[str, dict[str, t.Any]] = {}
    for doc in rest.values():
        for name, definition in doc.get("definitions", {}).items():
            out.setdefault(_short(name), definition)
    return out


def _models(definitions: dict[str, dict[str, t.Any]], roots: list[str]) -> dict[str, dict[str, t.Any]]:
    """The models reachable from ``roots``: {model: {property: type spec}}."""
    models: dict[str, dict[str, t.Any]] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in models or name not in definitions:
            continue
        props = {p: _type_spec(spec) for p, spec in definitions[name].get("properties", {}).items()}
        models[name] = props
        stack = list(props.values())
        while stack:
            spec = stack.pop()
            if "ref" in spec:
                todo.append(spec["ref"])
            stack.extend(spec[k] for k in ("items", "values") if k in spec)
    return dict(sorted(models.items()))


def _filter_operators(rest: dict[str, dict[str, t.Any]]) -> dict[str, list[str]]:
    """Operators by restriction type: the docs' table, plus what the Swagger descriptions list."""
    described: dict[str, set[str]] = {}
    for doc in rest.values():
        for ops in doc["paths"].values():
            text = (ops.get("get") or {}).get("description", "")
            if "Filter Operators" not in text:
                continue
            for group, names in OPERATOR_LINE_RE.findall(text):
                for word in re.split(r"[,\s]+", names):
                    word = word.strip()
                    if word and "(" not in word:
                        described.setdefault(group, set()).add(word)
    by_group = {"int": "ints", "decimal": "ints", "string": "strings", "associate": "associate",
                "listAny": "list ids", "date": "dates"}
    out = {}
    for kind, names in RESTRICTION_OPERATORS.items():
        merged = list(names)
        merged += [w for w in sorted(described.get(by_group.get(kind, ""), ())) if w not in merged]
        out[kind] = merged
    out["unary"] = sorted(described.get("Unary ops", ()))
    out["functions"] = ["substringof", "startswith", "endswith"]
    return out


def _query_options(rest: dict[str, dict[str, t.Any]]) -> dict[str, list[str]]:
    def dollars(op: dict[str, t.Any]) -> list[str]:
        return [p["name"] for p in op.get("parameters", []) if p.get("in") == "query" and p["name"].startswith("$")]
    return {"entity": dollars(rest["Contact"]["paths"]["/api/v1/Contact"]["get"]),
            "archive": dollars(rest["Archive"]["paths"]["/api/v1/Archive/{archiveProviderName}"]["get"])}


def _top_column(columns: dict[str, t.Any], *names: str, suffix: str | None = None,
                restriction: str | None = None) -> str | None:
    """The first of ``names`` that is a column, else the first top-level column ending in ``suffix``."""
    lower = {c.lower(): c for c in columns if "/" not in c}
    for name in names:
        if name.lower() in lower:
            return lower[name.lower()]
    if suffix is not None:
        for low, col in lower.items():
            if low.endswith(suffix.lower()) and (restriction is None or columns[col][0] == restriction):
                return col
    return None


def _provider(name: str, spec: dict[str, t.Any]) -> dict[str, t.Any]:
    columns = {col: [info.get("restriction") or None, bool(info.get("order_by"))]
               for col, info in spec.get("columns", {}).items()}
    entities = list(spec.get("entities") or [name.lower()])
    entity = entities[0]
    override = KEY_OVERRIDES.get(name)
    key = (override if override in columns else None) or _top_column(columns, f"{entity}Id") or next(
        (c for c, (r, _) in columns.items() if "/" not in c and r == "int" and c.lower().endswith("id")), None)
    default = [key] if key else []
    for col, (restriction, _) in columns.items():
        if len(default) >= 5:
            break
        if "/" not in col and col not in default and col not in ("getAllRows", "getNoRows") and \
                restriction in ("string", "stringorPK", "positiveString", "listAny", "associate"):
            default.append(col)
    return {
        "entities": entities,
        "key": key,
        "updated": _top_column(columns, "updatedDate", f"{entity}UpdatedDate", "lastChanged", suffix="updateddate"),
        "registered": _top_column(columns, "registeredDate", f"{entity}RegisteredDate", "createdAt", "createdDate",
                                  "registered", suffix="registereddate"),
        "deleted_date": _top_column(columns, "deletedDate", f"{entity}DeletedDate", suffix="deleteddate"),
        "deleted_flag": _top_column(columns, f"{entity}Deleted", suffix="deleted", restriction="bool"),
        "default_select": [c for c in default if c],
        "columns": columns,
    }


def _related_lists(rest: dict[str, dict[str, t.Any]], providers: dict[str, t.Any],
                   entities: dict[str, t.Any]) -> dict[str, dict[str, dict[str, str]]]:
    """The OData lists under one entity (``GET /api/v1/Contact/{id}/Persons``): per served entity
    and list name, the archive provider the Swagger description names and the provider's column
    that holds the entity's id (``contactId``). Lists whose provider the emulator does not know,
    or that has no such column, are left out (they answer 404)."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for entity in entities:
        column = entity[0].lower() + entity[1:] + "Id"
        for path, ops in rest[entity]["paths"].items():
            match = re.fullmatch(rf"/api/v1/{entity}/\{{\w+\}}/([A-Za-z]+)", path)
            if match is None:
                continue
            described = ARCHIVE_RE.search((ops.get("get") or {}).get("description", ""))
            if described is None or described.group(1) not in providers:
                continue
            if column not in providers[described.group(1)].get("columns", {}):
                continue
            out.setdefault(entity, {})[match.group(1)] = {"provider": described.group(1), "column": column}
    return {e: dict(sorted(lists.items())) for e, lists in sorted(out.items())}


def emulator_catalog(specs_dir: Path, providers: dict[str, t.Any]) -> dict[str, t.Any]:
    """The emulator's catalog from the Swagger files in ``specs_dir`` and the providers' columns."""
    rest = _load_rest(specs_dir)
    definitions = _definitions(rest)
    known_providers = providers.get("providers", providers)
    list_endpoints: dict[str, str] = {}
    for entity, doc in rest.items():
        get = doc["paths"].get(f"/api/v1/{entity}", {}).get("get")
        match = ARCHIVE_RE.search((get or {}).get("description", ""))
        if match and match.group(1) in known_providers:
            list_endpoints[entity] = match.group(1)
    entities: dict[str, t.Any] = {}
    roots: list[str] = []
    for entity in CORE_ENTITIES:
        paths = rest[entity]["paths"]
        collection = paths[f"/api/v1/{entity}"]
        post = collection["post"]
        body = next(p["schema"]["$ref"] for p in post["parameters"] if p["in"] == "body")
        item_methods: set[str] = set()
        response = None
        for path, ops in paths.items():
            if re.fullmatch(rf"/api/v1/{entity}/\{{\w+\}}", path):
                item_methods.update(m.upper() for m in ops)
                if "get" in ops:
                    response = ops["get"]["responses"]["200"]["schema"]["$ref"]
        model = _short(body)
        key = f"{entity}Id"
        if key not in definitions[model].get("properties", {}):
            raise ValueError(f"{entity}: no {key} in {model}")
        # PATCH is not declared in the Swagger files; the REST WebAPI page documents it on entities.
        item_methods.add("PATCH")
        entities[entity] = {"model": model, "response_model": _short(response or body), "key": key,
                            "provider": list_endpoints.get(entity),
                            "collection_methods": sorted(m.upper() for m in collection),
                            "item_methods": sorted(item_methods)}
        roots += [model, _short(response or body)]
    related_lists = _related_lists(rest, known_providers, entities)
    lookup_lists: dict[str, str] = {}
    for path, ops in rest["List"]["paths"].items():
        match = re.fullmatch(r"/api/v1/List/([A-Za-z]+)/Items", path)
        if match and "get" in ops:
            schema = ops["get"]["responses"]["200"]["schema"]
            lookup_lists[match.group(1)] = _short(schema.get("items", schema)["$ref"])
    roots += sorted(set(lookup_lists.values()))
    return {
        "generated_by": GENERATED_BY,
        "source": {"swagger": "SuperOfficeDocs/docs api-sources/openapi/rest/Swagger-v1-*.json",
                   "providers": "scripts/generators/superoffice_providers.json"},
        "list_endpoints": dict(sorted(list_endpoints.items())),
        "query_options": _query_options(rest),
        "filter_operators": _filter_operators(rest),
        "entities": entities,
        "related_lists": related_lists,
        "lookup_lists": dict(sorted(lookup_lists.items())),
        "providers": {name: _provider(name, spec) for name, spec in sorted(known_providers.items())},
        "models": _models(definitions, roots),
    }


def render(catalog: dict[str, t.Any]) -> str:
    return json.dumps(catalog, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    providers_path = Path(argv[0]) if argv else PROVIDERS
    providers = json.loads(providers_path.read_text(encoding="utf-8"))
    CATALOG_OUT.write_text(render(emulator_catalog(SPECS, providers)), encoding="utf-8")
    print("wrote", CATALOG_OUT.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
