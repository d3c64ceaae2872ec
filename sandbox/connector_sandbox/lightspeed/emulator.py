"""Lightspeed Retail X-Series emulator (API 2.0 with its 0.9 and 2.1 writes), on the shared kit.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §2.0-2.1; the API surface is
``api_catalog.json`` (``scripts/generators/lightspeed.py`` from the OpenAPI document and the Postman
collection). The store's host ``https://{domain_prefix}.retail.lightspeed.app`` is the server's URL:

* ``{url}/api/2.0/...``: every list, item and write of the catalog; ``{url}/api/2.1/products/{id}``
  (PUT, the product update, body ``{"common": {...}, "details": {...}}``); ``{url}/api/register_sales``
  (POST, 0.9: creates a sale); ``{url}/api/1.0/token`` (OAuth token endpoint, form body only) and
  ``{url}/connect`` (the consent page of ``secure.retail.lightspeed.app``, granted at once).
* Authentication: ``Authorization: Bearer`` with a personal token (``tokens``) or an OAuth access
  token; refresh tokens rotate, the old one dies (since 2025-03). A token in the URL
  (``access_token=``) is refused (deprecated since 2017). 401 ``{"error", "message"}``.
* Rate limit (§2.1 [XS-RL]): ``300 × registers + 50`` requests per 5 minutes for the store (the
  registers counted live); every API answer carries ``X-RateLimit-Limit``/``X-RateLimit-Remaining``;
  over it, 429 ``{"error": "Too Many Requests", "message": "Rate limiting enforced"}`` with
  ``Retry-After`` as an HTTP date (RFC 1123, on the wall clock). UNCERTAIN readings: a sliding
  window on real time; no reset header (none is documented).
* Version lists: ``after`` (exclusive, default 0), ``before``, ``page_size`` (capped silently at
  ``max_page_size``, so a page may be shorter than asked and is not the end), ``deleted=true`` where
  the document offers it; ``{"data": [...], "version": {"min", "max"}}``; the end is an empty page
  (``"version": null``, UNCERTAIN). The other query parameters the document lists for the endpoint
  filter on the row field of that name when rows have it; a parameter it does not list is a 400
  (UNCERTAIN: the docs do not say; refused so a client relying on an undocumented one is caught).
* Writes: the document's status codes and answer shapes (``{"data": obj}``, ``{"data": id}``,
  ``{"data": [ids]}``, 204); bodies checked against the request model: not JSON 400; an unknown
  field, a wrong type, a required field missing (on PUT too, UNCERTAIN), both product prices: 422
  ``{"error", "message"}``. Deletions are soft (``deleted_at``). Money is exact: bodies are read with
  decimals and answered as the JSON numbers they were.
"""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from typing import Any

import msgspec
from werkzeug.wrappers import Request, Response

from ..clock import Clock
from ..control import Rows
from ..oauth import AuthorizationServer, Chain, OAuthControl, TokenRules
from ..quota import MonotonicClock, Quota, Window
from ..server import SandboxServer
from .data import LightspeedStore, iso

CATALOG_PATH = "api_catalog.json"
DEFAULT_TOKEN = "sandbox-personal-token"
DEFAULT_CLIENT_ID = "sandbox-lightspeed-app"
DEFAULT_CLIENT_SECRET = "sandbox-lightspeed-secret"
DEFAULT_DOMAIN_PREFIX = "sandbox"
API = "/api/2.0"
PRODUCT_UPDATE = re.compile(r"^/api/2\.1/products/([^/]+)$")
REGISTER_SALES = "/api/register_sales"
KINDS = {"string": (str,), "integer": (int,), "number": (int, Decimal), "boolean": (bool,), "array": (list,),
         "object": (dict,)}
TOUCH_FIELDS = ("name", "first_name", "note", "description")
_encode = msgspec.json.Encoder(decimal_format="number").encode


def load_catalog() -> dict[str, Any]:
    from importlib.resources import files
    return json.loads(files(__package__).joinpath(CATALOG_PATH).read_text(encoding="utf-8"))


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    resp = Response(b"" if body is None else _encode(body), status=status,
                    content_type=None if body is None else "application/json; charset=utf-8")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


