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

import contextlib
import errno
import hmac
import html
import json
import logging
import os
import secrets
import socket
import sys
import tempfile
import threading
import time
import typing as t
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import filelock
import requests
import requests.auth

from connector_core.redaction import REDACTOR, SecretRedactor
from connector_core.retry import (
    RetryPolicy,
    default_vendor_error,
    describe_request,
)

__all__ = [
    "AuthorizationError",
    "BearerAuth",
    "OAuthError",
    "OAuthRefresher",
    "OAuthTokens",
    "ReauthorizationRequired",
    "TokenEndpointError",
    "TokenStore",
    "TokenStoreError",
    "authorize",
    "build_consent_url",
    "default_is_dead_chain",
    "default_is_too_early",
]

_LOG = logging.getLogger("connector_core.oauth")

_TOKEN_KEYS = ("access_token", "refresh_token", "id_token")
"""Keys of a token response whose values are secrets."""

_DEAD_CHAIN_ERRORS = frozenset({"invalid_grant", "unauthorized_client"})

DEFAULT_TOKEN_RETRY = RetryPolicy(max_tries=5, base_delay=1.0, max_delay=30.0)
"""Retries of the token endpoint on 429, 5xx and network errors."""


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Tokens and their store
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class OAuthTokens:
    """One access token, the refresh token that goes with it, and when they were obtained.

    ``expires_at`` and ``obtained_at`` are epoch seconds. ``extra`` keeps the
    other fields of the token response (``token_type``, ``scope``, ...) and is
    stored flat next to the four main keys.
    """

    access_token: str
    refresh_token: str
    expires_at: float
    obtained_at: float
    extra: t.Mapping[str, t.Any] = field(default_factory=dict)
    lifetime: float | None = None
    """The access token's lifetime as the token endpoint stated it (``expires_in``), if known."""

    def to_json(self) -> dict[str, t.Any]:
        """The flat JSON object written to the store."""
        main = {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "obtained_at": self.obtained_at,
        }
        if self.lifetime is not None:
            main["expires_in"] = self.lifetime
        return {**{k: v for k, v in self.extra.items() if k not in main}, **main}

    @classmethod
    def from_json(cls, data: t.Mapping[str, t.Any], *, where: str = "token store") -> OAuthTokens:
        """Parse a store's JSON object; the error says which key is wrong, never a value."""
        refresh_token = data.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise TokenStoreError(f"{where} has no refresh_token")
        access_token = data.get("access_token") or ""
        if not isinstance(access_token, str):
            raise TokenStoreError(f"{where}: access_token must be a string")
        numbers = {}
        for key in ("expires_at", "obtained_at"):
            value = data.get(key, 0)
            try:
                numbers[key] = float(value or 0)
            except (TypeError, ValueError):
                raise TokenStoreError(f"{where}: {key} must be epoch seconds") from None
        lifetime = None
        if data.get("expires_in") not in (None, ""):
            try:
                lifetime = float(data["expires_in"])
            except (TypeError, ValueError):
                raise TokenStoreError(f"{where}: expires_in must be seconds") from None
        extra = {
            k: v
            for k, v in data.items()
            if k not in ("access_token", "refresh_token", "expires_at", "obtained_at", "expires_in")
        }
        return cls(
            access_token, refresh_token, numbers["expires_at"], numbers["obtained_at"], extra,
            lifetime,
        )

    def is_fresh(self, now: float, margin: float = 0.0) -> bool:
        """True if there is an access token and it is valid for at least ``margin`` more seconds."""
        return bool(self.access_token) and now < self.expires_at - margin

    def age(self, now: float) -> float:
        """Seconds since the access token was obtained."""
        return now - self.obtained_at

    def refresh_floor(self, refresh_window: float | None) -> float:
        """The age before which the vendor refuses to refresh this token.

        A vendor that allows a refresh only in a token's last ``refresh_window`` seconds (Exact
        Online: 30, i.e. 570 s into a 600 s token) refuses it before ``lifetime - refresh_window``;
        the lifetime is the one the token endpoint stated (``expires_in``), else the one the
        store's timestamps give. ``None``: the vendor refreshes at any age.
        """
        if refresh_window is None:
            return 0.0
        lifetime = self.lifetime if self.lifetime is not None else self.expires_at - self.obtained_at
        return max(0.0, lifetime - float(refresh_window))

    def register_secrets(self, redactor: SecretRedactor = REDACTOR) -> None:
        """Register every token with ``redactor``."""
        redactor.add(self.access_token, self.refresh_token)
        for key in _TOKEN_KEYS:
            value = self.extra.get(key)
            if isinstance(value, str):
                redactor.add(value)


