"""Command line: run a registered vendor emulator in the foreground.

    connector-sandbox --help                       # lists the registered emulators
    connector-sandbox VENDOR --help                # the vendor's options
    connector-sandbox connectwise --port 8081 --seed 42 --size /service/tickets=100000 [--latency-ms 50]
    connector-sandbox exactonline --port 8082 --size financial/TransactionLines=100000 --tokens-file t.json

Prints one line ``READY http://127.0.0.1:PORT`` once listening; runs until SIGTERM/SIGINT. Emulators
are found through entry points (:mod:`.registry`), not named here.
"""

from __future__ import annotations

import argparse
import json
import sys

from .registry import Emulator, emulators


def optional_int(text: str) -> int | None:
    """An integer, or None for ``none``/``off`` (a limit that can be turned off)."""
    if text.lower() in ("none", "off"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an integer or 'none'") from None


def int_list(text: str) -> list[int]:
    """Comma-separated integers."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated integers") from None


def per_seconds(text: str) -> tuple[int, float]:
    """``N/SECONDS`` (``N`` alone: per 60 seconds)."""
    req, sep, per = text.partition("/")
    try:
        return int(req), float(per) if sep else 60.0
    except ValueError:
        raise argparse.ArgumentTypeError("expected REQUESTS/SECONDS, e.g. 1000/60") from None


def _size_type(plugin: Emulator):  # noqa: ANN202 - an argparse type
    def parse(text: str) -> tuple[str, int]:
        path, sep, n = text.rpartition("=")
        if not sep or not plugin.check_size_path(path):
            raise argparse.ArgumentTypeError(f"expected PATH=N, e.g. {plugin.size_example}")
        try:
            return path, int(n)
        except ValueError:
            raise argparse.ArgumentTypeError(f"size must be an integer: {n!r}") from None
    return parse


def build_parser(registered: dict[str, Emulator] | None = None) -> argparse.ArgumentParser:
    registered = emulators() if registered is None else registered
    ap = argparse.ArgumentParser(prog="connector-sandbox", description="Run a vendor API emulator.")
    sub = ap.add_subparsers(dest="vendor", required=True, metavar="VENDOR",
                            help="one of: " + ", ".join(registered) if registered else "none registered")
    for name, plugin in registered.items():
        p = sub.add_parser(name, help=plugin.summary, description=plugin.summary)
        p.set_defaults(plugin=plugin)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=plugin.default_port, help="0 picks a free port")
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--size", type=_size_type(plugin), action="append", default=[], metavar="PATH=N",
                       help=f"rows of a table, e.g. {plugin.size_example}{plugin.size_note}; repeatable")
        p.add_argument("--default-size", type=int, default=3, help="rows of every other table")
        p.add_argument("--latency-ms", type=float, default=0.0, help="delay every API answer")
        if plugin.issues_tokens:
            p.add_argument("--tokens-file", default=None,
                           help="write a valid token pair (JSON) to this file once listening (demos without a browser)")
        plugin.add_arguments(p)
        p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return ap


def main(argv: list[str] | None = None, registered: dict[str, Emulator] | None = None) -> int:
    args = build_parser(registered).parse_args(argv)
    plugin: Emulator = args.plugin
    try:
        server = plugin.build(args)
    except (KeyError, ValueError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    if args.latency_ms:
        server.faults.latency(args.latency_ms / 1000.0)
    tokens_file = getattr(args, "tokens_file", None)
    if tokens_file:
        started = server.on_start

        def on_start() -> None:
            started()
            with open(tokens_file, "w", encoding="utf-8") as fh:
                json.dump({**server.issue_tokens(), "base_url": server.url}, fh)
        server.on_start = on_start
    server.serve_until_signal()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
