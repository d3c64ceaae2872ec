"""Run a Singer tap as users do (a subprocess) and parse what it writes: shared by every tap's tests.

``run_tap_process`` writes the config, catalog and state files, runs ``command`` with them and
parses stdout into a :class:`TapRun`. With ``record_line`` the RECORD lines are handed to that
function as they arrive instead of being parsed and kept, so a test over 100,000 records keeps
neither the records nor stdout in memory.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

# The SDK's writers (plain json and msgspec) both put "type" first, without spaces.
_RECORD_PREFIX = b'{"type":"RECORD"'


@dataclass
class TapRun:
    returncode: int
    stdout: str
    stderr: str
    records: dict[str, list[dict]] = field(default_factory=dict)
    schemas: dict[str, dict] = field(default_factory=dict)
    states: list[dict] = field(default_factory=list)
    record_count: int = 0

    @property
    def final_state(self) -> dict:
        return self.states[-1] if self.states else {}

    def ids(self, stream: str, key: str | tuple[str, ...] = "id") -> list:
        """The ``key`` of every record of ``stream``, in order (a tuple of values for a tuple key)."""
        rows = self.records.get(stream, [])
        if isinstance(key, tuple):
            return [tuple(r[k] for k in key) for r in rows]
        return [r[key] for r in rows]


def write_json(directory: str | Path, name: str, obj: t.Any) -> str:
    path = Path(directory) / name
    path.write_text(json.dumps(obj))
    return str(path)


def run_tap_process(command: list[str], config: dict, catalog: dict | None = None,
                    state: dict | None = None, timeout: float = 300, check: bool = True,
                    record_line: t.Callable[[bytes], t.Any] | None = None) -> TapRun:
    """Run ``command --config … [--catalog …] [--state …]``; parse its Singer output.

    ``check``: raise AssertionError (with the stderr tail) when the tap exits non-zero.
    ``timeout``: the process is killed and :class:`subprocess.TimeoutExpired` raised after it.
    ``record_line``: called with each RECORD line (bytes, newline stripped); such lines are then
    neither parsed nor kept in ``stdout`` (``run.record_count`` still counts them).
    """
    with tempfile.TemporaryDirectory() as tmp:
        args = [*command, "--config", write_json(tmp, "config.json", config)]
        if catalog is not None:
            args += ["--catalog", write_json(tmp, "catalog.json", catalog)]
        if state is not None:
            args += ["--state", write_json(tmp, "state.json", state)]
        with open(Path(tmp) / "stderr", "w+b") as err:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
            expired = threading.Event()

            def kill() -> None:
                expired.set()
                proc.kill()

            timer = threading.Timer(timeout, kill)
            timer.start()
            try:
                run = _parse(proc.stdout, record_line)
                proc.wait()
            finally:
                timer.cancel()
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
            err.seek(0)
            stderr = err.read().decode("utf-8", errors="replace")
    if expired.is_set():
        raise subprocess.TimeoutExpired(args, timeout, stderr=stderr)
    run.returncode, run.stderr = proc.returncode, stderr
    if check and proc.returncode != 0:
        raise AssertionError(f"tap failed ({proc.returncode}):\n{stderr[-4000:]}")
    return run


def _parse(stdout: t.IO[bytes], record_line: t.Callable[[bytes], t.Any] | None) -> TapRun:
    run = TapRun(0, "", "")
    kept: list[str] = []
    for raw in stdout:
        line = raw.rstrip(b"\r\n")
        if not line:
            continue
        if record_line is not None and line.startswith(_RECORD_PREFIX):
            run.record_count += 1
            record_line(line)
            continue
        message = json.loads(line)
        kind = message.get("type")
        if kind == "RECORD":
            run.record_count += 1
            if record_line is not None:
                record_line(line)
                continue
            run.records.setdefault(message["stream"], []).append(message["record"])
        elif kind == "SCHEMA":
            run.schemas[message["stream"]] = message
        elif kind == "STATE":
            run.states.append(message["value"])
        kept.append(line.decode("utf-8"))
    run.stdout = "".join(f"{line}\n" for line in kept)
    return run
