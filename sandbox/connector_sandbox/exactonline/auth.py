"""Exact Online's OAuth rules (§2.2) for the shared authorization server, and its bearer check.

* Codes live 3 minutes, are single use and contain ``!`` (so a client must URL-decode them, as with
  Exact's codes: ``%21`` -> ``!``). Token requests are form-encoded only.
* Answers: ``{"access_token","token_type":"bearer","expires_in":"600","refresh_token"}``
  (``expires_in`` is a STRING, as Exact sends it); access tokens live 600 s on the sandbox clock.
* A refresh less than 570 s after the current access token was issued: 400 ``access_denied``
  "Rate limit exceeded: access_token not expired" + header ``Reason: TooEarlyToRefreshTokens…``
  (nothing rotates).
* Every refresh rotates the refresh token; presenting an old one: 401 ``unauthorized_client``
  "Old refresh token used." Conservative reading (the user must re-consent in practice, §2.10): the
  whole chain is revoked, including the newest refresh token and its access tokens.
* Unused refresh tokens expire after 30 days. One chain per user and app: a new consent revokes the
  previous chain (§2.2, Skyvia docs).
* UNCERTAIN: Exact's answer to wrong client credentials is not in the contract; RFC 6749 §5.2
  ``invalid_client`` with 400 (the shared default).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request

from ..oauth import AuthorizationServer, OAuthError, TokenRules
from .errors import ApiError

AUTH_PATH = "/api/oauth2/auth"
TOKEN_PATH = "/api/oauth2/token"


def exact_token_rules(access_ttl: float = 600.0, min_refresh_age: float | None = None,
                      revoke_chain_on_reuse: bool = True) -> TokenRules:
    """Exact's token rules. A refresh is refused until the access token's last 30 s (§2.2: "9
    minutes and 30 seconds after you received it" for its 600 s tokens), unless given."""
    if min_refresh_age is None:
        min_refresh_age = max(0.0, access_ttl - 30.0)
    return TokenRules(
        access_ttl=access_ttl, code_ttl=180.0, refresh_ttl=30 * 86400.0, rotate_refresh_token=True,
        min_refresh_age=min_refresh_age, revoke_chain_on_reuse=revoke_chain_on_reuse, token_type="bearer",
        expires_in_as_string=True, form_encoded_only=True, code_format="sbx!{digest}!a",
        errors={
            # websmurf/laravel-exact-online #31 shows the header as
            # "TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired".
            "too_early": OAuthError(400, "access_denied", "Rate limit exceeded: access_token not expired",
                                    {"Reason": "TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired"}),
            "old_refresh_token": OAuthError(401, "unauthorized_client", "Old refresh token used."),
        })


def authenticate(oauth: AuthorizationServer, request: Request) -> Any:
    """The chain of the request's bearer token, or the 401 Exact answers."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Authorization has been denied for this request.",
                       {"WWW-Authenticate": 'Bearer realm="exactonline"'})
    chain, problem = oauth.check_access(token.strip())
    if problem == "expired":
        # [AB] refreshes on a 401 whose WWW-Authenticate says the token expired (§2.7).
        raise ApiError(401, "Access token expired.", {
            "WWW-Authenticate": 'Bearer realm="exactonline", error="invalid_token", '
                                'error_description="access token expired"'})
    if chain is None:
        raise ApiError(401, "Authorization has been denied for this request.", {
            "WWW-Authenticate": 'Bearer realm="exactonline", error="invalid_token", '
                                'error_description="The access token is invalid"'})
    return chain
