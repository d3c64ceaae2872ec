"""connector_core.oauth: token store, single-flight refresh across processes, consent flow.

A fake token endpoint (a ThreadingHTTPServer on port 0) behaves like Exact
Online's: it rotates the refresh token on every refresh, answers 401
"Old refresh token used." to a spent one, and 400 + ``Reason:
TooEarlyToRefreshTokens`` to a refresh of a token younger than N seconds.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import queue
import secrets
import stat
import subprocess
import sys
import textwrap
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connector_core import (
    REDACTOR,
    AuthorizationError,
    BearerAuth,
    OAuthRefresher,
    OAuthTokens,
    ReauthorizationRequired,
    RetriesExhaustedError,
    RetryPolicy,
    TokenEndpointError,
    TokenStore,
    TokenStoreError,
    authorize,
)
from connector_core.oauth.pgstore import PostgresTokenStore
from connector_core.oauth.store import TokenStorage, open_token_store

CLIENT_ID = "client-1"
CLIENT_SECRET = "s3cret-" + secrets.token_hex(8)
FAST = RetryPolicy(max_tries=3, base_delay=0.01, max_delay=0.05)
REAUTH = "tap-exactonline authorize --config config.json"
REPO_ROOT = Path(__file__).resolve().parents[2]


def new_token(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(12)}"


class FakeTokenEndpoint:
    """A token endpoint that rotates refresh tokens, plus one protected API path."""

    def __init__(
        self,
        *,
        too_early_after: float = 0.0,
        lifetime: float = 600.0,
        refresh_delay: float = 0.0,
        clock: t.Callable[[], float] = time.time,
    ) -> None:
        self.too_early_after = too_early_after
        self.lifetime = lifetime
        self.refresh_delay = refresh_delay
        self.clock = clock
        self.lock = threading.Lock()
        self.valid_refresh = new_token("rt")
        self.spent: set[str] = set()
        self.access: dict[str, float] = {}  # access token -> expiry (self.clock)
        self.last_issue = clock()
        self.refreshes = 0
        self.too_early_answers = 0
        self.token_requests: list[dict[str, str]] = []
        self.fail_next: list[int] = []
        self.echo_secrets_in_errors = False
        self.auth_code = "code-xyz!"
        self.api_statuses: list[int] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
                pass

            def _send(
                self, status: int, body: t.Any, headers: dict[str, str] | None = None
            ) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                status, body, headers = endpoint.token(form)
                refreshing = form.get("grant_type") == "refresh_token"
                if status == 200 and endpoint.refresh_delay and refreshing:
                    time.sleep(endpoint.refresh_delay)  # a slow answer widens the race
                self._send(status, body, headers)

            def do_GET(self) -> None:  # noqa: N802
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                with endpoint.lock:
                    expiry = endpoint.access.get(token)
                    ok = expiry is not None and endpoint.clock() < expiry
                    endpoint.api_statuses.append(200 if ok else 401)
                if ok:
                    self._send(200, {"ok": True})
                else:
                    self._send(401, {"error": "invalid_token"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/oauth2/token"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1/current/Me"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _issue(self) -> dict[str, t.Any]:
        access, refresh = new_token("at"), new_token("rt")
        now = self.clock()
        self.access[access] = now + self.lifetime
        self.valid_refresh = refresh
        self.last_issue = now
        # Exact sends expires_in as a string.
        return {"access_token": access, "token_type": "bearer",
                "expires_in": str(int(self.lifetime)), "refresh_token": refresh}

    def initial_tokens(self, *, age: float, lifetime: float | None = None) -> OAuthTokens:
        """Tokens as if issued ``age`` seconds ago (store contents)."""
        with self.lock:
            now = self.clock()
            body = self._issue()
            self.last_issue = now - age
            expires_at = now - age + (self.lifetime if lifetime is None else lifetime)
            self.access[body["access_token"]] = expires_at
        return OAuthTokens(body["access_token"], body["refresh_token"], expires_at, now - age)

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, t.Any], dict[str, str]]:
        with self.lock:
            self.token_requests.append(form)
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return 401, {"error": "invalid_client"}, {}
            if self.fail_next:
                status = self.fail_next.pop(0)
                description = "try later"
                if self.echo_secrets_in_errors:
                    echoed = f"{form.get('refresh_token')} / {form.get('client_secret')}"
                    description += f" (got {echoed})"
                return status, {"error": "server_error", "error_description": description}, {}
            grant = form.get("grant_type")
            if grant == "authorization_code":
                if form.get("code") != self.auth_code:
                    return 400, {"error": "invalid_grant", "error_description": "bad code"}, {}
                return 200, self._issue(), {}
            if grant != "refresh_token":
                return 400, {"error": "unsupported_grant_type"}, {}
            refresh = form.get("refresh_token", "")
            if refresh in self.spent:
                return 401, {"error": "unauthorized_client",
                             "error_description": "Old refresh token used."}, {}
            if refresh != self.valid_refresh:
                return 400, {"error": "invalid_grant"}, {}
            if self.clock() - self.last_issue < self.too_early_after:
                self.too_early_answers += 1
                return (400, {"error": "access_denied",
                              "error_description": "Rate limit exceeded: access_token not expired"},
                        {"Reason": "TooEarlyToRefreshTokens"})
            self.spent.add(refresh)
            self.refreshes += 1
            return 200, self._issue(), {}


class FakeClock:
    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def endpoint() -> t.Iterator[FakeTokenEndpoint]:
    server = FakeTokenEndpoint()
    try:
        yield server
    finally:
        server.close()


STORE_BACKENDS = ["file", "postgres"]


@pytest.fixture(scope="module")
def token_database(request: pytest.FixtureRequest) -> str:
    """A database of the session's PostgreSQL server for the token stores of this module."""
    server = request.getfixturevalue("postgres")
    return str(server.create_database(f"tokens_{secrets.token_hex(4)}"))