class ApiError(Exception):
    """An answer other than success: status, Lightspeed's ``error`` and ``message``."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers or {}

    def response(self) -> Response:
        return answer({"error": self.error, "message": self.message}, self.status, self.headers)


def invalid(message: str) -> ApiError:
    return ApiError(422, "Unprocessable Entity", message)


def wrong_type(value: Any, kind: str) -> bool:
    """Whether a non-null body value is not of the model's type (a bool is no number)."""
    kinds = KINDS.get(kind)
    return bool(kinds) and (not isinstance(value, kinds) or (isinstance(value, bool) and kind != "boolean"))


def template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$")


def lightspeed_token_rules(ttl: float) -> TokenRules:
    # §2.1 [XS-AUTH][XS-CHG]: form body only; the refresh token rotates and the old one is revoked.
    return TokenRules(access_ttl=ttl, rotate_refresh_token=True, form_encoded_only=True)


class LightspeedRows(Rows):
    """The control plane's tables: ``/products``, ``products`` or a concrete child list
    (``/consignments/<id>/products``); rows speak the API's JSON."""

    store: LightspeedStore

    def _table(self, path: str) -> tuple[str, int | None]:
        return self.sandbox.table_of(path)

    def set_size(self, path: str, n: int, tenant: Any) -> None:
        self.store.set_size(self._table(path)[0] if "{" not in path else path, n)

    def count(self, path: str, tenant: Any) -> int:
        return self.store.count(*self._table(path))

    def get(self, path: str, row_id: Any, tenant: Any) -> dict[str, Any] | None:
        table, parent = self._table(path)
        hit = self.store.live(table, row_id, parent)
        return None if hit is None else hit[1]

    def touch(self, path: str, row_id: Any, field: str | None, tenant: Any) -> Any:
        table, parent = self._table(path)
        with self.store.lock:
            hit = self.store.live(table, row_id, parent)
            if hit is None:
                raise KeyError(f"{path} {row_id} not found")
            i, row = hit
            row = dict(row)
            name = field or next((f for f in TOUCH_FIELDS if f in row), None)
            if name is not None:
                row[name] = f"{row.get(name) or ''} *"
            self.store.write(table, i, row, parent)
        return row_id

    def create(self, path: str, record: dict[str, Any], tenant: Any) -> dict[str, Any]:
        table, _ = self._table(path)
        try:
            return self.sandbox.create_row(table, record)
        except ApiError as exc:
            raise ValueError(exc.message) from None

    def delete(self, path: str, row_id: Any, tenant: Any) -> bool:
        table, parent = self._table(path)
        return self.sandbox.soft_delete(table, row_id, parent) is not None


