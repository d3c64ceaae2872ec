"""Tokens in a PostgreSQL row, locked by an advisory lock: one token chain shared across machines.

:class:`TokenStore` (a JSON file and a file lock) serialises the processes of one machine. Runs
spread over several machines (one ``meltano run`` per division or stream group, scheduled by
Airflow or Dagster) that sign in as the same vendor user and app share one rotating refresh token;
they need one lock they all see. :class:`PostgresTokenStore` keeps each store as one row of
``connector_oauth_tokens`` (``store_key`` → the tokens as ``jsonb``) and locks it with a
session-level advisory lock on the store's key, so it keeps the file store's rules:

* single flight: :class:`~connector_core.oauth.refresher.OAuthRefresher` holds :meth:`lock` while
  it re-reads the row, refreshes and writes, so a process that waited uses the token the other
  one obtained instead of spending the old refresh token;
* write before use: :meth:`write` returns once the new row is committed (PostgreSQL's default
  ``synchronous_commit``: durable), before the refresher hands out the new access token;
* a process that dies while holding the lock loses its database session, which releases the
  lock, as the operating system releases a dead process's file lock.

The database URL is a secret (it may hold a password): it is registered with the redactor, and
errors name the setting, the host and the database, never the URL.
"""

from __future__ import annotations

import contextlib
import json
import threading
import typing as t
from urllib.parse import SplitResult, urlsplit

from connector_core.oauth.errors import TOKEN_KEYS, TokenStoreError
from connector_core.oauth.store import OAuthTokens, SeededStore
from connector_core.redaction import REDACTOR, SecretRedactor

if t.TYPE_CHECKING:
    import psycopg

TABLE = "connector_oauth_tokens"
LOCK_NAMESPACE = 0x6F617574  # "oaut": the first key of every advisory lock this store takes
SCHEMA_LOCK = 0  # second key of the lock that serialises the table's creation

URL_SETTING = "token_store_url"


