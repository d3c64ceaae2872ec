"""The Lightspeed Retail X-Series stream: one class serves every catalog stream and custom stream.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §2.1.

* ``version`` paging (every 2.0 list with ``after``): ``after=<version>`` (exclusive), ``page_size``
  (the ``page_size`` setting), the next page ``after`` the answer's ``version.max`` (or the page's
  highest row version when the answer has no ``version``), and the end only on an **empty** page:
  the server may return fewer rows than asked, so a short page is not the end.
* Incremental on ``version``: the bookmark is the highest version emitted and the next run asks
  ``after`` it. ``start_date`` is never sent as ``after`` (a date is not a version): on a run
  without a bookmark it skips rows whose ``updated_at`` is older. Where the endpoint takes
  ``deleted=true`` it is asked, so deleted rows (``deleted_at`` set) reach the warehouse, also as
  ``_sdc_deleted_at``.
* Numbers are parsed as decimals, so money and quantities are emitted exactly as Lightspeed sent them.
* ``page_info`` paging (product categories): ``after=page_info.last_seen`` while ``has_next``.
* ``offset`` paging (``/search``): ``offset`` advanced by the rows received until an empty page or
  the answer's ``total_count`` is reached.
"""

from __future__ import annotations

import re
import typing as t
from datetime import datetime
from decimal import Decimal

import requests
from dateutil.parser import isoparse
from singer_sdk.pagination import BaseAPIPaginator

from connector_core import render_path
from connector_core.streams import VendorStream
from lightspeed_client import LightspeedConnection
from tap_lightspeed.catalog import StreamSpec

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_lightspeed.tap import TapLightspeed


# /search takes page_size up to 1000, whatever the lists allow (§2.1).
SEARCH_MAX_PAGE_SIZE = 1000


def parse_body(response: requests.Response) -> t.Any:
    """The answer's JSON, numbers with a fraction as :class:`~decimal.Decimal` (no float drift)."""
    return response.json(parse_float=Decimal)


def rows_of(body: t.Any, records: str) -> list[dict]:
    """The rows of an answer: ``data``, a bare list (``.``), ``data.categories`` or one object."""
    if records == ".":
        return body if isinstance(body, list) else list(body.get("data") or [])
    if isinstance(body, list):
        return body
    data = body.get("data")
    if records == "data.categories":
        return list((data or {}).get("categories") or [])
    if isinstance(data, dict):
        return [data]
    return list(data or [])


class VersionPaginator(BaseAPIPaginator[t.Any]):
    """``after`` the page's ``version.max``; an empty page ends the stream."""

    def __init__(self, start: int, records: str) -> None:
        super().__init__(start)
        self.records = records

    def get_next(self, response: requests.Response) -> t.Any | None:
        body = parse_body(response)
        rows = rows_of(body, self.records)
        if not rows:
            return None
        version = body.get("version") if isinstance(body, dict) else None
        if isinstance(version, dict) and version.get("max") is not None:
            return int(version["max"])
        return max(int(row["version"]) for row in rows)


class PageInfoPaginator(BaseAPIPaginator[t.Any]):
    """``after`` the answer's ``page_info.last_seen`` while ``page_info.has_next``."""

    def get_next(self, response: requests.Response) -> t.Any | None:
        body = parse_body(response)
        info = body.get("page_info") if isinstance(body, dict) else None
        if isinstance(info, dict) and info.get("has_next") and info.get("last_seen"):
            return info["last_seen"]
        return None


class OffsetPaginator(BaseAPIPaginator[int]):
    """``offset`` plus the rows received, until an empty page or ``total_count`` rows (``/search``)."""

    def __init__(self, records: str) -> None:
        super().__init__(0)
        self.records = records

    def get_next(self, response: requests.Response) -> int | None:
        body = parse_body(response)
        rows = rows_of(body, self.records)
        if not rows:
            return None
        offset = int(self.current_value) + len(rows)
        total = body.get("total_count") if isinstance(body, dict) else None
        return None if isinstance(total, int) and offset >= total else offset


