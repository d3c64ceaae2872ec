"""The ConnectWise Manage connection: settings, authentication, base URL, limits and errors.

Every API call carries Basic ``{companyId}+{publicKey}:{privateKey}``, the integration's
``clientId`` header and a pinned ``Accept`` version (developer guide: Authentication, ClientIds,
Versioning). The API lives at ``https://{site}/{codebase}apis/3.0``; the codebase comes from the
unauthenticated ``/login/companyinfo/{companyId}`` endpoint unless the user pins it.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from functools import cached_property
from typing import Any
from urllib.parse import quote

import requests
from singer_sdk import typing as th

from connector_core import REDACTOR, RateLimiter, RetryPolicy, UrlSetting, redact
from connector_core.connection import BaseConnection, ConnectionConfigError, request_settings

# Settings shared by tap-connectwise and target-connectwise.
CONNECTION_SETTINGS = th.PropertiesList(
    th.Property("company_id", th.StringType, required=True,
                description="ConnectWise company id (the login company)."),
    th.Property("public_key", th.StringType, required=True, secret=True,
                description="API member public key."),
    th.Property("private_key", th.StringType, required=True, secret=True,
                description="API member private key."),
    th.Property("client_id", th.StringType, required=True, secret=True,
                description="Integration clientId (a GUID from developer.connectwise.com), "
                            "sent as the `clientId` header."),
    th.Property("site", th.StringType, default="api-na.myconnectwise.net",
                description="`na`, `eu`, `au`, `staging`, a host (`api-eu.myconnectwise.net`, an "
                            "on-premise host) or an origin URL (`http://127.0.0.1:8081`)."),
    th.Property("codebase", th.StringType,
                description="Codebase such as `v4_6_release/`; default: looked up through "
                            "`/login/companyinfo/{company_id}`."),
    th.Property("base_url", th.StringType,
                description="Full API base URL (`https://host/v4_6_release/apis/3.0`); "
                            "overrides `site` and `codebase`."),
    th.Property("api_version", th.StringType, default="2025.1",
                description="API version pinned in the Accept header; empty for the latest."),
    th.Property("requests_per_minute", th.IntegerType(minimum=1), default=1000,
                description="Request budget kept to (ConnectWise throttles above about 1,000 a "
                            "minute)."),
    *request_settings(),
)

AUTH_HINT = (
    "ConnectWise refused the credentials: check the `company_id`, `public_key` and "
    "`private_key` settings (sent as Basic company_id+public_key:private_key, keys of an "
    "active API member) and the `client_id` setting (the integration's clientId); "
    "a 403 means the member's security role lacks access to this endpoint"
)
CLIENT_ID_HINT = ("ConnectWise rejected the clientId header: set the `client_id` setting to your "
                  "integration's clientId from developer.connectwise.com")


def error_message(response: requests.Response) -> str | None:
    """ConnectWise's error text: ``{"code", "message", "errors": [{"field"|"resource", "message"}]}``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or None
    if not isinstance(body, dict):
        return None
    message = body.get("message") or body.get("error")
    details = [f"{e.get('field') or e.get('resource')}: {e.get('message')}"
               for e in body.get("errors") or [] if isinstance(e, dict)]
    return "; ".join([m for m in [message, *details] if m])[:500] or None


def error_hint(response: requests.Response) -> str | None:
    """Which setting to fix, for an error response of ConnectWise."""
    if response.status_code == 400 and b"clientid" in response.content.lower():
        return CLIENT_ID_HINT
    if response.status_code in (401, 403):
        return AUTH_HINT
    return None


class ConnectWiseConnection(BaseConnection):
    """Everything a plugin needs to talk to one ConnectWise site, built from its config."""

    @cached_property
    def auth(self) -> ConnectWiseAuth:
        return ConnectWiseAuth.from_config(self.config)

    @cached_property
    def url_setting(self) -> UrlSetting:
        """The setting the API's address comes from: a first request refused names it."""
        if self.config.get("base_url"):
            return UrlSetting("base_url", address=str(self.config["base_url"]),
                              hint="the full API base URL, https://host/v4_6_release/apis/3.0")
        return UrlSetting("site", address=site_origin(self.config.get("site") or CLOUD_SITES["na"]),
                          hint="na, eu, au, staging, a host such as api-eu.myconnectwise.net, "
                               "or an origin URL")

    def rate_limiter(self, scope: Any = None) -> RateLimiter:
        """One budget for the whole site: every stream and publishing thread shares it."""
        return self.once("rate_limiter", lambda: RateLimiter(
            int(self.config.get("requests_per_minute", 1000)), 60.0, name="connectwise",
            logger=self.logger))

    def error_hint(self, response: requests.Response) -> str | None:
        return error_hint(response)

    def vendor_error(self, response: requests.Response) -> str | None:
        return error_message(response)

    @property
    def base_url(self) -> str:
        """The API base, its codebase looked up once (``/login/companyinfo``) unless pinned."""
        self.auth  # noqa: B018 - registers the secrets before any request is logged
        return self.once("base_url", lambda: resolve_base_url(
            self.config, self.session, self.retry_policy, self.logger))


