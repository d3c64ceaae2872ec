"""Form bodies as PHP reads them: ``http_build_query`` brackets back into nested values ([SL-SDK] ``call``).

``input_data[products][0][REF]=A&input_data[products][0][tags][0]=x&input_data[products][0][tags][1]=y`` is
``{"input_data": {"products": [{"REF": "A", "tags": ["x", "y"]}]}}``. An object whose keys are all
integers becomes a list in key order (what a PHP array of items is); ``name[]`` appends. A key given twice
with the same path is a validation error (PHP would keep the last silently; the sandbox refuses).
"""

from __future__ import annotations

import re
from typing import Any

SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    pass


def split_key(key: str) -> list[str]:
    """``a[b][0][]`` -> ``["a", "b", "0", ""]``."""
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    rest = "[" + rest
    parts, pos = [head], 0
    for match in SEGMENT.finditer(rest):
        if match.start() != pos:
            raise FormError(f"malformed field name {key!r}")
        parts.append(match.group(1))
        pos = match.end()
    if pos != len(rest) or not head:
        raise FormError(f"malformed field name {key!r}")
    return parts


def nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Nested values of a form's (key, value) pairs; see the module docstring."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = split_key(key)
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if part == "":
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                if part in node:
                    raise FormError(f"the field {key!r} is given twice")
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise FormError(f"the field {key!r} is both a value and a list")
                node = child
    return listify(root)  # type: ignore[return-value]


def listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out = {k: listify(v) for k, v in value.items()}
    if out and all(k.isdigit() for k in out):
        return [out[k] for k in sorted(out, key=int)]
    return out
