"""``connector-sandbox connectwise``: the ConnectWise emulator's own command-line options.

Credentials default to the documented demo values and can be overridden by flags or the environment
(``CW_SANDBOX_COMPANY_ID``, ``CW_SANDBOX_PUBLIC_KEY``, ``CW_SANDBOX_PRIVATE_KEY``, ``CW_SANDBOX_CLIENT_ID``).
"""

from __future__ import annotations

import argparse
import os

from ..cli import per_seconds
from ..registry import Emulator
from .emulator import DEFAULT_CLIENT_ID, DEFAULT_COMPANY_ID, DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, ConnectWiseSandbox


class ConnectWiseEmulator(Emulator):
    name = "connectwise"
    summary = "ConnectWise Manage REST API 3.0"
    default_port = 8081
    size_example = "/service/tickets=100000"
    size_note = " (nested lists: children per parent)"

    def check_size_path(self, path: str) -> bool:
        return path.startswith("/")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        env = os.environ.get
        parser.add_argument("--default-child-size", type=int, default=2, help="children per parent of nested lists")
        parser.add_argument("--rate-limit", type=per_seconds, default=None, metavar="N/SECONDS",
                            help="at most N requests per SECONDS (sliding), then 429")
        parser.add_argument("--retry-after-format", choices=("seconds", "http-date"), default="seconds")
        parser.add_argument("--company-id", default=env("CW_SANDBOX_COMPANY_ID", DEFAULT_COMPANY_ID))
        parser.add_argument("--public-key", default=env("CW_SANDBOX_PUBLIC_KEY", DEFAULT_PUBLIC_KEY))
        parser.add_argument("--private-key", default=env("CW_SANDBOX_PRIVATE_KEY", DEFAULT_PRIVATE_KEY))
        parser.add_argument("--client-id", default=env("CW_SANDBOX_CLIENT_ID", DEFAULT_CLIENT_ID))

    def build(self, args: argparse.Namespace) -> ConnectWiseSandbox:
        server = ConnectWiseSandbox(
            args.host, args.port, seed=args.seed, sizes=dict(args.size), default_size=args.default_size,
            default_child_size=args.default_child_size, company_id=args.company_id, public_key=args.public_key,
            private_key=args.private_key, client_id=args.client_id, verbose=args.verbose)
        if args.rate_limit:
            server.rate_limit(args.rate_limit[0], args.rate_limit[1], args.retry_after_format)
        return server
