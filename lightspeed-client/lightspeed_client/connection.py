"""The Lightspeed Retail X-Series connection: store address, token, rate limit and errors.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §2.0-2.1.

* Address: the store's ``domain_prefix`` gives ``https://{domain_prefix}.retail.lightspeed.app/api/2.0``;
  ``base_url`` (the full API root: a proxy, the sandbox, another version path such as
  ``/api/2026-07``) replaces it. The 0.9 (``/api/register_sales``), 2.1 (``/api/2.1/products``) and
  OAuth (``/api/1.0/token``) paths are derived from the root's origin.
* Authentication: a personal token (``token``), sent as ``Authorization: Bearer``; or, for apps,
  OAuth 2.0: ``client_id``, ``client_secret`` and the refresh token, which Lightspeed rotates on every
  use (revoking the old one, since 2025-03), kept in the shared token store (``authorize`` grants
  access once). Tokens are never sent in the URL (deprecated since 2017).
* Rate limit: ``300 × registers + 50`` requests per 5 minutes per retailer and app, announced on
  every answer in ``X-RateLimit-Limit``/``X-RateLimit-Remaining`` (no reset header is documented):
  the limiter is fed by them and, once the server reports ``reserve`` requests left or fewer, waits
  a window before the budget is spent. A 429's ``Retry-After`` is an HTTP date, honoured by the
  shared retry policy with its zone.
* Errors: ``{"error": …, "message": …}``; 401 fails fast naming the ``token`` setting.
"""

from __future__ import annotations

import logging
import re
import typing as t
from collections.abc import Mapping
from functools import cached_property
from urllib.parse import urlparse

import requests
from singer_sdk import typing as th

from connector_core import RateLimiter, UrlSetting, make_header_reader
from connector_core.connection import ConnectionConfigError, StaticBearerAuth, read_error_body, request_settings
from connector_core.oauth.connection import OAuthConnection, token_store_url_setting

DOMAIN_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: The OAuth consent page (§2.1): the same for every store.
DEFAULT_CONNECT_URL = "https://secure.retail.lightspeed.app/connect"
#: The rate-limit window (§2.1 [XS-RL]): 5 minutes.
WINDOW_SECONDS = 300.0

# Settings shared by tap-lightspeed and target-lightspeed.
CONNECTION_SETTINGS = th.PropertiesList(
    th.Property("domain_prefix", th.StringType,
                description="The store's domain prefix: `shop` for `https://shop.retail.lightspeed.app`."),
    th.Property("base_url", th.StringType,
                description="The full API root, replacing the one `domain_prefix` gives: e.g. "
                            "`https://shop.retail.lightspeed.app/api/2.0`, a proxy, the sandbox, or another "
                            "version path such as `/api/2026-07`."),
    th.Property("token", th.StringType, secret=True,
                description="A personal token (Setup > Personal tokens), sent as `Authorization: Bearer`. "
                            "Leave it out to sign in with OAuth (`client_id`, `client_secret`, `token_store`)."),
    th.Property("client_id", th.StringType, secret=True, description="OAuth: the app's client id."),
    th.Property("client_secret", th.StringType, secret=True, description="OAuth: the app's client secret."),
    th.Property("refresh_token", th.StringType, secret=True,
                description="OAuth: seeds `token_store` once; Lightspeed rotates it on every refresh, so the "
                            "store (not this setting) holds the live one."),
    th.Property("token_store", th.StringType,
                description="OAuth: the JSON file holding the tokens, shared by the tap and the target "
                            "(written by `tap-lightspeed authorize`). With `token_store_url`, "
                            "the name of the store's row in that database instead."),
    token_store_url_setting(),
    th.Property("redirect_uri", th.StringType, default="http://127.0.0.1:8765/callback",
                description="OAuth: the app's redirect URI, on loopback for `authorize`."),
    th.Property("connect_url", th.StringType, default=DEFAULT_CONNECT_URL,
                description="OAuth: the consent page `authorize` opens."),
    th.Property("rate_limit_reserve", th.IntegerType(minimum=0), default=5,
                description="Requests left in the 5-minute budget (`X-RateLimit-Remaining`) at which the "
                            "connector waits for the next window: room for other apps and users of the store."),
    th.Property("rate_limit_window_seconds", th.IntegerType(minimum=1), default=int(WINDOW_SECONDS),
                description="The length of Lightspeed's rate-limit window (5 minutes): after the server "
                            "reports `rate_limit_reserve` requests left, the connector waits this long (no "
                            "reset time is sent)."),
    *request_settings(),
)

TOKEN_HINT = ("Lightspeed refused the token: check the `token` setting (a personal token of this store, "
              "not revoked); with OAuth, run `{command}` again")
FORBIDDEN_HINT = "Lightspeed refused the request: the token's user or app lacks permission for this endpoint"


#: A personal token, sent as ``Authorization: Bearer <token>`` (registered as a secret).
PersonalTokenAuth = StaticBearerAuth


