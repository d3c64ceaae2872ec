"""Wiring a singer-sdk ``RESTStream`` to its tap's vendor connection, once for every vendor.

A vendor's ``*-client`` package builds one connection per run (session with authentication,
retry policy, rate limiter, base URL, timeout, user agent); every stream of the tap reads those
through :class:`ConnectionStreamMixin` instead of building its own.
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
