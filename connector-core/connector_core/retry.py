"""Retry policy for HTTP calls: Retry-After, 429/5xx, network errors, clear final error.

:class:`RetryPolicy` decides which failures are worth another attempt and how
long to wait: exactly the server's ``Retry-After`` when it sent one, otherwise
exponential backoff with full jitter. :meth:`RetryPolicy.decorate` applies it
to any function that performs one HTTP request, using ``backoff``; when the
attempts run out it raises :class:`RetriesExhaustedError`, whose message says
what was requested, how often, and what the server last answered.

The singer-sdk side (a stream that retries with it) is
:class:`connector_core.streams.ResilientRESTStreamMixin`.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import random
import re
import socket
import typing as t
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import urlsplit

import backoff
import requests
import urllib3.exceptions
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from connector_core.progress import current_stats
from connector_core.redaction import redact

__all__ = [
    "RETRIABLE_EXCEPTIONS",
    "RetriableHTTPError",
    "RetriesExhaustedError",
    "RetryPolicy",
    "UnreachableError",
    "UrlSetting",
    "default_vendor_error",
    "describe_request",
    "parse_retry_after",
    "unreachable_reason",
]

_VENDOR_ERROR_MAX_CHARS = 500
_VENDOR_ERROR_KEYS = ("message", "error", "error_description", "errors")
_DEFAULT_LOGGER = logging.getLogger("connector_core.retry")


# --------------------------------------------------------------------------
# Retry-After
# --------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header value.

    Accepts delay-seconds (``"120"``, and leniently ``"1.5"``) and an HTTP-date
    (RFC 9110, e.g. ``"Wed, 21 Oct 2015 07:28:00 GMT"``). A date in the past
    gives ``0.0``. Returns ``None`` for an absent or unparseable value.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:  # some Python versions return None instead of raising
        return None
    if when.tzinfo is None:  # "-0000" dates are naive; HTTP-dates are UTC
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    if current.tzinfo is None:
        current = current.replace(tzinfo=timezone.utc)
    return max(0.0, (when - current).total_seconds())


# --------------------------------------------------------------------------
# Exceptions
# --------------------------------------------------------------------------


class RetriableHTTPError(Exception):
    """A response that deserves another attempt (429, 5xx); carries ``.response``."""

    def __init__(self, response: requests.Response, message: str | None = None) -> None:
        self.response = response
        super().__init__(message or f"HTTP {_status_text(response)}")


class RetriesExhaustedError(Exception):
    """Every allowed attempt failed; the message explains the last failure."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status


class UnreachableError(Exception):
    """The first request to a configured address found no server there: a setting is wrong.

    Raised at once, without retries, for a refused connection or an unknown host (see
    :class:`UrlSetting`); ``setting`` names the setting, ``address`` is the origin tried and
    ``reason`` what happened (``"connection refused"``, ``"unknown host"``).
    """

    def __init__(self, message: str, *, setting: str, address: str, reason: str) -> None:
        super().__init__(message)
        self.setting = setting
        self.address = address
        self.reason = reason


