"""Run a publishing target as users do: a subprocess fed Singer messages, its files read back."""

from __future__ import annotations

import io
import json
import subprocess
import threading
import typing as t
from dataclasses import dataclass, field
from pathlib import Path


class RecordsWriteBodies:
    """Mixin for a sandbox class (listed first): keeps the JSON body of every API write it
    receives, so a test can see what a target sent (the request log has no bodies).

    ``write_bodies``: ``{"method", "path", "body"}`` per POST, PUT or PATCH, in arrival order.
    """

    WRITES = ("POST", "PUT", "PATCH", "MERGE")

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.write_bodies: list[dict] = []
        self._bodies_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def __call__(self, environ: dict, start_response: t.Callable) -> t.Any:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") in self.WRITES and "/api" in path:
            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(raw)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None  # a form (OAuth token request), not a write of data
            else:
                with self._bodies_lock:
                    self.write_bodies.append({"method": environ["REQUEST_METHOD"], "path": path,
                                              "body": body})
        return super().__call__(environ, start_response)


# A schema that lets every record through untouched (envelopes, op lists, anything).
OPEN_SCHEMA = {"type": "object", "properties": {}}


def schema(stream: str, properties_schema: dict | None = None, key_properties: t.Sequence[str] = ()) -> dict:
    return {"type": "SCHEMA", "stream": stream, "schema": properties_schema or OPEN_SCHEMA,
            "key_properties": list(key_properties)}


def record(stream: str, rec: t.Any) -> dict:
    return {"type": "RECORD", "stream": stream, "record": rec}


def state(value: dict) -> dict:
    return {"type": "STATE", "value": value}


def read_jsonl(path: Path) -> list[dict]:
    """The complete lines of a JSON Lines file; a last line still being written is left out."""
    if not Path(path).exists():
        return []
    text = Path(path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


@dataclass
class TargetRun:
    returncode: int
    stdout: str
    stderr: str
    results_path: Path
    rejects_path: Path
    states: list[dict] = field(default_factory=list)
    results_skip: int = 0  # lines the results / rejects files had before this run
    rejects_skip: int = 0

    @property
    def journal(self) -> list[dict]:
        """This run's lines of the results file (results and checkpoints)."""
        return read_jsonl(self.results_path)[self.results_skip:]

    @property
    def results(self) -> list[dict]:
        """Result lines (the checkpoint lines left out)."""
        return [e for e in self.journal if "checkpoint" not in e]

    @property
    def checkpoints(self) -> list[dict]:
        return [e for e in self.journal if "checkpoint" in e]

    @property
    def rejects(self) -> list[dict]:
        """This run's rejects."""
        return read_jsonl(self.rejects_path)[self.rejects_skip:]

    def results_of(self, stream: str) -> list[dict]:
        return [r for r in self.results if r["stream"] == stream]

    def rejects_of(self, stream: str) -> list[dict]:
        return [r for r in self.rejects if r["stream"] == stream]


def messages_text(messages: t.Iterable[dict]) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)


def write_config(tmp: Path, config: dict, name: str = "config.json") -> Path:
    path = Path(tmp) / name
    path.write_text(json.dumps(config))
    return path


def run_target_process(command: t.Sequence[str], config: dict, messages: t.Iterable[dict], tmp: Path,
                       *, timeout: float = 120, check: bool = True) -> TargetRun:
    """Run the target ``command`` with ``messages`` on stdin; parse what it emitted."""
    config_path = write_config(tmp, config)
    results_path, rejects_path = Path(config["results_path"]), Path(config["rejects_path"])
    skips = len(read_jsonl(results_path)), len(read_jsonl(rejects_path))
    proc = subprocess.run([*command, "--config", str(config_path)], input=messages_text(messages),
                          capture_output=True, text=True, timeout=timeout)
    run = TargetRun(proc.returncode, proc.stdout, proc.stderr, results_path, rejects_path,
                    states=parse_states(proc.stdout), results_skip=skips[0], rejects_skip=skips[1])
    if check and proc.returncode != 0:
        raise AssertionError(f"target failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return run


def parse_states(stdout: str) -> list[dict]:
    states = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        states.append(json.loads(line))  # a target prints each state value it passes on
    return states
