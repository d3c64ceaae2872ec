from __future__ import annotations

import logging
import random
import time
from urllib.parse import urlsplit

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from connector_core import (
    REDACTOR,
    RetriableHTTPError,
    RetriesExhaustedError,
    RetryPolicy,
)
from tests.core.http_server import DROP, Reply, ScriptedServer

FAST = RetryPolicy(max_tries=4, base_delay=0.01, max_delay=0.05)


class MaxRandom(random.Random):
    """Always picks the top of the range, so waits equal their ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


class MinRandom(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return a


def response_with(status: int, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    return response


def started(gen):  # type: ignore[no-untyped-def]
    assert gen.send(None) is None  # backoff primes the generator with send(None)
    return gen


# -- policy basics ----------------------------------------------------------


def test_retriable_statuses() -> None:
    policy = RetryPolicy()
    for status in (429, 500, 502, 503, 504, 507, 599):
        assert policy.is_retriable_status(status), status
    for status in (200, 301, 400, 401, 403, 404, 409, 422):
        assert not policy.is_retriable_status(status), status
    assert RetryPolicy(retry_statuses=frozenset({429, 408})).is_retriable_status(408)


def test_backoff_send_protocol_is_what_backoff_does() -> None:
    """Guard against a backoff upgrade changing how the generator is driven."""
    from backoff import _common

    seen: list[object] = []

    def gen():  # type: ignore[no-untyped-def]
        while True:
            seen.append((yield 0.0))

    wait = _common._init_wait_gen(gen, {})
    marker = RuntimeError("x")
    _common._next_wait(wait, marker, None, 0.0, None)
    assert seen == [marker]  # the priming send(None) stops at the first yield


# -- wait generator ---------------------------------------------------------


def test_retry_after_is_honoured_and_never_shortened() -> None:
    policy = RetryPolicy(max_delay=2.0)
    error = RetriableHTTPError(response_with(429, {"Retry-After": "7"}))
    for rng in (MinRandom(), MaxRandom(), random.Random(1)):
        gen = started(policy.wait_generator(rng=rng))
        for _ in range(5):
            wait = gen.send(error)
            assert 7.0 <= wait <= 7.7  # exactly the header, at most +10 %
    assert started(policy.wait_generator(rng=MinRandom())).send(error) == 7.0


def test_retry_after_is_read_from_singer_sdk_errors_too() -> None:
    error = RetriableAPIError("busy", response_with(503, {"Retry-After": "3"}))
    gen = started(RetryPolicy().wait_generator(rng=MinRandom()))
    assert gen.send(error) == 3.0


def test_retry_after_above_the_maximum_is_clamped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = RetryPolicy(max_retry_after=30.0)
    gen = started(policy.wait_generator(rng=MinRandom()))
    with caplog.at_level(logging.WARNING):
        wait = gen.send(RetriableHTTPError(response_with(429, {"Retry-After": "86400"})))
    assert wait == 30.0
    assert "86400" in caplog.text and "30" in caplog.text


def test_exponential_growth_without_retry_after_and_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, factor=2.0, max_delay=5.0)
    gen = started(policy.wait_generator(rng=MaxRandom()))
    error = ConnectionResetError()
    waits = [gen.send(error) for _ in range(7)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_full_jitter_stays_within_the_ceiling() -> None:
    policy = RetryPolicy(base_delay=1.0, factor=2.0, max_delay=8.0)
    gen = started(policy.wait_generator(rng=random.Random(42)))
    error = RetriableHTTPError(response_with(503))  # no Retry-After header
    waits = [gen.send(error) for _ in range(200)]
    for n, wait in enumerate(waits):
        assert 0.0 <= wait <= policy.backoff_ceiling(n)
    assert len(set(waits)) > 150  # really random, not a constant
    assert max(waits[10:]) > 4.0  # the ceiling did grow


def test_a_retry_after_in_between_does_not_reset_the_exponent() -> None:
    policy = RetryPolicy(base_delay=1.0, factor=2.0, max_delay=100.0)
    gen = started(policy.wait_generator(rng=MaxRandom()))
    assert gen.send(ConnectionResetError()) == 1.0
    assert gen.send(RetriableHTTPError(response_with(429, {"Retry-After": "0"}))) == 0.0
    assert gen.send(ConnectionResetError()) == 4.0


# -- decorate against a real local server -------------------------------------


def get_with(policy: RetryPolicy, session: requests.Session):  # type: ignore[no-untyped-def]
    def get(url: str) -> requests.Response:
        return policy.raise_for_retriable(session.get(url, timeout=5))

    return policy.decorate(
        get,
        logger=logging.getLogger("test.retry"),
        describe=lambda a, k: f"GET {urlsplit(a[0]).path}",
    )


def test_429_retry_after_is_waited_out(http_server: ScriptedServer) -> None:
    http_server.script(
        "/items",
        Reply(429, {"message": "slow down"}, {"Retry-After": "1"}),
        Reply(200, {"items": [1]}),
    )
    call = get_with(RetryPolicy(max_tries=3), requests.Session())
    start = time.monotonic()
    response = call(f"{http_server.base_url}/items")
    elapsed = time.monotonic() - start
    assert response.status_code == 200
    assert http_server.count("/items") == 2
    assert 1.0 <= elapsed < 1.5


def test_burst_of_503_then_success(
    http_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    http_server.script("/burst", Reply(503), Reply(503), Reply(503), Reply(200, {"ok": True}))
    call = get_with(FAST, requests.Session())
    with caplog.at_level(logging.WARNING, logger="test.retry"):
        response = call(f"{http_server.base_url}/burst")
    assert response.json() == {"ok": True}
    assert http_server.count("/burst") == 4
    backoff_lines = [r.getMessage() for r in caplog.records if r.name == "test.retry"]
    assert len(backoff_lines) == 3
    assert "attempt 1/4" in backoff_lines[0]
    assert "503" in backoff_lines[0]


def test_permanent_500_gives_up_with_a_clear_redacted_error(
    http_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk_live_TOPSECRET_9f8e7d"
    REDACTOR.add(secret)
    http_server.script(
        "/v1/reports",
        Reply(500, {"message": f"database on fire while checking key {secret}"}),
    )
    policy = RetryPolicy(max_tries=3, base_delay=0.01, max_delay=0.02)
    session = requests.Session()

    def fetch(url: str) -> requests.Response:
        return policy.raise_for_retriable(session.get(url, timeout=5))

    call = policy.decorate(fetch, logger=logging.getLogger("test.retry"))
    with caplog.at_level(logging.WARNING), pytest.raises(RetriesExhaustedError) as info:
        call(f"{http_server.base_url}/v1/reports?api_key={secret}")

    message = str(info.value)
    assert http_server.count("/v1/reports") == 3
    assert info.value.attempts == 3
    assert info.value.status == 500
    assert "500" in message and "3 attempts" in message
    assert "database on fire" in message  # the vendor's own words
    assert secret not in message
    assert secret not in caplog.text
    assert "api_key" not in message  # no query string at all


def test_describe_defaults_to_the_request_found_in_the_arguments(
    http_server: ScriptedServer,
) -> None:
    http_server.script("/things/42", Reply(502))
    policy = RetryPolicy(max_tries=2, base_delay=0.01)
    session = requests.Session()

    def send(prepared: requests.PreparedRequest) -> requests.Response:
        return policy.raise_for_retriable(session.send(prepared, timeout=5))

    call = policy.decorate(send, logger=logging.getLogger("test.retry"))
    prepared = requests.Request("GET", f"{http_server.base_url}/things/42?token=abc").prepare()
    with pytest.raises(
        RetriesExhaustedError,
        match=r"^GET /things/42 failed after 2 attempts; last error: HTTP 502",
    ):
        call(prepared)


def test_dropped_connection_is_retried(http_server: ScriptedServer) -> None:
    http_server.script("/flaky", DROP, Reply(200, {"ok": 1}))
    call = get_with(FAST, requests.Session())
    response = call(f"{http_server.base_url}/flaky")
    assert response.json() == {"ok": 1}
    assert http_server.count("/flaky") == 2


def test_dropped_connection_every_time_names_the_exception(http_server: ScriptedServer) -> None:
    http_server.script("/gone", DROP)
    policy = RetryPolicy(max_tries=2, base_delay=0.01)
    session = requests.Session()
    call = policy.decorate(lambda url: session.get(url, timeout=5), logger=logging.getLogger("t"))
    with pytest.raises(RetriesExhaustedError) as info:
        call(f"{http_server.base_url}/gone?password=hunter22")
    assert "ConnectionError" in str(info.value)
    assert "hunter22" not in str(info.value)
    assert http_server.count("/gone") == 2


def test_non_retriable_errors_pass_through_untouched() -> None:
    calls = []

    def boom() -> None:
        calls.append(1)
        raise KeyError("not an HTTP problem")

    with pytest.raises(KeyError):
        FAST.decorate(boom, logger=logging.getLogger("t"))()
    assert calls == [1]
