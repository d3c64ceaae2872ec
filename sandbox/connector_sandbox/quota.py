"""Request quotas, in the vendor's own words: one mechanism for every emulator's budgets.

A :class:`Quota` holds one or more :class:`Window`\\ s, counted per key (the whole server; an app and
a division; a retailer...):

* a window is **clock-aligned** (it resets at whole multiples of its length on the clock: Exact's
  minutely budget at hh:mm:00, its daily one at midnight UTC) or **sliding** (at most N requests in
  any span of its length: ConnectWise's budget);
* every answer may carry each window's state in the vendor's header names (limit, remaining, reset as
  epoch seconds or milliseconds);
* a refused request learns which window refused it and when a slot frees: the 429 carries the
  vendor's body, ``Retry-After`` in seconds, as an HTTP date or not at all, and the headers of the
  window that refused it, of every window, or none (:meth:`Quota.refusal`).

:class:`ErrorAllowance`: at most N error answers per key per period; then the key is blocked for a
while that doubles on every repeat (Exact's error block).
"""

from __future__ import annotations

import collections
import datetime as dt
import email.utils
import math
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from .responses import json_response

RETRY_AFTER_FORMATS = ("seconds", "http-date")
HEADER_POLICIES = ("hit", "all", "none")


class MonotonicClock:
    """Real elapsed time, for budgets that must not follow a frozen or moved sandbox clock."""

    @staticmethod
    def timestamp() -> float:
        return time.monotonic()


@dataclass
class Window:
    """One limit: at most ``limit`` requests per ``seconds`` (``limit=None``: no limit)."""

    name: str
    limit: int | None
    seconds: float
    aligned: bool = True
    limit_header: str | None = None
    remaining_header: str | None = None
    reset_header: str | None = None
    reset_scale: int = 1  # the reset header as epoch seconds (1) or milliseconds (1000)

    def headers(self, used: int, reset_at: float) -> dict[str, str]:
        if self.limit is None:
            return {}
        out = {}
        if self.limit_header:
            out[self.limit_header] = str(self.limit)
        if self.remaining_header:
            out[self.remaining_header] = str(max(0, self.limit - used))
        if self.reset_header:
            out[self.reset_header] = str(int(reset_at * self.reset_scale))
        return out


