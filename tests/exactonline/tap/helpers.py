"""Run tap-exactonline as users do (a subprocess) against the in-process Exact Online sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from connector_sandbox.exactonline import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    ExactOnlineSandbox,
)
from tests.tap_runner import TapRun, run_tap_process, write_json  # noqa: F401 - write_json: re-exported

TAP = [sys.executable, "-m", "tap_exactonline"]


def start_sandbox(**kwargs) -> ExactOnlineSandbox:
    sandbox = ExactOnlineSandbox(**kwargs)
    sandbox.start()
    return sandbox


def write_store(path: Path, tokens: dict, *, age: float = 0.0) -> None:
    """The store as `authorize` leaves it: tokens obtained ``age`` seconds ago."""
    now = time.time() - age
    path.write_text(json.dumps({
        "access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
        "expires_at": now + int(tokens["expires_in"]), "obtained_at": now,
    }))


# Every tap test runs with start_date set, as users set it first: before the emulator's data
# (Created/Modified from 2019-01-01 on), so a test that expects every row still gets every row.
START_DATE = "2018-01-01T00:00:00Z"


def tap_config(sandbox: ExactOnlineSandbox, store: Path, **overrides) -> dict:
    """The tap's config against ``sandbox``; an override of ``None`` leaves that setting out
    (``start_date=None``: a run without start_date)."""
    config = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
              "token_store": str(store), "base_url": sandbox.url, "start_date": START_DATE}
    config.update(overrides)
    return {key: value for key, value in config.items() if value is not None}


@lru_cache(maxsize=4)
def _discovered(custom_streams: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        config = {"client_id": "c", "client_secret": "s", "token_store": f"{tmp}/t.json",
                  "custom_streams": json.loads(custom_streams)}
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config))
        return subprocess.run([*TAP, "--config", str(path), "--discover"], check=True,
                              capture_output=True, text=True).stdout


def catalog_selecting(streams: list[str], custom_streams: list | None = None) -> dict:
    catalog = json.loads(_discovered(json.dumps(custom_streams or [])))
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def run_tap(config: dict, streams: list[str], state: dict | None = None,
            timeout: float = 120, check: bool = True,
            record_line: Callable[[bytes], object] | None = None) -> TapRun:
    """Run the tap in a subprocess with ``streams`` selected; parse its Singer output."""
    return run_tap_process(TAP, config, catalog_selecting(streams, config.get("custom_streams")),
                           state, timeout=timeout, check=check, record_line=record_line)


def data_requests(sandbox: ExactOnlineSandbox, fragment: str) -> list[dict]:
    return [r for r in sandbox.request_log(10_000) if fragment in r["path"]]
