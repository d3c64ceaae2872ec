"""Sales Layer (PIM) API emulator.

TODO(saleslayer): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from .emulator import DEFAULT_API_KEY, SalesLayerSandbox

__all__ = ["DEFAULT_API_KEY", "SalesLayerSandbox"]
