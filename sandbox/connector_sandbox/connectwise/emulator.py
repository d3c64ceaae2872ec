"""ConnectWise Manage (PSA) REST API 3.0 emulator.

Contract: ``shared/vendors/connectwise-exactonline.md`` §1 (cited below as §1.x) and the ConnectWise
Developer Guide ([CW-DG]). Every GET/POST/PUT/PATCH/DELETE operation of the 2025.1 catalog routes
here; list endpoints, single records, counts and writes are backed by :class:`DataStore`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import random
import re
import urllib.parse
from typing import Any

import msgspec
from werkzeug.wrappers import Request, Response

from ..clock import Clock
from ..responses import json_response
from ..server import SandboxServer
from .catalog import Catalog, Collection, Model, Operation, load_catalog, norm_template
from .conditions import (BoolOp, CompiledConditions, ConditionError, compile_conditions, parse_fields,
                         parse_order_by, project)
from ..seeding import stable_hash
from .data import DataStore, copy_record
from .rows import ConnectWiseRows

DEFAULT_COMPANY_ID = "sandbox"
DEFAULT_PUBLIC_KEY = "sandbox-public"
DEFAULT_PRIVATE_KEY = "sandbox-private"
DEFAULT_CLIENT_ID = "00000000-0000-4000-8000-000000000000"
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ACCEPT_RE = re.compile(r"^\s*application/vnd\.connectwise\.com\+json\s*(?:;\s*version\s*=\s*([^;\s]*)\s*)?$", re.I)
VERSION_RE = re.compile(r"^(\d{4}\.\d{1,2}|3\.0(\.\d+)?)$")
MAX_PAGE_SIZE = 1000  # §1.3 "max 1000"
DEFAULT_PAGE_SIZE = 25  # §1.3 "default 25"

_encode = msgspec.json.Encoder().encode


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors, self.headers = status, code, message, errors, headers


def _cw_error(status: int, code: str, message: str, errors: Any = None,
              headers: dict[str, str] | None = None) -> Response:
    # Error envelope {code, message, errors} — §1.5 ([AIC] ErrorResponseMessage / ValidationError).
    return json_response({"code": code, "message": message, "errors": errors}, status, headers)


def _invalid(resource: str, code: str, message: str, field: str) -> _ApiError:
    return _ApiError(400, "InvalidObject", f"{resource} object is invalid",
                     [{"code": code, "message": message, "resource": resource, "field": field}])


class ConnectWiseSandbox(SandboxServer):
    """A strict, deterministic ConnectWise Manage emulator on loopback.

    ``sizes`` maps a list endpoint to its size: the number of records for a top-level collection
    (``"/service/tickets": 100_000``) or the number of children per parent for a nested one
    (``"/service/tickets/{parentId}/notes": 3``).
    """

    vendor = "connectwise"
    logged_headers = ("Authorization", "clientId", "Accept", "Content-Type", "pagination-type", "User-Agent")

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int = 42,
                 sizes: dict[str, int] | None = None, default_size: int = 3, default_child_size: int = 2,
                 company_id: str = DEFAULT_COMPANY_ID, public_key: str = DEFAULT_PUBLIC_KEY,
                 private_key: str = DEFAULT_PRIVATE_KEY, client_id: str | None = DEFAULT_CLIENT_ID,
                 codebase: str = "v2025_1/", api_version: str = "2025.1", company_name: str = "Sandbox MSP",
                 verbose: bool = False, clock: Clock | None = None, cache_records: int = 10_000,
                 catalog: Catalog | None = None) -> None:
        super().__init__(host, port, verbose=verbose, clock=clock)
        self.catalog = catalog or load_catalog()
        self.company_id = company_id
        self.public_key = public_key
        self.private_key = private_key
        self.client_id = client_id
        self.codebase = codebase.strip("/") + "/"
        self.api_version = api_version
        self.company_name = company_name
        self.store = DataStore(self.catalog, seed=seed, sizes=sizes, default_size=default_size,
                               default_child_size=default_child_size, clock=self.clock,
                               cache_records=cache_records)
        self._codebases = {self.codebase.strip("/").lower(), "v4_6_release"}
        self.rows = ConnectWiseRows(self)

    # ------------------------------------------------------------------ base-class hooks
    def on_start(self) -> None:
        self.store.set_base_href(self.api_url)

    @property
    def api_url(self) -> str:
        """``{url}/{codebase}apis/3.0`` — the base URL a client uses (§1.1)."""
        return f"{self.url}/{self.codebase}apis/3.0"

    def api_relative_path(self, path: str) -> str:
        parts = path.split("/", 4)  # ['', codebase, 'apis', '3.0', rest]
        if len(parts) >= 4 and parts[2].lower() == "apis" and parts[3] == "3.0":
            return "/" + (parts[4] if len(parts) > 4 else "")
        return path

    def is_data_path(self, path: str) -> bool:
        return "/apis/3.0/" in path

    def rate_limited_response(self, retry_after_seconds: int, retry_after_header: str) -> Response:
        # §1.5 / [CW-DG] Rate Limiting: 429 + Retry-After (seconds) and this example body.
        body = {"error": "ConnectWiseAPI",
                "message": f"Too many requests. Please try again in {retry_after_seconds} seconds."}
        return json_response(body, 429, {"Retry-After": retry_after_header,
                                         "api-current-version": self.api_version})

    def fault_response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        if body is None:
            body = {"code": "ConnectWiseApi", "message": f"Injected fault: HTTP {status}", "errors": None}
        return super().fault_response(status, body, headers)

    def internal_error_response(self, exc: Exception) -> Response:
        return _cw_error(500, "ConnectWiseApi", f"sandbox internal error: {exc!r}")

    # ------------------------------------------------------------------ HTTP entry
    def handle_api(self, request: Request) -> Response:
        try:
            return self._handle(request)
        except _ApiError as e:
            return _cw_error(e.status, e.code, e.message, e.errors,
                             {"api-current-version": self.api_version, **(e.headers or {})})

    def _handle(self, request: Request) -> Response:
        path = request.path
        parts = path.split("/")
        # GET /login/companyinfo/{companyId}: no authentication (§1.1 Company Info).
        if len(parts) == 4 and parts[1].lower() == "login" and parts[2].lower() == "companyinfo":
            request.environ["sandbox.route"] = "/login/companyinfo/{companyId}"
            return self._company_info(request, urllib.parse.unquote(parts[3]))
        if not (len(parts) >= 4 and parts[1].lower() in self._codebases and parts[2].lower() == "apis"
                and parts[3] == "3.0"):
            raise _ApiError(404, "NotFound", "The requested resource was not found.")
        rel = "/" + "/".join(parts[4:])
        m = self.catalog.match(rel.rstrip("/") or "/")
        if m is not None:  # label the request for the counters even when auth fails
            any_op = m[0].get(request.method) or next(iter(m[0].values()))
            request.environ["sandbox.route"] = any_op.template
        self._authenticate(request)
        self._check_accept(request)
        if m is None:
            raise _ApiError(404, "NotFound", f"The resource '{rel}' was not found.")
        ops, values = m
        op = ops.get(request.method)
        if op is None:
            allow = ", ".join(sorted(ops))
            # 405 for a method the catalog does not list for this path ([CW-DG] HTTP statuses).
            raise _ApiError(405, "MethodNotAllowed",
                            f"The requested resource does not support http method '{request.method}'.",
                            headers={"Allow": allow})
        request.environ["sandbox.route"] = op.template
        params = dict(zip(op.params, values))
        resp = self._dispatch_op(request, op, params, values)
        resp.headers["api-current-version"] = self.api_version
        return resp

    def _company_info(self, request: Request, company: str) -> Response:
        if company != self.company_id:
            # UNCERTAIN: the vendor's answer for an unknown login company is not documented in the
            # contract; we answer 404 with the CW error envelope (conservative: clients must check).
            raise _ApiError(404, "NotFound", f"Company '{company}' was not found.")
        return json_response({
            "CompanyName": self.company_name,
            "Codebase": self.codebase,
            "VersionCode": "v" + self.api_version,
            "VersionNumber": "v4.6." + self.api_version.replace(".", "") + "0",
            "CompanyID": self.company_id,
            "IsCloud": "True",  # string, as in the [CW-DG] Company Info example
            "SiteUrl": request.host,  # UNCERTAIN field casing (§1.1)
        })

    def _authenticate(self, request: Request) -> None:
        # clientId header required on every call (§1.1; spec 2026.4 marks it required). Missing,
        # not a GUID, or not the registered one -> 400 with "clientId" in the message: a third-party
        # setup guide (mspvectis.com/docs/connectwise) reports "400 with 'clientId' in the error".
        # UNCERTAIN: exact code/message text; we use the CW envelope with code "InvalidClientId".
        cid = request.headers.get("clientId")
        if not cid or not GUID_RE.match(cid.strip()):
            raise _ApiError(400, "InvalidClientId",
                            "A valid clientId header is required. Register one at developer.connectwise.com.")
        if self.client_id is not None and cid.strip().lower() != self.client_id.lower():
            raise _ApiError(400, "InvalidClientId", "The clientId supplied is not registered.")
        # Authorization: Basic base64("{companyId}+{publicKey}:{privateKey}") (§1.1). Wrong or
        # missing -> 401 with code "Unauthorized" ([CT] Invoke-CWMWebRequest handles exactly that code;
        # [CW-DG]: "401 Unauthorized — The supplied authentication is incorrect").
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "basic" or not token.strip():
            raise _ApiError(401, "Unauthorized", "Authentication required: use Basic companyId+publicKey:privateKey.",
                            headers={"WWW-Authenticate": 'Basic realm="ConnectWise"'})
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _ApiError(401, "Unauthorized", "Invalid authorization header.") from None
        user, _, password = decoded.partition(":")
        company, plus, public = user.partition("+")
        if not plus or company != self.company_id or public != self.public_key or password != self.private_key:
            raise _ApiError(401, "Unauthorized", "Invalid credentials: check the company id and API keys.")

    def _check_accept(self, request: Request) -> None:
        # Versioned Accept header (§1.1 Versioning): application/vnd.connectwise.com+json[; version=YYYY.N].
        # Plain JSON / */* / no Accept get the latest model. UNCERTAIN: the vendor's answer to a
        # malformed version is not documented; we reject it with 400 (conservative).
        accept = request.headers.get("Accept")
        if not accept:
            return
        for item in accept.split(","):
            m = ACCEPT_RE.match(item)
            if m is not None:
                version = m.group(1)
                if version is not None and not VERSION_RE.match(version):
                    raise _ApiError(400, "InvalidObject", f"Invalid API version '{version}' in Accept header.")
                return

    # ------------------------------------------------------------------ dispatch
    def _dispatch_op(self, request: Request, op: Operation, params: dict[str, str], values: list[str]) -> Response:
        method = op.method
        coll = self.catalog.collections.get(op.norm)
        if method == "GET" and op.is_list and coll is not None:
            return self._list(request, coll, self._scope(coll, values), conditions_text=None)
        segs = op.template.rstrip("/").rsplit("/", 1)
        prefix_coll = self.catalog.collections.get(norm_template(segs[0])) if len(segs) == 2 else None
        if method == "GET" and segs[-1] == "count" and prefix_coll is not None:
            return self._count(request, prefix_coll, self._scope(prefix_coll, values[: len(prefix_coll.params)]))
        if method == "POST" and segs[-1].lower() == "search" and prefix_coll is not None:
            body = self._json_body(request, prefix_coll.model)
            text = body.get("conditions") if isinstance(body, dict) else None
            if text is not None and not isinstance(text, str):
                raise _ApiError(400, "InvalidObject", "conditions must be a string.")
            return self._list(request, prefix_coll, self._scope(prefix_coll, values[: len(prefix_coll.params)]),
                              conditions_text=text or None)
        if method == "POST" and coll is not None and coll.create_op is op:
            scope = self._scope(coll, values)
            body = self._json_body(request, coll.model)
            rec = self._create(coll, scope, body, raw=request.get_data(as_text=True))
            return json_response(rec, 201)
        if prefix_coll is not None and prefix_coll.record_ops.get(method) is op:
            rid = int(values[-1])
            scope = self._scope(prefix_coll, values[:-1])
            return self._record_op(request, prefix_coll, scope, rid)
        return self._generic(request, op, values)

    def _scope(self, coll: Collection, values: list[str]) -> int | None:
        if not coll.nested:
            return None
        raw = values[len(coll.params) - 1] if len(values) >= len(coll.params) else None
        if raw is None:
            return None
        scope = int(raw) if raw.isdigit() else 1
        self._check_ancestors(coll, values[: len(coll.params)])
        return scope

    def _check_ancestors(self, coll: Collection, values: list[str]) -> None:
        """404 when a parent id in the URL does not exist (e.g. notes of a missing ticket)."""
        c = coll
        vals = list(values)
        while c is not None and c.nested and vals:
            raw = vals[-1]
            parent = c.parent
            if parent is None or c.scope_is_string or not raw.isdigit():
                return
            pid = int(raw)
            pscope = None
            if parent.nested and len(vals) >= 2 and vals[-2].isdigit():
                pscope = int(vals[-2])
            if not self.store.exists(parent, pid, pscope):
                raise _ApiError(404, "NotFound", f"{parent.model.display} {pid} not found")
            c = parent
            vals = vals[:-1]

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
            raise _ApiError(400, "InvalidObject", f"{name} object is invalid", [{
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
            raise _ApiError(400, "InvalidObject", f"{e.field} object is invalid", [{
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
            raise _ApiError(400, "InvalidObject", "fields object is invalid", [{
                "code": "InvalidField", "message": str(e), "resource": "fields", "field": "fields"}]) from None

    # ------------------------------------------------------------------ lists
    def _list(self, request: Request, coll: Collection, scope: int | None, conditions_text: str | None) -> Response:
        args = self._args(request)
        page_size = self._int_param(args, "pageSize", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)
        forward = request.headers.get("pagination-type", "").strip().lower() == "forward-only"
        order_text = args.get("orderby")
        if forward and not coll.audit and order_text:
            # [CW-DG] Forward-Only: "You cannot use an Order By query parameter with forward-only".
            raise _ApiError(400, "InvalidObject", "orderBy object is invalid", [{
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
                raise _ApiError(400, "InvalidObject", "orderBy object is invalid", [{
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

    # ------------------------------------------------------------------ records & writes
    def _record_op(self, request: Request, coll: Collection, scope: int | None, rid: int) -> Response:
        store = self.store
        method = request.method
        with store.lock:
            if not store.exists(coll, rid, scope):
                raise _ApiError(404, "NotFound", f"{coll.model.display} {rid} not found")
            if method == "GET":
                tree = self._fields(self._args(request), coll.model)
                if tree is None:
                    return Response(store.record_bytes(coll, rid), 200, content_type="application/json; charset=utf-8")
                return json_response(project(store.get(coll, rid) or {}, tree))
            if method == "DELETE":
                before = store.get(coll, rid)
                store.delete_record(coll, rid)
                self._touch_parent(coll, scope, rid, before)
                return Response(status=204)
            current = store.get(coll, rid) or {}
            if method == "PUT":
                body = self._json_body(request, coll.model)
                raw = request.get_data(as_text=True)
                rec = {"id": rid, **self._normalise(coll, scope, body, raw, on_update=True)}
                self._stamp(coll, rec, previous=current)
            else:  # PATCH
                rec = self._apply_patch(coll, scope, current, request)
                if rec is None:  # only no-op operations (nested paths): the vendor's "false 200"
                    return Response(store.record_bytes(coll, rid), 200, content_type="application/json; charset=utf-8")
                self._stamp(coll, rec, previous=current)
            store.put_record(coll, rid, rec, scope)
            self._touch_parent(coll, scope, rid, rec)
            return json_response(rec, 200)

    def _json_body(self, request: Request, model: Model) -> Any:
        raw = request.get_data()
        if not raw:
            raise _ApiError(400, "InvalidObject", f"{model.resource} object is invalid", [{
                "code": "MissingRequiredField", "message": "A request body is required.",
                "resource": model.resource, "field": model.resource}])
        try:
            return msgspec.json.decode(raw)
        except msgspec.DecodeError as e:
            raise _ApiError(400, "ConnectWiseApi", f"Unexpected character encountered while parsing value: {e}") from None

    def _create(self, coll: Collection, scope: int | None, body: Any, raw: str | None) -> dict[str, Any]:
        store = self.store
        with store.lock:
            if coll.nested and scope is not None and not store.scope_exists(coll, scope):
                raise _ApiError(404, "NotFound", f"{coll.parent.model.display} {scope} not found")
            rec = self._normalise(coll, scope, body, raw, on_update=False)
            if coll.nested and coll.parent is not None and scope is not None:
                self._link_parent(coll, scope, rec)
            rid = store.new_id(coll)
            rec = {"id": rid, **rec}
            self._stamp(coll, rec, previous=None)
            store.put_record(coll, rid, rec, scope)
            self._touch_parent(coll, scope, rid, rec)
            return copy_record(rec)

    def _link_parent(self, coll: Collection, scope: int, rec: dict[str, Any]) -> None:
        """Children created under a parent URL point at that parent (e.g. a note's ticketId)."""
        store = self.store
        pm = coll.parent.model.name.lower()
        for f in coll.model.fields:
            if f.kind == "integer" and f.lname in (pm + "id", "parentid"):
                rec[f.name] = scope
            elif f.kind == "object" and f.ref and store.ref_target(f.ref)[0] is coll.parent:
                sub = self.catalog.models.get(f.ref)
                if sub is not None:
                    rec[f.name] = store.ref(sub, coll.parent, scope)

    def _stamp(self, coll: Collection, rec: dict[str, Any], previous: dict[str, Any] | None) -> None:
        if "_info" not in coll.model.by_name:
            rec.pop("_info", None)
            return
        now = self.store.now_iso()
        prev_info = (previous or {}).get("_info") or {}
        rec["_info"] = {
            "lastUpdated": now,
            "updatedBy": self.store.api_member,
            "dateEntered": prev_info.get("dateEntered", now),
            "enteredBy": prev_info.get("enteredBy", self.store.api_member),
        }

    def _touch_parent(self, coll: Collection, scope: int | None, rid: int, rec: dict[str, Any] | None = None) -> None:
        # UNCERTAIN (our reading): adding/changing a note or a time entry on a ticket also bumps the
        # ticket's _info.lastUpdated, so incremental ticket syncs see the activity.
        store = self.store
        if coll.norm in ("/service/tickets/{}/notes", "/project/tickets/{}/notes") and scope is not None:
            parent = coll.parent
            if parent is not None and store.exists(parent, scope):
                store.touch_record(parent, scope)
        elif coll.norm == "/time/entries" and rec is not None:
            if rec.get("chargeToType") in ("ServiceTicket", "ProjectTicket") and isinstance(rec.get("chargeToId"), int):
                tickets = store.coll("/service/tickets" if rec["chargeToType"] == "ServiceTicket" else "/project/tickets")
                if store.exists(tickets, rec["chargeToId"]):
                    store.touch_record(tickets, rec["chargeToId"])

    def _normalise(self, coll: Collection, scope: int | None, body: Any, raw: str | None,
                   on_update: bool) -> dict[str, Any]:
        """Validate a POST/PUT body against the model and return the record to store."""
        model = coll.model
        if not isinstance(body, dict):
            raise _ApiError(400, "ConnectWiseApi",
                            f"Cannot deserialize the current JSON value into type '{model.name}' (a JSON object is required).")
        out: dict[str, Any] = {}
        for key, value in body.items():
            f = model.by_name.get(key) or model.by_lower.get(key.lower())
            if f is None:
                # The vendor rejects unknown members (jundis/CWSlack-SlashCommands #132: "Could not find
                # member 'enteredBy' on object of type 'Ticket'. Path 'enteredBy', line 1, position 51.").
                pos = (raw.find(f'"{key}"') + len(key) + 2) if raw else 0
                raise _ApiError(400, "ConnectWiseApi",
                                f"Could not find member '{key}' on object of type '{model.name}'. "
                                f"Path '{key}', line 1, position {max(pos, 0)}.")
            if f.name in ("id", "_info") or value is None:
                continue
            out[f.name] = self._check_value(coll, f, value)
        self._check_required(coll, out, on_update)
        self._resolve_refs(coll, scope, out)
        return out

    def _check_value(self, coll: Collection, f: Any, value: Any) -> Any:
        model = coll.model
        kind = f.kind
        bad = None
        if kind == "string" or kind == "datetime":
            if not isinstance(value, str):
                bad = "string"
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                bad = "integer"
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                bad = "number"
        elif kind == "boolean":
            if not isinstance(value, bool):
                bad = "boolean"
        elif kind == "object":
            if not isinstance(value, dict):
                bad = "object"
        elif kind == "array":
            if not isinstance(value, list):
                bad = "array"
        if bad is not None:
            raise _ApiError(400, "ConnectWiseApi",
                            f"Error converting value {_encode(value).decode()} to type '{bad}'. Path '{f.name}'.")
        if kind == "string" and f.max_len and len(value) > f.max_len:
            # [code MaxLengthField + message] as reported by integrators (docs.xyte.io kb-5017).
            raise _invalid(model.resource, "MaxLengthField",
                           f"The field {f.name} must be a string with a maximum length of {f.max_len}.", f.name)
        if kind == "string" and f.enum and value not in f.enum:
            raise _invalid(model.resource, "InvalidField",
                           f"The value '{value}' is not valid for {f.name}; expected one of {', '.join(f.enum)}.", f.name)
        if kind == "datetime":
            try:
                dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
            except ValueError:
                raise _ApiError(400, "ConnectWiseApi",
                                f"Could not convert string to DateTime: {value}. Path '{f.name}'.") from None
        return value

    def _check_required(self, coll: Collection, rec: dict[str, Any], on_update: bool) -> None:
        model = coll.model
        errors = []
        parent_fields = set()
        if coll.parent is not None:
            pm = coll.parent.model.name.lower()
            parent_fields = {f.name for f in model.fields if f.lname in (pm + "id", "parentid")}
        for f in model.fields:
            if f.name in ("id", "_info") or f.name in parent_fields:
                continue
            if f.required or (on_update and f.required_on_update):
                v = rec.get(f.name)
                if v is None or (isinstance(v, str) and not v.strip()) or v == {}:
                    errors.append({"code": "MissingRequiredField", "message": f"{f.name} is required.",
                                   "resource": model.resource, "field": f.name})
        if errors:
            # InvalidObject + errors[] (christaylorcodes/ConnectWiseManageAPI #30 shows
            # code "MissingRequiredField", resource = model, field = the missing field).
            raise _ApiError(400, "InvalidObject", f"{model.resource} object is invalid", errors)

    def _resolve_refs(self, coll: Collection, scope: int | None, rec: dict[str, Any],
                      only: set[str] | None = None) -> None:
        """References by id must exist ("NotFound" with field "x/id"); they come back expanded."""
        store = self.store
        model = coll.model
        for f in model.fields:
            if only is not None and f.name not in only:
                continue
            v = rec.get(f.name)
            if f.kind != "object" or not isinstance(v, dict) or not f.ref:
                continue
            target, parent_field = store.ref_target(f.ref)
            sub = self.catalog.models.get(f.ref)
            if target is None or sub is None:
                continue
            rid = v.get("id")
            if rid is None:
                ident = v.get("identifier") or v.get("name")
                if isinstance(ident, str):
                    rid = self._find_by_ident(target, ident)
                    if rid is None:
                        raise _invalid(model.resource, "NotFound",
                                       f"{target.model.display} '{ident}' not found", f"{f.name}/identifier")
                else:
                    continue
            if not isinstance(rid, int) or isinstance(rid, bool):
                raise _ApiError(400, "ConnectWiseApi", f"Error converting value to type 'integer'. Path '{f.name}.id'.")
            pscope = None
            if parent_field is not None:
                par = rec.get(parent_field)
                pscope = par.get("id") if isinstance(par, dict) else None
                if pscope is None and target.parent is coll:
                    pscope = None
            if not store.exists(target, rid, pscope):
                msg = f"{target.model.display} {rid} not found"
                if pscope is not None and target.parent is not None:
                    msg += f" for {target.parent.model.display} {pscope}"
                raise _invalid(model.resource, "NotFound", msg, f"{f.name}/id")
            rec[f.name] = store.ref(sub, target, rid)

    def _find_by_ident(self, target: Collection, ident: str) -> int | None:
        store = self.store
        m = re.search(r"(\d+)$", ident)
        if m is not None:
            rid = int(m.group(1))
            if store.exists(target, rid):
                got = store.ident(target, rid)
                if ident.lower() in (str(got.get("identifier", "")).lower(), str(got.get("name", "")).lower()):
                    return rid
        n = store.max_base_id(target)
        if n <= 5000 and not target.nested:
            for rid in range(1, n + 1):
                got = store.ident(target, rid)
                if ident.lower() in (str(got.get("identifier", "")).lower(), str(got.get("name", "")).lower()):
                    if store.exists(target, rid):
                        return rid
        return None

    def _apply_patch(self, coll: Collection, scope: int | None, current: dict[str, Any],
                     request: Request) -> dict[str, Any] | None:
        """JSON-Patch-like array (§1.6, [CW-DG] Patch): op add|replace|remove, path = field name."""
        model = coll.model
        body = self._json_body(request, model)
        if not isinstance(body, list):
            raise _ApiError(400, "ConnectWiseApi",
                            "Cannot deserialize the current JSON object into type 'List`1[PatchOperation]' "
                            "because the type requires a JSON array.")
        rec = copy_record(current)
        changed = False
        touched: set[str] = set()
        for i, op in enumerate(body):
            if not isinstance(op, dict) or not isinstance(op.get("op"), str) or not isinstance(op.get("path"), str):
                raise _invalid("patchOperation", "InvalidField",
                               f"Operation {i} must be an object with string 'op' and 'path'.", "op")
            kind = op["op"].lower()
            if kind not in ("add", "replace", "remove"):
                raise _invalid("patchOperation", "InvalidField", f"Unsupported op '{op['op']}'; use add, replace or remove.", "op")
            path = op["path"].lstrip("/")
            if "/" in path:
                # "Do not use path company/identifier ... you may receive a false 200" ([CW-DG]).
                continue
            f = model.by_name.get(path)  # path is case sensitive ([CW-DG] Patch)
            if f is None:
                raise _invalid(model.resource, "InvalidField", f"Unknown field '{path}' in patch path.", path)
            if f.name in ("id", "_info"):
                raise _invalid(model.resource, "InvalidField", f"Field '{path}' is read-only.", path)
            if kind == "remove":
                rec.pop(f.name, None)
            else:
                if "value" not in op:
                    raise _invalid(model.resource, "InvalidField", f"Operation {i} needs a value.", path)
                if op["value"] is None:
                    rec.pop(f.name, None)
                else:
                    rec[f.name] = self._check_value(coll, f, op["value"])
            changed = True
            touched.add(f.name)
        if not changed:
            return None
        self._check_required(coll, rec, on_update=False)
        self._resolve_refs(coll, scope, rec, only=touched)
        return rec

    # ------------------------------------------------------------------ everything else
    def _generic(self, request: Request, op: Operation, values: list[str]) -> Response:
        # Non-CRUD operations (actions, singletons, /info views): check any parent ids in the path,
        # then answer with a deterministic instance of the documented return type.
        segs = op.template.strip("/").split("/")
        vi = 0
        for i, s in enumerate(segs):
            if s.startswith("{"):
                prefix = "/" + "/".join(segs[:i])
                c = self.catalog.collections.get(norm_template(prefix))
                raw = values[vi]
                vi += 1
                if c is not None and raw.isdigit() and not c.nested and not self.store.exists(c, int(raw)):
                    raise _ApiError(404, "NotFound", f"{c.model.display} {raw} not found")
        if op.method == "GET" and op.template.endswith("/{memberIdentifier}"):
            members = self.store.coll("/system/members")
            mid = self._find_by_ident(members, urllib.parse.unquote(values[-1]))
            if mid is None:
                raise _ApiError(404, "NotFound", f"Member {values[-1]} not found")
            if op.template == "/system/members/{memberIdentifier}":
                return Response(self.store.record_bytes(members, mid), 200,
                                content_type="application/json; charset=utf-8")
            values = values[:-1] + [str(mid)]
        if op.template == "/system/info":
            return json_response({"version": f"v{self.api_version}.0", "isCloud": True,
                                  "serverTimeZone": "Eastern Standard Time", "licenseBits": [],
                                  "cloudRegion": "NA", "maxWorkFlowRecordsAllowed": 1000})
        ret = op.returns
        if op.method in ("POST", "PUT", "PATCH") and op.body:
            self._json_body(request, self.catalog.models.get(op.body) or Model(op.body, []))
        if ret is None:
            return Response(status=204)
        if ret == "Count":
            return json_response({"count": 0})
        if ret == "os.File":
            return Response(b"%PDF-1.4\n% sandbox document\n%%EOF\n", 200, content_type="application/pdf")
        model = self.catalog.models.get(ret[2:] if ret.startswith("[]") else ret)
        if ret.startswith("[]"):
            return json_response([])
        if model is None:
            return json_response({})
        rng = random.Random(stable_hash(self.store.seed, op.template, *values))
        obj: dict[str, Any] = {}
        for f in model.fields:
            if f.post_only or f.kind in ("file",):
                continue
            if f.kind == "info":
                obj["_info"] = {"lastUpdated": "2024-12-31T00:00:00Z", "updatedBy": self.store.api_member}
                continue
            v = self.store._gen_value(f, rng, 0, None)
            if v is not None:
                obj[f.name] = v
        if "id" in model.by_name and values and values[-1].isdigit():
            obj["id"] = int(values[-1])
        status = 201 if op.method == "POST" and op.template.rsplit("/", 1)[-1] not in ("search",) and \
            op.returns == op.body else 200
        return json_response(obj, status)