class TokenStore:
    """Tokens in a JSON file, replaced atomically, next to a cross-process lock file.

    :meth:`write` never leaves a half-written file: a crash leaves either the
    old or the new content. :meth:`lock` is held by whoever refreshes or stores
    tokens (:class:`OAuthRefresher`, :func:`authorize`), in this process and
    in every other one that uses the same path.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lock_timeout: float = 600.0,
        redactor: SecretRedactor = REDACTOR,
    ) -> None:
        self.path = Path(path)
        self.lock_path = Path(f"{self.path}.lock")
        self.lock_timeout = lock_timeout
        self.redactor = redactor
        self._thread_lock = threading.RLock()
        self._file_lock: filelock.BaseFileLock | None = None

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> OAuthTokens | None:
        """The stored tokens (registered with the redactor), or ``None`` if there is no store."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenStoreError(
                f"cannot read the token store {self.path}: {exc.strerror or exc}"
            ) from None
        try:
            data = json.loads(raw)
        except ValueError:
            # Never echo the content: it holds the tokens.
            raise TokenStoreError(f"the token store {self.path} is not valid JSON") from None
        if not isinstance(data, dict):
            raise TokenStoreError(f"the token store {self.path} must hold a JSON object")
        for key in _TOKEN_KEYS:
            if isinstance(data.get(key), str):
                self.redactor.add(data[key])
        return OAuthTokens.from_json(data, where=f"the token store {self.path}")

    def write(self, tokens: OAuthTokens | t.Mapping[str, t.Any]) -> None:
        """Replace the store with ``tokens``, durably, file mode 0600.

        Temp file in the same directory, ``fsync``, ``os.replace``, then
        ``fsync`` of the directory so that the rename itself survives a crash.
        """
        if not isinstance(tokens, OAuthTokens):
            tokens = OAuthTokens.from_json(tokens, where="tokens to store")
        tokens.register_secrets(self.redactor)
        payload = json.dumps(tokens.to_json(), indent=2, sort_keys=True) + "\n"
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp_name = tempfile.mkstemp(
                dir=directory, prefix=f".{self.path.name}.", suffix=".tmp"
            )
        except OSError as exc:
            raise TokenStoreError(
                f"cannot write the token store {self.path}: {exc.strerror or exc}"
            ) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), 0o600)
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self.path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            if isinstance(exc, OSError):
                raise TokenStoreError(
                    f"cannot write the token store {self.path}: {exc.strerror or exc}"
                ) from None
            raise
        _fsync_directory(directory)

    @contextlib.contextmanager
    def lock(self) -> t.Iterator[None]:
        """Hold the store's lock: one thread of one process at a time."""
        with self._thread_lock:
            if self._file_lock is None:
                self.lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._file_lock = filelock.FileLock(str(self.lock_path), mode=0o600)
            try:
                self._file_lock.acquire(timeout=self.lock_timeout)
            except filelock.Timeout:
                raise TokenStoreError(
                    f"waited {self.lock_timeout:.0f} s for the token lock {self.lock_path}: "
                    "another process is refreshing the tokens and does not finish"
                ) from None
            try:
                yield
            finally:
                self._file_lock.release()

    def seed(self, refresh_token: str, *, access_token: str = "", expires_at: float = 0.0) -> bool:
        """Create the store from a refresh token (e.g. a ``refresh_token`` setting) if it is absent.

        Returns True if the store was created. An existing store always wins:
        it holds the newest token of the chain, a config value can only be older.
        """
        self.redactor.add(refresh_token, access_token)
        with self.lock():
            if self.exists():
                return False
            self.write(OAuthTokens(access_token, refresh_token, expires_at, 0.0))
            return True


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (best effort where the OS cannot)."""
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems (network, FUSE) refuse fsync on a directory. The
        # file itself is already fsynced and renamed; failing now would only
        # withhold a token that is safely stored.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise TokenStoreError(
                f"cannot sync the directory of the token store {directory}: {exc.strerror}"
            ) from None
    finally:
        os.close(fd)


# --------------------------------------------------------------------------
# Token endpoint
# --------------------------------------------------------------------------


class _NoAuth(requests.auth.AuthBase):
    """Overrides a session's ``auth`` (and .netrc) for token-endpoint calls."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


