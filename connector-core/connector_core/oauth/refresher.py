"""Single-flight refresh across threads and processes, never earlier than the vendor allows."""

from __future__ import annotations

import logging
import threading
import time
import typing as t

import requests
import requests.auth

from connector_core.oauth.endpoint import (
    DEFAULT_TOKEN_RETRY,
    TokenEndpoint,
    default_is_dead_chain,
    default_is_too_early,
    json_object,
)
from connector_core.oauth.errors import (
    LOG,
    TOKEN_KEYS,
    ReauthorizationRequired,
    TokenEndpointError,
    TokenStoreError,
)
from connector_core.oauth.store import OAuthTokens, TokenStorage
from connector_core.redaction import REDACTOR, SecretRedactor
from connector_core.retry import (
    RetryPolicy,
)


class OAuthRefresher:
    """Hands out a valid access token, refreshing it single-flight across processes.

    :meth:`access_token` returns the current access token while it is fresh
    (valid for more than ``expiry_margin`` seconds). Otherwise it takes the
    store's lock and re-reads the store: if another thread or process has
    refreshed meanwhile, its token is used. Only then does it POST
    ``grant_type=refresh_token``, write the rotated tokens to the store and
    return the new access token. A token younger than
    its refresh floor (:meth:`OAuthTokens.refresh_floor`: its stated lifetime less
    ``refresh_window``) is never refreshed: it is kept while it is
    valid, else the refresher waits until the vendor allows the refresh. A
    vendor's "too early" refusal keeps the current token. A refusal that means
    the chain is dead raises :class:`ReauthorizationRequired`, whose message
    says to run ``reauthorize_command``.

    Exact Online: ``refresh_window=30, default_lifetime=600`` (no refresh before 570 s of a
    600 s token; a token stated to live 60 s may be refreshed after 30 s).
    """

    def __init__(
        self,
        store: TokenStorage,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        session: requests.Session | None = None,
        refresh_window: float | None = None,
        default_lifetime: float = 3600.0,
        expiry_margin: float = 30.0,
        too_early_retry_after: float = 30.0,
        reauthorize_command: str | None = None,
        retry_policy: RetryPolicy = DEFAULT_TOKEN_RETRY,
        client_auth: str = "body",
        timeout: float = 60.0,
        is_too_early: t.Callable[[requests.Response], bool] = default_is_too_early,
        is_dead_chain: t.Callable[[requests.Response], bool] = default_is_dead_chain,
        clock: t.Callable[[], float] = time.time,
        sleep: t.Callable[[float], None] = time.sleep,
        logger: logging.Logger | logging.LoggerAdapter | None = None,
        redactor: SecretRedactor = REDACTOR,
    ) -> None:
        self.store = store
        self.refresh_window = None if refresh_window is None else float(refresh_window)
        self.expiry_margin = float(expiry_margin)
        self.too_early_retry_after = float(too_early_retry_after)
        self.reauthorize_command = reauthorize_command
        self.is_too_early = is_too_early
        self.is_dead_chain = is_dead_chain
        self.clock = clock
        self.sleep = sleep
        self.logger = logger or LOG
        self.redactor = redactor
        self.refreshes = 0
        """Refreshes this object performed (not counting those of other processes)."""
        self._endpoint = TokenEndpoint(
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            session=session or requests.Session(),
            retry_policy=retry_policy,
            client_auth=client_auth,
            timeout=timeout,
            default_lifetime=float(default_lifetime),
            clock=clock,
            logger=self.logger,
            redactor=redactor,
        )
        self._lock = threading.Lock()
        self._tokens: OAuthTokens | None = None
        self._hold_until = float("-inf")  # no refresh attempt before (after "too early")

    def access_token(self, *, force: bool = False, rejected: str | None = None) -> str:
        """A valid access token.

        Args:
            force: the API answered 401 to the token this refresher last
                handed out: refresh even if it looks fresh, unless the store
                holds a different fresh token (another process refreshed).
                Still never earlier than the token's refresh floor (nor
                within ``too_early_retry_after`` of a "too early" answer): then
                the current token is returned.
            rejected: the access token the API refused (implies ``force``).
                If the store already holds a different fresh token (another
                process refreshed), that one is returned without a refresh.
        """
        force = force or rejected is not None
        cached = self._tokens
        if not force and cached is not None:
            now = self.clock()
            if cached.is_fresh(now, self.expiry_margin) or now < self._hold_until:
                return cached.access_token
        with self._lock, self.store.lock():
            tokens = self._read_store()
            now = self.clock()
            if force:
                refused = rejected
                if refused is None and cached is not None:
                    refused = cached.access_token
                if tokens.access_token and tokens.access_token != refused and tokens.is_fresh(now):
                    self._tokens = tokens
                    return tokens.access_token  # another process refreshed meanwhile
            elif tokens.is_fresh(now, self.expiry_margin):
                self._tokens = tokens
                return tokens.access_token
            return self._refresh_locked(tokens, forced=force)

    def invalidate(self) -> None:
        """Forget the in-memory token: the next call re-reads the store."""
        self._tokens = None

    # -- internals ------------------------------------------------------------

    def _read_store(self) -> OAuthTokens:
        tokens = self.store.read()
        if tokens is None:
            raise ReauthorizationRequired(
                f"No OAuth tokens are stored at {self.store.location}. "
                f"Grant access first: {self._how_to_reauthorize()}"
            )
        return tokens

    def _how_to_reauthorize(self) -> str:
        if self.reauthorize_command:
            return f"run `{self.reauthorize_command}` and approve access in the browser."
        return "run the connector's `authorize` command and approve access in the browser."

    def _refresh_locked(self, tokens: OAuthTokens, *, forced: bool) -> str:
        """Refresh ``tokens`` (the store's lock is held)."""
        now = self.clock()
        age = tokens.age(now)
        floor = tokens.refresh_floor(self.refresh_window)
        if age < floor:
            wait = floor - age
            if tokens.access_token and (forced or now < tokens.expires_at):
                if forced:
                    self.logger.warning(
                        "The API refused an access token obtained %.0f s ago; the vendor allows a "
                        "refresh only after %.0f s, so the current token is kept",
                        age,
                        floor,
                    )
                self._tokens = tokens
                return tokens.access_token
            self.logger.info(
                "Access token expired but only %.0f s old; "
                "waiting %.1f s until the vendor allows a refresh",
                age,
                wait,
            )
            self.sleep(wait)
        elif now < self._hold_until and tokens.access_token:
            self._tokens = tokens  # the vendor just said "too early": do not ask again yet
            return tokens.access_token

        response, sent_at = self._endpoint.post(
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        )
        if not 200 <= response.status_code < 300:
            return self._refused(tokens, response)
        new = self._endpoint.tokens_from(
            response, sent_at, previous_refresh_token=tokens.refresh_token
        )
        # The old refresh token is now spent: the new one must be on disk
        # before anybody can use the new access token.
        try:
            self.store.write(new)
        except TokenStoreError as exc:
            raise TokenStoreError(
                f"{exc}. The vendor has already rotated the refresh token, so the token chain is "
                f"probably lost; fix the store's location, then {self._how_to_reauthorize()}"
            ) from None
        self.refreshes += 1
        self._tokens = new
        self.logger.info(
            "Refreshed the OAuth access token (valid for %.0f s); tokens saved to %s",
            new.expires_at - sent_at,
            self.store.location,
        )
        return new.access_token

    def _refused(self, tokens: OAuthTokens, response: requests.Response) -> str:
        # Register anything token-like that the answer echoes before describing it.
        body = json_object(response)
        for key in TOKEN_KEYS:
            if isinstance(body.get(key), str):
                self.redactor.add(body[key])
        if self.is_too_early(response):
            if not tokens.access_token:
                raise TokenEndpointError(
                    "The token endpoint refuses to refresh this early and no access token is "
                    "stored yet: the refresh token was used moments ago by another client; try "
                    "again once the access token it obtained is near its end",
                    status=response.status_code,
                )
            self.logger.warning(
                "The token endpoint refused the refresh as too early; keeping the current "
                "access token and trying again in %.0f s at the earliest",
                self.too_early_retry_after,
            )
            self._hold_until = self.clock() + self.too_early_retry_after
            self._tokens = tokens
            return tokens.access_token
        failure = self._endpoint.describe_failure(response).rstrip(". ")
        if self.is_dead_chain(response):
            raise ReauthorizationRequired(
                f"The OAuth refresh-token chain is dead: {failure}. The stored refresh token "
                "can no longer be used (it expired, was revoked, or was already rotated by "
                f"another client). A person must grant access again: {self._how_to_reauthorize()}"
            )
        hint = ""
        error = str(body.get("error") or "").lower()
        if response.status_code in (400, 401) and error == "invalid_client":
            hint = "; check the client_id and client_secret settings"
        raise TokenEndpointError(
            f"Refreshing the OAuth access token failed: {failure}{hint}",
            status=response.status_code,
        )
