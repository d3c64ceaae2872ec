"""``connector-sandbox lightspeed``: the Lightspeed Retail X-Series emulator's own command-line options.

The personal token defaults to the sandbox's published one (``--token`` or
``LIGHTSPEED_SANDBOX_TOKEN``); the OAuth app's id and secret likewise (``--client-id``,
``--client-secret``). Lists are named by path: ``--size /products=100000 --size /registers=3``; a
child list's size is per parent (``--size "/consignments/{consignment_id}/products=10"``).
"""

from __future__ import annotations

import argparse
import os

from ..cli import optional_int
from ..registry import Emulator
from .emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TOKEN, LightspeedSandbox


class LightspeedEmulator(Emulator):
    name = "lightspeed"
    summary = "Lightspeed Retail X-Series API 2.0 (personal tokens and OAuth, version cursor, 5-minute budget)"
    default_port = 8084
    size_example = "/products=100000"
    size_note = " (a version list: /products, /customers, /sales, /registers, ...)"
    issues_tokens = True

    def check_size_path(self, path: str) -> bool:
        return path.startswith("/")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        env = os.environ.get
        parser.add_argument("--token", action="append", default=None,
                            help=f"a personal token (repeatable; default {env('LIGHTSPEED_SANDBOX_TOKEN') or DEFAULT_TOKEN})")
        parser.add_argument("--client-id", default=env("LIGHTSPEED_SANDBOX_CLIENT_ID", DEFAULT_CLIENT_ID))
        parser.add_argument("--client-secret", default=env("LIGHTSPEED_SANDBOX_CLIENT_SECRET", DEFAULT_CLIENT_SECRET))
        parser.add_argument("--access-token-ttl", type=float, default=86400.0)
        parser.add_argument("--requests-per-window", type=optional_int, default=None,
                            help="the budget per window (default: 300 x registers + 50)")
        parser.add_argument("--window-seconds", type=float, default=300.0)
        parser.add_argument("--no-rate-limit", action="store_true", help="no budget at all")
        parser.add_argument("--max-page-size", type=int, default=1000, help="rows a page at most (capped silently)")

    def build(self, args: argparse.Namespace) -> LightspeedSandbox:
        tokens = tuple(args.token or [os.environ.get("LIGHTSPEED_SANDBOX_TOKEN") or DEFAULT_TOKEN])
        return LightspeedSandbox(
            args.host, args.port, seed=args.seed, sizes=dict(args.size), default_size=args.default_size,
            tokens=tokens, client_id=args.client_id, client_secret=args.client_secret,
            access_token_ttl=args.access_token_ttl, requests_per_window=args.requests_per_window,
            window_seconds=args.window_seconds, rate_limit=not args.no_rate_limit,
            max_page_size=args.max_page_size, verbose=args.verbose)
