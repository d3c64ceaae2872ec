"""ResilientRESTStreamMixin inside a real singer-sdk Tap, against a local server."""

from __future__ import annotations

import logging
import typing as t

import pytest
import requests
from requests.auth import HTTPBasicAuth
from singer_sdk import RESTStream, Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import FatalAPIError

from connector_core import RateLimiter, ResilientRESTStreamMixin, RetriesExhaustedError, RetryPolicy
from tests.core.http_server import Reply, ScriptedServer

PASSWORD = "correct-horse-battery"


class CountingLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__(100, 1.0, name="test")
        self.acquires = 0
        self.observed: list[int] = []

    def acquire(self) -> float:
        self.acquires += 1
        return super().acquire()

    def observe_response(self, response: requests.Response) -> None:
        self.observed.append(response.status_code)


class ItemsStream(ResilientRESTStreamMixin, RESTStream):
    name = "items"
    path = "/v1/items"
    primary_keys = ("id",)
    records_jsonpath = "$.items[*]"
    schema = th.PropertiesList(th.Property("id", th.IntegerType)).to_dict()
    retry_policy = RetryPolicy(max_tries=3, base_delay=0.01, max_delay=0.02)

    @property
    def url_base(self) -> str:
        return self.config["base_url"]

    @property
    def authenticator(self) -> HTTPBasicAuth:  # type: ignore[override]
        return HTTPBasicAuth(self.config["username"], self.config["password"])

    @property
    def rate_limiter(self) -> RateLimiter:  # type: ignore[override]
        return self._tap.limiter  # type: ignore[attr-defined]

    def get_url_params(self, context: t.Any, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"pageSize": 1000, "apikey": self.config["password"]}

    def error_hint(self, response: requests.Response) -> str | None:
        if response.status_code in (401, 403):
            return "Check the `username` and `password` settings"
        return None


class TapTest(Tap):
    name = "tap-coretest"
    config_jsonschema = th.PropertiesList(
        th.Property("base_url", th.StringType, required=True),
        th.Property("username", th.StringType, required=True),
        th.Property("password", th.StringType, required=True, secret=True),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.limiter = CountingLimiter()
        super().__init__(*args, **kwargs)

    def discover_streams(self) -> list[RESTStream]:
        return [ItemsStream(self)]


def make_stream(server: ScriptedServer) -> tuple[ItemsStream, CountingLimiter]:
    tap = TapTest(
        config={"base_url": server.base_url, "username": "acme", "password": PASSWORD},
        parse_env_config=False,
    )
    stream = t.cast(ItemsStream, tap.streams["items"])
    return stream, tap.limiter


def test_401_is_fatal_with_hint_and_vendor_message_but_no_password(
    http_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    http_server.script(
        "/v1/items",
        Reply(
            401,
            {"code": "Unauthorized", "message": f"Password '{PASSWORD}' is not valid for acme"},
            {"WWW-Authenticate": "Basic realm=api"},
        ),
    )
    stream, limiter = make_stream(http_server)
    with caplog.at_level(logging.DEBUG), pytest.raises(FatalAPIError) as info:
        list(stream.get_records(None))
    message = str(info.value)
    assert message.startswith("401 Unauthorized for GET /v1/items: ")
    assert "is not valid for acme" in message  # vendor's message
    assert "Check the `username` and `password` settings" in message  # hint
    assert PASSWORD not in message
    assert "***" in message
    assert "pageSize" not in message and "apikey" not in message  # no query string
    assert "WWW-Authenticate" not in message and "Basic" not in message  # no headers
    assert PASSWORD not in caplog.text
    assert http_server.count("/v1/items") == 1  # fatal: not retried
    assert limiter.acquires == 1
    assert limiter.observed == [401]
    # The request really carried the credentials (so redaction had work to do).
    assert http_server.requests[0].headers["Authorization"].startswith("Basic ")


def test_503_twice_then_records(
    http_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    http_server.script(
        "/v1/items",
        Reply(503, {"error": "maintenance"}),
        Reply(503, {"error": "maintenance"}),
        Reply(200, {"items": [{"id": 1}, {"id": 2}]}),
    )
    stream, limiter = make_stream(http_server)
    with caplog.at_level(logging.WARNING):
        records = list(stream.get_records(None))
    assert records == [{"id": 1}, {"id": 2}]
    assert http_server.count("/v1/items") == 3
    assert limiter.acquires == 3  # once per attempt, retries included
    assert limiter.observed == [503, 503, 200]
    retries = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
    assert len(retries) == 2
    assert retries[0].startswith("GET /v1/items: attempt 1/3 failed (HTTP 503 Service Unavailable)")
    assert PASSWORD not in caplog.text


def test_permanent_502_exhausts_with_vendor_message(http_server: ScriptedServer) -> None:
    http_server.script("/v1/items", Reply(502, {"message": "upstream timeout"}))
    stream, limiter = make_stream(http_server)
    with pytest.raises(RetriesExhaustedError) as info:
        list(stream.get_records(None))
    message = str(info.value)
    assert message.startswith("GET /v1/items failed after 3 attempts; last error: ")
    assert "502 Bad Gateway for GET /v1/items: upstream timeout" in message
    assert PASSWORD not in message
    assert limiter.acquires == 3


def test_404_is_fatal_without_hint(http_server: ScriptedServer) -> None:
    http_server.script("/v1/items", Reply(404, "no such thing", {"Content-Type": "text/plain"}))
    stream, _ = make_stream(http_server)
    with pytest.raises(FatalAPIError) as info:
        list(stream.get_records(None))
    assert str(info.value) == "404 Not Found for GET /v1/items: no such thing"
