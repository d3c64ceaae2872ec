"""SuperOffice (CRM) API emulator.

TODO(superoffice): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from .emulator import DEFAULT_API_KEY, SuperOfficeSandbox

__all__ = ["DEFAULT_API_KEY", "SuperOfficeSandbox"]
