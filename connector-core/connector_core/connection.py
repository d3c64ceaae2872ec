"""One vendor account, as every plugin of the suite talks to it: :class:`BaseConnection`.

A vendor's ``*-client`` package subclasses it once; its tap's streams and its target's publisher
both read from the one connection of their run:

* ``for_plugin(plugin)``: the connection of a singer-sdk tap or target (a setting the connection
  finds wrong is a config error naming it);
* ``auth`` (the vendor's): put on the ``session``, with the ``User-Agent`` and ``default_headers``;
* ``url_setting``: the setting the vendor's address comes from, named when the first request to
  it is refused (see :class:`~connector_core.retry.UrlSetting`);
* ``retry_policy`` (``max_retries``, the URL setting), ``timeout`` (``request_timeout``);
* ``rate_limiter(scope)``: the limiter a request of ``scope`` waits on (``None``: the run's; a
  vendor whose budgets are per account part, as Exact's per division, keys them by scope);
* ``error_hint(response)`` (which setting to fix) and ``vendor_error(response)`` (the vendor's
  own error text, from its error body: :func:`read_error_body`).

Beside it, what several vendors' connections share: :func:`request_settings` (``max_retries``,
``request_timeout``) and :class:`StaticBearerAuth` (a fixed token or API key).
"""

from __future__ import annotations

import logging
import threading
import typing as t
from functools import cached_property

import requests
from singer_sdk import typing as th

from connector_core.redaction import REDACTOR
from connector_core.retry import RetryPolicy, UrlSetting, default_vendor_error
from connector_core.settings import config_error

if t.TYPE_CHECKING:
    from connector_core.ratelimit import Limiter

C = t.TypeVar("C", bound="BaseConnection")


class ConnectionConfigError(ValueError):
    """A setting is missing or wrong; the message names the setting."""


class BaseConnection:
    """Everything a plugin needs to talk to one vendor account, built from its config."""

    #: Headers every request carries besides the ``User-Agent`` (e.g. an ``Accept``).
    default_headers: t.ClassVar[t.Mapping[str, str]] = {}
    #: Tries per request when the config has no ``max_retries``.
    default_max_retries: t.ClassVar[int] = 8
    #: Seconds to wait for one response when the config has no ``request_timeout``.
    default_timeout: t.ClassVar[int] = 300

    @classmethod
    def for_plugin(cls: type[C], plugin: t.Any) -> C:
        """The connection of a singer-sdk tap or target; a bad setting is a config error."""
        try:
            return cls(plugin.config, plugin.logger,
                       plugin.config.get("user_agent", f"{plugin.name}/{plugin.plugin_version}"),
                       plugin_name=plugin.name)
        except ConnectionConfigError as exc:
            raise config_error(str(exc)) from None

    def __init__(self, config: t.Mapping[str, t.Any], logger: logging.Logger | None = None,
                 user_agent: str = "connector-suite", *, plugin_name: str | None = None) -> None:
        self.config = config
        self.logger = logger or logging.getLogger(type(self).__module__)
        self.user_agent = user_agent
        self.plugin_name = plugin_name
        self._lock = threading.RLock()

    # -- what a vendor supplies ------------------------------------------------------------------
    @property
    def auth(self) -> requests.auth.AuthBase:  # pragma: no cover - every vendor implements it
        """The vendor's authentication, put on every request of :attr:`session`."""
        raise NotImplementedError

    @property
    def url_setting(self) -> UrlSetting | None:
        """The setting the vendor's address comes from (None: no first-contact rule)."""
        return None

    def base_url_or(self, setting: str, choices: t.Iterable[str], *, address: str,
                    base_url_hint: str) -> UrlSetting:
        """A :attr:`url_setting` for an address that ``base_url`` gives when it is set, else
        ``setting`` (one of ``choices``: a region, an environment)."""
        if self.config.get("base_url"):
            return UrlSetting("base_url", address=address, hint=base_url_hint)
        return UrlSetting(setting, address=address, hint=f"one of {', '.join(choices)}, or set `base_url`")

    def rate_limiter(self, scope: t.Any = None) -> Limiter | None:
        """The limiter a request of ``scope`` waits on (override; None: no proactive limit)."""
        return None

    def error_hint(self, response: requests.Response) -> str | None:
        """Which setting to fix, for an error response (override)."""
        return None

    def vendor_error(self, response: requests.Response) -> str | None:
        """The vendor's own error text in ``response`` (override for the vendor's error body)."""
        return default_vendor_error(response)

    # -- the same for every vendor -----------------------------------------------------------------
    @cached_property
    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers["User-Agent"] = self.user_agent
        session.headers.update(self.default_headers)
        session.auth = self.auth
        return session

    @cached_property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_tries=int(self.config.get("max_retries", self.default_max_retries)),
                           url_setting=self.url_setting)

    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", self.default_timeout))

    def once(self, name: str, build: t.Callable[[], t.Any]) -> t.Any:
        """``build()`` the first time ``name`` is asked for, under the connection's lock.

        For what threads ask for at once (a target's sinks drain in threads; since Python 3.12
        ``cached_property`` no longer locks), such as a limiter or a looked-up base URL.
        """
        with self._lock:
            cache = self.__dict__.setdefault("_once", {})
            if name not in cache:
                cache[name] = build()
            return cache[name]


def request_settings(*, max_retries: str = "Tries per request on 429, 5xx, timeouts and dropped connections.",
                     request_timeout: str = "Seconds to wait for one response.") -> tuple[th.Property, ...]:
    """The settings :class:`BaseConnection` reads for every vendor (the texts: the vendor's words)."""
    return (
        th.Property("max_retries", th.IntegerType(minimum=1), default=BaseConnection.default_max_retries,
                    description=max_retries),
        th.Property("request_timeout", th.IntegerType(minimum=1), default=BaseConnection.default_timeout,
                    description=request_timeout),
    )


def read_error_body(response: requests.Response, read: t.Callable[[t.Any], str | None]) -> str | None:
    """The vendor's error text: ``read`` of the decoded JSON body (None: not the vendor's error
    format), else :func:`~connector_core.retry.default_vendor_error`; at most 500 characters."""
    try:
        body = response.json()
    except ValueError:
        return default_vendor_error(response)
    text = read(body)
    return text[:500] if text is not None else default_vendor_error(response)


class StaticBearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` on every request, for a fixed token or API key (registered
    as a secret, so no log line shows it)."""

    def __init__(self, token: str) -> None:
        REDACTOR.add(token)
        self._authorization = f"Bearer {token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._authorization
        return request