def _json_object(response: requests.Response) -> dict[str, t.Any]:
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
    description = str(_json_object(response).get("error_description") or "").lower()
    return "access_token not expired" in description


def default_is_dead_chain(response: requests.Response) -> bool:
    """The refresh token is invalid for good: expired, revoked, or already rotated away.

    RFC 6749 ``invalid_grant``; Exact Online's 401 ``unauthorized_client`` /
    ``"Old refresh token used."``.
    """
    if response.status_code not in (400, 401):
        return False
    body = _json_object(response)
    error = str(body.get("error") or "").lower()
    description = str(body.get("error_description") or "").lower()
    return error in _DEAD_CHAIN_ERRORS or "old refresh token" in description


@dataclass
class _TokenEndpoint:
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
        body = _json_object(response)
        for key in _TOKEN_KEYS:
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


# --------------------------------------------------------------------------
# Refresher
# --------------------------------------------------------------------------


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
        store: TokenStore,
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
        self.logger = logger or _LOG
        self.redactor = redactor
        self.refreshes = 0
        """Refreshes this object performed (not counting those of other processes)."""
        self._endpoint = _TokenEndpoint(
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
                f"No OAuth tokens are stored at {self.store.path}. "
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
            self.store.path,
        )
        return new.access_token

    def _refused(self, tokens: OAuthTokens, response: requests.Response) -> str:
        # Register anything token-like that the answer echoes before describing it.
        body = _json_object(response)
        for key in _TOKEN_KEYS:
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


# --------------------------------------------------------------------------
# requests integration
# --------------------------------------------------------------------------