@pytest.fixture(params=STORE_BACKENDS)
def store_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The settings of a token store: a file, or a row of PostgreSQL (``token_store_url``)."""
    if request.param == "file":
        return {"token_store": str(tmp_path / "t.json")}
    return {"token_store": f"test-{secrets.token_hex(6)}",
            "token_store_url": request.getfixturevalue("token_database")}


@pytest.fixture
def shared_store(store_config: dict[str, str]) -> TokenStorage:
    return open_token_store(store_config)


def refresher_for(store: TokenStorage, server: FakeTokenEndpoint, **kwargs: t.Any) -> OAuthRefresher:
    options: dict[str, t.Any] = {
        "token_url": server.token_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "retry_policy": FAST,
        "reauthorize_command": REAUTH,
    }
    options.update(kwargs)
    return OAuthRefresher(store, **options)


# -- the store ----------------------------------------------------------------


def test_store_round_trip_mode_0600_and_no_temp_files(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens" / "exact.json")
    assert store.read() is None
    tokens = OAuthTokens("at-abcdef", "rt-abcdef", 1000.0, 400.0, {"token_type": "bearer"})
    store.write(tokens)
    assert store.read() == tokens
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    data = json.loads(store.path.read_text())
    assert data == {"access_token": "at-abcdef", "refresh_token": "rt-abcdef",
                    "expires_at": 1000.0, "obtained_at": 400.0, "token_type": "bearer"}
    store.write({**data, "refresh_token": "rt-ghijkl"})
    assert store.read().refresh_token == "rt-ghijkl"
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["exact.json"]


def test_store_write_is_fsynced_then_renamed_then_directory_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(tmp_path / "t.json")
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def replace(src: t.Any, dst: t.Any) -> None:
        calls.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store.write(OAuthTokens("at-abcdef", "rt-abcdef", 1.0, 0.0))
    assert calls == ["fsync-file", "replace", "fsync-dir"]


def test_store_errors_never_show_the_content(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "t.json")
    store.path.write_text('{"refresh_token": "rt-leaky-secret", oops')
    with pytest.raises(TokenStoreError) as info:
        store.read()
    assert "not valid JSON" in str(info.value) and "leaky" not in str(info.value)
    store.path.write_text('{"access_token": "at-only"}')
    with pytest.raises(TokenStoreError, match="no refresh_token"):
        store.read()


def test_seed_never_overwrites_a_newer_store(shared_store: TokenStorage) -> None:
    store = shared_store
    assert store.seed("rt-from-config")
    assert store.read().refresh_token == "rt-from-config"
    store.write(OAuthTokens("at-x1234", "rt-rotated", 1.0, 0.0))
    assert not store.seed("rt-from-config")
    assert store.read().refresh_token == "rt-rotated"


# -- refreshing -----------------------------------------------------------------


def test_fresh_token_is_used_as_is_and_expired_one_is_refreshed_and_stored_first(
    shared_store: TokenStorage, endpoint: FakeTokenEndpoint
) -> None:
    store = shared_store
    first = endpoint.initial_tokens(age=10)
    store.write(first)
    refresher = refresher_for(store, endpoint)
    assert refresher.access_token() == first.access_token
    assert endpoint.refreshes == 0

    store.write(endpoint.initial_tokens(age=700, lifetime=600))  # expired
    assert refresher.access_token() == first.access_token  # still fresh in memory
    refresher.invalidate()
    token = refresher.access_token()
    assert endpoint.refreshes == 1
    stored = store.read()
    assert stored.access_token == token
    assert stored.refresh_token == endpoint.valid_refresh
    assert stored.expires_at == pytest.approx(time.time() + 600, abs=5)  # expires_in "600"
    assert stored.extra == {"token_type": "bearer"}
    assert requests.get(endpoint.api_url, auth=BearerAuth(refresher), timeout=5).status_code == 200


def test_write_failure_hands_out_no_token_and_keeps_the_old_refresh_token(
    tmp_path: Path, endpoint: FakeTokenEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(tmp_path / "t.json")
    old = endpoint.initial_tokens(age=700)
    store.write(old)
    refresher = refresher_for(store, endpoint)

    def disk_full(src: t.Any, dst: t.Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    handed_out: list[str] = []
    with pytest.raises(TokenStoreError) as info:
        handed_out.append(refresher.access_token())
    monkeypatch.undo()
    assert handed_out == []
    assert endpoint.refreshes == 1  # the vendor did rotate...
    assert store.read() == old  # ...but the store was never half-written
    message = str(info.value)
    assert "No space left" in message and REAUTH in message
    assert endpoint.valid_refresh not in message and old.refresh_token not in message
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == ["t.json"]


# Run by the multi-process tests: one "connector process" sharing the store.
WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    import requests
    from connector_core import BearerAuth, OAuthRefresher, RetryPolicy
    from connector_core.oauth.store import open_token_store

    token_url, api_url, mode, ready, go = sys.argv[1:6]
    store = open_token_store(json.loads(os.environ["STORE_CONFIG"]))
    if mode == "crash-after-write":
        original_write = type(store).write

        def write_then_die(self, tokens):
            original_write(self, tokens)
            os._exit(17)  # killed after the store write, before any API request

        type(store).write = write_then_die
    refresher = OAuthRefresher(
        store, token_url=token_url, client_id="client-1",
        client_secret=os.environ["FAKE_CLIENT_SECRET"],
        retry_policy=RetryPolicy(max_tries=3, base_delay=0.01, max_delay=0.05),
        reauthorize_command="tap-x authorize",
    )
    open(ready, "w").close()
    deadline = time.monotonic() + 10
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.005)
    if mode == "force":  # the API refused the stored access token
        refresher.access_token()
    token = refresher.access_token(force=(mode == "force"))
    status = requests.get(api_url, auth=BearerAuth(refresher), timeout=10).status_code
    print(json.dumps({"token": token, "status": status, "refreshes": refresher.refreshes}))
    """
)


