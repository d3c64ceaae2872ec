"""Run target-saleslayer as users do (a subprocess fed Singer messages) against the Sales Layer (PIM) emulator.

TODO(saleslayer): scaffolded by ``scripts/dev/new_vendor.py``; grow these helpers with the tests of
the vendor's real entities (read
``shared/vendors/superoffice-lightspeed-saleslayer.md`` for Sales Layer (PIM)).
"""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

from connector_sandbox.saleslayer import SalesLayerSandbox
from tests.saleslayer.tap.helpers import API_KEY
from tests.target_runner import RecordsWriteBodies, TargetRun, run_target_process

TARGET = [sys.executable, "-m", "target_saleslayer"]


class RecordingSandbox(RecordsWriteBodies, SalesLayerSandbox):
    """The Sales Layer (PIM) emulator keeping the body of every write (``write_bodies``)."""


def start_sandbox(**kwargs: t.Any) -> RecordingSandbox:
    sandbox = RecordingSandbox(api_key=API_KEY, **kwargs)
    sandbox.start()
    return sandbox


def target_config(sandbox: SalesLayerSandbox, tmp: Path, mappings: dict | None = None, **overrides: t.Any) -> dict:
    config = {"api_key": API_KEY, "base_url": sandbox.api_url, "mappings": mappings or {},
              "results_path": str(tmp / "results.jsonl"), "rejects_path": str(tmp / "rejects.jsonl")}
    config.update(overrides)
    return config


def run_target(config: dict, messages: t.Iterable[dict], tmp: Path, *, check: bool = True) -> TargetRun:
    return run_target_process(TARGET, config, messages, tmp, check=check)
