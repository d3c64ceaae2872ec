"""Exact Online's reads: lists with server-driven pages, single rows, navigation, ``current/Me``,
``SyncTimestamp``; the JSON (``{"d": …}``) and Atom formats (§2.4–2.5).

Mixed into :class:`~.emulator.ExactOnlineSandbox` (uses its catalog, store, lister, clock, user).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import msgspec
from werkzeug.wrappers import Request, Response

from ..responses import json_response
from .catalog import Endpoint
from .errors import ApiError
from .odata import (
    TYPE_NAMES,
    CompiledFilter,
    ODataError,
    compile_filter,
    date_json,
    format_literal,
    iso_from_ms,
    parse_literal_list,
    parse_orderby,
    parse_select,
)
from .query import Plan

BULK_SELECT_MESSAGE = "Please add a $select or a $top=1 statement to the query string."  # §2.4
SYSTEM_OPTIONS = {"$filter", "$select", "$top", "$skip", "$orderby", "$skiptoken", "$inlinecount", "$expand"}
# Mandatory filtering (§2.4, since 2021-07-01) on regular and bulk endpoints of tables that have a sync
# API. The fields that satisfy it are documented for Accounts only (the vendor's error text quoted in
# the invantive "coping with mandatory filtering" thread); note that Modified is NOT among them.
# UNCERTAIN for every other table: any property in $filter satisfies it there.
MANDATORY_FILTER_FIELDS = {
    "crm/accounts": ["Accountant", "AccountManager", "AddressLine1", "AddressLine2", "AddressLine3", "Blocked",
                     "BRIN", "BSN", "ChamberOfCommerce", "City", "Classification1", "Classification2",
                     "Classification3", "Classification4", "Classification5", "Classification6",
                     "Classification7", "Classification8", "Classification", "Code", "CodeAtSupplier",
                     "Country", "Created", "Email", "EndDate", "Fax", "ID", "InvoiceAccount", "IsAccountant",
                     "IsReseller", "IsSales", "IsSupplier", "MainContact", "Name", "Parent", "Phone", "Postcode",
                     "PriceList", "Reseller", "RSIN", "SearchCode", "StartDate", "Status", "Type", "VATNumber"],
}
# Mandatory properties on POST. UNCERTAIN: the sources carry no "mandatory" flags; this is our reading
# of Exact's documentation pages for the core entities. Each inner list is "one of".
ATOM_NS = ('xmlns="http://www.w3.org/2005/Atom" '
           'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
           'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"')

_encode = msgspec.json.Encoder().encode



# The sync endpoints SyncTimestamp serves: Exact docs page "Sync/SyncTimestamp"
# (HlpRestAPIResourcesDetails.aspx?name=ReadSyncSyncSyncTimestamp), "You can provide the endPoint
# value based on the following supported endPoints" (24 of the sync API's endpoints).
SYNC_TIMESTAMP_SERVED = frozenset(p.lower() for p in (
    "sync/CRM/QuotationHeaders", "sync/CRM/QuotationLines", "sync/Financial/TransactionLines",
    "sync/Inventory/ItemStorageLocations", "sync/Manufacturing/ShopOrders",
    "sync/Manufacturing/ShopOrderMaterialPlans", "sync/Manufacturing/ShopOrderRoutingStepPlans",
    "sync/Manufacturing/ShopOrderPurchasePlanning", "sync/Manufacturing/ShopOrderSubOrders",
    "sync/Manufacturing/MaterialIssues", "sync/Manufacturing/BillOfMaterialVersions",
    "sync/Manufacturing/BillOfMaterialMaterials", "sync/PurchaseOrder/PurchaseOrders",
    "sync/Project/Projects", "sync/Project/ProjectPlanning", "sync/Project/ProjectWBS",
    "sync/Project/TimeCostTransactions", "sync/SalesInvoice/SalesInvoices",
    "sync/SalesOrder/GoodsDeliveries", "sync/SalesOrder/GoodsDeliveryLines",
    "sync/SalesOrder/SalesOrderHeaders", "sync/SalesOrder/SalesOrderLines",
    "sync/Subscription/Subscriptions", "sync/Subscription/SubscriptionLines",
))


class ReadEndpoints:
    """GET answers of the Exact Online emulator."""

    def _options(self, request: Request) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, v in request.args.items(multi=True):
            if k.startswith("$"):
                if k not in SYSTEM_OPTIONS:
                    raise ODataError(f"The query parameter '{k}' begins with a system-reserved '$' character "
                                     "but is not recognized.")
                if k in out:
                    raise ODataError(f"Query option '{k}' was specified more than once.")
                out[k] = v
        return out

    @staticmethod
    def _int_option(opts: dict[str, str], name: str) -> int | None:
        raw = opts.get(name)
        if raw is None:
            return None
        if not raw.isdigit():
            raise ODataError(f"Invalid value '{raw}' for {name}: a non-negative integer is required.")
        return int(raw)

    def _plan(self, ep: Endpoint, opts: dict[str, str], nav_filter: str | None = None) -> Plan:
        ds = ep.dataset
        text = opts.get("$filter")
        flt = None
        if nav_filter is not None:
            text = nav_filter if text is None else f"{nav_filter} and ({text})"
        if text is not None:
            flt = compile_filter(text, ep.types, ep.type_name)
        order = None
        if "$orderby" in opts:
            order = parse_orderby(opts["$orderby"], ep.types, ep.type_name)
            if ep.is_sync:
                # Sync endpoints return rows in Timestamp order (that is what the Timestamp cursor
                # relies on). UNCERTAIN whether other orders are refused; we refuse them.
                if order != [("Timestamp", False)]:
                    raise ODataError("Sync endpoints only support $orderby=Timestamp (ascending).")
                order = None
        return Plan(ep, ds, flt, order)

    def _check_mandatory(self, ep: Endpoint, opts: dict[str, str], select: list[str] | None, count: bool,
                         flt: CompiledFilter | None) -> None:
        top = self._int_option(opts, "$top")
        if not count and (ep.is_bulk or (ep.is_sync and self.sync_requires_select)) and \
                "$select" not in opts and top != 1:
            # Bulk: documented (§2.4). Sync: UNCERTAIN whether required; conservative reading (and what
            # [AB]/[TS] always send): required too (``sync_requires_select=False`` relaxes it).
            raise ApiError(400, BULK_SELECT_MESSAGE)
        if self.mandatory_filters and ep.mandatory_filter:
            fields = MANDATORY_FILTER_FIELDS.get(ep.dataset.id)
            ok = flt is not None and (fields is None or bool(flt.fields & set(fields)))
            if not ok:
                listed = ",".join(fields if fields is not None else
                                  [f.name for f in ep.fields if f.code not in ("n", "c")])
                raise ApiError(400, "A GET request for this endpoint must have a $filter parameter with one of "
                                    f"the following fields in the url:{listed}.")

    def _get_list(self, request: Request, div: int, ep: Endpoint, fmt: str, count: bool = False) -> Response:
        opts = self._options(request)
        select = parse_select(opts["$select"], ep.types, ep.type_name) if "$select" in opts else None
        plan = self._plan(ep, opts)
        self._check_mandatory(ep, opts, select, count, plan.flt)
        if count:
            with self.store.lock:
                n = self.lister.count(div, plan)
            return Response(str(n), 200, content_type="text/plain; charset=utf-8")
        return self._list_response(request, div, ep, plan, opts, select, fmt)

    def _get_nav(self, request: Request, div: int, ep: Endpoint, i: int, nav: str, fmt: str, count: bool) -> Response:
        link = ep.dataset.children.get(nav)
        opts = self._options(request)
        if link is None:
            if ep.types.get(nav) in ("n", "c"):  # a collection we do not model: empty
                return self._feed(request, div, ep, [], None, None, None, fmt) if not count else \
                    Response("0", 200, content_type="text/plain; charset=utf-8")
            raise ApiError(400, f"'{nav}' is not a navigation property of '{ep.path}'.")
        lines_ep = link.lines.primary
        header_key = self.store.key_of(div, ep.dataset, i)
        plan = self._plan(lines_ep, opts, nav_filter=f"{link.link} eq {format_literal('g', header_key)}")
        select = parse_select(opts["$select"], lines_ep.types, lines_ep.type_name) if "$select" in opts else None
        if count:
            with self.store.lock:
                return Response(str(self.lister.count(div, plan)), 200, content_type="text/plain; charset=utf-8")
        return self._list_response(request, div, lines_ep, plan, opts, select, fmt)

    def _list_response(self, request: Request, div: int, ep: Endpoint, plan: Plan, opts: dict[str, str],
                       select: list[str] | None, fmt: str) -> Response:
        top = self._int_option(opts, "$top")
        skip = self._int_option(opts, "$skip") or 0
        inline = opts.get("$inlinecount")
        if inline is not None and inline not in ("allpages", "none"):
            raise ODataError(f"Invalid $inlinecount '{inline}'.")
        expand = self._expand(ep, opts)
        limit = ep.page_size
        if top is not None:
            limit = top if limit is None else min(limit, top)
        with self.store.lock:
            rows, token = self.lister.page(div, plan, opts.get("$skiptoken"), skip, limit)
            if top is not None and len(rows) >= top:
                token = None
            total = self.lister.count(div, plan) if inline == "allpages" else None
            next_url = self._next_url(request, opts, token, top, len(rows)) if token is not None else None
            return self._feed(request, div, ep, rows, select, next_url, total, fmt, expand)

    def _expand(self, ep: Endpoint, opts: dict[str, str]) -> list[str]:
        text = opts.get("$expand")
        if not text:
            return []
        out = []
        for name in (p.strip() for p in text.split(",")):
            if ep.types.get(name) != "n":
                raise ODataError(f"'{name}' is not a navigation property of '{ep.type_name}' and cannot be expanded.")
            out.append(name)
        return out

    def _next_url(self, request: Request, opts: dict[str, str], token: str, top: int | None, got: int) -> str:
        keep = [(k, v) for k, v in request.args.items(multi=True) if k not in ("$skiptoken", "$skip", "$top")]
        if top is not None:
            keep.append(("$top", str(top - got)))
        keep.append(("$skiptoken", token))
        query = urllib.parse.urlencode(keep, quote_via=urllib.parse.quote, safe="$',():/")
        return f"{request.host_url.rstrip('/')}{request.path}?{query}"

    def _get_one(self, request: Request, div: int, ep: Endpoint, i: int, fmt: str) -> Response:
        opts = self._options(request)
        extra = set(opts) - {"$select", "$expand"}
        if extra:
            raise ODataError(f"Query option '{sorted(extra)[0]}' is not allowed on a single entity.")
        select = parse_select(opts["$select"], ep.types, ep.type_name) if "$select" in opts else None
        expand = self._expand(ep, opts)
        with self.store.lock:
            row = self._row(div, ep, i, select, request, expand)
        if fmt == "json":
            return json_response({"d": row}, 200, {"DataServiceVersion": "2.0;"})
        return self._atom(request, ep, [row], None, single=True)

    def _me(self, request: Request, fmt: str) -> Response:
        opts = self._options(request)
        ep = self.catalog.endpoint("current/Me")
        select = parse_select(opts["$select"], ep.types, ep.type_name) if "$select" in opts else None
        now = self.clock.timestamp()
        first, last = self.user_name.split(" ", 1)
        values = {
            "UserID": self.user_id, "CurrentDivision": self.current_division,
            "AccountingDivision": self.current_division, "DossierDivision": None,
            "FullName": self.user_name, "FirstName": first, "LastName": last, "Initials": first[0] + ".",
            "UserName": "sanne.devries@sandbox.example", "Email": "sanne.devries@sandbox.example",
            "Language": "NL", "LanguageCode": "nl-NL", "Legislation": 1, "Gender": "V", "Title": "MEVR",
            "ServerTime": iso_from_ms(self.wall.wall_ms(now)),
            # ServerUtcOffset: the time difference with UTC in seconds (picqer docblock).
            "ServerUtcOffset": float(self.wall.offset_hours(now) * 3600),
            "DivisionCustomer": None, "DivisionCustomerName": None, "CustomerCode": None,
            "IsClientUser": False, "IsStarterUser": False, "IsMyFirmLiteUser": False,
            "IsMyFirmPortalUser": False, "IsEmployeeSelfServiceUser": False, "IsOEIMigrationMandatory": False,
            "PackageCode": "SANDBOX",
        }
        row: dict[str, Any] = {"__metadata": {"uri": f"{self.api_url}/current/Me(guid'{self.user_id}')",
                                              "type": ep.type_name}}
        for f in ep.fields:
            if select is not None and f.name not in select:
                continue
            row[f.name] = self._json_value(f.code, values.get(f.name))
        if fmt == "json":
            # §2.3: {"d":{"results":[{"CurrentDivision": …}]}}
            return json_response({"d": {"results": [row]}}, 200, {"DataServiceVersion": "2.0;"})
        return self._atom(request, ep, [row], None)

    def _sync_timestamp(self, request: Request, div: int, ep: Endpoint, fmt: str) -> Response:
        """``read/sync/Sync/SyncTimestamp?modified=datetime'…'&endPoint='TransactionLines'`` (§2.5): the
        Timestamp of the first row modified at or after the date (Exact's docs: "the first record
        found ... greater than or equal"; a client filtering ``Timestamp gt`` must subtract one).
        Only the endpoints the docs list (:data:`SYNC_TIMESTAMP_SERVED`); others answer 400. With no
        such row: the highest Timestamp (UNCERTAIN: the docs do not say; nothing newer to read)."""
        args = {k.lower(): v for k, v in request.args.items() if not k.startswith("$")}
        try:
            (mcode, modified), = parse_literal_list(args.get("modified", ""))
            (ecode, name), = parse_literal_list(args.get("endpoint", ""))
        except (ODataError, ValueError):
            raise ApiError(400, "Parameters modified=datetime'…' and endPoint='…' are required.") from None
        if mcode != "d" or ecode != "s":
            raise ApiError(400, "Parameters modified=datetime'…' and endPoint='…' are required.")
        sync_ep = next((e for e in self.catalog.endpoints if e.is_sync and e.path.split("/")[-1].lower() == name.lower()),
                       None)
        if sync_ep is None or sync_ep.path.lower() not in SYNC_TIMESTAMP_SERVED:
            raise ApiError(400, f"Endpoint '{name}' does not support SyncTimestamp.")
        ds = sync_ep.dataset
        store = self.store
        with store.lock:
            i = store.first_index_where(div, ds, "Modified", lambda m: m >= modified)
            candidates = []
            if i <= store.size(div, ds):
                candidates.append(store.base_ts(ds, i))
            ov = store.overlay_of(div, ds)
            if ov is not None:
                for idx, ts in ov.version_of.items():
                    v = store.view(div, ds, idx).get("Modified")
                    if v is not None and v >= modified:
                        candidates.append(ts)
            ts = min(candidates) if candidates else max([store.base_ts(ds, store.size(div, ds))] +
                                                         list(ov.version_of.values() if ov else []))
        row = {"__metadata": {"uri": f"{self._base_url(request, ep, div)}/{ep.path}", "type": ep.type_name},
               "Modified": date_json(modified), "API": sync_ep.path.split("/")[-1], "TimeStampAsBigInt": ts}
        if fmt == "json":
            return json_response({"d": {"results": [row]}}, 200, {"DataServiceVersion": "2.0;"})
        return self._atom(request, ep, [row], None)

    def _json_value(self, code: str, value: Any) -> Any:
        if code == "d":
            return date_json(value)
        return value

    def _row(self, div: int, ep: Endpoint, i: int, select: list[str] | None, request: Request | None,
             expand: list[str] | None = None) -> dict[str, Any]:
        ds = ep.dataset
        view = self.store.view(div, ds, i)
        base = self._base_url(request, ep, div)
        key_field = ep.key if ep.key in ep.types else ds.key_field
        key_value = view.get(key_field)
        uri = f"{base}/{ep.path}({format_literal(ep.types.get(key_field, ds.key_code), key_value)})"
        row: dict[str, Any] = {"__metadata": {"uri": uri, "type": ep.type_name}}
        for f in ep.fields:
            name = f.name
            if select is not None and name not in select:
                continue
            code = f.code
            if code == "n" or code == "c":
                link = ds.children.get(name)
                if expand and name in expand and link is not None:
                    lines_ep = link.lines.primary
                    row[name] = {"results": [self._row(div, lines_ep, li, None, request)
                                             for li in self.store.child_indexes(div, link.lines, i)]}
                elif expand and name in expand:
                    row[name] = {"results": []}
                else:
                    row[name] = {"__deferred": {"uri": f"{uri}/{name}"}}
                continue
            v = view.get(name)
            row[name] = date_json(v) if code == "d" else v
        return row

    def _base_url(self, request: Request | None, ep: Endpoint, div: int) -> str:
        host = request.host_url.rstrip("/") if request is not None else self.url
        if ep.division_less:
            return f"{host}/api/v1"
        return f"{host}/api/v1/beta/{div}" if ep.beta else f"{host}/api/v1/{div}"

    def _feed(self, request: Request, div: int, ep: Endpoint, rows: list[int], select: list[str] | None,
              next_url: str | None, total: int | None, fmt: str, expand: list[str] | None = None) -> Response:
        out_rows = [self._row(div, ep, i, select, request, expand) for i in rows]
        if fmt != "json":
            return self._atom(request, ep, out_rows, next_url)
        d: dict[str, Any] = {}
        if total is not None:
            d["__count"] = str(total)  # OData v2 verbose JSON: the count is a string
        d["results"] = out_rows
        if next_url is not None:
            d["__next"] = next_url
        return Response(_encode({"d": d}), 200, content_type="application/json; charset=utf-8",
                        headers={"DataServiceVersion": "2.0;"})

    def _atom(self, request: Request, ep: Endpoint, rows: list[dict[str, Any]], next_url: str | None,
              single: bool = False) -> Response:
        """A minimal Atom document: the documented default format (§2.4) for clients that do not ask
        for JSON. It carries the same properties, typed with m:type, and the next link."""
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        entries = []
        for row in rows:
            props = []
            for name, value in row.items():
                if name == "__metadata" or isinstance(value, dict):
                    continue
                code = ep.types.get(name, "s")
                attr = f' m:type="{TYPE_NAMES[code]}"' if code in TYPE_NAMES and code != "s" else ""
                if value is None:
                    props.append(f'<d:{name}{attr} m:null="true" />')
                    continue
                if code == "d" and isinstance(value, str) and value.startswith("/Date("):
                    value = iso_from_ms(int(value[6:-2]))
                elif isinstance(value, bool):
                    value = "true" if value else "false"
                props.append(f"<d:{name}{attr}>{xml_escape(str(value))}</d:{name}>")
            uri = row.get("__metadata", {}).get("uri", "")
            entries.append(f'<entry><id>{xml_escape(uri)}</id><title type="text" /><updated>{now}</updated>'
                           f'<author><name /></author><category term="{ep.type_name}" '
                           f'scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme" />'
                           f'<content type="application/xml"><m:properties>{"".join(props)}</m:properties>'
                           f'</content></entry>')
        head = '<?xml version="1.0" encoding="utf-8"?>'
        if single:
            body = head + entries[0].replace("<entry>", f"<entry {ATOM_NS}>", 1)
        else:
            nxt = f'<link rel="next" href="{xml_escape(next_url)}" />' if next_url else ""
            body = (head + f'<feed {ATOM_NS}><title type="text">{ep.path.split("/")[-1]}</title>'
                    f'<id>{xml_escape(request.base_url)}</id><updated>{now}</updated>'
                    + "".join(entries) + nxt + "</feed>")
        ctype = "application/atom+xml;type=entry;charset=utf-8" if single else \
            "application/atom+xml;type=feed;charset=utf-8"
        return Response(body, 200, content_type=ctype, headers={"DataServiceVersion": "2.0;"})
