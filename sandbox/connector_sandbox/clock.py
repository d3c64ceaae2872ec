"""The injectable clock every emulator writes its timestamps with."""

from __future__ import annotations

import datetime as dt
import threading
import time

UTC = dt.timezone.utc


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
