"""Method mapping: which entity, which method, and where path values come from, per stream.

A target's ``mappings`` setting maps each incoming stream to an entity (an endpoint template such
as ``/company/addressFormats/{id}``), a method (POST, PUT, PATCH, DELETE or UPSERT), the record
fields that fill the template's ``{params}``, the ``match`` fields that find an existing object for
an upsert, static ``query`` values, and the fields a record must have to create an object
(``required``: checked before a POST, so the vendor is not asked to refuse it).
"""

from __future__ import annotations

import difflib
import typing as t
from dataclasses import dataclass, field
from types import MappingProxyType

from connector_core.params import template_params
from connector_core.settings import describe_value

METHODS = ("POST", "PUT", "PATCH", "DELETE", "UPSERT")
KEYS = ("entity", "method", "path", "match", "query", "required")


class MappingError(ValueError):
    """A mapping in the target's config is wrong; the message names the setting."""


@dataclass(frozen=True)
class StreamMapping:
    """How the records of one stream are published."""

    stream: str
    entity: str
    method: str = "UPSERT"
    path_fields: t.Mapping[str, str] = field(default_factory=dict)  # placeholder -> record field
    match: tuple[str, ...] = ()
    query: t.Mapping[str, t.Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()  # fields a record needs to create an object (checked on POST)

    def field_for(self, param: str) -> str:
        """The record field that fills ``{param}`` (by default the field of the same name)."""
        return self.path_fields.get(param, param)

    @classmethod
    def from_config(cls, stream: str, obj: t.Mapping[str, t.Any], *, where: str) -> StreamMapping:
        """Parse ``mappings.<stream>``; :class:`MappingError` names the key, the value and what
        is expected (``mappings.c.method must be one of POST, ...; got "UPSRT"``)."""
        if not isinstance(obj, t.Mapping):
            raise MappingError(f"{where} must be an object with an entity and a method; "
                               f"got {describe_value(obj)}")
        for key in sorted(set(obj) - set(KEYS)):
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            raise MappingError(f"{where}.{key} is not a mapping key"
                               + (f" (did you mean {close[0]}?)" if close else "")
                               + f"; a mapping has {', '.join(KEYS)}")
        if "entity" not in obj:
            raise MappingError(f"{where}.entity is required but not set (the endpoint to write "
                               "to, e.g. /company/companies)")
        entity = obj["entity"]
        if not isinstance(entity, str) or not entity.startswith("/"):
            raise MappingError(f"{where}.entity must be an endpoint path starting with '/'; "
                               f"got {describe_value(entity)}")
        raw_method = obj.get("method", "UPSERT")
        method = raw_method.upper() if isinstance(raw_method, str) else raw_method
        if method not in METHODS:
            raise MappingError(f"{where}.method must be one of {', '.join(METHODS)}; "
                               f"got {describe_value(raw_method)}")
        path = obj.get("path") or {}
        if not isinstance(path, t.Mapping):
            raise MappingError(f"{where}.path must be an object mapping each {{param}} of the "
                               f"entity to a record field; got {describe_value(path)}")
        params = template_params(entity)
        for param, field_name in path.items():
            if param not in params:
                raise MappingError(f"{where}.path.{param} names no {{param}} of {entity}; its "
                                   f"params: {', '.join(params) or 'none'}")
            if not isinstance(field_name, str) or not field_name:
                raise MappingError(f"{where}.path.{param} must be the name of the record field "
                                   f"that fills {{{param}}}; got {describe_value(field_name)}")
        match = _field_names(obj.get("match"), f"{where}.match")
        if "match" in obj and not match and method == "UPSERT":
            raise MappingError(f"{where}.match must name the field(s) an UPSERT finds the object "
                               f"by (or be left out to find it by the record's id); "
                               f"got {describe_value(obj['match'])}")
        required = _field_names(obj.get("required"), f"{where}.required")
        if required and method not in ("POST", "UPSERT"):
            raise MappingError(f"{where}.required lists the fields a record needs to create an "
                               f"object, which only POST and UPSERT do; the method is {method}")
        query = obj.get("query") or {}
        if not isinstance(query, t.Mapping):
            raise MappingError(f"{where}.query must be an object of query parameters; "
                               f"got {describe_value(query)}")
        return cls(stream=stream, entity=entity, method=method,
                   path_fields=MappingProxyType(dict(path)), match=match,
                   query=MappingProxyType(dict(query)), required=required)


def _field_names(value: t.Any, where: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else value
    if value is None:
        return ()
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n for n in names):
        raise MappingError(f"{where} must be a field name or a list of field names; "
                           f"got {describe_value(value)}")
    return tuple(names)
