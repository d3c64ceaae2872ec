"""The SuperOffice stream: one class serves every catalog stream and custom stream.

Provider streams (contract §1.3-1.4):

* ``$select`` names the catalog's columns (plus the ``extra_columns`` a user adds, e.g. user-defined
  fields), ``$orderBy`` the primary key, ``$top`` the ``page_size`` (1,000 by default and at most);
* keyset paging: the next page asks ``<key> gt <last key>``, and a page shorter than ``$top`` is
  the last one (``odata.nextLink`` is not reliable for this). Not ``$skip``: the server restarts
  the query for every page, so its cost grows with each page ([SO-BP]). A provider without an
  int id column (``PrimaryKey`` rows) can only be paged with ``$skip``;
* incremental on the change column: a ``date`` column (``updatedDate``) compares by the date
  alone, so the filter asks ``after`` the day before the bookmark's day: rows of the bookmark's
  day are read again (a row may repeat, none is missed); a ``datetime`` column (``lastChanged``)
  asks ``afterTime`` the bookmark (after or equal);
* a soft deletion sets ``deletedDate`` and leaves ``updatedDate`` as it was, so an incremental
  run from a bookmark reads a second pass with ``deletedDate afterTime <bookmark>`` on the
  providers that have it: deletions since the last run are seen;
* date-times come in UTC without an offset ("All UTC", [SO-AP]) and are emitted with ``+00:00``;
  a soft-deleted row (``deletedDate`` set) is emitted with ``_sdc_deleted_at``.

Lookup lists and custom streams: one request, or, on an archive answer (``/Archive/{provider}``,
``/Contact/{id}/Persons``), ``odata.nextLink`` as given. A page asked with a ``$top`` may carry no
``odata.nextLink`` although more rows exist (contract §1.3: when it is set is not documented), so
a custom stream whose ``query`` has a ``$top`` pages with ``$skip`` instead, until a page shorter
than that ``$top``: a ``$top`` never silently cuts the stream to one page.
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta, timezone

import requests
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams.rest import HTTPRequest

from connector_core import render_path
from connector_core.streams import VendorStream
from superoffice_client import SuperOfficeConnection
from tap_superoffice.catalog import StreamSpec

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import PageContext

    from tap_superoffice.tap import TapSuperOffice


class KeysetPaginator(BaseAPIPaginator[t.Any]):
    """The next page starts after the last row's key (or, for ``$skip`` paging, after the rows
    read so far); a page shorter than ``$top`` ends the stream."""

    def __init__(self, key: str, page_size: int, *, skip: bool) -> None:
        super().__init__(None)
        self.key, self.page_size, self.skip = key, page_size, skip
        self.rows_read = 0

    def get_next(self, response: requests.Response) -> t.Any | None:
        rows = response.json().get("value") or []
        self.rows_read += len(rows)
        if len(rows) < self.page_size:
            return None
        return self.rows_read if self.skip else rows[-1][self.key]


class NextLinkPaginator(BaseAPIPaginator[t.Any]):
    """An archive answer's ``odata.nextLink`` (custom streams), followed as given."""

    def get_next(self, response: requests.Response) -> t.Any | None:
        body = response.json()
        return body.get("odata.nextLink") if isinstance(body, dict) else None


def _odata_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _utc(value: t.Any) -> t.Any:
    """``2024-05-01T10:20:30`` (UTC, no offset) as ``2024-05-01T10:20:30+00:00``."""
    if not isinstance(value, str) or not value:
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