def start_workers(
    tmp_path: Path, server: FakeTokenEndpoint, store_config: dict[str, str], modes: list[str]
) -> list[subprocess.Popen[str]]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    go = tmp_path / "go"
    go.unlink(missing_ok=True)
    env = {**os.environ, "FAKE_CLIENT_SECRET": CLIENT_SECRET, "STORE_CONFIG": json.dumps(store_config)}
    procs = []
    readies = []
    for i, mode in enumerate(modes):
        ready = tmp_path / f"ready-{i}"
        ready.unlink(missing_ok=True)
        readies.append(ready)
        procs.append(subprocess.Popen(
            [sys.executable, str(script), server.token_url, server.api_url,
             mode, str(ready), str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT,
        ))
    deadline = time.monotonic() + 15
    while not all(r.exists() for r in readies):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    go.touch()
    return procs


def test_processes_refreshing_at_once_refresh_exactly_once(
    tmp_path: Path, endpoint: FakeTokenEndpoint, store_config: dict[str, str]
) -> None:
    endpoint.refresh_delay = 0.4  # every other process arrives while the refresh is in flight
    store = open_token_store(store_config)
    store.write(endpoint.initial_tokens(age=700))  # expired for everybody
    procs = start_workers(tmp_path, endpoint, store_config, ["plain", "plain", "plain"])
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    assert endpoint.refreshes == 1
    assert sorted(r["refreshes"] for r in results) == [0, 0, 1]
    assert len({r["token"] for r in results}) == 1
    assert results[0]["token"] == store.read().access_token
    assert [r["status"] for r in results] == [200, 200, 200]  # all go on
    assert store.read().refresh_token == endpoint.valid_refresh


def test_crash_after_the_store_write_keeps_the_chain_alive(
    tmp_path: Path, endpoint: FakeTokenEndpoint, store_config: dict[str, str]
) -> None:
    store = open_token_store(store_config)
    old = endpoint.initial_tokens(age=700)
    store.write(old)
    (proc,) = start_workers(tmp_path, endpoint, store_config, ["crash-after-write"])
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 17, err
    assert out == ""  # died before any API request
    assert endpoint.refreshes == 1
    assert store.read().refresh_token == endpoint.valid_refresh != old.refresh_token

    # The next process starts from the store and refreshes with the NEW refresh token.
    (proc,) = start_workers(tmp_path, endpoint, store_config, ["force"])
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["refreshes"] == 1 and result["status"] == 200
    assert endpoint.refreshes == 2
    assert store.read().refresh_token == endpoint.valid_refresh


def test_threads_share_one_refresh(shared_store: TokenStorage, endpoint: FakeTokenEndpoint) -> None:
    endpoint.refresh_delay = 0.2
    store = shared_store
    store.write(endpoint.initial_tokens(age=700))
    refresher = refresher_for(store, endpoint)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        tokens = list(pool.map(lambda _: refresher.access_token(), range(4)))
    assert len(set(tokens)) == 1 and endpoint.refreshes == 1


# -- the PostgreSQL store ---------------------------------------------------------------


def test_postgres_store_lock_is_one_holder_at_a_time_and_names_the_store_on_timeout(
    token_database: str,
) -> None:
    key = f"lock-{secrets.token_hex(4)}"
    holder = PostgresTokenStore(token_database, key)
    waiter = PostgresTokenStore(token_database, key, lock_timeout=0.5)
    other_key = PostgresTokenStore(token_database, key + "-other", lock_timeout=0.5)
    with holder.lock():
        with holder.lock():  # re-entrant in the holding thread
            holder.write(OAuthTokens("at-held1", "rt-held1", 1.0, 0.0))
        started = time.monotonic()
        with pytest.raises(TokenStoreError) as info:
            with waiter.lock():
                pass
        assert 0.4 < time.monotonic() - started < 5
        assert f"lock of the token store {key!r}" in str(info.value)
        with other_key.lock():  # another store's lock is another lock
            pass
    with waiter.lock():  # released with the holder's block
        assert waiter.read().refresh_token == "rt-held1"


def test_postgres_store_rows_are_per_key_and_the_table_is_created_once(token_database: str) -> None:
    stores = [PostgresTokenStore(token_database, f"k{i}-{secrets.token_hex(3)}") for i in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # four first uses at once
        seeded = list(pool.map(lambda st: st.seed(f"rt-seed-{st.key}"), stores))
    assert seeded == [True] * 4
    assert [st.read().refresh_token for st in stores] == [f"rt-seed-{st.key}" for st in stores]
    assert PostgresTokenStore(token_database, "never-written").read() is None
    assert not PostgresTokenStore(token_database, "never-written").exists()


def test_postgres_store_errors_name_the_setting_never_the_password(postgres: t.Any) -> None:
    wrong_password = postgres.url("postgres").replace(postgres.password, "not-the-" + postgres.password)
    with pytest.raises(TokenStoreError) as info:
        PostgresTokenStore(wrong_password, "k").read()
    message = str(info.value)
    assert "token_store_url" in message and f"{postgres.host}:{postgres.port}/postgres" in message
    assert postgres.password not in message
    with pytest.raises(TokenStoreError, match="token_store_url must be a postgresql:// URL"):
        open_token_store({"token_store": "k", "token_store_url": "mysql://u:p@h/db"})
    closed_port = postgres.url("postgres").replace(f":{postgres.port}/", ":9/")
    refused = r"cannot connect to .* 127\.0\.0\.1:9/postgres \(token_store_url, table "
    with pytest.raises(TokenStoreError, match=refused):
        PostgresTokenStore(closed_port, "k").exists()


def test_postgres_store_is_what_an_oauth_connection_uses(token_database: str) -> None:
    from exactonline_client import ExactOnlineConnection

    key = f"exact-{secrets.token_hex(4)}"
    config = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token_store": key,
              "token_store_url": token_database, "refresh_token": "rt-from-the-setting"}
    connection = ExactOnlineConnection(config, logging.getLogger("test"), "tap-exactonline")
    assert isinstance(connection.token_store, PostgresTokenStore)
    assert connection.token_store.read().refresh_token == "rt-from-the-setting"  # seeded once
    assert REDACTOR.redact(token_database) != token_database  # the URL is a secret


# -- never too early --------------------------------------------------------------


def test_exact_timeline_refreshes_at_570_s_and_never_earlier(tmp_path: Path) -> None:
    clock = FakeClock()
    server = FakeTokenEndpoint(too_early_after=570, clock=clock)
    try:
        store = TokenStore(tmp_path / "t.json")
        store.write(server.initial_tokens(age=0))
        refresher = refresher_for(store, server, refresh_window=30, default_lifetime=600,
                                  clock=clock, sleep=clock.sleep)
        start = clock.now
        refreshed_at = []
        for _ in range(1300):  # 1300 s of a run asking for a token every second
            before = server.refreshes
            refresher.access_token()
            if server.refreshes != before:
                refreshed_at.append(round(clock.now - start))
            clock.now += 1
        assert refreshed_at == [570, 1140]
        assert server.too_early_answers == 0
        assert clock.slept == []
    finally:
        server.close()


def test_forced_refresh_of_a_young_token_keeps_it(
    tmp_path: Path, endpoint: FakeTokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    store = TokenStore(tmp_path / "t.json")
    tokens = OAuthTokens("at-young123", endpoint.valid_refresh, clock.now + 500, clock.now - 100)
    store.write(tokens)
    refresher = refresher_for(store, endpoint, refresh_window=30, clock=clock,
                              sleep=clock.sleep)
    assert refresher.access_token() == "at-young123"
    with caplog.at_level(logging.WARNING, "connector_core.oauth"):
        assert refresher.access_token(force=True) == "at-young123"  # the API said 401
    assert endpoint.token_requests == [] and clock.slept == []
    assert "current token is kept" in caplog.text


def test_expired_but_young_token_waits_until_the_vendor_allows_a_refresh(
    tmp_path: Path, endpoint: FakeTokenEndpoint
) -> None:
    clock = FakeClock()
    store = TokenStore(tmp_path / "t.json")
    # Stated to live 600 s (refresh allowed from 570 s), yet expired after 300 s.
    store.write(OAuthTokens("at-short123", endpoint.valid_refresh, clock.now - 1, clock.now - 301,
                            lifetime=600))
    refresher = refresher_for(store, endpoint, refresh_window=30, clock=clock,
                              sleep=clock.sleep)
    token = refresher.access_token()
    assert clock.slept == [pytest.approx(269)]
    assert endpoint.refreshes == 1 and token == store.read().access_token != "at-short123"


@pytest.mark.parametrize("lifetime", [60, 120, 300])
def test_refresh_floor_follows_the_stated_lifetime(tmp_path: Path, lifetime: int) -> None:
    """A token stated to live less than 600 s is refreshed in its last 30 s, not after 570 s:
    an expired token never waits for a floor that belongs to a longer lifetime."""
    clock = FakeClock()
    server = FakeTokenEndpoint(too_early_after=lifetime - 30, lifetime=lifetime, clock=clock)
    try:
        store = TokenStore(tmp_path / "t.json")
        store.write(server.initial_tokens(age=0))
        refresher = refresher_for(store, server, refresh_window=30, default_lifetime=600,
                                  clock=clock, sleep=clock.sleep)
        start = clock.now
        refreshed_at = []
        for _ in range(3 * lifetime):  # a run asking for a token every second
            before = server.refreshes
            refresher.access_token()
            if server.refreshes != before:
                refreshed_at.append(round(clock.now - start))
            clock.now += 1
        step = lifetime - 30
        assert refreshed_at == list(range(step, 3 * lifetime, step))
        assert server.too_early_answers == 0 and clock.slept == []
        assert store.read().lifetime == lifetime  # the stated expires_in is kept in the store
    finally:
        server.close()


def test_expired_short_lived_token_is_refreshed_at_once(
    tmp_path: Path, endpoint: FakeTokenEndpoint
) -> None:
    """The bug: a token stated to live 60 s, found expired, waited out a constant 570 s floor."""
    clock = FakeClock()
    store = TokenStore(tmp_path / "t.json")
    store.write(OAuthTokens("at-dead12345", endpoint.valid_refresh, clock.now - 5, clock.now - 65,
                            lifetime=60))
    refresher = refresher_for(store, endpoint, refresh_window=30, clock=clock, sleep=clock.sleep)
    token = refresher.access_token()
    assert clock.slept == [] and endpoint.refreshes == 1
    assert token == store.read().access_token != "at-dead12345"


def test_too_early_answer_keeps_the_current_token(
    tmp_path: Path, endpoint: FakeTokenEndpoint
) -> None:
    endpoint.too_early_after = 570
    current = endpoint.initial_tokens(age=0)
    clock = FakeClock(time.time() + 590)  # our clock runs ahead of the vendor's
    store = TokenStore(tmp_path / "t.json")
    store.write(current)
    refresher = refresher_for(store, endpoint, refresh_window=30, clock=clock)
    assert refresher.access_token() == current.access_token
    assert endpoint.too_early_answers == 1 and endpoint.refreshes == 0
    assert store.read() == current
    # No new attempt for a while (the token endpoint allows few calls a day)...
    clock.now += 29
    assert refresher.access_token() == current.access_token
    assert refresher.access_token(rejected=current.access_token) == current.access_token
    assert len(endpoint.token_requests) == 1
    # ...then one more try.
    clock.now += 2
    assert refresher.access_token() == current.access_token
    assert len(endpoint.token_requests) == 2


# -- dead chains ---------------------------------------------------------------------


def test_old_refresh_token_means_reauthorization(
    tmp_path: Path, endpoint: FakeTokenEndpoint
) -> None:
    store = TokenStore(tmp_path / "t.json")
    stale = endpoint.initial_tokens(age=700)
    endpoint.spent.add(stale.refresh_token)  # another client already rotated it away
    endpoint.valid_refresh = new_token("rt")
    store.write(stale)
    with pytest.raises(ReauthorizationRequired) as info:
        refresher_for(store, endpoint).access_token()
    message = str(info.value)
    assert "chain is dead" in message and "Old refresh token used" in message
    assert f"run `{REAUTH}`" in message
    assert stale.refresh_token not in message and CLIENT_SECRET not in message
    assert store.read() == stale  # nothing overwritten


def test_invalid_grant_and_missing_store_mean_reauthorization(
    tmp_path: Path, endpoint: FakeTokenEndpoint
) -> None:
    store = TokenStore(tmp_path / "t.json")
    with pytest.raises(ReauthorizationRequired, match="No OAuth tokens are stored") as info:
        refresher_for(store, endpoint).access_token()
    assert REAUTH in str(info.value)
    store.write(OAuthTokens("", "rt-unknown-to-vendor", 0, 0))
    with pytest.raises(ReauthorizationRequired, match="invalid_grant"):
        refresher_for(store, endpoint).access_token()


def test_wrong_client_secret_is_a_config_error_not_a_dead_chain(
    tmp_path: Path, endpoint: FakeTokenEndpoint
) -> None:
    store = TokenStore(tmp_path / "t.json")
    store.write(endpoint.initial_tokens(age=700))
    with pytest.raises(TokenEndpointError, match="client_secret") as info:
        refresher_for(store, endpoint, client_secret="wrong-secret").access_token()
    assert "wrong-secret" not in str(info.value)


# -- retries and secrets ----------------------------------------------------------


def test_transient_errors_are_retried_and_no_secret_is_logged(
    tmp_path: Path, endpoint: FakeTokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    endpoint.echo_secrets_in_errors = True
    store = TokenStore(tmp_path / "t.json")
    first = endpoint.initial_tokens(age=700)
    store.write(first)
    refresher = refresher_for(store, endpoint)
    endpoint.fail_next = [503, 429]
    second = refresher.access_token()
    assert endpoint.refreshes == 1 and len(endpoint.token_requests) == 3
    assert "attempt 1/3 failed (HTTP 503" in caplog.text

    store.write(endpoint.initial_tokens(age=700))
    refresher.invalidate()
    endpoint.fail_next = [503, 503, 503]
    with pytest.raises(RetriesExhaustedError) as exhausted:
        refresher.access_token()
    endpoint.spent.add(endpoint.valid_refresh)
    endpoint.valid_refresh = new_token("rt")
    refresher.invalidate()
    with pytest.raises(ReauthorizationRequired) as dead:
        refresher.access_token()

    leaked = [first.access_token, first.refresh_token, second, store.read().refresh_token,
              store.read().access_token, CLIENT_SECRET]
    texts = {"logs": caplog.text, "exhausted": str(exhausted.value), "dead": str(dead.value)}
    assert "try later (got ***" in texts["exhausted"]  # the echoed secrets were masked
    for name, text in texts.items():
        for secret in leaked:
            assert secret not in text, name
    assert all(REDACTOR.redact(s) == "***" for s in leaked)


def test_bearer_auth_refreshes_once_after_a_401(
    tmp_path: Path, endpoint: FakeTokenEndpoint
) -> None:
    store = TokenStore(tmp_path / "t.json")
    current = endpoint.initial_tokens(age=60)
    store.write(current)
    refresher = refresher_for(store, endpoint)
    session = requests.Session()
    session.auth = BearerAuth(refresher)
    assert session.get(endpoint.api_url, timeout=5).status_code == 200

    endpoint.access.clear()  # the vendor revokes every access token
    response = session.get(endpoint.api_url, timeout=5)
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert endpoint.refreshes == 1 and endpoint.api_statuses == [200, 401, 200]

    # A second 401 for the new token too: one refresh per request, then the 401 stands.
    endpoint.access.clear()
    endpoint.api_statuses.clear()
    endpoint.lifetime = -1  # tokens issued now are already expired for the API
    assert session.get(endpoint.api_url, timeout=5).status_code == 401
    assert endpoint.api_statuses == [401, 401] and endpoint.refreshes == 2


# -- interactive consent ---------------------------------------------------------------


def run_authorize(
    tmp_path: Path, server: FakeTokenEndpoint, **kwargs: t.Any
) -> tuple[concurrent.futures.Future[OAuthTokens], str, TokenStore]:
    urls: queue.Queue[str] = queue.Queue()
    store = TokenStore(tmp_path / "t.json")
    options: dict[str, t.Any] = {
        "auth_url": "https://start.example.invalid/api/oauth2/auth",
        "token_url": server.token_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "http://127.0.0.1:0/callback",
        "store": store,
        "extra_params": {"force_login": "0"},
        "timeout": 10,
        "show_url": urls.put,
        "retry_policy": FAST,
    }
    options.update(kwargs)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    future = pool.submit(authorize, **options)
    pool.shutdown(wait=False)
    deadline = time.monotonic() + 10
    while True:
        try:
            return future, urls.get(timeout=0.05), store
        except queue.Empty:
            if future.done():
                future.result()  # raises what went wrong before the URL was shown
                raise AssertionError("authorize() returned without showing a URL") from None
            assert time.monotonic() < deadline, "authorize() never showed the consent URL"


def test_authorize_stores_the_tokens(tmp_path: Path, endpoint: FakeTokenEndpoint) -> None:
    future, consent_url, store = run_authorize(tmp_path, endpoint)
    parts = urlsplit(consent_url)
    assert parts.netloc == "start.example.invalid" and parts.path == "/api/oauth2/auth"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
    assert query["force_login"] == "0" and len(query["state"]) >= 20
    redirect = query["redirect_uri"]
    assert redirect.startswith("http://127.0.0.1:") and redirect.endswith("/callback")
    assert urlsplit(redirect).port not in (0, 80)  # port 0 became the port really bound

    # The browser asks for a favicon first: ignored.
    base = redirect.rsplit("/", 1)[0]
    assert requests.get(f"{base}/favicon.ico", timeout=5).status_code == 404
    # The vendor redirects back with the code (URL-encoded "!") and the state.
    page = requests.get(redirect, params={"code": "code-xyz!", "state": query["state"]}, timeout=10)
    assert page.status_code == 200 and "You can close this tab" in page.text
    tokens = future.result(timeout=10)
    assert store.read() == tokens and tokens.refresh_token == endpoint.valid_refresh
    (exchange,) = endpoint.token_requests
    assert exchange == {"grant_type": "authorization_code", "code": "code-xyz!",
                        "redirect_uri": redirect, "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET}
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_authorize_refuses_a_wrong_state(tmp_path: Path, endpoint: FakeTokenEndpoint) -> None:
    future, consent_url, store = run_authorize(tmp_path, endpoint)
    redirect = parse_qs(urlsplit(consent_url).query)["redirect_uri"][0]
    page = requests.get(redirect, params={"code": "code-xyz!", "state": "forged"}, timeout=10)
    assert page.status_code == 400
    with pytest.raises(AuthorizationError, match="wrong or missing state"):
        future.result(timeout=10)
    assert endpoint.token_requests == [] and not store.exists()


def test_authorize_reports_a_declined_consent(tmp_path: Path, endpoint: FakeTokenEndpoint) -> None:
    future, consent_url, store = run_authorize(tmp_path, endpoint)
    query = parse_qs(urlsplit(consent_url).query)
    page = requests.get(query["redirect_uri"][0], timeout=10, params={
        "error": "access_denied", "error_description": "The user denied access",
        "state": query["state"][0]})
    assert page.status_code == 400 and "access_denied" in page.text
    with pytest.raises(AuthorizationError, match="Access was not granted.*access_denied"):
        future.result(timeout=10)
    assert not store.exists()


def test_authorize_times_out_and_rejects_a_remote_redirect(
    tmp_path: Path, endpoint: FakeTokenEndpoint
) -> None:
    future, _, store = run_authorize(tmp_path, endpoint, timeout=0.3)
    with pytest.raises(AuthorizationError, match="did not come back"):
        future.result(timeout=10)
    with pytest.raises(ValueError, match="loopback"):
        authorize(auth_url="https://a.invalid/auth", token_url=endpoint.token_url,
                  client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                  redirect_uri="https://app.example.com/callback", store=store)
