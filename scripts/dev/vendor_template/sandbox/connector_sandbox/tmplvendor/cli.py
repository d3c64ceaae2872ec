"""``connector-sandbox tmplvendor``: the TMPL_SYSTEM emulator's own command-line options.

The API key defaults to the sandbox's published one and can be overridden by ``--api-key`` or the
environment (``TMPLVENDOR_SANDBOX_API_KEY``).

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``; the vendor's own options (read
TMPL_DOC).
"""

from __future__ import annotations

import argparse
import os

from ..registry import Emulator
from .emulator import DEFAULT_API_KEY, DEFAULT_REQUESTS_PER_MINUTE, TmplVendorSandbox


class TmplVendorEmulator(Emulator):
    name = "tmplvendor"
    summary = "TMPL_SYSTEM API (scaffold)"
    default_port = TMPL_PORT
    size_example = "/items=100000"

    def check_size_path(self, path: str) -> bool:
        return path.startswith("/")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--api-key", default=os.environ.get("TMPLVENDOR_SANDBOX_API_KEY", DEFAULT_API_KEY))
        parser.add_argument("--requests-per-minute", type=int, default=DEFAULT_REQUESTS_PER_MINUTE,
                            help="the vendor's budget per API key and clock minute (0: none)")

    def build(self, args: argparse.Namespace) -> TmplVendorSandbox:
        return TmplVendorSandbox(args.host, args.port, seed=args.seed, sizes=dict(args.size),
                                 default_size=args.default_size, api_key=args.api_key,
                                 requests_per_minute=args.requests_per_minute or None, verbose=args.verbose)