RETRIABLE_EXCEPTIONS: tuple[type[Exception], ...] = (
    RetriableHTTPError,
    RetriableAPIError,
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
"""Exceptions on which :meth:`RetryPolicy.decorate` tries again."""


# --------------------------------------------------------------------------
# Helpers shared by the policy and the stream mixin
# --------------------------------------------------------------------------

# A URL path followed by a query string, as found in exception messages such as
# requests' "Max retries exceeded with url: /x?key=...".
_QUERY_IN_TEXT = re.compile(r"(/[^\s?'\"<>]*)\?[^\s'\"<>)]*")


def _strip_queries(text: str) -> str:
    return _QUERY_IN_TEXT.sub(r"\1?<query omitted>", text)


def _status_text(response: requests.Response) -> str:
    status = response.status_code
    reason = response.reason
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    return f"{status} {reason}".strip()


def _request_of(response: requests.Response | None) -> requests.PreparedRequest | None:
    return getattr(response, "request", None) if response is not None else None


def describe_request(method: str | None, url: str | None) -> str:
    """``"GET /v1/items"``: method and URL path, no host, no query string, redacted."""
    path = urlsplit(url).path if url else ""
    return redact(f"{(method or 'request').upper()} {path or '/'}")


def default_vendor_error(response: requests.Response) -> str | None:
    """The vendor's own error text, read from common JSON body keys.

    Looks for ``message``, ``error``, ``error_description`` and ``errors`` in a
    JSON object (non-text values are rendered as compact JSON). A short
    non-JSON, non-HTML body is used as is. At most 500 characters.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
        text = (response.text or "").strip() if response.content else ""
        if text and not text.startswith("<"):
            return _truncate(" ".join(text.split()))
        return None
    parts: list[str] = []
    if isinstance(body, t.Mapping):
        for key in _VENDOR_ERROR_KEYS:
            value = body.get(key)
            if value in (None, "", [], {}):
                continue
            if not isinstance(value, str):
                value = json.dumps(value, separators=(",", ":"), default=str)
            if value not in parts:
                parts.append(value)
    elif isinstance(body, str) and body.strip():
        parts.append(body.strip())
    return _truncate("; ".join(parts)) if parts else None


def _truncate(text: str, limit: int = _VENDOR_ERROR_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _exception_reason(exc: BaseException | None) -> str:
    """Short, safe description of a failure for log lines and final errors."""
    if exc is None:
        return "unknown error"
    response = getattr(exc, "response", None)
    if isinstance(response, requests.Response):
        if response.status_code < 400 and str(exc):
            # An error the vendor put in a successful answer's body (Sales Layer's `error` codes):
            # the status says nothing, the exception's message says what it was.
            return _truncate(redact(str(exc)), 300)
        return f"HTTP {_status_text(response)}"
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = unreachable_reason(exc)
        if reason is not None:
            return f"{type(exc).__name__}: {reason}"
    return type(exc).__name__


def _default_describe(
    args: tuple[t.Any, ...],
    kwargs: dict[str, t.Any],
    exc: BaseException | None,
) -> str:
    """Say what was requested, from the best source available.

    In order: a ``requests`` request among the arguments, the request attached
    to the exception (requests' errors carry one) or to its response, and
    finally a URL string among the arguments (method unknown).
    """
    for candidate in (*args, *kwargs.values()):
        if isinstance(candidate, (requests.PreparedRequest, requests.Request)):
            return describe_request(candidate.method, t.cast("str | None", candidate.url))
    for request in (getattr(exc, "request", None), _request_of(getattr(exc, "response", None))):
        if isinstance(request, (requests.PreparedRequest, requests.Request)):
            return describe_request(request.method, t.cast("str | None", request.url))
    for candidate in (*args, *kwargs.values()):
        if isinstance(candidate, str) and candidate.startswith(("http://", "https://")):
            return redact(f"request to {urlsplit(candidate).path or '/'}")
    return "request"


def unreachable_reason(exc: BaseException) -> str | None:
    """``"connection refused"`` or ``"unknown host"`` when a connection error says so, else None.

    requests wraps the socket's error several levels deep (``ConnectionError`` <- urllib3's
    ``MaxRetryError`` <- ``NewConnectionError``/``NameResolutionError`` <- ``ConnectionRefusedError``
    /``socket.gaierror``): the whole chain is searched.
    """
    seen: set[int] = set()
    pending: list[t.Any] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or (
            isinstance(current, OSError) and current.errno == errno.ECONNREFUSED
        ):
            return "connection refused"
        if isinstance(current, (socket.gaierror, urllib3.exceptions.NameResolutionError)):
            return "unknown host"
        pending.extend((current.__cause__, current.__context__, getattr(current, "reason", None)))
        pending.extend(current.args)
    return None


def _origin(url: str | None) -> str | None:
    """``scheme://host[:port]`` of ``url``; never the user and password a URL may carry."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}"


class UrlSetting:
    """The setting that holds a connection's address, and whether that address has answered yet.

    Give one to the connection's :class:`RetryPolicy` (``url_setting=``). On the connection's
    first request a refused connection or an unknown host is a setting problem (a typo, a wrong
    port, a host that does not exist): the policy raises :class:`UnreachableError` at once, one
    line naming the setting and the address tried, instead of retrying for minutes. As soon as
    any request got an answer (any HTTP status), the address is known to be right and the same
    failures are transient: they are retried like any dropped connection. Timeouts are always
    retried.
    """

    def __init__(self, name: str, *, address: str | None = None, hint: str | None = None) -> None:
        self.name = name
        self.address = address
        self.hint = hint
        self.answered = False

    def __repr__(self) -> str:
        return f"UrlSetting({self.name!r}, address={self.address!r}, answered={self.answered})"

    def error(self, exc: BaseException, reason: str, what: str) -> UnreachableError:
        """The error for ``exc``, which happened on the first request (``what``)."""
        request = getattr(exc, "request", None)
        address = (_origin(getattr(request, "url", None)) or _origin(self.address)
                   or "the configured address")
        hint = f" ({self.hint})" if self.hint else ""
        message = (
            f"Cannot connect to {address}: {reason} ({what}, the first request to it in this "
            f"run). Check the `{self.name}` setting{hint}."
        )
        return UnreachableError(redact(message), setting=self.name, address=address,
                                reason=reason)


def _got_an_answer(exc: BaseException) -> bool:
    """Whether a failed attempt still heard from the server (an HTTP status came back)."""
    if isinstance(getattr(exc, "response", None), requests.Response):
        return True
    # singer-sdk raises these from validate_response(), i.e. after a response arrived.
    return isinstance(exc, (FatalAPIError, RetriableAPIError))


# --------------------------------------------------------------------------
# Policy
# --------------------------------------------------------------------------

Describe = t.Callable[[tuple, dict], str]
"""Given the call's ``args`` and ``kwargs``, say what was requested (``"GET /x"``)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failed HTTP request.

    Attributes:
        max_tries: attempts in total, the first one included.
        base_delay: first backoff ceiling, in seconds.
        factor: growth of the ceiling per retry.
        max_delay: upper bound of a backoff wait.
        max_retry_after: a server ``Retry-After`` above this is clamped to it
            (and logged), so that a bogus header cannot stall a run for hours.
        retry_statuses: statuses worth retrying; any other 5xx is retried too.
        url_setting: the setting holding the address this policy's requests go to; with it, a
            refused connection or unknown host on the first request fails at once
            (:class:`UnreachableError`) instead of being retried. One per connection.
    """

    max_tries: int = 8
    base_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 60.0
    max_retry_after: float = 600.0
    retry_statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({429, 500, 502, 503, 504})
    )
    url_setting: UrlSetting | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise ValueError(f"max_tries must be at least 1; got {self.max_tries}")
        object.__setattr__(self, "retry_statuses", frozenset(self.retry_statuses))

    def is_retriable_status(self, status: int) -> bool:
        """True for the configured statuses and for every 5xx."""
        return status in self.retry_statuses or 500 <= status <= 599

    def raise_for_retriable(self, response: requests.Response) -> requests.Response:
        """Raise :class:`RetriableHTTPError` if ``response`` should be retried."""
        if self.is_retriable_status(response.status_code):
            raise RetriableHTTPError(response)
        return response

    def backoff_ceiling(self, retry_number: int) -> float:
        """Upper bound of the jittered wait before retry ``retry_number`` (0-based)."""
        try:
            ceiling = self.base_delay * (self.factor**retry_number)
        except OverflowError:
            return self.max_delay
        return min(self.max_delay, ceiling)

    def wait_generator(
        self,
        *,
        rng: random.Random | None = None,
        logger: logging.Logger | logging.LoggerAdapter | None = None,
    ) -> t.Generator[float | None, BaseException | None, None]:
        """A ``backoff`` wait generator that receives each failure via ``send()``.

        backoff primes it with ``send(None)`` and then calls
        ``send(exception)`` before every retry. The generator yields the
        server's ``Retry-After`` (clamped to ``max_retry_after``) plus at most
        10 % on top, never less; without one, a uniform random wait between 0
        and the exponential ceiling ("full jitter").
        """
        rand = rng or random.Random()
        log = logger or _DEFAULT_LOGGER
        exc = yield None  # priming send(None)
        retry_number = 0
        while True:
            retry_after = _retry_after_of(exc)
            if retry_after is not None:
                if retry_after > self.max_retry_after:
                    log.warning(
                        "Server asked to retry after %.0f s; waiting the maximum of %.0f s instead",
                        retry_after,
                        self.max_retry_after,
                    )
                    retry_after = self.max_retry_after
                wait = retry_after + rand.uniform(0.0, retry_after * 0.1)
            else:
                wait = rand.uniform(0.0, self.backoff_ceiling(retry_number))
            retry_number += 1
            exc = yield wait

    def decorate(
        self,
        func: t.Callable[..., t.Any],
        *,
        logger: logging.Logger | logging.LoggerAdapter | None = None,
        describe: Describe | None = None,
        vendor_error: t.Callable[[requests.Response], str | None] = default_vendor_error,
    ) -> t.Callable[..., t.Any]:
        """Wrap ``func`` (one HTTP request per call) with this policy.

        ``func`` signals a retriable failure by raising one of
        :data:`RETRIABLE_EXCEPTIONS` (use :meth:`raise_for_retriable` on a
        plain ``requests`` response). Each retry is logged as one line; after
        ``max_tries`` attempts :class:`RetriesExhaustedError` is raised. Every attempt, its 429
        answers and the waits after them are counted against the stream syncing at the time
        (:mod:`connector_core.progress`: the progress lines and the end-of-run summary).
        ``describe(args, kwargs)`` names the request in messages; by default a
        ``requests`` request found among the arguments, or the failed
        response's request, is described as method and path. With a
        :attr:`url_setting`, a refused connection or unknown host before the
        address ever answered raises :class:`UnreachableError` at once.
        """
        log = logger or _DEFAULT_LOGGER

        def what(details: t.Mapping[str, t.Any]) -> str:
            exc = details.get("exception")
            if describe is not None:
                try:
                    return redact(describe(details.get("args", ()), details.get("kwargs", {})))
                except Exception:  # noqa: BLE001 - a message helper must not mask the failure
                    pass
            return _default_describe(details.get("args", ()), details.get("kwargs", {}), exc)

        def on_backoff(details: t.Mapping[str, t.Any]) -> None:
            stats = current_stats()
            if stats is not None:
                stats.count_retry(details.get("exception"), details["wait"])
            log.warning(
                "%s: attempt %d/%d failed (%s); retrying in %.2f s",
                what(details),
                details["tries"],
                self.max_tries,
                _exception_reason(details.get("exception")),
                details["wait"],
            )

        def on_giveup(details: t.Mapping[str, t.Any]) -> None:
            exc = details.get("exception")
            tries = details["tries"]
            message = (
                f"{what(details)} failed after {tries} "
                f"attempt{'s' if tries != 1 else ''}; last error: {_last_error(exc, vendor_error)}"
            )
            response = getattr(exc, "response", None)
            status = response.status_code if isinstance(response, requests.Response) else None
            raise RetriesExhaustedError(redact(message), attempts=tries, status=status) from exc

        func = _counted(func)
        if self.url_setting is not None:
            func = _first_contact_guard(func, self.url_setting, what)

        decorator = backoff.on_exception(
            functools.partial(self.wait_generator, logger=log),  # type: ignore[arg-type]
            RETRIABLE_EXCEPTIONS,
            max_tries=self.max_tries,
            jitter=None,
            on_backoff=on_backoff,
            on_giveup=on_giveup,
            raise_on_giveup=False,
            logger=None,
        )
        return decorator(func)