_RETRIED_ATTR = "_connector_core_oauth_retried"


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` from an :class:`OAuthRefresher`, per request.

    With ``retry_on_401`` (the default) a 401 answer makes the refresher
    refresh (single flight, ``rejected=`` the token that was refused) and the
    request is sent once more with the new token, if the body can be resent.
    """

    def __init__(self, refresher: OAuthRefresher, *, retry_on_401: bool = True) -> None:
        self.refresher = refresher
        self.retry_on_401 = retry_on_401

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.refresher.access_token()}"
        if self.retry_on_401 and self._handle_401 not in r.hooks["response"]:
            # singer-sdk applies the auth twice (session.auth and per attempt).
            r.register_hook("response", self._handle_401)
        return r

    def _handle_401(self, response: requests.Response, **kwargs: t.Any) -> requests.Response:
        request = response.request
        if response.status_code != 401 or getattr(request, _RETRIED_ATTR, False):
            return response
        body = request.body
        if body is not None and not isinstance(body, (bytes, str)):
            return response  # a stream cannot be sent twice
        used = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        token = self.refresher.access_token(rejected=used or None)
        if not token or token == used:
            return response
        response.content  # noqa: B018 - drain so the connection can be reused
        response.close()
        retry = request.copy()
        retry.headers["Authorization"] = f"Bearer {token}"
        setattr(retry, _RETRIED_ATTR, True)
        retry.hooks = {"response": []}
        second = response.connection.send(retry, **kwargs)
        second.history.append(response)
        second.request = retry
        return second


# --------------------------------------------------------------------------
# Interactive consent ("Grant access")
# --------------------------------------------------------------------------

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; margin: 3em;">
<h1>{title}</h1><p>{text}</p></body></html>
"""


def build_consent_url(
    auth_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: t.Sequence[str] | None = None,
    extra_params: t.Mapping[str, str] | None = None,
) -> str:
    """``{auth_url}?client_id=…&redirect_uri=…&response_type=code&state=…`` plus extras."""
    params: dict[str, str] = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "state": state,
    }
    if scopes:
        params["scope"] = " ".join(scopes)
    params.update(extra_params or {})
    separator = "&" if urlsplit(auth_url).query else "?"
    return f"{auth_url}{separator}{urlencode(params)}"


def _print_consent_url(url: str) -> None:
    sys.stderr.write(
        "\nOpen this address in a browser, sign in and grant access:\n\n"
        f"  {url}\n\nWaiting for the browser to come back...\n"
    )
    sys.stderr.flush()


class _IPv6HTTPServer(HTTPServer):
    address_family = socket.AF_INET6


def authorize(
    *,
    auth_url: str,
    token_url: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    store: TokenStore,
    scopes: t.Sequence[str] | None = None,
    extra_params: t.Mapping[str, str] | None = None,
    timeout: float = 300.0,
    show_url: t.Callable[[str], None] = _print_consent_url,
    open_browser: bool = False,
    session: requests.Session | None = None,
    retry_policy: RetryPolicy = DEFAULT_TOKEN_RETRY,
    client_auth: str = "body",
    default_lifetime: float = 3600.0,
    request_timeout: float = 60.0,
    clock: t.Callable[[], float] = time.time,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    redactor: SecretRedactor = REDACTOR,
) -> OAuthTokens:
    """Run the "Grant access" flow and store the tokens; returns them.

    1. Listen on the loopback address of ``redirect_uri`` (``http://127.0.0.1:PORT/path``
       or ``localhost``; port 0 picks a free port and rewrites the redirect URI,
       for vendors that accept any loopback port);
    2. ``show_url(consent_url)`` (default: print it to stderr); with
       ``open_browser`` the default browser opens it too;
    3. wait up to ``timeout`` seconds for the browser to come back with
       ``?code=…&state=…``; check ``state``; exchange the code
       (``grant_type=authorization_code``); write ``store`` under its lock;
    4. answer the browser with a short page saying whether it worked.

    Raises :class:`AuthorizationError` on a declined consent, a wrong
    ``state`` or a timeout, :class:`TokenEndpointError` if the code exchange fails.
    """
    log = logger or _LOG
    parts = urlsplit(redirect_uri)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or host not in _LOOPBACK_HOSTS:
        raise ValueError(
            f"redirect_uri must be a plain-http loopback address such as "
            f"http://127.0.0.1:8765/callback so that this command can receive the browser's "
            f"redirect; got {redirect_uri!r}"
        )
    try:
        port = parts.port if parts.port is not None else 80
    except ValueError:
        raise ValueError(f"redirect_uri has an invalid port: {redirect_uri!r}") from None
    path = parts.path or "/"
    redactor.add(client_secret)
    endpoint = _TokenEndpoint(
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        session=session or requests.Session(),
        retry_policy=retry_policy,
        client_auth=client_auth,
        timeout=request_timeout,
        default_lifetime=float(default_lifetime),
        clock=clock,
        logger=log,
        redactor=redactor,
    )
    state = secrets.token_urlsafe(24)
    outcome: dict[str, t.Any] = {}

    server_class = _IPv6HTTPServer if host == "::1" else HTTPServer
    bind_host = "::1" if host == "::1" else "127.0.0.1"

    def exchange(code: str, effective_redirect: str) -> OAuthTokens:
        redactor.add(code)
        response, sent_at = endpoint.post(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": effective_redirect}
        )
        tokens = endpoint.tokens_from(response, sent_at)
        with store.lock():
            store.write(tokens)
        return tokens

    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a browser's idle pre-connection must not hang the command

        def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
            pass  # the request line holds the authorization code

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            request = urlsplit(self.path)
            if request.path != path:
                self._answer(404, "Not found", "This address is not part of the sign-in.")
                return
            query = parse_qs(request.query, keep_blank_values=True)

            def first(name: str) -> str | None:
                values = query.get(name)
                return values[0] if values else None

            code, error = first("code"), first("error")
            redactor.add(code)
            got_state = first("state")
            if got_state is None or not hmac.compare_digest(got_state, state):
                detail = f" (the redirect carried error={error!r})" if error else ""
                outcome["error"] = AuthorizationError(
                    "The browser came back with a wrong or missing state parameter, so the answer "
                    "was refused: it does not belong to this sign-in (an old browser tab, or a "
                    f"forged request){detail}. Run the command again."
                )
                self._answer(400, "Sign-in refused", "The answer does not match this sign-in. "
                             "Run the command again.")
                return
            if error is not None:
                description = first("error_description")
                text = f"error={error}" + (f": {description}" if description else "")
                if error == "access_denied":
                    message = (
                        f"Access was not granted ({text}). "
                        "Run the command again and approve access."
                    )
                else:
                    message = f"The authorization server refused the sign-in ({text})."
                outcome["error"] = AuthorizationError(redactor.redact(message))
                self._answer(400, "Access not granted", html.escape(redactor.redact(message)))
                return
            if not code:
                outcome["error"] = AuthorizationError(
                    "The browser came back without an authorization code. Run the command again."
                )
                self._answer(400, "Sign-in failed", "No authorization code was received.")
                return
            try:
                outcome["tokens"] = exchange(code, outcome["redirect_uri"])
            except Exception as exc:  # noqa: BLE001 - reported to the user below
                outcome["error"] = exc
                self._answer(500, "Sign-in failed",
                             "The code could not be exchanged for tokens; see the terminal.")
                return
            self._answer(200, "Access granted",
                         "The connector is authorized. You can close this tab.")

        def _answer(self, status: int, title: str, text: str) -> None:
            page = _PAGE.format(title=html.escape(title), text=text).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(page)

    try:
        httpd = server_class((bind_host, port), Handler)
    except OSError as exc:
        raise AuthorizationError(
            f"cannot listen on {bind_host}:{port} for the browser's redirect: {exc.strerror or exc}"
        ) from None
    with httpd:
        bound_port = httpd.server_address[1]
        effective = redirect_uri
        if port == 0:
            netloc = f"[{host}]" if host == "::1" else host
            effective = urlunsplit((parts.scheme, f"{netloc}:{bound_port}", path, parts.query, ""))
        outcome["redirect_uri"] = effective
        url = build_consent_url(
            auth_url,
            client_id=client_id,
            redirect_uri=effective,
            state=state,
            scopes=scopes,
            extra_params=extra_params,
        )
        show_url(url)
        if open_browser:
            import webbrowser

            with contextlib.suppress(Exception):
                webbrowser.open(url)
        deadline = time.monotonic() + timeout
        while "tokens" not in outcome and "error" not in outcome:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AuthorizationError(
                    f"The browser did not come back to {effective} within {timeout:.0f} s. "
                    "Run the command again and finish the sign-in in time."
                )
            httpd.timeout = remaining
            httpd.handle_request()
    if "error" in outcome:
        raise outcome["error"]
    tokens: OAuthTokens = outcome["tokens"]
    log.info("Access granted; OAuth tokens saved to %s", store.path)
    return tokens
