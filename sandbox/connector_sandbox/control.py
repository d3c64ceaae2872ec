"""The control plane: how a test (in process) or another process (over HTTP) drives an emulator.

One plane for every vendor, in two forms:

* Python methods of the emulator: ``set_size``, ``count``, ``get``, ``touch``, ``create``, ``delete``,
  ``reset_data``, ``materialized_records``, ``rate_limit``, ``reset_stats``/``stats``/``request_log``,
  plus ``faults`` and ``clock``;
* HTTP routes under ``/__sandbox/`` (no authentication, never counted in the stats): ``stats``,
  ``log``, ``reset``, ``faults``, ``rate-limit``, ``clock``, and the data routes
  ``/__sandbox/<vendor>/size|touch|create|delete|count``.

The vendor supplies only what differs: its tables (a :class:`Rows` implementation, addressed by API
path), the name of a tenant inside one server if it has one (Exact Online: ``division``), the name of
a row's identity in control bodies (``id`` or ``key``), and extra routes (:meth:`control_extra`).
"""

from __future__ import annotations

from typing import Any

import msgspec
from werkzeug.wrappers import Request, Response

from .responses import json_response

CONTROL_PREFIX = "/__sandbox"


class Rows:
    """A vendor's tables as the control plane sees them: addressed by API path and tenant.

    ``tenant`` is None unless the vendor has tenants (then None means the default one). Built with the
    emulator, whose ``store`` and ``catalog`` it reads.
    """

    touch_fields: tuple[str, ...] = ()  # the text fields ``touch`` changes, first present wins

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store
        self.catalog = getattr(sandbox, "catalog", None)

    def set_size(self, path: str, n: int, tenant: Any) -> None:
        raise NotImplementedError

    def count(self, path: str, tenant: Any) -> int:
        raise NotImplementedError

    def get(self, path: str, row_id: Any, tenant: Any) -> dict[str, Any] | None:
        raise NotImplementedError

    def touch(self, path: str, row_id: Any, field: str | None, tenant: Any) -> Any:
        """Change one row as a user would (a text field, the modification stamps); returns what
        ``touch`` answers for it."""
        raise NotImplementedError

    def create(self, path: str, record: dict[str, Any], tenant: Any) -> dict[str, Any]:
        """Create a row with the validation of the vendor's POST; returns the stored row."""
        raise NotImplementedError

    def delete(self, path: str, row_id: Any, tenant: Any) -> bool:
        raise NotImplementedError

    def touched_id(self, touched: Any) -> Any:
        """The identity of a touched row in the HTTP answer."""
        return touched


