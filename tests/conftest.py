"""Puts tests/ on sys.path so every test directory can ``import tap_runner`` (the shared tap runner).

The test directories are not packages (pytest's default "prepend" import mode puts each test
file's own directory on sys.path), so a module shared between them has to be reached this way.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
