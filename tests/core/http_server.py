"""A scripted HTTP server on loopback (port 0) for connector_core tests."""

from __future__ import annotations

import json
import threading
import typing as t
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

DROP = "drop"
"""Script action: read the request, then close the socket without answering."""


@dataclass
class Reply:
    status: int = 200
    body: t.Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]


class ScriptedServer:
    """Answers each path from a list of replies; the last one repeats forever."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[Reply | str]] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                action = server._next(
                    parts.path,
                    Seen(self.command, parts.path, parts.query, dict(self.headers.items())),
                )
                if action == DROP:
                    self.close_connection = True
                    return
                assert isinstance(action, Reply)
                payload = action.encoded()
                self.send_response(action.status)
                headers = {"Content-Type": "application/json", **action.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, path: str, *actions: Reply | str) -> None:
        with self._lock:
            self.scripts[path] = list(actions)

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def _next(self, path: str, seen: Seen) -> Reply | str:
        with self._lock:
            self.requests.append(seen)
            actions = self.scripts.get(path)
            if not actions:
                return Reply(404, {"message": f"no route {path}"})
            return actions.pop(0) if len(actions) > 1 else actions[0]