class PostgresTokenStore(SeededStore):
    """The tokens of ``key`` in a PostgreSQL database (see the module docstring).

    ``url`` is a libpq URL (``postgresql://user:password@host:5432/database``); ``key`` names the
    store (the ``token_store`` setting): every process given the same URL and key shares the same
    tokens and lock. The table is created on first use.
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        lock_timeout: float = 600.0,
        connect_timeout: float = 10.0,
        redactor: SecretRedactor = REDACTOR,
    ) -> None:
        parts = check_url(url)
        if not key:
            raise TokenStoreError("token_store must name the store (its key in the database)")
        self.url = url
        self.key = key
        self.lock_timeout = float(lock_timeout)
        self.connect_timeout = float(connect_timeout)
        self.redactor = redactor
        redactor.add(url)
        if parts.password:
            redactor.add(parts.password)
        self.database = f"{parts.hostname or 'localhost'}:{parts.port or 5432}/{parts.path.lstrip('/')}"
        self._thread_lock = threading.RLock()
        self._held: psycopg.Connection[t.Any] | None = None  # the lock's connection, while held
        self._table_ready = False

    def __repr__(self) -> str:
        return f"PostgresTokenStore({self.key!r} on {self.database})"

    @property
    def location(self) -> str:
        """Where the tokens are, for messages (never the URL: it may hold a password)."""
        return (f"the token store {self.key!r} in PostgreSQL {self.database} "
                f"({URL_SETTING}, table {TABLE})")

    # -- the store -----------------------------------------------------------------------------
    def exists(self) -> bool:
        with self._connection() as conn:
            row = conn.execute(f"SELECT 1 FROM {TABLE} WHERE store_key = %s", (self.key,)).fetchone()
        return row is not None

    def read(self) -> OAuthTokens | None:
        """The stored tokens (registered with the redactor), or ``None`` if there is no row."""
        with self._connection() as conn:
            row = conn.execute(
                f"SELECT tokens FROM {TABLE} WHERE store_key = %s", (self.key,)
            ).fetchone()
        if row is None:
            return None
        data = row[0]
        if isinstance(data, str):  # a driver without jsonb loading
            data = json.loads(data)
        if not isinstance(data, dict):
            raise TokenStoreError(f"{self.location} must hold a JSON object")
        for name in TOKEN_KEYS:
            if isinstance(data.get(name), str):
                self.redactor.add(data[name])
        return OAuthTokens.from_json(data, where=self.location)

    def write(self, tokens: OAuthTokens | t.Mapping[str, t.Any]) -> None:
        """Replace the row with ``tokens``; returns once the new row is committed."""
        if not isinstance(tokens, OAuthTokens):
            tokens = OAuthTokens.from_json(tokens, where="tokens to store")
        tokens.register_secrets(self.redactor)
        payload = json.dumps(tokens.to_json(), sort_keys=True)
        with self._connection() as conn:
            conn.execute(
                f"INSERT INTO {TABLE} (store_key, tokens, updated_at) VALUES (%s, %s::jsonb, now()) "
                "ON CONFLICT (store_key) DO UPDATE SET tokens = EXCLUDED.tokens, updated_at = now()",
                (self.key, payload),
            )

    @contextlib.contextmanager
    def lock(self) -> t.Iterator[None]:
        """Hold the store's advisory lock: one thread of one process on any machine at a time.

        Re-entrant within a thread; :meth:`read` and :meth:`write` called while it is held use
        the lock's own database session.
        """
        with self._thread_lock:
            if self._held is not None:  # re-entered by the thread that holds it
                yield
                return
            conn = self._connect()
            try:
                try:
                    conn.execute(f"SET lock_timeout = {int(self.lock_timeout * 1000)}")
                    conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))",
                                 (LOCK_NAMESPACE, self.key))
                except _psycopg().errors.LockNotAvailable:
                    raise TokenStoreError(
                        f"waited {self.lock_timeout:.0f} s for the lock of {self.location}: another "
                        "process is refreshing the tokens and does not finish"
                    ) from None
                except _psycopg().Error as exc:
                    raise self._error("lock", exc) from None
                self._held = conn
                try:
                    yield
                finally:
                    self._held = None
                    with contextlib.suppress(_psycopg().Error):
                        conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))",
                                     (LOCK_NAMESPACE, self.key))
            finally:
                conn.close()  # a lock still held goes with the session

    # -- sessions -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connection(self) -> t.Iterator[psycopg.Connection[t.Any]]:
        """The lock's session when this thread holds it, else a short one of its own."""
        with self._thread_lock:
            held = self._held
            if held is not None:
                try:
                    yield held
                except _psycopg().Error as exc:
                    raise self._error("use", exc) from None
                return
        conn = self._connect()
        try:
            yield conn
        except _psycopg().Error as exc:
            raise self._error("use", exc) from None
        finally:
            conn.close()

    def _connect(self) -> psycopg.Connection[t.Any]:
        psycopg = _psycopg()
        try:
            conn = psycopg.connect(self.url, autocommit=True,
                                   connect_timeout=max(1, int(self.connect_timeout)),
                                   application_name="connector-core token store")
        except psycopg.Error as exc:
            raise self._error("connect to", exc) from None
        if not self._table_ready:
            try:
                with conn.transaction():
                    # Two first runs at once would race on CREATE TABLE IF NOT EXISTS.
                    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, SCHEMA_LOCK))
                    conn.execute(
                        f"CREATE TABLE IF NOT EXISTS {TABLE} (store_key text PRIMARY KEY, "
                        "tokens jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"
                    )
            except psycopg.Error as exc:
                conn.close()
                raise self._error("create the table in", exc) from None
            self._table_ready = True
        return conn

    def _error(self, what: str, exc: Exception) -> TokenStoreError:
        detail = self.redactor.redact(str(exc).strip().splitlines()[0] if str(exc).strip() else
                                      type(exc).__name__)
        return TokenStoreError(f"cannot {what} {self.location}: {detail}")


def check_url(url: str) -> SplitResult:
    """``url``'s parts, if it is a PostgreSQL URL; else the error names the setting (not the URL)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise TokenStoreError(
            f"{URL_SETTING} must be a postgresql:// URL (postgresql://user:password@host/database)"
        )
    return parts


def _psycopg() -> t.Any:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency of connector-core
        raise TokenStoreError(
            f"{URL_SETTING} needs the psycopg package (pip install 'psycopg[binary]')"
        ) from None
    return psycopg
