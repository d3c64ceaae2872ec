"""SuperOffice's OAuth 2.0 / OpenID Connect rules (auth-code-flow.mdx, online/api.mdx) for the shared
authorization server, the ``id_token`` and the bearer check of the tenant API.

* Authorization code flow only (no client_credentials, no password grant); ``scope`` must be
  ``openid``; ``acr_values=tenant:Cust12345`` names the tenant (another tenant: ``access_denied``).
  PKCE (RFC 7636): ``S256`` and ``plain`` (the docs' default when no method is named). Codes expire
  after 10 minutes and are single use.
* Token endpoint: form-encoded only; client authentication ``client_secret_post`` and
  ``client_secret_basic`` (the discovery document's ``token_endpoint_auth_methods_supported``).
  Answer ``{"token_type": "Bearer", "access_token": "8A:Cust12345.…", "expires_in": 3600,
  "refresh_token": "…", "id_token": "<JWT>"}``; the access token is opaque (not a JWT).
* Refresh: a new access token and id_token, NO new refresh token (the docs' example): the refresh
  token stays valid as long as the consent exists; after ``revoke_consent()`` it answers
  ``invalid_grant``.
* UNCERTAIN: the id_token is signed HS256 with the client secret (SuperOffice signs RS256 with the
  key set at ``jwks_uri``; the sandbox's JWKS is empty). Its claims follow the docs' example
  (``http://schemes.superoffice.net/identity/ctx``, ``…/webapi_url``, ``…/netserver_url``, ``iss``,
  ``aud``, ``exp``...).
* API calls: ``Authorization: Bearer <access token>``; missing, unknown, revoked or expired: 401 with
  SuperOffice's error body and ``WWW-Authenticate: Bearer``. UNCERTAIN: an ``SO-AppToken`` header
  that is not the client secret is refused (401) too; ``SOTicket`` (system user flow) is not served.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request

from ..oauth import AuthorizationServer, Chain, OAuthError, TokenRules
from .errors import ApiError

CLAIMS = "http://schemes.superoffice.net/identity/"


def superoffice_token_rules(tenant: str, access_ttl: float = 3600.0) -> TokenRules:
    return TokenRules(
        access_ttl=access_ttl, code_ttl=600.0, refresh_ttl=None, rotate_refresh_token=False, min_refresh_age=0.0,
        revoke_chain_on_reuse=False, one_chain_per_user=False, token_type="Bearer", expires_in_as_string=False,
        form_encoded_only=True, code_format="{digest}x", token_formats={"A": f"8A:{tenant}." + "{digest}",
                                                                        "R": "{digest}"},
        pkce_methods=("S256", "plain"), client_auth_methods=("client_secret_post", "client_secret_basic"),
        errors={"invalid_refresh_token": OAuthError(400, "invalid_grant", "The refresh token is invalid or the "
                                                                          "consent was revoked.")})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def id_token(secret: str, claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def token_extras(sandbox: Any) -> Callable[[Chain], dict[str, Any]]:
    """The ``id_token`` of every token answer, naming where the tenant lives now."""
    def extras(chain: Chain) -> dict[str, Any]:
        now = int(sandbox.clock.timestamp())
        claims = {
            "sub": sandbox.user_email, CLAIMS + "associateid": "1", CLAIMS + "identityprovider": "central-superid",
            CLAIMS + "email": sandbox.user_email, CLAIMS + "upn": sandbox.user_email, CLAIMS + "ctx": sandbox.tenant,
            CLAIMS + "is_administrator": "False", CLAIMS + "serial": "1501178584",
            CLAIMS + "netserver_url": f"{sandbox.tenant_url}/Remote/Services88/",
            CLAIMS + "webapi_url": f"{sandbox.api_url}/",
            "iat": str(now), "iss": sandbox.environment_url,
            "aud": sandbox.client_id, "exp": now + int(sandbox.oauth.rules.access_ttl), "nbf": now,
        }
        return {"id_token": id_token(sandbox.client_secret, claims)}
    return extras


def authenticate(oauth: AuthorizationServer, request: Request, client_secret: str) -> Chain:
    """The consent of the request's bearer token, or SuperOffice's 401."""
    header = {"WWW-Authenticate": 'Bearer realm="SuperOffice"'}
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "UnauthorizedAccessException", "Authorization has been denied for this request: "
                       "send Authorization: Bearer <access token>.", headers=header)
    chain, problem = oauth.check_access(token.strip())
    if problem == "expired":
        raise ApiError(401, "UnauthorizedAccessException", "The access token has expired.",
                       headers={"WWW-Authenticate": 'Bearer realm="SuperOffice", error="invalid_token", '
                                                    'error_description="The access token expired"'})
    if chain is None:
        raise ApiError(401, "UnauthorizedAccessException", "The access token is invalid or was revoked.",
                       headers={"WWW-Authenticate": 'Bearer realm="SuperOffice", error="invalid_token"'})
    app_token = request.headers.get("SO-AppToken")
    if app_token is not None and not hmac.compare_digest(app_token, client_secret):
        raise ApiError(401, "UnauthorizedAccessException", "The SO-AppToken header is not this application's token.",
                       headers=header)
    return chain
