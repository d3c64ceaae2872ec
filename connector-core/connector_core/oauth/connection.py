"""A vendor connection whose plugins sign in with OAuth 2.0: :class:`OAuthConnection`.

The token store (shared by every process of the same user and app, seeded once from the
``refresh_token`` setting), the single-flight refresher and the bearer authentication are the same
for every OAuth vendor; a vendor's connection gives its ``token_url`` and ``auth_url`` (the
``authorize`` command's consent), its refresh rules as class attributes and its consent's extra
parameters. Settings read: ``client_id``, ``client_secret``, ``token_store``, ``token_store_url``, ``refresh_token``.
"""

from __future__ import annotations

import dataclasses
import typing as t
from functools import cached_property

from singer_sdk import typing as th

from connector_core.connection import BaseConnection, ConnectionConfigError
from connector_core.oauth.bearer import BearerAuth
from connector_core.oauth.endpoint import DEFAULT_TOKEN_RETRY
from connector_core.oauth.errors import TokenStoreError
from connector_core.oauth.pgstore import check_url
from connector_core.oauth.refresher import OAuthRefresher
from connector_core.oauth.store import TokenStorage, open_token_store


class OAuthConnection(BaseConnection):
    """A :class:`BaseConnection` authenticated by OAuth tokens kept in a shared token store."""

    #: Seconds an access token lives when the token answer states no ``expires_in``.
    default_token_lifetime: t.ClassVar[float] = 3600.0
    #: Refresh only in the token's last seconds (a vendor that refuses early refreshes); None: any time.
    refresh_window: t.ClassVar[float | None] = None
    #: Whether ``authorize`` sends a PKCE challenge (RFC 7636, S256).
    consent_pkce: t.ClassVar[bool] = False
    #: The plugin named in :attr:`reauthorize_command` when the connection was built without one.
    default_plugin: t.ClassVar[str] = "the plugin"

    def __init__(self, config: t.Mapping[str, t.Any], *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(config, *args, **kwargs)
        if config.get("token_store_url"):  # checked before any run starts, connected only when used
            try:
                check_url(str(config["token_store_url"]))
            except TokenStoreError as exc:
                raise ConnectionConfigError(str(exc)) from None

    @property
    def token_url(self) -> str:  # pragma: no cover - every vendor implements it
        raise NotImplementedError

    @property
    def auth_url(self) -> str:  # pragma: no cover - every vendor implements it
        raise NotImplementedError

    @property
    def reauthorize_command(self) -> str:
        """What a person runs to grant access again (named when the refresh token is dead)."""
        return f"{self.plugin_name or self.default_plugin} authorize --config CONFIG.json"

    def consent_params(self) -> dict[str, str]:
        """The consent URL's parameters besides the OAuth basics (scopes, tenant hints)."""
        return {}

    @cached_property
    def token_store(self) -> TokenStorage:
        store = open_token_store(self.config)
        seed = self.config.get("refresh_token")
        if seed and not store.exists():
            store.seed(seed)
        return store

    @cached_property
    def refresher(self) -> OAuthRefresher:
        return OAuthRefresher(
            self.token_store,
            token_url=self.token_url,
            client_id=self.config["client_id"],
            client_secret=self.config["client_secret"],
            refresh_window=self.refresh_window,
            default_lifetime=self.default_token_lifetime,
            reauthorize_command=self.reauthorize_command,
            logger=self.logger,
            # The token endpoint answers on the configured host: its first contact names the setting.
            retry_policy=dataclasses.replace(DEFAULT_TOKEN_RETRY, url_setting=self.url_setting),
        )

    @cached_property
    def auth(self) -> BearerAuth:
        return BearerAuth(self.refresher)


def token_store_url_setting() -> th.Property:
    """The ``token_store_url`` setting every OAuth vendor's plugins take (see :func:`open_token_store`)."""
    return th.Property(
        "token_store_url", th.StringType, secret=True,
        description="PostgreSQL URL (`postgresql://user:password@host:5432/database`) to keep the "
                    "tokens in, for runs on several machines: the row named `token_store` of table "
                    "`connector_oauth_tokens` (created on first use), locked by an advisory lock. "
                    "Without it, `token_store` is a file.",
    )
