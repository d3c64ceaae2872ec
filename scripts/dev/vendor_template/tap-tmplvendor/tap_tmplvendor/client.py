"""The TMPL_SYSTEM stream: one class serves every catalog stream and custom stream.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``. Read the vendor's paging and
filtering rules in
``TMPL_DOC`` and replace what this scaffold assumes: pages asked
with ``page`` (1-based) and ``per_page``, answered ``{"data": [...], "next_page": n | null}`` in
id order; an incremental read asks ``updated_since`` (inclusive, RFC 3339).
"""

from __future__ import annotations

import typing as t
from datetime import timezone

import requests
from singer_sdk.pagination import JSONPathPaginator
from tmplvendor_client import TmplVendorConnection

from connector_core import render_path
from connector_core.streams import VendorStream
from tap_tmplvendor.catalog import StreamSpec

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_tmplvendor.tap import TapTmplVendor


class TmplVendorStream(VendorStream[TmplVendorConnection]):
    """One TMPL_SYSTEM endpoint, read page by page; configured by a :class:`StreamSpec`."""

    spec: StreamSpec
    # Pages come in id order, not in cursor order: the bookmark advances at the end of the stream.
    is_sorted = False
    _tap: TapTmplVendor

    def get_url(self, context: Context | None) -> str:
        return self.url_base + render_path(self.path, dict(self._tap.custom_request_params(self.name).path))

    def get_new_paginator(self) -> JSONPathPaginator | None:
        return JSONPathPaginator("$.next_page") if self.spec.paginate else None

    def get_url_params(self, context: Context | None, next_page_token: t.Any | None) -> dict[str, t.Any]:
        params: dict[str, t.Any] = dict(self._tap.custom_request_params(self.name).query)
        if self.spec.paginate:
            params["per_page"] = self._tap.page_size
            params["page"] = next_page_token or 1
        if self.replication_key:
            start = self.get_starting_timestamp(context)
            if start is not None:
                # Whole seconds, rounded down: the filter is inclusive, so nothing is skipped.
                params["updated_since"] = start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return params

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        body = response.json()
        if self.spec.paginate:
            yield from body["data"]
        else:
            yield from body if isinstance(body, list) else [body]
