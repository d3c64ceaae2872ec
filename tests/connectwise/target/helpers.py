"""Run target-connectwise as users do (a subprocess fed Singer messages) against the sandbox."""

from __future__ import annotations

import base64
import sys
import typing as t
from pathlib import Path

import requests

from connector_sandbox.connectwise import ConnectWiseSandbox
from tests.connectwise.tap.helpers import (  # noqa: F401
    CLIENT_ID,
    COMPANY_ID,
    PRIVATE_KEY,
    PUBLIC_KEY,
    start_sandbox,
    tap_config,
)
from tests.target_runner import (  # noqa: F401 - re-exported for the target tests
    OPEN_SCHEMA,
    RecordsWriteBodies,
    TargetRun,
    messages_text,
    parse_states,
    read_jsonl,
    record,
    run_target_process,
    schema,
    state,
    write_config,
)

TARGET = [sys.executable, "-m", "target_connectwise"]
ADDRESS_FORMATS = "/company/addressFormats"
BASIC_TOKEN = base64.b64encode(f"{COMPANY_ID}+{PUBLIC_KEY}:{PRIVATE_KEY}".encode()).decode()
SECRETS = (PRIVATE_KEY, CLIENT_ID, BASIC_TOKEN)
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

FORMAT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["integer", "null"]},
        "name": {"type": ["string", "null"]},
        "format": {"type": ["string", "null"]},
        "defaultFlag": {"type": ["boolean", "null"]},
    },
}


class RecordingSandbox(RecordsWriteBodies, ConnectWiseSandbox):
    """The ConnectWise sandbox keeping the body of every write (``write_bodies``)."""


def start_recording_sandbox(**kwargs) -> RecordingSandbox:
    sandbox = RecordingSandbox(company_id=COMPANY_ID, public_key=PUBLIC_KEY, private_key=PRIVATE_KEY,
                               client_id=CLIENT_ID, **kwargs)
    sandbox.start()
    return sandbox


def patch_bodies(sandbox: RecordingSandbox) -> list[tuple[str, list]]:
    """(id in the URL, op list) of every PATCH the sandbox received."""
    return [(w["path"].rsplit("/", 1)[-1], w["body"]) for w in sandbox.write_bodies
            if w["method"] == "PATCH"]


def target_config(sandbox, tmp: Path, mappings: dict | None = None, **overrides) -> dict:
    """Connection settings (as for the tap) + the publish settings, files under ``tmp``."""
    return tap_config(sandbox, results_path=str(tmp / "results.jsonl"),
                      rejects_path=str(tmp / "rejects.jsonl"), mappings=mappings or {}, **overrides)


def run_target(config: dict, messages: t.Iterable[dict], tmp: Path, *, timeout: float = 120,
               check: bool = True) -> TargetRun:
    """Run target-connectwise in a subprocess with ``messages`` on stdin."""
    return run_target_process(TARGET, config, messages, tmp, timeout=timeout, check=check)


# -- reading the sandbox ---------------------------------------------------------------------------
def api_session() -> requests.Session:
    session = requests.Session()
    session.headers.update({"Authorization": f"Basic {BASIC_TOKEN}", "clientId": CLIENT_ID})
    return session


def list_all(sandbox, path: str, conditions: str | None = None) -> list[dict]:
    """Every record of a collection, read over the API (not counted: stats are reset by callers)."""
    session = api_session()
    out, page = [], 1
    while True:
        params = {"page": page, "pageSize": 1000}
        if conditions:
            params["conditions"] = conditions
        response = session.get(sandbox.api_url + path, params=params, timeout=30)
        response.raise_for_status()
        batch = response.json()
        out += batch
        if len(batch) < 1000:
            return out
        page += 1


def writes(sandbox, path_fragment: str = "") -> list[dict]:
    """Request-log entries of write requests (optionally whose path contains a fragment)."""
    return [e for e in sandbox.request_log() if e["method"] in WRITE_METHODS
            and path_fragment in e["path"]]


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret {secret[:4]}… leaked"
