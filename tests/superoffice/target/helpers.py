"""Run target-superoffice as users do (a subprocess fed Singer messages) against the SuperOffice emulator."""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

from connector_sandbox.superoffice import SuperOfficeSandbox
from tests.superoffice.tap.helpers import tap_config
from tests.target_runner import RecordsWriteBodies, TargetRun, run_target_process

TARGET = [sys.executable, "-m", "target_superoffice"]


class RecordingSandbox(RecordsWriteBodies, SuperOfficeSandbox):
    """The SuperOffice emulator keeping the body of every write (``write_bodies``)."""


def start_sandbox(**kwargs: t.Any) -> RecordingSandbox:
    sandbox = RecordingSandbox(**kwargs)
    sandbox.start()
    return sandbox


def target_config(sandbox: SuperOfficeSandbox, tmp: Path, mappings: dict | None = None, **overrides: t.Any) -> dict:
    """The target's config against ``sandbox``: the tap's connection settings (the token store in
    ``tmp``, seeded once), the mappings, the results and rejects files in ``tmp``."""
    config = tap_config(sandbox, tmp / "tokens.json", start_date=None)
    config.update({"mappings": mappings or {}, "results_path": str(tmp / "results.jsonl"),
                   "rejects_path": str(tmp / "rejects.jsonl")})
    config.update(overrides)
    return config


def run_target(config: dict, messages: t.Iterable[dict], tmp: Path, *, check: bool = True) -> TargetRun:
    return run_target_process(TARGET, config, messages, tmp, check=check)
