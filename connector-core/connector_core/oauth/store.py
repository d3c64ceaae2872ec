"""One JSON file of tokens per app and user: written atomically under a cross-process lock."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
import threading
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import filelock

from connector_core.oauth.errors import TOKEN_KEYS, TokenStoreError
from connector_core.redaction import REDACTOR, SecretRedactor


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
        for key in TOKEN_KEYS:
            value = self.extra.get(key)
            if isinstance(value, str):
                redactor.add(value)


class TokenStorage(t.Protocol):
    """What the refresher and the consent flow need of a token store (a file or a database row)."""

    @property
    def location(self) -> str: ...
    def exists(self) -> bool: ...
    def read(self) -> OAuthTokens | None: ...
    def write(self, tokens: OAuthTokens | t.Mapping[str, t.Any]) -> None: ...
    def lock(self) -> t.ContextManager[None]: ...
    def seed(self, refresh_token: str, *, access_token: str = "", expires_at: float = 0.0) -> bool: ...


class SeededStore:
    """What every token store does the same way, on its own ``exists``, ``write`` and ``lock``."""

    redactor: SecretRedactor

    def exists(self) -> bool:  # pragma: no cover - every store implements it
        raise NotImplementedError

    def write(self, tokens: OAuthTokens | t.Mapping[str, t.Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    def lock(self) -> t.ContextManager[None]:  # pragma: no cover - every store implements it
        raise NotImplementedError

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


class TokenStore(SeededStore):
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

    @property
    def location(self) -> str:
        """Where the tokens are, for messages."""
        return str(self.path)

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
        for key in TOKEN_KEYS:
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


def open_token_store(config: t.Mapping[str, t.Any]) -> TokenStorage:
    """The token store a plugin's settings name.

    ``token_store`` alone: the JSON file at that path (one machine). With ``token_store_url`` (a
    PostgreSQL URL): the row named ``token_store`` in that database, shared by every machine
    (:class:`~connector_core.oauth.pgstore.PostgresTokenStore`).
    """
    url = config.get("token_store_url")
    if url:
        from connector_core.oauth.pgstore import PostgresTokenStore

        return PostgresTokenStore(str(url), str(config["token_store"]))
    return TokenStore(config["token_store"])
