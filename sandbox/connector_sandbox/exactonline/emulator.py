"""Exact Online REST API emulator.

Contract: ``shared/vendors/connectwise-exactonline.md`` §2 (cited as §2.x). One host serves OAuth
(``/api/oauth2/…``) and the API (``/api/v1/{division}/…``, ``/api/v1/beta/{division}/…``,
``/api/v1/current/Me``). Every endpoint of the catalog (451) is routed; rows come from
:class:`~.data.DataStore`, listings from :class:`~.query.Lister`. This module routes and checks; the
answers are in :mod:`.reads` and :mod:`.writes`, OAuth is the shared authorization server with
Exact's rules (:mod:`.auth`), the budgets are shared quotas.

Order of checks on an API request: bearer token (401) -> division access (403 + ``Reason``) ->
error block (429) -> minutely/daily budget (429) -> ``Accept`` (406) -> endpoint (404) ->
method (405) -> query options / body (400) -> the answer. Every answer that passed the budget
carries the six ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from ..clock import Clock
from ..oauth import AuthorizationServer, OAuthControl
from ..quota import ErrorAllowance, Quota, Window
from ..responses import json_response
from ..server import SandboxServer
from .auth import AUTH_PATH, TOKEN_PATH, authenticate, exact_token_rules
from .catalog import Catalog, Dataset, Endpoint, load_catalog
from .data import DELETED_ID, DataStore, GuidCodec, stable_hash
from .errors import ApiError, error_body, error_response
from .odata import TYPE_NAMES, ODataError, WallClock, parse_literal_list
from .query import Lister
from .reads import ReadEndpoints
from .rows import ExactOnlineRows
from .writes import WriteEndpoints

DEFAULT_CLIENT_ID = "5f1d3c2a-7b8e-4f60-9a1b-2c3d4e5f6a7b"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_DIVISIONS = (100001, 100002, 100003)
DEFAULT_INACCESSIBLE = (100009,)
USER_NAME = "Sanne de Vries"
DAY = 86400


class ExactOnlineSandbox(OAuthControl, ReadEndpoints, WriteEndpoints, SandboxServer):
    """A strict, deterministic Exact Online emulator on loopback.

    ``sizes`` maps an endpoint or table (``"crm/Accounts"``, ``"financial/TransactionLines"``,
    ``"bulk/CRM/Accounts"``…) to its number of rows per division; for a lines table
    (``salesinvoice/SalesInvoiceLines``) the number of lines per header.
    """

    vendor = "exactonline"
    tenant_name = "division"
    row_id_name = "key"
    logged_headers = ("Authorization", "Accept", "Content-Type", "Prefer", "User-Agent")

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
                 access_token_ttl: float = 600.0, min_refresh_age: float | None = None,
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
        self.rows = ExactOnlineRows(self)
        self.oauth = AuthorizationServer(
            self.clock, exact_token_rules(access_token_ttl, min_refresh_age, revoke_chain_on_reuse), seed=seed,
            client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri, user_id=self.user_id,
            routes={AUTH_PATH: "authorize", TOKEN_PATH: "token"})
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
        return self.url + AUTH_PATH

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def api_relative_path(self, path: str) -> str:
        m = re.match(r"^/api/v1/(?:beta/)?(?:\d+/)?(.*)$", path, re.I)
        return "/" + m.group(1) if m else path

    def is_data_path(self, path: str) -> bool:
        return path.lower().startswith("/api/v1/")

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

    def key_of(self, path: str, index: int, division: int | None = None) -> Any:
        """Primary key (guid) of the ``index``-th base row (1-based) of a table."""
        ds = self.catalog.dataset_for(path)
        return self.store.key_of(self.rows.division(division), ds, int(index))

    def control_extra(self, action: str, request: Request, body: dict[str, Any]) -> Response | None:
        if action == "limits" and request.method == "POST":
            kw = {k: body[k] for k in ("minutely", "daily") if k in body}
            self.set_limits(**kw, empty_429_body=body.get("empty_429_body"), headers_on_429=body.get("headers_on_429"))
            if body.get("reset"):
                self.reset_limits()
            return json_response({"ok": True, "minutely": self.limits.limit("minutely"), "daily": self.limits.limit("daily"),
                                  "empty_429_body": self.empty_429_body, "headers_on_429": self.headers_on_429})
        return super().control_extra(action, request, body)

    # ------------------------------------------------------------------ HTTP entry
    def handle_api(self, request: Request) -> Response:
        path = request.path
        low = path.lower()
        if low.startswith("/api/oauth2/"):
            return self.oauth.handle(request) or json_response(
                {"error": "invalid_request", "error_description": "Unknown OAuth endpoint."}, 404)
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
        return error_response(status, message, fmt, headers)

    def _authenticate(self, request: Request) -> Any:
        return authenticate(self.oauth, request)

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