class SuperOfficeStream(VendorStream[SuperOfficeConnection]):
    """One SuperOffice endpoint, read page by page; configured by a :class:`StreamSpec`."""

    spec: StreamSpec
    # Pages come in key order, not in cursor order: the bookmark advances at the end of the stream.
    is_sorted = False
    _tap: TapSuperOffice

    def __init__(self, tap: t.Any, spec: StreamSpec, schema: dict) -> None:
        super().__init__(tap, spec, schema)
        self._deletions_pass = False
        self._datetime_columns = [name for name, prop in schema.get("properties", {}).items()
                                  if prop.get("format") == "date-time"]

    @property
    def columns(self) -> list[str]:
        extra = [c for c in self._tap.extra_columns(self.name) if c not in self.spec.columns]
        return [*self.spec.columns, *extra]

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from super().request_records(context)
        # Only after a bookmark: a first run reads every row deleted or not (start_date aside).
        bookmark = self.get_context_state(context).get("replication_key_value")
        if self.spec.deleted_column and self.replication_key and bookmark:
            self._deletions_pass = True
            try:
                yield from super().request_records(context)
            finally:
                self._deletions_pass = False

    def get_url(self, context: Context | None) -> str:
        return self.url_base + render_path(self.path, dict(self._tap.custom_request_params(self.name).path))

    def get_new_paginator(self) -> BaseAPIPaginator | None:
        if self.spec.paging in ("keyset", "skip"):
            return KeysetPaginator(self.spec.primary_keys[0], self._tap.page_size, skip=self.spec.paging == "skip")
        if self.spec.paging == "next_link":
            top = self._query_top()
            return KeysetPaginator("", top, skip=True) if top else NextLinkPaginator(None)
        return None

    def _query_top(self) -> int | None:
        """The ``$top`` of a custom stream's ``query`` (option names are case-insensitive)."""
        query = self._tap.custom_request_params(self.name).query
        value = next((v for k, v in query.items() if k.lower() == "$top"), None)
        try:
            return int(value) if value is not None and int(value) > 0 else None
        except (TypeError, ValueError):
            return None  # the API answers 400 naming it

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        if self.spec.paging == "next_link" and isinstance(page.next_page_token, str):
            # odata.nextLink holds the whole query: followed as given.
            return HTTPRequest(url=page.next_page_token, method="GET", headers=self.http_headers)
        return super().get_http_request(page=page)

    def get_url_params(self, context: Context | None, next_page_token: t.Any | None) -> dict[str, t.Any]:
        params: dict[str, t.Any] = dict(self._tap.custom_request_params(self.name).query)
        if self.spec.paging == "next_link" and next_page_token is not None:
            if isinstance(next_page_token, int):  # $skip paging (a $top in the query)
                params = {k: v for k, v in params.items() if k.lower() != "$skip"}
                params["$skip"] = next_page_token
                return params
            return {}
        if not self.spec.is_provider:
            return params
        key = self.spec.primary_keys[0]
        conditions = [params.pop("$filter")] if params.get("$filter") else []
        params.update({"$select": ",".join(self.columns), "$top": self._tap.page_size})
        if self.spec.paging == "keyset":
            params["$orderBy"] = key
            if next_page_token is not None:
                conditions.append(f"{key} gt {int(next_page_token)}")
        else:
            params["$orderBy"] = key if key != "PrimaryKey" else params.get("$orderBy", self.columns[0])
            if next_page_token:
                params["$skip"] = int(next_page_token)
        if self.replication_key:
            start = self.get_starting_timestamp(context)
            if start is not None:
                conditions.append(self._since(start.astimezone(timezone.utc)))
        if conditions:
            params["$filter"] = " and ".join(f"({c})" if " or " in c else c for c in conditions)
        return params

    def _since(self, start: datetime) -> str:
        if self._deletions_pass:
            return f"{self.spec.deleted_column} afterTime '{start.strftime('%Y-%m-%dT%H:%M:%S')}'"
        column = self.replication_key
        if self.spec.replication_restriction == "datetime":
            # afterTime is after-or-equal: the bookmark's own rows are read again.
            return f"{column} afterTime '{start.strftime('%Y-%m-%dT%H:%M:%S')}'"
        # A date column compares by the date alone: `after` the day before the bookmark's day
        # reads that whole day again.
        return f"{column} after '{_odata_date(start - timedelta(days=1))}'"

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        body = response.json()
        if isinstance(body, dict) and "value" in body:
            yield from body["value"]
        elif isinstance(body, list):
            yield from body
        else:
            yield body

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        for column in self._datetime_columns:
            if column in row:
                row[column] = _utc(row[column])
        deleted = self.spec.deleted_column
        if deleted and row.get(deleted):
            row["_sdc_deleted_at"] = row[deleted]
        return row
