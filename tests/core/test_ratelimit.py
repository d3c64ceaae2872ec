from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import typing as t

import pytest
import requests

from connector_core import BudgetExhausted, RateLimiter, make_header_reader


class FakeTime:
    """A monotonic and a wall clock that only move when someone sleeps."""

    def __init__(self, start_wall: float = 1_700_000_000.0) -> None:
        self.now = 100.0
        self.wall_offset = start_wall - self.now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def wall(self) -> float:
        with self._lock:
            return self.now + self.wall_offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def limiter(fake: FakeTime, max_requests: int | None, per_seconds: float, **kw) -> RateLimiter:  # type: ignore[no-untyped-def]
    return RateLimiter(
        max_requests, per_seconds, clock=fake.clock, wall_clock=fake.wall, sleep=fake.sleep, **kw
    )


def test_budget_lets_n_through_then_waits_for_the_window() -> None:
    fake = FakeTime()
    rl = limiter(fake, 5, 1.0, name="test")
    for _ in range(5):
        assert rl.acquire() == 0.0
    assert fake.sleeps == []
    waited = rl.acquire()
    assert waited == pytest.approx(1.0)
    assert sum(fake.sleeps) == pytest.approx(1.0)
    assert rl.acquired_total == 6
    assert rl.waited_seconds_total == pytest.approx(1.0)


def test_sliding_window_only_waits_for_the_oldest_request() -> None:
    fake = FakeTime()
    rl = limiter(fake, 2, 1.0)
    rl.acquire()
    fake.sleep(0.6)
    rl.acquire()
    fake.sleeps.clear()
    rl.acquire()  # the first request leaves the window 0.4 s from now
    assert sum(fake.sleeps) == pytest.approx(0.4)


def test_aligned_window_renews_at_the_clock_boundary_not_a_minute_after_the_burst() -> None:
    fake = FakeTime(start_wall=1_700_000_020.0)  # second 40 of a clock minute
    rl = limiter(fake, 3, 60.0, aligned=True)
    for _ in range(3):
        assert rl.acquire() == 0.0
    assert rl.acquire() == pytest.approx(20.0)  # until second 0 of the next minute, not second 40
    fake.sleep(1.0)
    rl.acquire()
    rl.acquire()  # three in the new minute
    fake.sleeps.clear()
    rl.acquire()
    assert sum(fake.sleeps) == pytest.approx(59.0)


def test_a_wait_longer_than_max_wait_raises_budget_exhausted() -> None:
    fake = FakeTime()
    rl = limiter(fake, None, 86400.0, name="daily", max_wait=300.0)
    rl.observe(0, fake.wall() + 200.0)
    assert rl.acquire() == pytest.approx(200.0)  # renews within max_wait: wait
    rl.observe(0, fake.wall() + 7200.0)
    fake.sleeps.clear()
    with pytest.raises(BudgetExhausted) as raised:
        rl.acquire()
    assert fake.sleeps == []  # no sleep at all
    assert raised.value.reset_at_epoch == pytest.approx(fake.wall() + 7200.0)
    assert "daily" in str(raised.value) and "7200 s" in str(raised.value)


def test_server_says_nothing_left_until_reset() -> None:
    fake = FakeTime()
    rl = limiter(fake, None, 1.0)  # headers only: no published budget
    rl.acquire()
    rl.observe(remaining=0, reset_at_epoch=fake.wall() + 2.0, limit=100)
    assert rl.server_limit == 100
    waited = rl.acquire()
    assert waited == pytest.approx(2.0)
    assert rl.acquire() == 0.0  # the window renewed; nothing known any more


def test_reserve_stops_early_and_own_requests_are_counted() -> None:
    fake = FakeTime()
    rl = limiter(fake, None, 60.0, reserve=1)
    rl.observe(remaining=3, reset_at_epoch=fake.wall() + 10.0)
    assert rl.acquire() == 0.0  # 3 -> 2 left
    assert rl.acquire() == 0.0  # 2 -> 1 left == reserve
    assert rl.acquire() == pytest.approx(10.0)


def test_reset_in_the_past_does_not_block() -> None:
    fake = FakeTime()
    rl = limiter(fake, None, 1.0)
    rl.observe(remaining=0, reset_at_epoch=fake.wall() - 5.0)
    assert rl.acquire() == 0.0