class _Usage:
    """What one key used of one window: a counter of the current aligned window, or hit times."""

    __slots__ = ("start", "count", "hits")

    def __init__(self) -> None:
        self.start: float | None = None
        self.count = 0
        self.hits: collections.deque[float] = collections.deque()

    def used(self, w: Window, now: float) -> tuple[int, float]:
        """(requests counted in the window now, when the window frees a slot)."""
        if w.aligned:
            start = (now // w.seconds) * w.seconds
            if self.start != start:
                self.start, self.count = start, 0
            return self.count, start + w.seconds
        hits = self.hits
        while hits and hits[0] <= now - w.seconds:
            hits.popleft()
        return len(hits), (hits[0] + w.seconds) if hits else now + w.seconds

    def add(self, w: Window, now: float) -> None:
        if w.aligned:
            self.count += 1
        else:
            self.hits.append(now)


class Decision:
    """The answer to one request: allowed (with the headers to add), or refused by a window."""

    __slots__ = ("refused_by", "headers", "wait")

    def __init__(self, refused_by: Window | None, headers: dict[str, str], wait: float = 0.0) -> None:
        self.refused_by = refused_by
        self.headers = headers
        self.wait = wait

    @property
    def allowed(self) -> bool:
        return self.refused_by is None

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds until a slot frees (at least 1)."""
        return max(1, math.ceil(self.wait))


_ALLOWED = Decision(None, {})


class Quota:
    """Windows counted per key; see the module docstring.

    ``retry_after``: the ``Retry-After`` of a refusal (``"seconds"``, ``"http-date"`` or None: none).
    ``headers_on_refusal``: the window headers a refusal carries (``"hit"``: the refusing window's,
    ``"all"``, ``"none"``). ``refusal_body``: the vendor's 429 body for a decision (a JSON value,
    ``bytes`` as they are; None: an empty body). A disabled aligned window keeps counting
    (re-enabling it mid-window knows what was used); a disabled sliding window does not.
    """

    def __init__(self, clock: Any, windows: list[Window], *, retry_after: str | None = "seconds",
                 headers_on_refusal: str = "hit", refusal_body: Callable[[Decision], Any] | None = None) -> None:
        self.clock = clock
        self.refusal_body = refusal_body
        self.windows = list(windows)
        self._by_name = {w.name: w for w in self.windows}
        self.retry_after = self._check_retry_after(retry_after)
        self.headers_on_refusal = self._check_policy(headers_on_refusal)
        self._lock = threading.Lock()
        self._usage: dict[Hashable, list[_Usage]] = {}
        self.rejected: collections.Counter[str] = collections.Counter()

    @staticmethod
    def _check_retry_after(value: str | None) -> str | None:
        if value is not None and value not in RETRY_AFTER_FORMATS:
            raise ValueError("retry_after_format must be 'seconds' or 'http-date'")
        return value

    @staticmethod
    def _check_policy(value: str) -> str:
        if value not in HEADER_POLICIES:
            raise ValueError(f"headers on a refusal must be one of {', '.join(HEADER_POLICIES)}, not {value!r}")
        return value

    def window(self, name: str) -> Window:
        return self._by_name[name]

    def limit(self, name: str) -> int | None:
        return self._by_name[name].limit

    def configure(self, name: str | None = None, limit: int | None = ...,  # type: ignore[assignment]
                  seconds: float | None = None, **options: Any) -> None:
        """Change window ``name`` (``limit=None`` disables it; ``...`` keeps it) and/or, through
        ``retry_after`` and ``headers_on_refusal``, the whole quota."""
        unknown = set(options) - {"retry_after", "headers_on_refusal"}
        if unknown:
            raise TypeError(f"unknown quota option(s): {', '.join(sorted(unknown))}")
        retry_after = self._check_retry_after(options.get("retry_after", self.retry_after))
        policy = self._check_policy(options.get("headers_on_refusal", self.headers_on_refusal))
        w = self._by_name[name] if name is not None else None
        new_limit = None if limit is ... or limit is None else int(limit)
        new_seconds = None if seconds is None else float(seconds)
        with self._lock:
            if w is not None:
                if limit is not ...:
                    w.limit = new_limit
                if new_seconds is not None:
                    w.seconds = new_seconds
            self.retry_after, self.headers_on_refusal = retry_after, policy

    def reset(self) -> None:
        """Forget what every key used (and the refusal counters)."""
        with self._lock:
            self._usage.clear()
            self.rejected.clear()

    def clear_usage(self) -> None:
        with self._lock:
            self._usage.clear()

    def check(self, key: Hashable = ()) -> Decision:
        """Count one request of ``key``, or refuse it (then nothing is counted)."""
        if all(w.limit is None and not w.aligned for w in self.windows):
            return _ALLOWED
        now = self.clock.timestamp()
        with self._lock:
            usage = self._usage.get(key)
            if usage is None:
                usage = self._usage[key] = [_Usage() for _ in self.windows]
            states = [u.used(w, now) for w, u in zip(self.windows, usage)]
            for w, (used, reset_at) in zip(self.windows, states):
                if w.limit is not None and used >= w.limit:
                    self.rejected[w.name] += 1
                    return Decision(w, self._refusal_headers(w, states), max(0.0, reset_at - now))
            headers: dict[str, str] = {}
            for w, u, (used, reset_at) in zip(self.windows, usage, states):
                if w.limit is not None or w.aligned:
                    u.add(w, now)
                headers.update(w.headers(used + 1, reset_at))
            return Decision(None, headers)

    def _refusal_headers(self, refused: Window, states: list[tuple[int, float]]) -> dict[str, str]:
        if self.headers_on_refusal == "none":
            return {}
        out: dict[str, str] = {}
        for w, (used, reset_at) in zip(self.windows, states):
            if w is refused or self.headers_on_refusal == "all":
                out.update(w.headers(used, reset_at))
        return out

    def retry_after_header(self, decision: Decision, now: float) -> str | None:
        """The ``Retry-After`` of a refusal: seconds, or the HTTP date ``now`` + those seconds."""
        if self.retry_after is None or decision.allowed:
            return None
        seconds = decision.retry_after_seconds
        if self.retry_after == "http-date":
            return email.utils.format_datetime(dt.datetime.fromtimestamp(now + seconds, tz=dt.timezone.utc),
                                               usegmt=True)
        return str(seconds)

    def refusal(self, decision: Decision, now: float) -> Response:
        """The 429 answer of a refused ``decision`` (``now``: the clock an HTTP date is written on)."""
        headers = dict(decision.headers)
        retry = self.retry_after_header(decision, now)
        if retry is not None:
            headers["Retry-After"] = retry
        body = self.refusal_body(decision) if self.refusal_body is not None else None
        if body is None:
            return Response(b"", status=429, headers=headers)
        if isinstance(body, bytes):
            return Response(body, status=429, headers=headers)
        return json_response(body, 429, headers)

    def used(self, key: Hashable = ()) -> dict[str, int]:
        """What ``key`` used of each window now."""
        now = self.clock.timestamp()
        with self._lock:
            usage = self._usage.get(key) or [_Usage() for _ in self.windows]
            return {w.name: u.used(w, now)[0] for w, u in zip(self.windows, usage)}


class ErrorAllowance:
    """At most ``limit`` error answers per key within ``window`` seconds; the answer after that is
    refused for ``block`` seconds, doubling on every repeated block (``limit=None``: no allowance)."""

    def __init__(self, clock: Any, limit: int | None = 10, window: float = 3600.0, block: float = 3600.0) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.block = block
        self._lock = threading.Lock()
        self._errors: dict[Hashable, collections.deque[float]] = {}
        self._blocked: dict[Hashable, float] = {}
        self._strikes: collections.Counter[Hashable] = collections.Counter()
        self.blocks = 0
        self.rejected = 0

    def reset(self) -> None:
        with self._lock:
            self._errors.clear()
            self._blocked.clear()
            self._strikes.clear()
            self.blocks = 0
            self.rejected = 0

    def blocked_until(self, key: Hashable) -> float | None:
        """When the block of ``key`` ends (None: not blocked); counts a refused request."""
        if self.limit is None:
            return None
        now = self.clock.timestamp()
        with self._lock:
            until = self._blocked.get(key)
            if until is None:
                return None
            if now >= until:
                del self._blocked[key]
                return None
            self.rejected += 1
            return until

    def record(self, key: Hashable) -> None:
        """One error answer for ``key``; the ``limit``-th within the window starts a block."""
        if self.limit is None:
            return
        now = self.clock.timestamp()
        with self._lock:
            q = self._errors.setdefault(key, collections.deque())
            q.append(now)
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                self._blocked[key] = now + self.block * (2 ** self._strikes[key])
                self._strikes[key] += 1
                self.blocks += 1
                q.clear()
