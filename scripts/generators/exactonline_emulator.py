#!/usr/bin/env python3
"""Build the Exact Online emulator's compact API catalog from the research spec files.

Reads (development time only, never at run or test time):
  <specs>/exact_entities_picqer_2025-12.derived.json  451 endpoints: path, kind, key, properties
  <specs>/meta-data_2019-12.dannyvdsluijs.json        156 endpoints: Edm types, allowed verbs

Writes:
  sandbox/connector_sandbox/exactonline/api_catalog.json

Only facts about the API are kept (path, kind, primary key, verbs, property names, Edm types,
read-only flags, navigation targets, which endpoints share one table, the sync/Deleted entity type
codes); no prose is copied.

Written by the entry point ``python scripts/generators/exactonline.py [--check]``.
"""

from __future__ import annotations

import collections
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CATALOG_OUT = REPO / "sandbox" / "connector_sandbox" / "exactonline" / "api_catalog.json"

# Edm type -> one-letter code used in the catalog.
EDM_CODES = {
    "Edm.String": "s", "Edm.Guid": "g", "Edm.DateTime": "d", "Edm.Double": "f", "Edm.Decimal": "f",
    "Edm.Int32": "i", "Edm.Int16": "i", "Edm.Byte": "i", "Edm.Int64": "l", "Edm.Boolean": "o",
    "Edm.Binary": "x",
}
# Properties Exact computes itself: never writable, whatever a library says.
COMPUTED = {"Created", "Creator", "CreatorFullName", "Modified", "Modifier", "ModifierFullName", "Timestamp",
            "Division"}
DATE_NAME = re.compile(r"(Date|DateTime|Time)$|^(Created|Modified|Start|End|Birth)")
GUID_DESC = re.compile(r"^(ID|Id|Guid|GUID|Reference|Primary key)\b|\bID of\b|\bguid\b", re.I)

# Sync endpoints whose rows are lines of a document (one row per line, header fields joined):
# their table is the lines table, not the header one (see the SalesInvoices sync property list,
# which carries InvoiceID + LineNumber + Item). Pairs: sync path -> regular lines endpoint.
LINE_LEVEL_SYNC = {
    "sync/salesinvoice/salesinvoices": "salesinvoice/SalesInvoiceLines",
    "sync/salesorder/salesorders": "salesorder/SalesOrderLines",
    "sync/salesorder/salesorderheaders": "salesorder/SalesOrders",
    "sync/crm/quotations": "crm/QuotationLines",
    "sync/crm/quotationheaders": "crm/Quotations",
    "sync/purchaseorder/purchaseorders": "purchaseorder/PurchaseOrderLines",
}
# Sync endpoints that must NOT be merged with a same-named regular endpoint (different tables).
OWN_TABLE_SYNC = {"sync/payroll/bankaccounts"}
NOT_CHILDREN = {"financialtransaction/transactionlines"}


def methods_code(methods: list[str] | dict[str, bool]) -> str:
    if isinstance(methods, dict):
        methods = [m.upper() for m, ok in methods.items() if ok]
    out = ""
    for m, c in (("GET", "G"), ("POST", "P"), ("PUT", "U"), ("DELETE", "D")):
        if m in methods:
            out += c
    return out


