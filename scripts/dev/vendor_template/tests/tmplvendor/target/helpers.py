"""Run target-tmplvendor as users do (a subprocess fed Singer messages) against the TMPL_SYSTEM emulator.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``; grow these helpers with the tests of
the vendor's real entities (read ``TMPL_DOC`` for TMPL_SYSTEM).
"""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

from tests.tmplvendor.tap.helpers import API_KEY

from connector_sandbox.tmplvendor import TmplVendorSandbox
from tests.target_runner import RecordsWriteBodies, TargetRun, run_target_process

TARGET = [sys.executable, "-m", "target_tmplvendor"]


class RecordingSandbox(RecordsWriteBodies, TmplVendorSandbox):
    """The TMPL_SYSTEM emulator keeping the body of every write (``write_bodies``)."""


def start_sandbox(**kwargs: t.Any) -> RecordingSandbox:
    sandbox = RecordingSandbox(api_key=API_KEY, **kwargs)
    sandbox.start()
    return sandbox


def target_config(sandbox: TmplVendorSandbox, tmp: Path, mappings: dict | None = None, **overrides: t.Any) -> dict:
    config = {"api_key": API_KEY, "base_url": sandbox.api_url, "mappings": mappings or {},
              "results_path": str(tmp / "results.jsonl"), "rejects_path": str(tmp / "rejects.jsonl")}
    config.update(overrides)
    return config


def run_target(config: dict, messages: t.Iterable[dict], tmp: Path, *, check: bool = True) -> TargetRun:
    return run_target_process(TARGET, config, messages, tmp, check=check)
