"""Generate every ConnectWise artifact from the vendor's specs (``../shared/specs/connectwise``).

- the plugins' catalogs (``connectwise_plugins.py``): the tap's streams and the target's entities;
- the emulator's API catalog (``connectwise_emulator.py``), derived on its own from the same specs, so
  that the emulator stays independent of the plugins' reading of them.

Usage: python scripts/generators/connectwise.py [--specs DIR] [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

import connectwise_emulator
import connectwise_plugins
import outputs


def derive(specs: Path) -> dict[Path, str]:
    return {**connectwise_plugins.outputs(specs), **connectwise_emulator.outputs(specs)}


if __name__ == "__main__":
    sys.exit(outputs.main(__doc__ or "", "connectwise", derive))
