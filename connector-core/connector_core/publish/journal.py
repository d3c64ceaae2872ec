"""The results and rejects files: what happened to every record, and resuming after a crash.

``results.jsonl`` gets one line per published record (stream, key, method, URL, HTTP status,
remote id) and a ``checkpoint`` line each time the target emits STATE. An UPSERT whose object
already has every value of the record sends nothing; its line says ``"skipped": "unchanged"``,
with the object's URL and remote id, and null for the method and status of the write that did not
happen. ``rejects.jsonl`` gets the record and the reason. Lines are flushed as they are written.

Resuming: after a crash the tap resends everything since the last STATE the target emitted. The
records published since the last checkpoint are exactly the ones that may come again, so they are
read back at start and a create (POST) or a DELETE is not sent twice: the earlier result is reused
(once per earlier result, so two identical records stay two). PUT and PATCH are sent again (they
are idempotent; a rerun re-applies them).

A POST is also noted in a side file (``results.pending.jsonl`` next to ``results.jsonl``) before
it is sent; a note without a result after the last checkpoint is a create the crash left in doubt
(sent, answer never recorded). The engine asks the vendor's dialect whether that object exists
before sending it again. The side file is emptied at each checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import threading
import typing as t
from collections import Counter
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


def pending_path_for(results_path: Path) -> Path:
    """The side file of POSTs sent and not yet answered: ``results.jsonl`` → ``results.pending.jsonl``."""
    stem = results_path.name[:-len(results_path.suffix)] if results_path.suffix else results_path.name
    return results_path.with_name(f"{stem}.pending.jsonl")


# Results whose request is not to be repeated after a crash (PUT and PATCH are simply resent).
_NOT_REPEATED = frozenset({"POST", "DELETE"})


class Journal:
    """Thread-safe writer of the results and rejects files."""

    def __init__(self, results_path: str | Path, rejects_path: str | Path) -> None:
        self.results_path = Path(results_path)
        self.rejects_path = Path(rejects_path)
        self.pending_path = pending_path_for(self.results_path)
        for path in (self.results_path, self.rejects_path):
            path.parent.mkdir(parents=True, exist_ok=True)
        self._in_flight, posted = self._read_in_flight()
        self._in_doubt = self._read_pending() - posted
        self._lock = threading.Lock()
        self._results = self.results_path.open("a", encoding="utf-8")
        self._rejects = self.rejects_path.open("a", encoding="utf-8")
        self._pending = self.pending_path.open("a", encoding="utf-8")
        self.published = 0
        self.unchanged_count = 0
        self.rejected = 0

    def _read_in_flight(self) -> tuple[dict[str, list[dict]], Counter[str]]:
        """Results written after the last checkpoint: POST/DELETE ones by record fingerprint, and
        how many POSTs of each fingerprint were answered."""
        entries: dict[str, list[dict]] = {}
        posted: Counter[str] = Counter()
        if not self.results_path.exists():
            return entries, posted
        with self.results_path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                if "checkpoint" in entry:
                    entries.clear()
                    posted.clear()
                elif entry.get("fingerprint") and not entry.get("dry_run"):
                    if entry.get("method") in _NOT_REPEATED:
                        entries.setdefault(entry["fingerprint"], []).append(entry)
                    if entry.get("method") == "POST":
                        posted[entry["fingerprint"]] += 1
        return entries, posted

    def _read_pending(self) -> Counter[str]:
        notes: Counter[str] = Counter()
        if not self.pending_path.exists():
            return notes
        with self.pending_path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    notes[json.loads(line)["sending"]] += 1
                except (ValueError, KeyError, TypeError):
                    continue
        return notes

    def already_published(self, fingerprint_: str) -> dict | None:
        """The result of this record if a run that did not finish created or deleted it already.

        Each earlier result is handed out once: a record sent twice is published twice.
        """
        with self._lock:
            earlier = self._in_flight.get(fingerprint_)
            return earlier.pop(0) if earlier else None

    def take_in_doubt(self, fingerprint_: str) -> bool:
        """True (once per note) if an interrupted run sent this record's POST and recorded no answer."""
        with self._lock:
            if self._in_doubt.get(fingerprint_, 0) > 0:
                self._in_doubt[fingerprint_] -= 1
                return True
            return False

    def sending(self, fingerprint_: str, **entry: t.Any) -> None:
        """Note, before it is sent, a POST whose answer a crash could lose."""
        self._write(self._pending, {"time": _now(), "sending": fingerprint_, **entry})

    def result(self, **entry: t.Any) -> None:
        self._write(self._results, {"time": _now(), **entry})
        self.published += 1

    def unchanged(self, *, stream: str, key: t.Any, url: str, remote_id: t.Any, fingerprint: str,
                  **extra: t.Any) -> None:
        """A record not sent: the object it updates already has each of its values."""
        self._write(self._results, {"time": _now(), "stream": stream, "key": key, "method": None,
                                    "url": url, "status": None, "remote_id": remote_id,
                                    "fingerprint": fingerprint, "skipped": "unchanged", **extra})
        self.unchanged_count += 1

    def reject(self, *, stream: str, key: t.Any, reason: str, record: t.Any, **extra: t.Any) -> None:
        entry = {"time": _now(), "stream": stream, "key": key, "reason": redact(reason), **extra,
                 "record": record}
        self._write(self._rejects, entry)
        self.rejected += 1

    def checkpoint(self, state: t.Any) -> None:
        """Everything before this line is covered by a STATE the target emitted."""
        with self._lock:
            self._pending.truncate(0)
        self._write(self._results, {"time": _now(), "checkpoint": fingerprint("state", state)})
        with self._lock:
            self._in_flight = {}
            self._in_doubt = Counter()

    def _write(self, handle: t.TextIO, entry: dict) -> None:
        line = json.dumps(entry, default=json_default, separators=(",", ":"))
        with self._lock:
            handle.write(line + "\n")
            handle.flush()

    def close(self) -> None:
        with self._lock:
            self._results.close()
            self._rejects.close()
            self._pending.close()
