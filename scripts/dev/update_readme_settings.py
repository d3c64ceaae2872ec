"""Write each plugin's settings table into its README from the plugin's own ``--about``.

The table sits between ``<!-- settings:start -->`` and ``<!-- settings:end -->``. Run after
changing a plugin's settings; ``--check`` exits 1 when a README is stale (the tests call it).

Usage: python scripts/dev/update_readme_settings.py [--check] [PLUGIN_DIR ...]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every tap and target of the registry; each lives in the directory named after its executable.
PLUGINS = [v[part] for v in json.loads((ROOT / "vendors.json").read_text())["vendors"]
           for part in ("tap", "target") if v.get(part)]
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def settings_table(executable: str) -> str:
    beside = Path(sys.executable).parent / executable  # the venv's own console script
    command = str(beside) if beside.exists() else executable
    about = subprocess.run(
        [command, "--about", "--format=markdown"], check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"## Settings\n\n(.*?)(?:\n\n|\Z)", about, re.S)
    if not match:
        raise SystemExit(f"{executable} --about printed no settings table")
    return match.group(1).strip()


def render(readme: str, table: str) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README has no {START} ... {END} block")
    return pattern.sub(lambda _: f"{START}\n{table}\n{END}", readme)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("plugins", nargs="*", default=list(PLUGINS))
    args = parser.parse_args()
    stale = []
    for directory in args.plugins:
        path = ROOT / directory / "README.md"
        current = path.read_text()
        wanted = render(current, settings_table(directory))
        if wanted != current:
            stale.append(str(path.relative_to(ROOT)))
            if not args.check:
                path.write_text(wanted)
    if stale and args.check:
        print("settings tables out of date (run scripts/dev/update_readme_settings.py):", *stale)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
