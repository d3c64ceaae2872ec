"""The ``custom_streams`` setting every tap has: user-declared endpoints with path/query values."""

from __future__ import annotations

import typing as t
from functools import cached_property

from connector_core.params import RequestParams
from connector_core.settings import config_error


def custom_stream_params(entry: t.Mapping[str, t.Any], where: str) -> RequestParams:
    """The ``path`` and ``query`` of one ``custom_streams`` entry; bad values are config errors."""
    try:
        return RequestParams.from_config(
            {k: entry[k] for k in ("path", "query") if entry.get(k) is not None}, where=where
        )
    except ValueError as exc:
        raise config_error(str(exc)) from None


class CustomStreamsMixin:
    """For a singer-sdk Tap: the request parameters of each stream declared in ``custom_streams``."""

    config: t.Mapping[str, t.Any]

    @cached_property
    def _custom_stream_params(self) -> dict[str, RequestParams]:
        return {
            entry["name"]: custom_stream_params(entry, f"custom_streams[{i}]")
            for i, entry in enumerate(self.config.get("custom_streams") or [])
        }

    def custom_request_params(self, stream_name: str) -> RequestParams:
        """The declared ``path``/``query`` of a custom stream (empty for catalog streams)."""
        return self._custom_stream_params.get(stream_name) or RequestParams()
