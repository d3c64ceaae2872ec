"""The results and rejects files: what happened to every record, and resuming after a crash.

``results.jsonl`` gets one line per published record (stream, key, method, URL, HTTP status,
remote id) and a ``checkpoint`` line each time the target emits STATE. ``rejects.jsonl`` gets the
record and the reason. Lines are flushed as they are written.

Resuming: after a crash the tap resends everything since the last STATE the target emitted. The
records published since the last checkpoint are exactly the ones that may come again, so they are
read back at start and a create (POST) is not sent twice: the earlier result is reused.
"""

from __future__ import annotations

import hashlib
import json
import threading
import typing as t
from datetime import date, datetime, timezone
from pathlib import Path

from connector_core.redaction import redact


def json_default(value: t.Any) -> t.Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "__float__"):  # Decimal
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def canonical_json(obj: t.Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=json_default)


def fingerprint(stream: str, record: t.Any) -> str:
    """Identity of a record as received: the same record resent after a crash has the same one."""
    return hashlib.sha256(f"{stream}\n{canonical_json(record)}".encode()).hexdigest()[:32]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Journal:
    """Thread-safe writer of the results and rejects files."""

    def __init__(self, results_path: str | Path, rejects_path: str | Path) -> None:
        self.results_path = Path(results_path)
        self.rejects_path = Path(rejects_path)
        for path in (self.results_path, self.rejects_path):
            path.parent.mkdir(parents=True, exist_ok=True)
        self._in_flight = self._read_in_flight()
        self._lock = threading.Lock()
        self._results = self.results_path.open("a", encoding="utf-8")
        self._rejects = self.rejects_path.open("a", encoding="utf-8")
        self.published = 0
        self.rejected = 0

    def _read_in_flight(self) -> dict[str, dict]:
        """Results written after the last checkpoint, by record fingerprint."""
        entries: dict[str, dict] = {}
        if not self.results_path.exists():
            return entries
        with self.results_path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                if "checkpoint" in entry:
                    entries.clear()
                elif entry.get("fingerprint") and not entry.get("dry_run"):
                    entries[entry["fingerprint"]] = entry
        return entries

    def already_published(self, fingerprint_: str) -> dict | None:
        """The result of this record if a run that did not finish published it already."""
        return self._in_flight.get(fingerprint_)

    def result(self, **entry: t.Any) -> None:
        self._write(self._results, {"time": _now(), **entry})
        self.published += 1

    def reject(self, *, stream: str, key: t.Any, reason: str, record: t.Any, **extra: t.Any) -> None:
        entry = {"time": _now(), "stream": stream, "key": key, "reason": redact(reason), **extra,
                 "record": record}
        self._write(self._rejects, entry)
        self.rejected += 1

    def checkpoint(self, state: t.Any) -> None:
        """Everything before this line is covered by a STATE the target emitted."""
        self._write(self._results, {"time": _now(), "checkpoint": fingerprint("state", state)})
        self._in_flight = {}

    def _write(self, handle: t.TextIO, entry: dict) -> None:
        line = json.dumps(entry, default=json_default, separators=(",", ":"))
        with self._lock:
            handle.write(line + "\n")
            handle.flush()

    def close(self) -> None:
        with self._lock:
            self._results.close()
            self._rejects.close()