def _counted(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """``func`` whose every call (one HTTP attempt) is counted against the syncing stream, with
    its 429 answers (:mod:`connector_core.progress`); a plain call when nothing is counting."""

    @functools.wraps(func)
    def attempt(*args: t.Any, **kwargs: t.Any) -> t.Any:
        stats = current_stats()
        if stats is None:
            return func(*args, **kwargs)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            stats.count_attempt(exc)
            raise
        stats.count_attempt(None, result)
        return result

    return attempt


def _first_contact_guard(
    func: t.Callable[..., t.Any],
    url_setting: UrlSetting,
    what: t.Callable[[t.Mapping[str, t.Any]], str],
) -> t.Callable[..., t.Any]:
    """``func`` that fails at once when its address refuses or does not resolve, until it answers."""

    @functools.wraps(func)
    def attempt(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            result = func(*args, **kwargs)
        except requests.exceptions.ConnectionError as exc:
            if not url_setting.answered:
                reason = unreachable_reason(exc)
                if reason is not None:
                    described = what({"args": args, "kwargs": kwargs, "exception": exc})
                    raise url_setting.error(exc, reason, described) from exc
            raise
        except BaseException as exc:
            if _got_an_answer(exc):
                url_setting.answered = True
            raise
        url_setting.answered = True
        return result

    return attempt


def _retry_after_of(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    if not isinstance(response, requests.Response):
        return None
    return parse_retry_after(response.headers.get("Retry-After"))


def _last_error(
    exc: BaseException | None,
    vendor_error: t.Callable[[requests.Response], str | None],
) -> str:
    if isinstance(exc, RetriableAPIError):
        # singer-sdk errors raised by ResilientRESTStreamMixin already carry
        # the status, request and vendor message.
        return redact(str(exc))
    response = getattr(exc, "response", None)
    if isinstance(response, requests.Response):
        text = f"HTTP {_status_text(response)}"
        try:
            vendor = vendor_error(response)
        except Exception:  # noqa: BLE001
            vendor = None
        return f"{text}: {vendor}" if vendor else text
    if exc is None:
        return "unknown error"
    detail = _truncate(_strip_queries(str(exc)), 300)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


# --------------------------------------------------------------------------
# singer-sdk integration
# --------------------------------------------------------------------------


def response_error_message(response: requests.Response, vendor: str | None = None,
                           hint: str | None = None) -> str:
    """``401 Unauthorized for GET /path: <vendor message>. <hint>``, redacted: the request is named
    by method and path (never the query string or a header)."""
    request = _request_of(response)
    what = describe_request(getattr(request, "method", None),
                            getattr(request, "url", None) or response.url)
    message = f"{_status_text(response)} for {what}"
    if vendor:
        message += f": {_truncate(vendor)}"
    if hint:
        message = f"{message.rstrip('. ')}. {hint}"
    return redact(message)
