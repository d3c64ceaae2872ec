"""Run target-lightspeed as users do (a subprocess fed Singer messages) against the Lightspeed emulator."""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

from connector_sandbox.lightspeed import LightspeedSandbox
from tests.lightspeed.tap.helpers import TOKEN
from tests.target_runner import RecordsWriteBodies, TargetRun, run_target_process

TARGET = [sys.executable, "-m", "target_lightspeed"]


class RecordingSandbox(RecordsWriteBodies, LightspeedSandbox):
    """The Lightspeed Retail X-Series emulator keeping the body of every write (``write_bodies``)."""


def start_sandbox(**kwargs: t.Any) -> RecordingSandbox:
    sandbox = RecordingSandbox(tokens=(TOKEN,), **kwargs)
    sandbox.start()
    return sandbox


def target_config(sandbox: LightspeedSandbox, tmp: Path, mappings: dict | None = None, **overrides: t.Any) -> dict:
    config = {"token": TOKEN, "base_url": sandbox.api_url, "mappings": mappings or {},
              "results_path": str(tmp / "results.jsonl"), "rejects_path": str(tmp / "rejects.jsonl")}
    config.update(overrides)
    return config


def run_target(config: dict, messages: t.Iterable[dict], tmp: Path, *, check: bool = True) -> TargetRun:
    return run_target_process(TARGET, config, messages, tmp, check=check)