CLOUD_SITES = {
    "na": "api-na.myconnectwise.net",
    "eu": "api-eu.myconnectwise.net",
    "au": "api-au.myconnectwise.net",
    "staging": "api-staging.connectwisedev.com",
}


class ConnectWiseConfigError(ConnectionConfigError):
    """A setting is missing or wrong; the message names the setting."""


class ConnectWiseAuth(requests.auth.AuthBase):
    """Adds Basic auth, ``clientId`` and the pinned ``Accept`` version to every request."""

    def __init__(self, *, company_id: str, public_key: str, private_key: str, client_id: str,
                 api_version: str | None) -> None:
        username = f"{company_id}+{public_key}"
        token = base64.b64encode(f"{username}:{private_key}".encode()).decode("ascii")
        REDACTOR.add_basic_auth(username, private_key)
        REDACTOR.add(private_key, client_id)
        self._authorization = f"Basic {token}"
        self._client_id = client_id
        self._accept = "application/vnd.connectwise.com+json" + (
            f"; version={api_version}" if api_version else ""
        )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._authorization
        request.headers["clientId"] = self._client_id
        request.headers["Accept"] = self._accept
        return request

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ConnectWiseAuth:
        return cls(
            company_id=config["company_id"],
            public_key=config["public_key"],
            private_key=config["private_key"],
            client_id=config["client_id"],
            api_version=config.get("api_version"),
        )


class _NoAuth(requests.auth.AuthBase):
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def site_origin(site: str) -> str:
    """``https://host`` for a site given as a region (na/eu/au/staging), a host or a URL."""
    site = site.strip().rstrip("/")
    site = CLOUD_SITES.get(site.lower(), site)
    if "://" not in site:
        site = f"https://{site}"
    return site


def resolve_base_url(config: Mapping[str, Any], session: requests.Session, policy: RetryPolicy,
                     logger: logging.Logger) -> str:
    """The API base URL: ``base_url`` if set, else the site plus its codebase."""
    if config.get("base_url"):
        return str(config["base_url"]).rstrip("/")
    origin = site_origin(config.get("site") or CLOUD_SITES["na"])
    codebase = config.get("codebase")
    if not codebase:
        codebase = _lookup_codebase(origin, config["company_id"], session, policy, logger)
    codebase = codebase.strip("/") + "/"
    return f"{origin}/{codebase}apis/3.0"


def _lookup_codebase(origin: str, company_id: str, session: requests.Session, policy: RetryPolicy,
                     logger: logging.Logger) -> str:
    url = f"{origin}/login/companyinfo/{quote(company_id, safe='')}"

    def get() -> requests.Response:
        # No credentials: the lookup is anonymous (developer guide, Company Info).
        return policy.raise_for_retriable(session.get(url, timeout=60, auth=_NoAuth()))

    try:
        response = policy.decorate(get, logger=logger)()
    except requests.RequestException as exc:
        raise ConnectWiseConfigError(
            f"could not reach {origin} to look up the codebase of company_id "
            f"{company_id!r} ({type(exc).__name__}); check the `site` setting, or set `codebase` "
            "or `base_url`"
        ) from None
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        pass
    codebase = body.get("Codebase") if isinstance(body, dict) else None
    if response.status_code != 200 or not codebase:
        raise ConnectWiseConfigError(
            redact(
                f"{origin}/login/companyinfo/{company_id} answered {response.status_code} without "
                f"a Codebase: check the `company_id` and `site` settings, or set `codebase` "
                f"(e.g. v4_6_release/) or `base_url`"
            )
        )
    logger.info("ConnectWise codebase for company %s on %s: %s", company_id, origin, codebase)
    return codebase
