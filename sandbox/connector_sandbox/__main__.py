"""Command line: run a vendor emulator in the foreground.

    python -m connector_sandbox connectwise --host 127.0.0.1 --port 8081 --seed 42 \\
        --size /service/tickets=100000 [--size ...] [--latency-ms 50] [--rate-limit 1000/60]

    python -m connector_sandbox exactonline --port 8082 --seed 42 \\
        --size financial/TransactionLines=100000 [--minutely-limit 60] [--daily-limit 5000] \\
        [--empty-429-body] [--tokens-file tokens.json]

Prints one line ``READY http://127.0.0.1:8081`` once listening; runs until SIGTERM/SIGINT.
Credentials default to the documented demo values and can be overridden by flags or the
environment (``CW_SANDBOX_COMPANY_ID``, ``CW_SANDBOX_PUBLIC_KEY``, ``CW_SANDBOX_PRIVATE_KEY``,
``CW_SANDBOX_CLIENT_ID``).
"""

from __future__ import annotations

import argparse
import os
import sys


def _size(text: str) -> tuple[str, int]:
    path, sep, n = text.rpartition("=")
    if not sep or not path.startswith("/"):
        raise argparse.ArgumentTypeError("expected PATH=N, e.g. /service/tickets=100000")
    try:
        return path, int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be an integer: {n!r}") from None


def _rate(text: str) -> tuple[int, float]:
    req, sep, per = text.partition("/")
    try:
        return int(req), float(per) if sep else 60.0
    except ValueError:
        raise argparse.ArgumentTypeError("expected REQUESTS/SECONDS, e.g. 1000/60") from None


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="connector-sandbox", description="Run a vendor API emulator.")
    sub = ap.add_subparsers(dest="vendor", required=True)
    cw = sub.add_parser("connectwise", help="ConnectWise Manage REST API 3.0")
    cw.add_argument("--host", default="127.0.0.1")
    cw.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    cw.add_argument("--seed", type=int, default=42)
    cw.add_argument("--size", type=_size, action="append", default=[], metavar="PATH=N",
                    help="collection size (children per parent for nested paths); repeatable")
    cw.add_argument("--default-size", type=int, default=3)
    cw.add_argument("--default-child-size", type=int, default=2)
    cw.add_argument("--latency-ms", type=float, default=0.0)
    cw.add_argument("--rate-limit", type=_rate, default=None, metavar="N/SECONDS")
    cw.add_argument("--retry-after-format", choices=("seconds", "http-date"), default="seconds")
    cw.add_argument("--company-id", default=os.environ.get("CW_SANDBOX_COMPANY_ID", "sandbox"))
    cw.add_argument("--public-key", default=os.environ.get("CW_SANDBOX_PUBLIC_KEY", "sandbox-public"))
    cw.add_argument("--private-key", default=os.environ.get("CW_SANDBOX_PRIVATE_KEY", "sandbox-private"))
    cw.add_argument("--client-id", default=os.environ.get("CW_SANDBOX_CLIENT_ID",
                                                          "00000000-0000-4000-8000-000000000000"))
    cw.add_argument("--verbose", action="store_true", help="log every request to stderr")
    eo = sub.add_parser("exactonline", help="Exact Online REST API (OAuth2, divisions, bulk/sync)")
    eo.add_argument("--host", default="127.0.0.1")
    eo.add_argument("--port", type=int, default=8082, help="0 picks a free port")
    eo.add_argument("--seed", type=int, default=42)
    eo.add_argument("--size", type=_eo_size, action="append", default=[], metavar="PATH=N",
                    help="rows per division of a table, e.g. financial/TransactionLines=100000 "
                         "(lines tables: lines per header); repeatable")
    eo.add_argument("--default-size", type=int, default=3)
    eo.add_argument("--default-lines", type=int, default=2)
    eo.add_argument("--divisions", type=_int_list, default=None, metavar="D1,D2,...",
                    help="divisions the user can access (first = current); default 100001,100002,100003")
    eo.add_argument("--minutely-limit", type=_limit, default=60, help="calls per minute per division ('none' = off)")
    eo.add_argument("--daily-limit", type=_limit, default=5000, help="calls per day per division ('none' = off)")
    eo.add_argument("--empty-429-body", action="store_true", help="answer 429 with an empty body")
    eo.add_argument("--no-429-headers", action="store_true", help="answer 429 without any X-RateLimit header")
    eo.add_argument("--error-limit", type=_limit, default=10, help="errors per endpoint per hour before a block")
    eo.add_argument("--no-mandatory-filters", action="store_true", help="turn mandatory filtering off")
    eo.add_argument("--wall-clock", choices=("CET", "UTC"), default="CET", help="meaning of /Date(ms)/ values")
    eo.add_argument("--latency-ms", type=float, default=0.0)
    eo.add_argument("--client-id", default=os.environ.get("EO_SANDBOX_CLIENT_ID"))
    eo.add_argument("--client-secret", default=os.environ.get("EO_SANDBOX_CLIENT_SECRET"))
    eo.add_argument("--redirect-uri", default=os.environ.get("EO_SANDBOX_REDIRECT_URI"),
                    help="registered redirect URI (default: any, but the token request must repeat it)")
    eo.add_argument("--tokens-file", default=None,
                    help="write a valid token pair (JSON) to this file once listening (demos without a browser)")
    eo.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return ap


