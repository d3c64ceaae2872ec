"""Generic base for the vendor emulators: a real HTTP server on loopback.

Every vendor emulator subclasses :class:`SandboxServer` and implements :meth:`handle_api`.
The base provides what all of them share:

* a werkzeug WSGI app served by ``werkzeug.serving.make_server(..., threaded=True)`` in a
  background thread (``start()`` / ``stop()`` / ``url``; port 0 picks a free port);
* a bounded request log and counters (``stats()`` / ``reset_stats()``);
* fault injection (``faults.add`` / ``faults.latency`` / ``faults.drop``);
* a request budget (``rate_limit(...)``, a :class:`~.quota.Quota`) answered with 429 + ``Retry-After``;
* an injectable clock (``clock.now()`` / ``advance`` / ``set``) for every timestamp;
* a control plane under ``/__sandbox/`` so another process can drive the emulator.

The hot path does no logging to stdout unless ``verbose=True``.
"""

from __future__ import annotations

import collections
import datetime as dt
import socket
import struct
import sys
import threading
import time
from typing import Any, Callable

import msgspec
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .quota import MonotonicClock, Quota, Window

UTC = dt.timezone.utc
CONTROL_PREFIX = "/__sandbox"

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.decode


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = obj if isinstance(obj, (bytes, bytearray)) else _json_encode(obj)
    resp = Response(body, status=status, content_type="application/json; charset=utf-8")
    if headers:
        for k, v in headers.items():
            resp.headers[k] = v
    return resp


def parse_datetime(value: str) -> dt.datetime:
    """Parse an ISO-8601 timestamp (``Z`` or offset; naive means UTC) to an aware UTC datetime."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class Clock:
    """Injectable clock used for all timestamps the emulators produce.

    By default it follows real time. ``set(dt)`` moves it to ``dt`` (it keeps ticking from
    there unless ``frozen=True``); ``advance(seconds)`` moves it forward; ``freeze()`` stops it.
    """

    def __init__(self, start: dt.datetime | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None
        if start is not None:
            self.set(start, frozen=frozen)
        elif frozen:
            self.freeze()

    def _epoch(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def timestamp(self) -> float:
        with self._lock:
            return self._epoch()

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp(), tz=UTC)

    def set(self, when: dt.datetime | str, frozen: bool | None = None) -> None:
        if isinstance(when, str):
            when = parse_datetime(when)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        target = when.timestamp()
        with self._lock:
            keep_frozen = self._frozen_at is not None if frozen is None else frozen
            if keep_frozen:
                self._frozen_at = target
            else:
                self._frozen_at = None
                self._offset = target - time.time()

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def freeze(self) -> None:
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = self._epoch()

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None


class _FaultRule:
    __slots__ = ("kind", "status", "remaining", "path_prefix", "body", "headers")

    def __init__(self, kind: str, status: int, count: int, path_prefix: str | None,
                 body: Any, headers: dict[str, str] | None) -> None:
        self.kind = kind
        self.status = status
        self.remaining = count
        self.path_prefix = path_prefix
        self.body = body
        self.headers = headers or {}

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "status": self.status, "remaining": self.remaining,
                "path_prefix": self.path_prefix}


class Faults:
    """Fault injection shared by every emulator.

    Rules are consumed in the order they were added; a rule matches a request when its
    ``path_prefix`` is None or is a prefix of the request path (either the raw path or the
    vendor-relative API path, e.g. ``/service/tickets``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_FaultRule] = []
        self._latency = 0.0
        self.injected = 0

    def add(self, status: int = 503, count: int = 1, path_prefix: str | None = None,
            body: Any = None, headers: dict[str, str] | None = None) -> None:
        """Answer the next ``count`` matching requests with ``status`` (and ``body``)."""
        with self._lock:
            self._rules.append(_FaultRule("status", int(status), int(count), path_prefix, body, headers))

    def drop(self, count: int = 1, path_prefix: str | None = None) -> None:
        """Close the connection of the next ``count`` matching requests without any response."""
        with self._lock:
            self._rules.append(_FaultRule("drop", 0, int(count), path_prefix, None, None))

    def latency(self, seconds: float) -> None:
        """Delay every API request by ``seconds`` (0 disables)."""
        self._latency = max(0.0, float(seconds))

    @property
    def latency_seconds(self) -> float:
        return self._latency

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._latency = 0.0

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.as_dict() for r in self._rules if r.remaining > 0]

    def take(self, paths: tuple[str, ...]) -> _FaultRule | None:
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if rule.remaining <= 0:
                    continue
                if rule.path_prefix is None or any(p.startswith(rule.path_prefix) for p in paths if p):
                    rule.remaining -= 1
                    self.injected += 1
                    self._rules = [r for r in self._rules if r.remaining > 0]
                    return rule
        return None


class _DropConnection(ConnectionAbortedError):
    """Raised after shutting the socket down; werkzeug treats it as a dropped connection."""


