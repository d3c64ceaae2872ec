"""``connector-sandbox saleslayer``: the Sales Layer (PIM) classic-API emulator's own command-line options.

Connector codes and private keys default to the sandbox's demo values and can be overridden by flags or the
environment: ``--connector-id``/``SL_SANDBOX_CONNECTOR_ID``, ``--private-key``/``SL_SANDBOX_PRIVATE_KEY`` (the
export connector), ``--import-connector-id``/``SL_SANDBOX_IMPORT_CONNECTOR_ID``,
``--import-private-key``/``SL_SANDBOX_IMPORT_PRIVATE_KEY``. Tables are sized by name:
``--size products=100000 --size product_formats=300000``. ``--temporary-error 11:3`` answers the first three
calls with error 11 (10, 11 or 14; repeatable).
"""

from __future__ import annotations

import argparse
import os

from ..registry import Emulator
from .auth import DEFAULT_WINDOW
from .emulator import (
    DEFAULT_CONNECTOR_ID,
    DEFAULT_IMPORT_CONNECTOR_ID,
    DEFAULT_IMPORT_PRIVATE_KEY,
    DEFAULT_IMPORT_SECONDS,
    DEFAULT_PAGE_TTL,
    DEFAULT_PRIVATE_KEY,
    SalesLayerSandbox,
)
from .imports import DEFAULT_MAX_ITEMS


def temporary_error(text: str) -> tuple[int, int]:
    code, _, count = text.partition(":")
    try:
        pair = int(code), int(count or 1)
    except ValueError:
        raise argparse.ArgumentTypeError("expected CODE[:COUNT], e.g. 11:3") from None
    if pair[0] not in (10, 11, 14):
        raise argparse.ArgumentTypeError("temporary errors are 10, 11 and 14")
    return pair


class SalesLayerEmulator(Emulator):
    name = "saleslayer"
    summary = "Sales Layer (PIM) classic connector API 1.17/1.18 (signed calls, export pages, import connector)"
    default_port = 8085
    size_example = "products=100000"
    size_note = " (a table of the export connector: catalogue, products, product_formats, brands)"

    def check_size_path(self, path: str) -> bool:
        return bool(path.strip("/"))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        env = os.environ.get
        # Without --default-size every table keeps its own default size (catalogue 12, products 100, ...).
        parser.set_defaults(default_size=None)
        parser.add_argument("--connector-id", default=env("SL_SANDBOX_CONNECTOR_ID", DEFAULT_CONNECTOR_ID),
                            help="the export connector's code")
        parser.add_argument("--private-key", action="append", default=None,
                            help="the export connector's private key (repeatable: several tokens)")
        parser.add_argument("--import-connector-id",
                            default=env("SL_SANDBOX_IMPORT_CONNECTOR_ID", DEFAULT_IMPORT_CONNECTOR_ID))
        parser.add_argument("--import-private-key", action="append", default=None)
        parser.add_argument("--time-window", type=int, default=DEFAULT_WINDOW,
                            help="seconds a signed 'time' may differ from the server clock (13/12 beyond)")
        parser.add_argument("--page-ttl", type=float, default=DEFAULT_PAGE_TTL,
                            help="seconds an unused next_page URL stays valid")
        parser.add_argument("--max-import-items", type=int, default=DEFAULT_MAX_ITEMS,
                            help="items per import call at most (bigger calls are denied)")
        parser.add_argument("--import-seconds", type=float, default=DEFAULT_IMPORT_SECONDS,
                            help="seconds (sandbox clock) an import job takes to end")
        parser.add_argument("--temporary-error", type=temporary_error, action="append", default=[],
                            metavar="CODE[:COUNT]", help="answer the first COUNT calls with error CODE (10, 11, 14)")
        parser.add_argument("--no-unchanged-marker", action="store_true",
                            help='send unchanged file columns again instead of ["U"] in last_update answers')

    def build(self, args: argparse.Namespace) -> SalesLayerSandbox:
        env = os.environ.get
        sandbox = SalesLayerSandbox(
            args.host, args.port, seed=args.seed, sizes=dict(args.size), default_size=args.default_size,
            connector_id=args.connector_id,
            private_key=args.private_key or [env("SL_SANDBOX_PRIVATE_KEY", DEFAULT_PRIVATE_KEY)],
            import_connector_id=args.import_connector_id,
            import_private_key=args.import_private_key or [env("SL_SANDBOX_IMPORT_PRIVATE_KEY",
                                                               DEFAULT_IMPORT_PRIVATE_KEY)],
            time_window=args.time_window, page_ttl=args.page_ttl, max_import_items=args.max_import_items,
            import_seconds=args.import_seconds, unchanged_files_marker=not args.no_unchanged_marker,
            verbose=args.verbose)
        for code, count in args.temporary_error:
            sandbox.temporary_error(code, count)
        return sandbox
