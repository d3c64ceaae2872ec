"""Exact Online's call budgets and error block (§2.6), on the sandbox clock.

* :class:`RateLimits`: per app (client_id) per division, a minutely budget (default 60) and a daily
  budget (default 5,000). Windows are aligned to the clock: the minutely one resets at the next whole
  minute, the daily one at the next midnight UTC (picqer #646 logs show a minutely reset at hh:mm:00
  and a daily reset at midnight UTC). Reset headers are epoch MILLISECONDS.
* :class:`ErrorBlock`: at most ``limit`` (default 10) error responses (400/401/403/404) per app, user,
  division and endpoint per hour; after that the endpoint is blocked for an hour, doubling on each
  repeated block ("gradually increase").
"""

from __future__ import annotations

import collections
import threading
from typing import Any

DAY = 86400


class RateLimits:
    def __init__(self, clock: Any, minutely: int | None = 60, daily: int | None = 5000) -> None:
        self.clock = clock
        self.minutely = minutely
        self.daily = daily
        self._lock = threading.Lock()
        # key -> [minute_start, minute_count, day_start, day_count]
        self._windows: dict[tuple, list[int]] = {}
        self.rejected = collections.Counter()

    def configure(self, minutely: int | None = ..., daily: int | None = ...) -> None:  # type: ignore[assignment]
        with self._lock:
            if minutely is not ...:
                self.minutely = None if minutely is None else int(minutely)
            if daily is not ...:
                self.daily = None if daily is None else int(daily)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self.rejected.clear()

    def _window(self, key: tuple, now: float) -> list[int]:
        minute = int(now // 60) * 60
        day = int(now // DAY) * DAY
        w = self._windows.get(key)
        if w is None:
            w = self._windows[key] = [minute, 0, day, 0]
        if w[0] != minute:
            w[0], w[1] = minute, 0
        if w[2] != day:
            w[2], w[3] = day, 0
        return w

    def _headers(self, w: list[int], which: str) -> dict[str, str]:
        if which == "daily":
            return {"X-RateLimit-Limit": str(self.daily), "X-RateLimit-Remaining": str(max(0, self.daily - w[3])),
                    "X-RateLimit-Reset": str((w[2] + DAY) * 1000)}
        return {"X-RateLimit-Minutely-Limit": str(self.minutely),
                "X-RateLimit-Minutely-Remaining": str(max(0, self.minutely - w[1])),
                "X-RateLimit-Minutely-Reset": str((w[0] + 60) * 1000)}

    def hit(self, key: tuple) -> tuple[str | None, dict[str, str]]:
        """Count one call. Returns (None, headers) when allowed, or (limit hit, that limit's headers)."""
        now = self.clock.timestamp()
        with self._lock:
            w = self._window(key, now)
            if self.daily is not None and w[3] >= self.daily:
                self.rejected["daily"] += 1
                return "daily", self._headers(w, "daily")
            if self.minutely is not None and w[1] >= self.minutely:
                self.rejected["minutely"] += 1
                return "minutely", self._headers(w, "minutely")
            w[1] += 1
            w[3] += 1
            headers: dict[str, str] = {}
            if self.daily is not None:
                headers.update(self._headers(w, "daily"))
            if self.minutely is not None:
                headers.update(self._headers(w, "minutely"))
            return None, headers

    def snapshot(self, key: tuple) -> dict[str, int]:
        now = self.clock.timestamp()
        with self._lock:
            w = self._window(key, now)
            return {"minutely_used": w[1], "daily_used": w[3]}


class ErrorBlock:
    def __init__(self, clock: Any, limit: int | None = 10, window: float = 3600.0, block: float = 3600.0) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.block = block
        self._lock = threading.Lock()
        self._errors: dict[tuple, collections.deque[float]] = {}
        self._blocked: dict[tuple, float] = {}
        self._strikes: collections.Counter[tuple] = collections.Counter()
        self.blocks = 0
        self.rejected = 0

    def reset(self) -> None:
        with self._lock:
            self._errors.clear()
            self._blocked.clear()
            self._strikes.clear()
            self.blocks = 0
            self.rejected = 0

    def blocked_until(self, key: tuple) -> float | None:
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

    def record(self, key: tuple) -> None:
        if self.limit is None:
            return
        now = self.clock.timestamp()
        with self._lock:
            q = self._errors.setdefault(key, collections.deque())
            q.append(now)
            while q and q[0] <= now - self.window:
                q.popleft()
            # Conservative reading of "no more than 10 errors ... per hour": the 10th error is still
            # answered, every request after it is blocked.
            if len(q) >= self.limit:
                self._blocked[key] = now + self.block * (2 ** self._strikes[key])
                self._strikes[key] += 1
                self.blocks += 1
                q.clear()