class ControlPlane:
    """Mixed into :class:`~.server.SandboxServer`; see the module docstring."""

    vendor = "generic"
    tenant_name: str | None = None  # the vendor's word for a tenant inside one server ("division")
    row_id_name = "id"  # a row's identity in control bodies: {"id": 5} / {"ids": [...]}
    rows: Rows | None = None

    # ------------------------------------------------------------------ data (Python)
    def _tenant(self, tenant: Any, named: dict[str, Any]) -> Any:
        if named:
            if self.tenant_name is None or set(named) != {self.tenant_name}:
                raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(named))}")
            if tenant is not None:
                raise TypeError(f"{self.tenant_name} given twice")
            tenant = named[self.tenant_name]
        if tenant is not None and self.tenant_name is None:
            raise ValueError(f"the {self.vendor} emulator has no tenants; got {tenant!r}")
        return tenant

    def _rows(self) -> Rows:
        if self.rows is None:
            raise RuntimeError(f"the {self.vendor} emulator has no tables")
        return self.rows

    def set_size(self, path: str, n: int, tenant: Any = None, **named: Any) -> None:
        """Resize a table at runtime (rows stay lazily generated)."""
        self._rows().set_size(path, int(n), self._tenant(tenant, named))

    def count(self, path: str, tenant: Any = None, **named: Any) -> int:
        return self._rows().count(path, self._tenant(tenant, named))

    def get(self, path: str, row_id: Any, tenant: Any = None, **named: Any) -> dict[str, Any] | None:
        return self._rows().get(path, row_id, self._tenant(tenant, named))

    def touch(self, path: str, row_ids: Any, tenant: Any = None, field: str | None = None, **named: Any) -> list[Any]:
        """Modify rows as a user would: change a text field, bump the modification stamps."""
        rows, tenant = self._rows(), self._tenant(tenant, named)
        if not isinstance(row_ids, (list, tuple)):
            row_ids = [row_ids]
        return [rows.touch(path, row_id, field, tenant) for row_id in row_ids]

    def create(self, path: str, record: dict[str, Any], tenant: Any = None, **named: Any) -> dict[str, Any]:
        """Create a row as a POST would (same validation); returns the stored row."""
        return self._rows().create(path, dict(record), self._tenant(tenant, named))

    def delete(self, path: str, row_id: Any, tenant: Any = None, **named: Any) -> bool:
        return self._rows().delete(path, row_id, self._tenant(tenant, named))

    def reset_data(self) -> None:
        """Forget every write."""
        store = getattr(self, "store", None)
        if store is not None:
            store.reset()

    def materialized_records(self) -> int:
        """Rows held in memory (written rows and caches): stays bounded however large the tables."""
        store = getattr(self, "store", None)
        return 0 if store is None else store.materialized_rows()

    # ------------------------------------------------------------------ budget
    def rate_limit(self, requests: int | None, per_seconds: float = 60.0,
                   retry_after_format: str = "seconds") -> None:
        """Enable a budget of ``requests`` per ``per_seconds`` (sliding); ``requests=None`` disables it."""
        self.request_budget.configure("requests", requests, per_seconds, retry_after=retry_after_format)
        self.request_budget.clear_usage()

    # ------------------------------------------------------------------ HTTP
    def control_extra(self, action: str, request: Request, body: dict[str, Any]) -> Response | None:
        """Vendor routes under ``/__sandbox/<vendor>/<action>`` (None: not one of them)."""
        return None

    def _control(self, request: Request) -> Response:
        name = request.path[len(CONTROL_PREFIX):].strip("/")
        try:
            body = msgspec.json.decode(request.get_data()) if request.get_data() else {}
        except msgspec.DecodeError:
            return json_response({"error": "body must be JSON"}, 400)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return json_response({"error": "body must be a JSON object"}, 400)
        try:
            out = self._control_route(name, request, body)
            if out is None and name.startswith(self.vendor + "/"):
                action = name.split("/", 1)[1]
                out = self._data_route(action, request, body)
                if out is None:
                    out = self.control_extra(action, request, body)
            if out is not None:
                return out
        except (ValueError, TypeError, KeyError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"error": f"unknown control route {request.method} {request.path}"}, 404)

    def _control_route(self, name: str, request: Request, body: dict[str, Any]) -> Response | None:
        method = request.method
        if name == "stats" and method == "GET":
            out = self.stats()
            if request.args.get("log"):
                out["log"] = self.request_log(int(request.args.get("log") or 100))
            return json_response(out)
        if name == "log" and method == "GET":
            return json_response(self.request_log(int(request.args.get("limit", 100))))
        if name == "reset" and method == "POST":
            if body.get("stats", True):
                self.reset_stats()
            if body.get("faults", True):
                self.faults.clear()
            if body.get("rate_limit", True):
                self.rate_limit(None)
            if body.get("data", False):
                self.reset_data()
            return json_response({"ok": True})
        if name == "faults" and method == "POST":
            if body.get("clear"):
                self.faults.clear()
            if "latency" in body:
                self.faults.latency(float(body["latency"] or 0))
            if "latency_ms" in body:
                self.faults.latency(float(body["latency_ms"] or 0) / 1000.0)
            if "drop" in body:
                self.faults.drop(int(body["drop"]), body.get("path_prefix"))
            if "status" in body:
                self.faults.add(int(body["status"]), int(body.get("count", 1)), body.get("path_prefix"),
                                body.get("body"), body.get("headers"))
            return json_response({"ok": True, "pending": self.faults.pending(), "latency": self.faults.latency_seconds})
        if name == "faults" and method == "GET":
            return json_response({"pending": self.faults.pending(), "latency": self.faults.latency_seconds})
        if name == "rate-limit" and method == "POST":
            self.rate_limit(body.get("requests"), float(body.get("per_seconds", 60)),
                            body.get("retry_after_format", "seconds"))
            w = self.request_budget.window("requests")
            return json_response({"ok": True, "requests": w.limit, "per_seconds": w.seconds,
                                  "retry_after_format": self.request_budget.retry_after})
        if name == "clock":
            if method == "POST":
                if "set" in body:
                    self.clock.set(body["set"], frozen=body.get("frozen"))
                if "advance" in body:
                    self.clock.advance(float(body["advance"]))
                if body.get("freeze"):
                    self.clock.freeze()
                if body.get("unfreeze"):
                    self.clock.unfreeze()
            return json_response({"now": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "frozen": self.clock.frozen})
        return None

    def _data_route(self, action: str, request: Request, body: dict[str, Any]) -> Response | None:
        if self.rows is None:
            return None
        method = request.method
        tenant = body.get(self.tenant_name) if self.tenant_name else None
        if action == "size" and method == "POST":
            self.set_size(body["path"], int(body["n"]), tenant)
            return json_response({"ok": True})
        if action == "touch" and method == "POST":
            touched = self.touch(body["path"], body[self.row_id_name + "s"], tenant, body.get("field"))
            return json_response({"ok": True, "touched": [self.rows.touched_id(t) for t in touched]})
        if action == "create" and method == "POST":
            return json_response(self.create(body["path"], body["record"], tenant), 201)
        if action == "delete" and method == "POST":
            return json_response({"ok": self.delete(body["path"], body[self.row_id_name], tenant)})
        if action == "count" and method == "GET":
            tenant = (request.args.get(self.tenant_name) or None) if self.tenant_name else None
            return json_response({"count": self.count(request.args["path"], tenant)})
        return None
