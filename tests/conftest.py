"""Fixtures shared by every test package: the PostgreSQL server (tests/postgres.py)."""

from __future__ import annotations

import os
import typing as t

import pytest

from tests.postgres import PostgresServer, find_bindir


@pytest.fixture(scope="session")
def postgres() -> t.Iterator[PostgresServer]:
    """A real PostgreSQL server for this test session (one per xdist worker), stopped at the end.

    Without PostgreSQL binaries the tests that use it are skipped, except in CI (CI=true), where
    the locked pgserver wheel provides them: there a missing server is an error, not a skip.
    """
    if find_bindir() is None:
        reason = ("no PostgreSQL binaries: `uv sync` installs the pgserver wheel (Python < 3.13), "
                  "else apt-get install postgresql, or set PG_BINDIR")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()
