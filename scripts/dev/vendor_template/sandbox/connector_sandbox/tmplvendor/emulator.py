"""The TMPL_SYSTEM emulator, on the shared kit (``sandbox/README.md``, "Adding a vendor's emulator").

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``. Build it from the vendor's
contract in ``TMPL_DOC`` and its specs, not from the tap's code, and replace what this scaffold
makes up. Say in a comment which reading you chose where the docs are UNCERTAIN.

What it serves (the collections of ``api_catalog.json``, written by ``scripts/generators/tmplvendor.py``):

* ``{url}/api/v1``; every request needs ``Authorization: Bearer <api key>``, else 401
  ``{"error": {"code": "unauthorized", "message": …}}``.
* ``GET /items?page=N&per_page=M`` (1-based pages, ``per_page`` 1 to the catalog's maximum,
  default 25): ``{"data": [...], "next_page": N+1 | null}`` in id order; ``updated_since``
  (RFC 3339, inclusive) and equality filters on the collection's ``filters``; any other query
  parameter or a bad value: 400 ``invalid_parameter`` naming it.
* ``POST /items`` 201 (the object, ``Location``); ``GET|PUT|PATCH|DELETE /items/{id}``: 200, PUT
  replaces the whole object (fields not sent become null), PATCH changes the fields sent, DELETE
  204; an unknown id 404; another method 405 with ``Allow``. Bodies are checked against the model:
  not JSON 400, an unknown or read-only field, a wrong type, a value too long or not in the enum,
  a required field missing or null: 422 ``{"error": {"code", "message", "field"}}``. Writes stamp
  the cursor (``updated_at``) with the clock's now.
* A budget per API key and clock minute (``requests_per_minute``, default 600): every answer
  carries ``X-RateLimit-Limit/Remaining/Reset`` (reset in epoch seconds); over it, 429 with
  ``Retry-After`` in seconds.
* Seeded rows of any size (``sizes={"/items": n}``), generated lazily from the model's types; the
  cursor grows with the id, so ``updated_since`` is a binary search, not a scan.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import msgspec
from werkzeug.wrappers import Request, Response

from ..clock import UTC, parse_datetime
from ..control import Rows
from ..quota import Quota, Window
from ..responses import json_response
from ..seeding import row_rand
from ..server import SandboxServer
from ..store import LazyStore, Listing, first_index

CATALOG: dict[str, Any] = json.loads((Path(__file__).parent / "api_catalog.json").read_text(encoding="utf-8"))
BASE_PATH = "/api/v1"
DEFAULT_API_KEY = "sandbox-api-key"
DEFAULT_REQUESTS_PER_MINUTE = 600
EPOCH = dt.datetime(2020, 1, 1, tzinfo=UTC)
STEP = 60  # seconds between the time stamps of consecutive base rows
NAMES = ("Anvil", "Rocket", "Magnet", "Spring", "Glue", "Kettle", "Lantern", "Compass")
TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "date-time": (str,)}


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error(status: int, code: str, message: str, field: str | None = None,
          headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return json_response({"error": body}, status, headers)


class Invalid(ValueError):
    """A request body or query value the vendor refuses; ``field`` names it."""

    def __init__(self, message: str, field: str | None = None, code: str = "validation_failed") -> None:
        super().__init__(message)
        self.field, self.code = field, code


def validate(model: dict[str, Any], body: Any, *, partial: bool) -> dict[str, Any]:
    """``body`` checked against ``model`` (``partial``: a PATCH, required fields may be left out)."""
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object", code="invalid_body")
    properties = model["properties"]
    for field, value in body.items():
        prop = properties.get(field)
        if prop is None:
            raise Invalid(f"unknown field '{field}'", field, "unknown_field")
        if prop.get("read_only"):
            raise Invalid(f"field '{field}' is read-only", field, "read_only_field")
        if value is None:
            if field in model["required"]:
                raise Invalid(f"field '{field}' is required", field, "required")
            continue
        kind = prop["type"]
        if isinstance(value, bool) and kind != "boolean" or not isinstance(value, TYPES[kind]):
            raise Invalid(f"field '{field}' must be of type {kind}", field)
        if kind == "date-time":
            try:
                parse_datetime(value)
            except ValueError:
                raise Invalid(f"field '{field}' must be an RFC 3339 date-time", field) from None
        if "max_length" in prop and len(value) > prop["max_length"]:
            raise Invalid(f"field '{field}' is longer than {prop['max_length']} characters", field)
        if "enum" in prop and value not in prop["enum"]:
            raise Invalid(f"field '{field}' must be one of {', '.join(prop['enum'])}", field)
    if not partial:
        for field in model["required"]:
            if body.get(field) is None:
                raise Invalid(f"field '{field}' is required", field, "required")
    return body


def query_text(value: Any) -> str:
    """A value as a query string writes it (``true``, ``12.5``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class TmplVendorStore(LazyStore):
    """The rows of every collection: base rows ``1..size`` from the seed, writes in the overlay."""

    def __init__(self, seed: int, sizes: dict[str, int], default_size: int) -> None:
        super().__init__(seed)
        self.sizes = {path: int(sizes.get(path, default_size)) for path in CATALOG["collections"]}

    def model(self, path: str) -> dict[str, Any]:
        return CATALOG["models"][CATALOG["collections"][path]["model"]]

    def base_row(self, path: str, i: int) -> dict[str, Any] | None:
        if not 1 <= i <= self.sizes[path]:
            return None
        model = self.model(path)
        row: dict[str, Any] = {}
        for n, (field, prop) in enumerate(model["properties"].items()):
            r = row_rand(self.salt(path, field), i)
            kind = prop["type"]
            if field == model["key"]:
                row[field] = i
            elif kind == "date-time":  # grows with the id: ranges are binary searches
                row[field] = stamp(EPOCH + dt.timedelta(seconds=i * STEP + n))
            elif "enum" in prop:
                row[field] = prop["enum"][r % len(prop["enum"])]
            elif kind == "string":
                text = f"{NAMES[r % len(NAMES)]} {i}" if field == "name" else f"{field[:3].upper()}-{i:06d}"
                row[field] = text[:prop.get("max_length", 100)]
            elif kind == "integer":
                row[field] = r % 1000
            elif kind == "number":
                row[field] = (r % 100_000) / 100
            elif kind == "boolean":
                row[field] = r % 2 == 0
        return row

    def get(self, path: str, i: int) -> dict[str, Any] | None:
        return self.current(path, i, lambda j: self.base_row(path, j))

    def write(self, path: str, i: int, row: dict[str, Any] | None) -> None:
        with self.lock:
            overlay, base = self.overlay_for(path), i <= self.sizes[path]
            if row is None:
                overlay.remove(i, base=base)
            else:
                overlay.put(i, row, base=base)
            self.wrote()

    def listing(self, path: str, filters: dict[str, str], since: str | None) -> Listing:
        """The ids of ``path`` matching ``filters`` (field: query text) and changed at or after ``since``."""
        cursor = CATALOG["collections"][path]["cursor"]

        def matches(row: dict[str, Any]) -> bool:
            return all(query_text(row.get(f)) == v for f, v in filters.items()) and (
                since is None or (row.get(cursor) or "") >= since)

        lo = 1
        if since is not None:
            lo = first_index(1, self.sizes[path], lambda i: (self.base_row(path, i) or {})[cursor] >= since)
        base_filter = (lambda i: matches(self.base_row(path, i) or {})) if filters else None
        return self.table_listing(path, lo, self.sizes[path], lambda i, row: matches(row), base_filter)


class TmplVendorRows(Rows):
    """The control plane's view: rows addressed by collection path (``/items``) and id."""

    touch_fields = ("name",)

    def _path(self, path: str) -> str:
        if path not in CATALOG["collections"]:
            raise KeyError(f"unknown collection {path}; the emulator serves {', '.join(CATALOG['collections'])}")
        return path

    def set_size(self, path: str, n: int, tenant: Any) -> None:
        self.store.sizes[self._path(path)] = int(n)
        self.store.invalidate()

    def count(self, path: str, tenant: Any) -> int:
        return self.store.listing(self._path(path), {}, None).count()

    def get(self, path: str, row_id: Any, tenant: Any) -> dict[str, Any] | None:
        return self.store.get(self._path(path), int(row_id))

    def touch(self, path: str, row_id: Any, field: str | None, tenant: Any) -> Any:
        row = self.get(path, row_id, tenant)
        if row is None:
            raise KeyError(f"{path}/{row_id} not found")
        name = field or self.touch_fields[0]
        self.sandbox.save(path, int(row_id), {**row, name: f"{row[name]} *"})
        return int(row_id)

    def create(self, path: str, record: dict[str, Any], tenant: Any) -> dict[str, Any]:
        try:
            return self.sandbox.insert(self._path(path), record)
        except Invalid as exc:
            raise ValueError(f"{exc.field}: {exc}" if exc.field else str(exc)) from None

    def delete(self, path: str, row_id: Any, tenant: Any) -> bool:
        if self.get(path, row_id, tenant) is None:
            return False
        self.store.write(path, int(row_id), None)
        return True


class TmplVendorSandbox(SandboxServer):
    """The TMPL_SYSTEM emulator; ``api_url`` is ``{url}/api/v1``."""

    vendor = "tmplvendor"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int = 42, sizes: dict[str, int] | None = None,
                 default_size: int = 25, api_key: str = DEFAULT_API_KEY,
                 requests_per_minute: int | None = DEFAULT_REQUESTS_PER_MINUTE, verbose: bool = False,
                 clock: Any = None) -> None:
        super().__init__(host, port, verbose=verbose, clock=clock)
        self.api_key = api_key
        self.store = TmplVendorStore(seed, sizes or {}, default_size)
        self.rows = TmplVendorRows(self)
        self.quota = Quota(self.clock, [Window("minute", requests_per_minute, 60, aligned=True,
                                               limit_header="X-RateLimit-Limit",
                                               remaining_header="X-RateLimit-Remaining",
                                               reset_header="X-RateLimit-Reset")],
                           retry_after="seconds", refusal_body=lambda d: {"error": {
                               "code": "rate_limited",
                               "message": f"Too many requests: retry in {d.retry_after_seconds} seconds"}})

    @property
    def api_url(self) -> str:
        return self.url + BASE_PATH

    def set_requests_per_minute(self, n: int | None) -> None:
        """The vendor's budget per API key and minute (None: none)."""
        self.quota.configure("minute", n)
        self.quota.clear_usage()

    # -- the kit's hooks, in the vendor's words --------------------------------------------------
    def api_relative_path(self, path: str) -> str:
        return path[len(BASE_PATH):] if path.startswith(BASE_PATH + "/") else path

    def is_data_path(self, path: str) -> bool:
        return path.startswith(BASE_PATH + "/")

    def rate_limited_response(self, retry_after_seconds: int, retry_after_header: str) -> Response:
        return error(429, "rate_limited", f"Too many requests: retry in {retry_after_seconds} seconds",
                     headers={"Retry-After": retry_after_header})

    def fault_response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        if body is None:
            return error(status, "server_error" if status >= 500 else "error", f"injected fault {status}",
                         headers=headers)
        return super().fault_response(status, body, headers)

    def internal_error_response(self, exc: Exception) -> Response:
        return error(500, "server_error", f"sandbox internal error: {exc!r}")

    def control_extra(self, action: str, request: Request, body: dict[str, Any]) -> Response | None:
        if action == "quota" and request.method == "POST":
            self.set_requests_per_minute(body.get("requests_per_minute"))
            return json_response({"ok": True, "requests_per_minute": self.quota.limit("minute")})
        return None

    # -- writes (also the control plane's) -------------------------------------------------------
    def insert(self, path: str, body: Any) -> dict[str, Any]:
        model = self.store.model(path)
        validate(model, body, partial=False)
        now = stamp(self.clock.now())
        with self.store.lock:
            i = self.store.overlay_for(path).allocate(self.store.sizes[path] + 1)
            row = {field: None for field in model["properties"]}
            row.update(body)
            row[model["key"]] = i
            for field, prop in model["properties"].items():
                if prop.get("read_only") and prop["type"] == "date-time":
                    row[field] = now
            self.store.write(path, i, row)
        return row

    def save(self, path: str, i: int, row: dict[str, Any]) -> dict[str, Any]:
        cursor = CATALOG["collections"][path]["cursor"]
        if cursor:
            row = {**row, cursor: stamp(self.clock.now())}
        self.store.write(path, i, row)
        return row

    # -- the API ---------------------------------------------------------------------------------
    def handle_api(self, request: Request) -> Response:
        if not request.path.startswith(BASE_PATH + "/"):
            return error(404, "not_found", f"no such endpoint: {request.path}")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or token != self.api_key:
            return error(401, "unauthorized", "missing or invalid API key")
        decision = self.quota.check(token)
        if not decision.allowed:
            return self.quota.refusal(decision, self.clock.timestamp())
        response = self._route(request, self.api_relative_path(request.path))
        response.headers.extend(decision.headers)
        return response

    def _route(self, request: Request, path: str) -> Response:
        match = re.fullmatch(r"(/[a-z_/]+?)(?:/(\d+))?", path)
        collection = match.group(1) if match else None
        if collection not in CATALOG["collections"]:
            return error(404, "not_found", f"no such endpoint: {path}")
        row_id = int(match.group(2)) if match and match.group(2) else None
        allowed = ("GET", "POST") if row_id is None else ("GET", "PUT", "PATCH", "DELETE")
        if request.method not in allowed:
            return error(405, "method_not_allowed", f"{request.method} is not allowed on {path}",
                         headers={"Allow": ", ".join(allowed)})
        try:
            if row_id is None:
                return self._list(request, collection) if request.method == "GET" else self._create(request, collection)
            return self._item(request, collection, row_id)
        except Invalid as exc:
            status = 400 if exc.code in ("invalid_parameter", "invalid_body") else 422
            return error(status, exc.code, str(exc), exc.field)

    def _list(self, request: Request, path: str) -> Response:
        spec = CATALOG["collections"][path]
        known = {"page", "per_page", *spec["filters"], *(["updated_since"] if spec["cursor"] else [])}
        for name in request.args:
            if name not in known:
                raise Invalid(f"unknown query parameter '{name}'", name, "invalid_parameter")
        page = self._int_arg(request, "page", 1, 1, None)
        per_page = self._int_arg(request, "per_page", CATALOG["page_size"]["default"], 1, CATALOG["page_size"]["max"])
        since = request.args.get("updated_since")
        if since is not None:
            try:
                since = stamp(parse_datetime(since))
            except ValueError:
                raise Invalid("updated_since must be an RFC 3339 date-time", "updated_since",
                              "invalid_parameter") from None
        filters = {f: request.args[f] for f in spec["filters"] if f in request.args}
        ids = self.store.listing(path, filters, since).slice((page - 1) * per_page, per_page + 1)
        rows = [self.store.get(path, i) for i in ids[:per_page]]
        return json_response({"data": rows, "next_page": page + 1 if len(ids) > per_page else None})

    @staticmethod
    def _int_arg(request: Request, name: str, default: int, least: int, most: int | None) -> int:
        raw = request.args.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) < least or most is not None and int(raw) > most:
            bounds = f"{least} to {most}" if most is not None else f"at least {least}"
            raise Invalid(f"{name} must be a whole number, {bounds}", name, "invalid_parameter")
        return int(raw)

    @staticmethod
    def _body(request: Request) -> Any:
        if request.mimetype != "application/json":
            raise Invalid("the body must be JSON (Content-Type: application/json)", code="invalid_body")
        try:
            return msgspec.json.decode(request.get_data())
        except msgspec.DecodeError:
            raise Invalid("the body is not valid JSON", code="invalid_body") from None

    def _create(self, request: Request, path: str) -> Response:
        row = self.insert(path, self._body(request))
        key = self.store.model(path)["key"]
        return json_response(row, 201, {"Location": f"{self.api_url}{path}/{row[key]}"})

    def _item(self, request: Request, path: str, i: int) -> Response:
        row = self.store.get(path, i)
        if row is None:
            return error(404, "not_found", f"{path}/{i} not found")
        if request.method == "GET":
            return json_response(row)
        if request.method == "DELETE":
            self.store.write(path, i, None)
            return Response(status=204)
        model = self.store.model(path)
        body = validate(model, self._body(request), partial=request.method == "PATCH")
        if request.method == "PUT":  # a whole replacement: what is not sent becomes null
            writable = [f for f, p in model["properties"].items() if not p.get("read_only")]
            body = {**{f: None for f in writable}, **body}
        return json_response(self.save(path, i, {**row, **body}))
