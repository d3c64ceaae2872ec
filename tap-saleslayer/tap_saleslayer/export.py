"""One export of the connector per run, routed to every selected stream.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §3.1. Every answer of an export
connector carries all of its tables, so a run makes ONE export (1.18: ``ver`` and ``pagination`` in
the query, then ``next_page`` as given until it is absent) and routes each table's rows to its
stream, never one export per stream.

singer-sdk syncs the streams one after the other, while the export's pages may hold any table's
rows. So the first stream to sync reads the export: its own rows become its records at once, the
rows of every other selected table are converted and written to a spool file, one per table, which
its stream reads when its turn comes. Memory stays flat whatever the catalogue's size: one page
(decoded once) at a time, never a whole answer's tables held in memory.

The export's window ends at the server ``time`` of its FIRST answer: that time is every record's
``saleslayer_time`` and so every stream's bookmark, the next run's ``last_update``.
"""

from __future__ import annotations

import decimal
import logging
import tempfile
import typing as t
from collections.abc import Iterator
from datetime import datetime, timezone, tzinfo
from pathlib import Path

import msgspec

from saleslayer_client import SalesLayerConnection, SalesLayerError
from tap_saleslayer.schema import DELETED_AT, EXPORT_TIME, RowReader

_encode = msgspec.json.Encoder(decimal_format="number").encode
_decode = msgspec.json.Decoder(float_hook=decimal.Decimal).decode


class Export:
    """The run's export: ``records(table)`` for each selected table, the pages read once."""

    def __init__(self, connection: SalesLayerConnection, params: t.Mapping[str, t.Any],
                 keep: t.Mapping[str, t.Collection[str]], zone: tzinfo, logger: logging.Logger) -> None:
        #: Per selected table, the columns its stream keeps.
        self.keep = dict(keep)
        self.connection, self.params, self.zone, self.logger = connection, dict(params), zone, logger
        self.server_time: int | None = None
        self.pages = 0
        self.rows = 0
        self._state = "new"  # new -> reading -> done (or failed)
        self._spool_dir: tempfile.TemporaryDirectory[str] | None = None
        self._spools: dict[str, t.BinaryIO] = {}
        self._readers: dict[tuple[str, bytes], RowReader] = {}

    @property
    def export_time(self) -> str:
        assert self.server_time is not None
        return datetime.fromtimestamp(self.server_time, timezone.utc).isoformat()

    def records(self, table: str) -> Iterator[dict[str, t.Any]]:
        """The records of ``table``: read from the export itself by the first stream, then from its spool."""
        if table not in self.keep:
            raise KeyError(f"{table} is not a selected table of this export")
        if self._state == "new":
            yield from self._read(table)
        elif self._state == "done":
            yield from self._spooled(table)
        else:
            raise SalesLayerError("the run's Sales Layer export did not complete; the other streams cannot be read")

    # -- reading the export ------------------------------------------------------------------------
    def _answers(self) -> Iterator[dict[str, t.Any]]:
        answer = self.connection.read(self.params)
        self.server_time = int(answer["time"])
        while True:
            self.pages += 1
            count, length = answer.get("page_count"), answer.get("page_length")
            if count is not None:
                self.logger.info("Sales Layer export: page %d of %s (about %s items a page)", self.pages, count, length)
            waiting = answer.get("waiting") or {}
            if waiting:
                self.logger.info("Sales Layer is still processing files: %s", waiting)
            yield answer
            next_page = answer.get("next_page")
            if not next_page:
                return
            answer = self.connection.follow(str(next_page))

    def _read(self, current: str) -> Iterator[dict[str, t.Any]]:
        self._state = "reading"
        self.pages = self.rows = 0
        self._spool_dir = tempfile.TemporaryDirectory(prefix="tap-saleslayer-")
        others = [table for table in self.keep if table != current]
        self._spools = {table: open(Path(self._spool_dir.name) / f"{i}.jsonl", "wb")  # noqa: SIM115
                        for i, table in enumerate(others)}
        try:
            for answer in self._answers():
                export_time = self.export_time
                schemas = answer.get("data_schema") or {}
                infos = answer.get("data_schema_info") or {}
                for table, rows in (answer.get("data") or {}).items():
                    if table not in self.keep or not rows:
                        continue
                    reader = self._reader(table, schemas.get(table) or [], infos.get(table) or {})
                    self.rows += len(rows)
                    if table == current:
                        for row in rows:
                            yield reader.record(row, export_time)
                    else:
                        spool = self._spools[table]
                        for row in rows:
                            spool.write(_encode(reader.record(row, export_time)))
                            spool.write(b"\n")
                del answer
            for spool in self._spools.values():
                spool.close()
        except GeneratorExit:
            # The stream stopped early (a record limit, singer-sdk's connection test): the
            # spools are incomplete, so the next stream reads an export of its own.
            self.close()
            self._spools, self._state = {}, "new"
            raise
        except BaseException:
            self._state = "failed"
            self.close()
            raise
        self._state = "done"
        self.logger.info("Sales Layer export read: %d rows in %d page(s), server time %s", self.rows, self.pages,
                         self.server_time)

    def _reader(self, table: str, data_schema: t.Sequence[t.Any], info: t.Mapping[str, t.Any]) -> RowReader:
        key = (table, _encode(data_schema))
        reader = self._readers.get(key)
        if reader is None:
            reader = self._readers[key] = RowReader.build(table, data_schema, info, self.keep[table], self.zone)
            sent = {name for _, name, _, _ in reader.positions} | {"ID", DELETED_AT, EXPORT_TIME}
            missing = sorted(set(self.keep[table]) - sent)
            if missing:
                self.logger.info("%s: the connector no longer sends %s", table, ", ".join(missing))
        return reader

    def _spooled(self, table: str) -> Iterator[dict[str, t.Any]]:
        spool = self._spools.pop(table, None)
        if spool is None:
            return
        with open(spool.name, "rb") as lines:
            for line in lines:
                yield _decode(line)
        Path(spool.name).unlink(missing_ok=True)
        if not self._spools:
            self.close()

    def close(self) -> None:
        for spool in self._spools.values():
            spool.close()
        if self._spool_dir is not None:
            self._spool_dir.cleanup()
            self._spool_dir = None
