"""Run tap-connectwise as users do (a subprocess) against the in-process ConnectWise sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from functools import lru_cache

from connector_sandbox.connectwise import (
    DEFAULT_CLIENT_ID,
    DEFAULT_COMPANY_ID,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    ConnectWiseSandbox,
)
from tests.tap_runner import TapRun, run_tap_process

COMPANY_ID = "sandbox"
PUBLIC_KEY = "sandbox-public"
PRIVATE_KEY = "test-private-key-4f1c9a"
CLIENT_ID = "9b0c2f7e-1d2a-4c33-9e51-5a7d3c1b8e20"
SECRETS = (PRIVATE_KEY, CLIENT_ID)

TAP = [sys.executable, "-m", "tap_connectwise"]


def start_sandbox(**kwargs) -> ConnectWiseSandbox:
    sandbox = ConnectWiseSandbox(
        company_id=COMPANY_ID, public_key=PUBLIC_KEY, private_key=PRIVATE_KEY, client_id=CLIENT_ID,
        **kwargs,
    )
    sandbox.start()
    return sandbox


# Every tap test runs with start_date set, as users set it first: before the emulator's data
# (dateEntered and lastUpdated from 2019-01-01 on), so a test that expects every row gets it.
START_DATE = "2018-01-01T00:00:00Z"


def connectwise_env(sandbox: ConnectWiseSandbox) -> dict[str, str]:
    """tap-connectwise's settings against ``sandbox`` as Meltano reads them (TAP_CONNECTWISE_*)."""
    return {
        "TAP_CONNECTWISE_SITE": sandbox.url,
        "TAP_CONNECTWISE_COMPANY_ID": DEFAULT_COMPANY_ID,
        "TAP_CONNECTWISE_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
        "TAP_CONNECTWISE_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
        "TAP_CONNECTWISE_CLIENT_ID": DEFAULT_CLIENT_ID,
        "TAP_CONNECTWISE_START_DATE": START_DATE,
    }


def tap_config(sandbox: ConnectWiseSandbox, **overrides) -> dict:
    """The tap's config against ``sandbox``; an override of ``None`` leaves that setting out
    (``start_date=None``: a run without start_date)."""
    config = {
        "company_id": COMPANY_ID,
        "public_key": PUBLIC_KEY,
        "private_key": PRIVATE_KEY,
        "client_id": CLIENT_ID,
        "site": sandbox.url,
        "start_date": START_DATE,
    }
    config.update(overrides)
    return {key: value for key, value in config.items() if value is not None}


@lru_cache(maxsize=8)
def _discovered(custom_streams: str) -> str:
    """The tap's catalog; discovery makes no request, so placeholder credentials do."""
    config = {"company_id": "c", "public_key": "p", "private_key": "k", "client_id": "i",
              "custom_streams": json.loads(custom_streams)}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config, handle)
    try:
        return subprocess.run([*TAP, "--config", handle.name, "--discover"], check=True,
                              capture_output=True, text=True).stdout
    finally:
        os.unlink(handle.name)


def catalog_selecting(streams: list[str], deselect_properties: dict | None = None,
                      custom_streams: list | None = None) -> dict:
    """The discovered catalog with exactly ``streams`` selected."""
    catalog = json.loads(_discovered(json.dumps(custom_streams or [])))
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
            elif meta["breadcrumb"][-1] in (deselect_properties or {}).get(entry["tap_stream_id"], ()):
                meta["metadata"]["selected"] = False
    return catalog


def run_tap(config: dict, streams: list[str] | None = None, state: dict | None = None,
            catalog: dict | None = None, timeout: float = 300, check: bool = True) -> TapRun:
    """Run the tap in a subprocess; parse its Singer output."""
    if catalog is None and streams is not None:
        catalog = catalog_selecting(streams, custom_streams=config.get("custom_streams"))
    return run_tap_process(TAP, config, catalog, state, timeout=timeout, check=check)
