"""Fault injection every emulator offers: error answers, dropped connections, latency."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any


class FaultRule:
    """One injected fault: answer (or drop) the next `remaining` matching requests."""

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
        self._rules: list[FaultRule] = []
        self._latency = 0.0
        self.injected = 0

    def add(self, status: int = 503, count: int = 1, path_prefix: str | None = None,
            body: Any = None, headers: dict[str, str] | None = None) -> None:
        """Answer the next ``count`` matching requests with ``status`` (and ``body``)."""
        with self._lock:
            self._rules.append(FaultRule("status", int(status), int(count), path_prefix, body, headers))

    def drop(self, count: int = 1, path_prefix: str | None = None) -> None:
        """Close the connection of the next ``count`` matching requests without any response."""
        with self._lock:
            self._rules.append(FaultRule("drop", 0, int(count), path_prefix, None, None))

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

    def take(self, paths: tuple[str, ...]) -> FaultRule | None:
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


class DropConnection(ConnectionAbortedError):
    """Raised after shutting the socket down; werkzeug treats it as a dropped connection."""


def drop_connection(environ: dict[str, Any]) -> None:
    """Close the client's socket at once (RST, no answer at all) and abort the request."""
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
    raise DropConnection("sandbox: injected dropped connection")
