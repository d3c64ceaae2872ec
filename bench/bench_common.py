"""What the benchmarks share: finding the venv's executables, driving a sandbox process, and the
common end of every bench's ``main()`` (:func:`run_bench`)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 60.0


class BenchError(RuntimeError):
    """The bench cannot produce a trustworthy figure."""


def executable(name: str) -> Path:
    """The workspace venv's console script ``name`` (so the process measured is the plugin)."""
    for candidate in (ROOT / ".venv" / "bin" / name, Path(sys.executable).parent / name):
        if candidate.exists():
            return candidate
    found = shutil.which(name)
    if not found:
        raise BenchError(f"{name} executable not found (run `uv sync` in the repo root)")
    return Path(found)


def run_bench(bench: t.Callable[[], dict], result_path: Path,
              report: t.Callable[[dict], None] | None = None) -> int:
    """Run ``bench``; print its result with ``report`` and write it as JSON to ``result_path``.

    Returns the exit code for ``main()``: 1 (after ``bench FAILED: ...`` on stderr) when the bench
    raised :class:`BenchError`, then nothing is written; 0 otherwise.
    """
    try:
        result = bench()
    except BenchError as exc:
        print(f"bench FAILED: {exc}", file=sys.stderr)
        return 1
    if report is not None:
        report(result)
    result_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {result_path}")
    return 0


class SandboxProcess:
    """A sandbox started by ``command`` in a child process, driven through its control plane."""

    def __init__(self, command: list[str], workdir: Path, api_path: str = "/v2025_1/apis/3.0") -> None:
        self.log_path = workdir / "sandbox.stderr"
        self._stderr = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr)
        self.url = self._wait_ready()
        self.api_url = f"{self.url}{api_path}"  # default: ConnectWise's; Exact's is /api/v1
        self.http = requests.Session()

    def _wait_ready(self) -> str:
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(READY_TIMEOUT)
        text = line[0].decode().strip() if line else ""
        if not text.startswith("READY "):
            self.stop()
            raise BenchError(f"sandbox did not print READY within {READY_TIMEOUT:.0f} s "
                             f"(got {text!r}); stderr:\n{self.log_path.read_text()[-3000:]}")
        return text.split(" ", 1)[1]

    def control(self, method: str, route: str, body: dict | None = None) -> dict:
        r = self.http.request(method, f"{self.url}/__sandbox/{route}", json=body, timeout=120)
        if r.status_code != 200:
            raise BenchError(f"sandbox control {method} {route} -> {r.status_code}: {r.text[:500]}")
        return r.json()

    def reset(self, *, data: bool = False) -> None:
        """Reset the counters (and the data if asked); faults such as latency stay."""
        self.control("POST", "reset", {"stats": True, "faults": False, "rate_limit": False, "data": data})

    def stats(self, log: int = 0) -> dict:
        return self.control("GET", f"stats?log={log}" if log else "stats")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()          # SIGTERM: the sandbox shuts down cleanly
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()


def discover_catalog(tap: Path, workdir: Path, placeholder_config: dict, stream: str) -> dict:
    """The tap's catalog with only ``stream`` selected (all its properties).

    Discovery makes no request, so ``placeholder_config`` only needs the required settings.
    """
    config = workdir / "discover_config.json"
    config.write_text(json.dumps(placeholder_config))
    proc = subprocess.run([str(tap), "--config", str(config), "--discover"],
                          check=False, capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise BenchError(f"tap --discover failed ({proc.returncode}):\n{proc.stderr.decode()[-3000:]}")
    catalog = json.loads(proc.stdout)
    found = False
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] == stream
                found = found or entry["tap_stream_id"] == stream
    if not found:
        raise BenchError(f"stream {stream!r} not in the discovered catalog")
    return catalog


def print_figures(rows: list[tuple[str, str]], value_width: int = 12) -> None:
    """The bench's figures as a two-column table between rules."""
    width = max(len(k) for k, _ in rows)
    print("-" * (width + value_width + 4))
    for k, v in rows:
        print(f"{k:<{width}}  {v:>{value_width}}")
    print("-" * (width + value_width + 4))


def environment() -> dict:
    """Where and when a figure was measured, for the result JSON."""
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "date": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()}


class MeasuredRun:
    """A plugin process run by :func:`run_measured`: its wall time, CPU and peak memory."""

    def __init__(self, wall: float, spawn_epoch: float, exit_epoch: float,
                 rusage: os.struct_rusage, consumed: t.Any) -> None:
        self.wall = wall
        self.spawn_epoch = spawn_epoch
        self.exit_epoch = exit_epoch
        self.rusage = rusage
        self.consumed = consumed  # what ``consume`` returned (None without one)

    @property
    def peak_rss_mb(self) -> float:
        return self.rusage.ru_maxrss / 1024.0      # Linux: KiB

    @property
    def cpu(self) -> float:
        return self.rusage.ru_utime + self.rusage.ru_stime


