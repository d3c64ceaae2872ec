"""The generated artifacts every plugin package carries (``catalog.json``, ``entities.json``).

A vendor's generator (``scripts/generators/<vendor>.py``) writes them from the vendor's specs and
they are committed; at run time a plugin reads each once through :func:`packaged_json`.
"""

from __future__ import annotations

import json
import typing as t
from functools import cache
from importlib import resources


@cache
def packaged_json(package: str, name: str) -> t.Any:
    """The JSON file ``name`` shipped inside ``package``, parsed once per process."""
    return json.loads(resources.files(package).joinpath(name).read_text(encoding="utf-8"))
