"""``connector-sandbox superoffice``: the SuperOffice CRM Online emulator's own command-line options.

Client id and secret default to the demo values (``--client-id``/``--client-secret`` or
``SO_SANDBOX_CLIENT_ID``/``SO_SANDBOX_CLIENT_SECRET``); ``--tokens-file`` writes a valid token pair
(with its ``id_token``) once listening. Tables are named by entity or archive provider:
``--size Contact=1000000 --size Person=50000``.
"""

from __future__ import annotations

import argparse
import os

from ..cli import optional_int
from ..registry import Emulator
from . import emulator


class SuperOfficeEmulator(Emulator):
    name = "superoffice"
    summary = "SuperOffice CRM Online REST WebAPI (OAuth2/OIDC, tenant state, OData archive lists)"
    default_port = 8083
    size_example = "Contact=100000"
    size_note = " (an entity or an archive provider: Contact, Person, Sale, SimpleContact, ...)"
    issues_tokens = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        env = os.environ.get
        parser.add_argument("--client-id", default=env("SO_SANDBOX_CLIENT_ID", emulator.DEFAULT_CLIENT_ID))
        parser.add_argument("--client-secret", default=env("SO_SANDBOX_CLIENT_SECRET", emulator.DEFAULT_CLIENT_SECRET))
        parser.add_argument("--redirect-uri", default=env("SO_SANDBOX_REDIRECT_URI"),
                            help="registered redirect URI (default: any, but the token request must repeat it)")
        parser.add_argument("--tenant", default=emulator.DEFAULT_TENANT, help="context identifier")
        parser.add_argument("--environment", default=emulator.DEFAULT_ENVIRONMENT, help="sod, qaonline or online")
        parser.add_argument("--cluster", default=emulator.DEFAULT_CLUSTER, help="the tenant's numbered host (online2, app...)")
        parser.add_argument("--access-token-ttl", type=float, default=3600.0)
        parser.add_argument("--requests-per-second", type=optional_int, default=10, help="throttle ('none' = off)")
        parser.add_argument("--retry-after", choices=("none", "seconds"), default="none",
                            help="send Retry-After on 429 (SuperOffice publishes none)")
        parser.add_argument("--max-top", type=int, default=1000, help="rows a page at most ($top is capped silently)")

    def build(self, args: argparse.Namespace) -> emulator.SuperOfficeSandbox:
        return emulator.SuperOfficeSandbox(
            args.host, args.port, seed=args.seed, sizes=dict(args.size), default_size=args.default_size,
            client_id=args.client_id, client_secret=args.client_secret, redirect_uri=args.redirect_uri,
            tenant=args.tenant, environment=args.environment, cluster=args.cluster,
            access_token_ttl=args.access_token_ttl, requests_per_second=args.requests_per_second,
            retry_after=None if args.retry_after == "none" else args.retry_after, max_top=args.max_top,
            verbose=args.verbose)
