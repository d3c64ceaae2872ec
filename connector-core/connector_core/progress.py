"""What a user sees during a long tap run: a progress line per syncing stream, a summary at the end.

Every stream of a tap that mixes in :class:`ProgressStreamMixin` (every
:class:`~connector_core.streams.VendorStream` does) is counted while it syncs:

* records emitted, pages (the responses a REST stream parsed), requests (every HTTP attempt,
  retries included, counted by :meth:`RetryPolicy.decorate <connector_core.retry.RetryPolicy.decorate>`),
  retries, 429 answers and the seconds waited for them, the seconds the rate limiter held requests
  back (:class:`~connector_core.streams.ResilientRESTStreamMixin`), and the seconds the stream was
  the one syncing (its child streams' time excluded: the durations add up to the run's);
* while a stream syncs, every :data:`DEFAULT_INTERVAL` seconds of wall time (the environment
  variable ``CONNECTOR_PROGRESS_INTERVAL``, in seconds; ``0`` turns the lines off) one INFO line::

      Progress: stream=service_tickets records=12000 pages=12 requests=12 rate=410.2/s budget_left=57 elapsed=29.3s

  ``budget_left`` is what the stream's rate limiter knows is left in its current window(s)
  (``minutely:57,daily:4980`` for a limiter made of several), left out when it knows nothing;
* when the sync ends, successfully or not, one INFO line per stream that was selected or did work
  (records=0 for a selected stream that emitted nothing; ``status`` is ``ok``, ``failed``, or
  ``not_run`` for a stream the failed run never reached), then the run's total::

      Sync summary: stream=service_tickets records=2000 pages=3 requests=4 retries=1 http_429=1
      wait_429=1.05s wait_limiter=0.00s duration=2.31s status=ok
      Sync total: streams=1 records=2000 pages=3 requests=4 retries=1 http_429=1 wait_429=1.05s
      wait_limiter=0.00s duration=2.33s status=ok

  (each one line).

A request is counted against the stream that was syncing when it was made: a look-up the
connection makes for it (ConnectWise's codebase, SuperOffice's tenant state, a token refresh,
Exact's SyncTimestamp) included. Requests made while no stream synced (Exact's division look-up)
are in the total as ``outside_requests``. The lines name streams and count things; they never
hold a URL, a query string or a setting's value.

The checks are a ``time.monotonic()`` comparison at each record, page and request attempt: no
timer thread (so one long sleep, a limiter wait or a ``Retry-After``, shows no progress line; the
limiter's and the retry's own lines say why).
"""

from __future__ import annotations

import contextvars
import logging
import math
import os
import time
import typing as t

from singer_sdk import metrics
from singer_sdk.exceptions import AbortedSyncPausedException

from connector_core.ratelimit import BudgetExhausted, Limiter

if t.TYPE_CHECKING:
    from types import TracebackType

    from singer_sdk.streams import Stream

    _StreamBase = Stream
else:
    _StreamBase = object

__all__ = [
    "DEFAULT_INTERVAL",
    "INTERVAL_ENV",
    "ProgressStreamMixin",
    "RunProgress",
    "StreamStats",
    "attach_run_progress",
    "budget_left",
    "current_stats",
    "note_limiter_wait",
    "run_progress",
]

#: Seconds of wall time between two progress lines of a stream.
DEFAULT_INTERVAL = 30.0
#: The environment variable that sets the interval (seconds; 0 turns progress lines off).
INTERVAL_ENV = "CONNECTOR_PROGRESS_INTERVAL"

_RUN_ATTR = "_connector_core_run_progress"
_CURRENT: contextvars.ContextVar[StreamStats | None] = contextvars.ContextVar(
    "connector_core_progress_stream", default=None)
# The run whose first stream sync began last (until its summary): requests made while none of its
# streams syncs are counted as its ``outside_requests``. One tap runs per process.
_ACTIVE_RUN: RunProgress | None = None


