"""Lightspeed (retail POS) API emulator.

TODO(lightspeed): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from .emulator import DEFAULT_API_KEY, LightspeedSandbox

__all__ = ["DEFAULT_API_KEY", "LightspeedSandbox"]
