"""The TMPL_SYSTEM connection: settings, authentication, base URL, limits and errors.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``. Read the vendor's contract in
``TMPL_DOC`` (authentication, regional hosts, rate-limit headers, error bodies) an
d
replace what this scaffold assumes: an API key sent as ``Authorization: Bearer <api_key>``, an
API at ``base_url`` (e.g. ``https://api.example.com/api/v1``), a budget per minute announced in
``X-RateLimit-Limit/Remaining/Reset`` (reset in epoch seconds) and errors as
``{"error": {"code": …, "message": …, "field": …}}``.
"""

from __future__ import annotations

import typing as t
from functools import cached_property
from urllib.parse import urlparse

import requests
from singer_sdk import typing as th

from connector_core import RateLimiter, UrlSetting, make_header_reader
from connector_core.connection import (
    BaseConnection,
    ConnectionConfigError,
    StaticBearerAuth,
    read_error_body,
    request_settings,
)

# Settings shared by tap-tmplvendor and target-tmplvendor.
CONNECTION_SETTINGS = th.PropertiesList(
    th.Property("api_key", th.StringType, required=True, secret=True,
                description="TMPL_SYSTEM API key, sent as `Authorization: Bearer <api_key>`."),
    th.Property("base_url", th.StringType, required=True,
                description="API base URL, e.g. `https://api.example.com/api/v1` (or a sandbox's)."),
    th.Property("requests_per_minute", th.IntegerType(minimum=1), default=600,
                description="Request budget kept to, besides the vendor's `X-RateLimit-*` headers."),
    *request_settings(),
)

AUTH_HINT = ("TMPL_SYSTEM refused the credentials: check the `api_key` setting (a key of an active "
             "API user); a 403 means the key lacks access to this endpoint")


def error_message(response: requests.Response) -> str | None:
    """TMPL_SYSTEM's error text: ``{"error": {"message": …, "field": …}}``, else the plain body."""
    return read_error_body(response, _error_text)


def _error_text(body: t.Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return None
    field = error.get("field")
    return (f"{field}: " if field else "") + error["message"]


class TmplVendorConnection(BaseConnection):
    """Everything a plugin needs to talk to one TMPL_SYSTEM account, built from its config."""

    default_headers: t.ClassVar[t.Mapping[str, str]] = {"Accept": "application/json"}

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url  # noqa: B018 - a wrong base_url is a config error naming it, before any request

    @cached_property
    def auth(self) -> StaticBearerAuth:
        """The API key, sent as ``Authorization: Bearer <api_key>`` (registered as a secret)."""
        return StaticBearerAuth(str(self.config["api_key"]))

    @cached_property
    def base_url(self) -> str:
        """The API base, without a trailing slash; a value that is no http(s) URL names the setting."""
        url = str(self.config["base_url"]).strip().rstrip("/")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConnectionConfigError(
                f"base_url must be an http(s) URL such as https://api.example.com/api/v1; got {url!r}")
        return url

    @cached_property
    def url_setting(self) -> UrlSetting:
        return UrlSetting("base_url", address=self.base_url, hint="the API base URL")

    def rate_limiter(self, scope: t.Any = None) -> RateLimiter:
        """One budget for the account: every stream and publishing thread shares it."""
        return self.once("rate_limiter", lambda: RateLimiter(
            int(self.config.get("requests_per_minute", 600)), 60.0, name="tmplvendor", logger=self.logger,
            header_reader=make_header_reader("X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Limit")))

    def error_hint(self, response: requests.Response) -> str | None:
        return AUTH_HINT if response.status_code in (401, 403) else None

    def vendor_error(self, response: requests.Response) -> str | None:
        return error_message(response)
