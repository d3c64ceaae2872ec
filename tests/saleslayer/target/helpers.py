"""Run target-saleslayer as users do (a subprocess fed Singer messages) against the Sales Layer emulator's
Import connector."""

from __future__ import annotations

import io
import sys
import threading
import typing as t
from pathlib import Path
from urllib.parse import parse_qsl

from connector_sandbox.saleslayer import DEFAULT_IMPORT_CONNECTOR_ID, SalesLayerSandbox
from tests.saleslayer.tap.helpers import PRIVATE_KEY
from tests.target_runner import TargetRun, run_target_process

TARGET = [sys.executable, "-m", "target_saleslayer"]
IMPORT_CONNECTOR_ID = DEFAULT_IMPORT_CONNECTOR_ID
IMPORT_PRIVATE_KEY = "test-import-private-key-9d2e71"


class RecordingSandbox(SalesLayerSandbox):
    """The emulator keeping every POSTed form (``forms``: its ``(name, value)`` pairs, in arrival order;
    the request log has no bodies)."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.forms: list[list[tuple[str, str]]] = []
        self._forms_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def __call__(self, environ: dict, start_response: t.Callable) -> t.Any:
        if environ.get("REQUEST_METHOD") == "POST" and not environ.get("PATH_INFO", "").startswith("/_"):
            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(raw)
            with self._forms_lock:
                self.forms.append(parse_qsl(raw.decode(), keep_blank_values=True))
        return super().__call__(environ, start_response)

    def form(self, n: int = -1) -> dict[str, str]:
        """The ``n``-th POSTed form as a dict."""
        return dict(self.forms[n])


def start_sandbox(**kwargs: t.Any) -> RecordingSandbox:
    kwargs.setdefault("import_seconds", 0.2)
    sandbox = RecordingSandbox(private_key=PRIVATE_KEY, import_private_key=IMPORT_PRIVATE_KEY, **kwargs)
    sandbox.start()
    return sandbox


def target_config(sandbox: SalesLayerSandbox, tmp: Path, mappings: dict | None = None, **overrides: t.Any) -> dict:
    config = {"connector_id": IMPORT_CONNECTOR_ID, "private_key": IMPORT_PRIVATE_KEY, "api_url": sandbox.url,
              "mappings": mappings or {}, "results_path": str(tmp / "results.jsonl"),
              "rejects_path": str(tmp / "rejects.jsonl"), "tracking_poll_seconds": 0.05, "max_retries": 4}
    config.update(overrides)
    return config


def run_target(config: dict, messages: t.Iterable[dict], tmp: Path, *, check: bool = True) -> TargetRun:
    return run_target_process(TARGET, config, messages, tmp, check=check)


def imports(sandbox: SalesLayerSandbox) -> list[dict]:
    """The import calls of the request log (signed POSTs; tracking polls are GETs)."""
    return [e for e in sandbox.request_log() if e["method"] == "POST"]


def items_of(form: t.Sequence[tuple[str, str]], part: str = "input_data") -> dict[str, dict[str, str]]:
    """``{"products[0]": {"REF": ..., "tags[0]": ...}}``: the items of a form, by table and index."""
    out: dict[str, dict[str, str]] = {}
    for name, value in form:
        if name.startswith(part + "["):
            rest = name[len(part):]  # [products][0][REF]...
            table, _, rest = rest[1:].partition("]")
            index, _, rest = rest[1:].partition("]")
            field_name = rest[1:].replace("]", "", 1)
            out.setdefault(f"{table}[{index}]", {})[field_name] = value
    return out
