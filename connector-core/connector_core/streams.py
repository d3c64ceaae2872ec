"""Streams as data, wired to their tap's vendor connection, once for every vendor.

A tap describes each stream with a spec (name, path, keys, cursor; generated from the vendor's
catalog, or declared in ``custom_streams``): :class:`SpecStreamMixin` turns one into a singer-sdk
stream. A vendor's ``*-client`` package builds one connection per run (session with
authentication, retry policy, rate limiter, base URL, timeout, user agent); every stream of the
tap reads those through :class:`ConnectionStreamMixin` instead of building its own.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    import requests

    from connector_core.ratelimit import RateLimiter
    from connector_core.retry import RetryPolicy


class VendorConnection(t.Protocol):
    """What a vendor connection offers its streams."""

    base_url: str
    auth: requests.auth.AuthBase
    session: requests.Session
    retry_policy: RetryPolicy
    timeout: int
    user_agent: str


class StreamSpec(t.Protocol):
    """What a tap's stream description gives every stream (vendors add their own fields)."""

    name: str
    path: str
    primary_keys: t.Sequence[str]
    replication_key: str | None
    selected_by_default: bool


class SpecStreamMixin:
    """Put it first: ``Stream(tap, spec, schema)`` named, addressed, keyed and selected by ``spec``."""

    def __init__(self, tap: t.Any, spec: StreamSpec, schema: dict) -> None:
        self.spec = spec
        super().__init__(tap=tap, name=spec.name, schema=schema, path=spec.path)  # type: ignore[call-arg]
        self.primary_keys = list(spec.primary_keys)
        self.replication_key = spec.replication_key
        self.selected_by_default = spec.selected_by_default


class ConnectionStreamMixin:
    """Put it before ``ResilientRESTStreamMixin``: url, auth, session, retries, limiter, timeout
    and user agent come from ``self._tap.connection``. Override :attr:`rate_limiter` when the
    vendor's budget is not one per run (Exact Online: one per division)."""

    _tap: t.Any

    @property
    def connection(self) -> VendorConnection:
        return self._tap.connection

    @property
    def url_base(self) -> str:
        return self.connection.base_url

    @property
    def authenticator(self) -> requests.auth.AuthBase:
        return self.connection.auth

    @property
    def rate_limiter(self) -> RateLimiter | None:
        return getattr(self.connection, "rate_limiter", None)

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.connection.retry_policy

    @property
    def requests_session(self) -> requests.Session:
        return self.connection.session

    @property
    def timeout(self) -> int:
        return self.connection.timeout

    @property
    def user_agent(self) -> str:
        return self.connection.user_agent
