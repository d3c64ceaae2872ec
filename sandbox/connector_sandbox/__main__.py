"""Command line: run a vendor emulator in the foreground.

    python -m connector_sandbox connectwise --host 127.0.0.1 --port 8081 --seed 42 \\
        --size /service/tickets=100000 [--size ...] [--latency-ms 50] [--rate-limit 1000/60]

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
    return ap


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
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
