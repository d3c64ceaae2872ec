"""The errors of the OAuth machinery, and what every part of it shares."""

from __future__ import annotations

import logging

LOG = logging.getLogger("connector_core.oauth")

TOKEN_KEYS = ("access_token", "refresh_token", "id_token")
"""Keys of a token response whose values are secrets."""


class OAuthError(Exception):
    """Base class of this module's errors; messages never contain a secret."""


class ReauthorizationRequired(OAuthError):
    """The refresh-token chain is dead (or never existed): a person must grant access again."""


class TokenEndpointError(OAuthError):
    """The token endpoint gave an answer that is neither tokens nor a known refusal."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TokenStoreError(OAuthError):
    """The token store cannot be read, written or locked."""


class AuthorizationError(OAuthError):
    """The interactive consent flow failed (declined, state mismatch, timeout, ...)."""
