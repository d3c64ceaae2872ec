"""What every vendor generator does with the artifacts it derives: write them, or check them.

Each ``scripts/generators/<vendor>.py`` is the one entry point of its vendor: it derives every
artifact (the tap's catalog, the target's entities, the emulator's API catalog) from the vendor's
specs as ``{path: text}`` and hands them to :func:`main`, which writes the stale ones or, with
``--check``, names them and exits 1. The plugins and emulators never read the specs.
"""

from __future__ import annotations

import argparse
import sys
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT.parent / "shared" / "specs"

Outputs = t.Mapping[Path, str]


def stale(outputs: Outputs) -> list[Path]:
    """The outputs whose file is missing or differs from what the specs give."""
    return [path for path, text in outputs.items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


def main(doc: str, vendor: str, derive: t.Callable[[Path], Outputs], argv: list[str] | None = None) -> int:
    """``python scripts/generators/<vendor>.py [--specs DIR] [--check]``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--specs", type=Path, default=SPECS / vendor,
                        help=f"the vendor's spec folder (default: {SPECS / vendor})")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is stale")
    args = parser.parse_args(argv)
    outputs = derive(args.specs)
    old = stale(outputs)
    names = [str(path.relative_to(ROOT)) for path in old]
    if args.check:
        if names:
            print(f"stale (run python scripts/generators/{vendor}.py):", *names, file=sys.stderr)
            return 1
        return 0
    for path in old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(outputs[path], encoding="utf-8")
    print("wrote", *names) if names else print("up to date:", len(outputs), "files")
    return 0