class LightspeedSandbox(OAuthControl, SandboxServer):
    """A strict, deterministic Lightspeed Retail X-Series emulator on loopback (see the module docstring)."""

    vendor = "lightspeed"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int = 42, sizes: dict[str, int] | None = None,
                 default_size: int = 5, tokens: tuple[str, ...] = (DEFAULT_TOKEN,),
                 domain_prefix: str = DEFAULT_DOMAIN_PREFIX, client_id: str = DEFAULT_CLIENT_ID,
                 client_secret: str = DEFAULT_CLIENT_SECRET, redirect_uri: str | None = None,
                 access_token_ttl: float = 86400.0, requests_per_window: int | None = None,
                 window_seconds: float = 300.0, rate_limit: bool = True, max_page_size: int = 1000,
                 default_page_size: int = 100, verbose: bool = False, clock: Clock | None = None) -> None:
        super().__init__(host, port, verbose=verbose, clock=clock)
        self.catalog = load_catalog()
        self.seed = int(seed)
        self.tokens = set(tokens)
        self.domain_prefix = domain_prefix
        self.max_page_size, self.default_page_size = int(max_page_size), int(default_page_size)
        self.store = LightspeedStore(self.catalog, seed, dict(sizes or {}), default_size, self.clock)
        self.rows = LightspeedRows(self)
        self.oauth = AuthorizationServer(
            self.clock, lightspeed_token_rules(access_token_ttl), seed=seed, client_id=client_id,
            client_secret=client_secret, redirect_uri=redirect_uri, user_id="sandbox-owner",
            routes={"/connect": "authorize", "/api/1.0/token": "token"}, token_extras=self._token_extras)
        self.requests_per_window = requests_per_window
        self.rate_limited = rate_limit
        self.throttle = Quota(MonotonicClock(), [Window("window", None, float(window_seconds), aligned=False,
                                                        limit_header="X-RateLimit-Limit",
                                                        remaining_header="X-RateLimit-Remaining")],
                              retry_after="http-date", refusal_body=lambda d: {
                                  "error": "Too Many Requests", "message": "Rate limiting enforced"})
        self._templates = [(template_regex(p), p) for p in (*self.catalog["lists"], *self.catalog["items"])
                           if "{" in p]

    # ------------------------------------------------------------------ URLs
    @property
    def api_url(self) -> str:
        """The API root a client's ``base_url`` names (``https://{prefix}.retail.lightspeed.app/api/2.0``)."""
        return f"{self.url}{API}"

    @property
    def connect_url(self) -> str:
        return f"{self.url}/connect"

    @property
    def token_url(self) -> str:
        return f"{self.url}/api/1.0/token"

    def _token_extras(self, chain: Chain) -> dict[str, Any]:
        ttl = int(self.oauth.rules.access_ttl)
        return {"expires": int(self.clock.timestamp()) + ttl, "domain_prefix": self.domain_prefix,
                "scope": "products:read customers:write sales:write"}

    def revoke_token(self, token: str) -> None:
        """A personal token is revoked in the store's setup."""
        self.tokens.discard(token)

    def window_limit(self) -> int:
        """``300 × registers + 50`` (§2.1 [XS-RL]), unless ``requests_per_window`` overrides it."""
        if self.requests_per_window is not None:
            return int(self.requests_per_window)
        return 300 * self.store.live_count("/registers") + 50

    # ------------------------------------------------------------------ server hooks
    def api_relative_path(self, path: str) -> str:
        return path[len(API):] if path.startswith(API + "/") else path

    def is_data_path(self, path: str) -> bool:
        return path.startswith(API + "/")

    def fault_response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        if body is None:
            body = {"error": "Service Unavailable" if status == 503 else "Error", "message": f"injected fault {status}"}
        return super().fault_response(status, body, headers)

    def internal_error_response(self, exc: Exception) -> Response:
        return answer({"error": "Internal Server Error", "message": f"sandbox internal error: {exc!r}"}, 500)

    def handle_api(self, request: Request) -> Response:
        oauth = self.oauth.handle(request)
        if oauth is not None:
            return oauth
        path = request.path
        if not (path.startswith(API + "/") or PRODUCT_UPDATE.match(path) or path == REGISTER_SALES):
            return ApiError(404, "Not Found", f"no such endpoint {path}").response()
        try:
            self._authenticate(request)
        except ApiError as exc:
            return exc.response()
        limits: dict[str, str] = {}
        if self.rate_limited:
            limit = self.window_limit()
            if self.throttle.limit("window") != limit:
                self.throttle.configure("window", limit)
            decision = self.throttle.check()
            if not decision.allowed:
                request.environ["sandbox.rate_limited"] = True
                return self.throttle.refusal(decision, time.time())
            limits = decision.headers
        try:
            response = self._route(request)
        except ApiError as exc:
            response = exc.response()
        for k, v in limits.items():
            response.headers[k] = v
        return response

    def _authenticate(self, request: Request) -> None:
        if "access_token" in request.args:
            raise ApiError(401, "Unauthorized", "tokens in the URL are not accepted: send Authorization: Bearer")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Unauthorized", "an Authorization: Bearer token is required")
        token = token.strip()
        if token in self.tokens:
            return
        _, problem = self.oauth.check_access(token)
        if problem == "expired":
            raise ApiError(401, "Unauthorized", "the access token has expired")
        if problem:
            raise ApiError(401, "Unauthorized", "invalid or revoked token")

    # ------------------------------------------------------------------ routing
    def _route(self, request: Request) -> Response:
        method, path = request.method, request.path
        match = PRODUCT_UPDATE.match(path)
        if match:
            request.environ["sandbox.route"] = "/api/2.1/products/{product_id}"
            self._allow(method, ["PUT"])
            return self._update_product(match.group(1), self._body(request))
        if path == REGISTER_SALES:
            request.environ["sandbox.route"] = REGISTER_SALES
            self._allow(method, ["POST"])
            return self._register_sale(self._body(request))
        rel = path[len(API):].rstrip("/") or "/"
        template, values = self._template(rel)
        request.environ["sandbox.route"] = template
        lists, items, creates = self.catalog["lists"], self.catalog["items"], self.catalog["creates"]
        allowed = (["GET"] if template in lists else []) + (["POST"] if template in creates else []) + \
            sorted(items.get(template, {}))
        if not allowed:
            raise ApiError(404, "Not Found", f"no such endpoint {rel}")
        self._allow(method, allowed)
        if method == "GET" and template in lists:
            return self._list(template, values, request)
        if method == "POST" and template in creates:
            return self._create(template, self._body(request))
        return self._item(template, values[-1], method, request)

    def _template(self, rel: str) -> tuple[str, list[str]]:
        if rel in self.catalog["lists"] or rel in self.catalog["creates"]:
            return rel, []
        for regex, template in self._templates:
            m = regex.match(rel)
            if m:
                return template, list(m.groups())
        return rel, []

    @staticmethod
    def _allow(method: str, allowed: list[str]) -> None:
        if method not in allowed:
            raise ApiError(405, "Method Not Allowed", f"{method} is not allowed here",
                           {"Allow": ", ".join(allowed)})

    @staticmethod
    def _body(request: Request) -> Any:
        try:
            return json.loads(request.get_data() or b"null", parse_float=Decimal)
        except ValueError:
            raise ApiError(400, "Bad Request", "the body is not valid JSON") from None

    def table_of(self, path: str) -> tuple[str, int | None]:
        """The store's table of a list path: top-level, or a concrete child list and its parent."""
        rel = path[len(API):] if path.startswith(API) else path
        if not rel.startswith("/"):
            rel = "/" + rel
        if rel in self.store.lists:
            return rel, None
        template, values = self._template(rel)
        spec = self.store.lists.get(template)
        if spec is None or not spec["parent"]:
            raise KeyError(f"{path}: not a list of the emulator")
        hit = self.store.live(spec["parent"], values[0])
        if hit is None:
            raise ApiError(404, "Not Found", f"{spec['parent'].strip('/')} {values[0]} not found")
        return template, hit[0]

    # ------------------------------------------------------------------ reads
    def _list(self, template: str, values: list[str], request: Request) -> Response:
        spec = self.catalog["lists"][template]
        args = request.args
        unknown = sorted(set(args) - set(spec["params"]))
        if unknown:
            raise ApiError(400, "Bad Request", f"unknown query parameter {unknown[0]!r} for {template}")
        page_size = self._int(args, "page_size", self.default_page_size, 1)
        kind = spec["kind"]
        if kind == "object":
            return answer({"data": self._sample(spec["model"], 1)})
        if kind == "plain":
            return answer({"data": [self._sample(spec["model"], i) for i in range(1, 4)]})
        if kind == "page_info":
            return self._categories(args, page_size)
        if kind == "search":
            return self._search(args, page_size)
        table, parent = self.table_of(request.path[len(API):].rstrip("/"))
        after = self._int(args, "after", 0, 0)
        before = self._int(args, "before", None, 1) if "before" in args else None
        deleted = self._bool(args, "deleted") if "deleted" in args else False
        model = self.store.model_of(table)["properties"]
        filters = {k: v for k, v in args.items() if k not in ("after", "before", "page_size", "deleted")
                   and k in model}
        accept = (lambda row: all(str(row.get(k)) == v for k, v in filters.items())) if filters else None
        rows = self.store.page(table, parent, after, before, min(page_size, self.max_page_size),
                               deleted=deleted, accept=accept)
        version = {"min": rows[0]["version"], "max": rows[-1]["version"]} if rows else None
        return answer({"data": rows, "version": version})

    def _categories(self, args: Any, page_size: int) -> Response:
        model = self.catalog["models"]["ProductCategory"]
        rows = []
        for i in range(1, max(1, self.store.sizes.get("/product_types", 5)) + 1):
            row = self.store._object(model, self.store.salt("category") + i, i, depth=1)
            row.update(id=self.store.row_id("/product_categories", i), name=f"Category {i:03d}",
                       category_path=[{"id": self.store.row_id("/product_categories", i), "name": f"Category {i:03d}"}])
            rows.append(row)
        after = args.get("after")
        ids = [r["id"] for r in rows]
        start = ids.index(after) + 1 if after in ids else 0
        page = rows[start:start + min(page_size, self.max_page_size)]
        has_next = start + len(page) < len(rows)
        return answer({"data": {"categories": page},
                       "page_info": {"has_next": has_next, "last_seen": page[-1]["id"] if page else None}})

    def _search(self, args: Any, page_size: int) -> Response:
        kinds = {"customers": "/customers", "products": "/products", "sales": "/sales"}
        kind = args.get("type")
        if kind not in kinds:
            raise ApiError(400, "Bad Request", f"type must be one of {', '.join(kinds)}")
        if page_size > 1000:
            raise ApiError(400, "Bad Request", "page_size must be at most 1000 for /search")
        offset = self._int(args, "offset", 0, 0)
        table = kinds[kind]
        fields = self.store.model_of(table)["properties"]
        # `type` names what is searched (products have a `type` field too): no filter.
        wanted = {k: v for k, v in args.items() if k in fields and k not in ("type", "page_size", "offset", "deleted")}
        deleted = self._bool(args, "deleted") if "deleted" in args else False
        found = [row for row in self.store.rows_after(table, None, 0)
                 if (deleted or not row.get("deleted_at"))
                 and all(str(row.get(k) or "").lower() == v.lower() for k, v in wanted.items())]
        return answer({"data": found[offset:offset + page_size], "total_count": len(found)})

    def _sample(self, model: str, i: int) -> dict[str, Any]:
        row = self.store._object(self.catalog["models"][model], self.store.salt("sample", model) + i, i, depth=0)
        if "id" in row:
            row["id"] = self.store.row_id(f"/{model}", i)
        return row

    @staticmethod
    def _int(args: Any, name: str, default: int | None, least: int) -> Any:
        raw = args.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, "Bad Request", f"{name} must be an integer, got {raw!r}") from None
        if value < least:
            raise ApiError(400, "Bad Request", f"{name} must be at least {least}, got {value}")
        return value

    @staticmethod
    def _bool(args: Any, name: str) -> bool:
        raw = str(args.get(name)).lower()
        if raw not in ("true", "false", "1", "0"):
            raise ApiError(400, "Bad Request", f"{name} must be true or false, got {raw!r}")
        return raw in ("true", "1")

    # ------------------------------------------------------------------ writes
    def _collection_of(self, template: str) -> str:
        return template.rsplit("/", 1)[0]

    def _item(self, template: str, row_id: str, method: str, request: Request) -> Response:
        spec = self.catalog["items"][template][method]
        table = self._collection_of(template)
        if table not in self.store.lists:
            raise ApiError(404, "Not Found", f"{template} is not emulated")
        hit = self.store.live(table, row_id)
        if hit is None:
            raise ApiError(404, "Not Found", f"{table.strip('/')} {row_id} not found")
        i, row = hit
        if method == "GET":
            return answer({"data": row})
        if method == "DELETE":
            self.soft_delete(table, row_id)
            return self._written(spec, {"id": row_id})
        body = self._checked(spec["model"], self._body(request), partial=False)
        updated = {**row, **{k: v for k, v in body.items() if k in row}}
        return self._written(spec, self.store.write(table, i, updated))

    def _written(self, spec: dict[str, Any], row: dict[str, Any]) -> Response:
        shape, status = spec["answer"], spec["status"]
        if shape == "empty" or status == 204:
            return answer(None, status)
        if shape == "id":
            return answer({"data": row["id"]}, status)
        if shape == "ids":
            return answer({"data": [row["id"]]}, status)
        if shape == "payload":
            return answer({"payload": {"data": {"id": row["id"]}}}, status)
        return answer({"data": row}, status)

    def _create(self, template: str, body: Any) -> Response:
        spec = self.catalog["creates"][template]
        if template not in self.store.lists:
            raise ApiError(404, "Not Found", f"POST {template} is not emulated")
        return self._written(spec, self.create_row(template, body))

    def create_row(self, table: str, body: Any) -> dict[str, Any]:
        """A new row of ``table`` from a POST body (checked against the collection's request model)."""
        spec = self.catalog["creates"].get(table)
        if spec is None or not spec["model"]:
            raise ApiError(405, "Method Not Allowed", f"POST is not allowed on {table}")
        body = self._checked(spec["model"], body, partial=False)
        if table == "/products" and body.get("price_including_tax") is not None \
                and body.get("price_excluding_tax") is not None:
            raise invalid("give price_including_tax or price_excluding_tax, not both")
        model = self.store.model_of(table)["properties"]
        now = iso(self.clock.now())
        row: dict[str, Any] = {name: [] if prop["type"] == "array" else None for name, prop in model.items()}
        row.update({k: v for k, v in body.items() if k in model})
        with self.store.lock:
            i = self.store.new_index(table)
            row["id"] = self.store.row_id(table, i)
            if "created_at" in model:
                row["created_at"] = now
            if table == "/customers":
                row["name"] = f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip()
            if table == "/products":
                row.setdefault("active", True)
                row.update(has_variants=False, variant_count=0)
            return self.store.write(table, i, row)

    def soft_delete(self, table: str, row_id: Any, parent: int | None = None) -> dict[str, Any] | None:
        with self.store.lock:
            hit = self.store.live(table, row_id, parent)
            if hit is None:
                return None
            i, row = hit
            return self.store.write(table, i, {**row, "deleted_at": iso(self.clock.now())}, parent)

    def _checked(self, model_name: str, body: Any, *, partial: bool, fields: Any = None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request", "the body must be a JSON object")
        model = self.catalog["models"][model_name]
        properties = model["properties"]
        for name, value in body.items():
            prop = properties.get(name)
            if prop is None or (fields is not None and name not in fields):
                raise invalid(f"{name}: unknown field for {model_name}")
            if value is None:
                if name in model["required"]:
                    raise invalid(f"{name}: is required")
                continue
            if wrong_type(value, prop["type"]):
                raise invalid(f"{name}: must be of type {prop['type']}")
            if prop.get("enum") and value not in prop["enum"]:
                raise invalid(f"{name}: must be one of {', '.join(map(str, prop['enum']))}")
        if not partial:
            missing = [name for name in model["required"] if body.get(name) in (None, "")]
            if missing:
                raise invalid(f"{', '.join(missing)}: is required")
        return body

    def _update_product(self, row_id: str, body: Any) -> Response:
        """``PUT /api/2.1/products/{id}``: ``{"common": {...}, "details": {...}}`` (Postman, §2.1)."""
        groups = self.catalog["product_update"]
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request", "the body must be a JSON object")
        unknown = sorted(set(body) - set(groups))
        if unknown:
            raise invalid(f"{unknown[0]}: the body holds {' and '.join(groups)} only")
        hit = self.store.live("/products", row_id)
        if hit is None:
            raise ApiError(404, "Not Found", f"product {row_id} not found")
        i, row = hit
        changes: dict[str, Any] = {}
        product = self.store.model_of("/products")["properties"]
        for group, fields in body.items():
            if not isinstance(fields, dict):
                raise invalid(f"{group}: must be an object")
            for name, value in fields.items():
                if name not in groups[group]:
                    raise invalid(f"{group}.{name}: unknown field")
                target = {"is_active": "active", "dimension_unit": "dimensions_unit"}.get(name, name)
                if target in product:
                    if value is not None and wrong_type(value, product[target]["type"]):
                        raise invalid(f"{group}.{name}: must be of type {product[target]['type']}")
                    changes[target] = value
        details = body.get("details") or {}
        if details.get("price_including_tax") is not None and details.get("price_excluding_tax") is not None:
            raise invalid("details: give price_including_tax or price_excluding_tax, not both")
        if {k: v for k, v in changes.items() if row.get(k) != v}:
            self.store.write("/products", i, {**row, **changes})
        return answer({})

    def _register_sale(self, body: Any) -> Response:
        """``POST /api/register_sales`` (0.9): a sale with its lines and payments, visible in ``/sales``."""
        spec = self.catalog["register_sale"]
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request", "the body must be a JSON object")
        for name in body:
            if name not in spec["fields"]:
                raise invalid(f"{name}: unknown field for a register sale")
        register = self.store.live("/registers", body.get("register_id"))
        if register is None:
            raise invalid(f"register_id: no register {body.get('register_id')!r}")
        for name in ("customer_id", "user_id"):
            if body.get(name) is not None and self.store.live(f"/{name[:-3]}s", body[name]) is None:
                raise invalid(f"{name}: no {name[:-3]} {body[name]!r}")
        lines, payments = body.get("register_sale_products") or [], body.get("register_sale_payments") or []
        if not isinstance(lines, list) or not lines:
            raise invalid("register_sale_products: a sale needs at least one product line")
        line_model = self.catalog["models"]["LineItem"]["properties"]
        sale_lines, total, tax = [], Decimal(0), Decimal(0)
        for n, line in enumerate(lines):
            if not isinstance(line, dict) or set(line) - set(spec["line_fields"]):
                raise invalid(f"register_sale_products[{n}]: unknown field "
                              f"{sorted(set(line) - set(spec['line_fields']))[:1] if isinstance(line, dict) else ''}")
            if self.store.live("/products", line.get("product_id")) is None:
                raise invalid(f"register_sale_products[{n}].product_id: no product {line.get('product_id')!r}")
            for name in ("quantity", "price"):
                if not isinstance(line.get(name), (int, Decimal)) or isinstance(line.get(name), bool):
                    raise invalid(f"register_sale_products[{n}].{name}: a number is required")
            quantity, price = Decimal(line["quantity"]), Decimal(line["price"])
            line_tax = Decimal(line.get("tax") or 0)
            total += quantity * price
            tax += quantity * line_tax
            item = {k: None for k in line_model}
            item.update({k: v for k, v in line.items() if k in line_model})
            item["id"] = self.store.row_id("/sales/lines", self.store.next_version())
            sale_lines.append(item)
        sale_payments = [{"id": self.store.row_id("/sales/payments", self.store.next_version()),
                          "amount": p.get("amount"), "payment_type_id": p.get("retailer_payment_type_id"),
                          "payment_date": p.get("payment_date")} for p in payments if isinstance(p, dict)]
        now = iso(self.clock.now())
        row = {"register_id": body["register_id"], "outlet_id": register[1].get("outlet_id"),
               "user_id": body.get("user_id"), "customer_id": body.get("customer_id"),
               "status": body.get("status") or "CLOSED", "note": body.get("note"),
               "invoice_number": body.get("invoice_number"), "sale_date": body.get("sale_date") or now,
               "source": body.get("source") or "USER", "source_id": body.get("source_id"),
               "line_items": sale_lines, "payments": sale_payments, "total_price": total, "total_tax": tax}
        model = self.store.model_of("/sales")["properties"]
        created: dict[str, Any] = {name: None for name in model}
        created.update(row, created_at=now, deleted_at=None)
        with self.store.lock:
            i = self.store.new_index("/sales")
            created["id"] = self.store.row_id("/sales", i)
            sale = self.store.write("/sales", i, created)
        return answer({"register_sale": {
            **{k: sale.get(k) for k in ("id", "register_id", "customer_id", "user_id", "status", "note",
                                        "invoice_number", "sale_date", "source", "source_id")},
            "totals": {"total_price": total, "total_tax": tax, "total_payment": sum(
                (Decimal(p["amount"] or 0) for p in sale_payments), Decimal(0))},
            "register_sale_products": sale_lines, "register_sale_payments": sale_payments}})