def test_header_reader_feeds_the_limiter() -> None:
    fake = FakeTime()
    reader = make_header_reader(clock=fake.wall)
    rl = limiter(fake, None, 1.0, header_reader=reader)
    response = requests.Response()
    response.headers.update(
        {
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(fake.wall() + 3),
            "X-RateLimit-Limit": "50",
        }
    )
    rl.observe_response(response)
    assert rl.server_limit == 50
    assert rl.acquire() == pytest.approx(3.0)

    delay_reader = make_header_reader(
        "RateLimit-Remaining", "RateLimit-Reset", None, reset_is_delay=True, clock=fake.wall
    )
    response = requests.Response()
    response.headers.update({"RateLimit-Remaining": "0", "RateLimit-Reset": "4"})
    assert delay_reader(response) == (0, pytest.approx(fake.wall() + 4), None)
    assert delay_reader(requests.Response()) is None


def test_long_waits_are_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeTime()
    rl = limiter(fake, 1, 10.0, name="vendorx", logger=logging.getLogger("test.rl"))
    rl.acquire()
    with caplog.at_level(logging.DEBUG, logger="test.rl"):
        rl.acquire()
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert "vendorx" in caplog.text and "10.00 s" in caplog.text


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 1.0)
    with pytest.raises(ValueError):
        RateLimiter(5, 0)


class RecordingLimiter(RateLimiter):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.admitted: list[float] = []

    def _admit(self, now: float) -> None:
        super()._admit(now)
        self.admitted.append(now)


def test_thread_safety_budget_never_exceeded() -> None:
    budget, window = 25, 0.05
    rl = RecordingLimiter(budget, window)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(20):
                rl.acquire()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    elapsed = time.monotonic() - start

    assert not errors
    assert rl.acquired_total == 200
    stamps = rl.admitted
    assert len(stamps) == 200
    assert stamps == sorted(stamps)
    # Any budget+1 consecutive admissions must span at least one full window.
    for i in range(len(stamps) - budget):
        assert stamps[i + budget] - stamps[i] >= window - 1e-9, i
    # 200 requests at 25 per 50 ms need at least 7 full windows.
    assert elapsed >= 7 * window
    assert rl.waited_seconds_total > 0


# -- counting arrivals (SuperOffice's "no more than 10 API calls per second") -------------------------


def most_in_a_second(stamps: t.Iterable[float]) -> int:
    """The most requests that arrived within any sliding second."""
    ordered, most, j = sorted(stamps), 0, 0
    for i, stamp in enumerate(ordered):
        while ordered[j] <= stamp - 1.0:
            j += 1
        most = max(most, i - j + 1)
    return most


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _answered(elapsed: float) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.elapsed = dt.timedelta(seconds=elapsed)
    return response


def test_the_limiter_counts_a_request_from_its_response_so_late_arrivals_cannot_exceed_10_a_second():
    """10 requests a second as the server counts them (arrivals): the first request reaches the
    server 0.3 s late, the others at once; the next window may not start until a second after its
    answer."""
    clock = _Clock()
    limiter = RateLimiter(10, 1.0, clock=clock, sleep=clock.sleep, counts_arrivals=True)
    arrivals = []
    for i in range(30):
        limiter.acquire()
        delay = 0.3 if i == 0 else 0.01  # the first request arrives late
        clock.now += delay
        arrivals.append(clock.now)
        clock.now += 0.01  # the answer
        limiter.observe_response(_answered(delay + 0.01))
    assert most_in_a_second(arrivals) <= 10
    # Counted from when they were sent (connector-core's RateLimiter), the same requests arrive
    # 11 within a second.
    clock, arrivals = _Clock(), []
    plain = RateLimiter(10, 1.0, clock=clock, sleep=clock.sleep)
    for i in range(30):
        plain.acquire()
        delay = 0.3 if i == 0 else 0.01
        clock.now += delay
        arrivals.append(clock.now)
        clock.now += 0.01
    assert most_in_a_second(arrivals) == 11


def test_the_limiter_matches_concurrent_answers_in_any_order_and_counts_unanswered_ones_from_sending():
    clock = _Clock()
    limiter = RateLimiter(3, 1.0, clock=clock, sleep=clock.sleep, counts_arrivals=True)
    for _ in range(3):
        limiter.acquire()  # three in flight, sent at 1000.0
    clock.now = 1000.9
    limiter.observe_response(_answered(0.9))  # one answered at 1000.9; two never answered
    clock.now = 1001.0
    # The two unanswered ones left the window at 1001.0 (counted from sending); the answered one
    # counts until 1001.9.
    assert limiter.acquire() == pytest.approx(0.0) and limiter.acquire() == pytest.approx(0.0)
    waited = limiter.acquire()
    assert waited == pytest.approx(0.9) and clock.now == pytest.approx(1001.9)
