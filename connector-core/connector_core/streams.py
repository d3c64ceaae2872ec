"""The stream of every vendor's tap: :class:`VendorStream`.

A tap describes each stream with a spec (name, path, keys, cursor; generated from the vendor's
catalog, or declared in ``custom_streams``) and builds one connection per run (a
:class:`~connector_core.connection.BaseConnection`). ``VendorStream(tap, spec, schema)`` is a
singer-sdk ``RESTStream`` named, addressed, keyed and selected by its spec, whose url, auth,
session, retries, limiter, timeout, user agent and error texts all come from that connection.
A vendor's stream class adds only what is its own: paging (``get_new_paginator``), the request
(``get_url_params``/``get_http_request``), record selection (``parse_response``), the cursor
filter and field selection, and ``limiter_scope`` when its budgets are per account part.
Every such stream logs its progress while it syncs and one summary line when the run ends
(:mod:`connector_core.progress`).
"""

from __future__ import annotations

import functools
import logging
import typing as t

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import RESTStream

from connector_core.progress import ProgressStreamMixin, note_limiter_wait
from connector_core.redaction import REDACTOR, install_log_redaction, register_config_secrets
from connector_core.retry import RetryPolicy, default_vendor_error, response_error_message

if t.TYPE_CHECKING:
    from connector_core.connection import BaseConnection
    from connector_core.ratelimit import Limiter, RateLimiter


