#!/usr/bin/env python3
"""Build the ConnectWise emulator's compact API catalog from the research spec files.

Reads (development time only, never at run or test time):
  <specs>/cw_manage_2025.1_operations.derived.json   all 3,053 operations (2025.1)
  <specs>/cw_manage_2025.1_models.derived.json       825 models with Go types / comments
  <specs>/openapi_get_subset_2026.4.wdyoung4383.json enums (GET subset, 2026.4)

Writes:
  sandbox/connector_sandbox/connectwise/api_catalog.json

Only facts about the API are kept (method, path, parameter types, body/return type, field names,
JSON kinds, required flags, max lengths, enum values); no prose is copied.

Written by the entry point ``python scripts/generators/connectwise.py [--check]``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CATALOG_OUT = REPO / "sandbox" / "connector_sandbox" / "connectwise" / "api_catalog.json"

PRIMITIVES = {
    "string": "string",
    "int32": "integer",
    "int64": "integer",
    "float64": "number",
    "float32": "number",
    "bool": "boolean",
    "time.Time": "datetime",
    "interface{}": "any",
}

MAX_LEN_RE = re.compile(r"Max length:\s*(\d+)\s*;")
# String-typed fields that carry ISO datetimes in practice (e.g. Ticket.closedDate, dateResolved).
DATE_NAME_RE = re.compile(r"(^date[A-Z0-9].*|.*Date$|.*DateUTC$|.*Date[A-Z][a-z]*Utc$)")


def classify(go_type: str) -> tuple[str, str | None, bool]:
    """Map a generated-Go type to (kind, ref, nullable)."""
    t = go_type.strip()
    nullable = False
    if t.startswith("Nullable"):
        nullable = True
        t = t[len("Nullable") :]
        t = {"String": "string", "Int32": "int32", "Int64": "int64", "Float64": "float64",
             "Float32": "float32", "Bool": "bool", "Time": "time.Time"}.get(t, t)
    t = t.lstrip("*")
    if t == "map[string]string":
        return "info", None, nullable
    if t.startswith("map["):
        return "any", None, nullable
    if t.startswith("[]"):
        inner = t[2:].lstrip("*")
        if inner in PRIMITIVES:
            return "array", PRIMITIVES[inner], nullable
        return "array", inner, nullable
    if t in PRIMITIVES:
        return PRIMITIVES[t], None, nullable
    if t == "os.File":
        return "file", None, nullable
    return "object", t, nullable


def clean_path(path: str) -> tuple[str, bool]:
    """Repair the two regex-mangled member paths; report whether the path is usable."""
    fixed = re.sub(r"\{memberIdentifier:regex\(.*$", "{memberIdentifier}", path)
    ok = re.fullmatch(r"[A-Za-z0-9_/{}]*", fixed) is not None
    return fixed, ok


def outputs(specs: Path) -> dict[Path, str]:
    """The emulator's API catalog, as written."""

    ops_doc = json.loads((specs / "cw_manage_2025.1_operations.derived.json").read_text())
    models_doc = json.loads((specs / "cw_manage_2025.1_models.derived.json").read_text())
    openapi = json.loads((specs / "openapi_get_subset_2026.4.wdyoung4383.json").read_text())
    schemas = openapi.get("components", {}).get("schemas", {})

    operations = []
    seen = set()
    skipped = 0
    for op in ops_doc["operations"]:
        path, ok = clean_path(op["path"])
        if not ok:
            skipped += 1
            continue
        path = path.rstrip("/") or "/"
        key = (op["method"], path)
        if key in seen:
            continue
        seen.add(key)
        string_params = sorted(
            {p["name"] for p in op.get("pathParams", []) if p.get("type") != "int32"}
            | ({"memberIdentifier"} if "{memberIdentifier}" in path else set())
        )
        returns = op.get("returns")
        body = (op.get("requestBody") or {}).get("type")
        entry = {
            "m": op["method"],
            "p": path,
            "r": returns,
            "b": body,
            "l": bool(op["method"] == "GET" and returns and returns.startswith("[]")),
        }
        if string_params:
            entry["s"] = string_params
        operations.append(entry)
    operations.sort(key=lambda e: (e["p"], e["m"]))

    models = {}
    for name, model in sorted(models_doc["models"].items()):
        enum_src = (schemas.get(name) or {}).get("properties") or {}
        fields = []
        for prop in model["properties"]:
            kind, ref, nullable = classify(prop["goType"])
            comment = prop.get("comment") or ""
            m = MAX_LEN_RE.search(comment)
            max_len = int(m.group(1)) if m else None
            fname = prop["name"]
            spec_prop = enum_src.get(fname) or {}
            enum = spec_prop.get("enum")
            if kind == "string" and (spec_prop.get("format") == "date-time" or DATE_NAME_RE.match(fname)):
                kind = "datetime"
            flags = ""
            if nullable or prop.get("nullable"):
                flags += "n"
            if "Required On Updates" in comment:
                flags += "u"
            if "Only available for POST" in comment:
                flags += "p"
            fields.append([fname, kind, ref, bool(prop.get("required")), max_len,
                           list(enum) if enum else None, flags])
        models[name] = fields

    catalog = {
        "meta": {
            "what": "ConnectWise Manage REST API 3.0 catalog for the sandbox emulator",
            "apiVersion": "2025.1",
            "sources": [
                "cw_manage_2025.1_operations.derived.json (facts derived from github.com/ai-connor/connectwise, MIT)",
                "cw_manage_2025.1_models.derived.json (same origin)",
                "openapi_get_subset_2026.4.wdyoung4383.json (enum values only)",
            ],
            "generator": "scripts/generators/connectwise.py",
            "operationFields": "m=method p=path r=return type b=request body type l=is list GET s=string path params",
            "modelFields": "[name, kind, ref model or item kind, required, max length, enum, flags "
                           "n=nullable u=required on updates p=POST only]",
            "skippedOperations": skipped,
        },
        "operations": operations,
        "models": models,
    }
    # One operation / model per line: compact yet diff-friendly.
    lines = ["{", f' "meta": {json.dumps(catalog["meta"], sort_keys=True)},', ' "operations": [']
    lines.append(",\n".join("  " + json.dumps(o, separators=(",", ":")) for o in operations))
    lines.append(" ],")
    lines.append(' "models": {')
    lines.append(",\n".join(f"  {json.dumps(k)}:" + json.dumps(v, separators=(",", ":")) for k, v in models.items()))
    lines.append(" }")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # sanity
    n_list = sum(1 for o in operations if o["l"])
    print(f"{CATALOG_OUT.relative_to(REPO)} ({len(text):,} bytes): {len(operations)} operations "
          f"({n_list} list GETs, {skipped} skipped), {len(models)} models", file=sys.stderr)
    return {CATALOG_OUT: text}
