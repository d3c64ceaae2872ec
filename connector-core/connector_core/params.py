"""Request parameters: ``path`` values for URL templates, ``query`` and ``payload``.

An endpoint is written as a template such as ``/company/companies/{id}/notes``.
:func:`render_path` fills the ``{placeholders}`` from the ``path`` mapping
(each value URL-quoted, so a ``/`` inside a value cannot change the route) and
fails with an error that names the template and what was missing or extra.
:class:`RequestParams` is the validated ``{path, query, payload}`` object that
users write in configuration (for example in ``custom_streams``).
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import quote

__all__ = [
    "InvalidRequestParamsError",
    "MissingPathParameterError",
    "RequestParams",
    "UnknownPathParameterError",
    "render_path",
    "template_params",
    "template_shape",
]

# A placeholder is ``{name}`` where name is an identifier-like word; ``{{`` and
# ``}}`` are not used by any vendor path, so no escaping scheme is supported.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")

_SCALARS = (str, int, float, bool)


def template_params(template: str) -> list[str]:
    """Names of the ``{param}`` placeholders of ``template``, in order, without repeats."""
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(template):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


def template_shape(template: str) -> str:
    """``/company/companies/{id}/`` -> ``/company/companies/{}``: templates that differ only in
    their placeholders' names (or a trailing slash) have the same shape."""
    return _PLACEHOLDER.sub("{}", template.rstrip("/"))


def _quoted_list(names: t.Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _given(path: t.Mapping[str, t.Any]) -> str:
    if not path:
        return "none"
    return ", ".join(
        f'"{name}"' + (" (null)" if path[name] is None else "") for name in sorted(path)
    )


class MissingPathParameterError(ValueError):
    """A placeholder of an endpoint template has no value."""

    def __init__(self, template: str, missing: t.Sequence[str], given: t.Mapping[str, t.Any]):
        self.template = template
        self.missing = list(missing)
        self.given = sorted(given)
        noun = "parameter" if len(self.missing) == 1 else "parameters"
        super().__init__(
            f'endpoint "{template}" needs path {noun} {_quoted_list(self.missing)}; '
            f"given: {_given(given)}"
        )


class UnknownPathParameterError(ValueError):
    """Path values were given that the endpoint template does not use."""

    def __init__(self, template: str, unknown: t.Sequence[str], expected: t.Sequence[str]):
        self.template = template
        self.unknown = list(unknown)
        self.expected = list(expected)
        noun = "parameter" if len(self.unknown) == 1 else "parameters"
        accepted = _quoted_list(self.expected) if self.expected else "none"
        super().__init__(
            f'endpoint "{template}" has no path {noun} {_quoted_list(self.unknown)}; '
            f"it accepts: {accepted}"
        )


def render_path(
    template: str,
    path: t.Mapping[str, t.Any] | None = None,
    *,
    allow_extra: bool = False,
) -> str:
    """Fill the ``{placeholders}`` of ``template`` from ``path``.

    Values are converted with ``str()`` and quoted with ``safe=""``, so
    ``"a/b"`` becomes ``a%2Fb``. A placeholder without a value, or with
    ``None``, raises :class:`MissingPathParameterError`; keys of ``path`` that
    the template does not use raise :class:`UnknownPathParameterError` unless
    ``allow_extra`` is true.
    """
    path = path or {}
    names = template_params(template)
    missing = [n for n in names if path.get(n) is None]
    if missing:
        raise MissingPathParameterError(template, missing, path)
    if not allow_extra:
        unknown = sorted(k for k in path if k not in names)
        if unknown:
            raise UnknownPathParameterError(template, unknown, names)

    def fill(match: re.Match[str]) -> str:
        value = path[match.group(1)]
        if isinstance(value, bool):
            value = str(value).lower()
        return quote(str(value), safe="")

    return _PLACEHOLDER.sub(fill, template)


class InvalidRequestParamsError(ValueError):
    """A ``{path, query, payload}`` object from configuration is malformed."""


def _frozen(mapping: t.Mapping[str, t.Any]) -> t.Mapping[str, t.Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class RequestParams:
    """What to send with one request: path values, query parameters and a body.

    * ``path`` fills ``{placeholders}`` of the endpoint template
      (see :func:`render_path`);
    * ``query`` is appended to the URL as ``?name=value``;
    * ``payload`` is the JSON body, passed through unchanged.
    """

    path: t.Mapping[str, t.Any] = field(default_factory=dict)
    query: t.Mapping[str, t.Any] = field(default_factory=dict)
    payload: t.Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _frozen(self.path or {}))
        object.__setattr__(self, "query", _frozen(self.query or {}))

    @classmethod
    def from_config(cls, obj: t.Mapping[str, t.Any] | None, *, where: str) -> RequestParams:
        """Validate a configuration object and build :class:`RequestParams`.

        ``where`` locates the object in the configuration (for example
        ``custom_streams[2]``) and prefixes every error message.
        """
        if obj is None:
            return cls()
        if not isinstance(obj, t.Mapping):
            raise InvalidRequestParamsError(
                f"{where} must be an object with optional keys path, query, payload; "
                f"got {_type_name(obj)}"
            )
        unknown = sorted(k for k in obj if k not in ("path", "query", "payload"))
        if unknown:
            raise InvalidRequestParamsError(
                f"{where} has unknown key(s) {_quoted_list(unknown)}; expected path, query, payload"
            )
        path = _scalar_object(obj.get("path"), f"{where}.path", allow_lists=False)
        query = _scalar_object(obj.get("query"), f"{where}.query", allow_lists=True)
        return cls(path=path, query=query, payload=obj.get("payload"))

    def render(self, template: str, *, allow_extra: bool = False) -> str:
        """Render ``template`` with this object's ``path`` values."""
        return render_path(template, self.path, allow_extra=allow_extra)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, t.Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


def _scalar_object(value: object, where: str, *, allow_lists: bool) -> dict[str, t.Any]:
    """Check that ``value`` is an object whose values are scalars.

    Query parameters may also be arrays of scalars (sent as repeated keys,
    ``?id=1&id=2``, which is what ``requests`` does with a list).
    """
    if value is None:
        return {}
    if not isinstance(value, t.Mapping):
        raise InvalidRequestParamsError(f"{where} must be an object; got {_type_name(value)}")
    result: dict[str, t.Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise InvalidRequestParamsError(f"{where} has an empty or non-text key {key!r}")
        if isinstance(item, _SCALARS):
            result[key] = item
            continue
        if allow_lists and isinstance(item, (list, tuple)):
            if all(isinstance(i, _SCALARS) for i in item):
                result[key] = list(item)
                continue
            raise InvalidRequestParamsError(
                f"{where}.{key} must be a scalar or an array of scalars"
            )
        raise InvalidRequestParamsError(
            f"{where}.{key} must be a scalar (text, number or boolean); got {_type_name(item)}"
        )
    return result
