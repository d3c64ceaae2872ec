"""ConnectWise Manage (PSA) REST API 3.0 emulator.

Contract: ``shared/vendors/connectwise-exactonline.md`` §1 (cited below as §1.x) and the ConnectWise
Developer Guide ([CW-DG]). Every GET/POST/PUT/PATCH/DELETE operation of the 2025.1 catalog routes
here; list endpoints, single records, counts and writes are backed by :class:`~.data.DataStore`. This
module authenticates and routes; lists are answered in :mod:`.lists`, records and writes in
:mod:`.writes`, everything else (actions, singletons) below.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import urllib.parse
from typing import Any

from werkzeug.wrappers import Request, Response

from ..clock import Clock
from ..responses import json_response
from ..seeding import stable_hash
from ..server import SandboxServer
from .catalog import Catalog, Collection, Model, Operation, load_catalog, norm_template
from .data import DataStore
from .errors import ApiError, cw_error
from .lists import ListEndpoints
from .rows import ConnectWiseRows
from .writes import RecordWrites

DEFAULT_COMPANY_ID = "sandbox"
DEFAULT_PUBLIC_KEY = "sandbox-public"
DEFAULT_PRIVATE_KEY = "sandbox-private"
DEFAULT_CLIENT_ID = "00000000-0000-4000-8000-000000000000"
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ACCEPT_RE = re.compile(r"^\s*application/vnd\.connectwise\.com\+json\s*(?:;\s*version\s*=\s*([^;\s]*)\s*)?$", re.I)
VERSION_RE = re.compile(r"^(\d{4}\.\d{1,2}|3\.0(\.\d+)?)$")


class ConnectWiseSandbox(ListEndpoints, RecordWrites, SandboxServer):
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
        return cw_error(500, "ConnectWiseApi", f"sandbox internal error: {exc!r}")

    # ------------------------------------------------------------------ HTTP entry
    def handle_api(self, request: Request) -> Response:
        try:
            return self._handle(request)
        except ApiError as e:
            return cw_error(e.status, e.code, e.message, e.errors,
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
            raise ApiError(404, "NotFound", "The requested resource was not found.")
        rel = "/" + "/".join(parts[4:])
        m = self.catalog.match(rel.rstrip("/") or "/")
        if m is not None:  # label the request for the counters even when auth fails
            any_op = m[0].get(request.method) or next(iter(m[0].values()))
            request.environ["sandbox.route"] = any_op.template
        self._authenticate(request)
        self._check_accept(request)
        if m is None:
            raise ApiError(404, "NotFound", f"The resource '{rel}' was not found.")
        ops, values = m
        op = ops.get(request.method)
        if op is None:
            allow = ", ".join(sorted(ops))
            # 405 for a method the catalog does not list for this path ([CW-DG] HTTP statuses).
            raise ApiError(405, "MethodNotAllowed",
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
            raise ApiError(404, "NotFound", f"Company '{company}' was not found.")
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
            raise ApiError(400, "InvalidClientId",
                            "A valid clientId header is required. Register one at developer.connectwise.com.")
        if self.client_id is not None and cid.strip().lower() != self.client_id.lower():
            raise ApiError(400, "InvalidClientId", "The clientId supplied is not registered.")
        # Authorization: Basic base64("{companyId}+{publicKey}:{privateKey}") (§1.1). Wrong or
        # missing -> 401 with code "Unauthorized" ([CT] Invoke-CWMWebRequest handles exactly that code;
        # [CW-DG]: "401 Unauthorized — The supplied authentication is incorrect").
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "basic" or not token.strip():
            raise ApiError(401, "Unauthorized", "Authentication required: use Basic companyId+publicKey:privateKey.",
                            headers={"WWW-Authenticate": 'Basic realm="ConnectWise"'})
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "Unauthorized", "Invalid authorization header.") from None
        user, _, password = decoded.partition(":")
        company, plus, public = user.partition("+")
        if not plus or company != self.company_id or public != self.public_key or password != self.private_key:
            raise ApiError(401, "Unauthorized", "Invalid credentials: check the company id and API keys.")

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
                    raise ApiError(400, "InvalidObject", f"Invalid API version '{version}' in Accept header.")
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
                raise ApiError(400, "InvalidObject", "conditions must be a string.")
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
                raise ApiError(404, "NotFound", f"{parent.model.display} {pid} not found")
            c = parent
            vals = vals[:-1]

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
                    raise ApiError(404, "NotFound", f"{c.model.display} {raw} not found")
        if op.method == "GET" and op.template.endswith("/{memberIdentifier}"):
            members = self.store.coll("/system/members")
            mid = self._find_by_ident(members, urllib.parse.unquote(values[-1]))
            if mid is None:
                raise ApiError(404, "NotFound", f"Member {values[-1]} not found")
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
