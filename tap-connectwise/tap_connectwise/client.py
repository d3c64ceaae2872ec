"""The ConnectWise Manage stream: one class serves every list endpoint and custom stream.

Pagination (developer guide, Pagination): ``pageSize`` up to 1000; forward-only
(``pagination-type: forward-only`` + ``pageId``, ordered by id) where the endpoint supports it, else
``page`` with the ``Link rel="next"`` header. A page shorter than the page size is the last one,
so a forward-only read of N rows costs ceil(N/1000) requests, plus one empty terminal page only when
N is a multiple of 1000.

Incremental (Conditions): ``conditions=lastUpdated >= [ts]``, inclusive, ANDed with the user's own
conditions; the cursor is ``_info.lastUpdated`` lifted to a top-level ``lastUpdated`` column (a
custom stream may use ``dateEntered``, lifted from ``_info.dateEntered`` the same way).
Forward-only pages are ordered by id, not by the cursor, so the bookmark only advances at the end
of a stream (``is_sorted = False``).
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlparse

import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.pagination import BaseAPIPaginator

from connector_core import render_path
from connector_core.streams import VendorStream
from connectwise_client import ConnectWiseConnection
from tap_connectwise.catalog import StreamSpec

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_connectwise.tap import TapConnectWise

_decode = msgspec.json.Decoder().decode


class ConnectWisePaginator(BaseAPIPaginator[dict]):
    """Follows ``Link rel="next"``; stops on a short page. Token: ``{"pageId": n}`` or ``{"page": n}``."""

    def __init__(self, page_size: int, rows_in_last_page: t.Callable[[], int],
                 forward_only: bool) -> None:
        super().__init__(None)  # type: ignore[arg-type]  # no token before the first page
        self._page_size = page_size
        self._rows_in_last_page = rows_in_last_page
        self._forward_only = forward_only

    def has_more(self, response: requests.Response) -> bool:
        full = self._rows_in_last_page() >= self._page_size
        if full and self._forward_only and "next" not in response.links:
            # Forward-only answers always link the next pageId; a full page without one means
            # the endpoint ignored forward-only, and stopping here would drop rows.
            raise FatalAPIError(
                f"{urlparse(response.url).path} answered a full forward-only page without a "
                "Link header: the endpoint does not seem to support forward-only pagination"
            )
        return full and "next" in response.links

    def get_next(self, response: requests.Response) -> dict | None:
        query = dict(parse_qsl(urlparse(response.links["next"]["url"]).query))
        for key in ("pageId", "page"):
            if key in query:
                return {key: query[key]}
        return None


class ConnectWiseStream(VendorStream[ConnectWiseConnection]):
    """A ConnectWise endpoint read page by page; configured by a :class:`StreamSpec`."""

    spec: StreamSpec
    is_sorted = False
    _tap: TapConnectWise

    def __init__(self, tap: TapConnectWise, spec: StreamSpec, schema: dict) -> None:
        super().__init__(tap, spec, schema)
        if spec.parent is not None:
            # One bookmark for the whole child stream, not one per parent record.
            self.state_partitioning_keys = []
        self._rows_in_last_page = 0
        self._schema_written = False
        # The cursor lives in ``_info``; lift it unless the model has a field of that name.
        self._lifts_cursor = bool(spec.replication_key) and not spec.cursor_is_model_field

    def get_replication_key_signpost(self, context: Context | None = None) -> t.Any:
        """The run's start in ConnectWise's own format (``2024-05-01T10:00:42Z``), whole seconds.

        singer-sdk caps the bookmark at the signpost by comparing the two as strings; its default
        signpost, ``…:42.959000+00:00``, sorts below ``…:42Z`` (``.`` < ``Z``), so a row changed in
        the run's first second would leave a bookmark no row has. Truncated to the second, a row
        of that second keeps its own value (the next run's ``>=`` reads that second again).
        """
        signpost = super().get_replication_key_signpost(context)
        if not isinstance(signpost, datetime):
            return signpost
        return signpost.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    # -- request ---------------------------------------------------------------------------------
    def get_url(self, context: Context | None) -> str:
        return self.url_base + render_path(self.path, self._path_values(context))

    def _path_values(self, context: Context | None) -> dict[str, t.Any]:
        values = dict(self._tap.custom_request_params(self.name).path)
        if context:
            values.update({k: context[k] for k in self.spec.path_params if k in context})
        return values

    @property
    def page_size(self) -> int:
        return int(self.config.get("page_size", 1000))

    @property
    def http_headers(self) -> dict:
        headers = super().http_headers
        if self.spec.paginate and self.spec.forward_only:
            headers["pagination-type"] = "forward-only"
        return headers

    def get_new_paginator(self) -> ConnectWisePaginator | None:
        if not self.spec.paginate:
            return None
        return ConnectWisePaginator(self.page_size, lambda: self._rows_in_last_page,
                                    self.spec.forward_only)

    def get_url_params(self, context: Context | None, next_page_token: dict | None) -> dict:
        params: dict[str, t.Any] = dict(self._tap.custom_request_params(self.name).query)
        if self.spec.paginate:
            params["pageSize"] = self.page_size
            if next_page_token:
                params.update(next_page_token)
            elif not self.spec.forward_only:
                params["page"] = 1
            if not self.spec.forward_only and "id" in self.primary_keys and "orderBy" not in params:
                params["orderBy"] = "id asc"  # stable pages while rows change
        conditions = [c for c in (params.pop("conditions", None),
                                  self._tap.stream_conditions(self.name)) if c]
        if self.replication_key:
            start = self.get_starting_timestamp(context)
            if start is not None:
                stamp = start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                conditions.append(f"{self.replication_key} >= [{stamp}]")
        if conditions:
            params["conditions"] = " and ".join(
                f"({c})" if len(conditions) > 1 else c for c in conditions
            )
        fields = self._selected_fields()
        if fields:
            params["fields"] = ",".join(fields)
        return params

    def _selected_fields(self) -> list[str] | None:
        """``fields=`` for the selected top-level properties, or None when all are selected."""
        mask = self.mask
        names = [p for p in self.schema["properties"] if p not in self.spec.link_columns]
        chosen = [p for p in names if mask.get(("properties", p), True)]
        if len(chosen) == len(names):
            return None
        wanted = set(chosen) | set(self.primary_keys) - set(self.spec.link_columns)
        if self.child_streams:
            wanted.add("id")
        if self._lifts_cursor:
            wanted.add("_info")
        return [p for p in names if p in wanted and not (self._lifts_cursor and p == self.replication_key)]

    # -- response --------------------------------------------------------------------------------
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        body = _decode(response.content) if response.content else []
        rows = body if isinstance(body, list) else [body]
        self._rows_in_last_page = len(rows)
        yield from rows

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        for param, column in zip(self.spec.path_params, self.spec.link_columns):
            row[column] = context[param] if context else None  # link child rows to their parent
        if self._lifts_cursor:
            info = row.get("_info") or {}
            # ``_info`` carries lastUpdated and dateEntered; the cursor is the one it names.
            row[self.replication_key] = info.get(self.replication_key)
        return row

    # -- children --------------------------------------------------------------------------------
    def get_child_context(self, record: dict, context: Context | None) -> dict | None:
        if record.get("id") is None:
            return None
        return {"_parent_path_values": (*self._parent_path_values(context), record["id"])}

    def _parent_path_values(self, context: Context | None) -> tuple:
        if not context:
            return ()
        return tuple(context[p] for p in self.spec.path_params)

    def preprocess_context(self, context: Context) -> Context:
        # A parent hands over its own path values plus its record id; this stream names them by
        # its own path params (``/a/{grandparentId}/b/{parentId}/c``).
        values = context.get("_parent_path_values")
        if values is None:
            return context
        return dict(zip(self.spec.path_params, values))

    def _write_schema_message(self) -> None:
        # The SDK writes SCHEMA at every sync() call, i.e. once per parent record for a child
        # stream; one per run is enough for every target.
        if not self._schema_written:
            self._schema_written = True
            super()._write_schema_message()