class StreamStats:
    """What one stream did in the run (every sync of a child stream added up)."""

    __slots__ = ("_since", "active", "failed", "limiter", "limiter_wait", "name", "next_report",
                 "pages", "records", "requests", "retries", "run", "syncs", "throttle_wait",
                 "throttled")

    def __init__(self, name: str, run: RunProgress | None = None, *, pages: bool = True) -> None:
        self.name = name
        self.run = run
        self.records = 0
        #: Responses the stream parsed; None for a stream that does not request pages itself.
        self.pages: int | None = 0 if pages else None
        self.requests = 0
        self.retries = 0
        self.throttled = 0
        self.throttle_wait = 0.0
        self.limiter_wait = 0.0
        self.active = 0.0
        self.syncs = 0
        self.failed = False
        self.limiter: t.Any = None
        self.next_report = math.inf
        self._since: float | None = None

    def __repr__(self) -> str:
        return f"StreamStats({self.name!r}, records={self.records}, requests={self.requests})"

    # -- counting (called where things happen) ----------------------------------------------------
    def count_attempt(self, exc: BaseException | None = None, result: t.Any = None) -> None:
        """One HTTP attempt ended: returned ``result`` or raised ``exc``.

        An attempt the rate limiter refused (:class:`~connector_core.ratelimit.BudgetExhausted`)
        or whose token could not be had (an OAuth error) sent nothing and is not counted.
        """
        if exc is not None and _not_sent(exc):
            return
        self.requests += 1
        response = getattr(exc, "response", None) if exc is not None else result
        if getattr(response, "status_code", None) == 429:
            self.throttled += 1
        self.tick()

    def count_retry(self, exc: BaseException | None, wait: float) -> None:
        """A retry is about to wait ``wait`` seconds after ``exc``."""
        self.retries += 1
        if getattr(getattr(exc, "response", None), "status_code", None) == 429:
            self.throttle_wait += wait

    def tick(self) -> None:
        """Log a progress line if one is due and the stream is syncing (a clock comparison)."""
        run = self.run
        if run is not None and self._since is not None and run.clock() >= self.next_report:
            run.report(self)

    def elapsed(self, now: float) -> float:
        """Seconds this stream has been the one syncing, up to ``now``."""
        return self.active + (now - self._since if self._since is not None else 0.0)

    def fields(self) -> list[tuple[str, t.Any]]:
        """The summary's ``key=value`` pairs, in order."""
        pairs: list[tuple[str, t.Any]] = [("records", self.records)]
        if self.pages is not None:
            pairs.append(("pages", self.pages))
        pairs += [("requests", self.requests), ("retries", self.retries),
                  ("http_429", self.throttled), ("wait_429", f"{self.throttle_wait:.2f}s"),
                  ("wait_limiter", f"{self.limiter_wait:.2f}s"), ("duration", f"{self.active:.2f}s")]
        return pairs


def _not_sent(exc: BaseException) -> bool:
    if isinstance(exc, BudgetExhausted):
        return True
    # Imported here: connector_core.oauth imports the retry policy, which imports this module.
    from connector_core.oauth.errors import OAuthError

    return isinstance(exc, OAuthError)


def current_stats() -> StreamStats | None:
    """The stats requests are counted in now: the syncing stream's, else the run's outside ones."""
    stats = _CURRENT.get()
    if stats is not None:
        return stats
    run = _ACTIVE_RUN
    return run.outside if run is not None else None


def note_limiter_wait(seconds: float) -> None:
    """The rate limiter held the current request back ``seconds``."""
    if seconds:
        stats = current_stats()
        if stats is not None:
            stats.limiter_wait += seconds


