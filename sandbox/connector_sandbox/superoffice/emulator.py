"""SuperOffice CRM Online emulator (REST WebAPI v1), on the shared kit.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §1 and the SuperOfficeDocs pages it
cites; the API surface is ``api_catalog.json`` (``scripts/generators/superoffice_emulator.py``).

Hosts. SuperOffice has two kinds of host: the environment host (``sod`` / ``qaonline`` / ``online``
.superoffice.com) for authentication and the tenant state, and the numbered tenant host (``online2``,
``sod2``, ``app``...) for the API. On the one loopback server the FIRST PATH SEGMENT plays the
subdomain::

    {url}/{environment}/login/.well-known/openid-configuration      (https://online.superoffice.com/login/...)
    {url}/{environment}/login/common/oauth/authorize | tokens | revoke
    {url}/{environment}/api/state/{tenant}
    {url}/{cluster}/{tenant}/api                                    (https://online2.superoffice.com/Cust12345/api)
    {url}/{cluster}/{tenant}/api/v1/...

so a client's base URL ``https://online.superoffice.com`` becomes ``{url}/online`` and the state's
``Api`` is ``{url}/online2/Cust12345/api``. An API call through the environment host or another
cluster than the tenant's (after ``move_tenant``) answers **421** "Wrong subdomain used to access
tenant" (check-status.mdx, since 2023-11-17).

Order of checks on an API request: host (421) -> bearer token (401) -> tenant state (503 unless
Running / OnlineMaintenance) -> throttle (429) -> route (404 / 405) -> query or body (400 / 415).

Throttling: the docs publish no limit and no headers; the custom-app checklist says no more than 10
calls per second. UNCERTAIN reading: more than ``requests_per_second`` (10) requests of one app and
tenant within any second (sliding, on real time) -> 429 with SuperOffice's error body and NO
``Retry-After`` (none is published; ``retry_after="seconds"`` adds one), so a client must back off
by itself. ``requests_per_second=None`` turns it off.

The list endpoints are :mod:`.lists` (``/Contact``, ``/Archive/{provider}``, and the lists under one
entity, ``/Contact/{id}/Persons``: the provider the Swagger description names, restricted to the
entity's id), the entity endpoints :mod:`.entities`, the data :mod:`.data`.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from typing import Any

from werkzeug.wrappers import Request, Response

from ..clock import Clock
from ..control import Rows
from ..oauth import AuthorizationServer, OAuthControl
from ..quota import MonotonicClock, Quota, Window
from ..responses import json_response
from ..server import SandboxServer
from .auth import authenticate, superoffice_token_rules, token_extras
from .catalog import Catalog, Entity, load_catalog
from .data import SuperOfficeStore, iso
from .entities import Entities
from .errors import ApiError, error_body, error_response, not_found
from .lists import ListQuery

DEFAULT_CLIENT_ID = "c789b7d98f3c496fb5aaa4b1a81ca11b"
DEFAULT_CLIENT_SECRET = "sandbox-application-token"
DEFAULT_TENANT = "Cust12345"
DEFAULT_ENVIRONMENT = "online"
DEFAULT_CLUSTER = "online2"
USER_EMAIL = "sandbox.admin@sandbox.test"
RUNNING_STATES = ("Running", "OnlineMaintenance")
STATES = {"Unknown": 0, "Provisioning": 1, "Running": 2, "Deleted": 3, "Suspended": 4, "OnlineMaintenance": 5,
          "OfflineMaintenance": 6, "ProvisioningFailed": 8, "Deleting": 10, "DeleteFailed": 11, "MigrationPending": 12}
VERSION = "Release_11.10_2026.02.24-02"
TOUCH_FIELDS = ("Name", "Heading", "Title", "Header", "Description")


class SuperOfficeRows(Rows):
    """The control plane's tables: a provider or an entity name (``Contact``, ``SimpleContact``,
    ``/api/v1/Contact``); ``get``/``create`` speak the entity's JSON."""

    catalog: Catalog
    store: SuperOfficeStore

    def _provider(self, path: str) -> str:
        return self.store.resolve(path)

    def _entity(self, path: str) -> Entity:
        provider = self._provider(path)
        entity = self.catalog.entity_of_provider(provider)
        if entity is None:
            raise KeyError(f"{path}: the sandbox writes {', '.join(self.catalog.entities)} only")
        return entity

    def set_size(self, path: str, n: int, tenant: Any) -> None:
        self.store.set_size(self._provider(path), n)

    def count(self, path: str, tenant: Any) -> int:
        name = self._provider(path)
        return self.store.table_listing(name, 1, self.store.size(name), lambda i, rec: self.store.present(rec)).count()

    def get(self, path: str, row_id: Any, tenant: Any) -> dict[str, Any] | None:
        entity = self._entity(path)
        rec = self.store.live(entity.provider or "", int(row_id))
        return None if rec is None else self.sandbox.entities.view(entity, int(row_id), rec, self.sandbox.rest_url)

    def touch(self, path: str, row_id: Any, field: str | None, tenant: Any) -> Any:
        name, i = self._provider(path), int(row_id)
        with self.store.lock:
            rec = self.store.record(name, i)
            if rec is None or rec.get("_deleted_at") is not None:
                raise KeyError(f"{path} {row_id} not found")
            rec = dict(rec)
            prop = field or next((f for f in TOUCH_FIELDS if f in rec), None)
            if prop is not None:
                rec[prop] = f"{rec.get(prop) or ''} *"
            rec["_updated"] = self.store.now()
            if "UpdatedBy" in rec:
                rec["UpdatedBy"] = 1
            self.store.write(name, i, rec)
        return i

    def create(self, path: str, record: dict[str, Any], tenant: Any) -> dict[str, Any]:
        entity = self._entity(path)
        try:
            i = self.sandbox.entities.create(entity, "application/json", _json_bytes(record), 1)
        except ApiError as exc:
            raise ValueError(exc.message) from None
        return self.get(path, i, tenant) or {}

    def delete(self, path: str, row_id: Any, tenant: Any) -> bool:
        entity = self._entity(path)
        try:
            self.sandbox.entities.delete(entity, int(row_id))
        except ApiError:
            return False
        return True