def _eo_size(text: str) -> tuple[str, int]:
    path, sep, n = text.rpartition("=")
    if not sep or not path.strip("/"):
        raise argparse.ArgumentTypeError("expected PATH=N, e.g. financial/TransactionLines=100000")
    try:
        return path, int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be an integer: {n!r}") from None


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated division numbers") from None


def _limit(text: str) -> int | None:
    if text.lower() in ("none", "off"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an integer or 'none'") from None


def _run_exactonline(args: argparse.Namespace) -> int:
    import json

    from .exactonline import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_DIVISIONS, ExactOnlineSandbox

    try:
        server = ExactOnlineSandbox(
            args.host, args.port, seed=args.seed, sizes=dict(args.size), default_size=args.default_size,
            default_lines=args.default_lines, divisions=args.divisions or DEFAULT_DIVISIONS,
            client_id=args.client_id or DEFAULT_CLIENT_ID, client_secret=args.client_secret or DEFAULT_CLIENT_SECRET,
            redirect_uri=args.redirect_uri, minutely_limit=args.minutely_limit, daily_limit=args.daily_limit,
            empty_429_body=args.empty_429_body, headers_on_429="none" if args.no_429_headers else "hit",
            error_limit=args.error_limit, mandatory_filters=not args.no_mandatory_filters,
            wall_clock=args.wall_clock, verbose=args.verbose)
    except (KeyError, ValueError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    if args.latency_ms:
        server.faults.latency(args.latency_ms / 1000.0)
    if args.tokens_file:
        orig_on_start = server.on_start

        def on_start() -> None:
            orig_on_start()
            with open(args.tokens_file, "w", encoding="utf-8") as fh:
                json.dump({**server.issue_tokens(), "base_url": server.url}, fh)
        server.on_start = on_start  # type: ignore[method-assign]
    server.serve_until_signal()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.vendor == "connectwise":
        from .connectwise import ConnectWiseSandbox

        try:
            server = ConnectWiseSandbox(
                args.host, args.port, seed=args.seed, sizes=dict(args.size),
                default_size=args.default_size, default_child_size=args.default_child_size,
                company_id=args.company_id, public_key=args.public_key, private_key=args.private_key,
                client_id=args.client_id, verbose=args.verbose)
        except KeyError as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            return 2
        if args.latency_ms:
            server.faults.latency(args.latency_ms / 1000.0)
        if args.rate_limit:
            server.rate_limit(args.rate_limit[0], args.rate_limit[1], args.retry_after_format)
        server.serve_until_signal()
        return 0
    if args.vendor == "exactonline":
        return _run_exactonline(args)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
