"""The ``authorize`` subcommand of an OAuth vendor's plugins: ``tap-x authorize --config C.json``.

The seed's "Grant access" button: the consent URL is printed (or opened), the browser's redirect
is received on the loopback ``redirect_uri``, the code is exchanged and the tokens are written to
``token_store``, which the tap and the target share. What is the vendor's comes from its
connection class: ``auth_url``, ``token_url``, ``consent_params()`` (scopes, tenant hints),
``consent_pkce`` and ``default_token_lifetime``.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing as t

from connector_core.cli import run_subcommand
from connector_core.connection import ConnectionConfigError
from connector_core.oauth.consent import authorize
from connector_core.oauth.errors import TokenStoreError
from connector_core.oauth.store import open_token_store
from connector_core.redaction import install_log_redaction

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"


def authorize_main(prog: str, connection_class: t.Any, argv: list[str]) -> int:
    """``<prog> authorize --config CONFIG.json [--open-browser] [--timeout S]``."""
    parser = argparse.ArgumentParser(prog=f"{prog} authorize",
                                     description="Grant access in the browser and store the tokens.")
    parser.add_argument("--config", required=True, action="append")
    parser.add_argument("--open-browser", action="store_true")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    config: dict[str, t.Any] = {}
    for path in args.config:
        with open(path, encoding="utf-8") as handle:
            config.update(json.load(handle))
    install_log_redaction()
    for key in ("client_id", "client_secret", "token_store"):
        if not config.get(key):
            print(f"{prog} authorize: the config has no {key}", file=sys.stderr)
            return 1
    try:
        connection = connection_class(config, plugin_name=prog)
    except ConnectionConfigError as exc:
        print(f"{prog} authorize: {exc}", file=sys.stderr)
        return 1
    try:
        store = open_token_store(config)
    except TokenStoreError as exc:
        print(f"{prog} authorize: {exc}", file=sys.stderr)
        return 1
    authorize(
        auth_url=connection.auth_url, token_url=connection.token_url,
        client_id=config["client_id"], client_secret=config["client_secret"],
        redirect_uri=config.get("redirect_uri") or DEFAULT_REDIRECT_URI,
        store=store, timeout=args.timeout, open_browser=args.open_browser,
        extra_params=connection.consent_params(), pkce=connection.consent_pkce,
        default_lifetime=connection.default_token_lifetime,
    )
    print(f"{prog}: access granted; tokens stored in {store.location}", file=sys.stderr)
    return 0


def oauth_plugin_main(plugin_class: t.Any, connection_class: t.Any) -> None:
    """A plugin's console script: the Singer CLI, plus the ``authorize`` subcommand."""
    if len(sys.argv) > 1 and sys.argv[1] == "authorize":
        sys.exit(run_subcommand(plugin_class.name, "authorize",
                                lambda: authorize_main(plugin_class.name, connection_class, sys.argv[2:])))
    plugin_class.cli()
