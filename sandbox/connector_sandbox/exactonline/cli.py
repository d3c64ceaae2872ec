"""``connector-sandbox exactonline``: the Exact Online emulator's own command-line options.

Client id and secret default to the demo values (``--client-id``/``--client-secret`` or
``EO_SANDBOX_CLIENT_ID``/``EO_SANDBOX_CLIENT_SECRET``); ``--tokens-file`` (every emulator with OAuth)
writes a valid token pair once listening.
"""

from __future__ import annotations

import argparse
import os

from ..cli import int_list, optional_int
from ..registry import Emulator
from .emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_DIVISIONS, ExactOnlineSandbox


class ExactOnlineEmulator(Emulator):
    name = "exactonline"
    summary = "Exact Online REST API (OAuth2, divisions, bulk/sync)"
    default_port = 8082
    size_example = "financial/TransactionLines=100000"
    size_note = " (rows per division; lines tables: lines per header)"
    issues_tokens = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        env = os.environ.get
        parser.add_argument("--default-lines", type=int, default=2, help="lines per header of lines tables")
        parser.add_argument("--divisions", type=int_list, default=None, metavar="D1,D2,...",
                            help="divisions the user can access (first = current); default 100001,100002,100003")
        parser.add_argument("--minutely-limit", type=optional_int, default=60,
                            help="calls per minute per division ('none' = off)")
        parser.add_argument("--daily-limit", type=optional_int, default=5000, help="calls per day per division ('none' = off)")
        parser.add_argument("--empty-429-body", action="store_true", help="answer 429 with an empty body")
        parser.add_argument("--no-429-headers", action="store_true", help="answer 429 without any X-RateLimit header")
        parser.add_argument("--error-limit", type=optional_int, default=10, help="errors per endpoint per hour before a block")
        parser.add_argument("--no-mandatory-filters", action="store_true", help="turn mandatory filtering off")
        parser.add_argument("--wall-clock", choices=("CET", "UTC"), default="CET", help="meaning of /Date(ms)/ values")
        parser.add_argument("--client-id", default=env("EO_SANDBOX_CLIENT_ID"))
        parser.add_argument("--client-secret", default=env("EO_SANDBOX_CLIENT_SECRET"))
        parser.add_argument("--redirect-uri", default=env("EO_SANDBOX_REDIRECT_URI"),
                            help="registered redirect URI (default: any, but the token request must repeat it)")

    def build(self, args: argparse.Namespace) -> ExactOnlineSandbox:
        return ExactOnlineSandbox(
            args.host, args.port, seed=args.seed, sizes=dict(args.size), default_size=args.default_size,
            default_lines=args.default_lines, divisions=args.divisions or DEFAULT_DIVISIONS,
            client_id=args.client_id or DEFAULT_CLIENT_ID, client_secret=args.client_secret or DEFAULT_CLIENT_SECRET,
            redirect_uri=args.redirect_uri, minutely_limit=args.minutely_limit, daily_limit=args.daily_limit,
            empty_429_body=args.empty_429_body, headers_on_429="none" if args.no_429_headers else "hit",
            error_limit=args.error_limit, mandatory_filters=not args.no_mandatory_filters,
            wall_clock=args.wall_clock, verbose=args.verbose)
