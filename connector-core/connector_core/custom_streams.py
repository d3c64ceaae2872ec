"""The ``custom_streams`` setting every tap has: user-declared endpoints with path/query values.

:func:`custom_streams_setting` declares it (the vendor words the help texts and may add fields),
:func:`declared_custom_streams` checks what every vendor checks (unique name, endpoint path, the
template's ``{params}`` given in ``path``) and :class:`CustomStreamsMixin` hands each stream its
declared ``path``/``query`` values at request time.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from functools import cached_property

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from connector_core.params import RequestParams, template_params
from connector_core.settings import config_error


def custom_streams_setting(*, endpoint: str, query: str, primary_keys: str, replication_key: str,
                           extra: t.Sequence[th.Property] = ()) -> th.Property:
    """The ``custom_streams`` setting; the arguments are the vendor's help texts."""
    entry = th.ObjectType(
        th.Property("name", th.StringType, required=True, description="Stream name."),
        th.Property("endpoint", th.StringType, required=True, description=endpoint),
        th.Property("path", th.ObjectType(), description="Values for the endpoint's `{params}`."),
        th.Property("query", th.ObjectType(), description=query),
        *extra,
        th.Property("primary_keys", th.ArrayType(th.StringType), description=primary_keys),
        th.Property("replication_key", th.StringType, description=replication_key),
        th.Property("schema", th.ObjectType(),
                    description="JSON schema, for endpoints not in the catalog."),
    )
    return th.Property("custom_streams", th.ArrayType(entry),
                       description="Extra streams: endpoint template plus `path` and `query` values.")


@dataclass(frozen=True)
class CustomStreamEntry:
    """One checked ``custom_streams`` entry; ``where`` names it in error messages."""

    where: str
    name: str
    endpoint: str
    params: RequestParams
    entry: t.Mapping[str, t.Any]

    def not_in_catalog(self, what: str) -> ConfigValidationError:
        """The error of an endpoint the vendor's catalog lacks and the entry gives no schema for;
        ``what``: ``is not a GET endpoint of the Acme catalog``."""
        return config_error(f"{self.where}.endpoint {self.endpoint!r} {what}; give its JSON schema in "
                            f"{self.where}.schema")

    def bad_cursor(self, problem: str) -> ConfigValidationError:
        """The error of a ``replication_key`` that cannot be the stream's cursor."""
        return config_error(f"{self.where}.replication_key {self.entry.get('replication_key')!r} {problem}")

    def datetime_cursor(self, schema: t.Mapping[str, t.Any], problem: str, *, allowed: bool = True) -> t.Any:
        """The declared ``replication_key``, checked to be a date-time property of ``schema`` (as the
        incremental filter and ``start_date`` compare it); ``problem`` ends the error; ``allowed``
        False: the endpoint can have no cursor at all."""
        key = self.entry.get("replication_key")
        if key:
            column = schema.get("properties", {}).get(key)
            if not allowed or column is None or column.get("format") != "date-time":
                raise self.bad_cursor(problem)
        return key

    def primary_keys(self, default: t.Sequence[str]) -> tuple[str, ...]:
        """The declared ``primary_keys``, else ``default``."""
        keys = self.entry.get("primary_keys")
        return tuple(default if keys is None else keys)


def id_key(schema: t.Mapping[str, t.Any]) -> list[str]:
    """``["id"]`` when the schema has an ``id`` property, else no key."""
    return ["id"] if "id" in schema.get("properties", {}) else []


def declared_custom_streams(config: t.Mapping[str, t.Any], taken: t.Collection[str]) -> list[CustomStreamEntry]:
    """The ``custom_streams`` entries, checked; ``taken``: the catalog's stream names."""
    names = set(taken)
    out = []
    for i, entry in enumerate(config.get("custom_streams") or []):
        where = f"custom_streams[{i}]"
        name, endpoint = entry["name"], entry["endpoint"]
        if name in names:
            raise config_error(f"{where}.name {name!r} is already a stream name")
        names.add(name)
        if not endpoint.startswith("/"):
            raise config_error(f"{where}.endpoint must start with '/'; got {endpoint!r}")
        params = custom_stream_params(entry, where)
        missing = [p for p in template_params(endpoint) if p not in params.path]
        if missing:
            raise config_error(f"{where}.endpoint {endpoint!r} needs path value(s) "
                               f"{', '.join(missing)} in {where}.path")
        out.append(CustomStreamEntry(where, name, endpoint, params, entry))
    return out


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
