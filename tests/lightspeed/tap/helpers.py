"""Run tap-lightspeed as users do (a subprocess) against the in-process Lightspeed Retail X-Series emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import typing as t

from connector_sandbox.lightspeed import LightspeedSandbox
from tests.tap_runner import TapRun, run_tap_process

TOKEN = "test-personal-token-7c1e5d"
TAP = [sys.executable, "-m", "tap_lightspeed"]
# Before the emulator's data (time stamps from 2021-01-01 on): a first run reads every row.
START_DATE = "2020-01-01T00:00:00Z"


def start_sandbox(**kwargs: t.Any) -> LightspeedSandbox:
    sandbox = LightspeedSandbox(tokens=(TOKEN,), **kwargs)
    sandbox.start()
    return sandbox


def tap_config(sandbox: LightspeedSandbox, **overrides: t.Any) -> dict:
    """The tap's config against ``sandbox``; an override of ``None`` leaves that setting out."""
    config = {"token": TOKEN, "base_url": sandbox.api_url, "start_date": START_DATE}
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


def run_tap(config: dict, streams: t.Collection[str] = ("products",), state: dict | None = None,
            check: bool = True) -> TapRun:
    return run_tap_process(TAP, config, catalog_selecting(config, streams), state, check=check)