class StreamSpec(t.Protocol):
    """What a tap's stream description gives every stream (vendors add their own fields)."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def primary_keys(self) -> t.Sequence[str]: ...
    @property
    def replication_key(self) -> str | None: ...
    @property
    def selected_by_default(self) -> bool: ...


ConnT = t.TypeVar("ConnT", bound="BaseConnection")


class ResilientRESTStreamMixin:
    """Retry policy, rate limiter and clear errors for any singer-sdk ``RESTStream``.

    Put it first in the bases (:class:`VendorStream` does)::

        class ItemsStream(ResilientRESTStreamMixin, RESTStream):
            retry_policy = RetryPolicy(max_tries=6)

            @property
            def rate_limiter(self):
                return self._tap.rate_limiter      # one per tap, shared

    Every attempt (retries included) first waits for the rate limiter (the wait is counted
    against the syncing stream, :mod:`connector_core.progress`), then feeds it the response.
    429 and 5xx raise ``RetriableAPIError``, other 4xx ``FatalAPIError``; messages name the
    status, the request (method and path, never the query string or any header) and the vendor's
    error text, with every registered secret masked. Config values marked ``secret`` in the tap's
    settings schema are registered with the redactor, and
    :func:`~connector_core.redaction.install_log_redaction` is called, when the stream starts
    requesting.
    """

    retry_policy: RetryPolicy = RetryPolicy()
    rate_limiter: RateLimiter | None = None

    # Provided by singer_sdk.RESTStream.
    logger: logging.Logger
    extra_retry_statuses: t.Sequence[int]
    config: t.Mapping[str, t.Any]

    # -- hooks -----------------------------------------------------------------------------------
    def extract_vendor_error(self, response: requests.Response) -> str | None:
        """The vendor's error text in ``response``; override for unusual bodies."""
        return default_vendor_error(response)

    def error_hint(self, response: requests.Response) -> str | None:
        """What the user should fix, appended to the error of ``response`` (override)."""
        return None

    # -- singer-sdk overrides --------------------------------------------------------------------
    def request_decorator(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Rate-limit every attempt and retry according to :attr:`retry_policy`."""
        self._register_config_secrets()
        limiter = self.rate_limiter

        @functools.wraps(func)
        def attempt(*args: t.Any, **kwargs: t.Any) -> t.Any:
            if limiter is not None:
                note_limiter_wait(limiter.acquire())
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                response = getattr(exc, "response", None)
                if limiter is not None and isinstance(response, requests.Response):
                    _observe_once(limiter, response)
                raise
            if limiter is not None and isinstance(result, requests.Response):
                _observe_once(limiter, result)
            return result

        return self.retry_policy.decorate(attempt, logger=self.logger,
                                          vendor_error=self.extract_vendor_error)

    def validate_response(self, response: requests.Response) -> None:
        """429/5xx: ``RetriableAPIError``; other 4xx: ``FatalAPIError``."""
        status = response.status_code
        if self.retry_policy.is_retriable_status(status) or status in (
            getattr(self, "extra_retry_statuses", None) or ()
        ):
            raise RetriableAPIError(self.response_error_message(response), response)
        if 400 <= status < 500:
            # FatalAPIError carries no response, so the limiter is fed here.
            limiter = self.rate_limiter
            if limiter is not None:
                _observe_once(limiter, response)
            raise FatalAPIError(self.response_error_message(response))

    def response_error_message(self, response: requests.Response) -> str:
        """``401 Unauthorized for GET /path: <vendor message>. <hint>``, redacted."""
        try:
            vendor = self.extract_vendor_error(response)
        except Exception:  # noqa: BLE001 - a broken hook must not hide the status
            vendor = None
        return response_error_message(response, vendor, self.error_hint(response))

    # -- internals -------------------------------------------------------------------------------
    def _register_config_secrets(self) -> None:
        """Register secret settings and make sure log output is redacted (once per stream)."""
        if getattr(self, "_connector_core_secrets_done", False):
            return
        self._connector_core_secrets_done = True
        tap = getattr(self, "_tap", None)
        schema = getattr(tap, "config_jsonschema", None)
        config = getattr(self, "config", None)
        if isinstance(schema, t.Mapping) and isinstance(config, t.Mapping):
            register_config_secrets(config, schema, REDACTOR)
        install_log_redaction(REDACTOR)


_OBSERVED_ATTR = "_connector_core_observed"


def _observe_once(limiter: RateLimiter, response: requests.Response) -> None:
    """Feed ``response`` to ``limiter`` unless it was already fed."""
    if getattr(response, _OBSERVED_ATTR, False):
        return
    setattr(response, _OBSERVED_ATTR, True)
    limiter.observe_response(response)


class VendorStream(ProgressStreamMixin, ResilientRESTStreamMixin, RESTStream[t.Any], t.Generic[ConnT]):
    """One stream of a vendor's tap, built from its spec and wired to the tap's connection
    (``class ItemsStream(VendorStream[AcmeConnection])``); its progress lines and end-of-run
    summary line come from :class:`~connector_core.progress.ProgressStreamMixin`."""

    spec: StreamSpec
    # Top-level properties are checked against the schema (unknown ones dropped); nested objects
    # are passed on as the vendor sent them. Recursive conformance cost ~3/4 of tap-connectwise's
    # CPU and ~40% of tap-lightspeed's (bench/README.md) and changed nothing in decoded JSON.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.ROOT_ONLY

    def __init__(self, tap: t.Any, spec: StreamSpec, schema: dict) -> None:
        self.spec = spec
        super().__init__(tap=tap, name=spec.name, schema=schema, path=spec.path)
        self.primary_keys = list(spec.primary_keys)
        self.replication_key = spec.replication_key
        self.selected_by_default = spec.selected_by_default

    @property
    def connection(self) -> ConnT:
        """The run's one connection (the tap's)."""
        return t.cast(ConnT, self._tap.connection)  # type: ignore[attr-defined]

    @property
    def limiter_scope(self) -> t.Any:
        """What selects this stream's limiter at the connection (None: the run's one budget)."""
        return None

    @property
    def url_base(self) -> str:
        return self.connection.base_url  # type: ignore[attr-defined]

    @property
    def authenticator(self) -> requests.auth.AuthBase:
        return self.connection.auth

    @property
    def requests_session(self) -> requests.Session:
        return self.connection.session

    @property
    def retry_policy(self) -> RetryPolicy:  # type: ignore[override]
        return self.connection.retry_policy

    @property
    def rate_limiter(self) -> Limiter | None:  # type: ignore[override]
        return self.connection.rate_limiter(self.limiter_scope)

    @property
    def timeout(self) -> int:  # type: ignore[override]
        return self.connection.timeout

    @property
    def user_agent(self) -> str:
        return self.connection.user_agent

    def error_hint(self, response: requests.Response) -> str | None:
        return self.connection.error_hint(response)

    def extract_vendor_error(self, response: requests.Response) -> str | None:
        return self.connection.vendor_error(response)