class LightspeedStream(VendorStream[LightspeedConnection]):
    """One Lightspeed endpoint, read page by page; configured by a :class:`StreamSpec`."""

    spec: StreamSpec
    _tap: TapLightspeed

    def __init__(self, tap: t.Any, spec: StreamSpec, schema: dict) -> None:
        super().__init__(tap, spec, schema)
        self._first_run_start: datetime | None = None

    @property
    def is_sorted(self) -> bool:
        """Version pages come in version order: the bookmark advances with every record."""
        return self.spec.paging == "version" and self.spec.replication_key == "version"

    # -- the request -----------------------------------------------------------------------------
    def get_url(self, context: Context | None) -> str:
        values = dict(self._tap.custom_request_params(self.name).path)
        values.update(context or {})
        return self.connection.api_url(render_path(self.path, values))

    def get_new_paginator(self) -> BaseAPIPaginator | None:
        if self.spec.paging == "version":
            return VersionPaginator(0, self.spec.records)
        if self.spec.paging == "page_info":
            return PageInfoPaginator(None)
        if self.spec.paging == "offset":
            return OffsetPaginator(self.spec.records)
        return None

    def bookmark(self, context: Context | None) -> int | None:
        """The highest version emitted by an earlier run (``None``: no bookmark)."""
        if self.replication_key != "version":
            return None
        state = self.get_context_state(context)
        value = state.get("replication_key_value") if state.get("replication_key") == "version" else None
        return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else None

    def compare_start_date(self, value: str, start_date_value: str) -> str:
        # singer-sdk would compare the version bookmark with start_date; a date is not a version.
        return value

    def get_url_params(self, context: Context | None, next_page_token: t.Any | None) -> dict[str, t.Any]:
        params: dict[str, t.Any] = dict(self._tap.custom_request_params(self.name).query)
        if self.spec.page_size:
            limit = SEARCH_MAX_PAGE_SIZE if self.spec.paging == "offset" else self._tap.page_size
            params["page_size"] = min(self._tap.page_size, limit)
        if self.spec.deleted:
            params["deleted"] = "true"
        if self.spec.paging == "version":
            after = next_page_token if next_page_token else (self.bookmark(context) or 0)
            params["after"] = after
        elif self.spec.paging == "page_info" and next_page_token:
            params["after"] = next_page_token
        elif self.spec.paging == "offset" and next_page_token:
            params["offset"] = next_page_token
        return params

    # -- the rows ---------------------------------------------------------------------------------
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        rows = rows_of(parse_body(response), self.spec.records)
        if self.spec.paging == "single" and self.spec.page_size and len(rows) >= self._tap.page_size:
            self.logger.warning("%s: the answer holds %d rows, the page size asked; rows beyond it may be "
                                "left out (the endpoint has no paging)", self.name, len(rows))
        yield from rows

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        start = self._tap.start_date
        # start_date only filters a run without a bookmark, on the rows' updated_at.
        self._first_run_start = start if start and self.bookmark(context) is None else None
        if start and self._first_run_start is None and self.replication_key:
            self.logger.debug("%s: the bookmark governs; start_date is not used", self.name)
        yield from super().get_records(context)

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if self._first_run_start is not None and "updated_at" in self.schema.get("properties", {}):
            updated = row.get("updated_at")
            if isinstance(updated, str) and updated and isoparse(updated) < self._first_run_start:
                return None
        if self.spec.parent and context:
            row.update(context)
        if self.spec.deleted:
            row["_sdc_deleted_at"] = row.get("deleted_at") or None
        return row

    def get_child_context(self, record: dict, context: Context | None) -> dict | None:
        """A child stream's path parameter (``consignment_id``) from this row's key."""
        for child in self.child_streams:
            spec = t.cast("StreamSpec", child.spec)  # type: ignore[attr-defined]
            parameter = re.findall(r"\{([^}]+)\}", spec.path)[0]
            return {parameter: record[spec.parent_key or "id"]}
        return None