def _json_bytes(obj: Any) -> bytes:
    import msgspec
    return msgspec.json.encode(obj)


class SuperOfficeSandbox(OAuthControl, SandboxServer):
    """A strict, deterministic SuperOffice CRM Online emulator on loopback (see the module docstring)."""

    vendor = "superoffice"
    logged_headers = ("Authorization", "Accept", "Content-Type", "User-Agent", "SO-Language", "SO-TimeZone")

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int = 42, sizes: dict[str, int] | None = None,
                 default_size: int = 25, client_id: str = DEFAULT_CLIENT_ID,
                 client_secret: str = DEFAULT_CLIENT_SECRET, redirect_uri: str | None = None,
                 tenant: str = DEFAULT_TENANT, environment: str = DEFAULT_ENVIRONMENT, cluster: str = DEFAULT_CLUSTER,
                 access_token_ttl: float = 3600.0, requests_per_second: int | None = 10,
                 retry_after: str | None = None, max_top: int = 1000, default_top: int = 50,
                 state_valid_seconds: float = 3600.0, verbose: bool = False, clock: Clock | None = None,
                 catalog: Catalog | None = None) -> None:
        super().__init__(host, port, verbose=verbose, clock=clock)
        self.catalog = catalog or load_catalog()
        self.seed = int(seed)
        self.client_id, self.client_secret = client_id, client_secret
        self.tenant, self.environment, self.cluster = tenant, environment, cluster
        self.state = "Running"
        self.max_top, self.default_top = int(max_top), int(default_top)
        self.state_valid_seconds = float(state_valid_seconds)
        self.user_email = USER_EMAIL
        self.store = SuperOfficeStore(self.catalog, seed, sizes or {}, default_size, self.clock)
        self.entities = Entities(self.store, self.catalog)
        self.rows = SuperOfficeRows(self)
        env = f"/{environment}"
        self.oauth = AuthorizationServer(
            self.clock, superoffice_token_rules(tenant, access_token_ttl), seed=seed, client_id=client_id,
            client_secret=client_secret, redirect_uri=redirect_uri, user_id=USER_EMAIL,
            routes={f"{env}/login/common/oauth/authorize": "authorize", f"{env}/login/common/oauth/tokens": "token",
                    f"{env}/login/common/oauth/revoke": "revoke"}, token_extras=token_extras(self))
        self.throttle = Quota(MonotonicClock(), [Window("second", requests_per_second, 1.0, aligned=False)],
                              retry_after=retry_after, refusal_body=lambda d: error_body(
                                  "TooManyRequests", "Too many requests: this application made more than "
                                  f"{self.throttle.limit('second')} calls per second to {self.tenant}."))

    # ------------------------------------------------------------------ URLs
    @property
    def environment_url(self) -> str:
        """The environment host (``https://online.superoffice.com``): login and tenant state."""
        return f"{self.url}/{self.environment}"

    @property
    def authorize_url(self) -> str:
        return f"{self.environment_url}/login/common/oauth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.environment_url}/login/common/oauth/tokens"

    @property
    def state_url(self) -> str:
        return f"{self.environment_url}/api/state/{self.tenant}"

    @property
    def tenant_url(self) -> str:
        """The state's ``Endpoint`` (``https://online2.superoffice.com/Cust12345``)."""
        return f"{self.url}/{self.cluster}/{self.tenant}"

    @property
    def api_url(self) -> str:
        """The state's ``Api`` (``…/Cust12345/api``); the REST base is ``api_url + "/v1"``."""
        return f"{self.tenant_url}/api"

    @property
    def rest_url(self) -> str:
        return f"{self.api_url}/v1"

    # ------------------------------------------------------------------ control
    def move_tenant(self, cluster: str) -> None:
        """The tenant moves to another cluster: the old prefix answers 421, the state the new ``Api``."""
        self.cluster = cluster

    def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        self.state = state

    def revoke_consent(self) -> int:
        """The tenant revokes the app: refresh tokens get ``invalid_grant``, access tokens 401."""
        return self.oauth.revoke_all()

    def expire_access_tokens(self) -> int:
        return self.expire_tokens()

    def purge_deleted(self) -> int:
        """Hard-delete the soft-deleted rows now (instead of 14 days later)."""
        return self.store.purge_deleted()

    def set_throttle(self, requests_per_second: int | None, retry_after: str | None = None) -> None:
        self.throttle.configure("second", requests_per_second, retry_after=retry_after)
        self.throttle.clear_usage()

    def control_extra(self, action: str, request: Request, body: dict[str, Any]) -> Response | None:
        if request.method == "POST":
            if action == "move-tenant":
                self.move_tenant(str(body["cluster"]))
                return json_response({"ok": True, "api": self.api_url})
            if action == "state":
                self.set_state(str(body["state"]))
                return json_response({"ok": True, "state": self.state})
            if action == "revoke-consent":
                return json_response({"revoked": self.revoke_consent()})
            if action == "purge-deleted":
                return json_response({"purged": self.purge_deleted()})
            if action == "throttle":
                self.set_throttle(body.get("requests_per_second"), body.get("retry_after"))
                return json_response({"ok": True, "requests_per_second": self.throttle.limit("second")})
        return super().control_extra(action, request, body)

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        out["superoffice"] = {**self.oauth.counters, "throttled": self.throttle.rejected["second"],
                              "rows_scanned": self.store.scanned, "mutations": self.store.mutations}
        return out

    def reset_stats(self) -> None:
        """The request log and every counter of :meth:`stats` (the OAuth ones too) back to zero."""
        super().reset_stats()
        self.store.scanned = 0
        with self.oauth._lock:
            for name in self.oauth.counters:
                self.oauth.counters[name] = 0
        with self.throttle._lock:  # the refusals counted; what each app used this second stays
            self.throttle.rejected.clear()

    # ------------------------------------------------------------------ kit hooks
    def _split(self, path: str) -> list[str]:
        return [urllib.parse.unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []

    def api_relative_path(self, path: str) -> str:
        segs = self._split(path)
        if len(segs) >= 3 and segs[1].lower() == self.tenant.lower():
            return "/" + "/".join(segs[2:])
        if segs and segs[0].lower() == self.environment.lower():
            return "/" + "/".join(segs[1:])
        return path

    def is_data_path(self, path: str) -> bool:
        segs = self._split(path)
        return len(segs) >= 4 and segs[1].lower() == self.tenant.lower() and segs[2].lower() == "api"

    def fault_response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        if body is None:
            body = error_body("InjectedFault", f"Injected fault: HTTP {status}")
        return super().fault_response(status, body, headers)

    def internal_error_response(self, exc: Exception) -> Response:
        return error_response(500, "Exception", f"sandbox internal error: {exc!r}")

    def rate_limited_response(self, retry_after_seconds: int, retry_after_header: str) -> Response:
        return error_response(429, "TooManyRequests", "Too many requests.", headers={"Retry-After": retry_after_header})

    # ------------------------------------------------------------------ HTTP
    def handle_api(self, request: Request) -> Response:
        try:
            return self._handle(request)
        except ApiError as exc:
            return exc.response()

    def _handle(self, request: Request) -> Response:
        segs = self._split(request.path)
        if segs and segs[0].lower() == self.environment.lower():
            return self._environment(request, segs[1:])
        if len(segs) >= 2 and segs[1].lower() == self.tenant.lower():
            if segs[0].lower() != self.cluster.lower():
                raise self._wrong_subdomain()
            if len(segs) < 3 or segs[2].lower() != "api":
                raise ApiError(404, "NotFound", f"No such resource: {request.path}")
            return self._tenant_api(request, segs[3:])
        raise ApiError(404, "NotFound", f"No such resource: {request.path}")

    def _wrong_subdomain(self) -> ApiError:
        return ApiError(421, "MisdirectedRequest", "Wrong subdomain used to access tenant. Look up the tenant's "
                        f"current Api with GET {self.state_url}.")

    # -- environment host
    def _environment(self, request: Request, rest: list[str]) -> Response:
        low = [s.lower() for s in rest]
        if low[:3] == ["login", "common", "oauth"]:
            if low[3:] == ["authorize"]:
                refused = self._authorize_checks(request)
                if refused is not None:
                    return refused
            answer = self.oauth.handle(request)
            if answer is not None:
                return answer
            return json_response({"error": "invalid_request", "error_description": "Unknown OAuth endpoint."}, 404)
        if low == ["login", ".well-known", "openid-configuration"]:
            request.environ["sandbox.route"] = "/{env}/login/.well-known/openid-configuration"
            return json_response(self._discovery())
        if low == ["login", ".well-known", "jwks"]:
            return json_response({"keys": []})
        if low[:2] == ["api", "state"] and len(rest) == 3:
            request.environ["sandbox.route"] = "/{env}/api/state/{tenant}"
            return json_response(self._state(rest[2]))
        if len(rest) >= 2 and low[0] == self.tenant.lower():
            raise self._wrong_subdomain()  # the API through the authentication host
        raise ApiError(404, "NotFound", f"No such resource: {request.path}")

    def _authorize_checks(self, request: Request) -> Response | None:
        args = request.args
        if args.get("client_id") != self.client_id or not args.get("redirect_uri"):
            return None  # the authorization server answers these itself (no redirect)
        error = None
        if "openid" not in (args.get("scope") or "").split():
            error = ("invalid_scope", "scope must be openid")
        acr = args.get("acr_values")
        if error is None and acr:
            tenants = [v.split(":", 1)[1] for v in acr.split() if v.lower().startswith("tenant:")]
            if tenants and tenants[0].lower() != self.tenant.lower():
                error = ("access_denied", f"unknown tenant {tenants[0]}")
        if error is None:
            return None
        params = {"error": error[0], "error_description": error[1]}
        if args.get("state") is not None:
            params["state"] = args["state"]
        redirect = args["redirect_uri"]
        sep = "&" if "?" in redirect else "?"
        return Response(status=302, headers={"Location": redirect + sep + urllib.parse.urlencode(params)})

    def _discovery(self) -> dict[str, Any]:
        base = self.environment_url
        return {"issuer": base, "authorization_endpoint": self.authorize_url, "token_endpoint": self.token_url,
                "revocation_endpoint": f"{base}/login/common/oauth/revoke", "jwks_uri": f"{base}/login/.well-known/jwks",
                "scopes_supported": ["openid"], "response_modes_supported": ["form_post", "fragment", "query"],
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["HS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256", "plain"]}

    def _state(self, tenant: str) -> dict[str, Any]:
        valid = dt.datetime.fromtimestamp(self.clock.timestamp() + self.state_valid_seconds, tz=dt.timezone.utc)
        stamp = valid.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
        if tenant.lower() != self.tenant.lower():
            return {"ContextIdentifier": tenant, "Endpoint": None, "State": "Unknown", "IsRunning": False,
                    "ValidUntil": stamp, "Api": None, "Version": None}
        return {"ContextIdentifier": self.tenant, "Endpoint": self.tenant_url, "State": self.state,
                "IsRunning": self.state in RUNNING_STATES, "ValidUntil": stamp, "Api": self.api_url, "Version": VERSION}

    # -- tenant host
    def _tenant_api(self, request: Request, rest: list[str]) -> Response:
        chain = authenticate(self.oauth, request, self.client_secret)
        if self.state not in RUNNING_STATES:
            raise ApiError(503, "TenantNotRunning", f"The tenant {self.tenant} is not available: {self.state}.")
        decision = self.throttle.check((chain.client_id, self.tenant))
        if not decision.allowed:
            request.environ["sandbox.rate_limited"] = True
            return self.throttle.refusal(decision, self.clock.timestamp())
        method = request.method
        low = [s.lower() for s in rest]
        if not rest:
            self._route(request, "/api", ("GET",))
            return json_response({"v1": f"{self.rest_url}/", "NetServerVersion": "11.10.721.0",
                                  "NetServerLabel": VERSION, "Version": "v1",
                                  "Documentation": "https://docs.superoffice.com/en/api/"})
        if low[0] != "v1":
            raise ApiError(404, "NotFound", f"No such resource: {request.path}")
        rest, low = rest[1:], low[1:]
        if not rest:
            self._route(request, "/api/v1", ("GET",))
            return json_response({name: f"{self.rest_url}/{name}" for name in self.catalog.list_endpoints})
        if low == ["user", "currentprincipal"]:
            self._route(request, "/api/v1/User/currentPrincipal", ("GET",))
            return json_response({"Associate": "SAL", "AssociateId": 1, "FullName": "Sandbox Admin",
                                  "EMailAddress": self.user_email, "ContextIdentifier": self.tenant,
                                  "UserType": "InternalAssociate", "PersonId": 0, "ContactId": 0})
        if low[0] == "archive":
            if len(rest) == 1:
                self._route(request, "/api/v1/Archive", ("GET",))
                return json_response(sorted(self.catalog.providers))
            provider = self.catalog.provider(rest[1])
            if provider is None or len(rest) > 2:
                raise ApiError(404, "NotFound", f"Unknown archive provider '{'/'.join(rest[1:])}'")
            self._route(request, "/api/v1/Archive/{provider}", ("GET", "POST"))
            args = request.args.to_dict() if method == "GET" else {**request.args.to_dict(), **request.form.to_dict()}
            return self._list(request, provider.name, args, "archive")
        if low[0] == "list" and len(rest) == 3 and low[2] == "items":
            name = self.catalog.lookup_list(rest[1])
            if name is None:
                raise ApiError(404, "SoNotFoundException", f"List '{rest[1]}' not found")
            self._route(request, "/api/v1/List/{name}/Items", ("GET",))
            include_deleted = (request.args.get("includeDeleted") or "").lower() == "true"
            items = [i for i in self.store.list_items(name) if include_deleted or not i.get("Deleted")]
            return json_response(items)
        entity = self.catalog.entity(rest[0])
        listed = self.catalog.list_endpoint(rest[0])
        if len(rest) == 1:
            if entity is None and listed is None:
                raise ApiError(404, "NotFound", f"No such resource: {request.path}")
            allowed = ("GET", "POST") if entity is not None else ("GET",)
            self._route(request, f"/api/v1/{(entity.name if entity else listed[0])}", allowed)  # type: ignore[index]
            if method == "GET":
                if listed is None:
                    raise ApiError(405, "MethodNotAllowed", "GET is not allowed here", headers={"Allow": "POST"})
                return self._list(request, listed[1], request.args.to_dict(), "entity")
            assert entity is not None
            i = self.entities.create(entity, request.mimetype, request.get_data(), chain_user(chain))
            return self._entity_answer(entity, i)
        if entity is not None and len(rest) == 3 and re.fullmatch(r"\d{1,10}", rest[1]):
            related = self.catalog.related_list(entity.name, rest[2])
            if related is not None:
                name, provider_name, column = related
                self._route(request, f"/api/v1/{entity.name}/{{id}}/{name}", ("GET",))
                return self._related(request, provider_name, column, int(rest[1]))
        if entity is None or len(rest) > 2:
            raise ApiError(404, "NotFound", f"No such resource: {request.path}")
        if low[1] == "default":
            self._route(request, f"/api/v1/{entity.name}/default", ("GET",))
            return json_response(self.entities.view(entity, 0, {}, self.rest_url))
        if not re.fullmatch(r"\d{1,10}", rest[1]):
            raise not_found(entity.name, rest[1])
        i = int(rest[1])
        self._route(request, f"/api/v1/{entity.name}/{{id}}", entity.item_methods)
        user = chain_user(chain)
        if method == "GET":
            rec = self.store.live(entity.provider or "", i)
            if rec is None:
                raise not_found(entity.name, i)
            return json_response(self.entities.view(entity, i, rec, self.rest_url))
        if method == "PUT":
            self.entities.replace(entity, i, request.mimetype, request.get_data(), user)
        elif method == "PATCH":
            self.entities.patch(entity, i, request.mimetype, request.get_data(), user, self.rest_url)
        else:
            self.entities.delete(entity, i)
            return Response(status=204)
        return self._entity_answer(entity, i)

    def _entity_answer(self, entity: Entity, i: int) -> Response:
        rec = self.store.live(entity.provider or "", i) or {}
        return json_response(self.entities.view(entity, i, rec, self.rest_url))

    @staticmethod
    def _route(request: Request, route: str, allowed: tuple[str, ...]) -> None:
        request.environ["sandbox.route"] = route
        if request.method not in allowed:
            raise ApiError(405, "MethodNotAllowed", f"The method {request.method} is not allowed on {route}",
                           headers={"Allow": ", ".join(allowed)})

    def _related(self, request: Request, provider: str, column: str, parent: int) -> Response:
        """``GET /api/v1/Contact/5/Persons``: the provider's list restricted to ``contactId eq 5``
        (the Swagger description: "Calls the Archive service using the "Person" archive provider"),
        with the query options of an entity list; ``odata.nextLink`` (no ``$top``) points at the
        same URL. UNCERTAIN: an unknown or deleted parent answers an empty list, not 404 (the
        archive is only restricted by the id)."""
        args = request.args.to_dict()
        own = next((v for k, v in args.items() if k.lower() == "$filter"), "").strip()
        restricted = {k: v for k, v in args.items() if k.lower() != "$filter"}
        restricted["$filter"] = f"{column} eq {parent}" + (f" and ({own})" if own else "")
        query = ListQuery(self.store, self.catalog.providers[provider], restricted, "entity", max_top=self.max_top,
                          default_top=self.default_top, current_associate=1)
        with self.store.lock:
            body = query.run(request.base_url, args, f"{self.rest_url}/$metadata")
        return json_response(body)

    def _list(self, request: Request, provider: str, args: dict[str, str], kind: str) -> Response:
        query = ListQuery(self.store, self.catalog.providers[provider], args, kind, max_top=self.max_top,
                          default_top=self.default_top, current_associate=1)
        with self.store.lock:
            body = query.run(request.base_url, args, f"{self.rest_url}/$metadata")
        return json_response(body)


def chain_user(chain: Any) -> int:
    """The associate id of a consent's user (the sandbox has one user: associate 1)."""
    return 1


__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_CLUSTER", "DEFAULT_ENVIRONMENT", "DEFAULT_TENANT",
           "SuperOfficeSandbox", "iso"]