def error_message(response: requests.Response) -> str | None:
    """Lightspeed's error text: ``{"error": …, "message": …}`` (``error`` may be an object or a
    field map on a 422), else the plain body."""
    return read_error_body(response, _error_text)


def _error_text(body: t.Any) -> str | None:
    if not isinstance(body, dict) or not ("error" in body or "message" in body or "errors" in body):
        return None
    parts = []
    for key in ("error", "message", "errors", "details"):
        value = body.get(key)
        if value in (None, "", [], {}):
            continue
        text = value if isinstance(value, str) else _compact(value)
        if text not in parts:
            parts.append(text)
    return ": ".join(parts) or None


def _compact(value: t.Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_compact(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_compact(v) for v in value)
    return str(value)


def api_root_of(config: Mapping[str, t.Any]) -> str:
    """The API root (``…/api/2.0``) the config names; a missing or bad address names its setting."""
    base = str(config.get("base_url") or "").strip().rstrip("/")
    if base:
        parsed = urlparse(base)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or "/api" not in parsed.path:
            raise ConnectionConfigError(
                f"base_url must be the full API root, such as https://shop.retail.lightspeed.app/api/2.0; got {base!r}")
        return base
    prefix = str(config.get("domain_prefix") or "").strip().lower()
    if not prefix:
        raise ConnectionConfigError("domain_prefix is required (the store's, `shop` for shop.retail.lightspeed.app), "
                                    "or base_url with the full API root")
    if not DOMAIN_PREFIX.match(prefix):
        raise ConnectionConfigError(
            f"domain_prefix must be the store's prefix such as `shop`, not a URL; got {prefix!r}")
    return f"https://{prefix}.retail.lightspeed.app/api/2.0"


class LightspeedConnection(OAuthConnection):
    """Everything a plugin needs to talk to one Lightspeed Retail X-Series store, built from its config."""

    default_headers: t.ClassVar[t.Mapping[str, str]] = {"Accept": "application/json"}
    default_plugin = "tap-lightspeed"
    # §2.1: refresh answers state expires_in (604800 s in the docs' example; 86400 elsewhere).
    default_token_lifetime = 86400.0

    def __init__(self, config: Mapping[str, t.Any], logger: logging.Logger | None = None,
                 user_agent: str = "connector-suite", *, plugin_name: str | None = None) -> None:
        super().__init__(config, logger, user_agent, plugin_name=plugin_name)
        self.base_url = api_root_of(config)
        parsed = urlparse(self.base_url)
        #: ``https://shop.retail.lightspeed.app`` plus any path before ``/api`` (a proxy's prefix).
        self.origin = f"{parsed.scheme}://{parsed.netloc}{parsed.path[:parsed.path.index('/api')]}"
        self.personal_token = str(config.get("token") or "").strip() or None
        if self.personal_token is None:
            missing = [key for key in ("client_id", "client_secret", "token_store") if not config.get(key)]
            if missing:
                raise ConnectionConfigError(
                    "token is required (a personal token), or OAuth's client_id, client_secret and token_store; "
                    f"missing: {', '.join(missing)}")

    def api_url(self, path: str) -> str:
        """The URL of ``path``: below the 2.0 root, or from the origin for ``/api/…`` (0.9, 2.1) paths."""
        return f"{self.origin}{path}" if path.startswith("/api/") else f"{self.base_url}{path}"

    @property
    def token_url(self) -> str:
        return f"{self.origin}/api/1.0/token"

    @property
    def auth_url(self) -> str:
        return str(self.config.get("connect_url") or DEFAULT_CONNECT_URL)

    @cached_property
    def auth(self) -> requests.auth.AuthBase:  # type: ignore[override]
        if self.personal_token is not None:
            return PersonalTokenAuth(self.personal_token)
        return super().auth

    @cached_property
    def url_setting(self) -> UrlSetting:
        setting = "base_url" if self.config.get("base_url") else "domain_prefix"
        return UrlSetting(setting, address=self.base_url, hint="the store's API root")

    def rate_limiter(self, scope: t.Any = None) -> RateLimiter:
        """One budget per store and app, for every stream and publishing thread: the server's
        ``X-RateLimit-*`` figures, with ``rate_limit_reserve`` kept back."""
        return self.once("rate_limiter", lambda: RateLimiter(
            None, float(self.config.get("rate_limit_window_seconds") or WINDOW_SECONDS), name="lightspeed",
            logger=self.logger,
            reserve=int(self.config.get("rate_limit_reserve", 5)),
            header_reader=make_header_reader("X-RateLimit-Remaining", None, "X-RateLimit-Limit")))

    def error_hint(self, response: requests.Response) -> str | None:
        if response.status_code == 401:
            return TOKEN_HINT.format(command=self.reauthorize_command)
        if response.status_code == 403:
            return FORBIDDEN_HINT
        return None

    def vendor_error(self, response: requests.Response) -> str | None:
        return error_message(response)
