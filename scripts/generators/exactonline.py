"""Generate every Exact Online artifact from the vendor's specs (``../shared/specs/exactonline``).

- the plugins' catalogs (``exactonline_plugins.py``): the tap's streams and the target's entities;
- the emulator's API catalog (``exactonline_emulator.py``), derived on its own from the same specs, so
  that the emulator stays independent of the plugins' reading of them.

Usage: python scripts/generators/exactonline.py [--specs DIR] [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

import exactonline_emulator
import exactonline_plugins
import outputs


def derive(specs: Path) -> dict[Path, str]:
    return {**exactonline_plugins.outputs(specs), **exactonline_emulator.outputs(specs)}


if __name__ == "__main__":
    sys.exit(outputs.main(__doc__ or "", "exactonline", derive))