def outputs(specs: Path) -> dict[Path, str]:
    """The emulator's API catalog, as written."""

    picqer = json.loads((specs / "exact_entities_picqer_2025-12.derived.json").read_text(encoding="utf-8"))
    meta19 = json.loads((specs / "meta-data_2019-12.dannyvdsluijs.json").read_text(encoding="utf-8"))

    # ---- 2019 facts: per endpoint (by relative path, lower case) Edm types + verbs + read-only.
    by_uri19: dict[str, dict] = {}
    name_types: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for ep in meta19.values():
        rel = ep["uri"].replace("/api/v1/{division}/", "").replace("/api/v1/", "").lower()
        by_uri19[rel] = ep
        for p in ep["properties"]:
            if p["type"] in EDM_CODES:
                name_types[p["name"]][p["type"]] += 1

    entities = picqer["entities"]
    by_class = {e["class"]: e for e in entities if e["kind"] in ("rest", "beta")}

    def rel_path(e: dict) -> str:
        return e["path"].replace("beta/{division}/", "")

    def edm_for(e: dict, ep19: dict | None, prop: dict, key: str) -> str:
        name, php = prop["name"], prop["phpType"]
        if ep19 is not None:
            for p in ep19["properties"]:
                if p["name"] == name and p["type"] in EDM_CODES:
                    return EDM_CODES[p["type"]]
        if name == "Timestamp":
            return "l"
        if php == "int":
            if name_types.get(name) and name_types[name].most_common(1)[0][0] == "Edm.Int64":
                return "l"
            return "i"
        if php == "float":
            return "f"
        if php == "bool":
            return "o"
        if php.endswith("[]") or php in ("goodsdeliverylines", "stockbatchnumbers", "stockserialnumbers"):
            return "n"
        if php not in ("string", "mixed"):
            return "c"  # a single complex/navigation value (e.g. DivisionClass)
        if name_types.get(name):
            return EDM_CODES[name_types[name].most_common(1)[0][0]]
        desc = prop.get("description") or ""
        if name == key and desc.lower().startswith("primary key"):
            return "g"
        if DATE_NAME.search(name) or re.search(r"\bdate\b", desc, re.I):
            return "d"
        if GUID_DESC.search(desc) and not re.search(r"\b(code|name|description|number)\b", desc, re.I):
            return "g"
        return "s"

    endpoints = []
    for e in entities:
        path = rel_path(e)
        kind = e["kind"]
        ep19 = by_uri19.get(path.lower())
        key = e["primaryKey"]
        if kind in ("sync", "bulk", "read"):
            methods = "G"
        elif ep19 is not None:
            methods = methods_code(ep19["supportedMethods"])
        else:
            methods = methods_code(e["libraryMethods"] or ["GET"])
        if not methods:
            methods = "G"
        props19 = {p["name"]: p for p in (ep19 or {}).get("properties", [])}
        fields = []
        nav = {}
        names = {p["name"] for p in e["properties"]}
        for p in e["properties"]:
            name = p["name"]
            code = edm_for(e, ep19, p, key)
            flags = ""
            if name == key:
                flags += "k"
            p19 = props19.get(name)
            writable = True
            if name in COMPUTED:
                writable = False
            elif p19 is not None:
                sm = p19.get("supportedMethods") or {}
                writable = bool(sm.get("post") or sm.get("put"))
            elif code in ("s",) and re.search(r"(Description|FullName|Name)$", name):
                base = re.sub(r"(Description|FullName|Name)$", "", name)
                if base and base in names:
                    writable = False  # a label derived from a sibling reference (AccountName of Account)
            if not writable and name != key:
                flags += "r"
            if code == "n":
                cls = p["phpType"].rstrip("[]").lstrip("\\")
                target = by_class.get(cls)
                if target is not None:
                    nav[name] = rel_path(target)
            fields.append([name, code, flags] if flags else [name, code])
        item = {"p": path, "k": kind, "c": e["class"], "key": key, "m": methods, "f": fields}
        if e["path"].startswith("beta/"):
            item["beta"] = 1
        if e["fullPath"].startswith("/api/v1/current/") or e["fullPath"] == "/api/v1/system/Users":
            item["nodiv"] = 1
        if nav:
            item["nav"] = nav
        endpoints.append(item)

    by_path = {ep["p"].lower(): ep for ep in endpoints}
    rest_by_entity: dict[str, list[dict]] = collections.defaultdict(list)
    for ep in endpoints:
        if ep["k"] in ("rest",):
            rest_by_entity[ep["p"].split("/")[-1].lower()].append(ep)
    parent_class = {e["path"].lower(): e.get("propertiesInheritedFrom") for e in entities}
    class_rest = {ep["c"]: ep for ep in endpoints if ep["k"] == "rest"}

    # ---- tables (datasets): endpoints that show the same rows share one dataset id.
    for ep in endpoints:
        ep["ds"] = ep["p"].lower()
    for ep in endpoints:
        low = ep["p"].lower()
        if ep["k"] == "bulk":
            target = class_rest.get(parent_class.get(low) or "")
            if target is None:
                cands = rest_by_entity.get(low.split("/")[-1], [])
                target = cands[0] if len(cands) == 1 else None
            if target is not None:
                ep["ds"] = target["ds"]
                ep["view_of"] = target["p"]
        elif ep["k"] == "sync" and low != "sync/deleted":
            if low in LINE_LEVEL_SYNC:
                target = by_path[LINE_LEVEL_SYNC[low].lower()]
            elif low in OWN_TABLE_SYNC:
                target = None
            else:
                cands = rest_by_entity.get(low.split("/")[-1], [])
                target = cands[0] if len(cands) == 1 else None
            if target is not None:
                ep["ds"] = target["ds"]
                ep["view_of"] = target["p"]
    # Mandatory filtering applies to the regular and bulk endpoints of a table that has a sync API.
    synced = {ep["ds"] for ep in endpoints if ep["k"] == "sync" and ep["p"].lower() != "sync/deleted"}
    # A line-level sync API (sync/SalesInvoice/SalesInvoices) is also the sync API of its header table.
    for low in LINE_LEVEL_SYNC:
        for cand in rest_by_entity.get(low.split("/")[-1], []):
            synced.add(cand["ds"])
    for ep in endpoints:
        if ep["k"] in ("rest", "bulk") and ep["ds"] in synced and "nodiv" not in ep:
            ep["mf"] = 1

    # ---- header/lines: a header's navigation collection whose target carries the header key.
    children = {}
    for ep in endpoints:
        if ep["k"] != "rest":
            continue
        for nav_name, target_path in (ep.get("nav") or {}).items():
            target = by_path.get(target_path.lower())
            if target is None:
                continue
            tnames = {f[0] for f in target["f"]}
            # TransactionLines are sized and generated on their own (a table of its own in every
            # client), not as children of financialtransaction/Transactions.
            if ep["key"] in tnames and ep["key"] != target["key"] and target["ds"] not in NOT_CHILDREN:
                children.setdefault(ep["ds"], {})[nav_name] = {"ds": target["ds"], "link": ep["key"],
                                                               "path": target["p"]}

    # ---- sync/Deleted entity type codes (facts from the property's enumeration).
    deleted_types = {}
    deleted = next(e for e in entities if e["path"] == "sync/Deleted")
    etype = next(p for p in deleted["properties"] if p["name"] == "EntityType")
    for code, name in re.findall(r"(\d+)=\s*([A-Za-z]+)", etype["description"]):
        deleted_types[name] = int(code)
    # table -> entity type code, through the sync endpoint of that table.
    ds_deleted = {}
    for ep in endpoints:
        if ep["k"] == "sync" and ep["p"].lower() != "sync/deleted":
            code = deleted_types.get(ep["p"].split("/")[-1])
            if code is not None and ep["ds"] not in ds_deleted:
                ds_deleted[ep["ds"]] = code

    out = {
        "meta": {
            "generated_by": "scripts/generators/exactonline.py",
            "sources": ["exact_entities_picqer_2025-12.derived.json (picqer/exact-php-client 8b350573, MIT)",
                        "meta-data_2019-12.dannyvdsluijs.json (DannyvdSluijs/exact-online-api-client-dev-tools, MIT)"],
            "endpoint_count": len(endpoints),
            "type_codes": {"s": "Edm.String", "g": "Edm.Guid", "d": "Edm.DateTime", "f": "Edm.Double",
                           "i": "Edm.Int32/Int16/Byte", "l": "Edm.Int64", "o": "Edm.Boolean", "x": "Edm.Binary",
                           "n": "navigation collection", "c": "complex/navigation value"},
            "flags": {"k": "primary key", "r": "read-only on POST/PUT"},
            "methods": {"G": "GET", "P": "POST", "U": "PUT", "D": "DELETE"},
        },
        "endpoints": endpoints,
        "children": children,
        "deleted_types": deleted_types,
        "dataset_deleted_type": ds_deleted,
    }
    text = json.dumps(out, separators=(",", ":"), ensure_ascii=False)
    # one endpoint per line keeps diffs readable
    text = text.replace(',{"p":', ',\n{"p":')
    kinds = collections.Counter(ep["k"] for ep in endpoints)
    print(f"{CATALOG_OUT.relative_to(REPO)} ({len(text):,} bytes): {len(endpoints)} endpoints {dict(kinds)}, "
          f"{sum(1 for ep in endpoints if ep.get('mf'))} with mandatory filter, "
          f"{sum(len(v) for v in children.values())} header/line links", file=sys.stderr)
    return {CATALOG_OUT: text + "\n"}
