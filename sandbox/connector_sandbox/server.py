"""Generic base for the vendor emulators: a real HTTP server on loopback.

Every vendor emulator subclasses :class:`SandboxServer` and implements :meth:`handle_api`.
The base provides what all of them share:

* a werkzeug WSGI app served by ``werkzeug.serving.make_server(..., threaded=True)`` in a
  background thread (``start()`` / ``stop()`` / ``url``; port 0 picks a free port);
* a bounded request log and counters (``stats()`` / ``reset_stats()``);
* fault injection (``faults.add`` / ``faults.latency`` / ``faults.drop``, :mod:`.faults`);
* a request budget (``rate_limit(...)``, a :class:`~.quota.Quota`) answered with 429 + ``Retry-After``;
* an injectable clock (``clock.now()`` / ``advance`` / ``set``, :mod:`.clock`) for every timestamp;
* the control plane (:mod:`.control`): the same Python methods and ``/__sandbox/`` routes for every
  vendor.

The hot path does no logging to stdout unless ``verbose=True``.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .clock import UTC, Clock, parse_datetime
from .control import CONTROL_PREFIX, ControlPlane, Rows
from .faults import DropConnection, Faults, drop_connection
from .quota import MonotonicClock, Quota, Window
from .responses import json_response

__all__ = ["CONTROL_PREFIX", "UTC", "Clock", "Faults", "Rows", "SandboxServer", "json_response", "parse_datetime"]


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without the per-request access log line (hot path stays quiet)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SandboxServer(ControlPlane):
    """Base class: a threaded werkzeug server with log, counters, faults, budget, clock, control plane."""

    vendor = "generic"
    log_size = 10_000
    # Request headers kept in the log ("Authorization" masked to its scheme); vendors add theirs.
    logged_headers: tuple[str, ...] = ("Authorization", "Accept", "Content-Type", "User-Agent")

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

    def start(self) -> SandboxServer:
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

    def __enter__(self) -> SandboxServer:
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
        """The 500 answer for an unexpected exception (vendors answer their own error body)."""
        return json_response({"code": "InternalError", "message": f"sandbox internal error: {exc!r}",
                              "errors": None}, 500)

    # ------------------------------------------------------------------ counters
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
        except DropConnection:
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
                drop_connection(environ)
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
        for name in self.logged_headers:
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