LOGGED_HEADERS = ("Authorization", "clientId", "Accept", "Content-Type", "Prefer", "pagination-type", "User-Agent")


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without the per-request access log line (hot path stays quiet)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SandboxServer:
    """Base class: a threaded werkzeug server with log, counters, faults, budget and clock."""

    vendor = "generic"
    log_size = 10_000

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False,
                 clock: Clock | None = None) -> None:
        self.host = host
        self.port = port
        self.verbose = verbose
        self.clock = clock or Clock()
        self.faults = Faults()
        # A request budget every emulator offers (off by default): sliding, on real elapsed time.
        self.request_budget = Quota(MonotonicClock(), [Window("requests", None, 60.0, aligned=False)])
        self._server = None
        self._thread: threading.Thread | None = None
        self._stats_lock = threading.Lock()
        self._log: collections.deque[dict[str, Any]] = collections.deque(maxlen=self.log_size)
        self._reset_counters()

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> "SandboxServer":
        if self._server is not None:
            return self
        handler = WSGIRequestHandler if self.verbose else _QuietHandler
        server = make_server(self.host, self.port, self, threaded=True, request_handler=handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_port
        self.on_start()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"{self.vendor}-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_until_signal(self, ready_line: bool = True) -> None:
        """Run in the foreground until SIGTERM/SIGINT (used by the CLI)."""
        import signal

        stop = threading.Event()

        def _handler(signum: int, frame: object) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _handler)
        signal.signal(signal.SIGINT, _handler)
        self.start()
        if ready_line:
            print(f"READY {self.url}", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        finally:
            self.stop()

    # ------------------------------------------------------------------ hooks for vendors
    def on_start(self) -> None:
        """Called once the port is known, before serving."""

    def handle_api(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def api_relative_path(self, path: str) -> str:
        """Vendor-relative API path (e.g. ``/service/tickets``) used by fault prefixes."""
        return path

    def is_data_path(self, path: str) -> bool:
        """Whether a GET to ``path`` answered 200 counts as a data request."""
        return True

    def rate_limited_response(self, retry_after_seconds: int, retry_after_header: str) -> Response:
        return json_response({"error": "rate limited"}, 429, {"Retry-After": retry_after_header})

    def fault_response(self, status: int, body: Any, headers: dict[str, str]) -> Response:
        if body is None:
            body = {"error": f"injected fault {status}"}
        if isinstance(body, str):
            resp = Response(body, status=status, content_type="text/plain; charset=utf-8")
        else:
            resp = json_response(body, status)
        for k, v in headers.items():
            resp.headers[k] = v
        return resp

    def internal_error_response(self, exc: Exception) -> Response:
        """The 500 answer for an unexpected exception (vendors may answer their own error body)."""
        return json_response({"code": "ConnectWiseApi" if self.vendor == "connectwise" else "InternalError",
                              "message": f"sandbox internal error: {exc!r}", "errors": None}, 500)

    def control_extra(self, name: str, request: Request) -> Response | None:
        """Vendor-specific control-plane routes under ``/__sandbox/<vendor>/...``."""
        return None

    def reset_data(self) -> None:
        """Forget all mutations (vendor-specific)."""

    # ------------------------------------------------------------------ public helpers
    def rate_limit(self, requests: int | None, per_seconds: float = 60.0,
                   retry_after_format: str = "seconds") -> None:
        """Enable a budget of ``requests`` per ``per_seconds``; ``requests=None`` disables it."""
        self.request_budget.configure("requests", requests, per_seconds, retry_after=retry_after_format)
        self.request_budget.clear_usage()

    def _reset_counters(self) -> None:
        self._total = 0
        self._by_status: collections.Counter[str] = collections.Counter()
        self._by_route: collections.Counter[str] = collections.Counter()
        self._data_requests = 0
        self._dropped = 0
        self._rate_limited = 0
        self._durations_ms: collections.deque[float] = collections.deque(maxlen=10_000)

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._reset_counters()
            self._log.clear()
            self.faults.injected = 0

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            durations = sorted(self._durations_ms)
            return {
                "total": self._total,
                "by_status": dict(self._by_status),
                "by_route": dict(self._by_route),
                "data_requests": self._data_requests,
                "dropped": self._dropped,
                "rate_limited": self._rate_limited,
                "faults_injected": self.faults.injected,
                "duration_ms": {
                    "count": len(durations),
                    "p50": durations[len(durations) // 2] if durations else None,
                    "max": durations[-1] if durations else None,
                },
            }

    def request_log(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._stats_lock:
            entries = list(self._log)
        return entries[-limit:] if limit else entries

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "") or "/"
        if path.startswith(CONTROL_PREFIX + "/") or path == CONTROL_PREFIX:
            return self._control(Request(environ))(environ, start_response)
        started = time.perf_counter()
        environ["sandbox.received_at"] = time.time()
        request = Request(environ)
        environ["sandbox.route"] = None
        status = 0
        try:
            response = self._dispatch(request, environ)
            status = response.status_code
            environ["sandbox.retry_after"] = response.headers.get("Retry-After")
            return response(environ, start_response)
        except _DropConnection:
            raise
        except Exception as exc:  # never leak a werkzeug HTML 500: answer JSON and log it
            if self.verbose:
                import traceback

                traceback.print_exc()
            status = 500
            resp = self.internal_error_response(exc)
            return resp(environ, start_response)
        finally:
            self._record(request, environ, status, (time.perf_counter() - started) * 1000.0)

    def _dispatch(self, request: Request, environ: dict[str, Any]) -> Response:
        path = request.path
        rel = self.api_relative_path(path)
        rule = self.faults.take((path, rel))
        if self.faults.latency_seconds:
            time.sleep(self.faults.latency_seconds)
        if rule is not None:
            if rule.kind == "drop":
                sock = environ.get("werkzeug.socket")
                if sock is not None:
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    except OSError:
                        pass
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                raise _DropConnection("sandbox: injected dropped connection")
            return self.fault_response(rule.status, rule.body, rule.headers)
        decision = self.request_budget.check()
        if not decision.allowed:
            environ["sandbox.rate_limited"] = True
            return self.rate_limited_response(decision.retry_after_seconds, self.request_budget.retry_after_header(
                decision, self.clock.timestamp()) or "")
        return self.handle_api(request)

    def _record(self, request: Request, environ: dict[str, Any], status: int, duration_ms: float) -> None:
        method = request.method
        route = environ.get("sandbox.route") or request.path
        headers = {}
        for name in LOGGED_HEADERS:
            value = request.headers.get(name)
            if value is not None:
                if name == "Authorization":
                    scheme = value.split(" ", 1)[0]
                    value = f"{scheme} ***"
                headers[name] = value
        entry = {
            "time": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "method": method,
            "path": request.path,
            "query": request.query_string.decode("latin-1"),
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "route": f"{method} {route}",
            "headers": headers,
            "received_at": environ.get("sandbox.received_at"),  # wall clock, epoch seconds
            "retry_after": environ.get("sandbox.retry_after"),
        }
        with self._stats_lock:
            self._total += 1
            self._by_status[str(status)] += 1
            self._by_route[f"{method} {route}"] += 1
            self._durations_ms.append(duration_ms)
            if status == 0:
                self._dropped += 1
            if environ.get("sandbox.rate_limited"):
                self._rate_limited += 1
            if method == "GET" and status == 200 and self.is_data_path(request.path):
                self._data_requests += 1
            self._log.append(entry)
        if self.verbose:
            print(f"{entry['time']} {method} {request.full_path.rstrip('?')} -> {status} "
                  f"({duration_ms:.1f} ms)", file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ control plane
    def _control(self, request: Request) -> Response:
        name = request.path[len(CONTROL_PREFIX):].strip("/")
        try:
            body = _json_decode(request.get_data()) if request.get_data() else {}
        except msgspec.DecodeError:
            return json_response({"error": "body must be JSON"}, 400)
        if body is None:
            body = {}
        try:
            if name == "stats" and request.method == "GET":
                out = self.stats()
                if request.args.get("log"):
                    out["log"] = self.request_log(int(request.args.get("log") or 100))
                return json_response(out)
            if name == "log" and request.method == "GET":
                return json_response(self.request_log(int(request.args.get("limit", 100))))
            if name == "reset" and request.method == "POST":
                if body.get("stats", True):
                    self.reset_stats()
                if body.get("faults", True):
                    self.faults.clear()
                if body.get("rate_limit", True):
                    self.rate_limit(None)
                if body.get("data", False):
                    self.reset_data()
                return json_response({"ok": True})
            if name == "faults" and request.method == "POST":
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
                return json_response({"ok": True, "pending": self.faults.pending(),
                                      "latency": self.faults.latency_seconds})
            if name == "faults" and request.method == "GET":
                return json_response({"pending": self.faults.pending(), "latency": self.faults.latency_seconds})
            if name == "rate-limit" and request.method == "POST":
                self.rate_limit(body.get("requests"), float(body.get("per_seconds", 60)),
                                body.get("retry_after_format", "seconds"))
                w = self.request_budget.window("requests")
                return json_response({"ok": True, "requests": w.limit, "per_seconds": w.seconds,
                                      "retry_after_format": self.request_budget.retry_after})
            if name == "clock":
                if request.method == "POST":
                    if "set" in body:
                        self.clock.set(body["set"], frozen=body.get("frozen"))
                    if "advance" in body:
                        self.clock.advance(float(body["advance"]))
                    if body.get("freeze"):
                        self.clock.freeze()
                    if body.get("unfreeze"):
                        self.clock.unfreeze()
                return json_response({"now": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                                      "frozen": self.clock.frozen})
            extra = self.control_extra(name, request)
            if extra is not None:
                return extra
        except (ValueError, TypeError, KeyError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"error": f"unknown control route {request.method} {request.path}"}, 404)
