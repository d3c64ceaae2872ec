"""Method mapping: which entity, which method, and where path values come from, per stream.

A target's ``mappings`` setting maps each incoming stream to an entity (an endpoint template such
as ``/company/addressFormats/{id}``), a method (POST, PUT, PATCH, DELETE or UPSERT), the record
fields that fill the template's ``{params}``, the ``match`` fields that find an existing object for
an upsert, static ``query`` values, and the fields a record must have to create an object
(``required``: checked before a POST, so the vendor is not asked to refuse it).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from types import MappingProxyType

from connector_core.params import template_params

METHODS = ("POST", "PUT", "PATCH", "DELETE", "UPSERT")


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
        if not isinstance(obj, t.Mapping):
            raise MappingError(f"{where} must be an object")
        unknown = sorted(set(obj) - {"entity", "method", "path", "match", "query", "required"})
        if unknown:
            raise MappingError(f"{where} has unknown key(s) {', '.join(unknown)}; expected "
                               "entity, method, path, match, query, required")
        entity = obj.get("entity")
        if not isinstance(entity, str) or not entity.startswith("/"):
            raise MappingError(f"{where}.entity must be an endpoint path starting with '/'; "
                               f"got {entity!r}")
        method = str(obj.get("method", "UPSERT")).upper()
        if method not in METHODS:
            raise MappingError(f"{where}.method must be one of {', '.join(METHODS)}; got {method!r}")
        path = obj.get("path") or {}
        if not isinstance(path, t.Mapping) or not all(isinstance(v, str) for v in path.values()):
            raise MappingError(f"{where}.path must map each {{param}} to a record field name")
        extra = sorted(set(path) - set(template_params(entity)))
        if extra:
            raise MappingError(f"{where}.path names {', '.join(extra)}, which {entity} does not "
                               f"have; its params: {', '.join(template_params(entity)) or 'none'}")
        match = _field_names(obj.get("match"), f"{where}.match")
        required = _field_names(obj.get("required"), f"{where}.required")
        query = obj.get("query") or {}
        if not isinstance(query, t.Mapping):
            raise MappingError(f"{where}.query must be an object")
        return cls(stream=stream, entity=entity, method=method,
                   path_fields=MappingProxyType(dict(path)), match=match,
                   query=MappingProxyType(dict(query)), required=required)


def _field_names(value: t.Any, where: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value or ())
    if not all(isinstance(n, str) for n in names):
        raise MappingError(f"{where} must be a field name or a list of field names")
    return names
