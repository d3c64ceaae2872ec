"""Which emulators exist: Python entry points of the group ``connector_sandbox.emulators``.

A vendor's emulator registers itself in the ``pyproject.toml`` of its distribution::

    [project.entry-points."connector_sandbox.emulators"]
    acme = "acme_sandbox.cli:AcmeEmulator"

and the command line (``connector-sandbox --help``) lists and runs whatever is registered. The entry
point names an :class:`Emulator` subclass (or instance): the vendor's word on the command line, its
default port, its own options and how to build the server from them.
"""

from __future__ import annotations

import argparse
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "connector_sandbox.emulators"


class Emulator:
    """How the command line runs one vendor's emulator (subclass it and declare an entry point).

    Every emulator gets ``--host``, ``--port`` (default :attr:`default_port`), ``--seed``, ``--size
    PATH=N`` (repeatable), ``--default-size``, ``--latency-ms`` and ``--verbose``; emulators with an
    authorization server (:class:`~connector_sandbox.oauth.OAuthControl`) also ``--tokens-file``.
    The vendor adds its own options in :meth:`add_arguments` and builds the server in :meth:`build`.
    """

    name = ""  # the word on the command line
    summary = ""  # one line in ``connector-sandbox --help``
    default_port = 0
    size_example = "PATH=N"  # shown in --size's help and errors
    size_note = ""  # what N means, in --size's help
    issues_tokens = False  # True: the emulator is an OAuthControl (offer --tokens-file)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The vendor's own options."""

    def check_size_path(self, path: str) -> bool:
        """Whether ``path`` (of ``--size PATH=N``) is written as the vendor's paths are."""
        return bool(path.strip("/"))

    def build(self, args: argparse.Namespace) -> Any:
        """The server (not started) for the parsed options; ``args.size`` is a list of (path, n)."""
        raise NotImplementedError


def emulators() -> dict[str, Emulator]:
    """The registered emulators by name, in name order."""
    found: dict[str, Emulator] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        obj = ep.load()
        plugin = obj() if isinstance(obj, type) else obj
        if not isinstance(plugin, Emulator):
            raise TypeError(f"entry point {ep.name!r} of {ENTRY_POINT_GROUP} names {obj!r}, not an Emulator")
        if plugin.name != ep.name:
            raise ValueError(f"entry point {ep.name!r} of {ENTRY_POINT_GROUP} names the emulator {plugin.name!r}")
        found[ep.name] = plugin
    return found
