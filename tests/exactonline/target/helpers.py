"""Run target-exactonline as users do (a subprocess fed Singer messages) against the Exact sandbox."""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

from connector_sandbox.exactonline import ExactOnlineSandbox
from tests.exactonline.tap.helpers import start_sandbox, tap_config, write_store  # noqa: F401 - re-exported
from tests.target_runner import (  # noqa: F401 - re-exported for the target tests
    RecordsWriteBodies,
    TargetRun,
    read_jsonl,
    record,
    run_target_process,
    schema,
    state,
)

TARGET = [sys.executable, "-m", "target_exactonline"]
WRITE_METHODS = ("POST", "PUT", "PATCH", "MERGE", "DELETE")
DIVISION = 100001


class RecordingSandbox(RecordsWriteBodies, ExactOnlineSandbox):
    """The Exact Online sandbox keeping the body of every write (``write_bodies``)."""


def start_recording_sandbox(**kwargs) -> RecordingSandbox:
    sandbox = RecordingSandbox(**kwargs)
    sandbox.start()
    return sandbox


def put_bodies(sandbox: RecordingSandbox) -> list[tuple[str, dict]]:
    """(key in the URL, body) of every PUT the sandbox received."""
    return [(w["path"].rsplit("(guid'", 1)[-1].rstrip("')"), w["body"])
            for w in sandbox.write_bodies if w["method"] == "PUT"]


def target_config(sandbox, tmp: Path, mappings: dict | None = None, **overrides) -> dict:
    """Connection settings with a fresh token store + the publish settings, files under ``tmp``."""
    store = tmp / "tokens.json"
    if not store.exists():
        write_store(store, sandbox.issue_tokens())
    return tap_config(sandbox, store, results_path=str(tmp / "results.jsonl"),
                      rejects_path=str(tmp / "rejects.jsonl"), mappings=mappings or {},
                      **overrides)


def run_target(config: dict, messages: t.Iterable[dict], tmp: Path, *, timeout: float = 120,
               check: bool = True) -> TargetRun:
    return run_target_process(TARGET, config, messages, tmp, timeout=timeout, check=check)


def writes(sandbox, fragment: str = "") -> list[dict]:
    """Request-log entries of write requests whose path contains ``fragment``."""
    return [e for e in sandbox.request_log() if e["method"] in WRITE_METHODS and fragment in e["path"]]
