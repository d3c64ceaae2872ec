"""Form fields as PHP's ``http_build_query`` writes them: how Sales Layer's SDK posts an import [SL-SDK].

``{"input_data": {"products": [{"REF": "A", "tags": ["x", "y"]}]}}`` becomes the pairs
``input_data[products][0][REF]=A``, ``input_data[products][0][tags][0]=x``,
``input_data[products][0][tags][1]=y`` (``requests`` then percent-encodes them, brackets included, as
PHP does). Values are written as follows (the last two differ from PHP on purpose):

* ``True``/``False`` -> ``1``/``0`` (as PHP);
* numbers exactly: ``Decimal`` and ``int`` in plain notation (``Decimal("1E+2")`` -> ``100``, never an
  exponent), a ``float`` by its shortest repr (``0.1`` -> ``0.1``); NaN and infinities cannot be sent;
* ``None`` -> an empty value (PHP leaves a null out; an empty value is what empties a field in an
  import, so a record's null clears the field instead of being silently dropped);
* an empty list or object -> one empty value (PHP leaves it out; an empty value clears a list, file or
  image field).

Field names that are empty or hold ``[`` or ``]`` cannot be written unambiguously: :class:`FormValueError`.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal

Pairs = list[tuple[str, str]]


class FormValueError(ValueError):
    """A value or a field name that cannot be written as a form field (the message says which)."""


def scalar(value: t.Any, where: str = "value") -> str:
    """One value as the text of a form field (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise FormValueError(f"{where}: {value!r} is not a number Sales Layer can store")
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise FormValueError(f"{where}: {value} is not a number Sales Layer can store")
        return format(value, "f")
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise FormValueError(f"{where}: a {type(value).__name__} cannot be sent in a form")


def _name(name: t.Any, where: str) -> str:
    text = str(name)
    if text == "" or "[" in text or "]" in text:
        raise FormValueError(f"{where}: the field name {text!r} cannot be sent in a form (empty, or with [ or ])")
    return text


def http_build_query(data: Mapping[str, t.Any], prefix: str | None = None) -> Pairs:
    """The ``(name, value)`` pairs of ``data``, nested names bracketed (``a[b][0]``), under ``prefix``
    when given (``prefix[name]``)."""
    pairs: Pairs = []
    for name, value in data.items():
        key = _name(name, "form") if prefix is None else f"{prefix}[{_name(name, prefix)}]"
        _add(pairs, key, value)
    return pairs


def _add(pairs: Pairs, key: str, value: t.Any) -> None:
    if isinstance(value, Mapping):
        if not value:
            pairs.append((key, ""))
        for name, inner in value.items():
            _add(pairs, f"{key}[{_name(name, key)}]", inner)
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
        if not value:
            pairs.append((key, ""))
        for index, inner in enumerate(value):
            _add(pairs, f"{key}[{index}]", inner)
    else:
        pairs.append((key, scalar(value, key)))
