"""Run tap-superoffice as users do (a subprocess) against the in-process SuperOffice emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path
from urllib.parse import parse_qsl

from connector_sandbox.superoffice import SuperOfficeSandbox
from connector_sandbox.superoffice.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT
from tests.tap_runner import TapRun, run_tap_process

TAP = [sys.executable, "-m", "tap_superoffice"]
# Every tap test runs with start_date set, as users set it first: before the emulator's data.
START_DATE = "2015-01-01T00:00:00Z"


def start_sandbox(**kwargs: t.Any) -> SuperOfficeSandbox:
    sandbox = SuperOfficeSandbox(**kwargs)
    sandbox.start()
    return sandbox


def write_store(path: Path, tokens: dict, *, age: float = 0.0) -> Path:
    """The token store as ``authorize`` leaves it: tokens obtained ``age`` seconds ago."""
    now = time.time() - age
    path.write_text(json.dumps({
        "access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
        "expires_at": now + int(tokens["expires_in"]), "obtained_at": now,
    }))
    return path


def tap_config(sandbox: SuperOfficeSandbox, store: Path, **overrides: t.Any) -> dict:
    """The tap's config against ``sandbox`` (the store seeded with fresh tokens unless it exists);
    an override of ``None`` leaves that setting out."""
    if not store.exists():
        write_store(store, sandbox.issue_tokens())
    config = {"base_url": sandbox.environment_url, "tenant_id": DEFAULT_TENANT, "client_id": DEFAULT_CLIENT_ID,
              "client_secret": DEFAULT_CLIENT_SECRET, "token_store": str(store), "start_date": START_DATE}
    config.update(overrides)
    return {key: value for key, value in config.items() if value is not None}


def discover(config: dict) -> dict:
    """The tap's catalog (discovery sends no request)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config, handle)
    try:
        return json.loads(subprocess.run([*TAP, "--config", handle.name, "--discover"], check=True,
                                         capture_output=True, text=True, timeout=120).stdout)
    finally:
        os.unlink(handle.name)


def catalog_selecting(config: dict, streams: t.Collection[str]) -> dict:
    """The discovered catalog with exactly ``streams`` selected."""
    catalog = discover(config)
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def run_tap(config: dict, streams: t.Collection[str] = ("contact",), state: dict | None = None,
            check: bool = True) -> TapRun:
    return run_tap_process(TAP, config, catalog_selecting(config, streams), state, check=check)


def data_requests(sandbox: SuperOfficeSandbox, entity: str = "Contact") -> list[dict]:
    """The emulator's log of list requests on ``/api/v1/{entity}``."""
    return [e for e in sandbox.request_log(100_000) if e["path"].endswith(f"/api/v1/{entity}")]


def query_of(entry: dict) -> dict[str, str]:
    """The decoded query parameters of a logged request."""
    return dict(parse_qsl(entry["query"], keep_blank_values=True))


def state_lookups(sandbox: SuperOfficeSandbox) -> list[dict]:
    """The emulator's log of ``GET {environment}/api/state/{tenant}``."""
    return [e for e in sandbox.request_log(100_000) if "/api/state/" in e["path"]]


def api_requests(sandbox: SuperOfficeSandbox) -> list[dict]:
    """Every request to the tenant's API host (what SuperOffice's 10-a-second rule counts)."""
    return [e for e in sandbox.request_log(100_000) if "/api/v1/" in e["path"] or e["path"].endswith("/api")]


