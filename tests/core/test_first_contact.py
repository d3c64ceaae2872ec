"""A refused connection or unknown host on a connection's first request fails at once, naming the
URL setting; once the address has answered, the same failures are retried as transient."""

from __future__ import annotations

import logging
import socket

import pytest
import requests

from connector_core import (
    RetriesExhaustedError,
    RetryPolicy,
    UnreachableError,
    UrlSetting,
    unreachable_reason,
)
from tests.core.http_server import Reply

UNKNOWN_HOST = "http://nonexistent.invalid"  # .invalid never resolves (RFC 6761)


@pytest.fixture
def closed_port_url() -> str:
    """An address on loopback where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Caller:
    """One GET per call to the next of ``urls`` (the last repeats); counts the attempts."""

    def __init__(self, *urls: str) -> None:
        self.urls = list(urls)
        self.attempts = 0

    def __call__(self) -> requests.Response:
        url = self.urls[min(self.attempts, len(self.urls) - 1)]
        self.attempts += 1
        return requests.get(url + "/items", timeout=5)


def policy(url_setting: UrlSetting | None, tries: int = 4) -> RetryPolicy:
    return RetryPolicy(max_tries=tries, base_delay=0.01, max_delay=0.02, url_setting=url_setting)


@pytest.mark.parametrize("unreachable", ["refused", "unknown host"])
def test_the_first_request_fails_at_once_naming_the_setting_and_the_address(
    unreachable, closed_port_url
):
    url, reason = ((closed_port_url, "connection refused") if unreachable == "refused"
                   else (UNKNOWN_HOST, "unknown host"))
    get = Caller(url)
    with pytest.raises(UnreachableError) as info:
        policy(UrlSetting("site", hint="a host or a URL"), tries=8).decorate(get)()
    assert get.attempts == 1  # no retry
    message = str(info.value)
    assert message == (f"Cannot connect to {url}: {reason} (GET /items, the first request to it "
                       "in this run). Check the `site` setting (a host or a URL).")
    assert (info.value.setting, info.value.address, info.value.reason) == ("site", url, reason)


def test_without_a_url_setting_a_refusal_is_retried_as_before(closed_port_url, caplog):
    get = Caller(closed_port_url)
    with caplog.at_level(logging.WARNING), pytest.raises(RetriesExhaustedError):
        policy(None).decorate(get)()
    assert get.attempts == 4
    assert "attempt 1/4 failed (ConnectionError: connection refused); retrying" in caplog.text


def test_once_the_address_answered_a_refusal_is_transient_and_retried(
    http_server, closed_port_url, caplog
):
    http_server.script("/items", Reply(200, {"ok": True}))
    # The server answers, then refuses twice (a restart), then answers again.
    get = Caller(http_server.base_url, closed_port_url, closed_port_url, http_server.base_url)
    send = policy(UrlSetting("site")).decorate(get)
    assert send().status_code == 200
    with caplog.at_level(logging.WARNING):
        assert send().status_code == 200
    assert get.attempts == 4
    assert caplog.text.count("failed (ConnectionError: connection refused); retrying") == 2


def test_an_error_status_is_an_answer_too(http_server, closed_port_url):
    http_server.script("/items", Reply(404, {"message": "no such thing"}))
    get = Caller(http_server.base_url, closed_port_url)
    send = policy(UrlSetting("base_url")).decorate(get)
    assert send().status_code == 404
    with pytest.raises(RetriesExhaustedError, match="failed after 4 attempts"):
        send()
    assert get.attempts == 5


def test_a_retriable_status_on_the_first_request_counts_as_an_answer(http_server, closed_port_url):
    http_server.script("/items", Reply(503))
    setting = UrlSetting("site")
    retry = policy(setting, tries=2)

    def get() -> requests.Response:
        return retry.raise_for_retriable(requests.get(http_server.base_url + "/items", timeout=5))

    with pytest.raises(RetriesExhaustedError):
        retry.decorate(get)()
    assert setting.answered


def test_a_timeout_on_the_first_request_keeps_being_retried():
    attempts = []

    def get() -> None:
        attempts.append(1)
        raise requests.exceptions.ConnectTimeout("connect timed out")

    with pytest.raises(RetriesExhaustedError):
        policy(UrlSetting("site")).decorate(get)()
    assert len(attempts) == 4


def test_a_dropped_connection_on_the_first_request_keeps_being_retried():
    """Only "refused" and "unknown host" say the address is wrong; a reset may be transient."""
    attempts = []

    def get() -> None:
        attempts.append(1)
        raise requests.exceptions.ConnectionError(
            "('Connection aborted.', RemoteDisconnected('Remote end closed connection'))")

    with pytest.raises(RetriesExhaustedError):
        policy(UrlSetting("site")).decorate(get)()
    assert len(attempts) == 4


def test_an_unreachable_token_endpoint_inside_a_request_is_not_retried_by_the_outer_policy(
    closed_port_url,
):
    """An OAuth refresh runs inside the API request (the auth hook): its error passes through."""
    token_policy = policy(UrlSetting("base_url"))
    api_attempts = []

    def api_request() -> None:
        api_attempts.append(1)
        token_policy.decorate(Caller(closed_port_url))()

    with pytest.raises(UnreachableError, match="`base_url`"):
        policy(UrlSetting("base_url")).decorate(api_request)()
    assert api_attempts == [1]


def test_unreachable_reason_reads_the_whole_chain(closed_port_url):
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(closed_port_url, timeout=5)
    with pytest.raises(requests.ConnectionError) as unknown:
        requests.get(UNKNOWN_HOST, timeout=5)
    assert unreachable_reason(refused.value) == "connection refused"
    assert unreachable_reason(unknown.value) == "unknown host"
    assert unreachable_reason(requests.ConnectionError("reset by peer")) is None


def test_the_address_in_the_message_never_carries_a_password(closed_port_url):
    port = closed_port_url.rsplit(":", 1)[1]
    get = Caller(f"http://proxyuser:pr0xy-pa55word@127.0.0.1:{port}")
    with pytest.raises(UnreachableError) as info:
        policy(UrlSetting("base_url")).decorate(get)()
    assert f"Cannot connect to http://127.0.0.1:{port}: connection refused" in str(info.value)
    assert "pr0xy-pa55word" not in str(info.value) and "proxyuser" not in str(info.value)
