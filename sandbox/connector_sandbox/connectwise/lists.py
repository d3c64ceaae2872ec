"""ConnectWise's lists (§1.2–1.3): conditions, ``orderBy``, ``fields``, navigable pages with an RFC 8288
``Link`` header, forward-only pages (``pageId``), ``/count``.

Mixed into :class:`~.emulator.ConnectWiseSandbox` (uses its catalog and store).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import msgspec
from werkzeug.wrappers import Request, Response

from ..responses import json_response
from .catalog import Collection, Model
from .conditions import (
    BoolOp,
    CompiledConditions,
    ConditionError,
    compile_conditions,
    parse_fields,
    parse_order_by,
    project,
)
from .errors import ApiError

MAX_PAGE_SIZE = 1000  # §1.3 "max 1000"
DEFAULT_PAGE_SIZE = 25  # §1.3 "default 25"

_encode = msgspec.json.Encoder().encode


class ListEndpoints:
    """List and count answers of the ConnectWise emulator."""

    # ------------------------------------------------------------------ query parameters
    @staticmethod
    def _args(request: Request) -> dict[str, str]:
        # ASP.NET model binding is case-insensitive (the guide writes both pageSize and pagesize).
        out: dict[str, str] = {}
        for k, v in request.args.items(multi=True):
            out.setdefault(k.lower(), v)
        return out

    @staticmethod
    def _int_param(args: dict[str, str], name: str, lo: int, hi: int, default: int | None) -> int | None:
        raw = args.get(name.lower())
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value < lo or value > hi:
            # Documented shape (§1.3, sgtoj/PSConnectWise #2): InvalidObject + OutOfRange.
            raise ApiError(400, "InvalidObject", f"{name} object is invalid", [{
                "code": "OutOfRange", "message": f"The field {name} must be between {lo} and {hi}.",
                "resource": name, "field": name}])
        return value

    def _compile(self, args: dict[str, str], coll: Collection, conditions_text: str | None) -> CompiledConditions | None:
        model = coll.model
        parts: list[CompiledConditions] = []
        try:
            text = conditions_text if conditions_text is not None else args.get("conditions")
            if text is not None and text.strip():
                parts.append(compile_conditions(text, self.catalog, model))
            child = args.get("childconditions")
            if child is not None and child.strip():
                # childConditions search array members ([CW-DG]); a comparison on an array path holds
                # when any element matches (our reading).
                parts.append(compile_conditions(child, self.catalog, model, param="childConditions",
                                                allow_arrays=True))
            custom = args.get("customfieldconditions")
            if custom is not None and custom.strip():
                if "customFields" not in model.by_name:
                    raise ConditionError("This endpoint has no custom fields", "customFieldConditions")
                cf = compile_conditions(custom, self.catalog, self.catalog.models["CustomFieldValue"],
                                        param="customFieldConditions")
                # customFieldConditions hold when some entry of the record's customFields matches.
                inner = cf.predicate
                cf.predicate = lambda r, _p=inner: any(_p(x) for x in (r.get("customFields") or [])
                                                       if isinstance(x, dict))
                cf.exact = False
                parts.append(cf)
        except ConditionError as e:
            # UNCERTAIN: CW's exact body for a bad condition is not in the contract; same envelope as
            # the documented pageSize error (InvalidObject + errors[]).
            raise ApiError(400, "InvalidObject", f"{e.field} object is invalid", [{
                "code": "InvalidConditions" if e.field != "orderBy" else "InvalidOrderBy",
                "message": str(e), "resource": e.field, "field": e.field}]) from None
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        combined = parts[0]
        preds = [p.predicate for p in parts]
        combined = CompiledConditions.__new__(CompiledConditions)
        combined.text = "\x00".join(p.text for p in parts)
        combined.node = BoolOp("and", [p.node for p in parts])
        combined.predicate = lambda r: all(f(r) for f in preds)
        combined.bounds = parts[0].bounds
        combined.exact = False
        return combined

    def _fields(self, args: dict[str, str], model: Model) -> dict[str, Any] | None:
        text = args.get("fields")
        if text is None or not text.strip():
            return None
        try:
            return parse_fields(text, self.catalog, model)
        except ConditionError as e:
            raise ApiError(400, "InvalidObject", "fields object is invalid", [{
                "code": "InvalidField", "message": str(e), "resource": "fields", "field": "fields"}]) from None

    # ------------------------------------------------------------------ lists
    def _list(self, request: Request, coll: Collection, scope: int | None, conditions_text: str | None) -> Response:
        args = self._args(request)
        page_size = self._int_param(args, "pageSize", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)
        forward = request.headers.get("pagination-type", "").strip().lower() == "forward-only"
        order_text = args.get("orderby")
        if forward and not coll.audit and order_text:
            # [CW-DG] Forward-Only: "You cannot use an Order By query parameter with forward-only".
            raise ApiError(400, "InvalidObject", "orderBy object is invalid", [{
                "code": "InvalidOrderBy",
                "message": "orderBy cannot be used with forward-only pagination (results are ordered by id).",
                "resource": "orderBy", "field": "orderBy"}])
        cond = self._compile(args, coll, conditions_text)
        tree = self._fields(args, coll.model)
        order = None
        if order_text and order_text.strip():
            try:
                order = parse_order_by(order_text, self.catalog, coll.model)
            except ConditionError as e:
                raise ApiError(400, "InvalidObject", "orderBy object is invalid", [{
                    "code": "InvalidOrderBy", "message": str(e), "resource": "orderBy", "field": "orderBy"}]) from None
        store = self.store
        headers: dict[str, str] = {}
        with store.lock:
            seq = store.listing(coll, scope, cond, None if (forward and not coll.audit) else order)
            if forward and not coll.audit:
                page_id = self._int_param(args, "pageId", 0, 2**31 - 1, 0)
                ids = seq.after(page_id, page_size)
                if ids:
                    # Every forward-only response links to the next pageId = last id returned
                    # ([CW-DG]). Our reading: an EMPTY page carries no Link (that is how clients such
                    # as [CT] Invoke-CWMAllResult know they are done).
                    headers["Link"] = f'<{self._link_url(request, args, page_size, page_id=ids[-1])}>; rel="next"'
                body = self._encode_records(coll, ids, tree)
            else:
                # Navigable (default). pageId without the forward-only header is ignored (§1.3: the
                # third-party claim that it works without the header is UNCERTAIN; conservative).
                # Audit Trail endpoints do not support forward-only ([CW-DG]); the [CT] client reports
                # "Endpoint doesn't support 'forward-only' pagination" when no Link comes back, so
                # there a forward-only request is served as a navigable page WITHOUT any Link header.
                page = self._int_param(args, "page", 1, 2**31 - 1, 1)
                if not seq.exact:
                    seq = store.materialize(coll, scope, cond, seq)
                total = seq.count()
                ids = seq.slice((page - 1) * page_size, page_size)
                if not forward:
                    headers["Link"] = self._nav_links(request, args, page, page_size, total)
                body = self._encode_records(coll, ids, tree)
        resp = Response(body, status=200, content_type="application/json; charset=utf-8")
        for k, v in headers.items():
            if v:
                resp.headers[k] = v
        return resp

    def _encode_records(self, coll: Collection, ids: list[int], tree: dict[str, Any] | None) -> bytes:
        store = self.store
        if tree is None:
            parts = [store.record_bytes(coll, rid) for rid in ids]
            return b"[" + b",".join(p for p in parts if p is not None) + b"]"
        recs = [project(r, tree) for rid in ids if (r := store.get(coll, rid)) is not None]
        return _encode(recs)

    def _link_url(self, request: Request, args: dict[str, str], page_size: int, *, page: int | None = None,
                  page_id: int | None = None) -> str:
        keep = [(k, v) for k, v in request.args.items(multi=True)
                if k.lower() not in ("page", "pagesize", "pageid")]
        keep.append(("pageSize", str(page_size)))
        if page is not None:
            keep.append(("page", str(page)))
        if page_id is not None:
            keep.append(("pageId", str(page_id)))
        query = urllib.parse.urlencode(keep, quote_via=urllib.parse.quote, safe="/,*")
        return f"{request.host_url.rstrip('/')}{request.path}?{query}"

    def _nav_links(self, request: Request, args: dict[str, str], page: int, size: int, total: int) -> str:
        # RFC 8288 Link header (§1.3, [CW-DG] Pagination). Our reading of the guide's example (page 1
        # shows only next + last): first/prev only when page > 1, next only when a next page exists,
        # last always.
        last = max(1, -(-total // size))
        links = []
        if page > 1:
            links.append(f'<{self._link_url(request, args, size, page=1)}>; rel="first"')
            links.append(f'<{self._link_url(request, args, size, page=min(page - 1, last))}>; rel="prev"')
        if page < last:
            links.append(f'<{self._link_url(request, args, size, page=page + 1)}>; rel="next"')
        links.append(f'<{self._link_url(request, args, size, page=last)}>; rel="last"')
        return ", ".join(links)

    def _count(self, request: Request, coll: Collection, scope: int | None) -> Response:
        args = self._args(request)
        cond = self._compile(args, coll, None)
        with self.store.lock:
            seq = self.store.listing(coll, scope, cond)
            if not seq.exact:
                seq = self.store.materialize(coll, scope, cond, seq)
            return json_response({"count": seq.count()})
