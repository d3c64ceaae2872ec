"""Fixtures for connector_core tests: a scripted local HTTP server and clean globals."""

from __future__ import annotations

import typing as t

import pytest

from connector_core.redaction import REDACTOR
from tests.core.http_server import ScriptedServer


@pytest.fixture
def http_server() -> t.Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture(autouse=True)
def _clean_global_redactor() -> t.Iterator[None]:
    """Secrets registered by one test must not mask text in another."""
    REDACTOR.clear()
    yield
    REDACTOR.clear()
