"""ConnectWise Manage authentication and base-URL resolution.

Every API call carries Basic ``{companyId}+{publicKey}:{privateKey}``, the integration's
``clientId`` header and a pinned ``Accept`` version (developer guide: Authentication, ClientIds,
Versioning). The API lives at ``https://{site}/{codebase}apis/3.0``; the codebase comes from the
unauthenticated ``/login/companyinfo/{companyId}`` endpoint unless the user pins it.
"""

from __future__ import annotations

import base64
import logging
from typing import Any, Mapping
from urllib.parse import quote

import requests

from connector_core import REDACTOR, RetryPolicy, redact

CLOUD_SITES = {
    "na": "api-na.myconnectwise.net",
    "eu": "api-eu.myconnectwise.net",
    "au": "api-au.myconnectwise.net",
    "staging": "api-staging.connectwisedev.com",
}


class ConnectWiseConfigError(ValueError):
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
        response = session.get(url, timeout=60)
        if policy.is_retriable_status(response.status_code):
            from connector_core import RetriableHTTPError

            raise RetriableHTTPError(response)
        return response

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
