"""A real PostgreSQL server for the tests: initdb in a temp dir, listening on a free loopback port.

The binaries come from the `pgserver` wheel (a dev dependency of the workspace, so `uv sync
--locked` installs them; it has no wheel for Python 3.13 yet), else from `PG_BINDIR`, Debian's
`/usr/lib/postgresql/<version>/bin` or `pg_config --bindir`. PostgreSQL refuses to run as root: as
root (CI) the server runs as `nobody`, owning its data directory (and, when `nobody` cannot reach
the binaries, e.g. a clone under /root, a copy of the installation in that directory). Password
authentication (scram-sha-256) for TCP, so tests can check that the password never reaches a log
line. The server's time zone is UTC; a test that needs another sets it per database. A server
still running when the interpreter exits is stopped then.

    server = PostgresServer.start()
    url = server.create_database("warehouse")   # postgresql://tester:...@127.0.0.1:PORT/warehouse
    server.stop()
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import typing as t
from pathlib import Path

USER = "tester"


def find_bindir() -> Path | None:
    """Where initdb, pg_ctl and postgres are, or None."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    spec = importlib.util.find_spec("pgserver")
    if spec and spec.submodule_search_locations:
        candidates.append(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin")
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    candidates.extend(Path(p) for p in reversed(versions))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
            candidates.append(Path(out.stdout.strip()))
    for bindir in candidates:
        if all((bindir / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One throwaway PostgreSQL cluster (see the module docstring)."""

    def __init__(self, bindir: Path, root: Path, port: int, password: str,
                 run_as: pwd.struct_passwd | None) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = port
        self.password = password
        self.run_as = run_as
        self.host = "127.0.0.1"
        self.user = USER

    # -- lifecycle ---------------------------------------------------------------------------------
    @classmethod
    def start(cls, bindir: Path | None = None) -> PostgresServer:
        bindir = bindir or find_bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL binaries: `uv sync` installs pgserver (Python < 3.13), "
                               "or install Debian's postgresql, or set PG_BINDIR")
        run_as = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
        root = Path(tempfile.mkdtemp(prefix="connector-tests-pg-"))
        password = "pw-" + secrets.token_hex(12)
        server = cls(bindir, root, free_port(), password, run_as)
        atexit.register(server.stop)
        try:
            if run_as is not None:
                os.chmod(root, 0o700)
                os.chown(root, run_as.pw_uid, run_as.pw_gid)
                server._make_binaries_reachable()
            server._initdb()
            server._pg_ctl_start()
        except BaseException:
            server.stop()
            raise
        return server

    def _make_binaries_reachable(self) -> None:
        """As root: if `nobody` cannot run the binaries where they are (a parent directory closed to
        others), run a copy of the installation kept in the server's own directory. The copy keeps
        the layout the binaries find their files by: bin/, lib/ and share/ relative to bin/, and
        pgserver's bundled libraries (RPATH `$ORIGIN/../../../pgserver.libs`)."""
        try:
            self._run(str(self.bindir / "postgres"), "--version", timeout=30)
            return
        except (OSError, RuntimeError):
            pass
        install = self.bindir.parent  # .../pgserver/pginstall
        base = self.root / "install"
        shutil.copytree(install, base / install.parent.name / install.name, symlinks=True)
        libs = install.parent.parent / "pgserver.libs"
        if libs.is_dir():
            shutil.copytree(libs, base / libs.name, symlinks=True)
        self.bindir = base / install.parent.name / install.name / self.bindir.name
        self._run(str(self.bindir / "postgres"), "--version", timeout=30)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, t.Any] = {}
        if self.run_as is not None:
            kwargs.update(user=self.run_as.pw_uid, group=self.run_as.pw_gid, extra_groups=[])
        proc = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
                              cwd=self.root, env={**os.environ, "LC_ALL": "C"}, **kwargs)
        if proc.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed ({proc.returncode}): "
                               f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}\n{tail}")
        return proc

    def _initdb(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.run_as is not None:
            os.chown(pwfile, self.run_as.pw_uid, self.run_as.pw_gid)
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", USER,
                  f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=trust",
                  "-E", "UTF8", "--no-sync")
        pwfile.unlink()
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            # A test server: no durability, no unix socket (only TCP on loopback).
            conf.write("\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                       "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                       "max_connections = 200\ntimezone = 'UTC'\nlog_timezone = 'UTC'\n")

    def _pg_ctl_start(self) -> None:
        for attempt in range(5):
            try:
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                          str(self.root / "server.log"), "-o", f"-p {self.port}", "-w", "-t", "60",
                          "start")
                return
            except RuntimeError:
                if attempt == 4:
                    raise
                self.port = free_port()  # the port was taken meanwhile: another one

    def stop(self) -> None:
        """Stop the server and delete its files (idempotent)."""
        atexit.unregister(self.stop)
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                          "-w", "-t", "30", "stop", timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- use ---------------------------------------------------------------------------------------
    def url(self, database: str = "postgres", *, driver: str = "postgresql") -> str:
        return f"{driver}://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> t.Any:
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True)

    def create_database(self, name: str) -> str:
        """Create (anew) database ``name``; its URL."""
        with self.connect() as con:
            con.execute(f'drop database if exists "{name}" with (force)')
            con.execute(f'create database "{name}"')
        return self.url(name)

    def execute(self, database: str, sql: str, *args: t.Any) -> None:
        """Run a statement that returns no rows (DDL, ``alter database``...)."""
        with self.connect(database) as con:
            con.execute(sql, args or None)

    def query(self, database: str, sql: str, *args: t.Any) -> list[tuple]:
        with self.connect(database) as con:
            return list(con.execute(sql, args or None).fetchall())


def wait_until(predicate: t.Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)
