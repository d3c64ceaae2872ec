"""The vendor's token endpoint: code and refresh grants, tokens read from its answers."""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass

import requests
import requests.auth

from connector_core.oauth.errors import TOKEN_KEYS, TokenEndpointError
from connector_core.oauth.store import OAuthTokens
from connector_core.redaction import SecretRedactor
from connector_core.retry import (
    RetryPolicy,
    default_vendor_error,
    describe_request,
)

_DEAD_CHAIN_ERRORS = frozenset({"invalid_grant", "unauthorized_client"})

DEFAULT_TOKEN_RETRY = RetryPolicy(max_tries=5, base_delay=1.0, max_delay=30.0)
"""Retries of the token endpoint on 429, 5xx and network errors."""


class _NoAuth(requests.auth.AuthBase):
    """Overrides a session's ``auth`` (and .netrc) for token-endpoint calls."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


def json_object(response: requests.Response) -> dict[str, t.Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def default_is_too_early(response: requests.Response) -> bool:
    """The vendor refuses a refresh because the access token is still young.

    Exact Online: 400 ``{"error":"access_denied","error_description":"Rate limit
    exceeded: access_token not expired"}`` with header ``Reason: TooEarlyToRefreshTokens``.
    """
    if response.status_code not in (400, 401, 403, 429):
        return False
    if "tooearlytorefresh" in response.headers.get("Reason", "").lower():
        return True
    description = str(json_object(response).get("error_description") or "").lower()
    return "access_token not expired" in description


def default_is_dead_chain(response: requests.Response) -> bool:
    """The refresh token is invalid for good: expired, revoked, or already rotated away.

    RFC 6749 ``invalid_grant``; Exact Online's 401 ``unauthorized_client`` /
    ``"Old refresh token used."``.
    """
    if response.status_code not in (400, 401):
        return False
    body = json_object(response)
    error = str(body.get("error") or "").lower()
    description = str(body.get("error_description") or "").lower()
    return error in _DEAD_CHAIN_ERRORS or "old refresh token" in description


@dataclass
class TokenEndpoint:
    """POSTs a grant to the token URL with retries and turns the answer into tokens."""

    token_url: str
    client_id: str
    client_secret: str
    session: requests.Session
    retry_policy: RetryPolicy
    client_auth: str
    timeout: float
    default_lifetime: float
    clock: t.Callable[[], float]
    logger: logging.Logger | logging.LoggerAdapter
    redactor: SecretRedactor

    def __post_init__(self) -> None:
        if self.client_auth not in ("body", "basic"):
            raise ValueError(f'client_auth must be "body" or "basic"; got {self.client_auth!r}')
        self.redactor.add(self.client_secret)
        if self.client_auth == "basic":
            self.redactor.add_basic_auth(self.client_id, self.client_secret)

    def post(self, form: t.Mapping[str, str]) -> tuple[requests.Response, float]:
        """POST ``form`` (retrying 429/5xx/network errors); the response and when it was sent."""
        data = dict(form)
        auth: requests.auth.AuthBase
        if self.client_auth == "basic":
            auth = requests.auth.HTTPBasicAuth(self.client_id, self.client_secret)
        else:
            data.update(client_id=self.client_id, client_secret=self.client_secret)
            auth = _NoAuth()
        sent_at = [0.0]
        what = describe_request("POST", self.token_url)

        def attempt() -> requests.Response:
            sent_at[0] = self.clock()
            response = self.session.post(
                self.token_url,
                data=data,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,
            )
            return self.retry_policy.raise_for_retriable(response)

        send = self.retry_policy.decorate(
            attempt, logger=self.logger, describe=lambda _args, _kwargs: what
        )
        return send(), sent_at[0]

    def tokens_from(
        self,
        response: requests.Response,
        sent_at: float,
        previous_refresh_token: str | None = None,
    ) -> OAuthTokens:
        """Parse a 200 answer; register its tokens at once. Raises on anything else."""
        body = json_object(response)
        for key in TOKEN_KEYS:
            if isinstance(body.get(key), str):
                self.redactor.add(body[key])
        if not 200 <= response.status_code < 300:
            raise TokenEndpointError(
                self.describe_failure(response), status=response.status_code
            )
        access_token = body.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise TokenEndpointError(
                f"the token endpoint {describe_request('POST', self.token_url)} answered "
                f"{response.status_code} without an access_token",
                status=response.status_code,
            )
        refresh_token = body.get("refresh_token") or previous_refresh_token
        if not isinstance(refresh_token, str) or not refresh_token:
            raise TokenEndpointError(
                "the token endpoint issued no refresh_token; without one access cannot be "
                "renewed (check that the app asks for offline access)",
                status=response.status_code,
            )
        lifetime = self.default_lifetime
        try:
            # Exact Online sends expires_in as a string ("600").
            if body.get("expires_in") not in (None, ""):
                lifetime = float(body["expires_in"])
        except (TypeError, ValueError):
            self.logger.warning(
                "Unreadable expires_in in the token answer; assuming %.0f s", lifetime
            )
        extra = {
            k: v
            for k, v in body.items()
            if k not in ("access_token", "refresh_token", "expires_in", "expires_at", "obtained_at")
        }
        # Conservative on both ends: the token expires counting from when the
        # request was *sent*, and is old counting from when the answer *arrived*.
        return OAuthTokens(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=sent_at + lifetime,
            obtained_at=max(sent_at, self.clock()),
            extra=extra,
            lifetime=lifetime,
        )

    def describe_failure(self, response: requests.Response) -> str:
        what = describe_request("POST", self.token_url)
        text = f"the token endpoint {what} answered HTTP {response.status_code}"
        vendor = default_vendor_error(response)
        if vendor:
            text += f": {vendor}"
        return self.redactor.redact(text)
