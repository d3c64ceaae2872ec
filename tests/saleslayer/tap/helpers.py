"""Run tap-saleslayer as users do (a subprocess) against the in-process Sales Layer emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import typing as t

from connector_sandbox.saleslayer import DEFAULT_CONNECTOR_ID, SalesLayerSandbox
from tests.tap_runner import TapRun, run_tap_process

TAP = [sys.executable, "-m", "tap_saleslayer"]
CONNECTOR_ID = DEFAULT_CONNECTOR_ID
PRIVATE_KEY = "test-export-private-key-4f1a9c"
TABLES = ("catalogue", "products", "product_formats", "brands")


def start_sandbox(**kwargs: t.Any) -> SalesLayerSandbox:
    sandbox = SalesLayerSandbox(private_key=PRIVATE_KEY, **kwargs)
    sandbox.start()
    return sandbox


def tap_config(sandbox: SalesLayerSandbox, **overrides: t.Any) -> dict:
    """The tap's config against ``sandbox``; an override of ``None`` leaves that setting out."""
    config = {"connector_id": CONNECTOR_ID, "private_key": PRIVATE_KEY, "api_url": sandbox.url,
              "max_retries": 4}
    config.update(overrides)
    return {key: value for key, value in config.items() if value is not None}


def run_cli(config: dict, *args: str) -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config, handle)
    try:
        return subprocess.run([*TAP, "--config", handle.name, *args], capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(handle.name)


def discover(config: dict) -> dict:
    result = run_cli(config, "--discover")
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def catalog_selecting(config: dict, streams: t.Collection[str]) -> dict:
    """The discovered catalog with exactly ``streams`` selected."""
    return select(discover(config), streams)


def select(catalog: dict, streams: t.Collection[str]) -> dict:
    """``catalog`` with exactly ``streams`` selected."""
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def run_tap(config: dict, streams: t.Collection[str] = TABLES, state: dict | None = None, check: bool = True,
            catalog: dict | None = None) -> TapRun:
    return run_tap_process(TAP, config, catalog or catalog_selecting(config, streams), state, check=check)


def reads(sandbox: SalesLayerSandbox) -> list[dict]:
    """The export calls and ``next_page`` follows of the request log (not ``test=1`` calls)."""
    return [e for e in sandbox.request_log() if "test=1" not in e["query"]]
