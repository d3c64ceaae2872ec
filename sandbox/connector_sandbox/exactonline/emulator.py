"""Exact Online REST API emulator.

Contract: ``shared/vendors/connectwise-exactonline.md`` §2 (cited as §2.x). One host serves OAuth
(``/api/oauth2/…``) and the API (``/api/v1/{division}/…``, ``/api/v1/beta/{division}/…``,
``/api/v1/current/Me``). Every endpoint of the catalog (451) is routed; rows come from
:class:`~.data.DataStore`, listings from :class:`~.query.Lister`.

Order of checks on an API request: bearer token (401) -> division access (403 + ``Reason``) ->
error block (429) -> minutely/daily budget (429) -> ``Accept`` (406) -> endpoint (404) ->
method (405) -> query options / body (400) -> the answer. Every answer that passed the budget
carries the six ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import msgspec
from werkzeug.wrappers import Request, Response

from ..quota import ErrorAllowance, Quota, Window
from ..server import Clock, SandboxServer, json_response
from .catalog import Catalog, Dataset, Endpoint, load_catalog
from .data import DELETED_ID, DIVISION_TABLES, REF_TARGETS, DataStore, GuidCodec, stable_hash
from .oauth import OAuthServer
from .odata import (GUID_RE, TYPE_NAMES, CompiledFilter, ODataError, WallClock, compile_filter, date_json,
                    format_literal, iso_from_ms, parse_datetime_text, parse_literal_list, parse_orderby,
                    parse_select)
from .query import Lister, Plan

DEFAULT_CLIENT_ID = "5f1d3c2a-7b8e-4f60-9a1b-2c3d4e5f6a7b"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_DIVISIONS = (100001, 100002, 100003)
DEFAULT_INACCESSIBLE = (100009,)
USER_NAME = "Sanne de Vries"
DAY = 86400

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
REQUIRED = {
    "crm/accounts": [["Name"]],
    "crm/contacts": [["Account"], ["FirstName", "LastName"]],
    "logistics/items": [["Code"], ["Description"]],
    "financial/glaccounts": [["Code"], ["Description"]],
    "financial/journals": [["Code"], ["Description"], ["Type"]],
    "project/projects": [["Code"], ["Description"], ["Type"]],
    "salesinvoice/salesinvoices": [["OrderedBy"], ["SalesInvoiceLines"]],
    "salesinvoice/salesinvoicelines": [["InvoiceID"], ["Item"]],
    "salesorder/salesorders": [["OrderedBy"], ["SalesOrderLines"]],
    "salesorder/salesorderlines": [["OrderID"], ["Item"]],
}
EMBEDDED_LINE_REQUIRED = [["Item"]]
ATOM_NS = ('xmlns="http://www.w3.org/2005/Atom" '
           'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
           'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"')

_encode = msgspec.json.Encoder().encode


class ApiError(Exception):
    def __init__(self, status: int, message: str | None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message or "")
        self.status, self.message, self.headers = status, message, headers or {}


def error_body(message: str) -> dict[str, Any]:
    # §2.7: {"error": {"code": "", "message": {"lang": "", "value": "…"}}}. UNCERTAIN: whether code/lang
    # are ever filled; they are empty strings here (clients rely on message.value only).
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}


class ExactOnlineSandbox(SandboxServer):
    """A strict, deterministic Exact Online emulator on loopback.

    ``sizes`` maps an endpoint or table (``"crm/Accounts"``, ``"financial/TransactionLines"``,
    ``"bulk/CRM/Accounts"``…) to its number of rows per division; for a lines table
    (``salesinvoice/SalesInvoiceLines``) the number of lines per header.
    """

    vendor = "exactonline"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int = 42,
                 sizes: dict[str, int] | None = None, default_size: int = 3, default_lines: int = 2,
                 client_id: str = DEFAULT_CLIENT_ID, client_secret: str = DEFAULT_CLIENT_SECRET,
                 redirect_uri: str | None = None, divisions: tuple[int, ...] | list[int] = DEFAULT_DIVISIONS,
                 current_division: int | None = None,
                 inaccessible_divisions: tuple[int, ...] | list[int] = DEFAULT_INACCESSIBLE,
                 blocked_divisions: tuple[int, ...] | list[int] = (),
                 minutely_limit: int | None = 60, daily_limit: int | None = 5000,
                 empty_429_body: bool = False, headers_on_429: str = "hit", error_limit: int | None = 10,
                 mandatory_filters: bool = True, sync_requires_select: bool = True, wall_clock: str = "CET",
                 access_token_ttl: float = 600.0, min_refresh_age: float = 570.0,
                 revoke_chain_on_reuse: bool = True, verbose: bool = False, clock: Clock | None = None,
                 catalog: Catalog | None = None) -> None:
        super().__init__(host, port, verbose=verbose, clock=clock)
        if not divisions:
            raise ValueError("at least one accessible division is required")
        if headers_on_429 not in ("hit", "none"):
            raise ValueError("headers_on_429 must be 'hit' or 'none'")
        self.catalog = catalog or load_catalog()
        self.seed = int(seed)
        self.client_id = client_id
        self.client_secret = client_secret
        self.divisions = [int(d) for d in divisions]
        self.current_division = int(current_division) if current_division is not None else self.divisions[0]
        self.inaccessible_divisions = [int(d) for d in inaccessible_divisions if int(d) not in self.divisions]
        self.blocked_divisions = {int(d) for d in blocked_divisions}
        self.empty_429_body = bool(empty_429_body)
        self.mandatory_filters = bool(mandatory_filters)
        self.sync_requires_select = bool(sync_requires_select)
        self.wall = WallClock(wall_clock)
        self.user_id = GuidCodec(stable_hash(seed, "user")).encode(1)
        self.user_name = USER_NAME
        self.store = DataStore(self.catalog, seed=seed, sizes=sizes, default_size=default_size,
                               default_lines=default_lines, clock=self.clock, wall=self.wall,
                               user_id=self.user_id, user_name=self.user_name, divisions=self.divisions,
                               all_divisions=self.divisions + self.inaccessible_divisions,
                               current_division=self.current_division)
        self.lister = Lister(self.store)
        self.oauth = OAuthServer(self.clock, seed=seed, client_id=client_id, client_secret=client_secret,
                                 redirect_uri=redirect_uri, user_id=self.user_id, access_ttl=access_token_ttl,
                                 min_refresh_age=min_refresh_age, revoke_chain_on_reuse=revoke_chain_on_reuse)
        # §2.6: per app per division, a daily and a minutely budget, windows aligned to the clock (picqer
        # #646 logs show a minutely reset at hh:mm:00 and a daily reset at midnight UTC); every answer
        # carries both; reset headers are epoch MILLISECONDS; a 429 carries only the headers of the
        # limit that was hit (or none, picqer #255) and no Retry-After.
        self.limits = Quota(self.clock, [
            Window("daily", daily_limit, DAY, limit_header="X-RateLimit-Limit",
                   remaining_header="X-RateLimit-Remaining", reset_header="X-RateLimit-Reset", reset_scale=1000),
            Window("minutely", minutely_limit, 60, limit_header="X-RateLimit-Minutely-Limit",
                   remaining_header="X-RateLimit-Minutely-Remaining", reset_header="X-RateLimit-Minutely-Reset",
                   reset_scale=1000),
        ], retry_after=None, headers_on_refusal=headers_on_429)
        # §2.6: at most 10 error answers (400/401/403/404) per app, user, division and endpoint per hour;
        # then the endpoint is blocked for an hour, doubling on each repeated block ("gradually
        # increase"). Conservative reading: the 10th error is still answered, the next request is blocked.
        self.error_block = ErrorAllowance(self.clock, error_limit)
        self._deleted = self.catalog.datasets.get(DELETED_ID)

    # ------------------------------------------------------------------ base-class hooks
    @property
    def api_url(self) -> str:
        """``{url}/api/v1``: append ``/{division}/crm/Accounts`` or ``/current/Me``."""
        return f"{self.url}/api/v1"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/api/oauth2/auth"

    @property
    def token_url(self) -> str:
        return f"{self.url}/api/oauth2/token"

    def api_relative_path(self, path: str) -> str:
        m = re.match(r"^/api/v1/(?:beta/)?(?:\d+/)?(.*)$", path, re.I)
        return "/" + m.group(1) if m else path

    def is_data_path(self, path: str) -> bool:
        return path.lower().startswith("/api/v1/")

    def reset_data(self) -> None:
        self.store.reset()

    def fault_response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        if body is None:
            body = error_body(f"Injected fault: HTTP {status}")
        return super().fault_response(status, body, headers)

    def internal_error_response(self, exc: Exception) -> Response:
        return json_response(error_body(f"sandbox internal error: {exc!r}"), 500)

    def rate_limited_response(self, retry_after_seconds: int, retry_after_header: str) -> Response:
        # The generic sliding-window budget of the base class (off by default); Exact's own budgets
        # are the minutely/daily ones below.
        return json_response(error_body("Too many requests."), 429, {"Retry-After": retry_after_header})

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        out["exactonline"] = {
            **self.oauth.counters,
            "rate_limited_minutely": self.limits.rejected["minutely"],
            "rate_limited_daily": self.limits.rejected["daily"],
            "error_blocks": self.error_block.blocks,
            "error_blocked_requests": self.error_block.rejected,
            "mutations": self.store.mutations,
        }
        return out

    # ------------------------------------------------------------------ public helpers
    def issue_tokens(self) -> dict[str, str]:
        """A valid token pair (as after a consent + code exchange); ``expires_in`` is ``"600"``."""
        return self.oauth.issue_tokens()

    def set_limits(self, minutely: int | None = ..., daily: int | None = ...,  # type: ignore[assignment]
                   empty_429_body: bool | None = None, headers_on_429: str | None = None) -> None:
        """Change the budgets (``None`` disables one) and the shape of 429 answers."""
        if headers_on_429 not in (None, "hit", "none"):
            raise ValueError("headers_on_429 must be 'hit' or 'none'")
        self.limits.configure("minutely", minutely)
        self.limits.configure("daily", daily)
        if empty_429_body is not None:
            self.empty_429_body = bool(empty_429_body)
        if headers_on_429 is not None:
            self.limits.configure(headers_on_refusal=headers_on_429)

    @property
    def headers_on_429(self) -> str:
        """``"hit"``: a 429 carries the headers of the limit that was hit; ``"none"``: no budget header."""
        return self.limits.headers_on_refusal

    def reset_limits(self) -> None:
        """Forget used budgets and error counts/blocks."""
        self.limits.reset()
        self.error_block.reset()

    def _div(self, division: int | None) -> int:
        return self.current_division if division is None else int(division)

    def set_size(self, path: str, n: int, division: int | None = None) -> None:
        """Resize a table (all divisions, or one); rows stay lazily generated."""
        self.store.set_size(path, n, division)

    def count(self, path: str, division: int | None = None) -> int:
        ds = self.catalog.dataset_for(path)
        ep = ds.primary
        with self.store.lock:
            return self.lister.count(self._div(division), Plan(ep, ds, None, None))

    def key_of(self, path: str, index: int, division: int | None = None) -> Any:
        """Primary key (guid) of the ``index``-th base row (1-based) of a table."""
        ds = self.catalog.dataset_for(path)
        return self.store.key_of(self._div(division), ds, int(index))

    def _index(self, ds: Dataset, div: int, key: Any) -> int:
        i = int(key) if isinstance(key, int) and ds.key_code == "g" else self.store.index_of_key(div, ds, key)
        if i is None or not self.store.exists(div, ds, i):
            raise KeyError(f"{ds.id}: no row {key!r} in division {div}")
        return i

    def get(self, path: str, key: Any, division: int | None = None) -> dict[str, Any]:
        """A row as the regular endpoint shows it (internal values; dates as wall-clock ms)."""
        ds = self.catalog.dataset_for(path)
        div = self._div(division)
        i = self._index(ds, div, key)
        return self.store.record(div, ds, i, [f.name for f in ds.primary.fields if f.code not in ("n", "c")])

    def touch(self, path: str, keys: Any, division: int | None = None, field: str | None = None) -> list[Any]:
        """Modify rows (keys or 1-based indexes): change a text property, bump Modified and Timestamp."""
        ds = self.catalog.dataset_for(path)
        div = self._div(division)
        if not isinstance(keys, (list, tuple)):
            keys = [keys]
        target = field or next((f for f in ("Description", "Name", "Notes", "Remarks", "YourRef")
                                if ds.types.get(f) == "s" and f in ds.own_fields), None)
        out = []
        for key in keys:
            i = self._index(ds, div, key)
            changes = {}
            if target is not None:
                cur = self.store.view(div, ds, i).get(target) or ""
                changes[target] = cur[:-2] if cur.endswith(" *") else cur + " *"
            self.store.update(div, ds, i, changes)
            out.append(self.store.key_of(div, ds, i))
        return out

    def delete(self, path: str, key: Any, division: int | None = None) -> bool:
        ds = self.catalog.dataset_for(path)
        div = self._div(division)
        try:
            i = self._index(ds, div, key)
        except KeyError:
            return False
        self.store.delete(div, ds, i)
        return True

    def create(self, path: str, record: dict[str, Any], division: int | None = None) -> dict[str, Any]:
        """Create a row as a POST would (same validation); returns the stored row."""
        ds = self.catalog.dataset_for(path)
        ep = ds.primary
        div = self._div(division)
        try:
            i = self._create(div, ep, record)
        except ApiError as e:
            raise ValueError(e.message) from None
        return self.store.record(div, ds, i, [f.name for f in ep.fields if f.code not in ("n", "c")])

    def expire_tokens(self) -> int:
        """Make every issued access token expired now (refresh tokens stay valid)."""
        return self.oauth.expire_access_tokens()

    def control_extra(self, name: str, request: Request) -> Response | None:
        if not name.startswith("exactonline/"):
            return None
        action = name.split("/", 1)[1]
        body = msgspec.json.decode(request.get_data() or b"{}")
        div = body.get("division") if isinstance(body, dict) else None
        if action == "tokens" and request.method == "POST":
            return json_response(self.issue_tokens())
        if action == "expire-tokens" and request.method == "POST":
            return json_response({"expired": self.expire_tokens()})
        if action == "size" and request.method == "POST":
            self.set_size(body["path"], int(body["n"]), div)
            return json_response({"ok": True})
        if action == "touch" and request.method == "POST":
            return json_response({"ok": True, "touched": self.touch(body["path"], body["keys"], div, body.get("field"))})
        if action == "delete" and request.method == "POST":
            return json_response({"ok": self.delete(body["path"], body["key"], div)})
        if action == "create" and request.method == "POST":
            return json_response(self.create(body["path"], body["record"], div), 201)
        if action == "count" and request.method == "GET":
            d = request.args.get("division")
            return json_response({"count": self.count(request.args["path"], int(d) if d else None)})
        if action == "limits" and request.method == "POST":
            kw = {k: body[k] for k in ("minutely", "daily") if k in body}
            self.set_limits(**kw, empty_429_body=body.get("empty_429_body"), headers_on_429=body.get("headers_on_429"))
            if body.get("reset"):
                self.reset_limits()
            return json_response({"ok": True, "minutely": self.limits.limit("minutely"), "daily": self.limits.limit("daily"),
                                  "empty_429_body": self.empty_429_body, "headers_on_429": self.headers_on_429})
        return None

    # ------------------------------------------------------------------ HTTP entry
    def handle_api(self, request: Request) -> Response:
        path = request.path
        low = path.lower()
        if low.startswith("/api/oauth2/"):
            return self._oauth(request, low)
        ctx: dict[str, Any] = {"fmt": self._format_guess(request), "rl_headers": {}, "err_key": None}
        try:
            resp = self._api(request, ctx)
        except ApiError as e:
            resp = self._error(e.status, e.message, ctx["fmt"], e.headers)
        except ODataError as e:
            resp = self._error(400, str(e), ctx["fmt"])
        for k, v in ctx["rl_headers"].items():
            resp.headers.setdefault(k, v)
        if resp.status_code in (400, 401, 403, 404) and ctx["err_key"] is not None:
            self.error_block.record(ctx["err_key"])
        return resp

    def _oauth(self, request: Request, low: str) -> Response:
        if low.rstrip("/") == "/api/oauth2/auth":
            request.environ["sandbox.route"] = "/api/oauth2/auth"
            if request.method != "GET":
                return json_response({"error": "invalid_request"}, 405, {"Allow": "GET"})
            status, headers, body = self.oauth.authorize(request.args.to_dict())
            if status == 302:
                return Response(status=302, headers=headers)
            return json_response(body, status, headers)
        if low.rstrip("/") == "/api/oauth2/token":
            request.environ["sandbox.route"] = "/api/oauth2/token"
            if request.method != "POST":
                return json_response({"error": "invalid_request"}, 405, {"Allow": "POST"})
            form = {k: v for k, v in request.form.items()}
            status, headers, body = self.oauth.token(form, request.headers.get("Content-Type", ""))
            return json_response(body, status, {"Cache-Control": "no-store", **headers})
        return json_response({"error": "invalid_request", "error_description": "Unknown OAuth endpoint."}, 404)

    @staticmethod
    def _format_guess(request: Request) -> str:
        accept = request.headers.get("Accept", "")
        return "json" if "application/json" in accept.lower() else "atom"

    def _negotiate(self, request: Request) -> str:
        """JSON only when asked for; the default answer is Atom XML (§2.4). ``application/xml`` alone
        (or any other type) is not served: 406."""
        accept = request.headers.get("Accept", "").lower()
        if not accept.strip():
            return "atom"
        types = [part.split(";")[0].strip() for part in accept.split(",")]
        if any(t in ("application/json", "application/json;odata=verbose") for t in types):
            return "json"
        if any(t in ("*/*", "application/*", "application/atom+xml") for t in types):
            return "atom"
        raise ApiError(406, "The requested media type is not supported; use Accept: application/json.")

    def _error(self, status: int, message: str | None, fmt: str, headers: dict[str, str] | None = None) -> Response:
        if fmt == "json":
            return json_response(error_body(message or ""), status, headers)
        xml = ('<?xml version="1.0" encoding="utf-8"?><error xmlns="http://schemas.microsoft.com/ado/2007/08/'
               f'dataservices/metadata"><code></code><message xml:lang="">{xml_escape(message or "")}</message></error>')
        resp = Response(xml, status=status, content_type="application/xml; charset=utf-8")
        for k, v in (headers or {}).items():
            resp.headers[k] = v
        return resp

    def _authenticate(self, request: Request) -> Any:
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Authorization has been denied for this request.",
                           {"WWW-Authenticate": 'Bearer realm="exactonline"'})
        chain, problem = self.oauth.check_access(token.strip())
        if problem == "expired":
            # [AB] refreshes on a 401 whose WWW-Authenticate says the token expired (§2.7).
            raise ApiError(401, "Access token expired.", {
                "WWW-Authenticate": 'Bearer realm="exactonline", error="invalid_token", '
                                    'error_description="access token expired"'})
        if chain is None:
            raise ApiError(401, "Authorization has been denied for this request.", {
                "WWW-Authenticate": 'Bearer realm="exactonline", error="invalid_token", '
                                    'error_description="The access token is invalid"'})
        return chain

    def _api(self, request: Request, ctx: dict[str, Any]) -> Response:
        path = request.path
        if not path.lower().startswith("/api/v1/"):
            raise ApiError(404, "The requested resource does not exist.")
        segs = path[len("/api/v1/"):].rstrip("/").split("/")
        beta = bool(segs) and segs[0].lower() == "beta"
        if beta:
            segs = segs[1:]
        # ---- division
        if not beta and len(segs) == 2 and segs[0].lower() == "current" and segs[1].lower() == "me":
            div, resource, validate_div = self.current_division, "current/Me", False
        elif not beta and len(segs) >= 2 and segs[0].lower() == "system" and segs[1].lower().startswith("users"):
            # picqer treats system/Users as division-less (UNVERIFIED, §2.3): both forms are served.
            div, resource, validate_div = self.current_division, "/".join(segs), False
        elif segs and segs[0].isdigit():
            div, resource = int(segs[0]), "/".join(segs[1:])
            # The {division} in the system/Divisions URL is not validated (Exact support, picqer #470).
            validate_div = resource.lower().rstrip("/") != "system/divisions"
        else:
            self._authenticate(request)
            raise ApiError(404, "The requested resource does not exist.")
        # 400/401/403/404 answers count towards the error block of (app, user, division, endpoint), §2.6.
        ctx["err_key"] = (self.client_id, self.user_id, div, resource.split("(")[0].lower())
        self._authenticate(request)
        if validate_div:
            if div in self.blocked_divisions:
                raise ApiError(403, "Forbidden", {"Reason": "DivisionBlocked"})
            if div not in self.divisions:
                raise ApiError(403, "Forbidden", {"Reason": "NoDivisionAccess"})
        # ---- error block, then the budgets (per app per division, §2.6)
        until = self.error_block.blocked_until(ctx["err_key"])
        if until is not None:
            ctx["err_key"] = None
            request.environ["sandbox.rate_limited"] = True
            # §2.6: "temporarily blocked"; third-party reports show it as an API rate limit error.
            return self._error(429, "API rate limit exceeded: too many errors on this endpoint; blocked until "
                               + dt.datetime.fromtimestamp(until, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                               ctx["fmt"])
        decision = self.limits.check((self.client_id, div))
        if not decision.allowed:
            ctx["err_key"] = None
            request.environ["sandbox.rate_limited"] = True
            # the body may be empty (picqer #528). No Retry-After: clients must use the reset header.
            if self.empty_429_body:
                return Response(b"", status=429, headers=decision.headers)
            return self._error(429, f"API rate limit exceeded: the {decision.refused_by.name} limit of this app "
                                    "for this division has been reached.", ctx["fmt"], decision.headers)
        ctx["rl_headers"] = decision.headers
        ctx["fmt"] = fmt = self._negotiate(request)
        # ---- resource
        ep, key_text, nav, count = self._resolve(resource, beta)
        request.environ["sandbox.route"] = ("/api/v1/beta/{division}/" if beta else
                                            "/api/v1/" if ep.division_less else "/api/v1/{division}/") + ep.path + \
            ("(key)" if key_text is not None else "") + (f"/{nav}" if nav else "") + ("/$count" if count else "")
        method = request.method
        if method in ("PATCH", "MERGE"):
            raise ApiError(405, f"The HTTP method '{method}' is not supported; use PUT.",
                           {"Allow": ", ".join(sorted(self._allowed(ep, key_text is not None)))})
        allowed = self._allowed(ep, key_text is not None and nav is None and not count)
        if method not in allowed or (method != "GET" and (nav or count)):
            raise ApiError(405, f"The HTTP method '{method}' is not allowed on this resource.",
                           {"Allow": ", ".join(sorted(allowed))})
        if ep.lpath == "current/me":
            return self._me(request, fmt)
        if ep.lpath == "read/sync/sync/synctimestamp":
            return self._sync_timestamp(request, div, ep, fmt)
        if key_text is None:
            if method == "POST":
                return self._post(request, div, ep, fmt)
            return self._get_list(request, div, ep, fmt, count=count)
        ds = ep.dataset
        key = self._parse_key(ds, key_text)
        i = self.store.index_of_key(div, ds, key)
        if i is None or not self.store.exists(div, ds, i):
            raise ApiError(404, "The requested resource does not exist.")
        if nav is not None:
            return self._get_nav(request, div, ep, i, nav, fmt, count)
        if method == "GET":
            return self._get_one(request, div, ep, i, fmt)
        if method == "PUT":
            return self._put(request, div, ep, i)
        self.store.delete(div, ds, i)
        return Response(status=204)

    @staticmethod
    def _allowed(ep: Endpoint, record: bool) -> set[str]:
        if record:
            return {m for m in ep.methods if m in ("GET", "PUT", "DELETE")}
        return {m for m in ep.methods if m in ("GET", "POST")}

    def _resolve(self, resource: str, beta: bool) -> tuple[Endpoint, str | None, str | None, bool]:
        count = False
        if resource.endswith("/$count"):
            resource, count = resource[: -len("/$count")], True
        key_text = nav = None
        m = re.match(r"^(?P<set>[^()]+?)\((?P<key>.*)\)(?:/(?P<nav>[A-Za-z_][A-Za-z0-9_]*))?$", resource)
        if m is not None:
            resource, key_text, nav = m.group("set"), m.group("key"), m.group("nav")
        ep = self.catalog.endpoint(resource)
        if ep is None or ep.beta != beta:
            raise ApiError(404, f"The requested resource '{resource}' does not exist.")
        if nav is not None and nav not in ep.types:
            raise ApiError(404, f"The navigation property '{nav}' does not exist on '{ep.path}'.")
        return ep, key_text, nav, count

    def _parse_key(self, ds: Dataset, text: str) -> Any:
        try:
            vals = parse_literal_list(text)
        except ODataError:
            vals = []
        if len(vals) != 1:
            raise ApiError(400, f"Bad Request - Error in query syntax: invalid key '{text}'.")
        code, value = vals[0]
        want = ds.key_code
        if (want == "g" and code != "g") or (want in ("i", "l") and code not in ("i", "l")) or \
                (want == "s" and code != "s"):
            raise ApiError(400, f"Bad Request - Error in query syntax: the key must be of type "
                                f"{TYPE_NAMES.get(want, want)}.")
        return value

    # ------------------------------------------------------------------ reads
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
        Timestamp to start a sync from so that rows modified at or after the date are included."""
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
        if sync_ep is None:
            raise ApiError(400, f"Endpoint '{name}' does not support SyncTimestamp.")
        ds = sync_ep.dataset
        store = self.store
        with store.lock:
            i = store.first_index_where(div, ds, "Modified", lambda m: m >= modified)
            candidates = []
            if i <= store.size(div, ds):
                candidates.append(store.base_ts(ds, i) - 1)
            ov = store.overlay_of(div, ds)
            if ov is not None:
                for idx, ts in ov.version_of.items():
                    v = store.view(div, ds, idx).get("Modified")
                    if v is not None and v >= modified:
                        candidates.append(ts - 1)
            ts = min(candidates) if candidates else max([store.base_ts(ds, store.size(div, ds))] +
                                                         list((ov.version_of.values() if ov else [])))
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

    # ------------------------------------------------------------------ writes
    def _json_body(self, request: Request) -> Any:
        ctype = (request.headers.get("Content-Type") or "").lower()
        if "application/json" not in ctype:
            raise ApiError(415, "Unsupported media type: send the body as application/json.")
        raw = request.get_data()
        if not raw:
            raise ApiError(400, "The request body is empty.")
        try:
            return msgspec.json.decode(raw)
        except msgspec.DecodeError as e:
            raise ApiError(400, f"Error processing request stream. The JSON in the request body is invalid: {e}") from None

    def _convert(self, ep: Endpoint, name: str, code: str, value: Any) -> Any:
        if value is None:
            return None
        bad = False
        if code in ("s", "x"):
            bad = not isinstance(value, str)
        elif code == "g":
            bad = not (isinstance(value, str) and GUID_RE.match(value))
            if not bad:
                value = value.lower()
        elif code == "d":
            if isinstance(value, str):
                try:
                    value = parse_datetime_text(value)
                except ValueError:
                    bad = True
            else:
                bad = True
        elif code == "i":
            bad = isinstance(value, bool) or not isinstance(value, int)
        elif code == "l":
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
                value = int(value)
            bad = isinstance(value, bool) or not isinstance(value, int)
        elif code == "f":
            bad = isinstance(value, bool) or not isinstance(value, (int, float))
            if not bad:
                value = float(value)
        elif code == "o":
            bad = not isinstance(value, bool)
        if bad:
            raise ApiError(400, f"Error processing request stream. The value {_encode(value).decode()} of property "
                                f"'{name}' cannot be converted to {TYPE_NAMES.get(code, code)}.")
        return value

    def _validate(self, div: int, ep: Endpoint, body: Any, create: bool, required: list[list[str]] | None,
                  lines_allowed: bool = True) -> tuple[dict[str, Any], dict[str, list]]:
        """(values to store, embedded lines by navigation name)."""
        if not isinstance(body, dict):
            raise ApiError(400, f"Error processing request stream. A JSON object of type '{ep.type_name}' is expected.")
        ds = ep.dataset
        out: dict[str, Any] = {}
        lines: dict[str, list] = {}
        for name, value in body.items():
            if name == "__metadata":
                continue
            f = ep.by_name.get(name)
            if f is None:
                raise ApiError(400, f"The property '{name}' does not exist on type '{ep.type_name}'.")
            if f.code == "n":
                link = ds.children.get(name)
                if isinstance(value, dict) and isinstance(value.get("results"), list):
                    value = value["results"]
                if value is None:
                    continue
                if not create or not lines_allowed or link is None:
                    # UNCERTAIN: updating lines through the header is not documented; refused here
                    # (use the lines endpoint).
                    raise ApiError(400, f"The navigation property '{name}' cannot be written here; use "
                                        f"the {link.lines.primary.path if link else name} endpoint.")
                if not isinstance(value, list):
                    raise ApiError(400, f"The navigation property '{name}' must be an array of lines.")
                lines[name] = value
                continue
            if f.code == "c" or f.readonly:
                # UNCERTAIN: read-only properties in a body are ignored (not an error), which lets a
                # client send back a row it read.
                continue
            if f.key:
                if create and value is not None:
                    out[name] = self._convert(ep, name, f.code, value)
                elif not create and value is not None:
                    raise ApiError(400, f"The key property '{name}' cannot be changed.")
                continue
            out[name] = self._convert(ep, name, f.code, value)
        if required:
            for group in required:
                present = any((out.get(g) not in (None, "")) or (g in lines and lines[g]) for g in group)
                if create and not present:
                    raise ApiError(400, f"Mandatory field missing: {' or '.join(group)}.")
                if not create and all(g in out and out[g] in (None, "") for g in group):
                    raise ApiError(400, f"Mandatory field cannot be emptied: {' or '.join(group)}.")
        self._check_refs(div, ds, out)
        return out, lines

    def _check_refs(self, div: int, ds: Dataset, values: dict[str, Any]) -> None:
        for name, value in values.items():
            target_id = REF_TARGETS.get(name)
            if value is None or target_id is None or ds.types.get(name) != "g":
                continue
            target = self.catalog.datasets.get(target_id)
            if target is None:
                continue
            i = self.store.index_of_key(div, target, value)
            if i is None or not self.store.exists(div, target, i):
                raise ApiError(400, f"Invalid reference: {name} '{value}' does not exist in division {div}.")

    def _derive(self, div: int, ds: Dataset, rec: dict[str, Any]) -> None:
        """Fill what Exact computes: labels of references, line amounts, numbers."""
        store = self.store
        for name in ds.types:
            if name in rec and rec[name] is not None:
                continue
            for suffix in ("FullName", "Description", "Name", "Code"):
                base = name[: -len(suffix)]
                if name.endswith(suffix) and base in rec and rec[base] is not None and base in REF_TARGETS:
                    target = self.catalog.datasets.get(REF_TARGETS[base])
                    if target is None:
                        break
                    i = store.index_of_key(div, target, rec[base])
                    if i is None:
                        break
                    from .generators import REF_LABELS
                    prop = REF_LABELS.get(target.id, ("Code", "Description"))[0 if suffix == "Code" else 1]
                    rec[name] = store.view(div, target, i).get(prop)
                    break
        if ds.id in ("salesinvoice/salesinvoicelines", "salesorder/salesorderlines"):
            items = self.catalog.datasets["logistics/items"]
            item = store.view(div, items, store.index_of_key(div, items, rec["Item"])) if rec.get("Item") else None
            if rec.get("UnitPrice") is None:
                rec["UnitPrice"] = item.get("StandardSalesPrice") if item is not None else 0.0
            if rec.get("Quantity") is None:
                rec["Quantity"] = 1.0
            if rec.get("Description") is None and item is not None:
                rec["Description"] = item.get("Description")
            if rec.get("GLAccount") is None and item is not None and "GLAccount" in ds.types:
                rec["GLAccount"] = item.get("GLRevenue")
            amount = round(rec["Quantity"] * rec["UnitPrice"] * (1 - (rec.get("Discount") or 0.0)), 2)
            rec["NetPrice"] = rec["UnitPrice"]
            for f in ("AmountFC", "AmountDC"):
                if f in ds.types:
                    rec[f] = amount
            pct = rec.get("VATPercentage") if rec.get("VATPercentage") is not None else 0.21
            rec["VATPercentage"] = pct
            for f in ("VATAmountFC", "VATAmountDC", "VATAmount"):
                if f in ds.types:
                    rec[f] = round(amount * pct, 2)
        if ds.id == "crm/accounts" and not rec.get("Code"):
            rec["Code"] = f"{store.size(div, ds) + store.created_count(div, ds) + 1:>18}"

    def _create(self, div: int, ep: Endpoint, body: Any) -> int:
        ds = ep.dataset
        with self.store.lock:
            values, lines = self._validate(div, ep, body, True, REQUIRED.get(ds.id))
            parent = None
            if ds.parent is not None:
                link = ds.parent
                hk = values.get(link.link)
                if hk is None:
                    raise ApiError(400, f"Mandatory field missing: {link.link}.")
                parent = self.store.index_of_key(div, link.header, hk)
                if parent is None or not self.store.exists(div, link.header, parent):
                    raise ApiError(400, f"Invalid reference: {link.link} '{hk}' does not exist in division {div}.")
            checked_lines = []
            for nav, items in lines.items():
                link = ds.children[nav]
                lines_ep = link.lines.primary
                for n, line in enumerate(items, 1):
                    lv, _ = self._validate(div, lines_ep, line, True, EMBEDDED_LINE_REQUIRED, lines_allowed=False)
                    lv.pop(link.link, None)
                    checked_lines.append((link, n, lv))
            self._derive(div, ds, values)
            if ds.id == "salesinvoice/salesinvoices":
                values.setdefault("InvoiceNumber", None)
                values["InvoiceNumber"] = values["InvoiceNumber"] or 24_000_000 + self.store.size(div, ds) + \
                    self.store.created_count(div, ds) + 1
                values["Status"] = values.get("Status") or 20
                values["Type"] = values.get("Type") or 8020
                values.setdefault("Currency", "EUR")
                values["Currency"] = values["Currency"] or "EUR"
            if ds.id == "salesorder/salesorders":
                values["OrderNumber"] = values.get("OrderNumber") or 5_000 + self.store.size(div, ds) + \
                    self.store.created_count(div, ds) + 1
                values["Status"] = values.get("Status") or 12
                values["Currency"] = values.get("Currency") or "EUR"
            if ds.parent is not None and "LineNumber" in ds.types:
                values["LineNumber"] = len(self.store.child_indexes(div, ds, parent)) + 1
            i = self.store.create(div, ds, values, parent=parent)
            header_key = self.store.key_of(div, ds, i)
            for link, n, lv in checked_lines:
                lv[link.link] = header_key
                if "LineNumber" in link.lines.types:
                    lv["LineNumber"] = n
                self._derive(div, link.lines, lv)
                self.store.create(div, link.lines, lv, parent=i)
            if checked_lines:
                self._update_totals(div, ds, i)
            elif parent is not None:
                self._update_totals(div, ds.parent.header, parent)
            return i

    def _update_totals(self, div: int, header: Dataset, i: int) -> None:
        """Header amounts are the sum of their lines (SalesInvoices / SalesOrders)."""
        link = next(iter(header.children.values()), None) if header.children else None
        if link is None or header.id not in ("salesinvoice/salesinvoices", "salesorder/salesorders"):
            return
        excl = vat = 0.0
        for li in self.store.child_indexes(div, link.lines, i):
            v = self.store.view(div, link.lines, li)
            excl += v.get("AmountFC") or 0.0
            vat += (v.get("VATAmountFC") if "VATAmountFC" in link.lines.types else v.get("VATAmount")) or 0.0
        changes = {"AmountFCExclVat": round(excl, 2), "AmountFC": round(excl + vat, 2),
                   "AmountDC": round(excl + vat, 2), "VATAmountFC": round(vat, 2), "VATAmountDC": round(vat, 2)}
        self.store.update(div, header, i, {k: v for k, v in changes.items() if k in header.types}, cascade=False)

    def _post(self, request: Request, div: int, ep: Endpoint, fmt: str) -> Response:
        body = self._json_body(request)
        if ep.kind in ("sync", "bulk", "read") or ep.dataset.id in DIVISION_TABLES or ep.dataset.id == DELETED_ID:
            raise ApiError(405, "The HTTP method 'POST' is not allowed on this resource.", {"Allow": "GET"})
        i = self._create(div, ep, body)
        prefer = (request.headers.get("Prefer") or "").lower().replace(" ", "")
        with self.store.lock:
            full = self._row(div, ep, i, None, request)
        headers = {"DataServiceVersion": "2.0;", "Location": full["__metadata"]["uri"]}
        if "return=representation" in prefer:
            headers["Preference-Applied"] = "return=representation"
            row = full
        else:
            # §2.8 / basvanbeek.nl: without "Prefer: return=representation" the created entity comes
            # back with its properties NULL. Our reading: the key and the properties the client sent
            # are filled (clients take the new ID from it), everything else is null.
            sent = {k for k in body if isinstance(body, dict)}
            row = {}
            for name, value in full.items():
                if name == "__metadata" or name == ep.key or name in sent:
                    row[name] = value
                elif isinstance(value, dict):
                    row[name] = value
                else:
                    row[name] = None
        # §2.8: 201 Created with {"d": {…}}. UNCERTAIN: 201 vs 200 (standard OData answers 201).
        if fmt == "json":
            return json_response({"d": row}, 201, headers)
        resp = self._atom(request, ep, [row], None, single=True)
        resp.status_code = 201
        return resp

    def _put(self, request: Request, div: int, ep: Endpoint, i: int) -> Response:
        body = self._json_body(request)
        ds = ep.dataset
        with self.store.lock:
            values, _ = self._validate(div, ep, body, False, REQUIRED.get(ds.id))
            current = self.store.view(div, ds, i)
            merged = {k: current.get(k) for k in ds.types if k in ds.own_fields or ds.parent is None}
            merged.update(values)
            for name in list(merged):  # labels of references that change are recomputed
                for suffix in ("FullName", "Description", "Name", "Code"):
                    base = name[: -len(suffix)]
                    if name.endswith(suffix) and base in values and base in REF_TARGETS and name not in values:
                        merged[name] = None
            self._derive(div, ds, merged)
            values = {k: v for k, v in merged.items() if k in values or current.get(k) != v}
            self.store.update(div, ds, i, values)
            if ds.parent is not None:
                p = self.store.parent_index(div, ds, i)
                if p is not None:
                    self._update_totals(div, ds.parent.header, p)
        # §2.8: PUT answers an empty body (204 presumed; body emptiness is confirmed by [OSSO]).
        return Response(status=204)