def run_measured(cmd: list[str], stderr_path: Path,
                 consume: t.Callable[[t.IO[bytes]], t.Any] | None = None) -> MeasuredRun:
    """Run ``cmd`` with stdout to ``consume`` (or /dev/null); BenchError if it exits non-zero.

    ``os.wait4`` on the process's own pid gives its peak RSS and CPU time (nothing else is in it:
    a console script is a Python file with the venv interpreter as its shebang, so the process
    spawned is the plugin itself).
    """
    consumed = None
    with open(stderr_path, "wb") as err:
        spawn_epoch = time.time()
        t0 = time.perf_counter()
        if consume is None:
            with open(os.devnull, "wb") as devnull:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=devnull, stderr=err)
        else:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
            try:
                consumed = consume(proc.stdout)
            except BaseException:
                proc.kill()
                raise
            finally:
                proc.stdout.close()
        _, status, rusage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        exit_epoch = time.time()
    proc.returncode = os.waitstatus_to_exitcode(status)   # reaped by wait4, tell Popen
    if proc.returncode != 0:
        raise BenchError(f"{Path(cmd[0]).name} exited {proc.returncode}; stderr tail:\n"
                         f"{stderr_path.read_text(errors='replace')[-4000:]}")
    return MeasuredRun(wall, spawn_epoch, exit_epoch, rusage, consumed)


# A small process that spawns the plugin, reaps it with os.wait4 and writes its wall time, exit
# status and rusage to the file named first: the plugin is then its child, not the bench's.
_LAUNCHER = """\
import json, os, subprocess, sys, time
spawn_epoch = time.time()
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, ru = os.wait4(proc.pid, 0)
wall = time.perf_counter() - t0
exit_epoch = time.time()
with open(sys.argv[1], "w") as f:
    json.dump({"wall": wall, "spawn_epoch": spawn_epoch, "exit_epoch": exit_epoch,
               "status": status, "rusage": list(ru)}, f)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured_isolated(cmd: list[str], stderr_path: Path,
                          consume: t.Callable[[t.IO[bytes]], t.Any] | None = None) -> MeasuredRun:
    """:func:`run_measured`, the plugin spawned by a small launcher process instead of the bench.

    Linux carries the spawning process's RSS high-water mark into the ``ru_maxrss`` of a child it
    forks (or vforks) and execs, so a plugin spawned by a bench that has itself grown (an
    in-process baseline that decoded big pages) reports at least the bench's peak. Spawned by a
    fresh launcher, its ``ru_maxrss`` is its own (or the launcher's ~10 MB). ``wall`` and the spawn
    and exit times are measured by the launcher around the plugin alone.
    """
    import resource

    report = stderr_path.with_suffix(".rusage.json")
    try:
        run = run_measured([sys.executable, "-c", _LAUNCHER, str(report), *cmd], stderr_path, consume)
    except BenchError as exc:
        raise BenchError(str(exc).replace(Path(sys.executable).name, Path(cmd[0]).name, 1)) from None
    measured = json.loads(report.read_text())
    report.unlink(missing_ok=True)
    return MeasuredRun(measured["wall"], measured["spawn_epoch"], measured["exit_epoch"],
                       resource.struct_rusage(tuple(measured["rusage"])), run.consumed)


# -- a tap's records -----------------------------------------------------------------------------
@functools.cache
def _record_decoder(key: tuple[str, ...]) -> t.Callable[[bytes], t.Any]:
    """A decoder of a Singer message that reads only type, stream and the record's ``key`` fields."""
    import msgspec  # comes with the taps (singer-sdk[msgspec])

    row = msgspec.defstruct("Row", [(name, t.Any) for name in key])
    message = msgspec.defstruct("Message", [("type", str), ("stream", str | None, None),
                                            ("record", row | None, None)])
    return msgspec.json.Decoder(message).decode


def count_records(lines: t.Iterable[bytes], expected: t.Mapping[str, int],
                  key: t.Sequence[str]) -> tuple[dict[str, int], str | None]:
    """RECORD messages per stream, and a problem unless every stream has exactly its ``expected``
    records, each of a distinct ``key`` (no duplicates), and no other stream has any."""
    decode = _record_decoder(tuple(key))
    counts: dict[str, int] = {}
    keys: dict[str, set[tuple[t.Any, ...]]] = {}
    for line in lines:
        if not line.startswith(b'{"type":"RECORD"'):
            continue
        message = decode(line)
        name = message.stream or "?"
        counts[name] = counts.get(name, 0) + 1
        if message.record is not None:
            keys.setdefault(name, set()).add(tuple(getattr(message.record, k) for k in key))
    problems = [f"{name}: {counts.get(name, 0):,} records with {len(keys.get(name, ())):,} distinct "
                f"{'/'.join(key)} (the emulator holds {expected.get(name, 0):,})"
                for name in sorted(set(counts) | set(expected))
                if counts.get(name, 0) != expected.get(name, 0)
                or len(keys.get(name, ())) != counts.get(name, 0)]
    return counts, "; ".join(problems) or None


def run_tap(cmd: list[str], stderr_path: Path, *, expected: t.Mapping[str, int] | None = None,
            key: t.Sequence[str] = ("id",)) -> MeasuredRun:
    """A tap run measured on its own (:func:`run_measured_isolated`): stdout to /dev/null, or
    (``expected`` given: records per stream) to :func:`count_records`, whose problem is a
    BenchError. ``consumed`` is then the records per stream."""
    if expected is None:
        return run_measured_isolated(cmd, stderr_path)
    run = run_measured_isolated(cmd, stderr_path, lambda out: count_records(out, expected, key))
    counts, problem = run.consumed
    if problem:
        raise BenchError(f"{Path(cmd[0]).name}: {problem}")
    run.consumed = counts
    return run