def _interval_from_env(logger: logging.Logger) -> float:
    raw = os.environ.get(INTERVAL_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == math.inf:
        logger.warning("%s must be a number of seconds (0: no progress lines); got %r, using %g",
                       INTERVAL_ENV, raw, DEFAULT_INTERVAL)
        return DEFAULT_INTERVAL
    return value


class RunProgress:
    """The counts of one tap run, its progress lines and its summary.

    Args:
        logger: where the lines go (the tap's logger).
        interval: seconds between two progress lines of a stream (0: none); None (the default):
            the environment variable ``CONNECTOR_PROGRESS_INTERVAL``, else 30.
        clock: monotonic clock (seconds), injectable for tests.
        streams: what the summary lists: the tap's streams, as ``(name, selected)`` pairs.
    """

    def __init__(self, logger: logging.Logger, *, interval: float | None = None,
                 clock: t.Callable[[], float] = time.monotonic,
                 streams: t.Callable[[], t.Iterable[tuple[str, bool]]] | None = None) -> None:
        self.logger = logger
        self.interval = _interval_from_env(logger) if interval is None else max(0.0, float(interval))
        self.clock = clock
        self.streams: dict[str, StreamStats] = {}
        #: Requests made while none of the run's streams synced.
        self.outside = StreamStats("(outside streams)", None, pages=False)
        self.finished = False
        self._listing = streams
        self._stack: list[StreamStats] = []
        self._started: float | None = None

    def activate(self) -> RunProgress:
        """Count the requests made outside every stream's sync in this run from now on."""
        global _ACTIVE_RUN  # noqa: PLW0603 - one run per process
        _ACTIVE_RUN = self
        return self

    def stats(self, name: str, *, pages: bool = True) -> StreamStats:
        found = self.streams.get(name)
        if found is None:
            found = self.streams[name] = StreamStats(name, self, pages=pages)
        return found

    # -- a stream's sync -----------------------------------------------------------------------
    def enter(self, stats: StreamStats) -> None:
        """``stats``'s stream starts syncing (a child stream's sync nests in its parent's)."""
        now = self.clock()
        if self._started is None:
            self._started = now
        if self._stack:
            self._pause(self._stack[-1], now)
        self._stack.append(stats)
        stats._since = now  # noqa: SLF001
        stats.syncs += 1
        if stats.next_report == math.inf and self.interval > 0:
            stats.next_report = now + self.interval
        _CURRENT.set(stats)

    def exit(self, stats: StreamStats, exc: BaseException | None = None) -> None:
        """``stats``'s stream stopped syncing; a failure with no stream left syncing ends the run."""
        now = self.clock()
        self._pause(stats, now)
        if stats in self._stack:
            # The innermost normally; searched so that an out-of-order exit cannot corrupt it.
            del self._stack[len(self._stack) - 1 - self._stack[::-1].index(stats)]
        if self._stack:
            self._stack[-1]._since = now  # noqa: SLF001
            _CURRENT.set(self._stack[-1])
        else:
            _CURRENT.set(None)
        if exc is None or isinstance(exc, (GeneratorExit, AbortedSyncPausedException)):
            return
        stats.failed = True
        if not self._stack:
            self.finish(failed=True)

    @staticmethod
    def _pause(stats: StreamStats, now: float) -> None:
        if stats._since is not None:  # noqa: SLF001
            stats.active += now - stats._since  # noqa: SLF001
            stats._since = None  # noqa: SLF001

    # -- the lines -------------------------------------------------------------------------------
    def progress_line(self, stats: StreamStats, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        elapsed = stats.elapsed(now)
        rate = stats.records / elapsed if elapsed > 0 else 0.0
        parts = [f"stream={stats.name}", f"records={stats.records}"]
        if stats.pages is not None:
            parts.append(f"pages={stats.pages}")
        parts += [f"requests={stats.requests}", f"rate={rate:.1f}/s"]
        left = budget_left(stats.limiter)
        if left is not None:
            parts.append(f"budget_left={left}")
        parts.append(f"elapsed={elapsed:.1f}s")
        return "Progress: " + " ".join(parts)

    def report(self, stats: StreamStats) -> None:
        """Log ``stats``'s progress line now and schedule the next one."""
        now = self.clock()
        stats.next_report = now + self.interval if self.interval > 0 else math.inf
        self.logger.info(self.progress_line(stats, now))

    def summary_lines(self, *, failed: bool = False) -> list[str]:
        """One ``Sync summary:`` line per stream selected or with work done, then ``Sync total:``."""
        listed: list[str] = []
        for name, selected in (self._listing() if self._listing is not None else ()):
            if selected or name in self.streams:
                listed.append(name)
        listed += [name for name in self.streams if name not in listed]
        lines = []
        total = StreamStats("total", None)
        any_pages = False
        for name in listed:
            stats = self.streams.get(name) or StreamStats(name, None)
            status = "failed" if stats.failed else "not_run" if failed and not stats.syncs else "ok"
            fields = " ".join(f"{k}={v}" for k, v in stats.fields())
            lines.append(f"Sync summary: stream={name} {fields} status={status}")
            total.records += stats.records
            if stats.pages is not None:
                any_pages = True
                total.pages = (total.pages or 0) + stats.pages
            for attr in ("requests", "retries", "throttled", "throttle_wait", "limiter_wait"):
                setattr(total, attr, getattr(total, attr) + getattr(stats, attr))
        outside = self.outside
        for attr in ("requests", "retries", "throttled", "throttle_wait", "limiter_wait"):
            setattr(total, attr, getattr(total, attr) + getattr(outside, attr))
        if not any_pages:
            total.pages = None
        total.active = self.clock() - self._started if self._started is not None else 0.0
        fields = " ".join(f"{k}={v}" for k, v in total.fields())
        extra = f" outside_requests={outside.requests}" if outside.requests else ""
        lines.append(f"Sync total: streams={len(listed)} {fields}{extra} "
                     f"status={'failed' if failed else 'ok'}")
        return lines

    def finish(self, *, failed: bool = False) -> None:
        """Log the summary (once per run)."""
        global _ACTIVE_RUN  # noqa: PLW0603
        if self.finished:
            return
        self.finished = True
        for line in self.summary_lines(failed=failed):
            self.logger.info(line)
        if _ACTIVE_RUN is self:
            _ACTIVE_RUN = None


def run_progress(tap: t.Any) -> RunProgress:
    """The run of ``tap`` (made on first use, then counting its requests outside streams)."""
    run = tap.__dict__.get(_RUN_ATTR)
    if run is None:
        run = attach_run_progress(tap, RunProgress(tap.logger))
    return t.cast(RunProgress, run)


def attach_run_progress(tap: t.Any, run: RunProgress) -> RunProgress:
    """Make ``run`` the run of ``tap`` (tests: a fake clock, an interval)."""
    if run._listing is None:  # noqa: SLF001
        run._listing = lambda: ((s.name, bool(s.selected)) for s in tap.streams.values())  # noqa: SLF001
    tap.__dict__[_RUN_ATTR] = run
    return run.activate()


# -- budget left --------------------------------------------------------------------------------


def budget_left(limiter: Limiter | None) -> str | None:
    """What ``limiter`` knows is left in its current window(s) (its ``budget_left()``), or None."""
    if limiter is None:
        return None
    answer = limiter.budget_left()
    return None if answer is None else str(answer)


# -- the stream side ----------------------------------------------------------------------------


class _RecordCounter(metrics.Counter):
    """singer-sdk's record counter (its metric lines unchanged) that also counts into the run:
    entered and left around each sync of the stream, incremented once per record emitted.

    One deadline stands for both intervals (singer-sdk's metric line, the progress line), so a
    record costs one clock read and one comparison, as singer-sdk's own counter does."""

    def __init__(self, inner: metrics.Counter, run: RunProgress, stats: StreamStats) -> None:
        super().__init__(inner.metric, inner.tags, log_interval=inner.log_interval)
        self._run, self._stats, self._clock = run, stats, run.clock
        self._due = -math.inf

    def __enter__(self) -> _RecordCounter:
        super().__enter__()
        self._run.enter(self._stats)
        self._schedule(self._clock())
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc_val: BaseException | None,
                 exc_tb: TracebackType | None) -> None:
        try:
            super().__exit__(exc_type, exc_val, exc_tb)
        finally:
            self._run.exit(self._stats, exc_val)

    def increment(self, value: int = 1) -> None:
        self.value += value
        self._stats.records += value
        if self._clock() >= self._due:
            self._on_due()

    def _on_due(self) -> None:
        if self._ready_to_log():
            self._pop()  # singer-sdk's record_count metric line, as Counter.increment logs it
        stats = self._stats
        if self._clock() >= stats.next_report:
            self._run.report(stats)
        self._schedule(self._clock())

    def _schedule(self, now: float) -> None:
        # singer-sdk times its metric line on the wall clock; the progress line on the run's.
        metric_in = self.last_log_time + self.log_interval - time.time()
        self._due = min(now + max(metric_in, 0.0), self._stats.next_report)


class _PageCounter(metrics.Counter):
    """singer-sdk's HTTP request counter (one increment per page parsed), counting pages too."""

    def __init__(self, inner: metrics.Counter, stats: StreamStats) -> None:
        super().__init__(inner.metric, inner.tags, log_interval=inner.log_interval)
        self._stats = stats

    def increment(self, value: int = 1) -> None:
        super().increment(value)
        stats = self._stats
        stats.pages = (stats.pages or 0) + value
        stats.tick()


class ProgressStreamMixin(_StreamBase):
    """Progress lines and the end-of-run summary for a singer-sdk stream (put it first in the
    bases; :class:`~connector_core.streams.VendorStream` has it).

    It hooks only singer-sdk's overridable counters: ``get_record_counter`` (around each sync, once
    per record), ``get_http_request_counter`` (REST streams: once per page) and
    ``log_sync_costs`` (called for every stream once the run's syncs are done: the summary).
    """

    def get_record_counter(self, *, endpoint: str | None = None,
                           log_interval: float = metrics.DEFAULT_LOG_INTERVAL) -> metrics.Counter:
        inner = super().get_record_counter(endpoint=endpoint, log_interval=log_interval)
        run = run_progress(self._tap)
        return _RecordCounter(inner, run, run.stats(self.name, pages=self._counts_pages()))

    def get_http_request_counter(self) -> metrics.Counter:
        inner = super().get_http_request_counter()  # type: ignore[misc]
        stats = run_progress(self._tap).stats(self.name)
        # The limiter this request_records waits on (Exact: the partition's division).
        stats.limiter = getattr(self, "rate_limiter", None)
        return _PageCounter(inner, stats)

    def log_sync_costs(self) -> None:
        super().log_sync_costs()
        run_progress(self._tap).finish()

    def _counts_pages(self) -> bool:
        return callable(getattr(super(), "get_http_request_counter", None))
