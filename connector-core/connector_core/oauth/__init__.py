"""OAuth 2.0 with rotating refresh tokens: a crash-safe token store, single-flight refresh, consent.

Vendors such as Exact Online, Lightspeed R-Series and SuperOffice hand out a *new*
refresh token on every refresh and reject the old one from then on. Losing the
newest refresh token (a crash before it was saved, two processes refreshing
with the same one) kills the token chain: a person must grant access again by
hand. This module treats that as data loss:

* :class:`TokenStore` keeps the tokens in one JSON file (mode 0600), replaced
  atomically (temp file, ``fsync``, ``os.replace``, ``fsync`` of the directory),
  next to a cross-process lock file (``filelock``);
* :class:`OAuthRefresher` refreshes *single flight*: under the lock it re-reads
  the store, so a process that waited for another one's refresh uses that
  token instead of spending the old refresh token; the rotated tokens are
  written to the store *before* the new access token is handed out; it never
  refreshes earlier than the vendor allows (``refresh_window``: only in the token's
  last seconds of the lifetime the token endpoint stated);
* :class:`BearerAuth` puts the access token on each ``requests`` request and,
  after a 401, refreshes once and resends;
* :func:`authorize` is the interactive "Grant access" flow: consent URL, a
  one-shot HTTP server on the loopback redirect URI, code exchange, store.

Every token, authorization code and the client secret is registered with the
redactor as soon as it is read or received, so none of them reaches a log line
or an error message.
"""

from __future__ import annotations

from connector_core.oauth.bearer import BearerAuth
from connector_core.oauth.consent import authorize, build_consent_url
from connector_core.oauth.endpoint import (
    DEFAULT_TOKEN_RETRY,
    TokenEndpoint,
    default_is_dead_chain,
    default_is_too_early,
)
from connector_core.oauth.errors import (
    AuthorizationError,
    OAuthError,
    ReauthorizationRequired,
    TokenEndpointError,
    TokenStoreError,
)
from connector_core.oauth.refresher import OAuthRefresher
from connector_core.oauth.store import OAuthTokens, TokenStore

__all__ = [
    "DEFAULT_TOKEN_RETRY",
    "AuthorizationError",
    "BearerAuth",
    "OAuthError",
    "OAuthRefresher",
    "OAuthTokens",
    "ReauthorizationRequired",
    "TokenEndpoint",
    "TokenEndpointError",
    "TokenStore",
    "TokenStoreError",
    "authorize",
    "build_consent_url",
    "default_is_dead_chain",
    "default_is_too_early",
]
