"""Run tap-exactonline as users do (a subprocess) against the in-process Exact Online sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from connector_sandbox.exactonline import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    ExactOnlineSandbox,
)

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


def tap_config(sandbox: ExactOnlineSandbox, store: Path, **overrides) -> dict:
    config = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
              "token_store": str(store), "base_url": sandbox.url}
    config.update(overrides)
    return config


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


@dataclass
class TapRun:
    returncode: int
    stdout: str
    stderr: str
    records: dict[str, list[dict]] = field(default_factory=dict)
    schemas: dict[str, dict] = field(default_factory=dict)
    states: list[dict] = field(default_factory=list)

    @property
    def final_state(self) -> dict:
        return self.states[-1] if self.states else {}


def run_tap(config: dict, streams: list[str], state: dict | None = None,
            timeout: float = 120, check: bool = True) -> TapRun:
    with tempfile.TemporaryDirectory() as tmp:
        args = [*TAP, "--config", write_json(tmp, "config.json", config),
                "--catalog", write_json(tmp, "catalog.json",
                                    catalog_selecting(streams, config.get("custom_streams")))]
        if state is not None:
            args += ["--state", write_json(tmp, "state.json", state)]
        proc = subprocess.run(args, check=False, capture_output=True, text=True, timeout=timeout)
    run = TapRun(proc.returncode, proc.stdout, proc.stderr)
    for line in proc.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            run.records.setdefault(message["stream"], []).append(message["record"])
        elif message["type"] == "SCHEMA":
            run.schemas[message["stream"]] = message
        elif message["type"] == "STATE":
            run.states.append(message["value"])
    if check and proc.returncode != 0:
        raise AssertionError(f"tap failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return run


def data_requests(sandbox: ExactOnlineSandbox, fragment: str) -> list[dict]:
    return [r for r in sandbox.request_log(10_000) if fragment in r["path"]]


def write_json(directory: str, name: str, obj: dict) -> str:
    path = Path(directory) / name
    path.write_text(json.dumps(obj))
    return str(path)
