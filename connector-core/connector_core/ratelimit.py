"""Proactive, thread-safe rate limiting: wait *before* the vendor answers 429.

Two sources of truth are combined:

* the vendor's published budget (``max_requests`` per ``per_seconds``),
  enforced with a sliding window of request timestamps;
* what the vendor says in its responses (requests remaining and when the
  window resets), fed through :meth:`RateLimiter.observe`, typically from
  ``X-RateLimit-*`` headers by :meth:`RateLimiter.observe_response`.

Why hand-written: pyrate-limiter (the usual choice) only knows the budget it
was configured with; it cannot be told "the server says 0 left until 12:00:05",
which is the only reliable signal when several processes share one API key.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import threading
import time
import typing as t
from collections import deque

if t.TYPE_CHECKING:
    import requests

__all__ = ["BudgetExhausted", "HeaderReader", "Limiter", "RateLimiter", "make_header_reader"]

HeaderReader = t.Callable[
    ["requests.Response"], "tuple[int | None, float | None, int | None] | None"
]
"""Reads ``(remaining, reset_at_epoch, limit)`` from a response, or ``None``."""

_INFO_WAIT_SECONDS = 5.0
#: How long a request counted by arrival waits for its answer to be matched to it (see
#: ``RateLimiter(counts_arrivals=True)``); an older one stays counted from when it was sent.
_MATCH_SECONDS = 900.0


class Limiter(t.Protocol):
    """What a request waits on and feeds: a :class:`RateLimiter`, or several as one (Exact's
    minutely and daily budgets of a division)."""

    def acquire(self) -> float: ...

    def observe_response(self, response: requests.Response) -> None: ...

    def budget_left(self) -> int | str | None:
        """What is left in the current window(s) as far as the limiter knows (progress lines)."""
        ...


class BudgetExhausted(RuntimeError):
    """The budget is spent and renews later than the caller is willing to wait (``max_wait``).

    ``reset_at_epoch`` is the Unix time the server said the budget renews (None if unknown).
    """

    def __init__(self, message: str, *, limiter_name: str, reset_at_epoch: float | None) -> None:
        super().__init__(message)
        self.limiter_name = limiter_name
        self.reset_at_epoch = reset_at_epoch
_DEFAULT_LOGGER = logging.getLogger("connector_core.ratelimit")


class RateLimiter:
    """Admit requests so that a published budget and the server's own counters hold.

    One instance must be shared by every stream (and thread) that uses the same
    credentials, i.e. it belongs to the tap, not to a stream.

    Args:
        max_requests: requests allowed per ``per_seconds``; ``None`` when the
            vendor publishes no budget and only its headers are trusted.
        per_seconds: length of the sliding window, in seconds.
        name: shown in log lines (e.g. the vendor name).
        reserve: stop when the server reports this many requests left or fewer;
            set it to at least the number of concurrent requests, since
            requests already in flight are not yet counted by the server.
        clock: monotonic clock (seconds), injectable for tests.
        wall_clock: epoch clock used to turn a reset epoch into a delay.
        sleep: sleep function, injectable for tests.
        logger: where waits are logged.
        header_reader: optional function reading
            ``(remaining, reset_at_epoch, limit)`` from a response; used by
            :meth:`observe_response`.
        max_wait: longest wait :meth:`acquire` accepts; a longer one raises
            :class:`BudgetExhausted` instead of sleeping (e.g. a daily budget
            spent until tomorrow). ``None``: always wait.
        aligned: the published budget holds per window of the wall clock
            (every whole minute, like Exact Online's) instead of per sliding
            ``per_seconds``: a spent window renews at its boundary.
        counts_arrivals: the server counts requests when they arrive (SuperOffice's 10 a
            second): each request is counted from when its response came back (the latest
            moment it can have arrived; :meth:`observe_response`), and from when it was sent
            while it is in flight. A client that counts sends can break such a rule without
            ever sending too many in a window: when the last request of one window arrives
            late and the first of the next on time, the two windows overlap at the server.
            Counted so, every request no longer counted arrived more than ``per_seconds``
            before a new one is sent. Sliding windows only.
    """

    def __init__(
        self,
        max_requests: int | None,
        per_seconds: float,
        *,
        name: str = "",
        reserve: int = 0,
        clock: t.Callable[[], float] = time.monotonic,
        wall_clock: t.Callable[[], float] = time.time,
        sleep: t.Callable[[float], t.Any] = time.sleep,
        logger: logging.Logger | None = None,
        header_reader: HeaderReader | None = None,
        max_wait: float | None = None,
        aligned: bool = False,
        counts_arrivals: bool = False,
    ) -> None:
        if max_requests is not None and max_requests < 1:
            raise ValueError(f"max_requests must be at least 1 or None; got {max_requests}")
        if per_seconds <= 0:
            raise ValueError(f"per_seconds must be positive; got {per_seconds}")
        self.max_requests = max_requests
        self.per_seconds = float(per_seconds)
        self.name = name
        self.reserve = reserve
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._logger = logger or _DEFAULT_LOGGER
        self._header_reader = header_reader
        self.max_wait = max_wait
        self.aligned = aligned
        if counts_arrivals and aligned:
            raise ValueError("counts_arrivals needs a sliding window, not an aligned one")
        self.counts_arrivals = counts_arrivals
        self._in_flight: list[float] = []  # send stamps of admitted requests without an answer

        self._lock = threading.Lock()
        self._stamps: deque[float] = deque()
        # Server-reported budget: requests left and when (on ``clock``) it resets.
        self._server_remaining: int | None = None
        self._server_reset_at: float | None = None
        self.server_limit: int | None = None

        self.waited_seconds_total = 0.0
        self.acquired_total = 0

    def __repr__(self) -> str:
        budget = (
            "headers only"
            if self.max_requests is None
            else (f"{self.max_requests}/{self.per_seconds:g}s")
        )
        return f"RateLimiter({self.name or 'unnamed'}, {budget})"

    def acquire(self) -> float:
        """Block until one more request is allowed, then count it.

        Returns the number of seconds this call waited. The wait is computed
        under the lock but slept outside it, so other threads keep being
        admitted or scheduled while one sleeps.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                delay, reason = self._delay_needed(now)
                if delay <= 0:
                    self._admit(now)
                    self.acquired_total += 1
                    self.waited_seconds_total += waited
                    return waited
                if self.max_wait is not None and delay > self.max_wait:
                    reset_at = self._wall_clock() + delay
                    raise BudgetExhausted(
                        f"Rate limiter {self.name or '-'}: {reason}; the budget renews in "
                        f"{delay:.0f} s, longer than the {self.max_wait:g} s this run may wait",
                        limiter_name=self.name, reset_at_epoch=reset_at)
            level = logging.INFO if delay > _INFO_WAIT_SECONDS else logging.DEBUG
            self._logger.log(
                level,
                "Rate limiter %s: waiting %.2f s (%s)",
                self.name or "-",
                delay,
                reason,
            )
            self._sleep(delay)
            waited += delay

    def observe(
        self,
        remaining: int | None,
        reset_at_epoch: float | None,
        limit: int | None = None,
    ) -> None:
        """Record what the server says about the budget.

        ``remaining`` is the number of requests still allowed and
        ``reset_at_epoch`` the Unix time at which the budget is renewed. Once
        ``remaining <= reserve``, :meth:`acquire` waits until the reset. When
        the reset time is unknown, it waits one ``per_seconds`` window.
        """
        with self._lock:
            if limit is not None:
                self.server_limit = limit
            if remaining is None:
                return
            now = self._clock()
            if reset_at_epoch is not None:
                delay = max(0.0, float(reset_at_epoch) - self._wall_clock())
                reset_at = now + delay
            else:
                reset_at = now + self.per_seconds
            self._server_remaining = int(remaining)
            self._server_reset_at = reset_at

    def observe_response(self, response: requests.Response) -> None:
        """Feed the limiter from a response; uses ``header_reader`` when one was given.

        Vendors whose headers need more than a reader override this method.
        """
        if self.counts_arrivals:
            self._count_from_answer(response)
        if self._header_reader is None:
            return
        reading = self._header_reader(response)
        if reading is not None:
            self.observe(*reading)

    def _count_from_answer(self, response: requests.Response) -> None:
        """Move the stamp of the request ``response`` answers from its send time to now."""
        if self.max_requests is None:
            return
        with self._lock:
            now = self._clock()
            horizon = now - _MATCH_SECONDS
            while self._in_flight and self._in_flight[0] < horizon:
                self._in_flight.pop(0)  # never answered: it stays counted from its send time
            if not self._in_flight:
                return
            elapsed = getattr(response, "elapsed", None)
            sent = now - (elapsed.total_seconds() if elapsed is not None else 0.0)
            # The request this answers: the one in flight sent closest to `now - elapsed`.
            sent_at = min(self._in_flight, key=lambda stamp: abs(stamp - sent))
            self._in_flight.remove(sent_at)
            with contextlib.suppress(ValueError):  # its send stamp may have left the window
                self._stamps.remove(sent_at)
            # Answers come back in any order with concurrent requests: keep the stamps sorted.
            bisect.insort(self._stamps, now)

    def budget_left(self) -> int | None:
        """Requests left in the current window as far as the limiter knows: the smaller of the
        server's last count (while its window lasts) and the room in the published budget; None
        when it knows neither. A reading: nothing is counted or renewed."""
        with self._lock:
            now = self._clock()
            known: list[int] = []
            if (self._server_remaining is not None and self._server_reset_at is not None
                    and now < self._server_reset_at):
                known.append(max(0, self._server_remaining))
            if self.max_requests is not None:
                if self.aligned:
                    wall = self._wall_clock()
                    start = wall // self.per_seconds * self.per_seconds
                    used = sum(1 for stamp in self._stamps if stamp >= start)
                else:
                    horizon = now - self.per_seconds
                    used = sum(1 for stamp in self._stamps if stamp > horizon)
                known.append(max(0, self.max_requests - used))
        return min(known) if known else None

    # -- internals (called with the lock held) ------------------------------

    def _delay_needed(self, now: float) -> tuple[float, str]:
        if self._server_reset_at is not None:
            if now >= self._server_reset_at:
                # The server's window has renewed; its counter is unknown again.
                self._server_remaining = None
                self._server_reset_at = None
            elif self._server_remaining is not None and self._server_remaining <= self.reserve:
                return (
                    self._server_reset_at - now,
                    f"server reports {self._server_remaining} request(s) left",
                )
        if self.max_requests is not None and self.aligned:
            wall = self._wall_clock()
            window_end = (wall // self.per_seconds + 1) * self.per_seconds
            while self._stamps and self._stamps[0] < window_end - self.per_seconds:
                self._stamps.popleft()
            if len(self._stamps) >= self.max_requests:
                return (
                    window_end - wall,
                    f"budget of {self.max_requests} per clock {self.per_seconds:g} s used",
                )
        elif self.max_requests is not None:
            horizon = now - self.per_seconds
            while self._stamps and self._stamps[0] <= horizon:
                self._stamps.popleft()
            if len(self._stamps) >= self.max_requests:
                return (
                    self._stamps[0] + self.per_seconds - now,
                    f"budget of {self.max_requests} per {self.per_seconds:g} s used",
                )
        return 0.0, ""

    def _admit(self, now: float) -> None:
        if self.max_requests is not None:
            # Aligned windows are counted on the wall clock they are aligned to.
            self._stamps.append(self._wall_clock() if self.aligned else now)
            if self.counts_arrivals:
                bisect.insort(self._in_flight, now)
        if self._server_remaining is not None:
            # Count our own request against the server's budget until the next
            # response tells us the real figure.
            self._server_remaining -= 1


def make_header_reader(
    remaining: str = "X-RateLimit-Remaining",
    reset: str | None = "X-RateLimit-Reset",
    limit: str | None = "X-RateLimit-Limit",
    *,
    reset_is_delay: bool = False,
    clock: t.Callable[[], float] = time.time,
) -> HeaderReader:
    """Build a :data:`HeaderReader` for the common ``X-RateLimit-*`` header trio.

    ``reset`` (None: the vendor sends none) holds a Unix time unless ``reset_is_delay`` is true, in which case
    it holds seconds from now. Missing or unparseable headers read as ``None``.
    """

    def number(response: requests.Response, header: str | None) -> float | None:
        if header is None:
            return None
        raw = response.headers.get(header)
        if raw is None:
            return None
        try:
            return float(raw.strip())
        except ValueError:
            return None

    def read(response: requests.Response) -> tuple[int | None, float | None, int | None] | None:
        left = number(response, remaining)
        if left is None:
            return None
        reset_value = number(response, reset)
        if reset_value is not None and reset_is_delay:
            reset_value = clock() + reset_value
        cap = number(response, limit)
        return int(left), reset_value, None if cap is None else int(cap)

    return read
