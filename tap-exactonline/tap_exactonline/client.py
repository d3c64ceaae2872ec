"""The Exact Online stream: one class serves sync, bulk, regular endpoints and custom streams.

Every stream is partitioned by division (``{"Division": n}``); ``Division`` is part of every
primary key and the bookmark is kept per division. Requests send ``Accept: application/json``
and follow ``d.__next`` verbatim (its ``$skiptoken`` format depends on the key type, §2.4).

* ``sync/…``: ``$filter=Timestamp gt {bookmark}L`` (first run ``gt 0L``), ``$select`` of every
  column, 1,000 rows a page, rows in Timestamp order (§2.5). ``start_date`` on a partition
  without a bookmark: the Timestamp ``read/sync/Sync/SyncTimestamp`` answers where Exact serves
  it, else from the first row; either way rows modified before it are skipped (see
  :meth:`ExactStream._sync_start`).
* ``bulk/…``: full read, ``$select`` required, 1,000 rows a page.
* regular: 60 rows a page; ``$filter=Modified ge datetime'…'`` (inclusive: the boundary row comes
  again) in the server's wall clock, ``$orderby=Modified``.

``/Date(ms)/`` values are the server's wall clock written as if UTC (§2.4, the sandbox's
``wall_clock="CET"``); they are emitted as UTC ISO timestamps (``server_timezone`` setting).
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timezone
from functools import cached_property
from urllib.parse import quote, urlsplit

import msgspec
import requests
from dateutil.parser import isoparse
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams.rest import HTTPRequest, PageContext

from connector_core import BudgetExhausted, render_path
from connector_core.streams import VendorStream
from exactonline_client import (
    ExactOnlineConnection,
    SyncTimestampUnavailable,
    parse_exact_date,
    sync_timestamp_endpoint,
)
from tap_exactonline.catalog import DELETED_AT, StreamSpec, deleted_entity_types

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_exactonline.tap import TapExactOnline

_decode = msgspec.json.Decoder().decode
EPOCH_START = "1900-01-01T00:00:00"


class NextLinkPaginator(BaseAPIPaginator["str | None"]):
    """The next page is ``d.__next``, an absolute URL followed as it is."""

    def __init__(self, next_link: t.Callable[[], str | None]) -> None:
        super().__init__(None)
        self._next_link = next_link

    def get_next(self, response: requests.Response) -> str | None:
        link = self._next_link()
        if link and _origin(link) != _origin(response.url):
            # The bearer token must not travel to another host.
            raise FatalAPIError(f"Exact Online's next-page link leaves {_origin(response.url)} "
                                f"for {_origin(link)}; refusing to send the token there")
        return link


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class ExactStream(VendorStream[ExactOnlineConnection]):
    """One Exact Online endpoint, read per division."""

    spec: StreamSpec
    _tap: TapExactOnline

    def __init__(self, tap: TapExactOnline, spec: StreamSpec, schema: dict) -> None:
        super().__init__(tap, spec, schema)
        self._next: str | None = None
        self._division: int | None = None
        # While a sync partition is read from start_date: rows modified before it are skipped.
        self._skip_before: datetime | None = None

    @property
    def is_sorted(self) -> bool:
        """Sync endpoints page by Timestamp (their ``$skiptoken`` is the last row's Timestamp), so
        the bookmark advances with every row and a long run checkpoints as it goes (a STATE every
        10,000 rows): an interrupted run resumes where it was. Regular endpoints are ordered by
        ``$orderby=Modified`` but compared with an inclusive ``ge``; they keep the end-of-stream
        bookmark."""
        return self.spec.kind == "sync" and self.replication_key == "Timestamp"

    # The connection's session, auth, retries, timeout and error texts (VendorStream); the API
    # base and the limiter of the partition's division are Exact's own.
    @property
    def url_base(self) -> str:
        return self.connection.api_url

    @property
    def limiter_scope(self) -> int | None:
        return self._division

    @property
    def partitions(self) -> list[dict] | None:
        return [{"Division": d} for d in self._tap.divisions]

    # -- request -------------------------------------------------------------------------------
    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        # The limiter is taken once per partition by request_decorator: set the division first.
        self._division = int(context["Division"]) if context else None
        self._skip_before = None
        if self.connection.ledger.budget_spent(self._division):
            self.connection.ledger.not_read(self.name, self._division, started=False)
            return
        try:
            yield from super().request_records(context)
        except BudgetExhausted as exc:
            # Stop this division cleanly: what was read is emitted and its bookmark kept (rows come
            # in cursor order), the next run goes on from there.
            self.connection.ledger.spend_budget(self._division, exc)
            self.connection.ledger.not_read(self.name, self._division, started=True)

    def get_url(self, context: Context | None) -> str:
        division = context["Division"] if context else self._tap.divisions[0]
        path = render_path(self.path, dict(self._tap.custom_request_params(self.name).path))
        beta = "/beta" if self.spec.kind == "beta" else ""  # /api/v1/beta/{division}/… (§2.9)
        return f"{self.url_base}{beta}/{division}{path}"

    def get_new_paginator(self) -> NextLinkPaginator:
        return NextLinkPaginator(lambda: self._next)

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """The first page: the URL with its OData query; then ``d.__next`` exactly as Exact sent it.

        The query is encoded here (``$``, ``,``, ``'`` and parentheses kept, spaces as ``%20``)
        rather than by singer-sdk, whose ``urlencode`` would write spaces in ``$filter`` as ``+``.
        """
        if page.next_page_token:
            return HTTPRequest(url=page.next_page_token, headers=self.http_headers)
        query = self.odata_query(page.stream_context)
        url = self.get_url(page.stream_context)
        return HTTPRequest(url=f"{url}?{query}" if query else url, headers=self.http_headers)

    @cached_property
    def _selectable(self) -> list[str]:
        return [p for p in self.schema["properties"] if p in self.spec.columns]

    def _select(self) -> str:
        mask = self.mask
        wanted = [p for p in self._selectable
                  if mask.get(("properties", p), True) or p in self.primary_keys
                  or p == self.replication_key
                  or (self._skip_before is not None and p == self._modified_column)]
        return ",".join(wanted)

    def odata_query(self, context: Context | None) -> str:
        params: dict[str, t.Any] = {}
        custom = dict(self._tap.custom_request_params(self.name).query)
        filters = []
        if self.replication_key == "Timestamp":
            # Before $select: it decides whether the Modified column must be selected too.
            filters.append(f"Timestamp gt {self._sync_start(context)}L")
        if self.spec.columns and "$select" not in custom:
            params["$select"] = self._select()
        if self.replication_key and self.replication_key != "Timestamp":
            start = self.get_starting_timestamp(context)
            filters.append(f"{self.replication_key} ge datetime'{self._wall_clock(start)}'")
            params["$orderby"] = self.replication_key
        if custom.get("$filter"):
            filters.insert(0, str(custom.pop("$filter")))
        if filters:
            params["$filter"] = " and ".join(f"({f})" if len(filters) > 1 else f for f in filters)
        params.update(custom)
        return "&".join(f"{quote(str(k), safe='$')}={quote(str(v), safe=chr(39) + '$,()')}"
                        for k, v in params.items())

    # -- start_date on sync endpoints --------------------------------------------------------------
    @cached_property
    def _modified_column(self) -> str | None:
        """The column that dates a row's last change: ``Modified``, or ``DeletedDate`` on
        ``sync/Deleted`` (a deletion is the row's last change); None when the row has neither."""
        columns = self.schema["properties"]
        return next((c for c in ("Modified", "DeletedDate") if c in columns), None)

    def _sync_start(self, context: Context | None) -> int:
        """The Timestamp to read a sync partition after (``Timestamp gt …L``).

        The bookmark in state always wins. Without one and without ``start_date``: 0, every row.
        With ``start_date`` (once per division and endpoint, see
        :meth:`ExactOnlineConnection.sync_timestamp`): the Timestamp Exact's ``SyncTimestamp`` answers
        for the endpoints it serves, less one: Exact's docs call it the first row modified at or
        after the date ("greater than or equal"), and the filter is ``gt``. That Timestamp becomes
        the partition's bookmark at once, so the next run asks no more. The other endpoints (the
        docs list SyncTimestamp for 24 of the 60; the tap does not ask for the rest), and a listed
        one Exact refuses, are read from their first row. Either way, rows whose ``Modified`` is
        before ``start_date`` are skipped, not emitted, while the bookmark still advances over
        them (:meth:`post_process`).
        """
        state = self.get_context_state(context)
        bookmark = state.get("replication_key_value")
        if state.get("replication_key") == "Timestamp" and bookmark not in (None, ""):
            try:
                return int(bookmark)
            except (TypeError, ValueError):
                raise ValueError(
                    f"The state's bookmark of stream {self.name} (partition {context}) is "
                    f"{bookmark!r}, not an Exact Online Timestamp (an integer): correct or remove "
                    "it from the state") from None
        start_date = self._start_date
        if start_date is None:
            return 0
        where = f"{self.name} (division {self._division})"
        column = self._modified_column
        endpoint = sync_timestamp_endpoint(self.path)
        if endpoint is not None:
            modified = self._wall_clock(start_date)
            try:
                found = self.connection.sync_timestamp(self._division, endpoint, modified)
            except SyncTimestampUnavailable as exc:
                self.logger.warning("%s: %s; reading it from its first row instead.", where, exc)
            else:
                start = max(found - 1, 0)
                state["replication_key"] = "Timestamp"
                state["replication_key_value"] = start
                self._skip_before = start_date if column else None
                self.logger.info(
                    "%s: start_date %s is Exact's wall clock %s; SyncTimestamp of %s answered %s: "
                    "reading rows with Timestamp above %s.", where, self.config["start_date"],
                    modified, endpoint, found, start)
                return start
        if column is None:
            self.logger.warning(
                "%s: start_date %s cannot apply: Exact's SyncTimestamp does not serve %s and its "
                "rows have no Modified date, so every row is read.", where,
                self.config["start_date"], self.path)
            return 0
        self._skip_before = start_date
        self.logger.info(
            "%s: Exact's SyncTimestamp does not serve %s: reading it from its first row and "
            "skipping rows whose %s is before start_date %s (the bookmark still advances over "
            "them, so the next run starts after them).", where, self.path, column,
            self.config["start_date"])
        return 0

    @cached_property
    def _start_date(self) -> datetime | None:
        value = self.config.get("start_date")
        if not value:
            return None
        start = isoparse(str(value))  # any ISO 8601 form, on every Python the tap supports
        return start if start.tzinfo else start.replace(tzinfo=timezone.utc)

    def _modified_before_start(self, row: dict) -> bool:
        value = row.get(self._modified_column)  # type: ignore[arg-type]
        if not isinstance(value, str):
            return False  # undated: kept
        try:
            modified = datetime.fromisoformat(value)  # as parse_exact_date wrote it
        except ValueError:
            return False
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=timezone.utc)
        return modified < self._skip_before  # type: ignore[operator]

    def _wall_clock(self, start: datetime | None) -> str:
        if start is None:
            return EPOCH_START
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        tz = self._tap.server_tz
        local = start.astimezone(tz) if tz is not None else start.astimezone(timezone.utc)
        return local.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")

    # -- response ------------------------------------------------------------------------------
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        body = _decode(response.content) if response.content else {}
        d = body.get("d") if isinstance(body, dict) else None
        self._next = None
        if isinstance(d, dict) and "results" in d:
            rows = d["results"]
            self._next = d.get("__next") or None
        elif isinstance(d, list):
            rows = d
        elif isinstance(d, dict):
            rows = [d]
        else:
            rows = []
        yield from rows

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        row.pop("__metadata", None)
        tz = self._tap.server_tz
        for key, value in row.items():
            if isinstance(value, str) and value.startswith("/Date(") and value.endswith(")/"):
                row[key] = parse_exact_date(value, tz)
        if context:
            row["Division"] = context["Division"]
        if self._skip_before is not None and self._modified_before_start(row):
            # Modified before start_date: not emitted (nor a deletion mark), but its Timestamp
            # still moves the bookmark, so the next run does not read it again.
            self._increment_stream_state(row, context=context)
            return None
        if self.spec.name == "deleted":
            self._mark_deleted(row)
        return row

    def _mark_deleted(self, row: dict) -> None:
        """A ``sync/Deleted`` row also goes to its entity's stream as ``{Division, ID,
        _sdc_deleted_at}``, the Singer mark of a deleted row, when that stream is selected."""
        name = deleted_entity_types().get(row.get("EntityType"))  # type: ignore[arg-type]
        stream = self._tap.streams.get(name) if name else None
        if name is None or stream is None or not stream.selected or not row.get("EntityKey"):
            return
        if name not in self._tap.marked_streams:
            self._tap.marked_streams.add(name)
            stream._write_schema_message()  # noqa: SLF001 - before its first record from here
        stream._write_record_message({  # noqa: SLF001 - a record of another stream
            "Division": row.get("Division"), "ID": row["EntityKey"],
            DELETED_AT: row.get("DeletedDate") or datetime.now(timezone.utc).isoformat(),
        })
